/*
 * Payload chain encoding (RFC 7296 3.2): each payload patches the "next
 * payload" octet of the one before it, and its own length once its body
 * is written. Builders for KE, Nonce, Notify, ID, AUTH, VID, TS, Delete
 * and raw payloads; SA is in payload-sa.c, header and SK in msg-build.c.
 */
#include "ike/payload-int.h"

void ike_chain_init(struct ike_chain *ch, struct buf_writer *w)
{
	ch->w = w;
	ch->next_at = 0;
	ch->has_next_at = false;
	ch->closed = false;
	ch->msg_start = wr_len(w);
	ch->first = IKE_PL_NONE;
}

void ike_pl_begin(struct ike_chain *ch, uint8_t type, uint8_t flags,
		  struct wr_mark *m)
{
	struct buf_writer *w = ch->w;
	size_t start = wr_len(w);

	if (ch->closed || type == IKE_PL_NONE)
		wr_fail(w);		/* nothing may follow SK */
	if (ch->has_next_at)
		wr_patch8(w, ch->next_at, type);
	if (ch->first == IKE_PL_NONE)
		ch->first = type;
	ch->next_at = start;
	ch->has_next_at = true;
	wr_u8(w, IKE_PL_NONE);
	wr_u8(w, flags);
	wr_reserve16(w, start, m);
}

void ike_pl_end(struct ike_chain *ch, const struct wr_mark *m)
{
	wr_patch_length(ch->w, m);
}

void ike_put_raw(struct ike_chain *ch, uint8_t type, uint8_t flags,
		 struct span body)
{
	struct wr_mark m;

	ike_pl_begin(ch, type, flags, &m);
	wr_span(ch->w, body);
	ike_pl_end(ch, &m);
}

void ike_put_ke(struct ike_chain *ch, uint16_t group, struct span data)
{
	struct wr_mark m;

	ike_pl_begin(ch, IKE_PL_KE, 0, &m);
	wr_be16(ch->w, group);
	wr_zero(ch->w, 2);
	wr_span(ch->w, data);
	ike_pl_end(ch, &m);
}

void ike_put_nonce(struct ike_chain *ch, struct span nonce)
{
	if (nonce.len < IKE_NONCE_MIN || nonce.len > IKE_NONCE_MAX)
		wr_fail(ch->w);
	ike_put_raw(ch, IKE_PL_NONCE, 0, nonce);
}

void ike_put_notify(struct ike_chain *ch, uint8_t protocol, struct span spi,
		    uint16_t type, struct span data)
{
	struct wr_mark m;

	if (spi.len > UINT8_MAX)
		wr_fail(ch->w);
	ike_pl_begin(ch, IKE_PL_NOTIFY, 0, &m);
	wr_u8(ch->w, protocol);
	wr_u8(ch->w, (uint8_t)spi.len);
	wr_be16(ch->w, type);
	wr_span(ch->w, spi);
	wr_span(ch->w, data);
	ike_pl_end(ch, &m);
}

/* ID and AUTH share a layout: one type octet, three reserved, data. */
static void put_typed(struct ike_chain *ch, uint8_t pl_type, uint8_t type,
		      struct span data)
{
	struct wr_mark m;

	ike_pl_begin(ch, pl_type, 0, &m);
	wr_u8(ch->w, type);
	wr_zero(ch->w, 3);
	wr_span(ch->w, data);
	ike_pl_end(ch, &m);
}

void ike_put_id(struct ike_chain *ch, uint8_t which, uint8_t id_type,
		struct span data)
{
	if (which != IKE_PL_IDI && which != IKE_PL_IDR)
		wr_fail(ch->w);
	put_typed(ch, which, id_type, data);
}

void ike_put_auth(struct ike_chain *ch, uint8_t method, struct span data)
{
	put_typed(ch, IKE_PL_AUTH, method, data);
}

void ike_put_vid(struct ike_chain *ch, struct span data)
{
	ike_put_raw(ch, IKE_PL_VID, 0, data);
}

static void put_selector(struct buf_writer *w, const struct ike_ts_entry *ts)
{
	size_t start = wr_len(w);
	size_t alen = ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 :
		      ts->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
	struct wr_mark m;

	wr_u8(w, ts->type);
	wr_u8(w, ts->ip_proto);
	wr_reserve16(w, start, &m);
	if (alen) {
		wr_be16(w, ts->start_port);
		wr_be16(w, ts->end_port);
		wr_bytes(w, ts->start, alen);
		wr_bytes(w, ts->end, alen);
	} else {
		wr_span(w, ts->raw);
	}
	wr_patch_length(w, &m);
}

void ike_put_ts(struct ike_chain *ch, uint8_t which,
		const struct ike_ts_entry *ts, size_t n)
{
	struct wr_mark m;

	if ((which != IKE_PL_TSI && which != IKE_PL_TSR) || n == 0 ||
	    n > UINT8_MAX)
		wr_fail(ch->w);
	ike_pl_begin(ch, which, 0, &m);
	wr_u8(ch->w, (uint8_t)n);
	wr_zero(ch->w, 3);
	for (size_t i = 0; i < n && !wr_failed(ch->w); i++)
		put_selector(ch->w, &ts[i]);
	ike_pl_end(ch, &m);
}

void ike_put_delete(struct ike_chain *ch, uint8_t protocol, uint8_t spi_size,
		    uint16_t n, struct span spis)
{
	struct wr_mark m;

	if (spis.len != (size_t)n * spi_size)
		wr_fail(ch->w);
	ike_pl_begin(ch, IKE_PL_DELETE, 0, &m);
	wr_u8(ch->w, protocol);
	wr_u8(ch->w, spi_size);
	wr_be16(ch->w, n);
	wr_span(ch->w, spis);
	ike_pl_end(ch, &m);
}
