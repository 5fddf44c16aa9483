/*
 * cgwctl metrics: Prometheus text exposition format (0.0.4) from cgwd's
 * status. One family at a time, so that every sample of a family follows
 * its # HELP and # TYPE lines; a family without samples is left out.
 *
 * Per tunnel, CHILD SA counters are the sums over its CHILD SAs (the
 * kernel's counters of each SA's states): when an SA is replaced the sum
 * drops, which Prometheus' rate() treats as a counter reset. The VTI's
 * own counters (cgw_vti_*) do not reset on rekey.
 *
 * Per BGP neighbor, the labels are always neighbor (its address) and
 * tunnel (the tunnel's name, "" for a [neighbor] section), so that every
 * family joins with cgw_bgp_neighbor_info, which adds its name, type and
 * ASes. cgw_bgp_state numbers the states as BGP4-MIB's bgpPeerState
 * (RFC 4273) does: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm,
 * 6 Established.
 */
#include "cgwctl/metrics.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/ctlproto.h"

#define CLIENT_TIMEOUT	10	/* seconds, per send/receive */

/* ---- the control-socket client ---- */

static int client_connect(const char *path, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return r;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* Send line, read one reply line into a malloc'd *reply. 0 or -errno. */
static int client_exchange(int fd, const char *line, size_t len, char **reply,
			   size_t *reply_len)
{
	size_t cap = 0, have = 0;
	char *buf = NULL, *p;
	ssize_t n;

	while (len > 0) {
		n = send(fd, line, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		line += n;
		len -= (size_t)n;
	}
	for (;;) {
		if (have == cap) {
			if (cap > CTLPROTO_MAX_REPLY) {
				free(buf);
				return -EMSGSIZE;
			}
			cap = cap ? cap * 2 : 65536;
			p = realloc(buf, cap);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
		}
		n = recv(fd, buf + have, cap - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EPIPE;
			free(buf);
			return r;
		}
		p = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
		if (p) {
			*reply = buf;
			*reply_len = (size_t)(p - buf) + 1;
			return 0;
		}
	}
}

int cgwctl_fetch_status(const char *socket_path, struct json_object **status,
			char *err, size_t errlen)
{
	struct json_object *req = ctlproto_request_new("status", NULL);
	struct ctlproto_reply rep = { 0 };
	char *line = NULL, *reply = NULL;
	char perr[CTLPROTO_ERRLEN];
	size_t len, reply_len = 0;
	int fd = -1, r;

	*status = NULL;
	if (!req || ctlproto_to_line(req, CTLPROTO_MAX_REQUEST, &line, &len) < 0) {
		snprintf(err, errlen, "cannot build the request");
		r = -ENOMEM;
		goto out;
	}
	fd = client_connect(socket_path, err, errlen);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = client_exchange(fd, line, len, &reply, &reply_len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", socket_path,
			 r == -EPIPE ? "cgwd closed the connection" : strerror(-r));
		goto out;
	}
	if (ctlproto_parse_reply(reply, reply_len, &rep, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "bad reply from %s: %s", socket_path, perr);
		r = -EBADMSG;
		goto out;
	}
	if (!rep.ok) {
		snprintf(err, errlen, "cgwd: %s", rep.error);
		r = -EPROTO;
		goto out;
	}
	*status = json_object_get(rep.result);
	r = 0;
out:
	ctlproto_reply_free(&rep);
	if (fd >= 0)
		close(fd);
	free(line);
	free(reply);
	json_object_put(req);
	return r;
}

/* ---- exposition format ---- */

struct family {
	const char *name;
	const char *type;	/* "gauge" or "counter" */
	const char *help;
};

struct emitter {
	FILE *out;
	const struct family *current;	/* family whose header is printed */
};

/* Label value escaping: backslash, double quote and line feed. */
static void put_label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/*
 * One sample. labels: name, value pairs ending with NULL (values must be
 * non-NULL). The family's # HELP / # TYPE go out before its first sample.
 */
static void sample(struct emitter *e, const struct family *f, int64_t value,
		   const char *const *labels)
{
	if (e->current != f) {
		fprintf(e->out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
			f->name, f->type);
		e->current = f;
	}
	fputs(f->name, e->out);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		fprintf(e->out, "%s%s=\"", i ? "," : "{", labels[i]);
		put_label_value(e->out, labels[i + 1]);
		fputc('"', e->out);
	}
	if (labels && labels[0])
		fputc('}', e->out);
	fprintf(e->out, " %" PRId64 "\n", value);
}

