/*
 * The front of the xfrm module, shared by both backends: argument checks,
 * IANA -> kernel algorithm mapping, the ownership check before any
 * delete, one log line per kernel error (with a hint that says what to
 * do), and list/flush/events built on the backend's primitives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/proposal.h"
#include "xfrm/xfrm-internal.h"

#define XFRM_REPLAY_MAX 4096		/* XFRMA_REPLAY_ESN_MAX, in packets */

int xfrm_open(struct xfrm **out)
{
	return xfrm_netlink_open(out);
}

int xfrm_open_fake(struct xfrm **out)
{
	return xfrm_fake_open(out);
}

void xfrm_close(struct xfrm *x)
{
	if (x)
		x->ops->close(x);
}

/* ------------------------------------------------------------------ text */

__attribute__((format(printf, 4, 5)))
static size_t bprintf(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n >= len)
		return n;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return r < 0 ? n : n + (size_t)r;
}

const char *xfrm_addr_str(const struct cgw_addr *a, char *buf, size_t len)
{
	if (a->family == AF_INET || a->family == AF_INET6) {
		if (inet_ntop(a->family, &a->v4, buf, (socklen_t)len))
			return buf;
	}
	snprintf(buf, len, "-");
	return buf;
}

bool xfrm_addr_equal(const struct cgw_addr *a, const struct cgw_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	if (a->family == AF_INET6)
		return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
	return true;
}

const char *xfrm_dir_name(enum xfrm_dir dir)
{
	switch (dir) {
	case XFRM_DIR_IN:
		return "in";
	case XFRM_DIR_OUT:
		return "out";
	case XFRM_DIR_FWD:
		return "fwd";
	}
	return "?";
}

const char *xfrm_event_name(enum xfrm_event_type type)
{
	switch (type) {
	case XFRM_EVENT_EXPIRE_SOFT:
		return "expire-soft";
	case XFRM_EVENT_EXPIRE_HARD:
		return "expire-hard";
	case XFRM_EVENT_ACQUIRE:
		return "acquire";
	case XFRM_EVENT_OVERRUN:
		return "overrun";
	}
	return "?";
}

static size_t lifetime_str(const struct xfrm_lifetime *l, char *buf, size_t len, size_t n)
{
	if (l->soft_secs)
		n = bprintf(buf, len, n, " soft-secs=%llu", (unsigned long long)l->soft_secs);
	if (l->hard_secs)
		n = bprintf(buf, len, n, " hard-secs=%llu", (unsigned long long)l->hard_secs);
	if (l->soft_bytes)
		n = bprintf(buf, len, n, " soft-bytes=%llu", (unsigned long long)l->soft_bytes);
	if (l->hard_bytes)
		n = bprintf(buf, len, n, " hard-bytes=%llu", (unsigned long long)l->hard_bytes);
	if (l->soft_packets)
		n = bprintf(buf, len, n, " soft-packets=%llu", (unsigned long long)l->soft_packets);
	if (l->hard_packets)
		n = bprintf(buf, len, n, " hard-packets=%llu", (unsigned long long)l->hard_packets);
	return n;
}

const char *xfrm_sa_str(const char *verb, const struct xfrm_sa *sa,
			const struct xfrm_kalg *k, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	size_t n;

	n = bprintf(buf, len, 0, "%s %s src=%s dst=%s spi=0x%08x reqid=0x%x mark=%u/0x%x",
		    verb, xfrm_dir_name(sa->dir), xfrm_addr_str(&sa->src, s, sizeof(s)),
		    xfrm_addr_str(&sa->dst, d, sizeof(d)), sa->spi, sa->reqid,
		    sa->mark, sa->mark_mask);
	if (k && k->aead)
		n = bprintf(buf, len, n, " enc=%s keylen=%u icv=%u", k->encr_name,
			    k->encr_keybits, k->icv_bits);
	else if (k)
		n = bprintf(buf, len, n, " enc=%s keylen=%u auth=%s authkeylen=%u trunc=%u",
			    k->encr_name, k->encr_keybits, k->integ_name,
			    k->integ_keybits, k->trunc_bits);
	n = bprintf(buf, len, n, " replay=%u%s", sa->replay_window, sa->esn ? " esn" : "");
	n = lifetime_str(&sa->lifetime, buf, len, n);
	if (sa->encap_dport)
		bprintf(buf, len, n, " encap=udp:%u:%u", sa->encap_sport, sa->encap_dport);
	return buf;
}

