/*
 * xfrm/ through the recording fake: what each call asks the kernel for
 * (one line per call), algorithm mapping (RFC 4868 truncation), argument
 * checks, ownership (flush and delete never touch someone else's),
 * error hints, and expire events.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/secret.h"
#include "conf/proposal.h"
#include "xfrm/xfrm-internal.h"

/* ---------------------------------------------------------- fixtures */

static char logbuf[8192];

static void sink(int prio, const char *line, void *arg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

struct fix {
	struct xfrm *x;
	struct cgw_secret k16, k20, k32, k36, k48, k64;
};

static void secret_of(struct cgw_secret *s, size_t len)
{
	unsigned char buf[64];

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i + 1);
	assert_int_equal(secret_set(s, buf, len), 0);
}

static int setup(void **state)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(secret_init(), 0);
	assert_int_equal(xfrm_open_fake(&f.x), 0);
	secret_of(&f.k16, 16);
	secret_of(&f.k20, 20);
	secret_of(&f.k32, 32);
	secret_of(&f.k36, 36);
	secret_of(&f.k48, 48);
	secret_of(&f.k64, 64);
	logbuf[0] = '\0';
	log_set_sink(sink, NULL);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	xfrm_close(f->x);
	secret_clear(&f->k16);
	secret_clear(&f->k20);
	secret_clear(&f->k32);
	secret_clear(&f->k36);
	secret_clear(&f->k48);
	secret_clear(&f->k64);
	log_set_sink(NULL, NULL);
	return 0;
}

static struct cgw_addr v4(const char *s)
{
	struct cgw_addr a = { .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, s, &a.v4), 1);
	return a;
}

static struct cgw_prefix any4(void)
{
	struct cgw_prefix p = { .addr = { .family = AF_INET }, .len = 0 };

	return p;
}

/* Outbound AES-GCM-256, the AWS default shape. */
static struct xfrm_sa gcm_sa(struct fix *f)
{
	struct xfrm_sa sa = {
		.dir = XFRM_DIR_OUT,
		.src = v4("192.0.2.1"), .dst = v4("192.0.2.2"),
		.spi = 0x1001, .reqid = CGW_XFRM_REQID(1),
		.mark = 100, .mark_mask = 0xffffffff,
		.encr = IKE_ENCR_AES_GCM_16, .encr_keylen = 256, .encr_key = &f->k36,
		.replay_window = 1024,
		.lifetime = { .soft_secs = 2700, .hard_secs = 3000 },
	};

	return sa;
}

static struct xfrm_sa cbc_sa(struct fix *f, uint16_t integ, const struct cgw_secret *ik)
{
	struct xfrm_sa sa = gcm_sa(f);

	sa.encr = IKE_ENCR_AES_CBC;
	sa.encr_key = &f->k32;
	sa.integ = integ;
	sa.integ_key = ik;
	sa.replay_window = 32;
	memset(&sa.lifetime, 0, sizeof(sa.lifetime));
	return sa;
}

static struct xfrm_sp out_sp(void)
{
	struct xfrm_sp sp = {
		.dir = XFRM_DIR_OUT, .sel_src = any4(), .sel_dst = any4(),
		.tmpl_src = v4("192.0.2.1"), .tmpl_dst = v4("192.0.2.2"),
		.reqid = CGW_XFRM_REQID(1), .mark = 100, .mark_mask = 0xffffffff,
	};

	return sp;
}

/* ------------------------------------------------------------- states */

static void test_state_add_gcm_line(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa sa = gcm_sa(f);

	assert_int_equal(xfrm_state_add(f->x, &sa), 0);
	assert_string_equal(xfrm_fake_log(f->x),
		"state add out src=192.0.2.1 dst=192.0.2.2 spi=0x00001001 reqid=0x7c6e0001 "
		"mark=100/0xffffffff enc=rfc4106(gcm(aes)) keylen=288 icv=128 replay=1024 "
		"soft-secs=2700 hard-secs=3000\n");
}

