# What the launcher learnt survives a clean restart, and only that.
#
# At exit the launcher saves each database's floor and each table's facts
# to pg_stat/pg_autolauncher.state; the first launcher after a clean start
# reads it back, so an idle cluster needs no worker to learn again what
# it knew.  Without the file, the launcher judges unknown tables with the
# lowest floor reloptions allow and sends a worker to verify them.  After
# a crash, core discards its statistics, and the launcher its file.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = al_node(
	'state_file',
	'pg_autolauncher.naptime' => '10s',
	'pg_autolauncher.check_interval' => '200ms',
	'pg_autolauncher.max_visit_interval' => '1h',
	restart_after_crash => 'on');
my $file = $node->data_dir . '/pg_stat/pg_autolauncher.state';

# d1.t: 10 dead tuples, far below its threshold of 50 + 20% of 1,000, but
# over the lowest floor, 0.
$node->safe_psql('postgres', 'CREATE DATABASE d1');
$node->safe_psql(
	'd1', q{
	CREATE EXTENSION pg_autolauncher;
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 1000) g;
	SELECT pg_stat_force_next_flush();});
$node->safe_psql('d1', 'VACUUM ANALYZE t');
$node->safe_psql(
	'd1', q{
	UPDATE t SET v = v + 1 WHERE id <= 10;
	SELECT pg_stat_force_next_flush();});

# Wait until the launcher has learnt everything there is: every slot free,
# and no launch for 3 s.
sub wait_quiet
{
	my ($what) = @_;
	my $deadline = time() + 120;
	my ($last, $since) = (-1, time());
	while (time() < $deadline)
	{
		my $now = $node->safe_psql(
			'postgres', q{
			SELECT workers_launched || ':' || active_workers
			  FROM autolauncher.status});
		my ($launched, $active) = split /:/, $now;
		($last, $since) = ($launched, time()) if $launched != $last || $active > 0;
		return pass($what) if time() - $since >= 3;
		sleep(0.2);
	}
	return fail($what);
}

ok( $node->poll_query_until(
		'postgres', q{
		SELECT state = 'known' FROM autolauncher.databases WHERE datname = 'd1'}),
	'a worker verified d1 and learnt its tables');
wait_quiet('the cluster is quiet');

# Launches in a 15 s window (over a naptime) after a start.
sub launches_after_start
{
	sleep(15);
	return al_status($node, 'workers_launched');
}

# Control: a clean restart without the file forgets, and verifies again.
$node->stop;
ok(-e $file, 'a clean shutdown saved the state file');
unlink($file) or die "could not remove $file: $!";
$node->start;
ok( $node->poll_query_until(
		'postgres', 'SELECT workers_launched > 0 FROM autolauncher.status'),
	'without the file, a worker went to verify what was forgotten');
is( $node->safe_psql(
		'd1', "SELECT schedule FROM autolauncher.tables WHERE relname = 't'"),
	'idle', 'and learnt d1.t again');
wait_quiet('the cluster is quiet again');

# A clean restart with the file: everything known, no launch at all.
$node->stop;
my $offset = -s $node->logfile;
$node->start;
like(
	slurp_file($node->logfile, $offset),
	qr/LOG:  pg_autolauncher restored what it knew of [2-9]\d* databases and [1-9]\d* tables/,
	'the launcher restored what it knew');
ok(!-e $file, 'and removed the file');
is( $node->safe_psql(
		'postgres', "SELECT state FROM autolauncher.databases WHERE datname = 'd1'"),
	'known', 'd1 is known from the start');
is( $node->safe_psql(
		'd1', "SELECT schedule FROM autolauncher.tables WHERE relname = 't'"),
	'idle', 'and so is d1.t, below its threshold');
is(launches_after_start(), '0',
	'no worker was launched in 15 s after the restart');

# A crash: a launcher that exited saved the file, but the server then
# crash-restarts; the file is discarded, as core discards its statistics.
my $launcher = al_status($node, 'launcher_pid');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT launcher_pid IS NOT NULL AND launcher_pid <> $launcher
		  FROM autolauncher.status}),
	'the launcher was restarted');
ok(-e $file, 'the exiting launcher saved the file');
$offset = -s $node->logfile;
my $victim = $node->background_psql('postgres');
my $pid = $victim->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $pid;
$node->wait_for_log(qr/LOG:  pg_autolauncher discarded its state file: the server did not shut down cleanly/,
	$offset);
pass('after the crash, the launcher discarded its state file');
eval { $victim->quit };
ok( $node->poll_query_until(
		'postgres', "SELECT state = 'new' FROM autolauncher.databases WHERE datname = 'd1'"),
	'and d1 is unknown again');
ok(!-e $file, 'the file is gone');

al_wait_slots_free($node);
$node->stop;
done_testing();
