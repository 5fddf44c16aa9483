/*
 * Algorithm names of the sources -> cgw proposal lists. AWS tunnel option
 * spellings (tfstate, EC2 API: "AES256-GCM-16", "SHA2-256", DH numbers)
 * and Libreswan ike=/esp= tokens ("aes_gcm256", "sha2_256", "modp2048",
 * "dh19") become cgw's strongSwan-style names; every result is checked
 * with conf/proposal.c's own parser before it is returned.
 */
#include "import/import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "conf/proposal.h"

/* Room for "ike = " and the rest on one cgw.conf line (inih: 200 bytes). */
#define IMP_PROPOSAL_LINE 180

struct name_map {
	const char *from;
	const char *to;
};

/* Preference order: the order cgw offers them in. */
static const struct name_map aws_enc[] = {
	{ "AES256-GCM-16", "aes256gcm16" }, { "AES128-GCM-16", "aes128gcm16" },
	{ "AES256", "aes256" }, { "AES128", "aes128" },
};

static const struct name_map aws_integ[] = {
	{ "SHA2-512", "sha512" }, { "SHA2-384", "sha384" },
	{ "SHA2-256", "sha256" }, { "SHA1", "sha1" },
};

static const struct {
	unsigned group;
	const char *name;
} dh_groups[] = {
	{ 21, "ecp521" }, { 20, "ecp384" }, { 19, "ecp256" },
	{ 18, "modp8192" }, { 17, "modp6144" }, { 16, "modp4096" },
	{ 15, "modp3072" }, { 14, "modp2048" }, { 24, "modp2048s256" },
	{ 23, "modp2048s224" }, { 22, "modp1024s160" }, { 5, "modp1536" },
	{ 2, "modp1024" }, { 31, "x25519" },
};

static bool is_gcm(const char *cgw)
{
	return strstr(cgw, "gcm") != NULL;
}

static void append(char *out, size_t outlen, const char *sep, const char *s)
{
	size_t n = strlen(out);

	snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", n ? sep : "", s);
}

/* Names in a flat list, at most 16 of each type. */
struct name_set {
	const char *v[16];
	size_t n;
};

static void set_add(struct name_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return;
	if (s->n < ARRAY_SIZE(s->v))
		s->v[s->n++] = name;
}

/*
 * One proposal per cipher family (AEAD and CBC cannot share one in cgw)
 * and per chunk of at most PROPOSAL_MAX_ALGS DH groups.
 */
static void build(enum imp_prop_kind kind, const struct name_set *enc,
		  const struct name_set *integ, const struct name_set *dh,
		  char *out, size_t outlen)
{
	out[0] = '\0';
	for (int gcm = 1; gcm >= 0; gcm--) {
		char head[IMP_PROP_MAX] = "";
		for (size_t i = 0; i < enc->n; i++)
			if (is_gcm(enc->v[i]) == (bool)gcm)
				append(head, sizeof(head), "-", enc->v[i]);
		if (!head[0])
			continue;
		if (!gcm || kind == IMP_IKE)	/* IKE+AEAD: sha* picks the PRF */
			for (size_t i = 0; i < integ->n; i++)
				append(head, sizeof(head), "-", integ->v[i]);
		if (dh->n == 0) {
			append(out, outlen, ",", head);
			continue;
		}
		for (size_t i = 0; i < dh->n; i += PROPOSAL_MAX_ALGS) {
			char p[IMP_PROP_MAX];
			snprintf(p, sizeof(p), "%s", head);
			for (size_t j = i; j < dh->n && j < i + PROPOSAL_MAX_ALGS; j++)
				append(p, sizeof(p), "-", dh->v[j]);
			append(out, outlen, ",", p);
		}
	}
}

static int check(enum imp_prop_kind kind, const char *out, char *err, size_t errlen)
{
	struct cgw_proposals p;

	return proposal_parse(out, kind == IMP_IKE ? PROPOSAL_IKE : PROPOSAL_ESP,
			      &p, err, errlen);
}

/*
 * cgw.conf lines are short (see IMP_LINE_MAX): when every algorithm AWS
 * allows does not fit, offer the strongest few. Offering a subset of what
 * the tunnel permits is always accepted.
 */
