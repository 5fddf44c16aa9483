/*
 * AWS's CustomerGatewayConfiguration XML (the "native XML format" of
 * CreateVpnConnection/DescribeVpnConnections, also embedded in Terraform
 * state). Read with expat, by element path rather than position; no DTDs
 * or entities beyond XML's own five. The IKE/IPsec algorithm elements are
 * read only to be mentioned: every real sample shows the same legacy
 * suite, not the tunnel's options, so cgw's default proposal is used.
 */
#include "import/import.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <expat.h>
#include <sodium.h>

#include "common/util.h"

#define XML_MAX_DEPTH 16
#define XML_MAX_TEXT 512
#define XML_MAX_TUNNELS 2

struct xml_tun {
	unsigned line;
	char cgw_out[IMP_ADDR_MAX], cgw_in[IMP_ADDR_MAX], cgw_cidr[8];
	char vgw_out[IMP_ADDR_MAX], vgw_in[IMP_ADDR_MAX], vgw_cidr[8];
	char cgw_in6[IMP_ADDR_MAX], vgw_in6[IMP_ADDR_MAX];
	char cgw_asn[16], vgw_asn[16], hold[16];
	char ike_enc[32], ike_auth[32], ike_pfs[32], ike_life[16];
	char esp_enc[32], esp_auth[32], esp_pfs[32], esp_life[16];
	char dpd_interval[16], dpd_retries[16];
	char psk[XML_MAX_TEXT];
	bool has_psk;
};

struct xml_ctx {
	XML_Parser p;
	const char *name;
	struct imp_diag *d;
	char path[512];
	size_t plen[XML_MAX_DEPTH + 1];
	size_t depth;
	char text[XML_MAX_TEXT];
	size_t tlen;
	bool too_long, failed, template;
	int cur;			/* tunnel index, -1 outside one */
	struct xml_tun tun[XML_MAX_TUNNELS];
	size_t n_tun;
	char id[64], cgw_id[64], vgw_id[64], attrs[64];
};

#define TF(f) offsetof(struct xml_tun, f), sizeof(((struct xml_tun *)0)->f)
#define CF(f) offsetof(struct xml_ctx, f), sizeof(((struct xml_ctx *)0)->f)

/* Paths under vpn_connection/ipsec_tunnel/ and where their text goes. */
static const struct {
	const char *path;
	size_t off, size;
} tun_fields[] = {
	{ "customer_gateway/tunnel_outside_address/ip_address", TF(cgw_out) },
	{ "customer_gateway/tunnel_inside_address/ip_address", TF(cgw_in) },
	{ "customer_gateway/tunnel_inside_address/network_cidr", TF(cgw_cidr) },
	{ "customer_gateway/tunnel_inside_ipv6_address/ip_address", TF(cgw_in6) },
	{ "customer_gateway/bgp/asn", TF(cgw_asn) },
	{ "vpn_gateway/tunnel_outside_address/ip_address", TF(vgw_out) },
	{ "vpn_gateway/tunnel_inside_address/ip_address", TF(vgw_in) },
	{ "vpn_gateway/tunnel_inside_address/network_cidr", TF(vgw_cidr) },
	{ "vpn_gateway/tunnel_inside_ipv6_address/ip_address", TF(vgw_in6) },
	{ "vpn_gateway/bgp/asn", TF(vgw_asn) },
	{ "vpn_gateway/bgp/hold_time", TF(hold) },
	{ "ike/encryption_protocol", TF(ike_enc) },
	{ "ike/authentication_protocol", TF(ike_auth) },
	{ "ike/perfect_forward_secrecy", TF(ike_pfs) },
	{ "ike/lifetime", TF(ike_life) },
	{ "ipsec/encryption_protocol", TF(esp_enc) },
	{ "ipsec/authentication_protocol", TF(esp_auth) },
	{ "ipsec/perfect_forward_secrecy", TF(esp_pfs) },
	{ "ipsec/lifetime", TF(esp_life) },
	{ "ipsec/dead_peer_detection/interval", TF(dpd_interval) },
	{ "ipsec/dead_peer_detection/retries", TF(dpd_retries) },
};

static const struct {
	const char *path;
	size_t off, size;
} top_fields[] = {
	{ "vpn_connection/customer_gateway_id", CF(cgw_id) },
	{ "vpn_connection/vpn_gateway_id", CF(vgw_id) },
	{ "vpn_connection/vpn_connection_attributes", CF(attrs) },
};

