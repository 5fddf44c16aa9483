/*
 * xfrm/nlmsg.c: the requests cgw sends, read back field by field with
 * libmnl's attribute walk, and the parsers fed kernel-shaped replies and
 * events, then malformed ones (short, wrong-typed, overlong, truncated
 * at every length, randomly corrupted): -EINVAL or similar, never a
 * crash or an out-of-bounds read (run under ASan in CI).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "common/secret.h"
#include "common/util.h"
#include "conf/proposal.h"
#include "xfrm/xfrm-internal.h"

static _Alignas(8) unsigned char buf[4096];
static struct cgw_secret key36, key32;

static struct cgw_addr v4(const char *s)
{
	struct cgw_addr a = { .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, s, &a.v4), 1);
	return a;
}

static int setup(void **state)
{
	unsigned char k[36];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (unsigned char)(0xa0 + i);
	assert_int_equal(secret_init(), 0);
	assert_int_equal(secret_set(&key36, k, 36), 0);
	assert_int_equal(secret_set(&key32, k, 32), 0);
	return 0;
}

static int teardown(void **state)
{
	secret_clear(&key36);
	secret_clear(&key32);
	return 0;
}

static struct xfrm_sa gcm_sa(void)
{
	struct xfrm_sa sa = {
		.dir = XFRM_DIR_OUT, .src = v4("192.0.2.1"), .dst = v4("192.0.2.2"),
		.spi = 0xc0ffee01, .reqid = CGW_XFRM_REQID(3), .mark = 100,
		.mark_mask = 0xffffffff, .encr = IKE_ENCR_AES_GCM_16, .encr_keylen = 256,
		.encr_key = &key36, .replay_window = 1024,
		.lifetime = { .soft_secs = 2700, .hard_secs = 3000, .hard_bytes = 1u << 30 },
	};

	return sa;
}

/* ------------------------------------------------ reading back (libmnl) */

struct attrs {
	const struct nlattr *tb[XFRMA_MAX + 1];
	int count;
};

static int collect(const struct nlattr *a, void *data)
{
	struct attrs *at = data;

	if (mnl_attr_get_type(a) <= XFRMA_MAX)
		at->tb[mnl_attr_get_type(a)] = a;
	at->count++;
	return MNL_CB_OK;
}

static const struct nlmsghdr *walk(int len, size_t fixed, struct attrs *at)
{
	const struct nlmsghdr *nlh = (const void *)buf;

	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	memset(at, 0, sizeof(*at));
	assert_int_equal(mnl_attr_parse(nlh, (unsigned)fixed, collect, at), MNL_CB_OK);
	return nlh;
}

static void get_attr(const struct attrs *at, int type, void *out, size_t size)
{
	assert_non_null(at->tb[type]);
	assert_true(mnl_attr_get_payload_len(at->tb[type]) >= size);
	memcpy(out, mnl_attr_get_payload(at->tb[type]), size);
}

static void check_mark(const struct attrs *at, uint32_t v, uint32_t m)
{
	struct xfrm_mark mark;

	get_attr(at, XFRMA_MARK, &mark, sizeof(mark));
	assert_int_equal(mark.v, v);
	assert_int_equal(mark.m, m);
}

/* ---------------------------------------------------------- builders */

