/*
 * ike/crypto*.c: HMAC PRF/INTEG, AES-CBC/GCM, prf+ and IKEv2 key
 * derivation against published vectors (tests/unit/vectors/, each with its
 * source), SK payload round trips, tampering and padding attacks, PSK AUTH.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/secret.h"
#include "ike/crypto.h"

#include "vectors/aes.h"
#include "vectors/hmac.h"
#include "vectors/ike_kat.h"
#include "vectors/ikev2_kdf.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct buf {
	uint8_t *p;
	size_t len;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a lower-case hex string (test vectors) into a fresh buffer. */
static struct buf unhex(const char *h)
{
	struct buf b = { .len = strlen(h) / 2 };

	assert_int_equal(strlen(h) % 2, 0);
	b.p = malloc(b.len ? b.len : 1);
	assert_non_null(b.p);
	for (size_t i = 0; i < b.len; i++) {
		int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		b.p[i] = (uint8_t)(hi << 4 | lo);
	}
	return b;
}

static void secret_hex(struct cgw_secret *s, const char *h)
{
	struct buf b = unhex(h);

	assert_int_equal(secret_set(s, b.p, b.len), 0);
	free(b.p);
}

/* ------------------------------------------------------------ HMAC */

static void test_prf_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(prf_vectors); i++) {
		const struct hmac_vector *v = &prf_vectors[i];
		struct buf key = unhex(v->key), data = unhex(v->data), want = unhex(v->out);
		struct iovec one = IKE_IOV(data.p, data.len), three[3];
		uint8_t out[IKE_PRF_MAX], out3[IKE_PRF_MAX];
		size_t len = sizeof(out), len3 = sizeof(out3);

		print_message("%s\n", v->src);
		assert_int_equal(ike_prf(v->id, key.p, key.len, &one, 1, out, &len), 0);
		assert_int_equal(len, ike_prf_len(v->id));
		assert_memory_equal(out, want.p, want.len);	/* RFC 4231 5: truncated */
		/* The same data cut into pieces gives the same PRF. */
		three[0] = IKE_IOV(data.p, 1);
		three[1] = IKE_IOV(data.p + 1, 0);
		three[2] = IKE_IOV(data.p + 1, data.len - 1);
		assert_int_equal(ike_prf(v->id, key.p, key.len, three, 3, out3, &len3), 0);
		assert_memory_equal(out, out3, len);
		free(key.p);
		free(data.p);
		free(want.p);
	}
}

static void test_integ_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(integ_vectors); i++) {
		const struct hmac_vector *v = &integ_vectors[i];
		struct buf key = unhex(v->key), data = unhex(v->data), want = unhex(v->out);
		struct iovec iov = IKE_IOV(data.p, data.len);
		uint8_t out[IKE_ICV_MAX];

		print_message("%s\n", v->src);
		assert_int_equal(ike_integ_icv_len(v->id), want.len);
		assert_int_equal(ike_integ(v->id, key.p, key.len, &iov, 1, out, sizeof(out)), 0);
		assert_memory_equal(out, want.p, want.len);
		free(key.p);
		free(data.p);
		free(want.p);
	}
}

static void test_hmac_errors(void **state)
{
	uint8_t out[IKE_PRF_MAX], key[4] = { 1, 2, 3, 4 };
	struct iovec iov = IKE_IOV(key, sizeof(key));
	size_t len = 31;

	assert_int_equal(ike_prf(IKE_PRF_HMAC_SHA2_256, key, 4, &iov, 1, out, &len), -ENOSPC);
	len = sizeof(out);
	assert_int_equal(ike_prf(1 /* HMAC-MD5 */, key, 4, &iov, 1, out, &len), -ENOTSUP);
	assert_int_equal(ike_integ(IKE_INTEG_HMAC_SHA2_256_128, key, 4, &iov, 1, out, 15), -ENOSPC);
	assert_int_equal(ike_integ(IKE_INTEG_NONE, key, 4, &iov, 1, out, sizeof(out)), -ENOTSUP);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA1), 20);
	assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_512), 64);
	assert_int_equal(ike_integ_key_len(IKE_INTEG_HMAC_SHA2_384_192), 48);
	assert_int_equal(ike_integ_icv_len(IKE_INTEG_HMAC_SHA1_96), 12);
}

/* ------------------------------------------------------------ AES */

