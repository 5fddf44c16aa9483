/*
 * The model -> cgw.conf text: [gateway], [bgp], one [tunnel NAME] per
 * tunnel, with a comment wherever a value came from somewhere a reader
 * should know about. Keys equal to cgw's defaults are left out, except
 * ike/esp, which are always written so the suite is visible. PSKs are
 * referenced with psk-file, never written here.
 */
#include "import/import.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define DEFAULT_IKE "aes256-sha256-modp2048"
#define DEFAULT_ESP "aes256gcm16-modp2048"
#define COMMENT_WIDTH 76

/* A growing text buffer; old copies are wiped (it may hold PSKs). */
struct sb {
	char *s;
	size_t len, cap;
	bool failed;
};

static void sb_printf(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!b->s || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap : 4096);
		char *s;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (!(s = malloc(cap))) {
			b->failed = true;
			return;
		}
		if (b->s) {
			memcpy(s, b->s, b->len);
			sodium_memzero(b->s, b->cap);
			free(b->s);
		}
		b->s = s;
		b->cap = cap;
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static void comment_lines(struct sb *b, const char *p);

/*
 * A comment, word-wrapped to short "# " lines (cgw.conf lines are short);
 * control characters from the sources become '?'.
 */
static void comment(struct sb *b, const char *text)
{
	char *clean = strdup(text), *p;

	if (!clean) {
		b->failed = true;
		return;
	}
	for (p = clean; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	comment_lines(b, clean);
	free(clean);
}

static void comment_lines(struct sb *b, const char *p)
{
	while (*p) {
		size_t n = strlen(p), cut = n;
		if (n > COMMENT_WIDTH) {
			cut = COMMENT_WIDTH;
			while (cut > 20 && p[cut] != ' ')
				cut--;
			if (p[cut] != ' ')
				cut = COMMENT_WIDTH;
		}
		sb_printf(b, "# %.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void notes(struct sb *b, char *const *n, size_t count)
{
	for (size_t i = 0; i < count; i++)
		comment(b, n[i]);
}

static void header(struct sb *b, const struct imp_conf *c, const struct imp_emit_opts *o)
{
	char line[sizeof(c->source) + 128];

	snprintf(line, sizeof(line), "cgw.conf written by `cgwctl import` from %s%s%s.",
		 c->kind ? c->kind : "configuration", c->source[0] ? ": " : "", c->source);
	comment(b, line);
	if (o->header)
		comment(b, o->header);
	sb_printf(b, "# Check it with `cgwd -n -c FILE`. Importer defaults: tunnels "
		  "aws-1, aws-2 (<vpn-id>-N\n# for several connections), vti1, vti2, "
		  "marks 100, 200; inside /30: AWS .1, us .2.\n");
}

static void gateway(struct sb *b, const struct imp_conf *c)
{
	if (!c->local_address[0] && !c->local_id[0])
		return;
	sb_printf(b, "\n[gateway]\n");
	if (c->local_address[0])
		sb_printf(b, "# The customer gateway's address; behind NAT, set this "
			  "host's own\n# address here and keep local-id.\n"
			  "local-address = %s\n", c->local_address);
	else if (c->no_local_address)
		sb_printf(b, "# local-address: the address of the default route "
			  "(Libreswan's %%defaultroute)\n");
	if (c->local_id[0])
		sb_printf(b, "local-id = %s\n", c->local_id);
}

static void bgp(struct sb *b, const struct imp_conf *c)
{
	if (!c->asn)
		return;
	sb_printf(b, "\n[bgp]\nasn = %u\n", c->asn);
	if (c->router_id[0])
		sb_printf(b, "router-id = %s\n", c->router_id);
	notes(b, c->notes, c->n_notes);
	for (size_t i = 0; i < c->networks.n; i++)
		sb_printf(b, "network = %s\n", c->networks.v[i]);
	if (c->networks.n == 0)
		sb_printf(b, "# The on-prem prefixes to announce to AWS are not in "
			  "this input: add them.\n# network = 192.168.0.0/16\n");
}

/* Is addr host number k of the /30 prefix? (AWS: k=1, customer: k=2) */
static bool host_is(const char *prefix, const char *addr, unsigned k)
{
	char buf[IMP_ADDR_MAX], *slash;
	struct in_addr net, a;

	if (!*addr)
		return true;
	snprintf(buf, sizeof(buf), "%s", prefix);
	if ((slash = strchr(buf, '/')))
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &net) != 1 || inet_pton(AF_INET, addr, &a) != 1)
		return false;
	return ntohl(a.s_addr) == ntohl(net.s_addr) + k;
}

static void proposals(struct sb *b, const struct imp_tunnel *t)
{
	char weak[128], line[200];

	if (t->o.ike[0]) {
		snprintf(line, sizeof(line), "ike: %s", t->o.ike_why);
		comment(b, line);
	}
	else
		sb_printf(b, "# ike/esp: cgw's strong default suite, which AWS accepts "
			  "by default.\n");
	if (imp_proposal_weak(t->o.ike[0] ? t->o.ike : "", weak, sizeof(weak)))
		sb_printf(b, "# weak: %s\n", weak);
	sb_printf(b, "ike = %s\n", t->o.ike[0] ? t->o.ike : DEFAULT_IKE);
	if (t->o.esp[0]) {
		snprintf(line, sizeof(line), "esp: %s", t->o.esp_why);
		comment(b, line);
		if (imp_proposal_weak(t->o.esp, weak, sizeof(weak)))
			sb_printf(b, "# weak: %s\n", weak);
	}
	sb_printf(b, "esp = %s\n", t->o.esp[0] ? t->o.esp : DEFAULT_ESP);
}

static void timers(struct sb *b, const struct imp_opts *o)
{
	if (o->ike_lifetime)
		sb_printf(b, "ike-lifetime = %us\n", o->ike_lifetime);
	if (o->esp_lifetime)
		sb_printf(b, "esp-lifetime = %us\n", o->esp_lifetime);
	if (o->rekey_margin)
		sb_printf(b, "rekey-margin = %us\n", o->rekey_margin);
	if (o->rekey_fuzz >= 0)
		sb_printf(b, "rekey-fuzz = %d\n", o->rekey_fuzz);
	if (o->replay_window)
		sb_printf(b, "replay-window = %u\n", o->replay_window);
	if (o->dpd_delay)
		sb_printf(b, "dpd-delay = %us\n", o->dpd_delay);
	if (o->dpd_timeout)
		sb_printf(b, "dpd-timeout = %us\n", o->dpd_timeout);
	if (o->dpd_action)
		sb_printf(b, "dpd-action = %s\n", o->dpd_action);
	if (o->startup)
		sb_printf(b, "startup = %s\n", o->startup);
}

static void psk_line(struct sb *b, const struct imp_tunnel *t,
		     const struct imp_emit_opts *o)
{
	const char *dir = o->psk_dir ? o->psk_dir : "";
	size_t n = strlen(dir);

	if (o->placeholder_psk)
		sb_printf(b, "psk = placeholder.for.validation\n");
	else
		sb_printf(b, "psk-file = %s%s%s.psk\n", dir,
			  n && dir[n - 1] != '/' ? "/" : "", t->name);
}

static void tunnel(struct sb *b, const struct imp_vpn *v, const struct imp_tunnel *t,
		   const struct imp_emit_opts *o)
{
	sb_printf(b, "\n[tunnel %s]\n", t->name);
	notes(b, t->notes, t->n_notes);
	sb_printf(b, "remote = %s\n", t->remote);
	if (t->remote_id[0])
		sb_printf(b, "remote-id = %s\n", t->remote_id);
	if (t->local_id[0])
		sb_printf(b, "local-id = %s\n", t->local_id);
	psk_line(b, t, o);
	sb_printf(b, "inside = %s\n", t->inside);
	if (!host_is(t->inside, t->local_inside, 2))
		sb_printf(b, "local-inside = %s\n", t->local_inside);
	if (!host_is(t->inside, t->remote_inside, 1))
		sb_printf(b, "remote-inside = %s\n", t->remote_inside);
	sb_printf(b, "vti = %s\nmark = %u\n", t->vti, t->mark);
	proposals(b, t);
	timers(b, &t->o);
	if (t->local_ts[0])
		sb_printf(b, "local-ts = %s\n", t->local_ts);
	if (t->remote_ts[0])
		sb_printf(b, "remote-ts = %s\n", t->remote_ts);
	if (t->peer_asn)
		sb_printf(b, "bgp-peer-asn = %u\n", t->peer_asn);
	if (t->peer_asn)	/* AWS's 30s unless the source said otherwise */
		sb_printf(b, "bgp-hold-time = %us\n", t->o.hold_time_set ? t->o.hold_time : 30);
	for (size_t i = 0; i < t->routes.n; i++)
		sb_printf(b, "route = %s\n", t->routes.v[i]);
	if (v->static_routing && t->routes.n == 0)
		sb_printf(b, "# route = 10.0.0.0/16    # the AWS side's prefixes "
			  "(VPC CIDR): not in this input\n");
}

static void vpn(struct sb *b, const struct imp_vpn *v, const struct imp_emit_opts *o)
{
	char line[sizeof(v->id) + sizeof(v->address) + 16];

	if (v->id[0] && strcmp(v->id, v->address) != 0 && v->address[0])
		snprintf(line, sizeof(line), "---- %s (%s) ----", v->id, v->address);
	else
		snprintf(line, sizeof(line), "---- %s ----", v->id[0] ? v->id : v->address);
	sb_printf(b, "\n");
	comment(b, line);
	if (v->label[0]) {
		snprintf(line, sizeof(line), "Name: %.60s", v->label);
		comment(b, line);
	}
	notes(b, v->notes, v->n_notes);
	if (v->static_routing) {
		sb_printf(b, "# Static routing (no BGP): traffic to the AWS side is "
			  "routed into the tunnels.\n");
		for (size_t i = 0; i < v->onprem.n; i++) {
			snprintf(line, sizeof(line), "AWS routes %s (on-prem) into this VPN.",
				 v->onprem.v[i]);
			comment(b, line);
		}
	}
	for (size_t i = 0; i < v->n_tunnels; i++)
		tunnel(b, v, &v->t[i], o);
}

char *imp_emit(const struct imp_conf *c, const struct imp_emit_opts *o, size_t *len)
{
	struct sb b = { .s = NULL };

	header(&b, c, o);
	gateway(&b, c);
	bgp(&b, c);
	for (size_t i = 0; i < c->n_vpns; i++)
		vpn(&b, &c->vpns[i], o);
	if (b.failed) {
		if (b.s)
			sodium_memzero(b.s, b.cap);
		free(b.s);
		return NULL;
	}
	*len = b.len;
	return b.s;
}
