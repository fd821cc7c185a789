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
"""libvirt's own schema and parser accept what nova-mq writes.

The shapes are those of the unit tests' matrices (tests/unit/testlib.py
SOURCES and the value sets of tests/unit/test_render.py), every net type
and source kind, with the values Nova's vif driver can give them.  Each
``<interface>`` is wrapped in a minimal domain and must pass
``virt-xml-validate`` and round-trip through ``defineXML`` on libvirt's
test driver (``test:///default``): what libvirt reads back is what was
written, except that it drops ``queues='1'`` and ``queues='0'`` and names
a missing target itself.

Some shapes of the unit matrices are written by Nova's own
``LibvirtConfigGuestInterface`` exactly as nova-mq writes them, and libvirt
refuses them; Nova's vif driver never builds them and nova-mq never plans
them.  ``test_refused_shapes`` pins each of them down with the reason.
"""

import itertools
import os
import subprocess
import sys
import tempfile
import uuid

from lxml import etree
from nova.virt.libvirt import config as vconfig
import pytest

import nova_mq

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'unit'))
from testlib import NET_TYPES  # noqa: E402
from testlib import SOURCES  # noqa: E402

_PROBE = vconfig.LibvirtConfigGuestInterface()
#: The ring flag of the installed Nova: driver_iommu (Zed) or driver_packed.
RING = 'driver_packed' if hasattr(_PROBE, 'driver_packed') else (
    'driver_iommu')
HAS_MANAGED = hasattr(_PROBE, 'managed')
MAC = 'fa:16:3e:12:34:56'
PORT_ID = str(uuid.UUID(int=0x1234))

#: Net types Nova's vif driver writes.  'network' is in the unit matrix
#: but Nova's config class writes <source bridge=...> for it, which
#: libvirt refuses (test_refused_shapes).
LIBVIRT_NET_TYPES = [net for net in NET_TYPES if net != 'network']


def _base(net, **attrs):
    shape = {'net_type': net, 'mac_addr': MAC}
    shape.update(SOURCES[net])
    shape.update(attrs)
    return shape


def driver_shapes(net):
    """Model, driver, queues, ring sizes and ring flag.

    Only virtio NICs get queues, ring sizes and the ring flag; vhost-user
    needs virtio.  A hostdev NIC is passthrough: Nova gives it no driver
    name, queues or sizes (only the IOMMU flag of an SEV guest).
    """
    if net == 'hostdev':
        axes = ((None,), (None,), (None,), (None,), (False, True))
    else:
        axes = ((None, 'vhost', 'qemu'), (None, 0, 1, 2, 8, 256),
                (None, 256, 512, 1024), (None, 1024), (False, True))
    for name, queues, rx, tx, ring in itertools.product(*axes):
        yield _base(net, model='virtio', driver_name=name,
                    vhost_queues=queues, vhost_rx_queue_size=rx,
                    vhost_tx_queue_size=tx, **{RING: ring})
    if net != 'vhostuser':
        for model in (None, 'e1000'):
            yield _base(net, model=model)


def optional_shapes(net):
    """script, mtu, vlan, target (and managed where Nova has it: Nova sets
    managed='no' on the target of ethernet NICs, whose tap it makes)."""
    managed = (None, 'no', 'yes') if HAS_MANAGED and net == 'ethernet' else (
        None,)
    for script, mtu, vlan, target, mgd in itertools.product(
            (None, '/etc/qemu-ifup'), (None, 1500, '9000'), (None, 42),
            (None, 'tap1234'), managed):
        shape = _base(net, model='virtio', script=script, mtu=mtu,
                      vlan=vlan, target_dev=target)
        if HAS_MANAGED:
            shape['managed'] = mgd
        yield shape


#: The virtual ports Nova's vif driver writes per net type.
VPORTS = {
    'bridge': [(None, []), ('openvswitch', []),
               ('openvswitch', [{'key': 'interfaceid', 'value': PORT_ID}])],
    'direct': [(None, []),
               ('802.1Qbh', [{'key': 'profileid', 'value': 'p1'}])],
    'hostdev': [(None, []),
                ('802.1Qbh', [{'key': 'profileid', 'value': 'p1'}])],
}


#: libvirt's nwfilter applies to tap-backed NICs only (it drops a
#: <filterref> elsewhere); Nova writes one only for them.
FILTERS = {
    net: ((None, []), ('clean-traffic', []),
          ('clean-traffic', [{'key': 'IP', 'value': '10.0.0.1'},
                             {'key': 'MAC', 'value': MAC}]))
    for net in ('bridge', 'ethernet')
}


