/*
 * libFuzzer harness: the control protocol's request and reply parsers
 * (what cgwd reads from its socket, and what cgwctl reads back).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "common/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlproto_request req;
	struct ctlproto_reply rep;
	char err[CTLPROTO_ERRLEN];

	if (ctlproto_parse_request((const char *)data, size, &req, err, sizeof(err)) == 0) {
		/* A parsed request serializes to a line that parses again. */
		struct ctlproto_request again;
		char *line = NULL;
		size_t len;
		if (ctlproto_to_line(req.root, CTLPROTO_MAX_REPLY, &line, &len) == 0 &&
		    len <= CTLPROTO_MAX_REQUEST + 1) {
			if (ctlproto_parse_request(line, len, &again, err, sizeof(err)) != 0)
				abort();
			ctlproto_request_free(&again);
		}
		free(line);
	}
	ctlproto_request_free(&req);
	if (ctlproto_parse_reply((const char *)data, size, &rep, err, sizeof(err)) == 0)
		(void)json_object_to_json_string(rep.root);
	ctlproto_reply_free(&rep);
	return 0;
}
