/*-------------------------------------------------------------------------
 *
 * slots.c
 *		The worker slot array: every state transition of a slot, the cost
 *		balancing of the workers in it, and the launcher's counters.
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
 * A slot's end is reported to databases.c (history, backoff) and, if its
 * worker held a table, to registry.c (the table waits for its retry),
 * under the same lock.  This file also keeps the launcher's and workers'
 * counters of autolauncher.status, and the plumbing of lingering workers:
 * a worker waiting for its queue marks itself idle, the launcher wakes it
 * when work comes, or asks it to yield when another database needs the
 * slot.
 *
 * IDENTIFICATION
 *	  src/slots.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

/* How long a worker starting a table waits for others to take a lower share. */
#define COST_ACK_TIMEOUT_MS		100

static void free_slot_locked(AlSlot *slot);
static void note_worker_end_locked(AlSlot *slot, int how, TimestampTz now);
static void balance_costs_locked(void);
static void cost_deactivate_locked(AlSlot *slot);

/*
 * al_reserve_slot
 *		FREE -> REQUESTED: take a free slot for a worker in dboid.
 *
 * kind is what the worker is to do there; manual is true for
 * autolauncher.request().
 *
 * Returns the slot number and its new generation; AL_RESERVE_NO_SLOT when
 * every slot is in use; AL_RESERVE_EXITING when the free ones' last workers
 * are still exiting; AL_RESERVE_BLOCKED when a DDL command needs the
 * database to itself (ddl.c).  The block is checked under the same lock
 * that reserves the slot, so a worker is never sent into a database once
 * its DDL has started.  The caller must follow up with al_register_worker().
 *
 * A worker frees its slot as it exits, a moment before the postmaster
 * frees its background worker process slot.  Reusing the slot at once
 * would hold one process slot more than worker_slots, for that moment,
 * taken from max_worker_processes' share for others
 * (add_worker_processes, pg_autolauncher.c); so a slot is reused only once
 * its last worker is gone.
 */
