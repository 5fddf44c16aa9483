/*
 * Liveness on a virtual clock (ike_harness.h): DPD after dpd-delay of
 * silence, its answer, the verdict after dpd-timeout and what each
 * dpd-action does then (restart with its 1 s doubling backoff, clear,
 * hold), inbound ESP traffic (the fake kernel's counters) standing in
 * for a check, and the fast check of liveness-probe after one-way
 * traffic. Minutes of protocol time run in milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <limits.h>
#include <cmocka.h>

#include "tests/unit/ike_harness.h"
#include "xfrm/xfrm.h"

#define QUIET_B "dpd-delay = 300s\ndpd-timeout = 300s\nliveness-probe = 0s\n"

/* Empty INFORMATIONAL requests (liveness checks) from s since `since`. */
static size_t checks(const struct harness *h, const struct h_side *s, size_t since)
{
	size_t n = 0;

	for (size_t i = since; i < h->n_tap; i++) {
		const struct h_msg *t = &h->tap[i];
		if (t->from == s && t->exchange == IKE_EXCH_INFORMATIONAL && !t->response &&
		    t->opened && t->payloads[0] == '\0')
			n++;
	}
	return n;
}

/* Virtual times of the first IKE_SA_INIT of each new IKE SA s started. */
static size_t inits(const struct harness *h, const struct h_side *s, size_t since,
		    double *at, size_t max)
{
	size_t n = 0;
	uint64_t last = 0;

	for (size_t i = since; i < h->n_tap && n < max; i++) {
		const struct h_msg *t = &h->tap[i];
		if (t->from != s || t->exchange != IKE_EXCH_IKE_SA_INIT || t->response ||
		    t->spi_i == last)
			continue;
		last = t->spi_i;
		at[n++] = t->at;
	}
	return n;
}

/* Set the packet counter of one of s's CHILD SA states. */
static void count_packets(struct h_side *s, bool inbound, uint64_t packets)
{
	struct child_sa *c = h_child(s);
	struct xfrm_said id = { .spi = inbound ? c->spi_in : c->spi_out, .proto = IPPROTO_ESP,
				.mark = 100, .mark_mask = 0xffffffff };

	id.dst.family = AF_INET;
	id.dst.v4 = inbound ? h_sa(s)->path.local.sin_addr : h_sa(s)->path.remote.sin_addr;
	assert_int_equal(xfrm_fake_set_counters(s->xfrm, &id, packets * 100, packets), 0);
}

static size_t kernel_count(struct h_side *s, bool policies)
{
	struct xfrm_list l;
	size_t n;

	assert_int_equal(xfrm_list(s->xfrm, true, &l), 0);
	n = policies ? l.n_policies : l.n_states;
	xfrm_list_free(&l);
	return n;
}

/* dpd-delay of silence: one empty INFORMATIONAL, answered: nothing
 * else happens, and the next one comes dpd-delay later. */
static void test_dpd_idle(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 10s\n", .extra_b = QUIET_B };
	struct harness h;

	h_start(&h, &cfg);
	double t0 = h_now();
	uint64_t spi = h_sa(&h.a)->spi_i;
	size_t since = h.n_tap;
	h_run(&h, 9.4);				/* h_start ran 0.5 s of it */
	assert_int_equal(checks(&h, &h.a, since), 0);
	h_run(&h, 0.2);
	assert_int_equal(checks(&h, &h.a, since), 1);
	assert_int_equal(h_count(&h, &h.b, IKE_EXCH_INFORMATIONAL, true, since), 1);
	assert_false(h_sa(&h.a)->dpd_outstanding);
	h_run(&h, 9.8);
	assert_int_equal(checks(&h, &h.a, since), 1);
	h_run(&h, 0.2);
	assert_int_equal(checks(&h, &h.a, since), 2);
	assert_true(h_now() - t0 < 20.0);
	assert_int_equal(h_sa(&h.a)->spi_i, spi);
	assert_int_equal(h.a.downs + h.b.downs, 0);
	h_stop(&h);
}

/* Inbound packets count as traffic from the peer: no check while they
 * arrive; one within two dpd-delays after they stop. */
