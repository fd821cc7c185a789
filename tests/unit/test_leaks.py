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
"""Leak checks that see C allocations, for every public function.

``len(gc.get_objects())`` sees only objects the garbage collector tracks;
the engine's plans are untracked struct sequences, its strings, ints and
buffers are not objects at all.  So each case (a valid call, and each way
the call can fail) is measured three ways around many calls, after a
warm-up of a tenth as many:

- ``sys.getallocatedblocks()``: every pymalloc block alive, tracked or not
  (Python objects, and the engine's ``PyMem_*`` buffers): flat within
  ``BLOCKS_SLACK``;
- ``tracemalloc``: the bytes allocated through Python's allocators and not
  freed: under ``TRACED_SLACK`` (64 KiB) over ``TRACED_CALLS`` calls;
- RSS (``/proc/self/statm``), which sees what neither sees, the engine's
  and libxml2's ``malloc``: under ``RSS_SLACK`` (1 MiB) over 1,000,000
  calls a function family (``plan_guest``,
  ``render_interface``, ``parse_domain``), split between its cases as
  ``CALLS`` says.

The 3 million calls take about 20 s on a 2-core machine (the whole file
with its tracemalloc rounds about 30 s).  Each bound fails for a leak of
one small block a call: ``test_the_measures_see_a_leak`` runs the same
measures on a churn that keeps what it makes and checks that they fail.

Under AddressSanitizer (tox -e sanitize) freed memory sits in the
quarantine, so RSS measures the sanitizer, and with PYTHONMALLOC=malloc
there are no pymalloc blocks to count: there only the tracemalloc round
runs, and LeakSanitizer, at the exit of the run, reports any ``malloc``
the engine never freed.
"""

import ctypes
import ctypes.util
import gc
import itertools
import os
import sys
import tracemalloc

from nova import exception as nova_exception
import pytest

import nova_mq
from nova_mq import _engine
from nova_mq import exception

HOST = {'kernel_release': '6.1.0-13-amd64'}
OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
ON = {'hw:vif_multiqueue_enabled': 'true'}
OPTIONS = {'rx_queue_size': 512, 'tx_queue_size': 1024,
           'vif_models': ['virtio', 'e1000']}
NICS = [OVS, dict(OVS, profile={'mq_queues': 3}),
        dict(OVS, vif_type='vhostuser'), dict(OVS, model='e1000'),
        dict(OVS, vnic_type='direct'), dict(OVS, fixed_queues=2)]
#: More distinct guests than the engine keeps plans of (64), and one of
#: more NICs than a kept GuestPlan may have (16): plans are made and
#: dropped, not only found.
UNALIKE = [(2 + i % 250, [dict(OVS, profile={'mq_queues': 1 + i % 7})] *
            (1 + i % 4)) for i in range(300)] + [(8, [OVS] * 20)]

IFACE = {'net_type': 'bridge', 'mac_addr': 'fa:16:3e:00:00:01',
         'model': 'virtio', 'driver_name': 'vhost', 'vhost_queues': 4,
         'source_dev': 'br0', 'target_dev': 'tap0', 'mtu': 1450,
         'vporttype': 'openvswitch',
         'vportparams': [{'key': 'interfaceid', 'value': 'a-b'}],
         'vif_inbound_average': 100}
NIC_PLAN = nova_mq.plan_guest(8, ON, host=HOST, nics=[OVS]).nics[0]
PLAN_IFACE = {k: v for k, v in IFACE.items()
              if k not in ('driver_name', 'vhost_queues')}

DOMAIN = ('<domain type="kvm"><name>g</name><vcpu current="2">4</vcpu>'
          '<devices><interface type="bridge">'
          '<mac address="fa:16:3e:00:00:01"/><model type="virtio"/>'
          '<driver name="vhost" queues="4" rx_queue_size="1024"/>'
          '<target dev="tap0"/><alias name="net0"/></interface>'
          '<interface type="vhostuser"><driver queues="2"/></interface>'
          '</devices></domain>')
#: A whole `virsh dumpxml` of 5 NICs (about 7 KiB).
BIG_DOMAIN = DOMAIN.replace('<devices>', '<devices>' + ''.join(
    '<disk type="file" device="disk"><driver name="qemu" type="qcow2"/>'
    '<source file="/var/lib/nova/instances/x/disk.%d"/>'
    '<target dev="vd%s" bus="virtio"/></disk>' % (i, chr(97 + i))
    for i in range(20)) + ''.join(
    '<interface type="ethernet"><mac address="fa:16:3e:00:01:%02x"/>'
    '<model type="virtio"/><driver name="vhost" queues="8"/>'
    '<target dev="tap%d"/></interface>' % (i, i) for i in range(3)))

