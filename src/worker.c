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
 *	3. lists the database's tables, matviews and TOAST tables and decides,
 *	   with core autovacuum's formulas (policy.c), which need vacuum or
 *	   analyze, most urgent first; it publishes the lowest thresholds it saw,
 *	   which the launcher's estimates use from then on;
 *	4. for each table: claims it in its slot (so no two workers process one
 *	   table), re-checks fresh stats, takes its share of the cost budget,
 *	   and runs vacuum() directly, as core's autovacuum_do_vac_analyze()
 *	   does.  What the run achieved is read back from the table's own
 *	   statistics counters, so a table that SKIP_LOCKED passed over, or whose
 *	   run was cancelled, is reported as such and left for a retry;
 *	5. updates pg_database.datfrozenxid once, as core's worker does, even
 *	   when it vacuumed nothing: a database whose oldest table was dropped
 *	   must see its datfrozenxid advance.
 *
 * Errors.  An error in one table is logged and the worker moves on.  A
 * cancel (SIGINT: pg_cancel_backend(), or a session that waited
 * deadlock_timeout for one of our locks) ends only the step it lands in:
 * the current table, or the listing of the tables, which is then retried;
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
 * The design, and why the worker may set PROC_IS_AUTOVACUUM, is in
 * docs/design.md.
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

/* A table found to need work, in the order we will process it. */
typedef struct WorkTable
{
	Oid			relid;
	bool		wraparound;
	double		score;
} WorkTable;

/* What collect_table() accumulates over the database's tables. */
typedef struct CollectState
{
	AlVacuumSettings settings;
	AlThresholdFloor floor;
	List	   *tables;
} CollectState;

/* What log_run() compares, taken as a run starts. */
typedef struct RunMeasure
{
	TimestampTz start;
	PGRUsage	ru0;
	BufferUsage buffers;
	WalUsage	wal;
	BlockNumber pages;
	double		dead_tuples;
} RunMeasure;

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
	List	   *tables;			/* WorkTables, most urgent first */
	HTAB	   *toast_parents;	/* from al_scan_tables() */
	TupleDesc	pg_class_desc;
	FreezeDefaults defaults;
	BufferAccessStrategy bstrategy;
	char	   *dbname;
	bool		did_vacuum;		/* some table was vacuumed */
	bool		found_concurrent_worker;	/* another worker held a table */
} Visit;

/* Everything about the run on one table; lives in TableContext. */
typedef struct TableRun
{
	Oid			relid;
	char	   *relname;
	char	   *nspname;
	bool		claimed;		/* held in our slot */
	bool		ran;			/* vacuum() was called */
	VacuumParams params;
	AlAction	action;			/* what was asked of vacuum() */
	int64		vacuums_before; /* the table's pgstats counters then */
	int64		analyzes_before;
	bool		cancelled;		/* a cancel ended the run */
	bool		failed;			/* another error ended it */

	/* cost settings, resolved as core does */
	int			cost_budget_limit;	/* shared by balanced workers */
	double		cost_budget_delay;
	int			cost_limit;		/* this table's own */
	double		cost_delay;
	bool		cost_dobalance; /* no cost reloptions: share the budget */
} TableRun;

/* How often the listing of the tables is retried after a cancel. */
#define LIST_ATTEMPTS	3

static int	MySlotNo = -1;
static uint64 MyGeneration = 0;
static bool MyCompleted = false;

static MemoryContext WorkerContext = NULL;
static MemoryContext ListContext = NULL;
static MemoryContext TableContext = NULL;

/* set while vacuum() runs with a balanced cost limit; see handle_cost_signal */
static volatile sig_atomic_t cost_balanced_run = false;

static void check_injected_worker_error(void);
static void worker_on_exit(int code, Datum arg);
static void handle_cost_signal(SIGNAL_ARGS);
static void harden_session(void);
static void yield_to_lock_waiters(void);
static void process_database(void);
static bool run_cancellable(void (*step) (void *), void *arg,
							const char *what);
static void list_tables(void *arg);
static void wait_for_cancel(void);
static void get_freeze_defaults(FreezeDefaults *defaults);
static void collect_table(Form_pg_class classForm, const AutoVacOpts *opts,
						  void *arg);
static void process_table(const WorkTable *wt, Visit *visit);
static bool prepare_table(TableRun *run, Visit *visit);
static void table_run_counts(Oid relid, int64 *vacuums, int64 *analyzes);
static void finish_table(TableRun *run, Visit *visit);
static void update_datfrozenxid(Visit *visit);
static void measure_start(Oid relid, RunMeasure *m);
static void log_run(Oid relid, const VacuumParams *params,
					const RunMeasure *m, const char *dbname,
					const char *nspname, const char *relname);