static void test_aes_cbc_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(cbc_vectors); i++) {
		const struct cbc_vector *v = &cbc_vectors[i];
		struct buf key = unhex(v->key), iv = unhex(v->iv);
		struct buf plain = unhex(v->plain), cipher = unhex(v->cipher);
		uint8_t out[64];

		print_message("%s\n", v->src);
		assert_int_equal(ike_aes_cbc(true, key.p, key.len, iv.p, plain.p, plain.len, out), 0);
		assert_memory_equal(out, cipher.p, cipher.len);
		/* In place, back again. */
		assert_int_equal(ike_aes_cbc(false, key.p, key.len, iv.p, out, plain.len, out), 0);
		assert_memory_equal(out, plain.p, plain.len);
		assert_int_equal(ike_aes_cbc(true, key.p, key.len, iv.p, plain.p, 15, out), -EINVAL);
		assert_int_equal(ike_aes_cbc(true, key.p, 20, iv.p, plain.p, 16, out), -EINVAL);
		free(key.p);
		free(iv.p);
		free(plain.p);
		free(cipher.p);
	}
}

static void test_aes_gcm_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(gcm_vectors); i++) {
		const struct gcm_vector *v = &gcm_vectors[i];
		struct buf key = unhex(v->key), nonce = unhex(v->nonce), aad = unhex(v->aad);
		struct buf plain = unhex(v->plain), cipher = unhex(v->cipher), tag = unhex(v->tag);
		uint8_t out[64], t[IKE_GCM_ICV_LEN];

		print_message("%s\n", v->src);
		assert_int_equal(ike_aes_gcm(true, key.p, key.len, nonce.p, aad.p, aad.len,
					     plain.p, plain.len, out, t), 0);
		assert_memory_equal(out, cipher.p, cipher.len);
		assert_memory_equal(t, tag.p, tag.len);
		assert_int_equal(ike_aes_gcm(false, key.p, key.len, nonce.p, aad.p, aad.len,
					     out, plain.len, out, t), 0);
		assert_memory_equal(out, plain.p, plain.len);
		/* A wrong tag fails and leaves no plaintext behind. */
		memcpy(out, cipher.p, cipher.len);
		t[0] ^= 1;
		assert_int_equal(ike_aes_gcm(false, key.p, key.len, nonce.p, aad.p, aad.len,
					     out, plain.len, out, t), -EBADMSG);
		for (size_t j = 0; j < plain.len; j++)
			assert_int_equal(out[j], 0);
		free(key.p);
		free(nonce.p);
		free(aad.p);
		free(plain.p);
		free(cipher.p);
		free(tag.p);
	}
}

/* ------------------------------------------------------------ prf+ and key derivation */

struct kdf_case {
	struct buf ni, nr, spii, spir, skeyseed, dkm, dkm_child, dkm_child_dh, rekey;
	struct cgw_secret gir, gir_new;
	struct ike_nonces n;
};

static void kdf_load(const struct kdf_vector *v, struct kdf_case *c)
{
	memset(c, 0, sizeof(*c));
	c->ni = unhex(v->ni);
	c->nr = unhex(v->nr);
	c->spii = unhex(v->spii);
	c->spir = unhex(v->spir);
	c->skeyseed = unhex(v->skeyseed);
	c->dkm = unhex(v->dkm);
	c->dkm_child = unhex(v->dkm_child);
	c->dkm_child_dh = unhex(v->dkm_child_dh);
	c->rekey = unhex(v->skeyseed_rekey);
	secret_hex(&c->gir, v->gir);
	secret_hex(&c->gir_new, v->gir_new);
	c->n = (struct ike_nonces){ c->ni.p, c->ni.len, c->nr.p, c->nr.len };
}

static void kdf_free(struct kdf_case *c)
{
	struct buf *bufs[] = { &c->ni, &c->nr, &c->spii, &c->spir, &c->skeyseed,
			       &c->dkm, &c->dkm_child, &c->dkm_child_dh, &c->rekey };

	for (size_t i = 0; i < N_ELEMS(bufs); i++)
		free(bufs[i]->p);
	secret_clear(&c->gir);
	secret_clear(&c->gir_new);
}

/* keys[0] | keys[1] | ... must be the first bytes of want. */
static void assert_concat(struct cgw_secret *const *keys, size_t n, const struct buf *want)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(off + keys[i]->len <= want->len);
		assert_memory_equal(keys[i]->data, want->p + off, keys[i]->len);
		off += keys[i]->len;
	}
}

static void test_prf_plus_cavp(void **state)
{
	for (size_t i = 0; i < N_ELEMS(kdf_vectors); i++) {
		struct kdf_case c;
		struct iovec seed[4];
		uint8_t *out;

		kdf_load(&kdf_vectors[i], &c);
		seed[0] = IKE_IOV(c.ni.p, c.ni.len);
		seed[1] = IKE_IOV(c.nr.p, c.nr.len);
		seed[2] = IKE_IOV(c.spii.p, c.spii.len);
		seed[3] = IKE_IOV(c.spir.p, c.spir.len);
		out = malloc(c.dkm.len);
		assert_non_null(out);
		assert_int_equal(ike_prf_plus(kdf_vectors[i].prf, c.skeyseed.p, c.skeyseed.len,
					      seed, 4, out, c.dkm.len), 0);
		assert_memory_equal(out, c.dkm.p, c.dkm.len);
		free(out);
		kdf_free(&c);
	}
}

