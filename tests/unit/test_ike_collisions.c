/*
 * Exchange collisions (RFC 7296 2.8.1, 2.8.2, 2.25) between two engines,
 * with controlled nonces and a virtual clock (ike_harness.h). The cases
 * follow the checklist strongSwan's and Libreswan's suites cover: both
 * ends rekeying the same SA, a rekey crossing a DELETE, a response that
 * arrives after the peer acted on the collision, a request that arrives
 * after the peer finished, TEMPORARY_FAILURE and the retry after it.
 * Every case ends in h_assert_converged(): one IKE SA and one CHILD SA
 * pair per side, the kernel agreeing, message IDs in step (further
 * exchanges succeed), nothing in flight.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/ike_harness.h"

/* Which of the four nonces of two crossed exchanges is the lowest. A's
 * exchange uses A's Ni and B's Nr, B's exchange B's Ni and A's Nr; the SA
 * made by the exchange holding the lowest one is redundant (2.8.1). */
struct nonce_case {
	uint8_t a_ni, b_ni, a_nr, b_nr;
	bool a_wins;			/* A's exchange survives */
	bool b_initiated;		/* B set the IKE SA up (roles swapped) */
};

static const struct nonce_case lowest_a_ni = { 0x00, 0xff, 0xff, 0xff, false, false };
static const struct nonce_case lowest_b_ni = { 0xff, 0x00, 0xff, 0xff, true, false };
static const struct nonce_case lowest_a_nr = { 0xff, 0xff, 0x00, 0xff, true, false };
static const struct nonce_case lowest_b_nr = { 0xff, 0xff, 0xff, 0x00, false, false };
/* The same with B as the IKE SA's original initiator (I flag, message IDs). */
static const struct nonce_case lowest_a_ni_b_init = { 0x00, 0xff, 0xff, 0xff, false, true };
static const struct nonce_case lowest_a_nr_b_init = { 0xff, 0xff, 0x00, 0xff, true, true };

static void set_nonces(struct harness *h, const struct nonce_case *n)
{
	const uint8_t a[2] = { n->a_ni, n->a_nr }, b[2] = { n->b_ni, n->b_nr };

	h_nonces(&h->a, a, 2);
	h_nonces(&h->b, b, 2);
}

static void start(struct harness *h, const struct h_cfg *cfg)
{
	h_start(h, cfg);
	h->manual = true;
}

static void start_case(struct harness *h, const struct nonce_case *n)
{
	const struct h_cfg swapped = { .a_adds = true };

	start(h, n->b_initiated ? &swapped : NULL);
	set_nonces(h, n);
}

/* The side deletes its IKE SA, as a peer going away would. */
static void delete_ike_sa(struct h_side *s)
{
	struct ike_sa *sa = h_sa(s);

	assert_int_equal(ike_send_delete_ike(sa), 0);
	ike_sa_set_state(sa, IKE_SA_DELETING, "test: deleting");
}

static void rekey_ike(struct h_side *s)
{
	assert_int_equal(ike_tunnel_rekey(s->ike, s->tunnel, true), 0);
}

static void rekey_child(struct h_side *s)
{
	assert_int_equal(ike_tunnel_rekey(s->ike, s->tunnel, false), 0);
}

/* ---- IKE SA ---- */

/*
 * Both rekey the IKE SA at once (2.8.2):
 *   A: rekey ---\   /--- rekey :B
 *                \ /
 *   A: answer <--X--> answer :B     both now know the four nonces
 *   the loser deletes its new SA, the winner the old one
 */
