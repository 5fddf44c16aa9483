/*
 * IKEv2 cryptography: HMAC PRFs and prf+ (RFC 7296 2.13), key derivation
 * for IKE and Child SAs (2.14, 2.17, 2.18), SK payload protection (3.14,
 * RFC 5282 for AES-GCM) and PSK AUTH (2.15), on OpenSSL 3 EVP. Keys live
 * in locked memory (common/secret.h); call secret_init() before any of
 * this. Algorithm ids are the IANA values of conf/proposal.h.
 *
 * Error convention: 0 or -errno. -ENOTSUP for an algorithm we do not
 * implement, -EINVAL for a caller mistake or a bad peer value, -EBADMSG
 * for anything a peer sent that fails integrity or format checks, -EIO
 * when OpenSSL itself fails.
 */
#ifndef CGW_IKE_CRYPTO_H
#define CGW_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/secret.h"
#include "conf/proposal.h"

#define IKE_PRF_MAX 64		/* longest PRF output: HMAC-SHA2-512 */
#define IKE_ICV_MAX 32		/* longest ICV: HMAC-SHA2-512-256 */
#define IKE_SPI_LEN 8
#define IKE_HDR_LEN 28		/* fixed IKE header (RFC 7296 3.1) */
#define IKE_GCM_SALT_LEN 4	/* RFC 5282 / RFC 4106 salt after the key */
#define IKE_GCM_IV_LEN 8
#define IKE_GCM_ICV_LEN 16
#define IKE_AES_BLOCK 16
#define IKE_IOV_MAX 6		/* data pieces one PRF call accepts */

/* An iovec over read-only bytes (iovec has no const member). */
#define IKE_IOV(p, len) ((struct iovec){ .iov_base = (void *)(p), .iov_len = (len) })

/* Negotiated transforms of one SA (IKE or ESP). */
struct ike_algs {
	uint16_t encr;		/* IKE_ENCR_AES_CBC or IKE_ENCR_AES_GCM_16 */
	uint16_t encr_keylen;	/* key length attribute in bits: 128, 192, 256 */
	uint16_t integ;		/* IKE_INTEG_*; IKE_INTEG_NONE with AES-GCM */
	uint16_t prf;		/* IKE_PRF_*; ignored for ESP */
};

/* True when we implement transform id (keylen in bits, ENCR only; else 0). */
bool ike_crypto_supported(enum ike_transform_type type, uint16_t id, uint16_t keylen);
/* 0 if a is a usable IKE (ike=true, needs a PRF) or ESP suite; -ENOTSUP or -EINVAL. */
int ike_algs_check(const struct ike_algs *a, bool ike);
/* PRF output and preferred key length in bytes; 0 if unknown. */
size_t ike_prf_len(uint16_t prf);
/* Truncated ICV length of an INTEG transform in bytes; 0 if unknown or NONE. */
size_t ike_integ_icv_len(uint16_t integ);
/* HMAC key length of an INTEG transform in bytes (RFC 4868 2.1.1); 0 if none. */
size_t ike_integ_key_len(uint16_t integ);
/* Encryption key material length in bytes (GCM: key + 4-byte salt); 0 if unknown. */
size_t ike_encr_key_len(uint16_t encr, uint16_t keylen_bits);

/*
 * out = prf(key, data[0] | ... | data[n-1]). *outlen is the room in out on
 * entry and the bytes written (ike_prf_len()) on return; -ENOSPC if short.
 */
int ike_prf(uint16_t prf, const uint8_t *key, size_t keylen,
	    const struct iovec *data, size_t n, uint8_t *out, size_t *outlen);
/*
 * prf+ (RFC 7296 2.13): out = first outlen bytes of T1 | T2 | ..., with
 * Tk = prf(key, T(k-1) | seed | k). At most 255 blocks (-EINVAL beyond).
 */
int ike_prf_plus(uint16_t prf, const uint8_t *key, size_t keylen,
		 const struct iovec *seed, size_t n, uint8_t *out, size_t outlen);
