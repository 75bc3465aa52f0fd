/*-------------------------------------------------------------------------
 *
 * pg_autolauncher.h
 *		Declarations shared by every part of pg_autolauncher.
 *
 * This header defines the shared-memory state and the entry points each
 * module offers to the others.  Each shared structure has one file that
 * writes it:
 *
 *	pg_autolauncher.c	module init, GUCs, shared memory allocation
 *	src/slots.c			the slot array (slot lifecycle, cost balancing) and
 *						the launcher's own counters
 *	src/databases.c		per-database entries (AlDatabases)
 *	src/registry.c		the table registry (AlTables, AlTableDbs): per-table
 *						lifecycle and each database's queue of due tables
 *	src/blocks.c		DDL blocks (AlShared->blocks)
 *	src/statefile.c		what is known, saved across clean restarts
 *
 * and the processes and surfaces that use them:
 *
 *	src/launcher.c		the launcher background worker
 *	src/worker.c		the per-database worker background worker
 *	src/policy.c		every scheduling decision (pure functions)
 *	src/tables.c		reading a database's pg_class, for worker and view
 *	src/status.c		SQL-callable status and admin functions
 *	src/ddl.c			ProcessUtility hook
 *	src/runstats.c		a worker's run in the cumulative statistics: its
 *						table lock, and its counts moved to the automatic
 *						columns
 *	src/runlog.c		a worker's runs logged in core's autovacuum format
 *	src/testing.c		fault injection and policy unit tests (test builds)
 *
 * One LWLock, AlShared->lock, protects all of the shared state; every
 * function that takes it holds it only to read or write a few entries.
 * The design is in docs/scheduling.md and docs/design.md.
 *
 * IDENTIFICATION
 *	  src/pg_autolauncher.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_AUTOLAUNCHER_H
#define PG_AUTOLAUNCHER_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "catalog/pg_class.h"
#include "datatype/timestamp.h"
#include "lib/ilist.h"
#include "postmaster/bgworker.h"
#include "commands/vacuum.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"
#include "utils/pg_rusage.h"

#include "policy.h"

#define AL_LIBRARY_NAME		"pg_autolauncher"
#define AL_LAUNCHER_TYPE	"pg_autolauncher launcher"
#define AL_WORKER_TYPE		"pg_autolauncher worker"

/* Seconds the postmaster waits before restarting a launcher that errored. */
#define AL_LAUNCHER_RESTART_SECONDS	5

/*
 * How long a slot may stay REQUESTED before the launcher gives up on it.
 * A slot with no stored handle after AL_HANDLE_TIMEOUT_MS was reserved by a
 * process that died before it could register the worker; a worker that was
 * registered but never started after AL_START_TIMEOUT_MS is terminated (the
 * equivalent of core's "autovacuum worker took too long to start").
 */
#define AL_HANDLE_TIMEOUT_MS	10000
#define AL_START_TIMEOUT_MS		60000

/*
 * Slot lifecycle.
 *
 *	 FREE ----------> REQUESTED -----------> RUNNING ----------> FREE
 *		 launcher or		  worker connected,		  worker exits
 *		 request() wrote	  claimed the slot		  (any way but a crash)
 *		 the database OID	  (pid set)				  and frees it itself
 *
 *	 REQUESTED ---> FREE  when registration fails (the registering process
 *						  frees it), or when the worker stopped before it
 *						  claimed the slot (could not connect, database
 *						  dropped): the launcher sees that through the stored
 *						  handle and frees it.
 *
 * A crash of any process attached to shared memory makes the postmaster
 * reinitialize shared memory, which resets every slot to FREE.  Each time a
 * slot leaves FREE its generation is bumped; every later transition checks
 * the generation so that a late worker can never claim a slot that was
 * reclaimed and handed to somebody else meanwhile.
 */