static void test_dpd_postponed_by_traffic(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 10s\n", .extra_b = QUIET_B };
	struct harness h;

	h_start(&h, &cfg);
	size_t since = h.n_tap;
	for (int i = 1; i <= 12; i++) {
		count_packets(&h.a, true, 10u * i);
		h_run(&h, 5);
	}
	assert_int_equal(checks(&h, &h.a, since), 0);
	double last = h_now() - 5;		/* the last packets came then */
	h_run(&h, 20);
	assert_true(checks(&h, &h.a, since) >= 1);
	for (size_t i = since; i < h.n_tap; i++) {
		if (h.tap[i].from == &h.a && h.tap[i].exchange == IKE_EXCH_INFORMATIONAL) {
			/* The first check: a full dpd-delay after the last look
			 * that saw traffic, at most two after the traffic. */
			assert_true(h.tap[i].at - last >= 10.0 && h.tap[i].at - last <= 20.0);
			break;
		}
	}
	assert_int_equal(h.a.downs, 0);
	h_stop(&h);
}

/* No answer through dpd-timeout: dead. restart re-initiates at once,
 * then 1 s doubling to 30 s after each failed attempt, until the peer
 * answers again. */
static void test_dpd_dead_restart(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 10s\ndpd-timeout = 30s\n"
					"dpd-action = restart\n", .extra_b = QUIET_B };
	struct harness h;
	double at[10];

	h_start(&h, &cfg);
	double t0 = h_now() - 0.5;
	size_t since = h.n_tap;
	h.b.drop = UINT_MAX;
	h_run(&h, 39.4);
	assert_int_equal(h.a.downs, 0);
	/* The check and its retransmits: +0, 1, 3, 7, 15 s. */
	assert_int_equal(checks(&h, &h.a, since), 5);
	h_run(&h, 0.2);
	assert_int_equal(h.a.downs, 1);
	assert_int_equal(h.a.ike->tunnels->dead_peers, 1);
	/* Each attempt is given up after 31 s of retransmits. */
	h_run(&h, 400);
	size_t n = inits(&h, &h.a, since, at, 10);
	assert_true(n >= 8);
	assert_true(at[0] - t0 >= 39.99 && at[0] - t0 <= 40.01);
	static const double backoff[] = { 1, 2, 4, 8, 16, 30, 30 };
	for (size_t i = 0; i < 7; i++) {
		double gap = at[i + 1] - at[i] - 31.0;
		if (gap < backoff[i] - 0.01 || gap > backoff[i] + 0.01)
			fail_msg("attempt %zu: %.2f s after the last failure, want %.0f", i + 2, gap,
				 backoff[i]);
	}
	/* The peer is back: the next attempt brings the tunnel up. */
	h.b.drop = 0;
	h_run(&h, 31);
	assert_int_equal(h.a.ups, 2);
	h_assert_converged(&h);
	h_stop(&h);
}

/* restart on the end that waits for its peer (startup = add, here B):
 * it initiates itself, at once, and keeps trying until up. */
static void test_dpd_dead_restart_responder(void **state)
{
	struct h_cfg cfg = {
		.extra_a = "dpd-delay = 300s\ndpd-timeout = 300s\nliveness-probe = 0s\n",
		.extra_b = "dpd-delay = 10s\ndpd-timeout = 30s\ndpd-action = restart\n",
	};
	struct harness h;
	double at[3];

	h_start(&h, &cfg);
	double t0 = h_now() - 0.5;
	size_t since = h.n_tap;
	h.a.drop = UINT_MAX;
	h_run(&h, 39.6);
	assert_int_equal(h.b.downs, 1);
	h_run(&h, 40);
	assert_int_equal(inits(&h, &h.b, since, at, 3), 2);
	assert_true(at[0] - t0 >= 39.99 && at[0] - t0 <= 40.01);
	assert_true(at[1] - at[0] >= 31.99 && at[1] - at[0] <= 32.01);
	h.a.drop = 0;
	h_run(&h, 40);
	assert_int_equal(h.b.ups, 2);
	/* A's old IKE SA went with B's INITIAL_CONTACT. */
	h_assert_converged(&h);
	h_stop(&h);
}

/* clear on a tunnel that waits for its peer (startup = add): the SAs
 * go, nothing is initiated. Here B is the one that waits. */
