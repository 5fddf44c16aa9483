/*
 * cgwctl import: turn what an operator already has (Terraform state, AWS's
 * CustomerGatewayConfiguration XML, Libreswan + FRR configs) into a
 * cgw.conf. Every reader fills the neutral model below (one imp_vpn per
 * VPN connection or per Libreswan import); plan.c names and numbers the
 * tunnels, emit.c writes the config text. Nothing here touches the
 * network or the daemon. Secrets (PSKs) live in malloc'd strings that
 * imp_*_free() wipe with sodium_memzero.
 *
 * Diagnostics are collected, each as "file:line: message" (errors) or
 * "file:line: warning: message", and printed by the caller on stderr.
 */
#ifndef CGW_IMPORT_H
#define CGW_IMPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IMP_ADDR_MAX 64		/* text of an address or prefix */
#define IMP_NAME_MAX 32		/* tunnel name, as in cgw.conf */
#define IMP_PROP_MAX 512	/* one ike/esp proposal list */
#define IMP_MAX_PREFIXES 64
#define IMP_MAX_TUNNELS 64	/* cgw.conf's own limit */
#define IMP_MAX_INPUT (16u << 20)	/* bytes read from any one file */

/* ---- diagnostics ---- */

struct imp_diag {
	char **lines;
	size_t n;
	size_t n_errors;
	size_t n_warnings;
};

