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
    STARTUP['nova_imported_after_site'] = 'nova' in sys.modules
    STARTUP['nova_mq_imported_after_site'] = 'nova_mq' in sys.modules
    STARTUP['hook_imported_after_site'] = '_nova_mq_hook' in sys.modules
    STARTUP['meta_path'] = [repr(f) for f in sys.meta_path]
    import _nova_mq_hook
    STARTUP['hook_state'] = _nova_mq_hook.state()
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
            path_hook_left=any(_nova_mq_hook.is_path_hook(h)
                               for h in sys.path_hooks),
            watch_left=any(_nova_mq_hook._is_watching(f)
                           for f in sys.path_importer_cache.values()
                           if f is not None),
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
        assert startup['path_hook_by_site']
    assert startup['hook_state'] == 'waiting'
    # Nothing of Nova or nova-mq at start-up, not even the hook's module:
    # only the .pth's path hook, and no import finder.
    assert not startup['hook_imported_by_site']
    assert not startup['hook_imported_after_site']
    assert not any('nova_mq' in finder for finder in startup['meta_path'])
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
    # One shot: the path hook and the watch are gone.
    assert not result['path_hook_left']
    assert not result['watch_left']
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
    # The watch fails: Nova's module is imported as if nova-mq were not
    # installed, and the failure is logged.
    proc = pkgmeta.run_python(
        tmp_path, 'import _nova_mq_hook\n'
        'def broken(*args):\n'
        '    raise RuntimeError("broken hook")\n'
        '_nova_mq_hook._wrap_spec = broken\n'
        'from nova.virt.libvirt import driver\n'
        'print(driver.LibvirtDriver.__name__, _nova_mq_hook.state())\n')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['LibvirtDriver', 'not', 'installed']
    assert 'cannot hook the import of nova.virt.libvirt.driver' in \
        proc.stderr
    assert 'RuntimeError: broken hook' in proc.stderr


def test_pth_is_the_hook_s_line():
    # The .pth site reads (installed, or the source tree's copy) is the
    # line _nova_mq_hook documents and recognises.
    import _nova_mq_hook
    with open(pkgmeta.pth_path()) as f:
        assert f.read() == _nova_mq_hook.PTH_LINE + '\n'


#: Imports that are not Nova's libvirt driver, then the driver, with the
#: hook's state after each step.
OTHER_IMPORTS = textwrap.dedent('''
    import importlib, json, site, sys
    import email.mime.text, oslo_config.cfg, xml.dom.minidom  # noqa
    import nova.virt.hardware  # noqa: a Nova module, not the libvirt one
    steps = {'others': '_nova_mq_hook' in sys.modules}
    if sys.argv[1] == 'caches-cleared':
        sys.path_importer_cache.clear()
        importlib.invalidate_caches()
    if sys.argv[1] == 'pth-twice':
        # site reads a 3.11 venv's site-packages twice: once more here.
        site.addpackage(*os.path.split(PTH), set())
    import _nova_mq_hook
    if sys.argv[1] == 'hook-appended':
        # A .pth before nova-mq's appended a path hook (setuptools'
        # editable installs do), then nova_mq.pth ran.
        _nova_mq_hook.remove()

        def editable_hook(path):
            raise ImportError(path)
        sys.path_hooks.append(editable_hook)
        site.addpackage(*os.path.split(PTH), set())
    steps['hooks_before'] = sum(map(_nova_mq_hook.is_path_hook,
                                    sys.path_hooks))
    from nova.virt.libvirt import driver  # noqa
    steps['state'] = _nova_mq_hook.state()
    steps['hooks'] = sum(map(_nova_mq_hook.is_path_hook, sys.path_hooks))
    print('RESULT ' + json.dumps(steps))
''')


def _result(proc):
    assert proc.returncode == 0, proc.stderr
    line = [line for line in proc.stdout.splitlines()
            if line.startswith('RESULT ')][-1]
    return json.loads(line[len('RESULT '):])


@pytest.mark.parametrize('scenario', ['plain', 'caches-cleared',
                                      'pth-twice', 'hook-appended'])
def test_other_imports_never_load_the_hook(tmp_path, scenario):
    # Only the first import from nova/virt/libvirt imports _nova_mq_hook;
    # cleared import caches, the .pth read twice or a path hook added
    # before it change nothing: one path hook, gone once it has worked.
    proc = pkgmeta.run_python(
        tmp_path, 'PTH = %r\n' % pkgmeta.pth_path() + OTHER_IMPORTS,
        scenario)
    assert _result(proc) == {'others': False, 'hooks_before': 1,
                             'state': 'patched', 'hooks': 0}


#: Path entries that are not directories, with the hook first.
NOT_DIRECTORIES = textwrap.dedent('''
    import json, sys, zipfile
    with zipfile.ZipFile('mods.zip', 'w') as archive:
        archive.writestr('zipped_mod.py', 'VALUE = 42\\n')
    sys.path[:0] = [os.path.abspath('none'), os.path.abspath('mods.zip')]
    import zipped_mod
    print('RESULT ' + json.dumps({
        'first': sys.path_hooks[0].__name__,
        'value': zipped_mod.VALUE,
        'missing': sys.path_importer_cache[sys.path[0]],
        'zip': type(sys.path_importer_cache[sys.path[1]]).__name__,
        'hook': '_nova_mq_hook' in sys.modules}))
''')


def test_zip_and_missing_path_entries_are_as_without_nova_mq(tmp_path):
    # The hook hands what is not a directory on to zipimport's hook.
    proc = pkgmeta.run_python(tmp_path, NOT_DIRECTORIES)
    assert _result(proc) == {'first': '<lambda>', 'value': 42,
                             'zip': 'zipimporter', 'missing': None,
                             'hook': False}
