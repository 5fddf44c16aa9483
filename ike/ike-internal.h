/*
 * The IKE engine's objects, shared by the ike/ files only.
 *
 * IKE SA states (one transition table, sa.c; nothing else assigns):
 *
 *   initiator:  IDLE ─► INIT_SENT ─► AUTH_SENT ─► ESTABLISHED
 *   responder:  IDLE ─► INIT_DONE ─────────────► ESTABLISHED
 *   either:     ESTABLISHED ─► REKEYING ─► ESTABLISHED   (our IKE rekey refused)
 *               ESTABLISHED, REKEYING ─► REKEYED (replaced, waits for its delete)
 *               any ─► DELETING ─► DEAD;  any ─► DEAD (failure, peer delete)
 *   made by an IKE rekey (keyed, no exchange of its own yet):
 *               IDLE ─► ESTABLISHED (it replaces the old SA)
 *               IDLE ─► REKEYED     (redundant after a collision: the peer deletes it)
 *               IDLE ─► DELETING    (redundant after a collision: we delete it)
 *
 * CHILD SA states:
 *   CREATING ─► INSTALLED ─► REKEYING ─► INSTALLED (make-before-break)
 *   INSTALLED, REKEYING ─► REKEYED (replaced) ─► DELETING ─► DEAD;  any ─► DEAD
 *
 * Collisions (RFC 7296 2.8.1, 2.8.2, 2.25) in one place:
 *   both rekey one CHILD SA  both answer; the pair made with the lowest of
 *                            the four nonces is deleted by its initiator
 *   both rekey the IKE SA    both answer; the new IKE SA with the lowest
 *                            nonce is deleted by its initiator, the other
 *                            inherits every CHILD SA, its initiator deletes
 *                            the old one
 *   CHILD rekey vs IKE rekey TEMPORARY_FAILURE both ways, retried with backoff
 *   rekey vs DELETE          TEMPORARY_FAILURE for an SA we are deleting;
 *                            a DELETE is always answered, our rekey of the
 *                            deleted SA is forgotten
 *   rekey of an unknown SA   CHILD_SA_NOT_FOUND; the rekeying end drops its
 *                            copy and creates a new CHILD SA
 */
#ifndef CGW_IKE_INTERNAL_H
#define CGW_IKE_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "ike/crypto.h"
#include "ike/dh.h"
#include "ike/ike.h"
#include "ike/payload.h"

#define IKE_SA_STATES(X) \
	X(IDLE, "IDLE") \
	X(INIT_SENT, "INIT_SENT") \
	X(AUTH_SENT, "AUTH_SENT") \
	X(INIT_DONE, "INIT_DONE") \
	X(ESTABLISHED, "ESTABLISHED") \
	X(REKEYING, "REKEYING") \
	X(REKEYED, "REKEYED") \
	X(DELETING, "DELETING") \
	X(DEAD, "DEAD")

enum ike_sa_state {
#define X(id, name) IKE_SA_##id,
	IKE_SA_STATES(X)
#undef X
	IKE_SA_STATE_COUNT
};

#define CHILD_SA_STATES(X) \
	X(CREATING, "CREATING") \
	X(INSTALLED, "INSTALLED") \
	X(REKEYING, "REKEYING") \
	X(REKEYED, "REKEYED") \
	X(DELETING, "DELETING") \
	X(DEAD, "DEAD")

enum child_sa_state {
#define X(id, name) CHILD_SA_##id,
	CHILD_SA_STATES(X)
#undef X
	CHILD_SA_STATE_COUNT
};

#define IKE_MSG_MAX 65535
#define IKE_NONCE_LEN 32
#define IKE_RETRANSMIT_TRIES 5		/* 1, 2, 4, 8, 16 s: gone after ~31 s */
#define IKE_HALF_OPEN_TIMEOUT 30.0	/* responder: SA_INIT answered, no AUTH */
#define IKE_BACKOFF_MIN 1.0		/* re-initiation: 1 s doubling ... */
#define IKE_BACKOFF_MAX 30.0		/* ... up to 30 s, forever */
#define IKE_NATT_KEEPALIVE 20.0
#define IKE_COOKIE_LEN 33		/* version byte + SHA-256 */
#define IKE_HALF_OPEN_COOKIES 8		/* half-open SAs before cookies are asked */
#define IKE_UNAUTH_LOG_INTERVAL 10.0	/* a tunnel's lines unauthenticated input
					   triggers: one per this many s */

