/*-------------------------------------------------------------------------
 *
 * status.c
 *		SQL-callable functions: the status views and the admin functions.
 *
 * These run in ordinary backends.  They read the shared state under the
 * shared lock, copy what they need, release the lock, and only then do
 * catalog look-ups and build result rows.  The admin functions,
 * autolauncher.request() and autolauncher.wakeup(), use the same slot
 * protocol as the launcher (slots.c); their EXECUTE privilege is revoked
 * from PUBLIC by the extension script.
 *
 * If the library was not preloaded there is no shared state, and every
 * function raises an error that says how to fix the configuration.
 *
 * IDENTIFICATION
 *	  src/status.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

PG_FUNCTION_INFO_V1(pg_autolauncher_status);
PG_FUNCTION_INFO_V1(pg_autolauncher_status_1_1);
PG_FUNCTION_INFO_V1(pg_autolauncher_status_1_2);
PG_FUNCTION_INFO_V1(pg_autolauncher_workers);
PG_FUNCTION_INFO_V1(pg_autolauncher_workers_1_2);
PG_FUNCTION_INFO_V1(pg_autolauncher_databases);
PG_FUNCTION_INFO_V1(pg_autolauncher_databases_1_2);
PG_FUNCTION_INFO_V1(pg_autolauncher_request);
PG_FUNCTION_INFO_V1(pg_autolauncher_wakeup);
PG_FUNCTION_INFO_V1(pg_autolauncher_tables);
PG_FUNCTION_INFO_V1(pg_autolauncher_tables_1_2);

/*
 * The columns of each view, by the SQL version that defined it: a
 * database whose extension is still at an older version calls the older
 * C symbol and gets the older columns.
 */
#define STATUS_COLS_1_0		16
#define STATUS_COLS_1_1		18
#define STATUS_COLS			20
#define WORKERS_COLS_1_0	15
#define WORKERS_COLS		17
#define DATABASES_COLS_1_0	13
#define DATABASES_COLS		17
#define TABLES_COLS_1_0		28
#define TABLES_COLS			33

static Datum
timestamp_or_null(TimestampTz ts, bool *isnull)
{
	*isnull = (ts == 0);
	return TimestampTzGetDatum(ts);
}

/* The SQL versions a status function can be called from. */
typedef enum AlApiVersion
{
	AL_API_1_0,
	AL_API_1_1,
	AL_API_1_2
} AlApiVersion;

/*
 * autolauncher.status: one row describing the launcher.
 *
 * Version 1.1 added workers_ddl_terminated and tables_skipped; 1.2 added
 * tracked_tables and statistics_walks.
 */
