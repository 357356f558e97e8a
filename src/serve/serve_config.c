/*
 * serve_config: the exporter's modules, from YAML.
 *
 *   modules:
 *     default:
 *       writes: none              # or probe; a scrape writes only when it says so
 *       checks: [ID-GLOB, ...]    # or tags: [TAG, ...]; default all
 *       repository: library/alpine
 *       tag: latest
 *       scratch_repository: NAME
 *       credentials:              # docker_config: DIR, or username + password_file
 *         username: ci
 *         password_file: /etc/ocidoctor/password
 *       registries: ["registry.example.com", "*.corp.example:5000"]  # host patterns (serve.h)
 *       ca_file: PEM
 *       cert: PEM
 *       key: PEM
 *       insecure: false
 *       timeout: 30               # seconds, caps the scrape's own timeout
 *       min_interval: 600         # seconds; writing modules only (default 600)
 *
 * A module with credentials must have `registries`: they go to no other
 * target. Every value is checked at load, and the credentials files are
 * read then (at start and at reload), never by a probe; an error names the
 * file and line.
 */
#include "serve/serve.h"
#include "cli/cli.h"
#include "cli/yamldoc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/ref.h"
#include "util/keyname.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_MAX ((size_t)1024 * 1024)
#define PASSWORD_MAX ((size_t)64 * 1024)
#define DOCKER_CONFIG_MAX ((size_t)1024 * 1024)

struct cached;

struct loader {
	const char *name;
	yaml_document_t *doc;
	char **why;
};

