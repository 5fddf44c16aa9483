/*
 * Internals shared by the bgp/msg*.c files: path attribute type codes and
 * flags, the prefix walker, header writing, and result recording.
 */
#ifndef CGW_BGP_MSG_INT_H
#define CGW_BGP_MSG_INT_H

#include <stdarg.h>

#include "bgp/msg.h"

/* Path attribute flags (RFC 4271 4.3). */
#define BGP_AF_OPTIONAL 0x80
#define BGP_AF_TRANSITIVE 0x40
#define BGP_AF_PARTIAL 0x20
#define BGP_AF_EXTLEN 0x10

/* Path attribute type codes. */
enum bgp_attr_type {
	BGP_ATTR_ORIGIN = 1,
	BGP_ATTR_AS_PATH = 2,
	BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5,
	BGP_ATTR_ATOMIC_AGGREGATE = 6,
	BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8,
	BGP_ATTR_ORIGINATOR_ID = 9,
	BGP_ATTR_CLUSTER_LIST = 10,
	BGP_ATTR_MP_REACH = 14,
	BGP_ATTR_MP_UNREACH = 15,
	BGP_ATTR_EXT_COMMUNITIES = 16,
	BGP_ATTR_AS4_PATH = 17,
	BGP_ATTR_AS4_AGGREGATOR = 18,
	BGP_ATTR_IPV6_EXT_COMMUNITIES = 25,
	BGP_ATTR_LARGE_COMMUNITIES = 32,
};

/* AS_PATH segment types we refuse from a non-confederation peer (RFC 5065). */
#define BGP_AS_CONFED_SEQUENCE 3
#define BGP_AS_CONFED_SET 4

/* The expected Optional|Transitive bits of a type we know, or -1. */
int bgp_attr_known_flags(uint8_t type);
/* "AS_PATH", or NULL for a type we do not know. */
const char *bgp_attr_name(uint8_t type);

/*
 * Walk the prefixes (RFC 4271 4.3 encoding) of family af in r. With out
 * non-NULL, store them (host bits masked). Returns the count, or -EBADMSG
 * for a length over 32/128 or a prefix that overruns r.
 */
int bgp_nlri_walk(struct buf_reader r, int af, struct cgw_prefix *out);
/* Walk r twice: count, allocate, fill (*out NULL when none). 0 or -errno. */
int bgp_nlri_read(struct buf_reader r, int af, struct cgw_prefix **out, size_t *n);
/* Encoded size of a prefix: one length octet and ceil(len / 8) bytes. */
size_t bgp_prefix_wire_len(const struct cgw_prefix *p);
void bgp_prefix_put(struct buf_writer *w, const struct cgw_prefix *p);

/*
 * Record an error in res: act counts when stronger than what is there
 * (the first of the strongest wins: its reason, code, subcode and data).
 * data may be empty.
 */
void bgp_result_set(struct bgp_result *res, enum bgp_action act, uint8_t code,
		    uint8_t subcode, struct span data, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * UPDATE decoding state, shared by msg-update.c (structure, NLRI, MP
 * attributes, RFC 7606 decisions) and msg-attr.c (the other attributes).
 */
struct bgp_upd_ctx {
	const struct bgp_wire_opts *o;
	struct bgp_update *u;
	struct bgp_result *res;
	struct bgp_attrs *a;		/* being filled */
	int err;			/* -ENOMEM: stop */
	uint8_t seen[32];		/* types met, bit per type */
	struct span attr;		/* current attribute, flags to value */
	uint8_t flags, type;		/* of the current attribute */
	size_t n_nlri_field;		/* prefixes in the NLRI field */
	bool other_attrs;		/* any attribute but MP_UNREACH (7606 5.2) */
	bool mp_reach, mp_unreach;	/* parsed */
	bool mp_skipped;		/* MP_REACH NLRI of a family we skip */
	bool mp_nh4;			/* MP_REACH IPv4: next hop below */
	struct in_addr mp_next_hop;
	uint16_t mp_unreach_afi;
	uint8_t mp_unreach_safi;
	size_t mp_unreach_n;
	bool has_as4_path, has_as4_agg;	/* 2-octet session, well formed */
	struct span as4_path;		/* value */
	uint32_t as4_agg_as;
	struct in_addr as4_agg_addr;
};

bool bgp_upd_seen(const struct bgp_upd_ctx *c, uint8_t type);
/* Record an error about the current attribute (data: the attribute, or none). */
void bgp_upd_err(struct bgp_upd_ctx *c, enum bgp_action act, uint8_t subcode,
		 bool with_data, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Decode the current attribute's value v (flags, duplicates already checked). */
void bgp_attr_decode(struct bgp_upd_ctx *c, struct buf_reader *v);
/* RFC 6793 4.2.3: fold AS4_PATH and AS4_AGGREGATOR into c->a. */
void bgp_attr_as4_merge(struct bgp_upd_ctx *c);
/* RFC 4271 6.3: on eBGP the announced path starts with the peer's AS. */
void bgp_attr_check_first_as(struct bgp_upd_ctx *c);
/* Why an IPv4 next hop cannot be used (no host address, ours), or NULL. */
const char *bgp_next_hop4_invalid(const struct bgp_wire_opts *o, struct in_addr nh);
/* msg-update.c: the MP attributes, reached through bgp_attr_decode(). */
void bgp_mp_reach_decode(struct bgp_upd_ctx *c, struct buf_reader *v);
void bgp_mp_unreach_decode(struct bgp_upd_ctx *c, struct buf_reader *v);

/* A 16-bit length field counting the bytes written after it. */
void bgp_len16_begin(struct buf_writer *w, struct wr_mark *m);

/* Message header: marker, reserved length, type. */
void bgp_hdr_begin(struct buf_writer *w, uint8_t type, struct wr_mark *m);
/* Patch the length; 0, or -EMSGSIZE (and the writer failed) when over 4096. */
int bgp_hdr_end(struct buf_writer *w, const struct wr_mark *m);

#endif
