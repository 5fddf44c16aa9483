/*
 * BGP wire layer, receive side of the small messages: the stream framer
 * (RFC 4271 4.1, 6.1), NOTIFICATION (4.5, RFC 9003 shutdown text),
 * ROUTE-REFRESH (RFC 2918), the prefix walker shared with UPDATE, the
 * name tables and the result helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/msg-int.h"
#include "common/log.h"

const char *bgp_msg_type_name(uint8_t type)
{
	switch (type) {
#define X(id, val, str) case val: return str;
	BGP_MSG_TYPES(X)
#undef X
	default:
		return "unknown type";
	}
}

const char *bgp_err_code_name(uint8_t code)
{
	switch (code) {
#define X(id, val, str) case val: return str;
	BGP_ERR_CODES(X)
#undef X
	default:
		return "unknown error code";
	}
}

const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode)
{
#define X(c, id, val, str) \
	if (code == BGP_ERR_##c && subcode == val) \
		return str;
	BGP_ERR_SUBCODES(X)
#undef X
	return subcode == 0 ? "Unspecific" : "unknown subcode";
}

const char *bgp_action_name(enum bgp_action act)
{
	switch (act) {
#define X(id, str) case BGP_ACT_##id: return str;
	BGP_ACTIONS(X)
#undef X
	}
	return "?";
}

void bgp_result_clear(struct bgp_result *res)
{
	res->action = BGP_ACT_NONE;
	res->notif.code = 0;
	res->notif.subcode = 0;
	res->notif.data_len = 0;
	res->reason[0] = '\0';
	res->n_errors = 0;
}

void bgp_result_set(struct bgp_result *res, enum bgp_action act, uint8_t code,
		    uint8_t subcode, struct span data, const char *fmt, ...)
{
	va_list ap;

	res->n_errors++;
	if (act <= res->action)
		return;
	res->action = act;
	res->notif.code = code;
	res->notif.subcode = subcode;
	res->notif.data_len = (uint16_t)(data.len < BGP_NOTIF_DATA_MAX ?
					 data.len : BGP_NOTIF_DATA_MAX);
	if (res->notif.data_len)
		memcpy(res->notif.data, data.p, res->notif.data_len);
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

void bgp_result_log(const char *who, const struct bgp_result *res)
{
	switch (res->action) {
	case BGP_ACT_NONE:
		break;
	case BGP_ACT_DISCARD:
		log_debug(LOGC_BGP, "%s: %s: %s", who, bgp_action_name(res->action),
			  res->reason);
		break;
	case BGP_ACT_WITHDRAW:
		log_info("%s: UPDATE %s: %s", who, bgp_action_name(res->action),
			 res->reason);
		break;
	case BGP_ACT_RESET:
		log_warnx("%s: %s (%s/%s): %s", who, bgp_action_name(res->action),
			  bgp_err_code_name(res->notif.code),
			  bgp_err_subcode_name(res->notif.code, res->notif.subcode),
			  res->reason);
		break;
	}
}

/* Smallest and largest length of each message type (RFC 4271 4.2-4.4, 2918). */
static bool type_len_ok(uint8_t type, uint16_t len)
{
	switch (type) {
	case BGP_MSG_OPEN:
		return len >= 29;
	case BGP_MSG_UPDATE:
		return len >= 23;
	case BGP_MSG_NOTIFICATION:
		return len >= 21;
	case BGP_MSG_KEEPALIVE:
		return len == 19;
	case BGP_MSG_ROUTE_REFRESH:
		return len == 23;
	}
	return true;
}

static bool type_known(uint8_t type)
{
	return type >= BGP_MSG_OPEN && type <= BGP_MSG_ROUTE_REFRESH;
}

int bgp_frame(const void *buf, size_t len, struct bgp_frame *f,
	      struct bgp_result *res)
{
	struct buf_reader r;
	const uint8_t *marker, *lenp;
	uint16_t mlen;
	uint8_t type;

	bgp_result_clear(res);
	memset(f, 0, sizeof(*f));
	f->len = BGP_HDR_LEN;
	if (len < BGP_HDR_LEN)
		return -EAGAIN;
	rd_init(&r, buf, len);
	marker = rd_ptr(&r, BGP_MARKER_LEN);
	lenp = rd_ptr(&r, 0);
	rd_be16(&r, &mlen);
	rd_u8(&r, &type);
	for (size_t i = 0; i < BGP_MARKER_LEN; i++) {
		if (marker[i] != 0xff) {
			bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_HEADER,
				       BGP_SUB_HEADER_NOT_SYNC, (struct span){ NULL, 0 },
				       "marker is not all ones");
			return -EBADMSG;
		}
	}
	if (mlen < BGP_HDR_LEN || mlen > BGP_MSG_MAX ||
	    (type_known(type) && !type_len_ok(type, mlen))) {
		bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_HEADER, BGP_SUB_HEADER_BAD_LEN,
			       (struct span){ lenp, 2 }, "bad length %u for %s",
			       mlen, bgp_msg_type_name(type));
		return -EBADMSG;
	}
	if (!type_known(type)) {
		bgp_result_set(res, BGP_ACT_RESET, BGP_ERR_HEADER, BGP_SUB_HEADER_BAD_TYPE,
			       (struct span){ lenp + 2, 1 }, "unknown message type %u", type);
		return -EBADMSG;
	}
	f->type = type;
	f->len = mlen;
	if (len < mlen)
		return -EAGAIN;
	rd_span(&r, mlen - BGP_HDR_LEN, &f->body);
	return 0;
}

