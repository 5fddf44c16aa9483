/*
 * IKEv2 crypto building blocks: the table of transforms we implement,
 * HMAC PRFs and prf+, truncated HMAC integrity, raw AES-CBC and AES-GCM,
 * all on OpenSSL 3 EVP. Key derivation is in crypto-kdf.c, SK payloads in
 * crypto-sk.c, Diffie-Hellman in dh.c.
 */
#include "ike/crypto.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "ike/dh.h"

/* An HMAC-based transform: PRF (trunc == len) or INTEG (RFC 4868 2.1). */
struct hmac_alg {
	uint16_t id;
	const char *md;		/* OpenSSL digest name */
	size_t len;		/* digest length = key length */
	size_t trunc;		/* output length */
};

static const struct hmac_alg prf_algs[] = {
	{ IKE_PRF_HMAC_SHA1, "SHA1", 20, 20 },
	{ IKE_PRF_HMAC_SHA2_256, "SHA256", 32, 32 },
	{ IKE_PRF_HMAC_SHA2_384, "SHA384", 48, 48 },
	{ IKE_PRF_HMAC_SHA2_512, "SHA512", 64, 64 },
};

static const struct hmac_alg integ_algs[] = {
	{ IKE_INTEG_HMAC_SHA1_96, "SHA1", 20, 12 },
	{ IKE_INTEG_HMAC_SHA2_256_128, "SHA256", 32, 16 },
	{ IKE_INTEG_HMAC_SHA2_384_192, "SHA384", 48, 24 },
	{ IKE_INTEG_HMAC_SHA2_512_256, "SHA512", 64, 32 },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct hmac_alg *find_hmac(const struct hmac_alg *t, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].id == id)
			return &t[i];
	return NULL;
}

static const struct hmac_alg *find_prf(uint16_t id)
{
	return find_hmac(prf_algs, N_ELEMS(prf_algs), id);
}

static const struct hmac_alg *find_integ(uint16_t id)
{
	return find_hmac(integ_algs, N_ELEMS(integ_algs), id);
}

static bool aes_keylen_ok(uint16_t bits)
{
	return bits == 128 || bits == 192 || bits == 256;
}

bool ike_crypto_supported(enum ike_transform_type type, uint16_t id, uint16_t keylen)
{
	switch (type) {
	case IKE_TRANSFORM_ENCR:
		return (id == IKE_ENCR_AES_CBC || id == IKE_ENCR_AES_GCM_16) &&
		       aes_keylen_ok(keylen);
	case IKE_TRANSFORM_PRF:
		return keylen == 0 && find_prf(id) != NULL;
	case IKE_TRANSFORM_INTEG:
		return keylen == 0 && (id == IKE_INTEG_NONE || find_integ(id) != NULL);
	case IKE_TRANSFORM_DH:
		return keylen == 0 && ike_dh_supported(id);
	case IKE_TRANSFORM_ESN:
		return keylen == 0 && (id == IKE_ESN_NONE || id == IKE_ESN_YES);
	}
	return false;
}

int ike_algs_check(const struct ike_algs *a, bool ike)
{
	if (!ike_crypto_supported(IKE_TRANSFORM_ENCR, a->encr, a->encr_keylen))
		return -ENOTSUP;
	if (a->encr == IKE_ENCR_AES_GCM_16) {
		if (a->integ != IKE_INTEG_NONE)
			return -EINVAL;		/* RFC 5282 8: AEAD takes no INTEG */
	} else if (a->integ == IKE_INTEG_NONE) {
		return -EINVAL;
	} else if (!find_integ(a->integ)) {
		return -ENOTSUP;
	}
	if (ike && !find_prf(a->prf))
		return -ENOTSUP;
	return 0;
}

size_t ike_prf_len(uint16_t prf)
{
	const struct hmac_alg *h = find_prf(prf);

	return h ? h->len : 0;
}

size_t ike_integ_icv_len(uint16_t integ)
{
	const struct hmac_alg *h = find_integ(integ);

	return h ? h->trunc : 0;
}

