"""Paging by position (`page`) that notices when lines moved under it.

Why a component: Zoho may page a subform module by position only, where a line modified or deleted
mid-read shifts the others and the next page silently skips one (its Modified_Time is older than
the checkpoint, so it would be lost for good). Each window here starts at least one line before the
previous one ended (a smaller `per_page`) and must hold a line already read; if it does not, lines
moved and it is asked again from further back. No CDK paginator overlaps or checks pages.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

Line = dict[str, Any]
# (page, per_page) -> (lines, more_records); raises PageWall where Zoho stops `page` paging.
Fetch = Callable[[int, int], tuple[list[Line], bool]]


class LinesMoved(Exception):
    """A window lacked the last line of the window before it: lines moved, one may have been skipped."""


class PageWall(Exception):
    """`page` paging cannot reach further (Zoho's 2,000-record limit for `page`)."""


def next_window(end: int, page_size: int, wall: int) -> tuple[int, int] | None:
    """The (page, per_page) whose window starts before position `end` (so it holds the last line
    read) and ends furthest past it, within `wall` positions; None when no window gets past `end`."""
    if end <= 0:
        return (1, page_size) if page_size <= wall else None
    best: tuple[int, int] | None = None
    for per_page in range(page_size, 1, -1):
        page = (end - 1) // per_page + 1  # its first position, (page - 1) * per_page, is < end
        stop = page * per_page
        if end < stop <= wall and (best is None or stop > best[0] * best[1]):
            best = (page, per_page)
    return best


def windows(
    fetch: Fetch, page_size: int, wall: int, key: Callable[[Line], Hashable]
) -> Iterator[tuple[list[Line], bool]]:
    """The lines of one pass, window by window, each line once, with whether more follow.

    A window is contiguous from its first position; it continues the pass when it holds a line the
    pass has read (the anchor): everything after the anchor is then read too. Without an anchor,
    lines moved forward under the window (deletions): it is asked again starting further back, then
    from the first page; raises LinesMoved when even that holds no line read, PageWall at the wall.
    """
    end, margin = 0, 0
    seen: set[Hashable] = set()
    while True:
        window = next_window(end - margin, page_size, wall)
        if window is None:
            raise PageWall
        page, per_page = window
        lines, more = fetch(page, per_page)
        keys = [key(line) for line in lines]
        fresh = lines
        if seen:
            anchors = [n for n, k in enumerate(keys) if k in seen]
            if not anchors:
                if margin >= end:
                    raise LinesMoved
                margin = min(end, max(margin * 4, page_size // 4, 1))
                continue
            after = list(zip(lines, keys, strict=True))[anchors[-1] + 1 :]
            fresh = [line for line, k in after if k not in seen]
        seen.update(key(line) for line in fresh)
        yield fresh, more and bool(lines)
        if not more or not lines:
            return
        # Positions may have shifted: the frontier is where this window ends, everything before it read.
        end, margin = (page - 1) * per_page + len(lines), 0
