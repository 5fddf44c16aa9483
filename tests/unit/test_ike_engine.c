/*
 * Two IKE engines talking to each other in one process, over a queue
 * instead of sockets, with the recording XFRM fake instead of the kernel:
 * both roles through IKE_SA_INIT and IKE_AUTH, the kernel calls they make,
 * and the failure paths (wrong PSK, no common proposal, INVALID_KE_PAYLOAD
 * retry, NAT detection, DELETE). Also the state tables and proposal
 * selection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <ev.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "common/log.h"
#include "common/secret.h"
#include "conf/conf.h"
#include "ike/ike-internal.h"
#include "xfrm/xfrm.h"

#define A_ADDR "192.0.2.1"
#define B_ADDR "192.0.2.2"
#define NAT_ADDR "198.51.100.77"

struct side {
	const char *name;
	struct cgw_conf *conf;
	struct xfrm *xfrm;
	struct ike *ike;
	struct side *peer;
	int ups, downs;
	char down_why[200];
};

struct dgram {
	struct dgram *next;
	struct side *to;
	struct ike_path path;	/* as the receiver sees it */
	bool natt;
	size_t len;
	uint8_t buf[];
};

static struct ev_loop *loop;
static struct dgram *queue;
static ev_timer deliver_timer, deadline;
static bool nat_a;		/* rewrite A's source address as a NAT would */
static bool both_start;		/* B initiates too */
static const char *extra_a = "";	/* more config lines for A's tunnel */
static int dropped_from_b;	/* drop this many datagrams from B */
static struct side *sides[2];
static bool record_a;		/* note when A sends, in a_sent[] (wall clock) */
static double a_sent[16];
static int n_a_sent;

static void on_deliver(struct ev_loop *l, ev_timer *w, int revents)
{
	while (queue) {
		struct dgram *d = queue;
		queue = d->next;
		if (d->to->ike)		/* not yet freed by pair_stop() */
			ike_input(d->to->ike, &d->path, d->natt, d->buf, d->len);
		free(d);
	}
}

static int on_send(void *arg, const struct ike_path *path, bool natt,
		   const uint8_t *buf, size_t len)
{
	struct side *s = arg;
	struct dgram *d = calloc(1, sizeof(*d) + len), **pp = &queue;

	if (record_a && s == sides[0] && n_a_sent < (int)(sizeof(a_sent) / sizeof(a_sent[0])))
		a_sent[n_a_sent++] = ev_time();
	if (s == sides[1] && dropped_from_b > 0) {
		dropped_from_b--;
		free(d);
		return 0;
	}
	d->to = s->peer;
	d->path.local = path->remote;
	d->path.remote = path->local;
	if (nat_a && s == sides[0]) {
		inet_pton(AF_INET, NAT_ADDR, &d->path.remote.sin_addr);
		d->path.remote.sin_port = htons(natt ? 34500 : 34501);
	}
	if (nat_a && s == sides[1])
		inet_pton(AF_INET, A_ADDR, &d->path.local.sin_addr);
	d->natt = natt;
	d->len = len;
	memcpy(d->buf, buf, len);
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	ev_timer_start(loop, &deliver_timer);
	return 0;
}

static int on_keepalive(void *arg, const struct ike_path *path)
{
	return 0;
}

static void on_up(void *arg, const char *tunnel)
{
	struct side *s = arg;

	s->ups++;
	if (sides[0]->ups && sides[1]->ups)
		ev_break(loop, EVBREAK_ALL);
}

static void on_down(void *arg, const char *tunnel, const char *why)
{
	struct side *s = arg;

	s->downs++;
	snprintf(s->down_why, sizeof(s->down_why), "%s", why);
}

