/*
 * Control protocol between cgwd and cgwctl: one JSON object per line each
 * way, built and parsed with json-c only.
 *
 *   request:  {"command": "status", "args": {...}}      args optional
 *   reply:    {"ok": true, "result": {...}}
 *             {"ok": false, "error": "message"}          may add "errors": [...]
 *
 * A line is at most CTLPROTO_MAX_REQUEST (request) or CTLPROTO_MAX_REPLY
 * (reply) bytes, not counting the '\n'. Parsers take a line with or without
 * its '\n' and reject, with a one-line message: oversize input, NUL bytes,
 * invalid JSON or UTF-8 (json-c's reason and offset), nesting deeper than
 * CTLPROTO_MAX_DEPTH, trailing garbage and objects of the wrong shape.
 */
#ifndef CGW_CTLPROTO_H
#define CGW_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define CTLPROTO_MAX_REQUEST	(64 * 1024)
#define CTLPROTO_MAX_REPLY	(16 * 1024 * 1024)
#define CTLPROTO_MAX_DEPTH	32
#define CTLPROTO_MAX_COMMAND	64	/* bytes in a command name */
#define CTLPROTO_ERRLEN		256	/* enough for any parser message */

struct ctlproto_request {
	struct json_object *root;	/* owns command and args */
	const char *command;		/* [A-Za-z0-9_.-], 1..CTLPROTO_MAX_COMMAND */
	struct json_object *args;	/* always an object, empty when absent */
};

struct ctlproto_reply {
	struct json_object *root;	/* owns result and error */
	bool ok;
	struct json_object *result;	/* ok: always an object, else NULL */
	const char *error;		/* !ok: the message, else NULL */
};

/* New request object; takes ownership of args (NULL: none). NULL on ENOMEM. */
struct json_object *ctlproto_request_new(const char *command,
					 struct json_object *args);
/* New {"ok":true,"result":...}; takes ownership of result (NULL: {}). */
struct json_object *ctlproto_reply_ok(struct json_object *result);
/* New {"ok":false,"error":msg}. NULL on ENOMEM. */
struct json_object *ctlproto_reply_error(const char *msg);

/*
 * Serialize obj as one line ending in '\n' into a new malloc'd buffer
 * (*line, *len counts the '\n'). 0, -EMSGSIZE when the JSON text exceeds
 * max bytes, or -ENOMEM.
 */
int ctlproto_to_line(struct json_object *obj, size_t max, char **line,
		     size_t *len);

/*
 * Parse and validate one request line. 0 with *req filled (free with
 * ctlproto_request_free), or -EMSGSIZE / -EINVAL / -ENOMEM with a message
 * in err and *req zeroed.
 */
int ctlproto_parse_request(const char *buf, size_t len,
			   struct ctlproto_request *req,
			   char *err, size_t errlen);
/* Release a parsed request; safe on a zeroed one. */
void ctlproto_request_free(struct ctlproto_request *req);

/* Parse and validate one reply line; same conventions as for requests. */
int ctlproto_parse_reply(const char *buf, size_t len,
			 struct ctlproto_reply *rep,
			 char *err, size_t errlen);
/* Release a parsed reply; safe on a zeroed one. */
void ctlproto_reply_free(struct ctlproto_reply *rep);

#endif
