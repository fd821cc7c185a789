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
"""The main job: a realistic guest's NICs through Nova's vif driver.

A 16-vCPU instance with six Neutron ports of mixed kinds (OVS, tap,
vhost-user, SR-IOV), some asking for queues through their binding
profile, under the small MSI budget of the seed's older guests
(``mq:msi_vector_budget=80``).  Nova's own objects (Flavor, ImageMeta,
Instance, network-model VIFs) go through nova-mq's vif driver, exactly as
nova-compute calls it; stock Nova's driver gets the same guest with
``hw:vif_multiqueue_enabled=true`` for comparison.  Each NIC's config is
Nova's own ``LibvirtConfigGuestInterface`` with the plan's queues; its XML
is written twice, by Nova's ``to_xml()`` and by nova-mq's C emitter
(``nova_mq.render_interface``) from the same attributes, checked byte for
byte, and read back through Nova's parser.
"""

import importlib.metadata

import os_vif
from nova import objects
from nova.network import model as network_model
from nova.virt.libvirt import config as nova_config
from nova.virt.libvirt import vif as nova_vif

import nova_mq
from nova_mq import vif as mq_vif

VCPUS = 16
FLAVOR_SPECS = {'mq:throughput': 'medium', 'mq:msi_vector_budget': '80'}
RESERVED = 16
UUID = 'f3c1c0de-0000-4a6e-9d7b-6d2f9c1a0001'

# (label, vif_type, vnic_type, binding profile, details, devname, bridge)
PORTS = [
    ('ovs-data', 'ovs', 'normal', {'mq_throughput': 'high'},
     {'port_filter': True, 'ovs_hybrid_plug': False}, 'tap0a1b2c3d-4e',
     'br-int'),
    ('ovs-storage', 'ovs', 'normal', {'mq_queues': '4'},
     {'port_filter': True, 'ovs_hybrid_plug': False}, 'tap1a1b2c3d-4e',
     'br-int'),
    ('tap-mgmt', 'tap', 'normal', {},
     {}, 'tap2a1b2c3d-4e', None),
    ('vhostuser-dpdk', 'vhostuser', 'normal', {'mq_throughput': 'high'},
     {'vhostuser_mode': 'server', 'vhostuser_ovs_plug': True,
      'vhostuser_socket': '/var/run/openvswitch/vhu3a1b2c3d-4e'},
     'vhu3a1b2c3d-4e', 'br-int'),
    ('sriov-direct', 'hw_veb', 'direct',
     {'pci_slot': '0000:3b:02.1', 'pci_vendor_info': '8086:154c'},
     {'vlan': '100'}, None, None),
    ('ovs-tenant', 'ovs', 'normal', {},
     {'port_filter': True, 'ovs_hybrid_plug': False}, 'tap5a1b2c3d-4e',
     'br-int'),
]


def _vif(index, port):
    label, vif_type, vnic_type, profile, details, devname, bridge = port
    network = network_model.Network(
        id='5e6f7a8b-9c0d-4e1f-8a2b-%012d' % index, bridge=bridge,
        label=label, subnets=[], meta={'mtu': 1450})
    return network_model.VIF(
        id='0a1b2c3d-4e5f-4a6b-8c7d-%012d' % index,
        address='fa:16:3e:00:00:%02x' % index, network=network,
        type=vif_type, vnic_type=vnic_type, details=details,
        devname=devname, ovs_interfaceid='0a1b2c3d-4e5f-4a6b-8c7d-%012d'
        % index, profile=profile)


def _guest(specs):
    flavor = objects.Flavor(name='m1.mq', vcpus=VCPUS, memory_mb=4096,
                            extra_specs=specs)
    image = objects.ImageMeta.from_dict({'name': 'cirros', 'properties': {}})
    instance = objects.Instance(uuid=UUID, flavor=flavor)
    return flavor, image, instance


def _configs(driver, vifs, specs):
    """Each VIF's interface config, planned as one guest."""
    flavor, image, instance = _guest(specs)
    with mq_vif.guest_context(network_info=vifs):
        return [driver.get_config(instance, v, image, flavor, 'kvm')
                for v in vifs]


def _plan(driver, vifs, specs):
    """The engine's plan for the guest, as the vif driver makes it."""
    flavor, image, instance = _guest(specs)
    with mq_vif.guest_context(network_info=vifs):
        return driver.plan_guest(instance, vifs[0], image, flavor, 'kvm')[0]


#: Attributes of Nova's config objects that are not the interface's.
_BASE_ATTRS = ('root_name', 'ns_prefix', 'ns_uri')


