/*
 * IKE messages in and out: building protected messages (header + SK),
 * message IDs (window of one each way), retransmitting our requests,
 * answering retransmitted requests from the cached response, and the
 * dispatch of every received datagram: structure, SA lookup, message ID,
 * integrity, then the exchange handlers.
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "common/log.h"

#define IKE_SK_HDR_LEN (IKE_HDR_LEN + IKE_PL_HDR_LEN)

void ike_send_raw(struct ike *ike, const struct ike_path *path, bool natt,
		  const uint8_t *buf, size_t len)
{
	int r = ike->ops.send(ike->arg, path, natt, buf, len);

	if (r < 0)
		log_debug(LOGC_IKE, "send to %s: %s", inet_ntoa(path->remote.sin_addr),
			  strerror(-r));
}

static void write_hdr(struct buf_writer *w, const struct ike_sa *sa, uint8_t next,
		      uint8_t exchange, bool response, uint32_t msgid, uint32_t length)
{
	uint8_t flags = (sa->initiator ? IKE_FLAG_I : 0) | (response ? IKE_FLAG_R : 0);

	wr_be64(w, sa->spi_i);
	wr_be64(w, sa->spi_r);
	wr_u8(w, next);
	wr_u8(w, IKE_VERSION);
	wr_u8(w, exchange);
	wr_u8(w, flags);
	wr_be32(w, msgid);
	wr_be32(w, length);
}

/*
 * Protect the inner chain into a new buffer: header, SK header, IV,
 * ciphertext, ICV. 0 or -errno; *out is malloc'd.
 */
