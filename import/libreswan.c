/*
 * Libreswan ipsec.conf and ipsec.d/NAME.conf, line by line: "config setup",
 * "conn NAME" (with "conn %default" and also= inheritance), indented
 * key=value lines, comments at the start of a line or after a value,
 * quoted values. Shell wrappers around heredocs are tolerated: their lines
 * are reported and skipped. lsconn.c turns each conn into a tunnel.
 */
#include "import/libreswan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

enum ls_section { LS_NONE, LS_SETUP, LS_CONN };

struct ls_reader {
	struct ls_ctx *x;
	const char *file;
	unsigned line;
	enum ls_section sec;
	struct ls_conn *conn;
	unsigned foreign;		/* lines that are not ipsec.conf */
};

#define LS_FOREIGN_SHOWN 3

bool ls_placeholder(const char *v)
{
	const char *p = strchr(v, '$');

	if (strstr(v, "{{") || strstr(v, "${") || (strchr(v, '<') && strchr(v, '>')))
		return true;
	return p && (p[1] == '_' || (p[1] >= 'a' && p[1] <= 'z') ||
		     (p[1] >= 'A' && p[1] <= 'Z'));
}

/* Cut a comment: '#' at the start or after a blank, outside quotes. */
static void strip_comment(char *s)
{
	char quote = 0;

	for (char *p = s; *p; p++) {
		if (quote) {
			quote = *p == quote ? 0 : quote;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static void unquote(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

static struct ls_conn *new_conn(struct ls_reader *r, const char *name)
{
	struct ls_ctx *x = r->x;
	struct ls_conn *c;

	if (x->n >= LS_MAX_CONNS) {
		imp_error(x->d, r->file, r->line, "more than %d conns", LS_MAX_CONNS);
		return NULL;
	}
	c = realloc(x->conns, (x->n + 1) * sizeof(*c));
	if (!c)
		return NULL;
	x->conns = c;
	c = &x->conns[x->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->file = r->file;
	c->line = r->line;
	return c;
}

static void add_kv(struct ls_reader *r, const char *key, const char *val)
{
	struct ls_conn *c = r->conn;
	struct ls_kv *kv;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].key, key) == 0 && strcmp(key, "also") != 0) {
			imp_warn(r->x->d, r->file, r->line, "conn %s: '%s' given again "
				 "(first on line %u): the last one is used", c->name, key,
				 c->kv[i].line);
			free(c->kv[i].val);
			c->kv[i].val = strdup(val);
			c->kv[i].line = r->line;
			return;
		}
	if (c->n >= LS_MAX_KEYS || !(kv = realloc(c->kv, (c->n + 1) * sizeof(*kv)))) {
		imp_warn(r->x->d, r->file, r->line, "conn %s: too many keys: '%s' "
			 "ignored", c->name, key);
		return;
	}
	c->kv = kv;
	kv = &c->kv[c->n++];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->val = strdup(val);
	kv->file = r->file;
	kv->line = r->line;
	if (!kv->val)
		c->n--;
}

/* A line at column 0: a section header or something foreign. */
static void header_line(struct ls_reader *r, char *s)
{
	char *name;

	r->sec = LS_NONE;
	r->conn = NULL;
	if (strncmp(s, "conn", 4) == 0 && (s[4] == ' ' || s[4] == '\t')) {
		name = trim(s + 4);
		if (!*name || strpbrk(name, " \t")) {
			imp_warn(r->x->d, r->file, r->line, "'conn %s': expected one name: "
				 "section ignored", name);
			return;
		}
		if ((r->conn = new_conn(r, name)))
			r->sec = LS_CONN;
	} else if (strcmp(s, "config setup") == 0) {
		r->sec = LS_SETUP;
	} else if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
		imp_warn(r->x->d, r->file, r->line, "'%s' not followed: pass those files "
			 "with --conf", s);
	} else if (strncmp(s, "version", 7) != 0 && r->foreign++ < LS_FOREIGN_SHOWN) {
		imp_warn(r->x->d, r->file, r->line, "not ipsec.conf syntax: ignored");
	}
}

static void setting_line(struct ls_reader *r, char *s)
{
	char *eq = strchr(s, '='), *key, *val;

	if (r->sec == LS_NONE)
		return;		/* the header line was reported already */
	if (!eq) {
		imp_warn(r->x->d, r->file, r->line, "expected key=value: ignored");
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	unquote(val);
	if (r->sec == LS_SETUP) {
		imp_warn(r->x->d, r->file, r->line, "config setup: '%s' not translated "
			 "(a Libreswan daemon setting)", key);
		return;
	}
	if (!*key || strlen(key) >= sizeof(r->conn->kv[0].key)) {
		imp_warn(r->x->d, r->file, r->line, "bad key: ignored");
		return;
	}
	add_kv(r, key, val);
}

static void parse_line(struct ls_reader *r, char *s, size_t n)
{
	bool indented = n && (s[0] == ' ' || s[0] == '\t');

	if (memchr(s, '\0', n)) {
		imp_warn(r->x->d, r->file, r->line, "NUL byte: line ignored");
		return;
	}
	strip_comment(s);
	s = trim(s);
	if (!*s)
		return;
	if (indented)
		setting_line(r, s);
	else
		header_line(r, s);
}

static void parse_file(struct ls_ctx *x, const char *name, const char *text, size_t len)
{
	struct ls_reader r = { .x = x, .file = name, .sec = LS_NONE };
	char buf[LS_MAX_LINE + 1];
	size_t pos = 0, n;
	const char *nl;

	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		r.line++;
		if (n > LS_MAX_LINE) {
			imp_warn(x->d, name, r.line, "line longer than %d bytes: ignored",
				 LS_MAX_LINE);
		} else {
			memcpy(buf, text + pos, n);
			buf[n] = '\0';
			parse_line(&r, buf, n);
		}
		pos += n + (nl ? 1 : 0);
	}
	if (r.foreign > LS_FOREIGN_SHOWN)
		imp_warn(x->d, name, 0, "%u more lines that are not ipsec.conf syntax "
			 "ignored", r.foreign - LS_FOREIGN_SHOWN);
}

/* ---- resolution ---- */

static const struct ls_conn *find_conn(const struct ls_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->conns[i].name, name) == 0)
			return &x->conns[i];
	return NULL;
}

