/*
 * Internal interface between the IKE wire files (payload*.c, msg*.c):
 * the parse context, the per-payload decoders and the chain primitives.
 * Not for use outside ike/payload*.c and ike/msg*.c.
 */
#ifndef CGW_IKE_PAYLOAD_INT_H
#define CGW_IKE_PAYLOAD_INT_H

#include "ike/payload.h"

struct ike_pctx {
	struct ike_msg *m;
	struct ike_result *res;
	size_t base_len;		/* length of the buffer being walked */
	size_t pl_off;			/* offset of the payload being decoded */
	bool inner;			/* walking the SK plaintext */
};

/*
 * Record a failure in c->res (code, reason, offset of the current payload,
 * and the notify RFC 7296 allows for it). Always returns -EBADMSG.
 */
int ike_pfail(struct ike_pctx *c, enum ike_perr code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset res to "ok". */
void ike_result_init(struct ike_result *res);
/*
 * A message that misfits the exchange table: INVALID_SYNTAX, answered only
 * when m is an authenticated (decrypted) request. Returns -EBADMSG.
 */
int ike_rules_fail(struct ike_result *res, const struct ike_msg *m,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Decoders: parse one payload body (the whole of r) into c->m. */
typedef int (*ike_decode_fn)(struct ike_pctx *c, struct buf_reader *r,
			     struct ike_pl_ref *ref);
int ike_decode_sa(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_ke(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_id(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_auth(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_nonce(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_notify(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_delete(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_vid(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);
int ike_decode_ts(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref);

/* Start a payload in a chain (patches the previous "next payload"). */
void ike_pl_begin(struct ike_chain *ch, uint8_t type, uint8_t flags,
		  struct wr_mark *m);
/* Finish it: patch its length. */
void ike_pl_end(struct ike_chain *ch, const struct wr_mark *m);

#endif
