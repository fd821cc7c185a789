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
 * policy.h: the queue policy engine.  One call plans a whole guest: for
 * each NIC the frontend driver settings Nova's get_base_config() would set
 * (driver name, queues, rx queue size, packed ring), adjusted by nova-mq's
 * knobs and limits, with the MSI vectors and vhost memory it costs and the
 * reasons for each decision.  The contract is written out in doc/policy.rst.
 *
 * Every knob arrives as the raw text the operator wrote; the engine parses
 * and validates it, so every bad value is reported from one place with the
 * key and the value.
 */
#ifndef NMQ_POLICY_H
#define NMQ_POLICY_H

#include <limits.h>

#include "enums.h"
#include "nmq.h"

/* Defaults of the [nova_mq] options. */
#define NMQ_DEFAULT_MSI_VECTOR_BUDGET 4096
#define NMQ_DEFAULT_RESERVED_MSI_VECTORS 128
/* The largest queue count anything accepts: the Linux tun limit. */
#define NMQ_MAX_QUEUES 256
/* The smallest MSI-X budget (flavor or option): one single-queue NIC. */
#define NMQ_MIN_MSI_VECTOR_BUDGET 3
/* The largest flavor mq:msi_vector_budget read (nmq_str_to_long's max). */
#define NMQ_MAX_MSI_VECTOR_BUDGET LONG_MAX
/* The largest integer an option takes (msi_vector_budget,
 * reserved_msi_vectors, [libvirt]max_queues). */
#define NMQ_MAX_OPTION_VALUE (1L << 30)
/* The largest [libvirt]rx_queue_size / tx_queue_size the binding takes
 * (the policy then accepts only 256, 512 or 1024). */
#define NMQ_MAX_QUEUE_SIZE (1L << 20)
/* vhost-net kernel memory per queue pair (the seed's figure). */
#define NMQ_VHOST_BYTES_PER_QUEUE (64L * 1024L)

/* One NIC as the shim flattens it from Nova's network model. */
typedef struct {
    NmqStr vif_type;      /* vif['type'], e.g. "ovs", "vhostuser" */
    NmqStr vnic_type;     /* vif['vnic_type'], e.g. "normal" */
    NmqStr model;         /* resolved model (get_vif_model), None: absent */
    NmqStr mq_queues;     /* binding profile "mq_queues", raw text */
    NmqStr mq_throughput; /* binding profile "mq_throughput", raw text */
    /*
     * Queues of a NIC that is already running (hotplug, live migration):
     * 0 when the NIC is new.  A fixed NIC keeps this count: it is never
     * reduced and its vectors are spent before the new NICs are planned.
     */
    long fixed_queues;
} NmqNicIn;

/* The guest and the host, all plain values. */
typedef struct {
    long vcpus;
    NmqStr flavor_name; /* for the conflict message */
    NmqStr image_name;  /* for the conflict message */
    /* Flavor extra specs, raw text, NMQ_STR_NONE when not set. */
    NmqStr flavor_mq_enabled; /* hw:vif_multiqueue_enabled */
    NmqStr flavor_packed;     /* hw:virtio_packed_ring */
    NmqStr flavor_throughput; /* mq:throughput */
    NmqStr flavor_max_queues; /* mq:max_queues */
    NmqStr flavor_msi_budget; /* mq:msi_vector_budget */
    /* Image properties, as text ("True"/"False" for booleans). */
    NmqStr image_mq_enabled; /* hw_vif_multiqueue_enabled */
    NmqStr image_packed;     /* hw_virtio_packed_ring */
    NmqStr virt_type;        /* [libvirt]virt_type */
    /*
     * Models valid for virt_type (Nova's SUPPORTED_VIF_MODELS[virt_type]);
     * NULL to use the built-in table of the newest Nova.
     */
    const NmqStr *vif_models;
    size_t n_vif_models;
    NmqStr kernel_release;     /* os.uname().release */
    long libvirt_max_queues;   /* [libvirt]max_queues, 0 when unset */
    long rx_queue_size;        /* [libvirt]rx_queue_size, 0 when unset */
    long tx_queue_size;        /* [libvirt]tx_queue_size, 0 when unset */
    long msi_vector_budget;    /* [nova_mq]msi_vector_budget */
    long reserved_msi_vectors; /* [nova_mq]reserved_msi_vectors */
    int packed_supported;      /* the installed Nova knows packed rings */
    const NmqNicIn *nics;
    size_t n_nics;
} NmqGuestIn;

/* The plan for one NIC. */
typedef struct {
    const char *driver;    /* nmq_driver_str(): "vhost", "qemu"; or NULL */
    const char *model;     /* nmq_model_str() of the model Nova writes, or
                              NULL (none, or a model not in NMQ_MODELS) */
    int queues;            /* 0: no queues attribute */
    int rx_queue_size;     /* 0: none */
    int tx_queue_size;     /* 0: none (set for vhost-user and vdpa) */
    int packed;            /* -1: not supported (Zed), else 0 / 1 */
    int multiqueue;        /* queues > 1 */
    int requested;         /* queues asked for before caps and budget */
    int msi_vectors;       /* MSI-X vectors this NIC uses in the guest */
    long vhost_memory;     /* bytes of vhost-net kernel memory */
    unsigned long reasons; /* bit (1UL << NmqReason) per reason */
} NmqNicPlan;

/* Totals for the guest. */
typedef struct {
    long msi_vectors;       /* all NICs */
    long msi_budget;        /* what the NICs may use: budget - reserved */
    long vhost_memory;      /* bytes, all NICs */
    unsigned long warnings; /* bit (1UL << NmqWarning) per warning */
} NmqGuestPlan;

/*
 * Plan the guest.  out must have room for in->n_nics entries.
 *
 * Returns 0, or -1 with err filled (a bad knob value, a flavor/image
 * conflict, an unsupported model or virt type, vcpus < 1).  On failure out
 * and totals hold nothing the caller may use: there is no partial plan.
 * Runs in O(n log n) for n NICs and allocates nothing.
 */
int nmq_policy_plan(const NmqGuestIn *in, NmqNicPlan *out, NmqGuestPlan *totals,
                    NmqError *err);

/* MSI-X vectors a virtio NIC with q queue pairs uses: 2q+2, or 3 for one. */
int nmq_policy_msi_vectors(int queues);

/*
 * The host tap queue cap, as the plan applies it: [libvirt]max_queues when
 * > 0 (NMQ_REASON_CAP_HOST_OPTION), else by the kernel's major version
 * (the integer before the first '.' of kernel_release): <= 2: 1, 3: 8,
 * 4: 256, later: no kernel cap (NMQ_REASON_CAP_KERNEL); never above
 * NMQ_MAX_QUEUES (NMQ_REASON_CAP_KERNEL when that is what binds).
 *
 * Returns 0 with *cap (1..NMQ_MAX_QUEUES) and *reason set, or -1 with err
 * filled: max_queues < 0, or no max_queues and a kernel release whose
 * major version does not parse (the error plan() reports).
 */
int nmq_policy_tap_cap(long max_queues, NmqStr kernel_release, long *cap,
                       NmqReason *reason, NmqError *err);

/*
 * The boolean grammar (oslo's strutils.bool_from_string, after strip and
 * lower): word i (0, 1, ...) of the true (truth != 0) or false words, or
 * NMQ_STR_NONE past the last.
 */
NmqStr nmq_policy_bool_word(int truth, size_t i);

#endif /* NMQ_POLICY_H */
