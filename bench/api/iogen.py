#!/usr/bin/env python3
"""bench/api/iogen.py MB_PER_S FSYNCS_PER_S FILE — writes MB_PER_S MB a second into FILE (ten writes a
second, cycling over its first 200 MB) and fdatasync()s it FSYNCS_PER_S times a second, until killed.
What the audit trail's PostgreSQL does to the disk (WAL written, flushed by the WAL writer every 200 ms),
without its CPU: bench/api/io_ab.sh runs reads beside it. FILE should be on the instance's disk."""
import os
import sys
import time

if len(sys.argv) != 4:
    sys.exit(__doc__)
mb_per_s, fsyncs_per_s, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
chunk = os.urandom(int(mb_per_s * 1024 * 1024 / 10)) if mb_per_s > 0 else b""
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
start = last_sync = time.monotonic()
written = 0
step = 0
while True:
    step += 1
    if chunk:
        os.write(fd, chunk)
        written += len(chunk)
        if written >= 200 * 1024 * 1024:
            os.lseek(fd, 0, os.SEEK_SET)
            written = 0
    now = time.monotonic()
    if fsyncs_per_s > 0 and now - last_sync >= 1.0 / fsyncs_per_s:
        os.fdatasync(fd)
        last_sync = now
    time.sleep(max(0.0, start + step * 0.1 - time.monotonic()))
