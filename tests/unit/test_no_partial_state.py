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
"""Every "no partial result" promise, asserted on the state after the error.

The promises (README "Errors": "Nothing is ever half done: an error leaves
no partial plan or XML"; doc/source/policy.rst "An error never leaves a
partial plan"; ext/policy.h "there is no partial plan"; ext/py_plan.c "on
a NULL among them nothing is kept"; doc/source/hotplug-migration.rst: a
refused destination is refused "before anything is migrated", the running
NICs keep their queues, bad knobs fail attach and plug as Nova fails):
after each failure, the arguments given are unchanged (deep copies and
Nova's ``obj_to_primitive()`` compared), nothing was written (no XML, no
tap, no device), and the next good call gives exactly what it gives in a
process where the failure never happened.
"""

import copy

import _testcapi
from nova import exception as nova_exception
from nova.network import model as network_model
import pytest

import nova_mq
from nova_mq import exception
from nova_mq import vif as mq_vif

import test_hotplug_migration as hm
from test_render import base
import test_vif_driver as vd

# The fixtures of the modules whose Nova set-up these tests share.
conf = hm.conf
drvr = hm.drvr
host_commands = hm.host_commands
host = vd.host

HOST = {'kernel_release': '6.1.0-13-amd64'}
OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
ON = {'hw:vif_multiqueue_enabled': 'true'}


def nic(**profile):
    return dict(OVS, profile=profile)


def guest(specs=None, props=None, options=None, nics=None, vcpus=8):
    """plan_guest's positional arguments, every container a fresh one."""
    return (vcpus, dict(ON if specs is None else specs), dict(props or {}),
            'kvm', dict(HOST), dict(options or {}),
            [nic(mq_queues=3), nic(), nic(mq_throughput='low')]
            if nics is None else nics)


#: Good guests, and bad ones that fail at each stage of the engine: the
#: argument reader, the policy, a NIC's knob at the first or last NIC.
GOOD = [guest(), guest(specs={}), guest(nics=[nic(mq_queues=2)] * 6),
        guest(specs=dict(ON, **{'mq:msi_vector_budget': '40'}))]
BAD = [
    guest(specs=dict(ON, **{'mq:max_queues': '0'})),
    guest(specs={'hw:vif_multiqueue_enabled': 'maybe'}),
    guest(props={'hw_vif_multiqueue_enabled': 'maybe'}),
    guest(options={'rx_queue_size': 100}),
    guest(nics=[nic(mq_queues='zero'), nic(), nic()]),
    guest(nics=[nic(), nic(), nic(mq_queues=2), nic(mq_throughput='fast')]),
    guest(nics=[dict(OVS, fixed_queues=2), dict(OVS, fixed_queues=-1)]),
    guest(nics=[dict(OVS, model='e1000', fixed_queues=2)]),
    guest(specs={'hw:vif_multiqueue_enabled': 'false'},
          props={'hw_vif_multiqueue_enabled': True}),
    guest(vcpus=0),
]


def serial(calls):
    """What each of calls (argument tuples) gives alone, after a plan of
    another guest and no error."""
    results = []
    for args in calls:
        nova_mq.plan_guest(4)
        results.append(nova_mq.plan_guest(*args))
    return results


# -- the engine: plan_guest, render_interface, parse_domain -----------------

def test_failed_plan_changes_no_argument_and_no_later_plan():
    want = serial(GOOD)
    for bad in BAD:
        before = copy.deepcopy(bad)
        with pytest.raises(nova_exception.NovaException):
            nova_mq.plan_guest(*bad)
        assert bad == before
        # The same failure again: nothing of it was kept.
        with pytest.raises(nova_exception.NovaException):
            nova_mq.plan_guest(*bad)
        # Each good guest right after the failure, and after another
        # good one, gives what it gave alone.
        for args, expected in zip(GOOD, want):
            with pytest.raises(nova_exception.NovaException):
                nova_mq.plan_guest(*bad)
            assert nova_mq.plan_guest(*args) == expected
            assert nova_mq.plan_guest(*args) == expected


def out_of_memory_outcomes(call, good_call, want):
    """call() with its k-th allocation failing, for each k until call()
    needs no more than k allocations: the number of MemoryErrors.

    Before each try, good_call() makes the engine's last plan another one,
    so every try builds its result; after each failure, call() at once
    gives want.  Any exception but MemoryError (a SystemError: NULL
    returned without an exception) fails the test.
    """
    failures = 0
    for k in range(10000):
        good_call()
        _testcapi.set_nomemory(k, k + 1)
        try:
            call()
        except MemoryError:
            failures += 1
        else:
            return failures
        finally:
            _testcapi.remove_mem_hooks()
        assert call() == want, 'after allocation %d failed' % k
    raise AssertionError('call() never succeeded')


