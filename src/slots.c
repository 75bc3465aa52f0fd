/*-------------------------------------------------------------------------
 *
 * slots.c
 *		The worker slot array: every state transition of a slot.
 *
 * The slot array (AlShared->slots, sized by pg_autolauncher.worker_slots)
 * is how the launcher and autolauncher.request() hand a database to a
 * worker, and how the launcher learns that the worker is gone.  The
 * lifecycle is documented with AlSlotState in pg_autolauncher.h:
 *
 *	reserve (launcher or request())		FREE -> REQUESTED
 *	register the dynamic worker			stores the handle, or back to FREE
 *	claim (worker, once connected)		REQUESTED -> RUNNING
 *	release (worker's on_shmem_exit)	RUNNING -> FREE, wakes the launcher
 *	reap (launcher, every loop)			REQUESTED/RUNNING -> FREE when the
 *										stored handle says the worker stopped
 *
 * Because the handle is stored in the slot, whichever launcher is running
 * can reap any slot, including slots filled by a previous incarnation of
 * the launcher or by request() in a backend.  Every transition takes
 * AlShared->lock exclusively, holds it only to read or write the slot, and
 * re-checks the slot's generation, so a late process can never act on a
 * slot that has been recycled meanwhile.
 *
 * The per-database history hash (AlDatabases) is protected by the same
 * lock and updated here as dispatches succeed and workers end.
 *
 * IDENTIFICATION
 *	  src/slots.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

static void free_slot_locked(AlSlot *slot);
static void note_worker_end_locked(Oid dboid, bool completed, TimestampTz now);
static bool database_is_blocked_locked(Oid dboid);
static void record_table_run_locked(Oid dboid, Oid relid, AlAction done);

/*
 * al_database_entry
 *		Find, or with create=true make, a database's history entry.
 *
 * The caller holds AlShared->lock, exclusively if create is true.  Returns
 * NULL if the entry does not exist and cannot be created because
 * pg_autolauncher.max_databases entries are in use.
 */
AlDatabaseEntry *
al_database_entry(Oid dboid, bool create)
{
	AlDatabaseEntry *entry;
	bool		found;

	entry = hash_search(AlDatabases, &dboid, HASH_FIND, NULL);
	if (entry != NULL || !create)
		return entry;

	if (hash_get_num_entries(AlDatabases) >= al_max_databases)
		return NULL;

	entry = hash_search(AlDatabases, &dboid, HASH_ENTER_NULL, &found);
	if (entry != NULL && !found)
	{
		memset(entry, 0, sizeof(AlDatabaseEntry));
		entry->dboid = dboid;
	}
	return entry;
}

/*
 * al_reserve_slot
 *		FREE -> REQUESTED: take a free slot for a worker in dboid.
 *
 * Returns the slot number and its new generation; AL_RESERVE_NO_SLOT when
 * every slot is in use; AL_RESERVE_BLOCKED when a DDL command needs the
 * database to itself (ddl.c).  The block is checked under the same lock
 * that reserves the slot, so a worker is never sent into a database once
 * its DDL has started.  The caller must follow up with al_register_worker().
 */
int
al_reserve_slot(Oid dboid, bool manual, uint64 *generation)
{
	int			slotno = AL_RESERVE_NO_SLOT;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (database_is_blocked_locked(dboid))
	{
		LWLockRelease(AlShared->lock);
		return AL_RESERVE_BLOCKED;
	}
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];
		uint64		gen;

		if (slot->state != AL_SLOT_FREE)
			continue;

		gen = slot->generation + 1;
		memset(slot, 0, sizeof(AlSlot));
		slot->generation = gen;
		slot->state = AL_SLOT_REQUESTED;
		slot->dboid = dboid;
		slot->manual = manual;
		slot->requested_at = GetCurrentTimestamp();

		*generation = gen;
		slotno = i;
		break;
	}
	LWLockRelease(AlShared->lock);

	return slotno;
}

/*
 * al_register_worker
 *		Register the dynamic worker for a REQUESTED slot.
 *
 * On success the handle is stored in the slot and the dispatch is counted.
 * On failure (no free background worker slot) the reservation is undone
 * and the failure counted; the caller decides how to report it.
 */
