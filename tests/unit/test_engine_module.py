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
"""The compiled engine itself: that it is compiled, re-importable, leak-free,
and that its argument handling refuses what it should, with Nova's
exceptions naming the key and the value."""

import importlib
import importlib.machinery
import inspect
import random
import sys

import pytest
from nova import exception as nova_exception

import nova_mq
from nova_mq import _engine
from nova_mq import exception

import testlib

OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
HOST = {'kernel_release': '6.1.0-13-amd64'}
IFACE = {'net_type': 'bridge', 'mac_addr': 'fa:16:3e:00:00:01',
         'model': 'virtio', 'driver_name': 'vhost', 'vhost_queues': 4,
         'source_dev': 'br0', 'target_dev': 'tap0'}
DOMAIN = ('<domain type="kvm"><name>g</name><vcpu>4</vcpu><devices>'
          '<interface type="bridge"><mac address="fa:16:3e:00:00:01"/>'
          '<model type="virtio"/><driver name="vhost" queues="4"/>'
          '<source bridge="br0"/></interface></devices></domain>')


def test_engine_is_the_compiled_module():
    # simplejson's TestMissingSpeedups: no silent pure-Python fallback.
    loader = _engine.__spec__.loader
    assert isinstance(loader, importlib.machinery.ExtensionFileLoader)
    assert _engine.__file__.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert nova_mq.plan_guest is _engine.plan
    assert nova_mq.render_interface is _engine.render
    assert nova_mq.parse_domain is _engine.parse


def test_reimport_gives_a_new_working_module():
    old = sys.modules.pop('nova_mq._engine')
    try:
        new = importlib.import_module('nova_mq._engine')
        assert new is not old
        assert new.Error is not old.Error
        assert new.render(**IFACE) == old.render(**IFACE)
        # The new module has no factory registered: its own Error.
        with pytest.raises(new.Error) as info:
            new.plan(4, {'mq:throughput': 'fast'}, nics=[OVS], host=HOST)
        assert 'mq:throughput' in str(info.value)
        # The old one, still used by nova_mq, keeps Nova's exceptions.
        with pytest.raises(exception.InvalidMultiqueueValue):
            old.plan(4, {'mq:throughput': 'fast'}, nics=[OVS], host=HOST)
    finally:
        sys.modules['nova_mq._engine'] = old


def test_signatures_are_introspectable():
    params = inspect.signature(_engine.plan).parameters
    assert list(params)[:3] == ['vcpus', 'extra_specs', 'image_properties']
    assert 'pretty_print' in inspect.signature(_engine.render).parameters
    assert list(inspect.signature(_engine.parse).parameters) == ['xml']
    assert list(inspect.signature(_engine.tap_queue_cap).parameters) == [
        'max_queues', 'kernel_release']
    assert list(inspect.signature(_engine.msi_vectors).parameters) == [
        'queues']


def test_nothing_but_the_public_api_is_exported():
    public = {name for name in dir(_engine) if not name.startswith('__')}
    assert not {'GuestPolicy', 'render_attrs'} & public
    assert {'plan', 'render', 'parse', 'tap_queue_cap', 'msi_vectors',
            'NicPlan', 'GuestPlan', 'Error', '_configure'} <= public


def test_exceptions_are_nova_invalid_and_value_error():
    for cls in (exception.InvalidMultiqueueValue,
                exception.InvalidInterfaceConfig,
                exception.InvalidDomainXML):
        assert issubclass(cls, nova_exception.Invalid)
        assert issubclass(cls, ValueError)


@pytest.mark.parametrize('kwargs, key, value', [
    ({'vcpus': 'four'}, 'vcpus', "'four'"),
    ({'vcpus': True}, 'vcpus', 'True'),
    ({'extra_specs': ['mq:throughput']}, 'extra_specs', "['mq:throughput']"),
    ({'extra_specs': {'mq:max_queues': 4.5}}, 'mq:max_queues', '4.5'),
    ({'options': {'msi_vector_budget': '4096'}}, 'msi_vector_budget',
     "'4096'"),
    ({'options': {'max_queues': -1}}, 'max_queues', '-1'),
    ({'nics': [OVS, 'ovs']}, 'nics[1]', "'ovs'"),
    ({'nics': [dict(OVS, profile='mq_queues=4')]}, 'nics[0].profile',
     "'mq_queues=4'"),
    ({'nics': [dict(OVS, profile={'mq_queues': 2 ** 70})]},
     'nics[0].mq_queues', str(2 ** 70)),
    ({'nics': [dict(OVS, profile={'mq_queues': '\ud800'})]},
     'nics[0].mq_queues', "'\\ud800'"),
])
def test_plan_argument_types_are_checked(kwargs, key, value):
    args = {'vcpus': 4, 'host': HOST, 'nics': [OVS]}
    args.update(kwargs)
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        nova_mq.plan_guest(**args)
    assert info.value.key == key
    assert key in str(info.value) and value in str(info.value)


