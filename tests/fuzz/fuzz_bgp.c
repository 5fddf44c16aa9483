/*
 * libFuzzer harness: the BGP wire layer on arbitrary bytes. The input is
 * a TCP stream cut by the framer, each message parsed by its type on a
 * 4-octet and on a 2-octet session; and the whole input is also handed to
 * every body parser directly, so the fuzzer need not find a header first.
 * Whatever parses must rebuild: OPEN, NOTIFICATION and ROUTE-REFRESH to
 * the same bytes; an UPDATE to messages that parse cleanly and rebuild to
 * themselves (attributes come out in type order, so the first rebuild may
 * differ from the input).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/attr.h"
#include "bgp/msg.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static struct bgp_open open_msg;
static uint8_t out1[1 << 20], out2[1 << 20];

static void open_body(const uint8_t *body, size_t len)
{
	struct bgp_result res;
	struct buf_writer w;
	struct bgp_frame f;

	if (bgp_open_parse(body, len, &open_msg, &res) < 0) {
		CHECK(res.action == BGP_ACT_RESET && res.notif.code == BGP_ERR_OPEN);
		return;
	}
	CHECK(res.action == BGP_ACT_NONE);
	wr_init(&w, out1, sizeof(out1));
	if (bgp_build_open(&w, &open_msg) < 0) {
		CHECK(len + BGP_HDR_LEN > BGP_MSG_MAX);
		return;
	}
	CHECK(bgp_frame(out1, wr_len(&w), &f, &res) == 0);
	CHECK(f.body.len == len && memcmp(f.body.p, body, len) == 0);
}

static void small_bodies(const uint8_t *body, size_t len)
{
	static struct bgp_notif n;
	struct bgp_route_refresh rr;
	struct buf_writer w;
	char text[300];

	if (bgp_notification_parse(body, len, &n) == 0) {
		bgp_notif_shutdown_msg(&n, text, sizeof(text));
		bgp_notif_str(&n, text, sizeof(text));
		wr_init(&w, out1, sizeof(out1));
		CHECK(bgp_build_notification(&w, &n) == 0 || len + BGP_HDR_LEN > BGP_MSG_MAX);
		if (!wr_failed(&w))
			CHECK(wr_len(&w) == len + BGP_HDR_LEN &&
			      memcmp(out1 + BGP_HDR_LEN, body, len) == 0);
	}
	if (bgp_route_refresh_parse(body, len, &rr) == 0) {
		wr_init(&w, out1, sizeof(out1));
		CHECK(bgp_build_route_refresh(&w, &rr) == 0);
		CHECK(memcmp(out1 + BGP_HDR_LEN, body, 4) == 0);
	}
}

/* The attrs object on what a peer sent. */
static void attrs_exercise(const struct bgp_attrs *a)
{
	struct bgp_attrs *d = bgp_attrs_dup(a);
	char path[64];

	bgp_as_path_str(a, path, sizeof(path));
	bgp_as_path_length(a);
	bgp_as_path_contains(a, bgp_as_path_first(a));
	if (!d)
		return;
	bgp_attrs_seal(d);
	CHECK(bgp_attrs_equal(a, d) && a->hash == d->hash);
	bgp_attrs_unref(d);
}

/* Rebuild u as UPDATEs into out: withdrawals, then announcements. */
static size_t rebuild(const struct bgp_update *u, const struct bgp_wire_opts *o,
		      uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t done;
	int rc = 0;

	wr_init(&w, out, cap);
	if (u->eor && u->eor_afi == BGP_AFI_IPV4 && u->eor_safi == BGP_SAFI_UNICAST)
		rc = bgp_build_eor(&w);
	for (done = 0; rc == 0 && done < u->n_withdrawn;)
		rc = bgp_build_withdraw(&w, u->withdrawn, u->n_withdrawn, &done);
	for (done = 0; rc == 0 && done < u->n_nlri;)
		rc = bgp_build_update(&w, u->attrs, u->nlri, u->n_nlri, &done, o);
	if (rc == -EMSGSIZE)
		return 0;		/* attributes too large for one message */
	CHECK(rc == 0);
	return wr_len(&w);
}

/* Every message in out[0..len) parses cleanly and rebuilds to itself. */
static void reparse(const uint8_t *out, size_t len, const struct bgp_wire_opts *o)
{
	size_t off = 0, off2 = 0;

	while (off < len) {
		struct bgp_frame f;
		struct bgp_result res;
		struct bgp_update u;

		CHECK(bgp_frame(out + off, len - off, &f, &res) == 0);
		CHECK(f.type == BGP_MSG_UPDATE);
		CHECK(bgp_update_parse(f.body.p, f.body.len, o, &u, &res) == 0);
		CHECK(res.action == BGP_ACT_NONE);
		off2 += rebuild(&u, o, out2 + off2, sizeof(out2) - off2);
		bgp_update_free(&u);
		off += f.len;
	}
	CHECK(off2 == len && memcmp(out1, out2, len) == 0);
}

static void update_body(const uint8_t *body, size_t len, const struct bgp_wire_opts *o)
{
	struct bgp_result res;
	struct bgp_update u;
	size_t n;
	int rc = bgp_update_parse(body, len, o, &u, &res);

	if (rc < 0) {
		CHECK(rc == -ENOMEM || (res.action == BGP_ACT_RESET && res.reason[0]));
		bgp_update_free(&u);
		return;
	}
	CHECK(res.action != BGP_ACT_RESET);
	CHECK((u.n_nlri || u.n_nlri6) == (u.attrs != NULL));
	if (u.attrs)
		attrs_exercise(u.attrs);
	n = rebuild(&u, o, out1, sizeof(out1));
	bgp_update_free(&u);
	reparse(out1, n, o);
}

static void message(const struct bgp_frame *f)
{
	static const struct bgp_wire_opts four = { .four_octet = true, .ebgp = true };
	static const struct bgp_wire_opts two = { .four_octet = false, .ebgp = false };

	switch (f->type) {
	case BGP_MSG_OPEN:
		open_body(f->body.p, f->body.len);
		break;
	case BGP_MSG_UPDATE:
		update_body(f->body.p, f->body.len, &four);
		update_body(f->body.p, f->body.len, &two);
		break;
	default:
		small_bodies(f->body.p, f->body.len);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_frame f;
	struct bgp_result res;
	size_t off = 0;
	int rc;

	/* As a stream. */
	while ((rc = bgp_frame(data + off, size - off, &f, &res)) == 0) {
		message(&f);
		off += f.len;
	}
	CHECK(rc == -EAGAIN || (rc == -EBADMSG && res.notif.code == BGP_ERR_HEADER));
	/* As a body of each type. */
	if (size <= BGP_MSG_MAX - BGP_HDR_LEN) {
		struct bgp_frame body = { .body = { data, size } };

		for (uint8_t t = BGP_MSG_OPEN; t <= BGP_MSG_ROUTE_REFRESH; t++) {
			body.type = t;
			message(&body);
		}
	}
	return 0;
}