static void test_build_gcm_state(void **state)
{
	struct xfrm_sa sa = gcm_sa();
	struct xfrm_kalg k;
	struct xfrm_usersa_info p;
	struct xfrm_algo_aead aead;
	struct xfrm_replay_state_esn esn;
	struct attrs at;

	assert_int_equal(xfrm_kalg_map(&sa, &k), 0);
	const struct nlmsghdr *nlh = walk(xnl_build_state(buf, sizeof(buf), 7, false, &sa, &k),
					  sizeof(p), &at);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWSA);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(nlh->nlmsg_seq, 7);
	memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
	assert_int_equal(p.id.spi, htonl(0xc0ffee01));
	assert_int_equal(p.id.proto, IPPROTO_ESP);
	assert_int_equal(p.id.daddr.a4, sa.dst.v4.s_addr);
	assert_int_equal(p.saddr.a4, sa.src.v4.s_addr);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.mode, XFRM_MODE_TUNNEL);
	assert_int_equal(p.reqid, CGW_XFRM_REQID(3));
	assert_int_equal(p.flags, XFRM_STATE_AF_UNSPEC);
	assert_int_equal(p.replay_window, 0);	/* the ESN form carries it */
	assert_int_equal(p.lft.soft_add_expires_seconds, 2700);
	assert_int_equal(p.lft.hard_add_expires_seconds, 3000);
	assert_true(p.lft.soft_byte_limit == XFRM_INF);
	assert_true(p.lft.hard_byte_limit == 1u << 30);
	assert_true(p.lft.hard_packet_limit == XFRM_INF);

	get_attr(&at, XFRMA_ALG_AEAD, &aead, sizeof(aead));
	assert_string_equal(aead.alg_name, "rfc4106(gcm(aes))");
	assert_int_equal(aead.alg_key_len, 288);
	assert_int_equal(aead.alg_icv_len, 128);
	assert_int_equal(mnl_attr_get_payload_len(at.tb[XFRMA_ALG_AEAD]), sizeof(aead) + 36);
	assert_memory_equal((const char *)mnl_attr_get_payload(at.tb[XFRMA_ALG_AEAD]) +
			    sizeof(aead), key36.data, 36);
	get_attr(&at, XFRMA_REPLAY_ESN_VAL, &esn, sizeof(esn));
	assert_int_equal(esn.replay_window, 1024);
	assert_int_equal(esn.bmp_len, 32);
	assert_int_equal(mnl_attr_get_payload_len(at.tb[XFRMA_REPLAY_ESN_VAL]),
			 sizeof(esn) + 32 * 4);
	check_mark(&at, 100, 0xffffffff);
	assert_null(at.tb[XFRMA_ALG_CRYPT]);
	assert_null(at.tb[XFRMA_ALG_AUTH_TRUNC]);
	assert_null(at.tb[XFRMA_ENCAP]);
	assert_null(at.tb[XFRMA_IF_ID]);	/* marks, not interface ids */
	assert_int_equal(at.count, 3);
}

static void test_build_cbc_state(void **state)
{
	const struct {
		uint16_t integ;
		unsigned keybytes;
		const char *name;
		unsigned trunc;
	} cases[] = {
		{ IKE_INTEG_HMAC_SHA1_96, 20, "hmac(sha1)", 96 },
		{ IKE_INTEG_HMAC_SHA2_256_128, 32, "hmac(sha256)", 128 },
		{ IKE_INTEG_HMAC_SHA2_384_192, 48, "hmac(sha384)", 192 },
		{ IKE_INTEG_HMAC_SHA2_512_256, 64, "hmac(sha512)", 256 },
	};
	unsigned char raw[64];

	memset(raw, 0x5a, sizeof(raw));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgw_secret ik = { NULL, 0 };
		struct xfrm_sa sa = gcm_sa();
		struct xfrm_usersa_info p;
		struct xfrm_algo crypt;
		struct xfrm_algo_auth auth;
		struct xfrm_kalg k;
		struct attrs at;

		assert_int_equal(secret_set(&ik, raw, cases[i].keybytes), 0);
		sa.encr = IKE_ENCR_AES_CBC;
		sa.encr_key = &key32;
		sa.integ = cases[i].integ;
		sa.integ_key = &ik;
		sa.replay_window = 32;
		assert_int_equal(xfrm_kalg_map(&sa, &k), 0);
		const struct nlmsghdr *nlh = walk(xnl_build_state(buf, sizeof(buf), 1, false,
								  &sa, &k), sizeof(p), &at);
		memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
		assert_int_equal(p.replay_window, 32);	/* legacy field up to 32 */
		assert_null(at.tb[XFRMA_REPLAY_ESN_VAL]);
		get_attr(&at, XFRMA_ALG_CRYPT, &crypt, sizeof(crypt));
		assert_string_equal(crypt.alg_name, "cbc(aes)");
		assert_int_equal(crypt.alg_key_len, 256);
		get_attr(&at, XFRMA_ALG_AUTH_TRUNC, &auth, sizeof(auth));
		assert_string_equal(auth.alg_name, cases[i].name);
		assert_int_equal(auth.alg_key_len, cases[i].keybytes * 8);
		assert_int_equal(auth.alg_trunc_len, cases[i].trunc);
		assert_null(at.tb[XFRMA_ALG_AUTH]);	/* never the untruncated form */
		assert_null(at.tb[XFRMA_ALG_AEAD]);
		secret_clear(&ik);
	}
}

