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
 * emit.c: write one <interface> element as Nova's
 * LibvirtConfigGuestInterface.format_dom() builds it and lxml's
 * etree.tostring(encoding='unicode', pretty_print=...) serialises it.
 *
 * Each nmq_emit_* function below mirrors one block of format_dom(), with
 * the same condition, in the same order, so that a value lxml would refuse
 * is refused here at the same point.  The writer underneath produces
 * lxml's layout (two spaces an indent level, empty elements as <x/>).
 * Escaping is libxml2's: a value holding a byte to escape goes through
 * xmlAttrSerializeTxtContent(); nothing is escaped by hand.  No tree is
 * built, and a render whose values need no escaping allocates nothing but
 * buffer growth (markup gathers on the stack and reaches the buffer in a
 * few xmlBufferAdd() calls).
 */
#include "emit.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The net types format_dom() tells apart; every other one is OTHER. */
#define NMQ_NET_TYPES(X)                                                       \
    X(NMQ_NET_ETHERNET, "ethernet")                                            \
    X(NMQ_NET_DIRECT, "direct")                                                \
    X(NMQ_NET_VDPA, "vdpa")                                                    \
    X(NMQ_NET_HOSTDEV, "hostdev")                                              \
    X(NMQ_NET_VHOSTUSER, "vhostuser")                                          \
    X(NMQ_NET_BRIDGE, "bridge")

#define NMQ_NET_MEMBER(name, str) name,
#define NMQ_NET_STRING(name, str) str,

typedef enum { NMQ_NET_TYPES(NMQ_NET_MEMBER) NMQ_NET_OTHER } NmqNetType;

static const char *const nmq_net_type_names[] = {NMQ_NET_TYPES(NMQ_NET_STRING)};

/* How format_dom() hands an attribute's value to lxml. */
typedef enum {
    NMQ_AS_IS, /* the value itself: None or a non-str raises TypeError */
    NMQ_STR_OF /* str(value): anything but None (never reached) works */
} NmqConv;

/* One XML attribute whose value is an NmqVal field of NmqIface. */
typedef struct {
    const char *lead; /* ` name="`, the markup before the value */
    size_t leadlen;
    const char *key; /* Nova's attribute name, for errors */
    NmqConv conv;
    int optional;  /* written only when the value is not None */
    size_t offset; /* of the NmqVal in NmqIface */
} NmqField;

/* ` name="` for the attribute name literal, and its length. */
#define NMQ_LEAD(name) " " name "=\"", sizeof(" " name "=\"") - 1

#define NMQ_F(attr, field, conv, optional)                                     \
    {                                                                          \
        NMQ_LEAD(attr), #field, (conv), (optional), offsetof(NmqIface, field)  \
    }

/* The single-element shapes of format_dom(), attribute by attribute. */
static const NmqField nmq_mac[] = {NMQ_F("address", mac_addr, NMQ_AS_IS, 0)};
static const NmqField nmq_model[] = {NMQ_F("type", model, NMQ_AS_IS, 0)};
static const NmqField nmq_script[] = {NMQ_F("path", script, NMQ_AS_IS, 0)};
static const NmqField nmq_mtu[] = {NMQ_F("size", mtu, NMQ_STR_OF, 0)};
static const NmqField nmq_direct_source[] = {
    NMQ_F("dev", source_dev, NMQ_AS_IS, 0),
    NMQ_F("mode", source_mode, NMQ_AS_IS, 0)};
static const NmqField nmq_vdpa_source[] = {
    NMQ_F("dev", source_dev, NMQ_AS_IS, 0)};
static const NmqField nmq_vhostuser_source[] = {
    NMQ_F("type", vhostuser_type, NMQ_AS_IS, 0),
    NMQ_F("mode", vhostuser_mode, NMQ_AS_IS, 0),
    NMQ_F("path", vhostuser_path, NMQ_AS_IS, 0)};
static const NmqField nmq_bridge_source[] = {
    NMQ_F("bridge", source_dev, NMQ_AS_IS, 0)};
static const NmqField nmq_vlan_tag[] = {NMQ_F("id", vlan, NMQ_STR_OF, 0)};
static const NmqField nmq_target[] = {NMQ_F("dev", target_dev, NMQ_AS_IS, 0),
                                      NMQ_F("managed", managed, NMQ_AS_IS, 1)};
