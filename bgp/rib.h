/*
 * bgp/rib: the BGP routing information bases. Per peer an Adj-RIB-In
 * (update, withdraw, flush on session down, stale mark and sweep for the
 * graceful-restart helper of RFC 4724, max-prefix), one Loc-RIB with
 * best-path selection per prefix (RFC 4271 9.1.2.2, optional ECMP), and
 * batched change notification to the FIB and the export side.
 *
 * Data structure (IPv4 unicast):
 *   - a chained hash table of entries (one per prefix, 32 bytes) keyed by
 *     (address, length), power-of-two buckets, doubled at load factor 1;
 *     no ordered iteration is needed (the kernel does longest-prefix
 *     match), so a hash beats a radix tree on memory and cache misses;
 *   - per entry a singly linked list of paths (56 bytes each, one per peer
 *     that announced the prefix), best set first after each flush; each
 *     path is also on its peer's doubly linked list, so flush, stale mark
 *     and sweep cost O(that peer's routes), never a table scan;
 *   - attributes interned in a second hash table keyed by
 *     bgp_attrs->hash: identical attribute sets are one object, compared
 *     by pointer; the table holds one reference per distinct set;
 *   - entries and paths come from pools (1024 objects per block, no
 *     malloc header per object): at 100,000 prefixes 99 bytes per
 *     prefix with one path, 155 with two (both tunnels of a VPN),
 *     buckets included, attribute sets not (they are shared).
 *
 * Change batching: update/withdraw/flush only queue the entry (once) on
 * a change list; rib_flush_changes() then selects the best path of every
 * queued entry and calls each listener once per entry whose best set
 * differs from the one last notified. A path withdrawn while in the last
 * notified set stays as a "zombie" until that flush, so the callback sees
 * the old set exactly as it was notified.
 *
 * All functions return 0 (or a count) or -errno. Listeners must not
 * modify the RIB from their callbacks (rib_entry_set_installed() and
 * rib_set_installed() excepted).
 */
#ifndef CGW_BGP_RIB_H
#define CGW_BGP_RIB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/attr.h"
#include "conf/conf.h"

#define RIB_DEFAULT_LOCAL_PREF 100u	/* when LOCAL_PREF is absent */
#define RIB_MAX_ECMP 16u		/* next hops per prefix at most */
#define RIB_MAX_LISTENERS 4
#define RIB_PEER_NAME_MAX 32

/* The step that decided the best path, in RFC 4271 9.1.2.2 order. */
#define RIB_REASONS(X) \
	X(NONE, "none")			/* no eligible path */ \
	X(ONLY, "only-path") \
	X(LOCAL_PREF, "local-pref") \
	X(AS_PATH, "as-path-length") \
	X(ORIGIN, "origin") \
	X(MED, "med") \
	X(EBGP, "ebgp-over-ibgp") \
	X(ROUTER_ID, "router-id") \
	X(PEER_ADDR, "peer-address")

enum rib_reason {
#define X(id, name) RIB_REASON_##id,
	RIB_REASONS(X)
#undef X
};

struct rib_conf {
	bool ecmp;			/* multipath; off by default */
	unsigned max_paths;		/* ECMP width, 0: RIB_MAX_ECMP */
};

/* What the RIB knows about a peer (copied at rib_peer_add()). */
struct rib_peer_conf {
	char name[RIB_PEER_NAME_MAX];	/* for logs and status: the tunnel */
	struct in_addr addr;		/* peer address: the routes' gateway */
	unsigned ifindex;		/* its interface (the VTI); 0: any */
	uint32_t peer_as, local_as;	/* eBGP when they differ */
	struct in_addr router_id;	/* the peer's BGP identifier (OPEN) */
	bool always_compare_med;	/* compare MED across neighbour ASes */
	uint32_t max_prefix;		/* prefixes accepted at most; 0: none */
};

