# Wraparound is at least as safe as core.
#  - A database whose oldest relfrozenxid belonged to a table that was
#    dropped gets its datfrozenxid advanced by a visit that vacuums
#    nothing, and is not redispatched every 10 seconds after that.
#  - A database in XID wraparound danger gets as many workers as it has
#    tables to take, up to max_workers, as core would send it.
#  - No failure backoff holds such a database back.
#
# autovacuum_freeze_max_age is at its minimum, 100,000.  Core's own
# emergency launcher, which starts even with autovacuum = off, must stay
# out, so that what happens is our doing.  It starts when a new XID is a
# multiple of 65536 past the limit, or when anything updates a
# datfrozenxid (vac_truncate_clog) while any database is past it.  So the
# XIDs are aligned (al_align_xid_limit), the databases not under test are
# kept young, and the launcher has done what was due everywhere before any
# database is in danger, so that no other visit runs while one is.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $max_age = 100000;
my @settings = (
	'pg_autolauncher.naptime' => '60s',
	'pg_autolauncher.check_interval' => '200ms',
	'pg_autolauncher.max_visit_interval' => '1h',
	autovacuum_freeze_max_age => $max_age,
	# the fast lane's verifications of tables the launcher does not know
	# yet would be visits too; here only the wraparound visits count
	'pg_autolauncher.fast_lane_workers' => 0,
	log_min_messages => 'debug1');

# Let the launcher do what is due everywhere (a database copied from a
# template it knows may need no visit at all), then stop it while the
# test prepares the danger.
sub first_visits_then_stop
{
	my ($node) = @_;
	al_burn_xids($node, 1);
	ok( $node->poll_query_until(
			'postgres', q{
			SELECT bool_and(reason IN ('below thresholds', 'no activity recorded', 'does not allow connections'))
			  FROM autolauncher.databases}),
		'every database is below thresholds');
	al_wait_slots_free($node);
	al_reload($node, 'pg_autolauncher.enabled' => 'off');
	return;
}

sub frozenxid_age
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres',
		"SELECT age(datfrozenxid) FROM pg_database WHERE datname = '$db'");
}

sub dispatches
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres',
		"SELECT dispatch_count FROM autolauncher.databases WHERE datname = '$db'"
	);
}

#
# 1. A dropped oldest table.
#
# One worker: the database in danger is served before any other.
my $node = al_node('wraparound_drop', @settings,
	'pg_autolauncher.max_workers' => '1');
$node->safe_psql('postgres', 'CREATE DATABASE wdrop');
$node->safe_psql('wdrop', 'CREATE TABLE t (v int)');
first_visits_then_stop($node);
al_align_xid_limit($node, $max_age);
al_freeze_database($node, $_) for qw(template0 template1 postgres wdrop);
$node->safe_psql('wdrop', 'CREATE TABLE old_t (v int); INSERT INTO old_t VALUES (1)');
al_burn_xids($node, 60000);

# Every table of wdrop but old_t is young again; old_t alone holds its
# datfrozenxid back.  Then old_t goes, and nothing updates datfrozenxid.
$node->safe_psql(
	'wdrop', q{
	SELECT format('VACUUM FREEZE %s', oid::regclass) FROM pg_class
	 WHERE relkind IN ('r', 'm') AND oid <> 'old_t'::regclass \gexec
	DROP TABLE old_t;});
al_freeze_database($node, $_) for qw(template0 template1 postgres);
al_burn_xids($node, 41000);
cmp_ok(frozenxid_age($node, 'wdrop'), '>', $max_age,
	'wdrop is past autovacuum_freeze_max_age');
is( $node->safe_psql(
		'wdrop', qq{
		SELECT count(*) FROM pg_class
		 WHERE relkind IN ('r', 'm', 't') AND age(relfrozenxid) > $max_age}),
	'0',
	'but none of its tables is');

my $vacuums_sql =
  'SELECT sum(vacuum_count + autovacuum_count) FROM pg_stat_all_tables';