bool
al_register_worker(int slotno, uint64 generation, Oid dboid, pid_t notify_pid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	AlWorkerArgs args;
	AlSlot	   *slot = &AlShared->slots[slotno];

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, AL_LIBRARY_NAME, BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "pg_autolauncher_worker_main",
			BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s %d", AL_WORKER_TYPE, slotno);
	strlcpy(worker.bgw_type, AL_WORKER_TYPE, BGW_MAXLEN);
	worker.bgw_main_arg = Int32GetDatum(slotno);
	worker.bgw_notify_pid = notify_pid;

	args.generation = generation;
	args.dboid = dboid;
	StaticAssertStmt(sizeof(AlWorkerArgs) <= BGW_EXTRALEN,
					 "AlWorkerArgs does not fit in bgw_extra");
	memcpy(worker.bgw_extra, &args, sizeof(args));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		if (slot->generation == generation && slot->state == AL_SLOT_REQUESTED)
			free_slot_locked(slot);
		AlShared->launch_failures++;
		LWLockRelease(AlShared->lock);
		return false;
	}

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->workers_launched++;
	if (slot->generation == generation && slot->state != AL_SLOT_FREE)
	{
		AlDatabaseEntry *entry;

		memcpy(&slot->handle, handle, sizeof(AlWorkerHandle));
		slot->handle_valid = true;

		entry = al_database_entry(dboid, true);
		if (entry != NULL)
		{
			entry->last_dispatch_at = slot->requested_at;
			entry->dispatch_count++;
		}
	}
	LWLockRelease(AlShared->lock);
	pfree(handle);

	return true;
}

/*
 * al_slot_is_requested
 *		Is the slot still REQUESTED with this generation?
 */
bool
al_slot_is_requested(int slotno, uint64 generation)
{
	AlSlot	   *slot = &AlShared->slots[slotno];
	bool		result;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	result = (slot->state == AL_SLOT_REQUESTED &&
			  slot->generation == generation);
	LWLockRelease(AlShared->lock);
	return result;
}

/*
 * al_claim_slot
 *		REQUESTED -> RUNNING, called by the worker once it is connected.
 *
 * Fails if the slot was reclaimed meanwhile (the launcher gave up on it).
 */
bool
al_claim_slot(int slotno, uint64 generation)
{
	AlSlot	   *slot = &AlShared->slots[slotno];
	bool		claimed = false;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (slot->state == AL_SLOT_REQUESTED && slot->generation == generation)
	{
		slot->state = AL_SLOT_RUNNING;
		slot->pid = MyProcPid;
		slot->started_at = GetCurrentTimestamp();
		claimed = true;
	}
	LWLockRelease(AlShared->lock);
	return claimed;
}

/*
 * al_release_slot
 *		RUNNING -> FREE, called by the worker as it exits, however it exits
 *		(short of a crash, which resets all of shared memory).
 *
 * completed is true when the worker processed its database to the end;
 * otherwise the exit counts as a worker failure.  A worker that fails
 * before it claimed its slot (it could not connect) leaves the slot
 * REQUESTED: the launcher frees it when the stored handle reports the
 * worker stopped (al_reap_slots).  The launcher is woken so that it can use
 * the slot at once.
 */
void
al_release_slot(int slotno, uint64 generation, bool completed)
{
	AlSlot	   *slot = &AlShared->slots[slotno];
	Latch	   *launcher_latch = NULL;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (slot->state == AL_SLOT_RUNNING && slot->generation == generation &&
		slot->pid == MyProcPid)
	{
		note_worker_end_locked(slot->dboid, completed, GetCurrentTimestamp());
		if (slot->tables_cancelled > 0)
		{
			AlDatabaseEntry *entry = al_database_entry(slot->dboid, false);

			if (entry != NULL)
				entry->leftover_retry = true;
		}
		free_slot_locked(slot);
	}
	launcher_latch = AlShared->launcher_latch;
	LWLockRelease(AlShared->lock);

	if (launcher_latch != NULL)
		SetLatch(launcher_latch);
}

