// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD page shadowing: keep the slow-tier copy of a promoted folio.
 *
 * With vm.nomad_shadow=1, a small anonymous folio promoted from a lower
 * memory tier to a top-tier node does not give its old folio back to the
 * page allocator: the old folio becomes the *shadow* of the new one (the
 * *master*).  The master is mapped read-only even in a writable VMA, so the
 * first write faults and drops the shadow before the write is granted.  If
 * reclaim demotes a master that still has its shadow, the migration takes
 * the shadow as its destination and skips the copy: the PTEs are pointed at
 * the shadow and the master is freed.
 *
 * Link.  Master and shadow name each other in ->private, which an
 * anonymous folio outside the swap cache leaves unused: the PFN of the
 * other folio and a tag (see NOMAD_SHADOW_* in <linux/nomad.h>).  A link is
 * created and destroyed under the lock of the shadow's node, and both ends
 * are checked against each other before it is trusted.
 *
 * Shadow lifetime.  From the end of the promotion until the shadow is
 * adopted by shadow_adopt() it is "pending" (still owned by the migration);
 * then it is "listed" on its node's list, stripped to a bare page: no
 * mapping, no flags, no memcg charge, one reference held by NOMAD.  A
 * demotion "claims" a listed shadow (the master is tagged CLAIMED, the
 * shadow belongs to the migration and its ->index, unused until the move,
 * names the master) and, once the master is fully unmapped,
 * commits (no copy) if the link survived or copies otherwise.  The shadow
 * is freed when the master is written, freed or added to the swap cache,
 * when its node is short of memory (reclaim takes shadows first), when its
 * memory goes offline, and when vm.nomad_shadow is cleared.
 *
 * Movability.  A listed shadow is a non-LRU movable page (see struct
 * movable_operations): compaction, alloc_contig_range() and memory
 * offlining isolate and migrate it like any movable page, and the link
 * moves to the new page.  An isolated shadow is off its list but still
 * counted; a write to its master or a knob switch while it is isolated
 * only breaks the link, and the migration or putback callback frees it.
 * Memory going offline frees the listed shadows in its range instead of
 * moving them.  Shadows are never kept in CMA or isolated pageblocks.
 *
 * Shadows are not charged to a memory cgroup: the cgroup pays for the
 * master, and a shadow is a reclaimable copy that global reclaim frees
 * before anything else on its node.  They are counted per node in
 * nr_nomad_shadow and in nr_kernel_misc_reclaimable (MemAvailable).
 */
#define pr_fmt(fmt) "nomad: " fmt

#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nomad.h>
#include <linux/nodemask.h>
#include <linux/page-isolation.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "internal.h"

/* Shadows released per lock hold. */
#define SHADOW_BATCH	32

/**
 * struct shadow_node - Shadows of one node.
 * @lock: Protects @list and every link whose shadow is on this node.
 * @list: Listed shadows, most recently created first.
 */
struct shadow_node {
	spinlock_t lock;		/* taken with IRQs off: see @lock above */
	struct list_head list;
};

static struct shadow_node *shadow_nodes;

DEFINE_STATIC_KEY_FALSE(nomad_shadow_live_key);

/* New links allowed; written under nomad_knob_lock, read under a node lock. */
static bool shadow_accepting;
/* Masters with a shadow; the live key goes off only when it is zero. */
static atomic_long_t shadow_links = ATOMIC_LONG_INIT(0);

static void shadow_idle_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(shadow_idle_work, shadow_idle_fn);

static const struct movable_operations shadow_mops;

static inline unsigned long sh_enc(unsigned long pfn, unsigned long tag)
{
	return pfn << NOMAD_SHADOW_PFN_SHIFT | tag;
}

static inline unsigned long sh_get(struct page *page)
{
	return READ_ONCE(page->private);
}

static inline void sh_set(struct page *page, unsigned long v)
{
	WRITE_ONCE(page->private, v);
}

static inline unsigned long sh_pfn(unsigned long v)
{
	return v >> NOMAD_SHADOW_PFN_SHIFT;
}

static inline unsigned long sh_tag(unsigned long v)
{
	return v & NOMAD_SHADOW_TAG_MASK;
}

