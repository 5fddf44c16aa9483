/*
 * cgwctl doctor: one small function per check, run in the order of
 * `checks`; each reports findings as OK, WARN or FAIL with the fix on an
 * indented line below. FAIL means the tunnels cannot work as things are
 * (exit status 1); WARN means they may work but something is off or could
 * not be confirmed.
 *
 * Sources: /proc/sys/net (per network namespace), /sys/module and
 * modules.builtin, `modprobe -n`, /proc/crypto, `ip -j` and `nft -j`
 * (JSON, parsed with json-c), adjtimex(2) and timedatectl, the project's
 * conf_load() (CONF_CHECK_PERMS) and cgwd's status over the control
 * socket. Nothing is changed on the host.
 */
#include "config.h"

#include "cgwctl/doctor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cgwctl/metrics.h"
#include "common/secret.h"
#include "conf/conf.h"
#include "conf/proposal.h"

extern char **environ;

#define CAPTURE_MAX	(8u << 20)	/* bytes of a helper's output */

enum level { LVL_OK, LVL_WARN, LVL_FAIL };

struct doctor {
	FILE *out;
	const char *conf_path;
	const char *socket_path;
	struct cgw_conf *conf;		/* NULL when the config cannot be read */
	struct json_object *status;	/* cgwd's status, NULL when not running */
	int status_err;			/* -errno of the status request */
	struct json_object *nft;	/* `nft -j list ruleset`, NULL if none */
	bool nft_ok;			/* nft ran and its JSON parsed */
	unsigned n[3];			/* findings per level */
};

struct check {
	const char *name;
	void (*fn)(struct doctor *d);
};

/* ---- output ---- */

static void report(struct doctor *d, enum level lvl, const char *check,
		   const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(struct doctor *d, enum level lvl, const char *check,
		   const char *fix, const char *fmt, ...)
{
	static const char *const names[] = { "OK  ", "WARN", "FAIL" };
	va_list ap;

	d->n[lvl]++;
	fprintf(d->out, "%s %s: ", names[lvl], check);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
	if (fix && *fix && lvl != LVL_OK)
		fprintf(d->out, "     fix: %s\n", fix);
}

/* ---- helpers ---- */

/* An integer sysctl under /proc/sys (path with '/'), or -errno. */
static int read_sysctl(const char *path, int *val)
{
	char full[256], buf[32];
	FILE *f;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	f = fopen(full, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*val = atoi(buf);
	return 0;
}

static int read_conf_sysctl(const char *ifname, const char *key, int *val)
{
	char path[128];

	snprintf(path, sizeof(path), "net/ipv4/conf/%s/%s", ifname, key);
	return read_sysctl(path, val);
}

/*
 * Run argv (searched in PATH) with stdin and stderr on /dev/null and
 * stdout captured into a malloc'd NUL-terminated *out (may be NULL).
 * Returns the exit status, or -errno when it could not run.
 */
static int run_capture(const char *const argv[], char **out)
{
	posix_spawn_file_actions_t fa;
	char *buf = NULL, *p;
	size_t have = 0, cap = 0;
	int pfd[2], status, r;
	pid_t pid;
	ssize_t n;

	if (out)
		*out = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return -r;
	}
	for (;;) {
		if (cap - have < 4096 && cap < CAPTURE_MAX) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(buf, cap + 1);
			if (!p)
				break;
			buf = p;
		}
		if (cap == have)
			break;		/* too much: keep what we have */
		n = read(pfd[0], buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			free(buf);
			return -errno;
		}
	if (buf)
		buf[have] = '\0';
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

/* Run argv and parse its stdout as JSON; NULL when it fails. */
static struct json_object *run_json(const char *const argv[])
{
	struct json_object *j = NULL;
	char *text = NULL;

	if (run_capture(argv, &text) == 0 && text)
		j = json_tokener_parse(text);
	free(text);
	return j;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static size_t jlen(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The status object of tunnel name, or NULL. */
static struct json_object *status_tunnel(struct doctor *d, const char *name)
{
	struct json_object *ts = jget(d->status, "tunnels");

	for (size_t i = 0; i < jlen(ts); i++) {
		struct json_object *t = json_object_array_get_idx(ts, i);
		const char *n = jstr(t, "name");
		if (n && strcmp(n, name) == 0)
			return t;
	}
	return NULL;
}

static bool is_root(void)
{
	return geteuid() == 0;
}

/* ---- kernel modules and crypto ---- */

/* Module names compare with '-' and '_' alike. */
static bool modname_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; a[i] && i < blen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return !a[i] && i == blen;
}

static bool module_builtin(const char *name)
{
	struct utsname u;
	char path[256], line[512];
	bool found = false;
	FILE *f;

	if (uname(&u) < 0)
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", u.release);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *base = strrchr(line, '/'), *dot;
		base = base ? base + 1 : line;
		dot = strstr(base, ".ko");
		if (dot)
			found = modname_eq(name, base, (size_t)(dot - base));
	}
	fclose(f);
	return found;
}

enum mod_state { MOD_LOADED, MOD_BUILTIN, MOD_AVAILABLE, MOD_MISSING, MOD_UNKNOWN };

static const char *const mod_state_names[] = {
	"loaded", "built in", "available as a module", "missing", "unknown",
};

/* The kernel's config option for a module we care about. */
static const char *module_option(const char *name)
{
	static const char *const map[][2] = {
		{ "xfrm_user", "CONFIG_XFRM_USER" }, { "esp4", "CONFIG_INET_ESP" },
		{ "ip_vti", "CONFIG_NET_IPVTI" }, { "gcm", "CONFIG_CRYPTO_GCM" },
		{ "authenc", "CONFIG_CRYPTO_AUTHENC" }, { "cbc", "CONFIG_CRYPTO_CBC" },
		{ "hmac", "CONFIG_CRYPTO_HMAC" }, { "sha1_generic", "CONFIG_CRYPTO_SHA1" },
		{ "sha256_generic", "CONFIG_CRYPTO_SHA256" },
		{ "sha512_generic", "CONFIG_CRYPTO_SHA512" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], name) == 0)
			return map[i][1];
	return NULL;
}

/*
 * The running kernel's config (/proc/config.gz or /boot/config-RELEASE),
 * read once; NULL when neither is there.
 */
static const char *kernel_config(void)
{
	static char *text;
	static bool tried;
	struct utsname u;
	char path[256];
	FILE *f;
	long n;

	if (tried)
		return text;
	tried = true;
	if (access("/proc/config.gz", R_OK) == 0) {
		const char *const argv[] = { "zcat", "/proc/config.gz", NULL };
		if (run_capture(argv, &text) != 0) {
			free(text);
			text = NULL;
		}
	}
	if (text || uname(&u) < 0)
		return text;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (long)CAPTURE_MAX &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1))) {
		n = (long)fread(text, 1, (size_t)n, f);
		text[n] = '\0';
	}
	fclose(f);
	return text;
}