struct rib_peer_counts {
	size_t received;		/* prefixes in its Adj-RIB-In */
	size_t accepted;		/* of those, eligible (no AS_PATH loop) */
	size_t best;			/* of those, in a best set (last flush) */
	size_t stale;			/* of those, stale (graceful restart) */
};

struct rib;
struct rib_peer;
struct rib_entry;			/* one prefix of the Loc-RIB */

/* One path of a best set. attrs are interned: equal sets, equal pointers. */
struct rib_sel {
	const struct rib_peer *peer;	/* rib_peer_conf() gives its next hop */
	const struct bgp_attrs *attrs;
};

/* A best-set change, as listeners see it; pointers valid during the call. */
struct rib_change {
	struct rib_entry *entry;	/* for rib_entry_set_installed() */
	struct cgw_prefix prefix;
	const struct rib_sel *old_best;	/* as last notified (best first) */
	size_t n_old;
	const struct rib_sel *new_best;	/* empty: the prefix is gone */
	size_t n_new;
	bool forced;			/* same paths, but a peer's next hop moved */
};

struct rib_listener {
	void (*change)(const struct rib_change *c, void *arg);
	void (*batch_done)(void *arg);	/* after a flush's last change; NULL ok */
	void *arg;
};

/* Status: one path of a prefix. */
struct rib_path_info {
	const struct rib_peer *peer;
	const struct rib_peer_conf *peer_conf;
	const struct bgp_attrs *attrs;	/* AS path, MED, LOCAL_PREF, ORIGIN */
	bool best;			/* in the best set (last flush) */
	bool stale;			/* graceful restart: not yet refreshed */
	bool eligible;			/* false: AS_PATH loop, never selected */
};

/* Status: one prefix, best set first (paths[0..n_best)). */
struct rib_route {
	struct cgw_prefix prefix;
	struct rib_entry *entry;
	enum rib_reason reason;		/* why paths[0] won */
	bool installed;			/* the FIB has it in the kernel */
	size_t n_best, n_paths;
	const struct rib_path_info *paths;
};

/* Return non-zero to stop the walk (rib_walk() returns that value). */
typedef int (*rib_walk_fn)(const struct rib_route *r, void *arg);

struct rib_stats {
	size_t prefixes, paths, attrs, peers, pending;
	size_t bytes;			/* tables and pools held by the RIB */
};

/* A candidate for rib_select(): a path's attributes and its peer. */
struct rib_cand {
	const struct bgp_attrs *attrs;
	const struct rib_peer_conf *peer;
	void *user;			/* the caller's, carried along */
	bool drop;			/* scratch for rib_select() */
};

/* ---- Loc-RIB ---- */

/* New empty RIB (conf NULL: defaults). 0 or -ENOMEM/-EINVAL. */
int rib_new(const struct rib_conf *conf, struct rib **out);
/* Free everything, peers included; no listener is called. NULL ok. */
void rib_free(struct rib *rib);
/* Add a listener (copied). 0, or -ENOSPC beyond RIB_MAX_LISTENERS. */
int rib_listen(struct rib *rib, const struct rib_listener *l);
/* Remove the listeners registered with this arg. */
void rib_unlisten(struct rib *rib, void *arg);
/* Switch ECMP; every prefix is queued for re-selection (O(prefixes): a
 * reload, not a per-update path). */
void rib_set_ecmp(struct rib *rib, bool ecmp, unsigned max_paths);

/* ---- Peers ---- */

/* Register a peer. -EEXIST if one with that address exists, -EINVAL. */
int rib_peer_add(struct rib *rib, const struct rib_peer_conf *conf,
		 struct rib_peer **out);
/*
 * Change a peer's router id, address, interface, MED rule, limit or
 * name (its ASes are fixed: -EINVAL). A new address or interface queues
 * its best prefixes as forced changes, so the FIB re-installs them.
 */
