/*
 * IKEv2 on-wire numbers (RFC 7296 section 3, IANA "IKEv2 Parameters"):
 * exchange types, payload types, notify types, ID, TS, protocol and
 * authentication method numbers. Each list is an X-macro so the enum and
 * its name table (ike/payload-names.c) cannot drift apart.
 */
#ifndef CGW_IKE_WIRE_H
#define CGW_IKE_WIRE_H

#include <stdint.h>

#define IKE_HDR_LEN 28			/* fixed header (3.1) */
#define IKE_PL_HDR_LEN 4		/* generic payload header (3.2) */
#define IKE_VERSION_MAJOR 2
#define IKE_VERSION_MINOR 0
#define IKE_VERSION ((IKE_VERSION_MAJOR << 4) | IKE_VERSION_MINOR)

/* Header flags (3.1). The other bits are reserved: sent 0, ignored. */
#define IKE_FLAG_I 0x08			/* sent by the original initiator */
#define IKE_FLAG_V 0x10			/* "higher version supported" */
#define IKE_FLAG_R 0x20			/* this is a response */

/* Generic payload header flags (3.2). */
#define IKE_PL_CRITICAL 0x80

/* Exchange types (3.1). */
#define IKE_EXCHANGES(X) \
	X(IKE_SA_INIT, 34) \
	X(IKE_AUTH, 35) \
	X(CREATE_CHILD_SA, 36) \
	X(INFORMATIONAL, 37)

enum ike_exchange {
#define X(name, num) IKE_EXCH_##name = num,
	IKE_EXCHANGES(X)
#undef X
};

/*
 * Payload types (3.2). The ones RFC 7296 defines are contiguous (33..48);
 * CERT, CERTREQ, CP and EAP are recognised but not decoded.
 */
#define IKE_PAYLOADS(X) \
	X(SA, 33, "SA") \
	X(KE, 34, "KE") \
	X(IDI, 35, "IDi") \
	X(IDR, 36, "IDr") \
	X(CERT, 37, "CERT") \
	X(CERTREQ, 38, "CERTREQ") \
	X(AUTH, 39, "AUTH") \
	X(NONCE, 40, "No") \
	X(NOTIFY, 41, "N") \
	X(DELETE, 42, "D") \
	X(VID, 43, "V") \
	X(TSI, 44, "TSi") \
	X(TSR, 45, "TSr") \
	X(SK, 46, "SK") \
	X(CP, 47, "CP") \
	X(EAP, 48, "EAP")

enum ike_payload_type {
	IKE_PL_NONE = 0,
#define X(name, num, str) IKE_PL_##name = num,
	IKE_PAYLOADS(X)
#undef X
};

#define IKE_PL_FIRST IKE_PL_SA
#define IKE_PL_LAST IKE_PL_EAP
#define IKE_PL_KNOWN(t) ((t) >= IKE_PL_FIRST && (t) <= IKE_PL_LAST)
#define IKE_PL_COUNT (IKE_PL_LAST - IKE_PL_FIRST + 1)
/* Index of a known payload type in per-type tables. */
#define IKE_PL_IDX(t) ((t) - IKE_PL_FIRST)

/* Security protocol ids (3.3.1, 3.10, 3.11). */
#define IKE_PROTOCOLS(X) \
	X(IKE, 1) \
	X(AH, 2) \
	X(ESP, 3)

enum ike_protocol {
	IKE_PROTO_NONE = 0,
#define X(name, num) IKE_PROTO_##name = num,
	IKE_PROTOCOLS(X)
#undef X
};

/* Transform attribute types (3.3.5). */
#define IKE_ATTR_KEY_LENGTH 14
#define IKE_ATTR_TV 0x8000		/* attribute format bit: TV */

/* Proposal / transform "last substructure" markers (3.3.1, 3.3.2). */
#define IKE_LAST 0
#define IKE_MORE_PROPOSALS 2
#define IKE_MORE_TRANSFORMS 3

/* Identification types (3.5). */
#define IKE_ID_TYPES(X) \
	X(IPV4_ADDR, 1) \
	X(FQDN, 2) \
	X(RFC822_ADDR, 3) \
	X(IPV6_ADDR, 5) \
	X(DER_ASN1_DN, 9) \
	X(DER_ASN1_GN, 10) \
	X(KEY_ID, 11)

