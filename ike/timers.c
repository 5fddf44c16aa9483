/*
 * Every IKE timer, and the only code touching libev watchers in ike/:
 *
 *   request    retransmit our outstanding request: 1, 2, 4, 8, 16 s,
 *              then the peer is gone (the SA fails, the tunnel re-initiates);
 *              a liveness check gives up after dpd-timeout, a fast one
 *              (after one-way traffic) after 0.5, 1, 2 s
 *   half-open  responder: IKE_SA_INIT answered, IKE_AUTH not seen: 30 s
 *   dpd        dpd-delay without a message or an inbound ESP packet from
 *              the peer (the CHILD SAs' kernel counters): liveness check
 *   probe      every liveness-probe seconds: packets went out on the CHILD
 *              SA and none came in since the last look: fast liveness check;
 *              answered but still one-way: checks back off, and the CHILD
 *              SA is rekeyed once (heal_child)
 *   reinit     tunnel with no IKE SA and startup=start: 1 s doubling to 30 s
 *   keepalive  NAT-T keepalive every 20 s while a NAT is in front of us
 *   rekey      per CHILD SA: esp-lifetime - rekey-margin - random fuzz
 *              (up to rekey-fuzz % of the margin); busy: again in 1 s;
 *              refused by the peer: 1 s doubling to 30 s, +0..50 % jitter
 *   out        per CHILD SA a peer rekeyed: its outbound state goes in at
 *              the latest 5 s after our answer, if no DELETE came first
 *   ike rekey  per IKE SA: ike-lifetime - rekey-margin - random fuzz;
 *              refused: 1 s doubling to 30 s, +0..50 % jitter
 *   create     per IKE SA: a new CHILD SA refused with TEMPORARY_FAILURE:
 *              again after the same backoff
 *   gc         a replaced IKE SA the peer has not deleted within 30 s
 */
#include "ike/ike-internal.h"

#include <errno.h>

#include <sodium.h>

#include "common/log.h"

static double retransmit_delay(const struct ike_sa *sa, int tries)
{
	double base = sa->fast_probe ? 0.5 : 1.0;

	return base * (double)(1 << (tries < 6 ? tries : 6));
}

/* A liveness check went unanswered long enough: true if handled. */
static bool liveness_expired(struct ike_sa *sa, double now)
{
	double limit = sa->tun->conf->dpd_timeout;

	if (!sa->dpd_outstanding)
		return false;
	if (sa->fast_probe && sa->req.tries >= 3) {
		ike_sa_dead(sa, "no answer to a fast liveness check within 3.5 s of one-way "
			    "traffic");
		return true;
	}
	if (!sa->fast_probe && now - sa->req.first_sent >= limit) {
		char why[96];
		snprintf(why, sizeof(why), "no answer to liveness checks for %.0f s "
			 "(dpd-timeout)", now - sa->req.first_sent);
		ike_sa_dead(sa, why);
		return true;
	}
	return false;
}

static void on_request_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;

	if (!sa->req.active)
		return;
	++sa->req.tries;
	if (liveness_expired(sa, ev_now(loop)))
		return;
	if (sa->req.tries >= IKE_RETRANSMIT_TRIES && !sa->dpd_outstanding) {
		ike_sa_fail(sa, "no answer to %s #%u after %d tries: peer unreachable or dead",
			    ike_exchange_name(sa->req.exchange), sa->req.msgid, sa->req.tries);
		return;
	}
	log_debug(LOGC_IKE, "%s: retransmitting %s #%u (try %d)", sa->tun->conf->name,
		  ike_exchange_name(sa->req.exchange), sa->req.msgid, sa->req.tries + 1);
	ike_send_raw(sa->ike, &sa->path, sa->natt, sa->req.buf, sa->req.len);
	double d = retransmit_delay(sa, sa->req.tries);
	if (sa->dpd_outstanding && !sa->fast_probe) {
		/* Never wait past dpd-timeout for the verdict. */
		double left = sa->req.first_sent + sa->tun->conf->dpd_timeout - ev_now(loop);
		if (left < d)
			d = left > 0.1 ? left : 0.1;
	}
	ev_timer_set(w, d, 0.);
	ev_timer_start(loop, w);
}

