# The launcher's estimate cannot cause a launch storm.  It estimates other
# databases' tables with the lowest thresholds any table there has, so one
# table with autovacuum_vacuum_scale_factor = 0 makes every table look due
# at 50 dead tuples.  Here 30 large tables, far below their own thresholds,
# cross that false floor one per second: each crossing is new estimated
# work, and each visit finds nothing.  The launches into such a database
# are bounded: after a visit that found nothing, none for a naptime,
# doubling with each further one.

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

$node->safe_psql('postgres', 'CREATE DATABASE storm');
$node->safe_psql(
	'storm', q{
	CREATE TABLE tiny (v int) WITH (autovacuum_vacuum_scale_factor = 0);
	INSERT INTO tiny VALUES (1);
	DO $$
	BEGIN
		FOR i IN 1 .. 30 LOOP
			EXECUTE format('CREATE TABLE b%s (id int PRIMARY KEY, v int)', i);
			EXECUTE format('INSERT INTO b%s SELECT g, 0 FROM generate_series(1, 20000) g', i);
		END LOOP;
	END $$;
	VACUUM ANALYZE;});

# The first visit publishes the database's thresholds, with tiny's floor.
al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( $node->poll_query_until(
		'postgres', q{
		SELECT last_finished_at IS NOT NULL FROM autolauncher.databases
		 WHERE datname = 'storm'}),
	'storm had its first visit');
al_wait_slots_free($node);
my $dispatches0 = $node->safe_psql('postgres',
	"SELECT dispatch_count FROM autolauncher.databases WHERE datname = 'storm'");
my $vacuums_sql =
  "SELECT sum(vacuum_count) FROM pg_stat_user_tables WHERE relname LIKE 'b%'";
my $vacuums0 = $node->safe_psql('storm', $vacuums_sql);

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

update_tables(1, 15);
like(
	$node->safe_psql(
		'postgres', "SELECT reason FROM autolauncher.databases WHERE datname = 'storm'"),
	qr/^estimated work, but the last \d+ visits found nothing to do: waiting$/,
	'halfway, autolauncher.databases says why it waits');
update_tables(16, 30);

my $launches = $node->safe_psql('postgres',
	"SELECT dispatch_count - $dispatches0 FROM autolauncher.databases WHERE datname = 'storm'"
);
cmp_ok($launches, '<=', 6,
	"$launches workers went to storm in 30 s of false work, not one a second");
cmp_ok($launches, '>=', 1, 'but the launcher did look');
is($node->safe_psql('storm', $vacuums_sql),
	$vacuums0, 'no large table was vacuumed meanwhile: none was due');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