int
al_reserve_slot(Oid dboid, AlVisitKind kind, bool manual, uint64 *generation)
{
	int			slotno = AL_RESERVE_NO_SLOT;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (al_database_is_blocked_locked(dboid))
	{
		LWLockRelease(AlShared->lock);
		return AL_RESERVE_BLOCKED;
	}
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];
		uint64		gen;
		pid_t		pid;

		if (slot->state != AL_SLOT_FREE)
			continue;
		if (slot->last_handle_valid)
		{
			if (GetBackgroundWorkerPid((BackgroundWorkerHandle *) &slot->last_handle,
									   &pid) != BGWH_STOPPED)
			{
				slotno = AL_RESERVE_EXITING;
				continue;
			}
			slot->last_handle_valid = false;
		}

		gen = slot->generation + 1;
		memset(slot, 0, sizeof(AlSlot));
		slot->generation = gen;
		slot->state = AL_SLOT_REQUESTED;
		slot->dboid = dboid;
		slot->kind = kind;
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

	/*
	 * The worker may have started, failed and freed the slot already: the
	 * dispatch is counted all the same, and the handle is stored in the
	 * slot if it is still this reservation's, or kept as its last worker's
	 * if the worker freed it already.
	 */
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->workers_launched++;
	dbstate_note_dispatch_locked(dboid, GetCurrentTimestamp());
	if (slot->generation == generation && slot->state != AL_SLOT_FREE)
	{
		memcpy(&slot->handle, handle, sizeof(AlWorkerHandle));
		slot->handle_valid = true;
	}
	else if (slot->generation == generation)
	{
		/* it ran and freed the slot already: reuse waits for it all the same */
		memcpy(&slot->last_handle, handle, sizeof(AlWorkerHandle));
		slot->last_handle_valid = true;
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
		slot->latch = MyLatch;
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
 * otherwise the exit counts as a worker failure, unless a DDL command asked
 * the worker to exit (al_terminate_database_workers).  A worker that fails
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
		cost_deactivate_locked(slot);
		note_worker_end_locked(slot,
							   completed ? AL_WORKER_FINISHED :
							   slot->ddl_terminated ? AL_WORKER_DDL_TERMINATED :
							   AL_WORKER_FAILED,
							   GetCurrentTimestamp());
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
					note_worker_end_locked(slot,
										   slot->ddl_terminated ?
										   AL_WORKER_DDL_TERMINATED :
										   AL_WORKER_FAILED,
										   now);
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
 * Account for a worker that ended: in the counters, in its database's
 * history (databases.c), and, if it held a table, in the registry: the table
 * waits for its retry.  Caller holds the lock exclusively.
 */
static void
note_worker_end_locked(AlSlot *slot, int how, TimestampTz now)
{
	switch (how)
	{
		case AL_WORKER_FINISHED:
			AlShared->workers_finished++;
			break;
		case AL_WORKER_FAILED:
			AlShared->worker_failures++;
			break;
		case AL_WORKER_DDL_TERMINATED:
			AlShared->workers_ddl_terminated++;
			break;
	}
	dbstate_note_worker_end_locked(slot->dboid, how, now);
	registry_release_holder_locked(slot - AlShared->slots, slot->generation,
								   now);
}

/* Reset a slot to FREE, keeping its generation.  Caller holds the lock. */
static void
free_slot_locked(AlSlot *slot)
{
	uint64		gen = slot->generation;
	bool		had_handle = slot->handle_valid;
	AlWorkerHandle handle = slot->handle;

	memset(slot, 0, sizeof(AlSlot));
	slot->generation = gen;
	slot->state = AL_SLOT_FREE;
	slot->last_handle_valid = had_handle;
	slot->last_handle = handle;
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
 *		Forget the claimed table, and count what the run on it achieved.
 *		Only completed work counts as vacuumed or analyzed.
 */
void
al_release_table(int slotno, const AlRunReport *report)
{
	AlSlot	   *me = &AlShared->slots[slotno];

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (report->cancelled)
		AlShared->tables_cancelled++;
	if (report->skipped)
		AlShared->tables_skipped++;
	if (report->vacuumed || report->analyzed)
		me->tables_done++;
	if (report->vacuumed)
		AlShared->tables_vacuumed++;
	if (report->analyzed)
		AlShared->tables_analyzed++;
	me->relid = InvalidOid;
	me->relshared = false;
	memset(&me->relname, 0, sizeof(NameData));
	me->action = AL_ACTION_NONE;
	me->wraparound = false;
	LWLockRelease(AlShared->lock);
}

/*
 * al_set_idle
 *		A worker starts, or stops, waiting for its database's queue.
 *
 * A worker that waits vacuums nothing, so it leaves the cost split, and
 * the workers that do vacuum share its part; it takes a share again with
 * its next table (al_cost_begin_table).
 */
void
al_set_idle(int slotno, bool idle)
{
	AlSlot	   *slot = &AlShared->slots[slotno];

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	slot->idle = idle;
	if (idle)
		cost_deactivate_locked(slot);
	LWLockRelease(AlShared->lock);
}

/*
 * al_yield_requested
 *		Has the launcher asked this worker to give its slot up?
 */
bool
al_yield_requested(int slotno)
{
	bool		yield;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	yield = AlShared->slots[slotno].yield_requested;
	LWLockRelease(AlShared->lock);
	return yield;
}

/*
 * al_wake_idle_workers
 *		Work came in dboid: wake the workers there that wait for it.  Returns
 *		how many were woken.
 */
int
al_wake_idle_workers(Oid dboid)
{
	int			woken = 0;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];

		if (slot->state == AL_SLOT_RUNNING && slot->dboid == dboid &&
			slot->idle && slot->latch != NULL)
		{
			SetLatch(slot->latch);
			woken++;
		}
	}
	LWLockRelease(AlShared->lock);
	return woken;
}

/*
 * al_request_yields
 *		Another database needs a slot and none is free: ask every idle worker
 *		outside dboid to give its slot up at once.  Returns how many were
 *		asked.
 */
int
al_request_yields(Oid dboid)
{
	int			asked = 0;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];

		if (slot->state == AL_SLOT_RUNNING && slot->dboid != dboid &&
			slot->idle && !slot->yield_requested)
		{
			slot->yield_requested = true;
			if (slot->latch != NULL)
				SetLatch(slot->latch);
			asked++;
		}
	}
	LWLockRelease(AlShared->lock);
	return asked;
}

