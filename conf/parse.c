/*
 * cgw.conf syntax: feeds the text to inih line by line (our reader counts
 * lines, checks their shape and tracks sections), and turns each key into
 * a typed field through the key tables below. Cross-field checks and
 * defaults live in validate.c.
 */
#include "conf/conf-internal.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CONF_MAX_LINE 4096
#define CONF_MAX_TUNNELS 64
#define CONF_MAX_NEIGHBORS 64
#define CONF_MAX_PREFIXES 10000

enum key_type {
	KT_ADDR,		/* struct cgw_addr */
	KT_ADDR4,		/* struct cgw_addr, IPv4 only */
	KT_IPV4,		/* struct in_addr */
	KT_PREFIX,		/* struct cgw_prefix */
	KT_PREFIXES,		/* comma list: struct cgw_prefix *, count at aux_off */
	KT_PREFIXES4,		/* same, IPv4 only */
	KT_STRING,		/* char * */
	KT_IFNAME,		/* char[IF_NAMESIZE] */
	KT_U32,			/* uint32_t with min/max */
	KT_U32_OPT,		/* uint32_t with min/max; the bool at aux_off says "given" */
	KT_UINT,		/* unsigned with min/max */
	KT_PORT,		/* uint16_t with min/max */
	KT_DURATION,		/* uint32_t seconds with min/max */
	KT_ASN,			/* uint32_t, 1..2^32-1, not AS_TRANS */
	KT_IKE,			/* struct cgw_proposals */
	KT_ESP,
	KT_STARTUP,		/* the enums and bools below: one word of a table */
	KT_DPD_ACTION,
	KT_BOOL,		/* yes | no */
	KT_IMPORT,		/* all | none: bool import_none */
	KT_EXPORT,
	KT_NETWORK_MODE,
	KT_REDIST,		/* comma list of words: unsigned bit set */
	KT_PSK,			/* inline PSK: kept aside until validation */
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;
	size_t aux_off;		/* KT_PREFIXES*: the size_t count; KT_U32_OPT: the bool */
	uint32_t min, max;
	bool repeat;
};

/*
 * The per-peer policy keys: bgp-* in a [tunnel], bare in a [neighbor].
 * P(f) and PL(f) give the offsets of policy field f (PL: a list and its
 * count) inside the section's struct.
 */
#define POLICY_KEYS(pfx, P, PL) \
	{ pfx "max-prefix-in", KT_U32, P(max_prefix_in), 0, 0, UINT32_MAX, false }, \
	{ pfx "max-prefix-out", KT_U32, P(max_prefix_out), 0, 0, UINT32_MAX, false }, \
	{ pfx "med", KT_U32_OPT, P(med), P(has_med), 0, UINT32_MAX, false }, \
	{ pfx "prepend", KT_UINT, P(prepend), 0, 0, 10, false }, \
	{ pfx "local-pref", KT_U32_OPT, P(local_pref), P(has_local_pref), 0, UINT32_MAX, false }, \
	{ pfx "import", KT_IMPORT, P(import_none), 0, 0, 0, false }, \
	{ pfx "import-prefix", KT_PREFIXES4, PL(import_prefixes), 0, 0, true }, \
	{ pfx "export", KT_EXPORT, P(export), 0, 0, 0, false }, \
	{ pfx "export-prefix", KT_PREFIXES4, PL(export_prefixes), 0, 0, true }

#define T(f) offsetof(struct cgw_tunnel_conf, f)
#define TL(f) offsetof(struct cgw_tunnel_conf, f), offsetof(struct cgw_tunnel_conf, n_##f)
#define TP(f) T(bgp.f)
#define TPL(f) T(bgp.f), T(bgp.n_##f)

