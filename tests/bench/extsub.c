/* SPDX-License-Identifier: Apache-2.0
 *
 * extsub.c - the route users take without the plugin, for `make bench`: an
 * ordinary MQTT client that subscribes to the twin topics, runs the same
 * detector library on every message, and publishes results back. Its CPU
 * and the broker's extra delivery work are what the plugin saves.
 *
 *   extsub --port 1883 [--config FILE]
 *
 * Runs until SIGTERM or SIGINT.
 */
#include <mosquitto.h>

#include "ea_config.h"
#include "ea_engine.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

struct ctx {
	struct mosquitto *client;
	ea_engine *engine;
	const ea_config *cfg;
	int64_t next_idle_ms;
};

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_result(void *ud, const ea_result *r)
{
	struct ctx *c = ud;
	char topic[2048];
	static char json[EA_RESULT_JSON_MAX];
	size_t tl = ea_result_topic(c->cfg->result_topic, r, topic, sizeof(topic));
	size_t jl = ea_result_to_json(r, json, sizeof(json));

	if(tl > 0 && jl > 0) mosquitto_publish(c->client, NULL, topic, (int)jl, json, c->cfg->result_qos, false);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct ctx *c = ud;
	int64_t now = ea_now_ms();

	(void)m;
	ea_engine_message(c->engine, msg->topic, strlen(msg->topic), msg->payload, (size_t)msg->payloadlen, now);
	if(now >= c->next_idle_ms){
		ea_engine_idle(c->engine, now);
		c->next_idle_ms = now + c->cfg->idle_check_ms;
	}
}

int main(int argc, char **argv)
{
	int port = 1883, i;
	const char *config = NULL;
	ea_config_error err;
	ea_config *cfg;
	struct ctx c;

	for(i = 1; i < argc; i++){
		if(strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
		else if(strcmp(argv[i], "--config") == 0 && i + 1 < argc) config = argv[++i];
		else{
			fprintf(stderr, "usage: extsub --port N [--config FILE]\n");
			return 2;
		}
	}
	cfg = config != NULL ? ea_config_load_file(config, &err) : ea_config_defaults();
	if(cfg == NULL){
		fprintf(stderr, "extsub: %s\n", config != NULL ? err.message : "out of memory");
		return 1;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	mosquitto_lib_init();
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.client = mosquitto_new(NULL, true, &c);
	c.engine = ea_engine_new(cfg, cfg->max_series, on_result, &c);
	if(c.client == NULL || c.engine == NULL) return 1;
	mosquitto_message_callback_set(c.client, on_message);
	if(mosquitto_connect(c.client, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "extsub: cannot connect to 127.0.0.1:%d\n", port);
		return 1;
	}
	for(i = 0; i < (int)cfg->topic_count; i++) mosquitto_subscribe(c.client, NULL, cfg->topics[i], 0);
	while(!stop){
		int rc = mosquitto_loop(c.client, 100, 1);
		if(rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) break;
	}
	mosquitto_disconnect(c.client);
	mosquitto_destroy(c.client);
	ea_engine_free(c.engine);
	ea_config_free(cfg);
	mosquitto_lib_cleanup();
	return 0;
}
