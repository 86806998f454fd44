"""One colour and one marker per domain name, the same on every page.

Colours are seaborn's "colorblind" palette (Okabe and Ito's colour-blind safe set, extended to
ten), so every series also keeps a distinct marker for readers who cannot tell two colours apart.
Each dict maps a name exactly as it appears in the tables to a :class:`Style`:

* ``MODE``: the experiment's modes, :data:`analysis.ingest.experiment.MODES`;
* ``POLICY``: the grant policies' labels, :func:`analysis.simulated.grants.label` of every policy
  the simulated data sets compare (:func:`analysis.simulated.grants.policy_set` plus Linux's LRU
  with its unused-grant expiry); a persistent policy shares its hue family with the persistent
  mode, ``non_persistent`` is the non-persistent mode's colour;
* ``STRUCTURE``: the gref lookup structures timed by ``benchmarks/mechanisms/lookup.c`` (the
  ``structure`` column of the gref-lookup samples);
* ``ENGINE``: the fio engines of the bundled sweep (``ioengine``).

Figure functions take their colours from here (:func:`colours`, :func:`markers`, :func:`order`);
a name that has no entry is a one-sentence :class:`KeyError` naming the dict and its names.
"""

from __future__ import annotations

from typing import NamedTuple

from analysis.constants import LINUX_PERSISTENT_GRANT_UNUSED_SECONDS
from analysis.ingest.experiment import MODES
from analysis.simulated.grants import ONE_PAGE_CAP, label, policy_set
from analysis.xen.grants import LinuxLru

# seaborn.color_palette("colorblind").as_hex(), spelled out so the palette does not depend on the
# seaborn version.
BLUE, ORANGE, GREEN, VERMILLION, PINK, BROWN, LIGHT_PINK, GREY, YELLOW, LIGHT_BLUE = (
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9")
BLACK = "#000000"
#: Reference lines (caps, budgets, measured points) are drawn in these, never in a series colour.
REFERENCE = "grey"
MEASURED = "black"


class Style(NamedTuple):
    colour: str
    marker: str


MODE: dict[str, Style] = dict(zip(MODES, [Style(BLUE, "o"), Style(ORANGE, "X")]))

_POLICY_STYLES = {
    "non_persistent": Style(ORANGE, "X"),
    "persistent_array": Style(BLUE, "o"),
    "persistent_tree": Style(LIGHT_BLUE, "s"),
    "persistent_tree (per-gref fallback)": Style(GREEN, "D"),
    "fail_past_limit": Style(VERMILLION, "v"),
    "lru M=2": Style(PINK, "^"),
    "lru M=4": Style(BROWN, "P"),
    "linux_lru": Style(BLACK, "*"),
    "linux_lru (expire after 60 s unused)": Style(GREY, "h"),
}
_POLICY_LABELS = [label(p) for p in policy_set(ONE_PAGE_CAP)] + [
    label(LinuxLru(unused_seconds=LINUX_PERSISTENT_GRANT_UNUSED_SECONDS))]
# The dict is keyed by the simulator's own labels: a renamed policy fails here, at import.
POLICY: dict[str, Style] = {name: _POLICY_STYLES[name] for name in _POLICY_LABELS}

STRUCTURE: dict[str, Style] = {
    "ptr-array": Style(BLUE, "o"),       # the 2012 patch: array of pointers, linear search
    "flat-array": Style(GREEN, "s"),
    "sorted-array": Style(PINK, "D"),
    "bst": Style(LIGHT_BLUE, "^"),       # the red-black tree Linux blkback uses since 3.8
    "hash": Style(BROWN, "v"),
}

ENGINE: dict[str, Style] = {"psync": Style(GREEN, "o"), "libaio": Style(VERMILLION, "s")}

#: Every palette by the name a figure's table gives its column.
PALETTES = {"mode": MODE, "label": POLICY, "policy": POLICY, "structure": STRUCTURE, "ioengine": ENGINE}


def _lookup(styles: dict[str, Style], name: str) -> Style:
    try:
        return styles[name]
    except KeyError:
        palette = next((k for k, v in globals().items() if v is styles and k.isupper()), "palette")
        raise KeyError(f"{palette} has no style for {name!r}; it has {', '.join(styles)}") from None


def order(styles: dict[str, Style], names) -> list[str]:
    """The names present, in the palette's order (so legends list them the same way on every page)."""
    present = set(names)
    for name in present:
        _lookup(styles, name)
    return [name for name in styles if name in present]


def colours(styles: dict[str, Style], names) -> dict[str, str]:
    """name -> colour for the names given (a seaborn ``palette=`` argument)."""
    return {name: _lookup(styles, name).colour for name in order(styles, names)}


def markers(styles: dict[str, Style], names) -> dict[str, str]:
    """name -> marker for the names given (a seaborn ``markers=`` argument)."""
    return {name: _lookup(styles, name).marker for name in order(styles, names)}


def colour(styles: dict[str, Style], name: str) -> str:
    return _lookup(styles, name).colour


def marker(styles: dict[str, Style], name: str) -> str:
    return _lookup(styles, name).marker
