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
 * test_reader.c: the domain XML reader without Python.
 *
 * Runs plain, under ASan/UBSan and under valgrind (make -C ext check,
 * check-asan, valgrind).  Allocation failure is injected through libxml2's
 * own public xmlMemSetup(), which the reader's arena shares, so the
 * production code carries no test hook.
 */
#include "check.h"
#include "reader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>

/* ---- allocation failure through xmlMemSetup ------------------------- */

static long alloc_countdown = -1; /* allocations left before one fails */
static long alloc_failed;         /* how many were refused */

static int
alloc_refuse(void)
{
    if (alloc_countdown < 0)
        return 0;
    if (alloc_countdown-- > 0)
        return 0;
    alloc_failed++;
    return 1;
}

static void *
t_malloc(size_t n)
{
    return alloc_refuse() ? NULL : malloc(n);
}

static void *
t_realloc(void *p, size_t n)
{
    return alloc_refuse() ? NULL : realloc(p, n);
}

static char *
t_strdup(const char *s)
{
    return alloc_refuse() ? NULL : strdup(s);
}

static void
t_free(void *p)
{
    free(p);
}

/* ---- helpers --------------------------------------------------------- */

/* A `virsh dumpxml` of a Nova guest with eight NICs of every kind. */
static const char LIBVIRT_8NICS[] =
    "<domain type='kvm' id='7' "
    "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
    "  <name>instance-0000002a</name>\n"
    "  <uuid>8d9c3a5e-2f51-4d77-9a51-3b3a9b0f2c11</uuid>\n"
    "  <metadata>\n"
    "    <nova:instance "
    "xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>\n"
    "      <nova:name>mq-test-vm</nova:name>\n"
    "      <nova:flavor name='m1.mq'><nova:vcpus>8</nova:vcpus>"
    "</nova:flavor>\n"
    "    </nova:instance>\n"
    "  </metadata>\n"
    "  <memory unit='KiB'>8388608</memory>\n"
    "  <currentMemory unit='KiB'>8388608</currentMemory>\n"
    "  <vcpu placement='static' current='6'>8</vcpu>\n"
    "  <cputune><shares>8192</shares></cputune>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n"
    "  <features><acpi/><apic/></features>\n"
    "  <cpu mode='host-model' check='partial'>\n"
    "    <topology sockets='8' dies='1' cores='1' threads='1'/>\n"
    "  </cpu>\n"
    "  <clock offset='utc'><timer name='hpet' present='no'/></clock>\n"
    "  <devices>\n"
    "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='qcow2' cache='none'/>\n"
    "      <source file='/var/lib/nova/instances/8d9c3a5e/disk'/>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "      <alias name='virtio-disk0'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' "
    "function='0x0'/>\n"
    "    </disk>\n"
    "    <controller type='pci' index='0' model='pcie-root'>\n"
    "      <alias name='pcie.0'/>\n"
    "    </controller>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='fa:16:3e:00:00:01'/>\n"
    "      <source bridge='qbr-a1b2c3d4'/>\n"
    "      <target dev='tapa1b2c3d4-00'/>\n"
    "      <model type='virtio'/>\n"
    "      <driver name='vhost' queues='4' rx_queue_size='1024'/>\n"
    "      <mtu size='1450'/>\n"
    "      <alias name='net0'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' "
    "function='0x0'/>\n"
    "    </interface>\n"
    "    <interface type='ethernet'>\n"
    "      <mac address='fa:16:3e:00:00:02'/>\n"
    "      <target dev='tapa1b2c3d4-01' managed='no'/>\n"
    "      <model type='virtio'/>\n"
    "      <driver name='vhost' queues='8'/>\n"
    "      <alias name='net1'/>\n"
    "    </interface>\n"
    "    <interface type='vhostuser'>\n"
    "      <mac address='fa:16:3e:00:00:03'/>\n"
    "      <source type='unix' path='/var/run/openvswitch/vhu02' "
    "mode='server'/>\n"
    "      <target dev='vhu02'/>\n"
    "      <model type='virtio'/>\n"
    "      <driver queues='4' rx_queue_size='1024' "
    "tx_queue_size='1024'/>\n"
    "      <alias name='net2'/>\n"
    "    </interface>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='fa:16:3e:00:00:04'/>\n"
    "      <source bridge='br-int'/>\n"
    "      <virtualport type='openvswitch'>\n"
    "        <parameters interfaceid='a1b2c3d4-0004'/>\n"
    "      </virtualport>\n"
    "      <target dev='tapa1b2c3d4-03'/>\n"
    "      <model type='virtio'/>\n"
    "      <driver name='vhost' queues='2'/>\n"
    "      <alias name='net3'/>\n"
    "    </interface>\n"
    "    <interface type='direct'>\n"
    "      <mac address='fa:16:3e:00:00:05'/>\n"
    "      <source dev='eth2' mode='passthrough'/>\n"
    "      <target dev='macvtap0'/>\n"
    "      <model type='virtio'/>\n"
    "      <alias name='net4'/>\n"
    "    </interface>\n"
    "    <interface type='hostdev' managed='yes'>\n"
    "      <mac address='fa:16:3e:00:00:06'/>\n"
    "      <driver name='vfio'/>\n"
    "      <source>\n"
    "        <address type='pci' domain='0x0000' bus='0x81' slot='0x10' "
    "function='0x2'/>\n"
    "      </source>\n"
    "      <vlan><tag id='100'/></vlan>\n"
    "      <alias name='hostdev0'/>\n"
    "    </interface>\n"
    "    <interface type='network'>\n"
    "      <mac address='fa:16:3e:00:00:07'/>\n"
    "      <source network='default' bridge='virbr0'/>\n"
    "      <target dev='vnet7'/>\n"
    "      <model type='e1000'/>\n"
    "      <alias name='net5'/>\n"
    "    </interface>\n"
    "    <interface type='vdpa'>\n"
    "      <mac address='fa:16:3e:00:00:08'/>\n"
    "      <source dev='/dev/vhost-vdpa-0'/>\n"
    "      <model type='virtio'/>\n"
    "      <driver queues='16' tx_queue_size='512'/>\n"
    "      <alias name='net6'/>\n"
    "    </interface>\n"
    "    <serial type='pty'>\n"
    "      <target type='isa-serial' port='0'/>\n"
    "      <alias name='serial0'/>\n"
    "    </serial>\n"
    "    <video>\n"
    "      <model type='virtio' heads='1' primary='yes'/>\n"
    "      <alias name='video0'/>\n"
    "    </video>\n"
    "    <memballoon model='virtio'>\n"
    "      <alias name='balloon0'/>\n"
    "    </memballoon>\n"
    "  </devices>\n"
    "  <seclabel type='dynamic' model='dac' relabel='yes'>\n"
    "    <label>+64055:+108</label>\n"
    "  </seclabel>\n"
    "  <qemu:commandline><qemu:arg value='-set'/></qemu:commandline>\n"
    "</domain>\n";

