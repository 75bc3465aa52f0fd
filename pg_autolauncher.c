/*-------------------------------------------------------------------------
 *
 * pg_autolauncher.c
 *		Module initialization: GUCs, shared memory and the launcher's
 *		registration.
 *
 * pg_autolauncher reimplements PostgreSQL's autovacuum launcher/worker
 * split as an extension.  This file is only the glue the postmaster sees:
 *
 *	- _PG_init() defines the pg_autolauncher.* GUCs and registers one static
 *	  background worker, the launcher (src/launcher.c).  It does nothing
 *	  unless the library is in shared_preload_libraries; the SQL functions
 *	  (src/status.c) then report that with a hint.
 *	- The shmem_request_hook asks for the slot array, the per-database
 *	  hash and the table registry's two hashes, plus one named LWLock
 *	  tranche that protects them all.
 *	- The shmem_startup_hook creates them.  It runs again, with found=false,
 *	  after every crash-restart of the cluster, so a crash leaves every slot
 *	  FREE.
 *
 * The launcher writes requests into the slot array and registers dynamic
 * workers (src/worker.c); the slot protocol itself lives in src/slots.c.
 * _PG_init also installs the ProcessUtility hook of src/ddl.c, which keeps
 * workers out of the way of DROP DATABASE and its kin.
 *
 * IDENTIFICATION
 *	  pg_autolauncher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "src/pg_autolauncher.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* GUC variables */
bool		al_enabled = true;
int			al_worker_slots = 8;
int			al_max_workers = 3;
int			al_naptime = 60;
int			al_max_databases = 1024;
int			al_check_interval = 1000;
int			al_max_visit_interval = 600;
int			al_max_workers_per_database = 0;
int			al_max_tracked_tables = 100000;
int			al_fast_lane_workers = 1;
double		al_launcher_cpu_limit = 1.0;

/* Shared state, set up by al_shmem_startup() */
AlSharedState *AlShared = NULL;
HTAB	   *AlDatabases = NULL;
HTAB	   *AlTables = NULL;
HTAB	   *AlTableDbs = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void define_gucs(void);
static void add_worker_processes(void);
static void register_launcher(void);
static Size shared_state_size(void);
static void al_shmem_request(void);
static void al_shmem_startup(void);