def test_out_of_memory_keeps_nothing():
    """ext/py_plan.c: a NicPlan or GuestPlan with a NULL among its values
    keeps nothing; the next plan is whole and as before.  (Leaks of what
    was built before the failure: tox -e sanitize runs this under
    LeakSanitizer.)"""
    args = GOOD[0]
    want = serial([args])[0]
    other = GOOD[2]
    failures = out_of_memory_outcomes(lambda: nova_mq.plan_guest(*args),
                                      lambda: nova_mq.plan_guest(*other),
                                      want)
    assert failures >= 3
    assert args == GOOD[0] and args is GOOD[0]
    assert nova_mq.plan_guest(*args) == want
    assert nova_mq.plan_guest(*other) == serial([other])[0]


#: render_interface attributes that fail in the reader, in the emitter
#: (a name lxml refuses, a PCI address) and in a list of parameters.
BAD_RENDERS = [
    base('bridge', mac_addr=None),
    base('bridge', target_dev='tap\x01'),
    base('hostdev', source_dev='nope'),
    base('bridge', vporttype='openvswitch',
         vportparams=[{'key': 'interfaceid', 'value': 'x'},
                      {'key': 'bad key', 'value': 'y'}]),
    base('bridge', filtername='clean-traffic',
         filterparams=[{'key': 'IP', 'value': '10.0.0.1'},
                       {'key': None, 'value': 'v'}]),
]
GOOD_RENDER = base('bridge', model='virtio', driver_name='vhost',
                   vhost_queues=4, vporttype='openvswitch',
                   vportparams=[{'key': 'interfaceid', 'value': 'x'}],
                   filtername='clean-traffic',
                   filterparams=[{'key': 'IP', 'value': '10.0.0.1'}])


def test_failed_render_writes_nothing_and_changes_nothing():
    plan = nova_mq.plan_guest(*GOOD[0]).nics[0]
    want = nova_mq.render_interface(**GOOD_RENDER)
    want_plan = nova_mq.render_interface(plan, **base('ethernet'))
    for bad in BAD_RENDERS:
        before = copy.deepcopy(bad)
        result = None
        with pytest.raises(exception.InvalidInterfaceConfig):
            result = nova_mq.render_interface(**bad)
        assert result is None
        assert bad == before
        with pytest.raises(exception.InvalidInterfaceConfig):
            nova_mq.render_interface(plan, **bad)
        assert nova_mq.render_interface(**GOOD_RENDER) == want
        assert nova_mq.render_interface(plan, **base('ethernet')) == (
            want_plan)


def test_render_out_of_memory_keeps_nothing():
    want = nova_mq.render_interface(**GOOD_RENDER)
    attrs = copy.deepcopy(GOOD_RENDER)
    failures = out_of_memory_outcomes(
        lambda: nova_mq.render_interface(**attrs), lambda: None, want)
    assert failures >= 1
    assert attrs == GOOD_RENDER
    assert nova_mq.render_interface(**attrs) == want


DOMAIN = ('<domain type="kvm"><name>i-1</name><vcpu current="2">4</vcpu>'
          '<devices>%s</devices></domain>')
IFACE = ('<interface type="bridge"><mac address="fa:16:3e:00:00:%02x"/>'
         '<model type="virtio"/><driver name="vhost" queues="%d"/>'
         '<source bridge="br0"/><target dev="tap%d"/></interface>')
GOOD_DOMAIN = DOMAIN % ''.join(IFACE % (i, i + 1, i) for i in range(1, 4))
BAD_DOMAINS = [
    GOOD_DOMAIN[:-10],
    GOOD_DOMAIN.replace('queues="2"', 'queues="two"'),
    '<!DOCTYPE d [<!ENTITY e "x">]>' + GOOD_DOMAIN.replace('i-1', '&e;'),
    GOOD_DOMAIN.encode() + b'\xff',
]


def test_failed_parse_changes_nothing():
    want = nova_mq.parse_domain(GOOD_DOMAIN)
    for bad in BAD_DOMAINS:
        with pytest.raises(exception.InvalidDomainXML):
            nova_mq.parse_domain(bad)
        got = nova_mq.parse_domain(GOOD_DOMAIN)
        assert got == want and got is not want


