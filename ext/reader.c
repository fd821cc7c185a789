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
 * reader.c: read a libvirt domain XML into an NmqDomain.
 *
 * The input is checked before libxml2 sees it (size, NUL bytes, and the
 * attribute and namespace counts libxml2 2.9 handles in quadratic time),
 * parsed with a parser context of its own and with libxml2's error
 * printing silenced for the call, and refused at the first sign of a
 * DOCTYPE: the SAX internalSubset callback stops the parser before an
 * internal subset (and so any entity declaration) is read.  The values are
 * then copied out of the tree into an arena owned by the NmqDomain and the
 * tree is freed.
 *
 * Element and attribute lookups follow the XPath libvirt itself uses
 * (/domain/vcpu[1], /domain/devices/interface, ./driver/@queues): element
 * names match only in no namespace, the first matching child wins, and the
 * text of an element is the concatenation of all its descendant text.
 */
#include "reader.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>

/*
 * Never XML_PARSE_NOENT (entity expansion), XML_PARSE_DTDLOAD or
 * XML_PARSE_DTDATTR (external fetches), XML_PARSE_HUGE (lifts the
 * amplification limits) or XML_PARSE_XINCLUDE.
 */
#define NMQ_READER_OPTIONS                                                     \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* The largest number any vcpu or driver attribute may hold. */
#define NMQ_READER_MAX_NUMBER ((long)INT_MAX)

/*
 * The most attributes (namespace declarations included) one tag may have,
 * and the most namespace declarations a document may have: libxml2 before
 * 2.12 takes quadratic time beyond (see nmq_reader_check_markup).  A
 * libvirt element has at most a few dozen attributes, a domain a handful
 * of namespaces.
 */
#define NMQ_READER_MAX_ATTRS 256
#define NMQ_READER_MAX_NS 256

/* The first arena chunk holds a typical domain's strings. */
#define NMQ_ARENA_FIRST 2048

/*
 * The arena: a list of chunks, newest first, each allocated with
 * libxml2's allocator (so an embedder's xmlMemSetup() sees the whole
 * call).  Nothing in a chunk moves, so NmqStr pointers stay valid until
 * nmq_arena_free().
 */
typedef struct NmqChunk NmqChunk;
struct NmqChunk {
    NmqChunk *next;
    size_t used;
    size_t cap;
};

/* Alignment good for every type stored in the arena. */
typedef union {
    void *p;
    long l;
    double d;
} NmqAlign;

#define NMQ_ARENA_ROUND(n)                                                     \
    (((n) + sizeof(NmqAlign) - 1) / sizeof(NmqAlign) * sizeof(NmqAlign))
#define NMQ_CHUNK_HDR NMQ_ARENA_ROUND(sizeof(NmqChunk))

/* State of one nmq_domain_read() call. */
typedef struct {
    NmqChunk *arena; /* owned until handed to the NmqDomain */
    NmqError *err;
    int doctype; /* the parser met a DOCTYPE and was stopped */
    char doctype_name[64];
    int oom;                /* libxml2 raised an out-of-memory error */
    char encoding_msg[160]; /* first encoding error, raised without ctxt */
} NmqReader;

/* libxml2's thread-local error handlers, saved for the call. */
typedef struct {
    xmlGenericErrorFunc generic;
    void *generic_ctx;
    xmlStructuredErrorFunc structured;
    void *structured_ctx;
} NmqQuiet;

/*
 * Free every chunk of an arena.  NULL-safe.
 */
static void
nmq_arena_free(NmqChunk *head)
{
    while (head != NULL) {
        NmqChunk *next = head->next;

        xmlFree(head);
        head = next;
    }
}

/*
 * Return n bytes of aligned storage from the arena at *head, adding a
 * chunk (at least twice the size of the last) when the newest one is
 * full.  The storage belongs to the arena.  NULL when out of memory.
 */
static void *
nmq_arena_alloc(NmqChunk **head, size_t n)
{
    NmqChunk *c = *head;
    size_t need = NMQ_ARENA_ROUND(n);
    size_t cap;

    if (n > INT_MAX)
        return NULL;
    if (c == NULL || c->cap - c->used < need) {
        cap = c == NULL ? NMQ_ARENA_FIRST : c->cap * 2;
        if (cap < need)
            cap = need;
        c = xmlMalloc(NMQ_CHUNK_HDR + cap);
        if (c == NULL)
            return NULL;
        c->next = *head;
        c->used = 0;
        c->cap = cap;
        *head = c;
    }
    c->used += need;
    return (char *)c + NMQ_CHUNK_HDR + c->used - need;
}

