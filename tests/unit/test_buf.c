/*
 * The bounded reader and writer (common/buf.c): every getter on short
 * data, sticky errors, sub-readers, length back-patching, sticky overflow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t data[] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
};

enum op { U8, BE16, BE32, BE64, BYTES3, SKIP4, PTR2, SPAN5 };

/* One getter on a buffer of avail bytes: expected result and value. */
struct get_case {
	enum op op;
	size_t avail;
	int ret;
	uint64_t value;		/* the value read (first bytes for BYTES3) */
	size_t left;		/* bytes left afterwards */
};

static const struct get_case get_cases[] = {
	{ U8, 1, 0, 0x01, 0 },
	{ U8, 0, -EBADMSG, 0, 0 },
	{ BE16, 2, 0, 0x0102, 0 },
	{ BE16, 1, -EBADMSG, 0, 1 },
	{ BE32, 5, 0, 0x01020304, 1 },
	{ BE32, 3, -EBADMSG, 0, 3 },
	{ BE64, 8, 0, 0x0102030405060708ull, 0 },
	{ BE64, 7, -EBADMSG, 0, 7 },
	{ BYTES3, 3, 0, 0x010203, 0 },
	{ BYTES3, 2, -EBADMSG, 0, 2 },
	{ SKIP4, 10, 0, 0, 6 },
	{ SKIP4, 3, -EBADMSG, 0, 3 },
	{ PTR2, 2, 0, 0x0102, 0 },
	{ PTR2, 1, -EBADMSG, 0, 1 },
	{ SPAN5, 5, 0, 0x0102030405ull, 0 },
	{ SPAN5, 4, -EBADMSG, 0, 4 },
};

static int run_get(struct buf_reader *r, enum op op, uint64_t *v)
{
	uint8_t u8, b[3];
	uint16_t u16;
	uint32_t u32;
	const uint8_t *p;
	struct span s;
	int ret;

	*v = 0;
	switch (op) {
	case U8: ret = rd_u8(r, &u8); *v = u8; return ret;
	case BE16: ret = rd_be16(r, &u16); *v = u16; return ret;
	case BE32: ret = rd_be32(r, &u32); *v = u32; return ret;
	case BE64: return rd_be64(r, v);
	case BYTES3:
		ret = rd_bytes(r, b, 3);
		*v = (uint64_t)b[0] << 16 | (uint64_t)b[1] << 8 | b[2];
		return ret;
	case SKIP4: return rd_skip(r, 4);
	case PTR2:
		p = rd_ptr(r, 2);
		*v = p ? (uint64_t)(p[0] << 8 | p[1]) : 0;
		return p ? 0 : -EBADMSG;
	case SPAN5:
		ret = rd_span(r, 5, &s);
		for (size_t i = 0; i < s.len; i++)
			*v = *v << 8 | s.p[i];
		return ret;
	}
	return -EINVAL;
}

static void test_getters(void **state)
{
	for (size_t i = 0; i < N(get_cases); i++) {
		const struct get_case *c = &get_cases[i];
		struct buf_reader r;
		uint64_t v;

		rd_init(&r, data, c->avail);
		assert_int_equal(run_get(&r, c->op, &v), c->ret);
		assert_int_equal(v, c->value);
		assert_int_equal(rd_left(&r), c->ret ? 0 : c->left);
		assert_int_equal(rd_failed(&r), c->ret != 0);
		if (c->ret) {
			/* Nothing consumed; the error sticks for every getter. */
			assert_int_equal(r.left, c->left);
			assert_int_equal(run_get(&r, U8, &v), -EBADMSG);
			assert_false(rd_done(&r));
		}
	}
}

/* Child readers: a length-prefixed list of (len, bytes) records. */
struct sub_case {
	const char *name;
	uint8_t in[12];
	size_t len;
	int records;		/* records parsed, -1 = error */
};

