/* SPDX-License-Identifier: MIT */
#ifndef SL_PROTO_H
#define SL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The agent protocol: frames over one byte stream (the virtio-serial port
 * between the supervisor and the guest agent, and each client's unix
 * socket to the supervisor). A frame is a 12-byte header, big-endian:
 *
 *   u16 magic 0x534c ("SL") | u8 type | u8 flags | u32 chan | u32 len
 *
 * followed by len bytes of payload, len <= SL_FRAME_MAX. Many channels
 * share a stream; on a client's socket chan is always 0 and the supervisor
 * maps it to a channel of its own on the guest's stream.
 */
#define SL_PROTO_MAGIC 0x534cu
#define SL_PROTO_VERSION 1u
#define SL_HDR_LEN 12u
#define SL_FRAME_MAX 65536u
#define SL_CHAN_MAX 4096u /* ids 1..SL_CHAN_MAX-1 on the guest stream */

enum sl_frame_type {
	SL_HELLO = 1,   /* u32 version, u64 nonce: the reply echoes it */
	SL_EXEC,        /* NUL-separated items, each an enum sl_exec_tag and its text */
	SL_STDIN,       /* data to the process or connection; empty = EOF */
	SL_STDOUT,      /* data from it; empty = EOF */
	SL_STDERR,
	SL_EXIT,        /* u8 0 = exited / 1 = killed, u8 status or signal */
	SL_CLOSE,       /* the channel is gone */
	SL_WINCH,       /* u16 rows, u16 cols */
	SL_CONNECT,     /* "host:port": a TCP connection from inside the guest */
	SL_ERROR,       /* a message; the channel is closed after it */
	SL_POWEROFF,    /* the guest syncs and powers off */
	SL_CONSOLE,     /* client to supervisor: attach to the serial console */
	SL_READY,       /* client to supervisor: answered once the agent has said hello */
	SL_PING,        /* supervisor to agent, when a command waits and the guest is silent */
	SL_PONG,        /* the agent's answer, echoing the ping's payload */
	SL_IDENTITY,    /* a restored guest becomes its VM: SL_IDENTITY_SEED bytes of
			 * entropy, then name, ip, prefix, gw, dns, realtime ns,
			 * each NUL-ended; answered by EXIT 0 or ERROR */
	SL_RENAME,      /* client to supervisor: a spare becomes VM NAME: "NAME\0RUNDIR\0";
			 * its files move to RUNDIR/NAME; answered by READY or ERROR */
	SL_TYPE_MAX = SL_RENAME,
};

#define SL_IDENTITY_SEED 64u

/* The items of an SL_EXEC payload: each a tag byte, its text, a NUL. */
enum sl_exec_tag {
	SL_EXEC_ARG = 'a',  /* one argument, in order */
	SL_EXEC_ENV = 'e',  /* K=V */
	SL_EXEC_CWD = 'c',
	SL_EXEC_USER = 'u',
	SL_EXEC_TTY = 't',  /* "ROWS COLS": run on a pty of that size */
};

struct sl_frame {
	uint8_t type;
	uint8_t flags;
	uint32_t chan;
	uint32_t len;
	const uint8_t *data; /* points into the parsed buffer */
};

ssize_t sl_frame_parse(const uint8_t *buf, size_t n, struct sl_frame *f);
size_t sl_frame_hunt(const uint8_t *buf, size_t n);
void sl_frame_hdr(uint8_t hdr[SL_HDR_LEN], uint8_t type, uint32_t chan, uint32_t len);
int sl_frame_send(int fd, uint8_t type, uint32_t chan, const void *data, size_t len);
int sl_write_all(int fd, const void *buf, size_t len);

/*
 * Frames out of a byte stream that arrives in pieces of any size: a split
 * header or payload waits for the rest. A frame's data stays valid until
 * the next fill or put.
 */
struct sl_frame_reader {
	uint8_t *buf; /* SL_READER_CAP bytes */
	size_t off, have;
};
#define SL_READER_CAP ((size_t)2 * (SL_HDR_LEN + SL_FRAME_MAX))
int sl_frame_reader_init(struct sl_frame_reader *r);
void sl_frame_reader_free(struct sl_frame_reader *r);
ssize_t sl_frame_reader_fill(struct sl_frame_reader *r, int fd);
size_t sl_frame_reader_put(struct sl_frame_reader *r, const void *data, size_t n);
int sl_frame_reader_next(struct sl_frame_reader *r, struct sl_frame *f);

/* A growable byte queue for non-blocking I/O. */
struct sl_buf {
	uint8_t *p;
	size_t off, len, cap; /* queued bytes: p[off .. len) */
};
#define sl_buf_size(b) ((b)->len - (b)->off)
int sl_buf_put(struct sl_buf *b, const void *data, size_t len);
int sl_buf_frame(struct sl_buf *b, uint8_t type, uint32_t chan, const void *data, size_t len);
void sl_buf_drop(struct sl_buf *b, size_t n);
ssize_t sl_buf_flush(struct sl_buf *b, int fd);
void sl_buf_free(struct sl_buf *b);

#endif
