/*
 * The harness of ike_harness.h: a virtual-clock stand-in for libev's
 * timers, two engines over a datagram queue with a decoding tap, and the
 * convergence checks every collision case ends with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ev.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/secret.h"
#include "tests/unit/ike_harness.h"
#include "xfrm/xfrm.h"

/* ---- libev, timers only, on a virtual clock ----
 *
 * The engine touches libev through ev_timer watchers and ev_now() only
 * (ike/timers.c). These definitions take the place of libev's in the
 * test binary: time starts at 1000 and moves only inside ev_run(), to
 * the next timer due. Timers due at the same time fire in the order they
 * were started, as libev would. */

struct ev_loop {
	double now;
	struct vtimer {
		ev_timer *w;
		uint64_t seq;
	} *t;
	size_t n, cap;
	uint64_t seq;
	bool brk;
};

struct ev_loop *ev_loop_new(unsigned int flags)
{
	struct ev_loop *l = calloc(1, sizeof(*l));

	if (l)
		l->now = 1000.0;
	return l;
}

void ev_loop_destroy(struct ev_loop *l)
{
	free(l->t);
	free(l);
}

ev_tstamp ev_now(struct ev_loop *l)
{
	return l->now;
}

void ev_now_update(struct ev_loop *l)
{
}

static void vt_add(struct ev_loop *l, ev_timer *w)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->t = realloc(l->t, l->cap * sizeof(*l->t));
		assert_non_null(l->t);
	}
	l->t[l->n++] = (struct vtimer){ w, l->seq++ };
	w->active = 1;
}

static void vt_del(struct ev_loop *l, ev_timer *w)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->t[i].w == w) {
			memmove(&l->t[i], &l->t[i + 1], (l->n - i - 1) * sizeof(*l->t));
			l->n--;
			break;
		}
	}
	w->active = 0;
}

void ev_timer_start(struct ev_loop *l, ev_timer *w)
{
	double rel = w->at;

	if (w->active)
		return;
	w->at += l->now;		/* relative until started, as in libev */
	if (rel > 0. && w->at <= l->now)
		w->at = l->now + 1e-6;	/* a real clock moves on: so does this one */
	vt_add(l, w);
}

void ev_timer_stop(struct ev_loop *l, ev_timer *w)
{
	w->pending = 0;
	if (!w->active)
		return;
	vt_del(l, w);
	w->at -= l->now;
}

void ev_timer_again(struct ev_loop *l, ev_timer *w)
{
	ev_timer_stop(l, w);
	if (w->repeat > 0.) {
		w->at = w->repeat;
		ev_timer_start(l, w);
	}
}

ev_tstamp ev_timer_remaining(struct ev_loop *l, ev_timer *w)
{
	return w->at - (w->active ? l->now : 0.);
}

void ev_break(struct ev_loop *l, int how)
{
	l->brk = true;
}

/* The timer due first (earliest, then first started), or -1. */
static long vt_next(const struct ev_loop *l)
{
	long best = -1;

	for (size_t i = 0; i < l->n; i++) {
		const struct vtimer *t = &l->t[i], *b = best < 0 ? NULL : &l->t[best];
		if (!b || t->w->at < b->w->at || (t->w->at == b->w->at && t->seq < b->seq))
			best = (long)i;
	}
	return best;
}

int ev_run(struct ev_loop *l, int flags)
{
	l->brk = false;
	while (!l->brk) {
		long i = vt_next(l);
		if (i < 0)
			return 0;
		ev_timer *w = l->t[i].w;
		if (w->at > l->now)
			l->now = w->at;
		vt_del(l, w);
		if (w->repeat > 0.) {
			w->at += w->repeat;
			if (w->at < l->now)
				w->at = l->now;
			vt_add(l, w);
		} else {
			w->at -= l->now;
		}
		w->cb(l, w, EV_TIMER);
	}
	return 1;
}

/* ---- two engines and a queue ---- */

#define A_ADDR "192.0.2.1"
#define B_ADDR "192.0.2.2"

struct h_dgram {
	struct h_dgram *next;
	struct h_side *to;
	size_t tap;			/* index in the tap */
	struct ike_path path;		/* as the receiver sees it */
	bool natt;
	size_t len;
	uint8_t buf[];
};

