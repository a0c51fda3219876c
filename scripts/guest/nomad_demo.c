// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side demo tool for "make run".
 *
 *   nomad_demo topo             memory tiers and tiering knobs (numactl -H
 *                               shows nodes, CPUs, sizes, distances)
 *   nomad_demo promote MIB SEC  put MIB MiB on the slowest node, read it for
 *                               up to SEC seconds, print where it lives
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nomad_util.h"

static void print_file(const char *label, const char *path)
{
	char buf[256];

	if (read_file(path, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "(missing)\n");
	printf("%-34s %s", label, buf);
	if (!strchr(buf, '\n'))
		putchar('\n');
}

/* What numactl -H does not show: the memory tiers and the tiering knobs. */
static int topo(void)
{
	char path[128], buf[256];
	size_t k;
	int i;

	printf("memory tiers (/sys/devices/virtual/memory_tiering):\n");
	for (i = 0; i < 1024; i++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/virtual/memory_tiering/memory_tier%d/nodelist", i);
		if (read_file(path, buf, sizeof(buf)) > 0)
			printf("  memory_tier%-4d nodes %s", i, buf);
	}
	print_file("kernel.numa_balancing", "/proc/sys/kernel/numa_balancing");
	print_file("numa/demotion_enabled", "/sys/kernel/mm/numa/demotion_enabled");
	for (k = 0; k < NOMAD_ARRAY_SIZE(nomad_switches); k++) {
		knob_path(path, sizeof(path), nomad_switches[k]);
		print_file(path + strlen("/proc/sys/"), path);
	}
	return 0;
}

static int promote(long mib, int secs)
{
	size_t len = mib << 20;
	long pages = len / NOMAD_PAGE_SIZE, on_fast = -1, now_fast;
	int fast, slow, stable;
	double t0, tnext;
	char *buf;

	if (find_tier_nodes(&fast, &slow)) {
		fprintf(stderr, "nomad_demo: no lower memory tier on this machine\n");
		return 1;
	}
	buf = map_on_node(len, MPOL_BIND, slow, 1);
	if (buf == MAP_FAILED) {
		perror("nomad_demo: mmap/mbind");
		return 1;
	}
	unbind(buf, len);
	printf("%ld MiB placed on slow node %d; reading it for up to %d s\n", mib, slow, secs);
	printf("  time   pages on node %d (fast)   pages on node %d (slow)\n", fast, slow);
	t0 = now_sec();
	tnext = t0;
	/* stop early once placement has not changed for three samples */
	for (stable = 0; now_sec() - t0 < secs && stable < 3;) {
		read_pages(buf, len);
		if (now_sec() < tnext)
			continue;
		now_fast = pages_on_node(buf, len, fast);
		printf("  %4.1fs  %8ld (%3ld%%)            %8ld\n", now_sec() - t0,
		       now_fast, now_fast * 100 / pages, pages_on_node(buf, len, slow));
		fflush(stdout);
		stable = (now_fast == on_fast && now_fast > 0) ? stable + 1 : 0;
		on_fast = now_fast;
		tnext += 1.0;
	}
	munmap(buf, len);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "topo"))
		return topo();
	if (argc == 4 && !strcmp(argv[1], "promote"))
		return promote(atol(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: nomad_demo topo | promote MIB SECONDS\n");
	return 2;
}