/* Order here is the order of the canonical output. */
static const struct key_def tunnel_keys[] = {
	{ "remote", KT_ADDR, T(remote), 0, 0, 0, false },
	{ "remote-id", KT_STRING, T(remote_id), 0, 0, 0, false },
	{ "local-id", KT_STRING, T(local_id), 0, 0, 0, false },
	{ "psk", KT_PSK, 0, 0, 0, 0, false },
	{ "psk-file", KT_STRING, T(psk_file), 0, 0, 0, false },
	{ "inside", KT_PREFIX, T(inside), 0, 0, 0, false },
	{ "local-inside", KT_ADDR, T(local_inside), 0, 0, 0, false },
	{ "remote-inside", KT_ADDR, T(remote_inside), 0, 0, 0, false },
	{ "vti", KT_IFNAME, T(vti), 0, 0, 0, false },
	{ "mark", KT_U32, T(mark), 0, 1, UINT32_MAX, false },
	{ "mtu", KT_UINT, T(mtu), 0, 576, 9000, false },
	{ "ike", KT_IKE, T(ike), 0, 0, 0, false },
	{ "esp", KT_ESP, T(esp), 0, 0, 0, false },
	{ "ike-lifetime", KT_DURATION, T(ike_lifetime), 0, 60, 86400, false },
	{ "esp-lifetime", KT_DURATION, T(esp_lifetime), 0, 30, 86400, false },
	{ "rekey-margin", KT_DURATION, T(rekey_margin), 0, 1, 43200, false },
	{ "rekey-fuzz", KT_UINT, T(rekey_fuzz), 0, 0, 100, false },
	{ "replay-window", KT_U32, T(replay_window), 0, 0, 4096, false },
	{ "dpd-delay", KT_DURATION, T(dpd_delay), 0, 1, 3600, false },
	{ "dpd-timeout", KT_DURATION, T(dpd_timeout), 0, 1, 3600, false },
	{ "dpd-action", KT_DPD_ACTION, T(dpd_action), 0, 0, 0, false },
	{ "liveness-probe", KT_DURATION, T(liveness_probe), 0, 0, 60, false },
	{ "startup", KT_STARTUP, T(startup), 0, 0, 0, false },
	{ "local-ts", KT_PREFIXES, TL(local_ts), 0, 0, false },
	{ "remote-ts", KT_PREFIXES, TL(remote_ts), 0, 0, false },
	{ "bgp-peer-asn", KT_ASN, T(bgp_peer_asn), 0, 0, 0, false },
	{ "bgp-hold-time", KT_DURATION, T(bgp_hold_time), 0, 0, 65535, false },
	POLICY_KEYS("bgp-", TP, TPL),
	{ "route", KT_PREFIXES, TL(routes), 0, 0, true },
	{ "route-metric", KT_U32, T(route_metric), 0, 0, UINT32_MAX, false },
};

#define G(f) offsetof(struct cgw_gateway_conf, f)
static const struct key_def gateway_keys[] = {
	{ "control-socket", KT_STRING, G(control_socket), 0, 0, 0, false },
	{ "local-address", KT_ADDR, G(local_address), 0, 0, 0, false },
	{ "local-id", KT_STRING, G(local_id), 0, 0, 0, false },
};

#define B(f) offsetof(struct cgw_bgp_conf, f)
static const struct key_def bgp_keys[] = {
	{ "asn", KT_ASN, B(asn), 0, 0, 0, false },
	{ "router-id", KT_IPV4, B(router_id), 0, 0, 0, false },
	{ "network", KT_PREFIXES, B(networks), B(n_networks), 0, 0, true },
	{ "network-mode", KT_NETWORK_MODE, B(network_mode), 0, 0, 0, false },
	{ "redistribute", KT_REDIST, B(redistribute), 0, 0, 0, true },
	{ "redistribute-prefix", KT_PREFIXES4, B(redistribute_prefixes),
	  B(n_redistribute_prefixes), 0, 0, true },
	{ "ecmp", KT_BOOL, B(ecmp), 0, 0, 0, false },
	{ "max-paths", KT_UINT, B(max_paths), 0, 1, 16, false },
	{ "always-compare-med", KT_BOOL, B(always_compare_med), 0, 0, 0, false },
	{ "table", KT_U32, B(table), 0, 1, UINT32_MAX, false },	/* not 253, 255: validate.c */
	{ "metric", KT_U32, B(metric), 0, 0, UINT32_MAX, false },
	{ "graceful-restart", KT_BOOL, B(graceful_restart), 0, 0, 0, false },
	{ "restart-time", KT_DURATION, B(restart_time), 0, 0, 4095, false },
	{ "listen-port", KT_PORT, B(listen_port), 0, 1, 65535, false },
};

