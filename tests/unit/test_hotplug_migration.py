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
"""Hotplug, live migration and plugging through nova-mq's libvirt driver.

Nova's real driver code runs (attach_interface, detach_interface,
_live_migration_operation with migration.get_updated_guest_xml,
_pre_live_migration_plug_vifs, plug_tap, _plug_os_vif) with Nova's real
Guest class.  The libvirt domain under it is a small fake that keeps the
interface XML it is given (fakelibvirt drops <driver queues>), and the
host commands (create_tap_dev, os_vif.plug) are mocks whose arguments
are asserted.  Nova's own pre-checks (shared storage, CPU) are replaced by
what they return; nova-mq's are real.
"""

import logging
from unittest import mock
import uuid

from lxml import etree
from nova import context as nova_context
from nova import exception as nova_exception
from nova.network import model as network_model
from nova import objects
from nova.objects import migrate_data as migrate_data_obj
from nova.tests.fixtures import libvirt as fakelibvirt_fixture
from nova.virt import fake
from nova.virt.libvirt import driver as nova_driver
from nova.virt.libvirt import guest as libvirt_guest
from oslo_config import fixture as config_fixture
from oslo_serialization import jsonutils
import os_vif
from os_vif import objects as osv_objects
import pytest

import nova.conf
import nova_mq
from nova_mq import driver as mq_driver
from nova_mq import exception as mq_exception
from nova_mq import vif as mq_vif

CONF = nova.conf.CONF
VCPUS = 8
MACS = ['fa:16:3e:00:00:%02x' % i for i in range(1, 9)]

DOMAIN = """<domain type='kvm'>
  <name>instance-00000001</name>
  <uuid>%(uuid)s</uuid>
  <vcpu>%(vcpus)d</vcpu>
  <devices>%(ifaces)s</devices>
</domain>"""


def msi_vectors(queues):
    """The 2q+2 rule (3 for a single-queue virtio NIC)."""
    return 2 * queues + 2 if queues > 1 else 3


def fitting_queues(budget, running, vcpus):
    """Queues for one more NIC after the running ones spent the budget."""
    left = budget - sum(msi_vectors(q) for q in running)
    for queues in range(vcpus, 1, -1):
        if msi_vectors(queues) <= left:
            return queues
    return 1


class FakeDomain(object):
    """A libvirt domain that keeps the <interface> XML it is given."""

    def __init__(self, uuid, ifaces):
        self.uuid = uuid
        self.ifaces = list(ifaces)
        self.migrate_params = None

    def XMLDesc(self, flags=0):
        return DOMAIN % {'uuid': self.uuid, 'vcpus': VCPUS,
                         'ifaces': ''.join(self.ifaces)}

    def attachDeviceFlags(self, xml, flags=0):
        self.ifaces.append(xml)

    def detachDeviceFlags(self, xml, flags=0):
        mac = etree.fromstring(xml).find('mac').get('address')
        self.ifaces = [x for x in self.ifaces if mac not in x]

    def info(self):
        return [1, 1048576, 1048576, VCPUS, 0]  # running

    def ID(self):
        return 1

    def UUIDString(self):
        return self.uuid

    def name(self):
        return 'instance-00000001'

    def isActive(self):
        return True

    def setMetadata(self, *args, **kwargs):
        pass

    def migrateToURI3(self, uri, params, flags):
        self.migrate_params = params


@pytest.fixture
def conf():
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    fixture.config(reserved_msi_vectors=0, group='nova_mq')
    fixture.config(max_queues=None, group='libvirt')
    yield fixture
    fixture.cleanUp()


@pytest.fixture
def drvr(conf):
    # os_vif.plug is mocked by host_commands; Nova's _plug_os_vif runs.
    libvirt = fakelibvirt_fixture.LibvirtFixture(stub_os_vif=False)
    libvirt.setUp()
    driver = mq_driver.MultiqueueLibvirtDriver(fake.FakeVirtAPI(), False)
    driver._live_migration_flags = 0
    driver._block_migration_flags = 0
    yield driver
    libvirt.cleanUp()


@pytest.fixture
def host_commands():
    """The host commands Nova runs to plug VIFs, as mocks."""
    with mock.patch('nova.privsep.linux_net.create_tap_dev') as tap, \
            mock.patch('nova.privsep.linux_net.set_device_mtu'), \
            mock.patch.object(os_vif, 'plug') as plug, \
            mock.patch.object(os_vif, 'unplug'):
        yield {'create_tap_dev': tap, 'os_vif_plug': plug}


