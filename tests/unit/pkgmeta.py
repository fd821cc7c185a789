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
"""nova-mq as an install lays it out, for the tests that need the install
itself (not a test module): the entry points (Nova's extra spec
validators, oslo-config-generator) and the start-up hook's nova_mq.pth.

Two ways the tests run, and neither skips anything:

* ``installed`` (tox): nova_mq is imported from an installed distribution,
  so its entry points and its nova_mq.pth must be there; a wheel without
  them fails the tests.
* ``source`` (``PYTHONPATH=<source tree> python -m pytest``): nothing is
  installed, or only an editable install or a source tree's own egg-info,
  whose metadata may be stale.  ``site_dir()`` then builds what the install
  would: the
  metadata by setuptools' own ``egg_info`` from setup.cfg (the file the
  wheel's entry points come from), and a copy of nova_mq.pth.  A subprocess
  puts that directory first on ``sys.path`` (so importlib.metadata and
  stevedore find the entry points there) and runs ``site.addsitedir()`` on
  it (so the .pth line runs as ``site`` runs it at start-up).

Any other layout (nova_mq imported from somewhere with neither) fails.
"""

import atexit
import functools
import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import nova_mq

DIST = 'nova-mq'
PTH = 'nova_mq.pth'
HOOK = '_nova_mq_hook'
#: The package's directory's parent: the source tree, or site-packages.
ROOT = os.path.dirname(os.path.dirname(os.path.realpath(nova_mq.__file__)))


def installed_dist():
    """The distribution nova_mq is imported from, or None."""
    try:
        dist = importlib.metadata.distribution(DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    init = dist.locate_file('nova_mq/__init__.py')
    try:
        if os.path.samefile(init, nova_mq.__file__):
            return dist
    except OSError:
        pass
    return None


def is_source_tree():
    return all(os.path.exists(os.path.join(ROOT, name))
               for name in ('setup.py', 'setup.cfg', PTH, HOOK + '.py'))


def mode():
    """'installed' or 'source'; fails the test for anything else.

    A source tree may hold metadata of its own (``nova_mq.egg-info`` from
    an earlier ``setup.py`` run or ``pip install -e``), stale or not: it
    is never trusted, the metadata is built afresh.
    """
    if is_source_tree():
        return 'source'
    if installed_dist() is not None:
        return 'installed'
    import pytest
    pytest.fail('nova_mq (%s) comes neither from an installed %s '
                'distribution nor from a source tree' % (nova_mq.__file__,
                                                         DIST))


@functools.lru_cache(maxsize=None)
def site_dir():
    """Source mode: a directory with nova-mq's egg-info and nova_mq.pth."""
    path = tempfile.mkdtemp(prefix='nova-mq-site-')
    atexit.register(shutil.rmtree, path, True)
    result = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base', path],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    shutil.copy(os.path.join(ROOT, PTH), os.path.join(path, PTH))
    return path


def pth_path():
    """The nova_mq.pth that site processes (see subprocess_env)."""
    if mode() == 'installed':
        return os.path.join(ROOT, PTH)
    return os.path.join(site_dir(), PTH)


def entry_points(group):
    """{name: value} of nova-mq's entry points in group, as installed."""
    if mode() == 'installed':
        dist = installed_dist()
    else:
        dist = importlib.metadata.PathDistribution(_only(
            pathlib.Path(site_dir(), n) for n in os.listdir(site_dir())
            if n.endswith('.egg-info')))
    return {ep.name: ep.value for ep in dist.entry_points
            if ep.group == group}


def _only(items):
    items = list(items)
    assert len(items) == 1, items
    return items[0]


def subprocess_env(tmp_path):
    """The environment of a subprocess that sees nova-mq as installed.

    Source mode: the built site dir, then the source tree, go first on
    PYTHONPATH; the subprocess must still call ``site.addsitedir`` on
    ``site_dir()`` for the .pth (see ``PRELUDE``).  stevedore's entry point
    cache goes to tmp_path, not the user's ~/.cache.
    """
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path),
               PYTHONDONTWRITEBYTECODE='1')
    if mode() == 'source':
        paths = [site_dir(), ROOT]
        if env.get('PYTHONPATH'):
            paths.append(env['PYTHONPATH'])
        env['PYTHONPATH'] = os.pathsep.join(paths)
        env['NOVA_MQ_TEST_SITE_DIR'] = site_dir()
    else:
        env.pop('NOVA_MQ_TEST_SITE_DIR', None)
    return env


#: The first lines of every subprocess script: what site did at start-up,
#: then, in source mode only, the .pth processed the way site does it.
#: nova_mq.pth's line adds a path hook (a lambda naming _nova_mq_hook)
#: and imports nothing.
PRELUDE = '''\
import os, sys
STARTUP = {
    'path_hook_by_site': any(
        '_nova_mq_hook' in getattr(getattr(h, '__code__', None),
                                   'co_consts', ())
        for h in sys.path_hooks),
    'hook_imported_by_site': '_nova_mq_hook' in sys.modules,
    'nova_imported': 'nova' in sys.modules,
    'nova_mq_imported': 'nova_mq' in sys.modules,
}
if os.environ.get('NOVA_MQ_TEST_SITE_DIR'):
    import site
    site.addsitedir(os.environ['NOVA_MQ_TEST_SITE_DIR'])
'''


def run_python(tmp_path, script, *args, env=None, timeout=300):
    """Run PRELUDE + script in a fresh interpreter; CompletedProcess."""
    path = tmp_path / 'script.py'
    path.write_text(PRELUDE + script)
    full_env = subprocess_env(tmp_path)
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(path)] + list(args),
                          cwd=str(tmp_path), env=full_env,
                          capture_output=True, text=True, timeout=timeout)
