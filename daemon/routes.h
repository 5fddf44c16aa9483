/*
 * Kernel routes for static-routing tunnels (`route =` lines): installed
 * through the tunnel's VTI while it is up, removed when it goes down.
 * (BGP's batched route installation is bgp/fib.c's job.)
 */
#ifndef CGW_ROUTES_H
#define CGW_ROUTES_H

#include <stddef.h>
#include <stdint.h>

struct cgw_prefix;
struct routes;

/* Open an rtnetlink socket. 0 or -errno. */
int routes_open(struct routes **out);
void routes_close(struct routes *r);
/* Add (or replace) prefix via dev with metric, protocol "static". */
int routes_add(struct routes *r, const struct cgw_prefix *p, const char *dev, uint32_t metric);
/* Delete it; -ESRCH when it is not there. */
int routes_del(struct routes *r, const struct cgw_prefix *p, const char *dev, uint32_t metric);
/* The kernel's answer to request seq, already read (tests/fuzz): 0 for
 * an ack, else -errno (the kernel's error, or EPROTO/ESRCH/... from libmnl). */
int routes_parse_ack(const void *buf, size_t len, uint32_t seq, uint32_t portid);

#endif
