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
"""The ``nova-mq`` command (and ``python -m nova_mq``), built on cliff.

``nova-mq plan``: what a guest would get on this host, through Nova's
objects and nova-mq's vif driver (nova_mq.cli.plan).  ``nova-mq audit``:
what running guests have, from libvirt or domain XML files
(nova_mq.cli.audit).  ``demo``, ``render``, ``parse`` and ``engine-plan``
(the engine's own argument dictionary) are the developer's commands
(nova_mq.cli.misc).  The commands are registered here, in code, in a
cliff ``CommandManager``; ``help``, ``-f``, ``-c`` and ``--sort-column``
are cliff's, as in the ``openstack`` client.
"""

import sys

from cliff import app
from cliff import commandmanager

import nova_mq

#: Each command and the class that implements it, 'module:Class'.
COMMANDS = {
    'plan': 'nova_mq.cli.plan:Plan',
    'audit': 'nova_mq.cli.audit:Audit',
    'demo': 'nova_mq.cli.misc:Demo',
    'render': 'nova_mq.cli.misc:Render',
    'parse': 'nova_mq.cli.misc:Parse',
    'engine-plan': 'nova_mq.cli.misc:EnginePlan',
}


class _LazyCommand(object):
    """A command class imported when the command is run or helped."""

    def __init__(self, target):
        self.target = target

    def load(self):
        import importlib
        module, _sep, name = self.target.partition(':')
        return getattr(importlib.import_module(module), name)


class CommandManager(commandmanager.CommandManager):
    """nova-mq's commands, registered in code (no entry point scan)."""

    def __init__(self):
        super(CommandManager, self).__init__('nova_mq.cli')
        for name, target in COMMANDS.items():
            self.commands[name] = _LazyCommand(target)

    def load_commands(self, namespace):
        # No entry points: the commands are the ones above.
        pass


class NovaMQApp(app.App):
    """virtio-net multiqueue for Nova: what a guest gets, what guests have."""

    NAME = 'nova-mq'
    #: Warnings and errors only; -v for INFO (Nova's and os-vif's own
    #: start-up lines), -vv for debug (each NIC's plan decision).
    DEFAULT_VERBOSE_LEVEL = 0

    def __init__(self, stdin=None, stdout=None, stderr=None):
        super(NovaMQApp, self).__init__(
            description=None,
            version=nova_mq.__version__,
            command_manager=CommandManager(),
            deferred_help=True,
            stdin=stdin, stdout=stdout, stderr=stderr)

    def build_option_parser(self, description, version,
                            argparse_kwargs=None):
        parser = super(NovaMQApp, self).build_option_parser(
            'virtio-net multiqueue for Nova\'s libvirt driver: '
            '"nova-mq plan" shows what a guest would get on this host, '
            '"nova-mq audit" what running guests have.',
            version, dict(argparse_kwargs or {}, prog=self.NAME))
        for action in parser._actions:
            if action.dest == 'version':
                # cliff names the program after sys.argv[0].
                action.version = '%s %s' % (self.NAME, version)
        parser.add_argument(
            '--config-file', action='append', metavar='PATH',
            help='nova.conf to read (repeatable; default: '
            '/etc/nova/nova.conf when it exists)')
        parser.add_argument(
            '--config-dir', action='append', metavar='DIR',
            help='a directory of *.conf files read after the config files '
            '(repeatable), as oslo.config reads them')
        return parser

    def interact(self):
        # No interactive shell: without a command, print the help.  (cliff
        # 4.x ignores interact()'s result: the status is raised.)
        self.stdout.write(self.parser.format_help())
        raise SystemExit(0)


def main(argv=None):
    """The console script: nova-mq [options] COMMAND [args]."""
    import os
    import warnings
    # A one-shot command with no green threads: Nova's eventlet patching
    # (Zed applies it on import and warns when oslo.context came first) is
    # not wanted; nova-compute 2026.1 runs on native threads too.
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    # Nova's imports (eventlet, oslo) warn about their own deprecations;
    # they are not the user's concern at the command line.
    warnings.filterwarnings('ignore', category=DeprecationWarning)
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
    return NovaMQApp().run(sys.argv[1:] if argv is None else argv)
