/*
 * Config parser and validator: table-driven good and bad snippets, the
 * permission checks on PSKs, canonical round trip and reload comparison.
 * (tests/conf/run-golden.sh covers whole files through cgwd -n.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "common/secret.h"
#include "conf/conf.h"

#define TUNNEL_OK \
	"[tunnel t]\nremote = 198.51.100.1\npsk = Synthetic.key\n" \
	"inside = 169.254.10.0/30\nvti = vti1\nmark = 100\n"

#define BGP_OK "[bgp]\nasn = 65000\nrouter-id = 192.0.2.1\n"

static struct cgw_conf *load(const char *text, struct conf_diag *d)
{
	memset(d, 0, sizeof(*d));
	return conf_load_buffer("t.conf", text, strlen(text), 0, d);
}

struct bad_case {
	const char *text;
	const char *error;	/* the start of one of the diagnostic lines */
};

static const struct bad_case bad_cases[] = {
	{ "[gateway]\nbogus = 1\n", "t.conf:2: unknown key 'bogus' in [gateway]" },
	{ "[tunnel t]\nremot = 1.2.3.4\n",
	  "t.conf:2: unknown key 'remot' in [tunnel t] (did you mean 'remote'?)" },
	{ "[tunel t]\n", "t.conf:1: unknown section [tunel t]" },
	{ "[gateway\n", "t.conf:1: section header lacks its closing ']'" },
	{ "asn = 1\n", "t.conf:1: 'asn' outside any section: put it under [gateway], "
	  "[bgp], [tunnel NAME] or [neighbor NAME]" },
	{ "[bgp]\nasn = 0\nrouter-id = 1.1.1.1\n",
	  "t.conf:2: asn: '0' is not an AS number (1..4294967295)" },
	{ "[bgp]\nasn = 4294967296\nrouter-id = 1.1.1.1\n",
	  "t.conf:2: asn: '4294967296' is not an AS number (1..4294967295)" },
	{ "[bgp]\nasn = 65000\n", "t.conf:1: [bgp]: set router-id (there is no "
	  "local-address to take it from)" },
	{ "[bgp]\nasn = 65000\nrouter-id = 1.1.1.1\n" TUNNEL_OK "bgp-peer-asn = 65000\n",
	  "t.conf:10: bgp-peer-asn 65000 equals our asn: the tunnel peer must be in "
	  "another AS (eBGP)" },
	{ TUNNEL_OK "inside = 169.254.169.252/30\n",
	  "t.conf:7: 'inside' given twice in [tunnel t] (first on line 4)" },
	{ "[tunnel t]\nremote = 198.51.100.1\npsk = k\ninside = 169.254.169.252/30\n"
	  "vti = v\nmark = 1\n", "t.conf:4: inside: 169.254.169.252/30 is reserved by AWS "
	  "(169.254.0.0/30 to 169.254.5.0/30 and 169.254.169.252/30 cannot be used)" },
	{ "[tunnel t]\nremote = 198.51.100.1\npsk = k\ninside = 169.254.10.0/24\n"
	  "vti = v\nmark = 1\n",
	  "t.conf:4: inside: 169.254.10.0/24 must be a /30 (IPv4) or /126 (IPv6)" },
	{ TUNNEL_OK "esp-lifetime = 20s\n", "t.conf:7: esp-lifetime: 20s out of range (30s..86400s)" },
	{ TUNNEL_OK "ike-lifetime = 1h\nesp-lifetime = 2h\n",
	  "t.conf:8: esp-lifetime (7200s) must be shorter than ike-lifetime (3600s)" },
	{ TUNNEL_OK "esp-lifetime = 600s\nrekey-margin = 301s\n",
	  "t.conf:8: rekey-margin (301s) must be at most half of esp-lifetime (600s)" },
	{ TUNNEL_OK "bgp-hold-time = 2s\n", "t.conf:7: bgp-hold-time must be 0 or at least "
	  "3s (RFC 4271 4.2)" },
	{ TUNNEL_OK "mark = 0x\n", "t.conf:7: 'mark' given twice in [tunnel t] (first on line 6)" },
	{ "[tunnel t]\nremote = 198.51.100.1\npsk = k\ninside = 169.254.10.0/30\n"
	  "vti = v\nmark = 0x\n", "t.conf:6: mark: '0x' is not a number" },
	{ "[tunnel t]\nremote = 198.51.100.1\npsk = k\ninside = 169.254.10.0/30\n"
	  "vti = v\nmark = -1\n", "t.conf:6: mark: '-1' is not a number" },
	{ TUNNEL_OK "route = 10.0.0.0/33\n",
	  "t.conf:7: route: '10.0.0.0/33' is not a prefix (expected e.g. 192.168.2.0/24)" },
	{ TUNNEL_OK "startup =\n", "t.conf:7: 'startup' has no value" },
	{ "[tunnel t]\nremote = 198.51.100.1\ninside = 169.254.10.0/30\nvti = v\nmark = 1\n",
	  "t.conf:1: [tunnel t]: no PSK: set psk-file = PATH (a file with mode 0600) or "
	  "psk = KEY" },
	{ "[gateway]\nremote: 1.2.3.4\n", "t.conf:2: expected 'key = value' or '[section]'" },
	/* BGP policy and [neighbor NAME] */
	{ TUNNEL_OK "bgp-med = 10\n", "t.conf:7: bgp-med needs bgp-peer-asn" },
	{ TUNNEL_OK "bgp-import-prefix = 10.0.0.0/8\n",
	  "t.conf:7: bgp-import-prefix needs bgp-peer-asn" },
	{ BGP_OK "table = 255\n", "t.conf:4: table: 255 is the kernel's local table" },
	{ BGP_OK "table = 0\n", "t.conf:4: table: 0 out of range (1..4294967295)" },
	{ BGP_OK "ecmp = on\n", "t.conf:4: ecmp: 'on' is not one of yes, no" },
	{ BGP_OK "redistribute = static,bgp\n",
	  "t.conf:4: redistribute: 'bgp' is not one of connected, static, kernel" },
	{ BGP_OK "redistribute-prefix = 2001:db8::/32\n",
	  "t.conf:4: redistribute-prefix: '2001:db8::/32' is not an IPv4 prefix" },
	{ "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 65001\n",
	  "t.conf:1: [neighbor n] needs a [bgp] section with our asn" },
	{ BGP_OK "[neighbor n]\nremote-asn = 65001\n",
	  "t.conf:4: [neighbor n]: missing 'address'" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\n",
	  "t.conf:4: [neighbor n]: missing 'remote-asn'" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 0\n",
	  "t.conf:6: remote-asn: '0' is not an AS number" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 1\nhold-time = 1s\n",
	  "t.conf:7: hold-time must be 0 or at least 3s" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 1\nmultihop = 256\n",
	  "t.conf:7: multihop: 256 out of range (1..255)" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 1\nexport = some\n",
	  "t.conf:7: export: 'some' is not one of none, local, all" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 1\nmed = 1\nmed = 2\n",
	  "t.conf:8: 'med' given twice in [neighbor n] (first on line 7)" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 1\nbgp-med = 1\n",
	  "t.conf:7: unknown key 'bgp-med' in [neighbor n] (did you mean 'med'?)" },
	{ BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 1\n"
	  "[neighbor m]\naddress = 10.0.0.1\nremote-asn = 2\n",
	  "t.conf:8: address 10.0.0.1 already used by neighbor n" },
	{ BGP_OK "[neighbor t]\naddress = 10.0.0.1\nremote-asn = 1\n" TUNNEL_OK,
	  "t.conf:7: tunnel name 't' already used by [neighbor t] on line 4" },
	{ BGP_OK TUNNEL_OK "[neighbor n]\naddress = 169.254.10.1\nremote-asn = 1\n",
	  "t.conf:11: address 169.254.10.1 is the remote-inside of tunnel t" },
	{ "[neighbor n!]\n", "t.conf:1: neighbor name 'n!' must be 1-31 characters" },
};

