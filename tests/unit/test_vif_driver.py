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
"""nova_mq.vif: MultiqueueVIFDriver.

Nova's stock LibvirtGenericVIFDriver is the oracle.  With no nova-mq knob
set, get_config() gives the same XML (or raises the same Nova exception)
for every VIF type and vNIC type Nova has; the knobs take effect; the
plan is per guest; user errors fail as Nova fails and name the key and
value; an internal error falls back to Nova's result with a warning; the
config is Nova's own object, and Nova's device lookup finds it.
"""

import itertools
import logging
import os
from unittest import mock
import uuid

from lxml import etree
from nova import exception as nova_exception
from nova.network import model as network_model
from nova import objects
from nova import utils as nova_utils
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import guest as libvirt_guest
from nova.virt.libvirt import vif as nova_vif
from oslo_config import fixture as config_fixture
import os_vif
import pytest

import nova.conf
import nova_mq
from nova_mq import _engine
from nova_mq import exception as mq_exception
from nova_mq import vif as mq_vif

from testlib import fill_template
from testlib import qbg_kwargs

CONF = nova.conf.CONF
objects.register_all()
os_vif.objects.register_all()

INSTANCE_UUID = 'a3b7e9d2-5b1e-4c1f-8f0e-2d6c1b0a9e11'
KERNEL = os.uname_result(('Linux', 'compute-1', '6.1.0-18-amd64', '#1 SMP',
                          'x86_64'))

#: Details and profile for each VIF type: what its code path reads.
DETAILS = {
    network_model.VIF_TYPE_OVS: {'port_filter': True,
                                 'ovs_hybrid_plug': False},
    network_model.VIF_TYPE_AGILIO_OVS: {
        'port_filter': False,
        network_model.VIF_DETAILS_VHOSTUSER_MODE: 'client',
        network_model.VIF_DETAILS_VHOSTUSER_SOCKET: '/tmp/usv-%(n)s',
        network_model.VIF_DETAILS_VHOSTUSER_OVS_PLUG: True},
    network_model.VIF_TYPE_BRIDGE: {'port_filter': True},
    network_model.VIF_TYPE_VHOSTUSER: {
        network_model.VIF_DETAILS_VHOSTUSER_MODE: 'server',
        network_model.VIF_DETAILS_VHOSTUSER_SOCKET: '/var/run/ovs/vhu%(n)s',
        network_model.VIF_DETAILS_VHOSTUSER_OVS_PLUG: True},
    network_model.VIF_TYPE_VROUTER: {
        network_model.VIF_DETAILS_VHOSTUSER_MODE: 'server',
        network_model.VIF_DETAILS_VHOSTUSER_SOCKET: '/var/run/vr/uvh%(n)s',
        network_model.VIF_DETAILS_VHOSTUSER_VROUTER_PLUG: True},
    network_model.VIF_TYPE_MACVTAP: {
        network_model.VIF_DETAILS_PHYS_INTERFACE: 'eth0',
        network_model.VIF_DETAILS_MACVTAP_SOURCE: 'eth0.100',
        network_model.VIF_DETAILS_MACVTAP_MODE: 'vepa',
        network_model.VIF_DETAILS_VLAN: 100},
    network_model.VIF_TYPE_HW_VEB: {network_model.VIF_DETAILS_VLAN: 100},
    network_model.VIF_TYPE_IB_HOSTDEV: {network_model.VIF_DETAILS_VLAN: 100},
    network_model.VIF_TYPE_802_QBH: {
        network_model.VIF_DETAILS_PROFILEID: 'MyPortProfile'},
}
PROFILE = {'pci_slot': '0000:0a:00.%(f)s', 'pci_vendor_info': '8086:154c',
           'physical_network': 'physnet1'}

#: Every VIF type and vNIC type Nova names.
VIF_TYPES = sorted(v for k, v in vars(network_model).items()
                   if k.startswith('VIF_TYPE_'))
VNIC_TYPES = sorted(v for k, v in vars(network_model).items()
                    if k.startswith('VNIC_TYPE_'))