static void run_vacuum(TableRun *run, Visit *visit);

#if PG_VERSION_NUM < 160000
static void skip_datfrozenxid_callback(XactEvent event, void *arg);
#endif

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
	yield_to_lock_waiters();
#if PG_VERSION_NUM < 160000
	RegisterXactCallback(skip_datfrozenxid_callback, NULL);
#endif

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
 * Two of our workers must never cancel each other that way, which could
 * happen where one waits for a lock the other holds (the database's
 * frozen-IDs lock, in vac_update_datfrozenxid()).  The deadlock check that
 * sends the SIGINT runs in the waiting process, after its own
 * deadlock_timeout; harden_session() sets that to its maximum in our
 * workers, so a waiting worker never runs it.  A real deadlock that
 * includes a worker is still found by the other sessions in it, which run
 * their own checks; a cycle of our workers alone cannot form, since they
 * never wait for each other's table locks (SKIP_LOCKED, and one worker per
 * table).
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
 * The session settings core's autovacuum worker uses, plus the longest
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
	SetConfigOption("deadlock_timeout", "2147483647",
					PGC_SUSET, PGC_S_OVERRIDE);
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
	{
		ereport(LOG,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling autovacuum task"),
				 errdetail("The pg_autolauncher worker in slot %d was canceled while %s; only that step ends.",
						   MySlotNo, what)));
		al_note_yield(MySlotNo);
	}
	return !cancelled;
}

static void
process_database(void)
{
	Visit		visit;
	ListCell   *lc;
	bool		listed = false;

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
	StartTransactionCommand();
	MemoryContextSwitchTo(WorkerContext);
	/* a cancel here waits for the first step that can take it */
	HOLD_CANCEL_INTERRUPTS();
	visit.dbname = get_database_name(MyDatabaseId);
	/* one strategy for every table, so vacuum cannot blow out the cache */
	visit.bstrategy = GetAccessStrategy(BAS_VACUUM);
	RESUME_CANCEL_INTERRUPTS();

	for (int attempt = 0; attempt < LIST_ATTEMPTS && !listed; attempt++)
		listed = run_cancellable(list_tables, &visit, "listing the tables");

	ereport(DEBUG1,
			(errmsg_internal("pg_autolauncher worker found %d tables to process",
							 list_length(visit.tables))));

	foreach(lc, visit.tables)
		process_table(lfirst(lc), &visit);

	update_datfrozenxid(&visit);
	CommitTransactionCommand();
}

/*
 * list_tables
 *		Find the tables that need work now, most urgent first, and publish
 *		the threshold floor.  A step of its own, so that a cancel during the
 *		pg_class scan ends only this attempt.
 */
