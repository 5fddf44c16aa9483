/*
 * The recording fake of vti/: links (any kind), their addresses and
 * sysctls in memory, with the kernel's answers that matter (EEXIST,
 * ENODEV, a sysctl directory per link), and one line of text per call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vti/vti-internal.h"

#define FAKE_LINKS_MAX 32
#define FAKE_SYSCTLS_MAX 128
#define FAKE_DEFAULT_MTU 1480		/* a VTI on a 1500-byte uplink */

struct fake_link {
	char name[IF_NAMESIZE];
	struct vti_link info;
};

struct fake_sysctl {
	char path[VTI_SYSCTL_MAX];
	int value;
};

struct vti_fake {
	struct vti base;
	struct fake_link links[FAKE_LINKS_MAX];
	size_t n_links;
	struct fake_sysctl sysctls[FAKE_SYSCTLS_MAX];
	size_t n_sysctls;
	int fail_err;			/* -errno for the next matching call, or 0 */
	char fail_prefix[32];		/* "sysctl"; "" matches any call */
	char *log;
	size_t log_len;
};

static struct vti_fake *fake_of(struct vti *v)
{
	return (struct vti_fake *)v;
}

static void record(struct vti_fake *f, const char *line)
{
	size_t len = strlen(line);
	char *p = realloc(f->log, f->log_len + len + 2);

	if (!p)
		return;
	f->log = p;
	memcpy(f->log + f->log_len, line, len);
	f->log_len += len;
	f->log[f->log_len++] = '\n';
	f->log[f->log_len] = '\0';
}

/* Record the call; returns the injected failure if it matches (once). */
__attribute__((format(printf, 2, 3)))
static int begin(struct vti_fake *f, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int err = f->fail_err;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	record(f, line);
	if (!err || strncmp(line, f->fail_prefix, strlen(f->fail_prefix)) != 0)
		return 0;
	f->fail_err = 0;
	return err;
}

static struct fake_link *find_link(struct vti_fake *f, const char *name)
{
	for (size_t i = 0; i < f->n_links; i++)
		if (strcmp(f->links[i].name, name) == 0)
			return &f->links[i];
	return NULL;
}

static int new_link(struct vti_fake *f, const char *name, const char *kind,
		    struct fake_link **out)
{
	struct fake_link *l;

	if (find_link(f, name))
		return -EEXIST;
	if (f->n_links == FAKE_LINKS_MAX)
		return -ENOBUFS;
	l = &f->links[f->n_links++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->info.kind, sizeof(l->info.kind), "%s", kind);
	l->info.mtu = FAKE_DEFAULT_MTU;
	*out = l;
	return 0;
}

static int fake_link_add(struct vti *v, const struct vti_params *p)
{
	struct vti_fake *f = fake_of(v);
	char l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];
	struct fake_link *link;
	int err;

	inet_ntop(AF_INET, &p->local.v4, l, sizeof(l));
	inet_ntop(AF_INET, &p->remote.v4, r, sizeof(r));
	err = begin(f, "link add %s type vti local %s remote %s ikey %u okey %u", p->name,
		    l, r, p->mark, p->mark);
	if (!err)
		err = new_link(f, p->name, "vti", &link);
	if (err)
		return err;
	link->info.ikey = link->info.okey = p->mark;
	return 0;
}

static int fake_link_get(struct vti *v, const char *name, struct vti_link *out)
{
	struct vti_fake *f = fake_of(v);
	struct fake_link *l;
	int err = begin(f, "link get %s", name);

	if (err)
		return err;
	l = find_link(f, name);
	if (!l)
		return -ENODEV;
	*out = l->info;
	return 0;
}

/* "net/ipv4/conf/<ifname>/..." -> does it belong to link name? */
static bool sysctl_of(const char *path, const char *name)
{
	static const char prefix[] = "net/ipv4/conf/";
	size_t len = strlen(name);

	return strncmp(path, prefix, sizeof(prefix) - 1) == 0 &&
	       strncmp(path + sizeof(prefix) - 1, name, len) == 0 &&
	       path[sizeof(prefix) - 1 + len] == '/';
}

static int fake_link_del(struct vti *v, const char *name)
{
	struct vti_fake *f = fake_of(v);
	struct fake_link *l;
	size_t n = 0;
	int err = begin(f, "link del %s", name);

	if (err)
		return err;
	l = find_link(f, name);
	if (!l)
		return -ENODEV;
	*l = f->links[--f->n_links];
	for (size_t i = 0; i < f->n_sysctls; i++)	/* its conf/ directory goes too */
		if (!sysctl_of(f->sysctls[i].path, name))
			f->sysctls[n++] = f->sysctls[i];
	f->n_sysctls = n;
	return 0;
}

static int fake_link_set_mtu(struct vti *v, const char *name, unsigned mtu)
{
	struct vti_fake *f = fake_of(v);
	struct fake_link *l;
	int err = begin(f, "link set %s mtu %u", name, mtu);

	if (err)
		return err;
	l = find_link(f, name);
	if (!l)
		return -ENODEV;
	l->info.mtu = mtu;
	return 0;
}

