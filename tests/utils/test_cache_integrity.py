import os
import stat

import torch

from coseg_mmseg.utils.cache_integrity import (KEY_FILE, content_tag, integrity_key,
                                               tag_matches)


def test_key_file_is_private_and_stable(tmp_path):
    secret = integrity_key(str(tmp_path / 'cache'))
    assert len(secret) == 32
    assert stat.S_IMODE(os.stat(tmp_path / 'cache' / KEY_FILE).st_mode) == 0o600
    assert integrity_key(str(tmp_path / 'cache')) == secret  # read back, not replaced
    assert integrity_key(str(tmp_path / 'other')) != secret
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / KEY_FILE).write_bytes(b'short')
    assert integrity_key(str(tmp_path / 'bad')) is None


def test_tag_binds_key_dtype_shape_and_bytes():
    secret = b'k' * 32
    tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    tag = content_tag(secret, {'names': ['a', 'b']}, [tensor])
    assert tag_matches(secret, {'names': ['a', 'b']}, [tensor.clone()], tag)
    for key, other in [({'names': ['b', 'a']}, tensor), ({'names': ['a', 'b']}, tensor[[1, 0]]),
                       ({'names': ['a', 'b']}, tensor.reshape(3, 2)),
                       ({'names': ['a', 'b']}, tensor.double())]:
        assert not tag_matches(secret, key, [other], tag)
    assert not tag_matches(b'x' * 32, {'names': ['a', 'b']}, [tensor], tag)
    assert not tag_matches(None, {'names': ['a', 'b']}, [tensor], tag)
    bf16 = tensor.to(torch.bfloat16)  # no numpy dtype: hashed through its bytes
    assert tag_matches(secret, 1, [bf16], content_tag(secret, 1, [bf16]))