#define N(f) offsetof(struct cgw_neighbor_conf, f)
#define NP(f) N(policy.f)
#define NPL(f) N(policy.f), N(policy.n_##f)
static const struct key_def neighbor_keys[] = {
	{ "address", KT_ADDR4, N(address), 0, 0, 0, false },
	{ "remote-asn", KT_ASN, N(remote_asn), 0, 0, 0, false },
	{ "local-address", KT_ADDR4, N(local_address), 0, 0, 0, false },
	{ "port", KT_PORT, N(port), 0, 1, 65535, false },
	{ "hold-time", KT_DURATION, N(hold_time), 0, 0, 65535, false },
	{ "passive", KT_BOOL, N(passive), 0, 0, 0, false },
	{ "multihop", KT_UINT, N(multihop), 0, 1, 255, false },
	POLICY_KEYS("", NP, NPL),
};

/* The seen/bad masks have one bit per key. */
_Static_assert(ARRAY_SIZE(tunnel_keys) <= 64, "too many tunnel keys for the masks");
_Static_assert(ARRAY_SIZE(bgp_keys) <= 64, "too many bgp keys for the masks");
_Static_assert(ARRAY_SIZE(neighbor_keys) <= 64, "too many neighbor keys for the masks");

static const char *const section_names[] = { "gateway", "bgp", "tunnel", "neighbor", NULL };

/* The words of the one-word keys, in canonical order. */
struct key_word {
	const char *word;
	int value;
};

static const struct key_word no_words[] = { { NULL, 0 } };
static const struct key_word startup_words[] = {
	{ "start", CGW_STARTUP_START }, { "add", CGW_STARTUP_ADD }, { NULL, 0 },
};
static const struct key_word dpd_action_words[] = {
	{ "restart", CGW_DPD_RESTART }, { "clear", CGW_DPD_CLEAR },
	{ "hold", CGW_DPD_HOLD }, { NULL, 0 },
};
static const struct key_word bool_words[] = {
	{ "yes", true }, { "no", false }, { NULL, 0 },
};
static const struct key_word import_words[] = {	/* value: import_none */
	{ "all", false }, { "none", true }, { NULL, 0 },
};
static const struct key_word export_words[] = {
	{ "none", CGW_EXPORT_NONE }, { "local", CGW_EXPORT_LOCAL },
	{ "all", CGW_EXPORT_ALL }, { NULL, 0 },
};
static const struct key_word network_mode_words[] = {
	{ "present", CGW_NETWORK_PRESENT }, { "always", CGW_NETWORK_ALWAYS }, { NULL, 0 },
};
static const struct key_word redist_words[] = {
	{ "connected", CGW_REDIST_CONNECTED }, { "static", CGW_REDIST_STATIC },
	{ "kernel", CGW_REDIST_KERNEL }, { NULL, 0 },
};

