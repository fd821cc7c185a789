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
 * module.c: nova_mq._engine, the only file that includes Python.h.
 *
 * It converts builtins (str, int, bool, None, dict, list) into the engine's
 * plain C structs, calls the engine, and converts the result back.  All
 * strings handed to the engine are borrowed from the argument objects,
 * which the caller keeps alive for the duration of the call; integers are
 * formatted into scratch space owned by the call's frame.
 *
 * Errors: the engine fills an NmqError where the failure happens; this file
 * turns it into one exception through the factory nova_mq registers with
 * _configure() (Nova's exception classes), or _engine.Error before that.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/utsname.h>

#include "emit.h"
#include "enums.h"
#include "nmq.h"
#include "policy.h"
#include "reader.h"

/* ------------------------------------------------------------------ */
/* Interned names: one table drives the enum and the strings.          */

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
    X(N_ROOT_NAME, "root_name")                                                \
    X(N_NS_PREFIX, "ns_prefix")                                                \
    X(N_NS_URI, "ns_uri")                                                      \
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
#define NMQ_NAME_STR(id, str) str,
static const char *const nmq_name_strs[] = {NMQ_NAMES(NMQ_NAME_STR)};

/* NicPlan's fields, in the order of nmq_nic_plan_fields. */
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

/* What render(plan) takes from a NicPlan: the field, and the keyword it
 * gives (found in render's slots when the module starts). */
static const struct {
    int field;
    NmqName name;
} nmq_plan_attrs[] = {{P_DRIVER, N_DRIVER_NAME},
                      {P_QUEUES, N_VHOST_QUEUES},
                      {P_RX, N_VHOST_RX},
                      {P_TX, N_VHOST_TX},
                      {P_PACKED, N_DRIVER_PACKED}};
#define NMQ_N_PLAN_ATTRS                                                       \
    ((int)(sizeof(nmq_plan_attrs) / sizeof(nmq_plan_attrs[0])))

/* ------------------------------------------------------------------ */
/* Module state (PEP 489).                                             */

#define NMQ_MODEL_CACHE 32
#define NMQ_REASON_CACHE 64
#define NMQ_PLAN_CACHE 64      /* a power of two */
#define NMQ_PLAN_CACHE_NICS 16 /* GuestPlans of more NICs are not kept */
#define NMQ_BIND_CACHE 16
#define NMQ_ATTR_TABLE 128 /* a power of two above twice the names */
#define NMQ_BIND_MAX_KW 64

/*
 * How one call site's keyword names bind: Python passes a call site's
 * kwnames as the same constant tuple on every call, so the slot of each
 * keyword is worked out once and then found by the tuple's address.  The
 * tuple is held, so its address cannot be reused while it is cached.
 */
typedef struct {
    PyObject *kwnames;  /* strong reference, or NULL */
    const NmqName *ids; /* the function's name table */
    unsigned char slot[NMQ_BIND_MAX_KW];
} NmqBindLayout;

typedef struct {
    PyObject *error;          /* _engine.Error, a ValueError */
    PyObject *error_factory;  /* callable or NULL */
    PyTypeObject *nic_plan;   /* NicPlan struct sequence */
    PyTypeObject *guest_plan; /* GuestPlan struct sequence */
    PyTypeObject *policy;     /* GuestPolicy */
    PyObject *names[N__COUNT];
    PyObject *reasons[NMQ_REASON__COUNT];
    PyObject *warnings[NMQ_WARN__COUNT];
    PyObject *drivers[2]; /* "vhost", "qemu" */
    /* The engine's static model strings, as str, by address. */
    const char *model_keys[NMQ_MODEL_CACHE];
    PyObject *model_strs[NMQ_MODEL_CACHE];
    /* Recently built reason tuples, by reason bit set. */
    unsigned long reason_masks[NMQ_REASON_CACHE];
    PyObject *reason_tuples[NMQ_REASON_CACHE];
    /* Recently built plans, by content.  NicPlan and GuestPlan are
     * immutable, and guests repeat the same few: a plan equal to a kept
     * one is that one (direct-mapped, like the reason tuples). */
    NmqNicPlan nic_keys[NMQ_PLAN_CACHE];
    PyObject *nic_plans[NMQ_PLAN_CACHE];
    NmqGuestPlan guest_keys[NMQ_PLAN_CACHE];
    PyObject *guest_plans[NMQ_PLAN_CACHE];
    /* Recently bound keyword layouts, by kwnames tuple. */
    NmqBindLayout bind_cache[NMQ_BIND_CACHE];
    int packed_default;     /* the installed Nova knows packed rings */
    NmqName render_ids[64]; /* render()'s keywords, in argument order */
    int plan_slots[NMQ_N_PLAN_ATTRS]; /* render slot of nmq_plan_attrs[k] */
    /* render_attrs(): attribute name -> render slot, by the name's address
     * (open addressing; names are interned, as Nova's attributes are). */
    PyObject *attr_keys[NMQ_ATTR_TABLE];
    signed char attr_slots[NMQ_ATTR_TABLE];
    xmlBufferPtr out; /* render buffer, reused under the GIL */
} NmqState;

static struct PyModuleDef nmq_module;

static inline NmqState *
nmq_state(PyObject *module)
{
    return (NmqState *)PyModule_GetState(module);
}

#define NAME(st, id) ((st)->names[(id)])

/* ------------------------------------------------------------------ */
/* Errors.                                                             */

static const char *
nmq_error_code_name(NmqErrorCode code)
{
    switch (code) {
    case NMQ_ERR_NONE:
        return "none";
    case NMQ_ERR_INVALID_VALUE:
        return "invalid_value";
    case NMQ_ERR_MISSING_VALUE:
        return "missing_value";
    case NMQ_ERR_CONFLICT:
        return "conflict";
    case NMQ_ERR_UNSUPPORTED_HARDWARE:
        return "unsupported_hardware";
    case NMQ_ERR_UNSUPPORTED_VIRT:
        return "unsupported_virt";
    case NMQ_ERR_PARSE:
        return "parse";
    case NMQ_ERR_TOO_LARGE:
        return "too_large";
    case NMQ_ERR_NO_MEMORY:
        return "no_memory";
    }
    return "unknown";
}

/*
 * Raise the exception for err, where "what" says which API failed
 * ("plan", "render", "parse").  Through the registered factory when there
 * is one: factory(what, code, key, value, message, extra1, extra2) returns
 * the exception instance to raise; else _engine.Error(message, what, code,
 * key, value).  Strings are decoded with errors="replace".  Returns NULL.
 */
static PyObject *
nmq_raise(NmqState *st, const char *what, const NmqError *err)
{
    const char *parts[6] = {nmq_error_code_name(err->code),
                            err->key,
                            err->value,
                            err->msg,
                            err->extra1,
                            err->extra2};
    PyObject *args = NULL;
    PyObject *exc = NULL;
    int i;

    if (err->code == NMQ_ERR_NO_MEMORY)
        return PyErr_NoMemory();
    args = PyTuple_New(7);
    if (args == NULL)
        return NULL;
    PyTuple_SET_ITEM(args, 0, PyUnicode_FromString(what));
    for (i = 0; i < 6; i++) {
        PyTuple_SET_ITEM(args, i + 1,
                         PyUnicode_DecodeUTF8(parts[i],
                                              (Py_ssize_t)strlen(parts[i]),
                                              "replace"));
    }
    for (i = 0; i < 7; i++) {
        if (PyTuple_GET_ITEM(args, i) == NULL)
            goto cleanup;
    }
    if (st->error_factory != NULL) {
        exc = PyObject_Call(st->error_factory, args, NULL);
    } else {
        /* Error(message, what, code, key, value, extra1, extra2) */
        exc = PyObject_CallFunctionObjArgs(
            st->error, PyTuple_GET_ITEM(args, 4), PyTuple_GET_ITEM(args, 0),
            PyTuple_GET_ITEM(args, 1), PyTuple_GET_ITEM(args, 2),
            PyTuple_GET_ITEM(args, 3), NULL);
    }
    if (exc != NULL)
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
cleanup:
    Py_XDECREF(exc);
    Py_DECREF(args);
    return NULL;
}

/* Raise an invalid-value error found while converting arguments. */
static PyObject *
nmq_raise_type(NmqState *st, const char *what, const char *key, PyObject *value,
               const char *expected)
{
    NmqError err;
    PyObject *r = PyObject_Repr(value);
    const char *rs = r ? PyUnicode_AsUTF8(r) : NULL;

    if (rs == NULL) {
        Py_XDECREF(r);
        return NULL;
    }
    nmq_error_setf(&err, NMQ_ERR_INVALID_VALUE, key, (NmqStr){rs, strlen(rs)},
                   "Invalid value %.200s for %s: expected %s", rs, key,
                   expected);
    Py_DECREF(r);
    return nmq_raise(st, what, &err);
}

/* ------------------------------------------------------------------ */
/* Argument binding for METH_FASTCALL | METH_KEYWORDS.                 */

/* Slot j of ids[0..n) named kw, or n when none. */
static int
nmq_bind_slot(NmqState *st, PyObject *kw, const NmqName *ids, int n)
{
    int j;

    for (j = 0; j < n; j++) {
        if (kw == NAME(st, ids[j]))
            return j;
    }
    for (j = 0; j < n; j++) {
        if (PyUnicode_Compare(kw, NAME(st, ids[j])) == 0)
            return j;
    }
    return n;
}

/*
 * Put args[nargs + i] into out[slot of keyword i] for every keyword i,
 * with slot[i] given, or worked out when slot is NULL.  Returns 0, or -1
 * with TypeError set for an unknown or repeated keyword.
 */
static int
nmq_bind_keywords(NmqState *st, const char *fname, PyObject *const *args,
                  Py_ssize_t nargs, PyObject *kwnames, const NmqName *ids,
                  int n, const unsigned char *slot, PyObject **out)
{
    Py_ssize_t i;

    for (i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, i);
        int j = slot ? slot[i] : nmq_bind_slot(st, kw, ids, n);

        if (j == n) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got an unexpected keyword argument '%U'", fname,
                         kw);
            return -1;
        }
        if (out[j] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got multiple values for argument '%U'", fname,
                         kw);
            return -1;
        }
        out[j] = args[nargs + i];
    }
    return 0;
}

/*
 * The cached layout of kwnames (at most n <= NMQ_BIND_MAX_KW names) for
 * ids, worked out and cached now if it is not.  NULL, with no exception
 * set, when a keyword is unknown: nmq_bind_keywords() then reports it.
 */
static const NmqBindLayout *
nmq_bind_layout(NmqState *st, PyObject *kwnames, const NmqName *ids, int n)
{
    size_t h = ((size_t)kwnames >> 4) ^ ((size_t)ids >> 3);
    NmqBindLayout *c = &st->bind_cache[h % NMQ_BIND_CACHE];
    unsigned char slot[NMQ_BIND_MAX_KW];
    Py_ssize_t i;

    if (c->kwnames == kwnames && c->ids == ids)
        return c;
    for (i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        int j = nmq_bind_slot(st, PyTuple_GET_ITEM(kwnames, i), ids, n);

        if (j == n)
            return NULL;
        slot[i] = (unsigned char)j;
    }
    memcpy(c->slot, slot, (size_t)i);
    Py_XSETREF(c->kwnames, Py_NewRef(kwnames));
    c->ids = ids;
    return c;
}

/*
 * Bind positional args and keywords to out[0..n) by the names ids[0..n)
 * (n <= NMQ_BIND_MAX_KW).  out entries not given stay NULL (borrowed
 * references otherwise).  Returns 0, or -1 with TypeError set for an
 * unknown or repeated keyword or too many positional arguments.
 */
