# Chaos soak: while pgbench runs on three databases, a loop at random
# intervals SIGKILLs workers (each kill is a crash-restart of the
# cluster), makes the launcher fail through the test hook, drops and
# re-creates a fourth database that has workers, flips enabled and
# max_workers with reloads, and calls request() on existing, missing and
# being-dropped databases.
#
# Afterwards, with the load stopped: every slot is free, no worker is left,
# the counters balance (launched = finished + failed + ended by DDL, since
# shared memory was last initialized, which each crash-restart does),
# pgbench's invariant
# holds in every database, amcheck finds the pgbench indexes sound, and
# every database gets vacuumed again.
#
# It runs for PG_AUTOLAUNCHER_SOAK_SECONDS seconds (180 by default).
# PG_AUTOLAUNCHER_SOAK_SEED replays a run: the seed is printed.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $duration = $ENV{PG_AUTOLAUNCHER_SOAK_SECONDS} // 180;
my $seed = $ENV{PG_AUTOLAUNCHER_SOAK_SEED} // int(time() * 1000) % 1000000;
srand($seed);
note "soak: $duration s, seed $seed";

my $node = al_node(
	'soak',
	restart_after_crash => 'on',
	'pg_autolauncher.check_interval' => '200ms',
	# pgbench's statements would make the log hundreds of megabytes
	log_statement => 'none',
	max_connections => 50);
al_enable_injection($node);
$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');

my @load_dbs = qw(db1 db2 db3);
for my $db (@load_dbs)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->command_ok(
		[ 'pgbench', '-i', '-q', '-s', '1', '-h', $node->host,
			'-p', $node->port, $db ],
		"pgbench -i in $db");
}

my $start = time();
my $end = $start + $duration;

# pgbench, one rate-limited client per database.  A crash-restart aborts
# it: start it again until the soak's time is up.
my %load;
my $load_runs = 0;

sub keep_load_running
{
	for my $db (@load_dbs)
	{
		my $h = $load{$db};
		if ($h)
		{
			eval { $h->{run}->pump_nb; };
			next if $h->{run}->pumpable;
			eval { $h->{run}->finish; };
		}
		my $left = int($end - time());
		if ($left < 1)
		{
			delete $load{$db};
			next;
		}
		my ($out, $err) = ('', '');
		my $run = IPC::Run::start(
			[ 'pgbench', '-n', '-c', '1', '-R', '100', '-T', $left,
				'-h', $node->host, '-p', $node->port, $db ],
			'>', \$out, '2>', \$err);
		$load{$db} = { run => $run, out => \$out, err => \$err };
		$load_runs++;
	}
	return;
}

# A psql call that may fail: the cluster may be in a crash-restart.
sub try_psql
{
	my ($db, $sql) = @_;
	my ($ret, $stdout, $stderr) =
	  $node->psql($db, $sql, on_error_die => 0, timeout => 60);
	return ($ret == 0, $stdout, $stderr);
}

sub wait_cluster_up
{
	$node->poll_query_until('postgres',
		'SELECT launcher_pid IS NOT NULL FROM autolauncher.status')
	  or die 'the cluster did not come back';
	return;
}

my %events;
my %unexpected;

# What request() says of db4 while it is dropped, or once it is.
my $db4_gone =
  qr/database "db4" does not exist|cannot vacuum invalid database "db4"/;

# Errors an event may meet besides the one it expects: the cluster in a
# crash-restart, every slot taken, a database being dropped.
my $expected_errors = qr/crash|terminat|connection|recovery mode|
  \Qall pg_autolauncher worker slots are in use\E|
  \Qis being dropped or altered\E/x;

# How process $pid, just sent SIGKILL, ended: 'killed' once the
# postmaster logs it after $offset, or 'exited' if it was reaped with no
# such line, because it had exited on its own (a normal exit is logged only
# at DEBUG1).  Dies after the default timeout.
sub wait_for_exit_of
{
	my ($pid, $offset) = @_;
	my $killed = qr/\(PID $pid\) was terminated by signal 9/;
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while (time() < $deadline)
	{
		return 'killed' if slurp_file($node->logfile, $offset) =~ $killed;
		if (!kill(0, $pid))
		{
			# reaped: the postmaster logs a crash right after reaping
			usleep(1_000_000);
			return slurp_file($node->logfile, $offset) =~ $killed
			  ? 'killed' : 'exited';
		}
		usleep(100_000);
	}
	die "process $pid never ended";
}