static int bad(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	struct buf b;
	char *msg;
	va_list ap;

	buf_init(&b, BUF_TEXT_MAX);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	msg = buf_detach(&b);
	buf_release(&b);

	*l->why = xstrfmt("%s:%lu: %s", l->name, (unsigned long)n->start_mark.line + 1, msg);
	free(msg);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_string(struct loader *l, const yaml_node_t *v, const char *key, char **out)
{
	const char *s = scalar(v);

	if (!s || !*s)
		return bad(l, v, "%s is a non-empty string", key);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int get_bool(struct loader *l, const yaml_node_t *v, const char *key, int *out)
{
	int b = yamldoc_bool(scalar(v));

	if (b < 0)
		return bad(l, v, "%s is true or false", key);
	*out = b;
	return 0;
}

static int get_seconds(struct loader *l, const yaml_node_t *v, const char *key, long *ms)
{
	const char *s = scalar(v);

	if (!s || clock_parse_seconds(s, 1, CLOCK_SECONDS_MAX * 1000, ms) < 0)
		return bad(l, v, "%s is a number of seconds such as 30, 2.5, 5s or 1m, from 0.001 to 86400, not '%s'",
			   key, s ? s : "a list or a mapping");
	return 0;
}

static int get_list(struct loader *l, const yaml_node_t *v, const char *key, struct opt_list *out)
{
	yaml_node_item_t *it;

	if (scalar(v)) {
		opt_list_add(out, scalar(v));
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return bad(l, v, "%s is a list of strings", key);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const char *s = scalar(yaml_document_get_node(l->doc, *it));

		if (!s || !*s)
			return bad(l, v, "%s is a list of strings", key);
		opt_list_add(out, s);
	}
	return 0;
}

/* A list of host patterns (serve_host_pattern_check), each checked where it is. */
static int get_host_patterns(struct loader *l, const yaml_node_t *v, const char *key,
			     struct opt_list *out)
{
	yaml_node_item_t *it;
	const char *why = NULL;

	if (scalar(v)) {
		if (serve_host_pattern_check(scalar(v), &why) < 0)
			return bad(l, v, "%s: '%s' is not a host pattern: %s (%s)", key, scalar(v), why,
				   SERVE_HOST_PATTERN_FORMS);
		opt_list_add(out, scalar(v));
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return bad(l, v, "%s is a list of host patterns", key);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(l->doc, *it);
		const char *s = scalar(n);

		if (!s)
			return bad(l, n, "%s is a list of host patterns", key);
		if (serve_host_pattern_check(s, &why) < 0)
			return bad(l, n, "%s: '%s' is not a host pattern: %s (%s)", key, s, why,
				   SERVE_HOST_PATTERN_FORMS);
		opt_list_add(out, s);
	}
	return 0;
}

/*
 * Reads a credentials file at load (start and reload), never in a probe:
 * a FIFO, a device or an oversized file is refused at once (buf_read_file)
 * and a file on a hung filesystem holds up the load, not the probes.
 */
static int read_secret_file(struct loader *l, const yaml_node_t *n, const char *what,
			    const char *path, size_t max, char **out)
{
	struct buf b;
	const char *why = NULL;

	buf_init_secret(&b, max);
	if (buf_read_file(&b, path, &why) < 0) {
		buf_release(&b);
		if (b.overflow)
			return bad(l, n, "cannot read %s '%s': larger than %zu KiB", what, path, max >> 10);
		return bad(l, n, "cannot read %s '%s': %s", what, path, why);
	}
	if (memchr(b.data, '\0', b.len)) {
		buf_release(&b);
		return bad(l, n, "cannot read %s '%s': it holds a NUL byte", what, path);
	}
	secret_free(*out);
	*out = buf_detach(&b);
	return 0;
}

static int read_credentials(struct loader *l, struct serve_module *m, const yaml_node_t *n)
{
	char *path;
	size_t len;
	int ret;

	if (m->password_file) {
		if (read_secret_file(l, n, "the password file", m->password_file, PASSWORD_MAX,
				     &m->password) < 0)
			return -1;
		len = strlen(m->password);
		while (len && (m->password[len - 1] == '\n' || m->password[len - 1] == '\r'))
			m->password[--len] = '\0';
		return 0;
	}
	if (!m->docker_config)
		return 0;
	path = xstrfmt("%s/config.json", m->docker_config);
	ret = read_secret_file(l, n, "the docker config", path, DOCKER_CONFIG_MAX,
			       &m->docker_config_json);
	free(path);
	return ret;
}

/* A key met again in one mapping (libyaml keeps both): refused, so nothing is read twice. */
static int key_repeated(struct loader *l, const yaml_node_t *map, const yaml_node_pair_t *upto,
			const char *key)
{
	const yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start; p < upto; p++) {
		const char *k = scalar(yaml_document_get_node(l->doc, p->key));

		if (k && key_same(k, key))
			return 1;
	}
	return 0;
}

/* One key of a module's credentials, key in snake_case. */
static int load_credential_key(struct loader *l, struct serve_module *m, const char *key,
			       const yaml_node_t *k, const yaml_node_t *v)
{
	if (!strcmp(key, "docker_config"))
		return get_string(l, v, key, &m->docker_config);
	if (!strcmp(key, "username"))
		return get_string(l, v, key, &m->username);
	if (!strcmp(key, "password_file"))
		return get_string(l, v, key, &m->password_file);
	if (!strcmp(key, "password"))
		return bad(l, k, "credentials take a password_file, never a password in the config");
	return bad(l, k, "unknown credentials key '%s' (docker_config, username, password_file)", key);
}

static int load_credentials(struct loader *l, struct serve_module *m, const yaml_node_t *n)
{
	yaml_node_pair_t *p;

	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "credentials is a mapping (docker_config, or username and password_file)");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		char *key = key_snake_case(scalar(k) ? scalar(k) : "");
		int ret;

		if (key_repeated(l, n, p, key))
			ret = bad(l, k, "credentials: '%s' is given twice", key);
		else
			ret = load_credential_key(l, m, key, k, v);
		free(key);
		if (ret < 0)
			return -1;
	}
	if (m->docker_config && (m->username || m->password_file))
		return bad(l, n, "credentials are a docker_config or a username and password_file, not both");
	if (!!m->username != !!m->password_file)
		return bad(l, n, "username and password_file go together");
	return read_credentials(l, m, n);
}

