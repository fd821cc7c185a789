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
"""Shared by the test_cli_* modules (not a test module): run nova-mq."""

import io
import json
import logging
import os
import subprocess
import sys
import tempfile

from nova_mq import cli

#: An empty nova.conf, so that no test reads the machine's.
EMPTY_CONF = os.path.join(tempfile.mkdtemp(prefix='nova-mq-cli-'),
                          'nova.conf')
with open(EMPTY_CONF, 'w') as _f:
    _f.write('[DEFAULT]\n')


class Result(object):
    def __init__(self, status, out, err):
        self.status = status
        self.out = out
        self.err = err

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return 'Result(%r, out=%r, err=%r)' % (self.status, self.out[-2000:],
                                               self.err[-2000:])


class _Stdin(io.TextIOWrapper):
    pass


def run(*argv, stdin=b'', config=True):
    """nova-mq in this process: (status, stdout, stderr).

    ``config``: add ``--config-file`` of an empty nova.conf first.
    """
    if config:
        argv = ('--config-file', EMPTY_CONF) + argv
    out = io.StringIO()
    err = io.StringIO()
    inp = _Stdin(io.BytesIO(stdin), encoding='utf-8')
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    try:
        status = cli.NovaMQApp(stdin=inp, stdout=out, stderr=err).run(
            list(argv))
    except SystemExit as exc:
        status = exc.code
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return Result(status, out.getvalue(), err.getvalue())


def run_process(*argv, stdin=b'', program=('-m', 'nova_mq')):
    """nova-mq in a new process (the console script's path)."""
    proc = subprocess.run([sys.executable] + list(program) + list(argv),
                          input=stdin, capture_output=True)
    return Result(proc.returncode, proc.stdout.decode(),
                  proc.stderr.decode())
