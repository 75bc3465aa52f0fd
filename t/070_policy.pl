# Unit tests of the pure scheduling policy (src/policy.c), through the
# test build's al_test_policy(fn, input jsonb) (src/testing.c): tables of
# cases, each an input and the fields of the result it must give.  Times
# are milliseconds from a fixed "now"; XIDs are given as ages.  The rules
# are those of docs/scheduling.md; each case names the rule it checks.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node('policy', 'pg_autolauncher.enabled' => 'off');
al_enable_injection($node);
$node->safe_psql(
	'postgres', q{
	CREATE FUNCTION al_test_policy(fn text, input jsonb) RETURNS jsonb
		AS 'pg_autolauncher', 'pg_autolauncher_test_policy' LANGUAGE C STRICT;});

# Run one case: $fn on $input (JSON text); every key of $want (a hash
# of JSON texts) must be in the result with that value.
sub check
{
	my ($name, $fn, $input, %want) = @_;
	my $query = join(', ',
		map { "(al_test_policy('$fn', '$input') -> '$_')::text" }
		  sort keys %want);
	my $got = $node->safe_psql('postgres', "SELECT $query");
	my $expected = join('|', map { $want{$_} } sort keys %want);
	is($got, $expected, "$fn: $name")
	  or diag("input $input; fields " . join(',', sort keys %want));
	return;
}

#
# Tables: core's formulas for a table whose pg_class row a worker read.
# Defaults: vacuum 50 + 0.2 x reltuples, insert 1000 + 0.2 x, analyze
# 50 + 0.1 x.
#
check('over the vacuum threshold: due for vacuum',
	'table_verdict', '{"reltuples": 1000, "n_dead": 251}',
	due => 'true', vacuum => 'true', analyze => 'false', verify => 'false');
check('just at the threshold: not due, no headroom left',
	'table_verdict', '{"reltuples": 1000, "n_dead": 250}',
	due => 'false', headroom => '0');
check('headroom is the least distance to any threshold',
	'table_verdict', '{"reltuples": 1000, "n_dead": 100, "modified": 120}',
	due => 'false', headroom => '30');
check('over the insert threshold',
	'table_verdict', '{"reltuples": 0, "inserted": 1001}',
	due => 'true', vacuum => 'true');
check('insert vacuums disabled by reloption (-1)',
	'table_verdict',
	'{"reltuples": 0, "inserted": 5000, "modified": 0, "vacuum_ins_threshold": -1}',
	due => 'false', vacuum => 'false');
check('own reloption threshold below the GUC',
	'table_verdict',
	'{"reltuples": 1000, "n_dead": 5, "vacuum_threshold": 0, "vacuum_scale_factor": 0}',
	due => 'true', vacuum => 'true');
check('autovacuum_enabled = false: never due for thresholds',
	'table_verdict', '{"reltuples": 10, "n_dead": 1000000, "enabled": false}',
	due => 'false', headroom => '"infinity"');
check('autovacuum_enabled = false, but past its freeze age: due',
	'table_verdict',
	'{"reltuples": 10, "enabled": false, "xid_age": 200000001}',
	due => 'true', wraparound => 'true', vacuum => 'true');
check('own autovacuum_freeze_max_age reached: anti-wraparound',
	'table_verdict', '{"reltuples": 10, "freeze_max_age": 100000, "xid_age": 100001}',
	due => 'true', wraparound => 'true');
check('no statistics: only wraparound counts',
	'table_verdict', '{"reltuples": 10, "n_dead": 1000, "has_stats": false}',
	due => 'false');
check('track_counts off: only wraparound counts',
	'table_verdict', '{"reltuples": 10, "n_dead": 1000, "track_counts": false}',
	due => 'false');

#
# Tables a worker has not read: judged with the database's floor.
#
check('unknown table, unknown floor: any dead tuple, to verify',
	'table_verdict', '{"known": false, "n_live": 100000, "n_dead": 1}',
	due => 'true', vacuum => 'true', verify => 'true');
check('unknown table, unknown floor, no change: not due',
	'table_verdict', '{"known": false, "n_live": 100000}',
	due => 'false', headroom => '0');
