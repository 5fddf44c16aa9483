/*
 * BGP sessions (RFC 4271 8): per peer up to two TCP connections (ours and
 * the peer's, both active and passive open), each driven through one
 * transition table, collision detection when an OPEN arrives (6.8), hold
 * and keepalive timers, connect retry with backoff. Bytes in are framed
 * and parsed by bgp/msg*.c; what a session learns goes to bgp/speaker.c
 * through the bgp_sp_* calls.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/speaker-int.h"
#include "common/log.h"

#define TX_MAX (64u << 20)		/* a peer that stops reading is dropped here */

static const char *const state_names[] = {
#define X(id, name) name,
	BGP_STATES(X)
#undef X
};

static const char *const event_names[] = {
#define X(id, name) name,
	BGP_EVENTS(X)
#undef X
};

const char *bgp_state_name(enum bgp_state s)
{
	return s < BGP_ST_COUNT ? state_names[s] : "unknown";
}

const char *bgp_event_name(enum bgp_event e)
{
	return e < BGP_EV_COUNT ? event_names[e] : "unknown";
}

/* ---- the transition table ---- */

typedef int (*fsm_fn)(struct bgp_conn *c, const struct bgp_frame *f);

struct fsm_entry {
	fsm_fn fn;			/* NULL: FSM error */
	enum bgp_state next;		/* after fn returns 0 */
};

static int on_tcp_ok(struct bgp_conn *c, const struct bgp_frame *f);
static int on_tcp_fail(struct bgp_conn *c, const struct bgp_frame *f);
static int on_open(struct bgp_conn *c, const struct bgp_frame *f);
static int on_keepalive_confirm(struct bgp_conn *c, const struct bgp_frame *f);
static int on_keepalive(struct bgp_conn *c, const struct bgp_frame *f);
static int on_update(struct bgp_conn *c, const struct bgp_frame *f);
static int on_notification(struct bgp_conn *c, const struct bgp_frame *f);
static int on_route_refresh(struct bgp_conn *c, const struct bgp_frame *f);
static int on_hold_expired(struct bgp_conn *c, const struct bgp_frame *f);
static int on_keepalive_timer(struct bgp_conn *c, const struct bgp_frame *f);
static int on_stop(struct bgp_conn *c, const struct bgp_frame *f);

#define T(fn, st) { fn, BGP_ST_##st }
#define ERR { NULL, BGP_ST_IDLE }

/*
 * Rows: connection states; Idle, Active: no connection exists, nothing
 * arrives. Columns in enum bgp_event order: TCP_OK, TCP_FAIL, OPEN,
 * KEEPALIVE, UPDATE, NOTIFICATION, ROUTE_REFRESH, HOLD_EXPIRED,
 * KEEPALIVE_TIMER, STOP.
 */
static const struct fsm_entry fsm[BGP_ST_COUNT][BGP_EV_COUNT] = {
	[BGP_ST_IDLE] = { ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR },
	[BGP_ST_ACTIVE] = { ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR },
	[BGP_ST_CONNECT] = {
		T(on_tcp_ok, OPENSENT), T(on_tcp_fail, IDLE), ERR, ERR, ERR, ERR, ERR,
		ERR, ERR, T(on_stop, IDLE),
	},
	[BGP_ST_OPENSENT] = {
		ERR, T(on_tcp_fail, IDLE), T(on_open, OPENCONFIRM), ERR, ERR,
		T(on_notification, IDLE), ERR, T(on_hold_expired, IDLE), ERR,
		T(on_stop, IDLE),
	},
	[BGP_ST_OPENCONFIRM] = {
		ERR, T(on_tcp_fail, IDLE), ERR, T(on_keepalive_confirm, ESTABLISHED), ERR,
		T(on_notification, IDLE), ERR, T(on_hold_expired, IDLE),
		T(on_keepalive_timer, OPENCONFIRM), T(on_stop, IDLE),
	},
	[BGP_ST_ESTABLISHED] = {
		ERR, T(on_tcp_fail, IDLE), ERR, T(on_keepalive, ESTABLISHED),
		T(on_update, ESTABLISHED), T(on_notification, IDLE),
		T(on_route_refresh, ESTABLISHED), T(on_hold_expired, IDLE),
		T(on_keepalive_timer, ESTABLISHED), T(on_stop, IDLE),
	},
};

enum bgp_state bgp_fsm_next(enum bgp_state s, enum bgp_event e, bool *defined)
{
	const struct fsm_entry *t;

	if (s >= BGP_ST_COUNT || e >= BGP_EV_COUNT) {
		*defined = false;
		return BGP_ST_IDLE;
	}
	t = &fsm[s][e];
	*defined = t->fn != NULL;
	return t->next;
}