static void test_build_esn_encap_update(void **state)
{
	struct xfrm_sa sa = gcm_sa();
	struct xfrm_usersa_info p;
	struct xfrm_replay_state_esn esn;
	struct xfrm_encap_tmpl encap;
	struct xfrm_kalg k;
	struct attrs at;

	sa.replay_window = 32;
	sa.esn = true;
	sa.encap_sport = 4500;
	sa.encap_dport = 4501;
	assert_int_equal(xfrm_kalg_map(&sa, &k), 0);
	const struct nlmsghdr *nlh = walk(xnl_build_state(buf, sizeof(buf), 2, true, &sa, &k),
					  sizeof(p), &at);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_UPDSA);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
	assert_int_equal(p.flags, XFRM_STATE_AF_UNSPEC | XFRM_STATE_ESN);
	assert_int_equal(p.replay_window, 0);
	get_attr(&at, XFRMA_REPLAY_ESN_VAL, &esn, sizeof(esn));
	assert_int_equal(esn.replay_window, 32);
	assert_int_equal(esn.bmp_len, 1);
	get_attr(&at, XFRMA_ENCAP, &encap, sizeof(encap));
	assert_int_equal(encap.encap_type, UDP_ENCAP_ESPINUDP);
	assert_int_equal(encap.encap_sport, htons(4500));
	assert_int_equal(encap.encap_dport, htons(4501));
}

static void test_build_allocspi(void **state)
{
	struct xfrm_sa sa = gcm_sa();
	struct xfrm_userspi_info u;
	struct attrs at;

	const struct nlmsghdr *nlh = walk(xnl_build_allocspi(buf, sizeof(buf), 9, &sa, 0x100,
							     0xffffffff), sizeof(u), &at);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_ALLOCSPI);
	memcpy(&u, mnl_nlmsg_get_payload(nlh), sizeof(u));
	assert_int_equal(u.min, 0x100);
	assert_int_equal(u.max, 0xffffffff);
	assert_int_equal(u.info.id.spi, 0);
	assert_int_equal(u.info.id.proto, IPPROTO_ESP);
	assert_int_equal(u.info.reqid, CGW_XFRM_REQID(3));
	assert_int_equal(u.info.mode, XFRM_MODE_TUNNEL);
	assert_int_equal(u.info.id.daddr.a4, sa.dst.v4.s_addr);
	check_mark(&at, 100, 0xffffffff);
	assert_int_equal(at.count, 1);		/* no keys in an SPI request */
}

static struct xfrm_sp sp_out(void)
{
	struct xfrm_sp sp = {
		.dir = XFRM_DIR_FWD,
		.sel_src = { .addr = { .family = AF_INET }, .len = 0 },
		.sel_dst = { .addr = v4("10.0.0.0"), .len = 8 },
		.tmpl_src = v4("192.0.2.2"), .tmpl_dst = v4("192.0.2.1"),
		.reqid = CGW_XFRM_REQID(2), .mark = 200, .mark_mask = 0xffff,
	};

	return sp;
}

