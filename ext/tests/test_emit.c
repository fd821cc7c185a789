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
 * test_emit.c: the <interface> emitter against golden XML.  Every golden
 * below is what Nova's LibvirtConfigGuestInterface.to_xml() writes for the
 * same attributes (Nova 34 with lxml 6.1 and Zed with lxml 4.9 agree on
 * all of them; the ring flag is packed in one, iommu in the other), except
 * the one driver with both flags, which no Nova can write; it shows the
 * emitter's order.  Every error case also checks that the output buffer is
 * back to what it held before the call.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>

#include "check.h"
#include "emit.h"

#define MAC "fa:16:3e:12:34:56"
#define PREFIX "<!-- written before -->"
#define HEAD(type) "<interface type=\"" type "\"><mac address=\"" MAC "\"/>"
#define BR0 "<source bridge=\"br0\"/>"
#define TAIL "</interface>"

/* clang-format off: one golden line per XML line reads best. */
static const char gold_bridge[] =
    "<interface type=\"bridge\">\n"
    "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
    "  <model type=\"virtio\"/>\n"
    "  <driver name=\"vhost\" queues=\"4\" rx_queue_size=\"1024\" tx_queue_"
    "size=\"1024\"/>\n"
    "  <source bridge=\"br-int\"/>\n"
    "  <mtu size=\"1450\"/>\n"
    "  <target dev=\"tap0f1e2d3c-4b\"/>\n"
    "  <virtualport type=\"openvswitch\">\n"
    "    <parameters interfaceid=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"/>"
    "\n"
    "  </virtualport>\n"
    "</interface>\n";

static const char gold_ethernet[] = "<interface type=\"ethernet\">\n"
                                    "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
                                    "  <model type=\"virtio\"/>\n"
                                    "  <driver name=\"vhost\" queues=\"2\"/>\n"
                                    "  <script path=\"\"/>\n"
                                    "  <mtu size=\"9000\"/>\n"
                                    "  <target dev=\"tap0\"/>\n"
                                    "</interface>\n";

static const char gold_direct[] =
    "<interface type=\"direct\">\n"
    "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
    "  <model type=\"virtio\"/>\n"
    "  <source dev=\"enp3s0f1\" mode=\"passthrough\"/>\n"
    "  <vlan>\n"
    "    <tag id=\"42\"/>\n"
    "  </vlan>\n"
    "</interface>\n";

static const char gold_vdpa[] = "<interface type=\"vdpa\">\n"
                                "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
                                "  <model type=\"virtio\"/>\n"
                                "  <source dev=\"/dev/vhost-vdpa-0\"/>\n"
                                "</interface>\n";

static const char gold_hostdev[] =
    "<interface type=\"hostdev\" managed=\"yes\">\n"
    "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
    "  <source>\n"
    "    <address type=\"pci\" domain=\"0x0000\" bus=\"0x81\" slot=\"0x00\""
    " function=\"0x2\"/>\n"
    "  </source>\n"
    "  <vlan>\n"
    "    <tag id=\"100\"/>\n"
    "  </vlan>\n"
    "</interface>\n";

static const char gold_vhostuser[] =
    "<interface type=\"vhostuser\">\n"
    "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
    "  <model type=\"virtio\"/>\n"
    "  <driver queues=\"4\" rx_queue_size=\"1024\"/>\n"
    "  <source type=\"unix\" mode=\"server\" path=\"/var/run/openvswitch/vh"
    "u0f1e2d3c-4b\"/>\n"
    "  <target dev=\"vhu0f1e2d3c-4b\"/>\n"
    "  <virtualport type=\"openvswitch\">\n"
    "    <parameters interfaceid=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"/>"
    "\n"
    "  </virtualport>\n"
    "</interface>\n";

static const char gold_network[] =
    "<interface type=\"network\">\n"
    "  <mac address=\"fa:16:3e:12:34:56\"/>\n"
    "  <model type=\"e1000\"/>\n"
    "  <source bridge=\"default\"/>\n"
    "  <filterref filter=\"clean-traffic\">\n"
    "    <parameter name=\"IP\" value=\"10.0.0.1\"/>\n"
    "  </filterref>\n"
    "  <bandwidth>\n"
    "    <inbound average=\"1000\" peak=\"2000\" burst=\"512\"/>\n"
    "    <outbound average=\"0\"/>\n"
    "  </bandwidth>\n"
    "</interface>\n";
/* clang-format on */

static xmlBufferPtr buf;

/* A Python str as module.c passes it. */
static NmqVal
str_val(const char *s)
{
    NmqVal v = {{s, strlen(s)}, s[0] != '\0', 0};

    return v;
}

/* A Python str whose UTF-8 is the len bytes at s (NULs allowed). */
static NmqVal
bytes_val(const char *s, size_t len)
{
    NmqVal v = {{s, len}, len > 0, 0};

    return v;
}

