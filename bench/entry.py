"""The one way every benchmark script starts, reports and exits, so the scripts hold only
their measurements: 0 with the figures printed (and written as JSON when asked), 1 when the
set-up or a server failed, 130 when stopped with Ctrl-C (everything started is taken down)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

from bench.dataset import SetupFailed
from bench.servers import ServerFailed

Figures = TypeVar("Figures")


def run_benchmark(
    name: str,
    json_path: Path | None,
    measure: Callable[[], Figures],
    render: Callable[[Figures], str],
    as_json: Callable[[Figures], Any],
    *,
    on_sigterm: bool = True,
) -> int:
    """``measure()``, then print ``render`` of what it found; ``on_sigterm`` also takes
    everything down when the run is terminated rather than interrupted."""
    from bench.autosave import say, terminate_cleanly  # bench.autosave starts through here

    try:
        with terminate_cleanly() if on_sigterm else nullcontext():
            figures = measure()
    except (SetupFailed, ServerFailed) as problem:
        print(f"{name} benchmark: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name} benchmark: stopped; servers and database removed.", file=sys.stderr)
        return 130
    print(render(figures))
    if json_path:
        json_path.write_text(json.dumps(as_json(figures), indent=2) + "\n")
        say(f"Figures written to {json_path}")
    return 0
