/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the pieces of NOMAD; not for use outside mm/nomad/.
 */
#ifndef _MM_NOMAD_INTERNAL_H
#define _MM_NOMAD_INTERNAL_H

#include <linux/mutex.h>
#include <linux/sysctl.h>

/**
 * struct nomad_knob - An integer sysctl with a range and an apply hook.
 * @val: Current value; read it with READ_ONCE().
 * @min: Smallest accepted value.
 * @max: Largest accepted value.
 * @apply: Called with nomad_knob_lock held before @val changes to @new;
 *	   a non-zero return rejects the write and keeps the old value.
 *	   May be NULL.
 */
struct nomad_knob {
	int val;
	int min;
	int max;
	int (*apply)(struct nomad_knob *knob, int new);
};

extern struct mutex nomad_knob_lock;
extern struct dentry *nomad_debugfs_dir;

int nomad_knob_handler(const struct ctl_table *table, int write,
		       void *buffer, size_t *lenp, loff_t *ppos);

#define NOMAD_KNOB(_name, _knob) {				\
	.procname	= _name,				\
	.data		= &(_knob),				\
	.maxlen		= sizeof(struct nomad_knob),		\
	.mode		= 0644,					\
	.proc_handler	= nomad_knob_handler,			\
}

#ifdef CONFIG_NOMAD_ASYNC_PROMOTION
/* Admit at least 1 in 2^NOMAD_BACKOFF_MAX_SHIFT candidates. */
#define NOMAD_BACKOFF_MAX_SHIFT		8
/* Fewer re-demoted folios than this in a period say nothing. */
#define NOMAD_BACKOFF_MIN_FOLIOS		32

/**
 * struct nomad_backoff - Promotion back-off of one top-tier node.
 * @promoted: Folios kpromoted promoted into the node.
 * @redemoted: Folios promoted into the node and demoted again soon after.
 * @last_promoted: @promoted at the start of this period.
 * @last_redemoted: @redemoted at the start of this period.
 * @next: When this period ends, in jiffies.
 * @shift: Admit 1 in 2^@shift candidates.
 */
struct nomad_backoff {
	atomic_long_t promoted;
	atomic_long_t redemoted;
	unsigned long last_promoted;
	unsigned long last_redemoted;
	unsigned long next;
	unsigned int shift;
};

void nomad_backoff_reset(struct nomad_backoff *bo);
bool nomad_backoff_admit(struct nomad_backoff *bo);
void nomad_kpromoted_redemoted(int nid);
void nomad_kpromoted_flush_all(void);
#else
static inline void nomad_kpromoted_flush_all(void)
{
}
#endif

#ifdef CONFIG_NOMAD_SHADOW
int nomad_shadow_switch(bool on);
#else
static inline int nomad_shadow_switch(bool on)
{
	return on ? -EOPNOTSUPP : 0;
}
#endif

#endif /* _MM_NOMAD_INTERNAL_H */
