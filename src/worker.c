/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The pg_autolauncher worker: vacuums and analyzes one database.
 *
 * A worker is a dynamic background worker registered by the launcher (or
 * by autolauncher.request()) for one slot of the slot array.  bgw_main_arg
 * is the slot number; bgw_extra carries the slot generation and the
 * database OID.  The worker:
 *
 *	1. connects to the database by OID (BGWORKER_BYPASS_ALLOWCONN, so it can
 *	   reach a database that does not accept connections when wraparound
 *	   forces it, as core's worker can);
 *	2. claims its slot (REQUESTED -> RUNNING) and registers an exit callback
 *	   that frees the slot and sets the launcher's latch, however the worker
 *	   ends short of a crash;
 *	3. scans the database's pg_class, when it was sent for a scan
 *	   (wraparound, a freeze deadline, the safety net, a request) or to a
 *	   database whose floor is unknown: it tells the registry (registry.c)
 *	   what each table is, queues those due by core's exact formulas
 *	   (policy.c), and publishes the database's floor and freeze deadline;
 *	4. takes the most urgent table of its database's queue (only fast ones,
 *	   in the fast lane), and the next, until the queue has stayed empty
 *	   for LINGER_MS, it has worked a naptime, or the launcher asks it to
 *	   yield.  For each table it re-checks fresh stats and the current
 *	   pg_class row, takes its share of the cost budget, and runs vacuum()
 *	   directly, as core's autovacuum_do_vac_analyze() does.  What the run
 *	   achieved is read back from the table's own statistics counters and
 *	   reported to the registry (registry_release), so a table that
 *	   SKIP_LOCKED passed over, or whose run was cancelled, waits for its
 *	   retry.  Between tables, and while it waits, it holds no snapshot;
 *	5. updates pg_database.datfrozenxid once, as core's worker does, even
 *	   when it vacuumed nothing: a database whose oldest table was dropped
 *	   must see its datfrozenxid advance.
 *
 * Errors.  An error in one table is logged and the worker moves on.  A
 * cancel (SIGINT: pg_cancel_backend(), or a session that waited
 * deadlock_timeout for one of our locks) ends only the step it lands in:
 * the current table, or the scan of the tables, which is then retried;
 * the little bookkeeping outside those steps holds cancels off.  Once the
 * worker has claimed its slot, a cancel never ends it.  SIGTERM runs die(),
 * so a vacuum in progress is interrupted at its next CHECK_FOR_INTERRUPTS()
 * and the worker exits.
 *
 * Memory.  Visit-long data lives in WorkerContext; everything one table
 * needs lives in TableContext, reset before each table; vacuum() works in
 * PortalContext, also reset per table.  What the worker allocates is
 * therefore constant over a visit of any number of tables
 * (t/060_memory.pl); PostgreSQL's own caches of the relations it opens
 * grow with the database, as in core's worker.
 *
 * The design is in docs/design.md and docs/scheduling.md; why the worker
 * may set PROC_IS_AUTOVACUUM is at yield_to_lock_waiters().
 *
 * IDENTIFICATION
 *	  src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/vacuum.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_rusage.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "pg_autolauncher.h"
#include "policy.h"

/* A table a scan found due that the registry does not hold. */
typedef struct WorkTable
{
	Oid			relid;
	bool		wraparound;
	double		score;
} WorkTable;

/* What scan_table() accumulates over the database's tables. */
typedef struct DbScan
{
	AlVacuumSettings settings;
	TimestampTz now;
	bool		manual;			/* for autolauncher.request(): end waits */
	AlInfoStamp stamp;			/* the registry's, before the scan began */
	AlInfoStamp shared_stamp;	/* the same, for the shared catalogs */
	AlFloor		floor;
	TransactionId freeze_deadline;
	MultiXactId mxid_deadline;
	List	   *extra;			/* WorkTables */
} DbScan;

/* The freeze ages for this database: 0 in templates, as core does. */
typedef struct FreezeDefaults
{
	int			freeze_min_age;
	int			freeze_table_age;
	int			multixact_freeze_min_age;
	int			multixact_freeze_table_age;
} FreezeDefaults;

/* One visit of the database: what there is to do, and what was done. */
typedef struct Visit
{
	AlVisitKind kind;
	bool		manual;			/* autolauncher.request() sent us */
	List	   *extra;			/* due tables outside the registry */
	HTAB	   *toast_parents;	/* from the scan, or built when needed */
	TupleDesc	pg_class_desc;
	FreezeDefaults defaults;
	BufferAccessStrategy bstrategy;
	char	   *dbname;
	TimestampTz started_at;
	bool		did_vacuum;		/* some table was vacuumed */
	bool		found_concurrent_worker;	/* another worker held a table */
} Visit;

/* Everything about the run on one table; lives in TableContext. */
typedef struct TableRun
{
	Oid			relid;
	bool		from_registry;	/* claimed from the queue: report back */
	AlClaim		claim;
	char	   *relname;
	char	   *nspname;
	bool		claimed;		/* held in our slot */
	bool		lock_skipped;	/* another session held the table's lock */
	bool		ran;			/* vacuum() was called */
	AlRunStats	rs;				/* the run's lock and counters (runstats.c) */
	bool		relabelled;		/* vacuum() returned: the next three hold */
	bool		counts_known;	/* track_counts was on */
	bool		vacuumed;
	bool		analyzed;
	VacuumParams params;
	AlAction	action;			/* what was asked of vacuum() */
	AlTableInfo info;			/* what we read of it in pg_class */
	AlInfoStamp stamp;			/* the registry's, before we read it */
	int64		vacuums_before; /* the table's pgstats counters then */
	int64		analyzes_before;
	bool		cancelled;		/* a cancel ended the run */
	bool		failed;			/* another error ended it */
	TimestampTz run_start;
	TimestampTz vacuum_end;		/* when vacuum_rel() committed */
	TimestampTz run_end;

	/* cost settings, resolved as core does */
	int			cost_budget_limit;	/* shared by balanced workers */
	double		cost_budget_delay;
	int			cost_limit;		/* this table's own */
	double		cost_delay;
	bool		cost_dobalance; /* no cost reloptions: share the budget */
} TableRun;

/*
 * A worker waiting this long for a lock runs its deadlock check, which may
 * cancel another worker (yield_to_lock_waiters()).
 */
