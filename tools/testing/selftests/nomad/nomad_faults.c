// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAILSLAB): allocations
 * that NOMAD depends on fail, and it must fail cleanly - count the
 * failure, lose no data, leak nothing - and recover once they succeed:
 * page allocations of kpromoted (promotion targets), page allocations of
 * reclaim (demotion targets; shadowed pages still demote by remapping,
 * which needs no allocation), and slab allocations of the promotion queue
 * in the faulting task.  Only the tasks named get failures (task-filter).
 */
#include <dirent.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define DEMOTION	"/sys/kernel/mm/numa/demotion_enabled"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"
#define FAIL_SLAB	"/sys/kernel/debug/failslab"
#define HOT_MS		"/sys/kernel/debug/sched/numa_balancing/hot_threshold_ms"
#define MIB		(1024UL * 1024)
#define BUF_LEN		(16 * MIB)
#define PAGES(len)	((long)((len) / NOMAD_PAGE_SIZE))

static int attr_set(const char *dir, const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_file(path, val);
}

/* Fail every allocation of the marked tasks (or none, @on == 0). */
static int inject(const char *dir, int on, int sleeping_too)
{
	if (!on)
		return attr_set(dir, "probability", "0");
	if (attr_set(dir, "task-filter", "Y") || attr_set(dir, "interval", "1") ||
	    attr_set(dir, "times", "-1") || attr_set(dir, "verbose", "0") ||
	    attr_set(dir, "ignore-gfp-wait", sleeping_too ? "N" : "Y"))
		return -1;
	if (!strcmp(dir, FAIL_PAGE) &&
	    (attr_set(dir, "ignore-gfp-highmem", "N") || attr_set(dir, "min-order", "0")))
		return -1;
	return attr_set(dir, "probability", "100");
}

/* Set make-it-fail for every task whose name starts with @comm; count. */
static int mark_tasks(const char *comm, int on)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	char path[300], name[64];
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_file(path, name, sizeof(name)) <= 0 ||
		    strncmp(name, comm, strlen(comm)))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/make-it-fail", de->d_name);
		if (!write_file(path, on ? "1" : "0"))
			n++;
	}
	closedir(d);
	return n;
}

static void fill(char *buf, size_t len)
{
	long i;

	for (i = 0; i < PAGES(len); i++)
		memset(buf + i * NOMAD_PAGE_SIZE, (int)(i % 251) + 1, NOMAD_PAGE_SIZE);
}

static long bad_pages(const char *buf, size_t len)
{
	long i, bad = 0;
	size_t k;

	for (i = 0; i < PAGES(len); i++)
		for (k = 0; k < NOMAD_PAGE_SIZE; k += 512)
			if ((unsigned char)buf[i * NOMAD_PAGE_SIZE + k] != i % 251 + 1) {
				bad++;
				break;
			}
	return bad;
}

/* A filled buffer on the slow node, its policy reset so it can move. */
static char *slow_buffer(int slow, size_t len)
{
	char *buf = map_on_node(len, MPOL_BIND, slow, 0);

	if (buf == MAP_FAILED)
		return buf;
	fill(buf, len);
	if (unbind(buf, len)) {
		munmap(buf, len);
		return MAP_FAILED;
	}
	return buf;
}

FIXTURE(faults) {
	int fast, slow;
	long saved_nb;
	char saved_demotion[16];
};

FIXTURE_SETUP(faults)
{
	int ok;

	if (access(FAIL_PAGE, F_OK) || access(FAIL_SLAB, F_OK))
		SKIP(return, "kernel without fail_page_alloc/failslab debugfs");
	if (find_tier_nodes(&self->fast, &self->slow))
		SKIP(return, "platform has no lower memory tier");
	self->saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);
	ASSERT_LT(0, read_file(DEMOTION, self->saved_demotion,
			       sizeof(self->saved_demotion)));
	ASSERT_EQ(0, write_file(DEMOTION, "true"));
	ASSERT_EQ(0, nomad_set_switches(1));
	numab_fast_scan();
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
}

FIXTURE_TEARDOWN(faults)
{
	inject(FAIL_PAGE, 0, 0);
	inject(FAIL_SLAB, 0, 0);
	mark_tasks("", 0);
	nomad_set_switches(0);
	write_long(NUMA_BALANCING, self->saved_nb);
	write_file(DEMOTION, self->saved_demotion);
}