static void test_build_policy(void **state)
{
	struct xfrm_sp sp = sp_out();
	struct xfrm_userpolicy_info p;
	struct xfrm_user_tmpl t;
	struct attrs at;

	const struct nlmsghdr *nlh = walk(xnl_build_policy(buf, sizeof(buf), 3, false, &sp),
					  sizeof(p), &at);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWPOLICY);
	memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
	assert_int_equal(p.priority, CGW_XFRM_PRIORITY);
	assert_int_equal(p.priority, 0x7c6e0);
	assert_int_equal(p.dir, XFRM_POLICY_FWD);
	assert_int_equal(p.action, XFRM_POLICY_ALLOW);
	assert_int_equal(p.sel.family, AF_INET);
	assert_int_equal(p.sel.prefixlen_s, 0);
	assert_int_equal(p.sel.prefixlen_d, 8);
	assert_int_equal(p.sel.daddr.a4, htonl(0x0a000000));
	assert_true(p.lft.hard_byte_limit == XFRM_INF);
	get_attr(&at, XFRMA_TMPL, &t, sizeof(t));
	assert_int_equal(mnl_attr_get_payload_len(at.tb[XFRMA_TMPL]), sizeof(t));
	assert_int_equal(t.reqid, CGW_XFRM_REQID(2));
	assert_int_equal(t.mode, XFRM_MODE_TUNNEL);
	assert_int_equal(t.id.proto, IPPROTO_ESP);
	assert_int_equal(t.family, AF_INET);
	assert_int_equal(t.saddr.a4, sp.tmpl_src.v4.s_addr);
	assert_int_equal(t.id.daddr.a4, sp.tmpl_dst.v4.s_addr);
	assert_int_equal(t.ealgos, ~0u);
	check_mark(&at, 200, 0xffff);
}

static void test_build_ids_and_dump(void **state)
{
	struct xfrm_policy_info pi = { .sp = sp_out(), .index = 0x59 };
	struct xfrm_said id = { .dst = v4("192.0.2.2"), .spi = 0x1234, .mark = 5, .mark_mask = 7 };
	struct xfrm_userpolicy_id pid;
	struct xfrm_usersa_id sid;
	struct attrs at;

	const struct nlmsghdr *nlh = walk(xnl_build_policy_id(buf, sizeof(buf), 4,
							      XFRM_MSG_DELPOLICY, &pi),
					  sizeof(pid), &at);
	memcpy(&pid, mnl_nlmsg_get_payload(nlh), sizeof(pid));
	assert_int_equal(pid.index, 0x59);
	assert_int_equal(pid.dir, XFRM_POLICY_FWD);
	assert_int_equal(pid.sel.family, 0);	/* by index: no selector */
	check_mark(&at, 200, 0xffff);

	nlh = walk(xnl_build_said(buf, sizeof(buf), 5, XFRM_MSG_GETSA, &id), sizeof(sid), &at);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_GETSA);
	memcpy(&sid, mnl_nlmsg_get_payload(nlh), sizeof(sid));
	assert_int_equal(sid.spi, htonl(0x1234));
	assert_int_equal(sid.proto, IPPROTO_ESP);
	assert_int_equal(sid.family, AF_INET);
	check_mark(&at, 5, 7);

	nlh = walk(xnl_build_dump(buf, sizeof(buf), 6, XFRM_MSG_GETPOLICY), 0, &at);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_len, MNL_NLMSG_HDRLEN);
	assert_int_equal(at.count, 0);
}

/* Every buffer too small fails cleanly and writes nothing past its end. */
static void test_build_overflow(void **state)
{
	struct xfrm_sa sa = gcm_sa();
	struct xfrm_kalg k;
	int full;

	assert_int_equal(xfrm_kalg_map(&sa, &k), 0);
	full = xnl_build_state(buf, sizeof(buf), 1, false, &sa, &k);
	assert_true(full > 0 && full < (int)XNL_MSG_MAX);
	for (int size = 0; size < full; size++) {
		unsigned char *small = malloc((size_t)size + 1);

		assert_non_null(small);
		memset(small, 0xee, (size_t)size + 1);
		assert_int_equal(xnl_build_state(small, (size_t)size, 1, false, &sa, &k),
				 -EMSGSIZE);
		assert_int_equal(small[size], 0xee);
		free(small);
	}
}

