/*
 * cgwctl: ask cgwd things over its control socket. This file owns the
 * command line: each subcommand is one row of `commands`, which also
 * generates --help. Talking to cgwd is client.c, showing its replies
 * show.c (cgwctl/cgwctl.h).
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/ctlproto.h"
#include "cgwctl/cgwctl.h"
#include "cgwctl/doctor.h"
#include "cgwctl/metrics.h"
#include "import/import.h"

struct command {
	const char *name;
	const char *synopsis;	/* what follows the name, for --help */
	const char *help;	/* one line */
	/* argv[0] is the command name. Returns an exit code. */
	int (*run)(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv);
};

static int cmd_status(struct ctx *, const struct command *, int, char **);
static int cmd_reload(struct ctx *, const struct command *, int, char **);
static int cmd_tunnel(struct ctx *, const struct command *, int, char **);
static int cmd_import(struct ctx *, const struct command *, int, char **);
static int cmd_doctor(struct ctx *, const struct command *, int, char **);
static int cmd_metrics(struct ctx *, const struct command *, int, char **);
static int cmd_bgp(struct ctx *, const struct command *, int, char **);

static const struct command commands[] = {
	{ "status", "[--json]", "show cgwd, its tunnels and BGP neighbors",
	  cmd_status },
	{ "reload", "", "re-read the configuration and apply the changes",
	  cmd_reload },
	{ "tunnel", "up|down NAME | rekey NAME [child|ike]",
	  "bring a tunnel up now, take it down (no re-initiation), or rekey it",
	  cmd_tunnel },
	{ "bgp", "routes|neighbors [--json] | reset|refresh NAME",
	  "show BGP routes or sessions, reset a session or ask for a route refresh",
	  cmd_bgp },
	{ "import", "SOURCE ARGS...",
	  "write a cgw.conf from tfstate, aws-xml or libreswan (import --help)",
	  cmd_import },
	{ "doctor", "[--config FILE]",
	  "check this host for what the tunnels need: OK/WARN/FAIL with fixes",
	  cmd_doctor },
	{ "metrics", "",
	  "print tunnels, SAs and BGP neighbors in Prometheus text format",
	  cmd_metrics },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *flags;
	const char *help;
} option_help[] = {
	{ "-s, --socket SOCKET", "control socket (default " CGW_DEFAULT_SOCKET ")" },
	{ "-j, --json", "print the daemon's answer as JSON" },
	{ "-h, --help", "show this help and exit" },
	{ "-V, --version", "show the version and exit" },
};

/* ---- help ---- */

static void usage_lines(FILE *f)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "%s cgwctl [-s SOCKET] [--json] %s%s%s\n",
			i ? "      " : "Usage:", commands[i].name,
			commands[i].synopsis[0] ? " " : "", commands[i].synopsis);
	fprintf(f, "       cgwctl --help | --version\n");
}

static void help(FILE *f)
{
	size_t w = 0, n;

	usage_lines(f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		n = strlen(commands[i].name) + 1 + strlen(commands[i].synopsis);
		w = n > w ? n : w;
	}
	fprintf(f, "\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		n = strlen(commands[i].name) + 1 + strlen(commands[i].synopsis);
		fprintf(f, "  %s %s%*s  %s\n", commands[i].name,
			commands[i].synopsis, (int)(w - n), "", commands[i].help);
	}
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
		fprintf(f, "  %-21s %s\n", option_help[i].flags, option_help[i].help);
	fprintf(f, "\nExit status: 0 success, 1 cgwd answered with an error, "
		"2 usage error,\n3 cgwd cannot be reached or did not answer. import: 0 written, 1 the\ninput cannot be imported, 2 usage error.\n");
}

/* Say what is wrong with the command line: exit 2. */
static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try 'cgwctl --help'.\n");
	return EXIT_USAGE;
}

/* ---- commands ---- */

/* An action's reply: its "message" (or "done"), or the error. Frees rep. */
static int print_done(const struct ctx *ctx, struct ctlproto_reply *rep)
{
	int r = 0;

	if (!rep->ok)
		r = show_error(rep);
	else if (ctx->json)
		show_json(rep->result);
	else
		printf("%s\n", json_has(rep->result, "message") ? json_field(rep->result, "message") : "done");
	ctlproto_reply_free(rep);
	return r;
}

static int cmd_doctor(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	return doctor_main(argc, argv, ctx->socket);
}

static int cmd_metrics(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	return metrics_main(argc, argv, ctx->socket);
}

/* Runs without cgwd: the whole command lives in import/cli.c. */
static int cmd_import(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	return import_main(argc, argv);
}

