/*-------------------------------------------------------------------------
 *
 * testing.c
 *		Fault injection for pg_autolauncher's own tests.
 *
 * This file is compiled only into test builds ("make AL_TESTING=1"; the
 * test command does this), never into a normal build.  It offers two C
 * functions, which the TAP tests declare themselves.  The first injects
 * faults:
 *
 *	CREATE FUNCTION al_test_inject(what text, dboid oid)
 *		RETURNS void AS 'pg_autolauncher', 'pg_autolauncher_test_inject'
 *		LANGUAGE C STRICT;
 *
 * what is one of:
 *	'launcher_loop'		the launcher raises an ERROR at the top of its next
 *						loop (then the postmaster restarts it);
 *	'launcher_dispatch' the launcher raises an ERROR in its next dispatch,
 *						after it reserved a slot and before it registered
 *						the worker;
 *	'worker'			every worker in database dboid raises an ERROR right
 *						after claiming its slot, until cleared;
 *	'worker_wait_in_list'	the next worker in database dboid waits, once,
 *						while it lists its tables, until it is cancelled (a
 *						minute at most);
 *	'stale_block'		store a DDL block on database dboid that claims the
 *						caller's PID but another PGPROC, as a dead backend
 *						whose PID was reused would have left it;
 *	'none'				clear all of the above but stale blocks.
 *
 * The flags live in AlSharedState and are read by the launcher
 * (al_check_injected_launcher_error) and the worker.
 *
 * The second runs one function of the pure policy (policy.c) on inputs
 * given as a jsonb object, and returns its result as one, so that
 * t/070_policy.pl can check tables of cases:
 *
 *	CREATE FUNCTION al_test_policy(fn text, input jsonb) RETURNS jsonb
 *		AS 'pg_autolauncher', 'pg_autolauncher_test_policy'
 *		LANGUAGE C STRICT;
 *
 * Times are given and returned in milliseconds relative to a fixed "now";
 * XIDs as ages (how many transactions before the next XID); missing keys
 * take the values of a default configuration (autovacuum's defaults,
 * naptime 60 s, max_visit_interval 600 s).  See policy_* below for the keys
 * each function reads.
 *
 * IDENTIFICATION
 *	  src/testing.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "pg_autolauncher.h"

PG_FUNCTION_INFO_V1(pg_autolauncher_test_inject);
PG_FUNCTION_INFO_V1(pg_autolauncher_test_policy);

Datum
pg_autolauncher_test_inject(PG_FUNCTION_ARGS)
{
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			dboid = PG_GETARG_OID(1);

	al_require_shared_state();
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to inject faults")));

	LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	if (strcmp(what, "launcher_loop") == 0)
		AlShared->inject_launcher_error = AL_INJECT_LAUNCHER_LOOP;
	else if (strcmp(what, "launcher_dispatch") == 0)
		AlShared->inject_launcher_error = AL_INJECT_LAUNCHER_DISPATCH;
	else if (strcmp(what, "worker") == 0)
		AlShared->inject_worker_error_db = dboid;
	else if (strcmp(what, "worker_wait_in_list") == 0)
		AlShared->inject_worker_wait_db = dboid;
	else if (strcmp(what, "stale_block") == 0)
	{
		LWLockRelease(AlShared->lock);
		al_inject_stale_block(dboid);
		LWLockAcquire(AlShared->lock, LW_EXCLUSIVE);
	}
	else if (strcmp(what, "none") == 0)
	{
		AlShared->inject_launcher_error = AL_INJECT_NONE;
		AlShared->inject_worker_error_db = InvalidOid;
		AlShared->inject_worker_wait_db = InvalidOid;
	}
	else
	{
		LWLockRelease(AlShared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown fault \"%s\"", what)));
	}
	LWLockRelease(AlShared->lock);

	(void) al_wake_launcher();
	PG_RETURN_VOID();
}

/* The fixed "now" of policy tests, and the XID and multixact counters. */
#define TEST_NOW		((TimestampTz) 800000000000000)
#define TEST_NEXT_XID	((TransactionId) 1000000000)
#define TEST_NEXT_MULTI	((MultiXactId) 100000000)

/* A key of the input object as a double, or dflt if it is absent. */
static double
in_num(Jsonb *in, const char *key, double dflt)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&in->root, key, strlen(key), &v) == NULL)
		return dflt;
	if (v.type == jbvNumeric)
		return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												  NumericGetDatum(v.val.numeric)));
	if (v.type == jbvBool)
		return v.val.boolean ? 1 : 0;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("policy test input \"%s\" must be a number or a boolean",
					key)));
	return dflt;				/* keep the compiler quiet */
}

static bool
in_bool(Jsonb *in, const char *key, bool dflt)
{
	return in_num(in, key, dflt ? 1 : 0) != 0;
}

