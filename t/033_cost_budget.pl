# The cost budget holds, as core guarantees: the cost limits that balanced
# workers really use never add up to more than autovacuum_vacuum_cost_limit.
# Three workers start, one after another, on large tables; a session
# samples autolauncher.workers.cost_limit every few milliseconds
# meanwhile.  Running workers are rebalanced in the middle of their table
# when another starts or exits, and on SIGHUP.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $budget = 60;
my $node = al_node(
	'cost_budget',
	'pg_autolauncher.enabled' => 'off',
	autovacuum_vacuum_cost_limit => $budget,
	autovacuum_vacuum_cost_delay => '20ms');

for my $db (qw(c1 c2 c3))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql(
		$db, q{
		CREATE TABLE big (id int, v int, pad text);
		INSERT INTO big SELECT g, 0, repeat('x', 100) FROM generate_series(1, 100000) g;
		VACUUM ANALYZE big;});
	al_make_dead_tuples($node, $db, 'big', 100000);
}

# Every few milliseconds, until told to stop: how many workers hold a
# share, and their sum.  Each sample is committed, so the test can watch.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE samples (n int, total int, shares text);
	CREATE TABLE stop ();
	CREATE PROCEDURE sample() LANGUAGE plpgsql AS $$
	BEGIN
		FOR i IN 1 .. 60000 LOOP
			EXIT WHEN EXISTS (SELECT FROM stop);
			INSERT INTO samples
			SELECT count(*), coalesce(sum(cost_limit), 0),
				   string_agg(cost_limit::text, ',' ORDER BY slot)
			  FROM autolauncher.workers WHERE cost_limit IS NOT NULL;
			COMMIT;
			PERFORM pg_sleep(0.002);
		END LOOP;
	END $$;});
my $sampler = $node->background_psql('postgres');
$sampler->query_until(qr/sampling/, "\\echo sampling\nCALL sample();\n");

# Wait until the running workers' shares, in database order, are $want.
sub shares_become
{
	my ($want) = @_;
	return $node->poll_query_until(
		'postgres', qq{
		SELECT string_agg(cost_limit::text, ',' ORDER BY datname) = '$want'
		  FROM autolauncher.workers WHERE state = 'running' AND relname = 'big'});
}

my %pid;
my $n = 0;
for my $db (qw(c1 c2 c3))
{
	$node->safe_psql('postgres', "SELECT autolauncher.request('$db')");
	$pid{$db} = al_wait_running($node, $db, 'big');
	$n++;
	# the sampler sees each state for a while before the next worker starts
	$node->poll_query_until('postgres',
		"SELECT count(*) >= 20 FROM samples WHERE n = $n")
	  or die "the sampler never saw $n workers";
}
ok(shares_become('20,20,20'),
	'with three workers, each has a third of the budget');
is( $node->safe_psql(
		'postgres', q{
		SELECT count(*) FROM autolauncher.workers
		 WHERE state = 'running' AND relname = 'big' AND tables_done = 0}),
	'3',
	'all three are still in their first table: the first two were rebalanced mid-table'
);

# One exits: the other two share its part at once, mid-table.
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid{c3})");
ok(shares_become('30,30'), 'when one exits, the two left share the budget');

$node->safe_psql('postgres', 'INSERT INTO stop DEFAULT VALUES');
$sampler->quit;

my ($samples, $max_total, $states) = split /\|/,
  $node->safe_psql('postgres',
	"SELECT count(*), max(total), string_agg(DISTINCT n::text, ',') FROM samples WHERE n > 0"
  );
is($states, '1,2,3',
	"$samples samples saw one, two and three workers holding shares");
cmp_ok($max_total, '<=', $budget,
	"the shares in use never added up to more than the budget of $budget");
if ($max_total > $budget)
{
	diag $node->safe_psql('postgres',
		"SELECT string_agg(shares, ' | ') FROM samples WHERE total > $budget");
}

# SIGHUP: a lower budget reaches the running workers, mid-table.
al_reload($node, autovacuum_vacuum_cost_limit => 30);
ok(shares_become('15,15'),
	'after a reload with a budget of 30, the running workers have 15 each');

$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM autolauncher.workers WHERE state = 'running'");
al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
