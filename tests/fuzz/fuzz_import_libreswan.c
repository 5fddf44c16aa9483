/*
 * libFuzzer harness: the Libreswan readers. The input is split at the
 * first NUL byte: ipsec.conf before it, ipsec.secrets after it (so both
 * parsers and the conn/secret matching see fuzzed data).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "import/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A planned import must give a config cgwd accepts: anything else is a bug. */
static void check(const struct imp_conf *c)
{
	struct imp_emit_opts eo = { .psk_dir = "" };
	struct imp_diag d = { .n = 0 };
	static int init;
	size_t len;
	char *text;

	if (!init++ && secret_init() < 0)
		abort();
	if (imp_validate(c, &d) < 0) {
		imp_diag_print(stderr, &d);
		abort();
	}
	imp_diag_free(&d);
	if ((text = imp_emit(c, &eo, &len)))
		free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t clen = nul ? (size_t)(nul - (const char *)data) : size;
	const char *names[] = { "<conf>" }, *texts[] = { (const char *)data };
	struct imp_libreswan_in in = { names, texts, &clen, 1, "<secrets>",
				       nul ? nul + 1 : "", nul ? size - clen - 1 : 0 };
	struct imp_plan_opts po = { .several_names = false };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };

	if (imp_libreswan_parse(&in, &c, &d) == 0 && d.n_errors == 0 &&
	    imp_plan(&c, &po, &d) == 0)
		check(&c);
	imp_diag_free(&d);
	imp_conf_free(&c);
	return 0;
}