def make_vif(vif_type=network_model.VIF_TYPE_OVS,
             vnic_type=network_model.VNIC_TYPE_NORMAL, n=1, profile=None,
             mac=None):
    port = str(uuid.UUID(int=0x2000 + n))
    network = network_model.Network(
        id=str(uuid.UUID(int=9)), bridge='br-int', label='private',
        subnets=[network_model.Subnet(
            cidr='10.1.0.0/24', ips=[network_model.FixedIP(
                address='10.1.0.%d' % (10 + n))])],
        interface='eth0', vlan=100, mtu=1450, meta={'mtu': 1450})
    kwargs = qbg_kwargs(vif_type, INSTANCE_UUID)
    return network_model.VIF(
        id=port, address=mac or 'fa:16:3e:01:00:%02x' % n, type=vif_type,
        vnic_type=vnic_type,
        details=fill_template(DETAILS.get(vif_type, {}), n),
        profile=dict(fill_template(PROFILE, n), **(profile or {})),
        network=network,
        devname=('tap' + port)[:14], ovs_interfaceid=port, active=True,
        **kwargs)


def make_flavor(vcpus=4, **extra_specs):
    return objects.Flavor(id=3, flavorid='m1.vif', name='m1.vif',
                          vcpus=vcpus, memory_mb=1024, root_gb=1,
                          ephemeral_gb=0, swap=0,
                          extra_specs=dict(extra_specs))


def make_instance(vifs=None, flavor=None):
    instance = objects.Instance(uuid=INSTANCE_UUID, display_name='vif',
                                project_id='p', flavor=flavor or
                                make_flavor())
    if vifs is not None:
        instance.info_cache = objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo(vifs))
    return instance


def make_image(**properties):
    return objects.ImageMeta.from_dict({'name': 'cirros', 'properties':
                                        properties})


@pytest.fixture
def conf():
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    yield fixture
    fixture.cleanUp()


@pytest.fixture
def host():
    """What get_config reads from the host, as Nova's tests mock it."""
    fake_host = mock.Mock()
    fake_host.get_vdpa_device_path.side_effect = (
        lambda addr: '/dev/vhost-vdpa-%s' % addr[-1])
    with mock.patch('os.uname', return_value=KERNEL), \
            mock.patch('nova.pci.utils.get_ifname_by_pci_address',
                       return_value='enp3s0f1'):
        yield fake_host


def drivers(host):
    return (nova_vif.LibvirtGenericVIFDriver(host),
            mq_vif.MultiqueueVIFDriver(host))


def outcome(driver, instance, vif, image, flavor, virt_type):
    """(kind, XML) of get_config, or (exception type, message)."""
    try:
        conf = driver.get_config(instance, vif, image, flavor, virt_type)
    except Exception as e:
        return type(e), str(e)
    if isinstance(conf, vconfig.LibvirtConfigGuestInterface):
        return 'interface', conf.to_xml()
    return type(conf).__name__, conf.to_xml()


# get_config: the same as Nova without knobs.

FLAVORS = [
    ('unset', {}, 4),
    ('on', {'hw:vif_multiqueue_enabled': 'true'}, 4),
    ('on-1vcpu', {'hw:vif_multiqueue_enabled': 'true'}, 1),
    ('off', {'hw:vif_multiqueue_enabled': 'false'}, 4),
    ('on-packed', {'hw:vif_multiqueue_enabled': 'true',
                   'hw:virtio_packed_ring': 'true'}, 8),
]


@pytest.fixture(params=[False, True], ids=['debug-off', 'debug-on'])
def nova_debug(request):
    """Nova's vif module logging at debug level, or not."""
    logger = logging.getLogger(nova_vif.__name__)
    level = logger.level
    logger.setLevel(logging.DEBUG if request.param else logging.INFO)
    assert nova_vif.LOG.isEnabledFor(logging.DEBUG) is request.param
    yield request.param
    logger.setLevel(level)