/* ---- helpers ---- */

static struct bgp_conn *other_conn(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;

	return c == &p->conn[0] ? &p->conn[1] : &p->conn[0];
}

static double now(const struct bgp_peer *p)
{
	return ev_now(p->sp->loop);
}

enum bgp_state bgp_peer_state(const struct bgp_peer *p)
{
	enum bgp_state s = p->conn[0].state > p->conn[1].state ?
		p->conn[0].state : p->conn[1].state;

	if (s == BGP_ST_IDLE && p->enabled)
		return BGP_ST_ACTIVE;
	return s;
}

static void set_error(struct bgp_peer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct bgp_peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
	va_end(ap);
}

#define LOG_BURST 10.0
#define LOG_REFILL 6.0

/*
 * May a line the peer triggered be logged? LOG_BURST of them, then one per
 * LOG_REFILL s: a peer that resets or collides a thousand times a second
 * does not flood the log. what names them in the count of those skipped.
 */
static bool log_budget(struct bgp_peer *p, struct bgp_log_budget *b, const char *what)
{
	double t = now(p);

	if (b->at == 0)
		b->tokens = LOG_BURST;
	else
		b->tokens += (t - b->at) / LOG_REFILL;
	if (b->tokens > LOG_BURST)
		b->tokens = LOG_BURST;
	b->at = t;
	if (b->tokens < 1) {
		b->suppressed++;
		return false;
	}
	b->tokens -= 1;
	if (b->suppressed) {
		log_warnx("%s: %u more %s not logged", p->name, b->suppressed, what);
		b->suppressed = 0;
	}
	return true;
}

#define CONN_LINES "session resets, collisions and NOTIFICATIONs"

static void hold_restart(struct bgp_conn *c, double secs)
{
	struct ev_loop *loop = c->peer->sp->loop;

	ev_timer_stop(loop, &c->hold);
	if (secs > 0) {
		ev_timer_set(&c->hold, secs, 0);
		ev_timer_start(loop, &c->hold);
	}
}

static void keepalive_arm(struct bgp_conn *c)
{
	struct ev_loop *loop = c->peer->sp->loop;

	ev_timer_stop(loop, &c->keepalive);
	if (c->hold_time) {
		ev_timer_set(&c->keepalive, c->hold_time / 3.0, 0);
		ev_timer_start(loop, &c->keepalive);
	}
}

static void retry_arm(struct bgp_peer *p, double delay)
{
	ev_timer_stop(p->sp->loop, &p->retry);
	ev_timer_set(&p->retry, delay, 0);
	ev_timer_start(p->sp->loop, &p->retry);
}

/* ---- sending ---- */

static void flush_tx(struct bgp_conn *c);

int bgp_conn_send(struct bgp_conn *c, const void *buf, size_t len)
{
	if (c->fd < 0)
		return -ENOTCONN;
	if (c->tx_len - c->tx_off + len > TX_MAX)
		return -ENOBUFS;
	if (c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	if (c->tx_len + len > c->tx_cap) {
		size_t cap = c->tx_cap ? c->tx_cap : 8192;
		uint8_t *n;

		if (c->tx_off) {
			memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
			c->tx_len -= c->tx_off;
			c->tx_off = 0;
		}
		while (cap < c->tx_len + len)
			cap *= 2;
		if (cap != c->tx_cap) {
			n = realloc(c->tx, cap);
			if (!n)
				return -ENOMEM;
			c->tx = n;
			c->tx_cap = cap;
		}
	}
	memcpy(c->tx + c->tx_len, buf, len);
	c->tx_len += len;
	c->peer->msgs_out++;
	flush_tx(c);
	return 0;
}

static int send_msg(struct bgp_conn *c, struct buf_writer *w)
{
	struct span s;

	if (wr_failed(w))
		return -EMSGSIZE;
	s = wr_result(w);
	return bgp_conn_send(c, s.p, s.len);
}

static void flush_tx(struct bgp_conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* the read side sees the failure and closes */
			c->tx_off = c->tx_len;
			break;
		}
		c->tx_off += (size_t)n;
	}
	if (c->tx_off < c->tx_len)
		ev_io_start(c->peer->sp->loop, &c->wio);
	else
		ev_io_stop(c->peer->sp->loop, &c->wio);
}

static void send_notification(struct bgp_conn *c, const struct bgp_notif *n)
{
	uint8_t buf[BGP_MSG_MAX];
	struct buf_writer w;
	char s[300];

	wr_init(&w, buf, sizeof(buf));
	if (bgp_build_notification(&w, n) == 0)
		send_msg(c, &w);
	log_debug(LOGC_BGP_PACKETS, "%s: sent NOTIFICATION %s", c->peer->name,
		  bgp_notif_str(n, s, sizeof(s)));
}

