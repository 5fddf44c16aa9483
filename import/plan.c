/*
 * Between reading and writing: tunnel names (aws-1/aws-2, or
 * <vpn-id>-1/-2 when several connections are imported, or the Libreswan
 * conn name), VTI names (vti1, vti2, ...) and marks (100, 200, ...) unless
 * the source had them, the [gateway] address and identity, and the [bgp]
 * AS. Also what cgw cannot express, reported here once.
 */
#include "import/import.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* cgw.conf tunnel names: 1-31 of A-Z a-z 0-9 . _ - */
static void sanitize(char *name)
{
	size_t n = 0;

	for (char *p = name; *p && n < IMP_NAME_MAX - 4; p++)
		name[n++] = name_char_ok(*p) ? *p : '-';
	name[n] = '\0';
	if (n == 0)
		snprintf(name, IMP_NAME_MAX, "tunnel");
}

static bool name_used(const struct imp_conf *c, const struct imp_tunnel *self,
		      const char *name, int what)
{
	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++) {
			const struct imp_tunnel *t = &c->vpns[i].t[j];
			const char *s = what == 0 ? t->name : t->vti;
			if (t != self && strcmp(s, name) == 0)
				return true;
		}
	return false;
}

/* A PSK must survive a psk-file as cgw reads it (trailing blanks cut). */
static int check_psk(const struct imp_tunnel *t, struct imp_diag *d)
{
	size_t n = t->psk ? strlen(t->psk) : 0;

	if (n == 0 || n > 1024) {
		imp_error(d, t->src, 0, "tunnel %s: %s", t->name, n ? "PSK longer than "
			  "1024 bytes" : "no PSK");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t->psk[i] < 0x20 || t->psk[i] == 0x7f ||
		    (i == n - 1 && t->psk[i] == ' ')) {
			imp_error(d, t->src, 0, "tunnel %s: the PSK has a control character "
				  "or ends in a blank: a psk-file cannot hold it", t->name);
			return -EINVAL;
		}
	return 0;
}

/* ---- values from the sources, checked before they reach cgw.conf ---- */

static bool is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}


static bool ipv4_prefix(const char *s, bool network)
{
	char buf[IMP_ADDR_MAX], *slash, *end;
	struct in_addr a;
	unsigned long len;

	snprintf(buf, sizeof(buf), "%s", s);
	if (!(slash = strchr(buf, '/')))
		return false;
	*slash = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end || len > 32 ||
	    inet_pton(AF_INET, buf, &a) != 1)
		return false;
	return !network || (ntohl(a.s_addr) & ~(uint32_t)(0xffffffffull << (32 - len))) == 0;
}

static bool prefix_list(const char *s)
{
	char buf[256], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = strtok_r(buf, ", ", &save); p; p = strtok_r(NULL, ", ", &save), n++)
		if (!ipv4_prefix(p, true))
			return false;
	return n > 0;
}

/* An identity cgw.conf can carry on one line: printable, no comment marks. */
static bool token_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("#;[]=\"'", *s))
			return false;
	return true;
}

/* Host number (1 or 2) of addr in the /30 inside, or 0 when it is not one. */
static unsigned host_of(const char *inside, const char *addr)
{
	char buf[IMP_ADDR_MAX], *slash;
	struct in_addr net, a;
	uint32_t k;

	snprintf(buf, sizeof(buf), "%s", inside);
	if ((slash = strchr(buf, '/')))
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &net) != 1 || inet_pton(AF_INET, addr, &a) != 1)
		return 0;
	k = ntohl(a.s_addr) - ntohl(net.s_addr);
	return k == 1 || k == 2 ? k : 0;
}

static int bad_value(struct imp_diag *d, const struct imp_tunnel *t, const char *key,
		     const char *v, const char *want)
{
	imp_error(d, t->src, 0, "tunnel %s: %s '%s' is not %s", t->name, key, v, want);
	return -EINVAL;
}

