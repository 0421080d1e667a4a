"""Who owns the spool, in words: the spool refuses a process that is not its owner (and does
not share a group with it), and this says why and what to do. No imports of mailgate: the
spool imports it when it refuses."""

from __future__ import annotations

import os
from pathlib import Path


def user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def owner_message(root: Path, uid: int) -> str:
    """Why a user who does not own the spool may not write it, and the two ways out."""
    owner, me = user_name(uid), user_name(os.geteuid())
    return (f"spool {root} belongs to {owner}, not to {me}: the daemon could not read what this process"
            f" would write. Run mailgate as {owner} (Postfix pipe: user={owner}), or share the spool with"
            f" a group: chgrp -R GROUP {root} && chmod -R g+rwX {root} &&"
            f" find {root} -type d -exec chmod g+s {{}} + (docs/daemon.md, \"A second user on the spool\")")
