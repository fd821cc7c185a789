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
 * enums.c: the string tables generated from the X-macro lists in enums.h.
 */
#include "enums.h"

#include <string.h>

/* Each name with its length (sizeof of the literal), so a lookup compares
 * lengths before bytes and never calls strlen. */
typedef struct {
    const char *s;
    size_t len;
} NmqEnumName;

#define NMQ_ENUM_NAME(name, str) {str, sizeof(str) - 1},

static const NmqEnumName nmq_vnic_type_names[] = {
    NMQ_VNIC_TYPES(NMQ_ENUM_NAME)};
static const NmqEnumName nmq_virt_type_names[] = {
    NMQ_VIRT_TYPES(NMQ_ENUM_NAME)};
static const NmqEnumName nmq_model_names[] = {NMQ_MODELS(NMQ_ENUM_NAME)};
static const NmqEnumName nmq_driver_names[] = {NMQ_DRIVERS(NMQ_ENUM_NAME)};
static const NmqEnumName nmq_throughput_names[] = {
    NMQ_THROUGHPUTS(NMQ_ENUM_NAME)};
static const NmqEnumName nmq_reason_names[] = {NMQ_REASONS(NMQ_ENUM_NAME)};
static const NmqEnumName nmq_warning_names[] = {NMQ_WARNINGS(NMQ_ENUM_NAME)};

/* Index of s in names[0..n), or -1: length first, then the bytes. */
static int
nmq_enum_find(const NmqEnumName *names, int n, NmqStr s)
{
    int i;

    if (s.s == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        if (names[i].len == s.len && memcmp(names[i].s, s.s, s.len) == 0)
            return i;
    }
    return -1;
}

#define NMQ_ENUM_IMPL(prefix, type, names, count)                              \
    const char *prefix##_str(type v)                                           \
    {                                                                          \
        if ((int)v < 0 || (int)v >= (count))                                   \
            return NULL;                                                       \
        return names[v].s;                                                     \
    }                                                                          \
    int prefix##_parse(NmqStr s)                                               \
    {                                                                          \
        return nmq_enum_find(names, (count), s);                               \
    }

NMQ_ENUM_IMPL(nmq_vnic_type, NmqVnicType, nmq_vnic_type_names, NMQ_VNIC__COUNT)
NMQ_ENUM_IMPL(nmq_virt_type, NmqVirtType, nmq_virt_type_names, NMQ_VIRT__COUNT)
NMQ_ENUM_IMPL(nmq_model, NmqModel, nmq_model_names, NMQ_MODEL__COUNT)
NMQ_ENUM_IMPL(nmq_driver, NmqDriver, nmq_driver_names, NMQ_DRIVER__COUNT)
NMQ_ENUM_IMPL(nmq_throughput, NmqThroughput, nmq_throughput_names,
              NMQ_THROUGHPUT__COUNT)
NMQ_ENUM_IMPL(nmq_reason, NmqReason, nmq_reason_names, NMQ_REASON__COUNT)
NMQ_ENUM_IMPL(nmq_warning, NmqWarning, nmq_warning_names, NMQ_WARN__COUNT)

int
nmq_vnic_type_is_passthrough(NmqVnicType v)
{
    switch (v) {
    case NMQ_VNIC_DIRECT:
    case NMQ_VNIC_DIRECT_PHYSICAL:
    case NMQ_VNIC_ACCELERATOR_DIRECT:
    case NMQ_VNIC_ACCELERATOR_DIRECT_PHYSICAL:
    case NMQ_VNIC_REMOTE_MANAGED:
    case NMQ_VNIC_VDPA:
        return 1;
    case NMQ_VNIC_NORMAL:
    case NMQ_VNIC_MACVTAP:
    case NMQ_VNIC_BAREMETAL:
    case NMQ_VNIC_VIRTIO_FORWARDER:
    case NMQ_VNIC__COUNT:
        return 0;
    }
    return 0;
}
