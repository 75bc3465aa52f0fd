# pg_autolauncher's workers never take the background worker processes
# others need.  With max_worker_processes left at its default (8),
# pg_autolauncher adds its launcher and worker slots on top of it.  So
# while every one of our workers runs, pg_cron (preloaded beside us, its
# jobs in background workers) still runs its jobs, and a parallel query
# still gets all its workers.  Without the addition the 8 would not do:
# our 4 processes, the logical replication launcher and pg_cron's launcher
# leave 2 for a query that plans 4 parallel workers.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('coexistence');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_cron,pg_autolauncher'
autovacuum = off
cron.database_name = 'postgres'
cron.use_background_workers = on
max_parallel_workers = 4
max_parallel_workers_per_gather = 4
pg_autolauncher.enabled = off
pg_autolauncher.worker_slots = 3
pg_autolauncher.max_workers = 3
pg_autolauncher.fast_lane_workers = 0
});
$node->start;
$node->safe_psql('postgres',
	'CREATE EXTENSION pg_autolauncher; CREATE EXTENSION pg_cron');

is($node->safe_psql('postgres', 'SHOW max_worker_processes'),
	'12', 'max_worker_processes: the default 8, plus our launcher and 3 slots');
like(
	slurp_file($node->logfile),
	qr/LOG:  pg_autolauncher adds 4 to max_worker_processes, for its launcher and 3 worker slots: it is 12/,
	'the server log says so');

# Every worker slot busy, for as long as we need: vacuums throttled to a
# crawl, one per database.
for my $db (qw(d1 d2 d3))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	al_slow_table($node, $db, 'slow', 20000);
	$node->safe_psql('postgres', "SELECT autolauncher.request('$db')");
	al_wait_running($node, $db, 'slow');
}
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_autolauncher worker'"),
	'3',
	'three workers run: every worker slot is in use');

# A parallel query gets every worker it plans for.
$node->safe_psql('postgres',
	'CREATE TABLE big AS SELECT g AS v FROM generate_series(1, 200000) g; VACUUM ANALYZE big'
);
my $plan = $node->safe_psql(
	'postgres', q{
	SET parallel_setup_cost = 0;
	SET parallel_tuple_cost = 0;
	SET min_parallel_table_scan_size = 0;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
		SELECT count(*) FROM big});
like($plan, qr/Workers Planned: 4/, 'the query planned 4 parallel workers');
like($plan, qr/Workers Launched: 4/, 'and got all 4');

# A pg_cron job, in a background worker of its own, runs at the next
# minute: wait up to 90 s.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE cron_ran (at timestamptz);
	SELECT cron.schedule('* * * * *', 'INSERT INTO cron_ran VALUES (now())');});
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) > 0 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')",
		't'),
	'pg_cron ran its job');
is( $node->safe_psql(
		'postgres',
		"SELECT status || ':' || coalesce(return_message, '') FROM cron.job_run_details ORDER BY runid LIMIT 1"),
	'succeeded:INSERT 0 1',
	'the job succeeded');
is($node->safe_psql('postgres', 'SELECT count(*) FROM cron_ran'),
	'1', 'and did its work');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_autolauncher worker'"),
	'3',
	'our three workers ran all along');

$node->safe_psql('postgres', "SELECT cron.unschedule(jobid) FROM cron.job");
$node->stop('immediate');
done_testing();