/* 'y', 'm', 'n' (not set) or 0 when the config is unknown. */
static char kernel_option(const char *opt)
{
	const char *cfg = kernel_config(), *p;
	size_t len = strlen(opt);

	if (!cfg || !opt)
		return 0;
	for (p = cfg; (p = strstr(p, opt)); p += len) {
		if ((p == cfg || p[-1] == '\n') && p[len] == '=')
			return p[len + 1] == 'y' ? 'y' : p[len + 1] == 'm' ? 'm' : 'n';
	}
	return 'n';	/* absent or "# CONFIG_X is not set" */
}

static bool have_modules_dir(void)
{
	struct utsname u;
	char path[256];

	if (uname(&u) < 0)
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s", u.release);
	return access(path, F_OK) == 0;
}

static enum mod_state module_state(const char *name)
{
	const char *const argv[] = { "modprobe", "-n", "-q", name, NULL };
	char path[128], opt;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (access(path, F_OK) == 0)
		return MOD_LOADED;
	opt = kernel_option(module_option(name));
	if (opt == 'y')
		return MOD_BUILTIN;
	if (opt == 'n')
		return MOD_MISSING;
	if (module_builtin(name))
		return MOD_BUILTIN;
	if (run_capture(argv, NULL) == 0)
		return MOD_AVAILABLE;
	/* Built as a module but not installed, or nothing to tell by. */
	return opt == 'm' || have_modules_dir() ? MOD_MISSING : MOD_UNKNOWN;
}

static void check_modules(struct doctor *d)
{
	static const struct {
		const char *name, *why;
	} mods[] = {
		{ "xfrm_user", "cgwd installs SAs and policies over XFRM netlink" },
		{ "esp4", "ESP encryption of the tunnel traffic" },
		{ "ip_vti", "cgwd creates one VTI per tunnel" },
	};
	struct utsname u = { 0 };
	char fix[256];

	uname(&u);
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		enum mod_state st = module_state(mods[i].name);
		char opt = kernel_option(module_option(mods[i].name));

		if (st <= MOD_AVAILABLE) {
			report(d, LVL_OK, "modules", NULL, "%s %s", mods[i].name,
			       mod_state_names[st]);
			continue;
		}
		if (opt == 'm' || opt == 0)
			snprintf(fix, sizeof(fix), "install the modules of kernel %s (on "
				 "Debian: apt-get install linux-image-%s) and modprobe %s",
				 u.release, u.release, mods[i].name);
		else
			snprintf(fix, sizeof(fix), "boot a kernel built with %s=m or =y "
				 "(e.g. Debian's linux-image-amd64)", module_option(mods[i].name));
		if (st == MOD_UNKNOWN)
			report(d, LVL_WARN, "modules", fix, "%s: cannot tell whether kernel "
			       "%s has it (no /lib/modules/%s, no kernel config): %s",
			       mods[i].name, u.release, u.release, mods[i].why);
		else
			report(d, LVL_FAIL, "modules", fix, "%s is not available in kernel "
			       "%s%s: %s", mods[i].name, u.release, opt == 'n' ?
			       " (not in its config)" : "", mods[i].why);
	}
}

/* True when /proc/crypto lists an algorithm of that name. */
static bool crypto_listed(const char *alg)
{
	char line[256], want[160];
	bool found = false;
	FILE *f = fopen("/proc/crypto", "re");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "%s\n", alg);
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, "name", 4) == 0) {
			char *v = strchr(line, ':');
			found = v && strcmp(v + 2, want) == 0;
		}
	fclose(f);
	return found;
}

struct kernel_alg {
	char name[96];			/* the kernel's name, e.g. rfc4106(gcm(aes)) */
	const char *modules[4];		/* templates it needs when not built in */
	char suite[64];			/* as configured */
};

static const char *integ_hash(uint16_t id)
{
	switch (id) {
	case IKE_INTEG_HMAC_SHA1_96:
		return "sha1";
	case IKE_INTEG_HMAC_SHA2_256_128:
		return "sha256";
	case IKE_INTEG_HMAC_SHA2_384_192:
		return "sha384";
	case IKE_INTEG_HMAC_SHA2_512_256:
		return "sha512";
	}
	return NULL;
}

static const char *hash_module(const char *h)
{
	if (strcmp(h, "sha1") == 0)
		return "sha1_generic";
	if (strcmp(h, "sha256") == 0)
		return "sha256_generic";
	return "sha512_generic";	/* sha384 too */
}

