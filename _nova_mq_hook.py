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
"""nova-mq's start-up hook: lets ``[nova_mq] enabled`` switch nova-compute.

Nova has no plugin point for the libvirt vif driver: ``compute_driver``
loads only from ``nova.virt`` and ``LibvirtDriver.__init__`` builds
``LibvirtGenericVIFDriver`` itself.  So nova-mq's wheel installs
``nova_mq.pth`` at the top of site-packages; ``site`` runs its one line,
``import _nova_mq_hook; _nova_mq_hook.install()``, when any Python of that
environment starts.

This module is the whole start-up cost: the standard library only, nothing
of Nova or nova-mq is imported.  ``install()`` puts a finder first on
``sys.meta_path`` that answers for one module only,
``nova.virt.libvirt.driver``.  When that module has been executed (by
Nova's own import, with Nova's own loader) the finder removes itself and
gives ``LibvirtDriver`` a ``__new__`` that asks ``nova_mq.hook`` which class
to build for ``LibvirtDriver(...)``: Nova's own, unless ``[nova_mq] enabled
= true``, then ``nova_mq.driver.MultiqueueLibvirtDriver``, whose
``__init__`` runs Nova's and then installs nova-mq's vif driver.  Only a
call for ``LibvirtDriver`` itself is redirected; subclasses (custom drivers)
are built as they are.

Nothing here may break Nova: every failure is logged and Nova is left as
it is.  ``NOVA_MQ_HOOK=off`` in the environment makes ``install()`` do
nothing (for debugging: no nova.conf change, no uninstall).
"""

import os
import sys

#: The only import the finder reacts to.
TARGET = 'nova.virt.libvirt.driver'
#: The class whose construction is redirected.
CLASS_NAME = 'LibvirtDriver'
#: ``NOVA_MQ_HOOK=off`` (or 0, false, no) disables the hook.
ENV = 'NOVA_MQ_HOOK'
_OFF = ('0', 'off', 'false', 'no')


def _log():
    import logging
    return logging.getLogger('nova_mq.hook')


def _warn(msg, *args):
    # Logging may not be set up yet; Python's last-resort handler then
    # prints warnings to stderr, which is what an operator should see.
    try:
        _log().warning(msg, *args, exc_info=sys.exc_info()[0] is not None)
    except Exception:  # pragma: no cover - logging itself broken
        pass


class _Loader(object):
    """Runs Nova's loader, then patches the module it executed."""

    def __init__(self, loader, finder):
        self._loader = loader
        self._finder = finder

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module keeps Nova's own loader, as a plain import leaves it.
        spec = getattr(module, '__spec__', None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        if getattr(module, '__loader__', None) is self:
            module.__loader__ = self._loader
        # Nova's errors are Nova's: they propagate untouched, and the
        # finder stays for the next attempt.
        self._loader.exec_module(module)
        self._finder.remove()
        patch(module)


class Finder(object):
    """A sys.meta_path finder for nova.virt.libvirt.driver only."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        try:
            return self._wrapped_spec(fullname, path, target)
        except Exception:
            # The machinery goes on to the other finders, as without us.
            _warn('nova-mq: cannot hook the import of %s; Nova is left '
                  'as it is', fullname)
            return None

    def _wrapped_spec(self, fullname, path, target):
        for finder in list(sys.meta_path):
            find = getattr(finder, 'find_spec', None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, 'exec_module'):
            return spec
        spec.loader = _Loader(spec.loader, self)
        return spec

    def remove(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


def _finder():
    for finder in sys.meta_path:
        if isinstance(finder, Finder):
            return finder
    return None


def _hooked_new(base):
    """LibvirtDriver.__new__: build nova-mq's subclass when enabled."""

    def __new__(cls, *args, **kwargs):
        if cls is base:
            cls = _choose(base)
        parent = super(base, cls).__new__
        if parent is object.__new__:
            return parent(cls)
        return parent(cls, *args, **kwargs)

    __new__.nova_mq_hook = True
    try:
        # inspect.signature(LibvirtDriver), mock's autospec: Nova's own.
        import inspect
        __new__.__signature__ = inspect.signature(base.__init__)
    except Exception:
        pass
    return __new__


def _choose(base):
    try:
        from nova_mq import hook
        return hook.driver_class(base)
    except Exception:
        _warn('nova-mq: cannot decide the libvirt driver class; Nova\'s '
              'own %s is used', base.__name__)
        return base


def patch(module):
    """Give module's LibvirtDriver the __new__ above (never raises)."""
    try:
        cls = getattr(module, CLASS_NAME)
        new = cls.__dict__.get('__new__')
        if new is not None:
            if getattr(getattr(new, '__func__', new), 'nova_mq_hook', False):
                return True
            _warn('nova-mq: %s.%s has its own __new__; nova-mq leaves it '
                  'alone and [nova_mq] enabled has no effect',
                  module.__name__, CLASS_NAME)
            return False
        cls.__new__ = staticmethod(_hooked_new(cls))
        return True
    except Exception:
        _warn('nova-mq: cannot hook %s.%s; Nova is left as it is',
              getattr(module, '__name__', TARGET), CLASS_NAME)
        return False


def install():
    """Start waiting for nova.virt.libvirt.driver (idempotent)."""
    try:
        if os.environ.get(ENV, '').strip().lower() in _OFF:
            return
        module = sys.modules.get(TARGET)
        if module is not None:
            # Installed late (not from the .pth): patch what is there.
            patch(module)
        elif _finder() is None:
            sys.meta_path.insert(0, Finder())
    except Exception:
        _warn('nova-mq: cannot install the start-up hook')


def state():
    """'waiting', 'patched', 'off' or 'not installed': for operators."""
    if os.environ.get(ENV, '').strip().lower() in _OFF:
        return 'off'
    module = sys.modules.get(TARGET)
    cls = getattr(module, CLASS_NAME, None) if module is not None else None
    if cls is not None:
        new = cls.__dict__.get('__new__')
        if getattr(getattr(new, '__func__', new), 'nova_mq_hook', False):
            return 'patched'
        return 'not installed'
    return 'waiting' if _finder() is not None else 'not installed'