@pytest.mark.parametrize('virt_type', ['kvm', 'qemu', 'parallels', 'lxc'])
@pytest.mark.parametrize('name,specs,vcpus', FLAVORS)
def test_every_vif_and_vnic_type_same_as_nova(conf, host, nova_debug,
                                              virt_type, name, specs, vcpus):
    """Every VIF type x vNIC type Nova names, supported or not.

    Also with image NIC models the virt type does not support, where Nova
    checks the model only for the NICs whose code path reaches
    get_base_config(), after its own checks of the VIF type.
    """
    conf.config(virt_type=virt_type, group='libvirt')
    stock, mine = drivers(host)
    flavor = make_flavor(vcpus, **specs)
    built = set()
    for model, n, (vif_type, vnic_type) in (
            (m, n, pair) for m in (None, 'e1000', 'lan9118')
            for n, pair in enumerate(itertools.product(VIF_TYPES,
                                                       VNIC_TYPES))):
        image = make_image(hw_vif_model=model) if model else make_image()
        vif = make_vif(vif_type, vnic_type, n)
        instance = make_instance([vif], flavor)
        expected = outcome(stock, instance, vif, image, flavor, virt_type)
        got = outcome(mine, instance, vif, image, flavor, virt_type)
        assert got == expected, (model, vif_type, vnic_type)
        if isinstance(expected[0], str) and model is None:
            built.add((vif_type, vnic_type))
    # Not vacuous: Nova's main paths built an interface here.
    for vif_type in ('ovs', 'vhostuser', 'tap', 'macvtap', 'hw_veb',
                     '802.1qbg', '802.1qbh', 'agilio_ovs', 'vrouter',
                     'iovisor', 'midonet'):
        assert any(t == vif_type for t, _ in built) or virt_type == 'lxc', (
            vif_type)
    if virt_type == 'kvm':
        for pair in (('ovs', 'normal'), ('ovs', 'direct'), ('ovs', 'vdpa'),
                     ('ovs', 'remote-managed'), ('vhostuser', 'normal'),
                     ('vhostuser', 'virtio-forwarder'), ('hw_veb', 'direct'),
                     ('hw_veb', 'macvtap'), ('tap', 'normal'),
                     ('ib_hostdev', 'direct'),
                     ('hostdev_physical', 'direct-physical')):
            assert pair in built, pair


def test_novas_debug_line_as_nova_writes_it(host, caplog, nova_debug):
    """Nova's get_config() makes repr(instance) for its debug line; with
    nova-mq it is Nova's get_config() that runs, so the line (and the repr)
    are Nova's, with debug logging on or off."""
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true'})
    image = make_image()

    def run(driver, vif_type):
        vif = make_vif(vif_type)
        instance = make_instance([vif], flavor)
        caplog.clear()
        with mock.patch('nova.utils.get_obj_repr_unicode',
                        wraps=nova_utils.get_obj_repr_unicode) as spy:
            xml = driver.get_config(instance, vif, image, flavor,
                                    'kvm').to_xml()
        lines = [r.getMessage() for r in caplog.records
                 if r.name == nova_vif.__name__ and
                 r.getMessage().startswith('vif_type=')]
        return xml, spy.call_count, lines

    for vif_type in ('ovs', 'vhostuser', 'tap'):
        expected = run(stock, vif_type)
        assert expected[1] == 1
        assert len(expected[2]) == (1 if nova_debug else 0)
        assert run(mine, vif_type) == expected, vif_type


@pytest.mark.parametrize('options', [
    {'rx_queue_size': 1024}, {'rx_queue_size': 512, 'tx_queue_size': 1024},
    {'max_queues': 2}, {'max_queues': 1}])
def test_libvirt_options_same_as_nova(conf, host, options):
    conf.config(group='libvirt', **options)
    stock, mine = drivers(host)
    for specs, vcpus in (({}, 4), ({'hw:vif_multiqueue_enabled': 'yes'}, 4),
                         ({'hw:vif_multiqueue_enabled': 'yes'}, 1)):
        flavor = make_flavor(vcpus, **specs)
        for n, (vif_type, vnic_type) in enumerate([
                ('ovs', 'normal'), ('vhostuser', 'normal'), ('tap', 'normal'),
                ('macvtap', 'normal'), ('hw_veb', 'macvtap'),
                ('vhostuser', 'virtio-forwarder'), ('ovs', 'vdpa')]):
            vif = make_vif(vif_type, vnic_type, n)
            instance = make_instance([vif], flavor)
            assert outcome(mine, instance, vif, make_image(), flavor,
                           'kvm') == outcome(stock, instance, vif,
                                             make_image(), flavor, 'kvm')


@pytest.mark.parametrize('kernel,vcpus', [('2.6.32', 4), ('3.10.0', 16),
                                          ('4.18.0', 300), ('6.1.0', 8)])
