/*-------------------------------------------------------------------------
 *
 * registry.c
 *		The table registry: every table's schedule state, and each
 *		database's queue of due tables.
 *
 * This file is the only writer of AlTables (AlTableEntry, keyed by
 * database and table OID), AlTableDbs (each database's list of tables and
 * its queue) and AlShared->table_lru.  A table's lifecycle state
 * (AlTableState, pg_autolauncher.h; docs/scheduling.md) changes only in
 * tablestate_transition(), which also keeps the queues and their counts.
 *
 * Who calls what:
 *	- the launcher walks a database's entries when its statistics moved
 *	  (registry_walk_database), finds tables the registry does not have yet
 *	  (registry_discover), and forgets dropped databases;
 *	- a worker publishes what it read in pg_class (registry_publish_scan),
 *	  claims the most urgent due table of its database
 *	  (registry_claim_next), and reports what its run achieved
 *	  (registry_release);
 *	- slots.c gives a dead worker's table back (registry_release_holder_
 *	  locked); the DDL hook marks a table whose reloptions changed
 *	  (registry_mark_unknown); status.c reads entries for the views.
 *
 * Every decision (is it due, how urgent, until when does it wait) is
 * policy.c's: this file applies the verdicts.  The work done under the
 * lock is bounded: a walk reads the statistics with no lock held and
 * applies its verdicts in batches; eviction looks at a bounded number of
 * entries.
 *
 * IDENTIFICATION
 *	  src/registry.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "catalog/pg_class.h"
#include "lib/dshash.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/dsa.h"
#include "utils/pgstat_internal.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

/* Entries a walk copies, and whose verdicts it applies, per hold of the lock. */
#define COPY_BATCH		1024
#define APPLY_BATCH		1024

/* How many least recently used entries eviction looks at. */
#define EVICT_TRIES		64

/* Which lifecycle transitions are allowed: [from][to]. */
static const bool table_transitions[AL_TABLE_NSTATES][AL_TABLE_NSTATES] = {
	/* to:			 UNKNOWN IDLE   DUE	   RUNNING WAITING */
	/* UNKNOWN */ {false, true, true, false, false},
	/* IDLE */ {true, false, true, false, false},
	/* DUE */ {true, true, false, true, false},
	/* RUNNING */ {false, false, false, false, true},
	/* WAITING */ {true, true, true, false, false},
};

/* What the statistics say of one table. */
typedef struct TableCounters
{
	bool		found;
	int64		changes;		/* inserted + updated + deleted, cumulative */
	double		n_live_tuples;
	double		n_dead_tuples;
	double		inserts_since_vacuum;
	double		changes_since_analyze;
	int64		runs;			/* vacuums and analyzes, manual or not */
} TableCounters;

/* One table of a walk: what was copied, read and decided. */
typedef struct WalkItem
{
	AlTableKey	key;
	AlTableState state;
	bool		info_known;
	AlTableInfo info;
	int64		changes_seen;
	int64		runs_seen;
	bool		stale;			/* another run since its info was read */
	uint32		info_epoch;		/* the entry's, and its database's, when */
	uint32		db_epoch;		/* copied */
	TimestampTz not_before;
	bool		retrying;		/* not_before is a retry time */
	TimestampTz last_analyze;
	int32		last_analyze_ms;
	int32		last_run_ms;
	TableCounters counters;
	AlTableVerdict verdict;
} WalkItem;

/*
 * Read a table's counters straight from the shared statistics hash, as
 * pgstat_build_snapshot() does: no local reference is kept, so reading
 * every table of a large cluster costs no memory.
 */
static void
read_table_counters(Oid dboid, Oid relid, TableCounters *c)
{
	PgStat_HashKey key;
	PgStatShared_HashEntry *p;

	memset(c, 0, sizeof(TableCounters));
	key.kind = PGSTAT_KIND_RELATION;
	key.dboid = dboid;
	key.objoid = relid;
	p = dshash_find(pgStatLocal.shared_hash, &key, false);
	if (p == NULL)
		return;
	if (!p->dropped)
	{
		PgStatShared_Relation *shrel =
		(PgStatShared_Relation *) dsa_get_address(pgStatLocal.dsa, p->body);

		LWLockAcquire(&shrel->header.lock, LW_SHARED);
		c->found = true;
		c->changes = shrel->stats.tuples_inserted + shrel->stats.tuples_updated +
			shrel->stats.tuples_deleted;
		c->n_live_tuples = shrel->stats.n_live_tuples;
		c->n_dead_tuples = shrel->stats.n_dead_tuples;
		c->inserts_since_vacuum = shrel->stats.inserts_since_vacuum;
		c->changes_since_analyze = shrel->stats.changes_since_analyze;
		c->runs = shrel->stats.vacuum_count + shrel->stats.autovac_vacuum_count +
			shrel->stats.analyze_count + shrel->stats.autovac_analyze_count;
		LWLockRelease(&shrel->header.lock);
	}
	dshash_release_lock(pgStatLocal.shared_hash, p);
}

/* A database's registry head, created if create.  Lock held. */
static AlTableDb *
table_db_locked(Oid dboid, bool create)
{
	AlTableDb  *db;
	bool		found;

	db = hash_search(AlTableDbs, &dboid, create ? HASH_ENTER_NULL : HASH_FIND,
					 &found);
	if (db != NULL && create && !found)
	{
		memset(((char *) db) + sizeof(Oid), 0, sizeof(AlTableDb) - sizeof(Oid));
		dlist_init(&db->tables);
		dlist_init(&db->queue);
	}
	return db;
}