/* The page a ->private value names, or NULL if it is not a valid PFN. */
static struct page *sh_other(unsigned long v)
{
	unsigned long pfn = sh_pfn(v);

	return v && pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
}

static inline struct shadow_node *sh_node(struct page *page)
{
	return &shadow_nodes[page_to_nid(page)];
}

/* Does @shadow point back at @master?  Under the shadow node's lock. */
static inline bool sh_pair(struct page *master, struct page *shadow)
{
	return (sh_get(shadow) & ~NOMAD_SHADOW_LISTED) ==
		sh_enc(page_to_pfn(master), NOMAD_SHADOW_SHADOW);
}

/* Is @v the ->private of a shadow on its node's list? */
static inline bool sh_listed(unsigned long v)
{
	return (v & (NOMAD_SHADOW_TAG_MASK | NOMAD_SHADOW_LISTED)) ==
		(NOMAD_SHADOW_SHADOW | NOMAD_SHADOW_LISTED);
}

/*
 * The master of a shadow off its list (pending after a promotion, or
 * isolated for migration), or NULL if the link is gone: the master was
 * written or freed.  Under the node lock.
 */
static struct page *sh_unlisted_master(struct page *page)
{
	unsigned long v = sh_get(page);
	struct page *master = sh_other(v);

	if (sh_tag(v) != NOMAD_SHADOW_SHADOW || (v & NOMAD_SHADOW_LISTED) ||
	    WARN_ON_ONCE(!master ||
			 sh_get(master) != sh_enc(page_to_pfn(page),
						  NOMAD_SHADOW_MASTER)))
		return NULL;
	return master;
}

/* Does @page carry the shadows' movable_operations?  Under the node lock. */
static inline bool sh_movable(struct page *page)
{
	return (unsigned long)READ_ONCE(page->mapping) ==
		((unsigned long)&shadow_mops | PAGE_MAPPING_MOVABLE);
}

static void sh_count(struct page *shadow, int nr)
{
	pg_data_t *pgdat = page_pgdat(shadow);

	mod_node_page_state(pgdat, NR_NOMAD_SHADOW, nr);
	mod_node_page_state(pgdat, NR_KERNEL_MISC_RECLAIMABLE, nr);
}

/* Clear both ends of a master -> shadow link.  Under the node lock. */
static void sh_unlink(struct page *master, struct page *shadow)
{
	sh_set(master, 0);
	sh_set(shadow, 0);
	atomic_long_dec(&shadow_links);
}

/*
 * Unlink a listed shadow from its master and take it off the list; the
 * caller puts the shadow's reference.  Under the node lock.
 */
static void sh_release_listed(struct page *shadow)
{
	struct page *master = sh_other(sh_get(shadow));

	if (!WARN_ON_ONCE(!master ||
			  sh_get(master) != sh_enc(page_to_pfn(shadow),
						   NOMAD_SHADOW_MASTER)))
		sh_set(master, 0);
	sh_set(shadow, 0);
	atomic_long_dec(&shadow_links);
	list_del(&page_folio(shadow)->lru);
	sh_count(shadow, -1);
}

/* May @page stay as a shadow: not in the way of CMA or memory offlining? */
static bool shadow_may_stay(struct page *page)
{
	return !is_migrate_cma_page(page) && !is_migrate_isolate_page(page);
}

/* Is there room on @nid for one more shadow without waking kswapd soon? */
static bool shadow_room(int nid)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long free = 0, high = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *zone = &pgdat->node_zones[i];

		if (!managed_zone(zone))
			continue;
		free += zone_page_state(zone, NR_FREE_PAGES);
		high += high_wmark_pages(zone);
	}
	return free > 2 * high;
}

/**
 * nomad_shadow_link - Make the source of a promotion the shadow of its copy.
 * @dst: The new folio on a top-tier node; locked, not yet mapped.
 * @src: The old folio; locked, unmapped, its data moved to @dst.
 *
 * The link is pending until nomad_shadow_adopt() takes @src over; until
 * then @src still belongs to the migration.
 *
 * Return: true if @dst now has @src as its shadow and must be mapped
 * read-only.
 */