def test_host_kernel_same_as_nova(host, kernel, vcpus):
    stock, mine = drivers(host)
    flavor = make_flavor(vcpus, **{'hw:vif_multiqueue_enabled': 'true'})
    vif = make_vif()
    instance = make_instance([vif], flavor)
    with mock.patch('os.uname', return_value=os.uname_result(
            ('Linux', 'h', kernel, '#1', 'x86_64'))):
        assert outcome(mine, instance, vif, make_image(), flavor,
                       'kvm') == outcome(stock, instance, vif, make_image(),
                                         flavor, 'kvm')


def test_image_properties_same_as_nova(host):
    stock, mine = drivers(host)
    for specs, props in (
            ({}, {'hw_vif_multiqueue_enabled': True}),
            ({}, {'hw_vif_multiqueue_enabled': False}),
            ({'hw:vif_multiqueue_enabled': 'true'},
             {'hw_vif_multiqueue_enabled': True}),
            ({'hw:vif_multiqueue_enabled': 'false'},
             {'hw_vif_multiqueue_enabled': True}),
            ({}, {'hw_vif_model': 'e1000'}),
            ({'hw:vif_multiqueue_enabled': 'true'},
             {'hw_vif_model': 'virtio'}),
            ({}, {'hw_vif_model': 'lan9118'}),
            ({'hw:virtio_packed_ring': 'true'},
             {'hw_virtio_packed_ring': True})):
        flavor = make_flavor(4, **specs)
        for vif_type in ('ovs', 'vhostuser', 'tap'):
            vif = make_vif(vif_type)
            instance = make_instance([vif], flavor)
            image = make_image(**props)
            assert outcome(mine, instance, vif, image, flavor, 'kvm') == (
                outcome(stock, instance, vif, image, flavor, 'kvm')), (
                    specs, props, vif_type)


def test_uppercase_mac_same_as_nova(host):
    """os-vif lower-cases the MAC it hands get_base_config()."""
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true'})
    for vif_type in ('ovs', 'vhostuser', 'tap'):
        vif = make_vif(vif_type, mac='FA:16:3E:0A:0B:0C')
        instance = make_instance([vif], flavor)
        got = outcome(mine, instance, vif, make_image(), flavor, 'kvm')
        assert got == outcome(stock, instance, vif, make_image(), flavor,
                              'kvm'), vif_type
        assert 'queues="4"' in got[1]


def test_flavor_without_extra_specs_same_as_nova(host):
    """Nova reads a flavor's unset extra_specs as {} (no lazy load)."""
    stock, mine = drivers(host)
    flavor = objects.Flavor(vcpus=2)
    vif = make_vif('tap')
    instance = objects.Instance(uuid=INSTANCE_UUID)
    assert outcome(mine, instance, vif, make_image(), flavor, 'kvm') == (
        outcome(stock, instance, vif, make_image(), flavor, 'kvm'))


def test_image_meta_as_dict_same_as_nova(host):
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true'})
    vif = make_vif()
    instance = make_instance([vif], flavor)
    image = {'properties': {'hw_vif_model': 'virtio'}}
    assert outcome(mine, instance, vif, image, flavor, 'kvm') == (
        outcome(stock, instance, vif, image, flavor, 'kvm'))


# Knobs take effect.

def queues_of(xml):
    driver = etree.fromstring(xml).find('driver')
    queues = driver.get('queues') if driver is not None else None
    return int(queues) if queues else 1


def config_xml(driver, vif, flavor, vifs=None, image=None):
    instance = make_instance(vifs if vifs is not None else [vif], flavor)
    return driver.get_config(instance, vif, image or make_image(), flavor,
                             'kvm').to_xml()


@pytest.mark.parametrize('value', ['5', 5])
def test_port_mq_queues(host, value):
    stock, mine = drivers(host)
    flavor = make_flavor(8)
    vif = make_vif(profile={'mq_queues': value})
    xml = config_xml(mine, vif, flavor)
    assert queues_of(xml) == 5
    assert '<driver name="vhost" queues="5"/>' in xml
    # Nova without the knob: single queue; otherwise the same document.
    plain = config_xml(stock, vif, flavor)
    assert xml.replace('  <driver name="vhost" queues="5"/>\n', '') == (
        plain)


