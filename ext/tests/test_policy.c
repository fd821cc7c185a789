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
 * test_policy.c: the policy engine against its contract.
 *
 * Two oracles written the plain way: nova_ref() is Nova's
 * get_base_config() (nova/virt/libvirt/vif.py) transcribed line by line,
 * and msi_ref() is the MSI budget as the loop the contract states.  The
 * engine must agree with the first on every knob-free input and with the
 * second on thousands of seeded random guests.
 *
 * Choices the contract left open, tested here:
 *  - Knobs are validated always: the mq: flavor extra specs, the boolean
 *    flavor / image values and every port's knobs are checked even when
 *    vcpus < 2, when multiqueue is disabled, or when no NIC would use
 *    them.  An operator who wrote a bad value wants to hear of it at the
 *    first boot, not on the day a resize makes it matter.  The exceptions
 *    follow Nova: kernel_release is only read (and only fails) where a tap
 *    cap is needed, and the packed-ring values are ignored entirely when
 *    the installed Nova has no packed rings (Zed's API accepts any text
 *    there).
 *  - Error order: guest-wide values, then every port's knobs, then Nova's
 *    own checks NIC by NIC in Nova's order (packed conflict, model / virt
 *    type, multiqueue conflict).  Nova raises its conflict only when a NIC
 *    reaches _get_virtio_mq_settings(), so a guest without such a NIC
 *    (e1000, passthrough, qemu, no NICs) raises none, as in Nova.
 *  - A cap "bites" when it is below the requested count; every such cap
 *    is reported.  The tun limit (256) applies even with
 *    [libvirt]max_queues set and is reported as capped-by-host-kernel.
 *  - requested is 0 for a NIC that is not enabled; a fixed NIC reports
 *    its running count and only kept-running-queues.
 *  - fixed_queues > 1 on a NIC that cannot be multiqueue is an error.
 *  - Port knobs on a NIC that cannot use them add port-knobs-ignored.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "policy.h"

#define S(lit) NMQ_STR_LIT(lit)
#define NONE NMQ_STR_NONE
#define HAS(p, r) (((p).reasons & (1UL << (r))) != 0)
#define MAXN 64

static NmqStr
str(const char *s)
{
    return s ? (NmqStr){s, strlen(s)} : NMQ_STR_NONE;
}

/* A kvm guest on a 6.x host with the default options. */
static NmqGuestIn
guest(long vcpus)
{
    NmqGuestIn in;

    memset(&in, 0, sizeof(in));
    in.vcpus = vcpus;
    in.flavor_name = S("m1");
    in.image_name = S("img");
    in.virt_type = S("kvm");
    in.kernel_release = S("6.1.0-13-amd64");
    in.msi_vector_budget = NMQ_DEFAULT_MSI_VECTOR_BUDGET;
    in.reserved_msi_vectors = NMQ_DEFAULT_RESERVED_MSI_VECTORS;
    in.packed_supported = 1;
    return in;
}

static NmqNicIn
virtio_nic(void)
{
    NmqNicIn n;

    memset(&n, 0, sizeof(n));
    n.vif_type = S("ovs");
    n.vnic_type = S("normal");
    n.model = S("virtio");
    return n;
}

/* Plan in with its NICs; out gets poisoned first so stale data shows. */
static int
plan(NmqGuestIn *in, NmqNicIn *nics, size_t n, NmqNicPlan *out,
     NmqGuestPlan *tot, NmqError *err)
{
    in->nics = nics;
    in->n_nics = n;
    memset(out, 0xab, n * sizeof(*out));
    memset(tot, 0xab, sizeof(*tot));
    memset(err, 0, sizeof(*err));
    return nmq_policy_plan(in, out, tot, err);
}

static int
plan1(NmqGuestIn *in, NmqNicIn nic, NmqNicPlan *out, NmqError *err)
{
    NmqGuestPlan tot;

    return plan(in, &nic, 1, out, &tot, err);
}

/* The reasons of p as "a,b,c", for readable failures. */
static const char *
reasons(const NmqNicPlan *p)
{
    static char buf[512];
    size_t o = 0;
    int r;

    buf[0] = '\0';
    for (r = 0; r < NMQ_REASON__COUNT; r++) {
        if (p->reasons & (1UL << r))
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
                                  o ? "," : "", nmq_reason_str(r));
    }
    return buf;
}

static int
all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;

    for (i = 0; i < n; i++) {
        if (c[i])
            return 0;
    }
    return 1;
}

/* ---- Nova's get_base_config(), transcribed ---------------------------- */

typedef struct {
    const char *driver;
    const char *model;
    int queues; /* 0: None */
    int rx;
    int packed; /* -1: Nova without packed rings */
    NmqErrorCode err;
} NovaConf;

typedef struct {
    long vcpus;
    int fmq, imq; /* -1 unset, 0, 1 */
    int fpk, ipk; /* -1 unset, 0, 1 */
    int packed_supported;
    const char *virt;
    const char *model;
    const char *vnic;
    long max_queues; /* 0: None */
    long kernel_major;
    long rx;
} NovaCase;

static int
nova_model_valid(const char *virt, const char *model)
{
    static const char *const kvm[] = {
        "virtio", "ne2k_pci",   "pcnet",   "rtl8139", "e1000",
        "e1000e", "spapr-vlan", "vmxnet3", "igb",     NULL};
    static const char *const qemu[] = {
        "virtio",  "ne2k_pci",   "pcnet",   "rtl8139", "e1000", "e1000e",
        "lan9118", "spapr-vlan", "vmxnet3", "igb",     NULL};
    static const char *const parallels[] = {"virtio", "rtl8139", "e1000", NULL};
    static const char *const lxc[] = {NULL};
    const char *const *list = strcmp(virt, "kvm") == 0         ? kvm
                              : strcmp(virt, "qemu") == 0      ? qemu
                              : strcmp(virt, "parallels") == 0 ? parallels
                                                               : lxc;

    for (; *list; list++) {
        if (strcmp(*list, model) == 0)
            return 1;
    }
    return 0;
}

static void
nova_ref(const NovaCase *c, NovaConf *conf)
{
    const char *const pt[] = {"direct",
                              "direct-physical",
                              "accelerator-direct",
                              "accelerator-direct-physical",
                              "remote-managed",
                              "vdpa",
                              NULL};
    const char *const *v;
    long tap;

    memset(conf, 0, sizeof(*conf));
    conf->packed = -1;
    if (c->packed_supported) {
        if (c->fpk >= 0 && c->ipk >= 0 && c->fpk != c->ipk) {
            conf->err = NMQ_ERR_CONFLICT;
            return;
        }
        conf->packed = c->fpk == 1 || c->ipk == 1;
    }
    for (v = pt; *v; v++) {
        if (strcmp(*v, c->vnic) == 0)
            return;
    }
    conf->rx = (int)c->rx;
    conf->model = c->model;
    if (c->model != NULL) {
        if (strcmp(c->virt, "kvm") && strcmp(c->virt, "qemu") &&
            strcmp(c->virt, "lxc") && strcmp(c->virt, "parallels")) {
            conf->err = NMQ_ERR_UNSUPPORTED_VIRT;
            return;
        }
        if (!nova_model_valid(c->virt, c->model)) {
            conf->err = NMQ_ERR_UNSUPPORTED_HARDWARE;
            return;
        }
    }
    if (c->model == NULL || strcmp(c->model, "virtio") != 0)
        return;
    if (strcmp(c->virt, "qemu") == 0)
        conf->driver = "qemu";
    if (strcmp(c->virt, "kvm") == 0 || strcmp(c->virt, "parallels") == 0) {
        if (c->vcpus >= 2) {
            if (c->fmq >= 0 && c->imq >= 0 && c->fmq != c->imq) {
                conf->err = NMQ_ERR_CONFLICT;
                return;
            }
            if (c->fmq == 1 || c->imq == 1) {
                conf->driver = "vhost";
                tap = c->max_queues          ? c->max_queues
                      : c->kernel_major <= 2 ? 1
                      : c->kernel_major == 3 ? 8
                      : c->kernel_major == 4 ? 256
                                             : 0;
                conf->queues = (int)(tap && c->vcpus > tap ? tap : c->vcpus);
            }
        }
    }
    if ((conf->driver == NULL || strcmp(conf->driver, "vhost") == 0) && c->rx)
        conf->driver = "vhost";
}

