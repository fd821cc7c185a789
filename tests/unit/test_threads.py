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
"""The engine's thread-safety contract (ext/py_module.c, contributor
guide): every entry point holds the GIL throughout, and the only mutable
module state (the error factory, the one kept plan) changes under it.

16 native threads make the same mixed calls (plans that alternate so the
kept plan is replaced all the time, renders, parses, and each kind of
error) in different orders; every result must equal the serial run's.
Bounded by counts, never by time; sys.setswitchinterval is lowered so the
threads interleave between calls as often as the interpreter allows.
"""

import random
import sys
import threading

import nova_mq
from nova_mq import exception

THREADS = 16
ROUNDS = 300

OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
HOST = {'kernel_release': '6.1.0-13-amd64'}
ON = {'hw:vif_multiqueue_enabled': 'true'}
IFACE = {'net_type': 'bridge', 'mac_addr': 'fa:16:3e:00:00:01',
         'model': 'virtio', 'driver_name': 'vhost', 'source_dev': 'br0',
         'target_dev': 'tap0'}
DOMAIN = ('<domain type="kvm"><name>g%d</name><vcpu>%d</vcpu><devices>'
          '<interface type="bridge"><mac address="fa:16:3e:00:00:01"/>'
          '<model type="virtio"/><driver name="vhost" queues="%d"/>'
          '<source bridge="br0"/></interface></devices></domain>')


def _calls():
    """(name, call) pairs: valid and failing calls of every entry point."""
    calls = []
    for vcpus in (1, 2, 3, 8, 64):
        for nics in ([OVS], [OVS, dict(OVS, profile={'mq_queues': 2})]):
            calls.append(('plan %d %d' % (vcpus, len(nics)),
                          lambda v=vcpus, n=nics: nova_mq.plan_guest(
                              v, ON, None, 'kvm', HOST, None, n)))
        calls.append(('render %d' % vcpus,
                      lambda v=vcpus: nova_mq.render_interface(
                          vhost_queues=v, **IFACE)))
        calls.append(('parse %d' % vcpus,
                      lambda v=vcpus: nova_mq.parse_domain(
                          DOMAIN % (v, v, v))))
    calls += [
        ('bad spec', lambda: nova_mq.plan_guest(
            4, {'mq:max_queues': '-3'}, host=HOST, nics=[OVS])),
        ('bad render', lambda: nova_mq.render_interface(
            **dict(IFACE, mtu=1.5))),
        ('bad xml', lambda: nova_mq.parse_domain('<domain><vcpu>')),
    ]
    return calls


def _outcome(call):
    try:
        return 'ok', call()
    except exception.NovaMQInvalid as exc:
        return type(exc).__name__, str(exc)


def test_16_threads_get_the_serial_results():
    calls = _calls()
    expected = {name: _outcome(call) for name, call in calls}
    assert {kind for kind, _ in expected.values()} == {
        'ok', 'InvalidMultiqueueValue', 'InvalidInterfaceConfig',
        'InvalidDomainXML'}
    wrong = []
    done = []
    start = threading.Barrier(THREADS)

    def worker(seed):
        order = list(calls)
        rng = random.Random(seed)
        start.wait()
        for _ in range(ROUNDS):
            rng.shuffle(order)
            for name, call in order:
                got = _outcome(call)
                if got != expected[name]:
                    wrong.append((name, got, expected[name]))
        done.append(seed)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert sorted(done) == list(range(THREADS))
    assert not wrong, wrong[:3]
