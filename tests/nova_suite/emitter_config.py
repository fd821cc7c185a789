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
"""Nova's interface config, its XML written by nova-mq's C emitter.

Test code of the Nova-suite harness (run.py), not nova-mq's product: the
product returns Nova's own ``LibvirtConfigGuestInterface`` objects and Nova
writes their XML.  To run Nova's own config tests against the C emitter,
the harness installs ``EmitterGuestInterface`` as
``nova.virt.libvirt.config.LibvirtConfigGuestInterface``; everything here
exists only so that Nova's code and tests accept a subclass under their
class's name:

* ``_nova_method``: Nova's methods call ``super(LibvirtConfigGuestInterface,
  self)`` by the module's global name, which is then the subclass; a
  re-entry goes on to Nova's base class, as Nova's super() means.
* ``_AnyGuestInterface``: ``isinstance(obj, EmitterGuestInterface)`` holds
  for Nova's own interface configs too (Nova finds a running domain's
  device by the type of the config it built: ``Guest.get_interface_by_cfg``).

Import this module while ``nova.virt.libvirt.config`` still has Nova's
class: it binds Nova's class once.
"""

import contextvars

from lxml import etree
from nova.virt.libvirt import config as vconfig

import nova_mq

#: Nova's class, bound once, before the harness puts its subclass in its
#: place (and must then not find itself there).
NOVA_INTERFACE = vconfig.LibvirtConfigGuestInterface
if NOVA_INTERFACE.__module__ != vconfig.__name__:
    raise ImportError('nova.virt.libvirt.config.LibvirtConfigGuestInterface '
                      'is %r, not Nova\'s own' % (NOVA_INTERFACE,))

#: Attributes of Nova's LibvirtConfigObject, not the interface's.
BASE_ATTRS = frozenset(('root_name', 'ns_prefix', 'ns_uri'))

#: What the emitter may refuse: the config is then written by Nova.
FALLBACK_ERRORS = (TypeError, nova_mq.exception.InvalidInterfaceConfig)

#: Called with ('new', config), ('emit', config) or ('fallback', error)
#: when set (run.py counts them per test class).
observer = None

# (id(config), method name) of Nova's methods running in this context.
_IN_NOVA = contextvars.ContextVar('nova_suite_in_nova', default=frozenset())
# id() of configs whose to_xml() is being written by Nova's writer.
_NOVA_WRITES = contextvars.ContextVar('nova_suite_nova_writes',
                                      default=frozenset())


def _notify(event, what):
    if observer is not None:
        observer(event, what)


class _AnyGuestInterface(type):
    """isinstance(x, EmitterGuestInterface) for every interface config."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, NOVA_INTERFACE)


def _nova_method(name, nova_method):
    """Nova's method ``name``, safe with its class's name taken by ours.

    With a subclass installed under Nova's class name, Nova's
    ``super(LibvirtConfigGuestInterface, self)`` lands on the subclass's
    next class, Nova's own, whose method would call itself without end.
    Such a re-entry goes on to Nova's base class instead.
    """
    def method(self, *args, **kwargs):
        key = (id(self), name)
        running = _IN_NOVA.get()
        if key in running:
            return getattr(super(NOVA_INTERFACE, self), name)(
                *args, **kwargs)
        token = _IN_NOVA.set(running | {key})
        try:
            return nova_method(self, *args, **kwargs)
        finally:
            _IN_NOVA.reset(token)

    method.__name__ = name
    method.__doc__ = nova_method.__doc__
    return method


# Nova's methods that call super() by the class's global name (__init__,
# format_dom, parse_dom), each made safe.
_InNovasPlace = type('_InNovasPlace', (NOVA_INTERFACE,), {
    name: _nova_method(name, value)
    for name, value in vars(NOVA_INTERFACE).items()
    if {'super', NOVA_INTERFACE.__name__} <= set(
        getattr(getattr(value, '__code__', None), 'co_names', ()))})


class EmitterGuestInterface(_InNovasPlace, metaclass=_AnyGuestInterface):
    """Nova's interface config, written by ``nova_mq.render_interface``.

    The emitter gets the object's attributes (``vars()`` without Nova's
    base attributes).  An attribute name it does not know (TypeError) or a
    value it refuses (InvalidInterfaceConfig) is not the test's failure:
    the config is then written by Nova's own writer, which writes it or
    raises what Nova raises.
    """

    def __init__(self, **kwargs):
        super(EmitterGuestInterface, self).__init__(**kwargs)
        _notify('new', self)

    def _emit(self, pretty_print):
        """The emitter's XML, or None: Nova's writer is to write it."""
        if (self.root_name, self.ns_uri) != ('interface', None):
            _notify('fallback', 'root %r, namespace %r' % (self.root_name,
                                                           self.ns_uri))
            return None
        attrs = {name: value for name, value in vars(self).items()
                 if name not in BASE_ATTRS}
        try:
            xml = nova_mq.render_interface(pretty_print=pretty_print,
                                           **attrs)
        except FALLBACK_ERRORS as e:
            _notify('fallback', e)
            return None
        _notify('emit', self)
        return xml

    def to_xml(self, pretty_print=True):
        xml = self._emit(pretty_print)
        if xml is not None:
            return xml
        # Nova's to_xml() calls self.format_dom(): Nova's, this time.
        token = _NOVA_WRITES.set(_NOVA_WRITES.get() | {id(self)})
        try:
            return super(EmitterGuestInterface, self).to_xml(pretty_print)
        finally:
            _NOVA_WRITES.reset(token)

    def format_dom(self):
        xml = None
        if id(self) not in _NOVA_WRITES.get():
            xml = self._emit(False)
        if xml is None:
            return super(EmitterGuestInterface, self).format_dom()
        return etree.fromstring(xml)