static void test_ike_rekey_collision(void **state)
{
	const struct nonce_case *n = *state;
	struct harness h;

	start_case(&h, n);
	rekey_ike(&h.a);
	rekey_ike(&h.b);
	uint64_t spi_a = h_sa(&h.a)->ike_rekey.spi, spi_b = h_sa(&h.b)->ike_rekey.spi;
	size_t since = h.n_tap;
	h_deliver_all(&h);
	/* The winner's new SA, with every CHILD SA, is what is left. */
	assert_int_equal(h_sa(&h.a)->spi_i, n->a_wins ? spi_a : spi_b);
	assert_int_equal(h_sa(&h.b)->spi_i, n->a_wins ? spi_a : spi_b);
	/* Each side deleted one IKE SA: the loser its new one, the winner
	 * the old one; nobody refused anything, the tunnel never went down. */
	assert_int_equal(h_count_error(&h, NULL, IKE_N_TEMPORARY_FAILURE, since), 0);
	size_t dels = 0;
	for (size_t i = since; i < h.n_tap; i++)
		dels += h.tap[i].delete_ike && !h.tap[i].response;
	assert_int_equal(dels, 2);
	assert_int_equal(h.a.downs + h.b.downs, 0);
	assert_int_equal(h.a.ike->tunnels->ike_rekeys, 1);
	assert_int_equal(h.b.ike->tunnels->ike_rekeys, 1);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * B's answer to A's rekey is late: B decides first and acts; A learns
 * the outcome from B's DELETE (of the old SA: A adopts B's new SA) or
 * from the late answer (B deleted its own new SA meanwhile, retransmitted
 * until A can read it). A redundant SA nobody deletes goes after 30 s.
 */
static void test_ike_rekey_collision_late_response(void **state)
{
	const struct nonce_case *n = *state;
	struct harness h;

	start_case(&h, n);
	rekey_ike(&h.a);
	rekey_ike(&h.b);
	h_deliver(&h, 0);			/* A's rekey to B */
	h_deliver(&h, 0);			/* B's rekey to A */
	struct h_dgram *late = h_take(&h, 0);	/* B's answer to A */
	h_deliver_all(&h);			/* A's answer: B decides */
	h_put_back(&h, late);
	h.manual = false;
	h_run(&h, 35);
	assert_int_equal(h.a.downs + h.b.downs, 0);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * 2.8.2, the special case: A's request is late, B finishes its rekey
 * without seeing a collision, deletes the old SA, and answers A's request
 * on it with TEMPORARY_FAILURE. A, who answered B's rekey meanwhile,
 * takes B's new SA when the DELETE comes. late_first: the late request
 * reaches B before B's DELETE reaches A.
 */
static void ike_rekey_late_request(bool late_first)
{
	struct harness h;

	start(&h, NULL);
	rekey_ike(&h.a);
	rekey_ike(&h.b);
	uint64_t spi_b = h_sa(&h.b)->ike_rekey.spi;
	size_t since = h.n_tap;
	struct h_dgram *late = h_take(&h, 0);	/* A's rekey request */
	h_deliver(&h, 0);			/* B's rekey: A answers */
	h_deliver(&h, 0);			/* the answer: B is done, deletes */
	assert_int_equal(h_queued(&h), 1);
	assert_true(h_queued_msg(&h, 0)->delete_ike);
	if (late_first) {
		h_put_back(&h, late);
		h_deliver(&h, 1);		/* the late request first */
	} else {
		h_put_back(&h, late);
	}
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	assert_int_equal(h_sa(&h.a)->spi_i, spi_b);
	h_assert_converged(&h);
	h_stop(&h);
}

static void test_ike_rekey_late_request(void **state)
{
	ike_rekey_late_request(false);
}

static void test_ike_rekey_late_request_first(void **state)
{
	ike_rekey_late_request(true);
}

/*
 * One end rekeys the IKE SA, the other a CHILD SA (2.25.1, 2.25.2): each
 * refuses the other with TEMPORARY_FAILURE; both try again after a
 * randomised backoff, one after the other, and both succeed.
 */
static void ike_rekey_vs_child_rekey(bool a_rekeys_ike)
{
	struct harness h;

	start(&h, NULL);
	if (a_rekeys_ike) {
		rekey_ike(&h.a);
		rekey_child(&h.b);
	} else {
		rekey_child(&h.a);
		rekey_ike(&h.b);
	}
	size_t since = h.n_tap;
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.a, IKE_N_TEMPORARY_FAILURE, since), 1);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	assert_int_equal(h_count_sas(&h.a), 1);
	h.manual = false;
	h_run(&h, 5);
	for (struct h_side *s = &h.a; s; s = s == &h.a ? &h.b : NULL) {
		assert_int_equal(s->ike->tunnels->ike_rekeys, 1);
		assert_int_equal(s->ike->tunnels->child_rekeys, 1);
	}
	assert_int_equal(h.a.downs + h.b.downs, 0);
	h_assert_converged(&h);
	h_stop(&h);
}

