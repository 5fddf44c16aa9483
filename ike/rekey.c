/*
 * CHILD SA rekeying with CREATE_CHILD_SA (RFC 7296 1.3.3, 2.8), both
 * roles, make-before-break:
 *   we rekey:   new inbound SA installed before the request goes out (its
 *               SPI allocated), new outbound once the response is in, then
 *               DELETE for the old pair;
 *   peer rekeys: new inbound installed when we answer, new outbound only
 *               once the peer deletes the old pair (it then surely has the
 *               new inbound) or after a few seconds at the latest.
 * So no packet meets a missing SA. Collisions (2.8.1) are the next step.
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

/* ---- we rekey ---- */

int child_rekey_start(struct child_sa *old)
{
	struct ike_sa *sa = old->ike;
	struct rekey_pending *rk = &sa->rekey;
	struct cgw_proposals esp;
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX];
	size_t pub_len = sizeof(pub);
	uint16_t group = pfs_group(sa->tun->conf);
	struct buf_writer w;
	struct ike_chain ch;
	uint32_t spi_be;
	int r;

	if (sa->state != IKE_SA_ESTABLISHED || old->state != CHILD_SA_INSTALLED)
		return -EINVAL;
	if (sa->req.active || rk->active)
		return -EBUSY;
	memset(rk, 0, sizeof(*rk));
	r = child_alloc_spi(sa, &rk->spi_in);
	if (r < 0)
		return r;
	if (group && ((r = ike_dh_new(group, &rk->dh)) < 0 ||
		      (r = ike_dh_public(rk->dh, pub, &pub_len)) < 0))
		goto fail;
	randombytes_buf(rk->ni, sizeof(rk->ni));
	ike_esp_proposals(&sa->tun->conf->esp, false, &esp);
	spi_be = htonl(rk->spi_in);
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	put_rekey_notify(&ch, old->spi_in);
	ike_put_sa(&ch, &esp, IKE_PROTO_ESP, (struct span){ (uint8_t *)&spi_be, 4 });
	ike_put_nonce(&ch, (struct span){ rk->ni, sizeof(rk->ni) });
	if (group)
		ike_put_ke(&ch, group, (struct span){ pub, pub_len });
	put_ts_one(&ch, IKE_PL_TSI, &old->ts_local);
	put_ts_one(&ch, IKE_PL_TSR, &old->ts_remote);
	r = ike_send_request(sa, IKE_EXCH_CREATE_CHILD_SA, &ch);
	if (r < 0)
		goto fail;
	rk->old = old;
	rk->active = true;
	child_sa_set_state(old, CHILD_SA_REKEYING, "rekey sent");
	return 0;
fail:
	ike_dh_free(rk->dh);
	rk->dh = NULL;
	return r;
}

