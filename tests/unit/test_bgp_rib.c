/*
 * bgp/rib: best-path selection as a table (candidates, winner, deciding
 * step; each row in every input order), ECMP sets, withdraw, session
 * flush, graceful-restart stale sweep, max-prefix, change batching
 * (zombies keep the old best set), interning at 100k prefixes, peer
 * updates and removal, status walk.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "bgp/rib.h"
#include "common/log.h"

#define LOCAL_AS 65000u

/* ---------------------------------------------------------- helpers */

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct cgw_prefix pfx(const char *s, uint8_t len)
{
	struct cgw_prefix p;

	memset(&p, 0, sizeof(p));
	p.addr.family = AF_INET;
	p.addr.v4 = ip(s);
	p.len = len;
	return p;
}

/* 10.(i>>8).(i&255).0/24 */
static struct cgw_prefix pfx_n(uint32_t i)
{
	struct cgw_prefix p;

	memset(&p, 0, sizeof(p));
	p.addr.family = AF_INET;
	p.addr.v4.s_addr = htonl(0x0a000000u | (i & 0xffffu) << 8);
	p.len = 24;
	return p;
}

/* Attributes: lp/med < 0 means absent; path is 0-terminated, ASes from
 * index set_at on form an AS_SET (set_at < 0: none). */
struct attr_spec {
	int64_t lp;
	uint32_t path[6];
	int set_at;
	uint8_t origin;
	int64_t med;
};

static void add_seg(struct bgp_attrs *a, uint8_t type, const uint32_t *as, size_t n)
{
	struct bgp_as_seg *s;

	a->segs = realloc(a->segs, (a->n_segs + 1) * sizeof(*a->segs));
	assert_non_null(a->segs);
	s = &a->segs[a->n_segs++];
	s->type = type;
	s->len = (uint8_t)n;
	s->as = calloc(n, sizeof(uint32_t));
	assert_non_null(s->as);
	memcpy(s->as, as, n * sizeof(uint32_t));
}

static struct bgp_attrs *mkattrs(const struct attr_spec *sp)
{
	struct bgp_attrs *a = bgp_attrs_new();
	size_t n = 0;

	assert_non_null(a);
	while (n < 6 && sp->path[n])
		n++;
	size_t seq = sp->set_at >= 0 && (size_t)sp->set_at < n ? (size_t)sp->set_at : n;

	if (seq)
		add_seg(a, BGP_AS_SEQUENCE, sp->path, seq);
	if (seq < n)
		add_seg(a, BGP_AS_SET, sp->path + seq, n - seq);
	a->origin = sp->origin;
	a->has_local_pref = sp->lp >= 0;
	a->local_pref = sp->lp >= 0 ? (uint32_t)sp->lp : 0;
	a->has_med = sp->med >= 0;
	a->med = sp->med >= 0 ? (uint32_t)sp->med : 0;
	a->next_hop = ip("169.254.10.1");
	bgp_attrs_seal(a);
	return a;
}

/* The usual eBGP path from AWS: AS 64512, MED med (< 0: none). */
static struct bgp_attrs *aws_attrs(int64_t med)
{
	struct attr_spec sp = { .lp = -1, .path = { 64512 }, .set_at = -1, .med = med };

	return mkattrs(&sp);
}

static int update(struct rib *rib, struct rib_peer *p, const struct cgw_prefix *x,
		  struct bgp_attrs *a)
{
	int ret = rib_update(rib, p, x, a);

	bgp_attrs_unref(a);		/* the RIB keeps its own */
	return ret;
}

static struct rib_peer_conf peer_conf(const char *name, const char *addr, uint32_t as,
				      const char *rid)
{
	struct rib_peer_conf c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.addr = ip(addr);
	c.peer_as = as;
	c.local_as = LOCAL_AS;
	c.router_id = ip(rid);
	return c;
}

static struct rib_peer *add_peer(struct rib *rib, const char *name, const char *addr,
				 uint32_t as, const char *rid)
{
	struct rib_peer_conf c = peer_conf(name, addr, as, rid);
	struct rib_peer *p;

	assert_int_equal(rib_peer_add(rib, &c, &p), 0);
	return p;
}

/* ---------------------------------------------------------- recorder */

/* Listener: "10.0.0.0/24 A -> B,C" per change, "batch" per batch. */
struct rec {
	char log[8192];
	size_t changes, batches, forced;
};

static void sel_str(const struct rib_sel *s, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (n == 0)
		snprintf(buf, len, "-");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					rib_peer_conf(s[i].peer)->name);
}

