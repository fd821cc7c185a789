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
"""nova_mq.render_interface against the installed Nova, byte for byte.

Nova is the oracle: every case sets the same attributes on Nova's own
LibvirtConfigGuestInterface and calls its to_xml(), and nova-mq must give
the same text, or raise InvalidInterfaceConfig exactly where Nova raises
(TypeError, ValueError or AttributeError from lxml or pci.utils).  Only the
attributes the installed Nova has are set: Zed (Debian's Nova 26) has
driver_iommu and no managed, newer Nova has driver_packed and managed.
"""

import itertools
import random

from nova import exception as nova_exception
from nova.virt.libvirt import config as vconfig
import pytest

import nova_mq
from nova_mq import exception

from testlib import NET_TYPES
from testlib import SOURCES

_PROBE = vconfig.LibvirtConfigGuestInterface()
HAS_IOMMU = hasattr(_PROBE, 'driver_iommu')
HAS_PACKED = hasattr(_PROBE, 'driver_packed')
HAS_MANAGED = hasattr(_PROBE, 'managed')
#: The ring flag of the installed Nova: one of them, never both.
RING_FLAGS = [n for n in ('driver_iommu', 'driver_packed') if hasattr(
    _PROBE, n)]

#: What lxml and pci.utils raise inside Nova's format_dom().
NOVA_ERRORS = (TypeError, ValueError, AttributeError)

MAC = 'fa:16:3e:12:34:56'


def nova_render(pretty_print=True, **attrs):
    """Nova's own XML for attrs (raises what Nova raises)."""
    conf = vconfig.LibvirtConfigGuestInterface()
    for key, value in attrs.items():
        assert hasattr(conf, key), 'installed Nova has no %s' % key
        setattr(conf, key, value)
    return conf.to_xml(pretty_print=pretty_print)


def outcomes(attrs, pretty):
    """(Nova's result, nova-mq's result): text, or the exception raised."""
    try:
        want = nova_render(pretty_print=pretty, **attrs)
    except NOVA_ERRORS as exc:
        want = exc
    try:
        got = nova_mq.render_interface(pretty_print=pretty, **attrs)
    except exception.InvalidInterfaceConfig as exc:
        got = exc
    return want, got


def mismatch(attrs, pretty, results=None):
    """None when nova-mq agrees with Nova on attrs, else a description.

    results: outcomes(attrs, pretty) when the caller already has them.
    """
    want, got = results or outcomes(attrs, pretty)
    if isinstance(want, Exception):
        if isinstance(got, Exception):
            return None
        return 'Nova raised %r, nova-mq returned %r' % (want, got)
    if want == got:
        return None
    return 'want %r, got %r' % (want, got)


def _short(text, limit=600):
    return text if len(text) <= limit else text[:limit] + '...'


def check_all(cases):
    """Compare every (attrs, pretty) in cases; fail listing a few misses.

    Returns (number of cases, number where Nova raised) so a caller can
    check that its cases reached both outcomes.
    """
    bad = []
    total = raised = 0
    for attrs, pretty in cases:
        total += 1
        results = outcomes(attrs, pretty)
        if isinstance(results[0], Exception):
            raised += 1
        problem = mismatch(attrs, pretty, results)
        if problem is not None:
            bad.append(_short('%r pretty=%s: %s' % (attrs, pretty, problem)))
    assert not bad, '%d of %d differ, e.g.:\n%s' % (
        len(bad), total, '\n'.join(bad[:5]))
    return total, raised


def base(net_type, **extra):
    attrs = {'net_type': net_type, 'mac_addr': MAC}
    attrs.update(SOURCES.get(net_type, {'source_dev': 'br0'}))
    attrs.update(extra)
    return attrs


def ring_flags(on):
    return {name: on for name in RING_FLAGS}


# -- exhaustive matrices over reduced value sets ---------------------------

def test_driver_matrix():
    """Every net type x driver name x ring flag x queue settings x model."""
    cases = []
    for (net, name, ring, queues, rx, tx, model,
         pretty) in itertools.product(
            NET_TYPES, (None, '', 'vhost', 'qemu', 0), (False, True),
            (None, 0, '0', '', 8, '16'), (None, 512, ''), (None, 1024),
            (None, '', 'virtio', 'e1000'), (True, False)):
        attrs = base(net, driver_name=name, vhost_queues=queues,
                     vhost_rx_queue_size=rx, vhost_tx_queue_size=tx,
                     model=model, **ring_flags(ring))
        cases.append((attrs, pretty))
    total, raised = check_all(cases)
    assert total > 10000 and raised == 0


