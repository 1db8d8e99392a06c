"""Start-up of ./pagepool as a user sees it, N runs each (default 10):
  - `./pagepool --exec "pp:queues"`: from launch until the process has printed and exited;
  - the interactive shell: from launch until Gogo's prompt "g! " is written to the terminal.
The shell runs on a pseudo-terminal of 200x50 with TERM=xterm-256color (jline needs a size), read
as it writes: no polling, so the measuring costs the runtime no CPU. Prints min/median/max in ms.
"""
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def exec_run():
    t0 = time.monotonic()
    subprocess.run(['./pagepool', '--exec', 'pp:queues'], cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return (time.monotonic() - t0) * 1000


def prompt_run():
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.environ['TERM'] = 'xterm-256color'
        os.execvp('./pagepool', ['./pagepool'])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 200, 0, 0))
    buf = b''
    took = None
    while took is None:
        r, _, _ = select.select([fd], [], [], 30)
        if not r:
            raise SystemExit('no prompt within 30 s; the terminal showed: %r' % buf[-300:])
        buf += os.read(fd, 65536)
        if b'g! ' in buf:
            took = (time.monotonic() - t0) * 1000
    os.write(fd, b'stop 0\n')
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        try:
            if r and not os.read(fd, 65536):
                break
        except OSError:
            break
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
    os.close(fd)
    return took


def report(what, ms):
    print('%-44s min %5.0f  median %5.0f  max %5.0f ms  (%d runs)' % (what, min(ms), statistics.median(ms),
                                                                       max(ms), len(ms)))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    exec_run()  # builds when needed, and makes the start-up cache
    report('./pagepool --exec "pp:queues" (to exit)', [exec_run() for _ in range(runs)])
    report('./pagepool (to the g! prompt)', [prompt_run() for _ in range(runs)])


if __name__ == '__main__':
    main()