static const NmqField nmq_driver_sizes[] = {
    NMQ_F("queues", vhost_queues, NMQ_STR_OF, 1),
    NMQ_F("rx_queue_size", vhost_rx_queue_size, NMQ_STR_OF, 1),
    NMQ_F("tx_queue_size", vhost_tx_queue_size, NMQ_STR_OF, 1)};
static const NmqField nmq_inbound[] = {
    NMQ_F("average", vif_inbound_average, NMQ_STR_OF, 0),
    NMQ_F("peak", vif_inbound_peak, NMQ_STR_OF, 1),
    NMQ_F("burst", vif_inbound_burst, NMQ_STR_OF, 1)};
static const NmqField nmq_outbound[] = {
    NMQ_F("average", vif_outbound_average, NMQ_STR_OF, 0),
    NMQ_F("peak", vif_outbound_peak, NMQ_STR_OF, 1),
    NMQ_F("burst", vif_outbound_burst, NMQ_STR_OF, 1)};

#define NMQ_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Tells xmlAttrSerializeTxtContent() that the output is UTF-8; without an
 * encoding it writes every non-ASCII character as a &#x...; reference,
 * where lxml's tostring(encoding='unicode') keeps it literal.  libxml2
 * only reads its encoding; nothing ever writes to it.
 */
static xmlDoc nmq_utf8_doc = {.type = XML_DOCUMENT_NODE,
                              .encoding = (const xmlChar *)"UTF-8"};

static const char nmq_indent[] = "                ";

#define NMQ_CHUNK 256    /* bytes handed to the escaper per call */
#define NMQ_ESCAPE_MAX 6 /* most bytes it writes for one: "&quot;" */
#define NMQ_STAGE 512    /* markup gathered before one xmlBufferAdd() */

/*
 * What a byte is in an attribute value.  PLAIN is written as it is, ESC
 * makes the value go through libxml2's escaper (which writes & < > " TAB
 * LF CR as references, as lxml does), BAD is a control character lxml
 * refuses, UTF8 starts (or wrongly continues) a multi-byte character that
 * nmq_utf8_char_len checks; lxml writes non-ASCII text as it is.
 */
enum { NMQ_PLAIN, NMQ_ESC, NMQ_BAD, NMQ_UTF8 };