/* A Python int as module.c passes it: str() text, truth, not a str. */
static NmqVal
int_val(const char *digits)
{
    NmqVal v = {{digits, strlen(digits)}, strcmp(digits, "0") != 0, 1};

    return v;
}

static const NmqVal none_val = {{NULL, 0}, 0, 0};

/* Make f a fresh interface of net type with a MAC and source. */
static void
iface_make(NmqIface *f, const char *type)
{
    nmq_iface_init(f);
    f->net_type = str_val(type);
    f->mac_addr = str_val(MAC);
    f->source_dev = str_val("br0");
}

static void
buf_reset(void)
{
    xmlBufferEmpty(buf);
    xmlBufferCat(buf, (const xmlChar *)PREFIX);
}

/* f's XML as appended after PREFIX, or NULL (reported) on error. */
static const char *
render(const NmqIface *f, int pretty)
{
    NmqError err;
    const char *text;

    buf_reset();
    if (nmq_iface_format(f, pretty, buf, &err) < 0) {
        fprintf(stderr, "unexpected error: %s\n", err.msg);
        return NULL;
    }
    text = (const char *)xmlBufferContent(buf);
    if (strncmp(text, PREFIX, strlen(PREFIX)) != 0)
        return NULL;
    return text + strlen(PREFIX);
}

/* lxml's compact form of a pretty golden: every newline and the indent
 * after it dropped (values never hold a raw newline: it is &#10;). */
static const char *
compact(const char *pretty)
{
    static char out[4096];
    size_t o = 0;

    for (; *pretty != '\0' && o + 1 < sizeof(out); pretty++) {
        if (*pretty == '\n') {
            while (pretty[1] == ' ')
                pretty++;
            continue;
        }
        out[o++] = *pretty;
    }
    out[o] = '\0';
    return out;
}

#define CHECK_GOLD(f, gold)                                                    \
    do {                                                                       \
        CHECK_STREQ(render((f), 1), (gold));                                   \
        CHECK_STREQ(render((f), 0), compact(gold));                            \
    } while (0)

#define CHECK_COMPACT(f, want) CHECK_STREQ(render((f), 0), (want))

/*
 * Whether f fails, pretty and not, with code and key, a message that names
 * the key and the value, and the buffer holding exactly PREFIX again.
 */
static int
fails_with(const NmqIface *f, NmqErrorCode code, const char *key)
{
    int pretty;

    for (pretty = 0; pretty < 2; pretty++) {
        NmqError err;
        const char *text;

        memset(&err, 0, sizeof(err));
        buf_reset();
        if (nmq_iface_format(f, pretty, buf, &err) != -1) {
            fprintf(stderr, "  no error; wanted one for %s\n", key);
            return 0;
        }
        text = (const char *)xmlBufferContent(buf);
        if (err.code != code || strcmp(err.key, key) != 0 ||
            strstr(err.msg, key) == NULL ||
            strstr(err.msg, err.value) == NULL || strcmp(text, PREFIX) != 0 ||
            (size_t)xmlBufferLength(buf) != strlen(PREFIX)) {
            fprintf(stderr,
                    "  wanted code %d key %s; got code %d key %s "
                    "msg \"%s\" buffer \"%s\"\n",
                    (int)code, key, (int)err.code, err.key, err.msg, text);
            return 0;
        }
    }
    return 1;
}

static void
test_init(void)
{
    NmqIface f;

    memset(&f, 0x5a, sizeof(f));
    nmq_iface_init(&f);
    CHECK(f.net_type.text.s == NULL && f.mac_addr.text.s == NULL);
    CHECK(f.vhost_queues.text.s == NULL && f.managed.text.s == NULL);
    CHECK(nmq_str_eq(f.source_mode.text, "private"));
    CHECK(f.source_mode.truthy && !f.source_mode.not_str);
    CHECK(f.driver_iommu == 0 && f.driver_packed == 0);
    CHECK(f.vportparams == NULL && f.n_vportparams == 0);
    CHECK(f.filterparams == NULL && f.n_filterparams == 0);
    CHECK(f.vif_outbound_burst.text.s == NULL);
}