static int
nmq_bind(NmqState *st, const char *fname, PyObject *const *args,
         Py_ssize_t nargs, PyObject *kwnames, const NmqName *ids, int n,
         int npos, PyObject **out)
{
    const NmqBindLayout *layout = NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int j;

    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes at most %d positional arguments (%zd given)",
                     fname, npos, nargs);
        return -1;
    }
    for (j = 0; j < n; j++)
        out[j] = j < nargs ? args[j] : NULL;
    if (nkw == 0)
        return 0;
    /* More keywords than names means one is unknown or repeated; an
     * unknown one has no layout.  nmq_bind_keywords() reports either. */
    if (nkw <= n)
        layout = nmq_bind_layout(st, kwnames, ids, n);
    return nmq_bind_keywords(st, fname, args, nargs, kwnames, ids, n,
                             layout ? layout->slot : NULL, out);
}

/* ------------------------------------------------------------------ */
/* Value conversion.                                                   */

/* Room to format one integer as text. */
typedef struct {
    char buf[32];
} NmqScratch;

/* v as decimal text in scratch (what str() of the int gives); snprintf
 * costs more than the rest of a typical render. */
static NmqStr
nmq_format_ll(long long v, NmqScratch *scratch)
{
    char *end = scratch->buf + sizeof(scratch->buf);
    char *p = end;
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    return (NmqStr){p, (size_t)(end - p)};
}

/*
 * Convert a str, int (bool included: str(True) is "True") or None into a
 * borrowed NmqStr.  An int is formatted into *scratch.  Other types are an
 * invalid value for key.  Returns 0, or -1 with an exception set.
 */
static int
nmq_to_str_slow(NmqState *st, const char *what, const char *key, PyObject *o,
                NmqScratch *scratch, NmqStr *out)
{
    Py_ssize_t len = 0;

    if (PyUnicode_Check(o)) {
        out->s = PyUnicode_AsUTF8AndSize(o, &len);
        if (out->s == NULL) {
            PyErr_Clear();
            nmq_raise_type(st, what, key, o, "a string of valid Unicode");
            return -1;
        }
        out->len = (size_t)len;
        return 0;
    }
    if (PyBool_Check(o)) {
        *out = (o == Py_True) ? NMQ_STR_LIT("True") : NMQ_STR_LIT("False");
        return 0;
    }
    if (PyLong_Check(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);

        if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            nmq_raise_type(st, what, key, o, "an integer of at most 64 bits");
            return -1;
        }
        *out = nmq_format_ll(v, scratch);
        return 0;
    }
    nmq_raise_type(st, what, key, o, "a string or an integer");
    return -1;
}

/* The common cases of nmq_to_str_slow, inline: o absent or None, or an
 * ASCII str, which is its own UTF-8.  Returns 1 when *out is set, else 0
 * (out untouched). */
static inline int
nmq_to_str_fast(PyObject *o, NmqStr *out)
{
    if (o == NULL || o == Py_None) {
        *out = NMQ_STR_NONE;
        return 1;
    }
    if (PyUnicode_Check(o) && PyUnicode_IS_COMPACT_ASCII(o)) {
        out->s = (const char *)PyUnicode_DATA(o);
        out->len = (size_t)PyUnicode_GET_LENGTH(o);
        return 1;
    }
    return 0;
}

/* nmq_to_str_slow, with its common cases inline. */
static inline int
nmq_to_str(NmqState *st, const char *what, const char *key, PyObject *o,
           NmqScratch *scratch, NmqStr *out)
{
    if (nmq_to_str_fast(o, out))
        return 0;
    return nmq_to_str_slow(st, what, key, o, scratch, out);
}

/* Look key up in dict d (None or absent: borrowed NULL).  Returns 0, or -1
 * with an exception set when d is not a dict or the lookup failed. */
static int
nmq_dict_get(NmqState *st, const char *what, const char *dname, PyObject *d,
             PyObject *key, PyObject **out)
{
    *out = NULL;
    if (d == NULL || d == Py_None)
        return 0;
    if (!PyDict_Check(d)) {
        nmq_raise_type(st, what, dname, d, "a dict");
        return -1;
    }
    if (PyDict_GET_SIZE(d) == 0)
        return 0; /* the common empty image properties: no lookup */
    *out = PyDict_GetItemWithError(d, key);
    if (*out == NULL && PyErr_Occurred())
        return -1;
    return 0;
}

/*
 * Look key up in dict d while it may hold more of the keys asked for:
 * *left counts d's entries not found yet (keys are unique), so once every
 * entry was found the rest are absent without a lookup.  *out is borrowed
 * or NULL.  Returns 0, or -1 with an exception set.
 */
static int
nmq_dict_next_get(PyObject *d, PyObject *key, Py_ssize_t *left, PyObject **out)
{
    *out = NULL;
    if (*left <= 0)
        return 0;
    *out = PyDict_GetItemWithError(d, key);
    if (*out != NULL)
        (*left)--;
    else if (PyErr_Occurred())
        return -1;
    return 0;
}

/*
 * The n names ids of d (a dict, or None / NULL: all absent) as NmqStrs
 * (see nmq_to_str) into *out[i], with scratch[i].  dname names d when it
 * is not a dict.  Returns 0 or -1.
 */
static int
nmq_dict_strs(NmqState *st, const char *dname, PyObject *d, const NmqName *ids,
              int n, NmqScratch *scratch, NmqStr **out)
{
    Py_ssize_t left;
    int i;

    for (i = 0; i < n; i++)
        *out[i] = NMQ_STR_NONE;
    if (d == NULL || d == Py_None)
        return 0;
    if (!PyDict_Check(d)) {
        nmq_raise_type(st, "plan", dname, d, "a dict");
        return -1;
    }
    left = PyDict_GET_SIZE(d);
    for (i = 0; i < n; i++) {
        PyObject *v;

        if (nmq_dict_next_get(d, NAME(st, ids[i]), &left, &v) < 0 ||
            nmq_to_str(st, "plan", nmq_name_strs[ids[i]], v, &scratch[i],
                       out[i]) < 0)
            return -1;
    }
    return 0;
}

/*
 * v (borrowed; NULL when absent) as a long in [lo, hi], reported as
 * keyname; absent or None gives dflt.  Booleans and other types are
 * invalid values.  Returns 0 or -1 (exception set).
 */
static int
nmq_long_value(NmqState *st, const char *keyname, PyObject *v, long dflt,
               long lo, long hi, long *out)
{
    long x;

    if (v == NULL || v == Py_None) {
        *out = dflt;
        return 0;
    }
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        nmq_raise_type(st, "plan", keyname, v, "an integer");
        return -1;
    }
    x = PyLong_AsLong(v);
    if ((x == -1 && PyErr_Occurred()) || x < lo || x > hi) {
        char expected[96];

        PyErr_Clear();
        snprintf(expected, sizeof(expected), "an integer from %ld to %ld", lo,
                 hi);
        nmq_raise_type(st, "plan", keyname, v, expected);
        return -1;
    }
    *out = x;
    return 0;
}

/* dict d's key as a long in [lo, hi]: see nmq_long_value. */
static int
nmq_dict_long_key(NmqState *st, const char *keyname, PyObject *d, NmqName key,
                  long dflt, long lo, long hi, long *out)
{
    PyObject *v = NULL;

    if (nmq_dict_get(st, "plan", keyname, d, NAME(st, key), &v) < 0)
        return -1;
    return nmq_long_value(st, keyname, v, dflt, lo, hi, out);
}

/* ------------------------------------------------------------------ */
/* _engine.plan                                                        */

/* Per-NIC scratch for the two profile knobs. */
typedef struct {
    NmqScratch vif_type;
    NmqScratch vnic_type;
    NmqScratch model;
    NmqScratch queues;
    NmqScratch throughput;
} NmqNicScratch;

#define NMQ_SMALL_NICS 4

/* Everything one plan() call borrows or owns, freed in one place. */
typedef struct {
    NmqGuestIn in;
    NmqNicIn *nics;
    NmqNicPlan *plans;
    NmqNicScratch *scratch;
    NmqStr *models;
    /* Not zeroed (nmq_plan_call_init): written before they are read. */
    NmqScratch specs[5];
    NmqScratch props[2];
    NmqScratch misc[4];
    /* Room for a small guest's NICs, so most calls allocate nothing. */
    NmqNicIn nics_small[NMQ_SMALL_NICS];
    NmqNicPlan plans_small[NMQ_SMALL_NICS];
    NmqNicScratch scratch_small[NMQ_SMALL_NICS];
} NmqPlanCall;

/* Zero what c owns and reads; its buffers (1.5 KB) are left as they are. */
static void
nmq_plan_call_init(NmqPlanCall *c)
{
    memset(c, 0, offsetof(NmqPlanCall, specs));
}

static void
nmq_plan_call_free(NmqPlanCall *c)
{
    if (c->nics != c->nics_small) {
        PyMem_Free(c->nics);
        PyMem_Free(c->plans);
        PyMem_Free(c->scratch);
    }
    PyMem_Free(c->models);
}

/* Read the flavor extra specs and image properties into c->in.  The keys
 * are looked up most common first. */
static int
nmq_plan_read_specs(NmqState *st, PyObject *specs, PyObject *props,
                    NmqPlanCall *c)
{
    static const NmqName spec_ids[] = {N_HW_MQ, N_MQ_THROUGHPUT,
                                       N_MQ_MAX_QUEUES, N_MQ_MSI_BUDGET,
                                       N_HW_PACKED};
    static const NmqName prop_ids[] = {N_IMG_MQ, N_IMG_PACKED};
    NmqGuestIn *in = &c->in;
    NmqStr *spec_out[] = {&in->flavor_mq_enabled, &in->flavor_throughput,
                          &in->flavor_max_queues, &in->flavor_msi_budget,
                          &in->flavor_packed};
    NmqStr *prop_out[] = {&in->image_mq_enabled, &in->image_packed};

    if (nmq_dict_strs(st, "extra_specs", specs, spec_ids, 5, c->specs,
                      spec_out) < 0 ||
        nmq_dict_strs(st, "image_properties", props, prop_ids, 2, c->props,
                      prop_out) < 0)
        return -1;
    return 0;
}

/* Convert options['vif_models'] (a list or tuple of str) into c->models. */
static int
nmq_plan_read_models(NmqState *st, PyObject *models, NmqPlanCall *c)
{
    PyObject *seq = NULL;
    Py_ssize_t i;
    Py_ssize_t n;
    int ret = -1;

    if (!PyList_Check(models) && !PyTuple_Check(models)) {
        nmq_raise_type(st, "plan", "vif_models", models, "a list of str");
        return -1;
    }
    seq = PySequence_Fast(models, "vif_models");
    if (seq == NULL)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    c->models = PyMem_Calloc(n ? (size_t)n : 1, sizeof(NmqStr));
    if (c->models == NULL) {
        PyErr_NoMemory();
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        PyObject *m = PySequence_Fast_GET_ITEM(seq, i);

        if (!PyUnicode_Check(m)) {
            nmq_raise_type(st, "plan", "vif_models", m, "a str");
            goto cleanup;
        }
        if (nmq_to_str(st, "plan", "vif_models", m, &c->misc[0],
                       &c->models[i]) < 0)
            goto cleanup;
    }
    c->in.vif_models = c->models;
    c->in.n_vif_models = (size_t)n;
    ret = 0;
cleanup:
    /* The strings stay alive: the list in options keeps them. */
    Py_DECREF(seq);
    return ret;
}

