/*
 * cgw-xfrmtool: drives the xfrm/ and vti/ module APIs from the command
 * line so kernel scenarios (tests/vm/scenarios/10-xfrm-vti-backend.sh)
 * exercise the real netlink backends. Not installed.
 *
 *   cgw-xfrmtool [-d] [--fake] COMMAND ARGS...   one command
 *   cgw-xfrmtool [-d] [--fake] -f FILE|-         one command per line
 *
 * Both backends are opened first (the event socket subscribes then), so a
 * batch can add a state and wait for its expiry with no race. A batch
 * stops at the first failing command. Exit: 0 ok, 1 failed, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/secret.h"
#include "conf/proposal.h"
#include "vti/vti.h"
#include "xfrm/xfrm.h"

#define MAX_ARGS 64
#define KEY_MAX 68			/* 512-bit HMAC key; AES-256 + salt */

struct ctx {
	struct xfrm *x;
	struct vti *v;
};

struct keys {
	struct cgw_secret enc, auth;
};

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cgw-xfrmtool: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* ------------------------------------------------------------- parsing */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	*out = 0;
	if (!s || !*s || *s == '-')
		return usage_error("bad number: %s", s ? s : "(missing)");
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return usage_error("bad number: %s", s);
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	int err = parse_u64(s, &v);

	*out = 0;
	if (!err && v > UINT32_MAX)
		return usage_error("number too large: %s", s);
	if (!err)
		*out = (uint32_t)v;
	return err;
}

static int parse_addr(const char *s, struct cgw_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s && inet_pton(AF_INET, s, &a->v4) == 1)
		a->family = AF_INET;
	else if (s && inet_pton(AF_INET6, s, &a->v6) == 1)
		a->family = AF_INET6;
	else
		return usage_error("bad address: %s", s ? s : "(missing)");
	return 0;
}

static int parse_prefix(const char *s, struct cgw_prefix *p)
{
	char buf[64];
	char *slash;
	uint32_t len;

	if (!s || strlen(s) >= sizeof(buf))
		return usage_error("bad prefix: %s", s ? s : "(missing)");
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return usage_error("prefix needs /len: %s", s);
	*slash = '\0';
	if (parse_addr(buf, &p->addr) || parse_u32(slash + 1, &len) || len > 128)
		return usage_error("bad prefix: %s", s);
	p->len = (uint8_t)len;
	return 0;
}

/* "100" (mask 0xffffffff) or "100/0xff00". */
static int parse_mark(const char *s, uint32_t *mark, uint32_t *mask)
{
	char buf[32];
	char *slash;

	if (!s || strlen(s) >= sizeof(buf))
		return usage_error("bad mark: %s", s ? s : "(missing)");
	strcpy(buf, s);
	slash = strchr(buf, '/');
	*mask = 0xffffffffu;
	if (slash) {
		*slash = '\0';
		if (parse_u32(slash + 1, mask))
			return -EINVAL;
	}
	return parse_u32(buf, mark);
}

static int parse_key(const char *s, struct cgw_secret *key)
{
	unsigned char buf[KEY_MAX];
	size_t n = 0;
	int err;

	if (s && s[0] == '0' && s[1] == 'x')
		s += 2;
	if (!s || strlen(s) % 2 || strlen(s) / 2 > sizeof(buf))
		return usage_error("bad hex key: %s", s ? "(odd or too long)" : "(missing)");
	for (; s[2 * n]; n++) {
		unsigned v;

		if (sscanf(s + 2 * n, "%2x", &v) != 1)
			return usage_error("bad hex key near %s", s + 2 * n);
		buf[n] = (unsigned char)v;
	}
	secret_clear(key);
	err = secret_set(key, buf, n);
	memset(buf, 0, sizeof(buf));
	return err;
}

/* Numeric SA options, by keyword. */
static const struct {
	const char *kw;
	size_t off;
	unsigned size;
} sa_nums[] = {
	{ "spi", offsetof(struct xfrm_sa, spi), 4 },
	{ "reqid", offsetof(struct xfrm_sa, reqid), 4 },
	{ "keylen", offsetof(struct xfrm_sa, encr_keylen), 2 },
	{ "replay", offsetof(struct xfrm_sa, replay_window), 4 },
	{ "soft-secs", offsetof(struct xfrm_sa, lifetime.soft_secs), 8 },
	{ "hard-secs", offsetof(struct xfrm_sa, lifetime.hard_secs), 8 },
	{ "soft-bytes", offsetof(struct xfrm_sa, lifetime.soft_bytes), 8 },
	{ "hard-bytes", offsetof(struct xfrm_sa, lifetime.hard_bytes), 8 },
	{ "soft-packets", offsetof(struct xfrm_sa, lifetime.soft_packets), 8 },
	{ "hard-packets", offsetof(struct xfrm_sa, lifetime.hard_packets), 8 },
};

