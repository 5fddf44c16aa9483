/*
 * Inside the speaker: peers and their connections (bgp/session.c: the
 * FSM, sockets, timers), shared with the speaker proper (bgp/speaker.c:
 * RIB, FIB, export, status) and with the kernel route scan
 * (bgp/kroutes.c). Not for use outside bgp/ (tests excepted).
 */
#ifndef CGW_BGP_SPEAKER_INT_H
#define CGW_BGP_SPEAKER_INT_H

#include <ev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/fib.h"
#include "bgp/msg.h"
#include "bgp/rib.h"
#include "bgp/speaker.h"
#include "conf/conf.h"

/*
 * Session states (RFC 4271 8.2.2). A connection is in Idle (unused),
 * Connect (TCP handshake under way), OpenSent, OpenConfirm or
 * Established; a peer shows the most advanced of its two connections, or
 * Active when it has none and waits for the retry timer or the peer.
 *
 *   Idle --connect/accept--> Connect --TCP up, OPEN sent--> OpenSent
 *   OpenSent --OPEN ok, KEEPALIVE sent--> OpenConfirm
 *   OpenConfirm --KEEPALIVE--> Established
 *   any --error, NOTIFICATION, hold timer, TCP failure, stop--> Idle
 *
 * The event table in session.c says which handler runs for each (state,
 * event) and where it leads; conn_set_state() there is the only place a
 * connection's state changes and refuses anything not drawn above.
 *
 * Timers: per connection hold (240 s in OpenSent, then the negotiated
 * hold time) and keepalive (hold / 3); per peer retry (1 s doubling to
 * 30 s; 60 s after a max-prefix Cease) and gr (the peer's restart time);
 * per speaker flush (RIB -> FIB, 5 ms after a burst), export_timer
 * (20 ms), scan (network/redistribute, every 5 s when needed), fib_retry
 * (1 s after lost replies) and leftovers (restart-time).
 */
#define BGP_STATES(X) \
	X(IDLE, "Idle") \
	X(CONNECT, "Connect") \
	X(ACTIVE, "Active") \
	X(OPENSENT, "OpenSent") \
	X(OPENCONFIRM, "OpenConfirm") \
	X(ESTABLISHED, "Established")

enum bgp_state {
#define X(id, name) BGP_ST_##id,
	BGP_STATES(X)
#undef X
	BGP_ST_COUNT
};

/* Connection events (RFC 4271 8.1, those a connection can see). */
#define BGP_EVENTS(X) \
	X(TCP_OK, "TcpConnectionConfirmed") \
	X(TCP_FAIL, "TcpConnectionFails") \
	X(OPEN, "BGPOpen") \
	X(KEEPALIVE, "KeepAliveMsg") \
	X(UPDATE, "UpdateMsg") \
	X(NOTIFICATION, "NotifMsg") \
	X(ROUTE_REFRESH, "RouteRefreshMsg") \
	X(HOLD_EXPIRED, "HoldTimer_Expires") \
	X(KEEPALIVE_TIMER, "KeepaliveTimer_Expires") \
	X(STOP, "ManualStop")

enum bgp_event {
#define X(id, name) BGP_EV_##id,
	BGP_EVENTS(X)
#undef X
	BGP_EV_COUNT
};

const char *bgp_state_name(enum bgp_state s);
const char *bgp_event_name(enum bgp_event e);
/*
 * The transition table: the state a connection in s moves to on e when
 * the handler succeeds; *defined is false where e is an FSM error in s
 * (a NOTIFICATION with Finite State Machine Error is sent, the
 * connection closed: the result is then Idle).
 */
enum bgp_state bgp_fsm_next(enum bgp_state s, enum bgp_event e, bool *defined);

#define BGP_OPEN_HOLD 240		/* hold time while OpenSent (RFC 4271 8) */
#define BGP_RETRY_MIN 1.0		/* connect retry: 1 s doubling to 30 s */
#define BGP_RETRY_MAX 30.0
#define BGP_MAX_PREFIX_IDLE 60.0	/* after a max-prefix Cease, wait this long */
#define BGP_RX_BUF (64 * 1024)
#define BGP_LISTEN_BACKLOG 128		/* connections waiting for accept() */
#define BGP_ACCEPT_BURST 32		/* accepted per wakeup of a listener */

