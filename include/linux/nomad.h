/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NOMAD: non-exclusive memory tiering.
 *
 * NOMAD builds on NUMA-balancing memory tiering with three mechanisms,
 * each switched at run time by a sysctl under /proc/sys/vm/:
 *
 * - asynchronous promotion (vm.nomad_async_promotion): the NUMA hinting
 *   fault only queues a promotion candidate, a per-node kernel thread
 *   migrates it;
 * - transactional migration (vm.nomad_transactional_migration): a folio is
 *   copied while it stays mapped and the migration commits only if nothing
 *   wrote to it during the copy;
 * - page shadowing (vm.nomad_shadow): the slow-tier copy of a promoted
 *   folio is kept until the folio is written, so demoting it again is a
 *   remap instead of a copy.
 *
 * All of them are off at boot.  The tests below compile to a patched-out
 * branch, so a kernel with every knob off runs the mainline code paths.
 *
 * See Documentation/admin-guide/mm/nomad.rst.
 */
#ifndef _LINUX_NOMAD_H
#define _LINUX_NOMAD_H

#include <linux/jump_label.h>
#include <linux/migrate_mode.h>
#include <linux/mm_types.h>
#include <linux/page-flags.h>
#include <linux/types.h>

struct folio;
struct vm_area_struct;

#ifdef CONFIG_NOMAD

DECLARE_STATIC_KEY_FALSE(nomad_async_promotion_key);
DECLARE_STATIC_KEY_FALSE(nomad_tpm_key);
DECLARE_STATIC_KEY_FALSE(nomad_shadow_key);

/**
 * nomad_async_promotion_enabled - Is asynchronous promotion switched on?
 *
 * Return: true while vm.nomad_async_promotion is 1.
 */
static inline bool nomad_async_promotion_enabled(void)
{
	return static_branch_unlikely(&nomad_async_promotion_key);
}

/**
 * nomad_tpm_enabled - Is transactional page migration switched on?
 *
 * Return: true while vm.nomad_transactional_migration is 1.
 */
static inline bool nomad_tpm_enabled(void)
{
	return static_branch_unlikely(&nomad_tpm_key);
}

/**
 * nomad_shadow_enabled - Is page shadowing switched on?
 *
 * Return: true while vm.nomad_shadow is 1.
 */
static inline bool nomad_shadow_enabled(void)
{
	return static_branch_unlikely(&nomad_shadow_key);
}

#else /* !CONFIG_NOMAD */

static inline bool nomad_async_promotion_enabled(void)
{
	return false;
}

static inline bool nomad_tpm_enabled(void)
{
	return false;
}

static inline bool nomad_shadow_enabled(void)
{
	return false;
}

#endif /* CONFIG_NOMAD */

#ifdef CONFIG_NOMAD_ASYNC_PROMOTION
bool nomad_promote_queue(struct folio *folio, struct vm_area_struct *vma,
			 int target_nid, int *nid, int *flags);
int nomad_tier_cpupid(struct folio *src, struct folio *dst, int cpupid);
#else
static inline bool nomad_promote_queue(struct folio *folio,
				       struct vm_area_struct *vma,
				       int target_nid, int *nid, int *flags)
{
	return false;
}

static inline int nomad_tier_cpupid(struct folio *src, struct folio *dst,
				    int cpupid)
{
	return -1;
}
#endif

/**
 * enum nomad_tpm_result - Outcome of one transactional migration attempt.
 * @NOMAD_TPM_COMMITTED: Nothing wrote to the folio during the copy: migrated.
 * @NOMAD_TPM_ABORTED_DIRTY: The folio was written during the copy.
 * @NOMAD_TPM_ABORTED_REF: Unexpected references (e.g. a new GUP pin).
 * @NOMAD_TPM_FELL_BACK: Handed to classic migration (folio not eligible,
 *			or retries exhausted with classic fallback on).
 * @NOMAD_TPM_GAVE_UP: Retries exhausted, folio left where it is.
 */
enum nomad_tpm_result {
	NOMAD_TPM_COMMITTED,
	NOMAD_TPM_ABORTED_DIRTY,
	NOMAD_TPM_ABORTED_REF,
	NOMAD_TPM_FELL_BACK,
	NOMAD_TPM_GAVE_UP,
};

#ifdef CONFIG_NOMAD_TPM
int nomad_tpm_try(struct folio *src, struct folio *dst);
void nomad_tpm_moved(struct folio *src, int rc);

