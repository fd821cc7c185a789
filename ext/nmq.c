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
 * nmq.c: the error record and the small string helpers every engine file
 * uses.
 */
#include "nmq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
nmq_str_quote(char *dst, size_t dstlen, NmqStr s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t i;

    if (dstlen == 0)
        return;
    if (s.s == NULL) {
        snprintf(dst, dstlen, "None");
        return;
    }
    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.s[i];
        size_t need = (c < 0x20 || c == 0x7f || c == '\\') ? 4 : 1;

        if (o + need + 4 > dstlen) {
            /* Cut on a UTF-8 character boundary. */
            while (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0x80)
                o--;
            if (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0xc0)
                o--;
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (need == 1) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 0xf];
        }
    }
    dst[o] = '\0';
}

static void
nmq_error_fill(NmqError *err, NmqErrorCode code, const char *key, NmqStr value)
{
    err->code = code;
    snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
    nmq_str_quote(err->value, sizeof(err->value), value);
    err->extra1[0] = '\0';
    err->extra2[0] = '\0';
}

int
nmq_error_set(NmqError *err, NmqErrorCode code, const char *key, NmqStr value,
              const char *msg)
{
    nmq_error_fill(err, code, key, value);
    snprintf(err->msg, sizeof(err->msg), "%s", msg);
    return -1;
}

int
nmq_error_setf(NmqError *err, NmqErrorCode code, const char *key, NmqStr value,
               const char *fmt, ...)
{
    va_list ap;

    nmq_error_fill(err, code, key, value);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * One pass, no strlen: the first differing byte (usually the first) ends
 * it.  b's NUL is checked before it is compared, so a NUL byte inside a
 * never lets the loop read past the end of b.
 */
int
nmq_str_eq(NmqStr a, const char *b)
{
    size_t i;

    if (a.s == NULL || b == NULL)
        return 0;
    for (i = 0; i < a.len; i++) {
        if (b[i] == '\0' || b[i] != a.s[i])
            return 0;
    }
    return b[a.len] == '\0';
}

static int
nmq_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

int
nmq_str_to_long(NmqStr s, long max, long *out)
{
    size_t i = 0;
    size_t end;
    long v = 0;

    if (s.s == NULL)
        return -1;
    end = s.len;
    while (i < end && nmq_is_space(s.s[i]))
        i++;
    while (end > i && nmq_is_space(s.s[end - 1]))
        end--;
    if (i == end)
        return -1;
    for (; i < end; i++) {
        char c = s.s[i];

        if (c < '0' || c > '9')
            return -1;
        if (v > max / 10 || (v == max / 10 && (c - '0') > max % 10))
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}