static int send_keepalive(struct bgp_conn *c)
{
	uint8_t buf[BGP_HDR_LEN];
	struct buf_writer w;

	wr_init(&w, buf, sizeof(buf));
	bgp_build_keepalive(&w);
	return send_msg(c, &w);
}

static int send_open(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;
	const struct cgw_bgp_conf *bc = &p->sp->conf->bgp;
	struct bgp_open *o = calloc(1, sizeof(*o));
	uint8_t buf[BGP_MSG_MAX];
	struct buf_writer w;
	int r;

	if (!o)
		return -ENOMEM;
	bgp_open_init(o, p->local_as, p->hold_time, bc->router_id);
	bgp_open_add_afi(o, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	if (bc->graceful_restart || bc->restart_time) {
		o->cap_gr = true;
		o->gr_flags = 0;
		o->gr_time = (uint16_t)bc->restart_time;
		o->n_gr_afi = 1;
		o->gr_afi[0] = (struct bgp_afi_safi){
			.afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST,
			.flags = bc->restart_time ? BGP_GR_AF_FORWARDING : 0,
		};
	}
	wr_init(&w, buf, sizeof(buf));
	r = bgp_build_open(&w, o);
	free(o);
	if (r == 0)
		r = send_msg(c, &w);
	log_debug(LOGC_BGP_PACKETS, "%s: sent OPEN AS %u hold %u (%s connection)",
		  p->name, p->local_as, p->hold_time, c->outgoing ? "our" : "their");
	return r;
}

/* ---- the one place a connection changes state ---- */

static bool transition_ok(enum bgp_state from, enum bgp_state to)
{
	if (from == to || to == BGP_ST_IDLE)
		return true;
	switch (from) {
	case BGP_ST_IDLE: return to == BGP_ST_CONNECT;
	case BGP_ST_CONNECT: return to == BGP_ST_OPENSENT;
	case BGP_ST_OPENSENT: return to == BGP_ST_OPENCONFIRM;
	case BGP_ST_OPENCONFIRM: return to == BGP_ST_ESTABLISHED;
	default: return false;
	}
}

/* Move c to state to (see the diagram in speaker-int.h), logging why. */
static void conn_set_state(struct bgp_conn *c, enum bgp_state to, const char *why)
{
	enum bgp_state from = c->state;

	if (!transition_ok(from, to)) {
		log_warnx("%s: BUG: %s connection %s -> %s (%s) refused", c->peer->name,
			  c->outgoing ? "our" : "their", bgp_state_name(from),
			  bgp_state_name(to), why);
		return;
	}
	c->state = to;
	if (from != to)
		log_debug(LOGC_BGP, "%s: %s connection %s -> %s (%s)", c->peer->name,
			  c->outgoing ? "our" : "their", bgp_state_name(from),
			  bgp_state_name(to), why);
}

/* ---- closing ---- */

static void conn_reset(struct bgp_conn *c)
{
	struct ev_loop *loop = c->peer->sp->loop;

	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->hold);
	ev_timer_stop(loop, &c->keepalive);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	conn_set_state(c, BGP_ST_IDLE, "closed");
	c->rx_len = 0;
	c->tx_len = c->tx_off = 0;
	free(c->open);
	c->open = NULL;
	c->hold_time = 0;
}

/*
 * Close c. stale: the session ends without a NOTIFICATION (TCP failure,
 * hold timer), so a peer with graceful restart keeps its routes as stale.
 */
static void conn_close(struct bgp_conn *c, const struct bgp_notif *n, bool stale)
{
	struct bgp_peer *p = c->peer;
	bool was_est = p->est == c;

	if (n && c->fd >= 0 && c->state != BGP_ST_CONNECT) {
		send_notification(c, n);
		/* best effort: the socket is non-blocking, what fits goes */
	}
	conn_reset(c);
	if (was_est) {
		p->est = NULL;
		p->down_at = now(p);
		bgp_sp_down(p, stale && p->peer_gr && p->sp->conf->bgp.graceful_restart &&
			    !p->sp->shutting_down);
	}
	if (p->enabled && !p->deleted && !p->est && other_conn(c)->state == BGP_ST_IDLE &&
	    !ev_is_active(&p->retry))
		retry_arm(p, p->retry_delay);
}

