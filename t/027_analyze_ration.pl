# The ANALYZE ration: an ANALYZE holds a snapshot, which keeps every dead
# tuple of its database from being pruned while it samples.  So a table is
# analyzed at most every max(naptime, 50 x its last ANALYZE's duration),
# however often it crosses its analyze threshold; when its modifications
# pass ten times the threshold, every max(naptime / 4, 10 x that duration)
# (docs/scheduling.md).

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $naptime_ms = 6000;
my $node = al_node(
	'analyze_ration',
	'pg_autolauncher.naptime' => '6s',
	'pg_autolauncher.check_interval' => '200ms');

# Inserts make no vacuum due here: a vacuum would count the inserted rows
# into reltuples, and so raise the analyze threshold the test measures
# against.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE stats (id serial PRIMARY KEY, v int, pad text)
		WITH (autovacuum_vacuum_insert_threshold = -1,
			  autovacuum_analyze_scale_factor = 0.05);
	INSERT INTO stats (v, pad) SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;});
$node->safe_psql('postgres', 'VACUUM ANALYZE stats');

# Sample what pg_autolauncher recorded of its ANALYZEs: end => duration.
my %analyzes;
sub sample
{
	my $row = $node->safe_psql(
		'postgres', q{
		SELECT extract(epoch FROM last_autolauncher_analyze), last_analyze_ms
		  FROM autolauncher.tables WHERE relname = 'stats'
		   AND last_autolauncher_analyze IS NOT NULL});
	my ($end, $ms) = split /\|/, $row;
	$analyzes{$end} = $ms if $row ne '';
	return;
}

# 40 s of inserts, about 1,300 rows a second: the analyze threshold (50 +
# 5% of the table) is crossed every one to three seconds, and ten times
# over only after more than a naptime.  Count the samples that
# see the table over its threshold while its last ANALYZE ended less than
# the ration ago: the ration, not the threshold, held it back then.
my $load = $node->background_psql('postgres');
my $end = time() + 40;
my $held = 0;
while (time() < $end)
{
	$load->query_safe(
		"INSERT INTO stats (v, pad) SELECT g, repeat('x', 100) FROM generate_series(1, 200) g");
	sample();
	my ($over, $since, $ms) = split /\|/, $node->safe_psql(
		'postgres', q{
		SELECT s.n_mod_since_analyze > 50 + 0.05 * c.reltuples,
		       extract(epoch FROM now() - t.last_autolauncher_analyze),
		       t.last_analyze_ms
		  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		  JOIN autolauncher.tables t ON t.relid = s.relid
		 WHERE s.relname = 'stats' AND t.last_autolauncher_analyze IS NOT NULL});
	if (defined $ms && $ms ne '')
	{
		my $ration_s = 50 * $ms / 1000;
		$ration_s = $naptime_ms / 1000 if $ration_s < $naptime_ms / 1000;
		$held++ if $over eq 't' && $since < $ration_s - 0.5;
	}
	sleep(0.1);
}

my @ends = sort { $a <=> $b } keys %analyzes;
cmp_ok(scalar(@ends), '>=', 3, scalar(@ends) . ' ANALYZEs of stats in 40 s');
my @gaps;
my $short = 0;
for my $k (1 .. $#ends)
{
	my $gap_ms = ($ends[$k] - $ends[ $k - 1 ]) * 1000;
	my $ration_ms = 50 * $analyzes{ $ends[ $k - 1 ] };
	$ration_ms = $naptime_ms if $ration_ms < $naptime_ms;
	push @gaps, sprintf('%.0f>=%.0f', $gap_ms, $ration_ms);
	$short++ if $gap_ms < $ration_ms;
}
is($short, 0,
	'no ANALYZE came before the ration allowed (gap>=ration, ms: '
	  . join(' ', @gaps) . ')');
cmp_ok($held, '>', 0,
	"$held samples saw stats over its threshold within its ration: it was the ration that held");

#
# Far past the threshold, the ration shortens: the planner's statistics
# would be too far off.
#
# The load's last statistics reach pgstats now, not when it gets round to
# it; then whatever ANALYZE they make due runs, or none is due.
$load->query_safe('SELECT pg_stat_force_next_flush()');
$load->query_safe('SELECT 1');
$load->quit;
ok( $node->poll_query_until(
		'postgres', q{
		SELECT s.n_mod_since_analyze <= 50 + 0.05 * c.reltuples
		       AND t.schedule IS DISTINCT FROM 'running'
		  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		  JOIN autolauncher.tables t ON t.relid = s.relid
		 WHERE s.relname = 'stats'}),
	'once the load stopped, stats was left under its threshold');

# One more crossing, 1.5 times the threshold, so that the ANALYZE the test
# measures from has just ended when the big insert comes.
sample();
@ends = sort { $a <=> $b } keys %analyzes;
my $last = $ends[-1];
my ($reltuples0) = $node->safe_psql('postgres',
	"SELECT reltuples FROM pg_class WHERE relname = 'stats'");
my $crossing = int(1.5 * (50 + 0.05 * $reltuples0));
$node->safe_psql('postgres',
	"INSERT INTO stats (v, pad) SELECT g, 'z' FROM generate_series(1, $crossing) g");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT extract(epoch FROM last_autolauncher_analyze) > $last
		  FROM autolauncher.tables WHERE relname = 'stats'}),
	"$crossing rows inserted, 1.5 times the threshold: analyzed");
sample();
@ends = sort { $a <=> $b } keys %analyzes;
my $prev = $ends[-1];
my $ration_s = 50 * $analyzes{$prev} / 1000;
$ration_s = $naptime_ms / 1000 if $ration_s < $naptime_ms / 1000;
my ($reltuples) = $node->safe_psql('postgres',
	"SELECT reltuples FROM pg_class WHERE relname = 'stats'");
my $rows = int(11 * (50 + 0.05 * $reltuples));
$node->safe_psql('postgres',
	"INSERT INTO stats (v, pad) SELECT g, 'y' FROM generate_series(1, $rows) g");
ok( $node->poll_query_until(
		'postgres', qq{
		SELECT extract(epoch FROM last_autolauncher_analyze) > $prev
		  FROM autolauncher.tables WHERE relname = 'stats'}),
	"$rows rows inserted, 11 times the threshold: analyzed");
sample();
@ends = sort { $a <=> $b } keys %analyzes;
cmp_ok(
	$ends[-1] - $prev, '<', $ration_s,
	sprintf('%.1fs after the ANALYZE before it, sooner than its ration of %.1fs',
		$ends[-1] - $prev, $ration_s));

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
