#!/usr/bin/env python3
"""cgwd + cgwctl end to end, without privileges: start cgwd on a private
config and socket with a fake systemd notify socket, then check status
(text and JSON), the BGP commands (bgp-routes, bgp reset|refresh, cgwctl bgp
routes|neighbors, metrics) with sessions that stay down (a tunnel's peer
waits for its tunnel; a passive neighbor on loopback only listens), reload
(good, with errors, removing and adding a tunnel), malformed control
requests, and clean shutdown on SIGTERM.

usage: test_daemon.py CGWD CGWCTL
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

CGWD, CGWCTL = sys.argv[1], sys.argv[2]
# As root, cgwd would program XFRM and VTIs and bind UDP 500/4500: give it
# an empty network namespace of its own, so nothing touches the host's
# kernel state and no datagram leaves (no routes there).
WRAP = ["unshare", "--net"] if os.geteuid() == 0 else []
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")


CONF = """[gateway]
control-socket = {sock}
local-address = 203.0.113.10
[bgp]
asn = 65000
router-id = 192.168.2.1
network = 192.168.2.0/24
network-mode = always
[neighbor core]
address = 127.0.0.2
local-address = 127.0.0.1
remote-asn = 65000
passive = yes
[tunnel aws-1]
remote = 198.51.100.1
psk-file = aws-1.psk
inside = 169.254.10.0/30
vti = vti1
mark = 100
bgp-peer-asn = 64512
startup = add
[tunnel aws-2]
remote = 198.51.100.129
psk = Synthetic.inline.secret
inside = 169.254.11.0/30
vti = vti2
mark = 200
bgp-peer-asn = 64512
"""


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def ctl(sock, *args):
    return subprocess.run([CGWCTL, "-s", sock, *args], capture_output=True,
                          text=True, timeout=20)


def request(sock, command, args=None):
    """One raw control request; the parsed reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    req = {"command": command}
    if args is not None:
        req["args"] = args
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def check_bgp(sock):
    """Sessions that cannot come up here, as status, bgp-routes, bgp and
    cgwctl bgp show them."""
    st = json.loads(ctl(sock, "status", "--json").stdout)
    nb = {n["name"]: n for n in st["neighbors"]}
    check([n["name"] for n in st["neighbors"]] == ["aws-1", "aws-2", "core"],
          "status --json: neighbors aws-1, aws-2 (tunnels), core")
    check(all(nb[t]["tunnel"] == t and nb[t]["state"] == "Idle"
              and nb[t]["reason"] == "waiting for the tunnel" for t in ("aws-1", "aws-2")),
          "tunnel peers: Idle, waiting for the tunnel")
    check(nb["aws-1"].get("local_address") == "169.254.10.2"
          and nb["aws-1"]["type"] == "ebgp" and nb["aws-1"]["local_as"] == 65000
          and nb["aws-1"]["hold_time"] == 30 and "port" not in nb["aws-1"]
          and "uptime" not in nb["aws-1"],
          "tunnel peer: local address, eBGP, AS 65000, hold time 30, no uptime")
    c = nb["core"]
    check("tunnel" not in c and c["state"] == "Active" and "reason" not in c
          and c["type"] == "ibgp" and c["address"] == "127.0.0.2",
          "passive neighbor core: no tunnel, Active, iBGP")
    counters = ["prefixes_received", "prefixes_accepted", "prefixes_best",
                "prefixes_stale", "prefixes_advertised", "established_count",
                "messages_in", "messages_out", "updates_in", "updates_out"]
    check(all(n[k] == 0 for n in st["neighbors"] for k in counters),
          "neighbors: prefix and message counters all 0")
    check(nb["aws-1"]["max_prefix_out"] == 100 and nb["aws-1"]["max_prefix_in"] == 5000
          and nb["aws-1"]["max_prefix_out_hit"] is False and c["max_prefix_out"] == 0,
          "max-prefix: tunnel defaults 5000/100, neighbor 0")

    r = request(sock, "bgp-routes")
    check(r["ok"] and r["result"]["routes"] == [], "bgp-routes: no routes")
    check(r["ok"] and r["result"]["local"] ==
          [{"prefix": "192.168.2.0/24", "origin": "network"}],
          "bgp-routes: local 192.168.2.0/24 (network, network-mode always)")
    r = request(sock, "bgp", {"action": "reset", "name": "nosuch"})
    check(r["ok"] is False and "nosuch" in r["error"], "bgp reset of an unknown name: error")
    r = request(sock, "bgp", {"action": "frobnicate", "name": "core"})
    check(r["ok"] is False, "bgp with an unknown action: error")
    r = request(sock, "bgp", {"name": "core"})
    check(r["ok"] is False, "bgp without an action: error")

    r = ctl(sock, "bgp", "routes")
    check(r.returncode == 0 and "Announced: 192.168.2.0/24 (network)" in r.stdout
          and "(none)" in r.stdout, "cgwctl bgp routes: exit 0, no routes, announced")
    r = ctl(sock, "bgp", "routes", "--json")
    check(r.returncode == 0 and json.loads(r.stdout)["routes"] == [],
          "cgwctl bgp routes --json")
    r = ctl(sock, "bgp", "neighbors")
    check(r.returncode == 0 and "BGP neighbor aws-1 (tunnel aws-1)" in r.stdout
          and "Idle (waiting for the tunnel)" in r.stdout
          and "BGP neighbor core\n" in r.stdout, "cgwctl bgp neighbors: exit 0, all three")
    r = ctl(sock, "bgp", "neighbors", "--json")
    check(r.returncode == 0 and [n["name"] for n in json.loads(r.stdout)["neighbors"]]
          == ["aws-1", "aws-2", "core"], "cgwctl bgp neighbors --json")
    r = ctl(sock, "status")
    check("UP/DOWN" in r.stdout and "PFX RCVD" in r.stdout
          and "\n    waiting for the tunnel" in r.stdout,
          "cgwctl status: BGP columns and the reason line")
    r = ctl(sock, "bgp", "reset", "nosuch")
    check(r.returncode == 1 and "no BGP neighbor 'nosuch'" in r.stderr,
          "cgwctl bgp reset nosuch: exit 1 and why")
    r = ctl(sock, "bgp", "refresh", "core")
    check(r.returncode == 1 and "not established" in r.stderr,
          "cgwctl bgp refresh of a session that is down: exit 1")
    r = ctl(sock, "bgp", "reset", "core")
    check(r.returncode == 0 and "core" in r.stdout, "cgwctl bgp reset core: exit 0")
    r = ctl(sock, "bgp", "frob")
    check(r.returncode == 2, "cgwctl bgp frob: usage error")
    r = ctl(sock, "metrics")
    check(r.returncode == 0
          and 'cgw_bgp_state{neighbor="169.254.10.1",tunnel="aws-1"} 1\n' in r.stdout
          and 'cgw_bgp_state{neighbor="127.0.0.2",tunnel=""} 3\n' in r.stdout
          and 'cgw_bgp_session_up{neighbor="127.0.0.2",tunnel=""} 0\n' in r.stdout,
          "cgwctl metrics: cgw_bgp_state 1 (Idle) and 3 (Active)")


