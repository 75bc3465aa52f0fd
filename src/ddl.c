/*-------------------------------------------------------------------------
 *
 * ddl.c
 *		Keep pg_autolauncher's workers out of the way of database-level DDL.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME, ALTER DATABASE ... SET
 * TABLESPACE and CREATE DATABASE (which copies its template, template1 by
 * default) need their database to themselves: CountOtherDBBackends() waits
 * about five seconds for other sessions to leave, then fails with "being
 * accessed by other users".  Core terminates its own autovacuum workers in
 * that wait, but knows nothing of ours.
 *
 * This file owns a ProcessUtility hook, installed in every backend since
 * the library is preloaded, that runs before such a command:
 *
 *	1. it checks that the command will pass core's checks up to the wait
 *	   for other sessions: the caller owns the database (or is superuser),
 *	   has CREATEDB where the command needs it, may use the template and the
 *	   tablespace, runs the command where core allows it (not in a
 *	   transaction block, not in a read-only transaction), and nothing else
 *	   that core checks first would refuse it (an active logical slot or
 *	   a subscription on a database to drop, say).  If not, it does nothing
 *	   and core raises its own error: a role that may not run the command
 *	   cannot disturb a worker by trying;
 *	2. it blocks the database in shared memory (al_block_database), so the
 *	   launcher and request() send no new worker there while the command
 *	   runs: the block is checked under the lock that reserves slots, and it
 *	   ends with the command, or with the backend;
 *	3. it asks every worker in that database to exit
 *	   (al_terminate_database_workers), which counts as a DDL termination,
 *	   not a failure; for DROP DATABASE ... WITH (FORCE) it waits for them
 *	   to be gone, since core's own termination of the remaining sessions
 *	   refuses to end our workers for a caller who is not a member of
 *	   their role (they run as the bootstrap superuser, with no roleId);
 *	4. it runs the command through the rest of the hook chain, and drops
 *	   the block when the command ends, whether it succeeded or failed, or
 *	   when anything from step 2 on raised an error.
 *
 * A worker that was registered but has not connected yet is harmless: it
 * waits on the database's lock, which the command holds, and is not
 * counted by CountOtherDBBackends() until it gets it.
 *
 * The hook also tells the scheduler about DDL that changes what it knows
 * (docs/scheduling.md), once the command has succeeded and only when its
 * transaction commits (an XactCallback), so that a refused or rolled-back
 * command changes nothing:
 *
 *	- CREATE, DROP, ALTER DATABASE: the launcher reads pg_database again
 *	  (al_bump_catalog_generation); a new database takes what is known of
 *	  its template (dbstate_inherit);
 *	- CREATE TABLE, CREATE MATERIALIZED VIEW, CREATE TABLE AS with
 *	  autovacuum_* reloptions, and ALTER TABLE ... SET, RESET of them: the
 *	  database's floor drops to the lowest that reloptions allow until a
 *	  worker scans it again (dbstate_lower_floor), and an altered table is
 *	  judged with that floor until a worker reads it (registry_mark_unknown).
 *
 * IDENTIFICATION
 *	  src/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_database.h"
#include "catalog/pg_subscription.h"
#include "catalog/pg_tablespace_d.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "replication/slot.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "catalog/pg_inherits.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/wait_event.h"
#include "utils/syscache.h"

#include "pg_autolauncher.h"

/* How long DROP DATABASE ... WITH (FORCE) waits for our workers to exit. */
#define FORCE_WAIT_MS	5000

/* Tables whose reloptions changed, remembered per transaction, at most. */
#define MAX_PENDING_TABLES	16

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/*
 * What the scheduler is told when the current transaction commits: kept in
 * static memory, and cleared when the transaction ends either way.
 */
static struct
{
	bool		catalog_changed;	/* a database DDL ran */
	Oid			created_db;		/* CREATE DATABASE: the new one */
	Oid			template_db;	/* and its template */
	bool		floor_lowered;	/* autovacuum_* reloptions were set */
	bool		walk_wanted;	/* VACUUM, ANALYZE, CLUSTER, TRUNCATE... ran */
	bool		all_rewritten;	/* some tables' reltuples moved, which ones
								 * not known: forget what is known of all */
	int			ntables;		/* tables altered, MAX_PENDING_TABLES at most */
	Oid			tables[MAX_PENDING_TABLES];
}			pending;

