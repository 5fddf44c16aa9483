/*
 * Config snapshots: loading entry points, diagnostics, lookup, comparison
 * for reload and freeing (with secrets wiped).
 */
#include "conf/conf-internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#define CONF_MAX_FILE (1024 * 1024)

static void diag_add(struct conf_diag *d, const char *line)
{
	char **n = realloc(d->lines, (d->n_lines + 1) * sizeof(*n));
	char *copy = strdup(line);

	if (!n || !copy) {
		free(copy);
		if (n)
			d->lines = n;
		return;
	}
	d->lines = n;
	d->lines[d->n_lines++] = copy;
}

static void conf_vdiag(struct conf_parser *p, unsigned line, bool error,
		       const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void conf_vdiag(struct conf_parser *p, unsigned line, bool error,
		       const char *fmt, va_list ap)
{
	char msg[512], full[700];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s%s", p->file, line,
			 error ? "" : "warning: ", msg);
	else
		snprintf(full, sizeof(full), "%s: %s%s", p->file,
			 error ? "" : "warning: ", msg);
	diag_add(p->diag, full);
	if (error)
		p->diag->n_errors++;
	else
		p->diag->n_warnings++;
}

void conf_error(struct conf_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vdiag(p, line, true, fmt, ap);
	va_end(ap);
}

void conf_warning(struct conf_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vdiag(p, line, false, fmt, ap);
	va_end(ap);
}

void conf_diag_free(struct conf_diag *diag)
{
	for (size_t i = 0; i < diag->n_lines; i++)
		free(diag->lines[i]);
	free(diag->lines);
	memset(diag, 0, sizeof(*diag));
}

void conf_diag_print(FILE *out, const struct conf_diag *diag)
{
	for (size_t i = 0; i < diag->n_lines; i++)
		fprintf(out, "%s\n", diag->lines[i]);
}

static void policy_free(struct cgw_bgp_policy *pol)
{
	free(pol->import_prefixes);
	free(pol->export_prefixes);
}

static void tunnel_conf_free(struct cgw_tunnel_conf *t)
{
	free(t->remote_id);
	free(t->local_id);
	free(t->psk_file);
	secret_clear(&t->psk);
	free(t->local_ts);
	free(t->remote_ts);
	free(t->routes);
	policy_free(&t->bgp);
}

void conf_free(struct cgw_conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->n_tunnels; i++)
		tunnel_conf_free(&conf->tunnels[i]);
	free(conf->tunnels);
	for (size_t i = 0; i < conf->n_neighbors; i++)
		policy_free(&conf->neighbors[i].policy);
	free(conf->neighbors);
	free(conf->bgp.networks);
	free(conf->bgp.redistribute_prefixes);
	free(conf->gateway.control_socket);
	free(conf->gateway.local_id);
	free(conf->path);
	free(conf);
}

static void parser_cleanup(struct conf_parser *p)
{
	for (size_t i = 0; p->conf && i < p->conf->n_tunnels; i++) {
		char *psk = p->tb[i].psk_inline;
		if (psk) {
			sodium_memzero(psk, strlen(psk));
			free(psk);
		}
	}
	free(p->tb);
	free(p->nb);
}

static unsigned diag_line_no(const char *line, size_t prefix)
{
	return strtoul(line + prefix, NULL, 10);
}

/* Order this load's messages by line (stable), as a reader expects. */
static void diag_sort(struct conf_diag *d, size_t from, const char *file)
{
	size_t prefix = strlen(file) + 1;

	for (size_t i = from + 1; i < d->n_lines; i++) {
		char *cur = d->lines[i];
		unsigned ln = diag_line_no(cur, prefix);
		size_t j = i;
		while (j > from && diag_line_no(d->lines[j - 1], prefix) > ln) {
			d->lines[j] = d->lines[j - 1];
			j--;
		}
		d->lines[j] = cur;
	}
}

struct cgw_conf *conf_load_buffer(const char *name, const char *text, size_t len,
				  unsigned flags, struct conf_diag *diag)
{
	struct conf_parser p = {
		.file = name, .flags = flags, .diag = diag,
		.text = text, .len = len,
	};

	p.conf = calloc(1, sizeof(*p.conf));
	if (!p.conf || !(p.conf->path = strdup(name))) {
		conf_error(&p, 0, "out of memory");
		conf_free(p.conf);
		return NULL;
	}
	size_t first = diag->n_lines;
	conf_parse_text(&p);
	conf_validate(&p);
	parser_cleanup(&p);
	diag_sort(diag, first, name);
	if (diag->n_errors) {
		conf_free(p.conf);
		return NULL;
	}
	return p.conf;
}

/* Read a whole regular file (bounded) into a NUL-terminated buffer. */
static int read_file(const char *path, char **out, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf = NULL;
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st->st_size > CONF_MAX_FILE) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st->st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	n = read(fd, buf, (size_t)st->st_size);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	*out = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

