// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD asynchronous promotion.
 *
 * With vm.nomad_async_promotion=1 and memory tiering on, the NUMA hinting
 * fault keeps mainline's decision whether a folio in a lower tier is hot
 * enough to promote (numa_migrate_check(): hot threshold, rate limit), but
 * instead of migrating the folio itself it queues it for the kpromoted
 * thread of the target node and maps it again at once.
 *
 * Every top-tier node with memory has a queue and a thread.  The queue is an
 * xarray indexed by PFN, so a folio is queued at most once per target.  An
 * entry holds a reference to the task that faulted but none to the folio,
 * so that a queued folio can still be freed, reclaimed, compacted or
 * offlined; kpromoted takes a reference when it dequeues the entry, if the
 * folio is still there.  vm.nomad_promote_queue_max bounds its length;
 * candidates beyond it are dropped and counted.  The thread re-checks each
 * folio (tiering still on, still mapped, still in a lower tier, still
 * allowed by the task's memory policy and cpuset, target not short of
 * memory), isolates it and migrates the folios in batches of one mm and
 * one memcg each, with one TLB flush per batch.  While the node thrashes,
 * the back-off (backoff.c) admits only some of the candidates.
 */
#define pr_fmt(fmt) "nomad: " fmt

#include <linux/cpuset.h>
#include <linux/debugfs.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/memory-tiers.h>
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mmap_lock.h>
#include <linux/nomad.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/numa_balancing.h>
#include <linux/sched/sysctl.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>

#include "internal.h"

/* Folios migrated per migrate_pages() call, i.e. per TLB flush. */
#define KPROMOTED_BATCH		512

/**
 * struct kpromoted - Promotion queue and thread of one target node.
 * @nid: The node folios are promoted to.
 * @task: The kpromoted<nid> thread.
 * @folios: &struct kpromoted_entry by folio PFN.
 * @nr_queued: Number of entries in @folios.
 * @wait: The thread waits here for work.
 * @lock: Serialises emptying @folios (by the thread and by knob writes).
 * @backoff: How many candidates to admit while the node thrashes.
 */
struct kpromoted {
	int nid;
	struct task_struct *task;
	struct xarray folios;
	atomic_t nr_queued;
	wait_queue_head_t wait;
	struct mutex lock;	/* serialises emptying @folios */
	struct nomad_backoff backoff;
};

/**
 * struct kpromoted_entry - A queued folio, at the PFN that indexes it.
 * @task: The task whose hinting fault queued it, whose memory policy and
 *	  cpuset the promotion must obey; the entry holds a reference.
 */
struct kpromoted_entry {
	struct task_struct *task;
};

/**
 * struct kpromoted_batch - Isolated folios that kpromoted migrates together.
 * @folios: The isolated folios.
 * @nr: Number of folios on @folios.
 * @memcg: The memory cgroup they are charged to (a reference), if @nr.
 * @mm: The mm of the tasks that queued them, or NULL; while set, kpromoted
 *	holds a reference to it and its mmap_lock for reading.
 */
struct kpromoted_batch {
	struct list_head folios;
	unsigned int nr;
	struct mem_cgroup *memcg;
	struct mm_struct *mm;
};

static struct kmem_cache *kpromoted_entry_cache;

/* Queues by target node; RCU-protected for the fault path. */
static struct kpromoted __rcu *kpromoted_of[MAX_NUMNODES];
/* Serialises starting and stopping threads, and walks of kpromoted_of. */
static DEFINE_MUTEX(kpromoted_mutex);

static struct nomad_knob nomad_promote_queue_max = {
	.val = 16384, .min = 1, .max = 1 << 20,
};