/* ------------------------------------------------- kernel-shaped input */

static struct nlmsghdr *msg_start(uint16_t type, const void *fixed, size_t len)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	memcpy(mnl_nlmsg_put_extra_header(nlh, len), fixed, len);
	return nlh;
}

static void put_mark(struct nlmsghdr *nlh, uint32_t v, uint32_t m)
{
	struct xfrm_mark mark = { v, m };

	mnl_attr_put(nlh, XFRMA_MARK, sizeof(mark), &mark);
}

static struct xfrm_usersa_info kernel_sa(void)
{
	struct xfrm_usersa_info p;

	memset(&p, 0, sizeof(p));
	p.id.daddr.a4 = htonl(0xc0000202);
	p.saddr.a4 = htonl(0xc0000201);
	p.id.spi = htonl(0xdeadbeef);
	p.id.proto = IPPROTO_ESP;
	p.family = AF_INET;
	p.reqid = CGW_XFRM_REQID(9);
	p.curlft.bytes = 123456;
	p.curlft.packets = 789;
	p.stats.integrity_failed = 3;
	return p;
}

/* A NEWSA as GETSA or a dump returns it: keys, lifetimes, extra attrs. */
static struct nlmsghdr *kernel_newsa(void)
{
	struct xfrm_usersa_info p = kernel_sa();
	struct nlmsghdr *nlh = msg_start(XFRM_MSG_NEWSA, &p, sizeof(p));
	struct xfrm_algo_aead aead = { .alg_name = "rfc4106(gcm(aes))", .alg_key_len = 160,
				       .alg_icv_len = 128 };
	unsigned char alg[sizeof(aead) + 20];
	struct xfrm_lifetime_cur cur = { .bytes = 1 };

	memcpy(alg, &aead, sizeof(aead));
	memset(alg + sizeof(aead), 0x11, 20);
	mnl_attr_put(nlh, XFRMA_ALG_AEAD, sizeof(alg), alg);
	mnl_attr_put(nlh, XFRMA_LTIME_VAL, sizeof(cur), &cur);
	mnl_attr_put_u32(nlh, XFRMA_SA_EXTRA_FLAGS, 0);
	mnl_attr_put_u32(nlh, 250, 1);		/* from a newer kernel: ignored */
	put_mark(nlh, 100, 0xffffffff);
	return nlh;
}

static void test_parse_state(void **state)
{
	struct xfrm_state_info st;

	assert_int_equal(xnl_parse_state(kernel_newsa(), &st), 0);
	assert_int_equal(st.id.spi, 0xdeadbeef);
	assert_int_equal(st.id.proto, IPPROTO_ESP);
	assert_int_equal(st.id.dst.family, AF_INET);
	assert_int_equal(ntohl(st.id.dst.v4.s_addr), 0xc0000202);
	assert_int_equal(ntohl(st.src.v4.s_addr), 0xc0000201);
	assert_int_equal(st.id.mark, 100);
	assert_int_equal(st.id.mark_mask, 0xffffffff);
	assert_int_equal(st.reqid, CGW_XFRM_REQID(9));
	assert_true(st.owned);
	assert_int_equal(st.cnt.bytes, 123456);
	assert_int_equal(st.cnt.packets, 789);
	assert_int_equal(st.cnt.integrity_failed, 3);
}

