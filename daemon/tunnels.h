/*
 * Tunnels on the daemon's loop: the kernel side that belongs to a tunnel
 * rather than to an SA (its VTI, leftovers of a previous instance), the
 * IKE engine and its sockets, and per-tunnel state for status.
 */
#ifndef CGW_TUNNELS_H
#define CGW_TUNNELS_H

#include <stddef.h>

struct ev_loop;
struct json_object;
struct cgw_conf;
struct cgw_tunnel_conf;
struct tunnels;

/* Who hears about tunnels coming up and going down (the BGP speaker). */
struct tunnels_events {
	/* The tunnel's first CHILD SA is installed; ifindex: its VTI. */
	void (*up)(void *arg, const char *tunnel, unsigned ifindex);
	/* Its last CHILD SA is gone (DPD, delete, expiry, operator). */
	void (*down)(void *arg, const char *tunnel, const char *why);
	void *arg;
};

/*
 * Open the kernel interfaces and IKE sockets, remove a previous
 * instance's leftovers, set up every tunnel of conf (borrowed until the
 * next tunnels_apply). ev (copied; NULL: nobody) hears of ups and downs.
 * Kernel problems are not fatal: the tunnels say why they are down.
 * 0 or -errno (only for out of memory).
 */
int tunnels_start(struct tunnels **out, struct ev_loop *loop, const struct cgw_conf *conf,
		  const struct tunnels_events *ev);
/* Move from old to new: removed torn down, added set up, changed redone,
 * unchanged untouched (only re-pointed at new). */
void tunnels_apply(struct tunnels *t, const struct cgw_conf *old, const struct cgw_conf *new);
/* Add state, reason, SAs and counters of one tunnel to o. */
void tunnels_status(struct tunnels *t, const struct cgw_tunnel_conf *tc,
		    struct json_object *o);
/* cgwctl tunnel up|down|rekey NAME: 0 or -errno with a message in err. */
int tunnels_control(struct tunnels *t, const char *action, const char *name,
		    const char *sa, char *err, size_t errlen);
/* How many tunnels are up. */
unsigned tunnels_up_count(const struct tunnels *t);
/* Delete every SA (telling peers) and everything made in the kernel. */
void tunnels_stop(struct tunnels *t);

#endif
