/*
 * IKEv2 message parsing (RFC 7296 3.1-3.2): the fixed header, the generic
 * payload chain walked with one sub-reader per payload, the SK plaintext
 * chain, and what a failure means for the answer (RFC 7296 2.5, 2.21,
 * 3.10.1). Payload bodies are decoded in payload.c and payload-sa.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ike/payload-int.h"

/* The notify RFC 7296 lets us answer with for this failure, 0 = none. */
static void set_answer(struct ike_result *res, const struct ike_msg *m,
		       bool authenticated, uint8_t crit_type)
{
	bool request = !(m->hdr.flags & IKE_FLAG_R);
	bool in_clear = m->hdr.exchange == IKE_EXCH_IKE_SA_INIT;

	res->notify = 0;
	res->notify_data_len = 0;
	if (!request)
		return;
	switch (res->code) {
	case IKE_PERR_INVALID_MAJOR_VERSION:
		res->notify = IKE_N_INVALID_MAJOR_VERSION;
		break;
	case IKE_PERR_UNSUPPORTED_CRITICAL:
		if (authenticated || in_clear) {
			res->notify = IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
			res->notify_data[0] = crit_type;
			res->notify_data_len = 1;
		}
		break;
	case IKE_PERR_INVALID_SYNTAX:
		if (authenticated)
			res->notify = IKE_N_INVALID_SYNTAX;
		break;
	case IKE_PERR_NONE:
	case IKE_PERR_DROP:
		break;
	}
}

static int vfail_at(struct ike_result *res, const struct ike_msg *m,
		    bool inner, size_t offset, enum ike_perr code,
		    uint8_t crit_type, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));
static int vfail(struct ike_pctx *c, enum ike_perr code, uint8_t crit_type,
		 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static int vfail_at(struct ike_result *res, const struct ike_msg *m,
		    bool inner, size_t offset, enum ike_perr code,
		    uint8_t crit_type, const char *fmt, va_list ap)
{
	res->code = code;
	res->in_sk = inner;
	res->offset = offset;
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	set_answer(res, m, inner, crit_type);
	return -EBADMSG;
}

static int vfail(struct ike_pctx *c, enum ike_perr code, uint8_t crit_type,
		 const char *fmt, va_list ap)
{
	return vfail_at(c->res, c->m, c->inner, c->pl_off, code, crit_type, fmt, ap);
}

int ike_rules_fail(struct ike_result *res, const struct ike_msg *m,
		   const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail_at(res, m, m->decrypted, 0, IKE_PERR_INVALID_SYNTAX, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int ike_pfail(struct ike_pctx *c, enum ike_perr code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(c, code, 0, fmt, ap);
	va_end(ap);
	return ret;
}

static int fail_critical(struct ike_pctx *c, uint8_t type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_critical(struct ike_pctx *c, uint8_t type, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(c, IKE_PERR_UNSUPPORTED_CRITICAL, type, fmt, ap);
	va_end(ap);
	return ret;
}

void ike_result_init(struct ike_result *res)
{
	memset(res, 0, sizeof(*res));
	res->code = IKE_PERR_NONE;
	res->form = IKE_FORM_UNKNOWN;
	snprintf(res->reason, sizeof(res->reason), "ok");
}

/* Decoders by payload type; storage caps for the repeatable ones. */
static const struct {
	ike_decode_fn decode;
	uint8_t max;			/* payloads of this type we can hold */
} decoders[IKE_PL_COUNT] = {
	[IKE_PL_IDX(IKE_PL_SA)] = { ike_decode_sa, 1 },
	[IKE_PL_IDX(IKE_PL_KE)] = { ike_decode_ke, 1 },
	[IKE_PL_IDX(IKE_PL_IDI)] = { ike_decode_id, 1 },
	[IKE_PL_IDX(IKE_PL_IDR)] = { ike_decode_id, 1 },
	[IKE_PL_IDX(IKE_PL_CERT)] = { NULL, IKE_MAX_PAYLOADS },
	[IKE_PL_IDX(IKE_PL_CERTREQ)] = { NULL, IKE_MAX_PAYLOADS },
	[IKE_PL_IDX(IKE_PL_AUTH)] = { ike_decode_auth, 1 },
	[IKE_PL_IDX(IKE_PL_NONCE)] = { ike_decode_nonce, 1 },
	[IKE_PL_IDX(IKE_PL_NOTIFY)] = { ike_decode_notify, IKE_MAX_NOTIFY },
	[IKE_PL_IDX(IKE_PL_DELETE)] = { ike_decode_delete, IKE_MAX_DELETE },
	[IKE_PL_IDX(IKE_PL_VID)] = { ike_decode_vid, IKE_MAX_VID },
	[IKE_PL_IDX(IKE_PL_TSI)] = { ike_decode_ts, 1 },
	[IKE_PL_IDX(IKE_PL_TSR)] = { ike_decode_ts, 1 },
	[IKE_PL_IDX(IKE_PL_SK)] = { NULL, 1 },
	[IKE_PL_IDX(IKE_PL_CP)] = { NULL, 1 },
	[IKE_PL_IDX(IKE_PL_EAP)] = { NULL, 1 },
};

static int decode_payload(struct ike_pctx *c, struct ike_pl_ref *ref,
			  struct buf_reader *body)
{
	const char *name = ike_payload_name(ref->type);
	size_t have;

	if (!IKE_PL_KNOWN(ref->type)) {
		if (ref->flags & IKE_PL_CRITICAL)
			return fail_critical(c, ref->type,
					     "unsupported critical payload type %u",
					     ref->type);
		ref->skipped = true;
		return 0;
	}
	if (ref->type == IKE_PL_SK && c->inner)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX, "SK payload inside SK");
	have = ike_msg_count(c->m, ref->type);
	if (have >= decoders[IKE_PL_IDX(ref->type)].max)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "%s payload number %zu: at most %u per message",
				 name, have + 1, decoders[IKE_PL_IDX(ref->type)].max);
	ref->idx = (uint8_t)have;
	if (!decoders[IKE_PL_IDX(ref->type)].decode)
		return 0;
	return decoders[IKE_PL_IDX(ref->type)].decode(c, body, ref);
}

/* The SK payload: last in the clear chain; its "next" is the inner first. */
static int decode_sk(struct ike_pctx *c, struct buf_reader *r,
		     struct ike_pl_ref *ref, uint8_t first)
{
	struct ike_msg *m = c->m;

	if (rd_left(r))
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "%zu bytes after the SK payload, which must be last",
				 rd_left(r));
	if (!ref->body.len)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX, "empty SK payload");
	m->sk.first = first;
	m->sk.body = ref->body;
	m->sk.aad.p = m->dgram.p;
	m->sk.aad.len = m->dgram.len - ref->body.len;
	return 0;
}