static void test_ike_rekey_vs_child_rekey(void **state)
{
	ike_rekey_vs_child_rekey(true);
}

static void test_child_rekey_vs_ike_rekey(void **state)
{
	ike_rekey_vs_child_rekey(false);
}

/*
 * A rekeys the IKE SA while B deletes it (2.25.2): B refuses the rekey
 * with TEMPORARY_FAILURE (it is closing that SA), A answers the DELETE
 * and forgets its rekey; A keeps the tunnel up: a new IKE SA after the
 * backoff. order 0: A's rekey sent first; 1: B's DELETE sent first;
 * 2: the DELETE reaches A only after the refusal (A schedules a retry
 * that the DELETE makes moot).
 */
static void ike_rekey_vs_delete(int order)
{
	struct harness h;

	start(&h, NULL);
	uint64_t old = h_sa(&h.a)->spi_i;
	if (order == 1)
		delete_ike_sa(&h.b);
	rekey_ike(&h.a);
	if (order != 1)
		delete_ike_sa(&h.b);
	size_t since = h.n_tap;
	if (order == 2) {
		struct h_dgram *del = h_take(&h, 1);
		h_deliver_all(&h);		/* the rekey, refused */
		assert_int_equal(h_sa(&h.a)->state, IKE_SA_ESTABLISHED);
		h_put_back(&h, del);
	}
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	assert_int_equal(h_count_sas(&h.a), 0);
	assert_int_equal(h_count_sas(&h.b), 0);
	h.manual = false;
	h_run(&h, 2);
	assert_true(h_sa(&h.a)->spi_i != old);
	h_assert_converged(&h);
	h_stop(&h);
}

static void test_ike_rekey_vs_delete(void **state)
{
	ike_rekey_vs_delete(0);
}

static void test_ike_rekey_vs_delete_first(void **state)
{
	ike_rekey_vs_delete(1);
}

static void test_ike_rekey_vs_delete_late(void **state)
{
	ike_rekey_vs_delete(2);
}

/*
 * The peer rekeys the IKE SA while a DELETE of a CHILD SA of ours is in
 * flight (our CHILD rekey just finished): TEMPORARY_FAILURE (2.25.1),
 * and the peer's retry after its backoff goes through.
 */
static void test_ike_rekey_while_deleting_child(void **state)
{
	struct harness h;

	start(&h, NULL);
	rekey_child(&h.b);
	h_deliver(&h, 0);			/* B's rekey: A answers */
	h_deliver(&h, 0);			/* the answer: B sends DELETE */
	assert_int_equal(h_queued(&h), 1);
	rekey_ike(&h.a);			/* crosses B's DELETE */
	double t0 = h_now();
	size_t since = h.n_tap;
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	h.manual = false;
	since = h.n_tap;
	h_run(&h, 0.99);
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_CREATE_CHILD_SA, false, since), 0);
	h_run(&h, 0.6);
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_CREATE_CHILD_SA, false, since), 1);
	assert_true(h_now() - t0 >= 1.0);
	assert_int_equal(h.a.ike->tunnels->ike_rekeys, 1);
	h_assert_converged(&h);
	h_stop(&h);
}

/* ---- CHILD SA ---- */

/* Both rekey the CHILD SA at once (2.8.1); the pair made with the
 * lowest nonce goes, deleted by whoever made it. */
