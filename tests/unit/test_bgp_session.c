/*
 * BGP sessions end to end inside one process: two speakers on one libev
 * loop over loopback TCP (127.0.0.1 and 127.0.0.2, a high port), each
 * with a fake FIB. The FSM's transition table, establishment, routes both
 * ways with export policy (RFC 8212 default, prepend, MED), withdrawal
 * when a speaker goes, max-prefix-in, a wrong peer AS, and both sides
 * opening at once (collision: one session remains).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/speaker-int.h"
#include "common/log.h"
#include "conf/conf.h"

static unsigned port;

struct side;
static void side_stop(struct side *s);

struct side {
	struct cgw_conf *conf;
	struct fib_backend *fib;	/* owned by the speaker */
	struct bgp_speaker *sp;
};

static struct side v[2];		/* the test's two speakers (teardown frees) */

static struct cgw_conf *load(const char *text)
{
	struct conf_diag diag = { 0 };
	struct cgw_conf *c = conf_load_buffer("test.conf", text, strlen(text), 0, &diag);

	if (!c)
		conf_diag_print(stderr, &diag);
	conf_diag_free(&diag);
	assert_non_null(c);
	return c;
}

/* me: 1 or 2 (127.0.0.me), the other end is 3 - me. extra: neighbor keys. */
static void side_start(struct side *s, int me, uint32_t asn, uint32_t peer_asn,
		       const char *networks, const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "[gateway]\ncontrol-socket = /tmp/unused-%d.sock\nlocal-address = 127.0.0.%d\n"
		 "[bgp]\nasn = %u\nrouter-id = 10.0.0.%d\n%s"
		 "network-mode = always\nlisten-port = %u\n"
		 "[neighbor peer]\naddress = 127.0.0.%d\nremote-asn = %u\n"
		 "local-address = 127.0.0.%d\nport = %u\nhold-time = 9s\n%s",
		 me, me, asn, me, networks, port, 3 - me, peer_asn, me, port, extra);
	s->conf = load(text);
	assert_int_equal(fib_fake_open(&s->fib), 0);
	assert_int_equal(bgp_speaker_new(&s->sp, EV_DEFAULT, s->conf, s->fib), 0);
}

static void side_stop(struct side *s)
{
	if (!s->conf)
		return;
	bgp_speaker_free(s->sp);
	s->sp = NULL;
	conf_free(s->conf);
	s->conf = NULL;
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	*(bool *)w->data = true;
}

/* Run the loop until cond(arg) holds or secs pass; returns cond's last value. */
static bool run_until(bool (*cond)(void *), void *arg, double secs)
{
	ev_timer t;
	bool expired = false;

	ev_timer_init(&t, on_deadline, secs, 0);
	t.data = &expired;
	ev_timer_start(EV_DEFAULT, &t);
	while (!(cond && cond(arg)) && !expired)
		ev_run(EV_DEFAULT, EVRUN_ONCE);
	ev_timer_stop(EV_DEFAULT, &t);
	return cond ? cond(arg) : true;
}

static struct bgp_peer *peer_of(struct side *s)
{
	return s->sp->peers;
}

static bool both_established(void *arg)
{
	struct side *s = arg;

	return peer_of(&s[0])->est && peer_of(&s[1])->est;
}

static size_t kernel_routes(struct side *s)
{
	return fib_fake_count(s->fib);
}

struct want_routes {
	struct side *s;
	size_t n;
};

static bool has_routes(void *arg)
{
	struct want_routes *w = arg;

	return kernel_routes(w->s) == w->n;
}

/* The JSON of the one path to prefix in s's Loc-RIB, or NULL. */
static struct json_object *path_to(struct side *s, const char *prefix, struct json_object **all)
{
	struct json_object *res = bgp_speaker_routes(s->sp), *routes;

	*all = res;
	json_object_object_get_ex(res, "routes", &routes);
	for (size_t i = 0; i < json_object_array_length(routes); i++) {
		struct json_object *r = json_object_array_get_idx(routes, i), *p, *paths;

		json_object_object_get_ex(r, "prefix", &p);
		if (strcmp(json_object_get_string(p), prefix) != 0)
			continue;
		json_object_object_get_ex(r, "paths", &paths);
		return json_object_array_get_idx(paths, 0);
	}
	return NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *val;

	return json_object_object_get_ex(o, key, &val) ? json_object_get_string(val) : NULL;
}

/* ---- the transition table ---- */

