// SPDX-License-Identifier: GPL-2.0
/*
 * The platform NOMAD needs: at least two memory tiers, our CPU's node in
 * the top one, and demotion from it to a lower-tier node once demotion is
 * enabled and the fast node runs short of memory.
 */
#include "../kselftest_harness.h"
#include "nomad_util.h"

#define DEMOTION_ENABLED "/sys/kernel/mm/numa/demotion_enabled"
#define MIB (1024UL * 1024)

TEST(two_tiers_present)
{
	int tier[NOMAD_MAX_NODES], fast, slow;

	ASSERT_LE(2, memory_tiers(tier)) TH_LOG("fewer than two memory tiers");
	ASSERT_EQ(0, find_tier_nodes(&fast, &slow))
		TH_LOG("no memory node in a tier below node %d", current_node());
	EXPECT_LT(tier[fast], tier[slow]);
	TH_LOG("fast node %d (memory_tier%d), slow node %d (memory_tier%d)",
	       fast, tier[fast], slow, tier[slow]);
}

/*
 * Filling and demoting can take longer than the harness's default 30 s
 * on a debug kernel or a loaded host.
 */
FIXTURE(tiers) {
	int unused;
};

FIXTURE_SETUP(tiers)
{
}

FIXTURE_TEARDOWN(tiers)
{
}

/*
 * Fill the fast node with memory bound to it: with demotion on, reclaim
 * makes room by moving older pages (our "cold" buffer) to the slow node
 * instead of failing or OOM-killing us.
 */
TEST_F_TIMEOUT(tiers, demotion_to_lower_tier, 150)
{
	long long demoted0, demoted1;
	size_t cold_len, fill_len;
	char *cold, *fill, saved[16] = "";
	int fast, slow;
	long on_slow, free_kb;

	if (find_tier_nodes(&fast, &slow))
		SKIP(return, "platform has no lower memory tier");
	ASSERT_LT(0, read_file(DEMOTION_ENABLED, saved, sizeof(saved)));
	ASSERT_EQ(0, write_file(DEMOTION_ENABLED, "true"));

	free_kb = node_free_kb(fast);
	ASSERT_LT(0, free_kb);
	cold_len = (free_kb / 1024 / 4) * MIB;
	fill_len = (free_kb / 1024) * MIB;
	TH_LOG("fast node %d has %ld MiB free: cold %zu MiB, fill %zu MiB",
	       fast, free_kb / 1024, cold_len / MIB, fill_len / MIB);

	cold = map_on_node(cold_len, MPOL_PREFERRED, fast, 0x5a);
	ASSERT_NE(MAP_FAILED, cold);
	ASSERT_LT(cold_len / NOMAD_PAGE_SIZE * 9 / 10, pages_on_node(cold, cold_len, fast));

	demoted0 = vmstat_get("pgdemote_kswapd") + vmstat_get("pgdemote_direct");
	/* bound to the fast node: it cannot fall back, reclaim must demote */
	fill = map_on_node(fill_len, MPOL_BIND, fast, 0xa5);
	ASSERT_NE(MAP_FAILED, fill);
	demoted1 = vmstat_get("pgdemote_kswapd") + vmstat_get("pgdemote_direct");

	on_slow = pages_on_node(cold, cold_len, slow);
	TH_LOG("demoted %lld pages; %ld of %zu cold pages now on node %d",
	       demoted1 - demoted0, on_slow, cold_len / NOMAD_PAGE_SIZE, slow);
	EXPECT_LT(0, demoted1 - demoted0);
	EXPECT_LT(0, on_slow);
	/* demotion moves data, it does not lose it */
	EXPECT_EQ(0x5a, cold[0]);
	EXPECT_EQ(0x5a, cold[cold_len - 1]);

	munmap(fill, fill_len);
	munmap(cold, cold_len);
	write_file(DEMOTION_ENABLED, saved);
}

TEST_HARNESS_MAIN
