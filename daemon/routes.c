/*
 * Static routes through a tunnel's VTI over rtnetlink (libmnl): one
 * request per route, acknowledged, errors reported with the route.
 */
#include "daemon/routes.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"

struct routes {
	struct mnl_socket *nl;
	uint32_t seq;
};

int routes_open(struct routes **out)
{
	struct routes *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;
		routes_close(r);
		return e;
	}
	r->seq = (uint32_t)time(NULL);
	*out = r;
	return 0;
}

void routes_close(struct routes *r)
{
	if (!r)
		return;
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r);
}

/* Send one request and wait for its ACK. 0 or -errno. */
static int talk(struct routes *r, struct nlmsghdr *nlh)
{
	char buf[8192];
	ssize_t n;

	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return routes_parse_ack(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(r->nl));
}

int routes_parse_ack(const void *buf, size_t len, uint32_t seq, uint32_t portid)
{
	size_t whole = nl_whole_msgs(buf, len);
	int ret = mnl_cb_run(buf, whole, seq, portid, NULL, NULL);

	if (ret > MNL_CB_STOP && whole < len)
		return -EBADMSG;	/* a message overruns the datagram */
	return ret < 0 ? -errno : 0;
}

static int route_msg(struct routes *r, int type, unsigned flags, const struct cgw_prefix *p,
		     const char *dev, uint32_t metric)
{
	char buf[8192];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	unsigned ifindex = if_nametoindex(dev);

	if (!ifindex)
		return -ENODEV;
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	nlh->nlmsg_seq = ++r->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, 4, &p->addr.v4);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	return talk(r, nlh);
}

int routes_add(struct routes *r, const struct cgw_prefix *p, const char *dev, uint32_t metric)
{
	char buf[64];
	int ret = route_msg(r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, p, dev, metric);

	if (ret < 0)
		log_warnx("route %s dev %s metric %u: %s", conf_prefix_str(p, buf, sizeof(buf)),
			  dev, metric, strerror(-ret));
	return ret;
}

int routes_del(struct routes *r, const struct cgw_prefix *p, const char *dev, uint32_t metric)
{
	return route_msg(r, RTM_DELROUTE, 0, p, dev, metric);
}
