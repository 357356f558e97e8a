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
	return cli_main(argc, argv);
}