/* One generic payload header and its body; *next gets the following type. */
static int parse_one(struct ike_pctx *c, struct buf_reader *r, uint8_t type,
		     uint8_t *next)
{
	struct ike_msg *m = c->m;
	struct ike_pl_ref *ref;
	struct buf_reader body;
	const char *name = ike_payload_name(type);
	uint16_t len;

	c->pl_off = c->base_len - rd_left(r);
	if (m->n_pl >= IKE_MAX_PAYLOADS)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "more than %d payloads", IKE_MAX_PAYLOADS);
	ref = &m->pl[m->n_pl];
	memset(ref, 0, sizeof(*ref));
	ref->type = type;
	ref->inner = c->inner;
	if (rd_u8(r, next) < 0 || rd_u8(r, &ref->flags) < 0 || rd_be16(r, &len) < 0)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "payload %s (%u): truncated generic header",
				 name ? name : "?", type);
	if (len < IKE_PL_HDR_LEN || (size_t)len - IKE_PL_HDR_LEN > rd_left(r))
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "payload %s (%u): length %u, %zu bytes left",
				 name ? name : "?", type, len, rd_left(r) + IKE_PL_HDR_LEN);
	rd_sub(r, len - IKE_PL_HDR_LEN, &body);
	ref->body.p = body.p;
	ref->body.len = body.left;
	if (decode_payload(c, ref, &body) < 0)
		return -EBADMSG;
	m->n_pl++;
	if (type == IKE_PL_SK) {
		if (decode_sk(c, r, ref, *next) < 0)
			return -EBADMSG;
		*next = IKE_PL_NONE;
	}
	return 0;
}

static int parse_chain(struct ike_pctx *c, struct buf_reader *r, uint8_t first)
{
	uint8_t type = first, next;

	while (type != IKE_PL_NONE) {
		if (parse_one(c, r, type, &next) < 0)
			return -EBADMSG;
		type = next;
	}
	if (rd_left(r)) {
		c->pl_off = c->base_len - rd_left(r);
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "%zu bytes after the last payload", rd_left(r));
	}
	return 0;
}

