"""A page's tables from its ruling lines: pdfplumber's table-finding steps — snap nearby
lines together, join the pieces of one line, find the crossings, the smallest cell at each
crossing, and the tables the cells make — done on plain tuples. The same cells in the same
tables in the same order as ``merge_edges`` → ``edges_to_intersections`` →
``intersections_to_cells`` → ``cells_to_tables`` give (tested on every test PDF, on a
rendered page's pixel rulings and on generated rulings), at a third of their cost (0.4 ms
against 1.3 ms for a sheet's page), and without importing pdfplumber (and pdfminer under
it) into every reader process: the PDF reader and the scan reader both find their tables
here.

Lines whose coordinates are not finite numbers go through pdfplumber itself.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

#: (x0, top, x1, bottom), top-down coordinates as pdfplumber has them.
Box = tuple[float, float, float, float]
Point = tuple[float, float]


def find_tables(
    edges: Iterable[Mapping[str, Any]], snap: float, join: float, cross: float
) -> list[list[Box]]:
    """The tables the ruling ``edges`` (pdfplumber-shaped: ``orientation`` "h" or "v",
    ``x0``, ``top``, ``x1``, ``bottom``) make, each as its cells; tolerances in points."""
    edges = list(edges)
    vertical = [_box(e) for e in edges if e["orientation"] == "v"]
    horizontal = [_box(e) for e in edges if e["orientation"] == "h"]
    if len(vertical) + len(horizontal) != len(edges):
        return _pdfplumbers(edges, snap, join, cross)  # an orientation it would reject
    if snap > 0:
        vertical = _snapped(vertical, 0, snap)
        horizontal = _snapped(horizontal, 1, snap)
    # the sum of the coordinates is finite when each is (a sum too large for a float sends
    # finite lines to pdfplumber too: still right, only slower)
    if not math.isfinite(sum(itertools.chain.from_iterable(itertools.chain(vertical, horizontal)))):
        return _pdfplumbers(edges, snap, join, cross)
    horizontal = _joined(horizontal, 1, 0, join)
    vertical = _joined(vertical, 0, 1, join)
    return _tables(intersections_to_cells(_crossings(vertical, horizontal, cross)))


def _box(edge: Mapping[str, Any]) -> Box:
    return (edge["x0"], edge["top"], edge["x1"], edge["bottom"])


def _snapped(boxes: list[Box], axis: int, tolerance: float) -> list[Box]:
    """``snap_objects``: lines whose position (x0 of a vertical, top of a horizontal) lies
    within the tolerance chain of each other are moved to their average position — moved as
    pdfplumber moves them (``position + (average - position)``, the sum in its order), so
    the coordinates are the same floats. Cluster by cluster, each in the lines' order."""
    clusters = cluster_ids([b[axis] for b in boxes], tolerance)
    grouped: dict[int, list[Box]] = {}
    for box in boxes:
        grouped.setdefault(clusters[box[axis]], []).append(box)
    moved: list[Box] = []
    for index in sorted(grouped):
        members = grouped[index]
        average = sum(b[axis] for b in members) / len(members)
        for x0, top, x1, bottom in members:
            if axis == 0:  # a vertical line moves across
                shift = average - x0
                moved.append((x0 + shift, top, x1 + shift, bottom))
            else:
                shift = average - top
                moved.append((x0, top + shift, x1, bottom + shift))
    return moved


