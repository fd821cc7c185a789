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
 * py_convert.c: Python -> C for every entry point: keyword binding, and
 * builtins (str, int, bool, None, dict) read into the engine's NmqStr and
 * long.  Strings are borrowed from the argument objects, which the caller
 * keeps alive for the call; integers are formatted into the caller's
 * NmqScratch.  Calls back into Python only through the C API on those
 * builtins, and to raise (py_module.c); never into Python code.
 */
#include "py_binding.h"

#include <string.h>

/* Slot j of ids[0..n) named kw, or n: the interned name first (a call
 * site's keywords are interned, as the names are), then by content. */
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

int
nmq_bind(NmqState *st, const char *fname, PyObject *const *args,
         Py_ssize_t nargs, PyObject *kwnames, const NmqName *ids, int n,
         int npos, PyObject **out)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t i;
    int j;

    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes at most %d positional arguments (%zd given)",
                     fname, npos, nargs);
        return -1;
    }
    for (j = 0; j < n; j++)
        out[j] = j < nargs ? args[j] : NULL;
    for (i = 0; i < nkw; i++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, i);

        j = nmq_bind_slot(st, kw, ids, n);
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

/* v as decimal text in scratch (what str() of the int gives). */
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

int
nmq_to_str(NmqState *st, const char *what, const char *key, PyObject *o,
           NmqScratch *scratch, NmqStr *out)
{
    Py_ssize_t len = 0;

    if (o == NULL || o == Py_None) {
        *out = NMQ_STR_NONE;
        return 0;
    }
    if (PyUnicode_Check(o)) {
        out->s = PyUnicode_AsUTF8AndSize(o, &len);
        out->len = (size_t)len;
        if (out->s != NULL)
            return 0;
        PyErr_Clear();
        nmq_raise_type(st, what, key, o, "a string of valid Unicode");
        return -1;
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

int
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
    *out = PyDict_GetItemWithError(d, key);
    if (*out == NULL && PyErr_Occurred())
        return -1;
    return 0;
}

int
nmq_long_value(NmqState *st, const char *keyname, PyObject *v, long dflt,
               long lo, long hi, long *out)
{
    char expected[96];
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
        PyErr_Clear();
        snprintf(expected, sizeof(expected), "an integer from %ld to %ld", lo,
                 hi);
        nmq_raise_type(st, "plan", keyname, v, expected);
        return -1;
    }
    *out = x;
    return 0;
}

int
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

int
nmq_dict_strs(NmqState *st, const char *dname, PyObject *d, const NmqName *ids,
              int n, NmqScratch *scratch, NmqStr **out)
{
    Py_ssize_t left;
    PyObject *v;
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
        if (nmq_dict_next_get(d, NAME(st, ids[i]), &left, &v) < 0 ||
            nmq_to_str(st, "plan", nmq_name_strs[ids[i]], v, &scratch[i],
                       out[i]) < 0)
            return -1;
    }
    return 0;
}
