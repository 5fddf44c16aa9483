/*
 * libFuzzer harness: every parser cgwd runs on the kernel's netlink
 * replies and events. The first input byte picks the parser (and a
 * variant), the rest is one datagram as recv() would return it, copied
 * to an aligned buffer of exactly its size so ASan sees any read past
 * the end. Seeds in corpus/netlink/ come from this host's kernel
 * (tests/fuzz/netlink-seeds.py).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "bgp/fib.h"
#include "bgp/speaker-int.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/routes.h"
#include "vti/vti-internal.h"
#include "xfrm/xfrm-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum target {
	T_XFRM_STATE,		/* GETSA / ALLOCSPI reply, then the ack */
	T_XFRM_DUMP_SA,		/* a GETSA dump datagram (xfrm list) */
	T_XFRM_DUMP_SP,		/* a GETPOLICY dump datagram or reply */
	T_XFRM_EVENTS,		/* EXPIRE / ACQUIRE multicast */
	T_FIB_DUMP,		/* bgp/fib: RTM_GETROUTE dump of our routes */
	T_FIB_ERRORS,		/* bgp/fib: failure replies to a batch */
	T_KROUTES_DUMP,		/* bgp/kroutes: main-table dump */
	T_KROUTES_MATCH,	/* bgp/kroutes: RTM_F_FIB_MATCH reply */
	T_VTI_LINK,		/* vti/: RTM_NEWLINK through libnl */
	T_ROUTES_ACK,		/* daemon/routes: the ack of a route request */
	T_COUNT
};

/* --------------------------------------------------------------- xfrm */

static int xfrm_state_reply(const struct nlmsghdr *nlh, void *arg)
{
	return xnl_parse_state(nlh, arg);
}

/* As the backend's dump callbacks: other families and socket policies skipped. */
static int xfrm_list_state(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_state_info st;
	int err = xnl_parse_state(nlh, &st);

	if (err == -EAFNOSUPPORT)
		return 0;
	return err ? err : xfrm_list_push_state(arg, &st);
}

static int xfrm_list_policy(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_policy_info pi;
	int err = xnl_parse_policy(nlh, &pi);

	if (err == -EAFNOSUPPORT || err == -EOPNOTSUPP)
		return 0;
	return err ? err : xfrm_list_push_policy(arg, &pi);
}

static void xfrm_event_seen(const struct xfrm_event *ev, bool owned, void *arg)
{
	/* read every field, as the daemon's handler does */
	*(unsigned *)arg += (unsigned)ev->type + ev->reqid + ev->id.spi + owned +
			    (unsigned)ev->src.family;
}

static void fuzz_xfrm(enum target t, const void *buf, size_t len, uint32_t seq)
{
	struct xfrm_list list = { NULL, 0, NULL, 0 };
	struct xfrm_state_info st;
	struct xnl_talk talk = { NULL, NULL, 0, 0 };
	unsigned sum = 0;

	switch (t) {
	case T_XFRM_STATE:
		talk.fn = xfrm_state_reply;
		talk.arg = &st;
		break;
	case T_XFRM_DUMP_SA:
		talk.fn = xfrm_list_state;
		talk.arg = &list;
		break;
	case T_XFRM_DUMP_SP:
		talk.fn = xfrm_list_policy;
		talk.arg = &list;
		break;
	default:
		xnl_events_decode(buf, len, xfrm_event_seen, &sum);
		return;
	}
	xnl_talk_run(buf, len, seq, 0, &talk);
	xfrm_list_free(&list);
}

/* ---------------------------------------------------------------- bgp */

static int fib_route_seen(const struct nlmsghdr *nlh, void *arg)
{
	struct fib_route r;

	if (fib_nl_parse_route(nlh, *(uint32_t *)arg, &r) > 0 && r.n_nh > FIB_MAX_NH)
		abort();		/* the parser must cap next hops */
	return MNL_CB_OK;
}

static void fib_error_seen(uint32_t seq, int err, const char *msg, void *arg)
{
	if (err >= 0 || (msg && strlen(msg) > 65535))
		abort();		/* only failures, NUL-terminated extacks */
}

