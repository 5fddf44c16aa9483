/*
 * OPEN messages (RFC 4271 4.2, 6.2): optional parameters in both length
 * encodings (RFC 9072), capabilities (RFC 5492: multiprotocol RFC 4760,
 * route refresh RFC 2918, graceful restart RFC 4724, 4-octet AS RFC
 * 6793), parsed into struct bgp_open with their wire layout, and built.
 */
#include <errno.h>
#include <string.h>

#include "bgp/msg-int.h"

#define OPEN_PARAM_CAPS 2
#define OPEN_PARAM_EXT 255

static int open_err(struct bgp_result *res, uint8_t subcode, struct span data,
		    const char *why)
{
	bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_OPEN, subcode, data, "OPEN: %s", why);
	return -EBADMSG;
}

static const struct span no_data = { NULL, 0 };

int bgp_open_add_afi(struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	o->cap_mp = true;
	for (size_t i = 0; i < o->n_afi; i++)
		if (o->afi[i].afi == afi && o->afi[i].safi == safi)
			return 0;
	if (o->n_afi >= BGP_OPEN_MAX_AFI)
		return -ENOSPC;
	o->afi[o->n_afi].afi = afi;
	o->afi[o->n_afi].safi = safi;
	o->afi[o->n_afi].flags = 0;
	o->n_afi++;
	return 0;
}

bool bgp_open_has_afi(const struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	if (!o->cap_mp)
		return afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST;
	for (size_t i = 0; i < o->n_afi; i++)
		if (o->afi[i].afi == afi && o->afi[i].safi == safi)
			return true;
	return false;
}

void bgp_open_init(struct bgp_open *o, uint32_t my_as, uint16_t hold_time,
		   struct in_addr bgp_id)
{
	memset(o, 0, offsetof(struct bgp_open, capbuf));
	o->version = BGP_VERSION;
	o->my_as = my_as;
	o->my_as2 = my_as > UINT16_MAX ? BGP_AS_TRANS : (uint16_t)my_as;
	o->hold_time = hold_time;
	o->bgp_id = bgp_id;
	o->cap_as4 = true;
	o->cap_route_refresh = true;
}

/* Multiprotocol: AFI, reserved, SAFI (RFC 4760 8). */
static int cap_mp(struct bgp_open *o, struct buf_reader *r)
{
	uint16_t afi;
	uint8_t rsvd, safi;

	rd_be16(r, &afi);
	rd_u8(r, &rsvd);
	rd_u8(r, &safi);
	if (!rd_done(r))
		return -EBADMSG;
	/* Past BGP_OPEN_MAX_AFI: kept on the wire only. */
	bgp_open_add_afi(o, afi, safi);
	return 0;
}

/* Graceful restart: flags+time, then AFI, SAFI, flags per family (RFC 4724 3). */
static int cap_gr(struct bgp_open *o, struct buf_reader *r)
{
	uint16_t ft;

	if (rd_be16(r, &ft) < 0 || rd_left(r) % 4)
		return -EBADMSG;
	/* The last instance counts (RFC 4724 3). */
	o->cap_gr = true;
	o->gr_flags = (uint8_t)(ft >> 12);
	o->gr_time = ft & 0x0fff;
	o->n_gr_afi = 0;
	while (rd_left(r) > 0) {
		struct bgp_afi_safi f = { 0 };

		rd_be16(r, &f.afi);
		rd_u8(r, &f.safi);
		rd_u8(r, &f.flags);
		if (o->n_gr_afi < BGP_OPEN_MAX_AFI)
			o->gr_afi[o->n_gr_afi++] = f;
	}
	return rd_done(r) ? 0 : -EBADMSG;
}

/* One capability's value: typed fields, and a copy for the layout. */
static int cap_decode(struct bgp_open *o, uint8_t code, struct span v)
{
	struct buf_reader r;
	uint32_t as4;

	rd_init(&r, v.p, v.len);
	switch (code) {
	case BGP_CAP_MP:
		return cap_mp(o, &r);
	case BGP_CAP_ROUTE_REFRESH:
		o->cap_route_refresh = true;
		return rd_done(&r) ? 0 : -EBADMSG;
	case BGP_CAP_GR:
		return cap_gr(o, &r);
	case BGP_CAP_AS4:
		if (rd_be32(&r, &as4) < 0 || !rd_done(&r))
			return -EBADMSG;
		o->cap_as4 = true;
		o->my_as = as4;
		return 0;
	default:
		if (o->n_unknown < UINT8_MAX)
			o->n_unknown++;
		return 0;
	}
}

static int cap_keep(struct bgp_open *o, uint8_t code, struct span v)
{
	struct bgp_cap *c;

	if (o->n_caps >= BGP_OPEN_MAX_CAPS ||
	    v.len > sizeof(o->capbuf) - o->capbuf_len)
		return -ENOSPC;
	c = &o->caps[o->n_caps++];
	c->code = code;
	c->len = (uint8_t)v.len;
	c->off = o->capbuf_len;
	if (v.len)
		memcpy(o->capbuf + o->capbuf_len, v.p, v.len);
	o->capbuf_len = (uint16_t)(o->capbuf_len + v.len);
	o->param_caps[o->n_params - 1]++;
	return 0;
}

