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
"""The nova-mq program: the console script and python -m nova_mq are the
same cliff application; help, version, errors; demo, render, parse and
engine-plan."""

import json
import os
import sys

import nova_mq
from nova_mq import vif as mq_vif

import clilib
from clilib import run
from clilib import run_process

SCRIPT = os.path.join(os.path.dirname(sys.executable), 'nova-mq')
PLAN = ('plan', '--vcpus', '8', '--nic', 'type=ovs,mq_queues=4', '-f',
        'json')


def test_console_script_and_python_m_are_the_same_program():
    assert os.access(SCRIPT, os.X_OK), SCRIPT
    script = run_process('--config-file', clilib.EMPTY_CONF, *PLAN,
                         program=(SCRIPT,))
    module = run_process('--config-file', clilib.EMPTY_CONF, *PLAN)
    assert script.status == module.status == 0, (script, module)
    assert script.out == module.out
    rows = json.loads(script.out)
    assert rows[0]['Queues'] == 4 and rows[-1]['NIC'] == 'guest'
    # Nothing but the output: no deprecation warnings, no INFO lines.
    assert script.err == module.err == ''


def test_user_error_in_a_process_is_one_line_and_debug_adds_traceback():
    argv = ('--config-file', clilib.EMPTY_CONF, 'plan', '--vcpus', '2',
            '--nic', 'type=ovs,mq_queues=999')
    r = run_process(*argv, program=(SCRIPT,))
    assert r.status == 2 and r.out == ''
    assert r.err == ("nova-mq plan: error: --nic type=ovs,mq_queues=999: "
                     "Invalid value '999' for nics[0].mq_queues: must be an "
                     "integer from 1 to 256\n")
    r = run_process('--debug', *argv, program=(SCRIPT,))
    assert r.status == 2
    assert 'Traceback (most recent call last)' in r.err
    assert 'InvalidMultiqueueValue' in r.err


def test_help_lists_the_commands():
    r = run('help', config=False)
    assert r.status == 0
    for name in ('plan', 'audit', 'demo', 'render', 'parse', 'engine-plan',
                 'help'):
        assert '\n  %s ' % name in r.out, name
    assert '--config-file PATH' in r.out and '--config-dir DIR' in r.out
    assert 'default: /etc/nova/nova.conf when it exists' in ' '.join(
        r.out.split())
    r = run('plan', '--help', config=False)
    assert r.status == 0 and r.out.startswith('usage: nova-mq plan ')


def test_version_and_unknown_command():
    r = run_process('--version')
    assert r.status == 0
    assert (r.out + r.err).strip() == 'nova-mq %s' % nova_mq.__version__
    r = run('frobnicate', config=False)
    assert r.status == 2
    assert "'frobnicate' is not a nova-mq command" in r.out


def test_engine_plan_is_the_old_json_plan(tmp_path):
    guest = {'vcpus': 4, 'extra_specs': {'mq:throughput': 'low'},
             'nics': [{'vif_type': 'ovs', 'vnic_type': 'normal',
                       'model': 'virtio', 'profile': {'mq_queues': 2}}]}
    r = run('engine-plan', '-', stdin=json.dumps(guest).encode())
    assert r.status == 0, r
    plan = json.loads(r.out)
    assert plan['nics'][0]['queues'] == 2
    assert plan['nics'][0]['reasons'] == ['enabled-by-port', 'port-queues']
    assert set(plan) == {'nics', 'msi_vectors', 'msi_budget',
                         'vhost_memory', 'warnings'}
    path = tmp_path / 'guest.json'
    path.write_text(json.dumps(guest))
    assert json.loads(run('engine-plan', str(path)).out) == plan
    for data, message in ((b'{', 'not JSON'), (b'[]', 'not a JSON object'),
                          (b'{"cpus": 4}', "unexpected keyword argument"),
                          (b'{"vcpus": 0}', 'vcpus')):
        r = run('engine-plan', '-', stdin=data)
        assert r.status == 2 and r.err.count('\n') == 1, r
        assert message in r.err, r
    r = run('engine-plan', str(tmp_path / 'absent.json'))
    assert r.status == 2 and 'No such file' in r.err


def test_render_and_parse():
    attrs = {'net_type': 'bridge', 'mac_addr': 'fa:16:3e:00:00:01',
             'model': 'virtio', 'driver_name': 'vhost', 'vhost_queues': 4,
             'source_dev': 'br0', 'target_dev': 'tap0'}
    r = run('render', '-', stdin=json.dumps(attrs).encode())
    assert r.status == 0, r
    assert r.out == nova_mq.render_interface(**attrs)
    xml = ('<domain><name>d</name><vcpu>4</vcpu><devices>%s</devices>'
           '</domain>' % r.out)
    r = run('parse', '-', stdin=xml.encode())
    assert r.status == 0, r
    assert json.loads(r.out) == nova_mq.parse_domain(xml)
    r = run('parse', '-', stdin=b'<domain>')
    assert r.status == 2 and r.err.startswith('nova-mq parse: error: xml: ')
    r = run('render', '-', stdin=b'{"net_type": "bridge", "colour": 1}')
    assert r.status == 2 and 'colour' in r.err, r


def test_demo_writes_a_domain_the_audit_reads(tmp_path):
    path = tmp_path / 'instance.xml'
    try:
        r = run('demo', '--domain-xml', str(path))
    finally:
        mq_vif.CONF.clear_override('reserved_msi_vectors', 'nova_mq')
    assert r.status == 0, r
    assert 'nova-mq 64 of 64' in r.out
    domain = nova_mq.parse_domain(path.read_bytes())
    assert domain['name'] == 'instance-0000002a' and domain['vcpus'] == 16
    assert [i['queues'] for i in domain['interfaces']] == [11, 4, None, 11,
                                                           None, None]
    r = run('audit', str(path), '-f', 'json')
    assert r.status == 0, r
    rows = json.loads(r.out)
    assert [row['Queues'] for row in rows] == [11, 4, 1, 11, None, 1]
    assert [row['Findings'] for row in rows] == [
        [], [], ['single-queue-on-multi-vcpu'], [], [],
        ['single-queue-on-multi-vcpu']]


def test_no_command_prints_the_help():
    r = run(config=False)
    assert r.status == 0
    assert r.out.startswith('usage: nova-mq ')
