"""What every view shares: the canvas and the edge palette, so the views look alike.

Imported as a top-level module (`import _style`), the way render.py imports the views:
this folder is on sys.path whenever a view runs, from render.py or on its own.
"""

from __future__ import annotations

from pathlib import Path

from diagrams import Diagram

# One meaning per colour across the views: red crosses a trust boundary or fails the
# run, blue carries data, grey is control or report-only, green is operations.
RED = {"color": "#C0392B", "fontcolor": "#C0392B", "penwidth": "2"}
BLUE = {"color": "#1F618D", "fontcolor": "#1F618D", "penwidth": "2"}
GREY_DASHED = {"color": "#7B8894", "fontcolor": "#5D6D7E", "style": "dashed"}
GREEN_DOTTED = {"color": "#27AE60", "fontcolor": "#1E8449", "style": "dotted"}


def canvas(title: str, target: Path, *, fontsize: str, nodesep: str, ranksep: str) -> Diagram:
    """A left-to-right diagram with curved edges that renders `target`.png on exit."""
    return Diagram(
        title,
        filename=str(target),
        direction="LR",
        curvestyle="curved",
        show=False,
        graph_attr={
            "fontsize": fontsize,
            "pad": "0.4",
            "nodesep": nodesep,
            "ranksep": ranksep,
            "dpi": "72",
        },
        edge_attr={"fontsize": "12"},
    )
