/*
 * Terraform state: JSON (json-c, bounded depth, parse errors as
 * line:column), the layouts (state v4, `terraform show -json`; v3 and
 * human `state show` text recognised and refused with a reason), the
 * resources we need collected with their Terraform addresses, and the
 * choice of VPN connection(s) (--vpn). tfvpn.c maps each one.
 */
#include "import/tfstate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "common/util.h"

#define TF_MAX_DEPTH 64
#define TF_MAX_INSTANCES 4096

static const char *const wanted[] = {
	"aws_vpn_connection", "aws_customer_gateway", "aws_vpn_gateway",
	"aws_ec2_transit_gateway", "aws_vpn_connection_route", "aws_vpc",
	"aws_vpn_gateway_attachment",
};

const char *tf_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

int tf_u32(json_object *o, const char *key, uint32_t *out)
{
	json_object *v;
	const char *s;
	char *end;
	unsigned long long n;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0 || i > UINT32_MAX)
			return -1;
		*out = (uint32_t)i;
		return i != 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		double f = json_object_get_double(v);
		if (!(f >= 0 && f <= 4294967295.0) || f != (double)(uint32_t)f)
			return -1;
		*out = (uint32_t)f;
		return *out != 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (!*s)
		return 0;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s == '-' || *s == '+' || errno || *end || n > UINT32_MAX)
		return -1;
	*out = (uint32_t)n;
	return n != 0;
}

const struct tf_inst *tf_find(const struct tf_ctx *t, const char *type,
			      const char *key, const char *value)
{
	if (!value || !*value)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].type, type) == 0 &&
		    strcmp(tf_str(t->v[i].attrs, key), value) == 0)
			return &t->v[i];
	return NULL;
}

/* ---- JSON ---- */

