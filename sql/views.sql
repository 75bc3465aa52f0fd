--
-- The extension's objects: schema, views and their column types.
--
CREATE EXTENSION pg_autolauncher;

SELECT extname, extrelocatable, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'pg_autolauncher';

-- every view's columns, in order, with their types
SELECT c.relname AS view, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE n.nspname = 'autolauncher' AND c.relkind = 'v'
 ORDER BY c.relname, a.attnum;

-- status has exactly one row, and reflects the configuration
SELECT count(*) FROM autolauncher.status;
SELECT worker_slots, max_workers, naptime,
       worker_slots = current_setting('pg_autolauncher.worker_slots')::int AS slots_match
  FROM autolauncher.status;

-- The launcher of this instance runs with pg_autolauncher.enabled = off
-- (test/regress.conf).  Wait, with a bound, for it to have started.
DO $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXIT WHEN (SELECT launcher_pid IS NOT NULL FROM autolauncher.status);
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT state, launcher_pid IS NOT NULL AS has_launcher,
       launcher_pid = (SELECT pid FROM pg_stat_activity
                        WHERE backend_type = 'pg_autolauncher launcher') AS pid_matches
  FROM autolauncher.status;

-- one row per slot, all free while nothing was dispatched
SELECT count(*) = current_setting('pg_autolauncher.worker_slots')::int AS one_row_per_slot,
       min(slot) AS first_slot, max(slot) AS last_slot,
       bool_and(state = 'free' AND pid IS NULL AND datid IS NULL) AS all_free
  FROM autolauncher.workers;

-- every valid database is listed, with its wraparound ages
SELECT count(*) = (SELECT count(*) FROM pg_database) AS all_databases
  FROM autolauncher.databases;
SELECT datname, frozenxid_age >= 0 AS has_xid_age, minmxid_age >= 0 AS has_mxid_age,
       wraparound
  FROM autolauncher.databases
 WHERE datname = current_database();
SELECT frozenxid_age = age(datfrozenxid) AS xid_age_matches
  FROM autolauncher.databases JOIN pg_database USING (datname)
 WHERE datname = current_database();

-- the views are readable by anyone; the admin functions are not
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'autolauncher'
 ORDER BY p.proname;
