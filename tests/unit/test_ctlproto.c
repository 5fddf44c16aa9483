/*
 * Unit tests for the control protocol (common/ctlproto.c): table-driven
 * request and reply parsing, good and bad, including oversize input,
 * binary garbage and deep nesting, plus build/serialize round trips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "common/ctlproto.h"

#define RAW(s) s, sizeof(s) - 1		/* a literal with its exact length */

struct req_case {
	const char *name;
	const char *buf;
	size_t len;
	int rc;
	const char *command;	/* rc == 0: expected command */
	const char *args;	/* rc == 0: expected args, plain JSON */
	const char *err;	/* rc < 0: substring of the message */
};

static const struct req_case req_cases[] = {
	{ "minimal", RAW("{\"command\":\"status\"}"), 0, "status", "{}", NULL },
	{ "with args", RAW("{\"command\":\"tunnel\",\"args\":{\"name\":\"aws-1\",\"n\":2}}"),
	  0, "tunnel", "{\"name\":\"aws-1\",\"n\":2}", NULL },
	{ "newline", RAW("{\"command\":\"reload\"}\n"), 0, "reload", "{}", NULL },
	{ "crlf and spaces", RAW("  { \"command\" : \"reload\" }  \r\n"), 0, "reload", "{}", NULL },
	{ "unknown keys ignored", RAW("{\"command\":\"status\",\"id\":7}"), 0, "status", "{}", NULL },
	{ "dotted name", RAW("{\"command\":\"bgp.routes\"}"), 0, "bgp.routes", "{}", NULL },
	{ "empty", RAW(""), -EINVAL, NULL, NULL, "empty request" },
	{ "blank", RAW("  \r\n"), -EINVAL, NULL, NULL, "empty request" },
	{ "array", RAW("[\"status\"]"), -EINVAL, NULL, NULL, "not a JSON object" },
	{ "string", RAW("\"status\""), -EINVAL, NULL, NULL, "not a JSON object" },
	{ "number", RAW("42"), -EINVAL, NULL, NULL, "not a JSON object" },
	{ "null", RAW("null"), -EINVAL, NULL, NULL, "not a JSON object" },
	{ "true", RAW("true\n"), -EINVAL, NULL, NULL, "not a JSON object" },
	{ "partial literal", RAW("nul"), -EINVAL, NULL, NULL, "unexpected end of input" },
	{ "no command", RAW("{}"), -EINVAL, NULL, NULL, "missing \"command\"" },
	{ "command number", RAW("{\"command\":5}"), -EINVAL, NULL, NULL, "\"command\" is not a string" },
	{ "command null", RAW("{\"command\":null}"), -EINVAL, NULL, NULL, "\"command\" is not a string" },
	{ "command object", RAW("{\"command\":{}}"), -EINVAL, NULL, NULL, "\"command\" is not a string" },
	{ "command empty", RAW("{\"command\":\"\"}"), -EINVAL, NULL, NULL, "not a command name" },
	{ "command spaces", RAW("{\"command\":\"rm -rf\"}"), -EINVAL, NULL, NULL, "not a command name" },
	{ "command control char", RAW("{\"command\":\"st\\u001batus\"}"), -EINVAL, NULL, NULL, "not a command name" },
	{ "command too long", RAW("{\"command\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"),
	  -EINVAL, NULL, NULL, "not a command name" },
	{ "args array", RAW("{\"command\":\"status\",\"args\":[]}"), -EINVAL, NULL, NULL, "\"args\" is not an object" },
	{ "args string", RAW("{\"command\":\"status\",\"args\":\"x\"}"), -EINVAL, NULL, NULL, "\"args\" is not an object" },
	{ "args null", RAW("{\"command\":\"status\",\"args\":null}"), -EINVAL, NULL, NULL, "\"args\" is not an object" },
	{ "trailing garbage", RAW("{\"command\":\"status\"}x"), -EINVAL, NULL, NULL, "trailing garbage" },
	{ "two objects", RAW("{\"command\":\"status\"}{\"command\":\"reload\"}"), -EINVAL, NULL, NULL, "trailing garbage" },
	{ "number after", RAW("{\"command\":\"status\"} 5"), -EINVAL, NULL, NULL, "trailing garbage" },
	{ "two lines", RAW("{\"command\":\"status\"}\n{\"command\":\"reload\"}"), -EINVAL, NULL, NULL, "trailing garbage" },
	{ "truncated", RAW("{\"command\":"), -EINVAL, NULL, NULL, "unexpected end of input" },
	{ "unterminated string", RAW("{\"command\":\"stat"), -EINVAL, NULL, NULL, "unexpected end of input" },
	{ "trailing comma", RAW("{\"command\":\"status\",}"), -EINVAL, NULL, NULL, "invalid JSON at offset" },
	{ "bare word", RAW("status"), -EINVAL, NULL, NULL, "invalid JSON at offset 0" },
	{ "bad utf-8", RAW("{\"command\":\"status\",\"args\":{\"x\":\"\xc3\x28\"}}"), -EINVAL, NULL, NULL, "invalid JSON" },
	{ "NUL inside", RAW("{\"command\":\"sta\0tus\"}"), -EINVAL, NULL, NULL, "NUL byte" },
	{ "NUL after", RAW("{\"command\":\"status\"}\0"), -EINVAL, NULL, NULL, "NUL byte" },
	{ "binary garbage", RAW("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), -EINVAL, NULL, NULL, "NUL byte" },
	{ "binary no NUL", RAW("\xff\xfe\xfd\x80\x81{"), -EINVAL, NULL, NULL, "invalid JSON at offset 0" },
	{ "utf-8 BOM", RAW("\xef\xbb\xbf{\"command\":\"status\"}"), -EINVAL, NULL, NULL, "invalid JSON" },
	{ "escape garbage", RAW("{\"command\":\"\\q\"}"), -EINVAL, NULL, NULL, "invalid JSON" },
};

static void check_request_case(const struct req_case *c)
{
	struct ctlproto_request req;
	char err[CTLPROTO_ERRLEN] = "";
	int rc;

	rc = ctlproto_parse_request(c->buf, c->len, &req, err, sizeof(err));
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc, err);
	if (rc < 0) {
		if (!strstr(err, c->err))
			fail_msg("%s: error '%s' lacks '%s'", c->name, err, c->err);
		if (req.root || req.command || req.args)
			fail_msg("%s: request not zeroed on error", c->name);
		return;
	}
	if (strcmp(req.command, c->command) != 0)
		fail_msg("%s: command '%s', want '%s'", c->name, req.command,
			 c->command);
	if (strcmp(json_object_to_json_string_ext(req.args,
			JSON_C_TO_STRING_PLAIN), c->args) != 0)
		fail_msg("%s: args %s, want %s", c->name,
			 json_object_to_json_string(req.args), c->args);
	ctlproto_request_free(&req);
	assert_null(req.root);
}

static void test_request_table(void **state)
{
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++)
		check_request_case(&req_cases[i]);
}