static void test_prf_plus_limit(void **state)
{
	static uint8_t out[255 * 20 + 1];
	uint8_t key[20] = { 0 }, s = 0;
	struct iovec seed = IKE_IOV(&s, 1);

	/* 255 blocks at most (RFC 7296 2.13). */
	assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA1, key, 20, &seed, 1, out, 255 * 20), 0);
	assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA1, key, 20, &seed, 1, out, 255 * 20 + 1),
			 -EINVAL);
	assert_int_equal(ike_prf_plus(99, key, 20, &seed, 1, out, 20), -ENOTSUP);
}

/* The suites whose IKE SA keys fill a prefix of each vector's DKM. */
static const struct ike_algs kdf_ike_suites[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 },
};

static void test_ike_keys_cavp(void **state)
{
	for (size_t i = 0; i < N_ELEMS(kdf_vectors); i++) {
		const struct ike_algs *a = &kdf_ike_suites[i];
		struct cgw_secret skeyseed = { 0 }, rekey = { 0 };
		struct ike_sa_keys k = { 0 };
		struct cgw_secret *const keys[] = { &k.sk_d, &k.sk_ai, &k.sk_ar, &k.sk_ei,
						    &k.sk_er, &k.sk_pi, &k.sk_pr };
		struct kdf_case c;

		print_message("%s\n", kdf_vectors[i].src);
		kdf_load(&kdf_vectors[i], &c);
		assert_int_equal(ike_skeyseed(a->prf, &c.n, &c.gir, &skeyseed), 0);
		assert_int_equal(skeyseed.len, c.skeyseed.len);
		assert_memory_equal(skeyseed.data, c.skeyseed.p, c.skeyseed.len);
		assert_int_equal(ike_derive_ike_keys(a, &skeyseed, &c.n, c.spii.p, c.spir.p, &k), 0);
		assert_concat(keys, N_ELEMS(keys), &c.dkm);
		assert_int_equal(ike_skeyseed_rekey(a->prf, &k.sk_d, &c.gir_new, &c.n, &rekey), 0);
		assert_memory_equal(rekey.data, c.rekey.p, c.rekey.len);
		ike_sa_keys_clear(&k);
		secret_clear(&skeyseed);
		secret_clear(&rekey);
		kdf_free(&c);
	}
}

static const struct ike_algs kdf_esp_suites[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, 0 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA1_96, 0 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, 0 },
};

static void test_child_keys_cavp(void **state)
{
	for (size_t i = 0; i < N_ELEMS(kdf_vectors); i++) {
		const struct ike_algs *esp = &kdf_esp_suites[i];
		struct ike_child_keys k = { 0 };
		struct cgw_secret *const keys[] = { &k.encr_i, &k.integ_i, &k.encr_r, &k.integ_r };
		struct cgw_secret sk_d = { 0 };
		struct kdf_case c;

		kdf_load(&kdf_vectors[i], &c);
		/* SK_d is the first PRF-length bytes of the DKM. */
		assert_int_equal(secret_set(&sk_d, c.dkm.p, ike_prf_len(kdf_vectors[i].prf)), 0);
		assert_int_equal(ike_derive_child_keys(esp, kdf_vectors[i].prf, &sk_d, NULL,
						       &c.n, &k), 0);
		assert_concat(keys, N_ELEMS(keys), &c.dkm_child);
		assert_int_equal(ike_derive_child_keys(esp, kdf_vectors[i].prf, &sk_d, &c.gir_new,
						       &c.n, &k), 0);
		assert_concat(keys, N_ELEMS(keys), &c.dkm_child_dh);
		ike_child_keys_clear(&k);
		secret_clear(&sk_d);
		kdf_free(&c);
	}
}

struct key_lens {
	struct ike_algs a;
	size_t d, a_len, e, p;		/* SK_d, SK_ai/ar, SK_ei/er, SK_pi/pr */
};

static const struct key_lens key_len_cases[] = {
	{ { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 }, 20, 20, 16, 20 },
	{ { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 }, 32, 32, 32, 32 },
	{ { IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384 }, 48, 48, 24, 48 },
	{ { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512 }, 64, 64, 32, 64 },
	{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, 32, 0, 20, 32 },
	{ { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_384 }, 48, 0, 36, 48 },
};

