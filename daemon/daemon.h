/*
 * The daemon object: the loop, the live config snapshot, per-tunnel and
 * per-neighbor runtime state, and the control-socket commands. Only this
 * module wires the others onto the libev loop.
 */
#ifndef CGW_DAEMON_H
#define CGW_DAEMON_H

#include <stdbool.h>

struct cgw_conf;
struct daemon;

/*
 * Take ownership of conf and open the control socket. Returns 0 or -errno
 * (the caller exits with a message). *out is set on success.
 */
int daemon_start(struct daemon **out, struct cgw_conf *conf, const char *conf_path);

/* Run the loop until SIGTERM/SIGINT. Returns the exit status. */
int daemon_run(struct daemon *d);

/* Remove what the daemon made, free everything. */
void daemon_stop(struct daemon *d);

#endif