/* Read the options dict ([libvirt] and [nova_mq] values) into c->in. */
static int
nmq_plan_read_options(NmqState *st, PyObject *opts, NmqPlanCall *c)
{
    NmqGuestIn *in = &c->in;
    const char *w = "plan";
    const char *d = "options";
    PyObject *packed = NULL;
    PyObject *models = NULL;

    if (nmq_dict_long_key(st, nmq_name_strs[N_MAX_QUEUES], opts, N_MAX_QUEUES,
                          0, 0, NMQ_MAX_OPTION_VALUE,
                          &in->libvirt_max_queues) < 0 ||
        nmq_dict_long_key(st, nmq_name_strs[N_RX_QUEUE_SIZE], opts,
                          N_RX_QUEUE_SIZE, 0, 0, NMQ_MAX_QUEUE_SIZE,
                          &in->rx_queue_size) < 0 ||
        nmq_dict_long_key(st, nmq_name_strs[N_TX_QUEUE_SIZE], opts,
                          N_TX_QUEUE_SIZE, 0, 0, NMQ_MAX_QUEUE_SIZE,
                          &in->tx_queue_size) < 0 ||
        nmq_dict_long_key(st, nmq_name_strs[N_MSI_BUDGET], opts, N_MSI_BUDGET,
                          NMQ_DEFAULT_MSI_VECTOR_BUDGET, 0,
                          NMQ_MAX_OPTION_VALUE, &in->msi_vector_budget) < 0 ||
        nmq_dict_long_key(st, nmq_name_strs[N_RESERVED_MSI], opts,
                          N_RESERVED_MSI, NMQ_DEFAULT_RESERVED_MSI_VECTORS, 0,
                          NMQ_MAX_OPTION_VALUE, &in->reserved_msi_vectors) < 0)
        return -1;
    if (nmq_dict_get(st, w, d, opts, NAME(st, N_PACKED_RING), &packed) < 0 ||
        nmq_dict_get(st, w, d, opts, NAME(st, N_VIF_MODELS), &models) < 0)
        return -1;
    in->packed_supported = st->packed_default;
    if (packed != NULL && packed != Py_None) {
        int t = PyObject_IsTrue(packed);

        if (t < 0)
            return -1;
        in->packed_supported = t;
    }
    if (models == NULL || models == Py_None)
        return 0;
    return nmq_plan_read_models(st, models, c);
}

/*
 * d[key] (d a dict or NULL; *left as nmq_dict_next_get counts) as an
 * NmqStr for NIC i, by nmq_to_str with the key "nics[i].<key>", formatted
 * only past the common cases.  Returns 0 or -1.
 */
static int
nmq_nic_str(NmqState *st, PyObject *d, Py_ssize_t i, NmqName key,
            Py_ssize_t *left, NmqScratch *scratch, NmqStr *out)
{
    PyObject *v = NULL;
    char name[64];

    if (d != NULL && nmq_dict_next_get(d, NAME(st, key), left, &v) < 0)
        return -1;
    if (nmq_to_str_fast(v, out))
        return 0;
    snprintf(name, sizeof(name), "nics[%zd].%s", i, nmq_name_strs[key]);
    return nmq_to_str_slow(st, "plan", name, v, scratch, out);
}

/* Read nic dict i into c->nics[i]. */
static int
nmq_plan_read_nic(NmqState *st, PyObject *nic, Py_ssize_t i, NmqPlanCall *c)
{
    NmqNicIn *n = &c->nics[i];
    NmqNicScratch *s = &c->scratch[i];
    PyObject *fixed = NULL;
    PyObject *profile = NULL;
    Py_ssize_t left;
    Py_ssize_t knobs;
    char key[64];

    memset(n, 0, sizeof(*n));
    if (!PyDict_Check(nic)) {
        snprintf(key, sizeof(key), "nics[%zd]", i);
        nmq_raise_type(st, "plan", key, nic, "a dict");
        return -1;
    }
    left = PyDict_GET_SIZE(nic);
    if (nmq_nic_str(st, nic, i, N_VIF_TYPE, &left, &s->vif_type, &n->vif_type) <
            0 ||
        nmq_nic_str(st, nic, i, N_VNIC_TYPE, &left, &s->vnic_type,
                    &n->vnic_type) < 0 ||
        nmq_nic_str(st, nic, i, N_MODEL, &left, &s->model, &n->model) < 0 ||
        nmq_dict_next_get(nic, NAME(st, N_PROFILE), &left, &profile) < 0 ||
        nmq_dict_next_get(nic, NAME(st, N_FIXED_QUEUES), &left, &fixed) < 0)
        return -1;
    if (fixed != NULL) {
        snprintf(key, sizeof(key), "nics[%zd].fixed_queues", i);
        if (nmq_long_value(st, key, fixed, 0, 0, NMQ_MAX_QUEUES,
                           &n->fixed_queues) < 0)
            return -1;
    }
    if (profile == Py_None)
        profile = NULL;
    if (profile != NULL && !PyDict_Check(profile)) {
        snprintf(key, sizeof(key), "nics[%zd].profile", i);
        nmq_raise_type(st, "plan", key, profile, "a dict");
        return -1;
    }
    knobs = profile != NULL ? PyDict_GET_SIZE(profile) : 0;
    if (nmq_nic_str(st, profile, i, N_MQ_QUEUES, &knobs, &s->queues,
                    &n->mq_queues) < 0 ||
        nmq_nic_str(st, profile, i, N_MQ_THROUGHPUT_PORT, &knobs,
                    &s->throughput, &n->mq_throughput) < 0)
        return -1;
    return 0;
}

/* Read the nics list into freshly allocated arrays in c. */
static int
nmq_plan_read_nics(NmqState *st, PyObject *nics, NmqPlanCall *c)
{
    Py_ssize_t n;
    Py_ssize_t i;

    if (nics == NULL || nics == Py_None)
        n = 0;
    else if (PyList_Check(nics))
        n = PyList_GET_SIZE(nics);
    else if (PyTuple_Check(nics))
        n = PyTuple_GET_SIZE(nics);
    else {
        nmq_raise_type(st, "plan", "nics", nics, "a list of dicts");
        return -1;
    }
    if (n <= NMQ_SMALL_NICS) {
        c->nics = c->nics_small;
        c->plans = c->plans_small;
        c->scratch = c->scratch_small;
    } else {
        c->nics = PyMem_Calloc((size_t)n, sizeof(NmqNicIn));
        c->plans = PyMem_Calloc((size_t)n, sizeof(NmqNicPlan));
        c->scratch = PyMem_Calloc((size_t)n, sizeof(NmqNicScratch));
    }
    if (c->nics == NULL || c->plans == NULL || c->scratch == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *nic = PyList_Check(nics) ? PyList_GET_ITEM(nics, i)
                                           : PyTuple_GET_ITEM(nics, i);

        if (nmq_plan_read_nic(st, nic, i, c) < 0)
            return -1;
    }
    c->in.nics = c->nics;
    c->in.n_nics = (size_t)n;
    return 0;
}

/* Read the scalar arguments: vcpus, virt type, names, host. */
static int
nmq_plan_read_scalars(NmqState *st, PyObject **a, NmqPlanCall *c,
                      struct utsname *uts)
{
    static const NmqName host_ids[] = {N_KERNEL_RELEASE};
    NmqGuestIn *in = &c->in;
    NmqStr *host_out[] = {&in->kernel_release};

    if (a[0] == NULL || !PyLong_Check(a[0]) || PyBool_Check(a[0])) {
        if (a[0] == NULL) {
            PyErr_SetString(PyExc_TypeError,
                            "plan() missing required argument 'vcpus'");
            return -1;
        }
        nmq_raise_type(st, "plan", "vcpus", a[0], "an integer");
        return -1;
    }
    in->vcpus = PyLong_AsLong(a[0]);
    if (in->vcpus == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        nmq_raise_type(st, "plan", "vcpus", a[0], "an integer");
        return -1;
    }
    if (a[3] == NULL)
        in->virt_type = NMQ_STR_LIT("kvm");
    else if (nmq_to_str(st, "plan", "virt_type", a[3], &c->misc[2],
                        &in->virt_type) < 0)
        return -1;
    if (nmq_to_str(st, "plan", "flavor_name", a[7], &c->misc[0],
                   &in->flavor_name) < 0 ||
        nmq_to_str(st, "plan", "image_name", a[8], &c->misc[1],
                   &in->image_name) < 0)
        return -1;
    if (nmq_dict_strs(st, "host", a[4], host_ids, 1, &c->misc[3], host_out) < 0)
        return -1;
    if (in->kernel_release.s == NULL) {
        if (uname(uts) != 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        in->kernel_release = (NmqStr){uts->release, strlen(uts->release)};
    }
    return 0;
}

/*
 * The str for one of the engine's static model strings, made once per
 * module and then found by address.  New reference.
 */
static PyObject *
nmq_model_str(NmqState *st, const char *model)
{
    int i;

    for (i = 0; i < NMQ_MODEL_CACHE && st->model_keys[i] != NULL; i++) {
        if (st->model_keys[i] == model)
            return Py_NewRef(st->model_strs[i]);
    }
    if (i == NMQ_MODEL_CACHE)
        return PyUnicode_FromString(model);
    st->model_strs[i] = PyUnicode_InternFromString(model);
    if (st->model_strs[i] == NULL)
        return NULL;
    st->model_keys[i] = model;
    return Py_NewRef(st->model_strs[i]);
}

/*
 * The tuple of reason strings for a reason bit set.  Guests repeat the
 * same few sets, so the last tuple made for each slot of a small
 * direct-mapped cache is reused (tuples of str are immutable).
 * New reference.
 */
static PyObject *
nmq_reasons_tuple(NmqState *st, unsigned long mask)
{
    size_t slot = (size_t)((mask * 2654435761UL) >> 7) % NMQ_REASON_CACHE;
    PyObject *tuple = NULL;
    int nr = 0;
    int r;
    int k = 0;

    if (st->reason_tuples[slot] != NULL && st->reason_masks[slot] == mask)
        return Py_NewRef(st->reason_tuples[slot]);
    for (r = 0; r < NMQ_REASON__COUNT; r++)
        nr += (mask >> r) & 1UL;
    tuple = PyTuple_New(nr);
    if (tuple == NULL)
        return NULL;
    for (r = 0; r < NMQ_REASON__COUNT; r++) {
        if ((mask >> r) & 1UL)
            PyTuple_SET_ITEM(tuple, k++, Py_NewRef(st->reasons[r]));
    }
    Py_XSETREF(st->reason_tuples[slot], Py_NewRef(tuple));
    st->reason_masks[slot] = mask;
    return tuple;
}

/* Build a NicPlan. New reference. */
static PyObject *
nmq_nic_plan_to_py(NmqState *st, const NmqNicPlan *p)
{
    PyObject *t = PyStructSequence_New(st->nic_plan);
    PyObject *reasons = NULL;
    PyObject *v[P__COUNT] = {NULL};
    int k;

    if (t == NULL)
        return NULL;
    reasons = nmq_reasons_tuple(st, p->reasons);
    if (reasons == NULL)
        goto error;
    v[P_DRIVER] = p->driver == NULL                 ? Py_NewRef(Py_None)
                  : strcmp(p->driver, "vhost") == 0 ? Py_NewRef(st->drivers[0])
                  : strcmp(p->driver, "qemu") == 0
                      ? Py_NewRef(st->drivers[1])
                      : PyUnicode_FromString(p->driver);
    v[P_MODEL] = p->model ? nmq_model_str(st, p->model) : Py_NewRef(Py_None);
    v[P_QUEUES] = p->queues ? PyLong_FromLong(p->queues) : Py_NewRef(Py_None);
    v[P_RX] = p->rx_queue_size ? PyLong_FromLong(p->rx_queue_size)
                               : Py_NewRef(Py_None);
    v[P_TX] = p->tx_queue_size ? PyLong_FromLong(p->tx_queue_size)
                               : Py_NewRef(Py_None);
    v[P_PACKED] =
        p->packed < 0 ? Py_NewRef(Py_None) : PyBool_FromLong(p->packed);
    v[P_MULTIQUEUE] = PyBool_FromLong(p->multiqueue);
    v[P_REQUESTED] = PyLong_FromLong(p->requested);
    v[P_MSI] = PyLong_FromLong(p->msi_vectors);
    v[P_VHOST_MEMORY] = PyLong_FromLong(p->vhost_memory);
    v[P_REASONS] = reasons;
    reasons = NULL;
    for (k = 0; k < P__COUNT; k++) {
        if (v[k] == NULL)
            goto error;
    }
    for (k = 0; k < P__COUNT; k++)
        PyStructSequence_SET_ITEM(t, k, v[k]);
    /* Only str, int, bool, None and a tuple of str: no cycle possible. */
    PyObject_GC_UnTrack(t);
    return t;
error:
    for (k = 0; k < P__COUNT; k++)
        Py_XDECREF(v[k]);
    Py_XDECREF(reasons);
    Py_DECREF(t);
    return NULL;
}

/* Mix a word into a cache hash. */
static inline uint64_t
nmq_mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x9E3779B97F4A7C15ULL;
}

