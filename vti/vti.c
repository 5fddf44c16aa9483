/*
 * The front of the vti module, shared by both backends: name and address
 * checks, the order of steps when creating a VTI (link, then its
 * sysctls, rolled back on failure), the kind check before any delete,
 * the sysctl checks, and one log line per kernel error with a hint.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "vti/vti-internal.h"

int vti_open(struct vti **out)
{
	return vti_netlink_open(out);
}

int vti_open_fake(struct vti **out)
{
	return vti_fake_open(out);
}

void vti_close(struct vti *v)
{
	if (v)
		v->ops->close(v);
}

/* ---------------------------------------------------------------- checks */

/*
 * A name safe as a link name and inside a /proc/sys path: 1..15 bytes,
 * no '/', ':', whitespace or control characters, not "." or "..".
 */
static bool name_ok(const char *name)
{
	size_t len = name ? strnlen(name, IF_NAMESIZE) : 0;

	if (len == 0 || len >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c == '/' || c == ':' || c >= 0x7f)
			return false;
	}
	return true;
}

static int bad_name(const char *what, const char *name)
{
	log_warnx("vti: %s: invalid interface name \"%.*s\"", what, IF_NAMESIZE,
		  name ? name : "");
	return -EINVAL;
}

static const char *vti_strerror(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "not permitted: cgwd needs CAP_NET_ADMIN";
	case EEXIST:
		return "a link or address with that name exists already";
	case EOPNOTSUPP:
		return "kernel lacks ip_vti: modprobe ip_vti";
	case ENODEV:
		return "no such interface";
	case ENOENT:
		return "no such sysctl (interface gone, or IPv4 disabled on it)";
	default:
		return strerror(-err);
	}
}

static int kernel_err(int err, const char *name, const char *what)
{
	log_warnx("vti %s: %s: %s [%s]", name, what, vti_strerror(err), strerror(-err));
	return err;
}

/* --------------------------------------------------------------- sysctls */

