#!/usr/bin/python3
"""
Seeds for fuzz_netlink, captured from this host's kernel: run as root,
it enters a fresh network namespace (unshare -n), builds a small world
(veth, addresses, routes of several protocols in the main table and in
table 100 as bgp/fib would, XFRM policies and larval states, an ACQUIRE
and an EXPIRE), asks the questions cgwd asks and writes each datagram
the kernel answers as one seed: a selector byte (fuzz_netlink.c's enum
target) then the bytes. Requests carry sequence number 1, as the harness
expects. The host kernel has no ESP or VTI, so the VTI link is the veth
reply with its link info rewritten to kind "vti", said so in its name.

    tests/fuzz/netlink-seeds.py OUTDIR
"""
import os
import socket
import struct
import subprocess
import sys
import time

NETLINK_ROUTE, NETLINK_XFRM = 0, 6
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLM_F_DUMP = 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK, RTM_GETADDR = 16, 18, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_F_FIB_MATCH = 0x2000
XFRM_MSG_DELSA, XFRM_MSG_GETSA, XFRM_MSG_GETPOLICY = 0x11, 0x12, 0x15
XFRM_MSG_ACQUIRE, XFRM_MSG_EXPIRE = 0x17, 0x18
XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE = 1, 2
NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_EXT_ACK, SOL_NETLINK = 1, 10, 11, 270

# fuzz_netlink.c: enum target
(T_XFRM_STATE, T_XFRM_DUMP_SA, T_XFRM_DUMP_SP, T_XFRM_EVENTS, T_FIB_DUMP,
 T_FIB_ERRORS, T_KROUTES_DUMP, T_KROUTES_MATCH, T_VTI_LINK, T_ROUTES_ACK) = range(10)
T_COUNT = 10


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def nlmsg(mtype, flags, payload, seq=1):
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq, 0) + payload


def attr(atype, data):
    a = struct.pack("=HH", 4 + len(data), atype) + data
    return a + b"\0" * (-len(a) % 4)


def rtmsg(family=socket.AF_INET, dst_len=0, table=0, protocol=0, flags=0, rtype=0):
    return struct.pack("=BBBBBBBBI", family, dst_len, 0, 0, table, protocol, 0, rtype, flags)


def open_nl(proto, groups=()):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    s.bind((0, 0))
    s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)     # as cgwd's sockets
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    for g in groups:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
    s.settimeout(2)
    return s


def talk(s, msg):
    """Every datagram up to the ack, the error or NLMSG_DONE."""
    s.send(msg)
    out = []
    while True:
        d = s.recv(65536)
        out.append(d)
        off, end = 0, False
        while off + 16 <= len(d):
            ln, t = struct.unpack_from("=IH", d, off)
            if t in (NLMSG_ERROR, NLMSG_DONE):
                end = True
            off += (ln + 3) & ~3
        if end or not struct.unpack_from("=H", msg, 6)[0] & NLM_F_DUMP:
            return out                  # a dump ends with DONE, else one datagram


class Seeds:
    def __init__(self, outdir):
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)

    def put(self, target, name, data, variant=0):
        path = os.path.join(self.outdir, "%d-%s.bin" % (target, name))
        with open(path, "wb") as f:
            f.write(bytes([target + T_COUNT * variant]) + data)
        print("netlink-seeds: %s (%d bytes)" % (path, len(data)))

    def put_all(self, target, name, datagrams, variant=0):
        for i, d in enumerate(datagrams):
            self.put(target, "%s-%d" % (name, i), d, variant)