static int key_index(const struct key_def *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

int conf_tunnel_key_index(const char *name)
{
	return key_index(tunnel_keys, ARRAY_SIZE(tunnel_keys), name);
}

int conf_bgp_key_index(const char *name)
{
	return key_index(bgp_keys, ARRAY_SIZE(bgp_keys), name);
}

int conf_neighbor_key_index(const char *name)
{
	return key_index(neighbor_keys, ARRAY_SIZE(neighbor_keys), name);
}

/*
 * Suggest a key of the same section for a typo, or for a policy key
 * written the other section's way (bgp-med in a [neighbor], med in a
 * [tunnel]).
 */
static const char *key_suggest(const struct key_def *keys, size_t n, const char *name)
{
	const char *names[64];
	char other[CONF_MAX_LINE];
	int k;

	if (strncmp(name, "bgp-", 4) == 0)
		snprintf(other, sizeof(other), "%s", name + 4);
	else
		snprintf(other, sizeof(other), "bgp-%s", name);
	if ((k = key_index(keys, n, other)) >= 0)
		return keys[k].name;
	for (size_t i = 0; i < n && i < ARRAY_SIZE(names) - 1; i++)
		names[i] = keys[i].name;
	names[n < ARRAY_SIZE(names) - 1 ? n : ARRAY_SIZE(names) - 1] = NULL;
	return str_suggest(name, names);
}

static int set_prefixes(struct conf_parser *p, const struct key_def *k, void *obj,
			const char *value, char *err, size_t errlen)
{
	/* The offsets come from offsetof on these very fields: aligned. */
	struct cgw_prefix **list = (void *)((char *)obj + k->off);
	size_t *count = (void *)((char *)obj + k->aux_off);
	char buf[CONF_MAX_LINE];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct cgw_prefix pfx;
		struct cgw_prefix *n;

		if (conf_parse_prefix(tok, &pfx) < 0) {
			snprintf(err, errlen, "'%s' is not a prefix (expected e.g. 192.168.2.0/24)", tok);
			return -EINVAL;
		}
		if (k->type == KT_PREFIXES4 && pfx.addr.family != AF_INET) {
			snprintf(err, errlen, "'%s' is not an IPv4 prefix (BGP carries IPv4 "
				 "routes only)", tok);
			return -EINVAL;
		}
		if (!conf_prefix_is_network(&pfx)) {
			struct cgw_prefix q = pfx;
			char fixed[64];
			conf_prefix_mask(&q);
			snprintf(err, errlen, "%s has host bits set (did you mean %s?)", tok,
				 conf_prefix_str(&q, fixed, sizeof(fixed)));
			return -EINVAL;
		}
		if (*count >= CONF_MAX_PREFIXES) {
			snprintf(err, errlen, "too many prefixes (at most %d)", CONF_MAX_PREFIXES);
			return -EINVAL;
		}
		n = realloc(*list, (*count + 1) * sizeof(**list));
		if (!n) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		*list = n;
		n[(*count)++] = pfx;
	}
	return 0;
}

static int set_number(const struct key_def *k, void *field, const char *value,
		      char *err, size_t errlen)
{
	uint32_t v;
	int r;

	r = k->type == KT_DURATION ? conf_parse_duration(value, &v) : conf_parse_u32(value, &v);
	if (r == -EINVAL) {
		snprintf(err, errlen, k->type == KT_DURATION ?
			 "'%s' is not a duration (e.g. 30s, 5m, 8h)" : "'%s' is not a number",
			 value);
		return r;
	}
	if (r < 0 || v < k->min || v > k->max) {
		if (k->type == KT_DURATION)
			snprintf(err, errlen, "%s out of range (%us..%us)", value, k->min, k->max);
		else
			snprintf(err, errlen, "%s out of range (%u..%u)", value, k->min, k->max);
		return -ERANGE;
	}
	if (k->type == KT_UINT)
		*(unsigned *)field = v;
	else if (k->type == KT_PORT)
		*(uint16_t *)field = (uint16_t)v;
	else
		*(uint32_t *)field = v;
	return 0;
}

static int set_asn(uint32_t *field, const char *value, char *err, size_t errlen)
{
	uint32_t v;

	/* asdot ("1.10") is not accepted: one spelling, the asplain number. */
	if (conf_parse_u32(value, &v) < 0 || v == 0) {
		snprintf(err, errlen, "'%s' is not an AS number (1..4294967295)", value);
		return -EINVAL;
	}
	if (v == 23456) {
		snprintf(err, errlen, "AS 23456 is AS_TRANS (RFC 6793) and cannot be used");
		return -EINVAL;
	}
	*field = v;
	return 0;
}

static const struct key_word *key_words(enum key_type t)
{
	switch (t) {
	case KT_STARTUP:
		return startup_words;
	case KT_DPD_ACTION:
		return dpd_action_words;
	case KT_BOOL:
		return bool_words;
	case KT_IMPORT:
		return import_words;
	case KT_EXPORT:
		return export_words;
	case KT_NETWORK_MODE:
		return network_mode_words;
	case KT_REDIST:
		return redist_words;
	default:
		return no_words;
	}
}

