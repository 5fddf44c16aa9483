#!/usr/bin/python3
"""A BGP speaker of before RFC 6793 (2-octet AS numbers only), for
tests/bgp/run.sh case 4: BIRD's "enable as4 off" still reads the peer's
AS4 capability, so it cannot stand for a really old router.

    old-speaker.py LISTEN-ADDRESS OUR-AS RESULT-FILE [SECONDS]

Listens on LISTEN-ADDRESS port 179 for one connection, answers the OPEN
with an OPEN that has no capabilities at all, and once established sends
  172.20.0.0/16  AS_PATH 64512
  172.22.0.0/16  AS_PATH 64512 23456, AS4_PATH 4200000099
                 (what a 2-octet router passes on from a 4-octet AS)
It writes what it saw of the peer as one JSON object to RESULT-FILE as
soon as the peer's 192.168.2.0/24 has arrived: the OPEN's My AS, the AS4
capability, and the AS_PATH (read as 2-octet) and AS4_PATH of that
prefix; then keeps the session up (KEEPALIVEs) for SECONDS (default 30).
"""
import json
import os
import select
import socket
import struct
import sys
import time

ADDR, OUR_AS, RESULT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
LIFE = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
MARKER = b'\xff' * 16


def msg(mtype, body=b''):
    return MARKER + struct.pack('!HB', 19 + len(body), mtype) + body


def attr(flags, code, value):
    return struct.pack('!BBB', flags, code, len(value)) + value


def as_path2(asns):		# one AS_SEQUENCE of 2-octet numbers
    return struct.pack('!BB', 2, len(asns)) + b''.join(struct.pack('!H', a) for a in asns)


def update(prefix, plen, path, as4_path=None):
    attrs = attr(0x40, 1, b'\x00')				# ORIGIN IGP
    attrs += attr(0x40, 2, as_path2(path))			# AS_PATH
    attrs += attr(0x40, 3, socket.inet_aton(ADDR))		# NEXT_HOP
    if as4_path:						# AS4_PATH, optional transitive
        attrs += attr(0xc0, 17, struct.pack('!BB', 2, len(as4_path)) +
                      b''.join(struct.pack('!I', a) for a in as4_path))
    nlri = bytes([plen]) + socket.inet_aton(prefix)[:(plen + 7) // 8]
    return msg(2, struct.pack('!H', 0) + struct.pack('!H', len(attrs)) + attrs + nlri)


def segments(value, width):
    out, i = [], 0
    while i + 2 <= len(value):
        stype, n = value[i], value[i + 1]
        i += 2
        fmt = '!H' if width == 2 else '!I'
        for _ in range(n):
            out.append(struct.unpack(fmt, value[i:i + width])[0])
            i += width
        if stype != 2:
            out.append('set%d' % stype)
    return out


def parse_open(body):
    version, my_as, hold, bgp_id, optlen = struct.unpack('!BHH4sB', body[:10])
    res = {'open_version': version, 'open_my_as': my_as, 'open_hold': hold,
           'open_as4_capability': None}
    opt = body[10:10 + optlen]
    i = 0
    while i + 2 <= len(opt):
        ptype, plen = opt[i], opt[i + 1]
        pval = opt[i + 2:i + 2 + plen]
        i += 2 + plen
        j = 0
        while ptype == 2 and j + 2 <= len(pval):
            code, clen = pval[j], pval[j + 1]
            if code == 65 and clen == 4:
                res['open_as4_capability'] = struct.unpack('!I', pval[j + 2:j + 6])[0]
            j += 2 + clen
    return res


def parse_update(body, res):
    wlen = struct.unpack('!H', body[:2])[0]
    alen = struct.unpack('!H', body[2 + wlen:4 + wlen])[0]
    attrs = body[4 + wlen:4 + wlen + alen]
    nlri = body[4 + wlen + alen:]
    got, i = {}, 0
    while i + 3 <= len(attrs):
        flags, code = attrs[i], attrs[i + 1]
        if flags & 0x10:
            alen2 = struct.unpack('!H', attrs[i + 2:i + 4])[0]
            i += 4
        else:
            alen2 = attrs[i + 2]
            i += 3
        value = attrs[i:i + alen2]
        i += alen2
        if code == 2:
            got['as_path'] = segments(value, 2)
        elif code == 17:
            got['as4_path'] = segments(value, 4)
        elif code == 3:
            got['next_hop'] = socket.inet_ntoa(value)
        elif code == 4:
            got['med'] = struct.unpack('!I', value)[0]
    j = 0
    while j < len(nlri):
        plen = nlri[j]
        raw = nlri[j + 1:j + 1 + (plen + 7) // 8] + b'\x00' * 4
        prefix = '%s/%d' % (socket.inet_ntoa(raw[:4]), plen)
        j += 1 + (plen + 7) // 8
        if prefix == '192.168.2.0/24':
            res.update(got)
            res['prefix'] = prefix
            return True
    return False


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ADDR, 179))
    ls.listen(1)
    ls.settimeout(LIFE)
    s, peer = ls.accept()
    res = {'peer': peer[0], 'notification': None}
    buf, end, sent_routes, done, written = b'', time.time() + LIFE, False, False, False
    last_ka = time.time()
    s.sendall(msg(1, struct.pack('!BHH4sB', 4, OUR_AS, 30, socket.inet_aton(ADDR), 0)))
    while time.time() < end:
        if time.time() - last_ka > 10:
            s.sendall(msg(4))
            last_ka = time.time()
        r, _, _ = select.select([s], [], [], 1.0)
        if not r:
            continue
        d = s.recv(65536)
        if not d:
            res['closed'] = True
            break
        buf += d
        while len(buf) >= 19:
            mlen, mtype = struct.unpack('!HB', buf[16:19])
            if len(buf) < mlen:
                break
            body, buf = buf[19:mlen], buf[mlen:]
            if mtype == 1:
                res.update(parse_open(body))
                s.sendall(msg(4))
            elif mtype == 4 and not sent_routes:
                s.sendall(update('172.20.0.0', 16, [OUR_AS]))
                s.sendall(update('172.22.0.0', 16, [OUR_AS, 23456], [4200000099]))
                sent_routes = True
            elif mtype == 2 and not done and parse_update(body, res):
                done = True
            elif mtype == 3:
                res['notification'] = list(body[:2])
        if (done or res['notification']) and not written:
            with open(RESULT + '.tmp', 'w') as f:
                json.dump(res, f)
            os.rename(RESULT + '.tmp', RESULT)
            written = True
        if res['notification']:
            break
    if not written:
        with open(RESULT, 'w') as f:
            json.dump(res, f)
    s.close()


main()
