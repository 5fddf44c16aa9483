/*
 * The RIB's tables: prefix entries in a hash table, paths on per-entry
 * and per-peer lists, interned attributes, the change list and its flush,
 * status queries. Best-path selection itself is in rib-select.c; the data
 * structure is described in rib.h.
 */
#include "bgp/rib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"

#define POOL_BLOCK 1024			/* objects per pool block */
#define TAB_MIN 1024			/* initial buckets (power of two) */
#define ATAB_MIN 64

enum {
	P_NOTIFIED = 1 << 0,		/* in the best set last notified */
	P_ZOMBIE = 1 << 1,		/* withdrawn, kept until the flush */
	P_STALE = 1 << 2,		/* graceful restart: not refreshed yet */
	P_INELIGIBLE = 1 << 3,		/* AS_PATH loop: never selected */
	P_NEWBEST = 1 << 4,		/* scratch during a flush */
};

enum {
	E_CHANGED = 1 << 0,		/* on the change list */
	E_FORCED = 1 << 1,		/* notify even if the best set is equal */
	E_INSTALLED = 1 << 2,		/* the FIB's mark */
};

struct rib_aent {			/* one interned attribute set */
	struct rib_aent *next;
	struct bgp_attrs *a;		/* one reference held */
	size_t uses;			/* paths using it */
};

struct rib_path {
	struct rib_path *next;		/* entry's list, best set first */
	struct rib_path *pnext, **pprev;	/* peer's list (not zombies) */
	struct rib_entry *entry;
	struct rib_peer *peer;
	struct rib_aent *attrs;
	uint32_t flags;
};

struct rib_entry {
	struct rib_entry *hnext;	/* hash chain */
	struct rib_path *paths;
	struct rib_entry *cnext;	/* change list */
	uint32_t addr;			/* network byte order */
	uint8_t len, flags, reason, n_best;
};

struct rib_peer {
	struct rib_peer_conf conf;
	struct rib_path *paths;		/* live paths */
	struct rib_peer_counts cnt;
	size_t zombies;			/* withdrawn paths awaiting the flush */
	bool deleted;			/* freed once zombies == 0 */
	struct rib_peer *next;
};

struct pool {
	size_t size, n_blocks, in_use;
	void *free;
	void **blocks;
};

/* Per-flush and per-query scratch, sized for 2 paths per peer. */
struct scratch {
	size_t cap;
	struct rib_cand *cand;
	struct rib_sel *old, *new_;
	struct rib_path_info *info;
};

struct rib {
	struct rib_conf conf;
	struct rib_entry **tab;
	size_t tab_size, n_entries;
	struct rib_aent **atab;
	size_t atab_size, n_aents;
	struct pool entries, paths, aents;
	struct rib_entry *chg_head, **chg_tail;
	size_t n_pending;
	struct rib_peer *peers;
	size_t n_peers, n_live_peers;
	struct rib_listener listeners[RIB_MAX_LISTENERS];
	size_t n_listeners;
	struct scratch s;
};

/* ------------------------------------------------------------- pools */

static int pool_grow(struct pool *p)
{
	void **nb = reallocarray(p->blocks, p->n_blocks + 1, sizeof(*nb));
	char *b;

	if (!nb)
		return -ENOMEM;
	p->blocks = nb;
	b = malloc(p->size * POOL_BLOCK);
	if (!b)
		return -ENOMEM;
	p->blocks[p->n_blocks++] = b;
	for (size_t i = POOL_BLOCK; i-- > 0;) {
		void *o = b + i * p->size;

		*(void **)o = p->free;
		p->free = o;
	}
	return 0;
}

static void *pool_get(struct pool *p)
{
	void *o;

	if (!p->free && pool_grow(p) < 0)
		return NULL;
	o = p->free;
	p->free = *(void **)o;
	p->in_use++;
	memset(o, 0, p->size);
	return o;
}

static void pool_put(struct pool *p, void *o)
{
	*(void **)o = p->free;
	p->free = o;
	p->in_use--;
}

