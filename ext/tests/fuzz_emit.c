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
 * fuzz_emit.c: libFuzzer target for nmq_iface_format.
 *
 *   make -C ext build-fuzz/fuzz_emit
 *   ext/build-fuzz/fuzz_emit -max_total_time=60 CORPUS_DIR
 *
 * The input is read as a flags byte, then for each attribute a control
 * byte (None / str / int, and the truth value), a length byte and that
 * many bytes of text, then the parameter lists.  Every text lives in its
 * own heap block of exactly its length, with no NUL after it, so ASan sees
 * any read past an NmqStr.  A successful render must be well-formed XML
 * (libxml2 parses it back); a failed one must leave the buffer as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "emit.h"

#define FUZZ_MAX_TEXTS 64
#define FUZZ_MAX_PARAMS 4
#define FUZZ_PREFIX "<x/>"

/* The NmqVal attributes of NmqIface, in the order the input fills them. */
static const size_t fuzz_fields[] = {
    offsetof(NmqIface, net_type),
    offsetof(NmqIface, mac_addr),
    offsetof(NmqIface, model),
    offsetof(NmqIface, driver_name),
    offsetof(NmqIface, vhost_queues),
    offsetof(NmqIface, vhost_rx_queue_size),
    offsetof(NmqIface, vhost_tx_queue_size),
    offsetof(NmqIface, script),
    offsetof(NmqIface, mtu),
    offsetof(NmqIface, source_dev),
    offsetof(NmqIface, source_mode),
    offsetof(NmqIface, vhostuser_type),
    offsetof(NmqIface, vhostuser_mode),
    offsetof(NmqIface, vhostuser_path),
    offsetof(NmqIface, vlan),
    offsetof(NmqIface, target_dev),
    offsetof(NmqIface, managed),
    offsetof(NmqIface, vporttype),
    offsetof(NmqIface, filtername),
    offsetof(NmqIface, vif_inbound_average),
    offsetof(NmqIface, vif_inbound_peak),
    offsetof(NmqIface, vif_inbound_burst),
    offsetof(NmqIface, vif_outbound_average),
    offsetof(NmqIface, vif_outbound_peak),
    offsetof(NmqIface, vif_outbound_burst),
};

/* Texts the fuzzer would take long to find: net types, a PCI address. */
static const char *const fuzz_words[] = {
    "bridge",  "ethernet",     "direct",      "vdpa",  "hostdev", "vhostuser",
    "network", "0000:81:00.2", "interfaceid", "xmlns", "0"};

/* The unread input and the heap blocks made from it. */
typedef struct {
    const uint8_t *p;
    size_t n;
    char *texts[FUZZ_MAX_TEXTS];
    size_t n_texts;
} FuzzInput;

static uint8_t
fuzz_byte(FuzzInput *in)
{
    uint8_t b = 0;

    if (in->n > 0) {
        b = *in->p++;
        in->n--;
    }
    return b;
}

/* A heap copy of len bytes of src, without a terminating NUL. */
static NmqStr
fuzz_text(FuzzInput *in, const void *src, size_t len)
{
    char *copy;

    if (in->n_texts == FUZZ_MAX_TEXTS)
        return NMQ_STR_LIT("");
    copy = malloc(len ? len : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, src, len);
    in->texts[in->n_texts++] = copy;
    return (NmqStr){copy, len};
}

/*
 * One NmqVal.  Control byte: bits 0-1 None / str / int / known word,
 * bit 2 the truth value of an int.
 */
static NmqVal
fuzz_val(FuzzInput *in)
{
    uint8_t ctl = fuzz_byte(in);
    size_t len = fuzz_byte(in);
    NmqVal v = {NMQ_STR_NONE, 0, 0};
    const char *word;

    switch (ctl & 3) {
    case 0:
        return v;
    case 3:
        word = fuzz_words[len % (sizeof(fuzz_words) / sizeof(*fuzz_words))];
        v.text = fuzz_text(in, word, strlen(word));
        v.truthy = v.text.len > 0;
        return v;
    }
    if (len > in->n)
        len = in->n;
    v.text = fuzz_text(in, in->p, len);
    in->p += len;
    in->n -= len;
    v.not_str = (ctl & 3) == 2;
    v.truthy = v.not_str ? (ctl & 4) != 0 : len > 0;
    return v;
}

static size_t
fuzz_params(FuzzInput *in, NmqParam *params)
{
    size_t n = fuzz_byte(in) % (FUZZ_MAX_PARAMS + 1);
    size_t i;

    for (i = 0; i < n; i++) {
        params[i].key = fuzz_val(in);
        params[i].value = fuzz_val(in);
    }
    return n;
}

/* Check the result of one render; abort() on a broken invariant. */
static void
fuzz_check(int rc, xmlBufferPtr out)
{
    const char *text = (const char *)xmlBufferContent(out);
    size_t len = (size_t)xmlBufferLength(out);
    size_t pre = sizeof(FUZZ_PREFIX) - 1;
    xmlDocPtr doc;

    if (len < pre || memcmp(text, FUZZ_PREFIX, pre) != 0)
        abort();
    if (rc != 0) {
        if (len != pre || text[pre] != '\0')
            abort();
        return;
    }
    doc = xmlReadMemory(text + pre, (int)(len - pre), "fuzz.xml", "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (doc == NULL)
        abort();
    xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = {data, size, {NULL}, 0};
    NmqParam vport[FUZZ_MAX_PARAMS];
    NmqParam filter[FUZZ_MAX_PARAMS];
    xmlBufferPtr out = xmlBufferCreate();
    NmqIface iface;
    NmqError err;
    uint8_t flags = fuzz_byte(&in);
    size_t i;

    if (out == NULL)
        return 0;
    nmq_iface_init(&iface);
    iface.driver_iommu = (flags & 2) != 0;
    iface.driver_packed = (flags & 4) != 0;
    for (i = 0; i < sizeof(fuzz_fields) / sizeof(*fuzz_fields); i++)
        *(NmqVal *)((char *)&iface + fuzz_fields[i]) = fuzz_val(&in);
    iface.n_vportparams = fuzz_params(&in, vport);
    iface.vportparams = vport;
    iface.n_filterparams = fuzz_params(&in, filter);
    iface.filterparams = filter;
    xmlBufferCat(out, (const xmlChar *)FUZZ_PREFIX);
    fuzz_check(nmq_iface_format(&iface, flags & 1, out, &err), out);
    xmlBufferFree(out);
    for (i = 0; i < in.n_texts; i++)
        free(in.texts[i]);
    return 0;
}
