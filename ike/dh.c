/*
 * Diffie-Hellman key pairs for IKEv2 KE payloads: one table of groups,
 * OpenSSL EVP_PKEY for MODP and ECP, libsodium for Curve25519, the IKEv2
 * wire encodings, and the peer-value checks of RFC 6989.
 */
#include "ike/dh.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "ike/crypto.h"

#define X25519_LEN 32
#define ECP_POINT_MAX (1 + 2 * 66)	/* 0x04 | x | y for P-521 */

enum dh_kind { DH_MODP, DH_ECP, DH_X25519 };

struct dh_group {
	uint16_t id;
	enum dh_kind kind;
	const char *name;	/* OpenSSL group or curve name; NULL for 2 and 31 */
	int nid;		/* ECP curve, for fixed private keys */
	size_t len;		/* KE data length */
	bool subgroup;		/* prime-order subgroup: check y^q = 1 (RFC 6989 2.2) */
};

/*
 * OpenSSL's named FFC groups are exactly the RFC groups: "modp_*" is
 * RFC 3526 (1536 bits and up), "dh_*" RFC 5114 2.1-2.3 with its q. Group 2
 * is RFC 2409 6.2: generator 2 and BN_get_rfc2409_prime_1024(). The unit
 * test pins every prime to a digest computed from the RFC definitions and
 * runs the RFC 5114 appendix A test data.
 */
static const struct dh_group groups[] = {
	{ 2, DH_MODP, NULL, 0, 128, false },
	{ 5, DH_MODP, "modp_1536", 0, 192, false },
	{ 14, DH_MODP, "modp_2048", 0, 256, false },
	{ 15, DH_MODP, "modp_3072", 0, 384, false },
	{ 16, DH_MODP, "modp_4096", 0, 512, false },
	{ 17, DH_MODP, "modp_6144", 0, 768, false },
	{ 18, DH_MODP, "modp_8192", 0, 1024, false },
	{ 19, DH_ECP, "P-256", NID_X9_62_prime256v1, 64, false },
	{ 20, DH_ECP, "P-384", NID_secp384r1, 96, false },
	{ 21, DH_ECP, "P-521", NID_secp521r1, 132, false },
	{ 22, DH_MODP, "dh_1024_160", 0, 128, true },
	{ 23, DH_MODP, "dh_2048_224", 0, 256, true },
	{ 24, DH_MODP, "dh_2048_256", 0, 256, true },
	{ 31, DH_X25519, NULL, 0, X25519_LEN, false },
};

struct ike_dh {
	const struct dh_group *grp;
	EVP_PKEY *pkey;			/* MODP and ECP key pair */
	struct cgw_secret x25519_sk;	/* Curve25519 private scalar */
	uint8_t x25519_pk[X25519_LEN];
};

static const struct dh_group *find_group(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

bool ike_dh_supported(uint16_t group)
{
	return find_group(group) != NULL;
}

size_t ike_dh_public_len(uint16_t group)
{
	const struct dh_group *g = find_group(group);

	return g ? g->len : 0;
}

size_t ike_dh_shared_len(uint16_t group)
{
	const struct dh_group *g = find_group(group);

	if (!g)
		return 0;
	return g->kind == DH_ECP ? g->len / 2 : g->len;
}

uint16_t ike_dh_group(const struct ike_dh *dh)
{
	return dh->grp->id;
}

/* Domain parameters of g: its OpenSSL name, or group 2's explicit p and g. */
static bool push_domain(const struct dh_group *g, OSSL_PARAM_BLD *bld,
			BIGNUM **p, BIGNUM **gen)
{
	if (g->name)
		return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						       g->name, 0);
	*p = BN_get_rfc2409_prime_1024(NULL);
	*gen = BN_new();
	return *p && *gen && BN_set_word(*gen, 2) &&
	       OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, *p) &&
	       OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, *gen);
}

/*
 * An EVP_PKEY of group g with the parts selection asks for: a private
 * value, a public value (BIGNUM for MODP, encoded point for ECP). NULL if
 * OpenSSL refuses it (for a peer point: not on the curve).
 */
static EVP_PKEY *pkey_fromdata(const struct dh_group *g, int selection,
			       const BIGNUM *priv, const BIGNUM *pub,
			       const uint8_t *point, size_t point_len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *p = NULL, *gen = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	bool ok;

	ok = bld && push_domain(g, bld, &p, &gen);
	if (ok && priv)
		ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
	if (ok && pub)
		ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub);
	if (ok && point)
		ok = OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
						      point, point_len);
	params = ok ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	if (params)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, g->kind == DH_ECP ? "EC" : "DH", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	return pkey;
}

static int gen_pkey(struct ike_dh *dh)
{
	EVP_PKEY *params = pkey_fromdata(dh->grp, EVP_PKEY_KEY_PARAMETERS, NULL, NULL, NULL, 0);
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL) : NULL;
	int ret = -EIO;

	if (ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_generate(ctx, &dh->pkey) > 0)
		ret = 0;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return ret;
}

