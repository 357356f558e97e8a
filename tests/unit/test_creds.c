/*
 * Unit tests for auth/creds: the config parsers, the helper protocol, and
 * creds_resolve over real files in a temporary directory, with fake
 * credential helpers (shell scripts) put first on PATH.
 *
 * Every test gets a fresh directory and an environment stripped of the
 * variables creds_resolve reads, so the machine's own config never leaks in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/creds.h"
#include "auth/creds_internal.h"

/* base64 of "user:pass", "user:pa:ss", "user", "a\0b:c", "secret:s3cr3t" */
#define B64_USER_PASS "dXNlcjpwYXNz"
#define B64_USER_PA_SS "dXNlcjpwYTpzcw=="
#define B64_NO_COLON "dXNlcg=="
#define B64_NUL "YQBiOmM="
#define B64_SECRET "c2VjcmV0OnMzY3IzdA=="

struct fixture {
	char dir[256];
};

static char *old_path_env;

/* Recursively removes a directory this test made. */
static void remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	cred_helper_cache_clear(); /* maybe a helper gone: its answers are stale */
	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char child[1024];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		remove_tree(child);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* Returns dir/rel in a static buffer (one at a time is enough here). */
static const char *path_in(struct fixture *f, const char *rel)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	return p;
}

/* Writes dir/rel, making parent directories, with the given mode. */
static void write_file(struct fixture *f, const char *rel, const char *text, mode_t mode)
{
	char p[1024];
	char *slash;
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	for (slash = strchr(p + strlen(f->dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(p, 0700);
		*slash = '/';
	}
	fp = fopen(p, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(p, mode), 0);
	cred_helper_cache_clear(); /* maybe a new helper: the old one's answers are stale */
}

/* Installs dir/bin/docker-credential-fake running `body`. */
static void write_helper(struct fixture *f, const char *body)
{
	char script[4096];

	snprintf(script, sizeof(script), "#!/bin/sh\n%s\n", body);
	write_file(f, "bin/docker-credential-fake", script, 0755);
}

static const char *const env_vars[] = {
	"OCI_USERNAME", "OCI_PASSWORD", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE",
	"XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "HOME",
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[2048];
	size_t i;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/ocidoctor-creds-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	setenv("HOME", path_in(f, "home"), 1);
	snprintf(path, sizeof(path), "%s/bin:%s", f->dir, old_path_env ? old_path_env : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	remove_tree(f->dir);
	if (old_path_env)
		setenv("PATH", old_path_env, 1);
	free(f);
	return 0;
}

/* Options for the registry `host`, nothing else set. */
static struct creds_options opts_for(const char *host)
{
	struct creds_options o = { .registry_host = host };

	return o;
}

static void assert_no_secret(const char *msg)
{
	assert_non_null(msg);
	if (strstr(msg, "s3cr3t") || strstr(msg, "secret") || strstr(msg, B64_SECRET) ||
	    strstr(msg, "c2Vj"))
		fail_msg("message leaks a secret: %s", msg);
}

/* ---- creds_from_docker_config ---- */

/* Parses json for host (and repository) and expects user/pass. */
static void expect_config(const char *json, const char *host, const char *repo,
			  const char *user, const char *pass, const char *token)
{
	struct creds c;
	char *helper = NULL;
	char *why = NULL;

	if (creds_from_docker_config(&c, &helper, json, host, repo, &why) != 0)
		fail_msg("%s for %s: %s", json, host, why ? why : "(no message)");
	assert_null(helper);
	assert_null(why);
	if (!user && !pass && !token) {
		if (c.source != CRED_NONE)
			fail_msg("%s for %s/%s: found a credential, want none", json, host,
				 repo ? repo : "");
		return;
	}
	assert_int_equal(c.source, CRED_DOCKER_CONFIG);
	if (user)
		assert_string_equal(c.username, user);
	else
		assert_null(c.username);
	if (pass)
		assert_string_equal(c.password, pass);
	else
		assert_null(c.password);
	if (token)
		assert_string_equal(c.identity_token, token);
	else
		assert_null(c.identity_token);
	assert_non_null(c.origin);
	creds_release(&c);
	assert_null(c.username);
}

static void expect_config_error(const char *json, const char *host, const char *needle)
{
	struct creds c;
	char *helper = NULL;
	char *why = NULL;

	if (creds_from_docker_config(&c, &helper, json, host, NULL, &why) != -1)
		fail_msg("%s for %s: accepted", json, host);
	assert_null(helper);
	assert_int_equal(c.source, CRED_NONE);
	assert_null(c.username);
	assert_no_secret(why);
	if (!strstr(why, needle))
		fail_msg("message '%s' lacks '%s'", why, needle);
	free(why);
}

static void test_config_auths(void **state)
{
	(void)state;
	expect_config("{\"auths\":{\"localhost:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "localhost:5000", NULL, "user", "pass", NULL);
	expect_config("{\"auths\":{\"https://localhost:5000/v2/\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "localhost:5000", NULL, "user", "pass", NULL);
	expect_config("{\"auths\":{\"http://LocalHost:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "localhost:5000", NULL, "user", "pass", NULL);
	expect_config("{\"auths\":{\"localhost:5000/v1/\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "localhost:5000", NULL, "user", "pass", NULL);
	/* the password keeps everything after the first ':' */
	expect_config("{\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PA_SS "\"}}}",
		      "r.example", NULL, "user", "pa:ss", NULL);
	/* an identity token, alone or with auth */
	expect_config("{\"auths\":{\"r.example\":{\"identitytoken\":\"tok\"}}}",
		      "r.example", NULL, NULL, NULL, "tok");
	expect_config("{\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PASS "\",\"identitytoken\":\"tok\"}}}",
		      "r.example", NULL, "user", "pass", "tok");
	/* other hosts and ports do not match */
	expect_config("{\"auths\":{\"localhost:5001\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "localhost:5000", NULL, NULL, NULL, NULL);
	expect_config("{\"auths\":{\"localhost\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "localhost:5000", NULL, NULL, NULL, NULL);
	expect_config("{\"auths\":{\"r.example.evil\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "r.example", NULL, NULL, NULL, NULL);
	/* an empty placeholder is no credential */
	expect_config("{\"auths\":{\"r.example\":{}}}", "r.example", NULL, NULL, NULL, NULL);
	expect_config("{\"auths\":{\"r.example\":{\"auth\":\"\"}}}", "r.example", NULL, NULL, NULL,
		      NULL);
	expect_config("{}", "r.example", NULL, NULL, NULL, NULL);
	expect_config("{\"auths\":{}}", "r.example", NULL, NULL, NULL, NULL);
	/* ...and the lookup goes on past it */
	expect_config("{\"auths\":{\"r.example\":{},\"https://r.example\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "r.example", NULL, "user", "pass", NULL);
}

static void test_config_docker_hub(void **state)
{
	const char *json = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_USER_PASS "\"}}}";

	(void)state;
	expect_config(json, "docker.io", NULL, "user", "pass", NULL);
	expect_config(json, "registry-1.docker.io", NULL, "user", "pass", NULL);
	expect_config(json, "index.docker.io", NULL, "user", "pass", NULL);
	expect_config(json, "docker.io.evil", NULL, NULL, NULL, NULL);
	expect_config(json, "ghcr.io", NULL, NULL, NULL, NULL);
	expect_config("{\"auths\":{\"docker.io\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		      "registry-1.docker.io", NULL, "user", "pass", NULL);
}

static void test_config_repository_keys(void **state)
{
	const char *json = "{\"auths\":{"
		"\"reg.example\":{\"auth\":\"" B64_USER_PASS "\"},"
		"\"reg.example/team\":{\"identitytoken\":\"team\"},"
		"\"reg.example/team/app\":{\"identitytoken\":\"app\"},"
		"\"reg.example/tea\":{\"identitytoken\":\"tea\"},"
		"\"https://reg.example/other/\":{\"identitytoken\":\"scheme-keys-have-no-path\"}"
		"}}";

	(void)state;
	expect_config(json, "reg.example", "team/app", NULL, NULL, "app");
	expect_config(json, "reg.example", "team/app/sub", NULL, NULL, "app");
	expect_config(json, "reg.example", "team/application", NULL, NULL, "team");
	expect_config(json, "reg.example", "team", NULL, NULL, "team");
	expect_config(json, "reg.example", "teams/x", "user", "pass", NULL);
	expect_config(json, "reg.example", "other/x", "user", "pass", NULL);
	expect_config(json, "reg.example", NULL, "user", "pass", NULL);
	/* without a host-wide entry, another namespace's key does not match */
	expect_config("{\"auths\":{\"reg.example/team\":{\"identitytoken\":\"t\"}}}",
		      "reg.example", "else/x", NULL, NULL, NULL);
	expect_config("{\"auths\":{\"reg.example/team\":{\"identitytoken\":\"t\"}}}",
		      "reg.example", NULL, NULL, NULL, NULL);
}

static void test_config_helpers(void **state)
{
	struct creds c;
	char *helper = NULL;
	char *why = NULL;
	const char *json = "{\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PASS "\"}},"
		"\"credHelpers\":{\"r.example\":\"ecr-login\",\"other\":\"x\"},"
		"\"credsStore\":\"desktop\"}";

	(void)state;
	assert_int_equal(creds_from_docker_config(&c, &helper, json, "r.example", NULL, &why), 0);
	assert_string_equal(helper, "ecr-login");
	assert_int_equal(c.source, CRED_NONE);
	free(helper);

	assert_int_equal(creds_from_docker_config(&c, &helper, json, "q.example", NULL, &why), 0);
	assert_string_equal(helper, "desktop");
	free(helper);

	assert_int_equal(creds_from_docker_config(&c, &helper,
		"{\"credsStore\":\"\",\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		"r.example", NULL, &why), 0);
	assert_null(helper);
	assert_int_equal(c.source, CRED_DOCKER_CONFIG);
	creds_release(&c);

	assert_int_equal(creds_from_docker_config(&c, &helper,
		"{\"credHelpers\":{\"https://index.docker.io/v1/\":\"pass\"}}", "docker.io", NULL, &why), 0);
	assert_string_equal(helper, "pass");
	free(helper);
	assert_null(why);

	expect_config_error("{\"credsStore\":\"../../bin/sh\"}", "r.example", "not valid");
	expect_config_error("{\"credsStore\":\"a b\"}", "r.example", "not valid");
	expect_config_error("{\"credsStore\":7}", "r.example", "credsStore");
	expect_config_error("{\"credHelpers\":[]}", "r.example", "credHelpers");
	expect_config_error("{\"credHelpers\":{\"r.example\":1}}", "r.example", "credHelpers");
}

static void test_config_errors(void **state)
{
	struct creds c;
	char *helper = NULL;

	(void)state;
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"" B64_SECRET "\"}} trailing",
			    "r.example", "invalid JSON at line 1");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"" B64_SECRET "\"", "r.example",
			    "invalid JSON");
	expect_config_error("", "r.example", "invalid JSON");
	expect_config_error("[1]", "r.example", "not a JSON object");
	expect_config_error("{\"auths\":[]}", "r.example", "auths");
	expect_config_error("{\"auths\":{\"r.example\":\"x\"}}", "r.example", "not an object");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":7}}}", "r.example", "not a string");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"!!!!\"}}}", "r.example", "invalid auth");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"dXNlc\"}}}", "r.example", "invalid auth");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"dX=lcg==\"}}}", "r.example", "invalid auth");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"dXNl cg==\"}}}", "r.example", "invalid auth");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"" B64_NO_COLON "\"}}}", "r.example",
			    "invalid auth");
	expect_config_error("{\"auths\":{\"r.example\":{\"auth\":\"" B64_NUL "\"}}}", "r.example",
			    "invalid auth");
	/* a broken entry for another host is not our business */
	expect_config("{\"auths\":{\"other\":{\"auth\":\"!!!!\"}}}", "r.example", NULL, NULL, NULL, NULL);
	/* why is optional */
	assert_int_equal(creds_from_docker_config(&c, &helper, "nope", "r.example", NULL, NULL), -1);
}

/* ---- creds_from_helper_output ---- */

static void test_helper_output(void **state)
{
	struct creds c;
	char *why = NULL;

	(void)state;
	assert_int_equal(creds_from_helper_output(&c,
		"{\"ServerURL\":\"r.example\",\"Username\":\"u\",\"Secret\":\"p\"}", &why), 0);
	assert_int_equal(c.source, CRED_HELPER);
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "p");
	assert_null(c.identity_token);
	creds_release(&c);

	assert_int_equal(creds_from_helper_output(&c,
		"{\"ServerURL\":\"r.example\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}", &why), 0);
	assert_int_equal(c.source, CRED_HELPER);
	assert_null(c.username);
	assert_null(c.password);
	assert_string_equal(c.identity_token, "refresh");
	creds_release(&c);

	assert_int_equal(creds_from_helper_output(&c, "{\"Username\":\"\",\"Secret\":\"\"}", &why), 0);
	assert_int_equal(c.source, CRED_NONE);
	assert_null(why);

	assert_int_equal(creds_from_helper_output(&c, "{\"Username\":\"u\",\"Secret\":\"s3cr3t\"", &why), -1);
	assert_no_secret(why);
	assert_non_null(strstr(why, "not valid JSON"));
	free(why);
	assert_int_equal(creds_from_helper_output(&c, "s3cr3t", &why), -1);
	assert_no_secret(why);
	free(why);
	assert_int_equal(creds_from_helper_output(&c, "{\"Username\":\"u\"}", &why), -1);
	free(why);
	assert_int_equal(creds_from_helper_output(&c, "{\"Username\":\"u\",\"Secret\":5}", &why), -1);
	free(why);
	assert_int_equal(creds_from_helper_output(&c, "[\"s3cr3t\"]", &why), -1);
	assert_no_secret(why);
	free(why);
	assert_int_equal(creds_from_helper_output(&c, NULL, NULL), -1);
	assert_int_equal(c.source, CRED_NONE);
}

/* ---- creds_resolve: flags and environment ---- */

/* Runs creds_resolve and expects an error containing `want`. */
static void expect_resolve_error(const struct creds_options *o, const char *want)
{
	struct creds c;
	char *why = NULL;

	assert_int_equal(creds_resolve(&c, o, &why), -1);
	assert_int_equal(c.source, CRED_NONE);
	assert_null(c.username);
	assert_null(c.looked);
	assert_no_secret(why);
	if (!strstr(why, want))
		fail_msg("message '%s' lacks '%s'", why, want);
	free(why);
}

static void test_resolve_flags(void **state)
{
	struct creds_options o = opts_for("r.example");
	struct creds c;
	char *why = NULL;

	(void)state;
	setenv("OCI_USERNAME", "envuser", 1);
	setenv("OCI_PASSWORD", "envpass", 1);
	o.username = "flaguser";
	o.password = "flagpass";
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_FLAG);
	assert_string_equal(c.username, "flaguser");
	assert_string_equal(c.password, "flagpass");
	assert_string_equal(c.origin, "--username/--password-stdin");
	assert_null(c.looked);
	assert_null(why);
	creds_release(&c);

	o.password = NULL;
	expect_resolve_error(&o, "--username needs --password-stdin");
	o.username = NULL;
	o.password = "s3cr3t";
	expect_resolve_error(&o, "--password-stdin needs --username");
	o.password = NULL;
	o.registry_host = NULL;
	expect_resolve_error(&o, "registry host");
	expect_resolve_error(NULL, "registry host");
}

static void test_resolve_env(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("r.example");
	struct creds c;
	char *why = NULL;

	write_file(f, "home/.docker/config.json",
		   "{\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PASS "\"}}}", 0600);
	setenv("OCI_USERNAME", "envuser", 1);
	setenv("OCI_PASSWORD", "envpass", 1);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_ENV);
	assert_string_equal(c.username, "envuser");
	assert_string_equal(c.password, "envpass");
	assert_string_equal(c.origin, "environment (OCI_USERNAME)");
	creds_release(&c);

	unsetenv("OCI_PASSWORD");
	expect_resolve_error(&o, "OCI_USERNAME is set but OCI_PASSWORD is not");
	setenv("OCI_PASSWORD", "", 1);
	expect_resolve_error(&o, "OCI_USERNAME is set but OCI_PASSWORD is not");
	unsetenv("OCI_USERNAME");
	setenv("OCI_PASSWORD", "s3cr3t", 1);
	expect_resolve_error(&o, "OCI_PASSWORD is set but OCI_USERNAME is not");
	unsetenv("OCI_PASSWORD");

	/* with the environment empty, the docker config in $HOME is used */
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_DOCKER_CONFIG);
	assert_string_equal(c.origin, path_in(f, "home/.docker/config.json"));
	creds_release(&c);
}

/* A login given for another registry: neither the flags nor the environment, only the files. */
static void test_resolve_stored_only(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("r.example");
	struct creds c;
	char *why = NULL;

	setenv("OCI_USERNAME", "envuser", 1);
	setenv("OCI_PASSWORD", "envpass", 1);
	assert_int_equal(creds_env_given(), 1);
	o.stored_only = 1;
	o.username = "flaguser";
	o.password = "flagpass";
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_null(why);
	assert_int_equal(c.source, CRED_NONE);
	assert_null(c.username);
	assert_non_null(strstr(c.looked, "--username and OCI_USERNAME (given for another registry)"));
	creds_release(&c);

	/* a half-set environment is not this registry's error either */
	unsetenv("OCI_PASSWORD");
	o.username = NULL;
	o.password = NULL;
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_NONE);
	creds_release(&c);

	write_file(f, "home/.docker/config.json",
		   "{\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PASS "\"}}}", 0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_DOCKER_CONFIG);
	creds_release(&c);
	unsetenv("OCI_USERNAME");
	assert_int_equal(creds_env_given(), 0);
}

/* ---- creds_resolve: files ---- */

static void test_resolve_nothing(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("r.example");
	struct creds c;
	char *why = NULL;
	char want[8192];
	char dc[2048], af[2048];

	snprintf(dc, sizeof(dc), "%s", path_in(f, "dc"));
	snprintf(af, sizeof(af), "%s", path_in(f, "auth.json"));
	o.docker_config = dc;
	setenv("REGISTRY_AUTH_FILE", af, 1);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_null(why);
	assert_int_equal(c.source, CRED_NONE);
	assert_null(c.username);
	assert_null(c.origin);
	snprintf(want, sizeof(want),
		 "--username, OCI_USERNAME/OCI_PASSWORD, %s/config.json (missing), %s (missing)", dc, af);
	assert_string_equal(c.looked, want);
	creds_release(&c);

	/* files that exist but have nothing for the host are listed plainly */
	write_file(f, "dc/config.json", "{\"auths\":{\"other\":{\"auth\":\"" B64_USER_PASS "\"}}}", 0600);
	write_file(f, "auth.json", "{}", 0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	snprintf(want, sizeof(want), "--username, OCI_USERNAME/OCI_PASSWORD, %s/config.json, %s", dc, af);
	assert_string_equal(c.looked, want);
	creds_release(&c);
}

static void test_resolve_docker_config_dirs(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("localhost:5000");
	struct creds c;
	char *why = NULL;
	char dir[2048];

	write_file(f, "flagdir/config.json",
		   "{\"auths\":{\"localhost:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}", 0600);
	write_file(f, "envdir/config.json",
		   "{\"auths\":{\"localhost:5000\":{\"auth\":\"" B64_USER_PA_SS "\"}}}", 0600);
	setenv("DOCKER_CONFIG", path_in(f, "envdir"), 1);
	snprintf(dir, sizeof(dir), "%s/", path_in(f, "flagdir"));
	o.docker_config = dir;
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_DOCKER_CONFIG);
	assert_string_equal(c.password, "pass");
	assert_string_equal(c.origin, path_in(f, "flagdir/config.json"));
	creds_release(&c);

	o.docker_config = NULL;
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_DOCKER_CONFIG);
	assert_string_equal(c.password, "pa:ss");
	assert_string_equal(c.origin, path_in(f, "envdir/config.json"));
	creds_release(&c);
}