/*
 * al_reap_slots
 *		Free the slots whose worker is gone without freeing them itself.
 *
 * A worker that stops before claiming its slot (it could not connect, or
 * its database was dropped) leaves the slot REQUESTED; the stored handle
 * tells us so.  A slot with no handle long after it was reserved belongs to
 * a process that died between reserving and registering.  A worker that the
 * postmaster has still not started after AL_START_TIMEOUT_MS is cancelled.
 *
 * Sets *nlost to the number of slots reclaimed here, and returns the
 * number of slots still in use.
 */
int
al_reap_slots(int *nlost)
{
	TimestampTz now = GetCurrentTimestamp();
	int			active = 0;

	*nlost = 0;

	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];
		AlSlot		copy;
		bool		gone = false;

		LWLockAcquire(AlShared->lock, LW_SHARED);
		memcpy(&copy, slot, sizeof(AlSlot));
		LWLockRelease(AlShared->lock);

		if (copy.state == AL_SLOT_FREE)
			continue;

		if (copy.handle_valid)
		{
			BgwHandleStatus status;
			pid_t		pid;

			status = GetBackgroundWorkerPid((BackgroundWorkerHandle *) &copy.handle,
											&pid);
			if (status == BGWH_STOPPED)
				gone = true;
			else if (status == BGWH_NOT_YET_STARTED &&
					 TimestampDifferenceExceeds(copy.requested_at, now,
												AL_START_TIMEOUT_MS))
			{
				ereport(WARNING,
						(errmsg("pg_autolauncher worker for database %u took too long to start; canceled",
								copy.dboid)));
				TerminateBackgroundWorker((BackgroundWorkerHandle *) &copy.handle);
			}
		}
		else if (copy.state == AL_SLOT_REQUESTED &&
				 TimestampDifferenceExceeds(copy.requested_at, now,
											AL_HANDLE_TIMEOUT_MS))
			gone = true;

		if (gone)
		{
			LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
			if (slot->generation == copy.generation &&
				slot->state != AL_SLOT_FREE)
			{
				/*
				 * Without a handle no worker was registered: the process
				 * that reserved the slot died first.  That is a failed
				 * launch, not a failed worker.
				 */
				if (copy.handle_valid)
					note_worker_end_locked(slot->dboid, false, now);
				else
					AlShared->launch_failures++;
				free_slot_locked(slot);
				(*nlost)++;
			}
			else if (slot->state != AL_SLOT_FREE)
				active++;
			LWLockRelease(AlShared->lock);
		}
		else
			active++;
	}

	return active;
}

/*
 * Account for a worker that ended, successfully or not, in the global
 * counters and its database's history.  A failure starts or extends the
 * database's backoff; a success ends it.  Caller holds the lock
 * exclusively.
 */
static void
note_worker_end_locked(Oid dboid, bool completed, TimestampTz now)
{
	AlDatabaseEntry *entry = al_database_entry(dboid, false);

	if (completed)
		AlShared->workers_finished++;
	else
		AlShared->worker_failures++;

	if (entry == NULL)
		return;
	entry->last_finished_at = now;
	if (completed)
	{
		entry->leftover_pending = true;
		entry->consecutive_failures = 0;
		entry->backoff_until = 0;
	}
	else
	{
		entry->failure_count++;
		entry->consecutive_failures++;
		entry->backoff_until =
			TimestampTzPlusMilliseconds(now,
										al_failure_backoff_ms(al_naptime,
															  entry->consecutive_failures));
	}
}

/*
 * Record a successful run on a table in its history entry, making room by
 * forgetting the table processed longest ago if the hash is full.  Caller
 * holds the lock exclusively.
 */
