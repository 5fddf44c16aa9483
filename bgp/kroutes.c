/*
 * The local routes to export: [bgp] network prefixes (always, or while a
 * kernel route to exactly that prefix exists, like FRR's network
 * statement with its import check: one RTM_F_FIB_MATCH lookup per
 * network) and redistributed kernel routes (connected, static, other
 * daemons'), read with one rtnetlink dump of the main table. Our own routes (protocol 186) and routes through the
 * tunnels' VTIs are never taken: that would send AWS its own routes or
 * the inside /30s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "bgp/speaker-int.h"
#include "common/log.h"
#include "common/util.h"

static bool via_vti(const struct kroutes_scan *s, unsigned oif)
{
	for (size_t i = 0; i < s->n_vti; i++)
		if (oif && s->vti[i] == oif)
			return true;
	return false;
}

static int add_local(struct kroutes_scan *s, const struct cgw_prefix *p, uint8_t origin)
{
	if (array_reserve(&s->out, &s->cap, s->n, sizeof(*s->out)) < 0)
		return -ENOMEM;
	s->out[s->n++] = (struct bgp_local){ .prefix = *p, .origin = origin };
	return 0;
}

static unsigned redist_kind(uint8_t proto, uint8_t scope)
{
	if (proto == RTPROT_KERNEL)
		return scope == RT_SCOPE_LINK ? CGW_REDIST_CONNECTED : 0;
	if (proto == RTPROT_BOOT || proto == RTPROT_STATIC)
		return CGW_REDIST_STATIC;
	if (proto == RTPROT_UNSPEC || proto == RTPROT_REDIRECT || proto == FIB_RTPROT_BGP)
		return 0;
	return CGW_REDIST_KERNEL;
}

/* The default route, link-local and loopback go only where a filter names them. */
static bool special(const struct cgw_prefix *p)
{
	uint32_t a = ntohl(p->addr.v4.s_addr);

	return p->len == 0 || (a >> 16) == 0xa9fe || (a >> 24) == 127;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kroutes_scan *s = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct cgw_prefix p = { .addr.family = AF_INET };
	uint32_t table;
	unsigned kind, oif = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;	/* no route header: not a route */
	if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len > 32)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb);
	table = tb[RTA_TABLE] && mnl_attr_get_payload_len(tb[RTA_TABLE]) >= 4 ?
		mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN || rtm->rtm_protocol == FIB_RTPROT_BGP)
		return MNL_CB_OK;
	if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) >= 4)
		oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (via_vti(s, oif))
		return MNL_CB_OK;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) >= 4)
		memcpy(&p.addr.v4, mnl_attr_get_payload(tb[RTA_DST]), 4);
	p.len = rtm->rtm_dst_len;
	if (p.len < 32)
		p.addr.v4.s_addr &= htonl(p.len ? ~0u << (32 - p.len) : 0);

	for (size_t i = 0; i < s->bc->n_networks; i++) {
		const struct cgw_prefix *n = &s->bc->networks[i];
		if (n->len == p.len && n->addr.v4.s_addr == p.addr.v4.s_addr)
			s->network_seen[i] = true;
	}
	kind = redist_kind(rtm->rtm_protocol, rtm->rtm_scope);
	if (!(kind & s->bc->redistribute))
		return MNL_CB_OK;
	/* with a filter: what it names (a /0 in it lets the default route
	   through); without: everything but the special prefixes */
	if (s->bc->n_redistribute_prefixes ?
	    !conf_prefix_in_list(&p, s->bc->redistribute_prefixes,
				 s->bc->n_redistribute_prefixes) : special(&p))
		return MNL_CB_OK;
	return add_local(s, &p, BGP_ORIGIN_INCOMPLETE) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int bgp_kroutes_dump_reply(struct kroutes_scan *s, const void *buf, size_t len,
			   uint32_t seq, uint32_t portid)
{
	size_t whole = nl_whole_msgs(buf, len);
	int ret = mnl_cb_run(buf, whole, seq, portid, route_cb, s);

	if (ret > MNL_CB_STOP && whole < len) {
		errno = EBADMSG;	/* a message overruns the datagram */
		ret = MNL_CB_ERROR;
	}
	return ret;
}

static int dump_main(struct kroutes_scan *s)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	unsigned seq = (unsigned)time(NULL), portid;
	int r = 0;

	if (!nl || !buf) {
		r = nl ? -ENOMEM : -errno;
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4);
		int cr;

		if (n < 0) {
			r = -errno;
			break;
		}
		cr = bgp_kroutes_dump_reply(s, buf, (size_t)n, seq, portid);
		if (cr == MNL_CB_STOP)
			break;
		if (cr < 0) {
			r = errno ? -errno : -EIO;
			break;
		}
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

