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

#include "pg_autolauncher.h"
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
	settings->naptime_s = al_naptime;
	settings->max_visit_interval_s = al_max_visit_interval;
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
 * al_opts_compact
 *		Keep the part of a table's reloptions (or none: NULL) that the
 *		schedule depends on.
 */
void
al_opts_compact(const AutoVacOpts *opts, AlTableOpts *c)
{
	/* zeroed whole: the state file writes it, padding included */
	memset(c, 0, sizeof(AlTableOpts));
	c->enabled = opts ? opts->enabled : true;
	c->vacuum_threshold = opts ? opts->vacuum_threshold : -1;
	c->vacuum_ins_threshold = (opts && opts->vacuum_ins_threshold >= -1)
		? opts->vacuum_ins_threshold : -2;
	c->analyze_threshold = opts ? opts->analyze_threshold : -1;
	c->freeze_max_age = opts ? opts->freeze_max_age : -1;
	c->multixact_freeze_max_age = opts ? opts->multixact_freeze_max_age : -1;
	c->vacuum_scale_factor = opts ? opts->vacuum_scale_factor : -1;
	c->vacuum_ins_scale_factor = opts ? opts->vacuum_ins_scale_factor : -1;
	c->analyze_scale_factor = opts ? opts->analyze_scale_factor : -1;
}

/*
 * al_opts_expand
 *		Core's AutoVacOpts for a compact copy: what the schedule does not keep
 *		is "not set".
 */
void
al_opts_expand(const AlTableOpts *c, AutoVacOpts *opts)
{
	memset(opts, 0, sizeof(AutoVacOpts));
	opts->enabled = c->enabled;
	opts->vacuum_threshold = c->vacuum_threshold;
	opts->vacuum_ins_threshold = c->vacuum_ins_threshold;
	opts->analyze_threshold = c->analyze_threshold;
	opts->vacuum_cost_limit = -1;
	opts->freeze_min_age = -1;
	opts->freeze_max_age = c->freeze_max_age;
	opts->freeze_table_age = -1;
	opts->multixact_freeze_min_age = -1;
	opts->multixact_freeze_max_age = c->multixact_freeze_max_age;
	opts->multixact_freeze_table_age = -1;
	opts->log_min_duration = -1;
	opts->vacuum_cost_delay = -1;
	opts->vacuum_scale_factor = c->vacuum_scale_factor;
	opts->vacuum_ins_scale_factor = c->vacuum_ins_scale_factor;
	opts->analyze_scale_factor = c->analyze_scale_factor;
}

/*
 * al_floor_init
 *		A floor that knows nothing: until a worker scans the database, the
 *		lowest that reloptions allow (al_floor_opts).
 */
void
al_floor_init(AlFloor *floor)
{
	memset(floor, 0, sizeof(AlFloor));
	floor->known = false;
	al_opts_compact(NULL, &floor->min);
}

/* lower *min to v, if v is set (>= 0) */
static void
lower_int(int32 *min, int32 v)
{
	if (v >= 0)
		*min = (*min < 0) ? v : Min(*min, v);
}

static void
lower_float(float4 *min, double v)
{
	if (v >= 0)
		*min = (*min < 0) ? (float4) v : Min(*min, (float4) v);
}

/*
 * al_floor_add
 *		Lower a floor to cover one more table with reloptions opts (NULL: none).
 *		A table that disables insert vacuums (-1) lowers nothing.
 */
void
al_floor_add(AlFloor *floor, const AutoVacOpts *opts)
{
	floor->known = true;
	if (opts == NULL)
		return;
	lower_int(&floor->min.vacuum_threshold, opts->vacuum_threshold);
	lower_int(&floor->min.vacuum_ins_threshold, opts->vacuum_ins_threshold);
	lower_int(&floor->min.analyze_threshold, opts->analyze_threshold);
	lower_int(&floor->min.freeze_max_age, opts->freeze_max_age);
	lower_int(&floor->min.multixact_freeze_max_age,
			  opts->multixact_freeze_max_age);
	lower_float(&floor->min.vacuum_scale_factor, opts->vacuum_scale_factor);
	lower_float(&floor->min.vacuum_ins_scale_factor,
				opts->vacuum_ins_scale_factor);
	lower_float(&floor->min.analyze_scale_factor, opts->analyze_scale_factor);
}

