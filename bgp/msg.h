/*
 * BGP-4 messages on the wire: framing, OPEN, UPDATE, NOTIFICATION,
 * KEEPALIVE and ROUTE-REFRESH, parsed and built (RFC 4271 4.1-4.5 and 6;
 * RFC 4760 multiprotocol; RFC 6793 4-octet AS; RFC 2918 ROUTE-REFRESH;
 * RFC 4724 graceful restart capability; RFC 9072 extended optional
 * parameters; RFC 7606 revised UPDATE error handling; RFC 9003 shutdown
 * communication). No sockets, no timers, no state: the FSM feeds bytes in
 * and sends what comes out.
 *
 * Receiving, in stages, structure first, then meaning:
 *   1. bgp_frame() on the TCP byte stream: marker, length, type. A bad
 *      header is a Message Header Error NOTIFICATION to send.
 *   2. the parser for the type, on the body (the bytes after the 19-byte
 *      header). Peer errors come back as a struct bgp_result: what to do
 *      (RFC 7606 action), the NOTIFICATION when the session must be reset,
 *      and one line for the log. Return values are 0 or -errno.
 * Sending: every builder appends one whole message (header included) to a
 * struct buf_writer and returns 0, or -EMSGSIZE when it does not fit the
 * writer or BGP_MSG_MAX (the writer is then failed and must not be sent).
 */
#ifndef CGW_BGP_MSG_H
#define CGW_BGP_MSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/attr.h"
#include "common/buf.h"
#include "conf/conf.h"

#define BGP_MARKER_LEN 16
#define BGP_HDR_LEN 19
#define BGP_MSG_MAX 4096		/* no RFC 8654 extended messages */
#define BGP_VERSION 4
#define BGP_AS_TRANS 23456		/* RFC 6793 */
#define BGP_NOTIF_DATA_MAX (BGP_MSG_MAX - BGP_HDR_LEN - 2)

#define BGP_AFI_IPV4 1
#define BGP_AFI_IPV6 2
#define BGP_SAFI_UNICAST 1

#define BGP_MSG_TYPES(X) \
	X(OPEN, 1, "OPEN") \
	X(UPDATE, 2, "UPDATE") \
	X(NOTIFICATION, 3, "NOTIFICATION") \
	X(KEEPALIVE, 4, "KEEPALIVE") \
	X(ROUTE_REFRESH, 5, "ROUTE-REFRESH")

enum bgp_msg_type {
#define X(id, val, str) BGP_MSG_##id = val,
	BGP_MSG_TYPES(X)
#undef X
};

/* NOTIFICATION error codes (RFC 4271 4.5, RFC 7313). */
#define BGP_ERR_CODES(X) \
	X(HEADER, 1, "Message Header Error") \
	X(OPEN, 2, "OPEN Message Error") \
	X(UPDATE, 3, "UPDATE Message Error") \
	X(HOLD, 4, "Hold Timer Expired") \
	X(FSM, 5, "Finite State Machine Error") \
	X(CEASE, 6, "Cease") \
	X(RR, 7, "ROUTE-REFRESH Message Error")

enum bgp_err_code {
#define X(id, val, str) BGP_ERR_##id = val,
	BGP_ERR_CODES(X)
#undef X
};

