/*
 * IKE SA rekeying with CREATE_CHILD_SA (RFC 7296 1.3.2, 2.18), both
 * roles: a new IKE SA keyed from the old one's SK_d and a fresh DH, every
 * CHILD SA moved over without touching the kernel, then the old IKE SA
 * deleted by whoever started the rekey. The rekey's initiator is the
 * original initiator of the new SA (its I flag).
 *
 * Both ends rekeying at once (2.8.2): each answers the other as usual;
 * the peer's new SA waits, keyed but IDLE, until our own answer is in.
 * Then both ends know the four nonces and decide alike: the new SA with
 * the lowest nonce is redundant and its initiator deletes it; the other
 * inherits the CHILD SAs and its initiator deletes the old SA. A DELETE
 * of the old SA before our answer means the peer saw no collision: its
 * new SA is the one (2.8.2, last paragraph).
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "common/log.h"

static uint64_t spi64(struct span s)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 8; i++)
		v = v << 8 | s.p[i];
	return v;
}

static void spi_bytes(uint64_t spi, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(spi >> (56 - 8 * i));
}

/* The new SA's keys: SKEYSEED from the old SK_d, then the SK_* (2.18). */
static int rekey_keys(struct ike_sa *old, struct ike_sa *n, const struct cgw_secret *gir)
{
	struct cgw_secret skeyseed = { 0 };
	struct ike_nonces nn = { n->ni, n->ni_len, n->nr, n->nr_len };
	uint8_t spii[8], spir[8];
	int r;

	spi_bytes(n->spi_i, spii);
	spi_bytes(n->spi_r, spir);
	r = ike_skeyseed_rekey(old->algs.prf, &old->keys.sk_d, gir, &nn, &skeyseed);
	if (r == 0)
		r = ike_derive_ike_keys(&n->algs, &skeyseed, &nn, spii, spir, &n->keys);
	secret_clear(&skeyseed);
	if (r == 0) {
		ike_sk_init(&n->sk_out, &n->algs, &n->keys, n->initiator);
		ike_sk_init(&n->sk_in, &n->algs, &n->keys, !n->initiator);
	}
	return r;
}

/* Everything the old SA carried now belongs to the new one. */
static void move_children(struct ike_sa *old, struct ike_sa *n)
{
	n->children = old->children;
	old->children = NULL;
	old->pending_spi = 0;		/* it names a CHILD SA that moved */
	n->want_child = old->want_child;
	old->want_child = false;
	for (struct child_sa *c = n->children; c; c = c->next)
		c->ike = n;
}

static struct ike_sa *rekeyed_sa(struct ike_sa *old, bool initiator,
				 const struct cgw_proposal *chosen)
{
	struct ike_sa *n = ike_sa_new(old->tun, initiator);

	if (!n)
		return NULL;
	n->path = old->path;
	n->natt = old->natt;
	n->nat_local = old->nat_local;
	n->nat_remote = old->nat_remote;
	n->chosen = *chosen;
	ike_algs_from(chosen, &n->algs);
	n->dh_group = chosen->dh[0].id;
	return n;
}

static void finish(struct ike_sa *old, struct ike_sa *n, const char *who)
{
	old->tun->ike_rekeys++;
	move_children(old, n);
	ike_sa_set_state(n, IKE_SA_ESTABLISHED, who);
	ike_sa_set_state(old, IKE_SA_REKEYED, "replaced by a new IKE SA");
	ike_timers_ike_rekeyed(old);
	if (n->want_child)
		child_ensure(n);
}

/* The peer's new SA from a collision, still waiting for our answer. */
struct ike_sa *ike_rekey_collision_sa(const struct ike_sa *sa)
{
	struct ike_sa *n;

	if (!sa->coll_spi_i)
		return NULL;
	n = ike_sa_find(sa->ike, sa->coll_spi_i, sa->coll_spi_r);
	return n && n->state == IKE_SA_IDLE ? n : NULL;
}

