// SPDX-License-Identifier: GPL-2.0
/*
 * Print the tier model's per-node counters (qemu/README.md), read through
 * its CPUID leaves: one line per NUMA node,
 *   node N lookups L misses M streamed S charged_ns C
 * (cache line lookups, misses, misses charged at streaming bandwidth, and
 * guest time charged).  Exit status 1 and no output if the guest does not
 * run on QEMU with the tier model.
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TIER_CPUID_BASE	0x4e4d0000u

static uint64_t counter(unsigned int node, unsigned int k)
{
	unsigned int a, b, c, d;

	__cpuid_count(TIER_CPUID_BASE + 1, node * 4 + k, a, b, c, d);
	return (uint64_t)d << 32 | a;
}

int main(void)
{
	unsigned int nodes, b, c, d, n;
	char sig[13];

	__cpuid_count(TIER_CPUID_BASE, 0, nodes, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	if (strcmp(sig, "NOMADTIERMDL"))
		return 1;
	for (n = 0; n < nodes; n++)
		printf("node %u lookups %llu misses %llu streamed %llu charged_ns %llu\n", n,
		       (unsigned long long)counter(n, 0), (unsigned long long)counter(n, 1),
		       (unsigned long long)counter(n, 2), (unsigned long long)counter(n, 3));
	return 0;
}
