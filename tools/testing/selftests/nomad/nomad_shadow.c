// SPDX-License-Identifier: GPL-2.0
/*
 * Page shadowing (vm.nomad_shadow): a promoted page keeps its slow-tier
 * copy until it is written; demoting a clean page is a remap, not a copy;
 * a write (even one that mprotect, fork or /proc/pid/mem lets through)
 * drops the copy, so demotion never brings stale data back; shadows go
 * first when the slow tier is short of memory, when the page is freed and
 * when the knob is cleared.
 *
 * Every page of a test buffer holds (page index << 32 | generation) in all
 * of its words, so a stale page is recognised by its generation.
 */
#include <stdint.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define DEMOTION	"/sys/kernel/mm/numa/demotion_enabled"
#define SHADOW		"/proc/sys/vm/nomad_shadow"
#define MIB		(1024UL * 1024)
#define WORDS		(NOMAD_PAGE_SIZE / sizeof(uint64_t))
#define BUF_LEN		(32 * MIB)
#define PAGES(len)	((long)((len) / NOMAD_PAGE_SIZE))

struct shadow_counts {
	long long create, remap, broken, reclaim, freed, nr;
	long long promoted, demoted, oom;
};

/* Fold the per-CPU deltas of node counters (nr_nomad_shadow) in. */
static void vmstat_refresh(void)
{
	write_file("/proc/sys/vm/stat_refresh", "1");
}

static void shadow_counts(struct shadow_counts *c)
{
	vmstat_refresh();
	c->create = vmstat_get("nomad_shadow_create");
	c->remap = vmstat_get("nomad_shadow_demote_remap");
	c->broken = vmstat_get("nomad_shadow_break_write");
	c->reclaim = vmstat_get("nomad_shadow_reclaim");
	c->freed = vmstat_get("nomad_shadow_free");
	c->nr = vmstat_get("nr_nomad_shadow");
	c->promoted = vmstat_get("pgpromote_success");
	c->demoted = vmstat_get("pgdemote_kswapd") + vmstat_get("pgdemote_direct");
	c->oom = vmstat_get("oom_kill");
}

static void shadow_delta(struct shadow_counts *d, const struct shadow_counts *a)
{
	struct shadow_counts b;

	shadow_counts(&b);
	d->create = b.create - a->create;
	d->remap = b.remap - a->remap;
	d->broken = b.broken - a->broken;
	d->reclaim = b.reclaim - a->reclaim;
	d->freed = b.freed - a->freed;
	d->nr = b.nr;
	d->promoted = b.promoted - a->promoted;
	d->demoted = b.demoted - a->demoted;
	d->oom = b.oom - a->oom;
}

static void log_delta(struct __test_metadata *_metadata, const struct shadow_counts *d)
{
	TH_LOG("new %lld remap %lld wbreak %lld recl %lld free %lld now %lld; prom %lld dem %lld",
	       d->create, d->remap, d->broken, d->reclaim, d->freed, d->nr,
	       d->promoted, d->demoted);
}

FIXTURE(shadow) {
	int fast, slow;
	long saved_nb;
	char saved_demotion[16];
	struct shadow_counts before;
};

FIXTURE_SETUP(shadow)
{
	int ok;

	if (find_tier_nodes(&self->fast, &self->slow))
		SKIP(return, "platform has no lower memory tier");
	self->saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);
	ASSERT_LT(0, read_file(DEMOTION, self->saved_demotion,
			       sizeof(self->saved_demotion)));
	ASSERT_EQ(0, write_file(DEMOTION, "true"));
	/* full NOMAD: kpromoted, transactional copies, shadows */
	ASSERT_EQ(0, nomad_set_switches(1));
	numab_fast_scan();
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	/* the previous test left nothing behind */
	vmstat_refresh();
	ASSERT_EQ(0, vmstat_get("nr_nomad_shadow"));
	shadow_counts(&self->before);
}

FIXTURE_TEARDOWN(shadow)
{
	nomad_set_switches(0);
	write_long(NUMA_BALANCING, self->saved_nb);
	write_file(DEMOTION, self->saved_demotion);
}

