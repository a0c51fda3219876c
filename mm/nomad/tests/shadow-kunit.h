/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests of the shadow link, included from shadow.c: the encoding of
 * ->private, and the movable-page life of a listed shadow (isolation,
 * putback, migration with its link, a link broken while isolated).  The
 * links are made by hand between two kernel pages of the test; no folio
 * is promoted or demoted, and vm.nomad_shadow stays off (only new links
 * are allowed while a test runs).
 */
#ifndef _NOMAD_SHADOW_KUNIT_H
#define _NOMAD_SHADOW_KUNIT_H

#include <kunit/test.h>

static void nomad_shadow_encoding(struct kunit *test)
{
	static const unsigned long tags[] = {
		NOMAD_SHADOW_MASTER, NOMAD_SHADOW_CLAIMED, NOMAD_SHADOW_SHADOW,
	};
	unsigned long pfns[] = { 1, 0x12345, max_pfn - 1 };
	int i, j;

	/* the listed bit is not part of the tag */
	KUNIT_EXPECT_EQ(test, NOMAD_SHADOW_LISTED & NOMAD_SHADOW_TAG_MASK, 0UL);
	KUNIT_EXPECT_EQ(test, NOMAD_SHADOW_LISTED >> NOMAD_SHADOW_PFN_SHIFT, 0UL);
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		for (j = 0; j < ARRAY_SIZE(pfns); j++) {
			unsigned long v = sh_enc(pfns[j], tags[i]);

			KUNIT_EXPECT_EQ(test, sh_pfn(v), pfns[j]);
			KUNIT_EXPECT_EQ(test, sh_tag(v), tags[i]);
			KUNIT_EXPECT_EQ(test, sh_pfn(v | NOMAD_SHADOW_LISTED), pfns[j]);
			KUNIT_EXPECT_EQ(test, sh_tag(v | NOMAD_SHADOW_LISTED), tags[i]);
		}
	}
	/* no link, or a PFN without a page, names no page */
	KUNIT_EXPECT_NULL(test, sh_other(0));
	KUNIT_EXPECT_NULL(test, sh_other(sh_enc(1UL << 50, NOMAD_SHADOW_SHADOW)));
}

struct shk_pair {
	struct page *master, *shadow;
	bool accepting;
	long nr;
};

/* nr_nomad_shadow of @page's node, with the per-CPU deltas not yet folded */
static long shk_nr_shadows(struct page *page)
{
	pg_data_t *pgdat = page_pgdat(page);
	long nr = node_page_state_pages(pgdat, NR_NOMAD_SHADOW);
	int cpu;

	for_each_online_cpu(cpu)
		nr += per_cpu_ptr(pgdat->per_cpu_nodestats,
				  cpu)->vm_node_stat_diff[NR_NOMAD_SHADOW];
	return nr;
}

/*
 * Two pages of one node, the second a listed shadow of the first, as
 * nomad_shadow_adopt() leaves them: NOMAD holds one reference to the
 * shadow, the test one to each page.
 */
static void shk_link(struct kunit *test, struct shk_pair *p)
{
	struct shadow_node *sn;

	KUNIT_ASSERT_NOT_NULL(test, shadow_nodes);
	p->master = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p->master);
	p->shadow = alloc_pages_node(page_to_nid(p->master), GFP_KERNEL | __GFP_THISNODE, 0);
	KUNIT_ASSERT_NOT_NULL(test, p->shadow);
	memset(page_address(p->shadow), 0x5a, PAGE_SIZE);
	p->accepting = READ_ONCE(shadow_accepting);
	WRITE_ONCE(shadow_accepting, true);
	p->nr = shk_nr_shadows(p->shadow);

	get_page(p->shadow);
	lock_page(p->shadow);
	__SetPageMovable(p->shadow, &shadow_mops);
	unlock_page(p->shadow);
	sn = sh_node(p->shadow);
	spin_lock_irq(&sn->lock);
	sh_set(p->master, sh_enc(page_to_pfn(p->shadow), NOMAD_SHADOW_MASTER));
	sh_set(p->shadow, sh_enc(page_to_pfn(p->master), NOMAD_SHADOW_SHADOW) |
			  NOMAD_SHADOW_LISTED);
	atomic_long_inc(&shadow_links);
	list_add(&page_folio(p->shadow)->lru, &sn->list);
	sh_count(p->shadow, 1);
	spin_unlock_irq(&sn->lock);
}

static void shk_unlink(struct shk_pair *p)
{
	/* drops a listed shadow; nothing if the link is gone already */
	nomad_shadow_drop(page_folio(p->master), false);
	WRITE_ONCE(shadow_accepting, p->accepting);
	put_page(p->master);
}

/* Isolation as isolate_movable_page() does it: a reference, the lock. */
static bool shk_isolate(struct page *page)
{
	bool isolated;

	get_page(page);
	lock_page(page);
	isolated = shadow_mops.isolate_page(page, ISOLATE_UNEVICTABLE);
	unlock_page(page);
	if (!isolated)
		put_page(page);
	return isolated;
}