def test_parse_out_of_memory_keeps_nothing():
    want = nova_mq.parse_domain(GOOD_DOMAIN)
    assert out_of_memory_outcomes(
        lambda: nova_mq.parse_domain(GOOD_DOMAIN), lambda: None, want) >= 3
    assert nova_mq.parse_domain(GOOD_DOMAIN) == want


# -- the vif driver: Nova's objects and the guest context --------------------

def snapshot(*values):
    """Deep copies of builtins and VIFs, Nova objects as their primitive
    (values, and which fields are marked changed)."""
    return [v.obj_to_primitive() if hasattr(v, 'obj_to_primitive')
            else copy.deepcopy(v) for v in values]


def vif_guest(specs, nvifs=3):
    """(instance, flavor, vifs) of a vd-style guest of 4 vCPUs."""
    flavor = vd.make_flavor(4, **specs)
    vifs = [vd.make_vif(n=n, profile={'mq_queues': n})
            for n in range(1, nvifs)]
    return vd.make_instance(vifs, flavor), flavor, vifs


def configs(driver, instance, vifs, flavor, image, network_info):
    """Each VIF's interface XML, planned as one guest."""
    with mq_vif.guest_context(network_info=network_info):
        return [driver.get_config(instance, v, image, flavor,
                                  'kvm').to_xml() for v in vifs]


@pytest.mark.parametrize('bad_specs', [
    {'mq:max_queues': '0'}, {'hw:vif_multiqueue_enabled': 'maybe'},
    {'mq:throughput': 'fast'}])
def test_failed_get_config_keeps_no_plan_and_changes_no_object(
        host, bad_specs):
    _, mine = vd.drivers(host)
    instance, flavor, vifs = vif_guest({'mq:msi_vector_budget': '40'})
    image = vd.make_image()
    want = configs(mine, instance, vifs, flavor, image, vifs)
    bad_flavor = vd.make_flavor(4, **bad_specs)
    objs = (instance, flavor, bad_flavor, image, vifs)
    before = snapshot(*objs)
    with mq_vif.guest_context(network_info=vifs):
        for vif in vifs:
            with pytest.raises(nova_exception.Invalid):
                mine.get_config(instance, vif, image, bad_flavor, 'kvm')
            # Asked again, the bad flavor fails again: no plan was kept.
            with pytest.raises(nova_exception.Invalid):
                mine.get_config(instance, vif, image, bad_flavor, 'kvm')
        got = [mine.get_config(instance, v, image, flavor, 'kvm').to_xml()
               for v in vifs]
    assert got == want
    assert snapshot(*objs) == before


def test_failed_get_config_of_a_new_vif_leaves_the_guest_as_it_was(host):
    """A VIF the guest context did not list fails (its port's knob is
    bad): the guest's other NICs are then planned as if it had never been
    asked for."""
    _, mine = vd.drivers(host)
    instance, flavor, vifs = vif_guest(dict(ON, **{
        'mq:msi_vector_budget': '20'}))
    image = vd.make_image()
    want = configs(mine, instance, vifs, flavor, image, vifs)
    bad = vd.make_vif(n=7, profile={'mq_queues': 'x'})
    before = snapshot(instance, vifs, bad)
    with mq_vif.guest_context(network_info=vifs):
        with pytest.raises(exception.InvalidMultiqueueValue):
            mine.get_config(instance, bad, image, flavor, 'kvm')
        got = [mine.get_config(instance, v, image, flavor, 'kvm').to_xml()
               for v in vifs]
    assert got == want
    assert snapshot(instance, vifs, bad) == before


def test_internal_error_in_get_config_changes_nothing(host):
    """The fallback to Nova's result keeps no state: the next call, with
    the engine back, is nova-mq's plan as if nothing had happened."""
    stock, mine = vd.drivers(host)
    instance, flavor, vifs = vif_guest({'mq:throughput': 'low'})
    image = vd.make_image()
    want = configs(mine, instance, vifs, flavor, image, vifs)
    before = snapshot(instance, flavor, image, vifs)
    with mq_vif.guest_context(network_info=vifs):
        with hm.mock.patch.object(nova_mq, 'plan_guest',
                                  side_effect=RuntimeError('engine bug')):
            fallback = mine.get_config(instance, vifs[0], image, flavor,
                                       'kvm').to_xml()
        got = [mine.get_config(instance, v, image, flavor, 'kvm').to_xml()
               for v in vifs]
    assert fallback == stock.get_config(instance, vifs[0], image, flavor,
                                        'kvm').to_xml()
    assert got == want
    assert snapshot(instance, flavor, image, vifs) == before


# -- plugging, hotplug, live migration: Nova's objects and the host ----------

