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
"""nova-mq plan: Nova's objects through the vif driver, every option and
output format, and the user errors (exit 2, one line)."""

import csv
import io
import os

import os_vif
import pytest
import yaml
from nova import objects
from nova.virt.libvirt import config as nova_config
from nova.virt.libvirt import vif as nova_vif

from nova_mq.cli import plan as cli_plan

from clilib import run

COLUMNS = ['NIC', 'VIF type', 'Model', 'Driver', 'Queues', 'MSI vectors',
           'vhost memory (KiB)', 'Reasons']

# The demo's guest (tests/unit/test_demo.py has the arithmetic).
DEMO = ('--vcpus', '16',
        '--flavor-property', 'mq:throughput=medium',
        '--flavor-property', 'mq:msi_vector_budget=80',
        '--reserved-msi-vectors', '16',
        '--nic', 'type=ovs,mq_throughput=high',
        '--nic', 'type=ovs,mq_queues=4',
        '--nic', 'type=tap',
        '--nic', 'type=vhostuser,mq_throughput=high',
        '--nic', 'type=hw_veb,vnic_type=direct',
        '--nic', 'type=ovs')


def plan_json(*argv):
    r = run('plan', '-f', 'json', *argv)
    assert r.status == 0, r
    assert r.err == '', r
    return r.json()


def test_demo_guest_rows_and_totals_as_json():
    rows = plan_json(*DEMO)
    assert [list(row) for row in rows] == [COLUMNS] * 7
    nics, total = rows[:-1], rows[-1]
    assert [r['NIC'] for r in nics] == ['0', '1', '2', '3', '4', '5']
    assert [r['VIF type'] for r in nics] == ['ovs', 'ovs', 'tap',
                                             'vhostuser', 'hw_veb', 'ovs']
    assert [r['Queues'] for r in nics] == [11, 4, 1, 11, None, 1]
    assert [r['MSI vectors'] for r in nics] == [24, 10, 3, 24, 0, 3]
    assert [r['Driver'] for r in nics] == ['vhost', 'vhost', None, None,
                                           None, None]
    assert [r['Model'] for r in nics] == ['virtio'] * 4 + [None, 'virtio']
    # vhost-net: 64 KiB per queue pair, only on vhost-net NICs.
    assert [r['vhost memory (KiB)'] for r in nics] == [704, 256, 0, 0, 0, 0]
    assert nics[0]['Reasons'] == ['enabled-by-port', 'throughput-from-port',
                                  'reduced-for-msi-budget']
    assert nics[4]['Reasons'] == ['passthrough-vnic']
    assert total == {'NIC': 'guest', 'VIF type': None, 'Model': None,
                     'Driver': None, 'Queues': 28, 'MSI vectors': 64,
                     'vhost memory (KiB)': 960,
                     'Reasons': ['msi-budget=64']}


def test_table_shows_totals_against_the_budget():
    r = run('plan', *DEMO)
    assert r.status == 0, r
    lines = r.out.splitlines()
    header = [c.strip() for c in lines[1].strip('|').split('|')]
    assert header == COLUMNS
    guest = [c.strip() for c in lines[-2].strip('|').split('|')]
    assert guest[0] == 'guest' and guest[5] == '64 of 64'
    assert 'enabled-by-port, port-queues' in r.out


def test_yaml_csv_and_value():
    rows = yaml.safe_load(run('plan', '-f', 'yaml', *DEMO).out)
    assert rows == plan_json(*DEMO)
    table = list(csv.reader(io.StringIO(run('plan', '-f', 'csv',
                                            *DEMO).out)))
    assert table[0] == COLUMNS
    assert [r[4] for r in table[1:]] == ['11', '4', '1', '11', '', '1', '28']
    value = run('plan', '-f', 'value', '-c', 'NIC', '-c', 'Queues', *DEMO)
    assert value.out.splitlines() == ['0 11', '1 4', '2 1', '3 11', '4 None',
                                      '5 1', 'guest 28']


def test_columns_and_sorting_keep_the_totals_last():
    rows = plan_json('-c', 'NIC', '-c', 'Queues', '--sort-column', 'Queues',
                     '--sort-descending', *DEMO)
    # As cliff sorts: unset values first when descending, ties in order.
    assert rows == [{'NIC': n, 'Queues': q} for n, q in
                    [('4', None), ('0', 11), ('3', 11), ('1', 4), ('2', 1),
                     ('5', 1), ('guest', 28)]]
    rows = plan_json('-c', 'NIC', '--sort-column', 'VIF type', *DEMO)
    assert [r['NIC'] for r in rows] == ['4', '0', '1', '5', '2', '3',
                                        'guest']
    # As cliff reads column names for sorting: any case, _ for a space.
    assert plan_json('-c', 'NIC', '--sort-column', 'vif_type', *DEMO) == rows
    rows = plan_json('-c', 'NIC', '--sort-column', 'MSI vectors',
                     '--sort-column', 'NIC', *DEMO)
    assert [r['NIC'] for r in rows] == ['4', '2', '5', '1', '0', '3',
                                        'guest']


