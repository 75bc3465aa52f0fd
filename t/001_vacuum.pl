# A table with dead tuples over its threshold, in one of three databases,
# is vacuumed by a pg_autolauncher worker while core autovacuum is off.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Start with the launcher disabled so that the dead tuples can be observed
# before anything vacuums them.
my $node = al_node('vacuum', 'pg_autolauncher.enabled' => 'off');

is(al_status($node, 'state'), 'disabled',
	'launcher reports disabled while pg_autolauncher.enabled is off');

$node->safe_psql('postgres', "CREATE DATABASE db$_") for 1 .. 3;

# The vacuum of "hot" is slowed down through its own reloptions, which the
# worker honours as core autovacuum does, so that the worker can be seen.
$node->safe_psql(
	'db2', q{
	CREATE TABLE hot (id int PRIMARY KEY, v int, pad text)
		WITH (autovacuum_vacuum_cost_delay = 20,
			  autovacuum_vacuum_cost_limit = 20);
	INSERT INTO hot SELECT g, 0, repeat('x', 60) FROM generate_series(1, 60000) g;
	VACUUM ANALYZE hot;});
al_make_dead_tuples($node, 'db2', 'hot', 60000);

my $dead_before = $node->safe_psql('db2',
	"SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'hot'");
cmp_ok($dead_before, '>=', 60000, "hot has $dead_before dead tuples");
my $vacuums_before = $node->safe_psql('db2',
	"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'hot'");

al_reload($node, 'pg_autolauncher.enabled' => 'on');

# The worker is visible, with its slot, while it vacuums hot.
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1 FROM autolauncher.workers
		 WHERE state = 'running' AND datname = 'db2' AND relname = 'hot'
		   AND action LIKE 'vacuum%' AND pid IS NOT NULL}),
	'autolauncher.workers shows the worker vacuuming db2.hot');

is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(DISTINCT backend_type, ',' ORDER BY backend_type)
		  FROM pg_stat_activity
		 WHERE backend_type LIKE 'pg_autolauncher%'}),
	'pg_autolauncher launcher,pg_autolauncher worker',
	'pg_stat_activity shows the launcher and the worker backend types');

is( $node->safe_psql(
		'postgres', q{
		SELECT a.datname || ':' || (a.query LIKE 'pg_autolauncher: VACUUM%hot%')
		  FROM pg_stat_activity a JOIN autolauncher.workers w USING (pid)
		 WHERE w.datname = 'db2' AND w.relname = 'hot'}),
	'db2:true',
	'the worker reports its VACUUM as its query');

is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity
	 WHERE backend_type = 'pg_autolauncher launcher' AND datname IS NULL}),
	'1', 'the launcher is connected to no database');

ok( $node->poll_query_until(
		'db2', qq{
		SELECT n_dead_tup = 0 AND autovacuum_count > $vacuums_before
		  FROM pg_stat_user_tables WHERE relname = 'hot'}),
	'n_dead_tup of db2.hot dropped to 0 after the worker vacuumed it');

al_wait_slots_free($node);

my $db2 = $node->safe_psql(
	'postgres', q{
	SELECT dispatch_count >= 1 AND last_dispatch_at IS NOT NULL
	   AND last_finished_at >= last_dispatch_at AND failure_count = 0
	  FROM autolauncher.databases WHERE datname = 'db2'});
is($db2, 't', 'autolauncher.databases counts the dispatch to db2');

my ($launched, $finished, $failures, $vacuumed) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT workers_launched, workers_finished, worker_failures, tables_vacuumed FROM autolauncher.status'
  );
cmp_ok($launched, '>=', 1, "status counts $launched launched workers");
is($launched, $finished + $failures,
	'every launched worker is accounted as finished or failed');
is($failures, 0, 'no worker failed');
cmp_ok($vacuumed, '>=', 1, "status counts $vacuumed vacuumed tables");

is( $node->safe_psql(
		'db2', q{
	SELECT vacuum_count = 1 AND last_autovacuum > last_vacuum
	  FROM pg_stat_user_tables WHERE relname = 'hot'}),
	't',
	'the run is recorded as an autovacuum; the manual VACUUM before it is still one'
);

$node->stop;
done_testing();
