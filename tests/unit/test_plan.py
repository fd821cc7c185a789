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
"""nova_mq.plan_guest against the installed Nova, and against its contract.

Parity: with no nova-mq knob set, each NIC's (driver, queues,
rx_queue_size, packed, model) is what Nova's own
LibvirtGenericVIFDriver.get_base_config() sets on the interface config
(driver_name, vhost_queues, vhost_rx_queue_size, driver_packed, model),
and where Nova raises, plan_guest raises the same exception class with the
same text.  Nova's real objects and code are the oracle; it runs against
whichever Nova is installed (PyPI's newest, or Debian's 26.x without
packed rings).

The one documented deviation: on a host kernel >= 5 without
[libvirt]max_queues, Nova sets no cap and writes vCPUs queues even past
the tun limit; nova-mq caps at 256.

Then the semantics of every knob and every bad value.
"""

import contextlib
import itertools
import os
from unittest import mock

import pytest
from nova import exception as nova_exception
from nova import objects
from nova.network import model as network_model
import nova.conf
from nova.virt.libvirt import config as nova_config
from nova.virt.libvirt import vif as nova_vif

import nova_mq
from nova_mq import exception

objects.register_all()
CONF = nova.conf.CONF

MAC = 'fa:16:3e:00:00:01'
HOST = {'kernel_release': '6.1.0-13-amd64'}
OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
NOVA_HAS_PACKED = 'driver_packed' in vars(
    nova_config.LibvirtConfigGuestInterface())
MAX = 256

VCPUS = (1, 2, 3, 4, 8, 64, 257, 300)
TRISTATE = (None, True, False)
VIRT_TYPES = ('kvm', 'qemu', 'parallels', 'lxc')
MODELS = (None, 'virtio', 'e1000', 'igb', 'rtl8139')
VNIC_TYPES = ('normal', 'direct', 'macvtap', 'vdpa', 'virtio-forwarder')
MAX_QUEUES = (None, 1, 4)
KERNELS = ('3.10.0', '4.19.0', '6.1.0')
RX_SIZES = (None, 512)


def test_packed_detection_follows_the_installed_nova():
    assert nova_mq.NOVA_HAS_PACKED_RING == NOVA_HAS_PACKED
    packed = nova_mq.plan_guest(2, nics=[OVS], host=HOST).nics[0].packed
    assert packed is (False if NOVA_HAS_PACKED else None)


# ---- the oracle ------------------------------------------------------------

@contextlib.contextmanager
def nova_host(max_queues, kernel, rx):
    """[libvirt] options and os.uname() as Nova reads them."""
    CONF.set_override('max_queues', max_queues, 'libvirt')
    CONF.set_override('rx_queue_size', rx, 'libvirt')
    try:
        with mock.patch('os.uname') as uname:
            uname.return_value = mock.Mock(release=kernel)
            yield
    finally:
        CONF.clear_override('max_queues', 'libvirt')
        CONF.clear_override('rx_queue_size', 'libvirt')


def _text(value):
    return None if value is None else ('true' if value else 'false')


class Guest(object):
    """One flavor + image, as Nova objects and as plan_guest arguments."""

    _cache = {}

    def __init__(self, vcpus, flavor_mq, image_mq, flavor_packed=None,
                 image_packed=None):
        specs = {}
        props = {}
        for key, val in (('hw:vif_multiqueue_enabled', flavor_mq),
                         ('hw:virtio_packed_ring', flavor_packed)):
            if val is not None:
                specs[key] = _text(val)
        for key, val in (('hw_vif_multiqueue_enabled', image_mq),
                         ('hw_virtio_packed_ring', image_packed)):
            if val is not None:
                props[key] = val
        self.vcpus = vcpus
        self.specs = specs
        self.props = props
        self.flavor = objects.Flavor(vcpus=vcpus, extra_specs=specs,
                                     name='m1')
        self.image = objects.ImageMeta.from_dict(
            {'name': 'img', 'properties': props})

    @classmethod
    def get(cls, *args):
        if args not in cls._cache:
            cls._cache[args] = cls(*args)
        return cls._cache[args]


