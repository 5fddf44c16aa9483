/*
 * The rtnetlink backend of bgp/fib: route requests packed many to a
 * sendmsg without NLM_F_ACK (the kernel answers only failures, read back
 * without blocking and matched to their route by sequence number),
 * ENOBUFS reported so the FIB resynchronises, and dumps of protocol-186
 * routes validated against an attribute policy table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "bgp/fib.h"
#include "common/log.h"
#include "common/util.h"

#define NL_BATCH_DEFAULT (64 * 1024)
#define NL_RCVBUF_DEFAULT (4 * 1024 * 1024)
#define NL_RX_SIZE 32768		/* the kernel's largest dump datagram */
#define NL_MSG_MAX 512			/* one route request, 16 next hops */
#define NL_MSG_MIN 44			/* the smallest (delete of 0.0.0.0/0) */

struct nl_rec {				/* what request seq - first_seq was */
	uint32_t dst;
	uint8_t len, op;
};

struct fib_nl {
	struct fib_backend base;
	struct mnl_socket *nl;
	uint32_t portid, first_seq;	/* seq of recs[0] */
	unsigned char *tx;
	size_t tx_size, tx_len;
	struct nl_rec *recs;
	size_t n_recs, max_recs;
	_Alignas(8) unsigned char rx[NL_RX_SIZE];
};

static struct fib_nl *nl_of(struct fib_backend *b)
{
	return (struct fib_nl *)b;
}

static void nl_put_nexthops(struct nlmsghdr *nlh, const struct fib_route *r)
{
	struct nlattr *mp;

	if (r->n_nh == 1) {
		mnl_attr_put_u32(nlh, RTA_GATEWAY, r->nh[0].gw.s_addr);
		if (r->nh[0].ifindex)
			mnl_attr_put_u32(nlh, RTA_OIF, r->nh[0].ifindex);
		return;
	}
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (size_t i = 0; i < r->n_nh; i++) {
		struct rtnexthop *nh = mnl_nlmsg_get_payload_tail(nlh);

		memset(nh, 0, sizeof(*nh));
		nh->rtnh_ifindex = (int)r->nh[i].ifindex;
		nlh->nlmsg_len += MNL_ALIGN(sizeof(*nh));
		mnl_attr_put_u32(nlh, RTA_GATEWAY, r->nh[i].gw.s_addr);
		nh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)nh);
	}
	mnl_attr_nest_end(nlh, mp);
}

/* One RTM_NEWROUTE/DELROUTE without NLM_F_ACK; its length or -EMSGSIZE. */
static int nl_build(void *buf, size_t size, uint32_t seq, enum fib_op op,
		    const struct fib_route *r)
{
	static const uint16_t flags[] = {
		[FIB_OP_ADD] = NLM_F_CREATE | NLM_F_EXCL,
		[FIB_OP_REPLACE] = NLM_F_CREATE | NLM_F_REPLACE,
		[FIB_OP_DEL] = 0,
	};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (size < NL_MSG_MAX)
		return -EMSGSIZE;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = op == FIB_OP_DEL ? RTM_DELROUTE : RTM_NEWROUTE;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags[op]);
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = r->len;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = FIB_RTPROT_BGP;	/* a delete matches only ours */
	rtm->rtm_scope = op == FIB_OP_DEL ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (r->len)
		mnl_attr_put_u32(nlh, RTA_DST, r->dst.s_addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	if (op != FIB_OP_DEL)
		nl_put_nexthops(nlh, r);
	return (int)nlh->nlmsg_len;
}

static int extack_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)data = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* Failure replies in buf[0..len): fn for each, with its extended ack. */
void fib_nl_parse_errors(const void *buf, size_t len, fib_nl_error_fn fn, void *arg)
{
	const struct nlmsghdr *nlh = buf;
	int rest = (int)nl_whole_msgs(buf, len);

	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		const char *msg = NULL;
		struct nlmsgerr e;

		if (nlh->nlmsg_type != NLMSG_ERROR || mnl_nlmsg_get_payload_len(nlh) < sizeof(e))
			continue;
		memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
		if (e.error >= 0)
			continue;
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
			mnl_attr_parse(nlh, sizeof(e), extack_attr, &msg);
		fn(nlh->nlmsg_seq, e.error, msg, arg);
	}
}

/* A failure reply: to its request by sequence number. */
static void nl_error(uint32_t seq, int err, const char *msg, void *arg)
{
	struct fib_nl *n = arg;
	uint32_t i = seq - n->first_seq;

	if (i >= n->n_recs)
		return;
	fib_backend_report(&n->base, (enum fib_op)n->recs[i].op, n->recs[i].dst,
			   n->recs[i].len, err, msg);
}