def _nova_interfaces(vcpus, specs, vif_types):
    """Stock Nova's get_config().to_xml() of the same guest."""
    objects.register_all()
    os_vif.initialize()
    nics = [cli_plan.parse_nic('type=%s' % t, i)
            for i, t in enumerate(vif_types)]
    flavor = objects.Flavor(vcpus=vcpus, memory_mb=4096, extra_specs=specs)
    image = objects.ImageMeta.from_dict({'properties': {}})
    instance = objects.Instance(uuid=cli_plan.UUID, flavor=flavor)
    driver = nova_vif.LibvirtGenericVIFDriver()
    return [driver.get_config(instance, cli_plan.make_vif(i, nic), image,
                              flavor, 'kvm').to_xml().rstrip('\n')
            for i, nic in enumerate(nics)]


def test_xml_is_novas_own_without_knobs():
    rows = plan_json('--vcpus', '4', '--nic', 'type=ovs', '--nic',
                     'type=vhostuser', '--nic', 'type=hw_veb', '--xml')
    assert list(rows[0]) == COLUMNS + ['XML']
    assert rows[-1]['XML'] is None
    assert [r['XML'] for r in rows[:-1]] == _nova_interfaces(
        4, {}, ['ovs', 'vhostuser', 'hw_veb'])


def test_xml_has_the_planned_queues():
    rows = plan_json(*DEMO + ('--xml',))
    for row in rows[:-1]:
        conf = nova_config.LibvirtConfigGuestInterface()
        conf.parse_str(row['XML'])
        assert (conf.vhost_queues or (1 if conf.model else None)
                == row['Queues'])
    assert '<driver name="vhost" queues="11"/>' in rows[0]['XML']
    value = run('plan', '-f', 'value', '-c', 'XML', '--xml', *DEMO[:4] +
                ('--nic', 'type=ovs,mq_queues=4'))
    assert value.out.startswith('<interface type="bridge">\n')
    assert '<driver name="vhost" queues="4"/>' in value.out


def test_host_max_queues_and_kernel_release():
    nic = ('--vcpus', '16', '--nic', 'type=ovs,mq_throughput=high')
    assert plan_json(*nic)[0]['Queues'] == 16
    row = plan_json('--max-queues', '3', *nic)[0]
    assert row['Queues'] == 3
    assert 'capped-by-libvirt-max-queues' in row['Reasons']
    row = plan_json('--kernel-release', '3.10.0-1160.el7.x86_64', *nic)[0]
    assert row['Queues'] == 8 and 'capped-by-host-kernel' in row['Reasons']
    # [libvirt]max_queues set: the kernel is not read (as Nova).
    row = plan_json('--kernel-release', '3.10.0', '--max-queues', '12',
                    *nic)[0]
    assert row['Queues'] == 12


def test_host_queue_sizes_reach_the_xml():
    rows = plan_json('--vcpus', '4', '--nic', 'type=vhostuser,mq_queues=2',
                     '--rx-queue-size', '512', '--tx-queue-size', '1024',
                     '--xml')
    # vhost-user: no vhost-net driver name, as Nova writes it.
    assert ('<driver queues="2" rx_queue_size="512" '
            'tx_queue_size="1024"/>') in rows[0]['XML']


def test_host_msi_budget_options():
    nics = ('--vcpus', '16', '--nic', 'type=ovs,mq_queues=16', '--nic',
            'type=ovs,mq_queues=16')
    total = plan_json('--msi-vector-budget', '60',
                      '--reserved-msi-vectors', '20', *nics)[-1]
    assert total['Reasons'] == ['msi-budget=40']
    assert total['MSI vectors'] <= 40 and total['Queues'] == 18


def test_virt_type_qemu_has_no_queues():
    rows = plan_json('--virt-type', 'qemu', '--vcpus', '8', '--nic',
                     'type=ovs,mq_queues=4')
    assert rows[0]['Queues'] == 1


def test_flavor_and_image_properties():
    nic = ('--vcpus', '8', '--nic', 'type=ovs')
    assert plan_json(*nic)[0]['Queues'] == 1
    assert plan_json('--flavor-property', 'hw:vif_multiqueue_enabled=true',
                     *nic)[0]['Queues'] == 8
    assert plan_json('--image-property', 'hw_vif_multiqueue_enabled=true',
                     '--flavor-property', 'mq:throughput=low',
                     *nic)[0]['Queues'] == 1
    assert plan_json('--image-property', 'hw_vif_multiqueue_enabled=true',
                     '--flavor-property', 'mq:max_queues=3',
                     *nic)[0]['Queues'] == 3
    rows = plan_json('--image-property', 'hw_vif_model=e1000', *nic)
    assert rows[0]['Model'] == 'e1000' and rows[0]['Queues'] == 1
    assert plan_json('--nic', 'type=tap,model=e1000', '--vcpus',
                     '2')[0]['Model'] == 'e1000'