static void rec_change(const struct rib_change *c, void *arg)
{
	struct rec *r = arg;
	char a[INET_ADDRSTRLEN], o[64], n[64];
	size_t len = strlen(r->log);

	inet_ntop(AF_INET, &c->prefix.addr.v4, a, sizeof(a));
	sel_str(c->old_best, c->n_old, o, sizeof(o));
	sel_str(c->new_best, c->n_new, n, sizeof(n));
	if (len < sizeof(r->log) - 100)
		snprintf(r->log + len, sizeof(r->log) - len, "%s/%u %s -> %s%s\n", a,
			 c->prefix.len, o, n, c->forced ? " forced" : "");
	r->changes++;
	r->forced += c->forced;
}

static void rec_batch(void *arg)
{
	((struct rec *)arg)->batches++;
}

static struct rib *new_rib(bool ecmp, struct rec *r)
{
	struct rib_conf conf = { .ecmp = ecmp };
	struct rib_listener l = { rec_change, rec_batch, r };
	struct rib *rib;

	memset(r, 0, sizeof(*r));
	assert_int_equal(rib_new(&conf, &rib), 0);
	assert_int_equal(rib_listen(rib, &l), 0);
	return rib;
}

/* Lookup helper: the route's best set and reason. */
struct got {
	size_t n_best, n_paths;
	const struct rib_peer *best[RIB_MAX_ECMP];
	const struct bgp_attrs *best_attrs;
	enum rib_reason reason;
	bool installed;
};

static int got_fn(const struct rib_route *r, void *arg)
{
	struct got *g = arg;

	memset(g, 0, sizeof(*g));
	g->n_best = r->n_best;
	g->n_paths = r->n_paths;
	for (size_t i = 0; i < r->n_best && i < RIB_MAX_ECMP; i++)
		g->best[i] = r->paths[i].peer;
	g->best_attrs = r->n_best ? r->paths[0].attrs : NULL;
	g->reason = r->reason;
	g->installed = r->installed;
	return 0;
}

static struct got lookup(struct rib *rib, const struct cgw_prefix *x)
{
	struct got g;

	memset(&g, 0, sizeof(g));
	assert_int_equal(rib_lookup(rib, x, got_fn, &g), 0);
	return g;
}

/* ---------------------------------------------------------- selection table */

struct cand_row {
	const char *addr, *rid;
	uint32_t peer_as;
	bool acm;			/* always compare MED */
	struct attr_spec a;
};

struct sel_row {
	const char *name;
	size_t n;
	struct cand_row c[3];
	int winner;
	enum rib_reason reason;
};

#define P(...) { __VA_ARGS__ }
#define NO -1
#define EBGP(addr, rid, as) addr, rid, as, false
#define IBGP(addr, rid) addr, rid, LOCAL_AS, false

