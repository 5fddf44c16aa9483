/*
 * The netlink backend: one request socket (sequence numbers, every
 * request acknowledged, error acks capped so our request, keys included,
 * is not echoed back, both buffers wiped after use) and one non-blocking
 * event socket in the EXPIRE and ACQUIRE groups. Messages are built and
 * parsed by nlmsg.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sodium.h>

#include "common/log.h"
#include "common/util.h"
#include "xfrm/xfrm-internal.h"

#define RX_SIZE 32768			/* the kernel's largest dump datagram */
#define EV_SIZE 8192			/* one event is a few hundred bytes */
#define EV_RCVBUF (1 << 20)		/* bursts of expiries from many tunnels */

struct xfrm_nl {
	struct xfrm base;
	struct mnl_socket *req, *ev;
	uint32_t portid, seq;
	bool stale;			/* a reply may be left unread: drain first */
	_Alignas(8) unsigned char tx[XNL_MSG_MAX];
	_Alignas(8) unsigned char rx[RX_SIZE];
	_Alignas(8) unsigned char ev_rx[EV_SIZE];
};

static struct xfrm_nl *nl_of(struct xfrm *x)
{
	return (struct xfrm_nl *)x;
}

/* ---------------------------------------------------------- request/ack */

static int talk_data(const struct nlmsghdr *nlh, void *data)
{
	struct xnl_talk *t = data;
	int err = t->fn ? t->fn(nlh, t->arg) : -EBADMSG;

	t->replies++;
	if (err && !t->err)
		t->err = err;
	return MNL_CB_OK;		/* keep reading up to the ack or DONE */
}

static int extack_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)data = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static int talk_error(const struct nlmsghdr *nlh, void *data)
{
	struct xnl_talk *t = data;
	struct nlmsgerr e;
	const char *msg = NULL;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(e)) {
		t->err = t->err ? t->err : -EBADMSG;
		return MNL_CB_STOP;
	}
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e.error < 0 && !t->err)
		t->err = e.error;
	/* With NETLINK_CAP_ACK only the request's header follows nlmsgerr. */
	if (e.error < 0 && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		mnl_attr_parse(nlh, sizeof(e), extack_attr, &msg);
		if (msg)
			log_warnx("xfrm: the kernel says: %s", msg);
	}
	return MNL_CB_STOP;
}

static int talk_done(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_STOP;
}

/* libmnl takes a non-const array; nothing writes to it. */
static mnl_cb_t talk_ctl[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = talk_error,
	[NLMSG_DONE] = talk_done,
};

int xnl_talk_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		 struct xnl_talk *t)
{
	size_t whole = nl_whole_msgs(buf, len);
	int ret = mnl_cb_run2(buf, whole, seq, portid, talk_data, t, talk_ctl,
			      NLMSG_MIN_TYPE);

	if (ret > MNL_CB_STOP && whole < len) {
		errno = EBADMSG;	/* a message overruns the datagram */
		ret = MNL_CB_ERROR;
	}
	if (ret == MNL_CB_ERROR && !t->err)
		t->err = -errno;
	return ret;
}

/* Throw away anything left from an exchange that ended early. */
static void drain(struct xfrm_nl *n)
{
	int fd = mnl_socket_get_fd(n->req);

	while (recv(fd, n->rx, sizeof(n->rx), MSG_DONTWAIT) > 0)
		;
	sodium_memzero(n->rx, sizeof(n->rx));
	n->stale = false;
}

/*
 * Send the len-byte request in n->tx and read replies (each to fn) up to
 * the ack or the end of the dump. At least `want` replies must come.
 */
static int nl_talk(struct xfrm_nl *n, int len, unsigned want, xnl_reply_fn fn, void *arg)
{
	struct xnl_talk t = { fn, arg, 0, 0 };
	const struct nlmsghdr *nlh = (const void *)n->tx;
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t r;
	int ret;

	if (len < 0)
		return len;
	if (n->stale)
		drain(n);
	r = mnl_socket_sendto(n->req, n->tx, (size_t)len);
	ret = r < 0 ? -errno : 0;
	sodium_memzero(n->tx, (size_t)len);
	if (ret)
		return ret;
	n->stale = true;
	do {
		r = mnl_socket_recvfrom(n->req, n->rx, sizeof(n->rx));
		if (r < 0)
			return -errno;
		ret = xnl_talk_run(n->rx, (size_t)r, seq, n->portid, &t);
		sodium_memzero(n->rx, (size_t)r);	/* GETSA replies carry keys */
	} while (ret > MNL_CB_STOP);
	if (ret == MNL_CB_STOP)
		n->stale = false;
	if (!t.err && t.replies < want)
		t.err = -EBADMSG;
	return t.err;
}

