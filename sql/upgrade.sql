--
-- ALTER EXTENSION ... UPDATE from 1.0 gives exactly what a fresh install of
-- the default version gives, and the 1.0 objects keep working with the new
-- library until the update.
--
DROP EXTENSION IF EXISTS pg_autolauncher;

-- every member of the extension, described so that two installs compare
CREATE FUNCTION pg_temp.al_members() RETURNS TABLE (member text, definition text)
LANGUAGE sql AS $$
    SELECT pg_describe_object(d.classid, d.objid, 0),
           CASE d.classid
               WHEN 'pg_class'::regclass THEN
                   coalesce(pg_get_viewdef(d.objid), '') || ' acl=' ||
                   coalesce((SELECT relacl::text FROM pg_class WHERE oid = d.objid), '')
               WHEN 'pg_proc'::regclass THEN
                   pg_get_functiondef(d.objid) || ' acl=' ||
                   coalesce((SELECT proacl::text FROM pg_proc WHERE oid = d.objid), '')
               ELSE ''
           END
      FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autolauncher')
       AND d.deptype = 'e'
$$;

CREATE EXTENSION pg_autolauncher VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'pg_autolauncher';
-- the 1.0 view, served by the 1.0 entry point of the new library
SELECT count(*) AS columns FROM information_schema.columns
 WHERE table_schema = 'autolauncher' AND table_name = 'status';
SELECT worker_slots, workers_launched >= 0 AS counts FROM autolauncher.status;

ALTER EXTENSION pg_autolauncher UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'pg_autolauncher';
SELECT count(*) AS columns FROM information_schema.columns
 WHERE table_schema = 'autolauncher' AND table_name = 'status';
SELECT workers_ddl_terminated >= 0 AND tables_skipped >= 0 AS new_counts
  FROM autolauncher.status;
-- 1.1's other views are 1.0's, served by the 1.0 entry points
SELECT table_name, count(*) AS columns FROM information_schema.columns
 WHERE table_schema = 'autolauncher' GROUP BY table_name ORDER BY table_name;
SELECT count(*) >= 1 AS has_rows, bool_and(estimated_tables >= 0) AS estimated
  FROM autolauncher.databases WHERE datname = current_database();

ALTER EXTENSION pg_autolauncher UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_autolauncher';
SELECT table_name, count(*) AS columns FROM information_schema.columns
 WHERE table_schema = 'autolauncher' GROUP BY table_name ORDER BY table_name;
SELECT tracked_tables >= 0 AND statistics_walks >= 0 AS new_counts
  FROM autolauncher.status;
SELECT count(*) > 0 AS slots, bool_and(kind IS NULL = (state = 'free')) AS kind_when_busy
  FROM autolauncher.workers;
SELECT state IN ('new', 'known') AS state, due_tables >= 0 AS due
  FROM autolauncher.databases WHERE datname = current_database();
CREATE TEMP TABLE updated AS SELECT * FROM pg_temp.al_members();

DROP EXTENSION pg_autolauncher;
CREATE EXTENSION pg_autolauncher;
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.al_members();

-- no difference, in either direction
(SELECT 'only after update' AS side, * FROM updated EXCEPT SELECT 'only after update', * FROM fresh)
UNION ALL
(SELECT 'only in fresh install', * FROM fresh EXCEPT SELECT 'only in fresh install', * FROM updated);
SELECT count(*) AS members_compared FROM fresh;
