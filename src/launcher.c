/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The pg_autolauncher launcher: watches every database's statistics,
 *		keeps each table's schedule state current, and sends workers where
 *		tables are due.
 *
 * The launcher is a static background worker connected to no database, as
 * core's autovacuum launcher is.  It does no table-level work.  Every
 * pg_autolauncher.check_interval, or sooner when its latch is set (a
 * worker exited or found its queue empty, request() or wakeup() was
 * called, a database was created or dropped), it makes one pass:
 *
 *	1. Reap: free any slot whose worker stopped without freeing it
 *	   (al_reap_slots in slots.c).
 *	2. Read pg_database, when a database DDL ran or a minute passed.
 *	3. Read each database's statistics counter (tuples inserted, updated
 *	   and deleted).  Walk a database's tables in the registry
 *	   (registry_walk_database) only when that counter grew by more than
 *	   the database's headroom, when a waiting table's time comes, when a
 *	   command that moves reltuples committed there, after a reload, and at
 *	   least every max_visit_interval; find tables the registry lacks by a
 *	   walk of the whole statistics hash (registry_discover) only when a
 *	   database's known tables account for less than its counter grew by,
 *	   or it may have tables the registry could not keep, at most every
 *	   second and in at most 1% of the time.  So a pass costs what changed,
 *	   not what exists.
 *	4. Judge each database (al_database_verdict, policy.c): a scan for
 *	   wraparound, a passed freeze deadline or the safety net; workers for
 *	   its due tables; or nothing.  Wake its idle workers if work came.
 *	5. Dispatch: fill free slots, up to max_workers, most urgent first
 *	   (al_compare_candidates); send the fast-lane worker when every regular
 *	   one is busy and a fast table waits; ask idle workers elsewhere to
 *	   yield when a database is due and no slot is free.
 *
 * The design and its reasons are in docs/scheduling.md.  What matters
 * survives a launcher restart: slots, the registry, the databases' entries
 * are in shared memory.  The launcher's own memory holds only what it can
 * rebuild: the per-database walk bookkeeping, and the pg_database list.
 * A pass allocates in LauncherCycleContext, reset when it ends; the
 * bookkeeping lives in LauncherStateContext, one entry per database.  The
 * launcher's CPU is capped at pg_autolauncher.launcher_cpu_limit.
 *
 * IDENTIFICATION
 *	  src/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <sys/resource.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "lib/dshash.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/dsa.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pgstat_internal.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

/* Shortest sleep between two passes, in milliseconds. */
#define MIN_SLEEP_MS	100L

/* Poll interval while a slot waits for its worker to start. */
#define POLL_REQUESTED_MS	1000L

/* Retry interval after the postmaster refused to register a worker. */
#define LAUNCH_RETRY_MS		10000L

/* pg_database is read again at least this often. */
#define DATABASE_LIST_MS	60000L

/* The whole statistics hash is walked at most this often... */
#define DISCOVERY_MIN_MS	1000L
/* ...and, beyond that, at most once per this many times its own cost. */
#define DISCOVERY_COST_RATIO	100

/* CPU seconds the launcher may spend at once beyond its CPU limit. */
#define CPU_BURST_S		0.5

/* Registry entries of dropped databases forgotten per pass, at most. */
#define FORGET_BUDGET	1024

/* What the launcher tracks of a database between passes. */
typedef struct DbTrack
{
	Oid			dboid;			/* hash key; InvalidOid: the shared catalogs */
	bool		present;		/* in the last read of pg_database */
	bool		datallowconn;
	bool		datistemplate;
	TransactionId datfrozenxid;
	MultiXactId datminmxid;
	TimestampTz last_dispatch_at;	/* for a database beyond max_databases,
									 * which has no shared entry to keep it */
	uint64		walk_requests;	/* its entry's, when last looked at */
	uint64		evictions;		/* its registry head's, likewise */

	/* its statistics counter, and the walks of its tables */
	int64		changes;		/* now; -1: no statistics entry */
	bool		walked;
	int64		walked_changes; /* the counter at the last walk */
	int64		first_changes;	/* the counter when first seen */
	double		min_headroom;	/* of its tables at the last walk */
	TimestampTz next_event_at;	/* a waiting table's time; 0: none */
	TimestampTz last_walk_at;
	bool		needs_discovery;	/* it has tables the registry lacks */

	/* its queue in the registry, read once per pass */
	bool		has_queue;		/* the registry has some of its tables */
	AlTableDb	queue;
	double		best_score;		/* of its due tables */

	/* the verdict last published, so as to publish only changes */
	AlReason	reason;
	int			reason_count;
	int			due;
	TimestampTz next_check_at;
} DbTrack;

/* One database's facts and verdict in a pass. */
typedef struct PassDb
{
	DbTrack    *track;
	AlDatabaseFacts facts;
	AlDatabaseVerdict verdict;
	bool		wraparound;		/* past core's limits */
	int			dispatched;
} PassDb;

/* The slots, as a pass sees them. */
typedef struct SlotCounts
{
	int			active_regular;
	int			active_fast;
} SlotCounts;

static MemoryContext LauncherCycleContext = NULL;
static MemoryContext LauncherStateContext = NULL;
static HTAB *Tracked = NULL;	/* DbTrack by OID */
static Oid	shared_host = InvalidOid;	/* where shared catalogs' work goes */
static uint64 database_list_generation = 0;
static uint64 walk_generation = 0;
static TimestampTz database_list_read_at = 0;
static bool forget_pending = false;
static TimestampTz next_discovery_at = 0;

/* set when the WARNING about core autovacuum has been logged */
static bool yield_warned = false;

/* set when the WARNING about max_workers > worker_slots has been logged */
static bool max_workers_warned = false;