typedef enum AlSlotState
{
	AL_SLOT_FREE = 0,
	AL_SLOT_REQUESTED,
	AL_SLOT_RUNNING
} AlSlotState;

/* What a worker is doing to its current table. */
typedef enum AlAction
{
	AL_ACTION_NONE = 0,
	AL_ACTION_VACUUM,
	AL_ACTION_ANALYZE,
	AL_ACTION_VACUUM_ANALYZE
} AlAction;

/*
 * BackgroundWorkerHandle is opaque in bgworker.h, but its layout has been
 * {int slot; uint64 generation;} since it was introduced (bgworker.c).  We
 * keep a copy by value in shared memory so that any process, in particular a
 * launcher restarted after an error, can poll the worker with
 * GetBackgroundWorkerPid().  pg_cron relies on the same layout.
 */
typedef struct AlWorkerHandle
{
	int			slot;
	uint64		generation;
} AlWorkerHandle;

/* What a worker receives in bgw_extra. */
typedef struct AlWorkerArgs
{
	uint64		generation;
	Oid			dboid;
} AlWorkerArgs;

typedef struct AlSlot
{
	AlSlotState state;
	uint64		generation;		/* bumped every time the slot is reserved */
	Oid			dboid;			/* database this slot serves */
	AlVisitKind kind;			/* why it was sent: queue, fast lane, scan */
	bool		manual;			/* reserved by autolauncher.request() */
	pid_t		pid;			/* worker pid once RUNNING, else 0 */
	Latch	   *latch;			/* its latch once RUNNING: work came */
	bool		idle;			/* it waits for its database's queue */
	bool		yield_requested;	/* another database needs the slot */
	bool		handle_valid;	/* handle below has been stored */
	AlWorkerHandle handle;
	/*
	 * FREE: the last worker's handle, until the postmaster has freed its
	 * process slot; the slot is not reused before (al_reserve_slot).
	 */
	bool		last_handle_valid;
	AlWorkerHandle last_handle;
	TimestampTz requested_at;
	TimestampTz started_at;

	/* current table, set while the worker holds it */
	Oid			relid;
	bool		relshared;
	NameData	relname;
	AlAction	action;
	bool		wraparound;

	/*
	 * Cost balancing, as in core's WorkerInfoData, from the worker's first
	 * table to its exit (cost_active): its settings for the kind of table it
	 * processes, balanced or with its own cost reloptions.  cost_limit is
	 * the share the balancer allows it; cost_limit_applied is the share the
	 * worker has taken, written by the worker itself, also from its SIGUSR2
	 * handler (al_cost_take_allowed), hence volatile.  See the "Cost
	 * balancing" section of slots.c.
	 */
	bool		cost_active;
	bool		cost_dobalance;
	double		cost_delay;
	int			cost_limit_base;
	int			cost_limit;
	volatile int cost_limit_applied;

	int64		tables_done;
	bool		ddl_terminated; /* a DDL command asked it to exit */
} AlSlot;

/* Where the launcher raises an injected error. */
typedef enum AlInjectLauncher
{
	AL_INJECT_NONE = 0,
	AL_INJECT_LAUNCHER_LOOP,	/* at the top of its next loop */
	AL_INJECT_LAUNCHER_DISPATCH /* after reserving a slot, before registering */
} AlInjectLauncher;

/* al_reserve_slot() results besides a slot number */
#define AL_RESERVE_NO_SLOT		(-1)
#define AL_RESERVE_BLOCKED		(-2)
#define AL_RESERVE_EXITING		(-3)	/* free slots' workers still exiting */

/* Launcher states shown by autolauncher.status. */
typedef enum AlLauncherState
{
	AL_LAUNCHER_STOPPED = 0,	/* no launcher process */
	AL_LAUNCHER_IDLE,			/* enabled, no worker active */
	AL_LAUNCHER_RUNNING,		/* enabled, workers active */
	AL_LAUNCHER_DISABLED,		/* pg_autolauncher.enabled = off */
	AL_LAUNCHER_YIELDING		/* core autovacuum = on: we stay out of its way */
} AlLauncherState;