/* What LIBVIRT_8NICS holds; NULL for absent strings. */
typedef struct {
    const char *type;
    const char *mac;
    const char *model;
    const char *driver;
    const char *target_dev;
    const char *alias;
    long queues;
    long rx_queue_size;
    long tx_queue_size;
} WantIface;

static const WantIface WANT_8NICS[] = {
    {"bridge", "fa:16:3e:00:00:01", "virtio", "vhost", "tapa1b2c3d4-00", "net0",
     4, 1024, -1},
    {"ethernet", "fa:16:3e:00:00:02", "virtio", "vhost", "tapa1b2c3d4-01",
     "net1", 8, -1, -1},
    {"vhostuser", "fa:16:3e:00:00:03", "virtio", NULL, "vhu02", "net2", 4, 1024,
     1024},
    {"bridge", "fa:16:3e:00:00:04", "virtio", "vhost", "tapa1b2c3d4-03", "net3",
     2, -1, -1},
    {"direct", "fa:16:3e:00:00:05", "virtio", NULL, "macvtap0", "net4", -1, -1,
     -1},
    {"hostdev", "fa:16:3e:00:00:06", NULL, "vfio", NULL, "hostdev0", -1, -1,
     -1},
    {"network", "fa:16:3e:00:00:07", "e1000", NULL, "vnet7", "net5", -1, -1,
     -1},
    {"vdpa", "fa:16:3e:00:00:08", "virtio", NULL, NULL, "net6", 16, -1, 512},
};

/*
 * Whether s is want (NULL: absent), NUL-terminated at s.len as the
 * reader promises.
 */
static int
str_is(NmqStr s, const char *want)
{
    if (want == NULL)
        return s.s == NULL && s.len == 0;
    return nmq_str_eq(s, want) && s.s[s.len] == '\0';
}

static int
dom_is_empty(const NmqDomain *d)
{
    return d->name.s == NULL && d->name.len == 0 && d->vcpus == 0 &&
           d->vcpus_current == 0 && d->ifaces == NULL && d->n_ifaces == 0 &&
           d->priv == NULL;
}

static int
iface_is(const NmqDomainIface *i, const WantIface *w)
{
    return str_is(i->type, w->type) && str_is(i->mac, w->mac) &&
           str_is(i->model, w->model) && str_is(i->driver, w->driver) &&
           str_is(i->target_dev, w->target_dev) && str_is(i->alias, w->alias) &&
           i->queues == w->queues && i->rx_queue_size == w->rx_queue_size &&
           i->tx_queue_size == w->tx_queue_size;
}

/* Whether d is exactly what LIBVIRT_8NICS holds. */
static int
dom_is_8nics(const NmqDomain *d)
{
    size_t i;

    if (!str_is(d->name, "instance-0000002a") || d->vcpus != 8 ||
        d->vcpus_current != 6 || d->n_ifaces != 8 || d->priv == NULL)
        return 0;
    for (i = 0; i < 8; i++) {
        if (!iface_is(&d->ifaces[i], &WANT_8NICS[i]))
            return 0;
    }
    return 1;
}

static int
read_str(const char *xml, NmqDomain *d, NmqError *e)
{
    return nmq_domain_read(xml, strlen(xml), d, e);
}

/*
 * Read len bytes of xml into a domain the reader must wipe, and say
 * whether it failed as expected: code and key, a message that contains
 * need1 and need2 (when not NULL) and no line break, and an empty domain.
 * Prints what it got otherwise.
 */
static int
fails_with_len(const char *xml, size_t len, NmqErrorCode code, const char *key,
               const char *need1, const char *need2)
{
    NmqDomain d;
    NmqError e;
    int rc;
    int ok;

    memset(&d, 0xa5, sizeof(d));
    memset(&e, 0, sizeof(e));
    rc = nmq_domain_read(xml, len, &d, &e);
    ok = rc == -1 && e.code == code && strcmp(e.key, key) == 0 &&
         (need1 == NULL || strstr(e.msg, need1) != NULL) &&
         (need2 == NULL || strstr(e.msg, need2) != NULL) &&
         strchr(e.msg, '\n') == NULL && dom_is_empty(&d);
    if (!ok) {
        fprintf(stderr, "  rc=%d code=%d key=%s value=%s\n  msg=%s\n", rc,
                (int)e.code, e.key, e.value, e.msg);
        if (rc == 0)
            nmq_domain_free(&d);
    }
    return ok;
}