/* set when the WARNING about a full database history has been logged */
static bool history_full_warned = false;
static uint64 evictions_seen = 0;
static bool settings_reloaded = false;
static TimestampTz evictions_warned_at = 0;

static void harden_session(void);
static void announce_launcher(void);
static void launcher_detach(int code, Datum arg);
static AlLauncherState current_state(int active);
static void publish_state(AlLauncherState state, bool counted_cycle,
						  TimestampTz next_cycle_at);
static void publish_cost_budget(void);
static void report_lost_workers(int nlost);
static TimestampTz run_cycle(void);
static void read_database_list(TimestampTz now);
static int64 database_changes(Oid dboid);
static void note_walk_requests(TimestampTz now);
static void walk_databases(const AlVacuumSettings *settings, TimestampTz now);
static void discover_tables(const AlVacuumSettings *settings, TimestampTz now);
static TimestampTz next_planned_event(PassDb *dbs, int ndbs, TimestampTz now);
static PassDb *judge_databases(const AlVacuumSettings *settings,
							   TimestampTz now, int *ndbs, SlotCounts *counts);
static void dispatch(PassDb *dbs, int ndbs, SlotCounts *counts,
					 TimestampTz now, TimestampTz *next_cycle_at);
static void publish_verdicts(PassDb *dbs, int ndbs);
static double cpu_seconds(void);