/* A capabilities parameter: code, length, value, repeated (RFC 5492 4). */
static int caps_parse(struct bgp_open *o, struct buf_reader *p, struct bgp_result *res)
{
	while (rd_left(p) > 0) {
		uint8_t code, len;
		struct span v;
		int rc;

		if (rd_u8(p, &code) < 0 || rd_u8(p, &len) < 0 || rd_span(p, len, &v) < 0)
			return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
					"capability overruns its parameter");
		rc = cap_keep(o, code, v);
		if (rc == 0)
			rc = cap_decode(o, code, v);
		if (rc == -ENOSPC)
			return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
					"too many capabilities");
		if (rc < 0) {
			bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_OPEN,
				       BGP_SUB_OPEN_UNSPECIFIC, no_data,
				       "OPEN: malformed capability %u (length %u)", code, len);
			return -EBADMSG;
		}
	}
	return 0;
}

/* Optional parameters, 1- or 2-octet lengths (RFC 4271 4.2, RFC 9072 2). */
static int params_parse(struct bgp_open *o, struct buf_reader *r, bool ext,
			struct bgp_result *res)
{
	while (rd_left(r) > 0) {
		struct buf_reader p;
		uint8_t type, l8 = 0;
		uint16_t len = 0;
		int rc;

		rd_u8(r, &type);
		if (ext)
			rd_be16(r, &len);
		else if (rd_u8(r, &l8) == 0)
			len = l8;
		if (rd_sub(r, len, &p) < 0)
			return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
					"optional parameter overruns the message");
		if (type != OPEN_PARAM_CAPS) {
			bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_OPEN,
				       BGP_SUB_OPEN_UNSUP_PARAM, no_data,
				       "OPEN: unsupported optional parameter %u", type);
			return -EBADMSG;
		}
		if (o->n_params >= BGP_OPEN_MAX_PARAMS)
			return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
					"too many optional parameters");
		o->param_caps[o->n_params++] = 0;
		rc = caps_parse(o, &p, res);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Where the parameters are: classic, or RFC 9072 when the first type is 255. */
static int params_locate(struct bgp_open *o, struct buf_reader *r,
			 struct buf_reader *params, struct bgp_result *res)
{
	uint8_t len, first = 0;
	uint16_t ext_len;
	struct buf_reader peek;

	rd_u8(r, &len);
	peek = *r;
	if (len != 0 && rd_u8(&peek, &first) == 0 && first == OPEN_PARAM_EXT) {
		o->ext_params = true;
		o->ext_marker = len;
		rd_skip(r, 1);
		rd_be16(r, &ext_len);
		if (rd_sub(r, ext_len, params) < 0)
			return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
					"extended parameters length overruns the message");
	} else if (rd_sub(r, len, params) < 0) {
		return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
				"parameters length overruns the message");
	}
	if (!rd_done(r))
		return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data,
				"bytes after the optional parameters");
	return 0;
}

/* Meaning, once the structure is known good (RFC 4271 6.2, RFC 7607). */
static int open_check(const struct bgp_open *o, struct bgp_result *res)
{
	if (o->my_as == 0 || o->my_as2 == 0)
		return open_err(res, BGP_SUB_OPEN_BAD_PEER_AS, no_data, "peer AS 0");
	if (o->hold_time == 1 || o->hold_time == 2)
		return open_err(res, BGP_SUB_OPEN_BAD_HOLD, no_data,
				"hold time 1 or 2 seconds");
	if (o->bgp_id.s_addr == 0)
		return open_err(res, BGP_SUB_OPEN_BAD_BGP_ID, no_data,
				"BGP identifier 0.0.0.0");
	return 0;
}

int bgp_open_parse(const void *body, size_t len, struct bgp_open *o,
		   struct bgp_result *res)
{
	static const uint8_t version[2] = { 0, BGP_VERSION };
	struct buf_reader r, params;
	int rc;

	bgp_result_clear(res);
	memset(o, 0, offsetof(struct bgp_open, capbuf));
	o->wire = true;
	rd_init(&r, body, len);
	rd_u8(&r, &o->version);
	rd_be16(&r, &o->my_as2);
	rd_be16(&r, &o->hold_time);
	rd_bytes(&r, &o->bgp_id, 4);
	if (rd_failed(&r) || rd_left(&r) < 1)
		return open_err(res, BGP_SUB_OPEN_UNSPECIFIC, no_data, "too short");
	if (o->version != BGP_VERSION) {
		bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_OPEN, BGP_SUB_OPEN_BAD_VERSION,
			       (struct span){ version, 2 }, "OPEN: version %u, we speak 4",
			       o->version);
		return -EBADMSG;
	}
	o->my_as = o->my_as2;
	rc = params_locate(o, &r, &params, res);
	if (rc == 0)
		rc = params_parse(o, &params, o->ext_params, res);
	if (rc == 0)
		rc = open_check(o, res);
	return rc;
}

