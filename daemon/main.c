/*
 * cgwd entry point: options, config check mode (-n), start-up checks, then
 * the daemon loop in the foreground (systemd Type=notify; no forking).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/log.h"
#include "common/secret.h"
#include "conf/conf.h"
#include "config.h"
#include "daemon/daemon.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cgwd [-nv] [-c FILE] [-d CATEGORY]...\n"
		"       cgwd -h | -V\n"
		"\n"
		"Customer-gateway daemon: IKEv2, kernel IPsec (XFRM/VTI) and BGP.\n"
		"\n"
		"  -c FILE      config file (default %s)\n"
		"  -n           check the config and exit (with -v: print it in canonical form)\n"
		"  -v           more output\n"
		"  -d CATEGORY  debug a subsystem: %s, or all\n"
		"  -h           this help\n"
		"  -V           version\n",
		CGW_DEFAULT_CONF, log_category_names());
}

struct options {
	const char *conf_path;
	bool check_only;
	int verbose;
};

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	o->conf_path = CGW_DEFAULT_CONF;
	while ((c = getopt(argc, argv, "c:nvd:hV")) != -1) {
		switch (c) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'd':
			if (log_debug_enable(optarg) < 0) {
				fprintf(stderr, "cgwd: unknown debug category '%s' (known: %s, all)\n",
					optarg, log_category_names());
				exit(2);
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("cgwd %s\n", CGW_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cgwd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

/* No core dumps: the process holds PSKs and, later, SA keys. */
static void no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		log_warn("setrlimit(RLIMIT_CORE)");
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct conf_diag diag = { 0 };
	struct cgw_conf *conf;
	struct daemon *d;
	int r;

	parse_options(argc, argv, &o);
	log_init("cgwd", o.check_only ? o.verbose - 1 : o.verbose);
	no_core_dumps();
	if (secret_init() < 0)
		fatalx("libsodium initialisation failed");

	conf = conf_load(o.conf_path, CONF_CHECK_PERMS, &diag);
	conf_diag_print(stderr, &diag);
	if (!conf) {
		fprintf(stderr, "%s: %zu error(s)%s\n", o.conf_path, diag.n_errors,
			o.check_only ? "" : ": not starting");
		conf_diag_free(&diag);
		return 1;
	}
	conf_diag_free(&diag);
	if (o.check_only) {
		if (o.verbose)
			conf_print(stdout, conf);
		else
			fprintf(stderr, "%s: OK (%zu tunnel%s)\n", o.conf_path, conf->n_tunnels,
				conf->n_tunnels == 1 ? "" : "s");
		conf_free(conf);
		return 0;
	}
	r = daemon_start(&d, conf, o.conf_path);
	if (r < 0)
		fatalx("cannot start: %s", strerror(-r));
	r = daemon_run(d);
	daemon_stop(d);
	return r;
}
