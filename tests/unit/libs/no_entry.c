/* SPDX-License-Identifier: Apache-2.0
 *
 * no_entry.c - a shared object that is not a detector library (it does not
 * export edge_anomaly_detectors): loading it must be refused.
 */
int not_a_detector(int x);

int not_a_detector(int x)
{
	return x + 1;
}
