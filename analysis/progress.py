"""Progress bars for long steps: shown on a terminal, silent in CI logs and pipes."""

from __future__ import annotations

import os
import sys


def enabled(progress: bool | None = None) -> bool:
    """Whether to draw a bar: ``progress`` if given, else only on a terminal outside CI (CI unset)."""
    if progress is not None:
        return progress
    return not os.environ.get("CI") and sys.stderr.isatty()


def bar(iterable, *, progress: bool | None = None, **tqdm_kwargs):
    """``iterable`` wrapped in a tqdm bar when ``enabled(progress)``, else unchanged.

    Plain tqdm, not tqdm.auto: inside a notebook kernel (no terminal) there is no bar, and
    tqdm.auto's import there warns on stderr about ipywidgets.
    """
    if not enabled(progress):
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, **tqdm_kwargs)