static void
list_tables(void *arg)
{
	Visit	   *visit = (Visit *) arg;
	CollectState collect;
	Relation	classRel;

	MemoryContextReset(ListContext);
	MemoryContextSwitchTo(ListContext);
	visit->tables = NIL;

	get_freeze_defaults(&visit->defaults);

	classRel = table_open(RelationRelationId, AccessShareLock);
	visit->pg_class_desc = CreateTupleDescCopy(RelationGetDescr(classRel));
	table_close(classRel, AccessShareLock);

	collect.tables = NIL;
	al_current_settings(&collect.settings);
	al_floor_init(&collect.floor);
	visit->toast_parents = al_scan_tables(visit->pg_class_desc, collect_table,
										  &collect);
	list_sort(collect.tables, work_table_cmp);
	visit->tables = collect.tables;

	/* let the launcher estimate our work with our tables' real thresholds */
	al_publish_threshold_floor(MyDatabaseId, &collect.floor);

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

/*
 * collect_table
 *		al_scan_tables() callback: keep the table if it needs work now, and
 *		lower the threshold floor to cover it.
 */
static void
collect_table(Form_pg_class classForm, const AutoVacOpts *opts, void *arg)
{
	CollectState *state = (CollectState *) arg;
	AlTableInput input;
	AlTableDecision decision;

	al_fill_table_input(&input, classForm, opts);
	al_decide_table(&state->settings, &input, &decision);

	if (!decision.disabled)
		al_floor_add(&state->floor, &state->settings, opts);

	if (decision.dovacuum || decision.doanalyze)
	{
		WorkTable  *wt = palloc(sizeof(WorkTable));

		wt->relid = classForm->oid;
		wt->wraparound = decision.wraparound;
		wt->score = decision.score;
		state->tables = lappend(state->tables, wt);
	}
}

/*
 * process_table
 *		Claim one table, re-check it with fresh stats, vacuum/analyze it, and
 *		report what that achieved.
 *
 * Everything here runs in one PG_TRY, from the interrupt check at the top
 * to the end of vacuum(): an error anywhere is logged and ends only this
 * table, and a cancel is a yield, not an error.
 */
static void
process_table(const WorkTable *wt, Visit *visit)
{
	TableRun   *run;

	MemoryContextReset(TableContext);
	MemoryContextSwitchTo(TableContext);
	run = palloc0(sizeof(TableRun));
	run->relid = wt->relid;

	PG_TRY();
	{
		CHECK_FOR_INTERRUPTS();

		/*
		 * Pick up configuration changes between tables.  Even if
		 * pg_autolauncher.enabled was turned off we finish the database:
		 * this may be an anti-wraparound visit.
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
 *		Look the table up, claim it, and decide what to do with fresh stats.
 *
 * Returns false, with nothing claimed or with the claim given back, when
 * there is nothing to do: the table was dropped, another worker holds it,
 * or it no longer needs work.
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

	classTup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(run->relid));
	if (!HeapTupleIsValid(classTup))
		return false;			/* dropped since we listed it */
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

	/* re-check with fresh stats: someone may have vacuumed it meanwhile */
	opts = al_extract_autovac_opts(classTup, visit->pg_class_desc);
	effective = opts;
	if (opts == NULL && classForm->relkind == RELKIND_TOASTVALUE)
		effective = al_toast_parent_opts(visit->toast_parents, run->relid);
	al_current_settings(&settings);
	al_fill_table_input(&input, classForm, effective);
	al_decide_table(&settings, &input, &decision);

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

/*
 * finish_table
 *		Work out what the run achieved, report it, and give the table back.
 *
 * vacuum() does not say whether it processed the table: SKIP_LOCKED
 * passes over a locked one silently, and a cancel may land after the work
 * is done.  The table's own pgstats counters, which vacuum and analyze
 * bump in shared memory as they finish, do say it.
 */
static void
finish_table(TableRun *run, Visit *visit)
{
	AlTableOutcome outcome;

	memset(&outcome, 0, sizeof(outcome));
	if (run->ran)
	{
		bool		want_vacuum = (run->params.options & VACOPT_VACUUM) != 0;
		bool		want_analyze = (run->params.options & VACOPT_ANALYZE) != 0;

		if (pgstat_track_counts)
		{
			int64		vacuums;
			int64		analyzes;

			/* a cancel waits for the next table: this is bookkeeping */
			HOLD_CANCEL_INTERRUPTS();
			table_run_counts(run->relid, &vacuums, &analyzes);
			RESUME_CANCEL_INTERRUPTS();
			outcome.vacuumed = want_vacuum && vacuums != run->vacuums_before;
			outcome.analyzed = want_analyze && analyzes != run->analyzes_before;
		}
		else
		{
			/* no counters to read: what did not fail is taken as done */
			outcome.vacuumed = want_vacuum && !run->cancelled && !run->failed;
			outcome.analyzed = want_analyze && !run->cancelled && !run->failed;
		}

		/*
		 * A cancel that came once everything was done cancelled nothing.
		 * Work left undone without an error met a lock: SKIP_LOCKED.
		 */
		if (outcome.vacuumed != want_vacuum || outcome.analyzed != want_analyze)
		{
			outcome.cancelled = run->cancelled;
			outcome.skipped = !run->cancelled && !run->failed;
		}

		/* as core's do_autovacuum(): any attempt to vacuum counts here */
		if (want_vacuum)
			visit->did_vacuum = true;
	}
	else
		outcome.cancelled = run->cancelled && run->claimed;

	if (outcome.cancelled)
		ereport(LOG,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling autovacuum task"),
				 errdetail("The pg_autolauncher worker in slot %d yielded the table to a session waiting for its lock; it is left for a later visit.",
						   MySlotNo),
				 errcontext("automatic %s of table \"%s.%s.%s\"",
							(run->params.options & VACOPT_VACUUM) ? "vacuum" : "analyze",
							visit->dbname, run->nspname, run->relname)));
	else if (outcome.skipped)
		ereport(DEBUG1,
				(errmsg_internal("pg_autolauncher skipped table \"%s.%s.%s\": it was locked",
								 visit->dbname, run->nspname, run->relname)));

	if (run->claimed)
		al_release_table(MySlotNo, &outcome);
}

#if PG_VERSION_NUM < 160000
/*
 * (Only this workaround depends on the version here so far; vacuum()'s own
 * signature changes in PostgreSQL 16, and that port is yet to be done.)
 *
 * PostgreSQL 15's vacuum() ends with vac_update_datfrozenxid() whenever
 * VACOPT_VACUUM is set and the caller is not an autovacuum process.  That
 * scans the whole of pg_class under the database's frozen-IDs lock, once
 * per table: quadratic in a visit, where core's worker does it once at
 * the end (PostgreSQL 16 added VACOPT_SKIP_DATABASE_STATS for this).  So
 * we hand vacuum() a copy of the parameters, and when the last transaction
 * vacuum() runs for our table commits (its own, vacuum_rel()'s, and
 * analyze_rel()'s if it analyzes too) this callback clears VACOPT_VACUUM in
 * that copy, which vacuum() reads only at that final check.  If the vacuum
 * was skipped, the analyze never runs and the update simply happens, as
 * before.  update_datfrozenxid() does it once for the visit.
 * t/032_wraparound.pl counts the pg_class scans to prove it.
 */
static VacuumParams *datfrozenxid_params = NULL;
static int	datfrozenxid_commits_left = 0;

static void
skip_datfrozenxid_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && datfrozenxid_params != NULL &&
		--datfrozenxid_commits_left == 0)
	{
		datfrozenxid_params->options &= ~VACOPT_VACUUM;
		datfrozenxid_params = NULL;
	}
}
#endif

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
	RunMeasure	measure;
	VacuumParams vacparams;
	double		std_cost_delay = VacuumCostDelay;
	int			std_cost_limit = VacuumCostLimit;
	sigset_t	costsig;

	MemoryContextResetAndDeleteChildren(PortalContext);
	MemoryContextSwitchTo(PortalContext);
	measure_start(run->relid, &measure);
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
	sigemptyset(&costsig);
	sigaddset(&costsig, SIGUSR2);

	PG_TRY();
	{
#if PG_VERSION_NUM >= 160000
		vacparams.options |= VACOPT_SKIP_DATABASE_STATS;
#else
		if (vacparams.options & VACOPT_VACUUM)
		{
			datfrozenxid_params = &vacparams;
			datfrozenxid_commits_left =
				(vacparams.options & VACOPT_ANALYZE) ? 3 : 2;
		}
#endif

		/*
		 * Take our share of the cost budget.  SIGUSR2 is held meanwhile, so
		 * that a new share signalled during the hand-over is applied after
		 * it, not overwritten by it.
		 */
		sigprocmask(SIG_BLOCK, &costsig, NULL);
		VacuumCostDelay = run->cost_delay;
		VacuumCostLimit = al_cost_begin_table(MySlotNo, run->cost_dobalance,
											  run->cost_delay, run->cost_limit,
											  run->cost_budget_limit,
											  run->cost_budget_delay);
		cost_balanced_run = run->cost_dobalance;
		sigprocmask(SIG_UNBLOCK, &costsig, NULL);

		run->ran = true;
		vacuum(list_make1(rel), &vacparams, visit->bstrategy, true);
	}
	PG_FINALLY();
	{
		/* we keep our share until we exit; the table no longer uses it */
		sigprocmask(SIG_BLOCK, &costsig, NULL);
		cost_balanced_run = false;
		VacuumCostDelay = std_cost_delay;
		VacuumCostLimit = std_cost_limit;
		sigprocmask(SIG_UNBLOCK, &costsig, NULL);
#if PG_VERSION_NUM < 160000
		datfrozenxid_params = NULL;
#endif
	}
	PG_END_TRY();

	if (ActiveSnapshotSet())
		PopActiveSnapshot();

	/* forget a cancel that arrived as we finished, as core does */
	QueryCancelPending = false;

	CommitTransactionCommand();
	StartTransactionCommand();

	log_run(run->relid, &run->params, &measure, visit->dbname,
			run->nspname, run->relname);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * update_datfrozenxid
 *		Advance pg_database.datfrozenxid once for the visit, as core's
 *		do_autovacuum() does.
 *
 * Even a visit that vacuumed nothing may let it advance, when the table
 * that held it back was dropped or truncated.  As in core, it is skipped
 * only when we vacuumed nothing and another worker held a table here: that
 * worker does it when it finishes.  A cancel cannot interrupt it: it is
 * short, and a session waiting for the frozen-IDs lock gets it right after.
 */