#define WORKER_DEADLOCK_TIMEOUT_MS	60000

/* How often the scan of the tables is retried after a cancel. */
#define SCAN_ATTEMPTS	3

/*
 * How long a worker whose queue is empty waits for more work: twice the
 * shortest revisit time (policy.c), so that a busy database's hot tables
 * are taken again by the same worker rather than by a new process.
 */
#define LINGER_MS		4000L

static int	MySlotNo = -1;
static uint64 MyGeneration = 0;
static bool MyCompleted = false;

static MemoryContext WorkerContext = NULL;
static MemoryContext ListContext = NULL;
static MemoryContext TableContext = NULL;

/* set while vacuum() runs with a balanced cost limit; see handle_cost_signal */
static volatile sig_atomic_t cost_balanced_run = false;

/*
 * vacuum()'s transactions for the table being processed, followed by
 * run_commit_callback(): its copy of the parameters, the commits seen, and
 * when vacuum_rel()'s committed (so that the vacuum and the analyze of a
 * VACUUM ANALYZE are timed apart, for the ANALYZE ration).
 */
static struct
{
	VacuumParams *params;
	int			commits;
	TableRun   *run;
	AlRunLog   *log;
	bool		analyze_unthrottled;	/* no cost delay for the ANALYZE */
} vac_run;

static void check_injected_worker_error(void);
static void worker_on_exit(int code, Datum arg);
static void handle_cost_signal(SIGNAL_ARGS);
static void harden_session(void);
static void yield_to_lock_waiters(void);
static void process_database(void);
static bool run_cancellable(void (*step) (void *), void *arg,
							const char *what);
static void scan_database(void *arg);
static void wait_for_cancel(void);
static void get_freeze_defaults(FreezeDefaults *defaults);
static void scan_table(Form_pg_class classForm, const AutoVacOpts *opts,
					   void *arg);
static bool take_table(Visit *visit);
static bool floor_known(Oid dboid);
static void process_table(Visit *visit, Oid relid, const AlClaim *claim);
static bool prepare_table(TableRun *run, Visit *visit);
static void table_run_counts(Oid relid, int64 *vacuums, int64 *analyzes);
static void finish_table(TableRun *run, Visit *visit);
static void update_datfrozenxid(Visit *visit);
static void run_vacuum(TableRun *run, Visit *visit);
static void run_commit_callback(XactEvent event, void *arg);
static int64 database_changes_now(void);

