/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests of transactional migration's commit rule, included from
 * tpm.c: a write through a kernel mapping that straddles the copy must
 * not be lost.
 *
 * A writer such as KVM (kvm_vcpu_map()/kvm_vcpu_unmap()) holds a page
 * reference, not a pin: nomad_tpm_try() cannot see it.  If it writes
 * after the copy, marks the folio dirty after tpm_may_commit() and drops
 * its reference before the move, only the migration core's dirty check
 * after its reference count check catches it.  The race is a few
 * instructions wide, so the tests put the writer exactly there: a static
 * stub of tpm_may_commit() writes, marks dirty and (or not) drops the
 * reference just after the real check.  The folio is one page of a
 * user mapping of the test thread, migrated to another node with memory
 * the way kpromoted migrates.
 *
 * A secondary MMU (KVM) marks the folio dirty when the clean step's
 * invalidation zaps a dirty mapping of it.  Those writes are in memory
 * before the copy, so the first attempt must still commit: a notifier
 * standing in for KVM checks that.
 */
#ifndef _NOMAD_TPM_KUNIT_H
#define _NOMAD_TPM_KUNIT_H

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/swap.h>
#include <linux/uaccess.h>

enum tpm_test_writer {
	TPM_TEST_NO_WRITER,	/* nothing writes: the copy commits */
	TPM_TEST_DROPS_REF,	/* writes, marks dirty, drops its reference */
	TPM_TEST_KEEPS_REF,	/* writes, marks dirty, keeps its reference */
	TPM_TEST_SECONDARY_MMU,	/* a secondary MMU with a dirty mapping */
};

struct tpm_test {
	enum tpm_test_writer writer;
	struct page *ref;	/* the writer's reference, from before the copy */
	int wrote;
	struct mmu_notifier mn;	/* TPM_TEST_SECONDARY_MMU */
	struct folio *folio;
	unsigned long addr;
	bool spte_dirty;	/* its mapping of @folio is dirty */
	int zaps;		/* invalidations that zapped it */
};

/* Like KVM: zapping a dirty mapping of the folio marks it dirty. */
static int tpm_test_invalidate(struct mmu_notifier *mn,
			       const struct mmu_notifier_range *range)
{
	struct tpm_test *t = container_of(mn, struct tpm_test, mn);

	if (range->start <= t->addr && t->addr < range->end && t->spte_dirty) {
		folio_mark_dirty(t->folio);
		t->spte_dirty = false;
		t->zaps++;
	}
	return 0;
}

static const struct mmu_notifier_ops tpm_test_mn_ops = {
	.invalidate_range_start = tpm_test_invalidate,
};

#define TPM_TEST_OLD	0x41
#define TPM_TEST_NEW	0x42

/* tpm_may_commit(), then the writer's late write through its mapping */
static bool tpm_test_may_commit(struct folio *src)
{
	struct kunit *test = kunit_get_current_test();
	struct tpm_test *t = test->priv;
	bool ok;
	void *p;

	kunit_deactivate_static_stub(test, tpm_may_commit);
	ok = tpm_may_commit(src);
	kunit_activate_static_stub(test, tpm_may_commit, tpm_test_may_commit);
	if (t->writer == TPM_TEST_NO_WRITER || t->writer == TPM_TEST_SECONDARY_MMU ||
	    !t->ref || page_folio(t->ref) != src)
		return ok;
	p = kmap_local_folio(src, 0);
	memset(p, TPM_TEST_NEW, PAGE_SIZE);
	kunmap_local(p);
	/* what kvm_set_page_dirty() or set_page_dirty() does */
	folio_mark_dirty(src);
	t->wrote++;
	if (t->writer == TPM_TEST_DROPS_REF) {
		put_page(t->ref);
		t->ref = NULL;
	}
	return ok;
}

/* How often @item was counted between the two snapshots. */
static unsigned long tpm_test_delta(const unsigned long *before,
				    const unsigned long *after, enum vm_event_item item)
{
	return after[item] - before[item];
}

/* A node with memory other than @nid, or NUMA_NO_NODE. */
static int tpm_test_other_node(int nid)
{
	int n;

	for_each_node_state(n, N_MEMORY)
		if (n != nid)
			return n;
	return NUMA_NO_NODE;
}

/* The node of the page mapped at @addr, or NUMA_NO_NODE. */
static int tpm_test_node_of(unsigned long addr)
{
	struct page *page;
	int nid;

	if (get_user_pages_fast(addr, 1, 0, &page) != 1)
		return NUMA_NO_NODE;
	nid = page_to_nid(page);
	put_page(page);
	return nid;
}

/*
 * Migrate one written page of a user mapping to another node, with
 * transactional migration on and @writer acting at the commit check.
 * Checks the data and the node it ends on, and the counters.
 */
