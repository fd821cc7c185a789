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
"""``pip uninstall nova-mq`` leaves no file behind.

The wheel is built from this source tree (``pip wheel --no-build-isolation``
with the test environment's setuptools) and installed into a fresh
``python -m venv``, with and without pip's byte-compiling.  The venv's
Pythons then run as an environment's Pythons do, byte code written: plain
start-ups (``-c pass``, ``-O``, ``-OO``, ``pip list``), the operator's
check of the hook, and the hook firing for a ``nova.virt.libvirt.driver``
(a stand-in package: the venv has no Nova, so nova_mq.hook cannot be
imported and Nova's class is built, as with a broken install).  After the
uninstall the venv holds exactly the files and directories it held before
the install, ``__pycache__`` entries included.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

#: What the hook does when nova-compute imports Nova's libvirt driver.
FIRE = textwrap.dedent('''
    import _nova_mq_hook
    from nova.virt.libvirt import driver
    assert _nova_mq_hook.state() == 'patched', _nova_mq_hook.state()
    assert type(driver.LibvirtDriver(None)) is driver.LibvirtDriver
''')


def _run(args, env, cwd=None):
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """nova-mq's wheel, built from a copy of the source tree."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns(
        '.git', '.tox', 'build', 'build-*', 'dist', '*.egg-info',
        '__pycache__', '*.so', '*.o'))
    try:
        import setuptools  # noqa: F401
    except ImportError:
        pytest.fail('building the wheel needs setuptools in the test '
                    'environment')
    _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
          '--no-build-isolation', '--no-index', '-q', '-w', str(tmp / 'dist'),
          str(src)], _env(tmp))
    (built,) = (tmp / 'dist').iterdir()
    return built


def _env(tmp):
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK='1',
               PIP_NO_INPUT='1', PIP_NO_INDEX='1',
               XDG_CACHE_HOME=str(tmp / 'cache'))
    # Byte code is written, as in any environment (tox turns it off).
    for name in ('PYTHONDONTWRITEBYTECODE', 'PYTHONPATH', 'PYTHONHOME',
                 'PIP_REQUIRE_VIRTUALENV', 'VIRTUAL_ENV'):
        env.pop(name, None)
    return env


def _listing(root):
    """Every file and directory under root, relative."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        found.update(os.path.normpath(os.path.join(rel, name))
                     for name in dirnames + filenames)
    return found


def _use(venv, env):
    """Run the venv's Pythons as an environment's Pythons run."""
    python = str(venv / 'bin' / 'python')
    for flags in ([], ['-O'], ['-OO']):
        _run([python] + flags + ['-c', 'pass'], env)
    _run([python, '-m', 'pip', 'list'], env)
    return python


def _fake_nova(tmp):
    root = tmp / 'fake-nova'
    package = root / 'nova' / 'virt' / 'libvirt'
    package.mkdir(parents=True)
    for init in (root / 'nova', root / 'nova' / 'virt', package):
        (init / '__init__.py').write_text('')
    (package / 'driver.py').write_text(
        'class LibvirtDriver(object):\n'
        '    def __init__(self, virtapi, read_only=False):\n'
        '        self.virtapi = virtapi\n')
    return root


@pytest.mark.parametrize('compile_flag', [[], ['--no-compile']],
                         ids=['compiled', 'no-compile'])
def test_uninstall_leaves_no_file_behind(tmp_path, wheel, compile_flag):
    env = _env(tmp_path)
    venv = tmp_path / 'venv'
    _run([sys.executable, '-m', 'venv', str(venv)], env)
    fake_nova = _fake_nova(tmp_path)
    # The same runs before the install: what they write for the venv's
    # own packages is in the listing before, not counted as nova-mq's.
    python = _use(venv, env)
    before = _listing(venv)
    _run([python, '-m', 'pip', 'install', '-q', '--no-deps'] +
         compile_flag + [str(wheel)], env)
    _use(venv, env)
    state = _run([python, '-c', 'import _nova_mq_hook; '
                  'print(_nova_mq_hook.state())'], env)
    assert state.stdout.split() == ['waiting']
    fired = _run([python, '-c', FIRE], dict(env, PYTHONPATH=str(fake_nova)))
    assert 'cannot decide the libvirt driver class' in fired.stderr
    installed = _listing(venv)
    # What the install and the runs made, byte code of the hook included.
    added = installed - before
    assert any(path.endswith('nova_mq.pth') for path in added)
    assert any('__pycache__' in path and '_nova_mq_hook' in path
               for path in added), sorted(added)
    assert any(os.path.join('nova_mq', '__pycache__') in path
               for path in added), sorted(added)
    _run([python, '-m', 'pip', 'uninstall', '-y', '-q', 'nova-mq'], env)
    after = _listing(venv)
    assert after - before == set(), sorted(after - before)
    assert before - after == set(), sorted(before - after)