/* {"command":"status","args":{"pad":"xxx..."}} of exactly len bytes. */
static char *padded_request(size_t len)
{
	static const char head[] = "{\"command\":\"status\",\"args\":{\"pad\":\"";
	static const char tail[] = "\"}}";
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	assert_true(len > sizeof(head) + sizeof(tail));
	memset(buf, 'x', len);
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	buf[len] = '\n';
	return buf;
}

static void test_request_size_limit(void **state)
{
	struct ctlproto_request req;
	char err[CTLPROTO_ERRLEN];
	char *buf;

	/* Exactly the limit, with and without its newline: accepted. */
	buf = padded_request(CTLPROTO_MAX_REQUEST);
	assert_int_equal(ctlproto_parse_request(buf, CTLPROTO_MAX_REQUEST, &req,
						err, sizeof(err)), 0);
	assert_string_equal(req.command, "status");
	ctlproto_request_free(&req);
	assert_int_equal(ctlproto_parse_request(buf, CTLPROTO_MAX_REQUEST + 1,
						&req, err, sizeof(err)), 0);
	ctlproto_request_free(&req);
	free(buf);

	/* One byte over: refused before parsing. */
	buf = padded_request(CTLPROTO_MAX_REQUEST + 1);
	assert_int_equal(ctlproto_parse_request(buf, CTLPROTO_MAX_REQUEST + 1,
						&req, err, sizeof(err)), -EMSGSIZE);
	assert_non_null(strstr(err, "request too large"));
	assert_null(req.root);
	free(buf);
}