void
pg_autolauncher_launcher_main(Datum main_arg)
{
	TimestampTz next_cycle_at = 0;
	double		cpu_budget = CPU_BURST_S;
	TimestampTz budget_at = GetCurrentTimestamp();

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* Connect to no database: only shared catalogs are visible. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	harden_session();

	LauncherCycleContext = AllocSetContextCreate(TopMemoryContext,
												 "pg_autolauncher launcher cycle",
												 ALLOCSET_DEFAULT_SIZES);
	LauncherStateContext = AllocSetContextCreate(TopMemoryContext,
												 "pg_autolauncher launcher state",
												 ALLOCSET_DEFAULT_SIZES);
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(DbTrack);
		ctl.hcxt = LauncherStateContext;
		Tracked = hash_create("pg_autolauncher tracked databases", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	/* what a clean shutdown saved, once per server start */
	statefile_load();
	announce_launcher();

	for (;;)
	{
		AlLauncherState state;
		TimestampTz now;
		int			nlost;
		int			active;
		long		sleep_ms;
		double		cpu_before;
		double		cpu_spent;
		TimestampTz cap_until;

		CHECK_FOR_INTERRUPTS();
		al_check_injected_launcher_error(AL_INJECT_LAUNCHER_LOOP);

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* thresholds may be lower now: every headroom is stale */
			settings_reloaded = true;
		}
		publish_cost_budget();

		cpu_before = cpu_seconds();
		active = al_reap_slots(&nlost);
		report_lost_workers(nlost);

		state = current_state(active);
		if (state == AL_LAUNCHER_IDLE || state == AL_LAUNCHER_RUNNING)
		{
			next_cycle_at = run_cycle();
			state = current_state(al_count_active_slots());
			publish_state(state, true, next_cycle_at);
		}
		else
		{
			/* nothing to schedule: look again after a check interval */
			next_cycle_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														al_check_interval);
			publish_state(state, false, 0);
		}

		now = GetCurrentTimestamp();
		sleep_ms = (next_cycle_at > now)
			? (long) ((next_cycle_at - now) / 1000) : 0;
		sleep_ms = Max(sleep_ms, MIN_SLEEP_MS);
		for (int i = 0; i < AlShared->nslots; i++)
		{
			/* unlocked peek: a stale answer only shortens one sleep */
			if (AlShared->slots[i].state == AL_SLOT_REQUESTED)
			{
				sleep_ms = Min(sleep_ms, POLL_REQUESTED_MS);
				break;
			}
		}

		/*
		 * The CPU cap, a token bucket: the launcher earns limit percent of
		 * the time it runs as CPU seconds, up to CPU_BURST_S, and a pass
		 * spends what it used.  In debt, it makes no pass until it has paid
		 * it back: so it uses at most limit percent of a core over any long
		 * run, whatever the cluster, even when workers wake it often, while
		 * one costly pass (the first, which fills the catalog caches) does
		 * not stop it for long.
		 */
		cpu_spent = cpu_seconds() - cpu_before;
		cpu_budget = Min(cpu_budget + (double) (now - budget_at) / USECS_PER_SEC *
						 al_launcher_cpu_limit / 100.0, CPU_BURST_S) - cpu_spent;
		budget_at = now;
		cap_until = (cpu_budget >= 0) ? 0
			: TimestampTzPlusMilliseconds(now, (int64) (-cpu_budget * 1000 * 100.0 /
														al_launcher_cpu_limit));

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		while ((now = GetCurrentTimestamp()) < cap_until)
		{
			CHECK_FOR_INTERRUPTS();
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Max((long) ((cap_until - now) / 1000), 1L),
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}

/*
 * The launcher's session settings, as core's launcher sets them.  Stats
 * are always read fresh: a cached snapshot would hide new activity.
 */
static void
harden_session(void)
{
	SetConfigOption("search_path", "", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("zero_damaged_pages", "false", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("stats_fetch_consistency", "none",
					PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Record ourselves in shared memory, so that workers and backends can wake
 * us, and say how many workers we inherit from a previous launcher.
 */
static void
announce_launcher(void)
{
	int			inherited = 0;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->launcher_pid = MyProcPid;
	AlShared->launcher_latch = MyLatch;
	for (int i = 0; i < AlShared->nslots; i++)
		if (AlShared->slots[i].state != AL_SLOT_FREE)
			inherited++;
	LWLockRelease(AlShared->lock);

	before_shmem_exit(launcher_detach, (Datum) 0);

	if (inherited > 0)
		ereport(LOG,
				(errmsg("pg_autolauncher launcher started, adopting %d active worker slots",
						inherited)));
	else
		ereport(LOG, (errmsg("pg_autolauncher launcher started")));
}

/*
 * Leave shared memory: save what we know for the next launcher (it reads
 * the file only after a server start), and stop being the launcher.
 */
static void
launcher_detach(int code, Datum arg)
{
	statefile_save();
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (AlShared->launcher_pid == MyProcPid)
	{
		AlShared->launcher_pid = 0;
		AlShared->launcher_latch = NULL;
		AlShared->launcher_state = AL_LAUNCHER_STOPPED;
		AlShared->next_cycle_at = 0;
	}
	LWLockRelease(AlShared->lock);
}

/*
 * Work out what the launcher may do now, logging the warnings that go with
 * a change of configuration once each.
 */
static AlLauncherState
current_state(int active)
{
	if (autovacuum_start_daemon)
	{
		if (!yield_warned)
			ereport(WARNING,
					(errmsg("pg_autolauncher is not dispatching workers because autovacuum is on"),
					 errdetail("Running both would vacuum every table twice."),
					 errhint("Set autovacuum = off to let pg_autolauncher do the work, or remove pg_autolauncher from shared_preload_libraries.")));
		yield_warned = true;
		return AL_LAUNCHER_YIELDING;
	}
	yield_warned = false;

	if (al_max_workers > al_worker_slots)
	{
		if (!max_workers_warned)
			ereport(WARNING,
					(errmsg("pg_autolauncher.max_workers (%d) is larger than pg_autolauncher.worker_slots (%d)",
							al_max_workers, al_worker_slots),
					 errdetail("At most %d workers will run at once.",
							   al_worker_slots),
					 errhint("Raise pg_autolauncher.worker_slots and restart the server.")));
		max_workers_warned = true;
	}
	else
		max_workers_warned = false;

	if (!al_enabled)
		return AL_LAUNCHER_DISABLED;
	return (active > 0) ? AL_LAUNCHER_RUNNING : AL_LAUNCHER_IDLE;
}

static void
publish_state(AlLauncherState state, bool counted_cycle,
			  TimestampTz next_cycle_at)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->launcher_state = state;
	if (counted_cycle)
	{
		AlShared->cycles++;
		AlShared->last_cycle_at = GetCurrentTimestamp();
	}
	AlShared->next_cycle_at = next_cycle_at;
	LWLockRelease(AlShared->lock);
}

/*
 * Publish the cost budget the workers share, from the server's settings,
 * and let the running workers share it anew.  Every pass: a reload may
 * have changed it, and a raise that waited for another worker to take a
 * lower share is made here.  Only workers whose share changes are
 * signalled.
 */
static void
publish_cost_budget(void)
{
	AlVacuumSettings settings;

	al_current_settings(&settings);
	al_cost_rebalance(settings.cost_limit, settings.cost_delay);
}

/*
 * Log, in one line per pass, the workers that stopped before they could
 * claim their slot.
 */
static void
report_lost_workers(int nlost)
{
	if (nlost > 0)
		ereport(LOG,
				(errmsg_plural("pg_autolauncher freed %d worker slot whose worker ended before claiming it",
							   "pg_autolauncher freed %d worker slots whose workers ended before claiming them",
							   nlost, nlost),
				 errdetail("The worker could not connect (its database may have been dropped), or the process that requested it died before registering it.")));
}

/* CPU time of this process, user and system, in seconds. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 * run_cycle
 *		One pass: read, walk, judge and dispatch.
 *
 * Everything the pass allocates lives in LauncherCycleContext, which is
 * reset when the pass ends, so a launcher makes any number of passes in
 * constant memory (t/060_memory.pl).
 *
 * Returns when the next pass should run if nothing wakes the launcher.
 */
static TimestampTz
run_cycle(void)
{
	MemoryContext oldcxt;
	AlVacuumSettings settings;
	TimestampTz now;
	TimestampTz next_cycle_at;
	PassDb	   *dbs;
	int			ndbs;
	SlotCounts	counts;
	uint64		generation;
	uint64		walks;
	uint64		evictions;

	oldcxt = MemoryContextSwitchTo(LauncherCycleContext);
	al_current_settings(&settings);
	now = GetCurrentTimestamp();
	next_cycle_at = TimestampTzPlusMilliseconds(now, al_check_interval);

	LWLockAcquire(AlShared->lock, LW_SHARED);
	generation = AlShared->catalog_generation;
	walks = AlShared->walk_generation;
	evictions = AlShared->table_evictions;
	LWLockRelease(AlShared->lock);

	/*
	 * A registry too small for the tables that change forgets tables only
	 * to learn them again: each costs the launcher a walk of the whole
	 * statistics, and may cost a worker's visit.  Say so, once an hour.
	 */
	if (evictions > evictions_seen &&
		(evictions_warned_at == 0 ||
		 TimestampDifferenceExceeds(evictions_warned_at, now, 3600 * 1000)))
	{
		ereport(WARNING,
				(errmsg("pg_autolauncher's table registry is full: %llu tables were forgotten, or not tracked, for want of room",
						(unsigned long long) (evictions - evictions_seen)),
				 errdetail("A forgotten table that changes is learnt again, at the cost of a walk of all statistics and possibly a worker's visit."),
				 errhint("Raise pg_autolauncher.max_tracked_tables (now %d) to at least the number of tables with statistics, and restart the server.",
						 al_max_tracked_tables)));
		evictions_seen = evictions;
		evictions_warned_at = now;
	}
	if (database_list_read_at == 0 || generation != database_list_generation ||
		forget_pending ||
		TimestampDifferenceExceeds(database_list_read_at, now, DATABASE_LIST_MS))
	{
		database_list_generation = generation;
		read_database_list(now);
	}
	if (walks != walk_generation)
	{
		walk_generation = walks;
		note_walk_requests(now);
	}
	if (settings_reloaded)
	{
		HASH_SEQ_STATUS seq;
		DbTrack    *t;

		settings_reloaded = false;
		hash_seq_init(&seq, Tracked);
		while ((t = hash_seq_search(&seq)) != NULL)
			t->next_event_at = now;
	}

	walk_databases(&settings, now);
	discover_tables(&settings, now);
	dbs = judge_databases(&settings, now, &ndbs, &counts);
	dispatch(dbs, ndbs, &counts, now, &next_cycle_at);
	publish_verdicts(dbs, ndbs);

	/*
	 * Wake for what is planned before the check interval ends, as well: a
	 * waiting table's time, a deferred discovery, a backoff's end or a
	 * safety scan.  (With the default interval of a second this matters
	 * little; with a long one, these would otherwise wait for it.)
	 */
	next_cycle_at = Min(next_cycle_at, next_planned_event(dbs, ndbs, now));

	/* everything this pass allocated goes; nothing is kept between passes */
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(LauncherCycleContext);
	return next_cycle_at;
}

/* The earliest event after now that a pass must handle; DT_NOEND if none. */
static TimestampTz
next_planned_event(PassDb *dbs, int ndbs, TimestampTz now)
{
	TimestampTz next = DT_NOEND;
	HASH_SEQ_STATUS seq;
	DbTrack    *t;
	bool		discovery_pending = false;

	hash_seq_init(&seq, Tracked);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		if (t->next_event_at > now)
			next = Min(next, t->next_event_at);
		if (t->has_queue && t->queue.wake_at > now)
			next = Min(next, t->queue.wake_at);
		discovery_pending |= t->needs_discovery;
	}
	if (discovery_pending && next_discovery_at > now)
		next = Min(next, next_discovery_at);
	for (int i = 0; i < ndbs; i++)
		if (dbs[i].verdict.next_check_at > now)
			next = Min(next, dbs[i].verdict.next_check_at);
	return next;
}

/*
 * read_database_list
 *		Read pg_database, skipping invalid (half-dropped) databases, into the
 *		tracked databases; make the shared entries match (dbstate_sync).
 *
 * The transaction it runs in commits, which leaves CurrentMemoryContext at
 * TopMemoryContext; it switches back to the caller's context, so that what
 * the caller allocates next is not leaked there.
 */
static void
read_database_list(TimestampTz now)
{
	MemoryContext resultcxt = CurrentMemoryContext;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	HASH_SEQ_STATUS seq;
	DbTrack    *t;
	Oid		   *oids;
	int			noids = 0;
	int			maxoids = 64;
	int			budget = FORGET_BUDGET;
	bool		full;

	oids = palloc(sizeof(Oid) * maxoids);
	hash_seq_init(&seq, Tracked);
	while ((t = hash_seq_search(&seq)) != NULL)
		t->present = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database pgdb = (Form_pg_database) GETSTRUCT(tup);
		bool		found;

		if (database_is_invalid_form(pgdb))
			continue;
		t = hash_search(Tracked, &pgdb->oid, HASH_ENTER, &found);
		if (!found)
		{
			memset(((char *) t) + sizeof(Oid), 0, sizeof(DbTrack) - sizeof(Oid));
			t->changes = -1;
			t->first_changes = -1;
		}
		t->present = true;
		t->datallowconn = pgdb->datallowconn;
		t->datistemplate = pgdb->datistemplate;
		t->datfrozenxid = pgdb->datfrozenxid;
		t->datminmxid = pgdb->datminmxid;
		if (noids == maxoids)
		{
			MemoryContext cxt = MemoryContextSwitchTo(resultcxt);

			maxoids *= 2;
			oids = repalloc(oids, sizeof(Oid) * maxoids);
			MemoryContextSwitchTo(cxt);
		}
		oids[noids++] = pgdb->oid;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(resultcxt);

	/*
	 * The shared catalogs are tracked as a database of their own, whose
	 * statistics are kept under InvalidOid; their due tables go to a host
	 * database (judge_databases), whose workers take them.
	 */
	{
		Oid			shared = InvalidOid;
		bool		found;

		t = hash_search(Tracked, &shared, HASH_ENTER, &found);
		if (!found)
		{
			memset(((char *) t) + sizeof(Oid), 0, sizeof(DbTrack) - sizeof(Oid));
			t->changes = -1;
			t->first_changes = -1;
		}
		t->present = true;
	}

	/* forget what is gone, here and in shared memory */
	shared_host = InvalidOid;
	hash_seq_init(&seq, Tracked);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		if (!t->present)
			(void) hash_search(Tracked, &t->dboid, HASH_REMOVE, NULL);
		else if (OidIsValid(t->dboid) && t->datallowconn)
		{
			DbTrack    *host = OidIsValid(shared_host)
				? hash_search(Tracked, &shared_host, HASH_FIND, NULL) : NULL;

			/* the lowest OID that takes connections, a template last */
			if (host == NULL ||
				(host->datistemplate && !t->datistemplate) ||
				(host->datistemplate == t->datistemplate &&
				 t->dboid < host->dboid))
				shared_host = t->dboid;
		}
	}
	qsort(oids, noids, sizeof(Oid), oid_cmp);
	full = dbstate_sync(oids, noids, now, &budget);
	forget_pending = (budget == 0);
	database_list_read_at = now;

	if (full && !history_full_warned)
		ereport(WARNING,
				(errmsg("pg_autolauncher cannot track more than %d databases",
						al_max_databases),
				 errdetail("Some databases get no worker except to prevent wraparound."),
				 errhint("Raise pg_autolauncher.max_databases and restart the server.")));
	history_full_warned = full;
}

/*
 * Tuples inserted, updated or deleted in a database, or -1 if it has no
 * statistics entry.  Read at every pass for every database, so through the
 * statistics system's cache of entry references, which costs a local hash
 * lookup rather than a search of the shared hash under its partition lock.
 * The cache holds one reference per database, and lets go of those of
 * dropped databases itself (pgstat_get_entry_ref() collects them).  Table
 * entries, read only by walks, are read from the shared hash directly
 * (registry.c), so that no reference is kept per table.
 */
static int64
database_changes(Oid dboid)
{
	PgStat_EntryRef *entry_ref;
	PgStatShared_Database *shdb;
	int64		total;

	entry_ref = pgstat_get_entry_ref(PGSTAT_KIND_DATABASE, dboid, InvalidOid,
									 false, NULL);
	if (entry_ref == NULL || entry_ref->shared_entry->dropped)
		return -1;
	shdb = (PgStatShared_Database *) entry_ref->shared_stats;
	pgstat_lock_entry_shared(entry_ref, false);
	total = shdb->stats.n_tuples_inserted + shdb->stats.n_tuples_updated +
		shdb->stats.n_tuples_deleted;
	pgstat_unlock_entry(entry_ref);
	return total;
}

/*
 * note_walk_requests
 *		Some database asked to be walked (dbstate_request_walk): find which,
 *		and walk them at this pass.
 */
static void
note_walk_requests(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	DbTrack    *t;

	hash_seq_init(&seq, Tracked);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		AlDatabaseEntry entry;

		if (dbstate_copy(t->dboid, &entry) &&
			entry.walk_requests != t->walk_requests)
		{
			/*
			 * Walk it, and look for tables the registry lacks: one with all
			 * its counters at zero was left out, and an ANALYZE may have just
			 * given it dead tuples, with no change to count.
			 */
			t->walk_requests = entry.walk_requests;
			t->next_event_at = now;
			t->needs_discovery = true;
		}
	}
}

/* A database's floor: what its last scan found, or the lowest allowed. */
static void
database_floor(const AlDatabaseEntry *entry, bool have_entry, AlFloor *floor)
{
	if (have_entry && entry->state == AL_DB_KNOWN)
		*floor = entry->floor;
	else
		al_floor_init(floor);
}

/*
 * walk_databases
 *		Walk the tables of the databases whose statistics moved by more than
 *		their headroom, whose waiting table's time came, or that were not
 *		walked for a while.
 *
 * A table's dead, inserted and modified counters grow by at most its own
 * inserts, updates and deletes, whose sum over the database is its
 * counter: so while the counter grew by less than the least headroom of
 * its tables, none of them can have crossed a threshold, and the walk is
 * skipped.  The headroom is also at most the floor's least base
 * threshold, which a table the registry has not learnt yet may cross.  A
 * walk whose tables account for less than the counter grew by found a
 * table the registry lacks: the database needs a discovery.
 *
 * A table's thresholds move with its reltuples, which a VACUUM, ANALYZE,
 * CLUSTER or TRUNCATE not ours may change with no new change to count:
 * the ProcessUtility hook asks for a walk of its database when one
 * commits (note_walk_requests).  A counter that went backwards was reset.
 * Beyond that, a database is walked every max_visit_interval.
 */
static void
walk_databases(const AlVacuumSettings *settings, TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	DbTrack    *t;

	/* every database's queue, under one hold of the lock */
	hash_seq_init(&seq, Tracked);
	LWLockAcquire(AlShared->lock, LW_SHARED);
	while ((t = hash_seq_search(&seq)) != NULL)
		t->has_queue = registry_queue_locked(t->dboid, &t->queue,
											 &t->best_score);
	LWLockRelease(AlShared->lock);

	hash_seq_init(&seq, Tracked);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		AlDatabaseEntry entry;
		bool		have_entry;
		AlFloor		floor;
		AlWalkResult r;
		int64		delta;

		CHECK_FOR_INTERRUPTS();
		if (t->has_queue && t->queue.evictions != t->evictions)
		{
			/*
			 * Some of its tables were forgotten, or never entered, for want
			 * of room: any may change unseen.  Walk it, and find them.
			 */
			t->evictions = t->queue.evictions;
			t->next_event_at = now;
			t->needs_discovery = true;
		}
		t->changes = database_changes(t->dboid);
		if (t->changes < 0)
			continue;
		if (t->first_changes < 0)
			t->first_changes = t->changes;

		/* a table released since the last walk, whose time came */
		if (t->has_queue && t->queue.wake_at != 0 && t->queue.wake_at <= now)
			t->next_event_at = now;

		delta = t->walked ? t->changes - t->walked_changes : t->changes;
		if (t->walked && delta >= 0 && delta <= t->min_headroom &&
			!(t->next_event_at != 0 && t->next_event_at <= now) &&
			!TimestampDifferenceExceeds(t->last_walk_at, now,
										(int64) settings->max_visit_interval_s * 1000))
			continue;
		if (delta < 0)
			delta = t->changes;

		have_entry = dbstate_copy(t->dboid, &entry);
		database_floor(&entry, have_entry, &floor);
		registry_walk_database(t->dboid, settings, &floor, now, &r);

		/*
		 * The first walk cannot tell which of the changes so far its tables
		 * account for (what the registry holds may have been entered since
		 * they were made): a database with any change needs a discovery.
		 */
		if (!t->walked ? (t->changes > 0) : (r.changes_known < delta))
			t->needs_discovery = true;
		t->walked = true;
		t->walked_changes = t->changes;
		/* a table it has not learnt yet may cross the floor's thresholds */
		t->min_headroom = Min(r.min_headroom, al_floor_headroom(settings, &floor));
		t->next_event_at = r.next_event_at;
		t->last_walk_at = now;

		/* what the walk queued */
		t->has_queue = registry_queue(t->dboid, &t->queue, &t->best_score);
	}
}

