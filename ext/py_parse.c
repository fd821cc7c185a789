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
 * py_parse.c: _engine.parse(), a domain XML (str or bytes) read by
 * nmq_domain_read() into a new dict of str / int / None and a list of
 * interface dicts.  It calls back into Python only to build those objects
 * and to raise (py_module.c).
 */
#include "py_binding.h"

#include <string.h>

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

PyMethodDef nmq_parse_methods[] = {
    {"parse", nmq_py_parse, METH_O, nmq_parse_doc},
    {NULL, NULL, 0, NULL},
};
