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
"""The engine is the one source of every rule and limit: its exported
constants, tables and rule functions, each checked against what plan()
actually does with it."""

import itertools
import sys

import pytest

import nova_mq
from nova_mq import _engine
from nova_mq import exception

OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
HOST = {'kernel_release': '6.1.0-13-amd64'}
ON = {'hw:vif_multiqueue_enabled': 'true'}


def plan(vcpus=4, specs=None, options=None, nics=(OVS,), host=HOST):
    return nova_mq.plan_guest(vcpus, specs, {}, 'kvm', host, options,
                              list(nics))


def test_constant_values():
    assert _engine.MAX_QUEUES == 256
    assert _engine.MIN_MSI_VECTOR_BUDGET == 3
    assert _engine.MAX_MSI_VECTOR_BUDGET == 2 ** 63 - 1 == sys.maxsize
    assert _engine.MAX_OPTION_VALUE == 1 << 30
    assert _engine.MAX_QUEUE_SIZE == 1 << 20
    assert _engine.DEFAULT_MSI_VECTOR_BUDGET == 4096
    assert _engine.DEFAULT_RESERVED_MSI_VECTORS == 128
    assert _engine.VHOST_BYTES_PER_QUEUE == 64 * 1024
    assert _engine.THROUGHPUTS == ('high', 'medium', 'low')
    assert _engine.TRUE_STRINGS == ('1', 't', 'true', 'on', 'y', 'yes')
    assert _engine.FALSE_STRINGS == ('0', 'f', 'false', 'off', 'n', 'no')
    assert _engine.WARNINGS == ('msi-budget-exceeded-at-one-queue',)


def test_reasons_are_every_reason_plan_gives():
    reasons = _engine.REASONS
    assert len(reasons) == len(set(reasons)) == 21
    assert reasons[0] == 'single-vcpu' and reasons[-1] == 'kept-running-queues'
    for name in ('capped-by-libvirt-max-queues', 'capped-by-host-kernel',
                 'reduced-for-msi-budget', 'throughput-default'):
        assert name in reasons
    # A plan reports reasons in table order.
    got = plan(16, ON, {'max_queues': 4}).nics[0].reasons
    assert list(got) == sorted(got, key=reasons.index)


def test_max_queues_is_plans_limit():
    top = _engine.MAX_QUEUES
    assert plan(512, ON, {'msi_vector_budget': 10 ** 6}).nics[0].queues == top
    port = dict(OVS, profile={'mq_queues': top})
    assert plan(top, nics=[port]).nics[0].queues == top
    with pytest.raises(exception.InvalidMultiqueueValue):
        plan(512, nics=[dict(OVS, profile={'mq_queues': top + 1})])
    with pytest.raises(exception.InvalidMultiqueueValue):
        plan(4, {'mq:max_queues': str(top + 1)})
    assert plan(4, {'mq:max_queues': str(top)}).nics[0].queues is None


def test_msi_vector_budget_limits():
    low = _engine.MIN_MSI_VECTOR_BUDGET
    got = plan(4, dict(ON, **{'mq:msi_vector_budget': str(low)}),
               {'reserved_msi_vectors': 0})
    assert got.msi_budget == low and got.nics[0].queues is None
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        plan(4, {'mq:msi_vector_budget': str(low - 1)})
    assert info.value.key == 'mq:msi_vector_budget'
    high = str(_engine.MAX_MSI_VECTOR_BUDGET)
    got = plan(4, dict(ON, **{'mq:msi_vector_budget': high}),
               {'reserved_msi_vectors': 0})
    assert got.msi_budget == _engine.MAX_MSI_VECTOR_BUDGET
    with pytest.raises(exception.InvalidMultiqueueValue):
        plan(4, {'mq:msi_vector_budget': str(_engine.MAX_MSI_VECTOR_BUDGET
                                             + 1)})


@pytest.mark.parametrize('name', ['msi_vector_budget', 'reserved_msi_vectors',
                                  'max_queues'])
def test_max_option_value(name):
    top = _engine.MAX_OPTION_VALUE
    plan(4, options={name: top})
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        plan(4, options={name: top + 1})
    assert info.value.key == name


@pytest.mark.parametrize('name', ['rx_queue_size', 'tx_queue_size'])
def test_max_queue_size(name):
    top = _engine.MAX_QUEUE_SIZE
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        plan(4, options={name: top + 1})
    assert info.value.key == name
    assert 'from 0 to %d' % top in str(info.value)
    # Within the binding's range: the policy's own rule (256/512/1024).
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        plan(4, options={name: top})
    assert '256, 512 or 1024' in str(info.value)


def test_defaults_are_plans_defaults():
    got = plan(4)
    assert got.msi_budget == (_engine.DEFAULT_MSI_VECTOR_BUDGET
                              - _engine.DEFAULT_RESERVED_MSI_VECTORS)
    vhost = plan(4, ON).nics[0].vhost_memory
    assert vhost == 4 * _engine.VHOST_BYTES_PER_QUEUE


