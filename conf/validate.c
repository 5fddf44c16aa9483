/*
 * After parsing: defaults, PSK files (with their permission check), and
 * every check that spans more than one key or more than one tunnel.
 */
#include "conf/conf-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "config.h"

#define PSK_MAX 1024

/* Default algorithm suites: accepted by AWS, and strong. */
#define DEFAULT_IKE "aes256-sha256-modp2048"
#define DEFAULT_ESP "aes256gcm16-modp2048"

/* The policy keys of a [neighbor]; "bgp-" + each in a [tunnel]. */
static const char *const policy_keys[] = {
	"max-prefix-in", "max-prefix-out", "med", "prepend", "local-pref",
	"import", "import-prefix", "export", "export-prefix", NULL,
};

static bool marked(uint64_t mask, int i)
{
	return i >= 0 && (mask & (1ull << i));
}

static bool given(const struct tunnel_build *tb, const char *key)
{
	return marked(tb->seen, conf_tunnel_key_index(key));
}

/* Given but rejected: checks that use it are skipped (already reported). */
static bool bad(const struct tunnel_build *tb, const char *key)
{
	return marked(tb->bad, conf_tunnel_key_index(key));
}

static unsigned key_line(const struct tunnel_build *tb, const struct cgw_tunnel_conf *t,
			 const char *key)
{
	int i = conf_tunnel_key_index(key);

	return marked(tb->seen, i) ? tb->key_line[i] : t->line;
}

static bool nb_given(const struct neighbor_build *nb, const char *key)
{
	return marked(nb->seen, conf_neighbor_key_index(key));
}

static bool nb_bad(const struct neighbor_build *nb, const char *key)
{
	return marked(nb->bad, conf_neighbor_key_index(key));
}

static unsigned nb_line(const struct neighbor_build *nb, const struct cgw_neighbor_conf *n,
			const char *key)
{
	int i = conf_neighbor_key_index(key);

	return marked(nb->seen, i) ? nb->key_line[i] : n->line;
}

static bool bgp_given(const struct conf_parser *p, const char *key)
{
	return marked(p->bgp_seen, conf_bgp_key_index(key));
}

static unsigned bgp_line(const struct conf_parser *p, const char *key)
{
	int i = conf_bgp_key_index(key);

	return marked(p->bgp_seen, i) ? p->bgp_key_line[i] : p->bgp_line;
}

static bool prefix_contains(const struct cgw_prefix *p, const struct cgw_addr *a)
{
	struct cgw_prefix q = { .addr = *a, .len = p->len };

	if (a->family != p->addr.family)
		return false;
	conf_prefix_mask(&q);
	return memcmp(&q.addr.v6, &p->addr.v6,
		      a->family == AF_INET ? 4 : 16) == 0;
}

/* Address number k inside prefix p (k small: 1, 2, 3). */
static struct cgw_addr prefix_host(const struct cgw_prefix *p, unsigned k)
{
	struct cgw_addr a = p->addr;
	uint8_t *b = (uint8_t *)&a.v4;
	size_t last = a.family == AF_INET ? 3 : 15;

	b[last] = (uint8_t)(b[last] + k);
	return a;
}

/* AWS refuses these inside CIDRs (Tunnel options, inside IPv4 CIDR). */
static bool aws_reserved_inside(const struct cgw_prefix *p)
{
	static const char *const reserved[] = {
		"169.254.0.0", "169.254.1.0", "169.254.2.0", "169.254.3.0",
		"169.254.4.0", "169.254.5.0", "169.254.169.252",
	};
	char buf[INET_ADDRSTRLEN];

	if (p->addr.family != AF_INET || p->len != 30)
		return false;
	inet_ntop(AF_INET, &p->addr.v4, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(buf, reserved[i]) == 0)
			return true;
	return false;
}