/* Known and deliberately not used (cgw derives them, or IKEv1 only). */
static const char *const ignored[] = {
	"vpn_connection/vpn_connection_type",
	"vpn_connection/transit_gateway_id",
	"customer_gateway/tunnel_inside_address/network_mask",
	"vpn_gateway/tunnel_inside_address/network_mask",
	"customer_gateway/tunnel_inside_ipv6_address/prefix_length",
	"vpn_gateway/tunnel_inside_ipv6_address/prefix_length",
	"customer_gateway/bgp/hold_time",
	"ike/mode", "ike/pre_shared_key", "ipsec/protocol", "ipsec/mode",
	"ipsec/clear_df_bit", "ipsec/fragmentation_before_encryption",
	"ipsec/tcp_mss_adjustment",
};

static const char *tun_rel(const char *path)
{
	static const char pre[] = "vpn_connection/ipsec_tunnel/";

	return strncmp(path, pre, sizeof(pre) - 1) == 0 ? path + sizeof(pre) - 1 : NULL;
}

static void xml_fail(struct xml_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void xml_fail(struct xml_ctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (x->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	imp_error(x->d, x->name, (unsigned)XML_GetCurrentLineNumber(x->p), "%s", msg);
	x->failed = true;
	XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **attr)
{
	struct xml_ctx *x = ud;
	size_t n = strlen(x->path);

	if (x->depth >= XML_MAX_DEPTH || n + strlen(el) + 2 >= sizeof(x->path))
		return xml_fail(x, "elements nested too deep (at <%s>)", el);
	if (x->depth == 0 && strcmp(el, "vpn_connection") != 0)
		return xml_fail(x, "root element is <%s>, expected <vpn_connection> "
				"(is this AWS's customer gateway configuration?)", el);
	x->plen[x->depth++] = n;
	snprintf(x->path + n, sizeof(x->path) - n, "%s%s", n ? "/" : "", el);
	x->tlen = 0;
	x->too_long = false;
	if (x->depth == 1)
		for (size_t i = 0; attr[i]; i += 2)
			if (strcmp(attr[i], "id") == 0)
				snprintf(x->id, sizeof(x->id), "%s", attr[i + 1]);
	if (strcmp(x->path, "vpn_connection/ipsec_tunnel") == 0) {
		if (x->n_tun >= XML_MAX_TUNNELS)
			return xml_fail(x, "more than two <%s> elements (an AWS VPN "
					"connection has exactly two tunnels)", el);
		x->cur = (int)x->n_tun++;
		x->tun[x->cur].line = (unsigned)XML_GetCurrentLineNumber(x->p);
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_ctx *x = ud;

	if (len < 0 || x->tlen + (size_t)len >= sizeof(x->text)) {
		x->too_long = true;
		return;
	}
	memcpy(x->text + x->tlen, s, (size_t)len);
	x->tlen += (size_t)len;
}

/* The element's text without surrounding blanks (moto pads them). */
static const char *trimmed(struct xml_ctx *x)
{
	char *s = x->text;
	size_t n = x->tlen;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' ||
		     s[n - 1] == '\r'))
		n--;
	s[n] = '\0';
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	if (strstr(s, "{{") || strstr(s, "{%"))
		x->template = true;
	return s;
}

static bool is_known_container(const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i < ARRAY_SIZE(tun_fields); i++)
		if (strncmp(tun_fields[i].path, rel, n) == 0 && tun_fields[i].path[n] == '/')
			return true;
	return strcmp(rel, "ike") == 0 || strcmp(rel, "ipsec") == 0;
}

static bool store_field(struct xml_ctx *x, const char *rel, const char *val)
{
	struct xml_tun *t = &x->tun[x->cur];

	if (strcmp(rel, "ike/pre_shared_key") == 0) {
		snprintf(t->psk, sizeof(t->psk), "%s", val);
		t->has_psk = true;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tun_fields); i++) {
		if (strcmp(rel, tun_fields[i].path) == 0) {
			snprintf((char *)t + tun_fields[i].off, tun_fields[i].size, "%s", val);
			return true;
		}
	}
	return false;
}

static void end_field(struct xml_ctx *x)
{
	const char *rel = tun_rel(x->path), *val = trimmed(x);

	for (size_t i = 0; !rel && i < ARRAY_SIZE(top_fields); i++)
		if (strcmp(x->path, top_fields[i].path) == 0) {
			snprintf((char *)x + top_fields[i].off, top_fields[i].size, "%s", val);
			return;
		}
	if (rel && x->cur >= 0 && store_field(x, rel, val))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		if (strcmp(rel ? rel : x->path, ignored[i]) == 0)
			return;
	if (strcmp(x->path, "vpn_connection") == 0 ||
	    strcmp(x->path, "vpn_connection/ipsec_tunnel") == 0 ||
	    (rel && is_known_container(rel)))
		return;
	imp_warn(x->d, x->name, (unsigned)XML_GetCurrentLineNumber(x->p),
		 "element <%s> not used by the importer", x->path);
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
	struct xml_ctx *x = ud;

	if (x->failed || x->depth == 0)
		return;
	if (x->too_long)
		return xml_fail(x, "text of <%s> is too long", el);
	end_field(x);
	sodium_memzero(x->text, sizeof(x->text));
	x->tlen = 0;
	if (strcmp(x->path, "vpn_connection/ipsec_tunnel") == 0)
		x->cur = -1;
	x->depth--;
	x->path[x->plen[x->depth]] = '\0';
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	xml_fail(ud, "document type declarations are not accepted (<!DOCTYPE %s>)", name);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int pe,
			      const XML_Char *v, int vlen, const XML_Char *base,
			      const XML_Char *sysid, const XML_Char *pubid,
			      const XML_Char *notation)
{
	xml_fail(ud, "entity declarations are not accepted (%s)", name);
}

