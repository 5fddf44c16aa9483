/*
 * cgwctl import (import/): algorithm translation tables, parse errors with
 * positions, and every importable fixture of tests/import/fixtures taken
 * through read -> plan -> emit -> conf_load_buffer(), with the PSK files
 * written to a scratch directory, so each produced config is proven to be
 * one cgwd accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>

#include "common/secret.h"
#include "conf/conf.h"
#include "import/import.h"

#ifndef IMPORT_FIXTURES
#error "IMPORT_FIXTURES must name tests/import/fixtures"
#endif

/* ---- algorithms ---- */

static void test_aws_proposals(void **state)
{
	static const struct {
		enum imp_prop_kind kind;
		struct imp_aws_algs in;
		const char *want;
	} cases[] = {
		{ IMP_IKE, { .n_enc = 0 }, "aes256-sha256-modp2048" },
		{ IMP_ESP, { .n_enc = 0 }, "aes256gcm16-modp2048" },
		{ IMP_IKE, { .enc = { "AES128", "AES256" }, .n_enc = 2,
			     .integ = { "SHA1" }, .n_integ = 1, .dh = { 2, 14 }, .n_dh = 2 },
		  "aes256-aes128-sha1-modp2048-modp1024" },
		{ IMP_IKE, { .enc = { "AES128-GCM-16", "AES256" }, .n_enc = 2,
			     .dh = { 19 }, .n_dh = 1 },
		  "aes128gcm16-sha256-ecp256,aes256-sha256-ecp256" },
		{ IMP_ESP, { .enc = { "aes256-gcm-16" }, .n_enc = 1,
			     .integ = { "SHA2-512" }, .n_integ = 1, .dh = { 21 }, .n_dh = 1 },
		  "aes256gcm16-ecp521" },
		{ IMP_ESP, { .enc = { "AES256" }, .n_enc = 1, .integ = { "SHA2-256" },
			     .n_integ = 1, .dh = { 5 }, .n_dh = 1 },
		  "aes256-sha256-modp1536" },
	};
	char out[IMP_PROP_MAX], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(imp_aws_proposal(cases[i].kind, &cases[i].in, out,
						  sizeof(out), err, sizeof(err)), 0);
		assert_string_equal(out, cases[i].want);
	}
}

static void test_aws_proposal_all_fits(void **state)
{
	struct imp_aws_algs a = {
		.enc = { "AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16" }, .n_enc = 4,
		.integ = { "SHA1", "SHA2-256", "SHA2-384", "SHA2-512" }, .n_integ = 4,
		.dh = { 2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 }, .n_dh = 12,
	};
	char out[IMP_PROP_MAX], err[256];

	assert_int_equal(imp_aws_proposal(IMP_IKE, &a, out, sizeof(out), err, sizeof(err)), 0);
	assert_true(strlen(out) <= 180);	/* one cgw.conf line */
	assert_non_null(strstr(out, "aes256gcm16"));
	a.dh[0] = 99;
	assert_int_equal(imp_aws_proposal(IMP_IKE, &a, out, sizeof(out), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "99"));
}

static void test_libreswan_proposals(void **state)
{
	static const struct {
		enum imp_prop_kind kind;
		const char *in;
		bool pfs;
		const char *want;
	} cases[] = {
		{ IMP_IKE, "aes128-sha1;modp1024", true, "aes128-sha1-modp1024" },
		{ IMP_IKE, "aes256-sha2_256-modp2048!", true, "aes256-sha256-modp2048" },
		{ IMP_IKE, "aes256-sha1", true, "aes256-sha1-modp2048" },
		{ IMP_IKE, "aes_gcm256-sha2_512-dh20, aes-sha2-dh19", true,
		  "aes256gcm16-sha512-ecp384,aes256-aes128-sha256-ecp256" },
		{ IMP_ESP, "aes_gcm", true, "aes256gcm16-aes128gcm16-modp2048" },
		{ IMP_ESP, "aes_gcm256-null", false, "aes256gcm16" },
		{ IMP_ESP, "aes128-sha1;modp1024", false, "aes128-sha1" },
		{ IMP_ESP, "aes128", false, "aes128-sha256" },
	};
	char out[IMP_PROP_MAX], notes[256], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(imp_libreswan_proposal(cases[i].kind, cases[i].in,
				 cases[i].pfs, "modp2048", out, sizeof(out), notes,
				 sizeof(notes), err, sizeof(err)), 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(imp_libreswan_proposal(IMP_IKE, "3des-md5-modp1024", true, NULL,
			 out, sizeof(out), notes, sizeof(notes), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "3des"));
}

static void test_weak(void **state)
{
	char w[64];

	assert_true(imp_proposal_weak("aes128-sha1-modp1024", w, sizeof(w)));
	assert_string_equal(w, "sha1, modp1024");
	assert_false(imp_proposal_weak("aes256-sha256-modp2048", w, sizeof(w)));
}

/* ---- readers on small inputs ---- */

static bool diag_has(const struct imp_diag *d, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->lines[i], s))
			return true;
	return false;
}

