/*
 * FRR frr.conf / Quagga bgpd.conf / vtysh transcripts, line by line:
 * "router bgp ASN" with bgp router-id, timers bgp, neighbor X remote-as,
 * neighbor X timers, network (under router bgp or address-family ipv4
 * unicast), redistribute, and route-maps that only prepend the AS path or
 * set local preference. Neighbors are matched to the tunnels by their
 * inside addresses. Indentation is cosmetic (as in FRR); context follows
 * the commands. Housekeeping (hostname, log, line vty, debug, frr
 * version/defaults, vtysh's conf t/wr/exit) has no meaning for cgw and is
 * skipped; everything else not translated is reported with file:line.
 */
#include "import/import.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define FRR_MAX_LINE 4096
#define FRR_MAX_TOK 24
#define FRR_MAX_NB 64
#define FRR_MAX_RM 64

enum frr_ctx { FC_TOP, FC_ROUTER, FC_AF, FC_AF_OTHER, FC_RMAP, FC_SKIP };

struct frr_nb {
	char addr[IMP_ADDR_MAX];
	char asn[16];
	unsigned line, ka, hold;
	bool timers;
	char rm_in[64], rm_out[64];
	char desc[128];
};

struct frr_rm {
	char name[64];
	unsigned line, prepend;
	uint32_t localpref;
	bool other;			/* anything but prepend/local-preference */
};

struct frr {
	const char *file;
	struct imp_diag *d;
	unsigned line;
	enum frr_ctx ctx;
	char *tok[FRR_MAX_TOK];
	size_t n;
	uint32_t asn;
	unsigned router_line;
	char router_id[IMP_ADDR_MAX];
	unsigned ka, hold;
	bool timers;
	struct imp_prefixes networks;
	struct frr_nb nb[FRR_MAX_NB];
	size_t n_nb;
	struct frr_rm rm[FRR_MAX_RM];
	size_t n_rm;
	int cur_rm;
	bool failed;
};

static bool eq(const struct frr *f, size_t i, const char *s)
{
	return i < f->n && strcmp(f->tok[i], s) == 0;
}

static void warn(struct frr *f, const char *why)
{
	char cmd[200] = "";

	for (size_t i = 0; i < f->n && strlen(cmd) < 120; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "",
			 f->tok[i]);
	imp_warn(f->d, f->file, f->line, "'%s' not translated: %s", cmd, why);
}

static bool placeholder(const char *s)
{
	return strchr(s, '$') || strchr(s, '{') || strchr(s, '<');
}

static bool number(struct frr *f, const char *s, uint32_t max, uint32_t *out, const char *what)
{
	char *end;
	unsigned long long v;

	if (*s >= '0' && *s <= '9') {
		v = strtoull(s, &end, 10);
		if (!*end && v <= max) {
			*out = (uint32_t)v;
			return true;
		}
	}
	imp_error(f->d, f->file, f->line, "%s '%s' is not a number%s", what, s,
		  placeholder(s) || (*s >= 'A' && *s <= 'Z') ? " (an unfilled template "
		  "placeholder?)" : "");
	f->failed = true;
	return false;
}

static bool address(struct frr *f, const char *s, const char *what)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) == 1)
		return true;
	imp_error(f->d, f->file, f->line, "%s '%s' is not an IPv4 address%s", what, s,
		  placeholder(s) || (*s >= 'A' && *s <= 'Z') ? " (an unfilled template "
		  "placeholder?)" : "");
	f->failed = true;
	return false;
}

static struct frr_nb *neighbor(struct frr *f, const char *addr)
{
	struct frr_nb *nb;

	for (size_t i = 0; i < f->n_nb; i++)
		if (strcmp(f->nb[i].addr, addr) == 0)
			return &f->nb[i];
	if (f->n_nb >= FRR_MAX_NB)
		return NULL;
	nb = &f->nb[f->n_nb++];
	memset(nb, 0, sizeof(*nb));
	snprintf(nb->addr, sizeof(nb->addr), "%s", addr);
	nb->line = f->line;
	return nb;
}

