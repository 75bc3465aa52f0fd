# Case 7 of the crash semantics: standby and promotion.  On a streaming
# standby with the library preloaded no launcher runs and no worker
# starts, and the views are readable; after pg_promote() the launcher
# starts and vacuums.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = al_node('primary', _init => { allows_streaming => 1 });
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('app',
	'CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t');
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'the standby is in recovery');

# Give the standby's postmaster time to start whatever it would start.
$standby->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'walreceiver'"
) or die 'no walreceiver';

is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_autolauncher%'"
	),
	'0',
	'no launcher and no worker run on the standby');
is( $standby->safe_psql(
		'postgres',
		q{SELECT coalesce(launcher_pid::text, 'none') || ',' || state || ',' || active_workers
		    FROM autolauncher.status}),
	'none,stopped,0',
	'autolauncher.status on the standby shows no launcher');
is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) FROM autolauncher.workers WHERE state <> 'free'"),
	'0',
	'autolauncher.workers on the standby shows no worker');
like(
	$standby->safe_psql(
		'postgres', "SELECT count(*) FROM autolauncher.databases WHERE datname = 'app'"),
	qr/^1$/,
	'autolauncher.databases is readable on the standby');
my ($ret, $stdout, $stderr) =
  $standby->psql('postgres', "SELECT autolauncher.request('app')");
like(
	$stderr,
	qr/cannot request a pg_autolauncher worker during recovery/,
	'request() is refused on the standby');

$standby->safe_psql('postgres', 'SELECT pg_promote()');
ok( $standby->poll_query_until(
		'postgres',
		"SELECT launcher_pid IS NOT NULL AND state <> 'stopped' FROM autolauncher.status"
	),
	'after promotion the launcher starts');

# Replayed changes do not reach the statistics: make new ones.
$standby->safe_psql('app',
	'INSERT INTO t SELECT generate_series(1, 5000); DELETE FROM t');
al_wait_vacuumed($standby, 'app', 't',
	'and its workers vacuum');
cmp_ok(al_status($standby, 'workers_launched'),
	'>', 0, 'the promoted node counts its workers');

$standby->stop;
$primary->stop;
done_testing();
