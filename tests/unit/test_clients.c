/*
 * Unit tests for the client models in checks/verdict: what oras,
 * go-containerregistry and regclient do with a referrers answer, row by
 * row over the behaviour observed with the real clients (oras 1.3.3,
 * go-containerregistry v0.21.9 as cosign uses it, regctl v0.11.5), and
 * the consequences a report states.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "checks/verdict.h"

#define INDEX "{\"schemaVersion\":2,\"mediaType\":\"" OCI_INDEX_TYPE "\",\"manifests\":[]}"
#define HTML "<html><body>Sign in</body></html>"

enum { API = 1, TAG, ERR, UNK };

struct row {
	const char *name;
	long status;
	const char *type;
	const char *body;
	enum push_subject push;
	int want[CLIENT_COUNT][2];   /* list, attach */
};

/*
 * The observed table; a push answered with OCI-Subject is PUSH_SUBJECT_MATCHES,
 * one without it PUSH_NO_SUBJECT.
 */
static const struct row observed[] = {
	{ "olareg: 200 index, index type, OCI-Subject on push", 200, OCI_INDEX_TYPE, INDEX,
	  PUSH_SUBJECT_MATCHES, { { API, API }, { API, API }, { API, API } } },
	{ "go-containerregistry's registry: no OCI-Subject on push", 200, OCI_INDEX_TYPE, INDEX,
	  PUSH_NO_SUBJECT, { { API, TAG }, { API, API }, { API, TAG } } },
	{ "Harbor 2.8-2.9: valid index as application/json", 200, "application/json", INDEX,
	  PUSH_SUBJECT_MATCHES, { { TAG, API }, { TAG, API }, { TAG, API } } },
	{ "200 HTML login page", 200, "text/html", HTML,
	  PUSH_NO_SUBJECT, { { TAG, TAG }, { TAG, API }, { TAG, TAG } } },
	{ "302 to a login page (the final answer after the redirect)", 200, "text/html", HTML,
	  PUSH_NO_SUBJECT, { { TAG, TAG }, { TAG, API }, { TAG, TAG } } },
	{ "200, not JSON, index type", 200, OCI_INDEX_TYPE, "garbage \x01\x02",
	  PUSH_NO_SUBJECT, { { ERR, TAG }, { ERR, API }, { TAG, TAG } } },
	{ "404 with an index body", 404, OCI_INDEX_TYPE, INDEX,
	  PUSH_NO_SUBJECT, { { TAG, TAG }, { TAG, TAG }, { TAG, TAG } } },
	{ "404 plain text (distribution 2.8, 3.1)", 404, "text/plain", "404 page not found\n",
	  PUSH_NO_SUBJECT, { { TAG, TAG }, { TAG, TAG }, { TAG, TAG } } },
	{ "Quay 3.13-like: index for a known subject", 200, OCI_INDEX_TYPE, INDEX,
	  PUSH_SUBJECT_MATCHES, { { API, API }, { API, API }, { API, API } } },
};

static void (*const models[CLIENT_COUNT])(const struct referrers_answer *,
					  struct client_prediction *) = {
	client_oras, client_ggcr, client_regclient,
};

static int list_code(enum client_list l)
{
	return l == CLIENT_LIST_API ? API : l == CLIENT_LIST_TAG ? TAG : ERR;
}

static int attach_code(enum client_attach a)
{
	return a == CLIENT_ATTACH_API ? API : a == CLIENT_ATTACH_TAG ? TAG :
	       a == CLIENT_ATTACH_ERROR ? ERR : UNK;
}

static struct referrers_answer answer_of(const struct row *r, enum push_subject push)
{
	struct referrers_answer a = {
		.status = r->status, .content_type = r->type, .body = r->body,
		.len = strlen(r->body), .repo_known = 1, .push = push,
	};

	return a;
}

static void test_observed_table(void **state)
{
	size_t i, c;

	(void)state;
	for (i = 0; i < sizeof(observed) / sizeof(observed[0]); i++) {
		struct referrers_answer a = answer_of(&observed[i], observed[i].push);

		for (c = 0; c < CLIENT_COUNT; c++) {
			struct client_prediction p;

			models[c](&a, &p);
			if (list_code(p.list) != observed[i].want[c][0] ||
			    attach_code(p.attach) != observed[i].want[c][1])
				fail_msg("%s: %s predicted %s / %s", observed[i].name,
					 referrers_clients[c], client_list_name(p.list),
					 client_attach_name(p.attach));
			assert_non_null(p.list_why);
			assert_non_null(p.attach_why);
		}
	}
}