static const char *
bool_text(int v, int image)
{
    if (v < 0)
        return NULL;
    if (image)
        return v ? "True" : "False";
    return v ? "true" : "false";
}

static int
same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Run one parity case; returns 1 when the engine agrees with Nova. */
static int
parity_case(const NovaCase *c)
{
    char kernel[32];
    NmqGuestIn in = guest(c->vcpus);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;
    NovaConf want;
    int rc;

    snprintf(kernel, sizeof(kernel), "%ld.19.0-1", c->kernel_major);
    in.kernel_release = str(kernel);
    in.flavor_mq_enabled = str(bool_text(c->fmq, 0));
    in.image_mq_enabled = str(bool_text(c->imq, 1));
    in.flavor_packed = str(bool_text(c->fpk, 0));
    in.image_packed = str(bool_text(c->ipk, 1));
    in.packed_supported = c->packed_supported;
    in.virt_type = str(c->virt);
    in.libvirt_max_queues = c->max_queues;
    in.rx_queue_size = c->rx;
    nic.model = str(c->model);
    nic.vnic_type = str(c->vnic);
    nova_ref(c, &want);
    rc = plan1(&in, nic, &p, &err);
    if (want.err != NMQ_ERR_NONE)
        return rc == -1 && err.code == want.err;
    /* The documented deviation: the tun limit where Nova sets no cap. */
    if (want.queues > NMQ_MAX_QUEUES)
        want.queues = NMQ_MAX_QUEUES;
    return rc == 0 && same_str(p.driver, want.driver) &&
           same_str(p.model, want.model) && p.queues == want.queues &&
           p.rx_queue_size == want.rx && p.packed == want.packed;
}

/* Report a parity failure (the first few) and count it. */
static void
parity_check(const NovaCase *c, long *bad)
{
    if (parity_case(c) || (*bad)++ >= 5)
        return;
    fprintf(stderr,
            "parity: vcpus=%ld mq=%d/%d packed=%d/%d/%d virt=%s "
            "model=%s vnic=%s maxq=%ld kernel=%ld rx=%ld\n",
            c->vcpus, c->fmq, c->imq, c->packed_supported, c->fpk, c->ipk,
            c->virt, c->model ? c->model : "None", c->vnic, c->max_queues,
            c->kernel_major, c->rx);
}

/*
 * Fill c from the digits d[] of one point of the product (see radix in
 * test_parity).  Returns 0 for a point outside the two matrices: the
 * packed matrix (d[0] > 0) runs at one and four vCPUs on a host without
 * caps only.
 */
static int
parity_fill(const int *d, NovaCase *c)
{
    static const long vcpus[] = {1, 2, 3, 4, 8, 64, 257, 300};
    static const char *const virts[] = {"kvm", "qemu", "parallels", "lxc",
                                        "xen"};
    static const char *const models[] = {NULL,  "virtio",  "e1000",
                                         "igb", "lan9118", "rtl8139"};
    static const char *const vnics[] = {"normal", "direct", "vdpa",
                                        "virtio-forwarder"};
    static const long maxq[] = {0, 1, 4};
    static const long kernels[] = {2, 3, 4, 6};

    if (d[0] > 0 && ((d[1] != 0 && d[1] != 3) || d[6] != 0 || d[7] != 3))
        return 0;
    c->packed_supported = d[0] < 9;
    c->fpk = d[0] < 9 ? d[0] / 3 - 1 : -1;
    c->ipk = d[0] < 9 ? d[0] % 3 - 1 : -1;
    c->vcpus = vcpus[d[1]];
    c->fmq = d[2] / 3 - 1;
    c->imq = d[2] % 3 - 1;
    c->virt = virts[d[3]];
    c->model = models[d[4]];
    c->vnic = vnics[d[5]];
    c->max_queues = maxq[d[6]];
    c->kernel_major = kernels[d[7]];
    c->rx = d[8] ? 512 : 0;
    return 1;
}

/*
 * Two products, so that the test stays quick under valgrind: the
 * multiqueue matrix with the packed ring unset (packed digit 0), and the
 * packed matrix (every flavor / image pair, and a Nova without packed
 * rings) at one and four vCPUs on a host without caps.
 */
static void
test_parity(void)
{
    /* packed, vcpus, mq pair, virt, model, vnic, max_queues, kernel, rx */
    static const int radix[9] = {10, 8, 9, 5, 6, 4, 3, 4, 2};
    NovaCase c;
    long points = 1;
    long cases = 0;
    long bad = 0;
    long idx;
    int d[9];
    int j;

    for (j = 0; j < 9; j++)
        points *= radix[j];
    for (idx = 0; idx < points; idx++) {
        long x = idx;

        for (j = 8; j >= 0; j--) {
            d[j] = (int)(x % radix[j]);
            x /= radix[j];
        }
        if (!parity_fill(d, &c))
            continue;
        parity_check(&c, &bad);
        cases++;
    }
    CHECK(cases == 8L * 9 * 5 * 6 * 4 * 3 * 4 * 2 + 9L * 2 * 9 * 5 * 6 * 4 * 2);
    CHECK(bad == 0);
}

