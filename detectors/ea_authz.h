/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_authz.h - who may send data for which namespaces: the access file of
 * edge-anomaly-detectord (--authz FILE), loaded here so that unit tests and
 * the fuzzer reach it without gRPC.
 *
 *   clients:
 *     - name: team-a-mapper          # shown in audit lines
 *       cert_cn: mapper.team-a        # client certificate common name (mutual TLS)
 *       namespaces: [team-a]          # globs; "*" for every namespace
 *     - name: team-b-model
 *       token_file: team-b.token      # bearer token, relative to this file
 *       namespaces: [team-b, "shared-*"]
 *
 * An entry names one or more identities (cert_cn, cert_subject, token_file);
 * a caller is that client when every identity the entry names matches. The
 * first matching entry wins. A token file holds one token (its first line,
 * 1 to 512 bytes); tokens are compared in constant time and never printed.
 *
 * Ownership: an ea_authz owns all its strings; the client pointers returned
 * by ea_authz_identify live as long as the ea_authz.
 */
#ifndef EA_AUTHZ_H
#define EA_AUTHZ_H

#include "ea_config.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ea_authz ea_authz;
typedef struct ea_authz_client ea_authz_client;

/* Loads an access file. NULL on error, with "FILE:LINE:COL: what" in err.
 * Relative token_file paths are read from the directory of `path`. */
ea_authz *ea_authz_load_file(const char *path, ea_config_error *err);

/* The same from memory; `name` is used in messages and `base_dir` (NULL:
 * the current directory) for relative token files. */
ea_authz *ea_authz_load_string(const char *yaml, size_t len, const char *name, const char *base_dir,
		ea_config_error *err);

void ea_authz_free(ea_authz *authz);

size_t ea_authz_client_count(const ea_authz *authz);

/* The first client every identity of which the caller presents, or NULL.
 * `token` is the bearer token without "Bearer " (NULL: none); cert_cn and
 * cert_subject come from a verified client certificate (NULL: none). */
const ea_authz_client *ea_authz_identify(const ea_authz *authz, const char *token, size_t token_len,
		const char *cert_cn, const char *cert_subject);

const char *ea_authz_client_name(const ea_authz_client *client);

/* Whether the client may send data for namespace `ns`. */
bool ea_authz_allows(const ea_authz_client *client, const char *ns);

#endif
