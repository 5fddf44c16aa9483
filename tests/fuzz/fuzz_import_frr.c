/*
 * libFuzzer harness: the FRR reader, merged into two fixed tunnels (one
 * with its AWS inside address known, one with only the /30), then plan
 * and emit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

static void tunnels(struct imp_conf *c)
{
	struct imp_vpn *v = imp_conf_add_vpn(c);
	struct imp_tunnel *t;

	if (!v)
		return;
	if ((t = imp_vpn_add_tunnel(v))) {
		snprintf(t->remote, sizeof(t->remote), "198.51.100.1");
		snprintf(t->inside, sizeof(t->inside), "169.254.10.0/30");
		snprintf(t->remote_inside, sizeof(t->remote_inside), "169.254.10.1");
		imp_set_secret(&t->psk, "fuzz.key.1", 10);
	}
	if ((t = imp_vpn_add_tunnel(v))) {
		snprintf(t->remote, sizeof(t->remote), "198.51.100.2");
		snprintf(t->inside, sizeof(t->inside), "169.254.11.0/30");
		imp_set_secret(&t->psk, "fuzz.key.2", 10);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imp_plan_opts po = { .several_names = false };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };

	tunnels(&c);
	if (imp_frr_parse("<fuzz>", (const char *)data, size, &c, &d) == 0 &&
	    d.n_errors == 0 && imp_plan(&c, &po, &d) == 0)
		check(&c);
	imp_diag_free(&d);
	imp_conf_free(&c);
	return 0;
}