/*
 * discover_tables
 *		Walk the whole statistics hash for the tables of the databases that
 *		need it, at most every DISCOVERY_MIN_MS and at most once per
 *		DISCOVERY_COST_RATIO times its own cost.
 */
static void
discover_tables(const AlVacuumSettings *settings, TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	DbTrack    *t;
	Oid		   *oids;
	AlFloor    *floors;
	int			n = 0;
	long		count = hash_get_num_entries(Tracked);
	double		cpu_before;
	int64		cost_ms;

	if (now < next_discovery_at || count == 0)
		return;
	oids = palloc(sizeof(Oid) * count);
	hash_seq_init(&seq, Tracked);
	while ((t = hash_seq_search(&seq)) != NULL)
		if (t->needs_discovery)
			oids[n++] = t->dboid;
	if (n == 0)
		return;
	qsort(oids, n, sizeof(Oid), oid_cmp);
	floors = palloc(sizeof(AlFloor) * n);
	for (int i = 0; i < n; i++)
	{
		AlDatabaseEntry entry;
		bool		have_entry = dbstate_copy(oids[i], &entry);

		database_floor(&entry, have_entry, &floors[i]);
	}

	cpu_before = cpu_seconds();
	(void) registry_discover(oids, floors, n, settings, now);
	al_count_statistics_walk();
	cost_ms = (int64) ((cpu_seconds() - cpu_before) * 1000);
	next_discovery_at = TimestampTzPlusMilliseconds(now,
													Max(DISCOVERY_MIN_MS,
														cost_ms * DISCOVERY_COST_RATIO));

	for (int i = 0; i < n; i++)
	{
		t = hash_search(Tracked, &oids[i], HASH_FIND, NULL);
		if (t != NULL)
		{
			t->needs_discovery = false;
			/* walk it again at the next pass, with its new tables */
			t->next_event_at = now;
			/* and what the discovery queued goes to the judgement now */
			t->has_queue = registry_queue(t->dboid, &t->queue, &t->best_score);
		}
	}
}