/* Queue bookkeeping for an entry entering or leaving DUE. */
static void
queue_count(AlTableDb *db, const AlTableEntry *e, int delta)
{
	db->nqueue += delta;
	if (e->due_flags & AL_DUE_FAST)
		db->nqueue_fast += delta;
	if (e->due_flags & AL_DUE_WRAPAROUND)
		db->nqueue_wraparound += delta;
}

/*
 * tablestate_transition
 *		The one place a table's lifecycle state changes; it keeps the
 *		database's queue and counts.  Lock held exclusively.  Returns false,
 *		changing nothing, for a transition the lifecycle does not have.
 */
static bool
tablestate_transition(AlTableDb *db, AlTableEntry *e, AlTableState to)
{
	if (!table_transitions[e->state][to])
	{
		elog(DEBUG1, "pg_autolauncher: table %u of database %u cannot go from %s to %s",
			 e->key.relid, e->key.dboid, tablestate_name(e->state),
			 tablestate_name(to));
		return false;
	}
	if (e->state == AL_TABLE_DUE)
	{
		dlist_delete(&e->queue_link);
		queue_count(db, e, -1);
		if (e->score >= db->best_score)
			db->best_dirty = true;
	}
	e->state = to;
	if (to == AL_TABLE_DUE)
	{
		dlist_push_tail(&db->queue, &e->queue_link);
		queue_count(db, e, 1);
	}
	if (to != AL_TABLE_DUE && to != AL_TABLE_RUNNING)
		e->due_flags = 0;
	return true;
}

/* Make an entry, and the table, DUE with what the verdict says.  Lock held. */
static void
make_due(AlTableDb *db, AlTableEntry *e, const AlTableVerdict *v)
{
	uint8		flags = (v->dovacuum ? AL_DUE_VACUUM : 0) |
		(v->doanalyze ? AL_DUE_ANALYZE : 0) |
		(v->wraparound ? AL_DUE_WRAPAROUND : 0) |
		(v->verify ? AL_DUE_VERIFY : 0) |
		(v->fast ? AL_DUE_FAST : 0);
	float4		score = (float4) v->score;

	if (e->state == AL_TABLE_DUE)
	{
		/* already queued: its flags may change, and its counts with them */
		queue_count(db, e, -1);
		e->due_flags = flags;
		queue_count(db, e, 1);
		if (e->score >= db->best_score && score < e->score)
			db->best_dirty = true;
	}
	else
	{
		e->due_flags = flags;
		if (!tablestate_transition(db, e, AL_TABLE_DUE))
			return;
	}
	e->score = score;
	if (score > db->best_score)
		db->best_score = score;
}

/*
 * The highest score in a database's queue again, after the entry that had
 * it left or lost it.  Lock held exclusively.
 */
static void
queue_rescore_locked(AlTableDb *db)
{
	dlist_iter	iter;

	if (!db->best_dirty)
		return;
	db->best_score = 0;
	dlist_foreach(iter, &db->queue)
	{
		/* cppcheck-suppress nullPointer ; offsetof in dlist_container */
		AlTableEntry *e = dlist_container(AlTableEntry, queue_link, iter.cur);

		db->best_score = Max(db->best_score, e->score);
	}
	db->best_dirty = false;
}

/* Forget an entry.  Lock held exclusively. */
static void
forget_locked(AlTableDb *db, AlTableEntry *e)
{
	AlTableKey	key = e->key;

	if (e->state == AL_TABLE_DUE)
	{
		dlist_delete(&e->queue_link);
		queue_count(db, e, -1);
		if (e->score >= db->best_score)
			db->best_dirty = true;
	}
	dlist_delete(&e->db_link);
	dlist_delete(&e->lru_link);
	db->ntables--;
	(void) hash_search(AlTables, &key, HASH_REMOVE, NULL);
}

/*
 * Find, or with create make (UNKNOWN), a table's entry.  When the registry
 * is full, the least recently used entry that is neither queued nor held
 * makes room, if one of the EVICT_TRIES oldest is; otherwise NULL: the
 * table stays untracked.  Lock held, exclusively if create.
 */
static AlTableEntry *
table_enter_locked(AlTableDb *db, Oid relid, bool create)
{
	AlTableKey	key;
	AlTableEntry *e;
	bool		found;

	key.dboid = db->dboid;
	key.relid = relid;
	e = hash_search(AlTables, &key, HASH_FIND, NULL);
	if (e != NULL || !create)
		return e;

	if (hash_get_num_entries(AlTables) >= al_max_tracked_tables)
	{
		dlist_iter	iter;
		AlTableEntry *victim = NULL;
		AlTableDb  *victim_db;
		int			tries = 0;

		dlist_foreach(iter, &AlShared->table_lru)
		{
			/* cppcheck-suppress nullPointer ; offsetof in dlist_container */
			AlTableEntry *old = dlist_container(AlTableEntry, lru_link, iter.cur);

			if (old->state == AL_TABLE_IDLE || old->state == AL_TABLE_UNKNOWN)
			{
				victim = old;
				break;
			}
			if (++tries >= EVICT_TRIES)
				break;
		}
		if (victim == NULL)
		{
			/* no room: a table that is not tracked at all is worse */
			AlShared->table_evictions++;
			db->evictions++;
			return NULL;
		}
		victim_db = (victim->key.dboid == db->dboid) ? db :
			table_db_locked(victim->key.dboid, false);
		/* an entry always has its database's head */
		forget_locked(victim_db, victim);
		AlShared->table_evictions++;
		victim_db->evictions++;
	}

	e = hash_search(AlTables, &key, HASH_ENTER_NULL, &found);
	if (e == NULL)
		return NULL;
	memset(((char *) e) + sizeof(AlTableKey), 0,
		   sizeof(AlTableEntry) - sizeof(AlTableKey));
	e->state = AL_TABLE_UNKNOWN;
	e->holder_slot = -1;
	e->last_vacuum_ms = -1;
	e->last_analyze_ms = -1;
	e->seq = ++db->last_seq;
	dlist_push_tail(&db->tables, &e->db_link);
	dlist_push_tail(&AlShared->table_lru, &e->lru_link);
	db->ntables++;
	return e;
}