/* The vif_models list of an older Nova replaces the built-in table. */
static void
test_vif_models(void)
{
    static const NmqStr zed_kvm[] = {{"virtio", 6}, {"e1000", 5}};
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.vif_models = zed_kvm;
    in.n_vif_models = 2;
    nic.model = S("igb");
    CHECK(plan1(&in, nic, &p, &err) == -1);
    CHECK(err.code == NMQ_ERR_UNSUPPORTED_HARDWARE);
    CHECK_STREQ(err.key, "model");
    CHECK_STREQ(err.value, "igb");
    CHECK_STREQ(err.extra1, "kvm");
    CHECK_STREQ(err.msg, "Requested hardware 'igb' is not supported by the "
                         "'kvm' virt driver");
    nic.model = S("e1000");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.model, "e1000");
    /* An empty list (lxc) refuses every model, but not None. */
    in.n_vif_models = 0;
    CHECK(plan1(&in, nic, &p, &err) == -1);
    nic.model = NONE;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.model == NULL && p.driver == NULL && p.queues == 0);
    /* A model a newer Nova allows but nova-mq cannot name. */
    {
        static const NmqStr future[] = {{"virtio-ng", 9}};

        in.vif_models = future;
        in.n_vif_models = 1;
        nic.model = S("virtio-ng");
        CHECK(plan1(&in, nic, &p, &err) == -1);
        CHECK(err.code == NMQ_ERR_UNSUPPORTED_HARDWARE);
        CHECK(strstr(err.msg, "nova-mq does not know") != NULL);
    }
    /* A list without virtio refuses it on qemu too. */
    {
        static const NmqStr e1000_only[] = {{"e1000", 5}};

        in.virt_type = S("qemu");
        in.vif_models = e1000_only;
        in.n_vif_models = 1;
        nic.model = S("virtio");
        CHECK(plan1(&in, nic, &p, &err) == -1);
        CHECK(err.code == NMQ_ERR_UNSUPPORTED_HARDWARE);
        CHECK_STREQ(err.extra1, "qemu");
    }
    /* Unknown virt type: with a model an error, without none. */
    in = guest(4);
    in.virt_type = S("xen");
    nic.model = S("virtio");
    CHECK(plan1(&in, nic, &p, &err) == -1);
    CHECK(err.code == NMQ_ERR_UNSUPPORTED_VIRT);
    CHECK_STREQ(err.key, "virt_type");
    CHECK_STREQ(err.value, "xen");
    CHECK_STREQ(err.msg, "Virtualization type 'xen' is not supported by "
                         "this compute driver");
    in.virt_type = NONE;
    CHECK(plan1(&in, nic, &p, &err) == -1);
    CHECK_STREQ(err.msg, "Virtualization type 'None' is not supported by "
                         "this compute driver");
    nic.model = NONE;
    CHECK(plan1(&in, nic, &p, &err) == 0);
}

/* ---- enablement -------------------------------------------------------- */

static void
test_enablement(void)
{
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    /* Unset everywhere: single queue, exactly Nova's. */
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.driver == NULL && p.queues == 0 && !p.multiqueue);
    CHECK(p.requested == 0);
    CHECK_STREQ(reasons(&p), "not-requested");
    /* A port asks. */
    nic.mq_queues = S("3");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.driver, "vhost");
    CHECK(p.queues == 3 && p.multiqueue && p.requested == 3);
    CHECK_STREQ(reasons(&p), "enabled-by-port,port-queues");
    /* The flavor says no: the port is ignored. */
    in.flavor_mq_enabled = S("false");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.driver == NULL && p.queues == 0 && p.requested == 0);
    CHECK_STREQ(reasons(&p), "disabled-by-flavor,port-knobs-ignored");
    in.flavor_mq_enabled = NONE;
    in.image_mq_enabled = S("False");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(reasons(&p), "disabled-by-image,port-knobs-ignored");
    in.flavor_mq_enabled = S("no");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(reasons(&p),
                "disabled-by-flavor,disabled-by-image,port-knobs-ignored");
    nic.mq_queues = NONE;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(reasons(&p), "disabled-by-flavor,disabled-by-image");
    /* Explicitly on: every eligible NIC, Nova's count. */
    in.flavor_mq_enabled = S("True");
    in.image_mq_enabled = NONE;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.driver, "vhost");
    CHECK(p.queues == 4 && p.requested == 4);
    CHECK_STREQ(reasons(&p), "enabled-by-flavor,throughput-default");
    in.flavor_mq_enabled = NONE;
    in.image_mq_enabled = S("True");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(reasons(&p), "enabled-by-image,throughput-default");
    in.flavor_mq_enabled = S("1");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(reasons(&p),
                "enabled-by-flavor,enabled-by-image,throughput-default");
    /* One vCPU: never, whatever is asked, and no conflict. */
    in = guest(1);
    in.flavor_mq_enabled = S("true");
    in.image_mq_enabled = S("False");
    nic.mq_queues = S("8");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.driver == NULL && p.queues == 0 && p.msi_vectors == 3);
    CHECK_STREQ(reasons(&p), "single-vcpu,port-knobs-ignored");
}

static void
test_not_eligible(void)
{
    NmqGuestIn in = guest(8);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.flavor_mq_enabled = S("true");
    nic.mq_throughput = S("high");
    nic.vnic_type = S("direct");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.model == NULL && p.driver == NULL && p.queues == 0);
    CHECK(p.rx_queue_size == 0 && p.msi_vectors == 0 && p.packed == 0);
    CHECK_STREQ(reasons(&p), "passthrough-vnic,port-knobs-ignored");
    nic.vnic_type = S("normal");
    nic.model = S("e1000");
    in.rx_queue_size = 1024;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.model, "e1000");
    CHECK(p.driver == NULL && p.queues == 0 && p.rx_queue_size == 1024);
    CHECK(p.msi_vectors == 0 && p.vhost_memory == 0);
    CHECK_STREQ(reasons(&p), "model-not-virtio,port-knobs-ignored");
    nic.model = S("virtio");
    in.virt_type = S("qemu");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.driver, "qemu");
    CHECK(p.queues == 0 && p.rx_queue_size == 1024 && p.msi_vectors == 3);
    CHECK(p.vhost_memory == 0);
    CHECK_STREQ(reasons(&p), "virt-type-without-vhost,port-knobs-ignored");
    in.virt_type = S("parallels");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 8);
    /* An unknown vnic type is not passthrough (Nova's test is "in"). */
    in.virt_type = S("kvm");
    nic.vnic_type = S("smart-nic");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 8);
    nic.vnic_type = NONE;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 8);
}

/* ---- counts and caps --------------------------------------------------- */

static void
check_count(long vcpus, const char *queues, const char *port_tp,
            const char *flavor_tp, int want_q, const char *want_reasons)
{
    NmqGuestIn in = guest(vcpus);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.flavor_mq_enabled = S("true");
    in.flavor_throughput = str(flavor_tp);
    nic.mq_queues = str(queues);
    nic.mq_throughput = str(port_tp);
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == (want_q > 1 ? want_q : 0));
    CHECK_STREQ(reasons(&p), want_reasons);
}

static void
test_counts(void)
{
    check_count(9, "5", NULL, "low", 5, "enabled-by-flavor,port-queues");
    check_count(9, NULL, "medium", "low", 5,
                "enabled-by-flavor,throughput-from-port");
    check_count(9, NULL, NULL, "medium", 5,
                "enabled-by-flavor,throughput-from-flavor");
    check_count(10, NULL, NULL, "medium", 5,
                "enabled-by-flavor,throughput-from-flavor");
    check_count(9, NULL, "high", "low", 9,
                "enabled-by-flavor,throughput-from-port");
    check_count(9, NULL, NULL, "high", 9,
                "enabled-by-flavor,throughput-from-flavor");
    check_count(9, NULL, NULL, NULL, 9, "enabled-by-flavor,throughput-default");
    check_count(9, " 7 ", NULL, NULL, 7, "enabled-by-flavor,port-queues");
    check_count(3, NULL, NULL, "medium", 2,
                "enabled-by-flavor,throughput-from-flavor");
    check_count(2, NULL, NULL, "medium", 1,
                "enabled-by-flavor,throughput-from-flavor");
    /* Low: one queue, the single-queue form although enabled. */
    check_count(9, NULL, "low", NULL, 1,
                "enabled-by-flavor,throughput-from-port");
    check_count(9, "1", NULL, NULL, 1, "enabled-by-flavor,port-queues");
}

