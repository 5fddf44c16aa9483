/*
 * cgw-fibtool: drives bgp/rib and bgp/fib (netlink backend) from a
 * command stream, so kernel scenarios (tests/vm/scenarios/40-bgp-fib.sh)
 * exercise the real batched route installation. Not installed.
 *
 *   cgw-fibtool [OPTIONS]            commands on stdin, one reply line each
 *   cgw-fibtool gen VERB N REST...   print N "route VERB <prefix> REST"
 *                                    lines for `ip -batch` (the baseline)
 *
 * Options: --table T, --metric M, --batch BYTES, --rcvbuf BYTES, --ecmp,
 * --base A.B.C.D (first prefix, default 20.0.0.0; prefix i is base + i
 * /24s), --fake (the recording fake instead of the kernel).
 *
 * Commands (replies "ok WHAT key=value..." or "error WHAT: reason"):
 *   peer ID ADDR IFNAME [ROUTER-ID]   register peer ID (1..8), next hop
 *                                     ADDR via IFNAME, AS 64512
 *   announce ID N MED                 prefixes 0..N-1 from peer ID
 *   withdraw ID N                     withdraw prefixes 0..N-1
 *   flushpeer ID                      session down
 *   flush                             rib_flush_changes(): the batch goes
 *                                     to the kernel; timing and counters
 *   reconcile | hold | sweep | removeall | count | stats
 *   ecmp on|off
 *   quit
 * Exit: 0 after quit or end of input, 1 if a command failed, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgp/fib.h"
#include "bgp/rib.h"
#include "common/log.h"

#define MAX_PEERS 8
#define MAX_ARGS 8
#define PEER_AS 64512u
#define LOCAL_AS 65000u

struct tool {
	struct rib *rib;
	struct fib *fib;
	struct fib_backend *be;
	struct fib_conf conf;
	struct rib_peer *peers[MAX_PEERS + 1];
	uint32_t base;			/* host order */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct cgw_prefix prefix_n(const struct tool *t, uint32_t i)
{
	struct cgw_prefix p;

	memset(&p, 0, sizeof(p));
	p.addr.family = AF_INET;
	p.addr.v4.s_addr = htonl(t->base + (i << 8));
	p.len = 24;
	return p;
}

static struct bgp_attrs *aws_attrs(uint32_t med)
{
	struct bgp_attrs *a = bgp_attrs_new();

	if (!a)
		return NULL;
	a->segs = calloc(1, sizeof(*a->segs));
	if (!a->segs || !(a->segs[0].as = calloc(1, sizeof(uint32_t)))) {
		bgp_attrs_unref(a);
		return NULL;
	}
	a->n_segs = 1;
	a->segs[0].type = BGP_AS_SEQUENCE;
	a->segs[0].len = 1;
	a->segs[0].as[0] = PEER_AS;
	a->has_med = true;
	a->med = med;
	bgp_attrs_seal(a);
	return a;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static struct rib_peer *peer_arg(struct tool *t, const char *s)
{
	uint32_t id;

	if (parse_u32(s, &id) < 0 || id < 1 || id > MAX_PEERS)
		return NULL;
	return t->peers[id];
}

static void print_stats(struct tool *t)
{
	struct fib_stats st;

	fib_get_stats(t->fib, &st);
	printf(" sends=%zu msgs=%zu adds=%zu replaces=%zu dels=%zu errors=%zu enobufs=%zu"
	       " resyncs=%zu adopted=%zu resync_needed=%d\n",
	       t->be->sends, t->be->msgs, st.adds, st.replaces, st.dels, st.errors, st.enobufs,
	       st.resyncs, st.adopted, fib_resync_needed(t->fib));
}

/* ------------------------------------------------------------- commands */

static int cmd_peer(struct tool *t, char **av, int ac)
{
	struct rib_peer_conf c;
	uint32_t id;
	int err;

	if (ac < 4 || parse_u32(av[1], &id) < 0 || id < 1 || id > MAX_PEERS || t->peers[id])
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "peer%u", id);
	if (inet_pton(AF_INET, av[2], &c.addr) != 1)
		return -EINVAL;
	c.ifindex = !strcmp(t->be->ops->name, "fake") ? id : if_nametoindex(av[3]);
	if (!c.ifindex)
		return -ENODEV;
	c.router_id = c.addr;
	if (ac > 4 && inet_pton(AF_INET, av[4], &c.router_id) != 1)
		return -EINVAL;
	c.peer_as = PEER_AS;
	c.local_as = LOCAL_AS;
	err = rib_peer_add(t->rib, &c, &t->peers[id]);
	if (!err)
		printf("ok peer %u ifindex=%u\n", id, c.ifindex);
	return err;
}

