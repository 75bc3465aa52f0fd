# What a worker does inside its database: which tables it takes, which it
# leaves alone, and that one failing table does not stop it.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node('tables', 'pg_autolauncher.enabled' => 'off');
$node->safe_psql('postgres', 'CREATE DATABASE work');

# "failing": analyzing it raises an error, through an expression index
# whose function is redefined to fail once the index exists; it needs an
# analyze.  "good", "mv" and "toasty" need a vacuum and an analyze,
# and so would "disabled", but it has autovacuum_enabled = false.
$node->safe_psql(
	'work', q{
	CREATE FUNCTION boom(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
	CREATE TABLE failing (v int);
	INSERT INTO failing SELECT generate_series(1, 5000);
	CREATE INDEX failing_boom ON failing (boom(v));
	VACUUM failing;
	CREATE OR REPLACE FUNCTION boom(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
		$$BEGIN RAISE EXCEPTION 'boom %', $1; END$$;
	CREATE TABLE good (v int);
	CREATE TABLE disabled (v int) WITH (autovacuum_enabled = false);
	CREATE TABLE toasty (v int, doc text);
	ALTER TABLE toasty ALTER doc SET STORAGE EXTERNAL;
	INSERT INTO good SELECT generate_series(1, 5000);
	INSERT INTO disabled SELECT generate_series(1, 5000);
	INSERT INTO toasty SELECT g, repeat('x', 5000) FROM generate_series(1, 2000) g;
	CREATE MATERIALIZED VIEW mv AS SELECT * FROM good;
	DELETE FROM good; DELETE FROM disabled; DELETE FROM toasty;
	INSERT INTO good SELECT generate_series(1, 5000);
	REFRESH MATERIALIZED VIEW mv;});

my $offset = -s $node->logfile;
my $slot = $node->safe_psql('postgres', "SELECT autolauncher.request('work')");
al_wait_slots_free($node);

$node->wait_for_log(
	qr/automatic (vacuum|analyze) of table "work.public.failing"/, $offset);
like(slurp_file($node->logfile, $offset), qr/ERROR:  boom \d+/,
	'the processing of failing raised its error');
pass('the failing table logged its error with an autovacuum-style context');

my %stats = map { split /\|/ } split /\n/, $node->safe_psql(
	'work', q{
	SELECT relname,
	       (last_autovacuum IS NOT NULL) || ',' || (last_autoanalyze IS NOT NULL)
	  FROM pg_stat_user_tables});
is($stats{good}, 'true,true', 'good was vacuumed and analyzed');
is($stats{disabled}, 'false,false',
	'autovacuum_enabled = false kept the worker away from disabled');
is($stats{mv}, 'true,true', 'the matview was vacuumed and analyzed');
is($stats{toasty}, 'true,true', 'toasty was vacuumed and analyzed');

is( $node->safe_psql(
		'work', q{
		SELECT s.autovacuum_count > 0 FROM pg_stat_all_tables s
		  JOIN pg_class c ON c.reltoastrelid = s.relid
		 WHERE c.relname = 'toasty'}),
	't',
	'the TOAST table of toasty was vacuumed on its own');

is( $node->safe_psql(
		'postgres', q{
		SELECT workers_finished = 1 AND worker_failures = 0 FROM autolauncher.status}),
	't',
	'a failing table does not fail the worker');

$node->stop;
done_testing();
