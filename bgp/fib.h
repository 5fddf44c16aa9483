/*
 * bgp/fib: the Loc-RIB's best paths as kernel IPv4 routes, protocol
 * "bgp" (RTPROT_BGP = 186, cgw's ownership marker) in one configurable
 * table with one configurable metric; next hop = the peer's address via
 * its interface (the tunnel's VTI), RTA_MULTIPATH for an ECMP set.
 *
 * Two layers:
 *   - a backend (fib-netlink.c: the kernel over rtnetlink; fib-fake.c: a
 *     recording fake with an in-memory table) that
 *     queues route requests and sends them in batches: many messages per
 *     sendmsg, no NLM_F_ACK, so the kernel answers only failures, which
 *     are read back without blocking and matched to their route by
 *     sequence number. Errors lost to a full socket buffer (ENOBUFS)
 *     make the FIB resynchronise: dump the kernel's bgp routes and diff.
 *   - the FIB itself, a RIB listener: each best-set change becomes one
 *     request (create-exclusive for a new prefix, NLM_F_REPLACE when the
 *     best path moves, so there is never a gap, delete when it goes); a
 *     RIB flush is one batch, committed at its end.
 *
 * Ownership: a kernel route is cgw's iff its protocol is 186 and it is in
 * the configured table (any metric); deletes carry protocol 186, so the
 * kernel never matches someone else's route. A new prefix is added with
 * NLM_F_EXCL: another owner's route with the same prefix and metric is
 * left alone (the prefix stays "not installed", logged).
 *
 * Every function returns 0 (or a count) or -errno.
 */
#ifndef CGW_BGP_FIB_H
#define CGW_BGP_FIB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/rib.h"

#define FIB_RTPROT_BGP 186		/* RTPROT_BGP: our ownership marker */
#define FIB_DEFAULT_TABLE 254u		/* RT_TABLE_MAIN */
#define FIB_DEFAULT_METRIC 20u		/* as FRR's zebra uses for eBGP */
#define FIB_MAX_NH RIB_MAX_ECMP

struct fib_nh {
	struct in_addr gw;		/* the peer's inside address */
	unsigned ifindex;		/* its VTI; 0: the kernel resolves gw */
};

struct fib_route {
	struct in_addr dst;
	uint8_t len;
	uint8_t protocol;		/* requests: FIB_RTPROT_BGP */
	uint32_t table, metric;
	uint8_t n_nh;			/* 0 only for deletes */
	bool truncated;			/* dump: more than FIB_MAX_NH next hops */
	struct fib_nh nh[FIB_MAX_NH];	/* sorted by ifindex, then gateway */
};

enum fib_op {
	FIB_OP_ADD,			/* NLM_F_CREATE | NLM_F_EXCL */
	FIB_OP_REPLACE,			/* NLM_F_CREATE | NLM_F_REPLACE */
	FIB_OP_DEL,
};

/* ---- Backend ---- */

/* A request the kernel refused: err (-errno), msg its extended ack or NULL. */
typedef void (*fib_result_fn)(enum fib_op op, struct in_addr dst, uint8_t len, int err,
			      const char *msg, void *arg);
/* One route of a dump; non-zero stops the dump (and is returned). */
typedef int (*fib_dump_fn)(const struct fib_route *r, void *arg);

struct fib_backend;

struct fib_backend_ops {
	const char *name;
	/* Queue a request; may send a full batch (failures to result). */
	int (*queue)(struct fib_backend *b, enum fib_op op, const struct fib_route *r);
	/* Send what is queued and read its failures. */
	int (*commit)(struct fib_backend *b);
	/* Commit, then call fn for each protocol-186 route in table. */
	int (*dump)(struct fib_backend *b, uint32_t table, fib_dump_fn fn, void *arg);
	void (*close)(struct fib_backend *b);
};

struct fib_backend {
	const struct fib_backend_ops *ops;
	fib_result_fn result;
	void *result_arg;
	size_t sends, msgs;		/* batches sent, requests in them */
};

struct fib_nl_opts {
	size_t batch_bytes;		/* per sendmsg; 0: 64 KiB */
	int rcvbuf;			/* bytes for error replies; 0: 4 MiB */
};

/*
 * Open the rtnetlink backend in the caller's network namespace (opts
 * NULL: defaults). Needs CAP_NET_ADMIN to change routes.
 */
int fib_netlink_open(const struct fib_nl_opts *opts, struct fib_backend **out);
/* The recording fake: an in-memory routing table, one log line per call. */
int fib_fake_open(struct fib_backend **out);
void fib_backend_close(struct fib_backend *b);
void fib_backend_set_result(struct fib_backend *b, fib_result_fn fn, void *arg);
/*
 * Queue, commit, dump: 0 (dump: fn's non-zero value) or -errno.
 * -ENOBUFS: failures were lost (socket buffer overrun), the kernel's
 * state is unknown: dump and diff. -EAGAIN from dump: the table changed
 * during the dump, try again.
 */
