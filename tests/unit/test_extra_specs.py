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
"""The ``mq:`` flavor extra spec validators, as nova-api loads them.

Nova's ``nova.api.validation.extra_specs.validators`` loads every
``nova.api.extra_spec_validators`` entry point with stevedore when it is
imported; the flavor extra specs API (microversion 2.86+) calls its
``validate(name, value)``.  The tests import that module in a fresh
interpreter that sees nova-mq's entry points as installed (pkgmeta), and
check that the engine accepts exactly the values the validators accept.
"""

import json
import textwrap

import pytest

import nova_mq
from nova_mq import exception as mq_exception
from nova_mq import extra_specs
import pkgmeta

GROUP = 'nova.api.extra_spec_validators'
LONG_MAX = nova_mq._engine.MAX_MSI_VECTOR_BUDGET

#: (key, value): boundaries, and what Python's int() takes but C does not.
CASES = [
    ('mq:throughput', 'high'),
    ('mq:throughput', 'medium'),
    ('mq:throughput', 'low'),
    ('mq:throughput', 'fast'),
    ('mq:throughput', 'HIGH'),
    ('mq:throughput', ' high'),
    ('mq:throughput', ''),
    ('mq:max_queues', '1'),
    ('mq:max_queues', '256'),
    ('mq:max_queues', '0'),
    ('mq:max_queues', '257'),
    ('mq:max_queues', '-1'),
    ('mq:max_queues', '-0'),
    ('mq:max_queues', '8'),
    ('mq:max_queues', '008'),
    ('mq:max_queues', ' 8 '),
    ('mq:max_queues', '8\n'),
    ('mq:max_queues', '+8'),
    ('mq:max_queues', '1_0'),
    ('mq:max_queues', '8.0'),
    ('mq:max_queues', '0x10'),
    ('mq:max_queues', '\u0668'),          # ARABIC-INDIC DIGIT EIGHT
    ('mq:max_queues', '\u20038'),         # EM SPACE, 8
    ('mq:max_queues', ''),
    ('mq:msi_vector_budget', '2'),
    ('mq:msi_vector_budget', '3'),
    ('mq:msi_vector_budget', '200'),
    ('mq:msi_vector_budget', '4096'),
    ('mq:msi_vector_budget', ' 4096\t'),
    ('mq:msi_vector_budget', str(LONG_MAX)),
    ('mq:msi_vector_budget', str(LONG_MAX + 1)),
    ('mq:msi_vector_budget', '-3'),
    ('mq:msi_vector_budget', '+3'),
    ('mq:msi_vector_budget', '4k'),
]

#: Runs after pkgmeta.PRELUDE: Nova's own loading and validate().
SCRIPT = textwrap.dedent('''
    import json
    import sys

    from nova import exception
    from nova.api.validation.extra_specs import validators

    cases = json.loads(sys.argv[1])
    out = {
        'loaded': {name: type(v).__module__ + '.' + type(v).__name__
                   for name, v in validators.VALIDATORS.items()
                   if name.startswith('mq:')},
        'namespaces': sorted(validators.NAMESPACES),
        'results': [],
    }
    for name, value in cases:
        try:
            validators.validate(name, value)
            out['results'].append(None)
        except exception.ValidationError as exc:
            out['results'].append(str(exc))
    print('RESULT ' + json.dumps(out))
''')


@pytest.fixture(scope='module')
def nova_api(tmp_path_factory):
    """{'loaded', 'namespaces', 'results'} from Nova's validators."""
    cases = CASES + [('mq:max_queue', '4'), ('hw:cpu_policy', 'fast')]
    tmp_path = tmp_path_factory.mktemp('extra-specs')
    proc = pkgmeta.run_python(tmp_path, SCRIPT, json.dumps(cases))
    lines = [line for line in proc.stdout.splitlines()
             if line.startswith('RESULT ')]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    out = json.loads(lines[-1][len('RESULT '):])
    out['by_case'] = dict(zip(map(tuple, cases), out['results']))
    return out


