/*
 * Shared between tfstate.c (JSON, state layouts, selection) and tfvpn.c
 * (one aws_vpn_connection -> the model); not for other modules.
 */
#ifndef CGW_IMPORT_TFSTATE_H
#define CGW_IMPORT_TFSTATE_H

#include <json-c/json.h>

#include "import/import.h"

struct tf_inst {
	const char *type;		/* points into the JSON tree */
	char address[256];		/* module.x.aws_vpn_connection.y["k"] */
	json_object *attrs;
};

struct tf_ctx {
	const char *name;		/* file name, for messages */
	struct imp_diag *d;
	struct tf_inst *v;
	size_t n;
};

/* Attribute helpers: null, "" and 0 all read as "not set". */
const char *tf_str(json_object *o, const char *key);
/* 1 set (number or numeric string), 0 unset, -1 not a number. */
int tf_u32(json_object *o, const char *key, uint32_t *out);
/* The instance of type whose attributes.key equals value, or NULL. */
const struct tf_inst *tf_find(const struct tf_ctx *t, const char *type,
			      const char *key, const char *value);

/* One aws_vpn_connection instance into v. 0 or -EINVAL. */
int tf_vpn(const struct tf_ctx *t, const struct tf_inst *in, struct imp_vpn *v);

#endif
