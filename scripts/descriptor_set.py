#!/usr/bin/env python3
"""Writes a FileDescriptorSet of pulumi/analyzer.proto and everything it imports, taken from the
installed `pulumi` package itself, so that the generated code matches that release exactly.

    <venv>/bin/python scripts/descriptor_set.py OUT.pb
"""
import sys

from google.protobuf import descriptor_pb2
from pulumi.runtime.proto import analyzer_pb2


def main():
    out = descriptor_pb2.FileDescriptorSet()
    seen = set()

    def add(fd):
        if fd.name in seen:
            return
        for dep in fd.dependencies:
            add(dep)
        seen.add(fd.name)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        out.file.append(proto)

    add(analyzer_pb2.DESCRIPTOR)
    with open(sys.argv[1], "wb") as f:
        f.write(out.SerializeToString())
    print("\n".join(p.name for p in out.file))


if __name__ == "__main__":
    main()
