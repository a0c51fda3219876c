/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the NOMAD selftests: sysctl/sysfs access, /proc/vmstat,
 * memory tiers and page placement.  Nothing here hard-codes a node id: the
 * fast node is the node of the CPU we run on, the slow node is a memory
 * node in a lower memory tier.
 */
#ifndef NOMAD_UTIL_H
#define NOMAD_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NOMAD_PAGE_SIZE	4096UL
#define NOMAD_MAX_NODES	64
/* CONFIG_NOMAD_DEBUG: how long each transactional copy is held open */
#define NOMAD_TPM_COPY_DELAY	"/sys/kernel/debug/nomad/tpm_copy_delay_us"

static const char * const nomad_switches[] = {
	"nomad_async_promotion",
	"nomad_transactional_migration",
	"nomad_shadow",
};

/* Every NOMAD sysctl with its boot default and valid range. */
struct nomad_knob_range {
	const char *name;
	int def, min, max;
};

static const struct nomad_knob_range nomad_knob_ranges[] = {
	{ "nomad_async_promotion", 0, 0, 1 },
	{ "nomad_transactional_migration", 0, 0, 1 },
	{ "nomad_shadow", 0, 0, 1 },
	{ "nomad_promote_queue_max", 16384, 1, 1 << 20 },
	{ "nomad_promote_backoff", 1, 0, 1 },
	{ "nomad_tpm_max_retries", 3, 0, 64 },
	{ "nomad_tpm_fallback", 1, 0, 1 },
};

static const char * const nomad_counters[] = {
	"nomad_promote_queued", "nomad_promote_drop_full",
	"nomad_promote_drop_nomem",
	"nomad_promote_drop_dup", "nomad_promote_drop_stale",
	"nomad_promote_success", "nomad_promote_fail",
	"nomad_promote_drop_backoff", "nomad_promote_redemoted",
	"nomad_tpm_attempt", "nomad_tpm_commit", "nomad_tpm_abort_dirty",
	"nomad_tpm_abort_ref", "nomad_tpm_fallback",
	"nomad_shadow_create", "nomad_shadow_demote_remap",
	"nomad_shadow_break_write", "nomad_shadow_reclaim", "nomad_shadow_free",
	"nomad_shadow_move",
};

#define NOMAD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Write @len bytes of @buf to @path in one write(); 0 or -errno. */
static inline int write_file_len(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	ssize_t ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len);
	if (ret < 0)
		ret = -errno;
	else if ((size_t)ret != len)
		ret = -EIO;
	else
		ret = 0;
	close(fd);
	return ret;
}

static inline int write_file(const char *path, const char *str)
{
	return write_file_len(path, str, strlen(str));
}

/* Read @path into @buf (NUL-terminated); length or -errno. */
static inline int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t ret;

	if (fd < 0)
		return -errno;
	ret = read(fd, buf, size - 1);
	if (ret < 0)
		ret = -errno;
	else
		buf[ret] = '\0';
	close(fd);
	return ret;
}

/* Read an integer file; -errno style failure is reported through @ok. */
static inline long read_long(const char *path, int *ok)
{
	char buf[64], *end;
	long v;

	*ok = 0;
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf)
		return 0;
	*ok = 1;
	return v;
}

static inline int write_long(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return write_file(path, buf);
}

static inline void knob_path(char *buf, size_t size, const char *knob)
{
	snprintf(buf, size, "/proc/sys/vm/%s", knob);
}

/* Set every NOMAD on/off switch to @v; 0 on success. */
static inline int nomad_set_switches(int v)
{
	char path[128];
	size_t i;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_switches); i++) {
		knob_path(path, sizeof(path), nomad_switches[i]);
		if (write_long(path, v))
			return -1;
	}
	return 0;
}

