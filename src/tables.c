/*-------------------------------------------------------------------------
 *
 * tables.c
 *		Reading the current database's tables as the policy needs them.
 *
 * The worker (to choose its work) and autolauncher.tables (to explain it)
 * must look at exactly the same tables with exactly the same inputs, so
 * both go through this file: al_scan_tables() visits every table, matview
 * and TOAST table, except other sessions' temporary tables, with the
 * reloptions that apply to it, and al_fill_table_input() pairs a pg_class
 * row with its pgstats entry.  As in core autovacuum, a TOAST table with no
 * reloptions of its own takes its parent table's.
 *
 * IDENTIFICATION
 *	  src/tables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "pgstat.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "pg_autolauncher.h"

/* TOAST table -> its parent's reloptions */
typedef struct ToastParent
{
	Oid			toastrelid;		/* hash key */
	bool		has_opts;
	AutoVacOpts opts;
} ToastParent;

/*
 * al_extract_autovac_opts
 *		A palloc'd copy of the autovacuum part of a pg_class tuple's
 *		reloptions, or NULL if it has none.
 */
AutoVacOpts *
al_extract_autovac_opts(HeapTuple tup, TupleDesc pg_class_desc)
{
	bytea	   *relopts;
	AutoVacOpts *av;

	relopts = extractRelOptions(tup, pg_class_desc, NULL);
	if (relopts == NULL)
		return NULL;

	av = palloc(sizeof(AutoVacOpts));
	memcpy(av, &(((StdRdOptions *) relopts)->autovacuum), sizeof(AutoVacOpts));
	pfree(relopts);
	return av;
}

/*
 * al_toast_parent_opts
 *		The reloptions a TOAST table inherits from its parent, or NULL.
 */
const AutoVacOpts *
al_toast_parent_opts(HTAB *toast_parents, Oid relid)
{
	ToastParent *tp = hash_search(toast_parents, &relid, HASH_FIND, NULL);

	return (tp != NULL && tp->has_opts) ? &tp->opts : NULL;
}

/*
 * al_fill_table_input
 *		A policy input from a pg_class row and the table's pgstats entry.
 */
void
al_fill_table_input(AlTableInput *input, Form_pg_class classForm,
					const AutoVacOpts *opts)
{
	PgStat_StatTabEntry *tabentry;

	tabentry = pgstat_fetch_stat_tabentry_ext(classForm->relisshared,
											  classForm->oid);

	memset(input, 0, sizeof(AlTableInput));
	input->relid = classForm->oid;
	input->relkind = classForm->relkind;
	input->reltuples = classForm->reltuples;
	input->relfrozenxid = classForm->relfrozenxid;
	input->relminmxid = classForm->relminmxid;
	input->opts = opts;
	input->has_stats = (tabentry != NULL);
	if (tabentry != NULL)
	{
		input->n_live_tuples = tabentry->n_live_tuples;
		input->n_dead_tuples = tabentry->n_dead_tuples;
		input->inserts_since_vacuum = tabentry->inserts_since_vacuum;
		input->changes_since_analyze = tabentry->changes_since_analyze;
		/* in "none" consistency mode the entry is ours to free */
		if (pgstat_fetch_consistency == PGSTAT_FETCH_CONSISTENCY_NONE)
			pfree(tabentry);
	}
}

/*
 * al_scan_tables
 *		Call cb for every table, matview and TOAST table of the database.
 *
 * Two passes over pg_class, as in core: plain tables and matviews first,
 * remembering each TOAST table's parent reloptions, then TOAST tables.
 * Returns the TOAST-parent map, allocated in the current memory context,
 * for later use with al_toast_parent_opts().
 */
HTAB *
al_scan_tables(TupleDesc pg_class_desc, AlTableCallback cb, void *arg)
{
	HASHCTL		ctl;
	HTAB	   *toast_parents;
	Relation	classRel;
	TableScanDesc scan;
	HeapTuple	tuple;
	ScanKeyData key;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ToastParent);
	ctl.hcxt = CurrentMemoryContext;
	toast_parents = hash_create("pg_autolauncher TOAST parents", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	classRel = table_open(RelationRelationId, AccessShareLock);

	for (int pass = 0; pass < 2; pass++)
	{
		if (pass == 0)
			scan = table_beginscan_catalog(classRel, 0, NULL);
		else
		{
			ScanKeyInit(&key, Anum_pg_class_relkind, BTEqualStrategyNumber,
						F_CHAREQ, CharGetDatum(RELKIND_TOASTVALUE));
			scan = table_beginscan_catalog(classRel, 1, &key);
		}

		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			Form_pg_class classForm = (Form_pg_class) GETSTRUCT(tuple);
			AutoVacOpts *opts;
			const AutoVacOpts *effective;

			if (pass == 0 && classForm->relkind != RELKIND_RELATION &&
				classForm->relkind != RELKIND_MATVIEW)
				continue;
			/* we cannot safely process other sessions' temp tables */
			if (classForm->relpersistence == RELPERSISTENCE_TEMP)
				continue;

			opts = al_extract_autovac_opts(tuple, pg_class_desc);
			effective = opts;
			if (pass == 0 && OidIsValid(classForm->reltoastrelid))
			{
				ToastParent *tp;

				tp = hash_search(toast_parents, &classForm->reltoastrelid,
								 HASH_ENTER, NULL);
				tp->has_opts = (opts != NULL);
				if (opts != NULL)
					memcpy(&tp->opts, opts, sizeof(AutoVacOpts));
			}
			else if (pass == 1 && opts == NULL)
				effective = al_toast_parent_opts(toast_parents, classForm->oid);

			cb(classForm, effective, arg);

			if (opts != NULL)
				pfree(opts);
		}
		table_endscan(scan);
	}

	table_close(classRel, AccessShareLock);
	return toast_parents;
}

/* al_scan_tables() callback that does nothing: only the map is wanted */
static void
ignore_table(Form_pg_class classForm, const AutoVacOpts *opts, void *arg)
{
}

/*
 * al_toast_parents
 *		The map from each TOAST table to its parent's reloptions, for a
 *		worker that meets a TOAST table without having scanned pg_class.
 */
HTAB *
al_toast_parents(TupleDesc pg_class_desc)
{
	return al_scan_tables(pg_class_desc, ignore_table, NULL);
}
