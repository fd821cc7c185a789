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
"""Signatures of the compiled engine, nova_mq._engine (ext/py_*.c)."""

from typing import Any, Callable, Mapping, Optional, Sequence, Union

#: The largest queue count anything accepts: the Linux tun limit (256).
MAX_QUEUES: int
#: The smallest msi_vector_budget (flavor or option): one single-queue NIC.
MIN_MSI_VECTOR_BUDGET: int
#: The largest flavor mq:msi_vector_budget the engine reads (C LONG_MAX).
MAX_MSI_VECTOR_BUDGET: int
#: The largest int an option takes (msi_vector_budget,
#: reserved_msi_vectors, [libvirt]max_queues): 1 << 30.
MAX_OPTION_VALUE: int
#: The largest [libvirt]rx_queue_size / tx_queue_size accepted: 1 << 20.
MAX_QUEUE_SIZE: int
#: The largest domain XML parse() reads, in bytes.
MAX_XML_BYTES: int
DEFAULT_MSI_VECTOR_BUDGET: int
DEFAULT_RESERVED_MSI_VECTORS: int
#: Bytes of vhost-net kernel memory per queue pair.
VHOST_BYTES_PER_QUEUE: int
#: The throughput classes, in the engine's table order.
THROUGHPUTS: tuple[str, ...]
#: The boolean grammar (after strip and lower).
TRUE_STRINGS: tuple[str, ...]
FALSE_STRINGS: tuple[str, ...]
#: Every reason a NicPlan may give, in the order plans report them.
REASONS: tuple[str, ...]
#: Every guest-wide warning a GuestPlan may give.
WARNINGS: tuple[str, ...]

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

def render(
    plan: Optional[NicPlan] = ..., /, *, pretty_print: bool = ...,
    **attrs: Any
) -> str: ...

def parse(xml: Union[str, bytes], /) -> dict[str, Any]: ...

def tap_queue_cap(
    max_queues: Optional[int], kernel_release: Optional[str], /
) -> tuple[int, str]: ...

def msi_vectors(queues: int, /) -> int: ...

def _configure(
    error_factory: Optional[Callable[..., BaseException]],
    packed_ring: bool,
    /,
) -> None: ...

def _plan_cache(enabled: bool, /) -> bool: ...
