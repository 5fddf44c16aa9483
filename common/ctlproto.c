/*
 * Owns the control protocol's wire format (common/ctlproto.h): building
 * requests and replies, serializing them as lines and validating lines
 * read from the peer. Shared by cgwd and cgwctl; nothing here does I/O.
 */
#include "common/ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

/* The tokener's flags: strict JSON, valid UTF-8, trailing bytes ours to judge. */
#define CTLPROTO_TOKENER_FLAGS \
	(JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS | \
	 JSON_TOKENER_VALIDATE_UTF8)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool all_space(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_space(buf[i]))
			return false;
	return true;
}

/* Add key=val to obj, taking ownership of val even on failure. 0 or -ENOMEM. */
static int obj_add(struct json_object *obj, const char *key,
		   struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

struct json_object *ctlproto_request_new(const char *command,
					 struct json_object *args)
{
	struct json_object *req = json_object_new_object();

	if (!req || obj_add(req, "command", json_object_new_string(command)) < 0)
		goto fail;
	if (args && obj_add(req, "args", args) < 0) {
		args = NULL;		/* obj_add released it */
		goto fail;
	}
	return req;
fail:
	json_object_put(args);
	json_object_put(req);
	return NULL;
}

struct json_object *ctlproto_reply_ok(struct json_object *result)
{
	struct json_object *rep = json_object_new_object();

	if (!result)
		result = json_object_new_object();
	if (!rep || obj_add(rep, "ok", json_object_new_boolean(1)) < 0)
		goto fail;
	if (obj_add(rep, "result", result) < 0) {
		result = NULL;
		goto fail;
	}
	return rep;
fail:
	json_object_put(result);
	json_object_put(rep);
	return NULL;
}

struct json_object *ctlproto_reply_error(const char *msg)
{
	struct json_object *rep = json_object_new_object();

	if (!rep)
		return NULL;
	if (obj_add(rep, "ok", json_object_new_boolean(0)) < 0 ||
	    obj_add(rep, "error", json_object_new_string(msg)) < 0) {
		json_object_put(rep);
		return NULL;
	}
	return rep;
}

int ctlproto_to_line(struct json_object *obj, size_t max, char **line,
		     size_t *len)
{
	const char *text;
	size_t n;
	char *p;

	*line = NULL;
	*len = 0;
	/* PLAIN output has no raw newline: json-c escapes them in strings. */
	text = json_object_to_json_string_length(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!text)
		return -ENOMEM;
	if (n > max)
		return -EMSGSIZE;
	p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, text, n);
	p[n] = '\n';
	*line = p;
	*len = n + 1;
	return 0;
}

/*
 * Size gate shared by both parsers: drop one trailing '\n' from *len and
 * refuse more than max bytes. 0 or -EMSGSIZE with a message.
 */
static int check_size(const char *buf, size_t *len, size_t max,
		      const char *what, char *err, size_t errlen)
{
	if (*len > 0 && buf[*len - 1] == '\n')
		(*len)--;
	if (*len > max) {
		snprintf(err, errlen, "%s too large (%zu bytes, limit %zu)",
			 what, *len, max);
		return -EMSGSIZE;
	}
	return 0;
}

/*
 * Parse buf[0..len) (already size-checked) as exactly one JSON object,
 * surrounded by nothing but whitespace. 0 with *out set, or -EINVAL.
 */
static int parse_object(const char *buf, size_t len, const char *what,
			struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int r = -EINVAL;

	*out = NULL;
	if (all_space(buf, len)) {
		snprintf(err, errlen, "empty %s", what);
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "%s contains a NUL byte", what);
		goto out;
	}
	tok = json_tokener_new_ex(CTLPROTO_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, CTLPROTO_TOKENER_FLAGS);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* All consumed, value open. A top-level number ends only at a
		 * terminator: feed the NUL that buf (checked above) lacks. */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			snprintf(err, errlen,
				 "invalid JSON: unexpected end of input");
			goto out;
		}
		jerr = json_tokener_success;
		end = len;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "invalid JSON at offset %zu: %s", end,
			 json_tokener_error_desc(jerr));
		goto out;
	}
	if (!all_space(buf + end, len - end)) {
		snprintf(err, errlen, "trailing garbage after the JSON value "
			 "at offset %zu", end);
		goto out;
	}
	/* A bare "null" parses to NULL with success. */
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "%s is not a JSON object", what);
		goto out;
	}
	*out = obj;
	obj = NULL;
	r = 0;
