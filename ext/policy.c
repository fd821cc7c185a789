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
 * policy.c: the queue policy engine (see policy.h and doc/policy.rst).
 *
 * One plan is made in four passes over the NICs, all O(n) except the MSI
 * budget, which is O(n log NMQ_MAX_QUEUES):
 *
 *   1. validate: every nova-mq knob (guest, then each port), always, so a
 *      bad value is reported even where it would not be used;
 *   2. decide: Nova's per-NIC checks in Nova's order (packed conflict,
 *      model and virt type, multiqueue conflict), then enablement, the
 *      requested count and the caps;
 *   3. budget: the MSI-X reduction;
 *   4. finish: the driver / queues / sizes Nova would write, the vectors
 *      and vhost memory each NIC costs, and the totals.
 *
 * Nothing is allocated: the caller's out array is the only working store.
 */
#include "policy.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* A name with its length (sizeof of the literal): compared without strlen. */
typedef struct {
    const char *s;
    size_t len;
} NmqWord;

#define NMQ_WORD(str)                                                          \
    {                                                                          \
        str, sizeof(str) - 1                                                   \
    }
/* s is exactly word (bytes, length first). */
static int
nmq_policy_is(NmqStr s, NmqWord word)
{
    return s.s != NULL && s.len == word.len &&
           memcmp(s.s, word.s, word.len) == 0;
}

#define NMQ_BIT(m) (1UL << (m))

/* What a NIC is, as far as queues go. */
typedef enum {
    NMQ_NIC_PASSTHROUGH, /* VNIC_TYPES_DIRECT_PASSTHROUGH: no frontend */
    NMQ_NIC_OTHER,       /* model is not virtio (or None) */
    NMQ_NIC_PLAIN,       /* virtio, but virt type without vhost queues */
    NMQ_NIC_ELIGIBLE     /* virtio on kvm / parallels: may be multiqueue */
} NmqNicKind;

/* The guest-wide values, parsed once. */
typedef struct {
    const NmqGuestIn *in;
    int virt;             /* NmqVirtType, or -1 when unknown */
    int flavor_mq;        /* hw:vif_multiqueue_enabled: -1 unset, 0, 1 */
    int image_mq;         /* hw_vif_multiqueue_enabled: -1 unset, 0, 1 */
    int flavor_packed;    /* hw:virtio_packed_ring: -1 unset, 0, 1 */
    int image_packed;     /* hw_virtio_packed_ring: -1 unset, 0, 1 */
    int packed;           /* the plan's packed: -1 unsupported, 0, 1 */
    int flavor_tp;        /* mq:throughput: NmqThroughput, -1 unset */
    long flavor_max;      /* mq:max_queues, 0 unset */
    long budget;          /* vectors the NICs may use */
    int tap_ok;           /* the tap cap is known (kernel_release parsed) */
    long tap_cap;         /* nmq_policy_tap_cap(): the host tap queue cap */
    NmqReason tap_reason; /* and the reason it gives */
    long nova_count;      /* Nova's queue count when Nova enables */
} NmqPolicyCtx;

/* A port's knobs, parsed. */
typedef struct {
    int has_knobs; /* mq_queues or mq_throughput present */
    long queues;   /* mq_queues, 0 unset */
    int tp;        /* mq_throughput: NmqThroughput, -1 unset */
} NmqPortKnobs;

/*
 * Report "Invalid value '<value>' for <key>: <why>." as
 * NMQ_ERR_INVALID_VALUE.  Returns -1.
 */
static int
nmq_policy_invalid(NmqError *err, const char *key, NmqStr value,
                   const char *why)
{
    char quoted[NMQ_ERR_VALUE_MAX];

    nmq_str_quote(quoted, sizeof(quoted), value);
    return nmq_error_setf(err, NMQ_ERR_INVALID_VALUE, key, value,
                          "Invalid value '%s' for %s: %s", quoted, key, why);
}

/* The same for a number: the value is printed in decimal.  Returns -1. */
static int
nmq_policy_invalid_long(NmqError *err, const char *key, long value,
                        const char *why)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%ld", value);

    return nmq_policy_invalid(err, key, (NmqStr){text, (size_t)n}, why);
}

/*
 * Byte length of the Python white-space character (str.isspace) that s
 * starts with (at_end == 0) or ends with (at_end != 0), or 0.  ASCII and
 * the UTF-8 encodings of the Unicode spaces Python's str.strip() removes.
 */
static size_t
nmq_policy_space_len(const char *s, size_t len, int at_end)
{
    static const char wide[][4] = {
        "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80",
        "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84",
        "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87", "\xe2\x80\x88",
        "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9",
        "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
    unsigned char c;
    size_t i;

    if (len == 0)
        return 0;
    c = (unsigned char)(at_end ? s[len - 1] : s[0]);
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (c < 0x80) /* every wide space starts and ends with a byte >= 0x80 */
        return 0;
    for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        size_t n = wide[i][2] == '\0' ? 2 : 3;

        if (n <= len && memcmp(at_end ? s + len - n : s, wide[i], n) == 0)
            return n;
    }
    return 0;
}

