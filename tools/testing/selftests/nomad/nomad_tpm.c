// SPDX-License-Identifier: GPL-2.0
/*
 * Transactional migration (vm.nomad_transactional_migration): no write is
 * ever lost while pages written by several threads are promoted again and
 * again; a write during the copy aborts it; folios mapped by two
 * processes after fork() move for both; fork() during promotion is safe;
 * pinned pages are left alone; munmap, mprotect and MADV_DONTNEED racing
 * with migration are safe; large folios fall back; with the knob off
 * nothing is transactional.
 */
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "nomad_util.h"

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define ASYNC		"/proc/sys/vm/nomad_async_promotion"
#define TPM		"/proc/sys/vm/nomad_transactional_migration"
#define RETRIES		"/proc/sys/vm/nomad_tpm_max_retries"
#define MIB		(1024UL * 1024)
#define WORDS		(NOMAD_PAGE_SIZE / sizeof(uint64_t))

struct tpm_counts {
	long long attempt, commit, abort_dirty, abort_ref, fallback;
};

static void tpm_counts(struct tpm_counts *c)
{
	c->attempt = vmstat_get("nomad_tpm_attempt");
	c->commit = vmstat_get("nomad_tpm_commit");
	c->abort_dirty = vmstat_get("nomad_tpm_abort_dirty");
	c->abort_ref = vmstat_get("nomad_tpm_abort_ref");
	c->fallback = vmstat_get("nomad_tpm_fallback");
}

static void tpm_delta(struct tpm_counts *d, const struct tpm_counts *a,
		      const struct tpm_counts *b)
{
	d->attempt = b->attempt - a->attempt;
	d->commit = b->commit - a->commit;
	d->abort_dirty = b->abort_dirty - a->abort_dirty;
	d->abort_ref = b->abort_ref - a->abort_ref;
	d->fallback = b->fallback - a->fallback;
}

static void log_delta(struct __test_metadata *_metadata, const struct tpm_counts *d)
{
	TH_LOG("tpm: attempt %lld commit %lld abort_dirty %lld abort_ref %lld fallback %lld",
	       d->attempt, d->commit, d->abort_dirty, d->abort_ref, d->fallback);
}

FIXTURE(tpm) {
	int fast, slow;
	long saved_nb, saved_retries;
	struct tpm_counts before;
};

FIXTURE_SETUP(tpm)
{
	int ok;

	if (find_tier_nodes(&self->fast, &self->slow))
		SKIP(return, "platform has no lower memory tier");
	self->saved_nb = read_long(NUMA_BALANCING, &ok);
	ASSERT_TRUE(ok);
	self->saved_retries = read_long(RETRIES, &ok);
	ASSERT_TRUE(ok);
	ASSERT_EQ(0, write_long(ASYNC, 1));
	ASSERT_EQ(0, write_long(TPM, 1));
	numab_fast_scan();
	ASSERT_EQ(0, write_long(NUMA_BALANCING, 2));
	tpm_counts(&self->before);
}

FIXTURE_TEARDOWN(tpm)
{
	/* a test that failed half-way must not leave them to the next one */
	if (!access(NOMAD_TPM_COPY_DELAY, W_OK))
		write_long(NOMAD_TPM_COPY_DELAY, 0);
	write_long(RETRIES, self->saved_retries);
	nomad_set_switches(0);
	write_long(NUMA_BALANCING, self->saved_nb);
}

/* A buffer on the slow node, policy reset so that it can be promoted. */
static char *slow_buffer(int slow, size_t len, int fill)
{
	char *buf = map_on_node(len, MPOL_BIND, slow, fill);

	if (buf != MAP_FAILED && unbind(buf, len)) {
		munmap(buf, len);
		return MAP_FAILED;
	}
	return buf;
}

struct writer {
	uint64_t *buf;
	size_t pages, first, step;
	uint32_t *epoch;		/* last complete epoch of each page */
	long lost;			/* words that lost their last write */
	int *stop;		/* read with __atomic_load_n() */
};

