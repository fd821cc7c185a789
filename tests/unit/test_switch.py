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
"""``[nova_mq] enabled`` switches stock nova-compute, through Nova's own
start-up: ``nova.cmd.compute.main()`` in a fresh interpreter, with nova-mq
installed as its wheel installs it (nova_mq.pth processed by ``site``; see
pkgmeta), ``compute_driver = libvirt.LibvirtDriver``, up to the driver that
``nova.virt.driver.load_compute_driver`` returns.

LibvirtDriver imports the libvirt binding (python3-libvirt on Debian,
libvirt-python from PyPI); it does not connect to libvirtd.
"""

import json
import textwrap

import pytest

import pkgmeta

#: Runs in the subprocess after pkgmeta.PRELUDE.  Everything main() does
#: before the ComputeManager loads its driver is Nova's own code; the
#: patches below stand in for the services a unit test has not got.
SCRIPT = textwrap.dedent('''
    import json
    import sys

    # Before any Nova import: the hook is waiting, nothing is imported.
    import _nova_mq_hook
    STARTUP['hook_state'] = _nova_mq_hook.state()
    STARTUP['nova_imported_after_site'] = 'nova' in sys.modules
    STARTUP['nova_mq_imported_after_site'] = 'nova_mq' in sys.modules
    if sys.argv[2] == 'broken-nova-mq':
        # nova-mq's package cannot be imported (a broken install).
        sys.modules['nova_mq'] = None

    import nova.cmd.compute
    from nova.conductor import api as conductor_api
    from nova.scheduler.client import report
    from nova.virt import driver as virt_driver

    STARTUP['libvirt_driver_imported_by_cmd'] = (
        'nova.virt.libvirt.driver' in sys.modules)


    class Stop(BaseException):
        """Raised once the driver is loaded: main() goes no further."""


    # No placement service: the report client asks placement for its
    # version when it is built (ComputeManager.__init__, before the driver).
    report.SchedulerReportClient._create_client = lambda self: None
    # No conductor: Service.__init__ pings it over RPC (the message bus is
    # oslo.messaging's in-memory driver, transport_url = fake:/).
    conductor_api.API.wait_until_ready = lambda self, *a, **kw: None

    real_load = virt_driver.load_compute_driver
    RESULT = {}


    def name(cls):
        return cls.__module__ + '.' + cls.__qualname__


    def load_compute_driver(virtapi, compute_driver=None):
        drv = real_load(virtapi, compute_driver)
        from nova.virt.libvirt import driver as libvirt_driver
        from nova.virt.libvirt import vif as libvirt_vif

        class CustomDriver(libvirt_driver.LibvirtDriver):
            """A custom driver: never switched by nova-mq."""

        custom = CustomDriver(virtapi)
        module = sys.modules['nova.virt.libvirt.driver']
        import inspect
        RESULT.update(
            signature=str(inspect.signature(libvirt_driver.LibvirtDriver)),
            driver=name(type(drv)),
            vif_driver=name(type(drv.vif_driver)),
            is_libvirt_driver=isinstance(drv, libvirt_driver.LibvirtDriver),
            stock_vif_driver=(type(drv.vif_driver) is
                              libvirt_vif.LibvirtGenericVIFDriver),
            custom_driver=name(type(custom)),
            custom_vif_driver=name(type(custom.vif_driver)),
            hook_state=_nova_mq_hook.state(),
            finder_left=any(isinstance(f, _nova_mq_hook.Finder)
                            for f in sys.meta_path),
            loader_is_nova_s=not isinstance(module.__loader__,
                                            _nova_mq_hook._Loader),
            nova_mq_imported='nova_mq' in sys.modules and
                             sys.modules['nova_mq'] is not None,
        )
        raise Stop()


    virt_driver.load_compute_driver = load_compute_driver
    sys.argv = ['nova-compute', '--config-file', sys.argv[1],
                '--config-dir', sys.argv[3]]
    try:
        nova.cmd.compute.main()
    except Stop:
        pass
    print('RESULT ' + json.dumps({'startup': STARTUP, 'result': RESULT}))
''')

NOVA_CONF = textwrap.dedent('''
    [DEFAULT]
    compute_driver = libvirt.LibvirtDriver
    host = nova-mq-test
    # oslo.messaging's in-memory driver: no message bus in a unit test.
    transport_url = fake:/
    state_path = {state}
    [libvirt]
    virt_type = kvm
    [nova_mq]
    {nova_mq}
''')

STOCK = ('nova.virt.libvirt.driver.LibvirtDriver',
         'nova.virt.libvirt.vif.LibvirtGenericVIFDriver')
NOVA_MQ = ('nova_mq.driver.MultiqueueLibvirtDriver',
           'nova_mq.vif.MultiqueueVIFDriver')