static void pool_destroy(struct pool *p)
{
	for (size_t i = 0; i < p->n_blocks; i++)
		free(p->blocks[i]);
	free(p->blocks);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------- entries */

static uint32_t prefix_hash(uint32_t addr, uint8_t len)
{
	uint32_t h = addr ^ (len * 0x9e3779b9u);

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The table key of an IPv4 prefix; its host bits must be zero. */
static int prefix_key(const struct cgw_prefix *p, uint32_t *addr)
{
	uint32_t a, mask;

	if (p->addr.family != AF_INET)
		return p->addr.family == AF_INET6 ? -EAFNOSUPPORT : -EINVAL;
	if (p->len > 32)
		return -EINVAL;
	a = ntohl(p->addr.v4.s_addr);
	mask = p->len ? ~0u << (32 - p->len) : 0;
	if (a & ~mask)
		return -EINVAL;
	*addr = p->addr.v4.s_addr;
	return 0;
}

static void entry_prefix(const struct rib_entry *e, struct cgw_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->addr.family = AF_INET;
	out->addr.v4.s_addr = e->addr;
	out->len = e->len;
}

static struct rib_entry *entry_find(const struct rib *rib, uint32_t addr, uint8_t len)
{
	struct rib_entry *e = rib->tab[prefix_hash(addr, len) & (rib->tab_size - 1)];

	while (e && (e->addr != addr || e->len != len))
		e = e->hnext;
	return e;
}

static int tab_grow(struct rib *rib)
{
	size_t size = rib->tab_size * 2;
	struct rib_entry **t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < rib->tab_size; i++) {
		struct rib_entry *e, *next;

		for (e = rib->tab[i]; e; e = next) {
			size_t b = prefix_hash(e->addr, e->len) & (size - 1);

			next = e->hnext;
			e->hnext = t[b];
			t[b] = e;
		}
	}
	free(rib->tab);
	rib->tab = t;
	rib->tab_size = size;
	return 0;
}

static struct rib_entry *entry_create(struct rib *rib, uint32_t addr, uint8_t len)
{
	struct rib_entry *e;
	size_t b;

	if (rib->n_entries >= rib->tab_size)
		(void)tab_grow(rib);	/* on failure the chains just get longer */
	e = pool_get(&rib->entries);
	if (!e)
		return NULL;
	e->addr = addr;
	e->len = len;
	b = prefix_hash(addr, len) & (rib->tab_size - 1);
	e->hnext = rib->tab[b];
	rib->tab[b] = e;
	rib->n_entries++;
	return e;
}

static void entry_remove(struct rib *rib, struct rib_entry *e)
{
	struct rib_entry **pp = &rib->tab[prefix_hash(e->addr, e->len) & (rib->tab_size - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	rib->n_entries--;
	pool_put(&rib->entries, e);
}

/* Queue e for the next flush (once); forced: notify even if unchanged. */
static void enqueue(struct rib *rib, struct rib_entry *e, bool forced)
{
	if (forced)
		e->flags |= E_FORCED;
	if (e->flags & E_CHANGED)
		return;
	e->flags |= E_CHANGED;
	e->cnext = NULL;
	*rib->chg_tail = e;
	rib->chg_tail = &e->cnext;
	rib->n_pending++;
}

/* ------------------------------------------------------------- interning */

static int atab_grow(struct rib *rib)
{
	size_t size = rib->atab_size * 2;
	struct rib_aent **t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < rib->atab_size; i++) {
		struct rib_aent *ae, *next;

		for (ae = rib->atab[i]; ae; ae = next) {
			next = ae->next;
			ae->next = t[ae->a->hash & (size - 1)];
			t[ae->a->hash & (size - 1)] = ae;
		}
	}
	free(rib->atab);
	rib->atab = t;
	rib->atab_size = size;
	return 0;
}

/* The interned set equal to a (one more use), or NULL on -ENOMEM. */
static struct rib_aent *intern_get(struct rib *rib, struct bgp_attrs *a)
{
	struct rib_aent *ae = rib->atab[a->hash & (rib->atab_size - 1)];

	for (; ae; ae = ae->next) {
		if (ae->a == a || (ae->a->hash == a->hash && bgp_attrs_equal(ae->a, a))) {
			ae->uses++;
			return ae;
		}
	}
	if (rib->n_aents >= rib->atab_size)
		(void)atab_grow(rib);
	ae = pool_get(&rib->aents);
	if (!ae)
		return NULL;
	ae->a = bgp_attrs_ref(a);
	ae->uses = 1;
	ae->next = rib->atab[a->hash & (rib->atab_size - 1)];
	rib->atab[a->hash & (rib->atab_size - 1)] = ae;
	rib->n_aents++;
	return ae;
}

static void intern_put(struct rib *rib, struct rib_aent *ae)
{
	struct rib_aent **pp;

	if (--ae->uses)
		return;
	pp = &rib->atab[ae->a->hash & (rib->atab_size - 1)];
	while (*pp != ae)
		pp = &(*pp)->next;
	*pp = ae->next;
	bgp_attrs_unref(ae->a);
	rib->n_aents--;
	pool_put(&rib->aents, ae);
}

/* ------------------------------------------------------------- RIB */

static int scratch_reserve(struct scratch *s, size_t cap)
{
	void *c, *o, *n, *i;

	if (cap <= s->cap)
		return 0;
	c = reallocarray(s->cand, cap, sizeof(*s->cand));
	if (c)
		s->cand = c;
	o = reallocarray(s->old, cap, sizeof(*s->old));
	if (o)
		s->old = o;
	n = reallocarray(s->new_, cap, sizeof(*s->new_));
	if (n)
		s->new_ = n;
	i = reallocarray(s->info, cap, sizeof(*s->info));
	if (i)
		s->info = i;
	if (!c || !o || !n || !i)
		return -ENOMEM;
	s->cap = cap;
	return 0;
}

int rib_new(const struct rib_conf *conf, struct rib **out)
{
	struct rib *rib = calloc(1, sizeof(*rib));

	*out = NULL;
	if (!rib)
		return -ENOMEM;
	if (conf)
		rib->conf = *conf;
	if (!rib->conf.max_paths || rib->conf.max_paths > RIB_MAX_ECMP)
		rib->conf.max_paths = RIB_MAX_ECMP;
	rib->entries.size = sizeof(struct rib_entry);
	rib->paths.size = sizeof(struct rib_path);
	rib->aents.size = sizeof(struct rib_aent);
	rib->tab_size = TAB_MIN;
	rib->atab_size = ATAB_MIN;
	rib->tab = calloc(rib->tab_size, sizeof(*rib->tab));
	rib->atab = calloc(rib->atab_size, sizeof(*rib->atab));
	rib->chg_tail = &rib->chg_head;
	if (!rib->tab || !rib->atab || scratch_reserve(&rib->s, 8) < 0) {
		rib_free(rib);
		return -ENOMEM;
	}
	*out = rib;
	return 0;
}

void rib_free(struct rib *rib)
{
	struct rib_peer *p, *next;

	if (!rib)
		return;
	for (size_t i = 0; i < rib->atab_size && rib->atab; i++)
		for (struct rib_aent *ae = rib->atab[i]; ae; ae = ae->next)
			bgp_attrs_unref(ae->a);
	for (p = rib->peers; p; p = next) {
		next = p->next;
		free(p);
	}
	pool_destroy(&rib->entries);
	pool_destroy(&rib->paths);
	pool_destroy(&rib->aents);
	free(rib->tab);
	free(rib->atab);
	free(rib->s.cand);
	free(rib->s.old);
	free(rib->s.new_);
	free(rib->s.info);
	free(rib);
}

int rib_listen(struct rib *rib, const struct rib_listener *l)
{
	if (rib->n_listeners >= RIB_MAX_LISTENERS)
		return -ENOSPC;
	if (!l->change)
		return -EINVAL;
	rib->listeners[rib->n_listeners++] = *l;
	return 0;
}

void rib_unlisten(struct rib *rib, void *arg)
{
	size_t k = 0;

	for (size_t i = 0; i < rib->n_listeners; i++)
		if (rib->listeners[i].arg != arg)
			rib->listeners[k++] = rib->listeners[i];
	rib->n_listeners = k;
}

void rib_set_ecmp(struct rib *rib, bool ecmp, unsigned max_paths)
{
	rib->conf.ecmp = ecmp;
	rib->conf.max_paths = max_paths && max_paths <= RIB_MAX_ECMP ? max_paths : RIB_MAX_ECMP;
	for (size_t i = 0; i < rib->tab_size; i++)
		for (struct rib_entry *e = rib->tab[i]; e; e = e->hnext)
			enqueue(rib, e, false);
}

/* ------------------------------------------------------------- peers */

static const char *peer_str(const struct rib_peer *p, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &p->conf.addr, a, sizeof(a));
	snprintf(buf, len, "%s%s%s AS%u", p->conf.name, p->conf.name[0] ? " " : "", a,
		 p->conf.peer_as);
	return buf;
}

static struct rib_peer *peer_by_addr(const struct rib *rib, struct in_addr addr)
{
	for (struct rib_peer *p = rib->peers; p; p = p->next)
		if (!p->deleted && p->conf.addr.s_addr == addr.s_addr)
			return p;
	return NULL;
}

int rib_peer_add(struct rib *rib, const struct rib_peer_conf *conf, struct rib_peer **out)
{
	struct rib_peer *p;
	int err;

	*out = NULL;
	if (peer_by_addr(rib, conf->addr))
		return -EEXIST;
	err = scratch_reserve(&rib->s, 2 * (rib->n_peers + 1));
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	p->conf.name[RIB_PEER_NAME_MAX - 1] = '\0';
	p->next = rib->peers;
	rib->peers = p;
	rib->n_peers++;
	rib->n_live_peers++;
	*out = p;
	return 0;
}

static void peer_maybe_free(struct rib *rib, struct rib_peer *p)
{
	struct rib_peer **pp = &rib->peers;

	if (!p->deleted || p->zombies || p->paths)
		return;
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	rib->n_peers--;
	free(p);
}

int rib_peer_update(struct rib *rib, struct rib_peer *p, const struct rib_peer_conf *conf)
{
	struct rib_peer *other = peer_by_addr(rib, conf->addr);
	bool nh, reselect;

	if (conf->peer_as != p->conf.peer_as || conf->local_as != p->conf.local_as)
		return -EINVAL;
	if (other && other != p)
		return -EEXIST;
	nh = conf->addr.s_addr != p->conf.addr.s_addr || conf->ifindex != p->conf.ifindex;
	reselect = nh || conf->router_id.s_addr != p->conf.router_id.s_addr ||
		   conf->always_compare_med != p->conf.always_compare_med;
	p->conf = *conf;
	p->conf.name[RIB_PEER_NAME_MAX - 1] = '\0';
	if (!reselect)
		return 0;
	for (struct rib_path *q = p->paths; q; q = q->pnext)
		enqueue(rib, q->entry, nh && (q->flags & P_NOTIFIED));
	return 0;
}

void rib_peer_del(struct rib *rib, struct rib_peer *p)
{
	if (!p || p->deleted)
		return;
	rib_flush_peer(rib, p);
	p->deleted = true;
	rib->n_live_peers--;
	peer_maybe_free(rib, p);
}

const struct rib_peer_conf *rib_peer_conf(const struct rib_peer *p)
{
	return &p->conf;
}

void rib_peer_counts(const struct rib_peer *p, struct rib_peer_counts *out)
{
	*out = p->cnt;
}

/* ------------------------------------------------------------- paths */

static struct rib_path *path_find(const struct rib_entry *e, const struct rib_peer *p)
{
	struct rib_path *q = e->paths;

	while (q && (q->peer != p || (q->flags & P_ZOMBIE)))
		q = q->next;
	return q;
}

/* Give q the attribute set ae (whose use q takes over); counts follow. */
static void path_set_attrs(struct rib_path *q, struct rib_aent *ae)
{
	struct rib_peer *p = q->peer;

	if (!(q->flags & P_INELIGIBLE))
		p->cnt.accepted--;
	q->attrs = ae;
	q->flags &= ~(uint32_t)P_INELIGIBLE;
	if (bgp_as_path_contains(ae->a, p->conf.local_as))
		q->flags |= P_INELIGIBLE;
	else
		p->cnt.accepted++;
}

/* Link the new path q for peer p at the tail of e's list. */
static void path_link(struct rib_path *q, struct rib_entry *e, struct rib_peer *p,
		      struct rib_aent *ae)
{
	struct rib_path **tail = &e->paths;

	while (*tail)
		tail = &(*tail)->next;
	*tail = q;
	q->entry = e;
	q->peer = p;
	q->pnext = p->paths;
	q->pprev = &p->paths;
	if (p->paths)
		p->paths->pprev = &q->pnext;
	p->paths = q;
	p->cnt.received++;
	p->cnt.accepted++;		/* path_set_attrs() corrects it */
	path_set_attrs(q, ae);
}

static void path_free(struct rib *rib, struct rib_path *q)
{
	intern_put(rib, q->attrs);
	pool_put(&rib->paths, q);
}

static void path_unstale(struct rib_path *q)
{
	if (!(q->flags & P_STALE))
		return;
	q->flags &= ~(uint32_t)P_STALE;
	q->peer->cnt.stale--;
}

/*
 * Withdraw q: off its peer's list and counts; a path in the notified
 * best set becomes a zombie until the flush, any other is freed now.
 */
static void path_drop(struct rib *rib, struct rib_path *q)
{
	struct rib_peer *p = q->peer;
	struct rib_entry *e = q->entry;
	struct rib_path **pp = &e->paths;

	path_unstale(q);
	p->cnt.received--;
	if (!(q->flags & P_INELIGIBLE))
		p->cnt.accepted--;
	*q->pprev = q->pnext;
	if (q->pnext)
		q->pnext->pprev = q->pprev;
	q->pnext = NULL;
	q->pprev = NULL;
	enqueue(rib, e, false);
	if (q->flags & P_NOTIFIED) {
		p->cnt.best--;
		q->flags |= P_ZOMBIE;
		p->zombies++;
		return;
	}
	while (*pp != q)
		pp = &(*pp)->next;
	*pp = q->next;
	path_free(rib, q);
}

static int max_prefix_hit(const struct rib_peer *p, const struct cgw_prefix *prefix)
{
	char who[96], a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &prefix->addr.v4, a, sizeof(a));
	log_warnx("bgp: peer %s: %zu prefixes reach max-prefix %u, refusing %s/%u",
		  peer_str(p, who, sizeof(who)), p->cnt.received, p->conf.max_prefix, a,
		  prefix->len);
	return -ERANGE;
}