static int gen_x25519(struct ike_dh *dh, const uint8_t *priv)
{
	int ret = ike_secret_alloc(&dh->x25519_sk, X25519_LEN);

	if (ret < 0)
		return ret;
	if (priv)
		memcpy(dh->x25519_sk.data, priv, X25519_LEN);
	else
		randombytes_buf(dh->x25519_sk.data, X25519_LEN);
	/* crypto_scalarmult_base() clamps the scalar as RFC 7748 5 asks. */
	if (crypto_scalarmult_base(dh->x25519_pk, dh->x25519_sk.data) != 0)
		return -EIO;
	return 0;
}

int ike_dh_new(uint16_t group, struct ike_dh **out)
{
	const struct dh_group *g = find_group(group);
	struct ike_dh *dh;
	int ret;

	*out = NULL;
	if (!g)
		return -ENOTSUP;
	dh = calloc(1, sizeof(*dh));
	if (!dh)
		return -ENOMEM;
	dh->grp = g;
	ret = g->kind == DH_X25519 ? gen_x25519(dh, NULL) : gen_pkey(dh);
	if (ret < 0) {
		ike_dh_free(dh);
		return ret;
	}
	*out = dh;
	return 0;
}

/* MODP key pair (x, g^x mod p) for a fixed x. */
static int fixed_modp(struct ike_dh *dh, const BIGNUM *x)
{
	EVP_PKEY *params = pkey_fromdata(dh->grp, EVP_PKEY_KEY_PARAMETERS, NULL, NULL, NULL, 0);
	BIGNUM *p = NULL, *g = NULL, *y = BN_new();
	BN_CTX *bn = BN_CTX_new();
	int ret = -EIO;

	if (!params || !y || !bn ||
	    !EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_P, &p) ||
	    !EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_G, &g) ||
	    !BN_mod_exp(y, g, x, p, bn))
		goto out;
	dh->pkey = pkey_fromdata(dh->grp, EVP_PKEY_KEYPAIR, x, y, NULL, 0);
	ret = dh->pkey ? 0 : -EIO;
out:
	BN_CTX_free(bn);
	BN_free(p);
	BN_free(g);
	BN_free(y);
	EVP_PKEY_free(params);
	return ret;
}

/* ECP key pair (x, x * G) for a fixed x. */
static int fixed_ecp(struct ike_dh *dh, const BIGNUM *x)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(dh->grp->nid);
	EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL;
	BN_CTX *bn = BN_CTX_new();
	uint8_t point[ECP_POINT_MAX];
	size_t len = 0;
	int ret = -EIO;

	if (pt && bn && EC_POINT_mul(grp, pt, x, NULL, NULL, bn))
		len = EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED,
					 point, sizeof(point), bn);
	if (len == dh->grp->len + 1) {
		dh->pkey = pkey_fromdata(dh->grp, EVP_PKEY_KEYPAIR, x, NULL, point, len);
		ret = dh->pkey ? 0 : -EIO;
	}
	BN_CTX_free(bn);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return ret;
}

static int fixed_pkey(struct ike_dh *dh, const uint8_t *priv, size_t len)
{
	BIGNUM *x;
	int ret;

	if (len > INT_MAX)
		return -EINVAL;
	x = BN_bin2bn(priv, (int)len, NULL);
	if (!x)
		return -ENOMEM;
	if (BN_is_zero(x))
		ret = -EINVAL;
	else if (dh->grp->kind == DH_MODP)
		ret = fixed_modp(dh, x);
	else
		ret = fixed_ecp(dh, x);
	BN_clear_free(x);
	return ret;
}

int ike_dh_new_with_private(uint16_t group, const uint8_t *priv, size_t len,
			    struct ike_dh **out)
{
	const struct dh_group *g = find_group(group);
	struct ike_dh *dh;
	int ret;

	*out = NULL;
	if (!g)
		return -ENOTSUP;
	if (len == 0 || len > ike_dh_shared_len(group) ||
	    (g->kind == DH_X25519 && len != X25519_LEN))
		return -EINVAL;		/* at most the prime or field length */
	dh = calloc(1, sizeof(*dh));
	if (!dh)
		return -ENOMEM;
	dh->grp = g;
	ret = g->kind == DH_X25519 ? gen_x25519(dh, priv) : fixed_pkey(dh, priv, len);
	if (ret < 0) {
		ike_dh_free(dh);
		return ret;
	}
	*out = dh;
	return 0;
}

static int modp_public(const struct ike_dh *dh, uint8_t *buf)
{
	BIGNUM *y = NULL;
	int ret = -EIO;

	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) &&
	    BN_bn2binpad(y, buf, (int)dh->grp->len) == (int)dh->grp->len)
		ret = 0;
	BN_free(y);
	return ret;
}

