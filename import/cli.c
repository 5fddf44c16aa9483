/*
 * `cgwctl import tfstate|aws-xml|libreswan ...`: the command line, reading
 * the inputs, and writing the result: the PSK files (mode 0600, never
 * overwritten without --force), then the config (mode 0600, or stdout).
 * Before anything is written the generated config is checked with
 * conf_load_buffer(); after writing, the file itself with conf_load().
 */
#include "import/import.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "common/secret.h"
#include "conf/conf.h"

enum { EXIT_IMPORT = 1, EXIT_USAGE = 2 };

#define MAX_FILES 64

struct args {
	const char *what;		/* tfstate, aws-xml, libreswan */
	const char *files[MAX_FILES];	/* inputs (libreswan: --conf) */
	size_t n_files;
	const char *vpn[MAX_FILES];
	size_t n_vpn;
	const char *secrets, *frr, *out, *psk_dir;
	bool force;
};

static const char usage_text[] =
	"Usage: cgwctl import tfstate FILE [--vpn ADDRESS|ID|all]... [OPTIONS]\n"
	"       cgwctl import aws-xml FILE... [OPTIONS]\n"
	"       cgwctl import libreswan --conf FILE... [--secrets FILE] [--frr FILE] "
	"[OPTIONS]\n"
	"\n"
	"Write a cgw.conf from Terraform state (v4 or `terraform show -json`),\n"
	"AWS's customer gateway configuration XML, or Libreswan + FRR configs.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   write the config to FILE (mode 0600) instead of stdout\n"
	"  --psk-dir DIR       where to write NAME.psk (mode 0600); default: next to\n"
	"                      the -o FILE, or the current directory\n"
	"  --force             overwrite existing output and PSK files\n"
	"  --vpn SEL           tfstate: the connection to import, by Terraform address,\n"
	"                      vpn- id or Name tag; repeatable; 'all' for every one\n"
	"  --conf FILE         libreswan: ipsec.conf or ipsec.d/*.conf; repeatable\n"
	"  --secrets FILE      libreswan: ipsec.secrets with the PSKs\n"
	"  --frr FILE          libreswan: frr.conf or bgpd.conf with the BGP setup\n"
	"\n"
	"PSKs go to files, never to stdout. Warnings (file:line) go to stderr.\n"
	"Exit status: 0 written, 1 input could not be imported, 2 usage error.\n";

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "cgwctl import: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "Try 'cgwctl import --help'.\n");
	return EXIT_USAGE;
}

static int add_file(const char **list, size_t *n, const char *f)
{
	if (*n >= MAX_FILES)
		return -1;
	list[(*n)++] = f;
	return 0;
}

/* Options that take a value: store it. 1 consumed, 0 not ours, -1 error. */
static int take_value(struct args *a, const char *opt, const char *val)
{
	if (!val)
		return strcmp(opt, "--output") == 0 || strcmp(opt, "-o") == 0 ||
		       strcmp(opt, "--psk-dir") == 0 || strcmp(opt, "--vpn") == 0 ||
		       strcmp(opt, "--conf") == 0 || strcmp(opt, "--secrets") == 0 ||
		       strcmp(opt, "--frr") == 0 ? -1 : 0;
	if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0)
		a->out = val;
	else if (strcmp(opt, "--psk-dir") == 0)
		a->psk_dir = val;
	else if (strcmp(opt, "--secrets") == 0)
		a->secrets = val;
	else if (strcmp(opt, "--frr") == 0)
		a->frr = val;
	else if (strcmp(opt, "--vpn") == 0)
		return add_file(a->vpn, &a->n_vpn, val) < 0 ? -1 : 1;
	else if (strcmp(opt, "--conf") == 0)
		return add_file(a->files, &a->n_files, val) < 0 ? -1 : 1;
	else
		return 0;
	return 1;
}