void ike_timers_request_sent(struct ike_sa *sa)
{
	/*
	 * The loop's clock stops while a callback runs, and making a request
	 * can take long (a DH key pair: 0.4 s under emulation; several
	 * tunnels started at once). Without this the first retransmission
	 * left that much early: after a restart an IKE_SA_INIT went twice
	 * within 90 ms, the peer answered the copy with a COOKIE, and we
	 * signed the request with the cookie while the peer had answered
	 * the one without: AUTHENTICATION_FAILED (VM scenario 73).
	 */
	ev_now_update(sa->ike->loop);
	sa->req.first_sent = ev_now(sa->ike->loop);
	ev_timer_stop(sa->ike->loop, &sa->req.timer);
	ev_timer_init(&sa->req.timer, on_request_timeout, retransmit_delay(sa, 0), 0.);
	sa->req.timer.data = sa;
	ev_timer_start(sa->ike->loop, &sa->req.timer);
}

/* One-way traffic while a request is out: retransmit it on the fast
 * schedule (0.5, 1, 2 s) from now on, and judge liveness by it. */
void ike_timers_hurry_request(struct ike_sa *sa)
{
	sa->req.tries = 0;
	ev_timer_stop(sa->ike->loop, &sa->req.timer);
	ev_timer_set(&sa->req.timer, 0.5, 0.);
	ev_timer_start(sa->ike->loop, &sa->req.timer);
}

void ike_timers_request_answered(struct ike_sa *sa)
{
	ev_timer_stop(sa->ike->loop, &sa->req.timer);
}

static void on_half_open(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;

	if (sa->state == IKE_SA_INIT_DONE)
		ike_sa_fail(sa, "half-open: no IKE_AUTH within %.0f s", IKE_HALF_OPEN_TIMEOUT);
}

void ike_timers_half_open(struct ike_sa *sa)
{
	ev_timer_init(&sa->half_open_timer, on_half_open, IKE_HALF_OPEN_TIMEOUT, 0.);
	sa->half_open_timer.data = sa;
	ev_timer_start(sa->ike->loop, &sa->half_open_timer);
}

/* Inbound packets on the CHILD SAs since the last look? Protected
 * traffic from the peer proves it alive as well as a message (2.4). */
static bool inbound_traffic(struct ike_sa *sa)
{
	uint64_t sum = 0, in, out;
	bool moved;

	for (struct child_sa *c = sa->children; c; c = c->next)
		if (c->installed && c->out_installed && child_packets(c, &in, &out) == 0)
			sum += in;
	moved = sum != sa->dpd_in;
	sa->dpd_in = sum;
	return moved;
}

static void on_dpd(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;
	double delay = sa->tun->conf->dpd_delay;
	double idle;

	if (sa->state != IKE_SA_ESTABLISHED)
		return;
	if (inbound_traffic(sa))
		sa->last_rx = ev_now(loop);
	idle = ev_now(loop) - sa->last_rx;
	if (idle >= delay)
		ike_dpd_start(sa, false);
	ev_timer_set(w, idle >= delay ? delay : delay - idle, 0.);
	ev_timer_start(loop, w);
}

static void on_keepalive(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;

	if (sa->state == IKE_SA_ESTABLISHED && sa->ike->ops.send_keepalive)
		sa->ike->ops.send_keepalive(sa->ike->arg, &sa->path);
}

static double ike_rekey_delay(const struct ike_sa *sa)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	double margin = t->rekey_margin;
	double fuzz = margin * t->rekey_fuzz / 100.0 * randombytes_uniform(1001) / 1000.0;
	double d = (double)t->ike_lifetime - margin - fuzz;

	return d < 1.0 ? 1.0 : d;
}