static void
check_caps(long vcpus, const char *queues, const char *fmax, long maxq,
           const char *kernel, int want_q, const char *want_reasons)
{
    NmqGuestIn in = guest(vcpus);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.flavor_max_queues = str(fmax);
    in.libvirt_max_queues = maxq;
    in.kernel_release = str(kernel);
    nic.mq_queues = str(queues);
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == (want_q > 1 ? want_q : 0));
    CHECK(p.requested == (queues ? atoi(queues) : 0));
    CHECK_STREQ(reasons(&p), want_reasons);
}

static void
test_caps(void)
{
    const char *pq = "enabled-by-port,port-queues";

    check_caps(4, "16", NULL, 0, "6.1", 4,
               "enabled-by-port,port-queues,capped-by-vcpus");
    check_caps(16, "16", "6", 0, "6.1", 6,
               "enabled-by-port,port-queues,capped-by-flavor-max-queues");
    check_caps(16, "16", NULL, 5, "6.1", 5,
               "enabled-by-port,port-queues,capped-by-libvirt-max-queues");
    check_caps(16, "16", NULL, 0, "3.10.0", 8,
               "enabled-by-port,port-queues,capped-by-host-kernel");
    check_caps(16, "16", NULL, 0, "2.6.32", 1,
               "enabled-by-port,port-queues,capped-by-host-kernel");
    check_caps(16, "16", NULL, 0, "4.19", 16, pq);
    check_caps(300, "256", NULL, 0, "4.19", 256, pq);
    check_caps(300, "256", NULL, 0, "7", 256, pq);
    /* Every cap below the request is reported, the tightest wins. */
    check_caps(4, "16", "3", 2, "6.1", 2,
               "enabled-by-port,port-queues,capped-by-vcpus,"
               "capped-by-flavor-max-queues,capped-by-libvirt-max-queues");
    /* The option replaces the kernel cap, as in Nova. */
    check_caps(16, "16", NULL, 12, "3.10", 12,
               "enabled-by-port,port-queues,capped-by-libvirt-max-queues");
    /* A cap equal to the request does not bite. */
    check_caps(8, "8", "8", 8, "6.1", 8, pq);
}

/* The tun limit where Nova has no cap (the documented deviation), and
 * over [libvirt]max_queues. */
static void
test_tun_limit(void)
{
    NmqGuestIn in = guest(300);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.flavor_mq_enabled = S("true");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 256 && p.requested == 300);
    CHECK_STREQ(reasons(&p), "enabled-by-flavor,throughput-default,"
                             "capped-by-host-kernel");
    in.libvirt_max_queues = 1000;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 256 && HAS(p, NMQ_REASON_CAP_KERNEL));
    CHECK(HAS(p, NMQ_REASON_CAP_HOST_OPTION) == 0);
    /* An option over the tun limit is not the tap cap (nmq_policy_tap_cap):
     * the limit is, even where the option is below the request. */
    in.vcpus = 2000;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 256 && HAS(p, NMQ_REASON_CAP_KERNEL));
    CHECK(HAS(p, NMQ_REASON_CAP_HOST_OPTION) == 0);
    in.vcpus = 300;
    in.libvirt_max_queues = 0;
    in.kernel_release = S("4.18.0-553.el8");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 256);
    CHECK(HAS(p, NMQ_REASON_CAP_KERNEL));
}

/* Where Nova itself writes queues, its exact values. */
static void
test_nova_form(void)
{
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.flavor_mq_enabled = S("true");
    in.libvirt_max_queues = 1;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.driver, "vhost");
    CHECK(p.queues == 1 && !p.multiqueue && p.msi_vectors == 3);
    CHECK(p.vhost_memory == NMQ_VHOST_BYTES_PER_QUEUE);
    in.libvirt_max_queues = 0;
    in.kernel_release = S("2.6.32-754.el6.x86_64");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.driver, "vhost");
    CHECK(p.queues == 1);
    /* nova-mq's own cap to one: the single-queue form. */
    in.kernel_release = S("6.1.0");
    in.flavor_max_queues = S("1");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.driver == NULL && p.queues == 0 && p.vhost_memory == 0);
    in.rx_queue_size = 512;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK_STREQ(p.driver, "vhost");
    CHECK(p.queues == 0 && p.rx_queue_size == 512);
    CHECK(p.vhost_memory == NMQ_VHOST_BYTES_PER_QUEUE);
    /* A port-enabled NIC at one queue is never in Nova's enabled form. */
    in = guest(4);
    in.libvirt_max_queues = 1;
    nic.mq_queues = S("4");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.driver == NULL && p.queues == 0);
    CHECK(HAS(p, NMQ_REASON_CAP_HOST_OPTION));
}

/* ---- booleans, conflicts, errors --------------------------------------- */

static void
check_bool(const char *text, int want)
{
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.flavor_mq_enabled = str(text);
    if (want < 0) {
        CHECK(plan1(&in, nic, &p, &err) == -1);
        CHECK(err.code == NMQ_ERR_INVALID_VALUE);
        CHECK_STREQ(err.key, "hw:vif_multiqueue_enabled");
        return;
    }
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == (want ? 4 : 0));
    CHECK(
        HAS(p, want ? NMQ_REASON_ENABLED_FLAVOR : NMQ_REASON_DISABLED_FLAVOR));
}