/* Value of counter @name in /proc/vmstat, or -1 if it is not there. */
static inline long long vmstat_get(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static inline long long nomad_counters_sum(void)
{
	long long sum = 0;
	size_t i;

	for (i = 0; i < NOMAD_ARRAY_SIZE(nomad_counters); i++)
		sum += vmstat_get(nomad_counters[i]);
	return sum;
}

static inline double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Node of the CPU this task runs on. */
static inline int current_node(void)
{
	unsigned int cpu, node;

	if (syscall(SYS_getcpu, &cpu, &node, NULL))
		return -1;
	return node;
}

/*
 * Memory tier of every node: tier[nid] = the N of memory_tierN (a larger N
 * means a slower tier), -1 for nodes in no tier.  Returns the number of
 * distinct tiers.
 */
static inline int memory_tiers(int tier[NOMAD_MAX_NODES])
{
	const char *base = "/sys/devices/virtual/memory_tiering";
	char path[PATH_MAX], buf[256];
	struct dirent *de;
	int ntiers = 0, i;
	DIR *d;

	for (i = 0; i < NOMAD_MAX_NODES; i++)
		tier[i] = -1;
	d = opendir(base);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int id, lo, hi;
		char *p;

		if (sscanf(de->d_name, "memory_tier%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/nodelist", base, de->d_name);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		ntiers++;
		/* nodelist is a range list: "0", "1-3", "0,2" */
		for (p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n")) {
			if (sscanf(p, "%d-%d", &lo, &hi) != 2) {
				lo = atoi(p);
				hi = lo;
			}
			for (i = lo; i <= hi && i < NOMAD_MAX_NODES; i++)
				tier[i] = id;
		}
	}
	closedir(d);
	return ntiers;
}

/*
 * Find the fast node (ours) and a memory node in a slower tier.  Returns 0,
 * or -1 when this machine has no lower memory tier below our node.
 */
static inline int find_tier_nodes(int *fast, int *slow)
{
	int tier[NOMAD_MAX_NODES], i;

	memory_tiers(tier);
	*fast = current_node();
	*slow = -1;
	if (*fast < 0 || tier[*fast] < 0)
		return -1;
	for (i = 0; i < NOMAD_MAX_NODES; i++)
		if (tier[i] > tier[*fast] && (*slow < 0 || tier[i] < tier[*slow]))
			*slow = i;
	return *slow < 0 ? -1 : 0;
}

static inline long sys_mbind(void *addr, unsigned long len, int mode,
			     const unsigned long *nodemask, unsigned long maxnode,
			     unsigned int flags)
{
	return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
}

static inline long sys_move_pages(int pid, unsigned long count, void **pages,
				  const int *nodes, int *status, int flags)
{
	return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

/* Bind [addr, addr + len) to @node (mode MPOL_BIND or MPOL_PREFERRED). */
static inline int bind_to_node(void *addr, size_t len, int mode, int node)
{
	unsigned long mask[NOMAD_MAX_NODES / (8 * sizeof(long)) + 1] = { 0 };

	mask[node / (8 * sizeof(long))] |= 1UL << (node % (8 * sizeof(long)));
	return sys_mbind(addr, len, mode, mask, NOMAD_MAX_NODES + 1, 0);
}

/*
 * Map @len bytes of private anonymous memory of base pages (no THP) with
 * policy @mode (MPOL_BIND, MPOL_PREFERRED) for @node, and fill it with
 * @fill.  Returns the mapping or MAP_FAILED.
 */
static inline char *map_on_node(size_t len, int mode, int node, int fill)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return p;
	if (madvise(p, len, MADV_NOHUGEPAGE) || bind_to_node(p, len, mode, node)) {
		munmap(p, len);
		return MAP_FAILED;
	}
	memset(p, fill, len);
	return p;
}

/* Reset the policy of a range to the task default; pages stay put. */
static inline int unbind(void *addr, size_t len)
{
	return sys_mbind(addr, len, MPOL_DEFAULT, NULL, 0, 0);
}

#define NOMAD_HUGE_SIZE	(2UL << 20)

/*
 * Map @len bytes of THP-backed anonymous memory on @node, fill it with @fill
 * and reset its policy.  Returns the 2 MiB-aligned start, or NULL when the
 * kernel has no THP or allocated fewer than @len / 4 MiB huge pages there.
 * munmap() *@raw, *@raw_len when done.
 */
static inline char *thp_on_node(size_t len, int node, int fill, char **raw,
				size_t *raw_len)
{
	long long thp0;
	char *buf;

	*raw_len = len + NOMAD_HUGE_SIZE;
	*raw = mmap(NULL, *raw_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*raw == MAP_FAILED)
		return NULL;
	buf = (char *)(((unsigned long)*raw + NOMAD_HUGE_SIZE - 1) & ~(NOMAD_HUGE_SIZE - 1));
	if (madvise(buf, len, MADV_HUGEPAGE) || bind_to_node(buf, len, MPOL_BIND, node))
		goto fail;
	thp0 = vmstat_get("thp_fault_alloc");
	memset(buf, fill, len);
	if (vmstat_get("thp_fault_alloc") - thp0 < (long long)(len / (2 * NOMAD_HUGE_SIZE)) ||
	    unbind(buf, len))
		goto fail;
	return buf;
fail:
	munmap(*raw, *raw_len);
	return NULL;
}

/*
 * The node of each page of [addr, addr + len) into @nodes (a negative
 * errno for a page not present or in error).  0 on success.
 */
static inline int page_nodes(void *addr, size_t len, int *nodes)
{
	unsigned long n = len / NOMAD_PAGE_SIZE, i;
	void **pages = malloc(n * sizeof(void *));
	int ret = -1;

	if (pages) {
		for (i = 0; i < n; i++)
			pages[i] = (char *)addr + i * NOMAD_PAGE_SIZE;
		ret = sys_move_pages(0, n, pages, NULL, nodes, 0) ? -1 : 0;
	}
	free(pages);
	return ret;
}

/*
 * Count the pages of [addr, addr + len) per node: counts[nid] += 1, and
 * *other counts pages not present or in error.  0 on success.
 */
static inline int count_pages_per_node(void *addr, size_t len,
				       long counts[NOMAD_MAX_NODES], long *other)
{
	unsigned long n = len / NOMAD_PAGE_SIZE, i;
	int *status = malloc(n * sizeof(int));
	int ret = -1;

	if (!status || page_nodes(addr, len, status))
		goto out;
	memset(counts, 0, NOMAD_MAX_NODES * sizeof(long));
	*other = 0;
	for (i = 0; i < n; i++) {
		if (status[i] >= 0 && status[i] < NOMAD_MAX_NODES)
			counts[status[i]]++;
		else
			(*other)++;
	}
	ret = 0;
out:
	free(status);
	return ret;
}

/* Move every page of [addr, addr + len) to @node; 0 on success. */
static inline int move_to_node(void *addr, size_t len, int node)
{
	unsigned long n = len / NOMAD_PAGE_SIZE, i;
	void **pages = malloc(n * sizeof(void *));
	int *nodes = malloc(n * sizeof(int));
	int *status = malloc(n * sizeof(int));
	int ret = -1;

	if (pages && nodes && status) {
		for (i = 0; i < n; i++) {
			pages[i] = (char *)addr + i * NOMAD_PAGE_SIZE;
			nodes[i] = node;
		}
		ret = sys_move_pages(0, n, pages, nodes, status, 0) < 0 ? -1 : 0;
	}
	free(pages);
	free(nodes);
	free(status);
	return ret;
}

static inline long pages_on_node(void *addr, size_t len, int node)
{
	long counts[NOMAD_MAX_NODES], other;

	if (count_pages_per_node(addr, len, counts, &other))
		return -1;
	return counts[node];
}

/* Touch every page of a buffer; returns a checksum so it is not elided. */
static inline unsigned long read_pages(const void *addr, size_t len)
{
	const unsigned long *p = addr;
	unsigned long sum = 0, i;

	for (i = 0; i < len / sizeof(*p); i += NOMAD_PAGE_SIZE / sizeof(*p))
		sum += p[i];
	/* the loads must happen even when the caller ignores the sum */
	__asm__ __volatile__("" : : "r"(sum) : "memory");
	return sum;
}

/* NUMA-balancing debugfs knobs (CONFIG_SCHED_DEBUG); 0 on success. */
static inline int numab_debugfs_set(const char *knob, long v)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/sched/numa_balancing/%s", knob);
	return write_long(path, v);
}

