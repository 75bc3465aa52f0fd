# Idle costs nothing, from the first second.  Twenty databases created
# from a template whose tables were vacuumed and analyzed, and each
# connected to once, as the idle benchmark does: nothing in them has
# changed since, so no table there can be due, whatever its reloptions.
# The launcher must not visit them to learn their thresholds, nor for a
# safety visit: over a minute at naptime 10s, none gets a worker.
# Built-in autovacuum would start one in each every naptime, about 130.

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
	'pg_autolauncher.naptime' => '10s',
	'pg_autolauncher.check_interval' => '200ms');

$node->safe_psql(
	'template1', q{
	CREATE TABLE a (id int PRIMARY KEY, v text);
	INSERT INTO a SELECT g, 'x' FROM generate_series(1, 100) g;
	SELECT pg_stat_force_next_flush();});
# (after the inserts' statistics are flushed, or they would count after it)
$node->safe_psql('template1', 'VACUUM ANALYZE');
for my $i (1 .. 20)
{
	$node->safe_psql('postgres', "CREATE DATABASE db$i");
	$node->safe_psql("db$i", 'SELECT count(*) FROM a');
}
al_reload($node, 'pg_autolauncher.enabled' => 'on');

# Watch for a minute: a measurement window, not a wait for an event.
my $window = 60;
my $end = time() + $window;
sleep(1) while time() < $end;

my ($launched, $cycles) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT workers_launched, cycles FROM autolauncher.status');
cmp_ok($cycles, '>=', 50,
	"the launcher made $cycles passes in ${window}s: it looked");
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(datname || ': ' || dispatch_count, ', ')
		  FROM autolauncher.databases
		 WHERE datname LIKE 'db%' AND dispatch_count > 0}),
	'',
	'no idle database got a worker, not even to learn its thresholds');

# Whatever else got a worker (the setup changed postgres and the shared
# catalogs), only real work did: nothing is left over threshold.
diag($node->safe_psql(
		'postgres', q{
		SELECT string_agg(coalesce(datname, '(shared catalogs)') || ': '
						  || dispatch_count, ', ')
		  FROM autolauncher.databases WHERE dispatch_count > 0}));
cmp_ok($launched, '<=', 3,
	"$launched workers launched in all, for the setup's own changes");
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM autolauncher.databases
		 WHERE datname LIKE 'db%'
		   AND reason IN ('below thresholds', 'no activity recorded')
		   AND next_check_at IS NULL}),
	'20',
	'each idle database is below thresholds, with no check scheduled');

al_wait_slots_free($node);
$node->stop;
done_testing();
