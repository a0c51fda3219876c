// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side check of the tier model (vm-run --tier-model, see
 * qemu/README.md): measures, in guest time (CLOCK_MONOTONIC),
 *   - random 8-byte reads from a buffer bound to the fast node, to the
 *     slow node, and from a small buffer that stays in the model's cache
 *     (the cost of the loop's own instructions);
 *   - 4 KiB copies from cold pages on the slow node (in scrambled order,
 *     one new stream per page) to a hot page on the fast node, against
 *     the same copy from a hot source;
 * and prints them with what the model predicts from its numbers (HMAT
 * latency and bandwidth, cache size: /nomad/.tier-model), as
 * "tiermodel: key=value" lines that scripts/check evaluates.
 *
 *   nomad_tiermodel [MIB [READS]]     buffer size per node (32), reads (500k)
 *   nomad_tiermodel MIB READS migrate  with migration: MIB on the slow node,
 *                                      mainline promotion on, 10 rounds of
 *                                      READS random reads, guest ns per round
 *
 * With the model on, the default run ends with the vCPUs' turns (guests
 * with 2 or more CPUs): a busy loop pinned to each of CPU 0 and 1 for
 * 2 s, and a task on CPU 1 that sleeps 10 ms at a time.  Under icount the
 * vCPUs share one guest clock and run in turns; both loops must get about
 * the same work done, and the sleeper must wake within a tick or so.
 * With the model off they are skipped: the turns are the model's fix
 * (qemu/README.md, "vCPU turns"), and on Debian's QEMU a starved vCPU can
 * make the 2 s last minutes of host time (a make check run hit its
 * 300 s timeout there).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "nomad_util.h"

#define LINE 64

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* /nomad/.tier-model: key=value lines written by vm-run. */
static double conf(const char *key, double def)
{
	char line[128];
	size_t n = strlen(key);
	double v = def;
	FILE *f = fopen("/nomad/.tier-model", "r");

	if (!f)
		return def;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, n) || line[n] != '=')
			continue;
		char *end;

		v = strtod(line + n + 1, &end);
		if (*end == 'G')
			v *= 1024.0 * 1024 * 1024;	/* QEMU's suffixes: powers of 2 */
		else if (*end == 'M')
			v *= 1024.0 * 1024;
		break;
	}
	fclose(f);
	return v;
}

/* Guest ns of @reads random 8-byte reads from @buf (power-of-two @len). */
static uint64_t rand_reads(const uint64_t *buf, size_t len, long reads)
{
	uint64_t mask = len / sizeof(*buf) - 1, sum = 0, t0;
	long i;

	rng = 88172645463325252ULL;
	t0 = now_ns();
	for (i = 0; i < reads; i++)
		sum += buf[xorshift() & mask];
	__asm__ __volatile__("" : : "r"(sum) : "memory");
	return now_ns() - t0;
}

static void copy_page(uint64_t *dst, const uint64_t *src)
{
	int i;

	for (i = 0; i < 4096 / 8; i++)
		dst[i] = src[i];
	__asm__ __volatile__("" : : : "memory");
}

/* Rounds of random reads from a buffer that mainline tiering promotes. */
static int migrate(size_t len, long reads, int fast, int slow)
{
	uint64_t *b, t, total = 0;
	int r;

	write_file("/sys/kernel/mm/numa/demotion_enabled", "true");
	write_file("/proc/sys/kernel/numa_balancing", "2");
	numab_fast_scan();
	b = (uint64_t *)map_on_node(len, MPOL_BIND, slow, 1);
	if (b == MAP_FAILED || unbind(b, len)) {
		perror("nomad_tiermodel: mmap/mbind");
		return 1;
	}
	for (r = 1; r <= 10; r++) {
		t = rand_reads(b, len, reads);
		total += t;
		printf("tiermodel: round=%d ns_per_read=%.2f on_fast=%ld\n", r,
		       (double)t / reads, pages_on_node(b, len, fast));
	}
	printf("tiermodel: migrate_total_ns=%llu\n", (unsigned long long)total);
	return 0;
}

