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
"""Every name of Nova's that nova-mq relies on, in one place.

nova-mq copies no Nova code: it subclasses Nova's vif and libvirt driver
classes, overrides a few of their methods (each calls Nova's own), and
calls Nova's functions and objects.  A Nova release that renames or
re-signs one of these breaks nova-mq, so ``tests/unit/test_nova_names.py``
checks each against the installed Nova: that it exists, and for a callable
that its parameters start with these, in this order (nova-mq passes the
rest through).  It fails (never skips) when
one is missing.

Checked against: Nova 26.2.2 (Debian's python3-nova, Zed) and 34.0.0
(PyPI).  ``since``: the first Nova major version that has the name (older
ones are not asked for it).
"""

import collections
import inspect

#: The Nova versions this list was checked against.
CHECKED_AGAINST = ('26.2.2', '34.0.0')

#: One name: its module, its dotted path in the module, the first
#: parameters of a callable (without self) or None, the first Nova major
#: that has it, and what nova-mq does with it.
NovaName = collections.namedtuple(
    'NovaName', 'module path params since use')

_VIF = 'nova.virt.libvirt.vif'
_DRIVER = 'nova.virt.libvirt.driver'
_VIF_CLS = 'LibvirtGenericVIFDriver.'
_DRV_CLS = 'LibvirtDriver.'

