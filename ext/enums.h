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
 * enums.h: one table per enumeration, string <-> value both ways
 * (libvirt's VIR_ENUM_IMPL).  Each X-macro list below is the only place a
 * value is named; the enum and its string table are both generated from it.
 */
#ifndef NMQ_ENUMS_H
#define NMQ_ENUMS_H

#include "nmq.h"

/* Nova's network_model.VNIC_TYPE_* */
#define NMQ_VNIC_TYPES(X)                                                      \
    X(NMQ_VNIC_NORMAL, "normal")                                               \
    X(NMQ_VNIC_DIRECT, "direct")                                               \
    X(NMQ_VNIC_MACVTAP, "macvtap")                                             \
    X(NMQ_VNIC_DIRECT_PHYSICAL, "direct-physical")                             \
    X(NMQ_VNIC_BAREMETAL, "baremetal")                                         \
    X(NMQ_VNIC_VIRTIO_FORWARDER, "virtio-forwarder")                           \
    X(NMQ_VNIC_VDPA, "vdpa")                                                   \
    X(NMQ_VNIC_ACCELERATOR_DIRECT, "accelerator-direct")                       \
    X(NMQ_VNIC_ACCELERATOR_DIRECT_PHYSICAL, "accelerator-direct-physical")     \
    X(NMQ_VNIC_REMOTE_MANAGED, "remote-managed")

/* libvirt virt types Nova knows (SUPPORTED_VIF_MODELS keys). */
#define NMQ_VIRT_TYPES(X)                                                      \
    X(NMQ_VIRT_QEMU, "qemu")                                                   \
    X(NMQ_VIRT_KVM, "kvm")                                                     \
    X(NMQ_VIRT_LXC, "lxc")                                                     \
    X(NMQ_VIRT_PARALLELS, "parallels")

/* Nova's network_model.VIF_MODEL_ALL (newest Nova): the models a plan
 * names (NmqNicPlan.model). */
#define NMQ_MODELS(X)                                                          \
    X(NMQ_MODEL_VIRTIO, "virtio")                                              \
    X(NMQ_MODEL_NE2K_PCI, "ne2k_pci")                                          \
    X(NMQ_MODEL_PCNET, "pcnet")                                                \
    X(NMQ_MODEL_RTL8139, "rtl8139")                                            \
    X(NMQ_MODEL_E1000, "e1000")                                                \
    X(NMQ_MODEL_E1000E, "e1000e")                                              \
    X(NMQ_MODEL_NETFRONT, "netfront")                                          \
    X(NMQ_MODEL_SPAPR_VLAN, "spapr-vlan")                                      \
    X(NMQ_MODEL_LAN9118, "lan9118")                                            \
    X(NMQ_MODEL_SRIOV, "sriov")                                                \
    X(NMQ_MODEL_VMXNET, "vmxnet")                                              \
    X(NMQ_MODEL_VMXNET3, "vmxnet3")                                            \
    X(NMQ_MODEL_IGB, "igb")

/* The frontend driver names a plan writes (NmqNicPlan.driver). */
#define NMQ_DRIVERS(X)                                                         \
    X(NMQ_DRIVER_VHOST, "vhost")                                               \
    X(NMQ_DRIVER_QEMU, "qemu")

/* The throughput classes of the seed's alternative: 100% / 50% / 1. */
#define NMQ_THROUGHPUTS(X)                                                     \
    X(NMQ_THROUGHPUT_HIGH, "high")                                             \
    X(NMQ_THROUGHPUT_MEDIUM, "medium")                                         \
    X(NMQ_THROUGHPUT_LOW, "low")

/*
 * Why a NIC got what it got.  The string is what plan_guest reports; the
 * list order is the order reasons are reported in.
 */
#define NMQ_REASONS(X)                                                         \
    X(NMQ_REASON_SINGLE_VCPU, "single-vcpu")                                   \
    X(NMQ_REASON_PASSTHROUGH, "passthrough-vnic")                              \
    X(NMQ_REASON_NOT_VIRTIO, "model-not-virtio")                               \
    X(NMQ_REASON_VIRT_TYPE, "virt-type-without-vhost")                         \
    X(NMQ_REASON_DISABLED_FLAVOR, "disabled-by-flavor")                        \
    X(NMQ_REASON_DISABLED_IMAGE, "disabled-by-image")                          \
    X(NMQ_REASON_KNOBS_IGNORED, "port-knobs-ignored")                          \
    X(NMQ_REASON_NOT_REQUESTED, "not-requested")                               \
    X(NMQ_REASON_ENABLED_FLAVOR, "enabled-by-flavor")                          \
    X(NMQ_REASON_ENABLED_IMAGE, "enabled-by-image")                            \
    X(NMQ_REASON_ENABLED_PORT, "enabled-by-port")                              \
    X(NMQ_REASON_PORT_QUEUES, "port-queues")                                   \
    X(NMQ_REASON_THROUGHPUT_PORT, "throughput-from-port")                      \
    X(NMQ_REASON_THROUGHPUT_FLAVOR, "throughput-from-flavor")                  \
    X(NMQ_REASON_THROUGHPUT_DEFAULT, "throughput-default")                     \
    X(NMQ_REASON_CAP_VCPUS, "capped-by-vcpus")                                 \
    X(NMQ_REASON_CAP_FLAVOR, "capped-by-flavor-max-queues")                    \
    X(NMQ_REASON_CAP_HOST_OPTION, "capped-by-libvirt-max-queues")              \
    X(NMQ_REASON_CAP_KERNEL, "capped-by-host-kernel")                          \
    X(NMQ_REASON_MSI_BUDGET, "reduced-for-msi-budget")                         \
    X(NMQ_REASON_FIXED, "kept-running-queues")

/* Guest-wide warnings. */
#define NMQ_WARNINGS(X)                                                        \
    X(NMQ_WARN_MSI_OVER_BUDGET, "msi-budget-exceeded-at-one-queue")

#define NMQ_ENUM_MEMBER(name, str) name,

typedef enum { NMQ_VNIC_TYPES(NMQ_ENUM_MEMBER) NMQ_VNIC__COUNT } NmqVnicType;
typedef enum { NMQ_VIRT_TYPES(NMQ_ENUM_MEMBER) NMQ_VIRT__COUNT } NmqVirtType;
typedef enum { NMQ_MODELS(NMQ_ENUM_MEMBER) NMQ_MODEL__COUNT } NmqModel;
typedef enum { NMQ_DRIVERS(NMQ_ENUM_MEMBER) NMQ_DRIVER__COUNT } NmqDriver;
typedef enum {
    NMQ_THROUGHPUTS(NMQ_ENUM_MEMBER) NMQ_THROUGHPUT__COUNT
} NmqThroughput;
typedef enum { NMQ_REASONS(NMQ_ENUM_MEMBER) NMQ_REASON__COUNT } NmqReason;
typedef enum { NMQ_WARNINGS(NMQ_ENUM_MEMBER) NMQ_WARN__COUNT } NmqWarning;

/*
 * value -> string: a static string, never NULL for a valid value.
 * string -> value: the value, or -1 when the string names none.
 */
const char *nmq_vnic_type_str(NmqVnicType v);
int nmq_vnic_type_parse(NmqStr s);
const char *nmq_virt_type_str(NmqVirtType v);
int nmq_virt_type_parse(NmqStr s);
const char *nmq_model_str(NmqModel v);
int nmq_model_parse(NmqStr s);
const char *nmq_driver_str(NmqDriver v);
int nmq_driver_parse(NmqStr s);
const char *nmq_throughput_str(NmqThroughput v);
int nmq_throughput_parse(NmqStr s);
const char *nmq_reason_str(NmqReason v);
int nmq_reason_parse(NmqStr s);
const char *nmq_warning_str(NmqWarning v);
int nmq_warning_parse(NmqStr s);

/* Nova's VNIC_TYPES_DIRECT_PASSTHROUGH. */
int nmq_vnic_type_is_passthrough(NmqVnicType v);

#endif /* NMQ_ENUMS_H */