static void test_child_rekey_collision(void **state)
{
	const struct nonce_case *n = *state;
	struct harness h;

	start_case(&h, n);
	rekey_child(&h.a);
	rekey_child(&h.b);
	uint32_t in_a = h_sa(&h.a)->rekey.spi_in, in_b = h_sa(&h.b)->rekey.spi_in;
	size_t since = h.n_tap;
	h_deliver_all(&h);
	if (n->a_wins)
		assert_int_equal(h_child(&h.a)->spi_in, in_a);
	else
		assert_int_equal(h_child(&h.b)->spi_in, in_b);
	assert_int_equal(h_count_error(&h, NULL, IKE_N_TEMPORARY_FAILURE, since), 0);
	assert_int_equal(h.a.downs + h.b.downs, 0);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * The peer's DELETE arrives before our CREATE_CHILD_SA response: both
 * rekeyed, B decided first and deleted the old pair (and its own new one
 * if it lost); A's answer comes last and A decides the same way.
 */
static void test_child_rekey_collision_late_response(void **state)
{
	const struct nonce_case *n = *state;
	struct harness h;

	start_case(&h, n);
	rekey_child(&h.a);
	rekey_child(&h.b);
	h_deliver(&h, 0);			/* A's rekey to B */
	h_deliver(&h, 0);			/* B's rekey to A */
	struct h_dgram *late = h_take(&h, 0);	/* B's answer to A */
	h_deliver_all(&h);			/* B decides, deletes; A answers */
	assert_int_equal(h_sa(&h.a)->rekey.active, true);
	h_put_back(&h, late);
	h_deliver_all(&h);
	/* If A won, B deleted its own new pair before A could use A's: A
	 * had no outbound SA until the answer came (down, then up again).
	 * B moves its outbound to A's pair after the 5 s grace. */
	assert_int_equal(h.b.downs, 0);
	assert_int_equal(h.a.ups - h.a.downs, 1);
	h_run(&h, 6);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * A's rekey request is late: B finishes its own rekey unaware, deletes
 * the old pair, and refuses A's request for it (TEMPORARY_FAILURE: an SA
 * it is closing). A answered B's rekey, so B's pair is the one.
 */
static void child_rekey_late_request(bool late_first)
{
	struct harness h;

	start(&h, NULL);
	rekey_child(&h.a);
	rekey_child(&h.b);
	uint32_t in_b = h_sa(&h.b)->rekey.spi_in;
	size_t since = h.n_tap;
	struct h_dgram *late = h_take(&h, 0);
	h_deliver(&h, 0);			/* B's rekey: A answers */
	h_deliver(&h, 0);			/* the answer: B deletes the old pair */
	h_put_back(&h, late);
	if (late_first)
		h_deliver(&h, 1);
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	assert_int_equal(h_child(&h.b)->spi_in, in_b);
	h_run(&h, 5);				/* no retry of the rekey that was refused */
	assert_int_equal(h_child(&h.b)->spi_in, in_b);
	h_assert_converged(&h);
	h_stop(&h);
}

static void test_child_rekey_late_request(void **state)
{
	child_rekey_late_request(false);
}

static void test_child_rekey_late_request_first(void **state)
{
	child_rekey_late_request(true);
}

/*
 * A rekeys the CHILD SA while B deletes it: B refuses the rekey of an SA
 * it is closing (TEMPORARY_FAILURE), A answers the DELETE and forgets its
 * rekey. The tunnel has no CHILD SA then; A (startup = start) creates a
 * new one with CREATE_CHILD_SA. delete_first: the DELETE reaches A first.
 */
static void child_rekey_vs_delete(bool delete_first)
{
	struct harness h;

	start(&h, NULL);
	rekey_child(&h.a);
	child_send_delete(h_child(&h.b));
	size_t since = h.n_tap;
	if (delete_first)
		h_deliver(&h, 1);
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	h_assert_converged(&h);
	h_stop(&h);
}

static void test_child_rekey_vs_delete(void **state)
{
	child_rekey_vs_delete(false);
}

static void test_child_rekey_vs_delete_first(void **state)
{
	child_rekey_vs_delete(true);
}

/* The answer to our rekey is a TEMPORARY_FAILURE and the DELETE of the
 * pair only comes after it: the retry timer is stopped with the pair. */
static void test_child_rekey_refused_then_deleted(void **state)
{
	struct harness h;

	start(&h, NULL);
	child_send_delete(h_child(&h.b));
	struct h_dgram *del = h_take(&h, 0);
	rekey_child(&h.a);
	h_deliver_all(&h);			/* refused */
	h_put_back(&h, del);
	h_deliver_all(&h);
	h.manual = false;
	h_run(&h, 40);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * B lost the CHILD SA without telling A (its hard lifetime, a restart of
 * the kernel state): A's rekey gets CHILD_SA_NOT_FOUND; A drops its copy
 * and creates a new pair.
 */
static void test_child_rekey_not_found(void **state)
{
	struct harness h;

	start(&h, NULL);
	ike_sa_expired(h.b.ike, h_child(&h.b)->spi_in, true);
	assert_null(h_sa(&h.b)->children);
	rekey_child(&h.a);
	size_t since = h.n_tap;
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_CHILD_SA_NOT_FOUND, since), 1);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * TEMPORARY_FAILURE, then the retry after the backoff: B rekeys the IKE
 * SA (its request held back) when A's CHILD rekey arrives; B refuses it,
 * finishes its IKE rekey, and A's retry after 1..1.5 s goes through on
 * the new IKE SA.
 */
static void test_child_rekey_retry_after_refusal(void **state)
{
	struct harness h;

	start(&h, NULL);
	rekey_ike(&h.b);
	struct h_dgram *ike_req = h_take(&h, 0);
	rekey_child(&h.a);
	double t0 = h_now();
	size_t since = h.n_tap;
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	h_put_back(&h, ike_req);
	h_deliver_all(&h);
	assert_int_equal(h.a.ike->tunnels->ike_rekeys, 1);
	h.manual = false;
	since = h.n_tap;
	h_run(&h, 0.99);
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_CREATE_CHILD_SA, false, since), 0);
	h_run(&h, 0.6);
	assert_int_equal(h_count(&h, &h.a, IKE_EXCH_CREATE_CHILD_SA, false, since), 1);
	assert_true(h_now() - t0 < 1.6);
	assert_int_equal(h.a.ike->tunnels->child_rekeys, 1);
	h_assert_converged(&h);
	h_stop(&h);
}