/*
 * Rewrite whole pages, one after another: every word of page i in epoch e
 * is (i << 32 | e).  A stale copy committed by a migration leaves words of
 * an older epoch behind.
 */
static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	size_t i, k;

	while (!__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		for (i = w->first; i < w->pages; i += w->step) {
			uint64_t old = (uint64_t)i << 32 | w->epoch[i];
			uint64_t *p = w->buf + i * WORDS;

			/* what we wrote last time must still be there */
			for (k = 0; k < WORDS; k++) {
				w->lost += p[k] != old;
				p[k] = old + 1;
			}
			w->epoch[i]++;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(tpm, no_lost_write_with_commits_and_aborts, 90)
{
	size_t hot_len = 8 * MIB, cold_len = 16 * MIB, pages = hot_len / NOMAD_PAGE_SIZE;
	struct writer w[2];
	pthread_t th[2];
	struct tpm_counts after, d;
	int stop = 0;
	long bad = 0, rounds = 0;
	unsigned long rewrites;
	uint32_t *epoch;
	size_t i, k;
	char *cold;
	uint64_t *hot;
	double t0;

	hot = (uint64_t *)slow_buffer(self->slow, hot_len, 0);
	cold = slow_buffer(self->slow, cold_len, 0x77);
	epoch = calloc(pages, sizeof(*epoch));
	ASSERT_NE(MAP_FAILED, hot);
	ASSERT_NE(MAP_FAILED, cold);
	ASSERT_NE(NULL, epoch);
	for (i = 0; i < pages * WORDS; i++)
		hot[i] = (uint64_t)(i / WORDS) << 32;	/* epoch 0 */
	for (i = 0; i < 2; i++) {
		w[i] = (struct writer){ hot, pages, i, 2, epoch, 0, &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, writer_fn, &w[i]));
	}
	/* keep promotions coming: read the cold set, send both back often */
	t0 = now_sec();
	while (now_sec() - t0 < 12) {
		double t1 = now_sec();

		while (now_sec() - t1 < 0.4)
			read_pages(cold, cold_len);
		move_to_node(hot, hot_len, self->slow);
		move_to_node(cold, cold_len, self->slow);
		rounds++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].lost;
	}

	for (i = 0; i < pages; i++)
		for (k = 0; k < WORDS; k++)
			if (hot[i * WORDS + k] != ((uint64_t)i << 32 | epoch[i]))
				bad++;
	for (i = 0; i < cold_len; i++)
		if (cold[i] != 0x77)
			bad++;
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	for (i = 0, rewrites = 0; i < pages; i++)
		rewrites += epoch[i];
	TH_LOG("%ld rounds, %lu page rewrites, %ld corrupted words", rounds, rewrites, bad);
	EXPECT_EQ(0, bad);
	/*
	 * Whether a write hits a copy here is a race (write_during_copy_aborts
	 * makes it certain): require only the commits of the cold pages.
	 */
	EXPECT_LT(0, d.commit);
}

#define COPY_PAGES	2

/*
 * With every attempt held open for 100 ms between copy and unmap
 * (CONFIG_NOMAD_DEBUG), a thread rewriting its page in a loop writes into
 * every copy window: the attempts must abort as dirty, and the pages keep
 * every write.  One thread per page: a thread rewriting several pages
 * would wait on the migration entry of one while another one's window is
 * open, and that one would commit.  No retries, for the same reason: a
 * writer that faults on the migration entries an aborting attempt leaves
 * for a moment sleeps until the folio is unlocked, after every retry, so
 * a retry finds its page unwritten and commits (rightly).
 */