/* Mark an entry used: it goes to the end of the eviction order. */
static void
touch_locked(AlTableEntry *e)
{
	dlist_move_tail(&AlShared->table_lru, &e->lru_link);
}

/* The facts policy.c judges a table by. */
static void
fill_facts(AlTableFacts *f, Oid relid, bool info_known,
		   const AlTableInfo *info, const TableCounters *c,
		   TimestampTz not_before, TimestampTz last_analyze,
		   int32 last_analyze_ms, int32 last_run_ms, AutoVacOpts *opts)
{
	memset(f, 0, sizeof(AlTableFacts));
	f->info_known = info_known;
	f->input.relid = relid;
	f->input.has_stats = c->found;
	f->input.n_live_tuples = c->n_live_tuples;
	f->input.n_dead_tuples = c->n_dead_tuples;
	f->input.inserts_since_vacuum = c->inserts_since_vacuum;
	f->input.changes_since_analyze = c->changes_since_analyze;
	if (info_known)
	{
		al_opts_expand(&info->opts, opts);
		f->input.opts = opts;
		f->input.relkind = info->relkind;
		f->input.reltuples = info->reltuples;
		f->input.relfrozenxid = info->relfrozenxid;
		f->input.relminmxid = info->relminmxid;
		f->relpages = info->relpages;
		f->temporary = (info->relpersistence == RELPERSISTENCE_TEMP);
	}
	else
		f->input.relkind = RELKIND_RELATION;
	f->not_before = not_before;
	f->last_analyze_end = last_analyze;
	f->last_analyze_ms = last_analyze_ms;
	f->last_run_ms = last_run_ms;
}

/* Has the worker holding the entry gone?  Lock held. */
static bool
holder_gone_locked(const AlTableEntry *e)
{
	AlSlot	   *slot;

	if (e->holder_slot < 0 || e->holder_slot >= AlShared->nslots)
		return true;
	slot = &AlShared->slots[e->holder_slot];
	return slot->state == AL_SLOT_FREE ||
		slot->generation != e->holder_generation;
}

/*
 * A released table waits until not_before: tell the launcher, which walks
 * the database again then.  Lock held exclusively.
 */
static void
note_wake_locked(AlTableDb *db, TimestampTz not_before)
{
	if (db->wake_at == 0 || not_before < db->wake_at)
		db->wake_at = not_before;
}

/* A held table whose worker went: it waits for its retry.  Lock held. */
static void
give_back_locked(AlTableDb *db, AlTableEntry *e, TimestampTz now)
{
	e->retries++;
	e->not_before = TimestampTzPlusMilliseconds(now,
												al_retry_after_ms(al_naptime,
																  al_max_visit_interval,
																  e->retries));
	e->holder_slot = -1;
	(void) tablestate_transition(db, e, AL_TABLE_WAITING);
	note_wake_locked(db, e->not_before);
}

/*
 * registry_walk_database
 *		Bring the launcher's view of one database's tables up to date.
 *
 * Copies the database's entries, reads their statistics (no lock), judges
 * each (policy.c), and applies the verdicts, a batch of entries per hold
 * of the lock: a table over its thresholds is queued, one no longer over
 * leaves the queue, a waiting table whose time came is idle again, a
 * dropped one is forgotten, and one held by a worker that is gone waits
 * for its retry.  The result says how much the known tables changed
 * since the last walk, the least headroom of the tables that can still be
 * crossed, and when a waiting table's time comes.
 */
