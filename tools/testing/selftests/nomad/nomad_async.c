// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous promotion (vm.nomad_async_promotion): kpromoted threads
 * exist for the top tier, promote what the hinting faults queue, the
 * faulting task itself never migrates, a full queue drops and counts and
 * drains,
 * PMD-mapped THPs keep the mainline path, switching the knob under load
 * leaves no queued folio and no isolated page behind, and promotion backs
 * off while the fast node thrashes.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define ASYNC		"/proc/sys/vm/nomad_async_promotion"
#define QUEUE_MAX	"/proc/sys/vm/nomad_promote_queue_max"
#define BACKOFF		"/proc/sys/vm/nomad_promote_backoff"
#define TPM		"/proc/sys/vm/nomad_transactional_migration"
#define MIB		(1024UL * 1024)

FIXTURE(async) {
	int fast, slow;
	long saved_nb, saved_qmax;
};

FIXTURE_SETUP(async)
{
	int ok;

	if (find_tier_nodes(&self->fast, &self->slow))
		SKIP(return, "platform has no lower memory tier");
	self->saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);
	self->saved_qmax = read_long(QUEUE_MAX, &ok);
	ASSERT_TRUE(ok) TH_LOG("%s missing", QUEUE_MAX);
	ASSERT_EQ(0, nomad_set_switches(0));
	numab_fast_scan();
}

FIXTURE_TEARDOWN(async)
{
	if (!access(NOMAD_TPM_COPY_DELAY, W_OK))
		write_long(NOMAD_TPM_COPY_DELAY, 0);
	nomad_set_switches(0);
	write_long(NUMA_BALANCING, self->saved_nb);
	write_long(QUEUE_MAX, self->saved_qmax);
	trace_migrations(0);
}

