# Case 5 of the crash semantics: DDL that needs a database to itself must
# not fail with "being accessed by other users" because one of our
# workers is in it, as core guarantees for its own autovacuum workers.
# Each statement runs while a worker is in the middle of vacuuming a large
# table.  pg_stat_statements is preloaded before us: our hook must still
# call its hook.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'ddl',
	shared_preload_libraries => "'pg_stat_statements,pg_autolauncher'",
	'pg_autolauncher.enabled' => 'off');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements');

my $tsdir = $node->basedir . '/ts';
mkdir $tsdir or die "mkdir $tsdir: $!";
$node->safe_psql('postgres', "CREATE TABLESPACE ts LOCATION '$tsdir'");

# Start a worker vacuuming a large table in $db; return its pid.
sub busy_worker
{
	my ($db) = @_;
	al_slow_table($node, $db, 'big', 30000);
	$node->safe_psql('postgres', "SELECT autolauncher.request('$db')");
	return al_wait_running($node, $db, 'big');
}

# Run $sql while a worker is busy in $db; it must succeed.
sub ddl_ok
{
	my ($db, $sql) = @_;
	my $pid = busy_worker($db);
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
	is($ret, 0, "$sql succeeds while a worker vacuums $db")
	  or diag $stderr;
	unlike($stderr, qr/being accessed by other users/,
		'no "being accessed by other users"');
	al_wait_slots_free($node, 'the worker left and freed its slot');
	ok(!kill(0, $pid), 'the worker process is gone');
	return;
}

$node->safe_psql('postgres', "CREATE DATABASE $_")
  for qw(d_drop d_rename d_move d_template);

ddl_ok('d_drop', 'DROP DATABASE d_drop');
ddl_ok('d_rename', 'ALTER DATABASE d_rename RENAME TO d_renamed');
ddl_ok('d_move', 'ALTER DATABASE d_move SET TABLESPACE ts');
ddl_ok('d_template', 'CREATE DATABASE d_copy TEMPLATE d_template');
# a plain CREATE DATABASE copies template1
ddl_ok('template1', 'CREATE DATABASE d_plain');
$node->safe_psql('template1', 'DROP TABLE big');

is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database
		   WHERE datname LIKE 'd\_%'}),
	'd_copy,d_move,d_plain,d_renamed,d_template',
	'every command took effect');
is( $node->safe_psql(
		'postgres',
		"SELECT spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE datname = 'd_move'"
	),
	'ts',
	'd_move is in its new tablespace');

# The other ProcessUtility hook in the chain, pg_stat_statements', saw
# every one of the statements.
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM pg_stat_statements
		 WHERE query ~ '^(DROP DATABASE d_drop|ALTER DATABASE d_rename|ALTER DATABASE d_move|CREATE DATABASE d_copy|CREATE DATABASE d_plain)'}
	),
	'5',
	'pg_stat_statements, hooked before us, recorded all five statements');

#
# While such a command runs, no worker is sent into its database.  Session
# A holds d_copy's lock in an open transaction, so DROP DATABASE (session
# B) waits for it; meanwhile request() is refused.
#
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; ALTER DATABASE d_copy RENAME TO d_copy_tmp;');
my $dropper = $node->background_psql('postgres', on_error_stop => 0);
my $dropper_pid = $dropper->query_safe('SELECT pg_backend_pid()');
$dropper->query_until(qr/dropping/, "\\echo dropping\nDROP DATABASE d_copy;\n");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_locks WHERE pid = $dropper_pid AND NOT granted AND locktype = 'object'"
	),
	'DROP DATABASE waits for the database lock');
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', "SELECT autolauncher.request('d_copy')");
isnt($ret, 0, 'request() is refused while DROP DATABASE runs');
like(
	$stderr,
	qr/database "d_copy" is being dropped or altered/,
	'with a clear message');
$holder->query_safe('ROLLBACK');
$holder->quit;
$dropper->quit;
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_database WHERE datname LIKE 'd\\_copy%'"),
	'0', 'the DROP went through once the lock was released');

# Once the command is over, the database can be served again.
$node->safe_psql('d_renamed',
	'DROP TABLE big; CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t'
);
like($node->safe_psql('postgres', "SELECT autolauncher.request('d_renamed')"),
	qr/^\d+$/, 'request() works again after the DDL');
al_wait_slots_free($node);
al_counters_balance($node);

$node->stop;
done_testing();