static bool xact_callback_registered = false;

static Oid	database_needed_alone(Node *parsetree, bool isTopLevel,
								  bool *force);
static DefElem *find_option(List *options, const char *name);
static void note_rewritten(RangeVar *rv, bool is_index);
static void note_table(Oid relid);
static void register_xact_callback(void);
static bool rewrites_as_it_goes(Node *parsetree);
static void al_process_utility(PlannedStmt *pstmt, const char *queryString,
							   bool readOnlyTree,
							   ProcessUtilityContext context,
							   ParamListInfo params,
							   QueryEnvironment *queryEnv,
							   DestReceiver *dest, QueryCompletion *qc);

void
al_install_utility_hook(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = al_process_utility;
}

/*
 * Tell the scheduler, at commit, what the transaction's DDL changed.  This
 * runs inside CommitTransaction() and so must not fail: it only takes our
 * lock and finds or makes hash entries, which cannot raise an error.
 */
static void
schedule_xact_callback(XactEvent event, void *arg)
{
	/*
	 * At PREPARE TRANSACTION nothing is applied (a worker could still read
	 * the old rows), only dropped, so that the session's next transaction
	 * does not inherit it: COMMIT PREPARED assumes the worst instead.
	 */
	if (event == XACT_EVENT_COMMIT && AlShared != NULL)
	{
		if (OidIsValid(pending.created_db))
			dbstate_inherit(pending.created_db, pending.template_db);
		if (pending.floor_lowered)
			dbstate_lower_floor(MyDatabaseId);
		for (int i = 0; i < pending.ntables; i++)
			registry_mark_unknown(MyDatabaseId, pending.tables[i]);
		if (pending.all_rewritten)
			registry_forget_database_info(MyDatabaseId);
		if (pending.walk_wanted)
			dbstate_request_walk(MyDatabaseId);
		if (pending.catalog_changed)
			al_bump_catalog_generation();
		else if (pending.floor_lowered)
			(void) al_wake_launcher();
	}
	else if (event == XACT_EVENT_ABORT && AlShared != NULL &&
			 pending.walk_wanted)
	{
		/*
		 * An ANALYZE's statistics and counts stay, even if it rolls back;
		 * a command that commits as it goes may have rewritten tables.
		 */
		if (pending.all_rewritten)
			registry_forget_database_info(MyDatabaseId);
		dbstate_request_walk(MyDatabaseId);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		memset(&pending, 0, sizeof(pending));
}

/* Does a reloption list set or reset an autovacuum_* option? */
static bool
has_autovacuum_option(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strncmp(opt->defname, "autovacuum_", strlen("autovacuum_")) == 0)
			return true;
	}
	return false;
}

/*
 * After a utility command succeeded: remember what the scheduler must be
 * told if the transaction commits.
 */
