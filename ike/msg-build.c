/*
 * IKEv2 message encoding: the fixed header with its length patched at the
 * end (RFC 7296 3.1), the SK payload framing around an inner chain (3.14),
 * and re-encoding a parsed message (round trips).
 */
#include <errno.h>

#include "ike/payload-int.h"

void ike_build_begin(struct ike_msg_builder *b, struct buf_writer *w,
		     const struct ike_hdr *hdr)
{
	size_t start = wr_len(w);

	b->w = w;
	ike_chain_init(&b->ch, w);
	wr_be64(w, hdr->spi_i);
	wr_be64(w, hdr->spi_r);
	b->ch.next_at = wr_len(w);
	b->ch.has_next_at = true;
	wr_u8(w, IKE_PL_NONE);
	wr_u8(w, hdr->version);
	wr_u8(w, hdr->exchange);
	wr_u8(w, hdr->flags);
	wr_be32(w, hdr->msgid);
	wr_reserve32(w, start, &b->len);
}

int ike_build_end(struct ike_msg_builder *b)
{
	wr_patch_length(b->w, &b->len);
	return wr_failed(b->w) ? -ENOSPC : 0;
}

/* SK generic header; its "next payload" names the first inner payload. */
static void sk_begin(struct ike_chain *ch, uint8_t first_inner, uint8_t flags,
		     struct wr_mark *m)
{
	size_t start = wr_len(ch->w);

	ike_pl_begin(ch, IKE_PL_SK, flags, m);
	wr_patch8(ch->w, start, first_inner);
	ch->has_next_at = false;
	ch->closed = true;
}

void ike_put_sk(struct ike_chain *ch, const struct ike_chain *inner,
		size_t iv_len, size_t block, size_t icv_len,
		struct ike_sk_layout *lay)
{
	struct buf_writer *w = ch->w;
	struct span in = wr_result(inner->w);
	struct wr_mark m;
	size_t pad = 0;

	if (wr_failed(inner->w) || inner->w == w || block == 0 || block > 256)
		wr_fail(w);
	else
		pad = (block - (in.len + 1) % block) % block;
	sk_begin(ch, inner->first, 0, &m);
	lay->aad_at = ch->msg_start;
	lay->aad_len = wr_len(w) - ch->msg_start;
	lay->iv_at = wr_len(w);
	wr_zero(w, iv_len);
	lay->ct_at = wr_len(w);
	wr_span(w, in);
	wr_zero(w, pad);
	wr_u8(w, (uint8_t)pad);
	lay->ct_len = in.len + pad + 1;
	lay->icv_at = wr_len(w);
	wr_zero(w, icv_len);
	ike_pl_end(ch, &m);
}

int ike_build_sk_msg(struct buf_writer *w, const struct ike_hdr *hdr,
		     const struct ike_chain *inner, size_t iv_len, size_t block,
		     size_t icv_len, struct ike_sk_layout *lay)
{
	struct ike_msg_builder b;

	ike_build_begin(&b, w, hdr);
	ike_put_sk(&b.ch, inner, iv_len, block, icv_len, lay);
	return ike_build_end(&b);
}

static void put_parsed(struct ike_chain *ch, const struct ike_msg *m,
		       const struct ike_pl_ref *ref)
{
	switch (ref->skipped ? IKE_PL_NONE : ref->type) {
	case IKE_PL_SA:
		ike_put_sa_parsed(ch, &m->sa);
		break;
	case IKE_PL_KE:
		ike_put_ke(ch, m->ke.group, m->ke.data);
		break;
	case IKE_PL_IDI:
	case IKE_PL_IDR: {
		const struct ike_id *id = ref->type == IKE_PL_IDI ? &m->idi : &m->idr;

		ike_put_id(ch, ref->type, id->type, id->data);
		break;
	}
	case IKE_PL_AUTH:
		ike_put_auth(ch, m->auth.method, m->auth.data);
		break;
	case IKE_PL_NONCE:
		ike_put_nonce(ch, m->nonce);
		break;
	case IKE_PL_NOTIFY: {
		const struct ike_notify *n = &m->notify[ref->idx];

		ike_put_notify(ch, n->protocol, n->spi, n->type, n->data);
		break;
	}
	case IKE_PL_DELETE: {
		const struct ike_delete *d = &m->del[ref->idx];

		ike_put_delete(ch, d->protocol, d->spi_size, d->n_spi, d->spis);
		break;
	}
	case IKE_PL_VID:
		ike_put_vid(ch, m->vid[ref->idx]);
		break;
	case IKE_PL_TSI:
	case IKE_PL_TSR: {
		const struct ike_ts *ts = ref->type == IKE_PL_TSI ? &m->tsi : &m->tsr;

		ike_put_ts(ch, ref->type, ts->ts, ts->n);
		break;
	}
	default:
		ike_put_raw(ch, ref->type, ref->flags, ref->body);
		break;
	}
}

/* Re-encode the payloads of m that are (inner) or are not (clear) in SK. */
static void put_all(struct ike_chain *ch, const struct ike_msg *m, bool inner)
{
	struct wr_mark sk;

	for (size_t i = 0; i < m->n_pl && i < IKE_MAX_PAYLOADS; i++) {
		const struct ike_pl_ref *ref = &m->pl[i];
		size_t start = wr_len(ch->w);

		if (ref->inner != inner)
			continue;
		if (ref->type == IKE_PL_SK) {
			sk_begin(ch, m->sk.first, ref->flags, &sk);
			wr_span(ch->w, m->sk.body);
			ike_pl_end(ch, &sk);
			continue;
		}
		put_parsed(ch, m, ref);
		if (ref->flags)		/* the typed builders write 0 */
			wr_patch8(ch->w, start + 1, ref->flags);
	}
}

int ike_build_from_msg(struct buf_writer *w, const struct ike_msg *m)
{
	struct ike_msg_builder b;

	ike_build_begin(&b, w, &m->hdr);
	put_all(&b.ch, m, false);
	return ike_build_end(&b);
}

int ike_build_inner_from_msg(struct buf_writer *w, const struct ike_msg *m)
{
	struct ike_chain ch;

	ike_chain_init(&ch, w);
	put_all(&ch, m, true);
	return wr_failed(w) ? -ENOSPC : 0;
}
