/*
 * One Libreswan conn -> one cgw tunnel. Keys are looked up with
 * inheritance (own, also=, %default); left is local unless the conn is
 * written the other way round (right=%defaultroute, or only rightvti).
 * Every key the conn sees is either translated, covered by what cgw does
 * anyway (vti-routing, keyingtries, reqid, ...), or reported as a warning
 * with its file:line.
 */
#include "import/libreswan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct conn_st {
	struct ls_ctx *x;
	const struct ls_conn *c;
	struct imp_conf *conf;
	struct imp_vpn *v;
	struct imp_tunnel *t;
	bool swap;			/* right is local */
	bool failed;
};

/* Keys cgw covers by itself: no warning. */
static const char *const subsumed[] = {
	"vti-routing", "vti-shared", "keyingtries", "fragmentation", "narrowing",
	"reqid", "ikepad", "leftnexthop", "rightnexthop", "sha2-truncbug",
	"phase2", "also", "nat-ikev1-method", "decap-dscp", "nopmtudisc",
};

/* Keys lsconn.c translates (left/right as local/remote). */
static const char *const translated[] = {
	"left", "right", "leftid", "rightid", "authby", "ike", "esp", "phase2alg",
	"pfs", "ikelifetime", "salifetime", "keylife", "lifetime", "ipsec-lifetime",
	"rekeymargin", "rekeyfuzz", "replay-window", "dpddelay", "dpdtimeout",
	"dpdaction", "retransmit-timeout", "mark", "mark-in", "mark-out",
	"vti-interface", "ipsec-interface", "leftvti", "rightvti",
	"leftinterface-ip", "auto", "keyexchange", "ikev2", "leftsubnet",
	"rightsubnet", "type",
};

static const struct {
	const char *key;
	const char *why;
} explained[] = {
	{ "leftupdown", "cgw sets up the VTI, routes and sysctls itself" },
	{ "leftsourceip", "cgw does not set a preferred source address on routes" },
	{ "leftcert", "certificates: cgw authenticates with PSKs" },
	{ "leftsendcert", "certificates: cgw authenticates with PSKs" },
	{ "rightca", "certificates: cgw authenticates with PSKs" },
	{ "leftrsasigkey", "raw RSA keys: cgw authenticates with PSKs" },
	{ "rightrsasigkey", "raw RSA keys: cgw authenticates with PSKs" },
	{ "overlapip", "cgw keeps one SA pair per tunnel" },
	{ "auth", "ESP is the only protocol (AWS's template line, drop it)" },
	{ "compress", "no IPComp" },
	{ "mobike", "AWS does not do MOBIKE" },
	{ "encapsulation", "cgw uses NAT-T when it detects a NAT" },
	{ "rekey", "cgw always rekeys before expiry" },
	{ "leftsubnets", "several subnets per conn: use one cgw tunnel with routes" },
	{ "rightsubnets", "several subnets per conn: use one cgw tunnel with routes" },
};

