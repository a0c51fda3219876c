#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of make check's "tools" boot: the programs users reach for
# first work in every guest, on this kernel.  TAP output, one line per
# check, "ok N name" or "not ok N name".
#   tools.sh            (needs nomad_demo next to it)
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n $1"; shift; echo "# $*"; }

fast=$(cut -d, -f1 /sys/devices/system/node/has_cpu | cut -d- -f1)
slow=""
for d in /sys/devices/system/node/node[0-9]*; do
	[ "${d##*node}" = "$fast" ] || { slow=${d##*node}; break; }
done
[ -n "$slow" ] || { echo "not ok 1 topology"; echo "# no CPU-less node"; exit 1; }
free_kb() { awk '/MemFree/ {print $4}' /sys/devices/system/node/node$1/meminfo; }

# numactl -H: both nodes, with their sizes and the distance table
numactl -H >/tmp/h 2>&1
if grep -q "^available: 2 nodes" /tmp/h && grep -q "^node $fast size: [1-9]" /tmp/h &&
   grep -q "^node $slow size: [1-9]" /tmp/h && grep -q "^node distances:" /tmp/h; then
	ok numactl_hardware
else
	notok numactl_hardware "$(head -3 /tmp/h)"
fi

# numactl --membind places memory where it says: 64 MiB of tmpfs written
# under --membind=slow come out of the slow node's free memory
s0=$(free_kb "$slow") f0=$(free_kb "$fast")
numactl --membind="$slow" dd if=/dev/zero of=/tmp/bound bs=1M count=64 2>/dev/null
s1=$(free_kb "$slow") f1=$(free_kb "$fast")
rm -f /tmp/bound
if [ $((s0 - s1)) -ge $((60 * 1024)) ] && [ $((f0 - f1)) -lt $((16 * 1024)) ]; then
	ok numactl_membind
else
	notok numactl_membind "slow node free -$(((s0 - s1) / 1024)) MiB, fast -$(((f0 - f1) / 1024)) MiB"
fi

# numastat -m: one column per node, MemTotal in MB
numastat -m >/tmp/m 2>&1
if grep -q "Node $fast" /tmp/m && grep -q "Node $slow" /tmp/m &&
   grep -qE "^MemTotal +[1-9]" /tmp/m; then
	ok numastat_meminfo
else
	notok numastat_meminfo "$(head -5 /tmp/m)"
fi

# perf: NOMAD's tracepoint counts transactional migrations of a promoting
# workload; the migrate tracepoints count the same promotions
echo true >/sys/kernel/mm/numa/demotion_enabled
D=/sys/kernel/debug/sched/numa_balancing
echo 100 >$D/scan_delay_ms; echo 100 >$D/scan_period_min_ms; echo 1000 >$D/scan_period_max_ms
echo 1 >/proc/sys/vm/nomad_async_promotion
echo 1 >/proc/sys/vm/nomad_transactional_migration
echo 2 >/proc/sys/kernel/numa_balancing
perf stat -x, -a -e 'nomad:*' -e migrate:mm_migrate_pages -o /tmp/p -- \
	./nomad_demo promote 32 10 >/tmp/d 2>&1
rc=$?
echo 1 >/proc/sys/kernel/numa_balancing
tpm=$(awk -F, '$3 == "nomad:nomad_tpm" {print $1}' /tmp/p)
mig=$(awk -F, '$3 == "migrate:mm_migrate_pages" {print $1}' /tmp/p)
if [ $rc -eq 0 ] && [ "${tpm:-0}" -gt 0 ] 2>/dev/null && [ "${mig:-0}" -gt 0 ] 2>/dev/null; then
	ok perf_stat_tracepoints
	echo "# nomad:nomad_tpm $tpm, migrate:mm_migrate_pages $mig"
else
	notok perf_stat_tracepoints "perf exit $rc; $(grep -v '^#' /tmp/p | head -4 | tr '\n' ' ')"
fi

# perf record/report: a system-wide cpu-clock profile with kernel symbols
perf record -a -g -e cpu-clock -F 200 -o /tmp/perf.data -q -- \
	dd if=/dev/zero of=/dev/null bs=4k count=200000 2>/dev/null
perf report -i /tmp/perf.data --stdio -q --no-children -g none --sort sym 2>/dev/null >/tmp/r
if grep -q '\[k\] [a-z_]' /tmp/r; then
	ok perf_record_kernel_symbols
else
	notok perf_record_kernel_symbols "$(head -3 /tmp/r)"
fi
echo "1..$n"
[ $bad -eq 0 ]
