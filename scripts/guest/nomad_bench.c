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
 * Output, one line per round and a summary (for scripts/bench):
 *   round R accesses A secs S mops M stall_ms X
 *   summary steady_mops M fast_pages F total_pages P
 * "stall_ms" adds up the excess time of chunks of 64 accesses that took
 * more than 8 times the fastest chunk seen (plus 20 us): time the
 * application lost to faults and migration waits.
 */
#define _GNU_SOURCE
#include <math.h>
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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static inline uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline double uniform(void)
{
	return (xorshift() >> 11) * (1.0 / 9007199254740992.0);
}

/* Zipfian ranks in [0, n), Gray et al. (as in YCSB). */
struct zipf {
	double theta, alpha, zetan, eta;
	long n;
};

static void zipf_init(struct zipf *z, long n, double theta)
{
	double zeta2 = 1 + pow(0.5, theta);
	long i;

	z->n = n;
	z->theta = theta;
	z->zetan = 0;
	for (i = 1; i <= n; i++)
		z->zetan += 1 / pow((double)i, theta);
	z->alpha = 1 / (1 - theta);
	z->eta = (1 - pow(2.0 / n, 1 - theta)) / (1 - zeta2 / z->zetan);
}

static long zipf_next(struct zipf *z)
{
	double u = uniform(), uz = u * z->zetan;
	long r;

	if (uz < 1)
		return 0;
	if (uz < 1 + pow(0.5, z->theta))
		return 1;
	r = (long)(z->n * pow(z->eta * u - z->eta + 1, z->alpha));
	return r < z->n ? r : z->n - 1;
}

static long pages_on_node(char *buf, long pages, int node)
{
	long i, n = 0, batch = 4096;
	void **p = malloc(batch * sizeof(void *));
	int *st = malloc(batch * sizeof(int));

	for (i = 0; i < pages; i += batch) {
		long k, m = pages - i < batch ? pages - i : batch;

		for (k = 0; k < m; k++)
			p[k] = buf + (i + k) * PAGE;
		if (syscall(SYS_move_pages, 0, m, p, NULL, st, 0))
			continue;
		for (k = 0; k < m; k++)
			n += st[k] == node;
	}
	free(p);
	free(st);
	return n;
}

static int bind(char *buf, size_t len, int mode, int node)
{
	unsigned long mask[2] = { 0 };

	if (node < 0)
		return syscall(SYS_mbind, buf, len, 0, NULL, 0, 0);
	mask[node / 64] = 1UL << (node % 64);
	return syscall(SYS_mbind, buf, len, mode, mask, 128, 0);
}

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
	double theta = 0.99, steady = 0, best = 1;
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
	if (bind(buf, pages * PAGE, 2 /* MPOL_BIND */, slow)) {
		perror("nomad_bench: mbind");
		return 1;
	}
	for (i = 0; i < pages; i++)
		memset(buf + i * PAGE, (int)i, PAGE);
	bind(buf, pages * PAGE, 0, -1);

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
		double t0 = now(), tc = t0, stall = 0, t1;

		for (i = 0; i < accesses; i++) {
			long page = perm[(sample[i] + off) % pages];
			uint64_t *p = (uint64_t *)(buf + page * PAGE + (i & 63) * 64);

			if (wpct && (long)(i % 100) < wpct)
				*p += 1;
			else
				sum += *p;
			if ((i & (CHUNK - 1)) == CHUNK - 1) {
				double t = now();

				if (t - tc < best)
					best = t - tc;
				else if (t - tc > 8 * best + 20e-6)
					stall += t - tc - best;
				tc = t;
			}
		}
		t1 = now();
		printf("round %ld accesses %ld secs %.4f mops %.3f stall_ms %.1f\n",
		       r, accesses, t1 - t0, accesses / (t1 - t0) / 1e6, stall * 1e3);
		fflush(stdout);
		if (r > rounds - 3)
			steady += accesses / (t1 - t0) / 1e6 / (rounds < 3 ? rounds : 3);
	}
	printf("summary steady_mops %.3f fast_pages %ld total_pages %ld checksum %llu\n",
	       steady, pages_on_node(buf, pages, fast), pages,
	       (unsigned long long)(sum & 0xff));
	return 0;
}