/*
 * Why the launcher did or did not send a worker to a database at its last
 * pass; shown, with AlDatabaseEntry.reason_count, as the "reason" column of
 * autolauncher.databases.
 */
typedef enum AlReason
{
	AL_REASON_NONE = 0,			/* not looked at yet */
	AL_REASON_XID_WRAPAROUND,	/* due: datfrozenxid too old */
	AL_REASON_MULTI_WRAPAROUND, /* due: datminmxid too old */
	AL_REASON_FREEZE_DEADLINE,	/* due: a table's freeze deadline passed */
	AL_REASON_WRAPAROUND_WAIT,	/* in danger, scanned less than 10s ago */
	AL_REASON_DUE_TABLES,		/* due: count tables over threshold */
	AL_REASON_NO_FREE_WORKER,	/* count tables due, no worker free */
	AL_REASON_WORKING,			/* count workers take care of it */
	AL_REASON_SAFETY_SCAN,		/* due: changed, not scanned for a while */
	AL_REASON_IDLE,				/* no table over its thresholds */
	AL_REASON_NO_STATS,			/* no activity recorded */
	AL_REASON_NOT_CONNECTABLE,	/* datallowconn = false, not in danger */
	AL_REASON_BACKED_OFF,		/* count failures in a row */
	AL_REASON_BLOCKED			/* a DDL command needs it */
} AlReason;

/*
 * Database lifecycle (docs/scheduling.md), changed only by
 * dbstate_transition() in databases.c:
 *
 *	 (none) --> NEW      the launcher finds it in pg_database
 *	 NEW ----> KNOWN     a worker scanned its pg_class and published its
 *						 floor and freeze deadline
 *	 KNOWN --> NEW       the knowledge was lost (reloption DDL we could not
 *						 read; a state file discarded after a crash)
 *	 NEW, KNOWN -> DROPPED  it left pg_database; its tables are forgotten,
 *						 a bounded number per pass, then the entry goes
 */
typedef enum AlDbState
{
	AL_DB_NEW = 0,
	AL_DB_KNOWN,
	AL_DB_DROPPED
} AlDbState;

/* Per-database history and knowledge, in a shared hash keyed by OID. */
typedef struct AlDatabaseEntry
{
	Oid			dboid;			/* hash key */
	AlDbState	state;

	TimestampTz last_dispatch_at;
	TimestampTz last_finished_at;
	int64		dispatch_count;
	int64		failure_count;

	/* failures in a row, and no launcher dispatch before backoff_until */
	int			consecutive_failures;
	TimestampTz backoff_until;

	/* what the last scan learned (state KNOWN) */
	AlFloor		floor;
	TransactionId freeze_deadline;	/* earliest table deadline set by
									 * reloptions, or InvalidTransactionId */
	MultiXactId mxid_deadline;
	TimestampTz first_seen_at;	/* when the launcher first saw it */
	TimestampTz last_scan_at;	/* 0: never scanned */
	int64		scan_count;		/* scans of its pg_class by workers */
	int64		changes_at_scan;	/* its pgstats modification counter then */
	TransactionId datfrozenxid; /* as a worker last read it */
	MultiXactId datminmxid;		/* likewise */
	uint64		walk_requests;	/* VACUUM, ANALYZE, CLUSTER, TRUNCATE that
								 * committed there: its tables' thresholds
								 * may have moved with no new changes */

	/* the launcher's last verdict, for autolauncher.databases */
	AlReason	reason;
	int			reason_count;
	int			due_tables;
	TimestampTz next_check_at;
} AlDatabaseEntry;

