# prometheus-postgres-exporter, with monitoring/postgres_exporter.yaml,
# exposes the status, workers and databases views as metrics, with the
# values the views show.  One scrape of a real exporter on localhost.

use strict;
use warnings;

use lib 't';
use AutoLauncherTest;
use HTTP::Tiny;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($exporter) = grep { -x } map { "$_/prometheus-postgres-exporter" }
  split(/:/, $ENV{PATH}), '/usr/bin';
ok(defined $exporter,
	'prometheus-postgres-exporter is installed (scripts/install-deps)')
  or BAIL_OUT('prometheus-postgres-exporter is missing');

my $node = al_node('exporter', 'pg_autolauncher.check_interval' => '100ms');
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql(
	'app', q{
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, 0 FROM generate_series(1, 1000) g;
	UPDATE t SET v = 1;
	SELECT pg_stat_force_next_flush();});
al_wait_vacuumed($node, 'app', 't', 'app.t was vacuumed');
al_wait_slots_free($node);

# What the views say, with every worker gone, so nothing moves.
my %sql = split /\|/, $node->safe_psql(
	'postgres', q{
	SELECT 'workers_launched|' || workers_launched || '|tables_vacuumed|' || tables_vacuumed
	       || '|worker_slots|' || worker_slots || '|state|' || state
	  FROM autolauncher.status});
my ($app_dispatches, $app_age) = split /\|/, $node->safe_psql(
	'postgres', q{
	SELECT dispatch_count, frozenxid_age FROM autolauncher.databases
	 WHERE datname = 'app'});

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $queries = "$ENV{TESTDIR}/monitoring/postgres_exporter.yaml";
ok(-f $queries, 'the queries file ships in monitoring/');
my ($out, $err) = ('', '');
local $ENV{DATA_SOURCE_NAME} =
	'host=' . $node->host . ' port=' . $node->port
  . ' dbname=postgres sslmode=disable';
my $h = IPC::Run::start(
	[
		$exporter, "--web.listen-address=127.0.0.1:$port",
		"--extend.query-path=$queries", '--log.level=warn'
	],
	'>', \$out, '2>', \$err);

# Scrape, retrying while the exporter starts: at most 30 s.
my $http = HTTP::Tiny->new(timeout => 10);
my $body;
for (1 .. 60)
{
	my $res = $http->get("http://127.0.0.1:$port/metrics");
	if ($res->{success} && $res->{content} =~ /^pg_autolauncher_status_/m)
	{
		$body = $res->{content};
		last;
	}
	sleep(0.5);
}
$h->kill_kill;
ok(defined $body, 'the exporter served /metrics with our metrics')
  or diag("exporter stderr: $err");
$body //= '';

# value of a metric whose labels include all of %labels
sub metric
{
	my ($name, %labels) = @_;
	for my $line (split /\n/, $body)
	{
		next unless $line =~ /^\Q$name\E(?:\{(.*)\})? (\S+)$/;
		my ($l, $v) = ($1 // '', $2);
		next if grep { $l !~ /(?:^|,)\Q$_\E="\Q$labels{$_}\E"/ } keys %labels;
		return $v + 0;
	}
	return undef;
}

is(metric('pg_autolauncher_status_launcher_up', state => $sql{state}),
	1, "launcher_up is 1, with the launcher's state ($sql{state}) as label");
is(metric('pg_autolauncher_status_workers_launched'),
	$sql{workers_launched},
	"workers_launched is the view's $sql{workers_launched}");
is(metric('pg_autolauncher_status_tables_vacuumed'),
	$sql{tables_vacuumed}, "tables_vacuumed is the view's $sql{tables_vacuumed}");
is(metric('pg_autolauncher_workers_slots', state => 'free', kind => 'none'),
	$sql{worker_slots}, "all $sql{worker_slots} worker slots are free");
is(metric('pg_autolauncher_databases_dispatch_count', datname => 'app'),
	$app_dispatches, "app's dispatch_count is the view's $app_dispatches");
is(metric('pg_autolauncher_databases_frozenxid_age', datname => 'app'),
	$app_age, "app's frozenxid_age is the view's $app_age");
like($body, qr/^# TYPE pg_autolauncher_status_workers_launched counter$/m,
	'counters are typed as counters');

$node->stop;
done_testing();
