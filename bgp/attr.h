/*
 * BGP path attributes in their decoded form (RFC 4271 4.3, 5.1; RFC 6793
 * 4-octet AS; RFC 1997 communities; RFC 4760 MP_REACH/MP_UNREACH). Shared
 * by the wire layer (bgp/msg*.c, which fills it from an UPDATE and builds
 * UPDATEs from it) and the RIB (bgp/rib*.c, which compares paths).
 *
 * An attrs object is immutable once built and may be shared by many
 * routes: it is reference counted (bgp_attrs_ref/unref) and interned by
 * the RIB so identical attribute sets are stored once.
 */
#ifndef CGW_BGP_ATTR_H
#define CGW_BGP_ATTR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bgp_origin {
	BGP_ORIGIN_IGP = 0,
	BGP_ORIGIN_EGP = 1,
	BGP_ORIGIN_INCOMPLETE = 2,
};

enum bgp_seg_type {
	BGP_AS_SET = 1,
	BGP_AS_SEQUENCE = 2,
};

struct bgp_as_seg {
	uint8_t type;			/* enum bgp_seg_type */
	uint8_t len;			/* number of ASes, 1..255 */
	uint32_t *as;			/* 4-octet ASes (AS4_PATH merged in) */
};

/* An optional transitive attribute we do not know: passed on as is
 * (with the Partial bit set when we forward it, RFC 4271 5). */
struct bgp_raw_attr {
	uint8_t flags, type;
	uint16_t len;
	uint8_t *data;
};

struct bgp_attrs {
	unsigned refcnt;
	uint32_t hash;			/* over everything below, for interning */

	uint8_t origin;			/* enum bgp_origin */
	size_t n_segs;
	struct bgp_as_seg *segs;	/* AS_PATH */
	struct in_addr next_hop;	/* NEXT_HOP, or MP_REACH's IPv4 next hop */
	bool has_med;
	uint32_t med;
	bool has_local_pref;
	uint32_t local_pref;
	bool atomic_aggregate;
	bool has_aggregator;
	uint32_t aggregator_as;
	struct in_addr aggregator_addr;
	size_t n_communities;
	uint32_t *communities;		/* RFC 1997, host order */
	size_t n_unknown;
	struct bgp_raw_attr *unknown;	/* optional transitive, unknown */
};

/* Number of ASes the path counts for best-path selection (a SET counts 1). */
unsigned bgp_as_path_length(const struct bgp_attrs *a);
/* First AS of the path (the neighbouring AS); 0 if empty or if the path
 * starts with an AS_SET. */
uint32_t bgp_as_path_first(const struct bgp_attrs *a);
/* True when asn appears anywhere in the path (loop detection). */
bool bgp_as_path_contains(const struct bgp_attrs *a, uint32_t asn);
/*
 * Put count (1..255) copies of asn in front of the path, into its leading
 * AS_SEQUENCE while it has room, else in a new one (for export). Call
 * before bgp_attrs_seal(). 0, -EINVAL, -ENOMEM (path unchanged).
 */
int bgp_as_path_prepend(struct bgp_attrs *a, uint32_t asn, unsigned count);

struct bgp_attrs *bgp_attrs_new(void);
struct bgp_attrs *bgp_attrs_ref(struct bgp_attrs *a);
void bgp_attrs_unref(struct bgp_attrs *a);
/* Deep copy (refcount 1), for building a modified export path. */
struct bgp_attrs *bgp_attrs_dup(const struct bgp_attrs *a);
/* Compute a->hash; call once when the attrs are complete. */
void bgp_attrs_seal(struct bgp_attrs *a);
bool bgp_attrs_equal(const struct bgp_attrs *a, const struct bgp_attrs *b);
/* "65000 64512 {1 2}", for status and logs. */
const char *bgp_as_path_str(const struct bgp_attrs *a, char *buf, size_t len);

#endif