check('unknown table, known floor: the base thresholds only, whatever n_live_tup',
	'table_verdict',
	'{"known": false, "floor_known": true, "n_live": 1000, "n_dead": 200}',
	due => 'true', verify => 'true');
check('unknown table, known floor, under the base threshold: not due',
	'table_verdict',
	'{"known": false, "floor_known": true, "n_live": 1000, "n_dead": 40}',
	due => 'false', headroom => '10');
check('unknown table, floor lowered by one table\'s reloption',
	'table_verdict',
	'{"known": false, "floor_known": true, "floor_vacuum_threshold": 0, "floor_vacuum_scale_factor": 0, "n_live": 1000, "n_dead": 1}',
	due => 'true', verify => 'true');

#
# Revisit and retry: a table that was processed waits for its revisit
# time (max(2 s, 4 x its run)); one skipped, cancelled or failed for its
# retry time (naptime x 2^(n-1), up to max_visit_interval).
#
check('over, but waiting for its revisit: not due until then',
	'table_verdict', '{"reltuples": 1000, "n_dead": 5000, "not_before": 1500}',
	due => 'false', wait_until => '1500');
check('its revisit time passed: due',
	'table_verdict', '{"reltuples": 1000, "n_dead": 5000, "not_before": -1}',
	due => 'true');
check('revisit after a quick run: 2 s',
	'intervals', '{"run_ms": 100}', revisit_ms => '2000');
check('revisit after a 10 s run: 40 s',
	'intervals', '{"run_ms": 10000}', revisit_ms => '40000');
check('first retry: a naptime',
	'intervals', '{"retries": 1}', retry_ms => '60000');
check('third retry: four naptimes',
	'intervals', '{"retries": 3}', retry_ms => '240000');
check('retries are capped at max_visit_interval',
	'intervals', '{"retries": 9}', retry_ms => '600000');

#
# The ANALYZE ration: at most every max(naptime, 50 x the last ANALYZE's
# duration); when modifications are ten times the threshold, every
# max(naptime / 4, 10 x that duration).  naptime is 60 s here.
#
check('never analyzed by us: allowed',
	'intervals', '{"modified": 100, "threshold": 50}',
	analyze_allowed => 'true');
check('quick ANALYZE 61 s ago: a naptime has passed',
	'intervals',
	'{"last_analyze": -61000, "last_analyze_ms": 50, "modified": 100, "threshold": 50}',
	analyze_allowed => 'true');
check('quick ANALYZE 50 s ago: not before a naptime',
	'intervals',
	'{"last_analyze": -50000, "last_analyze_ms": 50, "modified": 100, "threshold": 50}',
	analyze_allowed => 'false', analyze_at => '10000');
check('a 2 s ANALYZE 60 s ago: not before 100 s',
	'intervals',
	'{"last_analyze": -60000, "last_analyze_ms": 2000, "modified": 100, "threshold": 50}',
	analyze_allowed => 'false', analyze_at => '40000');
check('a 2 s ANALYZE 25 s ago, 11 x the threshold: allowed after 20 s',
	'intervals',
	'{"last_analyze": -25000, "last_analyze_ms": 2000, "modified": 551, "threshold": 50}',
	analyze_allowed => 'true');
check('a 2 s ANALYZE 5 s ago, 11 x the threshold: not before 10 x 2 s',
	'intervals',
	'{"last_analyze": -5000, "last_analyze_ms": 2000, "modified": 551, "threshold": 50}',
	analyze_allowed => 'false', analyze_at => '15000');
check('a 3 s ANALYZE 20 s ago, 11 x the threshold: not before 10 x 3 s',
	'intervals',
	'{"last_analyze": -20000, "last_analyze_ms": 3000, "modified": 551, "threshold": 50}',
	analyze_allowed => 'false', analyze_at => '10000');
check('analyze-only table under the ration: not due, waits for it',
	'table_verdict',
	'{"reltuples": 1000, "modified": 200, "last_analyze": -1000, "last_analyze_ms": 1000}',
	due => 'false', analyze => 'false', wait_until => '59000');
check('in its revisit time after a vacuum, an ANALYZE the ration allows is due',
	'table_verdict',
	'{"reltuples": 1000, "modified": 2000, "last_analyze": -30000, "last_analyze_ms": 100, "not_before": 5000}',
	due => 'true', vacuum => 'false', analyze => 'true');