/*
 * Record that the reader ran out of memory; returns -1.
 */
static int
nmq_reader_oom(NmqError *err)
{
    return nmq_error_set(err, NMQ_ERR_NO_MEMORY, "xml", NMQ_STR_NONE,
                         "out of memory while reading the domain XML "
                         "(xml: None)");
}

/*
 * Return the length of the valid UTF-8 sequence at p (avail bytes), or 0
 * when it is not one: overlong forms, surrogates and code points above
 * U+10FFFF are invalid, as in Python's strict decoder.
 */
static size_t
nmq_reader_utf8_len(const unsigned char *p, size_t avail)
{
    size_t k;
    size_t j;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        k = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        k = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        k = 4;
    else
        return 0;
    if (k > avail)
        return 0;
    for (j = 1; j < k; j++) {
        if ((p[j] & 0xc0) != 0x80)
            return 0;
    }
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return k;
}

/*
 * Copy s into dst (dstlen bytes, at least 16) as an excerpt fit for an
 * error record: valid UTF-8 only (an invalid byte becomes '?'), cut at a
 * character boundary with "..." so that nmq_str_quote() of the result
 * into dstlen bytes never cuts it again.  Returns dst as an NmqStr, or
 * NMQ_STR_NONE when s is absent.
 */
static NmqStr
nmq_reader_excerpt(char *dst, size_t dstlen, NmqStr s)
{
    const unsigned char *p = (const unsigned char *)s.s;
    size_t budget = dstlen - 8;
    size_t cost = 0;
    size_t o = 0;
    size_t i = 0;

    if (s.s == NULL)
        return NMQ_STR_NONE;
    while (i < s.len) {
        size_t k = nmq_reader_utf8_len(p + i, s.len - i);
        size_t q = k == 0 ? 1 : k;

        if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\'))
            q = 4;
        if (cost + q > budget) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (k == 0) {
            dst[o++] = '?';
            i++;
        } else {
            memcpy(dst + o, p + i, k);
            o += k;
            i += k;
        }
        cost += q;
    }
    dst[o] = '\0';
    return (NmqStr){dst, o};
}

/*
 * Put an excerpt of s (see nmq_reader_excerpt) into ex and its quoted
 * form, for the message, into quoted; both NMQ_ERR_VALUE_MAX bytes.
 * Returns the excerpt, the value to record.
 */
static NmqStr
nmq_reader_quote(NmqStr s, char *ex, char *quoted)
{
    NmqStr v = nmq_reader_excerpt(ex, NMQ_ERR_VALUE_MAX, s);

    nmq_str_quote(quoted, NMQ_ERR_VALUE_MAX, v);
    return v;
}

#if LIBXML_VERSION >= 21200
typedef const xmlError *NmqXmlErrorPtr;
#else
typedef xmlErrorPtr NmqXmlErrorPtr;
#endif

/*
 * The structured handler installed for the call: every libxml2 error of
 * this thread lands here instead of being printed.  Notes any
 * out-of-memory error (libxml2 2.9's tree builder may drop a node on one
 * and still call the document well-formed) and keeps the first encoding
 * error, which libxml2 raises without a parser context and so never
 * records in ctxt->lastError.  ctx is the NmqReader.
 */
static void
nmq_reader_on_error(void *ctx, NmqXmlErrorPtr e)
{
    NmqReader *rd = ctx;
    size_t n;

    if (e == NULL)
        return;
    if (e->code == XML_ERR_NO_MEMORY)
        rd->oom = 1;
    if (rd->encoding_msg[0] != '\0' || e->message == NULL ||
        e->domain != XML_FROM_I18N)
        return;
    snprintf(rd->encoding_msg, sizeof(rd->encoding_msg), "%s", e->message);
    n = strlen(rd->encoding_msg);
    while (n > 0 &&
           (rd->encoding_msg[n - 1] == '\n' || rd->encoding_msg[n - 1] == ' '))
        rd->encoding_msg[--n] = '\0';
}

/*
 * The no-op handler installed for libxml2's generic error channel.
 */