static struct ls_kv *own(const struct ls_conn *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].key, key) == 0)
			return &c->kv[i];
	return NULL;
}

/* Conns already visited by one lookup: also= may loop or repeat. */
struct ls_seen {
	bool conn[LS_MAX_CONNS];
};

static bool first_visit(const struct ls_ctx *x, const struct ls_conn *c, struct ls_seen *s)
{
	size_t i = (size_t)(c - x->conns);

	if (i >= LS_MAX_CONNS || s->conn[i])
		return false;
	s->conn[i] = true;
	return true;
}

static struct ls_kv *get_walk(struct ls_ctx *x, const struct ls_conn *c,
			      const char *key, struct ls_seen *seen)
{
	struct ls_kv *kv;
	const struct ls_conn *inc;

	if (!first_visit(x, c, seen))
		return NULL;
	if ((kv = own(c, key)))
		return kv;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->kv[i].key, "also") != 0)
			continue;
		inc = find_conn(x, c->kv[i].val);
		if (inc && (kv = get_walk(x, inc, key, seen)))
			return kv;
	}
	return NULL;
}

struct ls_kv *ls_get(struct ls_ctx *x, const struct ls_conn *c, const char *key)
{
	struct ls_seen seen = { .conn = { false } };
	struct ls_kv *kv = get_walk(x, c, key, &seen);
	const struct ls_conn *def;

	if (kv || strcmp(c->name, "%default") == 0)
		return kv;
	def = find_conn(x, "%default");
	return def ? own(def, key) : NULL;
}

/* Keys already reported by one ls_each(). */
struct ls_keys {
	const char *k[LS_MAX_KEYS];
	size_t n;
};

static bool new_key(struct ls_keys *keys, const char *k)
{
	for (size_t i = 0; i < keys->n; i++)
		if (strcmp(keys->k[i], k) == 0)
			return false;
	if (keys->n < LS_MAX_KEYS)
		keys->k[keys->n++] = k;
	return true;
}