/* Subcodes: (code, id, value, name); RFC 4271 6, 5492, 4486, 8538, 6608, 9234. */
#define BGP_ERR_SUBCODES(X) \
	X(HEADER, NOT_SYNC, 1, "Connection Not Synchronized") \
	X(HEADER, BAD_LEN, 2, "Bad Message Length") \
	X(HEADER, BAD_TYPE, 3, "Bad Message Type") \
	X(OPEN, UNSPECIFIC, 0, "Unspecific") \
	X(OPEN, BAD_VERSION, 1, "Unsupported Version Number") \
	X(OPEN, BAD_PEER_AS, 2, "Bad Peer AS") \
	X(OPEN, BAD_BGP_ID, 3, "Bad BGP Identifier") \
	X(OPEN, UNSUP_PARAM, 4, "Unsupported Optional Parameter") \
	X(OPEN, BAD_HOLD, 6, "Unacceptable Hold Time") \
	X(OPEN, UNSUP_CAP, 7, "Unsupported Capability") \
	X(OPEN, ROLE_MISMATCH, 11, "Role Mismatch") \
	X(UPDATE, MALFORMED_ATTR_LIST, 1, "Malformed Attribute List") \
	X(UPDATE, UNRECOGNIZED_WELLKNOWN, 2, "Unrecognized Well-known Attribute") \
	X(UPDATE, MISSING_WELLKNOWN, 3, "Missing Well-known Attribute") \
	X(UPDATE, ATTR_FLAGS, 4, "Attribute Flags Error") \
	X(UPDATE, ATTR_LEN, 5, "Attribute Length Error") \
	X(UPDATE, INVALID_ORIGIN, 6, "Invalid ORIGIN Attribute") \
	X(UPDATE, INVALID_NEXT_HOP, 8, "Invalid NEXT_HOP Attribute") \
	X(UPDATE, OPTIONAL_ATTR, 9, "Optional Attribute Error") \
	X(UPDATE, INVALID_NETWORK, 10, "Invalid Network Field") \
	X(UPDATE, MALFORMED_AS_PATH, 11, "Malformed AS_PATH") \
	X(FSM, UNSPECIFIED, 0, "Unspecified Error") \
	X(FSM, OPENSENT, 1, "Unexpected Message in OpenSent State") \
	X(FSM, OPENCONFIRM, 2, "Unexpected Message in OpenConfirm State") \
	X(FSM, ESTABLISHED, 3, "Unexpected Message in Established State") \
	X(CEASE, MAX_PREFIX, 1, "Maximum Number of Prefixes Reached") \
	X(CEASE, ADMIN_SHUTDOWN, 2, "Administrative Shutdown") \
	X(CEASE, PEER_DECONFIGURED, 3, "Peer De-configured") \
	X(CEASE, ADMIN_RESET, 4, "Administrative Reset") \
	X(CEASE, CONN_REJECTED, 5, "Connection Rejected") \
	X(CEASE, OTHER_CONFIG_CHANGE, 6, "Other Configuration Change") \
	X(CEASE, COLLISION, 7, "Connection Collision Resolution") \
	X(CEASE, OUT_OF_RESOURCES, 8, "Out of Resources") \
	X(CEASE, HARD_RESET, 9, "Hard Reset") \
	X(CEASE, BFD_DOWN, 10, "BFD Down") \
	X(RR, INVALID_LEN, 1, "Invalid Message Length")

enum bgp_err_subcode {
#define X(code, id, val, str) BGP_SUB_##code##_##id = val,
	BGP_ERR_SUBCODES(X)
#undef X
};

/* Names for logs, static strings, never NULL: "UPDATE" or "unknown type". */
const char *bgp_msg_type_name(uint8_t type);
/* "Cease", or "unknown error code". */
const char *bgp_err_code_name(uint8_t code);
/* "Administrative Shutdown"; "Unspecific" for 0; else "unknown subcode". */
const char *bgp_err_subcode_name(uint8_t code, uint8_t subcode);

/* A NOTIFICATION: to send, or as received. */
struct bgp_notif {
	uint8_t code;
	uint8_t subcode;
	uint16_t data_len;
	uint8_t data[BGP_NOTIF_DATA_MAX];
};

/*
 * What a peer's message asks of us (RFC 7606 2), weakest first; several
 * errors in one message: the strongest wins (7606 3.h).
 *   DISCARD   an attribute was dropped, the message is otherwise used;
 *   WITHDRAW  treat-as-withdraw: every route in the message is withdrawn;
 *   RESET     send notif, close the session.
 */
#define BGP_ACTIONS(X) \
	X(NONE, "ok") \
	X(DISCARD, "attribute discard") \
	X(WITHDRAW, "treat-as-withdraw") \
	X(RESET, "session reset")

enum bgp_action {
#define X(id, str) BGP_ACT_##id,
	BGP_ACTIONS(X)
#undef X
};

const char *bgp_action_name(enum bgp_action act);

struct bgp_result {
	enum bgp_action action;
	struct bgp_notif notif;		/* RESET: the NOTIFICATION to send */
	char reason[160];		/* the first error of the strongest kind */
	unsigned n_errors;		/* every error met, all kinds */
};

