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
 * py_plan.c: _engine.plan() and its result types, NicPlan and GuestPlan.
 *
 * plan() reads its builtins (dicts of str / int / None, a list of NIC
 * dicts) into one NmqGuestIn, calls nmq_policy_plan(), and builds a new
 * GuestPlan of new NicPlans from the result: struct sequences of str, int,
 * bool, None and tuples of str, made fresh on every call.  It calls back
 * into Python only to build those objects and to raise (py_module.c).
 */
#include "py_binding.h"

#include <stddef.h>
#include <string.h>
#include <sys/utsname.h>

/* ---- reading the arguments ---------------------------------------------- */

/* Per-NIC scratch for the str() of an int value. */
typedef struct {
    NmqScratch vif_type;
    NmqScratch vnic_type;
    NmqScratch model;
    NmqScratch queues;
    NmqScratch throughput;
} NmqNicScratch;

/* NICs of a guest this small need no allocation. */
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

/* The flavor's extra specs and the image's properties into c->in, the
 * keys most often set first. */
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

/* options['vif_models'] (a list or tuple of str) into c->models. */
static int
nmq_plan_read_models(NmqState *st, PyObject *models, NmqPlanCall *c)
{
    Py_ssize_t n;
    Py_ssize_t i;

    if (!PyList_Check(models) && !PyTuple_Check(models)) {
        nmq_raise_type(st, "plan", "vif_models", models, "a list of str");
        return -1;
    }
    n = PySequence_Fast_GET_SIZE(models);
    c->models = PyMem_Calloc(n ? (size_t)n : 1, sizeof(NmqStr));
    if (c->models == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *m = PySequence_Fast_GET_ITEM(models, i);

        /* The strings stay alive: the list in options holds them. */
        if (!PyUnicode_Check(m)) {
            nmq_raise_type(st, "plan", "vif_models", m, "a str");
            return -1;
        }
        if (nmq_to_str(st, "plan", "vif_models", m, &c->misc[0],
                       &c->models[i]) < 0)
            return -1;
    }
    c->in.vif_models = c->models;
    c->in.n_vif_models = (size_t)n;
    return 0;
}

/* options[key] as a long in [0, hi] (absent: dflt) into *out. */
static int
nmq_plan_option(NmqState *st, PyObject *opts, NmqName key, long dflt, long hi,
                long *out)
{
    PyObject *v = NULL;
    const char *name = nmq_name_strs[key];

    if (nmq_dict_get(st, "plan", name, opts, NAME(st, key), &v) < 0)
        return -1;
    return nmq_long_value(st, name, v, dflt, 0, hi, out);
}

/* The options dict ([libvirt] and [nova_mq] values) into c->in. */
static int
nmq_plan_read_options(NmqState *st, PyObject *opts, NmqPlanCall *c)
{
    NmqGuestIn *in = &c->in;
    PyObject *packed = NULL;
    PyObject *models = NULL;

    in->packed_supported = st->packed_default;
    in->msi_vector_budget = NMQ_DEFAULT_MSI_VECTOR_BUDGET;
    in->reserved_msi_vectors = NMQ_DEFAULT_RESERVED_MSI_VECTORS;
    if (opts == NULL || opts == Py_None)
        return 0;
    if (nmq_plan_option(st, opts, N_MAX_QUEUES, 0, NMQ_MAX_OPTION_VALUE,
                        &in->libvirt_max_queues) < 0 ||
        nmq_plan_option(st, opts, N_RX_QUEUE_SIZE, 0, NMQ_MAX_QUEUE_SIZE,
                        &in->rx_queue_size) < 0 ||
        nmq_plan_option(st, opts, N_TX_QUEUE_SIZE, 0, NMQ_MAX_QUEUE_SIZE,
                        &in->tx_queue_size) < 0 ||
        nmq_plan_option(st, opts, N_MSI_BUDGET, NMQ_DEFAULT_MSI_VECTOR_BUDGET,
                        NMQ_MAX_OPTION_VALUE, &in->msi_vector_budget) < 0 ||
        nmq_plan_option(st, opts, N_RESERVED_MSI,
                        NMQ_DEFAULT_RESERVED_MSI_VECTORS, NMQ_MAX_OPTION_VALUE,
                        &in->reserved_msi_vectors) < 0 ||
        nmq_dict_get(st, "plan", "options", opts, NAME(st, N_PACKED_RING),
                     &packed) < 0 ||
        nmq_dict_get(st, "plan", "options", opts, NAME(st, N_VIF_MODELS),
                     &models) < 0)
        return -1;
    if (packed != NULL && packed != Py_None &&
        (in->packed_supported = PyObject_IsTrue(packed)) < 0)
        return -1;
    if (models == NULL || models == Py_None)
        return 0;
    return nmq_plan_read_models(st, models, c);
}

