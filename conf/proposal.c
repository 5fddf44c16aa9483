/*
 * strongSwan-style proposal strings <-> IANA transform ids. Owns the
 * algorithm name tables (X-macros, so names and ids cannot drift).
 */
#include "conf/proposal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* name, transform type, id, key length (bits), AEAD */
#define ALGORITHMS(X) \
	X("aes128", IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 128, false) \
	X("aes256", IKE_TRANSFORM_ENCR, IKE_ENCR_AES_CBC, 256, false) \
	X("aes128gcm16", IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 128, true) \
	X("aes256gcm16", IKE_TRANSFORM_ENCR, IKE_ENCR_AES_GCM_16, 256, true) \
	X("sha1", IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA1_96, 0, false) \
	X("sha256", IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0, false) \
	X("sha384", IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_384_192, 0, false) \
	X("sha512", IKE_TRANSFORM_INTEG, IKE_INTEG_HMAC_SHA2_512_256, 0, false) \
	X("prfsha1", IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA1, 0, false) \
	X("prfsha256", IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_256, 0, false) \
	X("prfsha384", IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_384, 0, false) \
	X("prfsha512", IKE_TRANSFORM_PRF, IKE_PRF_HMAC_SHA2_512, 0, false) \
	X("modp1024", IKE_TRANSFORM_DH, 2, 0, false) \
	X("modp1536", IKE_TRANSFORM_DH, 5, 0, false) \
	X("modp2048", IKE_TRANSFORM_DH, 14, 0, false) \
	X("modp3072", IKE_TRANSFORM_DH, 15, 0, false) \
	X("modp4096", IKE_TRANSFORM_DH, 16, 0, false) \
	X("modp6144", IKE_TRANSFORM_DH, 17, 0, false) \
	X("modp8192", IKE_TRANSFORM_DH, 18, 0, false) \
	X("ecp256", IKE_TRANSFORM_DH, 19, 0, false) \
	X("ecp384", IKE_TRANSFORM_DH, 20, 0, false) \
	X("ecp521", IKE_TRANSFORM_DH, 21, 0, false) \
	X("modp1024s160", IKE_TRANSFORM_DH, 22, 0, false) \
	X("modp2048s224", IKE_TRANSFORM_DH, 23, 0, false) \
	X("modp2048s256", IKE_TRANSFORM_DH, 24, 0, false) \
	X("x25519", IKE_TRANSFORM_DH, 31, 0, false) \
	X("noesn", IKE_TRANSFORM_ESN, IKE_ESN_NONE, 0, false) \
	X("esn", IKE_TRANSFORM_ESN, IKE_ESN_YES, 0, false)

struct alg_def {
	const char *name;
	enum ike_transform_type type;
	uint16_t id;
	uint16_t keylen;
	bool aead;
};

static const struct alg_def alg_defs[] = {
#define X(name, type, id, keylen, aead) { name, type, id, keylen, aead },
	ALGORITHMS(X)
#undef X
};

static const char *const alg_names[] = {
#define X(name, type, id, keylen, aead) name,
	ALGORITHMS(X)
#undef X
	"curve25519",
	NULL
};

/* Other spellings people copy from strongSwan and Libreswan configs. */
static const struct {
	const char *alias;
	const char *name;
} alg_aliases[] = {
	{ "curve25519", "x25519" },
	{ "aes128gcm128", "aes128gcm16" },
	{ "aes256gcm128", "aes256gcm16" },
	{ "sha2_256", "sha256" },
	{ "sha2_384", "sha384" },
	{ "sha2_512", "sha512" },
};

static const struct alg_def *alg_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(alg_aliases); i++)
		if (strcmp(name, alg_aliases[i].alias) == 0)
			name = alg_aliases[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(alg_defs); i++)
		if (strcmp(name, alg_defs[i].name) == 0)
			return &alg_defs[i];
	return NULL;
}

static const struct alg_def *alg_by_id(enum ike_transform_type type,
				       const struct cgw_alg *alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(alg_defs); i++) {
		const struct alg_def *d = &alg_defs[i];
		if (d->type == type && d->id == alg->id && d->keylen == alg->keylen)
			return d;
	}
	return NULL;
}