static void fill_gen(char *buf, size_t len, uint32_t gen)
{
	long i;
	size_t k;

	for (i = 0; i < PAGES(len); i++) {
		uint64_t *p = (uint64_t *)(buf + i * NOMAD_PAGE_SIZE);

		for (k = 0; k < WORDS; k++)
			p[k] = (uint64_t)i << 32 | gen;
	}
}

/* Pages [from, to) of @buf that do not hold generation @gen everywhere. */
static long bad_range(const char *buf, long from, long to, uint32_t gen)
{
	long i, bad = 0;
	size_t k;

	for (i = from; i < to; i++) {
		const uint64_t *p = (const uint64_t *)(buf + i * NOMAD_PAGE_SIZE);

		for (k = 0; k < WORDS; k++) {
			if (p[k] != ((uint64_t)i << 32 | gen)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

static long bad_pages(const char *buf, size_t len, uint32_t gen)
{
	return bad_range(buf, 0, PAGES(len), gen);
}

/*
 * A buffer written on the slow node (generation 1), then read until it is
 * promoted: its pages are masters with shadows.  Returns MAP_FAILED if the
 * buffer could not be placed or promoted.
 */
static char *shadowed_buffer(int fast, int slow, size_t len)
{
	char *buf = map_on_node(len, MPOL_BIND, slow, 0);

	if (buf == MAP_FAILED)
		return buf;
	fill_gen(buf, len, 1);
	if (unbind(buf, len) ||
	    read_until_promoted(buf, len, fast, 60) < PAGES(len) * 9 / 10) {
		munmap(buf, len);
		return MAP_FAILED;
	}
	return buf;
}

/* Wait up to @secs for kpromoted and pending shadows to settle. */
static long long nr_shadows_settled(double secs)
{
	double t0 = now_sec();
	long long nr, prev = -1;

	vmstat_refresh();
	nr = vmstat_get("nr_nomad_shadow");
	while (nr != prev && now_sec() - t0 < secs) {
		usleep(200000);
		prev = nr;
		vmstat_refresh();
		nr = vmstat_get("nr_nomad_shadow");
	}
	return nr;
}

/*
 * Fill the fast node with memory bound to it, @extra MiB more than it has
 * free, so that reclaim demotes older pages; then give it back.
 */
static int fast_pressure(int fast, long extra_mib)
{
	long free_kb = node_free_kb(fast);
	size_t len;
	char *fill;

	if (free_kb <= 0)
		return -1;
	len = (free_kb / 1024 + extra_mib) * MIB;
	fill = map_on_node(len, MPOL_BIND, fast, 0x3c);
	if (fill == MAP_FAILED)
		return -1;
	munmap(fill, len);
	return 0;
}

/*
 * (a) Read-mostly pages promoted, then fast-tier pressure: the demotions
 * of our pages are remaps to their shadows, and the data is intact.  The
 * same cycle with the knob off first, for the copy count.
 */
TEST_F_TIMEOUT(shadow, clean_demotion_is_a_remap, 240)
{
	struct shadow_counts d, mid;
	long on_slow, pages = PAGES(BUF_LEN);
	long long copies_off, copies_on;
	char *buf;

	/* without shadows: every promotion and every demotion copies */
	ASSERT_EQ(0, write_long(SHADOW, 0));
	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	on_slow = pages_on_node(buf, BUF_LEN, self->slow);
	shadow_delta(&d, &self->before);
	log_delta(_metadata, &d);
	EXPECT_EQ(0, d.create);
	EXPECT_EQ(0, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	/* our pages: each promotion and each demotion back is a copy */
	copies_off = d.promoted + on_slow;
	TH_LOG("off: %lld promoted, %ld demoted: %lld copies, %.2f KiB/page",
	       d.promoted, on_slow, copies_off, 4.0 * copies_off / pages);
	munmap(buf, BUF_LEN);

	/* with shadows */
	ASSERT_EQ(0, write_long(SHADOW, 1));
	shadow_counts(&mid);
	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_LE(pages * 9 / 10, d.create);
	EXPECT_LE(pages * 9 / 10, nr_shadows_settled(2));
	TH_LOG("peak shadow memory: %lld KiB", vmstat_get("nr_nomad_shadow") * 4);

	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	on_slow = pages_on_node(buf, BUF_LEN, self->slow);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	copies_on = d.promoted + on_slow - d.remap;
	TH_LOG("on: %lld promoted, %ld demoted, %lld remaps: %lld copies, %.2f KiB/page",
	       d.promoted, on_slow, d.remap, copies_on,
	       4.0 * copies_on / pages);
	/* our demoted pages went back to their shadows, without a copy */
	EXPECT_LT(pages / 4, on_slow);
	EXPECT_LE(on_slow * 9 / 10, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	munmap(buf, BUF_LEN);
}

/*
 * (b) A write after the promotion drops the shadow; a later demotion
 * copies the new data and never maps the stale shadow.
 */
TEST_F_TIMEOUT(shadow, write_breaks_link_and_demotion_keeps_it, 180)
{
	long pages = PAGES(BUF_LEN), on_slow;
	struct shadow_counts d, mid;
	char *buf;

	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));
	shadow_counts(&mid);
	fill_gen(buf, BUF_LEN, 2);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_LE(pages * 9 / 10, d.broken);
	EXPECT_GE(pages / 10, d.nr);

	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	on_slow = pages_on_node(buf, BUF_LEN, self->slow);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	TH_LOG("%ld of %ld written pages demoted", on_slow, pages);
	EXPECT_LT(0, on_slow);
	EXPECT_GE(pages / 10, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 2));
	munmap(buf, BUF_LEN);
}

/*
 * (c) The slow tier runs out of memory: shadows are reclaimed and nobody
 * is OOM-killed.  Without shadows to free, this allocation (bound to the
 * slow node, no swap, nothing below it to demote to) could only end in an
 * OOM kill.
 */
TEST_F_TIMEOUT(shadow, slow_pressure_reclaims_shadows_first, 240)
{
	size_t len = 2 * BUF_LEN, hog_len;
	long pages = PAGES(len), free_pages, min_pages;
	struct shadow_counts d;
	int status;
	pid_t pid;
	char *buf;

	buf = shadowed_buffer(self->fast, self->slow, len);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));
	ASSERT_EQ(0, node_pages(self->slow, &free_pages, &min_pages));
	/* more than can be allocated, less than that plus the shadows */
	hog_len = (free_pages - min_pages) * NOMAD_PAGE_SIZE + len / 4;
	TH_LOG("slow node %d: %ld MiB free above min, %lld MiB of shadows, taking %zu MiB",
	       self->slow, (free_pages - min_pages) / 256,
	       vmstat_get("nr_nomad_shadow") / 256, hog_len / MIB);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *hog = map_on_node(hog_len, MPOL_BIND, self->slow, 0x77);

		_exit(hog == MAP_FAILED ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	shadow_delta(&d, &self->before);
	log_delta(_metadata, &d);
	TH_LOG("hog: %s %d; oom kills %lld",
	       WIFSIGNALED(status) ? "killed by signal" : "exit",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), d.oom);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, d.oom);
	EXPECT_LE(pages / 8, d.reclaim);
	/* the masters never depended on their shadows */
	EXPECT_EQ(0, bad_pages(buf, len, 1));
	munmap(buf, len);
}

