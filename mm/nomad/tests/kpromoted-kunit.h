/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests of the promotion queue, included from kpromoted.c: what an
 * insert counts, that a queued folio holds no reference (so that reclaim,
 * compaction and offlining can take it), and that a folio freed while
 * queued is dropped as stale.  They use a queue of their own, without a
 * thread, on a page of the test thread's user mapping; memory tiering is
 * off while they run (kernel.numa_balancing=0 at boot), so kpromoted
 * promotes nothing from them.
 */
#ifndef _NOMAD_KPROMOTED_KUNIT_H
#define _NOMAD_KPROMOTED_KUNIT_H

#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/uaccess.h>

/* A queue like kpromoted_start()'s, but no thread drains it. */
static struct kpromoted *kpq_test_queue(struct kunit *test)
{
	struct kpromoted *kp = kunit_kzalloc(test, sizeof(*kp), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, kp);
	kp->nid = numa_node_id();
	xa_init(&kp->folios);
	atomic_set(&kp->nr_queued, 0);
	init_waitqueue_head(&kp->wait);
	mutex_init(&kp->lock);
	nomad_backoff_reset(&kp->backoff);
	return kp;
}

/* @nr pages of a user mapping, written; their folios with a reference each. */
static unsigned long kpq_test_pages(struct kunit *test, int nr, struct page **pages)
{
	unsigned long addr;
	int i;

	addr = kunit_vm_mmap(test, NULL, 0, nr * PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr), "vm_mmap: %ld", (long)addr);
	for (i = 0; i < nr; i++)
		KUNIT_ASSERT_EQ(test, put_user(i + 1, (int __user *)(addr + i * PAGE_SIZE)), 0);
	KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr, nr, FOLL_WRITE, pages), nr);
	return addr;
}

static unsigned long kpq_event(enum vm_event_item item)
{
	unsigned long *ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	unsigned long v = 0;

	if (ev) {
		all_vm_events(ev);
		v = ev[item];
		kfree(ev);
	}
	return v;
}

/* Duplicates are told from a full queue; a queued folio holds no reference. */
static void nomad_kpromoted_enqueue_counts(struct kunit *test)
{
	struct kpromoted *kp = kpq_test_queue(test);
	int saved_max = READ_ONCE(nomad_promote_queue_max.val);
	unsigned long dup0, full0, queued0;
	struct folio *a, *b;
	struct page *pages[2];
	int ref;

	kpq_test_pages(test, 2, pages);
	a = page_folio(pages[0]);
	b = page_folio(pages[1]);
	ref = folio_ref_count(a);
	dup0 = kpq_event(NOMAD_PROMOTE_DROP_DUP);
	full0 = kpq_event(NOMAD_PROMOTE_DROP_FULL);
	queued0 = kpq_event(NOMAD_PROMOTE_QUEUED);

	WRITE_ONCE(nomad_promote_queue_max.val, 1);
	KUNIT_EXPECT_EQ(test, kpromoted_enqueue(kp, a), 0);
	KUNIT_EXPECT_EQ(test, folio_ref_count(a), ref);
	/* full and a duplicate: counted as the duplicate it is */
	KUNIT_EXPECT_EQ(test, kpromoted_enqueue(kp, a), -EBUSY);
	KUNIT_EXPECT_EQ(test, kpromoted_enqueue(kp, b), -ENOSPC);
	WRITE_ONCE(nomad_promote_queue_max.val, saved_max);
	KUNIT_EXPECT_EQ(test, atomic_read(&kp->nr_queued), 1);
	KUNIT_EXPECT_EQ(test, kpq_event(NOMAD_PROMOTE_QUEUED) - queued0, 1UL);
	KUNIT_EXPECT_EQ(test, kpq_event(NOMAD_PROMOTE_DROP_DUP) - dup0, 1UL);
	KUNIT_EXPECT_EQ(test, kpq_event(NOMAD_PROMOTE_DROP_FULL) - full0, 1UL);

	kpromoted_drain(kp, false);
	KUNIT_EXPECT_EQ(test, atomic_read(&kp->nr_queued), 0);
	KUNIT_EXPECT_TRUE(test, xa_empty(&kp->folios));
	KUNIT_EXPECT_EQ(test, folio_ref_count(a), ref);
	put_page(pages[0]);
	put_page(pages[1]);
	xa_destroy(&kp->folios);
}

/* A folio freed while queued: dropped as stale when the queue drains. */
static void nomad_kpromoted_freed_while_queued(struct kunit *test)
{
	struct kpromoted *kp = kpq_test_queue(test);
	unsigned long addr, stale0, success0;
	struct page *page;

	addr = kpq_test_pages(test, 1, &page);
	KUNIT_ASSERT_EQ(test, kpromoted_enqueue(kp, page_folio(page)), 0);
	put_page(page);
	/* the last reference goes with the mapping: nothing of the queue's */
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, PAGE_SIZE), 0);
	stale0 = kpq_event(NOMAD_PROMOTE_DROP_STALE);
	success0 = kpq_event(NOMAD_PROMOTE_SUCCESS);
	kpromoted_drain(kp, true);
	KUNIT_EXPECT_EQ(test, kpq_event(NOMAD_PROMOTE_DROP_STALE) - stale0, 1UL);
	KUNIT_EXPECT_EQ(test, kpq_event(NOMAD_PROMOTE_SUCCESS) - success0, 0UL);
	KUNIT_EXPECT_TRUE(test, xa_empty(&kp->folios));
	xa_destroy(&kp->folios);
}

static struct kunit_case nomad_kpromoted_cases[] = {
	KUNIT_CASE(nomad_kpromoted_enqueue_counts),
	KUNIT_CASE(nomad_kpromoted_freed_while_queued),
	{}
};

static struct kunit_suite nomad_kpromoted_suite = {
	.name = "nomad_kpromoted",
	.test_cases = nomad_kpromoted_cases,
};

kunit_test_suite(nomad_kpromoted_suite);

#endif /* _NOMAD_KPROMOTED_KUNIT_H */
