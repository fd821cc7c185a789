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
 * py_module.c: the module nova_mq._engine itself (PEP 489 multi-phase
 * init): its state, its errors, its constants, the rule functions
 * tap_queue_cap() and msi_vectors(), and _configure().  The other entry
 * points live in py_plan.c, py_render.c and py_parse.c (py_binding.h).
 *
 * Calls back into Python: to build the module's own objects, and in
 * nmq_raise(), to call the error factory nova_mq registered with
 * _configure() (nova_mq.exception.from_engine), which builds nova-mq's
 * exception; nothing else in the binding runs Python code of nova-mq's or
 * anyone's.
 *
 * Thread safety (doc/source/contributor-engine.rst).  Every entry point
 * runs holding the GIL from start to end and never releases it: a call is
 * a few microseconds of work on borrowed argument memory, which another
 * thread could change if the GIL were dropped.  The engine core keeps no
 * global mutable state (it works in the caller's structs and, for render,
 * a buffer made per call), so native threads and sub-interpreters need
 * nothing more.  The only mutable state is the module state below: the
 * error factory and packed default (_configure()), and the one kept plan
 * (py_plan.c: replaced by plan(), dropped by _plan_cache(False)), each
 * changed only under the GIL; the rest of it is written once, in exec.  The
 * module declares no free-threading support (Py_mod_gil), so a free-threaded
 * CPython runs it with the GIL enabled.
 */
#include "py_binding.h"

#include <string.h>

#define NMQ_NAME_STR(id, str) str,
const char *const nmq_name_strs[N__COUNT] = {NMQ_NAMES(NMQ_NAME_STR)};

/* ---- errors ------------------------------------------------------------- */

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
PyObject *
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
PyObject *
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

/* ---- the engine's rules ------------------------------------------------- */

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

/* ---- _configure --------------------------------------------------------- */

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

PyDoc_STRVAR(nmq_plan_cache_doc,
             "_plan_cache(enabled, /)\n"
             "--\n\n"
             "Whether plan() keeps its last result to return it again for\n"
             "an equal plan (on by default; ext/py_plan.c says why).  Off\n"
             "drops the kept plan.  Returns the previous setting.  For the\n"
             "bench and the tests.");

/* _engine._plan_cache(enabled, /) */
static PyObject *
nmq_py_plan_cache(PyObject *module, PyObject *enabled)
{
    NmqState *st = nmq_state(module);
    int was = st->plan_cache;
    int on = PyObject_IsTrue(enabled);

    if (on < 0)
        return NULL;
    st->plan_cache = on;
    if (!on)
        Py_CLEAR(st->kept_plan);
    return PyBool_FromLong(was);
}

/* ---- the module --------------------------------------------------------- */

/* PyUnicode_InternFromString(s) into *out.  Returns 0 or -1. */
static int
nmq_intern(PyObject **out, const char *s)
{
    *out = PyUnicode_InternFromString(s);
    return *out != NULL ? 0 : -1;
}

/* Intern every string of the state: names, reasons, warnings, drivers and
 * models, each array indexed by its enum.  Returns 0 or -1. */
static int
nmq_state_intern(NmqState *st)
{
    int i;

    for (i = 0; i < N__COUNT; i++) {
        if (nmq_intern(&st->names[i], nmq_name_strs[i]) < 0)
            return -1;
    }
    for (i = 0; i < NMQ_REASON__COUNT; i++) {
        if (nmq_intern(&st->reasons[i], nmq_reason_str((NmqReason)i)) < 0)
            return -1;
    }
    for (i = 0; i < NMQ_WARN__COUNT; i++) {
        if (nmq_intern(&st->warnings[i], nmq_warning_str((NmqWarning)i)) < 0)
            return -1;
    }
    for (i = 0; i < NMQ_DRIVER__COUNT; i++) {
        if (nmq_intern(&st->drivers[i], nmq_driver_str((NmqDriver)i)) < 0)
            return -1;
    }
    for (i = 0; i < NMQ_MODEL__COUNT; i++) {
        if (nmq_intern(&st->models[i], nmq_model_str((NmqModel)i)) < 0)
            return -1;
    }
    return 0;
}

/* The int constants of the module.  Returns 0 or -1. */
static int
nmq_add_int_constants(PyObject *module)
{
    static const struct {
        const char *name;
        long value;
    } consts[] = {
        {"MAX_QUEUES", NMQ_MAX_QUEUES},
        {"MAX_XML_BYTES", NMQ_READER_MAX_BYTES},
        {"DEFAULT_MSI_VECTOR_BUDGET", NMQ_DEFAULT_MSI_VECTOR_BUDGET},
        {"DEFAULT_RESERVED_MSI_VECTORS", NMQ_DEFAULT_RESERVED_MSI_VECTORS},
        {"VHOST_BYTES_PER_QUEUE", NMQ_VHOST_BYTES_PER_QUEUE},
        {"MIN_MSI_VECTOR_BUDGET", NMQ_MIN_MSI_VECTOR_BUDGET},
        {"MAX_MSI_VECTOR_BUDGET", NMQ_MAX_MSI_VECTOR_BUDGET},
        {"MAX_OPTION_VALUE", NMQ_MAX_OPTION_VALUE},
        {"MAX_QUEUE_SIZE", NMQ_MAX_QUEUE_SIZE},
    };
    size_t i;

    for (i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
        if (PyModule_AddIntConstant(module, consts[i].name, consts[i].value) <
            0)
            return -1;
    }
    return 0;
}