static int conf_path(char *buf, size_t len, const char *ifname, const char *key)
{
	int n = snprintf(buf, len, "net/ipv4/conf/%s/%s", ifname, key);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int set_conf(struct vti *v, const char *name, const char *key, int value)
{
	char path[VTI_SYSCTL_MAX], what[VTI_SYSCTL_MAX + 32];
	int err = conf_path(path, sizeof(path), name, key);

	if (!err)
		err = v->ops->sysctl_set(v, path, value);
	if (err) {
		snprintf(what, sizeof(what), "set net.ipv4.conf.%s.%s=%d", name, key, value);
		return kernel_err(err, name, what);
	}
	return 0;
}

static int get_conf(struct vti *v, const char *name, const char *key, int *value)
{
	char path[VTI_SYSCTL_MAX];
	int err = conf_path(path, sizeof(path), name, key);

	if (!err)
		err = v->ops->sysctl_get(v, path, value);
	return err ? kernel_err(err, name, path) : 0;
}

const char *vti_warning_str(enum vti_warning w)
{
	switch (w) {
	case VTI_WARN_IP_FORWARD:
		return "net.ipv4.ip_forward=0: nothing is forwarded between the LAN and "
		       "the tunnels (sysctl -w net.ipv4.ip_forward=1)";
	case VTI_WARN_RP_FILTER:
		return "strict rp_filter on the VTI drops packets from networks routed "
		       "elsewhere (the kernel uses max(all, interface): set the "
		       "VTI's rp_filter to 2)";
	case VTI_WARN_DISABLE_POLICY:
		return "disable_policy is not 1 on the VTI: decrypted packets are "
		       "checked against policies again and dropped";
	}
	return "?";
}

static int check_rp_filter(struct vti *v, const char *name)
{
	int all, iface, err;

	err = get_conf(v, "all", "rp_filter", &all);
	if (!err)
		err = get_conf(v, name, "rp_filter", &iface);
	if (err)
		return err;
	if (vti_rp_filter_effective(all, iface) != 1)
		return 0;
	log_warnx("vti %s: rp_filter is strict: max(all=%d, %s=%d) = 1: %s", name, all,
		  name, iface, vti_warning_str(VTI_WARN_RP_FILTER));
	return VTI_WARN_RP_FILTER;
}

int vti_check_sysctls(struct vti *v, const char *name)
{
	int forward, dp, rp, err, warn = 0;

	if (!name_ok(name))
		return bad_name("check", name);
	err = v->ops->sysctl_get(v, "net/ipv4/ip_forward", &forward);
	if (err)
		return kernel_err(err, name, "read net.ipv4.ip_forward");
	if (forward == 0) {
		log_warnx("vti %s: %s", name, vti_warning_str(VTI_WARN_IP_FORWARD));
		warn |= VTI_WARN_IP_FORWARD;
	}
	rp = check_rp_filter(v, name);
	if (rp < 0)
		return rp;
	warn |= rp;
	err = get_conf(v, name, "disable_policy", &dp);
	if (err)
		return err;
	if (dp != 1) {
		log_warnx("vti %s: %s", name, vti_warning_str(VTI_WARN_DISABLE_POLICY));
		warn |= VTI_WARN_DISABLE_POLICY;
	}
	return warn;
}

/* ----------------------------------------------------------------- links */

static const char *params_problem(const struct vti_params *p)
{
	if (p->local.family == AF_INET6 || p->remote.family == AF_INET6)
		return "IPv6 outside addresses are not supported yet (ip6_vti)";
	if (p->local.family != AF_INET || p->remote.family != AF_INET)
		return "local and remote outside addresses must be IPv4";
	if (p->mark == 0)
		return "mark 0: the VTI's key must be the tunnel's non-zero XFRM mark";
	return NULL;
}

int vti_create(struct vti *v, const struct vti_params *p)
{
	char l[INET_ADDRSTRLEN] = "-", r[INET_ADDRSTRLEN] = "-";
	const char *why;
	int err;

	if (!name_ok(p->name))
		return bad_name("create", p->name);
	why = params_problem(p);
	if (why) {
		log_warnx("vti %s: create refused: %s", p->name, why);
		return p->local.family == AF_INET6 || p->remote.family == AF_INET6 ?
		       -EAFNOSUPPORT : -EINVAL;
	}
	inet_ntop(AF_INET, &p->local.v4, l, sizeof(l));
	inet_ntop(AF_INET, &p->remote.v4, r, sizeof(r));
	log_debug(LOGC_VTI, "vti %s: create local %s remote %s key %u", p->name, l, r, p->mark);
	err = v->ops->link_add(v, p);
	if (err)
		return kernel_err(err, p->name, "create");
	err = set_conf(v, p->name, "disable_policy", 1);
	if (!err)
		err = set_conf(v, p->name, "rp_filter", 2);
	if (err) {
		/* A VTI without its sysctls drops traffic silently: undo. */
		v->ops->link_del(v, p->name);
		return err;
	}
	return 0;
}

int vti_addr_add(struct vti *v, const char *name, const struct cgw_prefix *addr)
{
	char a[INET_ADDRSTRLEN] = "-";
	int err;

	if (!name_ok(name))
		return bad_name("address", name);
	if (addr->addr.family != AF_INET || addr->len > 32) {
		log_warnx("vti %s: address refused: an IPv4 prefix is needed", name);
		return -EINVAL;
	}
	inet_ntop(AF_INET, &addr->addr.v4, a, sizeof(a));
	log_debug(LOGC_VTI, "vti %s: address %s/%u", name, a, addr->len);
	err = v->ops->addr_add(v, name, addr);
	return err ? kernel_err(err, name, "add address") : 0;
}

int vti_set_mtu(struct vti *v, const char *name, unsigned mtu)
{
	int err;

	if (!name_ok(name))
		return bad_name("mtu", name);
	if (mtu < 68 || mtu > 65535) {
		log_warnx("vti %s: MTU %u refused: IPv4 needs 68..65535", name, mtu);
		return -EINVAL;
	}
	log_debug(LOGC_VTI, "vti %s: mtu %u", name, mtu);
	err = v->ops->link_set_mtu(v, name, mtu);
	return err ? kernel_err(err, name, "set MTU") : 0;
}

int vti_set_up(struct vti *v, const char *name, bool up)
{
	int err;

	if (!name_ok(name))
		return bad_name("up/down", name);
	log_debug(LOGC_VTI, "vti %s: %s", name, up ? "up" : "down");
	err = v->ops->link_set_up(v, name, up);
	return err ? kernel_err(err, name, up ? "set up" : "set down") : 0;
}

/* Look a link up: 0 with *l filled if it is a VTI. */
static int get_vti(struct vti *v, const char *name, struct vti_link *l)
{
	int err;

	if (!name_ok(name))
		return bad_name("lookup", name);
	err = v->ops->link_get(v, name, l);
	if (err == -ENODEV)
		return err;
	if (err)
		return kernel_err(err, name, "lookup");
	return strcmp(l->kind, "vti") == 0 ? 0 : -EMEDIUMTYPE;
}

int vti_exists(struct vti *v, const char *name)
{
	struct vti_link l;
	int err = get_vti(v, name, &l);

	if (err == -ENODEV)
		return 0;
	return err ? err : 1;
}

int vti_delete(struct vti *v, const char *name)
{
	struct vti_link l;
	int err = get_vti(v, name, &l);

	if (err == -EMEDIUMTYPE)
		log_warnx("vti %s: is a \"%s\" link, not a VTI: left alone", name, l.kind);
	if (err)
		return err;
	log_debug(LOGC_VTI, "vti %s: delete", name);
	err = v->ops->link_del(v, name);
	return err ? kernel_err(err, name, "delete") : 0;
}

int vti_get_counters(struct vti *v, const char *name, struct vti_counters *out)
{
	struct vti_link l;
	int err = get_vti(v, name, &l);

	if (!err)
		*out = l.cnt;
	return err;
}

int vti_flush_owned(struct vti *v, const char *const names[], size_t n)
{
	int removed = 0, first = 0;

	for (size_t i = 0; i < n; i++) {
		int err = vti_delete(v, names[i]);

		if (!err)
			removed++;
		else if (err != -ENODEV && err != -EMEDIUMTYPE && !first)
			first = err;
	}
	log_debug(LOGC_VTI, "vti: flush: %d of %zu configured names removed", removed, n);
	return first ? first : removed;
}
