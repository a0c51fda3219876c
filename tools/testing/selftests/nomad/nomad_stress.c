// SPDX-License-Identifier: GPL-2.0
/*
 * Integrity stress: threads and forked processes read, write and churn
 * (mprotect, mremap, munmap, MADV_DONTNEED/COLD/PAGEOUT, fork) their own
 * memory while promotion and demotion run hard - the working set does not
 * fit in the fast node, pages start on the slow node, the scanner runs
 * every 100 ms - and a toggler switches every NOMAD knob at random.  Every
 * word of a page holds (owner, page index, generation): a stale or lost
 * write shows up as a wrong word.  Afterwards nothing may be left behind:
 * no isolated pages, no queued folios, no shadows, free memory back.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define DEMOTION	"/sys/kernel/mm/numa/demotion_enabled"
#define MIB		(1024UL * 1024)
#define WORDS		(NOMAD_PAGE_SIZE / sizeof(uint64_t))
#define REGION		(16 * MIB)
#define NPAGES		(REGION / NOMAD_PAGE_SIZE)
#define NTHREADS	3
#define NPROCS		2
#define SECONDS		30
#define GEN_MASK	((1UL << 20) - 1)

/* What every worker reports, in memory shared with the test. */
struct stats {
	long ops, writes, verifies, churn, forks, moves, bad_words, bad_pages;
};

struct worker {
	int id, proc;
	int *go;		/* set when every thread exists */
	char *base, *alt;	/* region, and the other address for mremap */
	uint32_t gen[NPAGES];	/* 0: the page reads as zeroes */
	unsigned int seed;
	struct stats *st;
	int *stop;		/* read with __atomic_load_n() */
};

static inline uint64_t word(int id, size_t i, uint32_t gen)
{
	return gen ? (uint64_t)id << 48 | (uint64_t)i << 20 | gen : 0;
}

/* Check page @i holds generation w->gen[i]; count bad words. */
static long verify(struct worker *w, size_t i)
{
	const uint64_t *p = (const uint64_t *)(w->base + i * NOMAD_PAGE_SIZE);
	uint64_t want = word(w->id, i, w->gen[i]);
	long bad = 0;
	size_t k;

	for (k = 0; k < WORDS; k++)
		bad += p[k] != want;
	w->st->verifies++;
	if (bad) {
		w->st->bad_pages++;
		w->st->bad_words += bad;
	}
	return bad;
}

static void write_page(struct worker *w, size_t i)
{
	uint64_t *p = (uint64_t *)(w->base + i * NOMAD_PAGE_SIZE);
	uint64_t v;
	size_t k;

	verify(w, i);
	w->gen[i] = (w->gen[i] + 1) & GEN_MASK;
	if (!w->gen[i])
		w->gen[i] = 1;
	v = word(w->id, i, w->gen[i]);
	for (k = 0; k < WORDS; k++)
		p[k] = v;
	w->st->writes++;
}

/* A child of a process worker: its copy-on-write view must be right too. */
static void fork_child(struct worker *w)
{
	struct stats mine = { 0 };
	int n;

	w->st = &mine;
	for (n = 0; n < 16; n++) {
		size_t i = rand_r(&w->seed) % NPAGES;

		write_page(w, i);
		verify(w, i);
	}
	_exit(mine.bad_pages ? 1 : 0);
}