static void test_resolve_broken_files(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("r.example");
	char dir[2048];

	snprintf(dir, sizeof(dir), "%s", path_in(f, "dc"));
	o.docker_config = dir;
	write_file(f, "dc/config.json", "{\"auths\":{\"r.example\":{\"auth\":\"" B64_SECRET "\"}", 0600);
	expect_resolve_error(&o, "/dc/config.json: invalid JSON at line 1");
	write_file(f, "dc/config.json", "{\"auths\":{\"r.example\":{\"auth\":\"c2VjcmV0=\"}}}", 0600);
	expect_resolve_error(&o, "/dc/config.json: auths entry for r.example has an invalid auth value");

	/* a directory where the file should be */
	remove_tree(path_in(f, "dc/config.json"));
	mkdir(path_in(f, "dc/config.json"), 0700);
	expect_resolve_error(&o, "not a regular file");
	remove_tree(path_in(f, "dc/config.json"));

	/* a broken auth.json is an error too */
	write_file(f, "auth.json", "{\"auths\":\"s3cr3t\"}", 0600);
	setenv("REGISTRY_AUTH_FILE", path_in(f, "auth.json"), 1);
	expect_resolve_error(&o, "auth.json: auths is not an object");

	/* unreadable (root can read anything, so only check as another user) */
	if (geteuid() != 0) {
		write_file(f, "auth.json", "{}", 0000);
		expect_resolve_error(&o, "cannot read");
	}
}

