/*
 * The speaker (bgp/speaker.h): peers from the config, listening sockets,
 * tunnel coupling, import policy into the RIB, the RIB's best paths into
 * the kernel (bgp/fib), export with per-peer policy, status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/speaker-int.h"
#include "common/log.h"
#include "common/util.h"

#define FLUSH_DELAY 0.005		/* RIB changes batched this long */
#define EXPORT_DELAY 0.02		/* export recomputation batched this long */
#define SCAN_INTERVAL 5.0		/* kernel routes for network/redistribute */
#define FIB_RETRY 1.0

static void json_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val ? val : ""));
}

static void json_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static struct bgp_peer *peer_find(struct bgp_speaker *s, const char *name)
{
	for (struct bgp_peer *p = s->peers; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static struct bgp_peer *peer_by_rib(struct bgp_speaker *s, const struct rib_peer *rp)
{
	for (struct bgp_peer *p = s->peers; p; p = p->next)
		if (p->rp == rp)
			return p;
	return NULL;
}

/* ---- RIB -> FIB, batched ---- */

static void flush_now(struct bgp_speaker *s)
{
	ev_timer_stop(s->loop, &s->flush);
	if (rib_pending(s->rib))
		rib_flush_changes(s->rib);
	if (s->fib && fib_resync_needed(s->fib) && !ev_is_active(&s->fib_retry)) {
		ev_timer_set(&s->fib_retry, FIB_RETRY, 0);
		ev_timer_start(s->loop, &s->fib_retry);
	}
}

static void flush_soon(struct bgp_speaker *s)
{
	if (!ev_is_active(&s->flush)) {
		ev_timer_set(&s->flush, FLUSH_DELAY, 0);
		ev_timer_start(s->loop, &s->flush);
	}
}

static void on_flush(struct ev_loop *loop, ev_timer *w, int revents)
{
	flush_now(w->data);
}

static void on_fib_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bgp_speaker *s = w->data;

	if (fib_reconcile(s->fib) == -EAGAIN) {
		ev_timer_set(&s->fib_retry, FIB_RETRY, 0);
		ev_timer_start(s->loop, &s->fib_retry);
	}
}

static void on_leftovers(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bgp_speaker *s = w->data;
	int n = fib_sweep_leftovers(s->fib);

	if (n > 0)
		log_notice("restart time over: removed %d kernel routes not learned again", n);
}

/* ---- export ---- */

static void export_soon(struct bgp_speaker *s)
{
	if (!ev_is_active(&s->export_timer)) {
		ev_timer_set(&s->export_timer, EXPORT_DELAY, 0);
		ev_timer_start(s->loop, &s->export_timer);
	}
}

static void mark_export(struct bgp_speaker *s, bool only_all)
{
	for (struct bgp_peer *p = s->peers; p; p = p->next)
		if (p->est && p->pol &&
		    (p->pol->export == CGW_EXPORT_ALL ||
		     (!only_all && p->pol->export == CGW_EXPORT_LOCAL))) {
			p->export_dirty = true;
			export_soon(s);
		}
}

/* RIB listener: learned routes changed, peers that export them recompute. */
static void on_rib_change(const struct rib_change *c, void *arg)
{
}

static void on_rib_batch(void *arg)
{
	mark_export(arg, true);
}

static int prefix_cmp(const struct cgw_prefix *a, const struct cgw_prefix *b)
{
	uint32_t x = ntohl(a->addr.v4.s_addr), y = ntohl(b->addr.v4.s_addr);

	if (x != y)
		return x < y ? -1 : 1;
	return (int)a->len - (int)b->len;
}

static int out_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct bgp_out *)a)->prefix,
			  &((const struct bgp_out *)b)->prefix);
}

static int out_attrs_cmp(const void *a, const void *b)
{
	const struct bgp_out *x = a, *y = b;

	if (x->attrs != y->attrs)
		return x->attrs < y->attrs ? -1 : 1;
	return prefix_cmp(&x->prefix, &y->prefix);
}

struct export_ctx {
	struct bgp_peer *p;
	struct bgp_out *v;
	size_t n, cap;
	struct bgp_attrs *local[3];	/* by origin */
	/* learned: source attrs -> export attrs, a small cache */
	struct export_cache {
		const struct bgp_attrs *src;
		struct bgp_attrs *dst;
	} *cache;
	size_t n_cache, cap_cache;
	int err;
};

static bool ebgp(const struct bgp_peer *p)
{
	return p->remote_as != p->local_as;
}

/* What we announce to p in place of a (learned: a is the source; else NULL). */
static struct bgp_attrs *export_attrs(struct bgp_peer *p, const struct bgp_attrs *a,
				      uint8_t origin)
{
	struct bgp_attrs *e = a ? bgp_attrs_dup(a) : bgp_attrs_new();

	if (!e)
		return NULL;
	if (!a)
		e->origin = origin;
	e->next_hop = p->est->local.sin_addr;
	if (ebgp(p)) {
		if (bgp_as_path_prepend(e, p->local_as, 1 + (p->pol ? p->pol->prepend : 0)) < 0) {
			bgp_attrs_unref(e);
			return NULL;
		}
		e->has_med = false;	/* MED is not passed to another AS */
		e->has_local_pref = false;
	} else if (!e->has_local_pref) {
		e->has_local_pref = true;
		e->local_pref = RIB_DEFAULT_LOCAL_PREF;
	}
	if (p->pol && p->pol->has_med) {
		e->has_med = true;
		e->med = p->pol->med;
	}
	bgp_attrs_seal(e);
	return e;
}

static int export_add(struct export_ctx *x, const struct cgw_prefix *pfx,
		      struct bgp_attrs *a)
{
	const struct cgw_bgp_policy *pol = x->p->pol;

