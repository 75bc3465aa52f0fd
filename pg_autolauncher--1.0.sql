/* pg_autolauncher--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_autolauncher" to load this file. \quit

-- Status functions, one per view.  Each raises an error with a hint if the
-- library is not in shared_preload_libraries.

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
    OUT tables_vacuumed bigint,
    OUT tables_analyzed bigint,
    OUT tables_cancelled bigint,
    OUT last_cycle_at timestamptz,
    OUT next_cycle_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_status'
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
    OUT manual boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_workers'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION @extschema@.databases_internal(
    OUT datid oid,
    OUT datname name,
    OUT last_dispatch_at timestamptz,
    OUT last_finished_at timestamptz,
    OUT dispatch_count bigint,
    OUT failure_count bigint,
    OUT backoff_until timestamptz,
    OUT estimated_tables integer,
    OUT next_check_at timestamptz,
    OUT reason text,
    OUT frozenxid_age integer,
    OUT minmxid_age integer,
    OUT wraparound boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_databases'
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
    OUT autolauncher_analyze_count bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_autolauncher_tables'
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
    'pg_autolauncher per-database dispatch history, work estimate and wraparound ages';
COMMENT ON VIEW @extschema@.tables IS
    'every table of the current database, with its thresholds and why it does or does not need work';

-- The views are readable by every role, like pg_stat_activity.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
GRANT SELECT ON @extschema@.status, @extschema@.workers, @extschema@.databases,
    @extschema@.tables TO PUBLIC;

-- Admin functions: superuser only unless granted.

CREATE FUNCTION @extschema@.request(dbname name)
RETURNS integer
AS 'MODULE_PATHNAME', 'pg_autolauncher_request'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.request(name) IS
    'start a pg_autolauncher worker in a database now; returns its slot';

CREATE FUNCTION @extschema@.wakeup()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_autolauncher_wakeup'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.wakeup() IS
    'wake the pg_autolauncher launcher; false if none is running';

REVOKE ALL ON FUNCTION @extschema@.request(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.wakeup() FROM PUBLIC;

-- Refuse to install where the library is not preloaded: this raises the
-- same error, with its hint, as every view would.
SELECT FROM @extschema@.status_internal();