static struct ike_sa *take_collision_sa(struct ike_sa *sa)
{
	struct ike_sa *n = ike_rekey_collision_sa(sa);

	sa->coll_spi_i = sa->coll_spi_r = 0;
	return n;
}

/* True when n's lower nonce is below o's (2.8.2: n is redundant). */
static bool lowest_nonce_in(const struct ike_sa *n, const struct ike_sa *o)
{
	bool ni = ike_nonce_cmp(n->ni, n->ni_len, n->nr, n->nr_len) <= 0;
	bool oi = ike_nonce_cmp(o->ni, o->ni_len, o->nr, o->nr_len) <= 0;

	return ike_nonce_cmp(ni ? n->ni : n->nr, ni ? n->ni_len : n->nr_len,
			     oi ? o->ni : o->nr, oi ? o->ni_len : o->nr_len) < 0;
}

/* ---- we rekey ---- */

int ike_rekey_start(struct ike_sa *sa)
{
	struct ike_rekey_pending *rk = &sa->ike_rekey;
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX], spi[8];
	size_t pub_len = sizeof(pub);
	struct buf_writer w;
	struct ike_chain ch;
	int r;

	if (sa->state != IKE_SA_ESTABLISHED)
		return -EINVAL;
	if (sa->req.active || sa->rekey.active || rk->active)
		return -EBUSY;
	memset(rk, 0, sizeof(*rk));
	while (rk->spi == 0)
		randombytes_buf(&rk->spi, sizeof(rk->spi));
	ike_nonce_new(sa->ike, rk->ni, sizeof(rk->ni));
	if ((r = ike_dh_new(sa->dh_group, &rk->dh)) < 0 ||
	    (r = ike_dh_public(rk->dh, pub, &pub_len)) < 0)
		goto fail;
	spi_bytes(rk->spi, spi);
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_sa(&ch, &sa->tun->conf->ike, IKE_PROTO_IKE, (struct span){ spi, 8 });
	ike_put_nonce(&ch, (struct span){ rk->ni, sizeof(rk->ni) });
	ike_put_ke(&ch, sa->dh_group, (struct span){ pub, pub_len });
	r = ike_send_request(sa, IKE_EXCH_CREATE_CHILD_SA, &ch);
	if (r < 0)
		goto fail;
	rk->active = true;
	ike_sa_set_state(sa, IKE_SA_REKEYING, "IKE SA rekey sent");
	return 0;
fail:
	ike_rekey_abort(sa);
	return r;
}

void ike_rekey_abort(struct ike_sa *sa)
{
	ike_dh_free(sa->ike_rekey.dh);
	sodium_memzero(&sa->ike_rekey, sizeof(sa->ike_rekey));
}

static int rekey_response_keys(struct ike_sa *sa, struct ike_msg *m,
			       struct ike_sa **out)
{
	struct ike_rekey_pending *rk = &sa->ike_rekey;
	struct cgw_proposal chosen;
	struct cgw_secret gir = { 0 };
	struct ike_sa *n;
	struct span spi;
	int r;

	if (ike_check_chosen(&sa->tun->conf->ike, &m->sa, IKE_PROTO_IKE, 0, &chosen, &spi) < 0 ||
	    spi.len != 8 || chosen.dh[0].id != sa->dh_group || m->ke.group != sa->dh_group)
		return -EPROTO;
	r = ike_dh_shared(rk->dh, m->ke.data.p, m->ke.data.len, &gir);
	if (r < 0)
		return r;
	n = rekeyed_sa(sa, true, &chosen);
	if (!n) {
		secret_clear(&gir);
		return -ENOMEM;
	}
	n->spi_i = rk->spi;
	n->spi_r = spi64(spi);
	memcpy(n->ni, rk->ni, sizeof(rk->ni));
	n->ni_len = sizeof(rk->ni);
	memcpy(n->nr, m->nonce.p, m->nonce.len);
	n->nr_len = m->nonce.len;
	r = rekey_keys(sa, n, &gir);
	secret_clear(&gir);
	if (r < 0) {
		ike_sa_set_state(n, IKE_SA_DEAD, "rekey keys failed");
		ike_sa_destroy(n);
		return r;
	}
	*out = n;
	return 0;
}