void bgp_conn_close(struct bgp_conn *c, uint8_t code, uint8_t subcode, const char *why)
{
	struct bgp_notif n;

	if (c->fd < 0)
		return;
	if (why)
		set_error(c->peer, "%s", why);
	if (code) {
		bgp_notif_set(&n, code, subcode);
		if (code == BGP_ERR_CEASE && why)
			bgp_notif_set_shutdown(&n, subcode, why);
		/* shutdown communication only for Cease 2 and 4 (RFC 9003) */
		if (code == BGP_ERR_CEASE && subcode != BGP_SUB_CEASE_ADMIN_SHUTDOWN &&
		    subcode != BGP_SUB_CEASE_ADMIN_RESET)
			n.data_len = 0;
		conn_close(c, &n, false);
	} else {
		conn_close(c, NULL, false);
	}
}

/* A protocol error in c: send n, close, remember why. */
static int conn_error(struct bgp_conn *c, const struct bgp_notif *n, const char *why)
{
	char s[300];

	set_error(c->peer, "%s (sent %s)", why, bgp_notif_str(n, s, sizeof(s)));
	if (log_budget(c->peer, &c->peer->conn_log, CONN_LINES))
		log_warnx("%s: %s: session reset (sent %s)", c->peer->name, why, s);
	conn_close(c, n, false);
	return -1;
}

/* ---- events ---- */

static void conn_event(struct bgp_conn *c, enum bgp_event ev, const struct bgp_frame *f)
{
	const struct fsm_entry *t = &fsm[c->state][ev];
	enum bgp_state from = c->state;

	if (!t->fn) {
		struct bgp_notif n;
		uint8_t sub = from == BGP_ST_OPENSENT ? BGP_SUB_FSM_OPENSENT :
			from == BGP_ST_OPENCONFIRM ? BGP_SUB_FSM_OPENCONFIRM :
			from == BGP_ST_ESTABLISHED ? BGP_SUB_FSM_ESTABLISHED :
			BGP_SUB_FSM_UNSPECIFIED;
		char why[120];

		if (c->fd < 0)
			return;
		bgp_notif_set(&n, BGP_ERR_FSM, sub);
		snprintf(why, sizeof(why), "%s in state %s", bgp_event_name(ev),
			 bgp_state_name(from));
		conn_error(c, &n, why);
		return;
	}
	if (t->fn(c, f) < 0)
		return;
	if (c->fd < 0)
		return;
	conn_set_state(c, t->next, bgp_event_name(ev));
}

static int on_tcp_ok(struct bgp_conn *c, const struct bgp_frame *f)
{
	socklen_t sl = sizeof(c->local);

	getsockname(c->fd, (struct sockaddr *)&c->local, &sl);
	ev_io_stop(c->peer->sp->loop, &c->wio);
	ev_io_start(c->peer->sp->loop, &c->rio);
	if (send_open(c) < 0) {
		conn_reset(c);
		return -1;
	}
	hold_restart(c, BGP_OPEN_HOLD);
	return 0;
}

static int on_tcp_fail(struct bgp_conn *c, const struct bgp_frame *f)
{
	bool was_est = c->peer->est == c;

	if (was_est)
		log_warnx("%s: session down: %s", c->peer->name, c->peer->last_error);
	else
		log_debug(LOGC_BGP, "%s: %s connection: %s", c->peer->name,
			  c->outgoing ? "our" : "their", c->peer->last_error);
	conn_close(c, NULL, true);
	return -1;
}

/* RFC 4271 6.8: which of two connections with OPENs survives. */
static int collision(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;
	struct bgp_conn *o = other_conn(c);
	uint32_t ours = ntohl(p->sp->conf->bgp.router_id.s_addr);
	uint32_t theirs = ntohl(c->open->bgp_id.s_addr);
	struct bgp_conn *loser;
	struct bgp_notif n;

	if (o->state == BGP_ST_ESTABLISHED) {
		if (c->open->cap_gr && (c->open->gr_flags & BGP_GR_RESTART) &&
		    p->sp->conf->bgp.graceful_restart) {
			/* RFC 4724 4.2: the peer restarted; its old routes turn stale */
			log_notice("%s: the peer restarted (OPEN with the restart flag while "
				   "established): graceful restart", p->name);
			set_error(p, "peer restarted (graceful restart)");
			conn_close(o, NULL, true);
			return 0;
		}
		bgp_notif_set(&n, BGP_ERR_CEASE, BGP_SUB_CEASE_COLLISION);
		if (log_budget(p, &p->conn_log, CONN_LINES))
			log_info("%s: connection collision with the established session: "
				 "closing the new one", p->name);
		conn_close(c, &n, false);
		return -1;
	}
	if (o->state != BGP_ST_OPENCONFIRM)
		return 0;
	/* the connection opened by the higher identifier survives */
	loser = ours < theirs ? (c->outgoing ? c : o) : (c->outgoing ? o : c);
	if (log_budget(p, &p->conn_log, CONN_LINES))
		log_info("%s: connection collision: closing %s connection (identifiers %s)",
			 p->name, loser->outgoing ? "our" : "their",
			 ours < theirs ? "theirs higher" : "ours higher");
	bgp_notif_set(&n, BGP_ERR_CEASE, BGP_SUB_CEASE_COLLISION);
	conn_close(loser, &n, false);
	return loser == c ? -1 : 0;
}

