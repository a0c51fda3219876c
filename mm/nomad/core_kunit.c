// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the NOMAD knob handler: what a write accepts, what it
 * rejects, and that a rejected write changes nothing.
 */
#include <kunit/test.h>
#include <linux/string.h>
#include <linux/sysctl.h>

#include "internal.h"

struct knob_ctx {
	struct nomad_knob knob;
	struct ctl_table table;
	int applied;		/* number of apply calls */
	int fail_apply;		/* error the apply hook returns */
};

static int test_apply(struct nomad_knob *knob, int new)
{
	struct knob_ctx *ctx = container_of(knob, struct knob_ctx, knob);

	ctx->applied++;
	return ctx->fail_apply;
}

static struct knob_ctx *knob_ctx_new(struct kunit *test, int min, int max)
{
	struct knob_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->knob.min = min;
	ctx->knob.max = max;
	ctx->knob.val = min;
	ctx->knob.apply = test_apply;
	ctx->table.procname = "nomad_test";
	ctx->table.data = &ctx->knob;
	ctx->table.maxlen = sizeof(ctx->knob);
	ctx->table.mode = 0644;
	ctx->table.proc_handler = nomad_knob_handler;
	return ctx;
}

static int knob_write(struct knob_ctx *ctx, const char *text, size_t len)
{
	char buf[64] = "";
	loff_t pos = 0;

	memcpy(buf, text, min(len, sizeof(buf) - 1));
	return nomad_knob_handler(&ctx->table, 1, buf, &len, &pos);
}

static void nomad_knob_accepts_valid(struct kunit *test)
{
	struct knob_ctx *ctx = knob_ctx_new(test, 0, 100);

	KUNIT_EXPECT_EQ(test, knob_write(ctx, "1", 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->knob.val, 1);
	KUNIT_EXPECT_EQ(test, knob_write(ctx, "100\n", 4), 0);
	KUNIT_EXPECT_EQ(test, ctx->knob.val, 100);
	KUNIT_EXPECT_EQ(test, knob_write(ctx, "  7\n", 4), 0);
	KUNIT_EXPECT_EQ(test, ctx->knob.val, 7);
	KUNIT_EXPECT_EQ(test, knob_write(ctx, "0", 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->knob.val, 0);
	KUNIT_EXPECT_EQ(test, ctx->applied, 4);
}

static void nomad_knob_rejects_invalid(struct kunit *test)
{
	static const char * const bad[] = {
		"", "\n", " ", "-1", "101", "abc", "1abc", "1 2", "1.5",
		"99999999999999999999", "2147483648", "-2147483649",
	};
	struct knob_ctx *ctx = knob_ctx_new(test, 0, 100);
	int i;

	KUNIT_ASSERT_EQ(test, knob_write(ctx, "42", 2), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, knob_write(ctx, bad[i], strlen(bad[i])),
				    -EINVAL, "input \"%s\"", bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, ctx->knob.val, 42, "input \"%s\"", bad[i]);
	}
	KUNIT_EXPECT_EQ(test, ctx->applied, 1);
}

static void nomad_knob_rejects_offset_write(struct kunit *test)
{
	struct knob_ctx *ctx = knob_ctx_new(test, 0, 1);
	char buf[] = "1";
	size_t len = 1;
	loff_t pos = 1;

	KUNIT_EXPECT_EQ(test, nomad_knob_handler(&ctx->table, 1, buf, &len, &pos),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->knob.val, 0);
}

static void nomad_knob_apply_once_per_change(struct kunit *test)
{
	struct knob_ctx *ctx = knob_ctx_new(test, 0, 1);

	KUNIT_EXPECT_EQ(test, knob_write(ctx, "0", 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->applied, 0);
	KUNIT_EXPECT_EQ(test, knob_write(ctx, "1", 1), 0);
	KUNIT_EXPECT_EQ(test, knob_write(ctx, "1", 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->applied, 1);
}

static void nomad_knob_apply_failure_keeps_value(struct kunit *test)
{
	struct knob_ctx *ctx = knob_ctx_new(test, 0, 1);

	ctx->fail_apply = -ENOMEM;
	KUNIT_EXPECT_EQ(test, knob_write(ctx, "1", 1), -ENOMEM);
	KUNIT_EXPECT_EQ(test, ctx->knob.val, 0);
}

static void nomad_knob_read(struct kunit *test)
{
	struct knob_ctx *ctx = knob_ctx_new(test, 0, 100);
	char buf[16] = "";
	size_t len = sizeof(buf);
	loff_t pos = 0;

	ctx->knob.val = 57;
	KUNIT_ASSERT_EQ(test, nomad_knob_handler(&ctx->table, 0, buf, &len, &pos), 0);
	KUNIT_EXPECT_EQ(test, len, (size_t)3);
	KUNIT_EXPECT_STREQ(test, buf, "57\n");
}

static struct kunit_case nomad_knob_cases[] = {
	KUNIT_CASE(nomad_knob_accepts_valid),
	KUNIT_CASE(nomad_knob_rejects_invalid),
	KUNIT_CASE(nomad_knob_rejects_offset_write),
	KUNIT_CASE(nomad_knob_apply_once_per_change),
	KUNIT_CASE(nomad_knob_apply_failure_keeps_value),
	KUNIT_CASE(nomad_knob_read),
	{}
};

static struct kunit_suite nomad_knob_suite = {
	.name = "nomad_knob",
	.test_cases = nomad_knob_cases,
};

kunit_test_suite(nomad_knob_suite);

MODULE_DESCRIPTION("KUnit tests for NOMAD knobs");
MODULE_LICENSE("GPL");