/* ------------------------------------------------------------------ ops */

static int reply_spi(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_state_info st;
	int err = xnl_parse_state(nlh, &st);

	if (!err)
		*(uint32_t *)arg = st.id.spi;
	return err;
}

static int nl_alloc_spi(struct xfrm *x, const struct xfrm_sa *sa, uint32_t *spi)
{
	struct xfrm_nl *n = nl_of(x);

	return nl_talk(n, xnl_build_allocspi(n->tx, sizeof(n->tx), ++n->seq, sa,
					     CGW_XFRM_SPI_MIN, CGW_XFRM_SPI_MAX),
		       1, reply_spi, spi);
}

static int nl_state_put(struct xfrm *x, const struct xfrm_sa *sa,
			const struct xfrm_kalg *k, bool update)
{
	struct xfrm_nl *n = nl_of(x);

	return nl_talk(n, xnl_build_state(n->tx, sizeof(n->tx), ++n->seq, update, sa, k),
		       0, NULL, NULL);
}

static int reply_state(const struct nlmsghdr *nlh, void *arg)
{
	return xnl_parse_state(nlh, arg);
}

static int nl_state_get(struct xfrm *x, const struct xfrm_said *id,
			struct xfrm_state_info *out)
{
	struct xfrm_nl *n = nl_of(x);

	return nl_talk(n, xnl_build_said(n->tx, sizeof(n->tx), ++n->seq, XFRM_MSG_GETSA, id),
		       1, reply_state, out);
}

static int nl_state_del(struct xfrm *x, const struct xfrm_said *id)
{
	struct xfrm_nl *n = nl_of(x);

	return nl_talk(n, xnl_build_said(n->tx, sizeof(n->tx), ++n->seq, XFRM_MSG_DELSA, id),
		       0, NULL, NULL);
}

static int nl_policy_put(struct xfrm *x, const struct xfrm_sp *sp, bool update)
{
	struct xfrm_nl *n = nl_of(x);

	return nl_talk(n, xnl_build_policy(n->tx, sizeof(n->tx), ++n->seq, update, sp),
		       0, NULL, NULL);
}

static int reply_policy(const struct nlmsghdr *nlh, void *arg)
{
	return xnl_parse_policy(nlh, arg);
}

static int nl_policy_get(struct xfrm *x, const struct xfrm_sp *sp,
			 struct xfrm_policy_info *out)
{
	struct xfrm_nl *n = nl_of(x);
	struct xfrm_policy_info key = { .sp = *sp };

	return nl_talk(n, xnl_build_policy_id(n->tx, sizeof(n->tx), ++n->seq,
					      XFRM_MSG_GETPOLICY, &key),
		       1, reply_policy, out);
}

static int nl_policy_del(struct xfrm *x, const struct xfrm_policy_info *pi)
{
	struct xfrm_nl *n = nl_of(x);

	return nl_talk(n, xnl_build_policy_id(n->tx, sizeof(n->tx), ++n->seq,
					      XFRM_MSG_DELPOLICY, pi),
		       0, NULL, NULL);
}

/* Dumps skip entries cgw cannot describe (other families, socket policies). */
static int list_state(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_state_info st;
	int err = xnl_parse_state(nlh, &st);

	if (err == -EAFNOSUPPORT)
		return 0;
	return err ? err : xfrm_list_push_state(arg, &st);
}

static int list_policy(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_policy_info pi;
	int err = xnl_parse_policy(nlh, &pi);

	if (err == -EAFNOSUPPORT || err == -EOPNOTSUPP)
		return 0;
	return err ? err : xfrm_list_push_policy(arg, &pi);
}

static int nl_list(struct xfrm *x, struct xfrm_list *out)
{
	struct xfrm_nl *n = nl_of(x);
	int err;

	err = nl_talk(n, xnl_build_dump(n->tx, sizeof(n->tx), ++n->seq, XFRM_MSG_GETSA),
		      0, list_state, out);
	if (!err)
		err = nl_talk(n, xnl_build_dump(n->tx, sizeof(n->tx), ++n->seq,
						XFRM_MSG_GETPOLICY),
			      0, list_policy, out);
	return err;
}