static int ecp_public(const struct ike_dh *dh, uint8_t *buf)
{
	uint8_t point[ECP_POINT_MAX];
	size_t len = 0;

	if (!EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
					     point, sizeof(point), &len) ||
	    len != dh->grp->len + 1 || point[0] != POINT_CONVERSION_UNCOMPRESSED)
		return -EIO;
	memcpy(buf, point + 1, dh->grp->len);	/* x | y without the 0x04 */
	return 0;
}

int ike_dh_public(const struct ike_dh *dh, uint8_t *buf, size_t *len)
{
	int ret = 0;

	if (*len < dh->grp->len)
		return -ENOSPC;
	switch (dh->grp->kind) {
	case DH_X25519:
		memcpy(buf, dh->x25519_pk, X25519_LEN);
		break;
	case DH_MODP:
		ret = modp_public(dh, buf);
		break;
	case DH_ECP:
		ret = ecp_public(dh, buf);
		break;
	}
	if (ret == 0)
		*len = dh->grp->len;
	return ret;
}

/* Full public-key validation (y^q = 1 mod p; ECP point on the curve, not infinity). */
static bool public_check(EVP_PKEY *key)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* out = want bytes of secret shared between own and an already validated peer. */
static int derive(EVP_PKEY *own, EVP_PKEY *peer, bool pad, size_t want,
		  struct cgw_secret *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
	size_t len = 0;
	int ret = -EIO;

	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
	    (pad && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0 ||
	    EVP_PKEY_derive(ctx, NULL, &len) <= 0 || len != want)
		goto out;
	ret = ike_secret_alloc(out, want);
	if (ret < 0)
		goto out;
	if (EVP_PKEY_derive(ctx, out->data, &len) <= 0 || len != want) {
		secret_clear(out);
		ret = -EIO;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

static int modp_shared(const struct ike_dh *dh, const uint8_t *peer, size_t len,
		       struct cgw_secret *out)
{
	BIGNUM *y = BN_bin2bn(peer, (int)len, NULL), *p = NULL;
	EVP_PKEY *peer_key = NULL;
	int ret = -ENOMEM;

	if (!y || !EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &p) ||
	    !BN_sub_word(p, 1))
		goto out;
	ret = -EINVAL;
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, p) >= 0)
		goto out;		/* 1 < y < p-1 (RFC 6989 2.1) */
	peer_key = pkey_fromdata(dh->grp, EVP_PKEY_PUBLIC_KEY, NULL, y, NULL, 0);
	if (!peer_key || (dh->grp->subgroup && !public_check(peer_key)))
		goto out;
	ret = derive(dh->pkey, peer_key, true, len, out);
out:
	EVP_PKEY_free(peer_key);
	BN_free(p);
	BN_free(y);
	return ret;
}

static int ecp_shared(const struct ike_dh *dh, const uint8_t *peer, size_t len,
		      struct cgw_secret *out)
{
	uint8_t point[ECP_POINT_MAX];
	EVP_PKEY *peer_key;
	int ret = -EINVAL;

	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(point + 1, peer, len);
	peer_key = pkey_fromdata(dh->grp, EVP_PKEY_PUBLIC_KEY, NULL, NULL, point, len + 1);
	if (peer_key && public_check(peer_key))
		ret = derive(dh->pkey, peer_key, false, len / 2, out);	/* x only */
	EVP_PKEY_free(peer_key);
	return ret;
}

static int x25519_shared(const struct ike_dh *dh, const uint8_t *peer,
			 struct cgw_secret *out)
{
	int ret = ike_secret_alloc(out, X25519_LEN);

	if (ret < 0)
		return ret;
	/* -1 for low-order points and an all-zero result (RFC 7748 6.1, RFC 8031 2). */
	if (crypto_scalarmult(out->data, dh->x25519_sk.data, peer) != 0 ||
	    sodium_is_zero(out->data, X25519_LEN)) {
		secret_clear(out);
		return -EINVAL;
	}
	return 0;
}

int ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t len,
		  struct cgw_secret *out)
{
	int ret = -EINVAL;

	secret_clear(out);
	if (len != dh->grp->len)
		return -EINVAL;
	switch (dh->grp->kind) {
	case DH_X25519:
		ret = x25519_shared(dh, peer, out);
		break;
	case DH_MODP:
		ret = modp_shared(dh, peer, len, out);
		break;
	case DH_ECP:
		ret = ecp_shared(dh, peer, len, out);
		break;
	}
	if (ret == -EINVAL)
		ERR_clear_error();	/* the peer's fault: drop OpenSSL's complaints */
	return ret;
}

void ike_dh_free(struct ike_dh *dh)
{
	if (!dh)
		return;
	EVP_PKEY_free(dh->pkey);	/* clears the private BIGNUM */
	secret_clear(&dh->x25519_sk);
	sodium_memzero(dh, sizeof(*dh));
	free(dh);
}
