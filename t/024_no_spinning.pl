# No spinning: a table that stays hot, over its threshold again within a
# second of each vacuum, is not vacuumed again before its revisit time,
# max(2 s, 4 x its last run) after the run ended (docs/scheduling.md).
# Without that rule it would be vacuumed back to back, as fast as the
# statistics are flushed.  Nor is it starved: once its revisit time
# comes, it is processed again within seconds.  An ANALYZE its ration
# allows may run within the revisit time; such a run vacuums nothing.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = al_node(
	'no_spinning',
	'pg_autolauncher.naptime' => '10s',
	'pg_autolauncher.check_interval' => '200ms');

# A table whose vacuum its own cost settings slow to about a second, so
# that 4 x the run is above the 2 s minimum.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE hot (id int PRIMARY KEY, v int, pad text)
		WITH (autovacuum_vacuum_cost_delay = 2,
			  autovacuum_vacuum_cost_limit = 1);
	INSERT INTO hot SELECT g, 0, repeat('x', 200) FROM generate_series(1, 2000) g;});
$node->safe_psql('postgres', 'VACUUM ANALYZE hot');

# 30 s of steady load: 154 rows updated every 0.15 s or so, about 1,000
# dead tuples a second against a threshold of 450.  Sample the table's
# schedule as it goes.
my $load = $node->background_psql('postgres');
my @samples;    # [time, schedule, wait_until, last run's end, runs]
my ($idle_samples, $idle_with_xmin) = (0, 0);
my $end = time() + 30;
while (time() < $end)
{
	$load->query_safe('UPDATE hot SET v = v + 1 WHERE id % 13 = 0');
	my ($schedule, $wait_until, $last, $count) = split /\|/,
	  $node->safe_psql(
		'postgres', q{
		SELECT schedule, extract(epoch FROM wait_until),
		       extract(epoch FROM last_autolauncher_vacuum),
		       autolauncher_vacuum_count
		  FROM autolauncher.tables WHERE relname = 'hot'});
	push @samples, [ time(), $schedule // '', $wait_until, $last, $count ];

	# a worker waiting in the database for more work holds no snapshot
	my ($idle, $idle_xmin) = split /\|/,
	  $node->safe_psql(
		'postgres', q{
		SELECT count(*), count(a.backend_xmin)
		  FROM autolauncher.workers w JOIN pg_stat_activity a USING (pid)
		 WHERE w.idle});
	$idle_samples += $idle;
	$idle_with_xmin += $idle_xmin;
	sleep(0.1);
}
$load->quit;

# Each run ends with a revisit time: going through the samples in order,
# a run ends where 'running' turns 'waiting', and the next run starts at
# the next 'running' sample.  (Runs are told apart by the schedule, not by
# last_autolauncher_vacuum: a run that only analyzes, or finds nothing to
# do, leaves that as it was.)
my @runs;    # [first sample after the run: time, its revisit time,
			 #  next run's start, vacuums counted then]
my $prev = '';
for my $s (@samples)
{
	my ($at, $schedule, $wait_until, $last, $count) = @$s;
	if ($prev eq 'running' && $schedule eq 'waiting' && $wait_until ne '')
	{
		push @runs, [ $at, $wait_until, undef, $count ];
	}
	elsif ($schedule eq 'running' && $prev ne 'running' && @runs
		&& !defined $runs[-1][2])
	{
		$runs[-1][2] = $at;
	}
	$prev = $schedule;
}
cmp_ok(scalar(@runs), '>=', 3, scalar(@runs) . ' runs on hot in 30 s');

# No sample saw hot vacuumed again before its revisit time, and none saw
# it wait long after that time without being taken.  Whether the next run
# vacuumed is told by the vacuum count once it is over (or at the last
# sample, for a run the load's end cut short).
my ($early, $late, $checked, @report) = (0, 0, 0);
for my $k (0 .. $#runs)
{
	my ($seen_waiting, $due_at, $taken, $count) = @{ $runs[$k] };
	next unless defined $taken;
	my $after = $k < $#runs ? $runs[ $k + 1 ][3] : $samples[-1][4];
	my $vacuumed = $after > $count;
	$checked++ if $vacuumed;
	$early++ if $vacuumed && $taken < $due_at;
	$late++ if $taken > $due_at + 3;
	push @report,
	  sprintf('revisit %.1fs after the run was seen over, taken %.1fs after it%s',
		$due_at - $seen_waiting, $taken - $seen_waiting,
		$vacuumed ? '' : ' (an ANALYZE only)');
}
cmp_ok($checked, '>=', 3, "$checked of those runs vacuumed hot");
is($early, 0,
	'hot was never vacuumed again before its revisit time: ' . join('; ', @report));
is($late, 0, 'and always taken within 3 s after it');

# Between its runs, the worker waits for them in the database: it must not
# hold back pruning there meanwhile.
cmp_ok($idle_samples, '>', 0,
	"a worker was seen waiting for more work $idle_samples times");
is($idle_with_xmin, 0, 'and it never held an xmin while it waited');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