static void
nmq_reader_discard(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/*
 * Silence this thread's libxml2 error printing, saving the handlers into
 * *q: errors go to nmq_reader_on_error() (with rd) and the generic
 * channel discards.  Errors raised with a parser context still land in
 * ctxt->lastError.  The handlers are thread-local in libxml2, so another
 * thread's parsing is not affected.
 */
static void
nmq_reader_quiet_begin(NmqQuiet *q, NmqReader *rd)
{
    q->generic = xmlGenericError;
    q->generic_ctx = xmlGenericErrorContext;
    q->structured = xmlStructuredError;
    q->structured_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(rd, nmq_reader_on_error);
    xmlSetGenericErrorFunc(NULL, nmq_reader_discard);
}

/*
 * Put back the handlers nmq_reader_quiet_begin() saved.
 */
static void
nmq_reader_quiet_end(const NmqQuiet *q)
{
    xmlSetGenericErrorFunc(q->generic_ctx, q->generic);
    xmlSetStructuredErrorFunc(q->structured_ctx, q->structured);
}

/*
 * The SAX internalSubset callback: called when the parser has read
 * "<!DOCTYPE name ...", before any internal subset.  Records the name and
 * stops the parser, so no entity is ever declared and no external subset
 * is ever considered.  ctx is the parser context (libxml2's userData).
 */
static void
nmq_reader_on_doctype(void *ctx, const xmlChar *name,
                      const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    NmqReader *rd = ctxt->_private;

    (void)external_id;
    (void)system_id;
    rd->doctype = 1;
    if (name != NULL)
        nmq_reader_excerpt(
            rd->doctype_name, sizeof(rd->doctype_name),
            (NmqStr){(const char *)name, strlen((const char *)name)});
    xmlStopParser(ctxt);
}

/*
 * Check the raw input before libxml2 sees it: at most
 * NMQ_READER_MAX_BYTES bytes and no NUL byte (libxml2 would stop at it and
 * parse a different document).  Returns 0, or -1 with err filled.
 */
static int
nmq_reader_check_input(const char *xml, size_t len, NmqError *err)
{
    const char *nul = NULL;
    char size[32];

    if (len > (size_t)NMQ_READER_MAX_BYTES) {
        snprintf(size, sizeof(size), "%zu", len);
        return nmq_error_setf(err, NMQ_ERR_TOO_LARGE, "xml",
                              (NmqStr){size, strlen(size)},
                              "xml: the domain XML is %zu bytes, over the "
                              "limit of %ld bytes",
                              len, NMQ_READER_MAX_BYTES);
    }
    if (xml == NULL && len != 0)
        return nmq_error_set(err, NMQ_ERR_PARSE, "xml", NMQ_STR_NONE,
                             "xml: no input (None)");
    if (xml != NULL)
        nul = memchr(xml, '\0', len);
    if (nul != NULL) {
        snprintf(size, sizeof(size), "%td", nul - xml);
        return nmq_error_setf(err, NMQ_ERR_PARSE, "xml",
                              (NmqStr){size, strlen(size)},
                              "xml: the domain XML has a NUL byte at "
                              "offset %s",
                              size);
    }
    return 0;
}

/*
 * If xml (len bytes, at a '<') opens a comment, a CDATA section or a
 * processing instruction, return how many bytes it spans (to the end of
 * the input when unterminated); 0 when it opens a tag.
 */
static size_t
nmq_reader_skip_markup(const char *xml, size_t len)
{
    static const char *const kinds[][2] = {
        {"<!--", "-->"},
        {"<![CDATA[", "]]>"},
        {"<?", "?>"},
    };
    const char *end = NULL;
    size_t open;
    size_t close;
    size_t k;

    if (len < 2 || (xml[1] != '!' && xml[1] != '?'))
        return 0;
    for (k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
        open = strlen(kinds[k][0]);
        close = strlen(kinds[k][1]);
        if (len < open || memcmp(xml, kinds[k][0], open) != 0)
            continue;
        end = memmem(xml + open, len - open, kinds[k][1], close);
        return end == NULL ? len : (size_t)(end - xml) + close;
    }
    return 0;
}

static int
nmq_reader_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Scan the tag at xml (len bytes, at a '<') to its '>' outside quoted
 * values.  Counts its attributes ('=' outside quotes) into *attrs and adds
 * its namespace declarations (attributes named xmlns or xmlns:...) to
 * *ns.  Returns how many bytes the tag spans.
 */
static size_t
nmq_reader_scan_tag(const char *xml, size_t len, size_t *attrs, size_t *ns)
{
    /* The bytes that matter in a tag; the loop skips all others fast. */
    static const unsigned char special[256] = {
        ['>'] = 1, ['"'] = 1, ['\''] = 1, ['='] = 1, ['x'] = 1,
    };
    const char *quote = NULL;
    size_t i;

    *attrs = 0;
    for (i = 1; i < len; i++) {
        char c = xml[i];

        if (!special[(unsigned char)c]) {
            continue;
        } else if (c == '>') {
            return i + 1;
        } else if (c == '"' || c == '\'') {
            quote = memchr(xml + i + 1, c, len - i - 1);
            if (quote == NULL)
                return len;
            i = (size_t)(quote - xml);
        } else if (c == '=') {
            (*attrs)++;
        } else if (c == 'x' && nmq_reader_is_space(xml[i - 1]) && len - i > 5 &&
                   memcmp(xml + i, "xmlns", 5) == 0 &&
                   (xml[i + 5] == ':' || xml[i + 5] == '=' ||
                    nmq_reader_is_space(xml[i + 5]))) {
            (*ns)++;
        }
    }
    return len;
}

/*
 * Fill err for the tag at xml + at that broke a markup limit: too many
 * attributes in it (attrs true) or too many namespace declarations so
 * far.  The value is the start of the tag.  Returns -1.
 */
static int
nmq_reader_markup_error(const char *xml, size_t len, size_t at, int attrs,
                        NmqError *err)
{
    const char *what = attrs ? "a tag has too many attributes"
                             : "too many namespace declarations";
    int limit = attrs ? NMQ_READER_MAX_ATTRS : NMQ_READER_MAX_NS;
    NmqStr start = {xml + at, len - at < 40 ? len - at : 40};
    char ex[NMQ_ERR_VALUE_MAX];
    char quoted[NMQ_ERR_VALUE_MAX];
    int line = 1;
    size_t i;

    for (i = 0; i < at; i++)
        line += xml[i] == '\n';
    start = nmq_reader_quote(start, ex, quoted);
    return nmq_error_setf(err, NMQ_ERR_TOO_LARGE, "xml", start,
                          "xml: line %d: %s, over the limit of %d: '%s'", line,
                          what, limit, quoted);
}

/*
 * Refuse, before libxml2 sees them, the inputs libxml2 before 2.12 parses
 * in quadratic time: a tag with more than NMQ_READER_MAX_ATTRS attributes
 * (it checks them for duplicates pairwise: 100,000 take 17 s) or more
 * than NMQ_READER_MAX_NS namespace declarations (it looks every prefix up
 * through all those in scope).  The scan follows XML's lexical rules for
 * tags, quoted values, comments, CDATA sections and processing
 * instructions, so nothing hides an attribute from it.  Linear time.
 * Returns 0, or -1 with err filled (NMQ_ERR_TOO_LARGE).
 */
static int
nmq_reader_check_markup(const char *xml, size_t len, NmqError *err)
{
    const char *lt = NULL;
    size_t i = 0;
    size_t attrs = 0;
    size_t ns = 0;

    while (i < len && (lt = memchr(xml + i, '<', len - i)) != NULL) {
        size_t at = (size_t)(lt - xml);
        size_t skip = nmq_reader_skip_markup(lt, len - at);

        attrs = 0;
        if (skip == 0)
            skip = nmq_reader_scan_tag(lt, len - at, &attrs, &ns);
        if (attrs > NMQ_READER_MAX_ATTRS || ns > NMQ_READER_MAX_NS)
            return nmq_reader_markup_error(xml, len, at,
                                           attrs > NMQ_READER_MAX_ATTRS, err);
        i = at + skip;
    }
    return 0;
}

/*
 * Return the text of line lineno (1-based) of xml, without its leading
 * white space or line break; an empty string when there is no such line.
 * Borrowed from xml.
 */
static NmqStr
nmq_reader_line(const char *xml, size_t len, int lineno)
{
    size_t i = 0;
    size_t end;
    int line = 1;

    while (i < len && line < lineno) {
        if (xml[i++] == '\n')
            line++;
    }
    if (line != lineno || xml == NULL)
        return (NmqStr){"", 0};
    while (i < len && (xml[i] == ' ' || xml[i] == '\t'))
        i++;
    end = i;
    while (end < len && xml[end] != '\n' && xml[end] != '\r')
        end++;
    return (NmqStr){xml + i, end - i};
}

/*
 * Fill rd->err from a parser context whose parse failed: the message of
 * ctxt->lastError without its trailing newline (and the encoding error
 * behind it, if any), its line number and, as the value, the text of that
 * line.  Out of memory keeps its own code.  Returns -1.
 */
static int
nmq_reader_parse_error(NmqReader *rd, xmlParserCtxtPtr ctxt, const char *xml,
                       size_t len)
{
    const xmlError *e = &ctxt->lastError;
    int lineno = e->line > 0 ? e->line : 1;
    NmqStr m = {e->message, e->message ? strlen(e->message) : 0};
    char msg[320];
    char ex[NMQ_ERR_VALUE_MAX];
    char quoted[NMQ_ERR_VALUE_MAX];
    NmqStr line;
    size_t i;

    if (rd->oom || e->code == XML_ERR_NO_MEMORY)
        return nmq_reader_oom(rd->err);
    while (m.len > 0 && (m.s[m.len - 1] == '\n' || m.s[m.len - 1] == ' '))
        m.len--;
    if (m.len == 0)
        m = NMQ_STR_LIT("the document is not well-formed");
    nmq_reader_excerpt(msg, sizeof(msg), m);
    for (i = 0; msg[i] != '\0'; i++) {
        if (msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t')
            msg[i] = ' ';
    }
    line = nmq_reader_quote(nmq_reader_line(xml, len, lineno), ex, quoted);
    return nmq_error_setf(
        rd->err, NMQ_ERR_PARSE, "xml", line, "xml: line %d: %s%s%s%s: '%s'",
        lineno, msg, rd->encoding_msg[0] ? " (encoding error: " : "",
        rd->encoding_msg, rd->encoding_msg[0] ? ")" : "", quoted);
}

/*
 * Parse xml into a tree with a parser context of our own and options
 * (NMQ_READER_OPTIONS, maybe with XML_PARSE_IGNORE_ENC): no network, no
 * entity expansion, no DTD, libxml2's printing silenced.  On success *out
 * is a document the caller frees with xmlFreeDoc().  Returns 0, or -1
 * with rd->err filled (a DOCTYPE, malformed XML, out of memory).
 */
static int
nmq_reader_parse(NmqReader *rd, const char *xml, size_t len, int options,
                 xmlDocPtr *out)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    NmqQuiet quiet = {NULL, NULL, NULL, NULL};
    int ret = -1;

    xmlInitParser();
    nmq_reader_quiet_begin(&quiet, rd);
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        nmq_reader_oom(rd->err);
        goto cleanup;
    }
    ctxt->_private = rd;
    ctxt->sax->internalSubset = nmq_reader_on_doctype;
    doc = xmlCtxtReadMemory(ctxt, xml != NULL ? xml : "", (int)len, NULL, NULL,
                            options);
    if (rd->doctype || (doc != NULL && doc->intSubset != NULL)) {
        nmq_error_setf(rd->err, NMQ_ERR_PARSE, "xml",
                       (NmqStr){rd->doctype_name, strlen(rd->doctype_name)},
                       "xml: a DOCTYPE is not allowed in a domain XML "
                       "(found <!DOCTYPE %s>)",
                       rd->doctype_name);
        goto cleanup;
    }
    if (rd->oom || ctxt->errNo == XML_ERR_NO_MEMORY) {
        nmq_reader_oom(rd->err);
        goto cleanup;
    }
    if (doc == NULL) {
        nmq_reader_parse_error(rd, ctxt, xml, len);
        goto cleanup;
    }
    *out = doc;
    doc = NULL;
    ret = 0;

cleanup:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    nmq_reader_quiet_end(&quiet);
    return ret;
}

