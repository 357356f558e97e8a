/*
 * ocidoctor: the registry doctor. Everything lives in the library; this
 * is only the door.
 */
#include "cli/cli.h"

#include <malloc.h>

int main(int argc, char **argv)
{
	/*
	 * The checks run on long-lived pool threads (util/thread.h). glibc
	 * gives each thread an arena of its own, up to eight per core, and
	 * memory one thread frees into another's arena stays there: with
	 * two, a long-running serve or matrix keeps a flat resident set at
	 * no measurable cost in speed (docs/performance.md).
	 */
	mallopt(M_ARENA_MAX, 2);
	/*
	 * A response body can be up to 4 MiB. glibc maps a block that large
	 * on its own, but after the first such block is freed it raises its
	 * threshold (up to 32 MiB) and serves the next ones from the arenas,
	 * which keep them: a fixed threshold (it turns that off) gives every
	 * block over 256 KiB back to the system when it is freed
	 * (docs/security.md, "Memory under hostile answers").
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	return cli_main(argc, argv);
}