/*
 * judge_databases
 *		Gather each database's facts and have policy.c judge it.
 */
static PassDb *
judge_databases(const AlVacuumSettings *settings, TimestampTz now, int *ndbs,
				SlotCounts *counts)
{
	long		count = hash_get_num_entries(Tracked);
	PassDb	   *dbs = palloc0(sizeof(PassDb) * Max(count, 1));
	AlSlot	   *slots;
	int			nslots;
	HASH_SEQ_STATUS seq;
	DbTrack    *t;
	int			n = 0;
	int			cap = (al_max_workers_per_database > 0)
		? Min(al_max_workers_per_database, al_effective_max_workers())
		: al_effective_max_workers();
	AlTableDb	shared_queue;
	double		shared_best = 0;
	AlDatabaseEntry *entries;
	bool	   *have_entries;
	bool	   *blocked;
	int			nread = 0;

	/* the slots, copied under the lock */
	memset(counts, 0, sizeof(SlotCounts));
	LWLockAcquire(AlShared->lock, LW_SHARED);
	nslots = AlShared->nslots;
	slots = palloc(sizeof(AlSlot) * nslots);
	memcpy(slots, AlShared->slots, sizeof(AlSlot) * nslots);
	LWLockRelease(AlShared->lock);
	for (int i = 0; i < nslots; i++)
	{
		if (slots[i].state == AL_SLOT_FREE)
			continue;
		if (slots[i].kind == AL_VISIT_FAST)
			counts->active_fast++;
		else
			counts->active_regular++;
	}

	/* the shared catalogs' due tables, which the host's workers take */
	memset(&shared_queue, 0, sizeof(shared_queue));
	{
		Oid			shared = InvalidOid;

		t = hash_search(Tracked, &shared, HASH_FIND, NULL);
		if (t != NULL && t->has_queue)
		{
			shared_queue = t->queue;
			shared_best = t->best_score;
		}
	}

	/*
	 * Every database's entry and block, read under one hold of the lock
	 * rather than two per database: a pass reads them all.
	 */
	entries = palloc(sizeof(AlDatabaseEntry) * Max(count, 1));
	have_entries = palloc(sizeof(bool) * Max(count, 1));
	blocked = palloc(sizeof(bool) * Max(count, 1));
	hash_seq_init(&seq, Tracked);
	LWLockAcquire(AlShared->lock, LW_SHARED);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		dbs[nread].track = t;
		have_entries[nread] = OidIsValid(t->dboid) &&
			dbstate_copy_locked(t->dboid, &entries[nread]);
		blocked[nread] = OidIsValid(t->dboid) &&
			al_database_is_blocked_locked(t->dboid);
		nread++;
	}
	LWLockRelease(AlShared->lock);

	for (int i = 0; i < nread; i++)
	{
		PassDb	   *db = &dbs[n++];
		AlDatabaseFacts *f = &db->facts;
		AlDatabaseEntry entry = entries[i];
		bool		have_entry = have_entries[i];
		int			idle_fast;

		t = db->track;
		f->dboid = t->dboid;
		if (!OidIsValid(t->dboid))
			continue;			/* the shared catalogs: no worker of their own */
		f->datallowconn = t->datallowconn;
		f->datfrozenxid = t->datfrozenxid;
		/* a worker's fresher reading, if it is younger */
		if (have_entry && TransactionIdIsNormal(entry.datfrozenxid) &&
			TransactionIdPrecedes(f->datfrozenxid, entry.datfrozenxid))
			f->datfrozenxid = entry.datfrozenxid;
		f->datminmxid = t->datminmxid;
		if (have_entry && MultiXactIdIsValid(entry.datminmxid) &&
			MultiXactIdPrecedes(f->datminmxid, entry.datminmxid))
			f->datminmxid = entry.datminmxid;
		f->has_stats = (t->changes >= 0);
		f->tracked = have_entry;
		f->known = have_entry && entry.state == AL_DB_KNOWN;
		f->freeze_deadline = f->known ? entry.freeze_deadline
			: InvalidTransactionId;
		f->mxid_deadline = f->known ? entry.mxid_deadline : InvalidMultiXactId;
		f->changed_since_scan = f->known
			? t->changes > entry.changes_at_scan
			: (t->first_changes >= 0 && t->changes > t->first_changes);
		f->last_scan_at = !have_entry ? now
			: (entry.last_scan_at != 0 ? entry.last_scan_at : entry.first_seen_at);
		f->last_dispatch_at = have_entry ? entry.last_dispatch_at
			: t->last_dispatch_at;
		f->backoff_until = have_entry ? entry.backoff_until : 0;
		f->blocked = blocked[i];
		if (t->has_queue)
		{
			f->due = t->queue.nqueue;
			f->due_fast = t->queue.nqueue_fast;
			f->due_wraparound = (t->queue.nqueue_wraparound > 0);
			f->best_score = t->best_score;
		}
		if (t->dboid == shared_host)
		{
			f->due += shared_queue.nqueue;
			f->due_fast += shared_queue.nqueue_fast;
			f->due_wraparound |= (shared_queue.nqueue_wraparound > 0);
			f->best_score = Max(f->best_score, shared_best);
		}

		/*
		 * The workers there; those that hold no table (starting, scanning
		 * or waiting) take the next due tables, a fast-lane one only fast
		 * tables.
		 */
		idle_fast = 0;
		for (int i = 0; i < nslots; i++)
		{
			bool		tableless;

			if (slots[i].state == AL_SLOT_FREE || slots[i].dboid != t->dboid)
				continue;
			tableless = (slots[i].state == AL_SLOT_REQUESTED ||
						 !OidIsValid(slots[i].relid));
			f->workers++;
			if (slots[i].kind == AL_VISIT_FAST)
			{
				f->fast_workers++;
				idle_fast += tableless ? 1 : 0;
			}
			else if (tableless)
				f->idle_workers++;
		}
		f->idle_workers += Min(idle_fast, f->due_fast);
		db->wraparound =
			al_xid_is_wraparound(f->datfrozenxid, settings->recent_xid,
								 settings->freeze_max_age) ||
			al_multi_is_wraparound(f->datminmxid, settings->recent_multi,
								   settings->multixact_freeze_max_age);
		al_database_verdict(settings, f, now, cap, &db->verdict);
		if (db->verdict.wake_idle)
			(void) al_wake_idle_workers(t->dboid);
	}
	*ndbs = n;
	return dbs;
}

