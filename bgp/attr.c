/*
 * Decoded path attributes (bgp/attr.h): life cycle (refcount, deep copy),
 * the interning hash and equality, and the AS_PATH helpers. Knows nothing
 * of the wire: bgp/msg*.c fill and encode these objects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/attr.h"

struct bgp_attrs *bgp_attrs_new(void)
{
	struct bgp_attrs *a = calloc(1, sizeof(*a));

	if (a)
		a->refcnt = 1;
	return a;
}

struct bgp_attrs *bgp_attrs_ref(struct bgp_attrs *a)
{
	if (a)
		a->refcnt++;
	return a;
}

static void attrs_free(struct bgp_attrs *a)
{
	for (size_t i = 0; i < a->n_segs; i++)
		free(a->segs[i].as);
	free(a->segs);
	free(a->communities);
	for (size_t i = 0; i < a->n_unknown; i++)
		free(a->unknown[i].data);
	free(a->unknown);
	free(a);
}

void bgp_attrs_unref(struct bgp_attrs *a)
{
	if (a && --a->refcnt == 0)
		attrs_free(a);
}

/* malloc(n * size) that is never NULL-for-zero ambiguous: NULL only on failure. */
static void *dup_array(const void *src, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (p)
		memcpy(p, src, n * size);
	return p;
}

static int dup_segs(struct bgp_attrs *d, const struct bgp_attrs *a)
{
	if (a->n_segs == 0)
		return 0;
	d->segs = calloc(a->n_segs, sizeof(*d->segs));
	if (!d->segs)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_segs; i++) {
		d->segs[i] = a->segs[i];
		d->segs[i].as = dup_array(a->segs[i].as, a->segs[i].len, sizeof(uint32_t));
		d->n_segs = i + 1;
		if (a->segs[i].len && !d->segs[i].as)
			return -ENOMEM;
	}
	return 0;
}

static int dup_unknown(struct bgp_attrs *d, const struct bgp_attrs *a)
{
	if (a->n_unknown == 0)
		return 0;
	d->unknown = calloc(a->n_unknown, sizeof(*d->unknown));
	if (!d->unknown)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_unknown; i++) {
		d->unknown[i] = a->unknown[i];
		d->unknown[i].data = dup_array(a->unknown[i].data, a->unknown[i].len, 1);
		d->n_unknown = i + 1;
		if (a->unknown[i].len && !d->unknown[i].data)
			return -ENOMEM;
	}
	return 0;
}

struct bgp_attrs *bgp_attrs_dup(const struct bgp_attrs *a)
{
	struct bgp_attrs *d = bgp_attrs_new();

	if (!d)
		return NULL;
	*d = *a;
	d->refcnt = 1;
	d->segs = NULL;
	d->n_segs = 0;
	d->unknown = NULL;
	d->n_unknown = 0;
	d->communities = dup_array(a->communities, a->n_communities, sizeof(uint32_t));
	if ((a->n_communities && !d->communities) || dup_segs(d, a) < 0 ||
	    dup_unknown(d, a) < 0) {
		if (!d->communities)
			d->n_communities = 0;
		attrs_free(d);
		return NULL;
	}
	return d;
}

/* FNV-1a, 32 bits, fed field by field in a fixed order (the canonical form). */
struct fnv {
	uint32_t h;
};

static void fnv_bytes(struct fnv *f, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		f->h ^= p[i];
		f->h *= 16777619u;
	}
}

static void fnv_u32(struct fnv *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	fnv_bytes(f, b, sizeof(b));
}

void bgp_attrs_seal(struct bgp_attrs *a)
{
	struct fnv f = { 2166136261u };

	fnv_u32(&f, a->origin);
	fnv_u32(&f, (uint32_t)a->n_segs);
	for (size_t i = 0; i < a->n_segs; i++) {
		fnv_u32(&f, (uint32_t)a->segs[i].type << 8 | a->segs[i].len);
		for (size_t j = 0; j < a->segs[i].len; j++)
			fnv_u32(&f, a->segs[i].as[j]);
	}
	fnv_bytes(&f, &a->next_hop, sizeof(a->next_hop));
	fnv_u32(&f, (uint32_t)a->has_med << 2 | (uint32_t)a->has_local_pref << 1 |
		    (uint32_t)a->atomic_aggregate);
	fnv_u32(&f, a->has_med ? a->med : 0);
	fnv_u32(&f, a->has_local_pref ? a->local_pref : 0);
	fnv_u32(&f, a->has_aggregator);
	if (a->has_aggregator) {
		fnv_u32(&f, a->aggregator_as);
		fnv_bytes(&f, &a->aggregator_addr, sizeof(a->aggregator_addr));
	}
	fnv_u32(&f, (uint32_t)a->n_communities);
	for (size_t i = 0; i < a->n_communities; i++)
		fnv_u32(&f, a->communities[i]);
	fnv_u32(&f, (uint32_t)a->n_unknown);
	for (size_t i = 0; i < a->n_unknown; i++) {
		const struct bgp_raw_attr *u = &a->unknown[i];

		fnv_u32(&f, (uint32_t)u->flags << 24 | (uint32_t)u->type << 16 | u->len);
		fnv_bytes(&f, u->data, u->len);
	}
	a->hash = f.h;
}