static void on_ike_rekey(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;
	int r = ike_rekey_start(sa);

	if (r == -EBUSY || r == -ENOMEM) {
		ev_timer_set(w, 1.0, 0.);
		ev_timer_start(loop, w);
	}
}

static void on_gc(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;

	ike_log_sa(sa, "replaced IKE SA not deleted by the peer: removing it");
	ike_sa_set_state(sa, IKE_SA_DEAD, "replaced");
	ike_sa_destroy(sa);
}

void ike_timers_ike_rekeyed(struct ike_sa *old)
{
	ev_timer_stop(old->ike->loop, &old->dpd_timer);
	ev_timer_stop(old->ike->loop, &old->probe_timer);
	ev_timer_stop(old->ike->loop, &old->ike_rekey_timer);
	ev_timer_stop(old->ike->loop, &old->keepalive_timer);
	ev_timer_stop(old->ike->loop, &old->create_timer);
	ev_timer_init(&old->gc_timer, on_gc, 30.0, 0.);
	old->gc_timer.data = old;
	ev_timer_start(old->ike->loop, &old->gc_timer);
}

/* After the n-th refusal in a row: 1 s doubling to 30 s, plus up to half
 * of it at random, so two ends that refused each other (a CHILD rekey
 * against an IKE rekey) do not try again in step. */
static double refusal_backoff(unsigned n)
{
	double d = IKE_BACKOFF_MIN * (double)(1u << (n > 1 ? (n < 7 ? n - 1 : 6) : 0));

	if (d > IKE_BACKOFF_MAX)
		d = IKE_BACKOFF_MAX;
	return d * (1.0 + randombytes_uniform(501) / 1000.0);
}

void ike_timers_ike_rekey_retry(struct ike_sa *sa)
{
	ev_timer_stop(sa->ike->loop, &sa->ike_rekey_timer);
	ev_timer_set(&sa->ike_rekey_timer, refusal_backoff(sa->ike_rekey_refusals), 0.);
	ev_timer_start(sa->ike->loop, &sa->ike_rekey_timer);
}

static void on_create(struct ev_loop *loop, ev_timer *w, int revents)
{
	child_ensure(w->data);
}

void ike_timers_child_create_retry(struct ike_sa *sa)
{
	ev_timer_stop(sa->ike->loop, &sa->create_timer);
	ev_timer_init(&sa->create_timer, on_create, refusal_backoff(sa->create_refusals), 0.);
	sa->create_timer.data = sa;
	ev_timer_start(sa->ike->loop, &sa->create_timer);
}

/*
 * Traffic out, nothing back: the path may be gone; ask the peer now. When
 * the peer answers and the traffic stays one-way (the other end returns
 * it over another tunnel: asymmetric routing), ask again after 1, 2, 4,
 * 8 looks, never longer apart than dpd-delay, and log only the first.
 */
static void probe_now(struct ike_sa *sa, uint64_t n_out)
{
	const struct cgw_tunnel_conf *tc = sa->tun->conf;
	unsigned max_wait = tc->liveness_probe ? tc->dpd_delay / tc->liveness_probe : 0;

	if (sa->probe_backoff == 0)
		log_info("%s: %llu packets out, none in for %us: checking the peer now",
			 tc->name, (unsigned long long)n_out, tc->liveness_probe);
	else
		log_debug(LOGC_IKE, "%s: traffic still one-way: checking the peer again",
			  tc->name);
	ike_dpd_start(sa, true);
	sa->probe_wait = (1u << sa->probe_backoff) - 1;
	if (max_wait && sa->probe_wait >= max_wait)
		sa->probe_wait = max_wait - 1;
	if (sa->probe_backoff < 4)
		sa->probe_backoff++;
}