/* one worker to send, for the dispatch order */
typedef struct Candidate
{
	AlDatabaseCandidate cand;
	PassDb	   *db;
} Candidate;

static int
candidate_cmp(const void *a, const void *b)
{
	return al_compare_candidates(&((const Candidate *) a)->cand,
								 &((const Candidate *) b)->cand);
}

/* Reserve a slot and register a worker; false if no worker could start. */
static bool
send_worker(PassDb *db, AlVisitKind kind, TimestampTz now,
			TimestampTz *next_cycle_at)
{
	uint64		generation;
	int			slotno;

	slotno = al_reserve_slot(db->facts.dboid, kind, false, &generation);
	if (slotno == AL_RESERVE_BLOCKED)
		return true;			/* not this one; the others may go */
	if (slotno == AL_RESERVE_EXITING)
	{
		/* the next pass finds the exited workers' slots free */
		*next_cycle_at = Min(*next_cycle_at,
							 TimestampTzPlusMilliseconds(now, MIN_SLEEP_MS));
		return false;
	}
	if (slotno < 0)
		return false;			/* request() took the last slots */

	al_check_injected_launcher_error(AL_INJECT_LAUNCHER_DISPATCH);

	if (!al_register_worker(slotno, generation, db->facts.dboid, MyProcPid))
	{
		long		retry_ms = Min(al_naptime * 1000L, LAUNCH_RETRY_MS);

		ereport(LOG,
				(errmsg("pg_autolauncher could not start a worker for database %u: no free background worker slot",
						db->facts.dboid),
				 errhint("Raise max_worker_processes, or lower pg_autolauncher.max_workers. The launcher retries in %ld seconds.",
						 retry_ms / 1000)));
		*next_cycle_at = Max(*next_cycle_at,
							 TimestampTzPlusMilliseconds(now, retry_ms));
		return false;
	}
	ereport(DEBUG1,
			(errmsg_internal("pg_autolauncher dispatched a worker to database %u in slot %d: %s (%d due, %d fast, %d workers there, %d idle)",
							 db->facts.dboid, slotno, al_visit_kind_name(kind),
							 db->facts.due, db->facts.due_fast,
							 db->facts.workers, db->facts.idle_workers)));
	db->dispatched++;
	db->track->last_dispatch_at = now;
	return true;
}