static int build_short(enum imp_prop_kind kind, struct name_set *enc,
		       struct name_set *integ, struct name_set *dh, char *out,
		       size_t outlen, char *err, size_t errlen)
{
	static const size_t limits[][3] = { { 16, 16, 16 }, { 16, 16, 4 }, { 16, 2, 2 },
					    { 2, 2, 2 }, { 1, 1, 1 } };

	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		struct name_set e = *enc, g = *integ, d = *dh;
		e.n = e.n < limits[i][0] ? e.n : limits[i][0];
		g.n = g.n < limits[i][1] ? g.n : limits[i][1];
		d.n = d.n < limits[i][2] ? d.n : limits[i][2];
		build(kind, &e, &g, &d, out, outlen);
		if (strlen(out) <= IMP_PROPOSAL_LINE)
			break;
	}
	return check(kind, out, err, errlen);
}

static int aws_names(const struct name_map *map, size_t nmap, const char *const *in,
		     size_t n, struct name_set *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < nmap; j++)
			if (strcasecmp(in[i], map[j].from) == 0)
				break;
		if (j == nmap) {
			snprintf(err, errlen, "unknown algorithm '%s'", in[i]);
			return -EINVAL;
		}
	}
	for (size_t j = 0; j < nmap; j++)	/* preference order */
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(in[i], map[j].from) == 0)
				set_add(out, map[j].to);
	return 0;
}