out:
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
	return r;
}

static bool valid_command(const char *s, size_t len)
{
	if (len == 0 || len > CTLPROTO_MAX_COMMAND)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* Get key from obj, which must have type when present. 0, -ENOENT or -EINVAL. */
static int get_typed(struct json_object *obj, const char *key,
		     enum json_type type, struct json_object **val)
{
	if (!json_object_object_get_ex(obj, key, val)) {
		*val = NULL;
		return -ENOENT;
	}
	return json_object_is_type(*val, type) ? 0 : -EINVAL;
}

/* Make sure obj[key] is an object, adding {} when absent. 0 or -errno. */
static int get_or_add_object(struct json_object *obj, const char *key,
			     struct json_object **val, char *err, size_t errlen)
{
	int r = get_typed(obj, key, json_type_object, val);

	if (r == -EINVAL) {
		snprintf(err, errlen, "\"%s\" is not an object", key);
		return r;
	}
	if (r == -ENOENT) {
		*val = json_object_new_object();
		if ((r = obj_add(obj, key, *val)) < 0) {
			*val = NULL;
			snprintf(err, errlen, "out of memory");
			return r;
		}
	}
	return 0;
}

/* The request's shape: command (a valid name) and args (an object). */
static int check_request(struct ctlproto_request *req, char *err,
			 size_t errlen)
{
	struct json_object *cmd;
	int r;

	r = get_typed(req->root, "command", json_type_string, &cmd);
	if (r == -ENOENT) {
		snprintf(err, errlen, "missing \"command\"");
		return -EINVAL;
	}
	if (r < 0) {
		snprintf(err, errlen, "\"command\" is not a string");
		return -EINVAL;
	}
	if (!valid_command(json_object_get_string(cmd),
			   (size_t)json_object_get_string_len(cmd))) {
		snprintf(err, errlen, "\"command\" is not a command name "
			 "(1 to %d letters, digits, '-', '_' or '.')",
			 CTLPROTO_MAX_COMMAND);
		return -EINVAL;
	}
	req->command = json_object_get_string(cmd);
	return get_or_add_object(req->root, "args", &req->args, err, errlen);
}

int ctlproto_parse_request(const char *buf, size_t len,
			   struct ctlproto_request *req,
			   char *err, size_t errlen)
{
	int r;

	memset(req, 0, sizeof(*req));
	r = check_size(buf, &len, CTLPROTO_MAX_REQUEST, "request", err, errlen);
	if (r < 0)
		return r;
	r = parse_object(buf, len, "request", &req->root, err, errlen);
	if (r < 0)
		return r;
	r = check_request(req, err, errlen);
	if (r < 0)
		ctlproto_request_free(req);
	return r;
}

void ctlproto_request_free(struct ctlproto_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

/* The reply's shape: ok (boolean), then result (object) or error (string). */
static int check_reply(struct ctlproto_reply *rep, char *err, size_t errlen)
{
	struct json_object *v;

	if (get_typed(rep->root, "ok", json_type_boolean, &v) < 0) {
		snprintf(err, errlen, "reply has no boolean \"ok\"");
		return -EINVAL;
	}
	rep->ok = json_object_get_boolean(v);
	if (rep->ok)
		return get_or_add_object(rep->root, "result", &rep->result,
					 err, errlen);
	if (get_typed(rep->root, "error", json_type_string, &v) < 0) {
		snprintf(err, errlen, "error reply has no string \"error\"");
		return -EINVAL;
	}
	rep->error = json_object_get_string(v);
	return 0;
}

int ctlproto_parse_reply(const char *buf, size_t len,
			 struct ctlproto_reply *rep,
			 char *err, size_t errlen)
{
	int r;

	memset(rep, 0, sizeof(*rep));
	r = check_size(buf, &len, CTLPROTO_MAX_REPLY, "reply", err, errlen);
	if (r < 0)
		return r;
	r = parse_object(buf, len, "reply", &rep->root, err, errlen);
	if (r < 0)
		return r;
	r = check_reply(rep, err, errlen);
	if (r < 0)
		ctlproto_reply_free(rep);
	return r;
}

void ctlproto_reply_free(struct ctlproto_reply *rep)
{
	json_object_put(rep->root);
	memset(rep, 0, sizeof(*rep));
}