/* "neighbor X ..." inside router bgp or an address family. */
static void cmd_neighbor(struct frr *f)
{
	struct frr_nb *nb;
	uint32_t ka, hold;

	if (f->n < 3) {
		warn(f, "incomplete");
		return;
	}
	if (!address(f, f->tok[1], "neighbor") || !(nb = neighbor(f, f->tok[1])))
		return;
	if (eq(f, 2, "remote-as") && f->n == 4) {
		snprintf(nb->asn, sizeof(nb->asn), "%s", f->tok[3]);
	} else if (eq(f, 2, "timers") && eq(f, 3, "connect")) {
		return;		/* cgw retries on its own schedule */
	} else if (eq(f, 2, "timers") && f->n == 5) {
		if (number(f, f->tok[3], 65535, &ka, "keepalive") &&
		    number(f, f->tok[4], 65535, &hold, "hold time")) {
			nb->ka = ka;
			nb->hold = hold;
			nb->timers = true;
		}
	} else if (eq(f, 2, "route-map") && f->n == 5) {
		snprintf(eq(f, 4, "in") ? nb->rm_in : nb->rm_out, 64, "%s", f->tok[3]);
	} else if (eq(f, 2, "description")) {
		nb->desc[0] = '\0';
		for (size_t i = 3; i < f->n; i++)
			snprintf(nb->desc + strlen(nb->desc), sizeof(nb->desc) - strlen(nb->desc),
				 "%s%s", i > 3 ? " " : "", f->tok[i]);
	} else if (eq(f, 2, "activate") || eq(f, 2, "soft-reconfiguration") ||
		   eq(f, 2, "update-source")) {
		return;		/* cgw peers over the tunnel's inside /30 anyway */
	} else if (eq(f, 2, "prefix-list") || eq(f, 2, "default-originate")) {
		warn(f, "cgw announces exactly the [bgp] network list");
	} else {
		warn(f, "no cgw equivalent");
	}
}

static void cmd_network(struct frr *f)
{
	char pfx[IMP_ADDR_MAX];
	struct in_addr a;
	unsigned long len;
	char *slash, *end;

	if (f->n != 2) {
		warn(f, "only 'network PREFIX' is understood");
		return;
	}
	snprintf(pfx, sizeof(pfx), "%s", f->tok[1]);
	slash = strchr(pfx, '/');
	if (slash)
		*slash = '\0';
	len = slash ? strtoul(slash + 1, &end, 10) : 99;
	if (!slash || *end || len > 32 || inet_pton(AF_INET, pfx, &a) != 1) {
		imp_error(f->d, f->file, f->line, "network '%s' is not an IPv4 prefix%s",
			  f->tok[1], placeholder(f->tok[1]) || (f->tok[1][0] >= 'A' &&
			  f->tok[1][0] <= 'Z') ? " (an unfilled template placeholder?)" : "");
		f->failed = true;
		return;
	}
	if (!imp_prefixes_add(&f->networks, f->tok[1]))
		warn(f, "too many networks");
}

static void cmd_router(struct frr *f)
{
	uint32_t ka, hold;

	if (eq(f, 0, "bgp") && eq(f, 1, "router-id") && f->n == 3) {
		if (address(f, f->tok[2], "bgp router-id"))
			snprintf(f->router_id, sizeof(f->router_id), "%s", f->tok[2]);
	} else if (eq(f, 0, "timers") && eq(f, 1, "bgp") && f->n == 4) {
		if (number(f, f->tok[2], 65535, &ka, "keepalive") &&
		    number(f, f->tok[3], 65535, &hold, "hold time")) {
			f->ka = ka;
			f->hold = hold;
			f->timers = true;
		}
	} else if (eq(f, 0, "neighbor")) {
		cmd_neighbor(f);
	} else if (eq(f, 0, "network")) {
		cmd_network(f);
	} else if (eq(f, 0, "redistribute")) {
		warn(f, "cgw announces exactly the [bgp] network list: add those "
		     "prefixes as network lines");
	} else if (eq(f, 0, "bgp") && (eq(f, 1, "log-neighbor-changes") ||
				       eq(f, 1, "ebgp-requires-policy"))) {
		return;
	} else if (eq(f, 0, "no") && eq(f, 1, "bgp")) {
		return;		/* ebgp-requires-policy, default ipv4-unicast, ... */
	} else if (eq(f, 0, "maximum-paths")) {
		warn(f, "cgw installs routes by its own rules");
	} else {
		warn(f, "no cgw equivalent");
	}
}