/* A time given in milliseconds from now; absent or null: 0 ("never"). */
static TimestampTz
in_time(Jsonb *in, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&in->root, key, strlen(key), &v) == NULL ||
		v.type == jbvNull)
		return 0;
	return TEST_NOW + (TimestampTz) (in_num(in, key, 0) * 1000);
}

/* An XID given as an age; absent: InvalidTransactionId. */
static TransactionId
in_xid(Jsonb *in, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&in->root, key, strlen(key), &v) == NULL)
		return InvalidTransactionId;
	return TEST_NEXT_XID - (TransactionId) (int64) in_num(in, key, 0);
}

static MultiXactId
in_multi(Jsonb *in, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&in->root, key, strlen(key), &v) == NULL)
		return InvalidMultiXactId;
	return TEST_NEXT_MULTI - (MultiXactId) (int64) in_num(in, key, 0);
}

/* A time as milliseconds from now, for the output; 0 is "null". */
static void
out_time(StringInfo out, const char *key, TimestampTz t)
{
	if (t == 0)
		appendStringInfo(out, ", \"%s\": null", key);
	else
		appendStringInfo(out, ", \"%s\": %lld", key,
						 (long long) ((t - TEST_NOW) / 1000));
}

static void
out_num(StringInfo out, const char *key, double v)
{
	if (v >= DBL_MAX)
		appendStringInfo(out, ", \"%s\": \"infinity\"", key);
	else
		appendStringInfo(out, ", \"%s\": %.6g", key, v);
}

/* The settings: autovacuum's defaults, unless the input overrides them. */
static void
policy_settings(Jsonb *in, AlVacuumSettings *s)
{
	memset(s, 0, sizeof(AlVacuumSettings));
	s->vac_base_thresh = (int) in_num(in, "vacuum_threshold", 50);
	s->vac_scale_factor = in_num(in, "vacuum_scale_factor", 0.2);
	s->vac_ins_base_thresh = (int) in_num(in, "vacuum_insert_threshold", 1000);
	s->vac_ins_scale_factor = in_num(in, "vacuum_insert_scale_factor", 0.2);
	s->anl_base_thresh = (int) in_num(in, "analyze_threshold", 50);
	s->anl_scale_factor = in_num(in, "analyze_scale_factor", 0.1);
	s->freeze_max_age = (int) in_num(in, "freeze_max_age", 200000000);
	s->multixact_freeze_max_age = (int) in_num(in, "multixact_freeze_max_age",
											   400000000);
	s->recent_xid = TEST_NEXT_XID;
	s->recent_multi = TEST_NEXT_MULTI;
	s->counts_active = in_bool(in, "track_counts", true);
	s->cost_limit = 200;
	s->cost_delay = 2;
	s->naptime_s = (int) in_num(in, "naptime", 60);
	s->max_visit_interval_s = (int) in_num(in, "max_visit_interval", 600);
}

/*
 * The reloptions of a table, or a database's floor (prefix "floor_"):
 * "<prefix>vacuum_threshold" and so on; none given: NULL.
 */