static bool in(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* "leftvti" as seen from our side: "rightvti" when the conn is reversed. */
static void side_key(const struct conn_st *st, const char *key, char *out, size_t len)
{
	if (st->swap && strncmp(key, "left", 4) == 0)
		snprintf(out, len, "right%s", key + 4);
	else if (st->swap && strncmp(key, "right", 5) == 0)
		snprintf(out, len, "left%s", key + 5);
	else
		snprintf(out, len, "%s", key);
}

static struct ls_kv *get(struct conn_st *st, const char *key)
{
	char k[64];

	side_key(st, key, k, sizeof(k));
	return ls_get(st->x, st->c, k);
}

static const char *val(struct conn_st *st, const char *key)
{
	struct ls_kv *kv = get(st, key);

	return kv ? kv->val : "";
}

static void warn_kv(struct conn_st *st, struct ls_kv *kv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_kv(struct conn_st *st, struct ls_kv *kv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_kv(struct conn_st *st, struct ls_kv *kv, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (!kv || kv->warned)
		return;
	kv->warned = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	imp_warn(st->x->d, kv->file, kv->line, "conn %s: %s=%s: %s", st->c->name,
		 kv->key, kv->val, msg);
}

static void fail_kv(struct conn_st *st, struct ls_kv *kv, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	imp_error(st->x->d, kv ? kv->file : st->c->file, kv ? kv->line : st->c->line,
		  "conn %s: %s%s%s", st->c->name, kv ? kv->key : "", kv ? ": " : "", msg);
	st->failed = true;
}

static void classify(struct ls_ctx *x, const struct ls_conn *c, struct ls_kv *kv, void *arg)
{
	struct conn_st *st = arg;
	char k[64];

	side_key(st, kv->key, k, sizeof(k));
	if (ls_placeholder(kv->val) && in(k, translated, ARRAY_SIZE(translated)))
		return fail_kv(st, kv, "'%s' is an unfilled template placeholder", kv->val);
	if (in(k, translated, ARRAY_SIZE(translated)) || in(k, subsumed, ARRAY_SIZE(subsumed)))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(explained); i++) {
		if (strcmp(k, explained[i].key) != 0)
			continue;
		if ((strcmp(k, "mobike") == 0 || strcmp(k, "compress") == 0 ||
		     strcmp(k, "rekey") == 0 || strcmp(k, "overlapip") == 0) &&
		    strcmp(kv->val, strcmp(k, "rekey") == 0 ? "yes" : "no") == 0)
			return;
		if (strcmp(k, "auth") == 0 && strcmp(kv->val, "esp") == 0)
			return;
		if (strcmp(k, "encapsulation") == 0 && strcmp(kv->val, "auto") == 0)
			return;
		return warn_kv(st, kv, "not translated: %s", explained[i].why);
	}
	warn_kv(st, kv, "%s", "not translated (cgw has no equivalent)");
}

/* ---- values ---- */

static bool ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

/* "8h", "28800s", "9m", "1d" or plain seconds. */
static bool duration(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;
	unsigned long mul = 1;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end == 's' || *end == 'm' || *end == 'h' || *end == 'd')
		mul = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1, end++;
	if (*end || v > 86400 * 365)
		return false;
	*out = (uint32_t)(v * mul);
	return true;
}

static void addresses(struct conn_st *st)
{
	struct ls_kv *r = get(st, "right"), *l = get(st, "left");
	const char *id = val(st, "leftid"), *rid = val(st, "rightid");

	if (!r || !ipv4(r->val))
		return fail_kv(st, r, "%s", "cgw needs the AWS tunnel's IPv4 outside "
			       "address here (right=)");
	snprintf(st->t->remote, sizeof(st->t->remote), "%s", r->val);
	if (*rid && strcmp(rid, r->val) != 0 && strcmp(rid, "%any") != 0 &&
	    strcmp(rid, "%fromcert") != 0)
		snprintf(st->t->remote_id, sizeof(st->t->remote_id), "%s", rid);
	if (l && ipv4(l->val)) {
		if (!st->v->local_ip[0])
			snprintf(st->v->local_ip, sizeof(st->v->local_ip), "%s", l->val);
		else if (strcmp(st->v->local_ip, l->val) != 0)
			warn_kv(st, l, "another conn leaves from %s: cgw has one "
				"local-address", st->v->local_ip);
	} else {
		st->conf->no_local_address = true;
	}
	if (*id && strcmp(id, "%any") != 0 && strcmp(id, "%fromcert") != 0) {
		if (id[0] == '@')
			id++;
		if (!st->v->local_id[0])
			snprintf(st->v->local_id, sizeof(st->v->local_id), "%s", id);
		else if (strcmp(st->v->local_id, id) != 0)
			snprintf(st->t->local_id, sizeof(st->t->local_id), "%s", id);
	}
}

static void psk(struct conn_st *st)
{
	const char *local[4] = { val(st, "leftid"), val(st, "left") };
	const char *remote[2] = { val(st, "right"), val(st, "rightid") };
	const struct ls_secret *s;
	struct ls_kv *auth = get(st, "authby");

	if (auth && strcmp(auth->val, "secret") != 0 && strcmp(auth->val, "psk") != 0)
		return fail_kv(st, auth, "%s", "not a pre-shared key: cgw authenticates "
			       "with PSKs only; conn not imported");
	if (local[0][0] == '@')
		local[2] = local[0] + 1;
	if (!st->x->secrets_name)
		return fail_kv(st, NULL, "%s", "no PSK: give --secrets FILE (ipsec.secrets)");
	s = ls_secret_find(st->x, local, 3, remote, 2);
	if (!s)
		return fail_kv(st, NULL, "no PSK for %s in the secrets file", remote[0]);
	if (!auth)
		imp_warn(st->x->d, st->c->file, st->c->line, "conn %s: no authby= "
			 "(Libreswan's default is certificates): using the PSK from %s:%u",
			 st->c->name, s->file, s->line);
	imp_set_secret(&st->t->psk, s->psk, strlen(s->psk));
}

static void inside(struct conn_st *st)
{
	struct ls_kv *lv = get(st, "leftvti"), *rv = get(st, "rightvti");
	char buf[IMP_ADDR_MAX], net[INET_ADDRSTRLEN], *slash;
	struct in_addr a;

	if (!lv)
		lv = get(st, "leftinterface-ip");
	if (!lv)
		return;		/* FRR may still tell us; plan.c checks */
	snprintf(buf, sizeof(buf), "%s", lv->val);
	slash = strchr(buf, '/');
	if (!slash || strcmp(slash, "/30") != 0 || (*slash = '\0', inet_pton(AF_INET, buf, &a) != 1))
		return fail_kv(st, lv, "%s", "expected the customer side's inside "
			       "address with /30 (e.g. 169.254.10.2/30)");
	snprintf(st->t->local_inside, sizeof(st->t->local_inside), "%s", buf);
	a.s_addr &= htonl(0xfffffffc);
	inet_ntop(AF_INET, &a, net, sizeof(net));
	snprintf(st->t->inside, sizeof(st->t->inside), "%s/30", net);
	if (rv) {
		snprintf(buf, sizeof(buf), "%s", rv->val);
		if ((slash = strchr(buf, '/')))
			*slash = '\0';
		if (ipv4(buf))
			snprintf(st->t->remote_inside, sizeof(st->t->remote_inside), "%s", buf);
	}
}

static void device(struct conn_st *st)
{
	struct ls_kv *vti = get(st, "vti-interface"), *xi = get(st, "ipsec-interface");
	char name[32] = "";

	if (vti)
		snprintf(name, sizeof(name), "%s", vti->val);
	else if (xi && strcmp(xi->val, "no") != 0)
		snprintf(name, sizeof(name), "ipsec%s", strcmp(xi->val, "yes") == 0 ? "1" :
			 xi->val);
	if (!name[0])
		return;
	if (strlen(name) >= sizeof(st->t->vti) || strpbrk(name, "/ \t:")) {
		warn_kv(st, vti ? vti : xi, "%s", "not a usable interface name: cgw's "
			"default is used");
		return;
	}
	snprintf(st->t->vti, sizeof(st->t->vti), "%s", name);
	if (xi && !vti)
		imp_note(&st->t->notes, &st->t->n_notes, "Libreswan used XFRM interface "
			 "%s (ipsec-interface=%s); cgw makes a VTI of that name", name, xi->val);
}

static bool parse_mark(const char *s, uint32_t *mark, uint32_t *mask)
{
	char *end;
	unsigned long long v;

	v = strtoull(s, &end, 0);
	if (end == s || v > UINT32_MAX)
		return false;
	*mark = (uint32_t)v;
	*mask = UINT32_MAX;
	if (*end == '/') {
		s = end + 1;
		v = strtoull(s, &end, 0);
		if (end == s || v > UINT32_MAX)
			return false;
		*mask = (uint32_t)v;
	}
	return *end == '\0';
}

static void mark(struct conn_st *st)
{
	struct ls_kv *m = get(st, "mark"), *mi = get(st, "mark-in"), *mo = get(st, "mark-out");
	uint32_t v = 0, mask = 0, v2 = 0, mask2 = 0;

	if (!m && mi && mo && parse_mark(mi->val, &v, &mask) &&
	    parse_mark(mo->val, &v2, &mask2) && v != v2)
		return warn_kv(st, mi, "%s", "different in and out marks: cgw uses one "
			       "mark per tunnel; its default is used");
	if (!m)
		m = mi ? mi : mo;
	if (!m)
		return;
	if (!parse_mark(m->val, &v, &mask) || v == 0)
		return warn_kv(st, m, "%s", "not a usable mark: cgw's default is used");
	if (mask != UINT32_MAX)
		warn_kv(st, m, "%s", "cgw matches the whole 32-bit mark: the mask is dropped");
	st->t->mark = v;
}

static const char *first_dh(const char *prop)
{
	static const char *const dh[] = { "modp", "ecp", "x25519" };
	static char out[32];
	char buf[IMP_PROP_MAX], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", prop);
	for (char *t = strtok_r(buf, "-,", &save); t; t = strtok_r(NULL, "-,", &save))
		for (size_t i = 0; i < ARRAY_SIZE(dh); i++)
			if (strncmp(t, dh[i], strlen(dh[i])) == 0) {
				snprintf(out, sizeof(out), "%s", t);
				return out;
			}
	return "modp2048";
}

static void one_proposal(struct conn_st *st, struct ls_kv *kv, enum imp_prop_kind kind,
			 bool pfs, const char *ike_dh)
{
	char *out = kind == IMP_IKE ? st->t->o.ike : st->t->o.esp;
	char *why = kind == IMP_IKE ? st->t->o.ike_why : st->t->o.esp_why;
	char notes[256], err[256];

	if (imp_libreswan_proposal(kind, kv->val, pfs, ike_dh, out, IMP_PROP_MAX,
				   notes, sizeof(notes), err, sizeof(err)) < 0) {
		out[0] = '\0';
		return warn_kv(st, kv, "%s: cgw's default is used", err);
	}
	if (snprintf(why, 160, "from %s=%s (%s:%u)%s%s", kv->key, kv->val, kv->file,
		     kv->line, notes[0] ? "; " : "", notes) >= 160)
		snprintf(why + 150, 10, "...");
}

static void proposals(struct conn_st *st)
{
	struct ls_kv *ike = get(st, "ike"), *esp = get(st, "esp"), *p2 = get(st, "phase2alg");
	struct ls_kv *pfs = get(st, "pfs"), *ph2 = get(st, "phase2");

	if (ph2 && strcmp(ph2->val, "esp") != 0)
		return fail_kv(st, ph2, "%s", "cgw does ESP only");
	if (esp && p2)
		warn_kv(st, p2, "%s", "esp= is given too: phase2alg= is not used");
	if (ike)
		one_proposal(st, ike, IMP_IKE, true, NULL);
	if (esp || p2)
		one_proposal(st, esp ? esp : p2, IMP_ESP, !pfs || strcmp(pfs->val, "no") != 0,
			     first_dh(st->t->o.ike[0] ? st->t->o.ike : "modp2048"));
}

static void lifetime(struct conn_st *st, struct ls_kv *kv, uint32_t aws, uint32_t min,
		     uint32_t *out)
{
	uint32_t v;

	if (!kv)
		return;
	if (!duration(kv->val, &v) || v < min || v > 86400)
		return warn_kv(st, kv, "%s", "not a usable duration: cgw's default is used");
	if (v >= aws) {
		imp_note(&st->t->notes, &st->t->n_notes, "%s=%s (%s:%u) is AWS's own "
			 "lifetime or more: cgw's default (a little less) makes cgw the "
			 "side that rekeys", kv->key, kv->val, kv->file, kv->line);
		return;
	}
	*out = v;
}

static void timers(struct conn_st *st)
{
	struct ls_kv *esp = get(st, "ipsec-lifetime"), *kv;
	struct imp_opts *o = &st->t->o;
	uint32_t v, ike_life, esp_life;

	if (!esp && !(esp = get(st, "salifetime")) && !(esp = get(st, "keylife")))
		esp = get(st, "lifetime");
	lifetime(st, get(st, "ikelifetime"), 28800, 60, &o->ike_lifetime);
	lifetime(st, esp, 3600, 30, &o->esp_lifetime);
	ike_life = o->ike_lifetime ? o->ike_lifetime : 28000;
	esp_life = o->esp_lifetime ? o->esp_lifetime : 3000;
	if (esp_life >= ike_life) {	/* cgw needs esp-lifetime < ike-lifetime */
		o->esp_lifetime = esp_life = ike_life / 2;
		imp_warn(st->x->d, esp ? esp->file : st->c->file, esp ? esp->line : st->c->line,
			 "conn %s: the ESP lifetime is not shorter than the IKE lifetime "
			 "(%us): esp-lifetime set to %us", st->c->name, ike_life, esp_life);
	}
	if ((kv = get(st, "rekeymargin")) && duration(kv->val, &v) && v >= 1) {
		if (v > esp_life / 2)
			warn_kv(st, kv, "%s", "over half the ESP lifetime: cgw's default is used");
		else
			o->rekey_margin = v;
	}
	if ((kv = get(st, "rekeyfuzz")) && (v = (uint32_t)strtoul(kv->val, NULL, 10)) <= 100)
		o->rekey_fuzz = (int)v;
	if ((kv = get(st, "replay-window")) && (v = (uint32_t)strtoul(kv->val, NULL, 10)) <= 4096)
		o->replay_window = v ? v : 0;
}

static void dpd(struct conn_st *st)
{
	struct ls_kv *delay = get(st, "dpddelay"), *to = get(st, "dpdtimeout");
	struct ls_kv *act = get(st, "dpdaction"), *rt = get(st, "retransmit-timeout");
	struct imp_opts *o = &st->t->o;
	uint32_t v;

	if (delay && duration(delay->val, &v) && v >= 1 && v <= 3600 && v != 10)
		o->dpd_delay = v;
	if (!to && rt)
		to = rt;
	if (to && duration(to->val, &v) && v >= 1 && v <= 3600 && v != 30)
		o->dpd_timeout = v;
	if ((o->dpd_timeout ? o->dpd_timeout : 30) < (o->dpd_delay ? o->dpd_delay : 10)) {
		warn_kv(st, to ? to : delay, "%s", "timeout below the delay: cgw's defaults "
			"are used");
		o->dpd_delay = o->dpd_timeout = 0;
	}
	if (!act || strcmp(act->val, "restart") == 0)
		return;
	if (strcmp(act->val, "clear") == 0 || strcmp(act->val, "hold") == 0)
		o->dpd_action = strcmp(act->val, "clear") == 0 ? "clear" : "hold";
	else if (strcmp(act->val, "restart_by_peer") != 0)
		warn_kv(st, act, "%s", "not translated: cgw restarts the tunnel");
}

static void selectors(struct conn_st *st)
{
	const char *l = val(st, "leftsubnet"), *r = val(st, "rightsubnet");
	char buf[256], *save = NULL;

	if (*l && strcmp(l, "0.0.0.0/0") != 0)
		snprintf(st->t->local_ts, sizeof(st->t->local_ts), "%s", l);
	if (!*r || strcmp(r, "0.0.0.0/0") == 0)
		return;
	snprintf(st->t->remote_ts, sizeof(st->t->remote_ts), "%s", r);
	snprintf(buf, sizeof(buf), "%s", r);
	for (char *p = strtok_r(buf, ", \t", &save); p; p = strtok_r(NULL, ", \t", &save))
		imp_prefixes_add(&st->t->routes, p);
	imp_note(&st->t->notes, &st->t->n_notes, "policy-based in Libreswan "
		 "(rightsubnet=%s): routed into this tunnel, selectors kept", r);
}

static void protocol(struct conn_st *st)
{
	struct ls_kv *ke = get(st, "keyexchange"), *v2 = get(st, "ikev2"), *ty = get(st, "type");
	struct ls_kv *au = get(st, "auto");

	if (ty && strcmp(ty->val, "tunnel") != 0)
		return fail_kv(st, ty, "%s", "cgw does tunnel mode only");
	if ((ke && strcmp(ke->val, "ikev2") != 0) ||
	    (v2 && (strcmp(v2->val, "no") == 0 || strcmp(v2->val, "never") == 0)))
		warn_kv(st, ke ? ke : v2, "%s", "IKEv1: cgw speaks IKEv2, which AWS "
			"accepts by default");
	if (!au)
		imp_warn(st->x->d, st->c->file, st->c->line, "conn %s: no auto= "
			 "(Libreswan would not load it): imported, and cgw starts it",
			 st->c->name);
	else if (strcmp(au->val, "add") == 0)
		st->t->o.startup = "add";
	else if (strcmp(au->val, "start") != 0 && strcmp(au->val, "up") != 0)
		warn_kv(st, au, "%s", "cgw starts the tunnel (startup = start)");
}

/* Reversed conns: our side written as right=. */
static bool reversed(struct ls_ctx *x, const struct ls_conn *c)
{
	struct ls_kv *l = ls_get(x, c, "left"), *r = ls_get(x, c, "right");
	struct ls_kv *lv = ls_get(x, c, "leftvti"), *rv = ls_get(x, c, "rightvti");

	if (r && r->val[0] == '%' && (!l || l->val[0] != '%'))
		return true;
	return rv && !lv && (!l || l->val[0] != '%');
}

int ls_conn_import(struct ls_ctx *x, const struct ls_conn *c, struct imp_conf *conf,
		   struct imp_vpn *v)
{
	struct conn_st st = { .x = x, .c = c, .conf = conf, .v = v };
	struct ls_kv *au = ls_get(x, c, "auto");

	if (au && strcmp(au->val, "ignore") == 0) {
		imp_warn(x->d, au->file, au->line, "conn %s: auto=ignore: not imported",
			 c->name);
		return 0;
	}
	if (!(st.t = imp_vpn_add_tunnel(v)))
		return -ENOMEM;
	st.swap = reversed(x, c);
	if (st.swap)
		imp_warn(x->d, c->file, c->line, "conn %s: our side is 'right' here: "
			 "read the other way round", c->name);
	snprintf(st.t->name, sizeof(st.t->name), "%.31s", c->name);
	snprintf(st.t->src, sizeof(st.t->src), "%s:%u", c->file, c->line);
	ls_each(x, c, classify, &st);
	if (!st.failed)
		addresses(&st);
	if (!st.failed)
		psk(&st);
	if (!st.failed) {
		inside(&st);
		device(&st);
		mark(&st);
		proposals(&st);
		timers(&st);
		dpd(&st);
		selectors(&st);
		protocol(&st);
	}
	if (st.failed) {
		imp_tunnel_free(st.t);
		v->n_tunnels--;
		return -EINVAL;
	}
	return 0;
}
