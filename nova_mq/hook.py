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
"""The Nova side of nova-mq's start-up hook (see _nova_mq_hook).

``LibvirtDriver(...)``, as ``nova.virt.driver.load_compute_driver`` calls it
for ``compute_driver = libvirt.LibvirtDriver``, asks ``driver_class()``
which class to build.  ``[nova_mq] enabled`` is registered on Nova's
``CONF`` here, when the driver is built (the configuration is parsed by
then; oslo.config allows registering later).

``[nova_mq] enabled = false`` (the default): Nova's own class, and that is
all: this module and nova_mq.conf import oslo.config, oslo.log and Nova's
own configuration, nothing of nova-mq's engine (no C code, no libxml2) or
drivers.  ``true``: the other ``[nova_mq]`` options are registered and
every value is checked, then ``nova_mq.driver.MultiqueueLibvirtDriver`` is
built as if ``compute_driver`` named it, so its ``__init__`` (Nova's, then
nova-mq's vif driver) and its overrides are all in effect from the start.
A bad ``[nova_mq]`` value or a broken nova-mq install is logged as an error
and leaves Nova's own driver: installing nova-mq never stops nova-compute.
"""

from oslo_config import cfg
from oslo_log import log as logging

import nova.conf
from nova_mq import conf as mq_conf

LOG = logging.getLogger(__name__)


def _qualname(cls):
    return '%s.%s' % (cls.__module__, cls.__qualname__)


def driver_class(base):
    """The class to build for ``base(...)`` (Nova's LibvirtDriver)."""
    conf = nova.conf.CONF
    try:
        mq_conf.register_switch(conf)
        enabled = conf.nova_mq.enabled
    except cfg.Error as exc:
        LOG.error('nova-mq: %(error)s; nova-mq is off and %(cls)s is used',
                  {'error': exc, 'cls': _qualname(base)})
        return base
    except Exception:
        LOG.exception('nova-mq: cannot read [nova_mq] enabled; nova-mq is '
                      'off and %s is used', _qualname(base))
        return base
    if not enabled:
        LOG.debug('nova-mq: [nova_mq] enabled = false; %s is used',
                  _qualname(base))
        return base
    try:
        # Every [nova_mq] value is checked now, at start-up, not at the
        # first boot that plans NICs.
        mq_conf.register_opts(conf)
        for opt in mq_conf.opts():
            getattr(conf.nova_mq, opt.dest)
        from nova_mq import driver as mq_driver
        from nova_mq import vif as mq_vif
        cls = mq_driver.MultiqueueLibvirtDriver
        if not issubclass(cls, base):
            raise TypeError('%s is not a subclass of %s (was %s imported '
                            'twice?)' % (_qualname(cls), _qualname(base),
                                         base.__module__))
    except cfg.Error as exc:
        LOG.error('nova-mq: [nova_mq] enabled = true, but %(error)s; '
                  'nova-mq is off and %(cls)s is used',
                  {'error': exc, 'cls': _qualname(base)})
        return base
    except Exception:
        LOG.exception('nova-mq: [nova_mq] enabled = true, but nova-mq '
                      'cannot be used; %s is used instead', _qualname(base))
        return base
    LOG.info('nova-mq: [nova_mq] enabled = true; the libvirt driver is %s '
             'with the vif driver %s', _qualname(cls),
             _qualname(mq_vif.MultiqueueVIFDriver))
    return cls