/*
 * d[key] (d a dict or NULL; *left as nmq_dict_next_get counts) as NIC i's
 * NmqStr by nmq_to_str, reported as "nics[i].<key>".  Returns 0 or -1.
 */
static int
nmq_nic_str(NmqState *st, PyObject *d, Py_ssize_t i, NmqName key,
            Py_ssize_t *left, NmqScratch *scratch, NmqStr *out)
{
    PyObject *v = NULL;
    Py_ssize_t len;
    char name[64];

    if (d != NULL && nmq_dict_next_get(d, NAME(st, key), left, &v) < 0)
        return -1;
    /* The key is spelled out only where it may be needed: not for None or
     * an ASCII str, which cannot fail. */
    if (v == NULL || v == Py_None) {
        *out = NMQ_STR_NONE;
        return 0;
    }
    if (PyUnicode_Check(v) && PyUnicode_IS_ASCII(v)) {
        out->s = PyUnicode_AsUTF8AndSize(v, &len);
        out->len = (size_t)len;
        return out->s != NULL ? 0 : -1;
    }
    snprintf(name, sizeof(name), "nics[%zd].%s", i, nmq_name_strs[key]);
    return nmq_to_str(st, "plan", name, v, scratch, out);
}

/* Raise "nics[i]<field>" is not what it should be: expected. */
static void
nmq_nic_type_error(NmqState *st, Py_ssize_t i, const char *field, PyObject *v,
                   const char *expected)
{
    char key[64];

    snprintf(key, sizeof(key), "nics[%zd]%s", i, field);
    nmq_raise_type(st, "plan", key, v, expected);
}