/*
 * Whether node is an element called name in no namespace.
 */
static int
nmq_reader_is(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           strcmp((const char *)node->name, name) == 0;
}

/*
 * Return the first child element of parent called name (no namespace), or
 * NULL; parent may be NULL.  Borrowed from the tree.
 */
static xmlNodePtr
nmq_reader_child(xmlNodePtr parent, const char *name)
{
    xmlNodePtr c = NULL;

    if (parent == NULL)
        return NULL;
    for (c = parent->children; c != NULL; c = c->next) {
        if (nmq_reader_is(c, name))
            return c;
    }
    return NULL;
}

/*
 * Walk the text and CDATA nodes from first on, descending into elements
 * and stopping when the walk climbs back to top (the element or attribute
 * whose children start at first).  Returns the total length of their
 * content and, when dst is not NULL, copies it there.
 */
static size_t
nmq_reader_text_walk(const xmlNode *first, const xmlNode *top, char *dst)
{
    const xmlNode *n = first;
    size_t len = 0;

    while (n != NULL) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
            n->content != NULL) {
            size_t k = strlen((const char *)n->content);

            if (dst != NULL)
                memcpy(dst + len, n->content, k);
            len += k;
        }
        if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != NULL && n != top && n->next == NULL)
            n = n->parent;
        if (n == NULL || n == top)
            break;
        n = n->next;
    }
    return len;
}

