#!/usr/bin/env python3
"""Look for known secrets in logs, command outputs and core dumps.

Used by tests/vm/scenarios/72-secrets.sh. Two commands:

  secrets-scan.py charon-keys LOG...
      Print the keys a strongSwan charon logged at level 4 (ike and chd
      groups: SKEYSEED, Sk_d, Sk_ai/ar, Sk_ei/er, Sk_pi/pr, the DH shared
      secret, the CHILD SA encryption/integrity keys) as lines
      "NAME<TAB>HEX", NAME like "aws-1 Sk_ei #3".

  secrets-scan.py scan --secrets FILE [--maps FILE] PLACE=PATH...
      FILE has "NAME<TAB>HEX" lines. Every PATH is searched for every
      secret: the raw bytes, hex (lower and upper case, plain and with
      ' ' or ':' between bytes), base64; and, for secrets longer than 16
      bytes, their first and last 16 bytes, raw and as hex (a key stored
      without its GCM salt; an AES key schedule, whose first round key is
      the key; a hex dump cut into lines).
      An ELF core is mapped back to addresses (PT_LOAD) and, with --maps
      (the process's /proc/PID/maps at dump time), to the mapping that
      holds each hit. Prints one line per place and one per hit, never a
      secret's value. Exit 0: nothing found; 1: something found; 2: usage.
"""

import base64
import re
import struct
import sys

# Labels strongSwan gives the keys it logs with %B at level 4.
SECRET_LABELS = re.compile(
    r"^(Sk_(?:d|ai|ar|ei|er|pi|pr) secret|SKEYSEED|shared Diffie Hellman secret|"
    r"(?:encryption|integrity) (?:initiator|responder) key)$")
HEADER = re.compile(r"(?:<([^|>]+)\|(\d+)>\s+)?([A-Za-z][A-Za-z_ ]*?) => (\d+) bytes @ 0x[0-9a-f]+")
DUMP_LINE = re.compile(r"\s(\d{1,5}): ((?:[0-9A-F]{2} ){0,15}[0-9A-F]{2})(?:\s|$)")


def charon_keys(paths):
    """Yield (name, bytes) for every secret in strongSwan file logs."""
    for path in paths:
        with open(path, "r", errors="replace") as f:
            lines = f.read().splitlines()
        i = 0
        while i < len(lines):
            m = HEADER.search(lines[i])
            i += 1
            if not m or not SECRET_LABELS.match(m.group(3)):
                continue
            conn, uid, label, want = m.group(1), m.group(2), m.group(3), int(m.group(4))
            data = bytearray()
            while len(data) < want and i < len(lines):
                d = DUMP_LINE.search(lines[i])
                if not d or int(d.group(1)) != len(data):
                    break
                data += bytes.fromhex(d.group(2))
                i += 1
            if len(data) != want or want == 0:
                continue
            name = label.replace(" secret", "")
            where = f"{conn} " if conn else ""
            yield f"{where}{name} #{uid or '?'}", bytes(data)


def needles(value):
    """(kind, bytes) to look for: every encoding of one secret."""
    hx = value.hex()
    out = [("raw", value), ("hex", hx.encode()), ("HEX", hx.upper().encode())]
    for sep in (" ", ":"):
        out.append(("hex" + repr(sep), sep.join(hx[i:i + 2] for i in range(0, len(hx), 2)).encode()))
        out.append(("HEX" + repr(sep), sep.join(hx[i:i + 2] for i in range(0, len(hx), 2)).upper().encode()))
    b64 = base64.b64encode(value).rstrip(b"=")
    if len(b64) >= 16:
        out.append(("base64", b64))
    if len(value) > 16:
        for where, part in (("first", value[:16]), ("last", value[-16:])):
            ph = part.hex()
            out.append((f"its {where} 16 bytes, raw", part))
            out.append((f"its {where} 16 bytes, hex", ph.encode()))
            out.append((f"its {where} 16 bytes, HEX", ph.upper().encode()))
            out.append((f"its {where} 16 bytes, 'HH HH'",
                        " ".join(ph[i:i + 2] for i in range(0, 32, 2)).upper().encode()))
    return out


def elf_loads(data):
    """[(file offset, size, vaddr)] of an ELF64 core's PT_LOAD segments, or []."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or len(data) < 64:
        return []
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads = []
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + 56 > len(data):
            break
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", data, off)
        if p_type == 1 and p_filesz:
            loads.append((p_offset, p_filesz, p_vaddr))
    return loads


def read_maps(path):
    maps = []
    if not path:
        return maps
    with open(path) as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            maps.append((lo, hi, parts[5].strip() if len(parts) > 5 else "[anon]"))
    return maps


def locate(off, loads, maps):
    for p_off, size, vaddr in loads:
        if p_off <= off < p_off + size:
            addr = vaddr + off - p_off
            for lo, hi, name in maps:
                if lo <= addr < hi:
                    return f"address 0x{addr:x} in {name} (+0x{addr - lo:x})"
            return f"address 0x{addr:x}"
    return f"file offset 0x{off:x}"


def scan(secrets, places, maps_path):
    maps = read_maps(maps_path)
    found = 0
    for place, path in places:
        with open(path, "rb") as f:
            data = f.read()
        loads = elf_loads(data)
        hits = 0
        for name, value in secrets:
            for kind, needle in needles(value):
                pos = data.find(needle)
                n = 0
                first = pos
                while pos >= 0:
                    n += 1
                    pos = data.find(needle, pos + 1)
                if n:
                    hits += 1
                    print(f"FOUND: {name} ({len(value)} bytes) in {place} as {kind}, "
                          f"{n} time(s), first at {locate(first, loads, maps)}")
        what = f"ELF core, {len(loads)} segments" if loads else "text"
        print(f"scanned {place}: {len(data)} bytes ({what}) for {len(secrets)} secrets: "
              f"{'nothing found' if not hits else f'{hits} hit(s)'}")
        found += hits
    return found


def main(argv):
    if len(argv) >= 2 and argv[1] == "charon-keys":
        for name, value in charon_keys(argv[2:]):
            print(f"{name}\t{value.hex()}")
        return 0
    if len(argv) >= 4 and argv[1] == "scan" and argv[2] == "--secrets":
        secrets = []
        with open(argv[3]) as f:
            for line in f:
                name, _, hx = line.rstrip("\n").rpartition("\t")
                if name and hx:
                    secrets.append((name, bytes.fromhex(hx)))
        rest = argv[4:]
        maps_path = None
        if len(rest) >= 2 and rest[0] == "--maps":
            maps_path, rest = rest[1], rest[2:]
        places = [tuple(a.split("=", 1)) for a in rest]
        if not secrets or not places or any(len(p) != 2 for p in places):
            print("secrets-scan.py: no secrets, or a PLACE=PATH missing", file=sys.stderr)
            return 2
        return 1 if scan(secrets, places, maps_path) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
