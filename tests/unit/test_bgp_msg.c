/*
 * BGP wire layer (bgp/msg.h, bgp/attr.h): byte-exact round trips on real
 * messages, field checks, the framer, OPEN errors, the UPDATE builders
 * (splitting, AS4 encoding, attribute flags) and the attrs object.
 *
 * Captures: two network namespaces joined by a veth pair, tcpdump on the
 * link, messages cut from the reassembled TCP streams.
 *   run 1: BIRD 2.0.12 (AS 65001, 10.0.0.1) <-> FRR 8.4.4 bgpd (AS 65002),
 *          both 4-octet; birdc reload in / disable static / disable peer,
 *          FRR "neighbor shutdown message".
 *   run 2: BIRD 2.0.12 (AS 4200000001) <-> FRR 8.4.4 (AS 65003) with
 *          dont-capability-negotiate: a 2-octet session, AS4_PATH.
 *   run 3: GoBGP 3.10.0 (AS 4200000004) <-> BIRD 2.0.12 (AS 65001).
 * (Debian 12 packages bird2, frr, gobgpd.) The same bytes seed the fuzzer
 * (tests/fuzz/corpus/bgp/).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bgp/attr.h"
#include "bgp/msg.h"
#include "common/buf.h"
#include "common/log.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* BIRD 2.0.12, AS 65001, OPEN (to FRR) */
static const char bird_open[] =
	"ffffffffffffffffffffffffffffffff00430104fde9001e0a00000126022401040001000101040002000102"
	"00400a0078000101000002010041040000fde946004700";
/* BIRD 2.0.12 KEEPALIVE */
static const char bird_keepalive[] =
	"ffffffffffffffffffffffffffffffff001304";
/* BIRD 2.0.12 UPDATE, four prefixes, 4-octet AS_PATH, COMMUNITIES */
static const char bird_update4[] =
	"ffffffffffffffffffffffffffffffff0048020000001f4001010040020602010000fde94003040a000001c0"
	"0808fde90064ffffff01206440070719c6336400100a141acb007180";
/* BIRD 2.0.12 UPDATE 192.0.2.0/24: prepended path, MED, COMMUNITIES, EXTENDED and LARGE COMMUNITIES */
static const char bird_update_rich[] =
	"ffffffffffffffffffffffffffffffff005f02000000444001010040020a02020000fde90000fde74003040a"
	"00000180040400000032c00808fde90064ffffff01c010080002fde900000005c0200c0000fde90000000100"
	"00000218c00002";
/* BIRD 2.0.12 UPDATE withdrawing four prefixes */
static const char bird_withdraw[] =
	"ffffffffffffffffffffffffffffffff002d020016206440070719c633640018c00002100a141acb00718000"
	"00";
/* BIRD 2.0.12 End-of-RIB (empty UPDATE) */
static const char bird_eor[] =
	"ffffffffffffffffffffffffffffffff00170200000000";
/* BIRD 2.0.12 ROUTE-REFRESH IPv4 unicast (birdc reload in) */
static const char bird_rr[] =
	"ffffffffffffffffffffffffffffffff00170500010001";
/* BIRD 2.0.12 Cease/Administrative Shutdown with RFC 9003 text (birdc disable) */
static const char bird_notif_shutdown[] =
	"ffffffffffffffffffffffffffffffff003c030602266d61696e74656e616e63652077696e646f772c206261"
	"636b20696e203130206d696e75746573";
/* FRR 8.4.4, AS 65002, OPEN: MP, RR, enhanced RR, Cisco RR, AS4, add-path, FQDN, GR, LLGR, one capability per parameter */
static const char frr_open[] =
	"ffffffffffffffffffffffffffffffff00640104fdea00b40a00000247020601040001000102028000020202"
	"0002024600020641040000fdea0202060002064504000101010208490604667272420002084006c078000101"
	"000209470700010180000000";
/* FRR 8.4.4 UPDATE: AS_PATH with Extended Length flag, MED, COMMUNITIES (incl. NO_EXPORT), 3 prefixes */
static const char frr_update[] =
	"ffffffffffffffffffffffffffffffff0051020000002f400101005002000e02030000fdea0000fdea0000fd"
	"ea4003040a0000028004040000004dc00808fdea00c8ffffff01110a01800cac1018644001";
/* FRR 8.4.4 End-of-RIB */
static const char frr_eor[] =
	"ffffffffffffffffffffffffffffffff00170200000000";
/* FRR 8.4.4 ROUTE-REFRESH subtype 1 (BoRR, RFC 7313) */
static const char frr_rr_borr[] =
	"ffffffffffffffffffffffffffffffff00170500010101";
/* FRR 8.4.4 ROUTE-REFRESH subtype 2 (EoRR, RFC 7313) */
static const char frr_rr_eorr[] =
	"ffffffffffffffffffffffffffffffff00170500010201";
/* FRR 8.4.4 Cease/Administrative Shutdown with text (neighbor shutdown message) */
static const char frr_notif_shutdown[] =
	"ffffffffffffffffffffffffffffffff002b030602156672723a20706c616e6e65642073687574646f776e";
/* BIRD 2.0.12, AS 4200000001: My AS = AS_TRANS, AS4 capability */
static const char bird4_open[] =
	"ffffffffffffffffffffffffffffffff004301045ba0001e0a00000126022401040001000101040002000102"
	"00400a007800010100000201004104fa56ea0146004700";
/* BIRD 2.0.12 AS 4200000001 to a 2-octet peer: AS_PATH [23456], AS4_PATH [4200000001] */
static const char bird4_update_as4[] =
	"ffffffffffffffffffffffffffffffff004f02000000264001010040020402015ba04003040a000001c00808"
	"fde90064ffffff01c011060201fa56ea01206440070719c6336400100a141acb007180";
/* BIRD 2.0.12 AS 4200000001 to a 2-octet peer: AS_PATH [23456 64999], AS4_PATH, MED, EXT/LARGE COMMUNITIES */
static const char bird4_update_as4_rich[] =
	"ffffffffffffffffffffffffffffffff0068020000004d4001010040020602025ba0fde74003040a00000180"
	"040400000032c00808fde90064ffffff01c010080002fde900000005c0110a0202fa56ea010000fde7c0200c"
	"0000fde9000000010000000218c00002";
/* FRR 8.4.4, AS 65003, dont-capability-negotiate: no optional parameters */
static const char frr2_open[] =
	"ffffffffffffffffffffffffffffffff001d0104fdeb00b40a00000200";
/* FRR 8.4.4 2-octet UPDATE 172.31.0.0/16 (AS_PATH Extended Length flag) */
static const char frr2_update[] =
	"ffffffffffffffffffffffffffffffff0034020000001a40010100500200040201fdeb4003040a0000028004"
	"040000000010ac1f";
/* FRR 8.4.4 Cease/Peer De-configured */
static const char frr2_notif_deconf[] =
	"ffffffffffffffffffffffffffffffff0015030603";
