# Our workers yield to lock waiters as core's autovacuum workers do: a
# TRUNCATE or ALTER TABLE that waits for a worker's lock longer than
# deadlock_timeout cancels that worker's vacuum of the table, which is
# logged, counted, and done again later.  An anti-wraparound vacuum is not
# cancelled.  The worker's vacuum shows in pg_stat_progress_vacuum.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = al_node(
	'lock_yield',
	'pg_autolauncher.enabled' => 'off',
	deadlock_timeout => '100ms',
	# the deadlock checker reports the cancels it sends at DEBUG1
	log_min_messages => 'debug1');
$node->safe_psql('postgres', 'CREATE DATABASE app');

# Run $sql against a worker vacuuming app.$table; return its duration.
sub timed_ddl
{
	my ($sql) = @_;
	my $start = time();
	$node->safe_psql('app', $sql);
	return time() - $start;
}

#
# ALTER TABLE, with the vacuum's progress checked first.
#
al_slow_table($node, 'app', 'big', 30000);
$node->safe_psql('postgres', "SELECT autolauncher.request('app')");
my $pid = al_wait_running($node, 'app', 'big');

ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 1
		  FROM autolauncher.workers w JOIN pg_stat_progress_vacuum p USING (pid)
		 WHERE w.relname = 'big' AND p.datname = 'app'
		   AND p.relid = w.relid}),
	'pg_stat_progress_vacuum shows the worker vacuuming big');

my $offset = -s $node->logfile;
my $elapsed = timed_ddl(
	'ALTER TABLE big SET (autovacuum_vacuum_cost_delay = 0, autovacuum_vacuum_cost_limit = 10000)'
);
cmp_ok($elapsed, '<', 5,
	sprintf('ALTER TABLE did not wait for the vacuum (%.1fs)', $elapsed));
my $log = slurp_file($node->logfile, $offset);
like(
	$log,
	qr/LOG:  canceling autovacuum task\n.*DETAIL:  The pg_autolauncher worker in slot \d+ yielded the table.*\n.*CONTEXT:  automatic vacuum of table "app.public.big"/,
	'the worker logged that it yielded big');
like(
	$log,
	qr/sending cancel to blocking autovacuum PID $pid/,
	"the waiting session's deadlock check cancelled the worker, as it would core's"
);
is(al_status($node, 'tables_cancelled'), '1', 'the cancel is counted');

# The worker went on; the launcher comes back for big in a later visit.
al_wait_slots_free($node);
al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( $node->poll_query_until(
		'app',
		"SELECT n_dead_tup = 0 AND autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 'big'"
	),
	'big is vacuumed in a later visit');
al_wait_slots_free($node);
al_reload($node, 'pg_autolauncher.enabled' => 'off');

#
# TRUNCATE
#
al_slow_table($node, 'app', 'big2', 30000);
$node->safe_psql('postgres', "SELECT autolauncher.request('app')");
al_wait_running($node, 'app', 'big2');
$elapsed = timed_ddl('TRUNCATE big2');
cmp_ok($elapsed, '<', 5,
	sprintf('TRUNCATE did not wait for the vacuum (%.1fs)', $elapsed));
is(al_status($node, 'tables_cancelled'), '2', 'the second cancel is counted');
al_wait_slots_free($node);

#
# An anti-wraparound vacuum is not cancelled: the TRUNCATE waits.
#
$node->safe_psql(
	'app', q{
	CREATE TABLE wrap (id int, pad text)
		WITH (autovacuum_freeze_max_age = 100000,
			  autovacuum_vacuum_cost_delay = 100,
			  autovacuum_vacuum_cost_limit = 1);
	INSERT INTO wrap SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
	CREATE TABLE burn (v int);});
$node->safe_psql(
	'app', q{
	DO $$
	BEGIN
		FOR i IN 1 .. 100050 LOOP
			BEGIN
				INSERT INTO burn VALUES (i);
				RAISE EXCEPTION 'roll back';
			EXCEPTION WHEN raise_exception THEN
				NULL;
			END;
		END LOOP;
	END
	$$;});
$node->safe_psql('postgres', "SELECT autolauncher.request('app')");
ok( $node->poll_query_until(
		'postgres', q{
		SELECT wraparound FROM autolauncher.workers
		 WHERE datname = 'app' AND relname = 'wrap' AND state = 'running'}),
	'the worker runs an anti-wraparound vacuum of wrap');
my $wpid = $node->safe_psql('postgres',
	"SELECT pid FROM autolauncher.workers WHERE relname = 'wrap'");

my $truncate = $node->background_psql('app', on_error_stop => 0);
my $tpid = $truncate->query_safe('SELECT pg_backend_pid()');
$truncate->query_until(qr/truncating/, "\\echo truncating\nTRUNCATE wrap;\n");
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM pg_locks WHERE pid = $tpid AND NOT granted"),
	'TRUNCATE waits for the anti-wraparound vacuum');
# 20 times deadlock_timeout: an observation window, not a wait for an event
my $until = time() + 2;
1 while time() < $until && $node->safe_psql('postgres', 'SELECT 1');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_locks WHERE pid = $tpid AND NOT granted"),
	'1',
	'after 20 times deadlock_timeout TRUNCATE still waits');
is( $node->safe_psql(
		'postgres',
		"SELECT pid FROM autolauncher.workers WHERE relname = 'wrap' AND state = 'running'"
	),
	$wpid,
	'and the anti-wraparound vacuum goes on');
is(al_status($node, 'tables_cancelled'), '2', 'nothing was cancelled');

$node->safe_psql('postgres', "SELECT pg_terminate_backend($wpid)");
$truncate->quit;
is($node->safe_psql('app', 'SELECT count(*) FROM wrap'),
	'0', 'TRUNCATE ran once the worker was gone');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
