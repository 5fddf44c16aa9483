/*
 * Decoders for the simple IKEv2 payload bodies (RFC 7296 3.4-3.13): KE,
 * ID, AUTH, Nonce, Notify, Delete, Vendor ID, Traffic Selectors. Each
 * reads only inside the body's sub-reader, and a body with bytes left
 * over (or missing) is INVALID_SYNTAX. The SA payload is in payload-sa.c.
 */
#include <errno.h>
#include <string.h>

#include "ike/payload-int.h"

#define SYNTAX IKE_PERR_INVALID_SYNTAX

int ike_decode_ke(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_ke *ke = &c->m->ke;

	if (rd_be16(r, &ke->group) < 0 || rd_skip(r, 2) < 0)
		return ike_pfail(c, SYNTAX, "KE payload: %zu-byte body", ref->body.len);
	ke->data = rd_rest(r);
	if (!ke->data.len)
		return ike_pfail(c, SYNTAX, "KE payload: no key exchange data");
	return 0;
}

/* Fixed sizes for the address ID types; other types need some data. */
static bool id_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case IKE_ID_IPV4_ADDR:
		return len == 4;
	case IKE_ID_IPV6_ADDR:
		return len == 16;
	default:
		return len > 0;
	}
}

int ike_decode_id(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_id *id = ref->type == IKE_PL_IDI ? &c->m->idi : &c->m->idr;
	const char *name = ref->type == IKE_PL_IDI ? "IDi" : "IDr";

	id->body = ref->body;
	if (rd_u8(r, &id->type) < 0 || rd_skip(r, 3) < 0)
		return ike_pfail(c, SYNTAX, "%s payload: %zu-byte body", name,
				 ref->body.len);
	id->data = rd_rest(r);
	if (!id_len_ok(id->type, id->data.len))
		return ike_pfail(c, SYNTAX, "%s payload: %zu bytes for type %u",
				 name, id->data.len, id->type);
	return 0;
}

int ike_decode_auth(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_auth *auth = &c->m->auth;

	if (rd_u8(r, &auth->method) < 0 || rd_skip(r, 3) < 0)
		return ike_pfail(c, SYNTAX, "AUTH payload: %zu-byte body",
				 ref->body.len);
	auth->data = rd_rest(r);
	if (!auth->data.len)
		return ike_pfail(c, SYNTAX, "AUTH payload: no authentication data");
	return 0;
}

int ike_decode_nonce(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	c->m->nonce = rd_rest(r);
	if (c->m->nonce.len < IKE_NONCE_MIN || c->m->nonce.len > IKE_NONCE_MAX)
		return ike_pfail(c, SYNTAX, "nonce of %zu bytes (%d..%d)",
				 c->m->nonce.len, IKE_NONCE_MIN, IKE_NONCE_MAX);
	return 0;
}

int ike_decode_notify(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_notify *n = &c->m->notify[ref->idx];
	uint8_t spi_size;

	if (rd_u8(r, &n->protocol) < 0 || rd_u8(r, &spi_size) < 0 ||
	    rd_be16(r, &n->type) < 0)
		return ike_pfail(c, SYNTAX, "Notify payload: %zu-byte body",
				 ref->body.len);
	if (rd_span(r, spi_size, &n->spi) < 0)
		return ike_pfail(c, SYNTAX, "Notify %u: SPI size %u overruns payload",
				 n->type, spi_size);
	n->data = rd_rest(r);
	c->m->n_notify = (uint8_t)(ref->idx + 1);
	return 0;
}

int ike_decode_delete(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_delete *d = &c->m->del[ref->idx];
	bool ok;

	if (rd_u8(r, &d->protocol) < 0 || rd_u8(r, &d->spi_size) < 0 ||
	    rd_be16(r, &d->n_spi) < 0)
		return ike_pfail(c, SYNTAX, "Delete payload: %zu-byte body",
				 ref->body.len);
	d->spis = rd_rest(r);
	switch (d->protocol) {
	case IKE_PROTO_IKE:
		ok = d->spi_size == 0 && d->n_spi == 0;
		break;
	case IKE_PROTO_ESP:
	case IKE_PROTO_AH:
		ok = d->spi_size == 4 && d->n_spi > 0;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok || d->spis.len != (size_t)d->n_spi * d->spi_size)
		return ike_pfail(c, SYNTAX,
				 "Delete: protocol %u, %u SPIs of %u bytes in %zu bytes",
				 d->protocol, d->n_spi, d->spi_size, d->spis.len);
	c->m->n_delete = (uint8_t)(ref->idx + 1);
	return 0;
}

int ike_decode_vid(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	c->m->vid[ref->idx] = rd_rest(r);
	c->m->n_vid = (uint8_t)(ref->idx + 1);
	return 0;
}

/* Address length of a known TS type, 0 for others. */
static size_t ts_addr_len(uint8_t type)
{
	switch (type) {
	case IKE_TS_IPV4_ADDR_RANGE:
		return 4;
	case IKE_TS_IPV6_ADDR_RANGE:
		return 16;
	default:
		return 0;
	}
}

/* One selector (3.13.1), parsed inside its own sub-reader. */
static int decode_selector(struct ike_pctx *c, struct buf_reader *r,
			   struct ike_ts_entry *ts, unsigned int i)
{
	struct buf_reader sel;
	uint16_t len;
	size_t alen;

	memset(ts, 0, sizeof(*ts));
	if (rd_u8(r, &ts->type) < 0 || rd_u8(r, &ts->ip_proto) < 0 ||
	    rd_be16(r, &len) < 0 || len < 4 || rd_sub(r, len - 4u, &sel) < 0)
		return ike_pfail(c, SYNTAX, "traffic selector %u: truncated", i + 1);
	ts->raw = rd_rest(&sel);
	alen = ts_addr_len(ts->type);
	if (!alen)
		return 0;		/* unknown type: kept raw, judged later */
	rd_init(&sel, ts->raw.p, ts->raw.len);
	rd_be16(&sel, &ts->start_port);
	rd_be16(&sel, &ts->end_port);
	rd_bytes(&sel, ts->start, alen);
	rd_bytes(&sel, ts->end, alen);
	if (!rd_done(&sel))
		return ike_pfail(c, SYNTAX, "traffic selector %u: length %u for type %u",
				 i + 1, len, ts->type);
	return 0;
}

int ike_decode_ts(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_ts *ts = ref->type == IKE_PL_TSI ? &c->m->tsi : &c->m->tsr;
	const char *name = ref->type == IKE_PL_TSI ? "TSi" : "TSr";
	uint8_t n;

	if (rd_u8(r, &n) < 0 || rd_skip(r, 3) < 0)
		return ike_pfail(c, SYNTAX, "%s payload: %zu-byte body", name,
				 ref->body.len);
	if (n == 0 || n > IKE_MAX_TS)
		return ike_pfail(c, SYNTAX, "%s payload: %u selectors (1..%d)", name,
				 n, IKE_MAX_TS);
	for (ts->n = 0; ts->n < n; ts->n++)
		if (decode_selector(c, r, &ts->ts[ts->n], ts->n) < 0)
			return -EBADMSG;
	if (rd_left(r))
		return ike_pfail(c, SYNTAX, "%s payload: %zu bytes after %u selectors",
				 name, rd_left(r), n);
	return 0;
}
