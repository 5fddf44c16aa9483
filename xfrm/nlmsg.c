/*
 * XFRM netlink messages, without sockets: builds cgw's requests through a
 * bounded writer (overflow is sticky, checked once at the end) and parses
 * the kernel's replies and events: fixed header length-checked, every
 * attribute validated against xa_policy[] before typed getters read it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "xfrm/xfrm-internal.h"

/* ---------------------------------------------------------------- writer */

struct xw {
	struct nlmsghdr *nlh;
	size_t size;
	bool overflow;
};

/* Start a message whose fixed header is hlen bytes copied from hdr. */
static void xw_start(struct xw *w, void *buf, size_t size, uint16_t type,
		     uint16_t flags, uint32_t seq, const void *hdr, size_t hlen)
{
	size_t need = MNL_NLMSG_HDRLEN + MNL_ALIGN(hlen);

	w->nlh = NULL;
	w->size = size;
	w->overflow = need > size;
	if (w->overflow)
		return;
	memset(buf, 0, need);
	w->nlh = mnl_nlmsg_put_header(buf);
	w->nlh->nlmsg_type = type;
	w->nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	w->nlh->nlmsg_seq = seq;
	void *p = mnl_nlmsg_put_extra_header(w->nlh, hlen);
	if (hlen)
		memcpy(p, hdr, hlen);
}

/* Append attribute `type` whose payload is a (alen bytes) then b (blen). */
static void xw_put2(struct xw *w, uint16_t type, const void *a, size_t alen,
		    const void *b, size_t blen)
{
	size_t len = alen + blen;

	if (w->overflow)
		return;
	if (len > UINT16_MAX - MNL_ATTR_HDRLEN ||
	    w->nlh->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(len) > w->size) {
		w->overflow = true;
		return;
	}
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(w->nlh);
	attr->nla_type = type;
	attr->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
	unsigned char *p = mnl_attr_get_payload(attr);
	if (alen)
		memcpy(p, a, alen);
	if (blen)
		memcpy(p + alen, b, blen);
	memset(p + len, 0, MNL_ALIGN(len) - len);
	w->nlh->nlmsg_len += MNL_ALIGN(attr->nla_len);
}

static void xw_put(struct xw *w, uint16_t type, const void *data, size_t len)
{
	xw_put2(w, type, data, len, NULL, 0);
}

static int xw_end(const struct xw *w)
{
	return w->overflow ? -EMSGSIZE : (int)w->nlh->nlmsg_len;
}

/* ---------------------------------------------------------------- fields */

static void addr_to_x(const struct cgw_addr *a, xfrm_address_t *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET)
		out->a4 = a->v4.s_addr;
	else if (a->family == AF_INET6)
		memcpy(out->a6, &a->v6, sizeof(out->a6));
}

