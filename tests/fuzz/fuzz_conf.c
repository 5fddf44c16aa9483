/*
 * libFuzzer harness: the config parser and validator on arbitrary bytes,
 * then the canonical printer on what it accepts. The buffer is named as
 * a file in an empty private directory, so relative psk-file paths
 * resolve there and fail: only the parse and validation paths run. Per input nothing but the product
 * runs: the printer writes to a discarding stream opened once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secret.h"
#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char empty_dir[] = "/tmp/cgw-fuzz-conf-XXXXXX";
static char conf_name[sizeof(empty_dir) + 16];

static ssize_t discard(void *cookie, const char *buf, size_t len)
{
	return (ssize_t)len;
}

static void remove_dir(void)
{
	rmdir(empty_dir);
}

static FILE *setup(void)
{
	static const cookie_io_functions_t sink = { .write = discard };
	FILE *out = fopencookie(NULL, "w", sink);

	secret_init();
	log_init("fuzz", -1);
	if (!out || !mkdtemp(empty_dir))
		abort();
	snprintf(conf_name, sizeof(conf_name), "%s/fuzz.conf", empty_dir);
	atexit(remove_dir);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out;
	struct conf_diag diag = { 0 };
	struct cgw_conf *c;

	if (!out)
		out = setup();
	c = conf_load_buffer(conf_name, (const char *)data, size, 0, &diag);
	if (c) {
		conf_print(out, c);
		fflush(out);
	}
	conf_free(c);
	conf_diag_free(&diag);
	return 0;
}