static void
test_bools(void)
{
    static const char *const yes[] = {
        "1",         "t",   "T",      "true",     "TRUE",
        "True",      "on",  "ON",     "y",        "Y",
        "yes",       "YeS", " true ", "\ttrue\n", "\xc2\xa0yes\xe3\x80\x80",
        "\x1con\x1f"};
    static const char *const no[] = {"0",
                                     "f",
                                     "false",
                                     "FALSE",
                                     "off",
                                     "Off",
                                     "n",
                                     "no",
                                     "NO",
                                     " no\r\n",
                                     ("\xe2\x80\x8a"
                                      "0")};
    static const char *const bad[] = {"maybe",
                                      "",
                                      " ",
                                      "2",
                                      "yess",
                                      "tru",
                                      "true false",
                                      ("\xc2"
                                       "true"),
                                      "enabled",
                                      "-1",
                                      "+1",
                                      "none"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        check_bool(yes[i], 1);
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        check_bool(no[i], 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_bool(bad[i], -1);
}

static void
check_error(NmqGuestIn *in, NmqNicIn *nics, size_t n, NmqErrorCode code,
            const char *key, const char *value, const char *msg)
{
    NmqNicPlan out[MAXN];
    NmqGuestPlan tot;
    NmqError err;

    CHECK(plan(in, nics, n, out, &tot, &err) == -1);
    CHECK(err.code == code);
    CHECK_STREQ(err.key, key);
    if (msg != NULL)
        CHECK_STREQ(err.msg, msg);
    CHECK(strstr(err.msg, key) != NULL || code != NMQ_ERR_INVALID_VALUE);
    if (value != NULL) {
        CHECK_STREQ(err.value, value);
        CHECK(strstr(err.msg, value) != NULL || code == NMQ_ERR_CONFLICT);
    }
    /* No partial plan. */
    CHECK(all_zero(out, n * sizeof(out[0])));
    CHECK(all_zero(&tot, sizeof(tot)));
}

static void
test_conflicts(void)
{
    NmqGuestIn in = guest(2);
    NmqNicIn nics[3] = {virtio_nic(), virtio_nic(), virtio_nic()};
    NmqNicPlan out[3];
    NmqGuestPlan tot;
    NmqError err;

    in.flavor_mq_enabled = S("yes");
    in.image_mq_enabled = S("False");
    check_error(&in, nics, 1, NMQ_ERR_CONFLICT, "hw:vif_multiqueue_enabled",
                "yes",
                "Flavor m1 has hw:vif_multiqueue_enabled extra spec "
                "explicitly set to True, conflicting with image img which "
                "has hw_vif_multiqueue_enabled explicitly set to False.");
    CHECK(plan(&in, nics, 1, out, &tot, &err) == -1);
    CHECK_STREQ(err.extra1, "True");
    CHECK_STREQ(err.extra2, "False");
    in.flavor_name = NONE;
    in.image_name = S("a \"quoted\\\" name");
    check_error(&in, nics, 1, NMQ_ERR_CONFLICT, "hw:vif_multiqueue_enabled",
                "yes",
                "Flavor None has hw:vif_multiqueue_enabled extra spec "
                "explicitly set to True, conflicting with image a \"quoted\\\""
                " name which has hw_vif_multiqueue_enabled explicitly set to "
                "False.");
    /* No NIC reaches Nova's multiqueue settings: no conflict, as Nova. */
    nics[0].model = S("e1000");
    nics[1].vnic_type = S("direct");
    CHECK(plan(&in, nics, 2, out, &tot, &err) == 0);
    CHECK(plan(&in, nics, 0, out, &tot, &err) == 0);
    in.virt_type = S("qemu");
    CHECK(plan(&in, nics + 2, 1, out, &tot, &err) == 0);
    /* Nova's order: NIC 0's bad model comes before NIC 2's conflict. */
    in.virt_type = S("parallels");
    nics[0].model = S("igb");
    check_error(&in, nics, 3, NMQ_ERR_UNSUPPORTED_HARDWARE, "model", "igb",
                "Requested hardware 'igb' is not supported by the "
                "'parallels' virt driver");
    nics[0].model = S("virtio");
    nics[2].model = S("igb");
    check_error(&in, nics, 3, NMQ_ERR_CONFLICT, "hw:vif_multiqueue_enabled",
                "yes", NULL);
    /* One vCPU: Nova returns before looking. */
    in.vcpus = 1;
    nics[2].model = S("virtio");
    CHECK(plan(&in, nics, 3, out, &tot, &err) == 0);
}

static void
test_packed(void)
{
    NmqGuestIn in = guest(1);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.packed == 0);
    in.image_packed = S("True");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.packed == 1);
    in.flavor_packed = S("true");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.packed == 1);
    /* Conflict even at one vCPU and for a passthrough NIC (Nova computes
     * packed first of all). */
    in.flavor_packed = S("off");
    nic.vnic_type = S("vdpa");
    check_error(&in, &nic, 1, NMQ_ERR_CONFLICT, "hw:virtio_packed_ring", "off",
                "Flavor has hw:virtio_packed_ring extra spec "
                "explicitly set to False, conflicting with image which has "
                "hw_virtio_packed_ring explicitly set to True.");
    in.flavor_packed = S("maybe");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "hw:virtio_packed_ring",
                "maybe", NULL);
    in.flavor_packed = S("true");
    in.image_packed = S("sometimes");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "hw_virtio_packed_ring",
                "sometimes", NULL);
    /* A Nova without packed rings: -1, values unread, no conflict. */
    in.packed_supported = 0;
    in.flavor_packed = S("off");
    in.image_packed = S("sometimes");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.packed == -1);
    /* No NIC, no conflict. */
    in.packed_supported = 1;
    in.image_packed = S("on");
    CHECK(plan(&in, &nic, 0, &p, &(NmqGuestPlan){0}, &err) == 0);
}

static void
test_guest_errors(void)
{
    NmqGuestIn in;
    NmqNicIn nic = virtio_nic();
    const char *size_msg = "Invalid value '100' for rx_queue_size: must be "
                           "256, 512 or 1024";

    in = guest(0);
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "vcpus", "0", NULL);
    in = guest(-3);
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "vcpus", "-3", NULL);
    in = guest(2147483648L);
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "vcpus", "2147483648",
                NULL);
    in = guest(4);
    in.rx_queue_size = 100;
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "rx_queue_size", "100",
                size_msg);
    in = guest(4);
    in.tx_queue_size = 2048;
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "tx_queue_size", "2048",
                NULL);
    in = guest(4);
    in.msi_vector_budget = -1;
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "msi_vector_budget", "-1",
                NULL);
    in = guest(4);
    in.reserved_msi_vectors = -5;
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "reserved_msi_vectors",
                "-5", NULL);
    in = guest(4);
    in.libvirt_max_queues = -2;
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "max_queues", "-2", NULL);
    in = guest(4);
    in.image_mq_enabled = S("maybe");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE,
                "hw_vif_multiqueue_enabled", "maybe",
                "Invalid value 'maybe' for hw_vif_multiqueue_enabled: must "
                "be a boolean (true/false, yes/no, on/off, 1/0, t/f, y/n)");
}

static void
check_flavor_error(const char *fieldname, const char *text, const char *key)
{
    NmqGuestIn in = guest(1); /* validated although unused */
    NmqNicIn nic = virtio_nic();

    nic.model = S("e1000");
    if (strcmp(fieldname, "tp") == 0)
        in.flavor_throughput = str(text);
    else if (strcmp(fieldname, "max") == 0)
        in.flavor_max_queues = str(text);
    else
        in.flavor_msi_budget = str(text);
    in.flavor_mq_enabled = S("false");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, key, text, NULL);
}

static void
test_flavor_errors(void)
{
    static const char *const max_bad[] = {
        "x", "0", "257", "-1", "4.5", "", "99999999999999999999999"};
    static const char *const budget_bad[] = {"2",    "0",   "-10",
                                             "lots", "3.5", ""};
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;
    size_t i;

    check_flavor_error("tp", "fast", "mq:throughput");
    check_flavor_error("tp", "HIGH", "mq:throughput");
    check_flavor_error("tp", "", "mq:throughput");
    for (i = 0; i < sizeof(max_bad) / sizeof(max_bad[0]); i++)
        check_flavor_error("max", max_bad[i], "mq:max_queues");
    for (i = 0; i < sizeof(budget_bad) / sizeof(budget_bad[0]); i++)
        check_flavor_error("budget", budget_bad[i], "mq:msi_vector_budget");
    {
        NmqGuestIn g = guest(4);

        g.flavor_max_queues = S("300");
        check_error(&g, &nic, 1, NMQ_ERR_INVALID_VALUE, "mq:max_queues", "300",
                    "Invalid value '300' for mq:max_queues: must be "
                    "an integer from 1 to 256");
    }
    /* The good edges. */
    in.flavor_max_queues = S("256");
    in.flavor_msi_budget = S("3");
    in.flavor_throughput = S("low");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    in.flavor_max_queues = S("1");
    CHECK(plan1(&in, nic, &p, &err) == 0);
}

