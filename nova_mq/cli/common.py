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
"""What every nova-mq command shares: user errors, nova.conf, host options.

A user error (``UserError``, any of Nova's exceptions, an oslo.config
error, an unreadable file) ends the command with exit status 2 and one
line on standard error naming the option and the value; ``--debug`` adds
the traceback.  Anything else is a bug, which cliff reports (exit 1).

nova.conf is read into Nova's own ``CONF`` (with nova-mq's ``[nova_mq]``
group registered on it), so the ``[libvirt]`` and ``[nova_mq]`` values are
the ones nova-compute would use; the command's host options then override
them with ``CONF.set_override``, cleared when the command ends.
"""

import argparse
import os
import traceback

from cliff import _argparse
from cliff import columns
from cliff import command
from cliff import lister

#: nova.conf when neither --config-file nor --config-dir is given.
DEFAULT_CONFIG_FILE = '/etc/nova/nova.conf'

#: Exit status of a user error (and of an audit source that cannot be read).
EXIT_USAGE = 2


class UserError(Exception):
    """The user's input is wrong: ``option``, ``value`` and what is wrong."""

    def __init__(self, option, value, problem):
        super(UserError, self).__init__(
            '%s %s: %s' % (option, value, problem) if value is not None
            else '%s: %s' % (option, problem))


def _user_errors():
    """The exception types that mean bad input, Nova's among them."""
    from nova import exception as nova_exception
    from oslo_config import cfg
    return (UserError, nova_exception.NovaException, cfg.Error, OSError)


class ListColumn(columns.FormattableColumn):
    """A list: ``a, b`` in a table, a JSON/YAML list for machines."""

    def human_readable(self):
        return ', '.join(str(v) for v in self._value or ())

    def machine_readable(self):
        return list(self._value or ())


class _Formatter(argparse.RawDescriptionHelpFormatter,
                 _argparse.SmartHelpFormatter):
    """The description and epilog as written (paragraphs, examples)."""


def _one_line_error(parser, stream, message):
    """argparse's error(), without the usage block: one line, exit 2."""
    stream.write('%s: error: %s\n' % (parser.prog, message))
    raise SystemExit(EXIT_USAGE)


class _Base(object):
    """Exit 2 with one line for a user error; restore nova.conf after."""

    #: Whether the command reads nova.conf (and so imports Nova).
    needs_config = True

    def get_parser(self, prog_name):
        parser = super(_Base, self).get_parser(prog_name)
        parser.error = lambda message: _one_line_error(
            parser, self.app.stderr, message)
        parser.formatter_class = _Formatter
        return parser

    def run(self, parsed_args):
        overrides = self.conf_overrides = []
        loaded = False
        try:
            if self.needs_config:
                loaded = True
                load_config(self.app.options)
            return super(_Base, self).run(parsed_args)
        except Exception as exc:
            if not isinstance(exc, _user_errors()):
                raise
            if self.app.options.debug:
                traceback.print_exc(file=self.app.stderr)
            self.app.stderr.write('%s: error: %s\n'
                                  % (self.cmd_name_full(), one_line(exc)))
            return EXIT_USAGE
        finally:
            clear_overrides(overrides)
            if loaded:
                # Back to unparsed, as before the command: a program that
                # runs commands in-process (the tests) may register CLI
                # options afterwards (Nova's test fixtures do).
                conf().clear()

    def cmd_name_full(self):
        return 'nova-mq %s' % (self.cmd_name or '')


def one_line(exc):
    """An exception's message on one line (Nova's messages may wrap)."""
    return ' '.join(str(exc).split()) or type(exc).__name__


class Command(_Base, command.Command):
    pass


class Lister(_Base, lister.Lister):

    def produce_output(self, parsed_args, column_names, data):
        try:
            return super(Lister, self).produce_output(parsed_args,
                                                      column_names, data)
        except ValueError as exc:
            # cliff: a -c that names no column.
            raise UserError('-c', ' '.join(parsed_args.columns or ()),
                            one_line(exc))


def sort_rows(rows, parsed_args, column_names):
    """rows sorted as cliff sorts (--sort-column, None last), in place of
    cliff, so that a command can keep a totals row last."""
    # As cliff 4.x reads them: any case, underscores for spaces.
    index = {c.lower(): i for i, c in enumerate(column_names)}
    wanted = [index.get(c.lower().replace('_', ' '))
              for c in parsed_args.sort_columns or ()]
    reverse = getattr(parsed_args, 'sort_direction', 'asc') == 'desc'
    for i in reversed([i for i in wanted if i is not None]):
        rows = sorted(rows, key=lambda r: (r[i] is None, r[i]),
                      reverse=reverse)
    return rows


