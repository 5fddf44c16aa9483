/*
 * Inside xfrm/: the backend interface both implementations fill, the
 * kernel algorithm names an SA maps to, and the netlink message builders
 * and parsers (pure functions, exported for the unit tests).
 */
#ifndef CGW_XFRM_INTERNAL_H
#define CGW_XFRM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xfrm/xfrm.h"

struct nlmsghdr;

/* An event as decoded, with whether it concerns something cgw owns. */
typedef void (*xfrm_raw_event_fn)(const struct xfrm_event *ev, bool owned,
				  void *arg);

/* Kernel algorithm names and sizes for one SA (from IANA ids). */
struct xfrm_kalg {
	const char *encr_name;		/* "cbc(aes)", "rfc4106(gcm(aes))" */
	bool aead;
	unsigned encr_keybits;		/* GCM: key + 32-bit salt */
	unsigned icv_bits;		/* AEAD only */
	const char *integ_name;		/* NULL with AEAD */
	unsigned integ_keybits, trunc_bits;
};

/*
 * The backend. The public functions validate arguments, map algorithms
 * and check ownership, then call these; each returns 0 or -errno and
 * never logs kernel errors (xfrm.c does, with hints).
 */
struct xfrm_ops {
	const char *name;
	int (*alloc_spi)(struct xfrm *x, const struct xfrm_sa *sa, uint32_t *spi);
	int (*state_put)(struct xfrm *x, const struct xfrm_sa *sa,
			 const struct xfrm_kalg *k, bool update);
	int (*state_get)(struct xfrm *x, const struct xfrm_said *id,
			 struct xfrm_state_info *out);
	int (*state_del)(struct xfrm *x, const struct xfrm_said *id);
	int (*policy_put)(struct xfrm *x, const struct xfrm_sp *sp, bool update);
	int (*policy_get)(struct xfrm *x, const struct xfrm_sp *sp,
			  struct xfrm_policy_info *out);
	/* Delete by kernel index (dir and mark from the same policy). */
	int (*policy_del)(struct xfrm *x, const struct xfrm_policy_info *pi);
	/* Everything, unfiltered; the caller frees out. */
	int (*list)(struct xfrm *x, struct xfrm_list *out);
	int (*events_fd)(struct xfrm *x);
	/* Decoded events, owned or not (xfrm.c filters); count or -errno. */
	int (*events_read)(struct xfrm *x, xfrm_raw_event_fn fn, void *arg);
	void (*close)(struct xfrm *x);
};

struct xfrm {
	const struct xfrm_ops *ops;
};

/* Netlink backend (netlink.c) and fake (fake.c) constructors. */
int xfrm_netlink_open(struct xfrm **out);
int xfrm_fake_open(struct xfrm **out);

/* Ownership markers (see xfrm.h). */
static inline bool xfrm_reqid_owned(uint32_t reqid)
{
	return reqid >= CGW_XFRM_REQID_MIN && reqid <= CGW_XFRM_REQID_MAX;
}

static inline bool xfrm_priority_owned(uint32_t priority)
{
	return priority == CGW_XFRM_PRIORITY;
}

/* xfrm.c: validation and text shared by both backends. */
int xfrm_kalg_map(const struct xfrm_sa *sa, struct xfrm_kalg *k);
/* One line describing a call ("state add in src=..."); never keys. */
const char *xfrm_sa_str(const char *verb, const struct xfrm_sa *sa,
			const struct xfrm_kalg *k, char *buf, size_t len);
const char *xfrm_sp_str(const char *verb, const struct xfrm_sp *sp,
			char *buf, size_t len);
const char *xfrm_said_str(const char *verb, const struct xfrm_said *id,
			  char *buf, size_t len);
const char *xfrm_addr_str(const struct cgw_addr *a, char *buf, size_t len);
bool xfrm_addr_equal(const struct cgw_addr *a, const struct cgw_addr *b);
/* Append one item to a growing array (doubling); 0 or -ENOMEM. */
int xfrm_list_push_state(struct xfrm_list *l, const struct xfrm_state_info *st);
int xfrm_list_push_policy(struct xfrm_list *l, const struct xfrm_policy_info *pi);

/* ---- nlmsg.c: builders. Each returns the message length or -EMSGSIZE. ---- */

#define XNL_MSG_MAX 2048		/* enough for any request we build */

int xnl_build_allocspi(void *buf, size_t size, uint32_t seq,
		       const struct xfrm_sa *sa, uint32_t min, uint32_t max);
int xnl_build_state(void *buf, size_t size, uint32_t seq, bool update,
		    const struct xfrm_sa *sa, const struct xfrm_kalg *k);
/* GETSA or DELSA for one state. */
int xnl_build_said(void *buf, size_t size, uint32_t seq, uint16_t type,
		   const struct xfrm_said *id);
int xnl_build_policy(void *buf, size_t size, uint32_t seq, bool update,
		     const struct xfrm_sp *sp);
/* GETPOLICY by selector (pi->index 0) or GET/DELPOLICY by index. */
int xnl_build_policy_id(void *buf, size_t size, uint32_t seq, uint16_t type,
			const struct xfrm_policy_info *pi);
/* An empty GETSA or GETPOLICY dump request. */
int xnl_build_dump(void *buf, size_t size, uint32_t seq, uint16_t type);

/*
 * ---- nlmsg.c: parsers. The fixed header is length-checked, every
 * attribute validated against the policy table (type, minimum length),
 * then read with typed getters. 0, -EINVAL for a malformed message,
 * -EAFNOSUPPORT for an address family other than IPv4/IPv6, -ENOMSG for
 * a message type the parser does not take.
 */
int xnl_parse_state(const struct nlmsghdr *nlh, struct xfrm_state_info *out);
int xnl_parse_policy(const struct nlmsghdr *nlh, struct xfrm_policy_info *out);
/* XFRM_MSG_EXPIRE or XFRM_MSG_ACQUIRE; *owned from reqid or priority. */
int xnl_parse_event(const struct nlmsghdr *nlh, struct xfrm_event *out,
		    bool *owned);

/*
 * ---- netlink.c: the reply and event loops over bytes already read,
 * exported for tests/fuzz (the backend runs them on each datagram).
 */
typedef int (*xnl_reply_fn)(const struct nlmsghdr *nlh, void *arg);

struct xnl_talk {
	xnl_reply_fn fn;		/* each data message; NULL: none expected */
	void *arg;
	int err;			/* first error, from fn or the kernel */
	unsigned replies;
};

/* One datagram of replies to request seq: data to t->fn, the ack's or
 * the kernel's error into t->err. libmnl's MNL_CB_* (> MNL_CB_STOP: read on). */
int xnl_talk_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		 struct xnl_talk *t);
/* One datagram from the event socket: each EXPIRE/ACQUIRE decoded to fn,
 * malformed ones skipped; how many reached fn. */
int xnl_events_decode(const void *buf, size_t len, xfrm_raw_event_fn fn, void *arg);

#endif
