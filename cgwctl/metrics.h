/*
 * cgwctl metrics: cgwd's status as Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector or a scrape
 * wrapper. Also holds the small control-socket client that doctor shares.
 */
#ifndef CGW_CGWCTL_METRICS_H
#define CGW_CGWCTL_METRICS_H

#include <stdio.h>

struct json_object;

/*
 * Print the metrics for one status result (the "result" object of cgwd's
 * reply to "status"); NULL means cgwd could not be asked: only cgw_up 0
 * is printed. Returns 0, or -EIO when writing to out failed.
 */
int metrics_print(struct json_object *status, FILE *out);

/*
 * Ask cgwd at socket_path for its status. 0 with *status (the reply's
 * "result", a new reference: json_object_put it), -ECONNREFUSED & co when
 * cgwd cannot be reached (message in err), -EPROTO when cgwd answered
 * with an error (its message in err).
 */
int cgwctl_fetch_status(const char *socket_path, struct json_object **status,
			char *err, size_t errlen);

/*
 * `cgwctl metrics`: argv[0] is "metrics". Exit status 0 when cgwd
 * answered, 3 when it cannot be reached (cgw_up 0 is printed anyway), 2 on
 * a usage error.
 */
int metrics_main(int argc, char **argv, const char *socket_path);

#endif