/* Zero res (action NONE, empty reason). */
void bgp_result_clear(struct bgp_result *res);
/*
 * One log line for a non-NONE result: RESET as a warning, WITHDRAW as
 * info, DISCARD as debug (category bgp). who prefixes it (peer, AS).
 * Lines a peer can trigger: the caller rate-limits.
 */
void bgp_result_log(const char *who, const struct bgp_result *res);

/*
 * Session properties the wire format depends on (fixed once OPENs are
 * exchanged). four_octet: both sides sent the 4-octet AS capability, so
 * AS_PATH and AGGREGATOR carry 4-octet ASes and AS4_* are not used.
 * ebgp: the peer is in another AS (LOCAL_PREF from it is discarded).
 * peer_as: on eBGP, the AS an announced AS_PATH must start with (RFC 4271
 * 6.3; 0: not checked). local: our address on the connection, never a
 * valid NEXT_HOP, and a loopback NEXT_HOP is valid only when it is one too
 * (0: unknown, neither is checked).
 */
struct bgp_wire_opts {
	bool four_octet;
	bool ebgp;
	uint32_t peer_as;
	struct in_addr local;
};

/* ---- Framing ----------------------------------------------------------- */

struct bgp_frame {
	uint8_t type;			/* enum bgp_msg_type */
	uint16_t len;			/* whole message, header included */
	struct span body;		/* after the header, into the caller's buffer */
};

/*
 * Look at the start of a TCP byte stream. Returns 0 when a whole, well
 * framed message starts at buf (f filled; consume f->len bytes); -EAGAIN
 * when more bytes are needed (f->len: how many the buffer must hold, at
 * least); -EBADMSG when the header is bad: res->action is RESET and
 * res->notif the Message Header Error to send (data per RFC 4271 6.1: the
 * length field for Bad Message Length, the type for Bad Message Type).
 * Checks: marker all ones, length 19..4096 and per type (OPEN >= 29,
 * UPDATE >= 23, NOTIFICATION >= 21, KEEPALIVE == 19, ROUTE-REFRESH == 23),
 * type 1..5.
 */
int bgp_frame(const void *buf, size_t len, struct bgp_frame *f,
	      struct bgp_result *res);

/* ---- OPEN ---------------------------------------------------------------- */

#define BGP_CAP_MP 1
#define BGP_CAP_ROUTE_REFRESH 2
#define BGP_CAP_GR 64
#define BGP_CAP_AS4 65

#define BGP_GR_RESTART 0x8		/* R: restarting (restart flags) */
#define BGP_GR_NOTIFICATION 0x4		/* N: RFC 8538 */
#define BGP_GR_AF_FORWARDING 0x80	/* F: forwarding state preserved */

#define BGP_OPEN_MAX_AFI 32
#define BGP_OPEN_MAX_CAPS 128
#define BGP_OPEN_MAX_PARAMS 128

struct bgp_afi_safi {
	uint16_t afi;
	uint8_t safi;
	uint8_t flags;			/* graceful restart list: F bit */
};

/* One capability as it was on the wire (value in bgp_open.capbuf). */
struct bgp_cap {
	uint8_t code;
	uint8_t len;
	uint16_t off;
};

struct bgp_open {
	uint8_t version;
	uint16_t my_as2;		/* the 2-octet My AS field */
	uint32_t my_as;			/* the peer's AS: AS4 capability, else my_as2 */
	uint16_t hold_time;		/* 0 or >= 3 */
	struct in_addr bgp_id;		/* network order, not 0 */

	bool cap_as4;			/* 4-octet AS (65): my_as from it */
	bool cap_route_refresh;		/* 2 */
	bool cap_mp;			/* any multiprotocol (1) capability */
	uint8_t n_afi;			/* multiprotocol AFI/SAFIs, deduplicated,
					   the first BGP_OPEN_MAX_AFI */
	struct bgp_afi_safi afi[BGP_OPEN_MAX_AFI];
	bool cap_gr;			/* graceful restart (64), the last one */
	uint8_t gr_flags;		/* BGP_GR_RESTART, BGP_GR_NOTIFICATION */
	uint16_t gr_time;		/* seconds, 0..4095 */
	uint8_t n_gr_afi;
	struct bgp_afi_safi gr_afi[BGP_OPEN_MAX_AFI];
	uint8_t n_unknown;		/* other capabilities, kept as is */