def cluster_ids(values: list[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's ``make_cluster_dict``: each value's cluster — sorted distinct values, a
    new cluster where the step from the previous value exceeds the tolerance (each value in
    a cluster of its own at 0). Lines are snapped by it, and characters put into lines."""
    found: dict[float, int] = {}
    cluster, last = 0, None
    for value in sorted(set(values)):
        if last is not None and (tolerance == 0 or value > last + tolerance):
            cluster += 1
        found[value] = cluster
        last = value
    return found


def _joined(boxes: list[Box], position: int, start: int, tolerance: float) -> list[Box]:
    """``join_edge_group`` for each line position (in increasing order): pieces of one line
    that overlap or leave a gap within the tolerance become one line."""
    end = start + 2
    groups: dict[float, list[Box]] = {}
    for box in sorted(boxes, key=lambda b: b[position]):
        groups.setdefault(box[position], []).append(box)
    joined: list[Box] = []
    for group in groups.values():
        ordered = sorted(group, key=lambda b: b[start])
        line = [ordered[0]]
        for box in ordered[1:]:
            last = line[-1]
            if box[start] <= last[end] + tolerance:
                if box[end] > last[end]:
                    line[-1] = (*last[:end], box[end], *last[end + 1 :])  # type: ignore[assignment]
            else:
                line.append(box)
        joined.extend(line)
    return joined


#: Each crossing's vertical lines and horizontal lines (as boxes).
Crossings = dict[Point, tuple[set[Box], set[Box]]]


def _crossings(vertical: list[Box], horizontal: list[Box], tolerance: float) -> Crossings:
    """``edges_to_intersections``: where a vertical line meets a horizontal one, within the
    tolerance; the point is the vertical's x and the horizontal's top."""
    found: Crossings = {}
    across = sorted(horizontal, key=lambda b: (b[1], b[0]))
    for v in sorted(vertical, key=lambda b: (b[0], b[1])):
        x, top, bottom = v[0], v[1], v[3]
        for h in across:
            y = h[1]
            meets = top <= y + tolerance and bottom >= y - tolerance
            if meets and h[0] - tolerance <= x <= h[2] + tolerance:
                lines = found.setdefault((x, y), (set(), set()))
                lines[0].add(v)
                lines[1].add(h)
    return found


def intersections_to_cells(crossings: Crossings) -> list[Box]:
    """pdfplumber's ``intersections_to_cells``, the same cells in the same order: for each
    crossing, the smallest rectangle it is the top-left corner of — a crossing below and one
    to the right joined to it by a line, and the corner between them joined to both. The
    crossings below and right of a point are looked up by column and row instead of
    comparing every pair (pdfplumber also defines a function with evaluated type hints on
    every comparison: a seventh of reading a PDF)."""

    def connects(a: Point, b: Point) -> bool:
        return (a[0] == b[0] and not crossings[a][0].isdisjoint(crossings[b][0])) or (
            a[1] == b[1] and not crossings[a][1].isdisjoint(crossings[b][1])
        )

    points = sorted(crossings)
    column: dict[float, list[Point]] = {}
    row: dict[float, list[Point]] = {}
    for point in points:  # each list in the points' order
        column.setdefault(point[0], []).append(point)
        row.setdefault(point[1], []).append(point)
    cells: list[Box] = []
    for point in points:
        same_x, same_y = column[point[0]], row[point[1]]
        below = same_x[same_x.index(point) + 1 :]
        right = same_y[same_y.index(point) + 1 :]
        cell = next(
            (
                (point[0], point[1], corner[0], corner[1])
                for down in below
                if connects(point, down)
                for across in right
                if connects(point, across)
                for corner in [(across[0], down[1])]
                if corner in crossings and connects(corner, across) and connects(corner, down)
            ),
            None,
        )
        if cell is not None:
            cells.append(cell)
    return cells


def _tables(cells: list[Box]) -> list[list[Box]]:
    """``cells_to_tables``: cells grouped into tables by shared corners, in its order (a
    pass over the remaining cells adds each that touches the current table; a pass that adds
    none closes it), tables of one cell dropped, sorted by their top-left cell."""
    remaining = list(cells)
    corners: set[Point] = set()
    current: list[Box] = []
    tables: list[list[Box]] = []
    while remaining:
        before = len(current)
        for cell in list(remaining):
            x0, top, x1, bottom = cell
            own = ((x0, top), (x0, bottom), (x1, top), (x1, bottom))
            if not current or any(c in corners for c in own):
                corners.update(own)
                current.append(cell)
                remaining.remove(cell)
        if len(current) == before:
            tables.append(list(current))
            corners.clear()
            current.clear()
    if current:
        tables.append(list(current))
    ordered = sorted(tables, key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in ordered if len(t) > 1]


def _pdfplumbers(
    edges: list[Mapping[str, Any]], snap: float, join: float, cross: float
) -> list[list[Box]]:
    """pdfplumber's own steps, for lines this module does not take (not finite numbers)."""
    from pdfplumber.table import cells_to_tables, edges_to_intersections, merge_edges
    from pdfplumber.table import intersections_to_cells as theirs

    merged = merge_edges(list(edges), snap, snap, join, join)  # type: ignore[arg-type]
    cells = theirs(edges_to_intersections(merged, cross, cross))
    return [[(c[0], c[1], c[2], c[3]) for c in table] for table in cells_to_tables(cells)]
