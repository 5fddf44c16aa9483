/*
 * Which payloads each exchange allows or requires (RFC 7296 1.2-1.4, 2.6,
 * 2.21; RFC 6023 for IKE_AUTH without a child SA), in clear and inside SK,
 * as one table checked once the message is decoded. A message must fit
 * one row for its exchange and direction; the row it fits names its form.
 */
#include <stdio.h>

#include "ike/payload-int.h"

struct count {
	uint8_t min, max;
};

#define ONE { 1, 1 }
#define OPT { 0, 1 }
#define ANY { 0, UINT8_MAX }
#define SOME { 1, UINT8_MAX }
#define P(t) [IKE_PL_IDX(IKE_PL_##t)]

enum spi_r_rule { SPIR_ANY, SPIR_ZERO, SPIR_SET };
enum sa_rule { SA_NONE, SA_IKE, SA_CHILD };	/* protocol of every proposal */

struct rule {
	uint8_t exchange;
	bool response;
	enum ike_form form;
	bool msgid_zero;
	enum spi_r_rule spi_r;
	enum sa_rule sa;
	struct count clear[IKE_PL_COUNT];
	struct count sk[IKE_PL_COUNT];	/* unchecked until decrypted */
};

/* The clear part of a protected message: one SK payload, nothing else. */
#define SK_ONLY .clear = { P(SK) = ONE }

static const struct rule rules[] = {
	{ IKE_EXCH_IKE_SA_INIT, false, IKE_FORM_SA_INIT, true, SPIR_ZERO, SA_IKE,
	  .clear = { P(SA) = ONE, P(KE) = ONE, P(NONCE) = ONE, P(NOTIFY) = ANY,
		     P(VID) = ANY } },
	{ IKE_EXCH_IKE_SA_INIT, true, IKE_FORM_SA_INIT, true, SPIR_SET, SA_IKE,
	  .clear = { P(SA) = ONE, P(KE) = ONE, P(NONCE) = ONE, P(CERTREQ) = ANY,
		     P(NOTIFY) = ANY, P(VID) = ANY } },
	/* INVALID_KE_PAYLOAD, COOKIE, NO_PROPOSAL_CHOSEN, ... */
	{ IKE_EXCH_IKE_SA_INIT, true, IKE_FORM_SA_INIT_ERROR, true, SPIR_ANY, SA_NONE,
	  .clear = { P(NOTIFY) = SOME, P(VID) = ANY } },

	{ IKE_EXCH_IKE_AUTH, false, IKE_FORM_AUTH_CHILD, false, SPIR_SET, SA_CHILD,
	  SK_ONLY, .sk = { P(IDI) = ONE, P(CERT) = ANY, P(CERTREQ) = ANY,
		P(IDR) = OPT, P(AUTH) = ONE, P(CP) = OPT, P(NOTIFY) = ANY,
		P(VID) = ANY, P(SA) = ONE, P(TSI) = ONE, P(TSR) = ONE } },
	{ IKE_EXCH_IKE_AUTH, false, IKE_FORM_AUTH_NO_CHILD, false, SPIR_SET, SA_NONE,
	  SK_ONLY, .sk = { P(IDI) = ONE, P(CERT) = ANY, P(CERTREQ) = ANY,
		P(IDR) = OPT, P(AUTH) = ONE, P(CP) = OPT, P(NOTIFY) = ANY,
		P(VID) = ANY } },
	{ IKE_EXCH_IKE_AUTH, true, IKE_FORM_AUTH_CHILD, false, SPIR_SET, SA_CHILD,
	  SK_ONLY, .sk = { P(IDR) = ONE, P(CERT) = ANY, P(AUTH) = ONE,
		P(CP) = OPT, P(NOTIFY) = ANY, P(VID) = ANY, P(SA) = ONE,
		P(TSI) = ONE, P(TSR) = ONE } },
	/* No child: childless (RFC 6023) or its creation failed (N error). */
	{ IKE_EXCH_IKE_AUTH, true, IKE_FORM_AUTH_NO_CHILD, false, SPIR_SET, SA_NONE,
	  SK_ONLY, .sk = { P(IDR) = ONE, P(CERT) = ANY, P(AUTH) = ONE,
		P(CP) = OPT, P(NOTIFY) = ANY, P(VID) = ANY } },
	/* AUTHENTICATION_FAILED and friends. */
	{ IKE_EXCH_IKE_AUTH, true, IKE_FORM_AUTH_ERROR, false, SPIR_SET, SA_NONE,
	  SK_ONLY, .sk = { P(NOTIFY) = SOME, P(VID) = ANY } },

	{ IKE_EXCH_CREATE_CHILD_SA, false, IKE_FORM_CHILD, false, SPIR_SET, SA_CHILD,
	  SK_ONLY, .sk = { P(SA) = ONE, P(NONCE) = ONE, P(KE) = OPT,
		P(TSI) = ONE, P(TSR) = ONE, P(NOTIFY) = ANY, P(VID) = ANY } },
	{ IKE_EXCH_CREATE_CHILD_SA, false, IKE_FORM_REKEY_IKE, false, SPIR_SET, SA_IKE,
	  SK_ONLY, .sk = { P(SA) = ONE, P(NONCE) = ONE, P(KE) = ONE,
		P(NOTIFY) = ANY, P(VID) = ANY } },
	{ IKE_EXCH_CREATE_CHILD_SA, true, IKE_FORM_CHILD, false, SPIR_SET, SA_CHILD,
	  SK_ONLY, .sk = { P(SA) = ONE, P(NONCE) = ONE, P(KE) = OPT,
		P(TSI) = ONE, P(TSR) = ONE, P(NOTIFY) = ANY, P(VID) = ANY } },
	{ IKE_EXCH_CREATE_CHILD_SA, true, IKE_FORM_REKEY_IKE, false, SPIR_SET, SA_IKE,
	  SK_ONLY, .sk = { P(SA) = ONE, P(NONCE) = ONE, P(KE) = ONE,
		P(NOTIFY) = ANY, P(VID) = ANY } },
	{ IKE_EXCH_CREATE_CHILD_SA, true, IKE_FORM_CHILD_ERROR, false, SPIR_SET, SA_NONE,
	  SK_ONLY, .sk = { P(NOTIFY) = SOME, P(VID) = ANY } },

	{ IKE_EXCH_INFORMATIONAL, false, IKE_FORM_INFO, false, SPIR_SET, SA_NONE,
	  SK_ONLY, .sk = { P(NOTIFY) = ANY, P(DELETE) = ANY, P(CP) = OPT,
		P(VID) = ANY } },
	{ IKE_EXCH_INFORMATIONAL, true, IKE_FORM_INFO, false, SPIR_SET, SA_NONE,
	  SK_ONLY, .sk = { P(NOTIFY) = ANY, P(DELETE) = ANY, P(CP) = OPT,
		P(VID) = ANY } },
	/* Unprotected answers such as INVALID_IKE_SPI (2.21.4). */
	{ IKE_EXCH_INFORMATIONAL, true, IKE_FORM_INFO_CLEAR, false, SPIR_ANY, SA_NONE,
	  .clear = { P(NOTIFY) = SOME } },
};

