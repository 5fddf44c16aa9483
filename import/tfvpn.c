/*
 * One aws_vpn_connection from Terraform state -> the model. Tunnels come
 * from the customer_gateway_configuration XML when present (the provider's
 * tunnelN_address/…_inside_address/…_preshared_key are derived from it
 * anyway), else from the tunnelN_* attributes. The tunnel options
 * (tunnelN_phase*, lifetimes, DPD, rekey, replay, startup action) are in
 * AWS's API order, which the provider does not reconcile with the XML
 * order: they are attached by inside CIDR, then PSK, then outside address.
 * Unset options read as 0, "" or null and mean "AWS default".
 */
#include "import/tfstate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

struct tf_opts {
	unsigned n;			/* 1 or 2 */
	const char *address, *inside_cidr, *psk;
	struct imp_aws_algs p1, p2;
	json_object *ike_versions;
	uint32_t p1_life, p2_life, margin, fuzz, replay, dpd_timeout;
	const char *dpd_action, *startup;
};

static const char *attr(char *buf, size_t len, unsigned n, const char *suffix)
{
	snprintf(buf, len, "tunnel%u_%s", n, suffix);
	return buf;
}

/* A set (JSON array) of strings or numbers; null or [] is "not set". */
static void read_set(json_object *a, const char *key, const char **strs,
		     unsigned *nums, size_t max, size_t *n)
{
	json_object *v, *e;

	*n = 0;
	if (!json_object_object_get_ex(a, key, &v) || !json_object_is_type(v, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(v) && *n < max; i++) {
		e = json_object_array_get_idx(v, i);
		if (strs && json_object_is_type(e, json_type_string))
			strs[(*n)++] = json_object_get_string(e);
		else if (nums && (json_object_is_type(e, json_type_int) ||
				  json_object_is_type(e, json_type_string)))
			nums[(*n)++] = (unsigned)strtoul(json_object_get_string(e), NULL, 10);
	}
}

static void read_num(const struct tf_ctx *t, const char *addr, json_object *a,
		     const char *key, uint32_t *out)
{
	*out = 0;
	if (tf_u32(a, key, out) < 0) {
		imp_warn(t->d, t->name, 0, "%s: %s is not a number: ignored", addr, key);
		*out = 0;
	}
}

static void read_opts(const struct tf_ctx *t, const char *addr, json_object *a,
		      unsigned n, struct tf_opts *o)
{
	char k[96];

	memset(o, 0, sizeof(*o));
	o->n = n;
	o->address = tf_str(a, attr(k, sizeof(k), n, "address"));
	o->inside_cidr = tf_str(a, attr(k, sizeof(k), n, "inside_cidr"));
	o->psk = tf_str(a, attr(k, sizeof(k), n, "preshared_key"));
	read_set(a, attr(k, sizeof(k), n, "phase1_encryption_algorithms"), o->p1.enc, NULL, 8, &o->p1.n_enc);
	read_set(a, attr(k, sizeof(k), n, "phase1_integrity_algorithms"), o->p1.integ, NULL, 8, &o->p1.n_integ);
	read_set(a, attr(k, sizeof(k), n, "phase1_dh_group_numbers"), NULL, o->p1.dh, 16, &o->p1.n_dh);
	read_set(a, attr(k, sizeof(k), n, "phase2_encryption_algorithms"), o->p2.enc, NULL, 8, &o->p2.n_enc);
	read_set(a, attr(k, sizeof(k), n, "phase2_integrity_algorithms"), o->p2.integ, NULL, 8, &o->p2.n_integ);
	read_set(a, attr(k, sizeof(k), n, "phase2_dh_group_numbers"), NULL, o->p2.dh, 16, &o->p2.n_dh);
	json_object_object_get_ex(a, attr(k, sizeof(k), n, "ike_versions"), &o->ike_versions);
	read_num(t, addr, a, attr(k, sizeof(k), n, "phase1_lifetime_seconds"), &o->p1_life);
	read_num(t, addr, a, attr(k, sizeof(k), n, "phase2_lifetime_seconds"), &o->p2_life);
	read_num(t, addr, a, attr(k, sizeof(k), n, "rekey_margin_time_seconds"), &o->margin);
	read_num(t, addr, a, attr(k, sizeof(k), n, "rekey_fuzz_percentage"), &o->fuzz);
	read_num(t, addr, a, attr(k, sizeof(k), n, "replay_window_size"), &o->replay);
	read_num(t, addr, a, attr(k, sizeof(k), n, "dpd_timeout_seconds"), &o->dpd_timeout);
	o->dpd_action = tf_str(a, attr(k, sizeof(k), n, "dpd_timeout_action"));
	o->startup = tf_str(a, attr(k, sizeof(k), n, "startup_action"));
}

/* ---- matching option sets to tunnels ---- */

static bool prefix_has(const char *cidr, const char *addr)
{
	char buf[IMP_ADDR_MAX], *slash;
	struct in_addr net, a;
	unsigned long len;
	uint32_t mask;

	snprintf(buf, sizeof(buf), "%s", cidr);
	if (!(slash = strchr(buf, '/')))
		return false;
	*slash = '\0';
	len = strtoul(slash + 1, NULL, 10);
	if (len > 32 || inet_pton(AF_INET, buf, &net) != 1 ||
	    inet_pton(AF_INET, addr, &a) != 1)
		return false;
	mask = len ? htonl(~0u << (32 - len)) : 0;
	return (net.s_addr & mask) == (a.s_addr & mask);
}

static int match_by(const struct imp_vpn *v, const struct tf_opts *o, char how)
{
	for (size_t i = 0; i < v->n_tunnels; i++) {
		const struct imp_tunnel *t = &v->t[i];
		if (how == 'c' && *o->inside_cidr && prefix_has(o->inside_cidr, t->remote_inside))
			return (int)i;
		if (how == 'k' && *o->psk && t->psk && strcmp(o->psk, t->psk) == 0)
			return (int)i;
		if (how == 'a' && *o->address && strcmp(o->address, t->remote) == 0)
			return (int)i;
	}
	return -1;
}

/* Which tunnel do the tunnelN_* options belong to? Warn on disagreement. */
static int match_tunnel(const struct tf_ctx *t, const char *addr,
			const struct imp_vpn *v, const struct tf_opts *o)
{
	int by_cidr = match_by(v, o, 'c'), by_psk = match_by(v, o, 'k');
	int by_addr = match_by(v, o, 'a');
	int m = by_cidr >= 0 ? by_cidr : by_psk >= 0 ? by_psk : by_addr;

	if (m < 0 && o->n <= v->n_tunnels)
		m = (int)o->n - 1;
	if (m >= 0 && by_addr >= 0 && by_addr != m)
		imp_warn(t->d, t->name, 0, "%s: tunnel%u_address (%s) and "
			 "tunnel%u_inside_cidr (%s) describe different tunnels (a known "
			 "AWS provider mix-up): the tunnel%u_* options go with the tunnel "
			 "inside %s, outside address %s", addr, o->n, o->address, o->n,
			 o->inside_cidr, o->n, v->t[m].inside, v->t[m].remote);
	return m;
}

/* ---- applying options ---- */

static void apply_proposals(const struct tf_ctx *t, const char *addr,
			    const struct tf_opts *o, struct imp_tunnel *tu)
{
	char err[256];

	if (o->p1.n_enc + o->p1.n_integ + o->p1.n_dh) {
		if (imp_aws_proposal(IMP_IKE, &o->p1, tu->o.ike, sizeof(tu->o.ike),
				     err, sizeof(err)) < 0) {
			imp_warn(t->d, t->name, 0, "%s: tunnel%u_phase1_*: %s: cgw's "
				 "default proposal kept", addr, o->n, err);
			tu->o.ike[0] = '\0';
		} else {
			snprintf(tu->o.ike_why, sizeof(tu->o.ike_why), "from "
				 "tunnel%u_phase1_* in Terraform state", o->n);
		}
	}
	if (o->p2.n_enc + o->p2.n_integ + o->p2.n_dh) {
		if (imp_aws_proposal(IMP_ESP, &o->p2, tu->o.esp, sizeof(tu->o.esp),
				     err, sizeof(err)) < 0) {
			imp_warn(t->d, t->name, 0, "%s: tunnel%u_phase2_*: %s: cgw's "
				 "default proposal kept", addr, o->n, err);
			tu->o.esp[0] = '\0';
		} else {
			snprintf(tu->o.esp_why, sizeof(tu->o.esp_why), "from "
				 "tunnel%u_phase2_* in Terraform state", o->n);
		}
	}
}

static int check_ike_versions(const struct tf_ctx *t, const char *addr,
			      const struct tf_opts *o)
{
	size_t n;

	if (!o->ike_versions || !json_object_is_type(o->ike_versions, json_type_array) ||
	    (n = json_object_array_length(o->ike_versions)) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(json_object_get_string(json_object_array_get_idx(
				o->ike_versions, i)), "ikev2") == 0)
			return 0;
	imp_error(t->d, t->name, 0, "%s: tunnel%u_ike_versions allows IKEv1 only; cgw "
		  "speaks IKEv2: add \"ikev2\" to tunnel%u_ike_versions and apply",
		  addr, o->n, o->n);
	return -EINVAL;
}

static void apply_timers(const struct tf_ctx *t, const char *addr,
			 const struct tf_opts *o, struct imp_tunnel *tu)
{
	uint32_t esp;

	/* Just below AWS's lifetimes (as cgw's defaults are), so cgw rekeys. */
	if (o->p1_life >= 900 && o->p1_life <= 28800)
		tu->o.ike_lifetime = o->p1_life - o->p1_life / 36;
	if (o->p2_life >= 900 && o->p2_life <= 3600)
		tu->o.esp_lifetime = o->p2_life - o->p2_life / 6;
	if (tu->o.ike_lifetime || tu->o.esp_lifetime)
		imp_note(&tu->notes, &tu->n_notes, "AWS's lifetimes: phase 1 %us, phase 2 "
			 "%us; cgw's are a little shorter so that cgw rekeys first",
			 o->p1_life ? o->p1_life : 28800, o->p2_life ? o->p2_life : 3600);
	esp = tu->o.esp_lifetime ? tu->o.esp_lifetime : 3000;
	if (tu->o.ike_lifetime && esp >= tu->o.ike_lifetime)	/* must be shorter */
		tu->o.esp_lifetime = esp = tu->o.ike_lifetime / 2;
	if (o->margin) {
		tu->o.rekey_margin = o->margin <= esp / 2 ? o->margin : esp / 2;
		if (o->margin > esp / 2)
			imp_warn(t->d, t->name, 0, "%s: tunnel%u_rekey_margin_time_seconds "
				 "%u is over half of cgw's esp-lifetime (%us): using %us",
				 addr, o->n, o->margin, esp, esp / 2);
	}
	if (o->fuzz && o->fuzz <= 100)
		tu->o.rekey_fuzz = (int)o->fuzz;
	if (o->replay && o->replay <= 4096)
		tu->o.replay_window = o->replay;
	if (o->dpd_timeout >= (tu->o.dpd_delay ? tu->o.dpd_delay : 10) &&
	    o->dpd_timeout <= 3600)
		tu->o.dpd_timeout = o->dpd_timeout;
	else if (o->dpd_timeout)
		imp_warn(t->d, t->name, 0, "%s: tunnel%u_dpd_timeout_seconds %u not used "
			 "(below the DPD interval, or over 3600s)", addr, o->n, o->dpd_timeout);
	if (*o->dpd_action)
		imp_note(&tu->notes, &tu->n_notes, "AWS's action on DPD timeout: %s "
			 "(cgw restarts the tunnel itself)", o->dpd_action);
	if (strcmp(o->startup, "start") == 0)
		imp_note(&tu->notes, &tu->n_notes, "AWS initiates too (startup action "
			 "start); cgw initiates as well");
}

/* Index of the tunnel the options went to, -1 for none, or -EINVAL. */
static int apply_opts(const struct tf_ctx *t, const char *addr, struct imp_vpn *v,
		      const struct tf_opts *o)
{
	int m = match_tunnel(t, addr, v, o);
	struct imp_tunnel *tu;

	if (m < 0)
		return -1;	/* no such tunnel: nothing to attach */
	tu = &v->t[m];
	if (check_ike_versions(t, addr, o) < 0)
		return -EINVAL;
	apply_proposals(t, addr, o, tu);
	apply_timers(t, addr, o, tu);
	if (*o->psk && match_by(v, o, 'k') < 0)
		imp_warn(t->d, t->name, 0, "%s: tunnel%u_preshared_key is none of the "
			 "XML's keys: the XML's keys are used", addr, o->n);
	return m;
}

/* ---- tunnels without XML ---- */

static int tunnel_from_attrs(const struct tf_ctx *t, const char *addr,
			     json_object *a, unsigned n, struct imp_vpn *v)
{
	char k[96], net[INET_ADDRSTRLEN];
	const char *out = tf_str(a, attr(k, sizeof(k), n, "address"));
	const char *cgw = tf_str(a, attr(k, sizeof(k), n, "cgw_inside_address"));
	const char *vgw = tf_str(a, attr(k, sizeof(k), n, "vgw_inside_address"));
	const char *psk = tf_str(a, attr(k, sizeof(k), n, "preshared_key"));
	struct imp_tunnel *tu;
	struct in_addr ia;
	uint32_t asn = 0;

	if (!*out || !*cgw || !*vgw || !*psk || inet_pton(AF_INET, cgw, &ia) != 1) {
		imp_error(t->d, t->name, 0, "%s: no customer_gateway_configuration and "
			  "tunnel%u_address/_cgw_inside_address/_vgw_inside_address/"
			  "_preshared_key incomplete: cannot build tunnel %u", addr, n, n);
		return -EINVAL;
	}
	if (!(tu = imp_vpn_add_tunnel(v)))
		return -ENOMEM;
	snprintf(tu->src, sizeof(tu->src), "%.120s %.120s", t->name, addr);
	snprintf(tu->remote, sizeof(tu->remote), "%s", out);
	snprintf(tu->local_inside, sizeof(tu->local_inside), "%s", cgw);
	snprintf(tu->remote_inside, sizeof(tu->remote_inside), "%s", vgw);
	ia.s_addr &= htonl(0xfffffffc);
	inet_ntop(AF_INET, &ia, net, sizeof(net));
	snprintf(tu->inside, sizeof(tu->inside), "%s/30", net);
	if (imp_set_secret(&tu->psk, psk, strlen(psk)) < 0)
		return -ENOMEM;
	if (tf_u32(a, attr(k, sizeof(k), n, "bgp_asn"), &asn) > 0)
		tu->peer_asn = asn;
	if (tf_u32(a, attr(k, sizeof(k), n, "bgp_holdtime"), &asn) > 0 && asn != 30) {
		tu->o.hold_time = asn;
		tu->o.hold_time_set = true;
	}
	return 0;
}

static int tunnels(const struct tf_ctx *t, const struct tf_inst *in, struct imp_vpn *v)
{
	const char *xml = tf_str(in->attrs, "customer_gateway_configuration");
	char name[512];

	if (*xml) {
		snprintf(name, sizeof(name), "%s[%s].customer_gateway_configuration",
			 t->name, in->address);
		return imp_awsxml_parse(name, xml, strlen(xml), v, t->d);
	}
	imp_warn(t->d, t->name, 0, "%s: no customer_gateway_configuration: tunnels "
		 "taken from the tunnelN_* attributes", in->address);
	for (unsigned n = 1; n <= 2; n++)
		if (tunnel_from_attrs(t, in->address, in->attrs, n, v) < 0)
			return -EINVAL;
	return 0;
}

/* ---- the customer gateway, peer ASN and routes ---- */

static void customer_gateway(const struct tf_ctx *t, const struct tf_inst *in,
			     struct imp_vpn *v)
{
	const struct tf_inst *cg = tf_find(t, "aws_customer_gateway", "id",
					   tf_str(in->attrs, "customer_gateway_id"));
	const char *ip;
	uint32_t asn = 0;

	if (!cg) {
		if (!v->local_asn && !v->static_routing)
			imp_warn(t->d, t->name, 0, "%s: its aws_customer_gateway is not in "
				 "this state and the XML has no customer ASN", in->address);
		return;
	}
	if (tf_u32(cg->attrs, "bgp_asn", &asn) <= 0)
		tf_u32(cg->attrs, "bgp_asn_extended", &asn);
	if (asn && v->local_asn && asn != v->local_asn)
		imp_warn(t->d, t->name, 0, "%s: bgp_asn %u differs from the XML's %u: "
			 "using %u", cg->address, asn, v->local_asn, asn);
	if (asn)
		v->local_asn = asn;
	ip = tf_str(cg->attrs, "ip_address");
	if (*ip && *v->local_ip && strcmp(ip, v->local_ip) != 0)
		imp_warn(t->d, t->name, 0, "%s: ip_address %s differs from the XML's %s: "
			 "using %s", cg->address, ip, v->local_ip, ip);
	if (*ip)
		snprintf(v->local_ip, sizeof(v->local_ip), "%s", ip);
	if (*tf_str(cg->attrs, "certificate_arn"))
		imp_warn(t->d, t->name, 0, "%s uses a certificate: cgw authenticates with "
			 "the tunnels' pre-shared keys only", cg->address);
}

static void peer_asn(const struct tf_ctx *t, const struct tf_inst *in, struct imp_vpn *v)
{
	const struct tf_inst *gw = tf_find(t, "aws_vpn_gateway", "id",
					   tf_str(in->attrs, "vpn_gateway_id"));
	uint32_t asn = 0;

	if (!gw)
		gw = tf_find(t, "aws_ec2_transit_gateway", "id",
			     tf_str(in->attrs, "transit_gateway_id"));
	if (v->static_routing || !gw || tf_u32(gw->attrs, "amazon_side_asn", &asn) <= 0)
		return;
	for (size_t i = 0; i < v->n_tunnels; i++) {
		if (!v->t[i].peer_asn)
			v->t[i].peer_asn = asn;
		else if (v->t[i].peer_asn != asn)
			imp_warn(t->d, t->name, 0, "%s: amazon_side_asn %u differs from "
				 "the tunnel's BGP ASN %u: using %u", gw->address, asn,
				 v->t[i].peer_asn, v->t[i].peer_asn);
	}
}

/* The AWS side's prefixes for a static VPN: the attached VPC's CIDR. */
static void remote_prefixes(const struct tf_ctx *t, const struct tf_inst *in,
			    struct imp_prefixes *out)
{
	const char *cidr = tf_str(in->attrs, "remote_ipv4_network_cidr");
	const char *vgw = tf_str(in->attrs, "vpn_gateway_id");
	const struct tf_inst *gw, *vpc = NULL;

	if (*cidr && strcmp(cidr, "0.0.0.0/0") != 0) {
		imp_prefixes_add(out, cidr);
		return;
	}
	gw = tf_find(t, "aws_vpn_gateway", "id", vgw);
	if (gw)
		vpc = tf_find(t, "aws_vpc", "id", tf_str(gw->attrs, "vpc_id"));
	gw = tf_find(t, "aws_vpn_gateway_attachment", "vpn_gateway_id", vgw);
	if (!vpc && gw)
		vpc = tf_find(t, "aws_vpc", "id", tf_str(gw->attrs, "vpc_id"));
	if (vpc && *tf_str(vpc->attrs, "cidr_block"))
		imp_prefixes_add(out, tf_str(vpc->attrs, "cidr_block"));
}

static void static_routes(const struct tf_ctx *t, const struct tf_inst *in,
			  struct imp_vpn *v)
{
	struct imp_prefixes remote = { .n = 0 };
	const char *id = tf_str(in->attrs, "id");
	json_object *routes, *r;

	if (json_object_object_get_ex(in->attrs, "routes", &routes) &&
	    json_object_is_type(routes, json_type_array))
		for (size_t i = 0; i < json_object_array_length(routes); i++) {
			r = json_object_array_get_idx(routes, i);
			if (*tf_str(r, "destination_cidr_block"))
				imp_prefixes_add(&v->onprem, tf_str(r, "destination_cidr_block"));
		}
	for (size_t i = 0; *id && i < t->n; i++)
		if (strcmp(t->v[i].type, "aws_vpn_connection_route") == 0 &&
		    strcmp(tf_str(t->v[i].attrs, "vpn_connection_id"), id) == 0 &&
		    *tf_str(t->v[i].attrs, "destination_cidr_block"))
			imp_prefixes_add(&v->onprem, tf_str(t->v[i].attrs,
							    "destination_cidr_block"));
	remote_prefixes(t, in, &remote);
	for (size_t i = 0; i < v->n_tunnels; i++)
		for (size_t j = 0; j < remote.n; j++)
			imp_prefixes_add(&v->t[i].routes, remote.v[j]);
	if (remote.n == 0)
		imp_warn(t->d, t->name, 0, "%s: static routing, and the AWS side's "
			 "prefixes (the VPC CIDR) are not in this state: add 'route = "
			 "CIDR' to each tunnel", in->address);
}

/* Put the tunnel the tunnel1_* options describe first: that is AWS's order. */
static void order_tunnels(struct imp_vpn *v, int first)
{
	struct imp_tunnel tmp;

	if (first == 1 && v->n_tunnels == 2) {
		tmp = v->t[0];
		v->t[0] = v->t[1];
		v->t[1] = tmp;
	}
}

static void vpn_meta(const struct tf_inst *in, struct imp_vpn *v)
{
	json_object *tags;

	snprintf(v->address, sizeof(v->address), "%s", in->address);
	if (*tf_str(in->attrs, "id"))
		snprintf(v->id, sizeof(v->id), "%s", tf_str(in->attrs, "id"));
	if (json_object_object_get_ex(in->attrs, "tags", &tags) && tags)
		snprintf(v->label, sizeof(v->label), "%s", tf_str(tags, "Name"));
}

static void selectors(const struct tf_inst *in, struct imp_vpn *v)
{
	const char *l = tf_str(in->attrs, "local_ipv4_network_cidr");
	const char *r = tf_str(in->attrs, "remote_ipv4_network_cidr");

	for (size_t i = 0; i < v->n_tunnels; i++) {
		if (*l && strcmp(l, "0.0.0.0/0") != 0)
			snprintf(v->t[i].local_ts, sizeof(v->t[i].local_ts), "%s", l);
		if (*r && strcmp(r, "0.0.0.0/0") != 0)
			snprintf(v->t[i].remote_ts, sizeof(v->t[i].remote_ts), "%s", r);
	}
}

/* A bool attribute; old states may hold "true" as a string. */
static bool tf_true(json_object *a, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(a, key, &v) || !v)
		return false;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), "true") == 0;
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int tf_vpn(const struct tf_ctx *t, const struct tf_inst *in, struct imp_vpn *v)
{
	struct tf_opts o[2];
	int first = -1, m;

	vpn_meta(in, v);
	if (strcmp(tf_str(in->attrs, "tunnel_inside_ip_version"), "ipv6") == 0) {
		imp_error(t->d, t->name, 0, "%s: tunnel_inside_ip_version is ipv6: cgw "
			  "supports IPv4 inside addresses only for now; not imported",
			  in->address);
		return -EINVAL;
	}
	if (*tf_str(in->attrs, "preshared_key_storage") &&
	    strcasecmp(tf_str(in->attrs, "preshared_key_storage"), "SecretsManager") == 0)
		imp_warn(t->d, t->name, 0, "%s: the pre-shared keys are stored in Secrets "
			 "Manager (%s)", in->address, tf_str(in->attrs, "preshared_key_arn"));
	if (tf_true(in->attrs, "static_routes_only"))
		v->static_routing = true;
	if (tunnels(t, in, v) < 0)
		return -EINVAL;
	if (v->static_routing)
		for (size_t i = 0; i < v->n_tunnels; i++)
			v->t[i].peer_asn = 0;
	for (unsigned n = 1; n <= 2; n++) {
		read_opts(t, in->address, in->attrs, n, &o[n - 1]);
		if ((m = apply_opts(t, in->address, v, &o[n - 1])) < -1)
			return -EINVAL;
		if (n == 1)
			first = m;
	}
	order_tunnels(v, first);
	customer_gateway(t, in, v);
	peer_asn(t, in, v);
	selectors(in, v);
	if (v->static_routing)
		static_routes(t, in, v);
	return 0;
}
