/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_timestamp.c - ea_parse_timestamp, the parser of the timestamps in
 * replayed CSV files and captures. Input: the text (a NUL ends it).
 * Properties: never crashes; a parsed time of years 1..9999 formats as
 * RFC 3339 and parses back to the same millisecond.
 */
#include "fuzz.h"

#include "ea.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128], formatted[40];
	int64_t t, again;

	if(size >= sizeof(text)) return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if(!ea_parse_timestamp(text, &t)) return 0;
	/* 0001-01-01 .. 9999-12-31 */
	if(t < -62135596800000LL || t > 253402300799999LL) return 0;
	ea_format_time(t, formatted, sizeof(formatted));
	if(strcmp(formatted, "invalid-time") == 0) return 0;
	FUZZ_CHECK(ea_parse_timestamp(formatted, &again));
	FUZZ_CHECK(again == t);
	return 0;
}