/* obj[key] when it is an integer. */
static bool get_int(struct json_object *obj, const char *key, int64_t *v)
{
	struct json_object *o;

	if (!obj || !json_object_object_get_ex(obj, key, &o) ||
	    !json_object_is_type(o, json_type_int))
		return false;
	*v = json_object_get_int64(o);
	return true;
}

/* obj[key] when it is a string, else NULL. */
static const char *get_str(struct json_object *obj, const char *key)
{
	struct json_object *o;

	if (!obj || !json_object_object_get_ex(obj, key, &o) ||
	    !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

/* obj[key] when it is an array, else NULL. */
static struct json_object *get_array(struct json_object *obj, const char *key)
{
	struct json_object *o;

	if (!obj || !json_object_object_get_ex(obj, key, &o) ||
	    !json_object_is_type(o, json_type_array))
		return NULL;
	return o;
}

static size_t array_len(struct json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

static const struct family f_up = { "cgw_up", "gauge",
	"1 when cgwd answered the status request, 0 when it could not be reached" };
static const struct family f_info = { "cgw_info", "gauge",
	"cgwd's version, as a label; always 1" };
static const struct family f_uptime = { "cgw_uptime_seconds", "gauge",
	"Seconds since cgwd started" };
static const struct family f_reloads = { "cgw_reloads_total", "counter",
	"Configuration reloads applied since cgwd started" };
static const struct family f_tunnel_up = { "cgw_tunnel_up", "gauge",
	"1 when the tunnel has an installed CHILD SA, else 0" };
static const struct family f_ike_age = { "cgw_ike_sa_established_seconds", "gauge",
	"Age of the tunnel's newest established IKE SA" };
static const struct family f_child_sas = { "cgw_child_sas", "gauge",
	"CHILD SAs the tunnel has, in any state" };
static const struct family f_child_bytes = { "cgw_child_sa_bytes_total", "counter",
	"Bytes through the tunnel's CHILD SAs (sum over its SAs; resets when one is replaced)" };
static const struct family f_child_packets = { "cgw_child_sa_packets_total", "counter",
	"Packets through the tunnel's CHILD SAs (sum over its SAs; resets when one is replaced)" };
static const struct family f_child_rekeys = { "cgw_child_sa_rekeys_total", "counter",
	"CHILD SA rekeys of the tunnel" };
static const struct family f_ike_rekeys = { "cgw_ike_sa_rekeys_total", "counter",
	"IKE SA rekeys of the tunnel" };
static const struct family f_dead_peers = { "cgw_peer_dead_total", "counter",
	"times the tunnel's peer was declared dead (DPD or fast liveness check)" };
static const struct family f_cookies = { "cgw_ike_cookies_sent_total", "counter",
	"IKE_SA_INIT requests from the tunnel's peer address answered with a COOKIE "
	"(too many half-open SAs: a flood)" };
static const struct family f_integrity = { "cgw_ike_integrity_failures_total", "counter",
	"protected IKE messages for the tunnel's IKE SAs that failed the integrity check "
	"(dropped: forged, corrupted or replayed from elsewhere)" };
static const struct family f_vti_bytes = { "cgw_vti_bytes_total", "counter",
	"Bytes through the tunnel's VTI" };
static const struct family f_vti_packets = { "cgw_vti_packets_total", "counter",
	"Packets through the tunnel's VTI" };
static const struct family f_bgp_up = { "cgw_bgp_neighbor_up", "gauge",
	"1 when the BGP session is Established, else 0" };
static const struct family f_bgp_session_up = { "cgw_bgp_session_up", "gauge",
	"1 when the BGP session is Established, else 0" };
static const struct family f_bgp_state = { "cgw_bgp_state", "gauge",
	"BGP session state as BGP4-MIB bgpPeerState: 1 Idle, 2 Connect, 3 Active, "
	"4 OpenSent, 5 OpenConfirm, 6 Established" };
static const struct family f_bgp_info = { "cgw_bgp_neighbor_info", "gauge",
	"The BGP neighbor's name, type (ebgp, ibgp) and ASes, as labels; always 1" };
static const struct family f_bgp_uptime = { "cgw_bgp_session_established_seconds", "gauge",
	"Seconds since the BGP session was established (Established sessions only)" };
static const struct family f_bgp_established = { "cgw_bgp_established_total", "counter",
	"Times the BGP session reached Established" };
static const struct family f_bgp_prefixes = { "cgw_bgp_prefixes_received", "gauge",
	"Prefixes received from the BGP neighbor" };
static const struct family f_bgp_accepted = { "cgw_bgp_prefixes_accepted", "gauge",
	"Prefixes received from the BGP neighbor and usable (no AS path loop)" };
static const struct family f_bgp_best = { "cgw_bgp_prefixes_best", "gauge",
	"Prefixes for which a path from the BGP neighbor is the chosen one" };
static const struct family f_bgp_advertised = { "cgw_bgp_prefixes_advertised", "gauge",
	"Prefixes announced to the BGP neighbor" };
static const struct family f_bgp_out_limited = { "cgw_bgp_max_prefix_out_reached", "gauge",
	"1 when more prefixes than max-prefix-out are to be announced (the rest are not), else 0" };
static const struct family f_bgp_messages = { "cgw_bgp_messages_total", "counter",
	"BGP messages received (in) from and sent (out) to the neighbor" };
static const struct family f_bgp_updates = { "cgw_bgp_updates_total", "counter",
	"BGP UPDATE messages received (in) from and sent (out) to the neighbor" };

/* Sum of key over every CHILD SA of every IKE SA of tunnel t. */
static int64_t child_sum(struct json_object *t, const char *key)
{
	struct json_object *sas = get_array(t, "ike_sas");
	int64_t sum = 0, v;

	for (size_t i = 0; i < array_len(sas); i++) {
		struct json_object *ch = get_array(json_object_array_get_idx(sas, i),
						   "children");
		for (size_t j = 0; j < array_len(ch); j++)
			if (get_int(json_object_array_get_idx(ch, j), key, &v) && v > 0)
				sum += v;
	}
	return sum;
}

static size_t child_count(struct json_object *t)
{
	struct json_object *sas = get_array(t, "ike_sas");
	size_t n = 0;

	for (size_t i = 0; i < array_len(sas); i++)
		n += array_len(get_array(json_object_array_get_idx(sas, i), "children"));
	return n;
}

/* Youngest established IKE SA's age; false when none is established. */
static bool ike_age(struct json_object *t, int64_t *age)
{
	struct json_object *sas = get_array(t, "ike_sas");
	bool any = false;
	int64_t v;

	for (size_t i = 0; i < array_len(sas); i++) {
		struct json_object *sa = json_object_array_get_idx(sas, i);
		const char *st = get_str(sa, "state");
		if (!st || strcmp(st, "ESTABLISHED") != 0 ||
		    !get_int(sa, "established_for", &v))
			continue;
		if (!any || v < *age)
			*age = v;
		any = true;
	}
	return any;
}

/* Families with one sample per tunnel and direction, from a sum or a key. */
static void per_direction(struct emitter *e, const struct family *f,
			  struct json_object *tunnels, const char *in_key,
			  const char *out_key, bool from_children)
{
	for (size_t i = 0; i < array_len(tunnels); i++) {
		struct json_object *t = json_object_array_get_idx(tunnels, i);
		const char *name = get_str(t, "name");
		int64_t in = 0, out = 0;

		if (!name)
			continue;
		if (from_children) {
			in = child_sum(t, in_key);
			out = child_sum(t, out_key);
		} else if (!get_int(t, in_key, &in) || !get_int(t, out_key, &out)) {
			continue;
		}
		sample(e, f, in, (const char *const[]){ "tunnel", name,
			"direction", "in", NULL });
		sample(e, f, out, (const char *const[]){ "tunnel", name,
			"direction", "out", NULL });
	}
}

/* Families with one sample per tunnel: value from fn, skipped when false. */
static void per_tunnel(struct emitter *e, const struct family *f,
		       struct json_object *tunnels,
		       bool (*fn)(struct json_object *t, int64_t *v))
{
	int64_t v;

	for (size_t i = 0; i < array_len(tunnels); i++) {
		struct json_object *t = json_object_array_get_idx(tunnels, i);
		const char *name = get_str(t, "name");

		if (name && fn(t, &v))
			sample(e, f, v, (const char *const[]){ "tunnel", name, NULL });
	}
}

static bool tunnel_up(struct json_object *t, int64_t *v)
{
	const char *st = get_str(t, "state");

	*v = st && strcmp(st, "up") == 0;
	return true;
}

static bool tunnel_children(struct json_object *t, int64_t *v)
{
	*v = (int64_t)child_count(t);
	return true;
}

static bool tunnel_child_rekeys(struct json_object *t, int64_t *v)
{
	return get_int(t, "rekeys", v);
}

static bool tunnel_ike_rekeys(struct json_object *t, int64_t *v)
{
	return get_int(t, "ike_rekeys", v);
}

static bool tunnel_dead_peers(struct json_object *t, int64_t *v)
{
	return get_int(t, "dead_peers", v);
}

static bool tunnel_cookies(struct json_object *t, int64_t *v)
{
	return get_int(t, "cookies_sent", v);
}

static bool tunnel_integrity(struct json_object *t, int64_t *v)
{
	return get_int(t, "integrity_failures", v);
}

/* obj[key] when it is a boolean, as 0 or 1. */
static bool get_bool(struct json_object *obj, const char *key, int64_t *v)
{
	struct json_object *o;

	if (!obj || !json_object_object_get_ex(obj, key, &o) ||
	    !json_object_is_type(o, json_type_boolean))
		return false;
	*v = json_object_get_boolean(o);
	return true;
}

/* 1 when obj[key] is "Established", else 0 (also when missing). */
static bool neighbor_up(struct json_object *n, const char *key, int64_t *v)
{
	const char *st = get_str(n, key);

	*v = st && strcmp(st, "Established") == 0;
	return true;
}

/* obj[key], a BGP state name, as BGP4-MIB's bgpPeerState; false if unknown. */
static bool neighbor_state(struct json_object *n, const char *key, int64_t *v)
{
	static const char *const states[] = { "Idle", "Connect", "Active", "OpenSent",
					      "OpenConfirm", "Established" };
	const char *st = get_str(n, key);

	for (size_t i = 0; st && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(st, states[i]) == 0) {
			*v = (int64_t)i + 1;
			return true;
		}
	return false;
}

/*
 * Families with one sample per BGP neighbor (labels neighbor, tunnel):
 * the value of key read by fn, skipped when fn returns false.
 */
static void per_neighbor(struct emitter *e, const struct family *f,
			 struct json_object *list, const char *key,
			 bool (*fn)(struct json_object *n, const char *key, int64_t *v))
{
	int64_t v;

	for (size_t i = 0; i < array_len(list); i++) {
		struct json_object *n = json_object_array_get_idx(list, i);
		const char *addr = get_str(n, "address"), *tun = get_str(n, "tunnel");

		if (addr && fn(n, key, &v))
			sample(e, f, v, (const char *const[]){ "neighbor", addr,
			       "tunnel", tun ? tun : "", NULL });
	}
}

/* Counters with one sample per BGP neighbor and direction. */
static void per_neighbor_direction(struct emitter *e, const struct family *f,
				   struct json_object *list, const char *in_key,
				   const char *out_key)
{
	int64_t in, out;

	for (size_t i = 0; i < array_len(list); i++) {
		struct json_object *n = json_object_array_get_idx(list, i);
		const char *addr = get_str(n, "address"), *tun = get_str(n, "tunnel");

		if (!addr || !get_int(n, in_key, &in) || !get_int(n, out_key, &out))
			continue;
		sample(e, f, in, (const char *const[]){ "neighbor", addr,
		       "tunnel", tun ? tun : "", "direction", "in", NULL });
		sample(e, f, out, (const char *const[]){ "neighbor", addr,
		       "tunnel", tun ? tun : "", "direction", "out", NULL });
	}
}

/* cgw_bgp_neighbor_info: what is not a number, as labels (those it has). */
static void neighbor_info(struct emitter *e, struct json_object *list)
{
	for (size_t i = 0; i < array_len(list); i++) {
		struct json_object *n = json_object_array_get_idx(list, i);
		const char *addr = get_str(n, "address"), *tun = get_str(n, "tunnel");
		const char *name = get_str(n, "name"), *type = get_str(n, "type");
		const char *labels[13] = { "neighbor", addr, "tunnel", tun ? tun : "",
					   "name", name };
		char ras[24], las[24];
		size_t k = 6;
		int64_t v;

		if (!addr || !name)
			continue;
		if (type) {
			labels[k++] = "type";
			labels[k++] = type;
		}
		if (get_int(n, "remote_as", &v)) {
			snprintf(ras, sizeof(ras), "%" PRId64, v);
			labels[k++] = "remote_as";
			labels[k++] = ras;
		}
		if (get_int(n, "local_as", &v)) {
			snprintf(las, sizeof(las), "%" PRId64, v);
			labels[k++] = "local_as";
			labels[k++] = las;
		}
		labels[k] = NULL;
		sample(e, &f_bgp_info, 1, labels);
	}
}

static void neighbors(struct emitter *e, struct json_object *list)
{
	per_neighbor(e, &f_bgp_up, list, "state", neighbor_up);
	per_neighbor(e, &f_bgp_session_up, list, "state", neighbor_up);
	per_neighbor(e, &f_bgp_state, list, "state", neighbor_state);
	neighbor_info(e, list);
	per_neighbor(e, &f_bgp_uptime, list, "uptime", get_int);
	per_neighbor(e, &f_bgp_established, list, "established_count", get_int);
	per_neighbor(e, &f_bgp_prefixes, list, "prefixes_received", get_int);
	per_neighbor(e, &f_bgp_accepted, list, "prefixes_accepted", get_int);
	per_neighbor(e, &f_bgp_best, list, "prefixes_best", get_int);
	per_neighbor(e, &f_bgp_advertised, list, "prefixes_advertised", get_int);
	per_neighbor(e, &f_bgp_out_limited, list, "max_prefix_out_hit", get_bool);
	per_neighbor_direction(e, &f_bgp_messages, list, "messages_in", "messages_out");
	per_neighbor_direction(e, &f_bgp_updates, list, "updates_in", "updates_out");
}

int metrics_print(struct json_object *st, FILE *out)
{
	struct emitter e = { .out = out };
	struct json_object *tunnels;
	const char *version;
	int64_t v;

	sample(&e, &f_up, st != NULL, NULL);
	if (st) {
		if ((version = get_str(st, "version")))
			sample(&e, &f_info, 1, (const char *const[]){ "version", version, NULL });
		if (get_int(st, "uptime", &v))
			sample(&e, &f_uptime, v, NULL);
		if (get_int(st, "reloads", &v))
			sample(&e, &f_reloads, v, NULL);
		tunnels = get_array(st, "tunnels");
		per_tunnel(&e, &f_tunnel_up, tunnels, tunnel_up);
		per_tunnel(&e, &f_ike_age, tunnels, ike_age);
		per_tunnel(&e, &f_child_sas, tunnels, tunnel_children);
		per_direction(&e, &f_child_bytes, tunnels, "bytes_in", "bytes_out", true);
		per_direction(&e, &f_child_packets, tunnels, "packets_in", "packets_out", true);
		per_tunnel(&e, &f_child_rekeys, tunnels, tunnel_child_rekeys);
		per_tunnel(&e, &f_ike_rekeys, tunnels, tunnel_ike_rekeys);
		per_tunnel(&e, &f_dead_peers, tunnels, tunnel_dead_peers);
		per_tunnel(&e, &f_cookies, tunnels, tunnel_cookies);
		per_tunnel(&e, &f_integrity, tunnels, tunnel_integrity);
		per_direction(&e, &f_vti_bytes, tunnels, "bytes_in", "bytes_out", false);
		per_direction(&e, &f_vti_packets, tunnels, "packets_in", "packets_out", false);
		neighbors(&e, get_array(st, "neighbors"));
	}
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

static void metrics_usage(FILE *f)
{
	fprintf(f, "Usage: cgwctl [-s SOCKET] metrics\n"
		"\n"
		"Print cgwd's tunnels, SAs and BGP neighbors in Prometheus text format.\n"
		"When cgwd cannot be reached, prints cgw_up 0 and exits with status 3.\n");
}

int metrics_main(int argc, char **argv, const char *socket_path)
{
	struct json_object *st = NULL;
	char err[512];
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			metrics_usage(stdout);
			return 0;
		}
		fprintf(stderr, "cgwctl: metrics: unexpected argument '%s'\n", argv[i]);
		metrics_usage(stderr);
		return 2;
	}
	r = cgwctl_fetch_status(socket_path, &st, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "cgwctl: %s\n", err);
	if (metrics_print(st, stdout) < 0) {
		fprintf(stderr, "cgwctl: metrics: write error\n");
		json_object_put(st);
		return 1;
	}
	json_object_put(st);
	return r == -EPROTO ? 1 : r < 0 ? 3 : 0;
}
