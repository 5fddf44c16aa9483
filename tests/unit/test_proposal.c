/*
 * Proposal strings -> IANA transform ids, canonical spelling, and the
 * errors people hit when copying strongSwan/Libreswan proposals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conf/proposal.h"

struct good_case {
	const char *in;
	enum proposal_kind kind;
	const char *canonical;
	uint16_t encr, keylen, integ, prf, dh;	/* first of each, 0 = none */
};

static const struct good_case good_cases[] = {
	{ "aes256-sha256-modp2048", PROPOSAL_IKE, "aes256-sha256-modp2048",
	  IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, 14 },
	{ "aes128-sha1-modp1024", PROPOSAL_IKE, "aes128-sha1-modp1024",
	  IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1, 2 },
	{ "aes256gcm16-sha384-ecp384", PROPOSAL_IKE, "aes256gcm16-prfsha384-ecp384",
	  IKE_ENCR_AES_GCM_16, 256, 0, IKE_PRF_HMAC_SHA2_384, 20 },
	{ "aes128gcm16-prfsha256-x25519", PROPOSAL_IKE, "aes128gcm16-prfsha256-x25519",
	  IKE_ENCR_AES_GCM_16, 128, 0, IKE_PRF_HMAC_SHA2_256, 31 },
	{ "aes256-sha512-prfsha256-modp2048s256", PROPOSAL_IKE,
	  "aes256-sha512-prfsha256-modp2048s256",
	  IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_256, 24 },
	{ "aes256gcm128-curve25519-prfsha256", PROPOSAL_IKE, "aes256gcm16-prfsha256-x25519",
	  IKE_ENCR_AES_GCM_16, 256, 0, IKE_PRF_HMAC_SHA2_256, 31 },
	{ "aes256gcm16-modp2048", PROPOSAL_ESP, "aes256gcm16-modp2048",
	  IKE_ENCR_AES_GCM_16, 256, 0, 0, 14 },
	{ "aes128-sha256", PROPOSAL_ESP, "aes128-sha256",
	  IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, 0, 0 },
	{ "aes256-sha2_256-esn", PROPOSAL_ESP, "aes256-sha256-esn",
	  IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, 0, 0 },
	{ " aes128-sha1 , aes256-sha256 ", PROPOSAL_ESP, "aes128-sha1,aes256-sha256",
	  IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, 0, 0 },
};

static void test_good(void **state)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *c = &good_cases[i];
		struct cgw_proposals p, again;
		char err[256] = "", buf[512], buf2[512];

		assert_int_equal(proposal_parse(c->in, c->kind, &p, err, sizeof(err)), 0);
		assert_string_equal(proposal_str(&p, c->kind, buf, sizeof(buf)), c->canonical);
		assert_int_equal(p.p[0].encr[0].id, c->encr);
		assert_int_equal(p.p[0].encr[0].keylen, c->keylen);
		assert_int_equal(p.p[0].n_integ ? p.p[0].integ[0].id : 0, c->integ);
		assert_int_equal(p.p[0].n_prf ? p.p[0].prf[0].id : 0, c->prf);
		assert_int_equal(p.p[0].n_dh ? p.p[0].dh[0].id : 0, c->dh);
		/* The canonical spelling parses to the same proposals. */
		assert_int_equal(proposal_parse(buf, c->kind, &again, err, sizeof(err)), 0);
		assert_string_equal(proposal_str(&again, c->kind, buf2, sizeof(buf2)), buf);
		assert_memory_equal(&p, &again, sizeof(p));
	}
}

static void test_all_aws_groups(void **state)
{
	static const char *const groups[] = {
		"modp1024", "modp1536", "modp2048", "modp3072", "modp4096", "modp6144",
		"modp8192", "ecp256", "ecp384", "ecp521", "modp1024s160", "modp2048s224",
		"modp2048s256", "x25519",
	};
	static const uint16_t ids[] = { 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 31 };

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		char in[64], err[256];
		struct cgw_proposals p;

		snprintf(in, sizeof(in), "aes128-sha256-%s", groups[i]);
		assert_int_equal(proposal_parse(in, PROPOSAL_IKE, &p, err, sizeof(err)), 0);
		assert_int_equal(p.p[0].dh[0].id, ids[i]);
	}
}

struct bad_case {
	const char *in;
	enum proposal_kind kind;
	const char *msg;	/* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "aes257-sha256-modp2048", PROPOSAL_IKE, "did you mean 'aes256'" },
	{ "aes256-sha256", PROPOSAL_IKE, "needs a DH group" },
	{ "aes256-modp2048", PROPOSAL_IKE, "needs an integrity algorithm" },
	{ "aes256gcm16-modp2048", PROPOSAL_IKE, "needs a PRF" },
	{ "sha256-modp2048", PROPOSAL_IKE, "no encryption algorithm" },
	{ "aes256gcm16-aes256-sha256-modp2048", PROPOSAL_IKE, "mixes AEAD" },
	{ "aes256-sha256-modp2048-esn", PROPOSAL_IKE, "esp only" },
	{ "aes256-sha256-prfsha256", PROPOSAL_ESP, "ike only" },
	{ "aes256-sha256,,aes128-sha1", PROPOSAL_ESP, "empty proposal" },
	{ "", PROPOSAL_ESP, "no proposal" },
	{ "3des-md5", PROPOSAL_ESP, "unknown algorithm '3des'" },
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct cgw_proposals p;
		char err[256] = "";

		assert_int_not_equal(proposal_parse(bad_cases[i].in, bad_cases[i].kind, &p,
						    err, sizeof(err)), 0);
		if (!strstr(err, bad_cases[i].msg))
			fail_msg("'%s': error '%s' lacks '%s'", bad_cases[i].in, err,
				 bad_cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_all_aws_groups),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