def nova_result(driver, guest, virt_type, model, vnic_type):
    """get_base_config()'s values, or the exception it raises."""
    driver.get_vif_model.return_value = model
    try:
        conf = driver.get_base_config(None, MAC, guest.image, guest.flavor,
                                      virt_type, vnic_type)
    except nova_exception.NovaException as exc:
        return exc
    return (conf.driver_name, conf.vhost_queues, conf.vhost_rx_queue_size,
            getattr(conf, 'driver_packed', None), conf.model)


def ours(guest, virt_type, model, vnic_type, max_queues, kernel, rx,
         vif_models='nova'):
    if vif_models == 'nova':
        vif_models = nova_vif.SUPPORTED_VIF_MODELS.get(virt_type)
    try:
        plan = nova_mq.plan_guest(
            guest.vcpus, guest.specs, guest.props, virt_type,
            host={'kernel_release': kernel},
            options={'max_queues': max_queues, 'rx_queue_size': rx,
                     'vif_models': vif_models},
            nics=[{'vif_type': 'ovs', 'vnic_type': vnic_type,
                   'model': model}],
            flavor_name='m1', image_name='img')
    except nova_exception.NovaException as exc:
        return exc
    nic = plan.nics[0]
    return (nic.driver, nic.queues, nic.rx_queue_size, nic.packed,
            nic.model)


def expected(nova, guest, kernel, max_queues):
    """Nova's result with the documented deviation applied."""
    if isinstance(nova, Exception) or nova[1] is None or nova[1] <= MAX:
        return nova
    assert guest.vcpus > MAX and max_queues is None
    assert int(kernel.split('.')[0]) >= 5
    return (nova[0], MAX) + nova[2:]


def same(a, b):
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return a == b


def run_matrix(cases):
    """cases: (guest, virt, model, vnic, max_queues, kernel, rx) tuples,
    grouped by host.  Returns (number run, the first mismatches)."""
    bad = []
    n = 0
    drv = nova_vif.LibvirtGenericVIFDriver()
    with mock.patch.object(drv, 'get_vif_model'):
        for host, group in itertools.groupby(
                sorted(cases, key=lambda c: repr(c[4:])), lambda c: c[4:]):
            with nova_host(*host):
                for case in group:
                    nova = nova_result(drv, *case[:4])
                    want = expected(nova, case[0], case[5], case[4])
                    got = ours(*case)
                    n += 1
                    if not same(got, want) and len(bad) < 10:
                        g = case[0]
                        bad.append(((g.vcpus, g.specs, g.props) + case[1:],
                                    want, got))
    return n, bad


def test_parity_multiqueue_matrix():
    # Everything but the packed ring, in full: 129600 cases.
    cases = [
        (Guest.get(vcpus, fmq, imq), virt, model, vnic, maxq, kernel, rx)
        for vcpus, fmq, imq, virt, model, vnic, maxq, kernel, rx in
        itertools.product(VCPUS, TRISTATE, TRISTATE, VIRT_TYPES, MODELS,
                          VNIC_TYPES, MAX_QUEUES, KERNELS, RX_SIZES)]
    n, bad = run_matrix(cases)
    assert n == 8 * 3 * 3 * 4 * 5 * 5 * 3 * 3 * 2
    assert bad == []


def test_parity_packed_matrix():
    # The packed ring on both sides, crossed with what decides whether
    # Nova gets as far as the multiqueue settings.
    cases = [
        (Guest.get(vcpus, fmq, imq, fpk, ipk), virt, model, vnic, None,
         '6.1.0', rx)
        for vcpus, fmq, imq, fpk, ipk, virt, model, vnic, rx in
        itertools.product((1, 4), TRISTATE, TRISTATE, TRISTATE, TRISTATE,
                          ('kvm', 'qemu'), (None, 'virtio', 'e1000'),
                          VNIC_TYPES, RX_SIZES)]
    n, bad = run_matrix(cases)
    assert n == 2 * 3 ** 4 * 2 * 3 * 5 * 2
    assert bad == []


