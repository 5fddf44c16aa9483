/*
 * The SA payload (RFC 7296 3.3): proposals, transforms and attributes,
 * each in its own sub-reader; encoding from struct cgw_proposals (offer),
 * from one chosen proposal (answer) or from the parsed form; and the
 * conversion of a parsed proposal into struct cgw_proposal for matching.
 */
#include <errno.h>
#include <string.h>

#include "ike/payload-int.h"

#define SYNTAX IKE_PERR_INVALID_SYNTAX

/* Attributes (3.3.5): only a TV key length is understood. */
static int decode_attrs(struct ike_pctx *c, struct ike_transform *xf,
			unsigned int pn, unsigned int tn)
{
	struct buf_reader r;
	uint16_t type, val;

	rd_init(&r, xf->attrs.p, xf->attrs.len);
	while (rd_left(&r)) {
		if (rd_be16(&r, &type) < 0 || rd_be16(&r, &val) < 0)
			break;
		if ((type & ~IKE_ATTR_TV) == IKE_ATTR_KEY_LENGTH) {
			if (!(type & IKE_ATTR_TV) || xf->has_keylen)
				return ike_pfail(c, SYNTAX,
						 "proposal %u transform %u: %s key length",
						 pn, tn, xf->has_keylen ? "second" : "TLV");
			xf->keylen = val;
			xf->has_keylen = true;
		} else {
			xf->unknown_attrs = true;
			if (!(type & IKE_ATTR_TV) && rd_skip(&r, val) < 0)
				break;
		}
	}
	if (!rd_done(&r))
		return ike_pfail(c, SYNTAX,
				 "proposal %u transform %u: attribute overruns transform",
				 pn, tn);
	return 0;
}

static int decode_transform(struct ike_pctx *c, struct buf_reader *r,
			    struct ike_transform *xf, uint8_t *last,
			    unsigned int pn, unsigned int tn)
{
	struct buf_reader t;
	uint16_t len;

	memset(xf, 0, sizeof(*xf));
	if (rd_u8(r, last) < 0 || rd_skip(r, 1) < 0 || rd_be16(r, &len) < 0 ||
	    len < 8 || rd_sub(r, len - 4u, &t) < 0)
		return ike_pfail(c, SYNTAX, "proposal %u transform %u: bad length",
				 pn, tn);
	if (*last != IKE_LAST && *last != IKE_MORE_TRANSFORMS)
		return ike_pfail(c, SYNTAX, "proposal %u transform %u: last-substructure %u",
				 pn, tn, *last);
	rd_u8(&t, &xf->type);
	rd_skip(&t, 1);
	rd_be16(&t, &xf->id);
	xf->attrs = rd_rest(&t);
	return decode_attrs(c, xf, pn, tn);
}

/* SPI sizes the protocol allows (3.3.1); other protocols are kept. */
static bool spi_size_ok(uint8_t protocol, uint8_t size)
{
	switch (protocol) {
	case IKE_PROTO_IKE:
		return size == 0 || size == 8;
	case IKE_PROTO_ESP:
	case IKE_PROTO_AH:
		return size == 4;
	default:
		return true;
	}
}

static int decode_transforms(struct ike_pctx *c, struct buf_reader *r,
			     struct ike_proposal *p, uint8_t n_xf)
{
	uint8_t last = IKE_MORE_TRANSFORMS;

	for (p->n_xf = 0; rd_left(r); p->n_xf++) {
		if (last == IKE_LAST)
			return ike_pfail(c, SYNTAX, "proposal %u: transform after the last one",
					 p->num);
		if (p->n_xf == IKE_MAX_TRANSFORMS)
			return ike_pfail(c, SYNTAX, "proposal %u: more than %d transforms",
					 p->num, IKE_MAX_TRANSFORMS);
		if (decode_transform(c, r, &p->xf[p->n_xf], &last, p->num,
				     p->n_xf + 1u) < 0)
			return -EBADMSG;
	}
	if (p->n_xf != n_xf || last != IKE_LAST)
		return ike_pfail(c, SYNTAX, "proposal %u: %u transforms%s, header says %u",
				 p->num, p->n_xf, last != IKE_LAST ? " (last marked 'more')" : "",
				 n_xf);
	return 0;
}

