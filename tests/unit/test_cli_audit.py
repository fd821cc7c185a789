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
"""nova-mq audit: libvirt's test driver (real libvirt-python), files,
directories and standard input; every finding, exit status and format;
malformed and hostile files reported per file."""

import csv
import io

import pytest
import yaml

from nova_mq import _engine
from nova_mq.cli import audit as cli_audit

import clilib
from clilib import run

COLUMNS = ['Domain', 'UUID', 'vCPUs', 'MAC', 'Model', 'Driver', 'Queues',
           'MSI vectors', 'Findings']


def iface(mac, model='virtio', driver=None, queues=None, itype='bridge'):
    attrs = ''.join(' %s="%s"' % (k, v) for k, v in
                    (('name', driver), ('queues', queues)) if v is not None)
    source = {'bridge': '<source bridge="br-int"/>',
              'vhostuser': '<source type="unix" path="/run/vhu0" '
                           'mode="server"/>',
              'hostdev': ''}[itype]
    return ('<interface type="%s"><mac address="%s"/>%s%s%s</interface>'
            % (itype, mac, source,
               '<model type="%s"/>' % model if model else '',
               '<driver%s/>' % attrs if attrs else ''))


def domain(name, vcpus, *ifaces, uuid=None, dtype='kvm'):
    return ('<domain type="%s"><name>%s</name>%s<memory>1048576</memory>'
            '<vcpu>%d</vcpu><os><type>hvm</type></os><devices>%s</devices>'
            '</domain>' % (dtype, name, '<uuid>%s</uuid>' % uuid if uuid
                           else '', vcpus, ''.join(ifaces)))


# Four running guests of a compute node, for libvirt's test driver.
NODE_DOMAINS = [
    domain('instance-00000001', 4,
           iface('fa:16:3e:01:00:01', driver='vhost', queues=4),
           uuid='6f1c6a8e-0001-4a6e-9d7b-6d2f9c1a0001', dtype='test'),
    domain('instance-00000002', 2,
           iface('fa:16:3e:02:00:01', driver='vhost', queues=8),
           iface('fa:16:3e:02:00:02', model='e1000'),
           uuid='6f1c6a8e-0002-4a6e-9d7b-6d2f9c1a0002', dtype='test'),
    domain('instance-00000003', 1,
           uuid='6f1c6a8e-0003-4a6e-9d7b-6d2f9c1a0003', dtype='test'),
    domain('instance-00000004', 8, iface('fa:16:3e:04:00:01'),
           uuid='6f1c6a8e-0004-4a6e-9d7b-6d2f9c1a0004', dtype='test'),
]
NODE = ('<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>8</cores>'
        '<threads>2</threads><active>16</active><mhz>2000</mhz>'
        '<model>i686</model></cpu><memory>16777216</memory>%s</node>'
        % ''.join(NODE_DOMAINS))


@pytest.fixture
def node(tmp_path):
    path = tmp_path / 'node.xml'
    path.write_text(NODE)
    return 'test://%s' % path


def audit_json(*argv, status=0, stdin=b''):
    r = run('audit', '-f', 'json', *argv, stdin=stdin)
    assert r.status == status, r
    return r.json(), r


def findings(rows):
    return {(row['Domain'], row['MAC']): row['Findings'] for row in rows}


def test_libvirt_test_driver_all_domains(node):
    rows, r = audit_json('--connect', node, status=1)
    assert r.err == ''
    assert [list(row) for row in rows] == [COLUMNS] * len(rows)
    assert [(row['Domain'], row['UUID'], row['vCPUs'], row['MAC'],
             row['Model'], row['Driver'], row['Queues'], row['MSI vectors'])
            for row in rows] == [
        ('instance-00000001', '6f1c6a8e-0001-4a6e-9d7b-6d2f9c1a0001', 4,
         'fa:16:3e:01:00:01', 'virtio', 'vhost', 4, 10),
        ('instance-00000002', '6f1c6a8e-0002-4a6e-9d7b-6d2f9c1a0002', 2,
         'fa:16:3e:02:00:01', 'virtio', 'vhost', 8, 18),
        ('instance-00000002', '6f1c6a8e-0002-4a6e-9d7b-6d2f9c1a0002', 2,
         'fa:16:3e:02:00:02', 'e1000', None, 1, 0),
        ('instance-00000003', '6f1c6a8e-0003-4a6e-9d7b-6d2f9c1a0003', 1,
         None, None, None, None, 0),
        ('instance-00000004', '6f1c6a8e-0004-4a6e-9d7b-6d2f9c1a0004', 8,
         'fa:16:3e:04:00:01', 'virtio', None, 1, 3)]
    assert [row['Findings'] for row in rows] == [
        [], ['queues-above-vcpus'], [], [], ['single-queue-on-multi-vcpu']]


def test_libvirt_domains_by_name_and_uuid(node):
    rows, r = audit_json('--connect', node, '--domain', 'instance-00000004',
                         '--domain', '6f1c6a8e-0001-4a6e-9d7b-6d2f9c1a0001')
    assert [row['Domain'] for row in rows] == ['instance-00000004',
                                               'instance-00000001']
    # A notice alone: exit 0.
    assert rows[0]['Findings'] == ['single-queue-on-multi-vcpu']