/* Encode the typed fields as one capabilities parameter (caps[] unused). */
static void caps_from_fields(struct buf_writer *w, const struct bgp_open *o)
{
	for (size_t i = 0; i < o->n_afi; i++) {
		wr_u8(w, BGP_CAP_MP);
		wr_u8(w, 4);
		wr_be16(w, o->afi[i].afi);
		wr_u8(w, 0);
		wr_u8(w, o->afi[i].safi);
	}
	if (o->cap_route_refresh) {
		wr_u8(w, BGP_CAP_ROUTE_REFRESH);
		wr_u8(w, 0);
	}
	if (o->cap_gr) {
		wr_u8(w, BGP_CAP_GR);
		wr_u8(w, (uint8_t)(2 + 4 * o->n_gr_afi));
		wr_be16(w, (uint16_t)((o->gr_flags & 0xf) << 12 | (o->gr_time & 0x0fff)));
		for (size_t i = 0; i < o->n_gr_afi; i++) {
			wr_be16(w, o->gr_afi[i].afi);
			wr_u8(w, o->gr_afi[i].safi);
			wr_u8(w, o->gr_afi[i].flags);
		}
	}
	if (o->cap_as4) {
		wr_u8(w, BGP_CAP_AS4);
		wr_u8(w, 4);
		wr_be32(w, o->my_as);
	}
}

/* Parameters as recorded by bgp_open_parse(), with 1- or 2-octet lengths. */
static void params_from_wire(struct buf_writer *w, const struct bgp_open *o, bool ext)
{
	size_t c = 0;

	for (size_t p = 0; p < o->n_params; p++) {
		struct wr_mark m;
		size_t start;

		wr_u8(w, OPEN_PARAM_CAPS);
		if (ext) {
			bgp_len16_begin(w, &m);
		} else {
			m.field = wr_len(w);
			wr_u8(w, 0);
			m.start = wr_len(w);
		}
		start = m.start;
		for (size_t i = 0; i < o->param_caps[p] && c < o->n_caps; i++, c++) {
			wr_u8(w, o->caps[c].code);
			wr_u8(w, o->caps[c].len);
			if (o->caps[c].off + o->caps[c].len <= sizeof(o->capbuf))
				wr_bytes(w, o->capbuf + o->caps[c].off, o->caps[c].len);
			else
				wr_fail(w);
		}
		if (ext)
			wr_patch_length(w, &m);
		else if (wr_len(w) - start > UINT8_MAX)
			wr_fail(w);
		else
			wr_patch8(w, m.field, (uint8_t)(wr_len(w) - start));
	}
}

/* Our OPEN from the typed fields: one parameter, RFC 9072 form past 255 bytes. */
static void params_from_fields(struct buf_writer *w, const struct bgp_open *o)
{
	uint8_t caps[BGP_MSG_MAX];
	struct buf_writer cw;
	struct wr_mark pm;
	size_t n;

	wr_init(&cw, caps, sizeof(caps));
	caps_from_fields(&cw, o);
	n = wr_len(&cw);
	if (wr_failed(&cw)) {
		wr_fail(w);
	} else if (n == 0) {
		wr_u8(w, 0);
	} else if (n + 2 <= UINT8_MAX) {
		wr_u8(w, (uint8_t)(n + 2));
		wr_u8(w, OPEN_PARAM_CAPS);
		wr_u8(w, (uint8_t)n);
		wr_bytes(w, caps, n);
	} else {
		wr_u8(w, 255);
		wr_u8(w, OPEN_PARAM_EXT);
		bgp_len16_begin(w, &pm);
		wr_u8(w, OPEN_PARAM_CAPS);
		wr_be16(w, (uint16_t)n);
		wr_bytes(w, caps, n);
		wr_patch_length(w, &pm);
	}
}

/* The recorded layout, with its length encoding. */
static void params_wire(struct buf_writer *w, const struct bgp_open *o)
{
	struct wr_mark pm;
	size_t start;

	if (o->ext_params) {
		wr_u8(w, o->ext_marker ? o->ext_marker : 255);
		wr_u8(w, OPEN_PARAM_EXT);
		bgp_len16_begin(w, &pm);
		params_from_wire(w, o, true);
		wr_patch_length(w, &pm);
		return;
	}
	start = wr_len(w) + 1;
	wr_u8(w, 0);
	params_from_wire(w, o, false);
	if (wr_len(w) - start > UINT8_MAX)
		wr_fail(w);
	wr_patch8(w, start - 1, (uint8_t)(wr_len(w) - start));
}

int bgp_build_open(struct buf_writer *w, const struct bgp_open *o)
{
	struct wr_mark m;

	bgp_hdr_begin(w, BGP_MSG_OPEN, &m);
	wr_u8(w, o->version);
	wr_be16(w, o->my_as2);
	wr_be16(w, o->hold_time);
	wr_bytes(w, &o->bgp_id, 4);
	if (o->wire)
		params_wire(w, o);
	else
		params_from_fields(w, o);
	return bgp_hdr_end(w, &m);
}