def test_entry_point_in_package_metadata():
    # In the wheel (tox) or built from setup.cfg (source tree).
    assert pkgmeta.entry_points(GROUP) == {'mq': 'nova_mq.extra_specs'}


def test_nova_loads_the_validators(nova_api):
    assert nova_api['loaded'] == {
        name: 'nova_mq.extra_specs.MultiqueueSpecValidator'
        for name in ('mq:throughput', 'mq:max_queues',
                     'mq:msi_vector_budget')}
    assert 'mq' in nova_api['namespaces']


def test_bad_throughput_names_key_and_value(nova_api):
    message = nova_api['by_case'][('mq:throughput', 'fast')]
    assert message is not None
    assert 'mq:throughput' in message
    assert "'fast'" in message
    assert 'high, medium, low' in message


@pytest.mark.parametrize('key, value, words', [
    ('mq:max_queues', '257', ['mq:max_queues', "'257'", "'256'"]),
    ('mq:max_queues', '+8', ['mq:max_queues', "'+8'", 'integer']),
    ('mq:max_queues', '-1', ['mq:max_queues', "'-1'", "min value of '1'"]),
    ('mq:msi_vector_budget', '2',
     ['mq:msi_vector_budget', "'2'", "'3'"]),
])
def test_bad_integer_names_key_and_value(nova_api, key, value, words):
    message = nova_api['by_case'][(key, value)]
    for word in words:
        assert word in message


@pytest.mark.parametrize('key, value', [
    ('mq:throughput', 'high'), ('mq:throughput', 'medium'),
    ('mq:throughput', 'low'), ('mq:max_queues', '1'),
    ('mq:max_queues', '256'), ('mq:msi_vector_budget', '3'),
    ('mq:msi_vector_budget', '4096'),
])
def test_valid_values_pass(nova_api, key, value):
    assert nova_api['by_case'][(key, value)] is None


def test_unknown_mq_key_is_refused(nova_api):
    # The mq namespace is nova-mq's: a typo does not pass silently.
    message = nova_api['by_case'][('mq:max_queue', '4')]
    assert message is not None and 'mq:max_queue' in message


def test_nova_s_own_validators_still_work(nova_api):
    assert nova_api['by_case'][('hw:cpu_policy', 'fast')] is not None


def _engine_accepts(key, value):
    try:
        nova_mq.plan_guest(8, {key: value}, {}, 'kvm', nics=[
            {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}])
    except mq_exception.InvalidMultiqueueValue as exc:
        assert exc.key == key
        return False
    return True


@pytest.mark.parametrize('key, value', CASES)
def test_engine_accepts_exactly_what_nova_api_accepts(nova_api, key,
                                                      value):
    api_accepts = nova_api['by_case'][(key, value)] is None
    assert _engine_accepts(key, value) == api_accepts


def test_validator_bounds_are_the_engine_s():
    engine = nova_mq._engine
    specs = {v.name: v.value for v in extra_specs.register()}
    assert specs['mq:throughput']['enum'] == list(engine.THROUGHPUTS)
    assert (specs['mq:max_queues']['min'],
            specs['mq:max_queues']['max']) == (1, engine.MAX_QUEUES)
    assert (specs['mq:msi_vector_budget']['min'],
            specs['mq:msi_vector_budget']['max']) == (
        engine.MIN_MSI_VECTOR_BUDGET, engine.MAX_MSI_VECTOR_BUDGET)


@pytest.mark.parametrize('key', ['mq:max_queues', 'mq:msi_vector_budget'])
def test_validator_bounds_are_where_the_engine_turns(key):
    """One past each bound the engine refuses; at it, it accepts."""
    spec = {v.name: v.value for v in extra_specs.register()}[key]
    assert _engine_accepts(key, str(spec['min']))
    assert _engine_accepts(key, str(spec['max']))
    assert not _engine_accepts(key, str(spec['min'] - 1))
    assert not _engine_accepts(key, str(spec['max'] + 1))