def make_vif(mac, vif_type='tap', profile=None, details=None):
    port = str(uuid.uuid4())
    network = network_model.Network(id=str(uuid.uuid4()), bridge='br-int',
                                    subnets=[], meta={'mtu': 1500})
    return network_model.VIF(
        id=port, address=mac, type=vif_type, network=network,
        vnic_type=network_model.VNIC_TYPE_NORMAL, profile=profile or {},
        details=details or {}, devname='tap' + port[:11],
        ovs_interfaceid=port)


def make_instance(vifs, extra_specs, vcpus=VCPUS):
    flavor = objects.Flavor(
        id=1, flavorid='1', name='m1.mq', vcpus=vcpus, memory_mb=1024,
        root_gb=1, ephemeral_gb=0, swap=0, extra_specs=dict(extra_specs))
    return objects.Instance(
        uuid=str(uuid.uuid4()), flavor=flavor, system_metadata={},
        image_ref='', vm_state='active', resources=None,
        migration_context=None, numa_topology=None,
        info_cache=objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo(vifs)))


def interface_xml(drvr, instance, vif, fixed):
    """The <interface> nova-mq writes for vif with these running queues."""
    with mq_vif.guest_context(network_info=[vif], fixed_queues=fixed):
        return drvr.vif_driver.get_config(
            instance, vif, instance.image_meta, instance.flavor,
            'kvm').to_xml()


def start_guest(drvr, instance, running):
    """A running guest of instance with NICs [(vif, queues)], as booted."""
    ifaces = []
    for slot, (vif, queues) in enumerate(running, 3):
        iface = etree.fromstring(
            interface_xml(drvr, instance, vif, {vif['address']: queues}))
        etree.SubElement(iface, 'address', type='pci', domain='0x0000',
                         bus='0x00', slot='0x%02x' % slot, function='0x0')
        ifaces.append(etree.tostring(iface, encoding='unicode'))
    guest = libvirt_guest.Guest(FakeDomain(instance.uuid, ifaces))
    drvr._host.get_guest = mock.Mock(return_value=guest)
    return guest


def queues_by_mac(guest):
    return {iface['mac']: iface['queues'] or 1 for iface in
            nova_mq.parse_domain(guest.get_xml_desc())['interfaces']}


def xml_queues(xml):
    driver = etree.fromstring(xml).find('driver')
    queues = driver.get('queues') if driver is not None else None
    return int(queues) if queues else 1


def attach(drvr, instance, vif):
    with mock.patch.object(drvr, '_build_device_metadata',
                           return_value=None), \
            mock.patch.object(drvr, '_get_guest_config_meta'), \
            mock.patch.object(objects.Instance, 'save'), \
            mock.patch.object(drvr, 'get_instance_driver_metadata',
                              create=True):
        drvr.attach_interface(nova_context.get_admin_context(), instance,
                              instance.image_meta, vif)


# Hotplug.

@pytest.mark.parametrize('budget', [50, 44, 40])
def test_hotplug_gets_what_fits_running_nics_unchanged(
        drvr, host_commands, budget):
    running = [make_vif(MACS[0]), make_vif(MACS[1])]
    new = make_vif(MACS[2])
    specs = {'hw:vif_multiqueue_enabled': 'true',
             'mq:msi_vector_budget': str(budget)}
    instance = make_instance(running + [new], specs)
    guest = start_guest(drvr, instance, [(running[0], 8), (running[1], 8)])

    attach(drvr, instance, new)

    expected = fitting_queues(budget, [8, 8], VCPUS)
    assert queues_by_mac(guest) == {MACS[0]: 8, MACS[1]: 8,
                                    MACS[2]: expected}
    # A plan from scratch would have cut the running NICs instead.
    fresh = nova_mq.plan_guest(
        VCPUS, specs, {}, 'kvm', None, {'reserved_msi_vectors': 0},
        [{'vif_type': 'tap', 'vnic_type': 'normal', 'model': 'virtio'}] * 3)
    assert [n.queues or 1 for n in fresh.nics] != [8, 8, expected]
    # The flavor enables multiqueue: Nova's rule makes the tap multiqueue
    # even where the plan leaves one queue.
    host_commands['create_tap_dev'].assert_called_once_with(
        new['devname'], None, multiqueue=True)


def test_hotplug_counts_running_nic_missing_from_network_info(
        drvr, host_commands):
    stale = make_vif(MACS[0])
    new = make_vif(MACS[1])
    instance = make_instance([new], {'hw:vif_multiqueue_enabled': 'true',
                                     'mq:msi_vector_budget': '40'})
    guest = start_guest(drvr, instance, [(stale, 8)])

    attach(drvr, instance, new)

    assert queues_by_mac(guest)[MACS[1]] == fitting_queues(40, [8], VCPUS)