static const char *prefix_str(const struct cgw_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", xfrm_addr_str(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

const char *xfrm_sp_str(const char *verb, const struct xfrm_sp *sp, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN + 4], d[INET6_ADDRSTRLEN + 4];
	char ts[INET6_ADDRSTRLEN], td[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s %s src=%s dst=%s tmpl=%s->%s reqid=0x%x mark=%u/0x%x",
		 verb, xfrm_dir_name(sp->dir), prefix_str(&sp->sel_src, s, sizeof(s)),
		 prefix_str(&sp->sel_dst, d, sizeof(d)),
		 xfrm_addr_str(&sp->tmpl_src, ts, sizeof(ts)),
		 xfrm_addr_str(&sp->tmpl_dst, td, sizeof(td)), sp->reqid, sp->mark,
		 sp->mark_mask);
	return buf;
}

const char *xfrm_said_str(const char *verb, const struct xfrm_said *id, char *buf, size_t len)
{
	char d[INET6_ADDRSTRLEN];
	uint8_t proto = id->proto ? id->proto : IPPROTO_ESP;

	snprintf(buf, len, "%s dst=%s spi=0x%08x proto=%s mark=%u/0x%x", verb,
		 xfrm_addr_str(&id->dst, d, sizeof(d)), id->spi,
		 proto == IPPROTO_ESP ? "esp" : "other", id->mark, id->mark_mask);
	return buf;
}

/* ---------------------------------------------------------------- errors */

enum xfrm_op {
	OP_ADD,				/* new state/policy/SPI: algorithms attached */
	OP_UPDATE,
	OP_LOOKUP,			/* get, delete: "no such" is routine */
	OP_OTHER,
};

const char *xfrm_strerror(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "not permitted: cgwd needs CAP_NET_ADMIN";
	case EEXIST:
		return "already exists (a leftover of an earlier run, or a duplicate)";
	case ENOBUFS:
		return "kernel out of buffer space (ENOBUFS): too many states, or "
		       "netlink messages were dropped";
	case ESRCH:
	case ENOENT:
		return "no such state or policy (expired, or already deleted)";
	case EPROTONOSUPPORT:
	case ENOSYS:
		return "kernel lacks esp4 or the cipher: modprobe esp4 "
		       "(and the AEAD/cipher module)";
	case EAFNOSUPPORT:
		return "address family not supported by the kernel (IPv6 disabled?)";
	case EINVAL:
		return "the kernel refused the parameters";
	default:
		return strerror(-err);
	}
}

static const char *op_hint(int err, enum xfrm_op op)
{
	if ((op == OP_ADD || op == OP_UPDATE) && err == -ENOENT)
		return xfrm_strerror(-EPROTONOSUPPORT);
	if (op == OP_UPDATE && err == -ESRCH)
		return "no such state: a larval SPI state lives only "
		       "net.core.xfrm_acq_expires seconds (30)";
	return xfrm_strerror(err);
}

/* Log a backend error once, with its hint; returns err. */
static int kernel_err(int err, enum xfrm_op op, const char *what)
{
	if (op == OP_LOOKUP && (err == -ESRCH || err == -ENOENT))
		log_debug(LOGC_XFRM, "xfrm: %s: %s", what, xfrm_strerror(err));
	else
		log_warnx("xfrm: %s: %s [%s]", what, op_hint(err, op), strerror(-err));
	return err;
}

/* ------------------------------------------------------------ validation */

struct integ_alg {
	uint16_t id;
	const char *kname;
	uint16_t keybits, trunc;
};

