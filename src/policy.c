/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Threshold formulas, table scores and database ordering.
 *
 * This file owns the answer to "does this table need vacuum or analyze,
 * and how urgently?" and "which database should get the next worker?".
 * It holds no state and does no I/O: callers collect the inputs (pg_class
 * rows, pgstats entries, pg_database rows) and pass them in.  The formulas
 * are those of core autovacuum's relation_needs_vacanalyze() and
 * do_start_worker() in PostgreSQL 15, so a table that core would vacuum is
 * vacuumed here too, for the same reason.
 *
 * IDENTIFICATION
 *	  src/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <limits.h>

#include "access/multixact.h"
#include "access/transam.h"
#include "catalog/pg_statistic.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"

#include "policy.h"

/* A score that sorts anti-wraparound work before anything else. */
#define AL_WRAPAROUND_SCORE		1.0e12

/*
 * al_current_settings
 *		Snapshot the GUCs and XID counters a decision depends on.
 *
 * This is the only function in this file that reads global state.
 */
void
al_current_settings(AlVacuumSettings *settings)
{
	settings->vac_base_thresh = autovacuum_vac_thresh;
	settings->vac_scale_factor = autovacuum_vac_scale;
	settings->vac_ins_base_thresh = autovacuum_vac_ins_thresh;
	settings->vac_ins_scale_factor = autovacuum_vac_ins_scale;
	settings->anl_base_thresh = autovacuum_anl_thresh;
	settings->anl_scale_factor = autovacuum_anl_scale;
	settings->freeze_max_age = autovacuum_freeze_max_age;
	settings->multixact_freeze_max_age = MultiXactMemberFreezeThreshold();
	settings->recent_xid = ReadNextTransactionId();
	settings->recent_multi = ReadNextMultiXactId();
	settings->counts_active = pgstat_track_counts;
	settings->cost_limit = (autovacuum_vac_cost_limit > 0)
		? autovacuum_vac_cost_limit : VacuumCostLimit;
	settings->cost_delay = (autovacuum_vac_cost_delay >= 0)
		? autovacuum_vac_cost_delay : VacuumCostDelay;
}

/*
 * al_xid_is_wraparound
 *		Is frozenxid older than max_age transactions before recent_xid?
 *
 * Computed exactly as core autovacuum computes xidForceLimit.  Returns false
 * for a non-normal frozenxid (a relation without storage, say).
 */
bool
al_xid_is_wraparound(TransactionId frozenxid, TransactionId recent_xid,
					 int max_age)
{
	TransactionId limit = recent_xid - max_age;

	/* ensure it's a "normal" XID, else TransactionIdPrecedes misbehaves */
	if (limit < FirstNormalTransactionId)
		limit -= FirstNormalTransactionId;

	return TransactionIdIsNormal(frozenxid) &&
		TransactionIdPrecedes(frozenxid, limit);
}

/*
 * al_multi_is_wraparound
 *		Is minmxid older than max_age multixacts before recent_multi?
 */
bool
al_multi_is_wraparound(MultiXactId minmxid, MultiXactId recent_multi,
					   int max_age)
{
	MultiXactId limit = recent_multi - max_age;

	if (limit < FirstMultiXactId)
		limit -= FirstMultiXactId;

	return MultiXactIdIsValid(minmxid) && MultiXactIdPrecedes(minmxid, limit);
}

/* The threshold parameters of one table: reloptions over GUCs. */
typedef struct ThresholdParams
{
	int			vac_base_thresh;
	double		vac_scale_factor;
	int			vac_ins_base_thresh;
	double		vac_ins_scale_factor;
	int			anl_base_thresh;
	double		anl_scale_factor;
} ThresholdParams;

/*
 * Each reloption overrides its GUC when it is >= 0, except the insert
 * threshold, where -1 is a valid value meaning "no insert vacuums".
 */