static void check_inside(struct conf_parser *p, struct cgw_tunnel_conf *t,
			 const struct tunnel_build *tb)
{
	unsigned line = key_line(tb, t, "inside");
	struct cgw_prefix *in = &t->inside;
	char buf[64], fixed[64];
	bool v4 = in->addr.family == AF_INET;

	if (bad(tb, "inside") || bad(tb, "local-inside") || bad(tb, "remote-inside"))
		return;
	if (!given(tb, "inside")) {
		conf_error(p, t->line, "[tunnel %s]: missing 'inside' (the tunnel's inside "
			   "/30, e.g. inside = 169.254.10.0/30)", t->name);
		return;
	}
	if (in->len != (v4 ? 30 : 126)) {
		conf_error(p, line, "inside: %s must be a /30 (IPv4) or /126 (IPv6)",
			   conf_prefix_str(in, buf, sizeof(buf)));
		return;
	}
	if (!conf_prefix_is_network(in)) {
		struct cgw_prefix q = *in;
		conf_prefix_mask(&q);
		conf_error(p, line, "inside: %s has host bits set (did you mean %s?)",
			   conf_prefix_str(in, buf, sizeof(buf)),
			   conf_prefix_str(&q, fixed, sizeof(fixed)));
		return;
	}
	if (aws_reserved_inside(in))
		conf_error(p, line, "inside: %s is reserved by AWS (169.254.0.0/30 to "
			   "169.254.5.0/30 and 169.254.169.252/30 cannot be used)",
			   conf_prefix_str(in, buf, sizeof(buf)));
	/* AWS takes the first host, the customer gateway the second. */
	if (!given(tb, "remote-inside"))
		t->remote_inside = prefix_host(in, 1);
	if (!given(tb, "local-inside"))
		t->local_inside = prefix_host(in, 2);
	struct cgw_addr net = prefix_host(in, 0), bcast = prefix_host(in, 3);
	const struct cgw_addr *ends[2] = { &t->local_inside, &t->remote_inside };
	const char *names[2] = { "local-inside", "remote-inside" };
	for (int i = 0; i < 2; i++) {
		bool bad = !prefix_contains(in, ends[i]);
		if (v4)
			bad |= memcmp(ends[i], &net, sizeof(net)) == 0 ||
			       memcmp(ends[i], &bcast, sizeof(bcast)) == 0;
		if (bad)
			conf_error(p, key_line(tb, t, names[i]), "%s: %s is not a host address "
				   "of inside %s", names[i], conf_addr_str(ends[i], buf, sizeof(buf)),
				   conf_prefix_str(in, fixed, sizeof(fixed)));
	}
	if (memcmp(&t->local_inside, &t->remote_inside, sizeof(t->local_inside)) == 0)
		conf_error(p, key_line(tb, t, "local-inside"), "local-inside and "
			   "remote-inside are the same address");
}