/* RFC 2404, RFC 4868 (SHA-2: truncation is half the output, not 96). */
static const struct integ_alg integ_algs[] = {
	{ IKE_INTEG_HMAC_SHA1_96, "hmac(sha1)", 160, 96 },
	{ IKE_INTEG_HMAC_SHA2_256_128, "hmac(sha256)", 256, 128 },
	{ IKE_INTEG_HMAC_SHA2_384_192, "hmac(sha384)", 384, 192 },
	{ IKE_INTEG_HMAC_SHA2_512_256, "hmac(sha512)", 512, 256 },
};

static bool key_bits(const struct cgw_secret *key, unsigned bits)
{
	return key && key->data && key->len * 8 == bits;
}

static const char *integ_problem(const struct xfrm_sa *sa, struct xfrm_kalg *k)
{
	if (sa->integ == IKE_INTEG_NONE)
		return "AES-CBC needs an integrity algorithm";
	for (size_t i = 0; i < ARRAY_SIZE(integ_algs); i++) {
		if (integ_algs[i].id != sa->integ)
			continue;
		k->integ_name = integ_algs[i].kname;
		k->integ_keybits = integ_algs[i].keybits;
		k->trunc_bits = integ_algs[i].trunc;
		if (!key_bits(sa->integ_key, k->integ_keybits))
			return "integrity key length does not match the algorithm";
		return NULL;
	}
	return "integrity algorithm not supported (HMAC-SHA1-96, HMAC-SHA2-256-128, "
	       "-384-192, -512-256)";
}

/* NULL when the algorithms and keys are usable (k filled), else why not. */
static const char *alg_problem(const struct xfrm_sa *sa, struct xfrm_kalg *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->encr_keylen != 128 && sa->encr_keylen != 192 && sa->encr_keylen != 256)
		return "AES key length must be 128, 192 or 256 bits";
	switch (sa->encr) {
	case IKE_ENCR_AES_GCM_16:
		k->encr_name = "rfc4106(gcm(aes))";
		k->aead = true;
		k->encr_keybits = sa->encr_keylen + 32u;
		k->icv_bits = 128;
		if (sa->integ != IKE_INTEG_NONE)
			return "AES-GCM takes no separate integrity algorithm";
		if (!key_bits(sa->encr_key, k->encr_keybits))
			return "AES-GCM key must be the AES key followed by a 4-byte salt";
		return NULL;
	case IKE_ENCR_AES_CBC:
		k->encr_name = "cbc(aes)";
		k->encr_keybits = sa->encr_keylen;
		if (!key_bits(sa->encr_key, k->encr_keybits))
			return "encryption key length does not match the AES key length";
		return integ_problem(sa, k);
	default:
		return "encryption algorithm not supported (AES-CBC, AES-GCM-16)";
	}
}

static bool family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Checks shared by SPI allocation and states; check_spi off for the former. */
static const char *sa_basic_problem(const struct xfrm_sa *sa, bool check_spi)
{
	if (!family_ok(sa->src.family) || sa->src.family != sa->dst.family)
		return "outside addresses must be both IPv4 or both IPv6";
	if (check_spi && sa->spi < CGW_XFRM_SPI_MIN)
		return "SPI below 0x100 (reserved)";
	if (!xfrm_reqid_owned(sa->reqid))
		return "reqid outside cgw's range 0x7c6e0000-0x7c6effff";
	if (sa->mark_mask == 0)
		return "no mark: cgw's states and policies are always marked";
	return NULL;
}

static const char *sa_problem(const struct xfrm_sa *sa, struct xfrm_kalg *k)
{
	const struct xfrm_lifetime *l = &sa->lifetime;
	const char *why = sa_basic_problem(sa, true);

	if (why)
		return why;
	if (sa->replay_window > XFRM_REPLAY_MAX)
		return "replay window above 4096 packets";
	if (sa->esn && sa->replay_window == 0)
		return "ESN needs a replay window";
	if ((l->soft_secs && l->hard_secs && l->soft_secs > l->hard_secs) ||
	    (l->soft_bytes && l->hard_bytes && l->soft_bytes > l->hard_bytes) ||
	    (l->soft_packets && l->hard_packets && l->soft_packets > l->hard_packets))
		return "soft lifetime above the hard lifetime";
	if (!sa->encap_sport != !sa->encap_dport)
		return "UDP encapsulation needs both ports";
	return alg_problem(sa, k);
}