def test_detach_finds_device_built_with_running_queues(drvr, host_commands):
    vifs = [make_vif(MACS[0]), make_vif(MACS[1])]
    instance = make_instance(vifs, {'hw:vif_multiqueue_enabled': 'true',
                                    'mq:max_queues': '2'})
    start_guest(drvr, instance, [(vifs[0], 8), (vifs[1], 6)])
    found = []

    def detach_with_retry(guest_, uuid_, get_dev, device_name):
        found.append((get_dev.args[0], get_dev()))

    with mock.patch.object(drvr, '_detach_with_retry',
                           side_effect=detach_with_retry), \
            mock.patch.object(drvr, '_get_guest_config_meta'), \
            mock.patch.object(drvr, 'get_instance_driver_metadata',
                              create=True):
        drvr.detach_interface(nova_context.get_admin_context(), instance,
                              vifs[1])

    (cfg, device), = found
    assert device is not None and device.mac_addr == MACS[1]
    # The flavor now caps at 2; the config is the running NIC's.
    assert cfg.vhost_queues == 6


# Live migration: the destination XML.

def _migrate_data(vifs):
    data = objects.LibvirtLiveMigrateData(
        block_migration=False, serial_listen_addr=None,
        graphics_listen_addr_vnc='127.0.0.1',
        graphics_listen_addr_spice='127.0.0.1', target_connect_addr=None,
        bdms=[], supported_perf_events=[], serial_listen_ports=[])
    data.vifs = migrate_data_obj.VIFMigrateData.create_skeleton_migrate_vifs(
        vifs)
    return bind_ports(data)


def bind_ports(data, vif_type='tap'):
    """The conductor's port bindings on the destination."""
    for mig_vif in data.vifs:
        mig_vif.vif_type = vif_type
        mig_vif.vnic_type = network_model.VNIC_TYPE_NORMAL
        mig_vif.profile = {}
        mig_vif.vif_details = {}
    return data


def test_migration_xml_keeps_running_queues_after_knob_change(
        drvr, host_commands):
    vifs = [make_vif(MACS[0]), make_vif(MACS[1])]
    instance = make_instance(vifs, {'hw:vif_multiqueue_enabled': 'true'})
    guest = start_guest(drvr, instance, [(vifs[0], 8), (vifs[1], 4)])
    # Since boot the flavor got a knob that would cut both NICs.
    instance.flavor.extra_specs['mq:max_queues'] = '2'
    assert xml_queues(interface_xml(drvr, instance, vifs[0], {})) == 2

    drvr._live_migration_operation(
        nova_context.get_admin_context(), instance, 'dest', False,
        _migrate_data(vifs), guest, [])

    dest_xml = guest._domain.migrate_params['destination_xml']
    assert {iface['mac']: iface['queues'] for iface in
            nova_mq.parse_domain(dest_xml)['interfaces']} == {
        MACS[0]: 8, MACS[1]: 4}


# Live migration: the pre-check, over the wire.

def wire(data):
    """The migrate data as RPC carries it: a primitive, as JSON."""
    primitive = jsonutils.loads(jsonutils.dumps(data.obj_to_primitive()))
    return objects.LibvirtLiveMigrateData.obj_from_primitive(primitive)


def nova_dest_check(self, context, instance, *args, **kwargs):
    """What Nova's own destination check returns, without its probes."""
    data = objects.LibvirtLiveMigrateData(block_migration=False)
    data.vifs = migrate_data_obj.VIFMigrateData.create_skeleton_migrate_vifs(
        instance.get_network_info())
    for mig_vif in data.vifs:
        mig_vif.supports_os_vif_delegation = True
    return data


def nova_source_check(self, context, instance, dest_check_data,
                      block_device_info=None):
    return dest_check_data


def prechecks(drvr, conf, instance, dest_max_queues):
    """Destination check, RPC, source check, RPC: the migrate data."""
    context = nova_context.get_admin_context()
    with mock.patch.object(nova_driver.LibvirtDriver,
                           'check_can_live_migrate_destination',
                           nova_dest_check), \
            mock.patch.object(nova_driver.LibvirtDriver,
                              'check_can_live_migrate_source',
                              nova_source_check):
        conf.config(max_queues=dest_max_queues, group='libvirt')
        conf.config(host='dest-host')
        dest_check_data = drvr.check_can_live_migrate_destination(
            context, instance, {}, {})
        conf.config(max_queues=None, group='libvirt')
        conf.config(host='source-host')
        result = drvr.check_can_live_migrate_source(
            context, instance, wire(dest_check_data))
    return wire(result)


