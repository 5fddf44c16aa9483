#!/usr/bin/python3
"""ike-peer.py -- a scripted IKEv2 initiator (RFC 7296) that attacks cgwd.

A real, minimal initiator: IKE_SA_INIT (x25519, AES-CBC-256,
HMAC-SHA2-256-128, PRF HMAC-SHA2-256) and IKE_AUTH with a PSK (IDi, AUTH,
an ESP SA, TSi/TSr 0.0.0.0/0), cgwd's AUTH verified. It then sends crafted
messages, plaintext and protected with the real keys, and checks each
against cgwd's real answer (or silence, RFC 7296 2.21), cgwd's log line,
and that the IKE SA still works: a DPD with the next message ID is
answered, `cgwctl status --json` shows the tunnel up with the same SPIs,
cgwd still runs. One PASS:/FAIL: line per case, then a summary; exit 0
only if every case passed.

Ordering instead of sleeping: cgwd reads its port-500 socket in order, so
the DPD sent right after a hostile datagram is a barrier: whatever cgwd
sent before the DPD's answer is its answer to the hostile datagram.

Usage (run in the peer's namespace, as root for port 500):
  ike-peer.py --local 192.0.2.2 --remote 203.0.113.10 --psk-file F
              --cgwd-pid PID --cgwd-log FILE --cgwctl PATH --sock SOCK
              --tunnel NAME
  ike-peer.py --write-corpus DIR     the hostile messages as fuzz seeds
"""

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time

import cryptography
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import serialization

# ---------------------------------------------------------------- constants

EXCH_SA_INIT, EXCH_AUTH, EXCH_CREATE_CHILD, EXCH_INFO = 34, 35, 36, 37
FLAG_I, FLAG_V, FLAG_R = 0x08, 0x10, 0x20
PL_NONE, PL_SA, PL_KE, PL_IDI, PL_IDR = 0, 33, 34, 35, 36
PL_AUTH, PL_NONCE, PL_N, PL_D, PL_V = 39, 40, 41, 42, 43
PL_TSI, PL_TSR, PL_SK = 44, 45, 46
PL_UNKNOWN = 200            # unassigned payload type
CRITICAL = 0x80

N_UNSUPPORTED_CRITICAL = 1
N_INVALID_MAJOR_VERSION = 5
N_INVALID_SYNTAX = 7
N_NO_PROPOSAL_CHOSEN = 14
N_INVALID_KE_PAYLOAD = 17
N_AUTHENTICATION_FAILED = 24
N_INITIAL_CONTACT = 16384
N_REKEY_SA = 16393
N_NAMES = {1: "UNSUPPORTED_CRITICAL_PAYLOAD", 4: "INVALID_IKE_SPI",
           5: "INVALID_MAJOR_VERSION", 7: "INVALID_SYNTAX",
           9: "INVALID_MESSAGE_ID", 14: "NO_PROPOSAL_CHOSEN",
           17: "INVALID_KE_PAYLOAD", 24: "AUTHENTICATION_FAILED",
           35: "NO_ADDITIONAL_SAS", 16390: "COOKIE"}

PROTO_IKE, PROTO_ESP = 1, 3
T_ENCR, T_PRF, T_INTEG, T_DH, T_ESN = 1, 2, 3, 4, 5
ENCR_3DES, ENCR_AES_CBC, ENCR_AES_GCM16 = 3, 12, 20
PRF_HMAC_SHA256, INTEG_HMAC_MD5_96, INTEG_SHA256_128 = 5, 1, 12
DH_MODP2048, DH_X25519 = 14, 31
ATTR_KEYLEN = 0x800e
ID_IPV4 = 1
AUTH_PSK = 2
TS_IPV4 = 7

BLOCK, ICV = 16, 16
UNAUTH_LOG_INTERVAL = 10.0      # ike/ike-internal.h IKE_UNAUTH_LOG_INTERVAL
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)     # Linux; not in 3.11's module
HDR = struct.Struct("!QQBBBBII")        # RFC 7296 3.1, 28 bytes

# ---------------------------------------------------------------- encoding


def prf(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def prf_plus(key, seed, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = prf(key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:length]


def chain(payloads):
    """[(type, body) or (type, body, flags)] -> (first type, bytes)."""
    out = b""
    for i, p in enumerate(payloads):
        body = p[1]
        flags = p[2] if len(p) > 2 else 0
        nxt = payloads[i + 1][0] if i + 1 < len(payloads) else PL_NONE
        out += struct.pack("!BBH", nxt, flags, 4 + len(body)) + body
    return (payloads[0][0] if payloads else PL_NONE), out


def header(spi_i, spi_r, nxt, exch, flags, msgid, length, version=0x20):
    return HDR.pack(spi_i, spi_r, nxt, version, exch, flags, msgid, length)


def transform(ttype, tid, last, keylen=None):
    attrs = struct.pack("!HH", ATTR_KEYLEN, keylen) if keylen else b""
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs),
                       ttype, 0, tid) + attrs


def sa_payload(protocol, spi, xforms, num=1):
    body = b"".join(transform(t, i, n == len(xforms) - 1, k)
                    for n, (t, i, k) in enumerate(xforms))
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(spi) + len(body), num,
                       protocol, len(spi), len(xforms)) + spi + body
    return prop


IKE_XFORMS = [(T_ENCR, ENCR_AES_CBC, 256), (T_PRF, PRF_HMAC_SHA256, None),
              (T_INTEG, INTEG_SHA256_128, None), (T_DH, DH_X25519, None)]
ESP_XFORMS = [(T_ENCR, ENCR_AES_GCM16, 256), (T_ESN, 0, None)]
BAD_ESP_XFORMS = [(T_ENCR, ENCR_3DES, None), (T_INTEG, INTEG_HMAC_MD5_96, None),
                  (T_ESN, 0, None)]