static const struct sub_case sub_cases[] = {
	{ "two records", { 2, 0xaa, 0xbb, 1, 0xcc }, 5, 2 },
	{ "empty record", { 0, 1, 0xcc }, 3, 2 },
	{ "record overruns", { 3, 0xaa, 0xbb }, 3, -1 },
	{ "length byte missing", { 0 }, 0, 0 },
	{ "max record", { 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, 12, 1 },
};

static int parse_records(const uint8_t *in, size_t len)
{
	struct buf_reader r, child;
	uint8_t l;
	int n = 0;

	rd_init(&r, in, len);
	while (rd_left(&r)) {
		if (rd_u8(&r, &l) < 0 || rd_sub(&r, l, &child) < 0)
			return -1;
		assert_int_equal(rd_left(&child), l);
		assert_int_equal(rd_skip(&child, l), 0);
		assert_true(rd_done(&child));
		/* Reading past the child fails even though the parent has more. */
		assert_int_equal(rd_u8(&child, &l), -EBADMSG);
		n++;
	}
	return rd_done(&r) ? n : -1;
}

static void test_sub(void **state)
{
	for (size_t i = 0; i < N(sub_cases); i++) {
		print_message("sub: %s\n", sub_cases[i].name);
		assert_int_equal(parse_records(sub_cases[i].in, sub_cases[i].len),
				 sub_cases[i].records);
	}
}

static void test_reader_misc(void **state)
{
	struct buf_reader r, c;
	struct span s;

	rd_init(&r, NULL, 5);
	assert_int_equal(rd_left(&r), 0);
	assert_true(rd_done(&r));
	assert_non_null(rd_ptr(&r, 0));
	rd_init(&r, data, sizeof(data));
	assert_int_equal(rd_sub(&r, 11, &c), -EBADMSG);
	assert_true(rd_failed(&c));
	assert_int_equal(rd_left(&c), 0);
	rd_init(&r, data, sizeof(data));
	assert_int_equal(rd_skip(&r, 7), 0);
	s = rd_rest(&r);
	assert_int_equal(s.len, 3);
	assert_int_equal(s.p[0], 0x08);
	assert_true(rd_done(&r));
	/* Leftover bytes: not done. */
	rd_init(&r, data, 3);
	assert_int_equal(rd_skip(&r, 2), 0);
	assert_false(rd_done(&r));
}

/* Writer cases: capacity, what is written, expected bytes or overflow. */
struct wr_case {
	const char *name;
	size_t cap;
	bool overflow;
	size_t len;
	uint8_t out[24];
};

static void write_sample(struct buf_writer *w)
{
	struct wr_mark m16, m32;
	size_t start = wr_len(w);

	wr_u8(w, 0xa1);
	wr_reserve16(w, start, &m16);		/* length of everything */
	wr_be16(w, 0xb2c3);
	wr_reserve32(w, wr_len(w), &m32);	/* length from the field on */
	wr_be32(w, 0xd4e5f607);
	wr_be64(w, 0x1122334455667788ull);
	wr_zero(w, 2);
	wr_bytes(w, "\x99", 1);
	wr_patch_length(w, &m32);
	wr_patch_length(w, &m16);
	wr_patch8(w, 0, 0xa0);
}

static const struct wr_case wr_cases[] = {
	{ "fits exactly", 24, false, 24,
	  { 0xa0, 0x00, 0x18, 0xb2, 0xc3, 0x00, 0x00, 0x00, 0x13, 0xd4, 0xe5, 0xf6,
	    0x07, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x99 } },
	{ "one byte short", 23, true, 0, { 0 } },
	{ "no room for the length", 2, true, 0, { 0 } },
	{ "no buffer", 0, true, 0, { 0 } },
};

static void test_writer(void **state)
{
	for (size_t i = 0; i < N(wr_cases); i++) {
		const struct wr_case *c = &wr_cases[i];
		uint8_t buf[32];
		struct buf_writer w;
		struct span s;

		print_message("writer: %s\n", c->name);
		memset(buf, 0xee, sizeof(buf));
		wr_init(&w, c->cap ? buf : NULL, c->cap);
		write_sample(&w);
		assert_int_equal(wr_failed(&w), c->overflow);
		s = wr_result(&w);
		assert_int_equal(s.len, c->len);
		if (!c->overflow)
			assert_memory_equal(s.p, c->out, c->len);
		/* Nothing is ever written past the capacity. */
		for (size_t j = c->cap; j < sizeof(buf); j++)
			assert_int_equal(buf[j], 0xee);
	}
}

static void test_writer_sticky(void **state)
{
	uint8_t buf[4];
	struct buf_writer w;
	struct wr_mark m;

	wr_init(&w, buf, sizeof(buf));
	wr_be32(&w, 1);
	wr_u8(&w, 2);			/* overflows */
	assert_true(wr_failed(&w));
	assert_int_equal(wr_len(&w), 4);
	wr_init(&w, buf, sizeof(buf));
	wr_be16(&w, 1);
	wr_zero(&w, 3);			/* does not fit: nothing written */
	assert_int_equal(wr_len(&w), 2);
	wr_u8(&w, 3);			/* ignored: the failure sticks */
	assert_int_equal(wr_len(&w), 2);
	assert_true(wr_failed(&w));
	/* A length beyond the field's range fails the writer. */
	{
		static uint8_t big[70000];

		wr_init(&w, big, sizeof(big));
		wr_reserve16(&w, 0, &m);
		wr_zero(&w, 65533);
		wr_patch_length(&w, &m);
		assert_false(wr_failed(&w));
		assert_int_equal(big[0] << 8 | big[1], 65535);
		wr_zero(&w, 1);
		wr_patch_length(&w, &m);
		assert_true(wr_failed(&w));
	}
	/* Patching past the end fails. */
	wr_init(&w, buf, sizeof(buf));
	wr_patch8(&w, 0, 1);
	assert_true(wr_failed(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_reader_misc),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