def test_precheck_refuses_destination_below_running_queues(drvr, conf):
    vifs = [make_vif(MACS[0]), make_vif(MACS[1])]
    instance = make_instance(vifs, {'hw:vif_multiqueue_enabled': 'true'})
    start_guest(drvr, instance, [(vifs[0], 5), (vifs[1], 4)])

    with pytest.raises(nova_exception.MigrationPreCheckError) as caught:
        prechecks(drvr, conf, instance, dest_max_queues=4)

    message = str(caught.value)
    assert 'dest-host' in message
    assert 'at most 4 queues' in message
    assert '[libvirt]max_queues = 4' in message
    assert '%s (5 queues)' % MACS[0] in message
    assert 'allows 5 queues' in message
    assert MACS[1] not in message
    assert instance.uuid in message


def test_precheck_accepts_adequate_destination_and_sends_queues(
        drvr, conf, host_commands):
    vifs = [make_vif(MACS[0]), make_vif(MACS[1])]
    instance = make_instance(vifs, {'hw:vif_multiqueue_enabled': 'true'})
    start_guest(drvr, instance, [(vifs[0], 8), (vifs[1], 1)])

    data = prechecks(drvr, conf, instance, dest_max_queues=8)

    metas = [bind_ports(wire(data)).vifs[i].get_dest_vif()['meta'][
        mq_driver.MIGRATE_META_KEY] for i in range(2)]
    assert [m['running_queues'] for m in metas] == [8, 1]
    assert {m['dest_tap_queue_cap'] for m in metas} == {8}
    assert {m['dest_host'] for m in metas} == {'dest-host'}
    # The instance's own network info is not changed on the destination.
    assert all(mq_driver.MIGRATE_META_KEY not in v['meta'] for v in vifs)

    # Destination: pre_live_migration plugs taps for the running queues,
    # even though the flavor there no longer enables multiqueue.
    instance.flavor.extra_specs = {'hw:vif_multiqueue_enabled': 'false'}
    bind_ports(data)

    def nova_pre_live_migration(self, context, instance, block_device_info,
                                network_info, disk_info, migrate_data):
        self._pre_live_migration_plug_vifs(instance, network_info,
                                           migrate_data)
        return migrate_data

    with mock.patch.object(nova_driver.LibvirtDriver, 'pre_live_migration',
                           nova_pre_live_migration):
        drvr.pre_live_migration(nova_context.get_admin_context(), instance,
                                None, vifs, None, wire(data))
    calls = host_commands['create_tap_dev'].call_args_list
    assert [c.kwargs['multiqueue'] for c in calls] == [True, False]


def test_migrate_data_channel_survives_round_trips(drvr, conf):
    vifs = [make_vif(MACS[0])]
    instance = make_instance(vifs, {})
    start_guest(drvr, instance, [(vifs[0], 4)])
    data = prechecks(drvr, conf, instance, dest_max_queues=16)

    again = bind_ports(wire(wire(data)))

    assert again.vifs[0].source_vif['meta'] == data.vifs[0].source_vif[
        'meta']
    assert again.vifs[0].get_dest_vif()['meta'][
        mq_driver.MIGRATE_META_KEY] == {
        'dest_host': 'dest-host', 'dest_tap_queue_cap': 16,
        'dest_tap_queue_cap_from': '[libvirt]max_queues = 16',
        'running_queues': 4}


@pytest.mark.parametrize('kernel', ['2.6.32', '3.10.0-1160.el7.x86_64',
                                    '4.19.0', '6.1.0-18-amd64'])
@pytest.mark.parametrize('max_queues', [None, 4, 300])
def test_tap_cap_is_the_engines_rule(kernel, max_queues):
    cap, origin = mq_driver.host_tap_queue_cap(max_queues or 0, kernel)
    plan = nova_mq.plan_guest(
        512, {'hw:vif_multiqueue_enabled': 'true'}, {}, 'kvm',
        {'kernel_release': kernel},
        {'max_queues': max_queues, 'msi_vector_budget': 100000},
        [{'vif_type': 'tap', 'vnic_type': 'normal', 'model': 'virtio'}])
    assert (plan.nics[0].queues or 1) == min(cap, 256)
    assert (kernel in origin) == (max_queues is None)


# Plugging.

