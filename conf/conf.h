/*
 * cgw.conf: parse (inih), validate, build an immutable snapshot, print it
 * in canonical form and compare two snapshots for reload.
 *
 * A snapshot is never modified after conf_load() returns it. Reload builds
 * a new one; the daemon applies the difference and frees the old one.
 */
#ifndef CGW_CONF_H
#define CGW_CONF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/proposal.h"
#include "common/secret.h"

struct cgw_addr {
	int family;			/* AF_INET, AF_INET6, or 0 when unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

struct cgw_prefix {
	struct cgw_addr addr;
	uint8_t len;
};

enum cgw_startup {
	CGW_STARTUP_START,		/* initiate, and re-initiate forever */
	CGW_STARTUP_ADD,		/* wait for the peer to initiate */
};

enum cgw_dpd_action {
	CGW_DPD_RESTART,		/* delete and re-initiate at once */
	CGW_DPD_CLEAR,			/* delete, wait for the peer */
	CGW_DPD_HOLD,			/* keep kernel state, re-initiate on demand */
};

#define CGW_NAME_MAX 32

/* What is exported to a BGP peer (nothing unless configured: RFC 8212). */
enum cgw_bgp_export {
	CGW_EXPORT_NONE,		/* nothing */
	CGW_EXPORT_LOCAL,		/* [bgp] network + redistribute */
	CGW_EXPORT_ALL,			/* local + best routes learned from other peers */
};

/* [bgp] redistribute = ... (a bit set). */
enum cgw_redist {
	CGW_REDIST_CONNECTED = 1 << 0,	/* proto kernel, scope link: interface subnets */
	CGW_REDIST_STATIC = 1 << 1,	/* proto boot or static: "ip route add" */
	CGW_REDIST_KERNEL = 1 << 2,	/* any other protocol but ours (ospf, zebra, ...) */
};

/* [bgp] network-mode */
enum cgw_network_mode {
	CGW_NETWORK_PRESENT,		/* announced while a kernel route to it exists */
	CGW_NETWORK_ALWAYS,		/* announced unconditionally */
};

/*
 * Per-peer BGP policy: the bgp-* keys of a [tunnel] (bgp-max-prefix-in,
 * ...) and the same keys without the prefix in a [neighbor].
 */
struct cgw_bgp_policy {
	uint32_t max_prefix_in;		/* accepted at most, then Cease; 0: no limit */
	uint32_t max_prefix_out;	/* announced at most; 0: no limit */
	bool has_med;			/* med: MED set on what we announce */
	uint32_t med;
	unsigned prepend;		/* prepend: our AS this many extra times, 0..10 */
	bool has_local_pref;		/* local-pref: set on what we learn */
	uint32_t local_pref;
	bool import_none;		/* import = none */
	struct cgw_prefix *import_prefixes;	/* import-prefix: learned routes must be
						   inside one of these; empty: any */
	size_t n_import_prefixes;
	enum cgw_bgp_export export;	/* export = none | local | all */
	struct cgw_prefix *export_prefixes;	/* export-prefix: same, on export */
	size_t n_export_prefixes;
};

struct cgw_tunnel_conf {
	char name[CGW_NAME_MAX];
	unsigned line;			/* line of the [tunnel NAME] header */

	struct cgw_addr remote;		/* peer's outside address */
	char *remote_id;		/* IKE identity expected from the peer */
	char *local_id;			/* our IKE identity (gateway default) */
	struct cgw_secret psk;		/* locked memory; never printed */
	char *psk_file;			/* NULL when the PSK is inline */

	struct cgw_prefix inside;	/* inside /30 */
	struct cgw_addr local_inside;	/* default: second host (.2) */
	struct cgw_addr remote_inside;	/* default: first host (.1) */
	char vti[IF_NAMESIZE];
	uint32_t mark;
	unsigned mtu;			/* 0: from AWS's per-algorithm table */

	struct cgw_proposals ike;
	struct cgw_proposals esp;
	uint32_t ike_lifetime;		/* seconds */
	uint32_t esp_lifetime;		/* seconds */
	uint32_t rekey_margin;		/* seconds before expiry */
	unsigned rekey_fuzz;		/* percent of the margin */
	uint32_t replay_window;		/* packets */

	uint32_t dpd_delay;		/* seconds */
	uint32_t dpd_timeout;		/* seconds */
	uint32_t liveness_probe;	/* seconds of outbound-only traffic before a
					   fast liveness check; 0: off */
	enum cgw_dpd_action dpd_action;
	enum cgw_startup startup;

	struct cgw_prefix *local_ts;	/* traffic selectors, default 0/0 */
	size_t n_local_ts;
	struct cgw_prefix *remote_ts;
	size_t n_remote_ts;

	uint32_t bgp_peer_asn;		/* 0: no BGP on this tunnel */
	uint32_t bgp_hold_time;		/* seconds, 0 or 3..65535 */
	/* bgp-max-prefix-in (default 5000), bgp-max-prefix-out (default 100),
	   bgp-med, bgp-prepend, bgp-local-pref, bgp-import-prefix,
	   bgp-export (default local), bgp-export-prefix */
	struct cgw_bgp_policy bgp;

	struct cgw_prefix *routes;	/* static routes via this tunnel */
	size_t n_routes;
	uint32_t route_metric;
};

struct cgw_gateway_conf {
	char *control_socket;
	struct cgw_addr local_address;	/* family 0: address of default route */
	char *local_id;			/* NULL: local-address */
};