static struct ev_loop *loop;
static struct harness *cur;
static ev_timer deliver_timer, deadline;
static char logbuf[1 << 18];
static size_t loglen;

static void on_log(int prio, const char *line, void *arg)
{
	size_t n = strlen(line);

	if (getenv("CGW_TEST_VERBOSE"))
		fprintf(stderr, "[%8.3f] %s\n", loop ? ev_now(loop) : 0., line);
	if (loglen + n + 2 > sizeof(logbuf))
		loglen = 0;		/* keep the recent part */
	memcpy(logbuf + loglen, line, n);
	logbuf[loglen + n] = '\n';
	loglen += n + 1;
	logbuf[loglen] = '\0';
}

const char *h_log(void)
{
	return logbuf;
}

void h_log_clear(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

struct ev_loop *h_loop(void)
{
	return loop;
}

double h_now(void)
{
	return ev_now(loop);
}

static void deliver_one(struct h_dgram *d)
{
	if (d->to->ike)
		ike_input(d->to->ike, &d->path, d->natt, d->buf, d->len);
	free(d);
}

static void on_deliver(struct ev_loop *l, ev_timer *w, int revents)
{
	while (cur && !cur->manual && cur->queue) {
		struct h_dgram *d = cur->queue;
		cur->queue = d->next;
		deliver_one(d);
	}
}

/* Open a protected message with the keys of the SA that sent it. */
static void tap_open(const struct h_side *s, const uint8_t *buf, size_t len, struct h_msg *t)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_result res = { 0 };
	uint8_t *copy = NULL;

	assert_non_null(m);
	if (ike_msg_parse(buf, len, m, &res) < 0)
		goto out;
	if (ike_msg_count(m, IKE_PL_SK)) {
		struct ike_sa *sa = ike_sa_find(s->ike, t->spi_i, t->spi_r);
		size_t off, plen;
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, buf, len);
		if (!sa || ike_sk_decrypt(&sa->sk_out, copy, len, m->sk.aad.len, &off, &plen) < 0 ||
		    ike_msg_parse_inner(m, copy + off, plen, &res) < 0)
			goto out;
	}
	t->opened = true;
	ike_msg_summary(m, t->payloads, sizeof(t->payloads));
	const struct ike_notify *e = ike_msg_error_notify(m);
	t->error = e ? e->type : 0;
	for (size_t i = 0; i < m->n_delete; i++) {
		if (m->del[i].protocol == IKE_PROTO_IKE)
			t->delete_ike = true;
		else
			t->delete_esp += m->del[i].n_spi;
	}
out:
	free(copy);
	free(m);
}

static size_t tap_add(struct harness *h, const struct h_side *s, const uint8_t *buf, size_t len)
{
	struct h_msg *t;

	if (h->n_tap == h->cap_tap) {
		h->cap_tap = h->cap_tap ? 2 * h->cap_tap : 256;
		h->tap = realloc(h->tap, h->cap_tap * sizeof(*h->tap));
		assert_non_null(h->tap);
	}
	t = &h->tap[h->n_tap];
	memset(t, 0, sizeof(*t));
	t->from = s;
	t->at = ev_now(loop);
	if (len >= IKE_HDR_LEN) {
		for (int i = 0; i < 8; i++) {
			t->spi_i = t->spi_i << 8 | buf[i];
			t->spi_r = t->spi_r << 8 | buf[8 + i];
		}
		t->exchange = buf[18];
		t->response = buf[19] & IKE_FLAG_R;
		t->msgid = (uint32_t)buf[20] << 24 | (uint32_t)buf[21] << 16 |
			   (uint32_t)buf[22] << 8 | buf[23];
		tap_open(s, buf, len, t);
	}
	return h->n_tap++;
}

static int on_send(void *arg, const struct ike_path *path, bool natt,
		   const uint8_t *buf, size_t len)
{
	struct h_side *s = arg;
	struct harness *h = cur;
	size_t tap = tap_add(h, s, buf, len);
	struct h_dgram *d, **pp = &h->queue;

	if (s->drop) {
		s->drop--;
		h->tap[tap].dropped = true;
		return 0;
	}
	d = calloc(1, sizeof(*d) + len);
	assert_non_null(d);
	d->to = s->peer;
	d->tap = tap;
	d->path.local = path->remote;
	d->path.remote = path->local;
	d->natt = natt;
	d->len = len;
	memcpy(d->buf, buf, len);
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	if (!h->manual)
		ev_timer_start(loop, &deliver_timer);
	return 0;
}

