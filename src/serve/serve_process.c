/*
 * serve_process: the exporter's own process_* series, as Prometheus' client
 * libraries write them (libmicrohttpd has none), read from /proc/self:
 *
 *   process_cpu_seconds_total        user and system CPU time
 *   process_resident_memory_bytes    resident set size
 *   process_virtual_memory_bytes     virtual memory size
 *   process_open_fds, process_max_fds  open descriptors and RLIMIT_NOFILE
 *   process_start_time_seconds       start, seconds since the Unix epoch
 *
 * A value that cannot be read leaves its series out.
 */
#include "serve/serve_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct proc_stat {
	unsigned long long utime, stime, starttime; /* clock ticks */
	unsigned long long vsize;                   /* bytes */
	long long rss;                              /* pages */
};

/* Fields 14, 15, 22, 23 and 24 of /proc/self/stat (after the command's closing parenthesis). */
static int read_stat(struct proc_stat *st)
{
	char text[1024], *p;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strrchr(text, ')');
	if (!p)
		return -1;
	/* p + 2 is field 3 (state) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
		   "%*d %llu %llu %lld", &st->utime, &st->stime, &st->starttime, &st->vsize,
		   &st->rss) != 5)
		return -1;
	return 0;
}

/* The btime line of /proc/stat: the boot time, seconds since the epoch; -1 when unknown. */
static long long boot_time(void)
{
	char line[256];
	long long t = -1;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	while (t < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &t) != 1)
			t = -1;
	fclose(f);
	return t;
}

/* Entries of /proc/self/fd (the directory's own descriptor included, as client_golang counts). */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void gauge(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void serve_write_process_metrics(FILE *out, int openmetrics)
{
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds = open_fds();
	long long boot = boot_time();
	struct proc_stat st;
	struct rlimit rl;

	if (ticks > 0 && read_stat(&st) == 0) {
		fprintf(out, "# HELP %s Total user and system CPU time spent in seconds.\n"
			"# TYPE %s counter\n", openmetrics ? "process_cpu_seconds" :
			"process_cpu_seconds_total", openmetrics ? "process_cpu_seconds" :
			"process_cpu_seconds_total");
		fprintf(out, "process_cpu_seconds_total %.2f\n",
			(double)(st.utime + st.stime) / (double)ticks);
		gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.");
		fprintf(out, "process_resident_memory_bytes %lld\n", st.rss * (page > 0 ? page : 4096));
		gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.");
		fprintf(out, "process_virtual_memory_bytes %llu\n", st.vsize);
		if (boot >= 0) {
			gauge(out, "process_start_time_seconds",
			      "Start time of the process since unix epoch in seconds.");
			fprintf(out, "process_start_time_seconds %.2f\n",
				(double)boot + (double)st.starttime / (double)ticks);
		}
	}
	if (fds >= 0) {
		gauge(out, "process_open_fds", "Number of open file descriptors.");
		fprintf(out, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		gauge(out, "process_max_fds", "Maximum number of open file descriptors.");
		fprintf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
}
