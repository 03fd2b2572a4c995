/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/**
 * sl_frame_parse() - take one frame off the front of a buffer
 * @buf: bytes received
 * @n: how many
 * @f: the frame; f->data points into @buf
 *
 * The bytes may come from a hostile guest: the magic, the type and the
 * length are checked before anything else is read, and nothing is read
 * beyond @n.
 *
 * Return: bytes the frame takes (> 0), 0 when more bytes are needed, or
 * -EBADMSG when the front of @buf is not a frame
 */
ssize_t sl_frame_parse(const uint8_t *buf, size_t n, struct sl_frame *f)
{
	uint32_t len;

	if (n >= 1 && buf[0] != (SL_PROTO_MAGIC >> 8))
		return -EBADMSG;
	if (n >= 2 && buf[1] != (SL_PROTO_MAGIC & 0xff))
		return -EBADMSG;
	if (n >= 3 && (buf[2] == 0 || buf[2] > SL_TYPE_MAX))
		return -EBADMSG;
	if (n < SL_HDR_LEN)
		return 0;
	len = get32(buf + 8);
	if (len > SL_FRAME_MAX)
		return -EBADMSG;
	if (n - SL_HDR_LEN < len)
		return 0;
	f->type = buf[2];
	f->flags = buf[3];
	f->chan = get32(buf + 4);
	f->len = len;
	f->data = buf + SL_HDR_LEN;
	return (ssize_t)(SL_HDR_LEN + len);
}

/**
 * sl_frame_hunt() - where the next possible frame starts
 * @buf: bytes that did not parse
 * @n: how many
 *
 * Used before the hello handshake has completed, to skip bytes left over
 * from an earlier session.
 *
 * Return: offset of the first byte that may start a frame, or @n
 */
size_t sl_frame_hunt(const uint8_t *buf, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (buf[i] == (SL_PROTO_MAGIC >> 8))
			return i;
	return n;
}

void sl_frame_hdr(uint8_t hdr[SL_HDR_LEN], uint8_t type, uint32_t chan, uint32_t len)
{
	hdr[0] = SL_PROTO_MAGIC >> 8;
	hdr[1] = SL_PROTO_MAGIC & 0xff;
	hdr[2] = type;
	hdr[3] = 0;
	put32(hdr + 4, chan);
	put32(hdr + 8, len);
}

/**
 * sl_write_all() - write everything, retrying on EINTR and short writes
 *
 * Return: 0 or -errno
 */
int sl_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/**
 * sl_frame_send() - write one frame to a blocking fd
 *
 * Return: 0, -EMSGSIZE, or -errno
 */
int sl_frame_send(int fd, uint8_t type, uint32_t chan, const void *data, size_t len)
{
	uint8_t buf[SL_HDR_LEN + 256];
	int r;

	if (len > SL_FRAME_MAX)
		return -EMSGSIZE;
	sl_frame_hdr(buf, type, chan, (uint32_t)len);
	if (len <= 256) {
		if (len)
			memcpy(buf + SL_HDR_LEN, data, len);
		return sl_write_all(fd, buf, SL_HDR_LEN + len);
	}
	r = sl_write_all(fd, buf, SL_HDR_LEN);
	return r ? r : sl_write_all(fd, data, len);
}

/**
 * sl_buf_put() - append bytes to a queue
 *
 * Return: 0 or -ENOMEM
 */
int sl_buf_put(struct sl_buf *b, const void *data, size_t len)
{
	if (b->cap - b->len < len && b->off) {
		/* Reclaim the consumed front before growing. */
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < len) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap - b->len < len)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/**
 * sl_buf_frame() - append one frame to a queue
 */
int sl_buf_frame(struct sl_buf *b, uint8_t type, uint32_t chan, const void *data, size_t len)
{
	uint8_t hdr[SL_HDR_LEN];
	int r;

	if (len > SL_FRAME_MAX)
		return -EMSGSIZE;
	sl_frame_hdr(hdr, type, chan, (uint32_t)len);
	r = sl_buf_put(b, hdr, sizeof(hdr));
	return r ? r : sl_buf_put(b, data, len);
}

void sl_buf_drop(struct sl_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

/**
 * sl_buf_flush() - write as much of a queue as a non-blocking fd takes
 *
 * Return: bytes written, or -errno (not -EAGAIN)
 */
ssize_t sl_buf_flush(struct sl_buf *b, int fd)
{
	size_t done = 0;

	while (done < sl_buf_size(b)) {
		ssize_t w = write(fd, b->p + b->off + done, sl_buf_size(b) - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			sl_buf_drop(b, done);
			return -errno;
		}
		done += (size_t)w;
	}
	sl_buf_drop(b, done);
	return (ssize_t)done;
}

void sl_buf_free(struct sl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/**
 * sl_frame_reader_init() - a reader for one stream
 *
 * Return: 0 or -ENOMEM
 */
int sl_frame_reader_init(struct sl_frame_reader *r)
{
	r->off = r->have = 0;
	r->buf = malloc(SL_READER_CAP);
	return r->buf ? 0 : -ENOMEM;
}

void sl_frame_reader_free(struct sl_frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Move what is left to the front, so that the room is at the end. */
static void reader_compact(struct sl_frame_reader *r)
{
	if (r->off) {
		memmove(r->buf, r->buf + r->off, r->have - r->off);
		r->have -= r->off;
		r->off = 0;
	}
}

/**
 * sl_frame_reader_fill() - one read() of what @fd has into the reader
 *
 * Return: bytes read, 0 at EOF, or -errno
 */
ssize_t sl_frame_reader_fill(struct sl_frame_reader *r, int fd)
{
	ssize_t n;

	reader_compact(r);
	n = read(fd, r->buf + r->have, SL_READER_CAP - r->have);
	if (n < 0)
		return -errno;
	r->have += (size_t)n;
	return n;
}

/**
 * sl_frame_reader_put() - add bytes from elsewhere (a test, a fuzzer)
 *
 * Return: how many were taken (fewer when the reader is full)
 */
size_t sl_frame_reader_put(struct sl_frame_reader *r, const void *data, size_t n)
{
	reader_compact(r);
	if (n > SL_READER_CAP - r->have)
		n = SL_READER_CAP - r->have;
	memcpy(r->buf + r->have, data, n);
	r->have += n;
	return n;
}

/**
 * sl_frame_reader_next() - the next whole frame, if the reader holds one
 * @r: reader
 * @f: result; its data points into the reader
 *
 * Return: 1 with @f, 0 when more bytes are needed, -EBADMSG on bytes that
 * are no frame (the caller decides: resynchronise or give up)
 */
int sl_frame_reader_next(struct sl_frame_reader *r, struct sl_frame *f)
{
	ssize_t used = sl_frame_parse(r->buf + r->off, r->have - r->off, f);

	if (used < 0)
		return -EBADMSG;
	if (used == 0)
		return 0;
	r->off += (size_t)used;
	return 1;
}
