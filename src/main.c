/*
 * ocidoctor: the registry doctor. Everything lives in the library; this
 * is only the door.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
