# Case 8 of the crash semantics: max_worker_processes is too small.
#
# Set too low in the configuration for our processes and
# max_parallel_workers, it is raised by ours, with a WARNING that says what
# to set.  Set just high enough, but with other background workers taking
# what we counted on, the launcher fails to register workers, logs it
# clearly at most once per cycle, counts it, retries, and resumes when a
# slot frees up.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tight = PostgreSQL::Test::Cluster->new('tight');
$tight->init;
$tight->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_autolauncher'
autovacuum = off
max_worker_processes = 16
});
$tight->start;
is($tight->safe_psql('postgres', 'SHOW max_worker_processes'),
	'25', 'max_worker_processes = 16 in the configuration: 25 in force');
like(
	slurp_file($tight->logfile),
	qr/WARNING:  max_worker_processes \(16\) is too low for pg_autolauncher: raised to 25
.*DETAIL:  pg_autolauncher uses up to 9 background worker processes, its launcher and pg_autolauncher.worker_slots \(8\), and max_parallel_workers \(8\) must remain beside them.
.*HINT:  Set max_worker_processes to 25, or to at least 17, in the configuration./,
	'the log says why, and what to set');
$tight->stop;

# Three background worker processes: exactly our launcher and two worker
# slots, with no parallel workers.  But the logical replication launcher
# takes one, so only one of our workers can run.
my $node = al_node(
	'exhaustion',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.worker_slots' => '2',
	'pg_autolauncher.max_workers' => '2',
	'pg_autolauncher.fast_lane_workers' => '0',
	max_parallel_workers => '0',
	max_worker_processes => '3');
is($node->safe_psql('postgres', 'SHOW max_worker_processes'),
	'3', 'a max_worker_processes set in the configuration is left as it is');

$node->safe_psql('postgres', 'CREATE DATABASE busy');
$node->safe_psql('postgres', 'CREATE DATABASE other');
al_slow_table($node, 'busy', 'big', 50000);
$node->safe_psql('other',
	'CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t');

# A manual worker takes the only free background worker slot.
$node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
my $busy_pid = al_wait_running($node, 'busy', 'big');

my $offset = -s $node->logfile;
my $cycles_before = al_status($node, 'cycles');
al_reload($node, 'pg_autolauncher.enabled' => 'on');

ok( $node->poll_query_until(
		'postgres', 'SELECT launch_failures >= 3 FROM autolauncher.status'),
	'the launcher fails to register workers, and retries');
my $cycles = al_status($node, 'cycles') - $cycles_before;
my $log = slurp_file($node->logfile, $offset);
my $lines = () = $log =~
  /LOG:  pg_autolauncher could not start a worker for database \d+: no free background worker slot/g;
cmp_ok($lines, '>=', 1, "the failure is logged ($lines lines)");
cmp_ok($lines, '<=', $cycles, "at most one line per cycle ($cycles cycles)");
like(
	$log,
	qr/HINT:  Raise max_worker_processes, or lower pg_autolauncher.max_workers/,
	'the log line says what to do');
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM autolauncher.workers WHERE state <> 'free'"),
	'1',
	'failed registrations leave no slot behind');

# Free the background worker slot: the launcher resumes.
$node->safe_psql('postgres', "SELECT pg_terminate_backend($busy_pid)");
$node->safe_psql('busy', 'DROP TABLE big');
al_wait_vacuumed($node, 'other', 't',
	'once a slot is free the launcher resumes and other is vacuumed');

al_wait_slots_free($node);
al_counters_balance($node);

$node->stop;
done_testing();
