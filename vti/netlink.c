/*
 * The netlink backend of vti/: links and addresses through libnl-route-3
 * (its "vti" link type), sysctls through /proc/sys of the caller's
 * network namespace. libnl's error codes are turned back into errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipvti.h>

#include "common/log.h"
#include "vti/vti-internal.h"

struct vti_nl {
	struct vti base;
	struct nl_sock *sk;
};

static struct vti_nl *vnl_of(struct vti *v)
{
	return (struct vti_nl *)v;
}

/* libnl folds errno into its own codes; undo it for what we report. */
static int nl2errno(int err)
{
	static const struct { int nle, err; } map[] = {
		{ NLE_EXIST, EEXIST }, { NLE_PERM, EPERM }, { NLE_NOACCESS, EACCES },
		{ NLE_OBJ_NOTFOUND, ENODEV }, { NLE_NODEV, ENODEV },
		{ NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_NOMEM, ENOMEM },
		{ NLE_INVAL, EINVAL }, { NLE_RANGE, ERANGE }, { NLE_BUSY, EBUSY },
		{ NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_NOADDR, EADDRNOTAVAIL },
		{ NLE_AGAIN, EAGAIN }, { NLE_INTR, EINTR }, { NLE_BAD_SOCK, EBADF },
		{ NLE_MSGSIZE, EMSGSIZE }, { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
	};

	if (err >= 0)
		return err;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nle == -err)
			return -map[i].err;
	return -EIO;
}

static int vnl_link_add(struct vti *v, const struct vti_params *p)
{
	struct rtnl_link *link = rtnl_link_ipvti_alloc();
	int err;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, p->name);
	rtnl_link_ipvti_set_local(link, p->local.v4.s_addr);
	rtnl_link_ipvti_set_remote(link, p->remote.v4.s_addr);
	/* IFLA_VTI_IKEY/OKEY are big-endian; libnl passes them through. */
	rtnl_link_ipvti_set_ikey(link, htonl(p->mark));
	rtnl_link_ipvti_set_okey(link, htonl(p->mark));
	err = rtnl_link_add(vnl_of(v)->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	return nl2errno(err);
}

static void link_counters(struct rtnl_link *link, struct vti_counters *c)
{
	c->rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
	c->rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
	c->tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
	c->tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
	c->rx_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_ERRORS);
	c->tx_errors = rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS);
	c->rx_dropped = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
	c->tx_dropped = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
}

/* What cgw reads from a link libnl parsed out of the kernel's reply. */
static void link_from(struct rtnl_link *link, struct vti_link *out)
{
	const char *kind = rtnl_link_get_type(link);

	memset(out, 0, sizeof(*out));
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
	out->up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
	out->mtu = rtnl_link_get_mtu(link);
	if (rtnl_link_is_ipvti(link)) {
		out->ikey = ntohl(rtnl_link_ipvti_get_ikey(link));
		out->okey = ntohl(rtnl_link_ipvti_get_okey(link));
	}
	link_counters(link, &out->cnt);
}

/*
 * libnl 3.7 takes a link's kind from IFLA_INFO_KIND but builds a "vti"
 * link's parameters only from IFLA_INFO_DATA: without it, its ipvti
 * getters dereference NULL (and an IFLA_INFO_XSTATS alone crashes its
 * parser). Such a message must not reach libnl. Attributes are looked up
 * as libnl's parser does (the last of a type wins).
 */
static bool vti_info_ok(const struct nlmsghdr *nlh)
{
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const char *kind;
	int len;

	if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX,
			NULL) < 0 || !tb[IFLA_LINKINFO] ||
	    nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0 ||
	    !li[IFLA_INFO_KIND])
		return true;		/* libnl rejects it or sees no kind */
	kind = nla_data(li[IFLA_INFO_KIND]);
	len = nla_len(li[IFLA_INFO_KIND]);
	if (len < 4 || strnlen(kind, (size_t)len) != 3 || strcmp(kind, "vti") != 0)
		return true;
	return li[IFLA_INFO_DATA] != NULL;
}

/* Every message this socket reads, before libnl parses it. */
static int msg_in_check(struct nl_msg *msg, void *arg)
{
	if (vti_info_ok(nlmsg_hdr(msg)))
		return NL_OK;
	log_warnx("vti: the kernel sent a VTI link without its parameters: ignored");
	return NL_SKIP;
}

static int vnl_link_get(struct vti *v, const char *name, struct vti_link *out)
{
	struct rtnl_link *link = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	err = nl2errno(rtnl_link_get_kernel(vnl_of(v)->sk, 0, name, &link));
	if (err)
		return err;
	if (!link)
		return -EBADMSG;	/* msg_in_check() skipped the reply */
	link_from(link, out);
	rtnl_link_put(link);
	return 0;
}

struct link_parse {
	struct vti_link *out;
	bool found;
};

static void link_parsed(struct nl_object *obj, void *arg)
{
	struct link_parse *lp = arg;

	if (strcmp(nl_object_get_type(obj), "route/link") != 0 || lp->found)
		return;
	link_from((struct rtnl_link *)obj, lp->out);
	lp->found = true;
}