struct cgw_conf *conf_load(const char *path, unsigned flags, struct conf_diag *diag)
{
	struct conf_parser p = { .file = path, .diag = diag };
	struct cgw_conf *conf;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, &text, &len, &st);
	if (r < 0) {
		conf_error(&p, 0, "cannot read: %s", r == -EINVAL ?
			   "not a regular file" : strerror(-r));
		return NULL;
	}
	conf = conf_load_buffer(path, text, len, flags, diag);
	/* The text may hold inline PSKs. */
	sodium_memzero(text, len);
	free(text);
	if (conf && (flags & CONF_CHECK_PERMS) && (st.st_mode & 077)) {
		bool has_psk = false;
		for (size_t i = 0; i < conf->n_tunnels; i++)
			has_psk |= conf->tunnels[i].psk_file == NULL;
		if (has_psk) {
			conf_error(&p, 0, "holds a PSK but is readable by group or others "
				   "(mode %04o): chmod 600 %s, or move the keys to psk-file",
				   st.st_mode & 07777, path);
			conf_free(conf);
			return NULL;
		}
	}
	return conf;
}

const struct cgw_tunnel_conf *conf_tunnel_find(const struct cgw_conf *conf,
					       const char *name)
{
	for (size_t i = 0; i < conf->n_tunnels; i++)
		if (strcmp(conf->tunnels[i].name, name) == 0)
			return &conf->tunnels[i];
	return NULL;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool addr_eq(const struct cgw_addr *a, const struct cgw_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	if (a->family == AF_INET6)
		return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
	return true;
}

static bool prefix_eq(const struct cgw_prefix *a, const struct cgw_prefix *b)
{
	return a->len == b->len && addr_eq(&a->addr, &b->addr);
}

static bool prefixes_eq(const struct cgw_prefix *a, size_t na,
			const struct cgw_prefix *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!prefix_eq(&a[i], &b[i]))
			return false;
	return true;
}

bool conf_tunnel_equal(const struct cgw_tunnel_conf *a,
		       const struct cgw_tunnel_conf *b)
{
	return strcmp(a->name, b->name) == 0 &&
	       addr_eq(&a->remote, &b->remote) &&
	       str_eq(a->remote_id, b->remote_id) &&
	       str_eq(a->local_id, b->local_id) &&
	       secret_equal(&a->psk, &b->psk) &&
	       prefix_eq(&a->inside, &b->inside) &&
	       addr_eq(&a->local_inside, &b->local_inside) &&
	       addr_eq(&a->remote_inside, &b->remote_inside) &&
	       strcmp(a->vti, b->vti) == 0 &&
	       a->mark == b->mark && a->mtu == b->mtu &&
	       memcmp(&a->ike, &b->ike, sizeof(a->ike)) == 0 &&
	       memcmp(&a->esp, &b->esp, sizeof(a->esp)) == 0 &&
	       a->ike_lifetime == b->ike_lifetime &&
	       a->esp_lifetime == b->esp_lifetime &&
	       a->rekey_margin == b->rekey_margin &&
	       a->rekey_fuzz == b->rekey_fuzz &&
	       a->replay_window == b->replay_window &&
	       a->dpd_delay == b->dpd_delay && a->dpd_timeout == b->dpd_timeout &&
	       a->dpd_action == b->dpd_action && a->startup == b->startup &&
	       a->liveness_probe == b->liveness_probe &&
	       prefixes_eq(a->local_ts, a->n_local_ts, b->local_ts, b->n_local_ts) &&
	       prefixes_eq(a->remote_ts, a->n_remote_ts, b->remote_ts, b->n_remote_ts) &&
	       prefixes_eq(a->routes, a->n_routes, b->routes, b->n_routes) &&
	       a->route_metric == b->route_metric;
}

static bool policy_eq(const struct cgw_bgp_policy *a, const struct cgw_bgp_policy *b)
{
	return a->max_prefix_in == b->max_prefix_in &&
	       a->max_prefix_out == b->max_prefix_out &&
	       a->has_med == b->has_med && (!a->has_med || a->med == b->med) &&
	       a->prepend == b->prepend &&
	       a->has_local_pref == b->has_local_pref &&
	       (!a->has_local_pref || a->local_pref == b->local_pref) &&
	       a->import_none == b->import_none &&
	       prefixes_eq(a->import_prefixes, a->n_import_prefixes,
			   b->import_prefixes, b->n_import_prefixes) &&
	       a->export == b->export &&
	       prefixes_eq(a->export_prefixes, a->n_export_prefixes,
			   b->export_prefixes, b->n_export_prefixes);
}

