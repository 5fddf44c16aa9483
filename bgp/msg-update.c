/*
 * UPDATE messages (RFC 4271 4.3) with the revised error handling of RFC
 * 7606: the three length-delimited fields, NLRI, the attribute walk, the
 * MP_REACH/MP_UNREACH attributes (RFC 4760) and the final decision.
 *
 * Who decides what (RFC 7606 section):
 *   session reset  lengths that do not add up (3.b), a bad prefix in the
 *                  Withdrawn Routes or NLRI field (5.3), malformed or
 *                  repeated MP_* (3.g, 3.j, 7.11), unknown well-known
 *                  attribute (RFC 4271 6.3), and any withdraw-class error
 *                  when nothing reachable can be withdrawn (5.2);
 *   withdraw       attribute overrunning the attribute field (4), flags
 *                  conflict (3.c), missing well-known (3.d), and the
 *                  per-attribute rules of msg-attr.c (7.1-7.10);
 *   discard        repeated attributes but the first (3.g), and the
 *                  per-attribute rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/msg-int.h"

void bgp_update_free(struct bgp_update *u)
{
	free(u->withdrawn);
	free(u->nlri);
	free(u->withdrawn6);
	free(u->nlri6);
	bgp_attrs_unref(u->attrs);
	memset(u, 0, sizeof(*u));
}

/* Append src[0..n) to *dst (n_dst entries). 0 or -ENOMEM. */
static int prefixes_append(struct cgw_prefix **dst, size_t *n_dst,
			   const struct cgw_prefix *src, size_t n)
{
	struct cgw_prefix *p;

	if (n == 0)
		return 0;
	p = realloc(*dst, (*n_dst + n) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p + *n_dst, src, n * sizeof(*p));
	*dst = p;
	*n_dst += n;
	return 0;
}

/* MP NLRI of a family we keep, appended to list; malformed: session reset. */
static void mp_prefixes(struct bgp_upd_ctx *c, struct buf_reader *r, int af,
			struct cgw_prefix **list, size_t *n)
{
	struct cgw_prefix *p;
	size_t cnt;
	int rc = bgp_nlri_read(*r, af, &p, &cnt);

	if (rc == -EBADMSG) {
		bgp_upd_err(c, BGP_ACT_RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, true,
			    "malformed NLRI");
		return;
	}
	if (rc == 0 && prefixes_append(list, n, p, cnt) < 0)
		rc = -ENOMEM;
	if (rc < 0)
		c->err = rc;
	free(p);
}

static bool mp_family(uint16_t afi, uint8_t safi, int *af)
{
	if (safi != BGP_SAFI_UNICAST)
		return false;
	*af = afi == BGP_AFI_IPV4 ? AF_INET : afi == BGP_AFI_IPV6 ? AF_INET6 : 0;
	return *af != 0;
}

/* MP_REACH next hop: 4 octets for IPv4, 16 or 32 (global, link-local) for IPv6. */
static bool mp_next_hop(struct bgp_upd_ctx *c, int af, struct span nh)
{
	if (af == AF_INET && nh.len == 4) {
		memcpy(&c->mp_next_hop, nh.p, 4);
		c->mp_nh4 = true;
		return true;
	}
	if (af == AF_INET6 && (nh.len == 16 || nh.len == 32)) {
		memcpy(&c->u->next_hop6, nh.p, 16);
		c->u->has_next_hop6_ll = nh.len == 32;
		if (nh.len == 32)
			memcpy(&c->u->next_hop6_ll, nh.p + 16, 16);
		return true;
	}
	return false;
}