TEST_F_TIMEOUT(tpm, write_during_copy_aborts, 90)
{
	size_t len = COPY_PAGES * NOMAD_PAGE_SIZE, pages = COPY_PAGES, i, k;
	struct writer w[COPY_PAGES];
	pthread_t th[COPY_PAGES];
	struct tpm_counts now, d;
	uint32_t *epoch;
	uint64_t *hot;
	int stop = 0;
	long bad = 0;
	double t0;

	if (access(NOMAD_TPM_COPY_DELAY, W_OK))
		SKIP(return, "no %s (CONFIG_NOMAD_DEBUG=n)", NOMAD_TPM_COPY_DELAY);
	hot = (uint64_t *)slow_buffer(self->slow, len, 0);
	epoch = calloc(pages, sizeof(*epoch));
	ASSERT_NE(MAP_FAILED, hot);
	ASSERT_NE(NULL, epoch);
	for (i = 0; i < pages * WORDS; i++)
		hot[i] = (uint64_t)(i / WORDS) << 32;
	/*
	 * So few new pages are still in this CPU's LRU-add batch, where they
	 * cannot be isolated for migration: move_pages() drains the batches.
	 */
	ASSERT_EQ(0, move_to_node(hot, len, self->slow));
	ASSERT_EQ(0, write_long(RETRIES, 0));
	ASSERT_EQ(0, write_long(NOMAD_TPM_COPY_DELAY, 100000));
	tpm_counts(&self->before);
	for (i = 0; i < pages; i++) {
		w[i] = (struct writer){ hot, pages, i, pages, epoch, 0, &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, writer_fn, &w[i]));
	}
	/* until the pages are promoted (the fallback copies them unmapped) */
	t0 = now_sec();
	do
		usleep(100000);
	while (pages_on_node((char *)hot, len, self->fast) < (long)pages &&
	       now_sec() - t0 < 60);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < pages; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].lost;
	}
	write_long(NOMAD_TPM_COPY_DELAY, 0);
	/* after the migrations: an attempt is counted before its window */
	tpm_counts(&now);
	tpm_delta(&d, &self->before, &now);

	for (i = 0; i < pages; i++)
		for (k = 0; k < WORDS; k++)
			bad += hot[i * WORDS + k] != ((uint64_t)i << 32 | epoch[i]);
	log_delta(_metadata, &d);
	TH_LOG("%.1f s: %ld of %zu pages on the fast node, %ld corrupted words",
	       now_sec() - t0, pages_on_node((char *)hot, len, self->fast), pages, bad);
	EXPECT_EQ(0, bad);
	/* a write in every window: every attempt aborts, nothing commits */
	EXPECT_LT(0, d.abort_dirty);
	EXPECT_EQ(d.attempt, d.abort_dirty);
	EXPECT_EQ(0, d.commit);
}

/*
 * Folios mapped by two processes: the scanner marks the parent's pages for
 * hinting faults, then the parent forks, so the faults hit folios mapped
 * twice; a transactional migration has to move both mappings.
 */
TEST_F_TIMEOUT(tpm, shared_after_fork, 90)
{
	size_t len = 8 * MIB, pages = len / NOMAD_PAGE_SIZE, i;
	struct tpm_counts after, d;
	long long upd0;
	int status, go[2];
	char *buf, spin[4096];
	double t0;
	pid_t pid;

	buf = slow_buffer(self->slow, len, 0x42);
	ASSERT_NE(MAP_FAILED, buf);
	/* run (for scan ticks) without touching buf until it is marked */
	upd0 = vmstat_get("numa_pte_updates");
	t0 = now_sec();
	while (vmstat_get("numa_pte_updates") - upd0 < (long long)pages && now_sec() - t0 < 20)
		memset(spin, spin[1] + 1, sizeof(spin));
	if (vmstat_get("numa_pte_updates") - upd0 < (long long)pages)
		SKIP(return, "the NUMA scanner did not mark the buffer");
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c;

		if (read(go[0], &c, 1) != 1)
			_exit(3);
		for (i = 0; i < len; i += 509)
			if (buf[i] != 0x42)
				_exit(1);
		/* the child's mappings moved with the parent's */
		_exit(pages_on_node(buf, len, self->fast) >= (long)pages * 9 / 10 ? 0 : 2);
	}
	read_until_promoted(buf, len, self->fast, 30);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child: %s", WEXITSTATUS(status) == 1 ? "bad data" :
		       WEXITSTATUS(status) == 2 ? "its pages were not promoted" : "failed");
	EXPECT_LT(0, d.commit);
	for (i = 0; i < len; i += 509)
		ASSERT_EQ(0x42, buf[i]);
}