def test_optional_elements_matrix():
    """script, mtu, vlan and target as each net type treats them."""
    managed = (None, 'no', 'yes') if HAS_MANAGED else (None,)
    cases = []
    for (net, script, mtu, vlan, target, mgd, pretty) in itertools.product(
            NET_TYPES, (None, '', '/etc/qemu-ifup'), (None, 0, 1500, '9000'),
            (None, 0, '0', 42, '', '100'), (None, 'tap1234', ''), managed,
            (True, False)):
        attrs = base(net, script=script, mtu=mtu, vlan=vlan,
                     target_dev=target)
        if HAS_MANAGED:
            attrs['managed'] = mgd
        cases.append((attrs, pretty))
    total, raised = check_all(cases)
    assert total >= 3000 and raised == 0


def test_port_filter_bandwidth_matrix():
    """virtualport, filterref and bandwidth, with their truth rules."""
    vports = (
        (None, []),
        ('openvswitch', []),
        ('openvswitch', [{'key': 'interfaceid', 'value': 'abc-123'}]),
        ('802.1Qbh', [{'key': 'profileid', 'value': 'p1'},
                      {'key': 'managerid', 'value': '12'}]),
        (None, [{'key': 'interfaceid', 'value': 'ignored'}]),
    )
    filters = (
        (None, []),
        ('clean-traffic', []),
        ('clean-traffic', [{'key': 'IP', 'value': '10.0.0.1'},
                           {'key': 'MAC', 'value': MAC}]),
    )
    averages = (None, 0, '0', 1000, '')
    cases = []
    for (net, (vtype, vparams), (fname, fparams), in_avg, out_avg, peak,
         burst, pretty) in itertools.product(
            ('bridge', 'vhostuser', 'hostdev'), vports, filters, averages,
            averages, (None, 0, 2000), (None, '', 512), (True, False)):
        attrs = base(net, vporttype=vtype, vportparams=vparams,
                     filtername=fname, filterparams=fparams,
                     vif_inbound_average=in_avg, vif_outbound_average=out_avg,
                     vif_inbound_peak=peak, vif_outbound_peak=peak,
                     vif_inbound_burst=burst, vif_outbound_burst=burst)
        cases.append((attrs, pretty))
    total, raised = check_all(cases)
    assert total > 10000 and raised == 0


# -- seeded random attribute sets ------------------------------------------

AWKWARD = [
    '', ' ', '0', '00', '1', '-1', '4096', 'virtio', 'vhost', 'br-int',
    'a"b', "it's", 'a&b', '&amp;', '<tag>', 'x>y', ']]>', 'tab\there',
    'line\nbreak', 'cr\rhere', ' \t\r\n ', 'caf\u00e9', '\u00e9\u00e8',
    '\u4e2d\u6587', 'emoji \U0001F600 \U0001F4A9', '\u2028\u2029',
    '\ufeffbom', '\ufffd', '\U0010ffff', '\x7f\x80\x9f', 'a' * 300,
    '\u00e9' * 150 + '"' * 40, 'x&<>"\'\t\n\r\u00e9' * 1200,
]
#: Strings lxml refuses: NUL, C0 controls, U+FFFE, U+FFFF.
NOT_XML = ['nul\x00byte', 'bell\x07', 'esc\x1b[0m', '\x0b', '\x1f',
           'bad\ufffe', '\uffffend']
INTS = [0, 1, 4, 16, 256, 1500, 65535, 2 ** 40, -1]
PARAM_KEYS = ['interfaceid', 'profileid', 'managerid', 'typeid',
              'typeidversion', 'instanceid', 'a', '_x', 'A.b-c_9', 'xml']
#: Keys lxml refuses as attribute names (so does nova-mq).
BAD_PARAM_KEYS = ['', '1a', '-a', '.a', 'a b', 'a:b', 'a"b', 'a=b', 'a>']