static const NmqParam ovs_params[] = {
    {{{"interfaceid", 11}, 1, 0},
     {{"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 36}, 1, 0}}};

/* The interface of gold_bridge: OVS with a virtualport. */
static void
make_bridge(NmqIface *f)
{
    iface_make(f, "bridge");
    f->model = str_val("virtio");
    f->driver_name = str_val("vhost");
    f->vhost_queues = int_val("4");
    f->vhost_rx_queue_size = int_val("1024");
    f->vhost_tx_queue_size = int_val("1024");
    f->source_dev = str_val("br-int");
    f->mtu = int_val("1450");
    f->target_dev = str_val("tap0f1e2d3c-4b");
    f->vporttype = str_val("openvswitch");
    f->vportparams = ovs_params;
    f->n_vportparams = 1;
}

/* The interface of gold_hostdev: an SR-IOV VF with a VLAN. */
static void
make_hostdev(NmqIface *f)
{
    iface_make(f, "hostdev");
    f->source_dev = str_val("0000:81:00.2");
    f->vlan = int_val("100");
}

/* The interface of gold_network: filter and bandwidth. */
static void
make_network(NmqIface *f)
{
    static const NmqParam ip[] = {{{{"IP", 2}, 1, 0}, {{"10.0.0.1", 8}, 1, 0}}};

    iface_make(f, "network");
    f->model = str_val("e1000");
    f->source_dev = str_val("default");
    f->filtername = str_val("clean-traffic");
    f->filterparams = ip;
    f->n_filterparams = 1;
    f->vif_inbound_average = int_val("1000");
    f->vif_inbound_peak = int_val("2000");
    f->vif_inbound_burst = int_val("512");
    f->vif_outbound_average = int_val("0"); /* false but not None */
}

static void
test_golden_bridge_ethernet(void)
{
    NmqIface f;

    make_bridge(&f);
    CHECK_GOLD(&f, gold_bridge);

    iface_make(&f, "ethernet");
    f.model = str_val("virtio");
    f.driver_name = str_val("vhost");
    f.vhost_queues = int_val("2");
    f.target_dev = str_val("tap0");
    f.mtu = int_val("9000");
    f.script = str_val("");
    CHECK_GOLD(&f, gold_ethernet);
}

static void
test_golden_direct_vdpa_hostdev(void)
{
    NmqIface f;

    iface_make(&f, "direct");
    f.model = str_val("virtio");
    f.source_dev = str_val("enp3s0f1");
    f.source_mode = str_val("passthrough");
    f.vlan = int_val("42");
    CHECK_GOLD(&f, gold_direct);

    iface_make(&f, "vdpa");
    f.model = str_val("virtio");
    f.source_dev = str_val("/dev/vhost-vdpa-0");
    CHECK_GOLD(&f, gold_vdpa);

    make_hostdev(&f);
    CHECK_GOLD(&f, gold_hostdev);
}

static void
test_golden_vhostuser_network(void)
{
    NmqIface f;

    iface_make(&f, "vhostuser");
    f.model = str_val("virtio");
    f.driver_name = str_val("vhost"); /* never written for vhostuser */
    f.vhost_queues = int_val("4");
    f.vhost_rx_queue_size = int_val("1024");
    f.vhostuser_type = str_val("unix");
    f.vhostuser_mode = str_val("server");
    f.vhostuser_path = str_val("/var/run/openvswitch/vhu0f1e2d3c-4b");
    f.target_dev = str_val("vhu0f1e2d3c-4b");
    f.vporttype = str_val("openvswitch");
    f.vportparams = ovs_params;
    f.n_vportparams = 1;
    CHECK_GOLD(&f, gold_vhostuser);

    make_network(&f);
    CHECK_GOLD(&f, gold_network);
}

static void
test_driver_created(void)
{
    NmqIface f;

    iface_make(&f, "bridge");
    f.driver_name = str_val("vhost");
    CHECK_COMPACT(&f, HEAD("bridge") "<driver name=\"vhost\"/>" BR0 TAIL);

    iface_make(&f, "bridge");
    f.driver_packed = 1;
    CHECK_COMPACT(&f, HEAD("bridge") "<driver packed=\"on\"/>" BR0 TAIL);

    iface_make(&f, "bridge");
    f.driver_iommu = 1;
    f.vhost_queues = str_val("");
    f.vhost_rx_queue_size = str_val("");
    CHECK_COMPACT(&f, HEAD("bridge") "<driver iommu=\"on\" queues=\"\" "
                                     "rx_queue_size=\"\"/>" BR0 TAIL);

    /* No Nova has both flags; this is the emitter's order. */
    iface_make(&f, "bridge");
    f.driver_name = str_val("vhost");
    f.driver_iommu = 1;
    f.driver_packed = 1;
    f.vhost_queues = int_val("8");
    f.vhost_rx_queue_size = str_val("512");
    f.vhost_tx_queue_size = int_val("256");
    CHECK_COMPACT(
        &f, HEAD("bridge") "<driver name=\"vhost\" iommu=\"on\" "
                           "packed=\"on\" queues=\"8\" rx_queue_size=\"512\" "
                           "tx_queue_size=\"256\"/>" BR0 TAIL);

    iface_make(&f, "bridge");
    f.driver_name = str_val("vhost");
    f.vhost_queues = str_val("");
    CHECK_COMPACT(
        &f, HEAD("bridge") "<driver name=\"vhost\" queues=\"\"/>" BR0 TAIL);
}

static void
test_driver_not_created_or_dropped(void)
{
    NmqIface f;

    iface_make(&f, "bridge"); /* no name, no flag: queues are ignored */
    f.driver_name = str_val("");
    f.vhost_queues = int_val("4");
    CHECK_COMPACT(&f, HEAD("bridge") BR0 TAIL);

    iface_make(&f, "bridge");
    f.driver_name = int_val("0");
    f.vhost_queues = int_val("4");
    CHECK_COMPACT(&f, HEAD("bridge") BR0 TAIL);

    iface_make(&f, "vhostuser");
    f.vhostuser_type = str_val("unix");
    f.vhostuser_mode = str_val("client");
    f.vhostuser_path = str_val("/p");
    f.driver_name = str_val("vhost\x01"); /* never set, never checked */
    CHECK_COMPACT(&f, HEAD("vhostuser") "<source type=\"unix\" "
                                        "mode=\"client\" path=\"/p\"/>" TAIL);
    f.vhost_queues = str_val(""); /* made, but no attribute to keep it */
    CHECK_COMPACT(&f, HEAD("vhostuser") "<source type=\"unix\" "
                                        "mode=\"client\" path=\"/p\"/>" TAIL);
    f.vhost_queues = str_val("0");
    CHECK_COMPACT(
        &f,
        HEAD("vhostuser") "<driver queues=\"0\"/><source "
                          "type=\"unix\" mode=\"client\" path=\"/p\"/>" TAIL);
    f.vhost_queues = int_val("0");
    CHECK_COMPACT(
        &f,
        HEAD("vhostuser") "<driver queues=\"0\"/><source "
                          "type=\"unix\" mode=\"client\" path=\"/p\"/>" TAIL);
}

static void
test_per_type_elements(void)
{
    NmqIface f;

    iface_make(&f, "ethernet");
    CHECK_COMPACT(&f, HEAD("ethernet") TAIL);

    iface_make(&f, "bridge");
    f.script = str_val("/s");
    f.mtu = int_val("0");
    f.vlan = int_val("5"); /* bridge: no vlan */
    CHECK_COMPACT(&f, HEAD("bridge") BR0 "<script path=\"/s\"/>"
                                         "<mtu size=\"0\"/>" TAIL);

    iface_make(&f, "direct");
    f.source_dev = str_val("eth0");
    f.script = str_val("/s"); /* direct: no script, no mtu */
    f.mtu = int_val("1500");
    f.model = int_val("0");
    f.vlan = str_val("0"); /* the string "0" is true */
    CHECK_COMPACT(
        &f,
        HEAD("direct") "<source dev=\"eth0\" "
                       "mode=\"private\"/><vlan><tag id=\"0\"/></vlan>" TAIL);
    f.vlan = int_val("0");
    CHECK_COMPACT(&f, HEAD("direct") "<source dev=\"eth0\" "
                                     "mode=\"private\"/>" TAIL);

    iface_make(&f, "bridge");
    f.target_dev = str_val("");
    CHECK_COMPACT(&f, HEAD("bridge") BR0 "<target dev=\"\"/>" TAIL);
    f.target_dev = str_val("tap0");
    f.managed = str_val("no");
    CHECK_COMPACT(&f, HEAD("bridge") BR0 "<target dev=\"tap0\" "
                                         "managed=\"no\"/>" TAIL);
    f.target_dev = none_val; /* managed alone is not written */
    CHECK_COMPACT(&f, HEAD("bridge") BR0 TAIL);
}

static void
test_port_filter_bandwidth(void)
{
    static const NmqParam qbg[] = {
        {{{"managerid", 9}, 1, 0}, {{"11", 2}, 1, 0}},
        {{{"typeid", 6}, 1, 0}, {{"1193047", 7}, 1, 0}}};
    NmqIface f;

    iface_make(&f, "bridge");
    f.vporttype = str_val("802.1Qbh");
    CHECK_COMPACT(&f,
                  HEAD("bridge") BR0 "<virtualport type=\"802.1Qbh\"/>" TAIL);
    f.vporttype = str_val("802.1Qbg");
    f.vportparams = qbg;
    f.n_vportparams = 2;
    CHECK_COMPACT(&f, HEAD("bridge") BR0
                  "<virtualport type=\"802.1Qbg\">"
                  "<parameters managerid=\"11\"/><parameters "
                  "typeid=\"1193047\"/></virtualport>" TAIL);

    iface_make(&f, "bridge");
    f.filtername = str_val("clean-traffic");
    CHECK_COMPACT(&f, HEAD("bridge") BR0
                  "<filterref filter=\"clean-traffic\"/>" TAIL);

    iface_make(&f, "bridge");
    f.vif_outbound_average = int_val("10");
    f.vif_outbound_burst = int_val("0");
    f.vif_inbound_peak = int_val("5"); /* no inbound average: ignored */
    CHECK_COMPACT(&f, HEAD("bridge") BR0
                  "<bandwidth><outbound "
                  "average=\"10\" burst=\"0\"/></bandwidth>" TAIL);

    iface_make(&f, "bridge");
    f.vif_inbound_average = int_val("0");
    f.vif_outbound_average = int_val("0");
    CHECK_COMPACT(&f, HEAD("bridge") BR0 TAIL);
    f.vif_inbound_average = str_val("0");
    CHECK_COMPACT(&f, HEAD("bridge") BR0
                  "<bandwidth><inbound average=\"0\"/>"
                  "<outbound average=\"0\"/></bandwidth>" TAIL);
}

static void
test_escaping(void)
{
    NmqIface f;

    iface_make(&f, "bridge");
    f.source_dev = str_val("a&b<c>d\"e'f\tg\nh\ri");
    f.target_dev = str_val("caf\xc3\xa9 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf "
                           "\xef\xbf\xbd \x7f \xc2\x85");
    CHECK_COMPACT(
        &f,
        HEAD("bridge") "<source bridge=\"a&amp;b&lt;c&gt;d&quot;e'f&#9;g&#10;"
                       "h&#13;i\"/><target dev=\"caf\xc3\xa9 \xf0\x9f\x98\x80 "
                       "\xf4\x8f\xbf\xbf \xef\xbf\xbd \x7f \xc2\x85\"/>" TAIL);
    /* Entities in the input are text, not markup. */
    f.source_dev = str_val("&amp;&#9;]]>");
    f.target_dev = none_val;
    CHECK_COMPACT(
        &f, HEAD("bridge") "<source bridge=\"&amp;amp;&amp;#9;]]&gt;\"/>" TAIL);
}

/*
 * A value of reps copies of unit after shift 'x's, in an exactly-sized
 * heap block with no NUL after it (ASan sees any read past the end), must
 * come out as the same with unit_esc for unit.
 */
static void
check_long_value(const char *unit, const char *unit_esc, size_t shift)
{
    const size_t reps = 1000;
    size_t ulen = strlen(unit);
    size_t len = shift + reps * ulen;
    size_t cap = 256 + shift + reps * strlen(unit_esc);
    char *value = malloc(len);
    char *want = malloc(cap);
    NmqIface f;
    size_t i;

    memset(value, 'x', shift);
    for (i = 0; i < reps; i++)
        memcpy(value + shift + i * ulen, unit, ulen);
    snprintf(want, cap, "%s<source bridge=\"%.*s", HEAD("bridge"), (int)shift,
             "xxxxxxxxxxx");
    for (i = 0; i < reps; i++)
        strcat(want, unit_esc);
    strcat(want, "\"/>" TAIL);
    iface_make(&f, "bridge");
    f.source_dev = bytes_val(value, len);
    CHECK_COMPACT(&f, want);
    free(value);
    free(want);
}

/*
 * Values far longer than the stage and than the escaper's 256-byte
 * chunks, shifted byte by byte so the chunk cuts land inside every kind of
 * multi-byte character; with an escape (libxml2's path) and without.
 */
static void
test_long_values(void)
{
    size_t shift;

    for (shift = 0; shift < 11; shift++) {
        check_long_value("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"a",
                         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80&quot;a", shift);
        check_long_value("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80-a",
                         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80-a", shift);
    }
}

/* libxml2's own escaping of s (what lxml writes), in a static buffer. */
static const char *
libxml2_escaped(const char *s)
{
    static xmlDoc doc = {.type = XML_DOCUMENT_NODE,
                         .encoding = (const xmlChar *)"UTF-8"};
    static char out[256];
    xmlBufferPtr b = xmlBufferCreate();

    xmlAttrSerializeTxtContent(b, &doc, NULL, (const xmlChar *)s);
    snprintf(out, sizeof(out), "%s", (const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    return out;
}

/*
 * The emitter copies a value with nothing to escape as it is and hands
 * the rest to libxml2: for every ASCII character lxml takes, and for
 * non-ASCII ones, the result must be what libxml2's escaper writes.
 */
static void
test_matches_libxml2_escaper(void)
{
    static const char *const wide[] = {
        "\xc2\x85",     "\xc3\xa9",     "\xe2\x80\xa8",     "\xe2\x82\xac",
        "\xef\xbb\xbf", "\xef\xbf\xbd", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
    char value[16];
    char want[512];
    NmqIface f;
    size_t c;

    for (c = 1; c < 0x80 + sizeof(wide) / sizeof(wide[0]); c++) {
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            continue;
        if (c < 0x80)
            snprintf(value, sizeof(value), "a%cb", (int)c);
        else
            snprintf(value, sizeof(value), "a%sb", wide[c - 0x80]);
        iface_make(&f, "bridge");
        f.source_dev = str_val(value);
        snprintf(want, sizeof(want), "%s<source bridge=\"%s\"/>%s",
                 HEAD("bridge"), libxml2_escaped(value), TAIL);
        CHECK_COMPACT(&f, want);
    }
}

static void
test_missing_required(void)
{
    static const char *const types[] = {"bridge", "network", "direct", "vdpa",
                                        "hostdev"};
    NmqIface f;
    size_t i;

    iface_make(&f, "bridge");
    f.net_type = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "net_type"));
    iface_make(&f, "bridge");
    f.mac_addr = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "mac_addr"));
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        iface_make(&f, types[i]);
        f.source_dev = none_val;
        CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "source_dev"));
    }
    iface_make(&f, "direct");
    f.source_mode = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "source_mode"));
    iface_make(&f, "vhostuser");
    f.vhostuser_type = str_val("unix");
    f.vhostuser_mode = str_val("server");
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "vhostuser_path"));
    f.vhostuser_mode = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "vhostuser_mode"));
    f.vhostuser_type = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "vhostuser_type"));
    iface_make(&f, "ethernet"); /* ethernet needs no source */
    f.source_dev = none_val;
    CHECK(render(&f, 1) != NULL);
}

