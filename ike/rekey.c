/*
 * CHILD SAs made with CREATE_CHILD_SA (RFC 7296 1.3.1-1.3.3, 2.8), both
 * roles, make-before-break:
 *   we rekey:   new inbound SA installed before the request goes out (its
 *               SPI allocated), new outbound once the response is in, then
 *               DELETE for the old pair;
 *   peer rekeys: new inbound installed when we answer, new outbound only
 *               once the peer deletes the old pair (it then surely has the
 *               new inbound) or after a few seconds at the latest.
 * So no packet meets a missing SA. A new CHILD SA (no REKEY_SA) is made
 * when an IKE SA has none left: the peer deleted the last one, or did not
 * know the one we tried to rekey. Collisions (2.8.1, 2.25.1) are resolved
 * here; see the table in ike-internal.h.
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "common/log.h"

static uint32_t spi_from(struct span s)
{
	return (uint32_t)s.p[0] << 24 | (uint32_t)s.p[1] << 16 | (uint32_t)s.p[2] << 8 | s.p[3];
}

static void put_rekey_notify(struct ike_chain *ch, uint32_t spi)
{
	uint32_t be = htonl(spi);

	ike_put_notify(ch, IKE_PROTO_ESP, (struct span){ (uint8_t *)&be, 4 }, IKE_N_REKEY_SA,
		       (struct span){ 0 });
}

static void put_ts_one(struct ike_chain *ch, uint8_t which, const struct cgw_prefix *p)
{
	struct ike_ts_entry e;

	ts_entry_from_prefix(p, &e);
	ike_put_ts(ch, which, &e, 1);
}

/* PFS group of our ESP proposals (the first one configured), 0 if none. */
static uint16_t pfs_group(const struct cgw_tunnel_conf *t)
{
	return t->esp.p[0].n_dh ? t->esp.p[0].dh[0].id : 0;
}

/* Lower of two nonces as RFC 7296 2.8.1 compares them: octet by octet,
 * and a nonce that ends first is the lower one. -1, 0, 1. */
int ike_nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

static void lower_nonce(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			const uint8_t **out, size_t *out_len)
{
	bool first = ike_nonce_cmp(a, alen, b, blen) <= 0;

	*out = first ? a : b;
	*out_len = first ? alen : blen;
}

/* A CHILD SA that carries or will carry the tunnel's traffic. */
static bool child_live(const struct child_sa *c)
{
	return c->state == CHILD_SA_CREATING || c->state == CHILD_SA_INSTALLED ||
	       c->state == CHILD_SA_REKEYING;
}

static bool has_live_child(const struct ike_sa *sa, const struct child_sa *except)
{
	for (const struct child_sa *c = sa->children; c; c = c->next)
		if (c != except && child_live(c))
			return true;
	return false;
}

bool child_delete_in_flight(const struct ike_sa *sa)
{
	for (const struct child_sa *c = sa->children; c; c = c->next)
		if (c->delete_sent)
			return true;
	return false;
}

/* The child the peer's rekey made while we rekeyed old_spi too, if any. */
static struct child_sa *collision_partner(struct ike_sa *sa, uint32_t old_spi)
{
	for (struct child_sa *c = sa->children; c && old_spi; c = c->next)
		if (c->collided_spi == old_spi)
			return c;
	return NULL;
}

/* ---- we create or rekey ---- */

/* CREATE_CHILD_SA for a new CHILD SA replacing old or, old NULL, a new
 * one; sa->rekey holds it until answered. 0 or -errno. */