static inline size_t
nmq_cache_slot(uint64_t h)
{
    return (size_t)(h >> 32) & (NMQ_PLAN_CACHE - 1);
}

static int
nmq_nic_plan_eq(const NmqNicPlan *a, const NmqNicPlan *b)
{
    return a->driver == b->driver && a->model == b->model &&
           a->queues == b->queues && a->rx_queue_size == b->rx_queue_size &&
           a->tx_queue_size == b->tx_queue_size && a->packed == b->packed &&
           a->multiqueue == b->multiqueue && a->requested == b->requested &&
           a->msi_vectors == b->msi_vectors &&
           a->vhost_memory == b->vhost_memory && a->reasons == b->reasons;
}

/*
 * The NicPlan for p: the kept one if equal (driver and model are the
 * engine's static strings, so equal by address), else a new one, kept.
 * New reference.
 */
static PyObject *
nmq_nic_plan_get(NmqState *st, const NmqNicPlan *p)
{
    uint64_t h = 0;
    size_t slot;
    PyObject *t;

    h = nmq_mix(h, (uint64_t)(uintptr_t)p->driver);
    h = nmq_mix(h, (uint64_t)(uintptr_t)p->model);
    h = nmq_mix(h,
                (uint64_t)(unsigned)p->queues << 32 | (unsigned)p->requested);
    h = nmq_mix(h, (uint64_t)(unsigned)p->rx_queue_size << 32 |
                       (unsigned)p->tx_queue_size);
    h = nmq_mix(h, (uint64_t)(unsigned)p->msi_vectors << 8 |
                       (uint64_t)(unsigned)(p->packed + 1) << 2 |
                       (uint64_t)(p->multiqueue != 0));
    h = nmq_mix(h, (uint64_t)p->vhost_memory);
    slot = nmq_cache_slot(nmq_mix(h, (uint64_t)p->reasons));
    if (st->nic_plans[slot] != NULL && nmq_nic_plan_eq(&st->nic_keys[slot], p))
        return Py_NewRef(st->nic_plans[slot]);
    t = nmq_nic_plan_to_py(st, p);
    if (t == NULL)
        return NULL;
    Py_XSETREF(st->nic_plans[slot], Py_NewRef(t));
    st->nic_keys[slot] = *p;
    return t;
}

/* The kept GuestPlan equal to (g, the NicPlans nics[0..n)), or NULL;
 * sets *slot_out. */
static PyObject *
nmq_guest_plan_find(NmqState *st, const NmqGuestPlan *g, PyObject *const *nics,
                    Py_ssize_t n, size_t *slot_out)
{
    Py_ssize_t i;
    uint64_t h = 0;
    PyObject *kept;
    PyObject *kept_nics;
    const NmqGuestPlan *k;

    h = nmq_mix(h, (uint64_t)g->msi_vectors);
    h = nmq_mix(h, (uint64_t)g->msi_budget);
    h = nmq_mix(h, (uint64_t)g->vhost_memory);
    h = nmq_mix(h, (uint64_t)g->warnings);
    for (i = 0; i < n; i++)
        h = nmq_mix(h, (uint64_t)(uintptr_t)nics[i]);
    *slot_out = nmq_cache_slot(nmq_mix(h, (uint64_t)n));
    kept = st->guest_plans[*slot_out];
    if (kept == NULL)
        return NULL;
    k = &st->guest_keys[*slot_out];
    kept_nics = PyStructSequence_GET_ITEM(kept, 0);
    if (k->msi_vectors != g->msi_vectors || k->msi_budget != g->msi_budget ||
        k->vhost_memory != g->vhost_memory || k->warnings != g->warnings ||
        PyTuple_GET_SIZE(kept_nics) != n)
        return NULL;
    /* NicPlans come from their cache: equal ones are the same object as
     * long as the kept GuestPlan holds them. */
    for (i = 0; i < n; i++) {
        if (PyTuple_GET_ITEM(kept_nics, i) != nics[i])
            return NULL;
    }
    return kept;
}