/* Add alg to list unless present; returns the new count. */
static size_t add_alg(struct kernel_alg *list, size_t n, size_t max,
		      const struct kernel_alg *a)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, a->name) == 0)
			return n;
	if (n < max)
		list[n++] = *a;
	return n;
}

static void check_crypto(struct doctor *d)
{
	struct kernel_alg algs[32];
	size_t n = 0;

	if (!d->conf) {
		report(d, LVL_WARN, "crypto", "fix the config (see above)",
		       "no config: ESP algorithms not checked");
		return;
	}
	for (size_t t = 0; t < d->conf->n_tunnels; t++) {
		const struct cgw_proposals *ps = &d->conf->tunnels[t].esp;
		for (size_t i = 0; i < ps->n; i++) {
			const struct cgw_proposal *p = &ps->p[i];
			for (size_t e = 0; e < p->n_encr; e++) {
				struct kernel_alg a = { .modules = { NULL } };
				const char *en = proposal_alg_name(IKE_TRANSFORM_ENCR, &p->encr[e]);
				if (p->encr[e].id == IKE_ENCR_AES_GCM_16) {
					snprintf(a.name, sizeof(a.name), "rfc4106(gcm(aes))");
					a.modules[0] = "gcm";
					snprintf(a.suite, sizeof(a.suite), "%s", en ? en : "aes-gcm");
					n = add_alg(algs, n, 32, &a);
					continue;
				}
				for (size_t g = 0; g < p->n_integ; g++) {
					const char *h = integ_hash(p->integ[g].id);
					const char *gn = proposal_alg_name(IKE_TRANSFORM_INTEG, &p->integ[g]);
					if (!h)
						continue;
					snprintf(a.name, sizeof(a.name), "authenc(hmac(%s),cbc(aes))", h);
					a.modules[0] = "authenc";
					a.modules[1] = "cbc";
					a.modules[2] = "hmac";
					a.modules[3] = hash_module(h);
					snprintf(a.suite, sizeof(a.suite), "%s-%s", en ? en : "aes",
						 gn ? gn : h);
					n = add_alg(algs, n, 32, &a);
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *missing = NULL;
		bool unsure = false;
		char fix[256];

		if (crypto_listed(algs[i].name)) {
			report(d, LVL_OK, "crypto", NULL, "%s (esp %s) in /proc/crypto",
			       algs[i].name, algs[i].suite);
			continue;
		}
		for (size_t m = 0; m < 4 && algs[i].modules[m] && !missing; m++) {
			enum mod_state st = module_state(algs[i].modules[m]);
			if (st == MOD_MISSING)
				missing = algs[i].modules[m];
			unsure |= st == MOD_UNKNOWN;
		}
		if (!missing && unsure) {
			snprintf(fix, sizeof(fix), "once a tunnel is up: grep -F '%s' "
				 "/proc/crypto", algs[i].name);
			report(d, LVL_WARN, "crypto", fix, "%s (esp %s): cannot tell "
			       "whether the kernel has it", algs[i].name, algs[i].suite);
			continue;
		}
		if (!missing) {
			report(d, LVL_OK, "crypto", NULL, "%s (esp %s): its templates are "
			       "available, the kernel builds it on first use", algs[i].name,
			       algs[i].suite);
			continue;
		}
		snprintf(fix, sizeof(fix), "boot a kernel with %s (module %s), or offer "
			 "another esp = suite this kernel has", module_option(missing), missing);
		report(d, LVL_FAIL, "crypto", fix, "%s (esp %s): the kernel lacks %s: it "
		       "will refuse the SA", algs[i].name, algs[i].suite, missing);
	}
}

/* ---- sysctls ---- */

static void check_ip_forward(struct doctor *d)
{
	int v;

	if (read_sysctl("net/ipv4/ip_forward", &v) < 0)
		report(d, LVL_WARN, "ip_forward", NULL,
		       "cannot read /proc/sys/net/ipv4/ip_forward: %s", strerror(errno));
	else if (v == 1)
		report(d, LVL_OK, "ip_forward", NULL, "net.ipv4.ip_forward = 1");
	else
		report(d, LVL_FAIL, "ip_forward",
		       "sysctl -w net.ipv4.ip_forward=1 and keep it in /etc/sysctl.d/90-cgw.conf",
		       "net.ipv4.ip_forward = %d: nothing is forwarded between the LAN and "
		       "the tunnels", v);
}

/*
 * Does link name exist in this network namespace? (Not /sys/class/net:
 * sysfs shows the namespace it was mounted in.)
 */
static bool link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static void check_rp_filter(struct doctor *d)
{
	int all, dflt = 0, iface;
	char fix[256];

	if (!d->conf || d->conf->n_tunnels == 0)
		return;
	if (read_conf_sysctl("all", "rp_filter", &all) < 0) {
		report(d, LVL_WARN, "rp_filter", NULL, "cannot read net.ipv4.conf.all.rp_filter");
		return;
	}
	read_conf_sysctl("default", "rp_filter", &dflt);
	for (size_t i = 0; i < d->conf->n_tunnels; i++) {
		const char *vti = d->conf->tunnels[i].vti;
		bool exists = link_exists(vti);
		int eff;

		/* cgwd sets 2 (loose) on the VTIs it creates. */
		if (!exists || read_conf_sysctl(vti, "rp_filter", &iface) < 0)
			iface = exists ? dflt : 2;
		eff = all > iface ? all : iface;
		if (eff != 1) {
			report(d, LVL_OK, "rp_filter", NULL, "%s: max(all=%d, %s=%d) = %d (%s)%s",
			       vti, all, vti, iface, eff, eff == 2 ? "loose" : "off",
			       exists ? "" : " once cgwd creates it");
			continue;
		}
		if (all == 1)
			snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.all.rp_filter=2 "
				 "(all=1 makes every interface strict whatever its own value)%s%s%s",
				 iface == 1 ? "; sysctl -w net.ipv4.conf." : "",
				 iface == 1 ? vti : "", iface == 1 ? ".rp_filter=2" : "");
		else
			snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.%s.rp_filter=2", vti);
		report(d, LVL_FAIL, "rp_filter", fix, "%s: strict: the kernel uses max(all=%d, "
		       "%s=%d) = 1 and drops packets from networks it routes elsewhere",
		       vti, all, vti, iface);
	}
}

static void check_disable_policy(struct doctor *d)
{
	char fix[128];
	int v;

	for (size_t i = 0; d->conf && i < d->conf->n_tunnels; i++) {
		const char *vti = d->conf->tunnels[i].vti;

		if (!link_exists(vti)) {
			report(d, LVL_OK, "disable_policy", NULL, "%s: not there yet; cgwd "
			       "sets disable_policy=1 when it creates it", vti);
			continue;
		}
		if (read_conf_sysctl(vti, "disable_policy", &v) < 0) {
			report(d, LVL_WARN, "disable_policy", NULL, "%s: cannot read "
			       "net.ipv4.conf.%s.disable_policy", vti, vti);
			continue;
		}
		snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.%s.disable_policy=1", vti);
		if (v == 1)
			report(d, LVL_OK, "disable_policy", NULL, "%s: disable_policy = 1", vti);
		else
			report(d, LVL_FAIL, "disable_policy", fix, "%s: disable_policy = %d: "
			       "decrypted packets are checked against the policies again and "
			       "dropped", vti, v);
	}
}

/* ---- links and routes ---- */

/* `ip -j -d link show dev name`'s object, or NULL. */
static struct json_object *ip_link(const char *name, struct json_object **root)
{
	const char *const argv[] = { "ip", "-j", "-d", "link", "show", "dev", name, NULL };

	*root = run_json(argv);
	return jlen(*root) ? json_object_array_get_idx(*root, 0) : NULL;
}

static void check_vti(struct doctor *d)
{
	char fix[256], key[INET_ADDRSTRLEN];

	for (size_t i = 0; d->conf && i < d->conf->n_tunnels; i++) {
		const struct cgw_tunnel_conf *t = &d->conf->tunnels[i];
		struct json_object *root = NULL, *l, *info;
		const char *kind = NULL, *ikey;
		struct in_addr k = { htonl(t->mark) };

		if (!link_exists(t->vti)) {
			if (d->status)
				report(d, LVL_FAIL, "vti", "look at cgwd's log (journalctl -u "
				       "cgwd) and the modules check above", "%s (tunnel %s): VTI "
				       "missing although cgwd is running", t->vti, t->name);
			else
				report(d, LVL_WARN, "vti", "start cgwd: it creates the VTI",
				       "%s (tunnel %s): VTI missing (cgwd is not running)",
				       t->vti, t->name);
			continue;
		}
		l = ip_link(t->vti, &root);
		info = jget(l, "linkinfo");
		kind = jstr(info, "info_kind");
		if (!l) {
			report(d, LVL_WARN, "vti", "install iproute2", "%s (tunnel %s): "
			       "exists, kind unknown (ip -j -d link failed)", t->vti, t->name);
		} else if (!kind || strcmp(kind, "vti") != 0) {
			snprintf(fix, sizeof(fix), "ip link del %s (or set another vti = in "
				 "[tunnel %s]); cgwd creates the VTI itself", t->vti, t->name);
			report(d, LVL_FAIL, "vti", fix, "%s (tunnel %s): VTI missing: a link of "
			       "that name exists but is a %s, not a vti", t->vti, t->name,
			       kind ? kind : "plain device");
		} else if ((ikey = jstr(jget(info, "info_data"), "ikey")) &&
			   strcmp(ikey, inet_ntop(AF_INET, &k, key, sizeof(key))) != 0) {
			report(d, LVL_FAIL, "vti", "cgwctl reload, or restart cgwd", "%s "
			       "(tunnel %s): key %s is not mark %" PRIu32 " (%s)", t->vti,
			       t->name, ikey, t->mark, key);
		} else {
			report(d, LVL_OK, "vti", NULL, "%s (tunnel %s): vti, %s", t->vti,
			       t->name, jstr(l, "operstate") ? jstr(l, "operstate") : "?");
		}
		json_object_put(root);
	}
}

static bool is_configured_vti(const struct cgw_conf *c, const char *dev)
{
	for (size_t i = 0; i < c->n_tunnels; i++)
		if (strcmp(c->tunnels[i].vti, dev) == 0)
			return true;
	return false;
}

static void check_routes(struct doctor *d)
{
	char addr[64], local[64] = "", fix[384];

	if (d->conf && d->conf->gateway.local_address.family)
		conf_addr_str(&d->conf->gateway.local_address, local, sizeof(local));
	for (size_t i = 0; d->conf && i < d->conf->n_tunnels; i++) {
		const struct cgw_tunnel_conf *t = &d->conf->tunnels[i];
		const char *argv[] = { "ip", "-j", "route", "get", addr, NULL };
		struct json_object *root, *r;
		const char *dev, *src, *gw, *type;

		conf_addr_str(&t->remote, addr, sizeof(addr));
		root = run_json(argv);
		r = jlen(root) ? json_object_array_get_idx(root, 0) : NULL;
		dev = jstr(r, "dev");
		src = jstr(r, "prefsrc");
		gw = jstr(r, "gateway");
		type = jstr(r, "type");
		if (!r || !dev || (type && strcmp(type, "unicast") != 0)) {
			snprintf(fix, sizeof(fix), "ip route add %s via GATEWAY dev UPLINK "
				 "(or add a default route)", addr);
			report(d, LVL_FAIL, "route", fix, "no route to %s (tunnel %s): IKE "
			       "and ESP cannot reach the peer", addr, t->name);
		} else if (is_configured_vti(d->conf, dev) || strcmp(dev, "lo") == 0) {
			snprintf(fix, sizeof(fix), "ip route add %s/32 via GATEWAY dev UPLINK: "
				 "the peer's outside address must not go through %s", addr, dev);
			report(d, LVL_FAIL, "route", fix, "%s (tunnel %s) is routed via %s: "
			       "the tunnel's own packets would loop", addr, t->name, dev);
		} else if (*local && src && strcmp(src, local) != 0) {
			snprintf(fix, sizeof(fix), "ip route replace %s%s%s dev %s src %s", addr,
				 gw ? " via " : "", gw ? gw : "", dev, local);
			report(d, LVL_WARN, "route", fix, "%s (tunnel %s) via %s uses source "
			       "%s, not local-address %s", addr, t->name, dev, src, local);
		} else {
			report(d, LVL_OK, "route", NULL, "%s (tunnel %s) via %s%s%s%s%s", addr,
			       t->name, dev, gw ? " gateway " : "", gw ? gw : "",
			       src ? " from " : "", src ? src : "");
		}
		json_object_put(root);
	}
}

/* ---- firewall ---- */

static void load_nft(struct doctor *d)
{
	const char *const argv[] = { "nft", "-j", "list", "ruleset", NULL };

	d->nft = run_json(argv);
	d->nft_ok = d->nft && json_object_is_type(jget(d->nft, "nftables"), json_type_array);
}

struct coverage {
	bool udp500, udp4500, esp, all;
	bool unsure;		/* a named set or something we do not read */
};

static void cover_port(struct coverage *c, struct json_object *v)
{
	if (json_object_is_type(v, json_type_int)) {
		int p = json_object_get_int(v);
		c->udp500 |= p == 500;
		c->udp4500 |= p == 4500;
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < jlen(v); i++)
			cover_port(c, json_object_array_get_idx(v, i));
	} else if (jget(v, "set")) {
		cover_port(c, jget(v, "set"));
	} else if (jget(v, "range")) {
		struct json_object *r = jget(v, "range");
		int lo = json_object_get_int(json_object_array_get_idx(r, 0));
		int hi = json_object_get_int(json_object_array_get_idx(r, 1));
		c->udp500 |= lo <= 500 && 500 <= hi;
		c->udp4500 |= lo <= 4500 && 4500 <= hi;
	} else {
		c->unsure = true;
	}
}

static bool is_esp(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), "esp") == 0;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int(v) == 50;
	if (jget(v, "set"))
		v = jget(v, "set");
	for (size_t i = 0; i < jlen(v); i++)
		if (is_esp(json_object_array_get_idx(v, i)))
			return true;
	return false;
}

