// SPDX-License-Identifier: GPL-2.0
/*
 * YCSB-like driver for redis-server (Debian's), for "make bench": loads
 * --keys values of --value bytes, then runs --rounds rounds of --ops
 * operations on zipfian-chosen keys (hot keys scattered over the key
 * space), --read percent GETs and the rest SETs (YCSB workload B is 95).
 * Every GET is checked against the last value written to that key, so a
 * lost or torn write under migration fails the run.
 *
 *   nomad_redis --socket PATH --keys N [--value B] [--rounds R] [--ops M]
 *               [--read PCT] [--pipeline P] [--theta T] [--phase P]
 *
 * --phase load only loads (prints "loaded N keys") and exits; --phase run
 * skips the load and expects what a load with the same --keys and --value
 * left (every key at its first version), so that something can run in
 * between (bench.sh's thrashing pass); --phase all (default) does both.
 *
 * Output, as nomad_bench (mops = million operations per second):
 *   round R ops M secs S mops X stall_ms Y
 *   summary steady_mops X fast_pages 0 total_pages 0 errors E
 * "stall_ms" adds up the excess time of pipelined batches that took more
 * than 8 times the fastest batch (plus 20 us).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

static int fd;
static char rbuf[1 << 16];
static size_t rlen, rpos;
static char *wbuf;
static size_t wlen, wcap;
static long value_len, errors;

static void fail(const char *what)
{
	fprintf(stderr, "nomad_redis: %s: %s\n", what, errno ? strerror(errno) : "protocol error");
	exit(1);
}

static void put(const void *p, size_t n)
{
	if (wlen + n > wcap) {
		wcap = 2 * (wlen + n);
		wbuf = realloc(wbuf, wcap);
		if (!wbuf)
			fail("realloc");
	}
	memcpy(wbuf + wlen, p, n);
	wlen += n;
}

static void flush_out(void)
{
	size_t off = 0;

	while (off < wlen) {
		ssize_t n = write(fd, wbuf + off, wlen - off);

		if (n <= 0)
			fail("write");
		off += n;
	}
	wlen = 0;
}

/* Make sure rbuf holds unread bytes. */
static void fill(void)
{
	ssize_t n;

	if (rpos < rlen)
		return;
	n = read(fd, rbuf, sizeof(rbuf));
	if (n <= 0)
		fail("read");
	rlen = n;
	rpos = 0;
}

static int getbyte(void)
{
	fill();
	return (unsigned char)rbuf[rpos++];
}

/* one reply line without "\r\n" into line[] (truncated at len - 1) */
static void getline_crlf(char *line, size_t len)
{
	size_t i = 0;
	int c;

	while ((c = getbyte()) != '\n')
		if (c != '\r' && i < len - 1)
			line[i++] = c;
	line[i] = 0;
}

/*
 * The content of key k at version v: the alphabet repeated, starting at a
 * letter derived from both; alphabet[] holds it from every start.
 */
static char *alphabet, *got;

static inline const char *pattern(long k, unsigned char v)
{
	return alphabet + (k * 7 + v * 13) % 26;
}

static void key_name(char *key, long k)
{
	snprintf(key, 24, "k%010ld", k);
}

static void send_set(long k, unsigned char v)
{
	char hdr[96], key[24];

	key_name(key, k);
	put(hdr, snprintf(hdr, sizeof(hdr), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%ld\r\n",
			  strlen(key), key, value_len));
	put(pattern(k, v), value_len);
	put("\r\n", 2);
}

static void send_get(long k)
{
	char hdr[64], key[24];

	key_name(key, k);
	put(hdr, snprintf(hdr, sizeof(hdr), "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n",
			  strlen(key), key));
}

static void recv_set(void)
{
	char line[128];

	getline_crlf(line, sizeof(line));
	if (line[0] != '+')
		fprintf(stderr, "nomad_redis: SET: %s\n", line), exit(1);
}

