/*
 * Locked secret buffers on top of libsodium's guarded allocator.
 */
#include "common/secret.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

int secret_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int secret_set(struct cgw_secret *s, const void *data, size_t len)
{
	unsigned char *p;

	secret_clear(s);
	/* sodium_malloc(0) is valid but keep one byte so data is never NULL. */
	p = sodium_malloc(len ? len : 1);
	if (!p)
		return -ENOMEM;
	/* MADV_DONTDUMP and mlock are applied by sodium_malloc. */
	memcpy(p, data, len);
	s->data = p;
	s->len = len;
	return 0;
}

void secret_clear(struct cgw_secret *s)
{
	if (s->data)
		sodium_free(s->data);	/* zeroes before unmapping */
	s->data = NULL;
	s->len = 0;
}

bool secret_equal(const struct cgw_secret *a, const struct cgw_secret *b)
{
	if (a->len != b->len)
		return false;
	if (a->len == 0)
		return true;
	return sodium_memcmp(a->data, b->data, a->len) == 0;
}
