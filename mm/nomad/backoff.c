// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD promotion back-off: promote less while the fast tier thrashes.
 *
 * When the pages that are accessed do not fit in the fast tier and are
 * accessed about equally often, every promotion forces a demotion of a
 * page about as hot, which soon faults to be promoted again: the pages
 * cycle through the fast tier, each cycle costs two copies, and the
 * application runs slower than with no tiering at all.  Mainline has no
 * defence against this.  A ratio of demotions to promotions cannot tell it
 * from useful migration (promoting a hot working set demotes as much cold
 * memory), so NOMAD watches what it demotes: a folio that kpromoted
 * promoted and that is demoted again soon after.
 *
 * In the tiering-only mode of NUMA balancing (kernel.numa_balancing=2),
 * the last_cpupid field of a top-tier folio is unused: mainline resets it
 * when a folio crosses tiers and records access times in it only in lower
 * tiers.  With vm.nomad_promote_backoff=1 NOMAD writes the time of the
 * promotion there, in mainline's access-time format, and when the folio
 * leaves the top tier again within NOMAD_REDEMOTE_SOON_MS counts it as
 * re-demoted for the node it leaves.  Both ends count folios, as
 * nomad_promote_success does.
 *
 * Once a second per top-tier node, from the folios kpromoted promoted into
 * it and the re-demotions out of it in that second, nomad_backoff_step()
 * decides how many candidates to admit: 1 in 2^shift.  The shift grows by
 * one while at least half of the promotions come back, and shrinks by one
 * once fewer than a quarter do.  The candidates left out are dropped at the
 * hinting fault, counted as nomad_promote_drop_backoff, and stay where
 * they are, as with no tiering; the few admitted keep measuring whether
 * the thrashing has ended.
 */
#define pr_fmt(fmt) "nomad: " fmt

#include <linux/jiffies.h>
#include <linux/memory-tiers.h>
#include <linux/mm.h>
#include <linux/nomad.h>
#include <linux/random.h>
#include <linux/sched/sysctl.h>
#include <linux/vmstat.h>

#include "internal.h"

static struct nomad_knob nomad_promote_backoff = {
	.val = 1, .min = 0, .max = 1,
};

/* last_cpupid with no promotion time in it, as mainline resets it */
#define NO_STAMP	(-1 & LAST_CPUPID_MASK)

/* "soon": less than this, and less than half the range of a time stamp */
#define NOMAD_REDEMOTE_SOON_MS	10000

static bool nomad_backoff_on(void)
{
	return READ_ONCE(nomad_promote_backoff.val) &&
	       nomad_async_promotion_enabled() &&
	       !(READ_ONCE(sysctl_numa_balancing_mode) & NUMA_BALANCING_NORMAL);
}

/* @now_ms as last_cpupid holds it; never NO_STAMP */
static int nomad_stamp(unsigned int now_ms)
{
	int stamp = (now_ms >> PAGE_ACCESS_TIME_BUCKETS) & LAST_CPUPID_MASK;

	return stamp == NO_STAMP ? stamp - 1 : stamp;
}

/* Was a folio with last_cpupid @stamp promoted less than "soon" before @now_ms? */
static bool nomad_stamp_recent(int stamp, unsigned int now_ms)
{
	unsigned int age, soon;

	if (stamp == NO_STAMP)
		return false;
	age = (now_ms - ((unsigned int)stamp << PAGE_ACCESS_TIME_BUCKETS)) &
	      PAGE_ACCESS_TIME_MASK;
	soon = min_t(unsigned int, NOMAD_REDEMOTE_SOON_MS,
		     PAGE_ACCESS_TIME_MASK / 2);
	return age < soon;
}

/**
 * nomad_tier_cpupid - last_cpupid for a folio migrated across tiers.
 * @src: The folio being migrated.
 * @dst: Its new folio.
 * @cpupid: @src's last_cpupid.
 *
 * Called by folio_migrate_flags() in memory tiering mode when @src and
 * @dst are in different tiers, where mainline resets last_cpupid.
 *
 * Return: the value for @dst: the time of the promotion if @dst is in
 * the top tier and the back-off watches, otherwise reset (-1).
 */
