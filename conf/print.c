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
	}
	print_prefixes(out, "route", t->routes, t->n_routes, true);
	if (t->n_routes)
		fprintf(out, "route-metric = %u\n", t->route_metric);
}

void conf_print(FILE *out, const struct cgw_conf *c)
{
	print_gateway(out, c);
	print_bgp(out, c);
	for (size_t i = 0; i < c->n_tunnels; i++)
		print_tunnel(out, &c->tunnels[i]);
}
