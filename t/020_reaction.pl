# Stats-driven dispatch: with naptime 60s and 20 databases, a table that
# crosses its threshold in one of them gets a worker within seconds, not
# after up to a naptime.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = al_node('reaction', 'pg_autolauncher.naptime' => '60s');

# 20 databases, each used once so that it has statistics.
for my $i (1 .. 20)
{
	$node->safe_psql('postgres', "CREATE DATABASE db$i");
	$node->safe_psql("db$i", 'CREATE TABLE t (v int)');
}

# Let the launcher look at every database and go quiet.  (Whether it
# needs to visit them first depends on what it knows of template1, which
# they were copied from: that is t/021's and t/023's subject.)
ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 20 FROM autolauncher.databases
		 WHERE datname LIKE 'db%' AND reason = 'below thresholds'}),
	'every database is below thresholds');
al_wait_slots_free($node);
my $dispatches = $node->safe_psql('postgres',
	"SELECT dispatch_count FROM autolauncher.databases WHERE datname = 'db13'");
is( $node->safe_psql(
		'postgres',
		"SELECT reason FROM autolauncher.databases WHERE datname = 'db13'"),
	'below thresholds',
	'db13 has no work, so no worker goes there');

# db13's table crosses its threshold: 2000 inserts > 1000 + 0.2 * 0.
my $start = time();
$node->safe_psql('db13', 'INSERT INTO t SELECT generate_series(1, 2000)');
ok( $node->poll_query_until(
		'db13',
		"SELECT autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = 't'"),
	'db13.t is vacuumed');
my $elapsed = time() - $start;
cmp_ok($elapsed, '<', 10,
	sprintf('within %.1fs of crossing its threshold (naptime is 60s)', $elapsed));
is( $node->safe_psql(
		'postgres',
		"SELECT dispatch_count FROM autolauncher.databases WHERE datname = 'db13'"),
	$dispatches + 1,
	'by one new dispatch to db13');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
