import ctypes
import json
import platform
import subprocess
import sys

import pytest

# Run in a fresh interpreter: the settings are process-wide and would outlive the test.
CHILD = r'''
import ctypes, json, sys
import torch
from coseg_tools.cpu_heap import retain_freed_memory


class MallInfo2(ctypes.Structure):  # glibc >= 2.33
    _fields_ = [(name, ctypes.c_size_t) for name in (
        'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks',
        'fordblks', 'keepcost')]


mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
applied = retain_freed_memory() if sys.argv[1] == '1' else False
x = torch.ones(16 * 2 ** 20)  # 64 MB
mapped = mallinfo2().hblkhd  # bytes in blocks that have their own mapping
del x
print(json.dumps(dict(applied=applied, mapped=mapped, free_in_heap=mallinfo2().fordblks)))
'''


def run_child(retain: bool) -> dict:
    out = subprocess.run([sys.executable, '-c', CHILD, '1' if retain else '0'],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc' or not hasattr(ctypes.CDLL(None),
                                                                      'mallinfo2'),
                    reason='glibc >= 2.33 only')
def test_large_blocks_come_from_the_heap_and_stay_there_once_freed():
    default, retained = run_child(False), run_child(True)
    # By default the 64 MB tensor gets its own mapping, which its free gives back.
    assert not default['applied'] and default['mapped'] >= 64 * 2 ** 20
    assert default['free_in_heap'] < 64 * 2 ** 20
    # Retained: no mapping of its own; once freed, its 64 MB stay in the heap for reuse.
    assert retained['applied'] and retained['mapped'] < 64 * 2 ** 20
    assert retained['free_in_heap'] >= 64 * 2 ** 20