/*
 * al_floor_lower_to_minimum
 *		A table's autovacuum reloptions changed, to values we have not read:
 *		assume the lowest they allow until a worker scans the database again.
 */
void
al_floor_lower_to_minimum(AlFloor *floor)
{
	AlTableOpts *m = &floor->min;

	m->vacuum_threshold = 0;
	m->vacuum_ins_threshold = 0;
	m->analyze_threshold = 0;
	m->freeze_max_age = AL_MIN_FREEZE_MAX_AGE;
	m->multixact_freeze_max_age = AL_MIN_MXID_FREEZE_MAX_AGE;
	m->vacuum_scale_factor = 0;
	m->vacuum_ins_scale_factor = 0;
	m->analyze_scale_factor = 0;
}

/* the lower of a reloption minimum (< 0: none) and its GUC */
static int
floor_int(int min, int guc)
{
	return (min >= 0) ? Min(min, guc) : guc;
}

static double
floor_float(double min, double guc)
{
	return (min >= 0) ? Min(min, guc) : guc;
}

/*
 * al_floor_opts
 *		The reloptions with which to judge a table of the database that no
 *		worker has read: at or below every table's thresholds, so that the
 *		estimate may see work that is not there, never miss work that is.
 *		With no known floor, base 0 and scale 0: any dead, inserted or
 *		modified tuple at all.
 */
void
al_floor_opts(const AlVacuumSettings *s, const AlFloor *floor,
			  AutoVacOpts *opts)
{
	AlTableOpts c;

	al_opts_compact(NULL, &c);
	if (!floor->known)
	{
		c.vacuum_threshold = 0;
		c.vacuum_ins_threshold = 0;
		c.analyze_threshold = 0;
		c.vacuum_scale_factor = 0;
		c.vacuum_ins_scale_factor = 0;
		c.analyze_scale_factor = 0;
	}
	else
	{
		c.vacuum_threshold = floor_int(floor->min.vacuum_threshold,
									   s->vac_base_thresh);
		c.analyze_threshold = floor_int(floor->min.analyze_threshold,
										s->anl_base_thresh);
		/* a GUC of -1 disables insert vacuums but for tables that set it */
		c.vacuum_ins_threshold = (s->vac_ins_base_thresh < 0)
			? ((floor->min.vacuum_ins_threshold >= 0)
			   ? floor->min.vacuum_ins_threshold : -1)
			: floor_int(floor->min.vacuum_ins_threshold, s->vac_ins_base_thresh);
		c.vacuum_scale_factor = floor_float(floor->min.vacuum_scale_factor,
											s->vac_scale_factor);
		c.vacuum_ins_scale_factor = floor_float(floor->min.vacuum_ins_scale_factor,
												s->vac_ins_scale_factor);
		c.analyze_scale_factor = floor_float(floor->min.analyze_scale_factor,
											 s->anl_scale_factor);
	}
	al_opts_expand(&c, opts);
}

/*
 * al_floor_headroom
 *		How many inserts, updates and deletes a table the registry does not
 *		hold can take, judged by the floor, before it may be due: the least
 *		of the floor's base thresholds (reltuples taken as 0).  A database's
 *		tables can all stay under their thresholds while one it has not
 *		learnt yet crosses this.
 */
double
al_floor_headroom(const AlVacuumSettings *s, const AlFloor *floor)
{
	AutoVacOpts opts;
	double		headroom;

	al_floor_opts(s, floor, &opts);
	headroom = Min(opts.vacuum_threshold, opts.analyze_threshold);
	if (opts.vacuum_ins_threshold >= 0)
		headroom = Min(headroom, opts.vacuum_ins_threshold);
	return Max(headroom, 0);
}

