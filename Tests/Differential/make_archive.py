#!/usr/bin/env python3
"""Writes hostile pack archives for the install tests: make_archive.py KIND OUT.tar.gz"""
import io
import sys
import tarfile

GOOD = {"package/PulumiPolicy.yaml": b"runtime: python\nversion: 1.0.0\n", "package/__main__.py": b"", "package/requirements.txt": b""}


def add(tar, name, data=b"", **kw):
    info = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(info, k, v)
    info.size = len(data) if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    tar.addfile(info, io.BytesIO(data) if info.size else None)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    with tarfile.open(out, "w:gz") as tar:
        for name, data in GOOD.items():
            add(tar, name, data)
        if kind == "traversal":
            add(tar, "package/../../outside", b"evil")
        elif kind == "absolute":
            add(tar, "/tmp/policy-host-evil-absolute", b"evil")
        elif kind == "symlink-escape":
            add(tar, "package/link", type=tarfile.SYMTYPE, linkname="../../outside")
        elif kind == "hardlink-escape":
            add(tar, "package/hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        elif kind == "device":
            add(tar, "package/dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        elif kind == "fifo":
            add(tar, "package/fifo", type=tarfile.FIFOTYPE)
        elif kind == "outside-package":
            add(tar, "other/file", b"x")
        elif kind == "bomb":
            add(tar, "package/zeros", b"\0" * (4 * 1024 * 1024))
        else:
            raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
