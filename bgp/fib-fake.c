/*
 * The recording fake backend of bgp/fib: an in-memory routing table with
 * the kernel's rules that matter (EXCL, REPLACE by prefix and metric,
 * deletes matching protocol 186 only), one log line per call, injected
 * failures and lost replies (ENOBUFS), for tests without root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "bgp/fib.h"

struct fake_req {
	enum fib_op op;
	struct fib_route r;
};

struct fake_fail {
	uint32_t dst;
	uint8_t len;
	int err;
};

struct fib_fake {
	struct fib_backend base;
	struct fib_route *routes;	/* the "kernel", in insertion order */
	size_t n_routes;
	struct fake_req *q;
	size_t n_q;
	struct fake_fail *fails;
	size_t n_fails;
	bool overrun;
	char *log;
	size_t log_len;
};

static struct fib_fake *fake_of(struct fib_backend *b)
{
	return (struct fib_fake *)b;
}

__attribute__((format(printf, 2, 3)))
static void fake_record(struct fib_fake *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t len;
	char *p;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	len = strlen(line);
	p = realloc(f->log, f->log_len + len + 2);
	if (!p)
		return;
	f->log = p;
	memcpy(f->log + f->log_len, line, len);
	f->log_len += len;
	f->log[f->log_len++] = '\n';
	f->log[f->log_len] = '\0';
}

/* "10.0.0.0/24 table 254 metric 20 via 169.254.10.1 dev 7 ..." */
static const char *route_str(const struct fib_route *r, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];
	size_t off;

	inet_ntop(AF_INET, &r->dst, a, sizeof(a));
	off = (size_t)snprintf(buf, size, "%s/%u table %u metric %u", a, r->len, r->table,
			       r->metric);
	for (size_t i = 0; i < r->n_nh && off < size; i++) {
		inet_ntop(AF_INET, &r->nh[i].gw, a, sizeof(a));
		off += (size_t)snprintf(buf + off, size - off, " via %s dev %u", a,
					r->nh[i].ifindex);
	}
	return buf;
}

static int fake_queue(struct fib_backend *b, enum fib_op op, const struct fib_route *r)
{
	struct fib_fake *f = fake_of(b);
	struct fake_req *q = reallocarray(f->q, f->n_q + 1, sizeof(*q));
	char s[512];

	if (!q)
		return -ENOMEM;
	f->q = q;
	q[f->n_q].op = op;
	q[f->n_q].r = *r;
	if (op == FIB_OP_DEL)
		q[f->n_q].r.n_nh = 0;
	fake_record(f, "%s %s", fib_op_name(op), route_str(&q[f->n_q].r, s, sizeof(s)));
	f->n_q++;
	return 0;
}

static struct fib_route *fake_find(struct fib_fake *f, const struct fib_route *r)
{
	for (size_t i = 0; i < f->n_routes; i++) {
		struct fib_route *k = &f->routes[i];

		if (k->table == r->table && k->dst.s_addr == r->dst.s_addr && k->len == r->len &&
		    k->metric == r->metric)
			return k;
	}
	return NULL;
}

/* What the kernel would do with one request (the key ignores protocol,
 * except that a delete carrying protocol 186 matches only ours). */
static int fake_apply(struct fib_fake *f, enum fib_op op, const struct fib_route *r)
{
	struct fib_route *k = fake_find(f, r);

	for (size_t i = 0; i < f->n_fails; i++)
		if (f->fails[i].dst == r->dst.s_addr && f->fails[i].len == r->len)
			return f->fails[i].err;
	if (op == FIB_OP_DEL) {
		if (!k || k->protocol != FIB_RTPROT_BGP)
			return -ESRCH;
		memmove(k, k + 1, (size_t)(&f->routes[f->n_routes] - (k + 1)) * sizeof(*k));
		f->n_routes--;
		return 0;
	}
	if (k && op == FIB_OP_ADD)
		return -EEXIST;
	if (k) {
		*k = *r;
		k->protocol = FIB_RTPROT_BGP;
		return 0;
	}
	return fib_fake_insert(&f->base, r) < 0 ? -ENOMEM : 0;
}

static int fake_commit(struct fib_backend *b)
{
	struct fib_fake *f = fake_of(b);
	bool lost = f->overrun;

	if (!f->n_q)
		return 0;
	fake_record(f, "commit %zu", f->n_q);
	for (size_t i = 0; i < f->n_q; i++) {
		const struct fib_route *r = &f->q[i].r;
		int err = fake_apply(f, f->q[i].op, r);

		if (err && !lost)
			fib_backend_report(b, f->q[i].op, r->dst.s_addr, r->len, err, NULL);
	}
	b->sends++;
	b->msgs += f->n_q;
	f->n_q = 0;
	f->overrun = false;
	return lost ? -ENOBUFS : 0;
}

static int fake_dump(struct fib_backend *b, uint32_t table, fib_dump_fn fn, void *arg)
{
	struct fib_fake *f = fake_of(b);
	size_t n = 0;
	int ret = fake_commit(b);

	if (ret < 0 && ret != -ENOBUFS)
		return ret;
	for (size_t i = 0; i < f->n_routes; i++)
		n += f->routes[i].table == table && f->routes[i].protocol == FIB_RTPROT_BGP;
	fake_record(f, "dump %zu", n);
	for (size_t i = 0; i < f->n_routes; i++) {
		struct fib_route r = f->routes[i];

		if (r.table != table || r.protocol != FIB_RTPROT_BGP)
			continue;
		fib_route_sort_nh(&r);
		if ((ret = fn(&r, arg)) != 0)
			return ret;
	}
	return 0;
}

static void fake_close(struct fib_backend *b)
{
	struct fib_fake *f = fake_of(b);

	free(f->routes);
	free(f->q);
	free(f->fails);
	free(f->log);
	free(f);
}

static const struct fib_backend_ops fake_ops = {
	.name = "fake",
	.queue = fake_queue,
	.commit = fake_commit,
	.dump = fake_dump,
	.close = fake_close,
};

int fib_fake_open(struct fib_backend **out)
{
	struct fib_fake *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->base.ops = &fake_ops;
	*out = &f->base;
	return 0;
}

const char *fib_fake_log(struct fib_backend *b)
{
	struct fib_fake *f = fake_of(b);

	return f->log ? f->log : "";
}

void fib_fake_log_clear(struct fib_backend *b)
{
	struct fib_fake *f = fake_of(b);

	f->log_len = 0;
	if (f->log)
		f->log[0] = '\0';
}

int fib_fake_fail(struct fib_backend *b, struct in_addr dst, uint8_t len, int err)
{
	struct fib_fake *f = fake_of(b);
	struct fake_fail *p;

	for (size_t i = 0; i < f->n_fails; i++) {
		if (f->fails[i].dst == dst.s_addr && f->fails[i].len == len) {
			f->fails[i] = f->fails[--f->n_fails];
			break;
		}
	}
	if (!err)
		return 0;
	p = reallocarray(f->fails, f->n_fails + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->fails = p;
	f->fails[f->n_fails++] = (struct fake_fail){ dst.s_addr, len, err };
	return 0;
}

void fib_fake_overrun_next(struct fib_backend *b)
{
	fake_of(b)->overrun = true;
}

int fib_fake_insert(struct fib_backend *b, const struct fib_route *r)
{
	struct fib_fake *f = fake_of(b);
	struct fib_route *p = reallocarray(f->routes, f->n_routes + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->routes = p;
	f->routes[f->n_routes++] = *r;
	return 0;
}

size_t fib_fake_count(const struct fib_backend *b)
{
	return ((const struct fib_fake *)b)->n_routes;
}
