"""The generated protobuf module, found wherever the build put it.

``sidecast_pb2`` is generated from proto/sidecast.proto by ``protoc
--python_out`` at build time (clients/python/CMakeLists.txt writes it into
the build tree; a package build writes it into this package). It is never
written by hand nor committed, so a checkout without a build has none: the
error then says how to get it.
"""

try:  # installed package: generated into the package itself
    from . import sidecast_pb2 as pb  # noqa: F401
except ImportError:
    try:  # build tree: <build>/clients/python/gen on PYTHONPATH
        import sidecast_pb2 as pb  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError(
            'sidecast: no sidecast_pb2 module. It is generated at build time: '
            'cmake --build <build> --target sidecast_python_proto, then put '
            '<build>/clients/python/gen on PYTHONPATH (or run protoc -I proto '
            '--python_out=<dir> proto/sidecast.proto): %s' % e) from e