/*
 * Copy the text under the node list first (children of top) into the
 * arena as one NUL-terminated string and point *out at it.  Returns 0, or
 * -1 with rd->err filled (out of memory).
 */
static int
nmq_reader_copy_text(NmqReader *rd, const xmlNode *first, const xmlNode *top,
                     NmqStr *out)
{
    size_t len = nmq_reader_text_walk(first, top, NULL);
    char *s = nmq_arena_alloc(&rd->arena, len + 1);

    if (s == NULL)
        return nmq_reader_oom(rd->err);
    nmq_reader_text_walk(first, top, s);
    s[len] = '\0';
    *out = (NmqStr){s, len};
    return 0;
}

/*
 * Read attribute name (no namespace) of node into *out, copied into the
 * arena; NMQ_STR_NONE when node is NULL or has no such attribute.
 * Returns 0, or -1 with rd->err filled (out of memory).
 */
static int
nmq_reader_attr(NmqReader *rd, xmlNodePtr node, const char *name, NmqStr *out)
{
    xmlAttrPtr attr = NULL;

    *out = NMQ_STR_NONE;
    if (node == NULL)
        return 0;
    for (attr = node->properties; attr != NULL; attr = attr->next) {
        if (attr->ns == NULL && strcmp((const char *)attr->name, name) == 0)
            return nmq_reader_copy_text(rd, attr->children,
                                        (const xmlNode *)attr, out);
    }
    return 0;
}