static int build_protected(struct ike_sa *sa, uint8_t exchange, bool response,
			   uint32_t msgid, struct ike_chain *inner,
			   uint8_t **out, size_t *out_len)
{
	struct span plain = wr_result(inner->w);
	size_t iv = ike_sk_iv_len(&sa->sk_out);
	size_t total = IKE_SK_HDR_LEN + plain.len + ike_sk_overhead(&sa->sk_out, plain.len);
	struct buf_writer w;
	uint8_t *buf;
	int r;

	if (wr_failed(inner->w) || total > IKE_MSG_MAX)
		return -EMSGSIZE;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	wr_init(&w, buf, total);
	write_hdr(&w, sa, IKE_PL_SK, exchange, response, msgid, (uint32_t)total);
	wr_u8(&w, inner->first ? inner->first : IKE_PL_NONE);
	wr_u8(&w, 0);
	wr_be16(&w, (uint16_t)(total - IKE_HDR_LEN));
	memcpy(buf + IKE_SK_HDR_LEN + iv, plain.p, plain.len);
	r = ike_sk_encrypt(&sa->sk_out, buf, IKE_SK_HDR_LEN, buf + IKE_SK_HDR_LEN + iv,
			   plain.len, total, out_len);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

static int request_store(struct ike_sa *sa, uint8_t exchange, uint8_t *buf, size_t len)
{
	free(sa->req.buf);
	sa->req.buf = buf;
	sa->req.len = len;
	sa->req.exchange = exchange;
	sa->req.msgid = sa->next_msgid;
	sa->req.tries = 0;
	sa->req.active = true;
	ike_send_raw(sa->ike, &sa->path, sa->natt, buf, len);
	ike_timers_request_sent(sa);
	return 0;
}

/* Send a protected request with the next message ID and retransmit it. */
int ike_send_request(struct ike_sa *sa, uint8_t exchange, struct ike_chain *inner)
{
	uint8_t *buf;
	size_t len;
	int r;

	if (sa->req.active)
		return -EBUSY;		/* window of one */
	r = build_protected(sa, exchange, false, sa->next_msgid, inner, &buf, &len);
	if (r < 0)
		return r;
	log_debug(LOGC_IKE_PACKETS, "%s: sending %s request #%u (%zu bytes)",
		  sa->tun->conf->name, ike_exchange_name(exchange), sa->next_msgid, len);
	return request_store(sa, exchange, buf, len);
}

/* IKE_SA_INIT requests are not protected: the caller built the bytes. */
int ike_send_init_request(struct ike_sa *sa, const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	sa->req.active = false;
	sa->next_msgid = 0;
	return request_store(sa, IKE_EXCH_IKE_SA_INIT, copy, len);
}

/* Our request was answered: stop retransmitting, move the window. */
void ike_request_done(struct ike_sa *sa)
{
	/* Any answer proves the peer alive. */
	sa->dpd_outstanding = false;
	sa->fast_probe = false;
	sa->req.active = false;
	sa->next_msgid++;
	ike_timers_request_answered(sa);
}

/* After a response was handled: what waited for the window goes now. */
static void request_window_free(struct ike_sa *sa)
{
	if (!sa->req.active && sa->state == IKE_SA_ESTABLISHED)
		child_send_queued_deletes(sa);
	if (!sa->req.active && sa->want_child)
		child_ensure(sa);
}

int ike_send_response(struct ike_sa *sa, uint8_t exchange, uint32_t msgid,
		      struct ike_chain *inner)
{
	uint8_t *buf;
	size_t len;
	int r = build_protected(sa, exchange, true, msgid, inner, &buf, &len);

	if (r < 0)
		return r;
	free(sa->last_resp);
	sa->last_resp = buf;
	sa->last_resp_len = len;
	sa->last_resp_msgid = msgid;
	sa->peer_msgid = msgid + 1;
	ike_send_raw(sa->ike, &sa->path, sa->natt, buf, len);
	return 0;
}

/* An unprotected error notify answering an IKE_SA_INIT request (2.21.1). */
void ike_send_error_unprotected(struct ike *ike, const struct ike_path *path, bool natt,
				const struct ike_hdr *req, uint16_t notify,
				const uint8_t *data, size_t data_len)
{
	uint8_t buf[128];
	struct buf_writer w;
	struct ike_msg_builder b;
	struct ike_hdr h = {
		.spi_i = req->spi_i, .spi_r = 0, .version = IKE_VERSION,
		.exchange = req->exchange, .flags = IKE_FLAG_R, .msgid = req->msgid,
	};

	wr_init(&w, buf, sizeof(buf));
	ike_build_begin(&b, &w, &h);
	ike_put_notify(&b.ch, 0, (struct span){ 0 }, notify,
		       (struct span){ .p = data, .len = data_len });
	if (ike_build_end(&b) == 0)
		ike_send_raw(ike, path, natt, buf, wr_len(&w));
}

/* ---- receiving ---- */

static void answer_error(struct ike_sa *sa, const struct ike_msg *m,
			 const struct ike_result *res)
{
	uint8_t buf[128];
	struct buf_writer w;
	struct ike_chain ch;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_notify(&ch, 0, (struct span){ 0 }, res->notify,
		       (struct span){ res->notify_data, res->notify_data_len });
	ike_send_response(sa, m->hdr.exchange, m->hdr.msgid, &ch);
}

/*
 * Check and open the SK payload of a copy of the message: 0 and the
 * plaintext's place, or why not, logged. Anyone can put our SPIs and a
 * message ID on a datagram: nothing may answer before this passes.
 */
static int sk_open(struct ike_sa *sa, const struct ike_msg *m, uint8_t *copy,
		   size_t len, size_t *off, size_t *plen)
{
	const char *name = sa->tun->conf->name, *exch = ike_exchange_name(m->hdr.exchange);
	int r = ike_sk_open(&sa->sk_in, copy, len, m->sk.aad.len, off, plen);

	switch (r) {
	case 0:
		break;
	case -EMSGSIZE:
		log_debug(LOGC_IKE, "%s: %s #%u: SK payload of %zu bytes is too short "
			  "for IV, pad length and ICV, or not whole blocks: dropped",
			  name, exch, m->hdr.msgid, m->sk.body.len);
		break;
	case -EPROTO:
		/* Authentic: the peer's own bug, worth a line. */
		log_warnx("%s: %s #%u: padding length %u exceeds the %zu decrypted bytes",
			  name, exch, m->hdr.msgid, copy[*off + *plen - 1], *plen);
		break;
	default:
		/* Counted (status: integrity_failures); remote peers can
		 * trigger this at will: debug level only. */
		sa->tun->bad_icv++;
		log_debug(LOGC_IKE, "%s: %s #%u: integrity check failed: dropped",
			  name, exch, m->hdr.msgid);
		break;
	}
	return r;
}

static bool decrypt_inner(struct ike_sa *sa, struct ike_msg *m, uint8_t *copy,
			  size_t len, struct ike_result *res)
{
	size_t off, plen;
	int r = sk_open(sa, m, copy, len, &off, &plen);

	if (r == -EPROTO && !(m->hdr.flags & IKE_FLAG_R)) {
		/* Authenticated, malformed: INVALID_SYNTAX (3.10.1). */
		res->notify = IKE_N_INVALID_SYNTAX;
		answer_error(sa, m, res);
	}
	if (r < 0)
		return false;
	if (ike_msg_parse_inner(m, copy + off, plen, res) < 0 ||
	    ike_msg_check_rules(m, res) < 0) {
		log_warnx("%s: %s #%u: %s", sa->tun->conf->name,
			  ike_exchange_name(m->hdr.exchange), m->hdr.msgid, res->reason);
		/* Authentic but malformed request: the protocol's answer is an
		 * error notify (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD),
		 * protected, in the request's exchange (RFC 7296 2.21.2). */
		if (!(m->hdr.flags & IKE_FLAG_R) && res->notify)
			answer_error(sa, m, res);
		return false;
	}
	return true;
}

static void refuse_request(struct ike_sa *sa, const struct ike_msg *m, uint16_t notify)
{
	uint8_t buf[256];
	struct buf_writer w;
	struct ike_chain ch;

	wr_init(&w, buf, sizeof(buf));
	ike_chain_init(&ch, &w);
	ike_put_notify(&ch, 0, (struct span){ 0 }, notify, (struct span){ 0 });
	ike_send_response(sa, m->hdr.exchange, m->hdr.msgid, &ch);
	log_warnx("%s: %s request refused (%s) in state %s", sa->tun->conf->name,
		  ike_exchange_name(m->hdr.exchange), ike_notify_name(notify),
		  ike_sa_state_name(sa->state));
}

static void dispatch_request(struct ike_sa *sa, struct ike_msg *m)
{
	switch (m->hdr.exchange) {
	case IKE_EXCH_IKE_AUTH:
		if (sa->state == IKE_SA_INIT_DONE && !sa->initiator)
			ike_auth_request_rcvd(sa, m);
		break;
	case IKE_EXCH_INFORMATIONAL:
		ike_info_request_rcvd(sa, m);
		break;
	case IKE_EXCH_CREATE_CHILD_SA:
		if (sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_REKEYING) {
			if (m->sa.n_prop && m->sa.prop[0].protocol == IKE_PROTO_IKE)
				ike_rekey_request_rcvd(sa, m);
			else
				child_rekey_request_rcvd(sa, m);
		} else if (sa->state == IKE_SA_REKEYED || sa->state == IKE_SA_DELETING) {
			/* An IKE SA we are closing (2.25.1, 2.25.2). */
			refuse_request(sa, m, IKE_N_TEMPORARY_FAILURE);
		} else {
			refuse_request(sa, m, IKE_N_NO_ADDITIONAL_SAS);
		}
		break;
	default:
		refuse_request(sa, m, IKE_N_NO_ADDITIONAL_SAS);
		break;
	}
}

static void dispatch_response(struct ike_sa *sa, struct ike_msg *m)
{
	if (!sa->req.active || m->hdr.msgid != sa->req.msgid ||
	    m->hdr.exchange != sa->req.exchange) {
		log_debug(LOGC_IKE, "%s: unexpected response #%u: dropped",
			  sa->tun->conf->name, m->hdr.msgid);
		return;
	}
	switch (m->hdr.exchange) {
	case IKE_EXCH_IKE_AUTH:
		if (sa->state == IKE_SA_AUTH_SENT)
			ike_auth_response_rcvd(sa, m);
		break;
	case IKE_EXCH_INFORMATIONAL:
		ike_info_response_rcvd(sa, m);
		break;
	case IKE_EXCH_CREATE_CHILD_SA:
		if (sa->ike_rekey.active)
			ike_rekey_response_rcvd(sa, m);
		else
			child_rekey_response_rcvd(sa, m);
		break;
	default:
		ike_request_done(sa);
		break;
	}
}

/* A protected message for an existing SA. */
static void input_protected(struct ike_sa *sa, struct ike_msg *m, const uint8_t *buf,
			    size_t len, const struct ike_path *path, bool natt)
{
	bool response = m->hdr.flags & IKE_FLAG_R;
	struct ike_result res = { 0 };
	uint8_t *copy;

	bool again = !response && m->hdr.msgid + 1 == sa->peer_msgid && sa->last_resp;
	size_t off, plen;

	if (!response && !again && m->hdr.msgid != sa->peer_msgid) {
		log_debug(LOGC_IKE, "%s: request #%u outside the window (expect #%u): dropped",
			  sa->tun->conf->name, m->hdr.msgid, sa->peer_msgid);
		return;
	}
	copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, buf, len);
	if (again) {
		/* Retransmitted request: the same response again, but only for
		 * an authentic one (a forged copy must not make us send). */
		if (sk_open(sa, m, copy, len, &off, &plen) == 0) {
			log_debug(LOGC_IKE, "%s: request #%u again: response resent",
				  sa->tun->conf->name, m->hdr.msgid);
			ike_send_raw(sa->ike, &sa->path, sa->natt, sa->last_resp,
				     sa->last_resp_len);
		}
	} else if (decrypt_inner(sa, m, copy, len, &res)) {
		sa->last_rx = ev_now(sa->ike->loop);
		if (natt && !sa->natt) {
			sa->natt = true;	/* the peer moved to 4500 */
			sa->path = *path;
		}
		ike_timers_msg_rcvd(sa);
		if (response) {
			struct ike *ike = sa->ike;
			uint64_t spi_i = sa->spi_i, spi_r = sa->spi_r;
			dispatch_response(sa, m);
			/* The handler may have freed sa: look it up again. */
			if ((sa = ike_sa_find(ike, spi_i, spi_r)))
				request_window_free(sa);
		} else {
			dispatch_request(sa, m);
		}
	}
	sodium_memzero(copy, len);
	free(copy);
}

