# shellcheck shell=bash
# libreswan.sh — Libreswan (pluto) as an IKE peer in kernel scenarios,
# without installing it on the host.
#
# Debian's libreswan package conflicts with strongSwan's (the lab's AWS
# side), and the test VM has no network. So, on the HOST, before the VM
# boots (tests/vm/prepare-libreswan.sh does this):
#
#   bash tests/vm/libreswan.sh fetch
#
# downloads libreswan and the run-time pieces a strongSwan host lacks
# (certutil from libnss3-tools, libevent-pthreads, libldns) with
# `apt-get download`, unpacks them with `dpkg-deb -x` into
# $CGW_VM_CACHE/libreswan/libreswan_<version>/ (default cache
# /var/cache/cgw-vm, the VM harness's) and marks the tree complete. The
# VM sees the host's / read-only, so the tree is visible inside.
#
# In a scenario (as root, in the VM):
#
#   source "$CGW_VM_DIR/libreswan.sh"
#   lsw_setup                     # copy into the VM's overlay; LSW_VERSION
#   lsw_dir_init DIR              # DIR/{ipsec.conf,ipsec.secrets,nss,run}
#   lsw_conn NAME KEY=VALUE...    # append a conn to DIR/ipsec.conf
#   lsw_start DIR NS              # pluto --nofork in namespace NS
#   lsw_wait_log DIR REGEX SECS   # wait for a line in DIR/pluto.log
#   lsw_whack DIR ARGS...         # ipsec whack --ctlsocket DIR/run/pluto.ctl
#   lsw_auto DIR ARGS...          # ipsec auto --ctlsocket ... --config ...
#   lsw_stop DIR                  # whack --shutdown, then TERM/KILL
#
# lsw_setup copies the tree over the VM's writable overlay with `cp -n`
# (nothing of the host's is replaced: strongSwan's /usr/sbin/ipsec stays)
# and puts Libreswan's own `ipsec` in /run/cgw-libreswan/bin, first in
# PATH for this scenario only: pluto runs its default updown as
# "ipsec _updown", which must be Libreswan's (it makes the VTIs). Natively
# (no VM) it never writes to the host: it uses an installed Libreswan, or
# skips.
#
# pluto is started directly (`pluto --nofork`), not through systemd or
# `ipsec start`: the unit's pre-start (_stackmanager) takes 40-110 s under
# TCG. Load the kernel modules first (check_kernel_modules in lib.sh).

LSW_PACKAGES=(libreswan libnss3-tools libevent-pthreads-2.1-7 libldns3)
LSW_EXECDIR=/usr/libexec/ipsec
LSW_BIN=/run/cgw-libreswan/bin

_lsw_log() { printf 'libreswan: %s\n' "$*" >&2; }

# The cache folder for Libreswan trees.
lsw_cache_root() {
	printf '%s/libreswan\n' "$(realpath -m -- "${CGW_VM_CACHE:-/var/cache/cgw-vm}")"
}

# Newest complete tree in the cache (prints its path), or fails.
lsw_cached_tree() {
	local root d best=""
	root=$(lsw_cache_root)
	for d in "$root"/libreswan_*/.complete; do
		[[ -f $d ]] || continue
		d=${d%/.complete}
		if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n1) == "$d" ]]; then
			best=$d
		fi
	done
	[[ -n $best ]] || return 1
	printf '%s\n' "$best"
}

# ------------------------------------------------------------------ host

# Candidate version of the libreswan package (apt's view).
_lsw_candidate() {
	apt-cache show --no-all-versions libreswan 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }'
}