static void churn(struct worker *w)
{
	size_t first = rand_r(&w->seed) % NPAGES, n = 1 + rand_r(&w->seed) % 64, i;
	char *p;

	if (first + n > NPAGES)
		n = NPAGES - first;
	p = w->base + first * NOMAD_PAGE_SIZE;
	w->st->churn++;
	switch (rand_r(&w->seed) % 7) {
	case 0:	/* read-only for a while, then writable again */
		mprotect(p, n * NOMAD_PAGE_SIZE, PROT_READ);
		for (i = first; i < first + n; i++)
			verify(w, i);
		mprotect(p, n * NOMAD_PAGE_SIZE, PROT_READ | PROT_WRITE);
		break;
	case 1:
		madvise(p, n * NOMAD_PAGE_SIZE, MADV_COLD);
		break;
	case 2:
		madvise(p, n * NOMAD_PAGE_SIZE, MADV_PAGEOUT);
		break;
	case 3:	/* the pages are gone: they read as zeroes */
		madvise(p, n * NOMAD_PAGE_SIZE, MADV_DONTNEED);
		for (i = first; i < first + n; i++)
			w->gen[i] = 0;
		break;
	case 4:	/* unmap and map again: zeroes too */
		munmap(p, n * NOMAD_PAGE_SIZE);
		if (mmap(p, n * NOMAD_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p) {
			w->st->bad_pages++;
			return;
		}
		madvise(p, n * NOMAD_PAGE_SIZE, MADV_NOHUGEPAGE);
		for (i = first; i < first + n; i++)
			w->gen[i] = 0;
		break;
	case 5:	/* move the whole region to the other address and back later */
		p = mremap(w->base, REGION, REGION, MREMAP_MAYMOVE | MREMAP_FIXED, w->alt);
		if (p == MAP_FAILED) {
			/* EFAULT: mprotect/munmap split the region in VMAs */
			if (errno != EFAULT)
				w->st->bad_pages++;
			return;
		}
		w->st->moves++;
		/* keep the old place reserved: MREMAP_FIXED will replace it */
		if (mmap(w->base, REGION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_FIXED | MAP_NORESERVE, -1, 0) != w->base)
			w->st->bad_pages++;
		w->alt = w->base;
		w->base = p;
		break;
	default:
		if (w->proc) {
			pid_t pid = fork();

			if (!pid)
				fork_child(w);
			if (pid > 0)
				w->st->forks++;
		}
		break;
	}
}

static void run_worker(struct worker *w)
{
	int status;
	pid_t pid;
	size_t i;

	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		int op = rand_r(&w->seed) % 100;

		i = rand_r(&w->seed) % NPAGES;
		if (op < 50)
			write_page(w, i);
		else if (op < 97)
			verify(w, i);
		else
			churn(w);
		w->st->ops++;
		while (w->proc && (pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				w->st->bad_pages++;
	}
	for (i = 0; i < NPAGES; i++)
		verify(w, i);
	while (w->proc && (pid = wait(&status)) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			w->st->bad_pages++;
}

static void *thread_fn(void *arg)
{
	struct worker *w = arg;

	/*
	 * Wait until every thread (and its stack) exists: a stack must not
	 * land in the hole an mremap() leaves for a moment.
	 */
	while (!__atomic_load_n(w->go, __ATOMIC_ACQUIRE))
		usleep(1000);
	run_worker(w);
	return NULL;
}

/* Map the region on the slow node (so that it must be promoted) and fill it. */
static int setup_worker(struct worker *w, int id, int slow, struct stats *st,
			int *stop)
{
	char *two = mmap(NULL, 2 * REGION, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (two == MAP_FAILED)
		return -1;
	w->id = id;
	w->base = two;
	w->alt = two + REGION;
	w->seed = 1000 + id;
	w->st = st;
	w->stop = stop;
	if (madvise(two, 2 * REGION, MADV_NOHUGEPAGE) ||
	    bind_to_node(w->base, REGION, MPOL_BIND, slow))
		return -1;
	for (i = 0; i < NPAGES; i++) {
		w->gen[i] = 0;
		write_page(w, i);
	}
	return unbind(w->base, REGION);
}

struct toggler {
	int *stop;
	long toggles;
};

/* Switch the knobs at random, with valid values only. */
static void *toggler_fn(void *arg)
{
	struct toggler *t = arg;
	unsigned int seed = 7;
	char path[128];

	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED)) {
		size_t k = rand_r(&seed) % NOMAD_ARRAY_SIZE(nomad_knob_ranges);
		const struct nomad_knob_range *r = &nomad_knob_ranges[k];
		long v = r->min + rand_r(&seed) % (r->max - r->min + 1L);

		/* keep the queue usable: at least a few entries */
		if (!strcmp(r->name, "nomad_promote_queue_max"))
			v = 16 + v % 8192;
		knob_path(path, sizeof(path), r->name);
		if (!write_long(path, v))
			t->toggles++;
		usleep(10000 + rand_r(&seed) % 40000);
	}
	return NULL;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
	char path[128];
	size_t i;

	/* every knob back to its boot default */
	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_knob_ranges); i++) {
		knob_path(path, sizeof(path), nomad_knob_ranges[i].name);
		write_long(path, nomad_knob_ranges[i].def);
	}
}