/* mlocked pages keep their mlock state across a transactional migration. */
TEST_F_TIMEOUT(tpm, mlock_state_kept, 60)
{
	size_t len = 4 * MIB, pages = len / NOMAD_PAGE_SIZE;
	struct tpm_counts after, d;
	long long mlock0, mlock1;
	long on_fast;
	double t0;
	char *buf;

	buf = slow_buffer(self->slow, len, 0x6e);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mlock(buf, len)) TH_LOG("mlock: %s", strerror(errno));
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	mlock0 = vmstat_get("nr_mlock");
	tpm_counts(&self->before);
	on_fast = read_until_promoted(buf, len, self->fast, 30);
	/*
	 * kpromoted may still be moving the last folios, and mlock counts
	 * sit in per-CPU batches: drain them (drop_caches does) and retry
	 * for a while before comparing.
	 */
	t0 = now_sec();
	do {
		usleep(200000);
		ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "1"));
		ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
		mlock1 = vmstat_get("nr_mlock");
	} while (mlock1 != mlock0 && now_sec() - t0 < 10);
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	TH_LOG("%ld of %zu mlocked pages promoted; nr_mlock %lld -> %lld", on_fast, pages,
	       mlock0, mlock1);
	EXPECT_LE((long)pages * 9 / 10, on_fast);
	EXPECT_LT(0, d.commit);
	EXPECT_EQ(mlock0, mlock1);
	EXPECT_EQ(0x6e, buf[len / 3]);
	munlock(buf, len);
}

/* Bytes of anonymous memory on @node in a memory.numa_stat file, or -1. */
static long long numa_stat_anon(const char *file, int node)
{
	char line[1024], key[16], *p;
	long long v = -1;
	FILE *f = fopen(file, "r");

	snprintf(key, sizeof(key), " N%d=", node);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "anon ", 5))
			continue;
		p = strstr(line, key);
		if (p)
			v = strtoll(p + strlen(key), NULL, 10);
	}
	if (f)
		fclose(f);
	return v;
}

struct memcg_result {
	long long cur0, cur1, fast0, fast1, slow0, slow1;
	long on_fast;
};

/*
 * The memory cgroup charge follows the pages: the total stays, and the
 * per-node split in memory.numa_stat moves from the slow to the fast node.
 */
TEST_F_TIMEOUT(tpm, memcg_charge_follows, 150)
{
	const char *cg = "/sys/fs/cgroup/nomad_tpm";
	long long len = 16 * MIB;
	struct memcg_result r;
	struct tpm_counts after, d;
	char cur[128], numa[128];
	int status, fds[2];
	pid_t pid;

	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory") ||
	    (mkdir(cg, 0755) && errno != EEXIST))
		SKIP(return, "no memory cgroup controller");
	snprintf(cur, sizeof(cur), "%s/memory.current", cg);
	snprintf(numa, sizeof(numa), "%s/memory.numa_stat", cg);
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char path[160];
		int ok;
		char *buf;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		if (write_file(path, "0"))
			_exit(3);
		buf = slow_buffer(self->slow, len, 0x5b);
		if (buf == MAP_FAILED)
			_exit(3);
		r.cur0 = read_long(cur, &ok);
		r.fast0 = numa_stat_anon(numa, self->fast);
		r.slow0 = numa_stat_anon(numa, self->slow);
		r.on_fast = read_until_promoted(buf, len, self->fast, 30);
		sleep(3);	/* let the cgroup statistics flush */
		r.cur1 = read_long(cur, &ok);
		r.fast1 = numa_stat_anon(numa, self->fast);
		r.slow1 = numa_stat_anon(numa, self->slow);
		_exit(write(fds[1], &r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(r), read(fds[0], &r, sizeof(r)));
	rmdir(cg);
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	TH_LOG("%ld pages promoted; memory.current %lld -> %lld", r.on_fast, r.cur0, r.cur1);
	TH_LOG("anon bytes on node %d: %lld -> %lld, on node %d: %lld -> %lld",
	       self->fast, r.fast0, r.fast1, self->slow, r.slow0, r.slow1);
	EXPECT_LT(0, d.commit);
	EXPECT_LT(llabs(r.cur1 - r.cur0), len / 4);
	EXPECT_LE(len / 2, r.fast1 - r.fast0);
	EXPECT_LE(len / 2, r.slow0 - r.slow1);
}

