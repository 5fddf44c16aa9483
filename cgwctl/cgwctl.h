/*
 * cgwctl's parts: the command line (cgwctl.c), talking to cgwd over its
 * control socket (client.c: bounded reads with timeouts) and showing the
 * replies (show.c: tables, durations, JSON as it came).
 */
#ifndef CGW_CGWCTL_H
#define CGW_CGWCTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "common/ctlproto.h"

enum {
	EXIT_OK = 0,
	EXIT_DAEMON = 1,	/* cgwd answered with an error */
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,	/* cgwd cannot be reached or did not answer */
};

#define IO_TIMEOUT	10	/* seconds: connect, send, and the whole reply */

struct ctx {
	const char *socket;
	bool json;
};

/* client.c */

/*
 * Send one request (args consumed, NULL for none) and parse its reply.
 * 0 with *rep filled, or an exit code once the reason is printed.
 */
int ctl_call(const struct ctx *ctx, const char *command, struct json_object *args,
	     struct ctlproto_reply *rep);

/* show.c */

/* The text of obj[key] for display: "-" when missing or null. */
const char *json_field(struct json_object *obj, const char *key);
bool json_has(struct json_object *obj, const char *key);
void show_json(struct json_object *obj);
/* Each string of obj[key] (e.g. "errors": "file:line: message") on stderr. */
void show_lines(struct json_object *obj, const char *key);
/* Print the error reply (and its "errors" lines) to stderr: EXIT_DAEMON. */
int show_error(const struct ctlproto_reply *rep);
void show_status(struct json_object *st);
void show_routes(struct json_object *res);
void show_neighbors(struct json_object *neighbors);
void show_name_list(struct json_object *res, const char *key);

#endif