#: Attributes Nova writes with str(): any int is fine.
STR_OF = ['vhost_queues', 'vhost_rx_queue_size', 'vhost_tx_queue_size',
          'mtu', 'vlan', 'vif_inbound_average', 'vif_inbound_peak',
          'vif_inbound_burst', 'vif_outbound_average', 'vif_outbound_peak',
          'vif_outbound_burst']
#: Attributes Nova hands to lxml as they are: str or None only.
AS_IS = ['mac_addr', 'model', 'driver_name', 'script', 'source_dev',
         'source_mode', 'vhostuser_type', 'vhostuser_mode',
         'vhostuser_path', 'target_dev', 'vporttype', 'filtername'] + (
             ['managed'] if HAS_MANAGED else [])


def rand_text(rng, bad_rate):
    if rng.random() < bad_rate:
        return rng.choice(AWKWARD) + rng.choice(NOT_XML)
    return rng.choice(AWKWARD)


def rand_value(rng, allow_int, bad_rate):
    r = rng.random()
    if r < 0.3:
        return None
    if allow_int and r < 0.55:
        return rng.choice(INTS)
    return rand_text(rng, bad_rate)


def rand_params(rng, bad_rate):
    params = []
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        if rng.random() < bad_rate:
            key = rng.choice(BAD_PARAM_KEYS + [None])
        else:
            key = rng.choice(PARAM_KEYS)
        value = rand_text(rng, bad_rate) if rng.random() > 0.05 else None
        params.append({'key': key, 'value': value})
    return params


def rand_attrs(rng, bad_rate=0.01, int_in_as_is=False):
    """One random attribute set; Nova's real types unless int_in_as_is."""
    net = rng.choice(NET_TYPES + ['network', 'user', 'mcast', 'e\u00e9'])
    attrs = base(net)
    for key in STR_OF:
        if rng.random() < 0.6:
            attrs[key] = rand_value(rng, True, bad_rate)
    for key in AS_IS:
        if key in attrs and rng.random() < 0.9:
            continue  # keep the realistic source so most cases render
        if rng.random() < 0.5:
            attrs[key] = rand_value(rng, int_in_as_is, bad_rate)
    for flag in RING_FLAGS:
        attrs[flag] = rng.random() < 0.5
    for key in ('vportparams', 'filterparams'):
        attrs[key] = rand_params(rng, bad_rate)
    if rng.random() < 0.02:
        attrs[rng.choice(['net_type', 'mac_addr'])] = None
    return attrs


def test_random_attribute_sets():
    """Thousands of seeded random sets with awkward strings and ints."""
    rng = random.Random(20240611)
    cases = [(rand_attrs(rng), rng.random() < 0.5) for _ in range(6000)]
    total, raised = check_all(cases)
    # Both outcomes must be well represented, or the test proves little.
    assert 300 < raised < total - 3000, (raised, total)


def test_random_non_str_in_as_is_attributes():
    """ints (and bools) where Nova passes the value to lxml as it is.

    lxml raises TypeError for them, but only where format_dom() reaches
    the attribute: model=0 is false and never written, source_dev=5 on an
    ethernet interface is never read.
    """
    rng = random.Random(6543)
    cases = [(rand_attrs(rng, 0.0, True), rng.random() < 0.5)
             for _ in range(3000)]
    for name in AS_IS:
        for value in (0, 1, True, False):
            for net in NET_TYPES:
                cases.append((base(net, **{name: value}), True))
    total, raised = check_all(cases)
    assert 300 < raised < total - 300, (raised, total)


# -- errors ----------------------------------------------------------------

def _raises_like_nova(attrs):
    """Assert Nova raises and nova-mq raises InvalidInterfaceConfig."""
    with pytest.raises(NOVA_ERRORS):
        nova_render(**attrs)
    with pytest.raises(exception.InvalidInterfaceConfig) as info:
        nova_mq.render_interface(**attrs)
    exc = info.value
    assert isinstance(exc, nova_exception.Invalid)
    assert isinstance(exc, ValueError)
    return str(exc)