static int on_open(struct bgp_conn *c, const struct bgp_frame *f)
{
	struct bgp_peer *p = c->peer;
	struct bgp_result res;
	struct bgp_notif n;
	char why[200], id[INET_ADDRSTRLEN];

	bgp_result_clear(&res);
	free(c->open);
	c->open = calloc(1, sizeof(*c->open));
	if (!c->open) {
		bgp_notif_set(&n, BGP_ERR_CEASE, BGP_SUB_CEASE_OUT_OF_RESOURCES);
		return conn_error(c, &n, "out of memory");
	}
	if (bgp_open_parse(f->body.p, f->body.len, c->open, &res) < 0)
		return conn_error(c, &res.notif, res.reason[0] ? res.reason : "bad OPEN");
	if (c->open->my_as != p->remote_as) {
		bgp_notif_set(&n, BGP_ERR_OPEN, BGP_SUB_OPEN_BAD_PEER_AS);
		snprintf(why, sizeof(why), "OPEN from AS %u, expected AS %u", c->open->my_as,
			 p->remote_as);
		return conn_error(c, &n, why);
	}
	if (p->remote_as == p->local_as &&
	    c->open->bgp_id.s_addr == p->sp->conf->bgp.router_id.s_addr) {
		bgp_notif_set(&n, BGP_ERR_OPEN, BGP_SUB_OPEN_BAD_BGP_ID);
		snprintf(why, sizeof(why), "iBGP peer uses our router id %s",
			 inet_ntop(AF_INET, &c->open->bgp_id, id, sizeof(id)));
		return conn_error(c, &n, why);
	}
	if (collision(c) < 0)
		return -1;
	c->hold_time = c->open->hold_time < p->hold_time ? c->open->hold_time : p->hold_time;
	c->wire.four_octet = c->open->cap_as4;
	c->wire.ebgp = p->remote_as != p->local_as;
	c->wire.peer_as = p->remote_as;
	c->wire.local = c->local.sin_addr;
	p->peer_id = c->open->bgp_id;
	p->peer_hold = c->open->hold_time;
	log_debug(LOGC_BGP_PACKETS, "%s: received OPEN AS %u id %s hold %u%s%s", p->name,
		  c->open->my_as, inet_ntop(AF_INET, &c->open->bgp_id, id, sizeof(id)),
		  c->open->hold_time, c->open->cap_as4 ? " as4" : "",
		  c->open->cap_gr ? " graceful-restart" : "");
	if (send_keepalive(c) < 0) {
		conn_reset(c);
		return -1;
	}
	hold_restart(c, c->hold_time);
	keepalive_arm(c);
	return 0;
}

