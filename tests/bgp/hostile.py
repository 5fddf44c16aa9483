#!/usr/bin/python3
"""A scripted, hostile BGP peer for tests/bgp/hostile.sh: raw TCP, Python 3
standard library only. It plays the configured neighbors of a cgwd (all
passive, so this side decides when a connection starts) and sends every
malformed message it has a case for, then checks what cgwd did about it:
the NOTIFICATION it sent (code, subcode, data), or, for the RFC 7606
errors that must not reset the session, that the session stayed
Established, the prefix is (or is not) in cgwd's RIB (the control
socket's bgp-routes, what `cgwctl bgp routes --json` prints) and in the
kernel, `update_errors` went up, and cgwd logged a line naming the error.
After each case the session must still work: a good UPDATE afterwards is
installed (on a new session after a reset). The floods run
`cgwctl bgp neighbors --json` itself while they go on.

    hostile.py cases ENV-FILE [--errors=FILE] [CASE-NAME-SUBSTRING...]
    hostile.py flood ENV-FILE stranger|peer|resets COUNT
    hostile.py refused ADDRESS COUNT

ENV-FILE is written by hostile.sh (KEY=VALUE lines): cgwctl, the control
socket, cgwd's log, pid and namespace, the addresses. Prints one
"PASS name: ..." or "FAIL name: ..." line per check and figures; exit 0
when every check passed, 1 otherwise.
"""
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

MARKER = b'\xff' * 16
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5
OUR_AS = 64512			# every hostile neighbor but the iBGP one
FAILS = 0


LAST_SAY = time.time()


def say(kind, name, text):
    """One result line, with the time since the previous one."""
    global FAILS, LAST_SAY
    if kind == 'FAIL':
        FAILS += 1
    now = time.time()
    print('%s %s: %s [%.2f s]' % (kind, name, text, now - LAST_SAY), flush=True)
    LAST_SAY = now


def load_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition('=')
            if k:
                env[k] = v
    return env


# ---- encoding ----------------------------------------------------------

def msg(mtype, body=b'', length=None, marker=MARKER):
    if length is None:
        length = 19 + len(body)
    return marker + struct.pack('!HB', length, mtype) + body


def attr(flags, code, value):
    if flags & 0x10:
        return struct.pack('!BBH', flags, code, len(value)) + value
    return struct.pack('!BBB', flags, code, len(value)) + value


def seq(asns, width=4):
    fmt = '!I' if width == 4 else '!H'
    return struct.pack('!BB', 2, len(asns)) + b''.join(struct.pack(fmt, a) for a in asns)