/* Scan early and often so that promotion tests finish quickly. */
static inline void numab_fast_scan(void)
{
	numab_debugfs_set("scan_delay_ms", 100);
	numab_debugfs_set("scan_period_min_ms", 100);
	numab_debugfs_set("scan_period_max_ms", 1000);
}

/*
 * Read every page of [buf, buf + len) repeatedly until at least 90 % of it
 * is on @fast or @timeout seconds passed; returns the pages on @fast.
 */
static inline long read_until_promoted(char *buf, size_t len, int fast, double timeout)
{
	long pages = len / NOMAD_PAGE_SIZE, on_fast = 0;
	double t0 = now_sec();
	int i;

	while (now_sec() - t0 < timeout) {
		for (i = 0; i < 20; i++)
			read_pages(buf, len);
		on_fast = pages_on_node(buf, len, fast);
		if (on_fast >= pages * 9 / 10)
			break;
	}
	return on_fast;
}

#define NOMAD_TRACE "/sys/kernel/tracing"

/* Switch the migrate:mm_migrate_pages trace event on (and clear) or off. */
static inline int trace_migrations(int on)
{
	int fd;

	if (on) {
		/* opening the trace file with O_TRUNC clears the buffer */
		fd = open(NOMAD_TRACE "/trace", O_WRONLY | O_TRUNC);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return write_file(NOMAD_TRACE "/events/migrate/mm_migrate_pages/enable",
			  on ? "1" : "0");
}

/*
 * Count NUMA-misplaced migrate_pages() calls in the trace buffer: those
 * made by task @pid and those made by kpromoted threads.
 */
static inline int trace_count_misplaced(int pid, long *by_pid, long *by_kpromoted)
{
	char line[512];
	FILE *f = fopen(NOMAD_TRACE "/trace", "r");

	*by_pid = 0;
	*by_kpromoted = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char task[64], *dash;

		if (line[0] == '#' || !strstr(line, "reason=numa_misplaced"))
			continue;
		if (sscanf(line, " %63s", task) != 1)
			continue;
		dash = strrchr(task, '-');
		if (!dash)
			continue;
		if (atoi(dash + 1) == pid)
			(*by_pid)++;
		if (!strncmp(task, "kpromoted", 9))
			(*by_kpromoted)++;
	}
	fclose(f);
	return 0;
}

/* Folios queued for kpromoted on all nodes (debugfs), or -1. */
static inline long kpromoted_queued(void)
{
	char buf[4096], *line;
	long sum = 0;
	int nid, n;

	if (read_file("/sys/kernel/debug/nomad/kpromoted", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (sscanf(line, "%d %d", &nid, &n) == 2)
			sum += n;
	return sum;
}

/* Free memory of @node in KiB, or -1. */
static inline long node_free_kb(int node)
{
	char path[128], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p) {
			v = strtol(p + 8, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * Free pages of @node from /proc/zoneinfo, counting those cached in the
 * per-CPU lists (MemFree does not), and its min watermark.  0 on success.
 */
static inline int node_pages(int node, long *free, long *min)
{
	char line[256];
	int cur = -1;
	long v;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	*free = 0;
	*min = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &cur) == 1)
			continue;
		if (cur != node)
			continue;
		if (sscanf(line, " pages free %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			*free += v;
		else if (sscanf(line, " min %ld", &v) == 1)
			*min += v;
	}
	fclose(f);
	return 0;
}

#endif /* NOMAD_UTIL_H */
