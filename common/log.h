/*
 * Logging to stderr (journald adds timestamps and priorities from the
 * "<N>" prefix when stderr is the journal; a terminal gets plain text).
 * Secrets never reach these functions: callers pass names, never keys.
 */
#ifndef CGW_LOG_H
#define CGW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Debug categories, switchable at run time (cgwd -d, later cgwctl). */
#define LOG_CATEGORIES(X) \
	X(IKE, "ike") \
	X(IKE_PACKETS, "ike-packets") \
	X(XFRM, "xfrm") \
	X(VTI, "vti") \
	X(BGP, "bgp") \
	X(BGP_PACKETS, "bgp-packets") \
	X(CONF, "conf") \
	X(CTL, "ctl")

enum log_category {
#define X(id, name) LOGC_##id,
	LOG_CATEGORIES(X)
#undef X
	LOGC_COUNT
};

/* Initialise: progname for the prefix; verbose < 0 silences info lines. */
void log_init(const char *progname, int verbose);
/* Enable a debug category by name ("all" enables every one). -EINVAL if unknown. */
int log_debug_enable(const char *name);
bool log_debug_enabled(enum log_category cat);
/* Comma-separated list of category names, for --help and errors. */
const char *log_category_names(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(enum log_category cat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* For tests: capture log lines instead of writing them to stderr. */
typedef void (*log_sink_fn)(int prio, const char *line, void *arg);
void log_set_sink(log_sink_fn fn, void *arg);

#endif