	if (pol && !conf_prefix_in_list(pfx, pol->export_prefixes, pol->n_export_prefixes))
		return 0;
	if (array_reserve(&x->v, &x->cap, x->n, sizeof(*x->v)) < 0)
		return -ENOMEM;
	x->v[x->n].prefix = *pfx;
	x->v[x->n].attrs = bgp_attrs_ref(a);
	x->n++;
	return 0;
}

static struct bgp_attrs *learned_attrs(struct export_ctx *x, const struct bgp_attrs *src)
{
	struct bgp_attrs *e;

	for (size_t i = 0; i < x->n_cache; i++)
		if (x->cache[i].src == src)
			return x->cache[i].dst;
	if (array_reserve(&x->cache, &x->cap_cache, x->n_cache, sizeof(*x->cache)) < 0)
		return NULL;
	e = export_attrs(x->p, src, 0);
	if (!e)
		return NULL;
	x->cache[x->n_cache++] = (struct export_cache){ src, e };
	return e;
}

static int export_walk(const struct rib_route *r, void *arg)
{
	struct export_ctx *x = arg;
	const struct rib_path_info *best;
	struct bgp_peer *from;
	struct bgp_attrs *e;

	if (r->n_best == 0)
		return 0;
	best = &r->paths[0];
	from = peer_by_rib(x->p->sp, best->peer);
	if (!from || from == x->p)
		return 0;			/* never back to where it came from */
	if (!ebgp(from) && !ebgp(x->p))
		return 0;			/* no iBGP to iBGP (no route reflection) */
	if (ebgp(x->p) && bgp_as_path_contains(best->attrs, x->p->remote_as))
		return 0;			/* it would drop it as a loop */
	for (size_t i = 0; i < x->p->sp->n_local; i++)
		if (prefix_cmp(&x->p->sp->local[i].prefix, &r->prefix) == 0)
			return 0;		/* our own announcement wins */
	e = learned_attrs(x, best->attrs);
	if (!e) {
		x->err = -ENOMEM;
		return 1;
	}
	return export_add(x, &r->prefix, e) < 0 ? (x->err = -ENOMEM, 1) : 0;
}

static void out_free(struct bgp_out *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bgp_attrs_unref(v[i].attrs);
	free(v);
}

/* Compute what p should have now, sorted by prefix, with the out limit applied. */
static int export_compute(struct bgp_peer *p, struct bgp_out **out, size_t *n_out)
{
	struct bgp_speaker *s = p->sp;
	struct export_ctx x = { .p = p };
	enum cgw_bgp_export mode = p->pol ? p->pol->export : CGW_EXPORT_NONE;
	uint32_t limit = p->pol ? p->pol->max_prefix_out : 0;

	if (mode != CGW_EXPORT_NONE) {
		for (size_t i = 0; i < s->n_local && !x.err; i++) {
			uint8_t o = s->local[i].origin;

			if (!x.local[o])
				x.local[o] = export_attrs(p, NULL, o);
			if (!x.local[o] || export_add(&x, &s->local[i].prefix, x.local[o]) < 0)
				x.err = -ENOMEM;
		}
	}
	if (mode == CGW_EXPORT_ALL && !x.err)
		rib_walk(s->rib, export_walk, &x);
	for (size_t i = 0; i < 3; i++)
		bgp_attrs_unref(x.local[i]);
	for (size_t i = 0; i < x.n_cache; i++)
		bgp_attrs_unref(x.cache[i].dst);
	free(x.cache);
	if (x.err) {
		out_free(x.v, x.n);
		return x.err;
	}
	if (x.n)
		qsort(x.v, x.n, sizeof(*x.v), out_cmp);
	if (limit && x.n > limit) {
		if (!p->out_limited)
			log_warnx("%s: %zu prefixes to announce, more than max-prefix-out %u: "
				  "announcing the first %u only (the peer would reset the "
				  "session above its limit)", p->name, x.n, limit, limit);
		p->out_limited = true;
		for (size_t i = limit; i < x.n; i++)
			bgp_attrs_unref(x.v[i].attrs);
		x.n = limit;
	} else {
		if (p->out_limited)
			log_notice("%s: %zu prefixes to announce, within max-prefix-out again",
				   p->name, x.n);
		p->out_limited = false;
	}
	*out = x.v;
	*n_out = x.n;
	return 0;
}

static int send_withdraws(struct bgp_peer *p, const struct cgw_prefix *v, size_t n)
{
	size_t done = 0;

	while (done < n) {
		uint8_t buf[BGP_MSG_MAX];
		struct buf_writer w;
		struct span sp;

		wr_init(&w, buf, sizeof(buf));
		if (bgp_build_withdraw(&w, v, n, &done) < 0)
			return -EMSGSIZE;
		sp = wr_result(&w);
		if (bgp_conn_send(p->est, sp.p, sp.len) < 0)
			return -EIO;
		p->updates_out++;
	}
	return 0;
}

static int send_announces(struct bgp_peer *p, struct bgp_out *v, size_t n)
{
	struct cgw_prefix *pfx;
	size_t i = 0;
	int r = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), out_attrs_cmp);
	pfx = malloc(n * sizeof(*pfx));
	if (!pfx)
		return -ENOMEM;
	while (i < n && r == 0) {
		size_t j = i, k = 0, done = 0;

		while (j < n && v[j].attrs == v[i].attrs)
			pfx[k++] = v[j++].prefix;
		while (done < k && r == 0) {
			uint8_t buf[BGP_MSG_MAX];
			struct buf_writer w;
			struct span sp;

			wr_init(&w, buf, sizeof(buf));
			if (bgp_build_update(&w, v[i].attrs, pfx, k, &done, &p->est->wire) < 0) {
				r = -EMSGSIZE;
				break;
			}
			sp = wr_result(&w);
			if (bgp_conn_send(p->est, sp.p, sp.len) < 0)
				r = -EIO;
			p->updates_out++;
		}
		i = j;
	}
	free(pfx);
	return r;
}

