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

#include "access/multixact.h"
#include "access/transam.h"
#include "catalog/pg_statistic.h"
#include "commands/vacuum.h"
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
 *
 * Each reloption overrides its GUC when it is >= 0, except the insert
 * threshold, where -1 is a valid value meaning "no insert vacuums".
 */
void
al_decide_table(const AlVacuumSettings *s, const AlTableInput *t,
				AlTableDecision *d)
{
	const AutoVacOpts *o = t->opts;
	int			vac_base_thresh;
	int			vac_ins_base_thresh;
	int			anl_base_thresh;
	double		vac_scale_factor;
	double		vac_ins_scale_factor;
	double		anl_scale_factor;
	int			freeze_max_age;
	int			multixact_freeze_max_age;
	double		reltuples;

	vac_scale_factor = (o && o->vacuum_scale_factor >= 0)
		? o->vacuum_scale_factor : s->vac_scale_factor;
	vac_base_thresh = (o && o->vacuum_threshold >= 0)
		? o->vacuum_threshold : s->vac_base_thresh;
	vac_ins_scale_factor = (o && o->vacuum_ins_scale_factor >= 0)
		? o->vacuum_ins_scale_factor : s->vac_ins_scale_factor;
	vac_ins_base_thresh = (o && o->vacuum_ins_threshold >= -1)
		? o->vacuum_ins_threshold : s->vac_ins_base_thresh;
	anl_scale_factor = (o && o->analyze_scale_factor >= 0)
		? o->analyze_scale_factor : s->anl_scale_factor;
	anl_base_thresh = (o && o->analyze_threshold >= 0)
		? o->analyze_threshold : s->anl_base_thresh;
	freeze_max_age = (o && o->freeze_max_age >= 0)
		? Min(o->freeze_max_age, s->freeze_max_age) : s->freeze_max_age;
	multixact_freeze_max_age = (o && o->multixact_freeze_max_age >= 0)
		? Min(o->multixact_freeze_max_age, s->multixact_freeze_max_age)
		: s->multixact_freeze_max_age;

	/* If the table hasn't yet been vacuumed, take reltuples as zero */
	reltuples = Max(t->reltuples, 0);

	d->vacthresh = vac_base_thresh + vac_scale_factor * reltuples;
	d->insthresh = (vac_ins_base_thresh >= 0)
		? vac_ins_base_thresh + vac_ins_scale_factor * reltuples : -1;
	d->anlthresh = anl_base_thresh + anl_scale_factor * reltuples;

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
		if (vac_ins_base_thresh >= 0 && t->inserts_since_vacuum > d->insthresh)
			d->dovacuum = true;
		if (t->changes_since_analyze > d->anlthresh)
			d->doanalyze = true;

		score = threshold_ratio(t->n_dead_tuples, d->vacthresh);
		if (vac_ins_base_thresh >= 0)
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
 * al_compare_databases
 *		Order databases by how badly they need a worker; qsort-style.
 *
 * XID wraparound danger first, oldest datfrozenxid first; then multixact
 * wraparound danger, oldest datminmxid first; then the most modifications
 * since our last visit; then the database we visited longest ago.
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

	if (a->changes != b->changes)
		return (a->changes > b->changes) ? -1 : 1;
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