struct cgw_bgp_conf {
	bool enabled;			/* a [bgp] section exists */
	uint32_t asn;
	struct in_addr router_id;	/* 0.0.0.0: local-address */
	struct cgw_prefix *networks;
	size_t n_networks;
	enum cgw_network_mode network_mode;	/* default present */
	unsigned redistribute;		/* enum cgw_redist bits; default 0 */
	struct cgw_prefix *redistribute_prefixes;	/* redistribute-prefix: only
							   routes inside these; empty: any */
	size_t n_redistribute_prefixes;
	bool ecmp;			/* default no */
	unsigned max_paths;		/* ECMP width 1..16, default 16 */
	bool always_compare_med;	/* default no */
	uint32_t table;			/* kernel table for learned routes, default 254 */
	uint32_t metric;		/* their metric, default 20 */
	bool graceful_restart;		/* helper for peers (RFC 4724), default yes */
	uint32_t restart_time;		/* seconds; 0 (default): routes removed at exit;
					   else kept over a restart for this long */
	uint16_t listen_port;		/* default 179 (tests use another) */
};

/* [neighbor NAME]: a BGP peer that is not at the end of a tunnel. */
struct cgw_neighbor_conf {
	char name[CGW_NAME_MAX];
	unsigned line;			/* line of the [neighbor NAME] header */
	struct cgw_addr address;	/* required, IPv4 */
	uint32_t remote_asn;		/* required; == [bgp] asn: iBGP */
	struct cgw_addr local_address;	/* source; family 0: chosen by the kernel */
	uint16_t port;			/* default 179 */
	uint32_t hold_time;		/* seconds, 0 or 3..65535, default 90 */
	bool passive;			/* only accept, never connect; default no */
	unsigned multihop;		/* TTL; default 1 for eBGP, 255 for iBGP */
	struct cgw_bgp_policy policy;	/* max-prefix-in default 0 (none),
					   max-prefix-out 0, export default none */
};

struct cgw_conf {
	char *path;
	struct cgw_gateway_conf gateway;
	struct cgw_bgp_conf bgp;
	struct cgw_tunnel_conf *tunnels;
	size_t n_tunnels;
	struct cgw_neighbor_conf *neighbors;
	size_t n_neighbors;
};

/* Diagnostics: every problem found, each as "file:line: message". */
struct conf_diag {
	char **lines;
	size_t n_lines;
	size_t n_errors;
	size_t n_warnings;
};

void conf_diag_free(struct conf_diag *diag);
/* Write every line to out, one per line. */
void conf_diag_print(FILE *out, const struct conf_diag *diag);

enum conf_load_flags {
	CONF_CHECK_PERMS = 1 << 0,	/* refuse secrets readable by others */
};

/*
 * Load and validate path. Returns a new snapshot, or NULL when any error
 * was found; diag (caller frees with conf_diag_free) gets every error and
 * warning either way.
 */
struct cgw_conf *conf_load(const char *path, unsigned flags, struct conf_diag *diag);

/*
 * Same from a buffer; name is used in messages and psk-file paths are read
 * relative to the working directory. Used by tests and the fuzzer.
 */
struct cgw_conf *conf_load_buffer(const char *name, const char *text, size_t len,
				  unsigned flags, struct conf_diag *diag);

/* Free a snapshot and wipe its secrets. NULL is a no-op. */
void conf_free(struct cgw_conf *conf);

/* Print in canonical form (every key, defaults explicit, PSKs "<hidden>"). */
void conf_print(FILE *out, const struct cgw_conf *conf);

const struct cgw_tunnel_conf *conf_tunnel_find(const struct cgw_conf *conf,
					       const char *name);

/* True when two tunnel configs would give the same tunnel (PSK included).
 * The BGP keys (bgp-*) are not compared: see conf_tunnel_bgp_equal. */
bool conf_tunnel_equal(const struct cgw_tunnel_conf *a,
		       const struct cgw_tunnel_conf *b);
/* True when the BGP session of two tunnel configs would be the same
 * (bgp-peer-asn, bgp-hold-time, the policy, the inside addresses). */
bool conf_tunnel_bgp_equal(const struct cgw_tunnel_conf *a,
			   const struct cgw_tunnel_conf *b);

const struct cgw_neighbor_conf *conf_neighbor_find(const struct cgw_conf *conf,
						   const char *name);
bool conf_neighbor_equal(const struct cgw_neighbor_conf *a,
			 const struct cgw_neighbor_conf *b);
/* True when the [bgp] sections are the same (networks included). */
bool conf_bgp_equal(const struct cgw_bgp_conf *a, const struct cgw_bgp_conf *b);
/* True when prefix p lies inside one of list[0..n) (n == 0: true). */
bool conf_prefix_in_list(const struct cgw_prefix *p, const struct cgw_prefix *list,
			 size_t n);

/* Formatting helpers shared with status output; buf must be >= 64 bytes. */
const char *conf_addr_str(const struct cgw_addr *a, char *buf, size_t len);
const char *conf_prefix_str(const struct cgw_prefix *p, char *buf, size_t len);
int conf_parse_addr(const char *s, struct cgw_addr *out);
int conf_parse_prefix(const char *s, struct cgw_prefix *out);

const char *conf_startup_name(enum cgw_startup s);
const char *conf_dpd_action_name(enum cgw_dpd_action a);

#endif