/* (d) Clearing the knob frees every shadow and gives the memory back. */
TEST_F_TIMEOUT(shadow, knob_off_releases_every_shadow, 120)
{
	long pages = PAGES(BUF_LEN), free0, free1, min;
	struct shadow_counts d, mid;
	long long nr;
	char *buf;

	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	nr = nr_shadows_settled(2);
	ASSERT_LE(pages * 9 / 10, nr);
	ASSERT_EQ(0, node_pages(self->slow, &free0, &min));
	shadow_counts(&mid);
	ASSERT_EQ(0, write_long(SHADOW, 0));
	shadow_delta(&d, &mid);
	ASSERT_EQ(0, node_pages(self->slow, &free1, &min));
	log_delta(_metadata, &d);
	TH_LOG("%lld shadows; slow node free %ld -> %ld pages", nr, free0, free1);
	EXPECT_EQ(0, d.nr);
	EXPECT_LE(nr, d.freed);
	EXPECT_LE(nr * 9 / 10, free1 - free0);
	/* the masters are still fine and writable */
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	fill_gen(buf, BUF_LEN, 2);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 2));
	munmap(buf, BUF_LEN);
}

/*
 * (e) mprotect() read-only and back must not hand out write access
 * without a fault: the writes after it still drop the shadows, and the
 * demoted pages carry the new data.
 */