/* GoBGP 3.10.0, AS 4200000004, OPEN */
static const char gobgp_open[] =
	"ffffffffffffffffffffffffffffffff003b01045ba0005a0a0000021e021c0200490402766d000104000100"
	"014104fa56ea040506000100010002";
/* GoBGP 3.10.0 UPDATE 10.50.0.0/16, ORIGIN EGP, MED, COMMUNITIES */
static const char gobgp_update[] =
	"ffffffffffffffffffffffffffffffff003c0200000022400101014002060201fa56ea044003040a00000280"
	"04040000000ac0080400640001100a32";
/* GoBGP 3.10.0 UPDATE 10.60.1.0/24: COMMUNITIES (NO_ADVERTISE) before NEXT_HOP */
static const char gobgp_update_order[] =
	"ffffffffffffffffffffffffffffffff003e02000000234001010240020e0203fa56ea040000fe4c0000feb0"
	"c00804ffffff024003040a000002180a3c01";
/* GoBGP 3.10.0 UPDATE withdrawing 10.50.0.0/16 */
static const char gobgp_withdraw[] =
	"ffffffffffffffffffffffffffffffff001a020003100a320000";
/* GoBGP 3.10.0 Cease/Administrative Shutdown with text */
static const char gobgp_notif_shutdown[] =
	"ffffffffffffffffffffffffffffffff00240306020e676f626770207361797320627965";
/* BIRD 2.0.12 AS 65001 UPDATE (first capture run, IPv6 channel on): MP_REACH_NLRI
 * IPv6 unicast, next hops 2001:db8::1 and a link-local, 2001:db8:a::/48, 2001:db8:b:c::/64 */
static const char bird_update6[] =
	"ffffffffffffffffffffffffffffffff005d0200000046900e00350002012020"
	"010db8000000000000000000000001fe80000000000000788ef9fffe69a9bc00"
	"3020010db8000a4020010db8000b000c4001010040020602010000fde9";
/* FRR 8.4.4 (first capture run) answering bird_update6 with UPDATE Message
 * Error/Invalid Network Field (FRR had not negotiated IPv6) */
static const char frr_notif_invalid_network[] =
	"ffffffffffffffffffffffffffffffff001503030a";

/* Our encoding of three captures: FRR sets Extended Length on AS_PATH
 * whatever its size, GoBGP puts COMMUNITIES before NEXT_HOP; we write
 * attributes in type order with Extended Length only past 255 bytes. */
static const char frr_update_norm[] =
	"ffffffffffffffffffffffffffffffff0050020000002e4001010040020e02030000fdea0000fdea0000fdea"
	"4003040a0000028004040000004dc00808fdea00c8ffffff01110a01800cac1018644001";
static const char frr2_update_norm[] =
	"ffffffffffffffffffffffffffffffff00330200000019400101004002040201fdeb4003040a000002800404"
	"0000000010ac1f";
static const char gobgp_update_order_norm[] =
	"ffffffffffffffffffffffffffffffff003e02000000234001010240020e0203fa56ea040000fe4c0000feb0"
	"4003040a000002c00804ffffff02180a3c01";

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return n;
}

static const struct bgp_wire_opts four = { .four_octet = true, .ebgp = true };
static const struct bgp_wire_opts two = { .four_octet = false, .ebgp = true };

struct vec {
	const char *name;
	const char *hex;
	bool four;
	const char *rebuilt;		/* NULL: the same bytes; "": not rebuilt */
};

static const struct vec vecs[] = {
	{ "bird_open", bird_open, true, NULL },
	{ "bird_keepalive", bird_keepalive, true, NULL },
	{ "bird_update4", bird_update4, true, NULL },
	{ "bird_update_rich", bird_update_rich, true, NULL },
	{ "bird_withdraw", bird_withdraw, true, NULL },
	{ "bird_eor", bird_eor, true, NULL },
	{ "bird_rr", bird_rr, true, NULL },
	{ "bird_notif_shutdown", bird_notif_shutdown, true, NULL },
	{ "bird_update6", bird_update6, true, "" },
	{ "frr_open", frr_open, true, NULL },
	{ "frr_update", frr_update, true, frr_update_norm },
	{ "frr_eor", frr_eor, true, NULL },
	{ "frr_rr_borr", frr_rr_borr, true, NULL },
	{ "frr_rr_eorr", frr_rr_eorr, true, NULL },
	{ "frr_notif_shutdown", frr_notif_shutdown, true, NULL },
	{ "frr_notif_invalid_network", frr_notif_invalid_network, true, NULL },
	{ "bird4_open", bird4_open, false, NULL },
	{ "bird4_update_as4", bird4_update_as4, false, NULL },
	{ "bird4_update_as4_rich", bird4_update_as4_rich, false, NULL },
	{ "frr2_open", frr2_open, false, NULL },
	{ "frr2_update", frr2_update, false, frr2_update_norm },
	{ "frr2_notif_deconf", frr2_notif_deconf, false, NULL },
	{ "gobgp_open", gobgp_open, true, NULL },
	{ "gobgp_update", gobgp_update, true, NULL },
	{ "gobgp_update_order", gobgp_update_order, true, gobgp_update_order_norm },
	{ "gobgp_withdraw", gobgp_withdraw, true, NULL },
	{ "gobgp_notif_shutdown", gobgp_notif_shutdown, true, NULL },
};

static uint8_t msg[BGP_MSG_MAX], out[8 * BGP_MSG_MAX];

/* Frame a captured message: one whole message, nothing after it. */
static struct bgp_frame frame_hex(const char *hex, size_t *len)
{
	struct bgp_frame f;
	struct bgp_result res;

	*len = unhex(hex, msg, sizeof(msg));
	assert_int_equal(bgp_frame(msg, *len, &f, &res), 0);
	assert_int_equal(f.len, *len);
	assert_int_equal(res.action, BGP_ACT_NONE);
	return f;
}

/* Build one UPDATE like u: End-of-RIB, withdrawals or announcements. */
static int build_update_like(struct buf_writer *w, const struct bgp_update *u, bool four_octet)
{
	size_t done = 0;
	int rc;

	if (u->eor && u->eor_afi == BGP_AFI_IPV4)
		return bgp_build_eor(w);
	assert_false(u->n_withdrawn && u->n_nlri);
	if (u->n_withdrawn)
		rc = bgp_build_withdraw(w, u->withdrawn, u->n_withdrawn, &done);
	else
		rc = bgp_build_update(w, u->attrs, u->nlri, u->n_nlri, &done,
				      four_octet ? &four : &two);
	assert_int_equal(done, u->n_withdrawn ? u->n_withdrawn : u->n_nlri);
	return rc;
}