/*
 * dispatch
 *		Fill the free regular slots, most urgent first; then the fast lane;
 *		and if a database still waits for a slot, ask idle workers elsewhere
 *		to give theirs up.
 *
 * A database that wants k workers enters the order k times, the i-th time
 * as if it had i more workers already, so that a second worker in a busy
 * database comes after the first everywhere else.
 */
static void
dispatch(PassDb *dbs, int ndbs, SlotCounts *counts, TimestampTz now,
		 TimestampTz *next_cycle_at)
{
	Candidate  *cands;
	int			ncands = 0;
	int			maxcands = 0;
	int			free_regular = al_effective_max_workers() - counts->active_regular;
	bool		starved = false;

	for (int i = 0; i < ndbs; i++)
		if (dbs[i].verdict.kind != AL_VISIT_NONE)
			maxcands += dbs[i].verdict.wanted;
	cands = palloc(sizeof(Candidate) * Max(maxcands, 1));
	for (int i = 0; i < ndbs; i++)
	{
		PassDb	   *db = &dbs[i];

		if (db->verdict.kind == AL_VISIT_NONE)
			continue;
		for (int k = 0; k < db->verdict.wanted; k++)
		{
			Candidate  *c = &cands[ncands++];

			c->db = db;
			c->cand.dboid = db->facts.dboid;
			c->cand.kind = db->verdict.kind;
			c->cand.datfrozenxid = db->facts.datfrozenxid;
			c->cand.datminmxid = db->facts.datminmxid;
			c->cand.workers = db->facts.workers + k;
			c->cand.score = db->facts.best_score;
			c->cand.last_dispatch_at = db->facts.last_dispatch_at;
		}
	}
	qsort(cands, ncands, sizeof(Candidate), candidate_cmp);

	for (int i = 0; i < ncands; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (free_regular <= 0)
		{
			starved = true;
			break;
		}
		if (!send_worker(cands[i].db, cands[i].cand.kind, now, next_cycle_at))
			break;
		free_regular--;
		counts->active_regular++;
	}

	/*
	 * The fast lane: every regular worker is busy, and a fast table waits
	 * that no worker there, nor one just sent, will take, in a database
	 * where no fast-lane worker is, and which is below its
	 * max_workers_per_database, if one is set.
	 */
	while (counts->active_regular >= al_effective_max_workers() &&
		   counts->active_fast < al_fast_lane_workers)
	{
		PassDb	   *best = NULL;

		for (int i = 0; i < ndbs; i++)
		{
			AlDatabaseFacts *f = &dbs[i].facts;

			/* fast tables that the workers there, and those just sent, leave */
			if (f->due_fast > 0 && f->idle_workers + dbs[i].dispatched == 0 &&
				f->fast_workers == 0 && !f->blocked &&
				f->datallowconn && f->backoff_until <= now &&
				(al_max_workers_per_database == 0 ||
				 f->workers < al_max_workers_per_database) &&
				(best == NULL || f->best_score > best->facts.best_score))
				best = &dbs[i];
		}
		if (best == NULL ||
			!send_worker(best, AL_VISIT_FAST, now, next_cycle_at))
			break;
		best->facts.fast_workers++;
		counts->active_fast++;
	}

	if (starved)
		(void) al_request_yields(InvalidOid);
}

