# Our runs count as autovacuum where monitoring looks: pg_stat_all_tables'
# last_autovacuum / autovacuum_count and last_autoanalyze /
# autoanalyze_count, as check_postgres reads them.  A user's own VACUUM or
# ANALYZE is never relabelled, even when it races a worker on the same
# table (src/runstats.c).

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'autovacuum_stats',
	'pg_autolauncher.check_interval' => '100ms',
	'pg_autolauncher.naptime' => '1s');
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql(
	'app', q{
	CREATE EXTENSION pg_autolauncher;
	CREATE TABLE ours (id int PRIMARY KEY, v int);
	CREATE TABLE raced (id int PRIMARY KEY, v int);
	CREATE TABLE manual (id int PRIMARY KEY, v int)
		WITH (autovacuum_enabled = false);
	INSERT INTO ours SELECT g, 0 FROM generate_series(1, 1000) g;
	INSERT INTO raced SELECT g, 0 FROM generate_series(1, 1000) g;
	INSERT INTO manual SELECT g, 0 FROM generate_series(1, 1000) g;
	UPDATE ours SET v = 1 WHERE id <= 300;
	SELECT pg_stat_force_next_flush();});

#
# A table only pg_autolauncher processed: its runs are automatic ones.
#
ok( $node->poll_query_until(
		'app', q{
		SELECT autovacuum_count > 0 AND autoanalyze_count > 0
		  FROM pg_stat_user_tables WHERE relname = 'ours'}),
	'ours was vacuumed and analyzed');
al_wait_slots_free($node);
is( $node->safe_psql(
		'app', q{
		SELECT s.vacuum_count || ',' || s.analyze_count || ','
		       || (s.last_vacuum IS NULL) || ',' || (s.last_analyze IS NULL) || ','
		       || (s.autovacuum_count = t.autolauncher_vacuum_count) || ','
		       || (s.autoanalyze_count = t.autolauncher_analyze_count) || ','
		       || (abs(extract(epoch FROM s.last_autovacuum - t.last_autolauncher_vacuum)) < 1)
		  FROM pg_stat_user_tables s JOIN autolauncher.tables t USING (relid)
		 WHERE s.relname = 'ours'}),
	'0,0,true,true,true,true,true',
	'in the automatic columns only, and exactly those pg_autolauncher made');

#
# A user's VACUUM and ANALYZE racing the workers on one table: every one
# of them stays manual, and every run of ours is automatic.
#
my $manual_runs = 40;
for my $i (1 .. $manual_runs)
{
	$node->safe_psql(
		'app', qq{
		UPDATE raced SET v = v + 1 WHERE id <= 300;
		SELECT pg_stat_force_next_flush();});
	# give the launcher a moment to send a worker for raced
	$node->safe_psql('app', 'SELECT pg_sleep(0.05)') if $i % 2;
	$node->safe_psql('app',
		$i % 4 == 0 ? 'ANALYZE raced' : 'VACUUM ANALYZE raced');
}
al_reload($node, 'pg_autolauncher.enabled' => 'off');
al_wait_slots_free($node);
my ($vacuums, $analyzes, $auto_v, $auto_a, $ours_v, $ours_a) = split /\|/,
  $node->safe_psql(
	'app', q{
	SELECT s.vacuum_count, s.analyze_count, s.autovacuum_count,
	       s.autoanalyze_count, t.autolauncher_vacuum_count,
	       t.autolauncher_analyze_count
	  FROM pg_stat_user_tables s JOIN autolauncher.tables t USING (relid)
	 WHERE s.relname = 'raced'});
is($vacuums, $manual_runs * 3 / 4,
	"the user's $vacuums VACUUMs are all counted as manual ones");
is($analyzes, $manual_runs, "and so are the user's $analyzes ANALYZEs");
cmp_ok($auto_v, '>', 0, "the workers vacuumed raced too ($auto_v times)");
is($auto_v, $ours_v, 'each of their vacuums is an automatic one');
is($auto_a, $ours_a, "and each of their $auto_a analyzes");

#
# check_postgres, as a DBA's monitoring runs it, sees the autovacuums.
#
my ($check) =
  grep { -x } map { "$_/check_postgres" } split /:/, $ENV{PATH};
ok(defined $check, 'check_postgres is installed (scripts/install-deps)')
  or BAIL_OUT('check_postgres is missing');
my @conn = (
	'--host' => $node->host,
	'--port' => $node->port,
	'--dbname' => 'app');
for my $action ('last_autovacuum', 'last_autoanalyze')
{
	my ($out, $err);
	IPC::Run::run(
		[
			$check, "--action=$action", @conn, '--include=ours',
			'--warning=1h', '--critical=2h'
		],
		'>', \$out, '2>', \$err);
	my $code = $? >> 8;
	is($code, 0, "check_postgres --action=$action: OK") or diag("$out$err");
	like($out, qr/^POSTGRES_\U$action\E OK: .*TABLE: public\.ours/,
		"and it names the table we processed: $out");

	# The table only the user vacuums has no automatic run to report.
	IPC::Run::run(
		[
			$check, "--action=$action", @conn, '--include=manual',
			'--warning=1h', '--critical=2h'
		],
		'>', \$out, '2>', \$err);
	$code = $? >> 8;
	isnt($code, 0,
		"check_postgres --action=$action on a table only a user vacuums: not OK, as it should be"
	);
}

al_counters_balance($node);
$node->stop;
done_testing();