static void test_ike_key_lengths(void **state)
{
	uint8_t spi[IKE_SPI_LEN] = { 1 }, nonce[32] = { 2 };
	struct ike_nonces n = { nonce, sizeof(nonce), nonce, sizeof(nonce) };
	struct cgw_secret skeyseed = { 0 };

	assert_int_equal(secret_set(&skeyseed, nonce, sizeof(nonce)), 0);
	for (size_t i = 0; i < N_ELEMS(key_len_cases); i++) {
		const struct key_lens *c = &key_len_cases[i];
		struct ike_sa_keys k = { 0 };

		assert_int_equal(ike_derive_ike_keys(&c->a, &skeyseed, &n, spi, spi, &k), 0);
		assert_int_equal(k.sk_d.len, c->d);
		assert_int_equal(k.sk_ai.len, c->a_len);
		assert_int_equal(k.sk_ar.len, c->a_len);
		assert_int_equal(k.sk_ei.len, c->e);
		assert_int_equal(k.sk_er.len, c->e);
		assert_int_equal(k.sk_pi.len, c->p);
		assert_int_equal(k.sk_pr.len, c->p);
		ike_sa_keys_clear(&k);
	}
	secret_clear(&skeyseed);
}

static void test_child_key_lengths(void **state)
{
	static const struct ike_algs gcm = { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, 0 };
	static const struct ike_algs cbc = { IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, 0 };
	static const struct ike_algs bad = { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_HMAC_SHA1_96, 0 };
	uint8_t nonce[32] = { 3 };
	struct ike_nonces n = { nonce, sizeof(nonce), nonce, sizeof(nonce) };
	struct cgw_secret sk_d = { 0 };
	struct ike_child_keys k = { 0 };

	assert_int_equal(secret_set(&sk_d, nonce, sizeof(nonce)), 0);
	/* rfc4106(gcm(aes)) wants key | 4-byte salt, and no integrity key. */
	assert_int_equal(ike_derive_child_keys(&gcm, IKE_PRF_HMAC_SHA2_256, &sk_d, NULL, &n, &k), 0);
	assert_int_equal(k.encr_i.len, 36);
	assert_int_equal(k.encr_r.len, 36);
	assert_int_equal(k.integ_i.len, 0);
	assert_int_equal(ike_derive_child_keys(&cbc, IKE_PRF_HMAC_SHA2_256, &sk_d, NULL, &n, &k), 0);
	assert_int_equal(k.encr_i.len, 16);
	assert_int_equal(k.integ_r.len, 32);
	assert_memory_not_equal(k.encr_i.data, k.encr_r.data, 16);
	assert_int_equal(ike_derive_child_keys(&bad, IKE_PRF_HMAC_SHA2_256, &sk_d, NULL, &n, &k),
			 -EINVAL);
	assert_null(k.encr_i.data);
	ike_child_keys_clear(&k);
	secret_clear(&sk_d);
}

/* ------------------------------------------------------------ SK payloads */

#define SK_AAD (IKE_HDR_LEN + 4)
#define SK_CAP 512

/* Both directions' keys of an IKE SA with suite a, from a fixed SKEYSEED. */
static void sa_keys(const struct ike_algs *a, struct ike_sa_keys *k)
{
	static const uint8_t seed[32] = { 0x5e, 0xed };
	uint8_t spi[IKE_SPI_LEN] = { 9, 8, 7 };
	struct ike_nonces n = { seed, 16, seed + 16, 16 };
	struct cgw_secret skeyseed = { 0 };

	memset(k, 0, sizeof(*k));
	assert_int_equal(secret_set(&skeyseed, seed, sizeof(seed)), 0);
	assert_int_equal(ike_derive_ike_keys(a, &skeyseed, &n, spi, spi, k), 0);
	secret_clear(&skeyseed);
}

static void put_be32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* IKE header + SK header sized for plain_len inner bytes; returns the total. */
static size_t sk_headers(const struct ike_sk *sk, uint8_t *msg, size_t plain_len)
{
	size_t total = SK_AAD + plain_len + ike_sk_overhead(sk, plain_len);

	memset(msg, 0, SK_AAD);
	memset(msg, 0xa1, 16);		/* SPIs */
	msg[16] = 46;			/* next payload: SK */
	msg[17] = 0x20;			/* version 2.0 */
	msg[18] = 35;			/* IKE_AUTH */
	msg[19] = 0x08;			/* initiator */
	put_be32(msg + 24, total);
	msg[28] = 35;			/* first inner payload: IDi */
	msg[30] = (uint8_t)((total - IKE_HDR_LEN) >> 8);
	msg[31] = (uint8_t)(total - IKE_HDR_LEN);
	return total;
}