static void
resolve_thresholds(const AlVacuumSettings *s, const AutoVacOpts *o,
				   ThresholdParams *p)
{
	p->vac_scale_factor = (o && o->vacuum_scale_factor >= 0)
		? o->vacuum_scale_factor : s->vac_scale_factor;
	p->vac_base_thresh = (o && o->vacuum_threshold >= 0)
		? o->vacuum_threshold : s->vac_base_thresh;
	p->vac_ins_scale_factor = (o && o->vacuum_ins_scale_factor >= 0)
		? o->vacuum_ins_scale_factor : s->vac_ins_scale_factor;
	p->vac_ins_base_thresh = (o && o->vacuum_ins_threshold >= -1)
		? o->vacuum_ins_threshold : s->vac_ins_base_thresh;
	p->anl_scale_factor = (o && o->analyze_scale_factor >= 0)
		? o->analyze_scale_factor : s->anl_scale_factor;
	p->anl_base_thresh = (o && o->analyze_threshold >= 0)
		? o->analyze_threshold : s->anl_base_thresh;
}

/* ratio of a counter to its threshold, safe for a zero threshold */
static double
threshold_ratio(double value, double threshold)
{
	return value / Max(threshold, 1.0);
}

/*
 * al_decide_table
 *		Decide whether one table needs vacuum and/or analyze.
 *
 * Core's relation_needs_vacanalyze(), with two additions: the thresholds
 * and a score are returned for the status view and for ordering.  The
 * score is the largest ratio of dead, inserted or modified tuples to its
 * threshold, so 1.0 means "just due"; anti-wraparound work scores above
 * everything else.
 */
void
al_decide_table(const AlVacuumSettings *s, const AlTableInput *t,
				AlTableDecision *d)
{
	const AutoVacOpts *o = t->opts;
	ThresholdParams p;
	int			freeze_max_age;
	int			multixact_freeze_max_age;
	double		reltuples;

	resolve_thresholds(s, o, &p);
	freeze_max_age = (o && o->freeze_max_age >= 0)
		? Min(o->freeze_max_age, s->freeze_max_age) : s->freeze_max_age;
	multixact_freeze_max_age = (o && o->multixact_freeze_max_age >= 0)
		? Min(o->multixact_freeze_max_age, s->multixact_freeze_max_age)
		: s->multixact_freeze_max_age;

	/* If the table hasn't yet been vacuumed, take reltuples as zero */
	reltuples = Max(t->reltuples, 0);

	d->vacthresh = p.vac_base_thresh + p.vac_scale_factor * reltuples;
	d->insthresh = (p.vac_ins_base_thresh >= 0)
		? p.vac_ins_base_thresh + p.vac_ins_scale_factor * reltuples : -1;
	d->anlthresh = p.anl_base_thresh + p.anl_scale_factor * reltuples;

	d->freeze_max_age = freeze_max_age;
	d->multixact_freeze_max_age = multixact_freeze_max_age;
	d->wraparound =
		al_xid_is_wraparound(t->relfrozenxid, s->recent_xid, freeze_max_age) ||
		al_multi_is_wraparound(t->relminmxid, s->recent_multi,
							   multixact_freeze_max_age);
	d->disabled = (o != NULL && !o->enabled);
	d->dovacuum = d->wraparound;
	d->doanalyze = false;
	d->score = d->wraparound ? AL_WRAPAROUND_SCORE : 0;

	/* User disabled it in pg_class.reloptions?  (But ignore if at risk) */
	if (d->disabled && !d->wraparound)
		return;

	/*
	 * Thresholds apply only when we have stats for the table and statistics
	 * are being collected; otherwise only wraparound forces work.
	 */
	if (t->has_stats && s->counts_active)
	{
		double		score;

		if (t->n_dead_tuples > d->vacthresh)
			d->dovacuum = true;
		if (p.vac_ins_base_thresh >= 0 && t->inserts_since_vacuum > d->insthresh)
			d->dovacuum = true;
		if (t->changes_since_analyze > d->anlthresh)
			d->doanalyze = true;

		score = threshold_ratio(t->n_dead_tuples, d->vacthresh);
		if (p.vac_ins_base_thresh >= 0)
			score = Max(score, threshold_ratio(t->inserts_since_vacuum,
											   d->insthresh));
		score = Max(score, threshold_ratio(t->changes_since_analyze,
										   d->anlthresh));
		d->score += score;
	}

	/* ANALYZE refuses to work with pg_statistic, and skips TOAST tables */
	if (t->relid == StatisticRelationId || t->relkind == RELKIND_TOASTVALUE)
		d->doanalyze = false;
}