@pytest.mark.parametrize('value', ['1', 1])
def test_port_mq_queues_one_is_nova_single_queue(host, value):
    stock, mine = drivers(host)
    flavor = make_flavor(8, **{'hw:vif_multiqueue_enabled': 'true'})
    vif = make_vif(profile={'mq_queues': value})
    xml = config_xml(mine, vif, flavor)
    assert 'queues' not in xml
    assert xml == config_xml(stock, vif, make_flavor(8))


@pytest.mark.parametrize('level,expected', [('high', 8), ('medium', 4),
                                            ('low', 1)])
def test_flavor_throughput(host, level, expected):
    _, mine = drivers(host)
    flavor = make_flavor(8, **{'hw:vif_multiqueue_enabled': 'true',
                               'mq:throughput': level})
    assert queues_of(config_xml(mine, make_vif(), flavor)) == expected


def test_port_throughput_over_flavor(host):
    _, mine = drivers(host)
    flavor = make_flavor(8, **{'hw:vif_multiqueue_enabled': 'true',
                               'mq:throughput': 'low'})
    vif = make_vif(profile={'mq_throughput': 'medium'})
    assert queues_of(config_xml(mine, vif, flavor)) == 4


@pytest.mark.parametrize('max_queues,expected', [('3', 3), ('1', 1),
                                                 ('256', 16)])
def test_flavor_max_queues(host, max_queues, expected):
    _, mine = drivers(host)
    flavor = make_flavor(16, **{'hw:vif_multiqueue_enabled': 'true',
                                'mq:max_queues': max_queues})
    assert queues_of(config_xml(mine, make_vif(), flavor)) == expected


def test_vhostuser_knob(host):
    _, mine = drivers(host)
    vif = make_vif('vhostuser', profile={'mq_queues': '3'})
    xml = config_xml(mine, vif, make_flavor(4))
    assert etree.fromstring(xml).get('type') == 'vhostuser'
    assert queues_of(xml) == 3


def test_knobs_ignored_where_nova_has_no_queues(host):
    """Passthrough, non-virtio and 1-vCPU NICs: Nova's config, knob or not."""
    stock, mine = drivers(host)
    knob = {'mq_queues': '4'}
    for vif, flavor, image in (
            (make_vif('hw_veb', 'direct', profile=knob), make_flavor(4),
             make_image()),
            (make_vif('ovs', 'vdpa', profile=knob), make_flavor(4),
             make_image()),
            (make_vif(profile=knob), make_flavor(4),
             make_image(hw_vif_model='e1000')),
            (make_vif(profile=knob), make_flavor(1), make_image())):
        plain = dict(vif, profile={k: v for k, v in vif['profile'].items()
                                   if k != 'mq_queues'})
        assert config_xml(mine, vif, flavor, image=image) == config_xml(
            stock, network_model.VIF(**plain), flavor, image=image)


# The plan is per guest.

def test_same_queues_alone_or_in_guest_context(host):
    """One NIC's queues do not depend on which code path asks."""
    _, mine = drivers(host)
    flavor = make_flavor(16, **{'hw:vif_multiqueue_enabled': 'true',
                                'mq:msi_vector_budget': str(128 + 60)})
    vifs = [make_vif(t, n=n) for n, t in enumerate(
        ['ovs', 'vhostuser', 'tap', 'ovs', 'tap'])]
    instance = make_instance(vifs, flavor)
    image = make_image()

    def queues(vif):
        return queues_of(mine.get_config(instance, vif, image, flavor,
                                         'kvm').to_xml())

    alone = [queues(v) for v in vifs]
    with mq_vif.guest_context(network_info=vifs):
        in_context = [queues(v) for v in vifs]
    with mq_vif.guest_context(network_info=list(reversed(vifs))):
        # Order matters only for ties; the same NICs, the same budget.
        reverse = [queues(v) for v in vifs]
    assert alone == in_context
    assert sum(2 * q + 2 for q in alone) <= 60
    assert sorted(reverse) == sorted(alone)
    # The budget spans the NICs: one NIC by itself gets all 16.
    single = make_instance([vifs[0]], flavor)
    assert queues_of(mine.get_config(single, vifs[0], image, flavor,
                                     'kvm').to_xml()) == 16
    assert alone[0] < 16