def test_packed_values_ignored_by_a_nova_without_packed_ring():
    # Zed reads neither value: no conflict, no validation, packed None.
    # The engine's side runs on every Nova; Nova's side where it is Zed.
    if not NOVA_HAS_PACKED:
        drv = nova_vif.LibvirtGenericVIFDriver()
        guest = Guest.get(4, None, None, True, False)
        with mock.patch.object(drv, 'get_vif_model'):
            with nova_host(None, '6.1.0', None):
                nova = nova_result(drv, guest, 'kvm', 'virtio', 'normal')
        assert nova == (None, None, None, None, 'virtio')
    plan = nova_mq.plan_guest(
        4, {'hw:virtio_packed_ring': 'maybe'},
        {'hw_virtio_packed_ring': False}, nics=[OVS], host=HOST,
        options={'packed_ring': False})
    assert plan.nics[0].packed is None


def test_parity_unknown_virt_type():
    cases = [(Guest.get(vcpus, fmq, None), 'xen', model, vnic, None,
              '6.1.0', None)
             for vcpus, fmq, model, vnic in itertools.product(
                 (1, 4), TRISTATE, MODELS, VNIC_TYPES)]
    n, bad = run_matrix(cases)
    assert n == 2 * 3 * 5 * 5
    assert bad == []


def test_builtin_model_table_is_the_newest_novas():
    # vif_models=None means nova-mq's own copy of SUPPORTED_VIF_MODELS;
    # against an older Nova it must be at least as permissive.
    guest = Guest.get(4, None, None)
    for virt, model in itertools.product(VIRT_TYPES,
                                         network_model.VIF_MODEL_ALL):
        got = ours(guest, virt, model, 'normal', None, '6.1.0', None,
                   vif_models=None)
        nova_ok = nova_vif.is_vif_model_valid_for_virt(virt, model)
        if nova_ok:
            assert not isinstance(got, Exception), (virt, model)
        elif hasattr(network_model, 'VIF_MODEL_IGB'):
            assert isinstance(got, nova_exception.UnsupportedHardware), (
                virt, model)


# ---- Nova's exceptions, exactly ------------------------------------------

def plan(vcpus=4, specs=None, props=None, nics=(OVS,), **kw):
    kw.setdefault('host', HOST)
    return nova_mq.plan_guest(vcpus, specs, props, nics=list(nics),
                              flavor_name=kw.pop('flavor_name', 'm1'),
                              image_name=kw.pop('image_name', 'img'), **kw)


def test_multiqueue_conflict_message():
    with pytest.raises(nova_exception.FlavorImageConflict) as info:
        plan(2, {'hw:vif_multiqueue_enabled': ' Yes '},
             {'hw_vif_multiqueue_enabled': False})
    assert str(info.value) == (
        'Flavor m1 has hw:vif_multiqueue_enabled extra spec explicitly set '
        'to True, conflicting with image img which has '
        'hw_vif_multiqueue_enabled explicitly set to False.')
    with pytest.raises(nova_exception.FlavorImageConflict) as info:
        plan(2, {'hw:vif_multiqueue_enabled': 'off'},
             {'hw_vif_multiqueue_enabled': True}, flavor_name=None)
    assert str(info.value).startswith(
        'Flavor None has hw:vif_multiqueue_enabled extra spec explicitly '
        'set to False, conflicting with image img')


def test_no_conflict_where_nova_does_not_look():
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    props = {'hw_vif_multiqueue_enabled': False}
    # One vCPU: Nova returns False before reading either value.
    assert plan(1, specs, props).nics[0].queues is None
    # No NIC reaches Nova's multiqueue settings.
    for nic in (dict(OVS, model='e1000'), dict(OVS, vnic_type='direct')):
        assert plan(4, specs, props, nics=[nic]).nics[0].queues is None
    assert plan(4, specs, props, virt_type='qemu').nics[0].driver == 'qemu'
    assert plan(4, specs, props, nics=[]).nics == ()


