/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_config.c - the YAML config loader (detectors/ea_config.c). Any
 * input either loads into a config that answers routing queries and can be
 * described, or fails with a message naming the place. Fuzzed YAML never
 * loads a detector library (detector_libraries): this program never allows
 * it, and every input checks that none was loaded (the corpus has inputs
 * naming real shared objects).
 */
#include "fuzz.h"

#include "ea_config.h"
#include "ea_detector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ea_config_error err;
	ea_config *cfg = ea_config_load_string((const char *)data, size, "fuzz.yaml", &err);

	FUZZ_CHECK(ea_plugin_detector_at(0) == NULL); /* nothing was dlopen'd */
	if(cfg == NULL){
		FUZZ_CHECK(strncmp(err.message, "fuzz.yaml", 9) == 0);
		return 0;
	}
	FUZZ_CHECK(cfg->topic_count > 0 && cfg->workers >= 1);
	(void)ea_config_chain(cfg, "default", "boiler-1", "temperature");
	(void)ea_config_device_included(cfg, "ns", "dev");
	{
		FILE *sink = fopen("/dev/null", "w");
		if(sink != NULL){
			ea_config_describe(cfg, sink);
			fclose(sink);
		}
	}
	ea_config_free(cfg);
	return 0;
}
