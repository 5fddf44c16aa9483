/*
 * xfrm: the kernel's IPsec data path (XFRM states and policies) for
 * cgw's route-based tunnels: SPI allocation, tunnel-mode ESP states with
 * marks, 0/0 <-> 0/0 marked policies, byte/packet counters, expire events.
 *
 * Everything goes through a backend: the netlink one (libmnl,
 * NETLINK_XFRM) or a recording fake that keeps states and policies in
 * memory and logs every call as one line of text, for tests without root.
 * Both run the same validation and algorithm mapping (xfrm.c) first.
 *
 * Ownership: cgwd touches only what it made, recognised without the
 * config (so a restart after a crash can clean up):
 *   - a policy is cgwd's iff its priority is CGW_XFRM_PRIORITY (0x7c6e0).
 *     xfrm_policy_add() always installs that priority. ip xfrm uses 0
 *     unless told; strongSwan and Libreswan compute theirs from selector
 *     prefix lengths: only a hand-picked 509664 would collide.
 *   - a state is cgwd's iff its reqid is in CGW_XFRM_REQID_MIN..MAX
 *     (0x7c6e0000..0x7c6effff): the daemon gives tunnel n the reqid
 *     CGW_XFRM_REQID(n), used by its states, larval SPI states and
 *     policy templates. strongSwan counts reqids up from 1, Libreswan
 *     from 16384: far below. xfrm_state_add() refuses other reqids.
 * xfrm_flush_owned(), xfrm_state_del() and xfrm_policy_del() check the
 * marker in the kernel's own copy before deleting; a foreign entry with
 * the same key is left alone (-ESRCH).
 *
 * Every function returns 0 (or a count) or -errno. Kernel errors are
 * logged once here, with a hint (missing esp4/cipher module, EEXIST from
 * a leftover, ...): callers need not log them again.
 */
#ifndef CGW_XFRM_H
#define CGW_XFRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/secret.h"
#include "conf/conf.h"

#define CGW_XFRM_PRIORITY 0x7c6e0u
#define CGW_XFRM_REQID_MIN 0x7c6e0000u
#define CGW_XFRM_REQID_MAX 0x7c6effffu
#define CGW_XFRM_REQID(n) (CGW_XFRM_REQID_MIN + (uint32_t)(n))

/* SPIs handed out by xfrm_alloc_spi() (1..255 are reserved by IANA). */
#define CGW_XFRM_SPI_MIN 0x100u
#define CGW_XFRM_SPI_MAX 0xffffffffu

enum xfrm_dir {
	XFRM_DIR_IN,
	XFRM_DIR_OUT,
	XFRM_DIR_FWD,		/* policies only */
};

/* A state's identity in the kernel: (dst, spi, proto) under a mark. */
struct xfrm_said {
	struct cgw_addr dst;
	uint32_t spi;			/* host byte order */
	uint8_t proto;			/* IPPROTO_ESP (0 means ESP) */
	uint32_t mark, mark_mask;
};

/* Limits; 0 means none. The kernel sends EXPIRE soft, then hard. */
struct xfrm_lifetime {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
	uint64_t soft_secs, hard_secs;	/* seconds since the state was added */
};

/* One ESP SA in tunnel mode, as IKE negotiated it. */
struct xfrm_sa {
	enum xfrm_dir dir;		/* XFRM_DIR_IN or _OUT: logs only */
	struct cgw_addr src, dst;	/* outside addresses */
	uint32_t spi;			/* host order, >= CGW_XFRM_SPI_MIN */
	uint32_t reqid;			/* CGW_XFRM_REQID_MIN..MAX */
	uint32_t mark, mark_mask;	/* mask must not be 0 */
	uint16_t encr;			/* IKE_ENCR_AES_CBC or IKE_ENCR_AES_GCM_16 */
	uint16_t encr_keylen;		/* bits: 128, 192 or 256 */
	uint16_t integ;			/* IKE_INTEG_*; IKE_INTEG_NONE with GCM */
	/* Borrowed, never freed or kept: GCM key is key || 4-byte salt. */
	const struct cgw_secret *encr_key;
	const struct cgw_secret *integ_key;	/* NULL with GCM */
	uint32_t replay_window;		/* packets, <= 4096; > 32 uses ESN format */
	bool esn;			/* extended sequence numbers negotiated */
	struct xfrm_lifetime lifetime;
	uint16_t encap_sport, encap_dport;	/* NAT-T (UDP 4500); 0: plain ESP */
};

/* A policy: traffic selected by sel_* goes through the tunnel tmpl_*. */
struct xfrm_sp {
	enum xfrm_dir dir;
	struct cgw_prefix sel_src, sel_dst;	/* route-based: 0.0.0.0/0 both */
	struct cgw_addr tmpl_src, tmpl_dst;	/* outside addresses, this dir */
	uint32_t reqid;
	uint32_t mark, mark_mask;	/* mask must not be 0 */
};

struct xfrm_counters {
	uint64_t bytes, packets;
	uint64_t add_time, use_time;	/* unix seconds; use_time 0: unused */
	uint32_t replay_drops, integrity_failed;
};

/* A state as the kernel reports it. */
struct xfrm_state_info {
	struct xfrm_said id;
	struct cgw_addr src;
	uint32_t reqid;
	struct xfrm_counters cnt;
	bool owned;			/* carries cgw's marker (reqid range) */
};

struct xfrm_policy_info {
	struct xfrm_sp sp;
	uint32_t index, priority;
	bool owned;			/* priority == CGW_XFRM_PRIORITY */
};