/* New attributes for an existing path (its use of ae taken over). */
static int path_replace(struct rib *rib, struct rib_path *q, struct rib_aent *ae)
{
	struct rib_entry *e = q->entry;
	struct rib_peer *p = q->peer;
	struct rib_path *n;

	path_unstale(q);
	if (q->attrs == ae) {
		intern_put(rib, ae);	/* a refresh: nothing changed */
		return 0;
	}
	if (!(q->flags & P_NOTIFIED)) {
		struct rib_aent *old = q->attrs;

		path_set_attrs(q, ae);
		intern_put(rib, old);
		enqueue(rib, q->entry, false);
		return 0;
	}
	/* The notified path stays, as a zombie, for the old best set. */
	n = pool_get(&rib->paths);
	if (!n) {
		intern_put(rib, ae);
		return -ENOMEM;
	}
	path_drop(rib, q);
	path_link(n, e, p, ae);
	return 0;
}

int rib_update(struct rib *rib, struct rib_peer *p, const struct cgw_prefix *prefix,
	       struct bgp_attrs *attrs)
{
	struct rib_entry *e;
	struct rib_path *q;
	struct rib_aent *ae;
	uint32_t addr;
	int err = prefix_key(prefix, &addr);

	if (err)
		return err;
	e = entry_find(rib, addr, prefix->len);
	q = e ? path_find(e, p) : NULL;
	if (!q && p->conf.max_prefix && p->cnt.received >= p->conf.max_prefix)
		return max_prefix_hit(p, prefix);
	ae = intern_get(rib, attrs);
	if (!ae)
		return -ENOMEM;
	if (q)
		return path_replace(rib, q, ae);
	q = pool_get(&rib->paths);
	if (q && !e)
		e = entry_create(rib, addr, prefix->len);
	if (!q || !e) {
		if (q)
			pool_put(&rib->paths, q);
		intern_put(rib, ae);
		return -ENOMEM;
	}
	path_link(q, e, p, ae);
	enqueue(rib, e, false);
	return 0;
}