@pytest.mark.parametrize('specs,profile,expected', [
    ({}, {}, False),                                  # Nova: no multiqueue
    ({}, {'mq_queues': '4'}, True),                   # port opt-in
    ({}, {'mq_throughput': 'low'}, False),            # opt-in, 1 queue
    ({'mq:throughput': 'medium'}, {'mq_queues': 2}, True),
    ({'hw:vif_multiqueue_enabled': 'true'}, {}, True),
    # Nova's rule says multiqueue; the plan's single queue keeps it.
    ({'hw:vif_multiqueue_enabled': 'true'}, {'mq_queues': 1}, True),
    ({'hw:vif_multiqueue_enabled': 'false'}, {'mq_queues': 4}, False),
])
def test_plug_tap_multiqueue_follows_plan(drvr, host_commands, specs,
                                          profile, expected):
    vif = make_vif(MACS[0], profile=profile,
                   details={network_model.VIF_DETAILS_TAP_MAC_ADDRESS:
                            MACS[0]})
    instance = make_instance([vif], specs)

    drvr.plug_vifs(instance, instance.get_network_info())

    host_commands['create_tap_dev'].assert_called_once_with(
        vif['devname'], MACS[0], multiqueue=expected)


def test_plug_tap_user_error_fails_like_get_config(drvr, host_commands):
    vif = make_vif(MACS[0])
    instance = make_instance([vif], {'mq:max_queues': '0'})

    with pytest.raises(mq_exception.InvalidMultiqueueValue):
        drvr.plug_vifs(instance, [vif])
    assert not host_commands['create_tap_dev'].called


@pytest.mark.parametrize('profile,expected', [
    ({'mq_queues': 4}, True), ({}, False)])
def test_plug_os_vif_create_tap(drvr, host_commands, profile, expected):
    details = {getattr(network_model, 'VIF_DETAILS_OVS_CREATE_TAP',
                       'ovs_create_tap'): True}
    vif = make_vif(MACS[0], vif_type='ovs', profile=profile,
                   details=details)
    instance = make_instance([vif], {})

    drvr.plug_vifs(instance, [vif])

    (osv_vif, _info), _ = host_commands['os_vif_plug'].call_args
    port_profile = osv_vif.port_profile
    fields = osv_objects.vif.VIFPortProfileOpenVSwitch.fields
    if 'create_tap' in fields:
        # Nova 2025.2+ with os-vif that creates the tap.
        assert port_profile.create_tap is True
        assert port_profile.multiqueue is expected
    else:
        # Debian's Zed: os-vif never creates the tap; nothing to set.
        assert 'multiqueue' not in fields
        assert osv_vif.address == MACS[0]


# Safety: internal errors fall back to Nova's behaviour.

def test_hotplug_internal_error_falls_back(drvr, host_commands, caplog):
    running = make_vif(MACS[0])
    new = make_vif(MACS[1])
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    instance = make_instance([running, new], specs)
    guest = start_guest(drvr, instance, [(running, 8)])

    with mock.patch.object(mq_driver.nova_mq, 'parse_domain',
                           side_effect=RuntimeError('reader bug')), \
            caplog.at_level(logging.WARNING):
        attach(drvr, instance, new)

    assert MACS[1] in queues_by_mac(guest)
    records = [r for r in caplog.records if 'nova-mq could not' in
               r.getMessage()]
    assert records and records[0].exc_info[0] is RuntimeError


def test_plug_tap_internal_error_uses_nova_rule(drvr, host_commands,
                                                caplog):
    vif = make_vif(MACS[0], profile={'mq_queues': 4})
    instance = make_instance([vif], {'hw:vif_multiqueue_enabled': 'true'})

    with mock.patch.object(mq_vif.nova_mq, 'plan_guest',
                           side_effect=RuntimeError('engine bug')), \
            caplog.at_level(logging.WARNING):
        drvr.plug_vifs(instance, [vif])

    host_commands['create_tap_dev'].assert_called_once_with(
        vif['devname'], None, multiqueue=True)  # Nova's rule: flavor
    assert any(r.exc_info and r.exc_info[0] is RuntimeError
               for r in caplog.records)


def test_precheck_internal_error_allows_migration(drvr, conf, caplog):
    vifs = [make_vif(MACS[0])]
    instance = make_instance(vifs, {'hw:vif_multiqueue_enabled': 'true'})
    start_guest(drvr, instance, [(vifs[0], 8)])

    with mock.patch.object(mq_driver.nova_mq, 'parse_domain',
                           side_effect=RuntimeError('reader bug')), \
            caplog.at_level(logging.WARNING):
        data = prechecks(drvr, conf, instance, dest_max_queues=2)

    assert 'running_queues' not in data.vifs[0].source_vif['meta'][
        mq_driver.MIGRATE_META_KEY]
    assert any(r.exc_info and r.exc_info[0] is RuntimeError
               for r in caplog.records)