/* Is there a kernel thread called @name? */
static int have_thread(const char *name)
{
	char path[300], comm[64];
	struct dirent *de;
	int found = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d)) && !found) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_file(path, comm, sizeof(comm)) > 0) {
			comm[strcspn(comm, "\n")] = '\0';
			found = !strcmp(comm, name);
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* Map @len on the slow node and let the hinting faults promote it. */
static long promote_buffer(struct __test_metadata *_metadata, int fast, int slow,
			   size_t len, double timeout)
{
	char *buf = map_on_node(len, MPOL_BIND, slow, 0x6b);
	long on_fast;

	if (buf == MAP_FAILED)
		return -1;
	unbind(buf, len);
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	on_fast = read_until_promoted(buf, len, fast, timeout);
	EXPECT_EQ(0x6b, buf[0]);
	EXPECT_EQ(0x6b, buf[len - 1]);
	munmap(buf, len);
	return on_fast;
}

TEST_F(async, kpromoted_threads)
{
	char name[32];

	snprintf(name, sizeof(name), "kpromoted%d", self->fast);
	EXPECT_TRUE(have_thread(name)) TH_LOG("no %s for top-tier node %d", name, self->fast);
	snprintf(name, sizeof(name), "kpromoted%d", self->slow);
	EXPECT_FALSE(have_thread(name)) TH_LOG("%s runs for lower-tier node %d",
					       name, self->slow);
	EXPECT_EQ(0, kpromoted_queued());
}

TEST_F_TIMEOUT(async, promotes_via_kpromoted, 120)
{
	long long q0, s0, p0, q1, s1, p1;
	size_t len = 64 * MIB;
	long pages = len / NOMAD_PAGE_SIZE, on_fast;

	ASSERT_EQ(0, write_long(ASYNC, 1));
	q0 = vmstat_get("nomad_promote_queued");
	s0 = vmstat_get("nomad_promote_success");
	p0 = vmstat_get("pgpromote_success");
	on_fast = promote_buffer(_metadata, self->fast, self->slow, len, 60);
	q1 = vmstat_get("nomad_promote_queued");
	s1 = vmstat_get("nomad_promote_success");
	p1 = vmstat_get("pgpromote_success");
	TH_LOG("%ld of %ld pages promoted; queued +%lld, by kpromoted +%lld, pgpromote +%lld",
	       on_fast, pages, q1 - q0, s1 - s0, p1 - p0);
	EXPECT_LE(pages * 9 / 10, on_fast);
	EXPECT_LE(on_fast, q1 - q0);
	EXPECT_LE(on_fast, s1 - s0);
	/* mainline's accounting still sees the promotions */
	EXPECT_LE(on_fast * 95 / 100, p1 - p0);
}

/* numa_pages_migrated of this task (/proc/self/sched), or -1. */
static long long task_pages_migrated(void)
{
	char buf[16384], *p;

	if (read_file("/proc/self/sched", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "numa_pages_migrated");
	p = p ? strchr(p, ':') : NULL;
	return p ? atoll(p + 1) : -1;
}

/*
 * The hinting faults of a queued folio are accounted to the task as
 * mainline accounts the promotions it makes (task_numa_fault(): the
 * per-task NUMA statistics behind kernel.numa_balancing=3, and
 * numa_pages_migrated), first with the knob off, which shows the signal.
 */
TEST_F_TIMEOUT(async, task_numa_stats_count_promotions, 150)
{
	size_t len = 16 * MIB;
	long pages = len / NOMAD_PAGE_SIZE, on_fast;
	long long m0, m1;
	int on;

	if (task_pages_migrated() < 0)
		SKIP(return, "no numa_pages_migrated in /proc/self/sched");
	for (on = 0; on < 2; on++) {
		ASSERT_EQ(0, write_long(ASYNC, on));
		m0 = task_pages_migrated();
		on_fast = promote_buffer(_metadata, self->fast, self->slow, len, 60);
		m1 = task_pages_migrated();
		TH_LOG("async %d: %ld of %ld pages promoted, numa_pages_migrated +%lld",
		       on, on_fast, pages, m1 - m0);
		EXPECT_LE(pages * 9 / 10, on_fast);
		EXPECT_LE(on_fast * 9 / 10, m1 - m0);
	}
}

/*
 * Who calls migrate_pages() for NUMA-misplaced folios?  With the knob on
 * only kpromoted may; with it off the faulting task does (which shows the
 * trace signal is real).
 */
TEST_F_TIMEOUT(async, faulting_task_does_not_migrate, 90)
{
	size_t len = 16 * MIB;
	int mode;

	if (access(NOMAD_TRACE "/events/migrate/mm_migrate_pages/enable", W_OK))
		SKIP(return, "no migrate:mm_migrate_pages trace event (tracefs)");
	for (mode = 1; mode >= 0; mode--) {
		long by_task, by_kpromoted;
		int status;
		pid_t pid;

		ASSERT_EQ(0, write_long(ASYNC, mode));
		ASSERT_EQ(0, trace_migrations(1));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			long on = promote_buffer(_metadata, self->fast, self->slow, len, 30);

			_exit(on >= (long)(len / NOMAD_PAGE_SIZE * 9 / 10) ? 0 : 1);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, trace_migrations(0));
		ASSERT_EQ(0, trace_count_misplaced(pid, &by_task, &by_kpromoted));
		TH_LOG("async=%d: promoted %s; migrate_pages() by the task %ld, by kpromoted %ld",
		       mode, WIFEXITED(status) && !WEXITSTATUS(status) ? "all" : "NOT all",
		       by_task, by_kpromoted);
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		if (mode) {
			EXPECT_EQ(0, by_task);
			EXPECT_LT(0, by_kpromoted);
		} else {
			EXPECT_LT(0, by_task);
			EXPECT_EQ(0, by_kpromoted);
		}
	}
}

TEST_F_TIMEOUT(async, full_queue_drops_and_counts, 60)
{
	long long d0, q0, d1, q1;
	long on_fast;

	ASSERT_EQ(0, write_long(QUEUE_MAX, 1));
	ASSERT_EQ(0, write_long(ASYNC, 1));
	d0 = vmstat_get("nomad_promote_drop_full");
	q0 = vmstat_get("nomad_promote_queued");
	on_fast = promote_buffer(_metadata, self->fast, self->slow, 32 * MIB, 20);
	d1 = vmstat_get("nomad_promote_drop_full");
	q1 = vmstat_get("nomad_promote_queued");
	TH_LOG("queue of 1: queued +%lld, dropped (full) +%lld, %ld pages promoted",
	       q1 - q0, d1 - d0, on_fast);
	EXPECT_LT(0, q1 - q0);
	EXPECT_LT(0, d1 - d0);
	EXPECT_GE(1, kpromoted_queued());
}

/*
 * A burst of hinting faults fills a short queue (candidates are dropped
 * as full); once the faults stop, kpromoted must empty the queue, and
 * every entry must end as a promotion, a failed one or a stale drop.
 */
TEST_F_TIMEOUT(async, full_queue_drains, 60)
{
	size_t len = 32 * MIB, pages = len / NOMAD_PAGE_SIZE;
	long long upd0, q0, d0, s0, f0, st0, q, d, s, f, st;
	char spin[4096] = "";
	long left = -1;
	double t0;
	char *buf;

	ASSERT_EQ(0, write_long(QUEUE_MAX, 256));
	ASSERT_EQ(0, write_long(ASYNC, 1));
	buf = map_on_node(len, MPOL_BIND, self->slow, 0x5a);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, unbind(buf, len));
	upd0 = vmstat_get("numa_pte_updates");
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	/*
	 * Let the scanner mark the buffer (it scans from the task's ticks:
	 * run, but do not touch the buffer), then fault on all of it at once.
	 */
	t0 = now_sec();
	while (vmstat_get("numa_pte_updates") - upd0 < (long long)pages && now_sec() - t0 < 20)
		memset(spin, spin[1] + 1, sizeof(spin));
	ASSERT_LE((long long)pages, vmstat_get("numa_pte_updates") - upd0)
		TH_LOG("the NUMA scanner did not mark the buffer in 20 s");
	q0 = vmstat_get("nomad_promote_queued");
	d0 = vmstat_get("nomad_promote_drop_full");
	s0 = vmstat_get("nomad_promote_success");
	f0 = vmstat_get("nomad_promote_fail");
	st0 = vmstat_get("nomad_promote_drop_stale");
	read_pages(buf, len);
	read_pages(buf, len);
	/* the last batch is counted once migrated, after it left the queue */
	t0 = now_sec();
	do {
		usleep(50000);
		left = kpromoted_queued();
		q = vmstat_get("nomad_promote_queued") - q0;
		d = vmstat_get("nomad_promote_drop_full") - d0;
		s = vmstat_get("nomad_promote_success") - s0;
		f = vmstat_get("nomad_promote_fail") - f0;
		st = vmstat_get("nomad_promote_drop_stale") - st0;
	} while (now_sec() - t0 < 10 && (left || q != s + f + st));
	TH_LOG("queue of 256: queued %lld, dropped (full) %lld; %ld left after %.1f s",
	       q, d, left, now_sec() - t0);
	TH_LOG("promoted %lld, failed %lld, stale %lld", s, f, st);
	EXPECT_LT(0, d) TH_LOG("the queue never filled");
	EXPECT_EQ(0, left);
	EXPECT_EQ(q, s + f + st);
	EXPECT_EQ(0x5a, buf[len / 2]);
	munmap(buf, len);
}

