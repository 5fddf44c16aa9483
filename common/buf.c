/*
 * The bounded reader and writer (see buf.h): the only place that does
 * pointer arithmetic on wire buffers.
 */
#include <errno.h>
#include <string.h>

#include "common/buf.h"

static const uint8_t empty_byte;

void rd_init(struct buf_reader *r, const void *data, size_t len)
{
	r->p = data ? data : &empty_byte;
	r->left = data ? len : 0;
	r->err = false;
}

/* Check that len bytes can be taken; on failure make the error stick. */
static bool rd_have(struct buf_reader *r, size_t len)
{
	if (r->err || len > r->left) {
		r->err = true;
		return false;
	}
	return true;
}

static const uint8_t *rd_take(struct buf_reader *r, size_t len)
{
	const uint8_t *p;

	if (!rd_have(r, len))
		return NULL;
	p = r->p;
	r->p += len;
	r->left -= len;
	return p;
}

int rd_u8(struct buf_reader *r, uint8_t *v)
{
	const uint8_t *p = rd_take(r, 1);

	*v = p ? p[0] : 0;
	return p ? 0 : -EBADMSG;
}

int rd_be16(struct buf_reader *r, uint16_t *v)
{
	const uint8_t *p = rd_take(r, 2);

	*v = p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
	return p ? 0 : -EBADMSG;
}

int rd_be32(struct buf_reader *r, uint32_t *v)
{
	const uint8_t *p = rd_take(r, 4);

	*v = p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		 (uint32_t)p[2] << 8 | p[3] : 0;
	return p ? 0 : -EBADMSG;
}

int rd_be64(struct buf_reader *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (!rd_have(r, 8)) {
		*v = 0;
		return -EBADMSG;
	}
	rd_be32(r, &hi);
	rd_be32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int rd_bytes(struct buf_reader *r, void *dst, size_t len)
{
	const uint8_t *p = rd_take(r, len);

	if (!p) {
		if (len)
			memset(dst, 0, len);
		return -EBADMSG;
	}
	if (len)
		memcpy(dst, p, len);
	return 0;
}

int rd_skip(struct buf_reader *r, size_t len)
{
	return rd_take(r, len) ? 0 : -EBADMSG;
}

int rd_span(struct buf_reader *r, size_t len, struct span *out)
{
	const uint8_t *p = rd_take(r, len);

	out->p = p ? p : &empty_byte;
	out->len = p ? len : 0;
	return p ? 0 : -EBADMSG;
}

const uint8_t *rd_ptr(struct buf_reader *r, size_t len)
{
	return rd_take(r, len);
}

int rd_sub(struct buf_reader *r, size_t len, struct buf_reader *child)
{
	const uint8_t *p = rd_take(r, len);

	child->p = p ? p : &empty_byte;
	child->left = p ? len : 0;
	child->err = !p;
	return p ? 0 : -EBADMSG;
}

struct span rd_rest(struct buf_reader *r)
{
	struct span s;

	if (r->err) {
		s.p = &empty_byte;
		s.len = 0;
		return s;
	}
	rd_span(r, r->left, &s);
	return s;
}

size_t rd_left(const struct buf_reader *r)
{
	return r->err ? 0 : r->left;
}

bool rd_failed(const struct buf_reader *r)
{
	return r->err;
}

bool rd_done(const struct buf_reader *r)
{
	return !r->err && r->left == 0;
}

void wr_init(struct buf_writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->overflow = false;
}

/* Room for len more bytes at the end, or NULL (and the failure sticks). */
static uint8_t *wr_room(struct buf_writer *w, size_t len)
{
	uint8_t *p;

	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += len;
	return p;
}

void wr_u8(struct buf_writer *w, uint8_t v)
{
	uint8_t *p = wr_room(w, 1);

	if (p)
		p[0] = v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void wr_be16(struct buf_writer *w, uint16_t v)
{
	uint8_t *p = wr_room(w, 2);

	if (p)
		put_be16(p, v);
}

void wr_be32(struct buf_writer *w, uint32_t v)
{
	uint8_t *p = wr_room(w, 4);

	if (p)
		put_be32(p, v);
}

void wr_be64(struct buf_writer *w, uint64_t v)
{
	uint8_t *p = wr_room(w, 8);

	if (p) {
		put_be32(p, (uint32_t)(v >> 32));
		put_be32(p + 4, (uint32_t)v);
	}
}

void wr_bytes(struct buf_writer *w, const void *data, size_t len)
{
	uint8_t *p = wr_room(w, len);

	if (p && len)
		memcpy(p, data, len);
}

void wr_span(struct buf_writer *w, struct span s)
{
	wr_bytes(w, s.p, s.len);
}

void wr_zero(struct buf_writer *w, size_t len)
{
	uint8_t *p = wr_room(w, len);

	if (p && len)
		memset(p, 0, len);
}

static void wr_reserve(struct buf_writer *w, size_t start, uint8_t width,
		       struct wr_mark *m)
{
	m->start = start;
	m->field = w->len;
	m->width = width;
	if (start > w->len)
		wr_fail(w);
	wr_zero(w, width);
}

void wr_reserve16(struct buf_writer *w, size_t start, struct wr_mark *m)
{
	wr_reserve(w, start, 2, m);
}

void wr_reserve32(struct buf_writer *w, size_t start, struct wr_mark *m)
{
	wr_reserve(w, start, 4, m);
}

void wr_patch_length(struct buf_writer *w, const struct wr_mark *m)
{
	size_t n;

	if (w->overflow)
		return;
	if (m->start > w->len || m->field > w->len ||
	    m->width > w->len - m->field) {
		wr_fail(w);
		return;
	}
	n = w->len - m->start;
	if (m->width == 2 && n <= UINT16_MAX)
		put_be16(w->buf + m->field, (uint16_t)n);
	else if (m->width == 4 && n <= UINT32_MAX)
		put_be32(w->buf + m->field, (uint32_t)n);
	else
		wr_fail(w);
}

void wr_patch8(struct buf_writer *w, size_t off, uint8_t v)
{
	if (w->overflow)
		return;
	if (off >= w->len) {
		wr_fail(w);
		return;
	}
	w->buf[off] = v;
}

void wr_fail(struct buf_writer *w)
{
	w->overflow = true;
}

bool wr_failed(const struct buf_writer *w)
{
	return w->overflow;
}

size_t wr_len(const struct buf_writer *w)
{
	return w->len;
}

struct span wr_result(const struct buf_writer *w)
{
	struct span s;

	s.p = w->overflow || !w->buf ? &empty_byte : w->buf;
	s.len = w->overflow ? 0 : w->len;
	return s;
}