static void
update_datfrozenxid(Visit *visit)
{
	if (!visit->did_vacuum && visit->found_concurrent_worker)
		return;

	HOLD_CANCEL_INTERRUPTS();
	vac_update_datfrozenxid();
	RESUME_CANCEL_INTERRUPTS();
	QueryCancelPending = false;
}

/* pages and tuples of a table, from pg_class and pgstats */
static void
table_numbers(Oid relid, BlockNumber *pages, double *live, double *dead)
{
	HeapTuple	tup;
	bool		shared = false;
	PgStat_StatTabEntry *tabentry;

	*pages = 0;
	*live = *dead = 0;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		*pages = ((Form_pg_class) GETSTRUCT(tup))->relpages;
		shared = ((Form_pg_class) GETSTRUCT(tup))->relisshared;
		ReleaseSysCache(tup);
	}
	tabentry = pgstat_fetch_stat_tabentry_ext(shared, relid);
	if (tabentry != NULL)
	{
		*live = tabentry->n_live_tuples;
		*dead = tabentry->n_dead_tuples;
		pfree(tabentry);
	}
}

static void
measure_start(Oid relid, RunMeasure *m)
{
	double		live;

	m->start = GetCurrentTimestamp();
	pg_rusage_init(&m->ru0);
	m->buffers = pgBufferUsage;
	m->wal = pgWalUsage;
	table_numbers(relid, &m->pages, &live, &m->dead_tuples);
}