static int send_create(struct ike_sa *sa, struct child_sa *old)
{
	struct rekey_pending *rk = &sa->rekey;
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	struct cgw_proposals esp;
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX];
	size_t pub_len = sizeof(pub);
	uint16_t group = pfs_group(t);
	struct buf_writer w;
	struct ike_chain ch;
	uint32_t spi_be;
	int r;

	memset(rk, 0, sizeof(*rk));
	r = child_alloc_spi(sa, &rk->spi_in);
	if (r < 0)
		return r;
	if (group && ((r = ike_dh_new(group, &rk->dh)) < 0 ||
		      (r = ike_dh_public(rk->dh, pub, &pub_len)) < 0))
		goto fail;
	ike_nonce_new(sa->ike, rk->ni, sizeof(rk->ni));
	rk->ts_local = old ? old->ts_local : t->local_ts[0];
	rk->ts_remote = old ? old->ts_remote : t->remote_ts[0];
	ike_esp_proposals(&t->esp, false, &esp);
	spi_be = htonl(rk->spi_in);
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	if (old)
		put_rekey_notify(&ch, old->spi_in);
	ike_put_sa(&ch, &esp, IKE_PROTO_ESP, (struct span){ (uint8_t *)&spi_be, 4 });
	ike_put_nonce(&ch, (struct span){ rk->ni, sizeof(rk->ni) });
	if (group)
		ike_put_ke(&ch, group, (struct span){ pub, pub_len });
	put_ts_one(&ch, IKE_PL_TSI, &rk->ts_local);
	put_ts_one(&ch, IKE_PL_TSR, &rk->ts_remote);
	r = ike_send_request(sa, IKE_EXCH_CREATE_CHILD_SA, &ch);
	if (r < 0)
		goto fail;
	rk->old = old;
	rk->old_spi = old ? old->spi_in : 0;
	rk->rekeys = old ? old->rekeys + 1 : 0;
	rk->create = !old;
	rk->active = true;
	return 0;
fail:
	child_release_spi(sa, rk->spi_in);
	ike_dh_free(rk->dh);
	memset(rk, 0, sizeof(*rk));
	return r;
}

int child_rekey_start(struct child_sa *old)
{
	struct ike_sa *sa = old->ike;
	int r;

	if (old->state != CHILD_SA_INSTALLED)
		return -EINVAL;
	/*
	 * Our IKE rekey is in flight: busy, not gone. Its end moves old to
	 * the new IKE SA, where the rekey timer's retry finds it; -EINVAL
	 * here would end the retries and let the SA reach its hard lifetime.
	 */
	if (sa->state == IKE_SA_REKEYING)
		return -EBUSY;
	if (sa->state != IKE_SA_ESTABLISHED)
		return -EINVAL;
	if (sa->req.active || sa->rekey.active || sa->ike_rekey.active)
		return -EBUSY;
	r = send_create(sa, old);
	if (r == 0)
		child_sa_set_state(old, CHILD_SA_REKEYING, "rekey sent");
	return r;
}

int child_create_start(struct ike_sa *sa)
{
	int r;

	if (sa->state != IKE_SA_ESTABLISHED && sa->state != IKE_SA_REKEYING)
		return -EINVAL;
	if (sa->req.active || sa->rekey.active || sa->ike_rekey.active)
		return -EBUSY;
	r = send_create(sa, NULL);
	if (r == 0)
		ike_log_sa(sa, "no CHILD SA left: creating one");
	return r;
}

/* The IKE SA should carry a CHILD SA and has none: create one now, or
 * as soon as the request window is free (msg.c asks again then). */
void child_ensure(struct ike_sa *sa)
{
	int r;

	sa->want_child = false;
	if ((sa->state != IKE_SA_ESTABLISHED && sa->state != IKE_SA_REKEYING) ||
	    has_live_child(sa, NULL))
		return;
	r = child_create_start(sa);	/* -EBUSY while we rekey the IKE SA */
	if (r == -EBUSY)
		sa->want_child = true;
	else if (r < 0)
		ike_log_sa(sa, "cannot create a CHILD SA: %s", strerror(-r));
}

/* Our request is over, answered or not: forget it, give back its SPI
 * if no CHILD SA came of it, and put old back if it is still ours. */
void child_rekey_abort(struct ike_sa *sa)
{
	struct rekey_pending *rk = &sa->rekey;

	if (rk->active)
		child_release_spi(sa, rk->spi_in);
	if (rk->old && rk->old->state == CHILD_SA_REKEYING)
		child_sa_set_state(rk->old, CHILD_SA_INSTALLED, "rekey not done");
	for (struct child_sa *c = sa->children; c && rk->old_spi; c = c->next)
		if (c->collided_spi == rk->old_spi)
			c->collided_spi = 0;
	ike_dh_free(rk->dh);
	memset(rk, 0, sizeof(*rk));
}

