/*
 * results: see results.h, and the result sections of check.h.
 */
#include "checks/results.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

size_t section_columns(const struct section_def *def)
{
	size_t n = 0;

	while (n < SECTION_MAX_COLUMNS && def->columns[n].key)
		n++;
	return n;
}

struct result_section *result_section(struct check_result *res, const struct section_def *def)
{
	size_t i;

	for (i = 0; i < res->sections_nr; i++)
		if (res->sections[i].def == def)
			return &res->sections[i];
	res->sections = xrealloc(res->sections, (res->sections_nr + 1) * sizeof(*res->sections));
	memset(&res->sections[res->sections_nr], 0, sizeof(res->sections[0]));
	res->sections[res->sections_nr].def = def;
	return &res->sections[res->sections_nr++];
}

void section_row(struct result_section *s, const char *const *cells)
{
	size_t i, n = section_columns(s->def);
	struct section_row *row;

	ALLOC_GROW(s->rows, s->nr + 1, s->alloc);
	row = &s->rows[s->nr++];
	memset(row, 0, sizeof(*row));
	for (i = 0; i < n; i++)
		row->cells[i] = xstrdup(cells[i] ? cells[i] : "");
}

const char *section_cell(const struct result_section *s, const struct section_row *row,
			 const char *key)
{
	size_t i, n = section_columns(s->def);

	for (i = 0; i < n; i++)
		if (!strcmp(s->def->columns[i].key, key))
			return row->cells[i];
	return NULL;
}

const struct section_row *section_find_row(const struct result_section *s, const char *name)
{
	size_t i;

	for (i = 0; s && i < s->nr; i++)
		if (!strcmp(s->rows[i].cells[0], name))
			return &s->rows[i];
	return NULL;
}

json_t *result_sections_json(const struct check_result *res)
{
	json_t *a = json_array();
	size_t i, j, k;

	for (i = 0; i < res->sections_nr; i++) {
		const struct result_section *s = &res->sections[i];
		size_t n = section_columns(s->def);
		json_t *cols = json_array(), *rows = json_array();

		for (k = 0; k < n; k++)
			json_array_append_new(cols, json_pack("{s:s, s:s}", "key", s->def->columns[k].key,
							      "title", s->def->columns[k].title));
		for (j = 0; j < s->nr; j++) {
			json_t *row = json_object();

			for (k = 0; k < n; k++)
				json_object_set_new(row, s->def->columns[k].key,
						    json_string(s->rows[j].cells[k]));
			json_array_append_new(rows, row);
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o}", "id", s->def->id,
						   "title", s->def->title, "columns", cols,
						   "rows", rows));
	}
	return a;
}

static void section_release(struct result_section *s)
{
	size_t i, k;

	for (i = 0; i < s->nr; i++)
		for (k = 0; k < SECTION_MAX_COLUMNS; k++)
			free(s->rows[i].cells[k]);
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

void check_result_release(struct check_result *res)
{
	size_t i;

	free(res->message);
	res->message = NULL;
	json_decref(res->details);
	res->details = NULL;
	evidence_list_release(&res->evidence);
	for (i = 0; i < res->sections_nr; i++)
		section_release(&res->sections[i]);
	free(res->sections);
	res->sections = NULL;
	res->sections_nr = 0;
}

void run_results_init(struct run_results *r)
{
	memset(r, 0, sizeof(*r));
	r->rate_limit_remaining = -1;
}

void run_results_set_config(struct run_results *r, const char *registry, const char *repository,
			    const char *tag, const char *scratch_repository)
{
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->scratch_repository);
	r->registry = registry ? xstrdup(registry) : NULL;
	r->repository = repository ? xstrdup(repository) : NULL;
	r->tag = tag ? xstrdup(tag) : NULL;
	r->scratch_repository = scratch_repository ? xstrdup(scratch_repository) : NULL;
}

void run_results_release(struct run_results *r)
{
	size_t i;

	for (i = 0; r->results && i < r->nr; i++)
		check_result_release(&r->results[i]);
	free(r->results);
	json_decref(r->rate_limit);
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->scratch_repository);
	free(r->manifest_digest);
	run_invocation_release(&r->invocation);
	run_results_init(r);
}

size_t results_blocked(const struct run_results *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nr; i++)
		n += r->results[i].selected && r->results[i].done && r->results[i].blocked_by;
	return n;
}

const struct check_result *results_root_cause(const struct run_results *r)
{
	size_t i, j;

	for (i = 0; i < r->nr; i++)
		if (r->results[i].selected && r->results[i].done && r->results[i].blocked_by)
			for (j = 0; j < r->nr; j++)
				if (r->results[j].check == r->results[i].blocked_by && r->results[j].done)
					return &r->results[j];
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void run_invocation_release(struct run_invocation *inv)
{
	free(inv->ca_file);
	free(inv->cert);
	free(inv->key);
	free(inv->docker_config);
	free(inv->username);
	free(inv->password_file);
	free(inv->writes);
	free(inv->proxy);
	free(inv->proxy_var);
	memset(inv, 0, sizeof(*inv));
}

void run_results_set_invocation(struct run_results *r, const struct run_invocation *inv)
{
	struct run_invocation copy = *inv;

	copy.ca_file = dup_or_null(inv->ca_file);
	copy.cert = dup_or_null(inv->cert);
	copy.key = dup_or_null(inv->key);
	copy.docker_config = dup_or_null(inv->docker_config);
	copy.username = dup_or_null(inv->username);
	copy.password_file = dup_or_null(inv->password_file);
	copy.writes = dup_or_null(inv->writes);
	copy.proxy = dup_or_null(inv->proxy);
	copy.proxy_var = dup_or_null(inv->proxy_var);
	run_invocation_release(&r->invocation);
	r->invocation = copy;
}

enum check_status results_worst(const struct check_result *results, size_t nr,
				int counts[STATUS_COUNT])
{
	enum check_status worst = STATUS_PASS;
	int ran = 0, skipped = 0;
	size_t i;

	if (counts)
		memset(counts, 0, sizeof(int) * STATUS_COUNT);
	for (i = 0; i < nr; i++) {
		const struct check_result *res = &results[i];

		if (!res->selected || !res->done)
			continue;
		if (counts)
			counts[res->status]++;
		if (res->status == STATUS_SKIP) {
			skipped++;
			continue;
		}
		ran++;
		if (res->status > worst)
			worst = res->status;
	}
	/* a skip (no credentials to check, --no-writes) says nothing against the registry */
	return !ran && skipped ? STATUS_SKIP : worst;
}

void run_results_tally(struct run_results *r)
{
	r->worst = results_worst(r->results, r->nr, r->counts);
}

void results_foreach_section(const struct run_results *r, results_section_fn fn, void *arg)
{
	size_t i, j;

	for (i = 0; i < r->nr; i++) {
		const struct check_result *res = &r->results[i];

		if (!res->selected || !res->done)
			continue;
		for (j = 0; j < res->sections_nr; j++)
			fn(arg, res, &res->sections[j]);
	}
}

const struct result_section *results_section(const struct run_results *r, const char *id)
{
	size_t i, j;

	for (i = 0; i < r->nr; i++) {
		const struct check_result *res = &r->results[i];

		for (j = 0; res->selected && res->done && j < res->sections_nr; j++)
			if (!strcmp(res->sections[j].def->id, id))
				return &res->sections[j];
	}
	return NULL;
}