static void on_deadline(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

static struct cgw_conf *make_conf(const char *local, const char *remote, const char *psk,
				  const char *startup, const char *ike, const char *esp,
				  const char *extra)
{
	char text[1024];
	struct conf_diag d = { 0 };
	struct cgw_conf *c;

	snprintf(text, sizeof(text),
		 "[gateway]\nlocal-address = %s\n[tunnel t]\nremote = %s\npsk = %s\n"
		 "inside = 169.254.10.0/30\nvti = vti1\nmark = 100\nstartup = %s\n"
		 "ike = %s\nesp = %s\n%s", local, remote, psk, startup, ike, esp, extra);
	c = conf_load_buffer("t.conf", text, strlen(text), 0, &d);
	if (!c)
		conf_diag_print(stderr, &d);
	conf_diag_free(&d);
	assert_non_null(c);
	return c;
}

static const struct ike_ops ops = {
	.send = on_send, .send_keepalive = on_keepalive,
	.tunnel_up = on_up, .tunnel_down = on_down,
};

struct pair_cfg {
	const char *psk_a, *psk_b;
	const char *ike_a, *ike_b;
	const char *esp_a, *esp_b;
};

static void pair_start(struct side *a, struct side *b, const struct pair_cfg *cfg)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->name = "A";
	b->name = "B";
	a->peer = b;
	b->peer = a;
	sides[0] = a;
	sides[1] = b;
	a->conf = make_conf(A_ADDR, B_ADDR, cfg->psk_a, "start", cfg->ike_a, cfg->esp_a, extra_a);
	/* Behind a NAT, A still calls itself by its private address. */
	b->conf = make_conf(B_ADDR, nat_a ? NAT_ADDR : A_ADDR, cfg->psk_b,
			    both_start ? "start" : "add",
			    cfg->ike_b, cfg->esp_b, nat_a ? "remote-id = " A_ADDR "\n" : "");
	assert_int_equal(xfrm_open_fake(&a->xfrm), 0);
	assert_int_equal(xfrm_open_fake(&b->xfrm), 0);
	assert_int_equal(ike_new(&a->ike, loop, a->xfrm, &ops, a), 0);
	assert_int_equal(ike_new(&b->ike, loop, b->xfrm, &ops, b), 0);
	assert_int_equal(ike_tunnel_add(b->ike, &b->conf->tunnels[0], &b->conf->gateway, 1), 0);
	assert_int_equal(ike_tunnel_add(a->ike, &a->conf->tunnels[0], &a->conf->gateway, 1), 0);
}

static void run_for(double seconds)
{
	ev_timer_init(&deadline, on_deadline, seconds, 0.);
	ev_timer_start(loop, &deadline);
	ev_run(loop, 0);
	ev_timer_stop(loop, &deadline);
}

static void side_free(struct side *s)
{
	ike_free(s->ike);
	s->ike = NULL;
	xfrm_close(s->xfrm);
	conf_free(s->conf);
}

static void pair_stop(struct side *a, struct side *b)
{
	side_free(a);
	on_deliver(loop, &deliver_timer, 0);	/* DELETEs to freed engines: drop */
	side_free(b);
	while (queue) {
		struct dgram *d = queue;
		queue = d->next;
		free(d);
	}
	nat_a = false;
	both_start = false;
	extra_a = "";
	dropped_from_b = 0;
}