/*
 * log_run
 *		Log a run that took at least log_min_duration, as core logs its
 *		autovacuum runs under log_autovacuum_min_duration.
 *
 * PostgreSQL 15 writes its detailed report only for autovacuum processes,
 * so we write our own, with the same kinds of figures: pages, tuples,
 * buffer and WAL usage, and timing.
 */
static void
log_run(Oid relid, const VacuumParams *params, const RunMeasure *m,
		const char *dbname, const char *nspname, const char *relname)
{
	TimestampTz end = GetCurrentTimestamp();
	BufferUsage buffers;
	WalUsage	wal;
	BlockNumber pages;
	double		live;
	double		dead;
	StringInfoData buf;

	if (params->log_min_duration < 0 ||
		(params->log_min_duration > 0 &&
		 !TimestampDifferenceExceeds(m->start, end, params->log_min_duration)))
		return;

	memset(&buffers, 0, sizeof(buffers));
	BufferUsageAccumDiff(&buffers, &pgBufferUsage, &m->buffers);
	memset(&wal, 0, sizeof(wal));
	WalUsageAccumDiff(&wal, &pgWalUsage, &m->wal);
	table_numbers(relid, &pages, &live, &dead);

	initStringInfo(&buf);
	appendStringInfo(&buf, "automatic %s%s of table \"%s.%s.%s\" by pg_autolauncher worker %d\n",
					 (params->options & VACOPT_VACUUM) ? "vacuum" : "analyze",
					 ((params->options & VACOPT_VACUUM) &&
					  (params->options & VACOPT_ANALYZE)) ? " and analyze" : "",
					 dbname, nspname, relname,
					 MySlotNo);
	if (params->is_wraparound)
		appendStringInfoString(&buf, "to prevent wraparound\n");
	if (params->options & VACOPT_VACUUM)
	{
		appendStringInfo(&buf, "pages: %u before, %u after\n", m->pages, pages);
		appendStringInfo(&buf, "tuples: %.0f dead before, %.0f dead after, %.0f live\n",
						 m->dead_tuples, dead, live);
	}
	appendStringInfo(&buf, "buffer usage: %lld hits, %lld misses, %lld dirtied\n",
					 (long long) buffers.shared_blks_hit + buffers.local_blks_hit,
					 (long long) buffers.shared_blks_read + buffers.local_blks_read,
					 (long long) buffers.shared_blks_dirtied + buffers.local_blks_dirtied);
	appendStringInfo(&buf, "WAL usage: %lld records, %lld full page images, %llu bytes\n",
					 (long long) wal.wal_records, (long long) wal.wal_fpi,
					 (unsigned long long) wal.wal_bytes);
	appendStringInfo(&buf, "system usage: %s", pg_rusage_show(&m->ru0));

	ereport(LOG, (errmsg_internal("%s", buf.data)));
}