/* Parse a framed message of any type and build it again into w. */
static void reparse_build(const struct bgp_frame *f, bool four_octet, struct buf_writer *w)
{
	static struct bgp_open o;
	struct bgp_notif n;
	struct bgp_update u;
	struct bgp_route_refresh rr;
	struct bgp_result res;

	switch (f->type) {
	case BGP_MSG_OPEN:
		assert_int_equal(bgp_open_parse(f->body.p, f->body.len, &o, &res), 0);
		assert_int_equal(bgp_build_open(w, &o), 0);
		break;
	case BGP_MSG_UPDATE:
		assert_int_equal(bgp_update_parse(f->body.p, f->body.len,
						  four_octet ? &four : &two, &u, &res), 0);
		assert_int_equal(res.action, BGP_ACT_NONE);
		assert_int_equal(build_update_like(w, &u, four_octet), 0);
		bgp_update_free(&u);
		break;
	case BGP_MSG_NOTIFICATION:
		assert_int_equal(bgp_notification_parse(f->body.p, f->body.len, &n), 0);
		assert_int_equal(bgp_build_notification(w, &n), 0);
		break;
	case BGP_MSG_KEEPALIVE:
		assert_int_equal(bgp_build_keepalive(w), 0);
		break;
	case BGP_MSG_ROUTE_REFRESH:
		assert_int_equal(bgp_route_refresh_parse(f->body.p, f->body.len, &rr), 0);
		assert_int_equal(bgp_build_route_refresh(w, &rr), 0);
		break;
	default:
		fail();
	}
}

static void test_vectors_round_trip(void **state)
{
	static uint8_t want[BGP_MSG_MAX];

	for (size_t i = 0; i < N(vecs); i++) {
		const struct vec *v = &vecs[i];
		struct bgp_frame f;
		struct buf_writer w;
		struct bgp_update u;
		struct bgp_result res;
		size_t len, wlen;

		print_message("%s\n", v->name);
		f = frame_hex(v->hex, &len);
		if (v->rebuilt && !v->rebuilt[0]) {
			assert_int_equal(bgp_update_parse(f.body.p, f.body.len, &four, &u, &res), 0);
			bgp_update_free(&u);
			continue;
		}
		wr_init(&w, out, sizeof(out));
		reparse_build(&f, v->four, &w);
		wlen = v->rebuilt ? unhex(v->rebuilt, want, sizeof(want)) : len;
		assert_int_equal(wr_len(&w), wlen);
		assert_memory_equal(out, v->rebuilt ? want : msg, wlen);
	}
}

/* A stream of every capture back to back, fed to the framer in pieces. */
static void test_framer_stream(void **state)
{
	static uint8_t stream[64 * BGP_MSG_MAX];
	size_t total = 0, off = 0, count = 0;

	for (size_t i = 0; i < N(vecs); i++)
		total += unhex(vecs[i].hex, stream + total, sizeof(stream) - total);
	/* Feed 7 bytes more each time: partial headers and bodies. */
	for (size_t have = 0; off < total;) {
		struct bgp_frame f;
		struct bgp_result res;
		int rc = bgp_frame(stream + off, have - off, &f, &res);

		if (rc == -EAGAIN) {
			assert_true(f.len > have - off);
			have = have + 7 < total ? have + 7 : total;
			continue;
		}
		assert_int_equal(rc, 0);
		off += f.len;
		if (have < off)
			have = off;
		count++;
	}
	assert_int_equal(count, N(vecs));
}

static void test_open_fields(void **state)
{
	static struct bgp_open o;
	struct bgp_frame f;
	struct bgp_result res;
	size_t len;

	f = frame_hex(bird_open, &len);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &o, &res), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as, 65001);
	assert_int_equal(o.hold_time, 30);
	assert_int_equal(ntohl(o.bgp_id.s_addr), 0x0a000001);
	assert_true(o.cap_as4 && o.cap_route_refresh && o.cap_gr);
	assert_int_equal(o.n_afi, 2);
	assert_true(bgp_open_has_afi(&o, BGP_AFI_IPV4, BGP_SAFI_UNICAST));
	assert_true(bgp_open_has_afi(&o, BGP_AFI_IPV6, BGP_SAFI_UNICAST));
	assert_int_equal(o.gr_time, 120);
	assert_int_equal(o.n_gr_afi, 2);
	assert_false(o.ext_params);

	f = frame_hex(frr_open, &len);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &o, &res), 0);
	assert_int_equal(o.my_as, 65002);
	assert_int_equal(o.hold_time, 180);
	assert_int_equal(o.n_params, o.n_caps);	/* one capability per parameter */
	assert_true(o.n_unknown >= 4);		/* enhanced RR, Cisco RR, add-path, FQDN, LLGR */
	assert_true(o.cap_gr);
	assert_int_equal(o.gr_time, 120);
	assert_false(bgp_open_has_afi(&o, BGP_AFI_IPV6, BGP_SAFI_UNICAST));

	f = frame_hex(bird4_open, &len);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &o, &res), 0);
	assert_int_equal(o.my_as2, BGP_AS_TRANS);
	assert_int_equal(o.my_as, 4200000001u);

	f = frame_hex(gobgp_open, &len);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &o, &res), 0);
	assert_int_equal(o.my_as, 4200000004u);
	assert_int_equal(o.hold_time, 90);

	/* No capabilities at all: IPv4 unicast only, 2-octet AS. */
	f = frame_hex(frr2_open, &len);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &o, &res), 0);
	assert_int_equal(o.my_as, 65003);
	assert_false(o.cap_as4);
	assert_true(bgp_open_has_afi(&o, BGP_AFI_IPV4, BGP_SAFI_UNICAST));
	assert_false(bgp_open_has_afi(&o, BGP_AFI_IPV6, BGP_SAFI_UNICAST));
}

static void pfx_is(const struct cgw_prefix *p, const char *addr, unsigned len)
{
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(p->addr.family, AF_INET);
	inet_ntop(AF_INET, &p->addr.v4, buf, sizeof(buf));
	assert_string_equal(buf, addr);
	assert_int_equal(p->len, len);
}

static void parse_vec(const char *hex, const struct bgp_wire_opts *o, struct bgp_update *u)
{
	struct bgp_frame f;
	struct bgp_result res;
	size_t len;

	f = frame_hex(hex, &len);
	assert_int_equal(bgp_update_parse(f.body.p, f.body.len, o, u, &res), 0);
	assert_int_equal(res.action, BGP_ACT_NONE);
}

