#!/usr/bin/env python3
"""cgwd + cgwctl end to end, without privileges: start cgwd on a private
config and socket with a fake systemd notify socket, then check status
(text and JSON), reload (good, with errors, removing and adding a tunnel),
malformed control requests, and clean shutdown on SIGTERM.

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
          [("169.254.10.1", 64512), ("169.254.11.1", 64512)],
          "status --json: neighbors 169.254.10.1/11.1 AS 64512")
    check(st["asn"] == 65000 and (st["pid"] == d.pid or WRAP), "status --json: asn, pid")
    check("Synthetic" not in r.stdout, "status shows no PSK")

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