/*
 * Table lifecycle (docs/scheduling.md), changed only by
 * tablestate_transition() in registry.c:
 *
 *	 (none) ---> UNKNOWN   a statistics entry the registry did not have
 *	 UNKNOWN --> IDLE      a worker read its pg_class row and reloptions
 *	 UNKNOWN, IDLE --> DUE its counters pass its thresholds (the floor's,
 *						   for an unknown table)
 *	 DUE ------> IDLE      no longer over (someone else vacuumed it)
 *	 DUE ------> RUNNING   a worker claimed it
 *	 RUNNING --> WAITING   the worker is done (revisit time), or it was
 *						   skipped, cancelled or failed, or the worker died
 *						   (retry time)
 *	 WAITING --> IDLE      its time came
 *	 IDLE, DUE, WAITING, RUNNING --> UNKNOWN  its reloptions changed
 *	 any ------> (gone)    dropped, or evicted when the registry is full
 */
typedef enum AlTableState
{
	AL_TABLE_UNKNOWN = 0,
	AL_TABLE_IDLE,
	AL_TABLE_DUE,
	AL_TABLE_RUNNING,
	AL_TABLE_WAITING
} AlTableState;

#define AL_TABLE_NSTATES	5

/* What is due, for a table in its database's queue. */
#define AL_DUE_VACUUM		0x01
#define AL_DUE_ANALYZE		0x02
#define AL_DUE_WRAPAROUND	0x04
#define AL_DUE_VERIFY		0x08	/* judged with the floor */
#define AL_DUE_FAST			0x10	/* may go to the fast lane */

typedef struct AlTableKey
{
	Oid			dboid;
	Oid			relid;
} AlTableKey;

/* What a worker read of a table in pg_class. */
typedef struct AlTableInfo
{
	char		relkind;
	char		relpersistence; /* a temporary table is never ours */
	AlTableOpts opts;			/* its own reloptions, or its TOAST parent's */
	float4		reltuples;
	BlockNumber relpages;
	TransactionId relfrozenxid;
	MultiXactId relminmxid;
} AlTableInfo;

/* A table in the registry, keyed by database and table OID. */
typedef struct AlTableEntry
{
	AlTableKey	key;			/* hash key */
	AlTableState state;
	uint8		due_flags;		/* AL_DUE_*, while DUE or RUNNING */
	int16		retries;		/* skips, cancels or failures in a row */
	AlTableInfo info;			/* valid unless UNKNOWN */
	int64		changes_seen;	/* its inserts + updates + deletes in pgstats
								 * when the launcher last looked */
	int64		runs_seen;		/* its vacuums + analyzes in pgstats when its
								 * info was read */
	float4		score;			/* urgency, while DUE */
	TimestampTz not_before;		/* WAITING until then */
	int			holder_slot;	/* while RUNNING */
	uint64		holder_generation;

	/* what pg_autolauncher did to it */
	TimestampTz last_vacuum;
	TimestampTz last_analyze;
	int32		last_vacuum_ms; /* -1: never */
	int32		last_analyze_ms;
	int64		vacuum_count;
	int64		analyze_count;

	uint64		seq;			/* its place in AlTableDb.tables: entries are
								 * appended with the database's next_seq */
	uint32		info_epoch;		/* its database's info_epoch when info was
								 * read: info holds only while they match */
	uint64		marked_at;		/* its database's marks when it was last
								 * made unknown (registry_mark_unknown) */
	dlist_node	db_link;		/* AlTableDb.tables */
	dlist_node	queue_link;		/* AlTableDb.queue, while DUE */
	dlist_node	lru_link;		/* AlShared->table_lru */
} AlTableEntry;