static void test_json_position(void **state)
{
	static const char text[] = "{\n  \"version\": 4,\n  \"resources\": [ { \"type\": ";
	struct imp_tfstate_opts o = { .n_select = 0 };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };

	assert_int_equal(imp_tfstate_parse("t.json", text, strlen(text), &o, &c, &d), -EINVAL);
	assert_true(diag_has(&d, "t.json:3: column 28: unexpected end of JSON"));
	imp_diag_free(&d);
	imp_conf_free(&c);
}

static void test_xml_position(void **state)
{
	static const char text[] = "<vpn_connection id=\"vpn-1\">\n  <ipsec_tunnel>\n"
				   "  </ipsec_tunel>\n</vpn_connection>\n";
	struct imp_vpn v = { .n_tunnels = 0 };
	struct imp_diag d = { .n = 0 };

	assert_int_equal(imp_awsxml_parse("x.xml", text, strlen(text), &v, &d), -EINVAL);
	assert_true(diag_has(&d, "x.xml:3: column 5: malformed XML: mismatched tag"));
	imp_diag_free(&d);
	imp_vpn_free(&v);
}

static void test_secrets(void **state)
{
	static const char conf[] =
		"conn a\n  authby=secret\n  right=198.51.100.1\n  leftvti=169.254.40.2/30\n"
		"  auto=start\n"
		"conn b\n  authby=secret\n  leftid=@gw.example\n  right=198.51.100.2\n"
		"  leftvti=169.254.41.2/30\n  auto=start\n"
		"conn c\n  authby=secret\n  right=198.51.100.3\n  leftvti=169.254.42.2/30\n"
		"  auto=start\n";
	static const char secrets[] =
		"# comment\n198.51.100.1: PSK \"with # hash and spaces\"\n"
		"@gw.example\n    198.51.100.2 : PSK 0s U3ludGguYjY0\n"
		"%any : PSK 'fallback.key'\n";
	const char *names[] = { "ipsec.conf" }, *texts[] = { conf };
	size_t lens[] = { sizeof(conf) - 1 };
	struct imp_libreswan_in in = { names, texts, lens, 1, "ipsec.secrets", secrets,
				       sizeof(secrets) - 1 };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };

	assert_int_equal(imp_libreswan_parse(&in, &c, &d), 0);
	assert_int_equal(c.n_vpns, 1);
	assert_int_equal(c.vpns[0].n_tunnels, 3);
	assert_string_equal(c.vpns[0].t[0].psk, "with # hash and spaces");
	assert_string_equal(c.vpns[0].t[1].psk, "Synth.b64");
	assert_string_equal(c.vpns[0].t[2].psk, "fallback.key");
	imp_diag_free(&d);
	imp_conf_free(&c);
}

/* plan.c: names, VTIs, marks, and PSKs a psk-file cannot carry. */
static void test_plan(void **state)
{
	struct imp_plan_opts po = { .several_names = false };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };
	struct imp_vpn *v = imp_conf_add_vpn(&c);
	struct imp_tunnel *t;

	for (int i = 0; i < 2; i++) {
		assert_non_null(t = imp_vpn_add_tunnel(v));
		snprintf(t->remote, sizeof(t->remote), "198.51.100.%d", i + 1);
		snprintf(t->inside, sizeof(t->inside), "169.254.%d.0/30", 60 + i);
		imp_set_secret(&t->psk, "Synth.key.ok", 12);
	}
	v->t[1].mark = 100;	/* the source's own mark: the default moves on */
	assert_int_equal(imp_plan(&c, &po, &d), 0);
	assert_string_equal(v->t[0].name, "aws-1");
	assert_string_equal(v->t[1].vti, "vti2");
	assert_int_equal(v->t[0].mark, 200);
	imp_set_secret(&v->t[1].psk, "ends in a blank ", 16);
	assert_int_equal(imp_plan(&c, &po, &d), -EINVAL);
	assert_true(diag_has(&d, "ends in a blank: a psk-file cannot hold it"));
	imp_diag_free(&d);
	imp_conf_free(&c);
}

/* ---- every importable fixture validates ---- */

struct fixture {
	const char *kind;		/* tfstate, aws-xml, libreswan */
	const char *files[3];		/* libreswan: conf, secrets, frr */
	const char *vpn;
};

static const struct fixture fixtures[] = {
	{ "tfstate", { "tf-module-swapped.tfstate" }, NULL },
	{ "tfstate", { "tf-several.tfstate" }, "all" },
	{ "tfstate", { "tf-several.tfstate" }, "vpn-0bbbb0000000000b2" },
	{ "tfstate", { "tf-static-noxml.tfstate" }, NULL },
	{ "tfstate", { "tf-show.json" }, NULL },
	{ "aws-xml", { "xml-bgp.xml" }, NULL },
	{ "aws-xml", { "xml-static.xml" }, NULL },
	{ "aws-xml", { "xml-odd.xml" }, NULL },
	{ "libreswan", { "ls-vti.conf", "ls-vti.secrets", "ls-vti.frr" }, NULL },
	{ "libreswan", { "ls-vti.conf", "ls-vti.secrets", NULL }, NULL },
	{ "libreswan", { "ls-5x.conf", "ls-5x.secrets", NULL }, NULL },
};

