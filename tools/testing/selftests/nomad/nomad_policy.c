// SPDX-License-Identifier: GPL-2.0
/*
 * Promotion obeys the task's memory policy and cpuset, in every mode.
 *
 * Mainline checks the VMA or task policy when the hinting fault decides to
 * promote (mpol_misplaced()) and the cpuset when it allocates the target
 * page, both in the faulting task.  With asynchronous promotion the copy is
 * made later by a kernel thread: a policy changed meanwhile, or a cpuset
 * that excludes the fast node, must still be obeyed.  Each test runs under
 * mainline tiering (TPP), asynchronous promotion, and full NOMAD (async +
 * transactional migration + shadows), with demotion on.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define DEMOTION	"/sys/kernel/mm/numa/demotion_enabled"
#define ASYNC		"/proc/sys/vm/nomad_async_promotion"
#define TPM		"/proc/sys/vm/nomad_transactional_migration"
#define SHADOW		"/proc/sys/vm/nomad_shadow"
#define CGROOT		"/sys/fs/cgroup"
#define CG		CGROOT "/nomad_policy"
#define MIB		(1024UL * 1024)
#define PAGES(len)	((long)((len) / NOMAD_PAGE_SIZE))

FIXTURE(policy) {
	int fast, slow;
	long saved_nb;
	char saved_demotion[16];
};

FIXTURE_VARIANT(policy) {
	int async, tpm, shadow;
};

FIXTURE_VARIANT_ADD(policy, tpp) {
	.async = 0, .tpm = 0, .shadow = 0,
};

FIXTURE_VARIANT_ADD(policy, async) {
	.async = 1, .tpm = 0, .shadow = 0,
};

FIXTURE_VARIANT_ADD(policy, nomad) {
	.async = 1, .tpm = 1, .shadow = 1,
};

FIXTURE_SETUP(policy)
{
	int ok;

	if (find_tier_nodes(&self->fast, &self->slow))
		SKIP(return, "platform has no lower memory tier");
	self->saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);
	ASSERT_LT(0, read_file(DEMOTION, self->saved_demotion,
			       sizeof(self->saved_demotion)));
	ASSERT_EQ(0, write_file(DEMOTION, "true"));
	ASSERT_EQ(0, nomad_set_switches(0));
	ASSERT_EQ(0, write_long(ASYNC, variant->async));
	ASSERT_EQ(0, write_long(TPM, variant->tpm));
	ASSERT_EQ(0, write_long(SHADOW, variant->shadow));
	numab_fast_scan();
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
}

FIXTURE_TEARDOWN(policy)
{
	nomad_set_switches(0);
	write_long(NUMA_BALANCING, self->saved_nb);
	write_file(DEMOTION, self->saved_demotion);
	rmdir(CG);
}

/* Promotions seen so far: done by anyone, or queued for kpromoted. */
static long long promotions_started(void)
{
	return vmstat_get("pgpromote_success") + vmstat_get("nomad_promote_queued");
}

/*
 * Read a buffer on the slow node until promotion starts, then bind it to
 * the slow node (moving what is already on the fast node back).  Folios
 * queued before the mbind() must not be promoted afterwards, nor anything
 * the hinting faults find later: MPOL_BIND without MPOL_F_NUMA_BALANCING
 * never promotes.
 */
TEST_F_TIMEOUT(policy, mbind_stops_promotion, 120)
{
	size_t len = 64 * MIB;
	unsigned long mask[NOMAD_MAX_NODES / (8 * sizeof(long)) + 1] = { 0 };
	long long p0, p1, p2;
	long on_fast, on_slow;
	double t0;
	char *buf;

	buf = map_on_node(len, MPOL_BIND, self->slow, 0x6b);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, unbind(buf, len));
	ASSERT_EQ(PAGES(len), pages_on_node(buf, len, self->slow));

	p0 = promotions_started();
	t0 = now_sec();
	do {
		read_pages(buf, len);
		p1 = promotions_started();
	} while (p1 == p0 && now_sec() - t0 < 60);
	ASSERT_LT(p0, p1) TH_LOG("no promotion started within 60 s");

	mask[self->slow / (8 * sizeof(long))] |= 1UL << (self->slow % (8 * sizeof(long)));
	ASSERT_EQ(0, sys_mbind(buf, len, MPOL_BIND, mask, NOMAD_MAX_NODES + 1,
			       MPOL_MF_MOVE));
	p2 = promotions_started();

	/* keep the pages hot: hinting faults go on */
	t0 = now_sec();
	while (now_sec() - t0 < 4)
		read_pages(buf, len);

	on_fast = pages_on_node(buf, len, self->fast);
	on_slow = pages_on_node(buf, len, self->slow);
	TH_LOG("promotion started: +%lld when seen, +%lld by the mbind", p1 - p0, p2 - p0);
	TH_LOG("4 s after the mbind: %ld of %ld pages on the fast node %d, %ld queued",
	       on_fast, PAGES(len), self->fast, kpromoted_queued());
	EXPECT_EQ(0, on_fast);
	EXPECT_EQ(PAGES(len), on_slow);
	EXPECT_EQ(0x6b, buf[0]);
	EXPECT_EQ(0x6b, buf[len - 1]);
	munmap(buf, len);
}