def test_throughputs_are_plans_classes():
    queues = [plan(8, dict(ON, **{'mq:throughput': tp})).nics[0].queues
              for tp in _engine.THROUGHPUTS]
    assert queues == [8, 4, None]  # high, medium, low (one queue)
    with pytest.raises(exception.InvalidMultiqueueValue):
        plan(8, {'mq:throughput': 'fast'})


def test_boolean_grammar_is_plans():
    for word in _engine.TRUE_STRINGS:
        for text in (word, word.upper(), ' %s ' % word):
            got = plan(4, {'hw:vif_multiqueue_enabled': text}).nics[0]
            assert 'enabled-by-flavor' in got.reasons
    for word in _engine.FALSE_STRINGS:
        got = plan(4, {'hw:vif_multiqueue_enabled': word}).nics[0]
        assert 'disabled-by-flavor' in got.reasons
    for word in ('2', 'nope', '', 'truth'):
        with pytest.raises(exception.InvalidMultiqueueValue):
            plan(4, {'hw:vif_multiqueue_enabled': word})


def test_warnings_are_plans():
    got = plan(4, dict(ON, **{'mq:msi_vector_budget': '3'}),
               {'reserved_msi_vectors': 0}, nics=[OVS, OVS])
    assert got.warnings == _engine.WARNINGS


@pytest.mark.parametrize('max_queues, kernel, cap, reason', [
    (0, '2.6.32', 1, 'capped-by-host-kernel'),
    (0, '3.10.0-1160.el7.x86_64', 8, 'capped-by-host-kernel'),
    (0, '4.19.0', 256, 'capped-by-host-kernel'),
    (0, '6.1.0-18-amd64', 256, 'capped-by-host-kernel'),
    (None, '5', 256, 'capped-by-host-kernel'),
    (4, '2.6.32', 4, 'capped-by-libvirt-max-queues'),
    (4, 'not a kernel', 4, 'capped-by-libvirt-max-queues'),
    (256, '3.10', 256, 'capped-by-libvirt-max-queues'),
    (300, '6.1', 256, 'capped-by-host-kernel'),
])
def test_tap_queue_cap(max_queues, kernel, cap, reason):
    assert _engine.tap_queue_cap(max_queues, kernel) == (cap, reason)
    assert reason in _engine.REASONS


@pytest.mark.parametrize('args, key', [
    ((0, 'linux'), 'kernel_release'),
    ((0, '.1'), 'kernel_release'),
    ((-1, '6.1'), 'max_queues'),
    ((True, '6.1'), 'max_queues'),
    (('4', '6.1'), 'max_queues'),
    ((_engine.MAX_OPTION_VALUE + 1, '6.1'), 'max_queues'),
])
def test_tap_queue_cap_errors_are_plans(args, key):
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        _engine.tap_queue_cap(*args)
    assert info.value.key == key
    # plan() raises the same where the cap is needed.
    with pytest.raises(exception.InvalidMultiqueueValue) as want:
        plan(4, ON, {'max_queues': args[0]},
             host={'kernel_release': args[1]})
    assert str(info.value) == str(want.value)


def test_tap_queue_cap_arguments():
    # No release at all: plan() would read this host's; the rule cannot.
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        _engine.tap_queue_cap(0, None)
    assert info.value.key == 'kernel_release'
    with pytest.raises(TypeError):
        _engine.tap_queue_cap(0)
    with pytest.raises(TypeError):
        _engine.tap_queue_cap(max_queues=0, kernel_release='6.1')


@pytest.mark.parametrize('major, max_queues, vcpus', itertools.product(
    range(8), (0, 1, 4, 300), (1, 8, 300)))
def test_tap_queue_cap_agrees_with_plan(major, max_queues, vcpus):
    kernel = '%d.10.0-1-amd64' % major
    cap, reason = _engine.tap_queue_cap(max_queues, kernel)
    got = plan(vcpus, ON, {'max_queues': max_queues,
                           'msi_vector_budget': 10 ** 6},
               host={'kernel_release': kernel}).nics[0]
    assert (got.queues or 1) == min(vcpus, cap)
    if vcpus > 1 and cap < vcpus:
        assert reason in got.reasons


@pytest.mark.parametrize('queues', [1, 2, 3, 8, 255, 256])
def test_msi_vectors(queues):
    want = 3 if queues == 1 else 2 * queues + 2
    assert _engine.msi_vectors(queues) == want
    # plan()'s own count for a NIC of that many queues.
    got = plan(queues, ON, {'msi_vector_budget': 10 ** 6})
    assert got.nics[0].msi_vectors == want == got.msi_vectors


@pytest.mark.parametrize('queues', [0, -1, 257, None, True, '4', 4.0])
def test_msi_vectors_refuses(queues):
    with pytest.raises(exception.InvalidMultiqueueValue) as info:
        _engine.msi_vectors(queues)
    assert info.value.key == 'queues'