static void
record_table_run_locked(Oid dboid, Oid relid, AlAction done)
{
	AlTableKey	key;
	AlTableHistory *h;
	bool		found;
	TimestampTz now = GetCurrentTimestamp();

	memset(&key, 0, sizeof(key));
	key.dboid = dboid;
	key.relid = relid;

	h = hash_search(AlTables, &key, HASH_FIND, NULL);
	if (h == NULL)
	{
		if (hash_get_num_entries(AlTables) >= al_max_tracked_tables)
		{
			HASH_SEQ_STATUS seq;
			AlTableHistory *e;
			AlTableHistory *oldest = NULL;
			AlTableKey	victim;

			hash_seq_init(&seq, AlTables);
			while ((e = hash_seq_search(&seq)) != NULL)
			{
				if (oldest == NULL ||
					Max(e->last_vacuum, e->last_analyze) <
					Max(oldest->last_vacuum, oldest->last_analyze))
					oldest = e;
			}
			if (oldest != NULL)
			{
				victim = oldest->key;
				(void) hash_search(AlTables, &victim, HASH_REMOVE, NULL);
			}
		}
		h = hash_search(AlTables, &key, HASH_ENTER_NULL, &found);
		if (h == NULL)
			return;
		memset(((char *) h) + sizeof(AlTableKey), 0,
			   sizeof(AlTableHistory) - sizeof(AlTableKey));
	}

	if (done == AL_ACTION_VACUUM || done == AL_ACTION_VACUUM_ANALYZE)
	{
		h->last_vacuum = now;
		h->vacuum_count++;
	}
	if (done == AL_ACTION_ANALYZE || done == AL_ACTION_VACUUM_ANALYZE)
	{
		h->last_analyze = now;
		h->analyze_count++;
	}
}

/*
 * al_table_history
 *		Copy a table's history; false if we have none for it.
 */
bool
al_table_history(Oid dboid, Oid relid, AlTableHistory *history)
{
	AlTableKey	key;
	AlTableHistory *h;

	memset(&key, 0, sizeof(key));
	key.dboid = dboid;
	key.relid = relid;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	h = hash_search(AlTables, &key, HASH_FIND, NULL);
	if (h != NULL)
		*history = *h;
	LWLockRelease(AlShared->lock);
	return h != NULL;
}

/*
 * al_forget_database_tables
 *		Drop the table history of a database that no longer exists.  Caller
 *		holds the lock exclusively.
 */
void
al_forget_database_tables(Oid dboid)
{
	HASH_SEQ_STATUS seq;
	AlTableHistory *e;

	hash_seq_init(&seq, AlTables);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dboid == dboid)
			(void) hash_search(AlTables, &e->key, HASH_REMOVE, NULL);
	}
}

/* Reset a slot to FREE, keeping its generation.  Caller holds the lock. */
static void
free_slot_locked(AlSlot *slot)
{
	uint64		gen = slot->generation;

	memset(slot, 0, sizeof(AlSlot));
	slot->generation = gen;
	slot->state = AL_SLOT_FREE;
}

/*
 * al_count_active_slots
 *		Number of slots that are REQUESTED or RUNNING.
 */
int
al_count_active_slots(void)
{
	int			n = 0;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	for (int i = 0; i < AlShared->nslots; i++)
		if (AlShared->slots[i].state != AL_SLOT_FREE)
			n++;
	LWLockRelease(AlShared->lock);
	return n;
}

/*
 * al_claim_table
 *		Record in our slot that we are about to process relid.
 *
 * Returns false, claiming nothing, if another worker holds the table: one
 * in the same database, or any worker if the table is shared.
 */
bool
al_claim_table(int slotno, Oid dboid, Oid relid, bool shared,
			   const char *relname)
{
	AlSlot	   *me = &AlShared->slots[slotno];
	bool		held = false;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *other = &AlShared->slots[i];

		if (other == me || other->state != AL_SLOT_RUNNING)
			continue;
		if (other->relid == relid &&
			(other->dboid == dboid || other->relshared))
		{
			held = true;
			break;
		}
	}
	if (!held)
	{
		me->relid = relid;
		me->relshared = shared;
		namestrcpy(&me->relname, relname);
		me->action = AL_ACTION_NONE;
		me->wraparound = false;
	}
	LWLockRelease(AlShared->lock);
	return !held;
}

/*
 * al_set_table_action
 *		Publish what we are doing to the claimed table, and count it.
 */
void
al_set_table_action(int slotno, AlAction action, bool wraparound)
{
	AlSlot	   *me = &AlShared->slots[slotno];

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	me->action = action;
	me->wraparound = wraparound;
	LWLockRelease(AlShared->lock);
}

/*
 * al_release_table
 *		Forget the claimed table; if done, count the work, and count a
 *		cancelled one.
 */