/* PMD-mapped THPs are promoted by the mainline fault path, not queued. */
TEST_F_TIMEOUT(async, thp_keeps_mainline_path, 120)
{
	size_t len = 32 * MIB, raw_len;
	long long q0, m0, q1, m1;
	long on_fast;
	char *raw, *buf;

	buf = thp_on_node(len, self->slow, 0x2d, &raw, &raw_len);
	if (!buf)
		SKIP(return, "no transparent huge pages on node %d", self->slow);

	ASSERT_EQ(0, write_long(ASYNC, 1));
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	q0 = vmstat_get("nomad_promote_queued");
	m0 = vmstat_get("thp_migration_success");
	on_fast = read_until_promoted(buf, len, self->fast, 60);
	q1 = vmstat_get("nomad_promote_queued");
	m1 = vmstat_get("thp_migration_success");
	TH_LOG("%ld of %zu pages promoted; thp_migration_success +%lld, queued +%lld",
	       on_fast, len / NOMAD_PAGE_SIZE, m1 - m0, q1 - q0);
	EXPECT_LE((long)(len / NOMAD_PAGE_SIZE * 9 / 10), on_fast);
	EXPECT_LT(0, m1 - m0);
	EXPECT_EQ(0, q1 - q0);
	EXPECT_EQ(0x2d, buf[0]);
	EXPECT_EQ(0x2d, buf[len - 1]);
	munmap(raw, raw_len);
}

/*
 * A child keeps pages bouncing: it reads and writes them while they are
 * promoted, and moves them back to the slow node twice a second.  Every
 * write is checked at the end.
 */