/* Our rekey was refused or its answer is unusable. */
static void rekey_refused(struct ike_sa *sa, struct ike_msg *m)
{
	const struct ike_notify *e = ike_msg_error_notify(m);
	const char *why = e && ike_notify_name(e->type) ? ike_notify_name(e->type) : "bad response";
	struct ike_sa *theirs = take_collision_sa(sa);

	ike_rekey_abort(sa);
	if (theirs) {
		/* Only the peer's rekey went through: a plain rekey by the peer. */
		ike_log_sa(sa, "IKE SA rekey refused (%s): the peer's rekey replaces it", why);
		finish(sa, theirs, "the peer rekeyed the IKE SA");
		return;
	}
	ike_log_sa(sa, "IKE SA rekey refused (%s): retrying later", why);
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED, "IKE SA rekey refused");
	sa->ike_rekey_refusals++;
	ike_timers_ike_rekey_retry(sa);
}

void ike_rekey_response_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	struct ike_sa *n = NULL, *theirs;

	ike_request_done(sa);
	if (ike_msg_count(m, IKE_PL_SA) == 0 || rekey_response_keys(sa, m, &n) < 0) {
		rekey_refused(sa, m);
		return;
	}
	ike_rekey_abort(sa);
	sa->ike_rekey_refusals = 0;
	theirs = take_collision_sa(sa);
	if (theirs && lowest_nonce_in(n, theirs)) {
		ike_log_sa(sa, "IKE SA rekey collision: ours has the lowest nonce: deleting it, "
			   "the peer's replaces this one");
		finish(sa, theirs, "the peer's rekey won the collision");
		ike_send_delete_ike(n);
		ike_sa_set_state(n, IKE_SA_DELETING, "redundant (rekey collision)");
		return;
	}
	finish(sa, n, "rekeyed the IKE SA");
	if (theirs) {
		ike_log_sa(sa, "IKE SA rekey collision: the peer's has the lowest nonce: "
			   "it deletes that one");
		ike_sa_set_state(theirs, IKE_SA_REKEYED, "redundant (rekey collision)");
		ike_timers_ike_rekeyed(theirs);
	}
	ike_send_delete_ike(sa);	/* the old one: DELETING once answered */
	ike_sa_set_state(sa, IKE_SA_DELETING, "deleting the replaced IKE SA");
}

/* The peer deletes sa while our rekey of it is in flight: forget ours
 * (2.25.2); if we answered the peer's rekey meanwhile, the peer saw no
 * collision and its new SA takes over (2.8.2). */
void ike_rekey_peer_deletes(struct ike_sa *sa)
{
	struct ike_sa *theirs = take_collision_sa(sa);

	if (!theirs)
		return;
	ike_log_sa(sa, "deleted by the peer during a rekey collision: its new IKE SA takes over");
	finish(sa, theirs, "the peer rekeyed the IKE SA");
}

/* ---- the peer rekeys ---- */

static void refuse(struct ike_sa *sa, struct ike_msg *m, uint16_t notify,
		   const uint8_t *data, size_t len)
{
	uint8_t buf[128];
	struct buf_writer w;
	struct ike_chain ch;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_notify(&ch, 0, (struct span){ 0 }, notify, (struct span){ data, len });
	ike_send_response(sa, IKE_EXCH_CREATE_CHILD_SA, m->hdr.msgid, &ch);
	ike_log_sa(sa, "IKE SA rekey refused: %s", ike_notify_name(notify));
}