static int check_values(const struct imp_tunnel *t, struct imp_diag *d)
{
	if (!is_ipv4(t->remote))
		return bad_value(d, t, "remote", t->remote, "an IPv4 address");
	if (!ipv4_prefix(t->inside, true) || !strstr(t->inside, "/30"))
		return bad_value(d, t, "inside", t->inside, "an IPv4 /30");
	if ((t->local_inside[0] && !is_ipv4(t->local_inside)) ||
	    (t->remote_inside[0] && !is_ipv4(t->remote_inside)))
		return bad_value(d, t, "inside address", t->local_inside[0] &&
				 !is_ipv4(t->local_inside) ? t->local_inside :
				 t->remote_inside, "an IPv4 address");
	if ((t->local_inside[0] && !host_of(t->inside, t->local_inside)) ||
	    (t->remote_inside[0] && !host_of(t->inside, t->remote_inside)) ||
	    (t->local_inside[0] ? host_of(t->inside, t->local_inside) : 2) ==
	    (t->remote_inside[0] ? host_of(t->inside, t->remote_inside) : 1))
		return bad_value(d, t, "inside address", t->local_inside[0] &&
				 host_of(t->inside, t->local_inside) ? t->remote_inside :
				 t->local_inside, "one of the two hosts of the inside /30");
	if ((t->local_id[0] && !token_ok(t->local_id)) ||
	    (t->remote_id[0] && !token_ok(t->remote_id)))
		return bad_value(d, t, "IKE identity", t->local_id[0] ? t->local_id :
				 t->remote_id, "one printable word");
	if (t->vti[0] && !name_char_ok(t->vti[0]))
		return bad_value(d, t, "vti", t->vti, "an interface name");
	for (const char *p = t->vti; *p; p++)
		if (!name_char_ok(*p))
			return bad_value(d, t, "vti", t->vti, "an interface name");
	if ((t->local_ts[0] && !prefix_list(t->local_ts)) ||
	    (t->remote_ts[0] && !prefix_list(t->remote_ts)))
		return bad_value(d, t, "traffic selector", t->local_ts[0] &&
				 !prefix_list(t->local_ts) ? t->local_ts : t->remote_ts,
				 "a list of IPv4 prefixes");
	for (size_t i = 0; i < t->routes.n; i++)
		if (!ipv4_prefix(t->routes.v[i], true))
			return bad_value(d, t, "route", t->routes.v[i], "an IPv4 prefix");
	if (t->peer_asn == 23456 || (t->o.hold_time_set && t->o.hold_time &&
				     (t->o.hold_time < 3 || t->o.hold_time > 65535)))
		return bad_value(d, t, "BGP setting", t->peer_asn == 23456 ? "AS 23456" :
				 "hold time", "usable");
	return 0;
}

/* Two tunnels with the same endpoint, inside /30, VTI or mark. */
static int clash(const struct imp_tunnel *a, const struct imp_tunnel *b, struct imp_diag *d)
{
	const char *what = strcmp(a->remote, b->remote) == 0 ? "outside address" :
			   strcmp(a->inside, b->inside) == 0 ? "inside /30" :
			   strcmp(a->vti, b->vti) == 0 ? "VTI" : a->mark == b->mark ? "mark" : NULL;

	if (!what)
		return 0;
	imp_error(d, a->src, 0, "tunnels %s and %s have the same %s%s", b->name, a->name,
		  what, *what == 'o' ? " (the same VPN connection twice?)" : "");
	return -EINVAL;
}

static int check_unique(const struct imp_conf *c, struct imp_diag *d)
{
	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++)
			for (size_t k = 0; k <= i; k++)
				for (size_t l = 0; l < c->vpns[k].n_tunnels; l++) {
					if (k == i && l >= j)
						break;
					if (clash(&c->vpns[i].t[j], &c->vpns[k].t[l], d) < 0)
						return -EINVAL;
				}
	return 0;
}

static bool mark_used(const struct imp_conf *c, const struct imp_tunnel *self, uint32_t m)
{
	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++)
			if (&c->vpns[i].t[j] != self && c->vpns[i].t[j].mark == m)
				return true;
	return false;
}

static void name_tunnel(struct imp_conf *c, size_t vi, size_t ti, bool several)
{
	struct imp_vpn *v = &c->vpns[vi];
	struct imp_tunnel *t = &v->t[ti];
	char base[IMP_NAME_MAX];

	if (!t->name[0]) {
		if (!several)
			snprintf(t->name, sizeof(t->name), "aws-%u", (unsigned)(ti + 1) % 100);
		else if (v->id[0])
			snprintf(t->name, sizeof(t->name), "%.24s-%u", v->id,
				 (unsigned)(ti + 1) % 100);
		else
			snprintf(t->name, sizeof(t->name), "vpn%u-%u", (unsigned)(vi + 1) % 100,
				 (unsigned)(ti + 1) % 100);
	}
	sanitize(t->name);
	snprintf(base, sizeof(base), "%s", t->name);
	for (unsigned k = 2; name_used(c, t, t->name, 0) && k < 1000; k++)
		snprintf(t->name, sizeof(t->name), "%.26s-%u", base, k % 1000);
}