/* clang-format off */
static const unsigned char nmq_byte_class[256] = {
    /* 0x00 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2, 2, 1, 2, 2,
    /* 0x10 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    /* 0x20 */ 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
    /* 0x40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x60 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x70 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x80 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0x90 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0xa0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0xb0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0xc0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0xd0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0xe0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /* 0xf0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};
/* clang-format on */

/*
 * Where the XML goes and how far it has got.  Markup (and values with
 * nothing to escape) gathers in stage and reaches out in one
 * xmlBufferAdd() before each escaped value and at the end.
 */
typedef struct {
    xmlBufferPtr out;
    NmqError *err;
    NmqNetType net;
    int pretty;
    int depth;         /* elements open */
    int bare;          /* the innermost start tag still lacks its '>' */
    const char *plist; /* "vportparams" while writing one, else NULL */
    size_t pindex;     /* the entry of plist being written */
    size_t nstage;     /* bytes used in stage */
    char stage[NMQ_STAGE];
} NmqWriter;

/* Python's truth of v: None is false whatever the caller said. */
static int
nmq_val_true(NmqVal v)
{
    return v.text.s != NULL && v.truthy;
}

/* The NmqVal that fd names in f (borrowed from f). */
static const NmqVal *
nmq_field_val(const NmqIface *f, const NmqField *fd)
{
    return (const NmqVal *)((const char *)f + fd->offset);
}

/* The NmqNetType format_dom() would branch on for net_type. */
static NmqNetType
nmq_net_type_of(NmqVal v)
{
    size_t i;

    if (v.not_str)
        return NMQ_NET_OTHER; /* an int never equals "bridge" */
    for (i = 0; i < NMQ_COUNT(nmq_net_type_names); i++) {
        if (nmq_str_eq(v.text, nmq_net_type_names[i]))
            return (NmqNetType)i;
    }
    return NMQ_NET_OTHER;
}

/*
 * Fill w->err for Nova's attribute key holding value and return -1.  The
 * message reads "key='value': why" ("key=None: why" for None); inside a
 * parameter list the key becomes "vportparams[2].key".
 */
static int
nmq_w_fail(NmqWriter *w, NmqErrorCode code, const char *key, NmqStr value,
           const char *why)
{
    char name[NMQ_ERR_KEY_MAX];
    char quoted[NMQ_ERR_VALUE_MAX];

    if (w->plist != NULL) {
        snprintf(name, sizeof(name), "%s[%zu].%s", w->plist, w->pindex, key);
        key = name;
    }
    nmq_str_quote(quoted, sizeof(quoted), value);
    if (value.s == NULL)
        return nmq_error_setf(w->err, code, key, value, "%s=None: %s", key,
                              why);
    return nmq_error_setf(w->err, code, key, value, "%s='%s': %s", key, quoted,
                          why);
}

/* Report that the buffer (or libxml2 inside it) could not allocate. */
static int
nmq_w_nomem(NmqWriter *w)
{
    return nmq_error_set(w->err, NMQ_ERR_NO_MEMORY, "interface", NMQ_STR_NONE,
                         "out of memory growing the <interface> XML buffer");
}

/* Move the staged bytes into the buffer.  Returns 0 or -1. */
static int
nmq_w_flush(NmqWriter *w)
{
    size_t n = w->nstage;

    w->nstage = 0;
    if (n > 0 && xmlBufferAdd(w->out, (const xmlChar *)w->stage, (int)n) != 0)
        return nmq_w_nomem(w);
    return 0;
}

/* nmq_w_add when stage is full: flush it, then stage s or, when it is
 * bigger than stage, add it straight to the buffer. */
static int
nmq_w_add_slow(NmqWriter *w, const char *s, size_t n)
{
    if (nmq_w_flush(w) < 0)
        return -1;
    if (n > NMQ_STAGE) {
        if (xmlBufferAdd(w->out, (const xmlChar *)s, (int)n) != 0)
            return nmq_w_nomem(w);
        return 0;
    }
    memcpy(w->stage, s, n);
    w->nstage = n;
    return 0;
}

/*
 * Append n bytes that need no escaping (markup or a plain value), staged.
 * Returns 0, or -1 with w->err filled.  Inline, so that the many short
 * constant pieces of markup become plain stores.
 */
static inline int
nmq_w_add(NmqWriter *w, const char *s, size_t n)
{
    if (n > NMQ_STAGE - w->nstage)
        return nmq_w_add_slow(w, s, n);
    memcpy(w->stage + w->nstage, s, n);
    w->nstage += n;
    return 0;
}

/* Append the markup literal lit. */
#define NMQ_LIT(w, lit) nmq_w_add((w), (lit), sizeof(lit) - 1)

/* Write "<name", closing the parent's start tag first if it is bare. */
static inline int
nmq_w_open(NmqWriter *w, const char *name, size_t len)
{
    if (w->bare && nmq_w_add(w, ">\n", w->pretty ? 2 : 1) < 0)
        return -1;
    if (w->pretty && nmq_w_add(w, nmq_indent, 2 * (size_t)w->depth) < 0)
        return -1;
    if (nmq_w_add(w, "<", 1) < 0 || nmq_w_add(w, name, len) < 0)
        return -1;
    w->depth++;
    w->bare = 1;
    return 0;
}

/* Close the innermost element: "/>" when it got no child, else its end
 * tag on a line of its own; a newline follows when pretty. */
static inline int
nmq_w_close(NmqWriter *w, const char *name, size_t len)
{
    w->depth--;
    if (w->bare) {
        if (nmq_w_add(w, "/>", 2) < 0)
            return -1;
    } else if ((w->pretty &&
                nmq_w_add(w, nmq_indent, 2 * (size_t)w->depth) < 0) ||
               nmq_w_add(w, "</", 2) < 0 || nmq_w_add(w, name, len) < 0 ||
               nmq_w_add(w, ">", 1) < 0) {
        return -1;
    }
    w->bare = 0;
    return w->pretty ? nmq_w_add(w, "\n", 1) : 0;
}

#define NMQ_OPEN(w, lit) nmq_w_open((w), (lit), sizeof(lit) - 1)
#define NMQ_CLOSE(w, lit) nmq_w_close((w), (lit), sizeof(lit) - 1)

/*
 * Length of the non-ASCII character that starts p[0..n), n >= 1 and
 * p[0] >= 0x80, when it is well-formed UTF-8 (no overlong form, surrogate
 * or code point past U+10FFFF) and not U+FFFE or U+FFFF, which lxml
 * refuses; else 0.
 */
static size_t
nmq_utf8_char_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    size_t len;
    size_t i;

    if (c < 0xC2 || c > 0xF4)
        return 0;
    len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c == 0xE0)
        lo = 0xA0; /* overlong */
    else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        lo = 0x90; /* overlong */
    else if (c == 0xF4)
        hi = 0x8F; /* past U+10FFFF */
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    }
    if (c == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
        return 0; /* U+FFFE, U+FFFF */
    return len;
}