static struct nlmsghdr *kernel_newpolicy(uint32_t priority)
{
	struct xfrm_userpolicy_info p;
	struct xfrm_user_tmpl t;
	struct nlmsghdr *nlh;

	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.priority = priority;
	p.index = 0x1f2;
	p.dir = XFRM_POLICY_IN;
	memset(&t, 0, sizeof(t));
	t.family = AF_INET;
	t.id.daddr.a4 = htonl(0xc0000201);
	t.saddr.a4 = htonl(0xc0000202);
	t.reqid = CGW_XFRM_REQID(1);
	nlh = msg_start(XFRM_MSG_NEWPOLICY, &p, sizeof(p));
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	put_mark(nlh, 100, 0xffffffff);
	return nlh;
}

static void test_parse_policy(void **state)
{
	struct xfrm_policy_info pi;

	assert_int_equal(xnl_parse_policy(kernel_newpolicy(CGW_XFRM_PRIORITY), &pi), 0);
	assert_int_equal(pi.sp.dir, XFRM_DIR_IN);
	assert_int_equal(pi.index, 0x1f2);
	assert_true(pi.owned);
	assert_int_equal(pi.sp.reqid, CGW_XFRM_REQID(1));
	assert_int_equal(ntohl(pi.sp.tmpl_src.v4.s_addr), 0xc0000202);
	assert_int_equal(pi.sp.sel_src.addr.family, AF_INET);
	assert_int_equal(pi.sp.sel_dst.len, 0);
	assert_int_equal(pi.sp.mark, 100);
	assert_int_equal(xnl_parse_policy(kernel_newpolicy(0), &pi), 0);
	assert_false(pi.owned);
}

static void test_parse_events(void **state)
{
	struct xfrm_user_expire ue;
	struct xfrm_user_acquire ua;
	struct xfrm_user_tmpl t;
	struct xfrm_event ev;
	struct nlmsghdr *nlh;
	bool owned;

	memset(&ue, 0, sizeof(ue));
	ue.state = kernel_sa();
	ue.hard = 0;
	nlh = msg_start(XFRM_MSG_EXPIRE, &ue, sizeof(ue));
	put_mark(nlh, 100, 0xffffffff);
	assert_int_equal(xnl_parse_event(nlh, &ev, &owned), 0);
	assert_int_equal(ev.type, XFRM_EVENT_EXPIRE_SOFT);
	assert_int_equal(ev.id.spi, 0xdeadbeef);
	assert_int_equal(ev.id.mark, 100);
	assert_true(owned);
	ue.hard = 1;
	ue.state.reqid = 3;
	nlh = msg_start(XFRM_MSG_EXPIRE, &ue, sizeof(ue));
	assert_int_equal(xnl_parse_event(nlh, &ev, &owned), 0);
	assert_int_equal(ev.type, XFRM_EVENT_EXPIRE_HARD);
	assert_false(owned);

	memset(&ua, 0, sizeof(ua));
	ua.id.daddr.a4 = htonl(0xc0000202);
	ua.id.proto = IPPROTO_ESP;
	ua.policy.priority = CGW_XFRM_PRIORITY;
	memset(&t, 0, sizeof(t));
	t.family = AF_INET;
	t.reqid = CGW_XFRM_REQID(4);
	nlh = msg_start(XFRM_MSG_ACQUIRE, &ua, sizeof(ua));
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	put_mark(nlh, 300, 0xffffffff);
	assert_int_equal(xnl_parse_event(nlh, &ev, &owned), 0);
	assert_int_equal(ev.type, XFRM_EVENT_ACQUIRE);
	assert_int_equal(ev.reqid, CGW_XFRM_REQID(4));
	assert_int_equal(ev.id.mark, 300);
	assert_true(owned);

	nlh = msg_start(XFRM_MSG_NEWAE, &ua, sizeof(ua));
	assert_int_equal(xnl_parse_event(nlh, &ev, &owned), -ENOMSG);
}

static void count_event(const struct xfrm_event *ev, bool owned, void *arg)
{
	(*(int *)arg)++;
}

