/*-------------------------------------------------------------------------
 *
 * policy.h
 *		The scheduling policy of pg_autolauncher: threshold formulas, table
 *		scores and database ordering.
 *
 * Everything here is a pure function of its arguments, except
 * al_current_settings(), which snapshots the GUCs into an AlVacuumSettings.
 * The launcher, the worker and the status functions all decide through
 * these functions, so what the views say is what the processes do.
 *
 * IDENTIFICATION
 *	  src/policy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef AL_POLICY_H
#define AL_POLICY_H

#include "access/multixact.h"
#include "access/transam.h"
#include "datatype/timestamp.h"
#include "utils/rel.h"

/* The settings a decision depends on, snapshotted once per pass. */
typedef struct AlVacuumSettings
{
	int			vac_base_thresh;	/* autovacuum_vacuum_threshold */
	double		vac_scale_factor;	/* autovacuum_vacuum_scale_factor */
	int			vac_ins_base_thresh;	/* autovacuum_vacuum_insert_threshold */
	double		vac_ins_scale_factor;	/* ..._insert_scale_factor */
	int			anl_base_thresh;	/* autovacuum_analyze_threshold */
	double		anl_scale_factor;	/* autovacuum_analyze_scale_factor */
	int			freeze_max_age; /* autovacuum_freeze_max_age */
	int			multixact_freeze_max_age;	/* effective, see
											 * MultiXactMemberFreezeThreshold */
	TransactionId recent_xid;	/* ReadNextTransactionId() */
	MultiXactId recent_multi;	/* ReadNextMultiXactId() */
	bool		counts_active;	/* track_counts: thresholds are meaningful */
	int			cost_limit;		/* the budget balanced workers share: */
	double		cost_delay;		/* autovacuum_vacuum_cost_*, else vacuum_* */
	int			naptime_s;		/* pg_autolauncher.naptime */
	int			max_visit_interval_s;	/* pg_autolauncher.max_visit_interval */
} AlVacuumSettings;

/* One table as the worker (or the status view) sees it. */
typedef struct AlTableInput
{
	Oid			relid;
	char		relkind;
	float4		reltuples;		/* pg_class.reltuples, -1 if never vacuumed */
	TransactionId relfrozenxid;
	MultiXactId relminmxid;
	const AutoVacOpts *opts;	/* its own or its TOAST parent's, or NULL */
	bool		has_stats;		/* a pgstats entry exists */
	double		n_live_tuples;	/* shown only; the formulas use reltuples */
	double		n_dead_tuples;
	double		inserts_since_vacuum;
	double		changes_since_analyze;
} AlTableInput;

typedef struct AlTableDecision
{
	bool		dovacuum;
	bool		doanalyze;
	bool		wraparound;		/* anti-wraparound vacuum forced */
	bool		disabled;		/* autovacuum_enabled = false */
	double		vacthresh;
	double		insthresh;		/* < 0 when insert vacuums are disabled */
	double		anlthresh;
	double		score;			/* larger means more urgent */
	int			freeze_max_age; /* effective, after reloptions */
	int			multixact_freeze_max_age;
} AlTableDecision;

/*
 * The part of a table's reloptions the schedule depends on, compact enough
 * to keep for every table in shared memory.  -1 means "not set", as in
 * AutoVacOpts, except vacuum_ins_threshold, where -1 disables insert
 * vacuums and -2 means "not set".  al_opts_compact() and al_opts_expand()
 * convert from and to core's AutoVacOpts.
 */
typedef struct AlTableOpts
{
	bool		enabled;
	int32		vacuum_threshold;
	int32		vacuum_ins_threshold;
	int32		analyze_threshold;
	int32		freeze_max_age;
	int32		multixact_freeze_max_age;
	float4		vacuum_scale_factor;
	float4		vacuum_ins_scale_factor;
	float4		analyze_scale_factor;
} AlTableOpts;