/*
 * Read the number in attribute attr of an interface's <driver> into *out:
 * -1 when <driver> or the attribute is absent.  idx is the interface's
 * position, for the error key ("interfaces[1].driver.queues").  Returns 0,
 * or -1 with rd->err filled (not a number, out of memory).
 */
static int
nmq_reader_driver_number(NmqReader *rd, xmlNodePtr driver, size_t idx,
                         const char *attr, long *out)
{
    NmqStr text = NMQ_STR_NONE;
    char key[NMQ_ERR_KEY_MAX];
    char ex[NMQ_ERR_VALUE_MAX];
    char quoted[NMQ_ERR_VALUE_MAX];

    *out = -1;
    if (nmq_reader_attr(rd, driver, attr, &text) < 0)
        return -1;
    if (text.s == NULL)
        return 0;
    if (nmq_str_to_long(text, NMQ_READER_MAX_NUMBER, out) == 0)
        return 0;
    *out = -1;
    snprintf(key, sizeof(key), "interfaces[%zu].driver.%s", idx, attr);
    text = nmq_reader_quote(text, ex, quoted);
    return nmq_error_setf(rd->err, NMQ_ERR_PARSE, key, text,
                          "%s: '%s' is not an integer from 0 to %ld", key,
                          quoted, NMQ_READER_MAX_NUMBER);
}

/*
 * Read one <interface> element (the idx-th) into *out.  Returns 0, or -1
 * with rd->err filled.
 */
static int
nmq_reader_iface(NmqReader *rd, xmlNodePtr node, size_t idx,
                 NmqDomainIface *out)
{
    xmlNodePtr driver = nmq_reader_child(node, "driver");

    if (nmq_reader_attr(rd, node, "type", &out->type) < 0 ||
        nmq_reader_attr(rd, nmq_reader_child(node, "mac"), "address",
                        &out->mac) < 0 ||
        nmq_reader_attr(rd, nmq_reader_child(node, "model"), "type",
                        &out->model) < 0 ||
        nmq_reader_attr(rd, driver, "name", &out->driver) < 0 ||
        nmq_reader_attr(rd, nmq_reader_child(node, "target"), "dev",
                        &out->target_dev) < 0 ||
        nmq_reader_attr(rd, nmq_reader_child(node, "alias"), "name",
                        &out->alias) < 0)
        return -1;
    if (nmq_reader_driver_number(rd, driver, idx, "queues", &out->queues) < 0 ||
        nmq_reader_driver_number(rd, driver, idx, "rx_queue_size",
                                 &out->rx_queue_size) < 0 ||
        nmq_reader_driver_number(rd, driver, idx, "tx_queue_size",
                                 &out->tx_queue_size) < 0)
        return -1;
    return 0;
}

