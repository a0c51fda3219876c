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
 * xarray indexed by PFN, so a folio is queued at most once per target, and
 * every entry holds a folio reference.  vm.nomad_promote_queue_max bounds
 * its length; candidates beyond it are dropped and counted.  The thread
 * re-checks each folio (still mapped, still in a lower tier, target not
 * short of memory), isolates it and migrates the folios in batches of one
 * memcg each, with one TLB flush per batch.
 */
#define pr_fmt(fmt) "nomad: " fmt

#include <linux/debugfs.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/nomad.h>
#include <linux/sched/sysctl.h>
#include <linux/seq_file.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>

#include "internal.h"

/* Folios migrated per migrate_pages() call, i.e. per TLB flush. */
#define KPROMOTED_BATCH		512

/**
 * struct kpromoted - Promotion queue and thread of one target node.
 * @nid: The node folios are promoted to.
 * @task: The kpromoted<nid> thread.
 * @folios: Queued folios by PFN; each entry holds a folio reference.
 * @nr_queued: Number of entries in @folios.
 * @wait: The thread waits here for work.
 * @lock: Serialises emptying @folios (by the thread and by knob writes).
 */
struct kpromoted {
	int nid;
	struct task_struct *task;
	struct xarray folios;
	atomic_t nr_queued;
	wait_queue_head_t wait;
	struct mutex lock;	/* serialises emptying @folios */
};

/* Queues by target node; RCU-protected for the fault path. */
static struct kpromoted __rcu *kpromoted_of[MAX_NUMNODES];
/* Serialises starting and stopping threads, and walks of kpromoted_of. */
static DEFINE_MUTEX(kpromoted_mutex);

static struct nomad_knob nomad_promote_queue_max = {
	.val = 16384, .min = 1, .max = 1 << 20,
};

/**
 * nomad_promote_queue - Queue a folio for asynchronous promotion.
 * @folio: The folio the NUMA hinting fault wants to migrate; mapped by a
 *	   PTE whose lock the caller holds.
 * @vma: The VMA of the fault.
 * @target_nid: The node numa_migrate_check() chose.
 *
 * Called when asynchronous promotion is on.  Handles only promotions (a
 * folio in a lower tier, a top-tier target with a kpromoted thread);
 * everything else is left to the caller's mainline path.
 *
 * Return: true if NOMAD took over the folio (queued it, or dropped it and
 * counted why): the caller must not migrate it.  false: not a case for
 * asynchronous promotion, migrate it the mainline way.
 */
bool nomad_promote_queue(struct folio *folio, struct vm_area_struct *vma,
			 int target_nid)
{
	struct kpromoted *kp;
	int err;

	if (!(sysctl_numa_balancing_mode & NUMA_BALANCING_MEMORY_TIERING) ||
	    node_is_toptier(folio_nid(folio)) || !node_is_toptier(target_nid))
		return false;
	/* Mainline refuses shared executable file folios; let it say so. */
	if (folio_is_file_lru(folio) && (vma->vm_flags & VM_EXEC))
		return false;

	rcu_read_lock();
	kp = rcu_dereference(kpromoted_of[target_nid]);
	if (!kp) {
		rcu_read_unlock();
		return false;
	}
	if (atomic_inc_return(&kp->nr_queued) > READ_ONCE(nomad_promote_queue_max.val)) {
		err = -ENOSPC;
		goto drop;
	}
	/* The PTL keeps the folio mapped, so this is not the last reference. */
	folio_get(folio);
	err = xa_insert(&kp->folios, folio_pfn(folio), folio,
			GFP_NOWAIT | __GFP_NOWARN);
	if (err) {
		folio_put(folio);
		goto drop;
	}
	count_vm_event(NOMAD_PROMOTE_QUEUED);
	if (wq_has_sleeper(&kp->wait))
		wake_up_interruptible(&kp->wait);
	rcu_read_unlock();
	return true;

drop:
	atomic_dec(&kp->nr_queued);
	count_vm_event(err == -EBUSY ? NOMAD_PROMOTE_DROP_DUP :
				       NOMAD_PROMOTE_DROP_FULL);
	rcu_read_unlock();
	return true;
}

