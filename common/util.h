/*
 * Small string helpers shared by the config parser and the CLI.
 */
#ifndef CGW_UTIL_H
#define CGW_UTIL_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Make room in a growable array for element n: *(T **)arrp is realloc'd
 * (doubling, 16 at first) when n >= *cap. 0 or -ENOMEM (array unchanged).
 */
int array_reserve(void *arrp, size_t *cap, size_t n, size_t size);

/* Edit distance between two short strings (capped at 64 characters). */
size_t str_distance(const char *a, const char *b);

/*
 * The candidate closest to word, when close enough to be a likely typo
 * (distance <= 2, or <= a third of the word), else NULL. candidates is
 * NULL-terminated.
 */
const char *str_suggest(const char *word, const char *const *candidates);

/*
 * How many bytes at the start of a netlink datagram are whole messages
 * (each length at least a header and within what is left). Check before
 * libmnl walks a datagram: its mnl_nlmsg_ok() (1.0.4) casts a message
 * length of 2 GiB or more to a negative int and accepts it.
 */
size_t nl_whole_msgs(const void *buf, size_t len);

#endif
