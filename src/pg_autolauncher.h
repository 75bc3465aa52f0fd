/*-------------------------------------------------------------------------
 *
 * pg_autolauncher.h
 *		Declarations shared by every part of pg_autolauncher.
 *
 * This header defines the shared-memory state (the slot array, the
 * per-database history table and the launcher's own counters), the GUC
 * variables, and the entry points each module offers to the others:
 *
 *	pg_autolauncher.c	module init, GUCs, shared memory allocation
 *	src/slots.c			slot lifecycle (reserve, claim, release, reap)
 *	src/launcher.c		the launcher background worker
 *	src/worker.c		the per-database worker background worker
 *	src/policy.c		pure decision formulas (no I/O, no shared state)
 *	src/status.c		SQL-callable status and admin functions
 *	src/ddl.c			ProcessUtility hook: keeps workers out of the way of
 *						DROP/RENAME/SET TABLESPACE/CREATE ... TEMPLATE
 *	src/testing.c		fault injection, compiled only with AL_TESTING
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
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"

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
	pid_t		pid;			/* worker pid once RUNNING, else 0 */
	bool		handle_valid;	/* handle below has been stored */
	AlWorkerHandle handle;
	TimestampTz requested_at;
	TimestampTz started_at;
	bool		manual;			/* reserved by autolauncher.request() */
	int			reason;			/* the launcher's AlReason for sending it */

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
	int			yields;			/* tables or steps this worker cancelled or
								 * skipped: its visit left work behind */
	bool		ddl_terminated; /* a DDL command asked it to exit */
} AlSlot;

/* What a worker's run on one table achieved (al_release_table). */
typedef struct AlTableOutcome
{
	bool		vacuumed;		/* the table's vacuum completed */
	bool		analyzed;		/* its analyze completed */
	bool		cancelled;		/* a cancel stopped work that was due */
	bool		skipped;		/* SKIP_LOCKED passed over it: it was locked */
} AlTableOutcome;

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
	AL_REASON_WRAPAROUND_WAIT,	/* in danger, visited less than 10s ago */
	AL_REASON_NEW_WORK,			/* due: count tables newly over threshold */
	AL_REASON_LEFTOVER_RETRY,	/* due: count tables left over, naptime passed */
	AL_REASON_LEFTOVER_WAIT,	/* count tables left over, wait for naptime */
	AL_REASON_LEFTOVER_IDLE,	/* count tables left over, no change since */
	AL_REASON_SAFETY_VISIT,		/* due: not visited for max_visit_interval */
	AL_REASON_IDLE,				/* no work estimated */
	AL_REASON_NO_STATS,			/* no activity recorded */
	AL_REASON_NOT_CONNECTABLE,	/* datallowconn = false, not in danger */
	AL_REASON_BACKED_OFF,		/* count failures in a row */
	AL_REASON_BLOCKED,			/* a DDL command needs it */
	AL_REASON_WORKER_RUNNING,	/* count workers there already suffice */
	AL_REASON_FRUITLESS_WAIT	/* count visits in a row found nothing */
} AlReason;

/* Per-database history, kept in a shared hash keyed by database OID. */
typedef struct AlDatabaseEntry
{
	Oid			dboid;			/* hash key */
	TimestampTz last_dispatch_at;
	TimestampTz last_finished_at;
	int64		dispatch_count;
	int64		failure_count;

	/* failures in a row, and no launcher dispatch before backoff_until */
	int			consecutive_failures;
	TimestampTz backoff_until;

	/*
	 * Visits in a row that found nothing to do, and no dispatch for the
	 * estimate's sake before fruitless_until (al_fruitless_holdoff_ms).
	 */
	int			fruitless_visits;
	TimestampTz fruitless_until;

	/* the launcher's estimate, from the pgstats relation entries */
	int64		scanned_changes;	/* database's pgstats modification counter
									 * when the estimate was made */
	int			work_tables;	/* tables estimated over threshold */
	double		work_score;		/* sum of their ratios to threshold */
	int			leftover_tables;	/* work_tables just after the last
									 * successful visit: work it could
									 * not do */
	bool		leftover_pending;	/* a visit succeeded; measure leftover */
	bool		leftover_retry; /* that visit yielded tables: retry its
								 * leftover after a naptime, changed or not */
	int64		changes_after_visit;	/* modification counter then,
										 * including the visit's own writes */

	AlThresholdFloor floor;		/* published by the workers */

	/* the history of this database's tables (AlTableHistory.db_link) */
	dlist_head	tables;

	/* the launcher's last verdict, for autolauncher.databases */
	AlReason	reason;
	int			reason_count;
	TimestampTz next_check_at;
} AlDatabaseEntry;

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
	LWLock	   *lock;			/* protects everything below */

	pid_t		launcher_pid;
	Latch	   *launcher_latch; /* set by workers and request() */
	AlLauncherState launcher_state;

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

	/* table history entries, least recently used first */
	dlist_head	table_lru;

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

