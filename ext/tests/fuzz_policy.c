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
 * fuzz_policy.c: libFuzzer target for nmq_policy_plan.
 *
 * The input is a header of FUZZ_HDR bytes that pick the numbers (vCPUs,
 * options, NIC count, fixed queues) and then text fields separated by
 * '\n' that fill the strings in order (a field "~" is None).  Strings are
 * handed over without a NUL terminator, as the engine must allow.
 *
 * Beyond the sanitizers, every plan is checked against the contract: no
 * partial result on error and an error that names its key; on success
 * sane values, totals that add up, the warning exactly when over budget,
 * and the MSI reduction equal to the contract's loop run on the same
 * guest planned without a budget.
 *
 *   make -C ext fuzz && ext/build-fuzz/fuzz_policy -max_total_time=60
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define FUZZ_HDR 12
#define FUZZ_MAX_NICS 24
#define FUZZ_GUEST_FIELDS 11
#define FUZZ_NIC_FIELDS 5

#define FUZZ_ASSERT(c)                                                         \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

/* Split the text after the header into at most max fields. */
static size_t
fuzz_fields(const uint8_t *data, size_t size, NmqStr *f, size_t max)
{
    size_t n = 0;
    size_t start = 0;
    size_t i;

    for (i = 0; i <= size && n < max; i++) {
        if (i == size || data[i] == '\n') {
            f[n].s = (const char *)data + start;
            f[n].len = i - start;
            if (f[n].len == 1 && f[n].s[0] == '~')
                f[n] = NMQ_STR_NONE;
            n++;
            start = i + 1;
        }
    }
    while (n < max)
        f[n++] = NMQ_STR_NONE;
    return n;
}

/* A number from a header byte: small values, edges and nonsense. */
static long
fuzz_long(uint8_t b, long scale)
{
    switch (b % 8) {
    case 0:
        return 0;
    case 1:
        return -(long)(b / 8);
    case 6:
        return LONG_MAX - b;
    case 7:
        return scale * (b / 8);
    default:
        return b / 8 + (b % 8 == 5 ? 256 : 0);
    }
}

static long
fuzz_queue_size(uint8_t b)
{
    static const long sizes[] = {0, 256, 512, 1024, 0, 0, 100, -256};

    return sizes[b % 8];
}

static void
fuzz_guest(const uint8_t *hdr, NmqStr *f, NmqGuestIn *in, NmqNicIn *nics)
{
    static const NmqStr models[] = {{"virtio", 6}, {"e1000", 5}};
    size_t i;

    memset(in, 0, sizeof(*in));
    in->vcpus = hdr[0] % 4 == 0 ? fuzz_long(hdr[1], 100000) : 1 + hdr[1];
    in->rx_queue_size = fuzz_queue_size(hdr[2]);
    in->tx_queue_size = fuzz_queue_size(hdr[2] >> 3);
    in->libvirt_max_queues = hdr[3] % 2 ? 0 : fuzz_long(hdr[3] >> 1, 7);
    in->msi_vector_budget =
        hdr[4] % 2 ? NMQ_DEFAULT_MSI_VECTOR_BUDGET : fuzz_long(hdr[4] >> 1, 50);
    in->reserved_msi_vectors = hdr[5] % 2 ? NMQ_DEFAULT_RESERVED_MSI_VECTORS
                                          : fuzz_long(hdr[5] >> 1, 20);
    in->packed_supported = hdr[6] & 1;
    if (hdr[6] & 2) {
        in->vif_models = models;
        in->n_vif_models = (hdr[6] >> 2) % 3;
    }
    in->n_nics = hdr[7] % (FUZZ_MAX_NICS + 1);
    in->flavor_name = f[0];
    in->image_name = f[1];
    in->flavor_mq_enabled = f[2];
    in->flavor_packed = f[3];
    in->flavor_throughput = f[4];
    in->flavor_max_queues = f[5];
    in->flavor_msi_budget = f[6];
    in->image_mq_enabled = f[7];
    in->image_packed = f[8];
    in->virt_type = f[9];
    in->kernel_release = f[10];
    for (i = 0; i < in->n_nics; i++) {
        const NmqStr *g = f + FUZZ_GUEST_FIELDS + i * FUZZ_NIC_FIELDS;
        uint8_t b = hdr[8 + i % 4];

        nics[i].vif_type = g[0];
        nics[i].vnic_type = g[1];
        nics[i].model = g[2];
        nics[i].mq_queues = g[3];
        nics[i].mq_throughput = g[4];
        nics[i].fixed_queues = (b >> (i % 2)) % 5 ? 0 : fuzz_long(b, 3);
    }
    in->nics = nics;
}

static int
fuzz_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;

    for (i = 0; i < n; i++) {
        if (c[i])
            return 0;
    }
    return 1;
}

