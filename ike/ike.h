/*
 * IKEv2 (RFC 7296) for cgw's tunnels: one engine for all tunnels, IKE SA
 * and CHILD SA state machines, PSK authentication, kernel SAs through
 * xfrm/. The daemon owns the sockets and the loop; it hands datagrams in
 * with ike_input() and sends what the engine asks through ike_ops.send.
 */
#ifndef CGW_IKE_H
#define CGW_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "conf/conf.h"

struct ev_loop;
struct json_object;
struct xfrm;
struct ike;

#define IKE_PORT 500
#define IKE_NATT_PORT 4500

/* Where a datagram came from / goes to (IPv4 outside addresses). */
struct ike_path {
	struct sockaddr_in local;
	struct sockaddr_in remote;
};

/* What the engine needs from the daemon. */
struct ike_ops {
	/* Send one datagram; natt: from our 4500 socket (non-ESP marker added
	 * by the daemon). 0 or -errno. */
	int (*send)(void *arg, const struct ike_path *path, bool natt,
		    const uint8_t *buf, size_t len);
	/* A NAT-T keepalive (one 0xff byte, no marker) from our 4500. */
	int (*send_keepalive)(void *arg, const struct ike_path *path);
	/* The tunnel's first CHILD SA is installed / its last one is gone. */
	void (*tunnel_up)(void *arg, const char *tunnel);
	void (*tunnel_down)(void *arg, const char *tunnel, const char *why);
};

/*
 * New engine on loop, installing SAs through x (borrowed). 0 or -errno.
 */
int ike_new(struct ike **out, struct ev_loop *loop, struct xfrm *x,
	    const struct ike_ops *ops, void *arg);
/* Delete every SA (telling peers), free everything. NULL is a no-op. */
void ike_free(struct ike *ike);

/*
 * Add a tunnel: t and g are borrowed and must outlive the tunnel (they
 * belong to the live config snapshot; see ike_tunnel_update). index picks
 * the tunnel's reqid. startup=start initiates at once. 0 or -errno.
 */
int ike_tunnel_add(struct ike *ike, const struct cgw_tunnel_conf *t,
		   const struct cgw_gateway_conf *g, unsigned index);
/* Point an unchanged tunnel at the new snapshot's copy of its config. */
void ike_tunnel_update(struct ike *ike, const struct cgw_tunnel_conf *t,
		       const struct cgw_gateway_conf *g);
/* Delete the tunnel's SAs (DELETE to the peer) and forget it. */
void ike_tunnel_remove(struct ike *ike, const char *name);

/*
 * Operator control (cgwctl tunnel ...): rekey the tunnel's CHILD SA, or
 * its IKE SA (ike_sa), now (-EINVAL if none is established, -EBUSY if an
 * exchange is in flight); take it down (DELETE to the peer, no
 * re-initiation until up) or up (initiate now). -ENOENT: no such tunnel.
 */
int ike_tunnel_rekey(struct ike *ike, const char *name, bool ike_sa);
int ike_tunnel_down(struct ike *ike, const char *name);
int ike_tunnel_up(struct ike *ike, const char *name);

/* The kernel says an SA reached its soft (rekey now) or hard (gone)
 * lifetime; spi is the state's SPI, either direction. */
void ike_sa_expired(struct ike *ike, uint32_t spi, bool hard);

/* Traffic hit a tunnel's policy with no SA (XFRM ACQUIRE, by reqid):
 * a tunnel held after its peer died (dpd-action hold) initiates now. */
void ike_acquire(struct ike *ike, uint32_t reqid);

/* One received datagram (non-ESP marker already removed for 4500). */
void ike_input(struct ike *ike, const struct ike_path *path, bool natt,
	       const uint8_t *buf, size_t len);

/* Add "ike" (state, SPIs, algorithms) and "child" objects to a status
 * object for the tunnel; returns the tunnel's state name ("up", "down",
 * "connecting"). */
const char *ike_tunnel_status(struct ike *ike, const char *name,
			      struct json_object *out);

#endif