/*
 * A database's floor: the lowest of each threshold reloption any of its
 * tables has (-1, -2 for the insert threshold: none has it).  It is kept
 * as reloption minimums only and combined with the GUCs where it is used
 * (al_floor_opts), so a lowered GUC takes effect at once.  A database no
 * worker has scanned has no known floor: the lowest reloptions allow,
 * base 0 and scale 0, is used instead.
 */
typedef struct AlFloor
{
	bool		known;
	AlTableOpts min;
} AlFloor;

/* What the launcher knows of one table when it judges it. */
typedef struct AlTableFacts
{
	AlTableInput input;			/* for an unknown table: relid, counters,
								 * and n_live_tuples as reltuples */
	bool		info_known;		/* a worker read its pg_class row */
	bool		temporary;		/* which says it is a temporary table */
	BlockNumber relpages;
	TimestampTz not_before;		/* waiting until then; 0: not waiting */
	bool		retrying;		/* not_before is a retry time, not a revisit */
	TimestampTz last_analyze_end;	/* 0: never, by us */
	int32		last_analyze_ms;	/* -1: unknown */
	int32		last_run_ms;	/* -1: unknown */
} AlTableFacts;

/* The launcher's verdict on one table. */
typedef struct AlTableVerdict
{
	bool		due;			/* put it in its database's queue */
	bool		dovacuum;
	bool		doanalyze;		/* due for analyze, the ration permitting */
	bool		wraparound;
	bool		verify;			/* judged with the floor: a worker must look */
	bool		fast;			/* may go to the fast lane */
	double		score;			/* urgency, larger first */
	double		headroom;		/* inserts, updates and deletes it can take
								 * before any of its thresholds can be
								 * crossed; < 0: already over */
	double		vacuum_headroom;	/* the same, of its vacuum thresholds */
	TimestampTz wait_until;		/* over, but not due before then; 0: none */
} AlTableVerdict;

/* Why a database gets a worker, if it does; in order of urgency. */
typedef enum AlVisitKind
{
	AL_VISIT_NONE = 0,
	AL_VISIT_QUEUE,				/* take due tables from the queue */
	AL_VISIT_FAST,				/* the fast lane: fast due tables only */
	AL_VISIT_SAFETY_SCAN,		/* changed, not scanned for max_visit_interval */
	AL_VISIT_DEADLINE_SCAN,		/* a table's freeze deadline passed */
	AL_VISIT_MULTI_WRAP_SCAN,	/* datminmxid past the multixact limit */
	AL_VISIT_XID_WRAP_SCAN		/* datfrozenxid past autovacuum_freeze_max_age */
} AlVisitKind;

/* What the launcher knows about a database when it decides. */
typedef struct AlDatabaseFacts
{
	Oid			dboid;
	bool		datallowconn;
	TransactionId datfrozenxid;
	MultiXactId datminmxid;
	bool		has_stats;		/* it has a pgstats entry */
	bool		tracked;		/* it has a shared entry (max_databases) */
	bool		known;			/* a worker scanned it (its deadline is known) */
	TransactionId freeze_deadline;	/* its tables' earliest, by reloptions;
									 * InvalidTransactionId: none */
	MultiXactId mxid_deadline;
	bool		changed_since_scan;
	TimestampTz last_scan_at;	/* 0: never */
	TimestampTz last_dispatch_at;	/* 0: never */
	TimestampTz backoff_until;	/* failures in a row: no queue or safety
								 * visit before then */
	bool		blocked;		/* a DDL command needs it */
	int			workers;		/* workers there */
	int			idle_workers;	/* of which hold no table: starting,
								 * scanning or waiting for work */
	int			fast_workers;	/* of which in the fast lane */
	int			due;			/* due tables, unclaimed */
	int			due_fast;		/* of which fast */
	bool		due_wraparound; /* of which anti-wraparound */
	double		best_score;		/* of the due tables */
} AlDatabaseFacts;

