/*
 * Canonical form of a config snapshot: every key, defaults made explicit,
 * one spelling per value, PSKs as "<hidden>". Parsing this output gives
 * the same snapshot (tests check it), so it is also a config file.
 */
#include "conf/conf.h"

#include <arpa/inet.h>

static void print_prefixes(FILE *out, const char *key, const struct cgw_prefix *list,
			   size_t n, bool one_per_line)
{
	char buf[64];

	if (n == 0)
		return;
	if (one_per_line) {
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s = %s\n", key, conf_prefix_str(&list[i], buf, sizeof(buf)));
		return;
	}
	fprintf(out, "%s = ", key);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", conf_prefix_str(&list[i], buf, sizeof(buf)));
	fprintf(out, "\n");
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static const char *export_name(enum cgw_bgp_export e)
{
	switch (e) {
	case CGW_EXPORT_NONE:
		return "none";
	case CGW_EXPORT_LOCAL:
		return "local";
	case CGW_EXPORT_ALL:
		return "all";
	}
	return "?";
}

/* "connected, static, kernel" order; nothing printed for the empty set. */
static void print_redistribute(FILE *out, unsigned set)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ CGW_REDIST_CONNECTED, "connected" },
		{ CGW_REDIST_STATIC, "static" },
		{ CGW_REDIST_KERNEL, "kernel" },
	};
	const char *sep = "";

	if (!set)
		return;
	fprintf(out, "redistribute = ");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (set & names[i].bit) {
			fprintf(out, "%s%s", sep, names[i].name);
			sep = ", ";
		}
	}
	fprintf(out, "\n");
}

/*
 * The policy keys, each prefixed with pfx ("bgp-" in a tunnel). Prefix
 * lists go one per line: a long list must not exceed the line limit.
 */
static void print_policy(FILE *out, const char *pfx, const struct cgw_bgp_policy *pol)
{
	char key[32];

	fprintf(out, "%smax-prefix-in = %u\n", pfx, pol->max_prefix_in);
	fprintf(out, "%smax-prefix-out = %u\n", pfx, pol->max_prefix_out);
	if (pol->has_med)
		fprintf(out, "%smed = %u\n", pfx, pol->med);
	fprintf(out, "%sprepend = %u\n", pfx, pol->prepend);
	if (pol->has_local_pref)
		fprintf(out, "%slocal-pref = %u\n", pfx, pol->local_pref);
	fprintf(out, "%simport = %s\n", pfx, pol->import_none ? "none" : "all");
	snprintf(key, sizeof(key), "%simport-prefix", pfx);
	print_prefixes(out, key, pol->import_prefixes, pol->n_import_prefixes, true);
	fprintf(out, "%sexport = %s\n", pfx, export_name(pol->export));
	snprintf(key, sizeof(key), "%sexport-prefix", pfx);
	print_prefixes(out, key, pol->export_prefixes, pol->n_export_prefixes, true);
}

static void print_gateway(FILE *out, const struct cgw_conf *c)
{
	char buf[64];

	fprintf(out, "[gateway]\n");
	fprintf(out, "control-socket = %s\n", c->gateway.control_socket);
	if (c->gateway.local_address.family)
		fprintf(out, "local-address = %s\n",
			conf_addr_str(&c->gateway.local_address, buf, sizeof(buf)));
	if (c->gateway.local_id)
		fprintf(out, "local-id = %s\n", c->gateway.local_id);
}

static void print_bgp(FILE *out, const struct cgw_conf *c)
{
	char buf[64];

	if (!c->bgp.enabled)
		return;
	fprintf(out, "\n[bgp]\n");
	fprintf(out, "asn = %u\n", c->bgp.asn);
	fprintf(out, "router-id = %s\n", inet_ntop(AF_INET, &c->bgp.router_id, buf, sizeof(buf)));
	print_prefixes(out, "network", c->bgp.networks, c->bgp.n_networks, true);
	fprintf(out, "network-mode = %s\n",
		c->bgp.network_mode == CGW_NETWORK_ALWAYS ? "always" : "present");
	print_redistribute(out, c->bgp.redistribute);
	print_prefixes(out, "redistribute-prefix", c->bgp.redistribute_prefixes,
		       c->bgp.n_redistribute_prefixes, true);
	fprintf(out, "ecmp = %s\n", yes_no(c->bgp.ecmp));
	fprintf(out, "max-paths = %u\n", c->bgp.max_paths);
	fprintf(out, "always-compare-med = %s\n", yes_no(c->bgp.always_compare_med));
	fprintf(out, "table = %u\n", c->bgp.table);
	fprintf(out, "metric = %u\n", c->bgp.metric);
	fprintf(out, "graceful-restart = %s\n", yes_no(c->bgp.graceful_restart));
	fprintf(out, "restart-time = %us\n", c->bgp.restart_time);
	fprintf(out, "listen-port = %u\n", c->bgp.listen_port);
}

