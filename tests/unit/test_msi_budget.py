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
"""The MSI-X budget through plan_guest, against the contract's loop.

The engine finds the result by a binary search over queue levels; the
reference here is the procedure as the contract states it: while the
guest's vectors are over budget and some new NIC has more than one queue,
take one queue from the NIC with the most (ties: the later NIC).  A
virtio NIC with q > 1 queue pairs uses 2q+2 vectors, a single-queue one 3,
anything else none; fixed (running) NICs keep their queues.
"""

import random

import nova_mq

HOST = {'kernel_release': '6.1.0-13-amd64'}
OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
ON = {'hw:vif_multiqueue_enabled': 'true'}
NO_BUDGET = {'msi_vector_budget': 1 << 30, 'reserved_msi_vectors': 0}


def vectors(queues):
    return 2 * queues + 2 if queues > 1 else 3


def reference(counts, virtio, fixed, budget):
    """The contract's loop.  Returns (final counts, total vectors)."""
    q = list(counts)
    total = sum(vectors(c) for c, v in zip(q, virtio) if v)
    while total > budget:
        cands = [i for i in range(len(q))
                 if virtio[i] and not fixed[i] and q[i] > 1]
        if not cands:
            break
        best = max(cands, key=lambda i: (q[i], i))
        total += vectors(q[best] - 1) - vectors(q[best])
        q[best] -= 1
    return q, total


def random_nic(rng, vcpus):
    r = rng.randrange(20)
    if r == 0:
        return dict(OVS, model='e1000')
    if r == 1:
        return dict(OVS, vnic_type='direct')
    if r == 2:
        return dict(OVS, fixed_queues=rng.randint(1, min(vcpus, 256)))
    if r == 3:
        return dict(OVS, profile={
            'mq_throughput': rng.choice(('high', 'medium', 'low'))})
    if r == 4:
        return dict(OVS, vif_type='vhostuser')
    if r == 5:
        return dict(OVS)
    return dict(OVS, profile={'mq_queues': str(rng.randint(1, 256))})


def count(nic_plan):
    return nic_plan.queues or 1


def check_guest(rng):
    n = rng.randint(1, 64 if rng.random() < 0.1 else 12)
    vcpus = rng.randint(1, 300)
    specs = dict(ON) if rng.random() < 0.25 else {}
    nics = [random_nic(rng, vcpus) for _ in range(n)]
    budget = rng.randrange(n * 600 + 200)
    reserved = rng.choice((0, 100))
    free = nova_mq.plan_guest(vcpus, specs, nics=nics, host=HOST,
                              options=NO_BUDGET)
    virtio = [p.msi_vectors > 0 for p in free.nics]
    fixed = [nic.get('fixed_queues', 0) > 0 for nic in nics]
    want, total = reference([count(p) for p in free.nics], virtio, fixed,
                            budget - reserved)
    got = nova_mq.plan_guest(vcpus, specs, nics=nics, host=HOST,
                             options={'msi_vector_budget': budget,
                                      'reserved_msi_vectors': reserved})
    assert [count(p) for p in got.nics] == want
    for before, after in zip(free.nics, got.nics):
        cut = count(after) < count(before)
        assert ('reduced-for-msi-budget' in after.reasons) == cut
        assert after.multiqueue == (after.queues is not None and
                                    after.queues > 1)
        assert after.msi_vectors == (vectors(count(after))
                                     if after.msi_vectors else 0)
        if cut and count(after) == 1:
            assert after.queues is None  # the single-queue form
    assert got.msi_vectors == total
    assert got.msi_budget == budget - reserved
    over = total > budget - reserved
    assert got.warnings == (('msi-budget-exceeded-at-one-queue',)
                            if over else ())


def test_random_guests_match_the_loop():
    rng = random.Random(20240613)
    for _ in range(3000):
        check_guest(rng)


def test_hundred_vcpus_twenty_nics_fit_the_default_budget():
    g = nova_mq.plan_guest(100, ON, nics=[OVS] * 20, host=HOST)
    # 20 x 202 = 4040 vectors wanted, 3968 allowed: everyone to 99, then
    # the 16 latest to 98.
    assert g.msi_budget == 4096 - 128
    assert g.msi_vectors == 4 * 200 + 16 * 198 <= 4096 - 128
    assert [p.queues for p in g.nics] == [99] * 4 + [98] * 16
    assert all(p.requested == 100 for p in g.nics)
    assert all('reduced-for-msi-budget' in p.reasons for p in g.nics)
    assert g.warnings == ()


def test_fixed_nics_are_spent_first_and_never_reduced():
    nics = [dict(OVS, fixed_queues=16), OVS, OVS, dict(OVS, fixed_queues=1)]
    opts = {'msi_vector_budget': 34 + 3 + 10 + 8, 'reserved_msi_vectors': 0}
    g = nova_mq.plan_guest(16, ON, nics=nics, host=HOST, options=opts)
    assert [p.queues for p in g.nics] == [16, 4, 3, None]
    assert g.nics[0].reasons == ('kept-running-queues',)
    assert g.nics[3].reasons == ('kept-running-queues',)
    assert g.msi_vectors == 55 and g.warnings == ()


def test_over_budget_at_one_queue_warns_and_never_fails():
    nics = [dict(OVS, fixed_queues=16), OVS, OVS]
    g = nova_mq.plan_guest(16, ON, nics=nics, host=HOST,
                           options={'msi_vector_budget': 39,
                                    'reserved_msi_vectors': 0})
    assert [p.queues for p in g.nics] == [16, None, None]
    assert [p.driver for p in g.nics] == ['vhost', None, None]
    assert 'reduced-for-msi-budget' in g.nics[1].reasons
    assert g.msi_vectors == 34 + 3 + 3 > g.msi_budget
    assert g.warnings == ('msi-budget-exceeded-at-one-queue',)
    # Reserved above the budget: a negative budget, still a plan.
    g = nova_mq.plan_guest(4, ON, nics=[OVS], host=HOST,
                           options={'msi_vector_budget': 10,
                                    'reserved_msi_vectors': 100})
    assert g.msi_budget == -90 and g.nics[0].queues is None
    assert g.warnings == ('msi-budget-exceeded-at-one-queue',)


def test_flavor_budget_overrides_the_option():
    specs = dict(ON, **{'mq:msi_vector_budget': '30'})
    g = nova_mq.plan_guest(8, specs, nics=[OVS] * 3, host=HOST,
                           options={'reserved_msi_vectors': 0})
    assert g.msi_budget == 30
    # 3 x 18 = 54 > 30: level 4 costs 30.
    assert [p.queues for p in g.nics] == [4, 4, 4]
    assert g.msi_vectors == 30
