// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD transactional page migration.
 *
 * Classic migration unmaps a folio (migration entries), copies it and maps
 * the copy: a task touching the folio meanwhile waits for the whole copy.
 * A transactional migration copies first, while the folio stays mapped:
 *
 *  1. clean: clear the dirty bit of every PTE mapping the folio, flushing
 *     the TLB, with an mmu notifier invalidation so that secondary MMUs
 *     drop their mappings too; then clear the folio's dirty flag, which
 *     those invalidations may have set;
 *  2. copy the folio to the destination;
 *  3. unmap it with migration entries; try_to_migrate() moves a dirty PTE
 *     bit into the folio's dirty flag;
 *  4. commit if the folio is fully unmapped, still clean and not pinned:
 *     the migration core then moves it without copying again, and the
 *     refcount check there catches references taken meanwhile (and a
 *     folio dirtied by one dropped since is copied again).  Otherwise
 *     abort: the migration entries are turned back into the old PTEs, and
 *     the attempt is retried up to vm.nomad_tpm_max_retries times.
 *
 * Writes through the CPU page tables set a PTE dirty bit (the TLB no longer
 * holds a dirty entry after step 1).  Writes through a kernel mapping (GUP,
 * process_vm_writev(), /proc/pid/mem, KVM's kvm_vcpu_unmap()) either still
 * hold a reference when the migration core checks the count, or marked the
 * folio dirty before dropping it (set_page_dirty_lock(), unpin with
 * dirtying), which the core checks after the count; secondary MMUs mark it
 * dirty when step 3 invalidates them.  So no write can be lost.  The
 * folio's dirty flag is free for this use because only anonymous,
 * swap-backed folios outside the swap cache are migrated this way: for
 * them it carries no information (reclaim marks them dirty when it adds
 * them to the swap cache).  Large, KSM and maybe-pinned folios take the
 * classic path.
 */

#include <kunit/static_stub.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/nomad.h>
#include <linux/rmap.h>
#include <linux/sysctl.h>
#include <linux/vmstat.h>

#include "../internal.h"
#include "internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/nomad.h>

static struct nomad_knob nomad_tpm_max_retries = {
	.val = 3, .min = 0, .max = 64,
};

static struct nomad_knob nomad_tpm_fallback = {
	.val = 1, .min = 0, .max = 1,
};

static bool tpm_eligible(struct folio *folio)
{
	return folio_test_anon(folio) && !folio_test_ksm(folio) &&
	       folio_test_swapbacked(folio) && !folio_test_swapcache(folio) &&
	       !folio_test_large(folio) && !folio_maybe_dma_pinned(folio);
}

/*
 * rmap_walk() callback: clear the dirty bit of every PTE mapping @folio.
 * Sets *@arg and stops if a mapping cannot be cleaned this way.
 */
static bool tpm_clean_one(struct folio *folio, struct vm_area_struct *vma,
			  unsigned long address, void *arg)
{
	DEFINE_FOLIO_VMA_WALK(pvmw, folio, vma, address, PVMW_SYNC);
	struct mmu_notifier_range range;
	bool *unsafe = arg;
	pte_t entry;

	/* a shadow-stack PTE is Write=0,Dirty=1: cleaning it changes its type */
	if (vma->vm_flags & VM_SHADOW_STACK) {
		*unsafe = true;
		return false;
	}

	/* even for clean PTEs: secondary MMUs may map the folio writable */
	mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_PAGE, 0,
				vma->vm_mm, address, vma_address_end(&pvmw));
	mmu_notifier_invalidate_range_start(&range);
	while (page_vma_mapped_walk(&pvmw)) {
		if (WARN_ON_ONCE(!pvmw.pte)) {	/* small folios only */
			page_vma_mapped_walk_done(&pvmw);
			break;
		}
		entry = ptep_get(pvmw.pte);
		if (!pte_present(entry) || !pte_dirty(entry))
			continue;
		flush_cache_page(vma, pvmw.address, pte_pfn(entry));
		entry = ptep_clear_flush(vma, pvmw.address, pvmw.pte);
		set_pte_at(vma->vm_mm, pvmw.address, pvmw.pte, pte_mkclean(entry));
	}
	mmu_notifier_invalidate_range_end(&range);
	return true;
}

/* Returns false if @folio has a mapping that cannot be cleaned. */
static bool tpm_clean(struct folio *folio)
{
	bool unsafe = false;
	struct rmap_walk_control rwc = {
		.rmap_one = tpm_clean_one,
		.arg = &unsafe,
		.anon_lock = folio_lock_anon_vma_read,
	};

	rmap_walk(folio, &rwc);
	/*
	 * Only now: invalidating a secondary MMU (KVM zapping a dirty SPTE)
	 * marks the folio dirty, for writes that are in memory already and
	 * so in the copy to come.  A writer still holding a reference marks
	 * it again when it is done, and the migration core checks that.
	 */
	folio_clear_dirty(folio);
	return !unsafe;
}

#ifdef CONFIG_NOMAD_DEBUG
/*
 * debugfs nomad/tpm_copy_delay_us: how long each attempt waits between the
 * copy and the unmap.  A write within that window must abort the attempt;
 * a test widens the window so that its writer certainly hits it.
 */
static u32 tpm_copy_delay_us;

static int tpm_copy_delay_get(void *data, u64 *val)
{
	*val = READ_ONCE(tpm_copy_delay_us);
	return 0;
}

