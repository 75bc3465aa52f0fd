# Case 9 of the crash semantics: changing pg_autolauncher.enabled and
# max_workers with a reload.  Disabling stops new dispatches and lets
# running workers finish; lowering max_workers lets running workers finish
# and caps new dispatches; raising it takes effect at the next cycle, up to
# worker_slots.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'toggles',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.max_workers' => '3',
	# the subject is max_workers: no fast-lane worker beside the regular
	# ones (the tables here are small enough for it)
	'pg_autolauncher.fast_lane_workers' => 0,
	'pg_autolauncher.naptime' => '1h');

sub set_and_reload
{
	my (%settings) = @_;
	al_reload($node,
		map { ("pg_autolauncher.$_" => $settings{$_}) } keys %settings);
	# the launcher applies a reload on its next loop; wake it
	$node->safe_psql('postgres', 'SELECT autolauncher.wakeup()');
	return;
}

# Databases db1..db4, each with two tables whose vacuum takes a few
# seconds: t for the first steps, t2 for the raise of max_workers.  (t,
# once vacuumed, waits for its revisit time, a different one in each
# database; t2 is due everywhere at once.)
for my $i (1 .. 4)
{
	$node->safe_psql('postgres', "CREATE DATABASE db$i");
	for my $t ('t', 't2')
	{
		$node->safe_psql(
			"db$i", qq{
			CREATE TABLE $t (id int, pad text)
				WITH (autovacuum_vacuum_cost_delay = 20,
					  autovacuum_vacuum_cost_limit = 20);
			INSERT INTO $t SELECT g, repeat('x', 60) FROM generate_series(1, 40000) g;
			VACUUM ANALYZE $t;});
	}
	$node->safe_psql("db$i", 'UPDATE t SET pad = pad');
}

# max_workers = 3: three of the four databases get a worker at once.
set_and_reload(enabled => 'on');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 3 FROM autolauncher.workers WHERE state <> 'free' AND datname LIKE 'db%'"
	),
	'three workers run at once under max_workers = 3');

# Lower to 1: the three keep running to the end; the fourth database is
# dispatched only once none is left, since 1 running worker is the cap.
set_and_reload(max_workers => 1);
is(al_status($node, 'max_workers'), '1', 'status shows max_workers = 1');
my $failures_before = al_status($node, 'worker_failures');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 4 FROM autolauncher.databases WHERE datname LIKE 'db%' AND last_finished_at IS NOT NULL"
	),
	'all four databases are eventually served');
is(al_status($node, 'worker_failures'),
	$failures_before, 'the running workers finished, none was stopped');
is( $node->safe_psql(
		'postgres', q{
		SELECT bool_and(d4.last_dispatch_at >= d.last_finished_at)
		  FROM autolauncher.databases d,
		       (SELECT datid, last_dispatch_at FROM autolauncher.databases
		         WHERE dispatch_count > 0 AND datname LIKE 'db%'
		         ORDER BY last_dispatch_at DESC LIMIT 1) d4
		 WHERE d.datname LIKE 'db%' AND d.datid <> d4.datid}),
	't',
	'under the lowered cap the last database waited for every running worker to finish'
);
al_wait_slots_free($node);

# Raise to 20: capped at worker_slots (8), with a warning, and in effect
# at once: all four databases get a worker together.
my $offset = -s $node->logfile;
$node->safe_psql("db$_", 'UPDATE t2 SET pad = pad') for 1 .. 4;
set_and_reload(max_workers => 20, naptime => "'1s'");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 4 FROM autolauncher.workers WHERE state <> 'free' AND datname LIKE 'db%'"
	),
	'four workers run at once after raising max_workers');
is(al_status($node, 'max_workers'), '8',
	'max_workers is capped at worker_slots');
$node->wait_for_log(
	qr/WARNING:  pg_autolauncher.max_workers \(20\) is larger than pg_autolauncher.worker_slots \(8\)/,
	$offset);
pass('the launcher warned about max_workers > worker_slots');

# Disable: the running workers finish their databases, nothing new starts.
set_and_reload(enabled => 'off');
is(al_status($node, 'state'), 'disabled', 'status shows disabled');
$failures_before = al_status($node, 'worker_failures');
al_wait_slots_free($node, 'the running workers finish after disabling');
is(al_status($node, 'worker_failures'),
	$failures_before, 'none of them was stopped');
my $launched = al_status($node, 'workers_launched');
$node->safe_psql("db$_", 'UPDATE t SET pad = pad') for 1 .. 4;
# with naptime 1s the launcher would dispatch within a few passes; it is
# woken for each of them
for (1 .. 5)
{
	$node->safe_psql('postgres', 'SELECT autolauncher.wakeup(), pg_sleep(0.5)');
}
is(al_status($node, 'workers_launched'),
	$launched, 'a disabled launcher dispatches nothing new');

al_counters_balance($node);
$node->stop;
done_testing();