/* s equals word (lower-case ASCII) ignoring ASCII case. */
static int
nmq_policy_word_eq(const char *s, size_t len, NmqWord word)
{
    size_t i;

    if (len != word.len)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word.s[i])
            return 0;
    }
    return 1;
}

/* The boolean grammar, true and false words in pairs (same count). */
static const NmqWord nmq_policy_true_words[] = {
    NMQ_WORD("1"),  NMQ_WORD("t"), NMQ_WORD("true"),
    NMQ_WORD("on"), NMQ_WORD("y"), NMQ_WORD("yes")};
static const NmqWord nmq_policy_false_words[] = {
    NMQ_WORD("0"),   NMQ_WORD("f"), NMQ_WORD("false"),
    NMQ_WORD("off"), NMQ_WORD("n"), NMQ_WORD("no")};
#define NMQ_POLICY_N_BOOL_WORDS                                                \
    (sizeof(nmq_policy_true_words) / sizeof(nmq_policy_true_words[0]))

NmqStr
nmq_policy_bool_word(int truth, size_t i)
{
    const NmqWord *words =
        truth ? nmq_policy_true_words : nmq_policy_false_words;

    if (i >= NMQ_POLICY_N_BOOL_WORDS)
        return NMQ_STR_NONE;
    return (NmqStr){words[i].s, words[i].len};
}

/*
 * Parse a boolean as oslo's strutils.bool_from_string does (strip, lower;
 * "1 t true on y yes" / "0 f false off n no").  *out is -1 when s is
 * absent.  Returns 0, or -1 with err filled when the text is neither
 * (nova-mq's documented deviation: Nova would silently read False).
 */
