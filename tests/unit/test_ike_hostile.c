/*
 * Hostile protected messages against an established IKE SA (the unit
 * side of VM scenario 70-hostile-ike): messages forged with the
 * initiator's real keys, or broken on purpose, handed straight to the
 * responder's engine. A retransmitted request is answered again only
 * when it is authentic; SK failures are told apart (too short, ICV,
 * padding past the data) and only the authentic one gets INVALID_SYNTAX;
 * unknown critical payloads and malformed DELETEs inside SK get their
 * protected error notify. And the log lines anyone can trigger with
 * IKE_SA_INIT from the peer's address are rate-limited. On
 * ike_harness.c's virtual clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "common/log.h"
#include "ike/crypto.h"
#include "tests/unit/ike_harness.h"

#define MSG_CAP 512
#define DH_MODP2048 14
#define DH_ECP256 19
#define SK_AAD (IKE_HDR_LEN + 4)

static const struct h_cfg cbc = { .ike = "aes256-sha256-modp2048" };
static const struct h_cfg gcm = { .ike = "aes256gcm16-prfsha256-modp2048" };

static size_t count(const char *log, const char *needle)
{
	size_t n = 0;

	for (const char *p = log; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/*
 * A request from A to B protected with A's real keys, whose decrypted
 * content is exactly `content` (inner payloads, padding and pad length
 * byte as the caller wants them: CBC needs whole blocks). Returns its
 * length in msg.
 */
static size_t forge(struct harness *h, uint8_t exchange, uint32_t msgid, uint8_t first,
		    const uint8_t *content, size_t n, uint8_t *msg)
{
	const struct ike_sa *a = h_sa(&h->a);
	const struct ike_sk *sk = &a->sk_out;
	bool is_gcm = a->algs.encr == IKE_ENCR_AES_GCM_16;
	size_t ivl = ike_sk_iv_len(sk);
	size_t icv = is_gcm ? IKE_GCM_ICV_LEN : ike_integ_icv_len(a->algs.integ);
	size_t total = SK_AAD + ivl + n + icv;
	uint8_t *iv = msg + SK_AAD, *ct = iv + ivl, nonce[12];

	assert_true(total <= MSG_CAP);
	put_be(msg, a->spi_i, 8);
	put_be(msg + 8, a->spi_r, 8);
	msg[16] = IKE_PL_SK;
	msg[17] = IKE_VERSION;
	msg[18] = exchange;
	msg[19] = IKE_FLAG_I;
	put_be(msg + 20, msgid, 4);
	put_be(msg + 24, total, 4);
	msg[28] = first;
	msg[29] = 0;
	put_be(msg + 30, total - IKE_HDR_LEN, 2);
	randombytes_buf(iv, ivl);
	if (is_gcm) {
		memcpy(nonce, sk->ekey->data + sk->ekey->len - 4, 4);
		memcpy(nonce + 4, iv, 8);
		assert_int_equal(ike_aes_gcm(true, sk->ekey->data, sk->ekey->len - 4, nonce,
					     msg, SK_AAD, content, n, ct, ct + n), 0);
	} else {
		struct iovec whole = IKE_IOV(msg, total - icv);

		assert_int_equal(n % IKE_AES_BLOCK, 0);
		assert_int_equal(ike_aes_cbc(true, sk->ekey->data, sk->ekey->len, iv,
					     content, n, ct), 0);
		assert_int_equal(ike_integ(a->algs.integ, sk->akey->data, sk->akey->len,
					   &whole, 1, ct + n, icv), 0);
	}
	return total;
}

/* Inner payloads plus correct padding, as a sender would pad them. */
static size_t pad_content(struct harness *h, const uint8_t *inner, size_t n, uint8_t *out)
{
	bool is_gcm = h_sa(&h->a)->algs.encr == IKE_ENCR_AES_GCM_16;
	size_t pad = is_gcm ? 0 : IKE_AES_BLOCK - 1 - n % IKE_AES_BLOCK;

	if (n)
		memcpy(out, inner, n);
	memset(out + n, 0, pad);
	out[n + pad] = (uint8_t)pad;
	return n + pad + 1;
}