static int run_expat(struct xml_ctx *x, const char *text, size_t len)
{
	enum XML_Status st;

	x->p = XML_ParserCreate("UTF-8");
	if (!x->p)
		return -ENOMEM;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	st = XML_Parse(x->p, text, (int)len, XML_TRUE);
	if (st == XML_STATUS_ERROR && !x->failed) {
		imp_error(x->d, x->name, (unsigned)XML_GetCurrentLineNumber(x->p),
			  "column %lu: malformed XML: %s%s",
			  (unsigned long)XML_GetCurrentColumnNumber(x->p) + 1,
			  XML_ErrorString(XML_GetErrorCode(x->p)),
			  XML_GetErrorCode(x->p) == XML_ERROR_NO_ELEMENTS ||
			  XML_GetErrorCode(x->p) == XML_ERROR_UNCLOSED_TOKEN ?
			  " (truncated file?)" : "");
		x->failed = true;
	}
	XML_ParserFree(x->p);
	x->p = NULL;
	return x->failed ? -EINVAL : 0;
}

/* ---- the parsed tree -> the model ---- */

static bool ipv4_ok(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

/* "169.254.10.2" + 30 -> "169.254.10.0/30"; false if not IPv4. */
static bool network_of(const char *addr, unsigned len, char *out, size_t outlen)
{
	struct in_addr a;
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	char buf[INET_ADDRSTRLEN];

	if (inet_pton(AF_INET, addr, &a) != 1 || len > 32)
		return false;
	a.s_addr = htonl(ntohl(a.s_addr) & mask);
	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	snprintf(out, outlen, "%s/%u", buf, len);
	return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int tunnel_inside(struct xml_ctx *x, const struct xml_tun *xt,
			 struct imp_tunnel *t)
{
	uint32_t len = 30;
	char other[IMP_ADDR_MAX];

	if (xt->cgw_cidr[0] && (!parse_u32(xt->cgw_cidr, &len) || len != 30)) {
		imp_error(x->d, x->name, xt->line, "tunnel inside network_cidr '%s': "
			  "expected 30", xt->cgw_cidr);
		return -EINVAL;
	}
	if (!ipv4_ok(xt->cgw_in) || !ipv4_ok(xt->vgw_in)) {
		imp_error(x->d, x->name, xt->line, "tunnel inside addresses missing or "
			  "not IPv4 (customer '%s', AWS '%s')", xt->cgw_in, xt->vgw_in);
		return -EINVAL;
	}
	network_of(xt->cgw_in, len, t->inside, sizeof(t->inside));
	network_of(xt->vgw_in, len, other, sizeof(other));
	if (strcmp(t->inside, other) != 0) {
		imp_error(x->d, x->name, xt->line, "inside addresses %s (customer) and "
			  "%s (AWS) are not in the same /30 (a typo in the XML?)",
			  xt->cgw_in, xt->vgw_in);
		return -EINVAL;
	}
	snprintf(t->local_inside, sizeof(t->local_inside), "%s", xt->cgw_in);
	snprintf(t->remote_inside, sizeof(t->remote_inside), "%s", xt->vgw_in);
	return 0;
}

static void tunnel_notes(const struct xml_tun *xt, struct imp_tunnel *t)
{
	uint32_t iv, rt;

	if (parse_u32(xt->dpd_interval, &iv) && parse_u32(xt->dpd_retries, &rt) &&
	    iv > 0 && iv <= 3600 && rt > 0 && rt <= 100 && (iv != 10 || iv * rt != 30)) {
		t->o.dpd_delay = iv;
		t->o.dpd_timeout = iv * rt <= 3600 ? iv * rt : 3600;
	}
}

static int xml_tunnel(struct xml_ctx *x, const struct xml_tun *xt, struct imp_vpn *v)
{
	struct imp_tunnel *t;
	uint32_t asn = 0, hold = 0;

	if (xt->cgw_in6[0] || xt->vgw_in6[0]) {
		imp_error(x->d, x->name, xt->line, "IPv6 inside addresses (%s): cgw "
			  "supports IPv4 inside addresses only for now; not imported",
			  xt->cgw_in6[0] ? xt->cgw_in6 : xt->vgw_in6);
		return -EINVAL;
	}
	if (!ipv4_ok(xt->vgw_out)) {
		imp_error(x->d, x->name, xt->line, "AWS outside address '%s' is missing "
			  "or not IPv4", xt->vgw_out);
		return -EINVAL;
	}
	if (!xt->has_psk || !xt->psk[0]) {
		imp_error(x->d, x->name, xt->line, "tunnel %s has no <pre_shared_key> "
			  "(stored in Secrets Manager?)", xt->vgw_out);
		return -EINVAL;
	}
	if (!(t = imp_vpn_add_tunnel(v)))
		return -ENOMEM;
	snprintf(t->src, sizeof(t->src), "%s:%u", x->name, xt->line);
	snprintf(t->remote, sizeof(t->remote), "%s", xt->vgw_out);
	snprintf(t->local_outside, sizeof(t->local_outside), "%s", xt->cgw_out);
	if (imp_set_secret(&t->psk, xt->psk, strlen(xt->psk)) < 0 ||
	    tunnel_inside(x, xt, t) < 0)
		return -EINVAL;
	if (xt->vgw_asn[0] && !parse_u32(xt->vgw_asn, &asn)) {
		imp_error(x->d, x->name, xt->line, "AWS ASN '%s' is not a number", xt->vgw_asn);
		return -EINVAL;
	}
	t->peer_asn = v->static_routing ? 0 : asn;
	if (!v->static_routing && parse_u32(xt->hold, &hold) && hold != 30) {
		t->o.hold_time = hold;
		t->o.hold_time_set = true;
	}
	tunnel_notes(xt, t);
	return 0;
}

static int xml_vpn(struct xml_ctx *x, struct imp_vpn *v)
{
	uint32_t asn;
	bool bgp = false;

	if (x->template) {
		imp_error(x->d, x->name, 0, "contains template placeholders ({{ ... }}): "
			  "render it first");
		return -EINVAL;
	}
	if (x->n_tun == 0) {
		imp_error(x->d, x->name, 0, "no <ipsec_tunnel> element");
		return -EINVAL;
	}
	if (x->n_tun == 2 && strcmp(x->tun[0].vgw_out, x->tun[1].vgw_out) == 0) {
		imp_error(x->d, x->name, x->tun[1].line, "both tunnels have outside "
			  "address %s (an emulator's output?)", x->tun[1].vgw_out);
		return -EINVAL;
	}
	snprintf(v->id, sizeof(v->id), "%s", x->id);
	for (size_t i = 0; i < x->n_tun; i++)
		bgp |= x->tun[i].vgw_asn[0] != '\0';
	v->static_routing = strcmp(x->attrs, "NoBGPVPNConnection") == 0 || !bgp;
	snprintf(v->local_ip, sizeof(v->local_ip), "%s", x->tun[0].cgw_out);
	if (parse_u32(x->tun[0].cgw_asn, &asn))
		v->local_asn = asn;
	if (x->n_tun == 2 && strcmp(x->tun[0].cgw_out, x->tun[1].cgw_out) != 0)
		imp_warn(x->d, x->name, x->tun[1].line, "the tunnels name two customer "
			 "gateway addresses (%s, %s): using the first", x->tun[0].cgw_out,
			 x->tun[1].cgw_out);
	if (!x->vgw_id[0] && x->cgw_id[0])
		imp_note(&v->notes, &v->n_notes, "no virtual private gateway: a transit "
			 "gateway or Cloud WAN attachment");
	if (x->tun[0].ike_enc[0] || x->tun[0].esp_enc[0])
		imp_note(&v->notes, &v->n_notes, "AWS's XML shows IKE %s/%s/%s, ESP "
			 "%s/%s/%s: a legacy suite that AWS accepts, not the tunnels' "
			 "options; cgw proposes a strong suite AWS accepts too.",
			 x->tun[0].ike_enc, x->tun[0].ike_auth, x->tun[0].ike_pfs,
			 x->tun[0].esp_enc, x->tun[0].esp_auth, x->tun[0].esp_pfs);
	for (size_t i = 0; i < x->n_tun; i++)
		if (xml_tunnel(x, &x->tun[i], v) < 0)
			return -EINVAL;
	return 0;
}

int imp_awsxml_parse(const char *name, const char *text, size_t len,
		     struct imp_vpn *v, struct imp_diag *d)
{
	struct xml_ctx *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return -ENOMEM;
	x->name = name;
	x->d = d;
	x->cur = -1;
	if (len > IMP_MAX_INPUT || len > (size_t)INT32_MAX) {
		imp_error(d, name, 0, "too large");
		r = -EINVAL;
	} else {
		r = run_expat(x, text, len);
	}
	if (r == 0)
		r = xml_vpn(x, v);
	sodium_memzero(x, sizeof(*x));
	free(x);
	return r;
}
