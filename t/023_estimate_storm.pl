# The launcher's estimate cannot cause a launch storm.  A database that no
# worker has scanned is judged with the lowest floor reloptions allow, so
# that any change there may be due: the first one brings a worker, which
# scans pg_class and teaches the launcher every table's own thresholds.
# From then on each table is judged exactly, by core's formulas.  Here 30
# large tables, far below their thresholds but over the lowest floor,
# change one per second: the first change (or the setup's own) brings one
# worker, the thirty others none, and no large table is vacuumed.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'estimate_storm',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.naptime' => '10s',
	'pg_autolauncher.check_interval' => '200ms',
	'pg_autolauncher.max_visit_interval' => '1h');

# tiny's reloption makes the database's real floor 50 dead tuples.
$node->safe_psql('postgres', 'CREATE DATABASE storm');
$node->safe_psql(
	'storm', q{
	CREATE EXTENSION pg_autolauncher;
	CREATE TABLE tiny (v int) WITH (autovacuum_vacuum_scale_factor = 0);
	INSERT INTO tiny VALUES (1);
	DO $$
	BEGIN
		FOR i IN 1 .. 30 LOOP
			EXECUTE format('CREATE TABLE b%s (id int PRIMARY KEY, v int)', i);
			EXECUTE format('INSERT INTO b%s SELECT g, 0 FROM generate_series(1, 20000) g', i);
		END LOOP;
	END $$;
	SELECT pg_stat_force_next_flush();});
# (after the inserts' statistics are flushed, or they would count after it)
$node->safe_psql('storm', 'VACUUM ANALYZE');
my $vacuums_sql =
  "SELECT sum(autovacuum_count) FROM pg_stat_user_tables WHERE relname LIKE 'b%'";
my $vacuums0 = $node->safe_psql('storm', $vacuums_sql);
al_reload($node, 'pg_autolauncher.enabled' => 'on');

# One large table a second gets 100 dead tuples: over the floor of 50, far
# below its own threshold of 50 + 20% of 20,000.
sub update_tables
{
	my ($from, $to) = @_;
	$node->safe_psql('storm',
		join('',
			map {
				"UPDATE b$_ SET v = v + 1 WHERE id <= 100;\n"
				  . "SELECT pg_stat_force_next_flush();\n"
				  . "SELECT pg_sleep(1);\n"
			} $from .. $to));
	return;
}

update_tables(1, 1);
ok( $node->poll_query_until(
		'postgres', q{
		SELECT state = 'known' AND scan_count >= 1
		  FROM autolauncher.databases WHERE datname = 'storm'}),
	'a worker scanned storm once it changed');
al_wait_slots_free($node);
my $dispatches0 = $node->safe_psql('postgres',
	"SELECT dispatch_count FROM autolauncher.databases WHERE datname = 'storm'");
cmp_ok($dispatches0, '<=', 2, "$dispatches0 workers went to storm to learn it");
is( $node->safe_psql(
		'storm', q{
		SELECT count(*) FROM autolauncher.tables
		 WHERE relname LIKE 'b%' AND schedule = 'idle'}),
	'30',
	'every large table is known, and judged below its threshold');

update_tables(2, 30);
is( $node->safe_psql(
		'postgres',
		"SELECT dispatch_count - $dispatches0 FROM autolauncher.databases WHERE datname = 'storm'"
	),
	'0',
	'29 more changes over the floor, in 29 s: no more workers went to storm');
is( $node->safe_psql(
		'postgres', "SELECT reason FROM autolauncher.databases WHERE datname = 'storm'"),
	'below thresholds',
	'autolauncher.databases says why');
is($node->safe_psql('storm', $vacuums_sql),
	$vacuums0, 'no large table was vacuumed: none was due');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
