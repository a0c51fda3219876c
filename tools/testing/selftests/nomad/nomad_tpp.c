// SPDX-License-Identifier: GPL-2.0
/*
 * Baseline: with every NOMAD knob off and kernel.numa_balancing=2 (memory
 * tiering), pages on the slow node that are accessed repeatedly are
 * promoted to the fast node by mainline's hint-fault path, and no NOMAD
 * counter moves.
 */
#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING "/proc/sys/kernel/numa_balancing"
#define BUF_LEN (64UL << 20)
#define TIMEOUT_SEC 100

/*
 * The promotion loop may wait TIMEOUT_SEC; the harness's default timeout
 * (30 s) would kill it first on a slow (debug) kernel.
 */
FIXTURE(tpp) {
	int unused;
};

FIXTURE_SETUP(tpp)
{
}

FIXTURE_TEARDOWN(tpp)
{
}

TEST_F_TIMEOUT(tpp, promotes_with_nomad_off, TIMEOUT_SEC + 60)
{
	long pages = BUF_LEN / NOMAD_PAGE_SIZE, on_fast, on_slow;
	long long promoted0, promoted1, nomad0, nomad1;
	int fast, slow, ok;
	long saved_nb;
	double t0;
	char *buf;

	if (find_tier_nodes(&fast, &slow))
		SKIP(return, "platform has no lower memory tier");
	ASSERT_EQ(0, nomad_set_switches(0));
	saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);

	buf = map_on_node(BUF_LEN, MPOL_BIND, slow, 0x3c);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, unbind(buf, BUF_LEN));
	on_slow = pages_on_node(buf, BUF_LEN, slow);
	ASSERT_EQ(pages, on_slow) TH_LOG("only %ld of %ld pages on node %d", on_slow, pages, slow);

	numab_fast_scan();
	promoted0 = vmstat_get("pgpromote_success");
	nomad0 = nomad_counters_sum();
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	t0 = now_sec();
	on_fast = read_until_promoted(buf, BUF_LEN, fast, TIMEOUT_SEC);
	write_long(NUMA_BALANCING, saved_nb);
	promoted1 = vmstat_get("pgpromote_success");
	nomad1 = nomad_counters_sum();

	TH_LOG("%ld of %ld pages promoted to node %d in %.1f s; pgpromote_success +%lld",
	       on_fast, pages, fast, now_sec() - t0, promoted1 - promoted0);
	EXPECT_LE(pages * 9 / 10, on_fast);
	/* node counters fold per-CPU deltas lazily: allow a little drift */
	EXPECT_LE(on_fast * 95 / 100, promoted1 - promoted0);
	EXPECT_EQ(0, nomad1 - nomad0) TH_LOG("a NOMAD counter moved with every knob off");
	/* the data moved with the pages */
	EXPECT_EQ(0x3c, buf[0]);
	EXPECT_EQ(0x3c, buf[BUF_LEN - 1]);
	munmap(buf, BUF_LEN);
}

TEST_HARNESS_MAIN
