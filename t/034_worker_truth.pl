# What a worker reports is what it did.
#  - A table that SKIP_LOCKED passed over is not counted as vacuumed, has
#    no last_autolauncher_vacuum, and is retried.
#  - A cancel that lands outside a table (here, while the worker lists its
#    tables) ends only that step: the worker goes on and ends normally, with
#    no failure and no backoff.
#  - Two workers never cancel each other: one waiting for a lock the other
#    holds, longer than deadlock_timeout, does not send it a cancel.
#  - pg_database.datfrozenxid is updated once per visit, not once per
#    vacuumed table: each update scans all of pg_class.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'worker_truth',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.naptime' => '2s',
	deadlock_timeout => '100ms',
	log_min_messages => 'debug1');
al_enable_injection($node);

#
# SKIP_LOCKED
#
$node->safe_psql('postgres', 'CREATE DATABASE skip');
$node->safe_psql('skip',
	'CREATE EXTENSION pg_autolauncher; CREATE TABLE locked AS SELECT generate_series(1, 5000) AS v; DELETE FROM locked; SELECT pg_stat_force_next_flush()'
);
my $locker = $node->background_psql('skip');
$locker->query_safe('BEGIN; LOCK TABLE locked IN SHARE MODE;');

my ($vacuumed0, $skipped0) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT tables_vacuumed, tables_skipped FROM autolauncher.status');
$node->safe_psql('postgres', "SELECT autolauncher.request('skip')");
al_wait_slots_free($node, 'the worker ended its visit while the table was locked');
is( $node->safe_psql(
		'postgres',
		'SELECT tables_vacuumed || \',\' || tables_skipped FROM autolauncher.status'
	),
	"$vacuumed0," . ($skipped0 + 1),
	'the locked table counts as skipped, not as vacuumed');
is( $node->safe_psql(
		'skip', q{
		SELECT (last_autolauncher_vacuum IS NULL) || ',' || autolauncher_vacuum_count
		  FROM autolauncher.tables WHERE relname = 'locked'}),
	'true,0',
	'and has no last_autolauncher_vacuum');
is( $node->safe_psql(
		'skip',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'locked'"),
	'0',
	'(PostgreSQL agrees: it was not vacuumed)');

# Once the lock is gone the launcher retries it, a naptime after the visit.
$locker->query_safe('COMMIT');
$locker->quit;
al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( $node->poll_query_until(
		'skip', q{
		SELECT last_autolauncher_vacuum IS NOT NULL AND autolauncher_vacuum_count = 1
		  FROM autolauncher.tables WHERE relname = 'locked'}),
	'the skipped table is retried and vacuumed once the lock is gone');
al_wait_slots_free($node);
al_reload($node, 'pg_autolauncher.enabled' => 'off');

#
# A cancel while the worker lists its tables
#
$node->safe_psql('postgres', 'CREATE DATABASE listing');
$node->safe_psql('listing',
	'CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t; SELECT pg_stat_force_next_flush()'
);
al_inject($node, 'worker_wait_in_list', 'listing');
my ($finished0, $failures0) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT workers_finished, worker_failures FROM autolauncher.status');
my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT autolauncher.request('listing')");
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity a
		  JOIN autolauncher.workers w USING (pid)
		 WHERE w.datname = 'listing' AND a.wait_event_type = 'Extension'}),
	'the worker waits while listing its tables');
$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM autolauncher.workers WHERE datname = 'listing'"
);
al_wait_slots_free($node);
like(
	slurp_file($node->logfile, $offset),
	qr/LOG:  canceling autovacuum task\n.*DETAIL:  The pg_autolauncher worker in slot \d+ was canceled while scanning the tables; only that step ends/,
	'the cancel ended the listing step');
is( $node->safe_psql(
		'postgres',
		'SELECT workers_finished || \',\' || worker_failures FROM autolauncher.status'
	),
	($finished0 + 1) . ",$failures0",
	'the worker went on and ended normally: no failure');
is( $node->safe_psql(
		'postgres', q{
		SELECT failure_count || ',' || (backoff_until IS NULL)
		  FROM autolauncher.databases WHERE datname = 'listing'}),
	'0,true',
	'and its database is not backed off');
