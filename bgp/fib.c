/*
 * Kernel routes for the Loc-RIB: the FIB (a RIB listener turning best-set
 * changes into route requests, reconcile/resync by dump and diff, held
 * leftovers for graceful restart) and the backend entry points shared by
 * fib-netlink.c and fib-fake.c.
 */
#include "bgp/fib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"

#define FIB_LOG_ERRORS 10		/* failures logged one by one per batch */
#define DUMP_TRIES 3			/* a dump interrupted by changes is retried */

const char *fib_op_name(enum fib_op op)
{
	static const char *const names[] = { "add", "replace", "del" };

	return (size_t)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

/* ------------------------------------------------------------- backend API */

void fib_backend_close(struct fib_backend *b)
{
	if (b)
		b->ops->close(b);
}

void fib_backend_set_result(struct fib_backend *b, fib_result_fn fn, void *arg)
{
	b->result = fn;
	b->result_arg = arg;
}

int fib_backend_queue(struct fib_backend *b, enum fib_op op, const struct fib_route *r)
{
	if ((unsigned)op > FIB_OP_DEL || r->len > 32 || r->n_nh > FIB_MAX_NH ||
	    (op != FIB_OP_DEL && r->n_nh == 0))
		return -EINVAL;
	return b->ops->queue(b, op, r);
}

int fib_backend_commit(struct fib_backend *b)
{
	return b->ops->commit(b);
}

int fib_backend_dump(struct fib_backend *b, uint32_t table, fib_dump_fn fn, void *arg)
{
	return b->ops->dump(b, table, fn, arg);
}

void fib_backend_report(struct fib_backend *b, enum fib_op op, uint32_t dst, uint8_t len,
			int err, const char *msg)
{
	if (b->result)
		b->result(op, (struct in_addr){ dst }, len, err, msg, b->result_arg);
}

void fib_route_sort_nh(struct fib_route *r)
{
	for (size_t i = 1; i < r->n_nh; i++) {
		struct fib_nh t = r->nh[i];
		size_t j = i;

		for (; j > 0 && (r->nh[j - 1].ifindex > t.ifindex ||
				 (r->nh[j - 1].ifindex == t.ifindex &&
				  ntohl(r->nh[j - 1].gw.s_addr) > ntohl(t.gw.s_addr))); j--)
			r->nh[j] = r->nh[j - 1];
		r->nh[j] = t;
	}
}

/* ------------------------------------------------------------- FIB */

/* Kernel routes from a dump, compactly: next hops in a shared array. */
struct kroute {
	uint32_t dst, metric, nh_off;
	uint8_t len, n_nh;
	bool seen, truncated;
};

struct kset {
	struct kroute *v;
	size_t n, cap;
	struct fib_nh *nh;
	size_t n_nh, cap_nh;
};

struct fib {
	struct rib *rib;
	struct fib_backend *be;
	struct fib_conf conf;
	bool resync;			/* the kernel's state is in doubt */
	bool holding;			/* leftovers held (graceful restart) */
	struct kset left;		/* seen = adopted */
	size_t batch_errors;
	struct fib_stats st;
};

static int kset_add(const struct fib_route *r, void *arg)
{
	struct kset *k = arg;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 1024;
		struct kroute *v = reallocarray(k->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	if (k->n_nh + r->n_nh > k->cap_nh) {
		size_t cap = (k->cap_nh + r->n_nh) * 2;
		struct fib_nh *nh = reallocarray(k->nh, cap, sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		k->nh = nh;
		k->cap_nh = cap;
	}
	memcpy(&k->nh[k->n_nh], r->nh, r->n_nh * sizeof(*r->nh));
	k->v[k->n++] = (struct kroute){ r->dst.s_addr, r->metric, (uint32_t)k->n_nh, r->len,
					r->n_nh, false, r->truncated };
	k->n_nh += r->n_nh;
	return 0;
}

static void kset_free(struct kset *k)
{
	free(k->v);
	free(k->nh);
	memset(k, 0, sizeof(*k));
}

static int kroute_cmp(const void *a, const void *b)
{
	const struct kroute *x = a, *y = b;
	uint32_t xd = ntohl(x->dst), yd = ntohl(y->dst);

	if (xd != yd)
		return xd < yd ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->metric < y->metric ? -1 : x->metric > y->metric;
}

static struct kroute *kset_find(const struct kset *k, const struct fib_route *r)
{
	struct kroute key = { .dst = r->dst.s_addr, .metric = r->metric, .len = r->len };

	return k->n ? bsearch(&key, k->v, k->n, sizeof(*k->v), kroute_cmp) : NULL;
}

static bool kset_same(const struct kset *k, const struct kroute *kr, const struct fib_route *r)
{
	if (kr->truncated || kr->n_nh != r->n_nh)
		return false;
	for (size_t i = 0; i < r->n_nh; i++) {
		const struct fib_nh *a = &k->nh[kr->nh_off + i];

		if (a->gw.s_addr != r->nh[i].gw.s_addr || a->ifindex != r->nh[i].ifindex)
			return false;
	}
	return true;
}

static void route_init(const struct fib *f, const struct cgw_prefix *p, struct fib_route *r)
{
	memset(r, 0, sizeof(*r));
	r->dst = p->addr.v4;
	r->len = p->len;
	r->protocol = FIB_RTPROT_BGP;
	r->table = f->conf.table;
	r->metric = f->conf.metric;
}

static void route_add_nh(struct fib_route *r, const struct rib_peer_conf *pc)
{
	if (r->n_nh < FIB_MAX_NH)
		r->nh[r->n_nh++] = (struct fib_nh){ pc->addr, pc->ifindex };
}

static void route_from_sel(const struct fib *f, const struct cgw_prefix *p,
			   const struct rib_sel *sel, size_t n, struct fib_route *r)
{
	route_init(f, p, r);
	for (size_t i = 0; i < n; i++)
		route_add_nh(r, rib_peer_conf(sel[i].peer));
	fib_route_sort_nh(r);
}

static bool route_same_nh(const struct fib_route *a, const struct fib_route *b)
{
	if (a->n_nh != b->n_nh)
		return false;
	for (size_t i = 0; i < a->n_nh; i++)
		if (a->nh[i].gw.s_addr != b->nh[i].gw.s_addr || a->nh[i].ifindex != b->nh[i].ifindex)
			return false;
	return true;
}

static void note_enobufs(struct fib *f)
{
	f->st.enobufs++;
	if (!f->resync)			/* once until the resync */
		log_warnx("bgp fib: route failure replies lost (ENOBUFS): will resync "
			  "with the kernel");
	f->resync = true;
}

static void fib_queue(struct fib *f, enum fib_op op, const struct fib_route *r)
{
	int err = fib_backend_queue(f->be, op, r);

	f->st.adds += op == FIB_OP_ADD;
	f->st.replaces += op == FIB_OP_REPLACE;
	f->st.dels += op == FIB_OP_DEL;
	if (err == -ENOBUFS)
		note_enobufs(f);
	else if (err < 0)
		f->resync = true;
}

static void fib_commit(struct fib *f)
{
	int err = fib_backend_commit(f->be);

	if (err == -ENOBUFS)
		note_enobufs(f);
	else if (err < 0)
		f->resync = true;
	if (f->batch_errors > FIB_LOG_ERRORS)
		log_warnx("bgp fib: %zu more route requests failed", f->batch_errors - FIB_LOG_ERRORS);
	f->batch_errors = 0;
}

static void fib_del(struct fib *f, const struct cgw_prefix *p, uint32_t metric)
{
	struct fib_route r;

	route_init(f, p, &r);
	r.metric = metric;
	fib_queue(f, FIB_OP_DEL, &r);
}

static const char *err_hint(enum fib_op op, int err)
{
	if (op == FIB_OP_ADD && err == -EEXIST)
		return " (a route of another owner has this prefix and metric)";
	if (err == -ENETUNREACH)
		return " (gateway not on the interface's subnet)";
	if (err == -ENODEV)
		return " (interface gone)";
	return "";
}

/* The backend's failure report for one request. */
static void on_result(enum fib_op op, struct in_addr dst, uint8_t len, int err, const char *msg,
		      void *arg)
{
	struct fib *f = arg;
	struct cgw_prefix p = { .addr = { .family = AF_INET, .v4 = dst }, .len = len };
	char a[INET_ADDRSTRLEN];

	if (op == FIB_OP_DEL && err == -ESRCH)
		return;			/* already gone (its interface went away) */
	f->st.errors++;
	if (f->batch_errors++ < FIB_LOG_ERRORS) {
		inet_ntop(AF_INET, &dst, a, sizeof(a));
		log_warnx("bgp fib: %s %s/%u: %s%s%s%s", fib_op_name(op), a, len, strerror(-err),
			  err_hint(op, err), msg ? ": " : "", msg ? msg : "");
	}
	if (op != FIB_OP_DEL)
		(void)rib_set_installed(f->rib, &p, false);
	if (op != FIB_OP_ADD)
		f->resync = true;	/* a failed replace or delete: state unknown */
}

/* A held leftover for r's prefix and metric: adopt it. Returns true when
 * it is equal to r (no request needed); *op becomes REPLACE otherwise. */
static bool adopt_leftover(struct fib *f, const struct fib_route *r, enum fib_op *op)
{
	struct kroute *kr = f->holding ? kset_find(&f->left, r) : NULL;

	if (!kr || kr->seen)
		return false;
	kr->seen = true;
	f->st.leftovers--;
	if (kset_same(&f->left, kr, r)) {
		f->st.adopted++;
		return true;
	}
	*op = FIB_OP_REPLACE;
	return false;
}

static void on_change(const struct rib_change *c, void *arg)
{
	struct fib *f = arg;
	struct fib_route want, had;
	enum fib_op op = FIB_OP_ADD;

	if (c->n_new == 0) {
		if (rib_entry_installed(c->entry))
			fib_del(f, &c->prefix, f->conf.metric);
		rib_entry_set_installed(c->entry, false);
		return;
	}
	route_from_sel(f, &c->prefix, c->new_best, c->n_new, &want);
	if (rib_entry_installed(c->entry)) {
		route_from_sel(f, &c->prefix, c->old_best, c->n_old, &had);
		if (c->forced || !route_same_nh(&had, &want))
			fib_queue(f, FIB_OP_REPLACE, &want);
		return;
	}
	rib_entry_set_installed(c->entry, true);	/* a failure clears it */
	if (!adopt_leftover(f, &want, &op))
		fib_queue(f, op, &want);
}

static int collect(struct fib *f, struct kset *k)
{
	int err = -EAGAIN;

	fib_commit(f);
	for (int i = 0; i < DUMP_TRIES && err == -EAGAIN; i++) {
		k->n = 0;
		k->n_nh = 0;
		err = fib_backend_dump(f->be, f->conf.table, kset_add, k);
	}
	if (err < 0) {
		log_warnx("bgp fib: dumping table %u: %s", f->conf.table, strerror(-err));
		return err;
	}
	if (k->n)
		qsort(k->v, k->n, sizeof(*k->v), kroute_cmp);
	return 0;
}

struct resync_ctx {
	struct fib *f;
	struct kset *k;
};

static int resync_route(const struct rib_route *r, void *arg)
{
	struct resync_ctx *x = arg;
	struct fib *f = x->f;
	struct fib_route want;
	struct kroute *kr;
	enum fib_op op = FIB_OP_ADD;

	if (!r->n_best) {
		rib_entry_set_installed(r->entry, false);
		return 0;
	}
	route_init(f, &r->prefix, &want);
	for (size_t i = 0; i < r->n_best; i++)
		route_add_nh(&want, r->paths[i].peer_conf);
	fib_route_sort_nh(&want);
	kr = kset_find(x->k, &want);
	if (kr)
		kr->seen = true;
	rib_entry_set_installed(r->entry, true);	/* a failure clears it */
	if (adopt_leftover(f, &want, &op))
		return 0;
	if (kr && kset_same(x->k, kr, &want)) {
		f->st.adopted += !r->installed;		/* e.g. at start-up */
		return 0;
	}
	fib_queue(f, kr ? FIB_OP_REPLACE : op, &want);
	return 0;
}

/* Dump and diff; the RIB's notified best sets are the truth. */
static int resync(struct fib *f)
{
	struct kset k = { 0 };
	struct resync_ctx x = { f, &k };
	int err;

	err = collect(f, &k);
	if (err) {
		f->resync = true;
		goto out;
	}
	f->resync = false;		/* the dump is the truth from here */
	f->st.resyncs++;
	(void)rib_walk(f->rib, resync_route, &x);
	for (size_t i = 0; i < k.n; i++) {
		struct kroute *kr = &k.v[i];
		struct cgw_prefix p = { .addr = { .family = AF_INET }, .len = kr->len };
		struct kroute *held;

		if (kr->seen)
			continue;
		p.addr.v4.s_addr = kr->dst;
		held = f->holding ? bsearch(kr, f->left.v, f->left.n, sizeof(*kr), kroute_cmp) : NULL;
		if (!held || held->seen)
			fib_del(f, &p, kr->metric);
	}
	fib_commit(f);
	err = f->resync ? -EAGAIN : 0;
out:
	kset_free(&k);
	return err;
}

static void on_batch_done(void *arg)
{
	struct fib *f = arg;

	fib_commit(f);
	if (f->resync)
		(void)resync(f);	/* once; after that the caller's timer */
}

int fib_reconcile(struct fib *f)
{
	return resync(f);
}

bool fib_resync_needed(const struct fib *f)
{
	return f->resync;
}

int fib_hold_leftovers(struct fib *f)
{
	int err;

	kset_free(&f->left);
	f->holding = false;
	err = collect(f, &f->left);
	if (err)
		return err;
	f->holding = true;
	f->st.leftovers = f->left.n;
	log_info("bgp fib: holding %zu routes of a previous run", f->left.n);
	return (int)f->left.n;
}

int fib_sweep_leftovers(struct fib *f)
{
	int n = 0;

	for (size_t i = 0; f->holding && i < f->left.n; i++) {
		struct kroute *kr = &f->left.v[i];
		struct cgw_prefix p = { .addr = { .family = AF_INET }, .len = kr->len };

		if (kr->seen)
			continue;
		p.addr.v4.s_addr = kr->dst;
		fib_del(f, &p, kr->metric);
		n++;
	}
	fib_commit(f);
	kset_free(&f->left);
	f->holding = false;
	f->st.leftovers = 0;
	return n;
}

static int clear_installed(const struct rib_route *r, void *arg)
{
	rib_entry_set_installed(r->entry, false);
	return 0;
}

int fib_remove_all(struct fib *f)
{
	struct kset k = { 0 };
	int err = collect(f, &k);

	if (err)
		return err;
	for (size_t i = 0; i < k.n; i++) {
		struct cgw_prefix p = { .addr = { .family = AF_INET }, .len = k.v[i].len };

		p.addr.v4.s_addr = k.v[i].dst;
		fib_del(f, &p, k.v[i].metric);
	}
	fib_commit(f);
	(void)rib_walk(f->rib, clear_installed, NULL);
	kset_free(&f->left);
	f->holding = false;
	f->st.leftovers = 0;
	err = (int)k.n;
	kset_free(&k);
	return err;
}

int fib_new(struct rib *rib, const struct fib_conf *conf, struct fib_backend *be,
	    struct fib **out)
{
	struct fib *f = calloc(1, sizeof(*f));
	int err;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->rib = rib;
	f->be = be;
	if (conf)
		f->conf = *conf;
	if (!f->conf.table)
		f->conf.table = FIB_DEFAULT_TABLE;
	if (!f->conf.metric)
		f->conf.metric = FIB_DEFAULT_METRIC;
	err = rib_listen(rib, &(struct rib_listener){ on_change, on_batch_done, f });
	if (err) {
		free(f);
		return err;
	}
	fib_backend_set_result(be, on_result, f);
	*out = f;
	return 0;
}

void fib_free(struct fib *f)
{
	if (!f)
		return;
	rib_unlisten(f->rib, f);
	fib_backend_close(f->be);
	kset_free(&f->left);
	free(f);
}

void fib_get_stats(const struct fib *f, struct fib_stats *out)
{
	*out = f->st;
}

struct fib_backend *fib_backend(struct fib *f)
{
	return f->be;
}
