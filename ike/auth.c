/*
 * IKE_AUTH (RFC 7296 1.2, 2.15) in both roles with PSK authentication:
 * identities, AUTH computed and verified in constant time, and the first
 * CHILD SA (proposal, traffic selectors, kernel SAs via child.c).
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define ID_MAX 256

struct id_buf {
	uint8_t type;
	uint8_t body[4 + ID_MAX];	/* type | 3 reserved | data: the AUTH input */
	size_t body_len;
};

/* "198.51.100.1" -> ID_IPV4_ADDR, "keyid:abc" -> ID_KEY_ID, else ID_FQDN. */
static int id_encode(const char *s, struct id_buf *id)
{
	struct in_addr a;
	size_t n;

	memset(id, 0, sizeof(*id));
	if (inet_pton(AF_INET, s, &a) == 1) {
		id->type = IKE_ID_IPV4_ADDR;
		memcpy(id->body + 4, &a, 4);
		n = 4;
	} else {
		bool keyid = strncmp(s, "keyid:", 6) == 0;
		const char *v = keyid ? s + 6 : s;
		n = strlen(v);
		if (n == 0 || n > ID_MAX)
			return -EINVAL;
		id->type = keyid ? IKE_ID_KEY_ID : IKE_ID_FQDN;
		memcpy(id->body + 4, v, n);
	}
	id->body[0] = id->type;
	id->body_len = 4 + n;
	return 0;
}

static const char *local_id_str(const struct ike_sa *sa, char *buf, size_t len)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;

	if (t->local_id)
		return t->local_id;
	if (sa->tun->gw->local_id)
		return sa->tun->gw->local_id;
	return inet_ntop(AF_INET, &sa->path.local.sin_addr, buf, (socklen_t)len);
}

static const char *remote_id_str(const struct ike_sa *sa, char *buf, size_t len)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;

	if (t->remote_id)
		return t->remote_id;
	return inet_ntop(AF_INET, &t->remote.v4, buf, (socklen_t)len);
}

static bool peer_id_ok(const struct ike_sa *sa, const struct ike_id *got, char *what,
		       size_t what_len)
{
	char buf[64];
	struct id_buf want;

	if (id_encode(remote_id_str(sa, buf, sizeof(buf)), &want) < 0)
		return false;
	if (got->body.len == want.body_len && memcmp(got->body.p, want.body, want.body_len) == 0)
		return true;
	snprintf(what, what_len, "peer identified as %s %.*s, expected %s",
		 ike_id_type_name(got->type) ? ike_id_type_name(got->type) : "?",
		 got->type == IKE_ID_IPV4_ADDR ? 0 : (int)(got->data.len > 64 ? 64 : got->data.len),
		 (const char *)got->data.p, buf);
	if (got->type == IKE_ID_IPV4_ADDR && got->data.len == 4) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, got->data.p, a, sizeof(a));
		snprintf(what, what_len, "peer identified as %s, expected %s", a, buf);
	}
	return false;
}

/* Our AUTH value: signer's SA_INIT message | other's nonce | prf(SK_p, ID). */
static int make_auth(struct ike_sa *sa, const struct id_buf *id, uint8_t *out, size_t *len)
{
	bool i = sa->initiator;
	struct ike_auth_octets o = {
		.msg = i ? sa->init_req : sa->init_resp,
		.msg_len = i ? sa->init_req_len : sa->init_resp_len,
		.nonce = i ? sa->nr : sa->ni, .nonce_len = i ? sa->nr_len : sa->ni_len,
		.sk_p = i ? &sa->keys.sk_pi : &sa->keys.sk_pr,
		.id = id->body, .id_len = id->body_len,
	};

	return ike_psk_auth(sa->algs.prf, &sa->tun->conf->psk, &o, out, len);
}

static int verify_auth(struct ike_sa *sa, const struct ike_msg *m, const struct ike_id *id)
{
	bool i = sa->initiator;	/* we verify the other side's */
	struct ike_auth_octets o = {
		.msg = i ? sa->init_resp : sa->init_req,
		.msg_len = i ? sa->init_resp_len : sa->init_req_len,
		.nonce = i ? sa->ni : sa->nr, .nonce_len = i ? sa->ni_len : sa->nr_len,
		.sk_p = i ? &sa->keys.sk_pr : &sa->keys.sk_pi,
		.id = id->body.p, .id_len = id->body.len,
	};

	if (m->auth.method != IKE_AUTH_SHARED_KEY_MIC)
		return -EPROTO;
	return ike_psk_auth_verify(sa->algs.prf, &sa->tun->conf->psk, &o, m->auth.data.p,
				   m->auth.data.len);
}

static void put_id_auth(struct ike_chain *ch, struct ike_sa *sa, uint8_t which)
{
	uint8_t auth[IKE_PRF_MAX];
	size_t auth_len = sizeof(auth);
	struct id_buf id;
	char buf[64];

	if (id_encode(local_id_str(sa, buf, sizeof(buf)), &id) < 0 ||
	    make_auth(sa, &id, auth, &auth_len) < 0) {
		wr_fail(ch->w);
		return;
	}
	ike_put_id(ch, which, id.type, (struct span){ id.body + 4, id.body_len - 4 });
	ike_put_auth(ch, IKE_AUTH_SHARED_KEY_MIC, (struct span){ auth, auth_len });
}