/* Report the character at byte i of text, which lxml would refuse. */
static int
nmq_w_bad_char(NmqWriter *w, const char *key, NmqStr text, size_t i)
{
    unsigned char c = (unsigned char)text.s[i];
    char why[96];

    snprintf(why, sizeof(why), "not XML-compatible: %s at byte %zu",
             c == 0     ? "a NUL byte"
             : c < 0x80 ? "a control character"
                        : "not a valid UTF-8 XML character",
             i);
    return nmq_w_fail(w, NMQ_ERR_INVALID_VALUE, key, text, why);
}

/*
 * Check that text is a string lxml would take: well-formed UTF-8 without
 * NUL, the C0 controls but TAB, LF and CR, or U+FFFE/U+FFFF.  Returns 1
 * when it holds a byte libxml2 must escape, 0 when it can be written as
 * it is, or -1 with w->err filled for key.
 */
static int
nmq_w_check_text(NmqWriter *w, const char *key, NmqStr text)
{
    const unsigned char *p = (const unsigned char *)text.s;
    int esc = 0;
    size_t i = 0;

    while (i < text.len) {
        size_t n = 1;

        while (i < text.len && nmq_byte_class[p[i]] == NMQ_PLAIN)
            i++; /* the common case: one table look-up a byte */
        if (i == text.len)
            break;
        switch (nmq_byte_class[p[i]]) {
        case NMQ_ESC:
            esc = 1;
            break;
        case NMQ_BAD:
            n = 0;
            break;
        case NMQ_UTF8:
            n = nmq_utf8_char_len(p + i, text.len - i);
            break;
        }
        if (n == 0)
            return nmq_w_bad_char(w, key, text, i);
        i += n;
    }
    return esc;
}

/* Check that v can be handed to lxml as conv says.  Returns 1 when its
 * text needs escaping, 0 when not, or -1 (see nmq_w_check_text). */
static int
nmq_w_check_val(NmqWriter *w, NmqConv conv, const char *key, NmqVal v)
{
    switch (conv) {
    case NMQ_AS_IS:
        if (v.text.s == NULL)
            return nmq_w_fail(w, NMQ_ERR_MISSING_VALUE, key, v.text,
                              "Nova writes it as an XML attribute, which "
                              "needs a value");
        if (v.not_str)
            return nmq_w_fail(w, NMQ_ERR_INVALID_VALUE, key, v.text,
                              "must be a string (Nova writes it without "
                              "str())");
        break;
    case NMQ_STR_OF:
        break;
    }
    return nmq_w_check_text(w, key, v.text);
}

/*
 * Append text escaped for a double-quoted attribute value by libxml2's
 * xmlAttrSerializeTxtContent().  That call wants a NUL-terminated string;
 * an NmqStr is a byte range that may be a slice (a PCI address field) with
 * no readable byte past its end, so text goes through a stack buffer in
 * chunks cut between characters.  text must have passed nmq_w_check_text.
 * The buffer is grown first, so the escaper (which reports no error) has
 * room; a chunk that did not come out means libxml2 could not allocate.
 */
static int
nmq_w_escape(NmqWriter *w, NmqStr text)
{
    char chunk[NMQ_CHUNK + 1];
    size_t off = 0;

    if (nmq_w_flush(w) < 0)
        return -1;
    while (off < text.len) {
        size_t n = text.len - off;
        int before = xmlBufferLength(w->out);

        if (n > NMQ_CHUNK) {
            n = NMQ_CHUNK;
            while (((unsigned char)text.s[off + n] & 0xC0) == 0x80)
                n--; /* back to the start of the cut character */
        }
        memcpy(chunk, text.s + off, n);
        chunk[n] = '\0';
        if (xmlBufferGrow(w->out, (unsigned int)(n * NMQ_ESCAPE_MAX)) < 0)
            return nmq_w_nomem(w);
        xmlAttrSerializeTxtContent(w->out, &nmq_utf8_doc, NULL,
                                   (const xmlChar *)chunk);
        if ((size_t)(xmlBufferLength(w->out) - before) < n)
            return nmq_w_nomem(w);
        off += n;
    }
    return 0;
}