/*
 * Memory policy and cpuset.
 *
 * Mainline obeys the faulting task's memory policy when the hinting fault
 * decides to promote (mpol_misplaced(), on the VMA policy or else the task
 * policy) and its cpuset when it allocates the target page (the page
 * allocator checks current's mems_allowed): a promotion into a node that
 * the cpuset excludes fails there.  kpromoted migrates later, and in
 * kpromoted "current" is a kernel thread in the root cpuset with the
 * default policy.  Meanwhile the task may have bound the range elsewhere
 * (mbind(MPOL_BIND, MPOL_MF_MOVE) moves what is already promoted back but
 * cannot see what is queued) or moved to another cpuset.  So:
 *
 * - the fault queues a folio only if current's cpuset allows the target
 *   node; otherwise the mainline path takes it and its allocation fails,
 *   just as without NOMAD.  The policy was checked a moment ago by
 *   mpol_misplaced();
 * - the queue entry keeps a reference to the task.  Before isolating a
 *   folio, kpromoted takes the mmap_lock of the task's mm for reading and
 *   checks again: the task's cpuset, and the policy of every VMA that maps
 *   the folio (the task's own policy where the VMA has none; a VMA of
 *   another mm, e.g. after fork(), only by its VMA policy, if its mmap_lock
 *   can be had at once).  It holds that mmap_lock until the batch is
 *   migrated.  mbind() replaces a VMA policy under the mmap_lock held for
 *   writing, so a policy cannot change between the check and the
 *   migration: the same guarantee as mainline, which promotes in the fault,
 *   under the mmap_lock or the VMA lock.
 *
 * A cpuset change is not serialised that way (the cpuset code then
 * migrates the task's pages to its new nodes itself); a folio checked just
 * before it is moved back by that migration.
 */

/*
 * May NUMA balancing move a folio to @nid under @pol?  The target side of
 * mpol_misplaced(), whose decision does not depend on where the folio is.
 */
static bool kpromoted_mpol_allows(struct mempolicy *pol, int nid)
{
	/* MPOL_BIND etc. without MPOL_F_NUMA_BALANCING: never */
	if (!(pol->flags & MPOL_F_MOF))
		return false;
	switch (pol->mode) {
	case MPOL_LOCAL:
		return true;
	case MPOL_PREFERRED:
		/* MPOL_F_MORON: towards the CPU that touches it */
		return (pol->flags & MPOL_F_MORON) || nid == first_node(pol->nodes);
	default:
		return node_isset(nid, pol->nodes);
	}
}

/**
 * struct kpromoted_walk - State of one policy check over a folio's mappings.
 * @mm: The mm of the task that queued the folio; its mmap_lock is held.
 * @task: That task.
 * @nid: The target node.
 * @mapped: A VMA of @mm maps the folio.
 * @denied: A policy does not allow @nid, or could not be read.
 */
struct kpromoted_walk {
	struct mm_struct *mm;
	struct task_struct *task;
	int nid;
	bool mapped;
	bool denied;
};

static bool kpromoted_vma_allows(struct kpromoted_walk *w,
				 struct vm_area_struct *vma, unsigned long addr)
{
	struct mempolicy *pol;
	pgoff_t ilx;
	bool ok;

	pol = __get_vma_policy(vma, addr, &ilx);
	if (pol) {
		ok = kpromoted_mpol_allows(pol, w->nid);
		mpol_cond_put(pol);
		return ok;
	}
	if (vma->vm_mm != w->mm)
		return true;	/* default policy: whoever faults decides */
	/* do_set_mempolicy() replaces and frees it under task_lock() */
	task_lock(w->task);
	pol = w->task->mempolicy;
	ok = !pol || kpromoted_mpol_allows(pol, w->nid);
	task_unlock(w->task);
	return ok;
}

/* rmap_walk() callback: check the policy of one mapping of @folio. */
static bool kpromoted_policy_one(struct folio *folio, struct vm_area_struct *vma,
				 unsigned long addr, void *arg)
{
	struct kpromoted_walk *w = arg;
	bool ok;

	if (vma->vm_mm == w->mm) {
		w->mapped = true;
		ok = kpromoted_vma_allows(w, vma, addr);
	} else if (mmap_read_trylock(vma->vm_mm)) {
		/* the rmap lock we hold keeps @vma, and so its mm, alive */
		ok = kpromoted_vma_allows(w, vma, addr);
		mmap_read_unlock(vma->vm_mm);
	} else {
		ok = false;	/* may be changing: leave it for a later fault */
	}
	w->denied = !ok;
	return ok;
}

/*
 * Do @task's cpuset and the memory policies of @folio's mappings still
 * allow promoting @folio to @nid?  The caller holds the mmap_lock of
 * @task's mm @mm.
 */
static bool kpromoted_policy_allows(struct folio *folio, struct task_struct *task,
				    struct mm_struct *mm, int nid)
{
	struct kpromoted_walk w = { .mm = mm, .task = task, .nid = nid };
	struct rmap_walk_control rwc = {
		.rmap_one = kpromoted_policy_one,
		.arg = &w,
		.anon_lock = folio_lock_anon_vma_read,
	};