static int on_keepalive_confirm(struct bgp_conn *c, const struct bgp_frame *f)
{
	struct bgp_peer *p = c->peer;
	struct bgp_conn *o = other_conn(c);
	char id[INET_ADDRSTRLEN];

	hold_restart(c, c->hold_time);
	if (o->fd >= 0) {
		struct bgp_notif n;

		bgp_notif_set(&n, BGP_ERR_CEASE, BGP_SUB_CEASE_COLLISION);
		conn_close(o, &n, false);
	}
	ev_timer_stop(p->sp->loop, &p->retry);
	p->retry_delay = BGP_RETRY_MIN;
	p->est = c;
	p->peer_gr = c->open->cap_gr &&
		bgp_open_has_afi(c->open, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	p->peer_gr_time = c->open->gr_time;
	p->established_at = now(p);
	p->established_count++;
	p->last_error[0] = '\0';
	log_notice("%s: BGP session established with %s AS %u (id %s, hold %u s, %s connection)",
		   p->name, inet_ntoa(p->remote.sin_addr), p->remote_as,
		   inet_ntop(AF_INET, &p->peer_id, id, sizeof(id)), c->hold_time,
		   c->outgoing ? "our" : "their");
	/* before the speaker sends its routes */
	conn_set_state(c, BGP_ST_ESTABLISHED, bgp_event_name(BGP_EV_KEEPALIVE));
	bgp_sp_established(p);
	return 0;
}

static int on_keepalive(struct bgp_conn *c, const struct bgp_frame *f)
{
	hold_restart(c, c->hold_time);
	return 0;
}

/* Log an UPDATE error, within the peer's budget for them. */
static void update_error_log(struct bgp_peer *p, const struct bgp_result *res)
{
	if (log_budget(p, &p->upd_log, "UPDATE errors"))
		bgp_result_log(p->name, res);
}

static int on_update(struct bgp_conn *c, const struct bgp_frame *f)
{
	struct bgp_peer *p = c->peer;
	struct bgp_update u;
	struct bgp_result res;
	struct bgp_notif n;
	int r;

	hold_restart(c, c->hold_time);
	p->updates_in++;
	bgp_result_clear(&res);
	memset(&u, 0, sizeof(u));
	r = bgp_update_parse(f->body.p, f->body.len, &c->wire, &u, &res);
	if (r == -EBADMSG) {
		bgp_update_free(&u);
		return conn_error(c, &res.notif, res.reason);
	}
	if (r < 0) {
		bgp_update_free(&u);
		bgp_notif_set(&n, BGP_ERR_CEASE, BGP_SUB_CEASE_OUT_OF_RESOURCES);
		return conn_error(c, &n, "out of memory");
	}
	if (res.action != BGP_ACT_NONE) {
		p->errors_7606++;
		update_error_log(p, &res);
	}
	if (res.action == BGP_ACT_WITHDRAW)
		set_error(p, "treat-as-withdraw: %s", res.reason);
	if (u.eor) {
		bgp_update_free(&u);
		bgp_sp_eor(p);
		return 0;
	}
	r = bgp_sp_update(p, &u);
	bgp_update_free(&u);
	if (r == -ERANGE) {
		char why[200];

		snprintf(why, sizeof(why), "more than max-prefix-in %u prefixes",
			 p->pol ? p->pol->max_prefix_in : 0);
		bgp_notif_set(&n, BGP_ERR_CEASE, BGP_SUB_CEASE_MAX_PREFIX);
		/* no new session, either way, for a while: no flapping */
		p->idle_until = now(p) + BGP_MAX_PREFIX_IDLE;
		conn_error(c, &n, why);
		retry_arm(p, BGP_MAX_PREFIX_IDLE);
		log_warnx("%s: no new session for %.0f s", p->name, BGP_MAX_PREFIX_IDLE);
		return -1;
	}
	return 0;
}

static int on_notification(struct bgp_conn *c, const struct bgp_frame *f)
{
	struct bgp_peer *p = c->peer;
	struct bgp_notif n;
	char s[300];

	if (bgp_notification_parse(f->body.p, f->body.len, &n) < 0)
		snprintf(s, sizeof(s), "malformed NOTIFICATION");
	else
		bgp_notif_str(&n, s, sizeof(s));
	set_error(p, "received %s", s);
	if (log_budget(p, &p->conn_log, CONN_LINES))
		log_warnx("%s: %s connection closed by the peer: %s", p->name,
			  p->est == c ? "established" : c->outgoing ? "our" : "their", s);
	conn_close(c, NULL, false);
	return -1;
}

static int on_route_refresh(struct bgp_conn *c, const struct bgp_frame *f)
{
	struct bgp_route_refresh rr;
	struct bgp_notif n;

	hold_restart(c, c->hold_time);
	if (bgp_route_refresh_parse(f->body.p, f->body.len, &rr) < 0) {
		bgp_notif_set(&n, BGP_ERR_RR, BGP_SUB_RR_INVALID_LEN);
		return conn_error(c, &n, "malformed ROUTE-REFRESH");
	}
	if (rr.afi == BGP_AFI_IPV4 && rr.safi == BGP_SAFI_UNICAST && rr.subtype == 0)
		bgp_sp_refresh(c->peer);
	return 0;
}

static int on_hold_expired(struct bgp_conn *c, const struct bgp_frame *f)
{
	struct bgp_notif n;
	char why[80];

	snprintf(why, sizeof(why), "hold timer expired (%u s without a message)",
		 c->state == BGP_ST_OPENSENT ? BGP_OPEN_HOLD : c->hold_time);
	bgp_notif_set(&n, BGP_ERR_HOLD, 0);
	set_error(c->peer, "%s", why);
	log_warnx("%s: %s", c->peer->name, why);
	conn_close(c, &n, true);
	return -1;
}

static int on_keepalive_timer(struct bgp_conn *c, const struct bgp_frame *f)
{
	if (send_keepalive(c) < 0) {
		set_error(c->peer, "cannot send a KEEPALIVE");
		conn_close(c, NULL, true);
		return -1;
	}
	keepalive_arm(c);
	return 0;
}

static int on_stop(struct bgp_conn *c, const struct bgp_frame *f)
{
	conn_close(c, NULL, false);
	return -1;
}

/* ---- I/O watchers ---- */

static void handle_frames(struct bgp_conn *c)
{
	size_t off = 0;

	while (c->fd >= 0 && off < c->rx_len) {
		struct bgp_frame f;
		struct bgp_result res;
		int r;

		bgp_result_clear(&res);
		r = bgp_frame(c->rx + off, c->rx_len - off, &f, &res);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			conn_error(c, &res.notif, res.reason[0] ? res.reason : "bad message header");
			return;
		}
		c->peer->msgs_in++;
		switch (f.type) {
		case BGP_MSG_OPEN: conn_event(c, BGP_EV_OPEN, &f); break;
		case BGP_MSG_UPDATE: conn_event(c, BGP_EV_UPDATE, &f); break;
		case BGP_MSG_NOTIFICATION: conn_event(c, BGP_EV_NOTIFICATION, &f); break;
		case BGP_MSG_KEEPALIVE: conn_event(c, BGP_EV_KEEPALIVE, &f); break;
		case BGP_MSG_ROUTE_REFRESH: conn_event(c, BGP_EV_ROUTE_REFRESH, &f); break;
		}
		off += f.len;
	}
	if (c->fd < 0)
		return;
	if (off) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bgp_conn *c = w->data;
	ssize_t n;

	if (!c->rx) {
		c->rx = malloc(BGP_RX_BUF);
		if (!c->rx)
			return;
	}
	n = recv(c->fd, c->rx + c->rx_len, BGP_RX_BUF - c->rx_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		set_error(c->peer, "%s", n == 0 ? "connection closed by the peer" :
			  strerror(errno));
		conn_event(c, BGP_EV_TCP_FAIL, NULL);
		return;
	}
	c->rx_len += (size_t)n;
	handle_frames(c);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bgp_conn *c = w->data;
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state != BGP_ST_CONNECT) {
		flush_tx(c);
		return;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		set_error(c->peer, "connect to %s port %u: %s", inet_ntoa(c->peer->remote.sin_addr),
			  ntohs(c->peer->remote.sin_port), strerror(err));
		conn_event(c, BGP_EV_TCP_FAIL, NULL);
		return;
	}
	conn_event(c, BGP_EV_TCP_OK, NULL);
}