def test_packed_conflict_message():
    # Nova 2023.1+'s message, on every Nova: the option says the installed
    # Nova has packed rings (the parity matrix checks it against Nova).
    def plan(*args, **kw):
        return globals()['plan'](*args, options={'packed_ring': True}, **kw)
    with pytest.raises(nova_exception.FlavorImageConflict) as info:
        plan(1, {'hw:virtio_packed_ring': 'true'},
             {'hw_virtio_packed_ring': False},
             nics=[dict(OVS, vnic_type='direct')])
    assert str(info.value) == (
        'Flavor has hw:virtio_packed_ring extra spec explicitly set to True, '
        'conflicting with image which has hw_virtio_packed_ring explicitly '
        'set to False.')
    assert plan(1, {'hw:virtio_packed_ring': 'yes'}).nics[0].packed is True
    assert plan(1, None, {'hw_virtio_packed_ring': True}).nics[0].packed


def test_unsupported_model_and_virt_type():
    with pytest.raises(nova_exception.UnsupportedHardware) as info:
        plan(nics=[dict(OVS, model='lan9118')])
    assert info.value.kwargs['model'] == 'lan9118'
    assert info.value.kwargs['virt'] == 'kvm'
    assert str(info.value) == ("Requested hardware 'lan9118' is not "
                               "supported by the 'kvm' virt driver")
    with pytest.raises(nova_exception.UnsupportedHardware):
        plan(virt_type='lxc')
    with pytest.raises(nova_exception.UnsupportedVirtType) as info:
        plan(virt_type='xen')
    assert info.value.kwargs['virt'] == 'xen'
    # A model of None is always valid; so is any model Nova's list allows.
    assert plan(virt_type='xen', nics=[dict(OVS, model=None)])
    assert plan(virt_type='lxc', nics=[dict(OVS, model=None)])
    assert plan(nics=[dict(OVS, model='lan9118')], virt_type='qemu')
    with pytest.raises(nova_exception.UnsupportedHardware):
        plan(nics=[dict(OVS, model='igb')],
             options={'vif_models': ['virtio', 'e1000']})


# ---- the knobs -------------------------------------------------------------

def nic(**profile):
    return dict(OVS, profile=profile)


def test_enablement():
    p = plan(8).nics[0]
    assert (p.driver, p.queues, p.multiqueue, p.requested) == (
        None, None, False, 0)
    assert p.reasons == ('not-requested',)
    p = plan(8, nics=[nic(mq_queues='4')]).nics[0]
    assert (p.driver, p.queues, p.multiqueue, p.requested) == (
        'vhost', 4, True, 4)
    assert p.reasons == ('enabled-by-port', 'port-queues')
    p = plan(8, {'hw:vif_multiqueue_enabled': 'false'},
             nics=[nic(mq_queues='4')]).nics[0]
    assert p.queues is None
    assert p.reasons == ('disabled-by-flavor', 'port-knobs-ignored')
    p = plan(8, None, {'hw_vif_multiqueue_enabled': False},
             nics=[nic(mq_throughput='high')]).nics[0]
    assert p.reasons == ('disabled-by-image', 'port-knobs-ignored')
    p = plan(8, {'hw:vif_multiqueue_enabled': 'True'}).nics[0]
    assert p.queues == 8
    assert p.reasons == ('enabled-by-flavor', 'throughput-default')
    p = plan(8, None, {'hw_vif_multiqueue_enabled': True}).nics[0]
    assert p.reasons == ('enabled-by-image', 'throughput-default')
    p = plan(1, {'hw:vif_multiqueue_enabled': 'true'},
             nics=[nic(mq_queues=2)]).nics[0]
    assert p.queues is None
    assert p.reasons == ('single-vcpu', 'port-knobs-ignored')