/* Ask the peer to delete c (our inbound SPI names it), now or as soon as
 * the request window is free; c is DELETING from now on. */
int child_send_delete(struct child_sa *c)
{
	if (c->state != CHILD_SA_DELETING)
		child_sa_set_state(c, CHILD_SA_DELETING, "replaced");
	c->delete_queued = true;
	child_send_queued_deletes(c->ike);
	return 0;
}

/* One INFORMATIONAL with every queued DELETE, if the window is free. */
void child_send_queued_deletes(struct ike_sa *sa)
{
	uint8_t buf[256], spis[4 * 16];
	uint16_t n = 0;
	struct buf_writer w;
	struct ike_chain ch;

	if (sa->req.active || sa->state != IKE_SA_ESTABLISHED)
		return;
	for (struct child_sa *c = sa->children; c && n < 16; c = c->next) {
		if (!c->delete_queued)
			continue;
		uint32_t be = htonl(c->spi_in);
		memcpy(spis + 4 * n++, &be, 4);
	}
	if (n == 0)
		return;
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_delete(&ch, IKE_PROTO_ESP, 4, n, (struct span){ spis, 4u * n });
	if (ike_send_request(sa, IKE_EXCH_INFORMATIONAL, &ch) == 0)
		for (struct child_sa *c = sa->children; c; c = c->next)
			if (c->delete_queued) {
				c->delete_queued = false;
				c->delete_sent = true;
			}
}

/*
 * Both ends rekeyed the CHILD SA old_spi names at once: two new pairs.
 * The one made with the lowest of the four nonces is redundant and its
 * initiator deletes it. Ours is mine, made with nn; theirs is the child
 * marked with old_spi. false: there was no collision.
 */
static bool resolve_collision(struct ike_sa *sa, uint32_t old_spi, struct child_sa *mine,
			      const struct ike_nonces *nn)
{
	struct child_sa *theirs = collision_partner(sa, old_spi);
	const uint8_t *ours;
	size_t ours_len;

	if (!theirs || theirs == mine)
		return false;
	theirs->collided_spi = 0;
	lower_nonce(nn->ni, nn->ni_len, nn->nr, nn->nr_len, &ours, &ours_len);
	if (ike_nonce_cmp(ours, ours_len, theirs->min_nonce, theirs->min_nonce_len) < 0) {
		ike_log_sa(sa, "rekey collision: ours has the lowest nonce: deleting "
			   "CHILD SA %08x/%08x", mine->spi_in, mine->spi_out);
		/*
		 * Theirs survives. The peer made it as initiator, so its
		 * inbound is in: send on it now rather than after the peer's
		 * DELETE of the old pair (which we retire too), or traffic
		 * would have no outbound SA in between.
		 */
		if (theirs->out_encr.data && !theirs->out_installed) {
			ike_timers_child_stop(theirs);
			if (child_install_outbound(theirs) < 0)
				ike_log_sa(sa, "CHILD SA %08x: cannot install the outbound state",
					   theirs->spi_in);
			ike_timers_child_installed(theirs);
		}
		child_send_delete(mine);
	} else {
		ike_log_sa(sa, "rekey collision: the peer's has the lowest nonce: it "
			   "deletes CHILD SA %08x/%08x", theirs->spi_in, theirs->spi_out);
	}
	return true;
}

static int rekey_gir(struct rekey_pending *rk, const struct ike_msg *m,
		     struct cgw_secret *gir)
{
	if (!rk->dh)
		return ike_msg_count(m, IKE_PL_KE) ? -EPROTO : 0;
	if (ike_msg_count(m, IKE_PL_KE) == 0 || m->ke.group != ike_dh_group(rk->dh))
		return -EPROTO;
	return ike_dh_shared(rk->dh, m->ke.data.p, m->ke.data.len, gir);
}