	if (cpusets_enabled()) {
		nodemask_t mems = cpuset_mems_allowed(task);

		if (!node_isset(nid, mems))
			return false;
	}
	/* file and KSM rmap walks need the folio lock */
	if (!folio_trylock(folio))
		return false;
	rmap_walk(folio, &rwc);
	folio_unlock(folio);
	/* not mapped by the task that asked any more: its wish is void */
	return w.mapped && !w.denied;
}

static void kpromoted_entry_free(struct kpromoted_entry *e)
{
	put_task_struct(e->task);
	kmem_cache_free(kpromoted_entry_cache, e);
}

/*
 * Queue @folio on @kp for the current task, or drop it and count why.
 * Takes no reference to @folio.  Returns 0 if queued, -EBUSY if it is
 * queued already, -EAGAIN if the back-off drops it, -ENOSPC if the queue
 * is full, -ENOMEM.
 */
static int kpromoted_enqueue(struct kpromoted *kp, struct folio *folio)
{
	struct kpromoted_entry *e;
	int err;

	/* already queued: a duplicate, whether or not the queue is full */
	if (xa_load(&kp->folios, folio_pfn(folio))) {
		count_vm_event(NOMAD_PROMOTE_DROP_DUP);
		return -EBUSY;
	}
	if (!nomad_backoff_admit(&kp->backoff)) {
		count_vm_event(NOMAD_PROMOTE_DROP_BACKOFF);
		return -EAGAIN;
	}
	if (atomic_inc_return(&kp->nr_queued) > READ_ONCE(nomad_promote_queue_max.val)) {
		err = -ENOSPC;
		goto drop;
	}
	e = kmem_cache_alloc(kpromoted_entry_cache, GFP_NOWAIT | __GFP_NOWARN);
	if (!e) {
		err = -ENOMEM;
		goto drop;
	}
	e->task = get_task_struct(current);
	err = xa_insert(&kp->folios, folio_pfn(folio), e,
			GFP_NOWAIT | __GFP_NOWARN);
	if (err) {
		kpromoted_entry_free(e);
		goto drop;
	}
	count_vm_event(NOMAD_PROMOTE_QUEUED);
	if (wq_has_sleeper(&kp->wait))
		wake_up_interruptible(&kp->wait);
	return 0;

drop:
	atomic_dec(&kp->nr_queued);
	/* -EBUSY: xa_insert() lost a race with a fault on another mapping */
	count_vm_event(err == -ENOSPC ? NOMAD_PROMOTE_DROP_FULL :
		       err == -EBUSY ? NOMAD_PROMOTE_DROP_DUP :
				       NOMAD_PROMOTE_DROP_NOMEM);
	/* a full queue must be draining: never leave it to the next insert */
	if (err == -ENOSPC && wq_has_sleeper(&kp->wait))
		wake_up_interruptible(&kp->wait);
	return err;
}

/**
 * nomad_promote_queue - Queue a folio for asynchronous promotion.
 * @folio: The folio the NUMA hinting fault wants to migrate; mapped by a
 *	   PTE whose lock the caller holds.
 * @vma: The VMA of the fault.
 * @target_nid: The node numa_migrate_check() chose.
 *
 * @nid: The node the fault is accounted to (task_numa_fault()); the
 *	 folio's node on entry.
 * @flags: The fault's task_numa_fault() flags.
 *
 * Called when asynchronous promotion is on, by the faulting task, after
 * mpol_misplaced() chose @target_nid.  Handles only promotions (a folio in
 * a lower tier, a top-tier target with a kpromoted thread) that the task's
 * cpuset allows; everything else is left to the caller's mainline path.
 *
 * The fault is accounted as mainline accounts the promotion it replaces
 * (per-task NUMA statistics, numa_pages_migrated): a queued folio as
 * migrated to @target_nid, which it is moments later unless it is freed
 * or kpromoted's checks refuse it; a dropped one as a failed migration,
 * as when mainline finds the target short of memory.  A folio queued
 * already was accounted by its first fault.
 *
 * Return: true if NOMAD took over the folio (queued it, or dropped it and
 * counted why): the caller must not migrate it.  false: not a case for
 * asynchronous promotion, migrate it the mainline way.
 */
