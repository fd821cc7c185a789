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
"""The [nova_mq] options: ``oslo-config-generator --namespace nova_mq``
writes their sample through the ``oslo.config.opts`` entry point, found as
installed (pkgmeta), and the options behave as their help says."""

import json

import pytest
from oslo_config import cfg

from nova_mq import _engine
from nova_mq import conf as mq_conf
import pkgmeta

GROUP = 'oslo.config.opts'

#: oslo-config-generator's own main(), in a fresh interpreter.
SCRIPT = '''
import sys
from oslo_config import generator
sys.exit(generator.main(['--namespace', 'nova_mq',
                         '--output-file', sys.argv[1]]))
'''


def test_entry_point_in_package_metadata():
    assert pkgmeta.entry_points(GROUP) == {
        'nova_mq': 'nova_mq.conf:list_opts'}


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('conf')
    out = tmp_path / 'nova_mq.conf.sample'
    proc = pkgmeta.run_python(tmp_path, SCRIPT, str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out.read_text()


def test_generator_writes_the_group_and_every_option(sample):
    lines = sample.splitlines()
    assert '[nova_mq]' in lines
    assert '#enabled = false' in lines
    assert '#msi_vector_budget = %d' % _engine.DEFAULT_MSI_VECTOR_BUDGET \
        in lines
    assert '#reserved_msi_vectors = %d' % (
        _engine.DEFAULT_RESERVED_MSI_VECTORS) in lines
    # The help text and the bounds an operator needs.
    assert "# Use nova-mq in nova-compute's libvirt driver." in lines
    assert '#  (boolean value)' in lines
    assert '# Minimum value: %d' % _engine.MIN_MSI_VECTOR_BUDGET in lines
    assert '# Maximum value: %d' % _engine.MAX_OPTION_VALUE in lines
    assert '# nova-compute after changing it. When nova-mq is in use, ' \
        'nova-compute' in lines
    # Help lines fit the generator's width: it does not re-break them.
    assert all(len(line) <= 70 for line in lines)


def test_list_opts_is_what_the_generator_iterates():
    ((group, opts),) = mq_conf.list_opts()
    assert group.name == 'nova_mq'
    assert [o.dest for o in opts] == [
        'enabled', 'msi_vector_budget', 'reserved_msi_vectors']
    assert all(o.help.strip() for o in opts)
    assert opts == mq_conf.opts()
    assert opts[0] is mq_conf.ENABLED_OPT


def test_option_bounds_are_the_engine_s():
    opts = {o.dest: o for o in mq_conf.opts()}
    budget = opts['msi_vector_budget']
    assert (budget.default, budget.type.min, budget.type.max) == (
        _engine.DEFAULT_MSI_VECTOR_BUDGET, _engine.MIN_MSI_VECTOR_BUDGET,
        _engine.MAX_OPTION_VALUE)
    reserved = opts['reserved_msi_vectors']
    assert (reserved.default, reserved.type.min, reserved.type.max) == (
        _engine.DEFAULT_RESERVED_MSI_VECTORS, 0, _engine.MAX_OPTION_VALUE)
    # The engine is the one source: conf keeps no copy of its limits.
    assert not hasattr(mq_conf, 'MAX_OPTION_VALUE')


#: register_switch() in a fresh interpreter (a module-level OptGroup keeps
#: the options any ConfigOpts registered on it: not this test process's).
SWITCH_SCRIPT = '''
import json, sys
from oslo_config import cfg
from nova_mq import conf as mq_conf
conf = cfg.ConfigOpts()
mq_conf.register_switch(conf)
mq_conf.register_switch(conf)          # idempotent
conf([], default_config_files=[], default_config_dirs=[])
out = {'switch': sorted(conf.nova_mq), 'enabled': conf.nova_mq.enabled,
       'loaded': sorted(m for m in sys.modules
                        if m == 'nova' or m.startswith('nova_mq.'))}
mq_conf.register_opts(conf)            # the hook's, when enabled
out['all'] = sorted(conf.nova_mq)
out['engine'] = 'nova_mq._engine' in sys.modules
print('RESULT ' + json.dumps(out))
'''


def test_register_switch_registers_enabled_only(tmp_path):
    proc = pkgmeta.run_python(tmp_path, SWITCH_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.split('RESULT ', 1)[1])
    assert out == {
        'switch': ['enabled'], 'enabled': False,
        # oslo.config only: no engine, no Nova.
        'loaded': ['nova_mq.conf'],
        'all': ['enabled', 'msi_vector_budget', 'reserved_msi_vectors'],
        'engine': True}


def _conf(**values):
    conf = cfg.ConfigOpts()
    mq_conf.register_opts(conf)
    mq_conf.register_opts(conf)        # idempotent
    conf([], default_config_files=[], default_config_dirs=[])
    for name, value in values.items():
        conf.set_override(name, value, group='nova_mq')
    return conf


def test_defaults():
    conf = _conf()
    assert conf.nova_mq.enabled is False
    assert conf.nova_mq.msi_vector_budget == 4096
    assert conf.nova_mq.reserved_msi_vectors == 128


@pytest.mark.parametrize('name, value', [
    ('msi_vector_budget', 2),
    ('msi_vector_budget', _engine.MAX_OPTION_VALUE + 1),
    ('reserved_msi_vectors', -1),
    ('reserved_msi_vectors', _engine.MAX_OPTION_VALUE + 1),
])
def test_out_of_range_values_are_refused(name, value):
    with pytest.raises(ValueError):
        _conf(**{name: value})


@pytest.mark.parametrize('name', ['msi_vector_budget',
                                  'reserved_msi_vectors'])
def test_option_range_is_what_the_engine_reads(name):
    # The largest value oslo.config lets through, the engine takes.
    import nova_mq
    nova_mq.plan_guest(2, options={name: _engine.MAX_OPTION_VALUE})
    with pytest.raises((TypeError, ValueError)):
        nova_mq.plan_guest(2, options={name: _engine.MAX_OPTION_VALUE + 1})
