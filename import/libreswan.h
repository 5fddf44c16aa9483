/*
 * Shared between the Libreswan files (libreswan.c: ipsec.conf parsing and
 * conn resolution, lsconn.c: one conn -> a tunnel, lsecrets.c:
 * ipsec.secrets); not for other modules.
 */
#ifndef CGW_IMPORT_LIBRESWAN_H
#define CGW_IMPORT_LIBRESWAN_H

#include "import/import.h"

#define LS_MAX_LINE 4096
#define LS_MAX_CONNS 256
#define LS_MAX_KEYS 256

struct ls_kv {
	char key[48];
	char *val;
	const char *file;
	unsigned line;
	bool warned;			/* said once, even if inherited twice */
};

struct ls_conn {
	char name[64];
	const char *file;
	unsigned line;
	struct ls_kv *kv;
	size_t n;
	bool included;			/* named by another conn's also= */
};

struct ls_secret {
	char idx[8][IMP_ADDR_MAX];	/* selectors before the ':' */
	size_t n_idx;
	char *psk;			/* decoded; wiped on free */
	const char *file;
	unsigned line;
};

struct ls_ctx {
	struct imp_diag *d;
	struct ls_conn *conns;
	size_t n;
	struct ls_secret *sec;
	size_t n_sec;
	const char *secrets_name;
};

/* A resolved key: the conn's own, then its also= conns, then %default. */
struct ls_kv *ls_get(struct ls_ctx *x, const struct ls_conn *c, const char *key);
/* Call fn for every distinct key the conn sees, in the order above. */
void ls_each(struct ls_ctx *x, const struct ls_conn *c,
	     void (*fn)(struct ls_ctx *, const struct ls_conn *, struct ls_kv *, void *),
	     void *arg);
/* True when a value still holds a template or shell placeholder. */
bool ls_placeholder(const char *v);

/* lsecrets.c */
int ls_secrets_parse(struct ls_ctx *x, const char *name, const char *text, size_t len);
/* Best PSK for (local ids, remote ids), or NULL. */
const struct ls_secret *ls_secret_find(const struct ls_ctx *x, const char *const *local,
				       size_t n_local, const char *const *remote,
				       size_t n_remote);
void ls_secrets_free(struct ls_ctx *x);

/* lsconn.c: one conn into a new tunnel of v. 0, or -EINVAL (reported). */
int ls_conn_import(struct ls_ctx *x, const struct ls_conn *c, struct imp_conf *conf,
		   struct imp_vpn *v);

#endif