int nomad_tier_cpupid(struct folio *src, struct folio *dst, int cpupid)
{
	unsigned int now_ms;

	if (!nomad_backoff_on())
		return -1;
	now_ms = jiffies_to_msecs(jiffies);
	if (node_is_toptier(folio_nid(dst)))
		return nomad_stamp(now_ms);
	/* a demotion: of a folio promoted a moment ago? */
	if (node_is_toptier(folio_nid(src)) &&
	    nomad_stamp_recent(cpupid & LAST_CPUPID_MASK, now_ms)) {
		count_vm_event(NOMAD_PROMOTE_REDEMOTED);
		nomad_kpromoted_redemoted(folio_nid(src));
	}
	return -1;
}

/*
 * The control law: the shift after one period with @promoted folios
 * promoted and @redemoted re-demoted, from @shift.
 */
static unsigned int nomad_backoff_step(unsigned int shift, unsigned long promoted,
				       unsigned long redemoted)
{
	if (redemoted >= NOMAD_BACKOFF_MIN_FOLIOS && 2 * redemoted >= promoted)
		return min(shift + 1, NOMAD_BACKOFF_MAX_SHIFT);
	if (shift && (redemoted < NOMAD_BACKOFF_MIN_FOLIOS || 4 * redemoted < promoted))
		return shift - 1;
	return shift;
}

/**
 * nomad_backoff_admit - Decide whether to queue one more candidate.
 * @bo: The back-off state of the target node.
 *
 * Called by the hinting fault for every candidate of the node; once a
 * period has passed, the first caller moves @bo on to the next period.
 *
 * Return: true to queue the candidate, false to drop it.
 */
bool nomad_backoff_admit(struct nomad_backoff *bo)
{
	unsigned long next = READ_ONCE(bo->next);
	unsigned long promoted, redemoted;
	unsigned int shift;

	if (!nomad_backoff_on()) {
		if (READ_ONCE(bo->shift))
			WRITE_ONCE(bo->shift, 0);
		return true;
	}
	if (time_after_eq(jiffies, next) &&
	    try_cmpxchg(&bo->next, &next, jiffies + HZ)) {
		promoted = atomic_long_read(&bo->promoted);
		redemoted = atomic_long_read(&bo->redemoted);
		shift = nomad_backoff_step(READ_ONCE(bo->shift),
					   promoted - bo->last_promoted,
					   redemoted - bo->last_redemoted);
		bo->last_promoted = promoted;
		bo->last_redemoted = redemoted;
		WRITE_ONCE(bo->shift, shift);
	}
	shift = READ_ONCE(bo->shift);
	return !shift || !(get_random_u32() & ((1U << shift) - 1));
}

/**
 * nomad_backoff_reset - Admit every candidate, from a fresh period.
 * @bo: The back-off state of a node: zeroed, or possibly in use.
 *
 * Called when a node's kpromoted starts and when asynchronous promotion
 * is switched off.
 */
void nomad_backoff_reset(struct nomad_backoff *bo)
{
	bo->last_promoted = atomic_long_read(&bo->promoted);
	bo->last_redemoted = atomic_long_read(&bo->redemoted);
	WRITE_ONCE(bo->next, jiffies + HZ);
	WRITE_ONCE(bo->shift, 0);
}

static struct ctl_table nomad_backoff_sysctls[] = {
	NOMAD_KNOB("nomad_promote_backoff", nomad_promote_backoff),
};

static int __init nomad_backoff_sysctl_init(void)
{
	register_sysctl_init("vm", nomad_backoff_sysctls);
	return 0;
}
late_initcall(nomad_backoff_sysctl_init);

#ifdef CONFIG_NOMAD_KUNIT_TEST
#include "tests/backoff-kunit.h"
#endif
