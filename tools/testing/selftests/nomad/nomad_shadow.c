// SPDX-License-Identifier: GPL-2.0
/*
 * Page shadowing (vm.nomad_shadow): a promoted page keeps its slow-tier
 * copy until it is written; demoting a clean page is a remap, not a copy;
 * a write (even one that mprotect, fork or /proc/pid/mem lets through)
 * drops the copy, so demotion never brings stale data back; shadows go
 * first when the slow tier is short of memory, when the page is freed and
 * when the knob is cleared; shadows are movable: compaction moves them
 * with their links, and memory going offline frees the ones it holds.
 *
 * Every page of a test buffer holds (page index << 32 | generation) in all
 * of its words, so a stale page is recognised by its generation.
 */
#include <signal.h>
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
	long long create, remap, broken, reclaim, freed, moved, nr;
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
	c->moved = vmstat_get("nomad_shadow_move");
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
	d->moved = b.moved - a->moved;
	d->nr = b.nr;
	d->promoted = b.promoted - a->promoted;
	d->demoted = b.demoted - a->demoted;
	d->oom = b.oom - a->oom;
}

static void log_delta(struct __test_metadata *_metadata, const struct shadow_counts *d)
{
	TH_LOG("new %lld remap %lld wbreak %lld recl %lld free %lld move %lld now %lld",
	       d->create, d->remap, d->broken, d->reclaim, d->freed, d->moved,
	       d->nr);
	TH_LOG("promoted %lld demoted %lld", d->promoted, d->demoted);
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
 * The PFNs of the pages of [@buf, @buf + @len) into @pfns, 0 for a page
 * not present.  0 on success.
 */
static int buf_pfns(const char *buf, size_t len, uint64_t *pfns)
{
	size_t size = PAGES(len) * sizeof(uint64_t);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long i;
	ssize_t got;

	if (fd < 0)
		return -1;
	got = pread(fd, pfns, size,
		    (uintptr_t)buf / NOMAD_PAGE_SIZE * sizeof(uint64_t));
	close(fd);
	if (got != (ssize_t)size)
		return -1;
	for (i = 0; i < PAGES(len); i++)
		pfns[i] = pfns[i] >> 63 ? pfns[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

/* Is the page at @addr part of a THP (/proc/kpageflags)? */
static int page_is_thp(const char *addr)
{
	uint64_t pfn, flags = 0;
	int fd;

	if (buf_pfns(addr, NOMAD_PAGE_SIZE, &pfn) || !pfn)
		return 0;
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) != sizeof(flags))
		flags = 0;
	close(fd);
	return !!(flags & (1ULL << 22));	/* KPF_THP */
}

/*
 * Read @buf, written on the slow node, until it is promoted: its pages are
 * masters with shadows.  0 on success.
 */
static int promote_buffer(char *buf, size_t len, int fast)
{
	if (unbind(buf, len) ||
	    read_until_promoted(buf, len, fast, 60) < PAGES(len) * 9 / 10)
		return -1;
	return 0;
}

/*
 * A buffer written on the slow node (generation 1), then read until it is
 * promoted: its pages are masters with shadows.  If @pfns is not NULL, it
 * gets the PFNs of the pages on the slow node (the shadows to be).
 * Returns MAP_FAILED if the buffer could not be placed or promoted.
 */
static char *shadowed_buffer_at(int fast, int slow, size_t len, uint64_t *pfns)
{
	char *buf = map_on_node(len, MPOL_BIND, slow, 0);

	if (buf == MAP_FAILED)
		return buf;
	fill_gen(buf, len, 1);
	if ((pfns && buf_pfns(buf, len, pfns)) || promote_buffer(buf, len, fast)) {
		munmap(buf, len);
		return MAP_FAILED;
	}
	return buf;
}

static char *shadowed_buffer(int fast, int slow, size_t len)
{
	return shadowed_buffer_at(fast, slow, len, NULL);
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

#define MEMORY_SYS	"/sys/devices/system/memory"

/*
 * (f) Memory of the slow node goes offline: the shadows in it are freed
 * (an unmovable shadow made offlining fail with EBUSY), the other shadows
 * stay, and the masters keep their data.
 */
TEST_F_TIMEOUT(shadow, offline_frees_the_shadows_it_holds, 240)
{
	long pages = PAGES(BUF_LEN), i, j, in_block = 0, on_slow;
	long *per_block = NULL, nr_blocks, tried = 0;
	uint64_t *pfns = calloc(pages, sizeof(*pfns)), block_pages;
	char path[128], val[32], *buf, *spacer;
	struct shadow_counts d, mid;
	long long nr0, block = -1;
	int ret = -ENOENT;

	ASSERT_NE(NULL, pfns);
	if (read_file(MEMORY_SYS "/block_size_bytes", val, sizeof(val)) <= 0)
		SKIP(return, "no memory hotplug (" MEMORY_SYS ")");
	block_pages = strtoull(val, NULL, 16) / NOMAD_PAGE_SIZE;
	ASSERT_LT(0, block_pages);

	/*
	 * The first half of the buffer, then a block's worth of memory, then
	 * the second half: the halves land in different blocks, the second
	 * one away from the start of the node (where the kernel keeps
	 * unmovable data).
	 */
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, BUF_LEN, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, bind_to_node(buf, BUF_LEN, MPOL_BIND, self->slow));
	fill_gen(buf, BUF_LEN / 2, 1);
	spacer = map_on_node(block_pages * NOMAD_PAGE_SIZE, MPOL_BIND, self->slow, 0x5a);
	ASSERT_NE(MAP_FAILED, spacer);
	fill_gen(buf, BUF_LEN, 1);
	ASSERT_EQ(0, buf_pfns(buf, BUF_LEN, pfns));
	munmap(spacer, block_pages * NOMAD_PAGE_SIZE);
	ASSERT_EQ(0, promote_buffer(buf, BUF_LEN, self->fast));
	nr0 = nr_shadows_settled(2);
	ASSERT_LE(pages * 9 / 10, nr0);

	/* the blocks holding the shadows, most shadows first */
	for (i = 0, nr_blocks = 0; i < pages; i++)
		if ((long)(pfns[i] / block_pages) + 1 > nr_blocks)
			nr_blocks = pfns[i] / block_pages + 1;
	per_block = calloc(nr_blocks, sizeof(*per_block));
	ASSERT_NE(NULL, per_block);
	for (i = 0; i < pages; i++)
		if (pfns[i])
			per_block[pfns[i] / block_pages]++;
	shadow_counts(&mid);
	while (ret) {
		long best = 0;

		for (j = 0; j < nr_blocks; j++)
			if (per_block[j] > best) {
				best = per_block[j];
				block = j;
			}
		if (best < pages / 16)
			break;
		per_block[block] = 0;
		snprintf(path, sizeof(path), MEMORY_SYS "/memory%lld/node%d",
			 block, self->slow);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), MEMORY_SYS "/memory%lld/state", block);
		ret = write_file(path, "offline");
		TH_LOG("memory%lld (%ld of our shadows): offline: %s", block, best,
		       ret ? strerror(-ret) : "done");
		in_block = best;
		tried++;
	}
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	ASSERT_LT(0, tried);
	ASSERT_EQ(0, ret);
	ASSERT_LE(pages / 4, nr0 - in_block) TH_LOG("too few shadows elsewhere");
	/* the shadows of the block went, the others stay */
	EXPECT_LE(in_block * 9 / 10, d.freed);
	EXPECT_GE(nr0 - in_block * 9 / 10, d.nr);
	EXPECT_LE(nr0 - in_block - pages / 50, d.nr);
	EXPECT_EQ(0, write_file(path, "online"));
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));

	/* the remaining shadows still turn demotions into remaps */
	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	on_slow = pages_on_node(buf, BUF_LEN, self->slow);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	EXPECT_LT(0, on_slow);
	EXPECT_LT(0, d.remap);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	munmap(buf, BUF_LEN);
	free(per_block);
	free(pfns);
}

