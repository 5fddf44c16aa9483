/*
 * CHILD SAs: inbound SPI allocation, traffic selector narrowing (2.9),
 * KEYMAT (2.17) and the kernel side: ESP states in both directions and
 * the tunnel's marked 0/0 policies through xfrm/, removed again on delete.
 */
#include "ike/ike-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "xfrm/xfrm.h"

static struct cgw_addr addr4(struct in_addr a)
{
	struct cgw_addr r = { .family = AF_INET };

	r.v4 = a;
	return r;
}

int child_alloc_spi(struct ike_sa *sa, uint32_t *spi)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	struct xfrm_sa x = {
		.dir = XFRM_DIR_IN,
		.src = addr4(sa->path.remote.sin_addr),
		.dst = addr4(sa->path.local.sin_addr),
		.reqid = sa->tun->reqid,
		.mark = t->mark, .mark_mask = 0xffffffff,
	};
	int r = xfrm_alloc_spi(sa->ike->xfrm, &x);

	if (r == 0)
		*spi = x.spi;
	return r;
}

/* Give back an SPI from child_alloc_spi() that no CHILD SA came of. */
void child_release_spi(struct ike_sa *sa, uint32_t spi)
{
	struct xfrm_said id = { .dst = addr4(sa->path.local.sin_addr), .spi = spi,
				.proto = IPPROTO_ESP, .mark = sa->tun->conf->mark,
				.mark_mask = 0xffffffff };

	if (spi && !child_by_spi_in(sa, spi))
		xfrm_state_del(sa->ike->xfrm, &id);
}

/* ---- traffic selectors ---- */

void ts_entry_from_prefix(const struct cgw_prefix *p, struct ike_ts_entry *e)
{
	uint32_t a = ntohl(p->addr.v4.s_addr);
	uint32_t mask = p->len ? ~0u << (32 - p->len) : 0;
	uint32_t start = htonl(a & mask), end = htonl((a & mask) | ~mask);

	memset(e, 0, sizeof(*e));
	e->type = IKE_TS_IPV4_ADDR_RANGE;
	e->ip_proto = 0;
	e->start_port = 0;
	e->end_port = 65535;
	memcpy(e->start, &start, 4);
	memcpy(e->end, &end, 4);
}

/* The range [lo, hi] as a prefix, if it is exactly one. */
static bool range_to_prefix(uint32_t lo, uint32_t hi, struct cgw_prefix *out)
{
	for (unsigned len = 0; len <= 32; len++) {
		uint32_t mask = len ? ~0u << (32 - len) : 0;
		if ((lo & ~mask) == 0 && (lo | ~mask) == hi) {
			memset(out, 0, sizeof(*out));
			out->addr.family = AF_INET;
			out->addr.v4.s_addr = htonl(lo);
			out->len = (uint8_t)len;
			return true;
		}
	}
	return false;
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* First non-empty intersection of the peer's selectors with ours. */
static int pick_ts(const struct ike_ts *peer, const struct cgw_prefix *ours, size_t n,
		   struct cgw_prefix *out)
{
	for (size_t i = 0; i < peer->n; i++) {
		const struct ike_ts_entry *e = &peer->ts[i];
		if (e->type != IKE_TS_IPV4_ADDR_RANGE || e->ip_proto != 0 ||
		    e->start_port != 0 || e->end_port != 65535)
			continue;	/* route-based: whole IPv4 only */
		for (size_t j = 0; j < n; j++) {
			struct ike_ts_entry o;
			ts_entry_from_prefix(&ours[j], &o);
			uint32_t lo = be32_at(e->start) > be32_at(o.start) ? be32_at(e->start)
									   : be32_at(o.start);
			uint32_t hi = be32_at(e->end) < be32_at(o.end) ? be32_at(e->end)
								       : be32_at(o.end);
			if (lo <= hi && range_to_prefix(lo, hi, out))
				return 0;
		}
	}
	return -ENOENT;
}

int child_narrow_ts(const struct cgw_tunnel_conf *t, const struct ike_ts *tsi,
		    const struct ike_ts *tsr, bool we_are_responder,
		    struct cgw_prefix *local, struct cgw_prefix *remote)
{
	/* TSi is the initiator's side: the peer's if we respond, ours if not. */
	const struct ike_ts *peer_side = we_are_responder ? tsi : tsr;
	const struct ike_ts *our_side = we_are_responder ? tsr : tsi;

	if (pick_ts(our_side, t->local_ts, t->n_local_ts, local) < 0 ||
	    pick_ts(peer_side, t->remote_ts, t->n_remote_ts, remote) < 0)
		return -ENOENT;
	return 0;
}

/* ---- kernel ---- */

static void fill_sa(struct ike_sa *sa, struct child_sa *c, bool inbound,
		    const struct cgw_secret *ekey, const struct cgw_secret *akey,
		    struct xfrm_sa *x)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	struct cgw_addr local = addr4(sa->path.local.sin_addr);
	struct cgw_addr remote = addr4(sa->path.remote.sin_addr);

	memset(x, 0, sizeof(*x));
	x->dir = inbound ? XFRM_DIR_IN : XFRM_DIR_OUT;
	x->src = inbound ? remote : local;
	x->dst = inbound ? local : remote;
	x->spi = inbound ? c->spi_in : c->spi_out;
	x->reqid = sa->tun->reqid;
	x->mark = t->mark;
	x->mark_mask = 0xffffffff;
	x->encr = c->algs.encr;
	x->encr_keylen = c->algs.encr_keylen;
	x->integ = c->algs.integ;
	x->encr_key = ekey;
	x->integ_key = c->algs.integ ? akey : NULL;
	x->replay_window = inbound ? t->replay_window : 0;
	x->esn = c->esn;
	/* Our rekey timer fires first (lifetime - margin - fuzz); the kernel's
	 * soft expiry at lifetime - margin is the backstop, hard at lifetime. */
	x->lifetime.soft_secs = (uint64_t)(t->esp_lifetime - t->rekey_margin);
	x->lifetime.hard_secs = (uint64_t)t->esp_lifetime;
	if (sa->natt) {
		x->encap_sport = ntohs(inbound ? sa->path.remote.sin_port : sa->path.local.sin_port);
		x->encap_dport = ntohs(inbound ? sa->path.local.sin_port : sa->path.remote.sin_port);
	}
}