/* Read every queued failure without blocking; -ENOBUFS if some were lost. */
static int nl_read_errors(struct fib_nl *n)
{
	int fd = mnl_socket_get_fd(n->nl), ret = 0;

	for (;;) {
		ssize_t r = recv(fd, n->rx, sizeof(n->rx), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOBUFS) {
			ret = -ENOBUFS;		/* overrun: keep draining */
			continue;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? ret : -errno;
		fib_nl_parse_errors(n->rx, (size_t)r, nl_error, n);
	}
}

/* Send the batch; the kernel handles it inside sendmsg, so its failure
 * replies are queued when this returns. */
static int nl_send(struct fib_nl *n)
{
	ssize_t r;
	int err;

	if (!n->n_recs)
		return 0;
	r = mnl_socket_sendto(n->nl, n->tx, n->tx_len);
	err = r < 0 ? -errno : nl_read_errors(n);
	for (size_t i = 0; r < 0 && i < n->n_recs; i++)
		fib_backend_report(&n->base, (enum fib_op)n->recs[i].op, n->recs[i].dst,
				   n->recs[i].len, err, NULL);
	n->base.sends++;
	n->base.msgs += n->n_recs;
	n->first_seq += (uint32_t)n->n_recs;
	n->n_recs = 0;
	n->tx_len = 0;
	return err;
}

static int nl_queue(struct fib_backend *b, enum fib_op op, const struct fib_route *r)
{
	struct fib_nl *n = nl_of(b);
	int err = 0, len;

	if (n->tx_size - n->tx_len < NL_MSG_MAX || n->n_recs == n->max_recs)
		err = nl_send(n);
	len = nl_build(n->tx + n->tx_len, n->tx_size - n->tx_len,
		       n->first_seq + (uint32_t)n->n_recs, op, r);
	if (len < 0)
		return len;
	n->tx_len += (size_t)len;
	n->recs[n->n_recs++] = (struct nl_rec){ r->dst.s_addr, r->len, (uint8_t)op };
	return err;
}

static int nl_commit(struct fib_backend *b)
{
	return nl_send(nl_of(b));
}

/* Attribute policy for route dumps: minimum payload per type we read. */
static const uint16_t rta_min_len[RTA_MAX + 1] = {
	[RTA_DST] = 4, [RTA_OIF] = 4, [RTA_GATEWAY] = 4, [RTA_PRIORITY] = 4,
	[RTA_TABLE] = 4, [RTA_MULTIPATH] = sizeof(struct rtnexthop),
};

static int rta_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > RTA_MAX || !rta_min_len[type])
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(a) < rta_min_len[type])
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

/* The RTA_GATEWAY inside one rtnexthop's attributes [p, p + len). */
static int nh_gateway(const unsigned char *p, size_t len, struct in_addr *gw)
{
	while (len >= sizeof(struct nlattr)) {
		struct nlattr at;

		memcpy(&at, p, sizeof(at));
		if (at.nla_len < sizeof(at) || at.nla_len > len)
			return -EINVAL;
		if ((at.nla_type & NLA_TYPE_MASK) == RTA_GATEWAY && at.nla_len >= NLA_HDRLEN + 4)
			memcpy(gw, p + NLA_HDRLEN, 4);
		if ((size_t)NLA_ALIGN(at.nla_len) >= len)
			break;
		p += NLA_ALIGN(at.nla_len);
		len -= NLA_ALIGN(at.nla_len);
	}
	return 0;
}

static int parse_multipath(const struct nlattr *mp, struct fib_route *r)
{
	const unsigned char *p = mnl_attr_get_payload(mp);
	size_t left = mnl_attr_get_payload_len(mp);

	while (left >= sizeof(struct rtnexthop)) {
		struct rtnexthop nh;
		struct fib_nh *o;

		memcpy(&nh, p, sizeof(nh));
		if (nh.rtnh_len < sizeof(nh) || nh.rtnh_len > left)
			return -EINVAL;
		if (r->n_nh == FIB_MAX_NH) {
			r->truncated = true;
			return 0;
		}
		o = &r->nh[r->n_nh++];
		o->ifindex = nh.rtnh_ifindex > 0 ? (unsigned)nh.rtnh_ifindex : 0;
		if (nh_gateway(p + RTNH_LENGTH(0), nh.rtnh_len - RTNH_LENGTH(0), &o->gw) < 0)
			return -EINVAL;
		if ((size_t)RTNH_ALIGN(nh.rtnh_len) >= left)
			break;
		p += RTNH_ALIGN(nh.rtnh_len);
		left -= RTNH_ALIGN(nh.rtnh_len);
	}
	return 0;
}

/* 1 and r filled if nlh is a protocol-186 IPv4 route in table, 0 if
 * not, -EINVAL if malformed. */