static struct frr_rm *route_map(struct frr *f, const char *name)
{
	for (size_t i = 0; i < f->n_rm; i++)
		if (strcmp(f->rm[i].name, name) == 0)
			return &f->rm[i];
	if (f->n_rm >= FRR_MAX_RM)
		return NULL;
	memset(&f->rm[f->n_rm], 0, sizeof(f->rm[0]));
	snprintf(f->rm[f->n_rm].name, sizeof(f->rm[0].name), "%s", name);
	f->rm[f->n_rm].line = f->line;
	return &f->rm[f->n_rm++];
}

static void cmd_rmap(struct frr *f)
{
	struct frr_rm *rm = f->cur_rm >= 0 ? &f->rm[f->cur_rm] : NULL;
	uint32_t v;

	if (!rm)
		return;
	if (eq(f, 0, "set") && eq(f, 1, "as-path") && eq(f, 2, "prepend") && f->n > 3)
		rm->prepend = (unsigned)(f->n - 3);
	else if (eq(f, 0, "set") && eq(f, 1, "local-preference") && f->n == 3 &&
		 number(f, f->tok[2], UINT32_MAX, &v, "local-preference"))
		rm->localpref = v;
	else
		rm->other = true;
}

/* Housekeeping lines with no meaning for cgw. */
static bool housekeeping(const struct frr *f)
{
	static const char *const words[] = {
		"hostname", "log", "password", "enable", "service", "debug", "end",
		"exit", "wr", "write", "sudo", "vtysh", "agentx", "conf", "configure",
	};

	if (eq(f, 0, "frr") || (eq(f, 0, "no") && (eq(f, 1, "ipv6") || eq(f, 1, "ip"))))
		return true;
	if ((eq(f, 0, "ip") || eq(f, 0, "ipv6")) && eq(f, 1, "forwarding"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (eq(f, 0, words[i]))
			return true;
	return false;
}

static void cmd_top(struct frr *f)
{
	uint32_t asn;
	struct frr_rm *rm;

	if (eq(f, 0, "router") && eq(f, 1, "bgp") && f->n >= 3) {
		f->ctx = FC_ROUTER;
		if (f->router_line) {
			warn(f, "a second router bgp: cgw has one BGP instance");
			f->ctx = FC_SKIP;
		} else if (number(f, f->tok[2], UINT32_MAX, &asn, "router bgp AS")) {
			f->asn = asn;
			f->router_line = f->line;
			if (f->n > 3)
				warn(f, "VRFs: cgw peers in the main table");
		}
	} else if (eq(f, 0, "route-map") && f->n >= 3 && (rm = route_map(f, f->tok[1]))) {
		f->ctx = FC_RMAP;
		f->cur_rm = (int)(rm - f->rm);
		if (!eq(f, 2, "permit"))
			rm->other = true;
	} else if (eq(f, 0, "line") || eq(f, 0, "interface")) {
		f->ctx = FC_SKIP;
		if (eq(f, 0, "interface"))
			warn(f, "cgw creates and configures its VTIs itself");
	} else if (housekeeping(f)) {
		f->ctx = eq(f, 0, "exit") || eq(f, 0, "end") ? FC_TOP : f->ctx;
	} else if (eq(f, 0, "ip") && (eq(f, 1, "route") || eq(f, 1, "prefix-list"))) {
		f->ctx = FC_TOP;
		warn(f, eq(f, 1, "route") ? "static routes stay outside cgw" :
		     "cgw announces exactly the [bgp] network list");
	} else {
		f->ctx = FC_TOP;
		warn(f, "not a command cgw can translate");
	}
}

static bool top_word(const struct frr *f)
{
	static const char *const words[] = { "router", "route-map", "line", "interface",
					     "ip", "ipv6", "hostname", "log", "frr",
					     "service", "password", "end", "debug",
					     "access-list", "bgp", "agentx" };

	if (eq(f, 0, "bgp") && f->n > 1 && !eq(f, 1, "as-path") && !eq(f, 1, "community-list"))
		return false;	/* "bgp router-id" etc. belong to router bgp */
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (eq(f, 0, words[i]))
			return true;
	return false;
}

static void dispatch(struct frr *f)
{
	if ((f->ctx == FC_AF || f->ctx == FC_AF_OTHER) &&
	    (eq(f, 0, "exit-address-family") || eq(f, 0, "exit"))) {
		f->ctx = FC_ROUTER;
		return;
	}
	if (f->ctx != FC_TOP && !top_word(f) && !(f->ctx == FC_SKIP && eq(f, 0, "exit"))) {
		if (f->ctx == FC_ROUTER && eq(f, 0, "address-family"))
			f->ctx = eq(f, 1, "ipv4") && (f->n == 2 || eq(f, 2, "unicast")) ?
				 FC_AF : FC_AF_OTHER;
		else if (f->ctx == FC_ROUTER && eq(f, 0, "exit"))
			f->ctx = FC_TOP;
		else if (f->ctx == FC_ROUTER || f->ctx == FC_AF)
			cmd_router(f);
		else if (f->ctx == FC_AF_OTHER)
			warn(f, "only IPv4 unicast is translated");
		else if (f->ctx == FC_RMAP && eq(f, 0, "exit"))
			f->ctx = FC_TOP;
		else if (f->ctx == FC_RMAP)
			cmd_rmap(f);
		return;
	}
	if (f->ctx == FC_SKIP && eq(f, 0, "exit")) {
		f->ctx = FC_TOP;
		return;
	}
	cmd_top(f);
}

/* Split a line into words; drop a vtysh prompt ("host(config)# "). */
static void tokenize(struct frr *f, char *s)
{
	char *save = NULL, *p;

	f->n = 0;
	if ((p = strstr(s, ")# ")) && strstr(s, "(config") && strstr(s, "(config") < p)
		s = p + 3;
	for (char *t = strtok_r(s, " \t\r", &save); t && f->n < FRR_MAX_TOK;
	     t = strtok_r(NULL, " \t\r", &save))
		f->tok[f->n++] = t;
}

static void parse_lines(struct frr *f, const char *text, size_t len)
{
	char buf[FRR_MAX_LINE + 1];
	size_t pos = 0, n;
	const char *nl;

	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		f->line++;
		pos += n + (nl ? 1 : 0);
		if (n > FRR_MAX_LINE || memchr(text + pos - n - (nl ? 1 : 0), '\0', n)) {
			imp_warn(f->d, f->file, f->line, "line too long or with a NUL "
				 "byte: ignored");
			continue;
		}
		memcpy(buf, text + pos - n - (nl ? 1 : 0), n);
		buf[n] = '\0';
		tokenize(f, buf);
		if (f->n == 0 || f->tok[0][0] == '!' || f->tok[0][0] == '#')
			continue;
		dispatch(f);
	}
}

/* ---- merging into the tunnels ---- */

static bool in_inside(const struct imp_tunnel *t, const char *addr)
{
	char buf[IMP_ADDR_MAX], *slash;
	struct in_addr net, a;

	if (t->remote_inside[0])
		return strcmp(t->remote_inside, addr) == 0;
	snprintf(buf, sizeof(buf), "%s", t->inside);
	if (!(slash = strchr(buf, '/')))
		return false;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &net) != 1 || inet_pton(AF_INET, addr, &a) != 1)
		return false;
	return ntohl(a.s_addr) == ntohl(net.s_addr) + 1;
}