/*
 * al_count_statistics_walk
 *		The launcher walked the whole statistics hash (autolauncher.status).
 */
void
al_count_statistics_walk(void)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->statistics_walks++;
	LWLockRelease(AlShared->lock);
}

/*
 * al_bump_walk_generation
 *		A database asked the launcher to walk its tables (databases.c,
 *		dbstate_request_walk).
 */
void
al_bump_walk_generation(void)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->walk_generation++;
	LWLockRelease(AlShared->lock);
}

/*
 * al_bump_catalog_generation
 *		A database was created, dropped or renamed: the launcher must read
 *		pg_database again.
 */
void
al_bump_catalog_generation(void)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->catalog_generation++;
	LWLockRelease(AlShared->lock);
	(void) al_wake_launcher();
}

/*
 * Cost balancing.
 *
 * Workers processing tables without cost reloptions ("balanced" workers)
 * share the budget autovacuum_vacuum_cost_limit / autovacuum_vacuum_cost_delay
 * in proportion to their own limit / delay, by core's formula
 * (al_compute_cost_limit, policy.c).  Tables with cost reloptions keep
 * them and stay out of the split, as in core.  As in core, a worker holds
 * its share from its first table until it exits, between tables too; but
 * one that waits for more work (core's never do) gives its share up until
 * its next table.  So the shares change when a worker starts, waits or
 * exits, when it moves between balanced tables and tables with their own
 * settings, and when the budget changes: not at every table.
 *
 * Core's workers pick up a new share at their next nap, through
 * AutoVacuumUpdateDelay(), which does nothing for us; PostgreSQL 15 has no
 * other hook there.  So the balancer signals each worker whose share it
 * changed (SIGUSR2), and the worker's handler copies its share from its
 * slot into VacuumCostLimit at once (al_cost_take_allowed), which the
 * running vacuum reads before its next nap.  A signal cuts the nap it
 * lands in short, which is why shares change only at those few events.
 *
 * The budget must hold at every moment, also while signals are in
 * flight: the shares the balanced workers have taken (cost_limit_applied)
 * never add up to more than the budget, given the same delay.  So the
 * balancer lowers shares first, and counts a worker's old, larger share
 * until the worker has applied the lower one; it raises shares only into
 * the headroom the shares taken leave; and a worker that joins waits,
 * briefly, for the others to apply their lower shares before it takes its
 * own.  A raise held back for want of headroom is made at a later
 * balancing: the launcher balances at every pass, and a worker that applies
 * a lower share wakes it.  The one exception is core's too: a share is
 * never below 1, so with more balanced workers than the budget has units,
 * the sum exceeds it.
 */

static bool
cost_balanced(const AlSlot *s)
{
	return s->state == AL_SLOT_RUNNING && s->cost_active &&
		s->cost_dobalance && s->cost_limit_base > 0 && s->cost_delay > 0;
}

/* Tell a worker, other than ourselves, that its share changed. */
static void
cost_signal_locked(const AlSlot *s)
{
	/*
	 * Sent under the lock: the worker frees its slot under it before it
	 * exits, so the PID cannot have been reused by another process.
	 */
	if (s->pid != 0 && s->pid != MyProcPid)
		(void) kill(s->pid, SIGUSR2);
}

/*
 * Recompute every balanced worker's share of the budget, lowering shares at
 * once and raising them within the headroom.  Caller holds the lock
 * exclusively.
 */
static void
balance_costs_locked(void)
{
	int			budget_limit = AlShared->cost_budget_limit;
	double		budget_delay = AlShared->cost_budget_delay;
	double		cost_total = 0;
	double		headroom;

	if (budget_limit <= 0 || budget_delay <= 0)
		return;

	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *s = &AlShared->slots[i];

		if (cost_balanced(s))
			cost_total += (double) s->cost_limit_base / s->cost_delay;
	}
	if (cost_total <= 0)
		return;

	/* lower shares now; until applied, the old share is what counts */
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *s = &AlShared->slots[i];
		int			target;

		if (!cost_balanced(s))
			continue;
		target = al_compute_cost_limit(budget_limit, budget_delay,
									   s->cost_limit_base, cost_total);
		if (target < s->cost_limit)
		{
			s->cost_limit = target;
			cost_signal_locked(s);
		}
	}

	/* raise shares into what the shares taken leave free */
	headroom = (double) budget_limit / budget_delay;
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *s = &AlShared->slots[i];

		if (cost_balanced(s))
			headroom -= (double) Max(s->cost_limit, s->cost_limit_applied) /
				s->cost_delay;
	}
	for (int i = 0; i < AlShared->nslots && headroom > 0; i++)
	{
		AlSlot	   *s = &AlShared->slots[i];
		int			target;
		int			raise;

		if (!cost_balanced(s))
			continue;
		target = al_compute_cost_limit(budget_limit, budget_delay,
									   s->cost_limit_base, cost_total);
		raise = Min(target - s->cost_limit, (int) (headroom * s->cost_delay));
		if (raise > 0)
		{
			s->cost_limit += raise;
			headroom -= (double) raise / s->cost_delay;
			cost_signal_locked(s);
		}
	}
}

