/* pg_autolauncher--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_autolauncher UPDATE TO '1.2'" to load this file. \quit

-- Version 1.2 schedules tables, not databases (docs/scheduling.md), and its
-- views show the schedule:
--   status     gains tracked_tables (tables in the schedule) and
--              statistics_walks (full walks of the statistics);
--   workers    gains kind (why the worker was sent) and idle;
--   databases  replaces estimated_tables by due_tables (tables in its
--              queue), and gains state, last_scan_at, freeze_deadline_xids
--              and scan_count;
--   tables     gains schedule, wait_until, retries, last_vacuum_ms and
--              last_analyze_ms.
-- Each view is re-created on a new C symbol; the older symbols keep their
-- columns, for databases still at an older version.

DROP VIEW @extschema@.status;
DROP FUNCTION @extschema@.status_internal();
DROP VIEW @extschema@.workers;
DROP FUNCTION @extschema@.workers_internal();
DROP VIEW @extschema@.databases;
DROP FUNCTION @extschema@.databases_internal();
DROP VIEW @extschema@.tables;
DROP FUNCTION @extschema@.tables_internal();

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
    OUT next_cycle_at timestamptz,
    OUT tracked_tables integer,
    OUT statistics_walks bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_status_1_2'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION @extschema@.workers_internal(
    OUT slot integer,
    OUT state text,
    OUT pid integer,
    OUT datid oid,
    OUT datname name,
    OUT relid oid,
    OUT relname name,
    OUT action text,
    OUT wraparound boolean,
    OUT requested_at timestamptz,
    OUT started_at timestamptz,
    OUT tables_done bigint,
    OUT cost_limit integer,
    OUT cost_delay double precision,
    OUT manual boolean,
    OUT kind text,
    OUT idle boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_workers_1_2'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION @extschema@.databases_internal(
    OUT datid oid,
    OUT datname name,
    OUT last_dispatch_at timestamptz,
    OUT last_finished_at timestamptz,
    OUT dispatch_count bigint,
    OUT failure_count bigint,
    OUT backoff_until timestamptz,
    OUT due_tables integer,
    OUT next_check_at timestamptz,
    OUT reason text,
    OUT frozenxid_age integer,
    OUT minmxid_age integer,
    OUT wraparound boolean,
    OUT state text,
    OUT last_scan_at timestamptz,
    OUT freeze_deadline_xids integer,
    OUT scan_count bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_databases_1_2'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION @extschema@.tables_internal(
    OUT relid oid,
    OUT schemaname name,
    OUT relname name,
    OUT kind text,
    OUT n_live_tup bigint,
    OUT n_dead_tup bigint,
    OUT n_ins_since_vacuum bigint,
    OUT n_mod_since_analyze bigint,
    OUT reltuples real,
    OUT vacuum_threshold double precision,
    OUT insert_threshold double precision,
    OUT analyze_threshold double precision,
    OUT xid_age integer,
    OUT mxid_age integer,
    OUT freeze_max_age integer,
    OUT autovacuum_enabled boolean,
    OUT needs_vacuum boolean,
    OUT needs_analyze boolean,
    OUT wraparound boolean,
    OUT score double precision,
    OUT reason text,
    OUT worker_slot integer,
    OUT worker_pid integer,
    OUT worker_action text,
    OUT last_autolauncher_vacuum timestamptz,
    OUT last_autolauncher_analyze timestamptz,
    OUT autolauncher_vacuum_count bigint,
    OUT autolauncher_analyze_count bigint,
    OUT schedule text,
    OUT wait_until timestamptz,
    OUT retries integer,
    OUT last_vacuum_ms integer,
    OUT last_analyze_ms integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_tables_1_2'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW @extschema@.status AS
    SELECT * FROM @extschema@.status_internal();
CREATE VIEW @extschema@.workers AS
    SELECT * FROM @extschema@.workers_internal();
CREATE VIEW @extschema@.databases AS
    SELECT * FROM @extschema@.databases_internal();
CREATE VIEW @extschema@.tables AS
    SELECT * FROM @extschema@.tables_internal();

COMMENT ON VIEW @extschema@.status IS
    'pg_autolauncher launcher state and counters, one row';
COMMENT ON VIEW @extschema@.workers IS
    'pg_autolauncher worker slots, one row per slot';
COMMENT ON VIEW @extschema@.databases IS
    'pg_autolauncher per-database schedule, dispatch history and wraparound ages';
COMMENT ON VIEW @extschema@.tables IS
    'every table of the current database, with its thresholds, its schedule and why it does or does not need work';

GRANT SELECT ON @extschema@.status, @extschema@.workers, @extschema@.databases,
    @extschema@.tables TO PUBLIC;
