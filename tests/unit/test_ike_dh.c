/*
 * ike/dh.c: RFC 5903, RFC 7748/8031 and RFC 5114 known answers, every
 * MODP prime pinned to its RFC definition, fresh key pairs agreeing in
 * every group, and rejection of bad peer values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "common/secret.h"
#include "ike/dh.h"

#include "vectors/dh.h"

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

static struct ike_dh *dh_fixed(uint16_t group, const char *priv_hex)
{
	struct buf priv = unhex(priv_hex);
	struct ike_dh *dh = NULL;

	assert_int_equal(ike_dh_new_with_private(group, priv.p, priv.len, &dh), 0);
	free(priv.p);
	return dh;
}

static void assert_public(const struct ike_dh *dh, const char *want_hex)
{
	struct buf want = unhex(want_hex);
	uint8_t pub[IKE_DH_PUBLIC_MAX];
	size_t len = sizeof(pub);

	assert_int_equal(ike_dh_public(dh, pub, &len), 0);
	assert_int_equal(len, want.len);
	assert_int_equal(len, ike_dh_public_len(ike_dh_group(dh)));
	assert_memory_equal(pub, want.p, want.len);
	free(want.p);
}

static void assert_shared(const struct ike_dh *dh, const char *peer_hex, const char *want_hex)
{
	struct buf peer = unhex(peer_hex), want = unhex(want_hex);
	struct cgw_secret s = { 0 };

	assert_int_equal(ike_dh_shared(dh, peer.p, peer.len, &s), 0);
	assert_int_equal(s.len, want.len);
	assert_int_equal(s.len, ike_dh_shared_len(ike_dh_group(dh)));
	assert_memory_equal(s.data, want.p, want.len);
	secret_clear(&s);
	free(peer.p);
	free(want.p);
}

/* Both parties of a fixed-key vector: public values and g^ir from each side. */
static void check_pair(uint16_t group, const char *priv_i, const char *pub_i,
		       const char *priv_r, const char *pub_r, const char *shared)
{
	struct ike_dh *i = dh_fixed(group, priv_i), *r = dh_fixed(group, priv_r);

	assert_public(i, pub_i);
	assert_public(r, pub_r);
	assert_shared(i, pub_r, shared);
	assert_shared(r, pub_i, shared);
	ike_dh_free(i);
	ike_dh_free(r);
}

/* RFC 5903 section 8: groups 19, 20, 21. */
static void test_ecp_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(ecp_vectors); i++) {
		const struct ecp_vector *v = &ecp_vectors[i];

		print_message("RFC 5903 group %u\n", v->group);
		check_pair(v->group, v->i, v->gi, v->r, v->gr, v->gir);
	}
}

/* RFC 7748 6.1 and RFC 8031. */
static void test_x25519_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(x25519_vectors); i++) {
		const struct dh_vector *v = &x25519_vectors[i];

		print_message("%s\n", v->src);
		check_pair(v->group, v->priv_i, v->pub_i, v->priv_r, v->pub_r, v->shared);
	}
}

/* RFC 7748 5.2: the scalar is clamped, the u-coordinate's top bit ignored. */
static void test_x25519_mult(void **state)
{
	for (size_t i = 0; i < N_ELEMS(x25519_mult_vectors); i++) {
		const struct x25519_mult *v = &x25519_mult_vectors[i];
		struct ike_dh *dh = dh_fixed(31, v->scalar);

		print_message("%s\n", v->src);
		assert_shared(dh, v->u, v->out);
		ike_dh_free(dh);
	}
}

/* RFC 5114 appendix A: groups 22, 23, 24 with their fixed x_A and x_B. */
static void test_rfc5114_vectors(void **state)
{
	for (size_t i = 0; i < N_ELEMS(rfc5114_vectors); i++) {
		const struct dh_vector *v = &rfc5114_vectors[i];

		print_message("%s\n", v->src);
		check_pair(v->group, v->priv_i, v->pub_i, v->priv_r, v->pub_r, v->shared);
	}
}

/*
 * The prime of a generator-2 group, through the public API only: with the
 * private value x = n (the prime's bit length), g^x = 2^n mod p = 2^n - p,
 * as 2^(n-1) < p < 2^n.
 */
static struct buf modp_prime(uint16_t group)
{
	size_t plen = ike_dh_public_len(group);
	uint8_t x[2] = { (uint8_t)((plen * 8) >> 8), (uint8_t)(plen * 8) };
	struct buf p = { malloc(plen), plen };
	struct ike_dh *dh = NULL;
	size_t len = plen;
	unsigned carry = 1;

	assert_true(group < 22);	/* RFC 5114 groups have other generators */
	assert_non_null(p.p);
	assert_int_equal(ike_dh_new_with_private(group, x, sizeof(x), &dh), 0);
	assert_int_equal(ike_dh_public(dh, p.p, &len), 0);
	for (size_t i = plen; i-- > 0;) {	/* p = 2^n - g^x: negate mod 2^n */
		unsigned v = (uint8_t)~p.p[i] + carry;

		p.p[i] = (uint8_t)v;
		carry = v >> 8;
	}
	ike_dh_free(dh);
	assert_true(p.p[0] & 0x80);
	return p;
}