def notify_messages(ns):
    msgs = []
    ns.setblocking(False)
    while True:
        try:
            msgs.append(ns.recv(4096).decode())
        except BlockingIOError:
            return msgs


def main():
    tmp = tempfile.mkdtemp(prefix="cgw-daemon-")
    sock = os.path.join(tmp, "run", "cgwd.sock")
    conf = os.path.join(tmp, "cgw.conf")
    write(os.path.join(tmp, "aws-1.psk"), "Synthetic.file.secret\n")
    write(conf, CONF.format(sock=sock))

    notify_path = os.path.join(tmp, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    log = open(os.path.join(tmp, "cgwd.log"), "w+")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    d = subprocess.Popen(WRAP + [CGWD, "-c", conf, "-d", "ctl"], stderr=log, env=env)
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    check(os.path.exists(sock), "control socket created")
    check(os.stat(sock).st_mode & 0o777 == 0o660, "control socket mode 0660")
    time.sleep(0.1)
    check(any("READY=1" in m for m in notify_messages(ns)), "sd_notify READY=1")

    # status, text and JSON
    r = ctl(sock, "status")
    check(r.returncode == 0 and "aws-1" in r.stdout and "aws-2" in r.stdout,
          "cgwctl status lists both tunnels")
    r = ctl(sock, "status", "--json")
    st = json.loads(r.stdout)
    check([t["name"] for t in st["tunnels"]] == ["aws-1", "aws-2"],
          "status --json: tunnels aws-1, aws-2")
    check([t["state"] for t in st["tunnels"]] == ["down", "down"],
          "status --json: tunnels down (no peer here)")
    check([(n["address"], n["remote_as"]) for n in st["neighbors"]] ==
          [("169.254.10.1", 64512), ("169.254.11.1", 64512), ("127.0.0.2", 65000)],
          "status --json: neighbors 169.254.10.1/11.1 AS 64512, 127.0.0.2 AS 65000")
    check(st["asn"] == 65000 and (st["pid"] == d.pid or WRAP), "status --json: asn, pid")
    check("Synthetic" not in r.stdout, "status shows no PSK")
    check_bgp(sock)

    # reload with errors keeps the old config
    write(conf, CONF.format(sock=sock) + "bogus-key = 1\n")
    r = ctl(sock, "reload")
    line = len(CONF.splitlines()) + 1
    check(r.returncode == 1 and f"cgw.conf:{line}: unknown key 'bogus-key' in [tunnel aws-2]"
          in r.stderr, "reload with errors: exit 1 and file:line message")
    st = json.loads(ctl(sock, "status", "--json").stdout)
    check(len(st["tunnels"]) == 2 and st["reloads"] == 0,
          "reload with errors: old config still running")

    # reload: change aws-2's PSK, remove nothing, add aws-3
    text = CONF.format(sock=sock).replace("Synthetic.inline.secret", "Synthetic.changed")
    text += ("[tunnel aws-3]\nremote = 198.51.100.200\npsk-file = aws-1.psk\n"
             "inside = 169.254.12.0/30\nvti = vti3\nmark = 300\n")
    write(conf, text)
    r = ctl(sock, "--json", "reload")
    check(r.returncode == 0, "reload: exit 0")
    res = json.loads(r.stdout)
    check(res.get("unchanged") == ["aws-1"] and res.get("changed") == ["aws-2"]
          and res.get("added") == ["aws-3"] and res.get("removed") == [],
          "reload: aws-1 unchanged, aws-2 changed (PSK), aws-3 added")
    st = json.loads(ctl(sock, "status", "--json").stdout)
    check([t["name"] for t in st["tunnels"]] == ["aws-1", "aws-2", "aws-3"]
          and st["reloads"] == 1, "status after reload shows aws-3")
    msgs = notify_messages(ns)
    check(any("RELOADING=1" in m for m in msgs) and any("READY=1" in m for m in msgs),
          "sd_notify RELOADING=1 then READY=1")

    # SIGHUP reload removing aws-1
    write(conf, text.replace("[tunnel aws-1]", "[tunnel gone]").split("[tunnel gone]")[0]
          + "[tunnel aws-3]" + text.split("[tunnel aws-3]")[1])
    os.kill(d.pid, signal.SIGHUP)
    time.sleep(0.5)
    st = json.loads(ctl(sock, "status", "--json").stdout)
    check([t["name"] for t in st["tunnels"]] == ["aws-3"], "SIGHUP reload removes tunnels")
    check([n["name"] for n in st["neighbors"]] == ["core"],
          "SIGHUP reload: the removed tunnels' BGP peers are gone, core stays")

    # hostile requests on the socket: error replies, daemon stays up
    for payload in [b"not json\n", b"[1,2]\n", b'{"command": 5}\n',
                    b"\x00\xff\xfe\n", b"x" * 70000 + b"\n", b'{"command":"nope"}\n']:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(sock)
        try:
            s.sendall(payload)
            reply = s.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            reply = b""
        s.close()
        ok = reply.startswith(b'{') and json.loads(reply.split(b"\n")[0])["ok"] is False
        check(ok, f"malformed request {payload[:20]!r}: error reply")
    check(d.poll() is None, "cgwd still running after malformed requests")

    # clean shutdown
    d.send_signal(signal.SIGTERM)
    rc = d.wait(timeout=10)
    check(rc == 0, "SIGTERM: exit 0")
    check(not os.path.exists(sock), "SIGTERM: control socket removed")
    check(any("STOPPING=1" in m for m in notify_messages(ns)), "sd_notify STOPPING=1")
    log.seek(0)
    logtext = log.read()
    check("Synthetic" not in logtext, "log holds no PSK")

    # a world-readable PSK file refuses to start, naming the file and the fix
    os.chmod(os.path.join(tmp, "aws-1.psk"), 0o644)
    r = subprocess.run(WRAP + [CGWD, "-c", conf], capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "aws-1.psk is readable by group or others" in r.stderr
          and "chmod 600" in r.stderr, "world-readable PSK file refused at start")

    subprocess.run(["rm", "-rf", tmp])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())
