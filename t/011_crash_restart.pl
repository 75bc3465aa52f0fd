# Cases 2 and 3 of the crash semantics: a SIGKILLed launcher, and a worker
# SIGKILLed in the middle of a vacuum.  Both hold shared memory, so the
# postmaster reinitializes it; afterwards the launcher comes back, every
# slot is free, and work resumes.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Cluster->init turns restart_after_crash off; a crash test needs it on.
my $node = al_node(
	'crash',
	'pg_autolauncher.enabled' => 'off',
	restart_after_crash => 'on');

$node->safe_psql('postgres', 'CREATE DATABASE busy');
al_slow_table($node, 'busy', 'big', 50000);

# Kill $pid with SIGKILL and wait for the cluster to be back.
sub kill9_and_wait
{
	my ($pid, $what) = @_;
	my $offset = -s $node->logfile;
	kill 'KILL', $pid or die "could not kill $what $pid";
	$node->wait_for_log(qr/all server processes terminated; reinitializing/,
		$offset);
	ok( $node->poll_query_until(
			'postgres',
			'SELECT launcher_pid IS NOT NULL FROM autolauncher.status'),
		"after the $what was killed, the cluster restarted and the launcher is back"
	);
	return $offset;
}

#
# Case 2: the launcher is killed while a worker runs.
#
$node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
my $worker_pid = al_wait_running($node, 'busy', 'big');
my $launcher_pid = al_status($node, 'launcher_pid');

kill9_and_wait($launcher_pid, 'launcher');
cmp_ok(al_status($node, 'launcher_pid'), '!=', $launcher_pid,
	'with a new pid');
al_wait_slots_free($node, 'every slot is free after the crash-restart');
is(al_slot_states($node), join(',', ('free') x 8), 'all 8 slots are free');
is( $node->safe_psql(
		'postgres',
		q{SELECT workers_launched || ',' || worker_failures || ',' || launch_failures
		  FROM autolauncher.status}
	),
	'0,0,0',
	'the counters restarted from zero with shared memory');
ok(!kill(0, $worker_pid), 'the worker of before the crash is gone');

#
# Case 3: a worker is killed in the middle of a vacuum.
#
# Crash recovery discarded the cumulative statistics, and with them the
# dead tuples of big: make new ones.
al_make_dead_tuples($node, 'busy', 'big', 50000);
$node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
$worker_pid = al_wait_running($node, 'busy', 'big');
$launcher_pid = al_status($node, 'launcher_pid');

my $offset = kill9_and_wait($worker_pid, 'worker');
like(
	slurp_file($node->logfile, $offset),
	qr/background worker "pg_autolauncher worker" \(PID $worker_pid\) was terminated by signal 9/,
	'the postmaster saw the worker die');
cmp_ok(al_status($node, 'launcher_pid'), '!=', $launcher_pid,
	'the launcher was restarted too');
al_wait_slots_free($node, 'every slot is free after the worker crash');

# The statistics were discarded again; new dead tuples bring the launcher
# back to busy.
$node->safe_psql(
	'busy', q{
	CREATE TABLE hot (v int);
	INSERT INTO hot SELECT generate_series(1, 5000);
	DELETE FROM hot;});
al_reload($node, 'pg_autolauncher.enabled' => 'on');
al_wait_vacuumed($node, 'busy', 'hot',
	'busy is vacuumed again in a later cycle');
ok( $node->poll_query_until(
		'postgres',
		"SELECT dispatch_count > 0 FROM autolauncher.databases WHERE datname = 'busy'"
	),
	'by a worker the new launcher dispatched');

$node->safe_psql('busy', 'DROP TABLE big');
al_wait_slots_free($node);
al_counters_balance($node);

$node->stop;
done_testing();