static void
test_missing_param(void)
{
    NmqParam params[2] = {{{{"profileid", 9}, 1, 0}, {{"p", 1}, 1, 0}},
                          {{{NULL, 0}, 0, 0}, {{"v", 1}, 1, 0}}};
    NmqIface f;

    iface_make(&f, "bridge");
    f.vporttype = str_val("openvswitch");
    f.vportparams = params;
    f.n_vportparams = 2;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "vportparams[1].key"));
    params[1].key = str_val("interfaceid");
    params[1].value = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "vportparams[1].value"));
    f.vporttype = none_val; /* params are not read without a type */
    CHECK(render(&f, 0) != NULL);

    iface_make(&f, "bridge");
    f.filtername = str_val("clean-traffic");
    f.filterparams = params;
    f.n_filterparams = 2;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "filterparams[1].value"));
    params[0].key = none_val;
    CHECK(fails_with(&f, NMQ_ERR_MISSING_VALUE, "filterparams[0].key"));
}

/* Where Nova hands a value to lxml without str(), an int is refused;
 * where format_dom() never reaches it, nothing happens. */
static void
test_not_str(void)
{
    NmqIface f;

    iface_make(&f, "bridge");
    f.net_type = int_val("5");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "net_type"));
    iface_make(&f, "bridge");
    f.model = int_val("5");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "model"));
    f.model = int_val("0"); /* false: never written */
    CHECK(render(&f, 0) != NULL);
    f.driver_name = int_val("1");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "driver_name"));
    iface_make(&f, "bridge");
    f.target_dev = str_val("tap0");
    f.managed = int_val("1");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "managed"));
    iface_make(&f, "hostdev");
    f.source_dev = int_val("3");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "source_dev"));
    iface_make(&f, "ethernet");
    f.source_dev = int_val("3"); /* never read for ethernet */
    f.mtu = int_val("1500");     /* written with str() */
    CHECK_COMPACT(&f, HEAD("ethernet") "<mtu size=\"1500\"/>" TAIL);
}