/* 1 if kw was a numeric option (value consumed), 0 if not, <0 on error. */
static int sa_num(struct xfrm_sa *sa, const char *kw, const char *val)
{
	for (size_t i = 0; i < sizeof(sa_nums) / sizeof(sa_nums[0]); i++) {
		unsigned char *field = (unsigned char *)sa + sa_nums[i].off;
		uint64_t v;

		if (strcmp(kw, sa_nums[i].kw) != 0)
			continue;
		if (parse_u64(val, &v))
			return -EINVAL;
		if (sa_nums[i].size == 2) {
			uint16_t v16 = (uint16_t)v;
			memcpy(field, &v16, 2);
		} else if (sa_nums[i].size == 4) {
			uint32_t v32 = (uint32_t)v;
			memcpy(field, &v32, 4);
		} else {
			memcpy(field, &v, 8);
		}
		return 1;
	}
	return 0;
}

static int parse_alg(struct xfrm_sa *sa, const char *kw, const char *val)
{
	static const struct { const char *name; uint16_t id; } integ[] = {
		{ "sha1", IKE_INTEG_HMAC_SHA1_96 }, { "sha256", IKE_INTEG_HMAC_SHA2_256_128 },
		{ "sha384", IKE_INTEG_HMAC_SHA2_384_192 }, { "sha512", IKE_INTEG_HMAC_SHA2_512_256 },
	};

	if (!val)
		return usage_error("%s needs a value", kw);
	if (!strcmp(kw, "enc")) {
		if (!strcmp(val, "aes-gcm"))
			sa->encr = IKE_ENCR_AES_GCM_16;
		else if (!strcmp(val, "aes-cbc"))
			sa->encr = IKE_ENCR_AES_CBC;
		else
			sa->encr = (uint16_t)atoi(val);
		return 0;
	}
	for (size_t i = 0; i < sizeof(integ) / sizeof(integ[0]); i++) {
		if (!strcmp(val, integ[i].name)) {
			sa->integ = integ[i].id;
			return 0;
		}
	}
	sa->integ = (uint16_t)atoi(val);
	return 0;
}

/* One "keyword value" SA option other than the numeric ones. */
static int parse_sa_kv(struct xfrm_sa *sa, struct keys *k, const char *kw, const char *val)
{
	if (!strcmp(kw, "mark"))
		return parse_mark(val, &sa->mark, &sa->mark_mask);
	if (!strcmp(kw, "enc") || !strcmp(kw, "auth"))
		return parse_alg(sa, kw, val);
	if (!strcmp(kw, "key"))
		return parse_key(val, &k->enc);
	if (!strcmp(kw, "authkey"))
		return parse_key(val, &k->auth);
	if (!strcmp(kw, "dir")) {
		sa->dir = !strcmp(val, "out") ? XFRM_DIR_OUT : XFRM_DIR_IN;
		return 0;
	}
	return usage_error("unknown state option: %s", kw);
}

/* SA keywords after the two outside addresses. */
static int parse_sa_opts(int argc, char **argv, struct xfrm_sa *sa, struct keys *k)
{
	int i = 0;

	while (i < argc) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t sport, dport;
		int r;

		if (!strcmp(kw, "esn")) {
			sa->esn = true;
			i++;
			continue;
		}
		if (!strcmp(kw, "encap")) {
			if (i + 2 >= argc || parse_u32(argv[i + 1], &sport) ||
			    parse_u32(argv[i + 2], &dport))
				return usage_error("%s", "encap SPORT DPORT");
			sa->encap_sport = (uint16_t)sport;
			sa->encap_dport = (uint16_t)dport;
			i += 3;
			continue;
		}
		if (!val)
			return usage_error("%s needs a value", kw);
		r = sa_num(sa, kw, val);
		if (r == 0)
			r = parse_sa_kv(sa, k, kw, val);
		if (r < 0)
			return r;
		i += 2;
	}
	return 0;
}

/* ------------------------------------------------------------ xfrm cmds */

