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
"""render_interface() given a Nova config object's own attributes.

The attributes of Nova's LibvirtConfigGuestInterface, set as Nova's code
and designer set them, are render_interface's keywords (Nova's base
attributes root_name, ns_prefix and ns_uri aside): the C emitter must write
what Nova's own to_xml() of the same object writes.  How the demo, the
Nova-suite harness and a custom driver with a config object in hand use
the emitter.
"""

import random

from nova.virt.libvirt import config as vconfig
import pytest

import nova_mq
from nova_mq import exception

import test_render
from testlib import assert_no_growth
from testlib import NET_TYPES

#: Nova's config-object attributes that are not the interface's.
BASE_ATTRS = ('root_name', 'ns_prefix', 'ns_uri')


def render_conf(conf, pretty=True):
    """The C emitter's XML for a Nova config object's attributes."""
    return nova_mq.render_interface(
        pretty_print=pretty,
        **{k: v for k, v in vars(conf).items() if k not in BASE_ATTRS})


def nova_conf(attrs):
    conf = vconfig.LibvirtConfigGuestInterface()
    for key, value in attrs.items():
        setattr(conf, key, value)
    return conf


def both(conf, pretty):
    """(Nova's to_xml, the emitter's): text, or the exception raised."""
    try:
        want = conf.to_xml(pretty_print=pretty)
    except test_render.NOVA_ERRORS as exc:
        want = exc
    try:
        got = render_conf(conf, pretty)
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
    assert nova_mq.render_interface(**{
        k: v for k, v in vars(conf).items()
        if k not in BASE_ATTRS}) == conf.to_xml()


def test_an_attribute_the_emitter_does_not_know_is_a_type_error():
    """A newer Nova's attribute is never dropped silently."""
    conf = nova_conf(test_render.base('bridge'))
    conf.rss_hash = 'on'
    with pytest.raises(TypeError, match='rss_hash'):
        render_conf(conf)


def test_no_leak():
    conf = nova_conf(test_render.base('bridge', mtu=1500, vhost_queues=2,
                                      driver_name='vhost'))
    bad = nova_conf(test_render.base('bridge'))
    bad.unknown = 1

    def churn(n):
        for _ in range(n):
            render_conf(conf, False)
            try:
                render_conf(bad)
            except TypeError:
                pass
    assert_no_growth(churn, 50000)