static void on_hold(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_event(w->data, BGP_EV_HOLD_EXPIRED, NULL);
}

static void on_keepalive_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_event(w->data, BGP_EV_KEEPALIVE_TIMER, NULL);
}

static void conn_init(struct bgp_peer *p, struct bgp_conn *c, bool outgoing)
{
	c->peer = p;
	c->fd = -1;
	c->outgoing = outgoing;
	c->state = BGP_ST_IDLE;
	ev_init(&c->rio, on_readable);
	ev_init(&c->wio, on_writable);
	ev_init(&c->hold, on_hold);
	ev_init(&c->keepalive, on_keepalive_tick);
	c->rio.data = c->wio.data = c->hold.data = c->keepalive.data = c;
}

static void conn_attach(struct bgp_conn *c, int fd)
{
	c->fd = fd;
	ev_io_set(&c->rio, fd, EV_READ);
	ev_io_set(&c->wio, fd, EV_WRITE);
}

/* ---- connecting ---- */

/* Our connection in progress, or NULL. */
static struct bgp_conn *outgoing_conn(struct bgp_peer *p)
{
	for (int i = 0; i < 2; i++)
		if (p->conn[i].fd >= 0 && p->conn[i].outgoing)
			return &p->conn[i];
	return NULL;
}

/* A slot for a new connection: a free one, else the one that is not established. */
static struct bgp_conn *free_conn(struct bgp_peer *p)
{
	for (int i = 0; i < 2; i++)
		if (p->conn[i].fd < 0)
			return &p->conn[i];
	return NULL;
}