/*
 * A's CHILD SA rekey timer fires while A's own IKE rekey is in flight:
 * busy, so the timer tries again a second later, on the new IKE SA the
 * CHILD SA moved to. (It once gave up, and the CHILD SA reached its hard
 * lifetime with the tunnel down: the soak found it, with a CHILD rekey
 * every 30 s and an IKE rekey every 60 s.)
 */
static void test_child_rekey_timer_during_ike_rekey(void **state)
{
	struct harness h;
	const struct h_cfg cfg = {
		.extra_a = "esp-lifetime = 40s\nrekey-margin = 10s\nrekey-fuzz = 0\n",
	};

	start(&h, &cfg);
	double t0 = h_now();		/* the CHILD SA is < 0.5 s old */
	h.manual = false;
	h_run(&h, 29.0);		/* its rekey timer is due at 30 s */
	while (h_sa(&h.a)->req.active)	/* a liveness check, say */
		h_run(&h, 0.05);
	assert_true(h_now() - t0 < 29.4);
	assert_int_equal(h.a.ike->tunnels->child_rekeys, 0);
	h.manual = true;
	rekey_ike(&h.a);
	assert_int_equal(child_rekey_start(h_child(&h.a)), -EBUSY);
	h_run(&h, 1.0);			/* the timer fires: busy */
	h_deliver_all(&h);		/* the IKE rekey completes */
	assert_int_equal(h.a.ike->tunnels->ike_rekeys, 1);
	assert_int_equal(h.a.ike->tunnels->child_rekeys, 0);
	h.manual = false;
	h_run(&h, 2.0);
	assert_int_equal(h.a.ike->tunnels->child_rekeys, 1);
	h_assert_converged(&h);
	h_stop(&h);
}

