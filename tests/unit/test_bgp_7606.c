/*
 * RFC 7606 revised UPDATE error handling, one row per case: a hand-built
 * UPDATE body (withdrawn routes, path attributes, NLRI, in hex) and the
 * action bgp_update_parse() must take (session reset with its UPDATE
 * Message Error subcode and data, treat-as-withdraw, attribute discard),
 * with what is left announced and withdrawn afterwards.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bgp/attr.h"
#include "bgp/msg.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Session kinds. Our address on every session is 10.0.0.2 unless LOOP. */
#define S4 0x1				/* 4-octet AS session */
#define IBGP 0x2			/* internal peer */
#define PAS 0x4				/* first AS checked: the peer is AS 65001 */
#define PAS4 0x8			/* first AS checked: the peer is AS 4200000001 */
#define LOOP 0x10			/* a loopback session: we are 127.0.0.1 */
#define NOLOCAL 0x20			/* our address unknown (0) */

/* Well-formed pieces (4-octet session): ORIGIN IGP, AS_PATH [65001],
 * NEXT_HOP 10.0.0.1, NLRI 192.0.2.0/24. */
#define ORG "40010100"
#define ASP "40020602010000fde9"
#define ASP2 "4002040201fde9"		/* the same, 2-octet */
#define NH "4003040a000001"
#define BASE ORG ASP NH
#define NLRI "18c00002"
/* MP_REACH IPv4 unicast, next hop 10.0.0.9, 198.51.100.0/24 */
#define MPR4 "800e0d000101040a0000090018c63364"

#define RESET BGP_ACT_RESET
#define TAW BGP_ACT_WITHDRAW
#define DISC BGP_ACT_DISCARD
#define OK BGP_ACT_NONE

struct row {
	const char *name;
	unsigned sess;
	const char *wd;			/* withdrawn routes */
	const char *attrs;		/* path attributes */
	const char *nlri;
	enum bgp_action act;
	uint8_t sub;			/* UPDATE Message Error subcode (RESET, TAW) */
	const char *data;		/* NOTIFICATION data, NULL: not checked */
	int n_nlri, n_wd;		/* after the decision; -1: not checked */
	const char *path;		/* AS_PATH string, NULL: not checked */
	const char *raw;		/* whole body instead of wd/attrs/nlri */
};