/*
 * al_floor_init
 *		Start a threshold floor with nothing seen.
 */
void
al_floor_init(AlThresholdFloor *floor)
{
	floor->known = false;
	floor->vac_base_thresh = INT_MAX;
	floor->vac_scale_factor = DBL_MAX;
	floor->vac_ins_base_thresh = -1;
	floor->vac_ins_scale_factor = DBL_MAX;
	floor->anl_base_thresh = INT_MAX;
	floor->anl_scale_factor = DBL_MAX;
}

/*
 * al_floor_add
 *		Lower a floor to cover one more table with reloptions opts.
 *
 * Each parameter is lowered independently, so the floor's thresholds are
 * at or below every table's: an estimate made with it may see work that
 * is not there, never miss work that is.  Tables with autovacuum disabled
 * are left out by the caller.
 */
void
al_floor_add(AlThresholdFloor *floor, const AlVacuumSettings *s,
			 const AutoVacOpts *opts)
{
	ThresholdParams p;

	resolve_thresholds(s, opts, &p);
	floor->known = true;
	floor->vac_base_thresh = Min(floor->vac_base_thresh, p.vac_base_thresh);
	floor->vac_scale_factor = Min(floor->vac_scale_factor, p.vac_scale_factor);
	if (p.vac_ins_base_thresh >= 0)
	{
		floor->vac_ins_base_thresh = (floor->vac_ins_base_thresh < 0)
			? p.vac_ins_base_thresh
			: Min(floor->vac_ins_base_thresh, p.vac_ins_base_thresh);
		floor->vac_ins_scale_factor = Min(floor->vac_ins_scale_factor,
										  p.vac_ins_scale_factor);
	}
	floor->anl_base_thresh = Min(floor->anl_base_thresh, p.anl_base_thresh);
	floor->anl_scale_factor = Min(floor->anl_scale_factor, p.anl_scale_factor);
}

/*
 * al_estimate_table
 *		Does a table seem to need work, from its pgstats entry alone?
 *
 * The launcher sees no pg_class row, so it uses the live tuple count where
 * the worker uses reltuples, and the database's threshold floor (or the
 * GUCs, before a worker published one) where the worker uses the table's
 * own reloptions.  Wraparound is judged from pg_database instead.
 */
void
al_estimate_table(const AlVacuumSettings *s, const AlThresholdFloor *floor,
				  double n_live_tuples, double n_dead_tuples,
				  double inserts_since_vacuum, double changes_since_analyze,
				  AlTableEstimate *e)
{
	ThresholdParams p;
	double		live = Max(n_live_tuples, 0);
	double		vacthresh;
	double		anlthresh;
	double		ratio;

	if (floor != NULL && floor->known)
	{
		p.vac_base_thresh = floor->vac_base_thresh;
		p.vac_scale_factor = floor->vac_scale_factor;
		p.vac_ins_base_thresh = floor->vac_ins_base_thresh;
		p.vac_ins_scale_factor = floor->vac_ins_scale_factor;
		p.anl_base_thresh = floor->anl_base_thresh;
		p.anl_scale_factor = floor->anl_scale_factor;
	}
	else
		resolve_thresholds(s, NULL, &p);

	vacthresh = p.vac_base_thresh + p.vac_scale_factor * live;
	anlthresh = p.anl_base_thresh + p.anl_scale_factor * live;

	e->over_threshold = false;
	e->ratio = 0;
	if (!s->counts_active)
		return;

	ratio = Max(threshold_ratio(n_dead_tuples, vacthresh),
				threshold_ratio(changes_since_analyze, anlthresh));
	if (n_dead_tuples > vacthresh || changes_since_analyze > anlthresh)
		e->over_threshold = true;
	if (p.vac_ins_base_thresh >= 0)
	{
		double		insthresh = p.vac_ins_base_thresh +
			p.vac_ins_scale_factor * live;

		ratio = Max(ratio, threshold_ratio(inserts_since_vacuum, insthresh));
		if (inserts_since_vacuum > insthresh)
			e->over_threshold = true;
	}
	e->ratio = ratio;
}