struct ike_tunnel;
struct ike_sa;

/* Keying input of one CHILD SA: the nonces of the exchange that made it,
 * the new DH secret with PFS, and who initiated that exchange. */
struct child_keying {
	struct ike_nonces nonces;
	const struct cgw_secret *gir;	/* NULL without PFS */
	bool we_initiated;
};

/* Our CREATE_CHILD_SA in flight (one at a time: window of one): a rekey
 * of old, or a new CHILD SA (create) when the IKE SA has none left. */
struct rekey_pending {
	struct child_sa *old;		/* NULL once the peer deleted it meanwhile */
	uint32_t old_spi;		/* old's inbound SPI, names it after that */
	struct cgw_prefix ts_local, ts_remote;
	unsigned rekeys;		/* old's count + 1, for the new SA */
	bool create;
	uint32_t spi_in;		/* allocated for the new SA */
	uint8_t ni[IKE_NONCE_LEN];
	struct ike_dh *dh;		/* PFS */
	bool active;
};

/* Our IKE SA rekey in flight. */
struct ike_rekey_pending {
	uint64_t spi;			/* our SPI in the new IKE SA */
	uint8_t ni[IKE_NONCE_LEN];
	struct ike_dh *dh;
	bool active;
};

/* A request we sent and retransmit until answered. */
struct ike_request {
	uint8_t *buf;
	size_t len;
	uint32_t msgid;
	uint8_t exchange;
	int tries;
	double first_sent;		/* ev_now() of the first transmission */
	ev_timer timer;
	bool active;
};

struct child_sa {
	struct child_sa *next;
	struct ike_sa *ike;
	enum child_sa_state state;
	uint32_t spi_in, spi_out;	/* host order */
	struct cgw_proposal chosen;	/* for rekeying with the same suite */
	struct ike_algs algs;		/* ESP: encr, keylen, integ */
	bool esn;
	bool installed;			/* inbound kernel state exists */
	bool out_installed;		/* outbound kernel state exists */
	struct cgw_secret out_encr, out_integ;	/* outbound keys not yet installed */
	ev_timer rekey_timer;
	ev_timer out_timer;		/* deferred outbound: install at the latest then */
	unsigned rekeys;
	bool delete_queued;		/* DELETE to send once the window is free */
	bool delete_sent;		/* DELETE in flight: gone when answered */
	unsigned refusals;		/* our rekeys of it refused in a row */
	/* Made by the peer's rekey of a child we were rekeying too (2.8.1):
	 * the lower nonce of that exchange, to find the redundant pair. */
	uint32_t collided_spi;		/* inbound SPI of the old child both rekeyed */
	uint8_t min_nonce[IKE_NONCE_MAX];
	size_t min_nonce_len;
	double established;		/* ev_time() when installed */
	struct cgw_prefix ts_local, ts_remote;
};

struct ike_sa {
	struct ike_sa *next;
	struct ike_tunnel *tun;
	struct ike *ike;
	enum ike_sa_state state;
	bool initiator;			/* original initiator of this IKE SA */
	uint64_t spi_i, spi_r;		/* host order */
	struct ike_path path;
	bool natt;			/* talking on 4500 */
	bool nat_local, nat_remote;	/* NAT in front of us / the peer */

	struct cgw_proposal chosen;	/* one alg per type */
	struct ike_algs algs;
	uint16_t dh_group;
	struct ike_dh *dh;
	uint8_t ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t ni_len, nr_len;
	uint8_t *init_req, *init_resp;	/* IKE_SA_INIT messages, for AUTH */
	size_t init_req_len, init_resp_len;
	uint8_t cookie[64];
	size_t cookie_len;
	bool ke_retried;
	struct ike_sa_keys keys;
	struct ike_sk sk_out, sk_in;	/* our sending / receiving direction */

