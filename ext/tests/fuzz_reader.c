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
 * fuzz_reader.c: libFuzzer target for nmq_domain_read.
 *
 *   make -C ext fuzz
 *   ext/build-fuzz/fuzz_reader -max_len=8192 ext/tests/corpus/reader
 *
 * Besides memory errors (ASan/UBSan) it traps when the reader breaks its
 * contract: a failure must leave the domain empty with an error code and
 * valid UTF-8 in the error record; a success must hold NUL-terminated
 * UTF-8 strings and numbers in range, and agree with libxml2's own XPath
 * on the same document (interface count, name text, mac and alias).
 */
#include "reader.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#define FUZZ_ASSERT(cond)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

/* Whether s[0..len) is valid UTF-8 without NUL (surrogates refused). */
static int
fuzz_utf8_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t k;
        size_t j;

        if (p[i] == 0)
            return 0;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        k = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
        if (p[i] < 0xc2 || p[i] > 0xf4 || i + k > len)
            return 0;
        for (j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
        }
        if ((p[i] == 0xe0 && p[i + 1] < 0xa0) ||
            (p[i] == 0xed && p[i + 1] > 0x9f) ||
            (p[i] == 0xf0 && p[i + 1] < 0x90) ||
            (p[i] == 0xf4 && p[i + 1] > 0x8f))
            return 0;
        i += k;
    }
    return 1;
}

static void
fuzz_check_str(NmqStr s)
{
    if (s.s == NULL) {
        FUZZ_ASSERT(s.len == 0);
        return;
    }
    FUZZ_ASSERT(s.s[s.len] == '\0');
    FUZZ_ASSERT(fuzz_utf8_ok(s.s, s.len));
}

static void
fuzz_check_number(long v)
{
    FUZZ_ASSERT(v == -1 || (v >= 0 && v <= INT_MAX));
}

static void
fuzz_check_error(const NmqDomain *dom, const NmqError *err)
{
    FUZZ_ASSERT(err->code != NMQ_ERR_NONE);
    FUZZ_ASSERT(dom->name.s == NULL && dom->ifaces == NULL &&
                dom->n_ifaces == 0 && dom->priv == NULL && dom->vcpus == 0 &&
                dom->vcpus_current == 0);
    FUZZ_ASSERT(memchr(err->key, '\0', sizeof(err->key)) != NULL);
    FUZZ_ASSERT(fuzz_utf8_ok(err->value, strlen(err->value)));
    FUZZ_ASSERT(fuzz_utf8_ok(err->msg, strlen(err->msg)));
    FUZZ_ASSERT(err->msg[0] != '\0' && strchr(err->msg, '\n') == NULL);
}

/*
 * Evaluate the string() expression expr and say whether it equals s (an
 * absent s equals the empty string, as in XPath).
 */
static int
fuzz_xpath_is(xmlXPathContextPtr xp, const char *expr, NmqStr s)
{
    xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, xp);
    int same = 0;

    if (obj == NULL)
        return 1; /* out of memory in the oracle: no verdict */
    if (obj->type == XPATH_STRING && obj->stringval != NULL)
        same = strlen((const char *)obj->stringval) == s.len &&
               (s.len == 0 || memcmp(obj->stringval, s.s, s.len) == 0);
    xmlXPathFreeObject(obj);
    return same;
}

/* Evaluate the count() expression expr and say whether it equals n. */
static int
fuzz_xpath_count_is(xmlXPathContextPtr xp, const char *expr, size_t n)
{
    xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, xp);
    int same = 0;

    if (obj == NULL)
        return 1;
    same = obj->type == XPATH_NUMBER && obj->floatval == (double)n;
    xmlXPathFreeObject(obj);
    return same;
}

/* Compare dom with libxml2's XPath on the same bytes. */
static void
fuzz_differential(const uint8_t *data, size_t size, const NmqDomain *dom)
{
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr xp = NULL;
    char expr[128];
    size_t i;

    doc = xmlReadMemory((const char *)data, (int)size, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (doc == NULL)
        return;
    xp = xmlXPathNewContext(doc);
    if (xp == NULL)
        goto cleanup;
    FUZZ_ASSERT(fuzz_xpath_count_is(xp, "count(/domain/devices/interface)",
                                    dom->n_ifaces));
    FUZZ_ASSERT(fuzz_xpath_is(xp, "string(/domain/name[1])", dom->name));
    for (i = 0; i < dom->n_ifaces && i < 8; i++) {
        snprintf(expr, sizeof(expr),
                 "string((/domain/devices/interface)"
                 "[%zu]/mac[1]/@address)",
                 i + 1);
        FUZZ_ASSERT(fuzz_xpath_is(xp, expr, dom->ifaces[i].mac));
        snprintf(expr, sizeof(expr),
                 "string((/domain/devices/interface)"
                 "[%zu]/alias[1]/@name)",
                 i + 1);
        FUZZ_ASSERT(fuzz_xpath_is(xp, expr, dom->ifaces[i].alias));
    }

cleanup:
    xmlXPathFreeContext(xp);
    xmlFreeDoc(doc);
}

static void
fuzz_discard(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    /* The oracle's parse may report encoding errors; keep the log clean. */
    xmlSetGenericErrorFunc(NULL, fuzz_discard);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    NmqDomain dom;
    NmqError err;
    size_t i;

    memset(&err, 0, sizeof(err));
    if (nmq_domain_read((const char *)data, size, &dom, &err) < 0) {
        fuzz_check_error(&dom, &err);
        return 0;
    }
    /* No arena only when there is no string to keep. */
    FUZZ_ASSERT(dom.priv != NULL || (dom.name.s == NULL && dom.n_ifaces == 0));
    FUZZ_ASSERT(dom.vcpus >= 1 && dom.vcpus <= INT_MAX);
    FUZZ_ASSERT(dom.vcpus_current >= 1 && dom.vcpus_current <= dom.vcpus);
    FUZZ_ASSERT(dom.n_ifaces <= NMQ_READER_MAX_IFACES);
    FUZZ_ASSERT((dom.n_ifaces == 0) == (dom.ifaces == NULL));
    fuzz_check_str(dom.name);
    for (i = 0; i < dom.n_ifaces; i++) {
        const NmqDomainIface *f = &dom.ifaces[i];

        fuzz_check_str(f->type);
        fuzz_check_str(f->mac);
        fuzz_check_str(f->model);
        fuzz_check_str(f->driver);
        fuzz_check_str(f->target_dev);
        fuzz_check_str(f->alias);
        fuzz_check_number(f->queues);
        fuzz_check_number(f->rx_queue_size);
        fuzz_check_number(f->tx_queue_size);
    }
    fuzz_differential(data, size, &dom);
    nmq_domain_free(&dom);
    FUZZ_ASSERT(dom.priv == NULL && dom.ifaces == NULL);
    return 0;
}