/* One database's tables in the registry, and its queue of due tables. */
typedef struct AlTableDb
{
	Oid			dboid;			/* hash key */
	dlist_head	tables;			/* in the order entered: increasing seq */
	dlist_head	queue;			/* DUE tables */
	float4		best_score;		/* the highest score in the queue; while
								 * best_dirty, perhaps one that left it */
	bool		best_dirty;
	uint64		last_seq;		/* the seq of the last entry entered */
	uint32		info_epoch;		/* bumped when its tables' pg_class rows may
								 * have changed, which ones not known */
	uint64		marks;			/* tables made unknown, ever */
	uint64		evictions;		/* its entries forgotten to make room */
	int			ntables;
	int			nqueue;
	int			nqueue_fast;
	int			nqueue_wraparound;
	TimestampTz wake_at;		/* the earliest revisit or retry time of the
								 * tables released since the launcher last
								 * walked them; 0: none */
} AlTableDb;

/*
 * The registry's state of knowledge of a database's tables, taken before a
 * worker reads pg_class (registry_info_stamp): what it then reads is kept
 * only if no command made the table unknown since (registry.c).
 */
typedef struct AlInfoStamp
{
	uint32		epoch;
	uint64		marks;
} AlInfoStamp;

/* What a worker reports of its run on a table (registry_release). */
typedef struct AlRunReport
{
	bool		vacuumed;		/* the table's vacuum completed */
	bool		analyzed;		/* its analyze completed */
	bool		cancelled;		/* a cancel stopped work that was due */
	bool		skipped;		/* SKIP_LOCKED passed over it: it was locked */
	bool		failed;			/* another error */
	int32		vacuum_ms;		/* how long its vacuum took, if it ran */
	int32		analyze_ms;		/* how long its analyze took, if it ran */
	bool		info_valid;		/* info below was read after the run */
	AlTableInfo info;
	AlInfoStamp stamp;			/* taken before info was read */
} AlRunReport;

/* A table a worker claimed from its queue (registry_claim_next). */
typedef struct AlClaim
{
	Oid			dboid;			/* its registry database: InvalidOid for a
								 * shared catalog */
	Oid			relid;
	uint8		due_flags;
	TimestampTz last_analyze;	/* for the ANALYZE ration */
	int32		last_analyze_ms;
	bool		in_revisit;		/* claimed for an ANALYZE in the revisit
								 * time of an earlier run */
} AlClaim;

/* What a walk of one database's tables found (registry_walk_database). */
typedef struct AlWalkResult
{
	int64		changes_known;	/* inserts + updates + deletes since the last
								 * walk, over the tables the registry has */
	double		min_headroom;	/* the least any waiting-free table can take
								 * before a threshold can be crossed */
	TimestampTz next_event_at;	/* when a waiting table's time comes; 0 */
	int			tables;
	int			gone;			/* tables found dropped, forgotten */
} AlWalkResult;

/*
 * A database that a DDL command (DROP, RENAME, SET TABLESPACE, or CREATE
 * DATABASE using it as template) needs to itself: no worker may be sent
 * there until the command ends.  The backend running the command drops
 * its blocks when the command ends, and, through an exit callback, when it
 * exits in the middle of it (FATAL, pg_terminate_backend).  A block is
 * keyed by the backend's PID and PGPROC number, so a later backend that
 * reuses the PID cannot inherit it.
 */
#define AL_MAX_BLOCKS	32

typedef struct AlBlock
{
	Oid			dboid;			/* InvalidOid if the entry is unused */
	pid_t		pid;			/* backend running the command */
	int			procno;			/* its PGPROC number */
} AlBlock;