/*
 * (f) Compaction of the slow node moves shadows like other movable pages:
 * they stay counted, the links follow them, and a demotion is still a
 * remap, onto the moved copy (a page other than the one the data left),
 * with the right data.
 */
TEST_F_TIMEOUT(shadow, compaction_moves_shadows, 240)
{
	long pages = PAGES(BUF_LEN), i, on_slow, elsewhere = 0;
	uint64_t *pfns = calloc(pages, sizeof(*pfns));
	uint64_t *now = calloc(pages, sizeof(*now)), lo = ~0ULL, hi = 0;
	int *nodes = calloc(pages, sizeof(*nodes));
	long long nr0, scanned, isolated;
	struct shadow_counts d, mid;
	char path[128], *buf, *gap;

	ASSERT_NE(NULL, pfns);
	ASSERT_NE(NULL, now);
	ASSERT_NE(NULL, nodes);
	/* every other page of a range of the slow node: holes to compact */
	buf = mmap(NULL, 2 * BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, 2 * BUF_LEN, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, bind_to_node(buf, 2 * BUF_LEN, MPOL_BIND, self->slow));
	gap = buf + BUF_LEN;
	for (i = 0; i < pages; i++) {
		buf[i * NOMAD_PAGE_SIZE] = 1;
		gap[i * NOMAD_PAGE_SIZE] = 1;
	}
	ASSERT_EQ(0, munmap(gap, BUF_LEN));
	fill_gen(buf, BUF_LEN, 1);
	ASSERT_EQ(0, buf_pfns(buf, BUF_LEN, pfns));
	for (i = 0; i < pages; i++) {
		if (pfns[i] && pfns[i] < lo)
			lo = pfns[i];
		if (pfns[i] > hi)
			hi = pfns[i];
	}
	TH_LOG("buffer on PFNs %#llx-%#llx", (unsigned long long)lo,
	       (unsigned long long)hi);
	ASSERT_EQ(0, promote_buffer(buf, BUF_LEN, self->fast));
	nr0 = nr_shadows_settled(2);
	ASSERT_LE(pages * 9 / 10, nr0);

	shadow_counts(&mid);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/compact",
		 self->slow);
	/* how many move depends on where compaction finds room: a few runs */
	for (i = 0; i < 3; i++) {
		scanned = vmstat_get("compact_migrate_scanned");
		isolated = vmstat_get("compact_isolated");
		ASSERT_EQ(0, write_file(path, "1"));
		shadow_delta(&d, &mid);
		TH_LOG("compaction: %lld pages scanned, %lld isolated, %lld shadows moved",
		       vmstat_get("compact_migrate_scanned") - scanned,
		       vmstat_get("compact_isolated") - isolated, d.moved);
		if (d.moved >= 256)
			break;
	}
	log_delta(_metadata, &d);
	/* moved, not dropped */
	EXPECT_LT(0, d.moved);
	EXPECT_LE(nr0 - pages / 50, d.nr);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));

	/* the moved shadows take the demotions, and hold the right data */
	ASSERT_EQ(0, fast_pressure(self->fast, 3 * BUF_LEN / MIB));
	on_slow = pages_on_node(buf, BUF_LEN, self->slow);
	ASSERT_EQ(0, buf_pfns(buf, BUF_LEN, now));
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	ASSERT_EQ(0, page_nodes(buf, BUF_LEN, nodes));
	for (i = 0; i < pages; i++)
		elsewhere += nodes[i] == self->slow && now[i] != pfns[i];
	TH_LOG("%ld pages demoted, %ld of them not back on their old page",
	       on_slow, elsewhere);
	EXPECT_LT(pages / 4, on_slow);
	EXPECT_LE(on_slow * 9 / 10, d.remap);
	/* a remap onto a moved shadow lands on a new page */
	EXPECT_LE(on_slow * d.moved / pages / 2, elsewhere);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	munmap(buf, BUF_LEN);
	free(pfns);
	free(now);
	free(nodes);
}

