/*-------------------------------------------------------------------------
 *
 * databases.c
 *		Per-database entries: lifecycle, dispatch history and knowledge.
 *
 * This file is the only writer of AlDatabases, the shared hash of
 * AlDatabaseEntry keyed by database OID.  An entry records:
 *
 *	- the database's lifecycle state (AlDbState, pg_autolauncher.h), changed
 *	  only by dbstate_transition();
 *	- its dispatch history: dispatches, failures and the failure backoff;
 *	- what the last scan of its pg_class taught: its floor (the lowest
 *	  threshold reloptions of its tables) and its freeze deadline (the
 *	  earliest age at which a table with its own autovacuum_freeze_max_age
 *	  needs an anti-wraparound vacuum);
 *	- the launcher's last verdict, for autolauncher.databases.
 *
 * The launcher creates and drops entries as databases come and go
 * (dbstate_sync); workers publish scans and datfrozenxid; slots.c reports
 * dispatches and workers' ends; the ProcessUtility hook lowers a floor when
 * reloptions change and copies a template's knowledge into a new database.
 * The rules that use all this are in policy.c and docs/scheduling.md.
 *
 * IDENTIFICATION
 *	  src/databases.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"
#include "policy.h"

/* Which lifecycle transitions are allowed: [from][to]. */
static const bool db_transitions[3][3] = {
	/* to:		  NEW	 KNOWN	DROPPED */
	/* NEW */ {false, true, true},
	/* KNOWN */ {true, true, true},
	/* DROPPED */ {false, false, false},
};

/*
 * dbstate_transition
 *		The one place a database's lifecycle state changes.  Caller holds the
 *		lock exclusively.
 */
static void
dbstate_transition(AlDatabaseEntry *entry, AlDbState to)
{
	if (!db_transitions[entry->state][to])
	{
		elog(LOG, "pg_autolauncher: database %u cannot go from %s to %s",
			 entry->dboid, dbstate_state_name(entry->state),
			 dbstate_state_name(to));
		return;
	}
	entry->state = to;
	if (to == AL_DB_NEW)
	{
		/* its knowledge is gone: the lowest floor, the earliest deadline */
		al_floor_init(&entry->floor);
		entry->freeze_deadline = InvalidTransactionId;
		entry->mxid_deadline = InvalidMultiXactId;
	}
}

/*
 * dbstate_entry_locked
 *		Find, or with create=true make (as NEW), a database's entry.
 *
 * The caller holds the lock, exclusively if create is true.  Returns NULL
 * if the entry does not exist and cannot be created because
 * pg_autolauncher.max_databases entries are in use.
 */
AlDatabaseEntry *
dbstate_entry_locked(Oid dboid, bool create)
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
		entry->state = AL_DB_NEW;
		al_floor_init(&entry->floor);
		entry->first_seen_at = GetCurrentTimestamp();
	}
	return entry;
}

/*
 * dbstate_copy, dbstate_copy_locked
 *		Copy a database's entry; false if it has none.  The second is for a
 *		caller that holds the lock, to read many at once.
 */
bool
dbstate_copy_locked(Oid dboid, AlDatabaseEntry *copy)
{
	AlDatabaseEntry *entry = dbstate_entry_locked(dboid, false);

	if (entry != NULL)
		*copy = *entry;
	return entry != NULL;
}

bool
dbstate_copy(Oid dboid, AlDatabaseEntry *copy)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	entry = dbstate_entry_locked(dboid, false);
	if (entry != NULL)
		*copy = *entry;
	LWLockRelease(AlShared->lock);
	return entry != NULL;
}

/*
 * dbstate_sync
 *		Make the entries match pg_database: dboids, sorted, are the databases
 *		that exist.
 *
 * Every database gets an entry (NEW); every entry whose database is gone
 * becomes DROPPED and is forgotten, with its tables, at most *budget table
 * entries per call, so that the time under the lock stays bounded; the rest
 * go at the next call.  Returns true if some database could not get an
 * entry (pg_autolauncher.max_databases is too small).
 */
