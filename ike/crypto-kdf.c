/*
 * IKEv2 key derivation: SKEYSEED for new and rekeyed IKE SAs, the seven
 * IKE SA keys and Child SA KEYMAT split per suite (RFC 7296 2.14, 2.17,
 * 2.18), and the PSK AUTH value (2.15). Every key lands in locked memory.
 */
#include "ike/crypto.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

#define NONCES_MAX 512		/* two nonces of at most 256 bytes (RFC 7296 3.9) */

/* "Key Pad for IKEv2": 17 ASCII octets, no terminating NUL (RFC 7296 2.15). */
static const char key_pad[] = "Key Pad for IKEv2";

static bool nonces_ok(const struct ike_nonces *n)
{
	return n->ni && n->nr && n->ni_len && n->nr_len;
}

/* out = prf(key, data), in freshly allocated locked memory. */
static int prf_to_secret(uint16_t prf, const uint8_t *key, size_t keylen,
			 const struct iovec *data, size_t n, struct cgw_secret *out)
{
	size_t len = ike_prf_len(prf);
	int ret;

	if (!len)
		return -ENOTSUP;
	ret = ike_secret_alloc(out, len);
	if (ret < 0)
		return ret;
	ret = ike_prf(prf, key, keylen, data, n, out->data, &len);
	if (ret < 0)
		secret_clear(out);
	return ret;
}

int ike_skeyseed(uint16_t prf, const struct ike_nonces *n,
		 const struct cgw_secret *gir, struct cgw_secret *out)
{
	struct iovec data = IKE_IOV(gir->data, gir->len);
	uint8_t key[NONCES_MAX];	/* Ni | Nr: public, needs no wiping */

	if (!nonces_ok(n) || n->ni_len + n->nr_len > sizeof(key) || !gir->len)
		return -EINVAL;
	memcpy(key, n->ni, n->ni_len);
	memcpy(key + n->ni_len, n->nr, n->nr_len);
	return prf_to_secret(prf, key, n->ni_len + n->nr_len, &data, 1, out);
}

int ike_skeyseed_rekey(uint16_t old_prf, const struct cgw_secret *old_sk_d,
		       const struct cgw_secret *gir, const struct ike_nonces *n,
		       struct cgw_secret *out)
{
	struct iovec data[3] = {
		IKE_IOV(gir->data, gir->len),
		IKE_IOV(n->ni, n->ni_len),
		IKE_IOV(n->nr, n->nr_len),
	};

	if (!nonces_ok(n) || !gir->len || !old_sk_d->len)
		return -EINVAL;
	return prf_to_secret(old_prf, old_sk_d->data, old_sk_d->len, data, 3, out);
}

/*
 * prf+(key, seed) cut into n consecutive keys of lens[i] bytes each. The
 * whole stream stays in locked memory and is wiped before returning.
 */
static int keymat(uint16_t prf, const struct cgw_secret *key, const struct iovec *seed,
		  size_t nseed, const size_t *lens, struct cgw_secret *const *outs, size_t n)
{
	struct cgw_secret km = { 0 };
	size_t total = 0, off = 0;
	int ret;

	for (size_t i = 0; i < n; i++)
		total += lens[i];
	ret = ike_secret_alloc(&km, total);
	if (ret < 0)
		return ret;
	ret = ike_prf_plus(prf, key->data, key->len, seed, nseed, km.data, total);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = secret_set(outs[i], km.data + off, lens[i]);
		off += lens[i];
	}
	secret_clear(&km);
	return ret;
}

int ike_derive_ike_keys(const struct ike_algs *a, const struct cgw_secret *skeyseed,
			const struct ike_nonces *n, const uint8_t spii[IKE_SPI_LEN],
			const uint8_t spir[IKE_SPI_LEN], struct ike_sa_keys *out)
{
	struct cgw_secret *const keys[7] = {
		&out->sk_d, &out->sk_ai, &out->sk_ar, &out->sk_ei,
		&out->sk_er, &out->sk_pi, &out->sk_pr,
	};
	size_t prf = ike_prf_len(a->prf), integ = ike_integ_key_len(a->integ);
	size_t encr = ike_encr_key_len(a->encr, a->encr_keylen);
	const size_t lens[7] = { prf, integ, integ, encr, encr, prf, prf };
	struct iovec seed[4] = {
		IKE_IOV(n->ni, n->ni_len), IKE_IOV(n->nr, n->nr_len),
		IKE_IOV(spii, IKE_SPI_LEN), IKE_IOV(spir, IKE_SPI_LEN),
	};
	int ret;

	ike_sa_keys_clear(out);
	ret = ike_algs_check(a, true);
	if (ret < 0)
		return ret;
	if (!nonces_ok(n) || !skeyseed->len)
		return -EINVAL;
	ret = keymat(a->prf, skeyseed, seed, 4, lens, keys, 7);
	if (ret < 0)
		ike_sa_keys_clear(out);
	return ret;
}