def test_libvirt_missing_domain_is_reported_and_the_rest_audited(node):
    rows, r = audit_json('--connect', node, '--domain', 'instance-00000099',
                         '--domain', 'instance-00000001', status=2)
    assert [row['Domain'] for row in rows] == ['instance-00000001']
    assert r.err.startswith('nova-mq audit: error: --domain '
                            'instance-00000099: ')
    assert r.err.count('\n') == 1


def test_libvirt_connection_that_fails(tmp_path):
    rows, r = audit_json('--connect', 'test://%s' % (tmp_path / 'none.xml'),
                         status=2)
    assert rows == []
    assert r.err.startswith('nova-mq audit: error: --connect test://')
    assert r.err.count('\n') == 1


def test_connection_uri_from_nova_conf(node, tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text('[libvirt]\nconnection_uri = %s\n' % node)
    r = run('--config-file', str(conf), 'audit', '-f', 'value', '-c',
            'Domain', config=False)
    assert r.status == 1, r
    assert r.out.split() == ['instance-00000001', 'instance-00000002',
                             'instance-00000002', 'instance-00000003',
                             'instance-00000004']


def test_default_uri_is_qemu_system_without_the_option():
    from nova_mq.cli import common
    common.load_config(type('O', (), {'config_file': [clilib.EMPTY_CONF],
                                      'config_dir': []}))
    try:
        assert cli_audit.default_uri() == 'qemu:///system'
    finally:
        common.conf().clear()


GOOD = domain('good', 4, iface('fa:16:3e:00:00:01', driver='vhost',
                               queues=4))
HOSTILE = {
    'truncated.xml': GOOD[:60].encode(),
    'huge.xml': (b'<domain><name>x</name><vcpu>1</vcpu><description>' +
                 b'a' * _engine.MAX_XML_BYTES + b'</description></domain>'),
    'bomb.xml': (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                 b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                 b'<domain><name>&lol2;</name><vcpu>1</vcpu></domain>'),
    'external.xml': (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
                     b'"file:///etc/passwd">]><domain><name>&x;</name>'
                     b'<vcpu>1</vcpu></domain>'),
    'nul.xml': GOOD[:40].encode() + b'\0' + GOOD[40:].encode(),
    'not-a-domain.xml': b'<network><name>default</name></network>',
    'empty.xml': b'',
    'binary.xml': bytes(range(256)) * 4,
}


def test_directory_with_good_and_bad_files(tmp_path):
    (tmp_path / 'a-good.xml').write_text(GOOD)
    (tmp_path / 'z-good.xml').write_text(domain('other', 2))
    (tmp_path / 'notes.txt').write_text('not read: not *.xml')
    (tmp_path / 'sub.xml').mkdir()
    for name, data in HOSTILE.items():
        (tmp_path / name).write_bytes(data)
    rows, r = audit_json(str(tmp_path), status=2)
    assert [row['Domain'] for row in rows] == ['good', 'other']
    errors = r.err.splitlines()
    assert len(errors) == len(HOSTILE), r.err
    for name in HOSTILE:
        assert sum(line.startswith('nova-mq audit: error: %s: '
                                   % (tmp_path / name)) for line in errors) \
            == 1, (name, r.err)
    assert 'passwd' not in r.out and 'root:' not in r.out + r.err


@pytest.mark.parametrize('name', sorted(HOSTILE))
def test_each_hostile_file_alone_exits_2(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    rows, r = audit_json(str(path), status=2)
    assert rows == []
    assert r.err.startswith('nova-mq audit: error: %s: ' % path)
    assert r.err.count('\n') == 1 and 'Traceback' not in r.err


def test_missing_file_and_files_in_order(tmp_path):
    good = tmp_path / 'good.xml'
    good.write_text(GOOD)
    rows, r = audit_json(str(tmp_path / 'absent.xml'), str(good), status=2)
    assert [row['Domain'] for row in rows] == ['good']
    assert r.err == ('nova-mq audit: error: %s: [Errno 2] No such file or '
                     'directory: %r\n' % (tmp_path / 'absent.xml',
                                          str(tmp_path / 'absent.xml')))


def test_standard_input():
    rows, r = audit_json('-', stdin=GOOD.encode())
    assert rows == [{'Domain': 'good', 'UUID': None, 'vCPUs': 4,
                     'MAC': 'fa:16:3e:00:00:01', 'Model': 'virtio',
                     'Driver': 'vhost', 'Queues': 4, 'MSI vectors': 10,
                     'Findings': []}]
    rows, r = audit_json('-', stdin=b'<domain>', status=2)
    assert r.err.startswith('nova-mq audit: error: -: xml: ')


def one(*ifaces, vcpus=4, argv=(), status=1):
    rows, _r = audit_json('-', *argv, stdin=domain('d', vcpus,
                                                   *ifaces).encode(),
                          status=status)
    return [row['Findings'] for row in rows]


def test_finding_queues_above_vcpus():
    assert one(iface('fa:16:3e:00:00:01', driver='vhost', queues=5)) == [
        ['queues-above-vcpus']]
    assert one(iface('fa:16:3e:00:00:01', driver='vhost', queues=4),
               status=0) == [[]]


def test_finding_queues_above_tap_limit():
    nic = iface('fa:16:3e:00:00:01', driver='vhost', queues=8)
    assert one(nic, vcpus=16, argv=('--max-queues', '4')) == [
        ['queues-above-tap-limit']]
    # Kernel 3.x: Nova's cap of 8.
    assert one(nic, vcpus=16, argv=('--kernel-release', '3.10.0'),
               status=0) == [[]]
    assert one(iface('fa:16:3e:00:00:01', driver='vhost', queues=9),
               vcpus=16, argv=('--kernel-release', '3.10.0')) == [
        ['queues-above-tap-limit']]
    assert one(nic, vcpus=16, argv=('--kernel-release', '3.10.0',
                                    '--max-queues', '7')) == [
        ['queues-above-tap-limit']]
    vhostuser = iface('fa:16:3e:00:00:01', queues=8, itype='vhostuser')
    # vhost-user has no tap device: no tap cap.
    assert one(vhostuser, vcpus=16, argv=('--max-queues', '4'),
               status=0) == [[]]


def test_finding_msi_budget_exceeded():
    nics = [iface('fa:16:3e:00:00:0%d' % i, driver='vhost', queues=4)
            for i in (1, 2)]
    # Two 4-queue NICs: 10 + 10 vectors.
    argv = ('--msi-vector-budget', '39', '--reserved-msi-vectors', '20')
    assert one(*nics, argv=argv) == [['msi-budget-exceeded']] * 2
    argv = ('--msi-vector-budget', '40', '--reserved-msi-vectors', '20')
    assert one(*nics, argv=argv, status=0) == [[], []]


def test_finding_queues_on_non_virtio():
    assert one(iface('fa:16:3e:00:00:01', model='e1000', queues=2)) == [
        ['queues-on-non-virtio']]


def test_finding_queues_without_vhost():
    assert one(iface('fa:16:3e:00:00:01', driver='qemu', queues=2)) == [
        ['queues-without-vhost']]
    assert one(iface('fa:16:3e:00:00:01', driver='qemu', queues=1),
               vcpus=1, status=0) == [[]]


def test_notice_single_queue_on_multi_vcpu_exits_0():
    assert one(iface('fa:16:3e:00:00:01'), vcpus=2, status=0) == [
        ['single-queue-on-multi-vcpu']]
    assert one(iface('fa:16:3e:00:00:01'), vcpus=1, status=0) == [[]]
    # Passthrough NICs have no queues to add.
    assert one(iface('fa:16:3e:00:00:01', model=None, itype='hostdev'),
               vcpus=8, status=0) == [[]]


def test_several_findings_on_one_nic():
    assert one(iface('fa:16:3e:00:00:01', model='rtl8139', driver='qemu',
                     queues=9), argv=('--max-queues', '8')) == [
        ['queues-above-vcpus', 'queues-above-tap-limit',
         'queues-on-non-virtio', 'queues-without-vhost']]


def test_output_formats_columns_and_sorting(node):
    r = run('audit', '--connect', node)
    assert r.status == 1
    header = [c.strip() for c in r.out.splitlines()[1].strip('|').split('|')]
    assert header == COLUMNS
    assert 'single-queue-on-multi-vcpu' in r.out
    rows = yaml.safe_load(run('audit', '--connect', node, '-f', 'yaml').out)
    assert rows == audit_json('--connect', node, status=1)[0]
    table = list(csv.reader(io.StringIO(
        run('audit', '--connect', node, '-f', 'csv').out)))
    assert table[0] == COLUMNS and len(table) == 6
    r = run('audit', '--connect', node, '-f', 'value', '-c', 'MAC', '-c',
            'Queues', '--sort-column', 'Queues', '--sort-descending')
    assert r.out.splitlines()[:2] == ['None None', 'fa:16:3e:02:00:01 8']
    r = run('audit', '--connect', node, '-c', 'Nope')
    assert r.status == 2 and r.err.startswith('nova-mq audit: error: -c ')


def test_bad_host_option_exits_2():
    r = run('audit', '-', '--max-queues', 'x', stdin=GOOD.encode())
    assert r.status == 2
    assert r.err.startswith('nova-mq audit: error: --max-queues x: ')


def test_help_lists_every_finding():
    r = run('help', 'audit', config=False)
    assert r.status == 0
    for code in cli_audit.FINDINGS:
        if code != 'differs-from-plan':
            assert code in r.out, code
    assert 'Exit status: 2 if a source could not be read' in r.out


def test_check_domain_is_pure():
    limits = cli_audit.HostLimits(256, 3968, _engine.msi_vectors)
    from nova_mq import parse_domain
    rows = cli_audit.check_domain(parse_domain(GOOD), limits)
    assert rows == [['good', None, 4, 'fa:16:3e:00:00:01', 'virtio', 'vhost',
                     4, 10, []]]
    assert not cli_audit.is_problem(rows)