/*
 * al_table_headroom
 *		How many inserts, updates and deletes a table can take before any of
 *		its thresholds can be crossed: each of its counters grows by at most
 *		that many.  Negative when it is over one already; DBL_MAX when no
 *		counter can make it due.
 */
double
al_table_headroom(const AlTableInput *t, const AlTableDecision *d)
{
	double		headroom = DBL_MAX;

	if (!t->has_stats || (d->disabled && !d->wraparound))
		return DBL_MAX;
	headroom = d->vacthresh - t->n_dead_tuples;
	if (d->insthresh >= 0)
		headroom = Min(headroom, d->insthresh - t->inserts_since_vacuum);
	if (t->relid != StatisticRelationId && t->relkind != RELKIND_TOASTVALUE)
		headroom = Min(headroom, d->anlthresh - t->changes_since_analyze);
	return headroom;
}

/* The same, for its vacuum thresholds only. */
static double
vacuum_headroom(const AlTableInput *t, const AlTableDecision *d)
{
	double		headroom;

	if (!t->has_stats || (d->disabled && !d->wraparound))
		return DBL_MAX;
	headroom = d->vacthresh - t->n_dead_tuples;
	if (d->insthresh >= 0)
		headroom = Min(headroom, d->insthresh - t->inserts_since_vacuum);
	return headroom;
}

/*
 * al_analyze_allowed
 *		May a table that needs ANALYZE have it now?
 *
 * An ANALYZE holds a snapshot while it samples, and for that time no dead
 * tuple can be pruned in its database.  So a table whose last ANALYZE took
 * last_ms runs it at most every max(naptime, 50 x last_ms): one table's
 * holds take at most 2% of the time, and none is analyzed more often than
 * core's once per naptime.  When its modifications are ten times past the
 * threshold, the planner's statistics are far off: then the interval is
 * max(naptime / 4, 10 x last_ms), holds at most 10% of the time.
 * *allowed_at says when it may run, if not now.
 */
bool
al_analyze_allowed(const AlVacuumSettings *s, TimestampTz last_end,
				   int32 last_ms, double changes_since_analyze,
				   double anlthresh, TimestampTz now, TimestampTz *allowed_at)
{
	int64		interval_ms;
	bool		far = changes_since_analyze > 10 * Max(anlthresh, 1.0);

	*allowed_at = 0;
	if (last_end == 0 || last_ms < 0)
		return true;
	if (far)
		interval_ms = Max((int64) s->naptime_s * 1000 / 4, (int64) last_ms * 10);
	else
		interval_ms = Max((int64) s->naptime_s * 1000, (int64) last_ms * 50);
	*allowed_at = TimestampTzPlusMilliseconds(last_end, interval_ms);
	if (now >= *allowed_at)
	{
		*allowed_at = 0;
		return true;
	}
	return false;
}

/*
 * al_fast_table
 *		May the table use the fast lane?  Fewer than AL_FAST_TABLE_PAGES
 *		pages, or a last run shorter than AL_FAST_TABLE_MS; for a table whose
 *		pg_class row no worker has read, fewer than AL_FAST_TABLE_TUPLES live
 *		and dead tuples in its statistics.
 */
bool
al_fast_table(bool info_known, BlockNumber relpages, double tuples,
			  int32 last_run_ms)
{
	if (last_run_ms >= 0 && last_run_ms < AL_FAST_TABLE_MS)
		return true;
	return info_known ? relpages < AL_FAST_TABLE_PAGES
		: tuples < AL_FAST_TABLE_TUPLES;
}

/*
 * al_revisit_after_ms
 *		How long a processed table waits before it can be taken again:
 *		max(2 s, 4 x its run).  Backends flush their statistics at most once a
 *		second, so sooner the counters cannot show what happened since; and
 *		four times the run caps one table at a fifth of a worker's time.
 */
int64
al_revisit_after_ms(int32 run_ms)
{
	return Max((int64) 2000, (int64) Max(run_ms, 0) * 4);
}

