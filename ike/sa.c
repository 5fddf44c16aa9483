/*
 * IKE SA and CHILD SA objects: the state transition tables (the only
 * place states change), creation and lookup by SPI, failure and teardown,
 * and the per-tunnel lifecycle (initiate, re-initiate with backoff
 * forever, up/down reported to the daemon from "any live CHILD SA").
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "xfrm/xfrm.h"

static const char *const ike_state_names[] = {
#define X(id, name) [IKE_SA_##id] = name,
	IKE_SA_STATES(X)
#undef X
};

static const char *const child_state_names[] = {
#define X(id, name) [CHILD_SA_##id] = name,
	CHILD_SA_STATES(X)
#undef X
};

#define T(from, to) [IKE_SA_##from][IKE_SA_##to] = true
static const bool ike_transitions[IKE_SA_STATE_COUNT][IKE_SA_STATE_COUNT] = {
	T(IDLE, INIT_SENT), T(IDLE, INIT_DONE), T(IDLE, DEAD),
	T(IDLE, ESTABLISHED),		/* made by rekeying an established SA */
	T(IDLE, REKEYED), T(IDLE, DELETING),	/* redundant: rekey collision */
	T(INIT_SENT, INIT_SENT),	/* retry: cookie or INVALID_KE_PAYLOAD */
	T(INIT_SENT, AUTH_SENT), T(INIT_SENT, DEAD),
	T(AUTH_SENT, ESTABLISHED), T(AUTH_SENT, DELETING), T(AUTH_SENT, DEAD),
	T(INIT_DONE, ESTABLISHED), T(INIT_DONE, DEAD),
	T(ESTABLISHED, REKEYING), T(ESTABLISHED, REKEYED),
	T(ESTABLISHED, DELETING), T(ESTABLISHED, DEAD),
	T(REKEYING, ESTABLISHED), T(REKEYING, REKEYED),
	T(REKEYING, DELETING), T(REKEYING, DEAD),
	T(REKEYED, DELETING), T(REKEYED, DEAD),
	T(DELETING, DEAD),
};
#undef T

#define T(from, to) [CHILD_SA_##from][CHILD_SA_##to] = true
static const bool child_transitions[CHILD_SA_STATE_COUNT][CHILD_SA_STATE_COUNT] = {
	T(CREATING, INSTALLED), T(CREATING, DEAD),
	T(INSTALLED, REKEYING), T(INSTALLED, REKEYED),
	T(INSTALLED, DELETING), T(INSTALLED, DEAD),
	T(REKEYING, INSTALLED), T(REKEYING, REKEYED),
	T(REKEYING, DELETING), T(REKEYING, DEAD),
	T(REKEYED, DELETING), T(REKEYED, DEAD),
	T(DELETING, DEAD),
};
#undef T

const char *ike_sa_state_name(enum ike_sa_state s)
{
	return s < IKE_SA_STATE_COUNT ? ike_state_names[s] : "?";
}

const char *child_sa_state_name(enum child_sa_state s)
{
	return s < CHILD_SA_STATE_COUNT ? child_state_names[s] : "?";
}

bool ike_sa_transition_ok(enum ike_sa_state from, enum ike_sa_state to)
{
	return from < IKE_SA_STATE_COUNT && to < IKE_SA_STATE_COUNT &&
	       ike_transitions[from][to];
}

bool child_sa_transition_ok(enum child_sa_state from, enum child_sa_state to)
{
	return from < CHILD_SA_STATE_COUNT && to < CHILD_SA_STATE_COUNT &&
	       child_transitions[from][to];
}