/* Bring p's Adj-RIB-Out to what it should be: withdraw, announce the difference. */
static void export_peer(struct bgp_peer *p)
{
	struct bgp_out *want = NULL, *ann;
	struct cgw_prefix *wd;
	size_t n_want = 0, n_ann = 0, n_wd = 0, i = 0, j = 0;
	int r;

	p->export_dirty = false;
	if (!p->est)
		return;
	r = export_compute(p, &want, &n_want);
	if (r < 0) {
		log_warnx("%s: cannot compute the routes to announce: %s", p->name, strerror(-r));
		return;
	}
	ann = calloc(n_want + 1, sizeof(*ann));
	wd = calloc(p->n_out + 1, sizeof(*wd));
	if (!ann || !wd) {
		free(ann);
		free(wd);
		out_free(want, n_want);
		return;
	}
	while (i < p->n_out || j < n_want) {
		int c = i == p->n_out ? 1 : j == n_want ? -1 :
			prefix_cmp(&p->out[i].prefix, &want[j].prefix);

		if (c < 0) {
			wd[n_wd++] = p->out[i++].prefix;
		} else if (c > 0) {
			ann[n_ann++] = want[j++];
		} else {
			if (!bgp_attrs_equal(p->out[i].attrs, want[j].attrs))
				ann[n_ann++] = want[j];
			i++;
			j++;
		}
	}
	r = send_withdraws(p, wd, n_wd);
	if (r == 0)
		r = send_announces(p, ann, n_ann);
	if (n_wd || n_ann)
		log_debug(LOGC_BGP, "%s: announced %zu, withdrew %zu prefixes (%zu in total)",
			  p->name, n_ann, n_wd, n_want);
	free(ann);
	free(wd);
	out_free(p->out, p->n_out);
	p->out = want;
	p->n_out = n_want;
	if (r < 0)
		log_warnx("%s: cannot send our routes: %s", p->name, strerror(-r));
}

static void on_export(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bgp_speaker *s = w->data;

	for (struct bgp_peer *p = s->peers; p; p = p->next)
		if (p->export_dirty)
			export_peer(p);
}

/* ---- kernel routes for network and redistribute ---- */

static void scan_now(struct bgp_speaker *s)
{
	const struct cgw_bgp_conf *bc = &s->conf->bgp;
	unsigned vti[BGP_MAX_LISTENERS];
	size_t n_vti = 0, n;
	struct bgp_local *v;
	bool changed;
	char buf[64];
	int r;

	for (size_t i = 0; i < s->conf->n_tunnels && n_vti < BGP_MAX_LISTENERS; i++) {
		unsigned k = if_nametoindex(s->conf->tunnels[i].vti);
		if (k)
			vti[n_vti++] = k;
	}
	r = bgp_kroutes_scan(bc, vti, n_vti, &v, &n);
	if (r < 0) {
		log_warnx("cannot read the kernel's routes for network/redistribute: %s",
			  strerror(-r));
		return;
	}
	changed = n != s->n_local ||
		(n && memcmp(v, s->local, n * sizeof(*v)) != 0);
	if (!changed) {
		free(v);
		return;
	}
	/* log what came and went */
	for (size_t i = 0, j = 0; i < s->n_local || j < n;) {
		int c = i == s->n_local ? 1 : j == n ? -1 :
			prefix_cmp(&s->local[i].prefix, &v[j].prefix);
		if (c < 0)
			log_notice("%s: no longer in the kernel: withdrawn",
				   conf_prefix_str(&s->local[i++].prefix, buf, sizeof(buf)));
		else if (c > 0)
			log_notice("%s: %s", conf_prefix_str(&v[j].prefix, buf, sizeof(buf)),
				   v[j].origin == BGP_ORIGIN_IGP ? "network, announced" :
				   "redistributed, announced"), j++;
		else
			i++, j++;
	}
	free(s->local);
	s->local = v;
	s->n_local = n;
	mark_export(s, false);
}

static void on_scan(struct ev_loop *loop, ev_timer *w, int revents)
{
	scan_now(w->data);
}

/* ---- from the sessions ---- */

void bgp_sp_established(struct bgp_peer *p)
{
	struct bgp_speaker *s = p->sp;
	struct rib_peer_conf rc = { 0 };
	int r;

	snprintf(rc.name, sizeof(rc.name), "%s", p->name);
	rc.addr = p->remote.sin_addr;
	rc.ifindex = p->tunnel ? p->ifindex : 0;
	rc.peer_as = p->remote_as;
	rc.local_as = p->local_as;
	rc.router_id = p->peer_id;
	rc.always_compare_med = s->conf->bgp.always_compare_med;
	rc.max_prefix = p->pol ? p->pol->max_prefix_in : 0;
	if (p->rp) {
		/* back from a graceful restart: stale routes stay until End-of-RIB */
		r = rib_peer_update(s->rib, p->rp, &rc);
	} else {
		r = rib_peer_add(s->rib, &rc, &p->rp);
	}
	if (r < 0) {
		log_warnx("%s: cannot register the peer's routes: %s", p->name, strerror(-r));
		bgp_conn_close(p->est, BGP_ERR_CEASE, BGP_SUB_CEASE_OUT_OF_RESOURCES,
			       "out of resources");
		return;
	}
	out_free(p->out, p->n_out);
	p->out = NULL;
	p->n_out = 0;
	export_peer(p);
	if (p->est) {
		uint8_t buf[BGP_HDR_LEN + 4];
		struct buf_writer w;
		struct span sp;

		wr_init(&w, buf, sizeof(buf));
		bgp_build_eor(&w);
		sp = wr_result(&w);
		bgp_conn_send(p->est, sp.p, sp.len);
	}
}

