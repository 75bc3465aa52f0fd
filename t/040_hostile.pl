# Hostile input and privileges: bad GUC values in postgresql.conf, the
# extension in two databases and dropped while a worker runs, which table a
# worker processes as seen from other databases and roles, and an index
# expression that runs as its table's owner, never as superuser.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = al_node('hostile', 'pg_autolauncher.enabled' => 'off');

#
# Out-of-range values in postgresql.conf are rejected at reload; the
# server stays up with the old values.
#
my $offset = -s $node->logfile;
al_reload(
	$node,
	'pg_autolauncher.max_workers' => '5000',
	'pg_autolauncher.naptime' => "'-5s'",
	'pg_autolauncher.check_interval' => '0');
$node->wait_for_log(qr/5000 is outside the valid range for parameter "pg_autolauncher.max_workers"/,
	$offset);
my $log = slurp_file($node->logfile, $offset);
like($log, qr/-5 s is outside the valid range for parameter "pg_autolauncher.naptime"/,
	'a negative naptime is rejected');
like($log, qr/0 ms is outside the valid range for parameter "pg_autolauncher.check_interval"/,
	'a zero check_interval is rejected');
is( $node->safe_psql(
		'postgres',
		q{SELECT current_setting('pg_autolauncher.max_workers') || ',' ||
		         current_setting('pg_autolauncher.naptime') || ',' ||
		         current_setting('pg_autolauncher.check_interval')}),
	'3,1s,1s',
	'the server is up and kept the old values');
is(al_status($node, 'max_workers'), '3', 'and the launcher too');

# A bad restart-only value does not stop the server from starting.
$node->append_conf('postgresql.conf', "pg_autolauncher.worker_slots = 100000\n");
$node->restart;
is($node->safe_psql('postgres', 'SHOW pg_autolauncher.worker_slots'),
	'8', 'an out-of-range worker_slots leaves the default at start');
$node->append_conf('postgresql.conf', "pg_autolauncher.worker_slots = 8\n");
$node->adjust_conf('postgresql.conf', 'pg_autolauncher.max_workers', '3');
$node->adjust_conf('postgresql.conf', 'pg_autolauncher.naptime', "'1s'");
$node->adjust_conf('postgresql.conf', 'pg_autolauncher.check_interval', "'1s'");
$node->reload;

#
# The extension in a second database, and dropped while a worker runs:
# the workers belong to the library, not to the extension.
#
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION pg_autolauncher');
is( $node->safe_psql(
		'other', 'SELECT worker_slots FROM autolauncher.status'),
	'8',
	'the extension works in a second database, on the same shared state');

$node->safe_psql('postgres', 'CREATE DATABASE busy');
al_slow_table($node, 'busy', 'big', 30000);
$node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
my $pid = al_wait_running($node, 'busy', 'big');

# Which table the worker processes: hidden from a plain role in another
# database, as pg_stat_activity hides other sessions' queries; shown to
# pg_read_all_stats and pg_monitor members, and in the table's database.
$node->safe_psql(
	'postgres', q{
	CREATE ROLE plain LOGIN;
	CREATE ROLE stats LOGIN IN ROLE pg_read_all_stats;
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;});
$node->safe_psql('busy', 'CREATE EXTENSION pg_autolauncher');
my $seen = q{SELECT datname || ':' || coalesce(relname, '<hidden>') || ':' ||
	CASE WHEN action IS NULL THEN '<hidden>' ELSE 'action' END
	FROM autolauncher.workers WHERE pid = } . $pid;
my %expect = (
	'plain@postgres' => 'busy:<hidden>:<hidden>',
	'stats@postgres' => 'busy:big:action',
	'monitor@postgres' => 'busy:big:action',
	'plain@busy' => 'busy:big:action');
for my $who (sort keys %expect)
{
	my ($role, $db) = split /@/, $who;
	is($node->safe_psql($db, "SET ROLE $role; $seen"),
		$expect{$who}, "what $role sees of the worker from $db");
}
$node->safe_psql('busy', 'DROP EXTENSION pg_autolauncher');

