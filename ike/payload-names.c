/*
 * Name tables for the IKEv2 numbers in ike/wire.h and the result codes in
 * ike/payload.h, generated from the same X-macros as the enums.
 */
#include <stddef.h>

#include "ike/payload.h"
#include "ike/wire.h"

const char *ike_exchange_name(unsigned int exchange)
{
	switch (exchange) {
#define X(name, num) case num: return #name;
	IKE_EXCHANGES(X)
#undef X
	}
	return NULL;
}

const char *ike_payload_name(unsigned int type)
{
	switch (type) {
	case IKE_PL_NONE: return "NONE";
#define X(name, num, str) case num: return str;
	IKE_PAYLOADS(X)
#undef X
	}
	return NULL;
}

const char *ike_notify_name(unsigned int type)
{
	switch (type) {
#define X(name, num) case num: return #name;
	IKE_NOTIFIES(X)
#undef X
	}
	return NULL;
}

const char *ike_protocol_name(unsigned int proto)
{
	switch (proto) {
#define X(name, num) case num: return #name;
	IKE_PROTOCOLS(X)
#undef X
	}
	return NULL;
}

const char *ike_id_type_name(unsigned int type)
{
	switch (type) {
#define X(name, num) case num: return "ID_" #name;
	IKE_ID_TYPES(X)
#undef X
	}
	return NULL;
}

const char *ike_auth_method_name(unsigned int method)
{
	switch (method) {
#define X(name, num) case num: return #name;
	IKE_AUTH_METHODS(X)
#undef X
	}
	return NULL;
}

const char *ike_ts_type_name(unsigned int type)
{
	switch (type) {
#define X(name, num) case num: return "TS_" #name;
	IKE_TS_TYPES(X)
#undef X
	}
	return NULL;
}

const char *ike_perr_name(enum ike_perr code)
{
	switch (code) {
#define X(name, str) case IKE_PERR_##name: return str;
	IKE_PERRS(X)
#undef X
	}
	return NULL;
}

const char *ike_form_name(enum ike_form form)
{
	switch (form) {
#define X(name, str) case IKE_FORM_##name: return str;
	IKE_FORMS(X)
#undef X
	}
	return NULL;
}
