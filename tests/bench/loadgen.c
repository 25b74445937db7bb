/* SPDX-License-Identifier: Apache-2.0
 *
 * loadgen.c - load generator and delivery meter for `make bench`.
 *
 * One process, two libmosquitto clients on loopback: a publisher sending
 * KubeEdge twin updates from many devices at a fixed rate (or as fast as
 * the broker delivers, with a bounded number in flight, for saturation),
 * and a subscriber that receives them back and measures publish-to-delivery
 * latency from the send time carried in each payload's event_id. Probes (a
 * type error on a device of their own) measure the time from publishing a
 * bad sample to receiving the plugin's anomaly result; they use two more
 * clients of their own, so they do not queue behind the flood in the
 * load generator's own connections.
 *
 *   loadgen --port 1883 --devices 1000 --rate 10000 --duration 10 \
 *           [--probe-rate 2] [--saturate] [--qos 0]
 *
 * Prints one JSON object on stdout with the counts and percentiles.
 */
#include <mosquitto.h>

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LATENCIES 2000000
#define MAX_PROBES 100000
#define SATURATE_WINDOW 2000

struct meter {
	_Atomic uint64_t delivered;
	_Atomic uint64_t results;
	uint64_t lat_count;          /* written by the subscriber thread only */
	uint32_t *lat_us;            /* owned; MAX_LATENCIES entries */
	int64_t *probe_sent_ns;      /* owned; MAX_PROBES entries, 0 = not sent */
	uint32_t *probe_lat_us;      /* owned */
	uint64_t probe_lat_count;
	_Atomic int subscribed;      /* SUBACKs received */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts;
	if(ns <= 0) return;
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	nanosleep(&ts, NULL);
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *q)
{
	struct meter *me = ud;
	(void)m; (void)mid; (void)n; (void)q;
	atomic_fetch_add(&me->subscribed, 1);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct meter *me = ud;
	int64_t now = mono_ns();
	const char *p;

	(void)m;
	if(strncmp(msg->topic, "edge-anomaly/", 13) == 0){
		/* a probe's result: edge-anomaly/bench/probe-<k>/level */
		const char *k = strstr(msg->topic, "/probe-");
		atomic_fetch_add(&me->results, 1);
		if(k != NULL && strstr(msg->payload, "\"anomaly\":true") != NULL){
			long idx = strtol(k + 7, NULL, 10);
			if(idx >= 0 && idx < MAX_PROBES && me->probe_sent_ns[idx] != 0
					&& me->probe_lat_count < MAX_PROBES){
				me->probe_lat_us[me->probe_lat_count++] = (uint32_t)((now - me->probe_sent_ns[idx]) / 1000);
				me->probe_sent_ns[idx] = 0;
			}
		}
		return;
	}
	atomic_fetch_add(&me->delivered, 1);
	p = msg->payloadlen > 16 ? strstr(msg->payload, "\"event_id\":\"b-") : NULL;
	if(p != NULL && me->lat_count < MAX_LATENCIES){
		int64_t sent = strtoll(p + 14, NULL, 10);
		if(sent > 0 && now >= sent) me->lat_us[me->lat_count++] = (uint32_t)((now - sent) / 1000);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(uint32_t *v, uint64_t n, double q)
{
	if(n == 0) return -1;
	return (double)v[(uint64_t)(q * (double)(n - 1))];
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen --port N [--devices N] [--rate MSG_PER_S] [--duration S] "
			"[--probe-rate HZ] [--saturate] [--qos 0|1] [--namespace NS]\n");
	exit(2);
}

static long arg_long(const char *v, long lo, long hi)
{
	char *end;
	long x;
	errno = 0;
	x = strtol(v, &end, 10);
	if(errno || *end || x < lo || x > hi){
		fprintf(stderr, "loadgen: bad number '%s'\n", v);
		exit(2);
	}
	return x;
}

int main(int argc, char **argv)
{
	long port = 1883, devices = 1000, rate = 1000, duration = 10, probe_rate = 0, qos = 0;
	bool saturate = false;
	const char *ns = "bench";
	struct mosquitto *pub, *sub, *probe_pub, *probe_sub;
	struct meter me;
	int64_t start, end, next_probe, interval_ns;
	uint64_t sent = 0, probes = 0, seq = 0;
	char topic[256], payload[512];
	int i;

	for(i = 1; i < argc; i++){
		if(strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = arg_long(argv[++i], 1, 65535);
		else if(strcmp(argv[i], "--devices") == 0 && i + 1 < argc) devices = arg_long(argv[++i], 1, 10000000);
		else if(strcmp(argv[i], "--rate") == 0 && i + 1 < argc) rate = arg_long(argv[++i], 0, 10000000);
		else if(strcmp(argv[i], "--duration") == 0 && i + 1 < argc) duration = arg_long(argv[++i], 1, 3600);
		else if(strcmp(argv[i], "--probe-rate") == 0 && i + 1 < argc) probe_rate = arg_long(argv[++i], 0, 1000);
		else if(strcmp(argv[i], "--qos") == 0 && i + 1 < argc) qos = arg_long(argv[++i], 0, 1);
		else if(strcmp(argv[i], "--namespace") == 0 && i + 1 < argc) ns = argv[++i];
		else if(strcmp(argv[i], "--saturate") == 0) saturate = true;
		else usage();
	}

	memset(&me, 0, sizeof(me));
	me.lat_us = calloc(MAX_LATENCIES, sizeof(uint32_t));
	me.probe_sent_ns = calloc(MAX_PROBES, sizeof(int64_t));
	me.probe_lat_us = calloc(MAX_PROBES, sizeof(uint32_t));
	if(me.lat_us == NULL || me.probe_sent_ns == NULL || me.probe_lat_us == NULL) return 1;

	mosquitto_lib_init();
	sub = mosquitto_new(NULL, true, &me);
	pub = mosquitto_new(NULL, true, NULL);
	probe_sub = mosquitto_new(NULL, true, &me);
	probe_pub = mosquitto_new(NULL, true, NULL);
	if(sub == NULL || pub == NULL || probe_sub == NULL || probe_pub == NULL) return 1;
	mosquitto_message_callback_set(sub, on_message);
	mosquitto_message_callback_set(probe_sub, on_message);
	mosquitto_subscribe_callback_set(sub, on_subscribe);
	mosquitto_subscribe_callback_set(probe_sub, on_subscribe);
	mosquitto_int_option(pub, MOSQ_OPT_SEND_MAXIMUM, 65535);
	if(mosquitto_connect(sub, "127.0.0.1", (int)port, 60) != MOSQ_ERR_SUCCESS
			|| mosquitto_connect(pub, "127.0.0.1", (int)port, 60) != MOSQ_ERR_SUCCESS
			|| mosquitto_connect(probe_sub, "127.0.0.1", (int)port, 60) != MOSQ_ERR_SUCCESS
			|| mosquitto_connect(probe_pub, "127.0.0.1", (int)port, 60) != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "loadgen: cannot connect to 127.0.0.1:%ld\n", port);
		return 1;
	}
	snprintf(topic, sizeof(topic), "$hw/events/device/%s/+/twin/update", ns);
	mosquitto_subscribe(sub, NULL, topic, 0);
	mosquitto_subscribe(probe_sub, NULL, "edge-anomaly/+/+/+", 0);
	mosquitto_loop_start(sub);
	mosquitto_loop_start(pub);
	mosquitto_loop_start(probe_sub);
	mosquitto_loop_start(probe_pub);
	for(i = 0; i < 500 && atomic_load(&me.subscribed) < 2; i++) sleep_ns(10000000);
	sleep_ns(200000000);

	start = mono_ns();
	end = start + (int64_t)duration * 1000000000;
	interval_ns = rate > 0 ? 1000000000 / rate : 0;
	next_probe = probe_rate > 0 ? start : INT64_MAX;
	while(mono_ns() < end){
		int64_t now = mono_ns();
		int n;

		if(now >= next_probe && probes < MAX_PROBES){
			int64_t t = wall_ms();
			snprintf(topic, sizeof(topic), "$hw/events/device/%s/probe-%" PRIu64 "/twin/update", ns, probes);
			n = snprintf(payload, sizeof(payload),
					"{\"event_id\":\"p-%" PRIu64 "\",\"timestamp\":%" PRId64 ",\"twin\":{\"level\":{\"actual\":"
					"{\"value\":\"bad\",\"metadata\":{\"timestamp\":%" PRId64 "}},\"metadata\":{\"type\":\"float\"}}}}",
					probes, t, t);
			me.probe_sent_ns[probes] = mono_ns();
			mosquitto_publish(probe_pub, NULL, topic, n, payload, (int)qos, false);
			probes++;
			next_probe += 1000000000 / probe_rate;
		}
		if(rate == 0 && !saturate){
			sleep_ns(1000000);
			continue;
		}
		if(saturate){
			if(sent - atomic_load(&me.delivered) >= SATURATE_WINDOW){
				sleep_ns(20000);
				continue;
			}
		}else if(now < start + (int64_t)sent * interval_ns){
			sleep_ns(start + (int64_t)sent * interval_ns - now);
			continue;
		}
		{
			int64_t t = wall_ms();
			double value = 20.0 + (double)(seq % 50) * 0.1;
			snprintf(topic, sizeof(topic), "$hw/events/device/%s/dev-%" PRIu64 "/twin/update", ns,
					seq % (uint64_t)devices);
			n = snprintf(payload, sizeof(payload),
					"{\"event_id\":\"b-%" PRId64 "\",\"timestamp\":%" PRId64 ",\"twin\":{\"temperature\":"
					"{\"actual\":{\"value\":\"%.1f\",\"metadata\":{\"timestamp\":%" PRId64 "}},"
					"\"metadata\":{\"type\":\"float\"}}}}", mono_ns(), t, value, t);
			if(mosquitto_publish(pub, NULL, topic, n, payload, (int)qos, false) == MOSQ_ERR_SUCCESS) sent++;
			seq++;
		}
	}
	/* let the last messages and results arrive */
	for(i = 0; i < 300; i++){
		if(atomic_load(&me.delivered) >= sent && (probes == 0 || me.probe_lat_count >= probes)) break;
		sleep_ns(10000000);
	}
	sleep_ns(200000000);
	{
		double elapsed = (double)(mono_ns() - start) / 1e9;
		uint64_t delivered = atomic_load(&me.delivered);
		qsort(me.lat_us, me.lat_count, sizeof(uint32_t), cmp_u32);
		qsort(me.probe_lat_us, me.probe_lat_count, sizeof(uint32_t), cmp_u32);
		printf("{\"sent\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"seconds\":%.3f,\"send_seconds\":%ld,"
				"\"delivered_per_s\":%.1f,\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f,"
				"\"probes\":%" PRIu64 ",\"probe_results\":%" PRIu64 ",\"result_p50_ms\":%.3f,\"result_p99_ms\":%.3f,"
				"\"results_received\":%" PRIu64 "}\n",
				sent, delivered, elapsed, duration, (double)delivered / (double)duration,
				pct(me.lat_us, me.lat_count, 0.5), pct(me.lat_us, me.lat_count, 0.99),
				probes, me.probe_lat_count, pct(me.probe_lat_us, me.probe_lat_count, 0.5) / 1000.0,
				pct(me.probe_lat_us, me.probe_lat_count, 0.99) / 1000.0, (uint64_t)atomic_load(&me.results));
	}
	mosquitto_disconnect(pub);
	mosquitto_disconnect(sub);
	mosquitto_disconnect(probe_pub);
	mosquitto_disconnect(probe_sub);
	mosquitto_loop_stop(pub, false);
	mosquitto_loop_stop(sub, false);
	mosquitto_loop_stop(probe_pub, false);
	mosquitto_loop_stop(probe_sub, false);
	mosquitto_destroy(pub);
	mosquitto_destroy(sub);
	mosquitto_destroy(probe_pub);
	mosquitto_destroy(probe_sub);
	mosquitto_lib_cleanup();
	free(me.lat_us);
	free(me.probe_sent_ns);
	free(me.probe_lat_us);
	return 0;
}
