#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest driver of "make bench" (see scripts/bench): runs every workload
# under every mode, in one boot, and prints machine-readable lines:
#   ROUND,<clock>,<workload>,<scenario>,<mode>,<rep>,<round>,<mops>,<stall_ms>
#   STAT,<clock>,<workload>,<scenario>,<mode>,<rep>,<steady_mops>,<promoted>,
#        <demoted>,<remaps>,<tpm_commits>,<tpm_aborts>,<hint_faults>,<stall_ms>,<secs>
#
#   bench.sh CLOCK [SCALE] [REPEATS] [ROUNDS]
# SCALE multiplies the round length (accesses, iterations); sizes follow
# the free memory of the fast node.
clock=${1:-wall}
scale=${2:-1}
reps=${3:-1}
rounds=${4:-8}
G=/nomad
MODES="notier tpp async tpm nomad"

say() { echo "bench: $*" >&2; }

# fast: a node with CPUs; slow: a memory node without
fast=$(cut -d, -f1 /sys/devices/system/node/has_cpu | cut -d- -f1)
slow=""
for d in /sys/devices/system/node/node[0-9]*; do
	n=${d##*node}
	[ "$n" = "$fast" ] && continue
	[ -z "$slow" ] && slow=$n
done
[ -n "$slow" ] || { echo "bench: no CPU-less memory node" >&2; exit 2; }

echo 100 >/sys/kernel/debug/sched/numa_balancing/scan_delay_ms
echo 100 >/sys/kernel/debug/sched/numa_balancing/scan_period_min_ms
echo 1000 >/sys/kernel/debug/sched/numa_balancing/scan_period_max_ms

setmode() {
	case $1 in
	notier) nb=0 dem=false a=0 t=0 s=0 ;;
	tpp) nb=2 dem=true a=0 t=0 s=0 ;;
	async) nb=2 dem=true a=1 t=0 s=0 ;;
	tpm) nb=2 dem=true a=1 t=1 s=0 ;;
	nomad) nb=2 dem=true a=1 t=1 s=1 ;;
	esac
	echo $dem >/sys/kernel/mm/numa/demotion_enabled
	echo $a >/proc/sys/vm/nomad_async_promotion
	echo $t >/proc/sys/vm/nomad_transactional_migration
	echo $s >/proc/sys/vm/nomad_shadow
	echo $nb >/proc/sys/kernel/numa_balancing
}

free_mb() {
	awk '/MemFree/ {print int($4 / 1024)}' /sys/devices/system/node/node$1/meminfo
}

# run WORKLOAD SCENARIO MODE REP COMMAND...
run() {
	w=$1 sc=$2 m=$3 rep=$4
	shift 4
	setmode "$m"
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/stat_refresh
	cp /proc/vmstat /tmp/v0
	t0=$(cut -d' ' -f1 /proc/uptime)
	"$@" >/tmp/out 2>&1
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo 1 >/proc/sys/vm/stat_refresh
	cp /proc/vmstat /tmp/v1
	setmode notier
	echo 0 >/proc/sys/vm/nomad_shadow
	if [ $rc -ne 0 ]; then
		say "$w $sc $m failed (exit $rc): $(tail -1 /tmp/out)"
		return
	fi
	awk -v c="$clock" -v w="$w" -v sc="$sc" -v m="$m" -v rep="$rep" \
		'/^round/ {printf "ROUND,%s,%s,%s,%s,%s,%s,%s,%s\n", c, w, sc, m, rep, $2, $8, $10}' /tmp/out
	awk -v c="$clock" -v w="$w" -v sc="$sc" -v m="$m" -v rep="$rep" -v secs="$t0 $t1" '
		FILENAME == "/tmp/v0" { v0[$1] = $2; next }
		FILENAME == "/tmp/v1" { d[$1] = $2 - v0[$1]; next }
		/^round/ { stall += $10 }
		/^summary/ { steady = $3 }
		END {
			split(secs, t, " ")
			printf "STAT,%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%d,%d,%.1f,%.1f\n", c, w, sc, m, rep,
				steady, d["pgpromote_success"],
				d["pgdemote_kswapd"] + d["pgdemote_direct"],
				d["nomad_shadow_demote_remap"], d["nomad_tpm_commit"],
				d["nomad_tpm_abort_dirty"] + d["nomad_tpm_abort_ref"],
				d["numa_hint_faults"], stall, t[2] - t[1]
		}' /tmp/v0 /tmp/v1 /tmp/out
	say "$clock $w $sc $m rep $rep: $(awk '/^summary/ {print $3}' /tmp/out) Mops/s steady, $(awk -v a="$t0" -v b="$t1" 'BEGIN {print int(b - a)}') s"
}

acc=$((4000000 * scale))
iters=$((6 * scale))
[ $iters -lt 4 ] && iters=4
i=0
for rep in $(seq 1 "$reps"); do
	for sc in fits pressure thrash; do
		free=$(free_mb "$fast")
		case $sc in
		fits) mb=$((free * 60 / 100)) extra="" ;;
		pressure) mb=$((free * 95 / 100)) extra="--shift" ;;
		thrash) mb=$((free * 2)) extra="" ;;
		esac
		for v in read write; do
			wp=0
			[ $v = write ] && wp=50
			# rotate the order of the modes from one run to the next
			set -- $MODES
			k=0
			while [ $k -lt $((i % 5)) ]; do
				first=$1
				shift
				set -- "$@" "$first"
				k=$((k + 1))
			done
			for m in "$@"; do
				run "micro-$v" "$sc" "$m" "$rep" "$G/nomad_bench" --mb "$mb" \
					--rounds "$rounds" --accesses "$acc" --write "$wp" $extra \
					--slow-node "$slow" --fast-node "$fast"
			done
			i=$((i + 1))
		done
	done
	# graph workload: working set larger than the fast node
	free=$(free_mb "$fast")
	for m in $MODES; do
		run pagerank pressure "$m" "$rep" "$G/nomad_pagerank" --mb $((free * 13 / 10)) \
			--iters "$iters" --slow-node "$slow"
	done
done
say "done"
