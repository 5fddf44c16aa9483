/*
 * IKE_SA_INIT (RFC 7296 1.2, 2.6, 2.10, 2.23) in both roles: proposals,
 * Diffie-Hellman, nonces, NAT detection, INVALID_KE_PAYLOAD and COOKIE
 * retries as initiator, and the IKE SA keys (2.14).
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "common/log.h"

static int store_copy(uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t len)
{
	free(*dst);
	*dst = malloc(len);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, p, len);
	*dst_len = len;
	return 0;
}

static void put_natd(struct ike_chain *ch, const struct ike_sa *sa)
{
	uint8_t src[20], dst[20];

	ike_natd_hash(sa->spi_i, sa->spi_r, &sa->path.local, src);
	ike_natd_hash(sa->spi_i, sa->spi_r, &sa->path.remote, dst);
	ike_put_notify(ch, 0, (struct span){ 0 }, IKE_N_NAT_DETECTION_SOURCE_IP,
		       (struct span){ src, sizeof(src) });
	ike_put_notify(ch, 0, (struct span){ 0 }, IKE_N_NAT_DETECTION_DESTINATION_IP,
		       (struct span){ dst, sizeof(dst) });
}

/* Compare the peer's NAT_DETECTION hashes with what we see (2.23). */
static void check_natd(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_notify *src = ike_msg_notify(m, IKE_N_NAT_DETECTION_SOURCE_IP);
	const struct ike_notify *dst = ike_msg_notify(m, IKE_N_NAT_DETECTION_DESTINATION_IP);
	uint8_t h[20];

	if (!src || !dst)
		return;		/* peer does not do NAT-T */
	/* Hashed with the SPIs of that message: SPIr is 0 in the request. */
	ike_natd_hash(m->hdr.spi_i, m->hdr.spi_r, &sa->path.remote, h);
	sa->nat_remote = src->data.len != 20 || memcmp(h, src->data.p, 20) != 0;
	ike_natd_hash(m->hdr.spi_i, m->hdr.spi_r, &sa->path.local, h);
	sa->nat_local = dst->data.len != 20 || memcmp(h, dst->data.p, 20) != 0;
	if (sa->nat_local || sa->nat_remote)
		ike_log_sa(sa, "NAT detected (%s%s%s): %s UDP %d",
			   sa->nat_local ? "in front of us" : "",
			   sa->nat_local && sa->nat_remote ? ", " : "",
			   sa->nat_remote ? "in front of the peer" : "",
			   sa->initiator ? "moving to" : "expecting the peer on", IKE_NATT_PORT);
}

static void float_to_natt(struct ike_sa *sa)
{
	if (!(sa->nat_local || sa->nat_remote) || sa->natt)
		return;
	sa->natt = true;
	sa->path.local.sin_port = htons(IKE_NATT_PORT);
	sa->path.remote.sin_port = htons(IKE_NATT_PORT);
}

/* g^ir, SKEYSEED and the seven SK_* keys; binds the SK directions. */
static int derive_keys(struct ike_sa *sa, struct span peer_ke)
{
	struct cgw_secret gir = { 0 }, skeyseed = { 0 };
	struct ike_nonces n = { sa->ni, sa->ni_len, sa->nr, sa->nr_len };
	uint8_t spii[8], spir[8];
	int r;

	for (int i = 0; i < 8; i++) {
		spii[i] = (uint8_t)(sa->spi_i >> (56 - 8 * i));
		spir[i] = (uint8_t)(sa->spi_r >> (56 - 8 * i));
	}
	r = ike_dh_shared(sa->dh, peer_ke.p, peer_ke.len, &gir);
	if (r < 0)
		goto out;
	r = ike_skeyseed(sa->algs.prf, &n, &gir, &skeyseed);
	if (r < 0)
		goto out;
	r = ike_derive_ike_keys(&sa->algs, &skeyseed, &n, spii, spir, &sa->keys);
	if (r < 0)
		goto out;
	ike_sk_init(&sa->sk_out, &sa->algs, &sa->keys, sa->initiator);
	ike_sk_init(&sa->sk_in, &sa->algs, &sa->keys, !sa->initiator);
out:
	secret_clear(&gir);
	secret_clear(&skeyseed);
	return r;
}

static int new_dh(struct ike_sa *sa, uint16_t group)
{
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	sa->dh_group = group;
	return ike_dh_new(group, &sa->dh);
}

/* ---- initiator ---- */

