/*
 * Shared by the importers: diagnostics, the model's constructors and
 * destructors (which wipe PSKs), and the bounded whole-file reader.
 */
#include "import/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#define IMP_MAX_DIAG 1000	/* lines kept; the rest are counted */

static void diag_add(struct imp_diag *d, const char *file, unsigned line,
		     const char *kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void diag_add(struct imp_diag *d, const char *file, unsigned line,
		     const char *kind, const char *fmt, va_list ap)
{
	char msg[1024], where[600];
	char **n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (file && !*file)
		file = NULL;
	if (file && line)
		snprintf(where, sizeof(where), "%s:%u: ", file, line);
	else if (file)
		snprintf(where, sizeof(where), "%s: ", file);
	else
		where[0] = '\0';
	if (d->n >= IMP_MAX_DIAG)
		return;
	n = realloc(d->lines, (d->n + 1) * sizeof(*n));
	if (!n)
		return;
	d->lines = n;
	if (asprintf(&d->lines[d->n], "%s%s%s", where, kind, msg) >= 0)
		d->n++;
}

void imp_error(struct imp_diag *d, const char *file, unsigned line,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, file, line, "", fmt, ap);
	va_end(ap);
	d->n_errors++;
}

void imp_warn(struct imp_diag *d, const char *file, unsigned line,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, file, line, "warning: ", fmt, ap);
	va_end(ap);
	d->n_warnings++;
}

void imp_diag_print(FILE *out, const struct imp_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->lines[i]);
	if (d->n_errors + d->n_warnings > d->n)
		fprintf(out, "(%zu more messages not shown)\n",
			d->n_errors + d->n_warnings - d->n);
}

void imp_diag_free(struct imp_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

bool imp_prefixes_add(struct imp_prefixes *l, const char *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], p) == 0)
			return true;
	if (l->n >= IMP_MAX_PREFIXES || strlen(p) >= IMP_ADDR_MAX)
		return false;
	snprintf(l->v[l->n++], IMP_ADDR_MAX, "%s", p);
	return true;
}

void imp_note(char ***notes, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char **nn;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	nn = realloc(*notes, (*n + 1) * sizeof(*nn));
	if (!nn) {
		free(s);
		return;
	}
	*notes = nn;
	nn[(*n)++] = s;
}

static void free_notes(char **notes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(notes[i]);
	free(notes);
}

int imp_set_secret(char **dst, const char *src, size_t len)
{
	char *s = NULL;

	if (src) {
		s = malloc(len + 1);
		if (!s)
			return -ENOMEM;
		memcpy(s, src, len);
		s[len] = '\0';
	}
	if (*dst) {
		sodium_memzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = s;
	return 0;
}

struct imp_tunnel *imp_vpn_add_tunnel(struct imp_vpn *v)
{
	struct imp_tunnel *t;

	if (v->n_tunnels >= IMP_MAX_TUNNELS)
		return NULL;
	t = realloc(v->t, (v->n_tunnels + 1) * sizeof(*t));
	if (!t)
		return NULL;
	v->t = t;
	t = &v->t[v->n_tunnels++];
	memset(t, 0, sizeof(*t));
	t->o.rekey_fuzz = -1;
	return t;
}

struct imp_vpn *imp_conf_add_vpn(struct imp_conf *c)
{
	struct imp_vpn *v = realloc(c->vpns, (c->n_vpns + 1) * sizeof(*v));

	if (!v)
		return NULL;
	c->vpns = v;
	v = &c->vpns[c->n_vpns++];
	memset(v, 0, sizeof(*v));
	return v;
}

void imp_tunnel_free(struct imp_tunnel *t)
{
	imp_set_secret(&t->psk, NULL, 0);
	free_notes(t->notes, t->n_notes);
	t->notes = NULL;
	t->n_notes = 0;
}

void imp_vpn_free(struct imp_vpn *v)
{
	for (size_t i = 0; i < v->n_tunnels; i++)
		imp_tunnel_free(&v->t[i]);
	free(v->t);
	free_notes(v->notes, v->n_notes);
	memset(v, 0, sizeof(*v));
}

void imp_conf_free(struct imp_conf *c)
{
	for (size_t i = 0; i < c->n_vpns; i++)
		imp_vpn_free(&c->vpns[i]);
	free(c->vpns);
	free_notes(c->notes, c->n_notes);
	memset(c, 0, sizeof(*c));
}

void imp_free_buffer(char *buf, size_t len)
{
	if (!buf)
		return;
	sodium_memzero(buf, len);
	free(buf);
}

static int read_fd(int fd, const char *path, char **buf, size_t *len,
		   struct imp_diag *d)
{
	size_t cap = 65536, have = 0;
	char *b = malloc(cap + 1), *nb;
	ssize_t n;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (have == cap) {
			if (cap >= IMP_MAX_INPUT) {
				imp_error(d, path, 0, "larger than %u bytes: not an "
					  "input this importer reads", IMP_MAX_INPUT);
				imp_free_buffer(b, have);
				return -EFBIG;
			}
			nb = malloc(cap * 2 + 1);
			if (!nb) {
				imp_free_buffer(b, have);
				return -ENOMEM;
			}
			memcpy(nb, b, have);
			imp_free_buffer(b, have);
			b = nb;
			cap *= 2;
		}
		n = read(fd, b + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			imp_error(d, path, 0, "%s", strerror(e));
			imp_free_buffer(b, have);
			return -e;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	b[have] = '\0';
	*buf = b;
	*len = have;
	return 0;
}

int imp_read_file(const char *path, char **buf, size_t *len, struct imp_diag *d)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		imp_error(d, path, 0, "%s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		imp_error(d, path, 0, "is a directory, not a file");
		close(fd);
		return -EISDIR;
	}
	r = read_fd(fd, path, buf, len, d);
	close(fd);
	return r;
}
