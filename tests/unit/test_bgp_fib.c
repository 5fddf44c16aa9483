/*
 * bgp/fib over the recording fake: what each RIB change asks the kernel
 * for (create-exclusive, replace when the best path moves, delete on
 * withdraw, RTA_MULTIPATH for ECMP, nothing for attribute-only changes),
 * one commit per RIB flush, failures (another owner's route, a failed
 * replace), lost replies (ENOBUFS) and the resync, start-up reconcile,
 * held leftovers (graceful restart), removal at shutdown, and the
 * netlink backend's argument checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "bgp/fib.h"
#include "bgp/rib.h"
#include "common/log.h"

#define LOCAL_AS 65000u

/* ---------------------------------------------------------- fixtures */

static char logbuf[16384];

static void sink(int prio, const char *line, void *arg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

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

static struct bgp_attrs *attrs_med(uint32_t med)
{
	struct bgp_attrs *a = bgp_attrs_new();

	assert_non_null(a);
	a->segs = calloc(1, sizeof(*a->segs));
	assert_non_null(a->segs);
	a->n_segs = 1;
	a->segs[0].type = BGP_AS_SEQUENCE;
	a->segs[0].len = 1;
	a->segs[0].as = calloc(1, sizeof(uint32_t));
	assert_non_null(a->segs[0].as);
	a->segs[0].as[0] = 64512;
	a->has_med = true;
	a->med = med;
	bgp_attrs_seal(a);
	return a;
}

struct fix {
	struct rib *rib;
	struct fib *fib;
	struct fib_backend *be;
	struct rib_peer *a, *b;		/* tunnel 1 (vti ifindex 7), tunnel 2 (8) */
};

static struct rib_peer *peer(struct rib *rib, const char *name, const char *addr,
			     unsigned ifindex, const char *rid)
{
	struct rib_peer_conf c;
	struct rib_peer *p;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.addr = ip(addr);
	c.ifindex = ifindex;
	c.peer_as = 64512;
	c.local_as = LOCAL_AS;
	c.router_id = ip(rid);
	assert_int_equal(rib_peer_add(rib, &c, &p), 0);
	return p;
}

/* The RIB and its two peers; the FIB comes with fix_open_fib(). */
static void fix_open_rib(struct fix *x, bool ecmp)
{
	struct rib_conf rc = { .ecmp = ecmp };

	memset(x, 0, sizeof(*x));
	assert_int_equal(rib_new(&rc, &x->rib), 0);
	assert_int_equal(fib_fake_open(&x->be), 0);
	x->a = peer(x->rib, "tun1", "169.254.10.1", 7, "1.1.1.1");
	x->b = peer(x->rib, "tun2", "169.254.11.1", 8, "2.2.2.2");
	logbuf[0] = '\0';
	log_set_sink(sink, NULL);
}

static void fix_open_fib(struct fix *x, const struct fib_conf *conf)
{
	assert_int_equal(fib_new(x->rib, conf, x->be, &x->fib), 0);
}

static void fix_open(struct fix *x, bool ecmp, const struct fib_conf *conf)
{
	fix_open_rib(x, ecmp);
	fix_open_fib(x, conf);
}

static void fix_close(struct fix *x)
{
	log_set_sink(NULL, NULL);
	fib_free(x->fib);
	rib_free(x->rib);
}

static void announce(struct fix *x, struct rib_peer *p, const char *prefix, uint8_t len,
		     uint32_t med)
{
	struct cgw_prefix c = pfx(prefix, len);
	struct bgp_attrs *a = attrs_med(med);

	assert_int_equal(rib_update(x->rib, p, &c, a), 0);
	bgp_attrs_unref(a);
}

static void withdraw(struct fix *x, struct rib_peer *p, const char *prefix, uint8_t len)
{
	struct cgw_prefix c = pfx(prefix, len);

	assert_int_equal(rib_withdraw(x->rib, p, &c), 0);
}

/* The fake's log since the last call, then cleared. */
static void expect_log(struct fix *x, const char *want)
{
	assert_string_equal(fib_fake_log(x->be), want);
	fib_fake_log_clear(x->be);
}

static int installed_fn(const struct rib_route *r, void *arg)
{
	*(bool *)arg = r->installed;
	return 0;
}

static bool installed(struct fix *x, const char *prefix, uint8_t len)
{
	struct cgw_prefix c = pfx(prefix, len);
	bool inst = false;

	assert_int_equal(rib_lookup(x->rib, &c, installed_fn, &inst), 0);
	return inst;
}

static struct fib_route kroute(const char *prefix, uint8_t len, uint8_t proto, uint32_t table,
			       uint32_t metric, const char *gw, unsigned ifindex)
{
	struct fib_route r;

	memset(&r, 0, sizeof(r));
	r.dst = ip(prefix);
	r.len = len;
	r.protocol = proto;
	r.table = table;
	r.metric = metric;
	r.n_nh = 1;
	r.nh[0].gw = ip(gw);
	r.nh[0].ifindex = ifindex;
	return r;
}

/* ---------------------------------------------------------- changes */

static void test_install_replace_delete(void **state)
{
	struct fix x;
	struct fib_stats st;

	fix_open(&x, false, NULL);
	announce(&x, x.a, "10.1.0.0", 16, 100);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "add 10.1.0.0/16 table 254 metric 20 via 169.254.10.1 dev 7\n"
		       "commit 1\n");
	assert_true(installed(&x, "10.1.0.0", 16));
	/* Tunnel 2 becomes better (AWS lowered its MED): one replace, no gap. */
	announce(&x, x.b, "10.1.0.0", 16, 50);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "replace 10.1.0.0/16 table 254 metric 20 via 169.254.11.1 dev 8\n"
		       "commit 1\n");
	/* Same next hop, new attributes: nothing for the kernel. */
	announce(&x, x.b, "10.1.0.0", 16, 40);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "");
	/* Best withdrawn: back to tunnel 1, then gone. */
	withdraw(&x, x.b, "10.1.0.0", 16);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	withdraw(&x, x.a, "10.1.0.0", 16);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "replace 10.1.0.0/16 table 254 metric 20 via 169.254.10.1 dev 7\n"
		       "commit 1\n"
		       "del 10.1.0.0/16 table 254 metric 20\n"
		       "commit 1\n");
	assert_int_equal(fib_fake_count(x.be), 0);
	fib_get_stats(x.fib, &st);
	assert_int_equal(st.adds, 1);
	assert_int_equal(st.replaces, 2);
	assert_int_equal(st.dels, 1);
	assert_int_equal(st.errors, 0);
	fix_close(&x);
}