/* "unexpected KE payload in SK", "missing AUTH payload", "2 SA payloads". */
static void describe(char *buf, size_t len, unsigned int type, unsigned int have,
		     const struct count *want, bool inner)
{
	const char *name = ike_payload_name(type);
	const char *where = inner ? " in SK" : "";

	if (!want->max)
		snprintf(buf, len, "unexpected %s payload%s", name, where);
	else if (!have)
		snprintf(buf, len, "missing %s payload%s", name, where);
	else
		snprintf(buf, len, "%u %s payloads%s, want %u..%u", have, name,
			 where, want->min, want->max);
}

/* Count how m misfits want; the first misfit overall goes into buf. */
static void misfit_counts(const struct ike_msg *m, const struct count *want,
			  bool inner, char *buf, size_t len, unsigned int *n)
{
	uint8_t have[IKE_PL_COUNT] = { 0 };

	for (size_t i = 0; i < m->n_pl; i++)
		if (m->pl[i].inner == inner && IKE_PL_KNOWN(m->pl[i].type))
			have[IKE_PL_IDX(m->pl[i].type)]++;
	for (unsigned int t = 0; t < IKE_PL_COUNT; t++) {
		if (have[t] >= want[t].min && have[t] <= want[t].max)
			continue;
		if (!(*n)++)
			describe(buf, len, t + IKE_PL_FIRST, have[t], &want[t], inner);
	}
}

static bool sa_fits(const struct ike_sa_pl *sa, enum sa_rule rule)
{
	for (size_t i = 0; i < sa->n_prop; i++) {
		uint8_t p = sa->prop[i].protocol;

		if (rule == SA_IKE ? p != IKE_PROTO_IKE :
		    p != IKE_PROTO_ESP && p != IKE_PROTO_AH)
			return false;
	}
	return true;
}

/* Number of ways m misfits r (0 = fits); buf gets the first. */
static unsigned int misfit(const struct ike_msg *m, const struct rule *r,
			   char *buf, size_t len)
{
	unsigned int n = 0;

	misfit_counts(m, r->clear, false, buf, len, &n);
	if (m->decrypted || !ike_msg_count(m, IKE_PL_SK))
		misfit_counts(m, r->sk, true, buf, len, &n);
	if (r->sa != SA_NONE && ike_msg_count(m, IKE_PL_SA) && !sa_fits(&m->sa, r->sa))
		if (!n++)
			snprintf(buf, len, "SA proposals not all for %s",
				 r->sa == SA_IKE ? "IKE" : "ESP/AH");
	if (r->msgid_zero && m->hdr.msgid && !n++)
		snprintf(buf, len, "message ID %u, want 0", m->hdr.msgid);
	if ((r->spi_r == SPIR_ZERO && m->hdr.spi_r) ||
	    (r->spi_r == SPIR_SET && !m->hdr.spi_r))
		if (!n++)
			snprintf(buf, len, "responder SPI %s zero",
				 r->spi_r == SPIR_ZERO ? "not" : "is");
	return n;
}

int ike_msg_check_rules(const struct ike_msg *m, struct ike_result *res)
{
	bool response = m->hdr.flags & IKE_FLAG_R;
	unsigned int best = UINT32_MAX;
	char why[128] = "not supported", tmp[128];

	ike_result_init(res);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		unsigned int n;

		if (r->exchange != m->hdr.exchange || r->response != response)
			continue;
		n = misfit(m, r, tmp, sizeof(tmp));
		if (n == 0) {
			bool done = m->decrypted || !ike_msg_count(m, IKE_PL_SK);

			res->form = done ? r->form : IKE_FORM_UNKNOWN;
			return 0;
		}
		if (n < best) {
			best = n;
			snprintf(why, sizeof(why), "%s", tmp);
		}
	}
	if (ike_exchange_name(m->hdr.exchange))
		return ike_rules_fail(res, m, "%s %s: %s",
				      ike_exchange_name(m->hdr.exchange),
				      response ? "response" : "request", why);
	return ike_rules_fail(res, m, "exchange type %u %s: %s", m->hdr.exchange,
			      response ? "response" : "request", why);
}