bool nomad_promote_queue(struct folio *folio, struct vm_area_struct *vma,
			 int target_nid, int *nid, int *flags)
{
	struct kpromoted *kp;
	bool taken;
	int err;

	if (!(sysctl_numa_balancing_mode & NUMA_BALANCING_MEMORY_TIERING) ||
	    node_is_toptier(folio_nid(folio)) || !node_is_toptier(target_nid))
		return false;
	/* Mainline refuses shared executable file folios; let it say so. */
	if (folio_is_file_lru(folio) && (vma->vm_flags & VM_EXEC))
		return false;
	/*
	 * A cpuset that excludes the target: mainline's allocation fails.
	 * Only a task faulting on its own mm is queued: kpromoted re-checks
	 * under that mm's mmap_lock.
	 */
	if ((cpusets_enabled() &&
	     !node_isset(target_nid, cpuset_current_mems_allowed)) ||
	    current->mm != vma->vm_mm)
		return false;

	rcu_read_lock();
	kp = rcu_dereference(kpromoted_of[target_nid]);
	taken = kp;
	if (kp) {
		err = kpromoted_enqueue(kp, folio);	/* or dropped, and counted */
		if (!err) {
			*nid = target_nid;
			*flags |= TNF_MIGRATED;
		} else if (err != -EBUSY) {
			*flags |= TNF_MIGRATE_FAIL;
		}
	}
	rcu_read_unlock();
	return taken;
}

/*
 * Is memory tiering still on?  kernel.numa_balancing may have lost the
 * tiering bit since a folio was queued; mainline then promotes no more.
 */
static bool kpromoted_tiering(void)
{
	return READ_ONCE(sysctl_numa_balancing_mode) & NUMA_BALANCING_MEMORY_TIERING;
}

/*
 * May kpromoted still promote?  Checked for every folio and before every
 * batch, so that switching tiering or asynchronous promotion off stops it
 * within the batch it is migrating, not after the rest of its queue.
 */
static bool kpromoted_active(void)
{
	return kpromoted_tiering() && nomad_async_promotion_enabled();
}

/* Is a dequeued folio, of which kpromoted holds a reference, no longer a candidate? */
static bool kpromoted_stale(struct folio *folio)
{
	if (!kpromoted_tiering())
		return true;
	/* Freed or unmapped by its owner while queued: nothing to promote. */
	if (folio_ref_count(folio) == 1 || !folio_mapped(folio))
		return true;
	/* Promoted meanwhile, e.g. through another target's queue. */
	return node_is_toptier(folio_nid(folio));
}

/* Migrate the folios of @b, if any; @b->mm stays locked. */
static void kpromoted_migrate(struct kpromoted *kp, struct kpromoted_batch *b)
{
	unsigned int failed;

	if (!b->nr)
		return;
	if (!kpromoted_active()) {
		/* switched off while the batch was collected */
		putback_movable_pages(&b->folios);
		count_vm_events(NOMAD_PROMOTE_DROP_STALE, b->nr);
	} else {
		failed = min_t(unsigned int, b->nr,
			       migrate_misplaced_folios(&b->folios, b->memcg,
							kp->nid));
		count_vm_events(NOMAD_PROMOTE_SUCCESS, b->nr - failed);
		count_vm_events(NOMAD_PROMOTE_FAIL, failed);
		atomic_long_add(b->nr - failed, &kp->backoff.promoted);
	}
	mem_cgroup_put(b->memcg);
	b->memcg = NULL;
	b->nr = 0;
}

/* Migrate the folios of @b and release its mm. */
static void kpromoted_flush(struct kpromoted *kp, struct kpromoted_batch *b)
{
	kpromoted_migrate(kp, b);
	if (b->mm) {
		mmap_read_unlock(b->mm);
		mmput(b->mm);
		b->mm = NULL;
		cond_resched();
	}
}

/*
 * The folio queued at @pfn, with a reference, or NULL if it was freed
 * meanwhile.  The PFN may hold another folio by now (or a page that is no
 * folio of user memory): the checks that follow drop a folio that the
 * task does not map.
 */
static struct folio *kpromoted_get_folio(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
	struct folio *folio;

	if (!page)
		return NULL;
	folio = page_folio(page);
	if (!folio_try_get(folio))
		return NULL;
	/* split, or made part of a larger folio, before we had it */
	if (unlikely(page_folio(page) != folio || folio_pfn(folio) != pfn)) {
		folio_put(folio);
		return NULL;
	}
	return folio;
}

/*
 * Re-check a dequeued folio under the mmap_lock of the mm of the task
 * that queued it, isolate it and add it to @b.  Returns false if it is
 * not to be promoted.  The caller holds a reference to @folio.
 */