/* Record "where: message" / "where: warning: message"; line 0 omits it. */
void imp_error(struct imp_diag *d, const char *file, unsigned line,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void imp_warn(struct imp_diag *d, const char *file, unsigned line,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void imp_diag_print(FILE *out, const struct imp_diag *d);
void imp_diag_free(struct imp_diag *d);

/* ---- the neutral model ---- */

struct imp_prefixes {
	char v[IMP_MAX_PREFIXES][IMP_ADDR_MAX];
	size_t n;
};

/* Add a prefix unless present; false when the list is full. */
bool imp_prefixes_add(struct imp_prefixes *l, const char *p);

/* Per-tunnel options; 0, "" or -1 mean "not given: cgw's default". */
struct imp_opts {
	char ike[IMP_PROP_MAX];		/* cgw proposal list */
	char esp[IMP_PROP_MAX];
	char ike_why[160];		/* where the proposal came from */
	char esp_why[160];
	uint32_t ike_lifetime, esp_lifetime;
	uint32_t rekey_margin, replay_window;
	int rekey_fuzz;			/* -1: not given */
	uint32_t dpd_delay, dpd_timeout;
	const char *dpd_action;		/* NULL or restart/clear/hold */
	const char *startup;		/* NULL or start/add */
	uint32_t hold_time;		/* BGP hold time, seconds */
	bool hold_time_set;
};

struct imp_tunnel {
	char name[IMP_NAME_MAX];	/* set by plan.c unless a reader named it */
	char remote[IMP_ADDR_MAX];	/* AWS outside address (IKE peer) */
	char remote_id[IMP_ADDR_MAX];	/* only when it differs from remote */
	char local_outside[IMP_ADDR_MAX]; /* the customer gateway's public IP */
	char local_id[IMP_ADDR_MAX];	/* per-tunnel IKE identity, "" = gateway's */
	char inside[IMP_ADDR_MAX];	/* "169.254.10.0/30" */
	char local_inside[IMP_ADDR_MAX];/* as the source says, "" = unknown */
	char remote_inside[IMP_ADDR_MAX];
	char *psk;			/* malloc'd, wiped on free */
	uint32_t peer_asn;		/* 0: no BGP on this tunnel */
	char vti[16];			/* "" = plan.c's default */
	uint32_t mark;			/* 0 = plan.c's default */
	struct imp_opts o;
	char local_ts[256], remote_ts[256];	/* "" = 0.0.0.0/0 */
	struct imp_prefixes routes;	/* static routes via this tunnel */
	char **notes;			/* comment lines for the section */
	size_t n_notes;
	char src[256];			/* "file:line" of its definition */
};

struct imp_vpn {
	char id[64];			/* "vpn-…" or "" */
	char address[256];		/* Terraform address, or the file */
	char label[128];		/* tags.Name, or "" */
	bool static_routing;		/* no BGP */
	uint32_t local_asn;		/* customer gateway ASN, 0 unknown */
	char local_ip[IMP_ADDR_MAX];	/* customer gateway public IP */
	char local_id[IMP_ADDR_MAX];	/* IKE identity if not local_ip */
	struct imp_tunnel *t;
	size_t n_tunnels;
	struct imp_prefixes onprem;	/* static: what AWS routes to us */
	char **notes;			/* comment lines about the connection */
	size_t n_notes;
};

/* A whole import: one or more connections and the [bgp] facts. */
struct imp_conf {
	const char *kind;		/* "Terraform state", ... (static) */
	char source[512];		/* files, for the header comment */
	struct imp_vpn *vpns;
	size_t n_vpns;
	uint32_t asn;			/* 0: take it from the connections */
	char router_id[IMP_ADDR_MAX];
	struct imp_prefixes networks;	/* [bgp] network lines */
	bool networks_from_source;	/* FRR gave them */
	char local_address[IMP_ADDR_MAX];	/* "" = from the connections */
	char local_id[IMP_ADDR_MAX];
	bool no_local_address;		/* Libreswan %defaultroute: leave it out */
	char **notes;			/* comment lines under [bgp] */
	size_t n_notes;
};

struct imp_tunnel *imp_vpn_add_tunnel(struct imp_vpn *v);
struct imp_vpn *imp_conf_add_vpn(struct imp_conf *c);
/* Append a comment line (printf-style) to a notes list. */
void imp_note(char ***notes, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void imp_tunnel_free(struct imp_tunnel *t);
void imp_vpn_free(struct imp_vpn *v);
void imp_conf_free(struct imp_conf *c);
/* Replace *dst with a copy of src (NULL clears); wipes the old one. */
int imp_set_secret(char **dst, const char *src, size_t len);

/* ---- readers ---- */

/*
 * Read a whole file (at most IMP_MAX_INPUT bytes, NUL-terminated). 0 with
 * *buf malloc'd, or -errno with the reason recorded in d.
 */
int imp_read_file(const char *path, char **buf, size_t *len, struct imp_diag *d);
/* Wipe and free a buffer from imp_read_file. */
void imp_free_buffer(char *buf, size_t len);

/*
 * CustomerGatewayConfiguration XML. name is used in messages; line_base
 * is added to reported lines (0 for a file). Fills v (its tunnels in XML
 * order). 0, or -EINVAL with the reason in d.
 */
int imp_awsxml_parse(const char *name, const char *text, size_t len,
		     struct imp_vpn *v, struct imp_diag *d);

struct imp_tfstate_opts {
	const char *const *select;	/* --vpn values (address, id or "all") */
	size_t n_select;
};

/* Terraform state (v4 or `terraform show -json`) into c. 0 or -EINVAL. */
int imp_tfstate_parse(const char *name, const char *text, size_t len,
		      const struct imp_tfstate_opts *o, struct imp_conf *c,
		      struct imp_diag *d);

/* Libreswan: ipsec.conf-style files and one ipsec.secrets. */
struct imp_libreswan_in {
	const char *const *conf_names;	/* for messages */
	const char *const *conf_texts;
	const size_t *conf_lens;
	size_t n_conf;
	const char *secrets_name;	/* may be NULL */
	const char *secrets_text;
	size_t secrets_len;
};

int imp_libreswan_parse(const struct imp_libreswan_in *in, struct imp_conf *c,
			struct imp_diag *d);

/* FRR frr.conf / bgpd.conf / vtysh transcript, merged into c's tunnels. */
int imp_frr_parse(const char *name, const char *text, size_t len,
		  struct imp_conf *c, struct imp_diag *d);

/* ---- algorithms (algs.c) ---- */

enum imp_prop_kind { IMP_IKE, IMP_ESP };

/*
 * AWS tunnel option sets (tfstate/API spellings: "AES256", "SHA2-256", 14)
 * into a cgw proposal list. A NULL/empty set takes cgw's default for that
 * transform type. 0, or -EINVAL with a message in err (unknown name).
 */
struct imp_aws_algs {
	const char *enc[8];
	size_t n_enc;
	const char *integ[8];
	size_t n_integ;
	unsigned dh[16];
	size_t n_dh;
};

int imp_aws_proposal(enum imp_prop_kind kind, const struct imp_aws_algs *a,
		     char *out, size_t outlen, char *err, size_t errlen);

/*
 * Libreswan ike=/esp= (or phase2alg=) value into a cgw proposal list.
 * pfs: esp without a DH group gets ike_dh (the IKE proposal's group) when
 * pfs is true. notes gets human-readable remarks ("added modp2048 ...").
 * 0, or -EINVAL with the reason in err.
 */
int imp_libreswan_proposal(enum imp_prop_kind kind, const char *value, bool pfs,
			   const char *ike_dh, char *out, size_t outlen,
			   char *notes, size_t noteslen, char *err, size_t errlen);

/* True when a cgw proposal list names a weak transform (sha1, modp1024...). */
bool imp_proposal_weak(const char *prop, char *which, size_t len);

/* ---- plan and emit ---- */

struct imp_plan_opts {
	bool several_names;		/* force <vpn-id>-N names */
};

/*
 * Name tunnels, pick VTIs and marks, check what cgw cannot express and
 * decide the [gateway]/[bgp] sections. 0, or -EINVAL with errors in d.
 */
int imp_plan(struct imp_conf *c, const struct imp_plan_opts *o, struct imp_diag *d);

struct imp_emit_opts {
	const char *psk_dir;		/* prefix for psk-file paths ("" = none) */
	bool placeholder_psk;		/* psk = <placeholder>, to validate the rest */
	const char *header;		/* first comment line, e.g. the command */
};

/* The config text, malloc'd; it never holds a PSK. */
char *imp_emit(const struct imp_conf *c, const struct imp_emit_opts *o, size_t *len);

/*
 * Check the config that imp_emit() writes for c as cgwd would (PSKs, which
 * imp_plan() checked, replaced by a placeholder). 0, or -EINVAL with
 * cgw's own messages in d. Needs secret_init().
 */
int imp_validate(const struct imp_conf *c, struct imp_diag *d);

/* `cgwctl import ...`: argv[0] is "import". Returns the exit status. */
int import_main(int argc, char **argv);

#endif