static const struct sel_row sel_rows[] = {
	{ "only path", 1, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 0, NO } } },
	  0, RIB_REASON_ONLY },
	{ "higher local-pref beats a shorter path", 2, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 0, NO } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64513), { 200, P(64513, 1, 2), NO, 0, NO } } },
	  1, RIB_REASON_LOCAL_PREF },
	{ "absent local-pref is 100, beats 90", 2, {
		{ EBGP("169.254.10.1", "9.9.9.9", 64512), { 90, P(64512), NO, 0, NO } },
		{ EBGP("169.254.11.1", "9.9.9.8", 64512), { NO, P(64512, 7), NO, 2, 50 } } },
	  1, RIB_REASON_LOCAL_PREF },
	{ "shorter AS_PATH", 3, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512, 1, 2), NO, 0, NO } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512, 3), NO, 2, 900 } },
		{ EBGP("169.254.12.1", "3.3.3.3", 64512), { NO, P(64512, 4, 5, 6), NO, 0, 0 } } },
	  1, RIB_REASON_AS_PATH },
	{ "an AS_SET counts as one", 2, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512, 7, 8), NO, 0, NO } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512, 1, 2, 3), 1, 0, NO } } },
	  1, RIB_REASON_AS_PATH },
	{ "lower ORIGIN", 2, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 2, 0 } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512), NO, 0, 500 } } },
	  1, RIB_REASON_ORIGIN },
	{ "lower MED, same neighbour AS (AWS maintenance)", 2, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 0, 100 } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512), NO, 0, 50 } } },
	  1, RIB_REASON_MED },
	{ "missing MED is 0", 2, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 0, 10 } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512), NO, 0, NO } } },
	  1, RIB_REASON_MED },
	{ "MED ignored across neighbour ASes", 2, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 0, 500 } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64513), { NO, P(64513), NO, 0, 1 } } },
	  0, RIB_REASON_ROUTER_ID },
	{ "always-compare-med compares across ASes", 2, {
		{ "169.254.10.1", "1.1.1.1", 64512, true, { NO, P(64512), NO, 0, 500 } },
		{ "169.254.11.1", "2.2.2.2", 64513, true, { NO, P(64513), NO, 0, 1 } } },
	  1, RIB_REASON_MED },
	{ "always-compare-med needs both peers", 2, {
		{ "169.254.10.1", "1.1.1.1", 64512, true, { NO, P(64512), NO, 0, 500 } },
		{ "169.254.11.1", "2.2.2.2", 64513, false, { NO, P(64513), NO, 0, 1 } } },
	  0, RIB_REASON_ROUTER_ID },
	{ "MED elimination, order independent", 3, {
		{ EBGP("169.254.10.1", "3.3.3.3", 64512), { NO, P(64512), NO, 0, 10 } },
		{ EBGP("169.254.11.1", "1.1.1.1", 64513), { NO, P(64513), NO, 0, 5 } },
		{ EBGP("169.254.12.1", "2.2.2.2", 64512), { NO, P(64512), NO, 0, 5 } } },
	  1, RIB_REASON_ROUTER_ID },
	{ "MED beats a lower router id in the same AS", 3, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { NO, P(64512), NO, 0, 20 } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512), NO, 0, 10 } },
		{ EBGP("169.254.12.1", "3.3.3.3", 64512), { NO, P(64512), NO, 0, 30 } } },
	  1, RIB_REASON_MED },
	{ "empty AS_PATHs share the local AS for MED", 2, {
		{ IBGP("10.9.0.1", "1.1.1.1"), { NO, P(0), NO, 0, 20 } },
		{ IBGP("10.9.0.2", "2.2.2.2"), { NO, P(0), NO, 0, 10 } } },
	  1, RIB_REASON_MED },
	{ "eBGP over iBGP", 2, {
		{ IBGP("10.9.0.1", "1.1.1.1"), { NO, P(64512), NO, 0, NO } },
		{ EBGP("169.254.11.1", "2.2.2.2", 64512), { NO, P(64512), NO, 0, NO } } },
	  1, RIB_REASON_EBGP },
	{ "lowest router id", 3, {
		{ EBGP("169.254.10.1", "10.0.0.3", 64512), { NO, P(64512), NO, 0, 100 } },
		{ EBGP("169.254.11.1", "10.0.0.1", 64512), { NO, P(64512), NO, 0, 100 } },
		{ EBGP("169.254.12.1", "10.0.0.2", 64512), { NO, P(64512), NO, 0, 100 } } },
	  1, RIB_REASON_ROUTER_ID },
	{ "same router id: lowest peer address", 2, {
		{ EBGP("169.254.11.1", "7.7.7.7", 64512), { NO, P(64512), NO, 0, NO } },
		{ EBGP("169.254.10.1", "7.7.7.7", 64512), { NO, P(64512), NO, 0, NO } } },
	  1, RIB_REASON_PEER_ADDR },
	{ "local-pref decides before everything else", 3, {
		{ EBGP("169.254.10.1", "1.1.1.1", 64512), { 100, P(64512), NO, 0, 0 } },
		{ IBGP("10.9.0.2", "9.9.9.9"), { 300, P(64512, 1, 2, 3), NO, 2, 999 } },
		{ EBGP("169.254.12.1", "2.2.2.2", 64512), { 200, P(64512), NO, 0, 0 } } },
	  1, RIB_REASON_LOCAL_PREF },
};

/* The same row through rib_select() in every input order. */
static void check_select_orders(const struct sel_row *row, struct rib_peer_conf *pc,
				struct bgp_attrs **a)
{
	static const int perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};

	for (size_t k = 0; k < 6; k++) {
		struct rib_cand c[3];
		enum rib_reason why;
		size_t n = 0;

		for (size_t i = 0; i < 3; i++) {
			size_t j = (size_t)perms[k][i];

			if (j < row->n)
				c[n++] = (struct rib_cand){ a[j], &pc[j], (void *)(uintptr_t)j, false };
		}
		assert_true(rib_select(c, n, &why) >= 1);
		if ((uintptr_t)c[0].user != (uintptr_t)row->winner || why != row->reason)
			fail_msg("%s (order %zu): winner %zu (%s), want %d (%s)", row->name, k,
				 (size_t)(uintptr_t)c[0].user, rib_reason_name(why), row->winner,
				 rib_reason_name(row->reason));
	}
}

