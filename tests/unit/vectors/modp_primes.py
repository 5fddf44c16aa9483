#!/usr/bin/env python3
"""
Recompute the IKE MODP primes from their defining formula and print the
SHA-256 of each big-endian prime, as pinned in test_ike_dh.c.

RFC 2409 6.2 (group 2) and RFC 3526 2-7 (groups 5, 14-18) define
    p = 2^n - 2^(n-64) - 1 + 2^64 * ( floor(2^(n-130) * pi) + k )
with generator 2. pi comes from Machin's formula in integer arithmetic,
so nothing here depends on OpenSSL.
"""
import hashlib

# group id: (bits, k) from RFC 2409 6.2 and RFC 3526.
GROUPS = {2: (1024, 129093), 5: (1536, 741804), 14: (2048, 124476),
          15: (3072, 1690314), 16: (4096, 240904), 17: (6144, 929484),
          18: (8192, 4743158)}


def arctan_inv(x, one):
    """arctan(1/x) * one, by its Taylor series."""
    total = term = one // x
    x2, n, sign = x * x, 3, -1
    while term:
        term //= x2
        total += sign * (term // n)
        sign, n = -sign, n + 2
    return total


def pi_scaled(bits):
    """floor(pi * 2^bits), with 64 guard bits."""
    one = 1 << (bits + 64)
    pi = 16 * arctan_inv(5, one) - 4 * arctan_inv(239, one)
    return pi >> 64


def prime(bits, k):
    return 2**bits - 2**(bits - 64) - 1 + 2**64 * (pi_scaled(bits - 130) + k)


if __name__ == '__main__':
    for gid, (bits, k) in GROUPS.items():
        p = prime(bits, k)
        be = p.to_bytes(bits // 8, 'big')
        print(gid, bits, hashlib.sha256(be).hexdigest())