int rib_withdraw(struct rib *rib, struct rib_peer *p, const struct cgw_prefix *prefix)
{
	struct rib_entry *e;
	struct rib_path *q;
	uint32_t addr;
	int err = prefix_key(prefix, &addr);

	if (err)
		return err;
	e = entry_find(rib, addr, prefix->len);
	q = e ? path_find(e, p) : NULL;
	if (!q)
		return -ENOENT;
	path_drop(rib, q);
	return 0;
}

size_t rib_flush_peer(struct rib *rib, struct rib_peer *p)
{
	size_t n = 0;

	for (; p->paths; n++)
		path_drop(rib, p->paths);
	return n;
}

size_t rib_mark_stale(struct rib *rib, struct rib_peer *p)
{
	for (struct rib_path *q = p->paths; q; q = q->pnext)
		q->flags |= P_STALE;
	p->cnt.stale = p->cnt.received;
	return p->cnt.stale;
}

size_t rib_sweep_stale(struct rib *rib, struct rib_peer *p)
{
	struct rib_path *q, *next;
	size_t n = 0;

	for (q = p->paths; q; q = next) {
		next = q->pnext;
		if (q->flags & P_STALE) {
			path_drop(rib, q);
			n++;
		}
	}
	return n;
}

/* ------------------------------------------------------------- flush */

