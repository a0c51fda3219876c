#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of "make run": show the tiers, then run the same small
# promotion workload with mainline TPP and with the NOMAD knobs on, and
# print what moved in each.
MIB=${1:-128}
SECS=${2:-20}
COUNTERS='^(numa_hint_faults|pgpromote_success|pgpromote_candidate|pgdemote_kswapd|pgdemote_direct|pgmigrate_success|nomad_[a-z_]*) '

echo "=== numactl -H"
numactl -H || exit 1
echo
echo "=== numastat -m (MB per node)"
# (numastat 2.0.16 warns on stderr about meminfo fields newer than itself)
numastat -m 2>/dev/null | grep -E 'Node|---|^(MemTotal|MemFree|MemUsed|AnonPages|FilePages) ' ||
	exit 1
echo
echo "=== memory tiers and knobs"
./nomad_demo topo || exit 1
echo true >/sys/kernel/mm/numa/demotion_enabled
D=/sys/kernel/debug/sched/numa_balancing
[ -d $D ] && { echo 100 >$D/scan_delay_ms; echo 100 >$D/scan_period_min_ms; echo 1000 >$D/scan_period_max_ms; }

run_mode() {	# NAME KNOBVALUE
	echo
	echo "=== $1: kernel.numa_balancing=2, vm.nomad_*=$2 ==="
	for k in nomad_async_promotion nomad_transactional_migration nomad_shadow; do
		echo "$2" >/proc/sys/vm/$k || exit 1
	done
	echo 2 >/proc/sys/kernel/numa_balancing
	grep -E "$COUNTERS" /proc/vmstat >/tmp/before
	./nomad_demo promote "$MIB" "$SECS" || exit 1
	grep -E "$COUNTERS" /proc/vmstat >/tmp/after
	echo 1 >/proc/sys/kernel/numa_balancing
	echo "counters that moved:"
	awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "  %-28s +%d\n", $1, $2 - b[$1] }' \
		/tmp/before /tmp/after
}
run_mode "TPP (NOMAD off)" 0
run_mode "NOMAD on" 1