static int cmd_announce(struct tool *t, char **av, int ac, bool withdraw)
{
	struct rib_peer *p = ac > 2 ? peer_arg(t, av[1]) : NULL;
	struct bgp_attrs *a = NULL;
	uint32_t n, med = 0;
	double t0 = now_ms();
	int err = 0;

	if (!p || parse_u32(av[2], &n) < 0 || (!withdraw && (ac < 4 || parse_u32(av[3], &med) < 0)))
		return -EINVAL;
	if (!withdraw && !(a = aws_attrs(med)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !err; i++) {
		struct cgw_prefix x = prefix_n(t, i);

		err = withdraw ? rib_withdraw(t->rib, p, &x) : rib_update(t->rib, p, &x, a);
		if (err == -ENOENT)
			err = 0;
	}
	bgp_attrs_unref(a);
	if (!err)
		printf("ok %s n=%u ms=%.1f pending=%zu\n", av[0], n, now_ms() - t0,
		       rib_pending(t->rib));
	return err;
}

static int cmd_flush(struct tool *t)
{
	double t0 = now_ms();
	size_t n = rib_flush_changes(t->rib);

	printf("ok flush changes=%zu ms=%.1f", n, now_ms() - t0);
	print_stats(t);
	return 0;
}

static int count_fn(const struct fib_route *r, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static int cmd_simple(struct tool *t, const char *cmd)
{
	double t0 = now_ms();
	size_t n = 0;
	int ret;

	if (!strcmp(cmd, "reconcile"))
		ret = fib_reconcile(t->fib);
	else if (!strcmp(cmd, "hold"))
		ret = fib_hold_leftovers(t->fib);
	else if (!strcmp(cmd, "sweep"))
		ret = fib_sweep_leftovers(t->fib);
	else if (!strcmp(cmd, "removeall"))
		ret = fib_remove_all(t->fib);
	else if (!strcmp(cmd, "count"))
		ret = fib_backend_dump(t->be, t->conf.table, count_fn, &n);
	else
		return -EOPNOTSUPP;
	if (ret < 0)
		return ret;
	printf("ok %s ret=%d n=%zu ms=%.1f", cmd, ret, n, now_ms() - t0);
	print_stats(t);
	return 0;
}

static int installed_fn(const struct rib_route *r, void *arg)
{
	*(size_t *)arg += r->installed;
	return 0;
}

static int cmd_stats(struct tool *t)
{
	struct rib_stats rs;
	size_t inst = 0;

	rib_stats(t->rib, &rs);
	(void)rib_walk(t->rib, installed_fn, &inst);
	printf("ok stats prefixes=%zu paths=%zu attrs=%zu installed=%zu rib_bytes=%zu"
	       " bytes_per_prefix=%zu", rs.prefixes, rs.paths, rs.attrs, inst, rs.bytes,
	       rs.prefixes ? rs.bytes / rs.prefixes : 0);
	print_stats(t);
	return 0;
}

/* One command line; 1 for quit, 0, or -errno. */
static int run_line(struct tool *t, char *line)
{
	char *av[MAX_ARGS], *save = NULL;
	int ac = 0;

	for (char *w = strtok_r(line, " \t\r\n", &save); w && ac < MAX_ARGS;
	     w = strtok_r(NULL, " \t\r\n", &save))
		av[ac++] = w;
	if (ac == 0 || av[0][0] == '#')
		return 0;
	if (!strcmp(av[0], "quit"))
		return 1;
	if (!strcmp(av[0], "peer"))
		return cmd_peer(t, av, ac);
	if (!strcmp(av[0], "announce") || !strcmp(av[0], "withdraw"))
		return cmd_announce(t, av, ac, av[0][0] == 'w');
	if (!strcmp(av[0], "flushpeer")) {
		struct rib_peer *p = ac > 1 ? peer_arg(t, av[1]) : NULL;

		if (!p)
			return -EINVAL;
		printf("ok flushpeer n=%zu\n", rib_flush_peer(t->rib, p));
		return 0;
	}
	if (!strcmp(av[0], "flush"))
		return cmd_flush(t);
	if (!strcmp(av[0], "stats"))
		return cmd_stats(t);
	if (!strcmp(av[0], "ecmp") && ac > 1) {
		rib_set_ecmp(t->rib, !strcmp(av[1], "on"), 0);
		printf("ok ecmp %s pending=%zu\n", av[1], rib_pending(t->rib));
		return 0;
	}
	return cmd_simple(t, av[0]);
}

/* ------------------------------------------------------------- main */

/* gen VERB N REST...: lines for `ip -batch`, the baseline. */
static int gen(struct tool *t, int argc, char **argv)
{
	uint32_t n;
	char rest[512] = "";

	if (argc < 3 || parse_u32(argv[2], &n) < 0)
		return 2;
	for (int i = 3; i < argc; i++) {
		strncat(rest, " ", sizeof(rest) - strlen(rest) - 1);
		strncat(rest, argv[i], sizeof(rest) - strlen(rest) - 1);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct cgw_prefix x = prefix_n(t, i);
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &x.addr.v4, a, sizeof(a));
		printf("route %s %s/24%s\n", argv[1], a, rest);
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct tool *t, struct fib_nl_opts *nl,
		      bool *ecmp, bool *fake)
{
	static const struct option opts[] = {
		{ "table", required_argument, NULL, 't' },
		{ "metric", required_argument, NULL, 'm' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "base", required_argument, NULL, 'B' },
		{ "ecmp", no_argument, NULL, 'e' },
		{ "fake", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct in_addr base;
	uint32_t v;
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'e' || c == 'f') {
			*(c == 'e' ? ecmp : fake) = true;
			continue;
		}
		if (c == 'B') {
			if (inet_pton(AF_INET, optarg, &base) != 1)
				return -EINVAL;
			t->base = ntohl(base.s_addr);
			continue;
		}
		if (c == '?' || parse_u32(optarg, &v) < 0)
			return -EINVAL;
		if (c == 't')
			t->conf.table = v;
		else if (c == 'm')
			t->conf.metric = v;
		else if (c == 'b')
			nl->batch_bytes = v;
		else if (c == 'r')
			nl->rcvbuf = (int)v;
	}
	return 0;
}

static int setup(struct tool *t, const struct fib_nl_opts *nl, bool ecmp, bool fake)
{
	struct rib_conf rc = { .ecmp = ecmp };
	int err = rib_new(&rc, &t->rib);

	if (!err)
		err = fake ? fib_fake_open(&t->be) : fib_netlink_open(nl, &t->be);
	if (!err)
		err = fib_new(t->rib, &t->conf, t->be, &t->fib);
	if (err) {
		fprintf(stderr, "cgw-fibtool: setup: %s\n", strerror(-err));
		return err;
	}
	if (!t->conf.table)
		t->conf.table = FIB_DEFAULT_TABLE;
	return 0;
}

int main(int argc, char **argv)
{
	struct tool t = { .base = 0x14000000u };	/* 20.0.0.0 */
	struct fib_nl_opts nl = { 0, 0 };
	bool ecmp = false, fake = false;
	char line[512];
	int status = 0, ret = 0;

	log_init("cgw-fibtool", 0);
	if (argc > 1 && !strcmp(argv[1], "gen"))
		return gen(&t, argc - 1, argv + 1);
	if (parse_opts(argc, argv, &t, &nl, &ecmp, &fake) < 0 || optind != argc) {
		fprintf(stderr, "usage: cgw-fibtool [--table T] [--metric M] [--batch B] "
				"[--rcvbuf B] [--base A.B.C.D] [--ecmp] [--fake] < commands\n"
				"       cgw-fibtool gen VERB N REST...\n");
		return 2;
	}
	if (setup(&t, &nl, ecmp, fake) < 0)
		return 1;
	while (ret != 1 && fgets(line, sizeof(line), stdin)) {
		char cmd[sizeof(line)];

		memcpy(cmd, line, sizeof(line));
		ret = run_line(&t, line);
		if (ret < 0) {
			cmd[strcspn(cmd, "\r\n")] = '\0';
			printf("error %s: %s\n", cmd, strerror(-ret));
			status = 1;
		}
		fflush(stdout);
	}
	fib_free(t.fib);
	rib_free(t.rib);
	return status;
}