static int cmd_tunnel(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	struct json_object *args;
	struct ctlproto_reply rep;
	int r;

	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[1], "up") && strcmp(argv[1], "down") && strcmp(argv[1], "rekey")) ||
	    (argc == 4 && (strcmp(argv[1], "rekey") ||
			   (strcmp(argv[3], "child") && strcmp(argv[3], "ike")))))
		return usage_error("usage: cgwctl tunnel %s", cmd->synopsis);
	args = json_object_new_object();
	json_object_object_add(args, "action", json_object_new_string(argv[1]));
	json_object_object_add(args, "name", json_object_new_string(argv[2]));
	json_object_object_add(args, "sa", json_object_new_string(argc == 4 ? argv[3] : "child"));
	if ((r = ctl_call(ctx, "tunnel", args, &rep)) != 0)
		return r;
	return print_done(ctx, &rep);
}

/* Accept only --json/-j after the command name. 0 or EXIT_USAGE. */
static int json_flag_only(struct ctx *ctx, const struct command *cmd,
			  int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			ctx->json = true;
		else
			return usage_error("unexpected argument '%s'", argv[i]);
	}
	return 0;
}

/* bgp routes: the daemon's "bgp-routes" result. */
static int bgp_routes(struct ctx *ctx)
{
	struct ctlproto_reply rep;
	int r;

	if ((r = ctl_call(ctx, "bgp-routes", NULL, &rep)) != 0)
		return r;
	if (!rep.ok)
		r = show_error(&rep);
	else if (ctx->json)
		show_json(rep.result);
	else
		show_routes(rep.result);
	ctlproto_reply_free(&rep);
	return r;
}

/* bgp neighbors: status' "neighbors", in full; --json: {"neighbors": [...]}. */
static int bgp_neighbors(struct ctx *ctx)
{
	struct json_object *list = NULL, *o;
	struct ctlproto_reply rep;
	int r;

	if ((r = ctl_call(ctx, "status", NULL, &rep)) != 0)
		return r;
	if (!rep.ok) {
		r = show_error(&rep);
		goto out;
	}
	json_object_object_get_ex(rep.result, "neighbors", &list);
	if (ctx->json) {
		o = json_object_new_object();
		json_object_object_add(o, "neighbors", list ? json_object_get(list) :
				       json_object_new_array());
		show_json(o);
		json_object_put(o);
	} else {
		show_neighbors(list);
	}
out:
	ctlproto_reply_free(&rep);
	return r;
}

static int cmd_bgp(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct json_object *args;
	struct ctlproto_reply rep;
	int r;

	if (strcmp(sub, "routes") == 0 || strcmp(sub, "neighbors") == 0) {
		if ((r = json_flag_only(ctx, cmd, argc - 1, argv + 1)) != 0)
			return r;
		return strcmp(sub, "routes") == 0 ? bgp_routes(ctx) : bgp_neighbors(ctx);
	}
	if (argc != 3 || (strcmp(sub, "reset") && strcmp(sub, "refresh")))
		return usage_error("usage: cgwctl bgp %s", cmd->synopsis);
	args = json_object_new_object();
	json_object_object_add(args, "action", json_object_new_string(sub));
	json_object_object_add(args, "name", json_object_new_string(argv[2]));
	if ((r = ctl_call(ctx, "bgp", args, &rep)) != 0)
		return r;
	return print_done(ctx, &rep);
}

static int cmd_status(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	struct ctlproto_reply rep;
	int r;

	if ((r = json_flag_only(ctx, cmd, argc, argv)) != 0 ||
	    (r = ctl_call(ctx, "status", NULL, &rep)) != 0)
		return r;
	if (!rep.ok)
		r = show_error(&rep);
	else if (ctx->json)
		show_json(rep.result);
	else
		show_status(rep.result);
	ctlproto_reply_free(&rep);
	return r;
}

static int cmd_reload(struct ctx *ctx, const struct command *cmd, int argc,
		      char **argv)
{
	static const char *const lists[] = { "added", "removed", "changed",
					     "unchanged" };
	struct ctlproto_reply rep;
	int r;

	if ((r = json_flag_only(ctx, cmd, argc, argv)) != 0 ||
	    (r = ctl_call(ctx, "reload", NULL, &rep)) != 0)
		return r;
	if (!rep.ok) {
		r = show_error(&rep);
		goto out;
	}
	if (ctx->json)
		show_json(rep.result);
	else if (json_has(rep.result, "message"))
		printf("%s\n", json_field(rep.result, "message"));
	else
		printf("configuration reloaded\n");
	for (size_t i = 0; !ctx->json && i < sizeof(lists) / sizeof(lists[0]); i++)
		show_name_list(rep.result, lists[i]);
	/* Applied anyway: these lines are warnings, the exit status stays 0. */
	show_lines(rep.result, "errors");
out:
	ctlproto_reply_free(&rep);
	return r;
}

/* ---- main ---- */

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { .socket = CGW_DEFAULT_SOCKET };
	const struct command *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+s:jhV", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			ctx.socket = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		case 'V':
			printf("cgwctl %s\n", CGW_VERSION);
			return EXIT_OK;
		default:		/* getopt said what is wrong */
			return usage_error(NULL);
		}
	}
	if (optind == argc) {
		usage_lines(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	return cmd->run(&ctx, cmd, argc - optind, argv + optind);
}