int vti_nl_link_parse(const struct nlmsghdr *nlh, struct vti_link *out)
{
	struct link_parse lp = { out, false };
	struct nl_msg *msg;
	int err;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return -ENOMSG;
	if (!vti_info_ok(nlh))
		return -EBADMSG;	/* as msg_in_check() skips it */
	/* nlmsg_convert copies nlmsg_len bytes and never writes to nlh */
	msg = nlmsg_convert((struct nlmsghdr *)nlh);
	if (!msg)
		return -ENOMEM;
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	/* rtnl_link_get_kernel() hands any data message to the link parser */
	nlmsg_hdr(msg)->nlmsg_type = RTM_NEWLINK;
	err = nl2errno(nl_msg_parse(msg, link_parsed, &lp));
	nlmsg_free(msg);
	if (!err && !lp.found)
		err = -ENOMSG;
	return err;
}

static int vnl_link_del(struct vti *v, const char *name)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int err;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	err = rtnl_link_delete(vnl_of(v)->sk, link);
	rtnl_link_put(link);
	return nl2errno(err);
}

/* Apply one change (set up by fn) to the named link. */
static int link_change(struct vti *v, const char *name,
		       void (*fn)(struct rtnl_link *change, unsigned arg), unsigned arg)
{
	struct rtnl_link *orig = NULL, *change;
	int err;

	err = nl2errno(rtnl_link_get_kernel(vnl_of(v)->sk, 0, name, &orig));
	if (err)
		return err;
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(orig);
		return -ENOMEM;
	}
	fn(change, arg);
	err = nl2errno(rtnl_link_change(vnl_of(v)->sk, orig, change, 0));
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return err;
}

static void change_mtu(struct rtnl_link *change, unsigned mtu)
{
	rtnl_link_set_mtu(change, mtu);
}

static void change_up(struct rtnl_link *change, unsigned up)
{
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
}

static int vnl_link_set_mtu(struct vti *v, const char *name, unsigned mtu)
{
	return link_change(v, name, change_mtu, mtu);
}

static int vnl_link_set_up(struct vti *v, const char *name, bool up)
{
	return link_change(v, name, change_up, up);
}

static int vnl_addr_add(struct vti *v, const char *name, const struct cgw_prefix *p)
{
	struct vti_nl *n = vnl_of(v);
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int ifindex, err;

	ifindex = (int)if_nametoindex(name);
	if (ifindex == 0)
		return -ENODEV;
	addr = rtnl_addr_alloc();
	local = nl_addr_build(AF_INET, &p->addr.v4, sizeof(p->addr.v4));
	err = addr && local ? 0 : -ENOMEM;
	if (!err) {
		nl_addr_set_prefixlen(local, p->len);
		rtnl_addr_set_ifindex(addr, ifindex);
		rtnl_addr_set_family(addr, AF_INET);
		err = nl2errno(rtnl_addr_set_local(addr, local));
	}
	if (!err) {
		rtnl_addr_set_prefixlen(addr, p->len);
		err = nl2errno(rtnl_addr_add(n->sk, addr, NLM_F_EXCL));
	}
	if (local)
		nl_addr_put(local);
	if (addr)
		rtnl_addr_put(addr);
	return err;
}

/* ---------------------------------------------------------------- sysctl */

static int sysctl_file(const char *path, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/proc/sys/%s", path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int vnl_sysctl_get(struct vti *v, const char *path, int *value)
{
	char file[VTI_SYSCTL_MAX + 16], text[32];
	ssize_t r;
	int fd, err = sysctl_file(path, file, sizeof(file));

	if (err)
		return err;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, text, sizeof(text) - 1);
	err = r < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	text[r] = '\0';
	return sscanf(text, "%d", value) == 1 ? 0 : -EINVAL;
}

static int vnl_sysctl_set(struct vti *v, const char *path, int value)
{
	char file[VTI_SYSCTL_MAX + 16], text[32];
	int fd, len, err = sysctl_file(path, file, sizeof(file));

	if (err)
		return err;
	len = snprintf(text, sizeof(text), "%d\n", value);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write(fd, text, (size_t)len) == len ? 0 : -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

/* ---------------------------------------------------------- open/close */

static void vnl_close(struct vti *v)
{
	struct vti_nl *n = vnl_of(v);

	if (n->sk)
		nl_socket_free(n->sk);
	free(n);
}

static const struct vti_ops vnl_ops = {
	.link_add = vnl_link_add,
	.link_get = vnl_link_get,
	.link_del = vnl_link_del,
	.link_set_mtu = vnl_link_set_mtu,
	.link_set_up = vnl_link_set_up,
	.addr_add = vnl_addr_add,
	.sysctl_get = vnl_sysctl_get,
	.sysctl_set = vnl_sysctl_set,
	.close = vnl_close,
};

int vti_netlink_open(struct vti **out)
{
	struct vti_nl *n = calloc(1, sizeof(*n));
	int err;

	*out = NULL;
	if (!n)
		return -ENOMEM;
	n->base.ops = &vnl_ops;
	n->sk = nl_socket_alloc();
	if (!n->sk) {
		free(n);
		return -ENOMEM;
	}
	nl_socket_modify_cb(n->sk, NL_CB_MSG_IN, NL_CB_CUSTOM, msg_in_check, NULL);
	err = nl2errno(nl_connect(n->sk, NETLINK_ROUTE));
	if (err) {
		vnl_close(&n->base);
		return err;
	}
	*out = &n->base;
	return 0;
}