static void
note_schedule_ddl(Node *parsetree)
{
	bool		lowered = false;
	Oid			relid = InvalidOid;

	switch (nodeTag(parsetree))
	{
		case T_CreatedbStmt:
			{
				CreatedbStmt *stmt = (CreatedbStmt *) parsetree;
				DefElem    *template = find_option(stmt->options, "template");

				pending.catalog_changed = true;
				pending.created_db = get_database_oid(stmt->dbname, true);
				pending.template_db =
					get_database_oid((template != NULL && template->arg != NULL)
									 ? defGetString(template) : "template1",
									 true);
				break;
			}
		case T_DropdbStmt:
		case T_AlterDatabaseStmt:
			pending.catalog_changed = true;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				pending.catalog_changed = true;
			break;
		case T_VacuumStmt:
			{
				VacuumStmt *stmt = (VacuumStmt *) parsetree;

				/*
				 * Tables' reltuples, and their thresholds with them, may
				 * move.  A VACUUM or ANALYZE moves the table's counts, which
				 * a walk notices; VACUUM FULL does not count as a vacuum.
				 */
				pending.walk_wanted = true;
				if (find_option(stmt->options, "full") != NULL &&
					defGetBoolean(find_option(stmt->options, "full")))
				{
					ListCell   *lc;

					if (stmt->rels == NIL)
						pending.all_rewritten = true;
					foreach(lc, stmt->rels)
						note_rewritten(lfirst_node(VacuumRelation, lc)->relation,
									   false);
				}
				break;
			}
		case T_ClusterStmt:
			/* a rewrite: reltuples moves, and no count does */
			pending.walk_wanted = true;
			if (((ClusterStmt *) parsetree)->relation == NULL)
				pending.all_rewritten = true;
			else
				note_rewritten(((ClusterStmt *) parsetree)->relation, false);
			break;
		case T_TruncateStmt:
			{
				ListCell   *lc;

				pending.walk_wanted = true;
				/* CASCADE truncates tables it does not name */
				if (((TruncateStmt *) parsetree)->behavior == DROP_CASCADE)
					pending.all_rewritten = true;
				foreach(lc, ((TruncateStmt *) parsetree)->relations)
					note_rewritten(lfirst_node(RangeVar, lc), false);
				break;
			}
		case T_IndexStmt:
			/* building an index sets its table's reltuples */
			pending.walk_wanted = true;
			note_rewritten(((IndexStmt *) parsetree)->relation, false);
			break;
		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) parsetree;

				pending.walk_wanted = true;
				if (stmt->kind == REINDEX_OBJECT_TABLE)
					note_rewritten(stmt->relation, false);
				else if (stmt->kind == REINDEX_OBJECT_INDEX)
					note_rewritten(stmt->relation, true);
				else
					pending.all_rewritten = true;
				break;
			}
		case T_TransactionStmt:
			/*
			 * COMMIT PREPARED: what the prepared transaction did is not
			 * known here (its notes were dropped at PREPARE, since a worker
			 * could read the old rows until now), so assume the worst.
			 */
			if (((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED)
			{
				pending.walk_wanted = true;
				pending.all_rewritten = true;
				pending.floor_lowered = true;
			}
			break;
		case T_RefreshMatViewStmt:
			pending.walk_wanted = true;
			note_rewritten(((RefreshMatViewStmt *) parsetree)->relation, false);
			break;
		case T_CreateStmt:
			lowered = has_autovacuum_option(((CreateStmt *) parsetree)->options);
			break;
		case T_CreateTableAsStmt:
			lowered = has_autovacuum_option(((CreateTableAsStmt *) parsetree)->into->options);
			break;
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
				ListCell   *lc;

				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if ((cmd->subtype == AT_SetRelOptions ||
						 cmd->subtype == AT_ResetRelOptions ||
						 cmd->subtype == AT_ReplaceRelOptions) &&
						cmd->def != NULL && IsA(cmd->def, List) &&
						has_autovacuum_option((List *) cmd->def))
						lowered = true;
				}
				if (lowered)
					relid = RangeVarGetRelid(stmt->relation, NoLock, true);
				break;
			}
		default:
			break;
	}

	if (!lowered && !pending.catalog_changed && !pending.walk_wanted)
		return;
	register_xact_callback();
	if (lowered)
	{
		pending.floor_lowered = true;
		if (OidIsValid(relid) && pending.ntables < MAX_PENDING_TABLES)
			pending.tables[pending.ntables++] = relid;
	}
}

static void
register_xact_callback(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(schedule_xact_callback, NULL);
		xact_callback_registered = true;
	}
}

/* Does the command commit as it goes, rewriting tables on its way? */
static bool
rewrites_as_it_goes(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_VacuumStmt:
		case T_ClusterStmt:
		case T_ReindexStmt:
		case T_IndexStmt:
			return true;
		default:
			return false;
	}
}

/*
 * A command rewrote a table, or set its reltuples, without moving its
 * vacuum or analyze count: what the registry knows of it no longer holds.
 * rv names the table, or, if is_index, one of its indexes.
 */
static void
note_rewritten(RangeVar *rv, bool is_index)
{
	Oid			relid;
	HeapTuple	tup;

	if (rv == NULL)
	{
		pending.all_rewritten = true;
		return;
	}
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid) && is_index)
		relid = IndexGetRelation(relid, true);
	if (!OidIsValid(relid))
		return;

	/* its partitions or children too, which it does not name */
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ||
		has_subclass(relid))
	{
		pending.all_rewritten = true;
		return;
	}
	note_table(relid);
	/* and its TOAST table, a table of the registry's too */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		Oid			toast = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid;

		ReleaseSysCache(tup);
		if (OidIsValid(toast))
			note_table(toast);
	}
}

/* Remember a table to make unknown at commit, once. */
static void
note_table(Oid relid)
{
	for (int i = 0; i < pending.ntables; i++)
		if (pending.tables[i] == relid)
			return;
	if (pending.ntables < MAX_PENDING_TABLES)
		pending.tables[pending.ntables++] = relid;
	else
		pending.all_rewritten = true;
}