/* What one accept rule lets in, from its match expressions. */
static void cover_rule(struct coverage *c, struct json_object *expr)
{
	bool narrowing = false, accept = false;
	struct coverage r = { 0 };

	for (size_t i = 0; i < jlen(expr); i++) {
		struct json_object *e = json_object_array_get_idx(expr, i);
		struct json_object *m = jget(e, "match"), *left, *pl, *meta;
		const char *op;

		if (json_object_object_get_ex(e, "accept", NULL)) {	/* {"accept": null} */
			accept = true;
			continue;
		}
		if (!m)
			continue;
		op = jstr(m, "op");
		left = jget(m, "left");
		pl = jget(left, "payload");
		meta = jget(left, "meta");
		if (op && strcmp(op, "==") != 0 && strcmp(op, "in") != 0) {
			narrowing = true;
			continue;
		}
		if (pl && jstr(pl, "field") && strcmp(jstr(pl, "field"), "dport") == 0 &&
		    jstr(pl, "protocol") && strcmp(jstr(pl, "protocol"), "udp") == 0) {
			cover_port(&r, jget(m, "right"));
			narrowing = true;
		} else if ((meta && jstr(meta, "key") && strcmp(jstr(meta, "key"), "l4proto") == 0) ||
			   (pl && jstr(pl, "field") && (strcmp(jstr(pl, "field"), "protocol") == 0 ||
							strcmp(jstr(pl, "field"), "nexthdr") == 0))) {
			r.esp |= is_esp(jget(m, "right"));
			narrowing = true;
		} else if (meta && jstr(meta, "key") && (strcmp(jstr(meta, "key"), "iifname") == 0 ||
							  strcmp(jstr(meta, "key"), "iif") == 0)) {
			/* accepting an interface: counts as everything */
		} else {
			narrowing = true;	/* ct state, saddr, ...: not for new IKE */
		}
	}
	if (!accept)
		return;
	if (!narrowing)
		r.all = true;
	c->udp500 |= r.udp500 || r.all;
	c->udp4500 |= r.udp4500 || r.all;
	c->esp |= r.esp || r.all;
	c->unsure |= r.unsure;
}

