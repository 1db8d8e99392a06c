"""Time to Gogo's prompt of two checkouts, run in turn (A B A B ...), so the ratio holds while the
machine's speed drifts: the prompt_run of each checkout's startup_time.py.
Usage: python3 paired_prompt.py CHECKOUT_A CHECKOUT_B [pairs]"""
import importlib.util, statistics, sys
def load(root):
    spec = importlib.util.spec_from_file_location("st_" + root.replace('/', '_'), root + "/pagepool.bench/scripts/startup_time.py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
a, b = load(sys.argv[1]), load(sys.argv[2])
ra, rb = [], []
for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 10):
    ra.append(a.prompt_run()); rb.append(b.prompt_run())
ratios = sorted(x / y for x, y in zip(ra, rb))
print("A", sys.argv[1], "median %.0f ms" % statistics.median(ra), "min %.0f" % min(ra))
print("B", sys.argv[2], "median %.0f ms" % statistics.median(rb), "min %.0f" % min(rb))
print("A/B median %.3f min %.3f max %.3f" % (statistics.median(ratios), ratios[0], ratios[-1]))
