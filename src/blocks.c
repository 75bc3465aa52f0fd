/*-------------------------------------------------------------------------
 *
 * blocks.c
 *		DDL blocks: databases that a DDL command needs to itself.
 *
 * This file is the only writer of AlShared->blocks.  The ProcessUtility
 * hook (ddl.c) blocks a database before DROP DATABASE, ALTER DATABASE
 * RENAME or SET TABLESPACE, or CREATE DATABASE from it as a template, and
 * unblocks it when the command ends; slots.c checks the block under the
 * lock that reserves a slot, so no worker is sent into a blocked database.
 *
 * A block belongs to the backend that took it: it is dropped when the
 * command ends, and by an exit callback when the backend exits in the
 * middle of it (FATAL, pg_terminate_backend).  It is keyed by the
 * backend's PID and PGPROC number, so that a later backend that reuses the
 * PID does not inherit it.
 *
 * IDENTIFICATION
 *	  src/blocks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"

#include "pg_autolauncher.h"

/*
 * Is this block held by a live backend?  The backend that took it drops it
 * when its command ends, and at exit however it exits (unblock_at_exit), so
 * only a crash could leave a stale entry, and a crash resets shared memory.
 * The PID and PGPROC number are checked all the same: a later backend that
 * reuses the PID in another PGPROC does not hold the block.
 */
static bool
block_is_held(const AlBlock *b)
{
	return OidIsValid(b->dboid) && b->procno >= 0 &&
		b->procno < (int) ProcGlobal->allProcCount &&
		ProcGlobal->allProcs[b->procno].pid == b->pid;
}

/*
 * Is a DDL command that needs this database to itself running?  Caller
 * holds the lock.
 */
bool
al_database_is_blocked_locked(Oid dboid)
{
	for (int i = 0; i < AL_MAX_BLOCKS; i++)
	{
		AlBlock    *b = &AlShared->blocks[i];

		if (b->dboid == dboid && block_is_held(b))
			return true;
	}
	return false;
}

/*
 * al_database_is_blocked
 *		Is a DDL command that needs this database to itself running?
 */
bool
al_database_is_blocked(Oid dboid)
{
	bool		result;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	result = al_database_is_blocked_locked(dboid);
	LWLockRelease(AlShared->lock);
	return result;
}

/* Drop every block this backend holds; InvalidOid drops them all. */
static void
unblock_locked(Oid dboid)
{
	for (int i = 0; i < AL_MAX_BLOCKS; i++)
	{
		AlBlock    *b = &AlShared->blocks[i];

		if (b->pid == MyProcPid && b->procno == MyProc->pgprocno &&
			(!OidIsValid(dboid) || b->dboid == dboid))
			memset(b, 0, sizeof(AlBlock));
	}
}

/* A backend that exits in the middle of a command must not keep blocking. */
static void
unblock_at_exit(int code, Datum arg)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	unblock_locked(InvalidOid);
	LWLockRelease(AlShared->lock);
}

/*
 * al_block_database
 *		Keep workers out of dboid until al_unblock_database(), or until this
 *		backend exits.
 *
 * Returns false if every block entry is taken by a live backend; the
 * caller then goes on without the guarantee.
 */
bool
al_block_database(Oid dboid)
{
	static bool exit_callback_registered = false;
	bool		blocked = false;

	if (!exit_callback_registered)
	{
		before_shmem_exit(unblock_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AL_MAX_BLOCKS; i++)
	{
		AlBlock    *b = &AlShared->blocks[i];

		if (!block_is_held(b))
		{
			b->dboid = dboid;
			b->pid = MyProcPid;
			b->procno = MyProc->pgprocno;
			blocked = true;
			break;
		}
	}
	LWLockRelease(AlShared->lock);
	return blocked;
}

/*
 * al_unblock_database
 *		Drop the blocks this backend holds on dboid.
 */
void
al_unblock_database(Oid dboid)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	unblock_locked(dboid);
	LWLockRelease(AlShared->lock);
}

/*
 * al_inject_stale_block
 *		For a test (src/testing.c): store a block on dboid that names our PID
 *		but another PGPROC, as a dead backend whose PID was reused would have
 *		left it.
 */
void
al_inject_stale_block(Oid dboid)
{
	AlBlock    *b;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	b = &AlShared->blocks[AL_MAX_BLOCKS - 1];
	b->dboid = dboid;
	b->pid = MyProcPid;
	b->procno = (MyProc->pgprocno + 1) % ProcGlobal->allProcCount;
	LWLockRelease(AlShared->lock);
}
