# No stall: a small hot table never waits behind a long vacuum.
#  - With one regular worker, busy on a big table in the same database,
#    the fast lane processes the hot table within seconds.
#  - With two, the second helps at once, with the next table of the
#    database's queue.
#  - With max_workers_per_database = 1, the fast lane respects the cap.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = al_node(
	'no_stall',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.naptime' => '60s',
	'pg_autolauncher.max_workers' => '1',
	'pg_autolauncher.fast_lane_workers' => '1',
	log_min_messages => 'debug1');

# "big" has 2,000 pages, its vacuum throttled so that it never ends; "hot"
# is small.  Both in database "app".
$node->safe_psql('postgres', 'CREATE DATABASE app');
al_slow_table($node, 'app', 'big', 300000);
$node->safe_psql(
	'app', q{
	CREATE EXTENSION pg_autolauncher;
	CREATE TABLE hot (id int PRIMARY KEY, v int);
	INSERT INTO hot SELECT g, 0 FROM generate_series(1, 1000) g;});
$node->safe_psql('app', 'VACUUM ANALYZE hot');

# Make hot over its threshold (250) and wait for its vacuum, 30 s at
# most.  Returns the seconds it took, and the most workers seen at once.
sub hot_latency
{
	my ($what) = @_;
	my $before = $node->safe_psql('app',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'hot'");
	my $start = time();
	my ($done, $most) = ('f', 0);
	$node->safe_psql('app',
		'UPDATE hot SET v = v + 1 WHERE id <= 400; SELECT pg_stat_force_next_flush()');
	while ($done ne 't' && time() < $start + 30)
	{
		my $busy;
		($done, $busy) = split /\|/, $node->safe_psql(
			'app', qq{
			SELECT (SELECT autovacuum_count > $before FROM pg_stat_user_tables
					 WHERE relname = 'hot'),
			       (SELECT count(*) FROM autolauncher.workers
					 WHERE state <> 'free')});
		$most = $busy if $busy > $most;
	}
	is($done, 't', "hot is vacuumed $what");
	return (time() - $start, $most);
}

al_reload($node, 'pg_autolauncher.enabled' => 'on');
my $big_pid = al_wait_running($node, 'app', 'big');
cmp_ok(
	$node->safe_psql('app',
		"SELECT relpages FROM pg_class WHERE relname = 'big'"),
	'>=', 1024, 'big is too big for the fast lane');

#
# One regular worker, on big: the fast lane takes hot.
#
my $offset = -s $node->logfile;
my ($latency, $most) = hot_latency('while the only regular worker vacuums big');
cmp_ok($latency, '<', 10,
	sprintf('within %.1fs (the bound is 10s; naptime is 60s)', $latency));
is($node->safe_psql('app',
	"SELECT pid FROM autolauncher.workers WHERE relname = 'big'"),
	$big_pid, 'and the worker on big kept at it');
like(
	slurp_file($node->logfile, $offset),
	qr/dispatched a worker to database \d+ in slot \d+: fast lane/,
	'by a fast-lane worker');
cmp_ok($most, '<=', 2,
	"at most $most workers at once: max_workers + fast_lane_workers bound them");

#
# Two regular workers and no fast lane: the second helps at once.
#
al_reload($node,
	'pg_autolauncher.max_workers' => '2',
	'pg_autolauncher.fast_lane_workers' => '0');
al_wait_slots_free_but($node, $big_pid);
($latency, $most) = hot_latency('by a second regular worker');
cmp_ok($latency, '<', 10, sprintf('within %.1fs', $latency));
is($node->safe_psql('app',
	"SELECT pid FROM autolauncher.workers WHERE relname = 'big'"),
	$big_pid, 'while the first still vacuums big');

#
# max_workers_per_database = 1: the fast lane does not exceed it.
#
al_reload($node,
	'pg_autolauncher.max_workers' => '1',
	'pg_autolauncher.fast_lane_workers' => '1',
	'pg_autolauncher.max_workers_per_database' => '1');
al_wait_slots_free_but($node, $big_pid);
my $before = $node->safe_psql('app',
	"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'hot'");
$node->safe_psql('app',
	'UPDATE hot SET v = v + 1 WHERE id <= 400; SELECT pg_stat_force_next_flush()');
# a measurement window: hot must not be taken while the cap holds
my $max_workers = 0;
for (1 .. 30)
{
	my $n = $node->safe_psql('postgres',
		"SELECT count(*) FROM autolauncher.workers WHERE datname = 'app'");
	$max_workers = $n if $n > $max_workers;
	$node->safe_psql('postgres', 'SELECT autolauncher.wakeup(), pg_sleep(0.2)');
}
is($max_workers, 1, 'the per-database cap holds for the fast lane too');
is( $node->safe_psql('app',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'hot'"),
	$before, 'so hot waits');

$node->safe_psql('postgres', 'DROP DATABASE app');
al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();

# Wait until the only worker left is the one with pid $pid.
sub al_wait_slots_free_but
{
	my ($node, $pid) = @_;
	ok( $node->poll_query_until(
			'postgres', qq{
			SELECT count(*) = 1 AND bool_and(pid = $pid)
			  FROM autolauncher.workers WHERE state <> 'free'}),
		'only the worker on big is left');
	return;
}
