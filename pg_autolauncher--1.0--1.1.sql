/* pg_autolauncher--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_autolauncher UPDATE TO '1.1'" to load this file. \quit

-- autolauncher.status gains workers_ddl_terminated (workers that a DROP,
-- ALTER or CREATE DATABASE command ended: not failures) and tables_skipped
-- (tables SKIP_LOCKED passed over).  The view is re-created on a new C
-- symbol; the 1.0 symbol keeps its 1.0 columns.

DROP VIEW @extschema@.status;
DROP FUNCTION @extschema@.status_internal();

CREATE FUNCTION @extschema@.status_internal(
    OUT launcher_pid integer,
    OUT state text,
    OUT worker_slots integer,
    OUT max_workers integer,
    OUT active_workers integer,
    OUT naptime interval,
    OUT cycles bigint,
    OUT workers_launched bigint,
    OUT workers_finished bigint,
    OUT launch_failures bigint,
    OUT worker_failures bigint,
    OUT workers_ddl_terminated bigint,
    OUT tables_vacuumed bigint,
    OUT tables_analyzed bigint,
    OUT tables_cancelled bigint,
    OUT tables_skipped bigint,
    OUT last_cycle_at timestamptz,
    OUT next_cycle_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_status_1_1'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW @extschema@.status AS
    SELECT * FROM @extschema@.status_internal();

COMMENT ON VIEW @extschema@.status IS
    'pg_autolauncher launcher state and counters, one row';

GRANT SELECT ON @extschema@.status TO PUBLIC;