def test_guest_context_plans_once(host):
    _, mine = drivers(host)
    flavor = make_flavor(8, **{'hw:vif_multiqueue_enabled': 'true'})
    vifs = [make_vif(n=n) for n in range(4)]
    instance = make_instance(vifs, flavor)
    image = make_image()
    with mock.patch.object(nova_mq, 'plan_guest',
                           wraps=nova_mq.plan_guest) as plan:
        with mq_vif.guest_context(network_info=vifs):
            for vif in vifs:
                mine.get_config(instance, vif, image, flavor, 'kvm')
    assert plan.call_count == 1


def test_vif_not_in_network_info_is_planned_with_the_guest(host):
    """attach_interface: the new VIF is added to the guest's NICs."""
    _, mine = drivers(host)
    flavor = make_flavor(16, **{'hw:vif_multiqueue_enabled': 'true',
                                'mq:msi_vector_budget': str(128 + 40)})
    vifs = [make_vif(n=n) for n in range(3)]
    new = make_vif(n=9)
    instance = make_instance(vifs, flavor)
    xml = mine.get_config(instance, new, make_image(), flavor,
                          'kvm').to_xml()
    # 4 NICs in 40 vectors: 8q+8 <= 40 -> 4 queues each.
    assert queues_of(xml) == 4


# User errors: Nova exceptions naming key and value.

@pytest.mark.parametrize('specs,profile,key,value', [
    ({'hw:vif_multiqueue_enabled': 'maybe'}, {}, 'hw:vif_multiqueue_enabled',
     'maybe'),
    ({}, {'mq_queues': -3}, 'mq_queues', '-3'),
    ({}, {'mq_queues': '-3'}, 'mq_queues', '-3'),
    ({}, {'mq_queues': 'four'}, 'mq_queues', 'four'),
    ({'mq:throughput': 'fast'}, {}, 'mq:throughput', 'fast'),
    ({}, {'mq_throughput': 'fast'}, 'mq_throughput', 'fast'),
    ({'mq:max_queues': '0'}, {}, 'mq:max_queues', '0'),
    ({'mq:max_queues': '257'}, {}, 'mq:max_queues', '257'),
    ({'mq:msi_vector_budget': 'lots'}, {}, 'mq:msi_vector_budget', 'lots'),
    ({}, {'mq_queues': '2', 'mq_throughput': 'low'}, 'mq_queues', '2'),
])
def test_invalid_values_raise_nova_invalid(host, caplog, specs, profile,
                                           key, value):
    _, mine = drivers(host)
    flavor = make_flavor(4, **specs)
    vif = make_vif(profile=profile)
    with pytest.raises(nova_exception.Invalid) as raised:
        config_xml(mine, vif, flavor)
    assert isinstance(raised.value, mq_exception.InvalidMultiqueueValue)
    assert isinstance(raised.value, nova_exception.NovaException)
    message = str(raised.value)
    assert key in message and value in message, message
    # Not the internal-error fallback.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_flavor_image_conflict_is_novas(host):
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'false'})
    image = make_image(hw_vif_multiqueue_enabled=True)
    vif = make_vif()
    instance = make_instance([vif], flavor)
    with pytest.raises(nova_exception.FlavorImageConflict) as nova_err:
        stock.get_config(instance, vif, image, flavor, 'kvm')
    with pytest.raises(nova_exception.FlavorImageConflict) as mine_err:
        mine.get_config(instance, vif, image, flavor, 'kvm')
    assert str(mine_err.value) == str(nova_err.value)
    assert 'hw:vif_multiqueue_enabled' in str(mine_err.value)


def test_error_on_another_nic_of_the_guest_fails_this_one(host):
    """The plan is per guest: a bad port anywhere fails the guest."""
    _, mine = drivers(host)
    flavor = make_flavor(4)
    good, bad = make_vif(n=1), make_vif(n=2, profile={'mq_queues': '-3'})
    instance = make_instance([good, bad], flavor)
    with pytest.raises(mq_exception.InvalidMultiqueueValue) as raised:
        mine.get_config(instance, good, make_image(), flavor, 'kvm')
    assert 'mq_queues' in str(raised.value)