/*
 * al_retry_after_ms
 *		How long a table that was skipped (locked), cancelled or failed waits
 *		before it is due again: a naptime after the first, doubling with each
 *		further one in a row, up to max_visit_interval.
 */
int64
al_retry_after_ms(int naptime_s, int max_visit_interval_s, int retries)
{
	int64		wait = (int64) naptime_s * 1000 << Min(Max(retries, 1) - 1, 16);

	return Min(wait, (int64) max_visit_interval_s * 1000);
}

/*
 * al_table_verdict
 *		The launcher's verdict on one table: is it due, and if not, when can
 *		that change?
 *
 * A known table is judged by core's formulas with its own reloptions and
 * reltuples (al_decide_table); an unknown one with the database's floor
 * and a reltuples of 0, and only a worker's look at it can say more.  A table
 * over a threshold is not due while it waits (not_before: its revisit or
 * retry time) or while its only work is an ANALYZE the ration defers.  A
 * temporary table, which only its own session can process, is never due.
 */
void
al_table_verdict(const AlVacuumSettings *s, const AlFloor *floor,
				 const AlTableFacts *f, TimestampTz now, AlTableVerdict *v)
{
	AlTableInput in = f->input;
	AutoVacOpts floor_opts;
	AlTableDecision d;
	TimestampTz allowed_at = 0;
	bool		waiting = (f->not_before > now);

	memset(v, 0, sizeof(AlTableVerdict));

	/* another session's temporary table: as core, never ours to process */
	if (f->info_known && f->temporary)
	{
		v->headroom = DBL_MAX;
		return;
	}
	if (!f->info_known)
	{
		al_floor_opts(s, floor, &floor_opts);
		in.opts = &floor_opts;
		/*
		 * Not n_live_tuples: a manual ANALYZE may have set reltuples lower,
		 * and only the base thresholds are sure to be at or below the
		 * table's own.
		 */
		in.reltuples = 0;
		in.relfrozenxid = InvalidTransactionId;
		in.relminmxid = InvalidMultiXactId;
	}
	al_decide_table(s, &in, &d);

	v->verify = !f->info_known;
	v->wraparound = d.wraparound;
	v->dovacuum = d.dovacuum;
	v->doanalyze = d.doanalyze &&
		al_analyze_allowed(s, f->last_analyze_end, f->last_analyze_ms,
						   in.changes_since_analyze, d.anlthresh, now,
						   &allowed_at);

	/*
	 * The revisit time after a run holds back what the run may have done
	 * again too soon; an ANALYZE that the ration kept out of it runs when
	 * the ration allows, not after the revisit too: a vacuum does not reset
	 * its counter, and the ration bounds it.  (A bulk load's ANALYZE would
	 * otherwise wait for the slow vacuum before it, and four times as long
	 * again.)  A retry time, after a skip, cancel or failure, holds back
	 * everything.
	 */
	if (waiting && !f->retrying && !d.dovacuum && v->doanalyze)
		waiting = false;

	v->score = d.score;
	v->fast = al_fast_table(f->info_known, f->relpages,
							f->input.n_live_tuples + f->input.n_dead_tuples,
							f->last_run_ms);
	v->headroom = al_table_headroom(&in, &d);
	v->vacuum_headroom = vacuum_headroom(&in, &d);

	if (waiting && (d.dovacuum || d.doanalyze))
		v->wait_until = f->not_before;
	else if (!d.dovacuum && d.doanalyze && !v->doanalyze)
		v->wait_until = allowed_at;
	v->due = !waiting && (v->dovacuum || v->doanalyze);
}

/* Has the XID reached deadline? */
bool
al_deadline_passed(TransactionId deadline, TransactionId recent_xid)
{
	return TransactionIdIsNormal(deadline) &&
		!TransactionIdPrecedes(recent_xid, deadline);
}

bool
al_mxid_deadline_passed(MultiXactId deadline, MultiXactId recent_multi)
{
	return MultiXactIdIsValid(deadline) &&
		!MultiXactIdPrecedes(recent_multi, deadline);
}

