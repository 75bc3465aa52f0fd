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
 *	1. it blocks the database in shared memory (al_block_database), so the
 *	   launcher and request() send no new worker there while the command
 *	   runs: the block is checked under the lock that reserves slots;
 *	2. it asks every worker in that database to exit
 *	   (al_terminate_database_workers);
 *	3. it runs the command through the rest of the hook chain, and drops
 *	   the block when the command ends, whether it succeeded or failed.
 *
 * A worker that was registered but has not connected yet is harmless: it
 * waits on the database's lock, which the command holds, and is not
 * counted by CountOtherDBBackends() until it gets it.
 *
 * IDENTIFICATION
 *	  src/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "pg_autolauncher.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static Oid	database_needed_alone(Node *parsetree);
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

/*
 * The database a statement needs to itself, or InvalidOid.  Names that do
 * not resolve are left for the command itself to report.
 */
static Oid
database_needed_alone(Node *parsetree)
{
	const char *dbname = NULL;

	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			dbname = ((DropdbStmt *) parsetree)->dbname;
			break;

		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				dbname = ((RenameStmt *) parsetree)->subname;
			break;

		case T_AlterDatabaseStmt:
			{
				AlterDatabaseStmt *stmt = (AlterDatabaseStmt *) parsetree;

				if (find_option(stmt->options, "tablespace") != NULL)
					dbname = stmt->dbname;
				break;
			}

		case T_CreatedbStmt:
			{
				DefElem    *template;

				template = find_option(((CreatedbStmt *) parsetree)->options,
									   "template");
				/* as createdb() does: TEMPLATE DEFAULT means template1 */
				dbname = (template != NULL && template->arg != NULL)
					? defGetString(template) : "template1";
				break;
			}

		default:
			break;
	}

	return dbname ? get_database_oid(dbname, true) : InvalidOid;
}

static void
al_process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Oid			dboid = InvalidOid;
	bool		blocked = false;

	if (AlShared != NULL)
		dboid = database_needed_alone(pstmt->utilityStmt);

	if (OidIsValid(dboid))
	{
		blocked = al_block_database(dboid);
		if (al_terminate_database_workers(dboid) > 0)
			ereport(DEBUG1,
					(errmsg_internal("pg_autolauncher asked its workers in database %u to exit",
									 dboid)));
	}

	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (blocked)
			al_unblock_database(dboid);
	}
	PG_END_TRY();
}
