/*
 * The recording fake backend: keeps states and policies in memory with
 * the kernel's lookup rules that matter to cgw (EEXIST, ESRCH, mark
 * matching, larval SPI states replaced by update), logs every call as
 * one line of text (never keys), and queues expire events behind a pipe
 * so an event loop can watch it like the netlink socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xfrm/xfrm-internal.h"

#define FAKE_SPI_BASE 0xc0de0000u	/* first SPI handed out: predictable */

struct fake_state {
	struct xfrm_state_info info;
	bool larval;			/* from alloc_spi, not yet updated */
};

struct xfrm_fake {
	struct xfrm base;
	struct fake_state *states;
	size_t n_states;
	struct xfrm_policy_info *policies;
	size_t n_policies;
	struct xfrm_event *events;
	size_t n_events;
	uint32_t next_spi, next_index;
	int fail_err;			/* -errno for the next matching call, or 0 */
	char fail_prefix[32];		/* "state add"; "" matches any call */
	int pipe[2];
	char *log;
	size_t log_len;
};

static struct xfrm_fake *fake_of(struct xfrm *x)
{
	return (struct xfrm_fake *)x;
}

static void record(struct xfrm_fake *f, const char *line)
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
static int begin(struct xfrm_fake *f, const char *line)
{
	int err = f->fail_err;

	record(f, line);
	if (!err || strncmp(line, f->fail_prefix, strlen(f->fail_prefix)) != 0)
		return 0;
	f->fail_err = 0;
	return err;
}

/* The array one element longer (old contents kept), or NULL. */
static void *grow(void *arr, size_t n, size_t size)
{
	return reallocarray(arr, n + 1, size);
}

/* The kernel's rule: a lookup with mark m finds x when (m & x.mask) == x.value. */
static struct fake_state *find_state(struct xfrm_fake *f, const struct xfrm_said *id)
{
	uint32_t m = id->mark & id->mark_mask;
	uint8_t proto = id->proto ? id->proto : IPPROTO_ESP;

	for (size_t i = 0; i < f->n_states; i++) {
		struct xfrm_said *s = &f->states[i].info.id;

		if (s->spi == id->spi && s->proto == proto &&
		    xfrm_addr_equal(&s->dst, &id->dst) && (m & s->mark_mask) == s->mark)
			return &f->states[i];
	}
	return NULL;
}

static int push_state(struct xfrm_fake *f, const struct xfrm_state_info *info, bool larval)
{
	struct fake_state *arr = grow(f->states, f->n_states, sizeof(*arr));

	if (!arr)
		return -ENOMEM;
	f->states = arr;
	f->states[f->n_states].info = *info;
	f->states[f->n_states].larval = larval;
	f->n_states++;
	return 0;
}

static void sa_to_info(const struct xfrm_sa *sa, struct xfrm_state_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id.dst = sa->dst;
	info->id.spi = sa->spi;
	info->id.proto = IPPROTO_ESP;
	info->id.mark = sa->mark;
	info->id.mark_mask = sa->mark_mask;
	info->src = sa->src;
	info->reqid = sa->reqid;
	info->owned = xfrm_reqid_owned(sa->reqid);
}

static int fake_alloc_spi(struct xfrm *x, const struct xfrm_sa *sa, uint32_t *spi)
{
	struct xfrm_fake *f = fake_of(x);
	struct xfrm_sa larval = *sa;
	struct xfrm_state_info info;
	char line[256], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int err;

	larval.spi = f->next_spi;
	snprintf(line, sizeof(line), "spi alloc src=%s dst=%s reqid=0x%x mark=%u/0x%x -> spi=0x%08x",
		 xfrm_addr_str(&sa->src, s, sizeof(s)), xfrm_addr_str(&sa->dst, d, sizeof(d)),
		 sa->reqid, sa->mark, sa->mark_mask, larval.spi);
	err = begin(f, line);
	if (err)
		return err;
	sa_to_info(&larval, &info);
	err = push_state(f, &info, true);
	if (err)
		return err;
	*spi = f->next_spi++;
	return 0;
}

static int fake_state_put(struct xfrm *x, const struct xfrm_sa *sa,
			  const struct xfrm_kalg *k, bool update)
{
	struct xfrm_fake *f = fake_of(x);
	struct xfrm_state_info info;
	struct fake_state *old;
	char line[512];
	int err;

	err = begin(f, xfrm_sa_str(update ? "state update" : "state add", sa, k,
				   line, sizeof(line)));
	if (err)
		return err;
	sa_to_info(sa, &info);
	old = find_state(f, &info.id);
	if (!update)
		return old ? -EEXIST : push_state(f, &info, false);
	if (!old)
		return -ESRCH;
	old->info = info;
	old->larval = false;
	return 0;
}

static int fake_state_get(struct xfrm *x, const struct xfrm_said *id,
			  struct xfrm_state_info *out)
{
	struct xfrm_fake *f = fake_of(x);
	struct fake_state *st;
	char line[256];
	int err;