def port_shapes(net):
    """virtualport, filterref and bandwidth."""
    filters = FILTERS.get(net, ((None, []),))
    for (vtype, vparams), (fname, fparams), average, peak, burst in (
            itertools.product(VPORTS.get(net, [(None, [])]), filters,
                              (None, 1000), (None, 2000), (None, 512))):
        yield _base(net, model=None if net == 'hostdev' else 'virtio',
                    vporttype=vtype, vportparams=vparams, filtername=fname,
                    filterparams=fparams, vif_inbound_average=average,
                    vif_outbound_average=average, vif_inbound_peak=peak,
                    vif_outbound_peak=peak, vif_inbound_burst=burst,
                    vif_outbound_burst=burst)


def shapes(net):
    """Every shape of one net type, as (attrs, nova-mq's XML), distinct."""
    seen = set()
    out = []
    for attrs in itertools.chain(driver_shapes(net), optional_shapes(net),
                                 port_shapes(net)):
        xml = nova_mq.render_interface(**attrs)
        if xml not in seen:
            seen.add(xml)
            out.append((attrs, xml))
    return out


def domain(interfaces, name='nmq-schema'):
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128"
            "</memory><os><type arch='x86_64'>hvm</type></os><devices>%s"
            "</devices></domain>" % (name, ''.join(interfaces)))


