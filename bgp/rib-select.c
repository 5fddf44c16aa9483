/*
 * Best-path selection (RFC 4271 9.1.2.2) as elimination rounds over a
 * small candidate array: each step keeps, stably at the front, the paths
 * that are best by that step. Set elimination (not pairwise comparison)
 * makes the MED step independent of the order paths arrived in.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "bgp/rib.h"

static const char *const reason_names[] = {
#define X(id, name) [RIB_REASON_##id] = name,
	RIB_REASONS(X)
#undef X
};

const char *rib_reason_name(enum rib_reason r)
{
	if ((size_t)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "?";
	return reason_names[r];
}

static uint32_t local_pref(const struct rib_cand *c)
{
	return c->attrs->has_local_pref ? c->attrs->local_pref : RIB_DEFAULT_LOCAL_PREF;
}

static uint32_t med(const struct rib_cand *c)
{
	return c->attrs->has_med ? c->attrs->med : 0;
}

/* RFC 4271 9.1.2.2 c: an empty AS_PATH comes from our own AS. */
static uint32_t neighbour_as(const struct rib_cand *c)
{
	uint32_t as = bgp_as_path_first(c->attrs);

	return as ? as : c->peer->local_as;
}

static bool med_comparable(const struct rib_cand *a, const struct rib_cand *b)
{
	if (a->peer->always_compare_med && b->peer->always_compare_med)
		return true;
	return neighbour_as(a) == neighbour_as(b);
}

/* Keys where lower is better. */
static uint64_t key_local_pref(const struct rib_cand *c)
{
	return UINT32_MAX - (uint64_t)local_pref(c);
}

static uint64_t key_as_path(const struct rib_cand *c)
{
	return bgp_as_path_length(c->attrs);
}

static uint64_t key_origin(const struct rib_cand *c)
{
	return c->attrs->origin;
}

static uint64_t key_ibgp(const struct rib_cand *c)
{
	return c->peer->peer_as == c->peer->local_as;
}

static uint64_t key_id(const struct rib_cand *c)
{
	return (uint64_t)ntohl(c->peer->router_id.s_addr) << 32 | ntohl(c->peer->addr.s_addr);
}

/* Move the candidates not marked drop to the front, keeping their order. */
static size_t keep_undropped(struct rib_cand *c, size_t m)
{
	size_t k = 0;

	for (size_t i = 0; i < m; i++) {
		struct rib_cand t = c[i];

		if (t.drop)
			continue;
		memmove(&c[k + 1], &c[k], (i - k) * sizeof(*c));
		c[k++] = t;
	}
	return k;
}

static size_t keep_min(struct rib_cand *c, size_t m, uint64_t (*key)(const struct rib_cand *))
{
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < m; i++)
		if (key(&c[i]) < best)
			best = key(&c[i]);
	for (size_t i = 0; i < m; i++)
		c[i].drop = key(&c[i]) != best;
	return keep_undropped(c, m);
}

/* Drop each path that a comparable path beats on MED. */
static size_t keep_med(struct rib_cand *c, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		c[i].drop = false;
		for (size_t j = 0; j < m && !c[i].drop; j++)
			c[i].drop = j != i && med(&c[j]) < med(&c[i]) &&
				    med_comparable(&c[i], &c[j]);
	}
	return keep_undropped(c, m);
}

/* Stable insertion sort of the survivors by router id, then address. */
static void sort_by_id(struct rib_cand *c, size_t m)
{
	for (size_t i = 1; i < m; i++) {
		struct rib_cand t = c[i];
		size_t j = i;

		for (; j > 0 && key_id(&c[j - 1]) > key_id(&t); j--)
			c[j] = c[j - 1];
		c[j] = t;
	}
}

size_t rib_select(struct rib_cand *cands, size_t n, enum rib_reason *reason)
{
	static const struct {
		enum rib_reason reason;
		uint64_t (*key)(const struct rib_cand *c);	/* NULL: MED */
	} steps[] = {
		{ RIB_REASON_LOCAL_PREF, key_local_pref },
		{ RIB_REASON_AS_PATH, key_as_path },
		{ RIB_REASON_ORIGIN, key_origin },
		{ RIB_REASON_MED, NULL },
		{ RIB_REASON_EBGP, key_ibgp },
	};
	enum rib_reason why = n == 0 ? RIB_REASON_NONE : RIB_REASON_ONLY;
	size_t m = n;

	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]) && m > 1; s++) {
		m = steps[s].key ? keep_min(cands, m, steps[s].key) : keep_med(cands, m);
		if (m == 1)
			why = steps[s].reason;
	}
	if (m > 1) {
		sort_by_id(cands, m);
		why = cands[0].peer->router_id.s_addr != cands[1].peer->router_id.s_addr ?
		      RIB_REASON_ROUTER_ID : RIB_REASON_PEER_ADDR;
	}
	if (reason)
		*reason = why;
	return m;
}