struct spinner {
	int cpu;
	volatile int *stop;
	unsigned long loops;
};

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* A loop without memory accesses: only instructions cost guest time. */
static void *spin(void *arg)
{
	struct spinner *sp = arg;
	unsigned long n = 0, x = 1;

	if (pin(sp->cpu))
		return NULL;
	while (!*sp->stop) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		n++;
	}
	__asm__ __volatile__("" : : "r"(x));
	sp->loops = n;
	return NULL;
}

/* Busy loops on CPU 0 and 1 and a sleeper on CPU 1; see the top. */
static void turns(void)
{
	struct spinner sp[2];
	volatile int stop = 0;
	double worst = 0, sum = 0;
	uint64_t t0, t1;
	pthread_t th[2];
	int i, n = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	for (i = 0; i < 2; i++) {
		sp[i] = (struct spinner){ .cpu = i, .stop = &stop };
		if (pthread_create(&th[i], NULL, spin, &sp[i]))
			return;
	}
	pin(1);
	usleep(100000);
	t0 = now_ns();
	while (now_ns() - t0 < 2000000000ULL) {
		double late;

		t1 = now_ns();
		usleep(10000);
		late = (now_ns() - t1) / 1e6 - 10;
		sum += late;
		n++;
		if (late > worst)
			worst = late;
	}
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("tiermodel: turns_cpu0=%lu turns_cpu1=%lu turns_ratio=%.4f sleeps=%d sleep_mean_late_ms=%.2f sleep_max_late_ms=%.2f\n",
	       sp[0].loops, sp[1].loops,
	       sp[0].loops && sp[1].loops ? (double)(sp[0].loops < sp[1].loops ? sp[0].loops : sp[1].loops) /
	       (sp[0].loops > sp[1].loops ? sp[0].loops : sp[1].loops) : 0,
	       n, n ? sum / n : 0, worst);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32;
	long reads = argc > 2 ? strtol(argv[2], NULL, 0) : 500000;
	size_t len = mib << 20, small = 256 << 10, i, pages;
	double lat_f = conf("fast_latency_ns", 80), lat_s = conf("slow_latency_ns", 250);
	double bw_s = conf("slow_bandwidth", 5.0 * (1 << 30));
	double cache = conf("tier_cache_kib", 2048) * 1024;
	int model = conf("tier_model", 0) > 0, fast, slow, counters;
	uint64_t t_small, t_fast, t_slow, t_hot, t_cold, ms0 = 0, mf0 = 0;
	uint64_t *bf, *bs, *bsmall, *dst, *evict;
	double c, m, miss, ncopy;

	if (len & (len - 1) || len < (4 << 20)) {
		fprintf(stderr, "nomad_tiermodel: MIB must be a power of two >= 4\n");
		return 2;
	}
	if (find_tier_nodes(&fast, &slow)) {
		fprintf(stderr, "nomad_tiermodel: no lower memory tier\n");
		return 2;
	}
	if (argc > 3 && !strcmp(argv[3], "migrate"))
		return migrate(len, reads, fast, slow);
	/* no NUMA hinting faults (nor migration) during the measurements */
	write_file("/proc/sys/kernel/numa_balancing", "0");

	bf = (uint64_t *)map_on_node(len, MPOL_BIND, fast, 1);
	bs = (uint64_t *)map_on_node(len, MPOL_BIND, slow, 1);
	bsmall = (uint64_t *)map_on_node(small, MPOL_BIND, fast, 1);
	dst = (uint64_t *)map_on_node(4096, MPOL_BIND, fast, 1);
	evict = (uint64_t *)map_on_node(4 * (size_t)cache, MPOL_BIND, fast, 1);
	if (bf == MAP_FAILED || bs == MAP_FAILED || bsmall == MAP_FAILED ||
	    dst == MAP_FAILED || evict == MAP_FAILED) {
		perror("nomad_tiermodel: mmap/mbind");
		return 1;
	}
	if (pages_on_node(bf, len, fast) != (long)(len / 4096) ||
	    pages_on_node(bs, len, slow) != (long)(len / 4096)) {
		fprintf(stderr, "nomad_tiermodel: buffers not on their nodes\n");
		return 1;
	}

	rand_reads(bsmall, small, reads / 10);		/* warm: all hits after */
	t_small = rand_reads(bsmall, small, reads);
	t_fast = rand_reads(bf, len, reads);
	/* the model's own count of what the slow loop missed, per node */
	counters = tier_nodes() > (unsigned int)(fast > slow ? fast : slow);
	if (counters) {
		ms0 = tier_counter(slow, TIER_MISSES);
		mf0 = tier_counter(fast, TIER_MISSES);
	}
	t_slow = rand_reads(bs, len, reads);
	if (counters) {
		ms0 = tier_counter(slow, TIER_MISSES) - ms0;
		mf0 = tier_counter(fast, TIER_MISSES) - mf0;
	}

	/* 4 KiB copies: hot source vs cold slow-node pages (cache flushed) */
	pages = len / 2 / 4096;
	copy_page(dst, bsmall);
	t_hot = now_ns();
	for (i = 0; i < pages; i++)
		copy_page(dst, bsmall + (i % 16) * 512);
	t_hot = now_ns() - t_hot;
	memset(evict, 2, 4 * (size_t)cache);
	/*
	 * In a scrambled page order: pages that follow each other in guest
	 * physical memory would continue one next-line stream (the first
	 * line of the next page is the next line), and whether they do
	 * depends on the guest's page allocator.
	 */
	t_cold = now_ns();
	for (i = 0; i < pages; i++)
		copy_page(dst, bs + (i * 1237 % pages) * 512);
	t_cold = now_ns() - t_cold;

	/*
	 * The model's prediction: the small buffer costs only instructions
	 * (c per read); a random read from a big buffer misses with
	 * probability m = 1 - cache / buffer and then pays its node's latency.
	 * A cold 4 KiB copy misses on 64 lines: the first pays the latency,
	 * the next 63 continue a next-line stream and pay 64 B / bandwidth.
	 */
	c = (double)t_small / reads;
	m = model ? 1 - cache / len : 0;	/* model off: no charges at all */
	miss = model ? lat_s + 63 * LINE / bw_s * 1e9 : 0;
	ncopy = ((double)t_cold - t_hot) / pages;
	printf("tiermodel: model=%d buffer_mib=%zu reads=%ld cache_kib=%.0f\n",
	       model, mib, reads, cache / 1024);
	printf("tiermodel: clock=CLOCK_MONOTONIC (%s%s)\n",
	       conf("icount", 0) > 0 ? "icount: guest instructions" : "real time",
	       model ? (conf("icount", 0) > 0 ? " + tier model charges" :
			" + tier model delays") : "");
	printf("tiermodel: small_ns_per_read=%.2f fast_ns_per_read=%.2f slow_ns_per_read=%.2f\n",
	       c, (double)t_fast / reads, (double)t_slow / reads);
	printf("tiermodel: ratio=%.4f predicted_ratio=%.4f predicted_fast=%.2f predicted_slow=%.2f\n",
	       (double)t_slow / t_fast, (c + m * lat_s) / (c + m * lat_f),
	       c + m * lat_f, c + m * lat_s);
	printf("tiermodel: copy4k_extra_ns=%.1f predicted_copy4k_ns=%.1f size_over_bw_ns=%.1f lines_times_latency_ns=%.0f\n",
	       ncopy, miss, 4096 / bw_s * 1e9, 64 * lat_s);
	printf("tiermodel: counters=%d slow_loop_slow_misses=%llu slow_loop_fast_misses=%llu predicted_misses=%.0f\n",
	       counters, (unsigned long long)ms0, (unsigned long long)mf0, reads * m);
	printf("tiermodel: slow_total_ns=%llu fast_total_ns=%llu copy_total_ns=%llu\n",
	       (unsigned long long)t_slow, (unsigned long long)t_fast,
	       (unsigned long long)t_cold);
	fflush(stdout);
	if (model)
		turns();
	return 0;
}