/* A new GuestPlan of g and the tuple nics (stolen). */
static PyObject *
nmq_guest_plan_new(NmqState *st, const NmqGuestPlan *g, PyObject *nics)
{
    PyObject *t = NULL;
    PyObject *warns = NULL;
    int w;
    int nw = 0;

    for (w = 0; w < NMQ_WARN__COUNT; w++)
        nw += (g->warnings >> w) & 1UL;
    warns = PyTuple_New(nw);
    if (warns == NULL) {
        Py_DECREF(nics);
        return NULL;
    }
    for (w = 0, nw = 0; w < NMQ_WARN__COUNT; w++) {
        if ((g->warnings >> w) & 1UL)
            PyTuple_SET_ITEM(warns, nw++, Py_NewRef(st->warnings[w]));
    }
    t = PyStructSequence_New(st->guest_plan);
    if (t == NULL) {
        Py_DECREF(nics);
        Py_DECREF(warns);
        return NULL;
    }
    PyStructSequence_SET_ITEM(t, 0, nics);
    PyStructSequence_SET_ITEM(t, 1, PyLong_FromLong(g->msi_vectors));
    PyStructSequence_SET_ITEM(t, 2, PyLong_FromLong(g->msi_budget));
    PyStructSequence_SET_ITEM(t, 3, PyLong_FromLong(g->vhost_memory));
    PyStructSequence_SET_ITEM(t, 4, warns);
    if (PyStructSequence_GET_ITEM(t, 1) == NULL ||
        PyStructSequence_GET_ITEM(t, 2) == NULL ||
        PyStructSequence_GET_ITEM(t, 3) == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    /* Holds NicPlans and tuples of str: no cycle possible. */
    PyObject_GC_UnTrack(t);
    return t;
}

/*
 * The GuestPlan of the engine's output: the kept one when equal (a guest
 * of at most NMQ_PLAN_CACHE_NICS NICs), else a new one, kept.  New
 * reference.
 */
static PyObject *
nmq_guest_plan_to_py(NmqState *st, const NmqPlanCall *c, const NmqGuestPlan *g)
{
    Py_ssize_t n = (Py_ssize_t)c->in.n_nics;
    PyObject *small[NMQ_PLAN_CACHE_NICS];
    PyObject *nics = NULL;
    PyObject *kept;
    PyObject *t;
    size_t slot = 0;
    Py_ssize_t i;

    if (n > NMQ_PLAN_CACHE_NICS) {
        nics = PyTuple_New(n);
        if (nics == NULL)
            return NULL;
        for (i = 0; i < n; i++) {
            PyObject *p = nmq_nic_plan_get(st, &c->plans[i]);

            if (p == NULL) {
                Py_DECREF(nics);
                return NULL;
            }
            PyTuple_SET_ITEM(nics, i, p);
        }
        return nmq_guest_plan_new(st, g, nics);
    }
    for (i = 0; i < n; i++) {
        small[i] = nmq_nic_plan_get(st, &c->plans[i]);
        if (small[i] == NULL)
            goto error;
    }
    kept = nmq_guest_plan_find(st, g, small, n, &slot);
    if (kept != NULL) {
        while (i > 0)
            Py_DECREF(small[--i]);
        return Py_NewRef(kept);
    }
    nics = PyTuple_New(n);
    if (nics == NULL)
        goto error;
    for (i = 0; i < n; i++)
        PyTuple_SET_ITEM(nics, i, small[i]); /* steals */
    t = nmq_guest_plan_new(st, g, nics);
    if (t != NULL) {
        Py_XSETREF(st->guest_plans[slot], Py_NewRef(t));
        st->guest_keys[slot] = *g;
    }
    return t;
error:
    while (i > 0)
        Py_DECREF(small[--i]);
    return NULL;
}

/*
 * The common end of plan() and GuestPolicy.plan(): read nics into c (whose
 * guest part is filled), plan, and build the GuestPlan.  Frees what c
 * holds in every case.  New reference, or NULL with an exception set.
 */
static PyObject *
nmq_plan_nics(NmqState *st, PyObject *nics, NmqPlanCall *c)
{
    NmqGuestPlan totals;
    NmqError err;
    PyObject *result = NULL;

    if (nmq_plan_read_nics(st, nics, c) < 0)
        goto cleanup;
    if (nmq_policy_plan(&c->in, c->plans, &totals, &err) < 0) {
        nmq_raise(st, "plan", &err);
        goto cleanup;
    }
    result = nmq_guest_plan_to_py(st, c, &totals);
cleanup:
    nmq_plan_call_free(c);
    return result;
}

PyDoc_STRVAR(
    nmq_plan_doc,
    "plan(vcpus, extra_specs=None, image_properties=None, virt_type='kvm', "
    "host=None, options=None, nics=(), flavor_name=None, image_name=None)\n"
    "--\n\n"
    "Plan the virtio-net queues of every NIC of one guest "
    "(nova_mq.plan_guest).\n"
    "\n"
    "vcpus: the flavor's vCPUs.  extra_specs: the flavor's extra specs\n"
    "(hw:vif_multiqueue_enabled, hw:virtio_packed_ring, mq:throughput,\n"
    "mq:max_queues, mq:msi_vector_budget).  image_properties:\n"
    "hw_vif_multiqueue_enabled, hw_virtio_packed_ring.  virt_type: [libvirt]\n"
    "virt_type.  host: {'kernel_release': ...}, default this host's.\n"
    "options: max_queues, rx_queue_size, tx_queue_size ([libvirt]),\n"
    "msi_vector_budget, reserved_msi_vectors ([nova_mq]), packed_ring,\n"
    "vif_models.  nics: dicts with vif_type, vnic_type, model, profile (the\n"
    "port's binding profile: mq_queues, mq_throughput) and fixed_queues.\n"
    "flavor_name, image_name: for Nova's conflict message.\n"
    "\n"
    "Returns a GuestPlan; raises Nova's exceptions on bad input.");

/* _engine.plan(vcpus, extra_specs, image_properties, virt_type, host,
 *              options, nics, flavor_name, image_name) */
static PyObject *
nmq_py_plan(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const NmqName ids[] = {
        N_VCPUS,   N_EXTRA_SPECS, N_IMAGE_PROPERTIES, N_VIRT_TYPE, N_HOST,
        N_OPTIONS, N_NICS,        N_FLAVOR_NAME,      N_IMAGE_NAME};
    NmqState *st = nmq_state(module);
    PyObject *a[9];
    NmqPlanCall c;
    struct utsname uts;

    nmq_plan_call_init(&c);
    if (nmq_bind(st, "plan", args, nargs, kwnames, ids, 9, 9, a) < 0)
        return NULL;
    if (nmq_plan_read_scalars(st, a, &c, &uts) < 0 ||
        nmq_plan_read_specs(st, a[1], a[2], &c) < 0)
        goto cleanup;
    if (nmq_plan_read_options(st, a[5], &c) < 0)
        goto cleanup;
    return nmq_plan_nics(st, a[6], &c);
cleanup:
    nmq_plan_call_free(&c);
    return NULL;
}

/*
 * args and kwargs as one tuple laid out like a vectorcall stack
 * (positional values, then keyword values), with *kwnames the keyword
 * names (NULL when none).  New references; NULL with an exception set.
 */
static PyObject *
nmq_vector_args(PyObject *args, PyObject *kwargs, PyObject **kwnames)
{
    Py_ssize_t np = PyTuple_GET_SIZE(args);
    Py_ssize_t nk = kwargs ? PyDict_GET_SIZE(kwargs) : 0;
    PyObject *stack = PyTuple_New(np + nk);
    PyObject *key = NULL;
    PyObject *value = NULL;
    Py_ssize_t pos = 0;
    Py_ssize_t i;

    *kwnames = NULL;
    if (stack == NULL)
        return NULL;
    for (i = 0; i < np; i++)
        PyTuple_SET_ITEM(stack, i, Py_NewRef(PyTuple_GET_ITEM(args, i)));
    if (nk == 0)
        return stack;
    *kwnames = PyTuple_New(nk);
    if (*kwnames == NULL) {
        Py_DECREF(stack);
        return NULL;
    }
    for (i = 0; PyDict_Next(kwargs, &pos, &key, &value); i++) {
        PyTuple_SET_ITEM(*kwnames, i, Py_NewRef(key));
        PyTuple_SET_ITEM(stack, np + i, Py_NewRef(value));
    }
    return stack;
}

/* ------------------------------------------------------------------ */
/* _engine.GuestPolicy: the guest read once, its NICs planned per call. */

/*
 * A guest's flavor, image, host and options, converted and validated once.
 * Every string in `in` points into `arena`, which the object owns, so the
 * dicts it was made from may change or go away.  nics is unused here.
 */
typedef struct {
    PyObject_HEAD NmqGuestIn in;
    char *arena;
    NmqStr *models;
} NmqPolicyObject;

/* Total bytes (with NULs) the strings of in need. */
static size_t
nmq_guest_in_size(const NmqGuestIn *in)
{
    const NmqStr *strs[] = {
        &in->flavor_name,       &in->image_name,        &in->flavor_mq_enabled,
        &in->flavor_packed,     &in->flavor_throughput, &in->flavor_max_queues,
        &in->flavor_msi_budget, &in->image_mq_enabled,  &in->image_packed,
        &in->virt_type,         &in->kernel_release};
    size_t total = 0;
    size_t i;

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        total += strs[i]->len + 1;
    for (i = 0; i < in->n_vif_models; i++)
        total += in->vif_models[i].len + 1;
    return total;
}

/* Copy s into *cursor (NUL-terminated) and point s at the copy. */
static void
nmq_str_move(NmqStr *s, char **cursor)
{
    if (s->s == NULL)
        return;
    memcpy(*cursor, s->s, s->len);
    (*cursor)[s->len] = '\0';
    s->s = *cursor;
    *cursor += s->len + 1;
}

/*
 * Make self->in an owned copy of in: its strings and its model list move
 * into memory the object owns.  Returns 0, or -1 with MemoryError set.
 */
static int
nmq_policy_own(NmqPolicyObject *self, const NmqGuestIn *in)
{
    NmqStr *strs[] = {&self->in.flavor_name,       &self->in.image_name,
                      &self->in.flavor_mq_enabled, &self->in.flavor_packed,
                      &self->in.flavor_throughput, &self->in.flavor_max_queues,
                      &self->in.flavor_msi_budget, &self->in.image_mq_enabled,
                      &self->in.image_packed,      &self->in.virt_type,
                      &self->in.kernel_release};
    char *cursor = NULL;
    size_t i;

    self->in = *in;
    self->arena = PyMem_Malloc(nmq_guest_in_size(in) + 1);
    self->models = PyMem_Calloc(in->n_vif_models + 1, sizeof(NmqStr));
    if (self->arena == NULL || self->models == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    cursor = self->arena;
    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        nmq_str_move(strs[i], &cursor);
    for (i = 0; i < in->n_vif_models; i++) {
        self->models[i] = in->vif_models[i];
        nmq_str_move(&self->models[i], &cursor);
    }
    self->in.vif_models = in->vif_models ? self->models : NULL;
    self->in.nics = NULL;
    self->in.n_nics = 0;
    return 0;
}

/* GuestPolicy(vcpus, extra_specs=None, image_properties=None,
 *             virt_type='kvm', host=None, options=None, flavor_name=None,
 *             image_name=None) */
static PyObject *
nmq_policy_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static const NmqName ids[] = {
        N_VCPUS,   N_EXTRA_SPECS, N_IMAGE_PROPERTIES, N_VIRT_TYPE, N_HOST,
        N_OPTIONS, N_NICS,        N_FLAVOR_NAME,      N_IMAGE_NAME};
    PyObject *module = PyType_GetModuleByDef(type, &nmq_module);
    NmqState *st = NULL;
    NmqPolicyObject *self = NULL;
    PyObject *a[9] = {NULL};
    PyObject *const *argv = NULL;
    PyObject *kwnames = NULL;
    PyObject *stack = NULL;
    NmqPlanCall c;
    NmqGuestPlan totals;
    NmqError err;
    struct utsname uts;

    if (module == NULL)
        return NULL;
    st = nmq_state(module);
    nmq_plan_call_init(&c);
    /* Reuse plan()'s binding: args + kwargs as a vectorcall stack. */
    stack = nmq_vector_args(args, kwargs, &kwnames);
    if (stack == NULL)
        return NULL;
    argv = &PyTuple_GET_ITEM(stack, 0);
    if (nmq_bind(st, "GuestPolicy", argv, PyTuple_GET_SIZE(args), kwnames, ids,
                 9, 9, a) < 0)
        goto cleanup;
    if (a[6] != NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "GuestPolicy() takes no nics: pass them to plan()");
        goto cleanup;
    }
    if (nmq_plan_read_scalars(st, a, &c, &uts) < 0 ||
        nmq_plan_read_specs(st, a[1], a[2], &c) < 0 ||
        nmq_plan_read_options(st, a[5], &c) < 0)
        goto cleanup;
    /* Validate the guest now, with no NICs: a bad knob fails here. */
    if (nmq_policy_plan(&c.in, c.plans_small, &totals, &err) < 0) {
        nmq_raise(st, "plan", &err);
        goto cleanup;
    }
    self = (NmqPolicyObject *)type->tp_alloc(type, 0);
    if (self != NULL && nmq_policy_own(self, &c.in) < 0)
        Py_CLEAR(self);
cleanup:
    nmq_plan_call_free(&c);
    Py_DECREF(stack);
    Py_XDECREF(kwnames);
    return (PyObject *)self;
}

static void
nmq_policy_dealloc(NmqPolicyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);

    PyMem_Free(self->arena);
    PyMem_Free(self->models);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

PyDoc_STRVAR(nmq_policy_plan_doc,
             "plan($self, nics, /)\n"
             "--\n\n"
             "Plan the NICs (as for plan_guest's nics) against this guest.\n"
             "Returns a GuestPlan equal to plan_guest(..., nics=nics).");

/* GuestPolicy.plan(nics) */
static PyObject *
nmq_policy_plan_py(PyObject *op, PyTypeObject *defining_class,
                   PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    NmqPolicyObject *self = (NmqPolicyObject *)op;
    NmqState *st = PyType_GetModuleState(defining_class);
    NmqPlanCall c;

    if (nargs != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "plan() takes exactly one argument (nics)");
        return NULL;
    }
    c.in = self->in;
    c.models = NULL;
    c.nics = NULL;
    c.plans = NULL;
    c.scratch = NULL;
    return nmq_plan_nics(st, args[0], &c);
}