/*
 * fork() while pages are being promoted: a folio can gain a mapping
 * between the clean and the unmap step.  Every child checks the data and
 * writes its own copy; the parent's data must not change.
 */
TEST_F_TIMEOUT(tpm, fork_during_promotion, 90)
{
	size_t len = 8 * MIB, i;
	struct tpm_counts after, d;
	long on_fast = 0, forks = 0, bad_children = 0;
	double t0, tfork;
	int status;
	char *buf;
	pid_t pid;

	buf = slow_buffer(self->slow, len, 0x42);
	ASSERT_NE(MAP_FAILED, buf);
	t0 = now_sec();
	tfork = t0;
	while (now_sec() - t0 < 60) {
		read_pages(buf, len);
		if (now_sec() < tfork)
			continue;
		tfork += 0.3;
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			for (i = 0; i < len; i += len / 64)
				if (buf[i] != 0x42)
					_exit(1);
			for (i = 0; i < len; i += len / 16) {
				buf[i] = 0x43;	/* COW: our own copy */
				if (buf[i] != 0x43)
					_exit(1);
			}
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		forks++;
		bad_children += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		on_fast = pages_on_node(buf, len, self->fast);
		if (on_fast >= (long)(len / NOMAD_PAGE_SIZE * 9 / 10))
			break;
	}
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	TH_LOG("%ld forks, %ld children saw bad data, %ld pages promoted", forks,
	       bad_children, on_fast);
	EXPECT_EQ(0, bad_children);
	EXPECT_LE((long)(len / NOMAD_PAGE_SIZE * 9 / 10), on_fast);
	EXPECT_LT(0, d.commit);
	for (i = 0; i < len; i += 509)
		ASSERT_EQ(0x42, buf[i]);
}

/*
 * Pages pinned for DMA (an io_uring fixed buffer) are left alone: mainline's
 * NUMA scanner already skips maybe-pinned private folios, and a pin taken
 * later makes the folio ineligible for transactional migration.  They stay
 * where they are, with their data.
 */
TEST_F_TIMEOUT(tpm, pinned_pages_left_alone, 60)
{
	struct io_uring_params p = { 0 };
	size_t len = 1 * MIB, i;
	struct tpm_counts after, d;
	long on_slow;
	struct iovec iov;
	char *buf;
	int fd;

	buf = slow_buffer(self->slow, len, 0x19);
	ASSERT_NE(MAP_FAILED, buf);
	fd = syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		SKIP(return, "io_uring not available (%s)", strerror(errno));
	iov.iov_base = buf;
	iov.iov_len = len;
	ASSERT_EQ(0, syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1))
		TH_LOG("IORING_REGISTER_BUFFERS: %s", strerror(errno));
	tpm_counts(&self->before);
	read_until_promoted(buf, len, self->fast, 6);
	on_slow = pages_on_node(buf, len, self->slow);
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	TH_LOG("%ld of %zu pinned pages still on node %d", on_slow, len / NOMAD_PAGE_SIZE,
	       self->slow);
	EXPECT_EQ(0, d.attempt);
	EXPECT_EQ((long)(len / NOMAD_PAGE_SIZE), on_slow);
	for (i = 0; i < len; i++)
		if (buf[i] != 0x19)
			ASSERT_EQ(0x19, buf[i]);
	close(fd);
}