/* Putback as putback_movable_pages() does it. */
static void shk_putback(struct page *page)
{
	lock_page(page);
	shadow_mops.putback_page(page);
	unlock_page(page);
	put_page(page);
}

static void nomad_shadow_isolate_putback(struct kunit *test)
{
	struct shk_pair p;

	shk_link(test, &p);
	KUNIT_EXPECT_TRUE(test, __PageMovable(p.shadow));
	KUNIT_ASSERT_TRUE(test, shk_isolate(p.shadow));
	/* off the list, still linked and counted; not isolated twice */
	KUNIT_EXPECT_EQ(test, sh_get(p.shadow),
			sh_enc(page_to_pfn(p.master), NOMAD_SHADOW_SHADOW));
	KUNIT_EXPECT_EQ(test, shk_nr_shadows(p.shadow), p.nr + 1);
	KUNIT_EXPECT_FALSE(test, shk_isolate(p.shadow));

	shk_putback(p.shadow);
	KUNIT_EXPECT_EQ(test, sh_get(p.shadow),
			sh_enc(page_to_pfn(p.master), NOMAD_SHADOW_SHADOW) |
			NOMAD_SHADOW_LISTED);
	KUNIT_EXPECT_EQ(test, page_ref_count(p.shadow), 2);

	shk_unlink(&p);
	KUNIT_EXPECT_EQ(test, sh_get(p.master), 0UL);
	KUNIT_EXPECT_EQ(test, page_ref_count(p.shadow), 1);
	KUNIT_EXPECT_EQ(test, shk_nr_shadows(p.shadow), p.nr);
	put_page(p.shadow);
}

static void nomad_shadow_broken_while_isolated(struct kunit *test)
{
	struct shk_pair p;

	shk_link(test, &p);
	KUNIT_ASSERT_TRUE(test, shk_isolate(p.shadow));
	/* a write to the master only breaks the link of an isolated shadow */
	nomad_shadow_drop(page_folio(p.master), true);
	KUNIT_EXPECT_EQ(test, sh_get(p.master), 0UL);
	KUNIT_EXPECT_EQ(test, page_ref_count(p.shadow), 3);
	/* the putback frees it: NOMAD's reference and the count go */
	shk_putback(p.shadow);
	KUNIT_EXPECT_EQ(test, sh_get(p.shadow), 0UL);
	KUNIT_EXPECT_EQ(test, page_ref_count(p.shadow), 1);
	KUNIT_EXPECT_EQ(test, shk_nr_shadows(p.shadow), p.nr);

	shk_unlink(&p);
	put_page(p.shadow);
}

static void nomad_shadow_migrate_moves_link(struct kunit *test)
{
	struct page *dst;
	struct shk_pair p;
	int rc;

	shk_link(test, &p);
	dst = alloc_pages_node(page_to_nid(p.shadow), GFP_KERNEL | __GFP_THISNODE, 0);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	KUNIT_ASSERT_TRUE(test, shk_isolate(p.shadow));

	lock_page(p.shadow);
	lock_page(dst);
	rc = shadow_mops.migrate_page(dst, p.shadow, MIGRATE_SYNC);
	unlock_page(dst);
	unlock_page(p.shadow);
	KUNIT_EXPECT_EQ(test, rc, MIGRATEPAGE_SUCCESS);

	/* the link, the list, the count and the data moved to dst */
	KUNIT_EXPECT_EQ(test, sh_get(p.master),
			sh_enc(page_to_pfn(dst), NOMAD_SHADOW_MASTER));
	KUNIT_EXPECT_EQ(test, sh_get(dst),
			sh_enc(page_to_pfn(p.master), NOMAD_SHADOW_SHADOW) |
			NOMAD_SHADOW_LISTED);
	KUNIT_EXPECT_TRUE(test, sh_movable(dst));
	KUNIT_EXPECT_NULL(test, memchr_inv(page_address(dst), 0x5a, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, shk_nr_shadows(dst), p.nr + 1);
	/* src is released: the test's and the isolation's references remain */
	KUNIT_EXPECT_EQ(test, sh_get(p.shadow), 0UL);
	KUNIT_EXPECT_FALSE(test, sh_movable(p.shadow));
	KUNIT_EXPECT_EQ(test, page_ref_count(p.shadow), 2);
	KUNIT_EXPECT_EQ(test, page_ref_count(dst), 2);

	put_page(p.shadow);	/* the isolation's, as the migration core does */
	put_page(dst);		/* the allocation's, likewise */
	shk_unlink(&p);
	KUNIT_EXPECT_EQ(test, shk_nr_shadows(p.shadow), p.nr);
	put_page(p.shadow);
}

static struct kunit_case nomad_shadow_cases[] = {
	KUNIT_CASE(nomad_shadow_encoding),
	KUNIT_CASE(nomad_shadow_isolate_putback),
	KUNIT_CASE(nomad_shadow_broken_while_isolated),
	KUNIT_CASE(nomad_shadow_migrate_moves_link),
	{}
};

static struct kunit_suite nomad_shadow_suite = {
	.name = "nomad_shadow",
	.test_cases = nomad_shadow_cases,
};

kunit_test_suite(nomad_shadow_suite);

#endif /* _NOMAD_SHADOW_KUNIT_H */