typedef struct AlSharedState
{
	LWLock	   *lock;			/* protects everything below, and the hashes */

	pid_t		launcher_pid;
	Latch	   *launcher_latch; /* set by workers and request() */
	AlLauncherState launcher_state;
	bool		knowledge_loaded;	/* the state file was read (or not) */
	uint64		catalog_generation; /* bumped by database DDL: pg_database
									 * must be read again */
	uint64		walk_generation;	/* bumped when a database asks for a walk
									 * (dbstate_request_walk) */

	int64		cycles;
	int64		workers_launched;
	int64		workers_finished;
	int64		launch_failures;
	int64		worker_failures;
	int64		workers_ddl_terminated; /* ended by DROP DATABASE and kin */
	int64		tables_vacuumed;
	int64		tables_analyzed;
	int64		tables_cancelled;	/* yielded to a lock waiter or cancelled */
	int64		tables_skipped; /* passed over by SKIP_LOCKED */
	int64		statistics_walks;	/* full walks of the pgstats hash */
	TimestampTz last_cycle_at;
	TimestampTz next_cycle_at;

	/*
	 * The cost budget the balanced workers share, as the launcher resolves
	 * it from the server's settings (or, before a launcher did, the first
	 * worker).
	 */
	int			cost_budget_limit;
	double		cost_budget_delay;

	AlBlock		blocks[AL_MAX_BLOCKS];

	/* registry entries, least recently used first */
	dlist_head	table_lru;
	uint64		table_evictions;	/* entries forgotten to make room */

	/*
	 * Fault injection for the tests; only a build with AL_TESTING defined
	 * can set these (src/testing.c).
	 */
	int			inject_launcher_error;	/* an AlInjectLauncher value */
	Oid			inject_worker_error_db; /* workers there fail at start */
	Oid			inject_worker_wait_db;	/* a worker there waits, once */

	int			nslots;
	AlSlot		slots[FLEXIBLE_ARRAY_MEMBER];
} AlSharedState;

/* GUCs (pg_autolauncher.c) */
extern bool al_enabled;
extern int	al_worker_slots;
extern int	al_max_workers;
extern int	al_fast_lane_workers;
extern int	al_naptime;
extern int	al_max_databases;
extern int	al_check_interval;
extern int	al_max_visit_interval;
extern int	al_max_workers_per_database;
extern int	al_max_tracked_tables;
extern double al_launcher_cpu_limit;

/* shared state (pg_autolauncher.c) */
extern AlSharedState *AlShared;
extern HTAB *AlDatabases;
extern HTAB *AlTables;
extern HTAB *AlTableDbs;

extern void al_require_shared_state(void);
extern int	al_effective_max_workers(void);

/* slots.c */
extern int	al_reserve_slot(Oid dboid, AlVisitKind kind, bool manual,
							uint64 *generation);
extern bool al_register_worker(int slotno, uint64 generation, Oid dboid,
							   pid_t notify_pid);
extern bool al_slot_is_requested(int slotno, uint64 generation);
extern bool al_claim_slot(int slotno, uint64 generation);
extern void al_release_slot(int slotno, uint64 generation, bool completed);
extern int	al_reap_slots(int *nlost);
extern int	al_count_active_slots(void);
extern bool al_claim_table(int slotno, Oid dboid, Oid relid, bool shared,
						   const char *relname);
extern void al_set_table_action(int slotno, AlAction action, bool wraparound);
extern void al_release_table(int slotno, const AlRunReport *report);
extern void al_set_idle(int slotno, bool idle);
extern bool al_yield_requested(int slotno);
extern int	al_wake_idle_workers(Oid dboid);
extern int	al_request_yields(Oid dboid);
extern int	al_cost_begin_table(int slotno, bool dobalance, double delay,
								int limit_base, int budget_limit,
								double budget_delay);
extern void al_cost_release(int slotno);
extern int	al_cost_take_allowed(int slotno);
extern void al_cost_rebalance(int budget_limit, double budget_delay);
extern int	al_terminate_database_workers(Oid dboid,
										  AlWorkerHandle *handles);
extern bool al_injected_worker_error(Oid dboid);
extern bool al_take_injected_worker_wait(Oid dboid);
extern bool al_wake_launcher(void);
extern void al_bump_catalog_generation(void);
extern void al_bump_walk_generation(void);
extern void al_count_statistics_walk(void);
extern void al_check_injected_launcher_error(AlInjectLauncher where);

