# Nothing is missed where the launcher knows nothing, and nothing is paid
# to learn.
#  - A database no worker ever visited, with a table whose own reloptions
#    set a threshold far below the GUCs', is still processed when that
#    table crosses its own threshold: until a worker reads a table, the
#    launcher judges it with the lowest threshold reloptions allow.  No
#    visit was made just to learn the reloptions; the one that came for
#    the table scans the database, and learns them all.
#  - In a database whose floor is known, ALTER TABLE ... SET
#    (autovacuum_*) lowers the floor at once (the DDL hook), so the table's
#    new, lower threshold counts before any worker reads it.  A command that
#    fails, or rolls back, changes nothing.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = al_node(
	'unknown_database',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.naptime' => '60s',
	'pg_autolauncher.max_visit_interval' => '1h');

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql(
	'fresh', q{
	CREATE TABLE low (id int PRIMARY KEY, v int)
		WITH (autovacuum_vacuum_threshold = 0,
			  autovacuum_vacuum_scale_factor = 0);
	CREATE TABLE normal (id int PRIMARY KEY, v int);
	INSERT INTO low SELECT g, 0 FROM generate_series(1, 1000) g;
	INSERT INTO normal SELECT g, 0 FROM generate_series(1, 1000) g;});
# every counter of the database back to zero: nothing is due
$node->safe_psql('fresh', 'VACUUM ANALYZE');
$node->safe_psql('fresh', 'SELECT pg_stat_force_next_flush()');

sub fresh_dispatches
{
	return $node->safe_psql('postgres',
		"SELECT dispatch_count FROM autolauncher.databases WHERE datname = 'fresh'"
	);
}

sub vacuums
{
	my ($table) = @_;
	return $node->safe_psql('fresh',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = '$table'");
}

al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT reason = 'below thresholds' FROM autolauncher.databases
		 WHERE datname = 'fresh'}),
	'the launcher looked at fresh and found nothing due');
# (VACUUM ANALYZE left dead tuples in pg_statistic, which a worker may
# have checked meanwhile: a catalog the launcher did not know yet.)
al_wait_slots_free($node);
# a measurement window: an idle database gets no visit
my $dispatches = fresh_dispatches();
my $end = time() + 5;
sleep(0.5) while time() < $end;
is(fresh_dispatches(), $dispatches, 'then fresh got no visit: none was needed');

# 5 dead tuples in low: over its own threshold (0), far below the GUCs'
# (50 + 20% of 1000).
my $before = vacuums('low');
$node->safe_psql('fresh',
	'DELETE FROM low WHERE id <= 5; SELECT pg_stat_force_next_flush()');
ok( $node->poll_query_until(
		'fresh',
		"SELECT autovacuum_count > $before FROM pg_stat_user_tables WHERE relname = 'low'"),
	'low is vacuumed when 5 dead tuples cross its own threshold of 0');
is( $node->safe_psql(
		'postgres',
		"SELECT scan_count > 0 AND state = 'known' FROM autolauncher.databases WHERE datname = 'fresh'"),
	't',
	'the worker sent to a database of unknown floor scanned it: now known');

# The same 5 dead tuples in normal are below its threshold: a worker
# checks them once (normal is not read yet), and does not vacuum.
al_wait_slots_free($node);
$before = vacuums('normal');
my $launched = al_status($node, 'workers_launched');
$node->safe_psql('fresh',
	'DELETE FROM normal WHERE id <= 5; SELECT pg_stat_force_next_flush()');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_autolauncher');
ok( $node->poll_query_until(
		'fresh',
		"SELECT schedule = 'idle' FROM autolauncher.tables WHERE relname = 'normal'"),
	'normal is checked, and known from then on');
is(vacuums('normal'), $before, 'but not vacuumed: it is below its threshold');
al_wait_slots_free($node);
$launched = al_status($node, 'workers_launched');
$node->safe_psql('fresh',
	'DELETE FROM normal WHERE id <= 10; SELECT pg_stat_force_next_flush()');
$end = time() + 5;
sleep(0.5) while time() < $end;
is(al_status($node, 'workers_launched'), $launched,
	'more dead tuples below its known threshold: no worker');

#
# ALTER TABLE ... SET (autovacuum_*) in a database whose floor is known.
#
$node->safe_psql('postgres', "SELECT autolauncher.request('fresh')");
al_wait_slots_free($node);
is( $node->safe_psql(
		'postgres', "SELECT state FROM autolauncher.databases WHERE datname = 'fresh'"),
	'known', 'a scan made the floor of fresh known');
$node->safe_psql('fresh',
	'CREATE ROLE mallory LOGIN; GRANT SELECT ON normal TO mallory');

# A refused command and a rolled-back one change nothing.
my ($ret, $out, $err) = $node->psql('fresh',
	'ALTER TABLE normal SET (autovacuum_vacuum_threshold = 0)',
	extra_params => [ '-U', 'mallory' ]);
like($err, qr/must be owner of table normal/, 'mallory may not alter normal');
$node->safe_psql('fresh',
	'BEGIN; ALTER TABLE normal SET (autovacuum_vacuum_threshold = 0); ROLLBACK');
is( $node->safe_psql(
		'fresh',
		"SELECT (SELECT state FROM autolauncher.databases WHERE datname = 'fresh') || ','"
		  . " || (SELECT schedule FROM autolauncher.tables WHERE relname = 'normal')"),
	'known,idle',
	'the refused and the rolled-back ALTER TABLE left floor and table as they were');

# The owner's, committed: the floor drops, and normal is judged with it.
# (Launcher off meanwhile, so that what the hook did can be seen before
# a worker acts on it.)
al_reload($node, 'pg_autolauncher.enabled' => 'off');
$node->safe_psql('fresh',
	'ALTER TABLE normal SET (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0)');
is( $node->safe_psql(
		'fresh',
		"SELECT (SELECT state FROM autolauncher.databases WHERE datname = 'fresh') || ','"
		  . " || (SELECT schedule FROM autolauncher.tables WHERE relname = 'normal')"),
	'new,unknown',
	'ALTER TABLE ... SET (autovacuum_*) lowered the floor of fresh and forgot what normal was');
my $scans = $node->safe_psql('postgres',
	"SELECT scan_count FROM autolauncher.databases WHERE datname = 'fresh'");
$before = vacuums('normal');
al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( $node->poll_query_until(
		'fresh',
		"SELECT autovacuum_count > $before FROM pg_stat_user_tables WHERE relname = 'normal'"),
	'normal, with 10 dead tuples, is vacuumed by its new threshold of 0');
ok( $node->poll_query_until(
		'postgres',
		"SELECT scan_count > $scans AND state = 'known' FROM autolauncher.databases WHERE datname = 'fresh'"),
	'and the worker scanned fresh, whose floor it knows again');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