static void test_update_fields(void **state)
{
	struct bgp_update u;
	char path[128];

	parse_vec(bird_update_rich, &four, &u);
	assert_int_equal(u.n_nlri, 1);
	pfx_is(&u.nlri[0], "192.0.2.0", 24);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)), "65001 64999");
	assert_int_equal(bgp_as_path_length(u.attrs), 2);
	assert_int_equal(bgp_as_path_first(u.attrs), 65001);
	assert_true(u.attrs->has_med);
	assert_int_equal(u.attrs->med, 50);
	assert_int_equal(u.attrs->n_communities, 2);
	assert_int_equal(u.attrs->communities[0], 65001u << 16 | 100);
	assert_int_equal(u.attrs->communities[1], 0xffffff01);	/* NO_EXPORT */
	assert_int_equal(u.attrs->n_unknown, 2);		/* extended, large */
	assert_int_equal(u.attrs->unknown[0].type, 16);
	assert_int_equal(u.attrs->unknown[1].type, 32);
	assert_int_equal(ntohl(u.attrs->next_hop.s_addr), 0x0a000001);
	assert_int_equal(u.attrs->refcnt, 1);
	bgp_update_free(&u);

	parse_vec(bird_withdraw, &four, &u);
	assert_int_equal(u.n_withdrawn, 5);
	assert_null(u.attrs);
	pfx_is(&u.withdrawn[0], "100.64.7.7", 32);
	pfx_is(&u.withdrawn[1], "198.51.100.0", 25);
	pfx_is(&u.withdrawn[2], "192.0.2.0", 24);
	pfx_is(&u.withdrawn[3], "10.20.0.0", 16);
	pfx_is(&u.withdrawn[4], "203.0.113.128", 26);
	bgp_update_free(&u);

	parse_vec(bird_eor, &four, &u);
	assert_true(u.eor);
	assert_int_equal(u.eor_afi, BGP_AFI_IPV4);
	bgp_update_free(&u);

	parse_vec(frr_update, &four, &u);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)), "65002 65002 65002");
	assert_int_equal(u.n_nlri, 3);
	pfx_is(&u.nlri[0], "10.1.128.0", 17);
	bgp_update_free(&u);

	parse_vec(gobgp_update_order, &four, &u);
	assert_int_equal(u.attrs->origin, BGP_ORIGIN_INCOMPLETE);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)),
			    "4200000004 65100 65200");
	bgp_update_free(&u);

	/* MP_REACH IPv6 unicast: its own lists and next hops. */
	parse_vec(bird_update6, &four, &u);
	assert_int_equal(u.n_nlri, 0);
	assert_int_equal(u.n_nlri6, 2);
	assert_int_equal(u.nlri6[0].addr.family, AF_INET6);
	assert_int_equal(u.nlri6[0].len, 48);
	assert_int_equal(u.nlri6[1].len, 64);
	assert_true(u.has_next_hop6_ll);
	assert_int_equal(u.next_hop6.s6_addr[15], 1);
	assert_int_equal(u.next_hop6_ll.s6_addr[0], 0xfe);
	assert_non_null(u.attrs);
	bgp_update_free(&u);
}

/* RFC 6793 4.2.3 on the captured 2-octet session. */
static void test_as4_merge(void **state)
{
	struct bgp_update u;
	char path[128];

	parse_vec(bird4_update_as4, &two, &u);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)), "4200000001");
	bgp_update_free(&u);

	parse_vec(bird4_update_as4_rich, &two, &u);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)), "4200000001 64999");
	bgp_update_free(&u);

	/* A 2-octet AS_PATH read as 4-octet (a session flag gone wrong) is
	 * malformed: treat-as-withdraw, never a crash or a wrong path. */
	{
		struct bgp_frame f;
		struct bgp_result res;
		size_t len;

		f = frame_hex(bird4_update_as4, &len);
		assert_int_equal(bgp_update_parse(f.body.p, f.body.len, &four, &u, &res), 0);
		assert_int_equal(res.action, BGP_ACT_WITHDRAW);
		assert_int_equal(res.notif.subcode, BGP_SUB_UPDATE_MALFORMED_AS_PATH);
		assert_int_equal(u.n_withdrawn, 4);
		assert_null(u.attrs);
		bgp_update_free(&u);
	}
	parse_vec(frr2_update, &two, &u);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)), "65003");
	bgp_update_free(&u);
}

static void test_notifications(void **state)
{
	struct bgp_frame f;
	struct bgp_notif n;
	char text[300], line[400];
	size_t len;

	f = frame_hex(bird_notif_shutdown, &len);
	assert_int_equal(bgp_notification_parse(f.body.p, f.body.len, &n), 0);
	assert_int_equal(n.code, BGP_ERR_CEASE);
	assert_int_equal(n.subcode, BGP_SUB_CEASE_ADMIN_SHUTDOWN);
	assert_int_equal(bgp_notif_shutdown_msg(&n, text, sizeof(text)), 0);
	assert_string_equal(text, "maintenance window, back in 10 minutes");
	assert_string_equal(bgp_notif_str(&n, line, sizeof(line)),
			    "Cease/Administrative Shutdown: \"maintenance window, back in 10 minutes\"");

	f = frame_hex(frr_notif_shutdown, &len);
	assert_int_equal(bgp_notification_parse(f.body.p, f.body.len, &n), 0);
	assert_int_equal(bgp_notif_shutdown_msg(&n, text, sizeof(text)), 0);
	assert_string_equal(text, "frr: planned shutdown");

	f = frame_hex(gobgp_notif_shutdown, &len);
	assert_int_equal(bgp_notification_parse(f.body.p, f.body.len, &n), 0);
	assert_int_equal(bgp_notif_shutdown_msg(&n, text, sizeof(text)), 0);
	assert_string_equal(text, "gobgp says bye");

	f = frame_hex(frr_notif_invalid_network, &len);
	assert_int_equal(bgp_notification_parse(f.body.p, f.body.len, &n), 0);
	assert_int_equal(bgp_notif_shutdown_msg(&n, text, sizeof(text)), -ENOENT);
	assert_string_equal(bgp_notif_str(&n, line, sizeof(line)),
			    "UPDATE Message Error/Invalid Network Field");

	f = frame_hex(frr2_notif_deconf, &len);
	assert_int_equal(bgp_notification_parse(f.body.p, f.body.len, &n), 0);
	assert_string_equal(bgp_notif_str(&n, line, sizeof(line)), "Cease/Peer De-configured");

	/* Shutdown text: control characters hidden, length octet beyond the data. */
	bgp_notif_set_shutdown(&n, BGP_SUB_CEASE_ADMIN_RESET, "a\nb");
	assert_int_equal(n.data_len, 4);
	assert_int_equal(bgp_notif_shutdown_msg(&n, text, sizeof(text)), 0);
	assert_string_equal(text, "a?b");
	n.data[0] = 9;
	assert_int_equal(bgp_notif_shutdown_msg(&n, text, sizeof(text)), -ENOENT);
	/* Cut at 255 bytes, not inside a UTF-8 sequence. */
	memset(text, 'x', 254);
	strcpy(text + 254, "\xc3\xa9zz");
	bgp_notif_set_shutdown(&n, BGP_SUB_CEASE_ADMIN_SHUTDOWN, text);
	assert_int_equal(n.data[0], 254);
	/* Names for every code; unknown ones say so. */
	assert_string_equal(bgp_err_subcode_name(BGP_ERR_OPEN, BGP_SUB_OPEN_BAD_HOLD),
			    "Unacceptable Hold Time");
	assert_string_equal(bgp_err_subcode_name(BGP_ERR_UPDATE, 7), "unknown subcode");
	assert_string_equal(bgp_err_code_name(99), "unknown error code");
	assert_string_equal(bgp_msg_type_name(BGP_MSG_ROUTE_REFRESH), "ROUTE-REFRESH");
}

