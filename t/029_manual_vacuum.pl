# Nothing is missed when someone else vacuums or analyzes a table.  The
# launcher judges a known table with the reltuples a worker last read; a
# manual VACUUM or ANALYZE can lower it, and with it the table's
# thresholds.  The launcher sees the table's vacuum or analyze count move
# without a run of ours, judges it with its database's floor until a
# worker reads it again, and so processes it as core would.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node(
	'manual_vacuum',
	'pg_autolauncher.check_interval' => '200ms',
	'pg_autolauncher.max_visit_interval' => '1h');

# t: 10,000 rows, learnt by a worker (its vacuum threshold: 50 + 20% of
# 10,000 = 2,050 dead tuples).
$node->safe_psql(
	'postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 10000) g;
	SELECT pg_stat_force_next_flush();});
ok( $node->poll_query_until(
		'postgres', q{
		SELECT autolauncher_vacuum_count > 0 AND schedule IN ('idle', 'waiting')
		  FROM autolauncher.tables WHERE relname = 't'}),
	'a worker processed t and learnt it');
al_wait_slots_free($node);
my $runs = $node->safe_psql('postgres',
	"SELECT autolauncher_vacuum_count FROM autolauncher.tables WHERE relname = 't'");

# Someone deletes most of it and vacuums and analyzes it by hand:
# reltuples is now 100, and the thresholds 70 (vacuum) and 60 (analyze).
# Then 80 rows are updated.  (The launcher is off meanwhile, or it would
# process the deleted rows itself.)
al_reload($node, 'pg_autolauncher.enabled' => 'off');
$node->safe_psql('postgres', 'DELETE FROM t WHERE id > 100');
$node->safe_psql('postgres', 'VACUUM ANALYZE t');
$node->safe_psql(
	'postgres', q{
	UPDATE t SET v = v + 1 WHERE id <= 80;
	SELECT pg_stat_force_next_flush();});
is( $node->safe_psql(
		'postgres', "SELECT needs_vacuum FROM autolauncher.tables WHERE relname = 't'"),
	't', 'by core\'s formulas, t needs a vacuum');
al_reload($node, 'pg_autolauncher.enabled' => 'on');
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT autolauncher_vacuum_count > $runs
		  FROM autolauncher.tables WHERE relname = 't'}),
	'and pg_autolauncher vacuumed it, not judging it by its old reltuples');
is($node->safe_psql('postgres',
		"SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 't'"),
	'0', 'its dead tuples are gone');

al_wait_slots_free($node);

# A TRUNCATE sets reltuples with no vacuum or analyze count moving.  u has
# 10,000 rows, learnt by a worker (analyze threshold 50 + 10% = 1,050);
# truncated and refilled with 200 rows, core would analyze it (200 > 50 +
# 10% of 0), and so must we.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE u (id int PRIMARY KEY, v int);
	INSERT INTO u SELECT g, 0 FROM generate_series(1, 10000) g;
	SELECT pg_stat_force_next_flush();});
ok( $node->poll_query_until(
		'postgres', q{
		SELECT autolauncher_analyze_count > 0 AND reltuples = 10000
		   AND schedule IN ('idle', 'waiting')
		  FROM autolauncher.tables WHERE relname = 'u'}),
	'a worker processed u and learnt it');
al_wait_slots_free($node);
my $analyzes = $node->safe_psql('postgres',
	"SELECT autolauncher_analyze_count FROM autolauncher.tables WHERE relname = 'u'");
$node->safe_psql('postgres', 'TRUNCATE u');
$node->safe_psql(
	'postgres', q{
	INSERT INTO u SELECT g, 0 FROM generate_series(1, 200) g;
	SELECT pg_stat_force_next_flush();});
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT autolauncher_analyze_count > $analyzes
		  FROM autolauncher.tables WHERE relname = 'u'}),
	'after TRUNCATE, u is analyzed by its new size, not its old reltuples');

al_wait_slots_free($node);
$node->stop;
done_testing();