static void test_resolve_auth_json(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("reg.example:5000");
	struct creds c;
	char *why = NULL;

	/* REGISTRY_AUTH_FILE, with repository keys */
	write_file(f, "custom.json",
		   "{\"auths\":{\"reg.example:5000\":{\"auth\":\"" B64_USER_PASS "\"},"
		   "\"reg.example:5000/team/app\":{\"auth\":\"" B64_USER_PA_SS "\"}}}", 0600);
	setenv("REGISTRY_AUTH_FILE", path_in(f, "custom.json"), 1);
	o.repository = "team/app";
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_AUTH_JSON);
	assert_string_equal(c.password, "pa:ss");
	assert_string_equal(c.origin, path_in(f, "custom.json"));
	creds_release(&c);
	o.repository = "team/other";
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_string_equal(c.password, "pass");
	creds_release(&c);
	unsetenv("REGISTRY_AUTH_FILE");

	/* $XDG_RUNTIME_DIR first, then $XDG_CONFIG_HOME */
	setenv("XDG_RUNTIME_DIR", path_in(f, "run"), 1);
	setenv("XDG_CONFIG_HOME", path_in(f, "cfg"), 1);
	write_file(f, "cfg/containers/auth.json",
		   "{\"auths\":{\"reg.example:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}", 0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_AUTH_JSON);
	assert_string_equal(c.origin, path_in(f, "cfg/containers/auth.json"));
	creds_release(&c);
	write_file(f, "run/containers/auth.json",
		   "{\"auths\":{\"reg.example:5000\":{\"auth\":\"" B64_USER_PA_SS "\"}}}", 0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_string_equal(c.origin, path_in(f, "run/containers/auth.json"));
	assert_string_equal(c.password, "pa:ss");
	creds_release(&c);

	/* ~/.config when XDG_CONFIG_HOME is unset */
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("XDG_CONFIG_HOME");
	write_file(f, "home/.config/containers/auth.json",
		   "{\"auths\":{\"reg.example:5000\":{\"identitytoken\":\"t\"}}}", 0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_string_equal(c.origin, path_in(f, "home/.config/containers/auth.json"));
	assert_string_equal(c.identity_token, "t");
	creds_release(&c);
}

/* ---- creds_resolve: credential helpers ---- */

/* A docker config dir whose credsStore is the fake helper. */
static void use_fake_helper(struct fixture *f, struct creds_options *o, char *dir, size_t len)
{
	write_file(f, "dc/config.json",
		   "{\"credsStore\":\"fake\",\"auths\":{\"https://index.docker.io/v1/\":{},"
		   "\"localhost:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}", 0600);
	snprintf(dir, len, "%s", path_in(f, "dc"));
	o->docker_config = dir;
	setenv("REGISTRY_AUTH_FILE", path_in(f, "auth.json"), 1);
}

static void test_helper_json(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("localhost:5000");
	struct creds c;
	char *why = NULL;
	char dir[2048];

	use_fake_helper(f, &o, dir, sizeof(dir));
	write_helper(f, "[ \"$1\" = get ] || exit 3\n"
			"read -r server\n"
			"printf '{\"ServerURL\":\"%s\",\"Username\":\"for-%s\",\"Secret\":\"pw\"}\\n' "
			"\"$server\" \"$server\"\n"
			"echo 'noise on stderr' >&2");
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_null(why);
	assert_int_equal(c.source, CRED_HELPER);
	assert_string_equal(c.origin, "docker-credential-fake");
	assert_string_equal(c.username, "for-localhost:5000");
	assert_string_equal(c.password, "pw");
	assert_null(c.looked);
	creds_release(&c);

	/* Docker Hub is asked for under docker's key */
	o.registry_host = "docker.io";
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_string_equal(c.username, "for-https://index.docker.io/v1/");
	creds_release(&c);

	/* an identity token */
	write_helper(f, "cat >/dev/null\n"
			"echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}'");
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_HELPER);
	assert_null(c.username);
	assert_null(c.password);
	assert_string_equal(c.identity_token, "refresh");
	creds_release(&c);

	/* a helper that never reads its stdin */
	write_helper(f, "echo '{\"Username\":\"u\",\"Secret\":\"p\"}'");
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_string_equal(c.username, "u");
	creds_release(&c);
}

