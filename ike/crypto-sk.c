/*
 * SK payload protection (RFC 7296 3.14): AES-CBC with a random IV and a
 * truncated HMAC over the whole message, or AES-GCM (RFC 5282) with an
 * 8-byte counter IV and the message up to the SK payload header as AAD.
 */
#include "ike/crypto.h"

#include <errno.h>
#include <string.h>
#include <openssl/rand.h>
#include <sodium.h>

#define IKE_HDR_LENGTH_OFF 24	/* Length field of the IKE header */
#define GENERIC_HDR_LEN 4

static bool is_gcm(const struct ike_sk *sk)
{
	return sk->algs.encr == IKE_ENCR_AES_GCM_16;
}

static size_t icv_len(const struct ike_sk *sk)
{
	return is_gcm(sk) ? IKE_GCM_ICV_LEN : ike_integ_icv_len(sk->algs.integ);
}

/* Padding bytes so that plaintext | padding | pad length fills whole blocks. */
static size_t pad_len(const struct ike_sk *sk, size_t plain_len)
{
	if (is_gcm(sk))
		return 0;	/* GCM needs no alignment: just the pad length byte */
	return IKE_AES_BLOCK - 1 - plain_len % IKE_AES_BLOCK;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The keys bound to sk have the lengths its algorithms need. */
static int sk_ready(const struct ike_sk *sk)
{
	if (ike_algs_check(&sk->algs, false) < 0 || !sk->ekey || !sk->akey)
		return -EINVAL;
	if (sk->ekey->len != ike_encr_key_len(sk->algs.encr, sk->algs.encr_keylen) ||
	    sk->akey->len != ike_integ_key_len(sk->algs.integ))
		return -EINVAL;
	return 0;
}

void ike_sk_init(struct ike_sk *sk, const struct ike_algs *a,
		 const struct ike_sa_keys *k, bool i2r)
{
	memset(sk, 0, sizeof(*sk));
	sk->algs = *a;
	sk->ekey = i2r ? &k->sk_ei : &k->sk_er;
	sk->akey = i2r ? &k->sk_ai : &k->sk_ar;
}

size_t ike_sk_iv_len(const struct ike_sk *sk)
{
	return is_gcm(sk) ? IKE_GCM_IV_LEN : IKE_AES_BLOCK;
}

size_t ike_sk_overhead(const struct ike_sk *sk, size_t plain_len)
{
	return ike_sk_iv_len(sk) + pad_len(sk, plain_len) + 1 + icv_len(sk);
}

/* nonce = salt (last 4 bytes of SK_e) | explicit IV (RFC 5282 4). */
static void gcm_nonce(const struct ike_sk *sk, const uint8_t *iv, uint8_t nonce[12])
{
	memcpy(nonce, sk->ekey->data + sk->ekey->len - IKE_GCM_SALT_LEN, IKE_GCM_SALT_LEN);
	memcpy(nonce + IKE_GCM_SALT_LEN, iv, IKE_GCM_IV_LEN);
}

static int seal_gcm(struct ike_sk *sk, uint8_t *msg, size_t aad_len,
		    uint8_t *iv, uint8_t *ct, size_t ct_len)
{
	uint8_t nonce[12];

	if (sk->seq == UINT64_MAX)
		return -EOVERFLOW;	/* an IV is never reused; rekey long before */
	sk->seq++;
	for (int i = 0; i < IKE_GCM_IV_LEN; i++)
		iv[i] = (uint8_t)(sk->seq >> (56 - 8 * i));
	gcm_nonce(sk, iv, nonce);
	return ike_aes_gcm(true, sk->ekey->data, sk->ekey->len - IKE_GCM_SALT_LEN,
			   nonce, msg, aad_len, ct, ct_len, ct, ct + ct_len);
}

static int seal_cbc(const struct ike_sk *sk, uint8_t *msg, uint8_t *iv,
		    uint8_t *ct, size_t ct_len)
{
	struct iovec whole = IKE_IOV(msg, (size_t)(ct + ct_len - msg));
	int ret;

	if (RAND_bytes(iv, IKE_AES_BLOCK) != 1)	/* unpredictable IV (3.14) */
		return -EIO;
	ret = ike_aes_cbc(true, sk->ekey->data, sk->ekey->len, iv, ct, ct_len, ct);
	if (ret < 0)
		return ret;
	return ike_integ(sk->algs.integ, sk->akey->data, sk->akey->len, &whole, 1,
			 ct + ct_len, icv_len(sk));
}

int ike_sk_encrypt(struct ike_sk *sk, uint8_t *msg, size_t aad_len,
		   const uint8_t *plain, size_t plain_len, size_t cap, size_t *msg_len)
{
	size_t ivl, pad, total;
	uint8_t *iv, *ct;
	int ret;

	ret = sk_ready(sk);
	if (ret < 0)
		return ret;
	if (aad_len < IKE_HDR_LEN + GENERIC_HDR_LEN || aad_len > cap)
		return -EINVAL;
	ivl = ike_sk_iv_len(sk);
	pad = pad_len(sk, plain_len);
	if (plain_len > cap - aad_len)
		return -ENOSPC;
	total = aad_len + plain_len + ike_sk_overhead(sk, plain_len);
	if (total > cap)
		return -ENOSPC;
	if (get_be32(msg + IKE_HDR_LENGTH_OFF) != total)
		return -EINVAL;
	iv = msg + aad_len;
	ct = iv + ivl;
	if (plain_len)
		memmove(ct, plain, plain_len);
	memset(ct + plain_len, 0, pad);
	ct[plain_len + pad] = (uint8_t)pad;
	if (is_gcm(sk))
		ret = seal_gcm(sk, msg, aad_len, iv, ct, plain_len + pad + 1);
	else
		ret = seal_cbc(sk, msg, iv, ct, plain_len + pad + 1);
	if (ret < 0)
		return ret;
	*msg_len = total;
	return 0;
}

/* Verify the ICV over everything before it, in constant time, then decrypt. */
static int open_cbc(const struct ike_sk *sk, uint8_t *msg, uint8_t *ct, size_t ct_len)
{
	struct iovec whole = IKE_IOV(msg, (size_t)(ct + ct_len - msg));
	uint8_t want[IKE_ICV_MAX];
	int ret;

	ret = ike_integ(sk->algs.integ, sk->akey->data, sk->akey->len, &whole, 1,
			want, sizeof(want));
	if (ret < 0)
		return ret;
	if (sodium_memcmp(want, ct + ct_len, icv_len(sk)) != 0)
		return -EBADMSG;
	return ike_aes_cbc(false, sk->ekey->data, sk->ekey->len, ct - IKE_AES_BLOCK,
			   ct, ct_len, ct);
}

/* GCM checks the tag in its final step; on failure the output is wiped. */
static int open_gcm(const struct ike_sk *sk, uint8_t *msg, size_t aad_len,
		    uint8_t *ct, size_t ct_len)
{
	uint8_t nonce[12];

	gcm_nonce(sk, ct - IKE_GCM_IV_LEN, nonce);
	return ike_aes_gcm(false, sk->ekey->data, sk->ekey->len - IKE_GCM_SALT_LEN,
			   nonce, msg, aad_len, ct, ct_len, ct, ct + ct_len);
}

int ike_sk_open(const struct ike_sk *sk, uint8_t *msg, size_t msg_len,
		size_t aad_len, size_t *plain_off, size_t *plain_len)
{
	size_t ivl, icv, ct_len, pad;
	uint8_t *ct;
	int ret;

	ret = sk_ready(sk);
	if (ret < 0)
		return ret;
	ivl = ike_sk_iv_len(sk);
	icv = icv_len(sk);
	if (aad_len < IKE_HDR_LEN + GENERIC_HDR_LEN || msg_len < aad_len ||
	    msg_len - aad_len < ivl + 1 + icv)
		return -EMSGSIZE;
	if (get_be32(msg + IKE_HDR_LENGTH_OFF) != msg_len)
		return -EMSGSIZE;
	ct = msg + aad_len + ivl;
	ct_len = msg_len - aad_len - ivl - icv;
	if (!is_gcm(sk) && ct_len % IKE_AES_BLOCK)
		return -EMSGSIZE;
	if (is_gcm(sk))
		ret = open_gcm(sk, msg, aad_len, ct, ct_len);
	else
		ret = open_cbc(sk, msg, ct, ct_len);
	if (ret < 0)
		return ret == -EIO ? -EIO : -EBADMSG;
	pad = ct[ct_len - 1];
	*plain_off = aad_len + ivl;
	if (pad + 1 > ct_len) {
		*plain_len = ct_len;	/* what was decrypted, pad length last */
		return -EPROTO;
	}
	*plain_len = ct_len - pad - 1;
	return 0;
}

int ike_sk_decrypt(const struct ike_sk *sk, uint8_t *msg, size_t msg_len,
		   size_t aad_len, size_t *plain_off, size_t *plain_len)
{
	int ret = ike_sk_open(sk, msg, msg_len, aad_len, plain_off, plain_len);

	return ret == -EMSGSIZE || ret == -EPROTO ? -EBADMSG : ret;
}