static void test_selection_table(void **state)
{
	for (size_t r = 0; r < sizeof(sel_rows) / sizeof(sel_rows[0]); r++) {
		const struct sel_row *row = &sel_rows[r];
		struct rib_peer_conf pc[3];
		struct rib_peer *peers[3];
		struct bgp_attrs *a[3];
		struct cgw_prefix x = pfx("192.0.2.0", 24);
		struct rec rec;
		struct rib *rib = new_rib(false, &rec);
		struct got g;

		for (size_t i = 0; i < row->n; i++) {
			char name[24];

			snprintf(name, sizeof(name), "c%zu", i);
			pc[i] = peer_conf(name, row->c[i].addr, row->c[i].peer_as, row->c[i].rid);
			pc[i].always_compare_med = row->c[i].acm;
			assert_int_equal(rib_peer_add(rib, &pc[i], &peers[i]), 0);
			a[i] = mkattrs(&row->c[i].a);
			assert_int_equal(rib_update(rib, peers[i], &x, a[i]), 0);
		}
		assert_int_equal(rib_flush_changes(rib), 1);
		g = lookup(rib, &x);
		if (g.best[0] != peers[row->winner] || g.reason != row->reason)
			fail_msg("%s: RIB chose %s (%s), want c%d (%s)", row->name,
				 rib_peer_conf(g.best[0])->name, rib_reason_name(g.reason),
				 row->winner, rib_reason_name(row->reason));
		assert_int_equal(g.n_best, 1);
		assert_int_equal(g.n_paths, row->n);
		check_select_orders(row, pc, a);
		for (size_t i = 0; i < row->n; i++)
			bgp_attrs_unref(a[i]);
		rib_free(rib);
	}
}