static bool
policy_opts(Jsonb *in, const char *prefix, AlTableOpts *o)
{
	bool		any = false;
	char		key[NAMEDATALEN];

#define OPT(field, dflt) \
	do { \
		snprintf(key, sizeof(key), "%s%s", prefix, #field); \
		o->field = in_num(in, key, dflt); \
		if (o->field != (dflt)) \
			any = true; \
	} while (0)

	o->enabled = true;
	snprintf(key, sizeof(key), "%senabled", prefix);
	if (!in_bool(in, key, true))
	{
		o->enabled = false;
		any = true;
	}
	OPT(vacuum_threshold, -1);
	OPT(vacuum_ins_threshold, -2);
	OPT(analyze_threshold, -1);
	OPT(freeze_max_age, -1);
	OPT(multixact_freeze_max_age, -1);
	OPT(vacuum_scale_factor, -1);
	OPT(vacuum_ins_scale_factor, -1);
	OPT(analyze_scale_factor, -1);
#undef OPT
	return any;
}

/*
 * table_verdict: al_table_verdict().  Keys: known (a worker read its
 * pg_class row), reltuples, relpages, xid_age, mxid_age, the table's
 * reloptions, n_live, n_dead, inserted (since vacuum), modified (since
 * analyze), has_stats, not_before, last_analyze (end), last_analyze_ms,
 * last_run_ms; floor_known and floor_* for its database's floor.
 */
static void
policy_table_verdict(Jsonb *in, StringInfo out)
{
	AlVacuumSettings s;
	AlFloor		floor;
	AlTableFacts f;
	AlTableOpts compact;
	AutoVacOpts opts;
	AlTableVerdict v;

	policy_settings(in, &s);
	al_floor_init(&floor);
	floor.known = in_bool(in, "floor_known", false);
	(void) policy_opts(in, "floor_", &floor.min);

	memset(&f, 0, sizeof(f));
	f.info_known = in_bool(in, "known", true);
	f.input.relid = 16384;
	f.input.relkind = RELKIND_RELATION;
	f.input.reltuples = in_num(in, "reltuples", -1);
	f.input.relfrozenxid = in_xid(in, "xid_age");
	f.input.relminmxid = in_multi(in, "mxid_age");
	if (policy_opts(in, "", &compact))
	{
		al_opts_expand(&compact, &opts);
		f.input.opts = &opts;
	}
	f.input.has_stats = in_bool(in, "has_stats", true);
	f.input.n_live_tuples = in_num(in, "n_live", 0);
	f.input.n_dead_tuples = in_num(in, "n_dead", 0);
	f.input.inserts_since_vacuum = in_num(in, "inserted", 0);
	f.input.changes_since_analyze = in_num(in, "modified", 0);
	f.relpages = (BlockNumber) in_num(in, "relpages", 0);
	f.not_before = in_time(in, "not_before");
	f.retrying = in_bool(in, "retrying", false);
	f.last_analyze_end = in_time(in, "last_analyze");
	f.last_analyze_ms = (int32) in_num(in, "last_analyze_ms", -1);
	f.last_run_ms = (int32) in_num(in, "last_run_ms", -1);

	al_table_verdict(&s, &floor, &f, TEST_NOW, &v);
	appendStringInfo(out, "\"due\": %s, \"vacuum\": %s, \"analyze\": %s, "
					 "\"wraparound\": %s, \"verify\": %s, \"fast\": %s",
					 v.due ? "true" : "false", v.dovacuum ? "true" : "false",
					 v.doanalyze ? "true" : "false",
					 v.wraparound ? "true" : "false",
					 v.verify ? "true" : "false", v.fast ? "true" : "false");
	out_num(out, "score", v.score);
	out_num(out, "headroom", v.headroom);
	out_time(out, "wait_until", v.wait_until);
}

/*
 * database_verdict: al_database_verdict().  Keys: blocked, datallowconn,
 * datfrozenxid_age, datminmxid_age, has_stats, known, deadline_age and
 * mxid_deadline_age (negative: in the future), changed, last_scan,
 * last_dispatch, backoff_until, workers, idle_workers, fast_workers, due,
 * due_fast, cap.
 */
static void
policy_database_verdict(Jsonb *in, StringInfo out)
{
	AlVacuumSettings s;
	AlDatabaseFacts f;
	AlDatabaseVerdict v;

	policy_settings(in, &s);
	memset(&f, 0, sizeof(f));
	f.dboid = 16384;
	f.blocked = in_bool(in, "blocked", false);
	f.datallowconn = in_bool(in, "datallowconn", true);
	f.datfrozenxid = in_xid(in, "datfrozenxid_age");
	if (!TransactionIdIsValid(f.datfrozenxid))
		f.datfrozenxid = TEST_NEXT_XID - 1000;
	f.datminmxid = in_multi(in, "datminmxid_age");
	if (!MultiXactIdIsValid(f.datminmxid))
		f.datminmxid = TEST_NEXT_MULTI - 10;
	f.has_stats = in_bool(in, "has_stats", true);
	f.tracked = in_bool(in, "tracked", true);
	f.known = in_bool(in, "known", true);
	f.freeze_deadline = in_xid(in, "deadline_age");
	f.mxid_deadline = in_multi(in, "mxid_deadline_age");
	f.changed_since_scan = in_bool(in, "changed", false);
	f.last_scan_at = in_time(in, "last_scan");
	f.last_dispatch_at = in_time(in, "last_dispatch");
	f.backoff_until = in_time(in, "backoff_until");
	f.workers = (int) in_num(in, "workers", 0);
	f.idle_workers = (int) in_num(in, "idle_workers", 0);
	f.fast_workers = (int) in_num(in, "fast_workers", 0);
	f.due = (int) in_num(in, "due", 0);
	f.due_fast = (int) in_num(in, "due_fast", 0);

	al_database_verdict(&s, &f, TEST_NOW, (int) in_num(in, "cap", 3), &v);
	appendStringInfo(out, "\"kind\": \"%s\", \"wanted\": %d, \"wake_idle\": %s",
					 v.kind == AL_VISIT_NONE ? "none" : al_visit_kind_name(v.kind),
					 v.wanted, v.wake_idle ? "true" : "false");
	out_time(out, "next_check", v.next_check_at);
}

/*
 * compare: al_compare_candidates() of a and b, each given by the keys
 * a_kind / b_kind (a visit kind's name), a_xid_age, a_workers, a_score,
 * a_last_dispatch, a_dboid: -1 if a goes first.
 */
static AlVisitKind
kind_by_name(const char *name)
{
	for (int k = AL_VISIT_NONE; k <= AL_VISIT_XID_WRAP_SCAN; k++)
		if (strcmp(name, al_visit_kind_name((AlVisitKind) k)) == 0)
			return (AlVisitKind) k;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown visit kind \"%s\"", name)));
	return AL_VISIT_NONE;		/* keep the compiler quiet */
}