/* Any MODP group's prime: computed above, or RFC 5114's from the vectors. */
static struct buf group_prime(uint16_t group)
{
	for (size_t i = 0; i < N_ELEMS(rfc5114_params); i++)
		if (rfc5114_params[i].group == group)
			return unhex(rfc5114_params[i].p);
	return modp_prime(group);
}

/* y += 1 on a big-endian number (no overflow for values below p). */
static void be_inc(uint8_t *y, size_t len)
{
	while (len-- > 0 && ++y[len] == 0)
		;
}

/* Every MODP prime against SHA-256 digests computed from the RFC formula (modp_primes.py). */
static void test_modp_primes(void **state)
{
	for (size_t i = 0; i < N_ELEMS(modp_primes); i++) {
		const struct modp_prime *v = &modp_primes[i];
		struct buf p = modp_prime(v->group);
		uint8_t digest[crypto_hash_sha256_BYTES];
		char hex[2 * crypto_hash_sha256_BYTES + 1];

		print_message("group %u, %zu bits\n", v->group, v->len * 8);
		assert_int_equal(p.len, v->len);
		crypto_hash_sha256(digest, p.p, p.len);
		sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
		assert_string_equal(hex, v->sha256);
		free(p.p);
	}
}

static const uint16_t all_groups[] = { 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 31 };

/* Two fresh key pairs agree in every group; lengths are the wire lengths. */
static void test_fresh_pairs_agree(void **state)
{
	for (size_t i = 0; i < N_ELEMS(all_groups); i++) {
		uint16_t g = all_groups[i];
		struct ike_dh *a = NULL, *b = NULL;
		uint8_t pa[IKE_DH_PUBLIC_MAX], pb[IKE_DH_PUBLIC_MAX];
		size_t la = sizeof(pa), lb = sizeof(pb);
		struct cgw_secret sa = { 0 }, sb = { 0 };

		print_message("group %u\n", g);
		assert_int_equal(ike_dh_new(g, &a), 0);
		assert_int_equal(ike_dh_new(g, &b), 0);
		assert_int_equal(ike_dh_group(a), g);
		assert_int_equal(ike_dh_public(a, pa, &la), 0);
		assert_int_equal(ike_dh_public(b, pb, &lb), 0);
		assert_int_equal(la, ike_dh_public_len(g));
		assert_int_equal(lb, la);
		assert_memory_not_equal(pa, pb, la);
		assert_int_equal(ike_dh_shared(a, pb, lb, &sa), 0);
		assert_int_equal(ike_dh_shared(b, pa, la, &sb), 0);
		assert_int_equal(sa.len, ike_dh_shared_len(g));
		assert_true(secret_equal(&sa, &sb));
		secret_clear(&sa);
		secret_clear(&sb);
		ike_dh_free(a);
		ike_dh_free(b);
	}
}

static void assert_rejected(const struct ike_dh *dh, const uint8_t *peer, size_t len)
{
	struct cgw_secret s = { 0 };

	assert_int_equal(ike_dh_shared(dh, peer, len, &s), -EINVAL);
	assert_null(s.data);
}

/* y = small, p-1, p, p+1 and all-ones; wrong lengths (RFC 6989 2.1). */
static void test_modp_rejects(void **state)
{
	static const uint16_t groups[] = { 2, 5, 14, 18, 22, 23, 24 };

	for (size_t i = 0; i < N_ELEMS(groups); i++) {
		struct buf p = group_prime(groups[i]);
		uint8_t y[IKE_DH_PUBLIC_MAX + 1];
		struct ike_dh *dh = NULL;

		assert_int_equal(ike_dh_new(groups[i], &dh), 0);
		for (unsigned small = 0; small <= 1; small++) {
			memset(y, 0, p.len);
			y[p.len - 1] = (uint8_t)small;
			assert_rejected(dh, y, p.len);
		}
		memcpy(y, p.p, p.len);
		assert_rejected(dh, y, p.len);		/* p */
		y[p.len - 1]--;				/* p is odd: no borrow */
		assert_rejected(dh, y, p.len);		/* p - 1 */
		be_inc(y, p.len);
		be_inc(y, p.len);
		assert_rejected(dh, y, p.len);		/* p + 1 */
		memset(y, 0xff, p.len + 1);
		assert_rejected(dh, y, p.len);
		assert_int_equal(ike_dh_public_len(groups[i]), p.len);
		memset(y, 0, p.len + 1);
		y[p.len - 1] = 2;
		assert_rejected(dh, y + 1, p.len - 1);	/* wrong lengths */
		assert_rejected(dh, y, p.len + 1);
		ike_dh_free(dh);
		free(p.p);
	}
}