typedef struct {
    const char *s;
    size_t len;
} Bytes;

#define BYTES(lit)                                                             \
    {                                                                          \
        (lit), sizeof(lit) - 1                                                 \
    }

/* clang-format off */
/* Byte strings lxml refuses, or that are not UTF-8 at all. */
static const Bytes bad_texts[] = {
    BYTES("a\0b"),           BYTES("\x01"),
    BYTES("x\x08"),          BYTES("\x0b"),
    BYTES("\x0c"),           BYTES("\x1f"),
    BYTES("\x80"),           BYTES("\xbf"),
    BYTES("\xc0\x80"),       BYTES("\xc1\xbf"),
    BYTES("\xc3"),           BYTES("\xc3("),
    BYTES("\xe0\x80\x80"),   BYTES("\xe0\x9f\xbf"),
    BYTES("\xe2\x82"),       BYTES("\xe2(\xa1"),
    BYTES("\xe2\x82("),      BYTES("\xf0\x9f(\x80"),
    BYTES("\xed\xa0\x80"),   BYTES("\xed\xbf\xbf"),
    BYTES("\xef\xbf\xbe"),   BYTES("\xef\xbf\xbf"),
    BYTES("\xf0\x80\x80\x80"), BYTES("\xf0\x8f\xbf\xbf"),
    BYTES("\xf0\x9f\x98"),   BYTES("\xf4\x90\x80\x80"),
    BYTES("\xf5\x80\x80\x80"), BYTES("\xfe"),
    BYTES("\xff"),           BYTES("ok\xc3\xa9\xff"),
};