static Datum
status_internal(FunctionCallInfo fcinfo, AlApiVersion api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AlSharedState copy;
	int			active = 0;
	int			tracked;
	Datum		values[STATUS_COLS];
	bool		nulls[STATUS_COLS];
	Interval   *naptime;
	int			i = 0;

	al_require_shared_state();
	InitMaterializedSRF(fcinfo, 0);

	LWLockAcquire(AlShared->lock, LW_SHARED);
	memcpy(&copy, AlShared, offsetof(AlSharedState, slots));
	for (int s = 0; s < AlShared->nslots; s++)
		if (AlShared->slots[s].state != AL_SLOT_FREE)
			active++;
	tracked = (int) hash_get_num_entries(AlTables);
	LWLockRelease(AlShared->lock);

	memset(nulls, 0, sizeof(nulls));

	naptime = palloc0(sizeof(Interval));
	naptime->time = (TimeOffset) al_naptime * USECS_PER_SEC;

	values[i] = Int32GetDatum(copy.launcher_pid);
	nulls[i++] = (copy.launcher_pid == 0);
	values[i++] = CStringGetTextDatum(copy.launcher_pid == 0
									  ? al_launcher_state_name(AL_LAUNCHER_STOPPED)
									  : al_launcher_state_name(copy.launcher_state));
	values[i++] = Int32GetDatum(copy.nslots);
	values[i++] = Int32GetDatum(al_effective_max_workers());
	values[i++] = Int32GetDatum(active);
	values[i++] = IntervalPGetDatum(naptime);
	values[i++] = Int64GetDatum(copy.cycles);
	values[i++] = Int64GetDatum(copy.workers_launched);
	values[i++] = Int64GetDatum(copy.workers_finished);
	values[i++] = Int64GetDatum(copy.launch_failures);
	values[i++] = Int64GetDatum(copy.worker_failures);
	if (api >= AL_API_1_1)
		values[i++] = Int64GetDatum(copy.workers_ddl_terminated);
	values[i++] = Int64GetDatum(copy.tables_vacuumed);
	values[i++] = Int64GetDatum(copy.tables_analyzed);
	values[i++] = Int64GetDatum(copy.tables_cancelled);
	if (api >= AL_API_1_1)
		values[i++] = Int64GetDatum(copy.tables_skipped);
	values[i] = timestamp_or_null(copy.last_cycle_at, &nulls[i]);
	i++;
	values[i] = timestamp_or_null(copy.launcher_pid == 0 ? 0 : copy.next_cycle_at,
								  &nulls[i]);
	i++;
	if (api >= AL_API_1_2)
	{
		values[i++] = Int32GetDatum(tracked);
		values[i++] = Int64GetDatum(copy.statistics_walks);
	}
	Assert(i == (api >= AL_API_1_2 ? STATUS_COLS :
				 api >= AL_API_1_1 ? STATUS_COLS_1_1 : STATUS_COLS_1_0));

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

Datum
pg_autolauncher_status(PG_FUNCTION_ARGS)
{
	return status_internal(fcinfo, AL_API_1_0);
}

Datum
pg_autolauncher_status_1_1(PG_FUNCTION_ARGS)
{
	return status_internal(fcinfo, AL_API_1_1);
}

Datum
pg_autolauncher_status_1_2(PG_FUNCTION_ARGS)
{
	return status_internal(fcinfo, AL_API_1_2);
}

/*
 * autolauncher.workers: one row per slot.
 *
 * Which table a worker is processing is shown, as pg_stat_activity shows a
 * backend's query, only to roles with the privileges of pg_read_all_stats,
 * or when the table is one the caller could see in pg_class anyway: in the
 * current database, or shared.  Everyone else gets NULLs there, so that
 * the names of tables in databases they cannot connect to do not leak.
 * Version 1.2 added kind (why the worker was sent) and idle.
 */
static Datum
workers_internal(FunctionCallInfo fcinfo, AlApiVersion api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AlSlot	   *slots;
	int			nslots;
	bool		read_all_stats;

	al_require_shared_state();
	InitMaterializedSRF(fcinfo, 0);
	read_all_stats = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	LWLockAcquire(AlShared->lock, LW_SHARED);
	nslots = AlShared->nslots;
	slots = palloc(sizeof(AlSlot) * nslots);
	memcpy(slots, AlShared->slots, sizeof(AlSlot) * nslots);
	LWLockRelease(AlShared->lock);

	for (int s = 0; s < nslots; s++)
	{
		AlSlot	   *slot = &slots[s];
		Datum		values[WORKERS_COLS];
		bool		nulls[WORKERS_COLS];
		bool		busy = (slot->state != AL_SLOT_FREE);
		bool		has_table = busy && OidIsValid(slot->relid) &&
			(read_all_stats || slot->dboid == MyDatabaseId || slot->relshared);
		const char *action = al_action_name(slot->action);
		char	   *dbname = busy ? get_database_name(slot->dboid) : NULL;
		NameData	datname;
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		memset(&datname, 0, sizeof(datname));
		if (dbname != NULL)
			namestrcpy(&datname, dbname);

		values[i++] = Int32GetDatum(s);
		values[i++] = CStringGetTextDatum(al_slot_state_name(slot->state));
		values[i] = Int32GetDatum(slot->pid);
		nulls[i++] = (slot->pid == 0);
		values[i] = ObjectIdGetDatum(slot->dboid);
		nulls[i++] = !busy;
		values[i] = NameGetDatum(&datname);
		nulls[i++] = (dbname == NULL);
		values[i] = ObjectIdGetDatum(slot->relid);
		nulls[i++] = !has_table;
		values[i] = NameGetDatum(&slot->relname);
		nulls[i++] = !has_table;
		values[i] = action ? CStringGetTextDatum(action) : (Datum) 0;
		nulls[i++] = !has_table || action == NULL;
		values[i] = BoolGetDatum(slot->wraparound);
		nulls[i++] = !has_table || action == NULL;
		values[i] = timestamp_or_null(busy ? slot->requested_at : 0, &nulls[i]);
		i++;
		values[i] = timestamp_or_null(busy ? slot->started_at : 0, &nulls[i]);
		i++;
		values[i] = Int64GetDatum(slot->tables_done);
		nulls[i++] = !busy;
		/* the limit the worker really uses, while it processes a table */
		values[i] = Int32GetDatum(slot->cost_limit_applied);
		nulls[i++] = !busy || !slot->cost_active || slot->cost_limit_applied <= 0;
		values[i] = Float8GetDatum(slot->cost_delay);
		nulls[i++] = !busy || !slot->cost_active || slot->cost_limit_applied <= 0;
		values[i] = BoolGetDatum(slot->manual);
		nulls[i++] = !busy;
		if (api >= AL_API_1_2)
		{
			values[i] = CStringGetTextDatum(slot->manual ? "manual"
											: al_visit_kind_name(slot->kind));
			nulls[i++] = !busy;
			values[i] = BoolGetDatum(slot->idle);
			nulls[i++] = !busy;
		}
		Assert(i == (api >= AL_API_1_2 ? WORKERS_COLS : WORKERS_COLS_1_0));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

Datum
pg_autolauncher_workers(PG_FUNCTION_ARGS)
{
	return workers_internal(fcinfo, AL_API_1_0);
}

Datum
pg_autolauncher_workers_1_2(PG_FUNCTION_ARGS)
{
	return workers_internal(fcinfo, AL_API_1_2);
}

/*
 * autolauncher.databases: every valid database, with what we did there.
 *
 * Version 1.2 replaced estimated_tables (a count of tables over their
 * thresholds, estimated) by due_tables (the tables in its queue) and added
 * the database's lifecycle state, its last scan and its freeze deadline;
 * the 1.0 symbol shows the queue's length as estimated_tables.
 */
static Datum
databases_internal(FunctionCallInfo fcinfo, AlApiVersion api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AlVacuumSettings settings;
	TimestampTz now;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	al_require_shared_state();
	InitMaterializedSRF(fcinfo, 0);
	al_current_settings(&settings);
	now = GetCurrentTimestamp();

	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database pgdb = (Form_pg_database) GETSTRUCT(tup);
		AlDatabaseEntry entry;
		bool		has_entry;
		bool		has_deadline;
		Datum		values[DATABASES_COLS];
		bool		nulls[DATABASES_COLS];
		int			i = 0;

		if (database_is_invalid_form(pgdb))
			continue;

		memset(&entry, 0, sizeof(entry));
		has_entry = dbstate_copy(pgdb->oid, &entry);

		memset(nulls, 0, sizeof(nulls));
		values[i++] = ObjectIdGetDatum(pgdb->oid);
		values[i++] = NameGetDatum(&pgdb->datname);
		values[i] = timestamp_or_null(entry.last_dispatch_at, &nulls[i]);
		i++;
		values[i] = timestamp_or_null(entry.last_finished_at, &nulls[i]);
		i++;
		values[i++] = Int64GetDatum(entry.dispatch_count);
		values[i++] = Int64GetDatum(entry.failure_count);
		values[i] = timestamp_or_null(entry.backoff_until > now
									  ? entry.backoff_until : 0, &nulls[i]);
		i++;
		values[i] = Int32GetDatum(entry.due_tables);
		nulls[i++] = !has_entry;
		values[i] = timestamp_or_null(entry.next_check_at, &nulls[i]);
		i++;
		values[i] = CStringGetTextDatum(psprintf(al_reason_format(entry.reason),
												 entry.reason_count));
		nulls[i++] = !has_entry;
		values[i] = Int32GetDatum((int32) (settings.recent_xid - pgdb->datfrozenxid));
		nulls[i++] = !TransactionIdIsNormal(pgdb->datfrozenxid);
		values[i] = Int32GetDatum((int32) (settings.recent_multi - pgdb->datminmxid));
		nulls[i++] = !MultiXactIdIsValid(pgdb->datminmxid);
		values[i++] = BoolGetDatum(
								   al_xid_is_wraparound(pgdb->datfrozenxid,
														settings.recent_xid,
														settings.freeze_max_age) ||
								   al_multi_is_wraparound(pgdb->datminmxid,
														  settings.recent_multi,
														  settings.multixact_freeze_max_age));
		if (api >= AL_API_1_2)
		{
			values[i] = CStringGetTextDatum(dbstate_state_name(entry.state));
			nulls[i++] = !has_entry;
			values[i] = timestamp_or_null(entry.last_scan_at, &nulls[i]);
			i++;
			/* XIDs left before a table's own freeze_max_age forces a vacuum */
			has_deadline = has_entry && entry.state == AL_DB_KNOWN &&
				TransactionIdIsNormal(entry.freeze_deadline);
			values[i] = Int32GetDatum((int32) (entry.freeze_deadline -
											   settings.recent_xid));
			nulls[i++] = !has_deadline;
			values[i] = Int64GetDatum(has_entry ? entry.scan_count : 0);
			nulls[i++] = !has_entry;
		}
		Assert(i == (api >= AL_API_1_2 ? DATABASES_COLS : DATABASES_COLS_1_0));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	return (Datum) 0;
}

Datum
pg_autolauncher_databases(PG_FUNCTION_ARGS)
{
	return databases_internal(fcinfo, AL_API_1_0);
}

Datum
pg_autolauncher_databases_1_2(PG_FUNCTION_ARGS)
{
	return databases_internal(fcinfo, AL_API_1_2);
}

/*
 * autolauncher.request(dbname name) returns int
 *		Dispatch a worker to a database now; return its slot number.
 *
 * The worker is registered from this backend with the launcher as its
 * notify process, and its handle is stored in the slot, so the launcher
 * reaps it like any other.  Manual requests ignore pg_autolauncher.enabled,
 * max_workers and naptime; they are bounded only by the slot count.
 */
Datum
pg_autolauncher_request(PG_FUNCTION_ARGS)
{
	char	   *dbname;
	Oid			dboid;
	HeapTuple	tup;
	bool		invalid;
	int			slotno;
	uint64		generation;
	pid_t		launcher_pid;

	al_require_shared_state();

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("database name must not be null")));
	dbname = NameStr(*PG_GETARG_NAME(0));
	if (dbname[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("database name must not be empty")));

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot request a pg_autolauncher worker during recovery"),
				 errhint("Workers run only on a primary.")));

	dboid = get_database_oid(dbname, true);
	if (!OidIsValid(dboid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_DATABASE),
				 errmsg("database \"%s\" does not exist", dbname)));

	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	invalid = !HeapTupleIsValid(tup) ||
		database_is_invalid_form((Form_pg_database) GETSTRUCT(tup));
	if (HeapTupleIsValid(tup))
		ReleaseSysCache(tup);
	if (invalid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot vacuum invalid database \"%s\"", dbname),
				 errhint("Use DROP DATABASE to drop invalid databases.")));

	/* a free slot whose worker is still exiting is free a moment later */
	for (int waited_ms = 0;; waited_ms += 10)
	{
		slotno = al_reserve_slot(dboid, AL_VISIT_NONE, true, &generation);
		if (slotno != AL_RESERVE_EXITING || waited_ms >= 5000)
			break;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	if (slotno == AL_RESERVE_BLOCKED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("database \"%s\" is being dropped or altered", dbname),
				 errdetail("A DROP DATABASE, ALTER DATABASE or CREATE DATABASE command needs it to itself."),
				 errhint("Retry when the command has finished.")));
	if (slotno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("all pg_autolauncher worker slots are in use"),
				 errdetail("pg_autolauncher.worker_slots is %d.", AlShared->nslots),
				 errhint("Retry when a worker has finished.")));

	LWLockAcquire(AlShared->lock, LW_SHARED);
	launcher_pid = AlShared->launcher_pid;
	LWLockRelease(AlShared->lock);

	if (!al_register_worker(slotno, generation, dboid, launcher_pid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not register a pg_autolauncher worker"),
				 errdetail("All background worker slots are in use."),
				 errhint("Raise max_worker_processes.")));

	(void) al_wake_launcher();
	PG_RETURN_INT32(slotno);
}

