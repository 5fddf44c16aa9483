/*
 * IKEv2 messages on the wire (RFC 7296 3.1-3.16): the parsed form of a
 * datagram, the parser, the per-exchange payload table, and the builders.
 *
 * Parsing goes in stages, structure first, then meaning:
 *   1. ike_msg_parse(): header and the clear payload chain, each payload
 *      inside its own bounded sub-reader and decoded into typed structs.
 *   2. ike_msg_check_rules(): the clear part against the exchange table
 *      (an encrypted exchange carries exactly one SK payload), and header
 *      rules. Only then may the caller verify the ICV and decrypt.
 *   3. ike_msg_parse_inner(): the decrypted SK plaintext (padding already
 *      removed) with the same chain parser, from SK's first payload type.
 *   4. ike_msg_check_rules() again: the whole message against the table.
 * Spans in struct ike_msg point into the datagram (and the plaintext);
 * those buffers must outlive it. No heap allocation: fixed caps below.
 */
#ifndef CGW_IKE_PAYLOAD_H
#define CGW_IKE_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "conf/proposal.h"
#include "ike/wire.h"

/* Caps: a message beyond them is refused (INVALID_SYNTAX), never cut. */
#define IKE_MAX_PAYLOADS 64		/* payloads per message, clear + SK */
#define IKE_MAX_PROPOSALS 16		/* per SA payload */
#define IKE_MAX_TRANSFORMS 64		/* per proposal */
#define IKE_MAX_NOTIFY 32
#define IKE_MAX_DELETE 8
#define IKE_MAX_VID 16
#define IKE_MAX_TS 16			/* selectors per TS payload */
#define IKE_NONCE_MIN 16		/* 2.10 */
#define IKE_NONCE_MAX 256		/* 3.9 */

struct ike_hdr {
	uint64_t spi_i;
	uint64_t spi_r;
	uint8_t next;			/* first payload type */
	uint8_t version;		/* major << 4 | minor */
	uint8_t exchange;
	uint8_t flags;			/* IKE_FLAG_* (reserved bits kept) */
	uint32_t msgid;
	uint32_t length;		/* == datagram length */
};

struct ike_transform {
	uint8_t type;			/* enum ike_transform_type */
	uint16_t id;
	uint16_t keylen;		/* bits, from the TV key length attribute */
	bool has_keylen;
	bool unknown_attrs;		/* attributes other than one key length */
	struct span attrs;		/* every attribute, raw */
};

struct ike_proposal {
	uint8_t num;
	uint8_t protocol;		/* enum ike_protocol */
	struct span spi;		/* 0, 4 or 8 bytes */
	uint8_t n_xf;
	struct ike_transform xf[IKE_MAX_TRANSFORMS];
};

struct ike_sa_pl {
	uint8_t n_prop;
	struct ike_proposal prop[IKE_MAX_PROPOSALS];
};

struct ike_ke {
	uint16_t group;
	struct span data;
};

struct ike_id {
	uint8_t type;			/* enum ike_id_type */
	struct span data;
	struct span body;		/* type + reserved + data: the AUTH input */
};

struct ike_auth {
	uint8_t method;			/* enum ike_auth_method */
	struct span data;
};

struct ike_notify {
	uint8_t protocol;		/* 0, or the SA's protocol when spi is set */
	uint16_t type;			/* enum ike_notify_type */
	struct span spi;
	struct span data;
};

struct ike_delete {
	uint8_t protocol;
	uint8_t spi_size;		/* 0 for IKE, 4 for ESP/AH */
	uint16_t n_spi;
	struct span spis;		/* n_spi * spi_size bytes */
};

struct ike_ts_entry {
	uint8_t type;			/* IKE_TS_IPV4/IPV6_ADDR_RANGE */
	uint8_t ip_proto;		/* 0 = any */
	uint16_t start_port, end_port;
	uint8_t start[16], end[16];	/* 4 or 16 bytes used, network order */
	struct span raw;		/* other types: the selector after its
					   type, protocol and length */
};