bool
dbstate_sync(const Oid *dboids, int ndbs, TimestampTz now, int *budget)
{
	HASH_SEQ_STATUS seq;
	AlDatabaseEntry *entry;
	bool		full = false;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ndbs; i++)
		if (dbstate_entry_locked(dboids[i], true) == NULL)
			full = true;

	hash_seq_init(&seq, AlDatabases);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		Oid			dboid = entry->dboid;

		if (bsearch(&dboid, dboids, ndbs, sizeof(Oid), oid_cmp) != NULL)
			continue;
		if (entry->state != AL_DB_DROPPED)
			dbstate_transition(entry, AL_DB_DROPPED);
		if (!registry_forget_database_locked(dboid, budget))
		{
			/* the rest at the next call */
			hash_seq_term(&seq);
			break;
		}
		(void) hash_search(AlDatabases, &dboid, HASH_REMOVE, NULL);
	}
	LWLockRelease(AlShared->lock);
	(void) now;
	return full;
}

/*
 * dbstate_note_dispatch_locked
 *		A worker was sent to the database.  Caller holds the lock
 *		exclusively.
 */
void
dbstate_note_dispatch_locked(Oid dboid, TimestampTz now)
{
	AlDatabaseEntry *entry = dbstate_entry_locked(dboid, true);

	if (entry == NULL)
		return;
	entry->last_dispatch_at = now;
	entry->dispatch_count++;
}

/*
 * dbstate_note_worker_end_locked
 *		A worker there ended: how is AL_WORKER_FINISHED, _FAILED or
 *		_DDL_TERMINATED.  A failure starts or extends the database's backoff;
 *		a success ends it; a worker that a DDL command ended did not fail, and
 *		changes neither.  Caller holds the lock exclusively.
 */
void
dbstate_note_worker_end_locked(Oid dboid, int how, TimestampTz now)
{
	AlDatabaseEntry *entry = dbstate_entry_locked(dboid, false);

	if (entry == NULL)
		return;
	entry->last_finished_at = now;
	if (how == AL_WORKER_FINISHED)
	{
		entry->consecutive_failures = 0;
		entry->backoff_until = 0;
	}
	else if (how == AL_WORKER_FAILED)
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
 * dbstate_publish_scan
 *		A worker scanned the database's pg_class: record its floor and freeze
 *		deadlines, and that it changed no more than changes since.
 */
void
dbstate_publish_scan(Oid dboid, const AlFloor *floor,
					 TransactionId freeze_deadline, MultiXactId mxid_deadline,
					 int64 changes, TimestampTz now)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	entry = dbstate_entry_locked(dboid, true);
	if (entry != NULL && entry->state != AL_DB_DROPPED)
	{
		dbstate_transition(entry, AL_DB_KNOWN);
		entry->floor = *floor;
		entry->freeze_deadline = freeze_deadline;
		entry->mxid_deadline = mxid_deadline;
		entry->last_scan_at = now;
		entry->scan_count++;
		entry->changes_at_scan = changes;
	}
	LWLockRelease(AlShared->lock);
}

/*
 * dbstate_publish_frozenxid
 *		A worker updated, and read, the database's datfrozenxid and
 *		datminmxid: the launcher reads pg_database only now and then.
 */
void
dbstate_publish_frozenxid(Oid dboid, TransactionId datfrozenxid,
						  MultiXactId datminmxid)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	entry = dbstate_entry_locked(dboid, false);
	if (entry != NULL)
	{
		entry->datfrozenxid = datfrozenxid;
		entry->datminmxid = datminmxid;
	}
	LWLockRelease(AlShared->lock);
}

/*
 * dbstate_request_walk
 *		A VACUUM, ANALYZE, CLUSTER or TRUNCATE committed in the database
 *		(ProcessUtility hook): its tables' reltuples, and their thresholds,
 *		may have moved without any new change for the launcher to notice.
 *		Called at commit, so it must not fail.
 */
void
dbstate_request_walk(Oid dboid)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	entry = dbstate_entry_locked(dboid, false);
	if (entry != NULL)
		entry->walk_requests++;
	LWLockRelease(AlShared->lock);
	al_bump_walk_generation();
}

/*
 * dbstate_lower_floor
 *		A table's autovacuum reloptions changed (ProcessUtility hook): until
 *		the next scan, assume the lowest they allow, thresholds and freeze
 *		deadline alike.
 */
void
dbstate_lower_floor(Oid dboid)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	entry = dbstate_entry_locked(dboid, false);
	if (entry != NULL && entry->state == AL_DB_KNOWN)
		dbstate_transition(entry, AL_DB_NEW);
	LWLockRelease(AlShared->lock);
}