static int cmd_spi_alloc(struct ctx *c, int argc, char **argv)
{
	struct xfrm_sa sa = { .reqid = CGW_XFRM_REQID(1) };
	struct keys k = { { NULL, 0 }, { NULL, 0 } };
	int err;

	if (argc < 2)
		return usage_error("%s", "spi alloc SRC DST [reqid N] mark M");
	if (parse_addr(argv[0], &sa.src) || parse_addr(argv[1], &sa.dst) ||
	    parse_sa_opts(argc - 2, argv + 2, &sa, &k))
		return -EINVAL;
	err = xfrm_alloc_spi(c->x, &sa);
	if (!err)
		printf("spi 0x%08x\n", sa.spi);
	return err;
}

static int state_put(struct ctx *c, int argc, char **argv, bool update)
{
	struct xfrm_sa sa = { .reqid = CGW_XFRM_REQID(1), .dir = XFRM_DIR_OUT };
	struct keys k = { { NULL, 0 }, { NULL, 0 } };
	int err = -EINVAL;

	if (argc < 2)
		return usage_error("%s", "state add|update SRC DST spi S mark M enc ... key HEX");
	if (!parse_addr(argv[0], &sa.src) && !parse_addr(argv[1], &sa.dst) &&
	    !parse_sa_opts(argc - 2, argv + 2, &sa, &k)) {
		sa.encr_key = &k.enc;
		sa.integ_key = k.auth.data ? &k.auth : NULL;
		err = update ? xfrm_state_update(c->x, &sa) : xfrm_state_add(c->x, &sa);
	}
	secret_clear(&k.enc);
	secret_clear(&k.auth);
	return err;
}

static int cmd_state_add(struct ctx *c, int argc, char **argv)
{
	return state_put(c, argc, argv, false);
}

static int cmd_state_update(struct ctx *c, int argc, char **argv)
{
	return state_put(c, argc, argv, true);
}

/* DST spi S mark M */
static int parse_said(int argc, char **argv, struct xfrm_said *id)
{
	memset(id, 0, sizeof(*id));
	if (argc != 5 || strcmp(argv[1], "spi") || strcmp(argv[3], "mark"))
		return usage_error("%s", "expected: DST spi S mark M[/MASK]");
	if (parse_addr(argv[0], &id->dst) || parse_u32(argv[2], &id->spi) ||
	    parse_mark(argv[4], &id->mark, &id->mark_mask))
		return -EINVAL;
	return 0;
}

static void print_state(const struct xfrm_state_info *st)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	inet_ntop(st->src.family, &st->src.v4, s, sizeof(s));
	inet_ntop(st->id.dst.family, &st->id.dst.v4, d, sizeof(d));
	printf("state src=%s dst=%s spi=0x%08x proto=%u reqid=0x%x mark=%u/0x%x owned=%s "
	       "bytes=%" PRIu64 " packets=%" PRIu64 " integrity_failed=%u\n",
	       s, d, st->id.spi, st->id.proto, st->reqid, st->id.mark, st->id.mark_mask,
	       st->owned ? "yes" : "no", st->cnt.bytes, st->cnt.packets,
	       st->cnt.integrity_failed);
}

static int cmd_state_get(struct ctx *c, int argc, char **argv)
{
	struct xfrm_said id;
	struct xfrm_state_info st;
	int err;

	if (parse_said(argc, argv, &id))
		return -EINVAL;
	err = xfrm_state_get(c->x, &id, &st);
	if (!err)
		print_state(&st);
	return err;
}

static int cmd_state_del(struct ctx *c, int argc, char **argv)
{
	struct xfrm_said id;

	if (parse_said(argc, argv, &id))
		return -EINVAL;
	return xfrm_state_del(c->x, &id);
}

/* DIR SRCPFX DSTPFX tmpl SRC DST [reqid N] mark M */
static int parse_sp(int argc, char **argv, struct xfrm_sp *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->reqid = CGW_XFRM_REQID(1);
	if (argc < 6 || strcmp(argv[3], "tmpl"))
		return usage_error("%s", "expected: DIR SRC/LEN DST/LEN tmpl SRC DST [reqid N] mark M");
	if (!strcmp(argv[0], "in"))
		sp->dir = XFRM_DIR_IN;
	else if (!strcmp(argv[0], "out"))
		sp->dir = XFRM_DIR_OUT;
	else if (!strcmp(argv[0], "fwd"))
		sp->dir = XFRM_DIR_FWD;
	else
		return usage_error("bad direction: %s", argv[0]);
	if (parse_prefix(argv[1], &sp->sel_src) || parse_prefix(argv[2], &sp->sel_dst) ||
	    parse_addr(argv[4], &sp->tmpl_src) || parse_addr(argv[5], &sp->tmpl_dst))
		return -EINVAL;
	for (int i = 6; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "reqid") && !parse_u32(argv[i + 1], &sp->reqid))
			continue;
		if (!strcmp(argv[i], "mark") && !parse_mark(argv[i + 1], &sp->mark, &sp->mark_mask))
			continue;
		return usage_error("bad policy option: %s", argv[i]);
	}
	return 0;
}