/*
 * Is there a kernel route to exactly n (not ours, not via a VTI)? One
 * RTM_GETROUTE with RTM_F_FIB_MATCH: the kernel answers with the FIB
 * entry that matches n's address, so a table of 100,000 BGP routes costs
 * nothing here. 1 yes, 0 no, -errno.
 */
struct match {
	const struct cgw_prefix *n;
	const struct kroutes_scan *s;
	bool found;
};

static int match_cb(const struct nlmsghdr *nlh, void *data)
{
	struct match *m = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	uint32_t table, dst = 0;
	unsigned oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb);
	table = tb[RTA_TABLE] && mnl_attr_get_payload_len(tb[RTA_TABLE]) >= 4 ?
		mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) >= 4)
		memcpy(&dst, mnl_attr_get_payload(tb[RTA_DST]), 4);
	if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) >= 4)
		oif = mnl_attr_get_u32(tb[RTA_OIF]);
	m->found = rtm->rtm_type == RTN_UNICAST && table == RT_TABLE_MAIN &&
		rtm->rtm_protocol != FIB_RTPROT_BGP && !via_vti(m->s, oif) &&
		rtm->rtm_dst_len == m->n->len && dst == m->n->addr.v4.s_addr;
	return MNL_CB_OK;
}

int bgp_kroutes_match_reply(const struct kroutes_scan *s, const struct cgw_prefix *n,
			    const void *buf, size_t len, uint32_t seq, uint32_t portid)
{
	struct match m = { .n = n, .s = s };

	/* no route at all: an error reply (ENETUNREACH), i.e. not present */
	mnl_cb_run(buf, nl_whole_msgs(buf, len), seq, portid, match_cb, &m);
	return m.found;
}

static int network_present(struct mnl_socket *nl, const struct kroutes_scan *s,
			   const struct cgw_prefix *n, unsigned seq)
{
	char buf[8192];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	ssize_t r;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, 4, &n->addr.v4);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (r < 0)
		return -errno;
	return bgp_kroutes_match_reply(s, n, buf, (size_t)r, seq, mnl_socket_get_portid(nl));
}

static int networks_present(struct kroutes_scan *s)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned seq = (unsigned)time(NULL);
	int r = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	for (size_t i = 0; r >= 0 && i < s->bc->n_networks; i++) {
		r = network_present(nl, s, &s->bc->networks[i], seq + (unsigned)i);
		if (r > 0)
			s->network_seen[i] = true;
	}
	mnl_socket_close(nl);
	return r < 0 ? r : 0;
}

static int local_cmp(const void *a, const void *b)
{
	const struct bgp_local *x = a, *y = b;
	uint32_t ax = ntohl(x->prefix.addr.v4.s_addr), ay = ntohl(y->prefix.addr.v4.s_addr);

	if (ax != ay)
		return ax < ay ? -1 : 1;
	if (x->prefix.len != y->prefix.len)
		return x->prefix.len < y->prefix.len ? -1 : 1;
	return (int)x->origin - (int)y->origin;	/* IGP (network) first */
}

int bgp_kroutes_scan(const struct cgw_bgp_conf *bc, const unsigned *vti_ifindex,
		     size_t n_vti, struct bgp_local **out, size_t *n_out)
{
	struct kroutes_scan s = { .bc = bc, .vti = vti_ifindex, .n_vti = n_vti };
	bool need_dump = bc->redistribute != 0;
	int r = 0;

	s.network_seen = calloc(bc->n_networks + 1, sizeof(bool));
	if (!s.network_seen)
		return -ENOMEM;
	if (need_dump)
		r = dump_main(&s);	/* sees the networks too */
	else if (bc->n_networks && bc->network_mode == CGW_NETWORK_PRESENT)
		r = networks_present(&s);
	return bgp_kroutes_finish(&s, r, out, n_out);
}

int bgp_kroutes_finish(struct kroutes_scan *s, int r, struct bgp_local **out, size_t *n_out)
{
	const struct cgw_bgp_conf *bc = s->bc;
	size_t k = 0;

	for (size_t i = 0; r == 0 && i < bc->n_networks; i++)
		if (bc->network_mode == CGW_NETWORK_ALWAYS || s->network_seen[i])
			r = add_local(s, &bc->networks[i], BGP_ORIGIN_IGP);
	free(s->network_seen);
	s->network_seen = NULL;
	if (r < 0) {
		free(s->out);
		s->out = NULL;
		return r;
	}
	if (s->n)
		qsort(s->out, s->n, sizeof(*s->out), local_cmp);
	/* one entry per prefix: network (IGP) wins over redistributed */
	for (size_t i = 0; i < s->n; i++)
		if (k == 0 || s->out[k - 1].prefix.len != s->out[i].prefix.len ||
		    s->out[k - 1].prefix.addr.v4.s_addr != s->out[i].prefix.addr.v4.s_addr)
			s->out[k++] = s->out[i];
	*out = s->out;
	*n_out = k;
	return 0;
}