def prefix(p):
    addr, plen = p.split('/')
    plen = int(plen)
    return bytes([plen]) + socket.inet_aton(addr)[:(plen + 7) // 8]


def update_body(attrs=b'', nlri=(), withdrawn=()):
    wd = b''.join(prefix(p) for p in withdrawn)
    nl = b''.join(prefix(p) for p in nlri)
    return struct.pack('!H', len(wd)) + wd + struct.pack('!H', len(attrs)) + attrs + nl


def origin(v=0):
    return attr(0x40, 1, bytes([v]))


def as_path(asns=(OUR_AS,), width=4):
    return attr(0x40, 2, seq(asns, width) if asns else b'')


def next_hop(a):
    return attr(0x40, 3, socket.inet_aton(a))


def open_body(asn, hold, rid, caps=None, version=4, params=None, as2=None, raw_len=None):
    """caps: list of (code, value); params: raw optional parameters;
    raw_len: the Opt Parm Len octet instead of their length (RFC 9072: 255)."""
    if params is None:
        if caps is None:
            caps = [(1, struct.pack('!HBB', 1, 0, 1)), (2, b''), (65, struct.pack('!I', asn))]
        params = b''
        for i in range(0, len(caps), 32):	# 32 capabilities per parameter
            cb = b''.join(struct.pack('!BB', c, len(v)) + v for c, v in caps[i:i + 32])
            params += struct.pack('!BB', 2, len(cb)) + cb
    my_as = as2 if as2 is not None else (asn if asn < 65536 else 23456)
    plen = raw_len if raw_len is not None else len(params)
    return struct.pack('!BHH4sB', version, my_as, hold, socket.inet_aton(rid), plen) + params


def hexs(b):
    return b.hex() if b else '(none)'


# ---- decoding what cgwd sends ------------------------------------------

def parse_update(body):
    """(withdrawn, attrs {type: (flags, value)}, nlri) of one UPDATE."""
    wlen = struct.unpack('!H', body[:2])[0]
    wd = body[2:2 + wlen]
    alen = struct.unpack('!H', body[2 + wlen:4 + wlen])[0]
    ab = body[4 + wlen:4 + wlen + alen]
    nl = body[4 + wlen + alen:]
    attrs, i = {}, 0
    while i + 3 <= len(ab):
        flags, code = ab[i], ab[i + 1]
        if flags & 0x10:
            ln = struct.unpack('!H', ab[i + 2:i + 4])[0]
            i += 4
        else:
            ln = ab[i + 2]
            i += 3
        attrs[code] = (flags, ab[i:i + ln])
        i += ln

    def walk(b):
        out, j = [], 0
        while j < len(b):
            pl = b[j]
            raw = b[j + 1:j + 1 + (pl + 7) // 8] + b'\x00' * 4
            out.append('%s/%d' % (socket.inet_ntoa(raw[:4]), pl))
            j += 1 + (pl + 7) // 8
        return out
    return walk(wd), attrs, walk(nl)


class Closed(Exception):
    pass


class Conn:
    """One TCP connection to cgwd as one of its neighbors."""

    def __init__(self, src, dst, name):
        self.name = name
        self.src = src
        self.buf = b''
        self.updates = []		# (withdrawn, attrs, nlri) from cgwd
        self.s = socket.socket()
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.bind((src, 0))
        self.s.settimeout(5)
        self.s.connect((dst, 179))

    def send(self, data):
        self.s.sendall(data)
        self.sent_at = time.time()

    def recv_msg(self, timeout):
        """The next message (type, body); None on timeout; raises Closed."""
        end = time.time() + timeout
        while True:
            if len(self.buf) >= 19:
                ln = struct.unpack('!H', self.buf[16:18])[0]
                if ln >= 19 and len(self.buf) >= ln:
                    m, self.buf = self.buf[:ln], self.buf[ln:]
                    if m[18] == UPDATE:
                        self.updates.append(parse_update(m[19:]))
                    return m[18], m[19:]
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return None
            try:
                d = self.s.recv(65536)
            except OSError as e:
                raise Closed(e.strerror or str(e))
            if not d:
                raise Closed('EOF')
            self.buf += d

    def notification(self, timeout=3.0):
        """Read until a NOTIFICATION: (code, subcode, data) and whether the
        connection was closed after it; None if none came."""
        end = time.time() + timeout
        try:
            while time.time() < end:
                m = self.recv_msg(end - time.time())
                if m is None:
                    return None
                if m[0] == NOTIFICATION:
                    n = (m[1][0], m[1][1], m[1][2:])
                    self.notif_at = time.time()
                    break
            else:
                return None
        except Closed:
            return None
        try:
            while self.recv_msg(max(0.1, end - time.time())) is not None:
                pass
            return n + (False,)
        except Closed:
            return n + (True,)

    def quiet(self, secs):
        """True when cgwd sends no NOTIFICATION and keeps the connection
        for secs (UPDATEs and KEEPALIVEs are fine)."""
        end = time.time() + secs
        try:
            while time.time() < end:
                m = self.recv_msg(end - time.time())
                if m and m[0] == NOTIFICATION:
                    self.late = (m[1][0], m[1][1], m[1][2:])
                    return False
        except Closed:
            self.late = 'closed'
            return False
        return True

    def wait_nlri(self, pfx, secs):
        """True once cgwd has announced pfx on this connection."""
        end = time.time() + secs
        while not any(pfx in nl for _, _, nl in self.updates):
            if time.time() >= end:
                return False
            try:
                self.recv_msg(0.1)
            except Closed:
                return False
        return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# ---- cgwd's side ---------------------------------------------------------

class Cgwd:
    def __init__(self, env):
        self.env = env
        self.log_off = 0

    def call(self, command):
        """One request on cgwd's control socket, the one `cgwctl bgp
        neighbors|routes --json` makes (status, bgp-routes): its result.
        Straight to the socket: a cgwctl process per poll costs 150 ms on a
        loaded machine; hostile.sh checks cgwctl's own output at the end."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        buf = b''
        try:
            s.connect(self.env['SOCK'])
            s.sendall(json.dumps({'command': command}).encode() + b'\n')
            while not buf.endswith(b'\n'):
                d = s.recv(1 << 20)
                if not d:
                    break
                buf += d
            j = json.loads(buf)
        except (OSError, ValueError):
            return {}
        finally:
            s.close()
        return j.get('result') or {} if j.get('ok') else {}

    def neighbor(self, name):
        for n in self.call('status').get('neighbors', []):
            if n.get('name') == name:
                return n
        return {}

    def routes(self):
        return {r['prefix']: r for r in self.call('bgp-routes').get('routes', [])}

    def kroute(self, pfx):
        out = subprocess.run(['ip', '-n', self.env['NS_A'], '-4', 'route', 'show', pfx,
                              'proto', 'bgp'], capture_output=True, text=True).stdout
        return out.strip()

    def kroutes(self):
        """The prefixes of every proto bgp route in cgwd's namespace."""
        out = subprocess.run(['ip', '-n', self.env['NS_A'], '-4', 'route', 'show', 'proto', 'bgp'],
                             capture_output=True, text=True).stdout
        return {line.split(' ')[0] if '/' in line.split(' ')[0] else line.split(' ')[0] + '/32'
                for line in out.splitlines() if line}

    def installed(self, pfx):
        """In cgwd's RIB (best path) and in the kernel."""
        r = self.routes().get(pfx)
        return bool(r and any(p.get('best') for p in r.get('paths', [])) and
                    self.kroute(pfx))

    def absent(self, pfx):
        return pfx not in self.routes() and not self.kroute(pfx)

    def mark_log(self):
        try:
            self.log_off = os.path.getsize(self.env['LOG'])
        except OSError:
            self.log_off = 0

    def log_line(self, *needles):
        """The first line since mark_log() holding every needle."""
        with open(self.env['LOG'], errors='replace') as f:
            f.seek(self.log_off)
            for line in f:
                if all(n in line for n in needles):
                    return line.strip()
        return None

    def alive(self):
        return os.path.exists('/proc/%s' % self.env['PID'])


def wait_until(fn, secs, step=0.05):
    end = time.time() + secs
    while True:
        v = fn()
        if v:
            return v
        if time.time() >= end:
            return v
        time.sleep(step)


# ---- sessions --------------------------------------------------------------

class Neighbor:
    """A neighbor of cgwd's config played by this script."""

    def __init__(self, name, addr, asn, env, cg):
        self.name, self.addr, self.asn = name, addr, asn
        self.env, self.cg = env, cg
        self.conn = None
        self.four = True
        self.ibgp = str(asn) == env['CGW_AS']

    def connect(self):
        return Conn(self.addr, self.env['CGW_ADDR'], self.name)

    def establish(self, four=True, hold=0, rid=None, caps=None, params=None, raw_len=None):
        """A fresh session; returns the Conn or raises RuntimeError."""
        if self.conn:
            self.conn.close()
            self.conn = None
            wait_until(lambda: self.cg.neighbor(self.name).get('state') != 'Established', 5)
        c = self.connect()
        if caps is None and not four:
            caps = [(1, struct.pack('!HBB', 1, 0, 1)), (2, b'')]
        c.send(msg(OPEN, open_body(self.asn, hold, rid or self.addr, caps, params=params,
                                   raw_len=raw_len)))
        m = c.recv_msg(5)
        if not m or m[0] != OPEN:
            raise RuntimeError('%s: no OPEN from cgwd (got %r)' % (self.name, m))
        c.peer_open = m[1]
        c.send(msg(KEEPALIVE))
        m = c.recv_msg(5)
        if not m or m[0] != KEEPALIVE:
            raise RuntimeError('%s: no KEEPALIVE from cgwd (got %r)' % (self.name, m))
        if not wait_until(lambda: self.cg.neighbor(self.name).get('state') == 'Established', 5):
            raise RuntimeError('%s: not Established in cgwctl' % self.name)
        self.conn, self.four = c, four
        return c

    def session(self, four=True):
        """The current session when it is up and of the right kind, else a new one."""
        if self.conn is None or self.four != four or \
                self.cg.neighbor(self.name).get('state') != 'Established':
            self.establish(four=four)
        return self.conn

    def good(self, pfx):
        width = 4 if self.four else 2
        path = () if self.ibgp else (self.asn,)
        return msg(UPDATE, update_body(origin() + as_path(path, width) +
                                       next_hop(self.addr), [pfx]))

    def withdraw(self, pfx):
        return msg(UPDATE, update_body(withdrawn=[pfx]))

    def drop(self):
        if self.conn:
            self.conn.close()
            self.conn = None


# ---- the cases --------------------------------------------------------------
#
# UPDATE cases: (name, session, path attributes, expect), sent announcing
# the case's own prefix. session: 'e4' eBGP 4-octet, 'e2' eBGP 2-octet (no
# AS4 capability), 'i' iBGP. The addresses ME and CGW in the attributes are
# replaced by the neighbor's and cgwd's. expect:
#   ('taw', subcode, log-needle)     treat-as-withdraw: the prefix, announced
#                                    well first, is withdrawn; session stays
#   ('disc', log-needle, check)      attribute discard: the prefix installed
#   ('ok', None, check)              used as sent, no error counted
#   ('reset', code, subcode, data)   NOTIFICATION (data None: not checked)
# check: None or ('path', 'AS path string') / ('no_local_pref',) /
# ('observer', flags or None): what the observer neighbor (export = all)
# receives with it, attribute 99 with these flags or neither 98 nor 99.

ME = '192.0.2.254'		# replaced by the neighbor's address
CGW = '192.0.2.253'		# replaced by cgwd's address

P4 = seq([OUR_AS])
ORG, ASP, NH = origin(), as_path(), next_hop(ME)
ASP2 = as_path((OUR_AS,), 2)


def mp_reach4(nh_addr, pfxs, nh_len=None):
    nhb = socket.inet_aton(nh_addr)
    if nh_len is not None:
        nhb = (nhb + b'\x00' * 8)[:nh_len]
    v = struct.pack('!HBB', 1, 1, len(nhb)) + nhb + b'\x00' + b''.join(prefix(p) for p in pfxs)
    return attr(0x80, 14, v)


UPDATE_CASES = [
    # RFC 7606 7.1 ORIGIN
    ('ORIGIN length 2', 'e4', attr(0x40, 1, b'\x00\x00') + ASP + NH, ('taw', 5, 'ORIGIN: length 2')),
    ('ORIGIN value 3', 'e4', origin(3) + ASP + NH, ('taw', 6, 'ORIGIN: undefined value 3')),
    # 7.2 AS_PATH
    ('AS_PATH segment overrun', 'e4', ORG + attr(0x40, 2, struct.pack('!BBI', 2, 2, OUR_AS)) + NH,
     ('taw', 11, 'segment overruns')),
    ('AS_PATH zero-length segment', 'e4', ORG + attr(0x40, 2, P4 + b'\x02\x00') + NH,
     ('taw', 11, 'empty segment')),
    ('AS_PATH segment type 7', 'e4', ORG + attr(0x40, 2, struct.pack('!BBI', 7, 1, OUR_AS)) + NH,
     ('taw', 11, 'unknown segment type')),
    ('AS_PATH confederation segment', 'e4',
     ORG + attr(0x40, 2, struct.pack('!BBI', 3, 1, OUR_AS)) + NH, ('taw', 11, 'confederation')),
    ('AS_PATH first AS not the peer\'s (eBGP)', 'e4', ORG + as_path((65099,)) + NH,
     ('taw', 11, 'first AS 65099')),
    ('AS_PATH empty from an eBGP peer', 'e4', ORG + as_path(()) + NH, ('taw', 11, 'first AS')),
    ('AS_PATH starting with an AS_SET (eBGP)', 'e4',
     ORG + attr(0x40, 2, struct.pack('!BBI', 1, 1, OUR_AS)) + NH, ('taw', 11, 'first AS')),
    ('AS_PATH 4-octet ASes on a 2-octet session', 'e2', ORG + ASP + NH, ('taw', 11, 'AS_PATH')),
    # 7.3 NEXT_HOP
    ('NEXT_HOP length 5', 'e4', ORG + ASP + attr(0x40, 3, b'\x0a\x63\x00\x01\x00'),
     ('taw', 5, 'NEXT_HOP: length 5')),
    ('NEXT_HOP 0.0.0.0', 'e4', ORG + ASP + next_hop('0.0.0.0'), ('taw', 8, 'NEXT_HOP: 0.0.0.0')),
    ('NEXT_HOP 127.0.0.1', 'e4', ORG + ASP + next_hop('127.0.0.1'), ('taw', 8, 'NEXT_HOP: 127.0.0.1')),
    ('NEXT_HOP multicast 224.0.0.5', 'e4', ORG + ASP + next_hop('224.0.0.5'),
     ('taw', 8, 'NEXT_HOP: 224.0.0.5')),
    ('NEXT_HOP 255.255.255.255', 'e4', ORG + ASP + next_hop('255.255.255.255'),
     ('taw', 8, 'NEXT_HOP: 255.255.255.255')),
    ('NEXT_HOP our own address', 'e4', ORG + ASP + next_hop(CGW), ('taw', 8, 'our own address')),
    # 7.4 MED, 7.5 LOCAL_PREF, 7.6 ATOMIC_AGGREGATE, 7.7 AGGREGATOR
    ('MED length 3', 'e4', ORG + ASP + NH + attr(0x80, 4, b'\x00\x00\x01'),
     ('taw', 5, 'MULTI_EXIT_DISC: length 3')),
    ('LOCAL_PREF from an eBGP peer: ignored', 'e4', ORG + ASP + NH + attr(0x40, 5, b'\x00\x00\x03\xe7'),
     ('disc', 'LOCAL_PREF: from an external peer', ('no_local_pref',))),
    ('LOCAL_PREF length 3 (iBGP)', 'i', ORG + as_path(()) + NH + attr(0x40, 5, b'\x00\x00\x64'),
     ('taw', 5, 'LOCAL_PREF: length 3')),
    ('ATOMIC_AGGREGATE length 1', 'e4', ORG + ASP + NH + attr(0x40, 6, b'\x00'),
     ('disc', 'ATOMIC_AGGREGATE: length 1', None)),
    ('AGGREGATOR length 6 (4-octet session)', 'e4',
     ORG + ASP + NH + attr(0xc0, 7, struct.pack('!H4s', OUR_AS, socket.inet_aton('10.0.0.1'))),
     ('disc', 'AGGREGATOR: length 6', None)),
    ('AGGREGATOR length 8 (2-octet session)', 'e2',
     ORG + ASP2 + NH + attr(0xc0, 7, struct.pack('!I4s', OUR_AS, socket.inet_aton('10.0.0.1'))),
     ('disc', 'AGGREGATOR: length 8', None)),
    # 7.8 COMMUNITIES, 7.9 ORIGINATOR_ID, 7.10 CLUSTER_LIST
    ('COMMUNITIES length 5', 'e4', ORG + ASP + NH + attr(0xc0, 8, b'\xfc\x00\x00\x64\x00'),
     ('taw', 9, 'COMMUNITIES: length 5')),
    ('COMMUNITIES length 0', 'e4', ORG + ASP + NH + attr(0xc0, 8, b''),
     ('taw', 9, 'COMMUNITIES: length 0')),
    ('ORIGINATOR_ID from an eBGP peer', 'e4', ORG + ASP + NH + attr(0x80, 9, b'\x0a\x00\x00\x01'),
     ('disc', 'ORIGINATOR_ID: from an external peer', None)),
    ('ORIGINATOR_ID length 3 (iBGP)', 'i', ORG + as_path(()) + NH + attr(0x80, 9, b'\x0a\x00\x00'),
     ('taw', 5, 'ORIGINATOR_ID: bad length 3')),
    ('CLUSTER_LIST length 3 (iBGP)', 'i', ORG + as_path(()) + NH + attr(0x80, 10, b'\x0a\x00\x00'),
     ('taw', 5, 'CLUSTER_LIST: bad length 3')),
    ('CLUSTER_LIST from an eBGP peer', 'e4', ORG + ASP + NH + attr(0x80, 10, b'\x0a\x00\x00\x01'),
     ('disc', 'CLUSTER_LIST: from an external peer', None)),
    # 7.11, 7.12 MP_REACH_NLRI / MP_UNREACH_NLRI
    ('MP_REACH truncated', 'e4', attr(0x80, 14, b'\x00\x01\x01') + ORG + ASP + NH,
     ('reset', 3, 9, attr(0x80, 14, b'\x00\x01\x01'))),
    ('MP_UNREACH truncated', 'e4', ORG + ASP + NH + attr(0x80, 15, b'\x00\x01'),
     ('reset', 3, 9, attr(0x80, 15, b'\x00\x01'))),
    ('MP_REACH IPv4 next-hop length 5', 'e4', ORG + ASP + mp_reach4(ME, ['172.30.0.0/24'], 5),
     ('reset', 3, 9, None)),
    ('MP_REACH unknown AFI/SAFI 25/65, next-hop length 3: skipped', 'e4',
     ORG + ASP + NH + attr(0x80, 14, struct.pack('!HBB', 25, 65, 3) + b'\x01\x02\x03\x00\x08\x0a'),
     ('disc', 'AFI 25 SAFI 65 not supported', None)),
    ('MP_REACH IPv6 unicast, not negotiated: skipped', 'e4', ORG + ASP + NH +
     attr(0x80, 14, struct.pack('!HBB', 2, 1, 16) + socket.inet_pton(socket.AF_INET6, '2001:db8::1') +
          b'\x00' + b'\x30\x20\x01\x0d\xb8\x00\x01'), ('ok', None, None)),
    ('MP_REACH twice', 'e4', mp_reach4(ME, []) + ORG + ASP + mp_reach4(ME, []),
     ('reset', 3, 1, b'')),
    ('MP_REACH flagged well-known', 'e4', attr(0x40, 14, struct.pack('!HBB', 1, 1, 4) +
                                                 socket.inet_aton('10.99.0.1') + b'\x00') + ORG + ASP + NH,
     ('reset', 3, 4, None)),
    # RFC 6793: AS4_PATH, AS4_AGGREGATOR
    ('AS4_PATH malformed (2-octet session)', 'e2',
     ORG + ASP2 + NH + attr(0xc0, 17, struct.pack('!BBI', 2, 2, 4200000001)),
     ('disc', 'AS4_PATH: segment overruns', ('path', str(OUR_AS)))),
    ('AS4_PATH length 0 is an empty path (2-octet session)', 'e2',
     ORG + ASP2 + NH + attr(0xc0, 17, b''), ('ok', None, ('path', str(OUR_AS)))),
    ('AS4_AGGREGATOR length 7', 'e2', ORG + ASP2 + NH +
     attr(0xc0, 7, struct.pack('!H4s', 23456, socket.inet_aton('10.0.0.1'))) +
     attr(0xc0, 18, b'\xfa\x56\xea\x01\x0a\x00\x00'), ('disc', 'AS4_AGGREGATOR: length 7', None)),
    ('AS4_PATH from a 4-octet peer', 'e4', ORG + ASP + NH + attr(0xc0, 17, seq([4200000001])),
     ('disc', 'AS4_PATH: from a 4-octet AS peer', ('path', str(OUR_AS)))),
    ('AS4_PATH merged (2-octet session)', 'e2',
     ORG + as_path((OUR_AS, 23456), 2) + NH + attr(0xc0, 17, seq([4200000001])),
     ('ok', None, ('path', '%d 4200000001' % OUR_AS))),
    # 3.d missing well-known mandatory attributes
    ('missing ORIGIN', 'e4', ASP + NH, ('taw', 3, 'missing well-known attribute ORIGIN')),
    ('missing AS_PATH', 'e4', ORG + NH, ('taw', 3, 'missing well-known attribute AS_PATH')),
    ('missing NEXT_HOP', 'e4', ORG + ASP, ('taw', 3, 'missing well-known attribute NEXT_HOP')),
    ('no attributes at all, NLRI', 'e4', b'', ('taw', 3, 'missing well-known attribute')),
    # 3.g duplicates
    ('ORIGIN twice: the first counts', 'e4', ORG + ASP + NH + origin(2),
     ('disc', 'ORIGIN: repeated', None)),
    ('COMMUNITIES twice', 'e4', ORG + ASP + NH + attr(0xc0, 8, b'\xfc\x00\x00\x01') +
     attr(0xc0, 8, b'\xfc\x00\x00\x02'), ('disc', 'COMMUNITIES: repeated', None)),
    # 3.c attribute flags
    ('ORIGIN flagged optional', 'e4', attr(0xc0, 1, b'\x00') + ASP + NH,
     ('taw', 4, 'ORIGIN: flags 0xc0')),
    ('AS_PATH flagged non-transitive', 'e4', ORG + attr(0x00, 2, P4) + NH,
     ('taw', 4, 'AS_PATH: flags 0x00')),
    ('NEXT_HOP flagged optional', 'e4', ORG + ASP + attr(0xc0, 3, b'\x0a\x63\x00\x01'),
     ('taw', 4, 'NEXT_HOP: flags 0xc0')),
    ('MED flagged well-known', 'e4', ORG + ASP + NH + attr(0x40, 4, b'\x00\x00\x00\x01'),
     ('taw', 4, 'MULTI_EXIT_DISC: flags 0x40')),
    ('COMMUNITIES flagged non-transitive', 'e4', ORG + ASP + NH + attr(0x80, 8, b'\xfc\x00\x00\x01'),
     ('taw', 4, 'COMMUNITIES: flags 0x80')),
    # RFC 4271 5, 6.3, 9: attributes cgwd does not know
    ('unknown well-known attribute 99', 'e4', ORG + ASP + NH + attr(0x40, 99, b'\x01\x02\x03'),
     ('reset', 3, 2, attr(0x40, 99, b'\x01\x02\x03'))),
    ('unknown optional transitive 99: kept, passed on with Partial', 'e4',
     ORG + ASP + NH + attr(0xc0, 99, b'\x01\x02\x03'), ('ok', None, ('observer', 0xe0))),
    ('unknown optional non-transitive 98: dropped', 'e4',
     ORG + ASP + NH + attr(0x80, 98, b'\x01\x02\x03'), ('ok', None, ('observer', None))),
    # 4: lengths
    ('attribute length overruns the attribute field', 'e4',
     ORG + ASP + NH + b'\xc0\x08\x08\xfc\x00\x00\x64', ('taw', 5, 'overruns the path attributes')),
    ('extended-length header cut', 'e4', ORG + ASP + NH + b'\x50\x02\x00',
     ('taw', 5, 'overruns the path attributes')),
]

# Whole UPDATE bodies the layout of which is broken: (name, body, expect)
RAW_UPDATE_CASES = [
    ('withdrawn routes length beyond the message', b'\x00\x05\x18\x0a\x00\x00',
     ('reset', 3, 1, b'')),
    ('total attribute length beyond the message', b'\x00\x00\x00\x30' + ORG,
     ('reset', 3, 1, b'')),
    ('NLRI prefix length 33', update_body(ORG + ASP + NH) + b'\x21\xac\x1f\x00\x00\x01',
     ('reset', 3, 10, b'')),
    ('NLRI prefix overruns the message', update_body(ORG + ASP + NH) + b'\x18\xac\x1f',
     ('reset', 3, 10, b'')),
    ('withdrawn prefix length 40', b'\x00\x06\x28\xac\x1f\x00\x00\x00\x00\x00',
     ('reset', 3, 10, b'')),
]


class Runner:
    def __init__(self, env):
        self.env = env
        self.cg = Cgwd(env)
        self.nb = {}
        for k, v in env.items():
            if k.startswith('NB_'):		# NB_h1=10.99.0.1,64512
                addr, asn = v.split(',')
                self.nb[k[3:]] = Neighbor(k[3:], addr, int(asn), env, self.cg)
        self.ebgp = sorted(n for n in self.nb if n.startswith('h'))
        self.rr = 0
        self.pfx_i = 0
        self.want_errors = {}	# update errors each neighbor's cases made

    def next_prefix(self):
        self.pfx_i += 1
        return '172.%d.%d.0/24' % (16 + self.pfx_i // 250, self.pfx_i % 250)

    def pick(self, sess):
        """The neighbor for a case: iBGP, or the next eBGP one in turn (each
        has its own budget of rate-limited error log lines)."""
        if sess == 'i':
            return self.nb['ib']
        n = self.nb[self.ebgp[self.rr % len(self.ebgp)]]
        self.rr += 1
        return n

    def est_count(self, n):
        return self.cg.neighbor(n.name).get('established_count', -1)

    # A good UPDATE for a fresh prefix, installed: the session works.
    def still_works(self, name, n):
        """A good UPDATE for a fresh prefix is installed (on a new session if
        need be): 'then PREFIX installed', or None after a FAIL line."""
        try:
            c = n.session(n.four)
            p = self.next_prefix()
            c.send(n.good(p))
            if wait_until(lambda: self.cg.installed(p), 5):
                return 'then %s installed' % p
            say('FAIL', name, 'the good UPDATE afterwards (%s) was not installed: %s' %
                (p, self.cg.neighbor(n.name)))
        except (RuntimeError, OSError, Closed) as e:
            say('FAIL', name, 'the session did not work afterwards: %s' % e)
        return None

    def update_case(self, name, sess, attrs, expect, body=None):
        n = self.pick(sess)
        try:
            c = n.session(sess != 'e2')
        except (RuntimeError, OSError, Closed) as e:
            say('FAIL', name, 'no session: %s' % e)
            return
        pfx = self.next_prefix()
        # announced well first, so that treat-as-withdraw has something to withdraw
        c.send(n.good(pfx))
        if not wait_until(lambda: self.cg.installed(pfx), 5):
            say('FAIL', name, 'the good announcement of %s was not installed' % pfx)
            return
        st = self.cg.neighbor(n.name)
        errs0, est0 = st.get('update_errors'), st.get('established_count')
        self.cg.mark_log()
        if body is None:
            body = update_body(subst(attrs, n.addr, self.env['CGW_ADDR']), [pfx])
        c.send(msg(UPDATE, body))
        kind = expect[0]
        if kind == 'reset':
            self.expect_reset(name, n, c, expect[1], expect[2], expect[3], pfx)
            return
        # a good UPDATE right behind it: once installed, the case's is processed
        sync = self.next_prefix()
        c.send(n.good(sync))
        synced = wait_until(lambda: self.cg.installed(sync), 5)
        st = self.cg.neighbor(n.name)
        if not synced or not c.quiet(0.05) or st.get('state') != 'Established' or \
                st.get('established_count') != est0:
            say('FAIL', name, 'session not kept (the next UPDATE installed: %s, NOTIFICATION '
                '%r): %s' % (bool(synced), getattr(c, 'late', None), st))
            n.drop()
            return
        errs = st.get('update_errors')
        self.want_errors[n.name] = self.want_errors.get(n.name, 0) + (kind != 'ok')
        then = 'then %s installed' % sync
        if kind == 'taw':
            gone = wait_until(lambda: self.cg.absent(pfx), 2)
            line = wait_until(lambda: self.cg.log_line(n.name, 'treat-as-withdraw', expect[2]), 2)
            if gone and errs == errs0 + 1 and line:
                say('PASS', name, 'treat-as-withdraw: %s withdrawn, session kept, update_errors '
                    '%d -> %d, log "%s"; %s' % (pfx, errs0, errs, strip_log(line), then))
            else:
                say('FAIL', name, 'want treat-as-withdraw (%s): %s absent %s, update_errors '
                    '%s -> %s, log line %r, last_error %r' %
                    (expect[2], pfx, bool(gone), errs0, errs, line, st.get('last_error')))
            return
        # disc / ok: the prefix stays, with what the check says
        present = self.cg.installed(pfx)
        want_errs = errs0 + (1 if kind == 'disc' else 0)
        line = 'no error counted' if kind == 'ok' else \
            wait_until(lambda: self.cg.log_line(n.name, expect[1]), 2)
        checked = self.check(pfx, expect[2])
        if present and errs == want_errs and line and checked:
            checked = checked.strip()
            say('PASS', name, '%s: %s installed, session kept, update_errors %d -> %d, %s%s; %s' %
                ('attribute discard' if kind == 'disc' else 'accepted', pfx, errs0, errs,
                 'log "%s"' % strip_log(line) if kind == 'disc' else line, checked, then))
        else:
            say('FAIL', name, 'want %s: %s installed %s, update_errors %s -> %s (want %s), '
                'log %r, check %r' % (kind, pfx, bool(present), errs0, errs, want_errs, line,
                                      checked))

    def check(self, pfx, chk):
        if chk is None:
            return ' '
        if chk[0] == 'path':
            r = self.cg.routes().get(pfx, {})
            paths = [p.get('as_path') for p in r.get('paths', [])]
            return ', AS path "%s"' % paths[0] if paths == [chk[1]] else None
        if chk[0] == 'no_local_pref':
            r = self.cg.routes().get(pfx, {})
            lp = [p.get('local_pref') for p in r.get('paths', [])]
            return ', no LOCAL_PREF kept' if lp == [None] else None
        if chk[0] == 'observer':
            return self.observe(pfx, chk[1])
        return None

    def observe(self, pfx, flags):
        """What the observer (export = all) received last for pfx: the
        unknown attribute 99 with flags, or (flags None) no 98 nor 99."""
        c = self.nb['obs'].conn
        if c is None:
            return None

        def last():
            got = None
            for wd, attrs, nlri in c.updates:
                if pfx in nlri:
                    got = attrs
                elif pfx in wd:
                    got = None
            return got

        def seen():
            try:
                c.recv_msg(0.05)
            except Closed:
                return 'closed'
            a = last()
            if a is None:
                return None
            if flags is None:
                return 'kept' if 98 not in a and 99 not in a else 'leaked'
            return 'kept' if a.get(99, (0,))[0] == flags else None
        if wait_until(seen, 5, 0) != 'kept':
            return None
        if flags is None:
            return ', the observer (export = all) got it without attribute 98'
        return ', the observer (export = all) got attribute 99 with flags 0x%02x (Partial)' % flags

    def expect_reset(self, name, n, c, code, sub, data, pfx=None):
        got = c.notification()
        n.drop()
        if got is None:
            say('FAIL', name, 'no NOTIFICATION from cgwd (want %d/%d)' % (code, sub))
            return False
        gc, gs, gd, closed = got
        ok = gc == code and gs == sub and (data is None or gd == data) and closed
        gone = True
        if pfx:
            gone = wait_until(lambda: self.cg.absent(pfx), 3)
        line = wait_until(lambda: self.cg.log_line(n.name, 'session reset'), 2)
        if ok and gone and line and self.cg.alive():
            then = self.still_works(name, n)
            if then:
                say('PASS', name, 'NOTIFICATION %d/%d data %s, connection closed%s, log "%s"; %s'
                    % (gc, gs, hexs(gd), ', its routes withdrawn' if pfx else '',
                       strip_log(line), then))
            return bool(then)
        say('FAIL', name, 'got NOTIFICATION %d/%d data %s closed %s (want %d/%d data %s), '
            'routes gone %s, log %r' % (gc, gs, hexs(gd), closed, code, sub,
                                        'any' if data is None else hexs(data), bool(gone), line))
        return False

    # ---- header cases: on an established session --------------------------
    def header_case(self, name, raw, code, sub, data):
        n = self.pick('e4')
        try:
            c = n.session()
        except (RuntimeError, OSError, Closed) as e:
            say('FAIL', name, 'no session: %s' % e)
            return
        pfx = self.next_prefix()
        c.send(n.good(pfx))
        wait_until(lambda: self.cg.installed(pfx), 5)
        self.cg.mark_log()
        c.send(raw)
        self.expect_reset(name, n, c, code, sub, data, pfx)

    # ---- OPEN cases: on a new connection ---------------------------------
    def open_case(self, name, nbname, first, code, sub, data):
        n = self.pick('e4') if nbname == 'e' else self.nb[nbname]
        n.drop()
        wait_until(lambda: self.cg.neighbor(n.name).get('state') != 'Established', 5)
        self.cg.mark_log()
        try:
            c = n.connect()
            c.send(first)
        except (OSError, Closed) as e:
            say('FAIL', name, 'connection: %s' % e)
            return
        self.expect_reset(name, n, c, code, sub, data)


def subst(b, me, cgw):
    """Put the neighbor's and cgwd's addresses where the table has markers."""
    return b.replace(socket.inet_aton(ME), socket.inet_aton(me)) \
        .replace(socket.inet_aton(CGW), socket.inet_aton(cgw))


def strip_log(line):
    # "cgwd: h1: UPDATE treat-as-withdraw: ..." -> the part after the program name
    return line.split(': ', 1)[1] if line.startswith('cgwd') else line


# ----------------------------------------------------------------------------

def run_cases(env, only, errors_file):
    r = Runner(env)
    t0 = time.time()

    def want(name):
        return not only or any(o.lower() in name.lower() for o in only)

    try:
        r.nb['obs'].establish()		# sees what cgwd passes on (export = all)
    except (RuntimeError, OSError, Closed) as e:
        say('FAIL', 'observer', 'no session: %s' % e)

    for name, sess, attrs, expect in UPDATE_CASES:
        if want(name):
            r.update_case('UPDATE ' + name, sess, attrs, expect)
    for name, body, expect in RAW_UPDATE_CASES:
        if want(name):
            r.update_case('UPDATE ' + name, 'e4', None, expect, body=body)

    # ---- message header ----
    hdr = [
        ('bad marker', msg(KEEPALIVE, marker=b'\xff' * 15 + b'\xfe'), 1, 1, b''),
        ('length 18', msg(KEEPALIVE, length=18), 1, 2, b'\x00\x12'),
        ('length 5000 (oversized)', msg(UPDATE, b'\x00' * 200, length=5000), 1, 2, b'\x13\x88'),
        ('length 4097', msg(UPDATE, b'\x00' * 100, length=4097), 1, 2, b'\x10\x01'),
        ('unknown type 9', msg(9, b'\x00\x00'), 1, 3, b'\x09'),
        ('KEEPALIVE with a body', msg(KEEPALIVE, b'\x00'), 1, 2, b'\x00\x14'),
        ('UPDATE length 22', msg(UPDATE, b'\x00\x00\x00'), 1, 2, b'\x00\x16'),
        ('ROUTE-REFRESH length 24', msg(ROUTE_REFRESH, b'\x00\x01\x00\x01\x00'), 1, 2, b'\x00\x18'),
        ('ROUTE-REFRESH length 22', msg(ROUTE_REFRESH, b'\x00\x01\x00'), 1, 2, b'\x00\x16'),
        ('OPEN while Established', msg(OPEN, open_body(OUR_AS, 0, '10.99.0.1')), 5, 3, b''),
    ]
    for name, raw, code, sub, data in hdr:
        if want(name):
            r.header_case('header ' + name, raw, code, sub, data)

    if want('1-byte'):
        one_byte_writes(r)
    if want('one segment') or want('one write'):
        many_in_one(r)
    if want('4096'):
        max_size(r)
    if want('NOTIFICATION from the peer'):
        peer_notification(r)
    if want('ROUTE-REFRESH'):
        route_refresh(r)

    # ---- OPEN ----
    rid = '10.99.0.1'
    opens = [
        ('OPEN version 3', 'e', msg(OPEN, open_body(OUR_AS, 90, rid, version=3)), 2, 1, b'\x00\x04'),
        ('OPEN version 5', 'e', msg(OPEN, open_body(OUR_AS, 90, rid, version=5)), 2, 1, b'\x00\x04'),
        ('OPEN wrong peer AS 65099', 'e', msg(OPEN, open_body(65099, 90, rid)), 2, 2, b''),
        ('OPEN AS 0', 'e', msg(OPEN, open_body(0, 90, rid, caps=[])), 2, 2, None),
        ('OPEN 4-octet AS capability disagrees', 'e',
         msg(OPEN, open_body(OUR_AS, 90, rid, caps=[(65, struct.pack('!I', 4200000001))])),
         2, 2, None),
        ('OPEN hold time 1', 'e', msg(OPEN, open_body(OUR_AS, 1, rid)), 2, 6, b''),
        ('OPEN hold time 2', 'e', msg(OPEN, open_body(OUR_AS, 2, rid)), 2, 6, b''),
        ('OPEN BGP identifier 0.0.0.0', 'e', msg(OPEN, open_body(OUR_AS, 90, '0.0.0.0')), 2, 3, b''),
        ('OPEN BGP identifier equal to ours (iBGP)', 'ib',
         msg(OPEN, open_body(int(env['CGW_AS']), 90, env['CGW_ID'])), 2, 3, b''),
        ('OPEN optional parameter length overrun', 'e',
         msg(OPEN, open_body(OUR_AS, 90, rid, params=b'\x02\x0a\x02\x00')), 2, 0, None),
        ('OPEN optional parameters length beyond the message', 'e',
         msg(OPEN, struct.pack('!BHH4sB', 4, OUR_AS, 90, socket.inet_aton(rid), 40) + b'\x02\x02\x02\x00'),
         2, 0, None),
        ('OPEN capability overruns its parameter', 'e',
         msg(OPEN, open_body(OUR_AS, 90, rid, params=b'\x02\x04\x41\x04\x00\x00')), 2, 0, None),
        ('OPEN unsupported optional parameter type 1', 'e',
         msg(OPEN, open_body(OUR_AS, 90, rid, params=b'\x01\x02\x00\x00')), 2, 4, None),
        ('OPEN malformed 4-octet AS capability (length 2)', 'e',
         msg(OPEN, open_body(OUR_AS, 90, rid, caps=[(65, b'\xfc\x00')])), 2, 0, None),
        ('UPDATE before OPEN', 'e', msg(UPDATE, update_body()), 5, 1, b''),
        ('KEEPALIVE before OPEN', 'e', msg(KEEPALIVE), 5, 1, b''),
        ('OPEN twice', 'e', msg(OPEN, open_body(OUR_AS, 90, rid)) * 2, 5, 2, b''),
    ]
    for name, nbname, first, code, sub, data in opens:
        if want(name):
            r.open_case(name, nbname, first, code, sub, data)

    if want('unknown capability'):
        open_accepted(r, 'OPEN with an unknown capability 200 (RFC 5492: ignored)', 'h2',
                      caps=[(1, struct.pack('!HBB', 1, 0, 1)), (200, b'\x01\x02\x03'),
                            (65, struct.pack('!I', OUR_AS))])
    if want('60 unknown capabilities'):
        open_accepted(r, 'OPEN with 60 unknown capabilities in 2 parameters (RFC 5492: ignored)',
                      'h2', caps=[(1, struct.pack('!HBB', 1, 0, 1)), (65, struct.pack('!I', OUR_AS))] +
                      [(128 + i, bytes([i])) for i in range(60)])
    if want('RFC 9072'):
        caps = b''.join(struct.pack('!BB', c, len(v)) + v for c, v in
                        [(1, struct.pack('!HBB', 1, 0, 1)), (65, struct.pack('!I', OUR_AS)),
                         (200, b'\x00' * 200), (201, b'\x01' * 100)])
        ext = struct.pack('!BH', 2, len(caps)) + caps		# type, 2-octet length
        open_accepted(r, 'OPEN with RFC 9072 extended optional parameters (%d bytes)' % len(ext),
                      'h2', params=b'\xff' + struct.pack('!H', len(ext)) + ext, raw_len=255)
    if want('equal to ours (eBGP)'):
        open_accepted(r, 'OPEN BGP identifier equal to ours from an eBGP peer (RFC 6286: allowed)',
                      'h2', rid=env['CGW_ID'])
    if want('hold time 3'):
        hold_three(r)

    for n in r.nb.values():
        n.drop()
    if errors_file:
        with open(errors_file, 'w') as f:
            json.dump(r.want_errors, f)
    print('cases done in %.1f s' % (time.time() - t0), flush=True)


def open_accepted(r, name, nbname, caps=None, rid=None, params=None, raw_len=None):
    n = r.nb[nbname]
    try:
        n.establish(caps=caps, rid=rid, params=params, raw_len=raw_len)
    except (RuntimeError, OSError, Closed) as e:
        say('FAIL', name, 'not established: %s; %s' % (e, r.cg.neighbor(nbname).get('last_error')))
        n.drop()
        return
    then = r.still_works(name, n)
    if then:
        say('PASS', name, 'Established (established_count %d); %s' % (r.est_count(n), then))


def one_byte_writes(r):
    name = 'stream: KEEPALIVE and UPDATE in 1-byte writes'
    n = r.nb['h1']
    c = n.session()
    pfx = r.next_prefix()
    data = msg(KEEPALIVE) + n.good(pfx)
    t0 = time.time()
    for i in range(len(data)):
        c.send(data[i:i + 1])
        time.sleep(0.002)
    ok = wait_until(lambda: r.cg.installed(pfx), 5)
    if ok and c.quiet(0.2):
        say('PASS', name, '%d segments of 1 byte in %.2f s, %s installed' %
            (len(data), time.time() - t0, pfx))
    else:
        say('FAIL', name, '%s installed %s, session %s' % (pfx, bool(ok), r.cg.neighbor('h1')))


def count_in(routes, pfxs):
    return sum(1 for p in pfxs if p in routes)


def many_in_one(r):
    """Many UPDATEs in one TCP segment (29 of 47 bytes: under the 1448-byte
    MSS), then 300 in one write; all installed, then all withdrawn."""
    n = r.nb['h1']
    c = n.session()
    for name, cnt, base in [('29 UPDATEs in one segment', 29, 90),
                            ('300 UPDATEs in one write', 300, 100)]:
        pfxs = ['10.%d.%d.0/24' % (base + i // 250, i % 250) for i in range(cnt)]
        data = b''.join(n.good(p) for p in pfxs)
        c.send(data)
        ok = wait_until(lambda: count_in(r.cg.routes(), pfxs) == cnt, 8)
        wait_until(lambda: count_in(r.cg.kroutes(), pfxs) == cnt, 5)
        nk = count_in(r.cg.kroutes(), pfxs)
        if ok and nk == cnt and c.quiet(0.1):
            say('PASS', 'stream: ' + name, '%d bytes in one send(): all %d prefixes in the RIB '
                'and the kernel' % (len(data), cnt))
        else:
            say('FAIL', 'stream: ' + name, 'RIB has them all: %s, kernel %d/%d' %
                (bool(ok), nk, cnt))
        c.send(b''.join(n.withdraw(p) for p in pfxs))
        if not wait_until(lambda: count_in(r.cg.routes(), pfxs) == 0, 8):
            say('FAIL', 'stream: ' + name, 'not all withdrawn')


def max_size(r):
    """One UPDATE of exactly BGP's maximum, 4096 bytes, and its withdrawal."""
    n = r.nb['h1']
    c = n.session()
    attrs = origin() + as_path((n.asn,)) + next_hop(n.addr)
    room = 4096 - 19 - 4 - len(attrs)
    cnt, rem = room // 4, room % 4
    fill = {0: [], 2: ['11.0.0.0/8'], 3: ['11.1.0.0/16'], 1: ['11.0.0.0/8', '11.1.0.0/16']}[rem]
    if rem == 1:
        cnt -= 1
    pfxs = ['10.%d.%d.0/24' % (200 + i // 250, i % 250) for i in range(cnt)] + fill
    m = msg(UPDATE, update_body(attrs, pfxs))
    name = 'UPDATE of exactly 4096 bytes (%d prefixes)' % len(pfxs)
    c.send(m)
    ok = wait_until(lambda: count_in(r.cg.routes(), pfxs) == len(pfxs), 8)
    wait_until(lambda: count_in(r.cg.kroutes(), pfxs) == len(pfxs), 5)
    nk = count_in(r.cg.kroutes(), pfxs)
    if len(m) == 4096 and ok and nk == len(pfxs) and c.quiet(0.1):
        say('PASS', name, 'all %d prefixes in the RIB and the kernel' % len(pfxs))
    else:
        say('FAIL', name, 'a %d-byte UPDATE: %d of %d prefixes in the RIB, %d in the kernel' %
            (len(m), count_in(r.cg.routes(), pfxs), len(pfxs), nk))
    wd = msg(UPDATE, update_body(withdrawn=pfxs))
    c.send(wd)
    if wait_until(lambda: count_in(r.cg.routes(), pfxs) == 0 and
                  count_in(r.cg.kroutes(), pfxs) == 0, 8):
        say('PASS', 'UPDATE withdrawing them in one %d-byte message' % len(wd),
            'all %d gone from the RIB and the kernel' % len(pfxs))
    else:
        say('FAIL', 'UPDATE withdrawing them in one message', 'some left')


def peer_notification(r):
    for name, body, needle in [
        ('NOTIFICATION from the peer: Cease/Administrative Shutdown with text',
         b'\x06\x02' + bytes([24]) + b'hostile test: going away', 'going away'),
        ('NOTIFICATION from the peer: shutdown text length beyond its data, control bytes',
         b'\x06\x02\xc8\x01\x1b[2J\x00', 'Cease/Administrative Shutdown'),
        ('NOTIFICATION from the peer: unknown code 99', b'\x63\x07\x00\x01', 'unknown error code'),
    ]:
        n = r.pick('e4')
        c = n.session()
        pfx = r.next_prefix()
        c.send(n.good(pfx))
        wait_until(lambda: r.cg.installed(pfx), 5)
        r.cg.mark_log()
        c.send(msg(NOTIFICATION, body))
        try:
            while c.recv_msg(2) is not None:
                pass
            closed = False
        except Closed:
            closed = True
        n.drop()
        gone = wait_until(lambda: r.cg.absent(pfx), 3)
        st = wait_until(lambda: r.cg.neighbor(n.name).get('state') != 'Established' and
                        r.cg.neighbor(n.name), 3) or {}
        line = wait_until(lambda: r.cg.log_line(n.name, 'closed by the peer'), 2)
        if closed and gone and line and needle in (st.get('last_error') or '') and \
                '\x1b' not in line and r.cg.alive():
            then = r.still_works(name, n)
            if then:
                say('PASS', name, 'cgwd closed, %s withdrawn, last_error "%s", log "%s"; %s' %
                    (pfx, st.get('last_error'), strip_log(line), then))
        else:
            say('FAIL', name, 'closed %s, %s gone %s, last_error %r, log %r' %
                (closed, pfx, bool(gone), st.get('last_error'), line))


def route_refresh(r):
    n = r.nb['h1']
    c = n.session()
    lan = r.env['CGW_NET']
    if not c.wait_nlri(lan, 5):
        say('FAIL', 'ROUTE-REFRESH', 'cgwd never announced %s' % lan)
        return
    for name, body, resend in [
        ('ROUTE-REFRESH for an AFI not negotiated (99/1): ignored', struct.pack('!HBB', 99, 0, 1), False),
        ('ROUTE-REFRESH for IPv6 unicast, not negotiated: ignored', struct.pack('!HBB', 2, 0, 1), False),
        ('ROUTE-REFRESH subtype 3 (RFC 7313: ignored)', struct.pack('!HBB', 1, 3, 1), False),
        ('ROUTE-REFRESH for IPv4 unicast: cgwd sends its routes again', struct.pack('!HBB', 1, 0, 1), True),
    ]:
        c.updates.clear()
        c.send(msg(ROUTE_REFRESH, body))
        ok = c.quiet(1.0)
        got = any(lan in nl for _, _, nl in c.updates)
        if ok and got == resend:
            say('PASS', name, 'session kept, %s %s' % (lan, 'sent again' if got else 'not sent again'))
        else:
            say('FAIL', name, 'session kept %s, %s sent again: %s' % (ok, lan, got))


def hold_three(r):
    name = 'OPEN hold time 3: accepted, then the hold timer when the peer goes silent'
    n = r.nb['h3']
    try:
        c = n.establish(hold=3)
    except (RuntimeError, OSError, Closed) as e:
        say('FAIL', name, 'not established: %s' % e)
        return
    ht = r.cg.neighbor('h3').get('hold_time')
    got = c.notification(8)
    dt = getattr(c, 'notif_at', time.time()) - c.sent_at	# since our last message
    n.drop()
    if ht == 3 and got and got[:2] == (4, 0) and 2.9 <= dt <= 5.0:
        say('PASS', name, 'negotiated hold %s s; Hold Timer Expired (4/0) %.1f s after our last '
            'message' % (ht, dt))
    else:
        say('FAIL', name, 'hold %s, NOTIFICATION %r after %.1f s' % (ht, got, dt))


# ---- floods ------------------------------------------------------------------

def fd_count(pid):
    try:
        return len(os.listdir('/proc/%s/fd' % pid))
    except OSError:
        return -1


def rss_kb(pid):
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS'):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def flood(env, who, count):
    """count connections to cgwd's listening address, 64 open at a time,
    each sending an OPEN: from a stranger's address (cgwd must close each
    at once, unanswered) or from the address of a peer, h2, whose session
    is established (each is closed: Cease/Connection Collision Resolution
    once its OPEN is read, or replaced by the next one). Meanwhile h1's
    session stays Established with its route, and cgwctl answers."""
    r = Runner(env)
    cg, pid = r.cg, env['PID']
    h1, h2 = r.nb['h1'], r.nb['h2']
    try:
        c = h1.establish()
        if who == 'peer':
            h2.establish()
    except (RuntimeError, OSError, Closed) as e:
        say('FAIL', 'flood', 'no session to watch: %s' % e)
        return
    pfx = r.next_prefix()
    c.send(h1.good(pfx))
    if not wait_until(lambda: cg.installed(pfx), 5):
        say('FAIL', 'flood', '%s not installed before the flood' % pfx)
    est0 = {n: cg.neighbor(n).get('established_count') for n in ('h1', 'h2')}
    fd0, rss0 = fd_count(pid), rss_kb(pid)
    src = env['STRANGER'] if who == 'stranger' else h2.addr
    dst = (env['CGW_ADDR'], 179)
    hello = msg(OPEN, open_body(OUR_AS, 90, src))
    live = {}			# fd -> [socket, start time, OPEN sent]
    answers = {}		# (code, subcode) of NOTIFICATIONs received
    started = done = closed = refused_n = late = talked = 0
    worst, worst_conn, fd_max, broke = 0.0, 0.0, fd0, None
    poller = select.poll()
    probe = Probe(env, 'h1')
    probe.start()
    t0 = last_probe = time.time()
    while done < count and not broke:
        while started < count and len(live) < 64:
            s = socket.socket()
            s.setblocking(False)
            s.bind((src, 0))
            try:
                s.connect(dst)
            except BlockingIOError:
                pass
            live[s.fileno()] = [s, time.time(), False, None]
            poller.register(s.fileno(), select.POLLIN | select.POLLOUT)
            started += 1
        for fd, ev in poller.poll(200):
            s, ts, sent, tc = live[fd]
            end = False
            if ev & select.POLLOUT and not sent:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    refused_n += 1
                    end = True
                else:
                    live[fd][2] = True
                    live[fd][3] = time.time()
                    try:
                        s.send(hello)
                    except OSError:
                        pass
                    poller.modify(fd, select.POLLIN)
                    continue
            if not end:
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b''
                if d:
                    # a peer's connection: cgwd's OPEN, maybe its NOTIFICATION; read to EOF
                    if who == 'stranger':
                        talked += 1
                    key = notif_of(d)
                    if key:
                        answers[key] = answers.get(key, 0) + 1
                    continue
                closed += 1
            worst = max(worst, time.time() - ts)
            if tc:
                worst_conn = max(worst_conn, time.time() - tc)
            poller.unregister(fd)
            s.close()
            del live[fd]
            done += 1
        now = time.time()
        for fd in [f for f, v in live.items() if now - v[1] > 5]:
            poller.unregister(fd)
            live.pop(fd)[0].close()
            late += 1
            done += 1
        if now - last_probe > 0.05:
            last_probe = now
            fd_max = max(fd_max, fd_count(pid))
            broke = probe.broke
    dt = time.time() - t0
    probe.stop = True
    probe.join()
    ctl_ms = probe.ms
    broke = broke or probe.broke
    for v in live.values():
        v[0].close()
    time.sleep(0.5)
    fd1, rss1 = fd_count(pid), rss_kb(pid)
    st = {n: cg.neighbor(n) for n in ('h1', 'h2')}
    kept = [n for n in (['h1', 'h2'] if who == 'peer' else ['h1'])
            if st[n].get('state') == 'Established' and
            st[n].get('established_count') == est0[n]]
    name = 'flood of %d connections from %s %s' % (
        count, 'a stranger,' if who == 'stranger' else 'the established peer h2\'s address', src)
    text = ('%.0f connections/s (%.1f s): %d closed by cgwd, %d refused, %d still open after 5 s, '
            '%d answered; closed at most %.0f ms after the handshake (%.0f ms after the SYN); '
            'cgwd fds %d before, %d at most, %d after; RSS %d -> %d kB; cgwctl bgp neighbors '
            'answered in %.0f ms at most (%d runs during the flood)' %
            (count / dt, dt, closed, refused_n, late, talked, worst_conn * 1000, worst * 1000,
             fd0, fd_max, fd1, rss0, rss1, max(ctl_ms or [0]), len(ctl_ms)))
    if who == 'peer':
        text += '; NOTIFICATIONs: %s' % (', '.join('%d/%d x%d' % (k[0], k[1], v)
                                                  for k, v in sorted(answers.items())) or 'none')
    ok = not broke and closed == count and late == 0 and talked == 0 and fd1 <= fd0 + 2 and \
        fd_max <= fd0 + 16 and rss1 - rss0 < 4096 and len(kept) == (2 if who == 'peer' else 1) \
        and cg.installed(pfx) and cg.alive()
    if who == 'peer':
        ok = ok and set(answers) <= {(6, 7)} and answers.get((6, 7), 0) > 0
    text += '; %s still Established (not re-established), %s %s' % (
        ' and '.join(kept) or 'no session', pfx,
        'installed' if cg.installed(pfx) else 'NOT installed')
    say('PASS' if ok else 'FAIL', name, text + ('; ' + broke if broke else ''))
    for n in r.nb.values():
        n.drop()


class Probe(threading.Thread):
    """`cgwctl bgp neighbors --json` run over and over beside a flood (in
    its own thread, so the flood does not wait for it): how long each
    took, and whether the neighbor ever left Established."""

    def __init__(self, env, name):
        super().__init__(daemon=True)
        self.env, self.name = env, name
        self.ms, self.broke, self.stop = [], None, False

    def run(self):
        while not self.stop:
            a = time.time()
            st = cgwctl_neighbor(self.env, self.name)
            self.ms.append((time.time() - a) * 1000)
            if st.get('state') != 'Established':
                self.broke = '%s not Established in cgwctl during the flood: %s' % (self.name, st)
            time.sleep(0.05)


def cgwctl_neighbor(env, name):
    """The neighbor as `cgwctl bgp neighbors --json` prints it ({} if it cannot)."""
    try:
        out = subprocess.run([env['CGWCTL'], '-s', env['SOCK'], 'bgp', 'neighbors', '--json'],
                             capture_output=True, timeout=10).stdout
        return next((n for n in json.loads(out)['neighbors'] if n.get('name') == name), {})
    except (ValueError, KeyError, subprocess.TimeoutExpired):
        return {}


def reset_flood(env, count):
    """count connections from the address of the observer, whose session
    is established (and whose log budget is untouched so far), one after the
    other, each with an OPEN from the wrong AS: each must get OPEN Message
    Error/Bad Peer AS, the session stays."""
    r = Runner(env)
    nb = r.nb['obs']
    try:
        nb.establish()
    except (RuntimeError, OSError, Closed) as e:
        say('FAIL', 'reset flood', 'no session: %s' % e)
        return
    est0 = r.cg.neighbor(nb.name).get('established_count')
    bad = msg(OPEN, open_body(65099, 90, nb.addr))
    got = {}
    t0 = time.time()
    for _ in range(count):
        c = nb.connect()
        c.send(bad)
        n = c.notification(3)
        c.close()
        key = n[:2] if n else None
        got[key] = got.get(key, 0) + 1
    dt = time.time() - t0
    st = r.cg.neighbor(nb.name)
    ok = got.get((2, 2), 0) == count and st.get('state') == 'Established' and \
        st.get('established_count') == est0 and 'AS 65099' in (st.get('last_error') or '')
    name = '%d OPENs from the wrong AS on new connections from %s\'s address %s' % (
        count, nb.name, nb.addr)
    answers = ', '.join('%s x%d' % ('%d/%d' % k if k else 'none', v) for k, v in got.items())
    say('PASS' if ok else 'FAIL', name, '%.0f/s (%.1f s): NOTIFICATIONs %s; its session %s '
        '(established_count %s -> %s), last_error "%s"' %
        (count / dt, dt, answers, st.get('state'), est0, st.get('established_count'),
         st.get('last_error')))
    nb.drop()


def notif_of(d):
    """(code, subcode) of the first NOTIFICATION in d, if any."""
    i = 0
    while i + 19 <= len(d):
        ln = struct.unpack('!H', d[i + 16:i + 18])[0]
        if ln < 19:
            break
        if d[i + 18] == NOTIFICATION and i + 21 <= len(d):
            return (d[i + 19], d[i + 20])
        i += ln
    return None


def refused(addr, count):
    """count connects to addr:179 from outside the tunnel: each must be refused (RST)."""
    t0 = time.time()
    n_ref = n_acc = n_to = 0
    for _ in range(count):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((addr, 179))
            n_acc += 1
        except ConnectionRefusedError:
            n_ref += 1
        except (socket.timeout, OSError):
            n_to += 1
        s.close()
    dt = time.time() - t0
    name = '%d connections to %s port 179 from outside the tunnel' % (count, addr)
    text = '%d refused (RST), %d accepted, %d timed out; %.0f attempts/s' % (
        n_ref, n_acc, n_to, count / dt)
    say('PASS' if n_ref == count else 'FAIL', name, text)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmd = sys.argv[1]
    if cmd == 'refused':
        refused(sys.argv[2], int(sys.argv[3]))
    else:
        env = load_env(sys.argv[2])
        if cmd == 'cases':
            only = [a for a in sys.argv[3:] if not a.startswith('--errors=')]
            errf = [a[9:] for a in sys.argv[3:] if a.startswith('--errors=')]
            run_cases(env, only, errf[0] if errf else None)
        elif cmd == 'flood' and sys.argv[3] == 'resets':
            reset_flood(env, int(sys.argv[4]))
        elif cmd == 'flood':
            flood(env, sys.argv[3], int(sys.argv[4]))
        else:
            print(__doc__)
            sys.exit(2)
    sys.exit(1 if FAILS else 0)


if __name__ == '__main__':
    main()