def test_every_eligible_nic_when_enabled():
    nics = [OVS, dict(OVS, model='e1000'), dict(OVS, vnic_type='direct'),
            dict(OVS, vnic_type='macvtap'), dict(OVS, vif_type='vhostuser')]
    got = plan(4, {'hw:vif_multiqueue_enabled': 'yes'}, nics=nics).nics
    assert [p.queues for p in got] == [4, None, None, 4, 4]
    assert got[1].reasons == ('model-not-virtio',)
    assert got[2].reasons == ('passthrough-vnic',)
    assert got[2].model is None and got[2].driver is None
    got = plan(4, {'hw:vif_multiqueue_enabled': 'yes'}, virt_type='qemu',
               nics=[nic(mq_queues='4')]).nics[0]
    assert got.driver == 'qemu' and got.queues is None
    assert got.reasons == ('virt-type-without-vhost', 'port-knobs-ignored')


@pytest.mark.parametrize('vcpus,profile,flavor_tp,queues,reason', [
    (9, {'mq_queues': '5'}, 'low', 5, 'port-queues'),
    (9, {'mq_queues': 7}, None, 7, 'port-queues'),
    (9, {'mq_throughput': 'medium'}, 'low', 5, 'throughput-from-port'),
    (10, {'mq_throughput': 'medium'}, None, 5, 'throughput-from-port'),
    (9, {'mq_throughput': 'high'}, 'low', 9, 'throughput-from-port'),
    (9, {'mq_throughput': 'low'}, 'high', None, 'throughput-from-port'),
    (9, {}, 'medium', 5, 'throughput-from-flavor'),
    (9, {}, 'low', None, 'throughput-from-flavor'),
    (9, {}, None, 9, 'throughput-default'),
])
def test_requested_count(vcpus, profile, flavor_tp, queues, reason):
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    if flavor_tp:
        specs['mq:throughput'] = flavor_tp
    p = plan(vcpus, specs, nics=[dict(OVS, profile=profile)]).nics[0]
    assert p.queues == queues
    assert p.reasons == ('enabled-by-flavor', reason)
    assert p.driver == ('vhost' if queues else None)


@pytest.mark.parametrize('vcpus,specs,options,kernel,queues,caps', [
    (4, {}, {}, '6.1', 4, ('capped-by-vcpus',)),
    (16, {'mq:max_queues': '6'}, {}, '6.1', 6,
     ('capped-by-flavor-max-queues',)),
    (16, {}, {'max_queues': 5}, '6.1', 5, ('capped-by-libvirt-max-queues',)),
    (16, {}, {}, '3.10.0-1160.el7.x86_64', 8, ('capped-by-host-kernel',)),
    (16, {}, {}, '2.6.32', None, ('capped-by-host-kernel',)),
    (16, {}, {'max_queues': 12}, '3.10', 12,
     ('capped-by-libvirt-max-queues',)),
    (4, {'mq:max_queues': '3'}, {'max_queues': 2}, '6.1', 2,
     ('capped-by-vcpus', 'capped-by-flavor-max-queues',
      'capped-by-libvirt-max-queues')),
    (16, {'mq:max_queues': '16'}, {'max_queues': 16}, '6.1', 16, ()),
])
def test_caps(vcpus, specs, options, kernel, queues, caps):
    p = plan(vcpus, specs, nics=[nic(mq_queues='16')], options=options,
             host={'kernel_release': kernel}).nics[0]
    assert p.queues == queues and p.requested == 16
    assert p.reasons == ('enabled-by-port', 'port-queues') + caps


def test_tun_limit_is_the_documented_deviation():
    p = plan(300, {'hw:vif_multiqueue_enabled': 'true'}).nics[0]
    assert p.queues == 256 and p.requested == 300
    assert 'capped-by-host-kernel' in p.reasons


