# Long-running processes must not grow.  The launcher makes hundreds of
# passes with statistics moving in one of 50 databases, and its memory
# (pg_log_backend_memory_contexts, "Grand total") must stay flat.  A worker
# processes hundreds of tables in one visit, and the memory it owns must
# stay flat from one table to the next.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'memory',
	'pg_autolauncher.check_interval' => '100ms',
	'pg_autolauncher.naptime' => '1h',
	'pg_autolauncher.max_visit_interval' => '1h',
	# no CPU cap, so that every wakeup makes a pass
	'pg_autolauncher.launcher_cpu_limit' => 100);

# Show which memory contexts grew between two al_memory_contexts().
sub diag_growth
{
	my ($before, $after) = @_;
	for my $name (sort keys %{ $after->{subtree} })
	{
		my $delta =
		  $after->{subtree}{$name} - ($before->{subtree}{$name} // 0);
		diag("$name grew by $delta bytes") if $delta != 0;
	}
	return;
}

#
# The launcher.
#
$node->safe_psql('postgres', "CREATE DATABASE db$_") for 1 .. 50;
$node->safe_psql('db7',
	'CREATE EXTENSION pg_autolauncher; CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT last_finished_at IS NOT NULL FROM autolauncher.databases
		 WHERE datname = 'db7'}),
	'db7 had its first visit');
al_wait_slots_free($node);
my $launcher = al_status($node, 'launcher_pid');

# Each round of this script moves db7's statistics (the UPDATE, with its
# counts flushed at once) and wakes the launcher for a pass; every other
# round also runs an ALTER DATABASE, after which the launcher reads
# pg_database again, in a transaction of its own, whose commit leaves it
# in TopMemoryContext.
my $passes = 500;
my $script = join('',
	map {
		"UPDATE t SET v = v + 1;\n"
		  . ($_ % 2 ? "ALTER DATABASE db7 CONNECTION LIMIT -1;\n" : '')
		  . "SELECT pg_stat_force_next_flush();\n"
		  . "SELECT autolauncher.wakeup();\n"
		  . "SELECT pg_sleep(0.01);\n"
	} 1 .. $passes);

# A first round warms up whatever the launcher caches once (its pgstats
# entry references, one per database), then the measured round.
$node->safe_psql('db7', join('', (split /(?<=\n)/, $script)[ 0 .. 199 ]));
my $cycles_before = al_status($node, 'cycles');
my $before = al_memory_contexts($node, $launcher);
$node->safe_psql('db7', $script);
my $after = al_memory_contexts($node, $launcher);
my $cycles = al_status($node, 'cycles') - $cycles_before;

cmp_ok($cycles, '>=', $passes,
	"the launcher made $cycles passes with statistics moving");
is(al_status($node, 'launcher_pid'), $launcher, 'with the same launcher');
my $growth = $after->{grand_total} - $before->{grand_total};
cmp_ok($growth, '<=', 16384,
	"the launcher's memory stayed flat: $before->{grand_total} bytes before, "
	  . "$after->{grand_total} after $cycles passes")
  or diag_growth($before, $after);

#
# A worker.  One visit of a database with 3,000 tables, each with a dead
# tuple over a zero threshold.  Its memory is read twice in the middle of
# the visit.  What grows with every table it opens, PostgreSQL's caches of
# relations (CacheMemoryContext, the relcache and smgr hashes), is bounded
# by the database's size and is core's own; what the worker allocates per
# table must not grow: its own contexts and TopMemoryContext's own chunks.
#
al_reload($node,
	'pg_autolauncher.enabled' => 'off',
	autovacuum_vacuum_threshold => 0,
	autovacuum_analyze_threshold => 1000000);
$node->safe_psql('postgres', 'CREATE DATABASE many');
$node->safe_psql(
	'many', q{
	DO $$
	BEGIN
		FOR i IN 1 .. 3000 LOOP
			EXECUTE format('CREATE TABLE t%s (v int); INSERT INTO t%s VALUES (1), (2); DELETE FROM t%s WHERE v = 1', i, i, i);
		END LOOP;
	END $$;
	SELECT pg_stat_force_next_flush();});
$node->poll_query_until('many',
	"SELECT count(*) = 3000 FROM pg_stat_user_tables WHERE n_dead_tup > 0")
  or die 'the dead tuples never became visible';

$node->safe_psql('postgres', "SELECT autolauncher.request('many')");
ok( $node->poll_query_until(
		'postgres', q{
		SELECT tables_done >= 150 FROM autolauncher.workers
		 WHERE datname = 'many' AND state = 'running'}),
	'the worker is 150 tables into its visit');
my $worker = $node->safe_psql('postgres',
	"SELECT pid FROM autolauncher.workers WHERE datname = 'many'");
my $early = al_memory_contexts($node, $worker);
ok( $node->poll_query_until(
		'postgres', q{
		SELECT tables_done >= 700 FROM autolauncher.workers
		 WHERE datname = 'many' AND state = 'running'}),
	'the worker is 700 tables into its visit');
my $late = al_memory_contexts($node, $worker);

# the memory the worker owns: its contexts and TopMemoryContext's chunks
sub owned
{
	my ($m) = @_;
	my $total = $m->{own}{TopMemoryContext} // 0;
	$total += $m->{subtree}{$_} // 0
	  for ('pg_autolauncher worker', 'TopTransactionContext');
	return $total;
}
my $owned_growth = owned($late) - owned($early);
cmp_ok($owned_growth, '<=', 16384,
	'the memory the worker owns stayed flat over 550 tables: '
	  . owned($early) . ' bytes, then ' . owned($late))
  or diag_growth($early, $late);
my $cache_growth =
  ($late->{subtree}{CacheMemoryContext} // 0) -
  ($early->{subtree}{CacheMemoryContext} // 0);
note("CacheMemoryContext grew by $cache_growth bytes over 550 tables: "
	  . "PostgreSQL's relation cache, bounded by the database's size");

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