static void tpm_test_migrate(struct kunit *test, enum tpm_test_writer writer)
{
	struct tpm_test t = { .writer = writer };
	unsigned long *before, *after, addr;
	struct mem_cgroup *memcg;
	bool key_was_on;
	LIST_HEAD(folios);
	struct folio *folio;
	int src_nid, dst_nid, nid, rc;
	u8 *buf;
	size_t i, bad;

	if (!IS_ENABLED(CONFIG_VM_EVENT_COUNTERS))
		kunit_skip(test, "needs CONFIG_VM_EVENT_COUNTERS");
	before = kunit_kcalloc(test, NR_VM_EVENT_ITEMS, sizeof(*before), GFP_KERNEL);
	after = kunit_kcalloc(test, NR_VM_EVENT_ITEMS, sizeof(*after), GFP_KERNEL);
	buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr), "vm_mmap: %ld", (long)addr);
	memset(buf, TPM_TEST_OLD, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, buf, PAGE_SIZE), 0);

	/* the writer's reference, taken before the migration starts */
	KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr, 1, FOLL_WRITE, &t.ref), 1);
	folio = page_folio(t.ref);
	src_nid = folio_nid(folio);
	dst_nid = tpm_test_other_node(src_nid);
	if (dst_nid == NUMA_NO_NODE) {
		put_page(t.ref);
		kunit_skip(test, "needs a second node with memory");
	}
	KUNIT_ASSERT_TRUE(test, folio_test_anon(folio) && !folio_test_large(folio));

	/* off the per-CPU LRU batch, so that it can be isolated */
	lru_add_drain();
	rc = migrate_misplaced_folio_prepare(folio, NULL, dst_nid);
	if (rc) {
		put_page(t.ref);
		KUNIT_FAIL_AND_ABORT(test, "cannot isolate the folio: %d", rc);
	}
	list_add(&folio->lru, &folios);
	if (writer == TPM_TEST_SECONDARY_MMU) {
		t.mn.ops = &tpm_test_mn_ops;
		t.folio = folio;
		t.addr = addr;
		t.spte_dirty = true;
		rc = mmu_notifier_register(&t.mn, current->mm);
		if (rc) {
			putback_movable_pages(&folios);
			put_page(t.ref);
			KUNIT_FAIL_AND_ABORT(test, "mmu_notifier_register: %d", rc);
		}
	}
	if (writer == TPM_TEST_NO_WRITER || writer == TPM_TEST_SECONDARY_MMU) {
		put_page(t.ref);	/* the isolation holds its own */
		t.ref = NULL;
	}
	memcg = get_mem_cgroup_from_folio(folio);

	test->priv = &t;
	kunit_activate_static_stub(test, tpm_may_commit, tpm_test_may_commit);
	key_was_on = static_key_enabled(&nomad_tpm_key);
	if (!key_was_on)
		static_branch_enable(&nomad_tpm_key);
	all_vm_events(before);
	migrate_misplaced_folios(&folios, memcg, dst_nid);
	all_vm_events(after);
	if (!key_was_on)
		static_branch_disable(&nomad_tpm_key);
	kunit_deactivate_static_stub(test, tpm_may_commit);
	mem_cgroup_put(memcg);
	if (writer == TPM_TEST_SECONDARY_MMU)
		mmu_notifier_unregister(&t.mn, current->mm);

	nid = tpm_test_node_of(addr);
	KUNIT_ASSERT_EQ(test, copy_from_user(buf, (void __user *)addr, PAGE_SIZE), 0);
	if (t.ref)
		put_page(t.ref);
	for (i = 0, bad = 0; i < PAGE_SIZE; i++)
		bad += buf[i] != (writer == TPM_TEST_DROPS_REF || writer == TPM_TEST_KEEPS_REF ?
				  TPM_TEST_NEW : TPM_TEST_OLD);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "bytes that lost their last write");
	KUNIT_EXPECT_EQ(test, t.wrote,
			writer == TPM_TEST_DROPS_REF || writer == TPM_TEST_KEEPS_REF ? 1 : 0);

	KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_ATTEMPT), 1UL);
	switch (writer) {
	case TPM_TEST_NO_WRITER:
		/* moved without a second copy */
		KUNIT_EXPECT_EQ(test, nid, dst_nid);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_COMMIT), 1UL);
		break;
	case TPM_TEST_DROPS_REF:
		/* moved, copied again: the transaction aborted on the dirty flag */
		KUNIT_EXPECT_EQ(test, nid, dst_nid);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_COMMIT), 0UL);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_ABORT_DIRTY), 1UL);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_FALLBACK), 1UL);
		break;
	case TPM_TEST_SECONDARY_MMU:
		/* the first attempt commits: the zap's dirtying was not a write */
		KUNIT_EXPECT_EQ(test, t.zaps, 1);
		KUNIT_EXPECT_EQ(test, nid, dst_nid);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_COMMIT), 1UL);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_ABORT_DIRTY), 0UL);
		break;
	case TPM_TEST_KEEPS_REF:
		/* the reference held at the move: left where it was, mapped again */
		KUNIT_EXPECT_EQ(test, nid, src_nid);
		KUNIT_EXPECT_EQ(test, tpm_test_delta(before, after, NOMAD_TPM_COMMIT), 0UL);
		KUNIT_EXPECT_GT(test, tpm_test_delta(before, after, NOMAD_TPM_ABORT_REF), 0UL);
		break;
	}
}

static void nomad_tpm_commits_clean_copy(struct kunit *test)
{
	tpm_test_migrate(test, TPM_TEST_NO_WRITER);
}

static void nomad_tpm_recopies_after_late_write(struct kunit *test)
{
	tpm_test_migrate(test, TPM_TEST_DROPS_REF);
}

static void nomad_tpm_no_move_while_writer_holds_ref(struct kunit *test)
{
	tpm_test_migrate(test, TPM_TEST_KEEPS_REF);
}

static void nomad_tpm_secondary_mmu_commits_first_try(struct kunit *test)
{
	tpm_test_migrate(test, TPM_TEST_SECONDARY_MMU);
}

static struct kunit_case nomad_tpm_cases[] = {
	KUNIT_CASE(nomad_tpm_commits_clean_copy),
	KUNIT_CASE(nomad_tpm_recopies_after_late_write),
	KUNIT_CASE(nomad_tpm_no_move_while_writer_holds_ref),
	KUNIT_CASE(nomad_tpm_secondary_mmu_commits_first_try),
	{}
};

static struct kunit_suite nomad_tpm_suite = {
	.name = "nomad_tpm",
	.test_cases = nomad_tpm_cases,
};

kunit_test_suite(nomad_tpm_suite);

#endif /* _NOMAD_TPM_KUNIT_H */
