/*
 * Two IKE engines back to back on a virtual clock, for the unit tests of
 * collisions and liveness (test_ike_collisions.c, test_ike_dpd.c).
 *
 * ike_harness.c replaces libev for the binaries it is linked into: the
 * engine's ev_timer watchers run on a clock that moves only when a test
 * says so (h_run), so a 30 s backoff costs nothing and every run is the
 * same. Datagrams go through a queue the test can hold, reorder, delay
 * or drop, and a tap records each one as sent, opened with the sender's
 * keys (exchange, message ID, payloads, error notify). The kernel is the
 * recording XFRM fake.
 */
#ifndef CGW_TEST_IKE_HARNESS_H
#define CGW_TEST_IKE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "ike/ike-internal.h"

struct h_side {
	const char *name;		/* "A", "B" */
	const char *tunnel;		/* the tunnel's name on this side */
	struct cgw_conf *conf;
	struct xfrm *xfrm;
	struct ike *ike;
	struct h_side *peer;
	int ups, downs;
	unsigned drop;			/* drop this many of the datagrams it sends */
};

/* One datagram as it was sent. */
struct h_msg {
	const struct h_side *from;
	double at;			/* virtual time */
	uint8_t exchange;
	bool response;
	uint32_t msgid;
	uint64_t spi_i, spi_r;
	bool opened;			/* clear, or decrypted with the sender's keys */
	char payloads[200];		/* "N(TEMPORARY_FAILURE)", "D", "SA No KE" */
	uint16_t error;			/* first error notify; 0: none */
	bool delete_ike;		/* carries a Delete of the IKE SA */
	unsigned delete_esp;		/* number of ESP SPIs it deletes */
	bool dropped;
};

struct h_cfg {
	const char *ike, *esp;		/* NULL: the defaults */
	const char *extra_a, *extra_b;	/* more tunnel lines */
	bool b_starts;			/* B: startup = start (A always starts) */
	bool a_adds;			/* A: startup = add (then B must start) */
};

struct harness {
	struct h_side a, b;
	bool manual;			/* hold datagrams until the test delivers */
	struct h_msg *tap;
	size_t n_tap, cap_tap;
	struct h_dgram *queue;
};

/* Once per test binary: logs, the virtual loop. */
void h_init(void);
struct ev_loop *h_loop(void);
double h_now(void);

/* Both engines with one tunnel each, A initiating; runs until both are
 * up (asserted). Datagrams flow by themselves until h->manual is set. */
void h_start(struct harness *h, const struct h_cfg *cfg);
void h_stop(struct harness *h);
/* Let seconds of virtual time pass (timers fire, datagrams flow unless
 * manual). */
void h_run(struct harness *h, double seconds);

/* The queue of datagrams sent and not yet delivered (manual mode). */
size_t h_queued(const struct harness *h);
const struct h_msg *h_queued_msg(const struct harness *h, size_t i);
void h_deliver(struct harness *h, size_t i);
void h_deliver_all(struct harness *h);		/* in order, until empty */
void h_drop(struct harness *h, size_t i);
/* Take the i-th datagram out, to deliver it later with h_put_back(). */
struct h_dgram *h_take(struct harness *h, size_t i);
void h_put_back(struct harness *h, struct h_dgram *d);	/* at the tail */

/* The tap: how many datagrams from `from` (NULL: either) of exchange
 * (0: any) that are requests / responses, since index `since`. */
size_t h_count(const struct harness *h, const struct h_side *from, uint8_t exchange,
	       bool response, size_t since);
/* Responses from `from` carrying error notify `error`, since `since`. */
size_t h_count_error(const struct harness *h, const struct h_side *from, uint16_t error,
		     size_t since);
void h_dump(const struct harness *h);
/* Every log line since h_start() (or h_log_clear()). */
const char *h_log(void);
void h_log_clear(void);

/* The side's IKE SAs, its only IKE SA (asserted), its only CHILD SA. */
int h_count_sas(const struct h_side *s);
struct ike_sa *h_sa(const struct h_side *s);
struct child_sa *h_child(const struct h_side *s);
/* Make the next nonces of s start with these bytes (n of them). */
void h_nonces(struct h_side *s, const uint8_t *first, size_t n);

/*
 * The end of every collision case: exactly one IKE SA and one CHILD SA
 * pair per side, the same SPIs on both sides, two kernel states and the
 * outbound policy, message IDs in step, nothing in flight; then a DPD
 * each way, a CHILD rekey and an IKE rekey from each side all succeed
 * and leave the same picture.
 */
void h_assert_converged(struct harness *h);
/* The first half only (no further exchanges). */
void h_assert_one_pair(struct harness *h);

#endif