/* A worker leaves the split (it waits or exits): the others share its part. */
static void
cost_deactivate_locked(AlSlot *slot)
{
	if (!slot->cost_active)
		return;
	slot->cost_active = false;
	slot->cost_limit = 0;
	slot->cost_limit_applied = 0;
	balance_costs_locked();
}

/* Has any balanced worker but us still to apply a lower share? */
static bool
cost_acks_pending(int slotno)
{
	bool		pending = false;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	for (int i = 0; i < AlShared->nslots && !pending; i++)
	{
		AlSlot	   *s = &AlShared->slots[i];

		pending = (i != slotno && cost_balanced(s) &&
				   s->cost_limit_applied > s->cost_limit);
	}
	LWLockRelease(AlShared->lock);
	return pending;
}

/*
 * al_cost_begin_table
 *		Take our share of the cost budget for the table we start; return the
 *		cost limit to use.
 *
 * limit_base/delay are this table's own settings; dobalance is false when
 * the table has cost reloptions, and then they are used as is.
 * budget_limit/budget_delay is the budget as this worker resolves it, used
 * only until a launcher has published the server's.
 */
int
al_cost_begin_table(int slotno, bool dobalance, double delay, int limit_base,
					int budget_limit, double budget_delay)
{
	AlSlot	   *me = &AlShared->slots[slotno];
	int			granted;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (AlShared->cost_budget_limit <= 0 && AlShared->cost_budget_delay <= 0)
	{
		AlShared->cost_budget_limit = budget_limit;
		AlShared->cost_budget_delay = budget_delay;
	}

	/* the same kind of table as the last: keep the share we hold */
	if (me->cost_active && me->cost_dobalance == dobalance &&
		me->cost_delay == delay && me->cost_limit_base == limit_base &&
		me->cost_limit > 0)
	{
		granted = me->cost_limit;
		me->cost_limit_applied = granted;
		LWLockRelease(AlShared->lock);
		return granted;
	}

	me->cost_active = true;
	me->cost_dobalance = dobalance;
	me->cost_delay = delay;
	me->cost_limit_base = limit_base;
	if (!cost_balanced(me) || AlShared->cost_budget_limit <= 0 ||
		AlShared->cost_budget_delay <= 0)
	{
		/* our own settings: the others may share what we held */
		me->cost_limit = limit_base;
		me->cost_limit_applied = limit_base;
		balance_costs_locked();
		LWLockRelease(AlShared->lock);
		return limit_base;
	}
	me->cost_limit = 0;
	me->cost_limit_applied = 0;
	balance_costs_locked();
	LWLockRelease(AlShared->lock);

	/* let the others apply their lower shares, then take what they freed */
	for (int waited = 0; waited < COST_ACK_TIMEOUT_MS &&
		 cost_acks_pending(slotno); waited++)
		pg_usleep(1000L);

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	balance_costs_locked();
	granted = Max(me->cost_limit, 1);
	me->cost_limit = granted;
	me->cost_limit_applied = granted;
	LWLockRelease(AlShared->lock);
	return granted;
}

/*
 * al_cost_release
 *		We run a table with no cost-based delay: the others share our part.
 */
void
al_cost_release(int slotno)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	cost_deactivate_locked(&AlShared->slots[slotno]);
	LWLockRelease(AlShared->lock);
}

