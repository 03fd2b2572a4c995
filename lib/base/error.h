/* SPDX-License-Identifier: MIT */
#ifndef SL_ERROR_H
#define SL_ERROR_H

/*
 * Why a call failed, built where the facts were and carried up with the
 * call, as crun's libcrun_error_t is: a fallible library function takes a
 * struct sl_error *, and when it fails fills it (sl_error()) and returns
 * -errno (return sl_error(err, -EINVAL, "...", ...)); a caller that knows more adds it in front
 * (sl_error_wrap()) on the way up; only main prints it. A fixed buffer: the error path makes no
 * allocation. @err may be NULL where nobody will read the message (an undo
 * on the way out of an earlier failure).
 */
struct sl_error {
	int code; /* the errno value, positive; 0 none */
	char msg[1024];
};

int sl_error(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sl_error_wrap(struct sl_error *err, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *sl_error_msg(const struct sl_error *err, int r);
void sl_error_clear(struct sl_error *err);

#endif
