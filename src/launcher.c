/*-------------------------------------------------------------------------
 *
 * launcher.c
 *		The pg_autolauncher launcher: decides which database gets the next
 *		worker, and dispatches it.
 *
 * The launcher is a static background worker connected to no database, as
 * core's autovacuum launcher is.  It owns no table-level work.  Each time
 * it wakes (on its latch, or when its timer expires) it:
 *
 *	1. reaps: frees any slot whose worker stopped without freeing it (see
 *	   al_reap_slots in slots.c);
 *	2. works out its state: yielding while core autovacuum is on, disabled
 *	   while pg_autolauncher.enabled is off, otherwise idle or running;
 *	3. when it may dispatch and has a free worker, runs a scheduling pass:
 *	   it reads pg_database and each database's pgstats entry, ranks the
 *	   databases with al_compare_databases (policy.c) and fills free slots,
 *	   up to pg_autolauncher.max_workers, registering one dynamic worker per
 *	   slot with itself as bgw_notify_pid;
 *	4. sleeps until the next database is due, or until something sets its
 *	   latch: a worker exiting (al_release_slot), the postmaster reporting a
 *	   worker start or stop (SIGUSR1), autolauncher.request() or wakeup().
 *
 * Which databases are due: never one that already has a worker, that a DDL
 * command needs to itself (ddl.c), or whose workers failed recently (it
 * is backed off, longer after each failure in a row, see
 * al_failure_backoff_ms).  Otherwise a database in XID or multixact
 * wraparound danger is due unless it was visited in the last
 * WRAPAROUND_REVISIT_MS.  Otherwise, as in core, a database is visited at
 * most once per pg_autolauncher.naptime, and only if it has a pgstats
 * entry (a database nobody ever used has nothing to vacuum) and accepts
 * connections.  Among due databases the one with the
 * most modifications since our last visit goes first.
 *
 * The launcher keeps no state that matters in local memory: slot states,
 * worker handles and per-database history are all in shared memory.  So
 * when it errors and the postmaster restarts it, the new launcher simply
 * carries on with the workers it finds in the slots.
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
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

/* Shortest and longest sleep between two wake-ups, in milliseconds. */
#define MIN_SLEEP_MS	100L
#define MAX_SLEEP_MS	(300L * 1000L)

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

/* A pg_database row, as much of it as the launcher needs. */
typedef struct LauncherDatabase
{
	Oid			dboid;
	NameData	datname;
	TransactionId datfrozenxid;
	MultiXactId datminmxid;
	bool		datallowconn;
} LauncherDatabase;

/* A database the launcher may dispatch to, with its pgstats total. */
typedef struct LauncherCandidate
{
	AlDatabaseCandidate c;
	int64		total;			/* modifications counted by pgstats so far */
} LauncherCandidate;

static MemoryContext LauncherCycleContext = NULL;

/* set when the WARNING about core autovacuum has been logged */
static bool yield_warned = false;

/* set when the WARNING about max_workers > worker_slots has been logged */
static bool max_workers_warned = false;

static void harden_session(void);
static void announce_launcher(void);
static void launcher_detach(int code, Datum arg);
static AlLauncherState current_state(int active);
static void publish_state(AlLauncherState state, bool counted_cycle,
						  TimestampTz next_cycle_at);
