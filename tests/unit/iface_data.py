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
"""Test data shared by the unit tests (not a test module)."""

#: The attributes each net type's <source> needs, with realistic values.
SOURCES = {
    'bridge': {'source_dev': 'qbr1234'},
    'ethernet': {},
    'direct': {'source_dev': 'enp3s0f1', 'source_mode': 'passthrough'},
    'vdpa': {'source_dev': '/dev/vhost-vdpa-0'},
    'hostdev': {'source_dev': '0000:81:00.2'},
    'vhostuser': {'vhostuser_type': 'unix', 'vhostuser_mode': 'server',
                  'vhostuser_path': '/var/run/openvswitch/vhu1234'},
    'network': {'source_dev': 'default'},
}
NET_TYPES = sorted(SOURCES)