static void test_fsm_table(void **state)
{
	/* every (state, event): defined or an FSM error, and where it goes */
	static const struct {
		enum bgp_state s;
		enum bgp_event e;
		bool defined;
		enum bgp_state next;
	} want[] = {
		{ BGP_ST_CONNECT, BGP_EV_TCP_OK, true, BGP_ST_OPENSENT },
		{ BGP_ST_CONNECT, BGP_EV_TCP_FAIL, true, BGP_ST_IDLE },
		{ BGP_ST_CONNECT, BGP_EV_STOP, true, BGP_ST_IDLE },
		{ BGP_ST_OPENSENT, BGP_EV_OPEN, true, BGP_ST_OPENCONFIRM },
		{ BGP_ST_OPENSENT, BGP_EV_NOTIFICATION, true, BGP_ST_IDLE },
		{ BGP_ST_OPENSENT, BGP_EV_HOLD_EXPIRED, true, BGP_ST_IDLE },
		{ BGP_ST_OPENSENT, BGP_EV_TCP_FAIL, true, BGP_ST_IDLE },
		{ BGP_ST_OPENSENT, BGP_EV_STOP, true, BGP_ST_IDLE },
		{ BGP_ST_OPENCONFIRM, BGP_EV_KEEPALIVE, true, BGP_ST_ESTABLISHED },
		{ BGP_ST_OPENCONFIRM, BGP_EV_KEEPALIVE_TIMER, true, BGP_ST_OPENCONFIRM },
		{ BGP_ST_OPENCONFIRM, BGP_EV_NOTIFICATION, true, BGP_ST_IDLE },
		{ BGP_ST_OPENCONFIRM, BGP_EV_HOLD_EXPIRED, true, BGP_ST_IDLE },
		{ BGP_ST_OPENCONFIRM, BGP_EV_TCP_FAIL, true, BGP_ST_IDLE },
		{ BGP_ST_OPENCONFIRM, BGP_EV_STOP, true, BGP_ST_IDLE },
		{ BGP_ST_ESTABLISHED, BGP_EV_KEEPALIVE, true, BGP_ST_ESTABLISHED },
		{ BGP_ST_ESTABLISHED, BGP_EV_UPDATE, true, BGP_ST_ESTABLISHED },
		{ BGP_ST_ESTABLISHED, BGP_EV_ROUTE_REFRESH, true, BGP_ST_ESTABLISHED },
		{ BGP_ST_ESTABLISHED, BGP_EV_KEEPALIVE_TIMER, true, BGP_ST_ESTABLISHED },
		{ BGP_ST_ESTABLISHED, BGP_EV_NOTIFICATION, true, BGP_ST_IDLE },
		{ BGP_ST_ESTABLISHED, BGP_EV_HOLD_EXPIRED, true, BGP_ST_IDLE },
		{ BGP_ST_ESTABLISHED, BGP_EV_TCP_FAIL, true, BGP_ST_IDLE },
		{ BGP_ST_ESTABLISHED, BGP_EV_STOP, true, BGP_ST_IDLE },
	};
	unsigned defined = 0;

	for (int s = 0; s < BGP_ST_COUNT; s++) {
		for (int e = 0; e < BGP_EV_COUNT; e++) {
			bool def, expect_def = false;
			enum bgp_state next = bgp_fsm_next(s, e, &def), expect_next = BGP_ST_IDLE;

			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (want[i].s == (enum bgp_state)s && want[i].e == (enum bgp_event)e) {
					expect_def = want[i].defined;
					expect_next = want[i].next;
				}
			if (def != expect_def || (def && next != expect_next))
				fail_msg("%s on %s: %s -> %s, expected %s -> %s", bgp_state_name(s),
					 bgp_event_name(e), def ? "defined" : "FSM error",
					 bgp_state_name(next), expect_def ? "defined" : "FSM error",
					 bgp_state_name(expect_next));
			/* an FSM error always ends the connection */
			if (!def)
				assert_int_equal(next, BGP_ST_IDLE);
			defined += def;
		}
	}
	assert_int_equal(defined, sizeof(want) / sizeof(want[0]));
	/* out of range is an error, not a crash */
	{
		bool def = true;
		assert_int_equal(bgp_fsm_next(BGP_ST_COUNT, 0, &def), BGP_ST_IDLE);
		assert_false(def);
	}
}

/* ---- sessions ---- */

