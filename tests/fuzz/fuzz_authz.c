/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_authz.c - detectord's access file loader (detectors/ea_authz.c).
 * Any input either loads into clients that answer identify/allows, or fails
 * with a message naming the file. Relative token files are looked up in a
 * directory that does not exist; an absolute one is read (only its first
 * line is kept, never printed).
 */
#include "fuzz.h"

#include "ea_authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ea_config_error err;
	ea_authz *authz = ea_authz_load_string((const char *)data, size, "fuzz.yaml", "/nonexistent-ea-fuzz", &err);
	const ea_authz_client *c;

	if(authz == NULL){
		FUZZ_CHECK(strncmp(err.message, "fuzz.yaml", 9) == 0);
		return 0;
	}
	FUZZ_CHECK(ea_authz_client_count(authz) > 0);
	c = ea_authz_identify(authz, "token", 5, "cn", "CN=cn");
	if(c != NULL){
		FUZZ_CHECK(ea_authz_client_name(c)[0] != '\0');
		(void)ea_authz_allows(c, "team-a");
		(void)ea_authz_allows(c, "");
	}
	ea_authz_free(authz);
	return 0;
}