static void input_sa_init(struct ike *ike, const struct ike_path *path, bool natt,
			  struct ike_msg *m)
{
	bool response = m->hdr.flags & IKE_FLAG_R;
	struct ike_sa *sa;

	if (!response) {
		struct ike_tunnel *tun = ike_tunnel_by_remote(ike, &path->remote);

		if (!tun) {
			log_debug(LOGC_IKE, "IKE_SA_INIT from %s: no tunnel to that peer: "
				  "dropped", inet_ntoa(path->remote.sin_addr));
			return;
		}
		sa = ike_sa_find_half(ike, m->hdr.spi_i, &path->remote);
		if (sa && sa->init_resp) {
			ike_send_raw(ike, &sa->path, sa->natt, sa->init_resp, sa->init_resp_len);
			return;
		}
		ike_init_request_rcvd(ike, path, natt, m, tun);
		return;
	}
	for (sa = ike->sas; sa; sa = sa->next)
		if (sa->initiator && sa->spi_i == m->hdr.spi_i && sa->state == IKE_SA_INIT_SENT)
			break;
	if (!sa) {
		log_debug(LOGC_IKE, "IKE_SA_INIT response for unknown SPI %016llx: dropped",
			  (unsigned long long)m->hdr.spi_i);
		return;
	}
	ike_init_response_rcvd(sa, m);
}