static int check_args(const struct args *a)
{
	bool ls = strcmp(a->what, "libreswan") == 0;

	if (strcmp(a->what, "tfstate") != 0 && strcmp(a->what, "aws-xml") != 0 && !ls)
		return usage("unknown source '%s' (tfstate, aws-xml, libreswan)", a->what);
	if (a->n_files == 0)
		return usage(ls ? "%s: give --conf FILE" : "%s: give the input FILE", a->what);
	if (strcmp(a->what, "tfstate") == 0 && a->n_files > 1)
		return usage("%s: one state file at a time", a->what);
	if (!ls && (a->secrets || a->frr))
		return usage("%s: --secrets and --frr are for libreswan", a->what);
	if (strcmp(a->what, "tfstate") != 0 && a->n_vpn)
		return usage("%s: --vpn is for tfstate", a->what);
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	bool ls;
	int r;

	if (argc < 2)
		return usage("which source? (tfstate, aws-xml, libreswan)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return -1;
	}
	a->what = argv[1];
	ls = strcmp(a->what, "libreswan") == 0;
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (strcmp(s, "--force") == 0) {
			a->force = true;
			continue;
		}
		if ((r = take_value(a, s, i + 1 < argc ? argv[i + 1] : NULL)) < 0)
			return usage("%s needs a value", s);
		if (r > 0) {
			i++;
			continue;
		}
		if (s[0] == '-' && s[1])
			return usage("unknown option '%s'", s);
		/* libreswan: more files after --conf FILE ("--conf a.conf b.conf") */
		if ((ls && a->n_files == 0) || add_file(a->files, &a->n_files, s) < 0)
			return usage(ls ? "unexpected argument '%s' (use --conf FILE)" :
				     "too many files (at '%s')", s);
	}
	return check_args(a);
}

/* ---- reading ---- */

struct inputs {
	char *buf[MAX_FILES + 2];
	size_t len[MAX_FILES + 2];
	size_t n;
};

static int load(struct inputs *in, const char *path, struct imp_diag *d)
{
	int r = imp_read_file(path, &in->buf[in->n], &in->len[in->n], d);

	if (r == 0)
		in->n++;
	return r;
}

static void inputs_free(struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		imp_free_buffer(in->buf[i], in->len[i]);
	in->n = 0;
}

static void set_source(struct imp_conf *c, const struct args *a)
{
	size_t off = 0;

	for (size_t i = 0; i < a->n_files && off < sizeof(c->source); i++) {
		int n = snprintf(c->source + off, sizeof(c->source) - off, "%s%s",
				 i ? ", " : "", a->files[i]);
		off += n > 0 ? (size_t)n : 0;
	}
}

static int read_xml(const struct args *a, struct inputs *in, struct imp_conf *c,
		    struct imp_diag *d)
{
	struct imp_vpn *v;
	int r = 0;

	c->kind = "AWS customer gateway configuration XML";
	for (size_t i = 0; i < a->n_files; i++) {
		if (load(in, a->files[i], d) < 0)
			return -EINVAL;
		if (!(v = imp_conf_add_vpn(c)))
			return -ENOMEM;
		snprintf(v->address, sizeof(v->address), "%s", a->files[i]);
		if (imp_awsxml_parse(a->files[i], in->buf[in->n - 1], in->len[in->n - 1],
				     v, d) < 0)
			r = -EINVAL;
	}
	return r;
}

static int read_libreswan(const struct args *a, struct inputs *in,
			  struct imp_conf *c, struct imp_diag *d)
{
	struct imp_libreswan_in ls = { .conf_names = a->files, .n_conf = a->n_files };
	const char *texts[MAX_FILES];
	size_t lens[MAX_FILES];