# SIGKILL a worker, if one appears within ten seconds.
sub event_kill_worker
{
	for (1 .. 100)
	{
		my ($ok, $pid) = try_psql('postgres',
			q{SELECT pid FROM pg_stat_activity
			  WHERE backend_type = 'pg_autolauncher worker' LIMIT 1});
		if ($ok && $pid)
		{
			my $offset = -s $node->logfile;
			next unless kill 'KILL', $pid;
			# A worker that exited just before the signal (not yet reaped)
			# takes no harm: the postmaster logs its normal exit instead.
			my $outcome = wait_for_exit_of($pid, $offset);
			next if $outcome eq 'exited';
			$node->wait_for_log(
				qr/all server processes terminated; reinitializing/, $offset);
			wait_cluster_up();
			return 'worker_killed';
		}
		usleep(100_000);
	}
	return 'no_worker_to_kill';
}

sub event_launcher_error
{
	my ($ok) = try_psql('postgres', "SELECT al_test_inject('launcher_loop')");
	return $ok ? 'launcher_error' : 'launcher_error_interrupted';
}

sub db4_exists
{
	my ($ok, $out) = try_psql('postgres',
		"SELECT count(*) FROM pg_database WHERE datname = 'db4'");
	return $ok && $out eq '1';
}

# Create db4 with a slowly vacuumed table and ask for a worker there, or
# drop it, with a request() for it racing the DROP.
sub event_drop_recreate
{
	if (!db4_exists())
	{
		my ($ok, undef, $err) = try_psql('postgres', 'CREATE DATABASE db4');
		return 'db4_create_interrupted' unless $ok;
		($ok) = try_psql(
			'db4', q{
			CREATE TABLE big (id int, v int, pad text)
				WITH (autovacuum_vacuum_cost_delay = 20,
					  autovacuum_vacuum_cost_limit = 10);
			INSERT INTO big SELECT g, 0, repeat('x', 100)
			  FROM generate_series(1, 20000) g;
			UPDATE big SET v = 1;});
		try_psql('postgres', "SELECT autolauncher.request('db4')") if $ok;
		return $ok ? 'db4_created' : 'db4_create_interrupted';
	}
	my ($out, $err) = ('', '');
	my $request = IPC::Run::start(
		[ 'psql', '-X', '-q', '-h', $node->host, '-p', $node->port,
			'-d', 'postgres', '-c', "SELECT autolauncher.request('db4')" ],
		'>', \$out, '2>', \$err);
	my ($ok, undef, $drop_err) = try_psql('postgres', 'DROP DATABASE db4');
	$request->finish;
	$events{request_during_drop}++;
	# the request either came first, or found the database gone or marked
	# invalid by the DROP in progress
	$unexpected{request_during_drop} = $err
	  if $err ne ''
	  && $err !~ $db4_gone
	  && $err !~ $expected_errors;
	$unexpected{drop} = $drop_err
	  if !$ok && $drop_err !~ $expected_errors;
	return $ok ? 'db4_dropped' : 'db4_drop_interrupted';
}

sub event_reload
{
	my $enabled = rand() < 0.3 ? 'off' : 'on';
	my $max = 1 + int(rand(4));
	my ($ok) = try_psql(
		'postgres', qq{
		ALTER SYSTEM SET pg_autolauncher.enabled = $enabled;
		ALTER SYSTEM SET pg_autolauncher.max_workers = $max;
		SELECT pg_reload_conf();});
	return $ok ? 'reload' : 'reload_interrupted';
}

sub event_request
{
	my $which = int(rand(3));
	my $db = ('db1', 'no_such_db', 'db4')[$which];
	my ($ok, undef, $err) =
	  try_psql('postgres', "SELECT autolauncher.request('$db')");
	if ($db eq 'no_such_db')
	{
		$unexpected{request_missing} = 'request() of a missing database succeeded'
		  if $ok;
		$unexpected{request_missing} = $err
		  if !$ok
		  && $err !~ /database "no_such_db" does not exist/
		  && $err !~ $expected_errors;
		return 'request_missing';
	}
	$unexpected{"request_$db"} = $err if !$ok && $err !~ $expected_errors
	  && !($db eq 'db4' && $err =~ $db4_gone);
	return $ok ? "request_existing" : "request_refused";
}