static List *get_database_list(void);
static TimestampTz run_cycle(int active);
static int64 database_changes(Oid dboid);
static void report_lost_workers(int nlost);

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

		active = al_reap_slots(&nlost);
		report_lost_workers(nlost);

		state = current_state(active);
		now = GetCurrentTimestamp();

		if ((state == AL_LAUNCHER_IDLE || state == AL_LAUNCHER_RUNNING) &&
			active < al_effective_max_workers())
		{
			next_cycle_at = run_cycle(active);
			state = current_state(al_count_active_slots());
			publish_state(state, true, next_cycle_at);
		}
		else
		{
			/* nothing to schedule: check again after a naptime */
			if (next_cycle_at <= now)
				next_cycle_at = TimestampTzPlusMilliseconds(now,
															al_naptime * 1000L);
			publish_state(state, false,
						  (state == AL_LAUNCHER_IDLE ||
						   state == AL_LAUNCHER_RUNNING) ? next_cycle_at : 0);
		}

		now = GetCurrentTimestamp();
		sleep_ms = (next_cycle_at > now)
			? (long) ((next_cycle_at - now) / 1000) : 0;
		sleep_ms = Max(sleep_ms, MIN_SLEEP_MS);
		sleep_ms = Min(sleep_ms, MAX_SLEEP_MS);
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
		db = palloc(sizeof(LauncherDatabase));
		db->dboid = pgdb->oid;
		namestrcpy(&db->datname, NameStr(pgdb->datname));
		db->datfrozenxid = pgdb->datfrozenxid;
		db->datminmxid = pgdb->datminmxid;
		db->datallowconn = pgdb->datallowconn;
		dblist = lappend(dblist, db);
		MemoryContextSwitchTo(oldcxt);
	}

	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	return dblist;
}

/* Tuples inserted, updated or deleted in a database, from its pgstats entry. */
static int64
database_changes(Oid dboid)
{
	PgStat_StatDBEntry *dbentry = pgstat_fetch_stat_dbentry(dboid);

	if (dbentry == NULL)
		return -1;
	return dbentry->n_tuples_inserted + dbentry->n_tuples_updated +
		dbentry->n_tuples_deleted;
}

/* comparator for qsort over LauncherCandidate */
static int
candidate_cmp(const void *a, const void *b)
{
	return al_compare_databases(&((const LauncherCandidate *) a)->c,
								&((const LauncherCandidate *) b)->c);
}

/*
 * run_cycle
 *		One scheduling pass: rank the due databases and fill free slots.
 *
 * Returns when the launcher should run its next pass if nothing wakes it
 * earlier.
 */