struct ike_ts {
	uint8_t n;
	struct ike_ts_entry ts[IKE_MAX_TS];
};

struct ike_sk_pl {
	uint8_t first;			/* type of the first inner payload */
	struct span body;		/* IV + ciphertext + ICV */
	struct span aad;		/* header .. SK generic header (AEAD AAD) */
};

/* One payload, in message order. */
struct ike_pl_ref {
	uint8_t type;
	uint8_t flags;			/* generic header flags (critical bit) */
	uint8_t idx;			/* index in the typed array (N, D, V) */
	bool inner;			/* came from the SK plaintext */
	bool skipped;			/* unknown, not critical: not decoded */
	struct span body;		/* after the generic header */
};

struct ike_msg {
	struct ike_hdr hdr;
	struct span dgram;
	bool decrypted;			/* ike_msg_parse_inner() succeeded */
	uint8_t n_pl;
	struct ike_pl_ref pl[IKE_MAX_PAYLOADS];
	/* Singletons: valid when ike_msg_count(type) is 1. */
	struct ike_sa_pl sa;
	struct ike_ke ke;
	struct ike_id idi, idr;
	struct ike_auth auth;
	struct span nonce;
	struct ike_ts tsi, tsr;
	struct ike_sk_pl sk;
	uint8_t n_notify, n_delete, n_vid;
	struct ike_notify notify[IKE_MAX_NOTIFY];
	struct ike_delete del[IKE_MAX_DELETE];
	struct span vid[IKE_MAX_VID];
};

/* What the peer did wrong, worst first. */
#define IKE_PERRS(X) \
	X(NONE, "ok") \
	X(DROP, "drop") \
	X(INVALID_SYNTAX, "invalid syntax") \
	X(UNSUPPORTED_CRITICAL, "unsupported critical payload") \
	X(INVALID_MAJOR_VERSION, "invalid major version")

enum ike_perr {
#define X(name, str) IKE_PERR_##name,
	IKE_PERRS(X)
#undef X
};

/* Which row of the exchange table a message matched (ike_msg_check_rules). */
#define IKE_FORMS(X) \
	X(UNKNOWN, "unchecked") \
	X(SA_INIT, "IKE_SA_INIT") \
	X(SA_INIT_ERROR, "IKE_SA_INIT notify-only") \
	X(AUTH_CHILD, "IKE_AUTH with child SA") \
	X(AUTH_NO_CHILD, "IKE_AUTH without child SA") \
	X(AUTH_ERROR, "IKE_AUTH notify-only") \
	X(CHILD, "CREATE_CHILD_SA child SA") \
	X(REKEY_IKE, "CREATE_CHILD_SA rekey IKE SA") \
	X(CHILD_ERROR, "CREATE_CHILD_SA notify-only") \
	X(INFO, "INFORMATIONAL") \
	X(INFO_CLEAR, "INFORMATIONAL unprotected notify")

enum ike_form {
#define X(name, str) IKE_FORM_##name,
	IKE_FORMS(X)
#undef X
};

/*
 * Outcome of a parse or check stage. code says what was wrong; notify is
 * what the caller should answer with, after RFC 7296's rules: only a
 * request is answered; INVALID_SYNTAX only inside an authenticated
 * (decrypted) message (3.10.1); UNSUPPORTED_CRITICAL_PAYLOAD (data: the
 * payload type) and INVALID_MAJOR_VERSION also in clear. notify 0: drop
 * silently. reason is one line for the log; offset is where the problem is
 * (in the datagram, or in the SK plaintext when in_sk).
 */
struct ike_result {
	enum ike_perr code;
	enum ike_form form;		/* set by ike_msg_check_rules() */
	uint16_t notify;
	uint8_t notify_data[1];
	uint8_t notify_data_len;
	bool in_sk;
	size_t offset;
	char reason[160];
};

/* Name of a result code ("invalid syntax"). */
const char *ike_perr_name(enum ike_perr code);
/* Name of a message form ("CREATE_CHILD_SA rekey IKE SA"). */
const char *ike_form_name(enum ike_form form);

