/*
 * IKE/ESP proposals written strongSwan-style ("aes256-sha256-modp2048",
 * several comma separated), turned into IANA transform ids (RFC 7296 3.3.2,
 * IANA "IKEv2 Parameters"). The name tables here are the single source for
 * algorithm names in config, logs and status.
 */
#ifndef CGW_PROPOSAL_H
#define CGW_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Transform types (RFC 7296 3.3.2). */
enum ike_transform_type {
	IKE_TRANSFORM_ENCR = 1,
	IKE_TRANSFORM_PRF = 2,
	IKE_TRANSFORM_INTEG = 3,
	IKE_TRANSFORM_DH = 4,
	IKE_TRANSFORM_ESN = 5,
};

/* ENCR ids we implement. */
#define IKE_ENCR_AES_CBC 12
#define IKE_ENCR_AES_GCM_16 20

/* PRF ids. */
#define IKE_PRF_HMAC_SHA1 2
#define IKE_PRF_HMAC_SHA2_256 5
#define IKE_PRF_HMAC_SHA2_384 6
#define IKE_PRF_HMAC_SHA2_512 7

/* INTEG ids. */
#define IKE_INTEG_NONE 0
#define IKE_INTEG_HMAC_SHA1_96 2
#define IKE_INTEG_HMAC_SHA2_256_128 12
#define IKE_INTEG_HMAC_SHA2_384_192 13
#define IKE_INTEG_HMAC_SHA2_512_256 14

/* ESN ids. */
#define IKE_ESN_NONE 0
#define IKE_ESN_YES 1

enum proposal_kind {
	PROPOSAL_IKE,			/* ENCR, INTEG (unless AEAD), PRF, DH */
	PROPOSAL_ESP,			/* ENCR, INTEG (unless AEAD), DH optional */
};

#define PROPOSAL_MAX_ALGS 8
#define PROPOSALS_MAX 8

struct cgw_alg {
	uint16_t id;
	uint16_t keylen;		/* bits, for ENCR; 0 otherwise */
};

struct cgw_proposal {
	struct cgw_alg encr[PROPOSAL_MAX_ALGS];
	size_t n_encr;
	struct cgw_alg integ[PROPOSAL_MAX_ALGS];
	size_t n_integ;
	struct cgw_alg prf[PROPOSAL_MAX_ALGS];
	size_t n_prf;
	struct cgw_alg dh[PROPOSAL_MAX_ALGS];
	size_t n_dh;
	struct cgw_alg esn[2];
	size_t n_esn;
};

struct cgw_proposals {
	struct cgw_proposal p[PROPOSALS_MAX];
	size_t n;
};

/*
 * Parse a comma-separated list of proposals. On error returns -EINVAL and
 * writes a message naming the bad token (and a suggestion) into err.
 */
int proposal_parse(const char *text, enum proposal_kind kind,
		   struct cgw_proposals *out, char *err, size_t errlen);

/* Write the canonical spelling ("aes256-sha256-modp2048,...") into buf. */
const char *proposal_str(const struct cgw_proposals *p, enum proposal_kind kind,
			 char *buf, size_t len);

/* Name of one transform ("aes256gcm16", "sha256", "modp2048"), or NULL. */
const char *proposal_alg_name(enum ike_transform_type type, const struct cgw_alg *alg);

/* True when every ENCR in the proposal is an AEAD (no INTEG then). */
bool proposal_is_aead(const struct cgw_proposal *p);

#endif