int xfrm_kalg_map(const struct xfrm_sa *sa, struct xfrm_kalg *k)
{
	return alg_problem(sa, k) ? -EINVAL : 0;
}

static const char *sp_problem(const struct xfrm_sp *sp)
{
	int f = sp->sel_src.addr.family;
	unsigned bits = f == AF_INET6 ? 128 : 32;

	if (sp->dir != XFRM_DIR_IN && sp->dir != XFRM_DIR_OUT && sp->dir != XFRM_DIR_FWD)
		return "direction must be in, out or fwd";
	if (!family_ok(f) || sp->sel_dst.addr.family != f)
		return "selectors must be both IPv4 or both IPv6";
	if (sp->sel_src.len > bits || sp->sel_dst.len > bits)
		return "selector prefix length too long";
	if (!family_ok(sp->tmpl_src.family) || sp->tmpl_src.family != sp->tmpl_dst.family)
		return "tunnel addresses must be both IPv4 or both IPv6";
	if (!xfrm_reqid_owned(sp->reqid))
		return "reqid outside cgw's range 0x7c6e0000-0x7c6effff";
	if (sp->mark_mask == 0)
		return "no mark: cgw's states and policies are always marked";
	return NULL;
}

/* ---------------------------------------------------------------- states */

int xfrm_alloc_spi(struct xfrm *x, struct xfrm_sa *sa)
{
	char line[256], d[INET6_ADDRSTRLEN];
	const char *why = sa_basic_problem(sa, false);
	uint32_t spi = 0;
	int err;

	snprintf(line, sizeof(line), "spi alloc dst=%s reqid=0x%x mark=%u/0x%x",
		 xfrm_addr_str(&sa->dst, d, sizeof(d)), sa->reqid, sa->mark, sa->mark_mask);
	if (why) {
		log_warnx("xfrm: %s: refused: %s", line, why);
		return -EINVAL;
	}
	err = x->ops->alloc_spi(x, sa, &spi);
	if (err)
		return kernel_err(err, OP_ADD, line);
	sa->spi = spi;
	log_debug(LOGC_XFRM, "xfrm: %s: spi 0x%08x", line, spi);
	return 0;
}

/*
 * An update replaces whatever the kernel finds under that key, with its
 * own lookup rule: refuse when that is someone else's (-EEXIST). None is
 * fine here; the update itself then reports it.
 */
static int state_replace_ok(struct xfrm *x, const struct xfrm_sa *sa, const char *line)
{
	struct xfrm_said id = { .dst = sa->dst, .spi = sa->spi, .proto = IPPROTO_ESP,
				.mark = sa->mark, .mark_mask = sa->mark_mask };
	struct xfrm_state_info st;
	int err = x->ops->state_get(x, &id, &st);

	if (err == -ESRCH || err == -ENOENT)
		return 0;
	if (err)
		return kernel_err(err, OP_LOOKUP, line);
	if (!st.owned) {
		log_warnx("xfrm: %s: the state there has reqid 0x%x, not cgw's: left alone",
			  line, st.reqid);
		return -EEXIST;
	}
	return 0;
}

static int state_put(struct xfrm *x, const struct xfrm_sa *sa, bool update)
{
	const char *verb = update ? "state update" : "state add";
	struct xfrm_kalg k;
	char line[512];
	const char *why = sa_problem(sa, &k);
	int err;

	xfrm_sa_str(verb, sa, why ? NULL : &k, line, sizeof(line));
	if (why) {
		log_warnx("xfrm: %s: refused: %s", line, why);
		return -EINVAL;
	}
	log_debug(LOGC_XFRM, "xfrm: %s", line);
	err = update ? state_replace_ok(x, sa, line) : 0;
	if (err)
		return err;
	err = x->ops->state_put(x, sa, &k, update);
	if (err)
		return kernel_err(err, update ? OP_UPDATE : OP_ADD, line);
	return 0;
}

int xfrm_state_add(struct xfrm *x, const struct xfrm_sa *sa)
{
	return state_put(x, sa, false);
}

int xfrm_state_update(struct xfrm *x, const struct xfrm_sa *sa)
{
	return state_put(x, sa, true);
}