def test_plan_argument_binding():
    with pytest.raises(TypeError, match='unexpected keyword'):
        nova_mq.plan_guest(4, flavour={})
    with pytest.raises(TypeError, match='multiple values'):
        nova_mq.plan_guest(4, vcpus=4)
    with pytest.raises(TypeError, match='missing'):
        nova_mq.plan_guest()
    with pytest.raises(TypeError, match='at most 9'):
        nova_mq.plan_guest(*range(10))


def test_keywords_bind_by_name_from_any_call_site():
    # The same names in any order, from many compiled call sites, and the
    # same keyword tuple for another function all bind right.
    ids = {}
    for i in range(40):
        names = sorted(IFACE)
        random.Random(i).shuffle(names)
        kwargs = {name: IFACE[name] for name in names}
        ids[i] = nova_mq.render_interface(**kwargs)
        # A compiled call site passes one constant kwnames tuple each time.
        code = 'render(%s)' % ', '.join('%s=k[%r]' % (n, n) for n in names)
        site = compile(code, '<site %d>' % i, 'eval')
        for _ in range(3):
            assert eval(site, {'render': nova_mq.render_interface,
                               'k': kwargs}) == ids[i]
    assert len(set(ids.values())) == 1
    site = compile('f(4, vcpus=4)', '<dup>', 'eval')
    for _ in range(3):
        with pytest.raises(TypeError, match='multiple values'):
            eval(site, {'f': nova_mq.plan_guest})
    site = compile('f(vcpus=4, extra_specs=e, host=h, nics=n)', '<plan>',
                   'eval')
    env = {'e': {'hw:vif_multiqueue_enabled': 'true'}, 'h': HOST, 'n': [OVS]}
    for _ in range(3):
        plan = eval(site, dict(env, f=nova_mq.plan_guest))
        assert plan.nics[0].queues == 4
        with pytest.raises(TypeError, match='unexpected keyword'):
            eval(site, dict(env, f=nova_mq.render_interface))


def test_render_argument_binding():
    with pytest.raises(TypeError, match='unexpected keyword'):
        nova_mq.render_interface(mac='fa:16:3e:00:00:01')
    with pytest.raises(TypeError, match='positional'):
        nova_mq.render_interface('bridge')
    with pytest.raises(exception.InvalidInterfaceConfig) as info:
        nova_mq.render_interface(**dict(IFACE, mtu=1500.0))
    assert info.value.key == 'mtu' and '1500.0' in str(info.value)
    with pytest.raises(exception.InvalidInterfaceConfig) as info:
        nova_mq.render_interface(**dict(IFACE, vportparams='x'))
    assert info.value.key == 'vportparams'


def test_plan_result_shape():
    plan = nova_mq.plan_guest(4, {'hw:vif_multiqueue_enabled': 'true'},
                              host=HOST, nics=[OVS, OVS])
    assert isinstance(plan, nova_mq.GuestPlan)
    assert len(plan.nics) == 2
    nic = plan.nics[0]
    assert isinstance(nic, nova_mq.NicPlan)
    assert (nic.driver, nic.queues, nic.multiqueue) == ('vhost', 4, True)
    assert plan.msi_vectors == 2 * (2 * 4 + 2)
    assert plan.vhost_memory == 2 * 4 * _engine.VHOST_BYTES_PER_QUEUE
    assert plan.msi_budget == (_engine.DEFAULT_MSI_VECTOR_BUDGET -
                               _engine.DEFAULT_RESERVED_MSI_VECTORS)
    empty = nova_mq.plan_guest(4, host=HOST)
    assert empty.nics == () and empty.msi_vectors == 0


def test_equal_inputs_give_equal_plans():
    """Plans are immutable values: equal inputs, equal plans."""
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    first = nova_mq.plan_guest(4, specs, host=HOST, nics=[OVS, OVS])
    again = nova_mq.plan_guest(4, dict(specs), host=dict(HOST),
                               nics=[dict(OVS), dict(OVS)])
    assert again == first and hash(again) == hash(first)
    assert first.nics[0] == first.nics[1]
    low = nova_mq.plan_guest(4, specs, host=HOST,
                             nics=[OVS, dict(OVS, profile={'mq_queues': 2})])
    assert low != first and low.nics[0] == first.nics[0]
    assert low.nics[1].queues == 2
    with pytest.raises(AttributeError):
        first.nics[0].queues = 3