def pristine(instance):
    """instance with no field marked changed, its flavor's neither: any
    assignment to them then shows in their primitive's changes."""
    instance.obj_reset_changes(recursive=True)
    return instance


def tap_vif(mac, profile):
    return hm.make_vif(mac, profile=profile, details={
        network_model.VIF_DETAILS_TAP_MAC_ADDRESS: mac})


@pytest.mark.parametrize('specs,profile', [
    ({}, {'mq_queues': 4}),                      # a _PlugView is made
    ({'mq:throughput': 'medium'}, {}),           # Nova's rule decides
    ({'mq:max_queues': '0'}, {'mq_queues': 4}),  # a user error
])
def test_plug_tap_changes_no_instance_or_flavor(drvr, host_commands, specs,
                                                profile):
    vif = tap_vif(hm.MACS[0], profile)
    instance = pristine(hm.make_instance([vif], specs))
    specs_before = dict(instance.flavor.extra_specs)
    before = snapshot(instance, instance.flavor, vif)
    try:
        drvr.plug_vifs(instance, instance.get_network_info())
    except exception.InvalidMultiqueueValue:
        assert not host_commands['create_tap_dev'].called
    else:
        host_commands['create_tap_dev'].assert_called_once()
    assert instance.flavor.extra_specs == specs_before
    assert snapshot(instance, instance.flavor, vif) == before


def test_plug_os_vif_changes_no_instance_or_flavor(drvr, host_commands):
    details = {getattr(network_model, 'VIF_DETAILS_OVS_CREATE_TAP',
                       'ovs_create_tap'): True}
    vif = hm.make_vif(hm.MACS[0], vif_type='ovs', profile={'mq_queues': 4},
                      details=details)
    instance = pristine(hm.make_instance([vif], {}))
    before = snapshot(instance, instance.flavor, vif)
    drvr.plug_vifs(instance, [vif])
    host_commands['os_vif_plug'].assert_called_once()
    assert instance.flavor.extra_specs == {}
    assert snapshot(instance, instance.flavor, vif) == before


def test_failed_hotplug_changes_neither_guest_nor_instance(drvr,
                                                           host_commands):
    running = hm.make_vif(hm.MACS[0])
    bad = hm.make_vif(hm.MACS[1], profile={'mq_queues': 'many'})
    new = hm.make_vif(hm.MACS[2])
    specs = dict(ON, **{'mq:msi_vector_budget': '40'})
    instance = pristine(hm.make_instance([running, bad, new], specs))
    guest = hm.start_guest(drvr, instance, [(running, 8)])
    domain = guest.get_xml_desc()
    before = snapshot(instance, instance.flavor, running, bad, new)

    with pytest.raises(exception.InvalidMultiqueueValue):
        hm.attach(drvr, instance, bad)

    assert guest.get_xml_desc() == domain
    assert not host_commands['create_tap_dev'].called
    assert snapshot(instance, instance.flavor, running, bad, new) == before
    # The next attach gets what fits beside the running NIC alone.
    hm.attach(drvr, instance, new)
    assert hm.queues_by_mac(guest) == {
        hm.MACS[0]: 8, hm.MACS[2]: hm.fitting_queues(40, [8], hm.VCPUS)}


def test_refused_live_migration_changes_nothing(drvr, conf):
    vifs = [hm.make_vif(hm.MACS[0]), hm.make_vif(hm.MACS[1])]
    instance = hm.make_instance(vifs, ON)
    guest = hm.start_guest(drvr, instance, [(vifs[0], 8), (vifs[1], 2)])
    pristine(instance)
    domain = guest.get_xml_desc()
    before = snapshot(instance, instance.flavor, vifs,
                      instance.get_network_info())

    with pytest.raises(nova_exception.MigrationPreCheckError):
        hm.prechecks(drvr, conf, instance, dest_max_queues=4)

    assert guest.get_xml_desc() == domain
    assert guest._domain.migrate_params is None
    assert snapshot(instance, instance.flavor, vifs,
                    instance.get_network_info()) == before
    # A destination that can take the guest is then checked as if the
    # refusal had never happened.
    data = hm.prechecks(drvr, conf, instance, dest_max_queues=8)
    assert [mv.source_vif['meta'][hm.mq_driver.MIGRATE_META_KEY]
            for mv in data.vifs] == [
        {'dest_host': 'dest-host', 'dest_tap_queue_cap': 8,
         'dest_tap_queue_cap_from': '[libvirt]max_queues = 8',
         'running_queues': queues} for queues in (8, 2)]