check('in its revisit time, a vacuum is not due',
	'table_verdict',
	'{"reltuples": 1000, "n_dead": 300, "not_before": 5000}',
	due => 'false', wait_until => '5000');
check('in its retry time, an ANALYZE the ration allows waits too',
	'table_verdict',
	'{"reltuples": 1000, "modified": 2000, "last_analyze": -30000, "last_analyze_ms": 100, "not_before": 5000, "retrying": true}',
	due => 'false', wait_until => '5000');
check('the ration does not hold back a vacuum',
	'table_verdict',
	'{"reltuples": 1000, "n_dead": 300, "modified": 200, "last_analyze": -1000, "last_analyze_ms": 1000}',
	due => 'true', vacuum => 'true', analyze => 'false');

#
# The fast lane: under 1024 pages, or a last run under a second; a table
# not read yet, under 50,000 tuples.
#
check('small table: fast', 'intervals', '{"relpages": 1000}', fast => 'true');
check('big table, quick last run: fast',
	'intervals', '{"relpages": 100000, "last_run_ms": 300}', fast => 'true');
check('big table, slow last run: not fast',
	'intervals', '{"relpages": 100000, "last_run_ms": 3000}', fast => 'false');
check('unknown table with few tuples: fast',
	'intervals', '{"known": false, "tuples": 49999}', fast => 'true');
check('unknown table with many tuples: not fast',
	'intervals', '{"known": false, "relpages": 10, "tuples": 50000}', fast => 'false');

#
# Databases.
#
check('a DDL command needs it: nothing, whatever else',
	'database_verdict', '{"blocked": true, "due": 5, "datfrozenxid_age": 300000000}',
	kind => '"none"', wanted => '0');
check('due tables, no worker: one worker per due table, up to the cap',
	'database_verdict', '{"due": 5, "cap": 3}',
	kind => '"queue"', wanted => '3');
check('due fast tables are one worker\'s work',
	'database_verdict', '{"due": 4, "due_fast": 4, "cap": 3}',
	kind => '"queue"', wanted => '1');
check('two slow tables and fast ones: three workers',
	'database_verdict', '{"due": 6, "due_fast": 4, "cap": 5}',
	kind => '"queue"', wanted => '3');
check('a fast table, the only worker there busy on a big one: a helper',
	'database_verdict', '{"due": 1, "due_fast": 1, "workers": 1}',
	kind => '"queue"', wanted => '1');
check('a second worker helps at once, with the next table',
	'database_verdict', '{"due": 2, "workers": 1, "cap": 3}',
	kind => '"queue"', wanted => '2');
check('an idle worker there takes the next table: woken, no new worker',
	'database_verdict', '{"due": 1, "workers": 1, "idle_workers": 1}',
	kind => '"none"', wanted => '0', wake_idle => 'true');
check('the cap reached: no more workers',
	'database_verdict', '{"due": 9, "workers": 3, "cap": 3}',
	kind => '"none"', wanted => '0');
check('failures in a row: backed off, due tables wait',
	'database_verdict', '{"due": 4, "backoff_until": 30000}',
	kind => '"none"', next_check => '30000');
check('not connectable, not in danger: nothing',
	'database_verdict', '{"due": 4, "datallowconn": false}',
	kind => '"none"');
check('idle and unchanged: nothing, and nothing planned',
	'database_verdict', '{"last_scan": -3600000}',
	kind => '"none"', next_check => 'null');
check('changed, scanned 11 minutes ago: the safety scan',
	'database_verdict', '{"changed": true, "last_scan": -660000}',
	kind => '"safety scan"', wanted => '1');
check('changed, scanned 5 minutes ago: the safety scan is planned',
	'database_verdict', '{"changed": true, "last_scan": -300000}',
	kind => '"none"', next_check => '300000');
check('past autovacuum_freeze_max_age: a wraparound scan',
	'database_verdict', '{"datfrozenxid_age": 200000001}',
	kind => '"wraparound scan"', wanted => '1');
check('in danger: no backoff holds it back',
	'database_verdict',
	'{"datfrozenxid_age": 200000001, "backoff_until": 600000}',
	kind => '"wraparound scan"');