/* The peer made our CHILD SA: install it, retire what it replaces. */
static void create_response_ok(struct ike_sa *sa, struct ike_msg *m)
{
	struct rekey_pending *rk = &sa->rekey;
	struct child_sa *old = rk->old, *c;
	struct cgw_prefix local = rk->ts_local, remote = rk->ts_remote;
	struct cgw_proposals esp;
	struct cgw_proposal chosen;
	struct cgw_secret gir = { 0 };
	struct span spi;
	bool collided;

	ike_esp_proposals(&sa->tun->conf->esp, false, &esp);
	if (ike_check_chosen(&esp, &m->sa, IKE_PROTO_ESP, 0, &chosen, &spi) < 0 ||
	    spi.len != 4 || rekey_gir(rk, m, &gir) < 0 ||
	    (rk->create && child_narrow_ts(sa->tun->conf, &m->tsi, &m->tsr, false,
					   &local, &remote) < 0)) {
		ike_log_sa(sa, "CREATE_CHILD_SA: unacceptable response: %s",
			   old ? "keeping the old SA" : "no new SA");
		goto out;
	}
	struct child_keying kx = {
		{ rk->ni, sizeof(rk->ni), m->nonce.p, m->nonce.len }, rk->dh ? &gir : NULL, true,
	};
	c = child_install(sa, &chosen, rk->spi_in, spi_from(spi), &local, &remote, &kx, false);
	if (!c) {
		ike_log_sa(sa, "CREATE_CHILD_SA: kernel refused the new SA");
		goto out;
	}
	c->rekeys = rk->rekeys;
	if (rk->create)
		sa->create_refusals = 0;
	else
		sa->tun->child_rekeys++;
	/* a collision first: the survivor's outbound goes in before old's leaves */
	collided = resolve_collision(sa, rk->old_spi, c, &kx.nonces);
	if (old) {
		child_sa_set_state(old, CHILD_SA_REKEYED, "replaced");
		rk->old = NULL;
		child_send_delete(old);
	}
	if (!collided && !rk->create && !old && has_live_child(sa, c)) {
		/* The peer deleted what we rekeyed and another SA carries the
		 * traffic: ours is one too many. */
		child_send_delete(c);
	}
out:
	secret_clear(&gir);
	child_rekey_abort(sa);		/* done either way: clear the pending state */
}

/* The peer refused our CREATE_CHILD_SA: n says why (NULL: no SA). */
static void create_refused(struct ike_sa *sa, const struct ike_notify *n)
{
	struct rekey_pending *rk = &sa->rekey;
	struct child_sa *old = rk->old;
	uint16_t type = n ? n->type : 0;
	const char *why = n && ike_notify_name(type) ? ike_notify_name(type) : "no SA";

	if (rk->create) {
		child_rekey_abort(sa);
		if (type != IKE_N_TEMPORARY_FAILURE) {
			ike_sa_fail(sa, "the peer refused a new CHILD SA with %s", why);
			return;
		}
		ike_log_sa(sa, "new CHILD SA refused with %s: retrying later", why);
		sa->create_refusals++;
		ike_timers_child_create_retry(sa);
		return;
	}
	if (!old) {
		/* The peer deleted it meanwhile: nothing to retry. */
		ike_log_sa(sa, "CHILD SA rekey refused with %s: the SA is gone anyway", why);
		child_rekey_abort(sa);
		return;
	}
	if (type == IKE_N_CHILD_SA_NOT_FOUND) {
		ike_log_sa(sa, "CHILD SA %08x/%08x unknown to the peer: removing it",
			   old->spi_in, old->spi_out);
		child_rekey_abort(sa);
		child_unlink(old);
		child_sa_set_state(old, CHILD_SA_DEAD, "unknown to the peer");
		child_destroy(old);
		ike_tunnel_child_changed(sa->tun);
		child_ensure(sa);
		return;
	}
	if (collision_partner(sa, rk->old_spi)) {
		/* The peer rekeyed it too and only its rekey went through. */
		ike_log_sa(sa, "CHILD SA rekey refused with %s: the peer's rekey replaces it", why);
		child_sa_set_state(old, CHILD_SA_REKEYED, "rekeyed by the peer");
		child_rekey_abort(sa);
		return;
	}
	ike_log_sa(sa, "CHILD SA rekey refused with %s: retrying later", why);
	child_rekey_abort(sa);
	old->refusals++;
	ike_timers_child_rekey_retry(old);
}

