/*
 * Capability reduction with prctl(2) and capset(2) directly (no libcap):
 * bounding set first (needs CAP_SETPCAP, which goes last), then ambient,
 * then securebits, then the inheritable/permitted/effective sets.
 */
#include "daemon/privdrop.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

#define KEEP_MASK ((UINT64_C(1) << CAP_NET_ADMIN) | (UINT64_C(1) << CAP_NET_BIND_SERVICE))

static int caps_get(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	*perm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	*inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* Highest capability number the running kernel knows. */
static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	if (last < 0 || last > 63) {	/* no /proc: probe the bounding set */
		for (last = 0; last < 63; last++)
			if (prctl(PR_CAPBSET_READ, (unsigned long)last + 1, 0, 0, 0) < 0)
				break;
	}
	return last;
}

/* Bounding set as a mask (caps 0..last). */
static uint64_t bounding_mask(int last)
{
	uint64_t m = 0;

	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) > 0)
			m |= UINT64_C(1) << c;
	return m;
}

static const char *kept_names(uint64_t m)
{
	if ((m & KEEP_MASK) == KEEP_MASK)
		return "cap_net_admin,cap_net_bind_service";
	if (m & (UINT64_C(1) << CAP_NET_ADMIN))
		return "cap_net_admin";
	if (m & (UINT64_C(1) << CAP_NET_BIND_SERVICE))
		return "cap_net_bind_service";
	return "none";
}

int privdrop_keep_net_admin(void)
{
	uint64_t eff, perm, inh, bnd, keep;
	int last, r;

	/* Secrets in memory: no core dumps, no ptrace by our own uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		r = -errno;
		log_warn("privdrop: PR_SET_DUMPABLE");
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		log_warn("privdrop: PR_SET_NO_NEW_PRIVS");
		return r;
	}
	r = caps_get(&eff, &perm, &inh);
	if (r < 0) {
		errno = -r;
		log_warn("privdrop: capget");
		return r;
	}
	last = cap_last();
	bnd = bounding_mask(last);
	keep = perm & KEEP_MASK;
	if ((perm & ~KEEP_MASK) == 0) {
		/*
		 * cgwd.service (user cgw, ambient NET_ADMIN/NET_BIND_SERVICE) or an
		 * unprivileged run: nothing to drop, and with no new privileges
		 * nothing outside the permitted set can be gained. No capset(2):
		 * the unit's seccomp filter denies it.
		 */
		log_info("privdrop: capabilities already minimal (%s%s), no new privileges, "
			 "not dumpable", kept_names(keep),
			 (bnd & ~KEEP_MASK) ? "" : ", bounding set too");
		return 0;
	}
	/* Make CAP_SETPCAP effective for the bounding set and securebits. */
	if ((perm & (UINT64_C(1) << CAP_SETPCAP)) && !(eff & (UINT64_C(1) << CAP_SETPCAP))) {
		eff |= UINT64_C(1) << CAP_SETPCAP;
		r = caps_set(eff, perm, inh);
		if (r < 0) {
			errno = -r;
			log_warn("privdrop: capset (CAP_SETPCAP)");
			return r;
		}
	}
	for (int c = 0; c <= last && (perm & (UINT64_C(1) << CAP_SETPCAP)); c++) {
		if ((KEEP_MASK >> c) & 1 || !((bnd >> c) & 1))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0) {
			r = -errno;
			log_warn("privdrop: PR_CAPBSET_DROP %d", c);
			return r;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		r = -errno;
		log_warn("privdrop: PR_CAP_AMBIENT_CLEAR_ALL");
		return r;
	}
	/*
	 * uid 0 must not get the full set back through execve(). Best effort:
	 * a container may lock securebits already; no new privileges and the
	 * bounding set hold anyway.
	 */
	if ((getuid() == 0 || geteuid() == 0) && (perm & (UINT64_C(1) << CAP_SETPCAP))) {
		int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
		int want = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED;

		if (bits >= 0 && (bits & want) != want &&
		    prctl(PR_SET_SECUREBITS, (unsigned long)(bits | want), 0, 0, 0) < 0)
			log_warn("privdrop: PR_SET_SECUREBITS (continuing)");
	}
	r = caps_set(keep, keep, 0);
	if (r < 0) {
		errno = -r;
		log_warn("privdrop: capset");
		return r;
	}
	r = caps_get(&eff, &perm, &inh);
	if (r == 0 && ((perm | eff | inh) & ~KEEP_MASK)) {
		log_warnx("privdrop: capabilities still held after capset");
		return -EPERM;
	}
	log_info("privdrop: kept %s as uid %u (bounding set %s), no new privileges, not dumpable",
		 kept_names(keep), (unsigned)getuid(),
		 (bounding_mask(last) & ~KEEP_MASK) ? "unchanged: no CAP_SETPCAP" : "reduced too");
	return 0;
}