/* Family 0 gives an unset address (wildcard selectors). */
static int addr_from_x(uint16_t family, const xfrm_address_t *in, struct cgw_addr *out)
{
	memset(out, 0, sizeof(*out));
	switch (family) {
	case AF_UNSPEC:
		return 0;
	case AF_INET:
		out->family = AF_INET;
		out->v4.s_addr = in->a4;
		return 0;
	case AF_INET6:
		out->family = AF_INET6;
		memcpy(&out->v6, in->a6, sizeof(out->v6));
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

static void put_mark(struct xw *w, uint32_t v, uint32_t m)
{
	struct xfrm_mark mark = { .v = v, .m = m };

	xw_put(w, XFRMA_MARK, &mark, sizeof(mark));
}

static uint64_t limit(uint64_t v)
{
	return v ? v : XFRM_INF;
}

static void lifetime_cfg(const struct xfrm_lifetime *l, struct xfrm_lifetime_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->soft_byte_limit = limit(l ? l->soft_bytes : 0);
	c->hard_byte_limit = limit(l ? l->hard_bytes : 0);
	c->soft_packet_limit = limit(l ? l->soft_packets : 0);
	c->hard_packet_limit = limit(l ? l->hard_packets : 0);
	c->soft_add_expires_seconds = l ? l->soft_secs : 0;
	c->hard_add_expires_seconds = l ? l->hard_secs : 0;
}

/* Tunnel-mode ESP; zero selector with AF_UNSPEC: any inner family. */
static void fill_usersa(const struct xfrm_sa *sa, struct xfrm_usersa_info *p)
{
	memset(p, 0, sizeof(*p));
	addr_to_x(&sa->dst, &p->id.daddr);
	p->id.spi = htonl(sa->spi);
	p->id.proto = IPPROTO_ESP;
	addr_to_x(&sa->src, &p->saddr);
	p->family = (uint16_t)sa->dst.family;
	p->mode = XFRM_MODE_TUNNEL;
	p->reqid = sa->reqid;
	p->flags = XFRM_STATE_AF_UNSPEC;
	lifetime_cfg(&sa->lifetime, &p->lft);
}

static uint8_t dir_to_kernel(enum xfrm_dir dir)
{
	switch (dir) {
	case XFRM_DIR_IN:
		return XFRM_POLICY_IN;
	case XFRM_DIR_OUT:
		return XFRM_POLICY_OUT;
	case XFRM_DIR_FWD:
		break;
	}
	return XFRM_POLICY_FWD;
}

static void fill_selector(const struct xfrm_sp *sp, struct xfrm_selector *sel)
{
	memset(sel, 0, sizeof(*sel));
	addr_to_x(&sp->sel_dst.addr, &sel->daddr);
	addr_to_x(&sp->sel_src.addr, &sel->saddr);
	sel->family = (uint16_t)sp->sel_src.addr.family;
	sel->prefixlen_d = sp->sel_dst.len;
	sel->prefixlen_s = sp->sel_src.len;
}

/* -------------------------------------------------------------- builders */

int xnl_build_allocspi(void *buf, size_t size, uint32_t seq,
		       const struct xfrm_sa *sa, uint32_t min, uint32_t max)
{
	struct xfrm_userspi_info u;
	struct xw w;

	fill_usersa(sa, &u.info);
	u.info.id.spi = 0;
	u.min = min;
	u.max = max;
	xw_start(&w, buf, size, XFRM_MSG_ALLOCSPI, NLM_F_ACK, seq, &u, sizeof(u));
	put_mark(&w, sa->mark, sa->mark_mask);
	return xw_end(&w);
}

static void put_algs(struct xw *w, const struct xfrm_sa *sa, const struct xfrm_kalg *k)
{
	if (k->aead) {
		struct xfrm_algo_aead a;

		memset(&a, 0, sizeof(a));
		strncpy(a.alg_name, k->encr_name, sizeof(a.alg_name) - 1);
		a.alg_key_len = k->encr_keybits;
		a.alg_icv_len = k->icv_bits;
		xw_put2(w, XFRMA_ALG_AEAD, &a, sizeof(a), sa->encr_key->data,
			k->encr_keybits / 8);
		return;
	}
	struct xfrm_algo e;
	struct xfrm_algo_auth t;

	memset(&e, 0, sizeof(e));
	strncpy(e.alg_name, k->encr_name, sizeof(e.alg_name) - 1);
	e.alg_key_len = k->encr_keybits;
	xw_put2(w, XFRMA_ALG_CRYPT, &e, sizeof(e), sa->encr_key->data, k->encr_keybits / 8);
	memset(&t, 0, sizeof(t));
	strncpy(t.alg_name, k->integ_name, sizeof(t.alg_name) - 1);
	t.alg_key_len = k->integ_keybits;
	t.alg_trunc_len = k->trunc_bits;
	xw_put2(w, XFRMA_ALG_AUTH_TRUNC, &t, sizeof(t), sa->integ_key->data,
		k->integ_keybits / 8);
}

/*
 * Replay protection: a window over 32 packets, or ESN, needs the
 * XFRMA_REPLAY_ESN_VAL form (bitmap in 32-bit words), and then the
 * kernel wants the legacy 8-bit field left at 0.
 */
static void put_replay(struct xw *w, const struct xfrm_sa *sa)
{
	static const uint32_t zero_bmp[XFRMA_REPLAY_ESN_MAX / 32];
	struct xfrm_replay_state_esn esn;

	if (!sa->esn && sa->replay_window <= 32)
		return;
	memset(&esn, 0, sizeof(esn));
	esn.replay_window = sa->replay_window;
	esn.bmp_len = (sa->replay_window + 31) / 32;
	xw_put2(w, XFRMA_REPLAY_ESN_VAL, &esn, sizeof(esn), zero_bmp,
		esn.bmp_len * sizeof(uint32_t));
}

int xnl_build_state(void *buf, size_t size, uint32_t seq, bool update,
		    const struct xfrm_sa *sa, const struct xfrm_kalg *k)
{
	struct xfrm_usersa_info p;
	struct xw w;
	bool esn_form = sa->esn || sa->replay_window > 32;

	fill_usersa(sa, &p);
	if (!esn_form)
		p.replay_window = (uint8_t)sa->replay_window;
	if (sa->esn)
		p.flags |= XFRM_STATE_ESN;
	xw_start(&w, buf, size, update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA,
		 NLM_F_ACK | (update ? 0 : NLM_F_CREATE | NLM_F_EXCL), seq, &p, sizeof(p));
	put_algs(&w, sa, k);
	put_replay(&w, sa);
	put_mark(&w, sa->mark, sa->mark_mask);
	if (sa->encap_dport) {
		struct xfrm_encap_tmpl e;

		memset(&e, 0, sizeof(e));
		e.encap_type = UDP_ENCAP_ESPINUDP;
		e.encap_sport = htons(sa->encap_sport);
		e.encap_dport = htons(sa->encap_dport);
		xw_put(&w, XFRMA_ENCAP, &e, sizeof(e));
	}
	return xw_end(&w);
}

int xnl_build_said(void *buf, size_t size, uint32_t seq, uint16_t type,
		   const struct xfrm_said *id)
{
	struct xfrm_usersa_id u;
	struct xw w;

	memset(&u, 0, sizeof(u));
	addr_to_x(&id->dst, &u.daddr);
	u.spi = htonl(id->spi);
	u.family = (uint16_t)id->dst.family;
	u.proto = id->proto ? id->proto : IPPROTO_ESP;
	xw_start(&w, buf, size, type, NLM_F_ACK, seq, &u, sizeof(u));
	put_mark(&w, id->mark, id->mark_mask);
	return xw_end(&w);
}

int xnl_build_policy(void *buf, size_t size, uint32_t seq, bool update,
		     const struct xfrm_sp *sp)
{
	struct xfrm_userpolicy_info p;
	struct xfrm_user_tmpl t;
	struct xw w;

	memset(&p, 0, sizeof(p));
	fill_selector(sp, &p.sel);
	lifetime_cfg(NULL, &p.lft);
	p.priority = CGW_XFRM_PRIORITY;
	p.dir = dir_to_kernel(sp->dir);
	p.action = XFRM_POLICY_ALLOW;
	p.share = XFRM_SHARE_ANY;
	memset(&t, 0, sizeof(t));
	addr_to_x(&sp->tmpl_dst, &t.id.daddr);
	t.id.proto = IPPROTO_ESP;
	t.family = (uint16_t)sp->tmpl_dst.family;
	addr_to_x(&sp->tmpl_src, &t.saddr);
	t.reqid = sp->reqid;
	t.mode = XFRM_MODE_TUNNEL;
	t.aalgos = t.ealgos = t.calgos = ~0u;
	xw_start(&w, buf, size, update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY,
		 NLM_F_ACK | (update ? 0 : NLM_F_CREATE | NLM_F_EXCL), seq, &p, sizeof(p));
	xw_put(&w, XFRMA_TMPL, &t, sizeof(t));
	put_mark(&w, sp->mark, sp->mark_mask);
	return xw_end(&w);
}

int xnl_build_policy_id(void *buf, size_t size, uint32_t seq, uint16_t type,
			const struct xfrm_policy_info *pi)
{
	struct xfrm_userpolicy_id u;
	struct xw w;

	memset(&u, 0, sizeof(u));
	if (pi->index)
		u.index = pi->index;
	else
		fill_selector(&pi->sp, &u.sel);
	u.dir = dir_to_kernel(pi->sp.dir);
	xw_start(&w, buf, size, type, NLM_F_ACK, seq, &u, sizeof(u));
	put_mark(&w, pi->sp.mark, pi->sp.mark_mask);
	return xw_end(&w);
}

int xnl_build_dump(void *buf, size_t size, uint32_t seq, uint16_t type)
{
	struct xw w;

	xw_start(&w, buf, size, type, NLM_F_DUMP, seq, NULL, 0);
	return xw_end(&w);
}

/* ---------------------------------------------------- attribute policy */

enum xa_kind {
	XA_IGNORE,			/* not read by cgw: skipped */
	XA_U8,
	XA_U32,
	XA_U64,
	XA_STRUCT,			/* at least len bytes */
	XA_ARRAY,			/* one or more len-byte elements */
};

struct xa_rule {
	uint8_t kind;
	uint16_t len;
};

static const struct xa_rule xa_policy[XFRMA_MAX + 1] = {
	[XFRMA_ALG_AUTH] = { XA_STRUCT, sizeof(struct xfrm_algo) },
	[XFRMA_ALG_CRYPT] = { XA_STRUCT, sizeof(struct xfrm_algo) },
	[XFRMA_ALG_COMP] = { XA_STRUCT, sizeof(struct xfrm_algo) },
	[XFRMA_ENCAP] = { XA_STRUCT, sizeof(struct xfrm_encap_tmpl) },
	[XFRMA_TMPL] = { XA_ARRAY, sizeof(struct xfrm_user_tmpl) },
	[XFRMA_SA] = { XA_STRUCT, sizeof(struct xfrm_usersa_info) },
	[XFRMA_POLICY] = { XA_STRUCT, sizeof(struct xfrm_userpolicy_info) },
	[XFRMA_LTIME_VAL] = { XA_STRUCT, sizeof(struct xfrm_lifetime_cur) },
	[XFRMA_REPLAY_VAL] = { XA_STRUCT, sizeof(struct xfrm_replay_state) },
	[XFRMA_REPLAY_THRESH] = { XA_U32, sizeof(uint32_t) },
	[XFRMA_ETIMER_THRESH] = { XA_U32, sizeof(uint32_t) },
	[XFRMA_SRCADDR] = { XA_STRUCT, sizeof(xfrm_address_t) },
	[XFRMA_COADDR] = { XA_STRUCT, sizeof(xfrm_address_t) },
	[XFRMA_LASTUSED] = { XA_U64, sizeof(uint64_t) },
	[XFRMA_POLICY_TYPE] = { XA_STRUCT, sizeof(struct xfrm_userpolicy_type) },
	[XFRMA_ALG_AEAD] = { XA_STRUCT, sizeof(struct xfrm_algo_aead) },
	[XFRMA_ALG_AUTH_TRUNC] = { XA_STRUCT, sizeof(struct xfrm_algo_auth) },
	[XFRMA_MARK] = { XA_STRUCT, sizeof(struct xfrm_mark) },
	[XFRMA_TFCPAD] = { XA_U32, sizeof(uint32_t) },
	[XFRMA_REPLAY_ESN_VAL] = { XA_STRUCT, sizeof(struct xfrm_replay_state_esn) },
	[XFRMA_SA_EXTRA_FLAGS] = { XA_U32, sizeof(uint32_t) },
	[XFRMA_PROTO] = { XA_U8, sizeof(uint8_t) },
	[XFRMA_SET_MARK] = { XA_U32, sizeof(uint32_t) },
	[XFRMA_SET_MARK_MASK] = { XA_U32, sizeof(uint32_t) },
	[XFRMA_IF_ID] = { XA_U32, sizeof(uint32_t) },
};

static int xa_check(const struct nlattr *a)
{
	uint16_t type = mnl_attr_get_type(a);
	size_t len = mnl_attr_get_payload_len(a);

	/* XFRM attributes are flat: a nested or byte-order flag is wrong. */
	if (a->nla_type & (NLA_F_NESTED | NLA_F_NET_BYTEORDER))
		return -EINVAL;
	if (type > XFRMA_MAX)
		return 0;
	const struct xa_rule *r = &xa_policy[type];
	switch (r->kind) {
	case XA_U8:
	case XA_U32:
	case XA_U64:
		return len == r->len ? 0 : -EINVAL;
	case XA_STRUCT:
		return len >= r->len ? 0 : -EINVAL;
	case XA_ARRAY:
		return len >= r->len && len % r->len == 0 ? 0 : -EINVAL;
	default:
		return 0;
	}
}

/*
 * Validate every attribute after a fixed header of `fixed` bytes and
 * index the known ones in tb. Any malformed attribute, or bytes left
 * over that are not a whole attribute, fail the message.
 */
static int xa_parse(const struct nlmsghdr *nlh, size_t fixed,
		    const struct nlattr *tb[XFRMA_MAX + 1])
{
	size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(fixed);
	size_t end = nlh->nlmsg_len;
	const unsigned char *base = (const void *)nlh;

	memset(tb, 0, sizeof(*tb) * (XFRMA_MAX + 1));
	while (off < end) {
		const struct nlattr *a = (const void *)(base + off);

		if (end - off < sizeof(*a) || a->nla_len < sizeof(*a) ||
		    a->nla_len > end - off)
			return -EINVAL;
		int err = xa_check(a);
		if (err)
			return err;
		uint16_t type = mnl_attr_get_type(a);
		if (type <= XFRMA_MAX && xa_policy[type].kind != XA_IGNORE)
			tb[type] = a;
		off += MNL_ALIGN(a->nla_len);
	}
	return 0;
}

/* Typed getter: copy a validated attribute's first size bytes. */
static bool xa_get(const struct nlattr *const tb[], uint16_t type, void *out, size_t size)
{
	if (!tb[type] || mnl_attr_get_payload_len(tb[type]) < size)
		return false;
	memcpy(out, mnl_attr_get_payload(tb[type]), size);
	return true;
}

static void xa_mark(const struct nlattr *const tb[], uint32_t *v, uint32_t *m)
{
	struct xfrm_mark mark = { 0, 0 };

	xa_get(tb, XFRMA_MARK, &mark, sizeof(mark));
	*v = mark.v;
	*m = mark.m;
}

/* Copy the fixed header after checking the message holds it. */
static int xnl_fixed(const struct nlmsghdr *nlh, void *out, size_t size)
{
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + size)
		return -EINVAL;
	memcpy(out, mnl_nlmsg_get_payload(nlh), size);
	return 0;
}

/* --------------------------------------------------------------- parsers */

static int state_from(const struct xfrm_usersa_info *p, const struct nlattr *const tb[],
		      struct xfrm_state_info *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (p->family == AF_UNSPEC)
		return -EINVAL;
	err = addr_from_x(p->family, &p->id.daddr, &out->id.dst);
	if (!err)
		err = addr_from_x(p->family, &p->saddr, &out->src);
	if (err)
		return err;
	out->id.spi = ntohl(p->id.spi);
	out->id.proto = p->id.proto;
	xa_mark(tb, &out->id.mark, &out->id.mark_mask);
	out->reqid = p->reqid;
	out->cnt.bytes = p->curlft.bytes;
	out->cnt.packets = p->curlft.packets;
	out->cnt.add_time = p->curlft.add_time;
	out->cnt.use_time = p->curlft.use_time;
	out->cnt.replay_drops = p->stats.replay;
	out->cnt.integrity_failed = p->stats.integrity_failed;
	out->owned = xfrm_reqid_owned(p->reqid);
	return 0;
}

int xnl_parse_state(const struct nlmsghdr *nlh, struct xfrm_state_info *out)
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_usersa_info p;
	int err;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA && nlh->nlmsg_type != XFRM_MSG_UPDSA)
		return -ENOMSG;
	err = xnl_fixed(nlh, &p, sizeof(p));
	if (!err)
		err = xa_parse(nlh, sizeof(p), tb);
	if (!err)
		err = state_from(&p, tb, out);
	return err;
}