/* The datagram arrives at B from A. */
static void to_b(struct harness *h, const uint8_t *buf, size_t len)
{
	const struct ike_sa *b = h_sa(&h->b);

	ike_input(h->b.ike, &b->path, false, buf, len);
}

static size_t b_answers(const struct harness *h, uint8_t exchange, size_t since)
{
	return h_count(h, &h->b, exchange, true, since);
}

static void start(struct harness *h, const struct h_cfg *cfg)
{
	h_start(h, cfg);
	h->manual = true;	/* B's answers stay in the queue: we only count */
	h_log_clear();
}

/* An empty INFORMATIONAL with the next message ID is answered: the SA
 * still works and its window is where it should be. */
static void assert_still_works(struct harness *h)
{
	uint8_t content[32], msg[MSG_CAP];
	size_t since = h->n_tap, n = pad_content(h, NULL, 0, content);

	to_b(h, msg, forge(h, IKE_EXCH_INFORMATIONAL, h_sa(&h->b)->peer_msgid,
			   IKE_PL_NONE, content, n, msg));
	assert_int_equal(b_answers(h, IKE_EXCH_INFORMATIONAL, since), 1);
	assert_int_equal(h->a.downs + h->b.downs, 0);
}

/* A retransmitted request gets the cached answer again; the same message
 * ID with a broken ICV or ciphertext gets nothing (before the fix anyone
 * who saw the SPIs could make B resend its last answer at will). */
static void replay(const struct h_cfg *cfg)
{
	struct harness h;
	uint8_t content[32], msg[MSG_CAP], forged[MSG_CAP];
	size_t n, len, since;
	uint32_t id;

	start(&h, cfg);
	id = h_sa(&h.b)->peer_msgid;
	n = pad_content(&h, NULL, 0, content);
	len = forge(&h, IKE_EXCH_INFORMATIONAL, id, IKE_PL_NONE, content, n, msg);
	since = h.n_tap;
	to_b(&h, msg, len);
	assert_int_equal(b_answers(&h, IKE_EXCH_INFORMATIONAL, since), 1);
	assert_int_equal(h_sa(&h.b)->peer_msgid, id + 1);
	to_b(&h, msg, len);		/* retransmission: answered again */
	assert_int_equal(b_answers(&h, IKE_EXCH_INFORMATIONAL, since), 2);
	assert_non_null(strstr(h_log(), "again: response resent"));

	memcpy(forged, msg, len);
	forged[len - 1] ^= 0x01;	/* ICV / tag */
	to_b(&h, forged, len);
	memcpy(forged, msg, len);
	forged[SK_AAD + ike_sk_iv_len(&h_sa(&h.a)->sk_out)] ^= 0x80;	/* ciphertext */
	to_b(&h, forged, len);
	assert_int_equal(b_answers(&h, IKE_EXCH_INFORMATIONAL, since), 2);
	assert_int_equal(h_sa(&h.b)->tun->bad_icv, 2);
	assert_non_null(strstr(h_log(), "integrity check failed: dropped"));
	assert_int_equal(h_sa(&h.b)->peer_msgid, id + 1);
	assert_still_works(&h);
	h_stop(&h);
}

static void test_replay_cbc(void **state)
{
	replay(&cbc);
}

static void test_replay_gcm(void **state)
{
	replay(&gcm);
}

/* Authentic, but its pad length byte points before the plaintext:
 * INVALID_SYNTAX (3.10.1: valid ICV and message ID), the window moves. */