static int on_keepalive(void *arg, const struct ike_path *path)
{
	return 0;
}

static void on_up(void *arg, const char *tunnel)
{
	((struct h_side *)arg)->ups++;
}

static void on_down(void *arg, const char *tunnel, const char *why)
{
	((struct h_side *)arg)->downs++;
}

static const struct ike_ops ops = {
	.send = on_send, .send_keepalive = on_keepalive,
	.tunnel_up = on_up, .tunnel_down = on_down,
};

static void on_deadline(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

void h_init(void)
{
	secret_init();
	log_init("test", getenv("CGW_TEST_VERBOSE") ? 1 : 0);
	log_set_sink(on_log, NULL);
	if (getenv("CGW_TEST_VERBOSE"))
		log_debug_enable("all");
	loop = ev_loop_new(0);
	ev_timer_init(&deliver_timer, on_deliver, 0., 0.);
}

static struct cgw_conf *make_conf(const char *tunnel, const char *local, const char *remote,
				  bool start, const struct h_cfg *cfg, const char *extra)
{
	char text[2048];
	struct conf_diag d = { 0 };
	struct cgw_conf *c;

	snprintf(text, sizeof(text),
		 "[gateway]\nlocal-address = %s\n[tunnel %s]\nremote = %s\n"
		 "psk = Synthetic.key.1\ninside = 169.254.10.0/30\nvti = vti1\nmark = 100\n"
		 "startup = %s\nike = %s\nesp = %s\n%s", local, tunnel, remote,
		 start ? "start" : "add", cfg->ike ? cfg->ike : "aes256-sha256-ecp256",
		 cfg->esp ? cfg->esp : "aes256gcm16-ecp256", extra ? extra : "");
	c = conf_load_buffer("t.conf", text, strlen(text), 0, &d);
	if (!c)
		conf_diag_print(stderr, &d);
	conf_diag_free(&d);
	assert_non_null(c);
	return c;
}

/* Move s's SPIs away from its peer's: both fakes count from the same
 * base, and equal SPIs on both sides would hide a mix-up. */
static void shift_spis(struct h_side *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct xfrm_sa x = { .dir = XFRM_DIR_IN, .reqid = CGW_XFRM_REQID(200),
				     .mark = 7, .mark_mask = 0xffffffff };
		x.src.family = x.dst.family = AF_INET;
		inet_pton(AF_INET, A_ADDR, &x.src.v4);
		inet_pton(AF_INET, B_ADDR, &x.dst.v4);
		assert_int_equal(xfrm_alloc_spi(s->xfrm, &x), 0);
		struct xfrm_said id = { .dst = x.dst, .spi = x.spi, .proto = IPPROTO_ESP,
					.mark = 7, .mark_mask = 0xffffffff };
		assert_int_equal(xfrm_state_del(s->xfrm, &id), 0);
	}
}

void h_start(struct harness *h, const struct h_cfg *cfg)
{
	static const struct h_cfg none;
	struct h_side *a = &h->a, *b = &h->b;

	if (!cfg)
		cfg = &none;
	memset(h, 0, sizeof(*h));
	cur = h;
	loop->n = 0;			/* whatever a failed case left behind */
	h_log_clear();
	a->name = "A";
	b->name = "B";
	a->tunnel = "ta";
	b->tunnel = "tb";
	a->peer = b;
	b->peer = a;
	a->conf = make_conf("ta", A_ADDR, B_ADDR, !cfg->a_adds, cfg, cfg->extra_a);
	b->conf = make_conf("tb", B_ADDR, A_ADDR, cfg->b_starts || cfg->a_adds, cfg, cfg->extra_b);
	assert_int_equal(xfrm_open_fake(&a->xfrm), 0);
	assert_int_equal(xfrm_open_fake(&b->xfrm), 0);
	shift_spis(b, 0x100);
	assert_int_equal(ike_new(&a->ike, loop, a->xfrm, &ops, a), 0);
	assert_int_equal(ike_new(&b->ike, loop, b->xfrm, &ops, b), 0);
	assert_int_equal(ike_tunnel_add(b->ike, &b->conf->tunnels[0], &b->conf->gateway, 1), 0);
	assert_int_equal(ike_tunnel_add(a->ike, &a->conf->tunnels[0], &a->conf->gateway, 1), 0);
	h_run(h, 0.5);
	if (a->ups != 1 || b->ups != 1)
		h_dump(h);
	assert_int_equal(a->ups, 1);
	assert_int_equal(b->ups, 1);
}

