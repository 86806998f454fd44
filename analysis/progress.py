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
    """``iterable`` wrapped in a tqdm bar when ``enabled(progress)``, else unchanged."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not enabled(progress), **tqdm_kwargs)