	for (size_t i = 0; i < a->n_files; i++) {
		if (load(in, a->files[i], d) < 0)
			return -EINVAL;
		texts[i] = in->buf[in->n - 1];
		lens[i] = in->len[in->n - 1];
	}
	ls.conf_texts = texts;
	ls.conf_lens = lens;
	if (a->secrets) {
		if (load(in, a->secrets, d) < 0)
			return -EINVAL;
		ls.secrets_name = a->secrets;
		ls.secrets_text = in->buf[in->n - 1];
		ls.secrets_len = in->len[in->n - 1];
	}
	if (imp_libreswan_parse(&ls, c, d) < 0)
		return -EINVAL;
	if (!a->frr) {
		imp_warn(d, a->files[0], 0, "no --frr: the tunnels get no BGP; give the FRR "
			 "config, or add [bgp] and bgp-peer-asn (or route lines) by hand");
		return 0;
	}
	if (load(in, a->frr, d) < 0)
		return -EINVAL;
	return imp_frr_parse(a->frr, in->buf[in->n - 1], in->len[in->n - 1], c, d);
}

static int read_inputs(const struct args *a, struct imp_conf *c, struct imp_diag *d)
{
	struct imp_tfstate_opts o = { .select = a->vpn, .n_select = a->n_vpn };
	struct inputs in = { .n = 0 };
	int r;

	set_source(c, a);
	if (strcmp(a->what, "tfstate") == 0)
		r = load(&in, a->files[0], d) < 0 ? -EINVAL :
		    imp_tfstate_parse(a->files[0], in.buf[0], in.len[0], &o, c, d);
	else if (strcmp(a->what, "aws-xml") == 0)
		r = read_xml(a, &in, c, d);
	else
		r = read_libreswan(a, &in, c, d);
	inputs_free(&in);
	return r;
}

/* ---- writing ---- */

int imp_validate(const struct imp_conf *c, struct imp_diag *d)
{
	struct imp_emit_opts eo = { .placeholder_psk = true };
	struct conf_diag cd = { 0 };
	struct cgw_conf *conf;
	size_t len = 0;
	char *text = imp_emit(c, &eo, &len);

	if (!text)
		return -ENOMEM;
	conf = conf_load_buffer("<generated>", text, len, 0, &cd);
	for (size_t i = 0; i < cd.n_lines; i++)
		imp_error(d, NULL, 0, "internal: the generated config is refused: %s",
			  cd.lines[i]);
	imp_free_buffer(text, len);
	conf_free(conf);
	conf_diag_free(&cd);
	return conf ? 0 : -EINVAL;
}