/* Socket policies (dir >= XFRM_POLICY_MAX) are not ours to parse. */
static int dir_from_kernel(uint8_t dir, enum xfrm_dir *out)
{
	switch (dir) {
	case XFRM_POLICY_IN:
		*out = XFRM_DIR_IN;
		return 0;
	case XFRM_POLICY_OUT:
		*out = XFRM_DIR_OUT;
		return 0;
	case XFRM_POLICY_FWD:
		*out = XFRM_DIR_FWD;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int selector_from(const struct xfrm_selector *sel, struct xfrm_sp *sp)
{
	int bits = sel->family == AF_INET6 ? 128 : 32;
	int err;

	if (sel->prefixlen_s > bits || sel->prefixlen_d > bits)
		return -EINVAL;
	err = addr_from_x(sel->family, &sel->saddr, &sp->sel_src.addr);
	if (!err)
		err = addr_from_x(sel->family, &sel->daddr, &sp->sel_dst.addr);
	sp->sel_src.len = sel->prefixlen_s;
	sp->sel_dst.len = sel->prefixlen_d;
	return err;
}

static int tmpl_from(const struct nlattr *const tb[], struct xfrm_sp *sp)
{
	struct xfrm_user_tmpl t;
	int err;

	if (!xa_get(tb, XFRMA_TMPL, &t, sizeof(t)))
		return 0;
	err = addr_from_x(t.family, &t.id.daddr, &sp->tmpl_dst);
	if (!err)
		err = addr_from_x(t.family, &t.saddr, &sp->tmpl_src);
	sp->reqid = t.reqid;
	return err;
}

int xnl_parse_policy(const struct nlmsghdr *nlh, struct xfrm_policy_info *out)
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_userpolicy_info p;
	int err;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY && nlh->nlmsg_type != XFRM_MSG_UPDPOLICY)
		return -ENOMSG;
	memset(out, 0, sizeof(*out));
	err = xnl_fixed(nlh, &p, sizeof(p));
	if (!err)
		err = xa_parse(nlh, sizeof(p), tb);
	if (!err)
		err = dir_from_kernel(p.dir, &out->sp.dir);
	if (!err)
		err = selector_from(&p.sel, &out->sp);
	if (!err)
		err = tmpl_from(tb, &out->sp);
	if (err)
		return err;
	xa_mark(tb, &out->sp.mark, &out->sp.mark_mask);
	out->index = p.index;
	out->priority = p.priority;
	out->owned = xfrm_priority_owned(p.priority);
	return 0;
}

