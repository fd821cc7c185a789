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
 * emit.h: write one libvirt <interface> element exactly as Nova's
 * LibvirtConfigGuestInterface.to_xml() does.  No decisions live here: every
 * value arrives already decided; the emitter only writes what it is given,
 * in Nova's order, with Nova's conditions for each element.
 */
#ifndef NMQ_EMIT_H
#define NMQ_EMIT_H

#include <libxml/tree.h>

#include "nmq.h"

/*
 * One attribute value as Nova holds it.  Nova's attributes are Python
 * objects that it writes with str() and tests with truthiness, and the two
 * differ for some types (the string "0" is true, the integer 0 is false),
 * so the caller passes both: the text str() gives and the truth value.
 * text.s == NULL means the attribute is None.  not_str is non-zero when
 * the value is not a str (an int, a bool): Nova hands some attributes to
 * lxml without str(), and lxml raises TypeError for those, so the emitter
 * fails where Nova would.  Zero, the default, means a str.
 */
typedef struct {
    NmqStr text;
    int truthy;
    int not_str;
} NmqVal;

/* One <parameters key="value"/> (virtualport) or <parameter name= value=/>
 * (filterref) entry. */
typedef struct {
    NmqVal key;
    NmqVal value;
} NmqParam;

/*
 * The attributes of LibvirtConfigGuestInterface, by Nova's names.
 * driver_iommu is Zed's attribute, driver_packed newer Nova's; a caller
 * that follows one Nova sets only the one that Nova has.  alias and
 * device_addr are not listed: Nova reads them from libvirt but never
 * writes them, and neither does the emitter.
 */
typedef struct {
    NmqVal net_type;
    NmqVal mac_addr;
    NmqVal model;
    NmqVal driver_name;
    int driver_iommu;
    int driver_packed;
    NmqVal vhost_queues;
    NmqVal vhost_rx_queue_size;
    NmqVal vhost_tx_queue_size;
    NmqVal script;
    NmqVal mtu;
    NmqVal source_dev;
    NmqVal source_mode;
    NmqVal vhostuser_type;
    NmqVal vhostuser_mode;
    NmqVal vhostuser_path;
    NmqVal vlan;
    NmqVal target_dev;
    NmqVal managed;
    NmqVal vporttype;
    const NmqParam *vportparams;
    size_t n_vportparams;
    NmqVal filtername;
    const NmqParam *filterparams;
    size_t n_filterparams;
    NmqVal vif_inbound_average;
    NmqVal vif_inbound_peak;
    NmqVal vif_inbound_burst;
    NmqVal vif_outbound_average;
    NmqVal vif_outbound_peak;
    NmqVal vif_outbound_burst;
} NmqIface;

/* An NmqIface with every attribute None, source_mode "private" and no
 * flags: the state of a freshly made LibvirtConfigGuestInterface. */
void nmq_iface_init(NmqIface *iface);

/*
 * Append the <interface> element for iface to out, pretty-printed (two
 * spaces an indent level, a newline after the root) when pretty is non-zero,
 * as lxml's tostring(pretty_print=...) writes it.
 *
 * Returns 0, or -1 with err filled and out restored to its length on entry:
 * a required value that is None (type, mac address, the source of the
 * net type), a string that is not XML-compatible (NUL, control characters,
 * U+FFFE/U+FFFF, invalid UTF-8), a parameter key that is not an XML name,
 * or a hostdev source that is not a PCI address.
 */
int nmq_iface_format(const NmqIface *iface, int pretty, xmlBufferPtr out,
                     NmqError *err);

#endif /* NMQ_EMIT_H */
