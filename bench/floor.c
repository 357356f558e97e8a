/*
 * The benchmark's CPU floor: the requests of one probe, read as
 * "METHOD URL" lines from standard input, sent N times over one libcurl
 * easy handle (one keep-alive connection), bodies thrown away, nothing
 * else. Prints the CPU seconds (user + system) per round of requests.
 *
 *   cc -O2 bench/floor.c -lcurl -o build/bench-floor
 *   build/bench-floor 200 < requests.txt
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_REQUESTS 256

static size_t sink(char *p, size_t size, size_t n, void *user)
{
	(void)p;
	(void)user;
	return size * n;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	static char methods[MAX_REQUESTS][16], urls[MAX_REQUESTS][2048];
	int rounds = argc > 1 ? atoi(argv[1]) : 100, n = 0, i, r;
	double start;
	CURL *c;

	while (n < MAX_REQUESTS && scanf("%15s %2047s", methods[n], urls[n]) == 2)
		n++;
	if (!n || rounds <= 0) {
		fprintf(stderr, "usage: bench-floor ROUNDS < 'METHOD URL' lines\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	start = cpu_seconds();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++) {
			curl_easy_setopt(c, CURLOPT_URL, urls[i]);
			curl_easy_setopt(c, CURLOPT_NOBODY, (long)!strcmp(methods[i], "HEAD"));
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
					 strcmp(methods[i], "HEAD") && strcmp(methods[i], "GET") ? methods[i] : NULL);
			curl_easy_perform(c);
		}
	printf("%.6f %d\n", (cpu_seconds() - start) / rounds, n);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return 0;
}