static PyMethodDef nmq_policy_methods[] = {
    {"plan", (PyCFunction)(void (*)(void))nmq_policy_plan_py,
     METH_METHOD | METH_FASTCALL | METH_KEYWORDS, nmq_policy_plan_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(
    nmq_policy_doc,
    "GuestPolicy(vcpus, extra_specs=None, image_properties=None, "
    "virt_type='kvm', host=None, options=None, flavor_name=None, "
    "image_name=None)\n"
    "--\n\n"
    "One guest's flavor, image, host and options, converted and validated\n"
    "once (a bad knob raises here).  plan(nics) then plans NICs against it,\n"
    "as plan_guest would, converting only the NICs.");

static PyType_Slot nmq_policy_slots[] = {
    {Py_tp_new, nmq_policy_new},
    {Py_tp_dealloc, nmq_policy_dealloc},
    {Py_tp_methods, nmq_policy_methods},
    {Py_tp_doc, (void *)nmq_policy_doc},
    {0, NULL},
};

static PyType_Spec nmq_policy_spec = {
    .name = "nova_mq._engine.GuestPolicy",
    .basicsize = sizeof(NmqPolicyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = nmq_policy_slots,
};

/* ------------------------------------------------------------------ */
/* _engine.render                                                      */

/* The NmqVal fields of NmqIface, by the keyword that sets each. */
typedef struct {
    NmqName name;
    size_t offset;
} NmqValField;

#define NMQ_VF(id, field)                                                      \
    {                                                                          \
        id, offsetof(NmqIface, field)                                          \
    }
static const NmqValField nmq_val_fields[] = {
    NMQ_VF(N_NET_TYPE, net_type),
    NMQ_VF(N_MAC_ADDR, mac_addr),
    NMQ_VF(N_MODEL, model),
    NMQ_VF(N_DRIVER_NAME, driver_name),
    NMQ_VF(N_VHOST_QUEUES, vhost_queues),
    NMQ_VF(N_VHOST_RX, vhost_rx_queue_size),
    NMQ_VF(N_VHOST_TX, vhost_tx_queue_size),
    NMQ_VF(N_SCRIPT, script),
    NMQ_VF(N_MTU, mtu),
    NMQ_VF(N_SOURCE_DEV, source_dev),
    NMQ_VF(N_SOURCE_MODE, source_mode),
    NMQ_VF(N_VHOSTUSER_TYPE, vhostuser_type),
    NMQ_VF(N_VHOSTUSER_MODE, vhostuser_mode),
    NMQ_VF(N_VHOSTUSER_PATH, vhostuser_path),
    NMQ_VF(N_VLAN, vlan),
    NMQ_VF(N_TARGET_DEV, target_dev),
    NMQ_VF(N_MANAGED, managed),
    NMQ_VF(N_VPORTTYPE, vporttype),
    NMQ_VF(N_FILTERNAME, filtername),
    NMQ_VF(N_IN_AVERAGE, vif_inbound_average),
    NMQ_VF(N_IN_PEAK, vif_inbound_peak),
    NMQ_VF(N_IN_BURST, vif_inbound_burst),
    NMQ_VF(N_OUT_AVERAGE, vif_outbound_average),
    NMQ_VF(N_OUT_PEAK, vif_outbound_peak),
    NMQ_VF(N_OUT_BURST, vif_outbound_burst),
};
#define NMQ_N_VAL_FIELDS                                                       \
    ((int)(sizeof(nmq_val_fields) / sizeof(nmq_val_fields[0])))

/* The keywords render accepts: the value fields, then these. */
enum {
    R_IOMMU = NMQ_N_VAL_FIELDS,
    R_PACKED,
    R_VPORTPARAMS,
    R_FILTERPARAMS,
    R_ALIAS,
    R_DEVICE_ADDR,
    R_PRETTY,
    R__COUNT
};

/* Convert o into an NmqVal for keyword key (Python's str() and truth). */
static int
nmq_to_val(NmqState *st, const char *key, PyObject *o, NmqScratch *scratch,
           NmqVal *out)
{
    if (nmq_to_str(st, "render", key, o, scratch, &out->text) < 0)
        return -1;
    /* Nova hands some attributes to lxml without str(): not a str there
     * is lxml's TypeError, which the emitter reports where Nova would. */
    out->not_str = o != NULL && o != Py_None && !PyUnicode_Check(o);
    if (o == NULL || o == Py_None)
        out->truthy = 0;
    else if (PyUnicode_Check(o))
        out->truthy = out->text.len > 0;
    else
        out->truthy = PyObject_IsTrue(o); /* int or bool: cannot fail */
    return 0;
}

/* Room for the params of one list: key and value of each entry. */
typedef struct {
    NmqParam *params;
    NmqScratch *scratch;
    size_t n;
} NmqParamList;

/* Convert a list of {'key': k, 'value': v} dicts (as Nova stores
 * vportparams and filterparams) into pl.  Returns 0 or -1. */
static int
nmq_read_params(NmqState *st, const char *key, PyObject *list, NmqParamList *pl)
{
    Py_ssize_t i;
    Py_ssize_t n;

    if (list == NULL || list == Py_None)
        return 0;
    if (!PyList_Check(list) && !PyTuple_Check(list)) {
        nmq_raise_type(st, "render", key, list, "a list of dicts");
        return -1;
    }
    n = PySequence_Fast_GET_SIZE(list);
    pl->params = PyMem_Calloc(n ? (size_t)n : 1, sizeof(NmqParam));
    pl->scratch = PyMem_Calloc(n ? (size_t)n * 2 : 1, sizeof(NmqScratch));
    if (pl->params == NULL || pl->scratch == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *d = PySequence_Fast_GET_ITEM(list, i);
        PyObject *k = NULL;
        PyObject *v = NULL;

        if (!PyDict_Check(d)) {
            nmq_raise_type(st, "render", key, d, "a dict with key and value");
            return -1;
        }
        if (nmq_dict_get(st, "render", key, d, NAME(st, N_KEY), &k) < 0 ||
            nmq_dict_get(st, "render", key, d, NAME(st, N_VALUE), &v) < 0 ||
            nmq_to_val(st, key, k, &pl->scratch[2 * i], &pl->params[i].key) <
                0 ||
            nmq_to_val(st, key, v, &pl->scratch[2 * i + 1],
                       &pl->params[i].value) < 0)
            return -1;
    }
    pl->n = (size_t)n;
    return 0;
}

/* Fill iface from the bound keyword values a[0..R__COUNT). */
static int
nmq_render_read(NmqState *st, PyObject **a, NmqIface *iface,
                NmqScratch *scratch, NmqParamList *vp, NmqParamList *fp)
{
    int i;

    nmq_iface_init(iface);
    for (i = 0; i < NMQ_N_VAL_FIELDS; i++) {
        NmqVal *field = (NmqVal *)((char *)iface + nmq_val_fields[i].offset);

        if (a[i] == NULL)
            continue; /* keep nmq_iface_init's default */
        if (nmq_to_val(st, nmq_name_strs[nmq_val_fields[i].name], a[i],
                       &scratch[i], field) < 0)
            return -1;
    }
    if (a[R_IOMMU] != NULL &&
        (iface->driver_iommu = PyObject_IsTrue(a[R_IOMMU])) < 0)
        return -1;
    if (a[R_PACKED] != NULL &&
        (iface->driver_packed = PyObject_IsTrue(a[R_PACKED])) < 0)
        return -1;
    if (nmq_read_params(st, "vportparams", a[R_VPORTPARAMS], vp) < 0 ||
        nmq_read_params(st, "filterparams", a[R_FILTERPARAMS], fp) < 0)
        return -1;
    iface->vportparams = vp->params;
    iface->n_vportparams = vp->n;
    iface->filterparams = fp->params;
    iface->n_filterparams = fp->n;
    return 0;
}

PyDoc_STRVAR(
    nmq_render_doc,
    "render(plan=None, /, *, pretty_print=True, **attrs)\n"
    "--\n\n"
    "Return the <interface> XML for attrs, named as the attributes of Nova's\n"
    "LibvirtConfigGuestInterface, byte for byte as its to_xml() writes it.\n"
    "\n"
    "plan: a NicPlan, whose driver, queues, rx/tx queue sizes and packed\n"
    "ring give driver_name, vhost_queues, vhost_rx_queue_size,\n"
    "vhost_tx_queue_size and driver_packed (each unless None; none of them\n"
    "may then be a keyword too).");

/*
 * Render the interface whose attributes are bound in a[0..R_PRETTY)
 * (borrowed).  New reference, or NULL with an exception set.
 */
static PyObject *
nmq_render_bound(NmqState *st, PyObject **a, int pretty)
{
    NmqScratch scratch[NMQ_N_VAL_FIELDS];
    NmqParamList vp = {NULL, NULL, 0};
    NmqParamList fp = {NULL, NULL, 0};
    NmqIface iface;
    NmqError err;
    PyObject *result = NULL;

    if (nmq_render_read(st, a, &iface, scratch, &vp, &fp) < 0)
        goto cleanup;
    xmlBufferEmpty(st->out);
    if (nmq_iface_format(&iface, pretty, st->out, &err) < 0) {
        nmq_raise(st, "render", &err);
        goto cleanup;
    }
    result = PyUnicode_DecodeUTF8((const char *)xmlBufferContent(st->out),
                                  xmlBufferLength(st->out), "strict");
cleanup:
    PyMem_Free(vp.params);
    PyMem_Free(vp.scratch);
    PyMem_Free(fp.params);
    PyMem_Free(fp.scratch);
    return result;
}

/*
 * Put what the NicPlan plan decides into a (borrowed from plan): the driver
 * name, queues, rx/tx queue sizes and packed ring, each unless it is None.
 * None of them may be a keyword as well.  Returns 0, or -1 with TypeError.
 */
static int
nmq_render_plan(NmqState *st, PyObject *plan, PyObject **a)
{
    int k;

    if (!Py_IS_TYPE(plan, st->nic_plan)) {
        PyErr_Format(PyExc_TypeError,
                     "render() takes a NicPlan as its only positional "
                     "argument, not %.100s",
                     Py_TYPE(plan)->tp_name);
        return -1;
    }
    for (k = 0; k < NMQ_N_PLAN_ATTRS; k++) {
        int slot = st->plan_slots[k];
        PyObject *v = PyStructSequence_GET_ITEM(plan, nmq_plan_attrs[k].field);

        if (a[slot] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "render() got %s both from the NicPlan and as a "
                         "keyword",
                         nmq_name_strs[nmq_plan_attrs[k].name]);
            return -1;
        }
        a[slot] = v == Py_None ? NULL : v;
    }
    return 0;
}

/* _engine.render(plan=None, /, *, pretty_print=True, **attrs) */
static PyObject *
nmq_py_render(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
              PyObject *kwnames)
{
    NmqState *st = nmq_state(module);
    PyObject *a[R__COUNT];
    int pretty = 1;

    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError,
                     "render() takes at most 1 positional argument (a "
                     "NicPlan), %zd given",
                     nargs);
        return NULL;
    }
    /* The keywords' values follow the positional ones. */
    if (nmq_bind(st, "render", args + nargs, 0, kwnames, st->render_ids,
                 R__COUNT, 0, a) < 0)
        return NULL;
    if (nargs == 1 && nmq_render_plan(st, args[0], a) < 0)
        return NULL;
    if (a[R_PRETTY] != NULL && (pretty = PyObject_IsTrue(a[R_PRETTY])) < 0)
        return NULL;
    return nmq_render_bound(st, a, pretty);
}

/* Fill the attribute table: render's keywords but pretty_print, and
 * Nova's base attributes (slot -1: read by no one). */
static void
nmq_state_attr_table(NmqState *st)
{
    static const NmqName base[] = {N_ROOT_NAME, N_NS_PREFIX, N_NS_URI};
    int i;

    for (i = 0; i < R_PRETTY + 3; i++) {
        PyObject *key = i < R_PRETTY ? NAME(st, st->render_ids[i])
                                     : NAME(st, base[i - R_PRETTY]);
        size_t h = ((size_t)key >> 4) & (NMQ_ATTR_TABLE - 1);

        while (st->attr_keys[h] != NULL)
            h = (h + 1) & (NMQ_ATTR_TABLE - 1);
        st->attr_keys[h] = key; /* borrowed from st->names */
        st->attr_slots[h] = (signed char)(i < R_PRETTY ? i : -1);
    }
}

/* The render slot of attribute key, -1 for a base attribute, or R__COUNT
 * for a name render does not know. */
static int
nmq_attr_slot(NmqState *st, PyObject *key)
{
    size_t h = ((size_t)key >> 4) & (NMQ_ATTR_TABLE - 1);
    int i;

    for (; st->attr_keys[h] != NULL; h = (h + 1) & (NMQ_ATTR_TABLE - 1)) {
        if (st->attr_keys[h] == key)
            return st->attr_slots[h];
    }
    if (!PyUnicode_Check(key))
        return R__COUNT;
    /* Not interned (built at run time): compare the text. */
    for (i = 0; i < NMQ_ATTR_TABLE; i++) {
        if (st->attr_keys[i] != NULL &&
            PyUnicode_Compare(key, st->attr_keys[i]) == 0)
            return st->attr_slots[i];
    }
    return R__COUNT;
}

PyDoc_STRVAR(
    nmq_render_attrs_doc,
    "render_attrs(attrs, pretty_print=True, /)\n"
    "--\n\n"
    "render() for a LibvirtConfigGuestInterface's attribute dict (its\n"
    "__dict__): root_name, ns_prefix and ns_uri are Nova's and skipped; any\n"
    "other name render() does not know is a TypeError, so an attribute a\n"
    "newer Nova adds is never dropped silently.");

/* _engine.render_attrs(attrs, pretty_print=True, /) */
static PyObject *
nmq_py_render_attrs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    NmqState *st = nmq_state(module);
    PyObject *a[R__COUNT] = {NULL};
    PyObject *key = NULL;
    PyObject *value = NULL;
    PyObject *result = NULL;
    Py_ssize_t pos = 0;
    int pretty = 1;
    int j;

    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError,
                     "render_attrs() takes 1 or 2 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    if (!PyDict_Check(args[0])) {
        nmq_raise_type(st, "render", "attrs", args[0], "a dict");
        return NULL;
    }
    if (nargs == 2 && (pretty = PyObject_IsTrue(args[1])) < 0)
        return NULL;
    /* Strong references: str() of a value may run code that changes the
     * dict while the values are read. */
    while (PyDict_Next(args[0], &pos, &key, &value)) {
        j = nmq_attr_slot(st, key);
        if (j < 0)
            continue;
        if (j == R__COUNT) {
            PyErr_Format(PyExc_TypeError,
                         "render_attrs() got an unknown attribute %R", key);
            goto cleanup;
        }
        Py_XSETREF(a[j], Py_NewRef(value));
    }
    result = nmq_render_bound(st, a, pretty);