static void test_ecmp(void **state)
{
	struct fix x;

	fix_open(&x, true, NULL);
	/* Transit gateway: MED 100 on both tunnels. */
	announce(&x, x.b, "10.2.0.0", 16, 100);
	announce(&x, x.a, "10.2.0.0", 16, 100);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "add 10.2.0.0/16 table 254 metric 20 via 169.254.10.1 dev 7 "
		       "via 169.254.11.1 dev 8\n"
		       "commit 1\n");
	/* Tunnel 1 down: the multipath route shrinks in place. */
	assert_int_equal(rib_flush_peer(x.rib, x.a), 1);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "replace 10.2.0.0/16 table 254 metric 20 via 169.254.11.1 dev 8\n"
		       "commit 1\n");
	announce(&x, x.a, "10.2.0.0", 16, 100);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "replace 10.2.0.0/16 table 254 metric 20 via 169.254.10.1 dev 7 "
		       "via 169.254.11.1 dev 8\n"
		       "commit 1\n");
	fix_close(&x);
}

static void test_one_commit_per_flush(void **state)
{
	struct fix x;
	char pre[32];

	fix_open(&x, false, &(struct fib_conf){ .table = 100, .metric = 50 });
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(pre, sizeof(pre), "10.%u.%u.0", i >> 8, i & 255);
		announce(&x, x.a, pre, 24, 100);
	}
	assert_int_equal(rib_flush_changes(x.rib), 1000);
	assert_non_null(strstr(fib_fake_log(x.be), "add 10.0.0.0/24 table 100 metric 50 via "
						   "169.254.10.1 dev 7\n"));
	assert_non_null(strstr(fib_fake_log(x.be), "\ncommit 1000\n"));
	assert_int_equal(x.be->sends, 1);
	assert_int_equal(x.be->msgs, 1000);
	assert_int_equal(fib_fake_count(x.be), 1000);
	/* Session down: 1000 deletes, one batch. */
	fib_fake_log_clear(x.be);
	rib_flush_peer(x.rib, x.a);
	assert_int_equal(rib_flush_changes(x.rib), 1000);
	assert_non_null(strstr(fib_fake_log(x.be), "del 10.0.0.0/24 table 100 metric 50\n"));
	assert_non_null(strstr(fib_fake_log(x.be), "\ncommit 1000\n"));
	assert_int_equal(fib_fake_count(x.be), 0);
	assert_int_equal(x.be->sends, 2);
	fix_close(&x);
}