	uint32_t next_msgid;		/* our next request */
	uint32_t peer_msgid;		/* next request expected from the peer */
	uint8_t *last_resp;		/* our last response, for retransmits */
	size_t last_resp_len;
	uint32_t last_resp_msgid;
	struct ike_request req;

	struct child_sa *children;
	uint32_t pending_spi;		/* inbound SPI allocated for IKE_AUTH */
	struct rekey_pending rekey;
	struct ike_rekey_pending ike_rekey;
	unsigned ike_rekey_refusals;	/* our IKE rekeys refused in a row */
	/* The peer's rekey of this IKE SA answered while ours was in flight
	 * (2.8.2): its new SA waits (IDLE) until we know which one survives. */
	uint64_t coll_spi_i, coll_spi_r;
	bool want_child;		/* create a CHILD SA once the window is free */
	unsigned create_refusals;	/* new CHILD SA refused (TEMPORARY_FAILURE) */
	ev_timer create_timer;
	uint64_t dpd_in;		/* inbound packets on the CHILD SAs at the last look */
	ev_timer ike_rekey_timer;
	ev_timer gc_timer;		/* a replaced SA the peer never deletes */
	double established;
	double last_rx;			/* ev_now() of the last valid message */
	ev_timer dpd_timer;
	ev_timer half_open_timer;
	ev_timer keepalive_timer;	/* NAT-T keepalives when behind a NAT */
	bool counted_half_open;
	bool dpd_outstanding;
	bool fast_probe;		/* liveness check after one-way traffic */
	ev_timer probe_timer;		/* liveness-probe: watch the counters */
	uint64_t probe_in, probe_out;	/* packets at the last look */
	unsigned probe_backoff;		/* answered probes while traffic stays one-way */
	unsigned probe_wait;		/* looks to skip before the next probe */
	bool probe_healed;		/* CHILD SA rekeyed in this one-way spell */
	char why[128];			/* why it failed, for status */
};

struct ike_tunnel {
	struct ike_tunnel *next;
	struct ike *ike;
	const struct cgw_tunnel_conf *conf;
	const struct cgw_gateway_conf *gw;
	unsigned index;
	uint32_t reqid;
	bool up;			/* reported to the daemon as up */
	double backoff;			/* next re-initiation delay */
	ev_timer reinit_timer;
	unsigned attempts;
	bool admin_down;		/* cgwctl tunnel down: stay down */
	bool restarting;		/* dpd-action restart: re-initiate until up */
	bool hold;			/* dpd-action hold: wait for traffic (ACQUIRE) */
	uint64_t child_rekeys, ike_rekeys, dead_peers;	/* for status and metrics */
	uint64_t bad_icv;		/* protected messages that failed the ICV */
	double unauth_log_next;		/* ike_tunnel_log_ok(): quiet until then */
	unsigned unauth_log_held;	/* lines held back meanwhile */
	uint64_t cookies_sent;		/* SA_INITs from its address answered with a
					   COOKIE (2.6): a flood's mark, for status */
	char last_error[160];
};

struct ike {
	struct ev_loop *loop;
	struct xfrm *xfrm;
	struct ike_ops ops;
	void *arg;
	struct ike_tunnel *tunnels;
	struct ike_sa *sas;
	uint8_t cookie_secret[32];	/* random per process (2.6) */
	unsigned half_open;		/* responder SAs in INIT_DONE */
	uint8_t test_nonce[8];		/* tests: first bytes of the next nonces */
	unsigned n_test_nonce;
};

/* ike.c */
/* A fresh nonce (2.10): random, unless a test queued its first byte. */
void ike_nonce_new(struct ike *ike, uint8_t *buf, size_t len);
/* Tests only: the next nonce this engine makes starts with first (the
 * rest stays random), so rekey collisions are decided as a test wants.
 * Up to 8 queued; -ENOSPC beyond. Not part of the public API (ike.h). */
int ike_test_next_nonce(struct ike *ike, uint8_t first);