# nova.conf

def load_config(options):
    """Read nova.conf into Nova's CONF, with [nova_mq] registered.

    ``options``: the app's options (``config_file``, ``config_dir``).
    Without either, /etc/nova/nova.conf when it exists, else no file.
    """
    import nova.conf
    from nova_mq import conf as mq_conf
    conf = nova.conf.CONF
    mq_conf.register_opts(conf)
    files = list(options.config_file or ())
    dirs = list(options.config_dir or ())
    if not files and not dirs and os.path.exists(DEFAULT_CONFIG_FILE):
        files = [DEFAULT_CONFIG_FILE]
    for path in files:
        if not os.access(path, os.R_OK):
            raise UserError('--config-file', path,
                            'cannot be read' if os.path.exists(path)
                            else 'no such file')
    for path in dirs:
        if not os.path.isdir(path):
            raise UserError('--config-dir', path, 'no such directory')
    conf([], project='nova', prog='nova-mq', default_config_files=files,
         default_config_dirs=dirs)
    return conf


def conf():
    import nova.conf
    return nova.conf.CONF


#: The host options: (flag, nova.conf group, option, help).
HOST_OPTIONS = (
    ('--virt-type', 'libvirt', 'virt_type',
     '[libvirt]virt_type: kvm, qemu, lxc or parallels'),
    ('--max-queues', 'libvirt', 'max_queues',
     '[libvirt]max_queues: the host\'s tap queue cap (unset: by kernel)'),
    ('--rx-queue-size', 'libvirt', 'rx_queue_size',
     '[libvirt]rx_queue_size: 256, 512 or 1024'),
    ('--tx-queue-size', 'libvirt', 'tx_queue_size',
     '[libvirt]tx_queue_size: 256, 512 or 1024'),
    ('--msi-vector-budget', 'nova_mq', 'msi_vector_budget',
     '[nova_mq]msi_vector_budget: MSI-X vectors a guest may use'),
    ('--reserved-msi-vectors', 'nova_mq', 'reserved_msi_vectors',
     '[nova_mq]reserved_msi_vectors: kept for the guest\'s other devices'),
)


def add_host_options(parser, names=None):
    """Add the host options (each overrides nova.conf) and
    ``--kernel-release``; ``names``: only those flags."""
    group = parser.add_argument_group(
        'host', 'This host as nova-compute sees it; each option overrides '
        'nova.conf.')
    for flag, _group, _name, text in HOST_OPTIONS:
        if names is None or flag in names:
            # Converted by oslo.config (set_override), so that a bad value
            # gets oslo's message naming the option.
            group.add_argument(flag, metavar=flag[2:].upper().replace(
                '-', '_'), help=text)
    group.add_argument(
        '--kernel-release', metavar='RELEASE',
        help='the host kernel release the tap queue cap is read from when '
        '[libvirt]max_queues is unset (default: this host\'s, %s)'
        % os.uname().release)
    return group


def apply_host_options(parsed_args, overrides):
    """CONF.set_override for each host option given; a bad value is a
    UserError naming the flag and the value."""
    cfg = conf()
    for flag, group, name, _text in HOST_OPTIONS:
        value = getattr(parsed_args, name, None)
        if value is None:
            continue
        try:
            cfg.set_override(name, value, group)
        except ValueError as exc:
            raise UserError(flag, value, one_line(exc))
        overrides.append((name, group))
    # A nova.conf value that oslo cannot read fails here, named.
    for _flag, group, name, _text in HOST_OPTIONS:
        try:
            cfg[group][name]
        except ValueError as exc:
            raise UserError('[%s]%s' % (group, name), None, one_line(exc))


def clear_overrides(overrides):
    if not overrides:
        return
    cfg = conf()
    for name, group in overrides:
        cfg.clear_override(name, group)
    del overrides[:]


def key_values(flag, items):
    """``KEY=VALUE`` strings as a dict; a malformed one is a UserError."""
    result = {}
    for item in items or ():
        key, sep, value = item.partition('=')
        if not sep or not key.strip():
            raise UserError(flag, item, 'expected KEY=VALUE')
        result[key.strip()] = value
    return result