static int fake_link_set_up(struct vti *v, const char *name, bool up)
{
	struct vti_fake *f = fake_of(v);
	struct fake_link *l;
	int err = begin(f, "link set %s %s", name, up ? "up" : "down");

	if (err)
		return err;
	l = find_link(f, name);
	if (!l)
		return -ENODEV;
	l->info.up = up;
	return 0;
}

static int fake_addr_add(struct vti *v, const char *name, const struct cgw_prefix *p)
{
	struct vti_fake *f = fake_of(v);
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &p->addr.v4, a, sizeof(a));
	int err = begin(f, "addr add %s/%u dev %s", a, p->len, name);
	if (err)
		return err;
	return find_link(f, name) ? 0 : -ENODEV;
}

static struct fake_sysctl *find_sysctl(struct vti_fake *f, const char *path)
{
	for (size_t i = 0; i < f->n_sysctls; i++)
		if (strcmp(f->sysctls[i].path, path) == 0)
			return &f->sysctls[i];
	return NULL;
}

/* Known: globals, "all", "default", and the conf/ of existing links. */
static bool sysctl_exists(struct vti_fake *f, const char *path)
{
	if (strncmp(path, "net/ipv4/conf/", 14) != 0)
		return true;
	if (sysctl_of(path, "all") || sysctl_of(path, "default"))
		return true;
	for (size_t i = 0; i < f->n_links; i++)
		if (sysctl_of(path, f->links[i].name))
			return true;
	return false;
}

static int fake_sysctl_get(struct vti *v, const char *path, int *value)
{
	struct vti_fake *f = fake_of(v);
	struct fake_sysctl *s;
	int err = begin(f, "sysctl get %s", path);

	if (err)
		return err;
	if (!sysctl_exists(f, path))
		return -ENOENT;
	s = find_sysctl(f, path);
	*value = s ? s->value : 0;	/* a fresh namespace's defaults */
	return 0;
}

static int set_sysctl(struct vti_fake *f, const char *path, int value)
{
	struct fake_sysctl *s = find_sysctl(f, path);

	if (!s) {
		if (f->n_sysctls == FAKE_SYSCTLS_MAX)
			return -ENOBUFS;
		s = &f->sysctls[f->n_sysctls++];
		snprintf(s->path, sizeof(s->path), "%s", path);
	}
	s->value = value;
	return 0;
}

static int fake_sysctl_set(struct vti *v, const char *path, int value)
{
	struct vti_fake *f = fake_of(v);
	int err = begin(f, "sysctl %s=%d", path, value);

	if (err)
		return err;
	if (!sysctl_exists(f, path))
		return -ENOENT;
	return set_sysctl(f, path, value);
}

static void fake_close(struct vti *v)
{
	struct vti_fake *f = fake_of(v);

	free(f->log);
	free(f);
}

static const struct vti_ops fake_ops = {
	.link_add = fake_link_add,
	.link_get = fake_link_get,
	.link_del = fake_link_del,
	.link_set_mtu = fake_link_set_mtu,
	.link_set_up = fake_link_set_up,
	.addr_add = fake_addr_add,
	.sysctl_get = fake_sysctl_get,
	.sysctl_set = fake_sysctl_set,
	.close = fake_close,
};

int vti_fake_open(struct vti **out)
{
	struct vti_fake *f = calloc(1, sizeof(*f));

	*out = f ? &f->base : NULL;
	if (!f)
		return -ENOMEM;
	f->base.ops = &fake_ops;
	return 0;
}

/* ------------------------------------------------------ test controls */

static struct vti_fake *as_fake(struct vti *v)
{
	return v && v->ops == &fake_ops ? fake_of(v) : NULL;
}

const char *vti_fake_log(struct vti *v)
{
	struct vti_fake *f = as_fake(v);

	return f && f->log ? f->log : "";
}

void vti_fake_log_clear(struct vti *v)
{
	struct vti_fake *f = as_fake(v);

	if (f && f->log) {
		f->log_len = 0;
		f->log[0] = '\0';
	}
}

void vti_fake_fail_next(struct vti *v, const char *call, int err)
{
	struct vti_fake *f = as_fake(v);

	if (!f)
		return;
	f->fail_err = err;
	snprintf(f->fail_prefix, sizeof(f->fail_prefix), "%s", call ? call : "");
}

int vti_fake_set_sysctl(struct vti *v, const char *path, int value)
{
	struct vti_fake *f = as_fake(v);

	return f ? set_sysctl(f, path, value) : -EINVAL;
}

int vti_fake_add_link(struct vti *v, const char *name, const char *kind)
{
	struct vti_fake *f = as_fake(v);
	struct fake_link *l;

	return f ? new_link(f, name, kind, &l) : -EINVAL;
}

int vti_fake_set_counters(struct vti *v, const char *name, const struct vti_counters *c)
{
	struct vti_fake *f = as_fake(v);
	struct fake_link *l = f ? find_link(f, name) : NULL;

	if (!l)
		return -ENODEV;
	l->info.cnt = *c;
	return 0;
}
