"""Keep freed CPU memory in the process, so big tensors reuse pages already mapped (glibc).

glibc's ``malloc`` maps every block above its mmap threshold (128 KB, growing to 32 MB) afresh
from the kernel and unmaps it when freed. A training step on CPU allocates ~1 GB of large
activations (the decoder's 2048-wide hidden layers alone are 3 x 258 MB at batch 8), frees them
in the backward, and the next step maps them again: every page is faulted in and zeroed by the
kernel once per step — a few tenths of a second of a CoSeg step on 2 cores. Served from the heap
and never trimmed, the next step reuses the same pages. The process's peak resident size is
unchanged; it just stays at that peak instead of dropping between steps.
"""
import ctypes
import platform

# mallopt parameters, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX = -1, -2, -4


def retain_freed_memory() -> bool:
    """Make glibc serve every allocation from its heap and keep what is freed for reuse.

    Affects the whole process (and processes it forks) from the call on: call it once, early,
    in a program that runs models on CPU. Where the C library is not glibc (macOS, musl) it does
    nothing.

    Returns:
        Whether the settings were applied.
    """
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return all(mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_MAX, 0),  # no block gets its own mapping: all come from the heap
        (_M_TRIM_THRESHOLD, 2 ** 31 - 1),  # never give the heap's top back to the kernel
        (_M_TOP_PAD, 2 ** 26),  # grow the heap 64 MB beyond a request: fewer brk calls
    ))