struct cpuset_result {
	long placed_slow, placed_fast, max_on_fast, on_fast, rounds;
};

/* The child: in cgroup @cg, with cpuset.mems = {slow}. */
static int cpuset_child(int fast, int slow, size_t len, double secs, int fd)
{
	struct cpuset_result r = { 0 };
	double t0;
	char *buf;

	if (write_file(CG "/cgroup.procs", "0"))
		return 3;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || madvise(buf, len, MADV_NOHUGEPAGE))
		return 3;
	memset(buf, 0x3c, len);
	r.placed_slow = pages_on_node(buf, len, slow);
	r.placed_fast = pages_on_node(buf, len, fast);
	r.max_on_fast = r.placed_fast;

	t0 = now_sec();
	while (now_sec() - t0 < secs) {
		int i;

		for (i = 0; i < 10; i++)
			read_pages(buf, len);
		r.on_fast = pages_on_node(buf, len, fast);
		if (r.on_fast > r.max_on_fast)
			r.max_on_fast = r.on_fast;
		r.rounds++;
		/* the bug: no need to wait any longer */
		if (r.on_fast >= PAGES(len) / 2)
			break;
	}
	if (buf[0] != 0x3c || buf[len - 1] != 0x3c)
		return 4;
	return write(fd, &r, sizeof(r)) == sizeof(r) ? 0 : 3;
}

/*
 * A task whose cpuset allows only the slow node must never get a page on
 * the fast node, however hot its pages are: the NUMA scanner still marks
 * them and the hinting faults still want to promote them.
 */
TEST_F_TIMEOUT(policy, cpuset_mems_slow_never_promoted, 120)
{
	size_t len = 32 * MIB;
	long long h0, h1, q0, q1;
	struct cpuset_result r;
	char mems[16];
	int status, fds[2];
	pid_t pid;

	if (access(CGROOT "/cgroup.controllers", R_OK))
		SKIP(return, "no cgroup v2 at " CGROOT);
	if (write_file(CGROOT "/cgroup.subtree_control", "+cpuset"))
		SKIP(return, "no cpuset controller (CONFIG_CPUSETS)");
	ASSERT_TRUE(!mkdir(CG, 0755) || errno == EEXIST);
	snprintf(mems, sizeof(mems), "%d", self->slow);
	ASSERT_EQ(0, write_file(CG "/cpuset.mems", mems));

	ASSERT_EQ(0, pipe(fds));
	h0 = vmstat_get("numa_hint_faults");
	q0 = vmstat_get("nomad_promote_queued");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(cpuset_child(self->fast, self->slow, len, 10, fds[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	h1 = vmstat_get("numa_hint_faults");
	q1 = vmstat_get("nomad_promote_queued");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(r), read(fds[0], &r, sizeof(r)));
	close(fds[0]);
	close(fds[1]);

	TH_LOG("cpuset.mems=%d: %ld of %ld pages placed there; hint faults +%lld, queued +%lld",
	       self->slow, r.placed_slow, PAGES(len), h1 - h0, q1 - q0);
	TH_LOG("pages on the fast node %d: %ld after %ld rounds, at most %ld",
	       self->fast, r.on_fast, r.rounds, r.max_on_fast);
	/* (a promotion may already have moved a page by the time we look) */
	ASSERT_LE(PAGES(len) * 9 / 10, r.placed_slow);
	/* the pages were hot and looked at: promotion was asked for */
	EXPECT_LT(PAGES(len) / 2, h1 - h0);
	EXPECT_EQ(0, r.max_on_fast);
	EXPECT_EQ(0, rmdir(CG));
}

/*
 * Switching memory tiering off (kernel.numa_balancing=0) while folios are
 * queued: kpromoted must not go on promoting them.
 */
TEST_F_TIMEOUT(policy, tiering_off_stops_promotion, 120)
{
	size_t len = 64 * MIB;
	long long q0, q1, s1, s2;
	long queued;
	double t0;
	char *buf;

	if (!variant->async) {
		TH_LOG("mainline: nothing is queued, promotion happens in the fault");
		return;
	}
	buf = map_on_node(len, MPOL_BIND, self->slow, 0x5a);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, unbind(buf, len));

	q0 = vmstat_get("nomad_promote_queued");
	t0 = now_sec();
	do {
		read_pages(buf, len);
		q1 = vmstat_get("nomad_promote_queued");
	} while (q1 - q0 < PAGES(len) / 4 && now_sec() - t0 < 60);
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 0));
	s1 = vmstat_get("nomad_promote_success");
	queued = kpromoted_queued();
	sleep(4);
	s2 = vmstat_get("nomad_promote_success");
	TH_LOG("queued +%lld, %ld at numa_balancing=0; promoted after it %lld, now %ld queued",
	       q1 - q0, queued, s2 - s1, kpromoted_queued());
	ASSERT_LE(PAGES(len) / 4, q1 - q0);
	/* at most the one batch whose migration had already begun */
	EXPECT_GE(512, s2 - s1);
	EXPECT_EQ(0, kpromoted_queued());
	munmap(buf, len);
}

TEST_HARNESS_MAIN