cleanup:
    for (j = 0; j < R__COUNT; j++)
        Py_XDECREF(a[j]);
    return result;
}

/* ------------------------------------------------------------------ */
/* _engine.parse                                                       */

/* s as a str, or None when absent. New reference. */
static PyObject *
nmq_str_or_none(NmqStr s)
{
    if (s.s == NULL)
        return Py_NewRef(Py_None);
    return PyUnicode_DecodeUTF8(s.s, (Py_ssize_t)s.len, "replace");
}

/* n as an int, or None when negative (absent). New reference. */
static PyObject *
nmq_long_or_none(long n)
{
    return n < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(n);
}

/* Set d[key] = v, stealing v.  Returns 0 or -1. */
static int
nmq_dict_steal(PyObject *d, PyObject *key, PyObject *v)
{
    int rc;

    if (v == NULL)
        return -1;
    rc = PyDict_SetItem(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* One interface as a dict. New reference. */
static PyObject *
nmq_iface_to_py(NmqState *st, const NmqDomainIface *f)
{
    PyObject *d = PyDict_New();

    if (d == NULL)
        return NULL;
    if (nmq_dict_steal(d, NAME(st, N_TYPE), nmq_str_or_none(f->type)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_MAC), nmq_str_or_none(f->mac)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_MODEL), nmq_str_or_none(f->model)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_DRIVER), nmq_str_or_none(f->driver)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_QUEUES), nmq_long_or_none(f->queues)) <
            0 ||
        nmq_dict_steal(d, NAME(st, N_RX_QUEUE_SIZE),
                       nmq_long_or_none(f->rx_queue_size)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_TX_QUEUE_SIZE),
                       nmq_long_or_none(f->tx_queue_size)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_TARGET_DEV),
                       nmq_str_or_none(f->target_dev)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_ALIAS), nmq_str_or_none(f->alias)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

/* The whole domain as a dict. New reference. */
static PyObject *
nmq_domain_to_py(NmqState *st, const NmqDomain *dom)
{
    PyObject *d = PyDict_New();
    PyObject *ifaces = NULL;
    size_t i;

    if (d == NULL)
        return NULL;
    ifaces = PyList_New((Py_ssize_t)dom->n_ifaces);
    if (ifaces == NULL)
        goto error;
    for (i = 0; i < dom->n_ifaces; i++) {
        PyObject *f = nmq_iface_to_py(st, &dom->ifaces[i]);

        if (f == NULL)
            goto error;
        PyList_SET_ITEM(ifaces, (Py_ssize_t)i, f);
    }
    if (nmq_dict_steal(d, NAME(st, N_NAME), nmq_str_or_none(dom->name)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_VCPUS), PyLong_FromLong(dom->vcpus)) < 0 ||
        nmq_dict_steal(d, NAME(st, N_VCPUS_CURRENT),
                       PyLong_FromLong(dom->vcpus_current)) < 0)
        goto error;
    if (nmq_dict_steal(d, NAME(st, N_INTERFACES), ifaces) < 0) {
        ifaces = NULL; /* stolen even on failure */
        goto error;
    }
    return d;
error:
    Py_XDECREF(ifaces);
    Py_DECREF(d);
    return NULL;
}

PyDoc_STRVAR(
    nmq_parse_doc,
    "parse(xml, /)\n"
    "--\n\n"
    "Read a libvirt domain XML (str or bytes): its vCPUs and interfaces.");

/* _engine.parse(xml) */
static PyObject *
nmq_py_parse(PyObject *module, PyObject *xml)
{
    NmqState *st = nmq_state(module);
    NmqDomain dom;
    NmqError err;
    const char *buf = NULL;
    Py_ssize_t len = 0;
    PyObject *result = NULL;

    memset(&dom, 0, sizeof(dom));
    if (PyUnicode_Check(xml)) {
        buf = PyUnicode_AsUTF8AndSize(xml, &len);
        if (buf == NULL) {
            PyErr_Clear();
            nmq_error_set(&err, NMQ_ERR_PARSE, "xml",
                          NMQ_STR_LIT("<str with a lone surrogate>"),
                          "Invalid value <str with a lone surrogate> for "
                          "xml: the string is not valid Unicode");
            return nmq_raise(st, "parse", &err);
        }
    } else if (PyBytes_Check(xml)) {
        buf = PyBytes_AS_STRING(xml);
        len = PyBytes_GET_SIZE(xml);
    } else {
        return nmq_raise_type(st, "parse", "xml", xml, "str or bytes");
    }
    if ((PyUnicode_Check(xml) ? nmq_domain_read_utf8 : nmq_domain_read)(
            buf, (size_t)len, &dom, &err) < 0)
        return nmq_raise(st, "parse", &err);
    result = nmq_domain_to_py(st, &dom);
    nmq_domain_free(&dom);
    return result;
}

/* ------------------------------------------------------------------ */
/* _engine.tap_queue_cap, _engine.msi_vectors: the engine's rules.      */

PyDoc_STRVAR(
    nmq_tap_queue_cap_doc,
    "tap_queue_cap(max_queues, kernel_release, /)\n"
    "--\n\n"
    "The host tap queue cap exactly as plan() applies it, as (cap, reason):\n"
    "[libvirt]max_queues when > 0 ('capped-by-libvirt-max-queues'), else by\n"
    "the kernel's major version: <= 2: 1, 3: 8, 4: 256, later: no kernel\n"
    "cap ('capped-by-host-kernel'); never above MAX_QUEUES (the kernel\n"
    "reason).  max_queues: an int from 0 to MAX_OPTION_VALUE, or None (0).\n"
    "With no max_queues, a kernel release whose major version does not\n"
    "parse raises what plan() raises (key 'kernel_release').");

/* _engine.tap_queue_cap(max_queues, kernel_release, /) */
static PyObject *
nmq_py_tap_queue_cap(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    NmqState *st = nmq_state(module);
    NmqScratch scratch;
    NmqStr kernel;
    NmqError err;
    NmqReason reason;
    long max_queues;
    long cap;

    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "tap_queue_cap() takes exactly 2 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    if (nmq_long_value(st, "max_queues", args[0], 0, 0, NMQ_MAX_OPTION_VALUE,
                       &max_queues) < 0 ||
        nmq_to_str(st, "plan", "kernel_release", args[1], &scratch, &kernel) <
            0)
        return NULL;
    if (nmq_policy_tap_cap(max_queues, kernel, &cap, &reason, &err) < 0)
        return nmq_raise(st, "plan", &err);
    return Py_BuildValue("(lO)", cap, st->reasons[reason]);
}

PyDoc_STRVAR(nmq_msi_vectors_doc,
             "msi_vectors(queues, /)\n"
             "--\n\n"
             "MSI-X vectors a virtio NIC with queues queue pairs uses in the\n"
             "guest: 2 * queues + 2, or 3 for one queue.  queues: an int\n"
             "from 1 to MAX_QUEUES.");

/* _engine.msi_vectors(queues, /) */
static PyObject *
nmq_py_msi_vectors(PyObject *module, PyObject *queues)
{
    long q;

    if (queues == Py_None) {
        nmq_raise_type(nmq_state(module), "plan", "queues", queues,
                       "an integer");
        return NULL;
    }
    if (nmq_long_value(nmq_state(module), "queues", queues, 0, 1,
                       NMQ_MAX_QUEUES, &q) < 0)
        return NULL;
    return PyLong_FromLong(nmq_policy_msi_vectors((int)q));
}

/* ------------------------------------------------------------------ */
/* _engine._configure                                                  */

PyDoc_STRVAR(
    nmq_configure_doc,
    "_configure(error_factory, packed_ring)\n"
    "--\n\n"
    "Called once by nova_mq: the callable that builds the exception for an\n"
    "engine error (what, code, key, value, message, extra1, extra2), and\n"
    "whether the installed Nova writes packed virtqueues.");

/* _engine._configure(error_factory, packed_ring) */
static PyObject *
nmq_py_configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    NmqState *st = nmq_state(module);
    int packed;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError,
                        "_configure() takes exactly 2 arguments");
        return NULL;
    }
    if (args[0] != Py_None && !PyCallable_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "error_factory must be callable or None");
        return NULL;
    }
    packed = PyObject_IsTrue(args[1]);
    if (packed < 0)
        return NULL;
    Py_XSETREF(st->error_factory,
               args[0] == Py_None ? NULL : Py_NewRef(args[0]));
    st->packed_default = packed;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Module definition.                                                  */

static PyMethodDef nmq_methods[] = {
    {"plan", (PyCFunction)(void (*)(void))nmq_py_plan,
     METH_FASTCALL | METH_KEYWORDS, nmq_plan_doc},
    {"render", (PyCFunction)(void (*)(void))nmq_py_render,
     METH_FASTCALL | METH_KEYWORDS, nmq_render_doc},
    {"render_attrs", (PyCFunction)(void (*)(void))nmq_py_render_attrs,
     METH_FASTCALL, nmq_render_attrs_doc},
    {"parse", nmq_py_parse, METH_O, nmq_parse_doc},
    {"tap_queue_cap", (PyCFunction)(void (*)(void))nmq_py_tap_queue_cap,
     METH_FASTCALL, nmq_tap_queue_cap_doc},
    {"msi_vectors", nmq_py_msi_vectors, METH_O, nmq_msi_vectors_doc},
    {"_configure", (PyCFunction)(void (*)(void))nmq_py_configure, METH_FASTCALL,
     nmq_configure_doc},
    {NULL, NULL, 0, NULL},
};

static PyStructSequence_Field nmq_nic_plan_fields[] = {
    {"driver", "driver name: 'vhost', 'qemu' or None"},
    {"model", "the NIC model Nova writes, or None"},
    {"queues", "queue pairs written as queues=, or None"},
    {"rx_queue_size", "rx_queue_size written, or None"},
    {"tx_queue_size", "tx_queue_size Nova sets for this NIC, or None"},
    {"packed", "packed virtqueue, or None where Nova has none"},
    {"multiqueue", "True when the NIC has more than one queue pair"},
    {"requested", "queue pairs asked for, before caps and budget"},
    {"msi_vectors", "MSI-X vectors the NIC uses in the guest"},
    {"vhost_memory", "bytes of vhost-net kernel memory"},
    {"reasons", "tuple of reasons for the decision"},
    {NULL, NULL},
};

static PyStructSequence_Desc nmq_nic_plan_desc = {"nova_mq._engine.NicPlan",
                                                  "The plan for one NIC.",
                                                  nmq_nic_plan_fields, 11};

static PyStructSequence_Field nmq_guest_plan_fields[] = {
    {"nics", "tuple of NicPlan, in the order of the NICs given"},
    {"msi_vectors", "MSI-X vectors all NICs use"},
    {"msi_budget", "MSI-X vectors the NICs may use"},
    {"vhost_memory", "bytes of vhost-net kernel memory, all NICs"},
    {"warnings", "tuple of guest-wide warnings"},
    {NULL, NULL},
};