/*
 * autolauncher.wakeup() returns bool
 *		Set the launcher's latch; false if no launcher is running.
 */
Datum
pg_autolauncher_wakeup(PG_FUNCTION_ARGS)
{
	al_require_shared_state();
	PG_RETURN_BOOL(al_wake_launcher());
}

/* What the autolauncher.tables callback needs. */
typedef struct TablesState
{
	ReturnSetInfo *rsinfo;
	AlApiVersion api;
	AlVacuumSettings settings;
	AlSlot	   *slots;			/* copy of the slot array */
	int			nslots;
} TablesState;

/* The human reason of a table's verdict. */
static char *
table_reason(const AlVacuumSettings *s, const AlTableInput *t,
			 const AlTableDecision *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (d->wraparound)
	{
		if (al_xid_is_wraparound(t->relfrozenxid, s->recent_xid,
								 d->freeze_max_age))
			appendStringInfo(&buf, "relfrozenxid age %u > freeze max age %d",
							 s->recent_xid - t->relfrozenxid, d->freeze_max_age);
		else
			appendStringInfo(&buf, "relminmxid age %u > multixact freeze max age %d",
							 s->recent_multi - t->relminmxid,
							 d->multixact_freeze_max_age);
		return buf.data;
	}
	if (d->disabled)
		return "disabled by reloption";
	if (!s->counts_active)
		return "track_counts is off";
	if (!t->has_stats)
		return "no statistics yet";

	if (t->n_dead_tuples > d->vacthresh)
		appendStringInfo(&buf, "dead tuples %.0f > threshold %.0f",
						 t->n_dead_tuples, d->vacthresh);
	if (d->insthresh >= 0 && t->inserts_since_vacuum > d->insthresh)
		appendStringInfo(&buf, "%sinserted tuples %.0f > insert threshold %.0f",
						 buf.len > 0 ? "; " : "",
						 t->inserts_since_vacuum, d->insthresh);
	if (d->doanalyze)
		appendStringInfo(&buf, "%smodified tuples %.0f > analyze threshold %.0f",
						 buf.len > 0 ? "; " : "",
						 t->changes_since_analyze, d->anlthresh);
	return (buf.len > 0) ? buf.data : "below thresholds";
}

