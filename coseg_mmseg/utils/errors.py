"""The error a user can fix, raised by the model code (CLIP loading) and the APIs.

The command-line tools (``coseg_tools.cli``) turn it into one ``error: ...`` line and exit
status 2; called from Python it is an ordinary exception with a message that names the
file/key/value and the fix.
"""


class UserError(Exception):
    """A mistake the user can fix; its message names the file/key/value and the fix."""
