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
 * py_render.c: _engine.render(), Nova's LibvirtConfigGuestInterface
 * attributes (keywords, or a NicPlan's decided values) into an NmqIface,
 * written by nmq_iface_format() into a buffer of this call and returned
 * as a new str.  It calls back into Python for str() text and truth of the
 * builtins passed (through the C API), to build the result str and to
 * raise (py_module.c).
 */
#include "py_binding.h"

#include <stddef.h>
#include <string.h>

/* The keywords that set one NmqVal field of NmqIface each, in Nova's
 * order: (name, field). */
#define NMQ_RENDER_VALS(X)                                                     \
    X(N_NET_TYPE, net_type)                                                    \
    X(N_MAC_ADDR, mac_addr)                                                    \
    X(N_MODEL, model)                                                          \
    X(N_DRIVER_NAME, driver_name)                                              \
    X(N_VHOST_QUEUES, vhost_queues)                                            \
    X(N_VHOST_RX, vhost_rx_queue_size)                                         \
    X(N_VHOST_TX, vhost_tx_queue_size)                                         \
    X(N_SCRIPT, script)                                                        \
    X(N_MTU, mtu)                                                              \
    X(N_SOURCE_DEV, source_dev)                                                \
    X(N_SOURCE_MODE, source_mode)                                              \
    X(N_VHOSTUSER_TYPE, vhostuser_type)                                        \
    X(N_VHOSTUSER_MODE, vhostuser_mode)                                        \
    X(N_VHOSTUSER_PATH, vhostuser_path)                                        \
    X(N_VLAN, vlan)                                                            \
    X(N_TARGET_DEV, target_dev)                                                \
    X(N_MANAGED, managed)                                                      \
    X(N_VPORTTYPE, vporttype)                                                  \
    X(N_FILTERNAME, filtername)                                                \
    X(N_IN_AVERAGE, vif_inbound_average)                                       \
    X(N_IN_PEAK, vif_inbound_peak)                                             \
    X(N_IN_BURST, vif_inbound_burst)                                           \
    X(N_OUT_AVERAGE, vif_outbound_average)                                     \
    X(N_OUT_PEAK, vif_outbound_peak)                                           \
    X(N_OUT_BURST, vif_outbound_burst)

/* render()'s argument slots: the value fields, then the other keywords. */
#define NMQ_RENDER_SLOT(id, field) R_##field,
enum {
    NMQ_RENDER_VALS(NMQ_RENDER_SLOT) R_N_VALS,
    R_IOMMU = R_N_VALS,
    R_PACKED,
    R_VPORTPARAMS,
    R_FILTERPARAMS,
    R_ALIAS,
    R_DEVICE_ADDR,
    R_PRETTY,
    R__COUNT
};

#define NMQ_RENDER_ID(id, field) id,
static const NmqName nmq_render_ids[R__COUNT] = {NMQ_RENDER_VALS(NMQ_RENDER_ID)
                                                     N_DRIVER_IOMMU,
                                                 N_DRIVER_PACKED,
                                                 N_VPORTPARAMS,
                                                 N_FILTERPARAMS,
                                                 N_ALIAS,
                                                 N_DEVICE_ADDR,
                                                 N_PRETTY_PRINT};

#define NMQ_RENDER_OFFSET(id, field) offsetof(NmqIface, field),
static const size_t nmq_val_offsets[R_N_VALS] = {
    NMQ_RENDER_VALS(NMQ_RENDER_OFFSET)};

/* What render(plan) takes from a NicPlan: the field, and its slot. */
static const struct {
    int field;
    int slot;
} nmq_plan_attrs[] = {{P_DRIVER, R_driver_name},
                      {P_QUEUES, R_vhost_queues},
                      {P_RX, R_vhost_rx_queue_size},
                      {P_TX, R_vhost_tx_queue_size},
                      {P_PACKED, R_PACKED}};

/* o (borrowed; NULL: not given) as an NmqVal for keyword key: the text
 * str() gives, Python's truth, and whether it is a str.  Returns 0/-1. */
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

/* The params of one list: key and value of each entry. */
typedef struct {
    NmqParam *params;
    NmqScratch *scratch;
    size_t n;
} NmqParamList;

/* A list of {'key': k, 'value': v} dicts (as Nova stores vportparams and
 * filterparams) into pl, which the caller frees.  Returns 0 or -1. */
static int
nmq_read_params(NmqState *st, const char *key, PyObject *list, NmqParamList *pl)
{
    Py_ssize_t n;
    Py_ssize_t i;

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

/* iface from the bound arguments a[0..R_PRETTY) (NULL: not given). */
static int
nmq_render_read(NmqState *st, PyObject **a, NmqIface *iface,
                NmqScratch *scratch, NmqParamList *vp, NmqParamList *fp)
{
    int i;

    nmq_iface_init(iface);
    for (i = 0; i < R_N_VALS; i++) {
        NmqVal *field = (NmqVal *)((char *)iface + nmq_val_offsets[i]);

        if (a[i] != NULL && /* else nmq_iface_init's default stays */
            nmq_to_val(st, nmq_name_strs[nmq_render_ids[i]], a[i], &scratch[i],
                       field) < 0)
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

/*
 * Put what the NicPlan plan decides into a (borrowed from plan): driver
 * name, queues, rx/tx queue sizes and packed ring, each unless None; none
 * of them may be a keyword as well.  Returns 0, or -1 with TypeError.
 */
static int
nmq_render_plan(NmqState *st, PyObject *plan, PyObject **a)
{
    size_t k;

    if (!Py_IS_TYPE(plan, st->nic_plan)) {
        PyErr_Format(PyExc_TypeError,
                     "render() takes a NicPlan as its only positional "
                     "argument, not %.100s",
                     Py_TYPE(plan)->tp_name);
        return -1;
    }
    for (k = 0; k < sizeof(nmq_plan_attrs) / sizeof(nmq_plan_attrs[0]); k++) {
        int slot = nmq_plan_attrs[k].slot;
        PyObject *v = PyStructSequence_GET_ITEM(plan, nmq_plan_attrs[k].field);

        if (a[slot] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "render() got %s both from the NicPlan and as a "
                         "keyword",
                         nmq_name_strs[nmq_render_ids[slot]]);
            return -1;
        }
        a[slot] = v == Py_None ? NULL : v;
    }
    return 0;
}

/* The XML of iface as a new str, written into a buffer of this call. */
static PyObject *
nmq_render_format(NmqState *st, const NmqIface *iface, int pretty)
{
    xmlBufferPtr out = xmlBufferCreateSize(1024);
    PyObject *result = NULL;
    NmqError err;

    if (out == NULL)
        return PyErr_NoMemory();
    if (nmq_iface_format(iface, pretty, out, &err) < 0)
        nmq_raise(st, "render", &err);
    else
        result = PyUnicode_DecodeUTF8((const char *)xmlBufferContent(out),
                                      xmlBufferLength(out), "strict");
    xmlBufferFree(out);
    return result;
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

/* _engine.render(plan=None, /, *, pretty_print=True, **attrs) */
static PyObject *
nmq_py_render(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
              PyObject *kwnames)
{
    NmqState *st = nmq_state(module);
    PyObject *a[R__COUNT];
    NmqScratch scratch[R_N_VALS];
    NmqParamList vp = {NULL, NULL, 0};
    NmqParamList fp = {NULL, NULL, 0};
    NmqIface iface;
    PyObject *result = NULL;
    int pretty = 1;

    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError,
                     "render() takes at most 1 positional argument (a "
                     "NicPlan), %zd given",
                     nargs);
        return NULL;
    }
    /* The keywords' values follow the positional one. */
    if (nmq_bind(st, "render", args + nargs, 0, kwnames, nmq_render_ids,
                 R__COUNT, 0, a) < 0 ||
        (nargs == 1 && nmq_render_plan(st, args[0], a) < 0) ||
        (a[R_PRETTY] != NULL && (pretty = PyObject_IsTrue(a[R_PRETTY])) < 0))
        return NULL;
    if (nmq_render_read(st, a, &iface, scratch, &vp, &fp) == 0)
        result = nmq_render_format(st, &iface, pretty);
    PyMem_Free(vp.params);
    PyMem_Free(vp.scratch);
    PyMem_Free(fp.params);
    PyMem_Free(fp.scratch);
    return result;
}

PyMethodDef nmq_render_methods[] = {
    {"render", (PyCFunction)(void (*)(void))nmq_py_render,
     METH_FASTCALL | METH_KEYWORDS, nmq_render_doc},
    {NULL, NULL, 0, NULL},
};