static int load_key(struct loader *l, struct serve_module *m, const char *key, yaml_node_t *k,
		    yaml_node_t *v, struct opt_list *checks, struct opt_list *tags)
{
	const char *why = NULL;
	char *s = NULL;
	int ret;

	if (!strcmp(key, "checks"))
		return get_list(l, v, key, checks);
	if (!strcmp(key, "tags"))
		return get_list(l, v, key, tags);
	if (!strcmp(key, "registries"))
		return get_host_patterns(l, v, key, &m->registries);
	if (!strcmp(key, "credentials"))
		return load_credentials(l, m, v);
	if (!strcmp(key, "insecure"))
		return get_bool(l, v, key, &m->insecure);
	if (!strcmp(key, "timeout"))
		return get_seconds(l, v, key, &m->timeout_ms);
	if (!strcmp(key, "min_interval"))
		return get_seconds(l, v, key, &m->min_interval_ms);
	if (!strcmp(key, "writes")) {
		if (get_string(l, v, key, &s) < 0)
			return -1;
		ret = 0;
		if (!strcmp(s, doctor_writes_name(DOCTOR_WRITES_NONE)))
			m->writes = DOCTOR_WRITES_NONE;
		else if (!strcmp(s, doctor_writes_name(DOCTOR_WRITES_PROBE)))
			m->writes = DOCTOR_WRITES_PROBE;
		else
			ret = bad(l, v, "writes is none or probe, not '%s'", s);
		free(s);
		return ret;
	}
	if (!strcmp(key, "repository") || !strcmp(key, "scratch_repository")) {
		char **dst = !strcmp(key, "repository") ? &m->repository : &m->scratch;

		if (get_string(l, v, key, dst) < 0)
			return -1;
		if (repository_name_valid(*dst, &why) < 0)
			return bad(l, v, "invalid repository: %s", why);
		return 0;
	}
	if (!strcmp(key, "tag")) {
		if (get_string(l, v, key, &m->tag) < 0)
			return -1;
		if (reference_valid(m->tag, &why) < 0)
			return bad(l, v, "invalid tag: %s", why);
		return 0;
	}
	if (!strcmp(key, "ca_file"))
		return get_string(l, v, key, &m->ca_file);
	if (!strcmp(key, "cert"))
		return get_string(l, v, key, &m->cert);
	if (!strcmp(key, "key"))
		return get_string(l, v, key, &m->key);
	return bad(l, k, "unknown module key '%s'", key);
}

static void module_defaults(struct serve_module *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->selected = xcalloc(check_table_size, sizeof(*m->selected));
}

/* The module's CA, certificate and key, checked as run checks its own (http_check_tls_files). */
static int module_tls_files(struct loader *l, const struct serve_module *m, const yaml_node_t *n)
{
	const struct tls_files f = { .ca_file = m->ca_file, .cert = m->cert, .key = m->key,
				     .ca_name = "ca_file", .cert_name = "cert", .key_name = "key" };
	char *why = NULL;
	int ret = 0;

	if (http_check_tls_files(&f, &why) < 0)
		ret = bad(l, n, "module '%s': %s", m->name, why);
	free(why);
	return ret;
}

/* Fills the defaults that depend on other keys and checks the combinations. */
static int module_finish(struct loader *l, struct serve_module *m, const yaml_node_t *n,
			 struct opt_list *checks, struct opt_list *tags)
{
	if (!m->repository)
		m->repository = xstrdup(DOCTOR_DEFAULT_REPOSITORY);
	if (!m->tag)
		m->tag = xstrdup(DOCTOR_DEFAULT_TAG);
	if (serve_module_has_creds(m) && !m->registries.nr)
		return bad(l, n, "module '%s' has credentials but no registries: list the registries they may go to",
			   m->name);
	if (!!m->cert != !!m->key)
		return bad(l, n, "cert and key go together");
	if (module_tls_files(l, m, n) < 0)
		return -1;
	if (m->writes == DOCTOR_WRITES_PROBE && !m->min_interval_ms)
		m->min_interval_ms = SERVE_DEFAULT_MIN_INTERVAL_S * 1000;
	if (m->writes == DOCTOR_WRITES_NONE && m->min_interval_ms)
		return bad(l, n, "min_interval is for modules that write (writes: probe)");
	if (cli_select_checks(checks, tags, m->selected) != EXIT_OK)
		return bad(l, n, "module '%s' selects no check (see above)", m->name);
	return 0;
}

