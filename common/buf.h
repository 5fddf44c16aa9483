/*
 * Bounded reader and writer for wire formats (IKE now, BGP later). The
 * reader is the only code that moves a cursor over untrusted bytes: every
 * getter checks the remaining length, and each length-prefixed structure
 * is parsed inside a child reader carved with rd_sub(). The writer fills a
 * caller buffer; running out of room is sticky and checked once, before
 * the message is sent.
 */
#ifndef CGW_BUF_H
#define CGW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of bytes owned by someone else (usually the received datagram). */
struct span {
	const uint8_t *p;
	size_t len;
};

struct buf_reader {
	const uint8_t *p;	/* next unread byte */
	size_t left;		/* bytes left to read */
	bool err;		/* sticky: a read ran past the end */
};

/* Start reading len bytes at data (data may be NULL when len is 0). */
void rd_init(struct buf_reader *r, const void *data, size_t len);

/*
 * Getters: 0 on success and the cursor moves on; -EBADMSG when fewer bytes
 * are left than asked (or an earlier read failed): the output is then
 * zeroed, nothing is consumed and the error sticks.
 */
int rd_u8(struct buf_reader *r, uint8_t *v);
int rd_be16(struct buf_reader *r, uint16_t *v);
int rd_be32(struct buf_reader *r, uint32_t *v);
int rd_be64(struct buf_reader *r, uint64_t *v);
/* Copy len bytes into dst. */
int rd_bytes(struct buf_reader *r, void *dst, size_t len);
/* Skip len bytes. */
int rd_skip(struct buf_reader *r, size_t len);
/* Zero-copy: a span of the next len bytes (valid as long as the buffer). */
int rd_span(struct buf_reader *r, size_t len, struct span *out);
/* Zero-copy: pointer to the next len bytes, or NULL (never NULL on success). */
const uint8_t *rd_ptr(struct buf_reader *r, size_t len);
/*
 * Carve the next len bytes into child and move past them: a
 * length-prefixed structure is then parsed inside child only.
 */
int rd_sub(struct buf_reader *r, size_t len, struct buf_reader *child);
/* Everything left, as a span (the reader is then exhausted). */
struct span rd_rest(struct buf_reader *r);

/* Bytes left to read. */
size_t rd_left(const struct buf_reader *r);
/* True when a read failed. */
bool rd_failed(const struct buf_reader *r);
/* True when every byte was consumed and no read failed. */
bool rd_done(const struct buf_reader *r);

struct buf_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;		/* sticky: a write did not fit (or a patch was bad) */
};

/* A reserved length field: where it is and where its structure starts. */
struct wr_mark {
	size_t start;		/* offset the length counts from */
	size_t field;		/* offset of the field itself */
	uint8_t width;		/* 2 or 4 bytes */
};

/* Write into buf[0..cap). */
void wr_init(struct buf_writer *w, void *buf, size_t cap);

/*
 * Writers append at the end; when the data does not fit nothing is written
 * and the writer is marked failed for good (later writes are ignored).
 */
void wr_u8(struct buf_writer *w, uint8_t v);
void wr_be16(struct buf_writer *w, uint16_t v);
void wr_be32(struct buf_writer *w, uint32_t v);
void wr_be64(struct buf_writer *w, uint64_t v);
void wr_bytes(struct buf_writer *w, const void *data, size_t len);
void wr_span(struct buf_writer *w, struct span s);
void wr_zero(struct buf_writer *w, size_t len);

/*
 * Reserve a 16/32-bit length field at the end of the buffer (written as
 * zero); wr_patch*_length() later stores the byte count from start (an
 * earlier wr_len(), the structure's first byte) to the current end. A
 * length that does not fit the field marks the writer failed.
 */
void wr_reserve16(struct buf_writer *w, size_t start, struct wr_mark *m);
void wr_reserve32(struct buf_writer *w, size_t start, struct wr_mark *m);
void wr_patch_length(struct buf_writer *w, const struct wr_mark *m);
/* Overwrite one byte written earlier (e.g. a "next payload" field). */
void wr_patch8(struct buf_writer *w, size_t off, uint8_t v);

/* Mark the writer failed (a builder met input it cannot encode). */
void wr_fail(struct buf_writer *w);
/* True once anything did not fit; the buffer must then not be sent. */
bool wr_failed(const struct buf_writer *w);
/* Bytes written so far. */
size_t wr_len(const struct buf_writer *w);
/* The bytes written so far, as a span (empty when failed). */
struct span wr_result(const struct buf_writer *w);

#endif
