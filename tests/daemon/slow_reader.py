#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The reader of a FIFO that stops reading: opens FIFO (so a writer's open does not block),
shrinks its pipe to one page, creates PREFIX.held, and reads nothing until PREFIX.release
exists; then copies everything to PREFIX.out.

    slow_reader.py FIFO PREFIX
"""
import fcntl
import os
import sys
import time

F_SETPIPE_SZ = 1031


def main():
    fifo, prefix = sys.argv[1:3]
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)
    open(prefix + ".held", "w").close()
    while not os.path.exists(prefix + ".release"):
        time.sleep(0.01)
    with open(prefix + ".out", "ab") as out:
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                data = b""
            if data:
                out.write(data)
                out.flush()
            else:
                time.sleep(0.01)


if __name__ == "__main__":
    main()