static void test_request_deep_nesting(void **state)
{
	static const char head[] = "{\"command\":\"status\",\"args\":{\"a\":";
	struct ctlproto_request req;
	char err[CTLPROTO_ERRLEN];
	char buf[4096];
	size_t n = 0;
	int depth = 1000;

	n += (size_t)snprintf(buf, sizeof(buf), "%s", head);
	for (int i = 0; i < depth; i++)
		buf[n++] = '[';
	for (int i = 0; i < depth; i++)
		buf[n++] = ']';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}}");
	assert_int_equal(ctlproto_parse_request(buf, n, &req, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "invalid JSON"));
}

static void test_request_random_garbage(void **state)
{
	struct ctlproto_request req;
	char err[CTLPROTO_ERRLEN];
	unsigned char buf[512];
	uint32_t x = 12345;

	/* A fixed pseudo-random stream: never accepted, never a crash. */
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)round * 2 + 1;
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (unsigned char)(x >> 16);
		}
		assert_int_equal(ctlproto_parse_request((char *)buf, len, &req,
							err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
}

struct reply_case {
	const char *name;
	const char *buf;
	size_t len;
	int rc;
	int ok;			/* rc == 0 */
	const char *text;	/* rc == 0: result JSON or error message */
	const char *err;	/* rc < 0: substring of the message */
};

static const struct reply_case reply_cases[] = {
	{ "ok", RAW("{\"ok\":true,\"result\":{\"pid\":1}}\n"), 0, 1, "{\"pid\":1}", NULL },
	{ "ok no result", RAW("{\"ok\":true}"), 0, 1, "{}", NULL },
	{ "error", RAW("{\"ok\":false,\"error\":\"unknown command 'x'\"}"), 0, 0, "unknown command 'x'", NULL },
	{ "error with list", RAW("{\"ok\":false,\"error\":\"2 errors\",\"errors\":[\"a:1: x\"]}"), 0, 0, "2 errors", NULL },
	{ "not object", RAW("[true]"), -EINVAL, 0, NULL, "not a JSON object" },
	{ "no ok", RAW("{\"result\":{}}"), -EINVAL, 0, NULL, "no boolean \"ok\"" },
	{ "ok string", RAW("{\"ok\":\"true\",\"result\":{}}"), -EINVAL, 0, NULL, "no boolean \"ok\"" },
	{ "result array", RAW("{\"ok\":true,\"result\":[1]}"), -EINVAL, 0, NULL, "\"result\" is not an object" },
	{ "error missing", RAW("{\"ok\":false}"), -EINVAL, 0, NULL, "no string \"error\"" },
	{ "error number", RAW("{\"ok\":false,\"error\":3}"), -EINVAL, 0, NULL, "no string \"error\"" },
	{ "truncated", RAW("{\"ok\":true,\"resu"), -EINVAL, 0, NULL, "unexpected end of input" },
	{ "garbage", RAW("{\"ok\":true} trailing"), -EINVAL, 0, NULL, "trailing garbage" },
	{ "binary", RAW("\x01\x02\x03\x00"), -EINVAL, 0, NULL, "NUL byte" },
	{ "empty", RAW(""), -EINVAL, 0, NULL, "empty reply" },
};

static void check_reply_case(const struct reply_case *c)
{
	struct ctlproto_reply rep;
	char err[CTLPROTO_ERRLEN] = "";
	const char *got;
	int rc;

	rc = ctlproto_parse_reply(c->buf, c->len, &rep, err, sizeof(err));
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc, err);
	if (rc < 0) {
		if (!strstr(err, c->err))
			fail_msg("%s: error '%s' lacks '%s'", c->name, err, c->err);
		assert_null(rep.root);
		return;
	}
	if (rep.ok != (c->ok != 0))
		fail_msg("%s: ok %d, want %d", c->name, rep.ok, c->ok);
	got = rep.ok ? json_object_to_json_string_ext(rep.result,
			JSON_C_TO_STRING_PLAIN) : rep.error;
	if (strcmp(got, c->text) != 0)
		fail_msg("%s: got %s, want %s", c->name, got, c->text);
	if (!rep.ok)
		assert_null(rep.result);
	ctlproto_reply_free(&rep);
}

static void test_reply_table(void **state)
{
	for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++)
		check_reply_case(&reply_cases[i]);
}

