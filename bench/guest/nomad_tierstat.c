// SPDX-License-Identifier: GPL-2.0
/*
 * Print the tier model's per-node counters (qemu/README.md), read through
 * its CPUID leaves: one line per NUMA node,
 *   node N lookups L misses M streamed S charged_ns C
 * (cache line lookups, misses, misses charged at streaming bandwidth, and
 * guest time charged).  Exit status 1 and no output if the guest does not
 * run on QEMU with the tier model.
 */
#include "bench_util.h"

int main(void)
{
	unsigned int nodes = tier_nodes(), n;

	if (!nodes)
		return 1;
	for (n = 0; n < nodes; n++)
		printf("node %u lookups %llu misses %llu streamed %llu charged_ns %llu\n", n,
		       (unsigned long long)tier_counter(n, TIER_LOOKUPS),
		       (unsigned long long)tier_counter(n, TIER_MISSES),
		       (unsigned long long)tier_counter(n, TIER_STREAMED),
		       (unsigned long long)tier_counter(n, TIER_CHARGED_NS));
	return 0;
}