void
registry_walk_database(Oid dboid, const AlVacuumSettings *s,
					   const AlFloor *floor, TimestampTz now, AlWalkResult *r)
{
	AlTableDb  *db;
	WalkItem   *items = NULL;
	int			nitems = 0;
	int			capacity = 0;
	AlTableKey	cursor;
	uint64		cursor_seq = 0;
	uint64		stop_seq = 0;
	bool		started = false;
	bool		incomplete = false;

	memset(r, 0, sizeof(AlWalkResult));
	r->min_headroom = DBL_MAX;

	/*
	 * Copy the entries, a batch per hold of the lock, each batch resuming
	 * after the last entry copied.  The list is in the order entries were
	 * entered, and only entries that were already there when the walk began
	 * are copied, so none is copied twice (an entry forgotten and entered
	 * again meanwhile is a new one, at the end).  If the entry to resume
	 * after was forgotten meanwhile (its key is gone, or names a newer
	 * entry), the walk stops there and asks to be made again at once
	 * (next_event_at).
	 */
	for (;;)
	{
		dlist_node *node = NULL;
		int			copied = 0;

		/* exclusively: the releases noted so far are this walk's to see */
		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		db = table_db_locked(dboid, false);
		if (db == NULL)
		{
			LWLockRelease(AlShared->lock);
			break;
		}
		if (!started)
		{
			started = true;
			db->wake_at = 0;
			stop_seq = db->last_seq;
			if (!dlist_is_empty(&db->tables))
				node = dlist_head_node(&db->tables);
		}
		else
		{
			AlTableEntry *last = hash_search(AlTables, &cursor, HASH_FIND, NULL);

			if (last == NULL || last->seq != cursor_seq)
				incomplete = true;
			else if (dlist_has_next(&db->tables, &last->db_link))
				node = dlist_next_node(&db->tables, &last->db_link);
		}
		for (; node != NULL && copied < COPY_BATCH; copied++)
		{
			/* cppcheck-suppress nullPointer ; offsetof in dlist_container */
			AlTableEntry *e = dlist_container(AlTableEntry, db_link, node);
			WalkItem   *it;

			if (e->seq > stop_seq)
			{
				/* entered since the walk began: the next walk's */
				node = NULL;
				break;
			}

			if (nitems == capacity)
			{
				capacity = Max(capacity * 2, Min(db->ntables + 16, COPY_BATCH));
				items = items ? repalloc(items, sizeof(WalkItem) * capacity)
					: palloc(sizeof(WalkItem) * capacity);
			}
			it = &items[nitems++];

			it->key = e->key;
			it->state = e->state;
			it->info_known = (e->info.relkind != '\0');
			it->info = e->info;
			it->changes_seen = e->changes_seen;
			it->runs_seen = e->runs_seen;
			it->info_epoch = e->info_epoch;
			it->db_epoch = db->info_epoch;
			it->not_before = e->not_before;
			it->retrying = (e->retries > 0);
			it->last_analyze = e->last_analyze;
			it->last_analyze_ms = e->last_analyze_ms;
			it->last_run_ms = Max(e->last_vacuum_ms, e->last_analyze_ms);
			cursor = e->key;
			cursor_seq = e->seq;
			node = dlist_has_next(&db->tables, node)
				? dlist_next_node(&db->tables, node) : NULL;
		}
		LWLockRelease(AlShared->lock);
		if (node == NULL || incomplete)
			break;
	}

	/* read and judge, with no lock of ours held */
	for (int i = 0; i < nitems; i++)
	{
		WalkItem   *it = &items[i];
		AlTableFacts facts;
		AutoVacOpts opts;

		CHECK_FOR_INTERRUPTS();
		read_table_counters(dboid, it->key.relid, &it->counters);
		if (!it->counters.found)
		{
			r->gone++;
			continue;
		}
		r->changes_known += (it->counters.changes >= it->changes_seen)
			? it->counters.changes - it->changes_seen : it->counters.changes;

		/*
		 * A VACUUM or ANALYZE not ours (a manual one, or core's) may have
		 * moved its reltuples, which its thresholds use; so may a rewrite,
		 * which moves no count but its database's info epoch
		 * (registry_forget_database_info): judge it with the floor until a
		 * worker reads it again.
		 */
		it->stale = it->info_known && it->state != AL_TABLE_RUNNING &&
			(it->counters.runs != it->runs_seen ||
			 it->info_epoch != it->db_epoch);
		if (it->stale)
			it->info_known = false;
		fill_facts(&facts, it->key.relid, it->info_known, &it->info,
				   &it->counters, it->not_before, it->last_analyze,
				   it->last_analyze_ms, it->last_run_ms, &opts);
		facts.retrying = it->retrying;
		al_table_verdict(s, floor, &facts, now, &it->verdict);

		if (it->state == AL_TABLE_RUNNING)
			continue;
		if (it->verdict.wait_until != 0)
		{
			r->next_event_at = (r->next_event_at == 0)
				? it->verdict.wait_until
				: Min(r->next_event_at, it->verdict.wait_until);
			/* an ANALYZE waits for its ration; its vacuum may come first */
			if (it->state != AL_TABLE_WAITING && !it->verdict.dovacuum)
				r->min_headroom = Min(r->min_headroom,
									  Max(it->verdict.vacuum_headroom, 0));
		}
		else if (it->state == AL_TABLE_WAITING && it->not_before > now)
			r->next_event_at = (r->next_event_at == 0)
				? it->not_before : Min(r->next_event_at, it->not_before);
		else if (!it->verdict.due)
			r->min_headroom = Min(r->min_headroom, it->verdict.headroom);
	}
	r->tables = nitems;
	if (incomplete)
	{
		r->next_event_at = now;
		r->min_headroom = 0;
	}

	/* apply, a batch per hold of the lock */
	for (int start = 0; start < nitems; start += APPLY_BATCH)
	{
		int			end = Min(nitems, start + APPLY_BATCH);

		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		db = table_db_locked(dboid, false);
		for (int i = start; i < end && db != NULL; i++)
		{
			WalkItem   *it = &items[i];
			AlTableEntry *e = table_enter_locked(db, it->key.relid, false);
			AlTableState judged = it->state;

			if (e == NULL)
				continue;
			if (!it->counters.found)
			{
				if (e->state != AL_TABLE_RUNNING)
					forget_locked(db, e);
				continue;
			}
			e->changes_seen = it->counters.changes;
			if (it->stale && e->state != AL_TABLE_RUNNING &&
				e->runs_seen == it->runs_seen &&
				e->info_epoch == it->info_epoch)
			{
				memset(&e->info, 0, sizeof(AlTableInfo));
				if (e->state == AL_TABLE_IDLE)
					(void) tablestate_transition(db, e, AL_TABLE_UNKNOWN);
				/* the verdict was made for it as an unknown table */
				if (judged == AL_TABLE_IDLE)
					judged = AL_TABLE_UNKNOWN;
			}

			if (e->state == AL_TABLE_RUNNING)
			{
				if (holder_gone_locked(e))
					give_back_locked(db, e, now);
				continue;
			}
			if (e->state == AL_TABLE_WAITING && e->not_before <= now)
				(void) tablestate_transition(db, e,
											 (e->info.relkind != '\0')
											 ? AL_TABLE_IDLE : AL_TABLE_UNKNOWN);
			/* the verdict was made on the state copied: apply it if unchanged */
			if (e->state != judged && judged != AL_TABLE_WAITING)
				continue;
			/*
			 * Due while WAITING: an ANALYZE that the ration, not the revisit
			 * time, governs (al_table_verdict).
			 */
			if (it->verdict.due &&
				(e->state == AL_TABLE_IDLE || e->state == AL_TABLE_UNKNOWN ||
				 e->state == AL_TABLE_DUE || e->state == AL_TABLE_WAITING))
				make_due(db, e, &it->verdict);
			else if (!it->verdict.due && e->state == AL_TABLE_DUE)
				(void) tablestate_transition(db, e,
											 (e->info.relkind != '\0')
											 ? AL_TABLE_IDLE : AL_TABLE_UNKNOWN);
		}
		if (db != NULL && end == nitems)
			queue_rescore_locked(db);
		LWLockRelease(AlShared->lock);
	}
	if (items != NULL)
		pfree(items);
}