void
pg_autolauncher_worker_main(Datum main_arg)
{
	AlWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	MySlotNo = DatumGetInt32(main_arg);
	MyGeneration = args.generation;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	pqsignal(SIGUSR2, handle_cost_signal);
	BackgroundWorkerUnblockSignals();

	if (AlShared == NULL || MySlotNo < 0 || MySlotNo >= AlShared->nslots)
		elog(FATAL, "pg_autolauncher worker started with invalid slot %d",
			 MySlotNo);

	/* The launcher gave up on this slot before we started: nothing to do. */
	if (!al_slot_is_requested(MySlotNo, MyGeneration))
		proc_exit(0);

	/*
	 * Once claimed, the slot is freed by worker_on_exit however we exit.
	 * If we fail before claiming it (the database was dropped, or cannot be
	 * connected to), the launcher frees it through the stored handle.
	 */
	on_shmem_exit(worker_on_exit, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(args.dboid, InvalidOid,
											  BGWORKER_BYPASS_ALLOWCONN);
	harden_session();
	al_runlog_init();
	yield_to_lock_waiters();
	RegisterXactCallback(run_commit_callback, NULL);

	if (!al_claim_slot(MySlotNo, MyGeneration))
		proc_exit(0);

	check_injected_worker_error();

	ereport(DEBUG1,
			(errmsg_internal("pg_autolauncher worker started in database %u, slot %d",
							 MyDatabaseId, MySlotNo)));

	process_database();

	MyCompleted = true;
	proc_exit(0);
}

/* A test asked workers in this database to fail (src/testing.c). */
static void
check_injected_worker_error(void)
{
	if (al_injected_worker_error(MyDatabaseId))
		elog(ERROR, "pg_autolauncher: injected worker error (test)");
}

static void
worker_on_exit(int code, Datum arg)
{
	al_release_slot(MySlotNo, MyGeneration, MyCompleted);
}

/*
 * handle_cost_signal
 *		SIGUSR2: the cost balancer changed our share of the budget.
 *
 * PostgreSQL 15's vacuum_delay_point() re-reads VacuumCostLimit before
 * every nap, and core's own workers get a new share there through
 * AutoVacuumUpdateDelay(), which does nothing for us.  So the balancer
 * (the "Cost balancing" section of slots.c) signals us, and we take our
 * share from our slot at once: into VacuumCostLimit while vacuum() runs
 * with a balanced limit; between tables, just acknowledged, and used from
 * the next table on.  Only aligned ints are read and written.
 */
static void
handle_cost_signal(SIGNAL_ARGS)
{
	int			save_errno = errno;
	int			allowed = al_cost_take_allowed(MySlotNo);

	if (cost_balanced_run && allowed > 0)
		VacuumCostLimit = allowed;
	errno = save_errno;
}

/*
 * yield_to_lock_waiters
 *		Let sessions that wait for our locks cancel our work, as they can
 *		cancel core's autovacuum workers.
 *
 * In PostgreSQL 15 a lock waiter's deadlock check, after deadlock_timeout,
 * looks for a blocking process flagged PROC_IS_AUTOVACUUM in
 * ProcGlobal->statusFlags (deadlock.c, GetBlockingAutoVacuumPgproc) and,
 * unless that process also has PROC_VACUUM_FOR_WRAPAROUND, sends it SIGINT
 * (proc.c, ProcSleep).  We set the same flag, so our vacuums yield exactly
 * as core's do; vacuum_rel() sets PROC_VACUUM_FOR_WRAPAROUND for
 * anti-wraparound vacuums whoever runs them, so those are never cancelled.
 *
 * Why this is safe: in PostgreSQL 15 the flag is read in only three other
 * places, each of which treats us as we want to be treated: DROP DATABASE
 * and its kin SIGTERM flagged processes connected to the database
 * (procarray.c, CountOtherDBBackends), and CREATE INDEX CONCURRENTLY does
 * not wait for their snapshots (indexcmds.c), as for core's workers.  The
 * flag is outside PROC_VACUUM_STATE_MASK, so transaction end leaves it
 * set.  Code that asks "am I an autovacuum worker?" uses the process-local
 * IsAutoVacuumWorkerProcess(), which stays false: vacuum() still treats
 * our runs as manual ones.  Both copies of the flags are updated under
 * ProcArrayLock, as ProcArrayAdd() and vacuum_rel() do.
 *
 * Two of our workers must not cancel each other that way.  The SIGINT is
 * sent by the waiting process's own deadlock check, after its
 * deadlock_timeout, so it takes a worker waiting for a lock another holds.
 * They never wait for each other's table locks: one worker per table, and
 * the run's lock is taken without waiting (runstats.c), but for
 * anti-wraparound vacuums, which the check never cancels.  The one lock
 * two workers do wait for is the database's frozen-IDs lock, in
 * vac_update_datfrozenxid(): update_datfrozenxid() waits for it with the
 * deadlock check off, and vacuum() no longer calls it per table
 * (run_commit_callback).  Other waits for each other come only from user
 * code a run executes (an index expression that takes a lock, say); for
 * those, harden_session() sets deadlock_timeout to at least
 * WORKER_DEADLOCK_TIMEOUT_MS, so a worker cancels another only after
 * waiting that long for it.  Waiting without any check would be worse: a
 * session S waiting for an anti-wraparound vacuum W runs its check once,
 * before W might come to wait for S, and does not cancel W; only W's own
 * check can then find the deadlock.
 */
static void
yield_to_lock_waiters(void)
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	MyProc->statusFlags |= PROC_IS_AUTOVACUUM;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

/*
 * The session settings core's autovacuum worker uses, and a long
 * deadlock_timeout, for the reason given with yield_to_lock_waiters().
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
	/* do not wait for synchronous standbys to do maintenance */
	SetConfigOption("synchronous_commit", "local", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("stats_fetch_consistency", "none",
					PGC_SUSET, PGC_S_OVERRIDE);
	if (DeadlockTimeout < WORKER_DEADLOCK_TIMEOUT_MS)
	{
		char		value[32];

		snprintf(value, sizeof(value), "%d", WORKER_DEADLOCK_TIMEOUT_MS);
		SetConfigOption("deadlock_timeout", value, PGC_SUSET, PGC_S_OVERRIDE);
	}
}

/*
 * run_cancellable
 *		Run one step of a visit so that a cancel ends only that step.
 *
 * Returns false if a cancel (SIGINT) ended the step: it is logged, the
 * transaction is cleaned up and a fresh one started.  Any other error ends
 * the worker, as an error outside a table always has.
 */
static bool
run_cancellable(void (*step) (void *), void *arg, const char *what)
{
	volatile bool cancelled = false;

	PG_TRY();
	{
		step(arg);
	}
	PG_CATCH();
	{
		MemoryContext errcxt = MemoryContextSwitchTo(WorkerContext);
		ErrorData  *edata = CopyErrorData();

		MemoryContextSwitchTo(errcxt);
		if (edata->sqlerrcode != ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FreeErrorData(edata);

		HOLD_INTERRUPTS();
		AbortOutOfAnyTransaction();
		FlushErrorState();
		StartTransactionCommand();
		RESUME_INTERRUPTS();
		cancelled = true;
	}
	PG_END_TRY();

	if (cancelled)
		ereport(LOG,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling autovacuum task"),
				 errdetail("The pg_autolauncher worker in slot %d was canceled while %s; only that step ends.",
						   MySlotNo, what)));
	return !cancelled;
}

static void
process_database(void)
{
	Visit		visit;
	bool		scanned = false;
	long		idle_ms = 0;

	/*
	 * Transactions come and go (vacuum() commits ours); these contexts keep
	 * what we need alive across them.
	 */
	WorkerContext = AllocSetContextCreate(TopMemoryContext,
										  "pg_autolauncher worker",
										  ALLOCSET_DEFAULT_SIZES);
	ListContext = AllocSetContextCreate(WorkerContext,
										"pg_autolauncher table list",
										ALLOCSET_DEFAULT_SIZES);
	TableContext = AllocSetContextCreate(WorkerContext,
										 "pg_autolauncher table",
										 ALLOCSET_DEFAULT_SIZES);
	/* a throwaway PortalContext, reset for each table, as core does */
	PortalContext = AllocSetContextCreate(WorkerContext,
										  "pg_autolauncher portal",
										  ALLOCSET_DEFAULT_SIZES);

	memset(&visit, 0, sizeof(visit));
	visit.started_at = GetCurrentTimestamp();
	LWLockAcquire(AlShared->lock, LW_SHARED);
	visit.kind = AlShared->slots[MySlotNo].kind;
	visit.manual = AlShared->slots[MySlotNo].manual;
	LWLockRelease(AlShared->lock);

	StartTransactionCommand();
	MemoryContextSwitchTo(WorkerContext);
	/* a cancel here waits for the first step that can take it */
	HOLD_CANCEL_INTERRUPTS();
	visit.dbname = get_database_name(MyDatabaseId);
	/* one strategy for every table, so vacuum cannot blow out the cache */
	visit.bstrategy = GetAccessStrategy(BAS_VACUUM);
	get_freeze_defaults(&visit.defaults);
	{
		Relation	classRel = table_open(RelationRelationId, AccessShareLock);

		visit.pg_class_desc = CreateTupleDescCopy(RelationGetDescr(classRel));
		table_close(classRel, AccessShareLock);
	}
	RESUME_CANCEL_INTERRUPTS();

	/*
	 * A scan reads all of pg_class: for wraparound, a passed freeze
	 * deadline, the safety net, or autolauncher.request(); and in a
	 * database whose floor is not known yet, so that the visit that came to
	 * verify one table teaches the launcher every table there.  Otherwise
	 * the launcher's queue says what to do.
	 */
	if ((visit.kind != AL_VISIT_QUEUE && visit.kind != AL_VISIT_FAST) ||
		!floor_known(MyDatabaseId))
		for (int attempt = 0; attempt < SCAN_ATTEMPTS && !scanned; attempt++)
			scanned = run_cancellable(scan_database, &visit,
									  "scanning the tables");

	for (;;)
	{
		if (take_table(&visit))
		{
			idle_ms = 0;

			/*
			 * A bounded stay, and none while another database waits for a
			 * slot: the launcher sends another worker if work remains.
			 */
			if (al_yield_requested(MySlotNo) ||
				TimestampDifferenceExceeds(visit.started_at,
										   GetCurrentTimestamp(),
										   al_naptime * 1000))
				break;
			continue;
		}
		if (idle_ms >= LINGER_MS || al_yield_requested(MySlotNo))
			break;

		/*
		 * Wait for the launcher to queue more, a cancel meaning nothing,
		 * and holding no snapshot: the catalog snapshot of the last lookups
		 * would hold back pruning in the whole database while we wait.
		 */
		InvalidateCatalogSnapshot();
		Assert(MyProc->xmin == InvalidTransactionId);
		al_set_idle(MySlotNo, true);
		HOLD_CANCEL_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(1000L, LINGER_MS - idle_ms), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		RESUME_CANCEL_INTERRUPTS();
		QueryCancelPending = false;
		al_set_idle(MySlotNo, false);
		idle_ms += Min(1000L, LINGER_MS - idle_ms);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (al_yield_requested(MySlotNo))
			break;
	}

	update_datfrozenxid(&visit);
	CommitTransactionCommand();
}

/* Has a scan of this database taught the launcher its floor? */
static bool
floor_known(Oid dboid)
{
	AlDatabaseEntry entry;

	return dbstate_copy(dboid, &entry) && entry.state == AL_DB_KNOWN;
}

/*
 * take_table
 *		Process the next table: the most urgent of the database's queue (only
 *		a fast one, in the fast lane), else one the scan found outside the
 *		registry.  False if there is none.
 */
static bool
take_table(Visit *visit)
{
	AlClaim		claim;

	if (registry_claim_next(MyDatabaseId, MySlotNo, MyGeneration,
							visit->kind == AL_VISIT_FAST, &claim))
	{
		process_table(visit, claim.relid, &claim);
		InvalidateCatalogSnapshot();	/* as above: no xmin between tables */
		return true;
	}
	if (visit->extra != NIL)
	{
		WorkTable  *wt = linitial(visit->extra);
		Oid			relid = wt->relid;

		visit->extra = list_delete_first(visit->extra);
		process_table(visit, relid, NULL);
		InvalidateCatalogSnapshot();
		return true;
	}
	return false;
}

/* comparator: wraparound first, then highest score, then OID */
static int
work_table_cmp(const ListCell *a, const ListCell *b)
{
	const WorkTable *ta = lfirst(a);
	const WorkTable *tb = lfirst(b);

	if (ta->wraparound != tb->wraparound)
		return ta->wraparound ? -1 : 1;
	if (ta->score != tb->score)
		return (ta->score > tb->score) ? -1 : 1;
	return (ta->relid < tb->relid) ? -1 : (ta->relid > tb->relid) ? 1 : 0;
}

/* Tuples inserted, updated or deleted in our database so far. */
static int64
database_changes_now(void)
{
	PgStat_StatDBEntry *dbentry = pgstat_fetch_stat_dbentry(MyDatabaseId);
	int64		total;

	if (dbentry == NULL)
		return 0;
	total = dbentry->n_tuples_inserted + dbentry->n_tuples_updated +
		dbentry->n_tuples_deleted;
	pfree(dbentry);
	return total;
}

/*
 * scan_database
 *		Read every table of pg_class: tell the registry what each is, and
 *		queue those due; keep the due ones the registry cannot hold (shared
 *		catalogs, or a full registry) for this visit; and publish the
 *		database's floor and freeze deadline.  A step of its own, so that a
 *		cancel during the scan ends only this attempt.
 */
static void
scan_database(void *arg)
{
	Visit	   *visit = (Visit *) arg;
	DbScan	scan;
	int64		changes = database_changes_now();

	MemoryContextReset(ListContext);
	/* what an earlier, cancelled attempt stored there is gone */
	visit->extra = NIL;
	visit->toast_parents = NULL;
	MemoryContextSwitchTo(ListContext);
	memset(&scan, 0, sizeof(scan));
	al_current_settings(&scan.settings);
	scan.now = GetCurrentTimestamp();
	scan.manual = visit->manual;
	scan.stamp = registry_info_stamp(MyDatabaseId);
	scan.shared_stamp = registry_info_stamp(InvalidOid);
	al_floor_init(&scan.floor);
	scan.floor.known = true;

	visit->toast_parents = al_scan_tables(visit->pg_class_desc, scan_table,
										  &scan);
	list_sort(scan.extra, work_table_cmp);
	visit->extra = scan.extra;
	dbstate_publish_scan(MyDatabaseId, &scan.floor, scan.freeze_deadline,
						 scan.mxid_deadline, changes, scan.now);

	if (al_take_injected_worker_wait(MyDatabaseId))
		wait_for_cancel();
}

/*
 * A test asked this worker to wait, here, until it is cancelled
 * (src/testing.c); a minute at most.
 */
static void
wait_for_cancel(void)
{
	for (int i = 0; i < 600; i++)
	{
		CHECK_FOR_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

static void
get_freeze_defaults(FreezeDefaults *defaults)
{
	HeapTuple	tuple;
	Form_pg_database dbForm;

	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	dbForm = (Form_pg_database) GETSTRUCT(tuple);

	if (dbForm->datistemplate || !dbForm->datallowconn)
	{
		defaults->freeze_min_age = 0;
		defaults->freeze_table_age = 0;
		defaults->multixact_freeze_min_age = 0;
		defaults->multixact_freeze_table_age = 0;
	}
	else
	{
		defaults->freeze_min_age = vacuum_freeze_min_age;
		defaults->freeze_table_age = vacuum_freeze_table_age;
		defaults->multixact_freeze_min_age = vacuum_multixact_freeze_min_age;
		defaults->multixact_freeze_table_age = vacuum_multixact_freeze_table_age;
	}
	ReleaseSysCache(tuple);
}

/* What the registry keeps of a table's pg_class row. */
static void
fill_table_info(AlTableInfo *info, Form_pg_class classForm,
				const AutoVacOpts *opts)
{
	/* zeroed whole: the state file writes it, padding included */
	memset(info, 0, sizeof(AlTableInfo));
	info->relkind = classForm->relkind;
	info->relpersistence = classForm->relpersistence;
	al_opts_compact(opts, &info->opts);
	info->reltuples = classForm->reltuples;
	info->relpages = classForm->relpages;
	info->relfrozenxid = classForm->relfrozenxid;
	info->relminmxid = classForm->relminmxid;
}

/* The XID count transactions after xid, kept normal. */
static TransactionId
xid_after(TransactionId xid, int count)
{
	TransactionId result = xid + count;

	if (result < FirstNormalTransactionId)
		result += FirstNormalTransactionId;
	return result;
}

/*
 * scan_table
 *		al_scan_tables() callback: publish one table, lower the floor to cover
 *		it, and bring the freeze deadlines forward if its own
 *		autovacuum_freeze_max_age makes it due earlier than its database.
 */
static void
scan_table(Form_pg_class classForm, const AutoVacOpts *opts, void *arg)
{
	DbScan  *scan = (DbScan *) arg;
	AlTableInput input;
	AlTableDecision decision;
	AlTableInfo info;
	bool		held = false;

	al_fill_table_input(&input, classForm, opts);
	al_decide_table(&scan->settings, &input, &decision);

	if (!decision.disabled)
		al_floor_add(&scan->floor, opts);
	if (opts != NULL && opts->freeze_max_age >= 0 &&
		TransactionIdIsNormal(classForm->relfrozenxid))
	{
		TransactionId deadline = xid_after(classForm->relfrozenxid,
										   decision.freeze_max_age);

		if (!TransactionIdIsValid(scan->freeze_deadline) ||
			TransactionIdPrecedes(deadline, scan->freeze_deadline))
			scan->freeze_deadline = deadline;
	}
	if (opts != NULL && opts->multixact_freeze_max_age >= 0 &&
		MultiXactIdIsValid(classForm->relminmxid))
	{
		MultiXactId deadline = classForm->relminmxid +
		decision.multixact_freeze_max_age;

		if (deadline < FirstMultiXactId)
			deadline += FirstMultiXactId;
		if (!MultiXactIdIsValid(scan->mxid_deadline) ||
			MultiXactIdPrecedes(deadline, scan->mxid_deadline))
			scan->mxid_deadline = deadline;
	}

	/* shared catalogs are the registry's too, under InvalidOid */
	fill_table_info(&info, classForm, opts);
	held = registry_publish_scan(classForm->relisshared ? InvalidOid : MyDatabaseId,
								 classForm->oid, &info, &input,
								 &scan->settings, scan->now, scan->manual,
								 classForm->relisshared ? scan->shared_stamp
								 : scan->stamp);
	if (!held && (decision.dovacuum || decision.doanalyze))
	{
		WorkTable  *wt = palloc(sizeof(WorkTable));

		wt->relid = classForm->oid;
		wt->wraparound = decision.wraparound;
		wt->score = decision.score;
		scan->extra = lappend(scan->extra, wt);
	}
}

/*
 * process_table
 *		Claim one table, re-check it with fresh stats, vacuum/analyze it, and
 *		report what that achieved.  claim is the queue's, or NULL for a table
 *		of the scan's own list.
 *
 * Everything here runs in one PG_TRY, from the interrupt check at the top
 * to the end of vacuum(): an error anywhere is logged and ends only this
 * table, and a cancel is a yield, not an error.
 */
static void
process_table(Visit *visit, Oid relid, const AlClaim *claim)
{
	TableRun   *run;

	MemoryContextReset(TableContext);
	MemoryContextSwitchTo(TableContext);
	run = palloc0(sizeof(TableRun));
	run->relid = relid;
	if (claim != NULL)
	{
		run->from_registry = true;
		run->claim = *claim;
	}

	PG_TRY();
	{
		CHECK_FOR_INTERRUPTS();

		/*
		 * Pick up configuration changes between tables.  Even if
		 * pg_autolauncher.enabled was turned off we finish the table: this
		 * may be an anti-wraparound vacuum.
		 */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		if (prepare_table(run, visit))
			run_vacuum(run, visit);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(TableContext);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			/*
			 * A cancel: the deadlock checker of a session waiting for our
			 * lock (see yield_to_lock_waiters), or pg_cancel_backend().
			 * Reported in finish_table(), once the transaction is cleaned up.
			 */
			run->cancelled = true;
		}
		else
		{
			run->failed = true;
			if (run->relname != NULL)
				errcontext("automatic %s of table \"%s.%s.%s\"",
						   (run->params.options & VACOPT_VACUUM) ? "vacuum" : "analyze",
						   visit->dbname, run->nspname, run->relname);
			EmitErrorReport();
		}

		AbortOutOfAnyTransaction();
		FlushErrorState();
		MemoryContextResetAndDeleteChildren(PortalContext);

		StartTransactionCommand();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();

	MemoryContextSwitchTo(TableContext);
	finish_table(run, visit);
}

/*
 * prepare_table
 *		Look the table up, claim it in our slot, and decide what to do, with
 *		core's exact formulas, fresh statistics and its reloptions.
 *
 * Returns false when there is nothing to do: the table was dropped,
 * another worker holds it, or it no longer needs work.  An ANALYZE the
 * ration defers (policy.c, al_analyze_allowed) is left out.
 */
static bool
prepare_table(TableRun *run, Visit *visit)
{
	HeapTuple	classTup;
	Form_pg_class classForm;
	AutoVacOpts *opts;
	const AutoVacOpts *effective;
	AlVacuumSettings settings;
	AlTableInput input;
	AlTableDecision decision;
	const FreezeDefaults *defaults = &visit->defaults;
	VacuumParams *params = &run->params;
	TimestampTz allowed_at;

	if (run->from_registry)
		run->stamp = registry_info_stamp(run->claim.dboid);
	classTup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(run->relid));
	if (!HeapTupleIsValid(classTup))
		return false;			/* dropped since it was queued */
	classForm = (Form_pg_class) GETSTRUCT(classTup);
	run->nspname = get_namespace_name(classForm->relnamespace);
	if (run->nspname == NULL)
		return false;
	run->relname = pstrdup(NameStr(classForm->relname));

	if (!al_claim_table(MySlotNo, MyDatabaseId, run->relid,
						classForm->relisshared, run->relname))
	{
		visit->found_concurrent_worker = true;
		return false;
	}
	run->claimed = true;

	/* its own reloptions, or its TOAST parent's */
	opts = al_extract_autovac_opts(classTup, visit->pg_class_desc);
	effective = opts;
	if (opts == NULL && classForm->relkind == RELKIND_TOASTVALUE)
	{
		if (visit->toast_parents == NULL)
		{
			MemoryContext cxt = MemoryContextSwitchTo(WorkerContext);

			visit->toast_parents = al_toast_parents(visit->pg_class_desc);
			MemoryContextSwitchTo(cxt);
		}
		effective = al_toast_parent_opts(visit->toast_parents, run->relid);
	}
	fill_table_info(&run->info, classForm, effective);

	/* another session's temporary table: never ours, as in core */
	if (classForm->relpersistence == RELPERSISTENCE_TEMP)
		return false;

	/* re-check with fresh stats: someone may have vacuumed it meanwhile */
	al_current_settings(&settings);
	al_fill_table_input(&input, classForm, effective);
	al_decide_table(&settings, &input, &decision);
	if (decision.doanalyze && run->from_registry &&
		!al_analyze_allowed(&settings, run->claim.last_analyze,
							run->claim.last_analyze_ms,
							input.changes_since_analyze, decision.anlthresh,
							GetCurrentTimestamp(), &allowed_at))
		decision.doanalyze = false;

	/*
	 * Taken for an ANALYZE in the revisit time of an earlier run: a vacuum
	 * waits for that time to pass, unless it prevents wraparound.
	 */
	if (run->from_registry && run->claim.in_revisit && !decision.wraparound)
		decision.dovacuum = false;

	if (!decision.dovacuum && !decision.doanalyze)
		return false;

	memset(params, 0, sizeof(VacuumParams));
	params->options = (decision.dovacuum ? VACOPT_VACUUM : 0) |
		(decision.doanalyze ? VACOPT_ANALYZE : 0) |
		(decision.wraparound ? 0 : VACOPT_SKIP_LOCKED);
	params->index_cleanup = VACOPTVALUE_UNSPECIFIED;
	params->truncate = VACOPTVALUE_UNSPECIFIED;
	params->nworkers = -1;		/* no parallel vacuum, as in core autovacuum */
	params->is_wraparound = decision.wraparound;
	params->freeze_min_age = (effective && effective->freeze_min_age >= 0)
		? effective->freeze_min_age : defaults->freeze_min_age;
	params->freeze_table_age = (effective && effective->freeze_table_age >= 0)
		? effective->freeze_table_age : defaults->freeze_table_age;
	params->multixact_freeze_min_age =
		(effective && effective->multixact_freeze_min_age >= 0)
		? effective->multixact_freeze_min_age
		: defaults->multixact_freeze_min_age;
	params->multixact_freeze_table_age =
		(effective && effective->multixact_freeze_table_age >= 0)
		? effective->multixact_freeze_table_age
		: defaults->multixact_freeze_table_age;
	params->log_min_duration = (effective && effective->log_min_duration >= 0)
		? effective->log_min_duration : Log_autovacuum_min_duration;

	/* cost settings resolved as core does: reloption, autovacuum_*, vacuum_* */
	run->cost_budget_limit = settings.cost_limit;
	run->cost_budget_delay = settings.cost_delay;
	run->cost_delay = (effective && effective->vacuum_cost_delay >= 0)
		? effective->vacuum_cost_delay : run->cost_budget_delay;
	run->cost_limit = (effective && effective->vacuum_cost_limit > 0)
		? effective->vacuum_cost_limit : run->cost_budget_limit;
	run->cost_dobalance = !(effective && (effective->vacuum_cost_limit > 0 ||
										  effective->vacuum_cost_delay >= 0));

	run->action = decision.dovacuum
		? (decision.doanalyze ? AL_ACTION_VACUUM_ANALYZE : AL_ACTION_VACUUM)
		: AL_ACTION_ANALYZE;
	al_set_table_action(MySlotNo, run->action, decision.wraparound);
	return true;
}

/* A table's vacuum and analyze counts, manual and automatic together. */
static void
table_run_counts(Oid relid, int64 *vacuums, int64 *analyzes)
{
	HeapTuple	tup;
	bool		shared = false;
	PgStat_StatTabEntry *tabentry;

	*vacuums = *analyzes = 0;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		shared = ((Form_pg_class) GETSTRUCT(tup))->relisshared;
		ReleaseSysCache(tup);
	}
	tabentry = pgstat_fetch_stat_tabentry_ext(shared, relid);
	if (tabentry != NULL)
	{
		*vacuums = tabentry->vacuum_count + tabentry->autovac_vacuum_count;
		*analyzes = tabentry->analyze_count + tabentry->autovac_analyze_count;
		/* in "none" consistency mode the entry is ours to free */
		pfree(tabentry);
	}
}

/* milliseconds from a to b, at least 0 */
static int32
elapsed_ms(TimestampTz a, TimestampTz b)
{
	return (a == 0 || b <= a) ? 0 : (int32) Min((b - a) / 1000, PG_INT32_MAX);
}

/*
 * finish_table
 *		Work out what the run achieved, report it, and give the table back.
 *
 * vacuum() does not say whether it processed the table: SKIP_LOCKED
 * passes over a locked one silently, and a cancel may land after the work
 * is done.  The table's own pgstats counters, which vacuum and analyze
 * bump in shared memory as they finish, do say it.  A table from the
 * queue goes back to the registry with what we read of it after the run
 * (its new reltuples, relfrozenxid) and how long each part took.
 */
static void
finish_table(TableRun *run, Visit *visit)
{
	AlRunReport report;
	bool		want_vacuum = (run->params.options & VACOPT_VACUUM) != 0;
	bool		want_analyze = (run->params.options & VACOPT_ANALYZE) != 0;

	memset(&report, 0, sizeof(report));
	report.failed = run->failed;
	if (run->ran)
	{
		if (run->relabelled && run->counts_known)
		{
			/* read under the run's lock: exact */
			report.vacuumed = want_vacuum && run->vacuumed;
			report.analyzed = want_analyze && run->analyzed;
		}
		else if (pgstat_track_counts)
		{
			int64		vacuums;
			int64		analyzes;

			/* a cancel waits for the next table: this is bookkeeping */
			HOLD_CANCEL_INTERRUPTS();
			table_run_counts(run->relid, &vacuums, &analyzes);
			RESUME_CANCEL_INTERRUPTS();
			report.vacuumed = want_vacuum && vacuums != run->vacuums_before;
			report.analyzed = want_analyze && analyzes != run->analyzes_before;
		}
		else
		{
			/* no counters to read: what did not fail is taken as done */
			report.vacuumed = want_vacuum && !run->cancelled && !run->failed;
			report.analyzed = want_analyze && !run->cancelled && !run->failed;
		}

		/*
		 * A cancel that came once everything was done cancelled nothing.
		 * Work left undone without an error met a lock: SKIP_LOCKED.
		 */
		if (report.vacuumed != want_vacuum || report.analyzed != want_analyze)
		{
			report.cancelled = run->cancelled;
			report.skipped = !run->cancelled && !run->failed;
		}

		/* as core's do_autovacuum(): any attempt to vacuum counts here */
		if (want_vacuum)
			visit->did_vacuum = true;

		if (want_vacuum)
			report.vacuum_ms = elapsed_ms(run->run_start,
										  run->vacuum_end ? run->vacuum_end
										  : run->run_end);
		if (want_analyze)
			report.analyze_ms = elapsed_ms(want_vacuum ? run->vacuum_end
										   : run->run_start, run->run_end);
	}
	else if (run->lock_skipped)
		report.skipped = true;
	else
		report.cancelled = run->cancelled && run->claimed;

	if (run->ran && !run->failed)
	{
		HeapTuple	tup;

		HOLD_CANCEL_INTERRUPTS();
		if (run->from_registry)
			report.stamp = registry_info_stamp(run->claim.dboid);
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(run->relid));
		if (HeapTupleIsValid(tup))
		{
			Form_pg_class classForm = (Form_pg_class) GETSTRUCT(tup);

			report.info = run->info;
			report.info.reltuples = classForm->reltuples;
			report.info.relpages = classForm->relpages;
			report.info.relfrozenxid = classForm->relfrozenxid;
			report.info.relminmxid = classForm->relminmxid;
			report.info_valid = true;
			ReleaseSysCache(tup);
		}
		RESUME_CANCEL_INTERRUPTS();
	}
	else if (run->info.relkind != '\0')
	{
		report.info = run->info;
		report.stamp = run->stamp;
		report.info_valid = true;
	}

	if (report.cancelled)
		ereport(LOG,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling autovacuum task"),
				 errdetail("The pg_autolauncher worker in slot %d yielded the table to a session waiting for its lock; it is left for a later visit.",
						   MySlotNo),
				 errcontext("automatic %s of table \"%s.%s.%s\"",
							(run->params.options & VACOPT_VACUUM) ? "vacuum" : "analyze",
							visit->dbname, run->nspname, run->relname)));
	else if (report.skipped)
		ereport(DEBUG1,
				(errmsg_internal("pg_autolauncher skipped table \"%s.%s.%s\": it was locked",
								 visit->dbname, run->nspname, run->relname)));

	if (run->from_registry)
	{
		AlVacuumSettings settings;

		al_current_settings(&settings);
		registry_release(run->claim.dboid, run->relid, MySlotNo, MyGeneration,
						 &report, &settings, GetCurrentTimestamp());
	}
	if (run->claimed)
		al_release_table(MySlotNo, &report);
}

