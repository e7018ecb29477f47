"""setuptools build of the sidecast Python package (pybuild builds it for python3-sidecast).

The protobuf module ``sidecast/sidecast_pb2.py`` is generated here, at build
time, from ``proto/sidecast.proto`` by ``protoc --python_out`` (``$PROTOC`` or
``protoc`` on PATH; the .proto from ``$SIDECAST_PROTO_DIR`` or ``../../proto``):
never written by hand and never committed.
"""

import os
import re
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.environ.get('SIDECAST_PROTO_DIR') or os.path.join(HERE, '..', '..', 'proto')


def version():
    with open(os.path.join(HERE, 'sidecast', '__init__.py'), encoding='utf-8') as f:
        return re.search(r"^__version__ = '([^']+)'", f.read(), re.M).group(1)


class BuildPyWithProto(build_py):
    """build_py, then protoc writes sidecast_pb2.py into the built package."""

    def run(self):
        super().run()
        protoc = os.environ.get('PROTOC') or shutil.which('protoc')
        if not protoc:
            raise SystemExit('sidecast: protoc not found (Debian: apt install protobuf-compiler)')
        proto = os.path.join(PROTO_DIR, 'sidecast.proto')
        if not os.path.isfile(proto):
            raise SystemExit('sidecast: %s not found (set SIDECAST_PROTO_DIR)' % proto)
        out = os.path.join(self.build_lib, 'sidecast')
        self.mkpath(out)
        self.spawn([protoc, '-I', PROTO_DIR, '--python_out=' + out, proto])


with open(os.path.join(HERE, 'README.md'), encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='sidecast',
    version=version(),
    description='asyncio client for sidecastd, a python-socketio cluster manager and a socket.io emitter',
    long_description=long_description,
    long_description_content_type='text/markdown',
    license='MIT',
    packages=['sidecast'],
    python_requires='>=3.9',
    install_requires=['protobuf'],
    extras_require={'socketio': ['python-socketio>=5.7', 'aiohttp']},
    cmdclass={'build_py': BuildPyWithProto},
    classifiers=[
        'Framework :: AsyncIO',
        'License :: OSI Approved :: MIT License',
        'Programming Language :: Python :: 3',
        'Operating System :: POSIX',
    ],
)