/*
 * When pg_autolauncher last vacuumed and analyzed a table.  PostgreSQL
 * records our runs as manual ones (last_vacuum, not last_autovacuum), so
 * we keep our own record, in a shared hash of pg_autolauncher.
 * max_tracked_tables entries; when it is full the entry least recently
 * used by a worker makes room.  Each entry is on the LRU list and on its
 * database's list, so eviction and forgetting a dropped database cost
 * what they remove, not a scan of the hash.
 */
typedef struct AlTableKey
{
	Oid			dboid;
	Oid			relid;
} AlTableKey;

typedef struct AlTableHistory
{
	AlTableKey	key;			/* hash key */
	TimestampTz last_vacuum;
	TimestampTz last_analyze;
	int64		vacuum_count;
	int64		analyze_count;
	dlist_node	lru_link;		/* AlShared->table_lru */
	dlist_node	db_link;		/* AlDatabaseEntry.tables */
} AlTableHistory;

/* GUCs (pg_autolauncher.c) */
extern bool al_enabled;
extern int	al_worker_slots;
extern int	al_max_workers;
extern int	al_naptime;
extern int	al_max_databases;
extern int	al_check_interval;
extern int	al_max_visit_interval;
extern int	al_max_workers_per_database;
extern int	al_max_tracked_tables;

/* shared state (pg_autolauncher.c) */
extern AlSharedState *AlShared;
extern HTAB *AlDatabases;
extern HTAB *AlTables;

extern void al_require_shared_state(void);
extern int	al_effective_max_workers(void);

/* slots.c */
extern int	al_reserve_slot(Oid dboid, int reason, uint64 *generation);
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
extern void al_release_table(int slotno, const AlTableOutcome *outcome);
extern void al_note_yield(int slotno);
extern int	al_cost_begin_table(int slotno, bool dobalance, double delay,
								int limit_base, int budget_limit,
								double budget_delay);
extern int	al_cost_take_allowed(int slotno);
extern void al_cost_rebalance(int budget_limit, double budget_delay);
extern AlDatabaseEntry *al_database_entry(Oid dboid, bool create);
extern bool al_table_history(Oid dboid, Oid relid, AlTableHistory *history);
extern bool al_forget_database(Oid dboid, int *budget);
extern bool al_database_is_blocked(Oid dboid);
extern bool al_block_database(Oid dboid);
extern void al_unblock_database(Oid dboid);
extern int	al_terminate_database_workers(Oid dboid,
										  AlWorkerHandle *handles);
extern bool al_injected_worker_error(Oid dboid);
extern bool al_take_injected_worker_wait(Oid dboid);
extern bool al_wake_launcher(void);
extern void al_publish_threshold_floor(Oid dboid, const AlThresholdFloor *floor);
extern const char *al_reason_format(AlReason reason);
extern void al_check_injected_launcher_error(AlInjectLauncher where);

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

/* ddl.c */
extern void al_install_utility_hook(void);
extern const char *al_slot_state_name(AlSlotState state);
extern const char *al_action_name(AlAction action);
extern const char *al_launcher_state_name(AlLauncherState state);

/* launcher.c / worker.c entry points, called by the postmaster */
extern PGDLLEXPORT void pg_autolauncher_launcher_main(Datum main_arg);
extern PGDLLEXPORT void pg_autolauncher_worker_main(Datum main_arg);

#endif							/* PG_AUTOLAUNCHER_H */