enum ike_id_type {
#define X(name, num) IKE_ID_##name = num,
	IKE_ID_TYPES(X)
#undef X
};

/* Authentication methods (3.8, RFC 7427). */
#define IKE_AUTH_METHODS(X) \
	X(RSA_SIG, 1) \
	X(SHARED_KEY_MIC, 2) \
	X(DSS_SIG, 3) \
	X(DIGITAL_SIGNATURE, 14)

enum ike_auth_method {
#define X(name, num) IKE_AUTH_##name = num,
	IKE_AUTH_METHODS(X)
#undef X
};

/* Traffic selector types (3.13.1). */
#define IKE_TS_TYPES(X) \
	X(IPV4_ADDR_RANGE, 7) \
	X(IPV6_ADDR_RANGE, 8)

enum ike_ts_type {
#define X(name, num) IKE_TS_##name = num,
	IKE_TS_TYPES(X)
#undef X
};

/*
 * Notify message types (3.10.1): every error type of RFC 7296, the status
 * types it defines, and the status types common peers (strongSwan,
 * Libreswan, AWS) send, so logs name them.
 */
#define IKE_NOTIFIES(X) \
	X(UNSUPPORTED_CRITICAL_PAYLOAD, 1) \
	X(INVALID_IKE_SPI, 4) \
	X(INVALID_MAJOR_VERSION, 5) \
	X(INVALID_SYNTAX, 7) \
	X(INVALID_MESSAGE_ID, 9) \
	X(INVALID_SPI, 11) \
	X(NO_PROPOSAL_CHOSEN, 14) \
	X(INVALID_KE_PAYLOAD, 17) \
	X(AUTHENTICATION_FAILED, 24) \
	X(SINGLE_PAIR_REQUIRED, 34) \
	X(NO_ADDITIONAL_SAS, 35) \
	X(INTERNAL_ADDRESS_FAILURE, 36) \
	X(FAILED_CP_REQUIRED, 37) \
	X(TS_UNACCEPTABLE, 38) \
	X(INVALID_SELECTORS, 39) \
	X(TEMPORARY_FAILURE, 43) \
	X(CHILD_SA_NOT_FOUND, 44) \
	X(INITIAL_CONTACT, 16384) \
	X(SET_WINDOW_SIZE, 16385) \
	X(ADDITIONAL_TS_POSSIBLE, 16386) \
	X(IPCOMP_SUPPORTED, 16387) \
	X(NAT_DETECTION_SOURCE_IP, 16388) \
	X(NAT_DETECTION_DESTINATION_IP, 16389) \
	X(COOKIE, 16390) \
	X(USE_TRANSPORT_MODE, 16391) \
	X(HTTP_CERT_LOOKUP_SUPPORTED, 16392) \
	X(REKEY_SA, 16393) \
	X(ESP_TFC_PADDING_NOT_SUPPORTED, 16394) \
	X(NON_FIRST_FRAGMENTS_ALSO, 16395) \
	X(MOBIKE_SUPPORTED, 16396) \
	X(NO_ADDITIONAL_ADDRESSES, 16399) \
	X(MULTIPLE_AUTH_SUPPORTED, 16404) \
	X(REDIRECT_SUPPORTED, 16406) \
	X(EAP_ONLY_AUTHENTICATION, 16417) \
	X(CHILDLESS_IKEV2_SUPPORTED, 16418) \
	X(IKEV2_MESSAGE_ID_SYNC_SUPPORTED, 16420) \
	X(IKEV2_FRAGMENTATION_SUPPORTED, 16430) \
	X(SIGNATURE_HASH_ALGORITHMS, 16431)

enum ike_notify_type {
#define X(name, num) IKE_N_##name = num,
	IKE_NOTIFIES(X)
#undef X
};

/* Types below this are errors (3.10.1). */
#define IKE_N_ERROR_MAX 16383

/* Names for logs; NULL when the number is not in the table. */
const char *ike_exchange_name(unsigned int exchange);
/* Short names as in strongSwan's logs ("SA", "No", "N", "IDi"). */
const char *ike_payload_name(unsigned int type);
const char *ike_notify_name(unsigned int type);
const char *ike_protocol_name(unsigned int proto);
const char *ike_id_type_name(unsigned int type);
const char *ike_auth_method_name(unsigned int method);
const char *ike_ts_type_name(unsigned int type);

#endif