/*
 * Stage 1: parse the header and the clear payload chain of one UDP
 * payload (non-ESP marker already stripped). Returns 0, or -EBADMSG with
 * res saying what to do. m is valid up to the failure point only.
 */
int ike_msg_parse(const uint8_t *dgram, size_t len, struct ike_msg *m,
		  struct ike_result *res);

/*
 * Stage 3: parse the decrypted SK plaintext (inner chain, padding and pad
 * length removed) starting at m->sk.first; payloads are added to m with
 * inner set. 0 or -EBADMSG (res as above; now authenticated).
 */
int ike_msg_parse_inner(struct ike_msg *m, const uint8_t *plain, size_t len,
			struct ike_result *res);

/*
 * Stages 2 and 4: check the payload counts against the table row(s) for
 * the exchange and direction, in clear and (once decrypted) inside SK.
 * Before decryption only the clear part is checked. 0 with res->form set,
 * or -EBADMSG.
 */
int ike_msg_check_rules(const struct ike_msg *m, struct ike_result *res);

/* Number of payloads of a type (clear and inner). */
size_t ike_msg_count(const struct ike_msg *m, uint8_t type);
/* First notify of a type, or NULL. */
const struct ike_notify *ike_msg_notify(const struct ike_msg *m, uint16_t type);
/* First error notify (type <= IKE_N_ERROR_MAX), or NULL. */
const struct ike_notify *ike_msg_error_notify(const struct ike_msg *m);
/* Payload list as in strongSwan's logs: "SA KE No N(NAT_DETECTION...) V". */
const char *ike_msg_summary(const struct ike_msg *m, char *buf, size_t len);

/* The i-th SPI of a Delete payload (spi_size 4), or 0. */
uint32_t ike_delete_spi(const struct ike_delete *d, size_t i);

/*
 * A parsed proposal as a struct cgw_proposal, for matching against config.
 * spi receives the proposal's SPI (up to 8 bytes, *spi_len set). Returns
 * 0, -ENOTSUP when it holds a transform type or attribute we do not know
 * (RFC 7296 3.3.6: such a proposal is not chosen), -E2BIG when a type has
 * more than PROPOSAL_MAX_ALGS algorithms.
 */
int ike_proposal_to_cgw(const struct ike_proposal *pp, struct cgw_proposal *out,
			uint8_t spi[8], size_t *spi_len);

/*
 * Builders. A chain remembers where the previous payload's "next payload"
 * octet is, so each payload patches it when appended. Nothing is returned:
 * a failure (no room, a length over 65535, a bad argument) makes the
 * writer fail, checked once with wr_failed() before sending.
 */
struct ike_chain {
	struct buf_writer *w;
	size_t next_at;			/* offset of the octet to patch */
	bool has_next_at;
	bool closed;			/* an SK payload ended the chain */
	size_t msg_start;		/* offset of the IKE header (AEAD AAD) */
	uint8_t first;			/* first payload type written, 0 = none */
};

/* Message under construction: header written, length patched at the end. */
struct ike_msg_builder {
	struct buf_writer *w;
	struct ike_chain ch;
	struct wr_mark len;
};

/* Write hdr (next and length are filled in later) and start its chain. */
void ike_build_begin(struct ike_msg_builder *b, struct buf_writer *w,
		     const struct ike_hdr *hdr);
/* Patch the header length; returns 0, or -ENOSPC if the writer failed. */
int ike_build_end(struct ike_msg_builder *b);

/* A chain without header (the SK plaintext), into its own writer. */
void ike_chain_init(struct ike_chain *ch, struct buf_writer *w);

/*
 * Payload builders: each appends one payload to ch with the fields given
 * (spans are copied; reserved fields written as zero) and patches the
 * previous payload's "next" octet. Bad arguments fail the writer.
 */
void ike_put_ke(struct ike_chain *ch, uint16_t group, struct span data);
void ike_put_nonce(struct ike_chain *ch, struct span nonce);
void ike_put_notify(struct ike_chain *ch, uint8_t protocol, struct span spi,
		    uint16_t type, struct span data);