static void check_firewall(struct doctor *d)
{
	struct json_object *items = jget(d->nft, "nftables");
	bool any = false;

	if (!d->nft_ok) {
		report(d, LVL_OK, "firewall", NULL, "no nftables ruleset to check (nft "
		       "missing or not permitted); iptables rules are not read");
		return;
	}
	for (size_t i = 0; i < jlen(items); i++) {
		struct json_object *ch = jget(json_object_array_get_idx(items, i), "chain");
		const char *hook = jstr(ch, "hook"), *pol = jstr(ch, "policy");
		const char *fam = jstr(ch, "family"), *tab = jstr(ch, "table"), *name = jstr(ch, "name");
		struct coverage c = { 0 };
		char fix[512], miss[64] = "";

		if (!hook || strcmp(hook, "input") != 0 || !pol || strcmp(pol, "drop") != 0 ||
		    !fam || !tab || !name || (strcmp(fam, "ip") && strcmp(fam, "inet")))
			continue;
		any = true;
		for (size_t j = 0; j < jlen(items); j++) {
			struct json_object *r = jget(json_object_array_get_idx(items, j), "rule");
			if (r && jstr(r, "family") && jstr(r, "table") && jstr(r, "chain") &&
			    strcmp(jstr(r, "family"), fam) == 0 && strcmp(jstr(r, "table"), tab) == 0 &&
			    strcmp(jstr(r, "chain"), name) == 0)
				cover_rule(&c, jget(r, "expr"));
		}
		if (c.udp500 && c.udp4500 && c.esp) {
			report(d, LVL_OK, "firewall", NULL, "%s %s %s (policy drop) accepts udp "
			       "500, 4500 and esp", fam, tab, name);
			continue;
		}
		snprintf(miss, sizeof(miss), "%s%s%s", c.udp500 ? "" : " udp/500",
			 c.udp4500 ? "" : " udp/4500", c.esp ? "" : " esp");
		snprintf(fix, sizeof(fix), "nft insert rule %s %s %s udp dport { 500, 4500 } "
			 "accept; nft insert rule %s %s %s meta l4proto esp accept", fam, tab,
			 name, fam, tab, name);
		report(d, LVL_WARN, "firewall", fix, "%s %s %s drops by default and no accept "
		       "rule was found for%s%s (esp is only needed without NAT)", fam, tab, name,
		       miss, c.unsure ? " (some rules use sets doctor cannot read)" : "");
	}
	if (!any)
		report(d, LVL_OK, "firewall", NULL, "no nftables input chain drops by default");
}

