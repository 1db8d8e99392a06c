"""Start-up of ./pagepool as a user sees it, N runs each (default 10):
  - `./pagepool --exec "pp:queues"`: from launch until the process has printed and exited;
  - the interactive shell: from launch until Gogo's prompt "g! " is written to the terminal.
  - a bare Felix with Gogo alone, launched the same way from a copy of the runtime folder whose
    bundle/ holds only Gogo and jline: the floor this machine sets today, so the ratio can be
    compared across machines (absolute times here move 2x from one day to the next);
  - `./pagepool ctl pp:queues` against a runtime running headless (`--daemon`) in the folder, and
    `./pagepool --exec "pp:queues"` there, which goes through the same control socket.
The shell runs on a pseudo-terminal of 200x50 with TERM=xterm-256color (jline needs a size), read
as it writes: no polling, so the measuring costs the runtime no CPU. Prints min/median/max in ms.
"""
import fcntl
import glob
import os
import shutil
import signal
import tempfile
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


DIST = os.path.join(ROOT, 'runtime', 'target', 'pagepool-runtime')


def timed(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.monotonic() - t0) * 1000


def bare_home():
    """A runtime folder with Gogo and jline only: the launcher, Felix and the shell, no pagepool."""
    home = tempfile.mkdtemp(prefix='pagepool-bare-')
    shutil.copytree(os.path.join(DIST, 'conf'), os.path.join(home, 'conf'))
    os.makedirs(os.path.join(home, 'bundle'))
    for jar in glob.glob(os.path.join(DIST, 'bundle', '*.jar')):
        name = os.path.basename(jar)
        if name.startswith('org.apache.felix.gogo.') or name.startswith('jline-'):
            shutil.copy(jar, os.path.join(home, 'bundle', name))
    return home


def prompt_run(extra_java=None):
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.environ['TERM'] = 'xterm-256color'
        if extra_java:
            os.environ['JAVA_TOOL_OPTIONS'] = extra_java
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


def with_daemon(runs):
    """ctl and --exec against a runtime running headless in the folder."""
    daemon = subprocess.Popen(['./pagepool', '--daemon'], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(['./pagepool', 'ctl', 'pp:queues'], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode != 0:
            if time.monotonic() > deadline:
                raise SystemExit('the daemon did not answer within 60 s')
            time.sleep(0.2)
        ctl = ['./pagepool', 'ctl', 'pp:queues']
        report('./pagepool ctl pp:queues (daemon running)', [timed(ctl) for _ in range(runs)])
        report('./pagepool --exec "pp:queues" (daemon running)',
               [timed(['./pagepool', '--exec', 'pp:queues']) for _ in range(runs)])
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    exec_run()  # builds when needed, and makes the start-up cache
    report('./pagepool --exec "pp:queues" (to exit)', [exec_run() for _ in range(runs)])
    report('./pagepool (to the g! prompt)', [prompt_run() for _ in range(runs)])
    home = bare_home()
    try:
        report('bare Felix + Gogo, same launcher (to g!)',
               [prompt_run('-Dpagepool.home=' + home) for _ in range(runs)])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    with_daemon(runs)


if __name__ == '__main__':
    main()