void child_rekey_response_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	const struct ike_notify *n = ike_msg_error_notify(m);

	ike_request_done(sa);
	if (!sa->rekey.active) {
		child_rekey_abort(sa);
		return;
	}
	if (n || ike_msg_count(m, IKE_PL_SA) == 0)
		create_refused(sa, n);
	else
		create_response_ok(sa, m);
}

/* ---- the peer creates or rekeys ---- */

static void rekey_refuse(struct ike_sa *sa, struct ike_msg *m, uint16_t notify,
			 const uint8_t *data, size_t len)
{
	uint8_t buf[128];
	struct buf_writer w;
	struct ike_chain ch;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_notify(&ch, 0, (struct span){ 0 }, notify, (struct span){ data, len });
	ike_send_response(sa, IKE_EXCH_CREATE_CHILD_SA, m->hdr.msgid, &ch);
	ike_log_sa(sa, "CREATE_CHILD_SA refused: %s", ike_notify_name(notify));
}

struct rekey_answer {
	struct cgw_proposal chosen;
	uint8_t num;
	uint32_t spi_out, spi_in;
	uint8_t nr[IKE_NONCE_LEN];
	struct ike_dh *dh;
	struct cgw_secret gir;
	struct cgw_prefix local, remote;
};

/* Choose and key the new SA; 0, or the notify to refuse with. */
static uint16_t rekey_choose(struct ike_sa *sa, struct ike_msg *m, struct rekey_answer *a,
			     uint8_t g[2])
{
	struct cgw_proposals esp;
	struct span spi;
	uint16_t group;

	ike_esp_proposals(&sa->tun->conf->esp, false, &esp);
	if (ike_select_proposal(&esp, &m->sa, IKE_PROTO_ESP, 0, &a->chosen, &a->num, &spi) < 0 ||
	    spi.len != 4)
		return IKE_N_NO_PROPOSAL_CHOSEN;
	a->spi_out = spi_from(spi);
	group = a->chosen.n_dh ? a->chosen.dh[0].id : 0;
	if (group && (ike_msg_count(m, IKE_PL_KE) == 0 || m->ke.group != group)) {
		g[0] = (uint8_t)(group >> 8);
		g[1] = (uint8_t)group;
		return IKE_N_INVALID_KE_PAYLOAD;
	}
	if (group && (ike_dh_new(group, &a->dh) < 0 ||
		      ike_dh_shared(a->dh, m->ke.data.p, m->ke.data.len, &a->gir) < 0))
		return IKE_N_INVALID_SYNTAX;
	if (child_narrow_ts(sa->tun->conf, &m->tsi, &m->tsr, true, &a->local, &a->remote) < 0)
		return IKE_N_TS_UNACCEPTABLE;
	if (child_alloc_spi(sa, &a->spi_in) < 0)
		return IKE_N_TEMPORARY_FAILURE;
	ike_nonce_new(sa->ike, a->nr, sizeof(a->nr));
	return 0;
}

static int rekey_respond(struct ike_sa *sa, struct ike_msg *m, struct rekey_answer *a)
{
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX];
	size_t pub_len = sizeof(pub);
	uint32_t spi_be = htonl(a->spi_in);
	struct buf_writer w;
	struct ike_chain ch;

	if (a->dh && ike_dh_public(a->dh, pub, &pub_len) < 0)
		return -EINVAL;
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_sa_chosen(&ch, &a->chosen, a->num, IKE_PROTO_ESP,
			  (struct span){ (uint8_t *)&spi_be, 4 });
	ike_put_nonce(&ch, (struct span){ a->nr, sizeof(a->nr) });
	if (a->dh)
		ike_put_ke(&ch, ike_dh_group(a->dh), (struct span){ pub, pub_len });
	put_ts_one(&ch, IKE_PL_TSI, &a->remote);
	put_ts_one(&ch, IKE_PL_TSR, &a->local);
	return ike_send_response(sa, IKE_EXCH_CREATE_CHILD_SA, m->hdr.msgid, &ch);
}

/* We rekey old too (2.8.1): remember this exchange's lower nonce on the
 * child it made, to find the redundant pair once our answer is in. */