void child_rekey_abort(struct ike_sa *sa)
{
	struct rekey_pending *rk = &sa->rekey;

	if (rk->active)
		child_release_spi(sa, rk->spi_in);
	if (rk->old && rk->old->state == CHILD_SA_REKEYING)
		child_sa_set_state(rk->old, CHILD_SA_INSTALLED, "rekey failed");
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

/* Lower of two nonces as RFC 7296 2.8.1 compares them: -1, 0, 1. */
static int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

static void lower_nonce(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			const uint8_t **out, size_t *out_len)
{
	bool first = nonce_cmp(a, alen, b, blen) <= 0;

	*out = first ? a : b;
	*out_len = first ? alen : blen;
}

/*
 * Both ends rekeyed old at once: two new pairs. The one made with the
 * lowest of the four nonces is redundant and its initiator deletes it.
 * Ours is mine_new, made with (ni, nr); theirs is the child marked
 * collided_with old.
 */
static void resolve_collision(struct ike_sa *sa, struct child_sa *old, struct child_sa *mine_new,
			      const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	const uint8_t *ours;
	size_t ours_len;

	for (struct child_sa *c = sa->children; c; c = c->next) {
		if (c->collided_with != old || c == mine_new)
			continue;
		lower_nonce(ni, ni_len, nr, nr_len, &ours, &ours_len);
		c->collided_with = NULL;
		if (nonce_cmp(ours, ours_len, c->min_nonce, c->min_nonce_len) < 0) {
			ike_log_sa(sa, "rekey collision: ours has the lowest nonce: deleting "
				   "CHILD SA %08x/%08x", mine_new->spi_in, mine_new->spi_out);
			child_send_delete(mine_new);
		} else {
			ike_log_sa(sa, "rekey collision: the peer's has the lowest nonce: it "
				   "deletes CHILD SA %08x/%08x", c->spi_in, c->spi_out);
		}
		return;
	}
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

static void rekey_response_ok(struct ike_sa *sa, struct ike_msg *m, struct child_sa *old)
{
	struct rekey_pending *rk = &sa->rekey;
	struct cgw_proposals esp;
	struct cgw_proposal chosen;
	struct cgw_secret gir = { 0 };
	struct span spi;
	struct child_sa *c = NULL;

	ike_esp_proposals(&sa->tun->conf->esp, false, &esp);
	if (ike_check_chosen(&esp, &m->sa, IKE_PROTO_ESP, 0, &chosen, &spi) < 0 ||
	    spi.len != 4 || rekey_gir(rk, m, &gir) < 0) {
		ike_log_sa(sa, "CHILD SA rekey: unacceptable response: keeping the old SA");
		goto out;
	}
	struct child_keying kx = {
		{ rk->ni, sizeof(rk->ni), m->nonce.p, m->nonce.len }, rk->dh ? &gir : NULL, true,
	};
	c = child_install(sa, &chosen, rk->spi_in, spi_from(spi), &old->ts_local,
			  &old->ts_remote, &kx, false);
	if (!c) {
		ike_log_sa(sa, "CHILD SA rekey: kernel refused the new SA: keeping the old one");
		goto out;
	}
	c->rekeys = old->rekeys + 1;
	sa->tun->child_rekeys++;
	child_sa_set_state(old, CHILD_SA_REKEYED, "replaced");
	rk->old = NULL;
	child_send_delete(old);
	resolve_collision(sa, old, c, kx.nonces.ni, kx.nonces.ni_len, kx.nonces.nr,
			  kx.nonces.nr_len);
out:
	secret_clear(&gir);
	child_rekey_abort(sa);		/* done either way: clear the pending state */
}

void child_rekey_response_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	struct child_sa *old = sa->rekey.old;
	const struct ike_notify *n = ike_msg_error_notify(m);

	ike_request_done(sa);
	if (!sa->rekey.active || !old) {
		child_rekey_abort(sa);
		return;
	}
	if (n || ike_msg_count(m, IKE_PL_SA) == 0) {
		/* TEMPORARY_FAILURE, NO_ADDITIONAL_SAS, ...: try again later. */
		ike_log_sa(sa, "CHILD SA rekey refused with %s: retrying later",
			   n && ike_notify_name(n->type) ? ike_notify_name(n->type) : "no SA");
		child_rekey_abort(sa);
		ike_timers_child_installed(old);
		return;
	}
	rekey_response_ok(sa, m, old);
}

/* ---- the peer rekeys ---- */

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
	randombytes_buf(a->nr, sizeof(a->nr));
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

void child_rekey_request_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	const struct ike_notify *n = ike_msg_notify(m, IKE_N_REKEY_SA);
	struct rekey_answer a = { 0 };
	struct child_sa *old, *c;
	uint8_t g[2];
	uint16_t refuse;

	if (!n || n->protocol != IKE_PROTO_ESP || n->spi.len != 4) {
		/* One CHILD SA per tunnel: a second one is not wanted. */
		rekey_refuse(sa, m, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
		return;
	}
	old = child_by_spi_out(sa, spi_from(n->spi));
	if (!old || old->state == CHILD_SA_DELETING || old->state == CHILD_SA_REKEYED) {
		rekey_refuse(sa, m, old ? IKE_N_TEMPORARY_FAILURE : IKE_N_CHILD_SA_NOT_FOUND,
			     NULL, 0);
		return;
	}
	refuse = rekey_choose(sa, m, &a, g);
	if (refuse || rekey_respond(sa, m, &a) < 0) {
		rekey_refuse(sa, m, refuse ? refuse : IKE_N_TEMPORARY_FAILURE, g,
			     refuse == IKE_N_INVALID_KE_PAYLOAD ? 2 : 0);
		goto out;
	}
	struct child_keying kx = {
		{ m->nonce.p, m->nonce.len, a.nr, sizeof(a.nr) }, a.dh ? &a.gir : NULL, false,
	};
	c = child_install(sa, &a.chosen, a.spi_in, a.spi_out, &a.local, &a.remote, &kx, true);
	if (!c)
		goto out;
	c->rekeys = old->rekeys + 1;
	sa->tun->child_rekeys++;
	ike_timers_out_deferred(c);
	if (old->state == CHILD_SA_INSTALLED)
		child_sa_set_state(old, CHILD_SA_REKEYED, "rekeyed by the peer");
	if (old->state == CHILD_SA_REKEYING) {
		/* We are rekeying it too: remember this exchange's lower nonce. */
		const uint8_t *low;
		size_t low_len;
		lower_nonce(m->nonce.p, m->nonce.len, a.nr, sizeof(a.nr), &low, &low_len);
		c->collided_with = old;
		memcpy(c->min_nonce, low, low_len);
		c->min_nonce_len = low_len;
		ike_log_sa(sa, "rekey collision: the peer rekeys CHILD SA %08x too",
			   old->spi_in);
	}
out:
	ike_dh_free(a.dh);
	secret_clear(&a.gir);
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
