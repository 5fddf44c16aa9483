/*
 * systemd readiness notifications (sd_notify protocol) over the datagram
 * socket named by $NOTIFY_SOCKET; a no-op when it is unset.
 */
#ifndef CGW_NOTIFY_H
#define CGW_NOTIFY_H

/* Send a state string such as "READY=1\nSTATUS=2 tunnels". 0 or -errno. */
int notify_send(const char *state);
/* printf-style convenience. */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