/* One statistics entry the registry may not have, found by a walk. */
typedef struct FoundTable
{
	Oid			dboid;
	Oid			relid;
	int			db_index;		/* in the caller's dboids */
	TableCounters counters;
	AlTableVerdict verdict;
} FoundTable;

/*
 * registry_discover
 *		Walk the whole statistics hash for tables of the given databases
 *		(dboids sorted, with their floors; InvalidOid stands for the shared
 *		catalogs) that the registry does not have,
 *		and enter them as UNKNOWN, queued if the floor says they may be due.
 *		Returns how many were entered.
 *
 * This is the one walk whose cost grows with the cluster rather than with
 * what changed; the launcher makes it only when a walked database's tables
 * account for less than its statistics moved by, and rations it.
 */
int
registry_discover(const Oid *dboids, const AlFloor *floors, int ndbs,
				  const AlVacuumSettings *s, TimestampTz now)
{
	dshash_seq_status hstat;
	PgStatShared_HashEntry *p;
	FoundTable *found;
	int			nfound = 0;
	int			maxfound = 1024;
	int			entered = 0;

	found = palloc(sizeof(FoundTable) * maxfound);
	dshash_seq_init(&hstat, pgStatLocal.shared_hash, false);
	while ((p = dshash_seq_next(&hstat)) != NULL)
	{
		Oid		   *match;
		PgStatShared_Relation *shrel;
		FoundTable *f;

		if (p->key.kind != PGSTAT_KIND_RELATION || p->dropped)
			continue;
		match = bsearch(&p->key.dboid, dboids, ndbs, sizeof(Oid), oid_cmp);
		if (match == NULL)
			continue;
		if (nfound == maxfound)
		{
			maxfound *= 2;
			found = repalloc(found, sizeof(FoundTable) * maxfound);
		}
		f = &found[nfound];
		f->dboid = p->key.dboid;
		f->relid = p->key.objoid;
		f->db_index = match - dboids;
		shrel = (PgStatShared_Relation *) dsa_get_address(pgStatLocal.dsa,
														  p->body);
		LWLockAcquire(&shrel->header.lock, LW_SHARED);
		f->counters.found = true;
		f->counters.changes = shrel->stats.tuples_inserted +
			shrel->stats.tuples_updated + shrel->stats.tuples_deleted;
		f->counters.n_live_tuples = shrel->stats.n_live_tuples;
		f->counters.n_dead_tuples = shrel->stats.n_dead_tuples;
		f->counters.inserts_since_vacuum = shrel->stats.inserts_since_vacuum;
		f->counters.changes_since_analyze = shrel->stats.changes_since_analyze;
		LWLockRelease(&shrel->header.lock);

		/*
		 * An entry no change ever touched cannot be due: an index, or a
		 * table nobody wrote to.  Leave it out, so that the registry holds
		 * tables that matter; a later change brings it in at the next
		 * discovery.
		 */
		if (f->counters.changes > 0 || f->counters.n_dead_tuples > 0 ||
			f->counters.inserts_since_vacuum > 0 ||
			f->counters.changes_since_analyze > 0)
			nfound++;
	}
	dshash_seq_term(&hstat);

	/* judge with the floor, with no lock of ours held */
	for (int i = 0; i < nfound; i++)
	{
		AlTableFacts facts;
		AlTableInfo none;
		AutoVacOpts unused;

		memset(&none, 0, sizeof(none));
		fill_facts(&facts, found[i].relid, false, &none, &found[i].counters,
				   0, 0, -1, -1, &unused);
		al_table_verdict(s, &floors[found[i].db_index], &facts, now,
						 &found[i].verdict);
	}

	for (int start = 0; start < nfound; start += APPLY_BATCH)
	{
		int			end = Min(nfound, start + APPLY_BATCH);

		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		for (int i = start; i < end; i++)
		{
			FoundTable *f = &found[i];
			AlTableDb  *db = table_db_locked(f->dboid, true);
			AlTableEntry *e;

			if (db == NULL || table_enter_locked(db, f->relid, false) != NULL)
				continue;
			e = table_enter_locked(db, f->relid, true);
			if (e == NULL)
				continue;
			e->changes_seen = f->counters.changes;
			if (f->verdict.due)
				make_due(db, e, &f->verdict);
			entered++;
		}
		LWLockRelease(AlShared->lock);
	}
	pfree(found);
	return entered;
}