/*
 * munmap, mprotect and MADV_DONTNEED on pages that are being promoted:
 * the child checks what it wrote after every step.
 */
static int vma_churn(int slow, double secs)
{
	size_t len = 8 * MIB, chunk = 256 * 1024, nchunks = len / chunk;
	double t0 = now_sec();
	unsigned int seed = 1;
	char *buf = slow_buffer(slow, len, 1);

	if (buf == MAP_FAILED)
		return 2;
	while (now_sec() - t0 < secs) {
		size_t c = rand_r(&seed) % nchunks, i;
		char *p = buf + c * chunk;

		switch (rand_r(&seed) % 4) {
		case 0:	/* unmap and map again: fresh zero pages */
			munmap(p, chunk);
			if (mmap(p, chunk, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
				return 3;
			memset(p, 1, chunk);
			break;
		case 1:	/* read-only for a while, then writable again */
			mprotect(p, chunk, PROT_READ);
			read_pages(p, chunk);
			mprotect(p, chunk, PROT_READ | PROT_WRITE);
			break;
		case 2:	/* drop and refill */
			madvise(p, chunk, MADV_DONTNEED);
			for (i = 0; i < chunk; i += NOMAD_PAGE_SIZE)
				if (p[i] != 0)
					return 4;
			memset(p, 1, chunk);
			break;
		default:
			move_to_node(p, chunk, slow);
			break;
		}
		read_pages(buf, len);
		for (i = 0; i < len; i += 512)
			if (buf[i] != 1)
				return 1;
	}
	return 0;
}

TEST_F_TIMEOUT(tpm, vma_changes_race_with_migration, 60)
{
	struct tpm_counts after, d;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(vma_churn(self->slow, 10));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child exit %d (1: data lost, 3: mmap, 4: not zero)", WEXITSTATUS(status));
	EXPECT_LT(0, d.attempt);
}

TEST_F_TIMEOUT(tpm, thp_falls_back, 60)
{
	size_t len = 16 * MIB, raw_len;
	struct tpm_counts after, d;
	char *raw, *buf;

	buf = thp_on_node(len, self->slow, 0x5c, &raw, &raw_len);
	if (!buf)
		SKIP(return, "no transparent huge pages on node %d", self->slow);
	tpm_counts(&self->before);
	read_until_promoted(buf, len, self->fast, 30);
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	EXPECT_LT(0, d.fallback);
	EXPECT_EQ(0, d.attempt);
	EXPECT_EQ(0x5c, buf[0]);
	EXPECT_EQ(0x5c, buf[len - 1]);
	munmap(raw, raw_len);
}

TEST_F_TIMEOUT(tpm, knob_off_is_classic, 60)
{
	size_t len = 16 * MIB;
	struct tpm_counts after, d;
	long on_fast;
	char *buf;

	ASSERT_EQ(0, write_long(TPM, 0));
	buf = slow_buffer(self->slow, len, 0x31);
	ASSERT_NE(MAP_FAILED, buf);
	tpm_counts(&self->before);
	on_fast = read_until_promoted(buf, len, self->fast, 30);
	tpm_counts(&after);
	tpm_delta(&d, &self->before, &after);
	log_delta(_metadata, &d);
	EXPECT_LE((long)(len / NOMAD_PAGE_SIZE * 9 / 10), on_fast);
	EXPECT_EQ(0, d.attempt + d.commit + d.abort_dirty + d.abort_ref + d.fallback);
	EXPECT_EQ(0x31, buf[len / 2]);
}

TEST_HARNESS_MAIN