check('in danger, not connectable: scanned all the same',
	'database_verdict', '{"datfrozenxid_age": 200000001, "datallowconn": false}',
	kind => '"wraparound scan"');
check('in danger, scanned 5 s ago: rate-limited to one per 10 s',
	'database_verdict', '{"datfrozenxid_age": 200000001, "last_dispatch": -5000}',
	kind => '"none"', next_check => '5000');
check('in danger with a worker there: helpers for its due tables',
	'database_verdict',
	'{"datfrozenxid_age": 200000001, "workers": 1, "due": 4, "cap": 3}',
	kind => '"queue"', wanted => '2');
check('multixact danger',
	'database_verdict', '{"datminmxid_age": 400000001}',
	kind => '"multixact wraparound scan"');
check('known, a table\'s own freeze deadline passed: a deadline scan',
	'database_verdict', '{"deadline_age": 10}',
	kind => '"freeze deadline scan"');
check('known, the deadline still ahead: nothing',
	'database_verdict', '{"deadline_age": -50000}',
	kind => '"none"');
check('unknown, datfrozenxid younger than the lowest freeze_max_age: nothing',
	'database_verdict', '{"known": false, "datfrozenxid_age": 90000}',
	kind => '"none"');
check('unknown, datfrozenxid past the lowest freeze_max_age: a scan',
	'database_verdict', '{"known": false, "datfrozenxid_age": 100001}',
	kind => '"freeze deadline scan"');
check('beyond max_databases, its assumed deadline passed, scanned 11 minutes ago: a scan',
	'database_verdict',
	'{"tracked": false, "known": false, "datfrozenxid_age": 100001, "last_dispatch": -660000}',
	kind => '"freeze deadline scan"');
check('beyond max_databases, its assumed deadline passed, scanned 20 s ago: no storm',
	'database_verdict',
	'{"tracked": false, "known": false, "datfrozenxid_age": 100001, "last_dispatch": -20000}',
	kind => '"none"', next_check => '580000');
check('beyond max_databases, scanned 20 s ago, with due tables: they are served',
	'database_verdict',
	'{"tracked": false, "known": false, "datfrozenxid_age": 100001, "last_dispatch": -20000, "due": 2}',
	kind => '"queue"', wanted => '2');
check('beyond max_databases, never dispatched: a scan at once',
	'database_verdict',
	'{"tracked": false, "known": false, "datfrozenxid_age": 100001}',
	kind => '"freeze deadline scan"');
check('beyond max_databases, in real danger: the 10 s rate only',
	'database_verdict',
	'{"tracked": false, "known": false, "datfrozenxid_age": 200000001, "last_dispatch": -20000}',
	kind => '"wraparound scan"');

#
# Dispatch order.
#
check('XID wraparound before anything else',
	'compare',
	'{"a_kind": "queue", "a_score": 1000, "b_kind": "wraparound scan"}',
	order => '1');
check('the oldest datfrozenxid first',
	'compare',
	'{"a_kind": "wraparound scan", "a_xid_age": 300000000, "b_kind": "wraparound scan", "b_xid_age": 250000000}',
	order => '-1');
check('due tables before safety scans',
	'compare', '{"a_kind": "safety scan", "b_kind": "queue"}', order => '1');
check('a first worker anywhere before a second one in a busy database',
	'compare',
	'{"a_kind": "queue", "a_workers": 1, "a_score": 50, "b_kind": "queue", "b_workers": 0, "b_score": 2}',
	order => '1');
check('then the most urgent table',
	'compare',
	'{"a_kind": "queue", "a_score": 3, "b_kind": "queue", "b_score": 2}',
	order => '-1');
check('then the database served longest ago',
	'compare',
	'{"a_kind": "queue", "a_last_dispatch": -1000, "b_kind": "queue", "b_last_dispatch": -9000}',
	order => '1');

# Bad input gets a clear error.
my ($ret, $out, $err) = $node->psql('postgres',
	q{SELECT al_test_policy('no_such', '{}')});
like($err, qr/unknown policy function "no_such"/, 'an unknown function is refused');

$node->stop;
done_testing();