/* Read a PSK file into locked memory; refuse one others can read. */
static void load_psk_file(struct conf_parser *p, struct cgw_tunnel_conf *t, unsigned line)
{
	char path[PATH_MAX], dir[PATH_MAX];
	unsigned char buf[PSK_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd;

	if (t->psk_file[0] != '/' && strchr(p->file, '/')) {
		snprintf(dir, sizeof(dir), "%s", p->file);
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), t->psk_file);
	} else {
		snprintf(path, sizeof(path), "%s", t->psk_file);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		conf_error(p, line, "psk-file %s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		conf_error(p, line, "psk-file %s: not a regular file", path);
		goto out;
	}
	if ((p->flags & CONF_CHECK_PERMS) && (st.st_mode & 077)) {
		conf_error(p, line, "psk-file %s is readable by group or others (mode %04o): "
			   "chmod 600 %s", path, st.st_mode & 07777, path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		conf_error(p, line, "psk-file %s: %s", path, strerror(errno));
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == 0)
		conf_error(p, line, "psk-file %s is empty", path);
	else if (n > PSK_MAX)
		conf_error(p, line, "psk-file %s: key longer than %d bytes", path, PSK_MAX);
	else if (secret_set(&t->psk, buf, (size_t)n) < 0)
		conf_error(p, line, "out of memory");
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
}

static void check_psk(struct conf_parser *p, struct cgw_tunnel_conf *t,
		      struct tunnel_build *tb)
{
	bool inl = given(tb, "psk"), file = given(tb, "psk-file");

	if (inl && file) {
		conf_error(p, key_line(tb, t, "psk"), "give either psk or psk-file, not both");
		return;
	}
	if (!inl && !file) {
		conf_error(p, t->line, "[tunnel %s]: no PSK: set psk-file = PATH (a file "
			   "with mode 0600) or psk = KEY", t->name);
		return;
	}
	if (file) {
		load_psk_file(p, t, key_line(tb, t, "psk-file"));
		return;
	}
	if (strlen(tb->psk_inline) > PSK_MAX)
		conf_error(p, key_line(tb, t, "psk"), "psk longer than %d bytes", PSK_MAX);
	else if (secret_set(&t->psk, tb->psk_inline, strlen(tb->psk_inline)) < 0)
		conf_error(p, key_line(tb, t, "psk"), "out of memory");
}

static void default_proposals(struct conf_parser *p, struct cgw_tunnel_conf *t,
			      const struct tunnel_build *tb)
{
	char err[256];

	if (!given(tb, "ike") && proposal_parse(DEFAULT_IKE, PROPOSAL_IKE, &t->ike,
						 err, sizeof(err)) < 0)
		conf_error(p, t->line, "internal: default ike: %s", err);
	if (!given(tb, "esp") && proposal_parse(DEFAULT_ESP, PROPOSAL_ESP, &t->esp,
						 err, sizeof(err)) < 0)
		conf_error(p, t->line, "internal: default esp: %s", err);
}

static void default_ts(struct cgw_prefix **list, size_t *n)
{
	if (*n)
		return;
	*list = calloc(1, sizeof(**list));
	if (!*list)
		return;
	(*list)->addr.family = AF_INET;
	*n = 1;
}

static void tunnel_defaults(struct conf_parser *p, struct cgw_tunnel_conf *t,
			    const struct tunnel_build *tb)
{
	if (!given(tb, "ike-lifetime"))
		t->ike_lifetime = 28000;	/* just below AWS's 28800: we rekey */
	if (!given(tb, "esp-lifetime"))
		t->esp_lifetime = 3000;		/* just below AWS's 3600 */
	if (!given(tb, "rekey-margin"))
		t->rekey_margin = t->esp_lifetime >= 540 ? 270 : t->esp_lifetime / 4;
	if (!given(tb, "rekey-fuzz"))
		t->rekey_fuzz = 100;
	if (!given(tb, "replay-window"))
		t->replay_window = 1024;
	if (!given(tb, "dpd-delay"))
		t->dpd_delay = 10;
	if (!given(tb, "dpd-timeout"))
		t->dpd_timeout = 30;
	if (!given(tb, "liveness-probe"))
		t->liveness_probe = 2;
	if (!given(tb, "bgp-hold-time"))
		t->bgp_hold_time = 30;
	if (!given(tb, "route-metric"))
		t->route_metric = 100;
	/* AWS's quotas: a VPN connection takes at most 100 routes from the
	   customer gateway (and drops the session beyond), and announces at
	   most 5000. */
	if (!given(tb, "bgp-max-prefix-in"))
		t->bgp.max_prefix_in = 5000;
	if (!given(tb, "bgp-max-prefix-out"))
		t->bgp.max_prefix_out = 100;
	if (!given(tb, "bgp-export"))
		t->bgp.export = CGW_EXPORT_LOCAL;
	default_proposals(p, t, tb);
	default_ts(&t->local_ts, &t->n_local_ts);
	default_ts(&t->remote_ts, &t->n_remote_ts);
}

static void check_timers(struct conf_parser *p, struct cgw_tunnel_conf *t,
			 const struct tunnel_build *tb)
{
	if (bad(tb, "esp-lifetime") || bad(tb, "ike-lifetime") || bad(tb, "rekey-margin") ||
	    bad(tb, "dpd-delay") || bad(tb, "dpd-timeout"))
		return;
	if (t->esp_lifetime >= t->ike_lifetime)
		conf_error(p, key_line(tb, t, "esp-lifetime"), "esp-lifetime (%us) must be "
			   "shorter than ike-lifetime (%us)", t->esp_lifetime, t->ike_lifetime);
	if (t->rekey_margin > t->esp_lifetime / 2)
		conf_error(p, key_line(tb, t, "rekey-margin"), "rekey-margin (%us) must be at "
			   "most half of esp-lifetime (%us)", t->rekey_margin, t->esp_lifetime);
	if (t->dpd_timeout < t->dpd_delay)
		conf_error(p, key_line(tb, t, "dpd-timeout"), "dpd-timeout (%us) must not be "
			   "shorter than dpd-delay (%us)", t->dpd_timeout, t->dpd_delay);
	if (t->bgp_hold_time == 1 || t->bgp_hold_time == 2)
		conf_error(p, key_line(tb, t, "bgp-hold-time"), "bgp-hold-time must be 0 or "
			   "at least 3s (RFC 4271 4.2)");
}

/* Prefix lists that a "none" makes moot: probably not what was meant. */
static void check_policy(struct conf_parser *p, const struct cgw_bgp_policy *pol,
			 const char *pfx, unsigned import_line, unsigned export_line)
{
	if (pol->import_none && pol->n_import_prefixes)
		conf_warning(p, import_line, "%simport-prefix has no effect with %simport = "
			     "none", pfx, pfx);
	if (pol->export == CGW_EXPORT_NONE && pol->n_export_prefixes)
		conf_warning(p, export_line, "%sexport-prefix has no effect with %sexport = "
			     "none", pfx, pfx);
}

static void check_tunnel_policy(struct conf_parser *p, struct cgw_tunnel_conf *t,
				const struct tunnel_build *tb)
{
	char key[32];

	if (bad(tb, "bgp-peer-asn"))
		return;
	if (t->bgp_peer_asn) {
		check_policy(p, &t->bgp, "bgp-", key_line(tb, t, "bgp-import-prefix"),
			     key_line(tb, t, "bgp-export-prefix"));
		return;
	}
	for (size_t i = 0; policy_keys[i]; i++) {
		snprintf(key, sizeof(key), "bgp-%s", policy_keys[i]);
		if (given(tb, key) && !bad(tb, key))
			conf_error(p, key_line(tb, t, key), "%s needs bgp-peer-asn", key);
	}
}

static void check_tunnel(struct conf_parser *p, struct cgw_tunnel_conf *t,
			 struct tunnel_build *tb)
{
	const struct cgw_bgp_conf *bgp = &p->conf->bgp;

	tunnel_defaults(p, t, tb);
	if (!given(tb, "remote"))
		conf_error(p, t->line, "[tunnel %s]: missing 'remote' (the peer's outside "
			   "address)", t->name);
	else if (t->remote.family == AF_INET6)
		conf_error(p, key_line(tb, t, "remote"), "remote: IPv6 outside addresses are "
			   "not supported yet");
	if (!given(tb, "vti"))
		conf_error(p, t->line, "[tunnel %s]: missing 'vti' (interface name, e.g. "
			   "vti = vti1)", t->name);
	if (!given(tb, "mark"))
		conf_error(p, t->line, "[tunnel %s]: missing 'mark' (XFRM mark and VTI key, "
			   "e.g. mark = 100)", t->name);
	check_inside(p, t, tb);
	check_psk(p, t, tb);
	check_timers(p, t, tb);
	if (t->bgp_peer_asn && !bgp->enabled)
		conf_error(p, key_line(tb, t, "bgp-peer-asn"), "bgp-peer-asn needs a [bgp] "
			   "section with our asn");
	else if (t->bgp_peer_asn && t->bgp_peer_asn == bgp->asn)
		conf_error(p, key_line(tb, t, "bgp-peer-asn"), "bgp-peer-asn %u equals our "
			   "asn: the tunnel peer must be in another AS (eBGP)", t->bgp_peer_asn);
	if (!t->bgp_peer_asn && given(tb, "bgp-hold-time"))
		conf_warning(p, key_line(tb, t, "bgp-hold-time"), "bgp-hold-time without "
			     "bgp-peer-asn has no effect");
	check_tunnel_policy(p, t, tb);
}

/* Marks, VTI names, remotes and inside prefixes must be unique. */
static void check_unique(struct conf_parser *p)
{
	struct cgw_conf *c = p->conf;
	char buf[64];

	for (size_t i = 0; i < c->n_tunnels; i++) {
		struct cgw_tunnel_conf *a = &c->tunnels[i];
		for (size_t j = 0; j < i; j++) {
			struct cgw_tunnel_conf *b = &c->tunnels[j];
			if (a->mark && a->mark == b->mark)
				conf_error(p, key_line(&p->tb[i], a, "mark"), "mark %u already used "
					   "by tunnel %s", a->mark, b->name);
			if (a->vti[0] && strcmp(a->vti, b->vti) == 0)
				conf_error(p, key_line(&p->tb[i], a, "vti"), "vti %s already used by "
					   "tunnel %s", a->vti, b->name);
			if (a->remote.family && memcmp(&a->remote, &b->remote, sizeof(a->remote)) == 0)
				conf_error(p, key_line(&p->tb[i], a, "remote"), "remote %s already "
					   "used by tunnel %s", conf_addr_str(&a->remote, buf, sizeof(buf)),
					   b->name);
			if (a->inside.addr.family && memcmp(&a->inside, &b->inside, sizeof(a->inside)) == 0)
				conf_error(p, key_line(&p->tb[i], a, "inside"), "inside %s already "
					   "used by tunnel %s", conf_prefix_str(&a->inside, buf, sizeof(buf)),
					   b->name);
		}
	}
}

static void bgp_defaults(struct conf_parser *p)
{
	struct cgw_bgp_conf *b = &p->conf->bgp;

	if (!bgp_given(p, "max-paths"))
		b->max_paths = 16;
	if (!bgp_given(p, "table"))
		b->table = 254;			/* main */
	if (!bgp_given(p, "metric"))
		b->metric = 20;
	if (!bgp_given(p, "graceful-restart"))
		b->graceful_restart = true;	/* RFC 4724 helper for our peers */
	if (!bgp_given(p, "listen-port"))
		b->listen_port = 179;
}

static void check_bgp(struct conf_parser *p)
{
	const struct cgw_bgp_conf *b = &p->conf->bgp;

	if (b->table == 253 || b->table == 255)
		conf_error(p, bgp_line(p, "table"), "table: %u is the kernel's %s table: "
			   "use main (254) or a table of your own", b->table,
			   b->table == 253 ? "default" : "local");
	if (b->n_redistribute_prefixes && !b->redistribute)
		conf_warning(p, bgp_line(p, "redistribute-prefix"), "redistribute-prefix "
			     "without redistribute has no effect");
}

static void check_gateway_bgp(struct conf_parser *p)
{
	struct cgw_conf *c = p->conf;
	int asn = conf_bgp_key_index("asn");

	if (!c->gateway.control_socket)
		c->gateway.control_socket = strdup(CGW_DEFAULT_SOCKET);
	if (c->gateway.local_address.family && c->gateway.local_address.family != AF_INET)
		conf_error(p, p->gateway_line, "local-address: IPv6 outside addresses are not "
			   "supported yet");
	bgp_defaults(p);
	if (!c->bgp.enabled)
		return;
	check_bgp(p);
	if (!(p->bgp_seen & (1ull << asn)))
		conf_error(p, p->bgp_line, "[bgp]: missing 'asn' (our AS number)");
	if (c->bgp.router_id.s_addr == 0 &&
	    !(p->bgp_bad & (1ull << conf_bgp_key_index("router-id")))) {
		if (c->gateway.local_address.family == AF_INET)
			c->bgp.router_id = c->gateway.local_address.v4;
		else
			conf_error(p, p->bgp_line, "[bgp]: set router-id (there is no "
				   "local-address to take it from)");
	}
}

static void neighbor_defaults(struct conf_parser *p, struct cgw_neighbor_conf *n,
			      const struct neighbor_build *nb)
{
	if (!nb_given(nb, "port"))
		n->port = 179;
	if (!nb_given(nb, "hold-time"))
		n->hold_time = 90;		/* RFC 4271 10's suggestion */
	/* An iBGP peer is usually a core router some hops away. */
	if (!nb_given(nb, "multihop"))
		n->multihop = n->remote_asn == p->conf->bgp.asn ? 255 : 1;
	/* The policy's defaults are all zero: no limits, export none (RFC 8212). */
}

static void check_neighbor(struct conf_parser *p, struct cgw_neighbor_conf *n,
			   const struct neighbor_build *nb)
{
	neighbor_defaults(p, n, nb);
	if (!p->conf->bgp.enabled)
		conf_error(p, n->line, "[neighbor %s] needs a [bgp] section with our asn",
			   n->name);
	if (!nb_given(nb, "address"))
		conf_error(p, n->line, "[neighbor %s]: missing 'address' (the peer's IPv4 "
			   "address)", n->name);
	if (!nb_given(nb, "remote-asn"))
		conf_error(p, n->line, "[neighbor %s]: missing 'remote-asn' (the peer's AS "
			   "number)", n->name);
	if (n->hold_time == 1 || n->hold_time == 2)
		conf_error(p, nb_line(nb, n, "hold-time"), "hold-time must be 0 or at "
			   "least 3s (RFC 4271 4.2)");
	check_policy(p, &n->policy, "", nb_line(nb, n, "import-prefix"),
		     nb_line(nb, n, "export-prefix"));
}

/* One session per peer address: neighbors and the tunnels' far ends. */
static void check_neighbor_unique(struct conf_parser *p)
{
	struct cgw_conf *c = p->conf;
	char buf[64];

	for (size_t i = 0; i < c->n_neighbors; i++) {
		const struct cgw_neighbor_conf *a = &c->neighbors[i];
		unsigned line = nb_line(&p->nb[i], a, "address");

		if (!a->address.family || nb_bad(&p->nb[i], "address"))
			continue;
		conf_addr_str(&a->address, buf, sizeof(buf));
		for (size_t j = 0; j < c->n_tunnels; j++)
			if (memcmp(&a->address, &c->tunnels[j].remote_inside,
				   sizeof(a->address)) == 0)
				conf_error(p, line, "address %s is the remote-inside of tunnel %s",
					   buf, c->tunnels[j].name);
		for (size_t j = 0; j < i; j++)
			if (memcmp(&a->address, &c->neighbors[j].address, sizeof(a->address)) == 0)
				conf_error(p, line, "address %s already used by neighbor %s",
					   buf, c->neighbors[j].name);
	}
}

void conf_validate(struct conf_parser *p)
{
	struct cgw_conf *c = p->conf;

	check_gateway_bgp(p);
	for (size_t i = 0; i < c->n_tunnels; i++)
		check_tunnel(p, &c->tunnels[i], &p->tb[i]);
	check_unique(p);
	for (size_t i = 0; i < c->n_neighbors; i++)
		check_neighbor(p, &c->neighbors[i], &p->nb[i]);
	check_neighbor_unique(p);
}
