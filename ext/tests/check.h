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
 * check.h: the smallest test harness that does the job.  CHECK records a
 * failure with file and line and goes on; CHECK_DONE prints the closing
 * line ("N passed, N failed") and returns the exit status.
 */
#ifndef NMQ_CHECK_H
#define NMQ_CHECK_H

#include <stdio.h>
#include <string.h>

static int nmq_check_passed;
static int nmq_check_failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            nmq_check_passed++;                                                \
        } else {                                                               \
            nmq_check_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_STREQ(got, want)                                                 \
    do {                                                                       \
        const char *g_ = (got);                                                \
        const char *w_ = (want);                                               \
        if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) {                 \
            nmq_check_passed++;                                                \
        } else {                                                               \
            nmq_check_failed++;                                                \
            fprintf(stderr,                                                    \
                    "%s:%d: CHECK_STREQ failed:\n  got:  %s\n"                 \
                    "  want: %s\n",                                            \
                    __FILE__, __LINE__, g_ ? g_ : "(null)",                    \
                    w_ ? w_ : "(null)");                                       \
        }                                                                      \
    } while (0)

#define CHECK_DONE(name)                                                       \
    (printf("%s: %d passed, %d failed\n", (name), nmq_check_passed,            \
            nmq_check_failed),                                                 \
     nmq_check_failed ? 1 : 0)

#endif /* NMQ_CHECK_H */