/*
 * Write lead (` name="`, or ` domain="0x` for a PCI field), text and the
 * closing quote, for text already checked; esc is what the check
 * returned.  Only a value holding a byte libxml2 escapes goes through its
 * escaper, which allocates on every call; any other is copied as it is,
 * which is byte for byte what the escaper would write (test_emit.c checks
 * the two agree for every character class).
 */
static int
nmq_w_put(NmqWriter *w, const char *lead, size_t leadlen, NmqStr text, int esc)
{
    if (nmq_w_add(w, lead, leadlen) < 0)
        return -1;
    if (esc ? nmq_w_escape(w, text) < 0 : nmq_w_add(w, text.s, text.len) < 0)
        return -1;
    return nmq_w_add(w, "\"", 1);
}

/* Check v as conv says and write it after lead (see nmq_w_put). */
static int
nmq_w_attr(NmqWriter *w, NmqConv conv, const char *key, const char *lead,
           size_t leadlen, NmqVal v)
{
    int esc = nmq_w_check_val(w, conv, key, v);

    if (esc < 0)
        return -1;
    return nmq_w_put(w, lead, leadlen, v.text, esc);
}

#define NMQ_ATTR(w, conv, key, attr, v)                                        \
    nmq_w_attr((w), (conv), (key), NMQ_LEAD(attr), (v))

/* <elem .../> with the attributes fields[0..n) of f, in that order. */
static int
nmq_w_leaf(NmqWriter *w, const NmqIface *f, const char *elem, size_t elen,
           const NmqField *fields, size_t n)
{
    size_t i;

    if (nmq_w_open(w, elem, elen) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        const NmqVal *v = nmq_field_val(f, &fields[i]);

        if (fields[i].optional && v->text.s == NULL)
            continue;
        if (nmq_w_attr(w, fields[i].conv, fields[i].key, fields[i].lead,
                       fields[i].leadlen, *v) < 0)
            return -1;
    }
    return nmq_w_close(w, elem, elen);
}

#define NMQ_LEAF(w, f, elem, fields)                                           \
    nmq_w_leaf((w), (f), (elem), sizeof(elem) - 1, (fields), NMQ_COUNT(fields))

/*
 * <interface type=...> (with managed="yes" for hostdev), <mac address=...>
 * and, when model is true, <model type=...>.  The <interface> start tag
 * stays open for the rest.
 */
static int
nmq_emit_head(NmqWriter *w, const NmqIface *f)
{
    if (NMQ_OPEN(w, "interface") < 0 ||
        NMQ_ATTR(w, NMQ_AS_IS, "net_type", "type", f->net_type) < 0)
        return -1;
    if (w->net == NMQ_NET_HOSTDEV && NMQ_LIT(w, " managed=\"yes\"") < 0)
        return -1;
    if (NMQ_LEAF(w, f, "mac", nmq_mac) < 0)
        return -1;
    if (nmq_val_true(f->model) && NMQ_LEAF(w, f, "model", nmq_model) < 0)
        return -1;
    return 0;
}

/*
 * <driver>: format_dom() makes it when driver_name is true, a ring flag
 * (iommu, Zed; packed, newer Nova) is set or the net type is vhostuser,
 * which never gets the name; it sets every attribute, then keeps the
 * element only when one of them is a non-empty string.
 */
