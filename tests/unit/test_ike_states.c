/*
 * The IKE SA and CHILD SA state machines (ike/sa.c), walked entry by
 * entry: for every (from, to) pair the table must agree with the
 * diagram in ike/ike-internal.h, restated here on its own, and the one
 * function that changes states must take every allowed transition (with
 * its entry actions and its log line) and refuse every other one,
 * leaving the state as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/ike_harness.h"

#define IKE(s) IKE_SA_##s
#define CHILD(s) CHILD_SA_##s

struct edge {
	int from, to;
};

/* ike-internal.h's diagram. */
static const struct edge ike_edges[] = {
	{ IKE(IDLE), IKE(INIT_SENT) }, { IKE(IDLE), IKE(INIT_DONE) },
	{ IKE(IDLE), IKE(ESTABLISHED) }, { IKE(IDLE), IKE(REKEYED) },
	{ IKE(IDLE), IKE(DELETING) }, { IKE(IDLE), IKE(DEAD) },
	{ IKE(INIT_SENT), IKE(INIT_SENT) }, { IKE(INIT_SENT), IKE(AUTH_SENT) },
	{ IKE(INIT_SENT), IKE(DEAD) },
	{ IKE(AUTH_SENT), IKE(ESTABLISHED) }, { IKE(AUTH_SENT), IKE(DELETING) },
	{ IKE(AUTH_SENT), IKE(DEAD) },
	{ IKE(INIT_DONE), IKE(ESTABLISHED) }, { IKE(INIT_DONE), IKE(DEAD) },
	{ IKE(ESTABLISHED), IKE(REKEYING) }, { IKE(ESTABLISHED), IKE(REKEYED) },
	{ IKE(ESTABLISHED), IKE(DELETING) }, { IKE(ESTABLISHED), IKE(DEAD) },
	{ IKE(REKEYING), IKE(ESTABLISHED) }, { IKE(REKEYING), IKE(REKEYED) },
	{ IKE(REKEYING), IKE(DELETING) }, { IKE(REKEYING), IKE(DEAD) },
	{ IKE(REKEYED), IKE(DELETING) }, { IKE(REKEYED), IKE(DEAD) },
	{ IKE(DELETING), IKE(DEAD) },
};

static const struct edge child_edges[] = {
	{ CHILD(CREATING), CHILD(INSTALLED) }, { CHILD(CREATING), CHILD(DEAD) },
	{ CHILD(INSTALLED), CHILD(REKEYING) }, { CHILD(INSTALLED), CHILD(REKEYED) },
	{ CHILD(INSTALLED), CHILD(DELETING) }, { CHILD(INSTALLED), CHILD(DEAD) },
	{ CHILD(REKEYING), CHILD(INSTALLED) }, { CHILD(REKEYING), CHILD(REKEYED) },
	{ CHILD(REKEYING), CHILD(DELETING) }, { CHILD(REKEYING), CHILD(DEAD) },
	{ CHILD(REKEYED), CHILD(DELETING) }, { CHILD(REKEYED), CHILD(DEAD) },
	{ CHILD(DELETING), CHILD(DEAD) },
};

static bool listed(const struct edge *e, size_t n, int from, int to)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].from == from && e[i].to == to)
			return true;
	return false;
}

static void expect_log(const char *what, const char *from, const char *to, bool taken)
{
	char line[160];

	if (taken)
		snprintf(line, sizeof(line), "%s -> %s (walk)", from, to);
	else
		snprintf(line, sizeof(line), "refused transition %s -> %s", from, to);
	if (!strstr(h_log(), line))
		fail_msg("%s %s -> %s: no \"%s\" in the log:\n%s", what, from, to, line, h_log());
}