static int load_module(struct loader *l, struct serve_module *m, const char *name,
		       const yaml_node_t *n)
{
	struct opt_list checks = { 0 }, tags = { 0 };
	yaml_node_pair_t *p;
	char *key;
	int ret = -1;

	module_defaults(m, name);
	if (n->type == YAML_SCALAR_NODE && !*scalar(n)) {
		ret = module_finish(l, m, n, &checks, &tags);
		goto done;
	}
	if (n->type != YAML_MAPPING_NODE) {
		bad(l, n, "module '%s' is a mapping", name);
		goto done;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);

		if (!scalar(k)) {
			ret = bad(l, k, "module keys are strings");
			goto done;
		}
		if (key_repeated(l, n, p, scalar(k))) {
			ret = bad(l, k, "module '%s': '%s' is given twice", name, scalar(k));
			goto done;
		}
		key = key_snake_case(scalar(k));
		ret = load_key(l, m, key, k, v, &checks, &tags);
		free(key);
		if (ret < 0)
			goto done;
	}
	ret = module_finish(l, m, n, &checks, &tags);
done:
	opt_list_release(&checks);
	opt_list_release(&tags);
	return ret;
}

static int name_valid(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

static int load_modules(struct loader *l, struct serve_config *c, const yaml_node_t *n)
{
	yaml_node_pair_t *p;

	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "modules is a mapping of module names to modules");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		const char *name = scalar(k);

		if (!name || !name_valid(name))
			return bad(l, k, "a module name is 1 to 64 of A-Z a-z 0-9 _ - .");
		if (serve_config_module(c, name))
			return bad(l, k, "module '%s' is defined twice", name);
		if (c->nr >= SERVE_MAX_MODULES)
			return bad(l, k, "at most 64 modules");
		c->nr++;
		if (load_module(l, &c->modules[c->nr - 1], name,
				yaml_document_get_node(l->doc, p->value)) < 0)
			return -1;
	}
	if (!c->nr)
		return bad(l, n, "modules is empty: define at least one");
	return 0;
}

static struct serve_config *config_new(void)
{
	struct serve_config *c = xcalloc(1, sizeof(*c));

	c->modules = xcalloc(SERVE_MAX_MODULES, sizeof(*c->modules));
	return c;
}

int serve_config_parse(struct serve_config **out, const char *name, const char *text, size_t len,
		       char **why)
{
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *p;
	struct loader l = { .name = name, .doc = &doc, .why = why };
	struct serve_config *c;
	int ret = -1, found = 0;

	*out = NULL;
	if (yamldoc_load(&doc, name, text, len, why) < 0)
		return -1;
	c = config_new();
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		*why = xstrfmt("%s: the config is a mapping with a modules: key", name);
		goto done;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		const char *key = scalar(k) ? scalar(k) : "";

		if (strcmp(key, "modules")) {
			bad(&l, k, "unknown key '%s' (the config has modules:)", key);
			goto done;
		}
		if (found) {
			bad(&l, k, "modules: is given twice");
			goto done;
		}
		found = 1;
		if (load_modules(&l, c, yaml_document_get_node(&doc, p->value)) < 0)
			goto done;
	}
	if (!found) {
		*why = xstrfmt("%s: no modules: key", name);
		goto done;
	}
	ret = 0;
done:
	yaml_document_delete(&doc);
	if (ret < 0)
		serve_config_free(c);
	else
		*out = c;
	return ret;
}

