"""``python _spawn.py FD COMMAND...``: run COMMAND as a child of this small process and write
to FD two JSON lines: the child's pid at once; at its exit the monotonic time just before the
fork, wall seconds to its exit, CPU seconds and peak resident memory (``wait4``), exit code.

Why a process in between: a child's ``ru_maxrss`` counts the memory of the process it was
forked from (the bench, hundreds of MB) until it executes its command; forked from this one it
starts from a few MB. Run with ``-S -I``: it imports nothing but the standard library's core.
"""

import json
import os
import sys
import time


def main() -> int:
    fd, cmd = int(sys.argv[1]), sys.argv[2:]
    t0 = time.monotonic()  # (the clock of the bench's time.perf_counter on Linux)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(fd)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.write(fd, (json.dumps({"pid": pid}) + "\n").encode())
    os.close(0)  # (stdin and stdout are the child's: the bench sees their ends when it exits)
    os.close(1)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    report = {
        "t0": t0,
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "peak_rss_mb": ru.ru_maxrss / 1024,
        "returncode": os.waitstatus_to_exitcode(status),
    }
    os.write(fd, (json.dumps(report) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
