# Runs are logged according to log_autovacuum_min_duration (or the table's
# log_autovacuum_min_duration reloption), with pages, tuples, buffer and
# WAL usage and timing, as core logs its autovacuum runs.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'logging',
	'pg_autolauncher.enabled' => 'off',
	log_autovacuum_min_duration => '0');
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql(
	'app', q{
	CREATE TABLE logged (v int);
	CREATE TABLE quiet (v int) WITH (log_autovacuum_min_duration = 3600000);
	INSERT INTO logged SELECT generate_series(1, 5000);
	INSERT INTO quiet SELECT generate_series(1, 5000);});
$node->safe_psql('app', 'VACUUM ANALYZE logged, quiet');
$node->safe_psql('app', 'DELETE FROM logged; DELETE FROM quiet');
$node->safe_psql('app', 'SELECT pg_stat_force_next_flush()');

my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT autolauncher.request('app')");
al_wait_slots_free($node);
is( $node->safe_psql(
		'app', q{
		SELECT count(*) FROM pg_stat_user_tables
		 WHERE relname IN ('logged', 'quiet') AND vacuum_count > 1}),
	'2',
	'both tables were vacuumed');

my $log = slurp_file($node->logfile, $offset);
like(
	$log,
	qr/LOG:  automatic vacuum and analyze of table "app.public.logged" by pg_autolauncher worker \d+
\tpages: \d+ before, \d+ after
\ttuples: 5000 dead before, 0 dead after, 0 live
\tbuffer usage: \d+ hits, \d+ misses, \d+ dirtied
\tWAL usage: \d+ records, \d+ full page images, \d+ bytes
\tsystem usage: CPU: .*elapsed: [\d.]+ s/,
	'with log_autovacuum_min_duration = 0 the run of logged is logged in full');
unlike($log, qr/of table "app.public.quiet"/,
	'a table whose reloption sets a 1h threshold is not logged');

al_counters_balance($node);
$node->stop;
done_testing();
