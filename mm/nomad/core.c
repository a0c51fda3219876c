// SPDX-License-Identifier: GPL-2.0
/*
 * NOMAD core: the run-time switches of the three mechanisms.
 *
 * Each mechanism has one sysctl under /proc/sys/vm/ and one static key.
 * The sysctls accept exactly one integer in range per write; anything else
 * (empty, negative, too large, trailing data, not a number) fails with
 * -EINVAL and leaves the old value in place.
 */
#define pr_fmt(fmt) "nomad: " fmt

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/jump_label.h>
#include <linux/mutex.h>
#include <linux/nomad.h>
#include <linux/sysctl.h>

#include "internal.h"

DEFINE_STATIC_KEY_FALSE(nomad_async_promotion_key);
DEFINE_STATIC_KEY_FALSE(nomad_tpm_key);
DEFINE_STATIC_KEY_FALSE(nomad_shadow_key);

/* Serialises knob writes and the work their apply hooks do. */
DEFINE_MUTEX(nomad_knob_lock);

/* /sys/kernel/debug/nomad/, for the pieces' state files. */
struct dentry *nomad_debugfs_dir;

/**
 * nomad_knob_handler - proc handler for a &struct nomad_knob sysctl.
 * @table: The sysctl; ->data points to the &struct nomad_knob.
 * @write: Non-zero for a write.
 * @buffer: Kernel buffer with the text read or written.
 * @lenp: Length of @buffer; updated to what was consumed or produced.
 * @ppos: File position.
 *
 * A write must hold one decimal integer within [min, max], optionally
 * surrounded by white space, in a single write() at offset 0.
 *
 * Return: 0 on success, -EINVAL for malformed or out-of-range input, or
 * the error of the knob's apply hook.
 */
int nomad_knob_handler(const struct ctl_table *table, int write,
		       void *buffer, size_t *lenp, loff_t *ppos)
{
	struct nomad_knob *knob = table->data;
	struct ctl_table t = *table;
	size_t len = *lenp;
	int val, ret;

	t.data = &val;
	t.maxlen = sizeof(val);
	t.extra1 = &knob->min;
	t.extra2 = &knob->max;

	if (!write) {
		val = READ_ONCE(knob->val);
		return proc_dointvec_minmax(&t, 0, buffer, lenp, ppos);
	}

	if (*ppos || !len)
		return -EINVAL;
	ret = proc_dointvec_minmax(&t, 1, buffer, &len, ppos);
	if (ret)
		return ret;
	/* proc_dointvec_minmax() stops after one value: reject the rest */
	if (len != *lenp)
		return -EINVAL;

	mutex_lock(&nomad_knob_lock);
	if (val != knob->val) {
		if (knob->apply)
			ret = knob->apply(knob, val);
		if (!ret)
			WRITE_ONCE(knob->val, val);
	}
	mutex_unlock(&nomad_knob_lock);
	return ret;
}

static void nomad_set_key(struct static_key_false *key, bool on)
{
	if (on)
		static_branch_enable(key);
	else
		static_branch_disable(key);
}

static int nomad_async_promotion_apply(struct nomad_knob *knob, int new)
{
	if (!IS_ENABLED(CONFIG_NOMAD_ASYNC_PROMOTION) && new)
		return -EOPNOTSUPP;
	nomad_set_key(&nomad_async_promotion_key, new);
	if (!new) {
		/*
		 * Fault paths that saw the key on run under the PTL, i.e. in
		 * an RCU read-side section: once they are done, nothing can
		 * be queued any more and the queues can be emptied.
		 */
		synchronize_rcu();
		nomad_kpromoted_flush_all();
	}
	return 0;
}

static int nomad_tpm_apply(struct nomad_knob *knob, int new)
{
	if (!IS_ENABLED(CONFIG_NOMAD_TPM) && new)
		return -EOPNOTSUPP;
	nomad_set_key(&nomad_tpm_key, new);
	return 0;
}

static int nomad_shadow_apply(struct nomad_knob *knob, int new)
{
	return nomad_shadow_switch(new);
}

static struct nomad_knob nomad_async_promotion = {
	.min = 0, .max = 1, .apply = nomad_async_promotion_apply,
};

static struct nomad_knob nomad_tpm = {
	.min = 0, .max = 1, .apply = nomad_tpm_apply,
};

static struct nomad_knob nomad_shadow = {
	.min = 0, .max = 1, .apply = nomad_shadow_apply,
};

static struct ctl_table nomad_sysctls[] = {
	NOMAD_KNOB("nomad_async_promotion", nomad_async_promotion),
	NOMAD_KNOB("nomad_transactional_migration", nomad_tpm),
	NOMAD_KNOB("nomad_shadow", nomad_shadow),
};

static int __init nomad_init(void)
{
	register_sysctl_init("vm", nomad_sysctls);
	nomad_debugfs_dir = debugfs_create_dir("nomad", NULL);
	return 0;
}
subsys_initcall(nomad_init);