void bgp_sp_down(struct bgp_peer *p, bool stale)
{
	struct bgp_speaker *s = p->sp;

	out_free(p->out, p->n_out);
	p->out = NULL;
	p->n_out = 0;
	p->out_limited = false;
	if (!p->rp)
		return;
	if (stale && p->peer_gr_time) {
		size_t n = rib_mark_stale(s->rib, p->rp);

		p->stale = true;
		log_notice("%s: peer restarting: keeping its %zu routes for up to %u s",
			   p->name, n, p->peer_gr_time);
		ev_timer_stop(s->loop, &p->gr);
		ev_timer_set(&p->gr, p->peer_gr_time, 0);
		ev_timer_start(s->loop, &p->gr);
		return;
	}
	ev_timer_stop(s->loop, &p->gr);
	p->stale = false;
	rib_peer_del(s->rib, p->rp);
	p->rp = NULL;
	flush_now(s);			/* the other tunnel's path takes over now */
}

int bgp_sp_update(struct bgp_peer *p, struct bgp_update *u)
{
	struct bgp_speaker *s = p->sp;
	const struct cgw_bgp_policy *pol = p->pol;
	struct bgp_attrs *a = u->attrs;
	int r = 0;

	if (!p->rp)
		return 0;
	for (size_t i = 0; i < u->n_withdrawn; i++)
		rib_withdraw(s->rib, p->rp, &u->withdrawn[i]);
	if (u->n_nlri && a && pol && pol->has_local_pref) {
		a = bgp_attrs_dup(u->attrs);
		if (!a)
			return -ENOMEM;
		a->has_local_pref = true;
		a->local_pref = pol->local_pref;
		bgp_attrs_seal(a);
	}
	for (size_t i = 0; a && i < u->n_nlri && r != -ERANGE; i++) {
		const struct cgw_prefix *pfx = &u->nlri[i];

		if (pol && (pol->import_none ||
			    !conf_prefix_in_list(pfx, pol->import_prefixes,
						 pol->n_import_prefixes))) {
			rib_withdraw(s->rib, p->rp, pfx);	/* an update may narrow */
			continue;
		}
		r = rib_update(s->rib, p->rp, pfx, a);
		if (r < 0 && r != -ERANGE) {
			char buf[64];
			log_warnx("%s: route %s not stored: %s", p->name,
				  conf_prefix_str(pfx, buf, sizeof(buf)), strerror(-r));
		}
	}
	if (a != u->attrs)
		bgp_attrs_unref(a);
	flush_soon(s);
	return r == -ERANGE ? -ERANGE : 0;
}

void bgp_sp_eor(struct bgp_peer *p)
{
	struct bgp_speaker *s = p->sp;

	ev_timer_stop(s->loop, &p->gr);
	if (!p->rp)
		return;
	if (p->stale) {
		size_t n = rib_sweep_stale(s->rib, p->rp);
		if (n)
			log_notice("%s: %zu stale routes not refreshed: withdrawn", p->name, n);
		p->stale = false;
	}
	if (!p->est) {
		rib_peer_del(s->rib, p->rp);
		p->rp = NULL;
	}
	flush_now(s);
}

void bgp_sp_refresh(struct bgp_peer *p)
{
	out_free(p->out, p->n_out);
	p->out = NULL;
	p->n_out = 0;
	export_peer(p);
}

/* ---- listening ---- */

#define REFUSED_LOG_BURST 10.0
#define REFUSED_LOG_REFILL 6.0

/*
 * A connection from an address that is no neighbor: a stranger can make
 * thousands a second, so at most REFUSED_LOG_BURST lines, then one per
 * REFUSED_LOG_REFILL s, with the count of those not logged.
 */
static void refused_log(struct bgp_speaker *s, struct in_addr from)
{
	double t = ev_now(s->loop);

	if (s->refused_at == 0)
		s->refused_tokens = REFUSED_LOG_BURST;
	else
		s->refused_tokens += (t - s->refused_at) / REFUSED_LOG_REFILL;
	if (s->refused_tokens > REFUSED_LOG_BURST)
		s->refused_tokens = REFUSED_LOG_BURST;
	s->refused_at = t;
	if (s->refused_tokens < 1) {
		s->refused_quiet++;
		return;
	}
	s->refused_tokens -= 1;
	if (s->refused_quiet) {
		log_debug(LOGC_BGP, "%u more connections refused (not a configured neighbor), "
			  "not logged", s->refused_quiet);
		s->refused_quiet = 0;
	}
	log_debug(LOGC_BGP, "connection from %s refused: not a configured neighbor",
		  inet_ntoa(from));
}

/* One connection from the backlog: to its neighbor, or closed. -1 when none. */
static int accept_one(struct bgp_listener *l)
{
	struct sockaddr_in from, local;
	socklen_t fl = sizeof(from), ll = sizeof(local);
	int fd = accept4(l->fd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return -1;
	getsockname(fd, (struct sockaddr *)&local, &ll);
	for (struct bgp_peer *p = l->sp->peers; p; p = p->next) {
		if (p->remote.sin_addr.s_addr != from.sin_addr.s_addr || p->deleted)
			continue;
		if (p->local.sin_addr.s_addr != INADDR_ANY &&
		    p->local.sin_addr.s_addr != local.sin_addr.s_addr)
			continue;
		bgp_peer_accept(p, fd, &local);
		return 0;
	}
	refused_log(l->sp, from.sin_addr);
	close(fd);
	return 0;
}

/*
 * Empty the backlog, a bounded number per wakeup: under a flood of
 * connections the peers' own SYNs still find room (no 1 s SYN retry).
 */
static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	for (int i = 0; i < BGP_ACCEPT_BURST; i++)
		if (accept_one(w->data) < 0)
			break;
}

