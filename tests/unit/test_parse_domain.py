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
"""nova_mq.parse_domain against Nova's own config objects.

Nova is the oracle twice over: a guest built with Nova's LibvirtConfigGuest
and written with its to_xml() must read back exactly as it was set, and
every interface must agree with what Nova's own parser
(LibvirtConfigGuest().parse_str) reads from the same text.  Real
`virsh dumpxml` output, every refusal (DOCTYPE, entities, size, NUL bytes,
bad numbers) and the promise never to fetch anything are covered too.
"""

import random
import select
import socket
import threading
import tracemalloc

from nova import exception as nova_exception
from nova.virt.libvirt import config as vconfig
import pytest

import nova_mq
from nova_mq import _engine
from nova_mq import exception

import testlib
from testlib import NET_TYPES
from testlib import SOURCES

_PROBE = vconfig.LibvirtConfigGuestInterface()
#: The ring flag of the installed Nova (Zed: driver_iommu; newer: packed).
RING_FLAG = ('driver_packed' if hasattr(_PROBE, 'driver_packed')
             else 'driver_iommu')

IFACE_KEYS = {'type', 'mac', 'model', 'driver', 'queues', 'rx_queue_size',
              'tx_queue_size', 'target_dev', 'alias'}


def nova_interface(net_type, index, **attrs):
    """A LibvirtConfigGuestInterface of net_type with attrs set."""
    iface = vconfig.LibvirtConfigGuestInterface()
    iface.net_type = net_type
    iface.mac_addr = 'fa:16:3e:00:%02x:%02x' % (index // 256, index % 256)
    for name, value in SOURCES[net_type].items():
        setattr(iface, name, value)
    for name, value in attrs.items():
        setattr(iface, name, value)
    return iface


def nova_guest(vcpus, interfaces, name='instance-0000abcd'):
    """A whole guest, as Nova's driver builds one, with interfaces."""
    conf = vconfig.LibvirtConfigGuest()
    conf.virt_type = 'kvm'
    conf.name = name
    conf.uuid = '8d9c3a5e-2f51-4d77-9a51-3b3a9b0f2c11'
    conf.memory = 2 * 1024 * 1024
    conf.vcpus = vcpus
    conf.os_type = 'hvm'
    disk = vconfig.LibvirtConfigGuestDisk()
    disk.source_type = 'file'
    disk.source_path = '/var/lib/nova/instances/%s/disk' % conf.uuid
    disk.driver_name = 'qemu'
    disk.driver_format = 'qcow2'
    disk.target_dev = 'vda'
    disk.target_bus = 'virtio'
    conf.add_device(disk)
    for iface in interfaces:
        conf.add_device(iface)
    serial = vconfig.LibvirtConfigGuestSerial()
    serial.type = 'pty'
    conf.add_device(serial)
    return conf


def as_set(iface):
    """What parse_domain must report for a Nova interface object."""
    def num(value):
        return None if value is None else int(value)

    return {
        'type': iface.net_type,
        'mac': iface.mac_addr,
        'model': iface.model,
        # Nova never writes a driver name for vhost-user.
        'driver': (None if iface.net_type == 'vhostuser'
                   else iface.driver_name),
        'queues': num(iface.vhost_queues),
        'rx_queue_size': num(iface.vhost_rx_queue_size),
        'tx_queue_size': num(iface.vhost_tx_queue_size),
        'target_dev': iface.target_dev,
        'alias': getattr(iface, 'alias', None),
    }


def nova_reads(xml):
    """(name, vcpus, [interface dicts]) as Nova's own parser reads xml."""
    guest = vconfig.LibvirtConfigGuest()
    guest.parse_str(xml)
    ifaces = [d for d in guest.devices
              if isinstance(d, vconfig.LibvirtConfigGuestInterface)]
    return guest.name, guest.vcpus, [as_set(i) for i in ifaces]


def check_against_nova(xml, result):
    """result (from parse_domain(xml)) agrees with Nova's parser."""
    name, vcpus, ifaces = nova_reads(xml)
    assert result['name'] == name
    assert result['vcpus'] == vcpus
    assert result['interfaces'] == ifaces


#: One interface of every kind, with the settings Nova and nova-mq write.
CASES = {
    'bridge-multiqueue': ('bridge', dict(
        model='virtio', driver_name='vhost', vhost_queues=4,
        vhost_rx_queue_size=1024, target_dev='tap1234-00')),
    'ethernet-single-queue': ('ethernet', dict(
        model='virtio', target_dev='tap1234-01')),
    'vhostuser-sizes': ('vhostuser', dict(
        model='virtio', vhost_queues=8, vhost_rx_queue_size=1024,
        vhost_tx_queue_size=1024)),
    'vdpa-ring': ('vdpa', dict(
        model='virtio', vhost_queues=16, vhost_tx_queue_size=512,
        **{RING_FLAG: True})),
    'direct-qemu': ('direct', dict(
        model='virtio', driver_name='qemu', vhost_queues=2,
        target_dev='macvtap0')),
    'hostdev-vfio': ('hostdev', dict(driver_name='vfio')),
    'network-e1000': ('network', dict(model='e1000', target_dev='vnet7')),
    'bridge-ring-max': ('bridge', dict(
        model='virtio', driver_name='vhost', vhost_queues=256,
        **{RING_FLAG: True})),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_one_interface_reads_as_set(case):
    net_type, attrs = CASES[case]
    iface = nova_interface(net_type, 1, **attrs)
    xml = nova_guest(4, [iface]).to_xml()

    result = nova_mq.parse_domain(xml)

    assert result == {'name': 'instance-0000abcd', 'vcpus': 4,
                      'vcpus_current': 4, 'interfaces': [as_set(iface)]}
    check_against_nova(xml, result)


def test_whole_guest_reads_as_set():
    ifaces = [nova_interface(CASES[c][0], i, **CASES[c][1])
              for i, c in enumerate(sorted(CASES))]
    xml = nova_guest(16, ifaces, name='mq-guest').to_xml()

    result = nova_mq.parse_domain(xml)

    assert result['name'] == 'mq-guest'
    assert result['vcpus'] == result['vcpus_current'] == 16
    assert result['interfaces'] == [as_set(i) for i in ifaces]
    # Spot-check the table itself, so a wrong as_set() cannot hide.
    by_type = {i['type'] + str(i['queues']): i for i in result['interfaces']}
    assert by_type['vhostuser8']['rx_queue_size'] == 1024
    assert by_type['vhostuser8']['driver'] is None
    assert by_type['bridge256']['driver'] == 'vhost'
    assert by_type['hostdevNone']['driver'] == 'vfio'
    assert by_type['vdpa16']['tx_queue_size'] == 512
    check_against_nova(xml, result)


def random_interface(rng, index):
    net_type = rng.choice(NET_TYPES)
    attrs = {
        'model': rng.choice(['virtio', 'virtio', 'e1000', 'rtl8139', None]),
        'driver_name': rng.choice([None, 'vhost', 'qemu']),
        RING_FLAG: rng.choice([False, True]),
    }
    # Nova writes the queue attributes inside a <driver> element, and
    # writes that only for a driver name, a ring flag or vhost-user.
    if (attrs['driver_name'] or attrs[RING_FLAG] or
            net_type == 'vhostuser'):
        attrs.update(
            vhost_queues=rng.choice([None, 1, 2, 3, 4, 8, 16, 64, 256]),
            vhost_rx_queue_size=rng.choice([None, 256, 512, 1024]),
            vhost_tx_queue_size=rng.choice([None, 256, 512, 1024]))
    if net_type not in ('vhostuser', 'vdpa', 'hostdev'):
        attrs['target_dev'] = rng.choice([None, 'tap%04x-%02x' % (
            rng.randrange(65536), index)])
    return nova_interface(net_type, index, **attrs)


def test_random_guests_read_as_set():
    rng = random.Random(20240502)
    for _ in range(200):
        vcpus = rng.randint(1, 512)
        ifaces = [random_interface(rng, i)
                  for i in range(rng.randint(0, 10))]
        xml = nova_guest(vcpus, ifaces).to_xml()

        result = nova_mq.parse_domain(xml)

        assert result['vcpus'] == result['vcpus_current'] == vcpus
        assert result['interfaces'] == [as_set(i) for i in ifaces], xml
        check_against_nova(xml, result)


#: `virsh dumpxml` of a running Nova guest: many devices, aliases, PCI
#: addresses, and interfaces of every kind with <driver queues=.../>.
DUMPXML = """\
<domain type='kvm' id='12'
    xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>instance-00000c1f</name>
  <uuid>0c8f6a52-3b7e-4a52-9a0c-6d1f3e2b4a77</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="29.0.1"/>
      <nova:name>web-1</nova:name>
      <nova:flavor name="c8.mq">
        <nova:memory>16384</nova:memory>
        <nova:vcpus>8</nova:vcpus>
      </nova:flavor>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>16777216</memory>
  <currentMemory unit='KiB'>16777216</currentMemory>
  <vcpu placement='static' current='4'>8</vcpu>
  <cputune>
    <shares>8192</shares>
    <vcpupin vcpu='0' cpuset='2'/>
    <vcpupin vcpu='1' cpuset='3'/>
  </cputune>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>OpenStack Foundation</entry>
      <entry name='product'>OpenStack Nova</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='pc-q35-8.2'>hvm</type>
    <boot dev='hd'/>
    <smbios mode='sysinfo'/>
  </os>
  <features><acpi/><apic/><vmcoreinfo state='on'/></features>
  <cpu mode='host-passthrough' check='none' migratable='on'>
    <topology sockets='8' dies='1' clusters='1' cores='1' threads='1'/>
  </cpu>
  <clock offset='utc'>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw' cache='writeback' discard='unmap'/>
      <auth username='nova'>
        <secret type='ceph' uuid='f6b3e1a2-1d1f-4c59-9f1b-0a1e2d3c4b5a'/>
      </auth>
      <source protocol='rbd' name='vms/0c8f6a52_disk' index='1'>
        <host name='10.0.0.5' port='6789'/>
      </source>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00'
          function='0x0'/>
    </disk>
    <controller type='pci' index='0' model='pcie-root'>
      <alias name='pcie.0'/>
    </controller>
    <controller type='pci' index='1' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='1' port='0x10'/>
      <alias name='pci.1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'
          multifunction='on'/>
    </controller>
    <controller type='usb' index='0' model='qemu-xhci'>
      <alias name='usb'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00'
          function='0x0'/>
    </controller>
    <interface type='bridge'>
      <mac address='fa:16:3e:5c:01:0a'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='4f1e2d3c-0001-4000-8000-00000000000a'/>
      </virtualport>
      <target dev='tap4f1e2d3c-00'/>
      <model type='virtio'/>
      <driver name='vhost' queues='4' rx_queue_size='1024'
          tx_queue_size='1024'/>
      <mtu size='1442'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00'
          function='0x0'/>
    </interface>
    <interface type='vhostuser'>
      <mac address='fa:16:3e:5c:01:0b'/>
      <source type='unix' path='/var/lib/vhost_sockets/vhu4f1e2d3c-01'
          mode='server'/>
      <target dev='vhu4f1e2d3c-01'/>
      <model type='virtio'/>
      <driver queues='8' rx_queue_size='1024' tx_queue_size='1024'/>
      <alias name='net1'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00'
          function='0x0'/>
    </interface>
    <interface type='ethernet'>
      <mac address='fa:16:3e:5c:01:0c'/>
      <target dev='tap4f1e2d3c-02' managed='no'/>
      <model type='virtio'/>
      <driver name='vhost' queues='2'/>
      <alias name='net2'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00'
          function='0x0'/>
    </interface>
    <interface type='hostdev' managed='yes'>
      <mac address='fa:16:3e:5c:01:0d'/>
      <driver name='vfio'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x81' slot='0x02'
            function='0x3'/>
      </source>
      <vlan><tag id='1203'/></vlan>
      <alias name='hostdev0'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00'
          function='0x0'/>
    </interface>
    <interface type='direct'>
      <mac address='fa:16:3e:5c:01:0e'/>
      <source dev='enp130s0f1' mode='passthrough'/>
      <target dev='macvtap3'/>
      <model type='virtio'/>
      <alias name='net3'/>
      <address type='pci' domain='0x0000' bus='0x07' slot='0x00'
          function='0x0'/>
    </interface>
    <serial type='pty'>
      <source path='/dev/pts/4'/>
      <target type='isa-serial' port='0'><model name='isa-serial'/></target>
      <alias name='serial0'/>
    </serial>
    <console type='pty' tty='/dev/pts/4'>
      <source path='/dev/pts/4'/>
      <target type='serial' port='0'/>
      <alias name='serial0'/>
    </console>
    <input type='tablet' bus='usb'>
      <alias name='input0'/>
      <address type='usb' bus='0' port='1'/>
    </input>
    <graphics type='vnc' port='5901' autoport='yes' listen='10.0.0.21'>
      <listen type='address' address='10.0.0.21'/>
    </graphics>
    <video>
      <model type='virtio' heads='1' primary='yes'/>
      <alias name='video0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01'
          function='0x0'/>
    </video>
    <memballoon model='virtio'>
      <stats period='10'/>
      <alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x08' slot='0x00'
          function='0x0'/>
    </memballoon>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
      <alias name='rng0'/>
      <address type='pci' domain='0x0000' bus='0x09' slot='0x00'
          function='0x0'/>
    </rng>
  </devices>
  <seclabel type='dynamic' model='apparmor' relabel='yes'>
    <label>libvirt-0c8f6a52-3b7e-4a52-9a0c-6d1f3e2b4a77</label>
  </seclabel>
  <qemu:commandline><qemu:arg value='-msg'/></qemu:commandline>
</domain>
"""

DUMPXML_IFACES = [
    {'type': 'bridge', 'mac': 'fa:16:3e:5c:01:0a', 'model': 'virtio',
     'driver': 'vhost', 'queues': 4, 'rx_queue_size': 1024,
     'tx_queue_size': 1024, 'target_dev': 'tap4f1e2d3c-00',
     'alias': 'net0'},
    {'type': 'vhostuser', 'mac': 'fa:16:3e:5c:01:0b', 'model': 'virtio',
     'driver': None, 'queues': 8, 'rx_queue_size': 1024,
     'tx_queue_size': 1024, 'target_dev': 'vhu4f1e2d3c-01',
     'alias': 'net1'},
    {'type': 'ethernet', 'mac': 'fa:16:3e:5c:01:0c', 'model': 'virtio',
     'driver': 'vhost', 'queues': 2, 'rx_queue_size': None,
     'tx_queue_size': None, 'target_dev': 'tap4f1e2d3c-02',
     'alias': 'net2'},
    {'type': 'hostdev', 'mac': 'fa:16:3e:5c:01:0d', 'model': None,
     'driver': 'vfio', 'queues': None, 'rx_queue_size': None,
     'tx_queue_size': None, 'target_dev': None, 'alias': 'hostdev0'},
    {'type': 'direct', 'mac': 'fa:16:3e:5c:01:0e', 'model': 'virtio',
     'driver': None, 'queues': None, 'rx_queue_size': None,
     'tx_queue_size': None, 'target_dev': 'macvtap3', 'alias': 'net3'},
]


def test_virsh_dumpxml():
    result = nova_mq.parse_domain(DUMPXML)

    assert result == {'name': 'instance-00000c1f', 'vcpus': 8,
                      'vcpus_current': 4, 'interfaces': DUMPXML_IFACES}
    check_against_nova(DUMPXML, result)


def test_bytes_and_str_read_alike():
    assert (nova_mq.parse_domain(DUMPXML.encode()) ==
            nova_mq.parse_domain(DUMPXML))


def test_types():
    result = nova_mq.parse_domain(DUMPXML)

    assert set(result) == {'name', 'vcpus', 'vcpus_current', 'interfaces'}
    assert type(result['vcpus']) is int
    assert type(result['vcpus_current']) is int
    assert type(result['interfaces']) is list
    for iface in result['interfaces']:
        assert set(iface) == IFACE_KEYS
        for key in ('queues', 'rx_queue_size', 'tx_queue_size'):
            assert iface[key] is None or type(iface[key]) is int
        for key in IFACE_KEYS - {'queues', 'rx_queue_size',
                                 'tx_queue_size'}:
            assert iface[key] is None or type(iface[key]) is str


def test_defaults_follow_libvirt():
    # No <vcpu>: one vCPU.  No <name>: None.  An empty interface: Nones.
    result = nova_mq.parse_domain(
        '<domain><devices><interface/></devices></domain>')

    assert result == {'name': None, 'vcpus': 1, 'vcpus_current': 1,
                      'interfaces': [dict.fromkeys(IFACE_KEYS)]}
    assert nova_reads('<domain/>')[1] == 1


def test_non_ascii():
    xml = "<domain><name>caf\u00e9-\u4e91</name></domain>"

    assert nova_mq.parse_domain(xml)['name'] == 'caf\u00e9-\u4e91'
    assert nova_mq.parse_domain(xml.encode())['name'] == 'caf\u00e9-\u4e91'


def test_bytes_follow_their_declared_encoding():
    xml = ("<?xml version='1.0' encoding='ISO-8859-1'?>"
           "<domain><name>caf\u00e9</name></domain>").encode('latin-1')

    assert nova_mq.parse_domain(xml)['name'] == 'caf\u00e9'


def test_str_ignores_declared_encoding():
    xml = ("<?xml version='1.0' encoding='ISO-8859-1'?>"
           "<domain><name>caf\u00e9</name></domain>")

    assert nova_mq.parse_domain(xml)['name'] == 'caf\u00e9'


# --- refusals -------------------------------------------------------------

def two_ifaces(driver):
    return ("<domain><devices><interface><driver queues='2'/></interface>"
            "<interface><driver %s/></interface></devices></domain>" % driver)


#: (xml, key, a text the message and the value must contain)
BAD = {
    'vcpu-text': ('<domain><vcpu>four</vcpu></domain>', 'vcpu', 'four'),
    'vcpu-zero': ('<domain><vcpu>0</vcpu></domain>', 'vcpu', '0'),
    'vcpu-negative': ('<domain><vcpu>-2</vcpu></domain>', 'vcpu', '-2'),
    'vcpu-empty': ('<domain><vcpu/></domain>', 'vcpu', "''"),
    'vcpu-current-text': ("<domain><vcpu current='x'>8</vcpu></domain>",
                          'vcpu.current', 'x'),
    'vcpu-current-over': ("<domain><vcpu current='9'>8</vcpu></domain>",
                          'vcpu.current', '9'),
    'queues-text': (two_ifaces("queues='4x'"),
                    'interfaces[1].driver.queues', '4x'),
    'queues-overflow': (two_ifaces("queues='99999999999'"),
                        'interfaces[1].driver.queues', '99999999999'),
    'rx-negative': (two_ifaces("rx_queue_size='-1'"),
                    'interfaces[1].driver.rx_queue_size', '-1'),
    'tx-float': (two_ifaces("tx_queue_size='1e3'"),
                 'interfaces[1].driver.tx_queue_size', '1e3'),
    'malformed': ('<domain>\n<name>x</nam>\n</domain>', 'xml',
                  '<name>x</nam>'),
    'root': ('<network><name>default</name></network>', 'xml', 'network'),
    'doctype': ('<!DOCTYPE domain><domain/>', 'xml', 'DOCTYPE'),
    'undeclared-entity': ('<domain><name>&x;</name></domain>', 'xml',
                          'Entity'),
    'empty': ('', 'xml', 'empty'),
}


def assert_invalid(excinfo, key, text):
    exc = excinfo.value
    assert isinstance(exc, exception.InvalidDomainXML)
    assert isinstance(exc, nova_exception.Invalid)
    assert isinstance(exc, ValueError)
    assert exc.key == key
    assert key in str(exc)
    assert text in str(exc)


@pytest.mark.parametrize('case', sorted(BAD))
def test_refused(case):
    xml, key, text = BAD[case]
    for doc in (xml, xml.encode()):
        with pytest.raises(exception.InvalidDomainXML) as excinfo:
            nova_mq.parse_domain(doc)
        assert_invalid(excinfo, key, text)


def test_value_is_reported():
    with pytest.raises(exception.InvalidDomainXML) as excinfo:
        nova_mq.parse_domain(two_ifaces("queues='many'"))
    assert excinfo.value.value == 'many'
    assert excinfo.value.kwargs['key'] == 'interfaces[1].driver.queues'


@pytest.mark.parametrize('xml', [
    '<domain><name>a\x00b</name></domain>',
    b'<domain><name>a\x00b</name></domain>',
    '<domain/>\x00',
], ids=['str', 'bytes', 'trailing'])
def test_nul_refused(xml):
    with pytest.raises(exception.InvalidDomainXML) as excinfo:
        nova_mq.parse_domain(xml)
    assert_invalid(excinfo, 'xml', 'NUL')


def test_lone_surrogate_refused():
    with pytest.raises(exception.InvalidDomainXML) as excinfo:
        nova_mq.parse_domain('<domain><name>\ud800</name></domain>')
    assert isinstance(excinfo.value, ValueError)


def test_invalid_utf8_bytes_refused():
    with pytest.raises(exception.InvalidDomainXML) as excinfo:
        nova_mq.parse_domain(b'<domain><name>\xc3\x28\xff</name></domain>')
    assert_invalid(excinfo, 'xml', 'line 1')


def traced_peak(call):
    """(call()'s result, the peak of Python-allocated bytes during it)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def refusal(doc):
    """The InvalidDomainXML parse_domain(doc) raises."""
    with pytest.raises(exception.InvalidDomainXML) as excinfo:
        nova_mq.parse_domain(doc)
    return excinfo


def test_too_large_refused_before_reading():
    """An input over the limit is refused on its length alone.

    Bounded by what the refusal depends on, not by time: whatever the
    10 MiB hold after the first bytes (well-formed, malformed, a DOCTYPE
    with entities, an attribute bomb, invalid UTF-8), the refusal is the
    same too_large one; a reader that parsed or scanned first would
    report what it found.  And no copy of the input is made: the Python
    memory allocated during the call stays under 64 KiB.
    """
    limit = 4 * 1024 * 1024
    assert _engine.MAX_XML_BYTES == limit
    size = 10 * 1024 * 1024
    heads = ['<domain>', '<domain><name>x</nam>', BILLION_LAUGHS,
             '<domain %s>' % ' '.join('a%d=""' % i for i in range(1000))]
    docs = [head + ' ' * (size - len(head) - 9) + '</domain>'
            for head in heads]
    docs += [doc.encode() for doc in docs]
    bad_utf8 = b'<domain><name>\xc3\x28\xff'
    docs.append(bad_utf8 + b' ' * (size - len(bad_utf8) - 9) + b'</domain>')
    messages = set()
    for doc in docs:
        assert len(doc) == size
        excinfo, peak = traced_peak(lambda: refusal(doc))
        assert peak < 64 * 1024, (doc[:20], peak)
        assert excinfo.value.kwargs['code'] == 'too_large'
        assert_invalid(excinfo, 'xml', str(size))
        assert str(limit) in str(excinfo.value)
        messages.add(str(excinfo.value))
    assert len(messages) == 1, messages
    assert len(messages.pop()) < 200


def test_size_limit_is_exact():
    limit = 4 * 1024 * 1024
    at = b'<domain>' + b' ' * (limit - 17) + b'</domain>'
    assert len(at) == limit
    assert nova_mq.parse_domain(at)['vcpus'] == 1
    with pytest.raises(exception.InvalidDomainXML):
        nova_mq.parse_domain(at + b' ')


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE domain [
 <!ENTITY a "lollollollollollollollollollol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<domain><name>&i;</name><vcpu>&i;</vcpu></domain>
"""


def peak_rss_growth(call):
    """(call()'s result, how far the peak RSS (VmHWM) rose during it).

    The peak is reset first (/proc/self/clear_refs, Linux 4.0+), so what
    earlier tests touched does not hide what the call touches.
    """
    def hwm():
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass  # no reset: the growth can only read lower
    before = hwm()
    result = call()
    return result, hwm() - before


#: DOCTYPEs refused as they open: an internal subset never read.
DOCTYPES = [
    BILLION_LAUGHS,
    # Unterminated and garbage subsets: reading them would be an error.
    '<!DOCTYPE domain [ <!ENTITY a "lol',
    '<!DOCTYPE domain [ garbage &a; ]><domain/>',
    # An entity that refers to itself.
    '<!DOCTYPE domain [<!ENTITY a "&a;&a;">]><domain><name>&a;</name>'
    '</domain>',
]


@pytest.mark.parametrize('doc', DOCTYPES,
                         ids=['laughs', 'open', 'garbage', 'loop'])
def test_doctype_refused_before_its_subset(doc):
    """No entity is ever declared, so none is ever expanded.

    Bounded by what is read, not by time: the parser is stopped at the
    DOCTYPE's name, so the subset's content (even unterminated or
    malformed) never changes the refusal, and the billion laughs (3 GB
    expanded) leave the peak RSS within 8 MiB.
    """
    excinfo, growth = peak_rss_growth(lambda: refusal(doc))
    assert_invalid(excinfo, 'xml', 'DOCTYPE')
    assert excinfo.value.value == 'domain'
    assert excinfo.value.kwargs['code'] == 'parse'
    assert growth < 8 * 1024 * 1024


def attrs(n, start=0):
    return ' '.join('a%d=""' % i for i in range(start, start + n))


def test_attribute_bomb_refused_before_parsing():
    """libxml2 2.9 checks one tag's attributes pairwise: 100,000 take 17 s.

    Bounded by count, not time: a tag of 256 attributes (the limit) is
    parsed, one of 257 is refused before libxml2 sees the document (a
    malformed rest still gives the too_large refusal, not a parse
    error), so libxml2 never compares more than 256 x 256 pairs a tag.
    """
    assert nova_mq.parse_domain('<domain %s/>' % attrs(256))['vcpus'] == 1
    # Many tags at the limit: the limit is per tag.
    many = '<domain>%s</domain>' % ''.join(
        '<x %s/>' % attrs(256, 256 * i) for i in range(8))
    assert nova_mq.parse_domain(many)['vcpus'] == 1
    for xml in ('<domain %s/>' % attrs(257),
                '<domain %s/>' % attrs(100000),
                '<domain %s><name>x</nam>' % attrs(257),
                '<domain><x %s/><vcpu>x</vcpu></domain>' % attrs(257)):
        excinfo = refusal(xml)
        assert excinfo.value.kwargs['code'] == 'too_large'
        assert_invalid(excinfo, 'xml', 'too many attributes')


def test_namespace_bomb_refused_before_parsing():
    """libxml2 2.9 looks each prefix up through every declaration in
    scope.  Bounded by count: 256 declarations in a document are parsed,
    257 are refused before libxml2 sees it (malformed or not)."""
    def decls(n):
        return ''.join('<x xmlns:p%d="urn:%d"/>' % (i, i) for i in range(n))

    assert nova_mq.parse_domain(
        '<domain>%s</domain>' % decls(256))['vcpus'] == 1
    for xml in ('<domain>%s</domain>' % decls(257),
                '<domain>%s<name>x</nam>' % decls(257)):
        excinfo = refusal(xml)
        assert excinfo.value.kwargs['code'] == 'too_large'
        assert_invalid(excinfo, 'xml', 'too many namespace declarations')


# --- nothing is ever fetched ----------------------------------------------

def fetchers(url):
    """Documents naming url in every way XML allows."""
    return [
        "<!DOCTYPE domain [<!ENTITY s SYSTEM '%s'>]>"
        "<domain><name>&s;</name></domain>" % url,
        "<!DOCTYPE domain SYSTEM '%s'><domain/>" % url,
        "<!DOCTYPE domain [<!ENTITY %% p SYSTEM '%s'> %%p;]><domain/>" % url,
        "<domain xmlns:xi='http://www.w3.org/2001/XInclude'><name>"
        "<xi:include href='%s' parse='text'/><xi:include href='%s'/>"
        "</name></domain>" % (url, url),
        "<?xml-stylesheet type='text/xsl' href='%s'?><domain "
        "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
        "xsi:schemaLocation='urn:x %s'/>" % (url, url),
    ]


def read_all(docs):
    """parse_domain every doc; return the results of those that read."""
    results = []
    for doc in docs:
        try:
            results.append(nova_mq.parse_domain(doc))
        except exception.InvalidDomainXML as exc:
            assert 'DOCTYPE' in str(exc)
    return results


def test_no_file_is_read(tmp_path):
    secret = tmp_path / 'secret.xml'
    secret.write_text('<s>SECRET</s>')
    results = read_all(fetchers(secret.as_uri()) + fetchers(str(secret)))

    assert len(results) == 4
    assert 'SECRET' not in repr(results)
    assert all(r['name'] in ('', None) for r in results)


def test_no_network_connection():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(('127.0.0.1', 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        docs = (fetchers('http://127.0.0.1:%d/secret.xml' % port) +
                fetchers('ftp://127.0.0.1:%d/secret.xml' % port))

        assert len(read_all(docs)) == 4
        # A pending connection would make the listener readable.
        assert select.select([listener], [], [], 0.2)[0] == []
    finally:
        listener.close()


# --- resources --------------------------------------------------------------

def churn(n):
    bad = two_ifaces("queues='x'")
    for _ in range(n):
        nova_mq.parse_domain(DUMPXML)
        try:
            nova_mq.parse_domain(bad)
        except exception.InvalidDomainXML:
            pass


def test_no_leak():
    # Two parses a round; 100 leaked bytes a call would be 4 MB.
    testlib.assert_no_growth(churn, 20000)


def test_threads_agree():
    want = nova_mq.parse_domain(DUMPXML)
    errors = []

    def work():
        try:
            for _ in range(200):
                assert nova_mq.parse_domain(DUMPXML) == want
                with pytest.raises(exception.InvalidDomainXML):
                    nova_mq.parse_domain(BAD['malformed'][0])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