def world():
    sh("ip link set lo up")
    sh("ip link add v0 type veth peer name v1")
    sh("ip link set v0 up; ip link set v1 up")
    sh("ip addr add 10.0.0.1/24 dev v0; ip addr add 169.254.10.2/30 dev v1")
    sh("ip route add 10.1.0.0/24 via 10.0.0.2 proto static")
    sh("ip route add 10.2.0.0/16 via 10.0.0.3 proto zebra")
    sh("ip route add 192.168.0.0/16 dev v0 proto boot")
    sh("ip route add 10.9.0.0/24 proto 186 table 100 metric 20 "
       "nexthop via 10.0.0.2 dev v0 nexthop via 10.0.0.3 dev v0")
    sh("ip route add 10.8.0.0/24 proto 186 table 100 metric 20 via 10.0.0.4 dev v0")
    sh("ip route add 10.7.0.0/24 proto 186 metric 20 via 10.0.0.4 dev v0")
    sh("ip xfrm policy add src 10.0.0.0/24 dst 10.1.0.0/24 dir out priority 509664 "
       "mark 0x5 mask 0xffffffff tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 0x7c6e0001 mode tunnel")
    sh("ip xfrm policy add src 10.1.0.0/24 dst 10.0.0.0/24 dir in priority 509664 "
       "tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 0x7c6e0001 mode tunnel")
    sh("ip route add 10.3.0.0/24 via 10.0.0.3")
    sh("ip xfrm policy add src 10.0.0.0/24 dst 10.3.0.0/24 dir out priority 509664 "
       "tmpl src 10.0.0.1 dst 10.0.0.3 proto esp reqid 0x7c6e0002 mode tunnel")
    sh("ip xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir fwd priority 7 "
       "tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel")
    sh("ip xfrm policy add src fd00::/64 dst fd01::/64 dir out priority 9 "
       "tmpl src fd00::1 dst fd01::1 proto esp reqid 5 mode tunnel")
    sh("ip xfrm state allocspi src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel "
       "reqid 0x7c6e0001 mark 0x5 mask 0xffffffff min 0x1000 max 0x2000 >/dev/null")
    sh("ip xfrm state allocspi src fd00::1 dst fd01::1 proto esp mode tunnel "
       "reqid 5 min 0x3000 max 0x4000 >/dev/null")


def xfrm_seeds(out, xev):
    x = open_nl(NETLINK_XFRM)
    sa = talk(x, nlmsg(XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_DUMP, b""))
    out.put_all(T_XFRM_DUMP_SA, "getsa-dump", sa)
    out.put(T_XFRM_STATE, "getsa-reply", sa[0])
    sp = talk(x, nlmsg(XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, b""))
    out.put_all(T_XFRM_DUMP_SP, "getpolicy-dump", sp)
    # xfrm_usersa_id: daddr(16) spi(4) family(2) proto(1) pad(1)
    said = socket.inet_aton("10.0.0.9") + b"\0" * 12 + struct.pack("!I", 0x77) + \
        struct.pack("=HBB", socket.AF_INET, 50, 0)
    err = talk(x, nlmsg(XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_ACK, said))
    out.put_all(T_XFRM_STATE, "getsa-esrch", err)
    out.put(T_XFRM_STATE, "error-extack-derived", with_extack(err[0], "Invalid SA"))
    # an ACQUIRE: a packet the out policy matches, with no state for it
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(b"x", ("10.3.0.5", 9))
    except OSError:
        pass
    deadline = time.time() + 40         # larval states expire after 30 s
    got = set()
    while time.time() < deadline and len(got) < 2:
        try:
            d = xev.recv(65536)
        except socket.timeout:
            continue
        t = struct.unpack_from("=H", d, 4)[0]
        if t in (XFRM_MSG_ACQUIRE, XFRM_MSG_EXPIRE) and t not in got:
            got.add(t)
            out.put(T_XFRM_EVENTS, "acquire" if t == XFRM_MSG_ACQUIRE else "expire", d)
    if len(got) < 2:
        print("netlink-seeds: warning: events seen: %s" % sorted(got), file=sys.stderr)


def vti_from_veth(d):
    """The veth RTM_NEWLINK with IFLA_LINKINFO rewritten to a VTI's."""
    ln = struct.unpack_from("=I", d)[0]
    body, off = d[16:32], 32           # ifinfomsg
    attrs = b""
    while off + 4 <= ln:
        alen, atype = struct.unpack_from("=HH", d, off)
        if alen < 4:
            break
        if atype & 0x3fff != 18:        # IFLA_LINKINFO
            attrs += d[off:off + ((alen + 3) & ~3)]
        off += (alen + 3) & ~3
    data = attr(2, struct.pack("!I", 0x64)) + attr(3, struct.pack("!I", 0x64)) + \
        attr(4, socket.inet_aton("10.0.0.1")) + attr(5, socket.inet_aton("10.0.0.2"))
    info = attr(1, b"vti\0") + attr(2 | 0x8000, data)
    attrs += attr(18 | 0x8000, info)
    return nlmsg(RTM_NEWLINK, 0, body + attrs)