def test_nova_single_queue_forms():
    on = {'hw:vif_multiqueue_enabled': 'true'}
    # Nova itself writes driver vhost, queues 1 here: so does nova-mq.
    p = plan(4, on, options={'max_queues': 1}).nics[0]
    assert (p.driver, p.queues, p.multiqueue) == ('vhost', 1, False)
    p = plan(4, on, host={'kernel_release': '2.6.32'}).nics[0]
    assert (p.driver, p.queues) == ('vhost', 1)
    # nova-mq's own cap to one: Nova's single-queue NIC.
    p = plan(4, dict(on, **{'mq:max_queues': '1'})).nics[0]
    assert (p.driver, p.queues) == (None, None)
    p = plan(4, dict(on, **{'mq:max_queues': '1'}),
             options={'rx_queue_size': 1024}).nics[0]
    assert (p.driver, p.queues, p.rx_queue_size) == ('vhost', None, 1024)


def test_sizes_memory_and_vectors():
    nics = [OVS, dict(OVS, vif_type='vhostuser'),
            dict(OVS, vnic_type='virtio-forwarder'),
            dict(OVS, vnic_type='vdpa'), dict(OVS, model='e1000'),
            nic(mq_throughput='low')]
    g = plan(4, {'hw:vif_multiqueue_enabled': 'true'}, nics=nics,
             options={'rx_queue_size': 512, 'tx_queue_size': 1024})
    kib64 = 64 * 1024
    assert [p.tx_queue_size for p in g.nics] == [
        None, 1024, 1024, 1024, None, None]
    assert [p.rx_queue_size for p in g.nics] == [512, 512, 512, None, 512,
                                                 512]
    assert [p.vhost_memory for p in g.nics] == [4 * kib64, 0, 0, 0, 0,
                                                kib64]
    assert [p.msi_vectors for p in g.nics] == [10, 10, 10, 0, 0, 3]
    assert g.vhost_memory == 5 * kib64
    assert g.msi_vectors == 33
    assert g.msi_budget == 4096 - 128
    assert g.warnings == ()


def test_fixed_queues_are_kept():
    g = plan(8, {'hw:vif_multiqueue_enabled': 'false'},
             nics=[dict(OVS, fixed_queues=6), dict(OVS, fixed_queues=1)])
    assert (g.nics[0].driver, g.nics[0].queues) == ('vhost', 6)
    assert g.nics[0].reasons == ('kept-running-queues',)
    assert g.nics[1].queues is None
    assert g.nics[1].reasons == ('kept-running-queues',)


# ---- bad values ----------------------------------------------------------

BAD = [
    # (plan kwargs, key, value)
    (dict(vcpus=0), 'vcpus', '0'),
    (dict(vcpus=-2), 'vcpus', '-2'),
    (dict(specs={'mq:throughput': 'fast'}), 'mq:throughput', 'fast'),
    (dict(specs={'mq:max_queues': 'x'}), 'mq:max_queues', 'x'),
    (dict(specs={'mq:max_queues': '0'}), 'mq:max_queues', '0'),
    (dict(specs={'mq:max_queues': '257'}), 'mq:max_queues', '257'),
    (dict(specs={'mq:msi_vector_budget': '2'}), 'mq:msi_vector_budget', '2'),
    (dict(specs={'mq:msi_vector_budget': 'many'}), 'mq:msi_vector_budget',
     'many'),
    (dict(specs={'mq:msi_vector_budget': '99.5'}), 'mq:msi_vector_budget',
     '99.5'),
    (dict(specs={'hw:vif_multiqueue_enabled': 'maybe'}),
     'hw:vif_multiqueue_enabled', 'maybe'),
    (dict(props={'hw_vif_multiqueue_enabled': 'maybe'}),
     'hw_vif_multiqueue_enabled', 'maybe'),
    (dict(nics=[nic(mq_queues='0')]), 'nics[0].mq_queues', '0'),
    (dict(nics=[nic(mq_queues='-3')]), 'nics[0].mq_queues', '-3'),
    (dict(nics=[nic(mq_queues='four')]), 'nics[0].mq_queues', 'four'),
    (dict(nics=[nic(mq_queues='300')]), 'nics[0].mq_queues', '300'),
    (dict(nics=[nic(mq_queues=300)]), 'nics[0].mq_queues', '300'),
    (dict(nics=[nic(mq_queues='4.5')]), 'nics[0].mq_queues', '4.5'),
    (dict(nics=[OVS, OVS, nic(mq_queues='300')]), 'nics[2].mq_queues',
     '300'),
    (dict(nics=[OVS, nic(mq_throughput='fast')]), 'nics[1].mq_throughput',
     'fast'),
    (dict(nics=[nic(mq_queues='4', mq_throughput='high')]),
     'nics[0].mq_queues', '4'),
    (dict(options={'rx_queue_size': 100}), 'rx_queue_size', '100'),
    (dict(options={'tx_queue_size': 2048}), 'tx_queue_size', '2048'),
    (dict(options={'msi_vector_budget': -1}), 'msi_vector_budget', '-1'),
    (dict(options={'reserved_msi_vectors': -1}), 'reserved_msi_vectors',
     '-1'),
    (dict(nics=[dict(OVS, fixed_queues=-1)]), 'fixed_queues', '-1'),
    (dict(nics=[dict(OVS, fixed_queues=257)]), 'fixed_queues', '257'),
    (dict(nics=[dict(OVS, model='e1000', fixed_queues=2)]), 'fixed_queues',
     '2'),
    (dict(nics=[nic(mq_queues='2')], host={'kernel_release': 'linux'}),
     'kernel_release', 'linux'),
]