static const struct row rows[] = {
	{ "well formed", S4, "", BASE, NLRI, OK, 0, NULL, 1, 0, "65001", NULL },
	{ "withdrawals only, no attributes", S4, "18c0000210ac10", "", "", OK, 0, NULL, 0, 2,
	  NULL, NULL },
	{ "prefix bits past the length are ignored", S4, "", BASE, "17c00003", OK, 0, NULL,
	  1, 0, NULL, NULL },

	/* 7.1 ORIGIN */
	{ "ORIGIN length 2", S4, "", "4001020000" ASP NH, NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, "4001020000", 0, 1, NULL, NULL },
	{ "ORIGIN length 0", S4, "", "400100" ASP NH, NLRI, TAW, BGP_SUB_UPDATE_ATTR_LEN,
	  "400100", 0, 1, NULL, NULL },
	{ "ORIGIN value 3", S4, "", "40010103" ASP NH, NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_ORIGIN, "40010103", 0, 1, NULL, NULL },
	/* 7.2 AS_PATH */
	{ "AS_PATH segment overrun", S4, "", ORG "40020602020000fde9" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH single octet after last segment", S4, "", ORG "40020702010000fde902" NH,
	  NLRI, TAW, BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH zero-length segment", S4, "", ORG "40020802010000fde90200" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH segment type 5", S4, "", ORG "40020605010000fde9" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH confederation segment", S4, "", ORG "40020603010000fde9" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH 4-octet bytes on a 2-octet session", 0, "", ORG ASP NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH empty (length 0) is well formed", S4, "", ORG "400200" NH, NLRI, OK, 0,
	  NULL, 1, 0, "", NULL },
	{ "AS_PATH AS_SET", S4, "", ORG "40021002010000fde901020000000100000002"
	  NH, NLRI, OK, 0, NULL, -1, -1, NULL, NULL },
	/* 7.3 NEXT_HOP */
	{ "NEXT_HOP length 5", S4, "", ORG ASP "4003050a00000100", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, "4003050a00000100", 0, 1, NULL, NULL },
	{ "NEXT_HOP length 3", S4, "", ORG ASP "4003030a0000", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, NULL, 0, 1, NULL, NULL },
	/* RFC 4271 6.3: a NEXT_HOP that is no host address, or ours */
	{ "NEXT_HOP 0.0.0.0", S4, "", ORG ASP "40030400000000", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, "40030400000000", 0, 1, NULL, NULL },
	{ "NEXT_HOP 0.1.2.3", S4, "", ORG ASP "40030400010203", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP 127.0.0.1", S4, "", ORG ASP "4003047f000001", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, "4003047f000001", 0, 1, NULL, NULL },
	{ "NEXT_HOP 127.0.0.2 on a loopback session", S4 | LOOP, "", ORG ASP "4003047f000002",
	  NLRI, OK, 0, NULL, 1, 0, NULL, NULL },
	{ "NEXT_HOP 127.0.0.2, our address unknown", S4 | NOLOCAL, "", ORG ASP "4003047f000002",
	  NLRI, OK, 0, NULL, 1, 0, NULL, NULL },
	{ "NEXT_HOP 0.0.0.0, our address unknown", S4 | NOLOCAL, "", ORG ASP "40030400000000",
	  NLRI, TAW, BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP multicast 224.0.0.5", S4, "", ORG ASP "400304e0000005", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP 240.0.0.1", S4, "", ORG ASP "400304f0000001", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP 255.255.255.255", S4, "", ORG ASP "400304ffffffff", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP our own address", S4 | IBGP, "", ORG ASP "4003040a000002", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_NEXT_HOP, "4003040a000002", 0, 1, NULL, NULL },
	{ "NEXT_HOP 0.0.0.0 unused (withdrawals only)", S4, "18c00002",
	  ORG ASP "40030400000000", "", OK, 0, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP 0.0.0.0 unused (MP_REACH NLRI only)", S4, "", ORG ASP "40030400000000" MPR4,
	  "", OK, 0, NULL, 1, 0, NULL, NULL },
	{ "MP_REACH IPv4 next hop 127.0.0.1", S4, "", ORG ASP "800e0d000101047f0000010018c63364",
	  "", TAW, BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "MP_REACH IPv4 next hop ours", S4, "", ORG ASP "800e0d000101040a0000020018c63364",
	  "", TAW, BGP_SUB_UPDATE_INVALID_NEXT_HOP, NULL, 0, 1, NULL, NULL },
	{ "empty MP_REACH: its next hop is not used", S4, "18c00002",
	  ORG ASP "800e09000101040000000000", "", OK, 0, NULL, 0, 1, NULL, NULL },

	/* RFC 4271 6.3, RFC 7606 7.2: an external peer's AS comes first */
	{ "first AS the peer's", S4 | PAS, "", BASE, NLRI, OK, 0, NULL, 1, 0, "65001", NULL },
	{ "first AS not the peer's", S4 | PAS, "", ORG "40020602010000fe4b" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH empty from an external peer", S4 | PAS, "", ORG "400200" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "AS_PATH starting with an AS_SET", S4 | PAS, "", ORG "40020601010000fde9" NH, NLRI,
	  TAW, BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "first AS not checked on iBGP", S4 | IBGP | PAS, "", ORG "400200" NH, NLRI, OK, 0,
	  NULL, 1, 0, "", NULL },
	{ "first AS not checked without NLRI", S4 | PAS, "18c00002", ORG "400200" NH, "", OK, 0,
	  NULL, 0, 1, NULL, NULL },
	{ "first AS on MP_REACH routes", S4 | PAS, "", ORG "40020602010000fe4b" MPR4, "", TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },
	{ "2-octet peer of a 4-octet AS: AS_TRANS first", PAS4, "", ORG "40020402015ba0" NH,
	  NLRI, OK, 0, NULL, 1, 0, "23456", NULL },
	{ "2-octet peer of a 4-octet AS: AS4_PATH puts it first", PAS4, "",
	  ORG "40020402015ba0" NH "c01106020" "1fa56ea01", NLRI, OK, 0, NULL, 1, 0,
	  "4200000001", NULL },
	{ "2-octet peer of a 4-octet AS: another AS first", PAS4, "", ORG ASP2 NH, NLRI, TAW,
	  BGP_SUB_UPDATE_MALFORMED_AS_PATH, "", 0, 1, NULL, NULL },

	/* 7.4 MULTI_EXIT_DISC */
	{ "MED length 3", S4, "", BASE "800403000000", NLRI, TAW, BGP_SUB_UPDATE_ATTR_LEN,
	  "800403000000", 0, 1, NULL, NULL },
	{ "MED length 5", S4, "", BASE "80040500000000ff", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, NULL, 0, 1, NULL, NULL },
	/* 7.5 LOCAL_PREF */
	{ "LOCAL_PREF length 3, internal peer", S4 | IBGP, "", BASE "400503000064", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, NULL, 0, 1, NULL, NULL },
	{ "LOCAL_PREF from an external peer", S4, "", BASE "40050400000064", NLRI, DISC, 0,
	  NULL, 1, 0, NULL, NULL },
	{ "LOCAL_PREF length 3 from an external peer", S4, "", BASE "400503000064", NLRI,
	  DISC, 0, NULL, 1, 0, NULL, NULL },
	{ "LOCAL_PREF, internal peer", S4 | IBGP, "", BASE "40050400000064", NLRI, OK, 0,
	  NULL, 1, 0, NULL, NULL },
	/* 7.6 ATOMIC_AGGREGATE */
	{ "ATOMIC_AGGREGATE length 1", S4, "", BASE "40060100", NLRI, DISC, 0, NULL, 1, 0,
	  NULL, NULL },
	/* 7.7 AGGREGATOR */
	{ "AGGREGATOR length 6, 4-octet session", S4, "", BASE "c00706fde90a000001", NLRI,
	  DISC, 0, NULL, 1, 0, NULL, NULL },
	{ "AGGREGATOR length 8, 2-octet session", 0, "", ORG ASP2 NH "c007080000fde90a000001",
	  NLRI, DISC, 0, NULL, 1, 0, NULL, NULL },
	{ "AGGREGATOR length 6, 2-octet session", 0, "", ORG ASP2 NH "c00706fde90a000001",
	  NLRI, OK, 0, NULL, 1, 0, NULL, NULL },
	/* 7.8 COMMUNITIES */
	{ "COMMUNITIES length 5", S4, "", BASE "c00805fde9006400", NLRI, TAW,
	  BGP_SUB_UPDATE_OPTIONAL_ATTR, "c00805fde9006400", 0, 1, NULL, NULL },
	{ "COMMUNITIES length 0", S4, "", BASE "c00800", NLRI, TAW,
	  BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, 0, 1, NULL, NULL },
	/* 7.9, 7.10 ORIGINATOR_ID, CLUSTER_LIST */
	{ "ORIGINATOR_ID from an external peer", S4, "", BASE "8009040a000001", NLRI, DISC,
	  0, NULL, 1, 0, NULL, NULL },
	{ "CLUSTER_LIST length 3, internal peer", S4 | IBGP, "", BASE "800a030a0000", NLRI,
	  TAW, BGP_SUB_UPDATE_ATTR_LEN, NULL, 0, 1, NULL, NULL },
	/* 7.14, RFC 8092: lists kept as they are, when well formed */
	{ "EXTENDED_COMMUNITIES length 7", S4, "", BASE "c0100700020000000000", NLRI, TAW,
	  BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, 0, 1, NULL, NULL },
	{ "LARGE_COMMUNITIES length 11", S4, "", BASE "c0200b0000fde900000001000000", NLRI,
	  TAW, BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, 0, 1, NULL, NULL },

	/* 7.11, 7.12, 3.j: MP_REACH_NLRI / MP_UNREACH_NLRI */
	{ "MP_REACH IPv4 unicast, no NEXT_HOP needed", S4, "", ORG ASP MPR4, "", OK, 0, NULL,
	  1, 0, NULL, NULL },
	{ "MP_REACH truncated", S4, "", "800e03000101" BASE, NLRI, RESET,
	  BGP_SUB_UPDATE_OPTIONAL_ATTR, "800e03000101", -1, -1, NULL, NULL },
	{ "MP_REACH next hop length 5", S4, "", "800e0e000101050a000009000018c63364" ORG ASP,
	  "", RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, -1, -1, NULL, NULL },
	{ "MP_REACH IPv6 next hop length 4", S4, "", "800e0d000201040a0000090018c63364" ORG ASP,
	  "", RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, -1, -1, NULL, NULL },
	{ "MP_REACH prefix length 33", S4, "", "800e0e000101040a0000090021c633640a" ORG ASP,
	  "", RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, -1, -1, NULL, NULL },
	{ "MP_REACH prefix overruns", S4, "", "800e0c000101040a0000090018c633" ORG ASP, "",
	  RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, -1, -1, NULL, NULL },
	{ "MP_UNREACH truncated", S4, "", "800f020001", "", RESET,
	  BGP_SUB_UPDATE_OPTIONAL_ATTR, "800f020001", -1, -1, NULL, NULL },
	{ "MP_UNREACH prefix overruns", S4, "", "800f05000101ffc0", "", RESET,
	  BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, -1, -1, NULL, NULL },
	{ "MP_UNREACH IPv4 withdrawals", S4, "", "800f07000101" "18c00002", "", OK, 0, NULL, 0,
	  1, NULL, NULL },
	{ "MP_REACH twice", S4, "", MPR4 ORG ASP MPR4, "", RESET,
	  BGP_SUB_UPDATE_MALFORMED_ATTR_LIST, "", -1, -1, NULL, NULL },
	{ "MP_UNREACH twice", S4, "", "800f03000101800f03000101", "", RESET,
	  BGP_SUB_UPDATE_MALFORMED_ATTR_LIST, "", -1, -1, NULL, NULL },
	{ "MP_REACH flags well-known", S4, "", "400e0d000101040a0000090018c63364" ORG ASP, "",
	  RESET, BGP_SUB_UPDATE_ATTR_FLAGS, NULL, -1, -1, NULL, NULL },
	{ "MP_REACH overruns the attribute field", S4, "", ORG ASP "800e20000101040a000009",
	  "", RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, NULL, -1, -1, NULL, NULL },
	{ "MP_REACH unsupported AFI/SAFI is skipped", S4, "", ORG ASP NH "800e050019410000",
	  NLRI, DISC, 0, NULL, 1, 0, NULL, NULL },
	{ "End-of-RIB for IPv6 (empty MP_UNREACH)", S4, "", "800f03000201", "", OK, 0, NULL, 0,
	  0, NULL, NULL },

	/* 3.c flags conflicts on well-known and known optional attributes */
	{ "ORIGIN flagged optional", S4, "", "c0010100" ASP NH, NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_FLAGS, "c0010100", 0, 1, NULL, NULL },
	{ "AS_PATH flagged non-transitive", S4, "", ORG "80020602010000fde9" NH, NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_FLAGS, NULL, 0, 1, NULL, NULL },
	{ "NEXT_HOP flagged optional", S4, "", ORG ASP "c003040a000001", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_FLAGS, NULL, 0, 1, NULL, NULL },
	{ "MED flagged well-known", S4, "", BASE "40040400000001", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_FLAGS, NULL, 0, 1, NULL, NULL },
	{ "COMMUNITIES flagged non-transitive", S4, "", BASE "800804fde90064", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_FLAGS, NULL, 0, 1, NULL, NULL },
	{ "Partial bit on ORIGIN is not checked", S4, "", "60010100" ASP NH, NLRI, OK, 0, NULL,
	  1, 0, NULL, NULL },

	/* 3.g duplicates */
	{ "ORIGIN twice: the first counts", S4, "", BASE "40010102", NLRI, DISC, 0, NULL, 1, 0,
	  NULL, NULL },
	{ "unknown transitive twice", S4, "", BASE "c0630101c0630102", NLRI, DISC, 0, NULL, 1,
	  0, NULL, NULL },

	/* 3.d missing well-known */
	{ "no ORIGIN", S4, "", ASP NH, NLRI, TAW, BGP_SUB_UPDATE_MISSING_WELLKNOWN, "01", 0, 1,
	  NULL, NULL },
	{ "no AS_PATH", S4, "", ORG NH, NLRI, TAW, BGP_SUB_UPDATE_MISSING_WELLKNOWN, "02", 0,
	  1, NULL, NULL },
	{ "no NEXT_HOP", S4, "", ORG ASP, NLRI, TAW, BGP_SUB_UPDATE_MISSING_WELLKNOWN, "03", 0,
	  1, NULL, NULL },
	{ "no ORIGIN with MP_REACH: its prefixes withdrawn", S4, "", ASP MPR4, "", TAW,
	  BGP_SUB_UPDATE_MISSING_WELLKNOWN, "01", 0, 1, NULL, NULL },

	/* 4: attribute lengths against the attribute field */
	{ "last attribute overruns the field", S4, "", BASE "c00808fde90064", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, "c00808fde90064", 0, 1, NULL, NULL },
	{ "two octets left for a header", S4, "", BASE "4001", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, NULL, 0, 1, NULL, NULL },
	{ "extended-length header cut", S4, "", BASE "500200", NLRI, TAW,
	  BGP_SUB_UPDATE_ATTR_LEN, NULL, 0, 1, NULL, NULL },
	/* 5.2: nothing reachable to withdraw */
	{ "overrun without NLRI", S4, "18c00002", BASE "c00808fde90064", "", RESET,
	  BGP_SUB_UPDATE_ATTR_LEN, NULL, -1, -1, NULL, NULL },
	{ "bad ORIGIN without NLRI", S4, "18c00002", "40010103" ASP NH, "", RESET,
	  BGP_SUB_UPDATE_INVALID_ORIGIN, "40010103", -1, -1, NULL, NULL },
	{ "bad ORIGIN with an empty MP_REACH", S4, "", "40010103" ASP "800e09000101040a00000900",
	  "", RESET, BGP_SUB_UPDATE_INVALID_ORIGIN, NULL, -1, -1, NULL, NULL },
	{ "discard without NLRI is fine", S4, "18c00002", BASE "40060100", "", DISC, 0, NULL, 0,
	  1, NULL, NULL },

	/* 3.b, 5.3: the fields themselves */
	{ "withdrawn routes length too large", S4, NULL, NULL, NULL, RESET,
	  BGP_SUB_UPDATE_MALFORMED_ATTR_LIST, "", -1, -1, NULL, "0005180a0000" },
	{ "attribute length too large", S4, NULL, NULL, NULL, RESET,
	  BGP_SUB_UPDATE_MALFORMED_ATTR_LIST, "", -1, -1, NULL, "0000001c" BASE },
	{ "NLRI prefix length 33", S4, "", BASE, "21c0000201", RESET,
	  BGP_SUB_UPDATE_INVALID_NETWORK, "", -1, -1, NULL, NULL },
	{ "NLRI prefix overruns", S4, "", BASE, "18c000", RESET, BGP_SUB_UPDATE_INVALID_NETWORK,
	  "", -1, -1, NULL, NULL },
	{ "withdrawn prefix length 40", S4, "28c000020000", "", "", RESET,
	  BGP_SUB_UPDATE_INVALID_NETWORK, "", -1, -1, NULL, NULL },

	/* RFC 4271 5, 9: attributes we do not know */
	{ "unknown optional non-transitive: ignored", S4, "", BASE "806303010203", NLRI, OK, 0,
	  NULL, 1, 0, NULL, NULL },
	{ "unknown optional transitive: kept", S4, "", BASE "c06303010203", NLRI, OK, 0, NULL,
	  1, 0, NULL, NULL },
	{ "unknown well-known", S4, "", BASE "406303010203", NLRI, RESET,
	  BGP_SUB_UPDATE_UNRECOGNIZED_WELLKNOWN, "406303010203", -1, -1, NULL, NULL },

	/* 3.h: the strongest action wins */
	{ "discard and withdraw", S4, "", "40010103" ASP NH "40060100", NLRI, TAW,
	  BGP_SUB_UPDATE_INVALID_ORIGIN, NULL, 0, 1, NULL, NULL },
	{ "withdraw and reset", S4, "", "40010103" ASP NH "406303010203", NLRI, RESET,
	  BGP_SUB_UPDATE_UNRECOGNIZED_WELLKNOWN, NULL, -1, -1, NULL, NULL },

	/* RFC 6793: AS4_PATH and AS4_AGGREGATOR */
	{ "AS4_PATH merged", 0, "", ORG "40020a0204fdf2fde95ba05ba0" NH
	  "c0110a0202fa56ea01fa56ea02", NLRI, OK, 0, NULL, 1, 0,
	  "65010 65001 4200000001 4200000002", NULL },
	{ "AS4_PATH across an AS_SET", 0, "", ORG "40020c0202fdf25ba001025ba0fde9" NH
	  "c0110c0201fa56ea010101fa56ea02", NLRI, OK, 0, NULL, 1, 0,
	  "65010 4200000001 {4200000002}", NULL },
	{ "AS4_PATH longer than AS_PATH: ignored", 0, "", ORG "400204020" "15ba0" NH
	  "c0110a0202fa56ea01fa56ea02", NLRI, OK, 0, NULL, 1, 0, "23456", NULL },
	{ "AS4_PATH with AGGREGATOR not AS_TRANS: ignored", 0, "", ORG "400204020" "15ba0" NH
	  "c00706fde90a000001c01106020" "1fa56ea01", NLRI, OK, 0, NULL, 1, 0, "23456", NULL },
	{ "AS4_AGGREGATOR with AGGREGATOR AS_TRANS", 0, "", ORG ASP2 NH "c007065ba00a000001"
	  "c01208fa56ea010a000001", NLRI, OK, 0, NULL, 1, 0, "65001", NULL },
	{ "AS4_PATH malformed: discarded", 0, "", ORG ASP2 NH "c01106020" "2fa56ea01", NLRI,
	  DISC, 0, NULL, 1, 0, "65001", NULL },
	{ "AS4_PATH confederation segment: discarded", 0, "", ORG ASP2 NH "c01106030" "1fa56ea01",
	  NLRI, DISC, 0, NULL, 1, 0, "65001", NULL },
	{ "AS4_AGGREGATOR length 7: discarded", 0, "", ORG ASP2 NH "c00706" "5ba00a000001"
	  "c01207fa56ea010a0000", NLRI, DISC, 0, NULL, 1, 0, NULL, NULL },
	{ "AS4_PATH from a 4-octet peer: discarded", S4, "", BASE "c01106020" "1fa56ea01", NLRI,
	  DISC, 0, NULL, 1, 0, "65001", NULL },
	{ "AS4_PATH flagged non-transitive: discarded", 0, "", ORG ASP2 NH "801106020" "1fa56ea01",
	  NLRI, DISC, 0, NULL, 1, 0, "65001", NULL },
};

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(strlen(hex) % 2 == 0);
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return n;
}

