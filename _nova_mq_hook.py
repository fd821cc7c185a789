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
``nova_mq.pth`` at the top of site-packages, and ``site`` runs its one
line (``PTH_LINE``) when any Python of that environment starts.

That line is the whole start-up cost, so it imports nothing (not even
this module) and adds no import finder: it puts a path hook first on
``sys.path_hooks``, which the import machinery calls once per new
directory it searches, never per import.  For every directory but one the
hook is a string test and a call of the standard hook (``PTH_LINE``).
For the directory ``.../nova/virt/libvirt`` (the first import of a module
of Nova's libvirt driver package) it imports this module and calls
``path_hook()``, which returns the finder the other hooks give (Nova's
own FileFinder), set to watch for one module,
``nova.virt.libvirt.driver``.  When Nova's own loader has executed that
module, the watch and the path hook are removed, and ``LibvirtDriver`` gets
a ``__new__`` that asks ``nova_mq.hook`` which class to build for
``LibvirtDriver(...)``: Nova's own, unless ``[nova_mq] enabled = true``,
then ``nova_mq.driver.MultiqueueLibvirtDriver``, whose ``__init__`` runs
Nova's and then installs nova-mq's vif driver.  Only a call for
``LibvirtDriver`` itself is redirected; subclasses (custom drivers) are
built as they are.

Nothing here may break Nova: every failure is logged and Nova is left as
it is.  ``NOVA_MQ_HOOK=off`` in the environment makes the hook do nothing
(for debugging: no nova.conf change, no uninstall).
"""

import os
import sys

#: The module whose import is watched.
TARGET = 'nova.virt.libvirt.driver'
#: The class whose construction is redirected.
CLASS_NAME = 'LibvirtDriver'
#: ``NOVA_MQ_HOOK=off`` (or 0, false, no) disables the hook.
ENV = 'NOVA_MQ_HOOK'
_OFF = ('0', 'off', 'false', 'no')
#: nova_mq.pth's line, byte for byte: a path hook first on sys.path_hooks,
#: unless one is there already (site reads a 3.11 venv's site-packages
#: twice).  ``f`` is the hook at index 1 when site runs .pth files: the
#: standard one, FileFinder's (zipimport's is at 0, and a .pth that adds
#: one appends it, as setuptools' editable installs do).  Every directory
#: but one gets what FileFinder's hook gives it, directly: zipimport's
#: never takes a directory, so skipping it changes nothing, and what
#: FileFinder's refuses (anything not a directory) goes on to zipimport's
#: as without nova-mq.
PTH_LINE = ("import sys; h = sys.path_hooks; getattr(h[0], '__name__', '') "
            "== '<lambda>' or h.insert(0, lambda p, f=h[1]: "
            "__import__('_nova_mq_hook').path_hook(p) "
            "if p.endswith('/nova/virt/libvirt') else f(p))")


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


def is_off():
    """True if ``NOVA_MQ_HOOK`` turns the hook off."""
    return os.environ.get(ENV, '').strip().lower() in _OFF


def is_path_hook(hook):
    """True for the path hook that nova_mq.pth's line adds."""
    code = getattr(hook, '__code__', None)
    return __name__ in getattr(code, 'co_consts', ())


def _is_watching(finder):
    own = getattr(finder, '__dict__', {}).get('find_spec')
    return getattr(own, 'nova_mq_hook', False)


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
        # watch stays for the next attempt.
        self._loader.exec_module(module)
        remove(self._finder)
        patch(module)


def _wrap_spec(spec, finder):
    """Nova's spec for TARGET, its loader wrapped in _Loader."""
    if spec.loader is None or not hasattr(spec.loader, 'exec_module'):
        return spec
    spec.loader = _Loader(spec.loader, finder)
    return spec


def _watch(finder):
    """Make finder (Nova's FileFinder) wrap TARGET's loader."""
    find_spec = finder.find_spec

    def watching_find_spec(fullname, target=None):
        spec = find_spec(fullname, target)
        if fullname != TARGET or spec is None:
            return spec
        try:
            return _wrap_spec(spec, finder)
        except Exception:
            _warn('nova-mq: cannot hook the import of %s; Nova is left '
                  'as it is', fullname)
            return spec

    watching_find_spec.nova_mq_hook = True
    # An attribute of this one finder, over its class's method.
    finder.find_spec = watching_find_spec


def path_hook(path):
    """nova_mq.pth's path hook, for a directory ``.../nova/virt/libvirt``.

    Returns what the other path hooks return for path (or raises the
    ImportError they raise), watching for TARGET unless the hook is off.
    """
    finder = None
    for hook in sys.path_hooks:
        if is_path_hook(hook):
            continue
        try:
            finder = hook(path)
            break
        except ImportError:
            continue
    else:
        raise ImportError('no path hook for %r' % (path,), path=path)
    try:
        if not is_off() and TARGET not in sys.modules:
            _watch(finder)
    except Exception:
        _warn('nova-mq: cannot hook the import of %s; Nova is left as it '
              'is', TARGET)
    return finder


def remove(finder=None):
    """Remove the path hook and finder's watch: the hook has done its job."""
    sys.path_hooks[:] = [h for h in sys.path_hooks if not is_path_hook(h)]
    if finder is not None and _is_watching(finder):
        del finder.find_spec


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


def state():
    """'waiting', 'patched', 'off' or 'not installed': for operators."""
    if is_off():
        return 'off'
    module = sys.modules.get(TARGET)
    cls = getattr(module, CLASS_NAME, None) if module is not None else None
    if cls is not None:
        new = cls.__dict__.get('__new__')
        if getattr(getattr(new, '__func__', new), 'nova_mq_hook', False):
            return 'patched'
        return 'not installed'
    if any(is_path_hook(hook) for hook in sys.path_hooks):
        return 'waiting'
    return 'not installed'