MISSING = [
    ({'net_type': None, 'mac_addr': MAC}, 'net_type'),
    ({'net_type': 'bridge', 'source_dev': 'br0'}, 'mac_addr'),
    (base('bridge', source_dev=None), 'source_dev'),
    (base('network', source_dev=None), 'source_dev'),
    (base('direct', source_dev=None), 'source_dev'),
    (base('direct', source_mode=None), 'source_mode'),
    (base('vdpa', source_dev=None), 'source_dev'),
    (base('hostdev', source_dev=None), 'source_dev'),
    (base('vhostuser', vhostuser_type=None), 'vhostuser_type'),
    (base('vhostuser', vhostuser_mode=None), 'vhostuser_mode'),
    (base('vhostuser', vhostuser_path=None), 'vhostuser_path'),
    (base('bridge', vporttype='openvswitch',
          vportparams=[{'key': None, 'value': 'v'}]), 'vportparams'),
    (base('bridge', vporttype='openvswitch',
          vportparams=[{'key': 'interfaceid', 'value': None}]),
     'vportparams'),
    (base('bridge', filtername='clean-traffic',
          filterparams=[{'key': None, 'value': 'v'}]), 'filterparams'),
    (base('bridge', filtername='clean-traffic',
          filterparams=[{'key': 'IP', 'value': None}]), 'filterparams'),
]


@pytest.mark.parametrize('attrs,key', MISSING)
def test_missing_value(attrs, key):
    msg = _raises_like_nova(attrs)
    assert key in msg and 'None' in msg, msg


#: (attribute, net type that writes it) for every written string attribute.
WRITTEN = [
    ('net_type', 'bridge'), ('mac_addr', 'bridge'), ('model', 'bridge'),
    ('driver_name', 'bridge'), ('vhost_queues', 'bridge'),
    ('vhost_rx_queue_size', 'bridge'), ('vhost_tx_queue_size', 'bridge'),
    ('script', 'ethernet'), ('mtu', 'ethernet'), ('script', 'bridge'),
    ('mtu', 'bridge'), ('source_dev', 'bridge'), ('source_dev', 'direct'),
    ('source_mode', 'direct'), ('source_dev', 'vdpa'),
    ('source_dev', 'network'), ('vhostuser_type', 'vhostuser'),
    ('vhostuser_mode', 'vhostuser'), ('vhostuser_path', 'vhostuser'),
    ('vlan', 'direct'), ('vlan', 'hostdev'), ('target_dev', 'bridge'),
    ('vporttype', 'bridge'), ('filtername', 'bridge'),
    ('vif_inbound_average', 'bridge'), ('vif_inbound_peak', 'bridge'),
    ('vif_inbound_burst', 'bridge'), ('vif_outbound_average', 'bridge'),
    ('vif_outbound_peak', 'bridge'), ('vif_outbound_burst', 'bridge'),
] + ([('managed', 'bridge')] if HAS_MANAGED else [])


def _with_value(name, net, value):
    attrs = base(net, driver_name='vhost', target_dev='tap0',
                 vif_inbound_average=10, vif_outbound_average=10)
    if name == 'net_type':
        attrs = {'net_type': value, 'mac_addr': MAC, 'source_dev': 'b'}
    attrs[name] = value
    return attrs


@pytest.mark.parametrize('bad', NOT_XML)
@pytest.mark.parametrize('name,net', WRITTEN)
def test_not_xml_compatible(name, net, bad):
    msg = _raises_like_nova(_with_value(name, net, 'eth0' + bad))
    assert name in msg and 'eth0' in msg, msg


@pytest.mark.parametrize('name,net', WRITTEN)
def test_awkward_strings_written_like_lxml(name, net):
    for value in AWKWARD:
        attrs = _with_value(name, net, value)
        for pretty in (True, False):
            assert mismatch(attrs, pretty) is None, (attrs, pretty)


@pytest.mark.parametrize('bad', NOT_XML)
@pytest.mark.parametrize('where', ['vportparams', 'filterparams'])
@pytest.mark.parametrize('part', ['key', 'value'])
def test_not_xml_compatible_param(where, part, bad):
    param = {'key': 'interfaceid', 'value': 'abc'}
    param[part] = 'id' + bad
    attrs = base('bridge', vporttype='openvswitch', filtername='f',
                 **{where: [{'key': 'profileid', 'value': 'ok'}, param]})
    msg = _raises_like_nova(attrs)
    assert where in msg and 'id' in msg, msg


@pytest.mark.parametrize('key', BAD_PARAM_KEYS)
def test_bad_vport_param_key(key):
    attrs = base('bridge', vporttype='openvswitch',
                 vportparams=[{'key': key, 'value': 'v'}])
    msg = _raises_like_nova(attrs)
    assert 'vportparams' in msg, msg