	err = begin(f, xfrm_said_str("state get", id, line, sizeof(line)));
	if (err)
		return err;
	st = find_state(f, id);
	if (!st)
		return -ESRCH;
	*out = st->info;
	return 0;
}

static void remove_state(struct xfrm_fake *f, struct fake_state *st)
{
	size_t i = (size_t)(st - f->states);

	memmove(st, st + 1, (f->n_states - i - 1) * sizeof(*st));
	f->n_states--;
}

static int fake_state_del(struct xfrm *x, const struct xfrm_said *id)
{
	struct xfrm_fake *f = fake_of(x);
	struct fake_state *st;
	char line[256];
	int err;

	err = begin(f, xfrm_said_str("state del", id, line, sizeof(line)));
	if (err)
		return err;
	st = find_state(f, id);
	if (!st)
		return -ESRCH;
	remove_state(f, st);
	return 0;
}

static bool prefix_equal(const struct cgw_prefix *a, const struct cgw_prefix *b)
{
	return a->len == b->len && xfrm_addr_equal(&a->addr, &b->addr);
}

/* Policies are keyed by dir, selector and exact mark (value and mask). */
static struct xfrm_policy_info *find_policy(struct xfrm_fake *f, const struct xfrm_sp *sp)
{
	for (size_t i = 0; i < f->n_policies; i++) {
		const struct xfrm_sp *p = &f->policies[i].sp;

		if (p->dir == sp->dir && p->mark == sp->mark && p->mark_mask == sp->mark_mask &&
		    prefix_equal(&p->sel_src, &sp->sel_src) &&
		    prefix_equal(&p->sel_dst, &sp->sel_dst))
			return &f->policies[i];
	}
	return NULL;
}

static int push_policy(struct xfrm_fake *f, const struct xfrm_policy_info *pi)
{
	struct xfrm_policy_info *arr = grow(f->policies, f->n_policies, sizeof(*arr));

	if (!arr)
		return -ENOMEM;
	f->policies = arr;
	f->policies[f->n_policies] = *pi;
	/* The kernel's index encodes the direction in its low 3 bits. */
	f->policies[f->n_policies].index = (f->next_index++ << 3) | (uint32_t)pi->sp.dir;
	f->n_policies++;
	return 0;
}

static int fake_policy_put(struct xfrm *x, const struct xfrm_sp *sp, bool update)
{
	struct xfrm_fake *f = fake_of(x);
	struct xfrm_policy_info pi = { .sp = *sp, .priority = CGW_XFRM_PRIORITY, .owned = true };
	struct xfrm_policy_info *old;
	char line[384];
	int err;

	err = begin(f, xfrm_sp_str(update ? "policy update" : "policy add", sp, line,
				   sizeof(line)));
	if (err)
		return err;
	old = find_policy(f, sp);
	if (old && !update)
		return -EEXIST;
	if (old) {
		pi.index = old->index;
		*old = pi;
		return 0;
	}
	return push_policy(f, &pi);
}

static int fake_policy_get(struct xfrm *x, const struct xfrm_sp *sp,
			   struct xfrm_policy_info *out)
{
	struct xfrm_fake *f = fake_of(x);
	struct xfrm_policy_info *pi;
	char line[384];
	int err;

	err = begin(f, xfrm_sp_str("policy get", sp, line, sizeof(line)));
	if (err)
		return err;
	pi = find_policy(f, sp);
	if (!pi)
		return -ENOENT;		/* what the kernel says here */
	*out = *pi;
	return 0;
}

static int fake_policy_del(struct xfrm *x, const struct xfrm_policy_info *pi)
{
	struct xfrm_fake *f = fake_of(x);
	char line[384], suffix[32];
	int err;

	xfrm_sp_str("policy del", &pi->sp, line, sizeof(line));
	snprintf(suffix, sizeof(suffix), " index=%u", pi->index);
	strncat(line, suffix, sizeof(line) - strlen(line) - 1);
	err = begin(f, line);
	if (err)
		return err;
	for (size_t i = 0; i < f->n_policies; i++) {
		if (f->policies[i].index != pi->index || f->policies[i].sp.dir != pi->sp.dir)
			continue;
		memmove(&f->policies[i], &f->policies[i + 1],
			(f->n_policies - i - 1) * sizeof(*f->policies));
		f->n_policies--;
		return 0;
	}
	return -ENOENT;
}

static int fake_list(struct xfrm *x, struct xfrm_list *out)
{
	struct xfrm_fake *f = fake_of(x);
	int err = begin(f, "list");

	for (size_t i = 0; !err && i < f->n_states; i++)
		err = xfrm_list_push_state(out, &f->states[i].info);
	for (size_t i = 0; !err && i < f->n_policies; i++)
		err = xfrm_list_push_policy(out, &f->policies[i]);
	return err;
}

static int fake_events_fd(struct xfrm *x)
{
	return fake_of(x)->pipe[0];
}