static int
fails_with(const char *xml, NmqErrorCode code, const char *key,
           const char *need1, const char *need2)
{
    return fails_with_len(xml, strlen(xml), code, key, need1, need2);
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reading --------------------------------------------------------- */

static void
test_realistic(void)
{
    NmqDomain d;
    NmqError e;

    CHECK(read_str(LIBVIRT_8NICS, &d, &e) == 0);
    CHECK(dom_is_8nics(&d));
    nmq_domain_free(&d);
    CHECK(dom_is_empty(&d));
    /* Not NUL-terminated: the reader must respect len. */
    CHECK(nmq_domain_read(LIBVIRT_8NICS, sizeof(LIBVIRT_8NICS) - 1, &d, &e) ==
          0);
    CHECK(dom_is_8nics(&d));
    nmq_domain_free(&d);
    /* Cut before </domain>: the bytes after len are never read. */
    CHECK(fails_with_len(LIBVIRT_8NICS, sizeof(LIBVIRT_8NICS) - 4,
                         NMQ_ERR_PARSE, "xml", "line", NULL));
}

static void
test_defaults(void)
{
    NmqDomain d;
    NmqError e;

    CHECK(read_str("<domain/>", &d, &e) == 0);
    CHECK(d.name.s == NULL && d.vcpus == 1 && d.vcpus_current == 1);
    CHECK(d.n_ifaces == 0 && d.ifaces == NULL);
    /* Nothing to keep, nothing allocated. */
    CHECK(d.priv == NULL);
    nmq_domain_free(&d);

    CHECK(read_str("<domain><name/><vcpu> 3\n</vcpu><devices/></domain>", &d,
                   &e) == 0);
    CHECK(str_is(d.name, "") && d.vcpus == 3 && d.vcpus_current == 3);
    CHECK(d.n_ifaces == 0);
    nmq_domain_free(&d);

    CHECK(read_str("<domain><devices><interface/></devices></domain>", &d,
                   &e) == 0);
    CHECK(d.n_ifaces == 1);
    if (d.n_ifaces == 1) {
        static const WantIface none = {NULL, NULL, NULL, NULL, NULL,
                                       NULL, -1,   -1,   -1};

        CHECK(iface_is(&d.ifaces[0], &none));
    }
    nmq_domain_free(&d);
}

/*
 * Text follows XPath string(): entities and character references are
 * resolved, CDATA and nested text count, comments do not.  The first
 * element of a name wins; elements and attributes in a namespace are not
 * ours; interfaces of several <devices> come in document order.
 */
static void
test_xpath_semantics(void)
{
    static const char xml[] =
        "<domain xmlns:x='urn:x'>"
        "<x:name>not me</x:name>"
        "<name>a&amp;b&#x41;&lt;<!-- no --><i>c</i><![CDATA[<d>]]></name>"
        "<name>second</name>"
        "<vcpu current='2'>4</vcpu><vcpu>9</vcpu>"
        "<devices><interface type='a' x:type='no'>"
        "<mac address='m1'/><mac address='m2'/>"
        "<x:driver queues='99'/><driver queues=' 8 '/></interface>"
        "<x:interface type='skip'/>"
        "<hostdev><interface type='nested-skip'/></hostdev></devices>"
        "<devices xmlns='urn:y'><interface type='default-ns-skip'/>"
        "</devices>"
        "<x:devices><interface type='prefixed-skip'/></x:devices>"
        "<devices><interface type='b'/></devices>"
        "</domain>";
    NmqDomain d;
    NmqError e;

    CHECK(read_str(xml, &d, &e) == 0);
    CHECK(str_is(d.name, "a&bA<c<d>"));
    CHECK(d.vcpus == 4 && d.vcpus_current == 2);
    CHECK(d.n_ifaces == 2);
    if (d.n_ifaces == 2) {
        CHECK(str_is(d.ifaces[0].type, "a"));
        CHECK(str_is(d.ifaces[0].mac, "m1"));
        CHECK(d.ifaces[0].queues == 8);
        CHECK(str_is(d.ifaces[1].type, "b"));
    }
    nmq_domain_free(&d);
}

/* A declared encoding is converted: every string comes out UTF-8. */
static void
test_encoding(void)
{
    static const char latin1[] =
        "<?xml version='1.0' encoding='ISO-8859-1'?>"
        "<domain><name>caf\xe9</name>"
        "<devices><interface type='\xfc'/></devices></domain>";
    NmqDomain d;
    NmqError e;

    CHECK(read_str(latin1, &d, &e) == 0);
    CHECK(str_is(d.name, "caf\xc3\xa9"));
    CHECK(d.n_ifaces == 1 && str_is(d.ifaces[0].type, "\xc3\xbc"));
    nmq_domain_free(&d);
}

/*
 * Text that is already UTF-8 (a Python str) keeps its characters whatever
 * its declaration says; bytes follow the declaration.
 */
static void
test_read_utf8(void)
{
    static const char decl[] = "<?xml version='1.0' encoding='ISO-8859-1'?>"
                               "<domain><name>caf\xc3\xa9</name></domain>";
    static const char doctype[] = "<!DOCTYPE domain><domain/>";
    static const char latin1[] = "<domain>caf\xe9</domain>";
    NmqDomain d;
    NmqError e;

    CHECK(nmq_domain_read_utf8(decl, strlen(decl), &d, &e) == 0);
    CHECK(str_is(d.name, "caf\xc3\xa9"));
    nmq_domain_free(&d);
    CHECK(read_str(decl, &d, &e) == 0);
    CHECK(str_is(d.name, "caf\xc3\x83\xc2\xa9"));
    nmq_domain_free(&d);
    /* Every other rule holds the same. */
    CHECK(nmq_domain_read_utf8(LIBVIRT_8NICS, strlen(LIBVIRT_8NICS), &d, &e) ==
          0);
    CHECK(dom_is_8nics(&d));
    nmq_domain_free(&d);
    memset(&d, 0xa5, sizeof(d));
    CHECK(nmq_domain_read_utf8(doctype, strlen(doctype), &d, &e) == -1);
    CHECK(e.code == NMQ_ERR_PARSE && strstr(e.msg, "DOCTYPE") != NULL);
    CHECK(dom_is_empty(&d));
    CHECK(nmq_domain_read_utf8(latin1, strlen(latin1), &d, &e) == -1);
    CHECK(e.code == NMQ_ERR_PARSE && strstr(e.msg, "UTF-8") != NULL);
    CHECK(dom_is_empty(&d));
}

/* ---- numbers --------------------------------------------------------- */

static const char *const BAD_NUMBERS[] = {
    "",
    " ",
    "x",
    "-1",
    "+4",
    "4.0",
    "0x10",
    "1e3",
    "4 4",
    "2147483648",
    "99999999999999999999999",
    "\xd9\xa4", /* ARABIC-INDIC DIGIT FOUR */
};

static void
test_driver_numbers(void)
{
    static const char *const attrs[] = {"queues", "rx_queue_size",
                                        "tx_queue_size"};
    char xml[512];
    char key[64];
    size_t a;
    size_t b;

    for (a = 0; a < 3; a++) {
        snprintf(key, sizeof(key), "interfaces[1].driver.%s", attrs[a]);
        for (b = 0; b < sizeof(BAD_NUMBERS) / sizeof(*BAD_NUMBERS); b++) {
            char quoted[64];

            snprintf(xml, sizeof(xml),
                     "<domain><devices><interface><alias name='ok'/>"
                     "<driver queues='2'/></interface><interface>"
                     "<driver %s='%s'/></interface></devices></domain>",
                     attrs[a], BAD_NUMBERS[b]);
            snprintf(quoted, sizeof(quoted), "'%s'", BAD_NUMBERS[b]);
            CHECK(fails_with(xml, NMQ_ERR_PARSE, key, key, quoted));
        }
    }
}

static void
test_driver_number_range(void)
{
    NmqDomain d;
    NmqError e;

    CHECK(read_str("<domain><devices><interface><driver queues='0' "
                   "rx_queue_size='2147483647' tx_queue_size='\t256\n'/>"
                   "</interface></devices></domain>",
                   &d, &e) == 0);
    CHECK(d.n_ifaces == 1);
    if (d.n_ifaces == 1) {
        CHECK(d.ifaces[0].queues == 0);
        CHECK(d.ifaces[0].rx_queue_size == INT_MAX);
        CHECK(d.ifaces[0].tx_queue_size == 256);
    }
    nmq_domain_free(&d);
}

static void
test_vcpu(void)
{
    char xml[256];
    size_t b;
    NmqDomain d;
    NmqError e;

    for (b = 0; b < sizeof(BAD_NUMBERS) / sizeof(*BAD_NUMBERS); b++) {
        snprintf(xml, sizeof(xml),
                 "<domain><name>n</name><vcpu>%s</vcpu>"
                 "</domain>",
                 BAD_NUMBERS[b]);
        CHECK(fails_with(xml, NMQ_ERR_PARSE, "vcpu", "vcpu: ", NULL));
    }
    CHECK(fails_with("<domain><vcpu>four</vcpu></domain>", NMQ_ERR_PARSE,
                     "vcpu", "'four'", NULL));
    CHECK(fails_with("<domain><vcpu>0</vcpu></domain>", NMQ_ERR_PARSE, "vcpu",
                     "'0'", NULL));
    CHECK(fails_with("<domain><vcpu current='x'>4</vcpu></domain>",
                     NMQ_ERR_PARSE, "vcpu.current", "'x'", NULL));
    CHECK(fails_with("<domain><vcpu current='0'>4</vcpu></domain>",
                     NMQ_ERR_PARSE, "vcpu.current", "'0'", NULL));
    CHECK(fails_with("<domain><vcpu current='9'>8</vcpu></domain>",
                     NMQ_ERR_PARSE, "vcpu.current", "'9'", "8"));
    CHECK(read_str("<domain><vcpu current='8'>8</vcpu></domain>", &d, &e) == 0);
    CHECK(d.vcpus == 8 && d.vcpus_current == 8);
    nmq_domain_free(&d);
    CHECK(read_str("<domain><vcpu>2147483647</vcpu></domain>", &d, &e) == 0);
    CHECK(d.vcpus == INT_MAX && d.vcpus_current == INT_MAX);
    nmq_domain_free(&d);
}

/* ---- refusals -------------------------------------------------------- */

static void
test_malformed(void)
{
    CHECK(fails_with("<domain>", NMQ_ERR_PARSE, "xml", "line 1: ", NULL));
    CHECK(fails_with("<domain>\n  <name>x</nam>\n</domain>", NMQ_ERR_PARSE,
                     "xml", "line 2: Opening and ending tag mismatch",
                     "'<name>x</nam>'"));
    CHECK(fails_with("<domain><name>&x;</name></domain>", NMQ_ERR_PARSE, "xml",
                     "Entity 'x' not defined", NULL));
    CHECK(fails_with("<domain/><domain/>", NMQ_ERR_PARSE, "xml",
                     "Extra content", NULL));
    CHECK(fails_with("text<domain/>", NMQ_ERR_PARSE, "xml", "line 1", NULL));
    CHECK(fails_with("", NMQ_ERR_PARSE, "xml", "line 1", NULL));
    CHECK(fails_with_len(NULL, 5, NMQ_ERR_PARSE, "xml", "no input", NULL));
    CHECK(fails_with("<domain><name>\xc3\x28</name></domain>", NMQ_ERR_PARSE,
                     "xml", "line 1", NULL));
    CHECK(fails_with("<domain a='1' a='2'/>", NMQ_ERR_PARSE, "xml", "redefined",
                     NULL));
}

static void
test_nul_byte(void)
{
    static const char xml[] = "<domain><name>a\0b</name></domain>";

    CHECK(fails_with_len(xml, sizeof(xml) - 1, NMQ_ERR_PARSE, "xml", "NUL",
                         "offset 15"));
    /* A trailing NUL is still an embedded one. */
    CHECK(fails_with_len("<domain/>", 10, NMQ_ERR_PARSE, "xml", "NUL",
                         "offset 9"));
}

static void
test_root(void)
{
    CHECK(fails_with("<foo/>", NMQ_ERR_PARSE, "xml", "<foo>", "<domain>"));
    CHECK(fails_with("<x:domain xmlns:x='urn:x'/>", NMQ_ERR_PARSE, "xml",
                     "namespace", NULL));
    CHECK(fails_with("<domain xmlns='urn:x'/>", NMQ_ERR_PARSE, "xml",
                     "namespace", NULL));
    CHECK(fails_with("<!-- c --><?pi x?><network/>", NMQ_ERR_PARSE, "xml",
                     "<network>", NULL));
}

static void
test_doctype(void)
{
    CHECK(fails_with("<!DOCTYPE domain><domain/>", NMQ_ERR_PARSE, "xml",
                     "DOCTYPE", "<!DOCTYPE domain>"));
    CHECK(fails_with("<!DOCTYPE domain [<!ENTITY n 'x'>]>"
                     "<domain><name>&n;</name></domain>",
                     NMQ_ERR_PARSE, "xml", "DOCTYPE", NULL));
    CHECK(fails_with("<?xml version='1.0'?>\n<!DOCTYPE domain PUBLIC "
                     "'-//x//y' 'http://127.0.0.1:9/d.dtd'><domain/>",
                     NMQ_ERR_PARSE, "xml", "DOCTYPE", NULL));
    /* An unclosed DOCTYPE is refused as a DOCTYPE or as malformed. */
    CHECK(fails_with("<!DOCTYPE domain [", NMQ_ERR_PARSE, "xml", NULL, NULL));
}

/* Billion laughs and quadratic blowup are refused before expansion. */
static void
test_entity_bombs(void)
{
    char *quad = NULL;
    size_t n = 200000;
    size_t off;
    size_t i;
    double t0 = now();

    CHECK(
        fails_with("<?xml version='1.0'?>\n<!DOCTYPE domain [\n"
                   " <!ENTITY a 'lollollollollollollollollollol'>\n"
                   " <!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n"
                   " <!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>\n"
                   " <!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>\n"
                   " <!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>\n"
                   " <!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>\n"
                   " <!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'>\n"
                   " <!ENTITY h '&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;'>\n"
                   " <!ENTITY i '&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;'>\n"
                   "]>\n<domain><name>&i;</name><vcpu current='&i;'>&i;</vcpu>"
                   "</domain>",
                   NMQ_ERR_PARSE, "xml", "DOCTYPE", NULL));
    quad = malloc(n + 200);
    CHECK(quad != NULL);
    if (quad == NULL)
        return;
    off = (size_t)sprintf(quad, "<!DOCTYPE domain [<!ENTITY x '");
    for (i = 0; i < 20000; i++)
        quad[off++] = 'x';
    off += (size_t)sprintf(quad + off, "'>]><domain><name>");
    while (off + 40 < n)
        off += (size_t)sprintf(quad + off, "&x;");
    off += (size_t)sprintf(quad + off, "</name></domain>");
    CHECK(fails_with_len(quad, off, NMQ_ERR_PARSE, "xml", "DOCTYPE", NULL));
    free(quad);
    /* Generous: valgrind runs this ~50x slower than native. */
    CHECK(now() - t0 < 2.0);
}

static void
test_too_large(void)
{
    size_t big = 10 * 1024 * 1024;
    size_t max = (size_t)NMQ_READER_MAX_BYTES;
    char *buf = malloc(big);
    NmqDomain d;
    NmqError e;
    double t0;

    CHECK(buf != NULL);
    if (buf == NULL)
        return;
    memset(buf, ' ', big);
    memcpy(buf, "<domain>", 8);
    memcpy(buf + big - 9, "</domain>", 9);
    t0 = now();
    CHECK(fails_with_len(buf, big, NMQ_ERR_TOO_LARGE, "xml", "10485760",
                         "4194304"));
    CHECK(now() - t0 < 0.5);
    /* Exactly the limit is read; one byte more is not. */
    memcpy(buf + max - 9, "</domain>", 9);
    CHECK(nmq_domain_read(buf, max, &d, &e) == 0);
    CHECK(d.vcpus == 1);
    nmq_domain_free(&d);
    memcpy(buf + max - 9, "         ", 9);
    memcpy(buf + max + 1 - 9, "</domain>", 9);
    CHECK(fails_with_len(buf, max + 1, NMQ_ERR_TOO_LARGE, "xml", "4194305",
                         "4194304"));
    free(buf);
}

/* Append n attributes "<prefix><i>='v'" to buf at *off. */
static void
add_attrs(char *buf, size_t *off, const char *prefix, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        *off += (size_t)sprintf(buf + *off, " %s%zu='v'", prefix, i);
}

/*
 * libxml2 2.9 spends quadratic time on many attributes in one tag or many
 * namespace declarations: the reader counts them first.
 */
static void
test_markup_limits(void)
{
    char *buf = malloc(2 * 1024 * 1024);
    size_t off = 0;
    NmqDomain d;
    NmqError e;
    double t0;

    CHECK(buf != NULL);
    if (buf == NULL)
        return;
    off = (size_t)sprintf(buf, "<domain");
    add_attrs(buf, &off, "a", 256);
    off += (size_t)sprintf(buf + off, "/>");
    CHECK(nmq_domain_read(buf, off, &d, &e) == 0);
    nmq_domain_free(&d);

    off = (size_t)sprintf(buf, "<domain>\n<devices><interface");
    add_attrs(buf, &off, "a", 257);
    off += (size_t)sprintf(buf + off, "/></devices></domain>");
    CHECK(fails_with_len(buf, off, NMQ_ERR_TOO_LARGE, "xml",
                         "line 2: a tag has too many attributes", "256"));

    off = (size_t)sprintf(buf, "<domain");
    add_attrs(buf, &off, "a", 100000);
    off += (size_t)sprintf(buf + off, "/>");
    t0 = now();
    CHECK(fails_with_len(buf, off, NMQ_ERR_TOO_LARGE, "xml", "attributes",
                         "'<domain a0='v' a1="));
    CHECK(now() - t0 < 0.5);
    free(buf);
}

static void
test_namespace_limit(void)
{
    char buf[16384];
    size_t off = 0;
    size_t i;
    NmqDomain d;
    NmqError e;

    off = (size_t)sprintf(buf, "<domain xmlns:a='u'>");
    for (i = 0; i < 255; i++)
        off += (size_t)sprintf(buf + off, "<x xmlns='u%zu'/>", i);
    off += (size_t)sprintf(buf + off, "</domain>");
    CHECK(nmq_domain_read(buf, off, &d, &e) == 0);
    nmq_domain_free(&d);
    off -= strlen("</domain>");
    off += (size_t)sprintf(buf + off, "<y\txmlns:b = 'u'/></domain>");
    CHECK(fails_with_len(buf, off, NMQ_ERR_TOO_LARGE, "xml",
                         "namespace declarations", "256"));
    /* Attributes merely named like one are not declarations. */
    CHECK(read_str("<domain xmlnsx='1' a='xmlns:b' xmlns:c='u'/>", &d, &e) ==
          0);
    nmq_domain_free(&d);
}

/*
 * What only looks like markup is not counted, and nothing hides a real
 * attribute: comments, CDATA, processing instructions and quoted values
 * end where XML says they end.
 */
static void
test_markup_scan(void)
{
    char *buf = malloc(65536);
    size_t off = 0;
    size_t i;
    NmqDomain d;
    NmqError e;

    CHECK(buf != NULL);
    if (buf == NULL)
        return;
    off = (size_t)sprintf(buf, "<domain><!-- <a");
    add_attrs(buf, &off, "c", 300);
    off += (size_t)sprintf(buf + off, "> --><name><![CDATA[<b");
    add_attrs(buf, &off, "d", 300);
    off += (size_t)sprintf(buf + off, ">]]></name><?pi");
    add_attrs(buf, &off, "e", 300);
    off += (size_t)sprintf(buf + off, "?><devices><interface type='");
    for (i = 0; i < 300; i++)
        off += (size_t)sprintf(buf + off, "> =");
    off += (size_t)sprintf(buf + off, "'/></devices></domain>");
    CHECK(nmq_domain_read(buf, off, &d, &e) == 0);
    CHECK(d.n_ifaces == 1 && d.ifaces[0].type.len == 900);
    nmq_domain_free(&d);

    /* A quote in a comment, a '>' in a value: the tag is still counted. */
    off = (size_t)sprintf(buf, "<!-- \" ' --><?pi ' ?><domain q='>'");
    add_attrs(buf, &off, "a", 300);
    off += (size_t)sprintf(buf + off, "/>");
    CHECK(
        fails_with_len(buf, off, NMQ_ERR_TOO_LARGE, "xml", "attributes", NULL));
    free(buf);
}

/* Build a domain with n empty interfaces into a malloc'd string. */
static char *
many_ifaces(size_t n, size_t *len)
{
    static const char iface[] = "<interface/>";
    size_t cap = 64 + n * (sizeof(iface) - 1);
    char *buf = malloc(cap);
    size_t off = 0;
    size_t i;

    if (buf == NULL)
        return NULL;
    off += (size_t)sprintf(buf, "<domain><devices>");
    for (i = 0; i < n; i++) {
        memcpy(buf + off, iface, sizeof(iface) - 1);
        off += sizeof(iface) - 1;
    }
    off += (size_t)sprintf(buf + off, "</devices></domain>");
    *len = off;
    return buf;
}

static void
test_max_ifaces(void)
{
    size_t len = 0;
    char *xml = many_ifaces(NMQ_READER_MAX_IFACES, &len);
    NmqDomain d;
    NmqError e;

    CHECK(xml != NULL);
    if (xml == NULL)
        return;
    CHECK(nmq_domain_read(xml, len, &d, &e) == 0);
    CHECK(d.n_ifaces == NMQ_READER_MAX_IFACES);
    CHECK(d.n_ifaces > 0 && d.ifaces[d.n_ifaces - 1].queues == -1);
    nmq_domain_free(&d);
    free(xml);
    xml = many_ifaces(NMQ_READER_MAX_IFACES + 1, &len);
    CHECK(xml != NULL);
    if (xml == NULL)
        return;
    CHECK(fails_with_len(xml, len, NMQ_ERR_TOO_LARGE, "interfaces", "4097",
                         "4096"));
    free(xml);
}

/* A late error frees the strings already copied (ASan/valgrind see it). */
static void
test_late_error_frees(void)
{
    char *xml = NULL;
    size_t len = 0;
    char *p = NULL;

    xml = many_ifaces(3000, &len);
    CHECK(xml != NULL);
    if (xml == NULL)
        return;
    /* Turn the last <interface/> into a bad one of the same length. */
    p = strstr(xml, "</devices>") - 12;
    memcpy(p, "<driver q=1>", 12);
    CHECK(fails_with_len(xml, len, NMQ_ERR_PARSE, "xml", "line 1", NULL));
    free(xml);
    CHECK(fails_with("<domain><name>kept</name><vcpu>2</vcpu><devices>"
                     "<interface type='a'><mac address='m'/></interface>"
                     "<interface type='b'><driver queues='4' "
                     "rx_queue_size='big'/></interface></devices></domain>",
                     NMQ_ERR_PARSE, "interfaces[1].driver.rx_queue_size",
                     "'big'", NULL));
}

/* ---- arena ----------------------------------------------------------- */

/* Strings far larger than a chunk, and many of them, stay intact. */
static void
test_arena_growth(void)
{
    size_t big = 100000;
    size_t cap = big + 400 * 400 + 256;
    char *xml = malloc(cap);
    size_t off = 0;
    size_t i;
    int ok = 1;
    NmqDomain d;
    NmqError e;

    CHECK(xml != NULL);
    if (xml == NULL)
        return;
    off += (size_t)sprintf(xml, "<domain><name>");
    memset(xml + off, 'n', big);
    off += big;
    off += (size_t)sprintf(xml + off, "</name><devices>");
    for (i = 0; i < 300; i++)
        off += (size_t)sprintf(xml + off,
                               "<interface><alias name='%0300zu'"
                               "/></interface>",
                               i);
    off += (size_t)sprintf(xml + off, "</devices></domain>");
    CHECK(nmq_domain_read(xml, off, &d, &e) == 0);
    CHECK(d.name.len == big && d.name.s[0] == 'n' && d.name.s[big - 1] == 'n' &&
          d.name.s[big] == '\0');
    CHECK(d.n_ifaces == 300);
    for (i = 0; i < d.n_ifaces; i++) {
        char want[301];

        snprintf(want, sizeof(want), "%0300zu", i);
        ok = ok && str_is(d.ifaces[i].alias, want);
    }
    CHECK(ok);
    nmq_domain_free(&d);
    free(xml);
}

static void
test_free_is_safe(void)
{
    NmqDomain d;
    NmqError e;

    nmq_domain_free(NULL);
    memset(&d, 0, sizeof(d));
    nmq_domain_free(&d);
    CHECK(dom_is_empty(&d));
    CHECK(read_str(LIBVIRT_8NICS, &d, &e) == 0);
    nmq_domain_free(&d);
    nmq_domain_free(&d);
    CHECK(dom_is_empty(&d));
}

/* ---- nothing is ever fetched ----------------------------------------- */

static int loader_calls;

/* An external entity loader that only counts: the oracle for "fetched". */
static xmlParserInputPtr
counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    loader_calls++;
    return NULL;
}

