# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""The main job: plan a realistic guest and write its NICs, proven by Nova.

A 16-vCPU guest on this host with six ports of mixed kinds, some asking
for queues through their binding profile, under the small MSI budget of
the seed's older guests.  The engine plans every NIC, writes its
``<interface>``, and each XML is checked byte for byte against Nova's own
``LibvirtConfigGuestInterface.to_xml()`` given the same attributes and
read back through Nova's parser.  Nova's own answer for the same guest
with ``hw:vif_multiqueue_enabled=true`` is printed alongside.
"""

import os

from nova.virt.libvirt import config as nova_config

import nova_mq

FLAVOR = {'mq:throughput': 'medium', 'mq:msi_vector_budget': '80'}
OPTIONS = {'reserved_msi_vectors': 16, 'rx_queue_size': 512}
# (label, vif_type, vnic_type, binding profile, host-side attributes)
PORTS = [
    ('ovs-data', 'ovs', 'normal', {'mq_throughput': 'high'},
     {'net_type': 'ethernet', 'target_dev': 'tap0a1b2c3d-4e',
      'mtu': 1450}),
    ('ovs-storage', 'ovs', 'normal', {'mq_queues': '4'},
     {'net_type': 'ethernet', 'target_dev': 'tap1a1b2c3d-4e',
      'mtu': 9000}),
    ('bridge-mgmt', 'bridge', 'normal', {},
     {'net_type': 'bridge', 'source_dev': 'brq5e6f7a8b-9c',
      'target_dev': 'tap2a1b2c3d-4e', 'mtu': 1500}),
    ('vhostuser-dpdk', 'vhostuser', 'normal', {'mq_throughput': 'high'},
     {'net_type': 'vhostuser', 'vhostuser_type': 'unix',
      'vhostuser_mode': 'server',
      'vhostuser_path': '/var/run/openvswitch/vhu3a1b2c3d-4e'}),
    ('sriov-direct', 'hw_veb', 'direct', {},
     {'net_type': 'hostdev', 'source_dev': '0000:3b:02.1', 'vlan': 100}),
    ('ovs-tenant', 'ovs', 'normal', {},
     {'net_type': 'ethernet', 'target_dev': 'tap5a1b2c3d-4e',
      'mtu': 1450}),
]


def _nova_xml(attrs):
    """What Nova's own config class writes for the same attributes."""
    conf = nova_config.LibvirtConfigGuestInterface()
    for key, value in attrs.items():
        setattr(conf, key, value)
    return conf.to_xml()


def _attrs(index, port, nic):
    label, vif_type, vnic_type, profile, host = port
    attrs = {'mac_addr': 'fa:16:3e:00:00:%02x' % index}
    attrs.update(host)
    if nic.model is not None:
        attrs['model'] = nic.model
    if nic.driver is not None and vif_type != 'vhostuser':
        attrs['driver_name'] = nic.driver
    if nic.queues is not None:
        attrs['vhost_queues'] = nic.queues
    if nic.rx_queue_size is not None:
        attrs['vhost_rx_queue_size'] = nic.rx_queue_size
    if nic.tx_queue_size is not None:
        attrs['vhost_tx_queue_size'] = nic.tx_queue_size
    if nic.packed:
        attrs['driver_packed'] = True
    return attrs


def _nics():
    return [{'vif_type': p[1], 'vnic_type': p[2], 'model': 'virtio',
             'profile': p[3]} for p in PORTS]


def run(vcpus=16, out=print):
    host = {'kernel_release': os.uname().release}
    plan = nova_mq.plan_guest(vcpus, FLAVOR, {}, 'kvm', host, OPTIONS,
                              _nics(), flavor_name='m1.mq',
                              image_name='cirros')
    stock = nova_mq.plan_guest(
        vcpus, {'hw:vif_multiqueue_enabled': 'true'}, {}, 'kvm', host,
        dict(OPTIONS, msi_vector_budget=1 << 30), _nics())
    out('nova-mq demo: %d vCPUs, kernel %s, MSI budget for NICs %d '
        '(mq:msi_vector_budget=80 - reserve 16)\n'
        % (vcpus, host['kernel_release'], plan.msi_budget))
    out('%-15s %-9s %9s %6s %5s %4s %9s  %s' % (
        'port', 'vif', 'requested', 'queues', 'nova', 'msi', 'vhost KiB',
        'reasons'))
    for port, nic, nova_nic in zip(PORTS, plan.nics, stock.nics):
        out('%-15s %-9s %9d %6s %5s %4d %9d  %s' % (
            port[0], port[1], nic.requested, nic.queues or 1,
            nova_nic.queues or 1, nic.msi_vectors,
            nic.vhost_memory // 1024, ', '.join(nic.reasons)))
    out('\ntotal MSI-X vectors: nova-mq %d of %d; Nova with multiqueue on '
        'would use %d' % (plan.msi_vectors, plan.msi_budget,
                          stock.msi_vectors))
    out('vhost-net kernel memory: %d KiB\n' % (plan.vhost_memory // 1024))
    for index, (port, nic) in enumerate(zip(PORTS, plan.nics)):
        attrs = _attrs(index, port, nic)
        xml = nova_mq.render_interface(**attrs)
        nova_xml = _nova_xml(attrs)
        if xml != nova_xml:
            raise AssertionError('%s: engine and Nova differ:\n%s\n%s'
                                 % (port[0], xml, nova_xml))
        back = nova_config.LibvirtConfigGuestInterface()
        back.parse_str(xml)
        out('<!-- %s: identical to Nova\'s to_xml(); parsed back as '
            'queues=%s -->' % (port[0], back.vhost_queues))
        out(xml)
    return 0