# lsw_fetch — download and unpack Libreswan into the cache, once per
# version. Offline, an already cached tree is used. Prints the tree.
lsw_fetch() {
	local root ver dir tmp deb lockfd t0=$EPOCHREALTIME
	root=$(lsw_cache_root)
	mkdir -p "$root"
	exec {lockfd}>"$root/.lock"
	flock "$lockfd"
	ver=$(_lsw_candidate)
	if [[ -z $ver ]]; then
		_lsw_log "apt knows no libreswan: running apt-get update"
		apt-get update -qq >/dev/null 2>&1 || true
		ver=$(_lsw_candidate)
	fi
	if [[ -z $ver ]]; then
		dir=$(lsw_cached_tree) || { _lsw_log "no libreswan package known to apt, none cached"; return 1; }
		_lsw_log "no libreswan package known to apt: using cached $(basename "$dir")"
		printf '%s\n' "$dir"
		return 0
	fi
	dir=$root/libreswan_${ver//:/%3a}
	if [[ -f $dir/.complete ]]; then
		touch "$dir/.used"
		printf '%s\n' "$dir"
		return 0
	fi
	rm -rf "$dir" "$root"/.fetch.*
	tmp=$(mktemp -d "$root/.fetch.XXXXXX")
	_lsw_log "downloading libreswan $ver and ${LSW_PACKAGES[*]:1}"
	if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
		"libreswan=$ver" "${LSW_PACKAGES[@]:1}" >"$tmp/download.log" 2>&1); then
		cat "$tmp/download.log" >&2
		rm -rf "$tmp"
		dir=$(lsw_cached_tree) || { _lsw_log "download failed, nothing cached"; return 1; }
		_lsw_log "download failed: using cached $(basename "$dir")"
		printf '%s\n' "$dir"
		return 0
	fi
	mkdir "$tmp/root"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root"
		# shellcheck disable=SC2016  # dpkg-deb's own ${field} syntax
		dpkg-deb --show --showformat='${Package}=${Version}\n' "$deb" >>"$tmp/root/.packages"
	done
	# What the scenarios never use: systemd units, /etc defaults (ours are
	# per scenario), documentation.
	rm -rf "$tmp/root/etc" "$tmp/root/lib" "$tmp/root/usr/share"
	[[ -x $tmp/root$LSW_EXECDIR/pluto && -x $tmp/root/usr/bin/certutil ]] ||
		{ rm -rf "$tmp"; _lsw_log "unpacked tree lacks pluto or certutil"; return 1; }
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	touch "$dir/.complete" "$dir/.used"
	# Other versions nobody used for 2 hours go.
	local d
	for d in "$root"/libreswan_*/; do
		d=${d%/}
		[[ $d == "$dir" ]] && continue
		[[ -n $(find "$d/.used" -mmin -120 2>/dev/null) ]] && continue
		rm -rf "$d"
	done
	_lsw_log "libreswan $ver ready in $dir ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)"
	printf '%s\n' "$dir"
}

# ------------------------------------------------------------- scenario

# lsw_setup — make Libreswan usable here; sets LSW_VERSION (pluto's
# version line) and LSW_TREE. Skips when there is no Libreswan to use.
lsw_setup() {
	LSW_TREE=""
	if [[ ${CGW_IN_VM:-} == 1 ]]; then
		LSW_TREE=$(lsw_cached_tree) ||
			skip "no Libreswan in $(lsw_cache_root): run tests/vm/prepare-libreswan.sh on the host before booting the VM"
		# Add, never replace: cp -n keeps every file the host has.
		# (coreutils 9.2 made skips an error, 9.3 took it back: pluto's
		# own check below is what counts.)
		cp -a -n "$LSW_TREE/usr/." /usr/ || vm_log "cp -n $LSW_TREE/usr into the VM overlay reported errors"
		mkdir -p "$LSW_BIN"
		cp "$LSW_TREE/usr/sbin/ipsec" "$LSW_BIN/ipsec" || fail "copy Libreswan's ipsec"
	elif [[ -x $LSW_EXECDIR/pluto && -x /usr/sbin/ipsec ]] &&
		grep -qi libreswan /usr/sbin/ipsec 2>/dev/null; then
		mkdir -p "$LSW_BIN"
		ln -sf /usr/sbin/ipsec "$LSW_BIN/ipsec"
	else
		skip "native run without Libreswan installed (it conflicts with strongSwan; use CGW_VM=force)"
	fi
	PATH=$LSW_BIN:$PATH
	export PATH
	LSW_VERSION=$("$LSW_EXECDIR/pluto" --version 2>&1 | head -n1) ||
		{ printf '%s\n' "$LSW_VERSION"; fail "pluto does not run (missing libraries?)"; }
	[[ $LSW_VERSION == Libreswan* ]] || fail "pluto --version said: $LSW_VERSION"
}