/* RFC 4760 3, RFC 7606 7.11: any error here is a session reset. */
void bgp_mp_reach_decode(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	char buf[INET_ADDRSTRLEN];
	uint16_t afi;
	uint8_t safi, nh_len, rsvd;
	struct span nh;
	const char *why;
	size_t before;
	int af;

	rd_be16(v, &afi);
	rd_u8(v, &safi);
	rd_u8(v, &nh_len);
	rd_span(v, nh_len, &nh);
	if (rd_u8(v, &rsvd) < 0) {
		bgp_upd_err(c, BGP_ACT_RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, true,
			    "truncated");
		return;
	}
	c->mp_reach = true;
	if (!mp_family(afi, safi, &af)) {
		c->mp_skipped = rd_left(v) > 0;
		bgp_upd_err(c, BGP_ACT_DISCARD, 0, false, "AFI %u SAFI %u not supported",
			    afi, safi);
		return;
	}
	if (!mp_next_hop(c, af, nh)) {
		bgp_upd_err(c, BGP_ACT_RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, true,
			    "next hop length %u for AFI %u", nh_len, afi);
		return;
	}
	if (af == AF_INET6) {
		mp_prefixes(c, v, af, &c->u->nlri6, &c->u->n_nlri6);
		return;
	}
	before = c->u->n_nlri;
	mp_prefixes(c, v, af, &c->u->nlri, &c->u->n_nlri);
	/* RFC 4271 6.3 as for NEXT_HOP: unusable routes, treat-as-withdraw */
	why = c->u->n_nlri > before ? bgp_next_hop4_invalid(c->o, c->mp_next_hop) : NULL;
	if (why)
		bgp_upd_err(c, BGP_ACT_WITHDRAW, BGP_SUB_UPDATE_INVALID_NEXT_HOP, true,
			    "next hop %s %s", inet_ntop(AF_INET, &c->mp_next_hop, buf,
							 sizeof(buf)), why);
}

/* RFC 4760 4, RFC 7606 7.12. */
void bgp_mp_unreach_decode(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	uint16_t afi;
	uint8_t safi;
	int af;

	rd_be16(v, &afi);
	if (rd_u8(v, &safi) < 0) {
		bgp_upd_err(c, BGP_ACT_RESET, BGP_SUB_UPDATE_OPTIONAL_ATTR, true,
			    "truncated");
		return;
	}
	c->mp_unreach = true;
	c->mp_unreach_afi = afi;
	c->mp_unreach_safi = safi;
	c->mp_unreach_n = rd_left(v);
	if (!mp_family(afi, safi, &af)) {
		if (rd_left(v))
			bgp_upd_err(c, BGP_ACT_DISCARD, 0, false,
				    "AFI %u SAFI %u not supported", afi, safi);
		return;
	}
	if (af == AF_INET)
		mp_prefixes(c, v, af, &c->u->withdrawn, &c->u->n_withdrawn);
	else
		mp_prefixes(c, v, af, &c->u->withdrawn6, &c->u->n_withdrawn6);
}

/* One attribute, its header read: duplicates (7606 3.g), then the rules. */
static void attr_one(struct bgp_upd_ctx *c, struct buf_reader *v)
{
	bool mp = c->type == BGP_ATTR_MP_REACH || c->type == BGP_ATTR_MP_UNREACH;

	if (c->type != BGP_ATTR_MP_UNREACH)
		c->other_attrs = true;
	if (bgp_upd_seen(c, c->type)) {
		if (mp)
			bgp_upd_err(c, BGP_ACT_RESET, BGP_SUB_UPDATE_MALFORMED_ATTR_LIST,
				    false, "appears twice");
		else
			bgp_upd_err(c, BGP_ACT_DISCARD, 0, false,
				    "repeated, all but the first discarded");
		return;
	}
	c->seen[c->type / 8] |= (uint8_t)(1u << (c->type % 8));
	bgp_attr_decode(c, v);
}

/*
 * The path attribute field. An attribute header or value that overruns it
 * is treat-as-withdraw (7606 4), a session reset when it is an MP_* one
 * (its NLRI cannot be parsed, 3.j).
 */
