# shellcheck shell=bash
# ike-lib.sh — helpers for scenarios that run cgwd against strongSwan
# (charon-systemd + swanctl, each charon with its own strongswan.conf,
# vici socket and log) in network namespaces. Source after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/../ike-lib.sh"
#
# Everything here avoids process starts where a bash builtin does (each
# costs 0.2-0.5 s under TCG): files are read with `read`/`mapfile`, sleeps
# read from a FIFO, cgwd's log is timestamped by a bash loop.
#
#   ike_init DIR             state directory, nap FIFO; call once
#   ike_nap SECS             sleep without a process
#   until_ok SECS WHAT CMD.. retry CMD every 0.2 s; 1 on time-out (and when
#                            the process $WATCH_PID died)
#   file_lines VAR FILE      lines of FILE into array VAR
#   grep_line FILE ERE [FROM] first line (from byte FROM) matching ERE, in MATCH
#   count_lines FILE ERE [FROM] number of matching lines, in COUNT
#   alive PID                true if PID runs (zombies count as dead)
#   file_size FILE           its length, in FILE_SIZE
#   sw_write_conf DIR        strongswan.conf for a charon living in DIR
#   sw_conn / sw_secret      swanctl.conf fragments; sw_write_swanctl DIR
#                            CONNS SECRETS writes DIR/swanctl/swanctl.conf
#   sw_start DIR NS          start charon-systemd in NS (CHARON_PID)
#   sw DIR --CMD ARGS        swanctl against that charon
#   cgwd_start DIR NS CONF   start cgwd (CGWD_PID; DIR/cgwd.log timestamped)
#   cgwd_wait_ctl SOCK       wait until cgwctl answers
#   ctl_json SOCK            cgwctl status --json
#   kcount NS                kernel counts in NS: K_STATES, K_POLICIES (all,
#                            charon's socket bypass policies too),
#                            K_CGW_POLICIES (priority 0x7c6e0), K_VTIS (not
#                            counting the fallback ip_vti0), K_LARVAL
#   esp_min_packets NS       fewest packets counted by any ESP state: ESP_MIN,
#                            the number of states: ESP_N, `ip -s xfrm state`
#                            itself: ESP_OUT
#   ns_procs_stop NS...      TERM (then KILL after 10 s) every process in NS

IKE_BUILD=$(cd "${CGW_BUILD_DIR:-build}" 2>/dev/null && pwd) || IKE_BUILD=${CGW_BUILD_DIR:-build}
CGWD=$IKE_BUILD/daemon/cgwd
CGWCTL=$IKE_BUILD/cgwctl/cgwctl
CHARON=${CGW_CHARON:-/usr/sbin/charon-systemd}
readonly CGW_XFRM_PRIO=509664		# 0x7c6e0: cgwd's policies

_IKE_NAP_FD=""
_IKE_DIR=""

ike_init() {
	_IKE_DIR=$1
	mkdir -p "$_IKE_DIR"
	[[ -p $_IKE_DIR/.nap ]] || mkfifo -m 0600 "$_IKE_DIR/.nap"
	exec {_IKE_NAP_FD}<>"$_IKE_DIR/.nap"
}

ike_nap() {
	if [[ -n $_IKE_NAP_FD ]]; then
		read -r -t "$1" -u "$_IKE_NAP_FD" || true
	else
		sleep "$1"
	fi
}

alive() {
	local pid=$1 rest st
	[[ -n $pid && -r /proc/$pid/stat ]] || return 1
	read -r rest <"/proc/$pid/stat" 2>/dev/null || return 1
	rest=${rest##*) }
	st=${rest%% *}
	[[ $st != Z && $st != X ]]
}

WATCH_PID=""
WATCH_NAME=""

until_ok() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((${EPOCHREALTIME%.*} + secs))
	until "$@"; do
		if [[ -n $WATCH_PID ]] && ! alive "$WATCH_PID"; then
			vm_log "$WATCH_NAME (pid $WATCH_PID) exited while waiting for $what"
			return 1
		fi
		if ((${EPOCHREALTIME%.*} >= deadline)); then
			vm_log "timed out after ${secs}s waiting for $what"
			return 1
		fi
		ike_nap 0.2
	done
}

file_lines() {
	local -n _fl=$1
	_fl=()
	[[ -r $2 ]] || return 0
	mapfile -t _fl <"$2"
}