/* An XID that many transactions after xid, kept normal. */
static TransactionId
xid_after(TransactionId xid, int count)
{
	TransactionId result = xid + count;

	if (result < FirstNormalTransactionId)
		result += FirstNormalTransactionId;
	return result;
}

/*
 * al_database_verdict
 *		Does a database need a worker, of which kind, and how many more?
 *
 * In order: a DDL command needing it rules everything out; wraparound
 * (core's limits on datfrozenxid and datminmxid) or a passed freeze
 * deadline comes next, whatever the failure backoff, and gets a scan, then
 * helpers for its due tables, as many as it can use up to the cap; then
 * the backoff; then due tables in the queue, one more worker per due table
 * no idle worker there can take, all fast tables counting as one; then the safety scan of a database that
 * changed and has not been scanned for max_visit_interval.
 * per_database_cap is min(max_workers_per_database, max_workers), or
 * max_workers.  The fast lane is the launcher's to decide, since it needs
 * to know that every regular worker is busy.
 */
static void database_verdict(const AlVacuumSettings *s,
							 const AlDatabaseFacts *f, TimestampTz now,
							 int cap, AlDatabaseVerdict *v);

void
al_database_verdict(const AlVacuumSettings *s, const AlDatabaseFacts *f,
					TimestampTz now, int cap, AlDatabaseVerdict *v)
{
	AlDatabaseFacts known;
	TimestampTz scan_at;

	/*
	 * A database beyond max_databases has no entry to learn its tables'
	 * freeze deadline in, so the one assumed for a database no worker has
	 * scanned, 100,000 transactions after datfrozenxid, never moves: once
	 * passed, it would bring a scan every time.  It gets one every
	 * max_visit_interval instead; in between it is judged as a known
	 * database with no deadline of its own, so its due tables are served
	 * as anywhere else, and core's limits still apply.
	 */
	if (f->tracked || f->known || !TransactionIdIsNormal(f->datfrozenxid) ||
		!al_deadline_passed(xid_after(f->datfrozenxid, AL_MIN_FREEZE_MAX_AGE),
							s->recent_xid))
	{
		database_verdict(s, f, now, cap, v);
		return;
	}
	scan_at = (f->last_dispatch_at == 0) ? now
		: TimestampTzPlusMilliseconds(f->last_dispatch_at,
									  (int64) s->max_visit_interval_s * 1000);
	known = *f;
	known.known = true;
	known.freeze_deadline = InvalidTransactionId;
	known.mxid_deadline = InvalidMultiXactId;
	database_verdict(s, &known, now, cap, v);
	if (v->kind == AL_VISIT_NONE && !f->blocked && f->workers == 0 &&
		scan_at <= now)
	{
		v->kind = AL_VISIT_DEADLINE_SCAN;
		v->wanted = 1;
	}
	else if (scan_at > now &&
			 (v->next_check_at == 0 || scan_at < v->next_check_at))
		v->next_check_at = scan_at;
}

