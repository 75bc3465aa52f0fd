# Runs are logged according to log_autovacuum_min_duration (or the table's
# log_autovacuum_min_duration reloption), in core's own autovacuum format
# and words, so that pgBadger counts them in its autovacuum report.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $prefix = '%m [%p] %q%a ';
my $node = al_node(
	'logging',
	'pg_autolauncher.enabled' => 'off',
	log_autovacuum_min_duration => '0',
	log_line_prefix => "'$prefix'");
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql(
	'app', q{
	CREATE TABLE logged (id int PRIMARY KEY, v int);
	CREATE TABLE second (v int);
	CREATE TABLE quiet (v int) WITH (log_autovacuum_min_duration = 3600000);
	INSERT INTO logged SELECT g, g FROM generate_series(1, 5000) g;
	INSERT INTO second SELECT generate_series(1, 5000);
	INSERT INTO quiet SELECT generate_series(1, 5000);});
$node->safe_psql('app', 'VACUUM ANALYZE logged, second, quiet');
$node->safe_psql('app',
	'DELETE FROM logged; DELETE FROM second; DELETE FROM quiet');
$node->safe_psql('app', 'SELECT pg_stat_force_next_flush()');

my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT autolauncher.request('app')");
al_wait_slots_free($node);
is( $node->safe_psql(
		'app', q{
		SELECT string_agg(relname || ':' || autovacuum_count || ',' || autoanalyze_count, ' ' ORDER BY relname)
		  FROM pg_stat_user_tables}),
	'logged:1,1 quiet:1,1 second:1,1',
	'the three tables were vacuumed and analyzed once each');

# A manual VACUUM is logged by nobody, as in core.
$node->safe_psql('app', 'VACUUM ANALYZE second');

my $log = slurp_file($node->logfile, $offset);
like(
	$log,
	qr/LOG:  automatic vacuum of table "app.public.logged": index scans: \d+
\tpages: 23 removed, 0 remain, 23 scanned \(100.00% of total\)
\ttuples: 5000 removed, 0 remain, 0 are dead but not yet removable
\tremovable cutoff: \d+, which was \d+ XIDs old when operation ended
(?:\tnew relfrozenxid: \d+, which is \d+ XIDs ahead of previous value
)?\tindex scan (?:not )?needed: \d+ pages from table \([\d.]+% of total\) had 5000 dead item identifiers removed
\tindex "logged_pkey": pages: \d+ in total, \d+ newly deleted, \d+ currently deleted, \d+ reusable
\tavg read rate: [\d.]+ MB\/s, avg write rate: [\d.]+ MB\/s
\tbuffer usage: \d+ hits, \d+ misses, \d+ dirtied
\tWAL usage: \d+ records, \d+ full page images, \d+ bytes
\tsystem usage: CPU: user: [\d.]+ s, system: [\d.]+ s, elapsed: [\d.]+ s
/,
	"the vacuum of logged is logged as core logs an autovacuum, every line");
like(
	$log,
	qr/LOG:  automatic analyze of table "app.public.logged"
\tavg read rate: [\d.]+ MB\/s, avg write rate: [\d.]+ MB\/s
\tbuffer usage: \d+ hits, \d+ misses, \d+ dirtied
\tsystem usage: CPU: user: [\d.]+ s, system: [\d.]+ s, elapsed: [\d.]+ s
/,
	'and so is its analyze');
unlike($log, qr/of table "app.public.quiet"/,
	'a table whose reloption sets a 1h threshold is not logged');
unlike($log, qr/INFO:|finished vacuuming|vacuuming "/,
	'nothing of the VERBOSE run behind the report reaches the log');
is(scalar(() = $log =~ /automatic vacuum of table "app.public.second"/g),
	1, 'the manual VACUUM of second is not logged as automatic');

#
# pgBadger, as a DBA runs it on this log, counts exactly what ran.
#
my ($pgbadger) = grep { -x } map { "$_/pgbadger" } split /:/, $ENV{PATH};
ok(defined $pgbadger, 'pgbadger is installed (scripts/install-deps)')
  or BAIL_OUT('pgbadger is missing');
my $logcopy = "$PostgreSQL::Test::Utils::tmp_check/031_pgbadger.log";
PostgreSQL::Test::Utils::append_to_file($logcopy, $log);
my $json = "$PostgreSQL::Test::Utils::tmp_check/031_pgbadger.json";
my ($stdout, $stderr);
IPC::Run::run([ $pgbadger, '-q', '-f', 'stderr', '--prefix', $prefix,
		'-o', $json, $logcopy ], '>', \$stdout, '2>', \$stderr);
is($?, 0, 'pgbadger parsed the log') or diag($stderr);
my $report = decode_json(slurp_file($json));
my (%vacuums, %analyzes);
for my $db (values %{ $report->{autovacuum_info} })
{
	$vacuums{$_} += $db->{tables}{$_}{vacuums} for keys %{ $db->{tables} };
}
for my $db (values %{ $report->{autoanalyze_info} })
{
	$analyzes{$_} += $db->{tables}{$_}{analyzes} for keys %{ $db->{tables} };
}
is( join(' ', map { "$_:$vacuums{$_}" } sort keys %vacuums),
	'app.public.logged:1 app.public.second:1',
	"pgBadger's vacuum report: logged and second, once each");
is( join(' ', map { "$_:$analyzes{$_}" } sort keys %analyzes),
	'app.public.logged:1 app.public.second:1',
	"pgBadger's analyze report: logged and second, once each");

al_counters_balance($node);
$node->stop;
done_testing();