void
_PG_init(void)
{
	/*
	 * The launcher and the slot array only exist when we are preloaded.
	 * Loaded any other way (CREATE EXTENSION, LOAD), the SQL functions stay
	 * callable and explain how to fix the configuration.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

	define_gucs();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = al_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = al_shmem_startup;

	al_install_utility_hook();
	add_worker_processes();
	register_launcher();
}

/* Where a setting's value came from (guc_tables.h has no function for it). */
static GucSource
setting_source(const char *name)
{
#if PG_VERSION_NUM >= 160000
	int			nvars;
	struct config_generic **vars = get_guc_variables(&nvars);
#else
	struct config_generic **vars = get_guc_variables();
	int			nvars = GetNumConfigOptions();
#endif

	for (int i = 0; i < nvars; i++)
		if (strcmp(vars[i]->name, name) == 0)
			return vars[i]->source;
	return PGC_S_DEFAULT;
}

/*
 * add_worker_processes
 *		Make room for our background workers in max_worker_processes.
 *
 * Core's autovacuum workers have a budget of their own
 * (autovacuum_max_workers); ours are background workers, which share
 * max_worker_processes with parallel queries, logical replication and
 * other extensions.  What we can ever use is the launcher and one process
 * per worker slot (a slot is reused only once the postmaster has freed its
 * last worker's process slot: al_reserve_slot, slots.c).
 *
 * So, before the postmaster sizes its process arrays
 * (PostmasterMain() calls InitializeMaxBackends() after loading the
 * preloaded libraries, so that they can), we add that on top of the value
 * configured, and what was configured stays whole for everyone else:
 *
 *	- left at its default, silently but for a LOG line;
 *	- set by the DBA high enough for ours beside max_parallel_workers, not
 *	  at all: the DBA counted us in;
 *	- set lower than that, with a WARNING that says what to set.  Until the
 *	  DBA does, every reload logs that the file's value needs a restart,
 *	  since it differs from the one in force; refusing to start instead
 *	  would turn an upgrade into an outage.
 */
static void
add_worker_processes(void)
{
	int			ours = 1 + al_worker_slots;
	bool		configured = (setting_source("max_worker_processes") != PGC_S_DEFAULT);
	int			raised = max_worker_processes + ours;
	char		value[32];

	if (configured && max_worker_processes >= ours + max_parallel_workers)
		return;
	snprintf(value, sizeof(value), "%d", raised);
	if (configured)
		ereport(WARNING,
				(errmsg("max_worker_processes (%d) is too low for pg_autolauncher: raised to %d",
						max_worker_processes, raised),
				 errdetail("pg_autolauncher uses up to %d background worker processes, its launcher and pg_autolauncher.worker_slots (%d), and max_parallel_workers (%d) must remain beside them.",
						   ours, al_worker_slots, max_parallel_workers),
				 errhint("Set max_worker_processes to %d, or to at least %d, in the configuration.",
						 raised, ours + max_parallel_workers)));
	else
		ereport(LOG,
				(errmsg("pg_autolauncher adds %d to max_worker_processes, for its launcher and %d worker slots: it is %d",
						ours, al_worker_slots, raised)));
	SetConfigOption("max_worker_processes", value, PGC_POSTMASTER,
					PGC_S_OVERRIDE);
}

static void
define_gucs(void)
{
	DefineCustomBoolVariable("pg_autolauncher.enabled",
							 "Allows the launcher to dispatch workers.",
							 "When off, running workers finish their database "
							 "but no new worker is started.",
							 &al_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.worker_slots",
							"Number of worker slots in shared memory.",
							"This is the hard upper bound on concurrent workers.",
							&al_worker_slots,
							8, 1, 256,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.max_workers",
							"Maximum number of workers the launcher runs at once.",
							"Values above pg_autolauncher.worker_slots are capped "
							"at worker_slots.",
							&al_max_workers,
							3, 1, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.naptime",
							"Time before the launcher retries work that a visit left undone.",
							"A database is revisited at once when new tables cross "
							"their thresholds; tables left over by the last visit "
							"wait this long.",
							&al_naptime,
							60, 1, INT_MAX / 1000,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.max_databases",
							"Number of databases whose history shared memory can hold.",
							"Databases beyond this get no worker, except to prevent "
							"wraparound, and the launcher logs a warning.",
							&al_max_databases,
							1024, 16, 65536,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.check_interval",
							"Time between two passes of the launcher over the statistics.",
							"Each pass estimates every database's work from "
							"pgstats and dispatches workers where it finds some.",
							&al_check_interval,
							1000, 100, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.max_visit_interval",
							"Longest time a database goes without a visit, even with no work estimated.",
							"A safety net for work the statistics cannot show.",
							&al_max_visit_interval,
							600, 1, INT_MAX / 1000,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.max_workers_per_database",
							"Maximum number of workers in one database at once.",
							"0 means no limit other than max_workers.",
							&al_max_workers_per_database,
							0, 0, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.max_tracked_tables",
							"Number of tables whose schedule shared memory can hold.",
							"Tables beyond this are found only by a worker's scan of "
							"their database, at least every max_visit_interval.",
							&al_max_tracked_tables,
							100000, 100, 10000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_autolauncher.fast_lane_workers",
							"Number of extra workers for small tables while every regular worker is busy.",
							"They take only tables under 1024 pages or whose last "
							"run took under a second. 0 disables the fast lane.",
							&al_fast_lane_workers,
							1, 0, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomRealVariable("pg_autolauncher.launcher_cpu_limit",
							 "Percentage of one CPU core the launcher may use.",
							 "After a pass that took c seconds of CPU, the launcher "
							 "waits at least c * (100 / limit - 1) seconds.",
							 &al_launcher_cpu_limit,
							 1.0, 0.01, 100.0,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("pg_autolauncher");
}

/*
 * The launcher: not connected to any database, started once recovery has
 * finished (so never on a standby), restarted a few seconds after an error.
 */
static void
register_launcher(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = AL_LAUNCHER_RESTART_SECONDS;
	strlcpy(worker.bgw_library_name, AL_LIBRARY_NAME, BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "pg_autolauncher_launcher_main",
			BGW_MAXLEN);
	strlcpy(worker.bgw_name, AL_LAUNCHER_TYPE, BGW_MAXLEN);
	strlcpy(worker.bgw_type, AL_LAUNCHER_TYPE, BGW_MAXLEN);
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;

	RegisterBackgroundWorker(&worker);
}

static Size
shared_state_size(void)
{
	return add_size(offsetof(AlSharedState, slots),
					mul_size(al_worker_slots, sizeof(AlSlot)));
}

static void
al_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(shared_state_size());
	RequestAddinShmemSpace(hash_estimate_size(al_max_databases,
											  sizeof(AlDatabaseEntry)));
	RequestAddinShmemSpace(hash_estimate_size(al_max_tracked_tables,
											  sizeof(AlTableEntry)));
	RequestAddinShmemSpace(hash_estimate_size(al_max_databases,
											  sizeof(AlTableDb)));
	RequestNamedLWLockTranche(AL_LIBRARY_NAME, 1);
}

static void
al_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	AlShared = ShmemInitStruct("pg_autolauncher state", shared_state_size(),
							   &found);
	if (!found)
	{
		memset(AlShared, 0, shared_state_size());
		AlShared->lock = &(GetNamedLWLockTranche(AL_LIBRARY_NAME))->lock;
		AlShared->launcher_state = AL_LAUNCHER_STOPPED;
		AlShared->nslots = al_worker_slots;
		dlist_init(&AlShared->table_lru);
		/* memset already made every slot AL_SLOT_FREE */
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(AlDatabaseEntry);
	AlDatabases = ShmemInitHash("pg_autolauncher databases",
								al_max_databases, al_max_databases,
								&info, HASH_ELEM | HASH_BLOBS);

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(AlTableKey);
	info.entrysize = sizeof(AlTableEntry);
	AlTables = ShmemInitHash("pg_autolauncher tables",
							 al_max_tracked_tables, al_max_tracked_tables,
							 &info, HASH_ELEM | HASH_BLOBS);

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(AlTableDb);
	AlTableDbs = ShmemInitHash("pg_autolauncher table databases",
							   al_max_databases, al_max_databases,
							   &info, HASH_ELEM | HASH_BLOBS);

	LWLockRelease(AddinShmemInitLock);
}

/*
 * al_require_shared_state
 *		ERROR out, with the fix in the hint, unless we were preloaded.
 */
void
al_require_shared_state(void)
{
	if (AlShared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_autolauncher must be loaded via shared_preload_libraries"),
				 errhint("Add pg_autolauncher to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * al_effective_max_workers
 *		pg_autolauncher.max_workers, capped at the number of slots.
 */
int
al_effective_max_workers(void)
{
	return Min(al_max_workers, al_worker_slots);
}
