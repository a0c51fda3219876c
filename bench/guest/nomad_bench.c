// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD micro-benchmark, modelled on the paper's: a working set of 4 KiB
 * pages is written once on the slow node (warm-up), then read or written
 * in several measured rounds in a zipfian order (hot pages scattered over
 * the working set).  Round 1 runs while pages migrate; the last rounds
 * show the stable state.  With --shift the hot set moves to other pages
 * halfway through.
 *
 *   nomad_bench --mb N [--rounds R] [--accesses A] [--write PCT]
 *               [--theta T] [--shift] [--slow-node S]
 *
 * Output, one line per round and a summary (for bench/run):
 *   round R accesses A secs S mops M stall_ms X
 *   summary steady_mops M fast_pages F total_pages P
 * "stall_ms" adds up the excess time of chunks of 64 accesses that took
 * more than 8 times the fastest chunk seen (plus 20 us): time the
 * application lost to faults and migration waits.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096UL
#define CHUNK	64

#include "bench_util.h"
#include "nomad_util.h"

static void usage(void)
{
	fprintf(stderr, "usage: nomad_bench --mb N [--rounds R] [--accesses A] [--write PCT] "
		"[--theta T] [--shift] [--slow-node S] [--fast-node F]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long mb = 0, rounds = 8, accesses = 4000000, wpct = 0, pages, i, r;
	int slow = 1, fast = 0, shift = 0;
	double theta = 0.99, steady = 0;
	struct stall_clock sc = { 0 };
	long *perm, *sample;
	struct zipf z;
	uint64_t sum = 0;
	char *buf;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shift")) {
			shift = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--mb"))
			mb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--accesses"))
			accesses = atol(argv[++i]);
		else if (!strcmp(argv[i], "--write"))
			wpct = atol(argv[++i]);
		else if (!strcmp(argv[i], "--theta"))
			theta = atof(argv[++i]);
		else if (!strcmp(argv[i], "--slow-node"))
			slow = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--fast-node"))
			fast = atoi(argv[++i]);
		else
			usage();
	}
	if (mb <= 0 || rounds <= 0 || accesses < CHUNK || wpct < 0 || wpct > 100 ||
	    theta <= 0 || theta >= 1)
		usage();
	pages = mb * (1024 * 1024 / PAGE);

	buf = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("nomad_bench: mmap");
		return 1;
	}
	madvise(buf, pages * PAGE, MADV_NOHUGEPAGE);
	/* warm-up write on the slow node: hot pages have to be promoted */
	if (bind_to_node(buf, pages * PAGE, MPOL_BIND, slow)) {
		perror("nomad_bench: mbind");
		return 1;
	}
	for (i = 0; i < pages; i++)
		memset(buf + i * PAGE, (int)i, PAGE);
	unbind(buf, pages * PAGE);

	perm = malloc(pages * sizeof(long));
	sample = malloc(accesses * sizeof(long));
	if (!perm || !sample)
		return 1;
	for (i = 0; i < pages; i++)
		perm[i] = i;
	for (i = pages - 1; i > 0; i--) {
		long j = xorshift() % (i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	zipf_init(&z, pages, theta);
	for (i = 0; i < accesses; i++)
		sample[i] = zipf_next(&z);

	for (r = 1; r <= rounds; r++) {
		long off = shift && r > rounds / 2 ? pages / 2 : 0;
		double t0 = now();

		stall_start(&sc);

		for (i = 0; i < accesses; i++) {
			long page = perm[(sample[i] + off) % pages];
			uint64_t *p = (uint64_t *)(buf + page * PAGE + (i & 63) * 64);

			if (wpct && (long)(i % 100) < wpct)
				*p += 1;
			else
				sum += *p;
			if ((i & (CHUNK - 1)) == CHUNK - 1)
				stall_tick(&sc);
		}
		round_report("accesses", r, rounds, accesses, t0, sc.stall, &steady);
	}
	printf("summary steady_mops %.3f fast_pages %ld total_pages %ld checksum %llu\n",
	       steady, pages_on_node(buf, pages * PAGE, fast), pages,
	       (unsigned long long)(sum & 0xff));
	return 0;
}
