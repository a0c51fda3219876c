// SPDX-License-Identifier: GPL-2.0
/*
 * PageRank over a synthetic graph, as a graph workload for the NOMAD
 * benchmarks: the graph (CSR) and the rank arrays are built on the slow
 * node, then iterations run with default placement, so that the hot part
 * (popular vertices' ranks, the edge array streamed each iteration) is
 * promoted while the working set is larger than the fast node.
 *
 *   nomad_pagerank --mb N [--iters I] [--slow-node S]
 *
 * Output: one line per iteration and a summary (for bench/run):
 *   round I edges E secs S mops M stall_ms 0
 *   summary steady_mops M fast_pages 0 total_pages P checksum C
 * "mops" is millions of edges processed per second.
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

#include "bench_util.h"
#include "nomad_util.h"

int main(int argc, char **argv)
{
	long mb = 0, iters = 8, n, m, i, e, it;
	int slow = 1;
	uint32_t *dst, *deg;
	uint64_t *off;
	double *rank, *next, steady = 0, sum = 0;

	rng = 0x9e3779b97f4a7c15ULL;	/* the graph of earlier results */
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mb"))
			mb = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--iters"))
			iters = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--slow-node"))
			slow = atoi(argv[i + 1]);
		else
			break;
	}
	if (mb <= 0 || iters <= 0 || i != argc) {
		fprintf(stderr, "usage: nomad_pagerank --mb N [--iters I] [--slow-node S]\n");
		return 2;
	}
	/* 8 edges per vertex: 4 B per edge, 8 B offset, 4 B degree, 2 x 8 B ranks */
	n = mb * 1024 * 1024 / (8 * 4 + 8 + 4 + 16);
	m = 8 * n;
	off = (void *)map_on_node((n + 1) * sizeof(*off), MPOL_BIND, slow, 0);
	dst = (void *)map_on_node(m * sizeof(*dst), MPOL_BIND, slow, 0);
	deg = (void *)map_on_node(n * sizeof(*deg), MPOL_BIND, slow, 0);
	rank = (void *)map_on_node(n * sizeof(*rank), MPOL_BIND, slow, 0);
	next = (void *)map_on_node(n * sizeof(*next), MPOL_BIND, slow, 0);
	if ((void *)off == MAP_FAILED || (void *)dst == MAP_FAILED ||
	    (void *)deg == MAP_FAILED || (void *)rank == MAP_FAILED ||
	    (void *)next == MAP_FAILED) {
		perror("nomad_pagerank: mmap on the slow node");
		return 1;
	}
	/* power-law in-degree: destinations drawn from a skewed distribution */
	for (i = 0; i < n; i++) {
		off[i] = i * 8;
		deg[i] = 8;
		rank[i] = 1.0 / n;
		next[i] = 0;
	}
	off[n] = m;
	for (e = 0; e < m; e++) {
		double u = uniform();

		dst[e] = (uint32_t)(n * (u * u * u)) % n;
	}
	unbind(off, (n + 1) * sizeof(*off));
	unbind(dst, m * sizeof(*dst));
	unbind(deg, n * sizeof(*deg));
	unbind(rank, n * sizeof(*rank));
	unbind(next, n * sizeof(*next));

	for (it = 1; it <= iters; it++) {
		double t0 = now(), *t;

		for (i = 0; i < n; i++) {
			double c = rank[i] / deg[i];

			for (e = off[i]; e < (long)off[i + 1]; e++)
				next[dst[e]] += c;
		}
		for (i = 0; i < n; i++) {
			rank[i] = 0;
			next[i] = 0.15 / n + 0.85 * next[i];
		}
		t = rank;
		rank = next;
		next = t;
		round_report("edges", it, iters, m, t0, 0, &steady);
	}
	for (i = 0; i < n; i++)
		sum += rank[i];
	printf("summary steady_mops %.3f fast_pages 0 total_pages %ld checksum %.6f\n",
	       steady, mb * 256, sum);
	return 0;
}