/*
 * The peer has answered IKE_PROBE_HEAL checks and still nothing comes in
 * over the CHILD SA: it may have lost its end of it (a data-plane restart
 * that kept the IKE SA) and drop all we send. Rekey the CHILD SA once per
 * one-way spell: a lost SA is replaced (or CHILD_SA_NOT_FOUND makes a new
 * one), and where the traffic is merely asymmetric the rekey costs nothing
 * (make-before-break). The exchange is itself a liveness check.
 */
#define IKE_PROBE_HEAL 2

static void heal_child(struct ike_sa *sa, struct child_sa *c, uint64_t n_out)
{
	if (child_rekey_start(c) < 0) {
		probe_now(sa, n_out);	/* busy: an ordinary check this time */
		return;
	}
	log_info("%s: the peer answers but nothing has come in over the CHILD SA for %u "
		 "checks: rekeying it in case the peer lost its end",
		 sa->tun->conf->name, sa->probe_backoff);
	sa->probe_healed = true;
	sa->probe_wait = (1u << sa->probe_backoff) - 1;
	if (sa->probe_backoff < 4)
		sa->probe_backoff++;
}

static void on_probe(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_sa *sa = w->data;
	uint64_t in = 0, out = 0;
	struct child_sa *c = sa->children;

	if (sa->state != IKE_SA_ESTABLISHED || !c || child_packets(c, &in, &out) < 0)
		return;
	/* Fewer than before: a new CHILD SA whose counters start at zero
	 * (take it as the new baseline); more: traffic is two-way again. */
	if (in > sa->probe_in) {
		sa->probe_backoff = sa->probe_wait = 0;
		sa->probe_healed = false;
	}
	if (out > sa->probe_out && in == sa->probe_in && !sa->fast_probe) {
		if (sa->probe_wait > 0)
			sa->probe_wait--;
		else if (sa->probe_backoff >= IKE_PROBE_HEAL && !sa->probe_healed)
			heal_child(sa, c, out - sa->probe_out);
		else
			probe_now(sa, out - sa->probe_out);
	}
	sa->probe_in = in;
	sa->probe_out = out;
}

/*
 * The first liveness look, on a grid of the probe period shared by every
 * tunnel: all tunnels then look in the same loop wakeup, and an idle
 * gateway wakes once per period rather than once per tunnel and period
 * (libev keeps a repeating timer on its grid).
 */
static double probe_first(struct ev_loop *loop, double probe)
{
	long long period = (long long)(probe * 1000.0);
	long long now = (long long)(ev_now(loop) * 1000.0);

	if (period <= 0)
		return probe;
	return (double)(period - now % period) / 1000.0;
}

void ike_timers_established(struct ike_sa *sa)
{
	double probe = sa->tun->conf->liveness_probe;

	ev_timer_stop(sa->ike->loop, &sa->probe_timer);
	if (probe > 0) {
		ev_timer_init(&sa->probe_timer, on_probe, probe_first(sa->ike->loop, probe), probe);
		sa->probe_timer.data = sa;
		ev_timer_start(sa->ike->loop, &sa->probe_timer);
	}
	ev_timer_stop(sa->ike->loop, &sa->ike_rekey_timer);
	ev_timer_stop(sa->ike->loop, &sa->dpd_timer);
	ev_timer_stop(sa->ike->loop, &sa->keepalive_timer);
	ev_timer_init(&sa->ike_rekey_timer, on_ike_rekey, ike_rekey_delay(sa), 0.);
	sa->ike_rekey_timer.data = sa;
	ev_timer_start(sa->ike->loop, &sa->ike_rekey_timer);
	if (sa->nat_local) {
		ev_timer_init(&sa->keepalive_timer, on_keepalive, IKE_NATT_KEEPALIVE,
			      IKE_NATT_KEEPALIVE);
		sa->keepalive_timer.data = sa;
		ev_timer_start(sa->ike->loop, &sa->keepalive_timer);
	}
	ev_timer_stop(sa->ike->loop, &sa->half_open_timer);
	sa->last_rx = ev_now(sa->ike->loop);
	inbound_traffic(sa);		/* the counters as they stand now */
	ev_timer_init(&sa->dpd_timer, on_dpd, sa->tun->conf->dpd_delay, 0.);
	sa->dpd_timer.data = sa;
	ev_timer_start(sa->ike->loop, &sa->dpd_timer);
}