static void listeners_close(struct bgp_speaker *s)
{
	for (size_t i = 0; i < s->n_listeners; i++) {
		ev_io_stop(s->loop, &s->listeners[i].io);
		close(s->listeners[i].fd);
	}
	s->n_listeners = 0;
}

static void listen_on(struct bgp_speaker *s, struct in_addr addr, uint16_t port)
{
	struct bgp_listener *l;
	int fd, one = 1;

	for (size_t i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].addr.sin_addr.s_addr == addr.s_addr)
			return;
	if (s->n_listeners == BGP_MAX_LISTENERS)
		return;
	l = &s->listeners[s->n_listeners];
	memset(&l->addr, 0, sizeof(l->addr));
	l->addr.sin_family = AF_INET;
	l->addr.sin_addr = addr;
	l->addr.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&l->addr, sizeof(l->addr)) < 0 ||
	    listen(fd, BGP_LISTEN_BACKLOG) < 0) {
		log_warnx("BGP: cannot listen on %s port %u: %s (sessions from peers there "
			  "will not come up; ours still connect out)",
			  inet_ntoa(addr), port, strerror(errno));
		close(fd);
		return;
	}
	l->fd = fd;
	l->sp = s;
	ev_io_init(&l->io, on_accept, fd, EV_READ);
	l->io.data = l;
	ev_io_start(s->loop, &l->io);
	s->n_listeners++;
	log_debug(LOGC_BGP, "listening on %s port %u", inet_ntoa(addr), port);
}

/* Listen where peers are: each local address, or everywhere when one has none. */
static void listeners_open(struct bgp_speaker *s)
{
	uint16_t port = s->conf->bgp.listen_port ? s->conf->bgp.listen_port : 179;
	bool any = false;

	listeners_close(s);
	for (struct bgp_peer *p = s->peers; p; p = p->next)
		if (p->local.sin_addr.s_addr == INADDR_ANY)
			any = true;
	if (any) {
		listen_on(s, (struct in_addr){ INADDR_ANY }, port);
		return;
	}
	for (struct bgp_peer *p = s->peers; p; p = p->next)
		listen_on(s, p->local.sin_addr, port);
}

/* ---- peers from the config ---- */

static void sockaddr_set(struct sockaddr_in *sa, const struct cgw_addr *a, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (a && a->family == AF_INET)
		sa->sin_addr = a->v4;
	sa->sin_port = htons(port);
}

static int peer_from_tunnel(struct bgp_speaker *s, const struct cgw_conf *c,
			    const struct cgw_tunnel_conf *tc, struct bgp_peer **out)
{
	struct bgp_peer *p;
	int r = bgp_peer_new(s, &p);

	if (r < 0)
		return r;
	snprintf(p->name, sizeof(p->name), "%s", tc->name);
	p->tunnel = true;
	sockaddr_set(&p->remote, &tc->remote_inside, 179);
	sockaddr_set(&p->local, &tc->local_inside, 0);
	p->local_as = c->bgp.asn;
	p->remote_as = tc->bgp_peer_asn;
	p->hold_time = (uint16_t)tc->bgp_hold_time;
	p->ttl = 1;
	p->pol = &tc->bgp;
	*out = p;
	return 0;
}

static int peer_from_neighbor(struct bgp_speaker *s, const struct cgw_conf *c,
			      const struct cgw_neighbor_conf *nc, struct bgp_peer **out)
{
	struct bgp_peer *p;
	int r = bgp_peer_new(s, &p);

	if (r < 0)
		return r;
	snprintf(p->name, sizeof(p->name), "%s", nc->name);
	sockaddr_set(&p->remote, &nc->address, nc->port ? nc->port : 179);
	sockaddr_set(&p->local, &nc->local_address, 0);
	p->local_as = c->bgp.asn;
	p->remote_as = nc->remote_asn;
	p->hold_time = (uint16_t)nc->hold_time;
	p->passive = nc->passive;
	p->ttl = nc->multihop ? nc->multihop : 1;
	p->pol = &nc->policy;
	*out = p;
	return 0;
}

static void peer_link(struct bgp_speaker *s, struct bgp_peer *p)
{
	struct bgp_peer **pp = &s->peers;

	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
}

static void peer_unlink_free(struct bgp_speaker *s, struct bgp_peer *p)
{
	for (struct bgp_peer **pp = &s->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->rp) {
		rib_peer_del(s->rib, p->rp);
		p->rp = NULL;
	}
	bgp_peer_free(p);
	flush_now(s);
}

static int peers_add(struct bgp_speaker *s, const struct cgw_conf *c)
{
	for (size_t i = 0; i < c->n_tunnels; i++) {
		const struct cgw_tunnel_conf *tc = &c->tunnels[i];
		struct bgp_peer *p;

		if (!tc->bgp_peer_asn || peer_find(s, tc->name))
			continue;
		if (peer_from_tunnel(s, c, tc, &p) < 0)
			return -ENOMEM;
		peer_link(s, p);
	}
	for (size_t i = 0; i < c->n_neighbors; i++) {
		const struct cgw_neighbor_conf *nc = &c->neighbors[i];
		struct bgp_peer *p;

		if (peer_find(s, nc->name))
			continue;
		if (peer_from_neighbor(s, c, nc, &p) < 0)
			return -ENOMEM;
		peer_link(s, p);
		bgp_peer_start(p);
	}
	return 0;
}

static void timers_init(struct bgp_speaker *s)
{
	ev_init(&s->flush, on_flush);
	ev_init(&s->export_timer, on_export);
	ev_init(&s->scan, on_scan);
	ev_init(&s->fib_retry, on_fib_retry);
	ev_init(&s->leftovers, on_leftovers);
	s->flush.data = s->export_timer.data = s->scan.data = s;
	s->fib_retry.data = s->leftovers.data = s;
}