/* ---- MTU and MSS ---- */

/* AWS's per-algorithm maximum MTU for one ESP proposal (AWS.md). */
static unsigned aws_max_mtu(const struct cgw_proposal *p, bool natt)
{
	unsigned m = natt ? 1438 : 1446;

	if (proposal_is_aead(p))
		return m;
	for (size_t j = 0; j < p->n_integ; j++) {
		unsigned x = p->integ[j].id >= IKE_INTEG_HMAC_SHA2_384_192 ?
			(natt ? 1406 : 1422) : (natt ? 1422 : 1438);
		m = x < m ? x : m;
	}
	return m;
}

/* Any IKE SA of the tunnel behind NAT (from status)? */
static bool tunnel_natt(struct doctor *d, const char *name)
{
	struct json_object *sas = jget(status_tunnel(d, name), "ike_sas");

	for (size_t i = 0; i < jlen(sas); i++)
		if (json_object_get_boolean(jget(json_object_array_get_idx(sas, i), "nat_t")))
			return true;
	return false;
}

static bool link_mtu(const char *name, unsigned *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ok = ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0;
	close(fd);
	if (ok)
		*mtu = (unsigned)ifr.ifr_mtu;
	return ok;
}

/* Does any nft rule set a TCP MSS (nft's maxseg or iptables-nft's TCPMSS)? */
static bool has_mss_clamp(struct json_object *o)
{
	struct json_object_iterator it, end;

	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < jlen(o); i++)
			if (has_mss_clamp(json_object_array_get_idx(o, i)))
				return true;
		return false;
	}
	if (!json_object_is_type(o, json_type_object))
		return false;
	if (jstr(jget(jget(jget(o, "mangle"), "key"), "tcp option"), "name") &&
	    strcmp(jstr(jget(jget(jget(o, "mangle"), "key"), "tcp option"), "name"), "maxseg") == 0)
		return true;
	if (jstr(jget(o, "xt"), "name") && strcmp(jstr(jget(o, "xt"), "name"), "TCPMSS") == 0)
		return true;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (has_mss_clamp(json_object_iter_peek_value(&it)))
			return true;
	return false;
}