static TimestampTz
run_cycle(int active)
{
	MemoryContext oldcxt;
	AlVacuumSettings settings;
	List	   *dblist;
	ListCell   *lc;
	LauncherCandidate *cands;
	int			ncands = 0;
	TimestampTz now;
	TimestampTz next_cycle_at;
	long		naptime_ms = al_naptime * 1000L;
	bool		history_full = false;

	MemoryContextReset(LauncherCycleContext);
	oldcxt = MemoryContextSwitchTo(LauncherCycleContext);

	dblist = get_database_list();
	al_current_settings(&settings);
	now = GetCurrentTimestamp();
	next_cycle_at = TimestampTzPlusMilliseconds(now, naptime_ms);

	cands = palloc0(sizeof(LauncherCandidate) * Max(list_length(dblist), 1));

	foreach(lc, dblist)
	{
		LauncherDatabase *db = lfirst(lc);
		AlDatabaseCandidate *c = &cands[ncands].c;
		AlDatabaseEntry *entry;
		TimestampTz last_dispatch_at = 0;
		TimestampTz backoff_until = 0;
		int64		changes_at_dispatch = 0;
		int64		total;

		CHECK_FOR_INTERRUPTS();

		c->dboid = db->dboid;
		c->datfrozenxid = db->datfrozenxid;
		c->datminmxid = db->datminmxid;
		c->xid_wraparound = al_xid_is_wraparound(db->datfrozenxid,
												 settings.recent_xid,
												 settings.freeze_max_age);
		c->multi_wraparound = al_multi_is_wraparound(db->datminmxid,
													 settings.recent_multi,
													 settings.multixact_freeze_max_age);

		/* one worker per database; none while a DDL command needs it */
		if (al_database_has_worker(db->dboid) ||
			al_database_is_blocked(db->dboid))
			continue;

		LWLockAcquire(AlShared->lock, LW_SHARED);
		entry = al_database_entry(db->dboid, false);
		if (entry != NULL)
		{
			last_dispatch_at = entry->last_dispatch_at;
			changes_at_dispatch = entry->changes_at_dispatch;
			backoff_until = entry->backoff_until;
		}
		LWLockRelease(AlShared->lock);

		/* its workers keep failing: leave it alone for a while */
		if (backoff_until > now)
		{
			next_cycle_at = Min(next_cycle_at, backoff_until);
			continue;
		}

		total = database_changes(db->dboid);

		/* not at risk: only connectable databases that saw activity */
		if (!c->xid_wraparound && !c->multi_wraparound &&
			(!db->datallowconn || total < 0))
			continue;

		/* at most one visit per naptime, or per WRAPAROUND_REVISIT_MS */
		if (last_dispatch_at != 0)
		{
			long		interval_ms = naptime_ms;
			TimestampTz due_at;

			if (c->xid_wraparound || c->multi_wraparound)
				interval_ms = Min(naptime_ms, WRAPAROUND_REVISIT_MS);
			due_at = TimestampTzPlusMilliseconds(last_dispatch_at, interval_ms);
			if (due_at > now)
			{
				next_cycle_at = Min(next_cycle_at, due_at);
				continue;
			}
		}

		/* a stats reset makes the total go backwards: count it all */
		c->changes = (total >= changes_at_dispatch)
			? total - changes_at_dispatch : Max(total, 0);
		c->last_dispatch_at = last_dispatch_at;
		cands[ncands].total = Max(total, 0);
		ncands++;
	}

	qsort(cands, ncands, sizeof(LauncherCandidate), candidate_cmp);

	for (int i = 0; i < ncands && active < al_effective_max_workers(); i++)
	{
		AlDatabaseCandidate *c = &cands[i].c;
		bool		has_history;
		uint64		generation;
		int			slotno;

		CHECK_FOR_INTERRUPTS();

		/* make sure the database has a history entry before dispatching */
		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		has_history = (al_database_entry(c->dboid, true) != NULL);
		LWLockRelease(AlShared->lock);
		if (!has_history && !c->xid_wraparound && !c->multi_wraparound)
		{
			history_full = true;
			continue;
		}

		slotno = al_reserve_slot(c->dboid, false, &generation);
		if (slotno == AL_RESERVE_BLOCKED)
			continue;			/* a DDL command started meanwhile */
		if (slotno < 0)
			break;				/* request() took the last slots */

		al_check_injected_launcher_error(AL_INJECT_LAUNCHER_DISPATCH);

		if (!al_register_worker(slotno, generation, c->dboid, MyProcPid))
		{
			ereport(LOG,
					(errmsg("pg_autolauncher could not start a worker for database %u: no free background worker slot",
							c->dboid),
					 errhint("Raise max_worker_processes, or lower pg_autolauncher.max_workers. The launcher retries in %ld seconds.",
							 Min(naptime_ms, LAUNCH_RETRY_MS) / 1000)));
			next_cycle_at = Min(next_cycle_at,
								TimestampTzPlusMilliseconds(now,
															Min(naptime_ms, LAUNCH_RETRY_MS)));
			break;
		}

		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		{
			AlDatabaseEntry *entry = al_database_entry(c->dboid, false);

			if (entry != NULL)
				entry->changes_at_dispatch = cands[i].total;
		}
		LWLockRelease(AlShared->lock);

		ereport(DEBUG1,
				(errmsg_internal("pg_autolauncher dispatched a worker to database %u in slot %d%s",
								 c->dboid, slotno,
								 c->xid_wraparound || c->multi_wraparound ?
								 " to prevent wraparound" : "")));
		active++;
	}

	if (history_full)
		ereport(WARNING,
				(errmsg("pg_autolauncher cannot track more than %d databases",
						al_max_databases),
				 errdetail("Some databases get no worker except to prevent wraparound."),
				 errhint("Raise pg_autolauncher.max_databases and restart the server.")));

	/* forget the history of databases that no longer exist */
	{
		HASH_SEQ_STATUS seq;
		AlDatabaseEntry *entry;

		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		hash_seq_init(&seq, AlDatabases);
		while ((entry = hash_seq_search(&seq)) != NULL)
		{
			bool		exists = false;

			foreach(lc, dblist)
			{
				if (((LauncherDatabase *) lfirst(lc))->dboid == entry->dboid)
				{
					exists = true;
					break;
				}
			}
			if (!exists)
				(void) hash_search(AlDatabases, &entry->dboid, HASH_REMOVE, NULL);
		}
		LWLockRelease(AlShared->lock);
	}

	MemoryContextSwitchTo(oldcxt);
	return next_cycle_at;
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