NAMES = (
    # nova_mq.vif: the vif driver.
    NovaName(_VIF, 'LibvirtGenericVIFDriver', None, 26, 'subclassed'),
    NovaName(_VIF, _VIF_CLS + 'get_config',
             ('instance', 'vif', 'image_meta', 'flavor', 'virt_type'), 26,
             'overridden: records the NIC, calls Nova\'s'),
    NovaName(_VIF, _VIF_CLS + '_get_virtio_mq_settings',
             ('image_meta', 'flavor'), 26,
             'overridden: the seam, answers (driver, queues) from the plan'),
    NovaName(_VIF, _VIF_CLS + '_get_packed_virtqueue_settings',
             ('image_meta', 'flavor'), 27,
             'overridden: the first seam, answers packed from the plan'),
    NovaName(_VIF, _VIF_CLS + 'get_vif_model',
             ('image_meta', 'vif_model'), 26, 'called: the guest\'s model'),
    NovaName(_VIF, _VIF_CLS + 'plug', ('instance', 'vif'), 26,
             'overridden: records Nova\'s VIF, calls Nova\'s'),
    NovaName(_VIF, _VIF_CLS + 'plug_tap', ('instance', 'vif'), 26,
             'overridden: Nova\'s, given the plan\'s multiqueue'),
    NovaName(_VIF, _VIF_CLS + '_plug_os_vif', ('instance', 'vif'), 26,
             'overridden: Nova\'s, given the plan\'s multiqueue'),
    NovaName(_VIF, 'SUPPORTED_VIF_MODELS', None, 26,
             'read: the models of a virt type'),
    NovaName('nova.virt.hardware', 'get_vif_multiqueue_constraint',
             ('flavor', 'image_meta'), 26,
             'relied on: Nova\'s plug_tap / _plug_os_vif rule, given a '
             'flavor and image that say the plan\'s answer'),
    NovaName('nova.objects.image_meta', 'ImageMetaProps.fields', None, 26,
             'read: which image properties the installed Nova has'),
    NovaName('nova.objects.image_meta', 'ImageMetaProps.get',
             ('name', 'defvalue'), 26, 'called: an image property'),
    NovaName('nova.objects', 'ImageMeta.from_dict', ('image_meta',), 26,
             'called: an image_meta dict as Nova converts it'),
    # nova_mq.driver: the libvirt driver.
    NovaName(_DRIVER, 'LibvirtDriver', None, 26,
             'subclassed; its construction is redirected by the hook'),
    NovaName(_DRIVER, _DRV_CLS + '__init__', ('virtapi', 'read_only'), 26,
             'overridden: Nova\'s, then nova-mq\'s vif driver'),
    NovaName(_DRIVER, _DRV_CLS + '_get_guest_config',
             ('instance', 'network_info'), 26,
             'overridden: the guest\'s NICs, then Nova\'s'),
    NovaName(_DRIVER, _DRV_CLS + 'plug_vifs', ('instance', 'network_info'),
             26, 'overridden: the guest\'s NICs, then Nova\'s'),
    NovaName(_DRIVER, _DRV_CLS + 'attach_interface',
             ('context', 'instance', 'image_meta', 'vif'), 26,
             'overridden: the running NICs\' queues, then Nova\'s'),
    NovaName(_DRIVER, _DRV_CLS + 'detach_interface',
             ('context', 'instance', 'vif'), 26,
             'overridden: the running NICs\' queues, then Nova\'s'),
    NovaName(_DRIVER, _DRV_CLS + 'check_can_live_migrate_destination',
             ('context', 'instance', 'src_compute_info', 'dst_compute_info',
              'block_migration', 'disk_over_commit'), 26,
             'overridden: Nova\'s, then this host\'s tap cap'),
    NovaName(_DRIVER, _DRV_CLS + 'check_can_live_migrate_source',
             ('context', 'instance', 'dest_check_data',
              'block_device_info'), 26,
             'overridden: Nova\'s, then the tap cap check'),
    NovaName(_DRIVER, _DRV_CLS + '_live_migration_operation',
             ('context', 'instance', 'dest', 'block_migration',
              'migrate_data', 'guest', 'device_names'), 26,
             'overridden: the running queues, then Nova\'s'),
    NovaName(_DRIVER, _DRV_CLS + 'pre_live_migration',
             ('context', 'instance', 'block_device_info', 'network_info',
              'disk_info', 'migrate_data'), 26,
             'overridden: the source\'s queues, then Nova\'s'),
    NovaName('nova.virt.libvirt.guest', 'Guest.get_xml_desc',
             ('dump_inactive', 'dump_sensitive', 'dump_migratable'), 26,
             'called: the running domain\'s interfaces'),
    NovaName('nova.virt.libvirt.host', 'Host.get_guest', ('instance',), 26,
             'called: the running domain'),
    NovaName('nova.objects.migrate_data', 'VIFMigrateData.get_dest_vif',
             (), 26, 'called: the VIF on the destination'),
    NovaName('nova.objects.instance', 'Instance.get_network_info', (), 26,
             'called: the instance\'s VIFs for hotplug'),
    # nova_mq: config, exceptions, validators.
    NovaName('nova.virt.libvirt.config', 'LibvirtConfigGuestInterface',
             None, 26, 'read: whether it has driver_packed (2023.1+)'),
    NovaName('nova.conf', 'CONF', None, 26,
             '[libvirt] max_queues, rx_queue_size, tx_queue_size, '
             'virt_type; [nova_mq] registered on it'),
    NovaName('nova.exception', 'Invalid', None, 26,
             'base of nova-mq\'s input errors'),
    NovaName('nova.exception', 'FlavorImageConflict', None, 26, 'raised'),
    NovaName('nova.exception', 'UnsupportedHardware', None, 26, 'raised'),
    NovaName('nova.exception', 'UnsupportedVirtType', None, 26, 'raised'),
    NovaName('nova.exception', 'MigrationPreCheckError', None, 26,
             'raised: a destination whose tap cap is too low'),
    NovaName('nova.exception', 'ObjectActionError', None, 26,
             'caught: a Flavor that cannot load its extra specs'),
    NovaName('nova.exception', 'ValidationError', None, 26,
             'raised by the mq: extra spec validators'),
    NovaName('nova.api.validation.extra_specs.base', 'ExtraSpecValidator',
             None, 26, 'subclassed: the mq: extra spec validators'),
)


def resolve(name):
    """The object a NovaName names (imports its module); AttributeError or
    ImportError when the installed Nova has no such name."""
    import importlib
    obj = importlib.import_module(name.module)
    for part in name.path.split('.'):
        obj = getattr(obj, part)
    return obj


def parameters(func):
    """func's parameter names, without self, in order."""
    params = list(inspect.signature(func).parameters)
    return tuple(params[1:] if params[:1] == ['self'] else params)


_BINDERS = {}


def bind_args(func, args, kwargs):
    """{parameter: value} of a call of Nova's func(self, *args, **kwargs).

    What an override that takes ``*args, **kwargs`` reads its arguments
    with, by Nova's own parameter names; parameters not passed get their
    defaults.
    """
    binder = _BINDERS.get(func)
    if binder is None:
        sig = inspect.signature(func)
        names = parameters(func)
        defaults = {n: p.default for n, p in sig.parameters.items()
                    if p.default is not inspect.Parameter.empty}
        binder = _BINDERS[func] = (names, defaults)
    names, defaults = binder
    if not kwargs and len(args) == len(names):
        return dict(zip(names, args))
    values = dict(defaults)
    values.update(zip(names, args))
    values.update(kwargs)
    return values