static void
check_port_error(const char *queues, const char *tp, long fixed,
                 const char *key, const char *value, const char *msg)
{
    NmqGuestIn in = guest(1);
    NmqNicIn nics[3] = {virtio_nic(), virtio_nic(), virtio_nic()};

    nics[2].mq_queues = str(queues);
    nics[2].mq_throughput = str(tp);
    nics[2].fixed_queues = fixed;
    in.flavor_mq_enabled = S("false");
    check_error(&in, nics, 3, NMQ_ERR_INVALID_VALUE, key, value, msg);
}

static void
test_port_errors(void)
{
    static const char *const bad[] = {
        "0", "-3",  "four", "300", "4.5",
        "",  "257", "0x10", "1e2", "99999999999999999999999999"};
    NmqGuestIn in;
    NmqNicIn nics[2] = {virtio_nic(), virtio_nic()};
    size_t i;

    check_port_error("300", NULL, 0, "nics[2].mq_queues", "300",
                     "Invalid value '300' for nics[2].mq_queues: must be an "
                     "integer from 1 to 256");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_port_error(bad[i], NULL, 0, "nics[2].mq_queues", bad[i], NULL);
    check_port_error(NULL, "fast", 0, "nics[2].mq_throughput", "fast",
                     "Invalid value 'fast' for nics[2].mq_throughput: must "
                     "be high, medium or low");
    check_port_error("4", "high", 0, "nics[2].mq_queues", "4", NULL);
    check_port_error(NULL, NULL, -1, "nics[2].fixed_queues", "-1", NULL);
    check_port_error(NULL, NULL, 257, "nics[2].fixed_queues", "257", NULL);
    /* Ports come before Nova's checks; the first bad port wins. */
    in = guest(4);
    in.flavor_mq_enabled = S("true");
    in.image_mq_enabled = S("false");
    nics[1].mq_queues = S("0");
    check_error(&in, nics, 2, NMQ_ERR_INVALID_VALUE, "nics[1].mq_queues", "0",
                NULL);
    nics[0].mq_throughput = S("slow");
    check_error(&in, nics, 2, NMQ_ERR_INVALID_VALUE, "nics[0].mq_throughput",
                "slow", NULL);
    /* A NIC that cannot be multiqueue cannot run several queues. */
    in = guest(4);
    nics[0] = virtio_nic();
    nics[1] = virtio_nic();
    nics[1].model = S("e1000");
    nics[1].fixed_queues = 2;
    check_error(&in, nics, 2, NMQ_ERR_INVALID_VALUE, "nics[1].fixed_queues",
                "2", NULL);
    /* Long values are cut with "..." and control bytes escaped. */
    {
        char big[400];

        memset(big, '7', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        check_port_error(big, NULL, 0, "nics[2].mq_queues", NULL, NULL);
    }
}

static void
test_kernel_release(void)
{
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;

    in.kernel_release = S("linux");
    CHECK(plan1(&in, nic, &p, &err) == 0); /* not needed: no error */
    nic.mq_queues = S("2");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "kernel_release", "linux",
                NULL);
    in.kernel_release = NONE;
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "kernel_release", "None",
                NULL);
    in.kernel_release = S(".1");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "kernel_release", ".1",
                NULL);
    in.libvirt_max_queues = 2; /* the option means no kernel read */
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 2);
    in.libvirt_max_queues = 0;
    in.kernel_release = S("5");
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 2);
    in.kernel_release = S("3");
    nic.mq_queues = S("16");
    in.vcpus = 16;
    CHECK(plan1(&in, nic, &p, &err) == 0);
    CHECK(p.queues == 8);
    /* Nova enables: it would read the release too. */
    nic.mq_queues = NONE;
    in.flavor_mq_enabled = S("true");
    in.kernel_release = S("x.y");
    check_error(&in, &nic, 1, NMQ_ERR_INVALID_VALUE, "kernel_release", "x.y",
                NULL);
}

/* nmq_policy_tap_cap(max_queues, kernel) gives want_cap, want_reason. */
static void
check_tap_cap(long maxq, const char *kernel, long want_cap,
              NmqReason want_reason)
{
    long cap = -1;
    NmqReason reason = NMQ_REASON__COUNT;
    NmqError err;

    CHECK(nmq_policy_tap_cap(maxq, str(kernel), &cap, &reason, &err) == 0);
    CHECK(cap == want_cap);
    CHECK(reason == want_reason);
}

/* The host tap cap on its own, and that plan() applies exactly it. */
static void
test_tap_cap(void)
{
    static const char *const kernels[] = {"0.1",    "1",   "2.6.32",   "3.10.0",
                                          "4.19.0", "5.4", "6.1.0-18", "7"};
    static const long maxqs[] = {0, 1, 4, 300};
    static const long vcpus[] = {1, 8, 300};
    NmqReason k = NMQ_REASON_CAP_KERNEL;
    NmqReason h = NMQ_REASON_CAP_HOST_OPTION;
    long cap = 0;
    NmqReason reason;
    NmqError err;
    size_t a;
    size_t b;
    size_t c;

    check_tap_cap(0, "2.6.32", 1, k);
    check_tap_cap(0, "3.10.0-1160.el7.x86_64", 8, k);
    check_tap_cap(0, "4.19.0", 256, k);
    check_tap_cap(0, "6.1.0-18-amd64", 256, k);
    check_tap_cap(0, " 5 ", 256, k);
    check_tap_cap(4, "2.6.32", 4, h);
    check_tap_cap(4, "linux", 4, h); /* the option: no kernel read */
    check_tap_cap(256, NULL, 256, h);
    check_tap_cap(300, "3.10", 256, k); /* the tun limit */
    CHECK(nmq_policy_tap_cap(0, S("linux"), &cap, &reason, &err) < 0);
    CHECK(err.code == NMQ_ERR_INVALID_VALUE);
    CHECK_STREQ(err.key, "kernel_release");
    CHECK_STREQ(err.value, "linux");
    CHECK(nmq_policy_tap_cap(0, NONE, &cap, &reason, &err) < 0);
    CHECK_STREQ(err.value, "None");
    CHECK(nmq_policy_tap_cap(-1, S("6.1"), &cap, &reason, &err) < 0);
    CHECK_STREQ(err.key, "max_queues");
    CHECK_STREQ(err.value, "-1");
    for (a = 0; a < sizeof(kernels) / sizeof(kernels[0]); a++) {
        for (b = 0; b < sizeof(maxqs) / sizeof(maxqs[0]); b++) {
            for (c = 0; c < sizeof(vcpus) / sizeof(vcpus[0]); c++) {
                NmqGuestIn in = guest(vcpus[c]);
                NmqNicIn nic = virtio_nic();
                NmqNicPlan p;
                long want;

                in.flavor_mq_enabled = S("true");
                in.kernel_release = str(kernels[a]);
                in.libvirt_max_queues = maxqs[b];
                in.msi_vector_budget = 100000;
                CHECK(nmq_policy_tap_cap(maxqs[b], in.kernel_release, &cap,
                                         &reason, &err) == 0);
                CHECK(plan1(&in, nic, &p, &err) == 0);
                want = vcpus[c] < cap ? vcpus[c] : cap;
                CHECK((p.queues ? p.queues : 1) == want);
                if (vcpus[c] > 1 && cap < vcpus[c])
                    CHECK(HAS(p, reason));
            }
        }
    }
}