def notify(ntype, data=b"", protocol=0, spi=b""):
    return (PL_N, struct.pack("!BBH", protocol, len(spi), ntype) + spi + data)


def ts_all():
    sel = struct.pack("!BBHHH", TS_IPV4, 0, 16, 0, 65535) + bytes(4) + b"\xff" * 4
    return struct.pack("!B3x", 1) + sel


def parse_chain(first, data):
    """Tolerant walk of a payload chain: [(type, flags, body)]."""
    out, t, off = [], first, 0
    while t != PL_NONE and off + 4 <= len(data):
        nxt, flags, ln = struct.unpack_from("!BBH", data, off)
        if ln < 4 or off + ln > len(data):
            raise ValueError("payload %d: bad length %d" % (t, ln))
        out.append((t, flags, data[off + 4:off + ln]))
        if t == PL_SK:
            break
        t, off = nxt, off + ln
    return out


def notifies(pls):
    """[(type, data)] of the Notify payloads."""
    res = []
    for t, _, b in pls:
        if t == PL_N and len(b) >= 4:
            spi_size = b[1]
            res.append((struct.unpack_from("!H", b, 2)[0], b[4 + spi_size:]))
    return res


def nname(n):
    return N_NAMES.get(n, str(n))


class Msg:
    """A datagram from cgwd: header fields, clear payloads, opened SK."""

    def __init__(self, data, port):
        self.raw, self.port = data, port
        self.ok = len(data) >= HDR.size
        if not self.ok:
            return
        (self.spi_i, self.spi_r, self.next, self.version, self.exch,
         self.flags, self.msgid, self.length) = HDR.unpack_from(data)
        self.response = bool(self.flags & FLAG_R)
        self.pls = parse_chain(self.next, data[HDR.size:])
        self.inner = None           # opened SK payloads

    def describe(self):
        if not self.ok:
            return "%d-byte datagram" % len(self.raw)
        pls = self.inner if self.inner is not None else self.pls
        names = []
        for t, _, b in pls:
            if t == PL_N:
                names.append("N(%s)" % nname(struct.unpack_from("!H", b, 2)[0]))
            else:
                names.append(str(t))
        return "exch %d #%d %s [%s]%s" % (
            self.exch, self.msgid, "response" if self.response else "request",
            " ".join(names), " (SK opened)" if self.inner is not None else "")


# ---------------------------------------------------------------- the peer


