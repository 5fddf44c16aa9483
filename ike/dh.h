/*
 * Diffie-Hellman for IKEv2 KE payloads: MODP groups 2, 5, 14-18 (RFC 2409,
 * RFC 3526), 22-24 (RFC 5114), ECP groups 19-21 (RFC 5903) and Curve25519
 * (31, RFC 8031). Public values use the exact IKEv2 wire encodings; peer
 * values are validated (RFC 6989) before use. Call secret_init() first.
 */
#ifndef CGW_IKE_DH_H
#define CGW_IKE_DH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/secret.h"

#define IKE_DH_PUBLIC_MAX 1024	/* MODP 8192 */

struct ike_dh;

/* True when group is one of the ids above. */
bool ike_dh_supported(uint16_t group);
/*
 * Key exchange data length of group in bytes, 0 if unknown: the prime
 * length (MODP), twice the field length (ECP: x | y), 32 (Curve25519).
 */
size_t ike_dh_public_len(uint16_t group);
/* Shared secret length: prime length, field length (ECP x only), 32. */
size_t ike_dh_shared_len(uint16_t group);

/* Fresh ephemeral key pair; *out owned by the caller. -ENOTSUP for an unknown group. */
int ike_dh_new(uint16_t group, struct ike_dh **out);
/*
 * Key pair from a fixed private value (big-endian for MODP and ECP, the raw
 * 32-byte scalar for Curve25519), for known-answer tests only.
 */
int ike_dh_new_with_private(uint16_t group, const uint8_t *priv, size_t len,
			    struct ike_dh **out);
/* Group id of dh. */
uint16_t ike_dh_group(const struct ike_dh *dh);
/*
 * Our KE payload key data: MODP big-endian left-padded to the prime
 * length; ECP x | y each padded to the field length, no 0x04 prefix
 * (RFC 5903 7); Curve25519 the 32-byte u-coordinate. *len: room on entry,
 * bytes written on return; -ENOSPC if short.
 */
int ike_dh_public(const struct ike_dh *dh, uint8_t *buf, size_t *len);
/*
 * g^ir from the peer's key data into out (replaced; locked memory). The
 * peer value must have the exact length; MODP 1 < y < p-1 (and y^q = 1 for
 * RFC 5114 groups); ECP a point on the curve; Curve25519 a non-zero
 * result. Any bad peer value is -EINVAL. out: MODP left-padded to the
 * prime length, ECP the x coordinate (RFC 5903 7), Curve25519 32 bytes.
 */
int ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t len,
		  struct cgw_secret *out);
/* Free dh and wipe its private key; NULL is fine. */
void ike_dh_free(struct ike_dh *dh);

#endif