static void side_free(struct h_side *s)
{
	ike_free(s->ike);
	s->ike = NULL;
	xfrm_close(s->xfrm);
	conf_free(s->conf);
}

void h_stop(struct harness *h)
{
	if (getenv("CGW_TEST_DUMP"))
		h_dump(h);
	h->manual = true;
	side_free(&h->a);
	side_free(&h->b);
	while (h->queue) {
		struct h_dgram *d = h->queue;
		h->queue = d->next;
		free(d);
	}
	ev_timer_stop(loop, &deliver_timer);
	free(h->tap);
	cur = NULL;
	/* Nothing of the engines may be left on the loop. */
	assert_int_equal(loop->n, 0);
}

void h_run(struct harness *h, double seconds)
{
	if (!h->manual && h->queue)
		ev_timer_start(loop, &deliver_timer);
	ev_timer_init(&deadline, on_deadline, seconds, 0.);
	ev_timer_start(loop, &deadline);
	ev_run(loop, 0);
	ev_timer_stop(loop, &deadline);
}

size_t h_queued(const struct harness *h)
{
	size_t n = 0;

	for (const struct h_dgram *d = h->queue; d; d = d->next)
		n++;
	return n;
}

static struct h_dgram **nth(struct harness *h, size_t i)
{
	struct h_dgram **pp = &h->queue;

	while (*pp && i--)
		pp = &(*pp)->next;
	assert_non_null(*pp);
	return pp;
}

const struct h_msg *h_queued_msg(const struct harness *h, size_t i)
{
	struct h_dgram *const *pp = nth((struct harness *)h, i);

	return &h->tap[(*pp)->tap];
}

struct h_dgram *h_take(struct harness *h, size_t i)
{
	struct h_dgram **pp = nth(h, i), *d = *pp;

	*pp = d->next;
	d->next = NULL;
	return d;
}

void h_put_back(struct harness *h, struct h_dgram *d)
{
	struct h_dgram **pp = &h->queue;

	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
}

void h_deliver(struct harness *h, size_t i)
{
	deliver_one(h_take(h, i));
}

void h_drop(struct harness *h, size_t i)
{
	struct h_dgram *d = h_take(h, i);

	h->tap[d->tap].dropped = true;
	free(d);
}

void h_deliver_all(struct harness *h)
{
	while (h->queue)
		h_deliver(h, 0);
}

size_t h_count(const struct harness *h, const struct h_side *from, uint8_t exchange,
	       bool response, size_t since)
{
	size_t n = 0;

	for (size_t i = since; i < h->n_tap; i++) {
		const struct h_msg *t = &h->tap[i];
		if ((!from || t->from == from) && (!exchange || t->exchange == exchange) &&
		    t->response == response)
			n++;
	}
	return n;
}

size_t h_count_error(const struct harness *h, const struct h_side *from, uint16_t error,
		     size_t since)
{
	size_t n = 0;

	for (size_t i = since; i < h->n_tap; i++)
		if ((!from || h->tap[i].from == from) && h->tap[i].error == error)
			n++;
	return n;
}

void h_dump(const struct harness *h)
{
	fprintf(stderr, "---- log ----\n%s---- datagrams ----\n", logbuf);
	for (size_t i = 0; i < h->n_tap; i++) {
		const struct h_msg *t = &h->tap[i];
		fprintf(stderr, "%3zu %9.3f %s->%s %-15s #%u %-8s %016llx/%016llx %s%s\n", i, t->at,
			    t->from->name, t->from->peer->name, ike_exchange_name(t->exchange),
			    t->msgid, t->response ? "response" : "request",
			    (unsigned long long)t->spi_i, (unsigned long long)t->spi_r,
			    t->opened ? t->payloads : "(not opened)", t->dropped ? " DROPPED" : "");
	}
}

int h_count_sas(const struct h_side *s)
{
	int n = 0;

	for (struct ike_sa *sa = s->ike->sas; sa; sa = sa->next)
		n++;
	return n;
}