/* Every (from, to) of the IKE SA table, through ike_sa_set_state(). */
static void test_walk_ike_sa_table(void **state)
{
	const size_t n_edges = sizeof(ike_edges) / sizeof(ike_edges[0]);
	struct harness h;
	size_t taken = 0;

	h_start(&h, NULL);
	struct ike_tunnel *tun = h.a.ike->tunnels;
	for (int from = 0; from < IKE_SA_STATE_COUNT; from++) {
		for (int to = 0; to < IKE_SA_STATE_COUNT; to++) {
			bool want = listed(ike_edges, n_edges, from, to);
			const char *f = ike_sa_state_name(from), *t = ike_sa_state_name(to);
			if (ike_sa_transition_ok(from, to) != want)
				fail_msg("IKE SA table: %s -> %s is %s", f, t,
					 want ? "missing" : "not in the diagram");
			struct ike_sa *sa = ike_sa_new(tun, true);
			unsigned half_open = h.a.ike->half_open;
			assert_non_null(sa);
			sa->state = from;
			h_log_clear();
			ike_sa_set_state(sa, to, "walk");
			assert_int_equal(sa->state, want ? to : from);
			expect_log("IKE SA", f, t, want);
			/* Entry actions of the states that have them. */
			if (want && to == IKE_SA_ESTABLISHED) {
				assert_true(ev_is_active(&sa->dpd_timer));
				assert_true(ev_is_active(&sa->ike_rekey_timer));
				assert_true(sa->established == h_now());
			}
			if (want && to == IKE_SA_INIT_DONE) {
				assert_int_equal(h.a.ike->half_open, half_open + 1);
				assert_true(ev_is_active(&sa->half_open_timer));
			}
			ike_sa_destroy(sa);
			assert_int_equal(h.a.ike->half_open, half_open);
			taken += want;
		}
	}
	assert_int_equal(taken, n_edges);
	h_stop(&h);
}

/* Every (from, to) of the CHILD SA table, through child_sa_set_state(). */
static void test_walk_child_sa_table(void **state)
{
	const size_t n_edges = sizeof(child_edges) / sizeof(child_edges[0]);
	struct harness h;
	size_t taken = 0;

	h_start(&h, NULL);
	for (int from = 0; from < CHILD_SA_STATE_COUNT; from++) {
		for (int to = 0; to < CHILD_SA_STATE_COUNT; to++) {
			bool want = listed(child_edges, n_edges, from, to);
			const char *f = child_sa_state_name(from), *t = child_sa_state_name(to);
			if (child_sa_transition_ok(from, to) != want)
				fail_msg("CHILD SA table: %s -> %s is %s", f, t,
					 want ? "missing" : "not in the diagram");
			struct child_sa *c = calloc(1, sizeof(*c));
			assert_non_null(c);
			c->ike = h_sa(&h.a);
			c->state = from;
			h_log_clear();
			child_sa_set_state(c, to, "walk");
			assert_int_equal(c->state, want ? to : from);
			expect_log("CHILD SA", f, t, want);
			free(c);
			taken += want;
		}
	}
	assert_int_equal(taken, n_edges);
	h_stop(&h);
}

/* Out-of-range states are refused, and names cover every state. */
static void test_state_bounds(void **state)
{
	for (int s = 0; s < IKE_SA_STATE_COUNT; s++) {
		assert_false(ike_sa_transition_ok(s, IKE_SA_STATE_COUNT));
		assert_false(ike_sa_transition_ok(IKE_SA_STATE_COUNT, s));
		assert_string_not_equal(ike_sa_state_name(s), "?");
	}
	for (int s = 0; s < CHILD_SA_STATE_COUNT; s++) {
		assert_false(child_sa_transition_ok(s, CHILD_SA_STATE_COUNT));
		assert_false(child_sa_transition_ok(CHILD_SA_STATE_COUNT, s));
		assert_string_not_equal(child_sa_state_name(s), "?");
	}
	assert_string_equal(ike_sa_state_name(IKE_SA_STATE_COUNT), "?");
	assert_string_equal(child_sa_state_name(CHILD_SA_STATE_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_ike_sa_table),
		cmocka_unit_test(test_walk_child_sa_table),
		cmocka_unit_test(test_state_bounds),
	};

	h_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