/* databases.c */
extern AlDatabaseEntry *dbstate_entry_locked(Oid dboid, bool create);
extern bool dbstate_copy_locked(Oid dboid, AlDatabaseEntry *copy);
extern bool dbstate_copy(Oid dboid, AlDatabaseEntry *copy);
extern bool dbstate_sync(const Oid *dboids, int ndbs, TimestampTz now,
						 int *budget);
extern void dbstate_note_dispatch_locked(Oid dboid, TimestampTz now);
extern void dbstate_note_worker_end_locked(Oid dboid, int how,
										   TimestampTz now);
extern void dbstate_publish_scan(Oid dboid, const AlFloor *floor,
								 TransactionId freeze_deadline,
								 MultiXactId mxid_deadline,
								 int64 changes, TimestampTz now);
extern void dbstate_publish_frozenxid(Oid dboid, TransactionId datfrozenxid,
									  MultiXactId datminmxid);
extern void dbstate_lower_floor(Oid dboid);
extern void dbstate_request_walk(Oid dboid);
extern void dbstate_inherit(Oid dboid, Oid template_dboid);
extern void dbstate_publish_verdict(Oid dboid, AlReason reason, int count,
									int due_tables, TimestampTz next_check_at);
extern const char *dbstate_state_name(AlDbState state);
extern const char *al_reason_format(AlReason reason);

/* how a worker's visit ended, for dbstate_note_worker_end_locked() */
#define AL_WORKER_FINISHED			0
#define AL_WORKER_FAILED			1
#define AL_WORKER_DDL_TERMINATED	2

/* registry.c */
extern void registry_walk_database(Oid dboid, const AlVacuumSettings *settings,
								   const AlFloor *floor, TimestampTz now,
								   AlWalkResult *result);
extern int	registry_discover(const Oid *dboids, const AlFloor *floors,
							  int ndbs, const AlVacuumSettings *settings,
							  TimestampTz now);
extern bool registry_forget_database_locked(Oid dboid, int *budget);
extern void registry_release_holder_locked(int slotno, uint64 generation,
										   TimestampTz now);
extern bool registry_queue_locked(Oid dboid, AlTableDb *copy,
								  double *best_score);
extern bool registry_queue(Oid dboid, AlTableDb *copy, double *best_score);
extern AlInfoStamp registry_info_stamp(Oid dboid);
extern bool registry_publish_scan(Oid dboid, Oid relid,
								  const AlTableInfo *info,
								  const AlTableInput *input,
								  const AlVacuumSettings *settings,
								  TimestampTz now, bool end_waits,
								  AlInfoStamp stamp);
extern bool registry_claim_next(Oid dboid, int slotno, uint64 generation,
								bool fast_only, AlClaim *claim);
extern void registry_release(Oid dboid, Oid relid, int slotno,
							 uint64 generation, const AlRunReport *report,
							 const AlVacuumSettings *settings,
							 TimestampTz now);
extern bool registry_lookup(Oid dboid, Oid relid, AlTableEntry *copy);
extern void registry_mark_unknown(Oid dboid, Oid relid);
extern void registry_forget_database_info(Oid dboid);
extern int	registry_count(void);
extern const char *tablestate_name(AlTableState state);

/* blocks.c */
extern bool al_database_is_blocked(Oid dboid);
extern bool al_database_is_blocked_locked(Oid dboid);
extern bool al_block_database(Oid dboid);
extern void al_unblock_database(Oid dboid);
extern void al_inject_stale_block(Oid dboid);

/* What the state file keeps of a database (statefile.c). */
typedef struct AlDbRecord
{
	Oid			dboid;
	AlDbState	state;
	AlFloor		floor;
	TransactionId freeze_deadline;
	MultiXactId mxid_deadline;
	TimestampTz last_scan_at;
	int64		changes_at_scan;
	TransactionId datfrozenxid;
} AlDbRecord;

