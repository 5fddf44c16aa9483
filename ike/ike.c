/*
 * The engine's public face: creation, tunnels added/updated/removed as
 * the config changes, shutdown (DELETE to every peer), status.
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "common/log.h"
#include "xfrm/xfrm.h"

int ike_new(struct ike **out, struct ev_loop *loop, struct xfrm *x,
	    const struct ike_ops *ops, void *arg)
{
	struct ike *ike = calloc(1, sizeof(*ike));

	if (!ike)
		return -ENOMEM;
	ike->loop = loop;
	ike->xfrm = x;
	ike->ops = *ops;
	ike->arg = arg;
	randombytes_buf(ike->cookie_secret, sizeof(ike->cookie_secret));
	*out = ike;
	return 0;
}

void ike_nonce_new(struct ike *ike, uint8_t *buf, size_t len)
{
	randombytes_buf(buf, len);
	if (ike->n_test_nonce && len) {
		buf[0] = ike->test_nonce[0];
		memmove(ike->test_nonce, ike->test_nonce + 1, --ike->n_test_nonce);
	}
}

int ike_test_next_nonce(struct ike *ike, uint8_t first)
{
	if (ike->n_test_nonce >= sizeof(ike->test_nonce))
		return -ENOSPC;
	ike->test_nonce[ike->n_test_nonce++] = first;
	return 0;
}

static struct ike_tunnel *tunnel_find(struct ike *ike, const char *name)
{
	for (struct ike_tunnel *t = ike->tunnels; t; t = t->next)
		if (strcmp(t->conf->name, name) == 0)
			return t;
	return NULL;
}

int ike_tunnel_add(struct ike *ike, const struct cgw_tunnel_conf *t,
		   const struct cgw_gateway_conf *g, unsigned index)
{
	struct ike_tunnel *tun = calloc(1, sizeof(*tun));

	if (!tun)
		return -ENOMEM;
	tun->ike = ike;
	tun->conf = t;
	tun->gw = g;
	tun->index = index;
	tun->reqid = CGW_XFRM_REQID(index);
	tun->backoff = IKE_BACKOFF_MIN;
	tun->next = ike->tunnels;
	ike->tunnels = tun;
	if (t->startup == CGW_STARTUP_START)
		ike_timers_reinit(tun, 0.);	/* initiate from the loop, at once */
	return 0;
}

void ike_tunnel_update(struct ike *ike, const struct cgw_tunnel_conf *t,
		       const struct cgw_gateway_conf *g)
{
	struct ike_tunnel *tun = tunnel_find(ike, t->name);

	if (tun) {
		tun->conf = t;
		tun->gw = g;
	}
}

/* Delete the SA: DELETE to the peer (not waited for), kernel state removed. */
static void sa_shutdown(struct ike_sa *sa)
{
	if (sa->state == IKE_SA_ESTABLISHED) {
		sa->req.active = false;
		ike_send_delete_ike(sa);
	}
	ike_sa_set_state(sa, IKE_SA_DEAD, "shutting down");
	ike_sa_destroy(sa);
}

static void tunnel_free(struct ike_tunnel *tun)
{
	struct ike *ike = tun->ike;
	struct ike_sa *sa, *next;

	ike_timers_tunnel_stop(tun);
	for (sa = ike->sas; sa; sa = next) {
		next = sa->next;
		if (sa->tun == tun)
			sa_shutdown(sa);
	}
	for (struct ike_tunnel **pp = &ike->tunnels; *pp; pp = &(*pp)->next) {
		if (*pp == tun) {
			*pp = tun->next;
			break;
		}
	}
	free(tun);
}

void ike_tunnel_remove(struct ike *ike, const char *name)
{
	struct ike_tunnel *tun = tunnel_find(ike, name);

	if (tun)
		tunnel_free(tun);
}

