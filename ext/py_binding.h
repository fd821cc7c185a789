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
 * py_binding.h: what the files of the Python binding, nova_mq._engine,
 * share (private to them; the engine core never includes it):
 *
 *   py_module.c   module definition, state, errors, constants, the rule
 *                 functions (tap_queue_cap, msi_vectors), _configure
 *   py_convert.c  Python -> C: argument binding, str / int / dict reading
 *   py_plan.c     plan() and its result types, NicPlan and GuestPlan
 *   py_render.c   render()
 *   py_parse.c    parse()
 *
 * Only these files include Python.h.  The thread-safety contract is at the
 * top of py_module.c.
 */
#ifndef NMQ_PY_BINDING_H
#define NMQ_PY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "emit.h"
#include "enums.h"
#include "nmq.h"
#include "policy.h"
#include "reader.h"

/* Every keyword and dict key the binding reads or writes: one table drives
 * the NmqName enum and the interned str of each (NmqState.names). */
#define NMQ_NAMES(X)                                                           \
    X(N_NET_TYPE, "net_type")                                                  \
    X(N_MAC_ADDR, "mac_addr")                                                  \
    X(N_MODEL, "model")                                                        \
    X(N_DRIVER_NAME, "driver_name")                                            \
    X(N_DRIVER_IOMMU, "driver_iommu")                                          \
    X(N_DRIVER_PACKED, "driver_packed")                                        \
    X(N_VHOST_QUEUES, "vhost_queues")                                          \
    X(N_VHOST_RX, "vhost_rx_queue_size")                                       \
    X(N_VHOST_TX, "vhost_tx_queue_size")                                       \
    X(N_SCRIPT, "script")                                                      \
    X(N_MTU, "mtu")                                                            \
    X(N_SOURCE_DEV, "source_dev")                                              \
    X(N_SOURCE_MODE, "source_mode")                                            \
    X(N_VHOSTUSER_TYPE, "vhostuser_type")                                      \
    X(N_VHOSTUSER_MODE, "vhostuser_mode")                                      \
    X(N_VHOSTUSER_PATH, "vhostuser_path")                                      \
    X(N_VLAN, "vlan")                                                          \
    X(N_TARGET_DEV, "target_dev")                                              \
    X(N_MANAGED, "managed")                                                    \
    X(N_VPORTTYPE, "vporttype")                                                \
    X(N_VPORTPARAMS, "vportparams")                                            \
    X(N_FILTERNAME, "filtername")                                              \
    X(N_FILTERPARAMS, "filterparams")                                          \
    X(N_IN_AVERAGE, "vif_inbound_average")                                     \
    X(N_IN_PEAK, "vif_inbound_peak")                                           \
    X(N_IN_BURST, "vif_inbound_burst")                                         \
    X(N_OUT_AVERAGE, "vif_outbound_average")                                   \
    X(N_OUT_PEAK, "vif_outbound_peak")                                         \
    X(N_OUT_BURST, "vif_outbound_burst")                                       \
    X(N_ALIAS, "alias")                                                        \
    X(N_DEVICE_ADDR, "device_addr")                                            \
    X(N_PRETTY_PRINT, "pretty_print")                                          \
    X(N_KEY, "key")                                                            \
    X(N_VALUE, "value")                                                        \
    X(N_VCPUS, "vcpus")                                                        \
    X(N_EXTRA_SPECS, "extra_specs")                                            \
    X(N_IMAGE_PROPERTIES, "image_properties")                                  \
    X(N_VIRT_TYPE, "virt_type")                                                \
    X(N_HOST, "host")                                                          \
    X(N_OPTIONS, "options")                                                    \
    X(N_NICS, "nics")                                                          \
    X(N_FLAVOR_NAME, "flavor_name")                                            \
    X(N_IMAGE_NAME, "image_name")                                              \
    X(N_HW_MQ, "hw:vif_multiqueue_enabled")                                    \
    X(N_HW_PACKED, "hw:virtio_packed_ring")                                    \
    X(N_MQ_THROUGHPUT, "mq:throughput")                                        \
    X(N_MQ_MAX_QUEUES, "mq:max_queues")                                        \
    X(N_MQ_MSI_BUDGET, "mq:msi_vector_budget")                                 \
    X(N_IMG_MQ, "hw_vif_multiqueue_enabled")                                   \
    X(N_IMG_PACKED, "hw_virtio_packed_ring")                                   \
    X(N_KERNEL_RELEASE, "kernel_release")                                      \
    X(N_MAX_QUEUES, "max_queues")                                              \
    X(N_RX_QUEUE_SIZE, "rx_queue_size")                                        \
    X(N_TX_QUEUE_SIZE, "tx_queue_size")                                        \
    X(N_MSI_BUDGET, "msi_vector_budget")                                       \
    X(N_RESERVED_MSI, "reserved_msi_vectors")                                  \
    X(N_PACKED_RING, "packed_ring")                                            \
    X(N_VIF_MODELS, "vif_models")                                              \
    X(N_VIF_TYPE, "vif_type")                                                  \
    X(N_VNIC_TYPE, "vnic_type")                                                \
    X(N_PROFILE, "profile")                                                    \
    X(N_FIXED_QUEUES, "fixed_queues")                                          \
    X(N_MQ_QUEUES, "mq_queues")                                                \
    X(N_MQ_THROUGHPUT_PORT, "mq_throughput")                                   \
    X(N_NAME, "name")                                                          \
    X(N_VCPUS_CURRENT, "vcpus_current")                                        \
    X(N_INTERFACES, "interfaces")                                              \
    X(N_TYPE, "type")                                                          \
    X(N_MAC, "mac")                                                            \
    X(N_DRIVER, "driver")                                                      \
    X(N_QUEUES, "queues")

