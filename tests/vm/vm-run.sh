#!/bin/bash
# vm-run.sh SCENARIO [ARGS...] — run a kernel test scenario as root, in a VM
# when the host kernel lacks what cgw needs (ESP, VTI, AES-GCM).
#
# Native mode: the host kernel has esp4, ip_vti and rfc4106(gcm(aes))
#   (a probe in a throw-away network namespace succeeds) and CGW_VM is not
#   "force": SCENARIO runs here, as root, in the current directory.
# VM mode: Debian's stock kernel (the one linux-image-amd64 depends on)
#   boots under qemu TCG with a busybox initramfs (initramfs-init.sh). The
#   guest sees the host's / read-only over 9p, with a tmpfs overlay on
#   top, and runs SCENARIO in the same absolute working directory.
#   Console output streams to stdout; the guest ends with the line
#   "CGW-VM-EXIT=<status> run=<nonce>", whose status this script returns.
#
# SCENARIO: a path (relative to the current directory), or a bare name
#   looked up in tests/vm/, tests/vm/scenarios/, then $PATH. A file that is
#   not executable is run with bash. Boot once per suite: pass a script that
#   runs many scenarios (run-suite.sh).
#
# Environment:
#   CGW_VM=auto|force|native  auto (default) probes the host kernel; force
#                             always boots the VM; native never does.
#   CGW_VM_CACHE   kernel + initramfs cache (default /var/cache/cgw-vm)
#   CGW_VM_TIMEOUT seconds before qemu is killed (default 1200)
#   CGW_VM_MEM, CGW_VM_SMP  guest size (default 1024 MiB, 2 CPUs)
#   CGW_VM_ACCEL   qemu accelerator (default tcg)
#   CGW_VM_APPEND  extra kernel command line
#   Every exported CGW_* variable, and PATH, reach the scenario; inside the
#   VM CGW_IN_VM=1 is set as well.
#
# Exit status: the scenario's (77 = skip stays 77); 1 when the VM failed
# (no exit marker: crash, timeout, init failure); 2 on usage errors; 77
# when not run as root (scenarios need it, and so does the VM's view of /).

set -euo pipefail
shopt -s extglob

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
CACHE=$(realpath -m -- "${CGW_VM_CACHE:-/var/cache/cgw-vm}")
readonly CACHE
readonly TIMEOUT=${CGW_VM_TIMEOUT:-1200}
readonly MODE=${CGW_VM:-auto}
readonly INIT_SCRIPT=$HERE/initramfs-init.sh
# Modules the initramfs loads itself (their dependencies come along).
readonly INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay)
# Bump to force an initramfs rebuild when the build recipe below changes.
readonly INITRD_RECIPE=1

