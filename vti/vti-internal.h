/*
 * Inside vti/: the backend interface filled by the libnl implementation
 * (netlink.c) and the recording fake (fake.c). vti.c validates, orders
 * the steps and logs; backends only do one kernel operation each.
 */
#ifndef CGW_VTI_INTERNAL_H
#define CGW_VTI_INTERNAL_H

#include "vti/vti.h"

#define VTI_KIND_MAX 16
#define VTI_SYSCTL_MAX 96		/* "net/ipv4/conf/<ifname>/disable_policy" */

/* What link_get reports about a link of any kind. */
struct vti_link {
	char kind[VTI_KIND_MAX];	/* "vti", "veth", "" when unknown */
	bool up;
	unsigned mtu;
	uint32_t ikey, okey;		/* VTI only, host order */
	struct vti_counters cnt;
};

struct vti_ops {
	int (*link_add)(struct vti *v, const struct vti_params *p);
	/* -ENODEV when no link has that name. */
	int (*link_get)(struct vti *v, const char *name, struct vti_link *out);
	int (*link_del)(struct vti *v, const char *name);
	int (*link_set_mtu)(struct vti *v, const char *name, unsigned mtu);
	int (*link_set_up)(struct vti *v, const char *name, bool up);
	int (*addr_add)(struct vti *v, const char *name, const struct cgw_prefix *addr);
	/* path relative to /proc/sys, e.g. "net/ipv4/ip_forward". */
	int (*sysctl_get)(struct vti *v, const char *path, int *value);
	int (*sysctl_set)(struct vti *v, const char *path, int value);
	void (*close)(struct vti *v);
};

struct vti {
	const struct vti_ops *ops;
};

int vti_netlink_open(struct vti **out);
int vti_fake_open(struct vti **out);

struct nlmsghdr;
/*
 * netlink.c, for tests/fuzz: one data message (nlmsg_len checked by the
 * caller) through libnl's link parser, as vnl_link_get() has it parsed,
 * and what it reads from it. 0, -ENOMSG if it holds no link, or -errno
 * from libnl.
 */
int vti_nl_link_parse(const struct nlmsghdr *nlh, struct vti_link *out);

/* Effective rp_filter of an interface: the kernel takes max(all, iface). */
static inline int vti_rp_filter_effective(int all, int iface)
{
	return all > iface ? all : iface;
}

#endif