def with_extack(d, text):
    """A capped error reply as a kernel with an error string sends it."""
    ln, t, flags = struct.unpack_from("=IHH", d)
    d = d[:ln] + attr(1, text.encode() + b"\0")     # NLMSGERR_ATTR_MSG
    return struct.pack("=IHH", len(d), t, flags | 0x100 | 0x200) + d[8:]


def route_seeds(out):
    r = open_nl(NETLINK_ROUTE)
    dump = talk(r, nlmsg(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP,
                         rtmsg(table=100) + attr(15, struct.pack("=I", 100))))
    out.put_all(T_FIB_DUMP, "table100-dump", dump)
    main = talk(r, nlmsg(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, rtmsg()))
    out.put_all(T_KROUTES_DUMP, "main-dump", main)
    out.put_all(T_FIB_DUMP, "all-dump", main, variant=1)
    for name, addr, variant in (("10.1.0.0", "present", 0), ("192.168.0.0", "present2", 2),
                                ("172.16.0.0", "absent", 0)):
        m = talk(r, nlmsg(RTM_GETROUTE, NLM_F_REQUEST,
                          rtmsg(dst_len=32, flags=RTM_F_FIB_MATCH) +
                          attr(1, socket.inet_aton(name))))
        out.put_all(T_KROUTES_MATCH, "fibmatch-" + addr, m, variant)
    # a batch as bgp/fib sends it (no ACK): a duplicate and a bad gateway
    batch = b""
    for seq, dst, gw in ((1, "10.9.0.0", "10.0.0.2"), (2, "10.6.0.0", "203.0.113.1")):
        batch += nlmsg(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL,
                       rtmsg(dst_len=24, table=100, protocol=186, rtype=1) + attr(1, socket.inet_aton(dst)) +
                       attr(15, struct.pack("=I", 100)) + attr(6, struct.pack("=I", 20)) +
                       attr(5, socket.inet_aton(gw)), seq)
    r.send(batch)
    errs = b""
    r.settimeout(0.5)
    try:
        while True:
            errs += r.recv(65536)
    except socket.timeout:
        pass
    out.put(T_FIB_ERRORS, "batch-errors", errs)
    out.put(T_FIB_ERRORS, "error-extack-derived", with_extack(errs, "Nexthop has invalid gateway"))
    # daemon/routes: an ack and a refusal
    ok = talk(r, nlmsg(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
                       rtmsg(dst_len=24, protocol=4, rtype=1) + attr(1, socket.inet_aton("10.5.0.0")) +
                       attr(4, struct.pack("=I", socket.if_nametoindex("v0")))))
    out.put_all(T_ROUTES_ACK, "ack", ok)
    bad = talk(r, nlmsg(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK,
                        rtmsg(dst_len=24, protocol=4, rtype=1) + attr(1, socket.inet_aton("10.4.0.0"))))
    out.put_all(T_ROUTES_ACK, "esrch", bad)
    links = talk(r, nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BxHiII", 0, 0, 0, 0, 0)))
    out.put_all(T_VTI_LINK, "link-dump", links)
    v0 = talk(r, nlmsg(RTM_GETLINK, NLM_F_REQUEST, struct.pack("=BxHiII", 0, 0, 0, 0, 0) +
                       attr(3, b"v0\0")))
    out.put(T_VTI_LINK, "link-veth", v0[0])
    out.put(T_VTI_LINK, "link-vti-derived", vti_from_veth(v0[0]))
    addrs = talk(r, nlmsg(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBI", 2, 0, 0, 0, 0)))
    out.put_all(T_VTI_LINK, "addr-dump", addrs)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if os.environ.get("CGW_SEEDS_NETNS") != "1":
        env = dict(os.environ, CGW_SEEDS_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", sys.executable] + sys.argv, env)
    out = Seeds(sys.argv[1])
    xev = open_nl(NETLINK_XFRM, (XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE))
    world()
    route_seeds(out)
    xfrm_seeds(out, xev)


if __name__ == "__main__":
    main()
