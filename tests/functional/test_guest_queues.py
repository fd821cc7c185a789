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
"""Real guests: the queues nova-mq plans are the queues the guest gets.

Each guest's NICs are planned through Nova's libvirt driver with nova-mq
switched on (``MultiqueueVIFDriver.get_config`` with real Nova objects,
vif_type 'bridge' on the test bridge), booted under libvirt and QEMU with
Debian's cloud kernel, and checked against the guest's own report:
rx-*/tx-* queues in sysfs, ``ethtool -l``, ``ethtool -L``, and the virtio
interrupt lines in /proc/interrupts (see guestlib.nic_problems).
"""

import guestlib
from guestlib import NicSpec

import pytest

MQ_ON = {'hw:vif_multiqueue_enabled': 'true'}


def _assert_guest_matches(boot):
    problems = guestlib.nic_problems(boot)
    assert not problems, 'the guest differs from the plan:\n  %s\n%s' % (
        '\n  '.join(problems), '\n'.join(boot.report.lines))


def _queues(planned):
    return [nic.queues for nic in planned.plan.nics]


@pytest.fixture(scope='module')
def four_vcpus(module_guests, bridge):
    """4 vCPUs, multiqueue on: 4 queue pairs; the guest also serves
    iperf3 (one boot for the queue and the traffic checks)."""
    nics = [NicSpec(label='data')]
    planned = guestlib.plan_interfaces(4, MQ_ON, nics, bridge.name)
    # No nova-mq knob set: exactly what stock Nova writes.
    stock = guestlib.plan_interfaces(4, MQ_ON, nics, bridge.name, stock=True)
    assert planned.xml == stock.xml
    assert _queues(planned) == [4]
    return module_guests.boot('4vcpu-q4', 4, planned, traffic=True)


def test_four_vcpus_four_queues(four_vcpus):
    _assert_guest_matches(four_vcpus)


def test_traffic_spreads_over_queues(four_vcpus):
    """Host -> guest iperf3 (8 TCP streams, 3 s) over the test bridge: the
    tap spreads the flows, and more than one of the guest's receive queues
    carries them (ethtool -S per-queue counters).  Throughput is not
    asserted: 2 shared cores, TCG, no vhost-net."""
    boot = four_vcpus
    rc, out = boot.iperf or (None, 'the guest never said it was ready')
    assert rc == 0, 'host iperf3 client failed:\n%s' % out
    served = boot.report.one('iperf')
    assert served is not None and served['rc'] == 0, boot.report.tail()
    name = boot.report.nic(boot.planned.nics[0].mac)['name']
    queues = boot.report.queues(name)
    assert len(queues) == 4, boot.report.lines
    # Bytes, not packets: with GRO a queue's share of an iperf3 stream is
    # a few dozen 40 KB packets, and flows may hash unevenly (one run here
    # gave 20,238 packets to one queue, 45-58 of ~2 MB to each other one).
    # Control traffic (ARP, the iperf3 handshake) stays under 100 KB.
    busy = [q['q'] for q in queues if q['rx_bytes'] >= 1 << 20]
    print('\n    receive packets per queue: %s, bytes: %s; busy queues: %s'
          % ([q['rx_packets'] for q in queues],
             [q['rx_bytes'] for q in queues], busy))
    assert len(busy) >= 2, 'only queue(s) %s carried traffic: %s' % (
        busy, queues)
    # The interrupt counters agree: more than one input queue fired.
    assert len([q for q in queues if q['irq_input'] > 0]) >= 2, queues


def test_msi_budget_three_nics(guests, bridge):
    """8 vCPUs, 3 NICs, flavor mq:msi_vector_budget=160 (32 vectors for the
    NICs after the 128 reserved): the budget gives them different queue
    counts, and each guest NIC gets exactly its own."""
    nics = [NicSpec(label='nic%d' % i) for i in range(3)]
    planned = guestlib.plan_interfaces(
        8, dict(MQ_ON, **{'mq:msi_vector_budget': '160'}), nics,
        bridge.name)
    queues = _queues(planned)
    assert len(set(queues)) > 1, queues
    assert all(q is not None and 1 < q < 8 for q in queues), queues
    assert planned.plan.msi_vectors <= planned.plan.msi_budget
    assert all('reduced-for-msi-budget' in nic.reasons
               for nic in planned.plan.nics), planned.plan
    boot = guests.boot('8vcpu-3nic-msi', 8, planned)
    _assert_guest_matches(boot)


def test_port_profile_mq_queues(guests, bridge):
    """Multiqueue unset on the flavor; one port asks for mq_queues=2 in its
    binding profile, the other asks nothing: 2 queue pairs and 1."""
    nics = [NicSpec({'mq_queues': '2'}, label='asks'),
            NicSpec(label='plain')]
    planned = guestlib.plan_interfaces(4, {}, nics, bridge.name)
    assert _queues(planned) == [2, None]
    assert 'enabled-by-port' in planned.plan.nics[0].reasons
    boot = guests.boot('4vcpu-port-q2', 4, planned)
    _assert_guest_matches(boot)


def test_multiqueue_off(guests, bridge):
    """hw:vif_multiqueue_enabled=false: one queue pair, even for a port
    that asks for 4 (its knob is ignored), as stock Nova writes it."""
    nics = [NicSpec({'mq_queues': '4'}, label='off')]
    extra = {'hw:vif_multiqueue_enabled': 'false'}
    planned = guestlib.plan_interfaces(4, extra, nics, bridge.name)
    stock = guestlib.plan_interfaces(4, extra, nics, bridge.name, stock=True)
    assert _queues(planned) == [None]
    assert 'port-knobs-ignored' in planned.plan.nics[0].reasons
    assert planned.xml == stock.xml
    boot = guests.boot('4vcpu-mq-off', 4, planned)
    _assert_guest_matches(boot)