class Peer:
    def __init__(self, a):
        self.a = a
        self.local, self.remote = a.local, a.remote
        with open(a.psk_file, "rb") as f:
            self.psk = f.read().strip()
        self.s500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:        # the log-flood case's answers: lose none on our side
            self.s500.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        except OSError:
            pass
        self.s500.bind((self.local, 500))
        self.s4500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s4500.bind((self.local, 4500))
        self.spi_i = self.spi_r = 0
        self.msgid = 0              # our next request
        self.cgwd_msgid = 0         # cgwd's next request to us
        self.sk = None
        self.esp_spi_in = os.urandom(4)     # ours: cgwd's outbound SPI
        self.log_off = 0
        self.npass = self.nfail = 0
        self.results = []

    # -------------------------------------------------------- wire

    def send(self, data, port=500, sock=None):
        (sock or self.s500).sendto(data, (self.remote, port))

    def recv(self, timeout):
        """One datagram (Msg) from cgwd, or None after timeout seconds."""
        r, _, _ = select.select([self.s500, self.s4500], [], [], max(timeout, 0))
        if not r:
            return None
        data = r[0].recv(70000)
        port = 500 if r[0] is self.s500 else 4500
        if port == 4500 and data[:4] == b"\0\0\0\0":
            data = data[4:]
        return Msg(data, port)

    # -------------------------------------------------------- keys

    def derive(self, ni, nr, shared):
        skeyseed = prf(ni + nr, shared)
        keys = prf_plus(skeyseed, ni + nr + struct.pack("!QQ", self.spi_i, self.spi_r),
                        32 * 7)
        k = [keys[i * 32:(i + 1) * 32] for i in range(7)]
        self.sk = dict(d=k[0], ai=k[1], ar=k[2], ei=k[3], er=k[4], pi=k[5], pr=k[6])

    def protect(self, exch, msgid, payloads, response=False, spi_i=None,
                spi_r=None, pad_len=None, bad_icv=False, plain=None, first=None):
        """A protected message with our keys; knobs to break it."""
        if plain is None:
            first, plain = chain(payloads)
        pad = BLOCK - 1 - len(plain) % BLOCK
        body = plain + bytes(pad) + bytes([pad if pad_len is None else pad_len])
        iv = os.urandom(BLOCK)
        enc = Cipher(algorithms.AES(self.sk["ei"]), modes.CBC(iv)).encryptor()
        ct = enc.update(body) + enc.finalize()
        total = HDR.size + 4 + BLOCK + len(ct) + ICV
        flags = FLAG_I | (FLAG_R if response else 0)
        msg = header(self.spi_i if spi_i is None else spi_i,
                     self.spi_r if spi_r is None else spi_r, PL_SK, exch, flags,
                     msgid, total)
        msg += struct.pack("!BBH", first, 0, total - HDR.size) + iv + ct
        icv = hmac.new(self.sk["ai"], msg, hashlib.sha256).digest()[:ICV]
        if bad_icv:
            icv = bytes([icv[0] ^ 0x01]) + icv[1:]
        return msg + icv

    def open(self, m):
        """Verify and decrypt an SK message from cgwd (in place)."""
        if not m.ok or not m.pls or m.pls[-1][0] != PL_SK or not self.sk:
            return False
        sk = m.pls[-1][2]
        if len(sk) < BLOCK + BLOCK + ICV or (len(sk) - BLOCK - ICV) % BLOCK:
            return False
        icv = hmac.new(self.sk["ar"], m.raw[:-ICV], hashlib.sha256).digest()[:ICV]
        if not hmac.compare_digest(icv, m.raw[-ICV:]):
            return False
        iv, ct = sk[:BLOCK], sk[BLOCK:-ICV]
        dec = Cipher(algorithms.AES(self.sk["er"]), modes.CBC(iv)).decryptor()
        pt = dec.update(ct) + dec.finalize()
        plain = pt[:len(pt) - 1 - pt[-1]]
        m.inner = parse_chain(self._sk_first(m), plain)
        return True

    @staticmethod
    def _sk_first(m):
        # The SK payload's "next payload" is the first inner payload: find
        # it by walking the clear chain again.
        off, t = HDR.size, m.next
        while t != PL_SK:
            t = m.raw[off]
            off += struct.unpack_from("!H", m.raw, off + 2)[0]
        return m.raw[off]

    # -------------------------------------------------------- cgwd's requests

    def answer_cgwd(self, m):
        """cgwd asks us something (liveness check): answer, empty."""
        if not self.open(m) or m.msgid < self.cgwd_msgid - 1:
            return
        resp = self.protect(m.exch, m.msgid, [], response=True)
        self.send(resp, m.port)
        self.cgwd_msgid = max(self.cgwd_msgid, m.msgid + 1)

    def is_cgwd_request(self, m):
        return (m.ok and not m.response and m.spi_i == self.spi_i and
                m.spi_r == self.spi_r and m.exch != EXCH_SA_INIT and self.sk)

    def collect(self, until, timeout):
        """Datagrams from cgwd until until(m) is true or timeout: (match, others)."""
        others, deadline = [], time.monotonic() + timeout
        while True:
            m = self.recv(deadline - time.monotonic())
            if m is None:
                return None, others
            if self.is_cgwd_request(m):
                self.answer_cgwd(m)
                continue
            if until(m):
                return m, others
            others.append(m)

    # -------------------------------------------------------- handshake

    def sa_init_msg(self, spi_i, extra=(), ke_group=DH_X25519, ke_data=None,
                    nonce=None, version=0x20, flags=FLAG_I, spi_r=0):
        pub = ke_data if ke_data is not None else self.pub
        payloads = [(PL_SA, sa_payload(PROTO_IKE, b"", IKE_XFORMS)),
                    (PL_KE, struct.pack("!HH", ke_group, 0) + pub),
                    (PL_NONCE, nonce or self.ni)] + list(extra)
        first, body = chain(payloads)
        return header(spi_i, spi_r, first, EXCH_SA_INIT, flags, 0,
                      HDR.size + len(body), version) + body

    def handshake(self):
        """IKE_SA_INIT (with an unknown non-critical payload, which cgwd
        must ignore) and IKE_AUTH; fails the run if either fails."""
        self.init_exchange([(PL_UNKNOWN, b"ignore me", 0)])
        resp = self.auth_exchange()
        pls = {t: b for t, _, b in resp.inner}
        if PL_AUTH not in pls or PL_SA not in pls:
            raise RuntimeError("IKE_AUTH answered with %s" % resp.describe())
        want = prf(prf(self.psk, b"Key Pad for IKEv2"),
                   self.init_resp + self.ni + prf(self.sk["pr"], pls[PL_IDR]))
        if not hmac.compare_digest(want, pls[PL_AUTH][4:]):
            raise RuntimeError("cgwd's AUTH payload does not verify")
        self.esp_spi_out = pls[PL_SA][8:12]     # cgwd's inbound SPI
        self.msgid = 2

    def init_exchange(self, extra=()):
        """IKE_SA_INIT with a fresh SPI, key and nonce; the SA's keys."""
        self.priv = X25519PrivateKey.generate()
        self.pub = self.priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.ni = os.urandom(32)
        self.spi_i = struct.unpack("!Q", os.urandom(8))[0] | 1
        self.init_req = self.sa_init_msg(self.spi_i, extra=extra)
        resp = self.request(self.init_req, lambda m: m.exch == EXCH_SA_INIT and
                            m.response and m.spi_i == self.spi_i)
        if not resp:
            raise RuntimeError("no IKE_SA_INIT response from cgwd")
        pls = {t: b for t, _, b in resp.pls}
        if PL_SA not in pls or PL_KE not in pls or PL_NONCE not in pls:
            raise RuntimeError("IKE_SA_INIT answered with %s" % resp.describe())
        self.init_resp = resp.raw
        self.spi_r, self.nr = resp.spi_r, pls[PL_NONCE]
        group = struct.unpack_from("!H", pls[PL_KE])[0]
        if group != DH_X25519:
            raise RuntimeError("cgwd answered with KE group %d" % group)
        shared = self.priv.exchange(X25519PublicKey.from_public_bytes(pls[PL_KE][4:]))
        self.derive(self.ni, self.nr, shared)
        self.msgid = 1

    def auth_exchange(self, extra=()):
        """IKE_AUTH #1 with our PSK: cgwd's answer, opened."""
        idi = struct.pack("!B3x", ID_IPV4) + ipaddress.IPv4Address(self.local).packed
        octets = self.init_req + self.nr + prf(self.sk["pi"], idi)
        auth = prf(prf(self.psk, b"Key Pad for IKEv2"), octets)
        esp = sa_payload(PROTO_ESP, self.esp_spi_in, ESP_XFORMS)
        req = self.protect(EXCH_AUTH, 1, [
            (PL_IDI, idi), (PL_AUTH, struct.pack("!B3x", AUTH_PSK) + auth)] + list(extra) + [
            (PL_SA, esp), (PL_TSI, ts_all()), (PL_TSR, ts_all())])
        resp = self.request(req, lambda m: m.exch == EXCH_AUTH and m.response and
                            m.spi_i == self.spi_i)
        if not resp or not self.open(resp):
            raise RuntimeError("no (valid) IKE_AUTH response")
        return resp

    def request(self, data, match, tries=4, timeout=3.0):
        for _ in range(tries):
            self.send(data)
            m, _ = self.collect(match, timeout)
            if m:
                return m
        return None

    # -------------------------------------------------------- checks

    def dpd(self):
        """An empty INFORMATIONAL with the next message ID; True if answered."""
        req = self.protect(EXCH_INFO, self.msgid, [])
        msgid = self.msgid

        def match(m):
            return (m.ok and m.response and m.exch == EXCH_INFO and
                    m.msgid == msgid and m.spi_i == self.spi_i and self.open(m))
        m = self.request(req, match, tries=3, timeout=4.0)
        if m:
            self.msgid += 1
        return m is not None

    def send_then_dpd(self, data, port=500, sock=None, settle=0.0):
        """Send data, then the DPD barrier: (answers before it, DPD answered)."""
        self.send(data, port, sock)
        if settle:
            _, early = self.collect(lambda m: False, settle)
        else:
            early = []
        req = self.protect(EXCH_INFO, self.msgid, [])
        msgid = self.msgid

        def match(m):
            return (m.ok and m.response and m.exch == EXCH_INFO and
                    m.msgid == msgid and m.spi_i == self.spi_i and m.port == 500 and
                    self.open(m))
        self.send(req)
        m, others = self.collect(match, 4.0)
        if not m:      # lost under load? the same bytes again
            self.send(req)
            m, more = self.collect(match, 4.0)
            others += more
        if m:
            self.msgid += 1
        return early + others, m is not None

    def log_mark(self):
        try:
            self.log_off = os.path.getsize(self.a.cgwd_log)
        except OSError:
            self.log_off = 0

    def log_find(self, regex, timeout=3.0):
        """The first cgwd log line since log_mark() matching regex."""
        rx, deadline = re.compile(regex), time.monotonic() + timeout
        while True:
            with open(self.a.cgwd_log, "rb") as f:
                f.seek(self.log_off)
                text = f.read().decode("utf-8", "replace")
            for line in text.splitlines():
                if rx.search(line):
                    return line.split(" cgwd: ", 1)[-1]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def status(self):
        """(state, IKE SPIs, CHILD SPIs) of our tunnel in cgwctl status."""
        out = subprocess.run([self.a.cgwctl, "-s", self.a.sock, "status", "--json"],
                             capture_output=True, text=True, timeout=20).stdout
        for t in json.loads(out).get("tunnels", []):
            if t.get("name") == self.a.tunnel:
                sas = t.get("ike_sas", [])
                spis = sorted("%s/%s" % (s["spi_i"], s["spi_r"]) for s in sas)
                kids = sorted("%s/%s" % (c["spi_in"], c["spi_out"])
                              for s in sas for c in s.get("children", []))
                return t.get("state"), " ".join(spis), " ".join(kids), t
        return None, "", "", {}

    def cgwd_alive(self):
        try:
            with open("/proc/%d/stat" % self.a.cgwd_pid) as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
            return st not in ("Z", "X")
        except OSError:
            return False

    def xfrm_in_no_states(self):
        with open("/proc/%d/net/xfrm_stat" % self.a.cgwd_pid) as f:
            for line in f:
                k, v = line.split()
                if k == "XfrmInNoStates":
                    return int(v)
        return 0

    def result(self, name, ok, what):
        print("%s: hostile %s: %s" % ("PASS" if ok else "FAIL", name, what), flush=True)
        self.results.append(("PASS" if ok else "FAIL", name))
        if ok:
            self.npass += 1
        else:
            self.nfail += 1

    # -------------------------------------------------------- one case

    def case(self, name, data, expect, log_re, port=500, sock=None, settle=0.0,
             check=None):
        """Send data; expect(answers) -> (ok, text) judges cgwd's answers
        before the DPD barrier; log_re (or None) must appear in cgwd's log;
        then the SA must still work and be the same one."""
        self.log_mark()
        t0 = time.monotonic()
        answers, dpd_ok = self.send_then_dpd(data, port, sock, settle)
        ok, what = expect(answers)
        problems = [] if ok else [what]
        line = None
        if log_re:
            line = self.log_find(log_re)
            if line is None:
                problems.append("no cgwd log line /%s/" % log_re)
        if not dpd_ok:
            problems.append("DPD #%d afterwards not answered" % self.msgid)
        state, spis, kids, _ = self.status()
        if state != "up" or spis != self.base_spis or kids != self.base_kids:
            problems.append("status: %s IKE %s CHILD %s, want up %s %s" % (
                state, spis, kids, self.base_spis, self.base_kids))
        if not self.cgwd_alive():
            problems.append("cgwd (pid %d) is gone" % self.a.cgwd_pid)
        if check:
            extra = check()
            if extra:
                problems.append(extra)
        dt = time.monotonic() - t0
        if problems:
            self.result(name, False, "; ".join(problems) + " (answers: %s)" %
                        (", ".join(m.describe() for m in answers) or "none"))
        else:
            self.result(name, True, "%s%s; DPD answered, SA unchanged (%.1fs)" % (
                what, ("; log: " + line) if line else "", dt))


