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
"""nova_mq.nova_names: every Nova name nova-mq relies on is in the
installed Nova, with the parameters nova-mq reads; every Nova method
nova-mq overrides is on the list.  Nothing here skips: a missing name is a
failure that says which."""

from importlib import metadata

import pytest

from nova_mq import driver as mq_driver
from nova_mq import nova_names
from nova_mq import vif as mq_vif

NOVA_MAJOR = int(metadata.version('nova').split('.')[0])
NAMES = [n for n in nova_names.NAMES if n.since <= NOVA_MAJOR]


def test_installed_nova_is_one_the_list_was_checked_against():
    majors = {int(v.split('.')[0]) for v in nova_names.CHECKED_AGAINST}
    assert NOVA_MAJOR in majors, (
        'Nova %s: check nova_mq/nova_names.py against it and add it to '
        'CHECKED_AGAINST' % metadata.version('nova'))


@pytest.mark.parametrize('name', NAMES,
                         ids=['%s:%s' % (n.module, n.path) for n in NAMES])
def test_name_is_in_the_installed_nova(name):
    try:
        obj = nova_names.resolve(name)
    except (ImportError, AttributeError) as exc:
        pytest.fail('Nova %s has no %s.%s (%s), which nova-mq relies on: %s'
                    % (metadata.version('nova'), name.module, name.path,
                       name.use, exc))
    if name.params is not None:
        got = nova_names.parameters(obj)
        assert got[:len(name.params)] == name.params, (
            '%s.%s takes %s; nova-mq reads %s' % (
                name.module, name.path, got, name.params))


@pytest.mark.parametrize('cls', [mq_vif.MultiqueueVIFDriver,
                                 mq_driver.MultiqueueLibvirtDriver])
def test_every_override_of_nova_is_listed(cls):
    base = cls.__mro__[1]
    listed = {n.path for n in nova_names.NAMES}
    overrides = [attr for attr in vars(cls) if hasattr(base, attr) and
                 attr not in ('__doc__', '__module__', '__dict__',
                              '__weakref__')]
    assert overrides, cls
    for attr in overrides:
        assert '%s.%s' % (base.__name__, attr) in listed, attr


def test_a_missing_name_fails():
    name = nova_names.NovaName('nova.virt.libvirt.vif',
                               'LibvirtGenericVIFDriver.no_such_method',
                               None, 26, 'test')
    with pytest.raises(AttributeError):
        nova_names.resolve(name)


def test_bind_args_reads_nova_s_parameter_names():
    from nova.virt.libvirt import vif as nova_vif
    func = nova_vif.LibvirtGenericVIFDriver._get_virtio_mq_settings
    assert nova_names.bind_args(func, ('image', 'flavor'), {}) == {
        'image_meta': 'image', 'flavor': 'flavor'}
    assert nova_names.bind_args(func, ('image',), {'flavor': 'f'}) == {
        'image_meta': 'image', 'flavor': 'f'}