void
al_release_table(int slotno, AlAction done, bool cancelled)
{
	AlSlot	   *me = &AlShared->slots[slotno];

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (cancelled)
	{
		AlShared->tables_cancelled++;
		me->tables_cancelled++;
	}
	if (done != AL_ACTION_NONE)
		record_table_run_locked(me->dboid, me->relid, done);
	if (done == AL_ACTION_VACUUM || done == AL_ACTION_VACUUM_ANALYZE)
		AlShared->tables_vacuumed++;
	if (done == AL_ACTION_ANALYZE || done == AL_ACTION_VACUUM_ANALYZE)
		AlShared->tables_analyzed++;
	if (done != AL_ACTION_NONE)
		me->tables_done++;
	me->relid = InvalidOid;
	me->relshared = false;
	memset(&me->relname, 0, sizeof(NameData));
	me->action = AL_ACTION_NONE;
	me->wraparound = false;
	LWLockRelease(AlShared->lock);
}

/*
 * al_balance_cost
 *		Publish our cost settings and compute our share of the budget.
 *
 * total_limit/total_delay is the budget shared by all workers
 * (autovacuum_vacuum_cost_limit/delay, resolved as core does).  Workers
 * whose table has its own cost reloptions (dobalance = false) keep their
 * own settings and are left out of the split, as in core.
 */
int
al_balance_cost(int slotno, bool dobalance, double delay, int limit_base,
				int total_limit, double total_delay)
{
	AlSlot	   *me = &AlShared->slots[slotno];
	double		cost_total = 0;
	int			limit;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	me->cost_dobalance = dobalance;
	me->cost_delay = delay;
	me->cost_limit_base = limit_base;

	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *s = &AlShared->slots[i];

		if (s->state == AL_SLOT_RUNNING && s->cost_dobalance &&
			s->cost_limit_base > 0 && s->cost_delay > 0)
			cost_total += (double) s->cost_limit_base / s->cost_delay;
	}

	limit = dobalance
		? al_compute_cost_limit(total_limit, total_delay, limit_base, cost_total)
		: limit_base;
	me->cost_limit = limit;
	LWLockRelease(AlShared->lock);

	return limit;
}

/*
 * Is a DDL command that needs this database to itself running?  Entries
 * whose backend has exited are ignored.  Caller holds the lock.
 */
static bool
database_is_blocked_locked(Oid dboid)
{
	for (int i = 0; i < AL_MAX_BLOCKS; i++)
	{
		AlBlock    *b = &AlShared->blocks[i];

		if (b->dboid == dboid && BackendPidGetProc(b->pid) != NULL)
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
	result = database_is_blocked_locked(dboid);
	LWLockRelease(AlShared->lock);
	return result;
}

/*
 * al_block_database
 *		Keep workers out of dboid until al_unblock_database().
 *
 * Returns false if every block entry is taken by a live backend; the
 * caller then goes on without the guarantee.
 */
bool
al_block_database(Oid dboid)
{
	bool		blocked = false;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AL_MAX_BLOCKS; i++)
	{
		AlBlock    *b = &AlShared->blocks[i];

		if (!OidIsValid(b->dboid) || BackendPidGetProc(b->pid) == NULL)
		{
			b->dboid = dboid;
			b->pid = MyProcPid;
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
	for (int i = 0; i < AL_MAX_BLOCKS; i++)
	{
		AlBlock    *b = &AlShared->blocks[i];

		if (b->dboid == dboid && b->pid == MyProcPid)
		{
			b->dboid = InvalidOid;
			b->pid = 0;
		}
	}
	LWLockRelease(AlShared->lock);
}

/*
 * al_terminate_database_workers
 *		Ask every worker sent to dboid to exit; return how many were asked.
 *
 * Through the stored handle where there is one, so that a worker not yet
 * started never starts; otherwise with SIGTERM to its pid.  Either way the
 * worker exits at its next interrupt check, and frees its slot as usual.
 */
int
al_terminate_database_workers(Oid dboid)
{
	AlSlot	   *targets;
	int			ntargets = 0;

	targets = palloc(sizeof(AlSlot) * AlShared->nslots);
	LWLockAcquire(AlShared->lock, LW_SHARED);
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];

		if (slot->state != AL_SLOT_FREE && slot->dboid == dboid)
			memcpy(&targets[ntargets++], slot, sizeof(AlSlot));
	}
	LWLockRelease(AlShared->lock);

	for (int i = 0; i < ntargets; i++)
	{
		if (targets[i].handle_valid)
			TerminateBackgroundWorker((BackgroundWorkerHandle *) &targets[i].handle);
		else if (targets[i].pid != 0)
			(void) kill(targets[i].pid, SIGTERM);
	}
	pfree(targets);
	return ntargets;
}