# ---------------------------------------------------------------- judges

def silence(answers):
    if answers:
        return False, "expected silence, got %s" % ", ".join(m.describe() for m in answers)
    return True, "no answer"


def clear_notify(ntype, data=None, peer_spi=None):
    """One unprotected response carrying N(ntype) [with data]."""
    def judge(answers):
        if len(answers) != 1:
            return False, "want one N(%s) answer, got %d: %s" % (
                nname(ntype), len(answers), ", ".join(m.describe() for m in answers))
        m = answers[0]
        ns = notifies(m.pls)
        if not m.response or not ns or ns[0][0] != ntype:
            return False, "want N(%s), got %s" % (nname(ntype), m.describe())
        if data is not None and ns[0][1] != data:
            return False, "N(%s) data %s, want %s" % (nname(ntype), ns[0][1].hex(), data.hex())
        if peer_spi is not None and (m.spi_i != peer_spi or m.spi_r != 0):
            return False, "answer SPIs %016x/%016x, want %016x/0" % (m.spi_i, m.spi_r, peer_spi)
        return True, "answered N(%s)%s, unprotected, version 0x%02x" % (
            nname(ntype), " data " + ns[0][1].hex() if ns[0][1] else "", m.version)
    return judge


def write_corpus(d):
    """The hostile datagrams (and SK plaintexts, *-inner.bin) as seeds for
    tests/fuzz/corpus/ike: no network, no cgwd."""
    from types import SimpleNamespace
    me = SimpleNamespace(pub=os.urandom(32), ni=os.urandom(32))
    init = lambda **kw: Peer.sa_init_msg(me, 0x1122334455667788, **kw)
    good = init()
    vectors = {"truncated-header": good[:20]}
    for name, off, val, fmt in (("length-short", 24, len(good) - 8, "!I"),
                                ("length-long", 24, len(good) + 100, "!I"),
                                ("payload-overrun", HDR.size + 2, 0x7ff0, "!H"),
                                ("payload-below-4", HDR.size + 2, 2, "!H")):
        b = bytearray(good)
        struct.pack_into(fmt, b, off, val)
        vectors[name] = bytes(b)
    first, body = chain([(PL_V, b"")] * 4000)
    vectors["many-payloads"] = header(1, 0, first, EXCH_SA_INIT, FLAG_I, 0,
                                      HDR.size + len(body)) + body
    vectors["critical-unknown"] = init(extra=[(PL_UNKNOWN, b"x", CRITICAL)])
    vectors["major-3"] = init(version=0x30)
    vectors["ke-31-bytes"] = init(ke_data=os.urandom(31))
    vectors["response-flag"] = init(flags=FLAG_R, spi_r=2)
    inner = {
        "critical-unknown": [(PL_UNKNOWN, b"x", CRITICAL)],
        "delete-spi-size-8": [(PL_D, struct.pack("!BBH", PROTO_ESP, 8, 1) + bytes(8))],
        "delete-count-overrun": [(PL_D, struct.pack("!BBH", PROTO_ESP, 4, 5) + bytes(4))],
        "create-child-bad-proposal": [
            notify(N_REKEY_SA, protocol=PROTO_ESP, spi=b"\x01\x02\x03\x04"),
            (PL_SA, sa_payload(PROTO_ESP, b"\x05\x06\x07\x08", BAD_ESP_XFORMS)),
            (PL_NONCE, bytes(32)), (PL_TSI, ts_all()), (PL_TSR, ts_all())],
    }
    n = 20
    for name, data in vectors.items():
        with open(os.path.join(d, "%02d-hostile-%s.bin" % (n, name)), "wb") as f:
            f.write(data)
        n += 1
    for name, pls in inner.items():
        with open(os.path.join(d, "%02d-hostile-%s-inner.bin" % (n, name)), "wb") as f:
            f.write(chain(pls)[1])
        n += 1
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--write-corpus":
        return write_corpus(sys.argv[2])
    ap = argparse.ArgumentParser()
    for o in ("local", "remote", "psk-file", "cgwd-log", "cgwctl", "sock", "tunnel"):
        ap.add_argument("--" + o, required=True)
    ap.add_argument("--cgwd-pid", type=int, required=True)
    a = ap.parse_args()
    p = Peer(a)
    print("ike-peer.py: Python %s, python3-cryptography %s" % (
        sys.version.split()[0], cryptography.__version__), flush=True)
    t0 = time.monotonic()
    p.log_mark()
    p.handshake()
    deadline = time.monotonic() + 30
    while True:
        state, p.base_spis, p.base_kids, tj = p.status()
        if state == "up" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    want_spi = "%016x/%016x" % (p.spi_i, p.spi_r)
    if state != "up" or p.base_spis != want_spi:
        p.result("handshake", False, "cgwctl status: %s %s, want up %s" % (
            state, p.base_spis, want_spi))
        return 1
    p.result("handshake", True, "IKE_SA_INIT with an unknown non-critical payload "
             "(type %d) answered, IKE_AUTH done, cgwd's AUTH verified; IKE %s, "
             "CHILD %s (%.1fs)" % (PL_UNKNOWN, p.base_spis, p.base_kids,
                                  time.monotonic() - t0))
    run_cases(p)
    print("==== hostile IKE: %d passed, %d failed (%.1fs)" % (
        p.npass, p.nfail, time.monotonic() - t0), flush=True)
    for r, n in p.results:
        print("  %s %s" % (r, n))
    return 1 if p.nfail else 0