/* Without a push, only go-containerregistry's attach is known: it reads the referrers answer. */
static void test_attach_without_push(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(observed) / sizeof(observed[0]); i++) {
		struct referrers_answer a = answer_of(&observed[i], PUSH_NOT_MADE);
		struct client_prediction p;

		client_oras(&a, &p);
		assert_int_equal(p.attach, CLIENT_ATTACH_UNKNOWN);
		client_regclient(&a, &p);
		assert_int_equal(p.attach, CLIENT_ATTACH_UNKNOWN);
		client_ggcr(&a, &p);
		assert_int_equal(attach_code(p.attach), observed[i].want[CLIENT_GGCR][1]);
	}
}

/* regclient attaches through the API only when OCI-Subject is the subject itself. */
static void test_regclient_subject_must_match(void **state)
{
	struct referrers_answer a = answer_of(&observed[0], PUSH_SUBJECT_OTHER);
	struct client_prediction p;

	(void)state;
	client_regclient(&a, &p);
	assert_int_equal(p.attach, CLIENT_ATTACH_TAG);
	client_oras(&a, &p);
	assert_int_equal(p.attach, CLIENT_ATTACH_API);
}

#define SUBJECT "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define OTHER "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* What --writes verify saw of OCI-Subject, as the push the attach rows read. */
static void test_push_subject_observation(void **state)
{
	(void)state;
	assert_int_equal(push_subject_of(NULL, SUBJECT), PUSH_NO_SUBJECT);
	assert_int_equal(push_subject_of("", SUBJECT), PUSH_NO_SUBJECT);
	assert_int_equal(push_subject_of(SUBJECT, SUBJECT), PUSH_SUBJECT_MATCHES);
	assert_int_equal(push_subject_of(OTHER, SUBJECT), PUSH_SUBJECT_OTHER);
	/* the names the artifacts check reports, and back */
	assert_string_equal(push_subject_name(PUSH_NO_SUBJECT), "absent");
	assert_string_equal(push_subject_name(PUSH_SUBJECT_MATCHES), "exact");
	assert_string_equal(push_subject_name(PUSH_SUBJECT_OTHER), "other");
	assert_string_equal(push_subject_name(PUSH_REFUSED), "refused");
	assert_string_equal(push_subject_name(PUSH_NOT_MADE), "not-made");
	assert_int_equal(push_subject_parse("absent"), PUSH_NO_SUBJECT);
	assert_int_equal(push_subject_parse("exact"), PUSH_SUBJECT_MATCHES);
	assert_int_equal(push_subject_parse("other"), PUSH_SUBJECT_OTHER);
	assert_int_equal(push_subject_parse("refused"), PUSH_REFUSED);
	assert_int_equal(push_subject_parse("not-made"), PUSH_NOT_MADE);
	assert_int_equal(push_subject_parse(NULL), PUSH_NOT_MADE);
	assert_int_equal(push_subject_parse("bogus"), PUSH_NOT_MADE);
}

/*
 * The attach rows of oras and regclient, driven by each OCI-Subject
 * observation, on a good API answer and on distribution's 404: the header
 * alone decides, whatever the listing says.
 */
static void test_attach_rows_from_observation(void **state)
{
	static const struct {
		const char *header;      /* NULL: no header */
		int oras, regclient;
	} rows[] = {
		{ NULL, TAG, TAG },
		{ "", TAG, TAG },
		{ SUBJECT, API, API },
		{ OTHER, API, TAG },
	};
	const size_t answers[] = { 0, 7 };   /* olareg-like index; distribution's 404 */
	size_t i, j;

	(void)state;
	for (j = 0; j < 2; j++)
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct referrers_answer a = answer_of(&observed[answers[j]],
							     push_subject_of(rows[i].header, SUBJECT));
			struct client_prediction p;

			client_oras(&a, &p);
			assert_int_equal(attach_code(p.attach), rows[i].oras);
			assert_null(strstr(p.attach_why, "only --writes verify"));
			client_regclient(&a, &p);
			assert_int_equal(attach_code(p.attach), rows[i].regclient);
			assert_null(strstr(p.attach_why, "only --writes verify"));
		}
}