def test_nova_conf_and_overrides(tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text('[libvirt]\nmax_queues = 5\n'
                    '[nova_mq]\nmsi_vector_budget = 300\n'
                    'reserved_msi_vectors = 100\n')
    nic = ('--vcpus', '16', '--nic', 'type=ovs,mq_queues=16')
    rows = run('--config-file', str(conf), 'plan', '-f', 'json', *nic,
               config=False).json()
    assert rows[0]['Queues'] == 5 and rows[-1]['Reasons'] == [
        'msi-budget=200']
    rows = run('--config-file', str(conf), 'plan', '-f', 'json',
               '--max-queues', '7', *nic, config=False).json()
    assert rows[0]['Queues'] == 7
    # The override is gone after the command.
    rows = run('--config-file', str(conf), 'plan', '-f', 'json', *nic,
               config=False).json()
    assert rows[0]['Queues'] == 5
    confd = tmp_path / 'nova.conf.d'
    confd.mkdir()
    (confd / '50-mq.conf').write_text('[libvirt]\nmax_queues = 6\n')
    rows = run('--config-file', str(conf), '--config-dir', str(confd),
               'plan', '-f', 'json', *nic, config=False).json()
    assert rows[0]['Queues'] == 6


def test_default_nova_conf_when_it_exists(tmp_path, monkeypatch):
    from nova_mq.cli import common
    conf = tmp_path / 'nova.conf'
    conf.write_text('[libvirt]\nmax_queues = 2\n')
    nic = ('plan', '-f', 'json', '--vcpus', '8', '--nic',
           'type=ovs,mq_queues=8')
    monkeypatch.setattr(common, 'DEFAULT_CONFIG_FILE', str(conf))
    assert run(*nic, config=False).json()[0]['Queues'] == 2
    monkeypatch.setattr(common, 'DEFAULT_CONFIG_FILE',
                        str(tmp_path / 'absent.conf'))
    assert run(*nic, config=False).json()[0]['Queues'] == 8


@pytest.mark.parametrize('argv,message', [
    (('--vcpus', 'x', '--nic', 'type=ovs'),
     "argument --vcpus: invalid integer: 'x'"),
    (('--vcpus', '0', '--nic', 'type=ovs'),
     "argument --vcpus: must be at least 1: '0'"),
    (('--vcpus', '2'), 'the following arguments are required: --nic'),
    (('--vcpus', '2', '--nic', 'type=ovs,colour=red'),
     "--nic type=ovs,colour=red: unknown key 'colour'"),
    (('--vcpus', '2', '--nic', 'vnic_type=normal'),
     '--nic vnic_type=normal: type= is required'),
    (('--vcpus', '2', '--nic', 'type=ovs,mq_queues'),
     '--nic mq_queues: expected KEY=VALUE'),
    (('--vcpus', '2', '--nic', 'type=ovs', '--flavor-property', 'mq'),
     '--flavor-property mq: expected KEY=VALUE'),
    (('--vcpus', '2', '--nic', 'type=ovs', '--flavor-property',
      'hw:vif_multiqueue_enabled=maybe'),
     "--flavor-property hw:vif_multiqueue_enabled=maybe: Validation failed; "
     "'maybe' is not a valid boolean-like value."),
    (('--vcpus', '2', '--nic', 'type=ovs', '--flavor-property',
      'mq:throughput=warp'),
     '--flavor-property mq:throughput=warp: Validation failed;'),
    (('--vcpus', '2', '--nic', 'type=ovs', '--image-property',
      'hw_vif_multiqueue=true'),
     '--image-property hw_vif_multiqueue: not an image property Nova '
     'knows'),
    (('--vcpus', '2', '--nic', 'type=ovs', '--image-property',
      'hw_vif_model=floppy'),
     '--image-property hw_vif_model=floppy: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '--flavor-property',
      'hw:vif_multiqueue_enabled=true', '--image-property',
      'hw_vif_multiqueue_enabled=false'),
     'Flavor nova-mq-plan has hw:vif_multiqueue_enabled extra spec '
     'explicitly set to True, conflicting with image nova-mq-plan which '
     'has hw_vif_multiqueue_enabled explicitly set to False.'),
    (('--vcpus', '2', '--nic', 'type=ovs,mq_queues=many'),
     "--nic type=ovs,mq_queues=many: Invalid value 'many' for "
     "nics[0].mq_queues: must be an integer from 1 to 256"),
    (('--vcpus', '2', '--nic', 'type=teleport'),
     '--nic type=teleport: Unsupported VIF type teleport'),
    (('--vcpus', '2', '--nic', 'type=ovs,model=virtio', '--nic',
      'type=ovs,model=e1000'),
     "--nic model=e1000,virtio: Nova gives every NIC of a guest one model"),
    (('--vcpus', '2', '--nic', 'type=ovs,model=virtio', '--image-property',
      'hw_vif_model=e1000'),
     '--nic model=virtio: differs from --image-property hw_vif_model=e1000'),
    (('--vcpus', '2', '--nic', 'type=ovs,model=floppy'),
     '--nic model=floppy: Field value floppy is invalid'),
    (('--vcpus', '2', '--nic', 'type=ovs,model=lan9118'),
     "--nic type=ovs,model=lan9118: Requested hardware 'lan9118' is not "
     "supported by the 'kvm' virt driver"),
    (('--vcpus', '2', '--nic', 'type=ovs', '--max-queues', '0'),
     '--max-queues 0: Should be greater than or equal to 1'),
    (('--vcpus', '2', '--nic', 'type=ovs', '--max-queues', 'lots'),
     '--max-queues lots: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '--rx-queue-size', '300'),
     '--rx-queue-size 300: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '--tx-queue-size', '2'),
     '--tx-queue-size 2: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '--virt-type', 'xen'),
     '--virt-type xen: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '--msi-vector-budget', '1'),
     '--msi-vector-budget 1: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '--reserved-msi-vectors', '-1'),
     '--reserved-msi-vectors -1: '),
    (('--vcpus', '2', '--nic', 'type=ovs', '-c', 'Colour'),
     "-c Colour: No recognized column names in ['Colour']"),
    (('--vcpus', '2', '--nic', 'type=ovs', '-f', 'xml'),
     "argument -f/--format: invalid choice: 'xml'"),
])
def test_user_errors_exit_2_with_one_line(argv, message):
    r = run('plan', *argv)
    assert r.status == 2, r
    assert r.out == ''
    assert r.err.count('\n') == 1, r
    assert r.err.startswith('nova-mq plan: error: '), r
    assert message in r.err, r
    assert 'Traceback' not in r.err


