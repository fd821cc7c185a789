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
"""The developer's commands: ``demo``, ``render``, ``parse``, ``engine-plan``.

``engine-plan`` is the old ``python -m nova_mq plan guest.json``: the
engine's own argument dictionary (``plan_guest(**guest)``) in, the plan as
JSON out.  ``render`` and ``parse`` are the engine's ``render_interface``
and ``parse_domain`` from the shell.
"""

import json

from nova_mq.cli import common


def _read(app, path, binary=False):
    """A file's content, or standard input's for '-'."""
    if path == '-':
        stream = app.stdin.buffer if binary else app.stdin
        return stream.read()
    with open(path, 'rb' if binary else 'r') as f:
        return f.read()


def _call_with_json(app, path, func):
    """func(**the JSON object in path); a bad file or key is a UserError."""
    try:
        kwargs = json.loads(_read(app, path))
    except ValueError as exc:
        raise common.UserError('FILE', path, 'not JSON: %s' % exc)
    if not isinstance(kwargs, dict):
        raise common.UserError('FILE', path, 'not a JSON object')
    try:
        return func(**kwargs)
    except TypeError as exc:
        raise common.UserError('FILE', path, str(exc))


def plan_to_dict(plan):
    import nova_mq
    return {
        'nics': [dict(zip(nova_mq.NicPlan.__match_args__, nic))
                 for nic in plan.nics],
        'msi_vectors': plan.msi_vectors,
        'msi_budget': plan.msi_budget,
        'vhost_memory': plan.vhost_memory,
        'warnings': list(plan.warnings),
    }


class _FileCommand(common.Command):
    needs_config = False
    what = 'file'

    def get_parser(self, prog_name):
        parser = super(_FileCommand, self).get_parser(prog_name)
        parser.add_argument('file', nargs='?', default='-', metavar='FILE',
                            help='%s, or - for standard input' % self.what)
        return parser


class EnginePlan(_FileCommand):
    """The engine's plan for its own argument dictionary, as JSON.

    FILE holds a JSON object of nova_mq.plan_guest()'s arguments (vcpus,
    extra_specs, image_properties, virt_type, host, options, nics); for an
    operator's question, use "nova-mq plan".
    """

    what = 'a JSON object of plan_guest() arguments'

    def take_action(self, parsed_args):
        import nova_mq
        plan = _call_with_json(self.app, parsed_args.file,
                               nova_mq.plan_guest)
        self.app.stdout.write(json.dumps(plan_to_dict(plan), indent=2) +
                              '\n')
        return 0


class Render(_FileCommand):
    """An <interface> from JSON attributes (LibvirtConfigGuestInterface's)."""

    what = 'a JSON object of interface attributes'

    def take_action(self, parsed_args):
        import nova_mq
        self.app.stdout.write(_call_with_json(
            self.app, parsed_args.file, nova_mq.render_interface))
        return 0


class Parse(_FileCommand):
    """A domain XML's name, vCPUs and interfaces (the C reader), as JSON."""

    what = 'a libvirt domain XML'

    def take_action(self, parsed_args):
        import nova_mq
        xml = _read(self.app, parsed_args.file, binary=True)
        self.app.stdout.write(json.dumps(nova_mq.parse_domain(xml),
                                         indent=2) + '\n')
        return 0


class Demo(common.Command):
    """The main job: a 6-port guest through Nova's vif driver with nova-mq.

    Prints the plan and each NIC's <interface>, each checked byte for byte
    against Nova's own to_xml(); --domain-xml also writes the guest's
    domain XML (Nova's config classes) for "nova-mq audit".
    """

    needs_config = False

    def get_parser(self, prog_name):
        parser = super(Demo, self).get_parser(prog_name)
        parser.add_argument('--vcpus', type=int, default=16,
                            help='the guest\'s vCPUs (default 16)')
        parser.add_argument('--domain-xml', metavar='PATH',
                            help='write the guest\'s domain XML here')
        return parser

    def take_action(self, parsed_args):
        from nova_mq import demo
        return demo.run(vcpus=parsed_args.vcpus,
                        out=lambda s: self.app.stdout.write(s + '\n'),
                        domain_xml=parsed_args.domain_xml)