#define KSM_SYS	"/sys/kernel/mm/ksm"

/*
 * (g) KSM merges shadowed masters: the data stays right, a merged-away
 * master frees its shadow, writes after the merge (copies on write) still
 * reach demotion with their new data, and no shadow outlives the pages.
 */
TEST_F_TIMEOUT(shadow, ksm_merges_shadowed_masters, 240)
{
	long pages = PAGES(BUF_LEN), sharing = 0, on_slow;
	char run[16], scan[32], sleep_ms[32];
	struct shadow_counts d, mid;
	double t0;
	char *a, *b;

	if (read_file(KSM_SYS "/run", run, sizeof(run)) <= 0)
		SKIP(return, "no KSM");
	ASSERT_LT(0, read_file(KSM_SYS "/pages_to_scan", scan, sizeof(scan)));
	ASSERT_LT(0, read_file(KSM_SYS "/sleep_millisecs", sleep_ms, sizeof(sleep_ms)));
	/* two shadowed buffers with the same data */
	a = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, a);
	b = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_LE(2 * pages * 9 / 10, nr_shadows_settled(2));

	shadow_counts(&mid);
	ASSERT_EQ(0, madvise(a, BUF_LEN, MADV_MERGEABLE));
	ASSERT_EQ(0, madvise(b, BUF_LEN, MADV_MERGEABLE));
	ASSERT_EQ(0, write_file(KSM_SYS "/pages_to_scan", "10000"));
	ASSERT_EQ(0, write_file(KSM_SYS "/sleep_millisecs", "10"));
	ASSERT_EQ(0, write_file(KSM_SYS "/run", "1"));
	for (t0 = now_sec(); now_sec() - t0 < 90 && sharing < pages * 9 / 10;
	     usleep(200000))
		sharing = read_long(KSM_SYS "/pages_sharing", &(int){0});
	write_file(KSM_SYS "/run", "0");
	write_file(KSM_SYS "/pages_to_scan", scan);
	write_file(KSM_SYS "/sleep_millisecs", sleep_ms);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	TH_LOG("%ld pages sharing after %.1f s", sharing, now_sec() - t0);
	EXPECT_LE(pages * 9 / 10, sharing);
	EXPECT_EQ(0, bad_pages(a, BUF_LEN, 1));
	EXPECT_EQ(0, bad_pages(b, BUF_LEN, 1));
	/* every merged-away master freed its shadow */
	EXPECT_LE(sharing * 9 / 10, d.freed);

	/* copy-on-write out of the KSM pages, then demote: the new data */
	fill_gen(a, BUF_LEN, 2);
	fill_gen(b, BUF_LEN, 3);
	ASSERT_EQ(0, fast_pressure(self->fast, 4 * BUF_LEN / MIB));
	on_slow = pages_on_node(a, BUF_LEN, self->slow) +
		  pages_on_node(b, BUF_LEN, self->slow);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	TH_LOG("%ld pages demoted", on_slow);
	EXPECT_LT(0, on_slow);
	EXPECT_EQ(0, bad_pages(a, BUF_LEN, 2));
	EXPECT_EQ(0, bad_pages(b, BUF_LEN, 3));
	munmap(a, BUF_LEN);
	munmap(b, BUF_LEN);
	EXPECT_GE(pages / 20, nr_shadows_settled(2));
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