def rand_spi():
    return struct.unpack("!Q", os.urandom(8))[0] | 1


def run_cases(p):
    plain_cases(p)
    protected_cases(p)
    natt_cases(p)


def plain_cases(p):
    """Before authentication: IKE_SA_INIT-level input, in the clear."""
    spi = rand_spi()
    good = p.sa_init_msg(spi)
    p.case("truncated-header", good[:20], silence,
           r"datagram of 20 bytes is shorter than the IKE header")
    short = bytearray(good)
    struct.pack_into("!I", short, 24, len(good) - 8)
    p.case("length-field-short", bytes(short), silence,
           r"header length %d, datagram %d bytes" % (len(good) - 8, len(good)))
    long_ = bytearray(good)
    struct.pack_into("!I", long_, 24, len(good) + 100)
    p.case("length-field-long", bytes(long_), silence,
           r"header length %d, datagram %d bytes" % (len(good) + 100, len(good)))
    over = bytearray(good)
    struct.pack_into("!H", over, HDR.size + 2, 0x7ff0)      # SA payload length
    p.case("payload-length-overrun", bytes(over), silence,
           r"payload SA \(33\): length 32752")
    under = bytearray(good)
    struct.pack_into("!H", under, HDR.size + 2, 2)
    p.case("payload-length-below-4", bytes(under), silence,
           r"payload SA \(33\): length 2,")
    # The largest UDP datagram over IPv4 (65507 bytes): one huge payload.
    first, body = chain([(PL_V, bytes(65507 - HDR.size - 4))])
    big = header(rand_spi(), 0, first, EXCH_SA_INIT, FLAG_I, 0, 65507) + body
    p.case("oversized-65507", big, silence, r"IKE_SA_INIT request: missing SA payload")
    # Unknown non-critical payloads are skipped, but count: 4000 of them.
    first, body = chain([(PL_UNKNOWN, b"")] * 4000)
    many = header(rand_spi(), 0, first, EXCH_SA_INIT, FLAG_I, 0, HDR.size + len(body)) + body
    p.case("many-payloads", many, silence, r"more than 64 payloads")
    first, body = chain([(PL_V, b"")] * 4000)
    many = header(rand_spi(), 0, first, EXCH_SA_INIT, FLAG_I, 0, HDR.size + len(body)) + body
    p.case("many-vendor-ids", many, silence, r"V payload number [0-9]+: at most [0-9]+ per message")
    spi = rand_spi()
    crit = p.sa_init_msg(spi, extra=[(PL_UNKNOWN, b"must understand", CRITICAL)])
    p.case("unknown-critical-init", crit,
           clear_notify(N_UNSUPPORTED_CRITICAL, bytes([PL_UNKNOWN]), spi),
           r"unsupported critical payload type %d" % PL_UNKNOWN)
    spi = rand_spi()
    p.case("major-version-3", p.sa_init_msg(spi, version=0x30),
           clear_notify(N_INVALID_MAJOR_VERSION, None, spi), r"IKE major version 3")
    p.case("sa-init-response-flag", p.sa_init_msg(rand_spi(), flags=FLAG_R,
                                                          spi_r=rand_spi()), silence,
           r"IKE_SA_INIT response for unknown SPI")
    spi = rand_spi()
    modp = p.sa_init_msg(spi, ke_group=DH_MODP2048, ke_data=os.urandom(256))
    p.unauth_logged = time.time()       # its line starts cgwd's interval
    p.case("ke-group-mismatch", modp,
           clear_notify(N_INVALID_KE_PAYLOAD, struct.pack("!H", DH_X25519), spi),
           r"KE group 14: asking for group 31 \(INVALID_KE_PAYLOAD\)")

    last_error = p.status()[3].get("last_error")

    def untouched():
        now = p.status()[3].get("last_error")
        if now != last_error:
            return "the tunnel's last_error changed: %r -> %r" % (last_error, now)
        return None
    short_ke = p.sa_init_msg(rand_spi(), ke_data=os.urandom(31))
    p.case("ke-unusable", short_ke, silence, None, check=untouched)
    flood(p)
    wrong_psk_sa(p)

    def same_init(answers):
        if len(answers) == 1 and answers[0].raw == p.init_resp:
            return True, "the first IKE_SA_INIT response again, byte for byte"
        return False, "want the cached IKE_SA_INIT response, got %s" % (
            ", ".join(m.describe() for m in answers) or "none")
    p.case("sa-init-retransmit", p.init_req, same_init, None)