/* Look word up in the key's table; on failure say what it could be. */
static int find_word(const struct key_def *k, const char *word, int *value,
		     char *err, size_t errlen)
{
	const struct key_word *w = key_words(k->type);
	size_t n;

	for (const struct key_word *i = w; i->word; i++) {
		if (strcmp(i->word, word) == 0) {
			*value = i->value;
			return 0;
		}
	}
	n = (size_t)snprintf(err, errlen, "'%s' is not one of ", word);
	for (const struct key_word *i = w; i->word && n < errlen; i++)
		n += (size_t)snprintf(err + n, errlen - n, "%s%s", i == w ? "" : ", ", i->word);
	return -EINVAL;
}

/* redistribute: a comma list of words, or-ed into the bit set. */
static int set_redist(const struct key_def *k, unsigned *field, const char *value,
		      char *err, size_t errlen)
{
	char buf[CONF_MAX_LINE];
	char *save = NULL;
	int v;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (find_word(k, tok, &v, err, errlen) < 0)
			return -EINVAL;
		*field |= (unsigned)v;
	}
	return 0;
}

static int set_enum(const struct key_def *k, void *field, const char *value,
		    char *err, size_t errlen)
{
	int v;

	if (k->type == KT_REDIST)
		return set_redist(k, field, value, err, errlen);
	if (find_word(k, value, &v, err, errlen) < 0)
		return -EINVAL;
	switch (k->type) {
	case KT_STARTUP:
		*(enum cgw_startup *)field = (enum cgw_startup)v;
		break;
	case KT_DPD_ACTION:
		*(enum cgw_dpd_action *)field = (enum cgw_dpd_action)v;
		break;
	case KT_EXPORT:
		*(enum cgw_bgp_export *)field = (enum cgw_bgp_export)v;
		break;
	case KT_NETWORK_MODE:
		*(enum cgw_network_mode *)field = (enum cgw_network_mode)v;
		break;
	default:		/* KT_BOOL, KT_IMPORT */
		*(bool *)field = v;
		break;
	}
	return 0;
}

static int set_string(char **field, const char *value, char *err, size_t errlen)
{
	char *s = strdup(value);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	free(*field);
	*field = s;
	return 0;
}

/* Parse value into the field k describes inside obj. */
static int set_value(struct conf_parser *p, const struct key_def *k, void *obj,
		     const char *value, char *err, size_t errlen)
{
	void *field = (char *)obj + k->off;
	struct cgw_addr a;

	switch (k->type) {
	case KT_ADDR:
		if (conf_parse_addr(value, field) < 0) {
			snprintf(err, errlen, "'%s' is not an IP address", value);
			return -EINVAL;
		}
		return 0;
	case KT_ADDR4:
		if (conf_parse_addr(value, &a) < 0 || a.family != AF_INET) {
			snprintf(err, errlen, "'%s' is not an IPv4 address", value);
			return -EINVAL;
		}
		*(struct cgw_addr *)field = a;
		return 0;
	case KT_IPV4:
		if (conf_parse_addr(value, &a) < 0 || a.family != AF_INET) {
			snprintf(err, errlen, "'%s' is not an IPv4 address", value);
			return -EINVAL;
		}
		*(struct in_addr *)field = a.v4;
		return 0;
	case KT_PREFIX:
		if (conf_parse_prefix(value, field) < 0) {
			snprintf(err, errlen, "'%s' is not a prefix (expected e.g. 169.254.10.0/30)", value);
			return -EINVAL;
		}
		return 0;
	case KT_PREFIXES:
	case KT_PREFIXES4:
		return set_prefixes(p, k, obj, value, err, errlen);
	case KT_STRING:
		return set_string(field, value, err, errlen);
	case KT_IFNAME:
		if (strlen(value) >= IF_NAMESIZE || strpbrk(value, "/ \t:")) {
			snprintf(err, errlen, "'%s' is not a valid interface name (at most %d "
				 "characters, no '/', ':' or spaces)", value, IF_NAMESIZE - 1);
			return -EINVAL;
		}
		snprintf(field, IF_NAMESIZE, "%s", value);
		return 0;
	case KT_U32:
	case KT_UINT:
	case KT_PORT:
	case KT_DURATION:
		return set_number(k, field, value, err, errlen);
	case KT_U32_OPT:
		if (set_number(k, field, value, err, errlen) < 0)
			return -EINVAL;
		*(bool *)((char *)obj + k->aux_off) = true;
		return 0;
	case KT_ASN:
		return set_asn(field, value, err, errlen);
	case KT_IKE:
		return proposal_parse(value, PROPOSAL_IKE, field, err, errlen);
	case KT_ESP:
		return proposal_parse(value, PROPOSAL_ESP, field, err, errlen);
	case KT_STARTUP:
	case KT_DPD_ACTION:
	case KT_BOOL:
	case KT_IMPORT:
	case KT_EXPORT:
	case KT_NETWORK_MODE:
	case KT_REDIST:
		return set_enum(k, field, value, err, errlen);
	case KT_PSK:
		return set_string(&p->tb[p->tunnel].psk_inline, value, err, errlen);
	}
	return -EINVAL;
}