struct ike_sa *h_sa(const struct h_side *s)
{
	assert_int_equal(h_count_sas(s), 1);
	return s->ike->sas;
}

struct child_sa *h_child(const struct h_side *s)
{
	struct ike_sa *sa = h_sa(s);

	assert_non_null(sa->children);
	assert_null(sa->children->next);
	return sa->children;
}

void h_nonces(struct h_side *s, const uint8_t *first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ike_test_next_nonce(s->ike, first[i]), 0);
}

/* ---- the end state ---- */

static bool check(const struct harness *h, bool ok, const char *what)
{
	if (!ok) {
		h_dump(h);
		print_error("not converged: %s\n", what);
	}
	return ok;
}

#define CHECK(h, cond) assert_true(check(h, cond, #cond))

/* Nothing in flight or pending on one side; its only SAs established. */
static void check_side(const struct harness *h, const struct h_side *s)
{
	CHECK(h, h_count_sas(s) == 1);
	const struct ike_sa *sa = s->ike->sas;
	CHECK(h, sa->state == IKE_SA_ESTABLISHED);
	CHECK(h, !sa->req.active && !sa->rekey.active && !sa->ike_rekey.active);
	CHECK(h, !sa->coll_spi_i && !sa->want_child && !sa->dpd_outstanding);
	CHECK(h, sa->children && !sa->children->next);
	const struct child_sa *c = sa->children;
	CHECK(h, c->state == CHILD_SA_INSTALLED && c->installed && c->out_installed);
	CHECK(h, !c->delete_queued && !c->delete_sent && !c->collided_spi);
	CHECK(h, !c->out_encr.data);
}

/* Exactly the two states of the one pair, and the tunnel's policies. */
static void check_kernel(const struct harness *h, const struct h_side *s)
{
	const struct child_sa *c = s->ike->sas->children;
	struct xfrm_list l;
	bool in = false, out = false, pol_out = false;

	assert_int_equal(xfrm_list(s->xfrm, true, &l), 0);
	for (size_t i = 0; i < l.n_states; i++) {
		in |= l.states[i].id.spi == c->spi_in;
		out |= l.states[i].id.spi == c->spi_out;
	}
	for (size_t i = 0; i < l.n_policies; i++)
		pol_out |= l.policies[i].sp.dir == XFRM_DIR_OUT;
	CHECK(h, l.n_states == 2 && in && out);
	CHECK(h, l.n_policies == 3 && pol_out);
	xfrm_list_free(&l);
}

void h_assert_one_pair(struct harness *h)
{
	h_deliver_all(h);
	check_side(h, &h->a);
	check_side(h, &h->b);
	const struct ike_sa *a = h->a.ike->sas, *b = h->b.ike->sas;
	CHECK(h, a->spi_i == b->spi_i && a->spi_r == b->spi_r);
	CHECK(h, a->initiator != b->initiator);
	CHECK(h, a->children->spi_in == b->children->spi_out);
	CHECK(h, a->children->spi_out == b->children->spi_in);
	CHECK(h, a->next_msgid == b->peer_msgid && b->next_msgid == a->peer_msgid);
	check_kernel(h, &h->a);
	check_kernel(h, &h->b);
}

/* One exchange started by s, carried through at once. */
static void exchange(struct harness *h, struct h_side *s, int what)
{
	bool manual = h->manual;
	int r = 0;

	h->manual = true;
	if (what == 0)
		ike_dpd_start(h_sa(s), false);
	else
		r = ike_tunnel_rekey(s->ike, s->tunnel, what == 2);
	CHECK(h, r == 0);
	h_deliver_all(h);
	h->manual = manual;
}

void h_assert_converged(struct harness *h)
{
	h_assert_one_pair(h);
	for (int what = 0; what < 3; what++) {
		uint64_t ike_spi = h->a.ike->sas->spi_i;
		uint32_t child_spi = h->a.ike->sas->children->spi_in;
		exchange(h, &h->a, what);
		exchange(h, &h->b, what);
		h_assert_one_pair(h);
		if (what == 1)
			CHECK(h, h->a.ike->sas->children->spi_in != child_spi);
		if (what == 2)
			CHECK(h, h->a.ike->sas->spi_i != ike_spi);
	}
}