static struct imp_tunnel *find_tunnel(struct imp_conf *c, const char *addr)
{
	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++)
			if (in_inside(&c->vpns[i].t[j], addr))
				return &c->vpns[i].t[j];
	return NULL;
}

static const struct frr_rm *find_rm(const struct frr *f, const char *name)
{
	for (size_t i = 0; *name && i < f->n_rm; i++)
		if (strcmp(f->rm[i].name, name) == 0)
			return &f->rm[i];
	return NULL;
}

static void policy(struct frr *f, const struct frr_nb *nb, struct imp_tunnel *t)
{
	const struct frr_rm *out = find_rm(f, nb->rm_out), *in = find_rm(f, nb->rm_in);

	if (out && out->prepend && !out->other) {
		imp_note(&t->notes, &t->n_notes, "FRR: route-map %s prepends %u AS "
			 "number(s) towards AWS: this was the backup tunnel", out->name,
			 out->prepend);
		imp_warn(f->d, f->file, out->line, "route-map %s (AS-path prepend on "
			 "%s) not translated: cgw has no prepend setting yet; tunnel %s "
			 "will be preferred like the other", out->name, nb->addr, t->name);
	} else if (nb->rm_out[0]) {
		imp_warn(f->d, f->file, out ? out->line : nb->line, "route-map %s out "
			 "on %s not translated (only a lone 'set as-path prepend' is "
			 "recognised)", nb->rm_out, nb->addr);
	}
	if (in && in->localpref && !in->other) {
		imp_note(&t->notes, &t->n_notes, "FRR: route-map %s sets local-preference "
			 "%u on routes from AWS", in->name, in->localpref);
		imp_warn(f->d, f->file, in->line, "route-map %s (local-preference on %s) "
			 "not translated: cgw has no such setting yet", in->name, nb->addr);
	} else if (nb->rm_in[0] && !(in && !in->prepend && !in->localpref && !in->other)) {
		imp_warn(f->d, f->file, in ? in->line : nb->line, "route-map %s in on %s "
			 "not translated", nb->rm_in, nb->addr);
	}
}

