/*-------------------------------------------------------------------------
 *
 * statefile.c
 *		What pg_autolauncher knows, kept across clean restarts.
 *
 * The launcher saves, as it exits, what the workers have learnt: each
 * database's floor and freeze deadline, and each table's pg_class facts
 * and run history (the registry), to pg_stat/pg_autolauncher.state, as
 * core saves its statistics at shutdown.  The first launcher after the
 * server starts reads it back and deletes it, so that an idle cluster needs
 * no visit to learn again what it knew.
 *
 * After a crash, core discards its statistics: they were not saved, and its
 * fixed statistics are reset at recovery, after the server started.  The
 * launcher then discards this file too, and starts from databases it knows
 * nothing of, with the lowest floor reloptions allow: nothing is missed.
 *
 * This file does only the I/O: what is saved and restored is read and
 * written by databases.c and registry.c, the owners of those structures.
 * The format is native and versioned; a file of another version, or a
 * short one, is ignored with a LOG line.
 *
 * IDENTIFICATION
 *	  src/statefile.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"

#define STATE_FILE		PGSTAT_STAT_PERMANENT_DIRECTORY "/pg_autolauncher.state"
#define STATE_TMPFILE	PGSTAT_STAT_PERMANENT_DIRECTORY "/pg_autolauncher.state.tmp"
#define STATE_MAGIC		0x414c5354	/* "ALST" */
#define STATE_VERSION	1

typedef struct StateHeader
{
	uint32		magic;
	uint32		version;
	uint32		db_record_size;
	uint32		table_record_size;
	int32		ndbs;
	int32		ntables;
} StateHeader;

/*
 * Did the server start clean, with core's statistics restored?  After a
 * crash, or with no statistics file, core resets its fixed statistics as it
 * starts, so their reset time is after the postmaster's start.
 */
static bool
started_clean(void)
{
	PgStat_BgWriterStats *bgwriter = pgstat_fetch_stat_bgwriter();

	return bgwriter->stat_reset_timestamp < PgStartTime;
}

/*
 * statefile_load
 *		Once per server start: read the state file, if the server started
 *		clean, and delete it either way.
 */
void
statefile_load(void)
{
	FILE	   *file;
	StateHeader header;
	AlDbRecord *dbs = NULL;
	AlTableRecord *tables = NULL;
	bool		loaded;

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	loaded = AlShared->knowledge_loaded;
	AlShared->knowledge_loaded = true;
	LWLockRelease(AlShared->lock);
	if (loaded)
		return;

	file = AllocateFile(STATE_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not open pg_autolauncher state file \"%s\": %m",
							STATE_FILE)));
		return;
	}

	if (!started_clean())
		ereport(LOG,
				(errmsg("pg_autolauncher discarded its state file: the server did not shut down cleanly")));
	else if (fread(&header, sizeof(header), 1, file) != 1 ||
			 header.magic != STATE_MAGIC || header.version != STATE_VERSION ||
			 header.db_record_size != sizeof(AlDbRecord) ||
			 header.table_record_size != sizeof(AlTableRecord) ||
			 header.ndbs < 0 || header.ntables < 0)
		ereport(LOG,
				(errmsg("pg_autolauncher ignored its state file \"%s\": not of this version",
						STATE_FILE)));
	else
	{
		dbs = palloc(sizeof(AlDbRecord) * Max(header.ndbs, 1));
		tables = palloc(sizeof(AlTableRecord) * Max(header.ntables, 1));
		if (fread(dbs, sizeof(AlDbRecord), header.ndbs, file) != (size_t) header.ndbs ||
			fread(tables, sizeof(AlTableRecord), header.ntables, file) != (size_t) header.ntables)
			ereport(LOG,
					(errmsg("pg_autolauncher ignored its state file \"%s\": it is truncated",
							STATE_FILE)));
		else
		{
			dbstate_restore(dbs, header.ndbs);
			registry_restore(tables, header.ntables);
			ereport(LOG,
					(errmsg("pg_autolauncher restored what it knew of %d databases and %d tables",
							header.ndbs, header.ntables)));
		}
	}
	FreeFile(file);
	unlink(STATE_FILE);
	if (dbs)
		pfree(dbs);
	if (tables)
		pfree(tables);
}

/*
 * statefile_save
 *		Write what is known to the state file: a temporary file, then a
 *		durable rename.  Failures are logged, never raised: this runs as the
 *		launcher exits.
 */
void
statefile_save(void)
{
	StateHeader header;
	AlDbRecord *dbs;
	AlTableRecord *tables;
	int			ndbs;
	int			ntables;
	FILE	   *file;
	bool		ok;

	dbs = dbstate_records(&ndbs);
	tables = registry_records(&ntables);

	memset(&header, 0, sizeof(header));
	header.magic = STATE_MAGIC;
	header.version = STATE_VERSION;
	header.db_record_size = sizeof(AlDbRecord);
	header.table_record_size = sizeof(AlTableRecord);
	header.ndbs = ndbs;
	header.ntables = ntables;

	file = AllocateFile(STATE_TMPFILE, PG_BINARY_W);
	if (file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open pg_autolauncher state file \"%s\": %m",
						STATE_TMPFILE)));
		return;
	}
	ok = fwrite(&header, sizeof(header), 1, file) == 1 &&
		fwrite(dbs, sizeof(AlDbRecord), ndbs, file) == (size_t) ndbs &&
		fwrite(tables, sizeof(AlTableRecord), ntables, file) == (size_t) ntables;
	if (FreeFile(file) != 0)
		ok = false;
	if (!ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write pg_autolauncher state file \"%s\": %m",
						STATE_TMPFILE)));
		unlink(STATE_TMPFILE);
		return;
	}
	(void) durable_rename(STATE_TMPFILE, STATE_FILE, LOG);
}