void ike_timers_msg_rcvd(struct ike_sa *sa)
{
	sa->last_rx = ev_now(sa->ike->loop);
}

void ike_timers_stop(struct ike_sa *sa)
{
	ev_timer_stop(sa->ike->loop, &sa->req.timer);
	ev_timer_stop(sa->ike->loop, &sa->half_open_timer);
	ev_timer_stop(sa->ike->loop, &sa->dpd_timer);
	ev_timer_stop(sa->ike->loop, &sa->keepalive_timer);
	ev_timer_stop(sa->ike->loop, &sa->ike_rekey_timer);
	ev_timer_stop(sa->ike->loop, &sa->gc_timer);
	ev_timer_stop(sa->ike->loop, &sa->probe_timer);
	ev_timer_stop(sa->ike->loop, &sa->create_timer);
}

static void on_reinit(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ike_tunnel *tun = w->data;

	ike_tunnel_initiate(tun);
}

void ike_timers_reinit(struct ike_tunnel *tun, double delay)
{
	ev_timer_stop(tun->ike->loop, &tun->reinit_timer);
	ev_timer_init(&tun->reinit_timer, on_reinit, delay, 0.);
	tun->reinit_timer.data = tun;
	ev_timer_start(tun->ike->loop, &tun->reinit_timer);
}

void ike_timers_tunnel_stop(struct ike_tunnel *tun)
{
	ev_timer_stop(tun->ike->loop, &tun->reinit_timer);
}

static double child_rekey_delay(const struct child_sa *c)
{
	const struct cgw_tunnel_conf *t = c->ike->tun->conf;
	double margin = t->rekey_margin;
	double fuzz = margin * t->rekey_fuzz / 100.0 * randombytes_uniform(1001) / 1000.0;
	double d = (double)t->esp_lifetime - margin - fuzz;

	return d < 1.0 ? 1.0 : d;
}

static void on_child_rekey(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child_sa *c = w->data;
	int r = child_rekey_start(c);

	if (r == 0)
		return;
	if (r != -EINVAL) {
		/* Busy (another request in flight) or no SPI: soon again. */
		ev_timer_set(w, r == -EBUSY ? 1.0 : 10.0, 0.);
		ev_timer_start(loop, w);
	}
}

void ike_timers_child_rekey_retry(struct child_sa *c)
{
	ev_timer_stop(c->ike->ike->loop, &c->rekey_timer);
	ev_timer_init(&c->rekey_timer, on_child_rekey, refusal_backoff(c->refusals), 0.);
	c->rekey_timer.data = c;
	ev_timer_start(c->ike->ike->loop, &c->rekey_timer);
}

void ike_timers_child_installed(struct child_sa *c)
{
	ev_timer_stop(c->ike->ike->loop, &c->rekey_timer);
	ev_timer_init(&c->rekey_timer, on_child_rekey, child_rekey_delay(c), 0.);
	c->rekey_timer.data = c;
	ev_timer_start(c->ike->ike->loop, &c->rekey_timer);
}

static void on_out_deferred(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child_sa *c = w->data;

	child_install_outbound(c);
}

void ike_timers_out_deferred(struct child_sa *c)
{
	ev_timer_init(&c->out_timer, on_out_deferred, 5.0, 0.);
	c->out_timer.data = c;
	ev_timer_start(c->ike->ike->loop, &c->out_timer);
}

void ike_timers_child_stop(struct child_sa *c)
{
	ev_timer_stop(c->ike->ike->loop, &c->rekey_timer);
	ev_timer_stop(c->ike->ike->loop, &c->out_timer);
}
