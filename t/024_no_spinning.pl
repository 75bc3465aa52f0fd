# No spinning: a table that stays hot, over its threshold again within a
# second of each vacuum, is not processed again before its revisit time,
# max(2 s, 4 x its last run) after the run ended (docs/scheduling.md).
# Without that rule it would be vacuumed back to back, as fast as the
# statistics are flushed.  Nor is it starved: once its revisit time
# comes, it is processed again within seconds.

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
	sleep(0.1);
}
$load->quit;

# Each run ends with a revisit time: gather them, in order.
my %revisit;    # end of a run => the revisit time set as it ended
for my $s (@samples)
{
	my ($at, $schedule, $wait_until, $last) = @$s;
	$revisit{$last} = $wait_until
	  if $schedule eq 'waiting' && $last ne '' && $wait_until ne '';
}
my @ends = sort { $a <=> $b } keys %revisit;
cmp_ok(scalar(@ends), '>=', 3,
	scalar(@ends) . ' runs on hot in 30 s');

# No sample saw hot taken again before its revisit time, and none saw it
# wait long after that time without being taken.
my ($early, $late, @report) = (0, 0);
for my $k (0 .. $#ends - 1)
{
	my ($this_end, $next_end) = @ends[ $k, $k + 1 ];
	my $due_at = $revisit{$this_end};
	# The run that set last_autolauncher_vacuum may still be analyzing
	# the table: the next run starts at the first 'running' sample after
	# the table was seen waiting.
	my ($waited) = map { $_->[0] }
	  grep { $_->[0] > $this_end && $_->[1] eq 'waiting' } @samples;
	next unless defined $waited;
	my ($taken) = map { $_->[0] }
	  grep { $_->[0] > $waited && $_->[1] eq 'running' } @samples;
	next unless defined $taken;
	$early++ if $taken < $due_at;
	$late++ if $taken > $due_at + 3;
	push @report,
	  sprintf('revisit %.1fs after the run, taken %.1fs after it',
		$due_at - $this_end, $taken - $this_end);
}
is($early, 0,
	'hot was never taken again before its revisit time: ' . join('; ', @report));
is($late, 0, 'and always within 3 s after it');

# Its runs were its revisit time apart at least.
my $close = grep { $ends[$_] < $revisit{ $ends[ $_ - 1 ] } } 1 .. $#ends;
is($close, 0, 'no run ended before the revisit time of the run before it');

al_wait_slots_free($node);
al_counters_balance($node);
$node->stop;
done_testing();
