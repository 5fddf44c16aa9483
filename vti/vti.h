/*
 * vti: one VTI interface per tunnel (route-based IPsec). The link's
 * ikey = okey = the tunnel's XFRM mark, so traffic routed into it picks
 * the tunnel's marked policies and states; its inside address, MTU and
 * state; the per-interface sysctls it needs; and checks of the global
 * ones, reported rather than changed.
 *
 * Backends: netlink (libnl-route-3, IPv4 outside addresses) or a
 * recording fake that keeps links and sysctls in memory and logs every
 * call as a line of text ("link add vti1 type vti local ... ikey 100").
 *
 * Ownership: cgwd touches links only by the names in its config, and only
 * when the link of that name is of kind "vti": a config naming eth0 by
 * mistake gets -EMEDIUMTYPE, never a deleted uplink.
 *
 * Functions return 0 (or a count) or -errno; kernel errors are logged
 * once here with a hint (modprobe ip_vti, name taken, CAP_NET_ADMIN).
 */
#ifndef CGW_VTI_H
#define CGW_VTI_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct vti_params {
	char name[IF_NAMESIZE];
	struct cgw_addr local, remote;	/* outside addresses (IPv4) */
	uint32_t mark;			/* ikey = okey = XFRM mark, not 0 */
};

struct vti_counters {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
};

/* Problems vti_check_sysctls() reports (bits). */
enum vti_warning {
	VTI_WARN_IP_FORWARD = 1 << 0,	/* net.ipv4.ip_forward=0 */
	VTI_WARN_RP_FILTER = 1 << 1,	/* strict on the VTI: max(all, vti) == 1 */
	VTI_WARN_DISABLE_POLICY = 1 << 2,	/* <vti>.disable_policy != 1 */
};

struct vti;

/* Open the netlink backend in the caller's namespace; 0 or -errno. */
int vti_open(struct vti **out);
/* Open the recording fake; 0 or -ENOMEM. */
int vti_open_fake(struct vti **out);
/* Close either; links are left as they are. NULL is a no-op. */
void vti_close(struct vti *v);

/*
 * Create the VTI (down, no address) and set
 * net.ipv4.conf.<name>.disable_policy=1 and rp_filter=2 (loose). -EEXIST
 * if any link has that name; on a sysctl failure the new link is removed.
 */
int vti_create(struct vti *v, const struct vti_params *p);
/* Add the inside address (local/prefixlen, e.g. 169.254.10.2/30). */
int vti_addr_add(struct vti *v, const char *name, const struct cgw_prefix *addr);
int vti_set_mtu(struct vti *v, const char *name, unsigned mtu);
int vti_set_up(struct vti *v, const char *name, bool up);
/* Delete a VTI; -ENODEV if none, -EMEDIUMTYPE if the link is not a VTI. */
int vti_delete(struct vti *v, const char *name);
/* 1 if a VTI of that name exists, 0 if no link has it, -EMEDIUMTYPE if
 * another kind of link does, other -errno on failure. */
int vti_exists(struct vti *v, const char *name);
/* The VTI's interface counters. */
int vti_get_counters(struct vti *v, const char *name, struct vti_counters *out);
/*
 * Check the sysctls the tunnel depends on without changing them; log each
 * problem with its fix. Returns the VTI_WARN_* bits found, or -errno.
 * rp_filter: the kernel uses max(all, interface), so all=1 (strict) turns
 * an interface's 0 into strict, while the interface's 2 (loose) wins.
 */
int vti_check_sysctls(struct vti *v, const char *name);
/* One-line description of a VTI_WARN_* bit. */
const char *vti_warning_str(enum vti_warning w);
/*
 * Delete the VTIs among names (the configured ones) that exist; links of
 * another kind are left alone. Returns how many were deleted, or -errno.
 */
int vti_flush_owned(struct vti *v, const char *const names[], size_t n);

/* ---- Recording fake (tests) ---- */

const char *vti_fake_log(struct vti *v);
void vti_fake_log_clear(struct vti *v);
/* Make the next backend call whose log line starts with call ("link
 * add", "sysctl"; NULL: any call) fail with err (-errno), once. */
void vti_fake_fail_next(struct vti *v, const char *call, int err);
/* A sysctl value by /proc/sys path ("net/ipv4/ip_forward"). */
int vti_fake_set_sysctl(struct vti *v, const char *path, int value);
/* Someone else's link (kind "dummy", "veth", or "vti"). */
int vti_fake_add_link(struct vti *v, const char *name, const char *kind);
int vti_fake_set_counters(struct vti *v, const char *name, const struct vti_counters *c);

#endif
