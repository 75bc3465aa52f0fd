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
 *	   analyze, most urgent first: wraparound, then the highest score; it
 *	   publishes the lowest thresholds it saw, which the launcher's
 *	   estimates use from then on;
 *	4. for each table: claims it in its slot (so no two workers process one
 *	   table), re-checks fresh stats, takes its share of the cost budget,
 *	   and runs vacuum() directly, as core's autovacuum_do_vac_analyze()
 *	   does.  An error in one table is logged and the worker moves on.
 *
 * SIGTERM runs die(), so a vacuum in progress is interrupted at its next
 * CHECK_FOR_INTERRUPTS(); SIGINT cancels the current table only.  A
 * session that waits for one of our locks longer than deadlock_timeout
 * sends that SIGINT itself, as for core's workers (yield_to_lock_waiters),
 * except during an anti-wraparound vacuum.
 *
 * Since this is not an autovacuum process, PostgreSQL records our runs as
 * manual: last_vacuum/last_analyze in pg_stat_all_tables.
 *
 * IDENTIFICATION
 *	  src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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

static int	MySlotNo = -1;
static uint64 MyGeneration = 0;
static bool MyCompleted = false;

static MemoryContext WorkerContext = NULL;

static void check_injected_worker_error(void);
static void worker_on_exit(int code, Datum arg);
static void harden_session(void);
static void yield_to_lock_waiters(void);
static void process_database(void);
static void get_freeze_defaults(FreezeDefaults *defaults);
static void collect_table(Form_pg_class classForm, const AutoVacOpts *opts,
						  void *arg);
static void process_table(Oid relid, HTAB *toast_parents,
						  TupleDesc pg_class_desc,
						  const FreezeDefaults *defaults,
						  BufferAccessStrategy bstrategy);
static void measure_start(Oid relid, RunMeasure *m);
static void log_run(Oid relid, const VacuumParams *params,
					const RunMeasure *m, const char *nspname,
					const char *relname);
static void run_vacuum(Oid relid, VacuumParams *params,
					   BufferAccessStrategy bstrategy,
					   const char *nspname, const char *relname);

void
pg_autolauncher_worker_main(Datum main_arg)
{
	AlWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	MySlotNo = DatumGetInt32(main_arg);
	MyGeneration = args.generation;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
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
	bool		fail;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	fail = (AlShared->inject_worker_error_db == MyDatabaseId);
	LWLockRelease(AlShared->lock);

	if (fail)
		elog(ERROR, "pg_autolauncher: injected worker error (test)");
}