int ike_tunnel_rekey(struct ike *ike, const char *name, bool ike_sa)
{
	struct ike_tunnel *tun = tunnel_find(ike, name);

	if (!tun)
		return -ENOENT;
	for (struct ike_sa *sa = ike->sas; sa; sa = sa->next) {
		if (sa->tun != tun || sa->state != IKE_SA_ESTABLISHED)
			continue;
		if (ike_sa)
			return ike_rekey_start(sa);
		for (struct child_sa *c = sa->children; c; c = c->next)
			if (c->state == CHILD_SA_INSTALLED)
				return child_rekey_start(c);
	}
	return -EINVAL;
}

int ike_tunnel_down(struct ike *ike, const char *name)
{
	struct ike_tunnel *tun = tunnel_find(ike, name);
	struct ike_sa *sa, *next;

	if (!tun)
		return -ENOENT;
	tun->admin_down = true;
	ike_timers_tunnel_stop(tun);
	snprintf(tun->last_error, sizeof(tun->last_error), "taken down by the operator");
	for (sa = ike->sas; sa; sa = next) {
		next = sa->next;
		if (sa->tun == tun)
			sa_shutdown(sa);
	}
	return 0;
}

int ike_tunnel_up(struct ike *ike, const char *name)
{
	struct ike_tunnel *tun = tunnel_find(ike, name);

	if (!tun)
		return -ENOENT;
	tun->admin_down = false;
	tun->backoff = IKE_BACKOFF_MIN;
	tun->last_error[0] = '\0';
	return ike_tunnel_initiate(tun);
}

void ike_sa_expired(struct ike *ike, uint32_t spi, bool hard)
{
	for (struct ike_sa *sa = ike->sas; sa; sa = sa->next) {
		struct child_sa *c = child_by_spi_in(sa, spi);
		if (!c)
			c = child_by_spi_out(sa, spi);
		if (!c)
			continue;
		if (!hard) {
			if (c->state == CHILD_SA_INSTALLED && child_rekey_start(c) == 0)
				ike_log_sa(sa, "CHILD SA %08x: soft lifetime reached: rekeying",
					   c->spi_in);
			return;
		}
		ike_log_sa(sa, "CHILD SA %08x/%08x: hard lifetime reached: removed",
			   c->spi_in, c->spi_out);
		child_unlink(c);
		child_sa_set_state(c, CHILD_SA_DEAD, "hard lifetime");
		child_destroy(c);
		ike_tunnel_child_changed(sa->tun);
		return;
	}
}

void ike_acquire(struct ike *ike, uint32_t reqid)
{
	for (struct ike_tunnel *t = ike->tunnels; t; t = t->next) {
		if (t->reqid != reqid || !t->hold || t->admin_down)
			continue;
		log_info("%s: traffic for the tunnel: initiating (dpd-action hold)", t->conf->name);
		ike_tunnel_initiate(t);
		return;
	}
}

