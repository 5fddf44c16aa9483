/*
 * cgwctl metrics: a canned status (the shape daemon/daemon.c, tunnels.c,
 * ike/ike.c and bgp/speaker.c build) in, exact Prometheus text out; the control-socket
 * client against a one-shot fake cgwd. `test_metrics --dump` prints the
 * canned exposition for `promtool check metrics`.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "cgwctl/metrics.h"

static const char status_json[] =
	"{ \"version\": \"0.1.0\", \"pid\": 42, \"config\": \"/etc/cgw/cgw.conf\","
	"  \"uptime\": 3600, \"reloads\": 2, \"local_address\": \"203.0.113.10\","
	"  \"asn\": 65000, \"router_id\": \"192.168.2.1\","
	"  \"tunnels\": ["
	"    { \"name\": \"aws-1\", \"remote\": \"198.51.100.1\", \"vti\": \"vti1\","
	"      \"mark\": 100, \"inside\": \"169.254.10.0/30\", \"startup\": \"start\","
	"      \"ike_sas\": ["
	"        { \"state\": \"ESTABLISHED\", \"spi_i\": \"0011223344556677\","
	"          \"spi_r\": \"8899aabbccddeeff\", \"role\": \"initiator\","
	"          \"algorithms\": \"aes256-sha256-prfsha256-modp2048\", \"nat_t\": false,"
	"          \"established_for\": 1200,"
	"          \"children\": ["
	"            { \"spi_in\": \"c0000001\", \"spi_out\": \"d0000001\", \"state\": \"INSTALLED\","
	"              \"algorithms\": \"aes256gcm16\", \"established_for\": 600,"
	"              \"bytes_in\": 1000, \"packets_in\": 10, \"bytes_out\": 2000, \"packets_out\": 20 },"
	"            { \"spi_in\": \"c0000002\", \"spi_out\": \"d0000002\", \"state\": \"INSTALLED\","
	"              \"algorithms\": \"aes256gcm16\", \"established_for\": 5,"
	"              \"bytes_in\": 1, \"packets_in\": 1, \"bytes_out\": 3, \"packets_out\": 1 } ] },"
	"        { \"state\": \"ESTABLISHED\", \"spi_i\": \"1\", \"spi_r\": \"2\", \"role\": \"responder\","
	"          \"nat_t\": false, \"established_for\": 30, \"children\": [] } ],"
	"      \"rekeys\": 7, \"cookies_sent\": 41, \"integrity_failures\": 3,"
	"      \"bytes_in\": 5000, \"packets_in\": 50, \"bytes_out\": 6000, \"packets_out\": 60,"
	"      \"state\": \"up\" },"
	"    { \"name\": \"odd\\\"na\\\\me\\n\", \"remote\": \"198.51.100.2\", \"vti\": \"vti2\","
	"      \"ike_sas\": [ { \"state\": \"INIT_SENT\", \"children\": [] } ],"
	"      \"reason\": \"no answer\", \"state\": \"connecting\" } ],"
	"  \"neighbors\": ["
	"    { \"name\": \"aws-1\", \"tunnel\": \"aws-1\", \"address\": \"169.254.10.1\","
	"      \"local_address\": \"169.254.10.2\", \"remote_as\": 64512, \"local_as\": 65000,"
	"      \"type\": \"ebgp\", \"state\": \"Established\", \"uptime\": 600,"
	"      \"hold_time\": 30, \"keepalive\": 10, \"router_id\": \"169.254.10.1\","
	"      \"graceful_restart\": true, \"prefixes_received\": 3, \"prefixes_accepted\": 3,"
	"      \"prefixes_best\": 2, \"prefixes_stale\": 0, \"prefixes_advertised\": 1,"
	"      \"max_prefix_in\": 5000, \"max_prefix_out\": 100, \"max_prefix_out_hit\": false,"
	"      \"established_count\": 2, \"messages_in\": 120, \"messages_out\": 118,"
	"      \"updates_in\": 3, \"updates_out\": 1 },"
	"    { \"name\": \"core\", \"address\": \"10.0.0.1\", \"port\": 1179,"
	"      \"remote_as\": 65000, \"local_as\": 65000, \"type\": \"ibgp\","
	"      \"state\": \"Active\", \"hold_time\": 90, \"down_for\": 310,"
	"      \"prefixes_received\": 0, \"prefixes_accepted\": 0, \"prefixes_best\": 0,"
	"      \"prefixes_stale\": 0, \"prefixes_advertised\": 0, \"max_prefix_in\": 0,"
	"      \"max_prefix_out\": 1, \"max_prefix_out_hit\": true, \"established_count\": 1,"
	"      \"messages_in\": 5, \"messages_out\": 7, \"updates_in\": 1, \"updates_out\": 0,"
	"      \"last_error\": \"hold timer expired (90 s without a message)\" },"
	"    { \"name\": \"odd\", \"address\": \"169.254.11.1\", \"remote_as\": 64512,"
	"      \"state\": \"Idle\", \"tunnel\": \"odd\", \"reason\": \"waiting for the tunnel\" },"
	"    { \"name\": \"new\", \"address\": \"10.0.0.2\", \"state\": \"Bogus\" } ] }";

static const char expected[] =
	"# HELP cgw_up 1 when cgwd answered the status request, 0 when it could not be reached\n"
	"# TYPE cgw_up gauge\n"
	"cgw_up 1\n"
	"# HELP cgw_info cgwd's version, as a label; always 1\n"
	"# TYPE cgw_info gauge\n"
	"cgw_info{version=\"0.1.0\"} 1\n"
	"# HELP cgw_uptime_seconds Seconds since cgwd started\n"
	"# TYPE cgw_uptime_seconds gauge\n"
	"cgw_uptime_seconds 3600\n"
	"# HELP cgw_reloads_total Configuration reloads applied since cgwd started\n"
	"# TYPE cgw_reloads_total counter\n"
	"cgw_reloads_total 2\n"
	"# HELP cgw_tunnel_up 1 when the tunnel has an installed CHILD SA, else 0\n"
	"# TYPE cgw_tunnel_up gauge\n"
	"cgw_tunnel_up{tunnel=\"aws-1\"} 1\n"
	"cgw_tunnel_up{tunnel=\"odd\\\"na\\\\me\\n\"} 0\n"
	"# HELP cgw_ike_sa_established_seconds Age of the tunnel's newest established IKE SA\n"
	"# TYPE cgw_ike_sa_established_seconds gauge\n"
	"cgw_ike_sa_established_seconds{tunnel=\"aws-1\"} 30\n"
	"# HELP cgw_child_sas CHILD SAs the tunnel has, in any state\n"
	"# TYPE cgw_child_sas gauge\n"
	"cgw_child_sas{tunnel=\"aws-1\"} 2\n"
	"cgw_child_sas{tunnel=\"odd\\\"na\\\\me\\n\"} 0\n"
	"# HELP cgw_child_sa_bytes_total Bytes through the tunnel's CHILD SAs (sum over its SAs; resets when one is replaced)\n"
	"# TYPE cgw_child_sa_bytes_total counter\n"
	"cgw_child_sa_bytes_total{tunnel=\"aws-1\",direction=\"in\"} 1001\n"
	"cgw_child_sa_bytes_total{tunnel=\"aws-1\",direction=\"out\"} 2003\n"
	"cgw_child_sa_bytes_total{tunnel=\"odd\\\"na\\\\me\\n\",direction=\"in\"} 0\n"
	"cgw_child_sa_bytes_total{tunnel=\"odd\\\"na\\\\me\\n\",direction=\"out\"} 0\n"
	"# HELP cgw_child_sa_packets_total Packets through the tunnel's CHILD SAs (sum over its SAs; resets when one is replaced)\n"
	"# TYPE cgw_child_sa_packets_total counter\n"
	"cgw_child_sa_packets_total{tunnel=\"aws-1\",direction=\"in\"} 11\n"
	"cgw_child_sa_packets_total{tunnel=\"aws-1\",direction=\"out\"} 21\n"
	"cgw_child_sa_packets_total{tunnel=\"odd\\\"na\\\\me\\n\",direction=\"in\"} 0\n"
	"cgw_child_sa_packets_total{tunnel=\"odd\\\"na\\\\me\\n\",direction=\"out\"} 0\n"
	"# HELP cgw_child_sa_rekeys_total CHILD SA rekeys of the tunnel\n"
	"# TYPE cgw_child_sa_rekeys_total counter\n"
	"cgw_child_sa_rekeys_total{tunnel=\"aws-1\"} 7\n"
	"# HELP cgw_ike_cookies_sent_total IKE_SA_INIT requests from the tunnel's peer address answered with a COOKIE (too many half-open SAs: a flood)\n"
	"# TYPE cgw_ike_cookies_sent_total counter\n"
	"cgw_ike_cookies_sent_total{tunnel=\"aws-1\"} 41\n"
	"# HELP cgw_ike_integrity_failures_total protected IKE messages for the tunnel's IKE SAs that failed the integrity check (dropped: forged, corrupted or replayed from elsewhere)\n"
	"# TYPE cgw_ike_integrity_failures_total counter\n"
	"cgw_ike_integrity_failures_total{tunnel=\"aws-1\"} 3\n"
	"# HELP cgw_vti_bytes_total Bytes through the tunnel's VTI\n"
	"# TYPE cgw_vti_bytes_total counter\n"
	"cgw_vti_bytes_total{tunnel=\"aws-1\",direction=\"in\"} 5000\n"
	"cgw_vti_bytes_total{tunnel=\"aws-1\",direction=\"out\"} 6000\n"
	"# HELP cgw_vti_packets_total Packets through the tunnel's VTI\n"
	"# TYPE cgw_vti_packets_total counter\n"
	"cgw_vti_packets_total{tunnel=\"aws-1\",direction=\"in\"} 50\n"
	"cgw_vti_packets_total{tunnel=\"aws-1\",direction=\"out\"} 60\n"
	"# HELP cgw_bgp_neighbor_up 1 when the BGP session is Established, else 0\n"
	"# TYPE cgw_bgp_neighbor_up gauge\n"
	"cgw_bgp_neighbor_up{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 1\n"
	"cgw_bgp_neighbor_up{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"
	"cgw_bgp_neighbor_up{neighbor=\"169.254.11.1\",tunnel=\"odd\"} 0\n"
	"cgw_bgp_neighbor_up{neighbor=\"10.0.0.2\",tunnel=\"\"} 0\n"
	"# HELP cgw_bgp_session_up 1 when the BGP session is Established, else 0\n"
	"# TYPE cgw_bgp_session_up gauge\n"
	"cgw_bgp_session_up{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 1\n"
	"cgw_bgp_session_up{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"
	"cgw_bgp_session_up{neighbor=\"169.254.11.1\",tunnel=\"odd\"} 0\n"
	"cgw_bgp_session_up{neighbor=\"10.0.0.2\",tunnel=\"\"} 0\n"
	"# HELP cgw_bgp_state BGP session state as BGP4-MIB bgpPeerState: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established\n"
	"# TYPE cgw_bgp_state gauge\n"
	"cgw_bgp_state{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 6\n"
	"cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 3\n"
	"cgw_bgp_state{neighbor=\"169.254.11.1\",tunnel=\"odd\"} 1\n"
	"# HELP cgw_bgp_neighbor_info The BGP neighbor's name, type (ebgp, ibgp) and ASes, as labels; always 1\n"
	"# TYPE cgw_bgp_neighbor_info gauge\n"
	"cgw_bgp_neighbor_info{neighbor=\"169.254.10.1\",tunnel=\"aws-1\",name=\"aws-1\",type=\"ebgp\",remote_as=\"64512\",local_as=\"65000\"} 1\n"
	"cgw_bgp_neighbor_info{neighbor=\"10.0.0.1\",tunnel=\"\",name=\"core\",type=\"ibgp\",remote_as=\"65000\",local_as=\"65000\"} 1\n"
	"cgw_bgp_neighbor_info{neighbor=\"169.254.11.1\",tunnel=\"odd\",name=\"odd\",remote_as=\"64512\"} 1\n"
	"cgw_bgp_neighbor_info{neighbor=\"10.0.0.2\",tunnel=\"\",name=\"new\"} 1\n"
	"# HELP cgw_bgp_session_established_seconds Seconds since the BGP session was established (Established sessions only)\n"
	"# TYPE cgw_bgp_session_established_seconds gauge\n"
	"cgw_bgp_session_established_seconds{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 600\n"
	"# HELP cgw_bgp_established_total Times the BGP session reached Established\n"
	"# TYPE cgw_bgp_established_total counter\n"
	"cgw_bgp_established_total{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 2\n"
	"cgw_bgp_established_total{neighbor=\"10.0.0.1\",tunnel=\"\"} 1\n"
	"# HELP cgw_bgp_prefixes_received Prefixes received from the BGP neighbor\n"
	"# TYPE cgw_bgp_prefixes_received gauge\n"
	"cgw_bgp_prefixes_received{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 3\n"
	"cgw_bgp_prefixes_received{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"
	"# HELP cgw_bgp_prefixes_accepted Prefixes received from the BGP neighbor and usable (no AS path loop)\n"
	"# TYPE cgw_bgp_prefixes_accepted gauge\n"
	"cgw_bgp_prefixes_accepted{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 3\n"
	"cgw_bgp_prefixes_accepted{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"
	"# HELP cgw_bgp_prefixes_best Prefixes for which a path from the BGP neighbor is the chosen one\n"
	"# TYPE cgw_bgp_prefixes_best gauge\n"
	"cgw_bgp_prefixes_best{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 2\n"
	"cgw_bgp_prefixes_best{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"
	"# HELP cgw_bgp_prefixes_advertised Prefixes announced to the BGP neighbor\n"
	"# TYPE cgw_bgp_prefixes_advertised gauge\n"
	"cgw_bgp_prefixes_advertised{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 1\n"
	"cgw_bgp_prefixes_advertised{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"
	"# HELP cgw_bgp_max_prefix_out_reached 1 when more prefixes than max-prefix-out are to be announced (the rest are not), else 0\n"
	"# TYPE cgw_bgp_max_prefix_out_reached gauge\n"
	"cgw_bgp_max_prefix_out_reached{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 0\n"
	"cgw_bgp_max_prefix_out_reached{neighbor=\"10.0.0.1\",tunnel=\"\"} 1\n"
	"# HELP cgw_bgp_messages_total BGP messages received (in) from and sent (out) to the neighbor\n"
	"# TYPE cgw_bgp_messages_total counter\n"
	"cgw_bgp_messages_total{neighbor=\"169.254.10.1\",tunnel=\"aws-1\",direction=\"in\"} 120\n"
	"cgw_bgp_messages_total{neighbor=\"169.254.10.1\",tunnel=\"aws-1\",direction=\"out\"} 118\n"
	"cgw_bgp_messages_total{neighbor=\"10.0.0.1\",tunnel=\"\",direction=\"in\"} 5\n"
	"cgw_bgp_messages_total{neighbor=\"10.0.0.1\",tunnel=\"\",direction=\"out\"} 7\n"
	"# HELP cgw_bgp_updates_total BGP UPDATE messages received (in) from and sent (out) to the neighbor\n"
	"# TYPE cgw_bgp_updates_total counter\n"
	"cgw_bgp_updates_total{neighbor=\"169.254.10.1\",tunnel=\"aws-1\",direction=\"in\"} 3\n"
	"cgw_bgp_updates_total{neighbor=\"169.254.10.1\",tunnel=\"aws-1\",direction=\"out\"} 1\n"
	"cgw_bgp_updates_total{neighbor=\"10.0.0.1\",tunnel=\"\",direction=\"in\"} 1\n"
	"cgw_bgp_updates_total{neighbor=\"10.0.0.1\",tunnel=\"\",direction=\"out\"} 0\n";

static char *render(struct json_object *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_print(st, f), 0);
	fclose(f);
	return buf;
}

static void test_canned_status(void **state)
{
	struct json_object *st = json_tokener_parse(status_json);
	char *out;

	assert_non_null(st);
	out = render(st);
	assert_string_equal(out, expected);
	free(out);
	json_object_put(st);
}

static void test_down(void **state)
{
	char *out = render(NULL);

	assert_string_equal(out,
		"# HELP cgw_up 1 when cgwd answered the status request, 0 when it could not be reached\n"
		"# TYPE cgw_up gauge\n"
		"cgw_up 0\n");
	free(out);
}

/* Missing or mistyped fields: no crash, no sample from them. */
static void test_sparse(void **state)
{
	struct json_object *st = json_tokener_parse(
		"{\"tunnels\": [{\"state\": \"up\"}, 5, {\"name\": \"t\", \"ike_sas\": 3}],"
		" \"neighbors\": {}, \"reloads\": \"x\"}");
	char *out;

	assert_non_null(st);
	out = render(st);
	assert_non_null(strstr(out, "cgw_up 1\n"));
	assert_null(strstr(out, "cgw_reloads_total"));
	assert_non_null(strstr(out, "cgw_tunnel_up{tunnel=\"t\"} 0\n"));
	assert_null(strstr(out, "cgw_bgp"));
	free(out);
	json_object_put(st);
}