static int count_reply(const struct nlmsghdr *nlh, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * A datagram whose second message claims 2 GiB: libmnl 1.0.4 takes that
 * length as negative and walked on to a wild address (fuzz_netlink).
 * Only the whole first message is read; a reply that overruns fails.
 */
static void test_datagram_overrun(void **state)
{
	struct xfrm_user_expire ue;
	struct xnl_talk t = { count_reply, NULL, 0, 0 };
	struct nlmsghdr *nlh, bad = { .nlmsg_len = 0x80000010u, .nlmsg_type = XFRM_MSG_EXPIRE };
	size_t first;
	int events = 0, replies = 0;

	memset(&ue, 0, sizeof(ue));
	ue.state = kernel_sa();
	nlh = msg_start(XFRM_MSG_EXPIRE, &ue, sizeof(ue));
	first = nlh->nlmsg_len;
	memcpy(buf + first, &bad, sizeof(bad));
	assert_int_equal(nl_whole_msgs(buf, first + sizeof(bad)), first);
	assert_int_equal(nl_whole_msgs(buf, first - 1), 0);
	assert_int_equal(xnl_events_decode(buf, first + sizeof(bad), count_event, &events), 1);
	assert_int_equal(events, 1);

	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	t.arg = &replies;
	assert_int_equal(xnl_talk_run(buf, first + sizeof(bad), 0, 0, &t), MNL_CB_ERROR);
	assert_int_equal(t.err, -EBADMSG);
	assert_int_equal(replies, 1);
}

/* ------------------------------------------------------------ malformed */

/* Append a raw attribute (any length, any flags) without libmnl's help. */
static void put_raw(struct nlmsghdr *nlh, uint16_t type, uint16_t nla_len,
		    const void *data, size_t dlen)
{
	struct nlattr a = { .nla_len = nla_len, .nla_type = type };
	unsigned char *p = (unsigned char *)nlh + nlh->nlmsg_len;

	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), data, dlen);
	nlh->nlmsg_len += MNL_ALIGN(sizeof(a) + dlen);
}