/*
 * Count the /domain/devices/interface elements under root.
 */
static size_t
nmq_reader_count_ifaces(xmlNodePtr root)
{
    xmlNodePtr dev = NULL;
    xmlNodePtr c = NULL;
    size_t n = 0;

    for (dev = root->children; dev != NULL; dev = dev->next) {
        if (!nmq_reader_is(dev, "devices"))
            continue;
        for (c = dev->children; c != NULL; c = c->next) {
            if (nmq_reader_is(c, "interface"))
                n++;
        }
    }
    return n;
}

/*
 * Read every /domain/devices/interface, in document order, into an array
 * in the arena and point dom->ifaces at it.  More than
 * NMQ_READER_MAX_IFACES is an error.  Returns 0, or -1 with rd->err
 * filled.
 */
static int
nmq_reader_ifaces(NmqReader *rd, xmlNodePtr root, NmqDomain *dom)
{
    size_t n = nmq_reader_count_ifaces(root);
    xmlNodePtr dev = NULL;
    xmlNodePtr c = NULL;
    size_t i = 0;
    char count[32];

    if (n > NMQ_READER_MAX_IFACES) {
        snprintf(count, sizeof(count), "%zu", n);
        return nmq_error_setf(rd->err, NMQ_ERR_TOO_LARGE, "interfaces",
                              (NmqStr){count, strlen(count)},
                              "interfaces: the domain XML has %zu "
                              "<interface> elements, over the limit of %d",
                              n, NMQ_READER_MAX_IFACES);
    }
    if (n == 0)
        return 0;
    dom->ifaces = nmq_arena_alloc(&rd->arena, n * sizeof(*dom->ifaces));
    if (dom->ifaces == NULL)
        return nmq_reader_oom(rd->err);
    for (dev = root->children; dev != NULL; dev = dev->next) {
        if (!nmq_reader_is(dev, "devices"))
            continue;
        for (c = dev->children; c != NULL; c = c->next) {
            if (!nmq_reader_is(c, "interface"))
                continue;
            if (nmq_reader_iface(rd, c, i, &dom->ifaces[i]) < 0)
                return -1;
            dom->n_ifaces = ++i;
        }
    }
    return 0;
}

/*
 * Read <vcpu> under root: its text is the maximum, its current attribute
 * the count at boot.  No <vcpu> means one vCPU, as in libvirt.  The text
 * must be an integer from 1 to INT_MAX and current one from 1 to the
 * maximum.  Returns 0, or -1 with rd->err filled.
 */
static int
nmq_reader_vcpu(NmqReader *rd, xmlNodePtr root, NmqDomain *dom)
{
    xmlNodePtr node = nmq_reader_child(root, "vcpu");
    NmqStr text = NMQ_STR_NONE;
    char ex[NMQ_ERR_VALUE_MAX];
    char quoted[NMQ_ERR_VALUE_MAX];

    dom->vcpus = 1;
    dom->vcpus_current = 1;
    if (node == NULL)
        return 0;
    if (nmq_reader_copy_text(rd, node->children, node, &text) < 0)
        return -1;
    if (nmq_str_to_long(text, NMQ_READER_MAX_NUMBER, &dom->vcpus) < 0 ||
        dom->vcpus < 1) {
        text = nmq_reader_quote(text, ex, quoted);
        return nmq_error_setf(rd->err, NMQ_ERR_PARSE, "vcpu", text,
                              "vcpu: '%s' is not an integer from 1 to %ld",
                              quoted, NMQ_READER_MAX_NUMBER);
    }
    dom->vcpus_current = dom->vcpus;
    if (nmq_reader_attr(rd, node, "current", &text) < 0)
        return -1;
    if (text.s == NULL)
        return 0;
    if (nmq_str_to_long(text, dom->vcpus, &dom->vcpus_current) < 0 ||
        dom->vcpus_current < 1 || dom->vcpus_current > dom->vcpus) {
        text = nmq_reader_quote(text, ex, quoted);
        return nmq_error_setf(rd->err, NMQ_ERR_PARSE, "vcpu.current", text,
                              "vcpu.current: '%s' is not an integer from 1 "
                              "to the maximum of %ld vCPUs",
                              quoted, dom->vcpus);
    }
    return 0;
}