	/*
	 * Wire layout. bgp_open_parse() records it and sets wire, so
	 * bgp_build_open() re-emits the message byte for byte; when wire is
	 * false the builder encodes the typed fields above instead (every
	 * capability in one optional parameter, unknown ones dropped).
	 */
	bool wire;
	bool ext_params;		/* RFC 9072 encoding */
	uint8_t ext_marker;		/* its Non-Ext OP Len octet (255 when built) */
	uint8_t n_params;		/* capability parameters (type 2) */
	uint8_t param_caps[BGP_OPEN_MAX_PARAMS]; /* capabilities in each */
	uint8_t n_caps;
	struct bgp_cap caps[BGP_OPEN_MAX_CAPS];
	uint16_t capbuf_len;
	uint8_t capbuf[BGP_MSG_MAX];
};

/*
 * Start an OPEN of ours: version 4, my_as (My AS field AS_TRANS when it
 * does not fit 16 bits), hold time, identifier, the 4-octet AS and route
 * refresh capabilities, no AFI (add them with bgp_open_add_afi).
 */
void bgp_open_init(struct bgp_open *o, uint32_t my_as, uint16_t hold_time,
		   struct in_addr bgp_id);
/* Add a multiprotocol AFI/SAFI (cap_mp). -ENOSPC when full; 0 if present. */
int bgp_open_add_afi(struct bgp_open *o, uint16_t afi, uint8_t safi);
/*
 * True when the peer offers afi/safi: listed in its multiprotocol
 * capabilities, or IPv4 unicast when it sent none (RFC 4760 8).
 */
bool bgp_open_has_afi(const struct bgp_open *o, uint16_t afi, uint8_t safi);

/*
 * Parse an OPEN body (f->body of a framed OPEN) into o. 0 on success;
 * -EBADMSG with res->notif the OPEN Message Error to send (Unsupported
 * Version Number with data = 2-octet version 4; Unacceptable Hold Time;
 * Bad BGP Identifier for 0; Bad Peer AS for AS 0 (RFC 7607); Unsupported
 * Optional Parameter for parameter types other than 2; Unspecific for
 * lengths that do not add up). Checking my_as against the config, and the
 * identifier against ours, is the FSM's job.
 */
int bgp_open_parse(const void *body, size_t len, struct bgp_open *o,
		   struct bgp_result *res);
/* Append an OPEN (see bgp_open.wire). 0 or -EMSGSIZE. */
int bgp_build_open(struct buf_writer *w, const struct bgp_open *o);

/* ---- UPDATE -------------------------------------------------------------- */

/*
 * A parsed UPDATE. Prefixes are host-bit-clean struct cgw_prefix (bits
 * past the length are ignored on the wire, RFC 4271 4.3: masked here).
 * IPv4 unicast comes from the Withdrawn Routes and NLRI fields and from
 * MP_UNREACH/MP_REACH AFI 1/SAFI 1 (whose next hop is then
 * attrs->next_hop); IPv6 unicast (AFI 2/SAFI 1) goes to the *6 lists with
 * its next hops here, since struct bgp_attrs has none for IPv6. MP
 * attributes of other AFI/SAFIs are skipped (not negotiated by us).
 */
struct bgp_update {
	struct cgw_prefix *withdrawn;	/* AF_INET */
	size_t n_withdrawn;
	struct cgw_prefix *nlri;	/* AF_INET, announced with attrs */
	size_t n_nlri;
	struct cgw_prefix *withdrawn6;	/* AF_INET6 */
	size_t n_withdrawn6;
	struct cgw_prefix *nlri6;	/* AF_INET6, announced with attrs */
	size_t n_nlri6;
	struct in6_addr next_hop6;	/* global */
	struct in6_addr next_hop6_ll;	/* link-local, when has_next_hop6_ll */
	bool has_next_hop6_ll;
	/*
	 * Sealed, refcount 1, owned by the update (bgp_attrs_ref to keep);
	 * NULL when nothing is announced (withdrawals only, treat-as-withdraw).
	 */
	struct bgp_attrs *attrs;
	bool eor;			/* End-of-RIB marker (RFC 4724 2) */
	uint16_t eor_afi;
	uint8_t eor_safi;
};