/* Same order as ls_get(): own keys, then each also= conn, depth first. */
static void each_walk(struct ls_ctx *x, const struct ls_conn *top, const struct ls_conn *c,
		      bool follow, struct ls_seen *seen, struct ls_keys *keys,
		      void (*fn)(struct ls_ctx *, const struct ls_conn *, struct ls_kv *, void *),
		      void *arg)
{
	const struct ls_conn *inc;

	if (!first_visit(x, c, seen))
		return;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].key, "also") != 0 && new_key(keys, c->kv[i].key))
			fn(x, top, &c->kv[i], arg);
	for (size_t i = 0; follow && i < c->n; i++)
		if (strcmp(c->kv[i].key, "also") == 0 && (inc = find_conn(x, c->kv[i].val)))
			each_walk(x, top, inc, true, seen, keys, fn, arg);
}

void ls_each(struct ls_ctx *x, const struct ls_conn *c,
	     void (*fn)(struct ls_ctx *, const struct ls_conn *, struct ls_kv *, void *),
	     void *arg)
{
	const struct ls_conn *def = find_conn(x, "%default");
	struct ls_seen seen = { .conn = { false } };
	struct ls_keys *keys = calloc(1, sizeof(*keys));

	if (!keys)
		return;
	each_walk(x, c, c, true, &seen, keys, fn, arg);
	if (def && def != c)
		each_walk(x, c, def, false, &seen, keys, fn, arg);
	free(keys);
}

/* Mark conns named by also=; report also= names that do not exist. */
static void mark_included(struct ls_ctx *x)
{
	for (size_t i = 0; i < x->n; i++)
		for (size_t j = 0; j < x->conns[i].n; j++) {
			struct ls_kv *kv = &x->conns[i].kv[j];
			struct ls_conn *inc;
			if (strcmp(kv->key, "also") != 0)
				continue;
			inc = (struct ls_conn *)find_conn(x, kv->val);
			if (inc)
				inc->included = true;
			else
				imp_warn(x->d, kv->file, kv->line, "also=%s: no such conn",
					 kv->val);
		}
}

static void free_ctx(struct ls_ctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		for (size_t j = 0; j < x->conns[i].n; j++)
			free(x->conns[i].kv[j].val);
		free(x->conns[i].kv);
	}
	free(x->conns);
	ls_secrets_free(x);
}

static int import_conns(struct ls_ctx *x, struct imp_conf *c, struct imp_vpn *v)
{
	int r = 0;

	for (size_t i = 0; i < x->n; i++) {
		const struct ls_conn *cn = &x->conns[i];
		if (strcmp(cn->name, "%default") == 0)
			continue;
		if (cn->included && !own(cn, "right") && !own(cn, "auto"))
			continue;	/* a template for also= */
		if (ls_conn_import(x, cn, c, v) < 0)
			r = -EINVAL;
	}
	return r;
}

int imp_libreswan_parse(const struct imp_libreswan_in *in, struct imp_conf *c,
			struct imp_diag *d)
{
	struct ls_ctx x = { .d = d, .secrets_name = in->secrets_name };
	struct imp_vpn *v;
	int r = -EINVAL;

	c->kind = "Libreswan configuration";
	for (size_t i = 0; i < in->n_conf; i++)
		parse_file(&x, in->conf_names[i], in->conf_texts[i], in->conf_lens[i]);
	if (in->secrets_text &&
	    ls_secrets_parse(&x, in->secrets_name, in->secrets_text, in->secrets_len) < 0)
		goto out;
	mark_included(&x);
	if (!(v = imp_conf_add_vpn(c)))
		goto out;
	snprintf(v->address, sizeof(v->address), "%s", in->n_conf ? in->conf_names[0] : "");
	r = import_conns(&x, c, v);
	if (r == 0 && v->n_tunnels == 0)
		imp_error(d, in->n_conf ? in->conf_names[0] : NULL, 0, "no conn that cgw "
			  "can use (route-based, pre-shared key)");
out:
	free_ctx(&x);
	return r;
}