#define NMQ_NAME_ENUM(id, str) id,
typedef enum { NMQ_NAMES(NMQ_NAME_ENUM) N__COUNT } NmqName;

/* The C text of each name (py_module.c). */
extern const char *const nmq_name_strs[N__COUNT];

/* NicPlan's fields, in order (py_plan.c defines the type). */
enum {
    P_DRIVER,
    P_MODEL,
    P_QUEUES,
    P_RX,
    P_TX,
    P_PACKED,
    P_MULTIQUEUE,
    P_REQUESTED,
    P_MSI,
    P_VHOST_MEMORY,
    P_REASONS,
    P__COUNT
};

/* plan() keeps its last GuestPlan when it has at most this many NICs. */
#define NMQ_KEEP_NICS 16

/*
 * The module's state (PEP 489): made in py_module.c's exec, cleared with
 * the module.  After exec, _configure() and _plan_cache() change their
 * fields, and plan() the kept plan (py_plan.c), all under the GIL.  Every
 * str in it is interned; the str arrays are indexed by the engine's enums.
 */
typedef struct {
    PyObject *error;          /* _engine.Error, a ValueError */
    PyObject *error_factory;  /* from _configure(), or NULL */
    int packed_default;       /* from _configure(): Nova knows packed rings */
    PyTypeObject *nic_plan;   /* NicPlan struct sequence */
    PyTypeObject *guest_plan; /* GuestPlan struct sequence */
    PyObject *names[N__COUNT];
    PyObject *reasons[NMQ_REASON__COUNT];
    PyObject *warnings[NMQ_WARN__COUNT];
    PyObject *drivers[NMQ_DRIVER__COUNT];
    PyObject *models[NMQ_MODEL__COUNT];
    /* plan()'s last result and the C plan it was made from, or NULL; kept
     * only while plan_cache is on (py_plan.c says why it exists). */
    int plan_cache;
    PyObject *kept_plan;
    NmqGuestPlan kept_totals;
    NmqNicPlan kept_nics[NMQ_KEEP_NICS];
    size_t kept_n;
} NmqState;

static inline NmqState *
nmq_state(PyObject *module)
{
    return (NmqState *)PyModule_GetState(module);
}

#define NAME(st, id) ((st)->names[(id)])

/* Each file's module functions, added by py_module.c's exec. */
extern PyMethodDef nmq_plan_methods[];
extern PyMethodDef nmq_render_methods[];
extern PyMethodDef nmq_parse_methods[];

/* py_plan.c: create NicPlan and GuestPlan into st.  Returns 0 or -1. */
int nmq_plan_types_init(NmqState *st);

/* ---- py_module.c: errors ----------------------------------------------- */

/*
 * Raise the exception for err from the API what ("plan", "render",
 * "parse"): the registered factory's, else _engine.Error.  Returns NULL.
 */
PyObject *nmq_raise(NmqState *st, const char *what, const NmqError *err);

/* Raise "Invalid value <repr(value)> for <key>: expected <expected>" as an
 * invalid-value error of what.  Returns NULL. */
PyObject *nmq_raise_type(NmqState *st, const char *what, const char *key,
                         PyObject *value, const char *expected);

/* ---- py_convert.c: Python -> C ----------------------------------------- */

/* Room for the decimal text of one 64-bit integer. */
typedef struct {
    char buf[24];
} NmqScratch;

/*
 * Bind positional args[0..nargs) and the keywords kwnames (values after
 * the positional ones, as METH_FASTCALL | METH_KEYWORDS passes them) to
 * out[0..n) by the names ids[0..n); at most npos positional.  Entries not
 * given are NULL, the others borrowed.  Returns 0, or -1 with TypeError.
 */
int nmq_bind(NmqState *st, const char *fname, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames, const NmqName *ids, int n,
             int npos, PyObject **out);

/*
 * o (borrowed; NULL or None: absent) as a borrowed NmqStr: a str's UTF-8,
 * str() of an int or bool (into *scratch), NMQ_STR_NONE for None.  Other
 * types are an invalid value of key for what.  Returns 0 or -1.
 */
int nmq_to_str(NmqState *st, const char *what, const char *key, PyObject *o,
               NmqScratch *scratch, NmqStr *out);

/* d[key] (d a dict, or None / NULL: absent) into *out, borrowed or NULL;
 * dname names d if it is not a dict.  Returns 0 or -1. */
int nmq_dict_get(NmqState *st, const char *what, const char *dname, PyObject *d,
                 PyObject *key, PyObject **out);

/*
 * d[key] while d (a dict) may hold more of the keys asked for: *left counts
 * d's entries not found yet (keys are unique), so once all were found the
 * rest are absent without a lookup.  *out borrowed or NULL.  Returns 0/-1.
 */
int nmq_dict_next_get(PyObject *d, PyObject *key, Py_ssize_t *left,
                      PyObject **out);

/* The n keys ids of d (a dict, or None / NULL: all absent) as NmqStrs by
 * nmq_to_str into *out[i], with scratch[i], for plan().  Returns 0/-1. */
int nmq_dict_strs(NmqState *st, const char *dname, PyObject *d,
                  const NmqName *ids, int n, NmqScratch *scratch, NmqStr **out);

/* v (NULL or None: dflt) as a long in [lo, hi], else an invalid value of
 * keyname (bool and other types too).  Returns 0 or -1. */
int nmq_long_value(NmqState *st, const char *keyname, PyObject *v, long dflt,
                   long lo, long hi, long *out);

#endif /* NMQ_PY_BINDING_H */
