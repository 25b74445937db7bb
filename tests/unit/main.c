/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c - runs every unit test suite of the detector library with CUnit.
 *
 * Registers the suites declared in unit_tests.h, runs them in verbose mode
 * and exits with the number of failed assertions (capped at 255 so that a
 * multiple of 256 failures cannot look like success), so `make check-unit`
 * fails on any failure. Built with ASan and UBSan, which abort on their own
 * findings.
 */
#include "unit_tests.h"

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>

int main(void)
{
	unsigned failures;

	if(CU_initialize_registry() != CUE_SUCCESS){
		fprintf(stderr, "unit-tests: cannot initialise CUnit: %s\n", CU_get_error_msg());
		return 1;
	}

	init_util_tests();
	init_topic_tests();
	init_payload_tests();
	init_config_tests();
	init_detectors_tests();
	init_engine_tests();
	init_queue_tests();
	init_nab_score_tests();
	init_auto_tests();
	init_detectors_more_tests();
	init_detectors_more_a_tests();
	init_detectors_more_b_tests();
	init_abi_tests();
	init_mirror_tests();
	init_edgex_tests();
	init_replay_tests();
	init_authz_tests();
	if(CU_get_error() != CUE_SUCCESS){
		fprintf(stderr, "unit-tests: cannot register the tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}

	CU_basic_set_mode(CU_BRM_VERBOSE);
	if(CU_basic_run_tests() != CUE_SUCCESS){
		fprintf(stderr, "unit-tests: cannot run the tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures > 255 ? 255 : (int)failures;
}