static bool sel_equal(const struct rib_sel *a, size_t na, const struct rib_sel *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].peer != b[i].peer || a[i].attrs != b[i].attrs)
			return false;
	return true;
}

static void notify(struct rib *rib, struct rib_entry *e, size_t n_old, size_t n_new,
		   bool forced)
{
	struct rib_change c = {
		.entry = e,
		.old_best = rib->s.old,
		.n_old = n_old,
		.new_best = rib->s.new_,
		.n_new = n_new,
		.forced = forced,
	};

	entry_prefix(e, &c.prefix);
	for (size_t i = 0; i < rib->n_listeners; i++)
		rib->listeners[i].change(&c, rib->listeners[i].arg);
}

/*
 * After the notification: the new best set (rib->s.cand[0..n_new)) gets
 * the notified mark and moves to the head of the list; zombies go.
 */
static void entry_apply(struct rib *rib, struct rib_entry *e, size_t n_new)
{
	struct rib_path *q, *next, *rest = NULL, **tail = &rest;

	for (q = e->paths; q; q = q->next) {
		if ((q->flags & (P_NOTIFIED | P_ZOMBIE)) == P_NOTIFIED)
			q->peer->cnt.best--;
		q->flags &= ~(uint32_t)P_NOTIFIED;
	}
	for (size_t i = 0; i < n_new; i++) {
		q = rib->s.cand[i].user;
		q->flags |= P_NOTIFIED | P_NEWBEST;
		q->peer->cnt.best++;
	}
	for (q = e->paths; q; q = next) {
		next = q->next;
		if (q->flags & P_ZOMBIE) {
			struct rib_peer *p = q->peer;

			p->zombies--;
			path_free(rib, q);
			peer_maybe_free(rib, p);
		} else if (!(q->flags & P_NEWBEST)) {
			*tail = q;
			tail = &q->next;
		}
	}
	*tail = NULL;
	for (size_t i = n_new; i-- > 0;) {
		q = rib->s.cand[i].user;
		q->flags &= ~(uint32_t)P_NEWBEST;
		q->next = rest;
		rest = q;
	}
	e->paths = rest;
}