static void test_bad_cases(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct conf_diag d;
		struct cgw_conf *c = load(bad_cases[i].text, &d);

		bool found = false;

		for (size_t j = 0; j < d.n_lines; j++)
			found |= strncmp(d.lines[j], bad_cases[i].error,
					 strlen(bad_cases[i].error)) == 0;
		if (!found)
			print_error("case %zu: want '%s', got:\n%s\n", i, bad_cases[i].error,
				    d.n_lines ? d.lines[0] : "(nothing)");
		assert_null(c);
		assert_true(found);
		conf_diag_free(&d);
	}
}

static void test_all_errors_reported(void **state)
{
	struct conf_diag d;
	struct cgw_conf *c = load("[gateway]\nfoo = 1\nbar = 2\n[tunnel t]\nmark = x\n", &d);

	assert_null(c);
	/* foo, bar, mark, then missing remote, vti, inside and PSK. */
	assert_int_equal(d.n_errors, 7);
	assert_string_equal(d.lines[0], "t.conf:2: unknown key 'foo' in [gateway]");
	assert_string_equal(d.lines[1], "t.conf:3: unknown key 'bar' in [gateway]");
	conf_diag_free(&d);
}

static void test_defaults(void **state)
{
	struct conf_diag d;
	struct cgw_conf *c = load(TUNNEL_OK, &d);
	const struct cgw_tunnel_conf *t;
	char buf[64];

	assert_non_null(c);
	assert_int_equal(d.n_lines, 0);
	assert_string_equal(c->gateway.control_socket, "/run/cgw/cgwd.sock");
	assert_int_equal(c->n_tunnels, 1);
	t = conf_tunnel_find(c, "t");
	assert_non_null(t);
	assert_string_equal(conf_addr_str(&t->local_inside, buf, sizeof(buf)), "169.254.10.2");
	assert_string_equal(conf_addr_str(&t->remote_inside, buf, sizeof(buf)), "169.254.10.1");
	assert_int_equal(t->ike_lifetime, 28000);
	assert_int_equal(t->esp_lifetime, 3000);
	assert_int_equal(t->rekey_margin, 270);
	assert_int_equal(t->dpd_delay, 10);
	assert_int_equal(t->dpd_timeout, 30);
	assert_int_equal(t->startup, CGW_STARTUP_START);
	assert_int_equal(t->dpd_action, CGW_DPD_RESTART);
	assert_int_equal(t->replay_window, 1024);
	assert_int_equal(t->n_local_ts, 1);
	assert_int_equal(t->local_ts[0].len, 0);
	assert_int_equal(t->psk.len, strlen("Synthetic.key"));
	assert_memory_equal(t->psk.data, "Synthetic.key", t->psk.len);
	assert_null(conf_tunnel_find(c, "nope"));
	conf_free(c);
	conf_diag_free(&d);
}

