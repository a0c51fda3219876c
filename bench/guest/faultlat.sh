#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of "make faultlat": what the application waits for during
# promotion, per mode, alternating the modes in one boot.
#   modes: tpp (NOMAD off), async (kpromoted, classic migration),
#          tpm (kpromoted + transactional migration)
#   workloads: r (read-mostly), W (reads + a thread writing random pages)
MIB=${1:-64}
ROUNDS=${2:-2}
D=/sys/kernel/debug/sched/numa_balancing
echo 100 >$D/scan_delay_ms; echo 100 >$D/scan_period_min_ms; echo 1000 >$D/scan_period_max_ms
tpm() { grep "^nomad_tpm_$1 " /proc/vmstat | cut -d' ' -f2; }
run() {	# MODE WORKLOAD
	case $1 in
	tpp) a=0; t=0 ;; async) a=1; t=0 ;; tpm) a=1; t=1 ;;
	esac
	echo $a >/proc/sys/vm/nomad_async_promotion || exit 1
	echo $t >/proc/sys/vm/nomad_transactional_migration || exit 1
	echo 2 >/proc/sys/kernel/numa_balancing
	at0=$(tpm attempt); ab0=$(tpm abort_dirty)
	printf '%-5s %s  ' "$1" "$2"
	./nomad_faultlat "$MIB" 60 "$2" | tr -d '\n' || exit 1
	printf '  tpm_attempts %d aborts_dirty %d\n' $(($(tpm attempt) - at0)) $(($(tpm abort_dirty) - ab0))
	echo 1 >/proc/sys/kernel/numa_balancing
}
i=0
while [ $i -lt "$ROUNDS" ]; do
	for w in r W; do
		if [ $((i % 2)) = 0 ]; then
			run tpp $w; run async $w; run tpm $w
		else
			run tpm $w; run async $w; run tpp $w
		fi
	done
	i=$((i + 1))
done
