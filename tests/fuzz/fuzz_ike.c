/*
 * libFuzzer harness: the IKEv2 wire layer on arbitrary bytes, twice per
 * input. As a datagram: header, clear chain and exchange table. As an SK
 * plaintext ("after decryption"): the inner chain parser from every known
 * first payload type, inside a protected message of an exchange picked by
 * the first byte. Whatever parses must re-encode to the same length, and
 * the re-encoding must parse and re-encode to itself (reserved fields are
 * written as zero, so the first pass may differ there).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ike/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_msg m, m2;
static uint8_t out[65536], out2[65536], skel[64];

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* out = build(m); then build(parse(out)) must be out again. */
static void round_trip(size_t len, bool inner)
{
	struct buf_writer w, w2;
	struct ike_result res;

	wr_init(&w, out, sizeof(out));
	CHECK((inner ? ike_build_inner_from_msg(&w, &m) : ike_build_from_msg(&w, &m)) == 0);
	CHECK(wr_len(&w) == len);
	if (inner) {
		m2 = m;
		m2.decrypted = false;
		/* m2's clear part still points at skel, which is unchanged. */
		for (size_t i = 0; i < m2.n_pl; i++)
			if (m2.pl[i].inner)
				m2.n_pl = (uint8_t)i;
		CHECK(ike_msg_parse_inner(&m2, out, wr_len(&w), &res) == 0);
	} else {
		CHECK(ike_msg_parse(out, wr_len(&w), &m2, &res) == 0);
	}
	wr_init(&w2, out2, sizeof(out2));
	CHECK((inner ? ike_build_inner_from_msg(&w2, &m2) :
	       ike_build_from_msg(&w2, &m2)) == 0);
	CHECK(wr_len(&w2) == wr_len(&w));
	CHECK(memcmp(out, out2, wr_len(&w)) == 0);
}

static void fuzz_datagram(const uint8_t *data, size_t size)
{
	struct ike_result res;
	char sum[1024];

	if (ike_msg_parse(data, size, &m, &res) < 0) {
		CHECK(res.code != IKE_PERR_NONE && res.reason[0]);
		return;
	}
	ike_msg_summary(&m, sum, sizeof(sum));
	ike_msg_check_rules(&m, &res);
	round_trip(size, false);
}

/* A protected message whose SK payload starts its inner chain at first. */
static size_t skeleton(uint8_t exchange, uint8_t flags, uint8_t first)
{
	struct buf_writer w;
	struct wr_mark len;

	wr_init(&w, skel, sizeof(skel));
	wr_be64(&w, 0x0102030405060708ull);
	wr_be64(&w, 0x1112131415161718ull);
	wr_u8(&w, IKE_PL_SK);
	wr_u8(&w, IKE_VERSION);
	wr_u8(&w, exchange);
	wr_u8(&w, flags);
	wr_be32(&w, 1);
	wr_reserve32(&w, 0, &len);
	wr_u8(&w, first);
	wr_u8(&w, 0);
	wr_be16(&w, 4 + 16);
	wr_zero(&w, 16);
	wr_patch_length(&w, &len);
	return wr_len(&w);
}

static void fuzz_inner(const uint8_t *data, size_t size)
{
	uint8_t sel = size ? data[0] : 0;
	uint8_t exchange = (uint8_t)(IKE_EXCH_IKE_AUTH + sel % 3);
	uint8_t flags = (sel & 0x80) ? IKE_FLAG_R : IKE_FLAG_I;
	struct ike_result res;

	for (unsigned int first = IKE_PL_FIRST; first <= IKE_PL_LAST + 1; first++) {
		size_t len = skeleton(exchange, flags, (uint8_t)first);

		CHECK(ike_msg_parse(skel, len, &m, &res) == 0);
		if (ike_msg_parse_inner(&m, data, size, &res) < 0) {
			CHECK(res.code != IKE_PERR_NONE && res.reason[0]);
			continue;
		}
		ike_msg_check_rules(&m, &res);
		round_trip(size, true);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_datagram(data, size);
	fuzz_inner(data, size);
	return 0;
}