static void put_ts_list(struct ike_chain *ch, uint8_t which, const struct cgw_prefix *list,
			size_t n)
{
	struct ike_ts_entry e[IKE_MAX_TS];

	if (n > IKE_MAX_TS)
		n = IKE_MAX_TS;
	for (size_t i = 0; i < n; i++)
		ts_entry_from_prefix(&list[i], &e[i]);
	ike_put_ts(ch, which, e, n);
}

/* ---- initiator ---- */

int ike_auth_start(struct ike_sa *sa)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	struct cgw_proposals esp;
	uint8_t buf[4096];
	struct buf_writer w;
	struct ike_chain ch;
	uint32_t spi_be;
	int r;

	r = child_alloc_spi(sa, &sa->pending_spi);
	if (r < 0)
		return r;
	spi_be = htonl(sa->pending_spi);
	ike_esp_proposals(&t->esp, true, &esp);
	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	put_id_auth(&ch, sa, IKE_PL_IDI);
	/* Only true when we have no other SA with the peer (2.4). */
	if (!ike_tunnel_has_other_sa(sa))
		ike_put_notify(&ch, 0, (struct span){ 0 }, IKE_N_INITIAL_CONTACT,
			       (struct span){ 0 });
	ike_put_sa(&ch, &esp, IKE_PROTO_ESP, (struct span){ (uint8_t *)&spi_be, 4 });
	put_ts_list(&ch, IKE_PL_TSI, t->local_ts, t->n_local_ts);
	put_ts_list(&ch, IKE_PL_TSR, t->remote_ts, t->n_remote_ts);
	r = ike_send_request(sa, IKE_EXCH_IKE_AUTH, &ch);
	if (r < 0)
		return r;
	ike_sa_set_state(sa, IKE_SA_AUTH_SENT, "IKE_AUTH sent");
	return 0;
}

static void auth_response_child(struct ike_sa *sa, struct ike_msg *m)
{
	struct cgw_proposals esp;
	struct cgw_proposal chosen;
	struct cgw_prefix local, remote;
	const struct ike_notify *n = ike_msg_error_notify(m);
	struct span spi;

	if (ike_msg_count(m, IKE_PL_SA) == 0 || n) {
		ike_sa_fail(sa, "IKE SA up but no CHILD SA: peer answered %s",
			    n && ike_notify_name(n->type) ? ike_notify_name(n->type) : "without SA");
		return;
	}
	ike_esp_proposals(&sa->tun->conf->esp, true, &esp);
	if (ike_check_chosen(&esp, &m->sa, IKE_PROTO_ESP, SELECT_NO_DH, &chosen, &spi) < 0 ||
	    spi.len != 4) {
		ike_sa_fail(sa, "peer chose an ESP proposal we did not offer");
		return;
	}
	if (child_narrow_ts(sa->tun->conf, &m->tsi, &m->tsr, false, &local, &remote) < 0) {
		ike_sa_fail(sa, "peer's traffic selectors are outside ours");
		return;
	}
	uint32_t spi_out = (uint32_t)spi.p[0] << 24 | (uint32_t)spi.p[1] << 16 |
			   (uint32_t)spi.p[2] << 8 | spi.p[3];
	struct child_keying kx = { { sa->ni, sa->ni_len, sa->nr, sa->nr_len }, NULL, true };
	if (!child_install(sa, &chosen, sa->pending_spi, spi_out, &local, &remote, &kx, false)) {
		ike_sa_fail(sa, "cannot install the CHILD SA in the kernel");
		return;
	}
	ike_tunnel_dedupe(sa);
}

void ike_auth_response_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	const struct ike_notify *n;
	char why[200];

	ike_request_done(sa);
	if (ike_msg_count(m, IKE_PL_AUTH) == 0) {
		n = ike_msg_error_notify(m);
		ike_sa_fail(sa, "peer refused IKE_AUTH with %s%s",
			    n && ike_notify_name(n->type) ? ike_notify_name(n->type) : "an error",
			    n && n->type == IKE_N_AUTHENTICATION_FAILED ?
			    " (is the PSK the same on both ends?)" : "");
		return;
	}
	if (!peer_id_ok(sa, &m->idr, why, sizeof(why))) {
		ike_sa_fail(sa, "%s", why);
		return;
	}
	if (verify_auth(sa, m, &m->idr) < 0) {
		ike_sa_fail(sa, "peer's AUTH does not verify (is the PSK the same on both ends?)");
		return;
	}
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED, "IKE_AUTH done");
	auth_response_child(sa, m);
}

/* ---- responder ---- */

static void auth_refuse(struct ike_sa *sa, struct ike_msg *m, uint16_t notify,
			const char *why)
{
	uint8_t buf[256];
	struct buf_writer w;
	struct ike_chain ch;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_notify(&ch, 0, (struct span){ 0 }, notify, (struct span){ 0 });
	ike_send_response(sa, IKE_EXCH_IKE_AUTH, m->hdr.msgid, &ch);
	ike_sa_fail(sa, "%s: answered %s", why, ike_notify_name(notify));
}

