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
  al_make_dead_tuples al_enable_injection al_inject al_slow_table
  al_wait_running al_counters_balance al_reload al_wait_vacuumed
  al_memory_contexts al_burn_xids al_freeze_database al_align_xid_limit
  al_poll_within);

# postgresql.conf lines for a hash of settings
sub conf_lines
{
	my (%settings) = @_;
	return join('', map { "$_ = $settings{$_}\n" } sort keys %settings);
}

# A started node with the library preloaded, autovacuum off, and the
# extension created in "postgres".  %conf adds or overrides settings; its
# key _init, if given, is a hash ref of options for Cluster->init.
sub al_node
{
	my ($name, %conf) = @_;
	my $init = delete $conf{_init} // {};
	my %settings = (
		shared_preload_libraries => "'pg_autolauncher'",
		autovacuum => 'off',
		'pg_autolauncher.naptime' => '1s',
		%conf);

	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%$init);
	$node->append_conf('postgresql.conf', conf_lines(%settings));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_autolauncher');
	return $node;
}

# Append settings to postgresql.conf and reload.
sub al_reload
{
	my ($node, %settings) = @_;
	$node->append_conf('postgresql.conf', conf_lines(%settings));
	$node->reload;
	return;
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

# Declare the fault-injection function of a test build (src/testing.c).
sub al_enable_injection
{
	my ($node) = @_;
	my ($ret, $stdout, $stderr) = $node->psql(
		'postgres', q{
		CREATE FUNCTION al_test_inject(what text, dboid oid DEFAULT 0)
		RETURNS void AS 'pg_autolauncher', 'pg_autolauncher_test_inject'
		LANGUAGE C STRICT});
	BAIL_OUT(
		"pg_autolauncher was built without fault injection; build and install it with \"make AL_TESTING=1\": $stderr"
	) if $ret != 0;
	return;
}

# Inject a fault: 'launcher_loop', 'launcher_dispatch', 'worker' (in the
# database named $dbname) or 'none'.
sub al_inject
{
	my ($node, $what, $dbname) = @_;
	my $oid =
	  defined $dbname
	  ? "(SELECT oid FROM pg_database WHERE datname = '$dbname')"
	  : '0';
	$node->safe_psql('postgres', "SELECT al_test_inject('$what', $oid)");
	return;
}

# Create table $table in $db with $rows rows, all of them dead, whose
# vacuum is throttled so hard (through its own cost reloptions) that it
# runs until interrupted.
sub al_slow_table
{
	my ($node, $db, $table, $rows) = @_;
	$node->safe_psql(
		$db, qq{
		CREATE TABLE $table (id int, v int, pad text)
			WITH (autovacuum_vacuum_cost_delay = 100,
				  autovacuum_vacuum_cost_limit = 1);
		INSERT INTO $table SELECT g, 0, repeat('x', 100)
		  FROM generate_series(1, $rows) g;
		VACUUM ANALYZE $table;});
	al_make_dead_tuples($node, $db, $table, $rows);
	return;
}

# Wait until a worker in $db is vacuuming $table; return its pid.
sub al_wait_running
{
	my ($node, $db, $table) = @_;
	$node->poll_query_until(
		'postgres', qq{
		SELECT count(*) = 1 FROM autolauncher.workers
		 WHERE state = 'running' AND datname = '$db' AND relname = '$table'})
	  or die "no worker started vacuuming $db.$table";
	return $node->safe_psql('postgres',
		"SELECT pid FROM autolauncher.workers WHERE datname = '$db' AND relname = '$table'"
	);
}

# Wait until $db.$table has been vacuumed and has no dead tuples left.
sub al_wait_vacuumed
{
	my ($node, $db, $table, $what) = @_;
	ok( $node->poll_query_until(
			$db,
			"SELECT n_dead_tup = 0 AND autovacuum_count > 0 FROM pg_stat_user_tables WHERE relname = '$table'"
		),
		$what);
	return;
}

# The invariant of the counters once every slot is free: every worker
# launched finished, failed, or was ended by a DDL command.  Returns true
# if it holds.
sub al_counters_balance
{
	my ($node, $what) = @_;
	my ($launched, $finished, $failures, $ddl) = split /\|/,
	  $node->safe_psql('postgres',
		'SELECT workers_launched, workers_finished, worker_failures, workers_ddl_terminated FROM autolauncher.status'
	  );
	return is($launched, $finished + $failures + $ddl,
		($what // 'counters balance')
		  . ": launched ($launched) = finished ($finished) + failed ($failures)"
		  . " + ended by DDL ($ddl)");
}

# Log the memory contexts of backend $pid with pg_log_backend_memory_contexts
# and parse what it wrote.  Returns a hash ref: grand_total (bytes), own
# (context name => its own total bytes) and subtree (context name => total
# bytes of that context and its children), each summed over every context
# of that name.
sub al_memory_contexts
{
	my ($node, $pid) = @_;
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)")
	  eq 't'
	  or die "pg_log_backend_memory_contexts($pid) failed";
	$node->wait_for_log(qr/\[$pid\] LOG:  Grand total: \d+ bytes/, $offset);

	my @lines = grep { /\[$pid\] LOG:  / } split /\n/,
	  slurp_file($node->logfile, $offset);
	my %result = (own => {}, subtree => {});
	my @stack;    # [level, name] of the ancestors of the current line
	for my $line (@lines)
	{
		if ($line =~ /Grand total: (\d+) bytes/)
		{
			$result{grand_total} = $1;
			last;
		}
		next
		  unless $line =~
		  /level: (\d+); (?:(.+?): (\d+) total|\d+ more child contexts containing (\d+) total)/;
		my ($level, $name, $bytes) = ($1, $2 // '(more)', $3 // $4);
		$result{own}{$name} += $bytes;
		pop @stack while @stack && $stack[-1][0] >= $level;
		push @stack, [ $level, $name ];
		$result{subtree}{ $_->[1] } += $bytes for @stack;
	}
	die "no Grand total from PID $pid" unless defined $result{grand_total};
	return \%result;
}

# Consume $n transaction IDs, fast: a procedure in "postgres" that commits
# after taking each one.  It is created by the first call only, so that
# later calls change no catalog.
sub al_burn_xids
{
	my ($node, $n) = @_;
	$node->safe_psql(
		'postgres', q{
		DO $$
		BEGIN
			IF to_regproc('public.al_burn_xids') IS NULL THEN
				CREATE PROCEDURE public.al_burn_xids(n int) LANGUAGE plpgsql AS $p$
				BEGIN
					FOR i IN 1 .. n LOOP
						PERFORM pg_current_xact_id();
						COMMIT;
					END LOOP;
				END $p$;
			END IF;
		END $$;});
	$node->safe_psql('postgres', "CALL public.al_burn_xids($n)");
	return;
}

# VACUUM FREEZE a whole database, template0 included, so that its
# datfrozenxid is as young as it can be.
sub al_freeze_database
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres',
		"ALTER DATABASE $db ALLOW_CONNECTIONS true") if $db eq 'template0';
	$node->safe_psql($db, 'VACUUM FREEZE');
	$node->safe_psql('postgres',
		"ALTER DATABASE $db ALLOW_CONNECTIONS false") if $db eq 'template0';
	return;
}

# Core starts its own emergency autovacuum launcher when a new XID is a
# multiple of 65536 past xidVacLimit (the oldest datfrozenxid plus
# autovacuum_freeze_max_age).  Burn XIDs so that, if the databases are
# frozen now, that limit falls at least 25,000 XIDs short of the next
# multiple: a test then has that many XIDs of wraparound danger to itself,
# without core's workers.
sub al_align_xid_limit
{
	my ($node, $freeze_max_age) = @_;
	my $next = $node->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	my $r = ($next + 100 + $freeze_max_age) % 65536;
	my $burn = $r < 1000 ? 1000 - $r : $r > 40000 ? 65536 - $r + 1000 : 0;
	al_burn_xids($node, $burn) if $burn > 0;
	return;
}

# Like poll_query_until, but with a deadline of $seconds: true if $sql
# returned true in time.
sub al_poll_within
{
	my ($node, $db, $sql, $seconds) = @_;
	my $deadline = time() + $seconds;
	while (time() < $deadline)
	{
		return 1 if $node->safe_psql($db, $sql) eq 't';
		select(undef, undef, undef, 0.2);
	}
	return 0;
}

1;