/*
 * (g) Shadowed masters are mapped read-only in a writable mapping; THP
 * collapse (MADV_COLLAPSE, khugepaged) must not take them for read-only
 * memory (SCAN_PAGE_RO): the range collapses, the shadows go with the
 * small pages, and the data stays.
 */
TEST_F_TIMEOUT(shadow, collapse_takes_shadowed_masters, 180)
{
	size_t len = 8 * NOMAD_HUGE_SIZE, raw_len = len + NOMAD_HUGE_SIZE;
	long pages = PAGES(len), huge, i;
	struct shadow_counts d, mid;
	char *raw, *buf;
	int ret;

	raw = mmap(NULL, raw_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	buf = (char *)(((uintptr_t)raw + NOMAD_HUGE_SIZE - 1) & ~(NOMAD_HUGE_SIZE - 1));
	/* small pages on the slow node, promoted and shadowed */
	ASSERT_EQ(0, madvise(buf, len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, bind_to_node(buf, len, MPOL_BIND, self->slow));
	fill_gen(buf, len, 1);
	ASSERT_EQ(0, promote_buffer(buf, len, self->fast));
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));

	shadow_counts(&mid);
	ASSERT_EQ(0, madvise(buf, len, MADV_HUGEPAGE));
	ret = madvise(buf, len, MADV_COLLAPSE) ? -errno : 0;
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	huge = 0;
	for (i = 0; i < pages; i += 512)
		huge += page_is_thp(buf + i * NOMAD_PAGE_SIZE);
	TH_LOG("MADV_COLLAPSE: %s; %ld of %ld ranges huge",
	       ret ? strerror(-ret) : "done", huge, pages / 512);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(pages / 512, huge);
	/* the small masters were freed, and their shadows with them */
	EXPECT_LE(pages * 9 / 10, d.freed);
	EXPECT_GE(pages / 10, d.nr);
	EXPECT_EQ(0, bad_pages(buf, len, 1));
	fill_gen(buf, len, 2);
	EXPECT_EQ(0, bad_pages(buf, len, 2));
	munmap(raw, raw_len);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

/* The sum over @node's zones of the /proc/zoneinfo field @key, or -1. */
static long zoneinfo_sum(int node, const char *key)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	size_t klen = strlen(key);
	char line[256], *p;
	long sum = -1;
	int cur = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &cur) == 1 || cur != node)
			continue;
		for (p = line; *p == ' '; p++)
			;
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			sum = (sum < 0 ? 0 : sum) + strtol(p + klen, NULL, 10);
	}
	fclose(f);
	return sum;
}