static int install_policies(struct ike_sa *sa)
{
	const struct cgw_tunnel_conf *t = sa->tun->conf;
	struct cgw_addr local = addr4(sa->path.local.sin_addr);
	struct cgw_addr remote = addr4(sa->path.remote.sin_addr);
	static const enum xfrm_dir dirs[] = { XFRM_DIR_OUT, XFRM_DIR_IN, XFRM_DIR_FWD };
	int r = 0;

	for (size_t i = 0; i < 3 && r == 0; i++) {
		bool out = dirs[i] == XFRM_DIR_OUT;
		struct xfrm_sp sp = {
			.dir = dirs[i],
			.sel_src = out ? t->local_ts[0] : t->remote_ts[0],
			.sel_dst = out ? t->remote_ts[0] : t->local_ts[0],
			.tmpl_src = out ? local : remote,
			.tmpl_dst = out ? remote : local,
			.reqid = sa->tun->reqid,
			.mark = t->mark, .mark_mask = 0xffffffff,
		};
		r = xfrm_policy_update(sa->ike->xfrm, &sp);
	}
	return r;
}

/*
 * Derive the child's keys and install its inbound state, and its
 * outbound state unless defer_out: then the outbound keys wait in
 * c->out_keys for child_install_outbound() (make-before-break as the
 * responder of a rekey: the peer may not have the new inbound SA yet).
 */
static int install_states(struct ike_sa *sa, struct child_sa *c,
			  const struct child_keying *kx, bool defer_out)
{
	struct ike_child_keys k = { 0 };
	struct xfrm_sa in;
	bool i = kx->we_initiated;
	int r;

	r = ike_derive_child_keys(&c->algs, sa->algs.prf, &sa->keys.sk_d, kx->gir,
				  &kx->nonces, &k);
	if (r < 0)
		goto out;
	/* _i keys protect traffic from the exchange's initiator. */
	fill_sa(sa, c, true, i ? &k.encr_r : &k.encr_i, i ? &k.integ_r : &k.integ_i, &in);
	r = xfrm_state_update(sa->ike->xfrm, &in);	/* the larval SPI state */
	if (r == -ESRCH)
		r = xfrm_state_add(sa->ike->xfrm, &in);
	if (r < 0)
		goto out;
	c->installed = true;
	/* Keep the outbound keys; they move into the kernel now or later. */
	if ((r = secret_set(&c->out_encr, i ? k.encr_i.data : k.encr_r.data,
			    i ? k.encr_i.len : k.encr_r.len)) < 0 ||
	    (r = secret_set(&c->out_integ, i ? k.integ_i.data : k.integ_r.data,
			    i ? k.integ_i.len : k.integ_r.len)) < 0)
		goto out;
	if (!defer_out)
		r = child_install_outbound(c);
out:
	ike_child_keys_clear(&k);
	return r;
}

