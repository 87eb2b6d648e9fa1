#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write an initramfs (cpio "newc", uncompressed) from a staging directory:
# every file, directory and symlink beneath it, owned by root, plus the
# device node /dev/console the kernel opens for /init before devtmpfs is
# mounted.  Usage: mkcpio.py STAGING_DIR OUTPUT
import os
import stat
import sys


def header(out, ino, mode, nlink, size, name, rdev=(0, 0)):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
    out.write(name.encode() + b"\0")
    out.write(b"\0" * (-(110 + len(name) + 1) % 4))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    ino = 1
    with open(dst, "wb") as out:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src)
                st = os.lstat(path)
                perm = stat.S_IMODE(st.st_mode)
                if stat.S_ISLNK(st.st_mode):
                    data = os.readlink(path).encode()
                    header(out, ino, stat.S_IFLNK | 0o777, 1, len(data), rel)
                elif stat.S_ISDIR(st.st_mode):
                    data = b""
                    header(out, ino, stat.S_IFDIR | perm, 2, 0, rel)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        data = f.read()
                    header(out, ino, stat.S_IFREG | perm, 1, len(data), rel)
                else:
                    sys.exit("mkcpio: %s: not a file, directory or symlink" % path)
                out.write(data + b"\0" * (-len(data) % 4))
                ino += 1
        if not os.path.isdir(os.path.join(src, "dev")):
            header(out, ino, stat.S_IFDIR | 0o755, 2, 0, "dev")
            ino += 1
        header(out, ino, stat.S_IFCHR | 0o600, 1, 0, "dev/console", (5, 1))
        header(out, 0, 0, 1, 0, "TRAILER!!!")


if __name__ == "__main__":
    main()