static void
policy_candidate(Jsonb *in, const char *p, AlDatabaseCandidate *c)
{
	char		key[NAMEDATALEN];
	JsonbValue	v;

	memset(c, 0, sizeof(*c));
	snprintf(key, sizeof(key), "%s_kind", p);
	if (getKeyJsonValueFromContainer(&in->root, key, strlen(key), &v) == NULL ||
		v.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy test input \"%s\" must be a string", key)));
	c->kind = kind_by_name(pnstrdup(v.val.string.val, v.val.string.len));
	snprintf(key, sizeof(key), "%s_xid_age", p);
	c->datfrozenxid = TEST_NEXT_XID - (TransactionId) in_num(in, key, 1000);
	snprintf(key, sizeof(key), "%s_mxid_age", p);
	c->datminmxid = TEST_NEXT_MULTI - (MultiXactId) in_num(in, key, 10);
	snprintf(key, sizeof(key), "%s_workers", p);
	c->workers = (int) in_num(in, key, 0);
	snprintf(key, sizeof(key), "%s_score", p);
	c->score = in_num(in, key, 0);
	snprintf(key, sizeof(key), "%s_last_dispatch", p);
	c->last_dispatch_at = in_time(in, key);
	snprintf(key, sizeof(key), "%s_dboid", p);
	c->dboid = (Oid) in_num(in, key, p[0] == 'a' ? 1 : 2);
}

static void
policy_compare(Jsonb *in, StringInfo out)
{
	AlDatabaseCandidate a;
	AlDatabaseCandidate b;

	policy_candidate(in, "a", &a);
	policy_candidate(in, "b", &b);
	appendStringInfo(out, "\"order\": %d", al_compare_candidates(&a, &b));
}

/*
 * intervals: al_revisit_after_ms(run_ms), al_retry_after_ms(naptime,
 * max_visit_interval, retries) and al_analyze_allowed() for a table whose
 * last ANALYZE ended at last_analyze and took last_analyze_ms, with
 * modified tuples against threshold; and al_fast_table(known, relpages,
 * tuples, last_run_ms).
 */
static void
policy_intervals(Jsonb *in, StringInfo out)
{
	AlVacuumSettings s;
	TimestampTz allowed_at;
	bool		allowed;

	policy_settings(in, &s);
	appendStringInfo(out, "\"revisit_ms\": %lld, \"retry_ms\": %lld",
					 (long long) al_revisit_after_ms((int32) in_num(in, "run_ms", 0)),
					 (long long) al_retry_after_ms(s.naptime_s,
												   s.max_visit_interval_s,
												   (int) in_num(in, "retries", 1)));
	allowed = al_analyze_allowed(&s, in_time(in, "last_analyze"),
								 (int32) in_num(in, "last_analyze_ms", -1),
								 in_num(in, "modified", 0),
								 in_num(in, "threshold", 50), TEST_NOW,
								 &allowed_at);
	appendStringInfo(out, ", \"analyze_allowed\": %s",
					 allowed ? "true" : "false");
	out_time(out, "analyze_at", allowed_at);
	appendStringInfo(out, ", \"fast\": %s",
					 al_fast_table(in_bool(in, "known", true),
								   (BlockNumber) in_num(in, "relpages", 0),
								   in_num(in, "tuples", 0),
								   (int32) in_num(in, "last_run_ms", -1))
					 ? "true" : "false");
}

Datum
pg_autolauncher_test_policy(PG_FUNCTION_ARGS)
{
	char	   *fn = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *in = PG_GETARG_JSONB_P(1);
	StringInfoData out;

	if (!JB_ROOT_IS_OBJECT(in))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("policy test input must be a jsonb object")));

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	if (strcmp(fn, "table_verdict") == 0)
		policy_table_verdict(in, &out);
	else if (strcmp(fn, "database_verdict") == 0)
		policy_database_verdict(in, &out);
	else if (strcmp(fn, "compare") == 0)
		policy_compare(in, &out);
	else if (strcmp(fn, "intervals") == 0)
		policy_intervals(in, &out);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown policy function \"%s\"", fn)));
	appendStringInfoChar(&out, '}');

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
