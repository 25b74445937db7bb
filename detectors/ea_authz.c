/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_authz.c - loads detectord's access file (see ea_authz.h) with libyaml's
 * document API and answers "who is this caller" and "may it send data for
 * this namespace". Errors name the file, line and column like the config's.
 */
#include "ea_authz.h"

#include "ea.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_CLIENTS 4096
#define MAX_NAMESPACES 1024
#define MAX_TOKEN 512

struct ea_authz_client {
	char *name;          /* owned */
	char *cert_cn;       /* owned; NULL: not part of the identity */
	char *cert_subject;  /* owned; NULL: not part of the identity */
	char *token;         /* owned; NULL: not part of the identity */
	size_t token_len;
	char **namespaces;   /* owned globs */
	size_t namespace_count;
};

struct ea_authz {
	ea_authz_client *clients; /* owned */
	size_t client_count;
};

struct authz_loader {
	const char *name;
	const char *base_dir;
	yaml_document_t *doc;
	ea_config_error *err;
};

static void fail(struct authz_loader *ld, const yaml_node_t *node, const char *path, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

static void fail(struct authz_loader *ld, const yaml_node_t *node, const char *path, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if(ld->err == NULL) return;
	if(node != NULL){
		snprintf(ld->err->message, sizeof(ld->err->message), "%s:%zu:%zu: key '%s': %s",
				ld->name, node->start_mark.line + 1, node->start_mark.column + 1, path, what);
	}else{
		snprintf(ld->err->message, sizeof(ld->err->message), "%s: key '%s': %s", ld->name, path, what);
	}
}

static char *dup_text(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if(d != NULL){
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

static const char *scalar(const yaml_node_t *node)
{
	if(node == NULL || node->type != YAML_SCALAR_NODE) return NULL;
	return (const char *)node->data.scalar.value;
}

static void free_client(ea_authz_client *c)
{
	size_t i;

	free(c->name);
	free(c->cert_cn);
	free(c->cert_subject);
	if(c->token != NULL){
		memset(c->token, 0, c->token_len);
		free(c->token);
	}
	for(i = 0; i < c->namespace_count; i++) free(c->namespaces[i]);
	free(c->namespaces);
}

void ea_authz_free(ea_authz *authz)
{
	size_t i;

	if(authz == NULL) return;
	for(i = 0; i < authz->client_count; i++) free_client(&authz->clients[i]);
	free(authz->clients);
	free(authz);
}

/* A non-empty single-line string of at most 256 bytes into *out (owned). */
static bool get_text(struct authz_loader *ld, const yaml_node_t *node, const char *path, char **out)
{
	const char *s = scalar(node);
	size_t len;

	if(s == NULL){
		fail(ld, node, path, "expects a single value, not a list or mapping");
		return false;
	}
	len = node->data.scalar.length;
	if(len == 0 || len > 256 || memchr(s, '\0', len) != NULL || strpbrk(s, "\r\n") != NULL){
		fail(ld, node, path, "expects a non-empty single line of at most 256 bytes");
		return false;
	}
	if(*out != NULL){
		fail(ld, node, path, "given twice");
		return false;
	}
	*out = dup_text(s, len);
	if(*out == NULL){
		fail(ld, node, path, "out of memory");
		return false;
	}
	return true;
}

/* Reads the token file named by `node` (relative to base_dir). */
static bool get_token(struct authz_loader *ld, const yaml_node_t *node, const char *path, ea_authz_client *c)
{
	char *file = NULL, full[4096], buf[MAX_TOKEN + 2];
	FILE *f;
	size_t n;
	bool ok = false;

	if(!get_text(ld, node, path, &file)) return false;
	if(file[0] == '/' || ld->base_dir == NULL) snprintf(full, sizeof(full), "%s", file);
	else snprintf(full, sizeof(full), "%s/%s", ld->base_dir, file);
	f = fopen(full, "rb");
	if(f == NULL){
		fail(ld, node, path, "cannot read the token file %s: %s", full, strerror(errno));
		free(file);
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if(n == 0 || n > MAX_TOKEN || memchr(buf, '\0', n) != NULL){
		fail(ld, node, path, "the token file %s must hold one token of 1 to %d bytes on its first line", full, MAX_TOKEN);
	}else if(c->token != NULL){
		fail(ld, node, path, "given twice");
	}else{
		c->token = dup_text(buf, n);
		c->token_len = n;
		ok = c->token != NULL;
		if(!ok) fail(ld, node, path, "out of memory");
	}
	memset(buf, 0, sizeof(buf));
	free(file);
	return ok;
}

static bool get_namespaces(struct authz_loader *ld, const yaml_node_t *node, const char *path, ea_authz_client *c)
{
	yaml_node_item_t *item;
	size_t count, i = 0;

	if(c->namespaces != NULL){
		fail(ld, node, path, "given twice");
		return false;
	}
	if(node->type != YAML_SEQUENCE_NODE){
		fail(ld, node, path, "expects a list of namespaces (globs), e.g. [team-a] or [\"*\"]");
		return false;
	}
	count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if(count == 0 || count > MAX_NAMESPACES){
		fail(ld, node, path, "expects 1 to %d namespaces", MAX_NAMESPACES);
		return false;
	}
	c->namespaces = calloc(count, sizeof(*c->namespaces));
	if(c->namespaces == NULL){
		fail(ld, node, path, "out of memory");
		return false;
	}
	for(item = node->data.sequence.items.start; item < node->data.sequence.items.top; item++, i++){
		char *glob = NULL;
		if(!get_text(ld, yaml_document_get_node(ld->doc, *item), path, &glob)) return false;
		c->namespaces[c->namespace_count++] = glob;
	}
	return true;
}

static bool load_client(struct authz_loader *ld, const yaml_node_t *node, size_t index, ea_authz_client *c)
{
	yaml_node_pair_t *pair;
	char path[64], key_path[128];

	snprintf(path, sizeof(path), "clients[%zu]", index + 1);
	if(node == NULL || node->type != YAML_MAPPING_NODE){
		fail(ld, node, path, "expects a mapping with name, namespaces and cert_cn, cert_subject or token_file");
		return false;
	}
	for(pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++){
		const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
		const yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
		const char *key = scalar(k);
		bool ok;

		if(key == NULL || v == NULL){
			fail(ld, k, path, "keys must be plain names");
			return false;
		}
		snprintf(key_path, sizeof(key_path), "%s.%.40s", path, key);
		if(strcmp(key, "name") == 0) ok = get_text(ld, v, key_path, &c->name);
		else if(strcmp(key, "cert_cn") == 0) ok = get_text(ld, v, key_path, &c->cert_cn);
		else if(strcmp(key, "cert_subject") == 0) ok = get_text(ld, v, key_path, &c->cert_subject);
		else if(strcmp(key, "token_file") == 0) ok = get_token(ld, v, key_path, c);
		else if(strcmp(key, "namespaces") == 0) ok = get_namespaces(ld, v, key_path, c);
		else{
			fail(ld, k, key_path, "unknown key (known: name, cert_cn, cert_subject, token_file, namespaces)");
			return false;
		}
		if(!ok) return false;
	}
	if(c->name == NULL){
		fail(ld, node, path, "needs a name (it is shown in audit lines)");
		return false;
	}
	if(c->cert_cn == NULL && c->cert_subject == NULL && c->token == NULL){
		fail(ld, node, path, "client '%s' needs an identity: cert_cn, cert_subject or token_file", c->name);
		return false;
	}
	if(c->namespaces == NULL){
		fail(ld, node, path, "client '%s' needs namespaces (a list; [\"*\"] for all)", c->name);
		return false;
	}
	return true;
}

static ea_authz *load_document(struct authz_loader *ld)
{
	const yaml_node_t *root = yaml_document_get_root_node(ld->doc), *clients = NULL;
	yaml_node_pair_t *pair;
	yaml_node_item_t *item;
	ea_authz *authz;
	size_t count, i;

	if(root == NULL || root->type != YAML_MAPPING_NODE){
		fail(ld, root, "clients", "the access file must be a mapping with a 'clients' list");
		return NULL;
	}
	for(pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++){
		const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
		const char *key = scalar(k);
		if(key == NULL || strcmp(key, "clients") != 0){
			fail(ld, k, key != NULL ? key : "?", "unknown key (known: clients)");
			return NULL;
		}
		clients = yaml_document_get_node(ld->doc, pair->value);
	}
	if(clients == NULL || clients->type != YAML_SEQUENCE_NODE){
		fail(ld, clients != NULL ? clients : root, "clients", "expects a list of clients");
		return NULL;
	}
	count = (size_t)(clients->data.sequence.items.top - clients->data.sequence.items.start);
	if(count == 0 || count > MAX_CLIENTS){
		fail(ld, clients, "clients", "expects 1 to %d clients", MAX_CLIENTS);
		return NULL;
	}
	authz = calloc(1, sizeof(*authz));
	if(authz != NULL) authz->clients = calloc(count, sizeof(*authz->clients));
	if(authz == NULL || authz->clients == NULL){
		free(authz);
		fail(ld, clients, "clients", "out of memory");
		return NULL;
	}
	for(item = clients->data.sequence.items.start, i = 0; item < clients->data.sequence.items.top; item++, i++){
		const yaml_node_t *node = yaml_document_get_node(ld->doc, *item);
		ea_authz_client *c = &authz->clients[i];
		size_t j;

		authz->client_count = i + 1; /* freed with the rest on failure */
		if(!load_client(ld, node, i, c)){
			ea_authz_free(authz);
			return NULL;
		}
		for(j = 0; j < i; j++){
			if(strcmp(authz->clients[j].name, c->name) == 0){
				char path[64];
				snprintf(path, sizeof(path), "clients[%zu].name", i + 1);
				fail(ld, node, path, "client name '%s' is used twice", c->name);
				ea_authz_free(authz);
				return NULL;
			}
		}
	}
	return authz;
}

ea_authz *ea_authz_load_string(const char *yaml, size_t len, const char *name, const char *base_dir,
		ea_config_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct authz_loader ld;
	ea_authz *authz;

	if(err != NULL) err->message[0] = '\0';
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.base_dir = base_dir;
	ld.err = err;
	if(!yaml_parser_initialize(&parser)){
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: out of memory", name);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if(!yaml_parser_load(&parser, &doc)){
		if(err != NULL){
			snprintf(err->message, sizeof(err->message), "%s:%zu:%zu: YAML syntax error: %s",
					name, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
					parser.problem ? parser.problem : "unknown problem");
		}
		yaml_parser_delete(&parser);
		return NULL;
	}
	ld.doc = &doc;
	authz = load_document(&ld);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return authz;
}

ea_authz *ea_authz_load_file(const char *path, ea_config_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf, *dir, *slash;
	size_t len;
	ea_authz *authz;

	if(f == NULL){
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc((1 << 20) + 1);
	if(buf == NULL){
		fclose(f);
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: out of memory", path);
		return NULL;
	}
	len = fread(buf, 1, (1 << 20) + 1, f);
	fclose(f);
	if(len > (1 << 20)){
		free(buf);
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: larger than 1 MiB, not an access file", path);
		return NULL;
	}
	dir = dup_text(path, strlen(path));
	if(dir == NULL){
		free(buf);
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: out of memory", path);
		return NULL;
	}
	slash = strrchr(dir, '/');
	if(slash == NULL) strcpy(dir, ".");
	else if(slash == dir) dir[1] = '\0';
	else *slash = '\0';
	authz = ea_authz_load_string(buf, len, path, dir, err);
	free(dir);
	free(buf);
	return authz;
}

size_t ea_authz_client_count(const ea_authz *authz)
{
	return authz != NULL ? authz->client_count : 0;
}

/* Compares without an early exit, so the time does not tell how much of a
 * guess was right. */
static bool same_secret(const char *a, size_t a_len, const char *b, size_t b_len)
{
	unsigned char diff = a_len != b_len;
	size_t i;

	if(b_len == 0) return false;
	for(i = 0; i < a_len; i++) diff |= (unsigned char)(a[i] ^ b[i < b_len ? i : 0]);
	return diff == 0;
}

const ea_authz_client *ea_authz_identify(const ea_authz *authz, const char *token, size_t token_len,
		const char *cert_cn, const char *cert_subject)
{
	size_t i;

	if(authz == NULL) return NULL;
	for(i = 0; i < authz->client_count; i++){
		const ea_authz_client *c = &authz->clients[i];
		if(c->token != NULL && (token == NULL || !same_secret(c->token, c->token_len, token, token_len))) continue;
		if(c->cert_cn != NULL && (cert_cn == NULL || strcmp(c->cert_cn, cert_cn) != 0)) continue;
		if(c->cert_subject != NULL && (cert_subject == NULL || strcmp(c->cert_subject, cert_subject) != 0)) continue;
		return c;
	}
	return NULL;
}

const char *ea_authz_client_name(const ea_authz_client *client)
{
	return client->name;
}

bool ea_authz_allows(const ea_authz_client *client, const char *ns)
{
	size_t i;

	if(client == NULL) return false;
	for(i = 0; i < client->namespace_count; i++){
		if(ea_glob_match(client->namespaces[i], ns)) return true;
	}
	return false;
}