/* The launcher's verdict on a database. */
typedef struct AlDatabaseVerdict
{
	AlVisitKind kind;			/* the next worker's kind; NONE: none */
	int			wanted;			/* how many more workers it could use */
	bool		wake_idle;		/* wake its idle workers: work came */
	TimestampTz next_check_at;	/* when its verdict can change with no
								 * activity; 0: never */
} AlDatabaseVerdict;

/* A database competing for a free slot, for al_compare_candidates(). */
typedef struct AlDatabaseCandidate
{
	Oid			dboid;
	AlVisitKind kind;
	TransactionId datfrozenxid;
	MultiXactId datminmxid;
	int			workers;		/* workers there already */
	double		score;			/* its most urgent due table's */
	TimestampTz last_dispatch_at;	/* 0 if never */
} AlDatabaseCandidate;

/* The lowest autovacuum_freeze_max_age and multixact one reloptions allow. */
#define AL_MIN_FREEZE_MAX_AGE		100000
#define AL_MIN_MXID_FREEZE_MAX_AGE	10000

/*
 * A table of fewer pages, or whose last run took less, may use the fast
 * lane; one no worker has read yet, if it has fewer live and dead tuples.
 */
#define AL_FAST_TABLE_PAGES			1024
#define AL_FAST_TABLE_MS			1000
#define AL_FAST_TABLE_TUPLES		50000

extern void al_current_settings(AlVacuumSettings *settings);
extern void al_opts_compact(const AutoVacOpts *opts, AlTableOpts *compact);
extern void al_opts_expand(const AlTableOpts *compact, AutoVacOpts *opts);
extern void al_floor_init(AlFloor *floor);
extern void al_floor_add(AlFloor *floor, const AutoVacOpts *opts);
extern void al_floor_lower_to_minimum(AlFloor *floor);
extern void al_floor_opts(const AlVacuumSettings *settings,
						  const AlFloor *floor, AutoVacOpts *opts);
extern void al_decide_table(const AlVacuumSettings *settings,
							const AlTableInput *table,
							AlTableDecision *decision);
extern double al_table_headroom(const AlTableInput *table,
								const AlTableDecision *decision);
extern double al_floor_headroom(const AlVacuumSettings *settings,
								const AlFloor *floor);
extern void al_table_verdict(const AlVacuumSettings *settings,
							 const AlFloor *floor, const AlTableFacts *facts,
							 TimestampTz now, AlTableVerdict *verdict);
extern bool al_analyze_allowed(const AlVacuumSettings *settings,
							   TimestampTz last_analyze_end,
							   int32 last_analyze_ms,
							   double changes_since_analyze, double anlthresh,
							   TimestampTz now, TimestampTz *allowed_at);
extern bool al_fast_table(bool info_known, BlockNumber relpages,
						  double tuples, int32 last_run_ms);
extern int64 al_revisit_after_ms(int32 run_ms);
extern int64 al_retry_after_ms(int naptime_s, int max_visit_interval_s,
							   int retries);
extern bool al_xid_is_wraparound(TransactionId frozenxid,
								 TransactionId recent_xid, int max_age);
extern bool al_multi_is_wraparound(MultiXactId minmxid,
								   MultiXactId recent_multi, int max_age);
extern bool al_deadline_passed(TransactionId deadline, TransactionId recent_xid);
extern bool al_mxid_deadline_passed(MultiXactId deadline,
									MultiXactId recent_multi);
extern void al_database_verdict(const AlVacuumSettings *settings,
								const AlDatabaseFacts *facts, TimestampTz now,
								int per_database_cap,
								AlDatabaseVerdict *verdict);
extern int	al_compare_candidates(const AlDatabaseCandidate *a,
								  const AlDatabaseCandidate *b);
extern int	al_compute_cost_limit(int total_limit, double total_delay,
								  int my_limit_base, double cost_total);
extern int64 al_failure_backoff_ms(int naptime_s, int consecutive_failures);

#endif							/* AL_POLICY_H */