struct bgp_peer;
struct bgp_speaker;

/* A budget of LOG_BURST lines, refilled one per LOG_REFILL seconds; the rest counted. */
struct bgp_log_budget {
	double tokens, at;
	unsigned suppressed;
};

struct bgp_conn {
	struct bgp_peer *peer;
	int fd;				/* -1: unused */
	bool outgoing;
	enum bgp_state state;
	ev_io rio, wio;
	ev_timer hold, keepalive;
	uint8_t *rx;			/* BGP_RX_BUF */
	size_t rx_len;
	uint8_t *tx;			/* queued bytes tx[tx_off..tx_len) */
	size_t tx_len, tx_off, tx_cap;
	struct bgp_open *open;		/* the peer's OPEN, once received */
	uint16_t hold_time;		/* negotiated */
	struct bgp_wire_opts wire;
	struct sockaddr_in local;	/* our end (NEXT_HOP for what we send) */
};

/* An exported route as last sent to a peer (sorted by prefix). */
struct bgp_out {
	struct cgw_prefix prefix;
	struct bgp_attrs *attrs;	/* referenced */
};

struct bgp_peer {
	struct bgp_speaker *sp;
	char name[CGW_NAME_MAX];	/* the tunnel's or the neighbor's */
	bool tunnel;			/* at the end of a tunnel */
	struct sockaddr_in remote;	/* address, port */
	struct sockaddr_in local;	/* bind address (port 0); 0.0.0.0: any */
	uint32_t local_as, remote_as;
	uint16_t hold_time;		/* ours, proposed */
	bool passive;
	unsigned ttl;
	const struct cgw_bgp_policy *pol;	/* the live snapshot's */
	unsigned ifindex;		/* tunnel peers: the VTI once up */

	bool enabled;			/* tunnel up, or a neighbor */
	bool deleted;
	struct bgp_conn conn[2];	/* [0] outgoing, [1] incoming */
	struct bgp_conn *est;		/* the Established one, or NULL */
	ev_timer retry;
	double retry_delay;
	double idle_until;		/* after a max-prefix Cease: no session before */
	ev_timer gr;			/* graceful restart: stale routes' deadline */
	bool stale;			/* holding stale routes (peer restarting) */
	bool peer_gr;			/* the peer's last OPEN had graceful restart */
	uint16_t peer_gr_time;

	struct rib_peer *rp;		/* while Established (or stale) */
	struct bgp_out *out;		/* Adj-RIB-Out */
	size_t n_out;
	bool export_dirty;
	bool out_limited;		/* max-prefix-out cut the export (logged once) */

	/* log lines the peer can trigger (session.c: log_budget()) */
	struct bgp_log_budget upd_log;	/* RFC 7606 UPDATE errors */
	struct bgp_log_budget conn_log;	/* resets, collisions, NOTIFICATIONs received */
	uint64_t errors_7606;		/* UPDATEs with treat-as-withdraw or discard */

	/* status */
	double established_at, down_at;
	unsigned established_count;
	uint64_t msgs_in, msgs_out, updates_in, updates_out;
	char last_error[200];
	struct in_addr peer_id;		/* its BGP identifier */
	uint16_t peer_hold;
	struct bgp_peer *next;
};

/* The local routes the speaker exports (network + redistribute). */
struct bgp_local {
	struct cgw_prefix prefix;
	uint8_t origin;			/* IGP for network, INCOMPLETE for redistributed */
};

struct bgp_listener {
	int fd;
	ev_io io;
	struct bgp_speaker *sp;
	struct sockaddr_in addr;
};

#define BGP_MAX_LISTENERS 64

