/*
 * libFuzzer harness: the CustomerGatewayConfiguration XML reader (expat),
 * then plan and emit on success.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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
	struct imp_plan_opts po = { .several_names = false };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };
	struct imp_vpn *v = imp_conf_add_vpn(&c);

	if (v && imp_awsxml_parse("<fuzz>", (const char *)data, size, v, &d) == 0 &&
	    d.n_errors == 0 && imp_plan(&c, &po, &d) == 0)
		check(&c);
	imp_diag_free(&d);
	imp_conf_free(&c);
	return 0;
}