static void scan_start(struct bgp_speaker *s)
{
	const struct cgw_bgp_conf *bc = &s->conf->bgp;

	ev_timer_stop(s->loop, &s->scan);
	scan_now(s);
	if (bc->redistribute || (bc->n_networks && bc->network_mode == CGW_NETWORK_PRESENT)) {
		ev_timer_set(&s->scan, SCAN_INTERVAL, SCAN_INTERVAL);
		ev_timer_start(s->loop, &s->scan);
	}
}

static int fib_open(struct bgp_speaker *s, struct fib_backend *be)
{
	const struct cgw_bgp_conf *bc = &s->conf->bgp;
	struct fib_conf fc = { .table = bc->table, .metric = bc->metric };
	int r;

	if (!be) {
		r = fib_netlink_open(NULL, &be);
		if (r < 0) {
			log_warnx("BGP: cannot open rtnetlink: %s: learned routes stay out of "
				  "the kernel", strerror(-r));
			return 0;
		}
	}
	r = fib_new(s->rib, &fc, be, &s->fib);
	if (r < 0)
		return r;
	if (bc->restart_time) {
		r = fib_hold_leftovers(s->fib);
		if (r > 0) {
			log_notice("keeping %d BGP routes of the previous instance for up to "
				   "%u s (restart-time)", r, bc->restart_time);
			ev_timer_set(&s->leftovers, bc->restart_time, 0);
			ev_timer_start(s->loop, &s->leftovers);
		}
		return 0;
	}
	r = fib_reconcile(s->fib);
	if (r == -EAGAIN) {
		ev_timer_set(&s->fib_retry, FIB_RETRY, 0);
		ev_timer_start(s->loop, &s->fib_retry);
	}
	return 0;
}

int bgp_speaker_new(struct bgp_speaker **out, struct ev_loop *loop,
		    const struct cgw_conf *conf, struct fib_backend *be)
{
	struct bgp_speaker *s = calloc(1, sizeof(*s));
	struct rib_conf rc = { 0 };
	struct rib_listener l = { .change = on_rib_change, .batch_done = on_rib_batch };
	int r;

	if (!s) {
		if (be)
			fib_backend_close(be);
		return -ENOMEM;
	}
	s->loop = loop;
	s->conf = conf;
	timers_init(s);
	rc.ecmp = conf->bgp.ecmp;
	rc.max_paths = conf->bgp.max_paths;
	r = rib_new(&rc, &s->rib);
	if (r < 0) {
		free(s);
		if (be)
			fib_backend_close(be);
		return r;
	}
	l.arg = s;
	rib_listen(s->rib, &l);
	r = fib_open(s, be);
	if (r == 0)
		r = peers_add(s, conf);
	if (r < 0) {
		bgp_speaker_free(s);
		return r;
	}
	listeners_open(s);
	scan_start(s);
	*out = s;
	return 0;
}

static bool peer_same(const struct cgw_conf *old, const struct cgw_conf *new,
		      const char *name, const struct cgw_bgp_policy **pol)
{
	const struct cgw_tunnel_conf *ot = conf_tunnel_find(old, name);
	const struct cgw_tunnel_conf *nt = conf_tunnel_find(new, name);
	const struct cgw_neighbor_conf *on = conf_neighbor_find(old, name);
	const struct cgw_neighbor_conf *nn = conf_neighbor_find(new, name);

	if (!conf_bgp_equal(&old->bgp, &new->bgp))
		return false;
	if (ot && nt && ot->bgp_peer_asn && nt->bgp_peer_asn &&
	    conf_tunnel_bgp_equal(ot, nt)) {
		*pol = &nt->bgp;
		return true;
	}
	if (on && nn && conf_neighbor_equal(on, nn)) {
		*pol = &nn->policy;
		return true;
	}
	return false;
}

void bgp_speaker_apply(struct bgp_speaker *s, const struct cgw_conf *old,
		       const struct cgw_conf *new)
{
	struct bgp_peer *p, *next;

	if (new->bgp.table != old->bgp.table || new->bgp.metric != old->bgp.metric)
		log_warnx("BGP: a new table or metric takes effect when cgwd restarts");
	s->conf = new;
	if (new->bgp.ecmp != old->bgp.ecmp || new->bgp.max_paths != old->bgp.max_paths)
		rib_set_ecmp(s->rib, new->bgp.ecmp, new->bgp.max_paths);
	for (p = s->peers; p; p = next) {
		const struct cgw_bgp_policy *pol = NULL;
		const struct cgw_tunnel_conf *nt = conf_tunnel_find(new, p->name);
		bool gone = !(nt && nt->bgp_peer_asn) && !conf_neighbor_find(new, p->name);

		next = p->next;
		if (!gone && peer_same(old, new, p->name, &pol)) {
			p->pol = pol;		/* untouched: same session */
			continue;
		}
		if (gone) {
			log_notice("%s: BGP neighbor removed", p->name);
			bgp_peer_stop(p, BGP_ERR_CEASE, BGP_SUB_CEASE_PEER_DECONFIGURED,
				      "neighbor removed from the configuration");
			peer_unlink_free(s, p);
			continue;
		}
		/* changed: a new session with the new settings */
		{
			bool up = p->tunnel && p->enabled;
			unsigned ifindex = p->ifindex;
			struct bgp_peer *np = NULL;

			log_notice("%s: BGP settings changed: session reset", p->name);
			bgp_peer_stop(p, BGP_ERR_CEASE, BGP_SUB_CEASE_OTHER_CONFIG_CHANGE,
				      "configuration changed");
			peer_unlink_free(s, p);
			if (nt && nt->bgp_peer_asn && peer_from_tunnel(s, new, nt, &np) == 0) {
				np->ifindex = ifindex;
				peer_link(s, np);
				if (up)
					bgp_peer_start(np);
			}
		}
	}
	if (peers_add(s, new) < 0)
		log_warnx("BGP: out of memory adding neighbors");
	listeners_open(s);
	scan_start(s);
	mark_export(s, false);
}