static void attrs_walk(struct bgp_upd_ctx *c, struct buf_reader *r)
{
	while (rd_left(r) > 0 && !c->err && c->res->action != BGP_ACT_RESET) {
		const uint8_t *start = rd_ptr(r, 0);
		size_t left = rd_left(r), hlen;
		struct buf_reader v;
		uint16_t len = 0;
		uint8_t l8;

		rd_u8(r, &c->flags);
		rd_u8(r, &c->type);
		hlen = c->flags & BGP_AF_EXTLEN ? 4 : 3;
		if (c->flags & BGP_AF_EXTLEN)
			rd_be16(r, &len);
		else if (rd_u8(r, &l8) == 0)
			len = l8;
		c->attr = (struct span){ start, left };
		if (rd_failed(r) || rd_sub(r, len, &v) < 0) {
			bool mp = left >= 2 && (c->type == BGP_ATTR_MP_REACH ||
						c->type == BGP_ATTR_MP_UNREACH);

			if (left < 2)
				c->type = 0;
			bgp_upd_err(c, mp ? BGP_ACT_RESET : BGP_ACT_WITHDRAW,
				    mp ? BGP_SUB_UPDATE_OPTIONAL_ATTR : BGP_SUB_UPDATE_ATTR_LEN,
				    true, "%s overruns the path attributes",
				    left < hlen ? "header" : "length");
			c->other_attrs = true;
			return;
		}
		c->attr.len = hlen + len;
		attr_one(c, &v);
	}
}

/* RFC 7606 3.d: ORIGIN and AS_PATH with any NLRI, NEXT_HOP with the NLRI field. */
static void check_mandatory(struct bgp_upd_ctx *c)
{
	static const uint8_t need[] = { BGP_ATTR_ORIGIN, BGP_ATTR_AS_PATH, BGP_ATTR_NEXT_HOP };

	if (c->u->n_nlri == 0 && c->u->n_nlri6 == 0)
		return;
	for (size_t i = 0; i < sizeof(need); i++) {
		uint8_t t = need[i];

		if (bgp_upd_seen(c, t) || (t == BGP_ATTR_NEXT_HOP && c->n_nlri_field == 0))
			continue;
		bgp_result_set(c->res, BGP_ACT_WITHDRAW, BGP_ERR_UPDATE,
			       BGP_SUB_UPDATE_MISSING_WELLKNOWN, (struct span){ &need[i], 1 },
			       "missing well-known attribute %s", bgp_attr_name(t));
	}
}

/* The fields of RFC 4271 4.3, each in its own reader (7606 3.b, 5.3). */
static int fields_split(struct bgp_upd_ctx *c, struct buf_reader *r, struct buf_reader *wd,
			struct buf_reader *attrs)
{
	uint16_t wlen = 0, alen = 0;

	rd_be16(r, &wlen);
	rd_sub(r, wlen, wd);
	rd_be16(r, &alen);
	if (rd_sub(r, alen, attrs) < 0) {
		bgp_result_set(c->res, BGP_ACT_RESET, BGP_ERR_UPDATE,
			       BGP_SUB_UPDATE_MALFORMED_ATTR_LIST, (struct span){ NULL, 0 },
			       "withdrawn routes length %u and path attribute length %u "
			       "exceed the message", wlen, alen);
		return -EBADMSG;
	}
	return 0;
}

/* Withdrawn Routes and NLRI fields: a bad prefix is a session reset (5.3). */
static int field_prefixes(struct bgp_upd_ctx *c, struct buf_reader r, const char *field,
			  struct cgw_prefix **list, size_t *n)
{
	int rc = bgp_nlri_read(r, AF_INET, list, n);

	if (rc == -EBADMSG)
		bgp_result_set(c->res, BGP_ACT_RESET, BGP_ERR_UPDATE,
			       BGP_SUB_UPDATE_INVALID_NETWORK, (struct span){ NULL, 0 },
			       "%s field: prefix longer than 32 bits or overrunning "
			       "the field", field);
	return rc;
}