/* The boolean grammar, as the plan reads it. */
static void
test_bool_words(void)
{
    NmqGuestIn in = guest(4);
    NmqNicIn nic = virtio_nic();
    NmqNicPlan p;
    NmqError err;
    NmqStr w;
    size_t i;

    CHECK(nmq_str_eq(nmq_policy_bool_word(1, 0), "1"));
    CHECK(nmq_str_eq(nmq_policy_bool_word(1, 5), "yes"));
    CHECK(nmq_str_eq(nmq_policy_bool_word(0, 2), "false"));
    CHECK(nmq_policy_bool_word(1, 6).s == NULL);
    CHECK(nmq_policy_bool_word(0, 6).s == NULL);
    for (i = 0; (w = nmq_policy_bool_word(1, i)).s != NULL; i++) {
        in.flavor_mq_enabled = w;
        CHECK(plan1(&in, nic, &p, &err) == 0);
        CHECK(HAS(p, NMQ_REASON_ENABLED_FLAVOR));
    }
    for (i = 0; (w = nmq_policy_bool_word(0, i)).s != NULL; i++) {
        in.flavor_mq_enabled = w;
        CHECK(plan1(&in, nic, &p, &err) == 0);
        CHECK(HAS(p, NMQ_REASON_DISABLED_FLAVOR));
    }
}

/* ---- sizes, vhost memory ------------------------------------------------ */

static void
test_sizes_and_memory(void)
{
    NmqGuestIn in = guest(4);
    NmqNicIn nics[6];
    NmqNicPlan out[6];
    NmqGuestPlan tot;
    NmqError err;
    int i;

    for (i = 0; i < 6; i++)
        nics[i] = virtio_nic();
    in.flavor_mq_enabled = S("true");
    in.rx_queue_size = 512;
    in.tx_queue_size = 1024;
    nics[1].vif_type = S("vhostuser");
    nics[2].vnic_type = S("virtio-forwarder");
    nics[3].vnic_type = S("vdpa");
    nics[4].model = S("e1000");
    nics[5].mq_throughput = S("low");
    CHECK(plan(&in, nics, 6, out, &tot, &err) == 0);
    CHECK(out[0].tx_queue_size == 0);
    CHECK(out[0].vhost_memory == 4 * NMQ_VHOST_BYTES_PER_QUEUE);
    CHECK(out[1].tx_queue_size == 1024 && out[1].vhost_memory == 0);
    CHECK_STREQ(out[1].driver, "vhost");
    CHECK(out[1].queues == 4);
    CHECK(out[2].tx_queue_size == 1024 && out[2].vhost_memory == 0);
    CHECK(out[3].tx_queue_size == 1024 && out[3].rx_queue_size == 0);
    CHECK(out[3].vhost_memory == 0 && out[3].msi_vectors == 0);
    CHECK(out[4].tx_queue_size == 0 && out[4].vhost_memory == 0);
    CHECK_STREQ(out[5].driver, "vhost"); /* rx set */
    CHECK(out[5].queues == 0 && out[5].msi_vectors == 3);
    CHECK(out[5].vhost_memory == NMQ_VHOST_BYTES_PER_QUEUE);
    CHECK(tot.vhost_memory == 5 * NMQ_VHOST_BYTES_PER_QUEUE);
    CHECK(tot.msi_vectors == 10 + 10 + 10 + 0 + 0 + 3);
    CHECK(tot.msi_budget == 4096 - 128);
    CHECK(tot.warnings == 0);
    for (i = 0; i < 6; i++)
        CHECK(out[i].packed == 0);
    CHECK(nmq_policy_msi_vectors(1) == 3 && nmq_policy_msi_vectors(2) == 6);
    CHECK(nmq_policy_msi_vectors(256) == 514);
}

/* ---- the MSI budget ------------------------------------------------------ */

/*
 * The contract's loop: while over budget and some new NIC has more than
 * one queue, take one from the NIC with the most (ties: the later one).
 * q[] are the counts before the budget, virtio[] marks NICs that use
 * vectors, fixed[] NICs that keep theirs.  Returns the final total.
 */
static long
msi_ref(int *q, const int *virtio, const int *fixed, size_t n, long budget)
{
    long total = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (virtio[i])
            total += nmq_policy_msi_vectors(q[i]);
    }
    while (total > budget) {
        size_t best = n;

        for (i = 0; i < n; i++) {
            if (virtio[i] && !fixed[i] && q[i] > 1 &&
                (best == n || q[i] >= q[best]))
                best = i;
        }
        if (best == n)
            break;
        total -= nmq_policy_msi_vectors(q[best]);
        q[best]--;
        total += nmq_policy_msi_vectors(q[best]);
    }
    return total;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
    /* xorshift64*: a fixed seed, so a failure can be replayed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static char qtext[MAXN][8];

/* A random NIC i: mostly multiqueue virtio, some of everything else. */
static void
random_nic(NmqNicIn *nic, size_t i, long vcpus)
{
    static const char *const tps[] = {"high", "medium", "low"};
    uint32_t r = rng() % 20;

    *nic = virtio_nic();
    if (r == 0)
        nic->model = S("e1000");
    else if (r == 1)
        nic->vnic_type = S("direct");
    else if (r == 2)
        nic->fixed_queues =
            1 + (long)(rng() % (uint32_t)(vcpus < 256 ? vcpus : 256));
    else if (r == 3)
        nic->mq_throughput = str(tps[rng() % 3]);
    else if (r == 4)
        nic->vif_type = S("vhostuser");
    else if (r != 5) {
        snprintf(qtext[i], sizeof(qtext[i]), "%u", 1 + rng() % 256);
        nic->mq_queues = str(qtext[i]);
    }
}

static int
msi_case(size_t n, long vcpus, long budget)
{
    NmqNicIn nics[MAXN];
    NmqNicPlan free_[MAXN], out[MAXN];
    NmqGuestPlan tot;
    NmqError err;
    NmqGuestIn in = guest(vcpus);
    int q[MAXN], virtio[MAXN], fixed[MAXN];
    long total;
    size_t i;
    int ok = 1;

    for (i = 0; i < n; i++)
        random_nic(&nics[i], i, vcpus);
    in.reserved_msi_vectors = rng() % 2 ? 0 : 100;
    if (rng() % 4 == 0)
        in.flavor_mq_enabled = S("true");
    in.msi_vector_budget = 1L << 40; /* first: the counts before */
    if (plan(&in, nics, n, free_, &tot, &err) != 0)
        return 0;
    for (i = 0; i < n; i++) {
        q[i] = free_[i].queues ? free_[i].queues : 1;
        virtio[i] = free_[i].msi_vectors != 0;
        fixed[i] = nics[i].fixed_queues > 0;
    }
    in.msi_vector_budget = budget;
    total = msi_ref(q, virtio, fixed, n, budget - in.reserved_msi_vectors);
    if (plan(&in, nics, n, out, &tot, &err) != 0)
        return 0;
    for (i = 0; i < n; i++) {
        int got = out[i].queues ? out[i].queues : 1;
        int cut = got < (free_[i].queues ? free_[i].queues : 1);

        ok &= got == q[i];
        ok &= HAS(out[i], NMQ_REASON_MSI_BUDGET) == cut;
        ok &=
            out[i].msi_vectors == (virtio[i] ? nmq_policy_msi_vectors(got) : 0);
    }
    ok &= tot.msi_vectors == total;
    ok &= tot.msi_budget == budget - in.reserved_msi_vectors;
    ok &= ((tot.warnings & (1UL << NMQ_WARN_MSI_OVER_BUDGET)) != 0) ==
          (total > tot.msi_budget);
    return ok;
}