/*
 * Check that the document's root is <domain> in no namespace.  Returns
 * 0, or -1 with err filled.
 */
static int
nmq_reader_check_root(xmlNodePtr root, NmqError *err)
{
    const char *name = NULL;
    char ex[NMQ_ERR_VALUE_MAX];
    char quoted[NMQ_ERR_VALUE_MAX];
    NmqStr v;

    if (root != NULL && nmq_reader_is(root, "domain"))
        return 0;
    if (root == NULL)
        return nmq_error_set(err, NMQ_ERR_PARSE, "xml", NMQ_STR_NONE,
                             "xml: the document has no root element (None)");
    name = (const char *)root->name;
    v = nmq_reader_quote((NmqStr){name, strlen(name)}, ex, quoted);
    return nmq_error_setf(err, NMQ_ERR_PARSE, "xml", v,
                          "xml: the root element is <%s>%s, not <domain>",
                          quoted, root->ns != NULL ? " in a namespace" : "");
}

/*
 * Read name, vCPUs and interfaces from the root element into *dom, with
 * every string in rd->arena.  Returns 0, or -1 with rd->err filled.
 */
static int
nmq_reader_domain(NmqReader *rd, xmlNodePtr root, NmqDomain *dom)
{
    xmlNodePtr name = NULL;

    if (nmq_reader_check_root(root, rd->err) < 0)
        return -1;
    name = nmq_reader_child(root, "name");
    if (name != NULL &&
        nmq_reader_copy_text(rd, name->children, name, &dom->name) < 0)
        return -1;
    if (nmq_reader_vcpu(rd, root, dom) < 0)
        return -1;
    return nmq_reader_ifaces(rd, root, dom);
}

/*
 * Read a domain XML into *dom with the given parser options.  The xmlDoc
 * lives only for the call; every string in *dom is in the arena at
 * dom->priv.  On failure *dom is all zero and nothing stays allocated.
 */
static int
nmq_reader_run(const char *xml, size_t len, int options, NmqDomain *dom,
               NmqError *err)
{
    NmqReader rd = {NULL, err, 0, "", 0, ""};
    xmlDocPtr doc = NULL;
    int ret = -1;

    memset(dom, 0, sizeof(*dom));
    if (nmq_reader_check_input(xml, len, err) < 0 ||
        nmq_reader_check_markup(xml, len, err) < 0)
        goto cleanup;
    if (nmq_reader_parse(&rd, xml, len, options, &doc) < 0)
        goto cleanup;
    if (nmq_reader_domain(&rd, xmlDocGetRootElement(doc), dom) < 0)
        goto cleanup;
    dom->priv = rd.arena;
    rd.arena = NULL;
    ret = 0;

cleanup:
    xmlFreeDoc(doc);
    nmq_arena_free(rd.arena);
    if (ret < 0)
        memset(dom, 0, sizeof(*dom));
    return ret;
}

/*
 * Parse a domain XML given as bytes, in the encoding its declaration names
 * (UTF-8 by default), into *dom.  See reader.h.
 */
int
nmq_domain_read(const char *xml, size_t len, NmqDomain *dom, NmqError *err)
{
    return nmq_reader_run(xml, len, NMQ_READER_OPTIONS, dom, err);
}

/*
 * Parse a domain XML given as UTF-8 text (a Python str) into *dom; an
 * encoding named in its declaration is ignored.  See reader.h.
 */
int
nmq_domain_read_utf8(const char *xml, size_t len, NmqDomain *dom, NmqError *err)
{
    return nmq_reader_run(xml, len, NMQ_READER_OPTIONS | XML_PARSE_IGNORE_ENC,
                          dom, err);
}

/*
 * Free the arena of a domain nmq_domain_read() filled and zero *dom.
 * Safe on NULL, on an all-zero dom and on one already freed.
 */
void
nmq_domain_free(NmqDomain *dom)
{
    if (dom == NULL)
        return;
    nmq_arena_free(dom->priv);
    memset(dom, 0, sizeof(*dom));
}