static void test_short_lifetimes_margin(void **state)
{
	struct conf_diag d;
	struct cgw_conf *c = load(TUNNEL_OK "ike-lifetime = 180s\nesp-lifetime = 60s\n", &d);

	assert_non_null(c);
	assert_int_equal(c->tunnels[0].rekey_margin, 15);
	conf_free(c);
	conf_diag_free(&d);
}

/* Write text to dir/name with mode. */
static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_permissions(void **state)
{
	char dir[] = "/tmp/cgw-test-XXXXXX", path[512];
	struct conf_diag d = { 0 };
	struct cgw_conf *c;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgw.conf", dir);

	/* psk-file readable by others: refused, naming the file and the fix. */
	write_file(dir, "k.psk", "Synthetic.key\n", 0644);
	write_file(dir, "cgw.conf", "[tunnel t]\nremote = 198.51.100.1\npsk-file = k.psk\n"
		   "inside = 169.254.10.0/30\nvti = vti1\nmark = 100\n", 0644);
	c = conf_load(path, CONF_CHECK_PERMS, &d);
	assert_null(c);
	assert_non_null(strstr(d.lines[0], "k.psk is readable by group or others (mode 0644)"));
	assert_non_null(strstr(d.lines[0], "chmod 600"));
	conf_diag_free(&d);

	/* 0600 is fine; the trailing newline is not part of the key. */
	write_file(dir, "k.psk", "Synthetic.key\n", 0600);
	c = conf_load(path, CONF_CHECK_PERMS, &d);
	assert_non_null(c);
	assert_int_equal(c->tunnels[0].psk.len, strlen("Synthetic.key"));
	conf_free(c);
	conf_diag_free(&d);

	/* An inline PSK in a world-readable config: refused. */
	write_file(dir, "cgw.conf", TUNNEL_OK, 0644);
	c = conf_load(path, CONF_CHECK_PERMS, &d);
	assert_null(c);
	assert_non_null(strstr(d.lines[0], "holds a PSK but is readable by group or others"));
	conf_diag_free(&d);
	write_file(dir, "cgw.conf", TUNNEL_OK, 0640);
	c = conf_load(path, CONF_CHECK_PERMS, &d);
	assert_null(c);
	conf_diag_free(&d);
	write_file(dir, "cgw.conf", TUNNEL_OK, 0600);
	c = conf_load(path, CONF_CHECK_PERMS, &d);
	assert_non_null(c);
	conf_free(c);
	conf_diag_free(&d);

	/* A missing file is an error with the reason. */
	c = conf_load("/nonexistent/cgw.conf", CONF_CHECK_PERMS, &d);
	assert_null(c);
	assert_string_equal(d.lines[0], "/nonexistent/cgw.conf: cannot read: No such file or directory");
	conf_diag_free(&d);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static char *print_to_string(const struct cgw_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	conf_print(f, c);
	fclose(f);
	return buf;
}

static void test_round_trip(void **state)
{
	static const char text[] =
		"[gateway]\nlocal-address = 203.0.113.10\nlocal-id = gw.example.com\n"
		"[bgp]\nasn = 65000\nnetwork = 10.0.0.0/8\nnetwork = 192.168.0.0/16\n"
		TUNNEL_OK "ike = aes128gcm16-prfsha256-ecp256,aes256-sha1-modp2048\n"
		"esp = aes128-sha1\nremote-id = aws.example\nbgp-peer-asn = 64512\n"
		"route = 172.16.0.0/12\nroute-metric = 5\nstartup = add\n";
	struct conf_diag d;
	struct cgw_conf *a = load(text, &d), *b;
	char *out1, *out2;

	assert_non_null(a);
	out1 = print_to_string(a);
	assert_non_null(strstr(out1, "psk = <hidden>\n"));
	assert_null(strstr(out1, "Synthetic.key"));
	conf_diag_free(&d);
	b = load(out1, &d);
	assert_non_null(b);
	out2 = print_to_string(b);
	assert_string_equal(out1, out2);
	free(out1);
	free(out2);
	conf_free(a);
	conf_free(b);
	conf_diag_free(&d);
}

static void test_tunnel_equal(void **state)
{
	struct conf_diag d;
	struct cgw_conf *a = load(TUNNEL_OK, &d), *b, *c2;

	conf_diag_free(&d);
	b = load(TUNNEL_OK, &d);
	conf_diag_free(&d);
	c2 = load("[tunnel t]\nremote = 198.51.100.1\npsk = Synthetic.kez\n"
		  "inside = 169.254.10.0/30\nvti = vti1\nmark = 100\n", &d);
	conf_diag_free(&d);
	assert_true(conf_tunnel_equal(&a->tunnels[0], &b->tunnels[0]));
	/* A changed PSK alone makes the tunnel "changed" on reload. */
	assert_false(conf_tunnel_equal(&a->tunnels[0], &c2->tunnels[0]));
	conf_free(a);
	conf_free(b);
	conf_free(c2);
}

static void test_bgp_defaults(void **state)
{
	struct conf_diag d;
	struct cgw_conf *c = load(BGP_OK TUNNEL_OK "bgp-peer-asn = 64512\n"
				  "[neighbor core]\naddress = 10.0.0.1\nremote-asn = 65000\n"
				  "[neighbor ext]\naddress = 10.0.0.2\nremote-asn = 65001\n", &d);
	const struct cgw_neighbor_conf *n;
	const struct cgw_tunnel_conf *t;

	assert_non_null(c);
	assert_int_equal(d.n_lines, 0);
	assert_int_equal(c->bgp.network_mode, CGW_NETWORK_PRESENT);
	assert_int_equal(c->bgp.redistribute, 0);
	assert_false(c->bgp.ecmp);
	assert_int_equal(c->bgp.max_paths, 16);
	assert_false(c->bgp.always_compare_med);
	assert_int_equal(c->bgp.table, 254);
	assert_int_equal(c->bgp.metric, 20);
	assert_true(c->bgp.graceful_restart);
	assert_int_equal(c->bgp.restart_time, 0);
	assert_int_equal(c->bgp.listen_port, 179);

	/* A tunnel to AWS: its quotas, and export what we originate. */
	t = conf_tunnel_find(c, "t");
	assert_int_equal(t->bgp.max_prefix_in, 5000);
	assert_int_equal(t->bgp.max_prefix_out, 100);
	assert_false(t->bgp.has_med);
	assert_false(t->bgp.has_local_pref);
	assert_int_equal(t->bgp.prepend, 0);
	assert_false(t->bgp.import_none);
	assert_int_equal(t->bgp.export, CGW_EXPORT_LOCAL);

	/* A neighbor: no limits, nothing exported (RFC 8212). */
	n = conf_neighbor_find(c, "core");
	assert_non_null(n);
	assert_int_equal(n->port, 179);
	assert_int_equal(n->hold_time, 90);
	assert_false(n->passive);
	assert_int_equal(n->multihop, 255);	/* iBGP */
	assert_int_equal(n->local_address.family, 0);
	assert_int_equal(n->policy.max_prefix_in, 0);
	assert_int_equal(n->policy.max_prefix_out, 0);
	assert_int_equal(n->policy.export, CGW_EXPORT_NONE);
	assert_false(n->policy.import_none);
	n = conf_neighbor_find(c, "ext");
	assert_int_equal(n->multihop, 1);	/* eBGP: directly connected */
	assert_null(conf_neighbor_find(c, "t"));
	conf_free(c);
	conf_diag_free(&d);
}

/* The BGP keys of a tunnel change its session, not the tunnel. */
static void test_tunnel_bgp_equal(void **state)
{
	static const char *const changes[] = {
		"bgp-peer-asn = 64513\n",
		"bgp-peer-asn = 64512\nbgp-hold-time = 90s\n",
		"bgp-peer-asn = 64512\nbgp-max-prefix-in = 0\n",
		"bgp-peer-asn = 64512\nbgp-max-prefix-out = 101\n",
		"bgp-peer-asn = 64512\nbgp-med = 0\n",
		"bgp-peer-asn = 64512\nbgp-prepend = 1\n",
		"bgp-peer-asn = 64512\nbgp-local-pref = 100\n",
		"bgp-peer-asn = 64512\nbgp-import = none\n",
		"bgp-peer-asn = 64512\nbgp-import-prefix = 10.0.0.0/8\n",
		"bgp-peer-asn = 64512\nbgp-export = all\n",
		"bgp-peer-asn = 64512\nbgp-export-prefix = 10.0.0.0/8\n",
	};
	struct conf_diag d;
	struct cgw_conf *a = load(BGP_OK TUNNEL_OK "bgp-peer-asn = 64512\n", &d), *b;
	char text[1024];

	assert_non_null(a);
	conf_diag_free(&d);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		snprintf(text, sizeof(text), "%s%s%s", BGP_OK, TUNNEL_OK, changes[i]);
		b = load(text, &d);
		assert_non_null(b);
		conf_diag_free(&d);
		assert_true(conf_tunnel_equal(&a->tunnels[0], &b->tunnels[0]));
		if (conf_tunnel_bgp_equal(&a->tunnels[0], &b->tunnels[0]))
			print_error("case %zu: %s", i, changes[i]);
		assert_false(conf_tunnel_bgp_equal(&a->tunnels[0], &b->tunnels[0]));
		conf_free(b);
	}
	/* Another inside changes both. */
	b = load(BGP_OK "[tunnel t]\nremote = 198.51.100.1\npsk = Synthetic.key\n"
		 "inside = 169.254.12.0/30\nvti = vti1\nmark = 100\nbgp-peer-asn = 64512\n", &d);
	conf_diag_free(&d);
	assert_false(conf_tunnel_equal(&a->tunnels[0], &b->tunnels[0]));
	assert_false(conf_tunnel_bgp_equal(&a->tunnels[0], &b->tunnels[0]));
	conf_free(b);
	/* The same text: equal both ways. */
	b = load(BGP_OK TUNNEL_OK "bgp-peer-asn = 64512\n", &d);
	conf_diag_free(&d);
	assert_true(conf_tunnel_bgp_equal(&a->tunnels[0], &b->tunnels[0]));
	assert_true(conf_bgp_equal(&a->bgp, &b->bgp));
	conf_free(b);
	conf_free(a);
}