/*
 * Parse an UPDATE body. Returns 0 when the message is to be used, with
 * res->action NONE, DISCARD (attributes dropped, see reason) or WITHDRAW
 * (every announced prefix moved to the withdrawn lists, attrs NULL);
 * -EBADMSG for RESET (res->notif to send, u empty); -ENOMEM. RFC 7606
 * per attribute, see msg-update.c. Free u with bgp_update_free() in every
 * case.
 */
int bgp_update_parse(const void *body, size_t len, const struct bgp_wire_opts *o,
		     struct bgp_update *u, struct bgp_result *res);
void bgp_update_free(struct bgp_update *u);

/*
 * Append one UPDATE announcing pfx[*done..n) (AF_INET) with a, as many as
 * fit BGP_MSG_MAX and the writer; *done moves past them. Call again until
 * *done == n, each message in its own writer (or after sending).
 * AS_PATH/AGGREGATOR 4-octet when o->four_octet, else 2-octet with
 * AS_TRANS plus AS4_PATH/AS4_AGGREGATOR when an AS needs it; unknown
 * transitive attributes re-emitted with Partial. -EMSGSIZE when not even
 * one prefix fits; -EAFNOSUPPORT for a prefix that is not AF_INET;
 * -EINVAL when a is NULL or *done >= n.
 */
int bgp_build_update(struct buf_writer *w, const struct bgp_attrs *a,
		     const struct cgw_prefix *pfx, size_t n, size_t *done,
		     const struct bgp_wire_opts *o);
/* The same for withdrawals (Withdrawn Routes field, no attributes). */
int bgp_build_withdraw(struct buf_writer *w, const struct cgw_prefix *pfx,
		       size_t n, size_t *done);
/* IPv4 unicast End-of-RIB: an empty UPDATE. */
int bgp_build_eor(struct buf_writer *w);
/* The path attributes alone (what an UPDATE carries), for tests and hashing. */
int bgp_build_attrs(struct buf_writer *w, const struct bgp_attrs *a,
		    const struct bgp_wire_opts *o);

/* ---- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ------------------------------ */

/* Parse a NOTIFICATION body (>= 2 bytes, framed). 0 or -EBADMSG. */
int bgp_notification_parse(const void *body, size_t len, struct bgp_notif *n);
int bgp_build_notification(struct buf_writer *w, const struct bgp_notif *n);
/* Fill n: code, subcode, no data. */
void bgp_notif_set(struct bgp_notif *n, uint8_t code, uint8_t subcode);
/*
 * Cease/Administrative Shutdown or Reset with a shutdown communication
 * (RFC 9003: length octet, then UTF-8, up to 255 bytes): the text into
 * buf with control characters replaced by '?'. 0, or -ENOENT when there
 * is none (or it is malformed).
 */
int bgp_notif_shutdown_msg(const struct bgp_notif *n, char *buf, size_t len);
/* Set a Cease/subcode NOTIFICATION carrying text (cut at 255 bytes). */
void bgp_notif_set_shutdown(struct bgp_notif *n, uint8_t subcode, const char *text);
/* "Cease/Administrative Shutdown: \"text\"" or "... (3 data bytes)". */
const char *bgp_notif_str(const struct bgp_notif *n, char *buf, size_t len);

int bgp_build_keepalive(struct buf_writer *w);

struct bgp_route_refresh {
	uint16_t afi;
	uint8_t subtype;		/* RFC 7313; 0 for RFC 2918 */
	uint8_t safi;
};

/* Parse a ROUTE-REFRESH body (4 bytes). 0 or -EBADMSG. */
int bgp_route_refresh_parse(const void *body, size_t len, struct bgp_route_refresh *rr);
/* Append a ROUTE-REFRESH (subtype 0 for a plain RFC 2918 request). */
int bgp_build_route_refresh(struct buf_writer *w, const struct bgp_route_refresh *rr);

#endif
