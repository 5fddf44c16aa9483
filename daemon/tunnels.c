/*
 * Tunnel wiring: VTI per tunnel (created at start or when added, removed
 * when the tunnel goes), the XFRM leftovers of a crashed instance flushed
 * before anything is installed, the IKE engine fed from the IKE sockets,
 * and "up"/"down" per tunnel for status and, later, BGP.
 */
#include "daemon/tunnels.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <json-c/json.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "conf/conf.h"
#include "daemon/ikesock.h"
#include "daemon/routes.h"
#include "ike/ike.h"
#include "vti/vti.h"
#include "xfrm/xfrm.h"

#define TUNNELS_MAX 64

struct tunnel_state {
	char name[CGW_NAME_MAX];
	bool in_use;
	bool up;
	char error[200];		/* why it cannot work (kernel, sockets) */
};

struct tunnels {
	struct ev_loop *loop;
	const struct cgw_conf *conf;
	struct xfrm *xfrm;
	struct vti *vti;
	struct ikesock *sock;
	struct routes *routes;
	struct ike *ike;
	char kernel_error[200];
	ev_io xfrm_events;
	struct tunnels_events events;
	struct tunnel_state st[TUNNELS_MAX];	/* index = reqid offset */
};

static struct tunnel_state *state_find(struct tunnels *t, const char *name)
{
	for (size_t i = 0; i < TUNNELS_MAX; i++)
		if (t->st[i].in_use && strcmp(t->st[i].name, name) == 0)
			return &t->st[i];
	return NULL;
}

/* Static routes follow the tunnel: in while up, out when down. */
static void static_routes(struct tunnels *t, const char *name, bool up)
{
	const struct cgw_tunnel_conf *tc = conf_tunnel_find(t->conf, name);

	for (size_t i = 0; tc && t->routes && i < tc->n_routes; i++) {
		if (up)
			routes_add(t->routes, &tc->routes[i], tc->vti, tc->route_metric);
		else
			routes_del(t->routes, &tc->routes[i], tc->vti, tc->route_metric);
	}
}

static void on_tunnel_up(void *arg, const char *name)
{
	struct tunnels *t = arg;
	struct tunnel_state *s = state_find(t, name);
	const struct cgw_tunnel_conf *tc = conf_tunnel_find(t->conf, name);

	if (s)
		s->up = true;
	log_notice("%s: tunnel up", name);
	static_routes(t, name, true);
	if (t->events.up && tc)
		t->events.up(t->events.arg, name, if_nametoindex(tc->vti));
}

static void on_tunnel_down(void *arg, const char *name, const char *why)
{
	struct tunnels *t = arg;
	struct tunnel_state *s = state_find(t, name);

	if (s)
		s->up = false;
	log_notice("%s: tunnel down: %s", name, why);
	/* BGP first: its routes via the tunnel go at once */
	if (t->events.down)
		t->events.down(t->events.arg, name, why);
	static_routes(t, name, false);
}

static int on_send(void *arg, const struct ike_path *path, bool natt,
		   const uint8_t *buf, size_t len)
{
	struct tunnels *t = arg;

	return t->sock ? ikesock_send(t->sock, path, natt, buf, len) : -ENOTCONN;
}

static int on_send_keepalive(void *arg, const struct ike_path *path)
{
	struct tunnels *t = arg;

	return t->sock ? ikesock_send_keepalive(t->sock, path) : -ENOTCONN;
}

static void on_rx(void *arg, const struct ike_path *path, bool natt,
		  const uint8_t *buf, size_t len)
{
	struct tunnels *t = arg;

	ike_input(t->ike, path, natt, buf, len);
}

/* MTU from AWS's per-algorithm table when not configured. */
static unsigned default_mtu(const struct cgw_tunnel_conf *tc)
{
	unsigned mtu = 1446;

	for (size_t i = 0; i < tc->esp.n; i++) {
		const struct cgw_proposal *p = &tc->esp.p[i];
		if (proposal_is_aead(p))
			continue;
		for (size_t j = 0; j < p->n_integ; j++) {
			unsigned m = p->integ[j].id >= IKE_INTEG_HMAC_SHA2_384_192 ? 1422 : 1438;
			if (m < mtu)
				mtu = m;
		}
	}
	return mtu;
}

static int vti_setup(struct tunnels *t, const struct cgw_tunnel_conf *tc, char *err,
		     size_t errlen)
{
	struct vti_params p = { .mark = tc->mark };
	struct cgw_prefix addr = { .addr = tc->local_inside, .len = tc->inside.len };
	int r;

	snprintf(p.name, sizeof(p.name), "%s", tc->vti);
	p.remote = tc->remote;
	p.local = t->conf->gateway.local_address;
	r = vti_create(t->vti, &p);
	if (r == 0)
		r = vti_addr_add(t->vti, tc->vti, &addr);
	if (r == 0)
		r = vti_set_mtu(t->vti, tc->vti, tc->mtu ? tc->mtu : default_mtu(tc));
	if (r == 0)
		r = vti_set_up(t->vti, tc->vti, true);
	if (r < 0) {
		snprintf(err, errlen, "VTI %s: %s", tc->vti, strerror(-r));
		if (r == -EOPNOTSUPP || r == -ENOENT || r == -EAFNOSUPPORT)
			snprintf(err, errlen, "VTI %s: kernel lacks ip_vti: modprobe ip_vti",
				 tc->vti);
		return r;
	}
	vti_check_sysctls(t->vti, tc->vti);
	return 0;
}