@pytest.mark.parametrize('key', ['xmlns', 'xmlnsfoo', 'caf\u00e9',
                                 '{urn:x}y', 'a\u00b7b'])
def test_vport_param_keys_refused_on_purpose(key):
    """Documented deviation: lxml writes these (xmlns as a namespace
    declaration, '{uri}y' with a generated prefix, non-ASCII names), the
    emitter only writes plain ASCII names and refuses the rest."""
    attrs = base('bridge', vporttype='openvswitch',
                 vportparams=[{'key': key, 'value': 'v'}])
    nova_render(**attrs)  # Nova takes them
    with pytest.raises(exception.InvalidInterfaceConfig) as info:
        nova_mq.render_interface(**attrs)
    assert 'vportparams' in str(info.value)


@pytest.mark.parametrize('addr', ['', 'abc', '00:01.2', '0000:00:01:02.3',
                                  '0000.00:01:02', ':::.', '0:0:0:0'])
def test_bad_pci_address(addr):
    msg = _raises_like_nova(base('hostdev', source_dev=addr))
    assert 'source_dev' in msg, msg


@pytest.mark.parametrize('addr', ['0000:81:00.2', '0000:81:00', '::.',
                                  '0:1:2.3.4', 'a:b:c.d', '0000:81:00.',
                                  '\u00e9:b:c.\u00e9', 'a&b:<c>:"d".e'])
def test_pci_addresses_split_like_nova(addr):
    attrs = base('hostdev', source_dev=addr, vlan=7)
    for pretty in (True, False):
        assert mismatch(attrs, pretty) is None, (attrs, pretty)


def test_unknown_keyword_is_type_error():
    with pytest.raises(TypeError):
        nova_mq.render_interface(net_type='bridge', mac_addr=MAC,
                                 source_dev='br0', bogus=1)


def test_alias_and_device_addr_accepted_not_written():
    attrs = base('bridge')
    want = nova_mq.render_interface(**attrs)
    got = nova_mq.render_interface(alias='ua-net0', device_addr=None,
                                   **attrs)
    assert got == want == nova_render(alias='ua-net0', **attrs)


def test_defaults():
    """pretty_print defaults to True; source_mode to "private"."""
    attrs = {'net_type': 'direct', 'mac_addr': MAC, 'source_dev': 'eth0'}
    got = nova_mq.render_interface(**attrs)
    assert got == nova_render(**attrs)
    assert 'mode="private"' in got and got.endswith('</interface>\n')


# -- round trip through Nova's parser --------------------------------------

def _round_trip_cases():
    ring = ring_flags(True)
    vport = {'vporttype': 'openvswitch',
             'vportparams': [{'key': 'interfaceid', 'value': 'a-b'}]}
    filt = {'filtername': 'clean-traffic',
            'filterparams': [{'key': 'IP', 'value': '10.0.0.1'}]}
    bw = {'vif_inbound_average': 100, 'vif_inbound_peak': 200,
          'vif_inbound_burst': 10, 'vif_outbound_average': 0}
    yield base('bridge', model='virtio', driver_name='vhost',
               vhost_queues=4, target_dev='tap0', mtu=1450, script='',
               **vport, **filt, **bw)
    yield base('ethernet', model='virtio', target_dev='tap0', mtu=9000,
               script='/bin/true', vhost_rx_queue_size=1024, **ring)
    yield base('direct', model='virtio', vlan=42, driver_name='vhost')
    yield base('vdpa', model='virtio', target_dev='vdpa0')
    yield base('hostdev', vlan=100)
    yield base('hostdev', source_dev='0000:81:00')
    yield base('vhostuser', model='virtio', vhost_queues=8,
               vhost_tx_queue_size=1024, target_dev='vhu0', **vport)
    yield base('network', model='e1000', **filt)
    yield base('bridge', model='virtio', vif_outbound_average=5)
    yield base('bridge', source_dev='caf\u00e9 "&<>\t\n',
               target_dev='\U0001F600')
    if HAS_MANAGED:
        yield base('ethernet', target_dev='tap0', managed='no')
    for queues in (None, 0, '', 4):
        for name in (None, 'vhost'):
            yield base('vhostuser', driver_name=name, vhost_queues=queues,
                       **ring)
            yield base('bridge', driver_name=name, vhost_queues=queues)


