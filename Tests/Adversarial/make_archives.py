#!/usr/bin/env python3
"""Crafts hostile (and a few acceptable) pack archives for the adversarial install tests.

    make_archives.py CASE OUT --scratch DIR [--outside PATH]
    make_archives.py --list

Writes the case's archive to OUT (for a few cases OUT becomes an empty file, a
directory or plain garbage). Tar headers are written byte by byte, not with
`tarfile`, so that every field (ustar prefix, base-256 sizes, PAX and GNU long
names, bad checksums, NUL bytes) holds exactly what the case needs. Paths that
climb out of the extraction directory are counted for the layout the tests use:

    DIR/home/policies/acme/<tmp or target>   <- package/ maps here
    DIR/victim/secret.txt, DIR/decoy/...    <- what an escape would hit

so `package/../../../../victim/secret.txt` names DIR/victim/secret.txt.
Nothing here touches the disk except OUT. See Tests/Adversarial/README.md.
"""
import argparse
import gzip
import hashlib
import json
import random
import subprocess
import sys
import zlib

YAML = b"runtime: python\nversion: 1.0.0\ndescription: adversarial test pack\n"
MAIN = b"# a pack that is only installed, never run\n"
UP = b"../../../../"  # from the extraction directory up to the scratch directory


# ----------------------------------------------------------------------------------------------
# raw tar


def octal(value, width):
    """An octal field of `width` bytes, NUL-terminated."""
    s = format(value, "o").encode()
    assert len(s) < width, (value, width)
    return s.rjust(width - 1, b"0") + b"\0"


def header(name, *, size=0, typeflag=b"0", linkname=b"", mode=0o644, prefix=b"", size_field=None,
           devmajor=0, devminor=0, magic=b"ustar\x0000", bad_checksum=False):
    assert len(name) <= 100 and len(linkname) <= 100 and len(prefix) <= 155, name
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(0, 12)
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[157:157 + len(linkname)] = linkname
    h[257:265] = magic
    h[265:269] = b"root"
    h[297:301] = b"root"
    h[329:337] = octal(devmajor, 8)
    h[337:345] = octal(devminor, 8)
    h[345:345 + len(prefix)] = prefix
    checksum = sum(h) + (1 if bad_checksum else 0)
    h[148:156] = b"%06o\0 " % checksum
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % 512)


def pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


def pax(records, typeflag=b"x"):
    """A PAX extended header (typeflag x) or global header (g) with raw byte values."""
    data = b"".join(pax_record(k, v) for k, v in records)
    return header(b"PaxHeaders/entry", size=len(data), typeflag=typeflag) + pad(data)


def gnu_long(name, typeflag=b"L"):
    """A GNU long name (L) or long link name (K) record."""
    data = name + b"\0"
    return header(b"././@LongLink", size=len(data), typeflag=typeflag) + pad(data)


def entry(name, data=b"", *, typeflag=b"0", linkname=b"", mode=0o644, **kw):
    """One entry; a PAX header carries names or link targets that do not fit the ustar fields."""
    out = b""
    records = []
    short_name, short_link = name, linkname
    if len(name) > 100:
        records.append((b"path", name))
        short_name = name[:100]
    if len(linkname) > 100:
        records.append((b"linkpath", linkname))
        short_link = linkname[:100]
    if records:
        out += pax(records)
    has_data = typeflag in (b"0", b"7", b"\0")
    out += header(short_name, size=len(data) if has_data else 0, typeflag=typeflag, linkname=short_link, mode=mode, **kw)
    if has_data:
        out += pad(data)
    return out


def file(name, data=b"pwned\n", mode=0o644, typeflag=b"0"):
    return entry(name, data, typeflag=typeflag, mode=mode)


def directory(name):
    return entry(name if name.endswith(b"/") else name + b"/", typeflag=b"5", mode=0o755)


def symlink(name, target):
    return entry(name, typeflag=b"2", linkname=target, mode=0o777)


def hardlink(name, target):
    return entry(name, typeflag=b"1", linkname=target)


END = b"\0" * 1024