int rib_peer_update(struct rib *rib, struct rib_peer *p,
		    const struct rib_peer_conf *conf);
/* Withdraw all its routes and drop the handle (freed after the next flush). */
void rib_peer_del(struct rib *rib, struct rib_peer *p);
const struct rib_peer_conf *rib_peer_conf(const struct rib_peer *p);
void rib_peer_counts(const struct rib_peer *p, struct rib_peer_counts *out);

/* ---- Adj-RIB-In ---- */

/*
 * Install or replace peer p's path to prefix (IPv4, host bits zero).
 * attrs must be sealed (bgp_attrs_seal) and never modified again; the
 * RIB takes its own reference or shares an equal interned set, the
 * caller keeps its own. Refreshes a stale path. -ERANGE (path not
 * stored, logged with the count) when a new prefix would exceed the
 * peer's max-prefix: the FSM sends Cease/1. -EAFNOSUPPORT for IPv6,
 * -EINVAL for a bad prefix, -ENOMEM.
 */
int rib_update(struct rib *rib, struct rib_peer *p, const struct cgw_prefix *prefix,
	       struct bgp_attrs *attrs);
/* Remove p's path to prefix; -ENOENT if it had none. */
int rib_withdraw(struct rib *rib, struct rib_peer *p, const struct cgw_prefix *prefix);
/* Session down: withdraw all p's paths at once; returns how many. */
size_t rib_flush_peer(struct rib *rib, struct rib_peer *p);
/* Graceful restart: mark all p's paths stale (still used); returns how many. */
size_t rib_mark_stale(struct rib *rib, struct rib_peer *p);
/* End-of-RIB or restart timer: withdraw p's paths still stale; how many. */
size_t rib_sweep_stale(struct rib *rib, struct rib_peer *p);

/* ---- Changes ---- */

/*
 * Select the best path of every prefix changed since the last call and
 * tell each listener about those whose best set changed (then
 * batch_done). Call from an idle or timer watcher, so a burst of UPDATEs
 * is one batch. Returns the number of changes notified.
 */
size_t rib_flush_changes(struct rib *rib);
/* Prefixes queued for the next flush. */
size_t rib_pending(const struct rib *rib);

/* ---- Queries ---- */

/* Call fn for every prefix with at least one path, in hash order. r and
 * its paths are valid during the call; fn must not walk or look up again. */
int rib_walk(struct rib *rib, rib_walk_fn fn, void *arg);
/* Call fn for one prefix; -ENOENT if the RIB has no path to it. */
int rib_lookup(struct rib *rib, const struct cgw_prefix *prefix, rib_walk_fn fn,
	       void *arg);
void rib_stats(const struct rib *rib, struct rib_stats *out);

/* The FIB's mark: whether the entry's best set is in the kernel. */
bool rib_entry_installed(const struct rib_entry *e);
void rib_entry_set_installed(struct rib_entry *e, bool installed);
/* The same by prefix (asynchronous kernel errors); -ENOENT if gone. */
int rib_set_installed(struct rib *rib, const struct cgw_prefix *prefix, bool installed);

/* ---- Best path (rib-select.c) ---- */

/*
 * Order cands[0..n) so the best path is cands[0], by RFC 4271 9.1.2.2:
 * highest LOCAL_PREF (RIB_DEFAULT_LOCAL_PREF if absent), shortest
 * AS_PATH, lowest ORIGIN, lowest MED among paths from the same
 * neighbouring AS (any two when both peers always compare MED; absent
 * MED = 0), eBGP over iBGP, lowest router id, lowest peer address.
 * Returns k, the number of paths equal with the best through the eBGP
 * step (cands[0..k): the ECMP set, ordered by router id and address);
 * *reason (may be NULL) is the step that made cands[0] the winner.
 */
size_t rib_select(struct rib_cand *cands, size_t n, enum rib_reason *reason);
const char *rib_reason_name(enum rib_reason r);

#endif
