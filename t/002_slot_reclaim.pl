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
# the worker requested meanwhile waits for it in InitPostgres, and so does
# DROP DATABASE (session B).  The DROP's hook tells the waiting worker to
# exit: it never connects, and only the launcher can free its slot,
# through the stored handle.
$node->safe_psql('postgres', 'CREATE DATABASE victim');
my $victim_oid = $node->safe_psql('postgres',
	"SELECT oid FROM pg_database WHERE datname = 'victim'");

my $a = $node->background_psql('postgres');
$a->query_safe('BEGIN; ALTER DATABASE victim RENAME TO victim_renamed;');

my $slot = $node->safe_psql('postgres',
	"SELECT autolauncher.request('victim')");
like($slot, qr/^\d+$/, "request() returned slot $slot");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 FROM pg_locks
		 WHERE NOT granted AND locktype = 'object' AND objid = $victim_oid}),
	'the worker waits for the database lock to connect');
is( $node->safe_psql(
		'postgres', "SELECT state FROM autolauncher.workers WHERE slot = $slot"),
	'requested',
	'its slot is requested while the worker has not connected');

my $log_offset = -s $node->logfile;
my $b = $node->background_psql('postgres', on_error_stop => 0);
$b->query_until(qr/dropping/, "\\echo dropping\nDROP DATABASE victim;\n");

al_wait_slots_free($node,
	'the launcher freed the slot of the worker that never connected');
like(
	slurp_file($node->logfile, $log_offset),
	qr/pg_autolauncher freed 1 worker slot whose worker ended before claiming it/,
	'the launcher reports the reclaimed slot');
is( $node->safe_psql(
		'postgres',
		'SELECT worker_failures || \',\' || workers_ddl_terminated FROM autolauncher.status'
	),
	'0,1',
	'DROP DATABASE ended the lost worker: not a failure, a DDL termination');

$a->query_safe('ROLLBACK');
$a->quit;
$b->quit;
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_database WHERE oid = $victim_oid"),
	'0', 'the database was dropped');

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
# 3. pg_cancel_backend() cancels the current table only: the worker goes on
#    and ends normally.
#
$node->safe_psql('busy', 'CREATE TABLE small AS SELECT generate_series(1, 5000) AS v; DELETE FROM small');
$slot = $node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
$pid = al_wait_running($node, 'busy', 'big');
my $finished_before = al_status($node, 'workers_finished');
my $offset = -s $node->logfile;
is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"),
	't', 'pg_cancel_backend on the worker');
al_wait_slots_free($node, 'the worker freed its slot after the cancel');
like(
	slurp_file($node->logfile, $offset),
	qr/LOG:  canceling autovacuum task\n(?:.*\n)*?.*automatic vacuum of table "busy.public.big"/,
	'the cancel ended the vacuum of big, with its context');
is(al_status($node, 'workers_finished'),
	$finished_before + 1, 'the worker went on and finished normally');
is(al_status($node, 'tables_cancelled'), '1', 'the cancel is counted');
is( $node->safe_psql(
		'busy',
		"SELECT autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 'small'"),
	't',
	'it processed its other table too');

#
# Whatever happened, nothing is left pending.
#
is(al_slot_states($node), join(',', ('free') x 8), 'all 8 slots end free');
al_counters_balance($node);

$node->stop;
done_testing();
