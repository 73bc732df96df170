"""A model's own invariant or final property in a model that uses `xen`: the last writes to
what it reads (`domain.own`), with the bitmap reads (CLEANs) between them and the pages
each took. Takes the `Events` of the counterexample; gives sentences. Imports
`domain.own`, `domain.xen_events`.
"""

from __future__ import annotations

from quiesce_check.domain.own import explain_own as last_writes
from quiesce_check.domain.own import pages_phrase
from quiesce_check.domain.xen_events import BitmapRead, Events


def _read(r: BitmapRead) -> str:
    return f"at step {r.step} {r.name} read the bitmap and took {pages_phrase(r.took)}"


def explain_own(ev: Events) -> list[str]:
    """The last writes to what the violated property reads, with the CLEANs between them."""
    return last_writes(ev.h, [(r.step, _read(r)) for r in ev.reads])
