/*
 * cgwctl metrics: a canned status (the shape daemon/daemon.c, tunnels.c
 * and ike/ike.c build) in, exact Prometheus text out; the control-socket
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
	"      \"rekeys\": 7,"
	"      \"bytes_in\": 5000, \"packets_in\": 50, \"bytes_out\": 6000, \"packets_out\": 60,"
	"      \"state\": \"up\" },"
	"    { \"name\": \"odd\\\"na\\\\me\\n\", \"remote\": \"198.51.100.2\", \"vti\": \"vti2\","
	"      \"ike_sas\": [ { \"state\": \"INIT_SENT\", \"children\": [] } ],"
	"      \"reason\": \"no answer\", \"state\": \"connecting\" } ],"
	"  \"neighbors\": ["
	"    { \"name\": \"aws-1\", \"address\": \"169.254.10.1\", \"remote_as\": 64512,"
	"      \"state\": \"Established\", \"tunnel\": \"aws-1\", \"prefixes_received\": 3 },"
	"    { \"name\": \"odd\", \"address\": \"169.254.11.1\", \"remote_as\": 64512,"
	"      \"state\": \"Idle\", \"tunnel\": \"odd\" } ] }";

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
	"cgw_bgp_neighbor_up{neighbor=\"169.254.11.1\",tunnel=\"odd\"} 0\n"
	"# HELP cgw_bgp_prefixes_received Prefixes received from the BGP neighbor\n"
	"# TYPE cgw_bgp_prefixes_received gauge\n"
	"cgw_bgp_prefixes_received{neighbor=\"169.254.10.1\",tunnel=\"aws-1\"} 3\n";

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