int xfrm_state_get(struct xfrm *x, const struct xfrm_said *id, struct xfrm_state_info *out)
{
	char line[256];
	int err;

	xfrm_said_str("state get", id, line, sizeof(line));
	if (!family_ok(id->dst.family)) {
		log_warnx("xfrm: %s: refused: no destination address", line);
		return -EINVAL;
	}
	err = x->ops->state_get(x, id, out);
	return err ? kernel_err(err, OP_LOOKUP, line) : 0;
}

int xfrm_state_del(struct xfrm *x, const struct xfrm_said *id)
{
	struct xfrm_state_info st;
	char line[256];
	int err;

	err = xfrm_state_get(x, id, &st);
	if (err)
		return err;
	xfrm_said_str("state del", id, line, sizeof(line));
	if (!st.owned) {
		log_warnx("xfrm: %s: reqid 0x%x is not cgw's: left alone", line, st.reqid);
		return -ESRCH;
	}
	log_debug(LOGC_XFRM, "xfrm: %s", line);
	err = x->ops->state_del(x, &st.id);
	return err ? kernel_err(err, OP_LOOKUP, line) : 0;
}

/* -------------------------------------------------------------- policies */

/* As state_replace_ok(), for a policy with that dir, selector and mark. */
static int policy_replace_ok(struct xfrm *x, const struct xfrm_sp *sp, const char *line)
{
	struct xfrm_policy_info pi;
	int err = x->ops->policy_get(x, sp, &pi);

	if (err == -ENOENT || err == -ESRCH)
		return 0;
	if (err)
		return kernel_err(err, OP_LOOKUP, line);
	if (!pi.owned) {
		log_warnx("xfrm: %s: the policy there has priority %u, not cgw's: left alone",
			  line, pi.priority);
		return -EEXIST;
	}
	return 0;
}

static int policy_put(struct xfrm *x, const struct xfrm_sp *sp, bool update)
{
	const char *why = sp_problem(sp);
	char line[384];
	int err;

	xfrm_sp_str(update ? "policy update" : "policy add", sp, line, sizeof(line));
	if (why) {
		log_warnx("xfrm: %s: refused: %s", line, why);
		return -EINVAL;
	}
	log_debug(LOGC_XFRM, "xfrm: %s", line);
	err = update ? policy_replace_ok(x, sp, line) : 0;
	if (err)
		return err;
	err = x->ops->policy_put(x, sp, update);
	return err ? kernel_err(err, update ? OP_UPDATE : OP_ADD, line) : 0;
}

int xfrm_policy_add(struct xfrm *x, const struct xfrm_sp *sp)
{
	return policy_put(x, sp, false);
}

int xfrm_policy_update(struct xfrm *x, const struct xfrm_sp *sp)
{
	return policy_put(x, sp, true);
}

int xfrm_policy_del(struct xfrm *x, const struct xfrm_sp *sp)
{
	struct xfrm_policy_info pi;
	char line[384];
	int err;

	xfrm_sp_str("policy del", sp, line, sizeof(line));
	if (sp_problem(sp)) {
		log_warnx("xfrm: %s: refused: %s", line, sp_problem(sp));
		return -EINVAL;
	}
	err = x->ops->policy_get(x, sp, &pi);
	if (err)
		return kernel_err(err, OP_LOOKUP, line);
	if (!pi.owned) {
		log_warnx("xfrm: %s: priority %u is not cgw's: left alone", line, pi.priority);
		return -ESRCH;
	}
	log_debug(LOGC_XFRM, "xfrm: %s (index %u)", line, pi.index);
	err = x->ops->policy_del(x, &pi);
	return err ? kernel_err(err, OP_LOOKUP, line) : 0;
}

/* ------------------------------------------------------------ list/flush */

static int push(void **arr, size_t *n, size_t size, const void *item)
{
	/* Capacity is implied by n: grow to 2n whenever n is 0 or 2^k. */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? *n * 2 : 1;
		void *p = reallocarray(*arr, cap, size);
		if (!p)
			return -ENOMEM;
		*arr = p;
	}
	memcpy((unsigned char *)*arr + *n * size, item, size);
	(*n)++;
	return 0;
}