int serve_config_load(struct serve_config **out, const char *path, char **why)
{
	struct buf b;
	FILE *f;
	int ret;

	if (!path) {
		struct serve_config *c = config_new();
		struct opt_list none = { 0 };

		c->nr = 1;
		module_defaults(&c->modules[0], "default");
		c->modules[0].repository = xstrdup(DOCTOR_DEFAULT_REPOSITORY);
		c->modules[0].tag = xstrdup(DOCTOR_DEFAULT_TAG);
		cli_select_checks(&none, &none, c->modules[0].selected);
		*out = c;
		return 0;
	}
	f = fopen(path, "rb");
	if (!f) {
		*why = xstrfmt("cannot read the config file '%s'", path);
		return -1;
	}
	buf_init(&b, CONFIG_MAX);
	if (buf_read_stream(&b, f) < 0) {
		fclose(f);
		buf_release(&b);
		*why = xstrfmt("cannot read the config file '%s' (at most 1 MiB)", path);
		return -1;
	}
	fclose(f);
	ret = serve_config_parse(out, path, b.data ? b.data : "", b.len, why);
	buf_release(&b);
	if (ret == 0)
		(*out)->path = xstrdup(path);
	return ret;
}

int serve_check_config(const char *path)
{
	struct serve_config *c = NULL;
	char *why = NULL;
	size_t i;
	int ret;

	if (serve_config_load(&c, path, &why) < 0) {
		ret = cli_usage_error("%s", why);
		goto done;
	}
	printf("%s: valid, %zu module%s:", path, c->nr, c->nr == 1 ? "" : "s");
	for (i = 0; i < c->nr; i++)
		printf("%s%s", i ? ", " : " ", c->modules[i].name);
	putchar('\n');
	ret = fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
done:
	serve_config_free(c);
	free(why);
	return ret;
}

int serve_config_start(struct serve_config *c, char **why)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		struct serve_module *m = &c->modules[i];
		struct engine_options eo = { .ca_file = m->ca_file, .cert = m->cert, .key = m->key,
					     .insecure = m->insecure };

		if (doctor_engine_start(&m->engine, &eo) < 0) {
			*why = xstrfmt("module '%s': cannot start libcurl", m->name);
			return -1;
		}
	}
	return 0;
}


static void module_release(struct serve_module *m)
{
	doctor_engine_stop(&m->engine);
	free(m->name);
	free(m->selected);
	free(m->repository);
	free(m->tag);
	free(m->scratch);
	free(m->docker_config);
	free(m->username);
	free(m->password_file);
	secret_free(m->password);
	secret_free(m->docker_config_json);
	opt_list_release(&m->registries);
	free(m->ca_file);
	free(m->cert);
	free(m->key);
}

void serve_config_free(struct serve_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nr; i++)
		module_release(&c->modules[i]);
	free(c->modules);
	free(c->path);
	free(c);
}

const struct serve_module *serve_config_module(const struct serve_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->modules[i].name, name))
			return &c->modules[i];
	return NULL;
}

int serve_module_has_creds(const struct serve_module *m)
{
	return m->docker_config || m->username;
}

/* ---- host patterns ---------------------------------------------------------- */

#define HOST_NAME_MAX_LEN 253
#define PORT_NONE 0
#define PORT_ANY (-1)

enum host_kind { HOST_NAME, HOST_SUFFIX, HOST_IPV4, HOST_IPV6 };

/* A host pattern or a target's host[:port], parsed. */
struct host_port {
	enum host_kind kind;
	char name[HOST_NAME_MAX_LEN + 1];   /* lower case; HOST_SUFFIX: what follows "*." */
	unsigned char addr[16];             /* HOST_IPV4: 4 bytes, HOST_IPV6: 16 */
	int port;                           /* 1-65535, PORT_NONE or PORT_ANY */
};

static int pattern_fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* Letters, digits, '-' and '_' in labels joined by single dots. */
static int host_name_valid(const char *s)
{
	size_t label = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (!label)
				return 0;
			label = 0;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
			   *s == '_') {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* Whether the last label of a host name is all digits, as no DNS name's is. */
static int ends_in_number(const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *last = dot ? dot + 1 : name;

	return *last && strspn(last, "0123456789") == strlen(last);
}

static int parse_port(const char *s, int wild, int *port, const char **why)
{
	long n = 0;
	size_t i;

	if (wild && !strcmp(s, "*")) {
		*port = PORT_ANY;
		return 0;
	}
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 5; i++)
		n = n * 10 + (s[i] - '0');
	if (!i || s[i] || n < 1 || n > 65535)
		return pattern_fail(why, wild ? "the port is a number from 1 to 65535, or *"
					      : "the port is a number from 1 to 65535");
	*port = (int)n;
	return 0;
}