static int slot_alloc(struct tunnels *t, const char *name)
{
	for (int i = 0; i < TUNNELS_MAX; i++) {
		if (!t->st[i].in_use) {
			memset(&t->st[i], 0, sizeof(t->st[i]));
			t->st[i].in_use = true;
			snprintf(t->st[i].name, sizeof(t->st[i].name), "%s", name);
			return i;
		}
	}
	return -ENOSPC;
}

static void tunnel_add(struct tunnels *t, const struct cgw_tunnel_conf *tc)
{
	int i = slot_alloc(t, tc->name);

	if (i < 0)
		return;
	if (t->kernel_error[0]) {
		snprintf(t->st[i].error, sizeof(t->st[i].error), "%s", t->kernel_error);
		return;
	}
	if (vti_setup(t, tc, t->st[i].error, sizeof(t->st[i].error)) < 0) {
		log_warnx("%s: %s: the tunnel stays down", tc->name, t->st[i].error);
		return;
	}
	if (ike_tunnel_add(t->ike, tc, &t->conf->gateway, (unsigned)i) < 0)
		snprintf(t->st[i].error, sizeof(t->st[i].error), "out of memory");
}

static void tunnel_remove(struct tunnels *t, const struct cgw_tunnel_conf *tc)
{
	struct tunnel_state *s = state_find(t, tc->name);

	if (t->ike)
		ike_tunnel_remove(t->ike, tc->name);
	if (t->vti && (!s || !s->error[0]))
		vti_delete(t->vti, tc->vti);
	if (s)
		s->in_use = false;
}

/* Kernel interfaces and sockets; a failure leaves a reason for status. */
static void open_kernel(struct tunnels *t)
{
	const struct cgw_gateway_conf *g = &t->conf->gateway;
	struct in_addr any = { INADDR_ANY };
	int r;

	r = xfrm_open(&t->xfrm);
	if (r == 0)
		r = vti_open(&t->vti);
	if (r == 0)
		r = routes_open(&t->routes);
	if (r < 0) {
		snprintf(t->kernel_error, sizeof(t->kernel_error),
			 "no access to the kernel's IPsec (%s): run cgwd as root "
			 "(CAP_NET_ADMIN)", strerror(-r));
		log_warnx("%s: every tunnel stays down", t->kernel_error);
		return;
	}
	r = ikesock_open(&t->sock, t->loop, g->local_address.family ? g->local_address.v4 : any,
			 on_rx, t);
	if (r < 0) {
		snprintf(t->kernel_error, sizeof(t->kernel_error),
			 "cannot bind UDP 500/4500 (%s): another IKE daemon running?",
			 strerror(-r));
		log_warnx("%s: every tunnel stays down", t->kernel_error);
	}
}

static void on_xfrm_event(const struct xfrm_event *ev, void *arg)
{
	struct tunnels *t = arg;
	char dst[64];

	log_debug(LOGC_XFRM, "kernel: %s for SA %08x to %s (reqid %#x)",
		  xfrm_event_name(ev->type), ev->id.spi,
		  conf_addr_str(&ev->id.dst, dst, sizeof(dst)), ev->reqid);
	if (t->ike && (ev->type == XFRM_EVENT_EXPIRE_SOFT || ev->type == XFRM_EVENT_EXPIRE_HARD))
		ike_sa_expired(t->ike, ev->id.spi, ev->type == XFRM_EVENT_EXPIRE_HARD);
	if (t->ike && ev->type == XFRM_EVENT_ACQUIRE)
		ike_acquire(t->ike, ev->reqid);
}

static void on_xfrm_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tunnels *t = w->data;

	xfrm_events_read(t->xfrm, on_xfrm_event, t);
}

static void watch_xfrm_events(struct tunnels *t)
{
	int fd = xfrm_events_fd(t->xfrm);

	if (fd < 0)
		return;
	ev_io_init(&t->xfrm_events, on_xfrm_readable, fd, EV_READ);
	t->xfrm_events.data = t;
	ev_io_start(t->loop, &t->xfrm_events);
}

/* Leftovers of a previous instance (kill -9): ours are recognisable. */
static void flush_leftovers(struct tunnels *t)
{
	const char *names[TUNNELS_MAX];
	size_t n = 0;
	int r;

	r = xfrm_flush_owned(t->xfrm);
	if (r > 0)
		log_notice("removed %d XFRM states/policies left by a previous instance", r);
	for (size_t i = 0; i < t->conf->n_tunnels && n < TUNNELS_MAX; i++)
		names[n++] = t->conf->tunnels[i].vti;
	r = vti_flush_owned(t->vti, names, n);
	if (r > 0)
		log_notice("removed %d VTI(s) left by a previous instance", r);
}