static void test_routes_both_ways(void **state)
{
	struct want_routes w0 = { &v[0], 2 }, w1 = { &v[1], 1 };
	struct json_object *all, *p;

	side_start(&v[0], 1, 65000, 64512, "network = 10.1.0.0/24\n",
		   "export = local\nprepend = 2\nmed = 50\n");
	side_start(&v[1], 2, 64512, 65000, "network = 10.2.0.0/24, 10.2.1.0/24\n",
		   "export = local\n");
	assert_true(run_until(both_established, v, 10));
	assert_true(run_until(has_routes, &w0, 5));
	assert_true(run_until(has_routes, &w1, 5));
	assert_non_null(strstr(fib_fake_log(v[0].fib), "10.2.0.0/24"));
	assert_non_null(strstr(fib_fake_log(v[0].fib), "via 127.0.0.2"));

	/* what 2 learned from 1: our AS three times (prepend 2), MED 50 */
	p = path_to(&v[1], "10.1.0.0/24", &all);
	assert_non_null(p);
	assert_string_equal(jstr(p, "as_path"), "65000 65000 65000");
	assert_string_equal(jstr(p, "med"), "50");
	assert_string_equal(jstr(p, "next_hop"), "127.0.0.1");
	json_object_put(all);
	p = path_to(&v[0], "10.2.1.0/24", &all);
	assert_non_null(p);
	assert_string_equal(jstr(p, "as_path"), "64512");
	assert_null(jstr(p, "med"));
	json_object_put(all);

	/* 2 goes away (Cease): 1 withdraws what it learned from the kernel */
	side_stop(&v[1]);
	w0.n = 0;
	assert_true(run_until(has_routes, &w0, 5));
	assert_null(peer_of(&v[0])->est);
	assert_non_null(strstr(peer_of(&v[0])->last_error, "Cease"));
	side_stop(&v[0]);
}

static void test_rfc8212_default(void **state)
{
	struct want_routes w0 = { &v[0], 1 };

	/* 2 has no export line: it announces nothing */
	side_start(&v[0], 1, 65000, 64512, "network = 10.1.0.0/24\n", "export = local\n");
	side_start(&v[1], 2, 64512, 65000, "network = 10.2.0.0/24\n", "");
	assert_true(run_until(both_established, v, 10));
	assert_true(run_until(NULL, NULL, 0.5));
	assert_int_equal(kernel_routes(&v[0]), 0);
	assert_int_equal(peer_of(&v[1])->n_out, 0);
	w0.s = &v[1];
	assert_true(run_until(has_routes, &w0, 5));	/* the other way works */
	side_stop(&v[1]);
	side_stop(&v[0]);
}

struct want_error {
	struct side *s;
	const char *text;
};

static bool has_error(void *arg)
{
	struct want_error *w = arg;
	struct bgp_peer *p = peer_of(w->s);

	return !p->est && strstr(p->last_error, w->text);
}

static void wait_error(struct side *s, const char *text)
{
	struct want_error w = { s, text };

	if (!run_until(has_error, &w, 5))
		fail_msg("expected an error with \"%s\", last error \"%s\"", text,
			 peer_of(s)->last_error);
}

static void test_max_prefix_in(void **state)
{

	side_start(&v[0], 1, 65000, 64512, "", "max-prefix-in = 2\n");
	side_start(&v[1], 2, 64512, 65000,
		   "network = 10.2.0.0/24, 10.2.1.0/24, 10.2.2.0/24\n", "export = local\n");
	wait_error(&v[0], "more than max-prefix-in 2 prefixes");
	assert_non_null(strstr(peer_of(&v[0])->last_error, "Maximum Number of Prefixes"));
	wait_error(&v[1], "received Cease/Maximum Number of Prefixes Reached");
	/* nothing half-installed stays, and no new session for a while */
	assert_true(run_until(NULL, NULL, 2.5));
	assert_int_equal(kernel_routes(&v[0]), 0);
	assert_int_equal(peer_of(&v[0])->established_count, 1);
	assert_null(peer_of(&v[0])->est);
}

static void test_bad_peer_as(void **state)
{

	side_start(&v[0], 1, 65000, 64999, "", "");	/* expects the wrong AS */
	side_start(&v[1], 2, 64512, 65000, "", "");
	wait_error(&v[0], "OPEN from AS 64512, expected AS 64999");
	wait_error(&v[1], "received OPEN Message Error/Bad Peer AS");
	assert_int_equal(peer_of(&v[0])->established_count, 0);
}