/* value of a DefElem option in a list, or NULL */
static DefElem *
find_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) == 0)
			return opt;
	}
	return NULL;
}

/* A database's datistemplate and dattablespace; false if it is gone. */
static bool
database_info(Oid dboid, bool *istemplate, Oid *tablespace)
{
	HeapTuple	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));

	if (!HeapTupleIsValid(tup))
		return false;
	*istemplate = ((Form_pg_database) GETSTRUCT(tup))->datistemplate;
	*tablespace = ((Form_pg_database) GETSTRUCT(tup))->dattablespace;
	ReleaseSysCache(tup);
	return true;
}

/* Name of a database command's target, or NULL: see database_needed_alone. */
static const char *
target_name(Node *parsetree, bool isTopLevel, bool *force)
{
	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			{
				DropdbStmt *stmt = (DropdbStmt *) parsetree;
				Oid			dboid = get_database_oid(stmt->dbname, true);
				int			nslots;
				int			nslots_active;

				/* PreventInTransactionBlock(), as standard_ProcessUtility() */
				if (IsInTransactionBlock(isTopLevel) || !OidIsValid(dboid))
					return NULL;
				/*
				 * dropdb() refuses a database with an active logical slot or
				 * a subscription; it drops inactive slots itself.
				 */
				(void) ReplicationSlotsCountDBSlots(dboid, &nslots, &nslots_active);
				if (nslots_active > 0 || CountDBSubscriptions(dboid) > 0)
					return NULL;
				*force = (find_option(stmt->options, "force") != NULL);
				return stmt->dbname;
			}

		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType != OBJECT_DATABASE ||
					!have_createdb_privilege() ||
					OidIsValid(get_database_oid(stmt->newname, true)))
					return NULL;
				return stmt->subname;
			}

		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *stmt = (AlterDatabaseStmt *) parsetree;
				DefElem    *spc = find_option(stmt->options, "tablespace");
				Oid			spcoid;
				Oid			dboid;
				bool		istemplate;
				Oid			current;

				/* AlterDatabase(): TABLESPACE goes alone, once */
				if (spc == NULL || list_length(stmt->options) != 1 ||
					IsInTransactionBlock(isTopLevel))
					return NULL;
				spcoid = get_tablespace_oid(defGetString(spc), true);
				dboid = get_database_oid(stmt->dbname, true);
				if (!OidIsValid(spcoid) || spcoid == GLOBALTABLESPACE_OID ||
					!OidIsValid(dboid) ||
					pg_tablespace_aclcheck(spcoid, GetUserId(),
										   ACL_CREATE) != ACLCHECK_OK ||
					!database_info(dboid, &istemplate, &current) ||
					current == spcoid)	/* movedb() returns at once */
					return NULL;
				return stmt->dbname;
			}

		case T_CreatedbStmt:
			{
				CreatedbStmt *stmt = (CreatedbStmt *) parsetree;
				DefElem    *template = find_option(stmt->options, "template");
				DefElem    *owner = find_option(stmt->options, "owner");
				DefElem    *tablespace = find_option(stmt->options, "tablespace");
				const char *tmplname;
				Oid			tmploid;
				bool		istemplate;
				Oid			spcoid;

				if (IsInTransactionBlock(isTopLevel) ||
					!have_createdb_privilege() ||
					OidIsValid(get_database_oid(stmt->dbname, true)))
					return NULL;
				/* OWNER: the caller must be able to become that role */
				if (owner != NULL && owner->arg != NULL)
				{
					Oid			roleid = get_role_oid(defGetString(owner), true);

					if (!OidIsValid(roleid) ||
						!is_member_of_role(GetUserId(), roleid))
						return NULL;
				}
				/* TABLESPACE: one the caller may create in, not pg_global */
				if (tablespace != NULL && tablespace->arg != NULL)
				{
					spcoid = get_tablespace_oid(defGetString(tablespace), true);
					if (!OidIsValid(spcoid) || spcoid == GLOBALTABLESPACE_OID ||
						pg_tablespace_aclcheck(spcoid, GetUserId(),
											   ACL_CREATE) != ACLCHECK_OK)
						return NULL;
				}
				/* as createdb() does: TEMPLATE DEFAULT means template1 */
				tmplname = (template != NULL && template->arg != NULL)
					? defGetString(template) : "template1";
				tmploid = get_database_oid(tmplname, true);
				/* a database that is not a template: its owner may copy it */
				if (!OidIsValid(tmploid) || database_is_invalid_oid(tmploid) ||
					!database_info(tmploid, &istemplate, &spcoid) ||
					(!istemplate &&
					 !pg_database_ownercheck(tmploid, GetUserId())))
					return NULL;
				return tmplname;
			}

		default:
			return NULL;
	}
}