/* "[IPv6]" and what follows it. */
static int parse_bracketed(const char *text, int wild, struct host_port *out, const char **why)
{
	const char *close = strchr(text, ']');
	size_t len = close ? (size_t)(close - text - 1) : 0;

	if (!close || len >= sizeof(out->name))
		return pattern_fail(why, "an IPv6 address in brackets ends with ']'");
	memcpy(out->name, text + 1, len);
	out->name[len] = '\0';
	if (inet_pton(AF_INET6, out->name, out->addr) != 1)
		return pattern_fail(why, "not an IPv6 address between '[' and ']'");
	out->kind = HOST_IPV6;
	if (!close[1])
		return 0;
	if (close[1] != ':')
		return pattern_fail(why, "after ']' comes ':PORT' or nothing");
	return parse_port(close + 2, wild, &out->port, why);
}

/* Parses a pattern (wild: the two wildcards allowed) or a target's host[:port]. */
static int parse_host_port(const char *text, int wild, struct host_port *out, const char **why)
{
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text), i;
	const char *name = out->name;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[')
		return parse_bracketed(text, wild, out, why);
	if (colon && strchr(colon + 1, ':'))
		return pattern_fail(why, "an IPv6 address goes in brackets: [::1]:5000");
	if (len > HOST_NAME_MAX_LEN)
		return pattern_fail(why, "the host is longer than 253 characters");
	for (i = 0; i < len; i++)
		out->name[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
	out->name[len] = '\0';
	if (wild && !strncmp(name, "*.", 2)) {
		memmove(out->name, name + 2, len - 1);
		out->kind = HOST_SUFFIX;
	} else if (inet_pton(AF_INET, name, out->addr) == 1) {
		out->kind = HOST_IPV4;
	}
	if (out->kind != HOST_IPV4 && !host_name_valid(name))
		return pattern_fail(why, wild ? "the host is a name, an IPv4 address, an IPv6 address in "
						"brackets or *.DOMAIN; no other wildcard"
					      : "the host is a name, an IPv4 address or an IPv6 address in brackets");
	if (out->kind == HOST_SUFFIX && ends_in_number(name))
		return pattern_fail(why, "*.DOMAIN is for host names, not IP addresses");
	return colon ? parse_port(colon + 1, wild, &out->port, why) : 0;
}

static int host_matches(const struct host_port *p, const struct host_port *t)
{
	size_t pl = strlen(p->name), tl = strlen(t->name);

	switch (p->kind) {
	case HOST_IPV4:
		return t->kind == HOST_IPV4 && !memcmp(p->addr, t->addr, 4);
	case HOST_IPV6:
		return t->kind == HOST_IPV6 && !memcmp(p->addr, t->addr, 16);
	case HOST_NAME:
		return t->kind == HOST_NAME && !strcmp(p->name, t->name);
	case HOST_SUFFIX:
		return t->kind == HOST_NAME && tl > pl + 1 && t->name[tl - pl - 1] == '.' &&
		       !strcmp(t->name + tl - pl, p->name);
	}
	return 0;
}

int serve_host_pattern_check(const char *pattern, const char **why)
{
	struct host_port p;

	return parse_host_port(pattern, 1, &p, why);
}

int serve_host_pattern_match(const char *pattern, const char *hostport)
{
	struct host_port p, t;
	const char *why;

	if (parse_host_port(pattern, 1, &p, &why) < 0 || parse_host_port(hostport, 0, &t, &why) < 0)
		return 0;
	return host_matches(&p, &t) && (p.port == PORT_ANY || p.port == t.port);
}

int serve_module_allows(const struct serve_module *m, const char *hostport)
{
	size_t i;

	for (i = 0; i < m->registries.nr; i++)
		if (serve_host_pattern_match(m->registries.items[i], hostport))
			return 1;
	return 0;
}