static void test_neighbor_bgp_equal(void **state)
{
	static const char *const neighbor_changes[] = {
		"address = 10.0.0.2\nremote-asn = 65001\n",
		"address = 10.0.0.1\nremote-asn = 65002\n",
		"address = 10.0.0.1\nremote-asn = 65001\nlocal-address = 10.0.0.9\n",
		"address = 10.0.0.1\nremote-asn = 65001\nport = 1790\n",
		"address = 10.0.0.1\nremote-asn = 65001\nhold-time = 30s\n",
		"address = 10.0.0.1\nremote-asn = 65001\npassive = yes\n",
		"address = 10.0.0.1\nremote-asn = 65001\nmultihop = 2\n",
		"address = 10.0.0.1\nremote-asn = 65001\nexport = local\n",
		"address = 10.0.0.1\nremote-asn = 65001\nimport-prefix = 10.0.0.0/8\n",
	};
	static const char *const bgp_changes[] = {
		"network = 10.0.0.0/8\n", "network-mode = always\n", "redistribute = kernel\n",
		"redistribute-prefix = 10.0.0.0/8\n", "ecmp = yes\n", "max-paths = 2\n",
		"always-compare-med = yes\n", "table = 100\n", "metric = 0\n",
		"graceful-restart = no\n", "restart-time = 1m\n", "listen-port = 1179\n",
	};
	static const char base[] = BGP_OK "[neighbor n]\naddress = 10.0.0.1\nremote-asn = 65001\n";
	struct conf_diag d;
	struct cgw_conf *a = load(base, &d), *b;
	char text[1024];

	assert_non_null(a);
	conf_diag_free(&d);
	b = load(base, &d);
	conf_diag_free(&d);
	assert_true(conf_neighbor_equal(&a->neighbors[0], &b->neighbors[0]));
	conf_free(b);
	for (size_t i = 0; i < sizeof(neighbor_changes) / sizeof(neighbor_changes[0]); i++) {
		snprintf(text, sizeof(text), "%s[neighbor n]\n%s", BGP_OK, neighbor_changes[i]);
		b = load(text, &d);
		assert_non_null(b);
		conf_diag_free(&d);
		assert_true(conf_bgp_equal(&a->bgp, &b->bgp));
		assert_false(conf_neighbor_equal(&a->neighbors[0], &b->neighbors[0]));
		conf_free(b);
	}
	for (size_t i = 0; i < sizeof(bgp_changes) / sizeof(bgp_changes[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", BGP_OK, bgp_changes[i]);
		b = load(text, &d);
		assert_non_null(b);
		conf_diag_free(&d);
		if (conf_bgp_equal(&a->bgp, &b->bgp))
			print_error("case %zu: %s", i, bgp_changes[i]);
		assert_false(conf_bgp_equal(&a->bgp, &b->bgp));
		conf_free(b);
	}
	conf_free(a);
}

static void test_prefix_in_list(void **state)
{
	static const struct {
		const char *prefix;
		bool in;
	} cases[] = {
		{ "10.1.0.0/16", true },	/* inside 10.0.0.0/8 */
		{ "10.0.0.0/8", true },		/* the entry itself */
		{ "10.1.2.3/32", true },
		{ "0.0.0.0/0", false },		/* wider than any entry */
		{ "11.0.0.0/8", false },
		{ "192.168.2.0/24", true },
		{ "192.168.0.0/16", false },	/* contains an entry, is not inside one */
		{ "192.168.3.0/24", false },
		{ "2001:db8::/32", false },	/* other family */
	};
	struct cgw_prefix list[2], p;

	assert_int_equal(conf_parse_prefix("10.0.0.0/8", &list[0]), 0);
	assert_int_equal(conf_parse_prefix("192.168.2.0/24", &list[1]), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(conf_parse_prefix(cases[i].prefix, &p), 0);
		if (conf_prefix_in_list(&p, list, 2) != cases[i].in)
			print_error("case %s\n", cases[i].prefix);
		assert_true(conf_prefix_in_list(&p, list, 2) == cases[i].in);
		/* An empty list lets everything through. */
		assert_true(conf_prefix_in_list(&p, NULL, 0));
	}
}

/* Long prefix lists print one per line: the canonical form stays parseable. */
static void test_long_lists_round_trip(void **state)
{
	char text[16384], *out1, *out2, *line;
	size_t n;
	struct conf_diag d;
	struct cgw_conf *a, *b;

	n = (size_t)snprintf(text, sizeof(text), "%s[neighbor n]\naddress = 10.0.0.1\n"
			     "remote-asn = 65001\nexport = all\n", BGP_OK);
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "export-prefix = 10.%d.0.0/16, "
				      "10.%d.1.0/24, 10.%d.2.0/24, 10.%d.3.0/24, 10.%d.4.0/24, "
				      "10.%d.5.0/24, 10.%d.6.0/24, 10.%d.7.0/24\n",
				      i, i, i, i, i, i, i, i);
	a = load(text, &d);
	assert_non_null(a);
	assert_int_equal(a->neighbors[0].policy.n_export_prefixes, 160);
	conf_diag_free(&d);
	out1 = print_to_string(a);
	for (line = out1; *line; line = strchr(line, '\n') + 1)
		assert_true(strchr(line, '\n') - line <= 198);
	b = load(out1, &d);
	assert_non_null(b);
	conf_diag_free(&d);
	out2 = print_to_string(b);
	assert_string_equal(out1, out2);
	assert_true(conf_neighbor_equal(&a->neighbors[0], &b->neighbors[0]));
	free(out1);
	free(out2);
	conf_free(a);
	conf_free(b);
}

static void test_hostile_bytes(void **state)
{
	static const char text[] = "[tunnel t]\nremote = 1\0.2.3.4\n[\xff\xfe]\n=\n= x\n";
	char longline[6000];
	struct conf_diag d = { 0 };
	struct cgw_conf *c = conf_load_buffer("t.conf", text, sizeof(text) - 1, 0, &d);

	assert_null(c);
	assert_true(d.n_errors > 0);
	conf_diag_free(&d);
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "[gateway]\nx=", 12);
	c = conf_load_buffer("t.conf", longline, sizeof(longline), 0, &d);
	assert_null(c);
	assert_non_null(strstr(d.lines[0], "line longer than"));
	conf_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_short_lifetimes_margin),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tunnel_equal),
		cmocka_unit_test(test_bgp_defaults),
		cmocka_unit_test(test_tunnel_bgp_equal),
		cmocka_unit_test(test_neighbor_bgp_equal),
		cmocka_unit_test(test_prefix_in_list),
		cmocka_unit_test(test_long_lists_round_trip),
		cmocka_unit_test(test_hostile_bytes),
	};

	secret_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