void ike_sa_keys_clear(struct ike_sa_keys *k)
{
	secret_clear(&k->sk_d);
	secret_clear(&k->sk_ai);
	secret_clear(&k->sk_ar);
	secret_clear(&k->sk_ei);
	secret_clear(&k->sk_er);
	secret_clear(&k->sk_pi);
	secret_clear(&k->sk_pr);
}

int ike_derive_child_keys(const struct ike_algs *esp, uint16_t prf,
			  const struct cgw_secret *sk_d, const struct cgw_secret *gir,
			  const struct ike_nonces *n, struct ike_child_keys *out)
{
	struct cgw_secret *const keys[4] = {
		&out->encr_i, &out->integ_i, &out->encr_r, &out->integ_r,
	};
	size_t encr = ike_encr_key_len(esp->encr, esp->encr_keylen);
	size_t integ = ike_integ_key_len(esp->integ);
	const size_t lens[4] = { encr, integ, encr, integ };
	struct iovec seed[3];
	size_t ns = 0;
	int ret;

	ike_child_keys_clear(out);
	ret = ike_algs_check(esp, false);
	if (ret < 0)
		return ret;
	if (!nonces_ok(n) || !sk_d->len || (gir && !gir->len))
		return -EINVAL;
	if (gir)
		seed[ns++] = IKE_IOV(gir->data, gir->len);
	seed[ns++] = IKE_IOV(n->ni, n->ni_len);
	seed[ns++] = IKE_IOV(n->nr, n->nr_len);
	ret = keymat(prf, sk_d, seed, ns, lens, keys, 4);
	if (ret < 0)
		ike_child_keys_clear(out);
	return ret;
}

void ike_child_keys_clear(struct ike_child_keys *k)
{
	secret_clear(&k->encr_i);
	secret_clear(&k->integ_i);
	secret_clear(&k->encr_r);
	secret_clear(&k->integ_r);
}

int ike_psk_auth(uint16_t prf, const struct cgw_secret *psk,
		 const struct ike_auth_octets *o, uint8_t *out, size_t *outlen)
{
	uint8_t padkey[IKE_PRF_MAX], maced_id[IKE_PRF_MAX];
	size_t klen = sizeof(padkey), mlen = sizeof(maced_id);
	struct iovec pad = IKE_IOV(key_pad, sizeof(key_pad) - 1);
	struct iovec id = IKE_IOV(o->id, o->id_len);
	struct iovec signed_octets[3];
	int ret;

	if (!psk->len || !o->msg_len || !o->nonce_len || !o->id_len || !o->sk_p->len)
		return -EINVAL;
	ret = ike_prf(prf, psk->data, psk->len, &pad, 1, padkey, &klen);
	if (ret < 0)
		goto out;
	ret = ike_prf(prf, o->sk_p->data, o->sk_p->len, &id, 1, maced_id, &mlen);
	if (ret < 0)
		goto out;
	signed_octets[0] = IKE_IOV(o->msg, o->msg_len);
	signed_octets[1] = IKE_IOV(o->nonce, o->nonce_len);
	signed_octets[2] = IKE_IOV(maced_id, mlen);
	ret = ike_prf(prf, padkey, klen, signed_octets, 3, out, outlen);
out:
	sodium_memzero(padkey, sizeof(padkey));
	sodium_memzero(maced_id, sizeof(maced_id));
	return ret;
}

int ike_psk_auth_verify(uint16_t prf, const struct cgw_secret *psk,
			const struct ike_auth_octets *o, const uint8_t *auth, size_t auth_len)
{
	uint8_t want[IKE_PRF_MAX];
	size_t len = sizeof(want);
	int ret;

	ret = ike_psk_auth(prf, psk, o, want, &len);
	if (ret == 0 && (auth_len != len || sodium_memcmp(want, auth, len) != 0))
		ret = -EBADMSG;
	sodium_memzero(want, sizeof(want));
	return ret;
}
