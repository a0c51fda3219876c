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
			 int target_nid);
#else
static inline bool nomad_promote_queue(struct folio *folio,
				       struct vm_area_struct *vma,
				       int target_nid)
{
	return false;
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

#endif /* _LINUX_NOMAD_H */