/* Handle one key of a section whose key table and bookkeeping are given. */
static void handle_key(struct conf_parser *p, const char *section,
		       const struct key_def *keys, size_t n, void *obj,
		       uint64_t *seen, uint64_t *bad, unsigned *key_line,
		       const char *name, const char *value)
{
	char err[300];
	int i = key_index(keys, n, name);

	if (i < 0) {
		const char *hint = key_suggest(keys, n, name);
		conf_error(p, p->line, "unknown key '%s' in [%s]%s%s%s", name, section,
			   hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		return;
	}
	if ((*seen & (1ull << i)) && !keys[i].repeat) {
		conf_error(p, p->line, "'%s' given twice in [%s] (first on line %u)",
			   name, section, key_line[i]);
		return;
	}
	if (*value == '\0') {
		conf_error(p, p->line, "'%s' has no value", name);
		*bad |= 1ull << i;
		return;
	}
	*seen |= 1ull << i;
	key_line[i] = p->line;
	if (set_value(p, &keys[i], obj, value, err, sizeof(err)) < 0) {
		conf_error(p, p->line, "%s: %s", name, err);
		*bad |= 1ull << i;
	}
}

static int conf_ini_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct conf_parser *p = user;
	struct cgw_conf *c = p->conf;
	char sec[CGW_NAME_MAX + 16];

	switch (p->sec) {
	case SEC_NONE:
		conf_error(p, p->line, "'%s' outside any section: put it under [gateway], "
			   "[bgp], [tunnel NAME] or [neighbor NAME]", name);
		break;
	case SEC_GATEWAY:
		handle_key(p, "gateway", gateway_keys, ARRAY_SIZE(gateway_keys), &c->gateway,
			   &p->gateway_seen, &p->gateway_bad, p->gateway_key_line, name, value);
		break;
	case SEC_BGP:
		handle_key(p, "bgp", bgp_keys, ARRAY_SIZE(bgp_keys), &c->bgp,
			   &p->bgp_seen, &p->bgp_bad, p->bgp_key_line, name, value);
		break;
	case SEC_TUNNEL:
		snprintf(sec, sizeof(sec), "tunnel %s", c->tunnels[p->tunnel].name);
		handle_key(p, sec, tunnel_keys, ARRAY_SIZE(tunnel_keys),
			   &c->tunnels[p->tunnel], &p->tb[p->tunnel].seen, &p->tb[p->tunnel].bad,
			   p->tb[p->tunnel].key_line, name, value);
		break;
	case SEC_NEIGHBOR:
		snprintf(sec, sizeof(sec), "neighbor %s", c->neighbors[p->neighbor].name);
		handle_key(p, sec, neighbor_keys, ARRAY_SIZE(neighbor_keys),
			   &c->neighbors[p->neighbor], &p->nb[p->neighbor].seen,
			   &p->nb[p->neighbor].bad, p->nb[p->neighbor].key_line, name, value);
		break;
	case SEC_BAD:
		break;
	}
	return 1;
}

static bool section_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CGW_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

/*
 * A BGP session is named after its tunnel or neighbor (status, cgwctl bgp
 * reset NAME), so the two kinds of section share one namespace. Reports
 * the clash and returns true when name is taken; kind is the new section's.
 */
