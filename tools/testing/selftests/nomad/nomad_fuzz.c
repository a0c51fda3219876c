// SPDX-License-Identifier: GPL-2.0
/*
 * Knob fuzzing: every NOMAD sysctl is written with random, boundary and
 * garbage input while pages are being promoted and moved back.  Valid
 * input must be taken, invalid input must fail with EINVAL and change
 * nothing, the workload must not lose data, and nothing may be left
 * queued or isolated afterwards.
 */
#include <signal.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define MIB (1024UL * 1024)

/* Reads, writes and moves pages back to the slow node until killed. */
static void workload(int slow)
{
	size_t len = 16 * MIB, i;
	unsigned int round = 0;
	char *buf = map_on_node(len, MPOL_BIND, slow, 0);

	if (buf == MAP_FAILED || unbind(buf, len))
		_exit(2);
	for (;;) {
		round++;
		for (i = 0; i < len; i += NOMAD_PAGE_SIZE) {
			if ((unsigned char)buf[i] != (unsigned char)(round - 1))
				_exit(1);	/* a write was lost */
			buf[i] = round;
		}
		if (round % 8 == 0)
			move_to_node(buf, len, slow);
	}
}

/* Fill @buf with one fuzz input for @k; returns 1 if it is valid. */
static int fuzz_input(const struct nomad_knob_range *k, char *buf, size_t size, unsigned int *seed)
{
	static const char * const garbage[] = {
		"", "\n", " ", "abc", "1abc", "1 1", "1.0", "1e3",
		"99999999999999999999", "-99999999999999999999", "2147483648",
		"-2147483649", "\x01\x02", "nan",
	};
	long v;

	switch (rand_r(seed) % 4) {
	case 0:	/* in range */
		v = k->min + rand_r(seed) % (k->max - k->min + 1L);
		snprintf(buf, size, rand_r(seed) % 2 ? "%ld\n" : "%ld", v);
		return 1;
	case 1:	/* boundaries, both sides */
		v = rand_r(seed) % 4;
		snprintf(buf, size, "%ld", v == 0 ? k->min : v == 1 ? k->max :
					   v == 2 ? k->min - 1L : k->max + 1L);
		return v < 2;
	case 2:	/* random bytes, never a plain number */
		v = 1 + rand_r(seed) % (size - 2);
		for (size_t i = 0; i < (size_t)v; i++)
			buf[i] = 'a' + rand_r(seed) % 26;
		buf[v] = '\0';
		return 0;
	default:
		snprintf(buf, size, "%s", garbage[rand_r(seed) % NOMAD_ARRAY_SIZE(garbage)]);
		return 0;
	}
}

TEST(fuzz_knobs_under_load)
{
	long writes = 0, taken = 0, refused = 0, wrong = 0, saved_nb;
	unsigned int seed = 12345;
	char path[128], in[64];
	int fast, slow, status, ok;
	size_t i;
	double t0;
	pid_t pid;

	if (find_tier_nodes(&fast, &slow))
		SKIP(return, "platform has no lower memory tier");
	saved_nb = read_long("/proc/sys/kernel/numa_balancing", &ok);
	ASSERT_TRUE(ok);
	numab_fast_scan();
	ASSERT_EQ(0, write_long("/proc/sys/kernel/numa_balancing", 2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		workload(slow);

	t0 = now_sec();
	while (now_sec() - t0 < 10) {
		size_t which = rand_r(&seed) % NOMAD_ARRAY_SIZE(nomad_knob_ranges);
		const struct nomad_knob_range *k = &nomad_knob_ranges[which];
		int valid = fuzz_input(k, in, sizeof(in), &seed);
		long before, after;
		int rc;

		knob_path(path, sizeof(path), k->name);
		before = read_long(path, &ok);
		rc = write_file(path, in);
		after = read_long(path, &ok);
		writes++;
		if (valid && !rc && after == strtol(in, NULL, 10)) {
			taken++;
		} else if (!valid && rc == -EINVAL && after == before) {
			refused++;
		} else if (wrong++ < 5) {
			TH_LOG("%s <- \"%s\": rc %d, %ld -> %ld (expected %s)", k->name, in, rc,
			       before, after, valid ? "taken" : "EINVAL, unchanged");
		}
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_knob_ranges); i++) {
		knob_path(path, sizeof(path), nomad_knob_ranges[i].name);
		EXPECT_EQ(0, write_long(path, nomad_knob_ranges[i].def));
	}
	write_long("/proc/sys/kernel/numa_balancing", saved_nb);
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	TH_LOG("%ld writes: %ld taken, %ld refused, %ld wrong; promoted %lld, tpm commits %lld",
	       writes, taken, refused, wrong, vmstat_get("nomad_promote_success"),
	       vmstat_get("nomad_tpm_commit"));
	EXPECT_EQ(0, wrong);
	EXPECT_LT(100, writes);
	/* the workload ran until killed: it did not find a lost write */
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("workload exited with %d", WEXITSTATUS(status));
	EXPECT_EQ(0, kpromoted_queued());
	EXPECT_EQ(0, vmstat_get("nr_isolated_anon"));
}

TEST_HARNESS_MAIN