/* Encrypt plain_len pattern bytes with sk into msg; returns the length. */
static size_t sk_seal(struct ike_sk *sk, uint8_t *msg, size_t plain_len)
{
	uint8_t plain[SK_CAP];
	size_t total = sk_headers(sk, msg, plain_len), len = 0;

	for (size_t i = 0; i < plain_len; i++)
		plain[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(ike_sk_encrypt(sk, msg, SK_AAD, plain, plain_len, SK_CAP, &len), 0);
	assert_int_equal(len, total);
	return len;
}

/* Check the SK layout with the raw primitives, not with ike_sk_decrypt(). */
static void sk_check_layout(const struct ike_sk *sk, const uint8_t *msg, size_t len,
			    size_t plain_len)
{
	size_t ivl = ike_sk_iv_len(sk), ct_len = len - SK_AAD - ivl;
	uint8_t buf[SK_CAP], icv[IKE_ICV_MAX], nonce[12];

	if (sk->algs.encr == IKE_ENCR_AES_CBC) {
		struct iovec whole = IKE_IOV(msg, len - ike_integ_icv_len(sk->algs.integ));

		ct_len -= ike_integ_icv_len(sk->algs.integ);
		assert_int_equal(ike_integ(sk->algs.integ, sk->akey->data, sk->akey->len,
					   &whole, 1, icv, sizeof(icv)), 0);
		assert_memory_equal(icv, msg + whole.iov_len, ike_integ_icv_len(sk->algs.integ));
		assert_int_equal(ike_aes_cbc(false, sk->ekey->data, sk->ekey->len, msg + SK_AAD,
					     msg + SK_AAD + ivl, ct_len, buf), 0);
	} else {
		ct_len -= IKE_GCM_ICV_LEN;
		memcpy(nonce, sk->ekey->data + sk->ekey->len - 4, 4);
		memcpy(nonce + 4, msg + SK_AAD, 8);
		memcpy(icv, msg + len - IKE_GCM_ICV_LEN, IKE_GCM_ICV_LEN);
		assert_int_equal(ike_aes_gcm(false, sk->ekey->data, sk->ekey->len - 4, nonce,
					     msg, SK_AAD, msg + SK_AAD + ivl, ct_len, buf, icv), 0);
	}
	assert_int_equal(buf[ct_len - 1] + 1 + plain_len, ct_len);	/* pad length byte */
	for (size_t i = 0; i < plain_len; i++)
		assert_int_equal(buf[i], (uint8_t)(i * 13 + 1));
}

static const struct ike_algs sk_suites[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512 },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512 },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 },
	{ IKE_ENCR_AES_GCM_16, 192, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_384 },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_512 },
};

static const size_t sk_plain_lens[] = { 0, 1, 15, 16, 17, 31, 100 };

static void test_sk_round_trip(void **state)
{
	for (size_t i = 0; i < N_ELEMS(sk_suites); i++) {
		struct ike_sk out, in, wrong;
		struct ike_sa_keys k;

		sa_keys(&sk_suites[i], &k);
		ike_sk_init(&out, &sk_suites[i], &k, true);
		ike_sk_init(&in, &sk_suites[i], &k, true);	/* the peer's view */
		ike_sk_init(&wrong, &sk_suites[i], &k, false);
		for (size_t j = 0; j < N_ELEMS(sk_plain_lens); j++) {
			uint8_t msg[SK_CAP], copy[SK_CAP];
			size_t len = sk_seal(&out, msg, sk_plain_lens[j]), off = 0, plen = 0;

			sk_check_layout(&out, msg, len, sk_plain_lens[j]);
			memcpy(copy, msg, len);
			assert_int_equal(ike_sk_decrypt(&wrong, copy, len, SK_AAD, &off, &plen),
					 -EBADMSG);
			assert_int_equal(ike_sk_decrypt(&in, msg, len, SK_AAD, &off, &plen), 0);
			assert_int_equal(off, SK_AAD + ike_sk_iv_len(&in));
			assert_int_equal(plen, sk_plain_lens[j]);
			for (size_t b = 0; b < plen; b++)
				assert_int_equal(msg[off + b], (uint8_t)(b * 13 + 1));
		}
		ike_sa_keys_clear(&k);
	}
}

/* Any single flipped bit, anywhere in the message, is refused. */
static void test_sk_tamper(void **state)
{
	for (size_t i = 0; i < N_ELEMS(sk_suites); i++) {
		struct ike_sk sk;
		struct ike_sa_keys k;
		uint8_t msg[SK_CAP], copy[SK_CAP];
		size_t len, off, plen;

		sa_keys(&sk_suites[i], &k);
		ike_sk_init(&sk, &sk_suites[i], &k, false);
		len = sk_seal(&sk, msg, 33);
		for (size_t pos = 0; pos < len; pos++) {
			for (int bit = 0; bit < 8; bit += 3) {
				memcpy(copy, msg, len);
				copy[pos] ^= (uint8_t)(1 << bit);
				assert_int_equal(ike_sk_decrypt(&sk, copy, len, SK_AAD, &off, &plen),
						 -EBADMSG);
			}
		}
		ike_sa_keys_clear(&k);
	}
}