/*
 * al_check_injected_launcher_error
 *		Raise the error a test asked for at this point, once.
 */
void
al_check_injected_launcher_error(AlInjectLauncher where)
{
	bool		fire;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	fire = (AlShared->inject_launcher_error == where);
	if (fire)
		AlShared->inject_launcher_error = AL_INJECT_NONE;
	LWLockRelease(AlShared->lock);

	if (fire)
		elog(ERROR, "pg_autolauncher: injected launcher error (test)");
}

/*
 * al_publish_threshold_floor
 *		Record the lowest thresholds a worker found in its database.
 */
void
al_publish_threshold_floor(Oid dboid, const AlThresholdFloor *floor)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	entry = al_database_entry(dboid, false);
	if (entry != NULL)
		entry->floor = *floor;
	LWLockRelease(AlShared->lock);
}

/*
 * al_reason_format
 *		printf format of a launcher verdict; %d is its reason_count.
 */
const char *
al_reason_format(AlReason reason)
{
	switch (reason)
	{
		case AL_REASON_NONE:
			return "not looked at yet";
		case AL_REASON_XID_WRAPAROUND:
			return "due: datfrozenxid is older than autovacuum_freeze_max_age";
		case AL_REASON_MULTI_WRAPAROUND:
			return "due: datminmxid is older than the multixact freeze limit";
		case AL_REASON_WRAPAROUND_WAIT:
			return "in wraparound danger, visited less than 10 seconds ago";
		case AL_REASON_NEW_WORK:
			return "due: %d tables newly over threshold";
		case AL_REASON_LEFTOVER_RETRY:
			return "due: %d tables left over by the last visit, naptime passed";
		case AL_REASON_LEFTOVER_WAIT:
			return "%d tables left over by the last visit, retried after naptime";
		case AL_REASON_LEFTOVER_IDLE:
			return "%d tables left over by the last visit, no change since: waiting for the safety visit";
		case AL_REASON_SAFETY_VISIT:
			return "due: safety visit, not visited for max_visit_interval";
		case AL_REASON_IDLE:
			return "below thresholds";
		case AL_REASON_NO_STATS:
			return "no activity recorded";
		case AL_REASON_NOT_CONNECTABLE:
			return "does not allow connections";
		case AL_REASON_BACKED_OFF:
			return "backed off after %d failures in a row";
		case AL_REASON_BLOCKED:
			return "a DROP, ALTER or CREATE DATABASE command needs it";
		case AL_REASON_WORKER_RUNNING:
			return "%d workers running";
	}
	return "unknown";
}

/*
 * al_wake_launcher
 *		Set the launcher's latch, if a launcher is running.
 */
bool
al_wake_launcher(void)
{
	Latch	   *latch;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	latch = AlShared->launcher_latch;
	LWLockRelease(AlShared->lock);

	if (latch == NULL)
		return false;
	SetLatch(latch);
	return true;
}

const char *
al_slot_state_name(AlSlotState state)
{
	switch (state)
	{
		case AL_SLOT_FREE:
			return "free";
		case AL_SLOT_REQUESTED:
			return "requested";
		case AL_SLOT_RUNNING:
			return "running";
	}
	return "unknown";
}

const char *
al_action_name(AlAction action)
{
	switch (action)
	{
		case AL_ACTION_NONE:
			return NULL;
		case AL_ACTION_VACUUM:
			return "vacuum";
		case AL_ACTION_ANALYZE:
			return "analyze";
		case AL_ACTION_VACUUM_ANALYZE:
			return "vacuum analyze";
	}
	return NULL;
}

const char *
al_launcher_state_name(AlLauncherState state)
{
	switch (state)
	{
		case AL_LAUNCHER_STOPPED:
			return "stopped";
		case AL_LAUNCHER_IDLE:
			return "idle";
		case AL_LAUNCHER_RUNNING:
			return "running";
		case AL_LAUNCHER_DISABLED:
			return "disabled";
		case AL_LAUNCHER_YIELDING:
			return "yielding";
	}
	return "unknown";
}
