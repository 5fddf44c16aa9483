/*
 * vti/ through the recording fake: the calls a tunnel's VTI takes (link,
 * sysctls, address, MTU, up), rollback when a sysctl cannot be written,
 * the name checks (the name ends up in a /proc/sys path), the sysctl
 * checks (rp_filter is max(all, interface)), and that only VTIs named in
 * the config are ever deleted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "common/log.h"
#include "vti/vti-internal.h"

static char logbuf[8192];

static void sink(int prio, const char *line, void *arg)
{
	size_t n = strlen(logbuf);

	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", line);
}

static int setup(void **state)
{
	struct vti *v;

	assert_int_equal(vti_open_fake(&v), 0);
	logbuf[0] = '\0';
	log_set_sink(sink, NULL);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	vti_close(*state);
	log_set_sink(NULL, NULL);
	return 0;
}

static struct vti_params params(const char *name, uint32_t mark)
{
	struct vti_params p = { .mark = mark };

	snprintf(p.name, sizeof(p.name), "%s", name);
	p.local.family = p.remote.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &p.local.v4);
	inet_pton(AF_INET, "192.0.2.2", &p.remote.v4);
	return p;
}

static void test_create_sequence(void **state)
{
	struct vti *v = *state;
	struct vti_params p = params("vti1", 100);
	struct cgw_prefix in = { .addr = { .family = AF_INET }, .len = 30 };

	inet_pton(AF_INET, "169.254.10.2", &in.addr.v4);
	assert_int_equal(vti_create(v, &p), 0);
	assert_int_equal(vti_addr_add(v, "vti1", &in), 0);
	assert_int_equal(vti_set_mtu(v, "vti1", 1436), 0);
	assert_int_equal(vti_set_up(v, "vti1", true), 0);
	assert_string_equal(vti_fake_log(v),
		"link add vti1 type vti local 192.0.2.1 remote 192.0.2.2 ikey 100 okey 100\n"
		"sysctl net/ipv4/conf/vti1/disable_policy=1\n"
		"sysctl net/ipv4/conf/vti1/rp_filter=2\n"
		"addr add 169.254.10.2/30 dev vti1\n"
		"link set vti1 mtu 1436\n"
		"link set vti1 up\n");
	assert_int_equal(vti_exists(v, "vti1"), 1);
	assert_int_equal(vti_create(v, &p), -EEXIST);
	assert_non_null(strstr(logbuf, "exists already"));
}

static void test_sysctl_failure_rolls_back(void **state)
{
	struct vti *v = *state;
	struct vti_params p = params("vti1", 100);

	vti_fake_fail_next(v, "sysctl net/ipv4/conf/vti1/rp_filter", -EACCES);
	assert_int_equal(vti_create(v, &p), -EACCES);
	assert_non_null(strstr(logbuf, "rp_filter=2"));
	assert_non_null(strstr(vti_fake_log(v), "link del vti1\n"));
	assert_int_equal(vti_exists(v, "vti1"), 0);
}

static void test_refused(void **state)
{
	struct vti *v = *state;
	static const char *const bad[] = {
		"", "..", ".", "../../x", "a/b", "vti 1", "vti1:0", "0123456789abcdef", "tab\t",
	};
	struct vti_params p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = params("x", 100);
		/* The 16-byte name fills the array with no terminator. */
		memset(p.name, 0, sizeof(p.name));
		memcpy(p.name, bad[i], strnlen(bad[i], sizeof(p.name)));
		assert_int_equal(vti_create(v, &p), -EINVAL);
	}
	p = params("vti1", 0);
	assert_int_equal(vti_create(v, &p), -EINVAL);
	assert_non_null(strstr(logbuf, "mark 0"));
	p = params("vti1", 100);
	p.remote.family = AF_INET6;
	assert_int_equal(vti_create(v, &p), -EAFNOSUPPORT);
	assert_int_equal(vti_set_mtu(v, "vti1", 40), -EINVAL);
	assert_string_equal(vti_fake_log(v), "");	/* the kernel was never asked */
}

static void test_missing_module_hint(void **state)
{
	struct vti *v = *state;
	struct vti_params p = params("vti1", 100);

	vti_fake_fail_next(v, "link add", -EOPNOTSUPP);
	assert_int_equal(vti_create(v, &p), -EOPNOTSUPP);
	assert_non_null(strstr(logbuf, "modprobe ip_vti"));
}