static int decode_proposal(struct ike_pctx *c, struct buf_reader *r,
			   struct ike_proposal *p, uint8_t *last, unsigned int i)
{
	struct buf_reader pr;
	uint8_t spi_size, n_xf;
	uint16_t len;

	if (rd_u8(r, last) < 0 || rd_skip(r, 1) < 0 || rd_be16(r, &len) < 0 ||
	    len < 8 || rd_sub(r, len - 4u, &pr) < 0)
		return ike_pfail(c, SYNTAX, "SA proposal %u: bad length", i);
	if (*last != IKE_LAST && *last != IKE_MORE_PROPOSALS)
		return ike_pfail(c, SYNTAX, "SA proposal %u: last-substructure %u",
				 i, *last);
	rd_u8(&pr, &p->num);
	rd_u8(&pr, &p->protocol);
	rd_u8(&pr, &spi_size);
	rd_u8(&pr, &n_xf);
	if (rd_span(&pr, spi_size, &p->spi) < 0 ||
	    !spi_size_ok(p->protocol, spi_size))
		return ike_pfail(c, SYNTAX, "SA proposal %u: SPI size %u for protocol %u",
				 i, spi_size, p->protocol);
	if (!n_xf)
		return ike_pfail(c, SYNTAX, "SA proposal %u: no transforms", i);
	return decode_transforms(c, &pr, p, n_xf);
}

/* Numbers run 1, 2, ... in an offer; an answer echoes one (3.3.1). */
static int check_numbering(struct ike_pctx *c, const struct ike_sa_pl *sa)
{
	bool response = c->m->hdr.flags & IKE_FLAG_R;

	if (response && sa->n_prop != 1)
		return ike_pfail(c, SYNTAX, "SA in a response with %u proposals",
				 sa->n_prop);
	if (response)
		return sa->prop[0].num ? 0 :
			ike_pfail(c, SYNTAX, "SA proposal number 0");
	for (unsigned int i = 0; i < sa->n_prop; i++)
		if (sa->prop[i].num != i + 1)
			return ike_pfail(c, SYNTAX, "SA proposal %u numbered %u",
					 i + 1, sa->prop[i].num);
	return 0;
}

int ike_decode_sa(struct ike_pctx *c, struct buf_reader *r, struct ike_pl_ref *ref)
{
	struct ike_sa_pl *sa = &c->m->sa;
	uint8_t last = IKE_MORE_PROPOSALS;

	for (sa->n_prop = 0; rd_left(r); sa->n_prop++) {
		if (last == IKE_LAST)
			return ike_pfail(c, SYNTAX, "SA: proposal after the last one");
		if (sa->n_prop == IKE_MAX_PROPOSALS)
			return ike_pfail(c, SYNTAX, "SA: more than %d proposals",
					 IKE_MAX_PROPOSALS);
		if (decode_proposal(c, r, &sa->prop[sa->n_prop], &last,
				    sa->n_prop + 1u) < 0)
			return -EBADMSG;
	}
	if (!sa->n_prop)
		return ike_pfail(c, SYNTAX, "SA payload without proposals");
	if (last != IKE_LAST)
		return ike_pfail(c, SYNTAX, "SA: last proposal marked 'more'");
	return check_numbering(c, sa);
}

/* Append one algorithm to a cgw_proposal list. */
static int alg_add(struct cgw_alg *list, size_t *n, uint16_t id, uint16_t keylen)
{
	if (*n >= PROPOSAL_MAX_ALGS)
		return -E2BIG;
	list[*n].id = id;
	list[*n].keylen = keylen;
	(*n)++;
	return 0;
}

