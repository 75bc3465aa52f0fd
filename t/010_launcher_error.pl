# Case 1 of the crash semantics: the launcher errors.  The postmaster
# restarts it after its restart interval, with no crash cycle; running
# workers keep running and the new launcher adopts them; a launcher that
# dies in the middle of a dispatch leaves no slot stuck in "requested".

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# A long naptime and check interval: after its first pass the launcher
# sleeps for an hour unless something sets its latch.
my $node = al_node(
	'launcher_error',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.naptime' => '1h',
	'pg_autolauncher.check_interval' => '1h');
al_enable_injection($node);

$node->safe_psql('postgres', 'CREATE DATABASE busy');
al_slow_table($node, 'busy', 'big', 50000);

# The launcher itself dispatches the worker, so that only the old
# launcher ever held its handle.
al_reload($node, 'pg_autolauncher.enabled' => 'on');
my $worker_pid = al_wait_running($node, 'busy', 'big');
my $old_launcher = al_status($node, 'launcher_pid');

my $session = $node->background_psql('postgres');
my $session_pid = $session->query_safe('SELECT pg_backend_pid()');

my $offset = -s $node->logfile;
my $start = time();
al_inject($node, 'launcher_loop');

ok( $node->poll_query_until(
		'postgres', qq{
		SELECT launcher_pid IS NOT NULL AND launcher_pid <> $old_launcher
		  FROM autolauncher.status}),
	'a new launcher is running');
my $elapsed = time() - $start;
cmp_ok($elapsed, '>=', 4,
	sprintf('it came back after the restart interval (%.1fs)', $elapsed));

my $log = slurp_file($node->logfile, $offset);
like(
	$log,
	qr/ERROR:  pg_autolauncher: injected launcher error \(test\)/,
	'the launcher raised the injected error');
like(
	$log,
	qr/background worker "pg_autolauncher launcher" \(PID $old_launcher\) exited with exit code 1/,
	'the launcher exited with code 1');
unlike($log, qr/terminating any other active server processes|reinitializing/,
	'no crash cycle');
like($log, qr/pg_autolauncher launcher started, adopting 1 active worker slots/,
	'the new launcher adopted the running worker');

is($session->query_safe('SELECT pg_backend_pid()'),
	$session_pid, 'an open session stayed connected');
$session->quit;

is( $node->safe_psql(
		'postgres',
		"SELECT state || ':' || pid FROM autolauncher.workers WHERE datname = 'busy'"
	),
	"running:$worker_pid",
	'the worker kept running in its slot');
ok( $node->poll_query_until(
		'postgres', "SELECT state = 'running' FROM autolauncher.status"),
	'the new launcher reports the adopted worker');

# The new launcher holds no handle for the worker and sleeps for an hour:
# only the worker setting the launcher's latch as it exits can wake it.
$node->safe_psql('postgres', "SELECT pg_terminate_backend($worker_pid)");
al_wait_slots_free($node, 'the adopted worker freed its slot');
ok( $node->poll_query_until(
		'postgres', "SELECT state = 'idle' FROM autolauncher.status"),
	'the launcher woke up when the adopted worker exited');
al_counters_balance($node, 'after the adopted worker');

#
# pg_terminate_backend() on the launcher is an error exit too.
#
$old_launcher = al_status($node, 'launcher_pid');
$offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old_launcher)");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT launcher_pid IS NOT NULL AND launcher_pid <> $old_launcher
		  FROM autolauncher.status}),
	'a terminated launcher is restarted');
unlike(slurp_file($node->logfile, $offset), qr/reinitializing/,
	'without a crash cycle');

#
# The launcher dies between reserving a slot and registering its worker.
#
# (The launcher is off while the work is made and the fault set, or it
# would dispatch to "another" before the fault is armed.)
al_reload($node, 'pg_autolauncher.enabled' => 'off');
$node->safe_psql('postgres', 'CREATE DATABASE another');
$node->safe_psql('another',
	'CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t');
my $failures_before = al_status($node, 'launch_failures');
$old_launcher = al_status($node, 'launcher_pid');
$offset = -s $node->logfile;
al_inject($node, 'launcher_dispatch');
al_reload($node, 'pg_autolauncher.enabled' => 'on');

$node->wait_for_log(qr/injected launcher error/, $offset);
is( $node->safe_psql(
		'postgres',
		"SELECT state || ':' || coalesce(pid, 0) FROM autolauncher.workers WHERE datname = 'another'"
	),
	'requested:0',
	'the launcher died leaving a requested slot with no worker');

# The restarted launcher reclaims the slot once it has had no handle for
# AL_HANDLE_TIMEOUT_MS, and counts the aborted dispatch.
ok( $node->poll_query_until(
		'postgres',
		'SELECT launch_failures = ' . ($failures_before + 1)
		  . ' FROM autolauncher.status'),
	'the requested slot was reclaimed, as a launch failure');
cmp_ok(al_status($node, 'launcher_pid'), '!=', $old_launcher,
	'by a new launcher');

# The database is still served afterwards.
ok( $node->poll_query_until(
		'another',
		"SELECT autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 't'"),
	'the new launcher sends a worker to the database after all');
al_wait_slots_free($node);
al_counters_balance($node, 'at the end');

$node->stop;
done_testing();