static void connect_out(struct bgp_peer *p)
{
	struct bgp_conn *c = free_conn(p);
	int fd, one = 1, ttl = (int)p->ttl;

	if (!c || outgoing_conn(p) || p->est)
		return;
	c->outgoing = true;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_error(p, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ttl > 0)
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	if (p->local.sin_addr.s_addr != INADDR_ANY &&
	    bind(fd, (const struct sockaddr *)&p->local, sizeof(p->local)) < 0) {
		set_error(p, "bind %s: %s", inet_ntoa(p->local.sin_addr), strerror(errno));
		close(fd);
		return;
	}
	conn_attach(c, fd);
	conn_set_state(c, BGP_ST_CONNECT, "connecting");
	if (connect(fd, (const struct sockaddr *)&p->remote, sizeof(p->remote)) == 0) {
		conn_event(c, BGP_EV_TCP_OK, NULL);
		return;
	}
	if (errno == EINPROGRESS) {
		ev_io_start(p->sp->loop, &c->wio);
		return;
	}
	set_error(p, "connect to %s port %u: %s", inet_ntoa(p->remote.sin_addr),
		  ntohs(p->remote.sin_port), strerror(errno));
	conn_event(c, BGP_EV_TCP_FAIL, NULL);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bgp_peer *p = w->data;

	if (!p->enabled || p->est)
		return;
	if (now(p) < p->idle_until) {
		retry_arm(p, p->idle_until - now(p));
		return;
	}
	if (outgoing_conn(p) && outgoing_conn(p)->state == BGP_ST_CONNECT)
		conn_reset(outgoing_conn(p));	/* the SYN went nowhere: try again */
	p->retry_delay = p->retry_delay * 2 > BGP_RETRY_MAX ? BGP_RETRY_MAX : p->retry_delay * 2;
	retry_arm(p, p->retry_delay);
	if (!p->passive)
		connect_out(p);
}

static void on_gr(struct ev_loop *loop, ev_timer *w, int revents);

int bgp_peer_new(struct bgp_speaker *sp, struct bgp_peer **out)
{
	struct bgp_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->sp = sp;
	conn_init(p, &p->conn[0], true);
	conn_init(p, &p->conn[1], false);
	ev_init(&p->retry, on_retry);
	p->retry.data = p;
	ev_init(&p->gr, on_gr);
	p->gr.data = p;
	p->retry_delay = BGP_RETRY_MIN;
	*out = p;
	return 0;
}

/* The peer's restart time is over and it has not come back: drop stale routes. */
static void on_gr(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bgp_peer *p = w->data;

	log_notice("%s: graceful restart time over: its stale routes are withdrawn", p->name);
	bgp_sp_eor(p);
}

void bgp_peer_start(struct bgp_peer *p)
{
	if (p->enabled)
		return;
	p->enabled = true;
	p->retry_delay = BGP_RETRY_MIN;
	if (now(p) < p->idle_until) {
		retry_arm(p, p->idle_until - now(p));
		return;
	}
	p->last_error[0] = '\0';
	if (p->passive) {
		retry_arm(p, BGP_RETRY_MAX);
		return;
	}
	retry_arm(p, p->retry_delay);
	connect_out(p);
}

void bgp_peer_stop(struct bgp_peer *p, uint8_t code, uint8_t subcode, const char *why)
{
	p->enabled = false;
	ev_timer_stop(p->sp->loop, &p->retry);
	for (int i = 0; i < 2; i++)
		bgp_conn_close(&p->conn[i], code, subcode, why);
	if (why)
		set_error(p, "%s", why);
}

void bgp_peer_accept(struct bgp_peer *p, int fd, const struct sockaddr_in *local)
{
	struct bgp_conn *c;
	int one = 1, ttl = (int)p->ttl;

	if (!p->enabled || now(p) < p->idle_until) {
		log_debug(LOGC_BGP, "%s: connection refused: %s", p->name,
			  p->enabled ? "idle after a max-prefix Cease" :
			  p->tunnel ? "tunnel down" : "session stopped");
		close(fd);
		return;
	}
	/*
	 * A slot: a free one, else the one not established (an older attempt
	 * of the peer's, or ours). Whether a new connection beside an
	 * established session is a restart (RFC 4724) or a collision to
	 * refuse (RFC 4271 6.8) is decided when its OPEN comes.
	 */
	c = free_conn(p);
	if (!c) {
		c = p->est == &p->conn[0] ? &p->conn[1] : &p->conn[0];
		log_debug(LOGC_BGP, "%s: new connection from the peer replaces %s attempt",
			  p->name, c->outgoing ? "our" : "its older");
		conn_reset(c);
	}
	c->outgoing = false;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ttl > 0)
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	conn_attach(c, fd);
	conn_set_state(c, BGP_ST_CONNECT, "accepted");
	(void)local;
	conn_event(c, BGP_EV_TCP_OK, NULL);
}

void bgp_peer_free(struct bgp_peer *p)
{
	if (!p)
		return;
	for (int i = 0; i < 2; i++) {
		conn_reset(&p->conn[i]);
		free(p->conn[i].rx);
		free(p->conn[i].tx);
	}
	ev_timer_stop(p->sp->loop, &p->retry);
	ev_timer_stop(p->sp->loop, &p->gr);
	for (size_t i = 0; i < p->n_out; i++)
		bgp_attrs_unref(p->out[i].attrs);
	free(p->out);
	free(p);
}