@pytest.mark.parametrize('kwargs,key,value', BAD,
                         ids=['%s=%s' % (k, v) for _, k, v in BAD])
def test_bad_value(kwargs, key, value):
    kwargs = dict(kwargs)
    vcpus = kwargs.pop('vcpus', 4)
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        plan(vcpus, kwargs.pop('specs', None), kwargs.pop('props', None),
             **kwargs)
    exc = info.value
    assert isinstance(exc, nova_exception.Invalid)
    # The engine names a NIC's key with its index; the argument reader
    # names fixed_queues alone.
    assert exc.kwargs['key'] in (key, 'nics[0].' + key)
    assert exc.kwargs['value'] == value
    assert exc.kwargs['key'] in str(exc) and value in str(exc)


def test_knobs_are_validated_even_when_unused():
    # vcpus 1 and multiqueue disabled: the bad value is still reported.
    for specs in ({'mq:throughput': 'fast'}, {'mq:max_queues': 'x'},
                  {'mq:msi_vector_budget': '1'}):
        with pytest.raises(exception.InvalidMultiqueueValue):
            plan(1, dict(specs, **{'hw:vif_multiqueue_enabled': 'false'}),
                 nics=[dict(OVS, model='e1000')])
    with pytest.raises(exception.InvalidMultiqueueValue):
        plan(1, {'hw:vif_multiqueue_enabled': 'false'},
             nics=[dict(OVS, vnic_type='direct', profile={'mq_queues': 0})])
    # The kernel release is read only where a cap is needed, as in Nova.
    assert plan(4, host={'kernel_release': 'linux'})


def test_booleans_parse_like_oslo():
    for text in ('1', 't', 'True', 'ON', ' yes ', 'y'):
        p = plan(4, {'hw:vif_multiqueue_enabled': text}).nics[0]
        assert p.queues == 4, text
    for text in ('0', 'f', 'FALSE', 'off', 'n', 'No '):
        p = plan(4, {'hw:vif_multiqueue_enabled': text}).nics[0]
        assert p.reasons == ('disabled-by-flavor',), text


def test_no_partial_plan_is_visible():
    # The error is raised for the last NIC; nothing else comes back.
    with pytest.raises(exception.InvalidMultiqueueValue):
        plan(4, nics=[OVS] * 5 + [nic(mq_queues='zero')])


def test_default_host_is_this_one():
    on = {'hw:vif_multiqueue_enabled': 'true'}
    major = int(os.uname().release.split('.')[0])
    want = {3: 8}.get(major, 1 if major <= 2 else 16)
    assert nova_mq.plan_guest(16, on, nics=[OVS]).nics[0].queues == want
