// SPDX-License-Identifier: GPL-2.0
/*
 * Dataset generator for the Liblinear workload of "make bench": a binary
 * classification problem in libsvm format, shaped like click-through data
 * (kdd12, criteo): every row has --fields categorical fields, each one-hot
 * over its own range of --features / --fields feature indices, so a row
 * has exactly --fields nonzeros (value 1), in ascending index order as
 * liblinear requires.  Labels come from a hidden sparse hyperplane w
 * (about a third of the weights zero, the rest gaussian): y = sign(w.x),
 * then flipped with probability --noise percent.  A test file is drawn
 * the same way (same w, same noise, its own rows).  Fixed seed: every run
 * writes the same files.
 *
 *   nomad_lingen --mb N [--fields K] [--features F] [--noise PCT]
 *                [--test-rows T] [--seed S] TRAIN TEST
 *
 * --mb sizes the training set by what liblinear's train holds of it: one
 * 16-byte feature_node per nonzero plus a terminating one per row.  (For
 * the L1-regularised solvers, -s 5 and 6, train also keeps a transposed
 * copy of the same size while it trains.)  The test set defaults to 1 %
 * of the rows (at least 2000).
 *
 * With noise p, no model labels more than about 1 - p of the test rows
 * correctly; a model that learnt w (rows >> features) gets close to that.
 * The last line of stdout is
 *   lingen rows R test_rows T features F nonzeros Z train_bytes B
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

static char obuf[1 << 16];
static size_t olen;
static FILE *out;
static long written;

static void flush_buf(void)
{
	if (olen && fwrite(obuf, 1, olen, out) != olen) {
		perror("nomad_lingen: write");
		exit(1);
	}
	written += olen;
	olen = 0;
}

static void put_char(char c)
{
	obuf[olen++] = c;
}

/* decimal, no sign */
static void put_ulong(unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		put_char(tmp[--n]);
}

/* Box-Muller, one value per call (the second one is thrown away) */
static double gauss(void)
{
	double u = uniform(), v = uniform();

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* Write @rows rows to @path; returns the number of positive labels. */
static long write_rows(const char *path, long rows, long fields, long width,
		       const float *w, long noise_ppm)
{
	long r, f, pos = 0;

	out = fopen(path, "w");
	if (!out) {
		fprintf(stderr, "nomad_lingen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	for (r = 0; r < rows; r++) {
		unsigned long idx[256];
		double s = 0;
		int y;

		for (f = 0; f < fields; f++) {
			idx[f] = f * width + xorshift() % width;
			s += w[idx[f]];
		}
		y = s > 0;
		if ((long)(xorshift() % 1000000) < noise_ppm)
			y = !y;
		pos += y;
		if (olen > sizeof(obuf) - 24 * (fields + 1))
			flush_buf();
		if (!y)
			put_char('-');
		put_char('1');
		for (f = 0; f < fields; f++) {
			put_char(' ');
			put_ulong(idx[f] + 1);	/* libsvm indices start at 1 */
			put_char(':');
			put_char('1');
		}
		put_char('\n');
	}
	flush_buf();
	if (fclose(out)) {
		fprintf(stderr, "nomad_lingen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return pos;
}

static void usage(void)
{
	fprintf(stderr, "usage: nomad_lingen --mb N [--fields K] [--features F] [--noise PCT] "
		"[--test-rows T] [--seed S] TRAIN TEST\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long mb = 0, fields = 24, features = 24000, test_rows = 0, rows, width, i, pos;
	double noise = 3;
	unsigned long seed = 1;
	const char *train = NULL, *test = NULL;
	long train_bytes;
	float *w;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-') {
			if (!train)
				train = argv[i];
			else if (!test)
				test = argv[i];
			else
				usage();
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--mb"))
			mb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--fields"))
			fields = atol(argv[++i]);
		else if (!strcmp(argv[i], "--features"))
			features = atol(argv[++i]);
		else if (!strcmp(argv[i], "--noise"))
			noise = atof(argv[++i]);
		else if (!strcmp(argv[i], "--test-rows"))
			test_rows = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoul(argv[++i], NULL, 0);
		else
			usage();
	}
	if (mb <= 0 || fields < 1 || fields > 256 || features < fields ||
	    noise < 0 || noise >= 50 || test_rows < 0 || !seed || !train || !test)
		usage();
	width = features / fields;
	features = width * fields;
	rows = mb * 1024 * 1024 / (16 * (fields + 1));
	if (!test_rows)
		test_rows = rows / 100 < 2000 ? 2000 : rows / 100;

	rng = seed * 0x9e3779b97f4a7c15ULL;
	w = malloc(features * sizeof(*w));
	if (!w) {
		perror("nomad_lingen: malloc");
		return 1;
	}
	for (i = 0; i < features; i++)
		w[i] = xorshift() % 3 ? gauss() : 0;

	pos = write_rows(train, rows, fields, width, w, (long)(noise * 1e4));
	train_bytes = written;
	fprintf(stderr, "nomad_lingen: %s: %ld rows, %.1f %% positive, %ld bytes\n",
		train, rows, 100.0 * pos / rows, train_bytes);
	pos = write_rows(test, test_rows, fields, width, w, (long)(noise * 1e4));
	fprintf(stderr, "nomad_lingen: %s: %ld rows, %.1f %% positive\n",
		test, test_rows, 100.0 * pos / test_rows);
	printf("lingen rows %ld test_rows %ld features %ld nonzeros %ld train_bytes %ld\n",
	       rows, test_rows, features, rows * fields, train_bytes);
	return 0;
}