/* A registry that refused the artifact push: attaching with oras and regctl fails, and the reason says so. */
static void test_attach_after_refused_push(void **state)
{
	struct referrers_answer a = answer_of(&observed[0], PUSH_REFUSED);
	struct client_prediction p;

	(void)state;
	client_oras(&a, &p); /* measured: oras attach fails, and so does regctl artifact put */
	assert_int_equal(p.attach, CLIENT_ATTACH_ERROR);
	assert_non_null(strstr(p.attach_why, "refused"));
	client_regclient(&a, &p);
	assert_int_equal(p.attach, CLIENT_ATTACH_ERROR);
	assert_non_null(strstr(p.attach_why, "refused"));
	client_ggcr(&a, &p); /* cosign's artifact has a config of its own type: it goes in */
	assert_int_equal(p.attach, CLIENT_ATTACH_API);
	/* without a push the reason names the way to make one */
	a.push = PUSH_NOT_MADE;
	client_oras(&a, &p);
	assert_non_null(strstr(p.attach_why, "only --writes verify"));
	/* verify asked for, nothing pushed: still unknown, and the reason says so */
	a.push = PUSH_WITHHELD;
	client_regclient(&a, &p);
	assert_int_equal(p.attach, CLIENT_ATTACH_UNKNOWN);
	assert_non_null(strstr(p.attach_why, "pushed nothing"));
	assert_int_equal(push_subject_parse("withheld"), PUSH_WITHHELD);
}

static void test_other_statuses(void **state)
{
	const char *nu = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}";
	struct referrers_answer a = { .status = 404, .content_type = "application/json",
				      .body = nu, .len = strlen(nu) };
	struct client_prediction p;

	(void)state;
	client_oras(&a, &p); /* "repository not found" */
	assert_int_equal(p.list, CLIENT_LIST_ERROR);
	client_ggcr(&a, &p);
	assert_int_equal(p.list, CLIENT_LIST_TAG);
	client_regclient(&a, &p);
	assert_int_equal(p.list, CLIENT_LIST_TAG);
	a.status = 405;
	a.body = "";
	a.len = 0;
	client_oras(&a, &p);
	assert_int_equal(p.list, CLIENT_LIST_ERROR);
	client_ggcr(&a, &p); /* measured: remote.Write fails after the push */
	assert_int_equal(p.list, CLIENT_LIST_ERROR);
	assert_int_equal(p.attach, CLIENT_ATTACH_ERROR);
	assert_string_equal(client_attach_name(p.attach), "error");
	client_regclient(&a, &p);
	assert_int_equal(p.list, CLIENT_LIST_TAG);
	a.status = 400;
	client_ggcr(&a, &p); /* Quay 3.13 for an unknown subject */
	assert_int_equal(p.list, CLIENT_LIST_TAG);
	assert_int_equal(p.attach, CLIENT_ATTACH_TAG);
	a.status = 403;
	client_ggcr(&a, &p); /* a denial may be the credentials' */
	assert_int_equal(p.attach, CLIENT_ATTACH_UNKNOWN);
}

/* A read-only registry (Harbor's read-only mode): every client's attach fails. */
static void test_read_only_registry(void **state)
{
	struct referrers_answer a = answer_of(&observed[0], PUSH_WITHHELD);
	char text[2048];
	size_t c;

	(void)state;
	a.read_only = 1;
	for (c = 0; c < CLIENT_COUNT; c++) {
		struct client_prediction p;

		models[c](&a, &p);
		assert_int_equal(p.list, CLIENT_LIST_API);
		assert_int_equal(p.attach, CLIENT_ATTACH_ERROR);
		assert_non_null(strstr(p.attach_why, "read-only"));
	}
	/* also without --writes verify: the push check alone tells */
	a.push = PUSH_NOT_MADE;
	for (c = 0; c < CLIENT_COUNT; c++) {
		struct client_prediction p;

		models[c](&a, &p);
		assert_int_equal(p.attach, CLIENT_ATTACH_ERROR);
	}
	/* the push check says it; the referrers check has nothing to add */
	{
		struct referrers_verdict rv;
		struct buf b;

		referrers_judge(&a, &rv);
		buf_init(&b, BUF_TEXT_MAX);
		assert_int_equal(referrers_consequences(rv.clients, &b), 0);
		snprintf(text, sizeof(text), "%s", b.data ? b.data : "");
		buf_release(&b);
		verdict_release(&rv.v);
	}
	assert_string_equal(text, "");
}

