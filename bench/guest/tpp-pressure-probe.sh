#!/bin/sh
# TPP pressure probe (guest side, busybox sh).  Runs nomad_bench in the
# paper's pressure shape under mainline TPP (numa_balancing=2, demotion on,
# all NOMAD knobs 0) and samples counters every PERIOD_US (0.5 s) of guest
# time; kswapd0 state and stack are sampled too.
#
#   tpp-pressure-probe.sh NAME APCT BPCT ROUNDS ACCESSES [VARIANT] [ORDER]
# Host side (see bench/tpp-under-pressure.md):
#   scripts/vm-run --kernel build/bzImage-default --icount --tier-model --fast-mem 512M \
#       --slow-mem 2G --timeout 1800 --add build/guest/nomad_bench \
#       tpp-pressure-probe.sh plain24 90 150 24 400000 plain uniform
# nomad_bench is bench/guest/nomad_bench.c built -static (make bench builds it into build/guest).
# APCT, BPCT: A and B in percent of node 0's MemFree at start.
# VARIANT (what is done before the benchmark starts):
#   plain   nothing (the reported probe)
#   wsf=N   vm.watermark_scale_factor=N (a documented mainline knob)
#   hot=N   hot_threshold_ms=N (debugfs)
#   rl=N    kernel.numa_balancing_promote_rate_limit_MBps=N
#   noskip  do not trace sched_skip_vma_numa (it can overrun the trace buffer)
#   Several may be joined with '+', e.g. wsf=1000+rl=64.
# Output lines:
#   I ...   settings and one-off state
#   S t=<uptime> k=v ...  samples (vmstat deltas from the start, node 0 state)
#   round ... / summary ...  nomad_bench
#   KS ...  kswapd0 stacks
#   K ...   kswapd balance_pgdat() runs on node 0 (from the trace)
#   B ...   promotions, demotions, kswapd wakeups, VMA scan skips per 0.5 s (trace clock)
#   M ...   migrate_pages calls by reason (from the trace)
name=${1:-probe}
apct=${2:-90}
bpct=${3:-150}
rounds=${4:-8}
acc=${5:-400000}
variant=${6:-plain}
order=${7:-uniform}
G=/nomad
D=/sys/kernel/debug/sched/numa_balancing
T=/sys/kernel/tracing

echo 100 >$D/scan_delay_ms
echo 100 >$D/scan_period_min_ms
echo 1000 >$D/scan_period_max_ms

# mainline TPP
echo true >/sys/kernel/mm/numa/demotion_enabled
for k in nomad_async_promotion nomad_transactional_migration nomad_shadow; do
	[ -e /proc/sys/vm/$k ] && echo 0 >/proc/sys/vm/$k
done
echo 2 >/proc/sys/kernel/numa_balancing

for v in $(echo "$variant" | tr + ' '); do
	case $v in
	plain) ;;
	noskip) NOSKIP=1 ;;
	wsf=*) echo "${v#wsf=}" >/proc/sys/vm/watermark_scale_factor ;;
	hot=*) echo "${v#hot=}" >$D/hot_threshold_ms ;;
	rl=*) echo "${v#rl=}" >/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps ;;
	*) echo "probe: unknown variant $v" >&2; exit 2 ;;
	esac
done

echo "I name=$name apct=$apct bpct=$bpct rounds=$rounds acc=$acc variant=$variant order=$order"
echo "I numa_balancing=$(cat /proc/sys/kernel/numa_balancing) demotion=$(cat /sys/kernel/mm/numa/demotion_enabled)" \
	"hot_threshold_ms=$(cat $D/hot_threshold_ms) rate_limit_MBps=$(cat /proc/sys/kernel/numa_balancing_promote_rate_limit_MBps)" \
	"scan_size_mb=$(cat $D/scan_size_mb) wsf=$(cat /proc/sys/vm/watermark_scale_factor)" \
	"min_free_kbytes=$(cat /proc/sys/vm/min_free_kbytes) swappiness=$(cat /proc/sys/vm/swappiness)"