def flood(p):
    """600 unauthenticated IKE_SA_INITs from the peer's address that each
    used to log a line: KE group mismatch, no proposal, unusable KE. The
    stateless answers go out; the log gets a line per 10 s at most."""
    n = 200
    p.log_mark()
    t0 = time.monotonic()
    bad_prop = [(T_ENCR, ENCR_3DES, None), (T_PRF, PRF_HMAC_SHA256, None),
                (T_INTEG, INTEG_HMAC_MD5_96, None), (T_DH, DH_X25519, None)]
    for _ in range(n):
        p.send(p.sa_init_msg(rand_spi(), ke_group=DH_MODP2048, ke_data=bytes(256)))
        first, body = chain([(PL_SA, sa_payload(PROTO_IKE, b"", bad_prop)),
                             (PL_KE, struct.pack("!HH", DH_X25519, 0) + p.pub),
                             (PL_NONCE, os.urandom(32))])
        p.send(header(rand_spi(), 0, first, EXCH_SA_INIT, FLAG_I, 0,
                      HDR.size + len(body)) + body)
        p.send(p.sa_init_msg(rand_spi(), ke_data=os.urandom(16)))
    answers, dpd_ok = p.send_then_dpd(b"\0" * 8)     # (a runt: dropped)
    flood_secs = time.monotonic() - t0
    kinds = {}
    for m in answers:
        ns = notifies(m.pls) if m.ok else []
        k = nname(ns[0][0]) if ns else m.describe()
        kinds[k] = kinds.get(k, 0) + 1
    time.sleep(0.5)
    with open(p.a.cgwd_log, "rb") as f:
        f.seek(p.log_off)
        text = f.read().decode("utf-8", "replace")
    rx = re.compile(r"asking for group|no proposal chosen|KE for group .* unusable")
    lines = [l for l in text.splitlines() if rx.search(l)]
    state, spis, kids, _ = p.status()
    problems = []
    allowed = 1 + int(flood_secs // UNAUTH_LOG_INTERVAL) + 1     # one per interval
    if len(lines) > allowed:
        problems.append("%d log lines for %d datagrams in %.1fs, want <= %d" % (
            len(lines), 3 * n, flood_secs, allowed))
    if not kinds.get("INVALID_KE_PAYLOAD") or not kinds.get("NO_PROPOSAL_CHOSEN"):
        problems.append("answers: %s, want INVALID_KE_PAYLOAD and NO_PROPOSAL_CHOSEN" % kinds)
    if set(kinds) - {"INVALID_KE_PAYLOAD", "NO_PROPOSAL_CHOSEN"}:
        problems.append("unexpected answers: %s" % kinds)
    if not dpd_ok or state != "up" or spis != p.base_spis or kids != p.base_kids:
        problems.append("afterwards: DPD %s, status %s %s %s" % (
            "answered" if dpd_ok else "unanswered", state, spis, kids))
    if not p.cgwd_alive():
        problems.append("cgwd is gone")
    # Once the interval is over, the next such line says what it held back.
    # It starts at the last such line: ke-group-mismatch's, or one in the
    # flood if that took longer than the interval (cgwd's log stamps, which
    # may come late under load: a second try then).
    flood_off, line = p.log_off, None
    for _ in range(2):
        with open(p.a.cgwd_log, "rb") as f:
            f.seek(flood_off)
            seen = [l for l in f.read().decode("utf-8", "replace").splitlines()
                    if rx.search(l)]
        anchor = max([p.unauth_logged] + [float(l.split()[0]) for l in seen])
        time.sleep(max(0.0, anchor + UNAUTH_LOG_INTERVAL + 1.0 - time.time()))
        p.log_mark()
        p.send_then_dpd(p.sa_init_msg(rand_spi(), ke_group=DH_MODP2048, ke_data=bytes(256)))
        line = p.log_find(r"asking for group 31 \(INVALID_KE_PAYLOAD\) "
                          r"\([0-9]+ similar lines? held back\)")
        if line:
            break
    if line is None:
        problems.append("no 'held back' line after the interval")
    p.result("log-flood", not problems, "; ".join(problems) if problems else
             "%d SA_INITs in %.1fs: answers %s; %d log line(s); %.0f s later: %s; "
             "DPD answered, SA unchanged" % (
                 3 * n, flood_secs, ", ".join("%d %s" % (v, k) for k, v in sorted(kinds.items())),
                 len(lines), UNAUTH_LOG_INTERVAL, line))


def wrong_psk_sa(p):
    """A second IKE SA from the peer's address (anyone can do a DH) whose
    IKE_AUTH carries a wrong PSK and INITIAL_CONTACT: AUTHENTICATION_FAILED,
    and the established SA must not be touched (INITIAL_CONTACT counts
    only once the AUTH verifies)."""
    keep = ("spi_i", "spi_r", "sk", "priv", "pub", "ni", "nr", "init_req",
            "init_resp", "msgid", "psk")
    saved = {k: getattr(p, k) for k in keep}
    t0 = time.monotonic()
    p.log_mark()
    problems, what = [], ""
    try:
        p.psk = b"not.the.PSK.of.this.tunnel"
        p.init_exchange()
        resp = p.auth_exchange([notify(N_INITIAL_CONTACT)])
        ns = notifies(resp.inner)
        if not ns or ns[0][0] != N_AUTHENTICATION_FAILED:
            problems.append("IKE_AUTH answered with %s" % resp.describe())
        else:
            what = "IKE_AUTH answered N(AUTHENTICATION_FAILED), protected"
    except RuntimeError as e:
        problems.append(str(e))
    finally:
        for k, v in saved.items():
            setattr(p, k, v)
    line = p.log_find(r"AUTHENTICATION_FAILED")
    if line is None:
        problems.append("no cgwd log line naming AUTHENTICATION_FAILED")
    if p.log_find(r"INITIAL_CONTACT from the peer", timeout=0.2):
        problems.append("cgwd acted on INITIAL_CONTACT")
    dpd_ok = p.dpd()
    state, spis, kids, _ = p.status()
    if not dpd_ok or state != "up" or spis != p.base_spis or kids != p.base_kids:
        problems.append("afterwards: DPD %s, status %s IKE %s CHILD %s, want up %s %s" % (
            "answered" if dpd_ok else "unanswered", state, spis, kids, p.base_spis,
            p.base_kids))
    if not p.cgwd_alive():
        problems.append("cgwd is gone")
    p.result("wrong-psk-second-sa", not problems, "; ".join(problems) if problems else
             "%s; log: %s; established SA untouched, DPD answered (%.1fs)" % (
                 what, line, time.monotonic() - t0))


def protected_cases(p):
    """After authentication: protected with the real keys."""
    def protected_notify(ntype, data=None):
        def judge(answers):
            if len(answers) != 1 or not p.open(answers[0]):
                return False, "want one protected N(%s), got %s" % (
                    nname(ntype), ", ".join(m.describe() for m in answers) or "none")
            ns = notifies(answers[0].inner)
            if not ns or ns[0][0] != ntype or (data is not None and ns[0][1] != data):
                return False, "want N(%s), got %s" % (nname(ntype), answers[0].describe())
            return True, "answered N(%s) #%d, protected" % (nname(ntype), answers[0].msgid)
        return judge

    crit = p.protect(EXCH_INFO, p.msgid, [(PL_UNKNOWN, b"x", CRITICAL)])
    p.msgid += 1        # answered: it takes its message ID
    p.case("unknown-critical-sk", crit,
           protected_notify(N_UNSUPPORTED_CRITICAL, bytes([PL_UNKNOWN])),
           r"unsupported critical payload type %d" % PL_UNKNOWN)
    before = p.status()[3].get("integrity_failures", 0)

    def counted_icv():
        after = p.status()[3].get("integrity_failures", 0)
        if after != before + 1:
            return "status integrity_failures %s -> %s, want +1" % (before, after)
        return None
    p.case("bad-icv", p.protect(EXCH_INFO, p.msgid, [], bad_icv=True), silence,
           r"INFORMATIONAL #%d: integrity check failed: dropped" % p.msgid,
           check=counted_icv)
    p.case("wrong-responder-spi", p.protect(EXCH_INFO, p.msgid, [], spi_r=rand_spi()),
           silence, r"INFORMATIONAL #%d for unknown IKE SA %016x/" % (p.msgid, p.spi_i))
    p.case("unknown-spis", p.protect(EXCH_INFO, p.msgid, [], spi_i=rand_spi(),
                                     spi_r=rand_spi()),
           silence, r"INFORMATIONAL #%d for unknown IKE SA" % p.msgid)

    # The replayed request: the DPD just answered, same bytes again.
    last = p.protect(EXCH_INFO, p.msgid, [])
    p.send(last)
    first, _ = p.collect(lambda m: m.response and m.msgid == p.msgid, 5.0)
    p.msgid += 1

    def same_reply(answers):
        if first and len(answers) == 1 and answers[0].raw == first.raw:
            return True, "the cached answer to #%d again, byte for byte" % first.msgid
        return False, "want the cached answer again, got %s" % (
            ", ".join(m.describe() for m in answers) or "none")
    p.case("replayed-request", last, same_reply, None)
    forged = p.protect(EXCH_INFO, p.msgid - 1, [], bad_icv=True)
    p.case("replayed-id-bad-icv", forged, silence, r"integrity check failed")
    p.case("old-message-id", p.protect(EXCH_INFO, 0, []), silence,
           r"request #0 outside the window")
    far = p.msgid + 1000
    p.case("future-message-id", p.protect(EXCH_INFO, far, []), silence,
           r"request #%d outside the window" % far)
    p.case("unsolicited-response", p.protect(EXCH_INFO, 7, [], response=True), silence,
           r"unexpected response #7")
    # SK payload too short for IV + ICV, and an IV cut short.
    hdr_sk = lambda n: (header(p.spi_i, p.spi_r, PL_SK, EXCH_INFO, FLAG_I, p.msgid,
                               HDR.size + 4 + n) + struct.pack("!BBH", 0, 0, 4 + n))
    p.case("sk-truncated", hdr_sk(20) + os.urandom(20), silence,
           r"INFORMATIONAL #%d: .*(short|integrity)" % p.msgid)
    p.case("sk-iv-short", hdr_sk(8) + os.urandom(8), silence,
           r"INFORMATIONAL #%d: .*(short|integrity)" % p.msgid)
    bad_pad = p.protect(EXCH_INFO, p.msgid, [], pad_len=200)
    p.msgid += 1
    p.case("padding-overrun", bad_pad, protected_notify(N_INVALID_SYNTAX),
           r"padding length 200")
    d = struct.pack("!BBH", PROTO_ESP, 8, 1) + bytes(8)
    p.msgid += 1
    p.case("delete-bad-spi-size", p.protect(EXCH_INFO, p.msgid - 1, [(PL_D, d)]),
           protected_notify(N_INVALID_SYNTAX), r"Delete: protocol 3, 1 SPIs of 8 bytes")
    d = struct.pack("!BBH", PROTO_ESP, 4, 5) + p.esp_spi_in
    p.msgid += 1
    p.case("delete-count-overrun", p.protect(EXCH_INFO, p.msgid - 1, [(PL_D, d)]),
           protected_notify(N_INVALID_SYNTAX), r"Delete: protocol 3, 5 SPIs of 4 bytes")
    req = p.protect(EXCH_CREATE_CHILD, p.msgid, [
        notify(N_REKEY_SA, protocol=PROTO_ESP, spi=p.esp_spi_in),
        (PL_SA, sa_payload(PROTO_ESP, os.urandom(4), BAD_ESP_XFORMS)),
        (PL_NONCE, os.urandom(32)), (PL_TSI, ts_all()), (PL_TSR, ts_all())])
    p.msgid += 1
    p.case("create-child-bad-proposal", req, protected_notify(N_NO_PROPOSAL_CHOSEN),
           r"CREATE_CHILD_SA refused: NO_PROPOSAL_CHOSEN")


def natt_cases(p):
    """UDP 4500: nothing here may touch the tunnel."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((p.local, 0))
    p.case("4500-garbage", b"\x01\x02\x03", silence, None, 4500, sock, settle=1.0)
    p.case("4500-keepalive", b"\xff", silence, None, 4500, sock, settle=1.0)
    p.case("4500-marker-truncated-ike", bytes(4) + struct.pack("!Q", p.spi_i) + b"\0" * 6,
           silence, r"datagram of 14 bytes is shorter than the IKE header",
           4500, sock, settle=1.0)
    before = p.xfrm_in_no_states()

    def counted():
        after = p.xfrm_in_no_states()
        if after <= before:
            return "XfrmInNoStates %d -> %d: the kernel did not see the ESP packet" % (
                before, after)
        print("  (XfrmInNoStates %d -> %d: the kernel dropped it)" % (before, after))
        return None
    esp = struct.pack("!II", 0x0badc0de, 1) + os.urandom(64)
    p.case("4500-esp-unknown-spi", esp, silence, None, 4500, sock, settle=1.0,
           check=counted)


if __name__ == "__main__":
    sys.exit(main())
