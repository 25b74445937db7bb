/* SPDX-License-Identifier: Apache-2.0
 *
 * unit_tests.h - the CUnit suites of the unit test binary.
 *
 * Each `<thing>_test.c` defines one `init_<thing>_tests()` that adds its
 * suite to the CUnit registry and registers its tests; main.c calls them
 * all in order. Registration errors are left in CU_get_error() for main.c
 * to report.
 */
#ifndef UNIT_TESTS_H
#define UNIT_TESTS_H

void init_util_tests(void);
void init_topic_tests(void);
void init_payload_tests(void);
void init_config_tests(void);
void init_detectors_tests(void);
void init_engine_tests(void);
void init_queue_tests(void);
void init_nab_score_tests(void);
void init_auto_tests(void);
void init_detectors_more_tests(void);
void init_detectors_more_a_tests(void);
void init_detectors_more_b_tests(void);
void init_abi_tests(void);
void init_mirror_tests(void);
void init_edgex_tests(void);
void init_replay_tests(void);
void init_authz_tests(void);

#endif
