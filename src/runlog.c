/*-------------------------------------------------------------------------
 *
 * runlog.c
 *		Log a worker's runs as core logs its autovacuum runs, in core's own
 *		format and words, so that log tools (pgBadger) count them.
 *
 * Under log_autovacuum_min_duration (or the table's reloption), core's
 * autovacuum worker logs each run that took long enough:
 *
 *	automatic vacuum of table "db.schema.table": index scans: 1
 *	pages: 0 removed, 55 remain, 55 scanned (100.00% of total)
 *	tuples: 1000 removed, 10000 remain, 0 are dead but not yet removable
 *	...
 *	automatic analyze of table "db.schema.table"
 *	avg read rate: ... buffer usage: ... system usage: ...
 *
 * PostgreSQL 15 writes these only in core's autovacuum processes
 * (IsAutoVacuumWorkerProcess()).  The vacuum report needs figures only
 * heap_vacuum_rel() has (pages removed and scanned, index scans, the
 * removable cutoff, new relfrozenxid), and it writes the very same report,
 * as "finished vacuuming ...", for VACUUM (VERBOSE), at level INFO.  So:
 *
 *	- for a vacuum that may be logged, the worker runs it VERBOSE
 *	  (al_runlog_begin), and lowers log_min_messages to INFO while it runs,
 *	  so that its INFO messages reach emit_log_hook;
 *	- our hook (runlog_hook) drops VERBOSE's own messages, at level INFO,
 *	  and every other message the server would not have logged at the real
 *	  log_min_messages, and turns the final report into core's: level LOG,
 *	  and its first line
 *	  "automatic [aggressive] vacuum [to prevent wraparound] of table",
 *	  as heap_vacuum_rel() words it for autovacuum; when the run was
 *	  shorter than log_min_duration, it is dropped too;
 *	- the analyze report is ours to write (al_runlog_end), with the same
 *	  figures and words as do_analyze_rel(): its VERBOSE output in
 *	  PostgreSQL 15 has no summary.
 *
 * The words are the server's own, translated as the server translates
 * them (the "postgres-15" text domain), so the lines match core's in any
 * lc_messages.  VERBOSE changes nothing else in a vacuum: it only makes
 * heap_vacuum_rel() collect the figures it collects anyway for core's
 * autovacuum whenever log_min_duration >= 0.
 *
 * Only the worker (worker.c) calls this file, and only around vacuum().
 *
 * IDENTIFICATION
 *	  src/runlog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pg_rusage.h"
#include "utils/timestamp.h"

#include "pg_autolauncher.h"

#ifdef ENABLE_NLS
#define CORE_(msgid)	dgettext(PG_TEXTDOMAIN("postgres"), (msgid))
#else
#define CORE_(msgid)	(msgid)
#endif

/* The run being captured; NULL outside al_runlog_begin() .. _end(). */
static AlRunLog *capturing = NULL;
static int	saved_log_min_messages;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* The part of a translated format before its first conversion. */
static bool
starts_like(const char *message, const char *format)
{
	const char *pct = strchr(format, '%');
	size_t		len = pct ? (size_t) (pct - format) : strlen(format);

	return strncmp(message, format, len) == 0;
}

/* elog.c's is_log_level_output(), which is static there. */
static bool
level_is_logged(int elevel, int log_min_level)
{
	if (elevel == LOG || elevel == LOG_SERVER_ONLY)
		return log_min_level == LOG || log_min_level <= ERROR;
	if (elevel == WARNING_CLIENT_ONLY)
		return false;
	if (log_min_level == LOG)
		return elevel >= FATAL;
	return elevel >= log_min_level;
}

/*
 * Turn VACUUM (VERBOSE)'s final report into core's autovacuum report: the
 * same lines, but the first, reworded, with the count of index scans kept.
 */
static void
rewrite_vacuum_report(ErrorData *edata, AlRunLog *log)
{
	const char *rest = strchr(edata->message, '\n');
	const char *digits;
	const char *first;
	int			index_scans = 0;
	StringInfoData buf;

	/* the count of index scans ends the first line */
	first = rest ? rest : edata->message + strlen(edata->message);
	digits = first;
	while (digits > edata->message && isdigit((unsigned char) digits[-1]))
		digits--;
	if (digits < first)
		index_scans = atoi(digits);

	if (log->wraparound)
		first = log->aggressive
			? CORE_("automatic aggressive vacuum to prevent wraparound of table \"%s.%s.%s\": index scans: %d\n")
			: CORE_("automatic vacuum to prevent wraparound of table \"%s.%s.%s\": index scans: %d\n");
	else
		first = log->aggressive
			? CORE_("automatic aggressive vacuum of table \"%s.%s.%s\": index scans: %d\n")
			: CORE_("automatic vacuum of table \"%s.%s.%s\": index scans: %d\n");

	initStringInfo(&buf);
	appendStringInfo(&buf, first, log->dbname, log->nspname, log->relname,
					 index_scans);
	if (rest)
		appendStringInfoString(&buf, rest + 1);
	pfree(edata->message);
	edata->message = buf.data;
	edata->elevel = LOG;
	/* core's report has no context line */
	if (edata->context)
	{
		pfree(edata->context);
		edata->context = NULL;
	}
	log->vacuum_logged = true;
}

/*
 * emit_log_hook: while a run is captured, log only what the server would
 * have logged, and log the vacuum's report as core's autovacuum does.
 */