/* PRF that goes with an INTEG name in IKE proposals ("sha256" gives both). */
static uint16_t prf_for_integ(uint16_t integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA1_96:
		return IKE_PRF_HMAC_SHA1;
	case IKE_INTEG_HMAC_SHA2_256_128:
		return IKE_PRF_HMAC_SHA2_256;
	case IKE_INTEG_HMAC_SHA2_384_192:
		return IKE_PRF_HMAC_SHA2_384;
	case IKE_INTEG_HMAC_SHA2_512_256:
		return IKE_PRF_HMAC_SHA2_512;
	default:
		return 0;
	}
}

static bool alg_list_has(const struct cgw_alg *list, size_t n, const struct cgw_alg *a)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].id == a->id && list[i].keylen == a->keylen)
			return true;
	return false;
}

static int alg_list_add(struct cgw_alg *list, size_t *n, struct cgw_alg a)
{
	if (alg_list_has(list, *n, &a))
		return 0;
	if (*n >= PROPOSAL_MAX_ALGS)
		return -E2BIG;
	list[(*n)++] = a;
	return 0;
}

bool proposal_is_aead(const struct cgw_proposal *p)
{
	return p->n_encr > 0 && p->encr[0].id == IKE_ENCR_AES_GCM_16;
}

static int proposal_add_token(struct cgw_proposal *p, const struct alg_def *d,
			      enum proposal_kind kind, bool *explicit_prf)
{
	struct cgw_alg a = { .id = d->id, .keylen = d->keylen };

	switch (d->type) {
	case IKE_TRANSFORM_ENCR:
		return alg_list_add(p->encr, &p->n_encr, a);
	case IKE_TRANSFORM_INTEG:
		if (kind == PROPOSAL_IKE) {
			struct cgw_alg prf = { .id = prf_for_integ(d->id) };
			if (!*explicit_prf && alg_list_add(p->prf, &p->n_prf, prf) < 0)
				return -E2BIG;
		}
		return alg_list_add(p->integ, &p->n_integ, a);
	case IKE_TRANSFORM_PRF:
		if (!*explicit_prf)
			p->n_prf = 0;	/* explicit PRFs replace derived ones */
		*explicit_prf = true;
		return alg_list_add(p->prf, &p->n_prf, a);
	case IKE_TRANSFORM_DH:
		return alg_list_add(p->dh, &p->n_dh, a);
	case IKE_TRANSFORM_ESN:
		return alg_list_add(p->esn, &p->n_esn, a) < 0 ? -E2BIG : 0;
	}
	return -EINVAL;
}

/* Check one proposal for completeness and consistency. */
static int proposal_check(struct cgw_proposal *p, enum proposal_kind kind,
			  const char *text, char *err, size_t errlen)
{
	size_t n_aead = 0;

	for (size_t i = 0; i < p->n_encr; i++)
		n_aead += p->encr[i].id == IKE_ENCR_AES_GCM_16;
	if (p->n_encr == 0) {
		snprintf(err, errlen, "proposal '%s' has no encryption algorithm", text);
		return -EINVAL;
	}
	if (n_aead && n_aead != p->n_encr) {
		snprintf(err, errlen, "proposal '%s' mixes AEAD (gcm) and non-AEAD "
			 "ciphers: put them in separate proposals", text);
		return -EINVAL;
	}
	if (n_aead) {
		/* With AEAD the sha* names only select the PRF (IKE). Clear
		 * the list whole: snapshots are compared with memcmp. */
		memset(p->integ, 0, sizeof(p->integ));
		p->n_integ = 0;
	} else if (p->n_integ == 0) {
		snprintf(err, errlen, "proposal '%s' needs an integrity algorithm "
			 "(sha1, sha256, sha384, sha512)", text);
		return -EINVAL;
	}
	if (kind == PROPOSAL_IKE) {
		if (p->n_prf == 0) {
			snprintf(err, errlen, "proposal '%s' needs a PRF "
				 "(sha256 or prfsha256, ...)", text);
			return -EINVAL;
		}
		if (p->n_dh == 0) {
			snprintf(err, errlen, "proposal '%s' needs a DH group "
				 "(modp2048, ecp256, ...)", text);
			return -EINVAL;
		}
		if (p->n_esn) {
			snprintf(err, errlen, "proposal '%s': esn applies to esp only", text);
			return -EINVAL;
		}
	}
	return 0;
}

