/*
 * libFuzzer harness: the config parser and validator on arbitrary bytes.
 * psk-file paths are resolved against a directory with no such files, so
 * only the parse and validation paths run (no permission checks).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secret.h"
#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct conf_diag diag = { 0 };
	struct cgw_conf *c;

	if (!init) {
		secret_init();
		log_init("fuzz", -1);
		if (chdir("/nonexistent-cgw-fuzz") < 0)
			(void)0;	/* relative psk-file paths then fail to open */
		init = 1;
	}
	c = conf_load_buffer("<fuzz>", (const char *)data, size, 0, &diag);
	if (c) {
		FILE *out = fopen("/dev/null", "w");
		if (out) {
			conf_print(out, c);
			fclose(out);
		}
	}
	conf_free(c);
	conf_diag_free(&diag);
	return 0;
}