/* IANA INTEG id -> kernel name, key and truncation (RFC 2404, RFC 4868). */
static void test_integ_table(void **state)
{
	struct fix *f = *state;
	const struct {
		uint16_t id;
		const struct cgw_secret *key;
		const char *want;
	} cases[] = {
		{ IKE_INTEG_HMAC_SHA1_96, &f->k20, "auth=hmac(sha1) authkeylen=160 trunc=96" },
		{ IKE_INTEG_HMAC_SHA2_256_128, &f->k32, "auth=hmac(sha256) authkeylen=256 trunc=128" },
		{ IKE_INTEG_HMAC_SHA2_384_192, &f->k48, "auth=hmac(sha384) authkeylen=384 trunc=192" },
		{ IKE_INTEG_HMAC_SHA2_512_256, &f->k64, "auth=hmac(sha512) authkeylen=512 trunc=256" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfrm_sa sa = cbc_sa(f, cases[i].id, cases[i].key);
		struct xfrm_kalg k;

		sa.spi = 0x2000 + (uint32_t)i;
		xfrm_fake_log_clear(f->x);
		assert_int_equal(xfrm_state_add(f->x, &sa), 0);
		assert_non_null(strstr(xfrm_fake_log(f->x), "enc=cbc(aes) keylen=256 "));
		assert_non_null(strstr(xfrm_fake_log(f->x), cases[i].want));
		assert_int_equal(xfrm_kalg_map(&sa, &k), 0);
		assert_false(k.aead);
	}
}

static void test_alloc_then_update(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa in = gcm_sa(f);
	struct xfrm_list l;

	in.dir = XFRM_DIR_IN;
	in.src = v4("192.0.2.2");
	in.dst = v4("192.0.2.1");
	in.spi = 0;
	assert_int_equal(xfrm_alloc_spi(f->x, &in), 0);
	assert_true(in.spi >= CGW_XFRM_SPI_MIN);
	assert_int_equal(xfrm_state_update(f->x, &in), 0);
	assert_int_equal(xfrm_list(f->x, true, &l), 0);
	assert_int_equal(l.n_states, 1);	/* the larval state was replaced */
	assert_int_equal(l.states[0].id.spi, in.spi);
	assert_true(l.states[0].owned);
	xfrm_list_free(&l);
	/* Updating a state nobody allocated: ESRCH, with the larval hint. */
	in.spi = 0x5555;
	assert_int_equal(xfrm_state_update(f->x, &in), -ESRCH);
	assert_non_null(strstr(logbuf, "xfrm_acq_expires"));
}

static void test_duplicate_add(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa sa = gcm_sa(f);
	struct xfrm_list l;

	assert_int_equal(xfrm_state_add(f->x, &sa), 0);
	assert_int_equal(xfrm_state_add(f->x, &sa), -EEXIST);
	assert_non_null(strstr(logbuf, "already exists"));
	assert_int_equal(xfrm_list(f->x, true, &l), 0);
	assert_int_equal(l.n_states, 1);
	xfrm_list_free(&l);
}

struct bad_case {
	const char *why;		/* expected in the log line */
	void (*edit)(struct xfrm_sa *sa, struct fix *f);
};

static void e_gcm_integ(struct xfrm_sa *sa, struct fix *f)
{
	sa->integ = IKE_INTEG_HMAC_SHA2_256_128;
	sa->integ_key = &f->k32;
}
static void e_gcm_nosalt(struct xfrm_sa *sa, struct fix *f) { sa->encr_key = &f->k32; }
static void e_nokey(struct xfrm_sa *sa, struct fix *f) { sa->encr_key = NULL; }
static void e_keylen(struct xfrm_sa *sa, struct fix *f) { sa->encr_keylen = 64; }
static void e_cbc_nointeg(struct xfrm_sa *sa, struct fix *f)
{
	sa->encr = IKE_ENCR_AES_CBC;
	sa->encr_key = &f->k32;
}
static void e_cbc_badikey(struct xfrm_sa *sa, struct fix *f)
{
	e_cbc_nointeg(sa, f);
	sa->integ = IKE_INTEG_HMAC_SHA2_256_128;
	sa->integ_key = &f->k20;
}
static void e_cbc_unkinteg(struct xfrm_sa *sa, struct fix *f)
{
	e_cbc_nointeg(sa, f);
	sa->integ = 5;
	sa->integ_key = &f->k32;
}
static void e_encr(struct xfrm_sa *sa, struct fix *f) { sa->encr = 3; }
static void e_spi(struct xfrm_sa *sa, struct fix *f) { sa->spi = 0xff; }
static void e_reqid(struct xfrm_sa *sa, struct fix *f) { sa->reqid = 1; }
static void e_mark(struct xfrm_sa *sa, struct fix *f) { sa->mark_mask = 0; }
static void e_replay(struct xfrm_sa *sa, struct fix *f) { sa->replay_window = 4097; }
static void e_esn0(struct xfrm_sa *sa, struct fix *f)
{
	sa->esn = true;
	sa->replay_window = 0;
}
static void e_life(struct xfrm_sa *sa, struct fix *f) { sa->lifetime.soft_secs = 3001; }
static void e_encap(struct xfrm_sa *sa, struct fix *f) { sa->encap_dport = 4500; }
static void e_family(struct xfrm_sa *sa, struct fix *f) { sa->dst.family = AF_INET6; }

static void test_refused(void **state)
{
	struct fix *f = *state;
	static const struct bad_case cases[] = {
		{ "AES-GCM takes no separate integrity", e_gcm_integ },
		{ "4-byte salt", e_gcm_nosalt },
		{ "4-byte salt", e_nokey },
		{ "128, 192 or 256", e_keylen },
		{ "AES-CBC needs an integrity", e_cbc_nointeg },
		{ "integrity key length", e_cbc_badikey },
		{ "integrity algorithm not supported", e_cbc_unkinteg },
		{ "encryption algorithm not supported", e_encr },
		{ "SPI below 0x100", e_spi },
		{ "reqid outside cgw's range", e_reqid },
		{ "no mark", e_mark },
		{ "above 4096", e_replay },
		{ "ESN needs a replay window", e_esn0 },
		{ "soft lifetime above", e_life },
		{ "both ports", e_encap },
		{ "both IPv4 or both IPv6", e_family },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfrm_sa sa = gcm_sa(f);

		cases[i].edit(&sa, f);
		logbuf[0] = '\0';
		xfrm_fake_log_clear(f->x);
		assert_int_equal(xfrm_state_add(f->x, &sa), -EINVAL);
		if (!strstr(logbuf, cases[i].why))
			fail_msg("case %zu: want \"%s\" in log: %s", i, cases[i].why, logbuf);
		assert_string_equal(xfrm_fake_log(f->x), "");	/* kernel never asked */
	}
}

/* Kernel errors come back as log lines saying what to do. */
static void test_error_hints(void **state)
{
	struct fix *f = *state;
	const struct {
		int err;
		const char *hint;
	} cases[] = {
		{ -EPROTONOSUPPORT, "modprobe esp4" },
		{ -ENOSYS, "modprobe esp4" },
		{ -ENOENT, "modprobe esp4" },	/* on add: the algorithm lookup */
		{ -EPERM, "CAP_NET_ADMIN" },
		{ -ENOBUFS, "ENOBUFS" },
		{ -EEXIST, "already exists" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfrm_sa sa = gcm_sa(f);

		sa.spi = 0x3000 + (uint32_t)i;
		logbuf[0] = '\0';
		xfrm_fake_fail_next(f->x, "state add", cases[i].err);
		assert_int_equal(xfrm_state_add(f->x, &sa), cases[i].err);
		assert_non_null(strstr(logbuf, cases[i].hint));
		assert_non_null(strstr(logbuf, "spi=0x0000300"));
	}
	assert_non_null(strstr(xfrm_strerror(-ESRCH), "no such"));
	assert_string_equal(xfrm_strerror(-EMLINK), strerror(EMLINK));
}

static void test_counters(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa sa = gcm_sa(f);
	struct xfrm_said id = { .dst = sa.dst, .spi = sa.spi, .mark = 100, .mark_mask = ~0u };
	struct xfrm_state_info st;

	assert_int_equal(xfrm_state_add(f->x, &sa), 0);
	assert_int_equal(xfrm_fake_set_counters(f->x, &id, 4200, 42), 0);
	assert_int_equal(xfrm_state_get(f->x, &id, &st), 0);
	assert_int_equal(st.cnt.bytes, 4200);
	assert_int_equal(st.cnt.packets, 42);
	assert_int_equal(st.reqid, CGW_XFRM_REQID(1));
	/* Another mark does not find it. */
	id.mark = 200;
	assert_int_equal(xfrm_state_get(f->x, &id, &st), -ESRCH);
}

/* ----------------------------------------------------------- ownership */

static void insert_foreign(struct fix *f)
{
	struct xfrm_state_info st = {
		.id = { .dst = v4("192.0.2.2"), .spi = 0x1001, .mark = 7, .mark_mask = ~0u },
		.src = v4("192.0.2.1"), .reqid = 5,
	};
	struct xfrm_policy_info pi = { .sp = out_sp(), .priority = 0 };

	pi.sp.mark = 7;
	pi.sp.reqid = 5;
	assert_int_equal(xfrm_fake_insert_state(f->x, &st), 0);
	assert_int_equal(xfrm_fake_insert_policy(f->x, &pi), 0);
}

static void test_flush_owned_only(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa sa = gcm_sa(f), in = gcm_sa(f);
	struct xfrm_sp sp = out_sp();
	struct xfrm_list l;

	insert_foreign(f);
	in.spi = 0;
	assert_int_equal(xfrm_state_add(f->x, &sa), 0);
	assert_int_equal(xfrm_alloc_spi(f->x, &in), 0);		/* larval, owned */
	assert_int_equal(xfrm_policy_add(f->x, &sp), 0);
	sp.dir = XFRM_DIR_IN;
	assert_int_equal(xfrm_policy_add(f->x, &sp), 0);
	assert_int_equal(xfrm_flush_owned(f->x), 4);
	assert_int_equal(xfrm_list(f->x, false, &l), 0);
	assert_int_equal(l.n_states, 1);
	assert_int_equal(l.states[0].reqid, 5);
	assert_false(l.states[0].owned);
	assert_int_equal(l.n_policies, 1);
	assert_int_equal(l.policies[0].priority, 0);
	xfrm_list_free(&l);
	assert_int_equal(xfrm_flush_owned(f->x), 0);	/* idempotent */
}

static void test_delete_refuses_foreign(void **state)
{
	struct fix *f = *state;
	struct xfrm_said id = { .dst = v4("192.0.2.2"), .spi = 0x1001, .mark = 7,
				.mark_mask = ~0u };
	struct xfrm_sp sp = out_sp();
	struct xfrm_list l;

	insert_foreign(f);
	assert_int_equal(xfrm_state_del(f->x, &id), -ESRCH);
	assert_non_null(strstr(logbuf, "not cgw's: left alone"));
	sp.mark = 7;
	sp.reqid = CGW_XFRM_REQID(1);
	assert_int_equal(xfrm_policy_del(f->x, &sp), -ESRCH);
	assert_non_null(strstr(logbuf, "priority 0 is not cgw's"));
	assert_int_equal(xfrm_list(f->x, false, &l), 0);
	assert_int_equal(l.n_states + l.n_policies, 2);
	xfrm_list_free(&l);
}

/* Updates replace what the kernel finds under the key: never a foreign one. */
static void test_update_refuses_foreign(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa sa = gcm_sa(f);
	struct xfrm_sp sp = out_sp();
	struct xfrm_list l;

	insert_foreign(f);		/* state 192.0.2.2/0x1001 and a policy, mark 7 */
	sa.mark = 7;
	assert_int_equal(xfrm_state_update(f->x, &sa), -EEXIST);
	assert_non_null(strstr(logbuf, "reqid 0x5, not cgw's"));
	sp.mark = 7;
	assert_int_equal(xfrm_policy_update(f->x, &sp), -EEXIST);
	assert_non_null(strstr(logbuf, "priority 0, not cgw's"));
	assert_null(strstr(xfrm_fake_log(f->x), "state update"));
	assert_null(strstr(xfrm_fake_log(f->x), "policy update"));
	assert_int_equal(xfrm_list(f->x, false, &l), 0);
	assert_int_equal(l.n_states + l.n_policies, 2);
	assert_false(l.states[0].owned);
	assert_false(l.policies[0].owned);
	xfrm_list_free(&l);
}

static void test_policy_lifecycle(void **state)
{
	struct fix *f = *state;
	struct xfrm_sp sp = out_sp();
	struct xfrm_list l;

	assert_int_equal(xfrm_policy_add(f->x, &sp), 0);
	assert_int_equal(xfrm_policy_add(f->x, &sp), -EEXIST);
	assert_int_equal(xfrm_policy_update(f->x, &sp), 0);
	assert_int_equal(xfrm_list(f->x, true, &l), 0);
	assert_int_equal(l.n_policies, 1);		/* no duplicate */
	assert_int_equal(l.policies[0].priority, CGW_XFRM_PRIORITY);
	xfrm_list_free(&l);
	assert_int_equal(xfrm_policy_del(f->x, &sp), 0);
	assert_int_equal(xfrm_policy_del(f->x, &sp), -ENOENT);
	assert_non_null(strstr(xfrm_fake_log(f->x),
		"policy add out src=0.0.0.0/0 dst=0.0.0.0/0 tmpl=192.0.2.1->192.0.2.2 "
		"reqid=0x7c6e0001 mark=100/0xffffffff\n"));
	sp.reqid = 7;
	assert_int_equal(xfrm_policy_add(f->x, &sp), -EINVAL);
}

/* -------------------------------------------------------------- events */

struct seen {
	int n;
	struct xfrm_event last;
};

static void on_event(const struct xfrm_event *ev, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->last = *ev;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void test_events(void **state)
{
	struct fix *f = *state;
	struct xfrm_sa sa = gcm_sa(f);
	struct xfrm_said id = { .dst = sa.dst, .spi = sa.spi, .mark = 100, .mark_mask = ~0u };
	struct xfrm_said foreign = { .dst = v4("192.0.2.2"), .spi = 0x1001, .mark = 7,
				     .mark_mask = ~0u };
	struct xfrm_state_info st;
	struct seen s = { 0 };

	insert_foreign(f);
	assert_int_equal(xfrm_state_add(f->x, &sa), 0);
	assert_false(readable(xfrm_events_fd(f->x)));
	assert_int_equal(xfrm_fake_expire(f->x, &id, false), 0);
	assert_int_equal(xfrm_fake_expire(f->x, &foreign, false), 0);
	assert_true(readable(xfrm_events_fd(f->x)));
	assert_int_equal(xfrm_events_read(f->x, on_event, &s), 1);	/* foreign dropped */
	assert_int_equal(s.last.type, XFRM_EVENT_EXPIRE_SOFT);
	assert_int_equal(s.last.id.spi, 0x1001);
	assert_int_equal(s.last.id.mark, 100);
	assert_false(readable(xfrm_events_fd(f->x)));
	assert_int_equal(xfrm_fake_expire(f->x, &id, true), 0);
	assert_int_equal(xfrm_events_read(f->x, on_event, &s), 1);
	assert_int_equal(s.last.type, XFRM_EVENT_EXPIRE_HARD);
	assert_int_equal(xfrm_state_get(f->x, &id, &st), -ESRCH);	/* hard: gone */
	assert_string_equal(xfrm_event_name(XFRM_EVENT_EXPIRE_SOFT), "expire-soft");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_add_gcm_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_integ_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_then_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_owned_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_refuses_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_refuses_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