static void check_mtu(struct doctor *d)
{
	unsigned lowest = 0;
	char vtis[256] = "", fix[1024];
	size_t off = 0;

	if (!d->conf || d->conf->n_tunnels == 0)
		return;
	for (size_t i = 0; i < d->conf->n_tunnels; i++) {
		const struct cgw_tunnel_conf *t = &d->conf->tunnels[i];
		bool natt = tunnel_natt(d, t->name), live;
		unsigned max = 9000, mtu;

		for (size_t j = 0; j < t->esp.n; j++) {
			unsigned m = aws_max_mtu(&t->esp.p[j], natt);
			max = m < max ? m : max;
		}
		live = link_mtu(t->vti, &mtu);
		if (!live)
			mtu = t->mtu ? t->mtu : max;
		if (mtu > max) {
			snprintf(fix, sizeof(fix), "mtu = %u in [tunnel %s] (or leave mtu unset: "
				 "cgwd then uses AWS's maximum for the suite), then cgwctl reload",
				 max, t->name);
			report(d, LVL_WARN, "mtu", fix, "%s (tunnel %s): MTU %u%s is above AWS's "
			       "maximum %u for its ESP suite%s: AWS does no path-MTU discovery, "
			       "large packets are lost", t->vti, t->name, mtu, live ? "" : " (configured)",
			       max, natt ? " with NAT-T" : "");
		} else {
			report(d, LVL_OK, "mtu", NULL, "%s (tunnel %s): MTU %u%s, AWS's maximum "
			       "for its ESP suite %u%s", t->vti, t->name, mtu,
			       live ? "" : " (when created)", max, natt ? " with NAT-T" : "");
		}
		mtu = mtu < max ? mtu : max;
		lowest = !lowest || mtu < lowest ? mtu : lowest;
		if (off < sizeof(vtis))
			off += (size_t)snprintf(vtis + off, sizeof(vtis) - off, "%s\"%s\"",
						i ? ", " : "", t->vti);
	}
	if (d->nft_ok && has_mss_clamp(d->nft)) {
		report(d, LVL_OK, "mss", NULL, "a TCP MSS clamping rule is in the nftables "
		       "ruleset");
		return;
	}
	snprintf(fix, sizeof(fix), "nft add table inet cgw; nft add chain inet cgw "
		 "mss '{ type filter hook forward priority mangle; policy accept; }'; "
		 "nft add rule inet cgw mss 'oifname { %s } tcp flags syn tcp option "
		 "maxseg size set rt mtu'; nft add rule inet cgw mss 'iifname { %s } "
		 "tcp flags syn tcp option maxseg size set %u'", vtis, vtis, lowest - 40);
	report(d, LVL_WARN, "mss", fix, "%s: TCP connections through the tunnels "
	       "may hang on large transfers (MSS %u fits MTU %u)",
	       d->nft_ok ? "no TCP MSS clamping rule found in nftables" :
	       "cannot read nftables to look for TCP MSS clamping", lowest - 40, lowest);
}

/* ---- clock ---- */

static void check_clock(struct doctor *d)
{
	const char *const argv[] = { "timedatectl", "show", "-p", "NTPSynchronized",
				     "--value", NULL };
	struct timex tx = { .modes = 0 };
	char *out = NULL;
	int state = adjtimex(&tx);
	bool kernel_sync = state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);

	if (kernel_sync) {
		report(d, LVL_OK, "clock", NULL, "synchronised (kernel: max error %ld us)",
		       tx.maxerror);
		return;
	}
	if (run_capture(argv, &out) == 0 && out && strncmp(out, "yes", 3) == 0) {
		report(d, LVL_OK, "clock", NULL, "synchronised (timedatectl)");
		free(out);
		return;
	}
	free(out);
	report(d, LVL_WARN, "clock", "apt-get install systemd-timesyncd (or chrony); "
	       "timedatectl set-ntp true", "not synchronised to NTP: a skewed clock "
	       "breaks AWS API calls, Terraform and certificate checks, and makes logs "
	       "hard to match with AWS's");
}

/* ---- config and daemon ---- */

static void load_config(struct doctor *d)
{
	struct conf_diag diag = { 0 };
	char fix[512];
	struct stat st;

	if (secret_init() < 0) {
		report(d, LVL_FAIL, "config", NULL, "libsodium initialisation failed");
		return;
	}
	d->conf = conf_load(d->conf_path, CONF_CHECK_PERMS, &diag);
	for (size_t i = 0; i < diag.n_lines; i++) {
		const char *line = diag.lines[i], *chmod = strstr(line, ": chmod ");
		bool warning = strstr(line, ": warning: ") != NULL;

		if (chmod)
			snprintf(fix, sizeof(fix), "%s", chmod + 2);
		else
			snprintf(fix, sizeof(fix), "edit %s; check it with cgwd -n -c %s",
				 d->conf_path, d->conf_path);
		if (chmod)
			report(d, warning ? LVL_WARN : LVL_FAIL, "config", fix, "%.*s",
			       (int)(chmod - line), line);
		else
			report(d, warning ? LVL_WARN : LVL_FAIL, "config", fix, "%s", line);
	}
	if (d->conf) {
		report(d, LVL_OK, "config", NULL, "%s loads: %zu tunnel%s, PSK files "
		       "private", d->conf_path, d->conf->n_tunnels,
		       d->conf->n_tunnels == 1 ? "" : "s");
	} else {
		/* Go on with the other checks if only permissions failed. */
		struct conf_diag again = { 0 };
		d->conf = conf_load(d->conf_path, 0, &again);
		conf_diag_free(&again);
		if (!d->conf && !is_root() && access(d->conf_path, R_OK) < 0)
			report(d, LVL_WARN, "config", "run cgwctl doctor as root",
			       "%s is not readable by this user", d->conf_path);
	}
	conf_diag_free(&diag);
	if (stat(d->conf_path, &st) == 0 && (st.st_mode & 022)) {
		snprintf(fix, sizeof(fix), "chmod go-w %s", d->conf_path);
		report(d, LVL_WARN, "config", fix, "%s is writable by group or others "
		       "(mode %04o)", d->conf_path, st.st_mode & 07777);
	}
}

static void check_config(struct doctor *d)
{
	load_config(d);
	if (!is_root())
		report(d, LVL_WARN, "privileges", "run cgwctl doctor as root",
		       "not root: PSK files, nftables and the control socket may be "
		       "out of reach");
}

