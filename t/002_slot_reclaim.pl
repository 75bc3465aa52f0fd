# Slots never leak: a worker whose database is dropped before it connects,
# and a worker terminated in the middle of a vacuum, both leave their slot
# free.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# The launcher dispatches nothing on its own here; request() still works.
my $node = al_node('reclaim', 'pg_autolauncher.enabled' => 'off');

#
# 1. The database is dropped before the worker can connect.
#
# Session A holds the database's lock through an uncommitted RENAME, so
# that DROP DATABASE (session B) queues behind it, and the worker queues
# behind the DROP in InitPostgres.  When A rolls back, the DROP goes
# through first and the worker finds its database gone.
$node->safe_psql('postgres', 'CREATE DATABASE victim');
my $victim_oid = $node->safe_psql('postgres',
	"SELECT oid FROM pg_database WHERE datname = 'victim'");

my $a = $node->background_psql('postgres');
$a->query_safe('BEGIN; ALTER DATABASE victim RENAME TO victim_renamed;');

my $b = $node->background_psql('postgres', on_error_stop => 0);
my $b_pid = $b->query_safe('SELECT pg_backend_pid()');
$b->query_until(qr/dropping/, "\\echo dropping\nDROP DATABASE victim;\n");

ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 FROM pg_locks
		 WHERE pid = $b_pid AND NOT granted AND locktype = 'object'
		   AND objid = $victim_oid}),
	'DROP DATABASE waits for the database lock');

my $slot = $node->safe_psql('postgres',
	"SELECT autolauncher.request('victim')");
like($slot, qr/^\d+$/, "request() returned slot $slot");

ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 2 FROM pg_locks
		 WHERE NOT granted AND locktype = 'object' AND objid = $victim_oid}),
	'the worker waits behind DROP DATABASE to connect');
is( $node->safe_psql(
		'postgres', "SELECT state FROM autolauncher.workers WHERE slot = $slot"),
	'requested',
	'its slot is requested while the worker has not connected');

my $log_offset = -s $node->logfile;
$a->query_safe('ROLLBACK');
$a->quit;
$b->quit;

is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_database WHERE oid = $victim_oid"),
	'0', 'the database was dropped');

$node->wait_for_log(qr/database $victim_oid does not exist/, $log_offset);
pass('the worker failed to connect to the dropped database');

al_wait_slots_free($node,
	'the launcher freed the slot of the worker that never connected');
is($node->safe_psql('postgres',
	'SELECT worker_failures >= 1 FROM autolauncher.status'),
	't', 'the lost worker counts as a worker failure');

#
# 2. A running worker is terminated in the middle of a long vacuum.
#
$node->safe_psql('postgres', 'CREATE DATABASE busy');
$node->safe_psql(
	'busy', q{
	CREATE TABLE big (id int, v int, pad text)
		WITH (autovacuum_vacuum_cost_delay = 100,
			  autovacuum_vacuum_cost_limit = 1);
	INSERT INTO big SELECT g, 0, repeat('x', 100) FROM generate_series(1, 50000) g;
	VACUUM ANALYZE big;});
al_make_dead_tuples($node, 'busy', 'big', 50000);

$slot = $node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT state = 'running' AND relname = 'big' AND action LIKE 'vacuum%'
		  FROM autolauncher.workers WHERE slot = $slot}),
	'the worker is vacuuming busy.big');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM autolauncher.workers WHERE slot = $slot");
my $failures_before = al_status($node, 'worker_failures');

my $start = time();
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"),
	't', 'pg_terminate_backend on the worker');
al_wait_slots_free($node, 'the terminated worker freed its slot');
my $elapsed = time() - $start;
cmp_ok($elapsed, '<', 10,
	sprintf('SIGTERM interrupted the vacuum promptly (%.1fs)', $elapsed));

is(al_status($node, 'worker_failures'), $failures_before + 1,
	'the terminated worker counts as a worker failure');

#
# Whatever happened, nothing is left pending.
#
is(al_slot_states($node), join(',', ('free') x 8), 'all 8 slots end free');
my ($launched, $finished, $failures) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT workers_launched, workers_finished, worker_failures FROM autolauncher.status'
  );
is($launched, $finished + $failures,
	"launched ($launched) = finished ($finished) + failed ($failures)");

$node->stop;
done_testing();
