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

int nomad_knob_handler(const struct ctl_table *table, int write,
		       void *buffer, size_t *lenp, loff_t *ppos);

#endif /* _MM_NOMAD_INTERNAL_H */
