#!/bin/bash
# test-privdrop.sh CGWD [CGWCTL] — cgwd started as root keeps only
# CAP_NET_ADMIN and CAP_NET_BIND_SERVICE once its sockets are bound, with
# no_new_privs set and the process not dumpable.
#
# Runs cgwd inside `unshare -n` (a fresh network namespace: loopback only)
# so nothing touches the host's XFRM, links or routes. The tunnel uses
# startup = add (wait for the peer): nothing is sent. Without ip_vti in the
# kernel the tunnel stays down, which does not matter here.
#
# Exit 77 (skip) when not root or when network namespaces are unavailable.
set -u

CGWD=${1:?usage: test-privdrop.sh CGWD [CGWCTL]}
CGWCTL=${2:-}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [[ -s ${work:-/nonexistent}/cgwd.log ]] && sed 's/^/  cgwd: /' "$work/cgwd.log"; exit 1; }

[[ $(id -u) == 0 ]] || skip "needs root (starts cgwd as root in a network namespace)"
command -v unshare >/dev/null || skip "unshare (util-linux) not found"
unshare -n true 2>/dev/null || skip "cannot create a network namespace here"

work=$(mktemp -d /tmp/cgw-privdrop.XXXXXX)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

umask 077
cat >"$work/cgw.conf" <<CONF
[gateway]
control-socket = $work/cgwd.sock
local-address = 127.0.0.1

[tunnel t1]
remote = 192.0.2.1
psk = Synthetic.privdrop.test.key
inside = 169.254.30.0/30
vti = vti31
mark = 0x31
startup = add
CONF

# Bring lo up so UDP 500/4500 bind to 127.0.0.1 works; exec keeps the pid.
unshare -n -- bash -c 'ip link set lo up 2>/dev/null; exec "$@"' cgwd \
	"$CGWD" -c "$work/cgw.conf" >"$work/cgwd.log" 2>&1 &
pid=$!

# Ready once the control socket exists (it is bound before privdrop runs,
# so also wait for privdrop's log line).
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || fail "cgwd exited early"
	[[ -S $work/cgwd.sock ]] && grep -q 'privdrop:' "$work/cgwd.log" && break
	sleep 0.1
done
[[ -S $work/cgwd.sock ]] || fail "no control socket after 10 s"
grep -q 'privdrop:' "$work/cgwd.log" || fail "cgwd logged no privdrop line (privdrop_keep_net_admin not called?)"
sleep 0.2

status=/proc/$pid/status
field() { awk -v k="$1:" '$1 == k { print $2 }' "$status"; }
want=$(printf '%016x' $(( (1 << 12) | (1 << 10) )))	# NET_ADMIN | NET_BIND_SERVICE
echo "cgwd pid $pid, uid $(field Uid)"
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' "$status" | sed 's/^/  /'
grep 'privdrop:' "$work/cgwd.log" | sed 's/^/  log: /'

errors=0
check() {	# check NAME GOT WANT
	if [[ $2 == "$3" ]]; then
		echo "ok   $1 = $2"
	else
		echo "FAIL $1 = $2, want $3"
		errors=$((errors + 1))
	fi
}
check CapEff "$(field CapEff)" "$want"
check CapPrm "$(field CapPrm)" "$want"
check CapBnd "$(field CapBnd)" "$want"
check CapInh "$(field CapInh)" 0000000000000000
check CapAmb "$(field CapAmb)" 0000000000000000
check NoNewPrivs "$(field NoNewPrivs)" 1
# PR_SET_DUMPABLE=0 has no /proc field a root observer can tell apart
# (root may ptrace anyway): privdrop's log line says it.
grep -q 'not dumpable' "$work/cgwd.log" && echo "ok   not dumpable (logged)" ||
	{ echo "FAIL no 'not dumpable' in the log"; errors=$((errors + 1)); }
if command -v capsh >/dev/null; then
	echo "     CapEff decoded: $(capsh --decode="$(field CapEff)" | sed 's/.*=//')"
fi

# The daemon still works with the reduced set: status over the socket.
if [[ -n $CGWCTL ]]; then
	if out=$("$CGWCTL" -s "$work/cgwd.sock" status 2>&1); then
		echo "ok   cgwctl status answers"
	else
		echo "FAIL cgwctl status: $out"
		errors=$((errors + 1))
	fi
fi

kill "$pid"
wait "$pid"
rc=$?
pid=
check "exit status on SIGTERM" "$rc" 0
if ((errors)); then
	sed 's/^/  cgwd: /' "$work/cgwd.log"
	echo "privdrop: FAIL"
	exit 1
fi
echo "privdrop: PASS"