/*
 * run_commit_callback
 *		Follow vacuum()'s transactions for our table.
 *
 * vacuum() with VACOPT_VACUUM commits our transaction (the 1st commit), runs
 * vacuum_rel() in its own (the 2nd), and analyze_rel() in another (the 3rd)
 * if it analyzes too.  The 2nd commit's time ends the vacuum part.
 *
 * On PostgreSQL 15, vacuum() then ends with vac_update_datfrozenxid()
 * whenever VACOPT_VACUUM is set and the caller is not an autovacuum
 * process.  That scans the whole of pg_class under the database's
 * frozen-IDs lock, once per table: quadratic in a visit, where core's
 * worker does it once at the end (PostgreSQL 16 added
 * VACOPT_SKIP_DATABASE_STATS for this).  So vacuum() gets a copy of our
 * parameters, and at its last commit this callback clears VACOPT_VACUUM in
 * that copy, which vacuum() reads only at that final check.  The vacuum is
 * never skipped, since we hold the table's lock (runstats.c), so the last
 * commit always comes; should vacuum_rel() refuse the table for another
 * reason, the update simply happens, as before.  update_datfrozenxid()
 * does it once for the visit.
 * t/034_worker_truth.pl counts the pg_class scans to prove it.
 */
static void
run_commit_callback(XactEvent event, void *arg)
{
	int			last;

	if (event != XACT_EVENT_COMMIT || vac_run.params == NULL)
		return;
	vac_run.commits++;
	if (vac_run.commits == 2)
	{
		vac_run.run->vacuum_end = GetCurrentTimestamp();
		if (vac_run.params->options & VACOPT_ANALYZE)
		{
			al_runlog_analyze_start(vac_run.log);
			/* the ANALYZE that follows runs without the cost-based delay */
			if (vac_run.analyze_unthrottled)
				VacuumCostActive = false;
		}
	}
	last = (vac_run.params->options & VACOPT_ANALYZE) ? 3 : 2;
	if (vac_run.commits == last)
	{
#if PG_VERSION_NUM < 160000
		vac_run.params->options &= ~VACOPT_VACUUM;
#endif
		vac_run.params = NULL;
	}
}