static void check_daemon(struct doctor *d)
{
	char err[512], fix[256];

	if (d->conf && d->conf->gateway.control_socket &&
	    strcmp(d->socket_path, CGW_DEFAULT_SOCKET) == 0)
		d->socket_path = d->conf->gateway.control_socket;
	d->status_err = cgwctl_fetch_status(d->socket_path, &d->status, err, sizeof(err));
	if (d->status_err == 0) {
		struct json_object *pid = jget(d->status, "pid");
		report(d, LVL_OK, "cgwd", NULL, "cgwd %s running (pid %s), answering on %s",
		       jstr(d->status, "version") ? jstr(d->status, "version") : "?",
		       pid ? json_object_get_string(pid) : "?", d->socket_path);
		return;
	}
	snprintf(fix, sizeof(fix), "systemctl start cgwd (or cgwd -c %s)", d->conf_path);
	if (d->status_err == -ENOENT)
		report(d, LVL_WARN, "cgwd", fix, "not running (no control socket %s)",
		       d->socket_path);
	else if (d->status_err == -EACCES || d->status_err == -EPERM)
		report(d, LVL_WARN, "cgwd", "run as root or join the socket's group",
		       "%s", err);
	else if (d->status_err == -ECONNREFUSED)
		report(d, LVL_FAIL, "cgwd", "systemctl restart cgwd; journalctl -u cgwd",
		       "%s: a stale socket, cgwd has stopped", err);
	else
		report(d, LVL_FAIL, "cgwd", "systemctl restart cgwd; journalctl -u cgwd",
		       "%s", err);
}

/* Packets in/out over the tunnel's CHILD SAs. */
static void child_packets(struct json_object *t, int64_t *in, int64_t *out)
{
	struct json_object *sas = jget(t, "ike_sas");

	*in = *out = 0;
	for (size_t i = 0; i < jlen(sas); i++) {
		struct json_object *ch = jget(json_object_array_get_idx(sas, i), "children");
		for (size_t j = 0; j < jlen(ch); j++) {
			struct json_object *c = json_object_array_get_idx(ch, j);
			*in += json_object_get_int64(jget(c, "packets_in"));
			*out += json_object_get_int64(jget(c, "packets_out"));
		}
	}
}

static void check_tunnels(struct doctor *d)
{
	struct json_object *ts = jget(d->status, "tunnels");
	char fix[256];

	if (!d->status)
		return;
	for (size_t i = 0; i < jlen(ts); i++) {
		struct json_object *t = json_object_array_get_idx(ts, i);
		const char *name = jstr(t, "name"), *state = jstr(t, "state");
		const char *reason = jstr(t, "reason"), *startup = jstr(t, "startup");
		int64_t in, out;

		if (!name || !state)
			continue;
		child_packets(t, &in, &out);
		snprintf(fix, sizeof(fix), "cgwctl status; journalctl -u cgwd | grep %s",
			 name);
		if (strcmp(state, "up") == 0 && in == 0 && out > 0)
			report(d, LVL_WARN, "tunnel", "check the VPC route tables and security "
			       "groups, and rp_filter/disable_policy above",
			       "%s up, but nothing received (%" PRId64 " packets out, 0 in)",
			       name, out);
		else if (strcmp(state, "up") == 0)
			report(d, LVL_OK, "tunnel", NULL, "%s up (%" PRId64 " packets in, %"
			       PRId64 " out)", name, in, out);
		else if (startup && strcmp(startup, "add") == 0 && !reason)
			report(d, LVL_WARN, "tunnel", "startup = add waits for AWS to initiate "
			       "(cgwctl tunnel up NAME initiates now)", "%s %s, waiting for "
			       "the peer", name, state);
		else
			report(d, LVL_FAIL, "tunnel", fix, "%s %s%s%s", name, state,
			       reason ? ": " : "", reason ? reason : "");
	}
	for (size_t i = 0; d->conf && i < d->conf->n_tunnels; i++)
		if (!status_tunnel(d, d->conf->tunnels[i].name))
			report(d, LVL_WARN, "tunnel", "cgwctl reload", "%s is in %s but not "
			       "in cgwd's running config", d->conf->tunnels[i].name,
			       d->conf_path);
}

static const struct check checks[] = {
	{ "config", check_config },
	{ "cgwd", check_daemon },
	{ "modules", check_modules },
	{ "crypto", check_crypto },
	{ "ip_forward", check_ip_forward },
	{ "vti", check_vti },
	{ "rp_filter", check_rp_filter },
	{ "disable_policy", check_disable_policy },
	{ "route", check_routes },
	{ "firewall", check_firewall },
	{ "mtu", check_mtu },
	{ "clock", check_clock },
	{ "tunnel", check_tunnels },
};

static void doctor_usage(FILE *f)
{
	fprintf(f, "Usage: cgwctl [-s SOCKET] doctor [--config FILE]\n"
		"\n"
		"Check this host for what cgw's tunnels need and print each finding as\n"
		"OK, WARN or FAIL with its fix. Changes nothing.\n"
		"\n"
		"  -c, --config FILE   the config to check against (default %s)\n"
		"\n"
		"Checks:", CGW_DEFAULT_CONF);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		fprintf(f, " %s", checks[i].name);
	fprintf(f, "\n\nExit status: 0 nothing blocks the tunnels, 1 a check failed, "
		"2 usage error.\n");
}

int doctor_main(int argc, char **argv, const char *socket_path)
{
	struct doctor d = { .out = stdout, .conf_path = CGW_DEFAULT_CONF,
			    .socket_path = socket_path };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			doctor_usage(stdout);
			return 0;
		}
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) &&
		    i + 1 < argc) {
			d.conf_path = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--config=", 9) == 0) {
			d.conf_path = argv[i] + 9;
			continue;
		}
		fprintf(stderr, "cgwctl: doctor: unexpected argument '%s'\n", argv[i]);
		doctor_usage(stderr);
		return 2;
	}
	load_nft(&d);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		checks[i].fn(&d);
	fprintf(d.out, "\n%u OK, %u WARN, %u FAIL\n", d.n[LVL_OK], d.n[LVL_WARN],
		d.n[LVL_FAIL]);
	json_object_put(d.status);
	json_object_put(d.nft);
	conf_free(d.conf);
	return d.n[LVL_FAIL] ? 1 : 0;
}