/* --------------------------------------------------------------- events */

static int nl_events_fd(struct xfrm *x)
{
	struct xfrm_nl *n = nl_of(x);

	return n->ev ? mnl_socket_get_fd(n->ev) : -1;
}

int xnl_events_decode(const void *buf, size_t len, xfrm_raw_event_fn fn, void *arg)
{
	const struct nlmsghdr *nlh = buf;
	size_t whole = nl_whole_msgs(buf, len);
	int rem = (int)whole, count = 0;

	if (whole < len)
		log_debug(LOGC_XFRM, "xfrm: malformed event datagram (%zu bytes), %zu read",
			  len, whole);
	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		struct xfrm_event ev;
		bool owned;
		int err = xnl_parse_event(nlh, &ev, &owned);

		if (err == -ENOMSG)
			continue;
		if (err) {
			log_debug(LOGC_XFRM, "xfrm: malformed event (type %u, %u bytes): %s",
				  nlh->nlmsg_type, nlh->nlmsg_len, strerror(-err));
			continue;
		}
		fn(&ev, owned, arg);
		count++;
	}
	return count;
}

static int nl_events_read(struct xfrm *x, xfrm_raw_event_fn fn, void *arg)
{
	struct xfrm_nl *n = nl_of(x);
	int fd = mnl_socket_get_fd(n->ev), count = 0;

	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(fd, n->ev_rx, sizeof(n->ev_rx), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return count;
		if (r < 0 && errno == ENOBUFS) {
			/* The socket overflowed: say so, the caller resyncs. */
			struct xfrm_event ev = { .type = XFRM_EVENT_OVERRUN };

			fn(&ev, true, arg);
			count++;
			continue;
		}
		if (r < 0)
			return -errno;
		if (flen != sizeof(from) || from.nl_pid != 0)
			continue;	/* only the kernel speaks here */
		count += xnl_events_decode(n->ev_rx, (size_t)r, fn, arg);
	}
}

/* ---------------------------------------------------------- open/close */

static void nl_close(struct xfrm *x)
{
	struct xfrm_nl *n = nl_of(x);

	if (n->req)
		mnl_socket_close(n->req);
	if (n->ev)
		mnl_socket_close(n->ev);
	sodium_memzero(n, sizeof(*n));
	free(n);
}

static int open_req(struct xfrm_nl *n)
{
	int one = 1;

	n->req = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC);
	if (!n->req || mnl_socket_bind(n->req, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	n->portid = mnl_socket_get_portid(n->req);
	/* Best effort (Linux >= 4.2/4.12): keys not echoed, error strings. */
	mnl_socket_setsockopt(n->req, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->req, NETLINK_EXT_ACK, &one, sizeof(one));
	return 0;
}

static int open_events(struct xfrm_nl *n)
{
	int groups[] = { XFRMNLGRP_EXPIRE, XFRMNLGRP_ACQUIRE };
	int size = EV_RCVBUF, fd;

	n->ev = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!n->ev || mnl_socket_bind(n->ev, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (mnl_socket_setsockopt(n->ev, NETLINK_ADD_MEMBERSHIP, &groups[i],
					  sizeof(groups[i])) < 0)
			return -errno;
	}
	fd = mnl_socket_get_fd(n->ev);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

static const struct xfrm_ops nl_ops = {
	.name = "netlink",
	.alloc_spi = nl_alloc_spi,
	.state_put = nl_state_put,
	.state_get = nl_state_get,
	.state_del = nl_state_del,
	.policy_put = nl_policy_put,
	.policy_get = nl_policy_get,
	.policy_del = nl_policy_del,
	.list = nl_list,
	.events_fd = nl_events_fd,
	.events_read = nl_events_read,
	.close = nl_close,
};

int xfrm_netlink_open(struct xfrm **out)
{
	struct xfrm_nl *n = calloc(1, sizeof(*n));
	int err;

	*out = NULL;
	if (!n)
		return -ENOMEM;
	n->base.ops = &nl_ops;
	n->seq = (uint32_t)time(NULL);
	err = open_req(n);
	if (!err)
		err = open_events(n);
	if (err) {
		log_warnx("xfrm: netlink: %s [%s]", xfrm_strerror(err), strerror(-err));
		nl_close(&n->base);
		return err;
	}
	*out = &n->base;
	return 0;
}