/* Body: withdrawn length, withdrawn, attribute length, attributes, NLRI. */
static size_t body_of(const struct row *r, uint8_t *b, size_t cap)
{
	size_t off = 0, n;

	if (r->raw)
		return unhex(r->raw, b, cap);
	n = unhex(r->wd, b + 2, cap - 2);
	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	off = 2 + n;
	n = unhex(r->attrs, b + off + 2, cap - off - 2);
	b[off] = (uint8_t)(n >> 8);
	b[off + 1] = (uint8_t)n;
	off += 2 + n;
	return off + unhex(r->nlri, b + off, cap - off);
}

static struct bgp_wire_opts opts_of(unsigned sess)
{
	struct bgp_wire_opts o = { .four_octet = sess & S4, .ebgp = !(sess & IBGP) };

	o.peer_as = sess & PAS ? 65001 : sess & PAS4 ? 4200000001u : 0;
	o.local.s_addr = htonl(sess & LOOP ? 0x7f000001 : sess & NOLOCAL ? 0 : 0x0a000002);
	return o;
}

static void check_row(const struct row *r)
{
	struct bgp_wire_opts o = opts_of(r->sess);
	uint8_t body[512], data[64];
	struct bgp_update u;
	struct bgp_result res;
	size_t len = body_of(r, body, sizeof(body));
	int rc = bgp_update_parse(body, len, &o, &u, &res);
	char path[128];

	assert_int_equal(res.action, r->act);
	assert_int_equal(rc, r->act == RESET ? -EBADMSG : 0);
	if (r->act != OK)
		assert_true(res.reason[0] != '\0');
	if (r->act == RESET || r->act == TAW) {
		assert_int_equal(res.notif.code, BGP_ERR_UPDATE);
		assert_int_equal(res.notif.subcode, r->sub);
	}
	if (r->data) {
		assert_int_equal(res.notif.data_len, unhex(r->data, data, sizeof(data)));
		assert_memory_equal(res.notif.data, data, res.notif.data_len);
	}
	if (r->act == RESET) {
		assert_null(u.attrs);
		assert_int_equal(u.n_nlri + u.n_withdrawn, 0);
	}
	if (r->n_nlri >= 0)
		assert_int_equal(u.n_nlri, r->n_nlri);
	if (r->n_wd >= 0)
		assert_int_equal(u.n_withdrawn, r->n_wd);
	/* Announced prefixes come with sealed attributes, never without. */
	assert_true((u.n_nlri || u.n_nlri6) == (u.attrs != NULL));
	if (r->path) {
		assert_non_null(u.attrs);
		assert_string_equal(bgp_as_path_str(u.attrs, path, sizeof(path)), r->path);
	}
	bgp_update_free(&u);
}