static void test_forced_new_ifindex(void **state)
{
	struct fix x;
	struct rib_peer_conf c;

	fix_open(&x, false, NULL);
	announce(&x, x.a, "10.3.0.0", 16, 100);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	fib_fake_log_clear(x.be);
	c = *rib_peer_conf(x.a);
	c.ifindex = 17;			/* the VTI was re-created */
	assert_int_equal(rib_peer_update(x.rib, x.a, &c), 0);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "replace 10.3.0.0/16 table 254 metric 20 via 169.254.10.1 dev 17\n"
		       "commit 1\n");
	fix_close(&x);
}

/* ---------------------------------------------------------- failures */

static void test_foreign_route_in_the_way(void **state)
{
	struct fix x;
	struct fib_route foreign = kroute("10.4.0.0", 16, 4, 254, 20, "192.0.2.1", 3);
	struct fib_stats st;

	fix_open(&x, false, NULL);
	assert_int_equal(fib_fake_insert(x.be, &foreign), 0);
	announce(&x, x.a, "10.4.0.0", 16, 100);
	announce(&x, x.a, "10.5.0.0", 16, 100);
	assert_int_equal(rib_flush_changes(x.rib), 2);
	assert_false(installed(&x, "10.4.0.0", 16));
	assert_true(installed(&x, "10.5.0.0", 16));
	assert_non_null(strstr(logbuf, "bgp fib: add 10.4.0.0/16: File exists (a route of "
				       "another owner has this prefix and metric)"));
	assert_false(fib_resync_needed(x.fib));
	fib_get_stats(x.fib, &st);
	assert_int_equal(st.errors, 1);
	/* The best path moves: still not ours to replace, so add again. */
	fib_fake_log_clear(x.be);
	announce(&x, x.b, "10.4.0.0", 16, 1);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "add 10.4.0.0/16 table 254 metric 20 via 169.254.11.1 dev 8\n"
		       "commit 1\n");
	/* A delete never touches it. */
	withdraw(&x, x.a, "10.4.0.0", 16);
	withdraw(&x, x.b, "10.4.0.0", 16);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	expect_log(&x, "");
	assert_int_equal(fib_fake_count(x.be), 2);
	fix_close(&x);
}

static void test_failed_replace_resyncs(void **state)
{
	struct fix x;
	struct fib_stats st;

	fix_open(&x, false, NULL);
	announce(&x, x.a, "10.6.0.0", 16, 100);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	fib_fake_log_clear(x.be);
	assert_int_equal(fib_fake_fail(x.be, ip("10.6.0.0"), 16, -ENODEV), 0);
	announce(&x, x.b, "10.6.0.0", 16, 1);
	assert_int_equal(rib_flush_changes(x.rib), 1);
	/* The replace failed: the kernel still has tunnel 1's route; the
	 * FIB resyncs at once (dump, replace again), fails again, and asks
	 * the caller to retry later. */
	expect_log(&x, "replace 10.6.0.0/16 table 254 metric 20 via 169.254.11.1 dev 8\n"
		       "commit 1\n"
		       "dump 1\n"
		       "replace 10.6.0.0/16 table 254 metric 20 via 169.254.11.1 dev 8\n"
		       "commit 1\n");
	assert_true(fib_resync_needed(x.fib));
	assert_false(installed(&x, "10.6.0.0", 16));
	assert_non_null(strstr(logbuf, "replace 10.6.0.0/16: No such device (interface gone)"));
	/* The interface is back: the caller's timer reconciles. */
	assert_int_equal(fib_fake_fail(x.be, ip("10.6.0.0"), 16, 0), 0);
	assert_int_equal(fib_reconcile(x.fib), 0);
	assert_false(fib_resync_needed(x.fib));
	assert_true(installed(&x, "10.6.0.0", 16));
	fib_get_stats(x.fib, &st);
	assert_int_equal(st.resyncs, 2);
	assert_int_equal(st.errors, 2);
	fix_close(&x);
}