static char *slurp(const char *name, size_t *len)
{
	char path[1024], *buf = NULL;
	struct imp_diag d = { .n = 0 };

	snprintf(path, sizeof(path), "%s/%s", IMPORT_FIXTURES, name);
	assert_int_equal(imp_read_file(path, &buf, len, &d), 0);
	imp_diag_free(&d);
	return buf;
}

static int read_fixture(const struct fixture *f, struct imp_conf *c, struct imp_diag *d)
{
	size_t len[3] = { 0 };
	char *buf[3] = { NULL };
	int r;

	for (int i = 0; i < 3 && f->files[i]; i++)
		buf[i] = slurp(f->files[i], &len[i]);
	if (strcmp(f->kind, "tfstate") == 0) {
		const char *sel[1] = { f->vpn };
		struct imp_tfstate_opts o = { sel, f->vpn ? 1 : 0 };
		r = imp_tfstate_parse(f->files[0], buf[0], len[0], &o, c, d);
	} else if (strcmp(f->kind, "aws-xml") == 0) {
		r = imp_awsxml_parse(f->files[0], buf[0], len[0], imp_conf_add_vpn(c), d);
	} else {
		const char *names[1] = { f->files[0] }, *texts[1] = { buf[0] };
		struct imp_libreswan_in in = { names, texts, len, 1, f->files[1], buf[1], len[1] };
		r = imp_libreswan_parse(&in, c, d);
		if (r == 0 && f->files[2])
			r = imp_frr_parse(f->files[2], buf[2], len[2], c, d);
	}
	for (int i = 0; i < 3; i++)
		imp_free_buffer(buf[i], len[i]);
	return r;
}

/* Write (or with remove, delete) NAME.psk for every tunnel. */
static void psk_files(const struct imp_conf *c, bool remove)
{
	char path[256];
	FILE *f;

	for (size_t i = 0; i < c->n_vpns; i++)
		for (size_t j = 0; j < c->vpns[i].n_tunnels; j++) {
			snprintf(path, sizeof(path), "%s.psk", c->vpns[i].t[j].name);
			if (remove) {
				unlink(path);
				continue;
			}
			assert_non_null(f = fopen(path, "w"));
			fprintf(f, "%s\n", c->vpns[i].t[j].psk);
			fclose(f);
			chmod(path, 0600);
		}
}

static void check_fixture(const struct fixture *f)
{
	struct imp_plan_opts po = { .several_names = false };
	struct imp_emit_opts eo = { .psk_dir = "" };
	struct imp_conf c = { .kind = NULL };
	struct imp_diag d = { .n = 0 };
	struct conf_diag cd = { 0 };
	struct cgw_conf *conf;
	size_t len = 0;
	char *text;

	print_message("fixture %s %s\n", f->kind, f->files[0]);
	assert_int_equal(read_fixture(f, &c, &d), 0);
	assert_int_equal(imp_plan(&c, &po, &d), 0);
	imp_diag_print(stdout, &d);
	assert_int_equal(d.n_errors, 0);
	assert_non_null(text = imp_emit(&c, &eo, &len));
	psk_files(&c, false);
	conf = conf_load_buffer(f->files[0], text, len, CONF_CHECK_PERMS, &cd);
	conf_diag_print(stdout, &cd);
	assert_non_null(conf);
	assert_int_equal(cd.n_errors, 0);
	/* The PSKs reached the config through the files, unchanged. */
	for (size_t i = 0, k = 0; i < c.n_vpns; i++)
		for (size_t j = 0; j < c.vpns[i].n_tunnels; j++, k++)
			assert_memory_equal(conf->tunnels[k].psk.data, c.vpns[i].t[j].psk,
					    strlen(c.vpns[i].t[j].psk));
	assert_null(strstr(text, c.vpns[0].t[0].psk));
	psk_files(&c, true);
	conf_free(conf);
	conf_diag_free(&cd);
	free(text);
	imp_diag_free(&d);
	imp_conf_free(&c);
}

static void test_fixtures_validate(void **state)
{
	char dir[] = "/tmp/cgw-test-import-XXXXXX", cwd[1024];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		check_fixture(&fixtures[i]);
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_proposals),
		cmocka_unit_test(test_aws_proposal_all_fits),
		cmocka_unit_test(test_libreswan_proposals),
		cmocka_unit_test(test_weak),
		cmocka_unit_test(test_json_position),
		cmocka_unit_test(test_xml_position),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_fixtures_validate),
	};

	if (secret_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