/* NIC dict i into c->nics[i]. */
static int
nmq_plan_read_nic(NmqState *st, PyObject *nic, Py_ssize_t i, NmqPlanCall *c)
{
    NmqNicIn *n = &c->nics[i];
    NmqNicScratch *s = &c->scratch[i];
    PyObject *fixed = NULL;
    PyObject *profile = NULL;
    Py_ssize_t left;
    char key[64];

    memset(n, 0, sizeof(*n));
    if (!PyDict_Check(nic)) {
        nmq_nic_type_error(st, i, "", nic, "a dict");
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
    if (profile == NULL || profile == Py_None)
        return 0;
    if (!PyDict_Check(profile)) {
        nmq_nic_type_error(st, i, ".profile", profile, "a dict");
        return -1;
    }
    left = PyDict_GET_SIZE(profile);
    if (nmq_nic_str(st, profile, i, N_MQ_QUEUES, &left, &s->queues,
                    &n->mq_queues) < 0 ||
        nmq_nic_str(st, profile, i, N_MQ_THROUGHPUT_PORT, &left, &s->throughput,
                    &n->mq_throughput) < 0)
        return -1;
    return 0;
}

/* The nics list (or tuple) into c's NIC arrays, allocated when large. */
static int
nmq_plan_read_nics(NmqState *st, PyObject *nics, NmqPlanCall *c)
{
    Py_ssize_t n = 0;
    Py_ssize_t i;

    if (nics != NULL && nics != Py_None) {
        if (!PyList_Check(nics) && !PyTuple_Check(nics)) {
            nmq_raise_type(st, "plan", "nics", nics, "a list of dicts");
            return -1;
        }
        n = PySequence_Fast_GET_SIZE(nics);
    }
    c->nics = c->nics_small;
    c->plans = c->plans_small;
    c->scratch = c->scratch_small;
    if (n > NMQ_SMALL_NICS) {
        c->nics = PyMem_Calloc((size_t)n, sizeof(NmqNicIn));
        c->plans = PyMem_Calloc((size_t)n, sizeof(NmqNicPlan));
        c->scratch = PyMem_Calloc((size_t)n, sizeof(NmqNicScratch));
        if (c->nics == NULL || c->plans == NULL || c->scratch == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        if (nmq_plan_read_nic(st, PySequence_Fast_GET_ITEM(nics, i), i, c) < 0)
            return -1;
    }
    c->in.nics = c->nics;
    c->in.n_nics = (size_t)n;
    return 0;
}

/* The scalar arguments a[] of plan(): vcpus, virt type, names, host. */
static int
nmq_plan_read_scalars(NmqState *st, PyObject **a, NmqPlanCall *c,
                      struct utsname *uts)
{
    static const NmqName host_ids[] = {N_KERNEL_RELEASE};
    NmqGuestIn *in = &c->in;
    NmqStr *host_out[] = {&in->kernel_release};

    if (a[0] == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "plan() missing required argument 'vcpus'");
        return -1;
    }
    if (!PyLong_Check(a[0]) || PyBool_Check(a[0]) ||
        ((in->vcpus = PyLong_AsLong(a[0])) == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        nmq_raise_type(st, "plan", "vcpus", a[0], "an integer");
        return -1;
    }
    in->virt_type = NMQ_STR_LIT("kvm");
    if ((a[3] != NULL && nmq_to_str(st, "plan", "virt_type", a[3], &c->misc[2],
                                    &in->virt_type) < 0) ||
        nmq_to_str(st, "plan", "flavor_name", a[7], &c->misc[0],
                   &in->flavor_name) < 0 ||
        nmq_to_str(st, "plan", "image_name", a[8], &c->misc[1],
                   &in->image_name) < 0 ||
        nmq_dict_strs(st, "host", a[4], host_ids, 1, &c->misc[3], host_out) < 0)
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

/* ---- building the result ------------------------------------------------ */

/* The str of table[i], or of s when i < 0 (None when s is NULL).  For a
 * driver or model of the plan: i is its enum, found by content.  New
 * reference. */
static PyObject *
nmq_table_str(PyObject *const *table, int i, const char *s)
{
    if (s == NULL)
        return Py_NewRef(Py_None);
    if (i >= 0)
        return Py_NewRef(table[i]);
    return PyUnicode_FromString(s);
}

static NmqStr
nmq_cstr(const char *s)
{
    return s == NULL ? NMQ_STR_NONE : (NmqStr){s, strlen(s)};
}

/* A tuple of names[b] for each bit b set in mask.  It holds only str, so
 * it is no cycle and not tracked by the GC.  New reference. */
static PyObject *
nmq_bits_tuple(PyObject *const *names, int n, unsigned long mask)
{
    PyObject *t;
    int count = 0;
    int b;

    for (b = 0; b < n; b++)
        count += (mask >> b) & 1UL;
    t = PyTuple_New(count);
    if (t == NULL)
        return NULL;
    for (b = 0, count = 0; b < n; b++) {
        if ((mask >> b) & 1UL)
            PyTuple_SET_ITEM(t, count++, Py_NewRef(names[b]));
    }
    PyObject_GC_UnTrack(t);
    return t;
}

/* An int, or None when v is 0. New reference. */
static PyObject *
nmq_int_or_none(long v)
{
    return v ? PyLong_FromLong(v) : Py_NewRef(Py_None);
}

/*
 * Fill the struct sequence t (of type st->nic_plan or st->guest_plan) with
 * v[0..n), stealing them; on a NULL among them nothing is kept.  Such a
 * plan holds only str, int, bool, None and tuples of those (or NicPlans),
 * so it is untracked by the GC.  Returns t, or NULL with t released.
 */
static PyObject *
nmq_struct_fill(PyObject *t, PyObject **v, int n)
{
    int k;

    for (k = 0; k < n; k++) {
        if (t == NULL || v[k] == NULL) {
            for (k = 0; k < n; k++)
                Py_XDECREF(v[k]);
            Py_XDECREF(t);
            return NULL;
        }
    }
    for (k = 0; k < n; k++)
        PyStructSequence_SET_ITEM(t, k, v[k]);
    PyObject_GC_UnTrack(t);
    return t;
}

/* A new NicPlan for p. New reference. */
static PyObject *
nmq_nic_plan_new(NmqState *st, const NmqNicPlan *p)
{
    PyObject *v[P__COUNT];

    v[P_DRIVER] = nmq_table_str(
        st->drivers, nmq_driver_parse(nmq_cstr(p->driver)), p->driver);
    v[P_MODEL] = nmq_table_str(st->models, nmq_model_parse(nmq_cstr(p->model)),
                               p->model);
    v[P_QUEUES] = nmq_int_or_none(p->queues);
    v[P_RX] = nmq_int_or_none(p->rx_queue_size);
    v[P_TX] = nmq_int_or_none(p->tx_queue_size);
    v[P_PACKED] =
        p->packed < 0 ? Py_NewRef(Py_None) : PyBool_FromLong(p->packed);
    v[P_MULTIQUEUE] = PyBool_FromLong(p->multiqueue);
    v[P_REQUESTED] = PyLong_FromLong(p->requested);
    v[P_MSI] = PyLong_FromLong(p->msi_vectors);
    v[P_VHOST_MEMORY] = PyLong_FromLong(p->vhost_memory);
    v[P_REASONS] = nmq_bits_tuple(st->reasons, NMQ_REASON__COUNT, p->reasons);
    return nmq_struct_fill(PyStructSequence_New(st->nic_plan), v, P__COUNT);
}

/* A new GuestPlan for the n NIC plans and the totals g. New reference. */
static PyObject *
nmq_guest_plan_new(NmqState *st, const NmqNicPlan *plans, size_t n,
                   const NmqGuestPlan *g)
{
    PyObject *v[5];
    size_t i;

    v[0] = PyTuple_New((Py_ssize_t)n);
    for (i = 0; v[0] != NULL && i < n; i++) {
        PyObject *nic = nmq_nic_plan_new(st, &plans[i]);

        if (nic == NULL)
            Py_CLEAR(v[0]);
        else
            PyTuple_SET_ITEM(v[0], (Py_ssize_t)i, nic);
    }
    if (v[0] != NULL)
        PyObject_GC_UnTrack(v[0]); /* NicPlans: no cycle */
    v[1] = PyLong_FromLong(g->msi_vectors);
    v[2] = PyLong_FromLong(g->msi_budget);
    v[3] = PyLong_FromLong(g->vhost_memory);
    v[4] = nmq_bits_tuple(st->warnings, NMQ_WARN__COUNT, g->warnings);
    return nmq_struct_fill(PyStructSequence_New(st->guest_plan), v, 5);
}

/* ---- the kept plan ------------------------------------------------------ */

/*
 * Why plan() keeps its last result.  Nova's vif driver asks nova-mq for the
 * queues of each NIC in turn, and nova-mq answers from the plan of the
 * whole guest, so a guest of n NICs is planned n times in a row with the
 * same result.  Building a new GuestPlan and its NicPlans is about half of
 * a one-NIC plan(); without the kept plan, plan + emit of one NIC is ~25x
 * faster than Nova's code instead of the 30x the project asks for (the
 * engine section of tools/bench.py times both, switched with
 * _engine._plan_cache()).  Plans are immutable, so handing out the same
 * one is safe; one plan of at most NMQ_KEEP_NICS NICs is kept per module,
 * compared by content (strings by their text).
 */

static int
nmq_same_cstr(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static int
nmq_same_nic_plan(const NmqNicPlan *a, const NmqNicPlan *b)
{
    return nmq_same_cstr(a->driver, b->driver) &&
           nmq_same_cstr(a->model, b->model) && a->queues == b->queues &&
           a->rx_queue_size == b->rx_queue_size &&
           a->tx_queue_size == b->tx_queue_size && a->packed == b->packed &&
           a->multiqueue == b->multiqueue && a->requested == b->requested &&
           a->msi_vectors == b->msi_vectors &&
           a->vhost_memory == b->vhost_memory && a->reasons == b->reasons;
}

/* The GuestPlan for (plans[0..n), g): the kept one when equal, else a new
 * one, then kept.  New reference. */
static PyObject *
nmq_plan_result(NmqState *st, const NmqNicPlan *plans, size_t n,
                const NmqGuestPlan *g)
{
    PyObject *t;
    size_t i;

    if (st->kept_plan != NULL && st->kept_n == n &&
        st->kept_totals.msi_vectors == g->msi_vectors &&
        st->kept_totals.msi_budget == g->msi_budget &&
        st->kept_totals.vhost_memory == g->vhost_memory &&
        st->kept_totals.warnings == g->warnings) {
        for (i = 0; i < n && nmq_same_nic_plan(&st->kept_nics[i], &plans[i]);
             i++)
            ;
        if (i == n)
            return Py_NewRef(st->kept_plan);
    }
    t = nmq_guest_plan_new(st, plans, n, g);
    if (t != NULL && st->plan_cache && n <= NMQ_KEEP_NICS) {
        memcpy(st->kept_nics, plans, n * sizeof(*plans));
        st->kept_n = n;
        st->kept_totals = *g;
        Py_XSETREF(st->kept_plan, Py_NewRef(t));
    }
    return t;
}

/* ---- plan() ------------------------------------------------------------- */

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
    "Returns a new GuestPlan; raises Nova's exceptions on bad input.");

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
    PyObject *result = NULL;
    NmqPlanCall c;
    NmqGuestPlan totals;
    NmqError err;
    struct utsname uts;

    nmq_plan_call_init(&c);
    if (nmq_bind(st, "plan", args, nargs, kwnames, ids, 9, 9, a) < 0)
        return NULL;
    if (nmq_plan_read_scalars(st, a, &c, &uts) < 0 ||
        nmq_plan_read_specs(st, a[1], a[2], &c) < 0 ||
        nmq_plan_read_options(st, a[5], &c) < 0 ||
        nmq_plan_read_nics(st, a[6], &c) < 0)
        goto cleanup;
    if (nmq_policy_plan(&c.in, c.plans, &totals, &err) < 0) {
        nmq_raise(st, "plan", &err);
        goto cleanup;
    }
    result = nmq_plan_result(st, c.plans, c.in.n_nics, &totals);
cleanup:
    nmq_plan_call_free(&c);
    return result;
}

PyMethodDef nmq_plan_methods[] = {
    {"plan", (PyCFunction)(void (*)(void))nmq_py_plan,
     METH_FASTCALL | METH_KEYWORDS, nmq_plan_doc},
    {NULL, NULL, 0, NULL},
};

/* ---- the result types --------------------------------------------------- */

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

static PyStructSequence_Desc nmq_nic_plan_desc = {
    "nova_mq._engine.NicPlan", "The plan for one NIC.", nmq_nic_plan_fields,
    P__COUNT};

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

int
nmq_plan_types_init(NmqState *st)
{
    st->nic_plan = PyStructSequence_NewType(&nmq_nic_plan_desc);
    st->guest_plan = PyStructSequence_NewType(&nmq_guest_plan_desc);
    return st->nic_plan != NULL && st->guest_plan != NULL ? 0 : -1;
}
