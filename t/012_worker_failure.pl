# Case 4 of the crash semantics: a worker that errors.  The launcher
# counts the failure, frees the slot and backs the database off, longer
# after each failure in a row, so a database whose worker fails every time
# cannot keep the others from being served.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# One worker at a time: if "bad" could monopolise it, "good" would starve.
my $node = al_node(
	'worker_failure',
	'pg_autolauncher.enabled' => 'off',
	'pg_autolauncher.max_workers' => '1');
al_enable_injection($node);

# "bad" has far more modifications than "good", so it ranks first.
$node->safe_psql('postgres', 'CREATE DATABASE bad');
$node->safe_psql('postgres', 'CREATE DATABASE good');
$node->safe_psql('bad',
	'CREATE TABLE t AS SELECT generate_series(1, 100000) AS v; DELETE FROM t'
);
$node->safe_psql('good',
	'CREATE TABLE t AS SELECT generate_series(1, 5000) AS v; DELETE FROM t');
al_inject($node, 'worker', 'bad');

my $offset = -s $node->logfile;
al_reload($node, 'pg_autolauncher.enabled' => 'on');

al_wait_vacuumed($node, 'good', 't',
	'good is vacuumed although the worker of bad keeps failing');
like(
	slurp_file($node->logfile, $offset),
	qr/ERROR:  pg_autolauncher: injected worker error \(test\)/,
	'the worker in bad raised its error');

# Each failure in a row doubles the time bad is left alone: 2s after the
# first (twice the naptime), 4s after the second.  Without the backoff the
# second and third failures would follow the first within about a naptime
# each.
ok( $node->poll_query_until(
		'postgres',
		"SELECT failure_count >= 1 FROM autolauncher.databases WHERE datname = 'bad'"
	),
	'the failure in bad is counted');
my $first = time();
ok( $node->poll_query_until(
		'postgres',
		"SELECT failure_count >= 3 FROM autolauncher.databases WHERE datname = 'bad'"
	),
	'bad keeps failing');
my $spread = time() - $first;
cmp_ok($spread, '>=', 5.5,
	sprintf('three failures in a row took %.1fs: bad was backed off', $spread));

my ($failures, $dispatches, $backoff) = split /\|/, $node->safe_psql(
	'postgres', q{
	SELECT failure_count, dispatch_count,
	       extract(epoch FROM backoff_until - last_finished_at)
	  FROM autolauncher.databases WHERE datname = 'bad'});
cmp_ok($backoff, '>=', 8,
	"after $failures failures in a row bad is backed off for ${backoff}s");
is($dispatches, $failures, 'every dispatch to bad failed, none was wasted');
cmp_ok(al_status($node, 'worker_failures'),
	'>=', $failures, 'the status view counts the worker failures');

# Once the fault is gone, bad is served again when its backoff ends, and
# the backoff is cleared.
al_inject($node, 'none');
al_wait_vacuumed($node, 'bad', 't',
	'bad is vacuumed once its worker stops failing');
ok( $node->poll_query_until(
		'postgres',
		"SELECT backoff_until IS NULL FROM autolauncher.databases WHERE datname = 'bad'"
	),
	'a success ends the backoff');

al_wait_slots_free($node);
al_counters_balance($node);

$node->stop;
done_testing();