/* RFC 4724 2: empty UPDATE, or a lone empty MP_UNREACH. */
static void detect_eor(struct bgp_upd_ctx *c, size_t body_len)
{
	struct bgp_update *u = c->u;

	if (body_len == 4) {
		u->eor = true;
		u->eor_afi = BGP_AFI_IPV4;
		u->eor_safi = BGP_SAFI_UNICAST;
	} else if (c->mp_unreach && !c->other_attrs && c->mp_unreach_n == 0 &&
		   !u->n_withdrawn && !u->n_nlri) {
		u->eor = true;
		u->eor_afi = c->mp_unreach_afi;
		u->eor_safi = c->mp_unreach_safi;
	}
}

/* Apply the decision: what is announced, what becomes withdrawn. */
static int finish(struct bgp_upd_ctx *c)
{
	struct bgp_update *u = c->u;
	bool reach = u->n_nlri || u->n_nlri6 || c->mp_skipped;

	/* 7606 5.2: nothing to withdraw, so nothing short of a reset is safe. */
	if (c->res->action == BGP_ACT_WITHDRAW && !reach && c->other_attrs) {
		char why[sizeof(c->res->reason)];

		memcpy(why, c->res->reason, sizeof(why));
		c->res->action = BGP_ACT_RESET;
		snprintf(c->res->reason, sizeof(c->res->reason),
			 "%.120s, and no NLRI to withdraw", why);
	}
	if (c->res->action == BGP_ACT_RESET)
		return -EBADMSG;
	if (c->res->action == BGP_ACT_WITHDRAW) {
		if (prefixes_append(&u->withdrawn, &u->n_withdrawn, u->nlri, u->n_nlri) < 0 ||
		    prefixes_append(&u->withdrawn6, &u->n_withdrawn6, u->nlri6, u->n_nlri6) < 0)
			return -ENOMEM;
		free(u->nlri);
		free(u->nlri6);
		u->nlri = u->nlri6 = NULL;
		u->n_nlri = u->n_nlri6 = 0;
		return 0;
	}
	if (u->n_nlri || u->n_nlri6) {
		if (c->mp_nh4)
			c->a->next_hop = c->mp_next_hop;
		bgp_attrs_seal(c->a);
		u->attrs = c->a;
		c->a = NULL;
	}
	return 0;
}

int bgp_update_parse(const void *body, size_t len, const struct bgp_wire_opts *o,
		     struct bgp_update *u, struct bgp_result *res)
{
	struct bgp_upd_ctx c = { .o = o, .u = u, .res = res };
	struct buf_reader r, wd, attrs, nr;
	int rc;

	memset(u, 0, sizeof(*u));
	bgp_result_clear(res);
	rd_init(&r, body, len);
	rc = fields_split(&c, &r, &wd, &attrs);
	if (rc == 0) {
		nr = r;
		rc = field_prefixes(&c, wd, "withdrawn routes", &u->withdrawn,
				    &u->n_withdrawn);
	}
	if (rc == 0)
		rc = field_prefixes(&c, nr, "NLRI", &u->nlri, &u->n_nlri);
	c.n_nlri_field = u->n_nlri;
	if (rc == 0) {
		c.a = bgp_attrs_new();
		rc = c.a ? 0 : -ENOMEM;
	}
	if (rc == 0) {
		attrs_walk(&c, &attrs);
		rc = c.err;
	}
	if (rc == 0 && res->action != BGP_ACT_RESET) {
		bgp_attr_as4_merge(&c);
		bgp_attr_check_first_as(&c);
		check_mandatory(&c);
		detect_eor(&c, len);
		rc = c.err ? c.err : finish(&c);
	} else if (rc == 0) {
		rc = -EBADMSG;
	}
	bgp_attrs_unref(c.a);
	if (rc < 0)
		bgp_update_free(u);
	return rc;
}