/**
 * nomad_tpm_unmap - Unmap a folio for migration, transactionally if enabled.
 * @src: The locked folio being migrated, still mapped.
 * @dst: The locked destination folio.
 * @reason: Why it is migrated.
 *
 * With vm.nomad_transactional_migration=1, promotions (MR_NUMA_MISPLACED)
 * of eligible folios copy @src to @dst while @src stays mapped, then unmap
 * @src (migration entries) and keep the result only if nothing wrote to it
 * meanwhile.
 *
 * Return: 1 if @src is unmapped and @dst holds its data (the move must not
 * copy again); 0 if nothing was done and the caller unmaps @src the classic
 * way; a negative errno if the folio is to be left in place, mapped.
 */
static inline int nomad_tpm_unmap(struct folio *src, struct folio *dst,
				  enum migrate_reason reason)
{
	if (!nomad_tpm_enabled() || reason != MR_NUMA_MISPLACED)
		return 0;
	return nomad_tpm_try(src, dst);
}
#else
static inline int nomad_tpm_unmap(struct folio *src, struct folio *dst,
				  enum migrate_reason reason)
{
	return 0;
}

static inline void nomad_tpm_moved(struct folio *src, int rc)
{
}
#endif

#ifdef CONFIG_NOMAD_SHADOW
DECLARE_STATIC_KEY_FALSE(nomad_shadow_live_key);

/*
 * A promoted folio (the master) and the slow-tier folio it was copied from
 * (its shadow) point at each other through ->private, which an anonymous
 * folio outside the swap cache does not use: the PFN of the other folio,
 * shifted, and a tag in the low bits.
 */
#define NOMAD_SHADOW_TAG_MASK	3UL
#define NOMAD_SHADOW_MASTER	1UL	/* master; NOMAD owns the shadow */
#define NOMAD_SHADOW_CLAIMED	2UL	/* master; a demotion owns the shadow */
#define NOMAD_SHADOW_SHADOW	3UL	/* shadow; points back at its master */
#define NOMAD_SHADOW_LISTED	4UL	/* shadow is on its node's list */
#define NOMAD_SHADOW_PFN_SHIFT	3

bool nomad_shadow_link(struct folio *dst, struct folio *src);
bool nomad_shadow_adopt(struct folio *src);
void nomad_shadow_drop(struct folio *folio, bool write);
void nomad_shadow_freed(struct page *page);
struct folio *nomad_shadow_claim(struct folio *src);
bool nomad_shadow_commit(struct folio *src, struct folio *dst);
bool nomad_shadow_unclaim(struct folio *src, struct folio *dst);
unsigned long nomad_shadow_reclaim(int nid, unsigned long nr);
bool nomad_shadow_reusable(struct vm_area_struct *vma, struct page *page);

/**
 * nomad_shadow_live - May shadow links exist?
 *
 * On from the moment vm.nomad_shadow is set until it is cleared again and
 * the last link is gone; the hooks below do nothing while it is off.
 *
 * Return: true while shadow links may exist.
 */
static inline bool nomad_shadow_live(void)
{
	return static_branch_unlikely(&nomad_shadow_live_key);
}

/**
 * nomad_folio_shadowed - Does a folio (maybe) have a shadow?
 * @folio: The folio; its PTE lock or its folio lock is held.
 *
 * A shadowed folio must stay mapped read-only: every path that would make
 * a PTE of it writable without a write fault asks this first.  A false
 * positive only costs a write fault.
 *
 * Return: true if @folio is a master folio with a shadow.
 */
static inline bool nomad_folio_shadowed(const struct folio *folio)
{
	unsigned long tag;

	if (!nomad_shadow_live() || folio_test_large(folio) ||
	    !folio_test_anon(folio) || folio_test_swapcache(folio))
		return false;
	tag = (unsigned long)READ_ONCE(folio->private) & NOMAD_SHADOW_TAG_MASK;
	return tag == NOMAD_SHADOW_MASTER || tag == NOMAD_SHADOW_CLAIMED;
}

/**
 * nomad_page_shadowed - Is a page part of a shadowed folio?
 * @page: The page, or NULL.
 *
 * Return: true if @page belongs to a master folio with a shadow.
 */
static inline bool nomad_page_shadowed(struct page *page)
{
	return page && nomad_folio_shadowed(page_folio(page));
}

/**
 * nomad_shadow_writable - Is a page read-only only because it has a shadow?
 * @vma: The VMA mapping @page.
 * @page: The mapped page; its PTE lock is held.
 *
 * For THP collapse, which takes a range with no writable PTE for
 * read-only memory.
 *
 * Return: true if @page is a shadowed master that a write fault would
 * reuse without a copy.
 */
static inline bool nomad_shadow_writable(struct vm_area_struct *vma,
					 struct page *page)
{
	return nomad_page_shadowed(page) && nomad_shadow_reusable(vma, page);
}