static void log_bad(const struct ike_path *path, const struct ike_result *res)
{
	/* Remote peers can trigger this at will: debug level only. */
	log_debug(LOGC_IKE, "from %s:%u: %s (%s)", inet_ntoa(path->remote.sin_addr),
		  ntohs(path->remote.sin_port), res->reason, ike_perr_name(res->code));
}

void ike_input(struct ike *ike, const struct ike_path *path, bool natt,
	       const uint8_t *buf, size_t len)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_result res = { 0 };
	struct ike_sa *sa;

	if (!m)
		return;
	if (ike_msg_parse(buf, len, m, &res) < 0 || ike_msg_check_rules(m, &res) < 0) {
		log_bad(path, &res);
		if (res.code != IKE_PERR_DROP && !(m->hdr.flags & IKE_FLAG_R) &&
		    m->hdr.exchange == IKE_EXCH_IKE_SA_INIT && res.notify)
			ike_send_error_unprotected(ike, path, natt, &m->hdr, res.notify,
						   res.notify_data, res.notify_data_len);
		goto out;
	}
	log_debug(LOGC_IKE_PACKETS, "from %s: %s #%u %s", inet_ntoa(path->remote.sin_addr),
		  ike_exchange_name(m->hdr.exchange), m->hdr.msgid,
		  m->hdr.flags & IKE_FLAG_R ? "response" : "request");
	if (m->hdr.exchange == IKE_EXCH_IKE_SA_INIT) {
		input_sa_init(ike, path, natt, m);
		goto out;
	}
	sa = ike_sa_find(ike, m->hdr.spi_i, m->hdr.spi_r);
	/* No INVALID_IKE_SPI answer: RFC 7296 2.21.4 allows one but does
	 * not ask for it, and an unprotected answer to anyone's datagram is
	 * a reflector. A peer that lost its SA finds out by its own DPD. */
	if (!sa || sa->state == IKE_SA_IDLE || sa->state == IKE_SA_INIT_SENT) {
		log_debug(LOGC_IKE, "%s #%u for unknown IKE SA %016llx/%016llx: dropped",
			  ike_exchange_name(m->hdr.exchange), m->hdr.msgid,
			  (unsigned long long)m->hdr.spi_i, (unsigned long long)m->hdr.spi_r);
		goto out;
	}
	input_protected(sa, m, buf, len, path, natt);
out:
	free(m);
}