static void
worker_on_exit(int code, Datum arg)
{
	al_release_slot(MySlotNo, MyGeneration, MyCompleted);
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
 */
static void
yield_to_lock_waiters(void)
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	MyProc->statusFlags |= PROC_IS_AUTOVACUUM;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

/* The session settings core's autovacuum worker uses. */
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

static void
process_database(void)
{
	CollectState collect;
	HTAB	   *toast_parents;
	TupleDesc	pg_class_desc;
	Relation	classRel;
	List	   *tables;
	ListCell   *lc;
	FreezeDefaults defaults;
	BufferAccessStrategy bstrategy;

	/*
	 * Transactions come and go (vacuum() commits ours); this context keeps
	 * the work list alive across them.
	 */
	WorkerContext = AllocSetContextCreate(TopMemoryContext,
										  "pg_autolauncher worker",
										  ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(WorkerContext);

	StartTransactionCommand();
	MemoryContextSwitchTo(WorkerContext);

	get_freeze_defaults(&defaults);

	classRel = table_open(RelationRelationId, AccessShareLock);
	pg_class_desc = CreateTupleDescCopy(RelationGetDescr(classRel));
	table_close(classRel, AccessShareLock);

	collect.tables = NIL;
	al_current_settings(&collect.settings);
	al_floor_init(&collect.floor);
	toast_parents = al_scan_tables(pg_class_desc, collect_table, &collect);
	tables = collect.tables;
	list_sort(tables, work_table_cmp);

	/* let the launcher estimate our work with our tables' real thresholds */
	al_publish_threshold_floor(MyDatabaseId, &collect.floor);

	ereport(DEBUG1,
			(errmsg_internal("pg_autolauncher worker found %d tables to process",
							 list_length(tables))));

	/* one strategy for every table, so vacuum cannot blow out the cache */
	bstrategy = GetAccessStrategy(BAS_VACUUM);

	/* a throwaway PortalContext, reset for each table, as core does */
	PortalContext = AllocSetContextCreate(WorkerContext,
										  "pg_autolauncher portal",
										  ALLOCSET_DEFAULT_SIZES);

	foreach(lc, tables)
	{
		WorkTable  *wt = lfirst(lc);

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

		process_table(wt->relid, toast_parents, pg_class_desc, &defaults,
					  bstrategy);
	}

	CommitTransactionCommand();
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
 *		Claim one table, re-check it with fresh stats, and vacuum/analyze it.
 */
static void
process_table(Oid relid, HTAB *toast_parents, TupleDesc pg_class_desc,
			  const FreezeDefaults *defaults, BufferAccessStrategy bstrategy)
{
	HeapTuple	classTup;
	Form_pg_class classForm;
	AutoVacOpts *opts;
	const AutoVacOpts *effective;
	AlVacuumSettings settings;
	AlTableInput input;
	AlTableDecision decision;
	VacuumParams params;
	AlAction	action;
	volatile AlAction done = AL_ACTION_NONE;
	volatile bool cancelled = false;
	char	   *dbname = get_database_name(MyDatabaseId);
	double		std_cost_delay = VacuumCostDelay;
	int			std_cost_limit = VacuumCostLimit;
	double		cost_delay;
	int			cost_limit;
	int			total_limit;
	double		total_delay;
	bool		dobalance;
	char	   *relname;
	char	   *nspname;

	classTup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(classTup))
		return;					/* dropped since we listed it */
	classForm = (Form_pg_class) GETSTRUCT(classTup);
	relname = pstrdup(NameStr(classForm->relname));
	nspname = get_namespace_name(classForm->relnamespace);
	if (nspname == NULL)
		return;

	if (!al_claim_table(MySlotNo, MyDatabaseId, relid,
						classForm->relisshared, relname))
		return;					/* another worker has it */

	/* re-check with fresh stats: someone may have vacuumed it meanwhile */
	opts = al_extract_autovac_opts(classTup, pg_class_desc);
	effective = opts;
	if (opts == NULL && classForm->relkind == RELKIND_TOASTVALUE)
		effective = al_toast_parent_opts(toast_parents, relid);
	al_current_settings(&settings);
	al_fill_table_input(&input, classForm, effective);
	al_decide_table(&settings, &input, &decision);

	if (!decision.dovacuum && !decision.doanalyze)
	{
		al_release_table(MySlotNo, AL_ACTION_NONE, false);
		return;
	}

	memset(&params, 0, sizeof(params));
	params.options = (decision.dovacuum ? VACOPT_VACUUM : 0) |
		(decision.doanalyze ? VACOPT_ANALYZE : 0) |
		(decision.wraparound ? 0 : VACOPT_SKIP_LOCKED);
	params.index_cleanup = VACOPTVALUE_UNSPECIFIED;
	params.truncate = VACOPTVALUE_UNSPECIFIED;
	params.nworkers = -1;		/* no parallel vacuum, as in core autovacuum */
	params.is_wraparound = decision.wraparound;
	params.freeze_min_age = (effective && effective->freeze_min_age >= 0)
		? effective->freeze_min_age : defaults->freeze_min_age;
	params.freeze_table_age = (effective && effective->freeze_table_age >= 0)
		? effective->freeze_table_age : defaults->freeze_table_age;
	params.multixact_freeze_min_age =
		(effective && effective->multixact_freeze_min_age >= 0)
		? effective->multixact_freeze_min_age
		: defaults->multixact_freeze_min_age;
	params.multixact_freeze_table_age =
		(effective && effective->multixact_freeze_table_age >= 0)
		? effective->multixact_freeze_table_age
		: defaults->multixact_freeze_table_age;
	params.log_min_duration = (effective && effective->log_min_duration >= 0)
		? effective->log_min_duration : Log_autovacuum_min_duration;

	/* cost settings resolved as core does: reloption, autovacuum_*, vacuum_* */
	total_delay = (autovacuum_vac_cost_delay >= 0)
		? autovacuum_vac_cost_delay : std_cost_delay;
	total_limit = (autovacuum_vac_cost_limit > 0)
		? autovacuum_vac_cost_limit : std_cost_limit;
	cost_delay = (effective && effective->vacuum_cost_delay >= 0)
		? effective->vacuum_cost_delay : total_delay;
	cost_limit = (effective && effective->vacuum_cost_limit > 0)
		? effective->vacuum_cost_limit : total_limit;
	dobalance = !(effective && (effective->vacuum_cost_limit > 0 ||
								effective->vacuum_cost_delay >= 0));

	VacuumCostDelay = cost_delay;
	VacuumCostLimit = al_balance_cost(MySlotNo, dobalance, cost_delay,
									  cost_limit, total_limit, total_delay);

	action = decision.dovacuum
		? (decision.doanalyze ? AL_ACTION_VACUUM_ANALYZE : AL_ACTION_VACUUM)
		: AL_ACTION_ANALYZE;
	al_set_table_action(MySlotNo, action, decision.wraparound);

	/*
	 * An error in one table (including a cancel, SIGINT) must not stop the
	 * worker: log it, clean up the transaction, and go on with the next.
	 */
	PG_TRY();
	{
		run_vacuum(relid, &params, bstrategy, nspname, relname);
		done = action;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(WorkerContext);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			/*
			 * A cancel: the deadlock checker of a session waiting for our
			 * lock (see yield_to_lock_waiters), or pg_cancel_backend().
			 * Reported below, once the transaction is cleaned up.
			 */
			cancelled = true;
		}
		else
		{
			if (params.options & VACOPT_VACUUM)
				errcontext("automatic vacuum of table \"%s.%s.%s\"",
						   dbname, nspname, relname);
			else
				errcontext("automatic analyze of table \"%s.%s.%s\"",
						   dbname, nspname, relname);
			EmitErrorReport();
		}

		AbortOutOfAnyTransaction();
		FlushErrorState();
		FreeErrorData(edata);
		MemoryContextResetAndDeleteChildren(PortalContext);

		StartTransactionCommand();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();

	MemoryContextSwitchTo(WorkerContext);
	if (cancelled)
		ereport(LOG,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling autovacuum task"),
				 errdetail("The pg_autolauncher worker in slot %d yielded the table to a session waiting for its lock; it is left for a later visit.",
						   MySlotNo),
				 errcontext("automatic %s of table \"%s.%s.%s\"",
							(params.options & VACOPT_VACUUM) ? "vacuum" : "analyze",
							dbname, nspname, relname)));
	al_release_table(MySlotNo, done, cancelled);

	VacuumCostDelay = std_cost_delay;
	VacuumCostLimit = std_cost_limit;

	if (opts != NULL)
		pfree(opts);
	heap_freetuple(classTup);
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
run_vacuum(Oid relid, VacuumParams *params, BufferAccessStrategy bstrategy,
		   const char *nspname, const char *relname)
{
	StringInfoData activity;
	VacuumRelation *rel;
	RunMeasure	measure;

	MemoryContextResetAndDeleteChildren(PortalContext);
	MemoryContextSwitchTo(PortalContext);
	measure_start(relid, &measure);

	initStringInfo(&activity);
	appendStringInfo(&activity, "pg_autolauncher: %s%s %s.%s%s",
					 (params->options & VACOPT_VACUUM) ? "VACUUM" : "ANALYZE",
					 ((params->options & VACOPT_VACUUM) &&
					  (params->options & VACOPT_ANALYZE)) ? " ANALYZE" : "",
					 quote_identifier(nspname), quote_identifier(relname),
					 params->is_wraparound ? " (to prevent wraparound)" : "");
	pgstat_report_activity(STATE_RUNNING, activity.data);

	/* A NULL RangeVar: no name lookup, and no "skipping" WARNINGs. */
	rel = makeVacuumRelation(NULL, relid, NIL);

	if (!(params->options & VACOPT_VACUUM))
		PushActiveSnapshot(GetTransactionSnapshot());

	vacuum(list_make1(rel), params, bstrategy, true);

	if (ActiveSnapshotSet())
		PopActiveSnapshot();

	/* forget a cancel that arrived as we finished, as core does */
	QueryCancelPending = false;

	CommitTransactionCommand();
	StartTransactionCommand();

	log_run(relid, params, &measure, nspname, relname);
	pgstat_report_activity(STATE_IDLE, NULL);
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
		const char *nspname, const char *relname)
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
					 get_database_name(MyDatabaseId), nspname, relname,
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