static int parse_header(struct ike_pctx *c, struct buf_reader *r)
{
	struct ike_hdr *h = &c->m->hdr;
	unsigned int major;

	if (rd_left(r) < IKE_HDR_LEN)
		return ike_pfail(c, IKE_PERR_DROP,
				 "datagram of %zu bytes is shorter than the IKE header",
				 rd_left(r));
	rd_be64(r, &h->spi_i);
	rd_be64(r, &h->spi_r);
	rd_u8(r, &h->next);
	rd_u8(r, &h->version);
	rd_u8(r, &h->exchange);
	rd_u8(r, &h->flags);
	rd_be32(r, &h->msgid);
	rd_be32(r, &h->length);
	major = h->version >> 4;
	if (major > IKE_VERSION_MAJOR)
		return ike_pfail(c, IKE_PERR_INVALID_MAJOR_VERSION,
				 "IKE major version %u", major);
	if (major < IKE_VERSION_MAJOR)
		return ike_pfail(c, IKE_PERR_DROP, "IKE major version %u (IKEv1?)",
				 major);
	if (h->length != c->base_len)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "header length %u, datagram %zu bytes",
				 h->length, c->base_len);
	if (!h->spi_i)
		return ike_pfail(c, IKE_PERR_INVALID_SYNTAX,
				 "initiator SPI is zero");
	return 0;
}

int ike_msg_parse(const uint8_t *dgram, size_t len, struct ike_msg *m,
		  struct ike_result *res)
{
	struct ike_pctx c = { .m = m, .res = res, .base_len = len };
	struct buf_reader r;

	memset(m, 0, sizeof(*m));
	ike_result_init(res);
	rd_init(&r, dgram, len);
	m->dgram.p = r.p;
	m->dgram.len = r.left;
	if (parse_header(&c, &r) < 0)
		return -EBADMSG;
	return parse_chain(&c, &r, m->hdr.next);
}

int ike_msg_parse_inner(struct ike_msg *m, const uint8_t *plain, size_t len,
			struct ike_result *res)
{
	struct ike_pctx c = { .m = m, .res = res, .base_len = len, .inner = true };
	struct buf_reader r;

	ike_result_init(res);
	res->in_sk = true;
	if (ike_msg_count(m, IKE_PL_SK) != 1 || m->decrypted)
		return ike_pfail(&c, IKE_PERR_DROP, "no SK payload to parse");
	rd_init(&r, plain, len);
	if (parse_chain(&c, &r, m->sk.first) < 0)
		return -EBADMSG;
	m->decrypted = true;
	return 0;
}

size_t ike_msg_count(const struct ike_msg *m, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_pl; i++)
		if (m->pl[i].type == type)
			n++;
	return n;
}

const struct ike_notify *ike_msg_notify(const struct ike_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_notify; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

const struct ike_notify *ike_msg_error_notify(const struct ike_msg *m)
{
	for (size_t i = 0; i < m->n_notify; i++)
		if (m->notify[i].type <= IKE_N_ERROR_MAX)
			return &m->notify[i];
	return NULL;
}

uint32_t ike_delete_spi(const struct ike_delete *d, size_t i)
{
	struct buf_reader r;
	uint32_t spi;

	if (d->spi_size != 4 || i >= d->n_spi)
		return 0;
	rd_init(&r, d->spis.p, d->spis.len);
	rd_skip(&r, i * 4);
	rd_be32(&r, &spi);
	return spi;
}

static void summary_one(const struct ike_pl_ref *ref, const struct ike_msg *m,
			char *buf, size_t len, size_t *off)
{
	const char *name = ike_payload_name(ref->type);
	int n;

	if (*off >= len)
		return;
	if (ref->type == IKE_PL_NOTIFY) {
		uint16_t t = m->notify[ref->idx].type;
		const char *nn = ike_notify_name(t);

		n = nn ? snprintf(buf + *off, len - *off, "%sN(%s)", *off ? " " : "", nn)
		       : snprintf(buf + *off, len - *off, "%sN(%u)", *off ? " " : "", t);
	} else if (name) {
		n = snprintf(buf + *off, len - *off, "%s%s", *off ? " " : "", name);
	} else {
		n = snprintf(buf + *off, len - *off, "%s(%u)", *off ? " " : "", ref->type);
	}
	if (n > 0)
		*off += (size_t)n;
}

const char *ike_msg_summary(const struct ike_msg *m, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < m->n_pl; i++) {
		if (m->pl[i].type == IKE_PL_SK && m->decrypted)
			continue;
		summary_one(&m->pl[i], m, buf, len, &off);
	}
	return buf;
}