bool nomad_shadow_link(struct folio *dst, struct folio *src)
{
	int nid = folio_nid(src);
	struct shadow_node *sn;
	unsigned long flags;
	bool linked = false;

	if (!shadow_nodes || folio_test_large(src) || !folio_test_anon(src) ||
	    !folio_test_swapbacked(src) || folio_test_swapcache(src) ||
	    folio_test_ksm(src) || node_is_toptier(nid) ||
	    !node_is_toptier(folio_nid(dst)) || src->private || dst->private ||
	    !shadow_may_stay(&src->page) || !shadow_room(nid))
		return false;

	sn = &shadow_nodes[nid];
	spin_lock_irqsave(&sn->lock, flags);
	if (READ_ONCE(shadow_accepting)) {
		sh_set(&src->page, sh_enc(folio_pfn(dst), NOMAD_SHADOW_SHADOW));
		sh_set(&dst->page, sh_enc(folio_pfn(src), NOMAD_SHADOW_MASTER));
		atomic_long_inc(&shadow_links);
		linked = true;
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	return linked;
}

/*
 * Page flags a shadow keeps: the lock (held by the caller), and the
 * architecture's bits, which describe the data (e.g. arm64 MTE tags and
 * cache state) and must stay with it as the copy is skipped later.
 */
#define SHADOW_KEEP_FLAGS	(BIT(PG_locked) | BIT(PG_waiters) | BIT(PG_arch_1) | \
				 SHADOW_ARCH_2 | SHADOW_ARCH_3)
#ifdef CONFIG_ARCH_USES_PG_ARCH_2
#define SHADOW_ARCH_2		BIT(PG_arch_2)
#else
#define SHADOW_ARCH_2		0
#endif
#ifdef CONFIG_ARCH_USES_PG_ARCH_3
#define SHADOW_ARCH_3		BIT(PG_arch_3)
#else
#define SHADOW_ARCH_3		0
#endif

/*
 * Turn a migrated-away folio, locked by the caller, into a bare page
 * holding only its data.
 */
static void shadow_strip(struct folio *folio)
{
	unsigned long old = READ_ONCE(folio->flags), new;

	VM_WARN_ON_ONCE_FOLIO(folio_mapped(folio) || folio_memcg(folio) ||
			      folio_test_mlocked(folio), folio);
	WRITE_ONCE(folio->mapping, NULL);
	/* atomically: a PFN walker may set PG_hwpoison meanwhile */
	do {
		new = old & ~(PAGE_FLAGS_CHECK_AT_PREP & ~SHADOW_KEEP_FLAGS);
	} while (!try_cmpxchg(&folio->flags, &old, new));
}

/**
 * nomad_shadow_adopt - Take over a pending shadow from the migration core.
 * @src: The source folio of a promotion, unlocked, with the migration's
 *	 reference; its ->private is tagged NOMAD_SHADOW_SHADOW.
 *
 * Return: true if NOMAD keeps @src (and its reference) as a listed shadow;
 * false if the link went away meanwhile and @src is to be released.
 */