static size_t count(const char *log, const char *needle)
{
	size_t n = 0;

	for (const char *p = log; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const struct pair_cfg good = {
	"Synthetic.key.1", "Synthetic.key.1",
	"aes256-sha256-modp2048", "aes256-sha256-modp2048",
	"aes256gcm16-modp2048", "aes256gcm16-modp2048",
};

static void test_handshake_gcm(void **state)
{
	struct side a, b;

	pair_start(&a, &b, &good);
	run_for(5);
	assert_int_equal(a.ups, 1);
	assert_int_equal(b.ups, 1);
	/* Each side: one inbound state (the SPI allocated, then updated),
	 * one outbound state, three policies. */
	const char *la = xfrm_fake_log(a.xfrm), *lb = xfrm_fake_log(b.xfrm);
	assert_int_equal(count(la, "alloc"), 1);
	assert_int_equal(count(la, "state add out"), 1);
	assert_int_equal(count(lb, "state add out"), 1);
	assert_non_null(strstr(la, "rfc4106(gcm(aes))"));
	if (count(la, "policy update") != 3)
		print_error("%s\n", la);
	assert_int_equal(count(la, "policy update"), 3);
	struct xfrm_list l;
	assert_int_equal(xfrm_list(a.xfrm, true, &l), 0);
	assert_int_equal(l.n_states, 2);
	assert_int_equal(l.n_policies, 3);
	xfrm_list_free(&l);
	pair_stop(&a, &b);
}

static void test_handshake_cbc_ecp(void **state)
{
	static const struct pair_cfg cfg = {
		"Synthetic.key.1", "Synthetic.key.1",
		"aes128-sha1-ecp256", "aes256gcm16-prfsha384-ecp384,aes128-sha1-ecp256",
		"aes256-sha256", "aes128-sha1,aes256-sha256",
	};
	struct side a, b;

	pair_start(&a, &b, &cfg);
	run_for(5);
	assert_int_equal(a.ups, 1);
	assert_int_equal(b.ups, 1);
	/* HMAC-SHA2-256 on ESP with the 128-bit truncation of RFC 4868. */
	assert_non_null(strstr(xfrm_fake_log(a.xfrm), "hmac(sha256)"));
	assert_non_null(strstr(xfrm_fake_log(a.xfrm), "trunc=128"));
	pair_stop(&a, &b);
}

static void test_x25519(void **state)
{
	static const struct pair_cfg cfg = {
		"Synthetic.key.1", "Synthetic.key.1",
		"aes256gcm16-prfsha256-x25519", "aes256gcm16-prfsha256-x25519",
		"aes256gcm16-x25519", "aes256gcm16-x25519",
	};
	struct side a, b;

	pair_start(&a, &b, &cfg);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	pair_stop(&a, &b);
}

static void test_wrong_psk(void **state)
{
	static const struct pair_cfg cfg = {
		"Synthetic.key.1", "Synthetic.key.2",
		"aes256-sha256-modp2048", "aes256-sha256-modp2048",
		"aes256gcm16", "aes256gcm16",
	};
	struct side a, b;

	pair_start(&a, &b, &cfg);
	run_for(0.5);
	assert_int_equal(a.ups + b.ups, 0);
	/* No kernel SA on either side; the initiator knows why. */
	assert_int_equal(count(xfrm_fake_log(a.xfrm), "state add"), 0);
	assert_int_equal(count(xfrm_fake_log(b.xfrm), "state add"), 0);
	struct json_object *o = json_object_new_object();
	assert_string_equal(ike_tunnel_status(a.ike, "t", o), "down");
	const char *err = json_object_get_string(json_object_object_get(o, "last_error"));
	assert_non_null(strstr(err, "AUTHENTICATION_FAILED"));
	json_object_put(o);
	/* The SPI reserved for the CHILD SA is given back. */
	struct xfrm_list l;
	assert_int_equal(xfrm_list(a.xfrm, true, &l), 0);
	assert_int_equal(l.n_states, 0);
	xfrm_list_free(&l);
	pair_stop(&a, &b);
}

static void test_no_proposal(void **state)
{
	static const struct pair_cfg cfg = {
		"Synthetic.key.1", "Synthetic.key.1",
		"aes256-sha256-modp2048", "aes128-sha1-modp1024",
		"aes256gcm16", "aes256gcm16",
	};
	struct side a, b;

	pair_start(&a, &b, &cfg);
	run_for(0.5);
	assert_int_equal(a.ups + b.ups, 0);
	struct json_object *o = json_object_new_object();
	ike_tunnel_status(a.ike, "t", o);
	assert_non_null(strstr(json_object_get_string(json_object_object_get(o, "last_error")),
			       "NO_PROPOSAL_CHOSEN"));
	json_object_put(o);
	pair_stop(&a, &b);
}

static void test_invalid_ke_retry(void **state)
{
	static const struct pair_cfg cfg = {
		"Synthetic.key.1", "Synthetic.key.1",
		"aes256-sha256-ecp256,aes256-sha256-modp2048", "aes256-sha256-modp2048",
		"aes256gcm16", "aes256gcm16",
	};
	struct side a, b;

	pair_start(&a, &b, &cfg);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	pair_stop(&a, &b);
}

static void test_nat_detected(void **state)
{
	struct side a, b;

	nat_a = true;
	pair_start(&a, &b, &good);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	/* Both moved to UDP 4500 and the ESP states are UDP-encapsulated. */
	assert_non_null(strstr(xfrm_fake_log(a.xfrm), "encap"));
	assert_non_null(strstr(xfrm_fake_log(b.xfrm), "encap"));
	pair_stop(&a, &b);
}

static void test_peer_delete(void **state)
{
	struct side a, b;

	pair_start(&a, &b, &good);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	ike_tunnel_remove(a.ike, "t");	/* sends DELETE */
	run_for(0.2);
	assert_int_equal(b.downs, 1);
	assert_non_null(strstr(b.down_why, "deleted"));
	struct xfrm_list l;
	assert_int_equal(xfrm_list(b.xfrm, true, &l), 0);
	assert_int_equal(l.n_states, 0);
	xfrm_list_free(&l);
	pair_stop(&a, &b);
}

static void test_retransmit(void **state)
{
	struct side a, b;

	dropped_from_b = 1;	/* the first IKE_SA_INIT response is lost */
	pair_start(&a, &b, &good);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	pair_stop(&a, &b);
}

/*
 * A request made after the loop sat in a long callback (DH key pairs for
 * several tunnels at start-up take that long under emulation) is
 * retransmitted one full delay after it left: the loop's clock, which
 * stood still meanwhile, must not make it leave early.
 */
static void test_retransmit_after_busy(void **state)
{
	struct side a, b;

	pair_start(&a, &b, &good);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	dropped_from_b = 1000;		/* B answers nothing from here on */
	run_for(0.05);			/* the loop's clock is fresh... */
	usleep(600 * 1000);		/* ...and stands still in a long callback */
	n_a_sent = 0;
	record_a = true;
	assert_int_equal(ike_tunnel_rekey(a.ike, "t", false), 0);
	run_for(2);
	record_a = false;
	dropped_from_b = 0;
	assert_true(n_a_sent >= 2);
	if (a_sent[1] - a_sent[0] < 0.9)
		print_error("retransmitted %.3f s after the request, expected 1 s\n",
			    a_sent[1] - a_sent[0]);
	assert_true(a_sent[1] - a_sent[0] >= 0.9);
	pair_stop(&a, &b);
}

/* Exactly one SA pair left, the same on both sides, and never a "down". */
static void assert_one_pair(struct side *a, struct side *b)
{
	struct xfrm_list la, lb;

	assert_int_equal(xfrm_list(a->xfrm, true, &la), 0);
	assert_int_equal(xfrm_list(b->xfrm, true, &lb), 0);
	if (la.n_states != 2 || lb.n_states != 2)
		print_error("A:\n%s\nB:\n%s\n", xfrm_fake_log(a->xfrm), xfrm_fake_log(b->xfrm));
	assert_int_equal(la.n_states, 2);
	assert_int_equal(lb.n_states, 2);
	/* A's two SPIs are B's two SPIs. */
	uint32_t a0 = la.states[0].id.spi, a1 = la.states[1].id.spi;
	uint32_t b0 = lb.states[0].id.spi, b1 = lb.states[1].id.spi;
	assert_true((a0 == b0 && a1 == b1) || (a0 == b1 && a1 == b0));
	xfrm_list_free(&la);
	xfrm_list_free(&lb);
	assert_int_equal(a->downs + b->downs, 0);
}

static void rekey_case(bool by_a, bool by_b, const char *esp)
{
	struct pair_cfg cfg = good;
	struct side a, b;

	cfg.esp_a = cfg.esp_b = esp;
	pair_start(&a, &b, &cfg);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	for (int round = 0; round < 3; round++) {
		if (by_a)
			assert_int_equal(ike_tunnel_rekey(a.ike, "t", false), 0);
		if (by_b)
			assert_int_equal(ike_tunnel_rekey(b.ike, "t", false), 0);
		run_for(0.3);
		assert_one_pair(&a, &b);
	}
	pair_stop(&a, &b);
}

static void test_rekey_by_initiator(void **state)
{
	rekey_case(true, false, "aes256gcm16-modp2048");
}

static void test_rekey_by_responder(void **state)
{
	rekey_case(false, true, "aes128-sha256");
}

/* Both ends rekey the same CHILD SA at once (RFC 7296 2.8.1). */
static void test_rekey_collision(void **state)
{
	rekey_case(true, true, "aes256gcm16-ecp256");
}

static int count_sas(struct side *s)
{
	int n = 0;

	for (struct ike_sa *sa = s->ike->sas; sa; sa = sa->next)
		n++;
	return n;
}

/* IKE SA rekeys move the CHILD SA without touching the kernel; a CHILD
 * rekey over the new IKE SA proves both ends derived the same keys. */
static void ike_rekey_case(bool by_a)
{
	struct side a, b;

	pair_start(&a, &b, &good);
	run_for(5);
	assert_int_equal(a.ups + b.ups, 2);
	for (int round = 0; round < 2; round++) {
		size_t adds = count(xfrm_fake_log(a.xfrm), "state add");
		uint64_t old_spi = a.ike->sas->spi_i;
		assert_int_equal(ike_tunnel_rekey(by_a ? a.ike : b.ike, "t", true), 0);
		run_for(0.3);
		assert_int_equal(count_sas(&a), 1);
		assert_int_equal(count_sas(&b), 1);
		assert_true(a.ike->sas->spi_i != old_spi);
		assert_int_equal(a.ike->sas->state, IKE_SA_ESTABLISHED);
		assert_int_equal(b.ike->sas->state, IKE_SA_ESTABLISHED);
		assert_int_equal(count(xfrm_fake_log(a.xfrm), "state add"), adds);
		assert_one_pair(&a, &b);
		assert_int_equal(ike_tunnel_rekey(a.ike, "t", false), 0);
		run_for(0.3);
		assert_one_pair(&a, &b);
	}
	pair_stop(&a, &b);
}

static void test_ike_rekey_by_initiator(void **state)
{
	ike_rekey_case(true);
}

static void test_ike_rekey_by_responder(void **state)
{
	ike_rekey_case(false);
}

/* Under load the responder asks for a cookie first (RFC 7296 2.6); the
 * initiator returns it and the exchange goes on. */
static void test_cookie(void **state)
{
	struct side a, b;

	pair_start(&a, &b, &good);
	b.ike->half_open = IKE_HALF_OPEN_COOKIES;	/* as if under a flood */
	run_for(0.5);
	assert_int_equal(a.ups + b.ups, 2);
	assert_int_equal(a.ike->sas->cookie_len, IKE_COOKIE_LEN);
	assert_int_equal(b.ike->tunnels->cookies_sent, 1);
	assert_int_equal(a.ike->tunnels->cookies_sent, 0);
	b.ike->half_open = 0;
	pair_stop(&a, &b);
}

/* Both ends initiate at once: one IKE SA and one CHILD SA pair remain. */
static void test_crossed_init(void **state)
{
	struct side a, b;

	both_start = true;
	pair_start(&a, &b, &good);
	run_for(0.5);
	assert_int_equal(count_sas(&a), 1);
	assert_int_equal(count_sas(&b), 1);
	assert_int_equal(a.ike->sas->spi_i, b.ike->sas->spi_i);
	assert_one_pair(&a, &b);
	pair_stop(&a, &b);
}

/* The peer stops answering an idle tunnel: dead after dpd-delay + dpd-timeout. */
static void test_dpd_dead(void **state)
{
	struct side a, b;

	extra_a = "dpd-delay = 1s\ndpd-timeout = 2s\nliveness-probe = 0s\n";
	pair_start(&a, &b, &good);
	run_for(2);
	assert_int_equal(a.ups, 1);
	dropped_from_b = 1000000;
	run_for(4.5);
	assert_int_equal(a.downs, 1);
	assert_non_null(strstr(a.down_why, "dpd-timeout"));
	pair_stop(&a, &b);
}

/* Packets leave, none come back: a fast liveness check finds the dead
 * path long before dpd-delay (60 s here) would. */
static void test_fast_liveness(void **state)
{
	struct side a, b;

	extra_a = "dpd-delay = 60s\ndpd-timeout = 60s\nliveness-probe = 1s\n";
	pair_start(&a, &b, &good);
	run_for(2);
	assert_int_equal(a.ups, 1);
	struct child_sa *c = a.ike->sas->children;
	struct xfrm_said out = { .spi = c->spi_out, .proto = IPPROTO_ESP, .mark = 100,
				 .mark_mask = 0xffffffff };
	out.dst.family = AF_INET;
	inet_pton(AF_INET, B_ADDR, &out.dst.v4);
	dropped_from_b = 1000000;
	for (int i = 1; i <= 12 && a.downs == 0; i++) {
		assert_int_equal(xfrm_fake_set_counters(a.xfrm, &out, 1000u * i, 10u * i), 0);
		run_for(0.5);
	}
	assert_int_equal(a.downs, 1);
	assert_non_null(strstr(a.down_why, "fast liveness"));
	pair_stop(&a, &b);
}

/* The peer's offer as a parsed SA payload, built from proposal text. */
static void offer(const char *text, enum proposal_kind kind, struct ike_sa_pl *pl)
{
	static const uint8_t spi[4] = { 1, 2, 3, 4 };
	struct cgw_proposals ps;
	char err[256];

	assert_int_equal(proposal_parse(text, kind, &ps, err, sizeof(err)), 0);
	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < ps.n; i++) {
		struct ike_proposal *pp = &pl->prop[pl->n_prop++];
		const struct cgw_proposal *p = &ps.p[i];
		pp->num = (uint8_t)(i + 1);
		pp->protocol = kind == PROPOSAL_IKE ? IKE_PROTO_IKE : IKE_PROTO_ESP;
		if (kind == PROPOSAL_ESP)
			pp->spi = (struct span){ spi, 4 };
#define ADD(list, n, ttype) \
		for (size_t j = 0; j < p->n; j++) \
			pp->xf[pp->n_xf++] = (struct ike_transform){ .type = ttype, \
				.id = p->list[j].id, .keylen = p->list[j].keylen, \
				.has_keylen = p->list[j].keylen != 0 };
		ADD(encr, n_encr, IKE_TRANSFORM_ENCR)
		ADD(integ, n_integ, IKE_TRANSFORM_INTEG)
		ADD(prf, n_prf, IKE_TRANSFORM_PRF)
		ADD(dh, n_dh, IKE_TRANSFORM_DH)
		ADD(esn, n_esn, IKE_TRANSFORM_ESN)
#undef ADD
	}
}

struct select_case {
	enum proposal_kind kind;
	unsigned flags;
	const char *ours, *theirs;
	const char *chosen;	/* canonical, NULL: no proposal chosen */
};

static const struct select_case select_cases[] = {
	/* Our order wins over the peer's. */
	{ PROPOSAL_IKE, 0, "aes256-sha256-modp2048,aes128-sha1-modp2048",
	  "aes128-sha1-modp2048,aes256-sha256-modp2048", "aes256-sha256-modp2048" },
	{ PROPOSAL_IKE, 0, "aes128gcm16-aes256gcm16-prfsha256-ecp256",
	  "aes256gcm16-prfsha256-ecp256", "aes256gcm16-prfsha256-ecp256" },
	{ PROPOSAL_IKE, 0, "aes128-aes256-sha256-sha1-modp2048-ecp256",
	  "aes256-sha1-ecp256", "aes256-sha1-ecp256" },
	{ PROPOSAL_IKE, 0, "aes256-sha256-modp2048", "aes256-sha1-modp2048", NULL },
	{ PROPOSAL_IKE, 0, "aes256-sha256-modp2048", "aes128-sha256-modp2048", NULL },
	/* ESN: none configured means noesn. */
	{ PROPOSAL_ESP, 0, "aes256gcm16", "aes256gcm16-esn-noesn", "aes256gcm16-noesn" },
	{ PROPOSAL_ESP, 0, "aes256gcm16-esn", "aes256gcm16-noesn", NULL },
	/* PFS: the IKE_AUTH child carries no KE, so DH is ignored there... */
	{ PROPOSAL_ESP, SELECT_NO_DH, "aes256gcm16-modp2048", "aes256gcm16",
	  "aes256gcm16-noesn" },
	/* ...but a rekey must agree on it. */
	{ PROPOSAL_ESP, 0, "aes256gcm16-modp2048", "aes256gcm16", NULL },
	{ PROPOSAL_ESP, 0, "aes256gcm16-modp2048", "aes256gcm16-ecp256-modp2048",
	  "aes256gcm16-modp2048-noesn" },
	/* HMAC-SHA2-256-128 is not HMAC-SHA1-96. */
	{ PROPOSAL_ESP, 0, "aes128-sha256", "aes128-sha1", NULL },
};

static void test_proposal_selection(void **state)
{
	for (size_t i = 0; i < sizeof(select_cases) / sizeof(select_cases[0]); i++) {
		const struct select_case *c = &select_cases[i];
		struct cgw_proposals ours, one = { .n = 1 };
		struct ike_sa_pl *pl = calloc(1, sizeof(*pl));
		struct cgw_proposal chosen;
		struct span spi;
		char err[256], got[256];
		uint8_t num;
		int r;

		assert_int_equal(proposal_parse(c->ours, c->kind, &ours, err, sizeof(err)), 0);
		offer(c->theirs, c->kind, pl);
		r = ike_select_proposal(&ours, pl, c->kind == PROPOSAL_IKE ? IKE_PROTO_IKE :
					IKE_PROTO_ESP, c->flags, &chosen, &num, &spi);
		if (!c->chosen) {
			if (r == 0)
				fail_msg("case %zu: chose something, expected nothing", i);
		} else {
			assert_int_equal(r, 0);
			one.p[0] = chosen;
			proposal_str(&one, c->kind, got, sizeof(got));
			if (strcmp(got, c->chosen) != 0)
				fail_msg("case %zu: chose %s, expected %s", i, got, c->chosen);
		}
		free(pl);
	}
}

/* Every state is reachable from IDLE; DEAD is final and reachable from all. */
static void test_state_tables(void **state)
{
	bool seen[IKE_SA_STATE_COUNT] = { [IKE_SA_IDLE] = true };

	for (int pass = 0; pass < IKE_SA_STATE_COUNT; pass++)
		for (int f = 0; f < IKE_SA_STATE_COUNT; f++)
			for (int t = 0; t < IKE_SA_STATE_COUNT; t++)
				if (seen[f] && ike_sa_transition_ok(f, t))
					seen[t] = true;
	for (int s = 0; s < IKE_SA_STATE_COUNT; s++) {
		assert_true(seen[s]);
		assert_false(ike_sa_transition_ok(IKE_SA_DEAD, s));
		if (s != IKE_SA_DEAD)
			assert_true(ike_sa_transition_ok(s, IKE_SA_DEAD));
		assert_non_null(ike_sa_state_name(s));
	}
	for (int s = 0; s < CHILD_SA_STATE_COUNT; s++) {
		assert_false(child_sa_transition_ok(CHILD_SA_DEAD, s));
		if (s != CHILD_SA_DEAD)
			assert_true(child_sa_transition_ok(s, CHILD_SA_DEAD));
	}
	assert_true(ike_sa_transition_ok(IKE_SA_IDLE, IKE_SA_ESTABLISHED));	/* rekeyed */
	assert_false(ike_sa_transition_ok(IKE_SA_INIT_SENT, IKE_SA_ESTABLISHED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_tables),
		cmocka_unit_test(test_proposal_selection),
		cmocka_unit_test(test_handshake_gcm),
		cmocka_unit_test(test_handshake_cbc_ecp),
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_invalid_ke_retry),
		cmocka_unit_test(test_nat_detected),
		cmocka_unit_test(test_peer_delete),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_retransmit_after_busy),
		cmocka_unit_test(test_rekey_by_initiator),
		cmocka_unit_test(test_rekey_by_responder),
		cmocka_unit_test(test_rekey_collision),
		cmocka_unit_test(test_ike_rekey_by_initiator),
		cmocka_unit_test(test_ike_rekey_by_responder),
		cmocka_unit_test(test_crossed_init),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_dpd_dead),
		cmocka_unit_test(test_fast_liveness),
	};

	secret_init();
	log_init("test", getenv("CGW_TEST_VERBOSE") ? 1 : -1);
	if (getenv("CGW_TEST_VERBOSE"))
		log_debug_enable("all");
	loop = ev_loop_new(0);
	ev_timer_init(&deliver_timer, on_deliver, 0., 0.);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