/*
 * The database a statement needs to itself, or InvalidOid: only when the
 * caller passes the command's own checks of privilege and context, so that
 * we act only for commands core will run.  A statement that will fail for
 * some other reason (a name that does not resolve, say) is left for the
 * command itself to report.
 */
static Oid
database_needed_alone(Node *parsetree, bool isTopLevel, bool *force)
{
	const char *dbname;
	Oid			dboid;
	bool		istemplate;
	Oid			spcoid;

	/* the checks standard_ProcessUtility() makes of every such command */
	if (XactReadOnly || IsInParallelMode() || RecoveryInProgress())
		return InvalidOid;

	dbname = target_name(parsetree, isTopLevel, force);
	if (dbname == NULL)
		return InvalidOid;
	dboid = get_database_oid(dbname, true);
	if (!OidIsValid(dboid) || !database_info(dboid, &istemplate, &spcoid))
		return InvalidOid;

	/* CREATE DATABASE only reads its template: checked above */
	if (IsA(parsetree, CreatedbStmt))
		return dboid;

	/* the others change the database: its owner, never the current one */
	if (!pg_database_ownercheck(dboid, GetUserId()) || dboid == MyDatabaseId)
		return InvalidOid;
	/* "cannot drop a template database" */
	if (IsA(parsetree, DropdbStmt) && istemplate)
		return InvalidOid;
	return dboid;
}

/*
 * Wait until the workers we asked to exit are gone, for FORCE_WAIT_MS at
 * most: through their handles, which also covers a worker that has
 * connected but not yet claimed its slot.
 */
static void
wait_for_workers_gone(const AlWorkerHandle *handles, int nhandles)
{
	for (int waited = 0; waited < FORCE_WAIT_MS; waited += 10)
	{
		bool		alive = false;

		for (int i = 0; i < nhandles && !alive; i++)
		{
			pid_t		pid;

			alive = (handles[i].slot >= 0 &&
					 GetBackgroundWorkerPid((BackgroundWorkerHandle *) &handles[i],
											&pid) != BGWH_STOPPED);
		}
		if (!alive)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
al_process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Oid			dboid = InvalidOid;
	volatile bool blocked = false;
	bool		force = false;

	if (AlShared != NULL)
		dboid = database_needed_alone(pstmt->utilityStmt,
									  context == PROCESS_UTILITY_TOPLEVEL,
									  &force);

	/*
	 * Everything from the block on is inside the PG_TRY, so that an error
	 * or a cancel while we wait for the workers also drops the block.
	 */
	PG_TRY();
	{
		if (OidIsValid(dboid))
		{
			AlWorkerHandle *handles = palloc(sizeof(AlWorkerHandle) *
											 AlShared->nslots);

			blocked = al_block_database(dboid);
			if (al_terminate_database_workers(dboid, handles) > 0)
			{
				ereport(DEBUG1,
						(errmsg_internal("pg_autolauncher asked its workers in database %u to exit",
										 dboid)));
				if (force)
					wait_for_workers_gone(handles, AlShared->nslots);
			}
			pfree(handles);
		}

		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);

		/* the command succeeded */
		if (AlShared != NULL)
			note_schedule_ddl(pstmt->utilityStmt);
	}
	PG_CATCH();
	{
		/*
		 * A command that commits as it goes (VACUUM FULL of several tables,
		 * CLUSTER or REINDEX of many) may have rewritten some before it
		 * failed: forget what is known of the database's tables, at abort
		 * (no catalog access here).
		 */
		if (AlShared != NULL && rewrites_as_it_goes(pstmt->utilityStmt))
		{
			register_xact_callback();
			pending.walk_wanted = true;
			pending.all_rewritten = true;
		}
		if (blocked)
			al_unblock_database(dboid);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (blocked)
		al_unblock_database(dboid);
}