# An internal error: Nova's result, a warning with the traceback.

def test_internal_error_falls_back_to_nova(host, caplog):
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true',
                               'mq:throughput': 'low'})
    vif = make_vif(profile={'mq_queues': '2'})
    instance = make_instance([vif], flavor)
    caplog.set_level(logging.DEBUG, logger='nova_mq.vif')
    with mock.patch.object(nova_mq, 'plan_guest',
                           side_effect=RuntimeError('engine bug')):
        conf = mine.get_config(instance, vif, make_image(), flavor, 'kvm')
    # Nova's own queues (4 vCPUs), not the knobs'.
    assert conf.to_xml() == stock.get_config(
        instance, vif, make_image(), flavor, 'kvm').to_xml()
    assert queues_of(conf.to_xml()) == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    record = warnings[0]
    assert record.name == 'nova_mq.vif'
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert vif['address'] in record.getMessage()
    assert INSTANCE_UUID in record.getMessage()
    assert 'engine bug' in caplog.text


@pytest.mark.parametrize('error', [KeyError('x'), TypeError('x'),
                                   ValueError('x'), _engine.Error('x')])
def test_any_internal_error_falls_back(host, caplog, error):
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true'})
    vif = make_vif()
    instance = make_instance([vif], flavor)
    with mock.patch.object(nova_mq, 'plan_guest', side_effect=error):
        got = outcome(mine, instance, vif, make_image(), flavor, 'kvm')
    assert got == outcome(stock, instance, vif, make_image(), flavor, 'kvm')
    assert [r for r in caplog.records if r.levelno == logging.WARNING]


def test_fallback_keeps_novas_own_errors(host):
    """With the engine down, Nova's own checks still apply."""
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'false'})
    image = make_image(hw_vif_multiqueue_enabled=True)
    vif = make_vif()
    instance = make_instance([vif], flavor)
    with mock.patch.object(nova_mq, 'plan_guest',
                           side_effect=RuntimeError('engine bug')):
        with pytest.raises(nova_exception.FlavorImageConflict):
            mine.get_config(instance, vif, image, flavor, 'kvm')
    with pytest.raises(nova_exception.FlavorImageConflict):
        stock.get_config(instance, vif, image, flavor, 'kvm')


# The decision log.

def test_debug_line_per_nic_with_uuid_and_reasons(host, caplog):
    _, mine = drivers(host)
    flavor = make_flavor(8, **{'mq:max_queues': '3'})
    vifs = [make_vif(n=1, profile={'mq_queues': '6'}), make_vif(n=2),
            make_vif('hw_veb', 'direct', n=3)]
    instance = make_instance(vifs, flavor)
    caplog.set_level(logging.DEBUG, logger='nova_mq.vif')
    with mq_vif.guest_context(network_info=vifs):
        for vif in vifs:
            mine.get_config(instance, vif, make_image(), flavor, 'kvm')
    lines = [r.getMessage() for r in caplog.records
             if r.name == 'nova_mq.vif' and r.levelno == logging.DEBUG]
    assert len(lines) == 3
    for line, vif in zip(lines, vifs):
        assert INSTANCE_UUID in line and vif['address'] in line
    assert 'queues=3' in lines[0]
    assert 'enabled-by-port' in lines[0] and 'port-queues' in lines[0]
    assert 'capped-by-flavor-max-queues' in lines[0]
    assert 'not-requested' in lines[1]
    assert 'passthrough-vnic' in lines[2]
    # The guest's vectors: 2 x 3 + 2 and 3 (the single-queue virtio NIC).
    assert "11/" in lines[0]


def test_no_debug_work_when_debug_is_off(host, caplog):
    _, mine = drivers(host)
    caplog.set_level(logging.INFO, logger='nova_mq.vif')
    config_xml(mine, make_vif(), make_flavor(4))
    assert not [r for r in caplog.records if r.name == 'nova_mq.vif']


# The configs are Nova's own objects.