static int
nmq_emit_driver(NmqWriter *w, const NmqIface *f)
{
    int vhostuser = w->net == NMQ_NET_VHOSTUSER;
    int name = nmq_val_true(f->driver_name) && !vhostuser;
    int keep = f->driver_iommu || f->driver_packed;
    int name_esc = 0;
    size_t i;

    if (!nmq_val_true(f->driver_name) && !keep && !vhostuser)
        return 0;
    if (name && (name_esc = nmq_w_check_val(w, NMQ_AS_IS, "driver_name",
                                            f->driver_name)) < 0)
        return -1;
    if (name && f->driver_name.text.len > 0)
        keep = 1;
    for (i = 0; i < NMQ_COUNT(nmq_driver_sizes); i++) {
        const NmqVal *v = nmq_field_val(f, &nmq_driver_sizes[i]);

        if (v->text.s != NULL && v->text.len > 0)
            keep = 1;
    }
    if (!keep)
        return 0; /* all empty strings: nothing lxml could refuse */
    if (NMQ_OPEN(w, "driver") < 0)
        return -1;
    if (name &&
        nmq_w_put(w, NMQ_LEAD("name"), f->driver_name.text, name_esc) < 0)
        return -1;
    if (f->driver_iommu && NMQ_LIT(w, " iommu=\"on\"") < 0)
        return -1;
    if (f->driver_packed && NMQ_LIT(w, " packed=\"on\"") < 0)
        return -1;
    for (i = 0; i < NMQ_COUNT(nmq_driver_sizes); i++) {
        const NmqField *fd = &nmq_driver_sizes[i];
        const NmqVal *v = nmq_field_val(f, fd);

        if (v->text.s != NULL &&
            nmq_w_attr(w, fd->conv, fd->key, fd->lead, fd->leadlen, *v) < 0)
            return -1;
    }
    return NMQ_CLOSE(w, "driver");
}

/*
 * Split a hostdev source_dev as nova.pci.utils.get_pci_address_fields()
 * does: at the first '.', then the part before it into exactly three at
 * ':'.  Nothing else is checked and any field may be empty, as in Nova.
 * ('.' and ':' are ASCII, so a byte split is a character split.)
 */
static int
nmq_pci_split(NmqWriter *w, NmqVal v, NmqStr parts[4])
{
    const char *s = v.text.s;
    const char *dot;
    size_t dbs;
    size_t start = 0;
    size_t k = 0;
    size_t i;

    if (s == NULL || v.not_str)
        return nmq_w_fail(w, s ? NMQ_ERR_INVALID_VALUE : NMQ_ERR_MISSING_VALUE,
                          "source_dev", v.text,
                          "a hostdev interface needs a PCI address string");
    dot = memchr(s, '.', v.text.len);
    dbs = dot ? (size_t)(dot - s) : v.text.len;
    parts[3].s = dot ? dot + 1 : s + dbs;
    parts[3].len = dot ? v.text.len - dbs - 1 : 0;
    for (i = 0; i <= dbs && k < 4; i++) {
        if (i < dbs && s[i] != ':')
            continue;
        if (k < 3) {
            parts[k].s = s + start;
            parts[k].len = i - start;
        }
        k++;
        start = i + 1;
    }
    if (k != 3)
        return nmq_w_fail(w, NMQ_ERR_INVALID_VALUE, "source_dev", v.text,
                          "not a PCI address (domain:bus:slot.function)");
    return 0;
}

/* ` name="0x`: Nova writes each PCI field as "0x%s". */
#define NMQ_PCI_LEAD(name)                                                     \
    {                                                                          \
        " " name "=\"0x", sizeof(" " name "=\"0x") - 1                         \
    }

/* <source><address type="pci" domain="0x.." .../></source> (hostdev). */
static int
nmq_emit_hostdev_source(NmqWriter *w, const NmqIface *f)
{
    static const NmqStr leads[4] = {NMQ_PCI_LEAD("domain"), NMQ_PCI_LEAD("bus"),
                                    NMQ_PCI_LEAD("slot"),
                                    NMQ_PCI_LEAD("function")};
    NmqStr parts[4];
    size_t i;

    if (nmq_pci_split(w, f->source_dev, parts) < 0 ||
        NMQ_OPEN(w, "source") < 0 || NMQ_OPEN(w, "address") < 0 ||
        NMQ_LIT(w, " type=\"pci\"") < 0)
        return -1;
    for (i = 0; i < 4; i++) {
        int esc = nmq_w_check_text(w, "source_dev", parts[i]);

        if (esc < 0 ||
            nmq_w_put(w, leads[i].s, leads[i].len, parts[i], esc) < 0)
            return -1;
    }
    if (NMQ_CLOSE(w, "address") < 0)
        return -1;
    return NMQ_CLOSE(w, "source");
}

/* <script path=...> and <mtu size=...>, each when not None. */
static int
nmq_emit_script_mtu(NmqWriter *w, const NmqIface *f)
{
    if (f->script.text.s != NULL && NMQ_LEAF(w, f, "script", nmq_script) < 0)
        return -1;
    if (f->mtu.text.s != NULL && NMQ_LEAF(w, f, "mtu", nmq_mtu) < 0)
        return -1;
    return 0;
}