def test_config_errors_exit_2(tmp_path):
    r = run('--config-file', str(tmp_path / 'absent.conf'), 'plan',
            '--vcpus', '2', '--nic', 'type=ovs', config=False)
    assert r.status == 2 and r.err == (
        'nova-mq plan: error: --config-file %s: no such file\n'
        % (tmp_path / 'absent.conf')), r
    bad = tmp_path / 'bad.conf'
    bad.write_text('[libvirt]\nmax_queues = many\n')
    r = run('--config-file', str(bad), 'plan', '--vcpus', '2', '--nic',
            'type=ovs', config=False)
    assert r.status == 2 and r.err.count('\n') == 1, r
    assert r.err.startswith('nova-mq plan: error: [libvirt]max_queues: ')
    garbage = tmp_path / 'garbage.conf'
    garbage.write_text('this is not ini\n')
    r = run('--config-file', str(garbage), 'plan', '--vcpus', '2', '--nic',
            'type=ovs', config=False)
    assert r.status == 2 and r.err.count('\n') == 1, r
    assert str(garbage) in r.err
    r = run('--config-dir', str(tmp_path / 'nodir'), 'plan', '--vcpus', '2',
            '--nic', 'type=ovs', config=False)
    assert r.status == 2 and 'no such directory' in r.err, r


def test_debug_shows_the_traceback():
    r = run('--debug', 'plan', '--vcpus', '2', '--nic', 'type=ovs,foo=1')
    assert r.status == 2
    assert 'Traceback (most recent call last)' in r.err
    assert r.err.rstrip().endswith("'foo' (known: type, vnic_type, model, "
                                   "mac and the binding profile's mq_* "
                                   "keys)")


def test_help_documents_the_totals_row():
    r = run('help', 'plan', config=False)
    assert r.status == 0, r
    text = ' '.join(r.out.split())
    for option in ('--vcpus', '--flavor-property', '--image-property',
                   '--nic', '--xml', '--virt-type', '--max-queues',
                   '--kernel-release', '--rx-queue-size', '--tx-queue-size',
                   '--msi-vector-budget', '--reserved-msi-vectors',
                   '--sort-column', '-c COLUMN',
                   '-f {csv,json,table,value,yaml}'):
        assert option in text, option
    assert 'The last row is always the guest\'s totals: NIC "guest"' in text
    assert 'the totals object last' in text
    assert os.uname().release in text
