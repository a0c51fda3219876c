#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of "make faultlat": hint-fault service time with mainline TPP
# (NOMAD off) and with asynchronous promotion, alternating the modes in one
# boot: tpp async async tpp tpp async ...
MIB=${1:-64}
ROUNDS=${2:-3}
D=/sys/kernel/debug/sched/numa_balancing
echo 100 >$D/scan_delay_ms; echo 100 >$D/scan_period_min_ms; echo 1000 >$D/scan_period_max_ms
run() {
	echo "$1" >/proc/sys/vm/nomad_async_promotion || exit 1
	echo 2 >/proc/sys/kernel/numa_balancing
	printf '%-6s ' "$2"
	./nomad_faultlat "$MIB" 60 || exit 1
	echo 1 >/proc/sys/kernel/numa_balancing
}
i=0
while [ $i -lt "$ROUNDS" ]; do
	if [ $((i % 2)) = 0 ]; then
		run 0 tpp; run 1 async
	else
		run 1 async; run 0 tpp
	fi
	i=$((i + 1))
done