/*
 * dbstate_inherit
 *		A database was created from a template: its tables are the
 *		template's, and so is what is known of them.
 */
void
dbstate_inherit(Oid dboid, Oid template_dboid)
{
	AlDatabaseEntry *template;
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	template = dbstate_entry_locked(template_dboid, false);
	if (template != NULL && template->state == AL_DB_KNOWN)
	{
		AlDatabaseEntry copy = *template;

		entry = dbstate_entry_locked(dboid, true);
		if (entry != NULL && entry->state == AL_DB_NEW)
		{
			dbstate_transition(entry, AL_DB_KNOWN);
			entry->floor = copy.floor;
			entry->freeze_deadline = copy.freeze_deadline;
			entry->mxid_deadline = copy.mxid_deadline;
			entry->last_scan_at = copy.last_scan_at;
		}
	}
	LWLockRelease(AlShared->lock);
}

/*
 * dbstate_publish_verdict
 *		Record the launcher's last verdict, for autolauncher.databases.
 */
void
dbstate_publish_verdict(Oid dboid, AlReason reason, int count, int due_tables,
						TimestampTz next_check_at)
{
	AlDatabaseEntry *entry;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	entry = dbstate_entry_locked(dboid, false);
	if (entry != NULL)
	{
		entry->reason = reason;
		entry->reason_count = count;
		entry->due_tables = due_tables;
		entry->next_check_at = next_check_at;
	}
	LWLockRelease(AlShared->lock);
}

/*
 * dbstate_records
 *		What the state file keeps of each database that exists, palloc'd.
 */
AlDbRecord *
dbstate_records(int *count)
{
	HASH_SEQ_STATUS seq;
	AlDatabaseEntry *entry;
	AlDbRecord *records;
	int			n = 0;

	LWLockAcquire(AlShared->lock, LW_SHARED);
	records = palloc0(sizeof(AlDbRecord) *
					 Max(hash_get_num_entries(AlDatabases), 1));
	hash_seq_init(&seq, AlDatabases);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		AlDbRecord *r;

		if (entry->state == AL_DB_DROPPED)
			continue;
		r = &records[n++];
		r->dboid = entry->dboid;
		r->state = entry->state;
		r->floor = entry->floor;
		r->freeze_deadline = entry->freeze_deadline;
		r->mxid_deadline = entry->mxid_deadline;
		r->last_scan_at = entry->last_scan_at;
		r->changes_at_scan = entry->changes_at_scan;
		r->datfrozenxid = entry->datfrozenxid;
	}
	LWLockRelease(AlShared->lock);
	*count = n;
	return records;
}

/*
 * dbstate_restore
 *		Take back what a clean shutdown saved; the launcher drops what no
 *		longer exists at its first read of pg_database.
 */
void
dbstate_restore(const AlDbRecord *records, int count)
{
	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < count; i++)
	{
		const AlDbRecord *r = &records[i];
		AlDatabaseEntry *entry = dbstate_entry_locked(r->dboid, true);

		if (entry == NULL)
			break;
		if (r->state == AL_DB_KNOWN)
			dbstate_transition(entry, AL_DB_KNOWN);
		entry->floor = r->floor;
		entry->freeze_deadline = r->freeze_deadline;
		entry->mxid_deadline = r->mxid_deadline;
		entry->last_scan_at = r->last_scan_at;
		entry->changes_at_scan = r->changes_at_scan;
		entry->datfrozenxid = r->datfrozenxid;
	}
	LWLockRelease(AlShared->lock);
}

const char *
dbstate_state_name(AlDbState state)
{
	switch (state)
	{
		case AL_DB_NEW:
			return "new";
		case AL_DB_KNOWN:
			return "known";
		case AL_DB_DROPPED:
			return "dropped";
	}
	return "unknown";
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
		case AL_REASON_FREEZE_DEADLINE:
			return "due: a table's freeze deadline passed";
		case AL_REASON_WRAPAROUND_WAIT:
			return "in wraparound danger, scanned less than 10 seconds ago";
		case AL_REASON_DUE_TABLES:
			return "due: %d tables over threshold";
		case AL_REASON_NO_FREE_WORKER:
			return "%d tables over threshold, waiting for a free worker";
		case AL_REASON_WORKING:
			return "%d workers at work there";
		case AL_REASON_SAFETY_SCAN:
			return "due: safety scan, changed and not scanned for max_visit_interval";
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
	}
	return "unknown";
}
