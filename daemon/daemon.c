/*
 * Daemon wiring: signals, reload (parse, keep the old snapshot on errors,
 * apply the difference per tunnel), systemd notifications, and the
 * control-socket commands (status, reload).
 */
#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bgp/speaker.h"
#include "common/log.h"
#include "conf/conf.h"
#include "config.h"
#include "daemon/ctl.h"
#include "daemon/notify.h"
#include "daemon/privdrop.h"
#include "daemon/tunnels.h"

struct daemon {
	struct ev_loop *loop;
	struct cgw_conf *conf;
	char *conf_path;
	struct ctl_server *ctl;
	struct tunnels *tunnels;	/* IKE, VTIs, kernel SAs */
	struct bgp_speaker *bgp;	/* NULL without a [bgp] section */
	ev_signal sigterm, sigint, sighup;
	ev_tstamp started;
	unsigned reloads;
};

static void notify_status(struct daemon *d)
{
	if (d->bgp)
		notify_sendf("STATUS=%zu tunnels configured, %u up; %u BGP sessions established",
			     d->conf->n_tunnels, tunnels_up_count(d->tunnels),
			     bgp_speaker_established(d->bgp));
	else
		notify_sendf("STATUS=%zu tunnels configured, %u up", d->conf->n_tunnels,
			     tunnels_up_count(d->tunnels));
}

/* ---- tunnels -> BGP ---- */

static void on_tunnel_up(void *arg, const char *tunnel, unsigned ifindex)
{
	struct daemon *d = arg;

	bgp_speaker_tunnel_up(d->bgp, tunnel, ifindex);
	notify_status(d);
}

static void on_tunnel_down(void *arg, const char *tunnel, const char *why)
{
	struct daemon *d = arg;

	bgp_speaker_tunnel_down(d->bgp, tunnel, why);
	notify_status(d);
}

/* ---- status ---- */

static void json_add_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static struct json_object *status_tunnel(struct daemon *d,
					 const struct cgw_tunnel_conf *tc)
{
	struct json_object *o = json_object_new_object();
	char buf[64];

	json_add_str(o, "name", tc->name);
	json_add_str(o, "remote", conf_addr_str(&tc->remote, buf, sizeof(buf)));
	json_add_str(o, "vti", tc->vti);
	json_object_object_add(o, "mark", json_object_new_int64(tc->mark));
	json_add_str(o, "inside", conf_prefix_str(&tc->inside, buf, sizeof(buf)));
	json_add_str(o, "local_inside", conf_addr_str(&tc->local_inside, buf, sizeof(buf)));
	json_add_str(o, "remote_inside", conf_addr_str(&tc->remote_inside, buf, sizeof(buf)));
	json_add_str(o, "startup", conf_startup_name(tc->startup));
	tunnels_status(d->tunnels, tc, o);
	return o;
}

static struct json_object *status_build(struct daemon *d)
{
	const struct cgw_conf *c = d->conf;
	struct json_object *o = json_object_new_object();
	struct json_object *tunnels = json_object_new_array();
	struct json_object *neighbors = json_object_new_array();
	char buf[64];

	json_add_str(o, "version", CGW_VERSION);
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_add_str(o, "config", d->conf_path);
	json_object_object_add(o, "uptime",
			       json_object_new_int64((int64_t)(ev_now(d->loop) - d->started)));
	json_object_object_add(o, "reloads", json_object_new_int64(d->reloads));
	if (c->gateway.local_address.family)
		json_add_str(o, "local_address",
			     conf_addr_str(&c->gateway.local_address, buf, sizeof(buf)));
	if (c->gateway.local_id)
		json_add_str(o, "local_id", c->gateway.local_id);
	if (c->bgp.enabled) {
		json_object_object_add(o, "asn", json_object_new_int64(c->bgp.asn));
		json_add_str(o, "router_id", inet_ntop(AF_INET, &c->bgp.router_id, buf,
						       sizeof(buf)));
	}
	for (size_t i = 0; i < c->n_tunnels; i++)
		json_object_array_add(tunnels, status_tunnel(d, &c->tunnels[i]));
	bgp_speaker_status(d->bgp, neighbors);
	json_object_object_add(o, "tunnels", tunnels);
	json_object_object_add(o, "neighbors", neighbors);
	return o;
}

/* ---- reload ---- */

static struct json_object *names_array(void)
{
	return json_object_new_array();
}

/* Compare old and new snapshots tunnel by tunnel; fill result lists. */
static void reload_diff(const struct cgw_conf *old, const struct cgw_conf *new,
			struct json_object *res)
{
	struct json_object *added = names_array(), *removed = names_array();
	struct json_object *changed = names_array(), *unchanged = names_array();

