// SPDX-License-Identifier: GPL-2.0
/*
 * Memory thrasher for the application workloads of "make bench": run
 * between an application's load phase and its measured phase, it makes
 * the application's pages cold and, with tiering on, pushes them out of
 * the fast node, as the NOMAD paper does before its Liblinear and Redis
 * runs.  It writes a buffer of --mb MiB page by page, reads it back
 * (--passes times in all), then frees it and exits.
 *
 *   nomad_thrash --mb N [--passes P] [--bind NODE]
 *
 * Placement: the default policy unless --bind is given.  With --bind the
 * buffer is MPOL_BIND to NODE when demotion is enabled
 * (/sys/kernel/mm/numa/demotion_enabled), so that allocating it forces
 * reclaim on NODE, which demotes the coldest pages there: the idle
 * application's.  A default-policy allocation that does not fit simply
 * falls back to the next node without waking kswapd.  With demotion off
 * the binding is not made (reclaim could not free anonymous memory
 * without swap, and the OOM killer would pick the application); the
 * buffer then lands wherever there is room, as everything else does in
 * that mode.
 *
 * Prints "thrash mb N passes P secs S bound 0|1 checksum C".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"
#include "nomad_util.h"

#define PAGE	4096UL

static int demotion_enabled(void)
{
	FILE *f = fopen("/sys/kernel/mm/numa/demotion_enabled", "r");
	char buf[16] = "";

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] == 't' || buf[0] == 'y' || buf[0] == '1';
}

static void usage(void)
{
	fprintf(stderr, "usage: nomad_thrash --mb N [--passes P] [--bind NODE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long mb = 0, passes = 2, pages, i, p;
	int node = -1, bound = 0;
	uint64_t sum = 0;
	double t;
	char *buf;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--mb"))
			mb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--passes"))
			passes = atol(argv[++i]);
		else if (!strcmp(argv[i], "--bind"))
			node = atoi(argv[++i]);
		else
			usage();
	}
	if (mb <= 0 || passes < 1)
		usage();
	pages = mb * (1024 * 1024 / PAGE);

	t = now();
	buf = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("nomad_thrash: mmap");
		return 1;
	}
	/* 4 KiB pages, as the applications' own memory */
	madvise(buf, pages * PAGE, MADV_NOHUGEPAGE);
	if (node >= 0 && demotion_enabled()) {
		if (bind_to_node(buf, pages * PAGE, MPOL_BIND, node)) {
			perror("nomad_thrash: mbind");
			return 1;
		}
		bound = 1;
	}
	/* first pass writes, the others read (and dirty one word per page) */
	for (p = 0; p < passes; p++) {
		for (i = 0; i < pages; i++) {
			uint64_t *q = (uint64_t *)(buf + i * PAGE);
			long j;

			if (!p) {
				memset(q, (int)i, PAGE);
				continue;
			}
			for (j = 0; j < (long)(PAGE / sizeof(*q)); j += 8)
				sum += q[j];
			q[0]++;
		}
	}
	munmap(buf, pages * PAGE);
	printf("thrash mb %ld passes %ld secs %.2f bound %d checksum %llu\n",
	       mb, passes, now() - t, bound, (unsigned long long)(sum & 0xffff));
	return 0;
}
