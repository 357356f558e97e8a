/*
 * report_conformance: the API states of the run in the shape of the OCI
 * conformance suite's results.yaml: a mapping `apis:` of the suite's API
 * names to its states (Pass, Skip, Disabled, FAIL, Error), keys sorted as
 * the suite's YAML encoder sorts them, so that tooling that reads the
 * suite's results reads these. The states come from the result whose
 * details hold an `apis` object (the API table); without one, `apis: {}`.
 *
 * The names and states are fixed words of plain letters and spaces, so
 * they are written as plain YAML scalars; anything else is quoted.
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

struct conformance {
	json_t *apis;               /* borrowed from the result; the run outlives the report */
};

static int conformance_begin(struct report *rep)
{
	rep->priv = calloc(1, sizeof(struct conformance));
	return rep->priv ? 0 : -1;
}

static int conformance_result(struct report *rep, const struct check_result *res)
{
	struct conformance *c = rep->priv;
	json_t *apis = res->details ? json_object_get(res->details, "apis") : NULL;

	if (!c->apis && json_is_object(apis))
		c->apis = apis;
	return 0;
}

/* Whether s can stand as a plain YAML scalar: letters, digits, spaces inside. */
static int plain(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == ' '))
			return 0;
	return 1;
}

static int put_scalar(FILE *out, const char *s)
{
	json_t *quoted;
	char *text;
	int ret;

	if (plain(s))
		return fputs(s, out) == EOF ? -1 : 0;
	/* a JSON string is a valid double-quoted YAML scalar */
	quoted = json_string(s);
	text = quoted ? json_dumps(quoted, JSON_ENCODE_ANY) : NULL;
	ret = text && fputs(text, out) != EOF ? 0 : -1;
	free(text);
	json_decref(quoted);
	return ret;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int conformance_end(struct report *rep)
{
	struct conformance *c = rep->priv;
	size_t n = c->apis ? json_object_size(c->apis) : 0, i = 0;
	const char **keys = calloc(n + 1, sizeof(*keys));
	const char *key;
	json_t *v;
	int ret = -1;

	if (!keys)
		goto done;
	if (fputs(n ? "apis:\n" : "apis: {}\n", rep->out) == EOF)
		goto done;
	if (c->apis)
		json_object_foreach(c->apis, key, v)
			keys[i++] = key;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i++) {
		const char *state = json_string_value(json_object_get(json_object_get(c->apis, keys[i]),
								      "state"));

		if (fputs("  ", rep->out) == EOF || put_scalar(rep->out, keys[i]) ||
		    fputs(": ", rep->out) == EOF || put_scalar(rep->out, state ? state : "Disabled") ||
		    fputc('\n', rep->out) == EOF)
			goto done;
	}
	ret = 0;
done:
	free(keys);
	free(c);
	rep->priv = NULL;
	return ret;
}

const struct report_writer report_conformance = {
	.name = "conformance",
	.description = "the API states in the shape of the OCI conformance suite's results.yaml",
	.begin = conformance_begin,
	.result = conformance_result,
	.end = conformance_end,
};