static int cmd_policy(struct ctx *c, int argc, char **argv, int which)
{
	struct xfrm_sp sp;

	if (parse_sp(argc, argv, &sp))
		return -EINVAL;
	if (which == 0)
		return xfrm_policy_add(c->x, &sp);
	if (which == 1)
		return xfrm_policy_update(c->x, &sp);
	return xfrm_policy_del(c->x, &sp);
}

static int cmd_policy_add(struct ctx *c, int argc, char **argv)
{
	return cmd_policy(c, argc, argv, 0);
}

static int cmd_policy_update(struct ctx *c, int argc, char **argv)
{
	return cmd_policy(c, argc, argv, 1);
}

static int cmd_policy_del(struct ctx *c, int argc, char **argv)
{
	return cmd_policy(c, argc, argv, 2);
}

static void print_policy(const struct xfrm_policy_info *pi)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], ts[INET6_ADDRSTRLEN], td[INET6_ADDRSTRLEN];
	const struct xfrm_sp *sp = &pi->sp;

	strcpy(s, "-");
	strcpy(d, "-");
	strcpy(ts, "-");
	strcpy(td, "-");
	inet_ntop(sp->sel_src.addr.family, &sp->sel_src.addr.v4, s, sizeof(s));
	inet_ntop(sp->sel_dst.addr.family, &sp->sel_dst.addr.v4, d, sizeof(d));
	inet_ntop(sp->tmpl_src.family, &sp->tmpl_src.v4, ts, sizeof(ts));
	inet_ntop(sp->tmpl_dst.family, &sp->tmpl_dst.v4, td, sizeof(td));
	printf("policy dir=%s src=%s/%u dst=%s/%u tmpl=%s->%s reqid=0x%x mark=%u/0x%x "
	       "priority=%u index=%u owned=%s\n", xfrm_dir_name(sp->dir), s, sp->sel_src.len,
	       d, sp->sel_dst.len, ts, td, sp->reqid, sp->mark, sp->mark_mask, pi->priority,
	       pi->index, pi->owned ? "yes" : "no");
}

static int cmd_list(struct ctx *c, int argc, char **argv)
{
	struct xfrm_list l;
	bool all = argc > 0 && !strcmp(argv[0], "all");
	int err = xfrm_list(c->x, !all, &l);

	if (err)
		return err;
	for (size_t i = 0; i < l.n_states; i++)
		print_state(&l.states[i]);
	for (size_t i = 0; i < l.n_policies; i++)
		print_policy(&l.policies[i]);
	xfrm_list_free(&l);
	return 0;
}