/* Edge characters lxml takes, written as they are. */
static const Bytes good_texts[] = {
    BYTES("\x7f"),             BYTES("\xc2\x80"),
    BYTES("\xdf\xbf"),         BYTES("\xe0\xa0\x80"),
    BYTES("\xed\x9f\xbf"),     BYTES("\xee\x80\x80"),
    BYTES("\xef\xbf\xbd"),     BYTES("\xf0\x90\x80\x80"),
    BYTES("\xf4\x8f\xbf\xbf"), BYTES("\xf0\x9f\xbf\xbe"),
};
/* clang-format on */

static void
test_bad_text(void)
{
    NmqParam param = {{{"interfaceid", 11}, 1, 0}, {{"v", 1}, 1, 0}};
    NmqIface f;
    size_t i;

    for (i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
        NmqVal bad = bytes_val(bad_texts[i].s, bad_texts[i].len);

        iface_make(&f, "bridge");
        f.mac_addr = bad;
        CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "mac_addr"));
        iface_make(&f, "bridge");
        f.driver_packed = 1;
        f.vhost_tx_queue_size = bad;
        CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "vhost_tx_queue_size"));
        iface_make(&f, "bridge");
        f.vif_outbound_average = int_val("1");
        f.vif_outbound_burst = bad;
        CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "vif_outbound_burst"));
        iface_make(&f, "bridge");
        f.vporttype = str_val("openvswitch");
        param.value = bad;
        f.vportparams = &param;
        f.n_vportparams = 1;
        CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "vportparams[0].value"));
    }
    for (i = 0; i < sizeof(good_texts) / sizeof(good_texts[0]); i++) {
        char want[128];

        iface_make(&f, "bridge");
        f.source_dev = bytes_val(good_texts[i].s, good_texts[i].len);
        snprintf(want, sizeof(want), "%s<source bridge=\"%s\"/>%s",
                 HEAD("bridge"), good_texts[i].s, TAIL);
        CHECK_COMPACT(&f, want);
    }
}

