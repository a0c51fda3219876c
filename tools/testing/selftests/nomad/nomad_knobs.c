// SPDX-License-Identifier: GPL-2.0
/*
 * The vm.nomad_* sysctls: each exists, is off at boot, takes its valid
 * values, and rejects malformed or out-of-range input with EINVAL while
 * keeping its value.
 */
#include "../kselftest_harness.h"
#include "nomad_util.h"

static long knob_get(struct __test_metadata *_metadata, const char *name)
{
	char path[128];
	int ok;
	long v;

	knob_path(path, sizeof(path), name);
	v = read_long(path, &ok);
	EXPECT_TRUE(ok) TH_LOG("cannot read %s", path);
	return v;
}

/* Every on/off switch the other tests flip is a knob checked here. */
TEST(switches_are_knobs)
{
	size_t i, j;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_switches); i++) {
		for (j = 0; j < NOMAD_ARRAY_SIZE(nomad_knob_ranges); j++)
			if (!strcmp(nomad_knob_ranges[j].name, nomad_switches[i]))
				break;
		EXPECT_LT(j, NOMAD_ARRAY_SIZE(nomad_knob_ranges)) TH_LOG("%s", nomad_switches[i]);
	}
}

TEST(knobs_exist_with_defaults)
{
	char path[128];
	size_t i;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_knob_ranges); i++) {
		knob_path(path, sizeof(path), nomad_knob_ranges[i].name);
		ASSERT_EQ(0, access(path, R_OK | W_OK)) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(nomad_knob_ranges[i].def, knob_get(_metadata, nomad_knob_ranges[i].name))
			TH_LOG("%s is not at its boot default", nomad_knob_ranges[i].name);
	}
}

TEST(knobs_accept_valid_values)
{
	char path[128];
	size_t i;
	int v;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_knob_ranges); i++) {
		knob_path(path, sizeof(path), nomad_knob_ranges[i].name);
		const int vals[] = { nomad_knob_ranges[i].max, nomad_knob_ranges[i].min,
				     (nomad_knob_ranges[i].min + nomad_knob_ranges[i].max) / 2 };
		size_t k;

		for (k = 0; k < NOMAD_ARRAY_SIZE(vals); k++) {
			v = vals[k];
			EXPECT_EQ(0, write_long(path, v)) TH_LOG("%s <- %d", path, v);
			EXPECT_EQ(v, knob_get(_metadata, nomad_knob_ranges[i].name));
		}
		/* with a trailing newline, as echo writes it */
		EXPECT_EQ(0, write_file(path, "1\n"));
		EXPECT_EQ(1, knob_get(_metadata, nomad_knob_ranges[i].name));
		ASSERT_EQ(0, write_long(path, nomad_knob_ranges[i].def));
	}
}

TEST(knobs_reject_invalid_input)
{
	static const char * const bad[] = {
		"-1", "2", "100", "2147483648", "99999999999999999999",
		"abc", "1abc", "1 1", "1.0", "\n", " ",
	};
	char path[128], big[32];
	size_t i, j;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_knob_ranges); i++) {
		const struct nomad_knob_range *r = &nomad_knob_ranges[i];

		knob_path(path, sizeof(path), r->name);
		/* a non-default value, so "unchanged" is visible */
		ASSERT_EQ(0, write_long(path, r->max));
		for (j = 0; j < NOMAD_ARRAY_SIZE(bad); j++) {
			const char *in = bad[j];
			long n = strtol(in, NULL, 10);

			/* skip inputs that are valid for this knob's range */
			if (n >= r->min && n <= r->max && strspn(in, "0123456789") == strlen(in))
				continue;
			EXPECT_EQ(-EINVAL, write_file(path, bad[j]))
				TH_LOG("%s accepted \"%s\"", r->name, bad[j]);
			EXPECT_EQ(r->max, knob_get(_metadata, r->name))
				TH_LOG("%s changed by \"%s\"", r->name, bad[j]);
		}
		snprintf(big, sizeof(big), "%d", r->max + 1);
		EXPECT_EQ(-EINVAL, write_file(path, big));
		snprintf(big, sizeof(big), "%d", r->min - 1);
		EXPECT_EQ(-EINVAL, write_file(path, big));
		/* empty write */
		EXPECT_EQ(-EINVAL, write_file_len(path, "", 0));
		EXPECT_EQ(r->max, knob_get(_metadata, r->name));
		ASSERT_EQ(0, write_long(path, r->def));
	}
}

TEST_HARNESS_MAIN
