"""The helpers behind ``tools/`` and ``tests/``: the CLI wrapper, benchmark helpers and the
generated worlds (tiny CLIPs, synthetic datasets).

Installed beside :mod:`coseg_mmseg` but never imported by it: ``import coseg_mmseg`` (what a
config's ``custom_imports`` does) registers the model's components and nothing of this package.
"""