/* Create path with mode 0600: refuse to replace it unless force. */
static int create_private(const char *path, bool force, struct imp_diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		      (force ? O_TRUNC : O_EXCL), 0600);

	if (fd < 0) {
		imp_error(d, path, 0, "%s%s", strerror(errno),
			  errno == EEXIST ? " (use --force to overwrite)" : "");
		return -1;
	}
	if (fchmod(fd, 0600) < 0) {
		imp_error(d, path, 0, "chmod 600: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_file(const char *path, const char *text, size_t len, bool force,
		      struct imp_diag *d)
{
	int fd = create_private(path, force, d), r;

	if (fd < 0)
		return -EIO;
	r = write_all(fd, text, len);
	if (close(fd) < 0 || r < 0) {
		imp_error(d, path, 0, "write: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

static int psk_path(char *path, size_t len, const char *dir, const char *name)
{
	int n = snprintf(path, len, "%s/%s.psk", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int write_psks(const struct imp_conf *c, const char *dir, bool force,
		      struct imp_diag *d)
{
	char path[PATH_MAX], *text;
	int r = 0;

	/* All or nothing: look for existing files before writing any. */
	for (size_t i = 0; !force && i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++) {
			if (psk_path(path, sizeof(path), dir, c->vpns[i].t[j].name) < 0 ||
			    access(path, F_OK) == 0) {
				imp_error(d, path, 0, "exists (use --force to overwrite)");
				r = -EEXIST;
			}
		}
	for (size_t i = 0; r == 0 && i < c->n_vpns; i++)
		for (size_t j = 0; r == 0 && j < c->vpns[i].n_tunnels; j++) {
			const struct imp_tunnel *t = &c->vpns[i].t[j];
			size_t len = strlen(t->psk) + 1;
			if (psk_path(path, sizeof(path), dir, t->name) < 0)
				return -ENAMETOOLONG;
			if (!(text = malloc(len + 1)))
				return -ENOMEM;
			snprintf(text, len + 1, "%s\n", t->psk);
			r = write_file(path, text, len, force, d);
			imp_free_buffer(text, len + 1);
		}
	return r;
}

/* The directory for PSK files and how the config names it. */
static int psk_paths(const struct args *a, char *dir, size_t dlen, char *ref, size_t rlen,
		     struct imp_diag *d)
{
	char buf[PATH_MAX], *slash;

	if (a->psk_dir)
		snprintf(buf, sizeof(buf), "%s", a->psk_dir);
	else if (a->out && (slash = strrchr(a->out, '/')))
		snprintf(buf, sizeof(buf), "%.*s", (int)(slash - a->out + 1), a->out);
	else
		snprintf(buf, sizeof(buf), ".");
	if (!realpath(buf, dir) || strlen(dir) >= dlen) {
		imp_error(d, buf, 0, "PSK directory: %s", strerror(errno));
		return -EINVAL;
	}
	/* Next to the config: a relative name (psk-file is relative to it). */
	snprintf(ref, rlen, "%s", a->out && !a->psk_dir ? "" : dir);
	return 0;
}

static int check_written(const char *path, struct imp_diag *d)
{
	struct conf_diag cd = { 0 };
	struct cgw_conf *conf = conf_load(path, CONF_CHECK_PERMS, &cd);

	for (size_t i = 0; i < cd.n_lines; i++)
		imp_error(d, NULL, 0, "the written config is refused: %s", cd.lines[i]);
	conf_free(conf);
	conf_diag_free(&cd);
	return conf ? 0 : -EINVAL;
}

static int write_outputs(const struct args *a, const struct imp_conf *c,
			 struct imp_diag *d, char *done, size_t done_len)
{
	char dir[PATH_MAX], ref[PATH_MAX];
	struct imp_emit_opts eo = { .psk_dir = ref };
	size_t len = 0;
	char *text;
	int r;

	if (psk_paths(a, dir, sizeof(dir), ref, sizeof(ref), d) < 0)
		return -EINVAL;
	if (a->out && !a->force && access(a->out, F_OK) == 0) {
		imp_error(d, a->out, 0, "exists (use --force to overwrite)");
		return -EEXIST;
	}
	if (!(text = imp_emit(c, &eo, &len)))
		return -ENOMEM;
	r = write_psks(c, dir, a->force, d);
	if (r == 0 && a->out)
		r = write_file(a->out, text, len, a->force, d);
	else if (r == 0 && (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0))
		r = -EIO;
	free(text);
	if (r == 0 && a->out)
		r = check_written(a->out, d);
	if (r == 0)
		snprintf(done, done_len, "cgwctl import: wrote %s; PSK files in %s/",
			 a->out ? a->out : "the config to stdout", dir);
	return r;
}

int import_main(int argc, char **argv)
{
	struct args a = { .what = NULL };
	struct imp_conf c = { .kind = NULL };
	struct imp_plan_opts po = { .several_names = false };
	struct imp_diag d = { .n = 0 };
	char done[PATH_MAX + 64] = "";
	int r;

	if ((r = parse_args(argc, argv, &a)) != 0)
		return r < 0 ? 0 : r;
	if (secret_init() < 0) {
		fprintf(stderr, "cgwctl import: cannot initialise libsodium\n");
		return EXIT_IMPORT;
	}
	r = read_inputs(&a, &c, &d);
	if (r == 0 && d.n_errors == 0)
		r = imp_plan(&c, &po, &d);
	if (r == 0 && d.n_errors == 0)
		r = imp_validate(&c, &d);
	if (r == 0 && d.n_errors == 0)
		r = write_outputs(&a, &c, &d, done, sizeof(done));
	imp_diag_print(stderr, &d);
	if (done[0])
		fprintf(stderr, "%s\n", done);
	r = r == 0 && d.n_errors == 0 ? 0 : EXIT_IMPORT;
	imp_diag_free(&d);
	imp_conf_free(&c);
	return r;
}