static void bad_padding(const struct h_cfg *cfg)
{
	struct harness h;
	uint8_t content[32] = { 0 }, msg[MSG_CAP];
	size_t since;
	uint32_t id;

	start(&h, cfg);
	id = h_sa(&h.b)->peer_msgid;
	content[15] = 200;
	since = h.n_tap;
	to_b(&h, msg, forge(&h, IKE_EXCH_INFORMATIONAL, id, IKE_PL_NONE, content, 16, msg));
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_INVALID_SYNTAX, since), 1);
	assert_non_null(strstr(h_log(), "padding length 200 exceeds the 16 decrypted bytes"));
	assert_int_equal(h_sa(&h.b)->peer_msgid, id + 1);
	assert_int_equal(h_sa(&h.b)->tun->bad_icv, 0);
	assert_still_works(&h);
	h_stop(&h);
}

static void test_bad_padding_cbc(void **state)
{
	bad_padding(&cbc);
}

static void test_bad_padding_gcm(void **state)
{
	bad_padding(&gcm);
}

/* SK bodies too short for IV + pad length + ICV, and CBC ciphertext that
 * is not whole blocks: dropped, not counted as ICV failures, no answer. */
static void test_sk_too_short(void **state)
{
	struct harness h;
	uint8_t content[32], msg[MSG_CAP], cut[MSG_CAP];
	size_t n, since;
	static const size_t bodies[] = { 1, 8, 20, 40 };	/* 40: 8-byte ciphertext */

	start(&h, &cbc);
	n = pad_content(&h, NULL, 0, content);
	forge(&h, IKE_EXCH_INFORMATIONAL, h_sa(&h.b)->peer_msgid, IKE_PL_NONE, content, n, msg);
	since = h.n_tap;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t total = SK_AAD + bodies[i];

		memcpy(cut, msg, total);
		put_be(cut + 24, total, 4);
		put_be(cut + 30, total - IKE_HDR_LEN, 2);
		to_b(&h, cut, total);
	}
	assert_int_equal(h.n_tap, since);
	assert_int_equal(h_sa(&h.b)->tun->bad_icv, 0);
	assert_non_null(strstr(h_log(), "is too short for IV, pad length and ICV"));
	assert_still_works(&h);
	h_stop(&h);
}

/* Authentic requests with an unknown critical payload, or a DELETE whose
 * SPI size or count is wrong: the protected error notify, the SA lives. */
static void test_authentic_malformed(void **state)
{
	static const uint8_t crit[] = { 0, 0x80, 0, 5, 'x' };		/* type 200 */
	static const uint8_t bad_size[] = { 0, 0, 0, 16, 3, 8, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t overrun[] = { 0, 0, 0, 12, 3, 4, 0, 5, 1, 2, 3, 4 };
	struct { uint8_t first; const uint8_t *p; size_t n; uint16_t error; } cases[] = {
		{ 200, crit, sizeof(crit), IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD },
		{ IKE_PL_DELETE, bad_size, sizeof(bad_size), IKE_N_INVALID_SYNTAX },
		{ IKE_PL_DELETE, overrun, sizeof(overrun), IKE_N_INVALID_SYNTAX },
	};
	struct harness h;
	uint8_t content[64], msg[MSG_CAP];

	start(&h, &cbc);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t since = h.n_tap, n = pad_content(&h, cases[i].p, cases[i].n, content);

		to_b(&h, msg, forge(&h, IKE_EXCH_INFORMATIONAL, h_sa(&h.b)->peer_msgid,
				    cases[i].first, content, n, msg));
		assert_int_equal(h_count_error(&h, &h.b, cases[i].error, since), 1);
		assert_non_null(h_child(&h.b));
		assert_still_works(&h);
	}
	assert_non_null(strstr(h_log(), "unsupported critical payload type 200"));
	assert_non_null(strstr(h_log(), "Delete: protocol 3, 1 SPIs of 8 bytes"));
	assert_non_null(strstr(h_log(), "Delete: protocol 3, 5 SPIs of 4 bytes"));
	h_stop(&h);
}

/* An IKE_SA_INIT request "from A" with A's proposals, a KE of group and
 * ke_len bytes (not a real public value: nothing here gets that far). */