static void test_collision(void **state)
{
	/* both open at once, every time: one session, kept */
	for (int round = 0; round < 3; round++) {
	
		side_start(&v[0], 1, 65000, 64512, "", "");
		side_start(&v[1], 2, 64512, 65000, "", "");
		assert_true(run_until(both_established, v, 10));
		assert_true(run_until(NULL, NULL, 0.3));
		assert_true(both_established(v));
		assert_int_equal(peer_of(&v[0])->established_count, 1);
		assert_int_equal(peer_of(&v[1])->established_count, 1);
		/* the same TCP connection at both ends */
		assert_int_equal(peer_of(&v[0])->est->outgoing, !peer_of(&v[1])->est->outgoing);
		/* the survivor is the one opened by the higher identifier (10.0.0.2) */
		assert_true(peer_of(&v[1])->est->outgoing);
		side_stop(&v[1]);
		side_stop(&v[0]);
	}
}

static bool stale_routes(void *arg)
{
	struct rib_peer_counts rc = { 0 };
	struct bgp_peer *p = peer_of(arg);

	if (p->rp)
		rib_peer_counts(p->rp, &rc);
	return !p->est && rc.stale > 0;
}

static bool fresh_again(void *arg)
{
	struct rib_peer_counts rc = { 0 };
	struct bgp_peer *p = peer_of(arg);

	if (p->rp)
		rib_peer_counts(p->rp, &rc);
	return p->est && rc.stale == 0 && rc.received == 2;
}

/* RFC 4724 helper: the TCP session dies without a NOTIFICATION (the peer
 * restarts): its routes stay, stale, until it is back and sends End-of-RIB. */
static void test_graceful_restart_helper(void **state)
{
	struct want_routes w0 = { &v[0], 2 };

	side_start(&v[0], 1, 65000, 64512, "", "");
	/* the peer says it keeps forwarding for 30 s over a restart */
	side_start(&v[1], 2, 64512, 65000,
		   "network = 10.2.0.0/24, 10.2.1.0/24\nrestart-time = 30s\n",
		   "export = local\n");
	assert_true(run_until(both_established, v, 10));
	assert_true(run_until(has_routes, &w0, 5));
	assert_true(peer_of(&v[0])->peer_gr);
	assert_int_equal(peer_of(&v[0])->peer_gr_time, 30);

	/* the peer's TCP goes away without a word */
	shutdown(peer_of(&v[1])->est->fd, SHUT_RDWR);
	assert_true(run_until(stale_routes, &v[0], 5));
	assert_int_equal(kernel_routes(&v[0]), 2);	/* still forwarding */
	assert_true(run_until(fresh_again, &v[0], 10));
	assert_int_equal(kernel_routes(&v[0]), 2);
	assert_int_equal(peer_of(&v[0])->established_count, 2);
}

static void test_reset_and_status(void **state)
{
	struct json_object *arr = json_object_new_array(), *o, *x;
	char err[128];

	side_start(&v[0], 1, 65000, 64512, "", "");
	side_start(&v[1], 2, 64512, 65000, "", "");
	assert_true(run_until(both_established, v, 10));
	bgp_speaker_status(v[0].sp, arr);
	assert_int_equal(json_object_array_length(arr), 1);
	o = json_object_array_get_idx(arr, 0);
	assert_string_equal(jstr(o, "state"), "Established");
	assert_string_equal(jstr(o, "type"), "ebgp");
	assert_true(json_object_object_get_ex(o, "hold_time", &x));
	assert_int_equal(json_object_get_int(x), 9);
	json_object_put(arr);

	assert_int_equal(bgp_speaker_control(v[0].sp, "reset", "nope", err, sizeof(err)), -ENOENT);
	assert_int_equal(bgp_speaker_control(v[0].sp, "reset", "peer", err, sizeof(err)), 0);
	assert_null(peer_of(&v[0])->est);
	assert_true(run_until(both_established, v, 10));
	assert_int_equal(peer_of(&v[0])->established_count, 2);
	assert_int_equal(bgp_speaker_control(v[0].sp, "refresh", "peer", err, sizeof(err)), 0);
	assert_true(run_until(NULL, NULL, 0.2));
	assert_true(both_established(v));
	side_stop(&v[1]);
	side_stop(&v[0]);
}

static int setup(void **state)
{
	port++;				/* a fresh port: no TIME_WAIT, no leftovers */
	memset(v, 0, sizeof(v));
	return 0;
}

static int teardown(void **state)
{
	side_stop(&v[1]);
	side_stop(&v[0]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fsm_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc8212_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_prefix_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_peer_as, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_graceful_restart_helper, setup, teardown),
	};

	log_init("test_bgp_session", getenv("CGW_TEST_VERBOSE") ? 1 : -1);
	if (getenv("CGW_TEST_VERBOSE"))
		log_debug_enable("bgp");
	port = 20000 + (unsigned)getpid() % 20000;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
