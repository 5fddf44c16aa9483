/*
 * INFORMATIONAL exchanges (RFC 7296 1.4, 1.5): liveness checks both ways,
 * DELETE of the IKE SA or of CHILD SAs in both directions.
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/log.h"

static void child_remove(struct ike_sa *sa, struct child_sa *c)
{
	child_unlink(c);		/* our rekey of it, if any, is forgotten */
	/* The peer deleted the SA a rekey replaced: it has the new one in
	 * both directions now, so our outbound moves to it, before the old
	 * outbound state goes: never a moment without one. */
	child_deferred_out(sa);
	child_sa_set_state(c, CHILD_SA_DEAD, "deleted by the peer");
	child_destroy(c);
	ike_tunnel_child_changed(sa->tun);
}

/* The peer deletes CHILD SAs: answer with our inbound SPIs of the pairs. */
static unsigned delete_children(struct ike_sa *sa, const struct ike_delete *d,
				struct ike_chain *ch)
{
	uint8_t spis[4 * 16];
	uint16_t n = 0;

	for (size_t i = 0; i < d->n_spi && n < 16; i++) {
		struct child_sa *c = child_by_spi_out(sa, ike_delete_spi(d, i));
		if (!c)
			continue;
		uint32_t in = htonl(c->spi_in);
		memcpy(spis + 4 * n++, &in, 4);
		child_remove(sa, c);
	}
	if (n)
		ike_put_delete(ch, IKE_PROTO_ESP, 4, n, (struct span){ spis, 4u * n });
	return n;
}

void ike_info_request_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	uint8_t buf[512];
	struct buf_writer w;
	struct ike_chain ch;
	bool delete_ike = false;
	unsigned deleted = 0;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	for (size_t i = 0; i < m->n_delete; i++) {
		if (m->del[i].protocol == IKE_PROTO_IKE)
			delete_ike = true;
		else if (m->del[i].protocol == IKE_PROTO_ESP && !delete_ike)
			deleted += delete_children(sa, &m->del[i], &ch);
	}
	if (delete_ike)
		ike_chain_init(&ch, &w);	/* an empty answer (1.4.1) */
	ike_send_response(sa, IKE_EXCH_INFORMATIONAL, m->hdr.msgid, &ch);
	/* The last CHILD SA gone: a tunnel we keep up gets a new one. */
	if (deleted && !delete_ike && sa->tun->conf->startup == CGW_STARTUP_START)
		child_ensure(sa);
	if (delete_ike && sa->ike_rekey.active)
		ike_rekey_peer_deletes(sa);
	if (delete_ike) {
		if (sa->state != IKE_SA_REKEYED) {
			snprintf(sa->tun->last_error, sizeof(sa->tun->last_error),
				 "the peer deleted the IKE SA");
			ike_log_sa(sa, "deleted by the peer");
		}
		ike_sa_set_state(sa, IKE_SA_DEAD, "peer sent DELETE");
		struct ike_tunnel *tun = sa->tun;
		ike_sa_destroy(sa);
		ike_tunnel_schedule_reinit(tun);
	}
}

void ike_info_response_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	ike_request_done(sa);
	sa->dpd_outstanding = false;
	sa->fast_probe = false;
	/* Our DELETE of CHILD SAs answered: drop the ones marked DELETING. */
	for (struct child_sa *c = sa->children, *next; c; c = next) {
		next = c->next;
		if (c->state == CHILD_SA_DELETING && c->delete_sent) {
			child_unlink(c);
			child_sa_set_state(c, CHILD_SA_DEAD, "DELETE answered");
			child_destroy(c);
		}
	}
	ike_tunnel_child_changed(sa->tun);
	if (sa->state == IKE_SA_DELETING) {
		ike_sa_set_state(sa, IKE_SA_DEAD, "DELETE answered");
		ike_sa_destroy(sa);
	}
}

/* Ask the peer to delete the IKE SA (and with it every CHILD SA). */
int ike_send_delete_ike(struct ike_sa *sa)
{
	uint8_t buf[64];
	struct buf_writer w;
	struct ike_chain ch;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_delete(&ch, IKE_PROTO_IKE, 0, 0, (struct span){ 0 });
	return ike_send_request(sa, IKE_EXCH_INFORMATIONAL, &ch);
}

/* An empty INFORMATIONAL request: is the peer alive? fast: after
 * one-way traffic, retransmitted at 0.5, 1, 2 s instead of 1, 2, 4, ... */
void ike_dpd_start(struct ike_sa *sa, bool fast)
{
	uint8_t buf[16];
	struct buf_writer w;
	struct ike_chain ch;

	if (sa->req.active) {
		/* A request is out already: its answer proves liveness too.
		 * After one-way traffic, hurry its retransmits instead. */
		if (fast && !sa->fast_probe) {
			sa->dpd_outstanding = true;
			sa->fast_probe = true;
			ike_timers_hurry_request(sa);
		}
		return;
	}
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	sa->fast_probe = fast;
	if (ike_send_request(sa, IKE_EXCH_INFORMATIONAL, &ch) == 0) {
		sa->dpd_outstanding = true;
		log_debug(LOGC_IKE, "%s: %sliveness check sent", sa->tun->conf->name,
			  fast ? "fast " : "");
	} else {
		sa->fast_probe = false;
	}
}

/* No answer to liveness checks: the peer is dead; dpd-action decides. */
void ike_sa_dead(struct ike_sa *sa, const char *why)
{
	struct ike_tunnel *tun = sa->tun;
	enum cgw_dpd_action action = tun->conf->dpd_action;

	tun->dead_peers++;
	log_notice("%s: peer %s declared dead (%s): dpd-action %s", tun->conf->name,
		   inet_ntoa(sa->path.remote.sin_addr), why, conf_dpd_action_name(action));
	if (action == CGW_DPD_RESTART) {
		/* At once, then 1 s doubling to 30 s until up, whatever startup says. */
		tun->restarting = true;
		tun->backoff = 0.;
	}
	if (action == CGW_DPD_HOLD)
		tun->hold = true;	/* re-initiate when traffic needs it */
	ike_sa_fail(sa, "peer dead: %s", why);
}
