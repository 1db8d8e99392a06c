#!/usr/bin/env python3
"""Prints the hot loop of a JMH benchmark as C2 compiled it, without the hsdis plugin.

Without hsdis, -XX:CompileCommand=print dumps compiled code as hex words with the JIT's
comments between them; this reassembles the last C2 compile of the method, disassembles it
with objdump (binutils) and prints the innermost loop that holds the safepoint poll: the
benchmark's measured loop. Usage: jit_loop.py PRINT_OUTPUT [METHOD_SUBSTRING]
"""
import re
import shutil
import subprocess
import sys
import tempfile

HEX = re.compile(r'^\s+0x([0-9a-f]+): ([0-9a-f| ]+)$')
COMMENT = re.compile(r'^\s+0x([0-9a-f]+): (;.*)$')
INSN = re.compile(r'^\s+([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$')
JUMP = re.compile(r'^j\w+\s+0x([0-9a-f]+)')


def last_c2_compile(lines, method):
    blocks, current = [], None
    for line in lines:
        if line.startswith('Compiled method'):
            current = {'title': line.strip(), 'lines': []}
            blocks.append(current)
        elif current is not None:
            current['lines'].append(line)
    # The last full (not on-stack-replacement: no '%') C2 compile is what the measurement ran.
    c2 = [b for b in blocks if '(c2)' in b['title'] and ' % ' not in b['title'] and method in b['title']]
    if not c2:
        sys.exit('no C2 compile of "%s" in the output (did the benchmark run long enough?)' % method)
    return c2[-1]


def reassemble(block):
    code, start, comments = bytearray(), None, {}
    for line in block['lines']:
        m = COMMENT.match(line)
        if m:
            comments.setdefault(int(m.group(1), 16), []).append(m.group(2)[:160])
            continue
        m = HEX.match(line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if start is None:
            start = addr
        code += b'\x90' * max(0, addr - start - len(code))
        code += bytes.fromhex(m.group(2).replace('|', '').replace(' ', ''))
    return bytes(code), start, comments


def disassemble(code, start):
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(code)
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-m', 'i386:x86-64', '--adjust-vma=0x%x' % start,
                              f.name], capture_output=True, text=True, check=True).stdout
    insns = []
    for line in out.splitlines():
        m = INSN.match(line)
        if m:
            insns.append((int(m.group(1), 16), m.group(3).strip()))
    return insns


def hot_loop(insns):
    # Backward jumps close loops; the measured one contains the safepoint poll (test %eax,(reg)).
    polls = [a for a, text in insns if re.match(r'test\s+%eax,\(%r\w+\)', text)]
    best = None
    for addr, text in insns:
        m = JUMP.match(text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if target < addr and any(target <= p <= addr for p in polls):
            if best is None or addr - target < best[1] - best[0]:
                best = (target, addr)
    if best is None:
        sys.exit('no loop with a safepoint poll found')
    return [(a, t) for a, t in insns if best[0] <= a <= best[1]]


def memory_access(text):
    """(writes, reads) memory for one AT&T instruction: the destination is the last operand."""
    parts = text.split(None, 1)
    mnemonic, operands, depth, current = parts[0], [], 0, ''
    for ch in parts[1] if len(parts) > 1 else '':
        depth += ch == '('
        depth -= ch == ')'
        if ch == ',' and depth == 0:
            operands.append(current)
            current = ''
        else:
            current += ch
    operands.append(current)
    if mnemonic.startswith(('lea', 'nop', 'j', 'call', 'ret')):
        return 0, 0
    memory = ['(' in op for op in operands]
    dest = memory[-1]
    compare = mnemonic.startswith(('cmp', 'test'))
    writes = int(dest and not compare)
    reads = int(any(memory[:-1]) or (dest and (compare or not mnemonic.startswith('mov'))))
    return writes, reads


def main():
    if shutil.which('objdump') is None:
        sys.exit('jit_loop.py needs objdump (binutils): apt-get install binutils')
    lines = open(sys.argv[1], errors='replace').read().splitlines()
    block = last_c2_compile(lines, sys.argv[2] if len(sys.argv) > 2 else '')
    code, start, comments = reassemble(block)
    loop = hot_loop(disassemble(code, start))
    print(block['title'])
    writes = reads = 0
    for addr, text in loop:
        for c in comments.get(addr, []):
            print('%16s %s' % ('', c))
        print('%16x  %s' % (addr, text))
        w, r = memory_access(text)
        writes += w
        reads += r
    print('%d instructions, %d that write memory, %d that read it' % (len(loop), writes, reads))


if __name__ == '__main__':
    main()