static void test_malformed(void **state)
{
	struct xfrm_usersa_info p = kernel_sa();
	struct xfrm_policy_info pi;
	struct xfrm_state_info st;
	struct nlmsghdr *nlh;
	unsigned char zeros[128] = { 0 };
	struct {
		uint16_t type, nla_len;
		size_t dlen;
		int want;
	} cases[] = {
		{ XFRMA_MARK, 4 + 4, 4, -EINVAL },		/* struct too short */
		{ XFRMA_SA_EXTRA_FLAGS, 4 + 2, 2, -EINVAL },	/* u32 with 2 bytes */
		{ XFRMA_SA_EXTRA_FLAGS, 4 + 8, 8, -EINVAL },	/* u32 with 8 bytes */
		{ XFRMA_LASTUSED, 4 + 4, 4, -EINVAL },		/* u64 with 4 bytes */
		{ XFRMA_TMPL, 4 + 65, 65, -EINVAL },		/* not whole templates */
		{ XFRMA_ALG_AEAD, 4 + 16, 16, -EINVAL },
		{ XFRMA_MARK | NLA_F_NESTED, 4 + 8, 8, -EINVAL },	/* wrong kind */
		{ XFRMA_MARK, 2, 0, -EINVAL },			/* length below header */
		{ XFRMA_MARK, 200, 8, -EINVAL },		/* runs past the message */
		{ 300, 4 + 3, 3, 0 },				/* unknown: skipped */
		{ XFRMA_PAD, 4, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nlh = msg_start(XFRM_MSG_NEWSA, &p, sizeof(p));
		put_raw(nlh, cases[i].type, cases[i].nla_len, zeros, cases[i].dlen);
		if (xnl_parse_state(nlh, &st) != cases[i].want)
			fail_msg("case %zu: want %d", i, cases[i].want);
	}
	/* Two stray bytes after the last attribute. */
	nlh = kernel_newsa();
	nlh->nlmsg_len += 2;
	assert_int_equal(xnl_parse_state(nlh, &st), -EINVAL);
	/* Shorter than the fixed header; wrong type; unknown family. */
	nlh = msg_start(XFRM_MSG_NEWSA, &p, sizeof(p));
	nlh->nlmsg_len = (uint32_t)(MNL_NLMSG_HDRLEN + sizeof(p) - 1);
	assert_int_equal(xnl_parse_state(nlh, &st), -EINVAL);
	nlh = msg_start(XFRM_MSG_NEWPOLICY, &p, sizeof(p));
	assert_int_equal(xnl_parse_state(nlh, &st), -ENOMSG);
	p.family = 99;
	nlh = msg_start(XFRM_MSG_NEWSA, &p, sizeof(p));
	assert_int_equal(xnl_parse_state(nlh, &st), -EAFNOSUPPORT);
	/* Policies: socket policy direction, impossible prefix length. */
	nlh = kernel_newpolicy(0);
	((struct xfrm_userpolicy_info *)mnl_nlmsg_get_payload(nlh))->dir = XFRM_POLICY_MAX + 1;
	assert_int_equal(xnl_parse_policy(nlh, &pi), -EOPNOTSUPP);
	nlh = kernel_newpolicy(0);
	((struct xfrm_userpolicy_info *)mnl_nlmsg_get_payload(nlh))->sel.prefixlen_d = 33;
	assert_int_equal(xnl_parse_policy(nlh, &pi), -EINVAL);
}

/* Every truncation of a valid reply, in a buffer of exactly that size. */
static void test_truncated(void **state)
{
	struct nlmsghdr *full = kernel_newsa();
	size_t len = full->nlmsg_len;
	unsigned char copy[1024];

	assert_true(len <= sizeof(copy));
	memcpy(copy, full, len);
	for (size_t cut = MNL_NLMSG_HDRLEN; cut < len; cut++) {
		struct nlmsghdr *nlh = malloc(cut);
		struct xfrm_state_info st;
		int err;

		assert_non_null(nlh);
		memcpy(nlh, copy, cut);
		nlh->nlmsg_len = (uint32_t)cut;
		err = xnl_parse_state(nlh, &st);
		assert_true(err == 0 || err == -EINVAL);
		free(nlh);
	}
}

/* Random corruption of the attribute area: no crash, only known errors. */
static void test_corrupted(void **state)
{
	struct nlmsghdr *full = kernel_newsa();
	size_t len = full->nlmsg_len, start = MNL_NLMSG_HDRLEN + sizeof(struct xfrm_usersa_info);
	unsigned char copy[1024];
	uint32_t rng = 12345;

	memcpy(copy, full, len);
	for (int iter = 0; iter < 5000; iter++) {
		struct nlmsghdr *nlh = malloc(len);
		struct xfrm_state_info st;
		struct xfrm_event ev;
		bool owned;

		assert_non_null(nlh);
		memcpy(nlh, copy, len);
		for (int flips = 0; flips < 4; flips++) {
			rng = rng * 1103515245u + 12345u;
			((unsigned char *)nlh)[start + (rng >> 8) % (len - start)] = (unsigned char)(rng >> 24);
		}
		int err = xnl_parse_state(nlh, &st);
		assert_true(err == 0 || err == -EINVAL || err == -EAFNOSUPPORT);
		nlh->nlmsg_type = XFRM_MSG_EXPIRE;
		err = xnl_parse_event(nlh, &ev, &owned);
		assert_true(err == 0 || err == -EINVAL || err == -EAFNOSUPPORT);
		free(nlh);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_gcm_state),
		cmocka_unit_test(test_build_cbc_state),
		cmocka_unit_test(test_build_esn_encap_update),
		cmocka_unit_test(test_build_allocspi),
		cmocka_unit_test(test_build_policy),
		cmocka_unit_test(test_build_ids_and_dump),
		cmocka_unit_test(test_build_overflow),
		cmocka_unit_test(test_parse_state),
		cmocka_unit_test(test_parse_policy),
		cmocka_unit_test(test_parse_events),
		cmocka_unit_test(test_datagram_overrun),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
