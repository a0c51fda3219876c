// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD micro-benchmark, shaped like the paper's (Xiang et al., OSDI 2024,
 * section 5.1): a cold set A is written first and lands on the fast node
 * (the default policy: local node first), filling it; then the working
 * set B is written on the slow node and accessed in rounds.  Hot pages of
 * B can only move up if something (A, or other pages of B) moves down.
 *
 *   nomad_bench --mb B [--cold-mb A] [--b-policy slow|default|fast]
 *               [--access line|page-read|page-write] [--write PCT]
 *               [--order zipf|uniform] [--theta T] [--rounds R]
 *               [--accesses N] --slow-node S --fast-node F
 *
 * --b-policy: where B is first written: "slow" (bound to the slow node
 * while written, then unbound: the paper's small and medium cases),
 * "default" (no policy: fast node first, the rest on the slow node, its
 * large case with A = 0), "fast" (bound to the fast node and left bound:
 * the limit run, with NUMA balancing off).
 *
 * --access: "line" reads or writes one 8-byte word in one cache line of a
 * page (--write PCT of the accesses write), "page-read" copies the whole
 * 4 KiB page out, "page-write" writes the whole page.  --order: zipfian
 * (theta 0.99: a hot set, scattered over B by a fixed permutation) or
 * uniform page choice.
 *
 * Every page of B carries its own pattern: its first word is
 * (p << 16 | version[p]), every other byte is (7 * p + version[p]) & 0xff
 * (written with memset(), so that a whole-page write costs about as many
 * instructions as a whole-page copy); the line variant's writes add to
 * the top byte of a word, which the checks leave out.  page-read checks the first and last
 * word of every page it copies; page-write bumps the page's version; at
 * the end every word of every page of B is checked: a lost or misplaced
 * write fails the run (exit 1).
 *
 * Output, one line per round and a summary (for bench/run):
 *   round R accesses N secs S mops M stall_ms X
 *   summary steady_mops M fast_pages F total_pages P errors E
 * "stall_ms": time lost in chunks of 64 accesses that took more than 8
 * times the fastest chunk (bench_util.h).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE	4096UL
#define WORDS	(PAGE / sizeof(uint64_t))
#define CHUNK	64

#include "bench_util.h"
#include "nomad_util.h"

enum access { LINE, PAGE_READ, PAGE_WRITE };

#define LOW56	((1ULL << 56) - 1)

static uint16_t *version;

static inline uint8_t byte_of(long page)
{
	return (uint8_t)(7 * page + version[page]);
}

/* word @i of @page as written */
static inline uint64_t word_of(long page, long i)
{
	if (!i)
		return (uint64_t)page << 16 | version[page];
	return byte_of(page) * 0x0101010101010101ULL;
}

static void fill_page(uint64_t *p, long page)
{
	memset(p, byte_of(page), PAGE);
	p[0] = word_of(page, 0);
}

static void usage(void)
{
	fprintf(stderr, "usage: nomad_bench --mb B [--cold-mb A] [--b-policy slow|default|fast] "
		"[--access line|page-read|page-write] [--write PCT] [--order zipf|uniform] "
		"[--theta T] [--rounds R] [--accesses N] --slow-node S --fast-node F\n");
	exit(2);
}

static char *map(long bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("nomad_bench: mmap");
		exit(1);
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

int main(int argc, char **argv)
{
	long mb = 0, cold_mb = 0, rounds = 6, accesses = 400000, wpct = 0;
	long pages, i, r, errors = 0;
	const char *policy = "slow", *order = "zipf";
	int slow = -1, fast = -1, zipfian;
	enum access acc = LINE;
	double theta = 0.99, steady = 0;
	struct stall_clock sc = { 0 };
	uint64_t local[WORDS], sum = 0;
	long *perm, *sample;
	struct zipf z;
	char *a, *b;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];

		if (!strcmp(o, "--mb"))
			mb = atol(v);
		else if (!strcmp(o, "--cold-mb"))
			cold_mb = atol(v);
		else if (!strcmp(o, "--b-policy"))
			policy = v;
		else if (!strcmp(o, "--access"))
			acc = !strcmp(v, "line") ? LINE : !strcmp(v, "page-read") ? PAGE_READ :
			      !strcmp(v, "page-write") ? PAGE_WRITE : (usage(), LINE);
		else if (!strcmp(o, "--write"))
			wpct = atol(v);
		else if (!strcmp(o, "--order"))
			order = v;
		else if (!strcmp(o, "--theta"))
			theta = atof(v);
		else if (!strcmp(o, "--rounds"))
			rounds = atol(v);
		else if (!strcmp(o, "--accesses"))
			accesses = atol(v);
		else if (!strcmp(o, "--slow-node"))
			slow = atoi(v);
		else if (!strcmp(o, "--fast-node"))
			fast = atoi(v);
		else
			usage();
	}
	zipfian = !strcmp(order, "zipf");
	if (i != argc || mb <= 0 || cold_mb < 0 || rounds <= 0 || accesses < CHUNK ||
	    wpct < 0 || wpct > 100 || theta <= 0 || theta >= 1 || slow < 0 || fast < 0 ||
	    (!zipfian && strcmp(order, "uniform")) || mb > (32L << 10) ||
	    (strcmp(policy, "slow") && strcmp(policy, "default") && strcmp(policy, "fast")))
		usage();
	pages = mb * (1024 * 1024 / PAGE);

	/* A: written once with the default policy (fast node first), then cold */
	if (cold_mb) {
		a = map(cold_mb << 20);
		if (!strcmp(policy, "fast") && bind_to_node(a, cold_mb << 20, MPOL_BIND, fast)) {
			perror("nomad_bench: mbind A");
			return 1;
		}
		for (i = 0; i < cold_mb << 20; i += PAGE)
			memset(a + i, (int)(i / PAGE), PAGE);
	}

	/* B: where --b-policy says */
	b = map(pages * PAGE);
	version = calloc(pages, sizeof(*version));
	if (!version)
		return 1;
	if (strcmp(policy, "default") &&
	    bind_to_node(b, pages * PAGE, MPOL_BIND, !strcmp(policy, "fast") ? fast : slow)) {
		perror("nomad_bench: mbind B");
		return 1;
	}
	for (i = 0; i < pages; i++)
		fill_page((uint64_t *)(b + i * PAGE), i);
	if (!strcmp(policy, "slow"))
		unbind(b, pages * PAGE);

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
	if (zipfian) {
		zipf_init(&z, pages, theta);
		for (i = 0; i < accesses; i++)
			sample[i] = perm[zipf_next(&z)];
	} else {
		for (i = 0; i < accesses; i++)
			sample[i] = xorshift() % pages;
	}

	for (r = 1; r <= rounds; r++) {
		double t0 = now();

		stall_start(&sc);
		for (i = 0; i < accesses; i++) {
			long page = sample[i];
			uint64_t *p = (uint64_t *)(b + page * PAGE);

			switch (acc) {
			case LINE: {
				long w = (i & 63) * 8;

				if (wpct && (long)(i % 100) < wpct)
					p[w] += 1ULL << 56;	/* the unchecked top byte */
				else
					sum += p[w];
				break;
			}
			case PAGE_READ:
				memcpy(local, p, PAGE);
				if (local[0] != word_of(page, 0) ||
				    (local[WORDS - 1] & LOW56) != (word_of(page, 1) & LOW56))
					errors++;
				sum += local[(i & 63) * 8];
				break;
			case PAGE_WRITE:
				version[page]++;
				fill_page(p, page);
				break;
			}
			if ((i & (CHUNK - 1)) == CHUNK - 1)
				stall_tick(&sc);
		}
		round_report("accesses", r, rounds, accesses, t0, sc.stall, &steady);
	}

	/* every word of B, but the top byte the line variant writes to */
	for (i = 0; i < pages; i++) {
		uint64_t *p = (uint64_t *)(b + i * PAGE);
		long w;

		for (w = 0; w < (long)WORDS; w++)
			if ((p[w] & LOW56) != (word_of(i, w) & LOW56))
				errors++;
	}
	printf("summary steady_mops %.3f fast_pages %ld total_pages %ld errors %ld checksum %llu\n",
	       steady, pages_on_node(b, pages * PAGE, fast), pages, errors,
	       (unsigned long long)(sum & 0xff));
	if (errors)
		fprintf(stderr, "nomad_bench: %ld words of B lost or wrong\n", errors);
	return errors ? 1 : 0;
}