$node->safe_psql('postgres', 'DROP EXTENSION pg_autolauncher');
is( $node->safe_psql(
		'other',
		"SELECT pid FROM autolauncher.workers WHERE datname = 'busy' AND state = 'running'"
	),
	$pid,
	'after DROP EXTENSION in postgres the worker keeps working');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_autolauncher');
$node->safe_psql('busy', 'DROP TABLE big');
al_wait_slots_free($node);

#
# An index expression runs as the table's owner, in a security-restricted
# operation, never as the superuser the worker connects as.
#
$node->safe_psql(
	'busy', q{
	CREATE ROLE alice;
	CREATE TABLE spy_log (who text, sro text);
	GRANT INSERT ON spy_log TO alice;
	-- an index expression must be immutable; it calls a volatile helper
	-- that records who runs it and whether it can escape
	CREATE FUNCTION spy_record() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
	BEGIN
		INSERT INTO public.spy_log VALUES (current_user, 'ran');
		INSERT INTO public.spy_log VALUES (current_user, 'settings: ' ||
			pg_catalog.quote_literal(pg_catalog.current_setting('search_path')) || ' ' ||
			pg_catalog.current_setting('statement_timeout') || ' ' ||
			pg_catalog.current_setting('lock_timeout') || ' ' ||
			pg_catalog.current_setting('idle_in_transaction_session_timeout'));
		BEGIN
			CREATE TEMP TABLE escape (v int);
			INSERT INTO public.spy_log VALUES (current_user, 'temp table allowed');
		EXCEPTION WHEN others THEN
			INSERT INTO public.spy_log VALUES (current_user, 'restricted: ' || SQLERRM);
		END;
	END $$;
	CREATE FUNCTION spy(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
	BEGIN
		PERFORM public.spy_record();
		RETURN $1;
	END $$;
	CREATE TABLE owned (v int);
	ALTER TABLE owned OWNER TO alice;
	INSERT INTO owned SELECT generate_series(1, 3000);});
$node->safe_psql('busy', 'CREATE INDEX owned_spy ON owned (spy(v))');
# settings a worker's session must not inherit from its database
$node->safe_psql(
	'postgres', q{
	ALTER DATABASE busy SET search_path = public;
	ALTER DATABASE busy SET statement_timeout = '1min';
	ALTER DATABASE busy SET lock_timeout = '1min';
	ALTER DATABASE busy SET idle_in_transaction_session_timeout = '1min';});
$node->safe_psql('busy', 'INSERT INTO owned SELECT generate_series(1, 3000)');
# forget what our own statements recorded: only the worker's runs count
$node->safe_psql('busy', 'TRUNCATE spy_log');
$node->safe_psql('postgres', "SELECT autolauncher.request('busy')");
al_wait_slots_free($node);
is( $node->safe_psql(
		'busy',
		"SELECT autoanalyze_count > 0 FROM pg_stat_user_tables WHERE relname = 'owned'"),
	't',
	'the worker analyzed the table, evaluating the index expression');
is( $node->safe_psql(
		'busy', 'SELECT string_agg(DISTINCT who, \',\') FROM spy_log'),
	'alice',
	'the expression ran as the table owner, not as a superuser');
like(
	$node->safe_psql('busy', "SELECT string_agg(DISTINCT sro, ',') FROM spy_log WHERE sro LIKE 'restricted%' OR sro LIKE 'temp%'"),
	qr/^restricted: cannot create temporary table within security-restricted operation$/,
	'inside a security-restricted operation');
is( $node->safe_psql(
		'busy', "SELECT string_agg(DISTINCT sro, ',') FROM spy_log WHERE sro LIKE 'settings%'"),
	"settings: '' 0 0 0",
	'the worker runs with an empty search_path and no statement, lock or idle timeout, whatever its database sets'
);

$node->stop;
done_testing();
