// SPDX-License-Identifier: GPL-2.0
/*
 * Hint-fault service time as the application sees it.
 *
 *   nomad_faultlat MIB SECONDS [r|w|W]
 *
 * Places MIB MiB on the slowest node, then reads (r) or writes (w) one word
 * per page, in order, timing every access, until 90 % of the pages are on
 * the fast node or SECONDS passed.  W: reads, while a second thread keeps
 * writing random pages of the buffer (a write-heavy workload).  The accesses that took a NUMA hinting fault are the
 * slowest ones: with N = the number of hint faults taken during the run
 * (numa_hint_faults in /proc/vmstat), it prints the median, p90 and p99 of
 * the N slowest access times, i.e. of the time the task spent in the fault
 * path, including any migration it did there.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nomad_util.h"

static int cmp_u32_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static uint64_t ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static volatile int stop;
static char *wbuf;
static size_t wpages;

static void *writer(void *arg)
{
	unsigned int seed = 7;

	while (!stop)
		wbuf[(rand_r(&seed) % wpages) * NOMAD_PAGE_SIZE + 8]++;
	return NULL;
}

int main(int argc, char **argv)
{
	char mode = argc > 3 ? argv[3][0] : 'r';
	double stall = 0;
	size_t nstall = 0;
	pthread_t th;
	size_t len, pages, i, n = 0, cap, nfaults;
	long long f0, f1, p0, p1;
	double t0, secs;
	int fast, slow;
	uint32_t *lat;
	char *buf;

	if (argc < 3 || argc > 4 || !strchr("rwW", mode)) {
		fprintf(stderr, "usage: nomad_faultlat MIB SECONDS [r|w|W]\n");
		return 2;
	}
	len = (size_t)atol(argv[1]) << 20;
	secs = atof(argv[2]);
	pages = len / NOMAD_PAGE_SIZE;
	if (!pages || secs <= 0 || find_tier_nodes(&fast, &slow)) {
		fprintf(stderr, "nomad_faultlat: bad arguments or no lower memory tier\n");
		return 2;
	}
	cap = pages * 64;
	lat = malloc(cap * sizeof(*lat));
	buf = map_on_node(len, MPOL_BIND, slow, 1);
	if (!lat || buf == MAP_FAILED || unbind(buf, len)) {
		perror("nomad_faultlat");
		return 1;
	}
	wbuf = buf;
	wpages = pages;
	if (mode == 'W' && pthread_create(&th, NULL, writer, NULL)) {
		perror("nomad_faultlat: pthread_create");
		return 1;
	}
	f0 = vmstat_get("numa_hint_faults");
	p0 = vmstat_get("pgpromote_success");
	t0 = now_sec();
	while (now_sec() - t0 < secs && n + pages <= cap) {
		for (i = 0; i < pages; i++) {
			uint64_t a = ns();

			if (mode == 'w')
				(*(volatile char *)(buf + i * NOMAD_PAGE_SIZE))++;
			else
				*(volatile char *)(buf + i * NOMAD_PAGE_SIZE);
			lat[n++] = ns() - a;
		}
		if (pages_on_node(buf, len, fast) >= (long)pages * 9 / 10)
			break;
	}
	stop = 1;
	if (mode == 'W')
		pthread_join(th, NULL);
	f1 = vmstat_get("numa_hint_faults");
	/* time the reading task spent in accesses slower than 10 us */
	for (i = 0; i < n; i++) {
		if (lat[i] > 10000) {
			stall += lat[i] / 1e6;
			nstall++;
		}
	}
	p1 = vmstat_get("pgpromote_success");
	nfaults = f1 - f0 < (long long)n ? f1 - f0 : n;
	qsort(lat, n, sizeof(*lat), cmp_u32_desc);
	printf("accesses %zu hint_faults %zu promoted %lld on_fast %ld/%zu time %.2f s stalls %zu = %.1f ms",
	       n, nfaults, p1 - p0, pages_on_node(buf, len, fast), pages, now_sec() - t0,
	       nstall, stall);
	if (nfaults)
		printf(" fault_us median %.1f p90 %.1f p99 %.1f",
		       lat[nfaults / 2] / 1000.0, lat[nfaults / 10] / 1000.0,
		       lat[nfaults / 100] / 1000.0);
	printf("\n");
	return 0;
}