static void test_dpd_dead_clear_waits(void **state)
{
	struct h_cfg cfg = {
		.extra_a = "dpd-delay = 300s\ndpd-timeout = 300s\nliveness-probe = 0s\n",
		.extra_b = "dpd-delay = 10s\ndpd-timeout = 30s\ndpd-action = clear\n",
	};
	struct harness h;

	h_start(&h, &cfg);
	size_t since = h.n_tap;
	h.a.drop = UINT_MAX;
	h_run(&h, 39.6);
	assert_int_equal(h.b.downs, 1);
	assert_int_equal(h_count_sas(&h.b), 0);
	assert_int_equal(kernel_count(&h.b, false), 0);
	h_run(&h, 200);
	assert_int_equal(h_count(&h, &h.b, IKE_EXCH_IKE_SA_INIT, false, since), 0);
	assert_int_equal(h_count_sas(&h.b), 0);
	h_stop(&h);
}

/* clear on a startup = start tunnel: it still re-initiates, after the
 * backoff (1 s), not at once. */
static void test_dpd_dead_clear_start(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 10s\ndpd-timeout = 30s\n"
					"dpd-action = clear\n", .extra_b = QUIET_B };
	struct harness h;
	double at[2];

	h_start(&h, &cfg);
	double t0 = h_now() - 0.5;
	size_t since = h.n_tap;
	h.b.drop = UINT_MAX;
	h_run(&h, 39.6);
	assert_int_equal(h.a.downs, 1);
	h.b.drop = 0;
	h_run(&h, 5);
	assert_int_equal(inits(&h, &h.a, since, at, 2), 1);
	assert_true(at[0] - t0 >= 40.99 && at[0] - t0 <= 41.01);
	assert_int_equal(h.a.ups, 2);
	h_assert_converged(&h);
	h_stop(&h);
}

/* hold: the SAs go, the tunnel's policies stay, nothing is initiated
 * until traffic needs the tunnel (the kernel's ACQUIRE). */
static void test_dpd_dead_hold(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 10s\ndpd-timeout = 30s\n"
					"dpd-action = hold\n", .extra_b = QUIET_B };
	struct harness h;

	h_start(&h, &cfg);
	size_t since = h.n_tap;
	h.b.drop = UINT_MAX;
	h_run(&h, 39.6);
	assert_int_equal(h.a.downs, 1);
	assert_int_equal(h_count_sas(&h.a), 0);
	assert_int_equal(kernel_count(&h.a, false), 0);
	assert_int_equal(kernel_count(&h.a, true), 3);
	h_run(&h, 300);
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_IKE_SA_INIT, false, since), 0);
	h.b.drop = 0;
	ike_acquire(h.a.ike, h.a.ike->tunnels->reqid);
	h_run(&h, 1);
	assert_int_equal(h.a.ups, 2);
	h_assert_converged(&h);
	h_stop(&h);
}

/* Packets leave, none arrive: a liveness check at the next look
 * (liveness-probe), retransmitted after 0.5, 1 and 2 s, and the verdict
 * 3.5 s after the first, long before dpd-delay. */
static void test_liveness_probe_dead(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 60s\ndpd-timeout = 60s\n"
					"liveness-probe = 1s\n", .extra_b = QUIET_B };
	struct harness h;
	double sent[8];
	size_t n = 0;

	h_start(&h, &cfg);
	size_t since = h.n_tap;
	h.b.drop = UINT_MAX;
	count_packets(&h.a, false, 10);
	double t0 = h_now();
	for (int i = 2; i <= 40 && h.a.downs == 0; i++) {
		count_packets(&h.a, false, 10u * i);
		h_run(&h, 0.25);
	}
	for (size_t i = since; i < h.n_tap && n < 8; i++)
		if (h.tap[i].from == &h.a && h.tap[i].exchange == IKE_EXCH_INFORMATIONAL)
			sent[n++] = h.tap[i].at;
	assert_int_equal(n, 3);
	assert_true(sent[0] - t0 <= 1.01);
	assert_true(sent[1] - sent[0] > 0.49 && sent[1] - sent[0] < 0.51);
	assert_true(sent[2] - sent[1] > 0.99 && sent[2] - sent[1] < 1.01);
	assert_int_equal(h.a.downs, 1);
	assert_true(h_now() - sent[0] >= 3.5 && h_now() - sent[0] < 3.76);
	h_stop(&h);
}