size_t ike_integ_key_len(uint16_t integ)
{
	const struct hmac_alg *h = find_integ(integ);

	return h ? h->len : 0;
}

size_t ike_encr_key_len(uint16_t encr, uint16_t keylen_bits)
{
	if (!ike_crypto_supported(IKE_TRANSFORM_ENCR, encr, keylen_bits))
		return 0;
	return keylen_bits / 8u + (encr == IKE_ENCR_AES_GCM_16 ? IKE_GCM_SALT_LEN : 0);
}

int ike_secret_alloc(struct cgw_secret *s, size_t len)
{
	unsigned char *p;

	secret_clear(s);
	p = sodium_malloc(len ? len : 1);	/* as secret_set(): never NULL data */
	if (!p)
		return -ENOMEM;
	sodium_memzero(p, len ? len : 1);
	s->data = p;
	s->len = len;
	return 0;
}

/* One keyed HMAC context, reusable for several messages (prf+). */
struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	size_t len;
};

static void hmac_close(struct hmac *h)
{
	EVP_MAC_CTX_free(h->ctx);	/* clears the key schedule */
	EVP_MAC_free(h->mac);
	h->ctx = NULL;
	h->mac = NULL;
}

static int hmac_open(struct hmac *h, const struct hmac_alg *alg,
		     const uint8_t *key, size_t keylen)
{
	static const uint8_t empty[1];
	OSSL_PARAM params[2];

	h->len = alg->len;
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	if (!h->ctx) {
		hmac_close(h);
		return -ENOMEM;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)alg->md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(h->ctx, keylen ? key : empty, keylen, params)) {
		hmac_close(h);
		return -EIO;
	}
	return 0;
}

/* out (h->len bytes) = HMAC(key given at open, data). */
static int hmac_run(struct hmac *h, const struct iovec *data, size_t n, uint8_t *out)
{
	size_t len = 0;

	if (!EVP_MAC_init(h->ctx, NULL, 0, NULL))	/* same key, fresh state */
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (data[i].iov_len &&
		    !EVP_MAC_update(h->ctx, data[i].iov_base, data[i].iov_len))
			return -EIO;
	if (!EVP_MAC_final(h->ctx, out, &len, h->len) || len != h->len)
		return -EIO;
	return 0;
}

static int hmac_once(const struct hmac_alg *alg, const uint8_t *key, size_t keylen,
		     const struct iovec *data, size_t n, uint8_t *out)
{
	struct hmac h;
	int ret;

	ret = hmac_open(&h, alg, key, keylen);
	if (ret < 0)
		return ret;
	ret = hmac_run(&h, data, n, out);
	hmac_close(&h);
	return ret;
}

int ike_prf(uint16_t prf, const uint8_t *key, size_t keylen,
	    const struct iovec *data, size_t n, uint8_t *out, size_t *outlen)
{
	const struct hmac_alg *alg = find_prf(prf);
	int ret;

	if (!alg)
		return -ENOTSUP;
	if (*outlen < alg->len)
		return -ENOSPC;
	ret = hmac_once(alg, key, keylen, data, n, out);
	if (ret < 0)
		return ret;
	*outlen = alg->len;
	return 0;
}

int ike_prf_plus(uint16_t prf, const uint8_t *key, size_t keylen,
		 const struct iovec *seed, size_t n, uint8_t *out, size_t outlen)
{
	const struct hmac_alg *alg = find_prf(prf);
	struct iovec iov[IKE_IOV_MAX + 2];
	uint8_t t[IKE_PRF_MAX], counter;
	struct hmac h;
	size_t done = 0;
	int ret;

	if (!alg)
		return -ENOTSUP;
	if (n > IKE_IOV_MAX || outlen > 255 * alg->len)
		return -EINVAL;
	ret = hmac_open(&h, alg, key, keylen);
	if (ret < 0)
		return ret;
	iov[0] = (struct iovec){ .iov_base = t, .iov_len = 0 };	/* T0 is empty */
	if (n)
		memcpy(&iov[1], seed, n * sizeof(*seed));
	iov[n + 1] = (struct iovec){ .iov_base = &counter, .iov_len = 1 };
	for (counter = 1; done < outlen; counter++) {
		size_t take = outlen - done < alg->len ? outlen - done : alg->len;

		ret = hmac_run(&h, iov, n + 2, t);
		if (ret < 0)
			goto out;
		memcpy(out + done, t, take);
		done += take;
		iov[0].iov_len = alg->len;	/* next block chains on Tk */
	}
out:
	hmac_close(&h);
	sodium_memzero(t, sizeof(t));
	return ret;
}

