/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests of the promotion back-off, included from backoff.c: the
 * control law, and the promotion time stamp that tells a re-demotion.
 */
#ifndef _NOMAD_BACKOFF_KUNIT_H
#define _NOMAD_BACKOFF_KUNIT_H

#include <kunit/test.h>

static void nomad_backoff_step_follows_redemotions(struct kunit *test)
{
	/* half or more of the promotions came back: admit half as many */
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(0, 1000, 500), 1U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(3, 1000, 900), 4U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(3, 40, 200), 4U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(NOMAD_BACKOFF_MAX_SHIFT, 1000, 1000),
			NOMAD_BACKOFF_MAX_SHIFT);
	/* between a quarter and a half: stay */
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(3, 1000, 250), 3U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(3, 1000, 499), 3U);
	/* fewer than a quarter, or too few to tell: admit twice as many */
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(3, 1000, 249), 2U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(3, 10, NOMAD_BACKOFF_MIN_FOLIOS - 1), 2U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(1, 0, 0), 0U);
	/* no thrashing, no back-off */
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(0, 100000, 0), 0U);
	KUNIT_EXPECT_EQ(test, nomad_backoff_step(0, 0, 0), 0U);
}

static void nomad_backoff_stamp_tells_recent(struct kunit *test)
{
	unsigned int grain = 1U << PAGE_ACCESS_TIME_BUCKETS;
	unsigned int soon = min_t(unsigned int, NOMAD_REDEMOTE_SOON_MS,
				  PAGE_ACCESS_TIME_MASK / 2);
	unsigned int t, i;

	/* across the wrap of the millisecond clock and of the field */
	for (i = 0; i < 4; i++) {
		t = i ? (i * 0x40000001U) : 12345;
		KUNIT_EXPECT_TRUE(test, nomad_stamp_recent(nomad_stamp(t), t));
		KUNIT_EXPECT_TRUE(test, nomad_stamp_recent(nomad_stamp(t),
							   t + soon - 2 * grain));
		KUNIT_EXPECT_FALSE(test, nomad_stamp_recent(nomad_stamp(t),
							    t + soon + grain));
	}
	/* a reset field is no promotion, and no time maps to it */
	KUNIT_EXPECT_FALSE(test, nomad_stamp_recent(NO_STAMP, 0));
	KUNIT_EXPECT_FALSE(test, nomad_stamp_recent(NO_STAMP, PAGE_ACCESS_TIME_MASK));
	KUNIT_EXPECT_NE(test, nomad_stamp(PAGE_ACCESS_TIME_MASK), NO_STAMP);
	KUNIT_EXPECT_NE(test, nomad_stamp(0xffffffffU), NO_STAMP);
}

static struct kunit_case nomad_backoff_cases[] = {
	KUNIT_CASE(nomad_backoff_step_follows_redemotions),
	KUNIT_CASE(nomad_backoff_stamp_tells_recent),
	{}
};

static struct kunit_suite nomad_backoff_suite = {
	.name = "nomad_backoff",
	.test_cases = nomad_backoff_cases,
};

kunit_test_suite(nomad_backoff_suite);

#endif /* _NOMAD_BACKOFF_KUNIT_H */
