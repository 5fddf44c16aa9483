/*
 * ipsec.secrets (Libreswan's, which strongSwan's starter shares):
 * "SELECTOR... : PSK "secret"" entries, continuation lines indented,
 * secrets quoted, 0x hex or 0s base64, IPv6 selectors in quotes, and the
 * missing blank before ':' of AWS's own template. Other secret kinds
 * (RSA, XAUTH, ...) and include lines are reported and skipped. Decoded
 * PSKs are wiped when the context is freed.
 */
#include "import/libreswan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#define LS_MAX_SECRETS 512
#define LS_MAX_ENTRY 8192

static const char *const kinds[] = { "PSK", "RSA", "ECDSA", "XAUTH", "EAP", "PIN",
				     "PPK", "NTLM", "P12" };

/* Where the ':' separating selectors from the secret is, or NULL. */
static char *find_colon(char *s)
{
	char quote = 0;

	for (char *p = s; *p; p++) {
		if (quote) {
			quote = *p == quote ? 0 : quote;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
			continue;
		}
		if (*p != ':')
			continue;
		char *k = p + 1;
		while (*k == ' ' || *k == '\t')
			k++;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			size_t n = strlen(kinds[i]);
			if (strncasecmp(k, kinds[i], n) == 0 &&
			    (k[n] == ' ' || k[n] == '\t' || k[n] == '\0' || k[n] == '{'))
				return p;
		}
	}
	return NULL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The secret text after "PSK": quoted, 0x..., 0s... or a bare word. */
static int decode_psk(const char *s, char *out, size_t outlen, size_t *len)
{
	size_t n = strlen(s);

	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		if (n - 2 >= outlen)
			return -EINVAL;
		memcpy(out, s + 1, n - 2);
		*len = n - 2;
	} else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		*len = 0;
		for (size_t i = 2; i + 1 < n + 1; i += 2) {
			int hi = hexval(s[i]), lo = i + 1 < n ? hexval(s[i + 1]) : -1;
			if (hi < 0 || lo < 0 || *len >= outlen)
				return -EINVAL;
			out[(*len)++] = (char)(hi << 4 | lo);
		}
	} else if (n > 2 && s[0] == '0' && s[1] == 's') {
		if (sodium_base642bin((unsigned char *)out, outlen, s + 2, n - 2, " ",
				      len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
			return -EINVAL;
	} else if (n && !strpbrk(s, " \t\"'")) {
		if (n >= outlen)
			return -EINVAL;
		memcpy(out, s, n);
		*len = n;
	} else {
		return -EINVAL;
	}
	for (size_t i = 0; i < *len; i++)	/* a PSK file holds one line */
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return -EINVAL;
	return *len ? 0 : -EINVAL;
}

static void split_selectors(struct ls_secret *s, char *sel)
{
	char *save = NULL;

	for (char *t = strtok_r(sel, " \t", &save); t && s->n_idx < 8;
	     t = strtok_r(NULL, " \t", &save)) {
		size_t n = strlen(t);
		if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
			t[n - 1] = '\0';
			t++;
		}
		snprintf(s->idx[s->n_idx++], IMP_ADDR_MAX, "%s", t);
	}
}

static void add_entry(struct ls_ctx *x, const char *file, unsigned line, char *e,
		      unsigned *foreign)
{
	char *colon = find_colon(e), *kind, *val, psk[256];
	struct ls_secret *s;
	size_t len = 0;

	if (!colon) {
		if ((*foreign)++ < 3)
			imp_warn(x->d, file, line, "expected 'SELECTORS : PSK \"secret\"': "
				 "ignored");
		return;
	}
	*colon = '\0';
	kind = colon + 1;
	while (*kind == ' ' || *kind == '\t')
		kind++;
	if (strncasecmp(kind, "PSK", 3) != 0) {
		imp_warn(x->d, file, line, "a %.*s secret, not a PSK: ignored",
			 (int)strcspn(kind, " \t{"), kind);
		return;
	}
	for (val = kind + 3; *val == ' ' || *val == '\t'; val++)
		;
	for (size_t n = strlen(val); n && (val[n - 1] == ' ' || val[n - 1] == '\t'); n--)
		val[n - 1] = '\0';
	if (ls_placeholder(val) || decode_psk(val, psk, sizeof(psk), &len) < 0) {
		imp_warn(x->d, file, line, "PSK %s: ignored", ls_placeholder(val) ?
			 "is a template placeholder" : "is not a quoted string, 0x hex or "
			 "0s base64 of printable characters");
		sodium_memzero(psk, sizeof(psk));
		return;
	}
	if (x->n_sec >= LS_MAX_SECRETS ||
	    !(s = realloc(x->sec, (x->n_sec + 1) * sizeof(*s)))) {
		sodium_memzero(psk, sizeof(psk));
		return;
	}
	x->sec = s;
	s = &x->sec[x->n_sec++];
	memset(s, 0, sizeof(*s));
	s->file = file;
	s->line = line;
	split_selectors(s, e);
	imp_set_secret(&s->psk, psk, len);
	sodium_memzero(psk, sizeof(psk));
}

