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
"""The compiled engine, loaded and configured: the names nova_mq exports.

The only module that imports nova_mq._engine.  It configures the engine
at once (the factory of Nova's exceptions, whether the installed Nova
writes packed rings), so no engine call can run unconfigured.  Imported
on first use of one of its names from the package (``nova_mq.plan_guest``,
``from nova_mq import _engine``...: nova_mq.__getattr__), never by
``import nova_mq`` itself.
"""

import importlib

from nova.virt.libvirt import config as _nova_config

from nova_mq import exception

#: True when the installed Nova writes ``packed="on"`` (2023.1 and later);
#: Zed (Debian's 26.x) has ``driver_iommu`` instead.
NOVA_HAS_PACKED_RING = hasattr(
    _nova_config.LibvirtConfigGuestInterface(), 'driver_packed')

# Imported here, after Nova, and configured in the next statement: the
# package's _engine attribute never names an unconfigured engine.
_engine = importlib.import_module('nova_mq._engine')
_engine._configure(exception.from_engine, NOVA_HAS_PACKED_RING)

plan_guest = _engine.plan
render_interface = _engine.render
parse_domain = _engine.parse
GuestPlan = _engine.GuestPlan
NicPlan = _engine.NicPlan