/* which: IKE_PL_IDI or IKE_PL_IDR. */
void ike_put_id(struct ike_chain *ch, uint8_t which, uint8_t id_type,
		struct span data);
void ike_put_auth(struct ike_chain *ch, uint8_t method, struct span data);
void ike_put_vid(struct ike_chain *ch, struct span data);
/* which: IKE_PL_TSI or IKE_PL_TSR; n selectors (1..255). */
void ike_put_ts(struct ike_chain *ch, uint8_t which,
		const struct ike_ts_entry *ts, size_t n);
/* spis: n * spi_size bytes in network order. */
void ike_put_delete(struct ike_chain *ch, uint8_t protocol, uint8_t spi_size,
		    uint16_t n, struct span spis);
/* Any payload from its raw body (CERTREQ, unknown ones, round trips). */
void ike_put_raw(struct ike_chain *ch, uint8_t type, uint8_t flags,
		 struct span body);

/*
 * SA payload offering every proposal in ps, numbered 1..n (3.3.1).
 * protocol IKE_PROTO_IKE (spi empty in IKE_SA_INIT, 8 bytes on rekey) or
 * IKE_PROTO_ESP/AH (4-byte spi). Transforms in the order ENCR (with key
 * length), INTEG, PRF, DH, ESN; ESP always carries ESN (none when unset).
 */
void ike_put_sa(struct ike_chain *ch, const struct cgw_proposals *ps,
		uint8_t protocol, struct span spi);
/*
 * SA payload with one proposal as the responder returns it: p must hold
 * one algorithm per transform type, num the number the peer gave it.
 */
void ike_put_sa_chosen(struct ike_chain *ch, const struct cgw_proposal *p,
		       uint8_t num, uint8_t protocol, struct span spi);
/* SA payload re-encoded from its parsed form (tests, forwarding). */
void ike_put_sa_parsed(struct ike_chain *ch, const struct ike_sa_pl *sa);

/*
 * Re-encode every payload of m (clear chain only; SK from its raw body)
 * after a header: parse -> build gives back the same bytes.
 */
int ike_build_from_msg(struct buf_writer *w, const struct ike_msg *m);
/* Re-encode the inner (SK plaintext) payloads of m into their own chain. */
int ike_build_inner_from_msg(struct buf_writer *w, const struct ike_msg *m);

/*
 * SK framing (3.14). The inner chain is built first, with ike_chain_init()
 * over its own buffer. ike_put_sk() then appends the SK payload: generic
 * header (next = the inner chain's first type), iv_len bytes for the IV,
 * the inner bytes followed by zero padding and the pad length octet so
 * that their total is a multiple of block, and icv_len zero bytes for the
 * ICV; it closes the chain (SK is last). After ike_build_end() the caller
 * fills the IV, encrypts [ct_at, ct_at + ct_len) in place and writes the
 * ICV at icv_at (computed over [aad_at, icv_at), or the AEAD tag with
 * [aad_at, aad_at + aad_len) as AAD). Offsets are in the writer's buffer.
 */
struct ike_sk_layout {
	size_t aad_at, aad_len;		/* header .. end of the SK generic header */
	size_t iv_at;
	size_t ct_at, ct_len;
	size_t icv_at;
};
void ike_put_sk(struct ike_chain *ch, const struct ike_chain *inner,
		size_t iv_len, size_t block, size_t icv_len,
		struct ike_sk_layout *lay);

/*
 * Whole protected message in one call: header hdr, then SK around the
 * inner chain (built by the caller into inner->w). 0 or -ENOSPC (the
 * writer failed: no room, or a bad argument such as inner->w == w).
 */
int ike_build_sk_msg(struct buf_writer *w, const struct ike_hdr *hdr,
		     const struct ike_chain *inner, size_t iv_len, size_t block,
		     size_t icv_len, struct ike_sk_layout *lay);

#endif
