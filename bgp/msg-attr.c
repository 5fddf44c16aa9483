/*
 * UPDATE path attributes, one at a time: the rule table (type, expected
 * flags, what a flags conflict costs, decoder) and each attribute's checks
 * with the RFC 7606 7.x action when malformed; unknown attributes by their
 * flags (RFC 4271 5, 9); the AS4_PATH/AS4_AGGREGATOR merge for 2-octet
 * sessions (RFC 6793 4.2.3).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/msg-int.h"

#define O BGP_AF_OPTIONAL
#define T BGP_AF_TRANSITIVE

typedef void (*attr_decode_fn)(struct bgp_upd_ctx *c, struct buf_reader *v);

struct attr_rule {
	uint8_t type;
	uint8_t flags;			/* expected Optional|Transitive */
	enum bgp_action flags_act;	/* when they conflict (7606 3.c) */
	const char *name;
	attr_decode_fn decode;
};

static void dec_origin(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_as_path(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_next_hop(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_med(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_local_pref(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_atomic(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_aggregator(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_communities(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_ibgp_only(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_multiple(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_as4_path(struct bgp_upd_ctx *c, struct buf_reader *v);
static void dec_as4_aggregator(struct bgp_upd_ctx *c, struct buf_reader *v);

/*
 * Attributes we know. A flags conflict is treat-as-withdraw (7606 3.c)
 * except where the attribute's own rules say otherwise: MP_* cannot be
 * trusted to locate NLRI (3.j, session reset), AS4_* errors are attribute
 * discard (RFC 6793 6).
 */
static const struct attr_rule rules[] = {
	{ BGP_ATTR_ORIGIN, T, BGP_ACT_WITHDRAW, "ORIGIN", dec_origin },
	{ BGP_ATTR_AS_PATH, T, BGP_ACT_WITHDRAW, "AS_PATH", dec_as_path },
	{ BGP_ATTR_NEXT_HOP, T, BGP_ACT_WITHDRAW, "NEXT_HOP", dec_next_hop },
	{ BGP_ATTR_MED, O, BGP_ACT_WITHDRAW, "MULTI_EXIT_DISC", dec_med },
	{ BGP_ATTR_LOCAL_PREF, T, BGP_ACT_WITHDRAW, "LOCAL_PREF", dec_local_pref },
	{ BGP_ATTR_ATOMIC_AGGREGATE, T, BGP_ACT_WITHDRAW, "ATOMIC_AGGREGATE", dec_atomic },
	{ BGP_ATTR_AGGREGATOR, O | T, BGP_ACT_WITHDRAW, "AGGREGATOR", dec_aggregator },
	{ BGP_ATTR_COMMUNITIES, O | T, BGP_ACT_WITHDRAW, "COMMUNITIES", dec_communities },
	{ BGP_ATTR_ORIGINATOR_ID, O, BGP_ACT_WITHDRAW, "ORIGINATOR_ID", dec_ibgp_only },
	{ BGP_ATTR_CLUSTER_LIST, O, BGP_ACT_WITHDRAW, "CLUSTER_LIST", dec_ibgp_only },
	{ BGP_ATTR_MP_REACH, O, BGP_ACT_RESET, "MP_REACH_NLRI", bgp_mp_reach_decode },
	{ BGP_ATTR_MP_UNREACH, O, BGP_ACT_RESET, "MP_UNREACH_NLRI", bgp_mp_unreach_decode },
	{ BGP_ATTR_EXT_COMMUNITIES, O | T, BGP_ACT_WITHDRAW, "EXTENDED_COMMUNITIES",
	  dec_multiple },
	{ BGP_ATTR_AS4_PATH, O | T, BGP_ACT_DISCARD, "AS4_PATH", dec_as4_path },
	{ BGP_ATTR_AS4_AGGREGATOR, O | T, BGP_ACT_DISCARD, "AS4_AGGREGATOR",
	  dec_as4_aggregator },
	{ BGP_ATTR_IPV6_EXT_COMMUNITIES, O | T, BGP_ACT_WITHDRAW,
	  "IPV6_EXTENDED_COMMUNITIES", dec_multiple },
	{ BGP_ATTR_LARGE_COMMUNITIES, O | T, BGP_ACT_WITHDRAW, "LARGE_COMMUNITIES",
	  dec_multiple },
};

static const struct attr_rule *rule_find(uint8_t type)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

int bgp_attr_known_flags(uint8_t type)
{
	const struct attr_rule *r = rule_find(type);

	return r ? r->flags : -1;
}

const char *bgp_attr_name(uint8_t type)
{
	const struct attr_rule *r = rule_find(type);

	return r ? r->name : NULL;
}

/* "AS_PATH" or "attribute 99", for messages about the current attribute. */
static const char *cur_name(const struct bgp_upd_ctx *c, char *buf, size_t len)
{
	const char *n = bgp_attr_name(c->type);

	if (n)
		return n;
	snprintf(buf, len, "attribute %u", c->type);
	return buf;
}

void bgp_upd_err(struct bgp_upd_ctx *c, enum bgp_action act, uint8_t subcode,
		 bool with_data, const char *fmt, ...)
{
	char why[112], nbuf[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	bgp_result_set(c->res, act, BGP_ERR_UPDATE, subcode,
		       with_data ? c->attr : (struct span){ NULL, 0 }, "%s: %s",
		       cur_name(c, nbuf, sizeof(nbuf)), why);
}

bool bgp_upd_seen(const struct bgp_upd_ctx *c, uint8_t type)
{
	return c->seen[type / 8] & (1u << (type % 8));
}

/* Keep an optional transitive attribute as it came (recognized or not). */
static void keep_raw(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	struct bgp_attrs *a = c->a;
	struct bgp_raw_attr *u;
	struct span s = rd_rest(v);

	u = realloc(a->unknown, (a->n_unknown + 1) * sizeof(*u));
	if (!u) {
		c->err = -ENOMEM;
		return;
	}
	a->unknown = u;
	u = &a->unknown[a->n_unknown];
	u->flags = c->flags & 0xf0;
	u->type = c->type;
	u->len = (uint16_t)s.len;
	u->data = NULL;
	if (s.len) {
		u->data = malloc(s.len);
		if (!u->data) {
			c->err = -ENOMEM;
			return;
		}
		memcpy(u->data, s.p, s.len);
	}
	a->n_unknown++;
}

void bgp_attr_decode(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	const struct attr_rule *r = rule_find(c->type);

	if (!r) {
		/* RFC 4271 9: well-known we do not know is an error; optional
		 * non-transitive is ignored; optional transitive passed on. */
		if (!(c->flags & O))
			bgp_upd_err(c, BGP_ACT_RESET, BGP_SUB_UPDATE_UNRECOGNIZED_WELLKNOWN,
				    true, "unrecognized well-known attribute");
		else if (c->flags & T)
			keep_raw(c, v);
		return;
	}
	if ((c->flags & (O | T)) != r->flags) {
		bgp_upd_err(c, r->flags_act, BGP_SUB_UPDATE_ATTR_FLAGS, true,
			    "flags 0x%02x, expected 0x%02x", c->flags & (O | T), r->flags);
		return;
	}
	r->decode(c, v);
}

/* A fixed length check: false (and the action recorded) when it fails. */
static bool want_len(struct bgp_upd_ctx *c, struct buf_reader *v, size_t len,
		     enum bgp_action act)
{
	if (rd_left(v) == len)
		return true;
	bgp_upd_err(c, act, BGP_SUB_UPDATE_ATTR_LEN, true, "length %zu, expected %zu",
		    rd_left(v), len);
	return false;
}

/* RFC 7606 7.1 */
static void dec_origin(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	uint8_t origin;

	if (!want_len(c, v, 1, BGP_ACT_WITHDRAW))
		return;
	rd_u8(v, &origin);
	if (origin > BGP_ORIGIN_INCOMPLETE) {
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_INVALID_ORIGIN, true,
			    "undefined value %u", origin);
		return;
	}
	c->a->origin = origin;
}

/*
 * Segments of an AS_PATH or AS4_PATH (RFC 7606 7.2). With out NULL, only
 * count them into *n. NULL when well formed, else why not.
 */
static const char *path_walk(struct buf_reader r, size_t asn, struct bgp_as_seg *out,
			     size_t *n, int *err)
{
	size_t i = 0;

	for (; rd_left(&r) > 0; i++) {
		uint8_t type, len;

		if (rd_left(&r) < 2)
			return "a single octet after the last segment";
		rd_u8(&r, &type);
		rd_u8(&r, &len);
		if (type == BGP_AS_CONFED_SEQUENCE || type == BGP_AS_CONFED_SET)
			return "confederation segment from a non-confederation peer";
		if (type != BGP_AS_SET && type != BGP_AS_SEQUENCE)
			return "unknown segment type";
		if (len == 0)
			return "empty segment";
		if (rd_left(&r) < len * asn)
			return "segment overruns the attribute";
		if (!out) {
			rd_skip(&r, len * asn);
			continue;
		}
		out[i].type = type;
		out[i].len = len;
		out[i].as = malloc(len * sizeof(uint32_t));
		if (!out[i].as) {
			*err = -ENOMEM;
			return "out of memory";
		}
		for (size_t j = 0; j < len; j++) {
			uint16_t as2;

			if (asn == 4) {
				rd_be32(&r, &out[i].as[j]);
			} else {
				rd_be16(&r, &as2);
				out[i].as[j] = as2;
			}
		}
	}
	*n = i;
	return NULL;
}

static void segs_free(struct bgp_as_seg *segs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(segs[i].as);
	free(segs);
}

/* Decode a path into a new array; NULL on success, else why (*segs NULL). */
static const char *path_read(struct buf_reader r, size_t asn, struct bgp_as_seg **segs,
			     size_t *n, int *err)
{
	const char *why = path_walk(r, asn, NULL, n, err);

	*segs = NULL;
	if (why || *n == 0)
		return why;
	*segs = calloc(*n, sizeof(**segs));
	if (!*segs) {
		*err = -ENOMEM;
		return "out of memory";
	}
	why = path_walk(r, asn, *segs, n, err);
	if (why) {
		segs_free(*segs, *n);
		*segs = NULL;
		*n = 0;
	}
	return why;
}

static void dec_as_path(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	struct bgp_as_seg *segs;
	size_t n = 0;
	const char *why = path_read(*v, c->o->four_octet ? 4 : 2, &segs, &n, &c->err);

	if (why) {
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_MALFORMED_AS_PATH, false,
			    "%s", why);
		return;
	}
	c->a->segs = segs;
	c->a->n_segs = n;
}

const char *bgp_next_hop4_invalid(const struct bgp_wire_opts *o, struct in_addr nh)
{
	uint32_t a = ntohl(nh.s_addr), local = ntohl(o->local.s_addr);

	if (a >> 24 == 0)
		return "is not a host address (0.0.0.0/8)";
	/* a loopback session (tests, a local route server) may use its own */
	if (a >> 24 == 127 && local && local >> 24 != 127)
		return "is a loopback address";
	if (a >= 0xe0000000u)
		return "is multicast, reserved or broadcast";
	if (local && a == local)
		return "is our own address";
	return NULL;
}

/*
 * RFC 7606 7.3 the length; RFC 4271 6.3 the meaning, when the NLRI field
 * uses it: a next hop that is no host address, or is ours, makes the
 * routes unusable (treat-as-withdraw, as a malformed one).
 */
static void dec_next_hop(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	char buf[INET_ADDRSTRLEN];
	const char *why;

	if (!want_len(c, v, 4, BGP_ACT_WITHDRAW))
		return;
	rd_bytes(v, &c->a->next_hop, 4);
	if (c->n_nlri_field == 0)
		return;
	why = bgp_next_hop4_invalid(c->o, c->a->next_hop);
	if (why)
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_INVALID_NEXT_HOP, true, "%s %s",
			    inet_ntop(AF_INET, &c->a->next_hop, buf, sizeof(buf)), why);
}

/* RFC 7606 7.4 */
static void dec_med(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	if (want_len(c, v, 4, BGP_ACT_WITHDRAW)) {
		rd_be32(v, &c->a->med);
		c->a->has_med = true;
	}
}

/* RFC 7606 7.5: from an external peer it is discarded whatever it holds. */
static void dec_local_pref(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	if (c->o->ebgp) {
		bgp_upd_err(c, BGP_ACT_DISCARD, 0, false, "from an external peer");
		return;
	}
	if (want_len(c, v, 4, BGP_ACT_WITHDRAW)) {
		rd_be32(v, &c->a->local_pref);
		c->a->has_local_pref = true;
	}
}

/* RFC 7606 7.6 */
static void dec_atomic(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	if (want_len(c, v, 0, BGP_ACT_DISCARD))
		c->a->atomic_aggregate = true;
}

/* RFC 7606 7.7: 6 octets on a 2-octet session, 8 on a 4-octet one. */
static void dec_aggregator(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	uint16_t as2;

	if (!want_len(c, v, c->o->four_octet ? 8 : 6, BGP_ACT_DISCARD))
		return;
	if (c->o->four_octet) {
		rd_be32(v, &c->a->aggregator_as);
	} else {
		rd_be16(v, &as2);
		c->a->aggregator_as = as2;
	}
	rd_bytes(v, &c->a->aggregator_addr, 4);
	c->a->has_aggregator = true;
}

/* RFC 7606 7.8: a non-zero multiple of 4. */
static void dec_communities(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	size_t n = rd_left(v) / 4;

	if (rd_left(v) == 0 || rd_left(v) % 4) {
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_OPTIONAL_ATTR, true,
			    "length %zu, not a non-zero multiple of 4", rd_left(v));
		return;
	}
	c->a->communities = calloc(n, sizeof(uint32_t));
	if (!c->a->communities) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++)
		rd_be32(v, &c->a->communities[i]);
	c->a->n_communities = n;
}

/*
 * RFC 7606 7.9, 7.10: ORIGINATOR_ID (4) and CLUSTER_LIST (non-zero
 * multiple of 4) are discarded from an external peer; from an internal
 * one checked, then dropped (we reflect nothing, they are non-transitive).
 */
static void dec_ibgp_only(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	size_t len = rd_left(v);
	bool ok = c->type == BGP_ATTR_ORIGINATOR_ID ? len == 4 : len && len % 4 == 0;

	if (c->o->ebgp)
		bgp_upd_err(c, BGP_ACT_DISCARD, 0, false, "from an external peer");
	else if (!ok)
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_ATTR_LEN, true,
			    "bad length %zu", len);
}

/*
 * Lists of fixed-size entries passed on as they are: extended communities
 * (8, RFC 7606 7.14), IPv6 extended communities (20, 7.15), large
 * communities (12, RFC 8092 6). Malformed: treat-as-withdraw.
 */
static void dec_multiple(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	size_t unit = c->type == BGP_ATTR_EXT_COMMUNITIES ? 8 :
		      c->type == BGP_ATTR_LARGE_COMMUNITIES ? 12 : 20;

	if (rd_left(v) == 0 || rd_left(v) % unit) {
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_OPTIONAL_ATTR, true,
			    "length %zu, not a non-zero multiple of %zu", rd_left(v), unit);
		return;
	}
	keep_raw(c, v);
}

/* RFC 6793 4.2.3, 6: only from a 2-octet peer; any error is attribute discard. */
static void dec_as4_path(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	size_t n;
	const char *why;

	if (c->o->four_octet) {
		bgp_upd_err(c, BGP_ACT_DISCARD, 0, false, "from a 4-octet AS peer");
		return;
	}
	why = path_walk(*v, 4, NULL, &n, &c->err);
	if (why) {
		bgp_upd_err(c, BGP_ACT_DISCARD, BGP_SUB_UPDATE_OPTIONAL_ATTR, true, "%s", why);
		return;
	}
	c->as4_path = rd_rest(v);
	c->has_as4_path = true;
}

static void dec_as4_aggregator(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	if (c->o->four_octet) {
		bgp_upd_err(c, BGP_ACT_DISCARD, 0, false, "from a 4-octet AS peer");
		return;
	}
	if (!want_len(c, v, 8, BGP_ACT_DISCARD))
		return;
	rd_be32(v, &c->as4_agg_as);
	rd_bytes(v, &c->as4_agg_addr, 4);
	c->has_as4_agg = true;
}

/* ASes a path counts for, an AS_SET as one (RFC 6793 4.2.3). */
static size_t path_count(const struct bgp_as_seg *segs, size_t n)
{
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++)
		cnt += segs[i].type == BGP_AS_SET ? 1 : segs[i].len;
	return cnt;
}

/*
 * The leading part of AS_PATH that AS4_PATH lacks (keep ASes), then
 * AS4_PATH: into a new segment array. 0 or -ENOMEM.
 */
static int path_splice(struct bgp_attrs *a, size_t keep, struct bgp_as_seg *segs4,
		       size_t n4)
{
	struct bgp_as_seg *out = calloc(a->n_segs + n4, sizeof(*out));
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_segs && keep > 0; i++, n++) {
		struct bgp_as_seg *s = &a->segs[i];
		size_t take = s->type == BGP_AS_SET ? s->len : (s->len < keep ? s->len : keep);

		out[n].type = s->type;
		out[n].len = (uint8_t)take;
		out[n].as = s->as;		/* moved; shortened in place */
		s->as = NULL;
		keep -= s->type == BGP_AS_SET ? 1 : take;
	}
	if (n4)
		memcpy(out + n, segs4, n4 * sizeof(*out));
	segs_free(a->segs, a->n_segs);
	free(segs4);
	a->segs = out;
	a->n_segs = n + n4;
	return 0;
}

void bgp_attr_as4_merge(struct bgp_upd_ctx *c)
{
	struct bgp_attrs *a = c->a;
	struct bgp_as_seg *segs4;
	struct buf_reader r;
	size_t n4 = 0, cnt, cnt4;

	if (c->o->four_octet)
		return;
	/* An AGGREGATOR that is not AS_TRANS: both AS4_* are ignored. */
	if (a->has_aggregator && a->aggregator_as != BGP_AS_TRANS)
		return;
	if (a->has_aggregator && c->has_as4_agg) {
		a->aggregator_as = c->as4_agg_as;
		a->aggregator_addr = c->as4_agg_addr;
	}
	if (!c->has_as4_path || !bgp_upd_seen(c, BGP_ATTR_AS_PATH))
		return;
	rd_init(&r, c->as4_path.p, c->as4_path.len);
	if (path_read(r, 4, &segs4, &n4, &c->err))
		return;
	cnt = path_count(a->segs, a->n_segs);
	cnt4 = path_count(segs4, n4);
	/* A longer AS4_PATH than AS_PATH is ignored. */
	if (cnt < cnt4) {
		segs_free(segs4, n4);
		return;
	}
	if (path_splice(a, cnt - cnt4, segs4, n4) < 0) {
		c->err = -ENOMEM;
		segs_free(segs4, n4);
	}
}

/*
 * RFC 4271 6.3: routes from an external peer carry its AS first; RFC 7606
 * 7.2 makes a violation Malformed AS_PATH, treat-as-withdraw. Checked on
 * the merged path (a 2-octet peer's AS_TRANS is replaced by AS4_PATH).
 */
void bgp_attr_check_first_as(struct bgp_upd_ctx *c)
{
	const struct bgp_attrs *a = c->a;
	uint32_t first = bgp_as_path_first(a), want = c->o->peer_as;

	if (!c->o->ebgp || want == 0 || !bgp_upd_seen(c, BGP_ATTR_AS_PATH) ||
	    c->res->action >= BGP_ACT_WITHDRAW ||
	    (c->u->n_nlri == 0 && c->u->n_nlri6 == 0) || first == want)
		return;
	if (!c->o->four_octet && want > UINT16_MAX && first == BGP_AS_TRANS)
		return;
	if (a->n_segs == 0)
		bgp_result_set(c->res, BGP_ACT_WITHDRAW, BGP_ERR_UPDATE,
			       BGP_SUB_UPDATE_MALFORMED_AS_PATH, (struct span){ NULL, 0 },
			       "AS_PATH: empty, its first AS must be the peer's %u", want);
	else if (first == 0)
		bgp_result_set(c->res, BGP_ACT_WITHDRAW, BGP_ERR_UPDATE,
			       BGP_SUB_UPDATE_MALFORMED_AS_PATH, (struct span){ NULL, 0 },
			       "AS_PATH: starts with an AS_SET, its first AS must be the "
			       "peer's %u", want);
	else
		bgp_result_set(c->res, BGP_ACT_WITHDRAW, BGP_ERR_UPDATE,
			       BGP_SUB_UPDATE_MALFORMED_AS_PATH, (struct span){ NULL, 0 },
			       "AS_PATH: first AS %u, not the peer's %u", first, want);
}
