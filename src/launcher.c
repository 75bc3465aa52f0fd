/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The pg_autolauncher launcher: estimates every database's work from
 *		the cumulative statistics and dispatches workers where it finds some.
 *
 * The launcher is a static background worker connected to no database, as
 * core's autovacuum launcher is.  It does no table-level work.  Every
 * pg_autolauncher.check_interval, or sooner when its latch is set (a worker
 * exited, the postmaster reported a worker start or stop, request() or
 * wakeup() was called), it makes one pass:
 *
 *	1. Reap: free any slot whose worker stopped without freeing it
 *	   (al_reap_slots in slots.c).
 *	2. Work out its state: yielding while core autovacuum is on, disabled
 *	   while pg_autolauncher.enabled is off, else idle or running.
 *	3. Estimate (refresh_estimates): read pg_database, and each database's
 *	   pgstats modification counter.  If any counter moved, or a visit ended
 *	   since the last estimate, walk the shared pgstats hash once and, for
 *	   every table of every database, compare its dead, inserted and
 *	   modified tuples with its thresholds (al_estimate_table in policy.c),
 *	   using live tuples for reltuples and the lowest thresholds that the
 *	   database's workers published, since reloptions may set them below the
 *	   GUCs.  An idle cluster costs one pg_database scan and one pgstats
 *	   look-up per database per pass.
 *	4. Classify each database (classify_database): is it due, and why.
 *	5. Dispatch: rank the due databases (al_compare_databases) and fill free
 *	   slots, up to max_workers, and up to max_workers_per_database in any
 *	   one database.
 *
 * A database is due when it is in XID or multixact wraparound danger;
 * when more of its tables are over threshold than its last visit left over
 * (new work: it gets a worker within a pass, whatever the naptime); when
 * work left over by the last visit has waited a naptime and the database
 * has changed since; or when it has
 * not been visited for max_visit_interval (a safety net for what the
 * statistics cannot show).  It is never due while a DDL command needs it
 * to itself (ddl.c) or while its workers' failures have it backed off.  A
 * database with a worker gets another only if it has more tables with new
 * work than workers, and at most once per naptime.
 *
 * The launcher keeps nothing that matters in local memory: slot states,
 * worker handles, estimates and per-database history are all in shared
 * memory.  So when it errors and the postmaster restarts it, the new
 * launcher simply carries on with the workers it finds in the slots.
 *
 * IDENTIFICATION
 *	  src/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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

/*
 * Shortest interval between two visits of a database in wraparound danger.
 * Such a database does not wait for a naptime, but if something keeps its
 * vacuum from advancing datfrozenxid (an old snapshot, a prepared
 * transaction), redispatching at once would only spin.
 */
#define WRAPAROUND_REVISIT_MS	10000L

/* A pg_database row, and what this pass found out about it. */
typedef struct LauncherDatabase
{
	Oid			dboid;
	TransactionId datfrozenxid;
	MultiXactId datminmxid;
	bool		datallowconn;
	int64		changes;		/* pgstats modification counter, -1: none */
	int			workers;		/* slots REQUESTED or RUNNING there */
	int			idle_workers;	/* of which hold no table (yet) */
	bool		has_entry;		/* it has an AlDatabaseEntry */
	AlDatabaseEntry entry;		/* copy of it, estimate refreshed */

	/* the verdict */
	AlDatabaseCandidate cand;
	bool		due;
	AlReason	reason;
	int			reason_count;
	TimestampTz next_check_at;
} LauncherDatabase;

/* one database's running estimate while the pgstats hash is walked */
typedef struct WorkEstimate
{
	Oid			dboid;			/* hash key */
	AlThresholdFloor floor;
	int			tables;
	double		score;
} WorkEstimate;

static MemoryContext LauncherCycleContext = NULL;

/* set when the WARNING about core autovacuum has been logged */
static bool yield_warned = false;

/* set when the WARNING about max_workers > worker_slots has been logged */
static bool max_workers_warned = false;

/* set when the WARNING about a full database history has been logged */
static bool history_full_warned = false;

/* table history entries of dropped databases forgotten per pass, at most */
#define FORGET_BUDGET	1024

static void harden_session(void);
static void announce_launcher(void);
static void launcher_detach(int code, Datum arg);
static AlLauncherState current_state(int active);
static void publish_state(AlLauncherState state, bool counted_cycle,
						  TimestampTz next_cycle_at);