static void prefix4(struct cgw_prefix *p, uint32_t addr, uint8_t len)
{
	p->addr.family = AF_INET;
	p->addr.v4.s_addr = htonl(addr);
	p->len = len;
}

static void fuzz_kroutes(enum target t, uint8_t variant, const void *buf, size_t len,
			 uint32_t seq)
{
	static struct cgw_prefix networks[2], filter[2];
	static const unsigned vti[] = { 7, 9 };
	struct cgw_bgp_conf bc = {
		.enabled = true,
		.networks = networks,
		.n_networks = 2,
		.network_mode = CGW_NETWORK_PRESENT,
		.redistribute = CGW_REDIST_CONNECTED | CGW_REDIST_STATIC | CGW_REDIST_KERNEL,
	};
	struct kroutes_scan s = { .bc = &bc, .vti = vti, .n_vti = 2 };
	struct bgp_local *out = NULL;
	size_t n_out = 0;

	if (!networks[0].addr.family) {
		prefix4(&networks[0], 0x0a010000, 24);	/* 10.1.0.0/24 */
		prefix4(&networks[1], 0xc0a80000, 16);	/* 192.168.0.0/16 */
		prefix4(&filter[0], 0x0a000000, 8);	/* 10.0.0.0/8 */
		prefix4(&filter[1], 0, 0);		/* the default route */
	}
	if (variant & 1) {		/* with a redistribute-prefix filter */
		bc.redistribute_prefixes = filter;
		bc.n_redistribute_prefixes = 2;
	}
	s.network_seen = calloc(bc.n_networks + 1, sizeof(bool));
	if (!s.network_seen)
		abort();
	if (t == T_KROUTES_DUMP) {
		bgp_kroutes_dump_reply(&s, buf, len, seq, 0);
	} else if (bgp_kroutes_match_reply(&s, &networks[variant >> 1 & 1], buf, len,
					   seq, 0) > 0) {
		s.network_seen[variant >> 1 & 1] = true;
	}
	if (bgp_kroutes_finish(&s, 0, &out, &n_out) == 0)
		free(out);
}

/* -------------------------------------------------------- vti, routes */

static void fuzz_vti(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rest = (int)nl_whole_msgs(buf, len);	/* as libnl's nlmsg_ok() */

	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		struct vti_link l;

		if (vti_nl_link_parse(nlh, &l) == 0 && !memchr(l.kind, '\0', sizeof(l.kind)))
			abort();	/* kind must be a terminated string */
	}
}

/* ------------------------------------------------------------- driver */

static void quiet(int prio, const char *line, void *arg)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	enum target t;
	uint8_t variant;
	uint32_t table, seq;
	void *buf;
	size_t len;

	if (!init) {
		log_init("fuzz_netlink", -1);
		log_set_sink(quiet, NULL);
		init = true;
	}
	if (size < 1)
		return 0;
	t = (enum target)(data[0] % T_COUNT);
	variant = (uint8_t)(data[0] / T_COUNT);
	/* seq 0 takes any sequence number; else the seeds' 1 must match */
	seq = variant & 4 ? 0 : 1;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memcpy(buf, data + 1, len);
	switch (t) {
	case T_XFRM_STATE:
	case T_XFRM_DUMP_SA:
	case T_XFRM_DUMP_SP:
	case T_XFRM_EVENTS:
		fuzz_xfrm(t, buf, len, seq);
		break;
	case T_FIB_DUMP:
		table = variant & 1 ? 254 : 100;
		/* as bgp/fib-netlink.c's nl_dump_reply() */
		mnl_cb_run(buf, nl_whole_msgs(buf, len), seq, 0, fib_route_seen, &table);
		break;
	case T_FIB_ERRORS:
		fib_nl_parse_errors(buf, len, fib_error_seen, NULL);
		break;
	case T_KROUTES_DUMP:
	case T_KROUTES_MATCH:
		fuzz_kroutes(t, variant, buf, len, seq);
		break;
	case T_VTI_LINK:
		fuzz_vti(buf, len);
		break;
	case T_ROUTES_ACK:
		routes_parse_ack(buf, len, seq, 0);
		break;
	case T_COUNT:
		break;
	}
	free(buf);
	return 0;
}