def _start(tmp_path, nova_mq_conf, scenario='plain', env=None):
    conf = tmp_path / 'nova.conf'
    conf.write_text(NOVA_CONF.format(state=tmp_path / 'state',
                                     nova_mq=nova_mq_conf))
    # An empty --config-dir: /etc/nova/nova.conf.d is not read.
    conf_dir = tmp_path / 'nova.conf.d'
    conf_dir.mkdir()
    proc = pkgmeta.run_python(tmp_path, SCRIPT, str(conf), scenario,
                              str(conf_dir), env=env)
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('RESULT ')]
    if "No module named 'libvirt'" in proc.stdout + proc.stderr:
        pytest.fail('LibvirtDriver needs the libvirt binding: '
                    'libvirt-python from PyPI (tox: in deps; it builds '
                    'against libvirt-dev) or Debian\'s python3-libvirt')
    assert proc.returncode == 0 and lines, (
        'nova-compute did not reach load_compute_driver:\n%s\n%s' % (
            proc.stdout, proc.stderr))
    out = json.loads(lines[-1][len('RESULT '):])
    assert out['result'], proc.stderr
    # oslo.log writes to stdout when no log file is set (Nova 34), to
    # stderr in older releases: the log is both.
    return out['startup'], out['result'], proc.stdout + proc.stderr


def _assert_startup(startup):
    if pkgmeta.mode() == 'installed':
        # The wheel's nova_mq.pth, processed by site at start-up.
        assert startup['hook_imported_by_site']
    assert startup['hook_state'] == 'waiting'
    # Nothing of Nova or nova-mq at start-up, only the stdlib hook.
    assert not startup['nova_imported']
    assert not startup['nova_mq_imported']
    assert not startup['nova_imported_after_site']
    assert not startup['nova_mq_imported_after_site']
    # The driver module is imported by load_compute_driver, not before:
    # the hook fires on Nova's own import of it.
    assert not startup['libvirt_driver_imported_by_cmd']


def _assert_hook_done(result):
    assert result['hook_state'] == 'patched'
    # LibvirtDriver(...) still looks like Nova's (inspect, mock autospec).
    assert result['signature'] == '(virtapi, read_only=False)'
    assert not result['finder_left']
    assert result['loader_is_nova_s']
    assert result['is_libvirt_driver']
    # A subclass of LibvirtDriver (a custom driver) is never switched.
    assert (result['custom_driver'] ==
            '__main__.load_compute_driver.<locals>.CustomDriver')
    assert result['custom_vif_driver'] == STOCK[1]


def test_enabled_nova_compute_runs_nova_mq_vif_driver(tmp_path):
    startup, result, log = _start(tmp_path, 'enabled = true')
    _assert_startup(startup)
    _assert_hook_done(result)
    assert (result['driver'], result['vif_driver']) == NOVA_MQ
    assert not result['stock_vif_driver']
    assert 'nova-mq: [nova_mq] enabled = true' in log


@pytest.mark.parametrize('nova_mq_conf', ['enabled = false', ''])
def test_disabled_nova_compute_is_stock_nova(tmp_path, nova_mq_conf):
    startup, result, log = _start(tmp_path, nova_mq_conf)
    _assert_startup(startup)
    _assert_hook_done(result)
    assert (result['driver'], result['vif_driver']) == STOCK
    assert result['stock_vif_driver']
    assert 'nova-mq:' not in log


def test_broken_nova_mq_leaves_nova_running(tmp_path):
    # enabled, but nova_mq cannot be imported: a warning, Nova's driver.
    startup, result, log = _start(tmp_path, 'enabled = true',
                                  scenario='broken-nova-mq')
    _assert_startup(startup)
    assert (result['driver'], result['vif_driver']) == STOCK
    assert 'cannot decide the libvirt driver class' in log


@pytest.mark.parametrize('nova_mq_conf, words', [
    ('enabled = true\nmsi_vector_budget = 2',
     ['ERROR nova_mq.hook', 'enabled = true, but', 'msi_vector_budget',
      'greater than or equal to 3', 'nova-mq is off']),
    ('enabled = ture',
     ['ERROR nova_mq.hook', "Unexpected boolean value 'ture'",
      'nova-mq is off']),
])
def test_bad_option_value_leaves_nova_running(tmp_path, nova_mq_conf,
                                              words):
    # An operator's typo is an ERROR naming option and value; nova-compute
    # still starts, with Nova's own driver.
    startup, result, log = _start(tmp_path, nova_mq_conf)
    _assert_startup(startup)
    assert (result['driver'], result['vif_driver']) == STOCK
    for word in words:
        assert word in log


def test_hook_off_by_environment(tmp_path):
    proc = pkgmeta.run_python(
        tmp_path, 'import _nova_mq_hook\n'
        'print(_nova_mq_hook.state())\n'
        'import nova.virt.libvirt.driver\n'
        'print(_nova_mq_hook.state())\n', env={'NOVA_MQ_HOOK': 'off'})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['off', 'off']


def test_hook_failure_never_breaks_nova_import(tmp_path):
    # The finder fails: Nova's module is imported by the other finders,
    # as if nova-mq were not installed, and the failure is logged.
    proc = pkgmeta.run_python(
        tmp_path, 'import _nova_mq_hook\n'
        'def broken(*args):\n'
        '    raise RuntimeError("broken hook")\n'
        '_nova_mq_hook.Finder._wrapped_spec = broken\n'
        'from nova.virt.libvirt import driver\n'
        'print(driver.LibvirtDriver.__name__, _nova_mq_hook.state())\n')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['LibvirtDriver', 'not', 'installed']
    assert 'cannot hook the import of nova.virt.libvirt.driver' in \
        proc.stderr
    assert 'RuntimeError: broken hook' in proc.stderr
