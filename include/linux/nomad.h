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

#endif /* _LINUX_NOMAD_H */