/*
 * registry_forget_database_locked
 *		Forget a dropped database's tables, at most *budget of them (which
 *		it decrements); true once none is left.  Lock held exclusively.
 */
bool
registry_forget_database_locked(Oid dboid, int *budget)
{
	AlTableDb  *db = table_db_locked(dboid, false);

	if (db == NULL)
		return true;
	while (!dlist_is_empty(&db->tables) && *budget > 0)
	{
		/* cppcheck-suppress nullPointer ; offsetof in dlist_container */
		forget_locked(db, dlist_head_element(AlTableEntry, db_link,
											 &db->tables));
		(*budget)--;
	}
	if (!dlist_is_empty(&db->tables))
		return false;
	(void) hash_search(AlTableDbs, &dboid, HASH_REMOVE, NULL);
	return true;
}

/*
 * registry_release_holder_locked
 *		A worker's slot is being freed while it held a table: the table waits
 *		for its retry.  Lock held exclusively.
 */
void
registry_release_holder_locked(int slotno, uint64 generation, TimestampTz now)
{
	AlSlot	   *slot = &AlShared->slots[slotno];
	AlTableDb  *db;
	AlTableEntry *e;

	if (!OidIsValid(slot->relid))
		return;
	db = table_db_locked(slot->relshared ? InvalidOid : slot->dboid, false);
	if (db == NULL)
		return;
	e = table_enter_locked(db, slot->relid, false);
	if (e != NULL && e->state == AL_TABLE_RUNNING &&
		e->holder_slot == slotno && e->holder_generation == generation)
		give_back_locked(db, e, now);
}

/*
 * registry_queue
 *		Copy a database's queue counts, and the score of its most urgent due
 *		table; false if the registry has none of its tables.
 *
 * The score is kept as tables enter the queue, and found again by a scan
 * of the queue after the most urgent one leaves it, at the next claim or
 * walk, which hold the lock exclusively; until then it may be the score of
 * one that left, which only orders databases.  The launcher calls this for
 * every database at every pass, so it must not scan queues.
 */
bool
registry_queue(Oid dboid, AlTableDb *copy, double *best_score)
{
	bool		found;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	found = registry_queue_locked(dboid, copy, best_score);
	LWLockRelease(AlShared->lock);
	return found;
}

/* The same, for a caller that holds the lock, to read many at once. */
bool
registry_queue_locked(Oid dboid, AlTableDb *copy, double *best_score)
{
	AlTableDb  *db = table_db_locked(dboid, false);

	*best_score = 0;
	if (db != NULL)
	{
		*copy = *db;
		if (db->nqueue > 0)
			*best_score = db->best_score;
	}
	return db != NULL;
}

/*
 * registry_publish_scan
 *		A worker read a table's pg_class row: record it, and queue the table
 *		if it is due (input holds its current statistics).  False if the
 *		registry does not hold the table (it has no statistics, or the
 *		registry is full): the worker then keeps it itself.
 *
 * For autolauncher.request() (end_waits), a table waiting for its revisit
 * or retry time is judged at once: an administrator's request overrides
 * the schedule.
 */
bool
registry_publish_scan(Oid dboid, Oid relid, const AlTableInfo *info,
					  const AlTableInput *input, const AlVacuumSettings *s,
					  TimestampTz now, bool end_waits, AlInfoStamp stamp)
{
	AlTableDb  *db;
	AlTableEntry *e;
	AlTableFacts facts;
	AlTableVerdict v;
	AutoVacOpts opts;
	TableCounters c;
	TableCounters runs;
	AlFloor		known;			/* unused: the table is known */

	memset(&c, 0, sizeof(c));
	c.found = input->has_stats;
	c.n_live_tuples = input->n_live_tuples;
	c.n_dead_tuples = input->n_dead_tuples;
	c.inserts_since_vacuum = input->inserts_since_vacuum;
	c.changes_since_analyze = input->changes_since_analyze;
	read_table_counters(dboid, relid, &runs);
	al_floor_init(&known);

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	db = table_db_locked(dboid, true);
	e = (db != NULL && input->has_stats) ? table_enter_locked(db, relid, true)
		: NULL;
	if (e != NULL && e->marked_at > stamp.marks)
	{
		/* read before a command made it unknown: what was read is stale */
		LWLockRelease(AlShared->lock);
		return true;
	}
	if (e != NULL)
	{
		e->info = *info;
		e->info_epoch = stamp.epoch;
		e->runs_seen = runs.runs;
		if (end_waits)
		{
			/* an administrator's request overrides the schedule, for good */
			e->not_before = 0;
			e->retries = 0;
		}
		if (e->state == AL_TABLE_UNKNOWN ||
			(end_waits && e->state == AL_TABLE_WAITING))
			(void) tablestate_transition(db, e, AL_TABLE_IDLE);
		if (e->state == AL_TABLE_IDLE || e->state == AL_TABLE_DUE)
		{
			fill_facts(&facts, relid, true, info, &c,
					   end_waits ? 0 : e->not_before,
					   e->last_analyze, e->last_analyze_ms,
					   Max(e->last_vacuum_ms, e->last_analyze_ms), &opts);
			facts.retrying = (e->retries > 0);
			al_table_verdict(s, &known, &facts, now, &v);
			if (v.due)
				make_due(db, e, &v);
			else if (e->state == AL_TABLE_DUE)
				(void) tablestate_transition(db, e, AL_TABLE_IDLE);
		}
	}
	LWLockRelease(AlShared->lock);
	return e != NULL;
}

