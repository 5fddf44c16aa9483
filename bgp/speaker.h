/*
 * bgp/speaker: cgwd's BGP speaker. One session per peer: the far inside
 * address of each tunnel with bgp-peer-asn (started when the tunnel's
 * CHILD SA is up, torn down the moment the tunnel goes down) and each
 * [neighbor NAME] (started at once). The Loc-RIB's best routes go into
 * the kernel through bgp/fib; what is exported ([bgp] network and
 * redistribute, learned routes where export = all) is announced per peer
 * with its policy (prepend, MED, max-prefix-out).
 *
 * Sockets and timers live on the caller's libev loop. Every function is
 * safe to call at any time; problems are logged and shown in status, not
 * returned, except out of memory at creation.
 */
#ifndef CGW_BGP_SPEAKER_H
#define CGW_BGP_SPEAKER_H

#include <stdbool.h>

struct ev_loop;
struct json_object;
struct cgw_conf;
struct fib_backend;
struct bgp_speaker;

/*
 * New speaker for conf (borrowed until the next bgp_speaker_apply) on
 * loop. be: the FIB backend to use (taken; NULL opens rtnetlink).
 * Kernel routes left by a previous instance are reconciled (or held for
 * restart-time when configured). 0 or -errno.
 */
int bgp_speaker_new(struct bgp_speaker **out, struct ev_loop *loop,
		    const struct cgw_conf *conf, struct fib_backend *be);
/*
 * Move to a new config: peers whose session config is unchanged are left
 * alone (re-pointed at new), changed ones reset (Cease/Other
 * Configuration Change), removed ones closed (Cease/Peer De-configured),
 * added ones started. A changed [bgp] section resets every session.
 */
void bgp_speaker_apply(struct bgp_speaker *s, const struct cgw_conf *old,
		       const struct cgw_conf *new);
/* The tunnel's CHILD SA is up (its VTI is ifindex): start its session. */
void bgp_speaker_tunnel_up(struct bgp_speaker *s, const char *tunnel, unsigned ifindex);
/* The tunnel is down: close its session, withdraw its routes now. */
void bgp_speaker_tunnel_down(struct bgp_speaker *s, const char *tunnel, const char *why);
/*
 * cgwctl bgp reset|refresh NAME: reset the session (Cease/Administrative
 * Reset) or ask the peer to resend (ROUTE-REFRESH). 0 or -errno (err).
 */
int bgp_speaker_control(struct bgp_speaker *s, const char *action, const char *name,
			char *err, size_t errlen);
/* Append one object per peer (state, uptime, prefixes, last error). */
void bgp_speaker_status(struct bgp_speaker *s, struct json_object *neighbors);
/* The status object of the peer on tunnel, or NULL. */
struct json_object *bgp_speaker_peer_status(struct bgp_speaker *s, const char *name);
/* The Loc-RIB: every prefix, its paths, the chosen one marked, in the kernel or not. */
struct json_object *bgp_speaker_routes(struct bgp_speaker *s);
/* Established sessions. */
unsigned bgp_speaker_established(const struct bgp_speaker *s);
/*
 * Shutdown: Cease/Administrative Shutdown to every peer, remove our
 * kernel routes (kept when restart-time is set), free. NULL ok.
 */
void bgp_speaker_free(struct bgp_speaker *s);

#endif