void ike_log_sa(const struct ike_sa *sa, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("%s: IKE SA %016llx/%016llx: %s", sa->tun->conf->name,
		 (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r, msg);
}

void ike_sa_set_state(struct ike_sa *sa, enum ike_sa_state to, const char *why)
{
	if (!ike_sa_transition_ok(sa->state, to)) {
		log_warnx("%s: IKE SA: refused transition %s -> %s (%s)",
			  sa->tun->conf->name, ike_sa_state_name(sa->state),
			  ike_sa_state_name(to), why);
		return;
	}
	ike_log_sa(sa, "%s -> %s (%s)", ike_sa_state_name(sa->state),
		   ike_sa_state_name(to), why);
	if (sa->counted_half_open) {
		sa->ike->half_open--;
		sa->counted_half_open = false;
	}
	sa->state = to;
	switch (to) {
	case IKE_SA_INIT_DONE:
		sa->ike->half_open++;
		sa->counted_half_open = true;
		ike_timers_half_open(sa);
		break;
	case IKE_SA_ESTABLISHED:
		sa->established = ev_now(sa->ike->loop);
		ike_timers_established(sa);
		break;
	default:
		break;
	}
}

void child_sa_set_state(struct child_sa *c, enum child_sa_state to, const char *why)
{
	if (!child_sa_transition_ok(c->state, to)) {
		log_warnx("%s: CHILD SA %08x/%08x: refused transition %s -> %s (%s)",
			  c->ike->tun->conf->name, c->spi_in, c->spi_out,
			  child_sa_state_name(c->state), child_sa_state_name(to), why);
		return;
	}
	log_info("%s: CHILD SA %08x/%08x: %s -> %s (%s)", c->ike->tun->conf->name,
		 c->spi_in, c->spi_out, child_sa_state_name(c->state),
		 child_sa_state_name(to), why);
	c->state = to;
}

static uint64_t random_spi(void)
{
	uint64_t spi = 0;

	while (spi == 0)
		randombytes_buf(&spi, sizeof(spi));
	return spi;
}

struct ike_sa *ike_sa_new(struct ike_tunnel *tun, bool initiator)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->tun = tun;
	sa->ike = tun->ike;
	sa->initiator = initiator;
	sa->state = IKE_SA_IDLE;
	if (initiator)
		sa->spi_i = random_spi();
	else
		sa->spi_r = random_spi();
	sa->next = tun->ike->sas;
	tun->ike->sas = sa;
	return sa;
}

struct ike_sa *ike_sa_find(struct ike *ike, uint64_t spi_i, uint64_t spi_r)
{
	for (struct ike_sa *sa = ike->sas; sa; sa = sa->next) {
		if (sa->state == IKE_SA_DEAD)
			continue;
		if (sa->spi_i == spi_i && sa->spi_r == spi_r)
			return sa;
	}
	return NULL;
}

/* A responder's SA for an SA_INIT retransmission (its spi_r unknown to the peer). */
struct ike_sa *ike_sa_find_half(struct ike *ike, uint64_t spi_i,
				const struct sockaddr_in *remote)
{
	for (struct ike_sa *sa = ike->sas; sa; sa = sa->next)
		if (!sa->initiator && sa->spi_i == spi_i && sa->state != IKE_SA_DEAD &&
		    sa->path.remote.sin_addr.s_addr == remote->sin_addr.s_addr)
			return sa;
	return NULL;
}

static void ike_sa_unlink(struct ike_sa *sa)
{
	for (struct ike_sa **pp = &sa->ike->sas; *pp; pp = &(*pp)->next) {
		if (*pp == sa) {
			*pp = sa->next;
			return;
		}
	}
}

