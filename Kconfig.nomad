# SPDX-License-Identifier: GPL-2.0-only

config NOMAD
	bool "NOMAD non-exclusive memory tiering"
	depends on NUMA_BALANCING && MIGRATION
	help
	  NOMAD extends NUMA-balancing memory tiering (numa_balancing=2)
	  with asynchronous promotion by per-node kernel threads,
	  transactional page migration (copy while mapped, commit only if
	  the page was not written meanwhile) and page shadowing (keep the
	  slow-tier copy after promotion so that demoting a clean page is a
	  remap, not a copy).

	  Every mechanism is off at boot and switched on at run time with
	  the vm.nomad_* sysctls; while they are off the kernel behaves like
	  one built without this option.  See
	  Documentation/admin-guide/mm/nomad.rst.

	  If unsure, say N.

config NOMAD_ASYNC_PROMOTION
	bool "Asynchronous promotion by kpromoted threads"
	depends on NOMAD
	default y
	help
	  With vm.nomad_async_promotion=1 and memory tiering enabled
	  (kernel.numa_balancing bit 2), a NUMA hinting fault on a folio in
	  a lower memory tier that mainline would promote only queues the
	  folio; a kpromoted<nid> kernel thread of the target node migrates
	  queued folios in batches.  The faulting task does not copy pages.

	  If unsure, say Y.

config NOMAD_TPM
	bool "Transactional page migration"
	depends on NOMAD
	default y
	help
	  With vm.nomad_transactional_migration=1, promotions of small
	  anonymous folios copy the folio while it stays mapped and
	  usable; the migration commits only if nothing wrote to the
	  folio during the copy, and aborts (the folio stays where it is,
	  mapped as before) otherwise.  Applications never wait on a
	  migration entry while the data is copied.

	  If unsure, say Y.

config NOMAD_SHADOW
	bool "Page shadowing"
	depends on NOMAD && COMPACTION
	default y
	help
	  With vm.nomad_shadow=1, the slow-tier copy of a promoted small
	  anonymous folio is kept as a shadow of the new folio, which is
	  mapped read-only until its first write drops the shadow.
	  Demoting a folio that still has its shadow only remaps it to
	  the shadow: no copy.  Shadows are freed first when their node
	  runs short of memory.  They are movable pages, which compaction,
	  contiguous allocations and memory offlining move or free like
	  other movable memory; that needs COMPACTION.

	  If unsure, say Y.

config NOMAD_DEBUG
	bool "Debugging aids for NOMAD's tests"
	depends on NOMAD && DEBUG_FS
	help
	  Files in /sys/kernel/debug/nomad/ that let tests make races
	  certain: tpm_copy_delay_us holds each transactional migration
	  attempt open between its copy and its unmap, so that a
	  concurrent write lands in the window and aborts the attempt.
	  At 0, the default, nothing changes.  The NOMAD kselftests that
	  need them skip when they are missing.

	  If unsure, say N.

config NOMAD_KUNIT_TEST
	bool "KUnit tests for NOMAD" if !KUNIT_ALL_TESTS
	depends on NOMAD && KUNIT=y
	select MMU_NOTIFIER if NOMAD_TPM
	default KUNIT_ALL_TESTS
	help
	  KUnit tests for NOMAD's internal logic: the strict parsing of
	  the vm.nomad_* sysctls; with NOMAD_ASYNC_PROMOTION, the
	  promotion queue's accounting and references and the back-off's
	  control law; with NOMAD_TPM, transactional migration's commit
	  rule (migrating a page of the test's own user mapping, with a
	  stand-in secondary MMU); with NOMAD_SHADOW, the encoding of the
	  shadow link and a shadow's isolation, putback and migration as
	  a movable page.  Built in, they run at boot and report
	  in KTAP format in the kernel log; they can also be run with
	  tools/testing/kunit/kunit.py.  They leave the running kernel's
	  settings as they found them.

	  If unsure, say N.