int imp_aws_proposal(enum imp_prop_kind kind, const struct imp_aws_algs *a,
		     char *out, size_t outlen, char *err, size_t errlen)
{
	struct name_set enc = { .n = 0 }, integ = { .n = 0 }, dh = { .n = 0 };

	if (aws_names(aws_enc, ARRAY_SIZE(aws_enc), a->enc, a->n_enc, &enc, err, errlen) < 0 ||
	    aws_names(aws_integ, ARRAY_SIZE(aws_integ), a->integ, a->n_integ, &integ,
		      err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < a->n_dh; i++) {
		size_t j;
		for (j = 0; j < ARRAY_SIZE(dh_groups); j++)
			if (dh_groups[j].group == a->dh[i] && a->dh[i] != 31)
				break;
		if (j == ARRAY_SIZE(dh_groups)) {
			snprintf(err, errlen, "unknown DH group %u", a->dh[i]);
			return -EINVAL;
		}
	}
	for (size_t j = 0; j < ARRAY_SIZE(dh_groups); j++)
		for (size_t i = 0; i < a->n_dh; i++)
			if (dh_groups[j].group == a->dh[i])
				set_add(&dh, dh_groups[j].name);
	/* An unset type keeps cgw's default for it. */
	if (enc.n == 0)
		set_add(&enc, kind == IMP_IKE ? "aes256" : "aes256gcm16");
	if (integ.n == 0)
		set_add(&integ, "sha256");
	if (dh.n == 0)
		set_add(&dh, "modp2048");
	return build_short(kind, &enc, &integ, &dh, out, outlen, err, errlen);
}

/* ---- Libreswan ---- */

struct ls_token {
	const char *name;
	const char *cgw[2];	/* one or two cgw names */
	char type;		/* 'e'ncr, 'i'nteg, 'd'h, 'n'one */
};

static const struct ls_token ls_tokens[] = {
	{ "aes", { "aes256", "aes128" }, 'e' },
	{ "aes_cbc", { "aes256", "aes128" }, 'e' },
	{ "aes128", { "aes128", NULL }, 'e' },
	{ "aes_cbc128", { "aes128", NULL }, 'e' },
	{ "aes_cbc_128", { "aes128", NULL }, 'e' },
	{ "aes256", { "aes256", NULL }, 'e' },
	{ "aes_cbc256", { "aes256", NULL }, 'e' },
	{ "aes_cbc_256", { "aes256", NULL }, 'e' },
	{ "aes_gcm", { "aes256gcm16", "aes128gcm16" }, 'e' },
	{ "aes_gcm_16", { "aes256gcm16", "aes128gcm16" }, 'e' },
	{ "aes_gcm_c", { "aes256gcm16", "aes128gcm16" }, 'e' },
	{ "aesgcm", { "aes256gcm16", "aes128gcm16" }, 'e' },
	{ "aes_gcm128", { "aes128gcm16", NULL }, 'e' },
	{ "aes_gcm_128", { "aes128gcm16", NULL }, 'e' },
	{ "aes_gcm_16_128", { "aes128gcm16", NULL }, 'e' },
	{ "aes128gcm16", { "aes128gcm16", NULL }, 'e' },
	{ "aes_gcm256", { "aes256gcm16", NULL }, 'e' },
	{ "aes_gcm_256", { "aes256gcm16", NULL }, 'e' },
	{ "aes_gcm_16_256", { "aes256gcm16", NULL }, 'e' },
	{ "aes256gcm16", { "aes256gcm16", NULL }, 'e' },
	{ "sha", { "sha1", NULL }, 'i' },
	{ "sha1", { "sha1", NULL }, 'i' },
	{ "sha1_96", { "sha1", NULL }, 'i' },
	{ "sha2", { "sha256", NULL }, 'i' },
	{ "sha256", { "sha256", NULL }, 'i' },
	{ "sha2_256", { "sha256", NULL }, 'i' },
	{ "sha2_256_128", { "sha256", NULL }, 'i' },
	{ "sha384", { "sha384", NULL }, 'i' },
	{ "sha2_384", { "sha384", NULL }, 'i' },
	{ "sha2_384_192", { "sha384", NULL }, 'i' },
	{ "sha512", { "sha512", NULL }, 'i' },
	{ "sha2_512", { "sha512", NULL }, 'i' },
	{ "sha2_512_256", { "sha512", NULL }, 'i' },
	{ "modp1024", { "modp1024", NULL }, 'd' },
	{ "dh2", { "modp1024", NULL }, 'd' },
	{ "modp1536", { "modp1536", NULL }, 'd' },
	{ "dh5", { "modp1536", NULL }, 'd' },
	{ "modp2048", { "modp2048", NULL }, 'd' },
	{ "dh14", { "modp2048", NULL }, 'd' },
	{ "modp3072", { "modp3072", NULL }, 'd' },
	{ "dh15", { "modp3072", NULL }, 'd' },
	{ "modp4096", { "modp4096", NULL }, 'd' },
	{ "dh16", { "modp4096", NULL }, 'd' },
	{ "modp6144", { "modp6144", NULL }, 'd' },
	{ "dh17", { "modp6144", NULL }, 'd' },
	{ "modp8192", { "modp8192", NULL }, 'd' },
	{ "dh18", { "modp8192", NULL }, 'd' },
	{ "dh19", { "ecp256", NULL }, 'd' },
	{ "ecp_256", { "ecp256", NULL }, 'd' },
	{ "ecp256", { "ecp256", NULL }, 'd' },
	{ "dh20", { "ecp384", NULL }, 'd' },
	{ "ecp_384", { "ecp384", NULL }, 'd' },
	{ "ecp384", { "ecp384", NULL }, 'd' },
	{ "dh21", { "ecp521", NULL }, 'd' },
	{ "ecp_521", { "ecp521", NULL }, 'd' },
	{ "ecp521", { "ecp521", NULL }, 'd' },
	{ "dh22", { "modp1024s160", NULL }, 'd' },
	{ "dh23", { "modp2048s224", NULL }, 'd' },
	{ "dh24", { "modp2048s256", NULL }, 'd' },
	{ "dh31", { "x25519", NULL }, 'd' },
	{ "curve25519", { "x25519", NULL }, 'd' },
	{ "x25519", { "x25519", NULL }, 'd' },
	{ "null", { NULL, NULL }, 'n' },
	{ "none", { NULL, NULL }, 'n' },
};

static const struct ls_token *ls_lookup(const char *tok)
{
	for (size_t i = 0; i < ARRAY_SIZE(ls_tokens); i++)
		if (strcasecmp(tok, ls_tokens[i].name) == 0)
			return &ls_tokens[i];
	return NULL;
}

struct ls_sets {
	struct name_set enc, integ, dh;
};

/* Tokens of one Libreswan proposal ("aes128-sha1;modp1024") into sets. */
static int ls_split(char *prop, struct ls_sets *s, char *err, size_t errlen)
{
	char *save = NULL;

	for (char *tok = strtok_r(prop, "-;+", &save); tok; tok = strtok_r(NULL, "-;+", &save)) {
		const struct ls_token *t = ls_lookup(tok);
		struct name_set *set;

		if (!t) {
			snprintf(err, errlen, "algorithm '%s' has no cgw equivalent "
				 "(cgw has aes128/256 CBC and GCM, sha1/sha2, modp/ecp "
				 "groups)", tok);
			return -EINVAL;
		}
		set = t->type == 'e' ? &s->enc : t->type == 'i' ? &s->integ : &s->dh;
		for (size_t i = 0; i < 2 && t->cgw[i]; i++)
			set_add(set, t->cgw[i]);
	}
	return 0;
}

static void ls_fill(enum imp_prop_kind kind, struct ls_sets *s, bool pfs,
		    const char *ike_dh, char *notes, size_t noteslen)
{
	bool gcm_only = true;

	for (size_t i = 0; i < s->enc.n; i++)
		gcm_only &= is_gcm(s->enc.v[i]);
	if (s->integ.n == 0 && (!gcm_only || kind == IMP_IKE)) {
		set_add(&s->integ, "sha256");
		append(notes, noteslen, "; ", kind == IMP_IKE && gcm_only ?
		       "no PRF given: added sha256" : "no integrity given: added sha256");
	}
	if (kind == IMP_IKE && s->dh.n == 0) {
		set_add(&s->dh, "modp2048");
		append(notes, noteslen, "; ", "no DH group given: added modp2048 "
		       "(Libreswan's first default)");
	}
	if (kind == IMP_ESP && !pfs && s->dh.n) {
		s->dh.n = 0;
		append(notes, noteslen, "; ", "pfs=no: DH group dropped");
	}
	if (kind == IMP_ESP && pfs && s->dh.n == 0 && ike_dh && *ike_dh) {
		set_add(&s->dh, ike_dh);
		append(notes, noteslen, "; ", "PFS with the IKE group (Libreswan's pfs=yes)");
	}
}

int imp_libreswan_proposal(enum imp_prop_kind kind, const char *value, bool pfs,
			   const char *ike_dh, char *out, size_t outlen,
			   char *notes, size_t noteslen, char *err, size_t errlen)
{
	char buf[IMP_PROP_MAX], *save = NULL;
	size_t n;

	out[0] = '\0';
	notes[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *prop = strtok_r(buf, ",", &save); prop; prop = strtok_r(NULL, ",", &save)) {
		struct ls_sets s;
		char one[IMP_PROP_MAX];

		memset(&s, 0, sizeof(s));
		while (*prop == ' ' || *prop == '\t')
			prop++;
		n = strlen(prop);
		while (n && (prop[n - 1] == ' ' || prop[n - 1] == '!' || prop[n - 1] == '\t'))
			prop[--n] = '\0';	/* "!" is old strict-mode syntax */
		if (n == 0)
			continue;
		if (ls_split(prop, &s, err, errlen) < 0)
			return -EINVAL;
		if (s.enc.n == 0) {
			snprintf(err, errlen, "'%s' names no encryption algorithm", value);
			return -EINVAL;
		}
		ls_fill(kind, &s, pfs, ike_dh, notes, noteslen);
		build(kind, &s.enc, &s.integ, &s.dh, one, sizeof(one));
		if (strlen(out) + strlen(one) + 1 > IMP_PROPOSAL_LINE) {
			append(notes, noteslen, "; ", "later proposals left out (line length)");
			break;
		}
		append(out, outlen, ",", one);
	}
	if (!out[0]) {
		snprintf(err, errlen, "empty proposal");
		return -EINVAL;
	}
	return check(kind, out, err, errlen);
}

bool imp_proposal_weak(const char *prop, char *which, size_t len)
{
	static const char *const weak[] = { "sha1", "modp1024s160", "modp1024",
					    "modp1536" };
	char buf[IMP_PROP_MAX], *save = NULL;

	which[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", prop);
	for (char *t = strtok_r(buf, "-,", &save); t; t = strtok_r(NULL, "-,", &save))
		for (size_t i = 0; i < ARRAY_SIZE(weak); i++)
			if (strcmp(t, weak[i]) == 0 && !strstr(which, t))
				append(which, len, ", ", t);
	return which[0] != '\0';
}