static size_t sa_init(struct harness *h, uint16_t group, size_t ke_len, uint8_t *buf,
		      size_t cap)
{
	uint8_t ke[512], nonce[IKE_NONCE_LEN];
	struct ike_hdr hdr = { .version = IKE_VERSION, .exchange = IKE_EXCH_IKE_SA_INIT,
			       .flags = IKE_FLAG_I };
	struct ike_msg_builder b;
	struct buf_writer w;

	randombytes_buf(&hdr.spi_i, sizeof(hdr.spi_i));
	hdr.spi_i |= 1;
	randombytes_buf(ke, sizeof(ke));
	randombytes_buf(nonce, sizeof(nonce));
	wr_init(&w, buf, cap);
	ike_build_begin(&b, &w, &hdr);
	ike_put_sa(&b.ch, &h->a.conf->tunnels[0].ike, IKE_PROTO_IKE, (struct span){ 0 });
	ike_put_ke(&b.ch, group, (struct span){ ke, ke_len });
	ike_put_nonce(&b.ch, (struct span){ nonce, sizeof(nonce) });
	assert_int_equal(ike_build_end(&b), 0);
	return wr_len(&w);
}

/* Let virtual time pass with datagrams flowing, then hold them again. */
static void pass_time(struct harness *h, double seconds)
{
	h->manual = false;
	h_run(h, seconds);
	h->manual = true;
}

/* Anyone can send IKE_SA_INIT with the peer's address: every one gets
 * its stateless answer, but the log gets one line per tunnel per
 * IKE_UNAUTH_LOG_INTERVAL, the next saying how many were held back. */
static void test_unauth_lines_limited(void **state)
{
	struct harness h;
	uint8_t buf[1024];
	size_t since;

	start(&h, &cbc);
	since = h.n_tap;
	for (int i = 0; i < 50; i++)
		to_b(&h, buf, sa_init(&h, DH_ECP256, 64, buf, sizeof(buf)));
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_INVALID_KE_PAYLOAD, since), 50);
	assert_int_equal(count(h_log(), "asking for group 14"), 1);
	pass_time(&h, IKE_UNAUTH_LOG_INTERVAL + 0.5);
	to_b(&h, buf, sa_init(&h, DH_ECP256, 64, buf, sizeof(buf)));
	assert_int_equal(count(h_log(), "asking for group 14"), 2);
	assert_non_null(strstr(h_log(), "(INVALID_KE_PAYLOAD) (49 similar lines held back)"));
	assert_int_equal(h_count_sas(&h.b), 1);
	assert_still_works(&h);
	h_stop(&h);
}

/* A KE of the wrong size for its group: no answer, no SA, no state line,
 * the tunnel's last error untouched, and one rate-limited line. */
static void test_unusable_ke(void **state)
{
	struct harness h;
	uint8_t buf[1024];
	char last_error[sizeof(h_sa(&h.b)->tun->last_error)];
	size_t since;

	start(&h, &cbc);
	memcpy(last_error, h_sa(&h.b)->tun->last_error, sizeof(last_error));
	since = h.n_tap;
	for (int i = 0; i < 20; i++)
		to_b(&h, buf, sa_init(&h, DH_MODP2048, 10, buf, sizeof(buf)));
	assert_int_equal(h.n_tap, since);
	assert_int_equal(h_count_sas(&h.b), 1);
	assert_int_equal(count(h_log(), "10-byte KE for group 14 unusable: dropped"), 1);
	assert_null(strstr(h_log(), "IDLE"));
	assert_string_equal(h_sa(&h.b)->tun->last_error, last_error);
	assert_still_works(&h);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_cbc),
		cmocka_unit_test(test_replay_gcm),
		cmocka_unit_test(test_bad_padding_cbc),
		cmocka_unit_test(test_bad_padding_gcm),
		cmocka_unit_test(test_sk_too_short),
		cmocka_unit_test(test_authentic_malformed),
		cmocka_unit_test(test_unauth_lines_limited),
		cmocka_unit_test(test_unusable_ke),
	};

	h_init();
	log_debug_enable("ike");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