/* B deletes the CHILD SA while A rekeys the IKE SA (2.25.2): the DELETE
 * is answered as usual, the IKE rekey refused (B is closing a CHILD SA)
 * and retried; A creates a new CHILD SA. */
static void test_child_delete_vs_ike_rekey(void **state)
{
	struct harness h;

	start(&h, NULL);
	rekey_ike(&h.a);
	child_send_delete(h_child(&h.b));
	size_t since = h.n_tap;
	h_deliver_all(&h);
	assert_int_equal(h_count_error(&h, &h.b, IKE_N_TEMPORARY_FAILURE, since), 1);
	h.manual = false;
	h_run(&h, 5);
	assert_int_equal(h.a.ike->tunnels->ike_rekeys, 1);
	h_assert_converged(&h);
	h_stop(&h);
}

/* One case per lowest nonce, named after it. */
#define NONCE_TEST(fn, c) { #fn "(" #c ")", fn, NULL, NULL, (void *)&c }

int main(void)
{
	const struct CMUnitTest tests[] = {
		NONCE_TEST(test_ike_rekey_collision, lowest_a_ni),
		NONCE_TEST(test_ike_rekey_collision, lowest_b_ni),
		NONCE_TEST(test_ike_rekey_collision, lowest_a_nr),
		NONCE_TEST(test_ike_rekey_collision, lowest_b_nr),
		NONCE_TEST(test_ike_rekey_collision, lowest_a_ni_b_init),
		NONCE_TEST(test_ike_rekey_collision, lowest_a_nr_b_init),
		NONCE_TEST(test_ike_rekey_collision_late_response, lowest_a_ni),
		NONCE_TEST(test_ike_rekey_collision_late_response, lowest_b_ni),
		NONCE_TEST(test_ike_rekey_collision_late_response, lowest_a_nr),
		NONCE_TEST(test_ike_rekey_collision_late_response, lowest_b_nr),
		cmocka_unit_test(test_ike_rekey_late_request),
		cmocka_unit_test(test_ike_rekey_late_request_first),
		cmocka_unit_test(test_ike_rekey_vs_child_rekey),
		cmocka_unit_test(test_child_rekey_vs_ike_rekey),
		cmocka_unit_test(test_ike_rekey_vs_delete),
		cmocka_unit_test(test_ike_rekey_vs_delete_first),
		cmocka_unit_test(test_ike_rekey_vs_delete_late),
		cmocka_unit_test(test_ike_rekey_while_deleting_child),
		cmocka_unit_test(test_child_rekey_timer_during_ike_rekey),
		NONCE_TEST(test_child_rekey_collision, lowest_a_ni),
		NONCE_TEST(test_child_rekey_collision, lowest_b_ni),
		NONCE_TEST(test_child_rekey_collision, lowest_a_nr),
		NONCE_TEST(test_child_rekey_collision, lowest_b_nr),
		NONCE_TEST(test_child_rekey_collision, lowest_a_ni_b_init),
		NONCE_TEST(test_child_rekey_collision, lowest_a_nr_b_init),
		NONCE_TEST(test_child_rekey_collision_late_response, lowest_a_ni),
		NONCE_TEST(test_child_rekey_collision_late_response, lowest_b_ni),
		NONCE_TEST(test_child_rekey_collision_late_response, lowest_a_nr),
		NONCE_TEST(test_child_rekey_collision_late_response, lowest_b_nr),
		cmocka_unit_test(test_child_rekey_late_request),
		cmocka_unit_test(test_child_rekey_late_request_first),
		cmocka_unit_test(test_child_rekey_vs_delete),
		cmocka_unit_test(test_child_rekey_vs_delete_first),
		cmocka_unit_test(test_child_rekey_refused_then_deleted),
		cmocka_unit_test(test_child_rekey_not_found),
		cmocka_unit_test(test_child_rekey_retry_after_refusal),
		cmocka_unit_test(test_child_delete_vs_ike_rekey),
	};

	h_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
