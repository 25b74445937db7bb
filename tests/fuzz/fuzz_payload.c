/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_payload.c - the twin update, twin document and device state payload
 * parser (detectors/ea_payload.c). The first byte picks the topic kind; the
 * rest is the payload. Every sample handed out must be well formed.
 */
#include "fuzz.h"

#include "ea_payload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_sample(void *ctx, const ea_sample *s)
{
	size_t *count = ctx;

	FUZZ_CHECK(s->ns != NULL && s->device != NULL && s->property != NULL && s->text != NULL);
	FUZZ_CHECK(strlen(s->property) > 0 && strlen(s->property) <= EA_NAME_MAX);
	FUZZ_CHECK(!s->has_number || isfinite(s->number));
	(void)strlen(s->text);
	(*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const ea_topic_kind kinds[] = { EA_TOPIC_TWIN_UPDATE, EA_TOPIC_TWIN_DOCUMENT, EA_TOPIC_DEVICE_STATE,
		EA_TOPIC_EDGEX_EVENT };
	ea_parse_error err;
	size_t count = 0;
	ea_err rc;

	if(size < 1) return 0;
	rc = ea_payload_parse((const char *)data + 1, size - 1, kinds[data[0] % 4], "ns", "dev", 1000,
			check_sample, &count, &err);
	FUZZ_CHECK(rc == EA_ERR_OK || rc == EA_ERR_PARSE || rc == EA_ERR_NOMEM
			|| (rc == EA_ERR_UNSUPPORTED && kinds[data[0] % 4] == EA_TOPIC_EDGEX_EVENT)); /* EdgeX CBOR */
	if(rc == EA_ERR_PARSE) FUZZ_CHECK(err.offset <= size - 1);
	return 0;
}