static void merge_neighbor(struct frr *f, struct imp_conf *c, const struct frr_nb *nb)
{
	struct imp_tunnel *t = find_tunnel(c, nb->addr);
	uint32_t asn;
	unsigned hold = nb->timers ? nb->hold : f->timers ? f->hold : 30;

	if (!t) {
		imp_warn(f->d, f->file, nb->line, "neighbor %s is not the AWS end of any "
			 "imported tunnel's inside /30: ignored", nb->addr);
		return;
	}
	if (!nb->asn[0]) {
		imp_warn(f->d, f->file, nb->line, "neighbor %s has no remote-as: tunnel "
			 "%s gets no BGP", nb->addr, t->name);
		return;
	}
	if (strcmp(nb->asn, "external") == 0 || strcmp(nb->asn, "auto") == 0) {
		imp_warn(f->d, f->file, nb->line, "neighbor %s remote-as %s: cgw needs "
			 "the number; using AWS's default 64512", nb->addr, nb->asn);
		asn = 64512;
	} else if (!number(f, nb->asn, UINT32_MAX, &asn, "remote-as")) {
		return;
	}
	t->peer_asn = asn;
	if (!t->remote_inside[0])
		snprintf(t->remote_inside, sizeof(t->remote_inside), "%s", nb->addr);
	if (hold != 30 && (hold == 0 || hold >= 3)) {
		t->o.hold_time = hold;
		t->o.hold_time_set = true;
	}
	if (nb->desc[0])
		imp_note(&t->notes, &t->n_notes, "FRR neighbor %s: %s", nb->addr, nb->desc);
	policy(f, nb, t);
}

static void merge(struct frr *f, struct imp_conf *c)
{
	if (!f->router_line) {
		imp_warn(f->d, f->file, 0, "no 'router bgp': no BGP imported");
		return;
	}
	if (f->asn == 23456 || f->asn == 0) {
		imp_error(f->d, f->file, f->router_line, "router bgp %u cannot be used", f->asn);
		f->failed = true;
		return;
	}
	c->asn = f->asn;
	snprintf(c->router_id, sizeof(c->router_id), "%s", f->router_id);
	c->networks = f->networks;
	c->networks_from_source = true;
	for (size_t i = 0; i < f->n_nb; i++)
		merge_neighbor(f, c, &f->nb[i]);
	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++)
			if (!c->vpns[i].t[j].peer_asn && c->vpns[i].t[j].inside[0])
				imp_warn(f->d, f->file, 0, "tunnel %s: no BGP neighbor at its "
					 "inside address: no BGP on it", c->vpns[i].t[j].name);
}

int imp_frr_parse(const char *name, const char *text, size_t len,
		  struct imp_conf *c, struct imp_diag *d)
{
	struct frr *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->file = name;
	f->d = d;
	f->cur_rm = -1;
	parse_lines(f, text, len);
	if (!f->failed)
		merge(f, c);
	r = f->failed ? -EINVAL : 0;
	free(f);
	return r;
}