/* INITIAL_CONTACT: the peer has no other SAs with us; drop our stale ones. */
static void initial_contact(struct ike_sa *sa)
{
	struct ike_sa *o = sa->ike->sas, *next;

	for (; o; o = next) {
		next = o->next;
		if (o != sa && o->tun == sa->tun && o->state == IKE_SA_ESTABLISHED) {
			ike_log_sa(o, "INITIAL_CONTACT from the peer: removing this stale SA");
			ike_sa_set_state(o, IKE_SA_DEAD, "INITIAL_CONTACT");
			ike_sa_destroy(o);
		}
	}
}

/* Pick the child's proposal and selectors; 0, or the notify to refuse with. */
static uint16_t auth_choose_child(struct ike_sa *sa, struct ike_msg *m,
				  struct cgw_proposal *chosen, uint8_t *num,
				  uint32_t *spi_out, struct cgw_prefix *local,
				  struct cgw_prefix *remote)
{
	struct cgw_proposals esp;
	struct span spi;

	ike_esp_proposals(&sa->tun->conf->esp, true, &esp);
	if (ike_select_proposal(&esp, &m->sa, IKE_PROTO_ESP, SELECT_NO_DH, chosen, num,
				&spi) < 0 || spi.len != 4) {
		char ours[256];
		log_warnx("%s: IKE_AUTH: no acceptable ESP proposal; we accept %s",
			  sa->tun->conf->name, proposal_str(&esp, PROPOSAL_ESP, ours, sizeof(ours)));
		return IKE_N_NO_PROPOSAL_CHOSEN;
	}
	*spi_out = (uint32_t)spi.p[0] << 24 | (uint32_t)spi.p[1] << 16 |
		   (uint32_t)spi.p[2] << 8 | spi.p[3];
	if (child_narrow_ts(sa->tun->conf, &m->tsi, &m->tsr, true, local, remote) < 0) {
		log_warnx("%s: IKE_AUTH: traffic selectors do not overlap ours: TS_UNACCEPTABLE",
			  sa->tun->conf->name);
		return IKE_N_TS_UNACCEPTABLE;
	}
	return 0;
}

static int auth_respond(struct ike_sa *sa, struct ike_msg *m, uint16_t refuse,
			const struct cgw_proposal *chosen, uint8_t num,
			const struct cgw_prefix *local, const struct cgw_prefix *remote)
{
	uint8_t buf[4096];
	struct buf_writer w;
	struct ike_chain ch;
	uint32_t spi_be = htonl(sa->pending_spi);

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	put_id_auth(&ch, sa, IKE_PL_IDR);
	if (refuse) {
		ike_put_notify(&ch, 0, (struct span){ 0 }, refuse, (struct span){ 0 });
	} else {
		ike_put_sa_chosen(&ch, chosen, num, IKE_PROTO_ESP,
				  (struct span){ (uint8_t *)&spi_be, 4 });
		put_ts_list(&ch, IKE_PL_TSI, remote, 1);
		put_ts_list(&ch, IKE_PL_TSR, local, 1);
	}
	return ike_send_response(sa, IKE_EXCH_IKE_AUTH, m->hdr.msgid, &ch);
}

void ike_auth_request_rcvd(struct ike_sa *sa, struct ike_msg *m)
{
	struct cgw_proposal chosen;
	struct cgw_prefix local, remote;
	uint32_t spi_out = 0;
	uint16_t refuse;
	uint8_t num = 0;
	char why[200];

	if (!peer_id_ok(sa, &m->idi, why, sizeof(why)))
		return auth_refuse(sa, m, IKE_N_AUTHENTICATION_FAILED, why);
	if (verify_auth(sa, m, &m->idi) < 0)
		return auth_refuse(sa, m, IKE_N_AUTHENTICATION_FAILED,
				   "peer's AUTH does not verify (is the PSK the same on both ends?)");
	if (ike_msg_notify(m, IKE_N_INITIAL_CONTACT))
		initial_contact(sa);
	refuse = auth_choose_child(sa, m, &chosen, &num, &spi_out, &local, &remote);
	if (!refuse && child_alloc_spi(sa, &sa->pending_spi) < 0)
		refuse = IKE_N_TEMPORARY_FAILURE;
	if (auth_respond(sa, m, refuse, &chosen, num, &local, &remote) < 0) {
		ike_sa_fail(sa, "cannot build the IKE_AUTH response");
		return;
	}
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED, "IKE_AUTH done");
	struct child_keying kx = { { sa->ni, sa->ni_len, sa->nr, sa->nr_len }, NULL, false };
	if (!refuse && !child_install(sa, &chosen, sa->pending_spi, spi_out, &local, &remote,
				      &kx, false))
		ike_log_sa(sa, "cannot install the CHILD SA in the kernel");
	else if (!refuse)
		ike_tunnel_dedupe(sa);
}