static List *get_database_list(void);
static TimestampTz run_cycle(int active);
static void refresh_estimates(LauncherDatabase *dbs, int ndbs,
							  const AlVacuumSettings *settings);
static void estimate_work(HTAB *estimates, const AlVacuumSettings *settings);
static void classify_database(LauncherDatabase *db,
							  const AlVacuumSettings *settings,
							  TimestampTz now);
static void dispatch_due(LauncherDatabase *dbs, int ndbs, int active,
						 TimestampTz now, TimestampTz *next_cycle_at);
static void report_lost_workers(int nlost);
static void publish_cost_budget(void);

void
pg_autolauncher_launcher_main(Datum main_arg)
{
	TimestampTz next_cycle_at = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* Connect to no database: only shared catalogs are visible. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	harden_session();

	LauncherCycleContext = AllocSetContextCreate(TopMemoryContext,
												 "pg_autolauncher launcher cycle",
												 ALLOCSET_DEFAULT_SIZES);

	announce_launcher();

	for (;;)
	{
		AlLauncherState state;
		TimestampTz now;
		int			nlost;
		int			active;
		long		sleep_ms;

		CHECK_FOR_INTERRUPTS();
		al_check_injected_launcher_error(AL_INJECT_LAUNCHER_LOOP);

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		publish_cost_budget();

		active = al_reap_slots(&nlost);
		report_lost_workers(nlost);

		state = current_state(active);
		if (state == AL_LAUNCHER_IDLE || state == AL_LAUNCHER_RUNNING)
		{
			next_cycle_at = run_cycle(active);
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

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
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

static void
launcher_detach(int code, Datum arg)
{
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
 * get_database_list
 *		Read pg_database, skipping invalid (half-dropped) databases.
 *
 * Returns a List of LauncherDatabase allocated in the caller's context.
 * The transaction it runs in commits, which leaves CurrentMemoryContext
 * at TopMemoryContext; it switches back to the caller's context, so that
 * what the caller allocates next is not leaked there.
 */
static List *
get_database_list(void)
{
	MemoryContext resultcxt = CurrentMemoryContext;
	List	   *dblist = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();

	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);

	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database pgdb = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext oldcxt;
		LauncherDatabase *db;

		if (database_is_invalid_form(pgdb))
			continue;

		oldcxt = MemoryContextSwitchTo(resultcxt);
		db = palloc0(sizeof(LauncherDatabase));
		db->dboid = pgdb->oid;
		db->datfrozenxid = pgdb->datfrozenxid;
		db->datminmxid = pgdb->datminmxid;
		db->datallowconn = pgdb->datallowconn;
		dblist = lappend(dblist, db);
		MemoryContextSwitchTo(oldcxt);
	}

	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(resultcxt);

	return dblist;
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

/* Tuples inserted, updated or deleted in a database, or -1 if no entry. */
static int64
database_changes(Oid dboid)
{
	PgStat_StatDBEntry *dbentry = pgstat_fetch_stat_dbentry(dboid);
	int64		total;

	if (dbentry == NULL)
		return -1;
	total = dbentry->n_tuples_inserted + dbentry->n_tuples_updated +
		dbentry->n_tuples_deleted;
	pfree(dbentry);
	return total;
}

/* qsort comparator: LauncherDatabase by OID */
static int
database_oid_cmp(const void *a, const void *b)
{
	Oid			oa = ((const LauncherDatabase *) a)->dboid;
	Oid			ob = ((const LauncherDatabase *) b)->dboid;

	return (oa < ob) ? -1 : (oa > ob) ? 1 : 0;
}

/* The database of this pass with OID dboid, or NULL; dbs is sorted. */
static LauncherDatabase *
find_database(LauncherDatabase *dbs, int ndbs, Oid dboid)
{
	int			lo = 0;
	int			hi = ndbs - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (dbs[mid].dboid == dboid)
			return &dbs[mid];
		if (dbs[mid].dboid < dboid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/*
 * run_cycle
 *		One pass: estimate, classify and dispatch.
 *
 * Everything the pass allocates lives in LauncherCycleContext, which is
 * reset when the pass ends, so a launcher makes any number of passes in
 * constant memory (t/060_memory.pl).
 *
 * Returns when the next pass should run if nothing wakes the launcher.
 */
static TimestampTz
run_cycle(int active)
{
	MemoryContext oldcxt;
	AlVacuumSettings settings;
	List	   *dblist;
	LauncherDatabase *dbs;
	int			ndbs = 0;
	ListCell   *lc;
	TimestampTz now;
	TimestampTz next_cycle_at;
	bool		history_full = false;
	int			tracked = 0;
	bool		stale_entries;
	Oid		   *slot_dboids;
	bool	   *slot_busy;
	int			nslot_dboids = 0;

	oldcxt = MemoryContextSwitchTo(LauncherCycleContext);

	dblist = get_database_list();
	al_current_settings(&settings);
	now = GetCurrentTimestamp();
	next_cycle_at = TimestampTzPlusMilliseconds(now, al_check_interval);

	dbs = palloc0(sizeof(LauncherDatabase) * Max(list_length(dblist), 1));
	foreach(lc, dblist)
	{
		LauncherDatabase *db = &dbs[ndbs++];

		memcpy(db, lfirst(lc), sizeof(LauncherDatabase));
		db->changes = database_changes(db->dboid);
	}
	/* by OID, so that both loops below can find a database by bsearch */
	qsort(dbs, ndbs, sizeof(LauncherDatabase), database_oid_cmp);

	/* every database gets a history entry; the slots' databases are copied */
	slot_dboids = palloc(sizeof(Oid) * AlShared->nslots);
	slot_busy = palloc(sizeof(bool) * AlShared->nslots);
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ndbs; i++)
	{
		AlDatabaseEntry *entry = al_database_entry(dbs[i].dboid, true);

		dbs[i].has_entry = (entry != NULL);
		if (entry != NULL)
		{
			memcpy(&dbs[i].entry, entry, sizeof(AlDatabaseEntry));
			tracked++;
		}
		else
			history_full = true;
	}
	for (int s = 0; s < AlShared->nslots; s++)
	{
		AlSlot	   *slot = &AlShared->slots[s];

		if (slot->state == AL_SLOT_FREE)
			continue;
		slot_dboids[nslot_dboids] = slot->dboid;
		slot_busy[nslot_dboids++] = (slot->state == AL_SLOT_RUNNING &&
									 OidIsValid(slot->relid));
	}
	stale_entries = (hash_get_num_entries(AlDatabases) > tracked);
	LWLockRelease(AlShared->lock);

	for (int s = 0; s < nslot_dboids; s++)
	{
		LauncherDatabase *db = find_database(dbs, ndbs, slot_dboids[s]);

		if (db != NULL)
		{
			db->workers++;
			if (!slot_busy[s])
				db->idle_workers++;
		}
	}

	refresh_estimates(dbs, ndbs, &settings);

	for (int i = 0; i < ndbs; i++)
	{
		CHECK_FOR_INTERRUPTS();
		classify_database(&dbs[i], &settings, now);
	}

	dispatch_due(dbs, ndbs, active, now, &next_cycle_at);

	/* publish the verdicts, and forget databases that no longer exist */
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ndbs; i++)
	{
		AlDatabaseEntry *entry = al_database_entry(dbs[i].dboid, false);

		if (entry == NULL)
			continue;
		entry->reason = dbs[i].reason;
		entry->reason_count = dbs[i].reason_count;
		entry->next_check_at = dbs[i].next_check_at;
	}
	if (stale_entries)
	{
		HASH_SEQ_STATUS seq;
		AlDatabaseEntry *entry;
		int			budget = FORGET_BUDGET;

		hash_seq_init(&seq, AlDatabases);
		while ((entry = hash_seq_search(&seq)) != NULL)
		{
			if (find_database(dbs, ndbs, entry->dboid) == NULL &&
				!al_forget_database(entry->dboid, &budget))
			{
				/* the rest at the next pass */
				hash_seq_term(&seq);
				break;
			}
		}
	}
	LWLockRelease(AlShared->lock);

	if (history_full && !history_full_warned)
		ereport(WARNING,
				(errmsg("pg_autolauncher cannot track more than %d databases",
						al_max_databases),
				 errdetail("Some databases get no worker except to prevent wraparound."),
				 errhint("Raise pg_autolauncher.max_databases and restart the server.")));
	history_full_warned = history_full;

	/* everything this pass allocated goes; nothing is kept between passes */
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(LauncherCycleContext);
	return next_cycle_at;
}

/*
 * refresh_estimates
 *		Bring each database's work estimate up to date.
 *
 * The pgstats hash is walked only if some database's modification counter
 * moved, or a visit ended, since the estimate was made: without either,
 * no table's counters can have grown.  After a successful visit has ended
 * and its database has no worker left, the fresh estimate is recorded as
 * the work that visit left over, and the modification counter, which by
 * then includes the visit's own writes (ANALYZE's pg_statistic rows), as
 * the baseline for "the database changed since".  A failed visit records
 * nothing: its work is still new, and is retried when the backoff ends.
 */
static void
refresh_estimates(LauncherDatabase *dbs, int ndbs,
				  const AlVacuumSettings *settings)
{
	HASHCTL		ctl;
	HTAB	   *estimates;
	bool		need_scan = false;

	for (int i = 0; i < ndbs; i++)
	{
		LauncherDatabase *db = &dbs[i];

		if (db->has_entry &&
			(db->entry.scanned_changes != db->changes ||
			 db->entry.leftover_pending))
			need_scan = true;
	}
	if (!need_scan)
		return;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(WorkEstimate);
	ctl.hcxt = CurrentMemoryContext;
	estimates = hash_create("pg_autolauncher estimates", Max(ndbs, 16), &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (int i = 0; i < ndbs; i++)
	{
		WorkEstimate *we;

		if (!dbs[i].has_entry)
			continue;
		we = hash_search(estimates, &dbs[i].dboid, HASH_ENTER, NULL);
		we->floor = dbs[i].entry.floor;
		we->tables = 0;
		we->score = 0;
	}

	estimate_work(estimates, settings);

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ndbs; i++)
	{
		LauncherDatabase *db = &dbs[i];
		WorkEstimate *we = hash_search(estimates, &db->dboid, HASH_FIND, NULL);
		AlDatabaseEntry *entry = al_database_entry(db->dboid, false);

		if (we == NULL || entry == NULL)
			continue;
		entry->scanned_changes = db->changes;
		entry->work_tables = we->tables;
		entry->work_score = we->score;
		if (entry->leftover_pending && db->workers == 0)
		{
			entry->leftover_tables = we->tables;
			/* a yielded table is retried after a naptime, changed or not */
			entry->changes_after_visit = entry->leftover_retry
				? -1 : db->changes;
			entry->leftover_pending = false;
			entry->leftover_retry = false;
		}
		memcpy(&db->entry, entry, sizeof(AlDatabaseEntry));
	}
	LWLockRelease(AlShared->lock);
}

/*
 * estimate_work
 *		Walk the shared pgstats hash once, adding up each database's work.
 *
 * This reads the entries as pgstat_build_snapshot() does: under the hash
 * partition's shared lock, each entry's own lock held only to copy its
 * four counters.  Shared catalogs (database 0) are left to the safety
 * visits, as are databases not in the estimates hash.
 */
static void
estimate_work(HTAB *estimates, const AlVacuumSettings *settings)
{
	dshash_seq_status hstat;
	PgStatShared_HashEntry *p;

	dshash_seq_init(&hstat, pgStatLocal.shared_hash, false);
	while ((p = dshash_seq_next(&hstat)) != NULL)
	{
		PgStatShared_Relation *shrel;
		WorkEstimate *we;
		AlTableEstimate est;
		double		live,
					dead,
					ins,
					mod;

		if (p->key.kind != PGSTAT_KIND_RELATION || p->dropped ||
			p->key.dboid == InvalidOid)
			continue;
		we = hash_search(estimates, &p->key.dboid, HASH_FIND, NULL);
		if (we == NULL)
			continue;

		shrel = (PgStatShared_Relation *) dsa_get_address(pgStatLocal.dsa,
														  p->body);
		LWLockAcquire(&shrel->header.lock, LW_SHARED);
		live = shrel->stats.n_live_tuples;
		dead = shrel->stats.n_dead_tuples;
		ins = shrel->stats.inserts_since_vacuum;
		mod = shrel->stats.changes_since_analyze;
		LWLockRelease(&shrel->header.lock);

		al_estimate_table(settings, &we->floor, live, dead, ins, mod, &est);
		if (est.over_threshold)
		{
			we->tables++;
			we->score += est.ratio;
		}
	}
	dshash_seq_term(&hstat);
}

/*
 * classify_database
 *		Decide whether a database is due, and record why.
 */
static void
classify_database(LauncherDatabase *db, const AlVacuumSettings *settings,
				  TimestampTz now)
{
	AlDatabaseEntry *e = &db->entry;
	int			new_work = Max(e->work_tables - e->leftover_tables, 0);
	int			cap = al_max_workers_per_database;
	bool		wraparound;

	db->cand.dboid = db->dboid;
	db->cand.datfrozenxid = db->datfrozenxid;
	db->cand.datminmxid = db->datminmxid;
	db->cand.xid_wraparound = al_xid_is_wraparound(db->datfrozenxid,
												   settings->recent_xid,
												   settings->freeze_max_age);
	db->cand.multi_wraparound = al_multi_is_wraparound(db->datminmxid,
													   settings->recent_multi,
													   settings->multixact_freeze_max_age);
	db->cand.workers = db->workers;
	db->cand.score = e->work_score;
	db->cand.last_dispatch_at = e->last_dispatch_at;
	wraparound = db->cand.xid_wraparound || db->cand.multi_wraparound;

	db->due = false;
	db->reason_count = 0;
	db->next_check_at = 0;

	if (al_database_is_blocked(db->dboid))
	{
		db->reason = AL_REASON_BLOCKED;
		return;
	}

	/*
	 * Wraparound danger comes before everything but a DDL block: no failure
	 * backoff holds it back, and it gets as many workers as core would send
	 * it, every free one up to max_workers and max_workers_per_database.
	 * Only three limits apply.  A database that no worker is in is
	 * revisited at most every WRAPAROUND_REVISIT_MS: if something keeps its
	 * vacuum from advancing datfrozenxid (an old snapshot, a prepared
	 * transaction), redispatching at once would only spin.  A helper goes
	 * only when every worker there is busy with a table, so helpers follow
	 * the work rather than each other.  And once a worker there found
	 * nothing left to take, no further helper is sent before the fruitless
	 * holdoff ends.
	 */
	if (wraparound)
	{
		int			wrap_cap = (cap > 0)
			? Min(cap, al_effective_max_workers()) : al_effective_max_workers();
		TimestampTz due_at = TimestampTzPlusMilliseconds(e->last_dispatch_at,
														 Min(al_naptime * 1000L,
															 WRAPAROUND_REVISIT_MS));

		db->reason = db->cand.xid_wraparound
			? AL_REASON_XID_WRAPAROUND : AL_REASON_MULTI_WRAPAROUND;
		if (db->workers >= wrap_cap ||
			(db->workers > 0 &&
			 (db->idle_workers > 0 || e->fruitless_until > now)))
		{
			db->reason = AL_REASON_WORKER_RUNNING;
			db->reason_count = db->workers;
		}
		else if (db->workers == 0 && e->last_dispatch_at != 0 && due_at > now)
		{
			db->reason = AL_REASON_WRAPAROUND_WAIT;
			db->next_check_at = due_at;
		}
		else
			db->due = true;
		return;
	}

	if (e->backoff_until > now)
	{
		db->reason = AL_REASON_BACKED_OFF;
		db->reason_count = e->consecutive_failures;
		db->next_check_at = e->backoff_until;
		return;
	}
	if (cap > 0 && db->workers >= cap)
	{
		db->reason = AL_REASON_WORKER_RUNNING;
		db->reason_count = db->workers;
		return;
	}

	if (!db->datallowconn)
	{
		db->reason = AL_REASON_NOT_CONNECTABLE;
		return;
	}
	if (db->changes < 0 || !db->has_entry)
	{
		db->reason = AL_REASON_NO_STATS;
		return;
	}

	/*
	 * A database with workers gets another only for more new work than
	 * workers, and at most once per naptime: the estimate is not refreshed
	 * while they work, so without that limit every worker that finds the
	 * remaining tables taken would be replaced at once.
	 */
	if (db->workers > 0)
	{
		db->reason = AL_REASON_WORKER_RUNNING;
		db->reason_count = db->workers;
		db->due = (new_work > db->workers &&
				   TimestampTzPlusMilliseconds(e->last_dispatch_at,
											   al_naptime * 1000L) <= now);
		return;
	}

	if (new_work > 0 && e->fruitless_until > now)
	{
		/*
		 * The estimate sees work, but the last visits found none: it counts
		 * tables that are not over their own thresholds.  Wait, so that a
		 * busy database does not get a useless worker every pass.
		 */
		db->reason = AL_REASON_FRUITLESS_WAIT;
		db->reason_count = e->fruitless_visits;
		db->next_check_at = e->fruitless_until;
	}
	else if (new_work > 0)
	{
		db->reason = AL_REASON_NEW_WORK;
		db->reason_count = new_work;
		db->due = true;
	}
	else if (e->work_tables > 0 && db->changes != e->changes_after_visit)
	{
		TimestampTz retry_at = TimestampTzPlusMilliseconds(e->last_dispatch_at,
														   al_naptime * 1000L);

		/*
		 * Work left over by the last visit, in a database that has changed
		 * since: retry once a naptime has passed.  Leftovers in a database
		 * that did not change (a table the worker cannot process, or one
		 * the estimate wrongly counts, such as a TOAST table's analyze
		 * counter) wait for the safety visit instead.
		 */
		db->reason_count = e->work_tables;
		if (retry_at <= now)
		{
			db->reason = AL_REASON_LEFTOVER_RETRY;
			db->due = true;
		}
		else
		{
			db->reason = AL_REASON_LEFTOVER_WAIT;
			db->next_check_at = retry_at;
		}
	}
	else
	{
		TimestampTz visit_at = TimestampTzPlusMilliseconds(e->last_dispatch_at,
														   al_max_visit_interval * 1000L);

		if (e->last_dispatch_at == 0 || visit_at <= now)
		{
			db->reason = AL_REASON_SAFETY_VISIT;
			db->due = true;
		}
		else
		{
			db->reason = (e->work_tables > 0)
				? AL_REASON_LEFTOVER_IDLE : AL_REASON_IDLE;
			db->reason_count = e->work_tables;
			db->next_check_at = visit_at;
		}
	}
}

/* comparator for qsort over pointers to LauncherDatabase */
static int
due_cmp(const void *a, const void *b)
{
	const LauncherDatabase *da = *(LauncherDatabase *const *) a;
	const LauncherDatabase *db = *(LauncherDatabase *const *) b;

	return al_compare_databases(&da->cand, &db->cand);
}

/*
 * dispatch_due
 *		Fill free slots with the due databases, most urgent first.
 *
 * active is the number of slots in use already.  A refused registration
 * (no free background worker slot) ends the pass with one LOG line, and
 * the next pass is moved no further than LAUNCH_RETRY_MS away.
 */
static void
dispatch_due(LauncherDatabase *dbs, int ndbs, int active, TimestampTz now,
			 TimestampTz *next_cycle_at)
{
	LauncherDatabase **due;
	int			ndue = 0;

	due = palloc(sizeof(LauncherDatabase *) * Max(ndbs, 1));
	for (int i = 0; i < ndbs; i++)
		if (dbs[i].due)
			due[ndue++] = &dbs[i];
	qsort(due, ndue, sizeof(LauncherDatabase *), due_cmp);

	for (int i = 0; i < ndue && active < al_effective_max_workers(); i++)
	{
		LauncherDatabase *db = due[i];
		uint64		generation;
		int			slotno;

		CHECK_FOR_INTERRUPTS();

		slotno = al_reserve_slot(db->dboid, db->reason, &generation);
		if (slotno == AL_RESERVE_BLOCKED)
		{
			db->reason = AL_REASON_BLOCKED;
			continue;
		}
		if (slotno < 0)
			break;				/* request() took the last slots */

		al_check_injected_launcher_error(AL_INJECT_LAUNCHER_DISPATCH);

		if (!al_register_worker(slotno, generation, db->dboid, MyProcPid))
		{
			long		retry_ms = Min(al_naptime * 1000L, LAUNCH_RETRY_MS);

			ereport(LOG,
					(errmsg("pg_autolauncher could not start a worker for database %u: no free background worker slot",
							db->dboid),
					 errhint("Raise max_worker_processes, or lower pg_autolauncher.max_workers. The launcher retries in %ld seconds.",
							 retry_ms / 1000)));
			*next_cycle_at = Max(*next_cycle_at,
								 TimestampTzPlusMilliseconds(now, retry_ms));
			break;
		}

		ereport(DEBUG1,
				(errmsg_internal("pg_autolauncher dispatched a worker to database %u in slot %d: %s",
								 db->dboid, slotno,
								 psprintf(al_reason_format(db->reason),
										  db->reason_count))));
		active++;
	}
}