log() { printf 'vm-run: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# ---------------------------------------------------------------- scenario

# Absolute path of the scenario named $1.
resolve_scenario() {
	local s=$1 d
	if [[ $s == */* ]]; then
		[[ -f $s ]] || die "scenario not found: $s"
		printf '%s/%s\n' "$(cd "$(dirname "$s")" && pwd)" "$(basename "$s")"
		return
	fi
	for d in "$HERE" "$HERE/scenarios"; do
		[[ -f $d/$s ]] && { printf '%s\n' "$d/$s"; return; }
	done
	command -v "$s" || die "scenario not found: $s"
}

# The command line that runs scenario $1 (bash for non-executable files).
scenario_cmd() {
	if [[ -x $1 ]]; then printf '%s\n' "$1"; else printf 'bash\n%s\n' "$1"; fi
}

# ------------------------------------------------------------ native mode

# True when this kernel can do ESP with AES-GCM and VTI: tried for real in
# a throw-away network namespace, which also covers built-in code.
host_has_ipsec() {
	modprobe -q -a esp4 ip_vti xfrm_user 2>/dev/null || true
	# shellcheck disable=SC2016  # expanded by the inner bash
	unshare --net bash -c '
		ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 \
			mode tunnel aead "rfc4106(gcm(aes))" 0x$(printf "%040d" 0) 128 &&
		ip link add cgwprobe type vti local 192.0.2.1 remote 192.0.2.2 \
			ikey 1 okey 1' >/dev/null 2>&1
}

run_native() {
	log "native mode: host kernel $(uname -r) has ESP/VTI/GCM"
	local -a cmd
	mapfile -t cmd < <(scenario_cmd "$1")
	shift
	exec "${cmd[@]}" "$@"
}

# ---------------------------------------------------------------- kernel

# "NAME VERSION" of the kernel package linux-image-amd64 depends on.
kernel_pkg() {
	local name ver
	name=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	[[ -n $name ]] || return 1
	ver=$(apt-cache show --no-all-versions "$name" 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }')
	[[ -n $ver ]] || return 1
	printf '%s %s\n' "$name" "$ver"
}

# Newest complete kernel already in the cache (for offline runs).
cached_kernel() {
	local d
	d=$(printf '%s\n' "$CACHE"/kernel/*/.complete | sort -V | tail -n1)
	[[ -f $d ]] || return 1
	dirname "$d"
}

# Download and unpack package $1 version $2 into $3; run depmod there.
kernel_fetch() {
	local name=$1 ver=$2 dest=$3 tmp kver t0
	t0=$(now)
	tmp=$(mktemp -d "$CACHE/kernel/.fetch.XXXXXX")
	log "downloading $name $ver"
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
		"$name=$ver" >/dev/null) || { rm -rf "$tmp"; log "apt-get download $name failed"; return 1; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	kver=$(ls "$tmp/root/lib/modules")
	depmod -b "$tmp/root" "$kver"
	mkdir -p "$dest"
	mv "$tmp/root/boot" "$tmp/root/lib" "$dest/"
	rm -rf "$tmp"
	touch "$dest/.complete"
	log "kernel $kver ready in $(elapsed "$t0" "$(now)") s"
}

# Sets KDIR (unpacked package root), KVER, VMLINUZ.
kernel_prepare() {
	local pkg
	mkdir -p "$CACHE/kernel"
	if ! pkg=$(kernel_pkg); then
		KDIR=$(cached_kernel) || true
		if [[ -z $KDIR ]]; then
			log "apt knows no linux-image-amd64: running apt-get update"
			apt-get update -qq >/dev/null || true
			pkg=$(kernel_pkg) || die "cannot find linux-image-amd64's kernel package"
		fi
	fi
	if [[ -n ${pkg:-} ]]; then
		local name ver
		read -r name ver <<<"$pkg"
		KDIR=$CACHE/kernel/${name}_$ver
		if [[ ! -f $KDIR/.complete ]]; then
			rm -rf "$KDIR"
			kernel_fetch "$name" "$ver" "$KDIR" || {
				KDIR=$(cached_kernel) || die "no kernel to boot"
				log "download failed: using cached $(basename "$KDIR")"
			}
		fi
	fi
	KVER=$(ls "$KDIR/lib/modules")
	VMLINUZ=$KDIR/boot/vmlinuz-$KVER
	[[ -f $VMLINUZ ]] || die "no kernel image in $KDIR"
}

# Removes leftovers of interrupted downloads/builds, and kernels other than
# $KDIR that no run has used for 2 hours (more than any run lasts).
cache_tidy() {
	local d
	rm -rf "$CACHE"/kernel/.fetch.* "$CACHE"/.initramfs.*
	touch "$KDIR/.used"
	for d in "$CACHE"/kernel/*/; do
		d=${d%/}
		[[ $d == "$KDIR" || ! -d $d ]] && continue
		[[ -n $(find "$d/.used" -mmin -120 2>/dev/null) ]] && continue
		log "removing unused cached kernel $(basename "$d")"
		rm -rf "$d"
	done
}

# ------------------------------------------------------------- initramfs

# Cache key: anything that changes what goes into the image.
initramfs_key() {
	{
		cat "$INIT_SCRIPT"
		printf '%s\n' "$INITRD_RECIPE" "$KDIR" "${INITRD_MODULES[*]}"
		sha256sum </usr/bin/busybox
	} | sha256sum | cut -c1-16
}

# Copies the initramfs modules and their dependencies into $1/modules,
# in load order (modprobe --show-depends prints dependencies first).
initramfs_modules() {
	local stage=$1 m ko base
	mkdir -p "$stage/modules"
	: >"$stage/modules/order"
	for m in "${INITRD_MODULES[@]}"; do
		modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" |
			awk '$1 == "insmod" { print $2 }' >"$stage/deps" ||
			die "cannot resolve module $m in $KDIR"
		while read -r ko; do
			base=$(basename "$ko")
			grep -qxF "$base" "$stage/modules/order" && continue
			cp "$ko" "$stage/modules/"
			echo "$base" >>"$stage/modules/order"
		done <"$stage/deps"
	done
	rm -f "$stage/deps"
}

# Builds (once per key) the busybox initramfs; sets INITRD.
initramfs_prepare() {
	local key stage t0
	key=$(initramfs_key)
	INITRD=$CACHE/initramfs-$KVER-$key.cpio.gz
	[[ -f $INITRD ]] && return
	t0=$(now)
	# ldd fails on a static binary, which is what the initramfs needs.
	! ldd /usr/bin/busybox >/dev/null 2>&1 ||
		die "/usr/bin/busybox is not static: install busybox-static"
	stage=$(mktemp -d "$CACHE/.initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys}
	cp /usr/bin/busybox "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	install -m 0755 "$INIT_SCRIPT" "$stage/init"
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	initramfs_modules "$stage"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp"
	rm -rf "$stage"
	rm -f "$CACHE"/initramfs-*.cpio.gz
	mv "$INITRD.tmp" "$INITRD"
	log "initramfs built in $(elapsed "$t0" "$(now)") s: $INITRD"
}

# -------------------------------------------------------------- VM mode

# Writes the run file the guest's init executes: environment, working
# directory, scenario command. $1 = file, $2... = scenario command.
write_runfile() {
	local f=$1 v path
	shift
	path=$PATH
	[[ :$path: == *:/usr/sbin:* ]] || path=$path:/usr/local/sbin:/usr/sbin:/sbin
	{
		echo '#!/bin/bash'
		echo '# Written by vm-run.sh; run with bash by the VM init (stage 2).'
		printf 'export PATH=%q HOME=/root TERM=dumb LANG=C.UTF-8 CGW_IN_VM=1\n' "$path"
		for v in $(compgen -e); do
			[[ $v == CGW_* && $v != CGW_IN_VM ]] &&
				printf 'export %s=%q\n' "$v" "${!v}"
		done
		printf 'cd %q || exit 1\n' "$PWD"
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	} >"$f"
}

qemu_check() {
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found: install qemu-system-x86"
	local accel=${CGW_VM_ACCEL:-tcg}
	qemu-system-x86_64 -accel help | grep -qx "$accel" ||
		die "qemu has no accelerator '$accel'"
}

# Reads the console on stdin: strips CRs, echoes to stdout, logs to $1,
# notes the time the guest reached its scenario in $2.
stream_console() {
	local log=$1 ready=$2 line
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		# drop the firmware's VT100 codes (reset, clear screen...)
		line=${line//$'\e'c/}
		line=${line//$'\e'\[*([0-9;?])[a-zA-Z]/}
		printf '%s\n' "$line"
		printf '%s\n' "$line" >&3
		if [[ $line == CGW-VM-READY* && ! -s $ready ]]; then now >"$ready"; fi
	done 3>"$log"
}

# Boots the VM on the run file $1 and returns the scenario's status.
boot_vm() {
	local run=$1 work=$2 nonce t0 t_end st marker
	nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	# no_timer_check: on a loaded host TCG can fail the kernel's IO-APIC
	# timer check at boot ("IO-APIC + timer doesn't work") and panic.
	local append="console=ttyS0 quiet panic=-1 mitigations=off no_timer_check rdinit=/init"
	append+=" cgw.run=$run cgw.moddir=$KDIR/lib/modules/$KVER cgw.nonce=$nonce"
	append+=" ${CGW_VM_APPEND:-}"
	# shellcheck disable=SC2054  # commas belong to qemu options
	local -a qemu=(
		qemu-system-x86_64 -accel "${CGW_VM_ACCEL:-tcg}" -cpu max
		-m "${CGW_VM_MEM:-1024}" -smp "${CGW_VM_SMP:-2}"
		-nographic -serial stdio -monitor none -no-reboot -nic none
		-kernel "$VMLINUZ" -initrd "$INITRD" -append "$append"
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	)
	log "booting $KVER (${CGW_VM_ACCEL:-tcg}, timeout ${TIMEOUT}s)"
	t0=$(now)
	set +e
	# --foreground keeps qemu in our process group, so a Ctrl-C or meson's
	# kill of the test's group reaches it.
	timeout --foreground -k 10 "$TIMEOUT" "${qemu[@]}" </dev/null 2>&1 |
		stream_console "$work/console.log" "$work/ready"
	st=${PIPESTATUS[0]}
	set -e
	t_end=$(now)
	report_times "$t0" "$t_end" "$work/ready"
	[[ $st == 124 || $st == 137 ]] && log "qemu killed after ${TIMEOUT}s timeout"
	marker=$(sed -n "s/^CGW-VM-EXIT=\([0-9]\{1,3\}\) run=$nonce\$/\1/p" \
		"$work/console.log" | tail -n1)
	if [[ -z $marker ]]; then
		local why
		why=$(sed -n 's/^CGW-VM-INIT-FAILED: //p' "$work/console.log" | tail -n1)
		log "FAIL: no exit marker from the VM (qemu status $st)${why:+: init failed: $why}"
		return 1
	fi
	log "scenario exit status $marker"
	return "$marker"
}

report_times() {
	local t0=$1 t_end=$2 ready=$3
	if [[ -s $ready ]]; then
		log "boot $(elapsed "$t0" "$(cat "$ready")") s, scenario+shutdown" \
			"$(elapsed "$(cat "$ready")" "$t_end") s, total $(elapsed "$t0" "$t_end") s"
	else
		log "VM ran $(elapsed "$t0" "$t_end") s and never reached the scenario"
	fi
}

run_vm() {
	local work st=0
	qemu_check
	mkdir -p "$CACHE"
	[[ $CACHE != *[[:space:]]* ]] || die "CGW_VM_CACHE must not contain spaces"
	# One preparer at a time; running VMs only read the cache.
	exec 9>"$CACHE/.lock"
	flock 9
	kernel_prepare
	cache_tidy
	initramfs_prepare
	flock -u 9
	# Host-side preparation for scenarios (the VM has no network): e.g.
	# prepare-libreswan.sh fetches Libreswan into the cache once.
	local h
	for h in "$HERE"/prepare-*.sh; do
		CGW_VM_CACHE=$CACHE bash "$h" || log "warning: $(basename "$h") failed"
	done
	work=$(mktemp -d "${TMPDIR:-/tmp}/cgw-vm.XXXXXX")
	[[ $work != *[[:space:]]* ]] || die "TMPDIR must not contain spaces"
	# shellcheck disable=SC2064  # $work is local: expand it now
	trap "rm -rf '$work'" EXIT
	local -a cmd
	mapfile -t cmd < <(scenario_cmd "$1")
	shift
	write_runfile "$work/run.sh" "${cmd[@]}" "$@"
	boot_vm "$work/run.sh" "$work" || st=$?
	return "$st"
}

main() {
	[[ $# -ge 1 && $1 != -h && $1 != --help ]] || usage
	local scenario
	if [[ $(id -u) != 0 ]]; then
		log "SKIP: kernel scenarios need root (network namespaces, XFRM, the VM's 9p root)"
		exit 77
	fi
	scenario=$(resolve_scenario "$1")
	shift
	case $MODE in
	native) run_native "$scenario" "$@" ;;
	force) run_vm "$scenario" "$@" ;;
	auto)
		if host_has_ipsec; then
			run_native "$scenario" "$@"
		else
			log "host kernel $(uname -r) lacks ESP/VTI/GCM: using a VM"
			run_vm "$scenario" "$@"
		fi ;;
	*) die "CGW_VM must be auto, force or native (got '$MODE')" ;;
	esac
}

main "$@"