static int proposal_parse_one(char *text, enum proposal_kind kind,
			      struct cgw_proposal *p, char *err, size_t errlen)
{
	char orig[256];
	bool explicit_prf = false;
	char *save = NULL;

	snprintf(orig, sizeof(orig), "%s", text);
	memset(p, 0, sizeof(*p));
	for (char *tok = strtok_r(text, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
		const struct alg_def *d = alg_lookup(tok);

		if (!d) {
			const char *hint = str_suggest(tok, alg_names);
			snprintf(err, errlen, "unknown algorithm '%s' in '%s'%s%s%s", tok,
				 orig, hint ? " (did you mean '" : "", hint ? hint : "",
				 hint ? "'?)" : "");
			return -EINVAL;
		}
		if (kind == PROPOSAL_ESP && d->type == IKE_TRANSFORM_PRF) {
			snprintf(err, errlen, "'%s' in '%s': a PRF applies to ike only", tok, orig);
			return -EINVAL;
		}
		if (proposal_add_token(p, d, kind, &explicit_prf) < 0) {
			snprintf(err, errlen, "too many algorithms in '%s' (at most %d per type)",
				 orig, PROPOSAL_MAX_ALGS);
			return -EINVAL;
		}
	}
	return proposal_check(p, kind, orig, err, errlen);
}

int proposal_parse(const char *text, enum proposal_kind kind,
		   struct cgw_proposals *out, char *err, size_t errlen)
{
	char buf[1024];
	char *rest = buf, *tok;
	int r;

	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "proposal list too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (out->n == 0 && !rest && !*tok)
			break;		/* an empty string: "no proposal given" */
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t l = strlen(tok);
		while (l && (tok[l - 1] == ' ' || tok[l - 1] == '\t'))
			tok[--l] = '\0';
		if (l == 0) {
			snprintf(err, errlen, "empty proposal in '%s'", text);
			return -EINVAL;
		}
		if (out->n >= PROPOSALS_MAX) {
			snprintf(err, errlen, "too many proposals (at most %d)", PROPOSALS_MAX);
			return -EINVAL;
		}
		r = proposal_parse_one(tok, kind, &out->p[out->n], err, errlen);
		if (r < 0)
			return r;
		out->n++;
	}
	if (out->n == 0) {
		snprintf(err, errlen, "no proposal given");
		return -EINVAL;
	}
	return 0;
}

const char *proposal_alg_name(enum ike_transform_type type, const struct cgw_alg *alg)
{
	const struct alg_def *d = alg_by_id(type, alg);

	return d ? d->name : NULL;
}

static void buf_append(char *buf, size_t len, size_t *off, const char *s)
{
	int n = snprintf(buf + *off, *off < len ? len - *off : 0, "%s", s);

	if (n > 0)
		*off += (size_t)n;
}

static void append_list(char *buf, size_t len, size_t *off, enum ike_transform_type type,
			const struct cgw_alg *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = proposal_alg_name(type, &list[i]);
		if (*off)
			buf_append(buf, len, off, buf[*off - 1] == ',' ? "" : "-");
		buf_append(buf, len, off, name ? name : "?");
	}
}

/* True when the PRFs are exactly those the INTEG names imply (then omitted). */
static bool prf_is_derived(const struct cgw_proposal *q)
{
	if (q->n_integ == 0 || q->n_integ != q->n_prf)
		return false;
	for (size_t i = 0; i < q->n_integ; i++)
		if (q->prf[i].id != prf_for_integ(q->integ[i].id))
			return false;
	return true;
}

const char *proposal_str(const struct cgw_proposals *p, enum proposal_kind kind,
			 char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const struct cgw_proposal *q = &p->p[i];
		if (i)
			buf_append(buf, len, &off, ",");
		append_list(buf, len, &off, IKE_TRANSFORM_ENCR, q->encr, q->n_encr);
		append_list(buf, len, &off, IKE_TRANSFORM_INTEG, q->integ, q->n_integ);
		if (!prf_is_derived(q))
			append_list(buf, len, &off, IKE_TRANSFORM_PRF, q->prf, q->n_prf);
		append_list(buf, len, &off, IKE_TRANSFORM_DH, q->dh, q->n_dh);
		append_list(buf, len, &off, IKE_TRANSFORM_ESN, q->esn, q->n_esn);
	}
	return buf;
}