/* VTIs vti1.. and marks 100, 200, ... in tunnel order, skipping taken ones. */
static void number_tunnels(struct imp_conf *c)
{
	unsigned k = 1, m = 1;

	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++) {
			struct imp_tunnel *t = &c->vpns[i].t[j];
			if (!t->vti[0]) {
				do
					snprintf(t->vti, sizeof(t->vti), "vti%u", k++);
				while (name_used(c, t, t->vti, 1));
			}
			if (!t->mark) {
				do
					t->mark = 100 * m++;
				while (mark_used(c, t, t->mark));
			}
		}
}

/* Addresses people type into aws_customer_gateway when they are behind NAT. */
static bool placeholder_ip(const char *s)
{
	return strcmp(s, "1.1.1.1") == 0 || strcmp(s, "172.0.0.1") == 0 ||
	       strcmp(s, "0.0.0.0") == 0;
}

static void plan_gateway(struct imp_conf *c, struct imp_diag *d)
{
	const char *ip = "";

	for (size_t i = 0; i < c->n_vpns && !*ip; i++)
		ip = c->vpns[i].local_ip;
	if (!c->local_id[0]) {
		for (size_t i = 0; i < c->n_vpns && !c->local_id[0]; i++)
			if (c->vpns[i].local_id[0])
				snprintf(c->local_id, sizeof(c->local_id), "%s",
					 c->vpns[i].local_id);
		if (!c->local_id[0])
			snprintf(c->local_id, sizeof(c->local_id), "%s", ip);
	}
	if (!c->local_address[0] && !c->no_local_address && is_ipv4(ip)) {
		if (placeholder_ip(ip))
			imp_warn(d, c->source, 0, "the customer gateway's address %s looks "
				 "like a placeholder (a gateway behind NAT?): local-address "
				 "left out (cgw uses the address of the default route); "
				 "local-id stays %s", ip, ip);
		else
			snprintf(c->local_address, sizeof(c->local_address), "%s", ip);
	}
	/* Connections from other customer gateways keep their identity. */
	for (size_t i = 0; i < c->n_vpns; i++) {
		struct imp_vpn *v = &c->vpns[i];
		const char *id = v->local_id[0] ? v->local_id : v->local_ip;
		if (!*id || strcmp(id, c->local_id) == 0)
			continue;
		imp_warn(d, c->source, 0, "%s uses customer gateway %s, not %s: its "
			 "tunnels get local-id = %s, and must leave from that address",
			 v->id[0] ? v->id : v->address, id, c->local_id, id);
		for (size_t j = 0; j < v->n_tunnels; j++)
			if (!v->t[j].local_id[0])
				snprintf(v->t[j].local_id, sizeof(v->t[j].local_id), "%s", id);
	}
}

static int plan_asn(struct imp_conf *c, struct imp_diag *d)
{
	uint32_t asn = c->asn;

	for (size_t i = 0; i < c->n_vpns; i++) {
		const struct imp_vpn *v = &c->vpns[i];
		bool bgp = false;
		for (size_t j = 0; j < v->n_tunnels; j++)
			bgp |= v->t[j].peer_asn != 0;
		if (!bgp || !v->local_asn || c->asn)
			continue;
		if (asn && asn != v->local_asn) {
			imp_error(d, c->source, 0, "the connections use different customer "
				  "ASNs (%u, %u): one cgw has one AS; import them into "
				  "separate configs", asn, v->local_asn);
			return -EINVAL;
		}
		asn = v->local_asn;
	}
	c->asn = asn;
	return 0;
}

/* Our inside address on t: as given, else the /30's second host. */
static void our_inside(const struct imp_tunnel *t, char *out, size_t len)
{
	char buf[IMP_ADDR_MAX], *slash;
	struct in_addr a;

	snprintf(out, len, "%s", t->local_inside);
	if (*out)
		return;
	snprintf(buf, sizeof(buf), "%s", t->inside);
	if ((slash = strchr(buf, '/')))
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return;
	a.s_addr = htonl(ntohl(a.s_addr) + 2);
	inet_ntop(AF_INET, &a, out, (socklen_t)len);
}