my $vacuums0 = $node->safe_psql('wdrop', $vacuums_sql);
my $before = dispatches($node, 'wdrop');
my $offset = -s $node->logfile;
al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( al_poll_within(
		$node, 'postgres',
		"SELECT age(datfrozenxid) < $max_age FROM pg_database WHERE datname = 'wdrop'",
		30),
	'a visit advanced its datfrozenxid: ' . frozenxid_age($node, 'wdrop'));
al_wait_slots_free($node);
my $after = dispatches($node, 'wdrop');
is($after, $before + 1, 'with one visit');
is($node->safe_psql('wdrop', $vacuums_sql),
	$vacuums0, 'that vacuumed nothing');
# 12 s: longer than the 10 s between revisits of a database in danger
my $end = time() + 12;
sleep(1) while time() < $end;
is(dispatches($node, 'wdrop'), $after, 'and no visit followed it');
unlike(
	slurp_file($node->logfile, $offset),
	qr/autovacuum launcher started/,
	"core's emergency launcher never started");
$node->stop;

#
# 2. Several workers, and no backoff, for databases in danger.
#
$node = al_node('wraparound_workers', @settings,
	'pg_autolauncher.max_workers' => '5');
al_enable_injection($node);
$node->safe_psql('postgres', 'CREATE DATABASE wmany');
$node->safe_psql('postgres', 'CREATE DATABASE wbad');
$node->safe_psql($_, 'CREATE TABLE t (v int)') for qw(wmany wbad);
first_visits_then_stop($node);
al_align_xid_limit($node, $max_age);
al_freeze_database($node, $_) for qw(template0 template1 postgres wmany wbad);

# wmany has three tables whose vacuum never ends (their own cost settings
# throttle it), all of them past their freeze age once XIDs are burnt.
$node->safe_psql('wmany', join('', map {
	qq{CREATE TABLE slow$_ (id int, pad text)
		WITH (autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1);
	   INSERT INTO slow$_ SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;}
} 1 .. 3));
al_burn_xids($node, 60000);
al_freeze_database($node, $_) for qw(template0 template1 postgres);
al_burn_xids($node, 41000);
cmp_ok(frozenxid_age($node, $_), '>', $max_age, "$_ is past autovacuum_freeze_max_age")
  for qw(wmany wbad);

# Every worker in wbad fails for now.
al_inject($node, 'worker', 'wbad');
$offset = -s $node->logfile;
al_reload($node, 'pg_autolauncher.enabled' => 'on');

ok( $node->poll_query_until(
		'postgres', q{
		SELECT count(*) = 3 FROM autolauncher.workers
		 WHERE datname = 'wmany' AND state = 'running'
		   AND relname IN ('slow1', 'slow2', 'slow3') AND wraparound}),
	'wmany has three workers at once, one on each of its slow tables');

ok( $node->poll_query_until(
		'postgres', q{
		SELECT failure_count >= 1 AND backoff_until > now() + interval '60 s'
		  FROM autolauncher.databases WHERE datname = 'wbad'}),
	"wbad's worker failed, and wbad is backed off for two naptimes");
al_inject($node, 'none');
ok( al_poll_within(
		$node, 'postgres',
		"SELECT age(datfrozenxid) < $max_age FROM pg_database WHERE datname = 'wbad'",
		30),
	'but its wraparound danger does not wait for the backoff: it is vacuumed within seconds'
);
# Once wbad's datfrozenxid advanced while wmany was still in danger, core's
# emergency launcher may start (any datfrozenxid update starts it then),
# but it did not do wbad's work.
unlike(
	slurp_file($node->logfile, $offset),
	qr/autovacuum: processing database "wbad"/,
	"core's emergency workers did not process wbad");

$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM autolauncher.workers WHERE state = 'running'"
);
al_reload($node, 'pg_autolauncher.enabled' => 'off');
al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