bool conf_tunnel_bgp_equal(const struct cgw_tunnel_conf *a,
			   const struct cgw_tunnel_conf *b)
{
	return a->bgp_peer_asn == b->bgp_peer_asn &&
	       a->bgp_hold_time == b->bgp_hold_time &&
	       prefix_eq(&a->inside, &b->inside) &&
	       addr_eq(&a->local_inside, &b->local_inside) &&
	       addr_eq(&a->remote_inside, &b->remote_inside) &&
	       strcmp(a->vti, b->vti) == 0 &&
	       policy_eq(&a->bgp, &b->bgp);
}

const struct cgw_neighbor_conf *conf_neighbor_find(const struct cgw_conf *conf,
						   const char *name)
{
	for (size_t i = 0; i < conf->n_neighbors; i++)
		if (strcmp(conf->neighbors[i].name, name) == 0)
			return &conf->neighbors[i];
	return NULL;
}

bool conf_neighbor_equal(const struct cgw_neighbor_conf *a,
			 const struct cgw_neighbor_conf *b)
{
	return strcmp(a->name, b->name) == 0 &&
	       addr_eq(&a->address, &b->address) &&
	       a->remote_asn == b->remote_asn &&
	       addr_eq(&a->local_address, &b->local_address) &&
	       a->port == b->port && a->hold_time == b->hold_time &&
	       a->passive == b->passive && a->multihop == b->multihop &&
	       policy_eq(&a->policy, &b->policy);
}

bool conf_bgp_equal(const struct cgw_bgp_conf *a, const struct cgw_bgp_conf *b)
{
	return a->enabled == b->enabled && a->asn == b->asn &&
	       a->router_id.s_addr == b->router_id.s_addr &&
	       prefixes_eq(a->networks, a->n_networks, b->networks, b->n_networks) &&
	       a->network_mode == b->network_mode &&
	       a->redistribute == b->redistribute &&
	       prefixes_eq(a->redistribute_prefixes, a->n_redistribute_prefixes,
			   b->redistribute_prefixes, b->n_redistribute_prefixes) &&
	       a->ecmp == b->ecmp && a->max_paths == b->max_paths &&
	       a->always_compare_med == b->always_compare_med &&
	       a->table == b->table && a->metric == b->metric &&
	       a->graceful_restart == b->graceful_restart &&
	       a->restart_time == b->restart_time &&
	       a->listen_port == b->listen_port;
}

/* outer covers inner: same family, no longer, same leading bits. */
static bool prefix_covers(const struct cgw_prefix *outer, const struct cgw_prefix *inner)
{
	struct cgw_prefix q = *inner;

	if (outer->addr.family != inner->addr.family || outer->len > inner->len)
		return false;
	q.len = outer->len;
	conf_prefix_mask(&q);
	return addr_eq(&q.addr, &outer->addr);
}

bool conf_prefix_in_list(const struct cgw_prefix *p, const struct cgw_prefix *list,
			 size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (prefix_covers(&list[i], p))
			return true;
	return false;
}

const char *conf_addr_str(const struct cgw_addr *a, char *buf, size_t len)
{
	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, &a->v4, buf, (socklen_t)len);
	else
		snprintf(buf, len, "(none)");
	return buf;
}

const char *conf_prefix_str(const struct cgw_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	conf_addr_str(&p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

int conf_parse_addr(const char *s, struct cgw_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int conf_parse_prefix(const char *s, struct cgw_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	uint32_t len;
	size_t alen;

	if (!slash)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (conf_parse_addr(buf, &out->addr) < 0)
		return -EINVAL;
	if (conf_parse_u32(slash + 1, &len) < 0 ||
	    len > (out->addr.family == AF_INET ? 32u : 128u))
		return -ERANGE;
	out->len = (uint8_t)len;
	return 0;
}

bool conf_prefix_is_network(const struct cgw_prefix *p)
{
	const uint8_t *b = (const uint8_t *)&p->addr.v4;
	unsigned bits = p->addr.family == AF_INET ? 32 : 128;

	for (unsigned i = p->len; i < bits; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

void conf_prefix_mask(struct cgw_prefix *p)
{
	uint8_t *b = (uint8_t *)&p->addr.v4;
	unsigned bits = p->addr.family == AF_INET ? 32 : 128;

	for (unsigned i = p->len; i < bits; i++)
		b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

const char *conf_startup_name(enum cgw_startup s)
{
	return s == CGW_STARTUP_START ? "start" : "add";
}

const char *conf_dpd_action_name(enum cgw_dpd_action a)
{
	switch (a) {
	case CGW_DPD_RESTART:
		return "restart";
	case CGW_DPD_CLEAR:
		return "clear";
	case CGW_DPD_HOLD:
		return "hold";
	}
	return "?";
}

int conf_parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {	/* marks, often hex */
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		v = strtoull(s + 2, &end, 16);
	} else if (!isdigit((unsigned char)s[0])) {
		return -EINVAL;
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno || *end || end == s)
		return -EINVAL;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_duration(const char *s, uint32_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		return -EINVAL;
	if (v > UINT32_MAX / mult)
		return -ERANGE;
	*out = (uint32_t)(v * mult);
	return 0;
}
