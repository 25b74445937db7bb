/* SPDX-License-Identifier: Apache-2.0
 *
 * authz_test.c - detectord's access file (detectors/ea_authz.c): which
 * caller is which client (certificate CN, subject, bearer token, or all of
 * them), first match wins, namespaces as globs, token files relative to the
 * access file, and errors that name the place and never the token.
 */
#include "unit_tests.h"

#include "ea_authz.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temp dir with the given token files; returns its path (static). */
static const char *token_dir(void)
{
	static char dir[64];
	char path[128];
	FILE *f;

	if(dir[0] != '\0') return dir;
	snprintf(dir, sizeof(dir), "/tmp/ea-authz-test-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ops.token", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("0ps-t0ken-value\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/empty.token", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	return dir;
}

static void remove_token_dir(void)
{
	char path[128];
	const char *dir = token_dir();

	snprintf(path, sizeof(path), "%s/ops.token", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/empty.token", dir);
	unlink(path);
	rmdir(dir);
}

static ea_authz *load(const char *yaml, ea_config_error *err)
{
	return ea_authz_load_string(yaml, strlen(yaml), "access.yaml", token_dir(), err);
}

static const char *const ACCESS =
	"clients:\n"
	"  - name: team-a-mapper\n"
	"    cert_cn: mapper.team-a\n"
	"    namespaces: [team-a]\n"
	"  - name: team-b-mapper\n"
	"    cert_subject: CN=mapper.team-b,O=plant\n"
	"    namespaces: [team-b, \"shared-*\"]\n"
	"  - name: ops\n"
	"    token_file: ops.token\n"
	"    namespaces: [\"*\"]\n"
	"  - name: line-3-model\n"
	"    cert_cn: model.line-3\n"
	"    token_file: ops.token\n"
	"    namespaces: [line-3]\n";

static void TEST_authz_identifies_callers_and_allows_their_namespaces(void)
{
	ea_config_error err;
	ea_authz *authz = load(ACCESS, &err);
	const ea_authz_client *a, *b, *ops, *model;
	const char *token = "0ps-t0ken-value";

	CU_ASSERT_PTR_NOT_NULL_FATAL(authz);
	CU_ASSERT_EQUAL(ea_authz_client_count(authz), 4);

	a = ea_authz_identify(authz, NULL, 0, "mapper.team-a", "CN=mapper.team-a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(ea_authz_client_name(a), "team-a-mapper");
	CU_ASSERT_TRUE(ea_authz_allows(a, "team-a"));
	CU_ASSERT_FALSE(ea_authz_allows(a, "team-b"));
	CU_ASSERT_FALSE(ea_authz_allows(a, "team-a2"));
	CU_ASSERT_FALSE(ea_authz_allows(a, "default"));

	/* the subject must match whole; the CN alone is not enough */
	b = ea_authz_identify(authz, NULL, 0, "mapper.team-b", "CN=mapper.team-b,O=plant");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(ea_authz_client_name(b), "team-b-mapper");
	CU_ASSERT_TRUE(ea_authz_allows(b, "shared-north"));
	CU_ASSERT_TRUE(ea_authz_allows(b, "team-b"));
	CU_ASSERT_FALSE(ea_authz_allows(b, "team-a"));
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, NULL, 0, "mapper.team-b", "CN=mapper.team-b,O=elsewhere"));

	/* a token alone: the first entry it satisfies (ops, not line-3-model) */
	ops = ea_authz_identify(authz, token, strlen(token), NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	CU_ASSERT_STRING_EQUAL(ea_authz_client_name(ops), "ops");
	CU_ASSERT_TRUE(ea_authz_allows(ops, "anything"));

	/* wrong, shorter, longer or empty tokens are nobody */
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, "0ps-t0ken-valuX", 15, NULL, NULL));
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, token, strlen(token) - 1, NULL, NULL));
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, "0ps-t0ken-value!", 16, NULL, NULL));
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, "", 0, NULL, NULL));
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, NULL, 0, "intruder", "CN=intruder"));

	/* an entry with certificate and token needs both: with the token and
	 * model.line-3's certificate the caller is ops (first match) */
	model = ea_authz_identify(authz, token, strlen(token), "model.line-3", "CN=model.line-3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(model);
	CU_ASSERT_STRING_EQUAL(ea_authz_client_name(model), "ops");
	ea_authz_free(authz);

	authz = load("clients:\n"
			"  - {name: line-3-model, cert_cn: model.line-3, token_file: ops.token, namespaces: [line-3]}\n", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(authz);
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, NULL, 0, "model.line-3", NULL));
	CU_ASSERT_PTR_NULL(ea_authz_identify(authz, token, strlen(token), "model.other", NULL));
	model = ea_authz_identify(authz, token, strlen(token), "model.line-3", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(model);
	CU_ASSERT_TRUE(ea_authz_allows(model, "line-3"));
	CU_ASSERT_FALSE(ea_authz_allows(model, "line-4"));
	ea_authz_free(authz);
	ea_authz_free(NULL);
}