static int tpm_copy_delay_set(void *data, u64 val)
{
	if (val > USEC_PER_SEC)
		return -EINVAL;
	WRITE_ONCE(tpm_copy_delay_us, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(tpm_copy_delay_fops, tpm_copy_delay_get,
			 tpm_copy_delay_set, "%llu\n");

static void tpm_copy_delay(void)
{
	u32 us = READ_ONCE(tpm_copy_delay_us);

	if (us)
		fsleep(us);
}

static void tpm_debugfs_init(void)
{
	debugfs_create_file_unsafe("tpm_copy_delay_us", 0600, nomad_debugfs_dir,
				   NULL, &tpm_copy_delay_fops);
}
#else
static inline void tpm_copy_delay(void) { }
static inline void tpm_debugfs_init(void) { }
#endif

/*
 * May a copied, unmapped @src be moved without copying again?  Only if
 * nothing marked it dirty, no PTE still maps it and nothing may have
 * pinned it.  Other references are caught by the migration core's count.
 */
static bool tpm_may_commit(struct folio *src)
{
	KUNIT_STATIC_STUB_REDIRECT(tpm_may_commit, src);
	return !folio_test_dirty(src) && !folio_mapped(src) &&
	       !folio_maybe_dma_pinned(src);
}

/* Count and trace the outcome of an attempt. */
static void tpm_event(struct folio *folio, int attempt, enum nomad_tpm_result result)
{
	static const enum vm_event_item events[] = {
		[NOMAD_TPM_COMMITTED] = NOMAD_TPM_COMMIT,
		[NOMAD_TPM_ABORTED_DIRTY] = NOMAD_TPM_ABORT_DIRTY,
		[NOMAD_TPM_ABORTED_REF] = NOMAD_TPM_ABORT_REF,
		[NOMAD_TPM_FELL_BACK] = NOMAD_TPM_FALLBACK,
	};

	if (result < ARRAY_SIZE(events))
		count_vm_event(events[result]);
	trace_nomad_tpm(folio, attempt, result);
}

/**
 * nomad_tpm_try - Copy a mapped folio, then unmap it if it stayed clean.
 * @src: Locked source folio, mapped, with its anon_vma pinned by the caller.
 * @dst: Locked destination folio.
 *
 * See nomad_tpm_unmap().
 *
 * Return: 1 if @src is unmapped by migration entries and @dst holds its
 * data, 0 if the caller should migrate @src the classic way, -EBUSY if the
 * folio is to be left where it is.
 */
int nomad_tpm_try(struct folio *src, struct folio *dst)
{
	int retries = READ_ONCE(nomad_tpm_max_retries.val);
	int attempt;
	bool dirty;

	if (!tpm_eligible(src)) {
		tpm_event(src, 0, NOMAD_TPM_FELL_BACK);
		return 0;
	}

	for (attempt = 0; attempt <= retries; attempt++) {
		count_vm_event(NOMAD_TPM_ATTEMPT);
		/* on a memory error, let the classic path handle it */
		if (!tpm_clean(src) || folio_mc_copy(dst, src)) {
			tpm_event(src, attempt, NOMAD_TPM_FELL_BACK);
			return 0;
		}
		tpm_copy_delay();
		try_to_migrate(src, 0);
		if (tpm_may_commit(src))
			return 1;	/* counted by nomad_tpm_moved() */

		dirty = folio_test_dirty(src);
		tpm_event(src, attempt, dirty ? NOMAD_TPM_ABORTED_DIRTY :
						NOMAD_TPM_ABORTED_REF);
		/* roll back: the old PTEs, with the dirty bits they gained */
		remove_migration_ptes(src, src, 0);
		if (!dirty)
			break;	/* pinned or not unmappable: retrying won't help */
	}

	if (READ_ONCE(nomad_tpm_fallback.val)) {
		tpm_event(src, attempt, NOMAD_TPM_FELL_BACK);
		return 0;
	}
	tpm_event(src, attempt, NOMAD_TPM_GAVE_UP);
	return -EBUSY;
}

/**
 * nomad_tpm_moved - Account the move of a transactionally copied folio.
 * @src: The source folio.
 * @rc: Result of moving it: 0 if moved, or why not.
 *
 * The move fails when @src gained references after it was unmapped; the
 * migration core then retries the move or maps @src back.  It copies
 * again, unmapped, if @src became dirty after the unmap: a write through
 * a kernel mapping whose reference was dropped before the move.
 */
void nomad_tpm_moved(struct folio *src, int rc)
{
	if (rc) {
		tpm_event(src, 0, NOMAD_TPM_ABORTED_REF);
	} else if (folio_test_dirty(src)) {
		tpm_event(src, 0, NOMAD_TPM_ABORTED_DIRTY);
		tpm_event(src, 0, NOMAD_TPM_FELL_BACK);
	} else {
		tpm_event(src, 0, NOMAD_TPM_COMMITTED);
	}
}

static struct ctl_table tpm_sysctls[] = {
	NOMAD_KNOB("nomad_tpm_max_retries", nomad_tpm_max_retries),
	NOMAD_KNOB("nomad_tpm_fallback", nomad_tpm_fallback),
};

/* late: after nomad_init(), which creates the debugfs directory */
static int __init nomad_tpm_init(void)
{
	register_sysctl_init("vm", tpm_sysctls);
	tpm_debugfs_init();
	return 0;
}
late_initcall(nomad_tpm_init);

#ifdef CONFIG_NOMAD_KUNIT_TEST
#include "tests/tpm-kunit.h"
#endif