def base(yaml=YAML, requirements=b""):
    return [file(b"package/PulumiPolicy.yaml", yaml), file(b"package/__main__.py", MAIN),
            file(b"package/requirements.txt", requirements)]


def tar(*parts):
    out = []
    for p in parts:
        out.extend(p if isinstance(p, list) else [p])
    return b"".join(out) + END


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


# ----------------------------------------------------------------------------------------------
# helpers for the venv cases


def embedded_python_version():
    """The version policy-host's embedded libpython has (Debian's python3.11)."""
    try:
        return subprocess.run(["/usr/bin/python3.11", "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "3.11.2"


def pyvenv_cfg(version):
    return ("home = /usr/bin\ninclude-system-site-packages = false\nversion = %s\n"
            "executable = /usr/bin/python3.11\ncommand = /usr/bin/python3.11 -m venv venv\n" % version).encode()


def evil_python(scratch):
    """A fake `bin/python` that leaves a mark in the victim directory if anything ever runs it."""
    return ("#!/bin/sh\necho \"smuggled python ran: $*\" >> '%s/victim/pwned-by-smuggled-python'\nexit 0\n" % scratch).encode()


def forged_stamp(version):
    # As VenvManager.requirementsDigest computes it for an empty requirements.txt and nothing else.
    digest = hashlib.sha256(b"requirements.txt\n").hexdigest()
    return json.dumps({"format": 1, "state": "complete", "requirementsDigest": digest,
                       "interpreter": "/usr/bin/python3.11", "interpreterVersion": version,
                       "toolchain": "pip"}, sort_keys=True).encode()


# ----------------------------------------------------------------------------------------------
# the cases: name -> function(ctx) -> bytes written to OUT (or None when the function wrote OUT)


class Ctx:
    def __init__(self, scratch, outside, out):
        self.scratch = scratch
        self.S = scratch.encode()
        self.outside = (outside or scratch + "-outside").encode()
        self.out = out


CASES = {}


def case(name):
    def register(fn):
        assert name not in CASES, name
        CASES[name] = fn
        return fn
    return register


def simple(name, *parts_fn):
    """A case made of the three good entries followed by `parts_fn(ctx)`."""
    @case(name)
    def make(c, parts_fn=parts_fn):
        return gz(tar(base(), *[f(c) for f in parts_fn]))
    return make


# 0. the good archive, as `policy-host pack` would make it (plus a sub-directory)

@case("good")
def _(c):
    return gz(tar(directory(b"package"), base(), directory(b"package/lib"),
                  file(b"package/lib/helper.py", b"VALUE = 42\n"), file(b"package/run.sh", b"#!/bin/sh\n", mode=0o755)))


# 1. traversal in every encoding

simple("dotdot-shallow", lambda c: file(b"package/../x"))
simple("dotdot-after-subdir", lambda c: file(b"package/a/../../x"))
simple("dot-slash-package-dotdot", lambda c: file(b"./package/../../x"))
simple("double-slash-dotdot", lambda c: file(b"package//../x"))
simple("dotdot-deep-to-victim", lambda c: file(b"package/" + UP + b"victim/secret.txt"))
simple("dot-components-then-dotdot", lambda c: file(b"package/./sub/./../" + UP + b"victim/new.txt"))
simple("dotdot-directory-entry", lambda c: directory(b"package/.."))
simple("absolute-into-scratch", lambda c: file(c.S + b"/victim/absolute.txt"))
simple("absolute-outside-scratch", lambda c: file(c.outside))
simple("pax-path-absolute", lambda c: pax([(b"path", c.S + b"/victim/pax-absolute.txt")]) + header(b"package/innocent.txt", size=6) + pad(b"pwned\n"))
simple("pax-path-traversal", lambda c: pax([(b"path", b"package/" + UP + b"victim/secret.txt")]) + header(b"package/innocent.txt", size=6) + pad(b"pwned\n"))
simple("gnu-longname-traversal", lambda c: gnu_long(b"package/" + b"d" * 120 + b"/../" + UP + b"victim/secret.txt") + header(b"package/innocent.txt", size=6) + pad(b"pwned\n"))
simple("ustar-prefix-traversal", lambda c: header(b"../../victim/prefix.txt", prefix=b"package/../..", size=6) + pad(b"pwned\n"))
simple("backslash-top-level", lambda c: file(b"package\\..\\x"))
simple("backslash-inside-package", lambda c: file(b"package/..\\..\\x"))
simple("outside-package-dir", lambda c: file(b"other/file"))
simple("package-prefix-lookalike", lambda c: file(b"packagex/evil"))
simple("top-level-file", lambda c: file(b"evil.txt"))
simple("nul-in-pax-path", lambda c: pax([(b"path", b"package/a\0/../" + UP + b"victim/secret.txt")]) + header(b"package/innocent.txt", size=6) + pad(b"pwned\n"))
simple("nul-in-gnu-longname", lambda c: gnu_long(b"package/a\0/../" + UP + b"victim/secret.txt") + header(b"package/innocent.txt", size=6) + pad(b"pwned\n"))
simple("nul-then-garbage-in-ustar-name", lambda c: header(b"package/ok.txt\0" + b"../../../../victim/secret.txt", size=6) + pad(b"pwned\n"))
simple("name-5000-bytes-one-component", lambda c: file(b"package/" + b"a" * 4992))
simple("name-5000-bytes-hiding-traversal", lambda c: file(b"package/" + (b"d" * 99 + b"/") * 48 + b"../" * 52 + b"victim/long.txt"))
simple("pax-global-header-path", lambda c: pax([(b"path", b"package/" + UP + b"victim/secret.txt")], typeflag=b"g"))
simple("pax-and-gnu-name-disagree-gnu-hostile",
       lambda c: gnu_long(b"package/" + UP + b"victim/secret.txt") + pax([(b"path", b"package/ok.txt")]) + header(b"package/ok.txt", size=6) + pad(b"pwned\n"))
simple("pax-and-gnu-name-disagree-pax-hostile",
       lambda c: pax([(b"path", b"package/" + UP + b"victim/secret.txt")]) + gnu_long(b"package/ok.txt") + header(b"package/ok.txt", size=6) + pad(b"pwned\n"))


# 2. symlinks

simple("symlink-absolute-then-file", lambda c: symlink(b"package/l", c.S + b"/victim"), lambda c: file(b"package/l/secret.txt"))
simple("symlink-absolute-only", lambda c: symlink(b"package/etc", b"/etc"))
simple("symlink-climbing-then-file", lambda c: symlink(b"package/l", UP + b"victim"), lambda c: file(b"package/l/secret.txt"))
simple("symlink-then-file-same-path", lambda c: symlink(b"package/f", UP + b"victim/secret.txt"), lambda c: file(b"package/f"))
simple("symlink-to-outside-dir-then-file-under", lambda c: symlink(b"package/d", c.S + b"/decoy"), lambda c: file(b"package/d/planted.txt"))
simple("symlink-then-dir-then-file-same-path", lambda c: symlink(b"package/d", c.S + b"/decoy"), lambda c: directory(b"package/d"),
       lambda c: file(b"package/d/planted.txt"))
simple("symlink-pax-linkpath-absolute",
       lambda c: pax([(b"linkpath", c.S + b"/victim")]) + header(b"package/l", typeflag=b"2", linkname=b"innocent", mode=0o777),
       lambda c: file(b"package/l/secret.txt"))
simple("symlink-chain-literal",
       lambda c: directory(b"package/a/b/c"),
       lambda c: symlink(b"package/a/b/c/l1", b"../.."),
       lambda c: symlink(b"package/a/l1b", b"b/c/l1/../.."),
       lambda c: file(b"package/a/b/c/l1/x"),
       lambda c: file(b"package/a/l1b/escaped.txt"))
simple("symlink-chain-to-victim",
       lambda c: directory(b"package/a/b/c/d/e/f/g"),
       lambda c: symlink(b"package/a/b/c/d/e/f/g/l1", b"../../../../../.."),
       lambda c: symlink(b"package/a/b/c/d/e/f/g/up", b"l1/../../../../.."),
       lambda c: file(b"package/a/b/c/d/e/f/g/up/victim/secret.txt"))
simple("symlink-target-one-char-self", lambda c: symlink(b"package/a", b"a"))
simple("symlink-target-dot", lambda c: symlink(b"package/here", b"."))
simple("symlink-target-trailing-slash-inside", lambda c: directory(b"package/lib"), lambda c: file(b"package/lib/x.py", b"X = 1\n"),
       lambda c: symlink(b"package/l", b"lib/"))
simple("symlink-target-trailing-slash-outside", lambda c: symlink(b"package/l", UP + b"victim/"), lambda c: file(b"package/l/trail.txt"))
simple("symlink-target-empty", lambda c: symlink(b"package/l", b""))
simple("symlink-named-venv-climbing", lambda c: symlink(b"package/venv", UP + b"decoy"))
simple("symlink-named-venv-absolute", lambda c: symlink(b"package/venv", c.S + b"/decoy/venvdir"))
simple("symlink-named-venv-inside", lambda c: directory(b"package/lib"), lambda c: symlink(b"package/venv", b"lib"))
simple("symlink-loop", lambda c: symlink(b"package/a", b"b"), lambda c: symlink(b"package/b", b"a"))
simple("symlink-loop-then-file", lambda c: symlink(b"package/a", b"b"), lambda c: symlink(b"package/b", b"a"), lambda c: file(b"package/a/x"))


@case("manifest-symlink-climbing")
def _(c):
    return gz(tar(symlink(b"package/PulumiPolicy.yaml", UP + b"victim/PulumiPolicy.yaml"), base()[1:]))


@case("manifest-symlink-absolute")
def _(c):
    return gz(tar(symlink(b"package/PulumiPolicy.yaml", c.S + b"/victim/PulumiPolicy.yaml"), base()[1:]))


@case("manifest-symlink-inside")
def _(c):
    return gz(tar(file(b"package/real.yaml", YAML), symlink(b"package/PulumiPolicy.yaml", b"real.yaml"), base()[1:]))


# 3. hard links

simple("hardlink-to-earlier-file", lambda c: file(b"package/data.txt", b"hello\n"), lambda c: hardlink(b"package/copy.txt", b"package/data.txt"))
simple("hardlink-to-later-entry", lambda c: hardlink(b"package/h", b"package/later.txt"), lambda c: file(b"package/later.txt", b"later\n"))
simple("hardlink-to-missing-entry", lambda c: hardlink(b"package/h", b"package/nope.txt"))
simple("hardlink-to-etc-passwd", lambda c: hardlink(b"package/h", b"../../etc/passwd"))
simple("hardlink-traversal-to-victim", lambda c: hardlink(b"package/h", b"package/" + UP + b"victim/secret.txt"))
simple("hardlink-absolute-then-overwrite", lambda c: hardlink(b"package/h", c.S + b"/victim/secret.txt"), lambda c: file(b"package/h"))
simple("hardlink-to-symlink-entry", lambda c: symlink(b"package/s", b"__main__.py"), lambda c: hardlink(b"package/h", b"package/s"))
simple("hardlink-to-directory", lambda c: directory(b"package/sub"), lambda c: hardlink(b"package/h", b"package/sub"))
simple("hardlink-to-itself", lambda c: hardlink(b"package/h", b"package/h"))


# 4. devices, FIFOs, other type flags

simple("char-device", lambda c: entry(b"package/null", typeflag=b"3", devmajor=1, devminor=3))
simple("block-device", lambda c: entry(b"package/sda", typeflag=b"4", devmajor=8, devminor=0))
simple("fifo", lambda c: entry(b"package/fifo", typeflag=b"6"))
simple("unknown-typeflag", lambda c: entry(b"package/weird", typeflag=b"Z"))
simple("contiguous-file", lambda c: file(b"package/contig.txt", b"contiguous\n", typeflag=b"7"))


# 5. bombs, sizes, broken containers

simple("gzip-bomb-5mib", lambda c: file(b"package/zeros", b"\0" * (5 << 20)))


@case("gzip-bomb-300mib")
def _(c):
    """300 MiB of zeros in one entry, compressed on the fly (the file is ~300 KiB)."""
    size = 300 << 20
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(c.out, "wb") as f:
        f.write(z.compress(b"".join(base()[:3])))
        f.write(z.compress(header(b"package/zeros", size=size)))
        chunk = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            f.write(z.compress(chunk))
        f.write(z.compress(END))
        f.write(z.flush())
    return None


@case("size-octal-max-without-data")
def _(c):
    return gz(b"".join(base()) + header(b"package/huge", size_field=b"77777777777\0"))


def base256(value_bytes):
    assert len(value_bytes) == 12
    return lambda c: gz(b"".join(base()) + header(b"package/huge", size_field=value_bytes) + b"x" * 512 + END)


CASES["size-base256-int-max"] = base256(bytes([0x80, 0, 0, 0]) + (2**63 - 1).to_bytes(8, "big"))
CASES["size-base256-int-max-minus-100"] = base256(bytes([0x80, 0, 0, 0]) + (2**63 - 101).to_bytes(8, "big"))
CASES["size-base256-all-ones"] = base256(bytes([0x80]) + b"\xff" * 11)
CASES["size-base256-negative"] = base256(b"\xff" * 12)
CASES["size-base256-large-negative"] = base256(bytes([0xff, 0xff, 0xff, 0xff, 0x80]) + b"\0" * 7)


@case("entries-200000")
def _(c):
    """200 000 empty files: ~100 MB of tar that gzip squeezes to a few hundred KiB."""
    template = bytearray(header(b"package/f/000000", size=0))
    template[148:156] = b" " * 8
    base_sum = sum(template) - sum(b"000000")
    parts = [b"".join(base())]
    for i in range(200_000):
        h = bytearray(template)
        digits = b"%06d" % i
        h[10:16] = digits
        h[148:156] = b"%06o\0 " % (base_sum + sum(digits))
        parts.append(bytes(h))
    parts.append(END)
    return gzip.compress(b"".join(parts), compresslevel=1, mtime=0)


@case("truncated-gzip")
def _(c):
    data = CASES["good"](c)
    return data[: len(data) // 2]


@case("truncated-tar")
def _(c):
    body = b"".join(base()) + header(b"package/big.txt", size=10000) + b"y" * 3000
    return gz(body)


@case("garbage")
def _(c):
    return random.Random(1234).randbytes(4096)


@case("gzip-magic-then-garbage")
def _(c):
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + random.Random(99).randbytes(4096)


@case("empty-file")
def _(c):
    return b""


@case("directory-as-file")
def _(c):
    import os
    os.mkdir(c.out)
    return None


@case("bad-header-checksum")
def _(c):
    return gz(b"".join(base()) + header(b"package/odd.txt", size=6, bad_checksum=True) + pad(b"hello\n") + END)


@case("gzip-of-plain-text")
def _(c):
    return gz(b"runtime: python\nversion: 1.0.0\n" * 50)


# 6. venv smuggling


@case("smuggled-venv-with-pyvenv-cfg")
def _(c):
    v = embedded_python_version()
    return gz(tar(base(), file(b"package/venv/pyvenv.cfg", pyvenv_cfg(v)), file(b"package/venv/bin/python", evil_python(c.scratch), mode=0o755)))


@case("pyvenv-cfg-in-subdirectory")
def _(c):
    v = embedded_python_version()
    return gz(tar(base(), file(b"package/sub/pyvenv.cfg", pyvenv_cfg(v)), file(b"package/sub/bin/python", evil_python(c.scratch), mode=0o755)))


@case("forged-stamp-complete-venv")
def _(c):
    v = embedded_python_version()
    return gz(tar(base(), file(b"package/venv/pyvenv.cfg", pyvenv_cfg(v)),
                  file(b"package/venv/bin/python", evil_python(c.scratch), mode=0o755),
                  file(b"package/venv/.policy-host-stamp.json", forged_stamp(v))))


@case("forged-stamp-only")
def _(c):
    return gz(tar(base(), file(b"package/venv/.policy-host-stamp.json", forged_stamp(embedded_python_version()))))


simple("venv-dir-with-foreign-files", lambda c: file(b"package/venv/notes.txt", b"not a venv\n"))


def venv_yaml(path):
    return b"runtime:\n  name: python\n  options:\n    virtualenv: " + path + b"\nversion: 1.0.0\n"


CASES["virtualenv-absolute-existing-dir"] = lambda c: gz(tar(base(venv_yaml(c.S + b"/decoy/venvdir"))))
CASES["virtualenv-relative-existing-dir"] = lambda c: gz(tar(base(venv_yaml(UP + b"decoy/rel"))))
CASES["virtualenv-relative-new-dir"] = lambda c: gz(tar(base(venv_yaml(UP + b"decoy/new-venv"))))


# 7. hostile YAML

def yaml_case(name, yaml):
    CASES[name] = lambda c: gz(tar(base(yaml)))


yaml_case("yaml-nested-10000", b"runtime: python\nversion: 1.0.0\nx: " + b"[" * 10000 + b"]" * 10000 + b"\n")
yaml_case("yaml-billion-laughs", b"runtime: python\nversion: 1.0.0\n"
          b"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
          + b"".join(b"%s: &%s [%s]\n" % (bytes([ord("a") + i]), bytes([ord("a") + i]), b", ".join([b"*" + bytes([ord("a") + i - 1])] * 9))
                     for i in range(1, 10)))
yaml_case("yaml-non-utf8", b"runtime: python\nversion: 1.0.0\ndescription: caf\xe9 \xff\xfe\n")
yaml_case("yaml-runtime-null", b"runtime: ~\nversion: 1.0.0\n")
yaml_case("yaml-version-traversal", b"runtime: python\nversion: ../../x\n")
yaml_case("yaml-version-slash", b"runtime: python\nversion: a/b\n")
yaml_case("yaml-version-newline", b"runtime: python\nversion: \"1.0\\n0\"\n")
yaml_case("yaml-version-control-char", b"runtime: python\nversion: \"1.0\\x01\"\n")
yaml_case("yaml-version-too-long", b"runtime: python\nversion: " + b"1" * 101 + b"\n")
yaml_case("yaml-missing-version", b"runtime: python\n")
yaml_case("yaml-5mb", b"runtime: python\nversion: 1.0.0\ndescription: \"" + b"x" * (5 << 20) + b"\"\n")


# 9. duplicates and odd structure

simple("dir-then-file-same-path", lambda c: directory(b"package/thing"), lambda c: file(b"package/thing"))
simple("file-then-dir-same-path", lambda c: file(b"package/thing"), lambda c: directory(b"package/thing"))
simple("same-file-twice", lambda c: file(b"package/dup.txt", b"first\n"), lambda c: file(b"package/dup.txt", b"second\n"))
simple("manifest-twice-second-moves-venv", lambda c: file(b"package/PulumiPolicy.yaml", venv_yaml(c.S + b"/decoy/venvdir")))
simple("file-then-symlink-same-path", lambda c: symlink(b"package/__main__.py", UP + b"victim/secret.txt"))
simple("overlong-component-300", lambda c: file(b"package/" + b"c" * 300))


@case("package-is-a-file")
def _(c):
    return gz(tar(file(b"package", b"not a directory\n"), base()))


@case("package-is-a-symlink")
def _(c):
    return gz(tar(symlink(b"package", UP + b"victim"), base()))


@case("manifest-is-a-directory")
def _(c):
    return gz(tar(directory(b"package/PulumiPolicy.yaml"), base()[1:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--scratch")
    ap.add_argument("--outside")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(sorted(CASES)))
        return
    if a.case not in CASES or not a.out or not a.scratch:
        ap.error("usage: make_archives.py CASE OUT --scratch DIR [--outside PATH]  (--list for the cases)")
    data = CASES[a.case](Ctx(a.scratch, a.outside, a.out))
    if data is not None:
        with open(a.out, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    sys.exit(main())