/* After the knobs are off: nothing isolated, queued or shadowed is left. */
static void expect_clean(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, nomad_set_switches(0));
	usleep(300000);
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	TH_LOG("after: isolated anon %lld, queued %ld, shadows %lld",
	       vmstat_get("nr_isolated_anon"), kpromoted_queued(),
	       vmstat_get("nr_nomad_shadow"));
	EXPECT_EQ(0, vmstat_get("nr_isolated_anon"));
	EXPECT_EQ(0, kpromoted_queued());
	EXPECT_EQ(0, vmstat_get("nr_nomad_shadow"));
}

/* kpromoted cannot allocate promotion targets: failures are counted. */
TEST_F_TIMEOUT(faults, promotion_target_allocation_fails, 120)
{
	long long fail0, fail1;
	long on_fast, marked;
	char *buf;
	double t0;

	buf = slow_buffer(self->slow, BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	fail0 = vmstat_get("nomad_promote_fail");
	marked = mark_tasks("kpromoted", 1);
	ASSERT_LT(0, marked);
	ASSERT_EQ(0, inject(FAIL_PAGE, 1, 1));
	t0 = now_sec();
	while (now_sec() - t0 < 6)
		read_pages(buf, BUF_LEN);
	on_fast = pages_on_node(buf, BUF_LEN, self->fast);
	ASSERT_EQ(0, inject(FAIL_PAGE, 0, 0));
	mark_tasks("kpromoted", 0);
	fail1 = vmstat_get("nomad_promote_fail");
	TH_LOG("%ld kpromoted failing: %lld promotions failed, %ld of %ld pages on node %d",
	       marked, fail1 - fail0, on_fast, PAGES(BUF_LEN), self->fast);
	EXPECT_LT(0, fail1 - fail0);
	EXPECT_GE(PAGES(BUF_LEN) / 10, on_fast);

	/* allocations work again: the same pages get promoted */
	on_fast = read_until_promoted(buf, BUF_LEN, self->fast, 60);
	TH_LOG("after the failures: %ld pages promoted", on_fast);
	EXPECT_LE(PAGES(BUF_LEN) * 9 / 10, on_fast);
	EXPECT_EQ(0, bad_pages(buf, BUF_LEN));
	munmap(buf, BUF_LEN);
	expect_clean(_metadata);
}

/*
 * Reclaim cannot allocate demotion targets: plain demotions fail, but
 * pages with a shadow still demote (a remap allocates nothing).
 */
TEST_F_TIMEOUT(faults, demotion_target_allocation_fails, 180)
{
	long long remap0, dem0, remap1, dem1;
	long on_fast, on_slow, left;
	int status;
	pid_t pid;
	char *buf;

	buf = slow_buffer(self->slow, 2 * BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	on_fast = read_until_promoted(buf, 2 * BUF_LEN, self->fast, 60);
	ASSERT_LE(PAGES(2 * BUF_LEN) * 9 / 10, on_fast);
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	TH_LOG("%ld pages promoted, %lld shadows", on_fast, vmstat_get("nr_nomad_shadow"));

	/* the few pages never promoted stay where they are */
	left = pages_on_node(buf, 2 * BUF_LEN, self->slow);
	remap0 = vmstat_get("nomad_shadow_demote_remap");
	dem0 = vmstat_get("pgdemote_kswapd") + vmstat_get("pgdemote_direct");
	ASSERT_LT(0, mark_tasks("kswapd", 1));
	/* only allocations that cannot sleep fail: demotion targets */
	ASSERT_EQ(0, inject(FAIL_PAGE, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long free_kb = node_free_kb(self->fast);
		size_t len = (free_kb / 1024 + BUF_LEN / MIB) * MIB;
		char *hog;

		write_file("/proc/self/make-it-fail", "1");
		hog = map_on_node(len, MPOL_BIND, self->fast, 0x5a);
		_exit(hog == MAP_FAILED);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, inject(FAIL_PAGE, 0, 0));
	mark_tasks("kswapd", 0);
	remap1 = vmstat_get("nomad_shadow_demote_remap");
	dem1 = vmstat_get("pgdemote_kswapd") + vmstat_get("pgdemote_direct");
	on_slow = pages_on_node(buf, 2 * BUF_LEN, self->slow);
	TH_LOG("no demotion targets: hog %s %d; demoted %lld, remaps %lld; %ld (%ld) on node %d",
	       WIFSIGNALED(status) ? "killed by signal" : "exit",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	       dem1 - dem0, remap1 - remap0, on_slow, left, self->slow);
	EXPECT_LT(0, remap1 - remap0);
	/*
	 * Demotions that copy cannot allocate: every page of ours that
	 * reached the slow node went there by a remap.  (The total that
	 * reclaim counts as demoted is logged but not checked: it also
	 * counts folios freed while isolated, as the hog exits.)
	 */
	EXPECT_LE(on_slow - left, remap1 - remap0);
	EXPECT_EQ(0, bad_pages(buf, 2 * BUF_LEN));
	munmap(buf, 2 * BUF_LEN);
	expect_clean(_metadata);
}

/* The faulting task cannot allocate queue nodes: candidates are dropped. */
TEST_F_TIMEOUT(faults, promotion_queue_allocation_fails, 180)
{
	char *buf, *second;
	long long drop0, drop1, full0, full1, hint0, other0;
	long on_fast, hot_ms;
	int fd, ok, *seen;
	double t0;
	pid_t pid;

	buf = slow_buffer(self->slow, 2 * BUF_LEN);
	ASSERT_NE(MAP_FAILED, buf);
	second = buf + BUF_LEN;
	/*
	 * The scanner needs a slab allocation for a new VMA: let it scan
	 * this one (promoting the first half) before allocations fail.
	 */
	ASSERT_LE(PAGES(BUF_LEN) * 9 / 10, read_until_promoted(buf, BUF_LEN, self->fast, 60));
	/*
	 * The scanner, paced by the promotions of the first half as under
	 * TPP, marked the second half long ago: mainline's hot threshold
	 * would call its faults cold.  They are to be candidates here.
	 */
	hot_ms = read_long(HOT_MS, &ok);
	ASSERT_TRUE(ok);
	ASSERT_EQ(0, write_long(HOT_MS, 600000));
	full0 = vmstat_get("nomad_promote_drop_full");
	drop0 = vmstat_get("nomad_promote_drop_nomem");
	hint0 = vmstat_get("numa_hint_faults");
	other0 = vmstat_get("nomad_promote_drop_dup") + vmstat_get("nomad_promote_drop_backoff") +
		 vmstat_get("nomad_promote_queued") + vmstat_get("pgpromote_candidate");
	/*
	 * Read until candidates are dropped (the scanner, slowed down by the
	 * promotions of the first half, may take a while to come back), at
	 * most 30 s.  This task cannot open /proc/vmstat while its slab
	 * allocations fail: a child watches the counter.
	 */
	seen = mmap(NULL, NOMAD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, seen);
	t0 = now_sec();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		while (vmstat_get("nomad_promote_drop_nomem") == drop0 && now_sec() - t0 < 30)
			usleep(100000);
		__atomic_store_n(seen, 1, __ATOMIC_RELAXED);
		_exit(0);
	}
	/* opened beforehand: opening a file needs a slab allocation */
	fd = open("/proc/self/make-it-fail", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, inject(FAIL_SLAB, 1, 1));
	ASSERT_EQ(1, pwrite(fd, "1", 1, 0));
	while (!__atomic_load_n(seen, __ATOMIC_RELAXED))
		read_pages(second, BUF_LEN);
	ASSERT_EQ(1, pwrite(fd, "0", 1, 0));
	close(fd);
	ASSERT_EQ(0, inject(FAIL_SLAB, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	munmap(seen, NOMAD_PAGE_SIZE);
	TH_LOG("during: hint faults %lld, candidates + queue events %lld",
	       vmstat_get("numa_hint_faults") - hint0,
	       vmstat_get("nomad_promote_drop_dup") + vmstat_get("nomad_promote_drop_backoff") +
	       vmstat_get("nomad_promote_queued") + vmstat_get("pgpromote_candidate") - other0);
	write_long(HOT_MS, hot_ms);
	drop1 = vmstat_get("nomad_promote_drop_nomem");
	full1 = vmstat_get("nomad_promote_drop_full");
	on_fast = pages_on_node(second, BUF_LEN, self->fast);
	TH_LOG("failing queue allocations: %lld dropped (%lld as full), %ld of %ld pages promoted",
	       drop1 - drop0, full1 - full0, on_fast, PAGES(BUF_LEN));
	EXPECT_LT(0, drop1 - drop0);
	/* the queue never filled: no memory is not "full" */
	EXPECT_EQ(0, full1 - full0);

	on_fast = read_until_promoted(second, BUF_LEN, self->fast, 60);
	TH_LOG("afterwards: %ld pages promoted", on_fast);
	EXPECT_LE(PAGES(BUF_LEN) * 9 / 10, on_fast);
	EXPECT_EQ(0, bad_pages(buf, 2 * BUF_LEN));
	munmap(buf, 2 * BUF_LEN);
	expect_clean(_metadata);
}

TEST_HARNESS_MAIN