static void offset_to_linecol(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static json_object *parse_json(const char *name, const char *text, size_t len,
			       struct imp_diag *d)
{
	struct json_tokener *tok = json_tokener_new_ex(TF_MAX_DEPTH);
	enum json_tokener_error e;
	json_object *root;
	unsigned line, col;
	size_t end;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);	/* Terraform writes strict JSON */
	root = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (root && e == json_tokener_success) {
		while (end < len && strchr(" \t\r\n", text[end]))
			end++;
		if (end < len) {
			offset_to_linecol(text, end, &line, &col);
			imp_error(d, name, line, "column %u: data after the end of the "
				  "JSON document", col);
			json_object_put(root);
			root = NULL;
		}
	} else {
		offset_to_linecol(text, e == json_tokener_continue ? len : end, &line, &col);
		imp_error(d, name, line, "column %u: %s%s", col,
			  e == json_tokener_continue ? "unexpected end of JSON" :
			  json_tokener_error_desc(e),
			  e == json_tokener_continue ? " (truncated file?)" : "");
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

/* Zero every string in the tree (PSKs sit in clear in state files). */
static void wipe_json(json_object *o, int depth)
{
	if (!o || depth > TF_MAX_DEPTH + 2)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		sodium_memzero((char *)json_object_get_string(o),
			       (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			wipe_json(json_object_array_get_idx(o, i), depth + 1);
		break;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			wipe_json(v, depth + 1);
		}
		break;
	}
	default:
		break;
	}
}

/* ---- collecting instances ---- */

static bool is_wanted(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
		if (strcmp(type, wanted[i]) == 0)
			return true;
	return false;
}

static int add_inst(struct tf_ctx *t, const char *type, const char *address,
		    json_object *attrs)
{
	struct tf_inst *n;

	if (!json_object_is_type(attrs, json_type_object))
		return 0;
	if (t->n >= TF_MAX_INSTANCES)
		return -E2BIG;
	n = realloc(t->v, (t->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->v = n;
	n = &t->v[t->n++];
	n->type = type;
	n->attrs = attrs;
	snprintf(n->address, sizeof(n->address), "%s", address);
	return 0;
}

static void index_suffix(json_object *key, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!key)
		return;
	if (json_object_is_type(key, json_type_int))
		snprintf(buf, len, "[%" PRId64 "]", json_object_get_int64(key));
	else if (json_object_is_type(key, json_type_string))
		snprintf(buf, len, "[\"%s\"]", json_object_get_string(key));
}

static int v4_instances(struct tf_ctx *t, json_object *res, const char *base,
			const char *type)
{
	json_object *insts, *in, *key, *attrs, *v;
	char addr[256], idx[128];

	if (!json_object_object_get_ex(res, "instances", &insts) ||
	    !json_object_is_type(insts, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(insts); i++) {
		in = json_object_array_get_idx(insts, i);
		key = NULL;
		json_object_object_get_ex(in, "index_key", &key);
		index_suffix(key, idx, sizeof(idx));
		snprintf(addr, sizeof(addr), "%s%s", base, idx);
		if (json_object_object_get_ex(in, "deposed", &v) && v)
			continue;	/* a create_before_destroy leftover */
		if (json_object_object_get_ex(in, "status", &v) &&
		    strcmp(json_object_get_string(v), "tainted") == 0)
			imp_warn(t->d, t->name, 0, "%s is tainted (Terraform will "
				 "replace it): its addresses and keys will change", addr);
		if (!json_object_object_get_ex(in, "attributes", &attrs)) {
			if (json_object_object_get_ex(in, "attributes_flat", &attrs))
				imp_warn(t->d, t->name, 0, "%s has only legacy flat "
					 "attributes: run `terraform apply` with Terraform "
					 ">= 0.12 first; skipped", addr);
			continue;
		}
		if (add_inst(t, type, addr, attrs) < 0)
			return -E2BIG;
	}
	return 0;
}

static int collect_v4(struct tf_ctx *t, json_object *root)
{
	json_object *list, *res, *v;
	char base[256];

	if (!json_object_object_get_ex(root, "resources", &list) ||
	    !json_object_is_type(list, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *type, *mod, *mode;
		res = json_object_array_get_idx(list, i);
		type = tf_str(res, "type");
		if (!is_wanted(type))
			continue;
		mod = tf_str(res, "module");
		mode = tf_str(res, "mode");
		snprintf(base, sizeof(base), "%s%s%s%s.%s", mod, *mod ? "." : "",
			 strcmp(mode, "data") == 0 ? "data." : "", type, tf_str(res, "name"));
		if (json_object_object_get_ex(res, "type", &v) &&
		    v4_instances(t, res, base, json_object_get_string(v)) < 0)
			return -E2BIG;
	}
	return 0;
}

/* `terraform show -json`: values.root_module and its child_modules. */
static int collect_module(struct tf_ctx *t, json_object *mod, int depth)
{
	json_object *list, *res, *vals, *typ;

	if (depth > 32)
		return 0;
	if (json_object_object_get_ex(mod, "resources", &list) &&
	    json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			res = json_object_array_get_idx(list, i);
			if (!json_object_object_get_ex(res, "type", &typ) ||
			    !is_wanted(json_object_get_string(typ)) ||
			    !json_object_object_get_ex(res, "values", &vals))
				continue;
			if (add_inst(t, json_object_get_string(typ), tf_str(res, "address"),
				     vals) < 0)
				return -E2BIG;
		}
	if (json_object_object_get_ex(mod, "child_modules", &list) &&
	    json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++)
			if (collect_module(t, json_object_array_get_idx(list, i), depth + 1) < 0)
				return -E2BIG;
	return 0;
}

/* Which layout is this? Collects instances or explains the refusal. */
static int collect(struct tf_ctx *t, json_object *root)
{
	json_object *v, *vals, *rm;
	uint32_t version = 0;
	int r;

	if (!json_object_is_type(root, json_type_object)) {
		imp_error(t->d, t->name, 0, "not a Terraform state (the JSON is not an object)");
		return -EINVAL;
	}
	if (json_object_object_get_ex(root, "format_version", &v) &&
	    json_object_object_get_ex(root, "values", &vals)) {
		if (!json_object_object_get_ex(vals, "root_module", &rm))
			return 0;
		r = collect_module(t, rm, 0);
	} else if (tf_u32(root, "version", &version) > 0 && version == 4) {
		r = collect_v4(t, root);
	} else if (version == 3 || json_object_object_get_ex(root, "modules", &v)) {
		imp_error(t->d, t->name, 0, "a Terraform 0.11 state (version 3): not "
			  "supported; with Terraform >= 0.12 run `terraform state pull "
			  "> state.json` (or `terraform show -json`) and import that");
		return -EINVAL;
	} else if (json_object_object_get_ex(root, "encrypted_data", &v) ||
		   json_object_object_get_ex(root, "meta", &v)) {
		imp_error(t->d, t->name, 0, "an encrypted OpenTofu state: decrypt it "
			  "first (`tofu state pull` or `tofu show -json`)");
		return -EINVAL;
	} else {
		imp_error(t->d, t->name, 0, "not a Terraform state (no \"version\": 4 "
			  "with \"resources\", nor `terraform show -json` output)");
		return -EINVAL;
	}
	if (r < 0)
		imp_error(t->d, t->name, 0, "more than %d resources of interest",
			  TF_MAX_INSTANCES);
	return r;
}

/* ---- choosing connections ---- */

static bool inst_matches(const struct tf_inst *in, const char *sel)
{
	const char *name;
	json_object *tags;

	if (strcmp(in->address, sel) == 0 || strcmp(tf_str(in->attrs, "id"), sel) == 0)
		return true;
	if (json_object_object_get_ex(in->attrs, "tags", &tags) && tags) {
		name = tf_str(tags, "Name");
		return *name && strcmp(name, sel) == 0;
	}
	return false;
}

static void list_vpns(const struct tf_ctx *t, char *buf, size_t len)
{
	size_t off = 0;
	json_object *tags;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n && off < len; i++) {
		const struct tf_inst *in = &t->v[i];
		const char *label = "";
		if (strcmp(in->type, "aws_vpn_connection") != 0)
			continue;
		if (json_object_object_get_ex(in->attrs, "tags", &tags) && tags)
			label = tf_str(tags, "Name");
		int n = snprintf(buf + off, len - off, "\n    %s  %s%s%s%s", in->address,
				 tf_str(in->attrs, "id"), *label ? "  (" : "", label,
				 *label ? ")" : "");
		off += n > 0 ? (size_t)n : 0;
	}
}

/* Mark chosen[i] for the VPN connections to import. Count, or -EINVAL. */
static int choose(const struct tf_ctx *t, const struct imp_tfstate_opts *o, bool *chosen)
{
	char list[4096];
	size_t n_vpn = 0, n = 0;

	for (size_t i = 0; i < t->n; i++)
		n_vpn += strcmp(t->v[i].type, "aws_vpn_connection") == 0;
	list_vpns(t, list, sizeof(list));
	if (n_vpn == 0) {
		imp_error(t->d, t->name, 0, "no aws_vpn_connection in this state");
		return -EINVAL;
	}
	for (size_t s = 0; s < o->n_select; s++) {
		bool all = strcmp(o->select[s], "all") == 0, hit = false;
		for (size_t i = 0; i < t->n; i++) {
			if (strcmp(t->v[i].type, "aws_vpn_connection") == 0 &&
			    (all || inst_matches(&t->v[i], o->select[s]))) {
				n += !chosen[i];
				chosen[i] = hit = true;
			}
		}
		if (!hit) {
			imp_error(t->d, t->name, 0, "--vpn %s: no such VPN connection; the "
				  "state has:%s", o->select[s], list);
			return -EINVAL;
		}
	}
	if (o->n_select)
		return (int)n;
	if (n_vpn > 1) {
		imp_error(t->d, t->name, 0, "%zu VPN connections: choose one with --vpn "
			  "ADDRESS or --vpn ID (repeatable, or --vpn all):%s", n_vpn, list);
		return -EINVAL;
	}
	for (size_t i = 0; i < t->n; i++)
		chosen[i] = strcmp(t->v[i].type, "aws_vpn_connection") == 0;
	return 1;
}

/* A human `terraform state show` dump or HCL, not JSON: say what to use. */
static bool looks_like_text(const char *name, const char *text, size_t len,
			    struct imp_diag *d)
{
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '['))
		return false;
	if (memmem(text, len, "aws_vpn_connection", 18) || memmem(text, len, " = ", 3))
		imp_error(d, name, 0, "this is human-readable text (`terraform state "
			  "show`?), not a state file: import terraform.tfstate, the "
			  "output of `terraform state pull` or of `terraform show -json`");
	else
		imp_error(d, name, 0, "not JSON: expected a Terraform state file");
	return true;
}

static int import_chosen(struct tf_ctx *t, const bool *chosen, struct imp_conf *c)
{
	struct imp_vpn *v;
	int r = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (!chosen[i])
			continue;
		if (!(v = imp_conf_add_vpn(c)))
			return -ENOMEM;
		if (tf_vpn(t, &t->v[i], v) < 0)
			r = -EINVAL;
	}
	return r;
}

int imp_tfstate_parse(const char *name, const char *text, size_t len,
		      const struct imp_tfstate_opts *o, struct imp_conf *c,
		      struct imp_diag *d)
{
	struct tf_ctx t = { .name = name, .d = d };
	json_object *root = NULL;
	bool *chosen = NULL;
	int r = -EINVAL;

	c->kind = "Terraform state";
	if (len > IMP_MAX_INPUT) {
		imp_error(d, name, 0, "too large");
		return -EINVAL;
	}
	if (looks_like_text(name, text, len, d))
		return -EINVAL;
	if (!(root = parse_json(name, text, len, d)))
		return -EINVAL;
	if (collect(&t, root) < 0)
		goto out;
	chosen = calloc(t.n + 1, sizeof(*chosen));
	if (!chosen || choose(&t, o, chosen) < 0)
		goto out;
	r = import_chosen(&t, chosen, c);
out:
	free(chosen);
	free(t.v);
	wipe_json(root, 0);
	json_object_put(root);
	return r;
}