/*
 * publish_verdicts
 *		Say, for autolauncher.databases, why each database did or did not
 *		get a worker; only what changed is written.
 */
static void
publish_verdicts(PassDb *dbs, int ndbs)
{
	for (int i = 0; i < ndbs; i++)
	{
		PassDb	   *db = &dbs[i];
		AlDatabaseFacts *f = &db->facts;
		AlReason	reason;
		int			count = 0;
		DbTrack    *t = db->track;

		if (!OidIsValid(f->dboid))
			continue;			/* the shared catalogs */
		if (f->blocked)
			reason = AL_REASON_BLOCKED;
		else if (db->verdict.kind == AL_VISIT_XID_WRAP_SCAN)
			reason = AL_REASON_XID_WRAPAROUND;
		else if (db->verdict.kind == AL_VISIT_MULTI_WRAP_SCAN)
			reason = AL_REASON_MULTI_WRAPAROUND;
		else if (db->verdict.kind == AL_VISIT_DEADLINE_SCAN)
			reason = AL_REASON_FREEZE_DEADLINE;
		else if (db->verdict.kind == AL_VISIT_SAFETY_SCAN)
			reason = AL_REASON_SAFETY_SCAN;
		else if (db->wraparound && f->workers == 0)
			reason = AL_REASON_WRAPAROUND_WAIT;
		else if (f->backoff_until > GetCurrentTimestamp())
		{
			AlDatabaseEntry entry;

			reason = AL_REASON_BACKED_OFF;
			if (dbstate_copy(f->dboid, &entry))
				count = entry.consecutive_failures;
		}
		else if (f->due > 0 && db->dispatched > 0)
		{
			reason = AL_REASON_DUE_TABLES;
			count = f->due;
		}
		else if (f->workers > 0)
		{
			reason = AL_REASON_WORKING;
			count = f->workers;
		}
		else if (f->due > 0)
		{
			reason = AL_REASON_NO_FREE_WORKER;
			count = f->due;
		}
		else if (!f->datallowconn)
			reason = AL_REASON_NOT_CONNECTABLE;
		else if (!f->has_stats)
			reason = AL_REASON_NO_STATS;
		else
			reason = AL_REASON_IDLE;

		if (reason == t->reason && count == t->reason_count &&
			f->due == t->due && db->verdict.next_check_at == t->next_check_at)
			continue;
		t->reason = reason;
		t->reason_count = count;
		t->due = f->due;
		t->next_check_at = db->verdict.next_check_at;
		dbstate_publish_verdict(f->dboid, reason, count, f->due,
								db->verdict.next_check_at);
	}
}

