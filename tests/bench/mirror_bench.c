/* SPDX-License-Identifier: Apache-2.0
 *
 * mirror_bench.c - can the data mirror keep up with the tap?
 *
 *   bench-mirror [--seconds S] [--db PATH]
 *
 * Offers samples to ea_mirror_sample at 10,000 and 50,000 per second (from
 * one thread, paced, as the workers would) for S seconds each, then waits
 * for the writer, and reports samples written, dropped (queue full) and
 * how long the writer needed after the offering stopped. The database is
 * left at PATH for `edge-anomaly export` speed tests.
 */
#include "ea_mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double seconds = 3;
	const char *path = "build/bench-mirror.db";
	static const int rates[] = { 10000, 50000 };
	char side[600], err[256];
	int a, r;

	for(a = 1; a < argc; a++){
		if(strcmp(argv[a], "--seconds") == 0 && a + 1 < argc) seconds = atof(argv[++a]);
		else if(strcmp(argv[a], "--db") == 0 && a + 1 < argc) path = argv[++a];
		else{
			fprintf(stderr, "usage: bench-mirror [--seconds S] [--db PATH]\n");
			return 2;
		}
	}
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	printf("| offered samples/s | offered | written | dropped | writer busy after offering (ms) |\n|---|---|---|---|---|\n");
	for(r = 0; r < 2; r++){
		ea_mirror_settings st = { .path = path };
		ea_mirror *m = ea_mirror_open(&st, err, sizeof(err));
		ea_mirror_stats stats;
		int64_t start = ea_mono_ns(), step = 1000000000LL / rates[r], t_end, flushed;
		uint64_t i, n = (uint64_t)(seconds * rates[r]);
		char dev[32], text[32];

		if(m == NULL){
			fprintf(stderr, "bench-mirror: %s\n", err);
			return 1;
		}
		for(i = 0; i < n; i++){
			ea_sample s;
			memset(&s, 0, sizeof(s));
			snprintf(dev, sizeof(dev), "dev-%u", (unsigned)(i % 1000));
			snprintf(text, sizeof(text), "%.2f", 20.0 + (double)(i % 100) * 0.1);
			s.ns = "bench";
			s.device = dev;
			s.property = "temp";
			ea_sample_classify(&s, text, EA_TYPE_NONE);
			s.time_ms = s.arrival_ms = 1800000000000LL + (int64_t)i;
			while(ea_mono_ns() < start + (int64_t)i * step){
			}
			ea_mirror_sample(m, &s);
		}
		t_end = ea_mono_ns();
		ea_mirror_flush(m, 60000);
		flushed = ea_mono_ns();
		ea_mirror_stats_read(m, &stats);
		printf("| %d | %llu | %llu | %llu | %.0f |\n", rates[r], (unsigned long long)n,
				(unsigned long long)stats.samples_written, (unsigned long long)stats.dropped,
				(double)(flushed - t_end) / 1e6);
		ea_mirror_close(m);
	}
	return 0;
}