/* Short messages, with and without a matching IKE header length, are refused. */
static void test_sk_truncated(void **state)
{
	for (size_t i = 0; i < N_ELEMS(sk_suites); i++) {
		struct ike_sk sk;
		struct ike_sa_keys k;
		uint8_t msg[SK_CAP], copy[SK_CAP];
		size_t len, off, plen;

		sa_keys(&sk_suites[i], &k);
		ike_sk_init(&sk, &sk_suites[i], &k, true);
		len = sk_seal(&sk, msg, 20);
		for (size_t cut = SK_AAD; cut < len; cut++) {
			memcpy(copy, msg, len);
			assert_int_equal(ike_sk_decrypt(&sk, copy, cut, SK_AAD, &off, &plen), -EBADMSG);
			put_be32(copy + 24, cut);
			assert_int_equal(ike_sk_decrypt(&sk, copy, cut, SK_AAD, &off, &plen), -EBADMSG);
		}
		assert_int_equal(ike_sk_decrypt(&sk, msg, len, IKE_HDR_LEN, &off, &plen), -EBADMSG);
		assert_int_equal(ike_sk_decrypt(&sk, msg, SK_AAD - 1, SK_AAD, &off, &plen), -EBADMSG);
		ike_sa_keys_clear(&k);
	}
}

/*
 * A properly authenticated SK payload whose pad length byte points before
 * the ciphertext: built with the raw primitives, refused by ike_sk_decrypt().
 */
static void sk_forge_padlen(struct ike_sk *sk, uint8_t padlen)
{
	uint8_t msg[SK_CAP], plain[32], nonce[12];
	size_t ivl = ike_sk_iv_len(sk), icv, total, off, plen;
	bool gcm = sk->algs.encr == IKE_ENCR_AES_GCM_16;
	uint8_t *ct = msg + SK_AAD + ivl;

	icv = gcm ? IKE_GCM_ICV_LEN : ike_integ_icv_len(sk->algs.integ);
	total = SK_AAD + ivl + sizeof(plain) + icv;
	sk_headers(sk, msg, 0);
	put_be32(msg + 24, total);
	msg[30] = (uint8_t)((total - IKE_HDR_LEN) >> 8);
	msg[31] = (uint8_t)(total - IKE_HDR_LEN);
	memset(plain, 0x42, sizeof(plain));
	plain[sizeof(plain) - 1] = padlen;
	memset(msg + SK_AAD, 0x17, ivl);
	if (gcm) {
		memcpy(nonce, sk->ekey->data + sk->ekey->len - 4, 4);
		memcpy(nonce + 4, msg + SK_AAD, 8);
		assert_int_equal(ike_aes_gcm(true, sk->ekey->data, sk->ekey->len - 4, nonce, msg,
					     SK_AAD, plain, sizeof(plain), ct, ct + sizeof(plain)), 0);
	} else {
		struct iovec whole = IKE_IOV(msg, total - icv);

		assert_int_equal(ike_aes_cbc(true, sk->ekey->data, sk->ekey->len, msg + SK_AAD,
					     plain, sizeof(plain), ct), 0);
		assert_int_equal(ike_integ(sk->algs.integ, sk->akey->data, sk->akey->len, &whole, 1,
					   ct + sizeof(plain), icv), 0);
	}
	assert_int_equal(ike_sk_decrypt(sk, msg, total, SK_AAD, &off, &plen),
			 padlen < sizeof(plain) ? 0 : -EBADMSG);
}

static void test_sk_bad_padding(void **state)
{
	for (size_t i = 0; i < N_ELEMS(sk_suites); i++) {
		struct ike_sa_keys k;
		struct ike_sk sk;

		sa_keys(&sk_suites[i], &k);
		ike_sk_init(&sk, &sk_suites[i], &k, true);
		sk_forge_padlen(&sk, 31);	/* all padding: fine */
		sk_forge_padlen(&sk, 32);	/* one byte too many */
		sk_forge_padlen(&sk, 255);
		ike_sa_keys_clear(&k);
	}
}