static int respond(struct ike_sa *sa, struct ike_msg *m, struct ike_sa *n, uint8_t num,
		   struct ike_dh *dh)
{
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX], spi[8];
	size_t pub_len = sizeof(pub);
	struct buf_writer w;
	struct ike_chain ch;

	if (ike_dh_public(dh, pub, &pub_len) < 0)
		return -EINVAL;
	spi_bytes(n->spi_r, spi);
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_sa_chosen(&ch, &n->chosen, num, IKE_PROTO_IKE, (struct span){ spi, 8 });
	ike_put_nonce(&ch, (struct span){ n->nr, n->nr_len });
	ike_put_ke(&ch, n->dh_group, (struct span){ pub, pub_len });
	return ike_send_response(sa, IKE_EXCH_CREATE_CHILD_SA, m->hdr.msgid, &ch);
}

/* 0, or the notify to refuse the peer's rekey with (2.25.1, 2.25.2). */
static uint16_t rekey_busy(const struct ike_sa *sa)
{
	/* Rekeying, creating or deleting a CHILD SA, or a collision
	 * answered already (the window of one makes that a stray). */
	if (sa->rekey.active || child_delete_in_flight(sa) || sa->coll_spi_i)
		return IKE_N_TEMPORARY_FAILURE;
	return 0;
}

/* The new SA for the peer's rekey, keyed and answered; NULL: refused. */
static struct ike_sa *answer_rekey(struct ike_sa *sa, struct ike_msg *m)
{
	struct cgw_proposal chosen;
	struct cgw_secret gir = { 0 };
	struct ike_dh *dh = NULL;
	struct ike_sa *n = NULL;
	struct span spi;
	uint8_t num;

	if (ike_select_proposal(&sa->tun->conf->ike, &m->sa, IKE_PROTO_IKE, 0, &chosen, &num,
				&spi) < 0 || spi.len != 8) {
		refuse(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return NULL;
	}
	if (ike_msg_count(m, IKE_PL_KE) == 0 || m->ke.group != chosen.dh[0].id) {
		uint8_t g[2] = { (uint8_t)(chosen.dh[0].id >> 8), (uint8_t)chosen.dh[0].id };
		refuse(sa, m, IKE_N_INVALID_KE_PAYLOAD, g, 2);
		return NULL;
	}
	if (ike_dh_new(chosen.dh[0].id, &dh) < 0 ||
	    ike_dh_shared(dh, m->ke.data.p, m->ke.data.len, &gir) < 0 ||
	    !(n = rekeyed_sa(sa, false, &chosen)))
		goto fail;
	n->spi_i = spi64(spi);
	memcpy(n->ni, m->nonce.p, m->nonce.len);
	n->ni_len = m->nonce.len;
	n->nr_len = IKE_NONCE_LEN;
	ike_nonce_new(sa->ike, n->nr, n->nr_len);
	if (rekey_keys(sa, n, &gir) < 0 || respond(sa, m, n, num, dh) < 0)
		goto fail;
	goto out;
fail:
	if (n) {
		ike_sa_set_state(n, IKE_SA_DEAD, "rekey failed");
		ike_sa_destroy(n);
		n = NULL;
	}
	refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0);
out:
	ike_dh_free(dh);
	secret_clear(&gir);
	return n;
}

void ike_rekey_request_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	uint16_t busy = rekey_busy(sa);
	struct ike_sa *n;

	if (busy) {
		refuse(sa, m, busy, NULL, 0);
		return;
	}
	n = answer_rekey(sa, m);
	if (!n)
		return;
	if (!sa->ike_rekey.active) {
		finish(sa, n, "the peer rekeyed the IKE SA");
		return;
	}
	/* We rekey it too: decide once our own answer is in. */
	sa->coll_spi_i = n->spi_i;
	sa->coll_spi_r = n->spi_r;
	ike_log_sa(sa, "IKE SA rekey collision: the peer rekeys it too");
}
