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
"""Switched off means off: with ``[nova_mq] enabled = false`` nova-compute
builds Nova's LibvirtDriver with none of nova-mq's C code and no shared
object that stock Nova would not have loaded; and ``import nova_mq``
imports nothing until a name is used.

Each check runs in a fresh interpreter with nova-mq as installed (its
nova_mq.pth processed by site; see pkgmeta), and the driver is built by
Nova's own ``nova.virt.driver.load_compute_driver()``.  LibvirtDriver
imports the libvirt binding (python3-libvirt on Debian, libvirt-python
from PyPI); it does not connect to libvirtd.
"""

import json
import os
import textwrap

import pytest

import pkgmeta

#: Builds the driver as nova-compute's ComputeManager does, then reports
#: the driver's class, nova-mq's modules and the process's shared objects.
SCRIPT = textwrap.dedent('''
    import json
    import sys

    from nova import config
    from nova.virt import driver as virt_driver
    from nova.virt import virtapi

    config.parse_args(['nova-compute', '--config-file', sys.argv[1],
                       '--config-dir', sys.argv[2]],
                      configure_db=False, init_rpc=False)
    drv = virt_driver.load_compute_driver(virtapi.VirtAPI(),
                                          'libvirt.LibvirtDriver')
    shared = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and '.so' in fields[5]:
                shared.add(fields[5].strip())
    print('RESULT ' + json.dumps({
        'driver': type(drv).__module__ + '.' + type(drv).__qualname__,
        'modules': sorted(name for name in sys.modules
                          if name.split('.')[0] in ('nova_mq',
                                                    '_nova_mq_hook')),
        'shared': sorted(shared),
    }))
''')

NOVA_CONF = textwrap.dedent('''
    [DEFAULT]
    compute_driver = libvirt.LibvirtDriver
    host = nova-mq-test
    state_path = {state}
    [libvirt]
    virt_type = kvm
    [nova_mq]
    enabled = {enabled}
''')

STOCK = 'nova.virt.libvirt.driver.LibvirtDriver'
NOVA_MQ = 'nova_mq.driver.MultiqueueLibvirtDriver'
#: nova-mq's modules that load C code or build its drivers.
HEAVY = ('nova_mq._api', 'nova_mq._engine', 'nova_mq.driver', 'nova_mq.vif')


def _build(tmp_path, enabled, hook='on'):
    work = tmp_path / ('%s-%s' % (enabled, hook))
    work.mkdir()
    conf = work / 'nova.conf'
    conf.write_text(NOVA_CONF.format(state=work / 'state', enabled=enabled))
    # An empty --config-dir: /etc/nova/nova.conf.d is not read.
    (work / 'nova.conf.d').mkdir()
    proc = pkgmeta.run_python(work, SCRIPT, str(conf),
                              str(work / 'nova.conf.d'),
                              env={'NOVA_MQ_HOOK': hook})
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('RESULT ')]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    return json.loads(lines[-1][len('RESULT '):])


@pytest.fixture(scope='module')
def stock(tmp_path_factory):
    """The same script with the hook off: Nova as if nova-mq were not
    installed."""
    result = _build(tmp_path_factory.mktemp('stock'), 'false', hook='off')
    assert result['driver'] == STOCK
    assert not any(name.startswith('nova_mq') for name in result['modules'])
    return result


def _nova_mq_objects(shared):
    return [path for path in shared if 'nova_mq' in path]


def test_disabled_loads_no_c_code_and_no_shared_object_stock_does_not(
        tmp_path, stock):
    result = _build(tmp_path, 'false')
    assert result['driver'] == STOCK
    # The hook ran (it decided), with nova-mq's switch and nothing else.
    assert 'nova_mq.hook' in result['modules']
    assert not set(HEAVY) & set(result['modules']), result['modules']
    # Exactly stock's shared objects: no engine, no other libxml2.
    assert not _nova_mq_objects(result['shared'])
    assert ([p for p in result['shared'] if 'libxml2' in p] ==
            [p for p in stock['shared'] if 'libxml2' in p])
    assert result['shared'] == stock['shared'], (
        set(result['shared']) ^ set(stock['shared']))


def test_enabled_loads_the_engine(tmp_path, stock):
    # The same check, switched on: it sees the engine, so it can fail.
    result = _build(tmp_path, 'true')
    assert result['driver'] == NOVA_MQ
    assert set(HEAVY) <= set(result['modules'])
    extra = set(result['shared']) - set(stock['shared'])
    assert [p for p in extra if '_engine' in p] == _nova_mq_objects(extra)
    assert len(_nova_mq_objects(extra)) == 1
    # Beyond the engine, at most the libxml2 it links (if stock had none),
    # and under tox -e sanitize the sanitizer runtime it is built with.
    assert all('nova_mq' in p or 'libxml2' in p or
               os.path.basename(p).startswith(('libubsan.', 'libasan.'))
               for p in extra), extra


#: ``import nova_mq``, its switch and its names, in a fresh interpreter.
LAZY_SCRIPT = textwrap.dedent('''
    import json
    import sys

    import nova_mq
    import nova_mq.conf
    import nova_mq.hook
    out = {'after_import': sorted(m for m in sys.modules
                                  if m.startswith('nova_mq.'))}
    # The extension itself, loaded but not configured, its _configure
    # counted; then unbound from the package, as before any first use.
    import nova_mq._engine as engine
    calls = []
    configure = engine._configure
    engine._configure = lambda *args: calls.append(args) or configure(*args)
    del nova_mq._engine
    out['globals_before'] = sorted(n for n in nova_mq.__all__
                                   if n in vars(nova_mq))
    from nova_mq import plan_guest
    out['cached'] = vars(nova_mq).get('plan_guest') is plan_guest
    for name in nova_mq.__all__:
        getattr(nova_mq, name)
    from nova_mq import _engine
    out['globals_after'] = sorted(n for n in nova_mq.__all__
                                  if n in vars(nova_mq))
    out['configured'] = len(calls)
    out['same_engine'] = _engine is engine and plan_guest is engine.plan
    try:
        _engine.plan(4, {'mq:throughput': 'fast'})
    except nova_mq.exception.InvalidMultiqueueValue as exc:
        out['error'] = exc.key
    out['guest_policy'] = hasattr(nova_mq, 'GuestPolicy')
    out['dir'] = set(nova_mq.__all__) <= set(dir(nova_mq))
    print('RESULT ' + json.dumps(out))
''')


def test_import_nova_mq_imports_nothing_until_a_name_is_used(tmp_path):
    proc = pkgmeta.run_python(tmp_path, LAZY_SCRIPT)
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('RESULT ')]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    out = json.loads(lines[-1][len('RESULT '):])
    assert out == {
        'after_import': ['nova_mq.conf', 'nova_mq.hook'],
        'globals_before': ['__version__'],
        'cached': True,
        # Every public name is a plain global once used.
        'globals_after': [
            'GuestPlan', 'MultiqueueLibvirtDriver', 'MultiqueueVIFDriver',
            'NOVA_HAS_PACKED_RING', 'NicPlan', '__version__', 'exception',
            'parse_domain', 'plan_guest', 'render_interface'],
        # Once, before the first call, whichever name came first.
        'configured': 1,
        'same_engine': True,
        'error': 'mq:throughput',
        'guest_policy': False,
        'dir': True,
    }