static void test_sk_encrypt_errors(void **state)
{
	struct ike_sa_keys k;
	struct ike_sk sk;
	uint8_t msg[SK_CAP], plain[64] = { 0 };
	size_t len, total;

	sa_keys(&sk_suites[1], &k);
	ike_sk_init(&sk, &sk_suites[1], &k, true);
	total = sk_headers(&sk, msg, sizeof(plain));
	assert_int_equal(ike_sk_encrypt(&sk, msg, SK_AAD, plain, sizeof(plain), total - 1, &len),
			 -ENOSPC);
	put_be32(msg + 24, total - 1);	/* header length not final */
	assert_int_equal(ike_sk_encrypt(&sk, msg, SK_AAD, plain, sizeof(plain), SK_CAP, &len),
			 -EINVAL);
	/* Overhead: IV 16 + 15 padding + 1 + ICV 16 for 64 bytes with SHA2-256-128. */
	assert_int_equal(ike_sk_overhead(&sk, 64), 16 + 15 + 1 + 16);
	assert_int_equal(ike_sk_overhead(&sk, 63), 16 + 0 + 1 + 16);
	ike_sa_keys_clear(&k);
	/* A GCM suite with the wrong key length is a caller bug. */
	sa_keys(&sk_suites[12], &k);
	ike_sk_init(&sk, &sk_suites[13], &k, true);
	assert_int_equal(ike_sk_encrypt(&sk, msg, SK_AAD, plain, 8, SK_CAP, &len), -EINVAL);
	ike_sk_init(&sk, &sk_suites[12], &k, true);
	assert_int_equal(ike_sk_overhead(&sk, 64), 8 + 0 + 1 + 16);
	ike_sa_keys_clear(&k);
}

/* In-place plaintext (already at the IV's end) works too. */
static void test_sk_in_place(void **state)
{
	struct ike_sa_keys k;
	struct ike_sk sk;
	uint8_t msg[SK_CAP];
	size_t len, total, off, plen;

	sa_keys(&sk_suites[9], &k);
	ike_sk_init(&sk, &sk_suites[9], &k, true);
	total = sk_headers(&sk, msg, 40);
	memset(msg + SK_AAD + 16, 0x66, 40);
	assert_int_equal(ike_sk_encrypt(&sk, msg, SK_AAD, msg + SK_AAD + 16, 40, SK_CAP, &len), 0);
	assert_int_equal(len, total);
	assert_int_equal(ike_sk_decrypt(&sk, msg, len, SK_AAD, &off, &plen), 0);
	assert_int_equal(plen, 40);
	for (size_t i = 0; i < plen; i++)
		assert_int_equal(msg[off + i], 0x66);
	ike_sa_keys_clear(&k);
}

/* AES-GCM SK payload against an independently computed message (vectors/gen_vectors.py). */
static void test_sk_gcm_known_answer(void **state)
{
	static const struct ike_algs a = { IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
					   IKE_PRF_HMAC_SHA2_256 };
	struct buf plain = unhex(sk_gcm_vector.plain), want = unhex(sk_gcm_vector.msg);
	struct ike_sa_keys k = { 0 };
	struct ike_sk sk;
	uint8_t msg[SK_CAP];
	size_t len = 0, off, plen;

	secret_hex(&k.sk_ei, sk_gcm_vector.ekey);
	ike_sk_init(&sk, &a, &k, true);
	memcpy(msg, want.p, sk_gcm_vector.aad_len);
	assert_int_equal(ike_sk_encrypt(&sk, msg, sk_gcm_vector.aad_len, plain.p, plain.len,
					sizeof(msg), &len), 0);
	assert_int_equal(len, want.len);
	assert_memory_equal(msg, want.p, want.len);
	assert_int_equal(sk.seq, 1);
	assert_int_equal(ike_sk_decrypt(&sk, want.p, want.len, sk_gcm_vector.aad_len, &off, &plen), 0);
	assert_int_equal(plen, plain.len);
	assert_memory_equal(want.p + off, plain.p, plain.len);
	/* The next message uses the next IV. */
	memcpy(msg, want.p, sk_gcm_vector.aad_len);
	assert_int_equal(ike_sk_encrypt(&sk, msg, sk_gcm_vector.aad_len, plain.p, plain.len,
					sizeof(msg), &len), 0);
	assert_int_equal(msg[sk_gcm_vector.aad_len + 7], 2);
	ike_sa_keys_clear(&k);
	free(plain.p);
	free(want.p);
}

/* ------------------------------------------------------------ PSK AUTH */