/* The same one-way traffic with a peer that answers: checks, no verdict. */
static void test_liveness_probe_answered(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 60s\ndpd-timeout = 60s\n"
					"liveness-probe = 1s\n", .extra_b = QUIET_B };
	struct harness h;

	h_start(&h, &cfg);
	size_t since = h.n_tap;
	for (int i = 1; i <= 20; i++) {
		count_packets(&h.a, false, 10u * i);
		h_run(&h, 0.5);
	}
	/*
	 * The peer answers and the traffic stays one-way (asymmetric
	 * routing, or a peer that lost its end of the CHILD SA): checks back
	 * off, after 1, 2, 4, 8 looks, not every look; after two answered
	 * checks the CHILD SA is rekeyed, once in the whole spell.
	 */
	{
		size_t n = checks(&h, &h.a, since);
		if (n < 2 || n > 4)
			fail_msg("%zu liveness checks in 10 s of answered one-way traffic, "
				 "expected 2..4 (backing off, one look used by the rekey)", n);
	}
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_CREATE_CHILD_SA, false, since), 1);
	assert_int_equal(h.a.downs, 0);
	/* Still one-way for another 20 s on the new CHILD SA: no second rekey. */
	since = h.n_tap;
	for (int i = 1; i <= 40; i++) {
		count_packets(&h.a, false, 10u * i);
		h_run(&h, 0.5);
	}
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_CREATE_CHILD_SA, false, since), 0);
	assert_true(checks(&h, &h.a, since) >= 1);
	assert_int_equal(h.a.downs, 0);
	/* Traffic both ways: no check at all. */
	since = h.n_tap;
	for (int i = 21; i <= 40; i++) {
		count_packets(&h.a, false, 10u * i);
		count_packets(&h.a, true, 10u * i);
		h_run(&h, 0.5);
	}
	assert_int_equal(checks(&h, &h.a, since), 0);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * B lost its end of the CHILD SA without a DELETE (a data-plane restart
 * that kept the IKE SA): A's packets go nowhere, nothing comes back, yet
 * B answers every check. After two answered checks A rekeys the CHILD
 * SA, B says CHILD_SA_NOT_FOUND, A creates a new pair: the tunnel heals
 * in seconds instead of at the next scheduled rekey.
 */
static void test_liveness_probe_heals_lost_child(void **state)
{
	struct h_cfg cfg = { .extra_a = "dpd-delay = 60s\ndpd-timeout = 60s\n"
					"liveness-probe = 1s\n", .extra_b = QUIET_B };
	struct harness h;

	h_start(&h, &cfg);
	ike_sa_expired(h.b.ike, h_child(&h.b)->spi_in, true);
	assert_null(h_sa(&h.b)->children);
	size_t since = h.n_tap;
	double t0 = h_now();
	int i;
	for (i = 1; i <= 40 && h_count(&h, &h.b, IKE_EXCH_CREATE_CHILD_SA, true, since) < 2; i++) {
		count_packets(&h.a, false, 10u * i);
		h_run(&h, 0.5);
	}
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_CHILD_SA_NOT_FOUND, since), 1);
	assert_int_equal(h_count(&h, &h.b, IKE_EXCH_CREATE_CHILD_SA, true, since), 2);
	if (h_now() - t0 > 8.0)
		fail_msg("healed after %.1f s of one-way traffic, expected within 8 s",
			 h_now() - t0);
	print_message("healed %.1f s after one-way traffic began\n", h_now() - t0);
	/* The lost pair went down (it was); the IKE SA stayed. */
	assert_true(h.a.downs <= 1);
	assert_int_equal(h_count_sas(&h.a), 1);
	h_run(&h, 1);
	h_assert_converged(&h);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpd_idle),
		cmocka_unit_test(test_dpd_postponed_by_traffic),
		cmocka_unit_test(test_dpd_dead_restart),
		cmocka_unit_test(test_dpd_dead_restart_responder),
		cmocka_unit_test(test_dpd_dead_clear_waits),
		cmocka_unit_test(test_dpd_dead_clear_start),
		cmocka_unit_test(test_dpd_dead_hold),
		cmocka_unit_test(test_liveness_probe_dead),
		cmocka_unit_test(test_liveness_probe_answered),
		cmocka_unit_test(test_liveness_probe_heals_lost_child),
	};

	h_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