/* y = 2 is fine for a safe prime but outside the q-order subgroup of RFC 5114 groups. */
static void test_modp_subgroup(void **state)
{
	for (uint16_t g = 14; g <= 24; g += 10) {
		size_t len = ike_dh_public_len(g);
		uint8_t y[256] = { 0 };
		struct cgw_secret s = { 0 };
		struct ike_dh *dh = NULL;

		y[len - 1] = 2;
		assert_int_equal(ike_dh_new(g, &dh), 0);
		assert_int_equal(ike_dh_shared(dh, y, len, &s), g == 14 ? 0 : -EINVAL);
		secret_clear(&s);
		ike_dh_free(dh);
	}
}

/* Points off the curve, coordinates out of range, wrong lengths (RFC 6989 2.3). */
static void test_ecp_rejects(void **state)
{
	for (size_t i = 0; i < N_ELEMS(ecp_vectors); i++) {
		const struct ecp_vector *v = &ecp_vectors[i];
		struct ike_dh *dh = dh_fixed(v->group, v->i);
		struct buf gr = unhex(v->gr);
		uint8_t pt[2 * 66 + 1];

		memcpy(pt, gr.p, gr.len);
		pt[gr.len - 1] ^= 1;			/* y no longer on the curve */
		assert_rejected(dh, pt, gr.len);
		pt[gr.len - 1] ^= 1;
		pt[0] ^= 0x40;				/* neither is x */
		assert_rejected(dh, pt, gr.len);
		memset(pt, 0, gr.len);			/* (0, 0) */
		assert_rejected(dh, pt, gr.len);
		memset(pt, 0xff, gr.len);		/* coordinates >= p */
		assert_rejected(dh, pt, gr.len);
		assert_rejected(dh, gr.p, gr.len - 1);
		memcpy(pt, gr.p, gr.len);
		pt[gr.len] = 0;
		assert_rejected(dh, pt, gr.len + 1);
		ike_dh_free(dh);
		free(gr.p);
	}
}

/* All-zero results from low-order points (RFC 7748 6.1, RFC 8031 2). */
static void test_x25519_rejects(void **state)
{
	static const char *const bad[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		/* p = 2^255 - 19, which is 0 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		/* a point of order 8 */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	};
	struct ike_dh *dh = NULL;
	uint8_t ok[32] = { 9 };

	assert_int_equal(ike_dh_new(31, &dh), 0);
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		struct buf u = unhex(bad[i]);

		assert_rejected(dh, u.p, u.len);
		free(u.p);
	}
	assert_rejected(dh, ok, 31);
	ike_dh_free(dh);
}

static void test_api_errors(void **state)
{
	static const uint16_t unknown[] = { 0, 1, 3, 4, 13, 25, 26, 30, 32, 0xffff };
	static int sentinel;
	uint8_t priv[32] = { 1 }, pub[IKE_DH_PUBLIC_MAX];
	struct ike_dh *dh = (void *)&sentinel;
	size_t len;

	for (size_t i = 0; i < N_ELEMS(unknown); i++) {
		assert_int_equal(ike_dh_new(unknown[i], &dh), -ENOTSUP);
		assert_null(dh);
		assert_false(ike_dh_supported(unknown[i]));
		assert_int_equal(ike_dh_public_len(unknown[i]), 0);
	}
	assert_int_equal(ike_dh_new_with_private(31, priv, 31, &dh), -EINVAL);
	assert_int_equal(ike_dh_new_with_private(19, priv, 33, &dh), -EINVAL);
	assert_int_equal(ike_dh_new_with_private(14, priv, 0, &dh), -EINVAL);
	memset(priv, 0, sizeof(priv));
	assert_int_equal(ike_dh_new_with_private(14, priv, 32, &dh), -EINVAL);	/* x = 0 */
	assert_int_equal(ike_dh_new(21, &dh), 0);
	len = 131;
	assert_int_equal(ike_dh_public(dh, pub, &len), -ENOSPC);
	ike_dh_free(dh);
	ike_dh_free(NULL);
	assert_int_equal(ike_dh_public_len(18), 1024);
	assert_int_equal(ike_dh_shared_len(21), 66);
	assert_int_equal(ike_dh_public_len(21), 132);
	assert_int_equal(ike_dh_shared_len(31), 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecp_vectors),
		cmocka_unit_test(test_x25519_vectors),
		cmocka_unit_test(test_x25519_mult),
		cmocka_unit_test(test_rfc5114_vectors),
		cmocka_unit_test(test_modp_primes),
		cmocka_unit_test(test_fresh_pairs_agree),
		cmocka_unit_test(test_modp_rejects),
		cmocka_unit_test(test_modp_subgroup),
		cmocka_unit_test(test_ecp_rejects),
		cmocka_unit_test(test_x25519_rejects),
		cmocka_unit_test(test_api_errors),
	};

	if (secret_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
