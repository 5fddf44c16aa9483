/*
 * BGP wire layer, send side: message headers, KEEPALIVE, NOTIFICATION,
 * ROUTE-REFRESH, and UPDATEs from a struct bgp_attrs and prefix lists,
 * split so no message passes 4096 bytes (RFC 4271 4.3), with AS_PATH and
 * AGGREGATOR encoded for the session's AS size (RFC 6793 4.2.2).
 */
#include <errno.h>
#include <string.h>

#include "bgp/msg-int.h"

static const uint8_t marker[BGP_MARKER_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

void bgp_hdr_begin(struct buf_writer *w, uint8_t type, struct wr_mark *m)
{
	size_t start = wr_len(w);

	wr_bytes(w, marker, sizeof(marker));
	wr_reserve16(w, start, m);
	wr_u8(w, type);
}

void bgp_len16_begin(struct buf_writer *w, struct wr_mark *m)
{
	m->field = wr_len(w);
	m->width = 2;
	wr_be16(w, 0);
	m->start = wr_len(w);
}

int bgp_hdr_end(struct buf_writer *w, const struct wr_mark *m)
{
	if (!wr_failed(w) && wr_len(w) - m->start > BGP_MSG_MAX)
		wr_fail(w);
	wr_patch_length(w, m);
	return wr_failed(w) ? -EMSGSIZE : 0;
}

/* Where the current message must end: 4096 bytes or the writer's room. */
static size_t msg_limit(const struct buf_writer *w, const struct wr_mark *m)
{
	size_t limit = m->start + BGP_MSG_MAX;

	return limit < w->cap ? limit : w->cap;
}

int bgp_build_keepalive(struct buf_writer *w)
{
	struct wr_mark m;

	bgp_hdr_begin(w, BGP_MSG_KEEPALIVE, &m);
	return bgp_hdr_end(w, &m);
}

int bgp_build_notification(struct buf_writer *w, const struct bgp_notif *n)
{
	struct wr_mark m;

	if (n->data_len > BGP_NOTIF_DATA_MAX)
		return -EINVAL;
	bgp_hdr_begin(w, BGP_MSG_NOTIFICATION, &m);
	wr_u8(w, n->code);
	wr_u8(w, n->subcode);
	wr_bytes(w, n->data, n->data_len);
	return bgp_hdr_end(w, &m);
}

int bgp_build_route_refresh(struct buf_writer *w, const struct bgp_route_refresh *rr)
{
	struct wr_mark m;

	bgp_hdr_begin(w, BGP_MSG_ROUTE_REFRESH, &m);
	wr_be16(w, rr->afi);
	wr_u8(w, rr->subtype);
	wr_u8(w, rr->safi);
	return bgp_hdr_end(w, &m);
}

size_t bgp_prefix_wire_len(const struct cgw_prefix *p)
{
	return 1 + ((size_t)p->len + 7) / 8;
}

void bgp_prefix_put(struct buf_writer *w, const struct cgw_prefix *p)
{
	uint8_t bytes[16] = { 0 };
	size_t n = ((size_t)p->len + 7) / 8;

	if (p->addr.family == AF_INET)
		memcpy(bytes, &p->addr.v4, 4);
	else
		memcpy(bytes, &p->addr.v6, 16);
	if (p->len % 8)
		bytes[n - 1] &= (uint8_t)(0xff << (8 - p->len % 8));
	wr_u8(w, p->len);
	wr_bytes(w, bytes, n);
}

/* ---- path attributes ---------------------------------------------------- */

static void attr_hdr(struct buf_writer *w, uint8_t flags, uint8_t type, size_t len)
{
	if (len > UINT8_MAX)
		flags |= BGP_AF_EXTLEN;
	wr_u8(w, flags);
	wr_u8(w, type);
	if (len > UINT16_MAX)
		wr_fail(w);
	else if (flags & BGP_AF_EXTLEN)
		wr_be16(w, (uint16_t)len);
	else
		wr_u8(w, (uint8_t)len);
}

static bool path_has_as4(const struct bgp_attrs *a)
{
	for (size_t i = 0; i < a->n_segs; i++)
		for (size_t j = 0; j < a->segs[i].len; j++)
			if (a->segs[i].as[j] > UINT16_MAX)
				return true;
	return false;
}

/* AS_PATH (or AS4_PATH) value with 2- or 4-octet ASes; 2-octet: AS_TRANS. */
static void as_path_put(struct buf_writer *w, const struct bgp_attrs *a, uint8_t type,
			bool four)
{
	size_t len = 0;

	for (size_t i = 0; i < a->n_segs; i++)
		len += 2 + (size_t)a->segs[i].len * (four ? 4 : 2);
	attr_hdr(w, type == BGP_ATTR_AS_PATH ? BGP_AF_TRANSITIVE :
		 BGP_AF_OPTIONAL | BGP_AF_TRANSITIVE, type, len);
	for (size_t i = 0; i < a->n_segs; i++) {
		wr_u8(w, a->segs[i].type);
		wr_u8(w, a->segs[i].len);
		for (size_t j = 0; j < a->segs[i].len; j++) {
			uint32_t as = a->segs[i].as[j];

			if (four)
				wr_be32(w, as);
			else
				wr_be16(w, as > UINT16_MAX ? BGP_AS_TRANS : (uint16_t)as);
		}
	}
}

static void aggregator_put(struct buf_writer *w, const struct bgp_attrs *a, uint8_t type,
			   bool four)
{
	uint32_t as = a->aggregator_as;

	attr_hdr(w, BGP_AF_OPTIONAL | BGP_AF_TRANSITIVE, type, four ? 8 : 6);
	if (four)
		wr_be32(w, as);
	else
		wr_be16(w, as > UINT16_MAX ? BGP_AS_TRANS : (uint16_t)as);
	wr_bytes(w, &a->aggregator_addr, 4);
}

static void u32_attr(struct buf_writer *w, uint8_t flags, uint8_t type, uint32_t v)
{
	attr_hdr(w, flags, type, 4);
	wr_be32(w, v);
}

/* The attribute of this type we hold, if any (AS4_* only when the session needs them). */
static void known_put(struct buf_writer *w, uint8_t type, const struct bgp_attrs *a,
		      bool four)
{
	switch (type) {
	case BGP_ATTR_ORIGIN:
		attr_hdr(w, BGP_AF_TRANSITIVE, type, 1);
		wr_u8(w, a->origin);
		break;
	case BGP_ATTR_AS_PATH:
		as_path_put(w, a, type, four);
		break;
	case BGP_ATTR_NEXT_HOP:
		attr_hdr(w, BGP_AF_TRANSITIVE, type, 4);
		wr_bytes(w, &a->next_hop, 4);
		break;
	case BGP_ATTR_MED:
		if (a->has_med)
			u32_attr(w, BGP_AF_OPTIONAL, type, a->med);
		break;
	case BGP_ATTR_LOCAL_PREF:
		if (a->has_local_pref)
			u32_attr(w, BGP_AF_TRANSITIVE, type, a->local_pref);
		break;
	case BGP_ATTR_ATOMIC_AGGREGATE:
		if (a->atomic_aggregate)
			attr_hdr(w, BGP_AF_TRANSITIVE, type, 0);
		break;
	case BGP_ATTR_AGGREGATOR:
		if (a->has_aggregator)
			aggregator_put(w, a, type, four);
		break;
	case BGP_ATTR_COMMUNITIES:
		if (a->n_communities == 0)
			break;
		attr_hdr(w, BGP_AF_OPTIONAL | BGP_AF_TRANSITIVE, type, 4 * a->n_communities);
		for (size_t i = 0; i < a->n_communities; i++)
			wr_be32(w, a->communities[i]);
		break;
	case BGP_ATTR_AS4_PATH:
		if (!four && path_has_as4(a))
			as_path_put(w, a, type, true);
		break;
	case BGP_ATTR_AS4_AGGREGATOR:
		if (!four && a->has_aggregator && a->aggregator_as > UINT16_MAX)
			aggregator_put(w, a, type, true);
		break;
	}
}

/* An optional transitive attribute passed on: Partial when we do not know it. */
static void raw_put(struct buf_writer *w, const struct bgp_raw_attr *u)
{
	uint8_t flags = u->flags & (uint8_t)~0x0f;

	if (bgp_attr_known_flags(u->type) < 0 && (flags & BGP_AF_OPTIONAL) &&
	    (flags & BGP_AF_TRANSITIVE))
		flags |= BGP_AF_PARTIAL;
	attr_hdr(w, flags, u->type, u->len);
	wr_bytes(w, u->data, u->len);
}

int bgp_build_attrs(struct buf_writer *w, const struct bgp_attrs *a,
		    const struct bgp_wire_opts *o)
{
	/* Ascending type order, ours and the ones passed on interleaved. */
	for (unsigned t = 1; t <= UINT8_MAX; t++) {
		known_put(w, (uint8_t)t, a, o->four_octet);
		for (size_t i = 0; i < a->n_unknown; i++)
			if (a->unknown[i].type == t)
				raw_put(w, &a->unknown[i]);
	}
	return wr_failed(w) ? -EMSGSIZE : 0;
}

/* Prefixes from pfx[*done] while they fit before limit. -errno if none did. */
static int prefixes_put(struct buf_writer *w, size_t limit, const struct cgw_prefix *pfx,
			size_t n, size_t *done)
{
	size_t count = 0;

	for (; *done < n; (*done)++, count++) {
		const struct cgw_prefix *p = &pfx[*done];

		if (p->addr.family != AF_INET || p->len > 32) {
			if (count)
				break;
			return p->addr.family != AF_INET ? -EAFNOSUPPORT : -EINVAL;
		}
		if (wr_failed(w) || wr_len(w) + bgp_prefix_wire_len(p) > limit)
			break;
		bgp_prefix_put(w, p);
	}
	return count ? 0 : -EMSGSIZE;
}

int bgp_build_update(struct buf_writer *w, const struct bgp_attrs *a,
		     const struct cgw_prefix *pfx, size_t n, size_t *done,
		     const struct bgp_wire_opts *o)
{
	struct wr_mark m, am;
	int rc;

	if (!a || *done >= n)
		return -EINVAL;
	bgp_hdr_begin(w, BGP_MSG_UPDATE, &m);
	wr_be16(w, 0);
	bgp_len16_begin(w, &am);
	bgp_build_attrs(w, a, o);
	wr_patch_length(w, &am);
	rc = prefixes_put(w, msg_limit(w, &m), pfx, n, done);
	if (rc < 0) {
		wr_fail(w);
		return rc;
	}
	return bgp_hdr_end(w, &m);
}

int bgp_build_withdraw(struct buf_writer *w, const struct cgw_prefix *pfx,
		       size_t n, size_t *done)
{
	struct wr_mark m, wm;
	size_t limit;
	int rc;

	if (*done >= n)
		return -EINVAL;
	bgp_hdr_begin(w, BGP_MSG_UPDATE, &m);
	bgp_len16_begin(w, &wm);
	limit = msg_limit(w, &m);
	rc = prefixes_put(w, limit >= 2 ? limit - 2 : 0, pfx, n, done);
	if (rc < 0) {
		wr_fail(w);
		return rc;
	}
	wr_patch_length(w, &wm);
	wr_be16(w, 0);
	return bgp_hdr_end(w, &m);
}

int bgp_build_eor(struct buf_writer *w)
{
	struct wr_mark m;

	bgp_hdr_begin(w, BGP_MSG_UPDATE, &m);
	wr_be16(w, 0);
	wr_be16(w, 0);
	return bgp_hdr_end(w, &m);
}