def validate(document):
    """(ok, output) of virt-xml-validate on one domain document."""
    with tempfile.NamedTemporaryFile('w', suffix='.xml') as f:
        f.write(document)
        f.flush()
        proc = subprocess.run(['virt-xml-validate', f.name, 'domain'],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    return proc.returncode == 0, proc.stdout.strip()


def _canonical(elem):
    return (elem.tag, tuple(sorted(elem.attrib.items())),
            tuple(sorted(_canonical(child) for child in elem)))


def expected_back(xml):
    """What libvirt should give back for nova-mq's <interface>: the same,
    less queues='0' and queues='1' (and an empty <driver/> left by them)."""
    iface = etree.fromstring(xml)
    driver = iface.find('driver')
    if driver is not None and driver.get('queues') in ('0', '1'):
        del driver.attrib['queues']
        if not len(driver.attrib) and not len(driver):
            iface.remove(driver)
    return iface


def round_trip_problem(test_conn, xml):
    """None when defineXML on test:///default gives xml back, else why."""
    import libvirt
    want = expected_back(xml)
    try:
        dom = test_conn.defineXML(domain([xml]))
    except libvirt.libvirtError as exc:
        return 'defineXML refused it: %s' % exc
    try:
        got = etree.fromstring(dom.XMLDesc(0)).find('devices/interface')
    finally:
        dom.undefine()
    if want.find('target') is None and got.find('target') is not None:
        # libvirt names the tap itself when the XML does not.
        got.remove(got.find('target'))
    vport = want.find('virtualport')
    if vport is not None and vport.get('type') == 'openvswitch' and (
            not len(vport)):
        # ... and gives an Open vSwitch port an interfaceid.
        for params in got.findall('virtualport/parameters'):
            if list(params.attrib) == ['interfaceid']:
                params.getparent().remove(params)
    if _canonical(got) != _canonical(want):
        return 'read back as\n%s' % etree.tostring(got).decode()
    return None


@pytest.mark.parametrize('net', LIBVIRT_NET_TYPES)
def test_schema_accepts(net):
    """Every shape passes virt-xml-validate (queues='0' aside: the schema
    wants a positive integer; see test_refused_shapes)."""
    cases = [(attrs, xml) for attrs, xml in shapes(net)
             if attrs.get('vhost_queues') != 0]
    ok, output = validate(domain(xml for _, xml in cases))
    if not ok:
        bad = []
        for attrs, xml in cases:
            one_ok, one_out = validate(domain([xml]))
            if not one_ok:
                bad.append('%r:\n%s\n%s' % (attrs, xml, one_out))
            if len(bad) >= 5:
                break
        pytest.fail('virt-xml-validate refuses %s shapes, e.g.:\n%s' % (
            net, '\n'.join(bad) or output))
    print('\n    %s: %d shapes valid' % (net, len(cases)))


@pytest.mark.parametrize('net', LIBVIRT_NET_TYPES)
def test_define_round_trips(test_conn, net):
    """defineXML on test:///default reads every shape back as written."""
    cases = shapes(net)
    bad = []
    for attrs, xml in cases:
        problem = round_trip_problem(test_conn, xml)
        if problem:
            bad.append('%r:\n%s%s' % (attrs, xml, problem))
    assert not bad, '%d of %d %s shapes do not round-trip, e.g.:\n%s' % (
        len(bad), len(cases), net, '\n'.join(bad[:5]))
    print('\n    %s: %d shapes round-trip' % (net, len(cases)))


def test_queues_one_and_zero_are_dropped(test_conn):
    """libvirt keeps queues='2' and drops queues='1' and queues='0'."""
    import libvirt
    for queues, kept in ((2, '2'), (1, None), (0, None)):
        xml = nova_mq.render_interface(**_base(
            'bridge', model='virtio', driver_name='vhost',
            vhost_queues=queues))
        dom = test_conn.defineXML(domain([xml]))
        try:
            driver = etree.fromstring(dom.XMLDesc(0)).find(
                'devices/interface/driver')
        finally:
            dom.undefine()
        assert driver is not None and driver.get('name') == 'vhost'
        assert driver.get('queues') == kept, (queues, etree.tostring(driver))
    assert libvirt is not None


def _nova_xml(attrs):
    conf = vconfig.LibvirtConfigGuestInterface()
    for key, value in attrs.items():
        setattr(conf, key, value)
    return conf.to_xml()


#: (why, attrs, where libvirt refuses it, what it says).
REFUSED = [
    ('type network: Nova writes <source bridge=...>',
     _base('network', model='virtio'), 'both',
     "Missing required attribute 'network'"),
    ("queues='0' is not a positive integer (defineXML drops it)",
     _base('bridge', model='virtio', driver_name='vhost', vhost_queues=0),
     'schema', None),
    ('the ring flag on a non-virtio model',
     _base('bridge', model='e1000', **{RING: True}), 'define',
     'only supported for virtio devices'),
    ('vhost-user without virtio',
     _base('vhostuser', model='e1000'), 'define', 'virtio-net'),
    ('a driver name on a passthrough (hostdev) NIC',
     _base('hostdev', model='virtio', driver_name='vhost'), 'define',
     "Invalid value for attribute 'name' in element 'driver'"),
]
if HAS_MANAGED:
    REFUSED.append(
        ("managed='no' on a tap libvirt makes (type bridge)",
         _base('bridge', model='virtio', target_dev='tap1234', managed='no'),
         'define', 'unmanaged target dev is not supported'))


#: (why, attrs, what libvirt drops): accepted but not kept.
DROPPED = [
    ('a filterref on a vhost-user NIC (nwfilter needs a tap)',
     _base('vhostuser', model='virtio', filtername='clean-traffic'),
     '<filterref>'),
    ('queues on a passthrough (hostdev) NIC',
     _base('hostdev', model='virtio', vhost_queues=8, **{RING: True}),
     "queues='8' (it keeps iommu='on')"),
]


@pytest.mark.parametrize('why,attrs,what', DROPPED,
                         ids=[case[0] for case in DROPPED])
def test_dropped_shapes(test_conn, why, attrs, what):
    """Shapes of the unit matrices that libvirt reads but does not keep
    (whole or in part); Nova's own class writes the same bytes."""
    xml = nova_mq.render_interface(**attrs)
    assert xml == _nova_xml(attrs)
    valid, output = validate(domain([xml]))
    assert valid, output
    problem = round_trip_problem(test_conn, xml)
    print('\n    %s: libvirt drops %s' % (why, what))
    assert problem is not None, 'libvirt now keeps it: %s' % xml


@pytest.mark.parametrize('why,attrs,where,says', REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_refused_shapes(test_conn, why, attrs, where, says):
    """Shapes of the unit matrices that libvirt refuses: Nova's own class
    writes the same bytes, so nova-mq is exactly as valid as Nova."""
    import libvirt
    xml = nova_mq.render_interface(**attrs)
    assert xml == _nova_xml(attrs)
    valid, output = validate(domain([xml]))
    try:
        test_conn.defineXML(domain([xml])).undefine()
        defined, error = True, ''
    except libvirt.libvirtError as exc:
        defined, error = False, str(exc)
    print('\n    %s: schema %s, defineXML %s' % (
        why, 'accepts' if valid else 'refuses',
        'accepts' if defined else 'refuses (%s)' % error))
    if where in ('schema', 'both'):
        assert not valid, output
    if where in ('define', 'both'):
        assert not defined
        assert says in error
    if where == 'schema':
        assert defined, error
