// SPDX-License-Identifier: GPL-2.0
/*
 * Bring a node back from "node_unreclaimable" for "make bench", so that
 * every mode starts from the same reclaim state.
 *
 * kswapd gives up on a node after 16 passes that reclaim nothing (for
 * example a fast node full of anonymous memory while demotion is off and
 * there is no swap) and ignores wakeups until a reclaim pass on that node
 * makes progress.  On a tiered machine allocations that do not fit fall
 * back to the slow node, so no direct reclaim ever runs on the fast node
 * and promotion, which relies on kswapd to demote, stays stuck for the
 * rest of the boot.  This helper, run with demotion enabled, allocates
 * MPOL_BIND on NODE more than its free memory: direct reclaim on NODE
 * demotes some pages, which resets the failure count.  It then exits and
 * frees everything.
 *
 *   nomad_revive NODE
 * Exit status 0 if /proc/zoneinfo no longer reports the node unreclaimable.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nomad_util.h"

static int unreclaimable(int node)
{
	char line[256];
	int cur = -1, val = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		int n, v;

		if (sscanf(line, "Node %d,", &n) == 1)
			cur = n;
		else if (cur == node && sscanf(line, " node_unreclaimable: %d", &v) == 1)
			val |= v;
	}
	fclose(f);
	return val;
}

int main(int argc, char **argv)
{
	long len, off;
	int node;
	char *p;

	if (argc != 2 || (node = atoi(argv[1])) < 0 || node >= NOMAD_MAX_NODES) {
		fprintf(stderr, "usage: nomad_revive NODE\n");
		return 2;
	}
	if (unreclaimable(node) == 0)
		return 0;
	len = node_free_kb(node) * 1024 + (64L << 20);
	if (len <= 64L << 20) {
		fprintf(stderr, "nomad_revive: no node %d\n", node);
		return 2;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return perror("nomad_revive: mmap"), 1;
	if (bind_to_node(p, len, MPOL_BIND, node))
		return perror("nomad_revive: mbind"), 1;
	for (off = 0; off < len && unreclaimable(node) != 0; off += 2L << 20) {
		long end = off + (2L << 20) < len ? off + (2L << 20) : len, o;

		for (o = off; o < end; o += 4096)
			p[o] = 1;
	}
	munmap(p, len);
	if (unreclaimable(node) != 0) {
		fprintf(stderr, "nomad_revive: node %d is still unreclaimable\n", node);
		return 1;
	}
	return 0;
}