static void test_route_refresh(void **state)
{
	struct bgp_frame f;
	struct bgp_route_refresh rr;
	size_t len;

	f = frame_hex(frr_rr_borr, &len);
	assert_int_equal(bgp_route_refresh_parse(f.body.p, f.body.len, &rr), 0);
	assert_int_equal(rr.afi, 1);
	assert_int_equal(rr.safi, 1);
	assert_int_equal(rr.subtype, 1);
	assert_int_equal(bgp_route_refresh_parse(f.body.p, 3, &rr), -EBADMSG);
	assert_int_equal(bgp_route_refresh_parse(f.body.p, 5, &rr), -EBADMSG);
}

/* Framer: bad headers and the NOTIFICATION each one earns (RFC 4271 6.1). */
struct frame_case {
	const char *name;
	const char *hex;		/* after the marker unless marker given */
	int rc;
	uint8_t subcode;
	const char *data;
};

static const struct frame_case frame_cases[] = {
	{ "keepalive", "001304", 0, 0, "" },
	{ "length 18", "001204", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "0012" },
	{ "length 4097", "100102", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "1001" },
	{ "length 0", "000004", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "0000" },
	{ "type 0", "001300", -EBADMSG, BGP_SUB_HEADER_BAD_TYPE, "00" },
	{ "type 6", "001306", -EBADMSG, BGP_SUB_HEADER_BAD_TYPE, "06" },
	{ "type 255", "0020ff", -EBADMSG, BGP_SUB_HEADER_BAD_TYPE, "ff" },
	{ "keepalive 20", "001404", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "0014" },
	{ "open 28", "001c01", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "001c" },
	{ "update 22", "001602", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "0016" },
	{ "notification 20", "001403", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "0014" },
	{ "route-refresh 24", "001805", -EBADMSG, BGP_SUB_HEADER_BAD_LEN, "0018" },
	{ "update 4096, partial", "100002", -EAGAIN, 0, "" },
	{ "open 29, partial", "001d01", -EAGAIN, 0, "" },
};

static void test_framer_cases(void **state)
{
	uint8_t buf[64], want[8];
	struct bgp_frame f;
	struct bgp_result res;

	for (size_t i = 0; i < N(frame_cases); i++) {
		const struct frame_case *c = &frame_cases[i];
		size_t len;

		print_message("%s\n", c->name);
		memset(buf, 0xff, 16);
		len = 16 + unhex(c->hex, buf + 16, sizeof(buf) - 16);
		assert_int_equal(bgp_frame(buf, len, &f, &res), c->rc);
		if (c->rc == -EBADMSG) {
			assert_int_equal(res.action, BGP_ACT_RESET);
			assert_int_equal(res.notif.code, BGP_ERR_HEADER);
			assert_int_equal(res.notif.subcode, c->subcode);
			assert_int_equal(res.notif.data_len, unhex(c->data, want, sizeof(want)));
			assert_memory_equal(res.notif.data, want, res.notif.data_len);
			assert_true(res.reason[0] != '\0');
		} else if (c->rc == -EAGAIN) {
			assert_true(f.len > len);
		}
	}
	/* Bad marker: connection not synchronized, no data. */
	memset(buf, 0xff, 16);
	buf[7] = 0xfe;
	unhex("001304", buf + 16, 3);
	assert_int_equal(bgp_frame(buf, 19, &f, &res), -EBADMSG);
	assert_int_equal(res.notif.code, BGP_ERR_HEADER);
	assert_int_equal(res.notif.subcode, BGP_SUB_HEADER_NOT_SYNC);
	assert_int_equal(res.notif.data_len, 0);
	/* Fewer than 19 bytes: wait, even if the marker is already wrong. */
	for (size_t n = 0; n < 19; n++) {
		assert_int_equal(bgp_frame(buf, n, &f, &res), -EAGAIN);
		assert_int_equal(f.len, 19);
	}
}

/* OPEN error cases: body in hex (after the header). */
struct open_case {
	const char *name;
	const char *body;
	int rc;
	uint8_t subcode;
	const char *data;
};

static const struct open_case open_cases[] = {
	{ "no parameters", "04fde9005a0a00000100", 0, 0, "" },
	{ "version 3", "03fde9005a0a00000100", -EBADMSG, BGP_SUB_OPEN_BAD_VERSION, "0004" },
	{ "version 5", "05fde9005a0a00000100", -EBADMSG, BGP_SUB_OPEN_BAD_VERSION, "0004" },
	{ "hold 1", "04fde900010a00000100", -EBADMSG, BGP_SUB_OPEN_BAD_HOLD, "" },
	{ "hold 2", "04fde900020a00000100", -EBADMSG, BGP_SUB_OPEN_BAD_HOLD, "" },
	{ "hold 0", "04fde900000a00000100", 0, 0, "" },
	{ "hold 3", "04fde900030a00000100", 0, 0, "" },
	{ "identifier 0", "04fde9005a0000000000", -EBADMSG, BGP_SUB_OPEN_BAD_BGP_ID, "" },
	{ "AS 0", "040000005a0a00000100", -EBADMSG, BGP_SUB_OPEN_BAD_PEER_AS, "" },
	{ "AS4 capability 0", "045ba0005a0a000001080206410400000000", -EBADMSG,
	  BGP_SUB_OPEN_BAD_PEER_AS, "" },
	{ "parameter type 1", "04fde9005a0a00000104010200ff", -EBADMSG,
	  BGP_SUB_OPEN_UNSUP_PARAM, "" },
	{ "parameter overruns", "04fde9005a0a000001040207", -EBADMSG, BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "parameters length overruns", "04fde9005a0a000001090206010400010001", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "bytes after parameters", "04fde9005a0a0000010002", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "capability overruns", "04fde9005a0a00000104020201ff", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "multiprotocol length 3", "04fde9005a0a000001070205010300010001", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "AS4 length 2", "04fde9005a0a00000106020441020000", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "route refresh length 1", "04fde9005a0a0000010502030201ff", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "graceful restart length 3", "04fde9005a0a000001070205400300780a", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "unknown capability kept", "04fde9005a0a000001070205fe03010203", 0, 0, "" },
	{ "empty capability parameter", "04fde9005a0a000001020200", 0, 0, "" },
	/* RFC 9072: Non-Ext OP Type 255, 2-octet lengths. */
	{ "extended parameters", "04fde9005a0a000001ffff0009020006010400010001", 0, 0, "" },
	{ "extended, Non-Ext OP Len not 255", "04fde9005a0a00000105ff0009020006010400010001",
	  0, 0, "" },
	{ "extended overruns", "04fde9005a0a000001ffff000a020006010400010001", -EBADMSG,
	  BGP_SUB_OPEN_UNSPECIFIC, "" },
	{ "extended, parameter overruns", "04fde9005a0a000001ffff0009020007010400010001",
	  -EBADMSG, BGP_SUB_OPEN_UNSPECIFIC, "" },
};