static void
database_verdict(const AlVacuumSettings *s, const AlDatabaseFacts *f,
				 TimestampTz now, int cap, AlDatabaseVerdict *v)
{
	bool		xid_wrap;
	bool		multi_wrap;
	bool		deadline;
	TimestampTz revisit_at;
	TimestampTz scan_base;
	int			takers;

	memset(v, 0, sizeof(AlDatabaseVerdict));
	if (f->blocked)
		return;

	xid_wrap = al_xid_is_wraparound(f->datfrozenxid, s->recent_xid,
									s->freeze_max_age);
	multi_wrap = al_multi_is_wraparound(f->datminmxid, s->recent_multi,
										s->multixact_freeze_max_age);
	if (f->known)
		deadline = al_deadline_passed(f->freeze_deadline, s->recent_xid) ||
			al_mxid_deadline_passed(f->mxid_deadline, s->recent_multi);
	else
		deadline = TransactionIdIsNormal(f->datfrozenxid) &&
			al_deadline_passed(xid_after(f->datfrozenxid,
										 AL_MIN_FREEZE_MAX_AGE),
							   s->recent_xid);

	/* work there is taken from the queue by the workers already there */
	v->wake_idle = (f->due > 0 && f->idle_workers > 0);

	if (xid_wrap || multi_wrap || deadline)
	{
		/*
		 * At most one scan every 10 s (or naptime): if something keeps its
		 * vacuum from advancing the horizon, redispatching at once would only
		 * spin.  Its due tables get helpers at once.
		 */
		revisit_at = TimestampTzPlusMilliseconds(f->last_dispatch_at,
												 Min((int64) s->naptime_s * 1000,
													 (int64) 10000));
		if (f->workers == 0 && f->last_dispatch_at != 0 && revisit_at > now)
			v->next_check_at = revisit_at;
		else if (f->workers == 0)
		{
			v->kind = xid_wrap ? AL_VISIT_XID_WRAP_SCAN
				: multi_wrap ? AL_VISIT_MULTI_WRAP_SCAN : AL_VISIT_DEADLINE_SCAN;
			v->wanted = 1;
		}
		else if (f->due > f->idle_workers && f->workers < cap)
		{
			v->kind = AL_VISIT_QUEUE;
			v->wanted = Min(f->due - f->idle_workers, cap - f->workers);
		}
		return;
	}

	if (f->backoff_until > now)
	{
		v->next_check_at = f->backoff_until;
		return;
	}
	if (!f->datallowconn)
		return;

	/*
	 * One worker per due table that no idle worker there can take; but the
	 * fast tables are one worker's work, since each takes it a moment.
	 */
	takers = (f->due - f->due_fast) + Min(f->due_fast, 1);
	if (takers > f->idle_workers && f->workers < cap)
	{
		v->kind = AL_VISIT_QUEUE;
		v->wanted = Min(takers - f->idle_workers, cap - f->workers);
		return;
	}

	/* the safety scan */
	scan_base = f->last_scan_at;
	if (f->workers == 0 && f->has_stats && f->changed_since_scan)
	{
		TimestampTz scan_at = TimestampTzPlusMilliseconds(scan_base,
														  (int64) s->max_visit_interval_s * 1000);

		if (scan_at <= now)
		{
			v->kind = AL_VISIT_SAFETY_SCAN;
			v->wanted = 1;
		}
		else
			v->next_check_at = scan_at;
	}
}

/* rank of a visit's kind: larger is more urgent */
static int
kind_rank(AlVisitKind kind)
{
	switch (kind)
	{
		case AL_VISIT_XID_WRAP_SCAN:
			return 5;
		case AL_VISIT_MULTI_WRAP_SCAN:
			return 4;
		case AL_VISIT_DEADLINE_SCAN:
			return 3;
		case AL_VISIT_QUEUE:
		case AL_VISIT_FAST:
			return 2;
		case AL_VISIT_SAFETY_SCAN:
			return 1;
		case AL_VISIT_NONE:
			break;
	}
	return 0;
}

/*
 * al_compare_candidates
 *		Order databases competing for free slots; qsort-style.
 *
 * XID wraparound first, oldest datfrozenxid first; multixact wraparound,
 * oldest datminmxid first; passed freeze deadlines; then due tables, the
 * databases with fewer workers first, so that a second worker in a busy
 * database comes after the first everywhere else, then the most urgent
 * table; then safety scans; ties go to the database visited longest ago.
 */
int
al_compare_candidates(const AlDatabaseCandidate *a, const AlDatabaseCandidate *b)
{
	int			ra = kind_rank(a->kind);
	int			rb = kind_rank(b->kind);

	if (ra != rb)
		return (ra > rb) ? -1 : 1;
	if (a->kind == AL_VISIT_XID_WRAP_SCAN && a->datfrozenxid != b->datfrozenxid)
		return TransactionIdPrecedes(a->datfrozenxid, b->datfrozenxid) ? -1 : 1;
	if (a->kind == AL_VISIT_MULTI_WRAP_SCAN && a->datminmxid != b->datminmxid)
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