static int
nmq_policy_bool(NmqStr s, const char *key, int *out, NmqError *err)
{
    const NmqWord *yes = nmq_policy_true_words;
    const NmqWord *no = nmq_policy_false_words;
    const char *p = s.s;
    size_t len = s.len;
    size_t n;
    size_t i;

    *out = -1;
    if (s.s == NULL)
        return 0;
    while ((n = nmq_policy_space_len(p, len, 0)) > 0) {
        p += n;
        len -= n;
    }
    while ((n = nmq_policy_space_len(p, len, 1)) > 0)
        len -= n;
    for (i = 0; i < NMQ_POLICY_N_BOOL_WORDS; i++) {
        if (nmq_policy_word_eq(p, len, yes[i])) {
            *out = 1;
            return 0;
        }
        if (nmq_policy_word_eq(p, len, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return nmq_policy_invalid(err, key, s,
                              "must be a boolean (true/false, yes/no, on/off,"
                              " 1/0, t/f, y/n)");
}

/* [libvirt]max_queues: 0 (unset) or more.  Returns 0 or -1. */
static int
nmq_policy_check_max_queues(long max_queues, NmqError *err)
{
    if (max_queues < 0)
        return nmq_policy_invalid_long(err, "max_queues", max_queues,
                                       "must be at least 1 when set");
    return 0;
}

/* vcpus and the host options.  Returns 0 or -1 with err filled. */
static int
nmq_policy_check_options(const NmqGuestIn *in, NmqError *err)
{
    static const char *const size_why = "must be 256, 512 or 1024";

    if (in->vcpus < 1 || in->vcpus > INT_MAX)
        return nmq_policy_invalid_long(err, "vcpus", in->vcpus,
                                       "must be an integer from 1 to "
                                       "2147483647");
    if (in->rx_queue_size != 0 && in->rx_queue_size != 256 &&
        in->rx_queue_size != 512 && in->rx_queue_size != 1024)
        return nmq_policy_invalid_long(err, "rx_queue_size", in->rx_queue_size,
                                       size_why);
    if (in->tx_queue_size != 0 && in->tx_queue_size != 256 &&
        in->tx_queue_size != 512 && in->tx_queue_size != 1024)
        return nmq_policy_invalid_long(err, "tx_queue_size", in->tx_queue_size,
                                       size_why);
    if (nmq_policy_check_max_queues(in->libvirt_max_queues, err) < 0)
        return -1;
    if (in->msi_vector_budget < 0)
        return nmq_policy_invalid_long(err, "msi_vector_budget",
                                       in->msi_vector_budget,
                                       "must not be negative");
    if (in->reserved_msi_vectors < 0)
        return nmq_policy_invalid_long(err, "reserved_msi_vectors",
                                       in->reserved_msi_vectors,
                                       "must not be negative");
    return 0;
}

/* The mq: flavor extra specs.  Returns 0 or -1 with err filled. */
static int
nmq_policy_parse_flavor(NmqPolicyCtx *ctx, NmqError *err)
{
    const NmqGuestIn *in = ctx->in;
    long budget = in->msi_vector_budget;

    ctx->flavor_tp = -1;
    if (in->flavor_throughput.s != NULL) {
        ctx->flavor_tp = nmq_throughput_parse(in->flavor_throughput);
        if (ctx->flavor_tp < 0)
            return nmq_policy_invalid(err, "mq:throughput",
                                      in->flavor_throughput,
                                      "must be high, medium or low");
    }
    ctx->flavor_max = 0;
    if (in->flavor_max_queues.s != NULL &&
        (nmq_str_to_long(in->flavor_max_queues, NMQ_MAX_QUEUES,
                         &ctx->flavor_max) < 0 ||
         ctx->flavor_max < 1))
        return nmq_policy_invalid(err, "mq:max_queues", in->flavor_max_queues,
                                  "must be an integer from 1 to 256");
    if (in->flavor_msi_budget.s != NULL &&
        (nmq_str_to_long(in->flavor_msi_budget, NMQ_MAX_MSI_VECTOR_BUDGET,
                         &budget) < 0 ||
         budget < NMQ_MIN_MSI_VECTOR_BUDGET))
        return nmq_policy_invalid(err, "mq:msi_vector_budget",
                                  in->flavor_msi_budget,
                                  "must be an integer of at least 3");
    ctx->budget = budget - in->reserved_msi_vectors;
    return 0;
}

/*
 * The boolean flavor / image values; the packed ones only when the
 * installed Nova knows packed rings (an older Nova ignores them, and so
 * does the plan).  Returns 0 or -1 with err filled.
 */
static int
nmq_policy_parse_bools(NmqPolicyCtx *ctx, NmqError *err)
{
    const NmqGuestIn *in = ctx->in;

    if (nmq_policy_bool(in->flavor_mq_enabled, "hw:vif_multiqueue_enabled",
                        &ctx->flavor_mq, err) < 0 ||
        nmq_policy_bool(in->image_mq_enabled, "hw_vif_multiqueue_enabled",
                        &ctx->image_mq, err) < 0)
        return -1;
    ctx->flavor_packed = -1;
    ctx->image_packed = -1;
    ctx->packed = -1;
    if (!in->packed_supported)
        return 0;
    if (nmq_policy_bool(in->flavor_packed, "hw:virtio_packed_ring",
                        &ctx->flavor_packed, err) < 0 ||
        nmq_policy_bool(in->image_packed, "hw_virtio_packed_ring",
                        &ctx->image_packed, err) < 0)
        return -1;
    /* Nova: flavor_value or image_value or False */
    ctx->packed = ctx->flavor_packed == 1 || ctx->image_packed == 1;
    return 0;
}

/*
 * Nova's _get_max_tap_queues() without the option: the cap by kernel
 * major (the integer before the first '.'): <= 2: 1, 3: 8, 4: 256, later:
 * none (0).  Returns 0, or -1 when the major version does not parse.
 */
static int
nmq_policy_kernel_cap(NmqStr rel, long *cap)
{
    NmqStr major = rel;
    const char *dot = NULL;
    long v = 0;

    if (rel.s != NULL)
        dot = memchr(rel.s, '.', rel.len);
    if (dot != NULL)
        major.len = (size_t)(dot - rel.s);
    if (nmq_str_to_long(major, LONG_MAX, &v) < 0)
        return -1;
    *cap = 0;
    if (v <= 2)
        *cap = 1;
    else if (v == 3)
        *cap = 8;
    else if (v == 4)
        *cap = 256;
    return 0;
}

int
nmq_policy_tap_cap(long max_queues, NmqStr kernel_release, long *cap,
                   NmqReason *reason, NmqError *err)
{
    long c = max_queues;

    if (nmq_policy_check_max_queues(max_queues, err) < 0)
        return -1;
    *reason = NMQ_REASON_CAP_HOST_OPTION;
    if (max_queues == 0) {
        *reason = NMQ_REASON_CAP_KERNEL;
        if (nmq_policy_kernel_cap(kernel_release, &c) < 0)
            return nmq_policy_invalid(err, "kernel_release", kernel_release,
                                      "the text before the first '.' must "
                                      "be the kernel's major version");
    }
    if (c == 0 || c > NMQ_MAX_QUEUES) {
        c = NMQ_MAX_QUEUES;
        *reason = NMQ_REASON_CAP_KERNEL;
    }
    *cap = c;
    return 0;
}

/* Parse and validate everything guest-wide.  Returns 0 or -1. */
static int
nmq_policy_parse_guest(NmqPolicyCtx *ctx, const NmqGuestIn *in, NmqError *err)
{
    NmqError tap_err;

    memset(ctx, 0, sizeof(*ctx));
    ctx->in = in;
    if (nmq_policy_check_options(in, err) < 0 ||
        nmq_policy_parse_flavor(ctx, err) < 0 ||
        nmq_policy_parse_bools(ctx, err) < 0)
        return -1;
    ctx->virt = nmq_virt_type_parse(in->virt_type);
    /* A kernel release that does not parse is only an error where a cap
     * is needed, as in Nova: nmq_policy_eligible reports it then. */
    ctx->tap_ok =
        nmq_policy_tap_cap(in->libvirt_max_queues, in->kernel_release,
                           &ctx->tap_cap, &ctx->tap_reason, &tap_err) == 0;
    /* Nova's count: vCPUs under the tap cap.  Nova has no tun limit, but
     * the count is only compared at one queue, where the limit is moot. */
    ctx->nova_count = in->vcpus;
    if (ctx->tap_ok && in->vcpus > ctx->tap_cap)
        ctx->nova_count = ctx->tap_cap;
    return 0;
}

/* Classify a NIC (no validation; see nmq_policy_check_model). */
static NmqNicKind
nmq_policy_nic_kind(const NmqPolicyCtx *ctx, const NmqNicIn *nic)
{
    static const NmqWord normal = NMQ_WORD("normal");
    static const NmqWord virtio = NMQ_WORD("virtio");
    int vnic = NMQ_VNIC_NORMAL;

    /* "normal", by far the most common, skips the table walk. */
    if (!nmq_policy_is(nic->vnic_type, normal))
        vnic = nmq_vnic_type_parse(nic->vnic_type);
    if (vnic >= 0 && nmq_vnic_type_is_passthrough((NmqVnicType)vnic))
        return NMQ_NIC_PASSTHROUGH;
    if (!nmq_policy_is(nic->model, virtio))
        return NMQ_NIC_OTHER;
    if (ctx->virt == NMQ_VIRT_KVM || ctx->virt == NMQ_VIRT_PARALLELS)
        return NMQ_NIC_ELIGIBLE;
    return NMQ_NIC_PLAIN;
}

/* Report a bad value of NIC i's field ("nics[i].field").  Returns -1. */
static int
nmq_policy_port_invalid(NmqError *err, size_t i, const char *field,
                        NmqStr value, const char *why)
{
    char key[NMQ_ERR_KEY_MAX];

    snprintf(key, sizeof(key), "nics[%zu].%s", i, field);
    return nmq_policy_invalid(err, key, value, why);
}

/* The same for NIC i's fixed_queues.  Returns -1. */
static int
nmq_policy_fixed_invalid(NmqError *err, size_t i, long value, const char *why)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%ld", value);

    return nmq_policy_port_invalid(err, i, "fixed_queues",
                                   (NmqStr){text, (size_t)n}, why);
}

/*
 * Validate one port's knobs (and fixed_queues) into *knobs.  Index i
 * names the NIC in error keys.  Returns 0 or -1 with err filled.
 */
static int
nmq_policy_parse_port(const NmqPolicyCtx *ctx, size_t i, NmqPortKnobs *knobs,
                      NmqError *err)
{
    const NmqNicIn *nic = &ctx->in->nics[i];

    knobs->has_knobs = nic->mq_queues.s != NULL || nic->mq_throughput.s != NULL;
    knobs->queues = 0;
    knobs->tp = -1;
    if (nic->mq_queues.s != NULL && nic->mq_throughput.s != NULL)
        return nmq_policy_port_invalid(err, i, "mq_queues", nic->mq_queues,
                                       "mq_queues and mq_throughput are "
                                       "both set; set one of them");
    if (nic->mq_queues.s != NULL &&
        (nmq_str_to_long(nic->mq_queues, NMQ_MAX_QUEUES, &knobs->queues) < 0 ||
         knobs->queues < 1))
        return nmq_policy_port_invalid(err, i, "mq_queues", nic->mq_queues,
                                       "must be an integer from 1 to 256");
    if (nic->mq_throughput.s != NULL &&
        (knobs->tp = nmq_throughput_parse(nic->mq_throughput)) < 0)
        return nmq_policy_port_invalid(err, i, "mq_throughput",
                                       nic->mq_throughput,
                                       "must be high, medium or low");
    if (nic->fixed_queues < 0 || nic->fixed_queues > NMQ_MAX_QUEUES)
        return nmq_policy_fixed_invalid(err, i, nic->fixed_queues,
                                        "must be an integer from 0 to 256");
    if (nic->fixed_queues > 1 &&
        nmq_policy_nic_kind(ctx, nic) != NMQ_NIC_ELIGIBLE)
        return nmq_policy_fixed_invalid(err, i, nic->fixed_queues,
                                        "only a virtio NIC of a kvm or "
                                        "parallels guest can run more "
                                        "than one queue");
    return 0;
}

/* The newest Nova's SUPPORTED_VIF_MODELS[virt], as a model bit set. */
static unsigned long
nmq_policy_builtin_models(NmqVirtType virt)
{
    unsigned long qemu = NMQ_BIT(NMQ_MODEL_VIRTIO) |
                         NMQ_BIT(NMQ_MODEL_NE2K_PCI) |
                         NMQ_BIT(NMQ_MODEL_PCNET) | NMQ_BIT(NMQ_MODEL_RTL8139) |
                         NMQ_BIT(NMQ_MODEL_E1000) | NMQ_BIT(NMQ_MODEL_E1000E) |
                         NMQ_BIT(NMQ_MODEL_SPAPR_VLAN) |
                         NMQ_BIT(NMQ_MODEL_VMXNET3) | NMQ_BIT(NMQ_MODEL_IGB);

    switch (virt) {
    case NMQ_VIRT_QEMU:
        return qemu | NMQ_BIT(NMQ_MODEL_LAN9118);
    case NMQ_VIRT_KVM:
        return qemu;
    case NMQ_VIRT_LXC:
        return 0;
    case NMQ_VIRT_PARALLELS:
        return NMQ_BIT(NMQ_MODEL_VIRTIO) | NMQ_BIT(NMQ_MODEL_RTL8139) |
               NMQ_BIT(NMQ_MODEL_E1000);
    case NMQ_VIRT__COUNT:
        break;
    }
    return 0;
}

/* model is in the caller's list of valid models. */
static int
nmq_policy_model_listed(const NmqGuestIn *in, NmqStr model)
{
    size_t j;

    for (j = 0; j < in->n_vif_models; j++) {
        const NmqStr *v = &in->vif_models[j];

        if (v->s != NULL && v->len == model.len &&
            memcmp(v->s, model.s, model.len) == 0)
            return 1;
    }
    return 0;
}

/*
 * Nova's is_vif_model_valid_for_virt(): None is always valid; an unknown
 * virt type is UnsupportedVirtType; a model not in the list for the virt
 * type is UnsupportedHardware.  A model the list allows but nova-mq does
 * not know (a newer Nova's) is UnsupportedHardware too: the plan could
 * not name it.  m is nmq_model_parse(model), which a caller that
 * already knows the model passes without looking it up again.  Returns 0
 * or -1 with err filled.
 */
static int
nmq_policy_check_model(const NmqPolicyCtx *ctx, NmqStr model, int m,
                       NmqError *err)
{
    const NmqGuestIn *in = ctx->in;
    char virt[NMQ_ERR_VALUE_MAX];
    char name[NMQ_ERR_VALUE_MAX];
    int ok;

    if (model.s == NULL)
        return 0;
    if (ctx->virt < 0) {
        nmq_str_quote(virt, sizeof(virt), in->virt_type);
        return nmq_error_setf(err, NMQ_ERR_UNSUPPORTED_VIRT, "virt_type",
                              in->virt_type,
                              "Virtualization type '%s' is "
                              "not supported by this compute driver",
                              virt);
    }
    if (in->vif_models != NULL)
        ok = nmq_policy_model_listed(in, model);
    else
        ok = m >= 0 && (nmq_policy_builtin_models((NmqVirtType)ctx->virt) &
                        NMQ_BIT(m)) != 0;
    if (ok && m >= 0)
        return 0;
    nmq_str_quote(virt, sizeof(virt), in->virt_type);
    nmq_str_quote(name, sizeof(name), model);
    nmq_error_setf(err, NMQ_ERR_UNSUPPORTED_HARDWARE, "model", model,
                   "Requested hardware '%s' is not supported by the '%s' "
                   "virt driver%s",
                   name, virt, ok ? " (a model nova-mq does not know)" : "");
    snprintf(err->extra1, sizeof(err->extra1), "%s", virt);
    return -1;
}

/* Python's spelling of a tri-state boolean. */
static const char *
nmq_policy_py_bool(int v)
{
    return v < 0 ? "None" : v ? "True" : "False";
}

/* Write a name into a message: as is unless it holds a NUL byte. */
static void
nmq_policy_name(char *dst, size_t len, NmqStr name)
{
    if (name.s != NULL && memchr(name.s, '\0', name.len) == NULL)
        snprintf(dst, len, "%.*s",
                 (int)(name.len > INT_MAX ? INT_MAX : name.len), name.s);
    else
        nmq_str_quote(dst, len, name);
}

/* Nova's FlavorImageConflict for hw:vif_multiqueue_enabled.  Returns -1. */
static int
nmq_policy_mq_conflict(const NmqPolicyCtx *ctx, NmqError *err)
{
    char flavor[300];
    char image[300];

    nmq_policy_name(flavor, sizeof(flavor), ctx->in->flavor_name);
    nmq_policy_name(image, sizeof(image), ctx->in->image_name);
    nmq_error_setf(err, NMQ_ERR_CONFLICT, "hw:vif_multiqueue_enabled",
                   ctx->in->flavor_mq_enabled,
                   "Flavor %s has hw:vif_multiqueue_enabled extra spec "
                   "explicitly set to %s, conflicting with image %s which "
                   "has hw_vif_multiqueue_enabled explicitly set to %s.",
                   flavor, nmq_policy_py_bool(ctx->flavor_mq), image,
                   nmq_policy_py_bool(ctx->image_mq));
    snprintf(err->extra1, sizeof(err->extra1), "%s",
             nmq_policy_py_bool(ctx->flavor_mq));
    snprintf(err->extra2, sizeof(err->extra2), "%s",
             nmq_policy_py_bool(ctx->image_mq));
    return -1;
}

/* Nova's FlavorImageConflict for hw:virtio_packed_ring.  Returns -1. */
static int
nmq_policy_packed_conflict(const NmqPolicyCtx *ctx, NmqError *err)
{
    nmq_error_setf(err, NMQ_ERR_CONFLICT, "hw:virtio_packed_ring",
                   ctx->in->flavor_packed,
                   "Flavor has hw:virtio_packed_ring extra spec explicitly "
                   "set to %s, conflicting with image which has "
                   "hw_virtio_packed_ring explicitly set to %s.",
                   nmq_policy_py_bool(ctx->flavor_packed),
                   nmq_policy_py_bool(ctx->image_packed));
    snprintf(err->extra1, sizeof(err->extra1), "%s",
             nmq_policy_py_bool(ctx->flavor_packed));
    snprintf(err->extra2, sizeof(err->extra2), "%s",
             nmq_policy_py_bool(ctx->image_packed));
    return -1;
}

/* Queues a throughput class asks for on this guest. */
static long
nmq_policy_throughput_queues(NmqThroughput tp, long vcpus)
{
    switch (tp) {
    case NMQ_THROUGHPUT_HIGH:
        return vcpus;
    case NMQ_THROUGHPUT_MEDIUM:
        return vcpus / 2 + vcpus % 2;
    case NMQ_THROUGHPUT_LOW:
        return 1;
    case NMQ_THROUGHPUT__COUNT:
        break;
    }
    return 1;
}

/* Lower *q to cap when cap is set and below the request; note why. */
static void
nmq_policy_cap(NmqNicPlan *p, long *q, long cap, NmqReason why)
{
    if (cap <= 0 || cap >= p->requested)
        return;
    p->reasons |= 1UL << why;
    if (cap < *q)
        *q = cap;
}

/*
 * An enabled NIC: the requested count (port queues, else a throughput
 * class from the port, the flavor or the default) and every cap below
 * it.  Sets p->requested and p->queues.
 */
static void
nmq_policy_count(const NmqPolicyCtx *ctx, const NmqPortKnobs *knobs,
                 NmqNicPlan *p)
{
    const NmqGuestIn *in = ctx->in;
    long q;

    if (knobs->queues > 0) {
        q = knobs->queues;
        p->reasons |= 1UL << NMQ_REASON_PORT_QUEUES;
    } else if (knobs->tp >= 0) {
        q = nmq_policy_throughput_queues(knobs->tp, in->vcpus);
        p->reasons |= 1UL << NMQ_REASON_THROUGHPUT_PORT;
    } else if (ctx->flavor_tp >= 0) {
        q = nmq_policy_throughput_queues(ctx->flavor_tp, in->vcpus);
        p->reasons |= 1UL << NMQ_REASON_THROUGHPUT_FLAVOR;
    } else {
        q = in->vcpus;
        p->reasons |= 1UL << NMQ_REASON_THROUGHPUT_DEFAULT;
    }
    p->requested = (int)q;
    nmq_policy_cap(p, &q, in->vcpus, NMQ_REASON_CAP_VCPUS);
    nmq_policy_cap(p, &q, ctx->flavor_max, NMQ_REASON_CAP_FLAVOR);
    nmq_policy_cap(p, &q, ctx->tap_cap, ctx->tap_reason);
    nmq_policy_cap(p, &q, NMQ_MAX_QUEUES, NMQ_REASON_CAP_KERNEL);
    p->queues = (int)q;
}

/*
 * A virtio NIC of a kvm / parallels guest: enablement (vCPUs, then the
 * flavor / image booleans, then the port), then the count.  Raises Nova's
 * multiqueue conflict, and the kernel_release error where a cap is needed.
 */
static int
nmq_policy_eligible(const NmqPolicyCtx *ctx, size_t i, NmqNicPlan *p,
                    NmqError *err)
{
    const NmqGuestIn *in = ctx->in;
    NmqPortKnobs knobs;
    unsigned long ignored = 0;
    long cap;
    NmqReason why;

    if (in->vcpus >= 2 && ctx->flavor_mq >= 0 && ctx->image_mq >= 0 &&
        ctx->flavor_mq != ctx->image_mq)
        return nmq_policy_mq_conflict(ctx, err);
    if (nmq_policy_parse_port(ctx, i, &knobs, err) < 0)
        return -1;
    if (knobs.has_knobs)
        ignored = 1UL << NMQ_REASON_KNOBS_IGNORED;
    p->queues = 1;
    if (in->vcpus < 2) {
        p->reasons |= (1UL << NMQ_REASON_SINGLE_VCPU) | ignored;
    } else if (ctx->flavor_mq == 0 || ctx->image_mq == 0) {
        if (ctx->flavor_mq == 0)
            p->reasons |= 1UL << NMQ_REASON_DISABLED_FLAVOR;
        if (ctx->image_mq == 0)
            p->reasons |= 1UL << NMQ_REASON_DISABLED_IMAGE;
        p->reasons |= ignored;
    } else if (ctx->flavor_mq == 1 || ctx->image_mq == 1 || knobs.has_knobs) {
        if (!ctx->tap_ok) /* reported where a cap is needed, as in Nova */
            return nmq_policy_tap_cap(in->libvirt_max_queues,
                                      in->kernel_release, &cap, &why, err);
        if (ctx->flavor_mq == 1)
            p->reasons |= 1UL << NMQ_REASON_ENABLED_FLAVOR;
        if (ctx->image_mq == 1)
            p->reasons |= 1UL << NMQ_REASON_ENABLED_IMAGE;
        if (ctx->flavor_mq != 1 && ctx->image_mq != 1)
            p->reasons |= 1UL << NMQ_REASON_ENABLED_PORT;
        nmq_policy_count(ctx, &knobs, p);
    } else {
        p->reasons |= 1UL << NMQ_REASON_NOT_REQUESTED;
    }
    if (in->nics[i].fixed_queues > 0) {
        p->queues = (int)in->nics[i].fixed_queues;
        p->requested = p->queues;
        p->reasons = 1UL << NMQ_REASON_FIXED;
    }
    return 0;
}

/*
 * Pass 2 for one NIC, in Nova's order: the packed conflict (Nova computes
 * packed before anything else), passthrough, the model check, non-virtio,
 * then the virtio settings.  Leaves the pre-budget count in p->queues (0
 * for a NIC without a virtio frontend).  Returns 0 or -1 with err filled.
 */
static int
nmq_policy_decide(const NmqPolicyCtx *ctx, size_t i, NmqNicPlan *p,
                  NmqError *err)
{
    const NmqNicIn *nic = &ctx->in->nics[i];
    unsigned long knobs = 0;

    memset(p, 0, sizeof(*p));
    if (ctx->packed >= 0 && ctx->flavor_packed >= 0 && ctx->image_packed >= 0 &&
        ctx->flavor_packed != ctx->image_packed)
        return nmq_policy_packed_conflict(ctx, err);
    if (nic->mq_queues.s != NULL || nic->mq_throughput.s != NULL)
        knobs = 1UL << NMQ_REASON_KNOBS_IGNORED;
    switch (nmq_policy_nic_kind(ctx, nic)) {
    case NMQ_NIC_PASSTHROUGH:
        p->reasons = (1UL << NMQ_REASON_PASSTHROUGH) | knobs;
        return 0;
    case NMQ_NIC_OTHER:
        if (nmq_policy_check_model(ctx, nic->model, nmq_model_parse(nic->model),
                                   err) < 0)
            return -1;
        p->reasons = (1UL << NMQ_REASON_NOT_VIRTIO) | knobs;
        return 0;
    case NMQ_NIC_PLAIN:
        if (nmq_policy_check_model(ctx, nic->model, NMQ_MODEL_VIRTIO, err) < 0)
            return -1;
        p->reasons = (1UL << NMQ_REASON_VIRT_TYPE) | knobs;
        p->queues = 1;
        return 0;
    case NMQ_NIC_ELIGIBLE:
        if (nmq_policy_check_model(ctx, nic->model, NMQ_MODEL_VIRTIO, err) < 0)
            return -1;
        return nmq_policy_eligible(ctx, i, p, err);
    }
    return 0;
}

int
nmq_policy_msi_vectors(int queues)
{
    return queues > 1 ? 2 * queues + 2 : 3;
}

/*
 * The NIC may lose queues to the budget: new and multiqueue.  Only an
 * eligible virtio NIC ever has more than one queue (pass 1 refuses a
 * fixed count above one anywhere else), so the kind needs no test.
 */
static int
nmq_policy_reducible(const NmqPolicyCtx *ctx, size_t i, const NmqNicPlan *p)
{
    return p->queues > 1 && ctx->in->nics[i].fixed_queues == 0;
}

/* Vectors the reducible NICs would use, each capped at level h. */
static long
nmq_policy_level_cost(const NmqPolicyCtx *ctx, const NmqNicPlan *out, int h)
{
    long t = 0;
    size_t i;

    for (i = 0; i < ctx->in->n_nics; i++) {
        if (nmq_policy_reducible(ctx, i, &out[i]))
            t += nmq_policy_msi_vectors(out[i].queues < h ? out[i].queues : h);
    }
    return t;
}

/*
 * Bring the reducible NICs to level h (top == h): every one above h to h.
 * With top == h + 1, every one above h + 1 to h + 1 and then the k latest
 * of those at h + 1 down to h.  Every NIC that loses a queue is marked.
 */
static void
nmq_policy_level_apply(const NmqPolicyCtx *ctx, NmqNicPlan *out, int top,
                       long k)
{
    size_t i = ctx->in->n_nics;

    while (i-- > 0) {
        NmqNicPlan *p = &out[i];

        if (!nmq_policy_reducible(ctx, i, p))
            continue;
        if (p->queues > top) {
            p->queues = top;
            p->reasons |= 1UL << NMQ_REASON_MSI_BUDGET;
        }
        if (k > 0 && p->queues == top) {
            p->queues = top - 1;
            p->reasons |= 1UL << NMQ_REASON_MSI_BUDGET;
            k--;
        }
    }
}

/*
 * Pass 3: the MSI-X budget.  The result equals the loop "while the total
 * is over budget and some new NIC has more than one queue, take one queue
 * from the NIC with the most (ties: the later NIC)", found instead by a
 * binary search for the highest level h whose cost T(h) fits, then the
 * k = ceil((T(h+1) - budget) / (vec(h+1) - vec(h))) latest NICs at h+1
 * lowered to h.  Fixed and single-queue NICs are spent first.
 */
static void
nmq_policy_budget(const NmqPolicyCtx *ctx, NmqNicPlan *out)
{
    long spent = 0; /* fixed and single-queue NICs; never overflows */
    long budget = ctx->budget;
    int maxq = 0;
    int lo = 1;
    int hi;
    size_t i;

    for (i = 0; i < ctx->in->n_nics; i++) {
        if (nmq_policy_reducible(ctx, i, &out[i])) {
            if (out[i].queues > maxq)
                maxq = out[i].queues;
        } else if (out[i].queues > 0) {
            spent += nmq_policy_msi_vectors(out[i].queues);
        }
    }
    if (maxq == 0 || spent + nmq_policy_level_cost(ctx, out, maxq) <= budget)
        return;
    if (spent + nmq_policy_level_cost(ctx, out, 1) > budget) {
        nmq_policy_level_apply(ctx, out, 1, 0);
        return;
    }
    hi = maxq - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;

        if (spent + nmq_policy_level_cost(ctx, out, mid) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    {
        long over = spent + nmq_policy_level_cost(ctx, out, lo + 1) - budget;
        long step = nmq_policy_msi_vectors(lo + 1) - nmq_policy_msi_vectors(lo);

        nmq_policy_level_apply(ctx, out, lo + 1, (over + step - 1) / step);
    }
}

/* The NIC is a vhost-user one (userspace backend, Nova's vhostuser). */
static int
nmq_policy_vhost_user(const NmqNicIn *nic)
{
    static const NmqWord vhostuser = NMQ_WORD("vhostuser");
    static const NmqWord forwarder = NMQ_WORD("virtio-forwarder");

    return nmq_policy_is(nic->vif_type, vhostuser) ||
           nmq_policy_is(nic->vnic_type, forwarder);
}

/*
 * Pass 4 for one NIC: from the final count, what Nova would set on the
 * conf (a NIC at one queue in the single-queue form, unless Nova itself
 * enables it with the same count), the sizes, the vectors and the vhost
 * memory; add to the totals.
 */
static void
nmq_policy_finish(const NmqPolicyCtx *ctx, size_t i, NmqNicPlan *p,
                  NmqGuestPlan *totals)
{
    const NmqGuestIn *in = ctx->in;
    const NmqNicIn *nic = &in->nics[i];
    NmqNicKind kind = nmq_policy_nic_kind(ctx, nic);
    int q = p->queues;
    int nova_on = in->vcpus >= 2 && (ctx->flavor_mq == 1 || ctx->image_mq == 1);
    int driver = -1; /* NmqDriver, -1: no driver name */
    /* Every kind but OTHER has a virtio model (or none: passthrough). */
    int m =
        kind == NMQ_NIC_OTHER ? nmq_model_parse(nic->model) : NMQ_MODEL_VIRTIO;
    static const NmqWord vdpa = NMQ_WORD("vdpa");

    p->packed = ctx->packed;
    p->queues = 0;
    p->model = kind == NMQ_NIC_PASSTHROUGH || m < 0 ? NULL : nmq_model_str(m);
    p->rx_queue_size = kind == NMQ_NIC_PASSTHROUGH ? 0 : (int)in->rx_queue_size;
    if (nmq_policy_vhost_user(nic) || nmq_policy_is(nic->vnic_type, vdpa))
        p->tx_queue_size = (int)in->tx_queue_size;
    if (kind == NMQ_NIC_PLAIN && ctx->virt == NMQ_VIRT_QEMU)
        driver = NMQ_DRIVER_QEMU;
    if (kind == NMQ_NIC_ELIGIBLE &&
        (q > 1 || (nova_on && q == ctx->nova_count))) {
        driver = NMQ_DRIVER_VHOST;
        p->queues = q;
    }
    if ((kind == NMQ_NIC_PLAIN || kind == NMQ_NIC_ELIGIBLE) && driver < 0 &&
        p->rx_queue_size != 0)
        driver = NMQ_DRIVER_VHOST;
    p->driver = driver < 0 ? NULL : nmq_driver_str(driver);
    p->multiqueue = p->queues > 1;
    if (kind == NMQ_NIC_PLAIN || kind == NMQ_NIC_ELIGIBLE)
        p->msi_vectors = nmq_policy_msi_vectors(q);
    if (driver == NMQ_DRIVER_VHOST && !nmq_policy_vhost_user(nic))
        p->vhost_memory = NMQ_VHOST_BYTES_PER_QUEUE * (q > 1 ? q : 1);
    totals->msi_vectors += p->msi_vectors;
    totals->vhost_memory += p->vhost_memory;
}

int
nmq_policy_plan(const NmqGuestIn *in, NmqNicPlan *out, NmqGuestPlan *totals,
                NmqError *err)
{
    NmqPolicyCtx ctx;
    NmqPortKnobs knobs;
    size_t i;

    memset(totals, 0, sizeof(*totals));
    if (nmq_policy_parse_guest(&ctx, in, err) < 0)
        goto error;
    for (i = 0; i < in->n_nics; i++) {
        if (nmq_policy_parse_port(&ctx, i, &knobs, err) < 0)
            goto error;
    }
    for (i = 0; i < in->n_nics; i++) {
        if (nmq_policy_decide(&ctx, i, &out[i], err) < 0)
            goto error;
    }
    nmq_policy_budget(&ctx, out);
    for (i = 0; i < in->n_nics; i++)
        nmq_policy_finish(&ctx, i, &out[i], totals);
    totals->msi_budget = ctx.budget;
    if (totals->msi_vectors > ctx.budget)
        totals->warnings |= 1UL << NMQ_WARN_MSI_OVER_BUDGET;
    return 0;

error:
    if (in->n_nics > 0)
        memset(out, 0, in->n_nics * sizeof(*out));
    memset(totals, 0, sizeof(*totals));
    return -1;
}