int xfrm_list_push_state(struct xfrm_list *l, const struct xfrm_state_info *st)
{
	void *arr = l->states;
	int err = push(&arr, &l->n_states, sizeof(*st), st);

	l->states = arr;
	return err;
}

int xfrm_list_push_policy(struct xfrm_list *l, const struct xfrm_policy_info *pi)
{
	void *arr = l->policies;
	int err = push(&arr, &l->n_policies, sizeof(*pi), pi);

	l->policies = arr;
	return err;
}

void xfrm_list_free(struct xfrm_list *l)
{
	free(l->states);
	free(l->policies);
	memset(l, 0, sizeof(*l));
}

static void keep_owned(struct xfrm_list *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n_states; i++)
		if (l->states[i].owned)
			l->states[n++] = l->states[i];
	l->n_states = n;
	n = 0;
	for (size_t i = 0; i < l->n_policies; i++)
		if (l->policies[i].owned)
			l->policies[n++] = l->policies[i];
	l->n_policies = n;
}

int xfrm_list(struct xfrm *x, bool owned_only, struct xfrm_list *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = x->ops->list(x, out);
	if (err) {
		xfrm_list_free(out);
		return kernel_err(err, OP_OTHER, "list states and policies");
	}
	if (owned_only)
		keep_owned(out);
	return 0;
}

/* Remove the listed (owned) entries: policies first, so no traffic is
 * steered to a state that is gone. "No such" means it went meanwhile. */
static int flush_list(struct xfrm *x, const struct xfrm_list *l, int *removed)
{
	char line[384];
	int err, first = 0;

	for (size_t i = 0; i < l->n_policies; i++) {
		err = x->ops->policy_del(x, &l->policies[i]);
		if (!err)
			(*removed)++;
		else if (err != -ESRCH && err != -ENOENT && !first)
			first = kernel_err(err, OP_LOOKUP,
					   xfrm_sp_str("flush policy", &l->policies[i].sp,
						       line, sizeof(line)));
	}
	for (size_t i = 0; i < l->n_states; i++) {
		err = x->ops->state_del(x, &l->states[i].id);
		if (!err)
			(*removed)++;
		else if (err != -ESRCH && err != -ENOENT && !first)
			first = kernel_err(err, OP_LOOKUP,
					   xfrm_said_str("flush state", &l->states[i].id,
							 line, sizeof(line)));
	}
	return first;
}

int xfrm_flush_owned(struct xfrm *x)
{
	struct xfrm_list l;
	int err, removed = 0;

	err = xfrm_list(x, true, &l);
	if (err)
		return err;
	err = flush_list(x, &l, &removed);
	log_debug(LOGC_XFRM, "xfrm: flush: %d of %zu entries removed (%zu policies, %zu states)",
		  removed, l.n_policies + l.n_states, l.n_policies, l.n_states);
	xfrm_list_free(&l);
	return err ? err : removed;
}

/* ---------------------------------------------------------------- events */

struct ev_filter {
	xfrm_event_fn fn;
	void *arg;
	int delivered;
};

static void ev_filter(const struct xfrm_event *ev, bool owned, void *arg)
{
	struct ev_filter *f = arg;
	char line[256];

	xfrm_said_str(xfrm_event_name(ev->type), &ev->id, line, sizeof(line));
	if (!owned) {
		log_debug(LOGC_XFRM, "xfrm: event %s reqid 0x%x: not cgw's", line, ev->reqid);
		return;
	}
	log_debug(LOGC_XFRM, "xfrm: event %s reqid 0x%x", line, ev->reqid);
	f->fn(ev, f->arg);
	f->delivered++;
}

int xfrm_events_fd(struct xfrm *x)
{
	return x->ops->events_fd(x);
}

int xfrm_events_read(struct xfrm *x, xfrm_event_fn fn, void *arg)
{
	struct ev_filter f = { fn, arg, 0 };
	int err = x->ops->events_read(x, ev_filter, &f);

	if (err < 0)
		return kernel_err(err, OP_OTHER, "read events");
	return f.delivered;
}
