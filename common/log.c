/*
 * Owns the log level, debug categories and the output sink. Lines carry a
 * syslog priority prefix ("<4>") when stderr goes to journald, so the
 * journal keeps levels without a syslog dependency.
 */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_progname = "cgw";
static int log_verbose;
static bool log_journal;
static bool log_cat_on[LOGC_COUNT];
static log_sink_fn log_sink;
static void *log_sink_arg;

static const char *const log_cat_name[LOGC_COUNT] = {
#define X(id, name) [LOGC_##id] = name,
	LOG_CATEGORIES(X)
#undef X
};

void log_init(const char *progname, int verbose)
{
	log_progname = progname;
	log_verbose = verbose;
	/* systemd sets JOURNAL_STREAM when stderr is connected to journald. */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

int log_debug_enable(const char *name)
{
	if (strcmp(name, "all") == 0) {
		for (int i = 0; i < LOGC_COUNT; i++)
			log_cat_on[i] = true;
		return 0;
	}
	for (int i = 0; i < LOGC_COUNT; i++) {
		if (strcmp(name, log_cat_name[i]) == 0) {
			log_cat_on[i] = true;
			return 0;
		}
	}
	return -EINVAL;
}

bool log_debug_enabled(enum log_category cat)
{
	return cat < LOGC_COUNT && log_cat_on[cat];
}

const char *log_category_names(void)
{
	static char buf[256];

	if (buf[0] == '\0') {
		size_t off = 0;
		for (int i = 0; i < LOGC_COUNT; i++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
						i ? ", " : "", log_cat_name[i]);
	}
	return buf;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

static void log_emit(int prio, const char *prefix, const char *fmt, va_list ap,
		     int errnum) __attribute__((format(printf, 3, 0)));

static void log_emit(int prio, const char *prefix, const char *fmt, va_list ap,
		     int errnum)
{
	char line[1024];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (errnum && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(errnum));
	if (log_sink) {
		log_sink(prio, line, log_sink_arg);
		return;
	}
	if (log_journal)
		fprintf(stderr, "<%d>%s%s\n", prio, prefix, line);
	else
		fprintf(stderr, "%s: %s%s\n", log_progname, prefix, line);
}

#define LOG_BODY(prio, prefix, errnum) do { \
	va_list ap; \
	va_start(ap, fmt); \
	log_emit(prio, prefix, fmt, ap, errnum); \
	va_end(ap); \
} while (0)

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	LOG_BODY(LOG_WARNING, "", saved);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "", 0);
}

void log_notice(const char *fmt, ...)
{
	LOG_BODY(LOG_NOTICE, "", 0);
}

void log_info(const char *fmt, ...)
{
	if (log_verbose < 0)
		return;
	LOG_BODY(LOG_INFO, "", 0);
}

void log_debug(enum log_category cat, const char *fmt, ...)
{
	char prefix[32];

	if (!log_debug_enabled(cat))
		return;
	snprintf(prefix, sizeof(prefix), "[%s] ", log_cat_name[cat]);
	LOG_BODY(LOG_DEBUG, prefix, 0);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	LOG_BODY(LOG_ERR, "", saved);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "", 0);
	exit(1);
}