	for (size_t i = 0; i < new->n_tunnels; i++) {
		const struct cgw_tunnel_conf *n = &new->tunnels[i];
		const struct cgw_tunnel_conf *o = conf_tunnel_find(old, n->name);
		struct json_object *list = !o ? added :
			conf_tunnel_equal(o, n) ? unchanged : changed;

		json_object_array_add(list, json_object_new_string(n->name));
		log_info("reload: tunnel %s %s", n->name, !o ? "added" :
			 list == unchanged ? "unchanged" : "changed");
	}
	for (size_t i = 0; i < old->n_tunnels; i++) {
		if (conf_tunnel_find(new, old->tunnels[i].name))
			continue;
		json_object_array_add(removed, json_object_new_string(old->tunnels[i].name));
		log_info("reload: tunnel %s removed", old->tunnels[i].name);
	}
	json_object_object_add(res, "added", added);
	json_object_object_add(res, "removed", removed);
	json_object_object_add(res, "changed", changed);
	json_object_object_add(res, "unchanged", unchanged);
}

/*
 * Parse the file again. With errors: log them, keep the old snapshot,
 * return -EINVAL with the lines in *errors. Otherwise swap and return 0.
 */
static int daemon_reload(struct daemon *d, struct json_object **result)
{
	struct conf_diag diag = { 0 };
	struct cgw_conf *new;
	struct json_object *res = json_object_new_object();
	struct json_object *lines = json_object_new_array();
	int r = 0;

	notify_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
		     (unsigned long long)(ev_time() * 1e6));
	log_info("reloading %s", d->conf_path);
	new = conf_load(d->conf_path, CONF_CHECK_PERMS, &diag);
	for (size_t i = 0; i < diag.n_lines; i++) {
		log_warnx("%s", diag.lines[i]);
		json_object_array_add(lines, json_object_new_string(diag.lines[i]));
	}
	json_object_object_add(res, "errors", lines);
	if (!new) {
		log_warnx("reload: %zu error(s) in %s: keeping the running config",
			  diag.n_errors, d->conf_path);
		json_add_str(res, "message", "config has errors: the running config is kept");
		r = -EINVAL;
		goto out;
	}
	if (strcmp(new->gateway.control_socket, d->conf->gateway.control_socket) != 0)
		log_warnx("reload: control-socket changed to %s: takes effect on restart",
			  new->gateway.control_socket);
	reload_diff(d->conf, new, res);
	tunnels_apply(d->tunnels, d->conf, new);
	if (d->bgp && !new->bgp.enabled) {
		log_info("reload: [bgp] removed: BGP stopped");
		bgp_speaker_free(d->bgp);
		d->bgp = NULL;
	} else if (d->bgp) {
		bgp_speaker_apply(d->bgp, d->conf, new);
	} else if (new->bgp.enabled && bgp_speaker_new(&d->bgp, d->loop, new, NULL) < 0) {
		log_warnx("reload: cannot start BGP: out of memory");
	}
	conf_free(d->conf);
	d->conf = new;
	d->reloads++;
	json_add_str(res, "message", "config reloaded");
out:
	conf_diag_free(&diag);
	notify_send("READY=1");
	notify_status(d);
	*result = res;
	return r;
}

/* ---- control commands ---- */