static bool segs_equal(const struct bgp_attrs *a, const struct bgp_attrs *b)
{
	if (a->n_segs != b->n_segs)
		return false;
	for (size_t i = 0; i < a->n_segs; i++) {
		const struct bgp_as_seg *x = &a->segs[i], *y = &b->segs[i];

		if (x->type != y->type || x->len != y->len ||
		    (x->len && memcmp(x->as, y->as, x->len * sizeof(uint32_t))))
			return false;
	}
	return true;
}

static bool unknown_equal(const struct bgp_attrs *a, const struct bgp_attrs *b)
{
	if (a->n_unknown != b->n_unknown)
		return false;
	for (size_t i = 0; i < a->n_unknown; i++) {
		const struct bgp_raw_attr *x = &a->unknown[i], *y = &b->unknown[i];

		if (x->flags != y->flags || x->type != y->type || x->len != y->len ||
		    (x->len && memcmp(x->data, y->data, x->len)))
			return false;
	}
	return true;
}

bool bgp_attrs_equal(const struct bgp_attrs *a, const struct bgp_attrs *b)
{
	if (a == b)
		return true;
	if (a->origin != b->origin || a->next_hop.s_addr != b->next_hop.s_addr ||
	    a->has_med != b->has_med || (a->has_med && a->med != b->med) ||
	    a->has_local_pref != b->has_local_pref ||
	    (a->has_local_pref && a->local_pref != b->local_pref) ||
	    a->atomic_aggregate != b->atomic_aggregate ||
	    a->has_aggregator != b->has_aggregator)
		return false;
	if (a->has_aggregator && (a->aggregator_as != b->aggregator_as ||
				  a->aggregator_addr.s_addr != b->aggregator_addr.s_addr))
		return false;
	if (a->n_communities != b->n_communities ||
	    (a->n_communities && memcmp(a->communities, b->communities,
					a->n_communities * sizeof(uint32_t))))
		return false;
	return segs_equal(a, b) && unknown_equal(a, b);
}

unsigned bgp_as_path_length(const struct bgp_attrs *a)
{
	unsigned n = 0;

	for (size_t i = 0; i < a->n_segs; i++)
		n += a->segs[i].type == BGP_AS_SET ? 1 : a->segs[i].len;
	return n;
}

uint32_t bgp_as_path_first(const struct bgp_attrs *a)
{
	if (a->n_segs == 0 || a->segs[0].type != BGP_AS_SEQUENCE || a->segs[0].len == 0)
		return 0;
	return a->segs[0].as[0];
}

bool bgp_as_path_contains(const struct bgp_attrs *a, uint32_t asn)
{
	for (size_t i = 0; i < a->n_segs; i++)
		for (size_t j = 0; j < a->segs[i].len; j++)
			if (a->segs[i].as[j] == asn)
				return true;
	return false;
}

/* Insert count copies of asn at the front of the first segment. */
static int prepend_into(struct bgp_as_seg *s, uint32_t asn, unsigned count)
{
	uint32_t *as = malloc((s->len + count) * sizeof(uint32_t));

	if (!as)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++)
		as[i] = asn;
	if (s->len)
		memcpy(as + count, s->as, s->len * sizeof(uint32_t));
	free(s->as);
	s->as = as;
	s->len = (uint8_t)(s->len + count);
	return 0;
}

int bgp_as_path_prepend(struct bgp_attrs *a, uint32_t asn, unsigned count)
{
	struct bgp_as_seg *segs;

	if (count == 0 || count > 255)
		return count ? -EINVAL : 0;
	if (a->n_segs && a->segs[0].type == BGP_AS_SEQUENCE &&
	    a->segs[0].len + count <= 255)
		return prepend_into(&a->segs[0], asn, count);
	segs = realloc(a->segs, (a->n_segs + 1) * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	a->segs = segs;
	memmove(segs + 1, segs, a->n_segs * sizeof(*segs));
	segs[0].type = BGP_AS_SEQUENCE;
	segs[0].len = 0;
	segs[0].as = NULL;
	a->n_segs++;
	if (prepend_into(&segs[0], asn, count) < 0) {
		a->n_segs--;
		memmove(segs, segs + 1, a->n_segs * sizeof(*segs));
		return -ENOMEM;
	}
	return 0;
}

/* Append with snprintf semantics; *off may pass len (output truncated). */
static void put(char *buf, size_t len, size_t *off, const char *s, uint32_t v, bool num)
{
	int n;

	if (*off >= len)
		return;
	n = num ? snprintf(buf + *off, len - *off, "%s%u", s, v)
		: snprintf(buf + *off, len - *off, "%s", s);
	if (n > 0)
		*off += (size_t)n;
}

const char *bgp_as_path_str(const struct bgp_attrs *a, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < a->n_segs; i++) {
		const struct bgp_as_seg *s = &a->segs[i];
		bool set = s->type == BGP_AS_SET;

		if (i)
			put(buf, len, &off, " ", 0, false);
		if (set)
			put(buf, len, &off, "{", 0, false);
		for (size_t j = 0; j < s->len; j++)
			put(buf, len, &off, j ? " " : "", s->as[j], true);
		if (set)
			put(buf, len, &off, "}", 0, false);
	}
	if (off >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}