/* Remove the SA's kernel state and free it. The tunnel is told after. */
void ike_sa_destroy(struct ike_sa *sa)
{
	struct ike_tunnel *tun = sa->tun;
	struct ike_sa *orphan = ike_rekey_collision_sa(sa);

	if (orphan) {
		/* The peer's new SA from a collision we never resolved. */
		sa->coll_spi_i = sa->coll_spi_r = 0;
		ike_sa_set_state(orphan, IKE_SA_DEAD, "its rekey collision ended with the old SA");
		ike_sa_destroy(orphan);
	}
	ike_timers_stop(sa);
	child_rekey_abort(sa);
	ike_rekey_abort(sa);
	child_release_spi(sa, sa->pending_spi);	/* IKE_AUTH never finished */
	if (sa->counted_half_open)
		sa->ike->half_open--;
	while (sa->children) {
		struct child_sa *c = sa->children;
		sa->children = c->next;
		child_destroy(c);
	}
	ike_sa_unlink(sa);
	ike_dh_free(sa->dh);
	ike_sa_keys_clear(&sa->keys);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->last_resp);
	free(sa->req.buf);
	sodium_memzero(sa, sizeof(*sa));
	free(sa);
	ike_tunnel_child_changed(tun);
}

/* The SA cannot go on: say why once, free it, re-initiate if configured. */
void ike_sa_fail(struct ike_sa *sa, const char *fmt, ...)
{
	struct ike_tunnel *tun = sa->tun;
	bool was_initiator = sa->initiator;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tun->last_error, sizeof(tun->last_error), fmt, ap);
	va_end(ap);
	log_warnx("%s: IKE SA %016llx/%016llx failed in %s: %s", tun->conf->name,
		  (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
		  ike_sa_state_name(sa->state), tun->last_error);
	ike_sa_set_state(sa, IKE_SA_DEAD, "failed");
	ike_sa_destroy(sa);
	if (was_initiator || tun->conf->startup == CGW_STARTUP_START || tun->restarting)
		ike_tunnel_schedule_reinit(tun);
}

struct ike_tunnel *ike_tunnel_by_remote(struct ike *ike, const struct sockaddr_in *remote)
{
	for (struct ike_tunnel *t = ike->tunnels; t; t = t->next)
		if (t->conf->remote.v4.s_addr == remote->sin_addr.s_addr)
			return t;
	return NULL;
}

bool ike_tunnel_log_ok(struct ike_tunnel *tun, unsigned *held)
{
	double now = ev_now(tun->ike->loop);

	if (tun->unauth_log_next && now < tun->unauth_log_next) {
		tun->unauth_log_held++;
		return false;
	}
	*held = tun->unauth_log_held;
	tun->unauth_log_held = 0;
	tun->unauth_log_next = now + IKE_UNAUTH_LOG_INTERVAL;
	return true;
}

static bool tunnel_has_child(struct ike_tunnel *tun)
{
	for (struct ike_sa *sa = tun->ike->sas; sa; sa = sa->next) {
		if (sa->tun != tun)
			continue;
		for (struct child_sa *c = sa->children; c; c = c->next)
			if (c->installed && c->state != CHILD_SA_DEAD)
				return true;
	}
	return false;
}

/* Report up/down on edges of "the tunnel has any live CHILD SA". */
void ike_tunnel_child_changed(struct ike_tunnel *tun)
{
	bool up = tunnel_has_child(tun);

	if (up == tun->up)
		return;
	tun->up = up;
	if (up) {
		tun->backoff = IKE_BACKOFF_MIN;
		tun->restarting = false;
		tun->attempts = 0;
		tun->last_error[0] = '\0';
		tun->ike->ops.tunnel_up(tun->ike->arg, tun->conf->name);
	} else {
		tun->ike->ops.tunnel_down(tun->ike->arg, tun->conf->name,
					  tun->last_error[0] ? tun->last_error : "no CHILD SA");
	}
}

static bool tunnel_has_sa(struct ike_tunnel *tun)
{
	for (struct ike_sa *sa = tun->ike->sas; sa; sa = sa->next)
		if (sa->tun == tun && sa->state != IKE_SA_DEAD)
			return true;
	return false;
}

/* Try again later: 1 s doubling to 30 s, forever (startup = start, or
 * dpd-action restart until the tunnel is up again; that one starts at
 * once: backoff 0). */