static bool kpromoted_add_folio(struct kpromoted *kp, struct kpromoted_batch *b,
				struct kpromoted_entry *e, struct folio *folio)
{
	struct mem_cgroup *memcg;
	struct mm_struct *mm;

	if (kpromoted_stale(folio))
		return false;
	mm = get_task_mm(e->task);
	if (!mm)
		return false;	/* the task exited */
	if (mm != b->mm || b->nr >= KPROMOTED_BATCH) {
		/* let mmap_lock writers in between batches */
		kpromoted_flush(kp, b);
		mmap_read_lock(mm);
		b->mm = mm;
	} else {
		mmput(mm);	/* @b holds a reference */
	}

	if (!kpromoted_policy_allows(folio, e->task, mm, kp->nid))
		return false;
	/*
	 * Fails if the target is short of memory (and wakes its kswapd, as
	 * the mainline fault path does) or the folio cannot be isolated.
	 * On success the isolation holds its own reference.
	 */
	if (migrate_misplaced_folio_prepare(folio, NULL, kp->nid))
		return false;

	memcg = get_mem_cgroup_from_folio(folio);
	if (b->nr && memcg != b->memcg)
		kpromoted_migrate(kp, b);
	if (!b->nr)
		b->memcg = memcg;
	else
		mem_cgroup_put(memcg);
	list_add_tail(&folio->lru, &b->folios);
	b->nr++;
	return true;
}

/* Take the folio queued at @pfn and add it to @b, see kpromoted_add_folio(). */
static bool kpromoted_add(struct kpromoted *kp, struct kpromoted_batch *b,
			  struct kpromoted_entry *e, unsigned long pfn)
{
	struct folio *folio = kpromoted_get_folio(pfn);
	bool added;

	if (!folio)
		return false;
	added = kpromoted_add_folio(kp, b, e, folio);
	/* if isolated, the isolation holds its own reference */
	folio_put(folio);
	return added;
}

/*
 * Empty @kp's queue: migrate the folios if @promote, otherwise just drop
 * them.  Every reference the queue held is gone on return.  Only kpromoted
 * itself promotes; it stops promoting (and drops the rest) as soon as it
 * is switched off or stopped, so that the knob-off path and
 * kpromoted_stop(), which wait for @kp->lock, wait for one batch at most.
 */
static void kpromoted_drain(struct kpromoted *kp, bool promote)
{
	struct kpromoted_batch b = { .folios = LIST_HEAD_INIT(b.folios) };
	struct kpromoted_entry *e;
	unsigned long pfn;

	mutex_lock(&kp->lock);
	xa_for_each(&kp->folios, pfn, e) {
		xa_erase(&kp->folios, pfn);
		atomic_dec(&kp->nr_queued);
		promote = promote && kpromoted_active() && !kthread_should_stop();
		if (!promote || !kpromoted_add(kp, &b, e, pfn))
			count_vm_event(NOMAD_PROMOTE_DROP_STALE);
		kpromoted_entry_free(e);
	}
	kpromoted_flush(kp, &b);
	mutex_unlock(&kp->lock);
}

static int kpromoted_fn(void *data)
{
	struct kpromoted *kp = data;
	const struct cpumask *cpumask = cpumask_of_node(kp->nid);

	/* Copy on the CPUs next to the memory we copy into. */
	if (!cpumask_empty(cpumask))
		set_cpus_allowed_ptr(current, cpumask);
	set_freezable();

	while (!kthread_should_stop()) {
		wait_event_freezable(kp->wait,
				     atomic_read(&kp->nr_queued) || kthread_should_stop());
		/*
		 * Switched off meanwhile: drop what is queued, do not spin.
		 * Being stopped (its node goes offline or out of the top
		 * tier): promote nothing more into it; kpromoted_stop()
		 * drops what is left.
		 */
		kpromoted_drain(kp, true);
	}
	return 0;
}

/**
 * nomad_kpromoted_redemoted - Count a folio that left a node soon after promotion.
 * @nid: The top-tier node it was demoted from.
 *
 * For the back-off of the node's kpromoted; see backoff.c.
 */
void nomad_kpromoted_redemoted(int nid)
{
	struct kpromoted *kp;

	rcu_read_lock();
	kp = rcu_dereference(kpromoted_of[nid]);
	if (kp)
		atomic_long_inc(&kp->backoff.redemoted);
	rcu_read_unlock();
}

/**
 * nomad_kpromoted_flush_all - Drop every queued folio.
 *
 * Called when asynchronous promotion is switched off, after no fault path
 * can queue any more: every queue ends empty with all references dropped,
 * and promotion starts again with every candidate admitted.
 */