static int xf_to_cgw(const struct ike_transform *xf, struct cgw_proposal *out)
{
	if (xf->unknown_attrs || (xf->has_keylen && xf->type != IKE_TRANSFORM_ENCR))
		return -ENOTSUP;
	switch (xf->type) {
	case IKE_TRANSFORM_ENCR:
		return alg_add(out->encr, &out->n_encr, xf->id, xf->keylen);
	case IKE_TRANSFORM_PRF:
		return alg_add(out->prf, &out->n_prf, xf->id, 0);
	case IKE_TRANSFORM_INTEG:
		return alg_add(out->integ, &out->n_integ, xf->id, 0);
	case IKE_TRANSFORM_DH:
		return alg_add(out->dh, &out->n_dh, xf->id, 0);
	case IKE_TRANSFORM_ESN:
		if (out->n_esn >= 2)
			return -E2BIG;
		out->esn[out->n_esn].id = xf->id;
		out->esn[out->n_esn++].keylen = 0;
		return 0;
	default:
		return -ENOTSUP;
	}
}

int ike_proposal_to_cgw(const struct ike_proposal *pp, struct cgw_proposal *out,
			uint8_t spi[8], size_t *spi_len)
{
	int ret;

	memset(out, 0, sizeof(*out));
	*spi_len = 0;
	if (pp->spi.len > 8)
		return -ENOTSUP;
	for (size_t i = 0; i < pp->n_xf; i++)
		if ((ret = xf_to_cgw(&pp->xf[i], out)) < 0)
			return ret;
	if (pp->spi.len)
		memcpy(spi, pp->spi.p, pp->spi.len);
	*spi_len = pp->spi.len;
	return 0;
}

/* ---- Encoding ---- */

static void put_transform(struct buf_writer *w, bool last, uint8_t type,
			  uint16_t id, int keylen, const struct span *raw_attrs)
{
	size_t start = wr_len(w);
	struct wr_mark m;

	wr_u8(w, last ? IKE_LAST : IKE_MORE_TRANSFORMS);
	wr_u8(w, 0);
	wr_reserve16(w, start, &m);
	wr_u8(w, type);
	wr_u8(w, 0);
	wr_be16(w, id);
	if (raw_attrs) {
		wr_span(w, *raw_attrs);
	} else if (keylen >= 0) {
		wr_be16(w, IKE_ATTR_TV | IKE_ATTR_KEY_LENGTH);
		wr_be16(w, (uint16_t)keylen);
	}
	wr_patch_length(w, &m);
}

/* Proposal header; the caller writes n_xf transforms, then patches. */
static void put_proposal_hdr(struct buf_writer *w, bool last, uint8_t num,
			     uint8_t protocol, struct span spi, size_t n_xf,
			     struct wr_mark *m)
{
	size_t start = wr_len(w);

	if (spi.len > UINT8_MAX || n_xf > UINT8_MAX || n_xf == 0)
		wr_fail(w);
	wr_u8(w, last ? IKE_LAST : IKE_MORE_PROPOSALS);
	wr_u8(w, 0);
	wr_reserve16(w, start, m);
	wr_u8(w, num);
	wr_u8(w, protocol);
	wr_u8(w, (uint8_t)spi.len);
	wr_u8(w, (uint8_t)n_xf);
	wr_span(w, spi);
}

/* The transforms of a cgw_proposal in wire order. */
struct xf_list {
	size_t n;
	struct { uint8_t type; struct cgw_alg alg; } xf[5 * PROPOSAL_MAX_ALGS + 1];
};

static void xf_list_add(struct xf_list *l, uint8_t type, const struct cgw_alg *a,
			size_t n)
{
	for (size_t i = 0; i < n && l->n < sizeof(l->xf) / sizeof(l->xf[0]); i++) {
		l->xf[l->n].type = type;
		l->xf[l->n++].alg = a[i];
	}
}