static void
test_param_keys(void)
{
    static const char *const bad[] = {
        "",        "1a",          "-a",       ".a",    "a:b",
        "a b",     "a\"b",        "a=b",      "xmlns", "xmlnsfoo",
        "xmlns:x", "caf\xc3\xa9", "{urn:x}y", "a\tb"};
    static const char *const good[] = {"a",      "_",     "A.b-c_9", "xml",
                                       "xmlfoo", "XMLNS", "xmln"};
    NmqParam params[2] = {{{{"profileid", 9}, 1, 0}, {{"p", 1}, 1, 0}}};
    NmqIface f;
    size_t i;

    iface_make(&f, "bridge");
    f.vporttype = str_val("openvswitch");
    f.vportparams = params;
    f.n_vportparams = 2;
    params[1].value = str_val("v&");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        params[1].key = str_val(bad[i]);
        CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "vportparams[1].key"));
    }
    params[1].key = int_val("7");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "vportparams[1].key"));
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char want[256];

        params[1].key = str_val(good[i]);
        snprintf(want, sizeof(want),
                 "%s%s<virtualport type=\"openvswitch\"><parameters "
                 "profileid=\"p\"/><parameters %s=\"v&amp;\"/>"
                 "</virtualport>%s",
                 HEAD("bridge"), BR0, good[i], TAIL);
        CHECK_COMPACT(&f, want);
    }
}

/* Render a hostdev with source_dev addr into want's shape. */
static void
check_pci(const char *addr, const char *d, const char *b, const char *s,
          const char *fn)
{
    char want[512];
    NmqIface f;

    iface_make(&f, "hostdev");
    f.source_dev = str_val(addr);
    snprintf(want, sizeof(want),
             "<interface type=\"hostdev\" managed=\"yes\"><mac address=\"" MAC
             "\"/><source><address type=\"pci\" domain=\"0x%s\" "
             "bus=\"0x%s\" slot=\"0x%s\" function=\"0x%s\"/></source>"
             "</interface>",
             d, b, s, fn);
    CHECK_COMPACT(&f, want);
}

static void
test_pci(void)
{
    static const char *const bad[] = {
        "",     "abc",           "00:01.2", "0000:00:01:02.3",
        ":::.", "0000.00:01:02", "0:0:0:0", "a:b"};
    NmqIface f;
    size_t i;

    check_pci("0000:81:00.2", "0000", "81", "00", "2");
    check_pci("0000:81:00", "0000", "81", "00", "");
    check_pci("0000:81:00.", "0000", "81", "00", "");
    check_pci("::.", "", "", "", "");
    check_pci("0:1:2.3.4", "0", "1", "2", "3.4");
    check_pci("a&b:<c>:\"d\".e:f", "a&amp;b", "&lt;c&gt;", "&quot;d&quot;",
              "e:f");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        iface_make(&f, "hostdev");
        f.source_dev = str_val(bad[i]);
        CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "source_dev"));
    }
    iface_make(&f, "hostdev");
    f.source_dev = str_val("0000:8\x01:00.2");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "source_dev"));
    f.source_dev = str_val("0000:81:00.\xff");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "source_dev"));
}