static int send_init_request(struct ike_sa *sa)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX];
	size_t pub_len = sizeof(pub);
	struct ike_hdr h = { .spi_i = sa->spi_i, .version = IKE_VERSION,
			     .exchange = IKE_EXCH_IKE_SA_INIT, .flags = IKE_FLAG_I };
	struct ike_msg_builder b;
	struct buf_writer w;
	int r;

	r = ike_dh_public(sa->dh, pub, &pub_len);
	if (r < 0)
		return r;
	wr_init(&w, buf, sizeof(buf));
	ike_build_begin(&b, &w, &h);
	if (sa->cookie_len)
		ike_put_notify(&b.ch, 0, (struct span){ 0 }, IKE_N_COOKIE,
			       (struct span){ sa->cookie, sa->cookie_len });
	ike_put_sa(&b.ch, &t->ike, IKE_PROTO_IKE, (struct span){ 0 });
	ike_put_ke(&b.ch, sa->dh_group, (struct span){ pub, pub_len });
	ike_put_nonce(&b.ch, (struct span){ sa->ni, sa->ni_len });
	put_natd(&b.ch, sa);
	if (ike_build_end(&b) < 0)
		return -EMSGSIZE;
	r = store_copy(&sa->init_req, &sa->init_req_len, buf, wr_len(&w));
	if (r < 0)
		return r;
	return ike_send_init_request(sa, buf, wr_len(&w));
}

int ike_init_start(struct ike_sa *sa)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	int r;

	sa->path.remote.sin_family = AF_INET;
	sa->path.remote.sin_addr = t->remote.v4;
	sa->path.remote.sin_port = htons(IKE_PORT);
	r = ike_tunnel_local(sa->tun, &sa->path.local);
	if (r < 0)
		return r;
	sa->ni_len = IKE_NONCE_LEN;
	ike_nonce_new(sa->ike, sa->ni, sa->ni_len);
	r = new_dh(sa, t->ike.p[0].dh[0].id);
	if (r < 0)
		return r;
	r = send_init_request(sa);
	if (r < 0)
		return r;
	ike_sa_set_state(sa, IKE_SA_INIT_SENT, "initiating");
	return 0;
}

static bool group_configured(const struct cgw_proposals *ps, uint16_t group)
{
	for (size_t i = 0; i < ps->n; i++)
		for (size_t j = 0; j < ps->p[i].n_dh; j++)
			if (ps->p[i].dh[j].id == group)
				return true;
	return false;
}

/* An error notify instead of an SA: retry, or give up saying why. */
static void init_error_rcvd(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_notify *n = ike_msg_notify(m, IKE_N_COOKIE);

	if (n && n->data.len <= sizeof(sa->cookie) && !sa->cookie_len) {
		memcpy(sa->cookie, n->data.p, n->data.len);
		sa->cookie_len = n->data.len;
		ike_request_done(sa);
		if (send_init_request(sa) < 0)
			ike_sa_fail(sa, "cannot resend IKE_SA_INIT with cookie");
		return;
	}
	n = ike_msg_notify(m, IKE_N_INVALID_KE_PAYLOAD);
	if (n && n->data.len == 2) {
		uint16_t group = (uint16_t)(n->data.p[0] << 8 | n->data.p[1]);
		if (!sa->ke_retried && group_configured(&sa->tun->conf->ike, group)) {
			sa->ke_retried = true;
			ike_log_sa(sa, "peer wants DH group %u: retrying", group);
			ike_request_done(sa);
			if (new_dh(sa, group) < 0 || send_init_request(sa) < 0)
				ike_sa_fail(sa, "cannot retry with DH group %u", group);
			return;
		}
		ike_sa_fail(sa, "peer wants DH group %u, which is not configured", group);
		return;
	}
	n = ike_msg_error_notify(m);
	if (n && n->type == IKE_N_NO_PROPOSAL_CHOSEN) {
		char ours[512];
		ike_sa_fail(sa, "peer answered IKE_SA_INIT with NO_PROPOSAL_CHOSEN: we offered %s",
			    proposal_str(&sa->tun->conf->ike, PROPOSAL_IKE, ours, sizeof(ours)));
		return;
	}
	ike_sa_fail(sa, "peer answered IKE_SA_INIT with %s",
		    n ? ike_notify_name(n->type) ? ike_notify_name(n->type) : "an error"
		      : "no SA payload");
}

