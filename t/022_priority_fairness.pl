# Priorities and fairness: inside a database the worker takes the table
# with the highest score first, not pg_class order; the per-database cap
# holds, a second worker takes only tables no other holds, and a busy
# database does not starve another.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'priority',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.max_workers' => '3',
	'pg_autolauncher.max_workers_per_database' => '1');

#
# Priority order.  "first" comes first in pg_class, but "urgent" has ten
# times more dead tuples for its threshold.
#
$node->safe_psql('postgres', 'CREATE DATABASE prio');
$node->safe_psql(
	'prio', q{
	CREATE EXTENSION pg_autolauncher;
	CREATE TABLE first (v int);
	CREATE TABLE urgent (v int);
	INSERT INTO first SELECT generate_series(1, 1000);
	INSERT INTO urgent SELECT generate_series(1, 1000);});
$node->safe_psql('prio', 'VACUUM ANALYZE first, urgent');
$node->safe_psql('prio',
	'DELETE FROM first WHERE v <= 300; DELETE FROM urgent WHERE v <= 900');
$node->safe_psql('prio', 'SELECT pg_stat_force_next_flush()');

my ($first, $urgent) = split /\n/, $node->safe_psql(
	'prio', q{
	SELECT round(score::numeric, 1) FROM autolauncher.tables
	 WHERE relname IN ('first', 'urgent') ORDER BY relname});
cmp_ok($urgent, '>', $first,
	"autolauncher.tables scores urgent ($urgent) above first ($first)");
ok( $node->safe_psql(
		'prio',
		"SELECT 'first'::regclass::oid < 'urgent'::regclass::oid"),
	'first precedes urgent in pg_class');

$node->safe_psql('postgres', "SELECT autolauncher.request('prio')");
al_wait_slots_free($node);
is( $node->safe_psql(
		'prio', q{
		SELECT string_agg(relname, ',' ORDER BY last_autovacuum)
		  FROM pg_stat_user_tables WHERE relname IN ('first', 'urgent')}),
	'urgent,first',
	'the worker vacuumed urgent before first');

#
# Per-database cap and fairness.  "busy" has three tables whose vacuums
# never end; "other" has one table to vacuum.
#
$node->safe_psql('postgres', 'CREATE DATABASE busy');
al_slow_table($node, 'busy', "big$_", 20000) for 1 .. 3;
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other',
	'CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t');

al_reload($node, 'pg_autolauncher.enabled' => 'on');

my $count_busy = q{SELECT count(*) FROM autolauncher.workers
	WHERE datname = 'busy' AND state <> 'free'};
ok( $node->poll_query_until(
		'other',
		"SELECT autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 't'"),
	'other is vacuumed while busy has endless work');
ok($node->poll_query_until('postgres', "SELECT ($count_busy) = 1"),
	'busy has a worker');
my $max_seen = 0;
for (1 .. 20)
{
	my $n = $node->safe_psql('postgres', $count_busy);
	$max_seen = $n if $n > $max_seen;
	$node->safe_psql('postgres', 'SELECT autolauncher.wakeup(), pg_sleep(0.1)');
}
is($max_seen, 1,
	'max_workers_per_database = 1: never more than one worker in busy');

# Raise the cap to 2: a second worker joins, on another table.
al_reload($node, 'pg_autolauncher.max_workers_per_database' => 2);
ok($node->poll_query_until('postgres', "SELECT ($count_busy) = 2"),
	'with max_workers_per_database = 2, a second worker joins busy');
$max_seen = 0;
for (1 .. 20)
{
	my $n = $node->safe_psql('postgres', $count_busy);
	$max_seen = $n if $n > $max_seen;
	$node->safe_psql('postgres', 'SELECT autolauncher.wakeup(), pg_sleep(0.1)');
}
is($max_seen, 2, 'and never a third, although three tables need work');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(DISTINCT relid) = 2 FROM autolauncher.workers
		 WHERE datname = 'busy' AND state = 'running' AND relid IS NOT NULL}),
	'the two workers in busy hold different tables');

# DROP DATABASE stops the endless workers.
$node->safe_psql('postgres', 'DROP DATABASE busy');
al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