/* States and policies in the kernel; free with xfrm_list_free(). */
struct xfrm_list {
	struct xfrm_state_info *states;
	size_t n_states;
	struct xfrm_policy_info *policies;
	size_t n_policies;
};

enum xfrm_event_type {
	XFRM_EVENT_EXPIRE_SOFT,		/* soft limit hit: rekey now */
	XFRM_EVENT_EXPIRE_HARD,		/* hard limit hit: the kernel deleted it */
	XFRM_EVENT_ACQUIRE,		/* traffic hit an owned policy, no state */
	XFRM_EVENT_OVERRUN,		/* events were lost: re-read with xfrm_list() */
};

struct xfrm_event {
	enum xfrm_event_type type;
	struct xfrm_said id;		/* ACQUIRE: spi 0 */
	struct cgw_addr src;
	uint32_t reqid;
};

typedef void (*xfrm_event_fn)(const struct xfrm_event *ev, void *arg);

struct xfrm;

/*
 * Open the netlink backend in the caller's network namespace: a request
 * socket and an event socket (EXPIRE, ACQUIRE). 0 or -errno (-EPERM
 * without CAP_NET_ADMIN).
 */
int xfrm_open(struct xfrm **out);
/* Open the recording fake (no kernel). 0 or -ENOMEM. */
int xfrm_open_fake(struct xfrm **out);
/* Close either backend; kernel state is left as it is. NULL is a no-op. */
void xfrm_close(struct xfrm *x);

/*
 * Allocate an SPI for an inbound SA from sa->src to sa->dst (reqid, mark
 * used; other fields ignored) and store it in sa->spi. The kernel keeps a
 * larval state for net.core.xfrm_acq_expires (30 s): make it real with
 * xfrm_state_update() before that.
 */
int xfrm_alloc_spi(struct xfrm *x, struct xfrm_sa *sa);
/* Install a new state; -EEXIST if that (dst, spi, mark) exists. */
int xfrm_state_add(struct xfrm *x, const struct xfrm_sa *sa);
/*
 * Replace a state: the larval one from xfrm_alloc_spi() becomes real.
 * On a state already valid the kernel takes only the new lifetimes and
 * NAT-T ports (keys and algorithms stay). -ESRCH if none; -EEXIST if the
 * state under that key is not cgw's (left alone).
 */
int xfrm_state_update(struct xfrm *x, const struct xfrm_sa *sa);
/* Delete an owned state; -ESRCH if none (or not ours). */
int xfrm_state_del(struct xfrm *x, const struct xfrm_said *id);
/* Read one state (counters included); -ESRCH if none. Any owner. */
int xfrm_state_get(struct xfrm *x, const struct xfrm_said *id,
		   struct xfrm_state_info *out);

/* Install a policy with priority CGW_XFRM_PRIORITY; -EEXIST if present. */
int xfrm_policy_add(struct xfrm *x, const struct xfrm_sp *sp);
/* Install or replace it (same selector, dir and mark); -EEXIST if the
 * policy there is not cgw's (left alone). */
int xfrm_policy_update(struct xfrm *x, const struct xfrm_sp *sp);
/* Delete the owned policy with sp's dir, selector and mark; -ESRCH if none. */
int xfrm_policy_del(struct xfrm *x, const struct xfrm_sp *sp);

/* Fill out with the kernel's states and policies (only cgw's if owned_only). */
int xfrm_list(struct xfrm *x, bool owned_only, struct xfrm_list *out);
void xfrm_list_free(struct xfrm_list *l);
/*
 * Remove every owned policy, then every owned state (a previous
 * instance's leftovers). Returns how many were removed, or -errno.
 */
int xfrm_flush_owned(struct xfrm *x);

/* File descriptor to watch for readability (event loop); -1 if none. */
int xfrm_events_fd(struct xfrm *x);
/*
 * Read every pending event without blocking and call fn for each one
 * about an owned state or policy (others are dropped). Returns the
 * number delivered, or -errno. Malformed messages are logged and skipped.
 */
int xfrm_events_read(struct xfrm *x, xfrm_event_fn fn, void *arg);

/* What a kernel errno means here, with the fix when there is one. */
const char *xfrm_strerror(int err);
const char *xfrm_dir_name(enum xfrm_dir dir);
const char *xfrm_event_name(enum xfrm_event_type type);

/* ---- Recording fake (tests) ---- */

/* Every call so far, one line each ("state add in src=... spi=0x..."). */
const char *xfrm_fake_log(struct xfrm *x);
void xfrm_fake_log_clear(struct xfrm *x);
/* Make the next backend call whose log line starts with call ("state
 * add", "policy del"; NULL: any call) fail with err (-errno), once. */
void xfrm_fake_fail_next(struct xfrm *x, const char *call, int err);
/* Put someone else's state or policy in (any reqid or priority). */
int xfrm_fake_insert_state(struct xfrm *x, const struct xfrm_state_info *st);
int xfrm_fake_insert_policy(struct xfrm *x, const struct xfrm_policy_info *pi);
/* Set a state's counters; -ESRCH if no such state. */
int xfrm_fake_set_counters(struct xfrm *x, const struct xfrm_said *id,
			   uint64_t bytes, uint64_t packets);
/* Queue an expire event for a state (hard deletes it), as the kernel would. */
int xfrm_fake_expire(struct xfrm *x, const struct xfrm_said *id, bool hard);

#endif