my @kinds = (
	[ \&event_kill_worker, 3 ],
	[ \&event_launcher_error, 1 ],
	[ \&event_drop_recreate, 3 ],
	[ \&event_reload, 3 ],
	[ \&event_request, 3 ]);
my $weight_sum = 0;
$weight_sum += $_->[1] for @kinds;

while (time() < $end)
{
	keep_load_running();
	usleep(int(200_000 + rand(2_000_000)));
	my $r = rand($weight_sum);
	for my $k (@kinds)
	{
		if (($r -= $k->[1]) < 0)
		{
			$events{ $k->[0]->() }++;
			last;
		}
	}
}
my $soak_seconds = int(time() - $start);

# Stop the chaos: load first, then settings back to normal.
for my $h (values %load)
{
	$h->{run}->finish;
}
wait_cluster_up();
$node->safe_psql(
	'postgres', q{
	SELECT al_test_inject('none');
	ALTER SYSTEM RESET pg_autolauncher.enabled;
	ALTER SYSTEM RESET pg_autolauncher.max_workers;
	SELECT pg_reload_conf();});
$node->safe_psql('postgres', 'CREATE DATABASE db4') unless db4_exists();

note join(', ', map { "$_=$events{$_}" } sort keys %events);
cmp_ok($events{$_} // 0, '>', 0, "the soak did $_ at least once")
  for qw(worker_killed launcher_error db4_created db4_dropped reload
  request_existing request_missing request_during_drop);
is_deeply(\%unexpected, {}, 'no unexpected error from any event');

my $violations = 0;

# Quiescence: every slot free, no worker process.
al_wait_slots_free($node, 'after the soak, every slot is free and no worker is left');
my $leaked = $node->safe_psql('postgres',
	"SELECT count(*) FROM autolauncher.workers WHERE state <> 'free'");
is($leaked, 0, 'no slot leaked');
$violations++ if $leaked != 0;

al_counters_balance($node) or $violations++;

for my $db (@load_dbs)
{
	my $sums = $node->safe_psql(
		$db, q{
		SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ',' ||
			   (SELECT sum(bbalance) FROM pgbench_branches) || ',' ||
			   (SELECT sum(tbalance) FROM pgbench_tellers) || ',' ||
			   (SELECT coalesce(sum(delta), 0) FROM pgbench_history)});
	my @s = split /,/, $sums;
	ok(@s == 4 && $s[0] == $s[1] && $s[1] == $s[2] && $s[2] == $s[3],
		"pgbench invariant in $db: accounts, branches, tellers and history sum to the same ($sums)"
	) or $violations++;

	$node->safe_psql($db, 'CREATE EXTENSION IF NOT EXISTS amcheck');
	my ($ret, $out, $err) = $node->psql(
		$db, q{
		SELECT bt_index_check(c.oid, true)
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE c.relname LIKE 'pgbench_%'});
	is($ret, 0, "bt_index_check passes on the pgbench indexes of $db")
	  or do { diag $err; $violations++ };
}

# A final cycle reaches every database.  The table is created, filled and
# updated in one transaction, so its first vacuum can only come after its
# 1000 dead tuples (the launcher may take it before we could look).
for my $db ('postgres', @load_dbs, 'db4')
{
	$node->safe_psql(
		$db, q{
		BEGIN;
		CREATE TABLE final_check (id int, v int);
		INSERT INTO final_check SELECT g, 0 FROM generate_series(1, 1000) g;
		UPDATE final_check SET v = 1;
		COMMIT;});
}
for my $db ('postgres', @load_dbs, 'db4')
{
	al_wait_vacuumed($node, $db, 'final_check',
		"after the soak, a worker vacuums $db");
}

diag sprintf(
	'soak summary: %d s, seed %d; events: %s; pgbench runs %d; slots leaked %d; invariant violations %d',
	$soak_seconds, $seed,
	join(' ', map { "$_=$events{$_}" } sort keys %events),
	$load_runs, $leaked, $violations);
is($violations, 0, 'no invariant violation');

$node->stop;
done_testing();