static const char *
relkind_name(char relkind)
{
	switch (relkind)
	{
		case RELKIND_RELATION:
			return "table";
		case RELKIND_MATVIEW:
			return "matview";
		case RELKIND_TOASTVALUE:
			return "toast";
	}
	return "other";
}

/* al_scan_tables() callback: one row of autolauncher.tables */
static void
emit_table_row(Form_pg_class classForm, const AutoVacOpts *opts, void *arg)
{
	TablesState *state = (TablesState *) arg;
	AlVacuumSettings *s = &state->settings;
	AlTableInput t;
	AlTableDecision d;
	Datum		values[TABLES_COLS];
	bool		nulls[TABLES_COLS];
	int			holder = -1;
	AlTableEntry history;
	bool		has_history;
	const char *action;
	char	   *nspname;
	int			i = 0;

	al_fill_table_input(&t, classForm, opts);
	al_decide_table(s, &t, &d);

	for (int n = 0; n < state->nslots; n++)
	{
		AlSlot	   *slot = &state->slots[n];

		if (slot->state == AL_SLOT_RUNNING && slot->relid == classForm->oid &&
			(slot->dboid == MyDatabaseId || slot->relshared))
			holder = n;
	}

	nspname = get_namespace_name(classForm->relnamespace);
	memset(nulls, 0, sizeof(nulls));
	values[i++] = ObjectIdGetDatum(classForm->oid);
	values[i] = CStringGetDatum(nspname ? nspname : "");
	values[i] = DirectFunctionCall1(namein, values[i]);
	i++;
	values[i++] = NameGetDatum(&classForm->relname);
	values[i++] = CStringGetTextDatum(relkind_name(classForm->relkind));
	values[i] = Int64GetDatum((int64) t.n_live_tuples);
	nulls[i++] = !t.has_stats;
	values[i] = Int64GetDatum((int64) t.n_dead_tuples);
	nulls[i++] = !t.has_stats;
	values[i] = Int64GetDatum((int64) t.inserts_since_vacuum);
	nulls[i++] = !t.has_stats;
	values[i] = Int64GetDatum((int64) t.changes_since_analyze);
	nulls[i++] = !t.has_stats;
	values[i++] = Float4GetDatum(t.reltuples);
	values[i++] = Float8GetDatum(d.vacthresh);
	values[i] = Float8GetDatum(d.insthresh);
	nulls[i++] = (d.insthresh < 0);
	values[i] = Float8GetDatum(d.anlthresh);
	nulls[i++] = (classForm->relkind == RELKIND_TOASTVALUE);
	values[i] = Int32GetDatum((int32) (s->recent_xid - t.relfrozenxid));
	nulls[i++] = !TransactionIdIsNormal(t.relfrozenxid);
	values[i] = Int32GetDatum((int32) (s->recent_multi - t.relminmxid));
	nulls[i++] = !MultiXactIdIsValid(t.relminmxid);
	values[i++] = Int32GetDatum(d.freeze_max_age);
	values[i++] = BoolGetDatum(!d.disabled);
	values[i++] = BoolGetDatum(d.dovacuum);
	values[i++] = BoolGetDatum(d.doanalyze);
	values[i++] = BoolGetDatum(d.wraparound);
	values[i++] = Float8GetDatum(d.score);
	values[i++] = CStringGetTextDatum(table_reason(s, &t, &d));
	values[i] = Int32GetDatum(holder);
	nulls[i++] = (holder < 0);
	values[i] = Int32GetDatum(holder >= 0 ? state->slots[holder].pid : 0);
	nulls[i++] = (holder < 0);
	action = (holder >= 0) ? al_action_name(state->slots[holder].action) : NULL;
	values[i] = action ? CStringGetTextDatum(action) : (Datum) 0;
	nulls[i++] = (action == NULL);
	has_history = registry_lookup(classForm->relisshared ? InvalidOid : MyDatabaseId,
								  classForm->oid, &history);
	values[i] = timestamp_or_null(has_history ? history.last_vacuum : 0,
								  &nulls[i]);
	i++;
	values[i] = timestamp_or_null(has_history ? history.last_analyze : 0,
								  &nulls[i]);
	i++;
	values[i++] = Int64GetDatum(has_history ? history.vacuum_count : 0);
	values[i++] = Int64GetDatum(has_history ? history.analyze_count : 0);
	if (state->api >= AL_API_1_2)
	{
		values[i] = CStringGetTextDatum(tablestate_name(history.state));
		nulls[i++] = !has_history;
		values[i] = timestamp_or_null(has_history &&
									  history.state == AL_TABLE_WAITING
									  ? history.not_before : 0, &nulls[i]);
		i++;
		values[i] = Int32GetDatum(history.retries);
		nulls[i++] = !has_history;
		values[i] = Int32GetDatum(history.last_vacuum_ms);
		nulls[i++] = !has_history || history.last_vacuum_ms < 0;
		values[i] = Int32GetDatum(history.last_analyze_ms);
		nulls[i++] = !has_history || history.last_analyze_ms < 0;
	}
	Assert(i == (state->api >= AL_API_1_2 ? TABLES_COLS : TABLES_COLS_1_0));

	tuplestore_putvalues(state->rsinfo->setResult, state->rsinfo->setDesc,
						 values, nulls);
}