static void xf_list_make(struct xf_list *l, const struct cgw_proposal *p,
			 uint8_t protocol)
{
	static const struct cgw_alg no_esn = { IKE_ESN_NONE, 0 };

	l->n = 0;
	xf_list_add(l, IKE_TRANSFORM_ENCR, p->encr, p->n_encr);
	xf_list_add(l, IKE_TRANSFORM_INTEG, p->integ, p->n_integ);
	if (protocol == IKE_PROTO_IKE)
		xf_list_add(l, IKE_TRANSFORM_PRF, p->prf, p->n_prf);
	xf_list_add(l, IKE_TRANSFORM_DH, p->dh, p->n_dh);
	if (protocol != IKE_PROTO_IKE)
		xf_list_add(l, IKE_TRANSFORM_ESN, p->n_esn ? p->esn : &no_esn,
			    p->n_esn ? p->n_esn : 1);
}

static void put_cgw_proposal(struct buf_writer *w, bool last, uint8_t num,
			     uint8_t protocol, struct span spi,
			     const struct cgw_proposal *p)
{
	struct xf_list l;
	struct wr_mark m;

	xf_list_make(&l, p, protocol);
	put_proposal_hdr(w, last, num, protocol, spi, l.n, &m);
	for (size_t i = 0; i < l.n; i++) {
		bool keyed = l.xf[i].type == IKE_TRANSFORM_ENCR && l.xf[i].alg.keylen;

		put_transform(w, i + 1 == l.n, l.xf[i].type, l.xf[i].alg.id,
			      keyed ? l.xf[i].alg.keylen : -1, NULL);
	}
	wr_patch_length(w, &m);
}

void ike_put_sa(struct ike_chain *ch, const struct cgw_proposals *ps,
		uint8_t protocol, struct span spi)
{
	struct wr_mark m;

	ike_pl_begin(ch, IKE_PL_SA, 0, &m);
	if (!ps->n || ps->n > PROPOSALS_MAX)
		wr_fail(ch->w);
	for (size_t i = 0; i < ps->n && i < PROPOSALS_MAX; i++)
		put_cgw_proposal(ch->w, i + 1 == ps->n, (uint8_t)(i + 1), protocol,
				 spi, &ps->p[i]);
	ike_pl_end(ch, &m);
}

void ike_put_sa_chosen(struct ike_chain *ch, const struct cgw_proposal *p,
		       uint8_t num, uint8_t protocol, struct span spi)
{
	struct wr_mark m;

	ike_pl_begin(ch, IKE_PL_SA, 0, &m);
	if (p->n_encr != 1 || p->n_integ > 1 || p->n_prf > 1 || p->n_dh > 1 ||
	    p->n_esn > 1 || !num)
		wr_fail(ch->w);
	put_cgw_proposal(ch->w, true, num, protocol, spi, p);
	ike_pl_end(ch, &m);
}

void ike_put_sa_parsed(struct ike_chain *ch, const struct ike_sa_pl *sa)
{
	struct buf_writer *w = ch->w;
	struct wr_mark m, pm;

	ike_pl_begin(ch, IKE_PL_SA, 0, &m);
	for (size_t i = 0; i < sa->n_prop && i < IKE_MAX_PROPOSALS; i++) {
		const struct ike_proposal *p = &sa->prop[i];

		put_proposal_hdr(w, i + 1 == sa->n_prop, p->num, p->protocol,
				 p->spi, p->n_xf, &pm);
		for (size_t j = 0; j < p->n_xf && j < IKE_MAX_TRANSFORMS; j++) {
			const struct ike_transform *xf = &p->xf[j];

			put_transform(w, j + 1 == p->n_xf, xf->type, xf->id,
				      xf->has_keylen ? xf->keylen : -1,
				      xf->unknown_attrs ? &xf->attrs : NULL);
		}
		wr_patch_length(w, &pm);
	}
	ike_pl_end(ch, &m);
}
