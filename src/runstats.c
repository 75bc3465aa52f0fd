/*-------------------------------------------------------------------------
 *
 * runstats.c
 *		A worker's run on one table as the cumulative statistics record it:
 *		the table's lock for the run, and the autovacuum labels.
 *
 * PostgreSQL 15 records a VACUUM or ANALYZE as automatic
 * (last_autovacuum, autovacuum_count, ...) only when the process that ran
 * it is one of core's autovacuum workers (pgstat_report_vacuum() and
 * pgstat_report_analyze() test IsAutoVacuumWorkerProcess()).  Ours is not,
 * so its runs land in the manual columns, where monitoring that watches
 * last_autovacuum would never see them.  This file moves them, and only
 * them, to the automatic columns:
 *
 *	1. al_run_lock() takes the table's ShareUpdateExclusiveLock as a session
 *	   lock before the run, conditionally unless the run must wait (an
 *	   anti-wraparound vacuum, as in core), and reads the table's counters.
 *	   An anti-wraparound run waits holding no snapshot, as vacuum_rel()
 *	   would, and once it holds the lock it is flagged as anti-wraparound at
 *	   once, so that a session waiting for the lock does not cancel it.
 *	   That is the lock VACUUM and ANALYZE take; holding it across the run
 *	   means nobody else can vacuum or analyze the table until
 *	   al_run_unlock(), and vacuum() itself, which takes the same lock
 *	   again, can no longer pass the table over with SKIP_LOCKED.
 *	2. After the run, al_run_relabel() locks the table's statistics entry,
 *	   and where a counter went up by exactly one, that one is our run's:
 *	   it moves it from the manual count to the automatic one, and puts
 *	   back the manual timestamp it had.  A manual VACUUM or ANALYZE cannot
 *	   have run in between, so it is never relabelled; a counter reset
 *	   (pg_stat_reset_single_table_counters) in between leaves the counts
 *	   alone.
 *	3. al_run_unlock() drops the lock.  An error before that aborts the
 *	   transaction, which releases session locks too; the run's counts then
 *	   stay in the manual columns, as before this existed.
 *
 * The worker (worker.c) is the only caller.  The statistics entries are
 * core's; this file changes nothing in them but the four counters and
 * timestamps of a run of ours.
 *
 * IDENTIFICATION
 *	  src/runstats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/snapmgr.h"
#include "utils/pgstat_internal.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"

/* the table's statistics entry, or NULL if it has none */
static PgStat_EntryRef *
table_entry(const AlRunStats *rs)
{
	return pgstat_get_entry_ref(PGSTAT_KIND_RELATION,
								rs->shared ? InvalidOid : MyDatabaseId,
								rs->relid, false, NULL);
}

/*
 * al_run_lock
 *		Lock relid for a run and note its counters.  Returns false, holding
 *		nothing, when the run is not anti-wraparound and another session
 *		holds the lock.
 */
bool
al_run_lock(Oid relid, bool wraparound, AlRunStats *rs)
{
	HeapTuple	tup;
	PgStat_EntryRef *entry_ref;

	memset(rs, 0, sizeof(AlRunStats));
	rs->relid = relid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		rs->shared = ((Form_pg_class) GETSTRUCT(tup))->relisshared;
		ReleaseSysCache(tup);
	}

	/* the tag vacuum_rel() uses: a shared catalog's lock is cluster-wide */
	SET_LOCKTAG_RELATION(rs->tag, rs->shared ? InvalidOid : MyDatabaseId,
						 relid);
	if (wraparound)
	{
		/*
		 * We may wait long.  vacuum_rel() waits with PROC_IN_VACUUM set, so
		 * that the wait holds back no horizon; we hold no snapshot at all.
		 */
		InvalidateCatalogSnapshot();
		Assert(MyProc->xmin == InvalidTransactionId);
	}
	if (LockAcquire(&rs->tag, ShareUpdateExclusiveLock, true, !wraparound) ==
		LOCKACQUIRE_NOT_AVAIL)
		return false;
	rs->locked = true;

	if (wraparound)
	{
		/*
		 * A lock waiter's deadlock check cancels a blocking autovacuum
		 * process unless it has this flag (proc.c, ProcSleep); vacuum_rel()
		 * sets it, but only once vacuum() has started.  Transaction end
		 * clears it (PROC_VACUUM_STATE_MASK), and vacuum_rel() sets it again
		 * for its own transaction.
		 */
		LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
		MyProc->statusFlags |= PROC_VACUUM_FOR_WRAPAROUND;
		ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
		LWLockRelease(ProcArrayLock);
	}

	entry_ref = pgstat_track_counts ? table_entry(rs) : NULL;
	if (entry_ref != NULL)
	{
		PgStat_StatTabEntry *tab;

		pgstat_lock_entry_shared(entry_ref, false);
		tab = &((PgStatShared_Relation *) entry_ref->shared_stats)->stats;
		rs->vacuum_count = tab->vacuum_count;
		rs->vacuum_timestamp = tab->vacuum_timestamp;
		rs->analyze_count = tab->analyze_count;
		rs->analyze_timestamp = tab->analyze_timestamp;
		pgstat_unlock_entry(entry_ref);
	}
	return true;
}

/*
 * al_run_relabel
 *		After a run that returned normally: say whether it vacuumed and
 *		analyzed the table, and record what it did as automatic.
 *
 * Without track_counts nothing is recorded, and nothing can be told:
 * *known is set false.
 */
void
al_run_relabel(AlRunStats *rs, bool *vacuumed, bool *analyzed, bool *known)
{
	PgStat_EntryRef *entry_ref;
	PgStat_StatTabEntry *tab;

	Assert(rs->locked);
	*vacuumed = *analyzed = false;
	*known = pgstat_track_counts;
	if (!pgstat_track_counts)
		return;
	entry_ref = table_entry(rs);
	if (entry_ref == NULL)
		return;

	pgstat_lock_entry(entry_ref, false);
	tab = &((PgStatShared_Relation *) entry_ref->shared_stats)->stats;
	if (tab->vacuum_count == rs->vacuum_count + 1)
	{
		*vacuumed = true;
		tab->autovac_vacuum_timestamp = tab->vacuum_timestamp;
		tab->autovac_vacuum_count++;
		tab->vacuum_timestamp = rs->vacuum_timestamp;
		tab->vacuum_count--;
	}
	if (tab->analyze_count == rs->analyze_count + 1)
	{
		*analyzed = true;
		tab->autovac_analyze_timestamp = tab->analyze_timestamp;
		tab->autovac_analyze_count++;
		tab->analyze_timestamp = rs->analyze_timestamp;
		tab->analyze_count--;
	}
	pgstat_unlock_entry(entry_ref);
}

/*
 * al_run_unlock
 *		Drop the run's lock, if an abort did not already.
 */
void
al_run_unlock(AlRunStats *rs)
{
	if (rs->locked && LockHeldByMe(&rs->tag, ShareUpdateExclusiveLock))
		LockRelease(&rs->tag, ShareUpdateExclusiveLock, true);
	rs->locked = false;
}