/*
 * run_vacuum
 *		Call vacuum() for one table, as core's autovacuum_do_vac_analyze().
 *
 * vacuum() with VACOPT_VACUUM commits our transaction, runs its own and
 * starts a fresh one before returning.  ANALYZE alone runs inside our
 * transaction and needs a snapshot; we commit right after it so its lock
 * is not held while we process the next tables.
 */
static void
run_vacuum(TableRun *run, Visit *visit)
{
	StringInfoData activity;
	VacuumRelation *rel;
	AlRunLog	runlog;
	VacuumParams vacparams;
	double		std_cost_delay = VacuumCostDelay;
	int			std_cost_limit = VacuumCostLimit;
	sigset_t	costsig;

	MemoryContextResetAndDeleteChildren(PortalContext);
	MemoryContextSwitchTo(PortalContext);

	/*
	 * The table's lock for the whole run (runstats.c): without waiting, as
	 * SKIP_LOCKED would, unless this vacuum prevents wraparound, which
	 * waits, as in core.
	 */
	if (!al_run_lock(run->relid, run->params.is_wraparound, &run->rs))
	{
		run->lock_skipped = true;
		return;
	}
	table_run_counts(run->relid, &run->vacuums_before, &run->analyzes_before);

	initStringInfo(&activity);
	appendStringInfo(&activity, "pg_autolauncher: %s%s %s.%s%s",
					 (run->params.options & VACOPT_VACUUM) ? "VACUUM" : "ANALYZE",
					 ((run->params.options & VACOPT_VACUUM) &&
					  (run->params.options & VACOPT_ANALYZE)) ? " ANALYZE" : "",
					 quote_identifier(run->nspname),
					 quote_identifier(run->relname),
					 run->params.is_wraparound ? " (to prevent wraparound)" : "");
	pgstat_report_activity(STATE_RUNNING, activity.data);

	/* A NULL RangeVar: no name lookup, and no "skipping" WARNINGs. */
	rel = makeVacuumRelation(NULL, run->relid, NIL);

	if (!(run->params.options & VACOPT_VACUUM))
		PushActiveSnapshot(GetTransactionSnapshot());

	vacparams = run->params;
	memset(&runlog, 0, sizeof(runlog));
	sigemptyset(&costsig);
	sigaddset(&costsig, SIGUSR2);

	PG_TRY();
	{
#if PG_VERSION_NUM >= 160000
		vacparams.options |= VACOPT_SKIP_DATABASE_STATS;
#endif
		al_runlog_begin(&runlog, &vacparams,
						visit->dbname, run->nspname, run->relname);
		if (vacparams.options & VACOPT_VACUUM)
		{
			vac_run.params = &vacparams;
			vac_run.commits = 0;
			vac_run.run = run;
			vac_run.log = &runlog;
		}

		/*
		 * An ANALYZE holds a snapshot that keeps every dead tuple of the
		 * database from being pruned while it runs, so it runs without the
		 * cost-based delay, as a manual ANALYZE does: its reads are bounded
		 * by its sample.  A table with cost reloptions of its own keeps
		 * them.  See "Rationing snapshot holds" in docs/scheduling.md.
		 */
		vac_run.analyze_unthrottled = run->cost_dobalance;
		if (!(vacparams.options & VACOPT_VACUUM) && run->cost_dobalance)
		{
			al_cost_release(MySlotNo);
			VacuumCostDelay = 0;
		}
		else
		{
			/*
			 * Take our share of the cost budget.  SIGUSR2 is held meanwhile,
			 * so that a new share signalled during the hand-over is applied
			 * after it, not overwritten by it.
			 */
			sigprocmask(SIG_BLOCK, &costsig, NULL);
			VacuumCostDelay = run->cost_delay;
			VacuumCostLimit = al_cost_begin_table(MySlotNo, run->cost_dobalance,
												  run->cost_delay, run->cost_limit,
												  run->cost_budget_limit,
												  run->cost_budget_delay);
			cost_balanced_run = run->cost_dobalance;
			sigprocmask(SIG_UNBLOCK, &costsig, NULL);
		}

		run->ran = true;
		run->run_start = GetCurrentTimestamp();
		vacuum(list_make1(rel), &vacparams, visit->bstrategy, true);
		run->run_end = GetCurrentTimestamp();

		/* what it did, recorded as automatic, while nobody else can run */
		al_run_relabel(&run->rs, &run->vacuumed, &run->analyzed,
					   &run->counts_known);
		run->relabelled = true;
		al_runlog_end(&runlog, run->counts_known ? run->analyzed
					  : (vacparams.options & VACOPT_ANALYZE) != 0);
	}
	PG_FINALLY();
	{
		al_runlog_abort(&runlog);
		/* we keep our share until we exit; the table no longer uses it */
		sigprocmask(SIG_BLOCK, &costsig, NULL);
		cost_balanced_run = false;
		VacuumCostDelay = std_cost_delay;
		VacuumCostLimit = std_cost_limit;
		sigprocmask(SIG_UNBLOCK, &costsig, NULL);
		vac_run.params = NULL;
		if (run->run_end == 0)
			run->run_end = GetCurrentTimestamp();
	}
	PG_END_TRY();

	if (ActiveSnapshotSet())
		PopActiveSnapshot();

	/* forget a cancel that arrived as we finished, as core does */
	QueryCancelPending = false;

	CommitTransactionCommand();
	al_run_unlock(&run->rs);
	StartTransactionCommand();

	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * update_datfrozenxid
 *		Advance pg_database.datfrozenxid once for the visit, as core's
 *		do_autovacuum() does, and tell the launcher what it now is.
 *
 * Even a visit that vacuumed nothing may let it advance, when the table
 * that held it back was dropped or truncated.  As in core, it is skipped
 * only when we vacuumed nothing and another worker held a table here: that
 * worker does it when it finishes.  A cancel cannot interrupt it: it is
 * short, and a session waiting for the frozen-IDs lock gets it right after.
 *
 * Another worker, or a manual VACUUM, may hold the frozen-IDs lock.  We
 * wait for it without the deadlock check (see yield_to_lock_waiters()),
 * which would cancel a worker that holds it: the holder only scans
 * pg_class and waits for nothing we hold.
 */
static void
update_datfrozenxid(Visit *visit)
{
	HeapTuple	tuple;
	int			save_deadlock_timeout = DeadlockTimeout;

	if (!visit->did_vacuum && visit->found_concurrent_worker)
		return;

	HOLD_CANCEL_INTERRUPTS();
	DeadlockTimeout = INT_MAX;
	PG_TRY();
	{
		vac_update_datfrozenxid();
	}
	PG_FINALLY();
	{
		DeadlockTimeout = save_deadlock_timeout;
	}
	PG_END_TRY();
	tuple = SearchSysCacheCopy1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_database dbform = (Form_pg_database) GETSTRUCT(tuple);

		dbstate_publish_frozenxid(MyDatabaseId, dbform->datfrozenxid,
								  dbform->datminmxid);
		heap_freetuple(tuple);
	}
	RESUME_CANCEL_INTERRUPTS();
	QueryCancelPending = false;
}