def test_get_config_returns_novas_own_classes(host):
    """Nova's own config classes: Nova's code (device lookup by type,
    equality, parsing, XML) treats them as it treats its own."""
    stock, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true'})
    for n, (vif_type, vnic_type) in enumerate([
            ('ovs', 'normal'), ('vhostuser', 'normal'), ('tap', 'normal'),
            ('macvtap', 'normal'), ('hw_veb', 'direct'),
            ('hostdev_physical', 'direct-physical')]):
        vif = make_vif(vif_type, vnic_type, n)
        instance = make_instance([vif], flavor)
        got = mine.get_config(instance, vif, make_image(), flavor, 'kvm')
        want = stock.get_config(instance, vif, make_image(), flavor, 'kvm')
        assert type(got) is type(want), vif_type
        assert type(got).__module__ == vconfig.__name__
        assert got == want and got.to_xml() == want.to_xml()


# Nova's device lookup finds nova-mq's config.

class FakeDomain(object):

    def __init__(self, ifaces):
        self.ifaces = ifaces

    def XMLDesc(self, flags=0):
        return ('<domain type="kvm"><name>instance-00000001</name>'
                '<uuid>%s</uuid><devices>%s</devices></domain>' % (
                    INSTANCE_UUID, ''.join(self.ifaces)))


def test_guest_get_interface_by_cfg_finds_nova_mq_config(host):
    _, mine = drivers(host)
    flavor = make_flavor(4, **{'hw:vif_multiqueue_enabled': 'true'})
    vifs = [make_vif(t, n=n, profile={'mq_queues': '3'})
            for n, t in enumerate(['ovs', 'vhostuser', 'tap', 'macvtap'])]
    instance = make_instance(vifs, flavor)
    configs = [mine.get_config(instance, v, make_image(), flavor, 'kvm')
               for v in vifs]
    # The live domain: what libvirt gives back, with PCI addresses added.
    live = []
    for slot, conf in enumerate(configs, 3):
        iface = etree.fromstring(conf.to_xml())
        etree.SubElement(iface, 'address', type='pci', domain='0x0000',
                         bus='0x00', slot='0x%02x' % slot, function='0x0')
        live.append(etree.tostring(iface, encoding='unicode'))
    guest = libvirt_guest.Guest(FakeDomain(live))
    for conf, vif in zip(configs, vifs):
        assert type(conf) is vconfig.LibvirtConfigGuestInterface
        found = guest.get_interface_by_cfg(conf)
        assert found is not None, vif['type']
        assert found.mac_addr == vif['address']
        assert int(found.vhost_queues) == 3
    # And a MAC the domain does not have is not found.
    other = mine.get_config(instance, make_vif(n=30), make_image(), flavor,
                            'kvm')
    assert guest.get_interface_by_cfg(other) is None


# Nova's objects are read through their public accessors.

def test_lazy_loaded_extra_specs_are_read(host):
    """A flavor whose extra specs load on first access (not set yet, so
    not in the object's attributes): nova-mq asks the object, which loads
    them, and plans with them."""
    _, mine = drivers(host)
    loaded = {'hw:vif_multiqueue_enabled': 'true', 'mq:throughput': 'low'}
    flavor = objects.Flavor(id=3, flavorid='m1.lazy', name='m1.lazy',
                            vcpus=8, memory_mb=1024, root_gb=1,
                            ephemeral_gb=0, swap=0)
    assert 'extra_specs' not in flavor
    calls = []

    def load(self, attrname):
        calls.append(attrname)
        if attrname != 'extra_specs':
            raise nova_exception.ObjectActionError(action='load',
                                                   reason=attrname)
        self.extra_specs = dict(loaded)

    vif = make_vif()
    instance = make_instance([vif], flavor)
    with mock.patch.object(objects.Flavor, 'obj_load_attr', load):
        plan, index = mine.plan_guest(instance, vif, make_image(), flavor,
                                      'kvm')
    assert calls == ['extra_specs']
    # mq:throughput=low: one queue pair, written as Nova writes one.
    assert plan.nics[index].requested == 1
    assert not plan.nics[index].multiqueue
    assert plan.nics[index].reasons == ('enabled-by-flavor',
                                        'throughput-from-flavor')
    # Without a loader (Nova's Flavor): no extra specs, as Nova reads them.
    bare = objects.Flavor(id=4, name='m1.bare', vcpus=8)
    plan, index = mine.plan_guest(make_instance([vif], bare), vif,
                                  make_image(), bare, 'kvm')
    assert plan.nics[index].reasons == ('not-requested',)