/*
 * Runs creds_resolve with a helper that cannot run: no error, no
 * credential, and helper_error naming the config file and `want`.
 */
static void expect_helper_error(struct fixture *f, const struct creds_options *o, const char *want)
{
	struct creds c;
	char *why = NULL;
	char file[2048];

	cred_helper_cache_clear();
	snprintf(file, sizeof(file), "%s: ", path_in(f, "dc/config.json"));
	assert_int_equal(creds_resolve(&c, o, &why), 0);
	assert_null(why);
	assert_int_equal(c.source, CRED_NONE);
	assert_null(c.username);
	assert_null(c.password);
	assert_non_null(c.helper_error);
	assert_no_secret(c.helper_error);
	if (strncmp(c.helper_error, file, strlen(file)) || !strstr(c.helper_error, want))
		fail_msg("helper error '%s' lacks '%s' or '%s'", c.helper_error, file, want);
	assert_non_null(strstr(c.looked, "docker-credential-fake (cannot run)"));
	creds_release(&c);
}

static void test_helper_fails(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("localhost:5000");
	struct creds c;
	char *why = NULL;
	char dir[2048];

	use_fake_helper(f, &o, dir, sizeof(dir));
	write_helper(f, "echo 'error talking to the secret store: s3cr3t'\n"
			"echo 's3cr3t' >&2\nexit 3");
	expect_helper_error(f, &o, "credential helper docker-credential-fake failed (exit 3)");

	write_helper(f, "echo 'not json s3cr3t'");
	expect_helper_error(f, &o, "docker-credential-fake: credential helper output is not valid JSON");

	write_helper(f, "kill -9 $$");
	expect_helper_error(f, &o, "docker-credential-fake was killed by signal 9");

	write_helper(f, "exec yes s3cr3t");
	expect_helper_error(f, &o, "docker-credential-fake wrote more than 64 KiB");

	/* not executable, then not there at all */
	write_file(f, "bin/docker-credential-fake", "#!/bin/sh\nexit 0\n", 0644);
	expect_helper_error(f, &o, "cannot run credential helper docker-credential-fake");
	remove_tree(path_in(f, "bin/docker-credential-fake"));
	expect_helper_error(f, &o, "credential helper docker-credential-fake is not installed");

	/* the search goes on: auth.json's credential wins, with no helper error */
	write_file(f, "auth.json", "{\"auths\":{\"localhost:5000\":{\"auth\":\"" B64_USER_PA_SS "\"}}}",
		   0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_null(why);
	assert_int_equal(c.source, CRED_AUTH_JSON);
	assert_null(c.helper_error);
	creds_release(&c);
}

static void test_helper_not_found(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("localhost:5000");
	struct creds c;
	char *why = NULL;
	char dir[2048];
	char want[8192];

	use_fake_helper(f, &o, dir, sizeof(dir));
	write_helper(f, "echo 'credentials not found in native keychain'\nexit 1");
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_null(why);
	assert_int_equal(c.source, CRED_NONE);
	snprintf(want, sizeof(want), "--username, OCI_USERNAME/OCI_PASSWORD, "
		 "docker-credential-fake (not found), %s (missing)", path_in(f, "auth.json"));
	assert_string_equal(c.looked, want);
	creds_release(&c);

	/* the search goes on to auth.json */
	write_file(f, "auth.json", "{\"auths\":{\"localhost:5000\":{\"auth\":\"" B64_USER_PA_SS "\"}}}",
		   0600);
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_AUTH_JSON);
	assert_string_equal(c.password, "pa:ss");
	creds_release(&c);

	/* credHelpers[host] beats credsStore, in auth.json too */
	write_file(f, "auth.json", "{\"credHelpers\":{\"localhost:5000\":\"fake\"}}", 0600);
	write_file(f, "dc/config.json", "{}", 0600);
	write_helper(f, "echo '{\"Username\":\"h\",\"Secret\":\"p\"}'");
	assert_int_equal(creds_resolve(&c, &o, &why), 0);
	assert_int_equal(c.source, CRED_HELPER);
	assert_string_equal(c.username, "h");
	creds_release(&c);
}

