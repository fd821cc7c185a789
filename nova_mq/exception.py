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
"""nova-mq's exceptions, and the factory the C engine raises them through.

Every error a user can cause is a subclass of Nova's ``Invalid`` (HTTP 400
in Nova's API) and of ``ValueError``, and its message names the key and
the value.  Where Nova itself raises for the same input (a flavor/image
conflict, a model the virt type does not support), the engine raises
Nova's own exception with Nova's message.
"""

from nova import exception as nova_exception
from nova.i18n import _


class NovaMQInvalid(nova_exception.Invalid, ValueError):
    """Base of nova-mq's input errors.

    ``kwargs`` carries ``key`` (the input's name), ``value`` (its text, cut
    at 150 characters) and ``code`` (the engine's error code).
    """

    msg_fmt = _("Invalid value %(value)s for %(key)s")

    @property
    def key(self):
        return self.kwargs.get('key')

    @property
    def value(self):
        return self.kwargs.get('value')


class InvalidMultiqueueValue(NovaMQInvalid):
    """A multiqueue knob (flavor extra spec, image property, port binding
    profile key, option) has a value the policy cannot use."""


class InvalidInterfaceConfig(NovaMQInvalid):
    """An interface attribute cannot be written as libvirt XML."""


class InvalidDomainXML(NovaMQInvalid):
    """A libvirt domain XML that nova-mq refuses to read."""


_BY_API = {
    'plan': InvalidMultiqueueValue,
    'render': InvalidInterfaceConfig,
    'parse': InvalidDomainXML,
}


def from_engine(what, code, key, value, message, extra1, extra2):
    """Build the exception for one engine error; the engine raises it.

    :param what: the API that failed: 'plan', 'render' or 'parse'
    :param code: the engine's error code, e.g. 'invalid_value'
    :param key: the input's name, e.g. 'mq:max_queues'
    :param value: the offending value as text
    :param message: the engine's sentence, naming key and value
    :param extra1: code-specific: the virt type for unsupported_hardware
    :param extra2: code-specific, unused so far
    """
    if code == 'conflict':
        return nova_exception.FlavorImageConflict(message=message)
    if code == 'unsupported_hardware':
        return nova_exception.UnsupportedHardware(model=value, virt=extra1)
    if code == 'unsupported_virt':
        return nova_exception.UnsupportedVirtType(virt=value)
    cls = _BY_API.get(what, NovaMQInvalid)
    return cls(message=message, key=key, value=value, code=code)