is( $node->safe_psql(
		'listing',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 't'"),
	'1',
	'it listed its tables again and vacuumed the one due');

#
# Two workers in one database, one waiting for a lock the other holds.
# Each table's index expression takes the same advisory lock and holds it
# for a second while ANALYZE evaluates it; deadlock_timeout is 100ms.
#
$node->safe_psql('postgres', 'CREATE DATABASE pair');
$node->safe_psql(
	'pair', q{
	CREATE EXTENSION pg_autolauncher;
	CREATE FUNCTION slow_lock(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_advisory_xact_lock(4242);
		PERFORM pg_sleep(1);
		RETURN x;
	END $$;
	CREATE TABLE a1 (v int) WITH (autovacuum_analyze_threshold = 0);
	CREATE TABLE a2 (v int) WITH (autovacuum_analyze_threshold = 0);
	CREATE INDEX ON a1 (public.slow_lock(v));
	CREATE INDEX ON a2 (public.slow_lock(v));
	INSERT INTO a1 VALUES (1);
	INSERT INTO a2 VALUES (1);
	SELECT pg_stat_force_next_flush();});
my $cancelled0 = al_status($node, 'tables_cancelled');
$offset = -s $node->logfile;
$node->safe_psql('postgres',
	"SELECT autolauncher.request('pair'), autolauncher.request('pair')");
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity a
		  JOIN autolauncher.workers w USING (pid)
		 WHERE w.datname = 'pair' AND a.wait_event = 'advisory'}),
	'one worker waits for the advisory lock the other holds');
al_wait_slots_free($node);
is(al_status($node, 'tables_cancelled'), $cancelled0, 'no table was cancelled');
unlike(
	slurp_file($node->logfile, $offset),
	qr/sending cancel to blocking autovacuum/,
	'no worker sent the other a cancel');
is( $node->safe_psql(
		'pair', q{
		SELECT string_agg(relname || ':' || autolauncher_analyze_count, ',' ORDER BY relname)
		  FROM autolauncher.tables WHERE relname IN ('a1', 'a2')}),
	'a1:1,a2:1',
	'both tables were analyzed, once each');

#
# One datfrozenxid update per visit.  Each update scans pg_class, which
# pg_stat_sys_tables counts; a visit of 200 tables used to scan it 200
# times and more.
#
$node->safe_psql('postgres', 'CREATE DATABASE frozen');
$node->safe_psql(
	'frozen', q{
	DO $$
	BEGIN
		FOR i IN 1 .. 200 LOOP
			EXECUTE format('CREATE TABLE t%s AS SELECT generate_series(1, 100) AS v; DELETE FROM t%s', i, i);
		END LOOP;
	END $$;
	SELECT pg_stat_force_next_flush();});
my $scans0 = $node->safe_psql('frozen',
	"SELECT seq_scan FROM pg_stat_sys_tables WHERE relname = 'pg_class'");
my $vacuumed1 = al_status($node, 'tables_vacuumed');
$node->safe_psql('postgres', "SELECT autolauncher.request('frozen')");
al_wait_slots_free($node);
cmp_ok(al_status($node, 'tables_vacuumed') - $vacuumed1,
	'>=', 200, 'the visit vacuumed the 200 tables');
ok( $node->poll_query_until(
		'frozen',
		"SELECT seq_scan > $scans0 FROM pg_stat_sys_tables WHERE relname = 'pg_class'"
	),
	"the worker's scans of pg_class are counted");
my $scans = $node->safe_psql('frozen',
	"SELECT seq_scan - $scans0 FROM pg_stat_sys_tables WHERE relname = 'pg_class'");
# A visit scans pg_class a constant number of times, whatever its size
# (16 for 200 or 800 tables, here): its listing, one datfrozenxid update,
# and the catalog work of a new connection.  One update per table would
# make it more than 200.
cmp_ok($scans, '<', 50,
	"the visit of 200 tables scanned pg_class $scans times, not once per table"
);

al_counters_balance($node);
$node->stop;
done_testing();