static void test_as_loop_ineligible(void **state)
{
	struct attr_spec loop = { .lp = 500, .path = { 64512, LOCAL_AS }, .set_at = -1 };
	struct cgw_prefix x = pfx("192.0.2.0", 24);
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct rib_peer_counts cnt;
	struct got g;

	assert_int_equal(update(rib, a, &x, mkattrs(&loop)), 0);
	assert_int_equal(rib_flush_changes(rib), 0);	/* nothing eligible */
	assert_int_equal(update(rib, b, &x, aws_attrs(NO)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	g = lookup(rib, &x);
	assert_ptr_equal(g.best[0], b);
	assert_int_equal(g.reason, RIB_REASON_ONLY);
	assert_int_equal(g.n_paths, 2);
	rib_peer_counts(a, &cnt);
	assert_int_equal(cnt.received, 1);
	assert_int_equal(cnt.accepted, 0);
	assert_int_equal(cnt.best, 0);
	rib_peer_counts(b, &cnt);
	assert_int_equal(cnt.accepted, 1);
	assert_int_equal(cnt.best, 1);
	rib_free(rib);
}

/* ---------------------------------------------------------- ECMP */

static void test_ecmp(void **state)
{
	struct cgw_prefix x = pfx("10.1.0.0", 16), y = pfx("10.2.0.0", 16);
	struct rec rec;
	struct rib *rib = new_rib(true, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "3.3.3.3");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "1.1.1.1");
	struct rib_peer *c = add_peer(rib, "C", "169.254.12.1", 64513, "2.2.2.2");
	struct got g;

	/* Transit gateway: MED 100 on both tunnels -> two next hops. */
	assert_int_equal(update(rib, a, &x, aws_attrs(100)), 0);
	assert_int_equal(update(rib, b, &x, aws_attrs(100)), 0);
	/* Different neighbour ASes: MED not compared, both stay. */
	assert_int_equal(update(rib, a, &y, aws_attrs(10)), 0);
	{
		struct attr_spec sp = { .lp = -1, .path = { 64513 }, .set_at = -1, .med = 99 };

		assert_int_equal(update(rib, c, &y, mkattrs(&sp)), 0);
	}
	assert_int_equal(rib_flush_changes(rib), 2);
	assert_string_equal(rec.log, "10.1.0.0/16 - -> B,A\n10.2.0.0/16 - -> C,A\n");
	g = lookup(rib, &x);
	assert_int_equal(g.n_best, 2);
	assert_int_equal(g.reason, RIB_REASON_ROUTER_ID);

	/* Maintenance: AWS lowers MED on A -> A alone. */
	rec.log[0] = '\0';
	assert_int_equal(update(rib, a, &x, aws_attrs(50)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_string_equal(rec.log, "10.1.0.0/16 B,A -> A\n");
	assert_int_equal(lookup(rib, &x).reason, RIB_REASON_MED);

	/* ECMP off: every prefix re-selected, one next hop each. */
	rec.log[0] = '\0';
	rib_set_ecmp(rib, false, 0);
	assert_int_equal(rib_pending(rib), 2);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_string_equal(rec.log, "10.2.0.0/16 C,A -> C\n");
	/* max_paths caps the set. */
	rib_set_ecmp(rib, true, 1);
	assert_int_equal(rib_flush_changes(rib), 0);
	rib_free(rib);
}

/* ---------------------------------------------------------- withdraw, flush */

static void test_withdraw(void **state)
{
	struct cgw_prefix x = pfx("192.0.2.0", 24), bad = pfx("192.0.2.1", 24);
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct rib_stats st;
	struct got g;

	assert_int_equal(update(rib, a, &bad, aws_attrs(NO)), -EINVAL);
	assert_int_equal(update(rib, a, &x, aws_attrs(NO)), 0);
	assert_int_equal(update(rib, b, &x, aws_attrs(NO)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_int_equal(rib_withdraw(rib, b, &x), 0);	/* not best: no change */
	assert_int_equal(rib_withdraw(rib, b, &x), -ENOENT);
	assert_int_equal(rib_flush_changes(rib), 0);
	assert_int_equal(update(rib, b, &x, aws_attrs(NO)), 0);
	assert_int_equal(rib_flush_changes(rib), 0);
	assert_int_equal(rib_withdraw(rib, a, &x), 0);
	g = lookup(rib, &x);			/* status before the flush */
	assert_int_equal(g.n_paths, 1);
	assert_int_equal(g.n_best, 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_int_equal(rib_withdraw(rib, b, &x), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_string_equal(rec.log, "192.0.2.0/24 - -> A\n192.0.2.0/24 A -> B\n"
				     "192.0.2.0/24 B -> -\n");
	assert_int_equal(rib_lookup(rib, &x, got_fn, &g), -ENOENT);
	rib_stats(rib, &st);
	assert_int_equal(st.prefixes, 0);
	assert_int_equal(st.paths, 0);
	assert_int_equal(st.attrs, 0);
	rib_free(rib);
}

static void test_flush_peer(void **state)
{
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct rib_peer_counts ca, cb;
	struct rib_stats st;

	for (uint32_t i = 0; i < 1000; i++) {
		struct cgw_prefix x = pfx_n(i);

		assert_int_equal(update(rib, a, &x, aws_attrs(100)), 0);
		if (i % 2 == 0)
			assert_int_equal(update(rib, b, &x, aws_attrs(100)), 0);
	}
	assert_int_equal(rib_flush_changes(rib), 1000);
	rib_peer_counts(a, &ca);
	rib_peer_counts(b, &cb);
	assert_int_equal(ca.received, 1000);
	assert_int_equal(ca.best, 1000);
	assert_int_equal(cb.received, 500);
	assert_int_equal(cb.best, 0);
	/* A's session drops: 500 prefixes move to B, 500 disappear. */
	rec.changes = 0;
	assert_int_equal(rib_flush_peer(rib, a), 1000);
	rib_peer_counts(a, &ca);
	assert_int_equal(ca.received, 0);
	assert_int_equal(rib_flush_changes(rib), 1000);
	rib_peer_counts(b, &cb);
	assert_int_equal(cb.best, 500);
	rib_stats(rib, &st);
	assert_int_equal(st.prefixes, 500);
	assert_int_equal(st.paths, 500);
	assert_int_equal(st.attrs, 1);
	rib_free(rib);
}

/* ---------------------------------------------------------- graceful restart */

static void test_stale_sweep(void **state)
{
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer_counts c;
	struct rib_stats st;

	for (uint32_t i = 0; i < 10; i++) {
		struct cgw_prefix x = pfx_n(i);

		assert_int_equal(update(rib, a, &x, aws_attrs(100)), 0);
	}
	assert_int_equal(rib_flush_changes(rib), 10);
	/* The session restarts: routes stay (stale) and keep forwarding. */
	assert_int_equal(rib_mark_stale(rib, a), 10);
	rib_peer_counts(a, &c);
	assert_int_equal(c.stale, 10);
	assert_int_equal(rib_flush_changes(rib), 0);
	{
		struct cgw_prefix x = pfx_n(0);

		assert_int_equal(lookup(rib, &x).n_best, 1);
	}
	/* The new session re-announces 6, one with a new MED. */
	for (uint32_t i = 0; i < 6; i++) {
		struct cgw_prefix x = pfx_n(i);

		assert_int_equal(update(rib, a, &x, aws_attrs(i == 5 ? 50 : 100)), 0);
	}
	rib_peer_counts(a, &c);
	assert_int_equal(c.stale, 4);
	assert_int_equal(rib_flush_changes(rib), 1);	/* only the MED change */
	/* End-of-RIB: the 4 not refreshed go. */
	assert_int_equal(rib_sweep_stale(rib, a), 4);
	assert_int_equal(rib_flush_changes(rib), 4);
	rib_peer_counts(a, &c);
	assert_int_equal(c.received, 6);
	assert_int_equal(c.stale, 0);
	assert_int_equal(c.best, 6);
	rib_stats(rib, &st);
	assert_int_equal(st.prefixes, 6);
	assert_int_equal(st.attrs, 2);
	assert_int_equal(rib_sweep_stale(rib, a), 0);
	rib_free(rib);
}

/* ---------------------------------------------------------- max-prefix */

static char logbuf[4096];

static void sink(int prio, const char *line, void *arg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

static void test_max_prefix(void **state)
{
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer_conf pc = peer_conf("tun1", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *a;
	struct rib_peer_counts c;
	struct cgw_prefix x;

	pc.max_prefix = 5;
	assert_int_equal(rib_peer_add(rib, &pc, &a), 0);
	for (uint32_t i = 0; i < 5; i++) {
		x = pfx_n(i);
		assert_int_equal(update(rib, a, &x, aws_attrs(100)), 0);
	}
	logbuf[0] = '\0';
	log_set_sink(sink, NULL);
	x = pfx_n(5);
	assert_int_equal(update(rib, a, &x, aws_attrs(100)), -ERANGE);
	log_set_sink(NULL, NULL);
	assert_non_null(strstr(logbuf, "tun1 169.254.10.1 AS64512: 5 prefixes reach "
				       "max-prefix 5, refusing 10.0.5.0/24"));
	rib_peer_counts(a, &c);
	assert_int_equal(c.received, 5);
	x = pfx_n(4);				/* an existing prefix may change */
	assert_int_equal(update(rib, a, &x, aws_attrs(7)), 0);
	assert_int_equal(rib_withdraw(rib, a, &x), 0);
	x = pfx_n(5);
	assert_int_equal(update(rib, a, &x, aws_attrs(100)), 0);
	assert_int_equal(rib_flush_changes(rib), 5);
	rib_free(rib);
}

/* ---------------------------------------------------------- batching */

static void test_change_batching(void **state)
{
	struct cgw_prefix x = pfx("192.0.2.0", 24), y = pfx("198.51.100.0", 24);
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");

	/* A burst: nothing is notified before the flush, then one batch. */
	for (uint32_t i = 0; i < 1000; i++) {
		struct cgw_prefix z = pfx_n(i);

		assert_int_equal(update(rib, a, &z, aws_attrs(i % 3)), 0);
		assert_int_equal(update(rib, a, &z, aws_attrs(100)), 0);
	}
	assert_int_equal(rec.changes, 0);
	assert_int_equal(rib_pending(rib), 1000);
	assert_int_equal(rib_flush_changes(rib), 1000);
	assert_int_equal(rec.batches, 1);
	assert_int_equal(rib_flush_changes(rib), 0);
	assert_int_equal(rec.batches, 1);

	/* Changed and changed back within a batch: no notification. */
	rec.log[0] = '\0';
	rec.changes = 0;
	assert_int_equal(update(rib, a, &x, aws_attrs(5)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_int_equal(update(rib, a, &x, aws_attrs(6)), 0);	/* A,5 zombie */
	assert_int_equal(update(rib, a, &x, aws_attrs(5)), 0);
	assert_int_equal(rib_flush_changes(rib), 0);
	assert_int_equal(rib_withdraw(rib, a, &x), 0);
	assert_int_equal(update(rib, a, &x, aws_attrs(5)), 0);
	assert_int_equal(rib_flush_changes(rib), 0);
	/* Best moves to B and back to A before the flush: nothing. */
	assert_int_equal(update(rib, b, &x, aws_attrs(1)), 0);
	assert_int_equal(rib_withdraw(rib, b, &x), 0);
	assert_int_equal(rib_flush_changes(rib), 0);
	/* One change per prefix, however many updates. */
	assert_int_equal(update(rib, b, &x, aws_attrs(1)), 0);
	assert_int_equal(update(rib, b, &y, aws_attrs(1)), 0);
	assert_int_equal(update(rib, a, &y, aws_attrs(0)), 0);
	assert_int_equal(rib_withdraw(rib, a, &x), 0);
	assert_int_equal(rib_flush_changes(rib), 2);
	assert_string_equal(rec.log, "192.0.2.0/24 - -> A\n192.0.2.0/24 A -> B\n"
				     "198.51.100.0/24 - -> A\n");
	rib_free(rib);
}

/* The old best set carries the attributes as notified, not the new ones. */
struct attrs_seen {
	int64_t old_med, new_med;
};

static void seen_change(const struct rib_change *c, void *arg)
{
	struct attrs_seen *s = arg;

	s->old_med = c->n_old ? (int64_t)c->old_best[0].attrs->med : -1;
	s->new_med = c->n_new ? (int64_t)c->new_best[0].attrs->med : -1;
}

static void test_old_set_attrs(void **state)
{
	struct attrs_seen seen = { -1, -1 };
	struct rib_listener l = { seen_change, NULL, &seen };
	struct cgw_prefix x = pfx("192.0.2.0", 24);
	struct rib *rib;
	struct rib_peer *a;
	struct rib_peer_conf pc = peer_conf("A", "169.254.10.1", 64512, "1.1.1.1");

	assert_int_equal(rib_new(NULL, &rib), 0);
	assert_int_equal(rib_listen(rib, &l), 0);
	assert_int_equal(rib_peer_add(rib, &pc, &a), 0);
	assert_int_equal(update(rib, a, &x, aws_attrs(10)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_int_equal(update(rib, a, &x, aws_attrs(20)), 0);
	assert_int_equal(update(rib, a, &x, aws_attrs(30)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_int_equal(seen.old_med, 10);
	assert_int_equal(seen.new_med, 30);
	rib_free(rib);
}

/* ---------------------------------------------------------- interning, scale */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_interning_100k(void **state)
{
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct cgw_prefix x0 = pfx_n(0), x2 = pfx_n(2);
	struct rib_stats st;
	double t0, t1, t2;

	t0 = now();
	for (uint32_t i = 0; i < 100000; i++) {
		struct cgw_prefix x = pfx_n(i);

		x.addr.v4.s_addr = htonl(0x0a000000u | i << 8);	/* 10.0.0.0/24 up */
		assert_int_equal(update(rib, a, &x, aws_attrs(i % 2 ? 200 : 100)), 0);
	}
	t1 = now();
	assert_int_equal(rib_flush_changes(rib), 100000);
	t2 = now();
	rib_stats(rib, &st);
	assert_int_equal(st.prefixes, 100000);
	assert_int_equal(st.paths, 100000);
	assert_int_equal(st.attrs, 2);		/* 100,000 objects in, 2 kept */
	assert_ptr_equal(lookup(rib, &x0).best_attrs, lookup(rib, &x2).best_attrs);
	print_message("100k prefixes, 1 path: %zu bytes/prefix (%zu KiB); "
		      "updates %.0f ms, flush %.0f ms\n", st.bytes / 100000, st.bytes / 1024,
		      (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	for (uint32_t i = 0; i < 100000; i++) {
		struct cgw_prefix x = pfx_n(0);

		x.addr.v4.s_addr = htonl(0x0a000000u | i << 8);
		assert_int_equal(update(rib, b, &x, aws_attrs(i % 2 ? 200 : 100)), 0);
	}
	assert_int_equal(rib_flush_changes(rib), 0);	/* A keeps winning */
	rib_stats(rib, &st);
	assert_int_equal(st.attrs, 2);
	print_message("100k prefixes, 2 paths: %zu bytes/prefix (%zu KiB)\n",
		      st.bytes / 100000, st.bytes / 1024);
	t0 = now();
	assert_int_equal(rib_flush_peer(rib, a), 100000);
	assert_int_equal(rib_flush_changes(rib), 100000);
	print_message("100k best paths move on session down: %.0f ms\n", (now() - t0) * 1e3);
	rib_peer_del(rib, b);
	assert_int_equal(rib_flush_changes(rib), 100000);
	rib_stats(rib, &st);
	assert_int_equal(st.prefixes, 0);
	assert_int_equal(st.attrs, 0);
	assert_int_equal(st.peers, 1);
	rib_free(rib);
}

/* ---------------------------------------------------------- peers */

static void test_peer_del_zombies(void **state)
{
	struct cgw_prefix x = pfx("192.0.2.0", 24);
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct rib_peer_conf dup = peer_conf("C", "169.254.11.1", 64512, "3.3.3.3");
	struct rib_peer *c;
	struct rib_stats st;

	assert_int_equal(rib_peer_add(rib, &dup, &c), -EEXIST);
	assert_int_equal(update(rib, a, &x, aws_attrs(NO)), 0);
	assert_int_equal(update(rib, b, &x, aws_attrs(NO)), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	/* A goes away before the flush: the callback still names it. */
	rib_peer_del(rib, a);
	rib_stats(rib, &st);
	assert_int_equal(st.peers, 1);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_string_equal(rec.log, "192.0.2.0/24 - -> A\n192.0.2.0/24 A -> B\n");
	/* Its address is free again. */
	dup.addr = ip("169.254.10.1");
	assert_int_equal(rib_peer_add(rib, &dup, &c), 0);
	rib_free(rib);
}

static void test_peer_update_forced(void **state)
{
	struct cgw_prefix x = pfx("192.0.2.0", 24), y = pfx("198.51.100.0", 24);
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct rib_peer_conf pc = *rib_peer_conf(a);

	assert_int_equal(update(rib, a, &x, aws_attrs(NO)), 0);
	assert_int_equal(update(rib, b, &x, aws_attrs(NO)), 0);
	assert_int_equal(update(rib, b, &y, aws_attrs(NO)), 0);
	assert_int_equal(rib_flush_changes(rib), 2);
	rec.log[0] = '\0';
	/* The VTI came back with a new ifindex: A's best prefix re-sent. */
	pc.ifindex = 42;
	assert_int_equal(rib_peer_update(rib, a, &pc), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_string_equal(rec.log, "192.0.2.0/24 A -> A forced\n");
	/* A new router id makes B win. */
	rec.log[0] = '\0';
	pc.router_id = ip("9.9.9.9");
	assert_int_equal(rib_peer_update(rib, a, &pc), 0);
	assert_int_equal(rib_flush_changes(rib), 1);
	assert_string_equal(rec.log, "192.0.2.0/24 A -> B\n");
	pc.peer_as = 1;
	assert_int_equal(rib_peer_update(rib, a, &pc), -EINVAL);
	rib_free(rib);
}

/* ---------------------------------------------------------- status */

struct walk_sum {
	size_t routes, paths, best, stale, installed;
};

static int sum_fn(const struct rib_route *r, void *arg)
{
	struct walk_sum *s = arg;

	s->routes++;
	s->paths += r->n_paths;
	s->best += r->n_best;
	s->installed += r->installed;
	for (size_t i = 0; i < r->n_paths; i++) {
		s->stale += r->paths[i].stale;
		assert_true(r->paths[i].best == (i < r->n_best));
		assert_non_null(r->paths[i].attrs);
		assert_non_null(r->paths[i].peer_conf);
	}
	return 0;
}

static int stop_fn(const struct rib_route *r, void *arg)
{
	return ++*(int *)arg == 3 ? 77 : 0;
}

static void test_walk(void **state)
{
	struct rec rec;
	struct rib *rib = new_rib(false, &rec);
	struct rib_peer *a = add_peer(rib, "A", "169.254.10.1", 64512, "1.1.1.1");
	struct rib_peer *b = add_peer(rib, "B", "169.254.11.1", 64512, "2.2.2.2");
	struct walk_sum s;
	struct cgw_prefix x;
	int n = 0;

	for (uint32_t i = 0; i < 100; i++) {
		x = pfx_n(i);
		assert_int_equal(update(rib, a, &x, aws_attrs(100)), 0);
		if (i < 10)
			assert_int_equal(update(rib, b, &x, aws_attrs(10)), 0);
	}
	assert_int_equal(rib_flush_changes(rib), 100);
	rib_mark_stale(rib, b);
	x = pfx_n(3);
	assert_int_equal(rib_set_installed(rib, &x, true), 0);
	x = pfx_n(500);
	assert_int_equal(rib_set_installed(rib, &x, true), -ENOENT);
	memset(&s, 0, sizeof(s));
	assert_int_equal(rib_walk(rib, sum_fn, &s), 0);
	assert_int_equal(s.routes, 100);
	assert_int_equal(s.paths, 110);
	assert_int_equal(s.best, 100);
	assert_int_equal(s.stale, 10);
	assert_int_equal(s.installed, 1);
	x = pfx_n(3);
	assert_ptr_equal(lookup(rib, &x).best[0], b);
	assert_true(lookup(rib, &x).installed);
	assert_int_equal(rib_walk(rib, stop_fn, &n), 77);
	assert_string_equal(rib_reason_name(RIB_REASON_EBGP), "ebgp-over-ibgp");
	{
		struct cgw_prefix v6;

		memset(&v6, 0, sizeof(v6));
		v6.addr.family = AF_INET6;
		v6.len = 64;
		assert_int_equal(rib_update(rib, a, &v6, NULL), -EAFNOSUPPORT);
	}
	rib_free(rib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selection_table),
		cmocka_unit_test(test_as_loop_ineligible),
		cmocka_unit_test(test_ecmp),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_flush_peer),
		cmocka_unit_test(test_stale_sweep),
		cmocka_unit_test(test_max_prefix),
		cmocka_unit_test(test_change_batching),
		cmocka_unit_test(test_old_set_attrs),
		cmocka_unit_test(test_interning_100k),
		cmocka_unit_test(test_peer_del_zombies),
		cmocka_unit_test(test_peer_update_forced),
		cmocka_unit_test(test_walk),
	};

	log_init("test_bgp_rib", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