int tunnels_start(struct tunnels **out, struct ev_loop *loop, const struct cgw_conf *conf,
		  const struct tunnels_events *ev)
{
	struct tunnels *t = calloc(1, sizeof(*t));
	static const struct ike_ops ops = {
		.send = on_send, .send_keepalive = on_send_keepalive,
		.tunnel_up = on_tunnel_up, .tunnel_down = on_tunnel_down,
	};

	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->conf = conf;
	if (ev)
		t->events = *ev;
	open_kernel(t);
	if (!t->kernel_error[0]) {
		flush_leftovers(t);
		watch_xfrm_events(t);
		if (ike_new(&t->ike, loop, t->xfrm, &ops, t) < 0) {
			free(t);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < conf->n_tunnels; i++)
		tunnel_add(t, &conf->tunnels[i]);
	*out = t;
	return 0;
}

void tunnels_apply(struct tunnels *t, const struct cgw_conf *old, const struct cgw_conf *new)
{
	for (size_t i = 0; i < old->n_tunnels; i++) {
		const struct cgw_tunnel_conf *o = &old->tunnels[i];
		const struct cgw_tunnel_conf *n = conf_tunnel_find(new, o->name);
		if (!n || !conf_tunnel_equal(o, n))
			tunnel_remove(t, o);
	}
	t->conf = new;
	for (size_t i = 0; i < new->n_tunnels; i++) {
		const struct cgw_tunnel_conf *n = &new->tunnels[i];
		const struct cgw_tunnel_conf *o = conf_tunnel_find(old, n->name);
		if (o && conf_tunnel_equal(o, n)) {
			if (t->ike)
				ike_tunnel_update(t->ike, n, &new->gateway);
		} else {
			tunnel_add(t, n);
		}
	}
}

static void add_counters(struct tunnels *t, const struct cgw_tunnel_conf *tc,
			 struct json_object *o)
{
	struct vti_counters c;

	if (!t->vti || vti_get_counters(t->vti, tc->vti, &c) < 0)
		return;
	json_object_object_add(o, "bytes_in", json_object_new_int64((int64_t)c.rx_bytes));
	json_object_object_add(o, "packets_in", json_object_new_int64((int64_t)c.rx_packets));
	json_object_object_add(o, "bytes_out", json_object_new_int64((int64_t)c.tx_bytes));
	json_object_object_add(o, "packets_out", json_object_new_int64((int64_t)c.tx_packets));
}

void tunnels_status(struct tunnels *t, const struct cgw_tunnel_conf *tc,
		    struct json_object *o)
{
	struct tunnel_state *s = state_find(t, tc->name);
	const char *state = "down";

	if (s && s->error[0]) {
		json_object_object_add(o, "reason", json_object_new_string(s->error));
	} else if (t->ike) {
		state = ike_tunnel_status(t->ike, tc->name, o);
		json_object *le;
		if (strcmp(state, "up") != 0 && json_object_object_get_ex(o, "last_error", &le))
			json_object_object_add(o, "reason", json_object_get(le));
		add_counters(t, tc, o);
	}
	json_object_object_add(o, "state", json_object_new_string(state));
}

int tunnels_control(struct tunnels *t, const char *action, const char *name,
		    const char *sa, char *err, size_t errlen)
{
	int r;

	if (!conf_tunnel_find(t->conf, name)) {
		snprintf(err, errlen, "no tunnel named '%s'", name);
		return -ENOENT;
	}
	if (!t->ike) {
		snprintf(err, errlen, "%s", t->kernel_error);
		return -ENODEV;
	}
	if (strcmp(action, "up") == 0)
		r = ike_tunnel_up(t->ike, name);
	else if (strcmp(action, "down") == 0)
		r = ike_tunnel_down(t->ike, name);
	else if (strcmp(action, "rekey") == 0)
		r = ike_tunnel_rekey(t->ike, name, strcmp(sa, "ike") == 0);
	else
		r = -EINVAL;
	if (r == -EINVAL && strcmp(action, "rekey") == 0)
		snprintf(err, errlen, "%s: no established CHILD SA to rekey", name);
	else if (r == -EBUSY)
		snprintf(err, errlen, "%s: an exchange is in flight: try again", name);
	else if (r == -ENOTSUP)
		snprintf(err, errlen, "%s: IKE SA rekeying is not supported yet", name);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
	return r;
}

unsigned tunnels_up_count(const struct tunnels *t)
{
	unsigned n = 0;

	for (size_t i = 0; i < TUNNELS_MAX; i++)
		n += t->st[i].in_use && t->st[i].up;
	return n;
}

void tunnels_stop(struct tunnels *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->conf->n_tunnels; i++)
		tunnel_remove(t, &t->conf->tunnels[i]);
	ike_free(t->ike);
	ev_io_stop(t->loop, &t->xfrm_events);
	if (t->xfrm)
		xfrm_flush_owned(t->xfrm);	/* the tunnels' policies */
	ikesock_close(t->sock);
	routes_close(t->routes);
	vti_close(t->vti);
	xfrm_close(t->xfrm);
	free(t);
}