def test_plans_never_mix_up_guests():
    """Many distinct guests in a scrambled order: each result is the plan
    of its own guest (compared with the one made in a first pass)."""
    rng = random.Random(11)
    guests = []
    for vcpus in range(1, 90):
        for profile in ({}, {'mq_queues': 2}, {'mq_throughput': 'low'}):
            nics = [dict(OVS, profile=profile)] * rng.randint(1, 3)
            guests.append((vcpus, nics))
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    expected = {}
    for vcpus, nics in guests:
        plan = nova_mq.plan_guest(vcpus, specs, host=HOST, nics=nics)
        expected[vcpus, str(nics)] = tuple(tuple(n) for n in plan.nics) + (
            tuple(plan[1:]),)
    for _ in range(3):
        rng.shuffle(guests)
        for vcpus, nics in guests:
            plan = nova_mq.plan_guest(vcpus, specs, host=HOST, nics=nics)
            got = tuple(tuple(n) for n in plan.nics) + (tuple(plan[1:]),)
            assert got == expected[vcpus, str(nics)]
            assert len(plan.nics) == len(nics)
            want = 1 if nics[0]['profile'] else min(vcpus, 256)
            if nics[0]['profile'].get('mq_queues'):
                want = min(2, vcpus)
            assert (plan.nics[0].queues or 1) == want


def _churn(n):
    bad_nic = dict(OVS, profile={'mq_queues': '300'})
    for i in range(n):
        nova_mq.plan_guest(8, {'mq:throughput': 'low'}, host=HOST,
                           options={'vif_models': ['virtio']},
                           nics=[OVS, dict(OVS, profile={'mq_queues': 3})] * 3)
        nova_mq.plan_guest(8, {'mq:throughput': 'medium'}, host=HOST,
                           nics=[OVS, dict(OVS, profile={'mq_queues': 3})])
        nova_mq.render_interface(vportparams=[{'key': 'interfaceid',
                                               'value': 'x'}], **IFACE)
        nova_mq.parse_domain(DOMAIN)
        for call in (lambda: nova_mq.plan_guest(8, host=HOST,
                                                nics=[OVS, bad_nic]),
                     lambda: nova_mq.render_interface(net_type='bridge'),
                     lambda: nova_mq.parse_domain('<domain>')):
            try:
                call()
            except ValueError:
                pass


def test_no_leaks_over_100k_calls():
    # Eight engine calls a round: 100k calls.
    testlib.assert_no_growth(_churn, 100000 // 8)


def _churn_unalike_plans(rounds):
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    for i in range(rounds):
        nics = [dict(OVS, profile={'mq_queues': 1 + i % 5})] * (1 + i % 3)
        nova_mq.plan_guest(2 + i % 200, specs, host=HOST, nics=nics)
        nova_mq.plan_guest(2 + i % 200, specs, host=HOST, nics=nics * 7)


def test_no_leaks_over_many_distinct_plans():
    """Many distinct plans, GuestPlans of up to 21 NICs: all freed."""
    testlib.assert_no_growth(_churn_unalike_plans, 50000)


def test_every_key_is_read_whatever_else_the_dicts_hold():
    """The engine stops looking keys up once it found as many as a dict
    holds: a knob is read wherever it sits among other keys."""
    specs = {'hw:cpu_policy': 'dedicated', 'mq:throughput': 'medium',
             'quota:vif_inbound_average': '100', 'mq:max_queues': '3',
             'hw:vif_multiqueue_enabled': 'true', 'mq:msi_vector_budget': 200,
             'hw:virtio_packed_ring': 'true', 'trait:X': 'required'}
    nic = {'extra': 1, 'profile': {'other': 'x', 'mq_throughput': 'high'},
           'fixed_queues': None, 'model': 'virtio', 'vnic_type': 'normal',
           'vif_type': 'ovs', 'more': None}
    keys = list(specs)
    for shift in range(len(keys)):
        rotated = {k: specs[k] for k in keys[shift:] + keys[:shift]}
        plan = nova_mq.plan_guest(8, rotated, host=HOST, nics=[nic, OVS])
        assert [n.queues for n in plan.nics] == [3, 3]  # max_queues caps
        assert plan.msi_budget == 200 - _engine.DEFAULT_RESERVED_MSI_VECTORS
        assert 'throughput-from-port' in plan.nics[0].reasons
        assert 'throughput-from-flavor' in plan.nics[1].reasons
        assert plan.nics[0].packed is (True if nova_mq.NOVA_HAS_PACKED_RING
                                       else None)
    fixed = dict(nic, fixed_queues=2)
    assert nova_mq.plan_guest(8, specs, host=HOST,
                              nics=[fixed]).nics[0].queues == 2