struct bgp_speaker {
	struct ev_loop *loop;
	const struct cgw_conf *conf;
	struct rib *rib;
	struct fib *fib;
	struct bgp_peer *peers;
	struct bgp_listener listeners[BGP_MAX_LISTENERS];
	size_t n_listeners;
	ev_timer flush;			/* RIB changes -> FIB, batched */
	ev_timer export_timer;		/* export recomputation, batched */
	ev_timer scan;			/* kernel routes for network/redistribute */
	ev_timer fib_retry;		/* FIB resync after lost replies */
	ev_timer leftovers;		/* restart-time: sweep held kernel routes */
	struct bgp_local *local;	/* sorted */
	size_t n_local;
	bool shutting_down;
	double refused_tokens, refused_at;	/* strangers' connections: log budget */
	unsigned refused_quiet;			/* refused, not logged */
};

/* ---- session.c ---- */

int bgp_peer_new(struct bgp_speaker *sp, struct bgp_peer **out);
void bgp_peer_free(struct bgp_peer *p);
/* Enable: connect now (unless passive) and accept connections. */
void bgp_peer_start(struct bgp_peer *p);
/* Disable: NOTIFICATION (when code != 0) and close every connection. */
void bgp_peer_stop(struct bgp_peer *p, uint8_t code, uint8_t subcode, const char *why);
/* An accepted connection from the peer's address. */
void bgp_peer_accept(struct bgp_peer *p, int fd, const struct sockaddr_in *local);
/* Send what is queued; returns -errno when the connection failed. */
int bgp_conn_send(struct bgp_conn *c, const void *buf, size_t len);
/* Close c after sending a NOTIFICATION code/subcode (code 0: none). */
void bgp_conn_close(struct bgp_conn *c, uint8_t code, uint8_t subcode, const char *why);
enum bgp_state bgp_peer_state(const struct bgp_peer *p);

/* ---- speaker.c, called by session.c ---- */

void bgp_sp_established(struct bgp_peer *p);
/* The session is gone; stale: keep its routes (graceful restart). */
void bgp_sp_down(struct bgp_peer *p, bool stale);
/* An UPDATE: 0, or -ERANGE when max-prefix-in was hit (caller resets). */
int bgp_sp_update(struct bgp_peer *p, struct bgp_update *u);
/* End-of-RIB from the peer. */
void bgp_sp_eor(struct bgp_peer *p);
/* The peer asks for our routes again (ROUTE-REFRESH). */
void bgp_sp_refresh(struct bgp_peer *p);

/* ---- kroutes.c ---- */

/*
 * The kernel's IPv4 unicast routes in table (not ours: protocol 186 and
 * routes through the VTIs in vti_ifindex excluded) that [bgp] network and
 * redistribute select, sorted, into *out (malloc'd). 0 or -errno.
 */
int bgp_kroutes_scan(const struct cgw_bgp_conf *bc, const unsigned *vti_ifindex,
		     size_t n_vti, struct bgp_local **out, size_t *n_out);

/* A scan's state; the steps below run bgp_kroutes_scan() on replies
 * already read (tests/fuzz). network_seen: n_networks + 1 calloc'd. */
struct kroutes_scan {
	const struct cgw_bgp_conf *bc;
	const unsigned *vti;
	size_t n_vti;
	struct bgp_local *out;
	size_t n, cap;
	bool *network_seen;
};

/* One datagram of the main-table dump; libmnl's MNL_CB_* (> STOP: read on). */
int bgp_kroutes_dump_reply(struct kroutes_scan *s, const void *buf, size_t len,
			   uint32_t seq, uint32_t portid);
/* The RTM_F_FIB_MATCH reply for network n: 1 if it shows n present. */
int bgp_kroutes_match_reply(const struct kroutes_scan *s, const struct cgw_prefix *n,
			    const void *buf, size_t len, uint32_t seq, uint32_t portid);
/* Networks added, sorted, one per prefix into *out; frees network_seen
 * (and out on error r < 0). Returns r if < 0, else 0. */
int bgp_kroutes_finish(struct kroutes_scan *s, int r, struct bgp_local **out, size_t *n_out);

#endif