@pytest.mark.parametrize('pretty', [True, False])
def test_round_trip_through_nova_parser(pretty):
    count = 0
    for attrs in _round_trip_cases():
        ours = nova_mq.render_interface(pretty_print=pretty, **attrs)
        conf = vconfig.LibvirtConfigGuestInterface()
        conf.parse_str(ours)
        assert conf.to_xml(pretty_print=pretty) == ours, attrs
        count += 1
    assert count > 20


def test_render_after_error_starts_clean():
    """A failed render leaves nothing behind for the next one."""
    good = base('bridge', model='virtio')
    for bad in (base('bridge', mac_addr=None),
                base('bridge', target_dev='tap\x01'),
                base('hostdev', source_dev='nope')):
        with pytest.raises(exception.InvalidInterfaceConfig):
            nova_mq.render_interface(**bad)
        assert nova_mq.render_interface(**good) == nova_render(**good)


# -- render_interface(plan, ...): the NIC as its plan says ------------------

PLAN_FIELDS = (('driver_name', 'driver'), ('vhost_queues', 'queues'),
               ('vhost_rx_queue_size', 'rx_queue_size'),
               ('vhost_tx_queue_size', 'tx_queue_size'),
               ('driver_packed', 'packed'))


def test_render_from_plan_is_nova_with_the_plan_values():
    """Random guests' NicPlans: render(plan, ...) writes what Nova writes
    with the plan's driver, queues, queue sizes and packed ring set."""
    rng = random.Random(5)
    host = {'kernel_release': '6.1.0'}
    checked = 0
    for _ in range(600):
        options = {'rx_queue_size': rng.choice((None, 256, 1024)),
                   'tx_queue_size': rng.choice((None, 512))}
        specs = rng.choice(({}, {'hw:vif_multiqueue_enabled': 'true'},
                            {'hw:virtio_packed_ring': 'true',
                             'hw:vif_multiqueue_enabled': 'yes'}))
        nics = [{'vif_type': rng.choice(('ovs', 'vhostuser', 'tap')),
                 'vnic_type': rng.choice(('normal', 'normal', 'direct')),
                 'model': 'virtio',
                 'profile': rng.choice(({}, {'mq_queues': 3}))}
                for _ in range(rng.randint(1, 3))]
        plan = nova_mq.plan_guest(rng.choice((1, 2, 8, 16)), specs, None,
                                  rng.choice(('kvm', 'qemu')), host, options,
                                  nics)
        for nic in plan.nics:
            attrs = base(rng.choice(NET_TYPES), model='virtio')
            from_plan = {name: getattr(nic, field)
                         for name, field in PLAN_FIELDS
                         if getattr(nic, field) is not None and (
                             name != 'driver_packed' or RING_FLAGS)}
            assert nova_mq.render_interface(nic, **attrs) == nova_render(
                **dict(attrs, **from_plan))
            checked += 1
    assert checked > 1000


def test_render_from_plan_errors():
    plan = nova_mq.plan_guest(4, {'hw:vif_multiqueue_enabled': 'true'},
                              host={'kernel_release': '6.1.0'},
                              nics=[{'vif_type': 'ovs', 'vnic_type': 'normal',
                                     'model': 'virtio'}])
    nic = plan.nics[0]
    attrs = base('ethernet')
    for name, _ in PLAN_FIELDS[:2]:
        with pytest.raises(TypeError, match='%s both from the NicPlan' % name):
            nova_mq.render_interface(nic, **dict(attrs, **{name: 'x'}))
    with pytest.raises(TypeError, match='NicPlan as its only positional'):
        nova_mq.render_interface(tuple(nic), **attrs)
    with pytest.raises(TypeError, match='NicPlan as its only positional'):
        nova_mq.render_interface(plan, **attrs)
    with pytest.raises(TypeError, match='at most 1 positional'):
        nova_mq.render_interface(nic, nic, **attrs)
    # A plan with nothing to say (a direct port) leaves the driver unset.
    direct = nova_mq.plan_guest(4, nics=[{'vif_type': 'hw_veb',
                                          'vnic_type': 'direct'}]).nics[0]
    assert nova_mq.render_interface(direct, **attrs) == nova_render(**attrs)