static void test_enobufs_resync(void **state)
{
	struct fix x;
	struct fib_route foreign = kroute("10.7.0.0", 24, 4, 254, 20, "192.0.2.1", 3);
	struct fib_stats st;
	char pre[32];

	fix_open(&x, false, NULL);
	assert_int_equal(fib_fake_insert(x.be, &foreign), 0);
	for (unsigned i = 0; i < 10; i++) {
		snprintf(pre, sizeof(pre), "10.7.%u.0", i);
		announce(&x, x.a, pre, 24, 100);
	}
	/* The failure reply for 10.7.0.0/24 is lost with the overrun. */
	fib_fake_overrun_next(x.be);
	assert_int_equal(rib_flush_changes(x.rib), 10);
	fib_get_stats(x.fib, &st);
	assert_int_equal(st.enobufs, 1);
	assert_int_equal(st.resyncs, 1);
	/* The resync found 9 of 10 in the kernel and retried the tenth. */
	assert_non_null(strstr(fib_fake_log(x.be), "commit 10\n"
						   "dump 9\n"
						   "add 10.7.0.0/24 table 254 metric 20 via "
						   "169.254.10.1 dev 7\n"
						   "commit 1\n"));
	assert_false(installed(&x, "10.7.0.0", 24));
	assert_true(installed(&x, "10.7.9.0", 24));
	assert_false(fib_resync_needed(x.fib));
	assert_non_null(strstr(logbuf, "ENOBUFS"));
	fix_close(&x);
}

/* ---------------------------------------------------------- start, stop */

/* The walk order is the hash table's: compare a log's lines sorted. */
static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *sorted_lines(const char *log)
{
	char *copy = strdup(log), *out = calloc(1, strlen(log) + 2), *save = NULL;
	char *lines[64];
	size_t n = 0;

	assert_non_null(copy);
	assert_non_null(out);
	for (char *l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), line_cmp);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
	free(copy);
	return out;
}

static void test_reconcile_at_start(void **state)
{
	struct fix x;
	struct fib_route left[] = {
		kroute("10.8.1.0", 24, 186, 254, 20, "169.254.10.1", 7),	/* same: adopt */
		kroute("10.8.2.0", 24, 186, 254, 20, "169.254.10.1", 7),	/* moved: replace */
		kroute("10.8.3.0", 24, 186, 254, 20, "169.254.10.1", 7),	/* gone: delete */
		kroute("10.8.1.0", 24, 186, 254, 30, "169.254.10.1", 7),	/* old metric */
		kroute("10.8.4.0", 24, 4, 254, 20, "192.0.2.1", 3),		/* static */
		kroute("10.8.5.0", 24, 186, 100, 20, "169.254.10.1", 7),	/* table 100 */
	};
	struct fib_stats st;
	char *log;

	fix_open_rib(&x, false);
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		assert_int_equal(fib_fake_insert(x.be, &left[i]), 0);
	/* Routes the RIB chose before the FIB looked. */
	announce(&x, x.a, "10.8.1.0", 24, 100);
	announce(&x, x.b, "10.8.2.0", 24, 100);
	announce(&x, x.a, "10.8.6.0", 24, 100);
	assert_int_equal(rib_flush_changes(x.rib), 3);
	fix_open_fib(&x, NULL);
	assert_int_equal(fib_reconcile(x.fib), 0);
	log = sorted_lines(fib_fake_log(x.be));
	assert_string_equal(log,
			    "add 10.8.6.0/24 table 254 metric 20 via 169.254.10.1 dev 7\n"
			    "commit 4\n"
			    "del 10.8.1.0/24 table 254 metric 30\n"
			    "del 10.8.3.0/24 table 254 metric 20\n"
			    "dump 4\n"
			    "replace 10.8.2.0/24 table 254 metric 20 via 169.254.11.1 dev 8\n");
	free(log);
	assert_true(installed(&x, "10.8.1.0", 24));
	assert_true(installed(&x, "10.8.2.0", 24));
	fib_get_stats(x.fib, &st);
	assert_int_equal(st.adopted, 1);
	assert_int_equal(fib_fake_count(x.be), 5);	/* 3 ours, static, table 100 */
	/* Shutdown without keeping routes: only ours go. */
	fib_fake_log_clear(x.be);
	assert_int_equal(fib_remove_all(x.fib), 3);
	assert_int_equal(fib_fake_count(x.be), 2);
	assert_false(installed(&x, "10.8.1.0", 24));
	fix_close(&x);
}