void ike_init_response_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	struct span spi;
	char buf[256];

	if (ike_msg_count(m, IKE_PL_SA) == 0) {
		init_error_rcvd(sa, m);
		return;
	}
	if (ike_check_chosen(&sa->tun->conf->ike, &m->sa, IKE_PROTO_IKE, 0, &sa->chosen,
			     &spi) < 0) {
		ike_sa_fail(sa, "peer chose a proposal we did not offer");
		return;
	}
	if (m->ke.group != sa->dh_group || sa->chosen.dh[0].id != sa->dh_group) {
		ike_sa_fail(sa, "peer's KE group %u does not match ours (%u)", m->ke.group,
			    sa->dh_group);
		return;
	}
	ike_request_done(sa);
	ike_algs_from(&sa->chosen, &sa->algs);
	sa->spi_r = m->hdr.spi_r;
	sa->nr_len = m->nonce.len;
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	if (store_copy(&sa->init_resp, &sa->init_resp_len, m->dgram.p, m->dgram.len) < 0 ||
	    derive_keys(sa, m->ke.data) < 0) {
		ike_sa_fail(sa, "key derivation failed (bad KE from the peer?)");
		return;
	}
	check_natd(sa, m);
	float_to_natt(sa);
	struct cgw_proposals one = { .n = 1, .p = { sa->chosen } };
	ike_log_sa(sa, "IKE_SA_INIT done: %s",
		   proposal_str(&one, PROPOSAL_IKE, buf, sizeof(buf)));
	if (ike_auth_start(sa) < 0)
		ike_sa_fail(sa, "cannot send IKE_AUTH");
}

/* ---- responder ---- */

/* " (N similar lines held back)" after a rate-limited line, or "". */
static const char *held_str(unsigned held, char buf[64])
{
	buf[0] = '\0';
	if (held)
		snprintf(buf, 64, " (%u similar line%s held back)", held, held == 1 ? "" : "s");
	return buf;
}

static void log_no_proposal(struct ike_tunnel *tun, const struct ike_msg *m)
{
	char ours[512], theirs[512] = "", h[64];
	size_t off = 0;
	unsigned held;

	for (size_t i = 0; i < m->sa.n_prop && off < sizeof(theirs); i++) {
		struct cgw_proposal p;
		uint8_t spi[8];
		size_t spi_len;
		struct cgw_proposals one = { .n = 1 };
		char b[256];

		if (ike_proposal_to_cgw(&m->sa.prop[i], &p, spi, &spi_len) < 0)
			continue;
		one.p[0] = p;
		off += (size_t)snprintf(theirs + off, sizeof(theirs) - off, "%s%s",
					off ? "," : "", proposal_str(&one, PROPOSAL_IKE, b, sizeof(b)));
	}
	snprintf(tun->last_error, sizeof(tun->last_error), "no proposal chosen: peer offered "
		 "%s; we accept %s", theirs[0] ? theirs : "(nothing we know)",
		 proposal_str(&tun->conf->ike, PROPOSAL_IKE, ours, sizeof(ours)));
	if (ike_tunnel_log_ok(tun, &held))
		log_warnx("%s: IKE_SA_INIT from %s: %s%s", tun->conf->name,
			  inet_ntoa(tun->conf->remote.v4), tun->last_error, held_str(held, h));
}

static int send_init_response(struct ike_sa *sa, uint8_t num)
{
	uint8_t buf[4096], pub[IKE_DH_PUBLIC_MAX];
	size_t pub_len = sizeof(pub);
	struct ike_hdr h = { .spi_i = sa->spi_i, .spi_r = sa->spi_r,
			     .version = IKE_VERSION, .exchange = IKE_EXCH_IKE_SA_INIT,
			     .flags = IKE_FLAG_R };
	struct ike_msg_builder b;
	struct buf_writer w;
	int r;

	r = ike_dh_public(sa->dh, pub, &pub_len);
	if (r < 0)
		return r;
	wr_init(&w, buf, sizeof(buf));
	ike_build_begin(&b, &w, &h);
	ike_put_sa_chosen(&b.ch, &sa->chosen, num, IKE_PROTO_IKE, (struct span){ 0 });
	ike_put_ke(&b.ch, sa->dh_group, (struct span){ pub, pub_len });
	ike_put_nonce(&b.ch, (struct span){ sa->nr, sa->nr_len });
	put_natd(&b.ch, sa);
	if (ike_build_end(&b) < 0)
		return -EMSGSIZE;
	r = store_copy(&sa->init_resp, &sa->init_resp_len, buf, wr_len(&w));
	if (r < 0)
		return r;
	ike_send_raw(sa->ike, &sa->path, sa->natt, buf, wr_len(&w));
	return 0;
}

static int responder_setup(struct ike_sa *sa, const struct ike_path *path, bool natt,
			   struct ike_msg *m, uint8_t num)
{
	int r;

