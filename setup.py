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
"""Build nova-mq and its required C engine, nova_mq._engine.

libxml2 is found with pkg-config, as libvirt-python finds libvirt.  A
missing pkg-config, libxml2 or header stops the build with a message that
says which system package to install (bindep.txt lists them).

The wheel also carries nova-mq's start-up hook: the module _nova_mq_hook
(a py_module, setup.cfg) and nova_mq.pth, which build_py below puts at the
top of the build tree, so that it lands at the top of site-packages: the
only place ``site`` reads .pth files (doc/source/enabling.rst).
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension
from setuptools import setup
from setuptools.command.build_py import build_py as _build_py

HERE = os.path.dirname(os.path.abspath(__file__))
LIBXML2_MIN = '2.9.0'
#: The start-up hook's .pth: one line, "import _nova_mq_hook; ...".
PTH = 'nova_mq.pth'


def _fail(msg):
    sys.stderr.write('\nnova-mq build error: %s\n\n' % msg)
    sys.exit(1)


def _pkg_config(*args):
    try:
        out = subprocess.check_output(('pkg-config',) + args,
                                      stderr=subprocess.STDOUT)
    except subprocess.CalledProcessError as exc:
        _fail('pkg-config %s failed:\n%s\nInstall libxml2-dev '
              '(Debian/Ubuntu) or libxml2-devel (RHEL/Fedora); see '
              'bindep.txt.' % (' '.join(args),
                               exc.output.decode(errors='replace')))
    return out.decode().split()


def libxml2_flags():
    """Return (include_dirs, library_dirs, libraries) for libxml2."""
    if shutil.which('pkg-config') is None:
        _fail('pkg-config is not installed; it is needed to find libxml2. '
              'Install pkg-config and libxml2-dev (see bindep.txt).')
    _pkg_config('--atleast-version=%s' % LIBXML2_MIN, 'libxml-2.0')
    cflags = _pkg_config('--cflags', 'libxml-2.0')
    libs = _pkg_config('--libs', 'libxml-2.0')
    incs = [f[2:] for f in cflags if f.startswith('-I')]
    header_ok = any(os.path.exists(os.path.join(d, 'libxml', 'tree.h'))
                    for d in incs + ['/usr/include'])
    if not header_ok:
        _fail('libxml2 headers (libxml/tree.h) were not found in %s; '
              'install libxml2-dev (see bindep.txt).' % (incs,))
    return (incs,
            [f[2:] for f in libs if f.startswith('-L')],
            [f[2:] for f in libs if f.startswith('-l')])


def engine_extension():
    incs, libdirs, libs = libxml2_flags()
    sources = sorted(glob.glob(os.path.join('ext', '*.c')))
    headers = sorted(glob.glob(os.path.join('ext', '*.h')))
    compile_args = ['-std=c99', '-Wall', '-Wextra', '-Werror',
                    '-Wno-missing-field-initializers', '-O2',
                    '-fvisibility=hidden', '-D_GNU_SOURCE']
    link_args = []
    if os.environ.get('NOVA_MQ_SANITIZE') == '1':
        san = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all',
               '-fno-omit-frame-pointer', '-O1', '-g']
        compile_args += san
        link_args += san
    return Extension(
        'nova_mq._engine',
        sources=sources,
        depends=headers,
        include_dirs=['ext'] + incs,
        library_dirs=libdirs,
        libraries=libs,
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )


class build_py(_build_py):
    """build_py that also puts nova_mq.pth at the top of the build tree.

    bdist_wheel packs the top of the build tree as the top of
    site-packages; a .pth inside the nova_mq package would never be read.
    """

    def run(self):
        super().run()
        if not getattr(self, 'editable_mode', False):
            self.copy_file(os.path.join(HERE, PTH),
                           os.path.join(self.build_lib, PTH),
                           preserve_mode=False)

    def get_outputs(self, *args, **kwargs):
        outputs = super().get_outputs(*args, **kwargs)
        if getattr(self, 'editable_mode', False):
            return outputs
        return outputs + [os.path.join(self.build_lib, PTH)]


# force: always recompile.  The engine is five small files, and a build
# that reused objects compiled with or without NOVA_MQ_SANITIZE would
# mix sanitizer and plain code (setuptools compares timestamps only).
setup(ext_modules=[engine_extension()],
      cmdclass={'build_py': build_py},
      options={'build_ext': {'force': True}})