/* Put the outbound state in: from now on traffic leaves on this SA. */
int child_install_outbound(struct child_sa *c)
{
	struct ike_sa *sa = c->ike;
	struct xfrm_sa out;
	int r;

	if (!c->out_encr.data || c->out_installed)
		return 0;
	fill_sa(sa, c, false, &c->out_encr, &c->out_integ, &out);
	r = xfrm_state_add(sa->ike->xfrm, &out);
	if (r == 0)
		c->out_installed = true;
	secret_clear(&c->out_encr);
	secret_clear(&c->out_integ);
	return r;
}

struct child_sa *child_install(struct ike_sa *sa, const struct cgw_proposal *esp,
			       uint32_t spi_in, uint32_t spi_out,
			       const struct cgw_prefix *ts_local,
			       const struct cgw_prefix *ts_remote,
			       const struct child_keying *kx, bool defer_out)
{
	struct child_sa *c = calloc(1, sizeof(*c));
	char buf[256];

	if (!c)
		return NULL;
	c->ike = sa;
	c->state = CHILD_SA_CREATING;
	c->spi_in = spi_in;
	c->spi_out = spi_out;
	c->chosen = *esp;
	ike_algs_from(esp, &c->algs);
	c->esn = esp->n_esn && esp->esn[0].id == IKE_ESN_YES;
	c->ts_local = *ts_local;
	c->ts_remote = *ts_remote;
	c->next = sa->children;
	sa->children = c;
	if (install_states(sa, c, kx, defer_out) < 0 || install_policies(sa) < 0) {
		child_sa_set_state(c, CHILD_SA_DEAD, "kernel refused");
		sa->children = c->next;
		child_destroy(c);
		return NULL;
	}
	c->established = ev_now(sa->ike->loop);
	struct cgw_proposals one = { .n = 1, .p = { *esp } };
	child_sa_set_state(c, CHILD_SA_INSTALLED,
			   proposal_str(&one, PROPOSAL_ESP, buf, sizeof(buf)));
	ike_timers_child_installed(c);
	ike_tunnel_child_changed(sa->tun);
	return c;
}

struct child_sa *child_by_spi_out(struct ike_sa *sa, uint32_t spi)
{
	for (struct child_sa *c = sa->children; c; c = c->next)
		if (c->spi_out == spi)
			return c;
	return NULL;
}

struct child_sa *child_by_spi_in(struct ike_sa *sa, uint32_t spi)
{
	for (struct child_sa *c = sa->children; c; c = c->next)
		if (c->spi_in == spi)
			return c;
	return NULL;
}

/* Packets the kernel counted on the child's inbound and outbound states. */
int child_packets(struct child_sa *c, uint64_t *in, uint64_t *out)
{
	struct ike_sa *sa = c->ike;
	struct xfrm_said id = { .proto = IPPROTO_ESP, .mark = sa->tun->conf->mark,
				.mark_mask = 0xffffffff };
	struct xfrm_state_info info;
	int r;

	id.dst = addr4(sa->path.local.sin_addr);
	id.spi = c->spi_in;
	if ((r = xfrm_state_get(sa->ike->xfrm, &id, &info)) < 0)
		return r;
	*in = info.cnt.packets;
	id.dst = addr4(sa->path.remote.sin_addr);
	id.spi = c->spi_out;
	if ((r = xfrm_state_get(sa->ike->xfrm, &id, &info)) < 0)
		return r;
	*out = info.cnt.packets;
	return 0;
}

/* Take c off its IKE SA's list; a rekey of it in flight forgets it. */
void child_unlink(struct child_sa *c)
{
	if (c->ike->rekey.old == c)
		c->ike->rekey.old = NULL;
	for (struct child_sa **pp = &c->ike->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

/* Remove the kernel states (policies stay: they belong to the tunnel). */
void child_uninstall(struct child_sa *c)
{
	struct ike_sa *sa = c->ike;
	struct xfrm_said in = { .dst = addr4(sa->path.local.sin_addr), .spi = c->spi_in,
				.proto = IPPROTO_ESP, .mark = sa->tun->conf->mark,
				.mark_mask = 0xffffffff };
	struct xfrm_said out = { .dst = addr4(sa->path.remote.sin_addr), .spi = c->spi_out,
				 .proto = IPPROTO_ESP, .mark = sa->tun->conf->mark,
				 .mark_mask = 0xffffffff };

	if (c->installed)
		xfrm_state_del(sa->ike->xfrm, &in);
	if (c->out_installed)
		xfrm_state_del(sa->ike->xfrm, &out);
	c->installed = c->out_installed = false;
}

void child_destroy(struct child_sa *c)
{
	ike_timers_child_stop(c);
	child_uninstall(c);
	secret_clear(&c->out_encr);
	secret_clear(&c->out_integ);
	free(c);
}
