# How pg_autolauncher behaves when it cannot or must not work: loaded
# without shared_preload_libraries, and preloaded beside core autovacuum.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $hint = qr/pg_autolauncher must be loaded via shared_preload_libraries.*\n.*HINT:  Add pg_autolauncher to shared_preload_libraries in postgresql.conf and restart the server/;

#
# Not preloaded: CREATE EXTENSION fails with the fix in the hint.
#
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;

my ($ret, $stdout, $stderr) =
  $plain->psql('postgres', 'CREATE EXTENSION pg_autolauncher');
isnt($ret, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like($stderr, $hint, 'and says how to fix it');
is($plain->safe_psql('postgres',
	"SELECT count(*) FROM pg_extension WHERE extname = 'pg_autolauncher'"),
	'0', 'the extension was not created');
$plain->stop;

#
# Created while preloaded, then the preload is removed: every view and
# function fails cleanly, and the server stays up.
#
my $node = al_node('unloaded');
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;

for my $query (
	'SELECT * FROM autolauncher.status',
	'SELECT * FROM autolauncher.workers',
	'SELECT * FROM autolauncher.databases',
	"SELECT autolauncher.request('postgres')",
	'SELECT autolauncher.wakeup()')
{
	($ret, $stdout, $stderr) = $node->psql('postgres', $query);
	isnt($ret, 0, "$query fails when not preloaded");
	like($stderr, $hint, "$query explains the fix");
}
is($node->safe_psql('postgres', 'SELECT 1'), '1',
	'the server is still up and accepting queries');
$node->stop;

#
# Preloaded while core autovacuum is on: the launcher yields, says so once,
# and dispatches nothing.
#
my $both = al_node('yield', autovacuum => 'on');
ok( $both->poll_query_until(
		'postgres', "SELECT state = 'yielding' FROM autolauncher.status"),
	'the launcher shows state yielding while autovacuum is on');

$both->safe_psql(
	'postgres', q{
	CREATE TABLE t (v int);
	INSERT INTO t SELECT generate_series(1, 20000);
	UPDATE t SET v = v + 1;});
# give a working launcher several cycles (naptime is 1s) to dispatch
$both->safe_psql('postgres', 'SELECT autolauncher.wakeup(), pg_sleep(3)');
is(al_status($both, 'workers_launched'), '0',
	'a yielding launcher launches no worker');

my $warnings = () = slurp_file($both->logfile) =~
  /WARNING:  pg_autolauncher is not dispatching workers because autovacuum is on/g;
is($warnings, 1, 'the launcher warned exactly once');

# Turning autovacuum off hands the work over.
al_reload($both, 'autovacuum' => 'off');
ok( $both->poll_query_until(
		'postgres', "SELECT workers_launched > 0 FROM autolauncher.status"),
	'with autovacuum off the launcher takes over');

$both->stop;
done_testing();