/*
 * al_cost_take_allowed
 *		Our current share, recorded as taken; -1 if we have none.
 *
 * Called from the worker's SIGUSR2 handler, so it takes no lock: it reads
 * and writes aligned ints of our own slot only, with a barrier so that the
 * balancer sees what we took, and sets the launcher's latch (async-signal
 * safe) when our share went down, so that it can hand the difference to
 * others.
 */
int
al_cost_take_allowed(int slotno)
{
	AlSlot	   *me = &AlShared->slots[slotno];
	int			allowed = *((volatile int *) &me->cost_limit);
	int			before = me->cost_limit_applied;

	if (allowed <= 0)
		return -1;
	me->cost_limit_applied = allowed;
	pg_memory_barrier();
	if (allowed < before)
	{
		Latch	   *latch = *((Latch *volatile *) &AlShared->launcher_latch);

		if (latch != NULL)
			SetLatch(latch);
	}
	return allowed;
}

/*
 * al_cost_rebalance
 *		Publish the budget, as the launcher resolves it from the server's
 *		settings, and recompute the shares.  It signals only workers whose
 *		share changes, so it runs at every pass of the launcher.
 */
void
al_cost_rebalance(int budget_limit, double budget_delay)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	AlShared->cost_budget_limit = budget_limit;
	AlShared->cost_budget_delay = budget_delay;
	balance_costs_locked();
	LWLockRelease(AlShared->lock);
}

/*
 * al_terminate_database_workers
 *		Ask every worker sent to dboid to exit, for a DDL command; return how
 *		many were asked.
 *
 * Through the stored handle where there is one, so that a worker not yet
 * started never starts; otherwise with SIGTERM to its pid, sent under the
 * lock so that it cannot reach a process that reused the PID.  Either way
 * the worker exits at its next interrupt check, and frees its slot as
 * usual.  Each slot is marked first, so that the worker's end counts as a
 * DDL termination, not a failure, and starts no backoff.  The stored
 * handles are copied to handles (room for nslots; an unused one has slot
 * -1), so that the caller can wait for the workers to be gone.
 */
int
al_terminate_database_workers(Oid dboid, AlWorkerHandle *handles)
{
	int			ntargets = 0;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AlShared->nslots; i++)
	{
		AlSlot	   *slot = &AlShared->slots[i];

		handles[i].slot = -1;
		if (slot->state == AL_SLOT_FREE || slot->dboid != dboid)
			continue;
		slot->ddl_terminated = true;
		ntargets++;
		if (slot->handle_valid)
			handles[i] = slot->handle;
		else if (slot->pid != 0)
			(void) kill(slot->pid, SIGTERM);
	}
	LWLockRelease(AlShared->lock);

	for (int i = 0; i < AlShared->nslots; i++)
		if (handles[i].slot >= 0)
			TerminateBackgroundWorker((BackgroundWorkerHandle *) &handles[i]);
	return ntargets;
}

/*
 * al_injected_worker_error
 *		Must a worker in dboid fail, for a test (src/testing.c)?
 */
bool
al_injected_worker_error(Oid dboid)
{
	bool		fail;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	fail = (AlShared->inject_worker_error_db == dboid);
	LWLockRelease(AlShared->lock);
	return fail;
}

/*
 * al_take_injected_worker_wait
 *		Must a worker in dboid wait for a cancel while it lists its tables,
 *		for a test?  Answers true once.
 */
bool
al_take_injected_worker_wait(Oid dboid)
{
	bool		wait;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	wait = (AlShared->inject_worker_wait_db == dboid);
	if (wait)
		AlShared->inject_worker_wait_db = InvalidOid;
	LWLockRelease(AlShared->lock);
	return wait;
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

const char *
al_visit_kind_name(AlVisitKind kind)
{
	switch (kind)
	{
		case AL_VISIT_NONE:
			return "manual";
		case AL_VISIT_QUEUE:
			return "queue";
		case AL_VISIT_FAST:
			return "fast lane";
		case AL_VISIT_SAFETY_SCAN:
			return "safety scan";
		case AL_VISIT_DEADLINE_SCAN:
			return "freeze deadline scan";
		case AL_VISIT_MULTI_WRAP_SCAN:
			return "multixact wraparound scan";
		case AL_VISIT_XID_WRAP_SCAN:
			return "wraparound scan";
	}
	return "unknown";
}
