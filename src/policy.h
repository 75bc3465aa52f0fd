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

/* What the launcher knows about a database when it picks one. */
typedef struct AlDatabaseCandidate
{
	Oid			dboid;
	TransactionId datfrozenxid;
	MultiXactId datminmxid;
	bool		xid_wraparound;
	bool		multi_wraparound;
	int			workers;		/* workers already there */
	double		score;			/* estimated work, see al_estimate_table */
	TimestampTz last_dispatch_at;	/* 0 if never */
} AlDatabaseCandidate;

/*
 * The lowest thresholds a worker found in its database, with the tables'
 * reloptions applied.  The launcher cannot read other databases' pg_class,
 * so it estimates their work with these instead of the GUCs, which a
 * table's reloptions may undercut.
 */
typedef struct AlThresholdFloor
{
	bool		known;			/* a worker has published them */
	int			vac_base_thresh;
	double		vac_scale_factor;
	int			vac_ins_base_thresh;	/* -1: no table has insert vacuums */
	double		vac_ins_scale_factor;
	int			anl_base_thresh;
	double		anl_scale_factor;
} AlThresholdFloor;

/* The launcher's estimate of one table, from its pgstats entry alone. */
typedef struct AlTableEstimate
{
	bool		over_threshold;
	double		ratio;			/* largest counter/threshold ratio */
} AlTableEstimate;

extern void al_current_settings(AlVacuumSettings *settings);
extern void al_estimate_table(const AlVacuumSettings *settings,
							  const AlThresholdFloor *floor,
							  double n_live_tuples, double n_dead_tuples,
							  double inserts_since_vacuum,
							  double changes_since_analyze,
							  AlTableEstimate *estimate);
extern void al_floor_init(AlThresholdFloor *floor);
extern void al_floor_add(AlThresholdFloor *floor,
						 const AlVacuumSettings *settings,
						 const AutoVacOpts *opts);
extern void al_decide_table(const AlVacuumSettings *settings,
							const AlTableInput *table,
							AlTableDecision *decision);
extern bool al_xid_is_wraparound(TransactionId frozenxid,
								 TransactionId recent_xid, int max_age);
extern bool al_multi_is_wraparound(MultiXactId minmxid,
								   MultiXactId recent_multi, int max_age);
extern int	al_compare_databases(const AlDatabaseCandidate *a,
								 const AlDatabaseCandidate *b);
extern int	al_compute_cost_limit(int total_limit, double total_delay,
								  int my_limit_base, double cost_total);
extern int64 al_failure_backoff_ms(int naptime_s, int consecutive_failures);
extern int64 al_fruitless_holdoff_ms(int naptime_s, int max_visit_interval_s,
									 int fruitless_visits);

#endif							/* AL_POLICY_H */