# lsw_dir_init DIR [PLUTODEBUG] — a pluto of its own: config with a
# "config setup" section, empty secrets, an NSS database (ipsec initnss),
# a run directory (control socket DIR/run/pluto.ctl, pid file). Keep DIR
# short: the control socket path must fit in 108 bytes.
lsw_dir_init() {
	local dir=$1 debug=${2:-${CGW_LSW_DEBUG:-none}}
	mkdir -p "$dir"
	chmod 0700 "$dir"
	mkdir -p "$dir/nss" "$dir/run"
	cat >"$dir/ipsec.conf" <<-EOF
	# Written by cgw tests/vm/libreswan.sh.
	config setup
	    plutodebug="$debug"
	    logtime=yes
	    logappend=no
	    dnssec-enable=no
	    uniqueids=yes
	EOF
	: >"$dir/ipsec.secrets"
	chmod 0600 "$dir/ipsec.secrets"
	ipsec initnss --nssdir "$dir/nss" >"$dir/initnss.log" 2>&1 ||
		{ cat "$dir/initnss.log"; fail "ipsec initnss --nssdir $dir/nss"; }
}

# lsw_conn DIR NAME KEY=VALUE... — append "conn NAME" with those settings.
lsw_conn() {
	local dir=$1 name=$2 kv
	shift 2
	{
		printf '\nconn %s\n' "$name"
		for kv in "$@"; do printf '    %s\n' "$kv"; done
	} >>"$dir/ipsec.conf"
}

# lsw_secret DIR LOCAL REMOTE PSK — a PSK line (quoted: AWS-style keys
# contain dots and underscores only, never quotes).
lsw_secret() {
	printf '%s %s : PSK "%s"\n' "$2" "$3" "$4" >>"$1/ipsec.secrets"
}

# lsw_start DIR NS — start pluto in NS, in the foreground of a background
# job; sets LSW_PID, LSW_T0 (EPOCHREALTIME just before the start). pluto
# loads DIR/ipsec.conf itself (its addconn helper: auto=add/start conns).
lsw_start() {
	local dir=$1 ns=$2
	# shellcheck disable=SC2034  # for callers that time pluto
	LSW_T0=$EPOCHREALTIME
	ip netns exec "$ns" "$LSW_EXECDIR/pluto" --nofork \
		--config "$dir/ipsec.conf" --secretsfile "$dir/ipsec.secrets" \
		--nssdir "$dir/nss" --rundir "$dir/run" --ipsecdir "$dir" \
		--logfile "$dir/pluto.log" >"$dir/pluto.out" 2>&1 &
	LSW_PID=$!
}

# lsw_log_has DIR REGEX — pluto's log has a line matching REGEX (builtins).
lsw_log_has() {
	local line
	[[ -f $1/pluto.log ]] || return 1
	while IFS= read -r line; do
		[[ $line =~ $2 ]] && return 0
	done <"$1/pluto.log"
	return 1
}

# lsw_wait_log DIR REGEX SECS — wait for it; fails if pluto exits.
lsw_wait_log() {
	local dir=$1 re=$2 secs=$3 deadline
	deadline=$(( ${EPOCHREALTIME%.*} + secs ))
	until lsw_log_has "$dir" "$re"; do
		if [[ -n ${LSW_PID:-} ]] && ! kill -0 "$LSW_PID" 2>/dev/null; then
			vm_log "pluto exited while waiting for /$re/"
			return 1
		fi
		if (( ${EPOCHREALTIME%.*} >= deadline )); then
			vm_log "timed out after ${secs}s waiting for /$re/ in $dir/pluto.log"
			return 1
		fi
		lsw_nap 0.2
	done
}

# lsw_nap SECS — sleep without starting a process (each start costs
# 0.2-0.5 s under TCG): a read with a time-out on a FIFO nobody writes.
LSW_NAP_FD=""
lsw_nap() {
	if [[ -z $LSW_NAP_FD ]]; then
		local f
		f=$(mktemp -u /run/cgw-lsw-nap.XXXXXX)
		if ! mkfifo -m 0600 "$f"; then
			sleep "$1"
			return 0
		fi
		exec {LSW_NAP_FD}<>"$f"
		rm -f "$f"
	fi
	read -r -t "$1" -u "$LSW_NAP_FD" || true
}

lsw_whack() {
	local dir=$1
	shift
	ipsec whack --ctlsocket "$dir/run/pluto.ctl" "$@"
}

lsw_auto() {
	local dir=$1
	shift
	ipsec auto --ctlsocket "$dir/run/pluto.ctl" --config "$dir/ipsec.conf" "$@"
}

