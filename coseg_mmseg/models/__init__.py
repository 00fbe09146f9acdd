"""Models of CoSeg, registered in mmseg's ``MODELS`` registry on import."""
from .assigners import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .text_encoders import *  # noqa: F401,F403
from .assigners import __all__ as _assigners
from .backbones import __all__ as _backbones
from .decode_heads import __all__ as _heads
from .losses import __all__ as _losses
from .necks import __all__ as _necks
from .segmentors import __all__ as _segmentors
from .text_encoders import __all__ as _text_encoders

__all__ = _assigners + _backbones + _heads + _losses + _necks + _segmentors + _text_encoders
