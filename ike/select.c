/*
 * Proposal selection (RFC 7296 2.7, 3.3.6). As responder we walk our own
 * proposals in configured order and take, per transform type, our first
 * algorithm the peer also offers in one of its proposals. As initiator we
 * check that the peer's one chosen proposal is something we offered.
 */
#include "ike/ike-internal.h"

#include <errno.h>
#include <string.h>

static bool alg_eq(const struct cgw_alg *a, const struct cgw_alg *b)
{
	return a->id == b->id && a->keylen == b->keylen;
}

/* Our first alg of a type that the peer lists; false if none. */
static bool pick(const struct cgw_alg *ours, size_t n_ours, const struct cgw_alg *theirs,
		 size_t n_theirs, struct cgw_alg *out)
{
	for (size_t i = 0; i < n_ours; i++)
		for (size_t j = 0; j < n_theirs; j++)
			if (alg_eq(&ours[i], &theirs[j])) {
				*out = ours[i];
				return true;
			}
	return false;
}

/* Peers may list INTEG NONE with AEAD; an empty list means the same. */
static bool integ_none_ok(const struct cgw_proposal *q)
{
	for (size_t j = 0; j < q->n_integ; j++)
		if (q->integ[j].id != IKE_INTEG_NONE)
			return false;
	return true;
}

/* ESN is mandatory in ESP proposals; an absent list means "no ESN". */
static bool match_esn(const struct cgw_proposal *p, const struct cgw_proposal *q,
		      struct cgw_proposal *c)
{
	static const struct cgw_alg noesn = { .id = IKE_ESN_NONE };
	const struct cgw_alg *mine = p->n_esn ? p->esn : &noesn;
	const struct cgw_alg *theirs = q->n_esn ? q->esn : &noesn;

	c->n_esn = 1;
	return pick(mine, p->n_esn ? p->n_esn : 1, theirs, q->n_esn ? q->n_esn : 1,
		    &c->esn[0]);
}

/* Intersect our p with their q into c (one alg per type). */
static bool match(const struct cgw_proposal *p, const struct cgw_proposal *q,
		  uint8_t protocol, unsigned flags, struct cgw_proposal *c)
{
	memset(c, 0, sizeof(*c));
	if (!pick(p->encr, p->n_encr, q->encr, q->n_encr, &c->encr[0]))
		return false;
	c->n_encr = 1;
	if (c->encr[0].id == IKE_ENCR_AES_GCM_16) {
		if (!integ_none_ok(q))
			return false;
	} else {
		if (!pick(p->integ, p->n_integ, q->integ, q->n_integ, &c->integ[0]))
			return false;
		c->n_integ = 1;
	}
	if (protocol == IKE_PROTO_IKE) {
		if (!pick(p->prf, p->n_prf, q->prf, q->n_prf, &c->prf[0]) ||
		    !pick(p->dh, p->n_dh, q->dh, q->n_dh, &c->dh[0]))
			return false;
		c->n_prf = c->n_dh = 1;
		return true;
	}
	if (!(flags & SELECT_NO_DH) && (p->n_dh || q->n_dh)) {
		if (!pick(p->dh, p->n_dh, q->dh, q->n_dh, &c->dh[0]))
			return false;
		c->n_dh = 1;
	}
	return match_esn(p, q, c);
}

int ike_select_proposal(const struct cgw_proposals *ours, const struct ike_sa_pl *theirs,
			uint8_t protocol, unsigned flags, struct cgw_proposal *chosen,
			uint8_t *num, struct span *spi)
{
	for (size_t i = 0; i < ours->n; i++) {
		for (size_t j = 0; j < theirs->n_prop; j++) {
			const struct ike_proposal *pp = &theirs->prop[j];
			struct cgw_proposal q;
			uint8_t spibuf[8];
			size_t spi_len;

			if (pp->protocol != protocol ||
			    ike_proposal_to_cgw(pp, &q, spibuf, &spi_len) < 0)
				continue;
			if (match(&ours->p[i], &q, protocol, flags, chosen)) {
				*num = pp->num;
				*spi = pp->spi;
				return 0;
			}
		}
	}
	return -ENOENT;
}

static bool single(const struct cgw_proposal *q)
{
	return q->n_encr == 1 && q->n_integ <= 1 && q->n_prf <= 1 && q->n_dh <= 1 &&
	       q->n_esn <= 1;
}

int ike_check_chosen(const struct cgw_proposals *ours, const struct ike_sa_pl *theirs,
		     uint8_t protocol, unsigned flags, struct cgw_proposal *chosen,
		     struct span *spi)
{
	struct cgw_proposal q;
	uint8_t spibuf[8], num;
	size_t spi_len;

	if (theirs->n_prop != 1 || theirs->prop[0].protocol != protocol ||
	    ike_proposal_to_cgw(&theirs->prop[0], &q, spibuf, &spi_len) < 0 || !single(&q))
		return -EINVAL;
	return ike_select_proposal(ours, theirs, protocol, flags, chosen, &num, spi);
}

void ike_esp_proposals(const struct cgw_proposals *in, bool no_dh,
		       struct cgw_proposals *out)
{
	*out = *in;
	for (size_t i = 0; i < out->n; i++) {
		struct cgw_proposal *p = &out->p[i];
		if (no_dh) {
			memset(p->dh, 0, sizeof(p->dh));
			p->n_dh = 0;
		}
		if (p->n_esn == 0) {
			p->esn[0].id = IKE_ESN_NONE;
			p->n_esn = 1;
		}
	}
}

void ike_algs_from(const struct cgw_proposal *p, struct ike_algs *a)
{
	memset(a, 0, sizeof(*a));
	a->encr = p->encr[0].id;
	a->encr_keylen = p->encr[0].keylen;
	a->integ = p->n_integ ? p->integ[0].id : IKE_INTEG_NONE;
	a->prf = p->n_prf ? p->prf[0].id : 0;
}