/*
 * The most urgent entry of a queue: anti-wraparound work first, then the
 * highest score; only fast tables if fast_only.  Lock held.
 */
static AlTableEntry *
queue_best_locked(AlTableDb *db, bool fast_only)
{
	AlTableEntry *best = NULL;
	dlist_iter	iter;

	dlist_foreach(iter, &db->queue)
	{
		/* cppcheck-suppress nullPointer ; offsetof in dlist_container */
		AlTableEntry *e = dlist_container(AlTableEntry, queue_link, iter.cur);

		if (fast_only && !(e->due_flags & AL_DUE_FAST))
			continue;
		if (best == NULL ||
			(e->due_flags & AL_DUE_WRAPAROUND) > (best->due_flags & AL_DUE_WRAPAROUND) ||
			((e->due_flags & AL_DUE_WRAPAROUND) == (best->due_flags & AL_DUE_WRAPAROUND) &&
			 e->score > best->score))
			best = e;
	}
	return best;
}

/*
 * registry_claim_next
 *		Take the most urgent due table of a database for a worker, or, if it
 *		has none, of the shared catalogs, which a worker in any database can
 *		process; only fast tables for the fast lane.  False if there is none.
 */
bool
registry_claim_next(Oid dboid, int slotno, uint64 generation, bool fast_only,
					AlClaim *claim)
{
	Oid			dbs[2] = {dboid, InvalidOid};
	AlTableEntry *best = NULL;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < 2 && best == NULL; i++)
	{
		AlTableDb  *db = table_db_locked(dbs[i], false);

		if (db == NULL || (i == 1 && dboid == InvalidOid))
			continue;
		best = queue_best_locked(db, fast_only);
		if (best != NULL && tablestate_transition(db, best, AL_TABLE_RUNNING))
		{
			queue_rescore_locked(db);
			best->holder_slot = slotno;
			best->holder_generation = generation;
			touch_locked(best);
			claim->dboid = dbs[i];
			claim->relid = best->key.relid;
			claim->due_flags = best->due_flags;
			claim->last_analyze = best->last_analyze;
			claim->last_analyze_ms = best->last_analyze_ms;
			claim->in_revisit = (best->retries == 0 &&
								 best->not_before > GetCurrentTimestamp());
		}
		else
			best = NULL;
	}
	LWLockRelease(AlShared->lock);
	return best != NULL;
}

/*
 * registry_release
 *		A worker is done with a table it claimed: record what it read and
 *		did, and let the table wait: its revisit time after a run or a
 *		re-check that found nothing to do, its retry time after a skip, a
 *		cancel or a failure (policy.c).
 */
void
registry_release(Oid dboid, Oid relid, int slotno, uint64 generation,
				 const AlRunReport *r, const AlVacuumSettings *s,
				 TimestampTz now)
{
	AlTableDb  *db;
	AlTableEntry *e;
	bool		trouble = r->cancelled || r->skipped || r->failed;
	TableCounters runs;

	/* our own runs counted: only later ones make its info stale */
	read_table_counters(dboid, relid, &runs);

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	db = table_db_locked(dboid, false);
	e = db ? table_enter_locked(db, relid, false) : NULL;
	if (e != NULL && e->state == AL_TABLE_RUNNING &&
		e->holder_slot == slotno && e->holder_generation == generation)
	{
		if (r->info_valid && e->marked_at <= r->stamp.marks)
		{
			e->info = r->info;
			e->info_epoch = r->stamp.epoch;
			e->runs_seen = runs.runs;
		}
		if (r->vacuumed)
		{
			e->last_vacuum = now;
			e->last_vacuum_ms = r->vacuum_ms;
			e->vacuum_count++;
		}
		if (r->analyzed)
		{
			e->last_analyze = now;
			e->last_analyze_ms = r->analyze_ms;
			e->analyze_count++;
		}
		if (trouble)
		{
			/* nor does one that failed: the later of the two times holds */
			TimestampTz retry;

			e->retries++;
			retry = TimestampTzPlusMilliseconds(now,
												al_retry_after_ms(s->naptime_s,
																  s->max_visit_interval_s,
																  e->retries));
			e->not_before = Max(e->not_before, retry);
		}
		else
		{
			/*
			 * An ANALYZE taken in the revisit time of an earlier vacuum
			 * (al_table_verdict) does not cut that revisit time short.
			 */
			TimestampTz revisit = TimestampTzPlusMilliseconds(now,
															  al_revisit_after_ms(r->vacuum_ms + r->analyze_ms));

			e->not_before = (e->retries == 0) ? Max(e->not_before, revisit)
				: revisit;
			e->retries = 0;
		}
		e->holder_slot = -1;
		(void) tablestate_transition(db, e, AL_TABLE_WAITING);
		note_wake_locked(db, e->not_before);
		touch_locked(e);
	}
	LWLockRelease(AlShared->lock);
}

/*
 * registry_lookup
 *		Copy a table's entry; false if the registry does not have it.
 */
