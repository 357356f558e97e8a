/*
 * ocidoctor serve: the doctor as a Prometheus multi-target exporter
 * (serve/serve.h). This file holds its options; the server is in
 * src/serve/.
 */
#include "cli/cli.h"
#include "cli/optgroups.h"
#include "serve/serve.h"
#include "util/thread.h"

#include <stdlib.h>

#define SARG(field) offsetof(struct serve_args, field)

static const struct opt serve_opts[] = {
	{ .long_name = "listen", .type = OPT_STRING, .offset = SARG(listen), .arg = "ADDR:PORT",
	  .help = "where to listen: IPv4:PORT, [IPv6]:PORT or :PORT", .def = "127.0.0.1:10071" },
	{ .long_name = "config", .type = OPT_STRING, .offset = SARG(config), .arg = "FILE",
	  .help = "YAML file with the modules: map (default: one module 'default' that never writes)" },
	{ .long_name = "max-concurrent", .type = OPT_LONG, .offset = SARG(max_concurrent), .arg = "N",
	  .help = "probes run at once; beyond it a probe is answered 503", .def = "16",
	  .max = SERVE_MAX_CONCURRENT },
	{ .long_name = "timeout-offset", .type = OPT_STRING, .offset = SARG(timeout_offset),
	  .arg = "SECONDS",
	  .help = "taken off Prometheus' scrape timeout for the probe's deadline", .def = "0.5" },
	{ .long_name = "max-timeout", .type = OPT_STRING, .offset = SARG(max_timeout),
	  .arg = "SECONDS",
	  .help = "the longest a probe may run, whatever the scrape's timeout or a module says",
	  .def = "120" },
	{ .long_name = "history-limit", .type = OPT_LONG, .offset = SARG(history_limit), .arg = "N",
	  .help = "recent probes kept for the / page and their reports", .def = "100",
	  .max = SERVE_MAX_HISTORY },
	{ .long_name = "log-format", .type = OPT_STRING, .offset = SARG(log_format), .arg = "FMT",
	  .help = "one line per probe on stderr", .def = "text",
	  .values = (const char *const[]){ "text", "json", NULL } },
	{ .long_name = "allow-target", .type = OPT_LIST, .offset = SARG(allow_targets), .arg = "PATTERN",
	  .help = "probe only targets whose host[:port] matches: HOST, HOST:PORT, HOST:*, *.DOMAIN[:PORT], [IPv6][:PORT] (repeatable; default any)" },
	{ .long_name = "web.disable-debug", .type = OPT_BOOL, .offset = SARG(web_disable_debug),
	  .help = "refuse debug=true, format=json|html and /report/ID, and list no recent probes on /" },
	{ .long_name = "web.enable-lifecycle", .type = OPT_BOOL, .offset = SARG(web_enable_lifecycle),
	  .help = "allow POST /-/reload (off by default; SIGHUP always reloads)" },
	{ .long_name = "check-config", .type = OPT_STRING, .offset = SARG(check_config), .arg = "FILE",
	  .help = "load FILE as --config would, print its modules and exit: 0 valid, 3 not (the message of a start)" },
	OPT_GROUP_HELP(SARG),
	OPT_END
};

static int serve_cmd(int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct opt_list positional = { 0 };
	char *sources[SOURCE_MAX] = { 0 };
	char *why = NULL;
	size_t i;
	int ret;

	if (opt_parse(serve_opts, argc, argv, &a, &positional, sources, &why) < 0)
		ret = cli_usage_error("%s", why);
	else if (a.help)
		ret = (opt_usage(stdout, cmd_serve.usage, cmd_serve.about, serve_opts), EXIT_OK);
	else if (positional.nr)
		ret = cli_usage_error("unexpected argument '%s'", positional.items[0]);
	else {
		opt_apply_defaults(serve_opts, &a, sources);
		if (a.check_config) {
			ret = serve_check_config(a.check_config);
		} else {
			thread_prefer_batch(); /* before serve_main starts a thread: they inherit it */
			ret = serve_main(&a);
		}
	}
	opt_release(serve_opts, &a);
	opt_list_release(&positional);
	for (i = 0; i < SOURCE_MAX; i++)
		free(sources[i]);
	free(why);
	return ret;
}

const struct command cmd_serve = {
	.name = "serve",
	.usage = "ocidoctor serve [--listen ADDR:PORT] [--config FILE] [--max-concurrent N] [OPTIONS]",
	.about = "Run as a Prometheus exporter: GET /probe?target=REGISTRY answers the checks' metrics.",
	.opts = serve_opts,
	.fn = serve_cmd,
};