# grep_line FILE ERE [FROM] — MATCH = first matching line at or after byte
# FROM of FILE (bash regex, one line at a time; BASH_REMATCH holds its
# groups); 1 if none.
# shellcheck disable=SC2034  # MATCH, COUNT, FILE_SIZE: results for the caller
MATCH=""
grep_line() {
	local file=$1 re=$2 from=${3:-0} data="" line
	MATCH=""
	[[ -r $file ]] || return 1
	IFS= read -r -d '' data <"$file" || true
	data=${data:from}
	while IFS= read -r line; do
		if [[ $line =~ $re ]]; then
			# shellcheck disable=SC2034
			MATCH=$line
			return 0
		fi
	done <<<"$data"
	return 1
}

COUNT=0
count_lines() {
	local file=$1 re=$2 from=${3:-0} data="" line
	COUNT=0
	[[ -r $file ]] || return 0
	IFS= read -r -d '' data <"$file" || true
	data=${data:from}
	while IFS= read -r line; do
		[[ $line =~ $re ]] && COUNT=$((COUNT + 1))
	done <<<"$data"
	return 0
}

# Size of FILE in bytes (as bash counts characters; the logs are ASCII),
# in FILE_SIZE.
# shellcheck disable=SC2034
file_size() {
	local data=""
	[[ -r $1 ]] && { IFS= read -r -d '' data <"$1" || true; }
	FILE_SIZE=${#data}
}

# ---------------------------------------------------------------- strongSwan

# sw_write_conf DIR — a charon of its own (plugins, vici socket, log with
# epoch timestamps in ms) that shares nothing with a system strongSwan.
sw_write_conf() {
	local dir=$1
	mkdir -p "$dir/swanctl"
	chmod 0700 "$dir" "$dir/swanctl"
	cat >"$dir/strongswan.conf" <<-EOF
	charon-systemd {
	  journal {
	    default = -1
	  }
	}
	charon {
	  load_modular = no
	  load = random nonce openssl curve25519 kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici
	  install_routes = no
	  install_virtual_ip = no
	  retransmit_timeout = 2
	  retransmit_base = 1.4
	  retransmit_tries = 3
	  plugins {
	    vici {
	      socket = unix://$dir/charon.vici
	    }
	  }
	  filelog {
	    scenario {
	      path = $dir/charon.log
	      time_format = %s
	      time_add_ms = yes
	      ike_name = yes
	      flush_line = yes
	      default = 1
	      ike = 2
	      cfg = 2
	      knl = 1
	    }
	  }
	}
	swanctl {
	  load = random nonce openssl pem pkcs1 x509 pubkey
	}
	EOF
}

# sw_conn NAME LOCAL_ADDR REMOTE_ADDRS LOCAL_ID REMOTE_ID MARK START IKE ESP
# — one route-based tunnel, AWS-like (0/0 selectors, marks as VTI keys).
sw_conn() {
	local name=$1 laddr=$2 raddrs=$3 lid=$4 rid=$5 mark=$6 start=$7 ike=$8 esp=$9
	cat <<-EOF
	  $name {
	    version = 2
	    local_addrs = $laddr
	    remote_addrs = $raddrs
	    proposals = $ike
	    rekey_time = 28530s
	    reauth_time = 0
	    dpd_delay = 10s
	    mobike = no
	    unique = replace
	    keyingtries = 1
	    local {
	      auth = psk
	      id = $lid
	    }
	    remote {
	      auth = psk
	      id = $rid
	    }
	    children {
	      $name {
	        mode = tunnel
	        local_ts = 0.0.0.0/0
	        remote_ts = 0.0.0.0/0
	        esp_proposals = $esp
	        mark_in = $mark
	        mark_out = $mark
	        rekey_time = 3330s
	        life_time = 3600s
	        replay_window = 1024
	        start_action = $start
	        dpd_action = clear
	        close_action = none
	      }
	    }
	  }
	EOF
}

sw_secret() {	# sw_secret NAME LOCAL_ID REMOTE_ID PSK
	cat <<-EOF
	  ike-$1 {
	    id-local = $2
	    id-remote = $3
	    secret = "$4"
	  }
	EOF
}

# sw_write_swanctl DIR CONNS SECRETS
sw_write_swanctl() {
	(umask 077; printf 'connections {\n%s\n}\nsecrets {\n%s\n}\n' "$2" "$3" \
		>"$1/swanctl/swanctl.conf")
}

sw() {
	local dir=$1 cmd=$2
	shift 2
	STRONGSWAN_CONF=$dir/strongswan.conf SWANCTL_DIR=$dir/swanctl \
		swanctl "$cmd" --uri "unix://$dir/charon.vici" "$@"
}

_sw_answers() { sw "$1" --stats >/dev/null 2>&1; }
_is_sock() { [[ -S $1 ]]; }

CHARON_PID=""
sw_start() {
	local dir=$1 ns=$2
	STRONGSWAN_CONF=$dir/strongswan.conf ip netns exec "$ns" "$CHARON" \
		>"$dir/charon.out" 2>&1 &
	CHARON_PID=$!
	echo "$CHARON_PID" >"$dir/charon.pid"
	local WATCH_PID=$CHARON_PID WATCH_NAME=charon
	until_ok 30 "charon's vici socket" _is_sock "$dir/charon.vici" || return 1
	until_ok 30 "charon to answer on vici" _sw_answers "$dir" || return 1
}

sw_load() {
	sw "$1" --load-all >"$1/load.out" 2>&1 || {
		cat "$1/load.out"
		return 1
	}
}

# ---------------------------------------------------------------- cgwd

# Prefix every line with the epoch time (ms): cgwd's own log has none.
_ts_lines() {
	local line t
	while IFS= read -r line; do
		t=${EPOCHREALTIME/./}
		printf '%d.%03d %s\n' $((t / 1000000)) $((t / 1000 % 1000)) "$line"
	done
}

CGWD_PID=""
# cgwd_start DIR NS CONF [ARGS...] — cgwd in the foreground of NS, its
# stderr timestamped into DIR/cgwd.log (appended: restarts add to it).
cgwd_start() {
	local dir=$1 ns=$2 conf=$3
	shift 3
	local fifo=$dir/cgwd.fifo
	[[ -p $fifo ]] || mkfifo -m 0600 "$fifo"
	_ts_lines <"$fifo" >>"$dir/cgwd.log" &
	ip netns exec "$ns" "$CGWD" -c "$conf" -d ike -d ike-packets "$@" >"$fifo" 2>&1 &
	CGWD_PID=$!
	echo "$CGWD_PID" >"$dir/cgwd.pid"
}

_ctl_answers() { "$CGWCTL" -s "$1" status >/dev/null 2>&1; }
cgwd_wait_ctl() {
	local WATCH_PID=$CGWD_PID WATCH_NAME=cgwd
	until_ok 30 "cgwd's control socket" _is_sock "$1" || return 1
	until_ok 30 "cgwd to answer on its control socket" _ctl_answers "$1"
}

ctl_json() { "$CGWCTL" -s "$1" status --json; }

# ---------------------------------------------------------------- kernel

kcount() {
	local ns=$1 out line
	K_STATES=0 K_POLICIES=0 K_CGW_POLICIES=0 K_VTIS=0 K_LARVAL=0
	# Two processes, one entry a line (-o). iproute2 exits after an xfrm
	# listing, even in batch mode: one xfrm command per batch, last.
	out=$(ip -n "$ns" -o xfrm state) || return 1
	out+=$'\n'$(ip -n "$ns" -o -b - <<-EOF
	link show type vti
	xfrm policy
	EOF
	) || return 1
	while IFS= read -r line; do
		if [[ $line =~ ^[0-9]+:\ ([^:@]+) ]]; then
			[[ ${BASH_REMATCH[1]} == ip_vti0 ]] || K_VTIS=$((K_VTIS + 1))
		elif [[ $line =~ ^src\ .*(dir|socket)\ (in|out|fwd)\  ]]; then
			# (charon adds per-socket bypass policies: "socket in/out")
			K_POLICIES=$((K_POLICIES + 1))
			[[ $line =~ priority\ $CGW_XFRM_PRIO\  ]] && K_CGW_POLICIES=$((K_CGW_POLICIES + 1))
		elif [[ $line == src* ]]; then
			K_STATES=$((K_STATES + 1))
			[[ $line =~ (aead|enc|auth|auth-trunc)\  ]] || K_LARVAL=$((K_LARVAL + 1))
		fi
	done <<<"$out"
	return 0
}

kcount_str() { printf 'states=%s policies=%s (cgw %s) vtis=%s' "$K_STATES" "$K_POLICIES" \
	"$K_CGW_POLICIES" "$K_VTIS"; }

esp_min_packets() {
	local ns=$1 line cur=0
	ESP_MIN="" ESP_N=0
	ESP_OUT=$(ip -n "$ns" -s xfrm state) || return 1
	while IFS= read -r line; do
		if [[ $line == src* ]]; then
			ESP_N=$((ESP_N + 1))
		elif [[ $line =~ lifetime\ current: ]]; then
			cur=1
		elif ((cur)) && [[ $line =~ ([0-9]+)\(packets\) ]]; then
			cur=0
			if [[ -z $ESP_MIN ]] || ((BASH_REMATCH[1] < ESP_MIN)); then
				ESP_MIN=${BASH_REMATCH[1]}
			fi
		fi
	done <<<"$ESP_OUT"
	return 0
}

# ns_pids NS... — the processes in those network namespaces, in NS_PIDS
# (no process start: /proc/PID/ns/net and /run/netns/NS are the same nsfs
# inode when the process is in NS).
ns_pids() {
	local ns p
	NS_PIDS=()
	for p in /proc/[0-9]*; do
		for ns in "$@"; do
			if [[ /proc/${p#/proc/}/ns/net -ef /run/netns/$ns ]]; then
				NS_PIDS+=("${p#/proc/}")
				break
			fi
		done
	done 2>/dev/null
}

# ns_procs_stop NS... — every process in the namespaces (ours: we made
# them): TERM, up to 10 s, then KILL.
ns_procs_stop() {
	local pid pids=() deadline left
	ns_pids "$@"
	for pid in "${NS_PIDS[@]}"; do
		alive "$pid" && pids+=("$pid")
	done
	[[ ${#pids[@]} -gt 0 ]] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	deadline=$((${EPOCHREALTIME%.*} + 10))
	while :; do
		left=()
		for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
		[[ ${#left[@]} -eq 0 ]] && return 0
		if ((${EPOCHREALTIME%.*} >= deadline)); then
			vm_log "pids ${left[*]} ignored SIGTERM for 10 s: killing them"
			kill -KILL "${left[@]}" 2>/dev/null || true
			return 0
		fi
		ike_nap 0.1
	done
}

# ================================================================ stay-up
# Helpers shared by the stay-up scenarios (51 against Libreswan, 52 the
# rekey-loss benchmark, 53 reload): times, ping accounting, cgwd's view
# of one tunnel, per-mark kernel counts, a blackholed outer path.
#
#   ms_at LINE               epoch ms heading a cgwd.log line (_ts_lines) or
#                            a charon.log line (time_format %s + ms), in MS
#   now_ms                   the epoch in ms, in NOW_MS
#   fmt_ms MS                "1.234" (seconds), in S
#   ping_start NS DST IVAL SECS FILE [N]  N (default 1) timestamped pings
#                            (-D) in the background, one every IVAL seconds
#                            each, SECS/IVAL of them (-c, not -w), output in
#                            FILE, FILE.2 ... (PING_PIDS; PING_PID the first).
#                            Under TCG a ping's interval is rounded up by the
#                            timers: -i 0.005 gives ~125/s, -i 0.004 ~145/s,
#                            so 200/s takes two pings at 0.004
#   ping_stop                SIGALRM to pings still running, then wait
#   ping_account FILE [MS]   over FILE, FILE.2 ...: P_TX P_RX, P_LOST (pings
#                            never answered; a late or reordered reply is no
#                            loss, nor are up to 3 still in flight when
#                            ping_stop ended the ping: P_TAIL), P_MISSING
#                            (the unanswered icmp_seq ranges), P_ERRS (ping's
#                            error lines), P_LOSS_TS (the stamp of the reply
#                            before each run of lost pings, ms) and P_LOSS_N
#                            (pings in that run), P_SLOWEST (replies per
#                            second in the slowest whole 10 s window, summed
#                            over the pings); with MS (first file only):
#                            P_FIRST_AFTER / P_GAP, the first reply after a
#                            silence of > 1 s that ends after MS, the silence
#   tunnel_stat SOCK NAME    cgwd's view of one tunnel: TS_STATE TS_REASON
#                            TS_REKEYS TS_IKE_REKEYS TS_DEAD TS_NIKE
#                            TS_NCHILD TS_SPIS (IKE and CHILD SPIs, one
#                            string)
#   kcount_mark NS MARK      ESP states carrying that mark: K_MARK_STATES
#   nft_blackhole NS ADDR    in NS, drop IKE (udp 500/4500) and ESP from
#                            and to ADDR, both ways (table inet cgwt_bh)
#   nft_unblackhole NS       remove it
#   nft_works NS             nft can make a table in NS (else 1)

# shellcheck disable=SC2034  # results for the caller
ms_at() { local t=${1%% *}; MS=$((10#${t/./})); }
# shellcheck disable=SC2034  # results for the caller
now_ms() { local t=${EPOCHREALTIME/./}; NOW_MS=$((t / 1000)); }
# shellcheck disable=SC2034  # results for the caller
fmt_ms() {
	local m=$1 sign=""
	((m < 0)) && { sign=-; m=$((-m)); }
	printf -v S '%s%d.%03d' "$sign" $((m / 1000)) $((m % 1000))
}

# shellcheck disable=SC2034  # PING_PID: for the caller
PING_PID="" PING_PIDS=()
# shellcheck disable=SC2034  # results for the caller
ping_start() {
	local ns=$1 dst=$2 ival=$3 secs=$4 file=$5 n=${6:-1} i f count
	count=$(awk -v s="$secs" -v i="$ival" 'BEGIN { printf "%d", s / i }')
	PING_PIDS=()
	for ((i = 1; i <= n; i++)); do
		f=$file
		((i > 1)) && f=$file.$i
		ip netns exec "$ns" ping -n -D -i "$ival" -c "$count" -W 3 "$dst" >"$f" 2>&1 &
		PING_PIDS+=("$!")
	done
	PING_PID=${PING_PIDS[0]}
}

ping_stop() {
	local p
	for p in "${PING_PIDS[@]}"; do
		alive "$p" && { kill -ALRM "$p" 2>/dev/null || true; }
	done
	for p in "${PING_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PING_PID="" PING_PIDS=()
}

# The ping output parser for ping_account: one awk over all the files (a
# bash loop over tens of thousands of lines takes a minute under TCG).
# Prints "TX n", "RX n", "TAIL n", "NMISS n", "MISS a..b", "LOSS ms n",
# "SLOW n", "FIRST ms gap", "ERR line".
# shellcheck disable=SC2016  # an awk program
_PING_AWK='
function flush(   k, s0) {
	if (!started) return
	print "TX " tx; print "RX " rx; print "SLOW " (slow == "" ? 0 : slow)
	s0 = 0
	for (k = 1; k <= tx + 1; k++) {
		if (k <= tx && !(k in recv)) { if (!s0) s0 = k; continue }
		if (!s0) continue
		if (k > tx && k - s0 <= 3) { print "TAIL " (k - s0); break }
		print "MISS " s0 ".." (k - 1) (k > tx ? " (at the end)" : "")
		print "NMISS " (k - s0)
		if (s0 > 1 && ((s0 - 1) in recv)) print "LOSS " recv[s0 - 1] " " (k - s0)
		s0 = 0
	}
}
FNR == 1 { flush(); delete recv; tx = 0; rx = 0; slow = ""; win0 = 0; winn = 0; prev = 0; started = 1; fileno++ }
/packets transmitted/ { tx = $1; rx = $4; next }
/icmp_seq=/ && !/bytes from/ { print "ERR " $0; next }
/^ping:/ { print "ERR " $0; next }
/bytes from/ && match($0, /icmp_seq=[0-9]+/) {
	seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
	ts = substr($1, 2, length($1) - 2)
	split(ts, p, ".")
	ms = p[1] * 1000 + int(substr(p[2] "000", 1, 3))
	if (!(seq in recv)) recv[seq] = sprintf("%.0f", ms)
	if (fileno == 1 && after != "" && !first && prev > 0 && ms > after + 0 && ms - prev > 1000) {
		first = 1; printf "FIRST %.0f %.0f\n", ms, ms - prev
	}
	prev = ms
	if (win0 == 0) { win0 = ms; winn = 0 }
	else if (ms - win0 >= 10000) { if (slow == "" || int(winn / 10) < slow) slow = int(winn / 10); win0 = ms; winn = 0 }
	winn++
}
END { flush() }'

# shellcheck disable=SC2034  # results for the caller
ping_account() {
	local file=$1 after=${2:-} i=2 k v out
	local -a files=("$file")
	P_TX=0 P_RX=0 P_LOST=0 P_MISSING="" P_ERRS="" P_FIRST_AFTER="" P_GAP="" P_SLOWEST=0
	P_TAIL=0 P_LOSS_TS=() P_LOSS_N=()
	[[ -r $file ]] || return 1
	while [[ -r $file.$i ]]; do files+=("$file.$i"); i=$((i + 1)); done
	out=$(awk -v after="$after" "$_PING_AWK" "${files[@]}") || return 1
	[[ $out == *"TX "* ]] || return 1
	while read -r k v; do
		case $k in
		TX) P_TX=$((P_TX + v)) ;;
		RX) P_RX=$((P_RX + v)) ;;
		SLOW) P_SLOWEST=$((P_SLOWEST + v)) ;;
		TAIL) P_TAIL=$((P_TAIL + v)) ;;
		NMISS) P_LOST=$((P_LOST + v)) ;;
		MISS) P_MISSING+="${P_MISSING:+, }$v" ;;
		LOSS) P_LOSS_TS+=("${v% *}"); P_LOSS_N+=("${v#* }") ;;
		FIRST) P_FIRST_AFTER=${v% *} P_GAP=${v#* } ;;
		ERR) P_ERRS+="${P_ERRS:+ | }$v" ;;
		esac
	done <<<"$out"
	return 0
}

# count_since FILE ERE [FROM] — like count_lines (COUNT), with grep: for
# big logs.
# shellcheck disable=SC2034  # results for the caller
count_since() {
	local from=${3:-0}
	COUNT=$(tail -c +$((from + 1)) "$1" 2>/dev/null | grep -c -E -- "$2") || true
	COUNT=${COUNT:-0}
}

# shellcheck disable=SC2034  # results for the caller
tunnel_stat() {
	local sock=$1 name=$2 json out
	json=$("$CGWCTL" -s "$sock" status --json 2>/dev/null) || return 1
	out=$(jq -r --arg n "$name" '.tunnels[] | select(.name == $n) | [.state, (.reason // ""),
		(.rekeys // "-"), (.ike_rekeys // "-"), (.dead_peers // "-"),
		((.ike_sas // []) | length),
		([(.ike_sas // [])[].children[]?] | length),
		([(.ike_sas // [])[] | "\(.spi_i)/\(.spi_r)[" +
			([.children[]? | "\(.spi_in)/\(.spi_out)"] | join(",")) + "]"] | join(" "))]
		| map(tostring) | join("\u001f")' <<<"$json") || return 1
	[[ -n $out ]] || return 1
	IFS=$'\x1f' read -r TS_STATE TS_REASON TS_REKEYS TS_IKE_REKEYS TS_DEAD TS_NIKE \
		TS_NCHILD TS_SPIS <<<"$out"
}

# shellcheck disable=SC2034  # results for the caller
kcount_mark() {
	local ns=$1 line hex out
	printf -v hex '0x%x' "$2"
	K_MARK_STATES=0
	out=$(ip -n "$ns" -o xfrm state) || return 1
	while IFS= read -r line; do
		[[ $line == *"proto esp"* && $line == *"mark $hex/"* ]] && K_MARK_STATES=$((K_MARK_STATES + 1))
	done <<<"$out"
	return 0
}

nft_blackhole() {
	ip netns exec "$1" nft -f - <<-EOF
	table inet cgwt_bh {
	  chain in {
	    type filter hook input priority -10; policy accept;
	    ip saddr $2 udp dport { 500, 4500 } drop
	    ip saddr $2 ip protocol esp drop
	  }
	  chain out {
	    type filter hook output priority -10; policy accept;
	    ip daddr $2 udp sport { 500, 4500 } drop
	    ip daddr $2 ip protocol esp drop
	  }
	}
	EOF
}
nft_unblackhole() { ip netns exec "$1" nft delete table inet cgwt_bh 2>/dev/null || true; }

nft_works() {
	ip netns exec "$1" nft -f - <<-EOF || return 1
	table inet cgwt_probe {
	  chain c {
	    type filter hook input priority 0; policy accept;
	  }
	}
	EOF
	ip netns exec "$1" nft delete table inet cgwt_probe
}

# xfrm_stat NS — the namespace's /proc/net/xfrm_stat: XS_NOSTATES
# (XfrmInNoStates: ESP for an SPI it has no state for), XS_ACQERR
# (XfrmAcquireError: ESP for an SPI reserved for an SA whose keys are not
# installed yet), XS_NONZERO (every counter that is not 0, one line).
# shellcheck disable=SC2034  # results for the caller
xfrm_stat() {
	local k v out
	XS_NOSTATES=0 XS_ACQERR=0 XS_NONZERO=""
	# (no process substitution: the VM's /dev has no /dev/fd)
	out=$(ip netns exec "$1" cat /proc/net/xfrm_stat) || return 1
	while read -r k v; do
		[[ $k == XfrmInNoStates ]] && XS_NOSTATES=$v
		[[ $k == XfrmAcquireError ]] && XS_ACQERR=$v
		[[ $v != 0 ]] && XS_NONZERO+="${XS_NONZERO:+ }$k=$v"
	done <<<"$out"
	return 0
}
