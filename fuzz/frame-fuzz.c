/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the host-side frame parser: bytes as a hostile
 * guest could send them, fed the way the supervisor reads its stream
 * (whole, and in pieces), with the invariants it relies on checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void check(const uint8_t *buf, size_t n, size_t *consumed)
{
	size_t off = 0;

	while (off < n) {
		struct sl_frame f;
		ssize_t used = sl_frame_parse(buf + off, n - off, &f);

		if (used == 0)
			break;
		if (used < 0) {
			size_t skip = sl_frame_hunt(buf + off, n - off);

			if (skip == 0 || skip > n - off)
				abort();
			off += skip;
			continue;
		}
		if ((size_t)used != SL_HDR_LEN + f.len || f.len > SL_FRAME_MAX ||
		    f.type == 0 || f.type > SL_TYPE_MAX || f.data != buf + off + SL_HDR_LEN ||
		    (size_t)used > n - off)
			abort();
		/* Touch every byte the frame claims, so ASan sees an overrun. */
		{
			volatile uint8_t x = 0;

			for (uint32_t i = 0; i < f.len; i++)
				x ^= f.data[i];
			(void)x;
		}
		off += (size_t)used;
	}
	*consumed = off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	size_t used, split;

	if (size > 4 * (SL_HDR_LEN + SL_FRAME_MAX))
		return 0;
	/* An exact-size copy: any read past the end is an ASan error. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	check(copy, size, &used);
	/* The same bytes arriving in two reads must parse the same way. */
	split = size ? data[0] % (size + 1) : 0;
	{
		size_t u1;

		check(copy, split, &u1);
		(void)u1;
	}
	/*
	 * The reader every client uses (sl_frame_reader): the bytes in pieces
	 * of a size the input chooses give the frames a whole parse gives,
	 * each once, in order, up to the first bytes that are no frame.
	 */
	{
		struct sl_frame_reader r;
		size_t piece = size ? (size_t)data[size - 1] % 17 + 1 : 1, pos = 0, whole = 0;
		struct sl_frame f, g;
		int k = 0;

		if (sl_frame_reader_init(&r) < 0)
			abort();
		while (pos < size && k >= 0) {
			size_t n = size - pos < piece ? size - pos : piece;

			pos += sl_frame_reader_put(&r, copy + pos, n);
			while ((k = sl_frame_reader_next(&r, &f)) > 0) {
				ssize_t used_whole = sl_frame_parse(copy + whole, size - whole, &g);

				if (used_whole <= 0 || g.type != f.type || g.chan != f.chan ||
				    g.len != f.len || memcmp(g.data, f.data, f.len))
					abort();
				whole += (size_t)used_whole;
			}
		}
		sl_frame_reader_free(&r);
	}
	free(copy);
	return 0;
}
