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
"""_engine.render_attrs: render() straight from a config object's __dict__.

This is how nova-mq's interface config writes itself (nova_mq.vif), so it
is checked the same way as render(): Nova's own to_xml() of the same
object is the oracle.
"""

import random

from nova.virt.libvirt import config as vconfig
import pytest

from nova_mq import _engine
from nova_mq import exception

import test_render
from testlib import assert_no_growth
from testlib import NET_TYPES


def nova_conf(attrs):
    conf = vconfig.LibvirtConfigGuestInterface()
    for key, value in attrs.items():
        setattr(conf, key, value)
    return conf


def both(conf, pretty):
    """(Nova's to_xml, render_attrs): text, or the exception raised."""
    try:
        want = conf.to_xml(pretty_print=pretty)
    except test_render.NOVA_ERRORS as exc:
        want = exc
    try:
        got = _engine.render_attrs(conf.__dict__, pretty)
    except exception.InvalidInterfaceConfig as exc:
        got = exc
    return want, got


def test_random_configs_match_novas_to_xml():
    rng = random.Random(777)
    bad = []
    raised = 0
    for i in range(4000):
        conf = nova_conf(test_render.rand_attrs(rng))
        pretty = rng.random() < 0.5
        want, got = both(conf, pretty)
        raised += isinstance(want, Exception)
        if isinstance(want, Exception) != isinstance(got, Exception) or (
                not isinstance(want, Exception) and want != got):
            bad.append((conf.__dict__, pretty, want, got))
    assert not bad, '%d differ, e.g. %r' % (len(bad), bad[:2])
    assert 200 < raised < 2000, raised


@pytest.mark.parametrize('net', NET_TYPES)
def test_every_net_type_and_default_pretty_print(net):
    conf = nova_conf(test_render.base(net, mtu=1500, vhost_queues=4,
                                      driver_name='vhost'))
    assert _engine.render_attrs(conf.__dict__) == conf.to_xml()


def test_unknown_attribute_is_a_type_error_naming_it():
    conf = nova_conf(test_render.base('bridge'))
    conf.rss_hash = 'on'  # an attribute a newer Nova might add
    with pytest.raises(TypeError, match="unknown attribute 'rss_hash'"):
        _engine.render_attrs(conf.__dict__)
    attrs = dict(conf.__dict__)
    del attrs['rss_hash']
    odd = dict(attrs)
    odd[5] = 'not a name'
    with pytest.raises(TypeError, match='unknown attribute 5'):
        _engine.render_attrs(odd)
    # pretty_print is an argument, never an attribute.
    with pytest.raises(TypeError, match="unknown attribute 'pretty_print'"):
        _engine.render_attrs(dict(attrs, pretty_print=False))


def test_novas_base_attributes_are_skipped_and_others_required_by_name():
    attrs = test_render.base('ethernet')
    # Keys built at run time are not interned: found by their text.
    built = {''.join(list(key)): value for key, value in attrs.items()}
    built[''.join(['root', '_name'])] = 'interface'
    assert _engine.render_attrs(built) == nova_conf(attrs).to_xml()


def test_argument_errors():
    with pytest.raises(TypeError, match='1 or 2 arguments'):
        _engine.render_attrs()
    with pytest.raises(TypeError, match='1 or 2 arguments'):
        _engine.render_attrs({}, True, 3)
    with pytest.raises(exception.InvalidInterfaceConfig) as info:
        _engine.render_attrs([('net_type', 'bridge')])
    assert info.value.key == 'attrs'


class Shrinking(object):
    """A ring flag whose truth test empties the dict being rendered."""

    def __init__(self, attrs):
        self.attrs = attrs

    def __bool__(self):
        self.attrs.clear()
        return True


def test_values_outlive_code_that_empties_the_dict():
    conf = nova_conf(test_render.base('ethernet', mtu=1500,
                                      driver_name='vhost'))
    flag = test_render.RING_FLAGS[0]
    setattr(conf, flag, True)
    want = conf.to_xml()
    attrs = dict(conf.__dict__)
    attrs[flag] = Shrinking(attrs)
    assert _engine.render_attrs(attrs) == want
    assert attrs == {}


def test_no_leak():
    conf = nova_conf(test_render.base('bridge', mtu=1500, vhost_queues=2,
                                      driver_name='vhost'))
    bad = dict(conf.__dict__, unknown=1)

    def churn(n):
        for _ in range(n):
            _engine.render_attrs(conf.__dict__, False)
            try:
                _engine.render_attrs(bad)
            except TypeError:
                pass
    assert_no_growth(churn, 50000)
