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
"""nova-mq's libvirt driver: Nova's LibvirtDriver with nova-mq's vif driver.

``MultiqueueLibvirtDriver`` is what nova-compute runs when ``[nova_mq]
enabled = true`` (see nova_mq.hook), and what a custom driver subclasses.
It changes only what the guest's NIC plan needs: the vif driver, and the
guest context (the guest's NICs, and the queues of NICs already running)
around the driver paths that ask the vif driver for interface configs.
"""

from nova.virt.libvirt import driver as nova_driver

from nova_mq import vif as mq_vif


class MultiqueueLibvirtDriver(nova_driver.LibvirtDriver):
    """LibvirtDriver whose guests' NICs are planned by nova-mq."""

    def __init__(self, virtapi, read_only=False):
        super(MultiqueueLibvirtDriver, self).__init__(virtapi, read_only)
        self.vif_driver = mq_vif.MultiqueueVIFDriver(self._host)

    def _get_guest_config(self, instance, network_info, *args, **kwargs):
        # Every NIC of this guest is planned once, against all of them.
        with mq_vif.guest_context(network_info=network_info):
            return super(MultiqueueLibvirtDriver, self)._get_guest_config(
                instance, network_info, *args, **kwargs)