static int plan_bgp(struct imp_conf *c, struct imp_diag *d)
{
	bool bgp = false;

	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++) {
			const struct imp_tunnel *t = &c->vpns[i].t[j];
			bgp |= t->peer_asn != 0;
			if (t->peer_asn && c->asn && t->peer_asn == c->asn) {
				imp_error(d, t->src, 0, "tunnel %s: AWS's ASN %u equals the "
					  "customer gateway's: BGP needs two ASes", t->name,
					  t->peer_asn);
				return -EINVAL;
			}
		}
	if (!bgp) {
		c->asn = 0;
		return 0;
	}
	if (!c->asn || c->asn == 23456) {
		imp_error(d, c->source, 0, "BGP tunnels, but no usable customer gateway "
			  "ASN in the input (aws_customer_gateway.bgp_asn, the XML's "
			  "<customer_gateway><bgp><asn>, or FRR's router bgp)");
		return -EINVAL;
	}
	if (!c->router_id[0] && !c->local_address[0]) {
		if (is_ipv4(c->local_id))
			snprintf(c->router_id, sizeof(c->router_id), "%s", c->local_id);
		for (size_t i = 0; i < c->n_vpns && !c->router_id[0]; i++)
			if (c->vpns[i].n_tunnels)
				our_inside(&c->vpns[i].t[0], c->router_id, sizeof(c->router_id));
	}
	return 0;
}

/* What the operator must finish by hand, said once on stderr. */
static void plan_remarks(const struct imp_conf *c, struct imp_diag *d)
{
	for (size_t i = 0; i < c->n_vpns; i++) {
		const struct imp_vpn *v = &c->vpns[i];
		if (v->static_routing && v->n_tunnels)
			imp_warn(d, c->source, 0, "%s: static routing (no BGP): its tunnels "
				 "get static routes%s", v->id[0] ? v->id : v->address,
				 v->t[0].routes.n ? "" : " (none known: add them)");
	}
	if (c->asn && c->networks.n == 0)
		imp_warn(d, c->source, 0, "[bgp] announces nothing yet: add the on-prem "
			 "prefixes as 'network = CIDR' lines (%s)", c->networks_from_source ?
			 "the FRR config names none cgw can use" : "they are not in this input");
}

int imp_plan(struct imp_conf *c, const struct imp_plan_opts *o, struct imp_diag *d)
{
	size_t n = 0;
	bool several = o->several_names || c->n_vpns > 1;

	for (size_t i = 0; i < c->n_vpns; i++)
		n += c->vpns[i].n_tunnels;
	if (n == 0) {
		imp_error(d, c->source, 0, "nothing to import: no usable tunnel");
		return -EINVAL;
	}
	if (n > IMP_MAX_TUNNELS) {
		imp_error(d, c->source, 0, "%zu tunnels: cgw.conf takes at most %d", n,
			  IMP_MAX_TUNNELS);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++) {
			name_tunnel(c, i, j, several);
			check_psk(&c->vpns[i].t[j], d);
			if (c->vpns[i].t[j].inside[0])
				check_values(&c->vpns[i].t[j], d);
			else
				imp_error(d, c->vpns[i].t[j].src, 0, "tunnel %s: no inside "
					  "address (no leftvti=, and no FRR neighbor to place it): "
					  "import this VPN with `cgwctl import tfstate` or `aws-xml`",
					  c->vpns[i].t[j].name);
		}
	if (d->n_errors)
		return -EINVAL;
	number_tunnels(c);
	if (check_unique(c, d) < 0)
		return -EINVAL;
	plan_gateway(c, d);
	if (c->local_id[0] && !token_ok(c->local_id)) {
		imp_error(d, c->source, 0, "local-id '%s' is not one printable word",
			  c->local_id);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->networks.n; i++)
		if (!ipv4_prefix(c->networks.v[i], true)) {
			imp_error(d, c->source, 0, "network %s is not an IPv4 prefix "
				  "without host bits", c->networks.v[i]);
			return -EINVAL;
		}
	if (plan_asn(c, d) < 0 || plan_bgp(c, d) < 0)
		return -EINVAL;
	plan_remarks(c, d);
	return 0;
}
