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
"""Signatures of the compiled engine, nova_mq._engine (ext/module.c)."""

from typing import Any, Callable, Mapping, Optional, Sequence, Union

MAX_QUEUES: int
MAX_XML_BYTES: int
DEFAULT_MSI_VECTOR_BUDGET: int
DEFAULT_RESERVED_MSI_VECTORS: int
VHOST_BYTES_PER_QUEUE: int

class Error(ValueError): ...

class NicPlan(tuple):
    driver: Optional[str]
    model: Optional[str]
    queues: Optional[int]
    rx_queue_size: Optional[int]
    tx_queue_size: Optional[int]
    packed: Optional[bool]
    multiqueue: bool
    requested: int
    msi_vectors: int
    vhost_memory: int
    reasons: tuple[str, ...]

class GuestPlan(tuple):
    nics: tuple[NicPlan, ...]
    msi_vectors: int
    msi_budget: int
    vhost_memory: int
    warnings: tuple[str, ...]

Scalar = Union[str, int, None]

def plan(
    vcpus: int,
    extra_specs: Optional[Mapping[str, Scalar]] = ...,
    image_properties: Optional[Mapping[str, Union[str, bool, None]]] = ...,
    virt_type: str = ...,
    host: Optional[Mapping[str, str]] = ...,
    options: Optional[Mapping[str, Any]] = ...,
    nics: Sequence[Mapping[str, Any]] = ...,
    flavor_name: Optional[str] = ...,
    image_name: Optional[str] = ...,
) -> GuestPlan: ...

class GuestPolicy:
    def __init__(
        self,
        vcpus: int,
        extra_specs: Optional[Mapping[str, Scalar]] = ...,
        image_properties: Optional[Mapping[str, Union[str, bool, None]]] = ...,
        virt_type: str = ...,
        host: Optional[Mapping[str, str]] = ...,
        options: Optional[Mapping[str, Any]] = ...,
        flavor_name: Optional[str] = ...,
        image_name: Optional[str] = ...,
    ) -> None: ...
    def plan(self, nics: Sequence[Mapping[str, Any]], /) -> GuestPlan: ...

def render(
    plan: Optional[NicPlan] = ..., /, *, pretty_print: bool = ...,
    **attrs: Any
) -> str: ...

def render_attrs(
    attrs: Mapping[str, Any], pretty_print: bool = ..., /
) -> str: ...

def parse(xml: Union[str, bytes], /) -> dict[str, Any]: ...

def _configure(
    error_factory: Optional[Callable[..., BaseException]],
    packed_ring: bool,
    /,
) -> None: ...