void bgp_speaker_tunnel_up(struct bgp_speaker *s, const char *tunnel, unsigned ifindex)
{
	struct bgp_peer *p = s ? peer_find(s, tunnel) : NULL;

	if (!p || !p->tunnel)
		return;
	p->ifindex = ifindex;
	log_info("%s: tunnel up: starting its BGP session", p->name);
	bgp_peer_start(p);
}

void bgp_speaker_tunnel_down(struct bgp_speaker *s, const char *tunnel, const char *why)
{
	struct bgp_peer *p = s ? peer_find(s, tunnel) : NULL;
	char reason[200];

	if (!p || !p->tunnel || !p->enabled)
		return;
	snprintf(reason, sizeof(reason), "tunnel down: %s", why);
	if (p->est)
		log_notice("%s: BGP session closed, routes via the tunnel withdrawn (%s)",
			   p->name, reason);
	/* no NOTIFICATION: the tunnel cannot carry it */
	bgp_peer_stop(p, 0, 0, reason);
	if (p->rp) {			/* stale routes of a restarting peer too */
		ev_timer_stop(s->loop, &p->gr);
		p->stale = false;
		rib_peer_del(s->rib, p->rp);
		p->rp = NULL;
	}
	flush_now(s);
}

int bgp_speaker_control(struct bgp_speaker *s, const char *action, const char *name,
			char *err, size_t errlen)
{
	struct bgp_peer *p = s ? peer_find(s, name) : NULL;

	if (!p) {
		snprintf(err, errlen, "no BGP neighbor '%s'", name);
		return -ENOENT;
	}
	if (strcmp(action, "reset") == 0) {
		bool enabled = p->enabled;

		p->idle_until = 0;		/* the operator's word ends a max-prefix idle */
		bgp_peer_stop(p, BGP_ERR_CEASE, BGP_SUB_CEASE_ADMIN_RESET,
			      "reset by the operator (cgwctl bgp reset)");
		if (enabled)
			bgp_peer_start(p);
		return 0;
	}
	if (strcmp(action, "refresh") == 0) {
		uint8_t buf[32];
		struct buf_writer w;
		struct bgp_route_refresh rr = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST };
		struct span sp;

		if (!p->est) {
			snprintf(err, errlen, "%s: session not established", name);
			return -ENOTCONN;
		}
		if (!p->est->open || !p->est->open->cap_route_refresh) {
			snprintf(err, errlen, "%s: the peer does not support route refresh", name);
			return -EOPNOTSUPP;
		}
		wr_init(&w, buf, sizeof(buf));
		bgp_build_route_refresh(&w, &rr);
		sp = wr_result(&w);
		return bgp_conn_send(p->est, sp.p, sp.len);
	}
	snprintf(err, errlen, "unknown action '%s' (reset, refresh)", action);
	return -EINVAL;
}

/* ---- status ---- */

static struct json_object *peer_status(struct bgp_speaker *s, struct bgp_peer *p)
{
	struct json_object *o = json_object_new_object();
	struct rib_peer_counts rc = { 0 };
	enum bgp_state st = bgp_peer_state(p);
	char buf[64];
	double t = ev_now(s->loop);

	json_str(o, "name", p->name);
	if (p->tunnel)
		json_str(o, "tunnel", p->name);
	json_str(o, "address", inet_ntop(AF_INET, &p->remote.sin_addr, buf, sizeof(buf)));
	if (p->local.sin_addr.s_addr != INADDR_ANY)
		json_str(o, "local_address",
			 inet_ntop(AF_INET, &p->local.sin_addr, buf, sizeof(buf)));
	if (ntohs(p->remote.sin_port) != 179)
		json_int(o, "port", ntohs(p->remote.sin_port));
	json_int(o, "remote_as", p->remote_as);
	json_int(o, "local_as", p->local_as);
	json_str(o, "type", ebgp(p) ? "ebgp" : "ibgp");
	json_str(o, "state", bgp_state_name(st));
	if (p->est) {
		json_int(o, "uptime", (int64_t)(t - p->established_at));
		json_int(o, "hold_time", p->est->hold_time);
		json_int(o, "keepalive", p->est->hold_time / 3);
		json_str(o, "router_id", inet_ntop(AF_INET, &p->peer_id, buf, sizeof(buf)));
		json_object_object_add(o, "graceful_restart",
				       json_object_new_boolean(p->peer_gr));
	} else {
		json_int(o, "hold_time", p->hold_time);
		if (p->down_at > 0)
			json_int(o, "down_for", (int64_t)(t - p->down_at));
		if (!p->enabled)
			json_str(o, "reason", p->tunnel ? "waiting for the tunnel" : "stopped");
	}
	if (p->rp)
		rib_peer_counts(p->rp, &rc);
	json_int(o, "prefixes_received", (int64_t)rc.received);
	json_int(o, "prefixes_accepted", (int64_t)rc.accepted);
	json_int(o, "prefixes_best", (int64_t)rc.best);
	json_int(o, "prefixes_stale", (int64_t)rc.stale);
	json_int(o, "prefixes_advertised", (int64_t)p->n_out);
	if (p->pol) {
		json_int(o, "max_prefix_in", p->pol->max_prefix_in);
		json_int(o, "max_prefix_out", p->pol->max_prefix_out);
		json_object_object_add(o, "max_prefix_out_hit",
				       json_object_new_boolean(p->out_limited));
	}
	json_int(o, "established_count", p->established_count);
	json_int(o, "messages_in", (int64_t)p->msgs_in);
	json_int(o, "messages_out", (int64_t)p->msgs_out);
	json_int(o, "updates_in", (int64_t)p->updates_in);
	json_int(o, "updates_out", (int64_t)p->updates_out);
	json_int(o, "update_errors", (int64_t)p->errors_7606);
	if (p->last_error[0])
		json_str(o, "last_error", p->last_error);
	return o;
}