int ike_integ(uint16_t integ, const uint8_t *key, size_t keylen,
	      const struct iovec *data, size_t n, uint8_t *out, size_t outlen)
{
	const struct hmac_alg *alg = find_integ(integ);
	uint8_t full[IKE_PRF_MAX];
	int ret;

	if (!alg)
		return -ENOTSUP;
	if (outlen < alg->trunc)
		return -ENOSPC;
	ret = hmac_once(alg, key, keylen, data, n, full);
	if (ret == 0)
		memcpy(out, full, alg->trunc);
	sodium_memzero(full, sizeof(full));
	return ret;
}

static const EVP_CIPHER *aes_cipher(size_t keylen, bool gcm)
{
	switch (keylen) {
	case 16:
		return gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc();
	case 24:
		return gcm ? EVP_aes_192_gcm() : EVP_aes_192_cbc();
	case 32:
		return gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
	}
	return NULL;
}

int ike_aes_cbc(bool encrypt, const uint8_t *key, size_t keylen,
		const uint8_t iv[IKE_AES_BLOCK], const uint8_t *in, size_t len,
		uint8_t *out)
{
	const EVP_CIPHER *cipher = aes_cipher(keylen, false);
	EVP_CIPHER_CTX *ctx = NULL;
	int l1 = 0, l2 = 0, ret = -EIO;

	if (!cipher || len % IKE_AES_BLOCK || len > INT_MAX)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (!EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, encrypt) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0))
		goto out;
	if (len && !EVP_CipherUpdate(ctx, out, &l1, in, (int)len))
		goto out;
	if (!EVP_CipherFinal_ex(ctx, out + l1, &l2) || (size_t)(l1 + l2) != len)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);	/* clears the key schedule */
	return ret;
}

int ike_aes_gcm(bool encrypt, const uint8_t *key, size_t keylen,
		const uint8_t nonce[12], const uint8_t *aad, size_t aadlen,
		const uint8_t *in, size_t len, uint8_t *out,
		uint8_t tag[IKE_GCM_ICV_LEN])
{
	const EVP_CIPHER *cipher = aes_cipher(keylen, true);
	EVP_CIPHER_CTX *ctx = NULL;
	int l1 = 0, l2 = 0, ret = -EIO;

	if (!cipher || len > INT_MAX || aadlen > INT_MAX)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (!EVP_CipherInit_ex(ctx, cipher, NULL, key, nonce, encrypt))
		goto out;
	if (aadlen && !EVP_CipherUpdate(ctx, NULL, &l1, aad, (int)aadlen))
		goto out;
	l1 = 0;
	if (len && !EVP_CipherUpdate(ctx, out, &l1, in, (int)len))
		goto out;
	if (!encrypt &&
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, IKE_GCM_ICV_LEN, tag))
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + l1, &l2) <= 0) {
		ret = encrypt ? -EIO : -EBADMSG;
		if (!encrypt)
			ERR_clear_error();	/* a peer's bad tag is not our error */
		goto out;
	}
	if (encrypt &&
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, IKE_GCM_ICV_LEN, tag))
		goto out;
	ret = 0;
out:
	if (ret < 0 && !encrypt && len)
		sodium_memzero(out, len);	/* never leave unauthenticated plaintext */
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}
