--
-- autolauncher.tables: the numbers, thresholds and verdict of every table
-- of the current database, computed by the same code the workers use.
-- The launcher is disabled in this instance, so nothing vacuums behind
-- our back.
--
CREATE TABLE t_dead (v int);
CREATE TABLE t_quiet (v int);
CREATE TABLE t_low (v int) WITH (autovacuum_vacuum_threshold = 10,
                                 autovacuum_vacuum_scale_factor = 0,
                                 autovacuum_analyze_threshold = 1000000);
CREATE TABLE t_disabled (v int) WITH (autovacuum_enabled = false);
CREATE TABLE t_inserts (v int);
INSERT INTO t_dead SELECT generate_series(1, 1000);
INSERT INTO t_quiet SELECT generate_series(1, 1000);
INSERT INTO t_low SELECT generate_series(1, 1000);
INSERT INTO t_disabled SELECT generate_series(1, 1000);
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE t_dead, t_quiet, t_low, t_disabled;

-- t_dead: 300 dead > 50 + 0.2 * 1000; 300 modified > 50 + 0.1 * 1000
DELETE FROM t_dead WHERE v <= 300;
-- t_quiet: 10 dead, below every threshold
DELETE FROM t_quiet WHERE v <= 10;
-- t_low: 20 dead > its own threshold of 10
DELETE FROM t_low WHERE v <= 20;
-- t_disabled: as many dead as t_dead, but autovacuum_enabled = false
DELETE FROM t_disabled WHERE v <= 300;
-- t_inserts: 2000 inserts > 1000 + 0.2 * 0, never vacuumed
INSERT INTO t_inserts SELECT generate_series(1, 2000);
SELECT pg_stat_force_next_flush();

SELECT relname, kind, n_live_tup, n_dead_tup, n_ins_since_vacuum, n_mod_since_analyze,
       reltuples, vacuum_threshold, insert_threshold, analyze_threshold,
       autovacuum_enabled, needs_vacuum, needs_analyze, wraparound,
       round(score::numeric, 2) AS score, reason, worker_slot
  FROM autolauncher.tables
 WHERE schemaname = 'public'
 ORDER BY relname;

-- TOAST tables are listed, never analyzed, and inherit their parent's
-- reloptions
CREATE TABLE t_toasty (v int, doc text) WITH (autovacuum_enabled = false);
SELECT t.kind, t.autovacuum_enabled, t.analyze_threshold, t.reason
  FROM autolauncher.tables t
  JOIN pg_class c ON c.reltoastrelid = t.relid
 WHERE c.relname = 't_toasty';

-- the verdicts match what a worker then does: request one, wait for it
SELECT autolauncher.request(current_database()) >= 0 AS requested;
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN (SELECT count(*) = 0 FROM autolauncher.workers
                    WHERE state <> 'free');
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT relname, vacuum_count, autovacuum_count, analyze_count, autoanalyze_count
  FROM pg_stat_user_tables
 WHERE relname LIKE 't\_%' AND relname <> 't_toasty'
 ORDER BY relname;
SELECT relname, needs_vacuum, needs_analyze, reason,
       autolauncher_vacuum_count, autolauncher_analyze_count,
       last_autolauncher_vacuum IS NOT NULL AS vacuumed_by_us,
       last_autolauncher_analyze IS NOT NULL AS analyzed_by_us
  FROM autolauncher.tables
 WHERE schemaname = 'public' AND relname <> 't_toasty'
 ORDER BY relname;

-- anti-wraparound: a table whose relfrozenxid is older than its own
-- autovacuum_freeze_max_age (min 100000) is due even when disabled
CREATE TABLE t_wrap (v int) WITH (autovacuum_freeze_max_age = 100000,
                                  autovacuum_enabled = false);
CREATE TABLE t_burn (v int);
-- consume 100050 transaction IDs: each subtransaction writes, so it gets
-- its own, and rolls back
DO $$
BEGIN
    FOR i IN 1 .. 100050 LOOP
        BEGIN
            INSERT INTO t_burn VALUES (i);
            RAISE EXCEPTION 'roll back';
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END LOOP;
END
$$;
SELECT relname, needs_vacuum, wraparound, xid_age > freeze_max_age AS too_old,
       freeze_max_age, score > 1e11 AS top_score,
       reason LIKE 'relfrozenxid age % > freeze max age 100000' AS reason_ok
  FROM autolauncher.tables
 WHERE relname = 't_wrap';

DROP TABLE t_dead, t_quiet, t_low, t_disabled, t_inserts, t_toasty, t_wrap, t_burn;