void ike_tunnel_schedule_reinit(struct ike_tunnel *tun)
{
	if ((tun->conf->startup != CGW_STARTUP_START && !tun->restarting) || tun->admin_down ||
	    tun->hold || tunnel_has_sa(tun))
		return;
	log_info("%s: initiating again in %.0f s", tun->conf->name, tun->backoff);
	ike_timers_reinit(tun, tun->backoff);
	tun->backoff *= 2;
	if (tun->backoff < IKE_BACKOFF_MIN)
		tun->backoff = IKE_BACKOFF_MIN;
	if (tun->backoff > IKE_BACKOFF_MAX)
		tun->backoff = IKE_BACKOFF_MAX;
}

/* Our outside address toward the peer: configured, or the route's source. */
int ike_tunnel_local(struct ike_tunnel *tun, struct sockaddr_in *local)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(IKE_PORT),
				   .sin_addr = tun->conf->remote.v4 };
	socklen_t len = sizeof(*local);
	int fd, r = 0;

	memset(local, 0, sizeof(*local));
	local->sin_family = AF_INET;
	local->sin_port = htons(IKE_PORT);
	if (tun->gw->local_address.family == AF_INET) {
		local->sin_addr = tun->gw->local_address.v4;
		return 0;
	}
	/* connect() on UDP sends nothing: it only asks the routing table. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
	    getsockname(fd, (struct sockaddr *)local, &len) < 0)
		r = -errno;
	close(fd);
	local->sin_port = htons(IKE_PORT);
	if (r < 0)
		log_warnx("%s: no route to %s: %s", tun->conf->name,
			  inet_ntoa(tun->conf->remote.v4), strerror(-r));
	return r;
}

/* True when the tunnel has another live IKE SA besides sa. */
bool ike_tunnel_has_other_sa(const struct ike_sa *sa)
{
	for (struct ike_sa *o = sa->ike->sas; o; o = o->next)
		if (o != sa && o->tun == sa->tun && o->state != IKE_SA_DEAD &&
		    o->state != IKE_SA_IDLE)
			return true;
	return false;
}

static bool sa_lower(const struct ike_sa *a, const struct ike_sa *b)
{
	return a->spi_i < b->spi_i || (a->spi_i == b->spi_i && a->spi_r < b->spi_r);
}

/*
 * Both ends initiated at once and two IKE SAs came up for one tunnel.
 * Both ends apply the same rule to the same SPIs: the pair with the lower
 * (SPIi, SPIr) goes, so at most both delete the same one. The tunnel
 * stays up on the other SA's CHILD SA meanwhile.
 */
void ike_tunnel_dedupe(struct ike_sa *sa)
{
	for (struct ike_sa *o = sa->ike->sas; o; o = o->next) {
		if (o == sa || o->tun != sa->tun || o->state != IKE_SA_ESTABLISHED ||
		    !o->children)
			continue;
		struct ike_sa *loser = sa_lower(sa, o) ? sa : o;
		ike_log_sa(loser, "duplicate IKE SA for this tunnel (both ends initiated): "
			   "deleting this one");
		/* Deleting the IKE SA deletes its CHILD SAs (1.4.1); whatever
		 * request was in flight on it no longer matters. */
		ev_timer_stop(loser->ike->loop, &loser->req.timer);
		loser->req.active = false;
		ike_send_delete_ike(loser);
		ike_sa_set_state(loser, IKE_SA_DELETING, "duplicate");
		return;
	}
}

int ike_tunnel_initiate(struct ike_tunnel *tun)
{
	struct ike_sa *sa;
	int r;

	tun->hold = false;
	if (tunnel_has_sa(tun))
		return 0;
	sa = ike_sa_new(tun, true);
	if (!sa)
		return -ENOMEM;
	tun->attempts++;
	r = ike_init_start(sa);
	if (r < 0)
		ike_sa_fail(sa, "cannot start IKE_SA_INIT: %s", strerror(-r));
	return r;
}