/* out = HMAC of an INTEG transform truncated to ike_integ_icv_len() bytes. */
int ike_integ(uint16_t integ, const uint8_t *key, size_t keylen,
	      const struct iovec *data, size_t n, uint8_t *out, size_t outlen);

/* AES-CBC without padding (len a multiple of 16); in may equal out. */
int ike_aes_cbc(bool encrypt, const uint8_t *key, size_t keylen,
		const uint8_t iv[IKE_AES_BLOCK], const uint8_t *in, size_t len,
		uint8_t *out);
/*
 * AES-GCM with a 12-byte nonce and 16-byte tag; in may equal out. Encrypt
 * writes tag; decrypt checks it (-EBADMSG, out wiped) after the fact.
 */
int ike_aes_gcm(bool encrypt, const uint8_t *key, size_t keylen,
		const uint8_t nonce[12], const uint8_t *aad, size_t aadlen,
		const uint8_t *in, size_t len, uint8_t *out,
		uint8_t tag[IKE_GCM_ICV_LEN]);

/* The two nonces of an exchange, stripped of payload headers. */
struct ike_nonces {
	const uint8_t *ni;
	size_t ni_len;
	const uint8_t *nr;
	size_t nr_len;
};

/* Keys of one IKE SA (RFC 7296 2.14); SK_ai/SK_ar are empty with AES-GCM. */
struct ike_sa_keys {
	struct cgw_secret sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

/* Keys of one Child SA; "i" protects initiator -> responder traffic. */
struct ike_child_keys {
	struct cgw_secret encr_i, integ_i;	/* GCM: key | 4-byte salt; integ empty */
	struct cgw_secret encr_r, integ_r;
};

/* SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14); out replaced. */
int ike_skeyseed(uint16_t prf, const struct ike_nonces *n,
		 const struct cgw_secret *gir, struct cgw_secret *out);
/*
 * SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 2.18), with
 * the PRF of the IKE SA being rekeyed; out replaced.
 */
int ike_skeyseed_rekey(uint16_t old_prf, const struct cgw_secret *old_sk_d,
		       const struct cgw_secret *gir, const struct ike_nonces *n,
		       struct cgw_secret *out);
/*
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
 * prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), split for suite a (its PRF; after
 * a rekey, the new SA's PRF and SPIs). SPIs in wire order. out replaced;
 * on error it is left cleared.
 */
int ike_derive_ike_keys(const struct ike_algs *a, const struct cgw_secret *skeyseed,
			const struct ike_nonces *n, const uint8_t spii[IKE_SPI_LEN],
			const uint8_t spir[IKE_SPI_LEN], struct ike_sa_keys *out);
/* Wipe and free every key; k may be partly filled. */
void ike_sa_keys_clear(struct ike_sa_keys *k);
/*
 * Child SA KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17),
 * split for ESP suite esp: encr_i, integ_i, encr_r, integ_r. gir is NULL
 * without PFS. Ni/Nr: IKE_SA_INIT nonces for the first Child SA, else the
 * CREATE_CHILD_SA nonces; "i" is that exchange's initiator. out replaced.
 */
int ike_derive_child_keys(const struct ike_algs *esp, uint16_t prf,
			  const struct cgw_secret *sk_d, const struct cgw_secret *gir,
			  const struct ike_nonces *n, struct ike_child_keys *out);
/* Wipe and free every key; k may be partly filled. */
void ike_child_keys_clear(struct ike_child_keys *k);

/*
 * One direction of SK payload protection. It points into an ike_sa_keys,
 * which must outlive it (re-init after a rekey). seq numbers the explicit
 * AES-GCM IVs (1, 2, ...): bind exactly one ike_sk to each sending
 * direction so an IV never repeats under a key. Retransmissions resend the
 * stored bytes; they are not encrypted again.
 */
struct ike_sk {
	struct ike_algs algs;
	const struct cgw_secret *ekey;	/* SK_ei or SK_er */
	const struct cgw_secret *akey;	/* SK_ai or SK_ar (empty with GCM) */
	uint64_t seq;
};

/* Bind sk to SK_ei/SK_ai (i2r, messages from the original initiator) or SK_er/SK_ar. */
void ike_sk_init(struct ike_sk *sk, const struct ike_algs *a,
		 const struct ike_sa_keys *k, bool i2r);
/* IV length in the SK payload: 16 for AES-CBC, 8 for AES-GCM. */
size_t ike_sk_iv_len(const struct ike_sk *sk);
/* Bytes SK protection adds to plain_len inner payload bytes: IV + padding + pad length + ICV. */
size_t ike_sk_overhead(const struct ike_sk *sk, size_t plain_len);
/*
 * Protect an SK payload. msg[0, aad_len) is the IKE header through the SK
 * generic payload header (and any unencrypted payloads between), with the
 * IKE header length already set to the final total, aad_len + plain_len +
 * ike_sk_overhead(). The inner payloads are read from plain (which may be
 * msg + aad_len + ike_sk_iv_len()); IV, ciphertext and ICV are written
 * after the AAD. -ENOSPC if cap is short, -EINVAL if the length field is
 * not the total. *msg_len gets the total.
 */
int ike_sk_encrypt(struct ike_sk *sk, uint8_t *msg, size_t aad_len,
		   const uint8_t *plain, size_t plain_len, size_t cap, size_t *msg_len);
/*
 * Check and decrypt an SK payload in place: msg is the whole message
 * (msg_len bytes, matching its IKE header length), the SK payload body
 * starting at aad_len. The ICV (CBC) or tag (GCM) is verified in constant
 * time before anything is used; then padding bounds. Any failure is
 * -EBADMSG. On success the inner payloads are msg[*plain_off, + *plain_len).
 */
int ike_sk_decrypt(const struct ike_sk *sk, uint8_t *msg, size_t msg_len,
		   size_t aad_len, size_t *plain_off, size_t *plain_len);
/*
 * ike_sk_decrypt() telling the failures apart, for the log and the
 * answer: -EMSGSIZE the SK payload's lengths cannot hold IV, pad length
 * and ICV (or whole blocks); -EBADMSG the ICV or tag is wrong; -EPROTO
 * the message is authentic but its pad length points before the
 * plaintext (then msg[*plain_off, + *plain_len) is all that was
 * decrypted, the pad length byte last); -EIO a crypto library failure.
 */
int ike_sk_open(const struct ike_sk *sk, uint8_t *msg, size_t msg_len,
		size_t aad_len, size_t *plain_off, size_t *plain_len);

/*
 * What AUTH signs for one party, the "signer" (RFC 7296 2.15): its own
 * IKE_SA_INIT message as sent, the other party's nonce, and prf(SK_px, IDx')
 * with the signer's SK_pi/SK_pr and ID payload body (type | 3 reserved |
 * data). To verify a peer's AUTH, fill it in from the peer's point of view.
 */
struct ike_auth_octets {
	const uint8_t *msg;
	size_t msg_len;
	const uint8_t *nonce;
	size_t nonce_len;
	const struct cgw_secret *sk_p;
	const uint8_t *id;
	size_t id_len;
};

/*
 * AUTH = prf(prf(PSK, "Key Pad for IKEv2"), SignedOctets). *outlen: room
 * on entry, ike_prf_len() on return.
 */
int ike_psk_auth(uint16_t prf, const struct cgw_secret *psk,
		 const struct ike_auth_octets *o, uint8_t *out, size_t *outlen);
/* 0 if auth (the AUTH payload's data) is right, compared in constant time; else -EBADMSG. */
int ike_psk_auth_verify(uint16_t prf, const struct cgw_secret *psk,
			const struct ike_auth_octets *o, const uint8_t *auth, size_t auth_len);

/* Replace s with len zeroed bytes of locked memory; 0 or -ENOMEM. */
int ike_secret_alloc(struct cgw_secret *s, size_t len);

#endif
