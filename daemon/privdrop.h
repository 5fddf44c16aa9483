/*
 * Privilege reduction once cgwd's sockets are bound: keep only the
 * capabilities the running daemon uses (CAP_NET_ADMIN, CAP_NET_BIND_SERVICE),
 * forbid gaining new ones, and make the process non-dumpable.
 */
#ifndef CGW_DAEMON_PRIVDROP_H
#define CGW_DAEMON_PRIVDROP_H

/*
 * Always: PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE=0 (no core dumps, no
 * ptrace or /proc/PID/mem by the same uid: the process holds PSKs and SA
 * keys). When the process holds any capability beyond CAP_NET_ADMIN and
 * CAP_NET_BIND_SERVICE (cgwd started as root by hand, by a test or a unit
 * without User=): drop every other one from the bounding, ambient,
 * inheritable, permitted and effective sets, and lock root out of regaining
 * them (SECBIT_NOROOT). The uid stays 0: writing the per-VTI sysctls under
 * /proc/sys needs it without CAP_DAC_OVERRIDE. Under cgwd.service (user
 * cgw, those two capabilities ambient) there is nothing to drop.
 *
 * Logs what it kept. Returns 0 or -errno (the sets are then unchanged or
 * partly reduced; the caller should treat it as fatal).
 */
int privdrop_keep_net_admin(void);

#endif