static void recv_get(long k, unsigned char v)
{
	char line[128];
	long n, i = 0;

	getline_crlf(line, sizeof(line));
	if (line[0] != '$')
		fprintf(stderr, "nomad_redis: GET: %s\n", line), exit(1);
	n = atol(line + 1);
	if (n < 0) {
		/* nil: no such key (e.g. --phase run without the load) */
		if (errors++ < 5)
			fprintf(stderr, "nomad_redis: key %ld: missing\n", k);
		return;
	}
	while (i < n) {
		long m;

		fill();
		m = rlen - rpos < (size_t)(n - i) ? (long)(rlen - rpos) : n - i;
		if (i + m <= value_len)
			memcpy(got + i, rbuf + rpos, m);
		rpos += m;
		i += m;
	}
	getbyte();
	getbyte();
	if (n != value_len || memcmp(got, pattern(k, v), n)) {
		if (errors++ < 5)
			fprintf(stderr, "nomad_redis: key %ld: wrong value (%ld bytes)\n", k, n);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: nomad_redis --socket PATH --keys N [--value B] [--rounds R] "
		"[--ops M] [--read PCT] [--pipeline P] [--theta T] [--phase load|run|all]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long keys = 0, rounds = 6, ops = 100000, rpct = 95, depth = 16, i, r, b;
	const char *phase = "all";
	int load, run;
	double theta = 0.99, steady = 0, t;
	struct stall_clock sc = { 0 };
	const char *path = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char *ver;
	long *batch_key;
	char *batch_get;
	unsigned char *batch_ver;
	struct zipf z;
	long mult;

	value_len = 4000;
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--socket"))
			path = argv[++i];
		else if (!strcmp(argv[i], "--keys"))
			keys = atol(argv[++i]);
		else if (!strcmp(argv[i], "--value"))
			value_len = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--ops"))
			ops = atol(argv[++i]);
		else if (!strcmp(argv[i], "--read"))
			rpct = atol(argv[++i]);
		else if (!strcmp(argv[i], "--pipeline"))
			depth = atol(argv[++i]);
		else if (!strcmp(argv[i], "--theta"))
			theta = atof(argv[++i]);
		else if (!strcmp(argv[i], "--phase"))
			phase = argv[++i];
		else
			usage();
	}
	if (!path || strlen(path) >= sizeof(sa.sun_path) || keys < 2 || value_len < 1 ||
	    rounds < 1 || ops < 1 || rpct < 0 || rpct > 100 || depth < 1 ||
	    theta <= 0 || theta >= 1)
		usage();
	load = strcmp(phase, "run") != 0;
	run = strcmp(phase, "load") != 0;
	if (strcmp(phase, "all") && strcmp(phase, "load") && strcmp(phase, "run"))
		usage();
	strcpy(sa.sun_path, path);

	/* the server may still be starting */
	for (i = 0; ; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			fail("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		if (i == 300)
			fail("connect");
		usleep(100000);
	}
	errno = 0;

	ver = calloc(keys, 1);
	batch_key = malloc(depth * sizeof(long));
	batch_get = malloc(depth);
	batch_ver = malloc(depth);
	alphabet = malloc(value_len + 26);
	got = malloc(value_len);
	if (!ver || !batch_key || !batch_get || !batch_ver || !alphabet || !got)
		fail("malloc");
	for (i = 0; i < value_len + 26; i++)
		alphabet[i] = 'a' + i % 26;

	/* load: every key at version 0, which a --phase run expects */
	if (load) {
		t = now();
		for (i = 0; i < keys; i += depth) {
			for (b = 0; b < depth && i + b < keys; b++)
				send_set(i + b, 0);
			flush_out();
			for (b = 0; b < depth && i + b < keys; b++)
				recv_set();
		}
		fprintf(stderr, "nomad_redis: loaded %ld keys of %ld bytes in %.1f s\n",
			keys, value_len, now() - t);
	}
	if (!run) {
		printf("loaded %ld keys\n", keys);
		return 0;
	}

	/* hot keys scattered: rank -> rank * mult mod keys, mult coprime */
	for (mult = 1000003; ; mult += 2) {
		long a = mult, c = keys;

		while (c) {
			long tmp = a % c;

			a = c;
			c = tmp;
		}
		if (a == 1)
			break;
	}
	zipf_init(&z, keys, theta);

	for (r = 1; r <= rounds; r++) {
		double t0 = now();

		stall_start(&sc);

		for (i = 0; i < ops; i += depth) {
			long n = ops - i < depth ? ops - i : depth;

			for (b = 0; b < n; b++) {
				long k = (long)((unsigned long)zipf_next(&z) * mult % keys);

				batch_key[b] = k;
				batch_get[b] = (long)(xorshift() % 100) < rpct;
				/* a key may repeat within a batch: expect what precedes */
				if (batch_get[b]) {
					send_get(k);
				} else {
					ver[k]++;
					send_set(k, ver[k]);
				}
				batch_ver[b] = ver[k];
			}
			flush_out();
			for (b = 0; b < n; b++) {
				if (batch_get[b])
					recv_get(batch_key[b], batch_ver[b]);
				else
					recv_set();
			}
			stall_tick(&sc);
		}
		round_report("ops", r, rounds, ops, t0, sc.stall, &steady);
	}
	printf("summary steady_mops %.4f fast_pages 0 total_pages 0 errors %ld\n",
	       steady, errors);
	return errors ? 1 : 0;
}
