/*
 * Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License. You may obtain
 * a copy of the License at
 *
 *      http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 * WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 * License for the specific language governing permissions and limitations
 * under the License.
 */

/*
 * nmq.h: the plain types shared by every engine file.
 *
 * Nothing here knows of Python.  Strings are UTF-8 byte ranges borrowed
 * from the caller for the duration of one call; the engine never keeps a
 * pointer to them after it returns.
 */
#ifndef NMQ_H
#define NMQ_H

#include <stddef.h>

/* A borrowed UTF-8 string.  s == NULL means "absent" (Python's None). */
typedef struct {
    const char *s;
    size_t len;
} NmqStr;

#define NMQ_STR_NONE ((NmqStr){NULL, 0})
#define NMQ_STR_LIT(lit) ((NmqStr){(lit), sizeof(lit) - 1})

/*
 * What went wrong.  Each code maps to one exception class in module.c and
 * one Nova exception in nova_mq/exception.py.
 */
typedef enum {
    NMQ_ERR_NONE = 0,
    NMQ_ERR_INVALID_VALUE,        /* a knob or attribute has a bad value */
    NMQ_ERR_MISSING_VALUE,        /* a required attribute is absent */
    NMQ_ERR_CONFLICT,             /* flavor and image disagree */
    NMQ_ERR_UNSUPPORTED_HARDWARE, /* model not valid for virt type */
    NMQ_ERR_UNSUPPORTED_VIRT,     /* virt type unknown */
    NMQ_ERR_PARSE,                /* XML that does not parse */
    NMQ_ERR_TOO_LARGE,            /* input over a size limit */
    NMQ_ERR_NO_MEMORY             /* allocation failed */
} NmqErrorCode;

#define NMQ_ERR_KEY_MAX 96
#define NMQ_ERR_VALUE_MAX 160
#define NMQ_ERR_MSG_MAX 640

/*
 * Filled once, where the failure happens (libvirt's virReportError).
 * key names the input (e.g. "mq:max_queues", "nics[2].mq_queues",
 * "mac_addr"); value is the offending text, truncated with "..." when long;
 * msg is the whole human-readable sentence and always names both.
 */
typedef struct {
    NmqErrorCode code;
    char key[NMQ_ERR_KEY_MAX];
    char value[NMQ_ERR_VALUE_MAX];
    char msg[NMQ_ERR_MSG_MAX];
    /* Extra fields some codes carry (conflict: the two sides). */
    char extra1[NMQ_ERR_VALUE_MAX];
    char extra2[NMQ_ERR_VALUE_MAX];
} NmqError;

/*
 * Record an error and return -1, so a caller can "return nmq_error_set(...)".
 * key names the input; value is quoted into err->value (NMQ_STR_NONE prints
 * as "None").  msg (or fmt and its arguments) is the whole sentence, which
 * must itself name the key and the value.
 */
int nmq_error_set(NmqError *err, NmqErrorCode code, const char *key,
                  NmqStr value, const char *msg);
int nmq_error_setf(NmqError *err, NmqErrorCode code, const char *key,
                   NmqStr value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copy a borrowed string into a fixed buffer, NUL-terminated, with "..."
 * when it had to be cut.  Non-printable bytes are written as \xNN. */
void nmq_str_quote(char *dst, size_t dstlen, NmqStr s);

/* Compare a borrowed string with a C string. */
int nmq_str_eq(NmqStr a, const char *b);

/*
 * Parse a non-negative decimal integer with optional surrounding ASCII
 * white space ("4", " 16 ").  Returns 0 and sets *out, or -1 when the text
 * is not such a number or exceeds max.
 */
int nmq_str_to_long(NmqStr s, long max, long *out);

#endif /* NMQ_H */