static void test_hold_leftovers(void **state)
{
	struct fix x;
	struct fib_route left[] = {
		kroute("10.9.1.0", 24, 186, 254, 20, "169.254.10.1", 7),
		kroute("10.9.2.0", 24, 186, 254, 20, "169.254.10.1", 7),
		kroute("10.9.3.0", 24, 186, 254, 20, "169.254.10.1", 7),
	};
	struct fib_stats st;

	fix_open(&x, false, NULL);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(fib_fake_insert(x.be, &left[i]), 0);
	/* Graceful restart: the previous run kept its routes. */
	assert_int_equal(fib_hold_leftovers(x.fib), 3);
	fib_fake_log_clear(x.be);
	announce(&x, x.a, "10.9.1.0", 24, 100);	/* as it was: adopted */
	announce(&x, x.b, "10.9.2.0", 24, 100);	/* moved: replaced */
	announce(&x, x.a, "10.9.4.0", 24, 100);	/* new */
	assert_int_equal(rib_flush_changes(x.rib), 3);
	expect_log(&x, "replace 10.9.2.0/24 table 254 metric 20 via 169.254.11.1 dev 8\n"
		       "add 10.9.4.0/24 table 254 metric 20 via 169.254.10.1 dev 7\n"
		       "commit 2\n");
	fib_get_stats(x.fib, &st);
	assert_int_equal(st.adopted, 1);
	assert_int_equal(st.leftovers, 1);
	/* A resync during the hold keeps the held route. */
	fib_fake_log_clear(x.be);
	assert_int_equal(fib_reconcile(x.fib), 0);
	expect_log(&x, "dump 4\n");
	/* End-of-RIB from every peer: the one not re-learned goes. */
	assert_int_equal(fib_sweep_leftovers(x.fib), 1);
	expect_log(&x, "del 10.9.3.0/24 table 254 metric 20\ncommit 1\n");
	assert_int_equal(fib_fake_count(x.be), 3);
	fix_close(&x);
}

/* ---------------------------------------------------------- backends */

static void test_backend_checks(void **state)
{
	struct fib_backend *be;
	struct fib_route r = kroute("10.0.0.0", 8, 186, 254, 20, "169.254.10.1", 7);

	assert_int_equal(fib_fake_open(&be), 0);
	r.len = 33;
	assert_int_equal(fib_backend_queue(be, FIB_OP_ADD, &r), -EINVAL);
	r.len = 8;
	r.n_nh = 0;
	assert_int_equal(fib_backend_queue(be, FIB_OP_ADD, &r), -EINVAL);
	assert_int_equal(fib_backend_queue(be, FIB_OP_DEL, &r), 0);
	r.n_nh = FIB_MAX_NH + 1;
	assert_int_equal(fib_backend_queue(be, FIB_OP_REPLACE, &r), -EINVAL);
	assert_string_equal(fib_op_name(FIB_OP_REPLACE), "replace");
	fib_backend_close(be);
	/* Opening rtnetlink needs no privilege; changing routes does. */
	assert_int_equal(fib_netlink_open(NULL, &be), 0);
	fib_backend_close(be);
}

static void test_sort_nh(void **state)
{
	struct fib_route r;

	memset(&r, 0, sizeof(r));
	r.n_nh = 3;
	r.nh[0] = (struct fib_nh){ ip("169.254.12.1"), 9 };
	r.nh[1] = (struct fib_nh){ ip("169.254.11.1"), 7 };
	r.nh[2] = (struct fib_nh){ ip("169.254.10.1"), 7 };
	fib_route_sort_nh(&r);
	assert_int_equal(r.nh[0].gw.s_addr, ip("169.254.10.1").s_addr);
	assert_int_equal(r.nh[1].gw.s_addr, ip("169.254.11.1").s_addr);
	assert_int_equal(r.nh[2].ifindex, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_replace_delete),
		cmocka_unit_test(test_ecmp),
		cmocka_unit_test(test_one_commit_per_flush),
		cmocka_unit_test(test_forced_new_ifindex),
		cmocka_unit_test(test_foreign_route_in_the_way),
		cmocka_unit_test(test_failed_replace_resyncs),
		cmocka_unit_test(test_enobufs_resync),
		cmocka_unit_test(test_reconcile_at_start),
		cmocka_unit_test(test_hold_leftovers),
		cmocka_unit_test(test_backend_checks),
		cmocka_unit_test(test_sort_nh),
	};

	log_init("test_bgp_fib", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