bool nomad_shadow_adopt(struct folio *src)
{
	struct page *page = &src->page, *master;
	struct shadow_node *sn = sh_node(page);
	unsigned long flags;
	bool keep = false, locked;

	/* whoever else holds the lock of a page we strip must not lose it */
	locked = folio_trylock(src);
	spin_lock_irqsave(&sn->lock, flags);
	master = sh_unlisted_master(page);
	if (!master) {
		/* the master was written or freed: nothing links here */
	} else if (!READ_ONCE(shadow_accepting) || !locked ||
		   !shadow_may_stay(page)) {
		sh_unlink(master, page);
	} else {
		shadow_strip(src);
		__SetPageMovable(page, &shadow_mops);
		/* unlock before it is listed: from then on it may be freed */
		folio_unlock(src);
		locked = false;
		sh_set(page, sh_get(page) | NOMAD_SHADOW_LISTED);
		list_add(&src->lru, &sn->list);
		sh_count(page, 1);
		keep = true;
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	if (locked)
		folio_unlock(src);
	if (keep)
		count_vm_event(NOMAD_SHADOW_CREATE);
	return keep;
}

/**
 * nomad_shadow_drop - Drop the shadow of a master folio.
 * @folio: The master; the caller keeps it alive (PTE lock, folio lock or
 *	   a reference, or it is being freed).
 * @write: The master is about to be written (counted apart).
 *
 * A listed shadow is freed; a pending or claimed one only loses its link,
 * and its owner (the migration) notices.
 */
void nomad_shadow_drop(struct folio *folio, bool write)
{
	struct page *master = &folio->page, *shadow;
	struct folio *victim = NULL;
	struct shadow_node *sn;
	unsigned long flags, v;
	bool dropped = false;

	shadow = sh_other(sh_get(master));
	if (!shadow)
		return;
	sn = sh_node(shadow);
	spin_lock_irqsave(&sn->lock, flags);
	v = sh_get(master);
	if (sh_pfn(v) != page_to_pfn(shadow)) {
		/* changed meanwhile */
	} else if (sh_tag(v) == NOMAD_SHADOW_CLAIMED) {
		/* the demotion owning the shadow sees this and copies */
		if (page_folio(shadow)->index != page_to_pfn(master))
			goto out;
		sh_set(master, 0);
		atomic_long_dec(&shadow_links);
		dropped = true;
	} else if (sh_tag(v) == NOMAD_SHADOW_MASTER && sh_pair(master, shadow)) {
		if (sh_get(shadow) & NOMAD_SHADOW_LISTED) {
			sh_release_listed(shadow);
			victim = page_folio(shadow);
		} else {
			sh_unlink(master, shadow);
		}
		dropped = true;
	}
out:
	spin_unlock_irqrestore(&sn->lock, flags);

	if (victim)
		folio_put(victim);
	if (dropped)
		count_vm_event(write ? NOMAD_SHADOW_BREAK_WRITE : NOMAD_SHADOW_FREE);
}

/**
 * nomad_shadow_freed - A page with a shadow tag is being freed.
 * @page: An order-0 anonymous page in free_pages_prepare().
 */
void nomad_shadow_freed(struct page *page)
{
	unsigned long tag = sh_tag(sh_get(page));

	/* a claimed master is held by its migration and cannot be freed */
	WARN_ON_ONCE(tag == NOMAD_SHADOW_CLAIMED);
	if (tag == NOMAD_SHADOW_MASTER || tag == NOMAD_SHADOW_CLAIMED)
		nomad_shadow_drop(page_folio(page), false);
}

/**
 * nomad_shadow_reusable - Would a write fault reuse a shadowed master?
 * @vma: The VMA mapping @page.
 * @page: A page of a shadowed master; its PTE lock is held.
 *
 * An exclusive anonymous page in a writable VMA would be mapped writable
 * if it had no shadow.
 *
 * Return: true if a write fault would reuse @page without a copy.
 */
bool nomad_shadow_reusable(struct vm_area_struct *vma, struct page *page)
{
	return (vma->vm_flags & VM_WRITE) && PageAnonExclusive(page);
}

/**
 * nomad_shadow_claim - Claim the shadow of a folio being demoted.
 * @src: The isolated master folio.
 *
 * The shadow leaves its list and becomes the destination of the migration;
 * the master stays tagged (CLAIMED), so a write before the master is
 * unmapped still drops the link.  The migration must end the claim with
 * nomad_shadow_commit() or nomad_shadow_unclaim().
 *
 * Return: the shadow, with one reference, or NULL.
 */
struct folio *nomad_shadow_claim(struct folio *src)
{
	struct page *master = &src->page, *shadow;
	struct folio *claimed = NULL;
	struct shadow_node *sn;
	nodemask_t allowed;
	unsigned long flags;

	if (folio_test_ksm(src))
		return NULL;
	shadow = sh_other(sh_get(master));
	if (!shadow)
		return NULL;
	node_get_allowed_targets(folio_pgdat(src), &allowed);
	if (!node_isset(page_to_nid(shadow), allowed))
		return NULL;

	sn = sh_node(shadow);
	spin_lock_irqsave(&sn->lock, flags);
	/* the lock is for its movable state; a walker holding it makes us copy */
	if (sh_get(master) == sh_enc(page_to_pfn(shadow), NOMAD_SHADOW_MASTER) &&
	    sh_pair(master, shadow) && sh_listed(sh_get(shadow)) &&
	    !PageHWPoison(shadow) && trylock_page(shadow)) {
		claimed = page_folio(shadow);
		/* not movable: a bare page, as the allocator gives a destination */
		WRITE_ONCE(claimed->mapping, NULL);
		unlock_page(shadow);
		list_del(&claimed->lru);
		sh_count(shadow, -1);
		sh_set(shadow, 0);
		/* the back-pointer, while ->private belongs to the migration */
		claimed->index = page_to_pfn(master);
		sh_set(master, sh_enc(page_to_pfn(shadow), NOMAD_SHADOW_CLAIMED));
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	return claimed;
}

/**
 * nomad_shadow_commit - End a claim once the master is fully unmapped.
 * @src: The master, locked, no longer mapped anywhere.
 * @dst: The shadow claimed for it.
 *
 * Return: true if the link survived until every mapping of @src was
 * replaced by a migration entry: @dst holds @src's data and the copy must
 * be skipped.  False if @src was written meanwhile: @dst is a plain
 * destination folio and the data must be copied.
 */
bool nomad_shadow_commit(struct folio *src, struct folio *dst)
{
	struct shadow_node *sn = sh_node(&dst->page);
	unsigned long flags;
	bool same;

	spin_lock_irqsave(&sn->lock, flags);
	same = sh_get(&src->page) == sh_enc(folio_pfn(dst), NOMAD_SHADOW_CLAIMED) &&
	       dst->index == folio_pfn(src);
	if (same) {
		sh_set(&src->page, 0);
		atomic_long_dec(&shadow_links);
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	if (same)
		count_vm_event(NOMAD_SHADOW_DEMOTE_REMAP);
	return same;
}

/**
 * nomad_shadow_unclaim - End a claim when the migration gives up early.
 * @src: The master, unlocked, still isolated.
 * @dst: The claimed shadow, unlocked, with its one reference.
 *
 * Return: true if @dst is a listed shadow again (NOMAD keeps the
 * reference); false if the caller is to free it.
 */
bool nomad_shadow_unclaim(struct folio *src, struct folio *dst)
{
	struct page *shadow = &dst->page;
	struct shadow_node *sn = sh_node(shadow);
	unsigned long flags;
	bool back = false;

	spin_lock_irqsave(&sn->lock, flags);
	if (sh_get(&src->page) == sh_enc(folio_pfn(dst), NOMAD_SHADOW_CLAIMED) &&
	    dst->index == folio_pfn(src)) {
		if (READ_ONCE(shadow_accepting) && shadow_may_stay(shadow) &&
		    folio_trylock(dst)) {
			__SetPageMovable(shadow, &shadow_mops);
			folio_unlock(dst);
			sh_set(&src->page, sh_enc(folio_pfn(dst), NOMAD_SHADOW_MASTER));
			sh_set(shadow, sh_enc(folio_pfn(src), NOMAD_SHADOW_SHADOW) |
				       NOMAD_SHADOW_LISTED);
			list_add(&dst->lru, &sn->list);
			sh_count(shadow, 1);
			back = true;
		} else {
			sh_set(&src->page, 0);
			atomic_long_dec(&shadow_links);
		}
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	return back;
}

/*
 * Free up to @nr listed shadows of @nid, oldest first, and count them as
 * @event.  Returns how many were freed.
 */
static unsigned long shadow_release(int nid, unsigned long nr,
				    enum vm_event_item event)
{
	struct shadow_node *sn;
	unsigned long freed = 0;

	if (!shadow_nodes)
		return 0;
	sn = &shadow_nodes[nid];
	/* unlocked peek: a shadow listed meanwhile waits for the next call */
	while (freed < nr && !data_race(list_empty(&sn->list))) {
		struct folio *folio, *next;
		unsigned long flags;
		LIST_HEAD(victims);
		int batch = 0;

		spin_lock_irqsave(&sn->lock, flags);
		while (batch < SHADOW_BATCH && freed + batch < nr &&
		       !list_empty(&sn->list)) {
			folio = list_last_entry(&sn->list, struct folio, lru);
			sh_release_listed(&folio->page);
			list_add(&folio->lru, &victims);
			batch++;
		}
		spin_unlock_irqrestore(&sn->lock, flags);

		list_for_each_entry_safe(folio, next, &victims, lru) {
			list_del(&folio->lru);
			folio_put(folio);
		}
		freed += batch;
	}
	if (freed)
		count_vm_events(event, freed);
	return freed;
}

/**
 * nomad_shadow_reclaim - Free shadows of a node for reclaim.
 * @nid: The node short of memory.
 * @nr: How many pages reclaim is after.
 *
 * Shadows are copies of data that lives on a faster node, so reclaim
 * frees them before it looks at any real data of the node.
 *
 * Return: the number of pages freed.
 */
unsigned long nomad_shadow_reclaim(int nid, unsigned long nr)
{
	return shadow_release(nid, nr, NOMAD_SHADOW_RECLAIM);
}

/*
 * Movable operations.  Isolation takes a listed shadow off its list (it
 * stays counted and linked); migration or putback ends the isolation.
 * Both pages are locked by the migration core.
 */
static bool shadow_isolate(struct page *page, isolate_mode_t mode)
{
	struct shadow_node *sn = sh_node(page);
	unsigned long flags, v;
	bool isolated = false;

	spin_lock_irqsave(&sn->lock, flags);
	v = sh_get(page);
	if (sh_listed(v)) {
		sh_set(page, v & ~NOMAD_SHADOW_LISTED);
		list_del(&page_folio(page)->lru);
		isolated = true;
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	return isolated;
}

/*
 * End an isolation without keeping @page: NOMAD's reference goes, the
 * isolation's stays with the caller.  Under the node lock.
 */
static void sh_end_isolated(struct page *page)
{
	sh_set(page, 0);
	sh_count(page, -1);
	__ClearPageMovable(page);
	/* not the last reference: the isolation holds one */
	folio_put(page_folio(page));
}

static int shadow_migrate(struct page *dst, struct page *src,
			  enum migrate_mode mode)
{
	struct shadow_node *sn = sh_node(src);
	struct page *master;
	unsigned long flags;
	bool copied, kept = false, broke = false;

	/* the data never changes: the master is read-only, src unmapped */
	copied = !copy_mc_highpage(dst, src);

	spin_lock_irqsave(&sn->lock, flags);
	master = sh_unlisted_master(src);
	if (!master) {
		/* nothing links here any more */
	} else if (copied && READ_ONCE(shadow_accepting) &&
		   page_to_nid(dst) == page_to_nid(src) && shadow_may_stay(dst)) {
		/* the new page holds NOMAD's reference before it is listed */
		folio_get(page_folio(dst));
		__SetPageMovable(dst, &shadow_mops);
		sh_set(master, sh_enc(page_to_pfn(dst), NOMAD_SHADOW_MASTER));
		sh_set(dst, sh_enc(page_to_pfn(master), NOMAD_SHADOW_SHADOW) |
			    NOMAD_SHADOW_LISTED);
		list_add(&page_folio(dst)->lru, &sn->list);
		sh_count(dst, 1);
		kept = true;
	} else {
		sh_unlink(master, src);
		broke = true;
	}
	sh_end_isolated(src);
	spin_unlock_irqrestore(&sn->lock, flags);

	if (kept)
		count_vm_event(NOMAD_SHADOW_MOVE);
	if (broke)
		count_vm_event(NOMAD_SHADOW_FREE);
	/* src goes back to the migration core, dst (if unused) is freed */
	return MIGRATEPAGE_SUCCESS;
}

static void shadow_putback(struct page *page)
{
	struct shadow_node *sn = sh_node(page);
	struct page *master;
	unsigned long flags;
	bool broke = false;

	spin_lock_irqsave(&sn->lock, flags);
	master = sh_unlisted_master(page);
	if (master && READ_ONCE(shadow_accepting) && shadow_may_stay(page)) {
		sh_set(page, sh_get(page) | NOMAD_SHADOW_LISTED);
		list_add(&page_folio(page)->lru, &sn->list);
	} else {
		if (master) {
			sh_unlink(master, page);
			broke = true;
		}
		sh_end_isolated(page);
	}
	spin_unlock_irqrestore(&sn->lock, flags);
	if (broke)
		count_vm_event(NOMAD_SHADOW_FREE);
}

static const struct movable_operations shadow_mops = {
	.isolate_page = shadow_isolate,
	.migrate_page = shadow_migrate,
	.putback_page = shadow_putback,
};

/* Switch the live key off once the knob is off and no link is left. */
static void shadow_idle_fn(struct work_struct *work)
{
	mutex_lock(&nomad_knob_lock);
	if (!READ_ONCE(shadow_accepting)) {
		if (atomic_long_read(&shadow_links))
			schedule_delayed_work(&shadow_idle_work, HZ / 10);
		else
			static_branch_disable(&nomad_shadow_live_key);
	}
	mutex_unlock(&nomad_knob_lock);
}

/**
 * nomad_shadow_switch - Apply a write to vm.nomad_shadow.
 * @on: The new value.
 *
 * Called with nomad_knob_lock held.  Switching off frees every listed
 * shadow at once; pending and claimed ones are freed by their migrations,
 * and the hooks stay live until the last link is gone.
 *
 * Return: 0, or -ENOMEM if the per-node state could not be allocated.
 */
int nomad_shadow_switch(bool on)
{
	int nid;

	if (on) {
		if (!shadow_nodes)
			return -ENOMEM;
		cancel_delayed_work(&shadow_idle_work);
		static_branch_enable(&nomad_shadow_live_key);
		WRITE_ONCE(shadow_accepting, true);
		static_branch_enable(&nomad_shadow_key);
		return 0;
	}

	static_branch_disable(&nomad_shadow_key);
	WRITE_ONCE(shadow_accepting, false);
	for_each_node(nid) {
		/* taking the lock orders us after links made before */
		spin_lock_irq(&shadow_nodes[nid].lock);
		spin_unlock_irq(&shadow_nodes[nid].lock);
		shadow_release(nid, ULONG_MAX, NOMAD_SHADOW_FREE);
	}
	schedule_delayed_work(&shadow_idle_work, 0);
	return 0;
}

/*
 * Free the listed shadows in [@start, @end): memory going offline.  Its
 * pageblocks are isolated, so no new shadow is listed there meanwhile;
 * isolated ones are migrated or put back by the offlining.
 */
static void shadow_offline(unsigned long start, unsigned long end)
{
	unsigned long pfn, freed = 0;

	for (pfn = start; pfn < end; pfn++) {
		struct page *page = pfn_to_page(pfn);
		struct shadow_node *sn;
		unsigned long flags;
		bool victim = false;

		/* an unlocked peek at any page; confirmed under the lock */
		if (!sh_listed(data_race(page->private)))
			continue;
		sn = sh_node(page);
		spin_lock_irqsave(&sn->lock, flags);
		if (sh_listed(sh_get(page)) && sh_movable(page)) {
			sh_release_listed(page);
			victim = true;
		}
		spin_unlock_irqrestore(&sn->lock, flags);
		if (victim) {
			folio_put(page_folio(page));
			freed++;
		}
		if (!(pfn % (SHADOW_BATCH * 32)))
			cond_resched();
	}
	if (freed)
		count_vm_events(NOMAD_SHADOW_FREE, freed);
}

/* Memory going offline must not be held by shadows. */
static int shadow_memory_callback(struct notifier_block *self,
				  unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;

	if (action == MEM_GOING_OFFLINE && nomad_shadow_live())
		shadow_offline(mn->start_pfn, mn->start_pfn + mn->nr_pages);
	return NOTIFY_OK;
}

static int __init nomad_shadow_init(void)
{
	int nid;

	shadow_nodes = kcalloc(nr_node_ids, sizeof(*shadow_nodes), GFP_KERNEL);
	if (!shadow_nodes)
		return -ENOMEM;
	for_each_node(nid) {
		spin_lock_init(&shadow_nodes[nid].lock);
		INIT_LIST_HEAD(&shadow_nodes[nid].list);
	}
	hotplug_memory_notifier(shadow_memory_callback, DEFAULT_CALLBACK_PRI);
	return 0;
}
subsys_initcall(nomad_shadow_init);

#ifdef CONFIG_NOMAD_KUNIT_TEST
#include "tests/shadow-kunit.h"
#endif
