/*
 * Control socket server: a unix stream socket on the daemon's libev loop.
 * It owns framing, limits and connections; the meaning of each command
 * belongs to the handler the daemon registers.
 *
 * Protocol (common/ctlproto.h): one JSON object per line each way.
 *   request:  {"command": "status", "args": {...}}
 *   reply:    {"ok": true, "result": {...}}
 *             {"ok": false, "error": "message"}
 * A request over CTLPROTO_MAX_REQUEST bytes or that is not such an object
 * gets an error reply and the connection is closed; never a crash.
 */
#ifndef CGW_CTL_H
#define CGW_CTL_H

#include <stddef.h>

struct ev_loop;
struct json_object;
struct ctl_server;

/*
 * Handle one command. On success return 0 and set *result to a new JSON
 * object (ownership passes to the server; NULL means an empty object).
 * On failure return -errno and write a one-line message into err; a
 * *result set on failure is freed, except that an "errors" array in it
 * (e.g. config lines for a failed reload) is copied into the error reply.
 */
typedef int (*ctl_handler_fn)(void *arg, const char *command,
			      struct json_object *args,
			      struct json_object **result,
			      char *err, size_t errlen);

/*
 * Create the socket at path (parent directory created 0755 if missing,
 * socket mode 0660, a stale socket from a dead instance replaced, a live
 * one refused with -EADDRINUSE) and start accepting on loop.
 * Returns 0 or -errno; *out is set on success.
 */
int ctl_server_open(struct ctl_server **out, struct ev_loop *loop,
		    const char *path, ctl_handler_fn handler, void *arg);

/* Stop accepting, close all connections and unlink the socket. NULL ok. */
void ctl_server_close(struct ctl_server *srv);

#endif