TEST_F_TIMEOUT(shadow, mprotect_roundtrip_still_faults, 180)
{
	long pages = PAGES(BUF_LEN);
	struct shadow_counts d, mid;
	char *buf;

	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));
	ASSERT_EQ(0, mprotect(buf, BUF_LEN, PROT_READ));
	ASSERT_EQ(0, mprotect(buf, BUF_LEN, PROT_READ | PROT_WRITE));
	shadow_counts(&mid);
	fill_gen(buf, BUF_LEN, 2);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_LE(pages * 9 / 10, d.broken);

	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_GE(pages / 10, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 2));
	munmap(buf, BUF_LEN);
}

/*
 * (e) A write through /proc/self/mem (FOLL_FORCE, the ptrace path) into a
 * read-only mapping is a write too.
 */
TEST_F_TIMEOUT(shadow, forced_write_drops_shadow, 180)
{
	long pages = PAGES(BUF_LEN), i, written = 0;
	struct shadow_counts d, mid;
	uint64_t page[WORDS];
	char *buf;
	size_t k;
	int fd;

	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));
	ASSERT_EQ(0, mprotect(buf, BUF_LEN, PROT_READ));
	fd = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, fd);
	shadow_counts(&mid);
	for (i = 0; i < pages; i++) {
		for (k = 0; k < WORDS; k++)
			page[k] = (uint64_t)i << 32 | 2;
		written += pwrite(fd, page, sizeof(page),
				  (off_t)(uintptr_t)(buf + i * NOMAD_PAGE_SIZE)) ==
			   sizeof(page);
	}
	close(fd);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_EQ(pages, written);
	EXPECT_LE(pages * 9 / 10, d.broken);

	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_GE(pages / 10, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 2));
	munmap(buf, BUF_LEN);
}

/*
 * (e) fork(): the child's writes are copies-on-write and leave the
 * parent's shadows alone; the parent's clean pages still demote by remap.
 */
TEST_F_TIMEOUT(shadow, fork_cow_keeps_parent_shadows, 180)
{
	long pages = PAGES(BUF_LEN), on_slow;
	struct shadow_counts d, mid;
	int status;
	pid_t pid;
	char *buf;

	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));
	shadow_counts(&mid);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fill_gen(buf, BUF_LEN, 3);
		_exit(bad_pages(buf, BUF_LEN, 3) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_GE(pages / 10, d.broken);
	EXPECT_LE(pages * 9 / 10, d.nr);

	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	on_slow = pages_on_node(buf, BUF_LEN, self->slow);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_LT(0, on_slow);
	EXPECT_LE(on_slow * 9 / 10, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	munmap(buf, BUF_LEN);
}

/* (e) MADV_DONTNEED and munmap free the shadows with the pages. */
TEST_F_TIMEOUT(shadow, dontneed_and_munmap_free_shadows, 120)
{
	long pages = PAGES(BUF_LEN), i, zero = 0;
	struct shadow_counts d, mid;
	long long nr;
	char *buf;

	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	nr = nr_shadows_settled(2);
	ASSERT_LE(pages * 9 / 10, nr);
	shadow_counts(&mid);
	ASSERT_EQ(0, madvise(buf, BUF_LEN / 2, MADV_DONTNEED));
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_LE(pages / 2 * 9 / 10, d.freed);
	EXPECT_GE(nr - pages / 2 * 9 / 10, d.nr);
	for (i = 0; i < pages / 2; i++)
		zero += buf[i * NOMAD_PAGE_SIZE] == 0;
	EXPECT_EQ(pages / 2, zero);
	EXPECT_EQ(0, bad_range(buf, pages / 2, pages, 1));
	munmap(buf, BUF_LEN);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	/* what is left are pages of this program that were promoted */
	EXPECT_GE(pages / 20, nr_shadows_settled(2));
	EXPECT_LE(nr * 9 / 10, d.freed);
}

TEST_HARNESS_MAIN