/* Select e's best set and notify if it changed; 1 if notified. */
static size_t flush_entry(struct rib *rib, struct rib_entry *e)
{
	struct scratch *s = &rib->s;
	bool forced = e->flags & E_FORCED, changed;
	size_t n_old = 0, n_c = 0, n_new, max = rib->conf.ecmp ? rib->conf.max_paths : 1;
	enum rib_reason why;

	e->flags &= ~(E_CHANGED | E_FORCED);
	for (struct rib_path *q = e->paths; q; q = q->next) {
		if (q->flags & P_NOTIFIED)
			s->old[n_old++] = (struct rib_sel){ q->peer, q->attrs->a };
		if (!(q->flags & (P_ZOMBIE | P_INELIGIBLE)))
			s->cand[n_c++] = (struct rib_cand){ q->attrs->a, &q->peer->conf, q, false };
	}
	n_new = rib_select(s->cand, n_c, &why);
	if (n_new > max)
		n_new = max;
	for (size_t i = 0; i < n_new; i++) {
		struct rib_path *q = s->cand[i].user;

		s->new_[i] = (struct rib_sel){ q->peer, q->attrs->a };
	}
	changed = forced || !sel_equal(s->old, n_old, s->new_, n_new);
	if (changed)
		notify(rib, e, n_old, n_new, forced);
	entry_apply(rib, e, n_new);
	e->reason = (uint8_t)why;
	e->n_best = (uint8_t)n_new;
	if (!e->paths)
		entry_remove(rib, e);
	return changed;
}