static int node_hopeless(int node)
{
	return zoneinfo_sum(node, "node_unreclaimable:") > 0;
}

/*
 * In a child: fill @node with memory bound to it down to its low
 * watermarks, then allocate and free one page at a time below them (each
 * allocation wakes kswapd, which finds nothing to reclaim) until kswapd
 * gives up on the node (node_unreclaimable) or 150 s have passed.  The
 * child holds the memory until killed.
 */
static pid_t exhaust_kswapd(int node)
{
	long free, min, low = zoneinfo_sum(node, "low");
	pid_t pid = fork();
	double t0 = now_sec();
	size_t len;
	char *p;

	if (pid)
		return pid;
	while (now_sec() - t0 < 150 && !node_hopeless(node)) {
		if (node_pages(node, &free, &min))
			_exit(1);
		if (free > low + 8192)
			len = (free - low) / 2 * NOMAD_PAGE_SIZE;
		else
			len = free > low ? 4 * NOMAD_PAGE_SIZE : NOMAD_PAGE_SIZE;
		if (len > 256 * MIB)
			len = 256 * MIB;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE) ||
		    bind_to_node(p, len, MPOL_BIND, node))
			_exit(1);
		if (madvise(p, len, MADV_POPULATE_WRITE))
			memset(p, 0x11, len);
		if (free <= low)
			munmap(p, len);
	}
	pause();
	_exit(0);
}

/*
 * (h) Reclaim that frees only shadows makes progress like any reclaim: it
 * resets kswapd's failure count, so a slow node that kswapd had given up
 * on is looked after again.  The shadow reclaim used to return before
 * that bookkeeping.  Last in this program: it leaves the slow node short
 * of memory for a while.
 */
TEST_F_TIMEOUT(shadow, shadow_reclaim_revives_kswapd, 300)
{
	long pages = PAGES(BUF_LEN), free, min;
	struct shadow_counts d, mid;
	int status, hopeless;
	double t0 = now_sec();
	size_t hog_len, len;
	pid_t pid;
	char *buf;

	ASSERT_FALSE(node_hopeless(self->slow));
	/* kswapd fails on the slow node: nothing there it can reclaim */
	pid = exhaust_kswapd(self->slow);
	ASSERT_LE(0, pid);
	while (!waitpid(pid, &status, WNOHANG) && !node_hopeless(self->slow) &&
	       now_sec() - t0 < 160)
		usleep(100000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	hopeless = node_hopeless(self->slow);
	TH_LOG("slow node %d: node_unreclaimable %d after %.1f s", self->slow,
	       hopeless, now_sec() - t0);
	ASSERT_TRUE(hopeless) TH_LOG("kswapd did not give up on the slow node");

	/* shadows on it, then an allocation that only shadow reclaim serves */
	buf = shadowed_buffer(self->fast, self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(pages * 9 / 10, nr_shadows_settled(2));
	ASSERT_TRUE(node_hopeless(self->slow));
	shadow_counts(&mid);
	/* take memory until reclaim freed a quarter of the shadows */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		hog_len = 0;
		while (now_sec() - t0 < 240 &&
		       vmstat_get("nomad_shadow_reclaim") - mid.reclaim < pages / 4) {
			ASSERT_EQ(0, node_pages(self->slow, &free, &min));
			len = free > min + 16384 ? (free - min - 8192) * NOMAD_PAGE_SIZE : MIB;
			if (map_on_node(len, MPOL_BIND, self->slow, 0x22) == MAP_FAILED)
				_exit(1);
			hog_len += len;
		}
		_exit(vmstat_get("nomad_shadow_reclaim") - mid.reclaim < pages / 4 ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	hopeless = node_hopeless(self->slow);
	shadow_delta(&d, &mid);
	log_delta(_metadata, &d);
	TH_LOG("hog: exit %d; node_unreclaimable %d; oom kills %lld",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, hopeless, d.oom);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_LE(pages / 4, d.reclaim);
	EXPECT_EQ(0, d.oom);
	/* the node is looked after again */
	EXPECT_FALSE(hopeless);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN, 1));
	munmap(buf, BUF_LEN);
}

TEST_HARNESS_MAIN