/* sa.c */
const char *ike_sa_state_name(enum ike_sa_state s);
const char *child_sa_state_name(enum child_sa_state s);
bool ike_sa_transition_ok(enum ike_sa_state from, enum ike_sa_state to);
bool child_sa_transition_ok(enum child_sa_state from, enum child_sa_state to);
void ike_sa_set_state(struct ike_sa *sa, enum ike_sa_state to, const char *why);
void child_sa_set_state(struct child_sa *c, enum child_sa_state to, const char *why);
struct ike_sa *ike_sa_new(struct ike_tunnel *tun, bool initiator);
struct ike_sa *ike_sa_find(struct ike *ike, uint64_t spi_i, uint64_t spi_r);
struct ike_sa *ike_sa_find_half(struct ike *ike, uint64_t spi_i,
				const struct sockaddr_in *remote);
void ike_sa_fail(struct ike_sa *sa, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ike_sa_destroy(struct ike_sa *sa);
struct ike_tunnel *ike_tunnel_by_remote(struct ike *ike, const struct sockaddr_in *remote);
/*
 * May a line that unauthenticated input triggers for tun be logged now?
 * (Anyone can send IKE_SA_INIT with the peer's address.) One per
 * IKE_UNAUTH_LOG_INTERVAL; *held gets the lines held back before it.
 */
bool ike_tunnel_log_ok(struct ike_tunnel *tun, unsigned *held);
void ike_tunnel_child_changed(struct ike_tunnel *tun);
void ike_tunnel_schedule_reinit(struct ike_tunnel *tun);
int ike_tunnel_initiate(struct ike_tunnel *tun);
int ike_tunnel_local(struct ike_tunnel *tun, struct sockaddr_in *local);
bool ike_tunnel_has_other_sa(const struct ike_sa *sa);
void ike_tunnel_dedupe(struct ike_sa *sa);
void ike_log_sa(const struct ike_sa *sa, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* msg.c */
int ike_send_request(struct ike_sa *sa, uint8_t exchange, struct ike_chain *inner);
int ike_send_init_request(struct ike_sa *sa, const uint8_t *buf, size_t len);
int ike_send_response(struct ike_sa *sa, uint8_t exchange, uint32_t msgid,
		      struct ike_chain *inner);
void ike_send_raw(struct ike *ike, const struct ike_path *path, bool natt,
		  const uint8_t *buf, size_t len);
void ike_request_done(struct ike_sa *sa);
void ike_send_error_unprotected(struct ike *ike, const struct ike_path *path, bool natt,
				const struct ike_hdr *req, uint16_t notify,
				const uint8_t *data, size_t data_len);

/* init.c */
int ike_init_start(struct ike_sa *sa);
void ike_init_request_rcvd(struct ike *ike, const struct ike_path *path, bool natt,
			   struct ike_msg *m, struct ike_tunnel *tun);
void ike_init_response_rcvd(struct ike_sa *sa, struct ike_msg *m);
/* crypto-misc.c */
void ike_natd_hash(uint64_t spi_i, uint64_t spi_r, const struct sockaddr_in *a,
		   uint8_t out[20]);
size_t ike_cookie_compute(const uint8_t secret[32], uint8_t version,
			  const uint8_t *ni, size_t ni_len, const struct sockaddr_in *ipi,
			  uint64_t spi_i, uint8_t out[IKE_COOKIE_LEN]);

/* auth.c */
int ike_auth_start(struct ike_sa *sa);
void ike_auth_request_rcvd(struct ike_sa *sa, struct ike_msg *m);
void ike_auth_response_rcvd(struct ike_sa *sa, struct ike_msg *m);

/* child.c */
int child_narrow_ts(const struct cgw_tunnel_conf *t, const struct ike_ts *tsi,
		    const struct ike_ts *tsr, bool we_are_responder,
		    struct cgw_prefix *local, struct cgw_prefix *remote);
struct child_sa *child_install(struct ike_sa *sa, const struct cgw_proposal *esp,
			       uint32_t spi_in, uint32_t spi_out,
			       const struct cgw_prefix *ts_local,
			       const struct cgw_prefix *ts_remote,
			       const struct child_keying *kx, bool defer_out);
int child_install_outbound(struct child_sa *c);
void child_unlink(struct child_sa *c);
int child_packets(struct child_sa *c, uint64_t *in, uint64_t *out);
struct child_sa *child_by_spi_out(struct ike_sa *sa, uint32_t spi);
struct child_sa *child_by_spi_in(struct ike_sa *sa, uint32_t spi);

/* rekey.c */
int ike_nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
int child_rekey_start(struct child_sa *old);
int child_create_start(struct ike_sa *sa);
void child_ensure(struct ike_sa *sa);
bool child_delete_in_flight(const struct ike_sa *sa);
void child_rekey_request_rcvd(struct ike_sa *sa, struct ike_msg *m);
void child_rekey_response_rcvd(struct ike_sa *sa, struct ike_msg *m);
void child_rekey_abort(struct ike_sa *sa);
int child_send_delete(struct child_sa *c);
void child_send_queued_deletes(struct ike_sa *sa);
void child_deferred_out(struct ike_sa *sa);
void child_uninstall(struct child_sa *c);
void child_destroy(struct child_sa *c);
int child_alloc_spi(struct ike_sa *sa, uint32_t *spi);
void child_release_spi(struct ike_sa *sa, uint32_t spi);
void ts_entry_from_prefix(const struct cgw_prefix *p, struct ike_ts_entry *e);

/* select.c */
#define SELECT_NO_DH 1			/* IKE_AUTH child SA: no KE, ignore DH */
int ike_select_proposal(const struct cgw_proposals *ours, const struct ike_sa_pl *theirs,
			uint8_t protocol, unsigned flags, struct cgw_proposal *chosen,
			uint8_t *num, struct span *spi);
int ike_check_chosen(const struct cgw_proposals *ours, const struct ike_sa_pl *theirs,
		     uint8_t protocol, unsigned flags, struct cgw_proposal *chosen,
		     struct span *spi);
/* Our ESP proposals as sent: ESN made explicit, DH dropped for IKE_AUTH. */
void ike_esp_proposals(const struct cgw_proposals *in, bool no_dh,
		       struct cgw_proposals *out);
void ike_algs_from(const struct cgw_proposal *p, struct ike_algs *a);

/* rekey-ike.c */
int ike_rekey_start(struct ike_sa *sa);
void ike_rekey_abort(struct ike_sa *sa);
void ike_rekey_peer_deletes(struct ike_sa *sa);
struct ike_sa *ike_rekey_collision_sa(const struct ike_sa *sa);
void ike_rekey_request_rcvd(struct ike_sa *sa, struct ike_msg *m);
void ike_rekey_response_rcvd(struct ike_sa *sa, struct ike_msg *m);

/* info.c */
void ike_info_request_rcvd(struct ike_sa *sa, struct ike_msg *m);
void ike_info_response_rcvd(struct ike_sa *sa, struct ike_msg *m);
int ike_send_delete_ike(struct ike_sa *sa);
void ike_dpd_start(struct ike_sa *sa, bool fast);
void ike_sa_dead(struct ike_sa *sa, const char *why);

/* timers.c */
void ike_timers_request_sent(struct ike_sa *sa);
void ike_timers_request_answered(struct ike_sa *sa);
void ike_timers_hurry_request(struct ike_sa *sa);
void ike_timers_half_open(struct ike_sa *sa);
void ike_timers_established(struct ike_sa *sa);
void ike_timers_msg_rcvd(struct ike_sa *sa);
void ike_timers_stop(struct ike_sa *sa);
void ike_timers_reinit(struct ike_tunnel *tun, double delay);
void ike_timers_child_installed(struct child_sa *c);
void ike_timers_child_stop(struct child_sa *c);
void ike_timers_out_deferred(struct child_sa *c);
void ike_timers_ike_rekeyed(struct ike_sa *old);
void ike_timers_ike_rekey_retry(struct ike_sa *sa);
void ike_timers_child_rekey_retry(struct child_sa *c);
void ike_timers_child_create_retry(struct ike_sa *sa);
void ike_timers_tunnel_stop(struct ike_tunnel *tun);

#endif