static void
runlog_hook(ErrorData *edata)
{
	AlRunLog   *log = capturing;

	if (log != NULL && edata->output_to_server && edata->message != NULL &&
		edata->elevel == INFO)
	{
		if (starts_like(edata->message,
						CORE_("aggressively vacuuming \"%s.%s.%s\"")))
			log->aggressive = true;
		else if (starts_like(edata->message,
							 CORE_("finished vacuuming \"%s.%s.%s\": index scans: %d\n")) &&
				 !log->vacuum_logged)
		{
			if (log->log_min_duration == 0 ||
				TimestampDifferenceExceeds(log->start, GetCurrentTimestamp(),
										   log->log_min_duration))
				rewrite_vacuum_report(edata, log);
		}
		/* VERBOSE's own output: ours, never the user's to see */
		if (edata->elevel == INFO)
			edata->output_to_server = false;
	}
	if (log != NULL && edata->output_to_server &&
		!level_is_logged(edata->elevel, saved_log_min_messages))
		edata->output_to_server = false;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * al_runlog_init
 *		Install the hook; once, in a worker.
 */
void
al_runlog_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = runlog_hook;
}

/*
 * al_runlog_begin
 *		A run starts.  Adds VACOPT_VERBOSE to the parameters vacuum() will
 *		get when its vacuum may be logged.
 */
void
al_runlog_begin(AlRunLog *log, VacuumParams *params, const char *dbname,
				const char *nspname, const char *relname)
{
	memset(log, 0, sizeof(AlRunLog));
	log->log_min_duration = params->log_min_duration;
	if (log->log_min_duration < 0)
		return;
	log->dbname = dbname;
	log->nspname = nspname;
	log->relname = relname;
	log->wraparound = params->is_wraparound;
	log->start = GetCurrentTimestamp();
	if (params->options & VACOPT_ANALYZE)
		al_runlog_analyze_start(log);
#ifdef USE_ASSERT_CHECKING
	/* heap_vacuum_rel() asserts that a VERBOSE vacuum is no anti-wraparound one */
	if (params->is_wraparound)
		return;
#endif
	if (params->options & VACOPT_VACUUM)
	{
		params->options |= VACOPT_VERBOSE;
		saved_log_min_messages = log_min_messages;
		if (!level_is_logged(INFO, log_min_messages))
			log_min_messages = INFO;
		log->capturing = true;
		capturing = log;
	}
}

/*
 * al_runlog_analyze_start
 *		The analyze part of a run starts: at the run's start, or, in a
 *		VACUUM ANALYZE, when the vacuum's transaction commits.
 */
void
al_runlog_analyze_start(AlRunLog *log)
{
	if (log->log_min_duration < 0)
		return;
	log->analyze_start = GetCurrentTimestamp();
	pg_rusage_init(&log->analyze_ru0);
	log->page_hit = VacuumPageHit;
	log->page_miss = VacuumPageMiss;
	log->page_dirty = VacuumPageDirty;
	log->read_time = pgStatBlockReadTime;
	log->write_time = pgStatBlockWriteTime;
	log->analyze_started = true;
}

/* Stop capturing, and put log_min_messages back. */
static void
stop_capture(AlRunLog *log)
{
	if (log->capturing)
	{
		log_min_messages = saved_log_min_messages;
		capturing = NULL;
		log->capturing = false;
	}
}

/*
 * al_runlog_abort
 *		The run ended with an error: stop capturing.  Safe to call twice.
 */
void
al_runlog_abort(AlRunLog *log)
{
	stop_capture(log);
}

/*
 * al_runlog_end
 *		The run returned.  If it analyzed the table, log that as core's
 *		do_analyze_rel() does for autovacuum.
 */
void
al_runlog_end(AlRunLog *log, bool analyzed)
{
	TimestampTz end = GetCurrentTimestamp();
	long		delay_in_ms;
	double		read_rate = 0;
	double		write_rate = 0;
	int64		hit;
	int64		miss;
	int64		dirty;
	StringInfoData buf;

	stop_capture(log);
	if (!analyzed || !log->analyze_started || log->log_min_duration < 0)
		return;
	if (log->log_min_duration > 0 &&
		!TimestampDifferenceExceeds(log->analyze_start, end,
									log->log_min_duration))
		return;

	hit = VacuumPageHit - log->page_hit;
	miss = VacuumPageMiss - log->page_miss;
	dirty = VacuumPageDirty - log->page_dirty;
	delay_in_ms = TimestampDifferenceMilliseconds(log->analyze_start, end);
	if (delay_in_ms > 0)
	{
		read_rate = (double) BLCKSZ * miss / (1024 * 1024) /
			(delay_in_ms / 1000.0);
		write_rate = (double) BLCKSZ * dirty / (1024 * 1024) /
			(delay_in_ms / 1000.0);
	}

	initStringInfo(&buf);
	appendStringInfo(&buf, CORE_("automatic analyze of table \"%s.%s.%s\"\n"),
					 log->dbname, log->nspname, log->relname);
	if (track_io_timing)
		appendStringInfo(&buf, CORE_("I/O timings: read: %.3f ms, write: %.3f ms\n"),
						 (double) (pgStatBlockReadTime - log->read_time) / 1000,
						 (double) (pgStatBlockWriteTime - log->write_time) / 1000);
	appendStringInfo(&buf, CORE_("avg read rate: %.3f MB/s, avg write rate: %.3f MB/s\n"),
					 read_rate, write_rate);
	appendStringInfo(&buf, CORE_("buffer usage: %lld hits, %lld misses, %lld dirtied\n"),
					 (long long) hit, (long long) miss, (long long) dirty);
	appendStringInfo(&buf, CORE_("system usage: %s"),
					 pg_rusage_show(&log->analyze_ru0));
	ereport(LOG, (errmsg_internal("%s", buf.data)));
	pfree(buf.data);
}