static int cmd_flush(struct ctx *c, int argc, char **argv)
{
	int n = xfrm_flush_owned(c->x);

	if (n >= 0)
		printf("flushed %d\n", n);
	return n < 0 ? n : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct waiting {
	int got;
	double start;
};

static void print_event(const struct xfrm_event *ev, void *arg)
{
	struct waiting *w = arg;
	char d[INET6_ADDRSTRLEN] = "-";

	if (ev->id.dst.family)
		inet_ntop(ev->id.dst.family, &ev->id.dst.v4, d, sizeof(d));
	printf("event %s dst=%s spi=0x%08x reqid=0x%x mark=%u/0x%x after=%.1fs\n",
	       xfrm_event_name(ev->type), d, ev->id.spi, ev->reqid, ev->id.mark,
	       ev->id.mark_mask, now() - w->start);
	fflush(stdout);
	w->got++;
}

/* events [count N] [timeout SECS]: wait for N owned events. */
static int cmd_events(struct ctx *c, int argc, char **argv)
{
	struct waiting w = { 0, now() };
	uint32_t want = 1, timeout = 30;

	for (int i = 0; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "count") && !parse_u32(argv[i + 1], &want))
			continue;
		if (!strcmp(argv[i], "timeout") && !parse_u32(argv[i + 1], &timeout))
			continue;
		return usage_error("bad events option: %s", argv[i]);
	}
	while (w.got < (int)want) {
		struct pollfd p = { .fd = xfrm_events_fd(c->x), .events = POLLIN };
		int left = (int)((w.start + timeout - now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) == 0) {
			printf("timeout after %us: %d of %u events\n", timeout, w.got, want);
			return -ETIMEDOUT;
		}
		if (xfrm_events_read(c->x, print_event, &w) < 0)
			return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------- vti cmds */

static int cmd_vti_create(struct ctx *c, int argc, char **argv)
{
	struct vti_params p;
	uint32_t mask;

	memset(&p, 0, sizeof(p));
	if (argc != 5 || strcmp(argv[3], "mark") || strlen(argv[0]) >= sizeof(p.name))
		return usage_error("%s", "vti create NAME LOCAL REMOTE mark M");
	strcpy(p.name, argv[0]);
	if (parse_addr(argv[1], &p.local) || parse_addr(argv[2], &p.remote) ||
	    parse_mark(argv[4], &p.mark, &mask))
		return -EINVAL;
	return vti_create(c->v, &p);
}

static int cmd_vti_addr(struct ctx *c, int argc, char **argv)
{
	struct cgw_prefix pfx;

	if (argc != 2 || parse_prefix(argv[1], &pfx))
		return usage_error("%s", "vti addr NAME PREFIX");
	return vti_addr_add(c->v, argv[0], &pfx);
}

static int cmd_vti_mtu(struct ctx *c, int argc, char **argv)
{
	uint32_t mtu;

	if (argc != 2 || parse_u32(argv[1], &mtu))
		return usage_error("%s", "vti mtu NAME N");
	return vti_set_mtu(c->v, argv[0], mtu);
}

static int cmd_vti_up(struct ctx *c, int argc, char **argv)
{
	return argc == 1 ? vti_set_up(c->v, argv[0], true) : usage_error("%s", "vti up NAME");
}

static int cmd_vti_down(struct ctx *c, int argc, char **argv)
{
	return argc == 1 ? vti_set_up(c->v, argv[0], false) : usage_error("%s", "vti down NAME");
}

static int cmd_vti_del(struct ctx *c, int argc, char **argv)
{
	return argc == 1 ? vti_delete(c->v, argv[0]) : usage_error("%s", "vti del NAME");
}

static int cmd_vti_exists(struct ctx *c, int argc, char **argv)
{
	int r;

	if (argc != 1)
		return usage_error("%s", "vti exists NAME");
	r = vti_exists(c->v, argv[0]);
	printf("%s %s\n", argv[0], r == 1 ? "vti" : r == 0 ? "absent" :
	       r == -EMEDIUMTYPE ? "not-a-vti" : "error");
	return r < 0 && r != -EMEDIUMTYPE ? r : 0;
}

static int cmd_vti_check(struct ctx *c, int argc, char **argv)
{
	int w;

	if (argc != 1)
		return usage_error("%s", "vti check NAME");
	w = vti_check_sysctls(c->v, argv[0]);
	if (w < 0)
		return w;
	printf("%s warnings=%d%s%s%s\n", argv[0], w,
	       w & VTI_WARN_IP_FORWARD ? " ip_forward" : "",
	       w & VTI_WARN_RP_FILTER ? " rp_filter" : "",
	       w & VTI_WARN_DISABLE_POLICY ? " disable_policy" : "");
	return 0;
}

static int cmd_vti_counters(struct ctx *c, int argc, char **argv)
{
	struct vti_counters cnt;
	int err;

	if (argc != 1)
		return usage_error("%s", "vti counters NAME");
	err = vti_get_counters(c->v, argv[0], &cnt);
	if (!err)
		printf("%s rx_bytes=%" PRIu64 " rx_packets=%" PRIu64 " tx_bytes=%" PRIu64
		       " tx_packets=%" PRIu64 "\n", argv[0], cnt.rx_bytes, cnt.rx_packets,
		       cnt.tx_bytes, cnt.tx_packets);
	return err;
}

static int cmd_vti_flush(struct ctx *c, int argc, char **argv)
{
	int n = vti_flush_owned(c->v, (const char *const *)argv, (size_t)argc);

	if (n >= 0)
		printf("vti flushed %d\n", n);
	return n < 0 ? n : 0;
}

/* -------------------------------------------------------------- driver */

static const struct cmd {
	const char *words;		/* "state add": matched against argv */
	int (*fn)(struct ctx *c, int argc, char **argv);
	const char *args;
} cmds[] = {
	{ "spi alloc", cmd_spi_alloc, "SRC DST [reqid N] mark M[/MASK]" },
	{ "state add", cmd_state_add, "SRC DST spi S [reqid N] mark M enc aes-gcm|aes-cbc "
	  "keylen BITS key HEX [auth sha1|sha256|sha384|sha512 authkey HEX] [replay N] "
	  "[esn] [soft-secs N] [hard-secs N] [soft-bytes N] [hard-bytes N] "
	  "[encap SPORT DPORT] [dir in|out]" },
	{ "state update", cmd_state_update, "(as state add)" },
	{ "state get", cmd_state_get, "DST spi S mark M" },
	{ "state del", cmd_state_del, "DST spi S mark M" },
	{ "policy add", cmd_policy_add, "in|out|fwd SRC/LEN DST/LEN tmpl SRC DST [reqid N] mark M" },
	{ "policy update", cmd_policy_update, "(as policy add)" },
	{ "policy del", cmd_policy_del, "(as policy add)" },
	{ "list", cmd_list, "[all]   (default: cgw's only)" },
	{ "flush", cmd_flush, "      (cgw's states and policies)" },
	{ "events", cmd_events, "[count N] [timeout SECS]" },
	{ "vti create", cmd_vti_create, "NAME LOCAL REMOTE mark M" },
	{ "vti addr", cmd_vti_addr, "NAME PREFIX" },
	{ "vti mtu", cmd_vti_mtu, "NAME MTU" },
	{ "vti up", cmd_vti_up, "NAME" },
	{ "vti down", cmd_vti_down, "NAME" },
	{ "vti del", cmd_vti_del, "NAME" },
	{ "vti exists", cmd_vti_exists, "NAME" },
	{ "vti check", cmd_vti_check, "NAME" },
	{ "vti counters", cmd_vti_counters, "NAME" },
	{ "vti flush", cmd_vti_flush, "NAME..." },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: cgw-xfrmtool [-d] [--fake] COMMAND...\n"
		"       cgw-xfrmtool [-d] [--fake] -f FILE|-   (one command per line)\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %s %s\n", cmds[i].words, cmds[i].args);
}