/* The contract's loop, on the counts of the plan made without budget. */
static long
fuzz_msi_ref(const NmqNicPlan *free_, const NmqNicIn *nics, size_t n,
             long budget, int *q)
{
    long total = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        q[i] = free_[i].queues > 0 ? free_[i].queues : 1;
        if (free_[i].msi_vectors)
            total += nmq_policy_msi_vectors(q[i]);
    }
    for (;;) {
        size_t best = n;

        for (i = 0; total > budget && i < n; i++) {
            if (free_[i].msi_vectors && nics[i].fixed_queues == 0 && q[i] > 1 &&
                (best == n || q[i] >= q[best]))
                best = i;
        }
        if (best == n)
            return total;
        total -= 2;
        q[best]--;
        if (q[best] == 1)
            total -= 1; /* 2*2+2 = 6 -> 3 */
    }
}

static void
fuzz_check_plan(const NmqGuestIn *in, const NmqNicPlan *out,
                const NmqGuestPlan *tot)
{
    long msi = 0;
    long mem = 0;
    size_t i;

    for (i = 0; i < in->n_nics; i++) {
        const NmqNicPlan *p = &out[i];

        FUZZ_ASSERT(p->queues >= 0 && p->queues <= NMQ_MAX_QUEUES);
        FUZZ_ASSERT(p->multiqueue == (p->queues > 1));
        FUZZ_ASSERT(p->queues == 0 || strcmp(p->driver, "vhost") == 0);
        FUZZ_ASSERT(p->driver == NULL || strcmp(p->driver, "vhost") == 0 ||
                    strcmp(p->driver, "qemu") == 0);
        FUZZ_ASSERT(p->model == NULL || strlen(p->model) < 16);
        FUZZ_ASSERT(p->packed >= -1 && p->packed <= 1);
        FUZZ_ASSERT(p->requested >= 0);
        FUZZ_ASSERT(p->reasons != 0 && p->reasons < (1UL << NMQ_REASON__COUNT));
        FUZZ_ASSERT(p->msi_vectors == 0 ||
                    p->msi_vectors ==
                        nmq_policy_msi_vectors(p->queues ? p->queues : 1));
        msi += p->msi_vectors;
        mem += p->vhost_memory;
    }
    FUZZ_ASSERT(tot->msi_vectors == msi && tot->vhost_memory == mem);
    FUZZ_ASSERT(((tot->warnings & (1UL << NMQ_WARN_MSI_OVER_BUDGET)) != 0) ==
                (msi > tot->msi_budget));
}

/* Plan again with no budget and compare the reduction with the loop. */
static void
fuzz_check_budget(NmqGuestIn *in, const NmqNicPlan *out,
                  const NmqGuestPlan *tot)
{
    static NmqNicPlan free_[FUZZ_MAX_NICS];
    int q[FUZZ_MAX_NICS];
    NmqGuestPlan t;
    NmqError err;
    NmqGuestIn g = *in;
    size_t i;

    g.flavor_msi_budget = NMQ_STR_NONE;
    g.msi_vector_budget = LONG_MAX;
    g.reserved_msi_vectors = 0;
    FUZZ_ASSERT(nmq_policy_plan(&g, free_, &t, &err) == 0);
    FUZZ_ASSERT(fuzz_msi_ref(free_, in->nics, in->n_nics, tot->msi_budget, q) ==
                tot->msi_vectors);
    for (i = 0; i < in->n_nics; i++) {
        int got = out[i].queues > 0 ? out[i].queues : 1;

        FUZZ_ASSERT(got == q[i]);
        FUZZ_ASSERT(
            ((out[i].reasons >> NMQ_REASON_MSI_BUDGET) & 1) ==
            (unsigned long)(got < (free_[i].queues > 0 ? free_[i].queues : 1)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static NmqNicIn nics[FUZZ_MAX_NICS];
    static NmqNicPlan out[FUZZ_MAX_NICS];
    NmqStr f[FUZZ_GUEST_FIELDS + FUZZ_MAX_NICS * FUZZ_NIC_FIELDS];
    NmqGuestIn in;
    NmqGuestPlan tot;
    NmqError err;

    if (size < FUZZ_HDR)
        return 0;
    fuzz_fields(data + FUZZ_HDR, size - FUZZ_HDR, f, sizeof(f) / sizeof(f[0]));
    fuzz_guest(data, f, &in, nics);
    memset(&err, 0, sizeof(err));
    if (nmq_policy_plan(&in, out, &tot, &err) < 0) {
        FUZZ_ASSERT(err.code != NMQ_ERR_NONE);
        FUZZ_ASSERT(err.key[0] != '\0' && err.msg[0] != '\0');
        FUZZ_ASSERT(strlen(err.msg) < sizeof(err.msg));
        FUZZ_ASSERT(fuzz_zero(out, in.n_nics * sizeof(out[0])));
        FUZZ_ASSERT(fuzz_zero(&tot, sizeof(tot)));
        return 0;
    }
    fuzz_check_plan(&in, out, &tot);
    fuzz_check_budget(&in, out, &tot);
    return 0;
}