/* The net type's block: <source> in its shape, <script>, <mtu>. */
static int
nmq_emit_source(NmqWriter *w, const NmqIface *f)
{
    switch (w->net) {
    case NMQ_NET_ETHERNET:
        return nmq_emit_script_mtu(w, f);
    case NMQ_NET_DIRECT:
        return NMQ_LEAF(w, f, "source", nmq_direct_source);
    case NMQ_NET_VDPA:
        return NMQ_LEAF(w, f, "source", nmq_vdpa_source);
    case NMQ_NET_HOSTDEV:
        return nmq_emit_hostdev_source(w, f);
    case NMQ_NET_VHOSTUSER:
        return NMQ_LEAF(w, f, "source", nmq_vhostuser_source);
    case NMQ_NET_BRIDGE:
        if (NMQ_LEAF(w, f, "source", nmq_bridge_source) < 0)
            return -1;
        return nmq_emit_script_mtu(w, f);
    case NMQ_NET_OTHER:
        return NMQ_LEAF(w, f, "source", nmq_bridge_source);
    }
    return 0; /* not reached: every NmqNetType returns above */
}

/* <vlan><tag id=.../></vlan>: vlan true, for direct and hostdev only. */
static int
nmq_emit_vlan(NmqWriter *w, const NmqIface *f)
{
    if (!nmq_val_true(f->vlan) ||
        (w->net != NMQ_NET_DIRECT && w->net != NMQ_NET_HOSTDEV))
        return 0;
    if (NMQ_OPEN(w, "vlan") < 0 || NMQ_LEAF(w, f, "tag", nmq_vlan_tag) < 0)
        return -1;
    return NMQ_CLOSE(w, "vlan");
}

/* <target dev=... [managed=...]> when target_dev is not None. */
static int
nmq_emit_target(NmqWriter *w, const NmqIface *f)
{
    if (f->target_dev.text.s == NULL)
        return 0;
    return NMQ_LEAF(w, f, "target", nmq_target);
}

/*
 * Whether name may be a <parameters> attribute name.  Narrower than lxml
 * on purpose: only ASCII names without ':' ([A-Za-z_][A-Za-z0-9_.-]*).
 * lxml also takes non-ASCII names, "{uri}local" (a namespaced attribute
 * with a made-up prefix) and "xmlns", which it writes as a default
 * namespace declaration rather than an attribute; the emitter refuses
 * those, and every name that starts with "xmlns".  libvirt's own keys
 * (interfaceid, profileid, ...) are all plain ASCII.
 */
static int
nmq_attr_name_ok(NmqStr name)
{
    size_t i;

    if (name.len == 0 || (name.len >= 5 && memcmp(name.s, "xmlns", 5) == 0))
        return 0;
    for (i = 0; i < name.len; i++) {
        char c = name.s[i];
        int alpha =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        int more = (c >= '0' && c <= '9') || c == '.' || c == '-';

        if (!alpha && (i == 0 || !more))
            return 0;
    }
    return 1;
}

/* <parameters KEY="VALUE"/>: lxml checks the key, then the value. */
static int
nmq_emit_vport_param(NmqWriter *w, const NmqParam *p)
{
    int esc;

    if (nmq_w_check_val(w, NMQ_AS_IS, "key", p->key) < 0)
        return -1;
    if (!nmq_attr_name_ok(p->key.text))
        return nmq_w_fail(w, NMQ_ERR_INVALID_VALUE, "key", p->key.text,
                          "not an XML attribute name the emitter writes "
                          "([A-Za-z_][A-Za-z0-9_.-]*, not xmlns...)");
    esc = nmq_w_check_val(w, NMQ_AS_IS, "value", p->value);
    if (esc < 0 || NMQ_OPEN(w, "parameters") < 0 || nmq_w_add(w, " ", 1) < 0 ||
        nmq_w_add(w, p->key.text.s, p->key.text.len) < 0 ||
        nmq_w_put(w, "=\"", 2, p->value.text, esc) < 0)
        return -1;
    return NMQ_CLOSE(w, "parameters");
}