/*
 * Re-check a dequeued folio and isolate it for migration to @kp's node.
 * On success the isolation holds its own reference.
 */
static bool kpromoted_isolate(struct kpromoted *kp, struct folio *folio)
{
	/* Freed or unmapped by its owner while queued: nothing to promote. */
	if (folio_ref_count(folio) == 1 || !folio_mapped(folio))
		return false;
	/* Promoted meanwhile, e.g. through another target's queue. */
	if (node_is_toptier(folio_nid(folio)))
		return false;
	/*
	 * Fails if the target is short of memory (and wakes its kswapd, as
	 * the mainline fault path does) or the folio cannot be isolated.
	 */
	return !migrate_misplaced_folio_prepare(folio, NULL, kp->nid);
}

static void kpromoted_migrate(struct kpromoted *kp, struct list_head *batch,
			      struct mem_cgroup *memcg, unsigned int nr)
{
	unsigned int failed;

	failed = min_t(unsigned int, nr,
		       migrate_misplaced_folios(batch, memcg, kp->nid));
	count_vm_events(NOMAD_PROMOTE_SUCCESS, nr - failed);
	count_vm_events(NOMAD_PROMOTE_FAIL, failed);
}

/*
 * Empty @kp's queue: migrate the folios if @promote, otherwise just drop
 * them.  Every reference the queue held is gone on return.
 */
static void kpromoted_drain(struct kpromoted *kp, bool promote)
{
	struct mem_cgroup *memcg = NULL, *m;
	unsigned int nr = 0;
	struct folio *folio;
	unsigned long pfn;
	LIST_HEAD(batch);

	mutex_lock(&kp->lock);
	xa_for_each(&kp->folios, pfn, folio) {
		xa_erase(&kp->folios, pfn);
		atomic_dec(&kp->nr_queued);
		if (!promote || !kpromoted_isolate(kp, folio)) {
			folio_put(folio);
			count_vm_event(NOMAD_PROMOTE_DROP_STALE);
			continue;
		}
		/* isolated: the queue's reference is no longer needed */
		folio_put(folio);

		m = get_mem_cgroup_from_folio(folio);
		if (nr && (m != memcg || nr >= KPROMOTED_BATCH)) {
			kpromoted_migrate(kp, &batch, memcg, nr);
			nr = 0;
			cond_resched();
		}
		if (!nr) {
			mem_cgroup_put(memcg);
			memcg = m;
		} else {
			mem_cgroup_put(m);
		}
		list_add_tail(&folio->lru, &batch);
		nr++;
	}
	if (nr)
		kpromoted_migrate(kp, &batch, memcg, nr);
	mem_cgroup_put(memcg);
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
		/* switched off meanwhile: drop what is queued, do not spin */
		kpromoted_drain(kp, nomad_async_promotion_enabled());
	}
	return 0;
}

/**
 * nomad_kpromoted_flush_all - Drop every queued folio.
 *
 * Called when asynchronous promotion is switched off, after no fault path
 * can queue any more: every queue ends empty with all references dropped.
 */
void nomad_kpromoted_flush_all(void)
{
	struct kpromoted *kp;
	int nid;

	mutex_lock(&kpromoted_mutex);
	for_each_node(nid) {
		kp = rcu_dereference_protected(kpromoted_of[nid],
					       lockdep_is_held(&kpromoted_mutex));
		if (kp)
			kpromoted_drain(kp, false);
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

	seq_puts(m, "node queued\n");
	mutex_lock(&kpromoted_mutex);
	for_each_node(nid) {
		kp = rcu_dereference_protected(kpromoted_of[nid],
					       lockdep_is_held(&kpromoted_mutex));
		if (kp)
			seq_printf(m, "%4d %6d\n", nid, atomic_read(&kp->nr_queued));
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
	register_sysctl_init("vm", kpromoted_sysctls);
	debugfs_create_file("kpromoted", 0444, nomad_debugfs_dir, NULL,
			    &kpromoted_fops);
	kpromoted_update();
	/* after the memory tiers' callback (MEMTIER_HOTPLUG_PRI) */
	hotplug_memory_notifier(kpromoted_memory_callback, DEFAULT_CALLBACK_PRI);
	return 0;
}
late_initcall_sync(kpromoted_init);
