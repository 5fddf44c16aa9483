/*
 * The IKE sockets: UDP 500 and 4500 (the latter with ESP-in-UDP
 * decapsulation for NAT-T), local addresses via IP_PKTINFO, the non-ESP
 * marker on 4500, on the daemon's loop.
 */
#ifndef CGW_IKESOCK_H
#define CGW_IKESOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct ike_path;
struct ikesock;

/* Called for every datagram (marker stripped); natt: it came to 4500. */
typedef void (*ikesock_rx_fn)(void *arg, const struct ike_path *path, bool natt,
			      const uint8_t *buf, size_t len);

/* Bind both ports on addr (INADDR_ANY: all). 0 or -errno. */
int ikesock_open(struct ikesock **out, struct ev_loop *loop, struct in_addr addr,
		 ikesock_rx_fn rx, void *arg);
/* Send from path->local (port 500, or 4500 with the marker when natt). */
int ikesock_send(struct ikesock *s, const struct ike_path *path, bool natt,
		 const uint8_t *buf, size_t len);
/* A NAT-T keepalive to path->remote from our port 4500. */
int ikesock_send_keepalive(struct ikesock *s, const struct ike_path *path);
void ikesock_close(struct ikesock *s);

#endif