int fib_backend_queue(struct fib_backend *b, enum fib_op op, const struct fib_route *r);
int fib_backend_commit(struct fib_backend *b);
int fib_backend_dump(struct fib_backend *b, uint32_t table, fib_dump_fn fn, void *arg);

/* For backends: tell b's result function about a refused request. */
void fib_backend_report(struct fib_backend *b, enum fib_op op, uint32_t dst, uint8_t len,
			int err, const char *msg);
/* Next hops in canonical order (ifindex, then gateway), for comparing. */
void fib_route_sort_nh(struct fib_route *r);

/* fib-netlink.c's parsers, for tests/fuzz. One message of a route dump:
 * 1 and r filled if it is a protocol-186 IPv4 route in table, 0 if not,
 * -EINVAL if malformed. One datagram of failure replies: fn for each. */
struct nlmsghdr;
typedef void (*fib_nl_error_fn)(uint32_t seq, int err, const char *msg, void *arg);
int fib_nl_parse_route(const struct nlmsghdr *nlh, uint32_t table, struct fib_route *r);
void fib_nl_parse_errors(const void *buf, size_t len, fib_nl_error_fn fn, void *arg);

/* Fake only: the calls so far ("add 10.0.0.0/24 table 254 metric 20
 * via 169.254.10.1 dev 7", "commit 1", "dump 3"), and clearing it. */
const char *fib_fake_log(struct fib_backend *b);
void fib_fake_log_clear(struct fib_backend *b);
/* Requests for dst/len fail with err from now on (err 0: no more). */
int fib_fake_fail(struct fib_backend *b, struct in_addr dst, uint8_t len, int err);
/* The next commit loses its failure replies and returns -ENOBUFS. */
void fib_fake_overrun_next(struct fib_backend *b);
/* Put a route in the fake kernel as is (a leftover, someone else's). */
int fib_fake_insert(struct fib_backend *b, const struct fib_route *r);
/* Routes in the fake kernel, all protocols. */
size_t fib_fake_count(const struct fib_backend *b);

/* ---- FIB ---- */

struct fib_conf {
	uint32_t table;			/* 0: FIB_DEFAULT_TABLE */
	uint32_t metric;		/* 0: FIB_DEFAULT_METRIC */
};

struct fib_stats {
	size_t adds, replaces, dels;	/* requests queued */
	size_t errors;			/* requests the kernel refused */
	size_t enobufs, resyncs;
	size_t adopted;			/* kernel routes taken over as they were */
	size_t leftovers;		/* held by fib_hold_leftovers(), not yet adopted */
};

struct fib;

/*
 * Create the FIB over rib, taking be (closed by fib_free()), and listen
 * to rib's changes. The kernel is not touched until the first flush:
 * call fib_reconcile() or fib_hold_leftovers() first.
 */
int fib_new(struct rib *rib, const struct fib_conf *conf, struct fib_backend *be,
	    struct fib **out);
/* Stop listening, close the backend; kernel routes stay (fib_remove_all()
 * first). Before rib_free(). NULL ok. */
void fib_free(struct fib *f);
/*
 * Bring the kernel in line with the RIB's notified best sets: dump our
 * routes, keep those equal (adopted), replace those that differ, add
 * what is missing, delete the rest (held leftovers excepted). Changes
 * still pending in the RIB follow at its next flush. The start-up
 * reconcile (before the first flush: removes every leftover) and the
 * ENOBUFS resync (also run once by itself at the end of a flush).
 * -EAGAIN if the kernel is still in doubt (replies lost again, a replace
 * or delete failed): call again later, from a timer.
 */
int fib_reconcile(struct fib *f);
/* A failure left the kernel in doubt: call fib_reconcile() (timer). */
bool fib_resync_needed(const struct fib *f);
/*
 * Start-up with kept routes (graceful restart): remember our routes in
 * the kernel and leave them; a prefix the RIB re-learns adopts its route
 * (replacing it if the next hops differ). Returns how many are held.
 */
int fib_hold_leftovers(struct fib *f);
/* End of the hold: delete held routes not adopted; returns how many. */
int fib_sweep_leftovers(struct fib *f);
/* Shutdown without keeping routes: delete all of ours; returns how many. */
int fib_remove_all(struct fib *f);
void fib_get_stats(const struct fib *f, struct fib_stats *out);
struct fib_backend *fib_backend(struct fib *f);

const char *fib_op_name(enum fib_op op);

#endif
