/*
 * serve: ocidoctor as a Prometheus multi-target exporter.
 *
 * GET /probe?target=REGISTRY&module=NAME runs the doctor (doctor.h)
 * against the target with the module's settings and answers the run's
 * metrics; the modules come from a YAML file (serve_config.c). Probes
 * share one engine (one connection pool) per module.
 *
 * Threads, all bounded: libmicrohttpd's listener thread plus one thread
 * per connection, at most SERVE_CONNECTIONS(--max-concurrent) connections
 * (idle keep-alive ones included; beyond that a connection is closed at
 * once, so the 503 of a probe over the limit has room), at most
 * SERVE_CONNECTIONS_PER_CLIENT of them from one address, and a watchdog
 * that closes a connection whose request has not arrived in time
 * (SERVE_HEADER_TIMEOUT_MS after it opened, SERVE_IDLE_TIMEOUT_MS after
 * its last answer; no byte sent meanwhile extends it); each of the at most
 * --max-concurrent probes running at once runs in its connection's thread
 * and takes at most T - 1 more from the thread pool (T is 15, 29 with a
 * writing module: its checks and their parallel calls,
 * docs/architecture.md). So, with the watchdog, at most
 * 2 + (4N + 64) + (T - 1)*N threads.
 *
 * Memory is bounded by --max-concurrent, --history-limit and
 * SERVE_CACHE_MAX, never by the number of targets ever seen.
 */
#ifndef OCIDOCTOR_SERVE_H
#define OCIDOCTOR_SERVE_H

#include "auth/creds.h"
#include "cli/options.h"
#include "doctor/doctor.h"

#include <pthread.h>
#include <time.h>

#define SERVE_MAX_CONCURRENT 1024
#define SERVE_CONNECTIONS(n) (4 * (n) + 64)
#define SERVE_CONNECTIONS_PER_CLIENT(n) (2 * (n) + 16)
#define SERVE_HEADER_TIMEOUT_MS 5000L  /* a new connection's request, header and body */
#define SERVE_IDLE_TIMEOUT_MS 30000L   /* the next request on a keep-alive connection */
#define SERVE_MAX_HISTORY 10000
#define SERVE_NO_HEADER_TIMEOUT_MS 120000L
#define SERVE_MAX_TIMEOUT_S 86400L
#define SERVE_MIN_TIMEOUT_MS 100L
#define SERVE_DEFAULT_MIN_INTERVAL_S 600L
#define SERVE_CACHE_MAX 1024         /* cached results of the writing modules */
#define SERVE_MAX_MODULES 64

/* One module of the config: how a probe is run. */
struct serve_module {
	char *name;
	int *selected;                  /* check_table_size flags */
	char *repository, *tag, *scratch;
	enum doctor_writes writes;
	/* credentials: a docker config directory, or username + a password file */
	char *docker_config;
	char *username;
	char *password_file;
	char *password;                 /* read from password_file at load, wiped on release */
	char *docker_config_json;       /* docker_config's config.json, read at load, wiped on release */
	struct opt_list registries;     /* host patterns allowed to receive the credentials */
	char *ca_file, *cert, *key;
	int insecure;
	long timeout_ms;                /* cap on a probe's time; 0: none */
	long min_interval_ms;           /* writing modules: a scrape within it gets the cache */
	struct doctor_engine engine;    /* started by serve_config_start */
};

/* A loaded config: replaced whole on reload, freed when its last probe ends. */
struct serve_config {
	char *path;                     /* NULL: the built-in default module */
	struct serve_module *modules;
	size_t nr;
	int refs;                       /* guarded by the server's lock */
	struct serve_config *live_next; /* serve.c: the configs still in use */
};

/*
 * Loads the config at path (NULL: one module `default` with the
 * defaults), validating every value. Returns 0, or -1 with *why (newly
 * allocated, "FILE:LINE: what is wrong").
 */
int serve_config_load(struct serve_config **out, const char *path, char **why);
/* The same from text, for tests. */
int serve_config_parse(struct serve_config **out, const char *name, const char *text, size_t len,
		       char **why);
/*
 * `serve --check-config FILE`: loads the config as the server does at
 * start, without listening or probing. Prints the modules on stdout and
 * returns EXIT_OK, or writes the start's message on stderr and returns the
 * start's exit status (EXIT_USAGE).
 */
int serve_check_config(const char *path);
/* Starts every module's engine. Returns 0 or -1 with *why. */
int serve_config_start(struct serve_config *c, char **why);
/* Stops the engines and frees everything. */
void serve_config_free(struct serve_config *c);
const struct serve_module *serve_config_module(const struct serve_config *c, const char *name);

/*
 * Host patterns, of a module's `registries` and of --allow-target:
 * HOST[:PORT], where HOST is a host name (compared without regard to
 * case), an IPv4 address or an IPv6 address in brackets (both compared as
 * addresses: [::1] is [0:0::1]), and PORT a number. Two wildcards, nothing
 * else is special: a leading "*." of a host name (one or more labels:
 * *.corp.example is a.corp.example and a.b.corp.example, never
 * corp.example or an IP address) and ":*" (any port, or none). A pattern
 * without a port matches a target without one only.
 */
#define SERVE_HOST_PATTERN_FORMS \
	"HOST, HOST:PORT, HOST:* or *.DOMAIN[:PORT], an IPv6 address in brackets"
/* 0 when pattern is one; -1 with a static reason in *why. */
int serve_host_pattern_check(const char *pattern, const char **why);
/* 1 when hostport ("host[:port]", IPv6 in brackets) matches pattern, else 0. */
int serve_host_pattern_match(const char *pattern, const char *hostport);

/* Whether a module may send its credentials to host[:port]: one of its `registries` matches. */
int serve_module_allows(const struct serve_module *m, const char *hostport);
int serve_module_has_creds(const struct serve_module *m);

/* The command-line settings of the server. */
struct serve_args {
	char *listen;
	char *config;
	long max_concurrent;
	char *timeout_offset;           /* seconds, a decimal number */
	char *max_timeout;              /* seconds, a decimal number: the longest probe */
	long history_limit;
	char *log_format;
	struct opt_list allow_targets;
	int web_disable_debug;          /* no debug=true, format=json|html, /report/ID */
	int web_enable_lifecycle;       /* POST /-/reload */
	char *check_config;             /* load this config, say whether it is valid, and exit */
	int help;
};

/* Runs the server until SIGTERM or SIGINT; returns an exit status. */
int serve_main(struct serve_args *a);

#endif
