# SPDX-License-Identifier: GPL-2.0
#
# NOMAD non-exclusive memory tiering for Linux 6.12: build, boot, test.
#
#   make check     build everything, boot the guest, run every test
#   make run       build if needed, boot, show the tiers, demo + short benchmark
#   make bench     all workloads x all modes + the limit, model clock; table + plots
#
# See README.md.

SHELL := /bin/bash
VARIANT ?= default

.PHONY: all kernel selftests perf check check-debug check-fresh run tree series series-check clean distclean help deps faultlat bench qemu

all: kernel

help:
	@sed -n 's/^#   make /  make /p' Makefile
	@echo "  make kernel    build the guest kernel (build/bzImage-$(VARIANT))"
	@echo "  make selftests build the kselftests (build/kselftest)"
	@echo "  make perf      build perf from the kernel tree for the guest (build/perf/perf)"
	@echo "  make check-debug  make check on the debug kernel (KASAN, lockdep, DEBUG_VM ...)"
	@echo "  make check-fresh  make check from a clone in a fresh debootstrap chroot (root)"
	@echo "  make tree      prepare build/linux (base + patch series)"
	@echo "  make qemu      build the tier model's QEMU (build/qemu-system-x86_64)"
	@echo "  make clean     remove objects; keep the unpacked tree"
	@echo "  make distclean remove build/ entirely"

deps:
	@scripts/deps

tree:
	@scripts/tree sync

kernel:
	@scripts/build kernel $(VARIANT)

selftests:
	@scripts/build selftests $(VARIANT)

perf:
	@scripts/build perf

# Debian's QEMU with the tier model patch (qemu/), for vm-run --tier-model.
qemu:
	@scripts/qemu-build

check:
	@scripts/check $(VARIANT)

run:
	@scripts/demo $(VARIANT) && VARIANT=$(VARIANT) bench/run --short

clean:
	rm -rf build/obj-* build/cfg-* build/kselftest build/check-* build/guest build/bzImage-* build/perf

distclean:
	rm -rf --one-file-system build

# Hint-fault service time, mainline TPP vs asynchronous promotion (issue 3).
faultlat:
	@scripts/build kernel $(VARIANT) && scripts/build guest $(VARIANT) && \
	scripts/vm-run --kernel build/bzImage-$(VARIANT) --timeout 900 \
		--add build/guest/nomad_faultlat build/guest/faultlat.sh $(FAULTLAT_ARGS)

bench:
	@bench/run

series:
	@scripts/series

series-check:
	@scripts/series-check

check-debug:
	@scripts/check debug

check-fresh:
	@scripts/check-fresh
