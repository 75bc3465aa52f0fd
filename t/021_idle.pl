# An idle database costs nothing between safety visits: over two minutes
# at naptime 20s, 20 idle databases get their first visit and no more.
# Built-in autovacuum would start a worker in each every naptime, about
# 120 in all.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = al_node(
	'idle',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.naptime' => '20s');

for my $i (1 .. 20)
{
	$node->safe_psql('postgres', "CREATE DATABASE db$i");
	$node->safe_psql("db$i", 'CREATE TABLE t AS SELECT generate_series(1, 100) AS v');
}
al_reload($node, 'pg_autolauncher.enabled' => 'on');

# Watch for two minutes: a measurement window, not a wait for an event.
my $window = 120;
my $end = time() + $window;
sleep(1) while time() < $end;

my $databases = $node->safe_psql('postgres', 'SELECT count(*) FROM pg_database');
my ($launched, $cycles) = split /\|/, $node->safe_psql('postgres',
	'SELECT workers_launched, cycles FROM autolauncher.status');
cmp_ok($launched, '<=', $databases + 3,
	"$launched workers launched in ${window}s for $databases databases, 20 of them idle"
);
cmp_ok($cycles, '>=', 60,
	"the launcher made $cycles passes meanwhile: it looked, and found nothing");
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM autolauncher.databases
		 WHERE datname LIKE 'db%' AND dispatch_count = 1}),
	'20',
	'each idle database was visited exactly once');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM autolauncher.databases
		 WHERE datname LIKE 'db%' AND reason = 'below thresholds'
		   AND next_check_at > last_dispatch_at + interval '9 min'}),
	'20',
	'and is next checked by the safety visit, max_visit_interval later');

al_wait_slots_free($node);
$node->stop;
done_testing();