echo "I lru_gen=$(cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null || echo absent)" \
	"thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled)" \
	"swap=$(awk '/SwapTotal/ {print $2}' /proc/meminfo)kB" \
	"memory_tiers=$(ls /sys/devices/virtual/memory_tiering/ 2>/dev/null | tr '\n' ' ')"
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
	echo "I $(basename $t) nodes=$(cat $t/nodelist)"
done
echo "I rootfs: $(awk '$2 == "/" {print $3}' /proc/mounts)"

# node-0 zone watermarks
awk '/^Node/ {node = $2; zone = $4}
	node == "0," && /pages free/ {printf "I zone %s free=%s", zone, $3}
	node == "0," && $1 == "min" {printf " min=%s", $2}
	node == "0," && $1 == "low" {printf " low=%s", $2}
	node == "0," && $1 == "high" {printf " high=%s", $2}
	node == "0," && $1 == "promo" {printf " promo=%s", $2}
	node == "0," && $1 == "managed" {printf " managed=%s\n", $2}' /proc/zoneinfo
awk '/MemTotal|MemFree/ {printf "I node0 %s %s kB\n", $3, $4}' /sys/devices/system/node/node0/meminfo

# trace: kswapd on node 0 and migrations
echo 0 >$T/tracing_on
echo 8192 >$T/buffer_size_kb
echo >$T/trace
for e in vmscan/mm_vmscan_wakeup_kswapd vmscan/mm_vmscan_kswapd_wake \
	 vmscan/mm_vmscan_kswapd_sleep vmscan/mm_vmscan_lru_shrink_inactive \
	 vmscan/mm_vmscan_lru_shrink_active vmscan/mm_vmscan_throttled migrate/mm_migrate_pages \
	 $([ -z "$NOSKIP" ] && echo sched/sched_skip_vma_numa); do
	echo 1 >$T/events/$e/enable
done
echo 'nid == 0' >$T/events/vmscan/mm_vmscan_lru_shrink_inactive/filter
echo 'nid == 0' >$T/events/vmscan/mm_vmscan_lru_shrink_active/filter

free=$(awk '/MemFree/ {print int($4 / 1024)}' /sys/devices/system/node/node0/meminfo)
amb=$((free * apct / 100))
bmb=$((free * bpct / 100))
echo "I node0_free_mb=$free A_mb=$amb B_mb=$bmb"