static void
test_msi_random(void)
{
    int bad = 0;
    int k;

    for (k = 0; k < 5000; k++) {
        size_t n = 1 + rng() % (k % 10 == 0 ? MAXN : 12);
        long vcpus = 1 + (long)(rng() % 300);
        long budget = (long)(rng() % (n * 600 + 200));

        if (!msi_case(n, vcpus, budget) && bad++ < 5)
            fprintf(stderr,
                    "msi: case %d (n=%zu vcpus=%ld budget=%ld) "
                    "differs from the loop\n",
                    k, n, vcpus, budget);
    }
    CHECK(bad == 0);
}

/* The contract's example: 100 vCPUs, 20 multiqueue NICs. */
static void
test_msi_big_guest(void)
{
    NmqGuestIn in = guest(100);
    NmqNicIn nics[20];
    NmqNicPlan out[20];
    NmqGuestPlan tot;
    NmqError err;
    int i;

    in.flavor_mq_enabled = S("true");
    for (i = 0; i < 20; i++)
        nics[i] = virtio_nic();
    CHECK(plan(&in, nics, 20, out, &tot, &err) == 0);
    /*
     * 20 * (2 * 100 + 2) = 4040 > 3968.  At 99 queues 4000, at 98 3960:
     * all go to 99, then the 16 latest to 98 (32 vectors, 2 a queue).
     */
    CHECK(tot.msi_vectors <= 4096 - 128);
    CHECK(tot.msi_vectors == 4 * 200 + 16 * 198);
    CHECK(tot.warnings == 0);
    for (i = 0; i < 20; i++) {
        CHECK(out[i].queues == (i < 4 ? 99 : 98));
        CHECK(HAS(out[i], NMQ_REASON_MSI_BUDGET));
        CHECK(out[i].requested == 100);
    }
}

static void
test_msi_fixed_and_warning(void)
{
    NmqGuestIn in = guest(16);
    NmqNicIn nics[4];
    NmqNicPlan out[4];
    NmqGuestPlan tot;
    NmqError err;
    int i;

    in.flavor_mq_enabled = S("true");
    in.reserved_msi_vectors = 0;
    for (i = 0; i < 4; i++)
        nics[i] = virtio_nic();
    nics[0].fixed_queues = 16; /* 34 vectors, spent first */
    nics[3].fixed_queues = 1;  /* 3 */
    in.msi_vector_budget = 34 + 3 + 10 + 8;
    CHECK(plan(&in, nics, 4, out, &tot, &err) == 0);
    CHECK(out[0].queues == 16 && out[0].requested == 16);
    CHECK_STREQ(reasons(&out[0]), "kept-running-queues");
    CHECK(out[3].queues == 0 && out[3].driver == NULL);
    CHECK_STREQ(reasons(&out[3]), "kept-running-queues");
    CHECK(out[1].queues == 4 && out[2].queues == 3);
    CHECK(tot.msi_vectors == 55 && tot.warnings == 0);
    /* Over budget even at one queue: all at one, a warning, no error. */
    in.msi_vector_budget = 40;
    CHECK(plan(&in, nics, 4, out, &tot, &err) == 0);
    CHECK(out[0].queues == 16);
    CHECK(out[1].queues == 0 && out[2].queues == 0);
    CHECK(out[1].driver == NULL && !out[1].multiqueue);
    CHECK(HAS(out[1], NMQ_REASON_MSI_BUDGET));
    CHECK(tot.msi_vectors == 34 + 3 + 3 + 3);
    CHECK(tot.warnings == (1UL << NMQ_WARN_MSI_OVER_BUDGET));
    CHECK_STREQ(nmq_warning_str(NMQ_WARN_MSI_OVER_BUDGET),
                "msi-budget-exceeded-at-one-queue");
    /* The flavor's budget overrides the option. */
    in.msi_vector_budget = 40;
    in.flavor_msi_budget = S("100000");
    CHECK(plan(&in, nics, 4, out, &tot, &err) == 0);
    CHECK(out[1].queues == 16 && tot.msi_budget == 100000);
    /* Reserved above the budget: a negative budget, a warning. */
    in.flavor_msi_budget = NONE;
    in.reserved_msi_vectors = 50;
    CHECK(plan(&in, nics, 4, out, &tot, &err) == 0);
    CHECK(tot.msi_budget == -10 && tot.warnings != 0);
    /* Found by fuzz_policy: a reserve near LONG_MAX must not overflow. */
    in.msi_vector_budget = 0;
    in.reserved_msi_vectors = 9223372036854775000L;
    CHECK(plan(&in, nics, 4, out, &tot, &err) == 0);
    CHECK(tot.msi_budget == -9223372036854775000L);
    CHECK(out[1].queues == 0 && tot.warnings != 0);
    /* A fixed NIC keeps its queues even when multiqueue is now off. */
    in = guest(8);
    in.image_mq_enabled = S("False");
    nics[0].fixed_queues = 4;
    CHECK(plan(&in, nics, 1, out, &tot, &err) == 0);
    CHECK_STREQ(out[0].driver, "vhost");
    CHECK(out[0].queues == 4);
}

/* n NICs with no knob and no NIC at all. */
static void
test_edges(void)
{
    NmqGuestIn in = guest(4);
    NmqGuestPlan tot;
    NmqError err;

    in.nics = NULL;
    in.n_nics = 0;
    memset(&tot, 0xab, sizeof(tot));
    CHECK(nmq_policy_plan(&in, NULL, &tot, &err) == 0);
    CHECK(tot.msi_vectors == 0 && tot.vhost_memory == 0 && !tot.warnings);
    CHECK(tot.msi_budget == 3968);
    in.vcpus = 0;
    CHECK(nmq_policy_plan(&in, NULL, &tot, &err) == -1);
    CHECK(all_zero(&tot, sizeof(tot)));
}

int
main(void)
{
    test_parity();
    test_vif_models();
    test_enablement();
    test_not_eligible();
    test_counts();
    test_caps();
    test_tun_limit();
    test_nova_form();
    test_bools();
    test_conflicts();
    test_packed();
    test_guest_errors();
    test_flavor_errors();
    test_port_errors();
    test_kernel_release();
    test_tap_cap();
    test_bool_words();
    test_sizes_and_memory();
    test_msi_random();
    test_msi_big_guest();
    test_msi_fixed_and_warning();
    test_edges();
    return CHECK_DONE("test_policy");
}