static bool section_name_taken(struct conf_parser *p, const char *kind, const char *name)
{
	const struct cgw_conf *c = p->conf;
	const char *other = NULL;
	unsigned line = 0;

	for (size_t i = 0; i < c->n_tunnels && !other; i++)
		if (strcmp(c->tunnels[i].name, name) == 0)
			other = "tunnel", line = c->tunnels[i].line;
	for (size_t i = 0; i < c->n_neighbors && !other; i++)
		if (strcmp(c->neighbors[i].name, name) == 0)
			other = "neighbor", line = c->neighbors[i].line;
	if (!other)
		return false;
	if (strcmp(kind, other) == 0)
		conf_error(p, p->line, "duplicate %s name '%s' (first on line %u)",
			   kind, name, line);
	else
		conf_error(p, p->line, "%s name '%s' already used by [%s %s] on line %u",
			   kind, name, other, name, line);
	return true;
}

/* Checks shared by [tunnel NAME] and [neighbor NAME]; false: skip the section. */
static bool named_section_ok(struct conf_parser *p, const char *kind, const char *name,
			     size_t count, size_t max)
{
	if (!section_name_ok(name)) {
		conf_error(p, p->line, "%s name '%s' must be 1-%d characters of "
			   "A-Z a-z 0-9 . _ -", kind, name, CGW_NAME_MAX - 1);
		return false;
	}
	if (section_name_taken(p, kind, name))
		return false;
	if (count >= max) {
		conf_error(p, p->line, "too many %ss (at most %zu)", kind, max);
		return false;
	}
	return true;
}

static void begin_tunnel(struct conf_parser *p, const char *name)
{
	struct cgw_conf *c = p->conf;
	struct cgw_tunnel_conf *t;
	struct tunnel_build *tb;

	p->sec = SEC_BAD;
	if (!named_section_ok(p, "tunnel", name, c->n_tunnels, CONF_MAX_TUNNELS))
		return;
	t = realloc(c->tunnels, (c->n_tunnels + 1) * sizeof(*t));
	if (t)
		c->tunnels = t;
	tb = realloc(p->tb, (c->n_tunnels + 1) * sizeof(*tb));
	if (tb)
		p->tb = tb;
	if (!t || !tb) {
		conf_error(p, p->line, "out of memory");
		return;
	}
	t = &c->tunnels[c->n_tunnels];
	memset(t, 0, sizeof(*t));
	memset(&p->tb[c->n_tunnels], 0, sizeof(*tb));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->line = p->line;
	p->tunnel = c->n_tunnels++;
	p->sec = SEC_TUNNEL;
}

static void begin_neighbor(struct conf_parser *p, const char *name)
{
	struct cgw_conf *c = p->conf;
	struct cgw_neighbor_conf *n;
	struct neighbor_build *nb;

	p->sec = SEC_BAD;
	if (!named_section_ok(p, "neighbor", name, c->n_neighbors, CONF_MAX_NEIGHBORS))
		return;
	n = realloc(c->neighbors, (c->n_neighbors + 1) * sizeof(*n));
	if (n)
		c->neighbors = n;
	nb = realloc(p->nb, (c->n_neighbors + 1) * sizeof(*nb));
	if (nb)
		p->nb = nb;
	if (!n || !nb) {
		conf_error(p, p->line, "out of memory");
		return;
	}
	n = &c->neighbors[c->n_neighbors];
	memset(n, 0, sizeof(*n));
	memset(&p->nb[c->n_neighbors], 0, sizeof(*nb));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->line = p->line;
	p->neighbor = c->n_neighbors++;
	p->sec = SEC_NEIGHBOR;
}

static void begin_single(struct conf_parser *p, const char *name, unsigned *line,
			 enum conf_section sec)
{
	if (*line) {
		conf_error(p, p->line, "section [%s] given twice (first on line %u)", name, *line);
		p->sec = SEC_BAD;
		return;
	}
	*line = p->line;
	p->sec = sec;
}

/* "KIND NAME" -> NAME (blanks skipped), or NULL when hdr is not of that kind. */
static const char *named_header(const char *hdr, const char *kind)
{
	size_t n = strlen(kind);

	if (strncmp(hdr, kind, n) != 0 || (hdr[n] != ' ' && hdr[n] != '\t'))
		return NULL;
	hdr += n;
	while (*hdr == ' ' || *hdr == '\t')
		hdr++;
	return hdr;
}

