/*
 * Secrets (PSKs, later keying material): held in libsodium-allocated,
 * locked, guarded memory, excluded from core dumps, compared in constant
 * time and wiped when freed.
 */
#ifndef CGW_SECRET_H
#define CGW_SECRET_H

#include <stdbool.h>
#include <stddef.h>

struct cgw_secret {
	unsigned char *data;		/* sodium_malloc'd, or NULL */
	size_t len;
};

/* Initialise libsodium; 0 or -errno. Call once at start-up. */
int secret_init(void);
/* Copy len bytes into new locked memory; 0 or -ENOMEM. */
int secret_set(struct cgw_secret *s, const void *data, size_t len);
/* Wipe and free; leaves s empty. */
void secret_clear(struct cgw_secret *s);
/* Constant-time equality (lengths compared first; lengths are not secret). */
bool secret_equal(const struct cgw_secret *a, const struct cgw_secret *b);

#endif
