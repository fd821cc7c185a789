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
"""setup.py's own error paths: a machine without pkg-config or libxml2 gets
a message that names what to install, not a compiler traceback."""

import os
import subprocess
import sys

import pytest

SETUP = os.path.join(os.path.dirname(__file__), '..', '..', 'setup.py')


def _run_setup(**env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, SETUP, '--version'],
                          cwd=os.path.dirname(SETUP), env=full,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize('env, words', [
    ({'PATH': '/nonexistent'}, ['pkg-config is not installed',
                                'libxml2-dev', 'bindep.txt']),
    ({'PKG_CONFIG_LIBDIR': '/nonexistent', 'PKG_CONFIG_PATH': ''},
     ['pkg-config --atleast-version', 'libxml-2.0', 'libxml2-dev']),
])
def test_missing_build_dependency_is_named(env, words):
    result = _run_setup(**env)
    assert result.returncode == 1
    assert 'nova-mq build error' in result.stderr
    for word in words:
        assert word in result.stderr
    assert 'Traceback' not in result.stderr


def test_setup_finds_libxml2_here():
    result = _run_setup()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == '0.1.0'