/* A section header line: "[gateway]", "[bgp]", "[tunnel NAME]" or "[neighbor NAME]". */
static void begin_section(struct conf_parser *p, const char *hdr)
{
	const char *hint, *name;

	if (strcmp(hdr, "gateway") == 0)
		return begin_single(p, "gateway", &p->gateway_line, SEC_GATEWAY);
	if (strcmp(hdr, "bgp") == 0) {
		p->conf->bgp.enabled = true;
		return begin_single(p, "bgp", &p->bgp_line, SEC_BGP);
	}
	if ((name = named_header(hdr, "tunnel")))
		return begin_tunnel(p, name);
	if ((name = named_header(hdr, "neighbor")))
		return begin_neighbor(p, name);
	p->sec = SEC_BAD;
	if (strcmp(hdr, "tunnel") == 0 || strcmp(hdr, "neighbor") == 0) {
		conf_error(p, p->line, "[%s] needs a name: [%s NAME]", hdr, hdr);
		return;
	}
	hint = str_suggest(hdr, section_names);
	conf_error(p, p->line, "unknown section [%s]%s%s%s", hdr,
		   hint ? " (did you mean [" : "", hint ? hint : "", hint ? "]?)" : "");
}

/* Strip an inline comment (" # ..." or " ; ...") and trailing blanks. */
static void strip_comment(char *s)
{
	for (char *c = s; *c; c++) {
		if ((*c == '#' || *c == ';') && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	}
	for (size_t n = strlen(s); n && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
					  s[n - 1] == '\r'); n--)
		s[n - 1] = '\0';
}

/* Look at one line before inih does: track sections, report bad shapes. */
static void inspect_line(struct conf_parser *p, char *line)
{
	char hdr[CONF_MAX_LINE];
	size_t n;

	if (*line == '\0' || *line == '#' || *line == ';')
		return;
	if (*line == '[') {
		snprintf(hdr, sizeof(hdr), "%s", line + 1);
		strip_comment(hdr);
		n = strlen(hdr);
		if (n == 0 || hdr[n - 1] != ']') {
			conf_error(p, p->line, "section header lacks its closing ']'");
			p->sec = SEC_BAD;
			*line = '\0';
			return;
		}
		hdr[n - 1] = '\0';
		while (n > 1 && (hdr[n - 2] == ' ' || hdr[n - 2] == '\t'))
			hdr[--n - 1] = '\0';
		begin_section(p, hdr);
		return;
	}
	if (!strchr(line, '=')) {
		conf_error(p, p->line, "expected 'key = value' or '[section]'");
		*line = '\0';	/* inih need not see it */
	}
}

/* inih reader: hand over one line at a time, without leading blanks. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parser *p = stream;
	const char *start, *nl;
	size_t n;

	if (p->pos >= p->len)
		return NULL;
	start = p->text + p->pos;
	nl = memchr(start, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - start) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->line++;
	while (n && (*start == ' ' || *start == '\t')) {
		start++;
		n--;
	}
	if (memchr(start, '\0', n)) {
		conf_error(p, p->line, "NUL byte in line");
		n = 0;
	} else if (n + 2 > (size_t)num) {
		conf_error(p, p->line, "line longer than %d characters", num - 2);
		n = 0;
	}
	memcpy(str, start, n);
	str[n] = '\0';
	inspect_line(p, str);
	return str;
}

void conf_parse_text(struct conf_parser *p)
{
	/* No continuation lines (indentation is just indentation), inline
	 * comments start with " #" or " ;", and lines may be long. */
	ini_allow_multiline = false;
	ini_inline_comment_prefixes = (char *)";#";
	ini_allow_inline_comments = true;
	ini_use_stack = false;
	ini_max_line = CONF_MAX_LINE;
	ini_stop_on_first_error = false;
	p->line = 0;
	p->sec = SEC_NONE;
	ini_parse_stream(conf_reader, p, conf_ini_handler, p);
}