/*
 * GitLab: no API (404) and the sha256-<hex> tag resolves to the subject
 * itself. oras lists and attaches through it; regclient fails both ways;
 * go-containerregistry lists (nothing) and fails to attach.
 */
static void test_tag_not_index(void **state)
{
	static const int want[CLIENT_COUNT][2] = { { TAG, TAG }, { TAG, ERR }, { ERR, ERR } };
	struct referrers_answer a = answer_of(&observed[7], PUSH_NO_SUBJECT);
	struct referrers_verdict rv;
	struct buf b;
	size_t c;

	(void)state;
	a.tag_not_index = 1;
	for (c = 0; c < CLIENT_COUNT; c++) {
		struct client_prediction p;

		models[c](&a, &p);
		if (list_code(p.list) != want[c][0] || attach_code(p.attach) != want[c][1])
			fail_msg("%s predicted %s / %s", referrers_clients[c],
				 client_list_name(p.list), client_attach_name(p.attach));
	}
	referrers_judge(&a, &rv);
	buf_init(&b, BUF_TEXT_MAX);
	assert_true(referrers_consequences(rv.clients, &b) >= 3);
	assert_non_null(strstr(b.data, "regctl artifact list fails outright"));
	assert_non_null(strstr(b.data, "regctl artifact put fails outright"));
	assert_non_null(strstr(b.data, "cosign's attaching (go-containerregistry) fails outright"));
	assert_null(strstr(b.data, "oras"));
	buf_release(&b);
	verdict_release(&rv.v);
	/* with a working API the tag is not read, whatever it holds */
	a = answer_of(&observed[0], PUSH_SUBJECT_MATCHES);
	a.tag_not_index = 1;
	for (c = 0; c < CLIENT_COUNT; c++) {
		struct client_prediction p;

		models[c](&a, &p);
		assert_int_equal(p.list, CLIENT_LIST_API);
		assert_int_equal(p.attach, CLIENT_ATTACH_API);
	}
}

static int consequences_of(const struct row *r, enum push_subject push, char *out, size_t n)
{
	struct referrers_answer a = answer_of(r, push);
	struct referrers_verdict rv;
	struct buf b;
	int count;

	referrers_judge(&a, &rv);
	buf_init(&b, BUF_TEXT_MAX);
	count = referrers_consequences(rv.clients, &b);
	snprintf(out, n, "%s", b.data ? b.data : "");
	buf_release(&b);
	verdict_release(&rv.v);
	return count;
}

static void test_consequences(void **state)
{
	char text[2048];

	(void)state;
	/* a good registry: nothing to say */
	assert_int_equal(consequences_of(&observed[0], PUSH_NOT_MADE, text, sizeof(text)), 0);
	assert_int_equal(consequences_of(&observed[7], PUSH_NOT_MADE, text, sizeof(text)), 0);
	/* an HTML 200: cosign attaches through the "API" and lists through the tag */
	assert_true(consequences_of(&observed[3], PUSH_NOT_MADE, text, sizeof(text)) >= 1);
	assert_non_null(strstr(text, "signatures attached by cosign will not be found by cosign's own listing"));
	/* garbage under the index type: oras and cosign fail outright */
	consequences_of(&observed[5], PUSH_NOT_MADE, text, sizeof(text));
	assert_non_null(strstr(text, "oras discover fails outright"));
	assert_non_null(strstr(text, "go-containerregistry"));
	/* Harbor 2.8-2.9 with a push: every client misses its own artifact */
	assert_int_equal(consequences_of(&observed[2], PUSH_SUBJECT_MATCHES, text, sizeof(text)), 3);
	assert_non_null(strstr(text, "not be found by oras discover"));
	assert_non_null(strstr(text, "not be found by regctl artifact list"));
	/* no OCI-Subject: oras and regctl leave a tag although the API works */
	consequences_of(&observed[1], PUSH_NO_SUBJECT, text, sizeof(text));
	assert_non_null(strstr(text, "sha256-<hex> tag"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observed_table),
		cmocka_unit_test(test_attach_without_push),
		cmocka_unit_test(test_regclient_subject_must_match),
		cmocka_unit_test(test_push_subject_observation),
		cmocka_unit_test(test_attach_rows_from_observation),
		cmocka_unit_test(test_attach_after_refused_push),
		cmocka_unit_test(test_other_statuses),
		cmocka_unit_test(test_read_only_registry),
		cmocka_unit_test(test_tag_not_index),
		cmocka_unit_test(test_consequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