static int
nmq_exec(PyObject *module)
{
    NmqState *st = nmq_state(module);

    st->packed_default = 1;
    st->plan_cache = 1;
    if (nmq_state_intern(st) < 0 || nmq_plan_types_init(st) < 0)
        return -1;
    st->error = PyErr_NewExceptionWithDoc(
        "nova_mq._engine.Error",
        "An engine error before nova_mq registered Nova's exceptions.",
        PyExc_ValueError, NULL);
    if (st->error == NULL ||
        PyModule_AddObjectRef(module, "Error", st->error) < 0 ||
        PyModule_AddObjectRef(module, "NicPlan", (PyObject *)st->nic_plan) <
            0 ||
        PyModule_AddObjectRef(module, "GuestPlan", (PyObject *)st->guest_plan) <
            0 ||
        PyModule_AddFunctions(module, nmq_plan_methods) < 0 ||
        PyModule_AddFunctions(module, nmq_render_methods) < 0 ||
        PyModule_AddFunctions(module, nmq_parse_methods) < 0 ||
        nmq_add_int_constants(module) < 0)
        return -1;
    return nmq_add_word_tuples(module);
}

static int
nmq_traverse(PyObject *module, visitproc visit, void *arg)
{
    NmqState *st = nmq_state(module);

    Py_VISIT(st->error);
    Py_VISIT(st->error_factory);
    Py_VISIT(st->nic_plan);
    Py_VISIT(st->guest_plan);
    Py_VISIT(st->kept_plan);
    return 0;
}

/* Clear every reference of the state (the str arrays hold only str). */
static int
nmq_clear(PyObject *module)
{
    NmqState *st = nmq_state(module);
    PyObject **strs[] = {st->names, st->reasons, st->warnings, st->drivers,
                         st->models};
    int counts[] = {N__COUNT, NMQ_REASON__COUNT, NMQ_WARN__COUNT,
                    NMQ_DRIVER__COUNT, NMQ_MODEL__COUNT};
    size_t k;
    int i;

    Py_CLEAR(st->error);
    Py_CLEAR(st->error_factory);
    Py_CLEAR(st->nic_plan);
    Py_CLEAR(st->guest_plan);
    Py_CLEAR(st->kept_plan);
    for (k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
        for (i = 0; i < counts[k]; i++)
            Py_CLEAR(strs[k][i]);
    }
    return 0;
}

static void
nmq_free(void *module)
{
    nmq_clear((PyObject *)module);
}

static PyMethodDef nmq_methods[] = {
    {"tap_queue_cap", (PyCFunction)(void (*)(void))nmq_py_tap_queue_cap,
     METH_FASTCALL, nmq_tap_queue_cap_doc},
    {"msi_vectors", nmq_py_msi_vectors, METH_O, nmq_msi_vectors_doc},
    {"_plan_cache", nmq_py_plan_cache, METH_O, nmq_plan_cache_doc},
    {"_configure", (PyCFunction)(void (*)(void))nmq_py_configure, METH_FASTCALL,
     nmq_configure_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot nmq_slots[] = {
    {Py_mod_exec, nmq_exec},
    {0, NULL},
};

PyDoc_STRVAR(
    nmq_module_doc,
    "nova-mq's C engine: the queue policy, the <interface> emitter and the\n"
    "domain XML reader.  Use it through the nova_mq package.\n"
    "\n"
    "Its constants are the engine's own limits and tables: MAX_QUEUES (the\n"
    "tun limit), MIN_MSI_VECTOR_BUDGET and MAX_MSI_VECTOR_BUDGET (the range\n"
    "of mq:msi_vector_budget), MAX_OPTION_VALUE (the largest integer of an\n"
    "option such as msi_vector_budget, reserved_msi_vectors or [libvirt]\n"
    "max_queues), MAX_QUEUE_SIZE (the largest rx/tx queue size option),\n"
    "DEFAULT_MSI_VECTOR_BUDGET, DEFAULT_RESERVED_MSI_VECTORS,\n"
    "VHOST_BYTES_PER_QUEUE, MAX_XML_BYTES (parse's input limit), and the\n"
    "tuples THROUGHPUTS, TRUE_STRINGS, FALSE_STRINGS (the boolean grammar),\n"
    "REASONS and WARNINGS, in the engine's table order.");

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