/* cgw_bgp_state: BGP4-MIB's bgpPeerState numbers, unknown names left out. */
static void test_bgp_states(void **state)
{
	static const struct {
		const char *name;
		const char *line;	/* NULL: no cgw_bgp_state sample */
	} cases[] = {
		{ "Idle", "cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 1\n" },
		{ "Connect", "cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 2\n" },
		{ "Active", "cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 3\n" },
		{ "OpenSent", "cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 4\n" },
		{ "OpenConfirm", "cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 5\n" },
		{ "Established", "cgw_bgp_state{neighbor=\"10.0.0.1\",tunnel=\"\"} 6\n" },
		{ "established", NULL },
		{ "", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *st = json_object_new_object(), *list = json_object_new_array();
		struct json_object *n = json_object_new_object();
		char *out;

		json_object_object_add(n, "name", json_object_new_string("core"));
		json_object_object_add(n, "address", json_object_new_string("10.0.0.1"));
		json_object_object_add(n, "state", json_object_new_string(cases[i].name));
		json_object_array_add(list, n);
		json_object_object_add(st, "neighbors", list);
		out = render(st);
		if (cases[i].line)
			assert_non_null(strstr(out, cases[i].line));
		else
			assert_null(strstr(out, "cgw_bgp_state{"));
		assert_non_null(strstr(out, strcmp(cases[i].name, "Established") == 0 ?
			"cgw_bgp_session_up{neighbor=\"10.0.0.1\",tunnel=\"\"} 1\n" :
			"cgw_bgp_session_up{neighbor=\"10.0.0.1\",tunnel=\"\"} 0\n"));
		free(out);
		json_object_put(st);
	}
}

/* ---- the client, against a fake cgwd ---- */

struct fake {
	int lfd;
	const char *reply;
	char request[256];
};

static void *fake_cgwd(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = recv(fd, f->request, sizeof(f->request) - 1, 0);
	if (n > 0)
		f->request[n] = '\0';
	if (send(fd, f->reply, strlen(f->reply), MSG_NOSIGNAL) < 0)
		f->request[0] = '\0';
	close(fd);
	return NULL;
}

static int fetch_from_fake(const char *reply, struct json_object **st, char *err,
			   size_t errlen, char *request)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fake f = { .reply = reply };
	char dir[] = "/tmp/test-metrics-XXXXXX";
	pthread_t th;
	int r;

	assert_non_null(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f.lfd >= 0);
	assert_int_equal(bind(f.lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f.lfd, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, fake_cgwd, &f), 0);
	r = cgwctl_fetch_status(sun.sun_path, st, err, errlen);
	pthread_join(th, NULL);
	close(f.lfd);
	unlink(sun.sun_path);
	rmdir(dir);
	snprintf(request, 256, "%s", f.request);
	return r;
}