void ike_free(struct ike *ike)
{
	if (!ike)
		return;
	while (ike->tunnels)
		tunnel_free(ike->tunnels);
	sodium_memzero(ike->cookie_secret, sizeof(ike->cookie_secret));
	free(ike);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* Bytes and packets the kernel counted on one of the child's states. */
static void add_sa_counters(const struct child_sa *c, bool in, struct json_object *o)
{
	const struct ike_sa *sa = c->ike;
	struct xfrm_said id = {
		.spi = in ? c->spi_in : c->spi_out, .proto = IPPROTO_ESP,
		.mark = sa->tun->conf->mark, .mark_mask = 0xffffffff,
	};
	struct xfrm_state_info info;

	id.dst.family = AF_INET;
	id.dst.v4 = in ? sa->path.local.sin_addr : sa->path.remote.sin_addr;
	if (!c->installed || xfrm_state_get(sa->ike->xfrm, &id, &info) < 0)
		return;
	json_object_object_add(o, in ? "bytes_in" : "bytes_out",
			       json_object_new_int64((int64_t)info.cnt.bytes));
	json_object_object_add(o, in ? "packets_in" : "packets_out",
			       json_object_new_int64((int64_t)info.cnt.packets));
}

static struct json_object *child_status(const struct child_sa *c, double now)
{
	struct json_object *o = json_object_new_object();
	struct cgw_proposals one = { .n = 1 };
	char buf[128];

	snprintf(buf, sizeof(buf), "%08x", c->spi_in);
	add_str(o, "spi_in", buf);
	snprintf(buf, sizeof(buf), "%08x", c->spi_out);
	add_str(o, "spi_out", buf);
	add_str(o, "state", child_sa_state_name(c->state));
	one.p[0].encr[0] = (struct cgw_alg){ c->algs.encr, c->algs.encr_keylen };
	one.p[0].n_encr = 1;
	if (c->algs.integ) {
		one.p[0].integ[0].id = c->algs.integ;
		one.p[0].n_integ = 1;
	}
	add_str(o, "algorithms", proposal_str(&one, PROPOSAL_ESP, buf, sizeof(buf)));
	json_object_object_add(o, "established_for",
			       json_object_new_int64((int64_t)(now - c->established)));
	add_sa_counters(c, true, o);
	add_sa_counters(c, false, o);
	json_object_object_add(o, "rekeys", json_object_new_int64(c->rekeys));
	if (ev_is_active(&c->rekey_timer))
		json_object_object_add(o, "rekey_in", json_object_new_int64(
			(int64_t)ev_timer_remaining(c->ike->ike->loop,
						    (ev_timer *)&c->rekey_timer)));
	return o;
}

static struct json_object *sa_status(const struct ike_sa *sa, double now)
{
	struct json_object *o = json_object_new_object();
	struct json_object *children = json_object_new_array();
	struct cgw_proposals one = { .n = 1, .p = { sa->chosen } };
	char buf[256];

	add_str(o, "state", ike_sa_state_name(sa->state));
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)sa->spi_i);
	add_str(o, "spi_i", buf);
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)sa->spi_r);
	add_str(o, "spi_r", buf);
	add_str(o, "role", sa->initiator ? "initiator" : "responder");
	if (sa->chosen.n_encr)
		add_str(o, "algorithms", proposal_str(&one, PROPOSAL_IKE, buf, sizeof(buf)));
	json_object_object_add(o, "nat_t", json_object_new_boolean(sa->natt));
	add_str(o, "liveness", !sa->dpd_outstanding ? "ok" :
		sa->fast_probe ? "checking (fast)" : "checking");
	if (ev_is_active(&sa->ike_rekey_timer))
		json_object_object_add(o, "rekey_in", json_object_new_int64(
			(int64_t)ev_timer_remaining(sa->ike->loop,
						    (ev_timer *)&sa->ike_rekey_timer)));
	if (sa->state == IKE_SA_ESTABLISHED)
		json_object_object_add(o, "established_for",
				       json_object_new_int64((int64_t)(now - sa->established)));
	for (const struct child_sa *c = sa->children; c; c = c->next)
		json_object_array_add(children, child_status(c, now));
	json_object_object_add(o, "children", children);
	return o;
}

const char *ike_tunnel_status(struct ike *ike, const char *name, struct json_object *out)
{
	struct ike_tunnel *tun = tunnel_find(ike, name);
	struct json_object *sas = json_object_new_array();
	double now = ev_now(ike->loop);
	bool any = false;

	for (struct ike_sa *sa = ike->sas; tun && sa; sa = sa->next) {
		if (sa->tun != tun)
			continue;
		json_object_array_add(sas, sa_status(sa, now));
		any = true;
	}
	json_object_object_add(out, "ike_sas", sas);
	if (tun) {
		json_object_object_add(out, "rekeys", json_object_new_int64((int64_t)tun->child_rekeys));
		json_object_object_add(out, "ike_rekeys", json_object_new_int64((int64_t)tun->ike_rekeys));
		json_object_object_add(out, "dead_peers", json_object_new_int64((int64_t)tun->dead_peers));
		json_object_object_add(out, "cookies_sent",
				       json_object_new_int64((int64_t)tun->cookies_sent));
		json_object_object_add(out, "integrity_failures",
				       json_object_new_int64((int64_t)tun->bad_icv));
	}
	if (tun && tun->last_error[0])
		add_str(out, "last_error", tun->last_error);
	if (!tun)
		return "unknown";
	if (tun->up)
		return "up";
	return any ? "connecting" : "down";
}
