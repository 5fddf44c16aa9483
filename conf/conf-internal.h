/*
 * Shared between the config parser's files; not for other modules.
 */
#ifndef CGW_CONF_INTERNAL_H
#define CGW_CONF_INTERNAL_H

#include "conf/conf.h"

enum conf_section {
	SEC_NONE,			/* before the first section header */
	SEC_GATEWAY,
	SEC_BGP,
	SEC_TUNNEL,
	SEC_NEIGHBOR,
	SEC_BAD,			/* unknown section: its keys are skipped */
};

/* Per-tunnel parse bookkeeping, parallel to conf->tunnels. */
struct tunnel_build {
	uint64_t seen;			/* bit per key index: given in the file */
	uint64_t bad;			/* given, but the value was rejected */
	unsigned key_line[64];		/* line each key was given on */
	char *psk_inline;		/* plain text until validation copies it */
};

/* Per-neighbor parse bookkeeping, parallel to conf->neighbors. */
struct neighbor_build {
	uint64_t seen;
	uint64_t bad;
	unsigned key_line[64];
};

struct conf_parser {
	const char *file;
	unsigned flags;
	struct conf_diag *diag;
	struct cgw_conf *conf;

	/* reader state */
	const char *text;
	size_t len;
	size_t pos;
	unsigned line;

	/* section state */
	enum conf_section sec;
	size_t tunnel;			/* index while sec == SEC_TUNNEL */
	size_t neighbor;		/* index while sec == SEC_NEIGHBOR */
	unsigned gateway_line, bgp_line;
	uint64_t gateway_seen, bgp_seen;
	uint64_t gateway_bad, bgp_bad;
	unsigned gateway_key_line[64], bgp_key_line[64];
	struct tunnel_build *tb;
	struct neighbor_build *nb;
	bool inline_psk;		/* some tunnel has psk = in this file */
};

/* Record "file:line: message" (line 0: "file: message"). */
void conf_error(struct conf_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conf_warning(struct conf_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* parse.c: run inih over p->text, filling p->conf. */
void conf_parse_text(struct conf_parser *p);
/* Key index in the tunnel table, for validate.c to ask "was it given?". */
int conf_tunnel_key_index(const char *name);
int conf_bgp_key_index(const char *name);
int conf_neighbor_key_index(const char *name);

/* validate.c: apply defaults, read PSK files, cross-check everything. */
void conf_validate(struct conf_parser *p);

/* Prefix helpers: host bits all zero? / clear the host bits. */
bool conf_prefix_is_network(const struct cgw_prefix *p);
void conf_prefix_mask(struct cgw_prefix *p);

/* Durations: "30s", "5m", "8h", "1d", or plain seconds. */
int conf_parse_duration(const char *s, uint32_t *out);
int conf_parse_u32(const char *s, uint32_t *out);

#endif