static void test_psk_auth(void **state)
{
	struct buf msg = unhex(psk_vector.msg), nonce = unhex(psk_vector.nonce);
	struct buf id = unhex(psk_vector.id), want = unhex(psk_vector.auth);
	struct cgw_secret psk = { 0 }, sk_p = { 0 }, other = { 0 };
	struct ike_auth_octets o = { msg.p, msg.len, nonce.p, nonce.len, &sk_p, id.p, id.len };
	uint8_t auth[IKE_PRF_MAX];
	size_t len = sizeof(auth);

	secret_hex(&psk, psk_vector.psk);
	secret_hex(&sk_p, psk_vector.sk_p);
	assert_int_equal(ike_psk_auth(IKE_PRF_HMAC_SHA2_256, &psk, &o, auth, &len), 0);
	assert_int_equal(len, want.len);
	assert_memory_equal(auth, want.p, want.len);
	assert_int_equal(ike_psk_auth_verify(IKE_PRF_HMAC_SHA2_256, &psk, &o, want.p, want.len), 0);
	/* Mismatches: a flipped bit, a short value, another PSK, another message. */
	want.p[5] ^= 0x10;
	assert_int_equal(ike_psk_auth_verify(IKE_PRF_HMAC_SHA2_256, &psk, &o, want.p, want.len),
			 -EBADMSG);
	want.p[5] ^= 0x10;
	assert_int_equal(ike_psk_auth_verify(IKE_PRF_HMAC_SHA2_256, &psk, &o, want.p, 31), -EBADMSG);
	assert_int_equal(secret_set(&other, "cgw.test_PSK.0123456788", 23), 0);
	assert_int_equal(ike_psk_auth_verify(IKE_PRF_HMAC_SHA2_256, &other, &o, want.p, want.len),
			 -EBADMSG);
	o.msg_len--;
	assert_int_equal(ike_psk_auth_verify(IKE_PRF_HMAC_SHA2_256, &psk, &o, want.p, want.len),
			 -EBADMSG);
	secret_clear(&psk);
	secret_clear(&sk_p);
	secret_clear(&other);
	free(msg.p);
	free(nonce.p);
	free(id.p);
	free(want.p);
}

/* ------------------------------------------------------------ what we support */

static void test_supported(void **state)
{
	assert_true(ike_crypto_supported(IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 128));
	assert_true(ike_crypto_supported(IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 256));
	assert_false(ike_crypto_supported(IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 0));
	assert_false(ike_crypto_supported(IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 512));
	assert_false(ike_crypto_supported(IKE_TRANSFORM_ENCR, 3 /* 3DES */, 0));
	assert_false(ike_crypto_supported(IKE_TRANSFORM_ENCR, 19 /* GCM-12 */, 128));
	assert_true(ike_crypto_supported(IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0));
	assert_false(ike_crypto_supported(IKE_TRANSFORM_PRF, 4 /* AES128-XCBC */, 0));
	assert_true(ike_crypto_supported(IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_512_256, 0));
	assert_false(ike_crypto_supported(IKE_TRANSFORM_INTEG, 1 /* MD5-96 */, 0));
	for (uint16_t g = 0; g < 40; g++)
		assert_int_equal(ike_crypto_supported(IKE_TRANSFORM_DH, g, 0),
				 g == 2 || g == 5 || (g >= 14 && g <= 24) || g == 31);
	assert_true(ike_crypto_supported(IKE_TRANSFORM_ESN, IKE_ESN_YES, 0));
}

static void test_algs_check(void **state)
{
	static const struct {
		struct ike_algs a;
		bool ike;
		int ret;
	} cases[] = {
		{ { IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256 }, true, 0 },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA1 }, true, 0 },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 0 }, false, 0 },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 0 }, true, -ENOTSUP },
		{ { IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_HMAC_SHA1_96, 0 }, false, -EINVAL },
		{ { IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE, 0 }, false, -EINVAL },
		{ { IKE_ENCR_AES_CBC, 128, 5 /* AES-XCBC-96 */, 0 }, false, -ENOTSUP },
		{ { IKE_ENCR_AES_CBC, 100, IKE_INTEG_HMAC_SHA1_96, 0 }, false, -ENOTSUP },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++)
		assert_int_equal(ike_algs_check(&cases[i].a, cases[i].ike), cases[i].ret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prf_vectors),
		cmocka_unit_test(test_integ_vectors),
		cmocka_unit_test(test_hmac_errors),
		cmocka_unit_test(test_aes_cbc_vectors),
		cmocka_unit_test(test_aes_gcm_vectors),
		cmocka_unit_test(test_prf_plus_cavp),
		cmocka_unit_test(test_prf_plus_limit),
		cmocka_unit_test(test_ike_keys_cavp),
		cmocka_unit_test(test_child_keys_cavp),
		cmocka_unit_test(test_ike_key_lengths),
		cmocka_unit_test(test_child_key_lengths),
		cmocka_unit_test(test_sk_round_trip),
		cmocka_unit_test(test_sk_tamper),
		cmocka_unit_test(test_sk_truncated),
		cmocka_unit_test(test_sk_bad_padding),
		cmocka_unit_test(test_sk_encrypt_errors),
		cmocka_unit_test(test_sk_in_place),
		cmocka_unit_test(test_sk_gcm_known_answer),
		cmocka_unit_test(test_psk_auth),
		cmocka_unit_test(test_supported),
		cmocka_unit_test(test_algs_check),
	};

	if (secret_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
