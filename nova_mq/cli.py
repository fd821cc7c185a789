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
"""The nova-mq command line: ``python -m nova_mq {demo,plan,render,parse}``.

``demo`` is the main job: it plans a realistic guest, writes each NIC's
``<interface>`` with the engine, proves each one byte for byte against
Nova's own ``LibvirtConfigGuestInterface`` and prints the plan and the XML.
``plan`` reads a JSON guest description (the arguments of ``plan_guest``)
and prints the plan as JSON; ``render`` reads JSON interface attributes and
prints the XML; ``parse`` reads a domain XML and prints what it found.
"""

import argparse
import json
import sys

import nova_mq
from nova_mq import demo


def _plan_to_dict(plan):
    return {
        'nics': [dict(zip(nova_mq.NicPlan.__match_args__, nic))
                 for nic in plan.nics],
        'msi_vectors': plan.msi_vectors,
        'msi_budget': plan.msi_budget,
        'vhost_memory': plan.vhost_memory,
        'warnings': list(plan.warnings),
    }


def _read_json(path):
    with (sys.stdin if path == '-' else open(path)) as f:
        return json.load(f)


def cmd_plan(args):
    guest = _read_json(args.file)
    plan = nova_mq.plan_guest(**guest)
    print(json.dumps(_plan_to_dict(plan), indent=2))


def cmd_render(args):
    attrs = _read_json(args.file)
    sys.stdout.write(nova_mq.render_interface(**attrs))


def cmd_parse(args):
    with (sys.stdin.buffer if args.file == '-' else open(args.file, 'rb')) \
            as f:
        xml = f.read()
    print(json.dumps(nova_mq.parse_domain(xml), indent=2))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m nova_mq',
        description='virtio-net multiqueue planning for Nova')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('demo', help='plan and write a sample guest')
    p.add_argument('--vcpus', type=int, default=16)
    p.set_defaults(func=lambda a: demo.run(vcpus=a.vcpus))
    for name, func, what in (('plan', cmd_plan, 'JSON guest description'),
                             ('render', cmd_render, 'JSON attributes'),
                             ('parse', cmd_parse, 'domain XML')):
        p = sub.add_parser(name, help='read a %s, print the result' % what)
        p.add_argument('file', nargs='?', default='-',
                       help='%s file, or - for stdin' % what)
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except nova_mq.exception.NovaMQInvalid as exc:
        print('error: %s' % exc, file=sys.stderr)
        return 2