void bgp_speaker_status(struct bgp_speaker *s, struct json_object *neighbors)
{
	for (struct bgp_peer *p = s ? s->peers : NULL; p; p = p->next)
		json_object_array_add(neighbors, peer_status(s, p));
}

struct json_object *bgp_speaker_peer_status(struct bgp_speaker *s, const char *name)
{
	struct bgp_peer *p = s ? peer_find(s, name) : NULL;

	return p ? peer_status(s, p) : NULL;
}

unsigned bgp_speaker_established(const struct bgp_speaker *s)
{
	unsigned n = 0;

	for (const struct bgp_peer *p = s ? s->peers : NULL; p; p = p->next)
		n += p->est != NULL;
	return n;
}

static const char *origin_name(uint8_t o)
{
	return o == BGP_ORIGIN_IGP ? "igp" : o == BGP_ORIGIN_EGP ? "egp" : "incomplete";
}

struct routes_ctx {
	struct route_json {
		struct cgw_prefix prefix;	/* to sort by */
		struct json_object *o;
	} *v;
	size_t n, cap;
};

static int routes_walk(const struct rib_route *r, void *arg)
{
	struct routes_ctx *x = arg;
	struct json_object *o = json_object_new_object(), *paths = json_object_new_array();
	char buf[256];

	if (array_reserve(&x->v, &x->cap, x->n, sizeof(*x->v)) < 0) {
		json_object_put(o);
		json_object_put(paths);
		return 1;
	}
	json_str(o, "prefix", conf_prefix_str(&r->prefix, buf, sizeof(buf)));
	json_object_object_add(o, "installed", json_object_new_boolean(r->installed));
	json_str(o, "reason", rib_reason_name(r->reason));
	for (size_t i = 0; i < r->n_paths; i++) {
		const struct rib_path_info *pi = &r->paths[i];
		struct json_object *po = json_object_new_object();

		json_str(po, "peer", pi->peer_conf->name);
		json_str(po, "next_hop", inet_ntop(AF_INET, &pi->peer_conf->addr, buf, sizeof(buf)));
		json_str(po, "as_path", bgp_as_path_str(pi->attrs, buf, sizeof(buf)));
		json_str(po, "origin", origin_name(pi->attrs->origin));
		if (pi->attrs->has_med)
			json_int(po, "med", pi->attrs->med);
		if (pi->attrs->has_local_pref)
			json_int(po, "local_pref", pi->attrs->local_pref);
		json_object_object_add(po, "best", json_object_new_boolean(pi->best));
		if (pi->stale)
			json_object_object_add(po, "stale", json_object_new_boolean(true));
		if (!pi->eligible)
			json_object_object_add(po, "loop", json_object_new_boolean(true));
		json_object_array_add(paths, po);
	}
	json_object_object_add(o, "paths", paths);
	x->v[x->n++] = (struct route_json){ r->prefix, o };
	return 0;
}

static int route_json_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct route_json *)a)->prefix,
			  &((const struct route_json *)b)->prefix);
}

struct json_object *bgp_speaker_routes(struct bgp_speaker *s)
{
	struct json_object *res = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct json_object *local = json_object_new_array();
	struct routes_ctx x = { 0 };
	char buf[64];

	if (s) {
		rib_walk(s->rib, routes_walk, &x);
		if (x.n > 1)			/* by prefix, for people */
			qsort(x.v, x.n, sizeof(*x.v), route_json_cmp);
		for (size_t i = 0; i < x.n; i++)
			json_object_array_add(arr, x.v[i].o);
		free(x.v);
		for (size_t i = 0; i < s->n_local; i++) {
			struct json_object *o = json_object_new_object();

			json_str(o, "prefix", conf_prefix_str(&s->local[i].prefix, buf, sizeof(buf)));
			json_str(o, "origin", s->local[i].origin == BGP_ORIGIN_IGP ?
				 "network" : "redistributed");
			json_object_array_add(local, o);
		}
	}
	json_object_object_add(res, "routes", arr);
	json_object_object_add(res, "local", local);
	return res;
}

void bgp_speaker_free(struct bgp_speaker *s)
{
	struct bgp_peer *p, *next;

	if (!s)
		return;
	s->shutting_down = true;
	if (s->fib && s->conf->bgp.restart_time) {
		/* keep our kernel routes for the next instance: stop listening first */
		fib_free(s->fib);
		s->fib = NULL;
		log_info("keeping BGP routes in the kernel for restart-time %u s",
			 s->conf->bgp.restart_time);
	}
	for (p = s->peers; p; p = p->next)
		if (p->enabled)
			bgp_peer_stop(p, BGP_ERR_CEASE, BGP_SUB_CEASE_ADMIN_SHUTDOWN,
				      "cgwd shutting down");
	listeners_close(s);
	ev_timer_stop(s->loop, &s->flush);
	ev_timer_stop(s->loop, &s->export_timer);
	ev_timer_stop(s->loop, &s->scan);
	ev_timer_stop(s->loop, &s->fib_retry);
	ev_timer_stop(s->loop, &s->leftovers);
	for (p = s->peers; p; p = next) {
		next = p->next;
		if (p->rp)
			rib_peer_del(s->rib, p->rp);
		p->rp = NULL;
		bgp_peer_free(p);
	}
	s->peers = NULL;
	if (s->fib) {
		if (s->rib)
			rib_flush_changes(s->rib);
		int n = fib_remove_all(s->fib);

		if (n > 0)
			log_info("removed %d BGP routes from the kernel", n);
		fib_free(s->fib);
	}
	rib_free(s->rib);
	free(s->local);
	free(s);
}