/**
 * nomad_shadow_promoted - Keep the source of a promotion as a shadow.
 * @dst: The new folio, locked, data moved, not yet mapped.
 * @src: The old folio, locked and unmapped.
 * @reason: Why it was migrated.
 *
 * Called after a successful move and before @dst is mapped: if @src is to
 * stay as the shadow of @dst, @dst is mapped read-only.
 */
static inline void nomad_shadow_promoted(struct folio *dst, struct folio *src,
					 enum migrate_reason reason)
{
	if (nomad_shadow_enabled() && reason == MR_NUMA_MISPLACED)
		nomad_shadow_link(dst, src);
}

/**
 * nomad_shadow_keep - Take over the source folio of a migration.
 * @src: The migrated, unlocked source folio, about to be released.
 *
 * Return: true if NOMAD keeps @src as a shadow; the caller must not
 * release it.
 */
static inline bool nomad_shadow_keep(struct folio *src)
{
	if (!nomad_shadow_live() || !folio_test_anon(src) ||
	    ((unsigned long)src->private & NOMAD_SHADOW_TAG_MASK) !=
	    NOMAD_SHADOW_SHADOW)
		return false;
	return nomad_shadow_adopt(src);
}

/**
 * nomad_shadow_write - Drop the shadow of a folio about to be written.
 * @folio: The folio; its PTE lock is held.
 *
 * Called before a write fault grants write access by reusing @folio.
 */
static inline void nomad_shadow_write(struct folio *folio)
{
	if (nomad_folio_shadowed(folio))
		nomad_shadow_drop(folio, true);
}

/**
 * nomad_shadow_unlink - Drop the shadow of a folio that changes identity.
 * @folio: The locked folio, e.g. about to enter the swap cache.
 */
static inline void nomad_shadow_unlink(struct folio *folio)
{
	if (nomad_folio_shadowed(folio))
		nomad_shadow_drop(folio, false);
}

/**
 * nomad_shadow_free_page - Release the shadow of a page being freed.
 * @page: The head page of a block being freed.
 * @order: Its order.
 */
static inline void nomad_shadow_free_page(struct page *page, unsigned int order)
{
	if (nomad_shadow_live() && !order && PageAnon(page) && page->private)
		nomad_shadow_freed(page);
}

/**
 * nomad_shadow_demote_dst - Use a folio's shadow as demotion target.
 * @src: The isolated folio being migrated.
 * @reason: Why it is migrated.
 *
 * Return: the shadow of @src, claimed for this migration, if @src is
 * demoted and has a shadow on an allowed demotion target; else NULL and
 * the caller allocates the destination.
 */
static inline struct folio *nomad_shadow_demote_dst(struct folio *src,
						    enum migrate_reason reason)
{
	if (reason != MR_DEMOTION || !nomad_folio_shadowed(src))
		return NULL;
	return nomad_shadow_claim(src);
}

/**
 * nomad_shadow_reclaim_node - Free shadows of a node under memory pressure.
 * @nid: The node being reclaimed.
 * @nr: How many pages reclaim wants.
 *
 * Return: the number of pages freed.
 */
static inline unsigned long nomad_shadow_reclaim_node(int nid, unsigned long nr)
{
	if (!nomad_shadow_live())
		return 0;
	return nomad_shadow_reclaim(nid, nr);
}
#else /* !CONFIG_NOMAD_SHADOW */
static inline bool nomad_folio_shadowed(const struct folio *folio)
{
	return false;
}

static inline bool nomad_page_shadowed(struct page *page)
{
	return false;
}

static inline bool nomad_shadow_writable(struct vm_area_struct *vma,
					 struct page *page)
{
	return false;
}

static inline void nomad_shadow_promoted(struct folio *dst, struct folio *src,
					 enum migrate_reason reason)
{
}

static inline bool nomad_shadow_keep(struct folio *src)
{
	return false;
}

static inline void nomad_shadow_write(struct folio *folio)
{
}

static inline void nomad_shadow_unlink(struct folio *folio)
{
}

static inline void nomad_shadow_free_page(struct page *page, unsigned int order)
{
}

static inline struct folio *nomad_shadow_demote_dst(struct folio *src,
						    enum migrate_reason reason)
{
	return NULL;
}

static inline bool nomad_shadow_commit(struct folio *src, struct folio *dst)
{
	return false;
}

static inline bool nomad_shadow_unclaim(struct folio *src, struct folio *dst)
{
	return false;
}

static inline unsigned long nomad_shadow_reclaim_node(int nid, unsigned long nr)
{
	return 0;
}
#endif /* CONFIG_NOMAD_SHADOW */

#endif /* _LINUX_NOMAD_H */