static void test_open_cases(void **state)
{
	static struct bgp_open o;
	uint8_t body[256], want[8];
	struct bgp_result res;
	struct buf_writer w;

	for (size_t i = 0; i < N(open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		size_t len = unhex(c->body, body, sizeof(body));
		struct bgp_frame f;

		print_message("%s\n", c->name);
		assert_int_equal(bgp_open_parse(body, len, &o, &res), c->rc);
		if (c->rc == 0) {
			/* And it comes back as it was. */
			assert_int_equal(res.action, BGP_ACT_NONE);
			wr_init(&w, out, sizeof(out));
			assert_int_equal(bgp_build_open(&w, &o), 0);
			assert_int_equal(bgp_frame(out, wr_len(&w), &f, &res), 0);
			assert_int_equal(f.body.len, len);
			assert_memory_equal(f.body.p, body, len);
			continue;
		}
		assert_int_equal(res.action, BGP_ACT_RESET);
		assert_int_equal(res.notif.code, BGP_ERR_OPEN);
		assert_int_equal(res.notif.subcode, c->subcode);
		assert_int_equal(res.notif.data_len, unhex(c->data, want, sizeof(want)));
		assert_memory_equal(res.notif.data, want, res.notif.data_len);
	}
}

/* Our own OPEN, from the typed fields; and RFC 9072 when it is too long. */
static void test_open_build(void **state)
{
	static struct bgp_open o, p;
	struct bgp_result res;
	struct bgp_frame f;
	struct buf_writer w;
	struct in_addr id = { htonl(0xa9fe0102) };

	bgp_open_init(&o, 4200000000u, 30, id);
	assert_int_equal(bgp_open_add_afi(&o, BGP_AFI_IPV4, BGP_SAFI_UNICAST), 0);
	assert_int_equal(bgp_open_add_afi(&o, BGP_AFI_IPV4, BGP_SAFI_UNICAST), 0);
	o.cap_gr = true;
	o.gr_time = 120;
	o.gr_flags = BGP_GR_RESTART;
	o.n_gr_afi = 1;
	o.gr_afi[0] = (struct bgp_afi_safi){ BGP_AFI_IPV4, BGP_SAFI_UNICAST, BGP_GR_AF_FORWARDING };
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_open(&w, &o), 0);
	assert_int_equal(bgp_frame(out, wr_len(&w), &f, &res), 0);
	assert_int_equal(f.type, BGP_MSG_OPEN);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &p, &res), 0);
	assert_int_equal(p.my_as2, BGP_AS_TRANS);
	assert_int_equal(p.my_as, 4200000000u);
	assert_int_equal(p.hold_time, 30);
	assert_int_equal(p.bgp_id.s_addr, id.s_addr);
	assert_true(p.cap_as4 && p.cap_route_refresh && p.cap_gr && p.cap_mp);
	assert_int_equal(p.n_afi, 1);
	assert_int_equal(p.gr_flags, BGP_GR_RESTART);
	assert_int_equal(p.gr_time, 120);
	assert_int_equal(p.n_gr_afi, 1);
	assert_int_equal(p.gr_afi[0].flags, BGP_GR_AF_FORWARDING);
	assert_int_equal(p.n_params, 1);
	/* Exact bytes: MP, RR, GR, AS4 in one parameter. */
	{
		uint8_t want[64];
		size_t n = unhex("ffffffffffffffffffffffffffffffff00350104" "5ba0001e" "a9fe0102"
				 "18" "0216" "010400010001" "0200" "40068078" "00010180"
				 "4104fa56ea00", want, sizeof(want));

		assert_int_equal(wr_len(&w), n);
		assert_memory_equal(out, want, n);
	}
	/* More than 255 bytes of capabilities: the RFC 9072 form, which
	 * parses back to the same. */
	bgp_open_init(&o, 65001, 90, id);
	for (unsigned i = 0; i < BGP_OPEN_MAX_AFI; i++) {
		assert_int_equal(bgp_open_add_afi(&o, (uint16_t)(100 + i), 1), 0);
		o.gr_afi[i] = o.afi[i];
	}
	assert_int_equal(bgp_open_add_afi(&o, 999, 1), -ENOSPC);
	o.cap_gr = true;
	o.n_gr_afi = BGP_OPEN_MAX_AFI;
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_open(&w, &o), 0);
	assert_int_equal(bgp_frame(out, wr_len(&w), &f, &res), 0);
	assert_int_equal(f.body.p[9], 255);
	assert_int_equal(f.body.p[10], 255);
	assert_int_equal(bgp_open_parse(f.body.p, f.body.len, &p, &res), 0);
	assert_true(p.ext_params);
	assert_int_equal(p.n_afi, BGP_OPEN_MAX_AFI);
	assert_int_equal(p.n_gr_afi, BGP_OPEN_MAX_AFI);
	assert_int_equal(p.afi[31].afi, 131);
	/* And that parsed form re-encodes byte for byte. */
	{
		static uint8_t again[BGP_MSG_MAX];
		struct buf_writer w2;

		wr_init(&w2, again, sizeof(again));
		assert_int_equal(bgp_build_open(&w2, &p), 0);
		assert_int_equal(wr_len(&w2), wr_len(&w));
		assert_memory_equal(again, out, wr_len(&w));
	}
}

/* Prefixes 10.x.y.0/24, n of them. */
static struct cgw_prefix *many_prefixes(size_t n)
{
	struct cgw_prefix *p = calloc(n, sizeof(*p));

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		p[i].addr.family = AF_INET;
		p[i].addr.v4.s_addr = htonl(0x0a000000u | (uint32_t)i << 8);
		p[i].len = 24;
	}
	return p;
}

static struct bgp_attrs *sample_attrs(void)
{
	struct bgp_attrs *a = bgp_attrs_new();

	assert_non_null(a);
	a->origin = BGP_ORIGIN_IGP;
	a->next_hop.s_addr = htonl(0xa9fe0102);
	assert_int_equal(bgp_as_path_prepend(a, 65001, 1), 0);
	return a;
}

/* Messages written back to back in out: frame and parse each, check all. */
static size_t check_stream(size_t len, const struct cgw_prefix *pfx, size_t n, bool withdraw,
			   const struct bgp_wire_opts *o)
{
	size_t off = 0, seen = 0, msgs = 0;

	while (off < len) {
		struct bgp_frame f;
		struct bgp_result res;
		struct bgp_update u;
		const struct cgw_prefix *got;
		size_t cnt;

		assert_int_equal(bgp_frame(out + off, len - off, &f, &res), 0);
		assert_true(f.len <= BGP_MSG_MAX);
		assert_int_equal(bgp_update_parse(f.body.p, f.body.len, o, &u, &res), 0);
		assert_int_equal(res.action, BGP_ACT_NONE);
		got = withdraw ? u.withdrawn : u.nlri;
		cnt = withdraw ? u.n_withdrawn : u.n_nlri;
		assert_true(cnt > 0);
		for (size_t i = 0; i < cnt; i++, seen++)
			assert_memory_equal(&got[i], &pfx[seen], sizeof(got[i]));
		bgp_update_free(&u);
		off += f.len;
		msgs++;
	}
	assert_int_equal(seen, n);
	return msgs;
}