static void test_reply_size_limit(void **state)
{
	struct ctlproto_reply rep;
	char err[CTLPROTO_ERRLEN];
	size_t len = CTLPROTO_MAX_REPLY + 1;
	char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, ' ', len);
	memcpy(buf, "{\"ok\":true}", 11);
	assert_int_equal(ctlproto_parse_reply(buf, len, &rep, err, sizeof(err)),
			 -EMSGSIZE);
	assert_non_null(strstr(err, "reply too large"));
	/* Trailing spaces up to the limit are fine. */
	assert_int_equal(ctlproto_parse_reply(buf, len - 1, &rep, err,
					      sizeof(err)), 0);
	assert_true(rep.ok);
	ctlproto_reply_free(&rep);
	free(buf);
}

static void test_request_round_trip(void **state)
{
	struct json_object *args = json_object_new_object();
	struct json_object *obj;
	struct ctlproto_request req;
	char err[CTLPROTO_ERRLEN];
	char *line;
	size_t len;

	json_object_object_add(args, "name", json_object_new_string("a\nb/c\"d"));
	obj = ctlproto_request_new("tunnel", args);
	assert_non_null(obj);
	assert_int_equal(ctlproto_to_line(obj, CTLPROTO_MAX_REQUEST, &line, &len), 0);
	json_object_put(obj);
	/* One line: the only newline is the last byte. */
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(memchr(line, '\n', len), line + len - 1);
	assert_int_equal(ctlproto_parse_request(line, len, &req, err, sizeof(err)), 0);
	assert_string_equal(req.command, "tunnel");
	assert_true(json_object_object_get_ex(req.args, "name", &args));
	assert_string_equal(json_object_get_string(args), "a\nb/c\"d");
	ctlproto_request_free(&req);
	free(line);

	obj = ctlproto_request_new("status", NULL);
	assert_int_equal(ctlproto_to_line(obj, CTLPROTO_MAX_REQUEST, &line, &len), 0);
	assert_int_equal(len, strlen("{\"command\":\"status\"}\n"));
	assert_memory_equal(line, "{\"command\":\"status\"}\n", len);
	json_object_put(obj);
	free(line);
}

static void test_reply_round_trip(void **state)
{
	struct json_object *result = json_object_new_object();
	struct json_object *obj;
	struct ctlproto_reply rep;
	char err[CTLPROTO_ERRLEN];
	char *line;
	size_t len;

	json_object_object_add(result, "pid", json_object_new_int(1234));
	obj = ctlproto_reply_ok(result);
	assert_int_equal(ctlproto_to_line(obj, CTLPROTO_MAX_REPLY, &line, &len), 0);
	json_object_put(obj);
	assert_int_equal(ctlproto_parse_reply(line, len, &rep, err, sizeof(err)), 0);
	assert_true(rep.ok);
	assert_string_equal(json_object_to_json_string_ext(rep.result,
			    JSON_C_TO_STRING_PLAIN), "{\"pid\":1234}");
	ctlproto_reply_free(&rep);
	free(line);

	obj = ctlproto_reply_ok(NULL);
	assert_int_equal(ctlproto_to_line(obj, CTLPROTO_MAX_REPLY, &line, &len), 0);
	assert_memory_equal(line, "{\"ok\":true,\"result\":{}}\n", len);
	json_object_put(obj);
	free(line);

	obj = ctlproto_reply_error("no such tunnel: x");
	assert_int_equal(ctlproto_to_line(obj, CTLPROTO_MAX_REPLY, &line, &len), 0);
	json_object_put(obj);
	assert_int_equal(ctlproto_parse_reply(line, len, &rep, err, sizeof(err)), 0);
	assert_false(rep.ok);
	assert_string_equal(rep.error, "no such tunnel: x");
	ctlproto_reply_free(&rep);
	free(line);
}

static void test_to_line_limit(void **state)
{
	struct json_object *obj = ctlproto_request_new("status", NULL);
	char *line = (char *)"sentinel";
	size_t len = 99;

	/* {"command":"status"} is 20 bytes. */
	assert_int_equal(ctlproto_to_line(obj, 19, &line, &len), -EMSGSIZE);
	assert_null(line);
	assert_int_equal(len, 0);
	assert_int_equal(ctlproto_to_line(obj, 20, &line, &len), 0);
	assert_int_equal(len, 21);
	free(line);
	json_object_put(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_request_size_limit),
		cmocka_unit_test(test_request_deep_nesting),
		cmocka_unit_test(test_request_random_garbage),
		cmocka_unit_test(test_reply_table),
		cmocka_unit_test(test_reply_size_limit),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_to_line_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