KEYS="numa_pte_updates numa_hint_faults numa_hint_faults_local numa_pages_migrated pgpromote_success pgpromote_candidate pgdemote_kswapd pgdemote_direct pgscan_kswapd pgsteal_kswapd pgscan_direct pgsteal_direct pgscan_anon pgsteal_anon pgscan_file pgactivate pgdeactivate pgrefill pgmigrate_success pgmigrate_fail pageoutrun kswapd_low_wmark_hit_quickly kswapd_high_wmark_hit_quickly allocstall_normal allocstall_movable nr_active_anon nr_inactive_anon"
KSW=$(for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = kswapd0 ] && echo ${p#/proc/}; done)
echo "I kswapd0 pid=$KSW stack=$([ -r /proc/$KSW/stack ] && echo yes || echo no)"
echo 1 >/proc/sys/vm/stat_refresh
cp /proc/vmstat /tmp/v0
sample() {
	{
		cut -d' ' -f1 /proc/uptime | sed 's/^/uptime /'
		cat /proc/vmstat
		awk '{print "n0_" $3, $4}' /sys/devices/system/node/node0/meminfo | tr -d ':()'
		# kswapd0: state, CPU ticks (utime+stime), wait channel
		awk '{print "ksw_state", $3; print "ksw_ticks", $14 + $15}' /proc/$KSW/stat
		echo "ksw_wchan $(cat /proc/$KSW/wchan 2>/dev/null)"
		awk '/^Node/ {node = $2; zone = $4}
			node == "0," && zone == "DMA32" && /pages free/ {print "z0_free", $3}
			node == "0," && /node_unreclaimable/ {print "z0_unrecl", $2}' /proc/zoneinfo
	} | awk -v keys="$KEYS" '
		FILENAME == "/tmp/v0" { v0[$1] = $2; next }
		{ v[$1] = $2 }
		END {
			printf "S t=%s ksw=%s/%s/%s z0_free=%s unrecl=%s n0_MemFree=%s n0_Activeanon=%s n0_Inactiveanon=%s n0_Activefile=%s n0_Inactivefile=%s",
				v["uptime"], v["ksw_state"], v["ksw_ticks"], v["ksw_wchan"], v["z0_free"], v["z0_unrecl"], v["n0_MemFree"], v["n0_Activeanon"],
				v["n0_Inactiveanon"], v["n0_Activefile"], v["n0_Inactivefile"]
			n = split(keys, k, " ")
			for (i = 1; i <= n; i++)
				printf " %s=%d", k[i], v[k[i]] - v0[k[i]]
			printf "\n"
		}' /tmp/v0 -
}
(
	while [ ! -e /tmp/stop ]; do
		sample
		[ -r /proc/$KSW/stack ] && { echo "KS t=$(cut -d' ' -f1 /proc/uptime)"; sed 's/^/KS   /' /proc/$KSW/stack; } >>/tmp/stacks
		usleep ${PERIOD_US:-500000}
	done
) >/tmp/samples &
spid=$!

echo 1 >$T/tracing_on
"$G/nomad_bench" --cold-mb "$amb" --mb "$bmb" --b-policy slow --access page-read \
	--order "$order" --rounds "$rounds" --accesses "$acc" --slow-node 1 --fast-node 0 \
	>/tmp/out 2>&1 &
bpid=$!
# progress markers: when A and B are written (the first round line)
wait $bpid
rc=$?
echo 0 >$T/tracing_on
touch /tmp/stop
wait $spid
echo 1 >/proc/sys/vm/stat_refresh
sample >>/tmp/samples
echo "I bench_rc=$rc bench_end=$(cut -d' ' -f1 /proc/uptime)"
cat /tmp/out
cat /tmp/samples
[ -e /tmp/stacks ] && cat /tmp/stacks
awk '/^Node/ {node = $2; zone = $4}
	node == "0," && /pages free/ {printf "I end zone %s free=%s", zone, $3}
	node == "0," && $1 == "high" {printf " high=%s", $2}
	node == "0," && $1 == "promo" {printf " promo=%s", $2}
	node == "0," && /node_unreclaimable/ {printf " unreclaimable=%s", $2}
	node == "0," && /start_pfn/ {printf "\n"}' /proc/zoneinfo
awk '{print "I end node0", $0}' /sys/devices/system/node/node0/meminfo | grep -E "Mem|anon|file|Unevict"

grep -v '^#' $T/trace >/tmp/trace
# kswapd on node 0: one K line per balance_pgdat() run (a kswapd_wake
# event starts one; the next wake or a kswapd_sleep ends it)
awk '
	function close_run() {
		if (!open) return
		runs++; if (rc == 0) zero++
		printf "K run=%d start=%s end=%s scanned=%d reclaimed=%d activated_anon=%d ref_keep=%d min_prio=%d%s\n", runs, st, t, sc, rc, act, keep, minp, slp ? " sleep" : ""
		open = 0
	}
	{ ts = $0; sub(/^.*\] [^ ]* /, "", ts); split(ts, a, ":"); t = a[1] + 0 }
	/mm_vmscan_wakeup_kswapd: nid=0/ { wk++; if (!wk1) wk1 = t; wkl = t }
	/mm_vmscan_kswapd_wake: nid=0/ { slp = 0; close_run(); st = t; sc = 0; rc = 0; minp = 12; act = 0; keep = 0; open = 1 }
	/mm_vmscan_lru_shrink_inactive/ {
		match($0, /nr_scanned=[0-9]+/); s = substr($0, RSTART + 11, RLENGTH - 11)
		match($0, /nr_reclaimed=[0-9]+/); r = substr($0, RSTART + 13, RLENGTH - 13)
		match($0, /priority=[0-9]+/); p = substr($0, RSTART + 9, RLENGTH - 9)
		match($0, /nr_activate_anon=[0-9]+/); aa = substr($0, RSTART + 17, RLENGTH - 17)
		match($0, /nr_ref_keep=[0-9]+/); kk = substr($0, RSTART + 12, RLENGTH - 12)
		sc += s; rc += r; act += aa; keep += kk; if (p + 0 < minp) minp = p + 0
		tsc += s; trc += r; lastshr = t
	}
	/mm_vmscan_kswapd_sleep: nid=0/ { slp = 1; close_run(); sleeps++; lastsleep = t }
	/mm_migrate_pages:/ {
		match($0, /nr_succeeded=[0-9]+/); s = substr($0, RSTART + 13, RLENGTH - 13)
		match($0, /nr_failed=[0-9]+/); f = substr($0, RSTART + 10, RLENGTH - 10)
		match($0, /reason=[a-z_]+/); why = substr($0, RSTART + 7, RLENGTH - 7)
		ms[why] += s; mf[why] += f; mc[why]++
		if (!(why in first)) first[why] = t; last[why] = t
	}
	/mm_vmscan_throttled/ { thr++ }
	END {
		printf "K throttled=%d\n", thr
		slp = 0; close_run()
		printf "K last_shrink_inactive=%s last_event=%s\n", lastshr, t
		printf "K total runs=%d zero_runs=%d sleeps=%d last_sleep=%s wakeups=%d first_wakeup=%s last_wakeup=%s scanned=%d reclaimed=%d\n", runs, zero, sleeps, lastsleep, wk, wk1, wkl, tsc, trc
		for (w in ms) printf "M reason=%s calls=%d succeeded=%d failed=%d first=%s last=%s\n", w, mc[w], ms[w], mf[w], first[w], last[w]
	}' /tmp/trace