/* What the state file keeps of a table. */
typedef struct AlTableRecord
{
	AlTableKey	key;
	AlTableInfo info;			/* relkind '\0': unknown */
	TimestampTz last_vacuum;
	TimestampTz last_analyze;
	int32		last_vacuum_ms;
	int32		last_analyze_ms;
	int64		vacuum_count;
	int64		analyze_count;
	int64		runs_seen;
} AlTableRecord;

/* statefile.c */
extern void statefile_load(void);
extern void statefile_save(void);

/* saving and restoring (databases.c, registry.c) */
extern AlDbRecord *dbstate_records(int *count);
extern void dbstate_restore(const AlDbRecord *records, int count);
extern AlTableRecord *registry_records(int *count);
extern void registry_restore(const AlTableRecord *records, int count);

/* tables.c */
typedef void (*AlTableCallback) (Form_pg_class classForm,
								 const AutoVacOpts *opts, void *arg);
extern AutoVacOpts *al_extract_autovac_opts(HeapTuple tup,
											TupleDesc pg_class_desc);
extern const AutoVacOpts *al_toast_parent_opts(HTAB *toast_parents, Oid relid);
extern void al_fill_table_input(AlTableInput *input, Form_pg_class classForm,
								const AutoVacOpts *opts);
extern HTAB *al_scan_tables(TupleDesc pg_class_desc, AlTableCallback cb,
							void *arg);
extern HTAB *al_toast_parents(TupleDesc pg_class_desc);

/* ddl.c */
extern void al_install_utility_hook(void);

/* runstats.c: a worker's run as the cumulative statistics record it */
typedef struct AlRunStats
{
	Oid			relid;
	bool		shared;			/* a shared catalog */
	bool		locked;			/* we hold the run's session lock */
	LOCKTAG		tag;
	/* the table's manual counters when the run began */
	PgStat_Counter vacuum_count;
	TimestampTz vacuum_timestamp;
	PgStat_Counter analyze_count;
	TimestampTz analyze_timestamp;
} AlRunStats;

extern bool al_run_lock(Oid relid, bool wraparound, AlRunStats *rs);
extern void al_run_relabel(AlRunStats *rs, bool *vacuumed, bool *analyzed,
						   bool *known);
extern void al_run_unlock(AlRunStats *rs);

/* runlog.c: a worker's runs logged as core logs autovacuum's */
typedef struct AlRunLog
{
	int			log_min_duration;	/* -1: nothing is logged */
	const char *dbname;
	const char *nspname;
	const char *relname;
	bool		wraparound;
	bool		capturing;		/* the vacuum's VERBOSE output is ours */
	bool		aggressive;		/* VERBOSE said "aggressively vacuuming" */
	bool		vacuum_logged;
	TimestampTz start;
	/* the analyze part, as do_analyze_rel() measures it */
	bool		analyze_started;
	TimestampTz analyze_start;
	PGRUsage	analyze_ru0;
	int64		page_hit;
	int64		page_miss;
	int64		page_dirty;
	PgStat_Counter read_time;
	PgStat_Counter write_time;
} AlRunLog;

extern void al_runlog_init(void);
extern void al_runlog_begin(AlRunLog *log, VacuumParams *params,
							const char *dbname, const char *nspname,
							const char *relname);
extern void al_runlog_analyze_start(AlRunLog *log);
extern void al_runlog_abort(AlRunLog *log);
extern void al_runlog_end(AlRunLog *log, bool analyzed);

/* names of states, for the views (slots.c) */
extern const char *al_slot_state_name(AlSlotState state);
extern const char *al_action_name(AlAction action);
extern const char *al_launcher_state_name(AlLauncherState state);
extern const char *al_visit_kind_name(AlVisitKind kind);

/* launcher.c / worker.c entry points, called by the postmaster */
extern PGDLLEXPORT void pg_autolauncher_launcher_main(Datum main_arg);
extern PGDLLEXPORT void pg_autolauncher_worker_main(Datum main_arg);

#endif							/* PG_AUTOLAUNCHER_H */
