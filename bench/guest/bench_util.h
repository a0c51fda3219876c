/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the NOMAD benchmark drivers: a monotonic clock, a xorshift
 * generator (fixed seed, so every mode replays the same sequence; a driver
 * may set another seed before its first use), zipfian ranks after Gray et
 * al., "Quickly generating billion-record synthetic databases" (the
 * generator YCSB uses), and the per-round report bench/guest/bench.sh
 * reads.
 */
#ifndef NOMAD_BENCH_UTIL_H
#define NOMAD_BENCH_UTIL_H

#include <cpuid.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double now(void)
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

/* Zipfian ranks in [0, n): rank 0 is the most popular. */
struct zipf {
	double theta, alpha, zetan, eta;
	long n;
};

static inline void zipf_init(struct zipf *z, long n, double theta)
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

static inline long zipf_next(struct zipf *z)
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

/*
 * Stall accounting: call stall_tick() after every chunk of work; chunks
 * that take more than 8 times the fastest one seen (plus 20 us) add their
 * excess to *stall: time the application lost to faults and migration.
 */
struct stall_clock {
	double best, last, stall;
};

static inline void stall_start(struct stall_clock *c)
{
	if (!c->best)
		c->best = 1;
	c->last = now();
	c->stall = 0;
}

static inline void stall_tick(struct stall_clock *c)
{
	double t = now();

	if (t - c->last < c->best)
		c->best = t - c->last;
	else if (t - c->last > 8 * c->best + 20e-6)
		c->stall += t - c->last - c->best;
	c->last = t;
}

/*
 * Print round @r of @rounds, @n units of work (@unit: "accesses", "ops",
 * ...) since @t0, and add its throughput to *steady, the mean of the last
 * three rounds.
 */
static inline void round_report(const char *unit, long r, long rounds, long n,
				double t0, double stall, double *steady)
{
	double secs = now() - t0, mops = n / secs / 1e6;

	printf("round %ld %s %ld secs %.4f mops %.4f stall_ms %.1f\n",
	       r, unit, n, secs, mops, stall * 1e3);
	fflush(stdout);
	if (r > rounds - 3)
		*steady += mops / (rounds < 3 ? rounds : 3);
}

/*
 * The tier model's per-node counters (qemu/README.md), through its CPUID
 * leaves: tier_nodes() is the number of nodes, 0 without the model;
 * tier_counter() is counter @k of @node: 0 line lookups, 1 misses,
 * 2 streamed misses, 3 ns charged.
 */
#define TIER_CPUID_BASE	0x4e4d0000u
enum { TIER_LOOKUPS, TIER_MISSES, TIER_STREAMED, TIER_CHARGED_NS };

static inline unsigned int tier_nodes(void)
{
	unsigned int nodes, b, c, d;
	char sig[12];

	__cpuid_count(TIER_CPUID_BASE, 0, nodes, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	return memcmp(sig, "NOMADTIERMDL", 12) ? 0 : nodes;
}

static inline uint64_t tier_counter(unsigned int node, unsigned int k)
{
	unsigned int a, b, c, d;

	__cpuid_count(TIER_CPUID_BASE + 1, node * 4 + k, a, b, c, d);
	return (uint64_t)d << 32 | a;
}

#endif