static PyStructSequence_Desc nmq_guest_plan_desc = {"nova_mq._engine.GuestPlan",
                                                    "The plan for one guest.",
                                                    nmq_guest_plan_fields, 5};

/* Intern every name string into st.  Returns 0 or -1. */
static int
nmq_state_intern(NmqState *st)
{
    int i;

    for (i = 0; i < N__COUNT; i++) {
        st->names[i] = PyUnicode_InternFromString(nmq_name_strs[i]);
        if (st->names[i] == NULL)
            return -1;
    }
    for (i = 0; i < NMQ_REASON__COUNT; i++) {
        st->reasons[i] = PyUnicode_InternFromString(nmq_reason_str(i));
        if (st->reasons[i] == NULL)
            return -1;
    }
    for (i = 0; i < NMQ_WARN__COUNT; i++) {
        st->warnings[i] = PyUnicode_InternFromString(nmq_warning_str(i));
        if (st->warnings[i] == NULL)
            return -1;
    }
    st->drivers[0] = PyUnicode_InternFromString("vhost");
    st->drivers[1] = PyUnicode_InternFromString("qemu");
    return st->drivers[0] && st->drivers[1] ? 0 : -1;
}

_Static_assert(R__COUNT <= 64, "NmqState.render_ids is too small");
_Static_assert(R__COUNT <= NMQ_BIND_MAX_KW,
               "render has more keywords than a bind layout holds");

/* Fill st->render_ids: the value fields' keywords, then the others; and
 * st->plan_slots from them.  Returns 0, or -1 with SystemError set. */
static int
nmq_state_render_ids(NmqState *st)
{
    int i;
    int k;

    for (i = 0; i < NMQ_N_VAL_FIELDS; i++)
        st->render_ids[i] = nmq_val_fields[i].name;
    st->render_ids[R_IOMMU] = N_DRIVER_IOMMU;
    st->render_ids[R_PACKED] = N_DRIVER_PACKED;
    st->render_ids[R_VPORTPARAMS] = N_VPORTPARAMS;
    st->render_ids[R_FILTERPARAMS] = N_FILTERPARAMS;
    st->render_ids[R_ALIAS] = N_ALIAS;
    st->render_ids[R_DEVICE_ADDR] = N_DEVICE_ADDR;
    st->render_ids[R_PRETTY] = N_PRETTY_PRINT;
    for (k = 0; k < NMQ_N_PLAN_ATTRS; k++) {
        for (i = 0; i < R__COUNT; i++) {
            if (st->render_ids[i] == nmq_plan_attrs[k].name)
                break;
        }
        if (i == R__COUNT) {
            PyErr_Format(PyExc_SystemError, "render() has no keyword %s",
                         nmq_name_strs[nmq_plan_attrs[k].name]);
            return -1;
        }
        st->plan_slots[k] = i;
    }
    return 0;
}

/* Append the str of w to list.  Returns 0 or -1. */
static int
nmq_list_append_str(PyObject *list, NmqStr w)
{
    PyObject *o = PyUnicode_FromStringAndSize(w.s, (Py_ssize_t)w.len);
    int rc;

    if (o == NULL)
        return -1;
    PyUnicode_InternInPlace(&o);
    rc = PyList_Append(list, o);
    Py_DECREF(o);
    return rc;
}

/* Set module.name to tuple(list) and clear list.  Returns 0 or -1. */
static int
nmq_add_list_as_tuple(PyObject *module, const char *name, PyObject *list)
{
    PyObject *t = PyList_AsTuple(list);
    int rc = t == NULL ? -1 : PyModule_AddObjectRef(module, name, t);

    Py_XDECREF(t);
    if (PyList_SetSlice(list, 0, PY_SSIZE_T_MAX, NULL) < 0)
        rc = -1;
    return rc;
}

/* THROUGHPUTS, TRUE_STRINGS, FALSE_STRINGS, REASONS, WARNINGS: the
 * engine's tables as tuples of str, in table order.  Returns 0 or -1. */
static int
nmq_add_word_tuples(PyObject *module)
{
    PyObject *list = PyList_New(0);
    NmqStr w;
    int rc = list == NULL ? -1 : 0;
    int i;

    for (i = 0; rc == 0 && i < NMQ_THROUGHPUT__COUNT; i++) {
        const char *t = nmq_throughput_str((NmqThroughput)i);

        rc = nmq_list_append_str(list, (NmqStr){t, strlen(t)});
    }
    if (rc == 0)
        rc = nmq_add_list_as_tuple(module, "THROUGHPUTS", list);
    for (i = 0; rc == 0 && (w = nmq_policy_bool_word(1, (size_t)i)).s; i++)
        rc = nmq_list_append_str(list, w);
    if (rc == 0)
        rc = nmq_add_list_as_tuple(module, "TRUE_STRINGS", list);
    for (i = 0; rc == 0 && (w = nmq_policy_bool_word(0, (size_t)i)).s; i++)
        rc = nmq_list_append_str(list, w);
    if (rc == 0)
        rc = nmq_add_list_as_tuple(module, "FALSE_STRINGS", list);
    for (i = 0; rc == 0 && i < NMQ_REASON__COUNT; i++) {
        const char *r = nmq_reason_str((NmqReason)i);

        rc = nmq_list_append_str(list, (NmqStr){r, strlen(r)});
    }
    if (rc == 0)
        rc = nmq_add_list_as_tuple(module, "REASONS", list);
    for (i = 0; rc == 0 && i < NMQ_WARN__COUNT; i++) {
        const char *r = nmq_warning_str((NmqWarning)i);

        rc = nmq_list_append_str(list, (NmqStr){r, strlen(r)});
    }
    if (rc == 0)
        rc = nmq_add_list_as_tuple(module, "WARNINGS", list);
    Py_XDECREF(list);
    return rc;
}

static int
nmq_exec(PyObject *module)
{
    NmqState *st = nmq_state(module);

    st->packed_default = 1;
    if (nmq_state_render_ids(st) < 0 || nmq_state_intern(st) < 0)
        return -1;
    nmq_state_attr_table(st);
    st->error = PyErr_NewExceptionWithDoc(
        "nova_mq._engine.Error",
        "An engine error before nova_mq registered Nova's exceptions.",
        PyExc_ValueError, NULL);
    if (st->error == NULL ||
        PyModule_AddObjectRef(module, "Error", st->error) < 0)
        return -1;
    st->nic_plan = PyStructSequence_NewType(&nmq_nic_plan_desc);
    st->guest_plan = PyStructSequence_NewType(&nmq_guest_plan_desc);
    if (st->nic_plan == NULL || st->guest_plan == NULL)
        return -1;
    st->policy = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &nmq_policy_spec, NULL);
    if (st->policy == NULL || PyModule_AddObjectRef(module, "GuestPolicy",
                                                    (PyObject *)st->policy) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "NicPlan", (PyObject *)st->nic_plan) <
            0 ||
        PyModule_AddObjectRef(module, "GuestPlan", (PyObject *)st->guest_plan) <
            0)
        return -1;
    st->out = xmlBufferCreateSize(1024);
    if (st->out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (PyModule_AddIntConstant(module, "MAX_QUEUES", NMQ_MAX_QUEUES) < 0 ||
        PyModule_AddIntConstant(module, "MAX_XML_BYTES", NMQ_READER_MAX_BYTES) <
            0 ||
        PyModule_AddIntConstant(module, "DEFAULT_MSI_VECTOR_BUDGET",
                                NMQ_DEFAULT_MSI_VECTOR_BUDGET) < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_RESERVED_MSI_VECTORS",
                                NMQ_DEFAULT_RESERVED_MSI_VECTORS) < 0 ||
        PyModule_AddIntConstant(module, "VHOST_BYTES_PER_QUEUE",
                                NMQ_VHOST_BYTES_PER_QUEUE) < 0 ||
        PyModule_AddIntConstant(module, "MIN_MSI_VECTOR_BUDGET",
                                NMQ_MIN_MSI_VECTOR_BUDGET) < 0 ||
        PyModule_AddIntConstant(module, "MAX_MSI_VECTOR_BUDGET",
                                NMQ_MAX_MSI_VECTOR_BUDGET) < 0 ||
        PyModule_AddIntConstant(module, "MAX_OPTION_VALUE",
                                NMQ_MAX_OPTION_VALUE) < 0 ||
        PyModule_AddIntConstant(module, "MAX_QUEUE_SIZE", NMQ_MAX_QUEUE_SIZE) <
            0)
        return -1;
    return nmq_add_word_tuples(module);
}

static int
nmq_traverse(PyObject *module, visitproc visit, void *arg)
{
    NmqState *st = nmq_state(module);
    int i;

    Py_VISIT(st->error);
    Py_VISIT(st->error_factory);
    Py_VISIT(st->nic_plan);
    Py_VISIT(st->guest_plan);
    Py_VISIT(st->policy);
    for (i = 0; i < NMQ_PLAN_CACHE; i++) {
        Py_VISIT(st->nic_plans[i]);
        Py_VISIT(st->guest_plans[i]);
    }
    return 0;
}

static int
nmq_clear(PyObject *module)
{
    NmqState *st = nmq_state(module);
    int i;

    Py_CLEAR(st->error);
    Py_CLEAR(st->error_factory);
    Py_CLEAR(st->nic_plan);
    Py_CLEAR(st->guest_plan);
    Py_CLEAR(st->policy);
    for (i = 0; i < N__COUNT; i++)
        Py_CLEAR(st->names[i]);
    for (i = 0; i < NMQ_REASON__COUNT; i++)
        Py_CLEAR(st->reasons[i]);
    for (i = 0; i < NMQ_WARN__COUNT; i++)
        Py_CLEAR(st->warnings[i]);
    Py_CLEAR(st->drivers[0]);
    Py_CLEAR(st->drivers[1]);
    for (i = 0; i < NMQ_MODEL_CACHE; i++) {
        Py_CLEAR(st->model_strs[i]);
        st->model_keys[i] = NULL;
    }
    for (i = 0; i < NMQ_REASON_CACHE; i++)
        Py_CLEAR(st->reason_tuples[i]);
    for (i = 0; i < NMQ_PLAN_CACHE; i++) {
        Py_CLEAR(st->nic_plans[i]);
        Py_CLEAR(st->guest_plans[i]);
    }
    for (i = 0; i < NMQ_BIND_CACHE; i++) {
        Py_CLEAR(st->bind_cache[i].kwnames);
        st->bind_cache[i].ids = NULL;
    }
    return 0;
}

static void
nmq_free(void *module)
{
    NmqState *st = nmq_state((PyObject *)module);

    nmq_clear((PyObject *)module);
    if (st->out != NULL) {
        xmlBufferFree(st->out);
        st->out = NULL;
    }
}

static PyModuleDef_Slot nmq_slots[] = {
    {Py_mod_exec, nmq_exec},
    {0, NULL},
};

PyDoc_STRVAR(
    nmq_module_doc,
    "nova-mq's C engine: the queue policy, the <interface> emitter and the\n"
    "domain XML reader.  Use it through the nova_mq package.");

static struct PyModuleDef nmq_module = {
    PyModuleDef_HEAD_INIT,      .m_name = "nova_mq._engine",
    .m_doc = nmq_module_doc,    .m_size = sizeof(NmqState),
    .m_methods = nmq_methods,   .m_slots = nmq_slots,
    .m_traverse = nmq_traverse, .m_clear = nmq_clear,
    .m_free = nmq_free,
};

PyMODINIT_FUNC
PyInit__engine(void)
{
    return PyModuleDef_Init(&nmq_module);
}