int bgp_notification_parse(const void *body, size_t len, struct bgp_notif *n)
{
	struct buf_reader r;
	struct span data;

	rd_init(&r, body, len);
	rd_u8(&r, &n->code);
	rd_u8(&r, &n->subcode);
	data = rd_rest(&r);
	if (rd_failed(&r) || data.len > BGP_NOTIF_DATA_MAX) {
		n->data_len = 0;
		return -EBADMSG;
	}
	n->data_len = (uint16_t)data.len;
	if (data.len)
		memcpy(n->data, data.p, data.len);
	return 0;
}

void bgp_notif_set(struct bgp_notif *n, uint8_t code, uint8_t subcode)
{
	n->code = code;
	n->subcode = subcode;
	n->data_len = 0;
}

static bool has_shutdown_msg(const struct bgp_notif *n)
{
	return n->code == BGP_ERR_CEASE &&
	       (n->subcode == BGP_SUB_CEASE_ADMIN_SHUTDOWN ||
		n->subcode == BGP_SUB_CEASE_ADMIN_RESET);
}

int bgp_notif_shutdown_msg(const struct bgp_notif *n, char *buf, size_t len)
{
	struct buf_reader r;
	struct span text;
	uint8_t tlen;
	size_t i;

	if (len)
		buf[0] = '\0';
	if (!has_shutdown_msg(n) || len == 0)
		return -ENOENT;
	rd_init(&r, n->data, n->data_len);
	if (rd_u8(&r, &tlen) < 0 || tlen == 0 || rd_span(&r, tlen, &text) < 0)
		return -ENOENT;
	for (i = 0; i < text.len && i + 1 < len; i++)
		buf[i] = text.p[i] < 0x20 || text.p[i] == 0x7f ? '?' : (char)text.p[i];
	buf[i] = '\0';
	return 0;
}

void bgp_notif_set_shutdown(struct bgp_notif *n, uint8_t subcode, const char *text)
{
	size_t tlen = text ? strlen(text) : 0;

	bgp_notif_set(n, BGP_ERR_CEASE, subcode);
	if (tlen == 0)
		return;
	if (tlen > 255)
		tlen = 255;
	/* Do not cut a UTF-8 sequence in half. */
	while (tlen < strlen(text) && tlen > 0 && ((uint8_t)text[tlen] & 0xc0) == 0x80)
		tlen--;
	n->data[0] = (uint8_t)tlen;
	memcpy(n->data + 1, text, tlen);
	n->data_len = (uint16_t)(tlen + 1);
}

const char *bgp_notif_str(const struct bgp_notif *n, char *buf, size_t len)
{
	char text[256];

	if (bgp_notif_shutdown_msg(n, text, sizeof(text)) == 0)
		snprintf(buf, len, "%s/%s: \"%s\"", bgp_err_code_name(n->code),
			 bgp_err_subcode_name(n->code, n->subcode), text);
	else if (n->data_len)
		snprintf(buf, len, "%s/%s (%u data bytes)", bgp_err_code_name(n->code),
			 bgp_err_subcode_name(n->code, n->subcode), n->data_len);
	else
		snprintf(buf, len, "%s/%s", bgp_err_code_name(n->code),
			 bgp_err_subcode_name(n->code, n->subcode));
	return buf;
}

int bgp_route_refresh_parse(const void *body, size_t len, struct bgp_route_refresh *rr)
{
	struct buf_reader r;

	rd_init(&r, body, len);
	rd_be16(&r, &rr->afi);
	rd_u8(&r, &rr->subtype);
	rd_u8(&r, &rr->safi);
	return rd_done(&r) ? 0 : -EBADMSG;
}

/* One prefix: length octet, then the significant bytes; bits past len cleared. */
static int prefix_read(struct buf_reader *r, int af, struct cgw_prefix *p)
{
	unsigned max = af == AF_INET ? 32 : 128;
	uint8_t plen, bytes[16] = { 0 };
	size_t n;

	if (rd_u8(r, &plen) < 0 || plen > max)
		return -EBADMSG;
	n = ((size_t)plen + 7) / 8;
	if (rd_bytes(r, bytes, n) < 0)
		return -EBADMSG;
	if (plen % 8)
		bytes[n - 1] &= (uint8_t)(0xff << (8 - plen % 8));
	if (p) {
		memset(p, 0, sizeof(*p));
		p->addr.family = af;
		p->len = plen;
		if (af == AF_INET)
			memcpy(&p->addr.v4, bytes, 4);
		else
			memcpy(&p->addr.v6, bytes, 16);
	}
	return 0;
}

int bgp_nlri_walk(struct buf_reader r, int af, struct cgw_prefix *out)
{
	int n = 0;

	while (rd_left(&r) > 0) {
		if (prefix_read(&r, af, out ? &out[n] : NULL) < 0)
			return -EBADMSG;
		n++;
	}
	return rd_failed(&r) ? -EBADMSG : n;
}

int bgp_nlri_read(struct buf_reader r, int af, struct cgw_prefix **out, size_t *n)
{
	int cnt = bgp_nlri_walk(r, af, NULL);

	*out = NULL;
	*n = 0;
	if (cnt <= 0)
		return cnt;
	*out = calloc((size_t)cnt, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	bgp_nlri_walk(r, af, *out);
	*n = (size_t)cnt;
	return 0;
}