/* Write a file holding secret XML; its path goes into path. */
static int
write_secret(char *path, size_t pathlen)
{
    FILE *f = NULL;
    int fd;

    snprintf(path, pathlen, "/tmp/nmq-reader-secret-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    fputs("<s>SECRET</s>", f);
    fclose(f);
    return 0;
}

/* Whether any string the reader returned contains SECRET. */
static int
dom_has_secret(const NmqDomain *d)
{
    size_t i;

    if (d->name.s != NULL && strstr(d->name.s, "SECRET") != NULL)
        return 1;
    for (i = 0; i < d->n_ifaces; i++) {
        if (d->ifaces[i].alias.s != NULL &&
            strstr(d->ifaces[i].alias.s, "SECRET") != NULL)
            return 1;
    }
    return 0;
}

/*
 * Documents that name a local file in every way XML allows: an external
 * entity, an external DTD, XInclude, a stylesheet PI, a schema location.
 * %1$s is the URL.
 */
static const char *const FETCHERS[] = {
    "<!DOCTYPE domain [<!ENTITY s SYSTEM '%1$s'>]>"
    "<domain><name>&s;</name></domain>",
    "<!DOCTYPE domain SYSTEM '%1$s'><domain><name>&s;</name></domain>",
    "<!DOCTYPE domain [<!ENTITY %% p SYSTEM '%1$s'> %%p;]><domain/>",
    "<domain xmlns:xi='http://www.w3.org/2001/XInclude'><name>"
    "<xi:include href='%1$s'/><xi:include href='%1$s' parse='text'/>"
    "</name><devices><interface><alias name='a'>"
    "<xi:include href='%1$s'/></alias></interface></devices></domain>",
    "<?xml-stylesheet type='text/xsl' href='%1$s'?><domain "
    "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
    "xsi:schemaLocation='urn:x %1$s'><name>n</name></domain>",
};

/* Read every FETCHERS document with url; count successes into *ok. */
static void
read_fetchers(const char *url, int *ok, int *secret)
{
    char xml[1024];
    size_t i;
    NmqDomain d;
    NmqError e;

    for (i = 0; i < sizeof(FETCHERS) / sizeof(*FETCHERS); i++) {
        snprintf(xml, sizeof(xml), FETCHERS[i], url);
        if (read_str(xml, &d, &e) == 0) {
            (*ok)++;
            *secret += dom_has_secret(&d);
            nmq_domain_free(&d);
        }
    }
}

static void
test_no_file_fetch(void)
{
    xmlExternalEntityLoader saved = xmlGetExternalEntityLoader();
    char path[64];
    char url[96];
    char xml[1024];
    xmlDocPtr doc = NULL;
    int ok = 0;
    int secret = 0;

    CHECK(write_secret(path, sizeof(path)) == 0);
    snprintf(url, sizeof(url), "file://%s", path);
    xmlSetExternalEntityLoader(counting_loader);
    /* Control: a permissive parse does call the loader. */
    snprintf(xml, sizeof(xml), FETCHERS[0], url);
    loader_calls = 0;
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                        XML_PARSE_NOENT | XML_PARSE_DTDLOAD |
                            XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlFreeDoc(doc);
    CHECK(loader_calls > 0);
    loader_calls = 0;
    read_fetchers(url, &ok, &secret);
    read_fetchers(path, &ok, &secret);
    CHECK(loader_calls == 0);
    xmlSetExternalEntityLoader(saved);
    /* With libxml2's own loader too.  The DOCTYPEs fail, the rest read. */
    read_fetchers(url, &ok, &secret);
    CHECK(ok == 6);
    CHECK(secret == 0);
    unlink(path);
}

/* A listening socket on 127.0.0.1; its port goes into *port. */
static int
listen_local(int *port)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void
test_no_network_fetch(void)
{
    struct pollfd pfd;
    char url[96];
    int port = 0;
    int ok = 0;
    int secret = 0;
    int fd = listen_local(&port);

    if (fd < 0) {
        fprintf(stderr, "test_no_network_fetch: SKIP (no socket: %s)\n",
                strerror(errno));
        return;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/secret.xml", port);
    read_fetchers(url, &ok, &secret);
    snprintf(url, sizeof(url), "ftp://127.0.0.1:%d/secret.xml", port);
    read_fetchers(url, &ok, &secret);
    CHECK(ok == 4);
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    /* A pending connection would make the listener readable. */
    CHECK(poll(&pfd, 1, 100) == 0);
    close(fd);
}

/* ---- libxml2 stays quiet and the caller's handlers survive ----------- */

#if LIBXML_VERSION >= 21200
typedef const xmlError *TestXmlErrorPtr;
#else
typedef xmlErrorPtr TestXmlErrorPtr;
#endif

/*
 * An encoding error: libxml2 raises it without a parser context, so
 * XML_PARSE_NOERROR does not keep it off stderr.  glibc converts this
 * encoding without loading a gconv module (which valgrind dislikes).
 */
static const char ENC_BAD[] =
    "<?xml version='1.0' encoding='ANSI_X3.4-1968'?><domain>\xff\xfe"
    "</domain>";

static int generic_calls;
static int structured_calls;
static int handler_ctx;

static void
count_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
    generic_calls++;
}

static void
count_structured(void *ctx, TestXmlErrorPtr e)
{
    (void)ctx;
    (void)e;
    structured_calls++;
}

/* Send stderr to a temporary file; returns the saved descriptor. */
static int
stderr_begin(FILE **tmp)
{
    int saved;

    fflush(stderr);
    *tmp = tmpfile();
    saved = dup(2);
    if (*tmp != NULL && saved >= 0)
        dup2(fileno(*tmp), 2);
    return saved;
}

/* Restore stderr; returns how many bytes were written meanwhile. */
static long
stderr_end(FILE *tmp, int saved)
{
    long n = -1;

    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (tmp != NULL) {
        fseek(tmp, 0, SEEK_END);
        n = ftell(tmp);
        fclose(tmp);
    }
    return n;
}

static void
read_noisy_inputs(void)
{
    CHECK(fails_with(ENC_BAD, NMQ_ERR_PARSE, "xml", "encoding error",
                     "input conversion failed"));
    CHECK(fails_with("<domain><x></domain>", NMQ_ERR_PARSE, "xml", NULL, NULL));
    CHECK(fails_with("<?xml version='1.0' encoding='nope'?><domain/>",
                     NMQ_ERR_PARSE, "xml", "nope", NULL));
    CHECK(fails_with("<domain xmlns:a='x' a:b='1' a:b='2'/>", NMQ_ERR_PARSE,
                     "xml", NULL, NULL));
}

static void
test_quiet(void)
{
    FILE *tmp = NULL;
    xmlDocPtr doc = NULL;
    int saved;

    /* Control: NOERROR alone lets the encoding error through. */
    saved = stderr_begin(&tmp);
    doc = xmlReadMemory(ENC_BAD, (int)strlen(ENC_BAD), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    CHECK(stderr_end(tmp, saved) > 0);
    xmlFreeDoc(doc);

    saved = stderr_begin(&tmp);
    read_noisy_inputs();
    CHECK(stderr_end(tmp, saved) == 0);
}

static void
test_handlers_kept(void)
{
    xmlDocPtr doc = NULL;

    xmlSetGenericErrorFunc(&handler_ctx, count_generic);
    xmlSetStructuredErrorFunc(&handler_ctx, count_structured);
    generic_calls = 0;
    structured_calls = 0;
    read_noisy_inputs();
    CHECK(generic_calls == 0 && structured_calls == 0);
    CHECK(xmlGenericError == count_generic);
    CHECK(xmlGenericErrorContext == &handler_ctx);
    CHECK(xmlStructuredError == (xmlStructuredErrorFunc)count_structured);
    CHECK(xmlStructuredErrorContext == &handler_ctx);
    /* Control: the handlers are live and would have been called. */
    doc = xmlReadMemory(ENC_BAD, (int)strlen(ENC_BAD), NULL, NULL, 0);
    xmlFreeDoc(doc);
    CHECK(structured_calls > 0);
    xmlSetGenericErrorFunc(NULL, NULL);
    xmlSetStructuredErrorFunc(NULL, NULL);
}

/* ---- allocation failure ---------------------------------------------- */

/*
 * Fail the n-th libxml2 or arena allocation of a read, for every n until
 * a read needs no more: each read fails cleanly (empty domain, nothing
 * leaked) or succeeds with exactly the right values.
 */
static void
test_alloc_failure(void)
{
    long n;
    int oom = 0;
    int other = 0;
    int survived = 0;
    int wrong = 0;
    NmqDomain d;
    NmqError e;

    for (n = 0; n < 1000000; n++) {
        int rc;

        memset(&d, 0xa5, sizeof(d));
        alloc_failed = 0;
        alloc_countdown = n;
        rc = read_str(LIBVIRT_8NICS, &d, &e);
        alloc_countdown = -1;
        if (alloc_failed == 0) {
            CHECK(rc == 0 && dom_is_8nics(&d));
            nmq_domain_free(&d);
            break;
        }
        if (rc == 0) {
            wrong += !dom_is_8nics(&d);
            survived++;
            nmq_domain_free(&d);
            continue;
        }
        wrong += !dom_is_empty(&d);
        if (e.code == NMQ_ERR_NO_MEMORY)
            oom++;
        else
            other++;
    }
    printf("test_alloc_failure: %ld allocations; %d out of memory, "
           "%d other errors, %d survived\n",
           n, oom, other, survived);
    CHECK(n > 100 && n < 1000000);
    CHECK(oom > 0);
    /* Reported as what it is, never as malformed XML or a wrong result. */
    CHECK(other == 0);
    CHECK(wrong == 0);
}

/* ---- threads --------------------------------------------------------- */

static void *
thread_main(void *arg)
{
    int *bad = arg;
    int i;
    NmqDomain d;
    NmqError e;

    for (i = 0; i < 100; i++) {
        if (read_str(LIBVIRT_8NICS, &d, &e) != 0 || !dom_is_8nics(&d))
            (*bad)++;
        nmq_domain_free(&d);
        if (read_str("<domain><vcpu>x</vcpu></domain>", &d, &e) != -1 ||
            strcmp(e.key, "vcpu") != 0)
            (*bad)++;
        if (read_str(ENC_BAD, &d, &e) != -1 ||
            strstr(e.msg, "encoding error") == NULL)
            (*bad)++;
    }
    return NULL;
}

static void
test_threads(void)
{
    pthread_t t[4];
    int bad[4] = {0, 0, 0, 0};
    int started = 0;
    int i;

    for (i = 0; i < 4; i++) {
        if (pthread_create(&t[i], NULL, thread_main, &bad[i]) == 0)
            started++;
    }
    CHECK(started == 4);
    for (i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    CHECK(bad[0] + bad[1] + bad[2] + bad[3] == 0);
}

int
main(void)
{
    int rc;

    if (xmlMemSetup(t_free, t_malloc, t_realloc, t_strdup) != 0) {
        fprintf(stderr, "xmlMemSetup failed\n");
        return 1;
    }
    xmlInitParser();
    test_realistic();
    test_defaults();
    test_xpath_semantics();
    test_encoding();
    test_read_utf8();
    test_driver_numbers();
    test_driver_number_range();
    test_vcpu();
    test_malformed();
    test_nul_byte();
    test_root();
    test_doctype();
    test_entity_bombs();
    test_too_large();
    test_max_ifaces();
    test_markup_limits();
    test_namespace_limit();
    test_markup_scan();
    test_late_error_frees();
    test_arena_growth();
    test_free_is_safe();
    test_no_file_fetch();
    test_no_network_fetch();
    test_quiet();
    test_handlers_kept();
    test_alloc_failure();
    test_threads();
    rc = CHECK_DONE("test_reader");
    xmlCleanupParser();
    return rc;
}
