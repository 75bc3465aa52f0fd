# The DDL hook acts only for commands that will pass core's own checks.
# A role that may not DROP, RENAME or CREATE FROM a database gets core's
# error and leaves the worker there alone: no termination, no failure, no
# backoff.  A role that may, owner or CREATEDB, gets its command through,
# and the worker it ended counts as ended by DDL, not as a failure.  A
# DDL block dies with its backend, and a later backend that reuses the PID
# does not inherit it.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node('ddl_privileges', 'pg_autolauncher.enabled' => 'off');
al_enable_injection($node);

$node->safe_psql(
	'postgres', q{
	CREATE ROLE nobody LOGIN;
	CREATE ROLE creator LOGIN CREATEDB;
	CREATE ROLE dbowner LOGIN CREATEDB;
	CREATE DATABASE target;
	CREATE DATABASE owned OWNER dbowner;
	CREATE DATABASE renamed_by_owner OWNER dbowner;
	CREATE DATABASE forced OWNER dbowner;});

# Start a worker vacuuming a table that never finishes in $db; return its pid.
sub busy_worker
{
	my ($db) = @_;
	al_slow_table($node, $db, 'big', 30000);
	$node->safe_psql('postgres', "SELECT autolauncher.request('$db')");
	return al_wait_running($node, $db, 'big');
}

sub counters
{
	return $node->safe_psql('postgres',
		'SELECT worker_failures, workers_ddl_terminated FROM autolauncher.status'
	);
}

#
# Refused commands leave the worker alone.
#
my $pid = busy_worker('target');
my $tpid = busy_worker('template1');
my $before = counters();

my @refused = (
	[ 'nobody', 'postgres', 'DROP DATABASE target', qr/must be owner of database target/ ],
	[ 'nobody', 'postgres', 'ALTER DATABASE target RENAME TO gone', qr/must be owner of database target/ ],
	[ 'nobody', 'postgres', 'CREATE DATABASE copy1 TEMPLATE target', qr/permission denied to create database/ ],
	[ 'nobody', 'postgres', 'CREATE DATABASE plain1', qr/permission denied to create database/ ],
	[ 'creator', 'postgres', 'CREATE DATABASE copy2 TEMPLATE target', qr/permission denied to copy database "target"/ ],
	[ 'postgres', 'postgres', "BEGIN; DROP DATABASE target", qr/DROP DATABASE cannot run inside a transaction block/ ],
	[ 'postgres', 'postgres', "SET default_transaction_read_only = on; DROP DATABASE target", qr/cannot execute DROP DATABASE in a read-only transaction/ ],
	[ 'postgres', 'target', 'DROP DATABASE target', qr/cannot drop the currently open database/ ],
	[ 'postgres', 'postgres', "BEGIN; CREATE DATABASE plain2", qr/CREATE DATABASE cannot run inside a transaction block/ ],
);
for my $case (@refused)
{
	my ($role, $db, $sql, $error) = @$case;
	my ($ret, $stdout, $stderr) =
	  $node->psql($db, $sql, extra_params => [ '-U', $role ]);
	isnt($ret, 0, "as $role: $sql fails");
	like($stderr, $error, '  with core\'s own error');
}
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(datname || ':' || pid, ',' ORDER BY datname)
		  FROM autolauncher.workers WHERE state = 'running'}),
	"target:$pid,template1:$tpid",
	'both workers still run, with their own PIDs');
ok(kill(0, $pid) && kill(0, $tpid), 'and their processes are alive');
is(counters(), $before, 'no worker failure and no DDL termination was counted');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM autolauncher.databases
		 WHERE datname IN ('target', 'template1')
		   AND (failure_count > 0 OR backoff_until IS NOT NULL)}),
	'0',
	'neither database is backed off');

# Cancel the two vacuums: the workers end normally.
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid), pg_cancel_backend($tpid)");
al_wait_slots_free($node);
$node->safe_psql('template1', 'DROP TABLE big');

#
# Commands the caller may run go through, and end the worker without a
# failure being counted.
#
my ($failures0, $ddl0) = split /\|/, counters();
my @allowed = (
	[ 'dbowner', 'owned', 'DROP DATABASE owned' ],
	[ 'dbowner', 'renamed_by_owner', 'ALTER DATABASE renamed_by_owner RENAME TO renamed_done' ],
	# core's FORCE would refuse to end our (superuser) worker for a
	# non-superuser: the hook waits for the worker to be gone first
	[ 'dbowner', 'forced', 'DROP DATABASE forced WITH (FORCE)' ],
);
for my $case (@allowed)
{
	my ($role, $db, $sql) = @$case;
	my $wpid = busy_worker($db);
	my ($ret, $stdout, $stderr) =
	  $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	is($ret, 0, "as $role: $sql succeeds while a worker vacuums $db")
	  or diag $stderr;
	al_wait_slots_free($node, 'the worker left and freed its slot');
	ok(!kill(0, $wpid), 'the worker process is gone');
}
my ($failures1, $ddl1) = split /\|/, counters();
is($failures1, $failures0, 'no worker failure was counted');
is($ddl1, $ddl0 + 3, 'three workers counted as ended by DDL');
is( $node->safe_psql(
		'postgres', q{
		SELECT failure_count || ',' || (backoff_until IS NULL)
		  FROM autolauncher.databases WHERE datname = 'renamed_done'}),
	'0,true',
	'the renamed database has no failure and no backoff');
al_counters_balance($node);

#
# A DDL block dies with its backend: pg_terminate_backend() on a DROP
# DATABASE that waits for the database's lock.
#
$node->safe_psql('postgres', 'CREATE DATABASE held');
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; ALTER DATABASE held RENAME TO held_tmp;');
my $dropper = $node->background_psql('postgres', on_error_stop => 0);
my $dropper_pid = $dropper->query_safe('SELECT pg_backend_pid()');
$dropper->query_until(qr/dropping/, "\\echo dropping\nDROP DATABASE held;\n");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_locks WHERE pid = $dropper_pid AND NOT granted"
	),
	'DROP DATABASE waits for the lock');
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', "SELECT autolauncher.request('held')");
like($stderr, qr/database "held" is being dropped or altered/,
	'meanwhile request() is refused');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($dropper_pid)");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $dropper_pid"),
	'the dropping backend exited (FATAL)');
like($node->safe_psql('postgres', "SELECT autolauncher.request('held')"),
	qr/^\d+$/, 'and its block went with it: request() works at once');
$holder->query_safe('ROLLBACK');
$holder->quit;
# its psql lost its connection and exited: nothing to quit
eval { $dropper->quit };
al_wait_slots_free($node);

# A block left by a dead backend whose PID a live one now has (simulated:
# it names our PID, but another PGPROC) blocks nothing.
$node->safe_psql('postgres', 'CREATE DATABASE reused');
$node->safe_psql('postgres', "SELECT al_test_inject('stale_block', (SELECT oid FROM pg_database WHERE datname = 'reused'))");
like($node->safe_psql('postgres', "SELECT autolauncher.request('reused')"),
	qr/^\d+$/, 'a block whose PID was reused by another backend is ignored');
al_wait_slots_free($node);
al_counters_balance($node);

$node->stop;
done_testing();