def _check(label, conf):
    """The C emitter's XML equals Nova's to_xml() of the same config."""
    nova_xml = conf.to_xml()
    xml = nova_mq.render_interface(**{k: v for k, v in vars(conf).items()
                                      if k not in _BASE_ATTRS})
    if xml != nova_xml:
        raise AssertionError('%s: nova-mq and Nova differ:\n%s\n%s'
                             % (label, xml, nova_xml))
    back = nova_config.LibvirtConfigGuestInterface()
    back.parse_str(xml)
    return xml, back.vhost_queues


def guest_domain_xml(configs, vcpus):
    """The guest's domain XML with these NICs, written by Nova's config
    classes (and Nova's instance metadata: the flavor's name and vCPUs)."""
    guest = nova_config.LibvirtConfigGuest()
    guest.virt_type = 'kvm'
    guest.name = 'instance-0000002a'
    guest.uuid = UUID
    guest.memory = 4096 * 1024
    guest.vcpus = vcpus
    guest.os_type = 'hvm'
    meta = nova_config.LibvirtConfigGuestMetaNovaInstance()
    meta.package = importlib.metadata.version('nova')
    meta.name = 'mq-demo'
    meta.flavor = nova_config.LibvirtConfigGuestMetaNovaFlavor()
    meta.flavor.name = 'm1.mq'
    meta.flavor.id = 'c0ffee00-0000-4d6e-8f0a-00000000a001'
    meta.flavor.vcpus = vcpus
    meta.flavor.memory = 4096
    if hasattr(meta.flavor, 'extra_specs'):
        # Nova 2024.1+ writes the flavor's extra specs too.
        meta.flavor.extra_specs = FLAVOR_SPECS
    guest.metadata.append(meta)
    for conf in configs:
        guest.add_device(conf)
    return guest.to_xml()


def run(vcpus=VCPUS, out=print, domain_xml=None):
    """Print the demo; with ``domain_xml`` (a path), write the guest's
    domain XML there too."""
    global VCPUS
    VCPUS = vcpus
    objects.register_all()
    os_vif.initialize()
    # What an operator sets in nova.conf for guests with few other devices.
    mq_vif.CONF.set_override('reserved_msi_vectors', RESERVED, 'nova_mq')
    vifs = [_vif(i, p) for i, p in enumerate(PORTS)]
    driver = mq_vif.MultiqueueVIFDriver()
    plan = _plan(driver, vifs, FLAVOR_SPECS)
    ours = _configs(driver, vifs, FLAVOR_SPECS)
    stock = _configs(nova_vif.LibvirtGenericVIFDriver(), vifs,
                     {'hw:vif_multiqueue_enabled': 'true'})
    out('nova-mq demo: instance %s, %d vCPUs, flavor extra specs %s;\n'
        'MSI-X budget for the NICs %d (%s minus [nova_mq] '
        'reserved_msi_vectors = %d)\n'
        % (UUID, vcpus, FLAVOR_SPECS, plan.msi_budget,
           FLAVOR_SPECS['mq:msi_vector_budget'], RESERVED))
    out('%-15s %-9s %9s %6s %5s %4s %9s  %s' % (
        'port', 'vif', 'requested', 'queues', 'nova', 'msi', 'vhost KiB',
        'reasons'))
    for port, nic, conf, nova_conf in zip(PORTS, plan.nics, ours, stock):
        out('%-15s %-9s %9d %6s %5s %4d %9d  %s' % (
            port[0], port[1], nic.requested, conf.vhost_queues or 1,
            getattr(nova_conf, 'vhost_queues', None) or 1, nic.msi_vectors,
            nic.vhost_memory // 1024, ', '.join(nic.reasons)))
    out('\ntotal MSI-X vectors: nova-mq %d of %d' % (plan.msi_vectors,
                                                     plan.msi_budget))
    out('vhost-net kernel memory: %d KiB\n' % (plan.vhost_memory // 1024))
    for port, conf in zip(PORTS, ours):
        xml, queues = _check(port[0], conf)
        out('<!-- %s: Nova\'s %s; nova-mq\'s C emitter writes the same '
            'bytes as its to_xml(); Nova parses it back as queues=%s -->'
            % (port[0], type(conf).__name__, queues))
        out(xml)
    if domain_xml:
        text = guest_domain_xml(ours, vcpus)
        with open(domain_xml, 'w') as f:
            f.write(text)
        out('<!-- the guest\'s domain XML: %s -->' % domain_xml)
    return 0