struct bad_case {
	const char *yaml;
	const char *expect; /* substring of the message */
};

static void TEST_authz_errors_name_the_place_and_never_the_token(void)
{
	static const struct bad_case cases[] = {
		{ "", "must be a mapping with a 'clients' list" },
		{ "clients: []\n", "expects 1 to" },
		{ "clients: x\n", "expects a list of clients" },
		{ "users: []\n", "access.yaml:1:1: key 'users': unknown key" },
		{ "clients:\n  - name: a\n    namespaces: [x]\n", "access.yaml:2:5: key 'clients[1]': client 'a' needs an identity" },
		{ "clients:\n  - cert_cn: a\n    namespaces: [x]\n", "needs a name" },
		{ "clients:\n  - name: a\n    cert_cn: a\n", "client 'a' needs namespaces" },
		{ "clients:\n  - {name: a, cert_cn: a, namespaces: []}\n", "key 'clients[1].namespaces': expects 1 to" },
		{ "clients:\n  - {name: a, cert_cn: a, namespaces: team-a}\n", "expects a list of namespaces" },
		{ "clients:\n  - {name: a, cert_cn: a, namespaces: [x], role: admin}\n",
			"key 'clients[1].role': unknown key (known: name, cert_cn, cert_subject, token_file, namespaces)" },
		{ "clients:\n  - {name: a, cert_cn: a, namespaces: [x]}\n  - {name: a, cert_cn: b, namespaces: [y]}\n",
			"key 'clients[2].name': client name 'a' is used twice" },
		{ "clients:\n  - {name: a, token_file: missing.token, namespaces: [x]}\n",
			"key 'clients[1].token_file': cannot read the token file" },
		{ "clients:\n  - {name: a, token_file: empty.token, namespaces: [x]}\n",
			"must hold one token of 1 to 512 bytes" },
		{ "clients:\n  - {name: a, cert_cn: [a], namespaces: [x]}\n", "expects a single value" },
		{ "clients:\n  - {name: a, cert_cn: a, namespaces: [x]\n", "YAML syntax error" },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_config_error err;
		ea_authz *authz = load(cases[i].yaml, &err);
		CU_ASSERT_PTR_NULL(authz);
		if(authz != NULL) ea_authz_free(authz);
		if(strstr(err.message, cases[i].expect) == NULL){
			fprintf(stderr, "\ncase %zu: got \"%s\", expected \"%s\"\n", i, err.message, cases[i].expect);
			CU_FAIL("message does not say what and where");
		}
		CU_ASSERT_PTR_NULL(strstr(err.message, "0ps-t0ken"));
	}
	{
		ea_config_error err;
		CU_ASSERT_PTR_NULL(ea_authz_load_file("/nonexistent/access.yaml", &err));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "/nonexistent/access.yaml: cannot open"));
	}
	remove_token_dir();
}

static void TEST_authz_file_reads_tokens_next_to_it(void)
{
	char path[160];
	ea_config_error err;
	ea_authz *authz;
	FILE *f;

	snprintf(path, sizeof(path), "%s/access.yaml", token_dir());
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(ACCESS, f);
	fclose(f);
	authz = ea_authz_load_file(path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(authz);
	CU_ASSERT_PTR_NOT_NULL(ea_authz_identify(authz, "0ps-t0ken-value", 15, NULL, NULL));
	ea_authz_free(authz);
	unlink(path);
}

void init_authz_tests(void)
{
	CU_pSuite s = CU_add_suite("authz", NULL, NULL);
	CU_add_test(s, "TEST_authz_identifies_callers_and_allows_their_namespaces",
			TEST_authz_identifies_callers_and_allows_their_namespaces);
	CU_add_test(s, "TEST_authz_file_reads_tokens_next_to_it", TEST_authz_file_reads_tokens_next_to_it);
	CU_add_test(s, "TEST_authz_errors_name_the_place_and_never_the_token",
			TEST_authz_errors_name_the_place_and_never_the_token);
}
