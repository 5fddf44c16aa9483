/*
 * Small helpers: growable arrays, edit distance for "did you mean"
 * suggestions, the netlink datagram check.
 */
#include "common/util.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

int array_reserve(void *arrp, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (n < *cap)
		return 0;
	while (c <= n)
		c *= 2;
	memcpy(&p, arrp, sizeof(p));
	p = realloc(p, c * size);
	if (!p)
		return -ENOMEM;
	memcpy(arrp, &p, sizeof(p));
	*cap = c;
	return 0;
}

/*
 * Edit distance of the first 64 characters of a and b, or any value
 * above max as soon as every cell of a row exceeds it (the distance can
 * only grow from there). One row of the Wagner-Fischer table.
 */
static size_t distance_max(const char *a, const char *b, size_t max)
{
	size_t la = strnlen(a, 64), lb = strnlen(b, 64);
	size_t row[65];

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], row_min;

		row[0] = i;
		row_min = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
			if (best < row_min)
				row_min = best;
		}
		if (row_min > max)
			return row_min;
	}
	return row[lb];
}

size_t str_distance(const char *a, const char *b)
{
	return distance_max(a, b, (size_t)-1);
}

/*
 * Unknown words are what a fuzzer (or a mangled file) feeds most, so a
 * candidate is measured only while it can still win: the distance is at
 * least the length difference, and rows past the bound stop early.
 */
const char *str_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strlen(word) / 3;
	size_t lw = strnlen(word, 64);

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; candidates[i] && best_d > 0; i++) {
		size_t lc = strnlen(candidates[i], 64);
		size_t gap = lw > lc ? lw - lc : lc - lw;
		size_t bound = best_d - 1 < limit ? best_d - 1 : limit;

		if (gap > bound)
			continue;	/* cannot win, or would be refused */
		size_t d = distance_max(word, candidates[i], bound);
		if (d < best_d && d <= bound) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

size_t nl_whole_msgs(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;

	while (len - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t step;

		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			break;
		step = NLMSG_ALIGN((size_t)h.nlmsg_len);
		off = step < len - off ? off + step : len;
	}
	return off;
}
