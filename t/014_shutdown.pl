# Case 6 of the crash semantics: the server shuts down while a worker is
# vacuuming a large table.  A fast shutdown completes promptly and
# interrupts the vacuum cleanly (the worker exits on SIGTERM, no crash);
# a smart shutdown completes too.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = al_node('shutdown', 'pg_autolauncher.enabled' => 'off');
$node->safe_psql('postgres', 'CREATE DATABASE busy');
al_slow_table($node, 'busy', 'big', 50000);

for my $mode (qw(fast smart))
{
	$node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
	my $pid = al_wait_running($node, 'busy', 'big');
	my $offset = -s $node->logfile;

	my $start = time();
	$node->stop($mode);
	my $elapsed = time() - $start;
	cmp_ok($elapsed, '<', 10,
		sprintf('%s shutdown with a worker mid-vacuum took %.1fs', $mode,
			$elapsed));

	my $log = slurp_file($node->logfile, $offset);
	like(
		$log,
		qr/terminating background worker "pg_autolauncher worker" due to administrator command/,
		"$mode shutdown: the vacuum was interrupted by SIGTERM");
	like(
		$log,
		qr/background worker "pg_autolauncher worker" \(PID $pid\) exited with exit code 1/,
		"$mode shutdown: the worker exited normally, not by a signal");
	unlike($log, qr/terminated by signal|server process .* was terminated/,
		"$mode shutdown: no process crashed");
	like(
		$log,
		qr/background worker "pg_autolauncher launcher" \(PID \d+\) exited with exit code 1/,
		"$mode shutdown: the launcher exited on SIGTERM");
	like($log, qr/database system is shut down/,
		"$mode shutdown: the server shut down");

	$node->start;
	# The vacuum was interrupted, so the dead tuples are still there.
	is( $node->safe_psql(
			'busy',
			"SELECT n_dead_tup > 0 FROM pg_stat_user_tables WHERE relname = 'big'"
		),
		't',
		"$mode shutdown: the interrupted vacuum left its work for later");
	al_wait_slots_free($node, "$mode shutdown: every slot is free after restart");
}

$node->stop;
done_testing();