/* An error at the very end of a long render leaves nothing behind, and
 * the message quotes the value (control bytes as \xNN). */
static void
test_restore_and_message(void)
{
    NmqError err;
    NmqIface f;

    iface_make(&f, "bridge");
    f.model = str_val("virtio");
    f.driver_name = str_val("vhost");
    f.target_dev = str_val("tap0");
    f.vporttype = str_val("openvswitch");
    f.vportparams = ovs_params;
    f.n_vportparams = 1;
    f.vif_inbound_average = int_val("1");
    f.vif_outbound_average = int_val("1");
    f.vif_outbound_burst = str_val("12\x01");
    CHECK(fails_with(&f, NMQ_ERR_INVALID_VALUE, "vif_outbound_burst"));
    buf_reset();
    CHECK(nmq_iface_format(&f, 1, buf, &err) == -1);
    CHECK(strstr(err.msg, "vif_outbound_burst='12\\x01'") != NULL);
    CHECK_STREQ(err.value, "12\\x01");

    f.vif_outbound_burst = int_val("12");
    CHECK(render(&f, 1) != NULL);
    CHECK(nmq_iface_format(NULL, 1, buf, &err) == -1);
    CHECK(nmq_iface_format(&f, 1, NULL, &err) == -1);
}

/* libxml2 allocations fail after alloc_budget more (-1: never). */
static long alloc_budget = -1;

static int
alloc_allowed(void)
{
    if (alloc_budget == 0)
        return 0;
    if (alloc_budget > 0)
        alloc_budget--;
    return 1;
}

static void *
test_malloc(size_t n)
{
    return alloc_allowed() ? malloc(n) : NULL;
}

static void *
test_realloc(void *p, size_t n)
{
    return alloc_allowed() ? realloc(p, n) : NULL;
}

static char *
test_strdup(const char *s)
{
    return alloc_allowed() ? strdup(s) : NULL;
}

static void
quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/*
 * Fail every libxml2 allocation in turn, from the first on, until the
 * render of f gets through: each failure must be NMQ_ERR_NO_MEMORY with
 * the buffer as it was, and the first success must be the whole golden.
 */
static void
check_out_of_memory(const NmqIface *f, int pretty, const char *gold)
{
    long budget;
    int failed = 0;

    for (budget = 0; budget < 10000; budget++) {
        xmlBufferPtr small = xmlBufferCreateSize(8);
        NmqError err;
        int rc;

        xmlBufferCat(small, (const xmlChar *)"x");
        alloc_budget = budget;
        rc = nmq_iface_format(f, pretty, small, &err);
        alloc_budget = -1;
        if (rc == 0) {
            CHECK_STREQ((const char *)xmlBufferContent(small) + 1, gold);
            xmlBufferFree(small);
            break;
        }
        failed++;
        CHECK(err.code == NMQ_ERR_NO_MEMORY);
        CHECK_STREQ((const char *)xmlBufferContent(small), "x");
        xmlBufferFree(small);
    }
    CHECK(failed > 0 && budget < 10000);
}

static void
test_out_of_memory(void)
{
    NmqIface f;

    make_bridge(&f);
    check_out_of_memory(&f, 1, gold_bridge);
    check_out_of_memory(&f, 0, compact(gold_bridge));
    make_hostdev(&f);
    check_out_of_memory(&f, 1, gold_hostdev);
    make_network(&f);
    check_out_of_memory(&f, 1, gold_network);
    iface_make(&f, "bridge"); /* through libxml2's escaper */
    f.source_dev = str_val("a&b<c>\"");
    check_out_of_memory(&f, 0,
                        HEAD("bridge") "<source bridge=\"a&amp;b&lt;c&gt;"
                                       "&quot;\"/>" TAIL);
}

int
main(void)
{
    int status;

    xmlMemSetup(free, test_malloc, test_realloc, test_strdup);
    xmlSetGenericErrorFunc(NULL, quiet);
    buf = xmlBufferCreate();
    test_init();
    test_golden_bridge_ethernet();
    test_golden_direct_vdpa_hostdev();
    test_golden_vhostuser_network();
    test_driver_created();
    test_driver_not_created_or_dropped();
    test_per_type_elements();
    test_port_filter_bandwidth();
    test_escaping();
    test_long_values();
    test_matches_libxml2_escaper();
    test_missing_required();
    test_missing_param();
    test_not_str();
    test_bad_text();
    test_param_keys();
    test_pci();
    test_restore_and_message();
    test_out_of_memory();
    xmlBufferFree(buf);
    xmlCleanupParser();
    status = CHECK_DONE("test_emit");
    return status;
}
