/*
 * `cgwctl import` without the rest of cgwctl, for the golden tests while
 * cgwctl's command table does not have the row yet (and for running the
 * importer under sanitizers): import-driver SOURCE ARGS... behaves as
 * `cgwctl import SOURCE ARGS...`.
 */
#include "import/import.h"

int main(int argc, char **argv)
{
	char name[] = "import";

	argv[0] = name;
	return import_main(argc, argv);
}