static int fake_events_read(struct xfrm *x, xfrm_raw_event_fn fn, void *arg)
{
	struct xfrm_fake *f = fake_of(x);
	char drain[64];
	int count = 0;

	while (read(f->pipe[0], drain, sizeof(drain)) > 0)
		;
	/* fn may queue more (expire from a callback): take them in order. */
	for (size_t i = 0; i < f->n_events; i++) {
		struct xfrm_event ev = f->events[i];

		fn(&ev, ev.type == XFRM_EVENT_OVERRUN || xfrm_reqid_owned(ev.reqid), arg);
		count++;
	}
	f->n_events = 0;
	return count;
}

static void fake_close(struct xfrm *x)
{
	struct xfrm_fake *f = fake_of(x);

	if (f->pipe[0] >= 0)
		close(f->pipe[0]);
	if (f->pipe[1] >= 0)
		close(f->pipe[1]);
	free(f->states);
	free(f->policies);
	free(f->events);
	free(f->log);
	free(f);
}

static const struct xfrm_ops fake_ops = {
	.name = "fake",
	.alloc_spi = fake_alloc_spi,
	.state_put = fake_state_put,
	.state_get = fake_state_get,
	.state_del = fake_state_del,
	.policy_put = fake_policy_put,
	.policy_get = fake_policy_get,
	.policy_del = fake_policy_del,
	.list = fake_list,
	.events_fd = fake_events_fd,
	.events_read = fake_events_read,
	.close = fake_close,
};

int xfrm_fake_open(struct xfrm **out)
{
	struct xfrm_fake *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->base.ops = &fake_ops;
	f->next_spi = FAKE_SPI_BASE;
	f->next_index = 1;
	if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		int err = -errno;

		free(f);
		return err;
	}
	*out = &f->base;
	return 0;
}

/* ------------------------------------------------------ test controls */

/* The fake helpers below are only meaningful on a fake; NULL-safe on it. */
static struct xfrm_fake *as_fake(struct xfrm *x)
{
	return x && x->ops == &fake_ops ? fake_of(x) : NULL;
}

const char *xfrm_fake_log(struct xfrm *x)
{
	struct xfrm_fake *f = as_fake(x);

	return f && f->log ? f->log : "";
}

void xfrm_fake_log_clear(struct xfrm *x)
{
	struct xfrm_fake *f = as_fake(x);

	if (f && f->log) {
		f->log_len = 0;
		f->log[0] = '\0';
	}
}

void xfrm_fake_fail_next(struct xfrm *x, const char *call, int err)
{
	struct xfrm_fake *f = as_fake(x);

	if (!f)
		return;
	f->fail_err = err;
	snprintf(f->fail_prefix, sizeof(f->fail_prefix), "%s", call ? call : "");
}

int xfrm_fake_insert_state(struct xfrm *x, const struct xfrm_state_info *st)
{
	struct xfrm_fake *f = as_fake(x);
	struct xfrm_state_info info = *st;

	if (!f)
		return -EINVAL;
	if (!info.id.proto)
		info.id.proto = IPPROTO_ESP;
	info.owned = xfrm_reqid_owned(info.reqid);
	if (find_state(f, &info.id))
		return -EEXIST;
	return push_state(f, &info, false);
}

int xfrm_fake_insert_policy(struct xfrm *x, const struct xfrm_policy_info *pi)
{
	struct xfrm_fake *f = as_fake(x);
	struct xfrm_policy_info info = *pi;

	if (!f)
		return -EINVAL;
	info.owned = xfrm_priority_owned(info.priority);
	if (find_policy(f, &info.sp))
		return -EEXIST;
	return push_policy(f, &info);
}

int xfrm_fake_set_counters(struct xfrm *x, const struct xfrm_said *id,
			   uint64_t bytes, uint64_t packets)
{
	struct xfrm_fake *f = as_fake(x);
	struct fake_state *st = f ? find_state(f, id) : NULL;

	if (!st)
		return -ESRCH;
	st->info.cnt.bytes = bytes;
	st->info.cnt.packets = packets;
	return 0;
}

int xfrm_fake_expire(struct xfrm *x, const struct xfrm_said *id, bool hard)
{
	struct xfrm_fake *f = as_fake(x);
	struct fake_state *st = f ? find_state(f, id) : NULL;
	struct xfrm_event ev, *arr;

	if (!st)
		return -ESRCH;
	memset(&ev, 0, sizeof(ev));
	ev.type = hard ? XFRM_EVENT_EXPIRE_HARD : XFRM_EVENT_EXPIRE_SOFT;
	ev.id = st->info.id;
	ev.src = st->info.src;
	ev.reqid = st->info.reqid;
	arr = grow(f->events, f->n_events, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	f->events = arr;
	f->events[f->n_events++] = ev;
	if (hard)
		remove_state(f, st);
	return write(f->pipe[1], "e", 1) == 1 || errno == EAGAIN ? 0 : -errno;
}