static void test_rows(void **state)
{
	for (size_t i = 0; i < N(rows); i++) {
		print_message("%s\n", rows[i].name);
		check_row(&rows[i]);
	}
}

/* Details some rows cannot say: what was kept, and how. */
static void parse_hex(const char *attrs, const char *nlri, unsigned sess,
		      struct bgp_update *u, struct bgp_result *res)
{
	struct row r = { "", sess, "", attrs, nlri, OK, 0, NULL, -1, -1, NULL, NULL };
	struct bgp_wire_opts o = opts_of(sess);
	static uint8_t body[512];
	size_t len = body_of(&r, body, sizeof(body));

	assert_true(bgp_update_parse(body, len, &o, u, res) >= -EBADMSG);
}

static void test_details(void **state)
{
	struct bgp_update u;
	struct bgp_result res;

	/* Host bits masked. */
	parse_hex(BASE, "17c00003", S4, &u, &res);
	assert_int_equal(ntohl(u.nlri[0].addr.v4.s_addr), 0xc0000200);
	assert_int_equal(u.nlri[0].len, 23);
	bgp_update_free(&u);

	/* Duplicate ORIGIN: the first value. */
	parse_hex(BASE "40010102", NLRI, S4, &u, &res);
	assert_int_equal(u.attrs->origin, BGP_ORIGIN_IGP);
	bgp_update_free(&u);

	/* Unknown transitive kept once, as received; non-transitive dropped. */
	parse_hex(BASE "c0630101c0630102806401ff", NLRI, S4, &u, &res);
	assert_int_equal(u.attrs->n_unknown, 1);
	assert_int_equal(u.attrs->unknown[0].type, 99);
	assert_int_equal(u.attrs->unknown[0].flags, 0xc0);
	assert_int_equal(u.attrs->unknown[0].data[0], 1);
	bgp_update_free(&u);

	/* Treat-as-withdraw: NLRI field and MP_REACH prefixes both withdrawn. */
	parse_hex(ASP NH MPR4, NLRI, S4, &u, &res);
	assert_int_equal(res.action, TAW);
	assert_int_equal(u.n_withdrawn, 2);
	assert_null(u.attrs);
	bgp_update_free(&u);

	/* MP_REACH IPv4: its next hop, not NEXT_HOP's. */
	parse_hex(MPR4 BASE, "", S4, &u, &res);
	assert_int_equal(ntohl(u.attrs->next_hop.s_addr), 0x0a000009);
	bgp_update_free(&u);

	/* Discarded AGGREGATOR and ATOMIC_AGGREGATE leave nothing behind. */
	parse_hex(BASE "c00706fde90a00000140060100", NLRI, S4, &u, &res);
	assert_int_equal(res.action, DISC);
	assert_false(u.attrs->has_aggregator);
	assert_false(u.attrs->atomic_aggregate);
	assert_int_equal(res.n_errors, 2);
	bgp_update_free(&u);

	/* AS4_AGGREGATOR replaces an AS_TRANS AGGREGATOR. */
	parse_hex(ORG ASP2 NH "c007065ba00a000001c01208fa56ea010a000002", NLRI, 0, &u, &res);
	assert_int_equal(u.attrs->aggregator_as, 4200000001u);
	assert_int_equal(ntohl(u.attrs->aggregator_addr.s_addr), 0x0a000002);
	bgp_update_free(&u);

	/* IPv6 End-of-RIB. */
	parse_hex("800f03000201", "", S4, &u, &res);
	assert_true(u.eor);
	assert_int_equal(u.eor_afi, BGP_AFI_IPV6);
	bgp_update_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_details),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