static int parse_expire(const struct nlmsghdr *nlh, struct xfrm_event *out, bool *owned)
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_user_expire ue;
	struct xfrm_state_info st;
	int err;

	err = xnl_fixed(nlh, &ue, sizeof(ue));
	if (!err)
		err = xa_parse(nlh, sizeof(ue), tb);
	if (!err)
		err = state_from(&ue.state, tb, &st);
	if (err)
		return err;
	out->type = ue.hard ? XFRM_EVENT_EXPIRE_HARD : XFRM_EVENT_EXPIRE_SOFT;
	out->id = st.id;
	out->src = st.src;
	out->reqid = st.reqid;
	*owned = st.owned;
	return 0;
}

/* The outside addresses' family is the template's (the state's). */
static int parse_acquire(const struct nlmsghdr *nlh, struct xfrm_event *out, bool *owned)
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_user_acquire ua;
	struct xfrm_user_tmpl t;
	uint16_t family;
	int err;

	err = xnl_fixed(nlh, &ua, sizeof(ua));
	if (!err)
		err = xa_parse(nlh, sizeof(ua), tb);
	if (err)
		return err;
	memset(&t, 0, sizeof(t));
	family = xa_get(tb, XFRMA_TMPL, &t, sizeof(t)) ? t.family : ua.sel.family;
	if (family == AF_UNSPEC)
		return -EINVAL;
	err = addr_from_x(family, &ua.id.daddr, &out->id.dst);
	if (!err)
		err = addr_from_x(family, &ua.saddr, &out->src);
	if (err)
		return err;
	out->type = XFRM_EVENT_ACQUIRE;
	out->id.spi = 0;
	out->id.proto = ua.id.proto;
	xa_mark(tb, &out->id.mark, &out->id.mark_mask);
	out->reqid = t.reqid;
	*owned = xfrm_priority_owned(ua.policy.priority);
	return 0;
}

int xnl_parse_event(const struct nlmsghdr *nlh, struct xfrm_event *out, bool *owned)
{
	memset(out, 0, sizeof(*out));
	*owned = false;
	switch (nlh->nlmsg_type) {
	case XFRM_MSG_EXPIRE:
		return parse_expire(nlh, out, owned);
	case XFRM_MSG_ACQUIRE:
		return parse_acquire(nlh, out, owned);
	default:
		return -ENOMSG;
	}
}