/* Number of argv words matching the command's words, or 0. */
static int match(const char *words, int argc, char **argv)
{
	char buf[64];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n >= argc || strcmp(argv[n], w) != 0)
			return 0;
		n++;
	}
	return n;
}

static int run(struct ctx *c, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int n = match(cmds[i].words, argc, argv);

		if (n)
			return cmds[i].fn(c, argc - n, argv + n);
	}
	return usage_error("unknown command: %s (try --help)", argc ? argv[0] : "");
}

static int run_batch(struct ctx *c, const char *path)
{
	FILE *in = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char line[1024];
	int err = 0;

	if (!in) {
		perror(path);
		return -errno;
	}
	while (!err && fgets(line, sizeof(line), in)) {
		char *argv[MAX_ARGS], *save;
		int argc = 0;

		for (char *w = strtok_r(line, " \t\r\n", &save); w && argc < MAX_ARGS;
		     w = strtok_r(NULL, " \t\r\n", &save))
			argv[argc++] = w;
		if (argc == 0 || argv[0][0] == '#')
			continue;
		err = run(c, argc, argv);
		fflush(stdout);
	}
	if (in != stdin)
		fclose(in);
	return err;
}

int main(int argc, char **argv)
{
	struct ctx c = { NULL, NULL };
	bool fake = false;
	const char *batch = NULL;
	int i = 1, err;

	log_init("cgw-xfrmtool", 0);
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-d"))
			log_debug_enable("all");
		else if (!strcmp(argv[i], "--fake"))
			fake = true;
		else if (!strcmp(argv[i], "-f") && i + 1 < argc)
			batch = argv[++i];
		else {
			usage(strcmp(argv[i], "--help") ? stderr : stdout);
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (!batch && i == argc) {
		usage(stderr);
		return 2;
	}
	if (secret_init() < 0)
		return 1;
	err = fake ? xfrm_open_fake(&c.x) : xfrm_open(&c.x);
	if (!err)
		err = fake ? vti_open_fake(&c.v) : vti_open(&c.v);
	if (!err)
		err = batch ? run_batch(&c, batch) : run(&c, argc - i, argv + i);
	if (fake && c.x)
		fputs(xfrm_fake_log(c.x), stderr);
	vti_close(c.v);
	xfrm_close(c.x);
	return err == -EINVAL && !c.x ? 2 : err ? 1 : 0;
}
