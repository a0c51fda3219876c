// SPDX-License-Identifier: GPL-2.0
/*
 * Every NOMAD counter is in /proc/vmstat, next to mainline's tiering
 * counters, each name once.
 */
#include "../kselftest_harness.h"
#include "nomad_util.h"

TEST(counters_present)
{
	int missing = 0;
	size_t i;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_counters); i++) {
		if (vmstat_get(nomad_counters[i]) < 0) {
			ksft_print_msg("%s missing from /proc/vmstat\n", nomad_counters[i]);
			missing++;
		}
	}
	EXPECT_EQ(0, missing);
	/* mainline's counters we compare against */
	EXPECT_LE(0, vmstat_get("pgpromote_success"));
	EXPECT_LE(0, vmstat_get("pgdemote_kswapd"));
	EXPECT_LE(0, vmstat_get("numa_hint_faults"));
}

TEST(counters_names_unique)
{
	char line[256], prev[256][64];
	int n = 0, i, dup = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f) && n < 256) {
		if (strncmp(line, "nomad_", 6))
			continue;
		*strchrnul(line, ' ') = '\0';
		for (i = 0; i < n; i++)
			dup += !strcmp(prev[i], line);
		snprintf(prev[n++], sizeof(prev[0]), "%.63s", line);
	}
	fclose(f);
	EXPECT_EQ(0, dup);
	EXPECT_EQ((int)NOMAD_ARRAY_SIZE(nomad_counters), n);
}

TEST_HARNESS_MAIN