static void test_fetch(void **state)
{
	struct json_object *st = NULL;
	char err[256], req[256];

	assert_int_equal(fetch_from_fake("{\"ok\": true, \"result\": {\"reloads\": 4}}\n",
					 &st, err, sizeof(err), req), 0);
	assert_non_null(strstr(req, "\"status\""));
	assert_int_equal(json_object_get_int(json_object_object_get(st, "reloads")), 4);
	json_object_put(st);

	assert_int_equal(fetch_from_fake("{\"ok\": false, \"error\": \"busy\"}\n",
					 &st, err, sizeof(err), req), -EPROTO);
	assert_null(st);
	assert_string_equal(err, "cgwd: busy");

	assert_true(fetch_from_fake("not json\n", &st, err, sizeof(err), req) < 0);
	assert_null(st);
}

static void test_unreachable(void **state)
{
	struct json_object *st = NULL;
	char err[256];

	assert_true(cgwctl_fetch_status("/nonexistent/cgwd.sock", &st, err, sizeof(err)) < 0);
	assert_null(st);
	assert_non_null(strstr(err, "cannot connect to /nonexistent/cgwd.sock"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canned_status),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_bgp_states),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_unreachable),
	};

	if (argc > 1 && strcmp(argv[1], "--dump") == 0) {
		struct json_object *st = json_tokener_parse(status_json);
		int r = metrics_print(st, stdout);
		json_object_put(st);
		return r < 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