int fib_nl_parse_route(const struct nlmsghdr *nlh, uint32_t table, struct fib_route *r)
{
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EINVAL;
	if (rtm->rtm_family != AF_INET || rtm->rtm_protocol != FIB_RTPROT_BGP ||
	    rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len > 32)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*rtm), rta_cb, tb) < 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (r->table != table)
		return 0;
	r->dst.s_addr = tb[RTA_DST] ? mnl_attr_get_u32(tb[RTA_DST]) : 0;
	r->len = rtm->rtm_dst_len;
	r->protocol = rtm->rtm_protocol;
	r->metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	if (tb[RTA_MULTIPATH]) {
		if (parse_multipath(tb[RTA_MULTIPATH], r) < 0)
			return -EINVAL;
	} else if (tb[RTA_GATEWAY] || tb[RTA_OIF]) {
		r->nh[0].gw.s_addr = tb[RTA_GATEWAY] ? mnl_attr_get_u32(tb[RTA_GATEWAY]) : 0;
		r->nh[0].ifindex = tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
		r->n_nh = 1;
	}
	fib_route_sort_nh(r);
	return 1;
}

struct nl_dump {
	uint32_t table;
	fib_dump_fn fn;
	void *arg;
	int ret;			/* fn's first non-zero value */
	bool intr;			/* NLM_F_DUMP_INTR seen */
};

static int nl_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_dump *d = data;
	struct fib_route r;
	int ok = fib_nl_parse_route(nlh, d->table, &r);

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (ok < 0)
		log_warnx("bgp fib: malformed route in the kernel's dump, skipped");
	if (ok > 0 && !d->ret)
		d->ret = d->fn(&r, d->arg);
	return MNL_CB_OK;		/* read on to NLMSG_DONE in any case */
}

/* One datagram of the dump; a message overrunning it fails the dump. */
static int nl_dump_reply(const void *buf, size_t len, uint32_t seq, uint32_t portid,
			 struct nl_dump *d)
{
	size_t whole = nl_whole_msgs(buf, len);
	int ret = mnl_cb_run(buf, whole, seq, portid, nl_dump_cb, d);

	if (ret > MNL_CB_STOP && whole < len) {
		errno = EBADMSG;
		ret = MNL_CB_ERROR;
	}
	return ret;
}

static int nl_dump(struct fib_backend *b, uint32_t table, fib_dump_fn fn, void *arg)
{
	struct fib_nl *n = nl_of(b);
	struct nl_dump d = { table, fn, arg, 0, false };
	_Alignas(8) unsigned char req[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct rtmsg *rtm;
	uint32_t seq;
	int ret = nl_send(n);

	if (ret < 0 && ret != -ENOBUFS)
		return ret;
	seq = n->first_seq++;		/* after the batch's sequence numbers */
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_protocol = FIB_RTPROT_BGP;	/* kernel-side filters (strict mode) */
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t r = mnl_socket_recvfrom(n->nl, n->rx, sizeof(n->rx));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		ret = nl_dump_reply(n->rx, (size_t)r, seq, n->portid, &d);
	} while (ret > MNL_CB_STOP);
	if (ret == MNL_CB_ERROR && errno != ENOENT)	/* ENOENT: no such table yet */
		return -errno;
	return d.intr ? -EAGAIN : d.ret;
}

static void nl_close(struct fib_backend *b)
{
	struct fib_nl *n = nl_of(b);

	if (n->nl)
		mnl_socket_close(n->nl);
	free(n->tx);
	free(n->recs);
	free(n);
}

static const struct fib_backend_ops nl_ops = {
	.name = "netlink",
	.queue = nl_queue,
	.commit = nl_commit,
	.dump = nl_dump,
	.close = nl_close,
};

/* Socket options: buffers (forced when privileged), capped acks with
 * extended messages, strict dump filters. Only the buffers matter. */
static void nl_setsockopts(int fd, size_t batch, int rcvbuf)
{
	int one = 1, sndbuf = (int)batch + 4096;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
}

int fib_netlink_open(const struct fib_nl_opts *opts, struct fib_backend **out)
{
	struct fib_nl *n = calloc(1, sizeof(*n));
	size_t batch = opts && opts->batch_bytes ? opts->batch_bytes : NL_BATCH_DEFAULT;
	int err = -ENOMEM;

	*out = NULL;
	if (!n)
		return -ENOMEM;
	n->base.ops = &nl_ops;
	n->tx_size = batch < NL_MSG_MAX ? NL_MSG_MAX : batch;
	n->max_recs = n->tx_size / NL_MSG_MIN + 1;
	n->tx = malloc(n->tx_size);
	n->recs = calloc(n->max_recs, sizeof(*n->recs));
	if (!n->tx || !n->recs)
		goto out;
	n->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	nl_setsockopts(mnl_socket_get_fd(n->nl), n->tx_size,
		       opts && opts->rcvbuf ? opts->rcvbuf : NL_RCVBUF_DEFAULT);
	n->portid = mnl_socket_get_portid(n->nl);
	n->first_seq = (uint32_t)time(NULL) << 8;
	*out = &n->base;
	return 0;
out:
	nl_close(&n->base);
	return err;
}