/* <virtualport type=...> with its parameters, when vporttype is set. */
static int
nmq_emit_virtualport(NmqWriter *w, const NmqIface *f)
{
    size_t i;

    if (f->vporttype.text.s == NULL)
        return 0;
    if (NMQ_OPEN(w, "virtualport") < 0 ||
        NMQ_ATTR(w, NMQ_AS_IS, "vporttype", "type", f->vporttype) < 0)
        return -1;
    w->plist = "vportparams";
    for (i = 0; i < f->n_vportparams; i++) {
        w->pindex = i;
        if (nmq_emit_vport_param(w, &f->vportparams[i]) < 0)
            return -1;
    }
    w->plist = NULL;
    return NMQ_CLOSE(w, "virtualport");
}

/* <filterref filter=...> with <parameter name= value=/> entries. */
static int
nmq_emit_filterref(NmqWriter *w, const NmqIface *f)
{
    size_t i;

    if (f->filtername.text.s == NULL)
        return 0;
    if (NMQ_OPEN(w, "filterref") < 0 ||
        NMQ_ATTR(w, NMQ_AS_IS, "filtername", "filter", f->filtername) < 0)
        return -1;
    w->plist = "filterparams";
    for (i = 0; i < f->n_filterparams; i++) {
        const NmqParam *p = &f->filterparams[i];

        w->pindex = i;
        if (NMQ_OPEN(w, "parameter") < 0 ||
            NMQ_ATTR(w, NMQ_AS_IS, "key", "name", p->key) < 0 ||
            NMQ_ATTR(w, NMQ_AS_IS, "value", "value", p->value) < 0 ||
            NMQ_CLOSE(w, "parameter") < 0)
            return -1;
    }
    w->plist = NULL;
    return NMQ_CLOSE(w, "filterref");
}

/*
 * <bandwidth> when either average is true, with <inbound>/<outbound> each
 * when its average is not None (so an integer 0 average is written when
 * the other side is set).
 */
static int
nmq_emit_bandwidth(NmqWriter *w, const NmqIface *f)
{
    if (!nmq_val_true(f->vif_inbound_average) &&
        !nmq_val_true(f->vif_outbound_average))
        return 0;
    if (NMQ_OPEN(w, "bandwidth") < 0)
        return -1;
    if (f->vif_inbound_average.text.s != NULL &&
        NMQ_LEAF(w, f, "inbound", nmq_inbound) < 0)
        return -1;
    if (f->vif_outbound_average.text.s != NULL &&
        NMQ_LEAF(w, f, "outbound", nmq_outbound) < 0)
        return -1;
    return NMQ_CLOSE(w, "bandwidth");
}

/* format_dom(), block by block. */
typedef int (*NmqEmitStep)(NmqWriter *w, const NmqIface *f);

static const NmqEmitStep nmq_emit_steps[] = {
    nmq_emit_head,      nmq_emit_driver,   nmq_emit_source,
    nmq_emit_vlan,      nmq_emit_target,   nmq_emit_virtualport,
    nmq_emit_filterref, nmq_emit_bandwidth};

/* See emit.h: a compound literal, so every pointer is a real NULL. */
void
nmq_iface_init(NmqIface *iface)
{
    *iface = (NmqIface){
        .source_mode = {NMQ_STR_LIT("private"), 1, 0},
    };
}

/*
 * See emit.h.  Runs the steps of nmq_emit_steps into out and closes the
 * <interface> element; on any error cuts out back to its length on entry.
 */
int
nmq_iface_format(const NmqIface *iface, int pretty, xmlBufferPtr out,
                 NmqError *err)
{
    NmqWriter w; /* field by field: stage needs no zeroing */
    unsigned int start;
    size_t i;

    if (iface == NULL || out == NULL)
        return nmq_error_set(err, NMQ_ERR_INVALID_VALUE, "interface",
                             NMQ_STR_NONE,
                             "interface=None: nothing to format into");
    start = out->use;
    w.out = out;
    w.err = err;
    w.net = nmq_net_type_of(iface->net_type);
    w.pretty = pretty != 0;
    w.depth = 0;
    w.bare = 0;
    w.plist = NULL;
    w.pindex = 0;
    w.nstage = 0;
    for (i = 0; i < NMQ_COUNT(nmq_emit_steps); i++) {
        if (nmq_emit_steps[i](&w, iface) < 0)
            goto error;
    }
    if (NMQ_CLOSE(&w, "interface") < 0 || nmq_w_flush(&w) < 0)
        goto error;
    return 0;

error:
    /* libxml2 has no call that cuts a buffer back to a length. */
    if (out->use > start) {
        out->use = start;
        out->content[start] = '\0';
    }
    return -1;
}
