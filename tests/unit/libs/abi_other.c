/* SPDX-License-Identifier: Apache-2.0
 *
 * abi_other.c - a detector library that claims a detector ABI other than
 * the one edge-anomaly speaks (as a library built against a future header
 * would): loading it must be refused with a message naming both versions.
 */
#include <edge-anomaly/detector.h>

static void observe(const double *p, void *state, const struct edge_anomaly_sample *s, struct edge_anomaly_verdict *v)
{
	(void)p;
	(void)state;
	(void)s;
	(void)v;
}

static const struct edge_anomaly_detector future = {
	.abi_version = EDGE_ANOMALY_DETECTOR_ABI + 1,
	.name = "from_the_future",
	.kind = "future",
	.summary = "built for another ABI",
	.observe = observe,
};

static const struct edge_anomaly_detector *const all[] = { &future, NULL };

const struct edge_anomaly_detector *const *edge_anomaly_detectors(void)
{
	return all;
}
