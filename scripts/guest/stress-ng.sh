#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Outside check (issue 7): Debian's stress-ng memory stressors, with data
# verification, on a guest with full NOMAD on and both tiers under
# pressure.  Runs in the guest; stress-ng and its libraries are in
# /nomad/stress-ng (see scripts/check).  Exit status: stress-ng's.
d=/nomad/stress-ng
secs=${1:-30}

echo true >/sys/kernel/mm/numa/demotion_enabled
for k in scan_delay_ms scan_period_min_ms; do
	echo 100 >/sys/kernel/debug/sched/numa_balancing/$k
done
echo 2 >/proc/sys/kernel/numa_balancing
for k in async_promotion transactional_migration shadow; do
	echo 1 >/proc/sys/vm/nomad_$k
done

counters() {
	grep -E '^(numa_hint_faults|pgpromote_candidate|pgpromote_success|pgdemote_kswapd|pgdemote_direct|nomad_tpm_commit|nomad_tpm_abort_dirty|nomad_shadow_create|nomad_shadow_demote_remap|nomad_shadow_break_write|oom_kill) ' /proc/vmstat | tr '\n' ' '
	echo
}
echo "stress-ng: before: $(counters)"
# vm: 2 workers sharing 1400 MiB (more than the fast node), every method, verify
# each word; mmap: map/unmap churn with verification; fork: process churn.
"$d/ld-linux-x86-64.so.2" --library-path "$d" "$d/stress-ng" \
	--vm 2 --vm-bytes 1400M --vm-keep --vm-method all --verify \
	--mmap 1 --mmap-bytes 128M --verify \
	--fork 1 \
	--timeout "${secs}s" --metrics-brief 2>&1
rc=$?
echo "stress-ng: after: $(counters)"
for k in async_promotion transactional_migration shadow; do
	echo 0 >/proc/sys/vm/nomad_$k
done
echo 1 >/proc/sys/vm/stat_refresh
echo "stress-ng: knobs off: $(grep -E '^(nr_nomad_shadow|nr_isolated_anon) ' /proc/vmstat | tr '\n' ' ')"
echo "stress-ng: exit status $rc"
exit $rc
