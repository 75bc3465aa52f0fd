--
-- Privileges of monitoring roles, and a hostile search_path at CREATE
-- EXTENSION and when the views are read.
--

-- members of pg_monitor and pg_read_all_stats read every view
CREATE ROLE regress_al_monitor IN ROLE pg_monitor;
CREATE ROLE regress_al_stats IN ROLE pg_read_all_stats;
CREATE ROLE regress_al_plain;

SET ROLE regress_al_monitor;
SELECT count(*) AS status_rows FROM autolauncher.status;
SELECT count(*) > 0 AS has_slots FROM autolauncher.workers;
SELECT count(*) >= 0 AS databases_readable FROM autolauncher.databases;
SELECT count(*) > 0 AS has_tables FROM autolauncher.tables;
-- but they get no admin function without a GRANT
SELECT autolauncher.request(current_database());
SELECT autolauncher.wakeup();
RESET ROLE;

SET ROLE regress_al_stats;
SELECT count(*) AS status_rows FROM autolauncher.status;
SELECT count(*) > 0 AS has_slots FROM autolauncher.workers;
SELECT count(*) >= 0 AS databases_readable FROM autolauncher.databases;
SELECT count(*) > 0 AS has_tables FROM autolauncher.tables;
SELECT autolauncher.wakeup();
RESET ROLE;

-- a plain role reads the views too, as it reads pg_stat_activity
SET ROLE regress_al_plain;
SELECT count(*) AS status_rows FROM autolauncher.status;
RESET ROLE;

--
-- A hostile search_path.  A role that owns a schema listed first in the
-- search_path shadows everything the extension could call unqualified,
-- with functions that raise an error when called.
--
DROP EXTENSION pg_autolauncher;
CREATE SCHEMA regress_al_evil AUTHORIZATION regress_al_plain;
SET ROLE regress_al_plain;
CREATE FUNCTION regress_al_evil.status_internal() RETURNS SETOF record
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked status_internal'; END$$;
CREATE FUNCTION regress_al_evil.workers_internal() RETURNS SETOF record
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked workers_internal'; END$$;
CREATE FUNCTION regress_al_evil.databases_internal() RETURNS SETOF record
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked databases_internal'; END$$;
CREATE FUNCTION regress_al_evil.tables_internal() RETURNS SETOF record
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked tables_internal'; END$$;
CREATE FUNCTION regress_al_evil.request(name) RETURNS integer
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked request'; END$$;
CREATE FUNCTION regress_al_evil.wakeup() RETURNS boolean
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked wakeup'; END$$;
-- shadow pg_catalog functions and an operator too
CREATE FUNCTION regress_al_evil.now() RETURNS timestamptz
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked now'; END$$;
CREATE FUNCTION regress_al_evil.evil_eq(oid, oid) RETURNS boolean
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked ='; END$$;
CREATE OPERATOR regress_al_evil.= (
    LEFTARG = oid, RIGHTARG = oid, FUNCTION = regress_al_evil.evil_eq);
RESET ROLE;

SET search_path = regress_al_evil, pg_catalog, public;
CREATE EXTENSION pg_autolauncher;
-- the views and functions use the extension's own objects
SELECT count(*) AS status_rows FROM autolauncher.status;
SELECT count(*) > 0 AS has_slots FROM autolauncher.workers;
SELECT count(*) >= 0 AS databases_readable FROM autolauncher.databases;
SELECT count(*) > 0 AS has_tables FROM autolauncher.tables;
SELECT autolauncher.wakeup() IS NOT NULL AS woke;
-- and every object of the extension is in its own schema
SELECT pg_catalog.count(*) AS outside_objects
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_proc p ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
   AND d.objid OPERATOR(pg_catalog.=) p.oid
 WHERE d.refobjid OPERATOR(pg_catalog.=)
       (SELECT oid FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_autolauncher')
   AND p.pronamespace OPERATOR(pg_catalog.<>) 'autolauncher'::pg_catalog.regnamespace;
RESET search_path;
-- the views are bound to the extension's own functions
SELECT pg_get_viewdef('autolauncher.status'::regclass)
       LIKE '%FROM autolauncher.status_internal()%' AS bound;

SET client_min_messages = warning;
DROP SCHEMA regress_al_evil CASCADE;
RESET client_min_messages;
DROP ROLE regress_al_monitor;
DROP ROLE regress_al_stats;
DROP ROLE regress_al_plain;