PLAN_ERRORS = (exception.InvalidMultiqueueValue,
               nova_exception.FlavorImageConflict,
               nova_exception.UnsupportedHardware)


def _plan(*args, **kwargs):
    return lambda: nova_mq.plan_guest(*args, **kwargs)


def _unalike():
    guests = itertools.cycle(UNALIKE)

    def call():
        vcpus, nics = next(guests)
        return nova_mq.plan_guest(vcpus, ON, None, 'kvm', HOST, None, nics)
    return call


def _render(*args, **kwargs):
    return lambda: nova_mq.render_interface(*args, **kwargs)


def _parse(doc):
    return lambda: nova_mq.parse_domain(doc)


def _over_limit():
    return b'<domain>' + b' ' * (_engine.MAX_XML_BYTES - 16) + b'</domain>'


#: family -> case -> (call, the exception it raises or None, calls).
#: Each family's calls add up to 1,000,000.
CASES = {
    'plan': {
        'valid': (_plan(8, ON, None, 'kvm', HOST, OPTIONS, NICS), None,
                  200000),
        'valid-unalike': (_unalike(), None, 150000),
        # More NICs than the plan the engine keeps may hold.
        'valid-many-nics': (_plan(8, ON, None, 'kvm', HOST, OPTIONS,
                                  NICS * 9), None, 150000),
        'bad-extra-spec': (_plan(8, {'mq:max_queues': '-3'}, host=HOST,
                                 nics=NICS),
                           exception.InvalidMultiqueueValue, 100000),
        'bad-type': (_plan('four', ON, host=HOST, nics=NICS),
                     exception.InvalidMultiqueueValue, 100000),
        'bad-last-nic': (_plan(8, ON, host=HOST, nics=NICS + [
            dict(OVS, profile={'mq_queues': 'zero'})]),
            exception.InvalidMultiqueueValue, 100000),
        'conflict': (_plan(8, ON, {'hw_vif_multiqueue_enabled': False},
                           host=HOST, nics=NICS),
                     nova_exception.FlavorImageConflict, 100000),
        'unsupported-model': (_plan(8, host=HOST,
                                    nics=[OVS, dict(OVS, model='lan9118')]),
                              nova_exception.UnsupportedHardware, 100000),
    },
    'render': {
        'valid': (_render(**IFACE), None, 250000),
        'from-plan': (_render(NIC_PLAN, **PLAN_IFACE), None, 150000),
        'bad-attribute-type': (_render(**dict(IFACE, mtu=1500.0)),
                               exception.InvalidInterfaceConfig, 100000),
        'unknown-keyword': (_render(bogus=1, **IFACE), TypeError, 100000),
        'bad-mac': (_render(**dict(IFACE, mac_addr='fa:16:3e:00:00:\x07')),
                    exception.InvalidInterfaceConfig, 100000),
        'missing-mac': (_render(**dict(IFACE, mac_addr=None)),
                        exception.InvalidInterfaceConfig, 100000),
        'bad-late-param': (_render(**dict(IFACE, vportparams=[
            {'key': 'interfaceid', 'value': 'a'}, {'key': '1a', 'value': 'b'}
        ])), exception.InvalidInterfaceConfig, 100000),
        'bad-last-element': (_render(**dict(IFACE, target_dev='tap\x01')),
                             exception.InvalidInterfaceConfig, 100000),
    },
    'parse': {
        'valid': (_parse(DOMAIN), None, 300000),
        'valid-dumpxml': (_parse(BIG_DOMAIN), None, 20000),
        'malformed': (_parse(DOMAIN.replace('</name>', '</nam>')),
                      exception.InvalidDomainXML, 130000),
        'nul': (_parse(DOMAIN.replace('g</name>', 'g\x00</name>')),
                exception.InvalidDomainXML, 130000),
        'over-size': (_parse(_over_limit()), exception.InvalidDomainXML,
                      130000),
        'bad-last-number': (_parse(DOMAIN.replace('queues="2"',
                                                  'queues="x"')),
                            exception.InvalidDomainXML, 130000),
        'doctype': (_parse('<!DOCTYPE domain>' + DOMAIN),
                    exception.InvalidDomainXML, 80000),
        'not-text': (_parse(bytearray(DOMAIN.encode())),
                     exception.InvalidDomainXML, 80000),
    },
}