	sa->path = *path;
	sa->natt = natt;
	sa->spi_i = m->hdr.spi_i;
	sa->peer_msgid = 1;
	sa->next_msgid = 0;
	ike_algs_from(&sa->chosen, &sa->algs);
	sa->ni_len = m->nonce.len;
	memcpy(sa->ni, m->nonce.p, m->nonce.len);
	sa->nr_len = IKE_NONCE_LEN;
	ike_nonce_new(sa->ike, sa->nr, sa->nr_len);
	r = new_dh(sa, sa->chosen.dh[0].id);
	if (r < 0)
		return r;
	r = derive_keys(sa, m->ke.data);
	if (r < 0)
		return r;
	r = store_copy(&sa->init_req, &sa->init_req_len, m->dgram.p, m->dgram.len);
	if (r < 0)
		return r;
	check_natd(sa, m);
	return send_init_response(sa, num);
}

/*
 * Under load (many half-open SAs) answer with a stateless COOKIE first and
 * go on only with requests that return it (2.6). True: go on.
 */
static bool cookie_ok(struct ike *ike, struct ike_tunnel *tun, const struct ike_path *path,
		      bool natt, const struct ike_msg *m)
{
	const struct ike_notify *n = ike_msg_notify(m, IKE_N_COOKIE);
	uint8_t want[IKE_COOKIE_LEN];

	if (ike->half_open < IKE_HALF_OPEN_COOKIES)
		return true;
	ike_cookie_compute(ike->cookie_secret, 0, m->nonce.p, m->nonce.len, &path->remote,
			   m->hdr.spi_i, want);
	if (n && n->data.len == sizeof(want) && sodium_memcmp(n->data.p, want, sizeof(want)) == 0)
		return true;
	log_debug(LOGC_IKE, "IKE_SA_INIT from %s: %u half-open SAs: asking for a cookie",
		  inet_ntoa(path->remote.sin_addr), ike->half_open);
	ike_send_error_unprotected(ike, path, natt, &m->hdr, IKE_N_COOKIE, want, sizeof(want));
	tun->cookies_sent++;
	return false;
}

void ike_init_request_rcvd(struct ike *ike, const struct ike_path *path, bool natt,
			   struct ike_msg *m, struct ike_tunnel *tun)
{
	struct cgw_proposal chosen;
	struct span spi;
	struct ike_sa *sa;
	uint8_t num;
	unsigned held;
	char h[64];

	if (!cookie_ok(ike, tun, path, natt, m))
		return;

	if (ike_select_proposal(&tun->conf->ike, &m->sa, IKE_PROTO_IKE, 0, &chosen, &num,
				&spi) < 0) {
		log_no_proposal(tun, m);
		ike_send_error_unprotected(ike, path, natt, &m->hdr, IKE_N_NO_PROPOSAL_CHOSEN,
					   NULL, 0);
		return;
	}
	if (m->ke.group != chosen.dh[0].id) {
		uint8_t g[2] = { (uint8_t)(chosen.dh[0].id >> 8), (uint8_t)chosen.dh[0].id };
		if (ike_tunnel_log_ok(tun, &held))
			log_info("%s: IKE_SA_INIT with KE group %u: asking for group %u "
				 "(INVALID_KE_PAYLOAD)%s", tun->conf->name, m->ke.group,
				 chosen.dh[0].id, held_str(held, h));
		ike_send_error_unprotected(ike, path, natt, &m->hdr, IKE_N_INVALID_KE_PAYLOAD,
					   g, sizeof(g));
		return;
	}
	sa = ike_sa_new(tun, false);
	if (!sa)
		return;
	sa->chosen = chosen;
	if (responder_setup(sa, path, natt, m, num) < 0) {
		/* A KE of the wrong size or a degenerate value: unanswered,
		 * and no trace on the tunnel (its last error, its re-initiation,
		 * a state line): anyone can send this with the peer's address.
		 * The SA never left IDLE nor was seen: it simply goes. */
		if (ike_tunnel_log_ok(tun, &held))
			log_warnx("%s: IKE_SA_INIT from %s: %zu-byte KE for group %u unusable: "
				  "dropped%s", tun->conf->name, inet_ntoa(path->remote.sin_addr),
				  m->ke.data.len, m->ke.group, held_str(held, h));
		ike_sa_destroy(sa);
		return;
	}
	/* As responder we follow the peer: it floats to 4500 itself. */
	ike_sa_set_state(sa, IKE_SA_INIT_DONE, "IKE_SA_INIT answered");
}
