#!/bin/sh
# /init of the cgw test VM's initramfs, run as PID 1 by busybox sh.
#
# vm-run.sh copies this file into the initramfs (the cached image is keyed
# by a hash of it, so editing it triggers a rebuild).
# Stage 1 (no argument, in the initramfs):
#   1. loads the modules listed in /modules/order (virtio, 9p, overlay),
#   2. mounts the host's / (9p tag "hostroot", read-only) with a tmpfs
#      overlay on top at /newroot, plus /proc, /sys, /dev, /run there,
#   3. binds the VM kernel's module tree (unpacked on the host, in the
#      cache dir) onto /lib/modules/$(uname -r) so modprobe works,
#   4. switch_roots into /newroot, running itself again from /run/cgw with
#      a copy of busybox. A real root, not a chroot: the kernel's module
#      autoloading (veth, crypto templates...) runs /sbin/modprobe from it.
# Stage 2 (argument "2", PID 1 in the new root):
#   5. runs the run file vm-run.sh wrote (kernel parameter cgw.run=PATH, a
#      host path seen through 9p) with bash,
#   6. prints "CGW-VM-EXIT=<status> run=<nonce>" and powers off.
# If setting up fails it prints "CGW-VM-INIT-FAILED: <reason>" instead.

STAGE=${1:-1}
if [ "$STAGE" = 1 ]; then BB=/bin/busybox; else BB=/run/cgw/busybox; fi

halt_vm() {
	$BB poweroff -f
	$BB reboot -f # qemu runs with -no-reboot: this ends it too
}

fail() {
	printf '\nCGW-VM-INIT-FAILED: %s\n' "$*"
	halt_vm
}

# Kernel parameters from vm-run.sh (words: vm-run.sh keeps paths blank-free).
parse_cmdline() {
	RUN="" MODDIR="" NONCE=""
	# shellcheck disable=SC2013
	for arg in $($BB cat /proc/cmdline); do
		case $arg in
		cgw.run=*) RUN=${arg#cgw.run=} ;;
		cgw.moddir=*) MODDIR=${arg#cgw.moddir=} ;;
		cgw.nonce=*) NONCE=${arg#cgw.nonce=} ;;
		esac
	done
}

load_modules() {
	while read -r mod; do
		insmod "/modules/$mod" || fail "insmod $mod"
	done </modules/order
}

# Host / read-only over 9p, a tmpfs overlay on top at /newroot.
mount_root() {
	mkdir -p /host /rw /newroot
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro \
		hostroot /host || fail "mount 9p hostroot"
	mount -t tmpfs -o mode=0755 rw /rw
	mkdir -p /rw/upper /rw/work
	mount -t overlay overlay \
		-o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot ||
		fail "mount overlay"
}

# API file systems, fresh /run for daemons (charon, bird, pluto...).
# /var/lib, /etc and the rest are writable through the overlay; /tmp keeps
# the host's content (a build dir may live there); writes stay in the VM.
mount_api() {
	r=/newroot
	mount -t proc proc $r/proc
	mount -t sysfs sys $r/sys
	mount -t devtmpfs dev $r/dev
	mkdir -p $r/dev/pts $r/dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
	mount -t tmpfs -o mode=1777 shm $r/dev/shm
	mount -t tmpfs -o mode=0755 run $r/run
	mkdir -p $r/run/netns $r/run/lock
	mount -t cgroup2 cgroup2 $r/sys/fs/cgroup 2>/dev/null || true
	mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null || true
}

# modprobe inside finds the VM kernel's modules (depmod ran on the host).
bind_modules() {
	[ -n "$MODDIR" ] || fail "no cgw.moddir= on the kernel command line"
	[ -f "/newroot$MODDIR/modules.dep" ] || fail "no modules.dep in $MODDIR"
	kdir=/lib/modules/$(uname -r)
	chroot /newroot /bin/sh -c "mkdir -p '$kdir' && mount --bind '$MODDIR' '$kdir'" ||
		fail "bind $MODDIR on $kdir"
}

stage1() {
	/bin/busybox --install -s /bin
	export PATH=/bin
	mount -t devtmpfs dev /dev
	exec </dev/console >/dev/console 2>&1
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	parse_cmdline
	load_modules
	mount_root
	mount_api
	bind_modules
	hostname cgw-vm
	ip link set lo up
	if [ -z "$RUN" ] || [ ! -f "/newroot$RUN" ]; then
		fail "run file '$RUN' not found"
	fi
	mkdir -p /newroot/run/cgw
	cp /bin/busybox /init /newroot/run/cgw/
	umount /proc /sys
	exec switch_root /newroot /run/cgw/busybox sh /run/cgw/init 2
}

stage2() {
	parse_cmdline
	printf '\nCGW-VM-READY uptime=%s\n' "$($BB cut -d' ' -f1 /proc/uptime)"
	/usr/bin/env -i /bin/bash --noprofile --norc "$RUN" </dev/null
	rc=$?
	printf '\nCGW-VM-EXIT=%d run=%s\n' "$rc" "$NONCE"
	halt_vm
}

if [ "$STAGE" = 2 ]; then stage2; else stage1; fi