static void test_helper_timeout(void **state)
{
	struct fixture *f = *state;
	struct creds_options o = opts_for("localhost:5000");
	struct timespec t0, t1;
	char dir[2048];
	double secs;

	use_fake_helper(f, &o, dir, sizeof(dir));
	write_helper(f, "exec sleep 60");
	o.helper_timeout_ms = 1000;   /* injected: the default is 10 s */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_helper_error(f, &o, "credential helper docker-credential-fake timed out after 1 s");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs >= 0.9 && secs < 5.0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cred_source_name(CRED_NONE), "none");
	assert_string_equal(cred_source_name(CRED_FLAG), "flag");
	assert_string_equal(cred_source_name(CRED_ENV), "env");
	assert_string_equal(cred_source_name(CRED_DOCKER_CONFIG), "docker-config");
	assert_string_equal(cred_source_name(CRED_HELPER), "helper");
	assert_string_equal(cred_source_name(CRED_AUTH_JSON), "auth-json");
	creds_release(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_auths),
		T(test_config_docker_hub),
		T(test_config_repository_keys),
		T(test_config_helpers),
		T(test_config_errors),
		T(test_helper_output),
		T(test_resolve_flags),
		T(test_resolve_env),
		T(test_resolve_stored_only),
		T(test_resolve_nothing),
		T(test_resolve_docker_config_dirs),
		T(test_resolve_broken_files),
		T(test_resolve_auth_json),
		T(test_helper_json),
		T(test_helper_fails),
		T(test_helper_not_found),
		T(test_helper_timeout),
		T(test_names),
	};
	const char *p = getenv("PATH");
	int failed;

	old_path_env = p ? strdup(p) : NULL;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	free(old_path_env);
	return failed;
}
