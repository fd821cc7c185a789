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
 * reader.h: read the vCPU count and the <interface> elements out of a
 * libvirt domain XML.  Parsing never touches the network (XML_PARSE_NONET),
 * never expands entities, refuses a DOCTYPE, and refuses input over a size
 * limit before libxml2 sees it.
 */
#ifndef NMQ_READER_H
#define NMQ_READER_H

#include "nmq.h"

/* The largest domain XML the reader accepts (bytes). */
#define NMQ_READER_MAX_BYTES (4L * 1024L * 1024L)
/* The most <interface> elements it reports. */
#define NMQ_READER_MAX_IFACES 4096

/*
 * One interface.  Every string is owned by the NmqDomain and lives until
 * nmq_domain_free(); s == NULL when the element or attribute is absent.
 * Numbers are -1 when absent.
 */
typedef struct {
    NmqStr type;        /* <interface type=...> */
    NmqStr mac;         /* <mac address=...> */
    NmqStr model;       /* <model type=...> */
    NmqStr driver;      /* <driver name=...> */
    NmqStr target_dev;  /* <target dev=...> */
    NmqStr alias;       /* <alias name=...> */
    long queues;        /* <driver queues=...> */
    long rx_queue_size; /* <driver rx_queue_size=...> */
    long tx_queue_size; /* <driver tx_queue_size=...> */
} NmqDomainIface;

typedef struct {
    NmqStr name;        /* <name> text, or absent */
    long vcpus;         /* <vcpu> text: the maximum */
    long vcpus_current; /* <vcpu current=...>, else vcpus */
    NmqDomainIface *ifaces;
    size_t n_ifaces;
    void *priv; /* storage the strings point into */
} NmqDomain;

/*
 * Parse xml (len bytes, need not be NUL-terminated) into *dom.
 * Returns 0, or -1 with err filled (NMQ_ERR_TOO_LARGE, NMQ_ERR_PARSE for
 * malformed XML, a DOCTYPE, a root other than <domain>, or a number that
 * is not one) and *dom empty.  Free a filled *dom with nmq_domain_free.
 */
int nmq_domain_read(const char *xml, size_t len, NmqDomain *dom, NmqError *err);

/*
 * As nmq_domain_read, for text already in UTF-8 (a Python str): an
 * encoding named in the XML declaration is ignored, since it describes
 * bytes the text no longer has.
 */
int nmq_domain_read_utf8(const char *xml, size_t len, NmqDomain *dom,
                         NmqError *err);

/* Release what nmq_domain_read filled; safe on an empty or freed dom. */
void nmq_domain_free(NmqDomain *dom);

#endif /* NMQ_READER_H */