#: Blocks alive may differ by this much after a round (the interpreter's
#: own noise); one leaked block a call is 100,000 or more.
BLOCKS_SLACK = 64
#: Bytes traced by tracemalloc may grow this much over TRACED_CALLS.
TRACED_SLACK = 64 * 1024
TRACED_CALLS = 20000
#: RSS may grow this much over a case's calls.
RSS_SLACK = 1024 * 1024


def _under_asan():
    with open('/proc/self/maps') as f:
        return 'libasan' in f.read()


UNDER_ASAN = _under_asan()
#: With PYTHONMALLOC=malloc there are no pymalloc blocks to count.
HAS_BLOCKS = sys.getallocatedblocks() > 0


def rss_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def churn_of(call, error):
    """A function that makes call() n times, each raising error (if set)."""
    errors = error or ()

    def churn(n):
        for _ in range(n):
            try:
                call()
            except errors:
                pass
    return churn


def blocks_and_rss_growth(churn, calls):
    """(pymalloc blocks, RSS bytes) gained over churn(calls), measured
    after a warm-up of churn(calls // 10)."""
    churn(max(1, calls // 10))
    gc.collect()
    blocks = sys.getallocatedblocks()
    rss = rss_bytes()
    churn(calls)
    gc.collect()
    return sys.getallocatedblocks() - blocks, rss_bytes() - rss


def traced_growth(churn, calls):
    """Bytes tracemalloc traces more after churn(calls) than before it
    (after a warm-up of churn(calls // 10), traced too)."""
    tracemalloc.start()
    try:
        churn(max(1, calls // 10))
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        churn(calls)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def check_outcome(call, error):
    """call() returns (error None) or raises error: the case is what it
    says, so no measure passes because the call fails early."""
    if error is None:
        assert call() is not None
    else:
        with pytest.raises(error):
            call()


PARAMS = [(family, case) for family in CASES for case in CASES[family]]


def test_each_family_makes_a_million_calls():
    for family, cases in CASES.items():
        assert sum(c[2] for c in cases.values()) == 1000000, family


@pytest.mark.parametrize('family,case', PARAMS,
                         ids=['%s-%s' % p for p in PARAMS])
def test_no_growth(family, case):
    call, error, calls = CASES[family][case]
    check_outcome(call, error)
    churn = churn_of(call, error)
    if HAS_BLOCKS or not UNDER_ASAN:
        blocks, rss = blocks_and_rss_growth(churn, calls)
        if HAS_BLOCKS:
            assert blocks < BLOCKS_SLACK, (blocks, calls)
        if not UNDER_ASAN:
            assert rss < RSS_SLACK, (rss, calls)
    traced = traced_growth(churn, min(calls, TRACED_CALLS))
    assert traced < TRACED_SLACK, traced


# --- the measures themselves -----------------------------------------------

def _keeping(call, error, kept):
    """A churn of call() that keeps every result (or exception) in kept:
    a Python-level leak of one object (and a list slot) a call."""
    errors = error or ()

    def churn(n):
        for _ in range(n):
            try:
                kept.append(call())
            except errors as exc:
                kept.append(exc)
    return churn


@pytest.mark.parametrize('family,case', [
    ('plan', 'valid-unalike'), ('render', 'valid'),
    ('parse', 'bad-last-number')])
def test_the_measures_see_a_leak(family, case):
    """Every bound test_no_growth asserts fails for a churn that keeps
    what the calls return: one leaked object a call."""
    call, error, _ = CASES[family][case]
    kept = []
    if HAS_BLOCKS or not UNDER_ASAN:
        blocks, rss = blocks_and_rss_growth(_keeping(call, error, kept),
                                            100000)
        if HAS_BLOCKS:
            assert blocks >= BLOCKS_SLACK
        if not UNDER_ASAN:
            assert rss >= RSS_SLACK
    del kept[:]
    assert traced_growth(_keeping(call, error, kept),
                         TRACED_CALLS) >= TRACED_SLACK


def test_rss_sees_what_python_cannot():
    """A malloc never freed (as a leak in the engine or libxml2 would
    be) is seen by RSS, not by tracemalloc: 20,000 blocks of 2 KiB
    leaked with libc's malloc, and freed afterwards."""
    libc = ctypes.CDLL(ctypes.util.find_library('c'))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    kept = []

    def churn(n):
        for _ in range(n):
            kept.append(libc.malloc(2048))
    tracemalloc.start()
    try:
        blocks, rss = blocks_and_rss_growth(churn, 20000)
        traced = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        for p in kept:
            libc.free(p)
    assert rss >= 20 * RSS_SLACK
    # All Python holds is a list of addresses: an int and a slot a call.
    assert traced * 10 < rss