static void note_collision(struct ike_sa *sa, struct child_sa *c, struct child_sa *old,
			   struct ike_msg *m, const struct rekey_answer *a)
{
	const uint8_t *low;
	size_t low_len;

	lower_nonce(m->nonce.p, m->nonce.len, a->nr, sizeof(a->nr), &low, &low_len);
	c->collided_spi = old->spi_in;
	memcpy(c->min_nonce, low, low_len);
	c->min_nonce_len = low_len;
	ike_log_sa(sa, "rekey collision: the peer rekeys CHILD SA %08x too", old->spi_in);
}

/* Answer a CREATE_CHILD_SA for a new SA replacing old (NULL: a new one). */
static void answer_create(struct ike_sa *sa, struct ike_msg *m, struct child_sa *old)
{
	struct rekey_answer a = { 0 };
	struct child_sa *c;
	uint8_t g[2];
	uint16_t refuse = rekey_choose(sa, m, &a, g);
	struct child_keying kx = {
		{ m->nonce.p, m->nonce.len, a.nr, sizeof(a.nr) }, a.dh ? &a.gir : NULL, false,
	};

	/*
	 * Keys first, answer second: the peer may send on the new SA the
	 * moment it has our answer (Libreswan does), so the new inbound
	 * state must be in the kernel before the answer leaves. A new SA
	 * carries traffic at once; a rekeyed one's outbound waits until old
	 * is gone.
	 */
	c = refuse ? NULL :
		child_install(sa, &a.chosen, a.spi_in, a.spi_out, &a.local, &a.remote, &kx, !!old);
	if (!c || rekey_respond(sa, m, &a) < 0) {
		if (c) {
			child_sa_set_state(c, CHILD_SA_DEAD, "cannot send the answer");
			child_unlink(c);
			child_destroy(c);
		} else {
			child_release_spi(sa, a.spi_in);
		}
		rekey_refuse(sa, m, refuse ? refuse : IKE_N_TEMPORARY_FAILURE, g,
			     refuse == IKE_N_INVALID_KE_PAYLOAD ? 2 : 0);
		goto out;
	}
	if (!old)
		goto out;
	c->rekeys = old->rekeys + 1;
	sa->tun->child_rekeys++;
	ike_timers_out_deferred(c);
	if (old->state == CHILD_SA_INSTALLED)
		child_sa_set_state(old, CHILD_SA_REKEYED, "rekeyed by the peer");
	if (old->state == CHILD_SA_REKEYING)
		note_collision(sa, c, old, m, &a);
out:
	ike_dh_free(a.dh);
	secret_clear(&a.gir);
}

void child_rekey_request_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	const struct ike_notify *n = ike_msg_notify(m, IKE_N_REKEY_SA);
	struct child_sa *old = NULL;

	if (sa->ike_rekey.active) {
		/* 2.25.2: not while we rekey the IKE SA. */
		rekey_refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	if (n) {
		if (n->protocol != IKE_PROTO_ESP || n->spi.len != 4) {
			rekey_refuse(sa, m, IKE_N_INVALID_SYNTAX, NULL, 0);
			return;
		}
		old = child_by_spi_out(sa, spi_from(n->spi));
		if (!old || old->state == CHILD_SA_DELETING || old->state == CHILD_SA_REKEYED) {
			/* 2.25.1: unknown, or one we are closing. */
			rekey_refuse(sa, m, old ? IKE_N_TEMPORARY_FAILURE :
				     IKE_N_CHILD_SA_NOT_FOUND, NULL, 0);
			return;
		}
	} else if (has_live_child(sa, NULL)) {
		/* One CHILD SA per tunnel: a second one is not wanted. */
		rekey_refuse(sa, m, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
		return;
	}
	answer_create(sa, m, old);
}

/* The peer deleted what a rekey replaced: our outbound may switch now. */
void child_deferred_out(struct ike_sa *sa)
{
	for (struct child_sa *c = sa->children; c; c = c->next) {
		if (!c->out_encr.data || c->out_installed)
			continue;
		ike_timers_child_stop(c);
		if (child_install_outbound(c) < 0)
			ike_log_sa(sa, "CHILD SA %08x: cannot install the outbound state", c->spi_in);
		ike_timers_child_installed(c);
	}
}