static void test_check_sysctls(void **state)
{
	struct vti *v = *state;
	const struct {
		int forward, all_rp, vti_rp, disable_policy, want;
	} cases[] = {
		{ 0, 0, 2, 1, VTI_WARN_IP_FORWARD },
		{ 1, 0, 2, 1, 0 },
		{ 1, 1, 2, 1, 0 },		/* strict all, loose vti: max = 2, loose */
		{ 1, 1, 0, 1, VTI_WARN_RP_FILTER },	/* strict all defeats vti's 0 */
		{ 1, 0, 1, 1, VTI_WARN_RP_FILTER },
		{ 1, 2, 1, 1, 0 },		/* max(2, 1) = 2 */
		{ 1, 0, 2, 0, VTI_WARN_DISABLE_POLICY },
		{ 0, 1, 1, 0, VTI_WARN_IP_FORWARD | VTI_WARN_RP_FILTER | VTI_WARN_DISABLE_POLICY },
	};
	struct vti_params p = params("vti1", 100);

	assert_int_equal(vti_create(v, &p), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vti_fake_set_sysctl(v, "net/ipv4/ip_forward", cases[i].forward);
		vti_fake_set_sysctl(v, "net/ipv4/conf/all/rp_filter", cases[i].all_rp);
		vti_fake_set_sysctl(v, "net/ipv4/conf/vti1/rp_filter", cases[i].vti_rp);
		vti_fake_set_sysctl(v, "net/ipv4/conf/vti1/disable_policy",
				    cases[i].disable_policy);
		logbuf[0] = '\0';
		if (vti_check_sysctls(v, "vti1") != cases[i].want)
			fail_msg("case %zu: want 0x%x: %s", i, cases[i].want, logbuf);
		assert_int_equal(logbuf[0] != '\0', cases[i].want != 0);
	}
	assert_non_null(strstr(logbuf, "max(all=1, vti1=1)"));
	assert_int_equal(vti_rp_filter_effective(1, 2), 2);
	assert_int_equal(vti_check_sysctls(v, "gone0"), -ENOENT);
}

static void test_flush_only_configured_vtis(void **state)
{
	struct vti *v = *state;
	struct vti_params p1 = params("vti1", 100), p2 = params("vti2", 200);
	struct vti_params p3 = params("other9", 300);
	static const char *const names[] = { "vti1", "vti2", "eth0", "absent0" };
	int value;

	assert_int_equal(vti_create(v, &p1), 0);
	assert_int_equal(vti_create(v, &p2), 0);
	assert_int_equal(vti_create(v, &p3), 0);	/* a VTI not in our config */
	assert_int_equal(vti_fake_add_link(v, "eth0", "veth"), 0);
	assert_int_equal(vti_flush_owned(v, names, 4), 2);
	assert_non_null(strstr(logbuf, "eth0: is a \"veth\" link, not a VTI: left alone"));
	assert_int_equal(vti_exists(v, "vti1"), 0);
	assert_int_equal(vti_exists(v, "vti2"), 0);
	assert_int_equal(vti_exists(v, "other9"), 1);
	assert_int_equal(vti_exists(v, "eth0"), -EMEDIUMTYPE);
	assert_int_equal(vti_delete(v, "eth0"), -EMEDIUMTYPE);
	assert_int_equal(vti_delete(v, "absent0"), -ENODEV);
	/* A deleted link's sysctl directory goes with it. */
	assert_int_equal(v->ops->sysctl_get(v, "net/ipv4/conf/vti1/rp_filter", &value), -ENOENT);
	assert_int_equal(vti_flush_owned(v, names, 4), 0);
}

static void test_counters(void **state)
{
	struct vti *v = *state;
	struct vti_params p = params("vti1", 100);
	struct vti_counters c = { .rx_bytes = 840, .rx_packets = 10, .tx_bytes = 420,
				  .tx_packets = 5 }, got;

	assert_int_equal(vti_create(v, &p), 0);
	assert_int_equal(vti_fake_set_counters(v, "vti1", &c), 0);
	assert_int_equal(vti_get_counters(v, "vti1", &got), 0);
	assert_memory_equal(&got, &c, sizeof(c));
	assert_int_equal(vti_fake_add_link(v, "eth0", "veth"), 0);
	assert_int_equal(vti_get_counters(v, "eth0", &got), -EMEDIUMTYPE);
	assert_int_equal(vti_get_counters(v, "nope0", &got), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_failure_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_module_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_sysctls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_only_configured_vtis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