/*
 * al_compare_databases
 *		Order databases by how badly they need a worker; qsort-style.
 *
 * XID wraparound danger first, oldest datfrozenxid first; then multixact
 * wraparound danger, oldest datminmxid first; then databases with fewer
 * workers already, so that a second worker in a busy database comes after
 * the first worker everywhere else; then the most estimated work; then the
 * database we visited longest ago.
 */
int
al_compare_databases(const AlDatabaseCandidate *a,
					 const AlDatabaseCandidate *b)
{
	if (a->xid_wraparound != b->xid_wraparound)
		return a->xid_wraparound ? -1 : 1;
	if (a->xid_wraparound && a->datfrozenxid != b->datfrozenxid)
		return TransactionIdPrecedes(a->datfrozenxid, b->datfrozenxid) ? -1 : 1;

	if (a->multi_wraparound != b->multi_wraparound)
		return a->multi_wraparound ? -1 : 1;
	if (a->multi_wraparound && a->datminmxid != b->datminmxid)
		return MultiXactIdPrecedes(a->datminmxid, b->datminmxid) ? -1 : 1;

	if (a->workers != b->workers)
		return (a->workers < b->workers) ? -1 : 1;
	if (a->score != b->score)
		return (a->score > b->score) ? -1 : 1;
	if (a->last_dispatch_at != b->last_dispatch_at)
		return (a->last_dispatch_at < b->last_dispatch_at) ? -1 : 1;
	return (a->dboid < b->dboid) ? -1 : (a->dboid > b->dboid) ? 1 : 0;
}

/*
 * al_compute_cost_limit
 *		One worker's share of the vacuum cost budget.
 *
 * Core's autovac_balance_cost(): the budget total_limit/total_delay is
 * shared among balanced workers in proportion to their own base
 * limit/delay (cost_total is the sum of those ratios, including this
 * worker's).  Workers with equal settings get equal shares.  The result is
 * never above the worker's base limit and never below 1.
 */
int
al_compute_cost_limit(int total_limit, double total_delay,
					  int my_limit_base, double cost_total)
{
	double		cost_avail;
	int			limit;

	if (total_limit <= 0 || total_delay <= 0 || cost_total <= 0)
		return my_limit_base;

	cost_avail = (double) total_limit / total_delay;
	limit = (int) (cost_avail * my_limit_base / cost_total);
	return Max(Min(limit, my_limit_base), 1);
}

/*
 * al_failure_backoff_ms
 *		How long the launcher leaves a database alone after its workers
 *		failed consecutive_failures times in a row.
 *
 * Twice the naptime after one failure, doubling with each further one, up
 * to 64 naptimes: a database whose worker fails every time gets ever fewer
 * of the workers, and the others keep theirs.
 */
int64
al_failure_backoff_ms(int naptime_s, int consecutive_failures)
{
	if (consecutive_failures <= 0)
		return 0;
	return (int64) naptime_s * 1000 << Min(consecutive_failures, 6);
}

/*
 * al_fruitless_holdoff_ms
 *		How long the launcher sends no worker to a database on the strength
 *		of its estimate alone, after fruitless_visits visits in a row found
 *		nothing to do there.
 *
 * The launcher's estimate can see work that is not there (a low reloption
 * threshold on one table lowers the floor for all), and a database whose
 * statistics keep moving would then get a useless worker on every pass.
 * One naptime after the first such visit, doubling with each further one,
 * up to max_visit_interval: the launches stay logarithmic in time.
 * Wraparound and safety visits do not wait for this.
 */
int64
al_fruitless_holdoff_ms(int naptime_s, int max_visit_interval_s,
						int fruitless_visits)
{
	int64		holdoff;

	if (fruitless_visits <= 0)
		return 0;
	holdoff = (int64) naptime_s * 1000 << Min(fruitless_visits - 1, 16);
	return Min(holdoff, (int64) max_visit_interval_s * 1000);
}