[ "${RAW_MAX:-0}" -gt 0 ] && grep -v mm_migrate_pages /tmp/trace | grep -v mm_vmscan_wakeup_kswapd |
	sed 's/^ *//; s/nr_dirty=0 nr_writeback=0 nr_congested=0 nr_immediate=0 //; s/nr_activate_file=0 //; s/ flags=.*//' |
	head -${RAW_MAX:-0} | sed 's/^/R /'
awk '
	{ ts = $0; sub(/^.*\] [^ ]* /, "", ts); split(ts, a, ":"); b = int((a[1] + 0) * 2) / 2 }
	/mm_migrate_pages:/ {
		match($0, /nr_succeeded=[0-9]+/); s = substr($0, RSTART + 13, RLENGTH - 13)
		if ($0 ~ /reason=demotion/) d[b] += s; else if ($0 ~ /reason=numa_misplaced/) p[b] += s
		seen[b] = 1
	}
	/mm_vmscan_wakeup_kswapd: nid=0/ { w[b]++; seen[b] = 1 }
	/sched_skip_vma_numa/ { match($0, /reason=[a-z_]+/); r = substr($0, RSTART + 7, RLENGTH - 7); sk[b "," r]++; rs[r] = 1; seen[b] = 1 }
	END { for (b in seen) { out = ""
		for (r in rs) if (sk[b "," r]) out = out " skip_" r "=" sk[b "," r]
		printf "B t=%.1f promoted=%d demoted=%d kswapd_wakeups=%d%s\n", b, p[b], d[b], w[b], out } }' /tmp/trace | sort -t= -k2 -n
echo "I trace_lines=$(wc -l </tmp/trace) overrun=$(grep -m1 -o 'entries-in-buffer/entries-written: [0-9/]*' $T/trace)"
exit $rc