static void print_tunnel(FILE *out, const struct cgw_tunnel_conf *t)
{
	char buf[1024];

	fprintf(out, "\n[tunnel %s]\n", t->name);
	fprintf(out, "remote = %s\n", conf_addr_str(&t->remote, buf, sizeof(buf)));
	if (t->remote_id)
		fprintf(out, "remote-id = %s\n", t->remote_id);
	if (t->local_id)
		fprintf(out, "local-id = %s\n", t->local_id);
	if (t->psk_file)
		fprintf(out, "psk-file = %s\n", t->psk_file);
	else
		fprintf(out, "psk = <hidden>\n");
	fprintf(out, "inside = %s\n", conf_prefix_str(&t->inside, buf, sizeof(buf)));
	fprintf(out, "local-inside = %s\n", conf_addr_str(&t->local_inside, buf, sizeof(buf)));
	fprintf(out, "remote-inside = %s\n", conf_addr_str(&t->remote_inside, buf, sizeof(buf)));
	fprintf(out, "vti = %s\n", t->vti);
	fprintf(out, "mark = %u\n", t->mark);
	if (t->mtu)
		fprintf(out, "mtu = %u\n", t->mtu);
	else
		fprintf(out, "# mtu: from the negotiated algorithms (AWS's table)\n");
	fprintf(out, "ike = %s\n", proposal_str(&t->ike, PROPOSAL_IKE, buf, sizeof(buf)));
	fprintf(out, "esp = %s\n", proposal_str(&t->esp, PROPOSAL_ESP, buf, sizeof(buf)));
	fprintf(out, "ike-lifetime = %us\n", t->ike_lifetime);
	fprintf(out, "esp-lifetime = %us\n", t->esp_lifetime);
	fprintf(out, "rekey-margin = %us\n", t->rekey_margin);
	fprintf(out, "rekey-fuzz = %u\n", t->rekey_fuzz);
	fprintf(out, "replay-window = %u\n", t->replay_window);
	fprintf(out, "dpd-delay = %us\n", t->dpd_delay);
	fprintf(out, "dpd-timeout = %us\n", t->dpd_timeout);
	fprintf(out, "dpd-action = %s\n", conf_dpd_action_name(t->dpd_action));
	fprintf(out, "liveness-probe = %us\n", t->liveness_probe);
	fprintf(out, "startup = %s\n", conf_startup_name(t->startup));
	print_prefixes(out, "local-ts", t->local_ts, t->n_local_ts, false);
	print_prefixes(out, "remote-ts", t->remote_ts, t->n_remote_ts, false);
	if (t->bgp_peer_asn) {
		fprintf(out, "bgp-peer-asn = %u\n", t->bgp_peer_asn);
		fprintf(out, "bgp-hold-time = %us\n", t->bgp_hold_time);
		print_policy(out, "bgp-", &t->bgp);
	}
	print_prefixes(out, "route", t->routes, t->n_routes, true);
	if (t->n_routes)
		fprintf(out, "route-metric = %u\n", t->route_metric);
}

static void print_neighbor(FILE *out, const struct cgw_neighbor_conf *n)
{
	char buf[64];

	fprintf(out, "\n[neighbor %s]\n", n->name);
	fprintf(out, "address = %s\n", conf_addr_str(&n->address, buf, sizeof(buf)));
	fprintf(out, "remote-asn = %u\n", n->remote_asn);
	if (n->local_address.family)
		fprintf(out, "local-address = %s\n",
			conf_addr_str(&n->local_address, buf, sizeof(buf)));
	fprintf(out, "port = %u\n", n->port);
	fprintf(out, "hold-time = %us\n", n->hold_time);
	fprintf(out, "passive = %s\n", yes_no(n->passive));
	fprintf(out, "multihop = %u\n", n->multihop);
	print_policy(out, "", &n->policy);
}

void conf_print(FILE *out, const struct cgw_conf *c)
{
	print_gateway(out, c);
	print_bgp(out, c);
	for (size_t i = 0; i < c->n_tunnels; i++)
		print_tunnel(out, &c->tunnels[i]);
	for (size_t i = 0; i < c->n_neighbors; i++)
		print_neighbor(out, &c->neighbors[i]);
}