static int churn(int slow, double secs)
{
	size_t len = 32 * MIB, pages = len / NOMAD_PAGE_SIZE, i;
	unsigned int round = 0;
	double t0 = now_sec(), tmove = t0;
	char *buf = map_on_node(len, MPOL_BIND, slow, 0);

	if (buf == MAP_FAILED || unbind(buf, len))
		return 2;
	for (i = 0; i < pages; i++)
		((unsigned int *)(buf + i * NOMAD_PAGE_SIZE))[1] = i;
	while (now_sec() - t0 < secs) {
		round++;
		for (i = 0; i < pages; i++) {
			unsigned int *p = (unsigned int *)(buf + i * NOMAD_PAGE_SIZE);

			if (p[0] != round - 1 || p[1] != (unsigned int)i)
				return 1;	/* a write was lost */
			p[0] = round;
			p[1] = i;
		}
		if (now_sec() > tmove) {
			move_to_node(buf, len, slow);
			tmove += 0.5;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(async, toggle_under_load_leaves_nothing, 60)
{
	long long q0, q1, iso_anon, iso_file;
	int status, toggles = 0;
	double t0;
	pid_t pid;

	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	q0 = vmstat_get("nomad_promote_queued");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(churn(self->slow, 8));
	t0 = now_sec();
	while (now_sec() - t0 < 7) {
		ASSERT_EQ(0, write_long(ASYNC, toggles & 1 ? 0 : 1));
		toggles++;
		usleep(20000);
	}
	ASSERT_EQ(0, write_long(ASYNC, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	q1 = vmstat_get("nomad_promote_queued");

	/* fold per-CPU counter deltas before looking at nr_isolated_* */
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	iso_anon = vmstat_get("nr_isolated_anon");
	iso_file = vmstat_get("nr_isolated_file");
	TH_LOG("%d toggles, queued +%lld; then queued %ld, nr_isolated_anon %lld, _file %lld",
	       toggles, q1 - q0, kpromoted_queued(), iso_anon, iso_file);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("churn child: %s", WIFEXITED(status) && WEXITSTATUS(status) == 1 ?
		       "lost a write" : "failed");
	EXPECT_LT(0, q1 - q0);
	EXPECT_EQ(0, kpromoted_queued());
	EXPECT_EQ(0, iso_anon);
	EXPECT_EQ(0, iso_file);
}

/*
 * Switching asynchronous promotion off stops kpromoted at once: it
 * finishes the batch it is migrating (at most 512 folios) and drops the
 * rest of its queue, and the write returns then, with the queue empty and
 * no promotion by kpromoted afterwards.  Every transactional copy is held
 * open for 2 ms (CONFIG_NOMAD_DEBUG), so promoting the whole queue would
 * take seconds.
 */
TEST_F_TIMEOUT(async, switch_off_stops_kpromoted, 120)
{
	size_t len = 32 * MIB, pages = len / NOMAD_PAGE_SIZE;
	long long q0, s0, s1, s2;
	long queued, left;
	double t0, t_off;
	char *buf;

	if (access(NOMAD_TPM_COPY_DELAY, W_OK))
		SKIP(return, "no %s (CONFIG_NOMAD_DEBUG=n)", NOMAD_TPM_COPY_DELAY);
	buf = map_on_node(len, MPOL_BIND, self->slow, 0x3c);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, unbind(buf, len));
	ASSERT_EQ(0, write_long(TPM, 1));
	ASSERT_EQ(0, write_long(NOMAD_TPM_COPY_DELAY, 2000));
	ASSERT_EQ(0, write_long(ASYNC, 1));
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	q0 = vmstat_get("nomad_promote_queued");
	t0 = now_sec();
	do {
		read_pages(buf, len);
		queued = kpromoted_queued();
	} while (queued < (long)pages / 2 && now_sec() - t0 < 30);
	s0 = vmstat_get("nomad_promote_success");
	t0 = now_sec();
	ASSERT_EQ(0, write_long(ASYNC, 0));
	t_off = now_sec() - t0;
	s1 = vmstat_get("nomad_promote_success");
	left = kpromoted_queued();
	usleep(1500000);
	s2 = vmstat_get("nomad_promote_success");
	write_long(NOMAD_TPM_COPY_DELAY, 0);
	TH_LOG("queued %lld, %ld in the queue just before the switch-off, which took %.2f s",
	       vmstat_get("nomad_promote_queued") - q0, queued, t_off);
	TH_LOG("promoted by kpromoted: %lld during the switch-off, %lld after it",
	       s1 - s0, s2 - s1);
	ASSERT_LE((long)pages / 2, queued) TH_LOG("the queue never filled");
	EXPECT_EQ(0, left);
	EXPECT_EQ(0, s2 - s1);
	/* the batch in flight, and one more finished before the write */
	EXPECT_GE(2 * 512, s1 - s0);
	EXPECT_EQ(0x3c, buf[0]);
	EXPECT_EQ(0x3c, buf[len - 1]);
	munmap(buf, len);
}

/* The back-off shift of @nid's kpromoted (debugfs), or -1. */
static int backoff_shift(int nid)
{
	char buf[4096], *line;
	int n, q, shift;

	if (read_file("/sys/kernel/debug/nomad/kpromoted", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (sscanf(line, "%d %d %d", &n, &q, &shift) == 3 && n == nid)
			return shift;
	return -1;
}

/* Read the first word of every page of @buf once; count those not @i. */
static long sweep(char *buf, long pages)
{
	long i, bad = 0;

	for (i = 0; i < pages; i++)
		bad += __atomic_load_n((long *)(buf + i * NOMAD_PAGE_SIZE),
				       __ATOMIC_RELAXED) != i;
	return bad;
}

/*
 * One turn of thrashing: read @buf for half a second, which promotes it,
 * then send it back to @slow as reclaim would to make room.
 */
static long thrash_turn(char *buf, long pages, int slow)
{
	double t0 = now_sec();
	long bad = 0;

	do
		bad += sweep(buf, pages);
	while (now_sec() - t0 < 0.5);
	if (move_to_node(buf, pages * NOMAD_PAGE_SIZE, slow))
		bad++;
	return bad;
}

/*
 * Thrashing: every folio promoted goes back to the slow node within half
 * a second.  The test plays reclaim's part with move_pages(): which pages
 * kswapd demotes, and whether it demotes at all, depends on reference bits
 * and timing (on the debug kernel, with two sets read in turns, kswapd gave
 * up on the fast node in two runs of three), while a demotion by any path
 * goes through the same folio_migrate_flags() and counts the same.  The
 * back-off must see the re-demotions and drop candidates; with the knob
 * off it must drop none.
 */
TEST_F_TIMEOUT(async, backs_off_when_thrashing, 150)
{
	size_t len = 16 * MIB;
	long long d0, r0, s0, d1, r1, s1, d2, q1, q2;
	long pages = len / NOMAD_PAGE_SIZE, i, bad = 0, turns = 0;
	int shift, max_shift = 0;
	char *buf;
	double t0;

	buf = map_on_node(len, MPOL_BIND, self->slow, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < pages; i++)
		*(long *)(buf + i * NOMAD_PAGE_SIZE) = i;
	ASSERT_EQ(0, unbind(buf, len));

	ASSERT_EQ(0, write_long(BACKOFF, 1));
	ASSERT_EQ(0, write_long(ASYNC, 1));
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	d0 = vmstat_get("nomad_promote_drop_backoff");
	r0 = vmstat_get("nomad_promote_redemoted");
	s0 = vmstat_get("nomad_promote_success");
	t0 = now_sec();
	do {
		bad += thrash_turn(buf, pages, self->slow);
		turns++;
		shift = backoff_shift(self->fast);
		if (shift > max_shift)
			max_shift = shift;
		d1 = vmstat_get("nomad_promote_drop_backoff");
	} while (d1 == d0 && now_sec() - t0 < 60);
	r1 = vmstat_get("nomad_promote_redemoted");
	s1 = vmstat_get("nomad_promote_success");
	TH_LOG("on: %ld turns, %.1f s: promoted %lld, re-demoted %lld, dropped %lld, shift %d",
	       turns, now_sec() - t0, s1 - s0, r1 - r0, d1 - d0, max_shift);
	/* the shift may be back at 0 when sampled: the drops are the proof */
	EXPECT_LT(0, r1 - r0);
	EXPECT_LT(0, d1 - d0);

	/*
	 * Off: every candidate is admitted again (a fault resets the shift).
	 * The hinting faults of phase one told the NUMA scanner that the
	 * task's memory is local now, as mainline's promotions do, so it
	 * scans slowly, and it skips a VMA without recent faults (pages
	 * moved right after a scan marked them do not fault) until it
	 * forces a scan of it: give it up to 40 s to send candidates.
	 */
	ASSERT_EQ(0, write_long(BACKOFF, 0));
	bad += sweep(buf, pages);
	d1 = vmstat_get("nomad_promote_drop_backoff");
	q1 = vmstat_get("nomad_promote_queued");
	t0 = now_sec();
	for (i = 0; i < 8 || (vmstat_get("nomad_promote_queued") - q1 < pages / 4 &&
			      now_sec() - t0 < 40); i++)
		bad += thrash_turn(buf, pages, self->slow);
	d2 = vmstat_get("nomad_promote_drop_backoff");
	q2 = vmstat_get("nomad_promote_queued");
	shift = backoff_shift(self->fast);
	TH_LOG("back-off off: %ld turns, %.1f s: queued %lld, dropped by back-off %lld, shift %d",
	       i, now_sec() - t0, q2 - q1, d2 - d1, shift);
	EXPECT_EQ(d1, d2);
	EXPECT_LT(0, q2 - q1);	/* there were candidates to drop */
	EXPECT_EQ(0, shift);
	EXPECT_EQ(0, bad);

	write_long(BACKOFF, 1);
	munmap(buf, len);
}

TEST_HARNESS_MAIN