/* One logical entry (a line and its indented continuations) is complete. */
static void flush(struct ls_ctx *x, const char *file, unsigned line, char *e, size_t *n,
		  unsigned *foreign)
{
	char *s = e;

	e[*n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s && strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t'))
		imp_warn(x->d, file, line, "'%s' not followed: put its PSKs in this file",
			 s);
	else if (*s)
		add_entry(x, file, line, s, foreign);
	sodium_memzero(e, *n);
	*n = 0;
}

struct sec_reader {
	char entry[LS_MAX_ENTRY];
	size_t n;
	unsigned start;
	int braces;			/* inside "RSA { ... }" */
	unsigned foreign;		/* lines that are not secrets */
};

static void secrets_line(struct ls_ctx *x, const char *file, unsigned line,
			 struct sec_reader *r, const char *s, size_t n)
{
	bool cont = n && (s[0] == ' ' || s[0] == '\t');
	size_t lead = 0;

	while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
		lead++;		/* s is a slice of the file, not a C string */

	if (r->braces > 0 || (lead < n && memchr(s, '{', n) && !memchr(s, '"', n))) {
		for (size_t i = 0; i < n; i++)
			r->braces += s[i] == '{' ? 1 : s[i] == '}' ? -1 : 0;
		if (r->braces <= 0 && r->n == 0)
			imp_warn(x->d, file, line, "a key in braces, not a PSK: ignored");
		r->braces = r->braces < 0 ? 0 : r->braces;
		return;
	}
	if (lead == n || s[lead] == '#')
		return;
	if (!cont)
		flush(x, file, r->start, r->entry, &r->n, &r->foreign);
	if (!cont || r->n == 0)
		r->start = line;
	if (r->n + n + 2 >= sizeof(r->entry)) {
		imp_warn(x->d, file, line, "entry too long: ignored");
		sodium_memzero(r->entry, sizeof(r->entry));
		r->n = 0;
		return;
	}
	r->entry[r->n++] = ' ';
	memcpy(r->entry + r->n, s, n);
	r->n += n;
}

int ls_secrets_parse(struct ls_ctx *x, const char *name, const char *text, size_t len)
{
	struct sec_reader *r = calloc(1, sizeof(*r));
	size_t pos = 0, n;
	unsigned line = 0;
	const char *nl;

	if (!r)
		return -ENOMEM;
	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		line++;
		if (memchr(text + pos, '\0', n))
			imp_warn(x->d, name, line, "NUL byte: line ignored");
		else
			secrets_line(x, name, line, r, text + pos,
				     n && text[pos + n - 1] == '\r' ? n - 1 : n);
		pos += n + (nl ? 1 : 0);
	}
	flush(x, name, r->start, r->entry, &r->n, &r->foreign);
	if (r->foreign > 3)
		imp_warn(x->d, name, 0, "%u more lines that are not secrets ignored",
			 r->foreign - 3);
	sodium_memzero(r, sizeof(*r));
	free(r);
	return 0;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && *list[i] && strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static bool is_any(const char *s)
{
	return strcmp(s, "%any") == 0 || strcmp(s, "%any4") == 0 ||
	       strcmp(s, "%any6") == 0 || strcmp(s, "0.0.0.0") == 0;
}

/* Score of one entry for these ids: -1 when it does not apply. */
static int score(const struct ls_secret *s, const char *const *local, size_t n_local,
		 const char *const *remote, size_t n_remote)
{
	bool rem = false, loc = false;

	if (s->n_idx == 0)
		return 0;		/* ": PSK ..." applies to everything */
	for (size_t i = 0; i < s->n_idx; i++) {
		if (in_list(s->idx[i], remote, n_remote))
			rem = true;
		else if (in_list(s->idx[i], local, n_local))
			loc = true;
		else if (!is_any(s->idx[i]))
			return -1;
	}
	return (rem ? 4 : 0) + (loc ? 2 : 0) + 1;
}

const struct ls_secret *ls_secret_find(const struct ls_ctx *x, const char *const *local,
				       size_t n_local, const char *const *remote,
				       size_t n_remote)
{
	const struct ls_secret *best = NULL;
	int best_score = -1, sc;

	for (size_t i = 0; i < x->n_sec; i++) {
		sc = score(&x->sec[i], local, n_local, remote, n_remote);
		if (sc > best_score) {
			best = &x->sec[i];
			best_score = sc;
		}
	}
	return best;
}

void ls_secrets_free(struct ls_ctx *x)
{
	for (size_t i = 0; i < x->n_sec; i++)
		imp_set_secret(&x->sec[i].psk, NULL, 0);
	free(x->sec);
	x->sec = NULL;
	x->n_sec = 0;
}
