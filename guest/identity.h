/* SPDX-License-Identifier: MIT */
#ifndef SL_GUEST_IDENTITY_H
#define SL_GUEST_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

int sl_guest_identity(const uint8_t *p, size_t len, char *msg, size_t msg_len);

#endif
