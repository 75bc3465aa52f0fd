/*-------------------------------------------------------------------------
 *
 * testing.c
 *		Fault injection for pg_autolauncher's own tests.
 *
 * This file is compiled only into test builds ("make AL_TESTING=1"; the
 * test command does this), never into a normal build.  It offers one C
 * function, which the TAP tests declare themselves:
 *
 *	CREATE FUNCTION al_test_inject(what text, dboid oid)
 *		RETURNS void AS 'pg_autolauncher', 'pg_autolauncher_test_inject'
 *		LANGUAGE C STRICT;
 *
 * what is one of:
 *	'launcher_loop'		the launcher raises an ERROR at the top of its next
 *						loop (then the postmaster restarts it);
 *	'launcher_dispatch' the launcher raises an ERROR in its next dispatch,
 *						after it reserved a slot and before it registered
 *						the worker;
 *	'worker'			every worker in database dboid raises an ERROR right
 *						after claiming its slot, until cleared;
 *	'worker_wait_in_list'	the next worker in database dboid waits, once,
 *						while it lists its tables, until it is cancelled (a
 *						minute at most);
 *	'stale_block'		store a DDL block on database dboid that claims the
 *						caller's PID but another PGPROC, as a dead backend
 *						whose PID was reused would have left it;
 *	'none'				clear all of the above but stale blocks.
 *
 * The flags live in AlSharedState and are read by the launcher
 * (al_check_injected_launcher_error) and the worker.
 *
 * IDENTIFICATION
 *	  src/testing.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"

#include "pg_autolauncher.h"

PG_FUNCTION_INFO_V1(pg_autolauncher_test_inject);

Datum
pg_autolauncher_test_inject(PG_FUNCTION_ARGS)
{
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			dboid = PG_GETARG_OID(1);

	al_require_shared_state();
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to inject faults")));

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (strcmp(what, "launcher_loop") == 0)
		AlShared->inject_launcher_error = AL_INJECT_LAUNCHER_LOOP;
	else if (strcmp(what, "launcher_dispatch") == 0)
		AlShared->inject_launcher_error = AL_INJECT_LAUNCHER_DISPATCH;
	else if (strcmp(what, "worker") == 0)
		AlShared->inject_worker_error_db = dboid;
	else if (strcmp(what, "worker_wait_in_list") == 0)
		AlShared->inject_worker_wait_db = dboid;
	else if (strcmp(what, "stale_block") == 0)
	{
		AlBlock    *b = &AlShared->blocks[AL_MAX_BLOCKS - 1];

		b->dboid = dboid;
		b->pid = MyProcPid;
		b->procno = (MyProc->pgprocno + 1) % ProcGlobal->allProcCount;
	}
	else if (strcmp(what, "none") == 0)
	{
		AlShared->inject_launcher_error = AL_INJECT_NONE;
		AlShared->inject_worker_error_db = InvalidOid;
		AlShared->inject_worker_wait_db = InvalidOid;
	}
	else
	{
		LWLockRelease(AlShared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown fault \"%s\"", what)));
	}
	LWLockRelease(AlShared->lock);

	(void) al_wake_launcher();
	PG_RETURN_VOID();
}