static void test_build_split(void **state)
{
	struct cgw_prefix *p = many_prefixes(3000);
	struct bgp_attrs *a = sample_attrs();
	struct buf_writer w;
	size_t done = 0, msgs = 0;

	/* 3000 x 4 bytes: 3 announcements of at most 4096 bytes each. */
	wr_init(&w, out, sizeof(out));
	while (done < 3000) {
		size_t before = done;

		assert_int_equal(bgp_build_update(&w, a, p, 3000, &done, &four), 0);
		assert_true(done > before);
		msgs++;
	}
	assert_int_equal(msgs, 3);
	assert_int_equal(check_stream(wr_len(&w), p, 3000, false, &four), 3);

	done = 0;
	wr_init(&w, out, sizeof(out));
	while (done < 3000)
		assert_int_equal(bgp_build_withdraw(&w, p, 3000, &done), 0);
	assert_int_equal(check_stream(wr_len(&w), p, 3000, true, &four), 3);

	/* A writer smaller than a message: as much as fits, then the next one. */
	{
		static uint8_t small[100];

		done = 0;
		wr_init(&w, small, sizeof(small));
		assert_int_equal(bgp_build_update(&w, a, p, 3000, &done, &four), 0);
		assert_true(done > 10 && done < 30);
		assert_true(wr_len(&w) <= sizeof(small));
		wr_init(&w, small, 30);
		assert_int_equal(bgp_build_update(&w, a, p, 3000, &done, &four), -EMSGSIZE);
		assert_true(wr_failed(&w));
	}
	/* Errors: nothing to send, not IPv4. */
	wr_init(&w, out, sizeof(out));
	done = 3000;
	assert_int_equal(bgp_build_update(&w, a, p, 3000, &done, &four), -EINVAL);
	assert_int_equal(bgp_build_withdraw(&w, p, 3000, &done), -EINVAL);
	p[0].addr.family = AF_INET6;
	done = 0;
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_update(&w, a, p, 3000, &done, &four), -EAFNOSUPPORT);
	done = 1;
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_update(&w, a, p, 2, &done, &four), 0);
	bgp_attrs_unref(a);
	free(p);
}

static void test_build_eor_keepalive(void **state)
{
	struct buf_writer w;
	uint8_t want[64];
	size_t n;

	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_eor(&w), 0);
	n = unhex(bird_eor, want, sizeof(want));
	assert_int_equal(wr_len(&w), n);
	assert_memory_equal(out, want, n);

	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_keepalive(&w), 0);
	n = unhex(bird_keepalive, want, sizeof(want));
	assert_int_equal(wr_len(&w), n);
	assert_memory_equal(out, want, n);

	wr_init(&w, out, 18);
	assert_int_equal(bgp_build_keepalive(&w), -EMSGSIZE);
}

/* 4-octet ASes on a 2-octet session: AS_TRANS, then AS4_PATH/AS4_AGGREGATOR. */
static void test_build_as4(void **state)
{
	struct bgp_attrs *a = sample_attrs();
	struct cgw_prefix *p = many_prefixes(1);
	struct bgp_update u;
	struct bgp_frame f;
	struct bgp_result res;
	struct buf_writer w;
	size_t done = 0, n;
	uint8_t want[128];
	char path[64];

	assert_int_equal(bgp_as_path_prepend(a, 4200000001u, 2), 0);
	a->has_aggregator = true;
	a->aggregator_as = 4200000009u;
	a->aggregator_addr.s_addr = htonl(0x0a000009);
	bgp_attrs_seal(a);
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_update(&w, a, p, 1, &done, &two), 0);
	n = unhex("ffffffffffffffffffffffffffffffff0056020000003b4001010040020802035ba05ba0fde9"
		  "400304a9fe0102c007065ba00a000009c0110e0203fa56ea01fa56ea010000fde9c01208fa56"
		  "ea090a000009180a0000", want, sizeof(want));
	assert_int_equal(wr_len(&w), n);
	assert_memory_equal(out, want, n);
	/* Back in on a 2-octet session: the 4-octet ASes again. */
	assert_int_equal(bgp_frame(out, wr_len(&w), &f, &res), 0);
	assert_int_equal(bgp_update_parse(f.body.p, f.body.len, &two, &u, &res), 0);
	assert_int_equal(res.action, BGP_ACT_NONE);
	assert_true(bgp_attrs_equal(u.attrs, a));
	assert_int_equal(u.attrs->hash, a->hash);
	assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)),
			    "4200000001 4200000001 65001");
	bgp_update_free(&u);
	/* A 4-octet session: no AS4_* at all. */
	done = 0;
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_update(&w, a, p, 1, &done, &four), 0);
	n = unhex("ffffffffffffffffffffffffffffffff004202000000274001010040020e0203fa56ea01"
		  "fa56ea010000fde9400304a9fe0102c00708fa56ea090a000009180a0000", want, sizeof(want));
	assert_int_equal(wr_len(&w), n);
	assert_memory_equal(out, want, n);
	bgp_attrs_unref(a);
	free(p);
}

/* Find needle (hex) in out[0..len). */
static bool contains(size_t len, const char *hex)
{
	uint8_t needle[16];
	size_t n = unhex(hex, needle, sizeof(needle));

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(out + i, needle, n) == 0)
			return true;
	return false;
}