# lsw_stop DIR — ask pluto to shut down (it deletes its SAs, telling the
# peer), TERM after 10 s, KILL after 20 s.
lsw_stop() {
	local dir=$1 pid=${LSW_PID:-} i
	[[ -n $pid ]] || return 0
	LSW_PID=""
	lsw_whack "$dir" --shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		((i == 50)) && kill -TERM "$pid" 2>/dev/null
		lsw_nap 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# lsw_show_log DIR [N] — the interesting part of pluto's log, for failures.
lsw_show_log() {
	local dir=$1 n=${2:-60}
	[[ -s $dir/pluto.out ]] && { echo "---- $dir/pluto.out"; tail -n 20 "$dir/pluto.out"; }
	[[ -s $dir/pluto.log ]] || return 0
	echo "---- last $n lines of $dir/pluto.log"
	tail -n "$n" "$dir/pluto.log"
}

# ------------------------------------------------- stay-up and benchmarks
#
#   lsw_kill DIR            kill -9 pluto (LSW_PID) as a crash or a replaced
#                           endpoint would end it; its pid file and control
#                           socket are removed so that lsw_start works again
#   lsw_line_ms LINE        epoch ms of a pluto.log line (logtime=yes:
#                           "Mon DD HH:MM:SS[.ffffff]: ..."), in LSW_MS;
#                           1 when the line has no time stamp
#   lsw_esp_count DIR       IPsec SAs pluto lists (--trafficstatus), in
#                           LSW_NESP (the listing in LSW_TRAFFIC)

lsw_kill() {
	local dir=$1 pid=${LSW_PID:-}
	[[ -n $pid ]] || return 0
	LSW_PID=""
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$dir/run/pluto.pid" "$dir/run/pluto.ctl"
}

# Months for lsw_line_ms; the year is this one (a test never spans New Year
# in a way that matters: the result is only compared with recent times).
declare -A _LSW_MON=([Jan]=01 [Feb]=02 [Mar]=03 [Apr]=04 [May]=05 [Jun]=06
	[Jul]=07 [Aug]=08 [Sep]=09 [Oct]=10 [Nov]=11 [Dec]=12)
_LSW_DAY0_MS="" _LSW_DAY0_KEY=""

# shellcheck disable=SC2034  # results for the caller
lsw_line_ms() {
	local re='^([A-Z][a-z]{2}) +([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(\.([0-9]{1,6}))?'
	local mon day key us frac
	LSW_MS=""
	[[ $1 =~ $re ]] || return 1
	mon=${_LSW_MON[${BASH_REMATCH[1]}]:-} day=${BASH_REMATCH[2]}
	[[ -n $mon ]] || return 1
	key="$mon-$day"
	if [[ $key != "$_LSW_DAY0_KEY" ]]; then
		# Midnight (local time, like pluto's stamps) of that day, in ms:
		# today's midnight from the clock, or a day before.
		local now=${EPOCHREALTIME%.*} h m s today
		printf -v today '%(%m-%d)T' "$now"
		printf -v h '%(%H)T' "$now"; printf -v m '%(%M)T' "$now"; printf -v s '%(%S)T' "$now"
		_LSW_DAY0_MS=$(( (now - (10#$h * 3600 + 10#$m * 60 + 10#$s)) * 1000 ))
		[[ $today == "$(printf '%02d-%02d' $((10#$mon)) $((10#$day)))" ]] ||
			_LSW_DAY0_MS=$((_LSW_DAY0_MS - 86400000))
		_LSW_DAY0_KEY=$key
	fi
	frac=${BASH_REMATCH[7]:-0}
	frac=${frac}000000
	us=$((10#${frac:0:6}))
	LSW_MS=$(( _LSW_DAY0_MS + ((10#${BASH_REMATCH[3]} * 60 + 10#${BASH_REMATCH[4]}) * 60 + 10#${BASH_REMATCH[5]}) * 1000 + us / 1000 ))
}

# shellcheck disable=SC2034  # results for the caller
lsw_esp_count() {
	local out line
	LSW_NESP=0
	out=$(lsw_whack "$1" --trafficstatus 2>&1) || true
	while IFS= read -r line; do
		[[ $line == *type=ESP* ]] && LSW_NESP=$((LSW_NESP + 1))
	done <<<"$out"
	LSW_TRAFFIC=$out
	return 0
}

# Run as a program: `bash libreswan.sh fetch` (host side).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	fetch) lsw_fetch ;;
	path) lsw_cached_tree ;;
	*) echo "usage: $0 fetch|path" >&2; exit 2 ;;
	esac
fi