static const char *arg_str(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* {"action": "up"|"down"|"rekey", "name": TUNNEL, "sa": "child"|"ike"} */
static int ctl_tunnel(struct daemon *d, struct json_object *args,
		      struct json_object **result, char *err, size_t errlen)
{
	const char *action = arg_str(args, "action"), *name = arg_str(args, "name");
	const char *sa = arg_str(args, "sa");
	char msg[128];
	int r;

	if (!action || !name) {
		snprintf(err, errlen, "tunnel: needs action and name");
		return -EINVAL;
	}
	r = tunnels_control(d->tunnels, action, name, sa ? sa : "child", err, errlen);
	if (r < 0)
		return r;
	log_info("%s: tunnel %s by the operator", name, action);
	snprintf(msg, sizeof(msg), "%s: %s", name, strcmp(action, "rekey") == 0 ?
		 "rekeying" : strcmp(action, "up") == 0 ? "initiating" : "down");
	*result = json_object_new_object();
	json_add_str(*result, "message", msg);
	return 0;
}

/* {"action": "reset"|"refresh", "name": NEIGHBOR} */
static int ctl_bgp(struct daemon *d, struct json_object *args,
		   struct json_object **result, char *err, size_t errlen)
{
	const char *action = arg_str(args, "action"), *name = arg_str(args, "name");
	char msg[128];
	int r;

	if (!action || !name) {
		snprintf(err, errlen, "bgp: needs action and name");
		return -EINVAL;
	}
	if (!d->bgp) {
		snprintf(err, errlen, "BGP is not configured (no [bgp] section)");
		return -ENOENT;
	}
	r = bgp_speaker_control(d->bgp, action, name, err, errlen);
	if (r < 0)
		return r;
	log_info("%s: BGP %s by the operator", name, action);
	snprintf(msg, sizeof(msg), "%s: %s", name,
		 strcmp(action, "reset") == 0 ? "session reset" : "route refresh requested");
	*result = json_object_new_object();
	json_add_str(*result, "message", msg);
	return 0;
}

static int ctl_handle(void *arg, const char *command, struct json_object *args,
		      struct json_object **result, char *err, size_t errlen)
{
	struct daemon *d = arg;

	if (strcmp(command, "status") == 0) {
		*result = status_build(d);
		return 0;
	}
	if (strcmp(command, "reload") == 0) {
		int r = daemon_reload(d, result);
		if (r < 0)
			snprintf(err, errlen, "config has errors: the running config is kept");
		return r;
	}
	if (strcmp(command, "tunnel") == 0)
		return ctl_tunnel(d, args, result, err, errlen);
	if (strcmp(command, "bgp-routes") == 0) {
		*result = bgp_speaker_routes(d->bgp);
		return 0;
	}
	if (strcmp(command, "bgp") == 0)
		return ctl_bgp(d, args, result, err, errlen);
	snprintf(err, errlen, "unknown command '%s'", command);
	return -EOPNOTSUPP;
}

/* ---- signals ---- */

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("%s: shutting down", strsignal(w->signum));
	notify_send("STOPPING=1");
	ev_break(loop, EVBREAK_ALL);
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct json_object *res = NULL;

	daemon_reload(d, &res);
	json_object_put(res);
}

int daemon_start(struct daemon **out, struct cgw_conf *conf, const char *conf_path)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	d->conf = conf;
	d->conf_path = strdup(conf_path);
	if (!d->loop || !d->conf_path) {
		r = -ENOMEM;
		goto fail;
	}
	d->started = ev_now(d->loop);
	ev_signal_init(&d->sigterm, on_stop_signal, SIGTERM);
	ev_signal_init(&d->sigint, on_stop_signal, SIGINT);
	ev_signal_init(&d->sighup, on_sighup, SIGHUP);
	d->sighup.data = d;
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
	r = ctl_server_open(&d->ctl, d->loop, conf->gateway.control_socket, ctl_handle, d);
	if (r < 0) {
		errno = -r;
		log_warn("control socket %s", conf->gateway.control_socket);
		goto fail;
	}
	if (conf->bgp.enabled) {
		/* before the tunnels: their first "up" starts a session */
		r = bgp_speaker_new(&d->bgp, d->loop, conf, NULL);
		if (r < 0)
			goto fail;
	}
	{
		struct tunnels_events ev = { .up = on_tunnel_up, .down = on_tunnel_down, .arg = d };

		r = tunnels_start(&d->tunnels, d->loop, conf, &ev);
	}
	if (r < 0)
		goto fail;
	/* Sockets bound, kernel handles open: keep only NET_ADMIN/NET_BIND_SERVICE. */
	r = privdrop_keep_net_admin();
	if (r < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	d->conf = NULL;		/* still the caller's */
	daemon_stop(d);
	return r;
}

int daemon_run(struct daemon *d)
{
	log_info("cgwd %s running: %zu tunnel(s), control socket %s", CGW_VERSION,
		 d->conf->n_tunnels, d->conf->gateway.control_socket);
	notify_send("READY=1");
	notify_status(d);
	ev_run(d->loop, 0);
	return 0;
}

void daemon_stop(struct daemon *d)
{
	if (!d)
		return;
	/* BGP first: its Cease still goes through the tunnels */
	bgp_speaker_free(d->bgp);
	d->bgp = NULL;
	tunnels_stop(d->tunnels);
	ctl_server_close(d->ctl);
	if (d->loop) {
		ev_signal_stop(d->loop, &d->sigterm);
		ev_signal_stop(d->loop, &d->sigint);
		ev_signal_stop(d->loop, &d->sighup);
	}
	conf_free(d->conf);
	free(d->conf_path);
	free(d);
}