/*
 * autolauncher.tables: every table of the current database, with the
 * numbers, thresholds and verdict a worker would use, and why.  Version
 * 1.2 added its schedule: its state in the table registry, when a waiting
 * table may be taken again, its retries, and how long its last runs took.
 */
static Datum
tables_internal(FunctionCallInfo fcinfo, AlApiVersion api)
{
	TablesState state;
	Relation	classRel;
	TupleDesc	pg_class_desc;

	al_require_shared_state();
	InitMaterializedSRF(fcinfo, 0);

	state.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	state.api = api;
	al_current_settings(&state.settings);

	LWLockAcquire(AlShared->lock, LW_SHARED);
	state.nslots = AlShared->nslots;
	state.slots = palloc(sizeof(AlSlot) * state.nslots);
	memcpy(state.slots, AlShared->slots, sizeof(AlSlot) * state.nslots);
	LWLockRelease(AlShared->lock);

	classRel = table_open(RelationRelationId, AccessShareLock);
	pg_class_desc = CreateTupleDescCopy(RelationGetDescr(classRel));
	table_close(classRel, AccessShareLock);

	(void) al_scan_tables(pg_class_desc, emit_table_row, &state);
	return (Datum) 0;
}

Datum
pg_autolauncher_tables(PG_FUNCTION_ARGS)
{
	return tables_internal(fcinfo, AL_API_1_0);
}

Datum
pg_autolauncher_tables_1_2(PG_FUNCTION_ARGS)
{
	return tables_internal(fcinfo, AL_API_1_2);
}