/* Flags: Extended Length past 255 bytes; Partial on unknown transitive ones. */
static void test_build_flags(void **state)
{
	static uint8_t d99[3] = { 1, 2, 3 }, d32[12] = { 0, 0, 0xfd, 0xe9 };
	struct bgp_attrs *a = sample_attrs();
	struct cgw_prefix *p = many_prefixes(1);
	struct bgp_update u;
	struct bgp_frame f;
	struct bgp_result res;
	struct buf_writer w;
	size_t done = 0;

	a->unknown = calloc(2, sizeof(*a->unknown));
	assert_non_null(a->unknown);
	a->unknown[0] = (struct bgp_raw_attr){ 0xc0, 32, sizeof(d32), malloc(sizeof(d32)) };
	a->unknown[1] = (struct bgp_raw_attr){ 0xc0, 99, sizeof(d99), malloc(sizeof(d99)) };
	memcpy(a->unknown[0].data, d32, sizeof(d32));
	memcpy(a->unknown[1].data, d99, sizeof(d99));
	a->n_unknown = 2;
	a->n_communities = 100;
	a->communities = calloc(100, sizeof(uint32_t));
	for (uint32_t i = 0; i < 100; i++)
		a->communities[i] = 65001u << 16 | i;
	a->has_med = true;
	a->med = 7;
	a->has_local_pref = true;
	a->local_pref = 200;
	a->atomic_aggregate = true;
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_update(&w, a, p, 1, &done, &four), 0);
	assert_true(contains(wr_len(&w), "d0080190fde90000fde90001"));	/* ext length */
	assert_true(contains(wr_len(&w), "e06303010203"));		/* Partial */
	assert_true(contains(wr_len(&w), "c0200c0000fde9"));		/* known: no Partial */
	assert_true(contains(wr_len(&w), "80040400000007"));		/* MED */
	assert_true(contains(wr_len(&w), "400504000000c8"));		/* LOCAL_PREF */
	assert_true(contains(wr_len(&w), "400600"));			/* ATOMIC_AGGREGATE */
	/* Parsed back from an internal peer: everything, Partial now set. */
	{
		static const struct bgp_wire_opts ibgp = { .four_octet = true, .ebgp = false };

		assert_int_equal(bgp_frame(out, wr_len(&w), &f, &res), 0);
		assert_int_equal(bgp_update_parse(f.body.p, f.body.len, &ibgp, &u, &res), 0);
		assert_int_equal(res.action, BGP_ACT_NONE);
		assert_int_equal(u.attrs->n_communities, 100);
		assert_int_equal(u.attrs->local_pref, 200);
		assert_true(u.attrs->atomic_aggregate);
		assert_int_equal(u.attrs->n_unknown, 2);
		assert_int_equal(u.attrs->unknown[0].flags, 0xc0);
		assert_int_equal(u.attrs->unknown[1].flags, 0xe0);
		a->unknown[1].flags = 0xe0;
		assert_true(bgp_attrs_equal(u.attrs, a));
		bgp_update_free(&u);
	}
	/* From an external peer LOCAL_PREF is dropped (RFC 7606 7.5). */
	assert_int_equal(bgp_update_parse(f.body.p, f.body.len, &four, &u, &res), 0);
	assert_int_equal(res.action, BGP_ACT_DISCARD);
	assert_false(u.attrs->has_local_pref);
	bgp_update_free(&u);
	/* Attributes that cannot fit a message. */
	a->communities = realloc(a->communities, 1100 * sizeof(uint32_t));
	a->n_communities = 1100;
	memset(a->communities, 0, 1100 * sizeof(uint32_t));
	done = 0;
	wr_init(&w, out, sizeof(out));
	assert_int_equal(bgp_build_update(&w, a, p, 1, &done, &four), -EMSGSIZE);
	assert_int_equal(done, 0);
	bgp_attrs_unref(a);
	free(p);
}

static void test_attrs_object(void **state)
{
	struct bgp_attrs *a = sample_attrs(), *b, *c;
	char buf[64];

	a->communities = calloc(2, sizeof(uint32_t));
	a->n_communities = 2;
	a->communities[1] = 42;
	a->segs = realloc(a->segs, 2 * sizeof(*a->segs));
	a->segs[1].type = BGP_AS_SET;
	a->segs[1].len = 2;
	a->segs[1].as = calloc(2, sizeof(uint32_t));
	a->segs[1].as[0] = 1;
	a->segs[1].as[1] = 2;
	a->n_segs = 2;
	bgp_attrs_seal(a);
	assert_string_equal(bgp_as_path_str(a, buf, sizeof(buf)), "65001 {1 2}");
	assert_int_equal(bgp_as_path_length(a), 2);
	assert_true(bgp_as_path_contains(a, 2));
	assert_false(bgp_as_path_contains(a, 3));
	/* Truncated, still terminated. */
	assert_string_equal(bgp_as_path_str(a, buf, 8), "6500...");

	b = bgp_attrs_dup(a);
	assert_non_null(b);
	assert_ptr_not_equal(b->segs, a->segs);
	assert_int_equal(b->refcnt, 1);
	bgp_attrs_seal(b);
	assert_true(bgp_attrs_equal(a, b));
	assert_int_equal(a->hash, b->hash);
	b->communities[1] = 43;
	bgp_attrs_seal(b);
	assert_false(bgp_attrs_equal(a, b));
	assert_int_not_equal(a->hash, b->hash);

	/* Prepend: into the leading sequence, or a new one before a set. */
	assert_int_equal(bgp_as_path_prepend(b, 7, 2), 0);
	assert_string_equal(bgp_as_path_str(b, buf, sizeof(buf)), "7 7 65001 {1 2}");
	assert_int_equal(bgp_as_path_first(b), 7);
	c = bgp_attrs_new();
	assert_int_equal(bgp_as_path_first(c), 0);
	assert_int_equal(bgp_as_path_prepend(c, 9, 0), 0);
	assert_int_equal(bgp_as_path_prepend(c, 9, 256), -EINVAL);
	assert_int_equal(bgp_as_path_prepend(c, 9, 255), 0);
	assert_int_equal(bgp_as_path_prepend(c, 8, 1), 0);
	assert_int_equal(c->n_segs, 2);
	assert_int_equal(bgp_as_path_length(c), 256);
	assert_int_equal(bgp_as_path_first(c), 8);

	/* Refcounts. */
	assert_ptr_equal(bgp_attrs_ref(a), a);
	assert_int_equal(a->refcnt, 2);
	bgp_attrs_unref(a);
	bgp_attrs_unref(a);
	bgp_attrs_unref(b);
	bgp_attrs_unref(c);
	bgp_attrs_unref(NULL);
}

static char last_line[512];

static void sink(int prio, const char *line, void *arg)
{
	snprintf(last_line, sizeof(last_line), "%s", line);
}

/* One line per result, with the NOTIFICATION names. */
static void test_result_log(void **state)
{
	uint8_t buf[32];
	struct bgp_frame f;
	struct bgp_result res;

	log_init("test", 0);
	log_set_sink(sink, NULL);
	memset(buf, 0xff, 16);
	unhex("001306", buf + 16, 3);
	assert_int_equal(bgp_frame(buf, 19, &f, &res), -EBADMSG);
	bgp_result_log("peer 169.254.10.1 AS 64512", &res);
	assert_non_null(strstr(last_line, "peer 169.254.10.1 AS 64512: session reset "
				       "(Message Header Error/Bad Message Type): "
				       "unknown message type 6"));
	last_line[0] = '\0';
	bgp_result_clear(&res);
	bgp_result_log("peer", &res);
	assert_string_equal(last_line, "");
	log_set_sink(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_round_trip),
		cmocka_unit_test(test_framer_stream),
		cmocka_unit_test(test_open_fields),
		cmocka_unit_test(test_update_fields),
		cmocka_unit_test(test_as4_merge),
		cmocka_unit_test(test_notifications),
		cmocka_unit_test(test_route_refresh),
		cmocka_unit_test(test_framer_cases),
		cmocka_unit_test(test_open_cases),
		cmocka_unit_test(test_open_build),
		cmocka_unit_test(test_build_split),
		cmocka_unit_test(test_build_eor_keepalive),
		cmocka_unit_test(test_build_as4),
		cmocka_unit_test(test_build_flags),
		cmocka_unit_test(test_attrs_object),
		cmocka_unit_test(test_result_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