TEST_F_TIMEOUT(stress, no_lost_write_under_churn_and_toggles, 240)
{
	long long c0[10], c1[10];
	static const char * const cnt[10] = {
		"pgpromote_success", "pgdemote_kswapd", "pgdemote_direct",
		"nomad_tpm_commit", "nomad_tpm_abort_dirty",
		"nomad_shadow_create", "nomad_shadow_demote_remap",
		"nomad_promote_success", "numa_hint_faults", "pgpromote_candidate",
	};
	struct worker *w;
	struct stats *st, sum = { 0 };
	struct toggler tog = { 0 };
	pthread_t th[NTHREADS], tt;
	long free0[2], free1[2], min, saved_nb, hog_len;
	int *stop, go = 0;
	char saved_demotion[16] = "", *hog;
	int fast, slow, ok, i, status;
	pid_t pids[NPROCS];
	double t0;

	if (find_tier_nodes(&fast, &slow))
		SKIP(return, "platform has no lower memory tier");
	saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);
	ASSERT_LT(0, read_file(DEMOTION, saved_demotion, sizeof(saved_demotion)));
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	ASSERT_EQ(0, vmstat_get("nr_isolated_anon"));
	ASSERT_EQ(0, node_pages(fast, &free0[0], &min));
	ASSERT_EQ(0, node_pages(slow, &free0[1], &min));

	st = mmap(NULL, (NTHREADS + NPROCS) * sizeof(*st) + sizeof(int),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	stop = (int *)(st + NTHREADS + NPROCS);
	w = mmap(NULL, (NTHREADS + NPROCS) * sizeof(*w), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, w);

	/*
	 * Demotion on before the hog: a kswapd woken while it cannot demote
	 * gives up on the node after 16 passes and is not woken again when
	 * demotion is enabled later (node_unreclaimable), which leaves the
	 * run without demotion.
	 */
	ASSERT_EQ(0, write_file(DEMOTION, "true"));
	/*
	 * Leave less fast memory than the working set: pages must move.  The
	 * hog is mlocked, so reclaim cannot make room by demoting it.
	 */
	hog_len = (node_free_kb(fast) / 1024 - (NTHREADS + NPROCS) * REGION / MIB / 2) * MIB;
	ASSERT_LT(0, hog_len);
	hog = map_on_node(hog_len, MPOL_BIND, fast, 0x11);
	ASSERT_NE(MAP_FAILED, hog);
	ASSERT_EQ(0, mlock(hog, hog_len));

	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, setup_worker(&w[i], i + 1, slow, &st[i], stop));

	numab_fast_scan();
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	ASSERT_EQ(0, nomad_set_switches(1));
	for (i = 0; i < 10; i++)
		c0[i] = vmstat_get(cnt[i]);

	for (i = 0; i < NPROCS; i++) {
		struct worker *pw = &w[NTHREADS + i];

		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			/* a process worker owns memory only it maps */
			if (setup_worker(pw, NTHREADS + i + 1, slow, &st[NTHREADS + i], stop))
				_exit(2);
			pw->proc = 1;
			run_worker(pw);
			_exit(0);
		}
	}
	tog.stop = stop;
	ASSERT_EQ(0, pthread_create(&tt, NULL, toggler_fn, &tog));
	for (i = 0; i < NTHREADS; i++) {
		w[i].go = &go;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thread_fn, &w[i]));
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);

	t0 = now_sec();
	while (now_sec() - t0 < SECONDS)
		usleep(200000);
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	pthread_join(tt, NULL);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NPROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < 10; i++)
		c1[i] = vmstat_get(cnt[i]);
	ASSERT_EQ(0, nomad_set_switches(0));
	write_long("/proc/sys/vm/nomad_promote_queue_max", 16384);

	for (i = 0; i < NTHREADS + NPROCS; i++) {
		sum.ops += st[i].ops;
		sum.writes += st[i].writes;
		sum.verifies += st[i].verifies;
		sum.churn += st[i].churn;
		sum.forks += st[i].forks;
		sum.moves += st[i].moves;
		sum.bad_pages += st[i].bad_pages;
		sum.bad_words += st[i].bad_words;
	}
	TH_LOG("%d s, %d threads + %d procs: %ld ops (%ld writes, %ld checks, %ld churn, %ld fork)",
	       SECONDS, NTHREADS, NPROCS, sum.ops, sum.writes, sum.verifies, sum.churn,
	       sum.forks);
	TH_LOG("%ld mremap moves, %ld knob writes", sum.moves, tog.toggles);
	TH_LOG("promoted %lld (async %lld), demoted %lld, tpm %lld/%lld abort, shadow %lld/%lld",
	       c1[0] - c0[0], c1[7] - c0[7], c1[1] - c0[1] + c1[2] - c0[2],
	       c1[3] - c0[3], c1[4] - c0[4], c1[5] - c0[5], c1[6] - c0[6]);
	TH_LOG("hint faults %lld, promotion candidates %lld", c1[8] - c0[8], c1[9] - c0[9]);
	TH_LOG("corrupted: %ld pages, %ld words", sum.bad_pages, sum.bad_words);
	EXPECT_EQ(0, sum.bad_pages);
	EXPECT_EQ(0, sum.bad_words);
	EXPECT_LT(1000, sum.ops);
	/*
	 * Pages must have crossed tiers.  Demotions are certain (the hog
	 * leaves less room than the workers use); promotions only have to
	 * be tried: whether a candidate finds room above the fast node's
	 * watermark is a race with kswapd (on the debug kernel, 289 of 6,299
	 * candidates in one run, none in another).  Promotion itself is
	 * checked by the tpp, async and tpm tests.
	 */
	EXPECT_LT(0, c1[9] - c0[9]);
	EXPECT_LT(0, c1[1] - c0[1] + c1[2] - c0[2]);
	EXPECT_LT(10, tog.toggles);

	/* nothing left behind */
	munmap(hog, hog_len);
	for (i = 0; i < NTHREADS; i++)
		munmap(w[i].base < w[i].alt ? w[i].base : w[i].alt, 2 * REGION);
	write_long(NUMA_BALANCING, saved_nb);
	write_file(DEMOTION, saved_demotion);
	usleep(500000);
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	ASSERT_EQ(0, node_pages(fast, &free1[0], &min));
	ASSERT_EQ(0, node_pages(slow, &free1[1], &min));
	TH_LOG("after: isolated anon %lld file %lld, queued %ld, shadows %lld",
	       vmstat_get("nr_isolated_anon"), vmstat_get("nr_isolated_file"),
	       kpromoted_queued(), vmstat_get("nr_nomad_shadow"));
	TH_LOG("free pages: node %d %ld -> %ld, node %d %ld -> %ld",
	       fast, free0[0], free1[0], slow, free0[1], free1[1]);
	EXPECT_EQ(0, vmstat_get("nr_isolated_anon"));
	EXPECT_EQ(0, vmstat_get("nr_isolated_file"));
	EXPECT_EQ(0, kpromoted_queued());
	EXPECT_EQ(0, vmstat_get("nr_nomad_shadow"));
	/*
	 * Within 32 MiB per node: page tables, slab and per-CPU caches, and
	 * on a KASAN kernel the quarantine of freed objects.
	 */
	EXPECT_GE(8192, free0[0] - free1[0]);
	EXPECT_GE(8192, free0[1] - free1[1]);
}

TEST_HARNESS_MAIN