bool
registry_lookup(Oid dboid, Oid relid, AlTableEntry *copy)
{
	AlTableKey	key;
	AlTableEntry *e;

	key.dboid = dboid;
	key.relid = relid;
	LWLockAcquire(AlShared->lock, LW_SHARED);
	e = hash_search(AlTables, &key, HASH_FIND, NULL);
	if (e != NULL)
		*copy = *e;
	LWLockRelease(AlShared->lock);
	return e != NULL;
}

/*
 * registry_mark_unknown
 *		A table's reloptions changed: what the registry knows of it no longer
 *		holds.  It is judged with its database's floor until a worker reads
 *		it again (at once, if it is running: its worker reads it after the
 *		run).
 */
void
registry_mark_unknown(Oid dboid, Oid relid)
{
	AlTableDb  *db;
	AlTableEntry *e;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	db = table_db_locked(dboid, false);
	e = db ? table_enter_locked(db, relid, false) : NULL;
	if (e != NULL)
	{
		memset(&e->info, 0, sizeof(AlTableInfo));
		e->marked_at = ++db->marks;
		if (e->state != AL_TABLE_RUNNING && e->state != AL_TABLE_UNKNOWN)
			(void) tablestate_transition(db, e, AL_TABLE_UNKNOWN);
	}
	LWLockRelease(AlShared->lock);
}

/*
 * registry_info_stamp
 *		Taken by a worker before it reads pg_class rows: what it reads is
 *		published with it, and is kept only if no command made the table
 *		unknown since (registry_mark_unknown), and holds only until the
 *		database's info epoch moves (registry_forget_database_info).  A
 *		scan reads under one snapshot for its whole length, so a command
 *		that commits meanwhile must not be overwritten by what it read.
 */
AlInfoStamp
registry_info_stamp(Oid dboid)
{
	AlInfoStamp stamp = {0, 0};
	AlTableDb  *db;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	db = table_db_locked(dboid, false);
	if (db != NULL)
	{
		stamp.epoch = db->info_epoch;
		stamp.marks = db->marks;
	}
	LWLockRelease(AlShared->lock);
	return stamp;
}

/*
 * registry_forget_database_info
 *		Some tables of a database were rewritten, or had their reltuples set,
 *		with no count of theirs moving, and which ones is not known (CLUSTER
 *		or VACUUM FULL of every table, REINDEX DATABASE): what the registry
 *		knows of them no longer holds.  Each is judged with the floor until a
 *		worker reads it again: its next walk sees that its info is of an
 *		older epoch.  Constant work under the lock, whatever the database.
 */
void
registry_forget_database_info(Oid dboid)
{
	AlTableDb  *db;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	db = table_db_locked(dboid, false);
	if (db != NULL)
		db->info_epoch++;
	LWLockRelease(AlShared->lock);
}

/*
 * registry_records
 *		What the state file keeps of every table, palloc'd.
 */
AlTableRecord *
registry_records(int *count)
{
	HASH_SEQ_STATUS seq;
	AlTableEntry *e;
	AlTableRecord *records;
	int			n = 0;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	records = palloc0(sizeof(AlTableRecord) *
					 Max(hash_get_num_entries(AlTables), 1));
	hash_seq_init(&seq, AlTables);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		AlTableRecord *r = &records[n++];

		r->key = e->key;
		r->info = e->info;
		r->last_vacuum = e->last_vacuum;
		r->last_analyze = e->last_analyze;
		r->last_vacuum_ms = e->last_vacuum_ms;
		r->last_analyze_ms = e->last_analyze_ms;
		r->vacuum_count = e->vacuum_count;
		r->analyze_count = e->analyze_count;
		r->runs_seen = e->runs_seen;
	}
	LWLockRelease(AlShared->lock);
	*count = n;
	return records;
}

/*
 * registry_restore
 *		Take back what a clean shutdown saved: each table is idle (or unknown),
 *		and the launcher's first walk judges it afresh.
 */
void
registry_restore(const AlTableRecord *records, int count)
{
	for (int start = 0; start < count; start += APPLY_BATCH)
	{
		int			end = Min(count, start + APPLY_BATCH);

		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
		for (int i = start; i < end; i++)
		{
			const AlTableRecord *r = &records[i];
			AlTableDb  *db = table_db_locked(r->key.dboid, true);
			AlTableEntry *e = db ? table_enter_locked(db, r->key.relid, true)
				: NULL;

			if (e == NULL)
				continue;
			e->info = r->info;
			e->info_epoch = db->info_epoch;
			e->last_vacuum = r->last_vacuum;
			e->last_analyze = r->last_analyze;
			e->last_vacuum_ms = r->last_vacuum_ms;
			e->last_analyze_ms = r->last_analyze_ms;
			e->vacuum_count = r->vacuum_count;
			e->analyze_count = r->analyze_count;
			e->runs_seen = r->runs_seen;
			if (e->state == AL_TABLE_UNKNOWN && r->info.relkind != '\0')
				(void) tablestate_transition(db, e, AL_TABLE_IDLE);
		}
		LWLockRelease(AlShared->lock);
	}
}

/*
 * registry_count
 *		How many tables the registry has.
 */
int
registry_count(void)
{
	int			n;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	n = (int) hash_get_num_entries(AlTables);
	LWLockRelease(AlShared->lock);
	return n;
}

const char *
tablestate_name(AlTableState state)
{
	switch (state)
	{
		case AL_TABLE_UNKNOWN:
			return "unknown";
		case AL_TABLE_IDLE:
			return "idle";
		case AL_TABLE_DUE:
			return "due";
		case AL_TABLE_RUNNING:
			return "running";
		case AL_TABLE_WAITING:
			return "waiting";
	}
	return "?";
}
