# Helpers shared by pg_autolauncher's TAP tests.
#
# Every wait here is bounded: poll_query_until gives up after
# $PostgreSQL::Test::Utils::timeout_default seconds and the caller's ok()
# then fails.

package AutoLauncherTest;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(al_node al_status al_wait_slots_free al_slot_states
  al_make_dead_tuples);

# A started node with the library preloaded, autovacuum off, and the
# extension created in "postgres".  %conf adds or overrides settings.
sub al_node
{
	my ($name, %conf) = @_;
	my %settings = (
		shared_preload_libraries => "'pg_autolauncher'",
		autovacuum => 'off',
		'pg_autolauncher.naptime' => '1s',
		%conf);

	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		join('', map { "$_ = $settings{$_}\n" } sort keys %settings));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_autolauncher');
	return $node;
}

# One column of autolauncher.status.
sub al_status
{
	my ($node, $column) = @_;
	return $node->safe_psql('postgres',
		"SELECT $column FROM autolauncher.status");
}

# Slot states in slot order, e.g. "free,running,free".
sub al_slot_states
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(state, ',' ORDER BY slot) FROM autolauncher.workers"
	);
}

# Wait until every slot is free and no worker process is left.
sub al_wait_slots_free
{
	my ($node, $what) = @_;
	ok( $node->poll_query_until(
			'postgres', q{
			SELECT (SELECT count(*) FROM autolauncher.workers
					WHERE state <> 'free') = 0
			   AND (SELECT count(*) FROM pg_stat_activity
					WHERE backend_type = 'pg_autolauncher worker') = 0}),
		$what // 'every slot is free and no worker is left');
}

# Fill a table with $rows rows and update all of them, leaving $rows dead
# tuples.  Returns once the counts are visible in pg_stat_user_tables.
sub al_make_dead_tuples
{
	my ($node, $db, $table, $rows) = @_;
	$node->safe_psql(
		$db, qq{
		UPDATE $table SET v = v + 1;
		SELECT pg_stat_force_next_flush();});
	$node->poll_query_until($db,
		"SELECT n_dead_tup >= $rows FROM pg_stat_user_tables WHERE relname = '$table'"
	) or die "dead tuples of $table never became visible";
	return;
}

1;