size_t rib_flush_changes(struct rib *rib)
{
	struct rib_entry *e = rib->chg_head, *next;
	size_t n = 0;

	rib->chg_head = NULL;
	rib->chg_tail = &rib->chg_head;
	rib->n_pending = 0;
	for (; e; e = next) {
		next = e->cnext;
		e->cnext = NULL;
		n += flush_entry(rib, e);
	}
	for (size_t i = 0; n && i < rib->n_listeners; i++)
		if (rib->listeners[i].batch_done)
			rib->listeners[i].batch_done(rib->listeners[i].arg);
	return n;
}

size_t rib_pending(const struct rib *rib)
{
	return rib->n_pending;
}

/* ------------------------------------------------------------- queries */

/* Describe e in r (paths in rib->s.info, best first); false if no path. */
static bool fill_route(struct rib *rib, struct rib_entry *e, struct rib_route *r)
{
	struct rib_path_info *info = rib->s.info;
	size_t n = 0, n_best = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (struct rib_path *q = e->paths; q; q = q->next) {
			bool best = q->flags & P_NOTIFIED;

			if ((q->flags & P_ZOMBIE) || best != (pass == 0))
				continue;
			info[n++] = (struct rib_path_info){
				.peer = q->peer,
				.peer_conf = &q->peer->conf,
				.attrs = q->attrs->a,
				.best = best,
				.stale = q->flags & P_STALE,
				.eligible = !(q->flags & P_INELIGIBLE),
			};
			n_best += best;
		}
	}
	memset(r, 0, sizeof(*r));
	entry_prefix(e, &r->prefix);
	r->entry = e;
	r->reason = (enum rib_reason)e->reason;
	r->installed = e->flags & E_INSTALLED;
	r->n_best = n_best;
	r->n_paths = n;
	r->paths = info;
	return n > 0;
}

int rib_walk(struct rib *rib, rib_walk_fn fn, void *arg)
{
	struct rib_route r;
	int ret;

	for (size_t i = 0; i < rib->tab_size; i++) {
		for (struct rib_entry *e = rib->tab[i]; e; e = e->hnext) {
			if (fill_route(rib, e, &r) && (ret = fn(&r, arg)) != 0)
				return ret;
		}
	}
	return 0;
}

int rib_lookup(struct rib *rib, const struct cgw_prefix *prefix, rib_walk_fn fn, void *arg)
{
	struct rib_entry *e;
	struct rib_route r;
	uint32_t addr;
	int err = prefix_key(prefix, &addr);

	if (err)
		return err;
	e = entry_find(rib, addr, prefix->len);
	if (!e || !fill_route(rib, e, &r))
		return -ENOENT;
	return fn(&r, arg);
}

void rib_stats(const struct rib *rib, struct rib_stats *out)
{
	const struct pool *pools[] = { &rib->entries, &rib->paths, &rib->aents };

	memset(out, 0, sizeof(*out));
	out->prefixes = rib->n_entries;
	out->paths = rib->paths.in_use;
	out->attrs = rib->n_aents;
	out->peers = rib->n_live_peers;
	out->pending = rib->n_pending;
	out->bytes = sizeof(*rib) + rib->tab_size * sizeof(*rib->tab) +
		     rib->atab_size * sizeof(*rib->atab) + rib->n_peers * sizeof(struct rib_peer) +
		     rib->s.cap * (sizeof(struct rib_cand) + 2 * sizeof(struct rib_sel) +
				   sizeof(struct rib_path_info));
	for (size_t i = 0; i < sizeof(pools) / sizeof(pools[0]); i++)
		out->bytes += pools[i]->n_blocks * (POOL_BLOCK * pools[i]->size + sizeof(void *));
}

bool rib_entry_installed(const struct rib_entry *e)
{
	return e->flags & E_INSTALLED;
}

void rib_entry_set_installed(struct rib_entry *e, bool installed)
{
	if (installed)
		e->flags |= E_INSTALLED;
	else
		e->flags &= (uint8_t)~E_INSTALLED;
}

int rib_set_installed(struct rib *rib, const struct cgw_prefix *prefix, bool installed)
{
	struct rib_entry *e;
	uint32_t addr;
	int err = prefix_key(prefix, &addr);

	if (err)
		return err;
	e = entry_find(rib, addr, prefix->len);
	if (!e)
		return -ENOENT;
	rib_entry_set_installed(e, installed);
	return 0;
}