void nomad_kpromoted_flush_all(void)
{
	struct kpromoted *kp;
	int nid;

	mutex_lock(&kpromoted_mutex);
	for_each_node(nid) {
		kp = rcu_dereference_protected(kpromoted_of[nid],
					       lockdep_is_held(&kpromoted_mutex));
		if (kp) {
			kpromoted_drain(kp, false);
			nomad_backoff_reset(&kp->backoff);
		}
	}
	mutex_unlock(&kpromoted_mutex);
}

static int kpromoted_start(int nid)
{
	struct kpromoted *kp;

	kp = kzalloc_node(sizeof(*kp), GFP_KERNEL, nid);
	if (!kp)
		return -ENOMEM;
	kp->nid = nid;
	xa_init(&kp->folios);
	atomic_set(&kp->nr_queued, 0);
	init_waitqueue_head(&kp->wait);
	mutex_init(&kp->lock);
	nomad_backoff_reset(&kp->backoff);
	kp->task = kthread_run(kpromoted_fn, kp, "kpromoted%d", nid);
	if (IS_ERR(kp->task)) {
		int err = PTR_ERR(kp->task);

		kfree(kp);
		pr_err("failed to start kpromoted%d: %d\n", nid, err);
		return err;
	}
	rcu_assign_pointer(kpromoted_of[nid], kp);
	return 0;
}

static void kpromoted_stop(int nid)
{
	struct kpromoted *kp;

	kp = rcu_dereference_protected(kpromoted_of[nid],
				       lockdep_is_held(&kpromoted_mutex));
	RCU_INIT_POINTER(kpromoted_of[nid], NULL);
	/* no fault path can still be queueing on @kp after this */
	synchronize_rcu();
	kthread_stop(kp->task);
	kpromoted_drain(kp, false);
	xa_destroy(&kp->folios);
	kfree(kp);
}

/*
 * Run a thread exactly for the nodes that can receive promotions: top-tier
 * nodes with memory.  Called at boot and after memory hotplug, which can
 * add or remove nodes and change the tiers.
 */
static void kpromoted_update(void)
{
	bool want, have;
	int nid;

	mutex_lock(&kpromoted_mutex);
	for_each_node(nid) {
		want = node_state(nid, N_MEMORY) && node_is_toptier(nid);
		have = rcu_access_pointer(kpromoted_of[nid]);
		if (want && !have)
			kpromoted_start(nid);
		else if (!want && have)
			kpromoted_stop(nid);
	}
	mutex_unlock(&kpromoted_mutex);
}

static int kpromoted_memory_callback(struct notifier_block *self,
				     unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;

	if ((action == MEM_ONLINE || action == MEM_OFFLINE) &&
	    mn->status_change_nid >= 0)
		kpromoted_update();
	return NOTIFY_OK;
}

static int kpromoted_show(struct seq_file *m, void *v)
{
	struct kpromoted *kp;
	int nid;

	seq_puts(m, "node queued backoff\n");
	mutex_lock(&kpromoted_mutex);
	for_each_node(nid) {
		kp = rcu_dereference_protected(kpromoted_of[nid],
					       lockdep_is_held(&kpromoted_mutex));
		if (kp)
			seq_printf(m, "%4d %6d %7u\n", nid, atomic_read(&kp->nr_queued),
				   READ_ONCE(kp->backoff.shift));
	}
	mutex_unlock(&kpromoted_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kpromoted);

static struct ctl_table kpromoted_sysctls[] = {
	NOMAD_KNOB("nomad_promote_queue_max", nomad_promote_queue_max),
};

/* After memory_tier_late_init(): tiers are known. */
static int __init kpromoted_init(void)
{
	kpromoted_entry_cache = KMEM_CACHE(kpromoted_entry, SLAB_PANIC);
	register_sysctl_init("vm", kpromoted_sysctls);
	debugfs_create_file("kpromoted", 0444, nomad_debugfs_dir, NULL,
			    &kpromoted_fops);
	kpromoted_update();
	/* after the memory tiers' callback (MEMTIER_HOTPLUG_PRI) */
	hotplug_memory_notifier(kpromoted_memory_callback, DEFAULT_CALLBACK_PRI);
	return 0;
}
late_initcall_sync(kpromoted_init);

#ifdef CONFIG_NOMAD_KUNIT_TEST
#include "tests/kpromoted-kunit.h"
#endif
