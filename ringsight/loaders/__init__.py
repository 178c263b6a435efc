"""RingSight loaders: claims exports in, a clean entity graph out.

``load_files`` is the one entry point other areas call (the demo, benchmarks,
tests); ``ringsight load`` and ``ringsight profile check`` wrap it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["LoadReport", "load_files"]

if TYPE_CHECKING:
    from ringsight.loaders.pipeline import load_files
    from ringsight.loaders.report import LoadReport


def __getattr__(name: str) -> Any:
    # Imported lazily so `import ringsight.loaders` stays cheap for the CLI.
    if name == "load_files":
        from ringsight.loaders.pipeline import load_files

        return load_files
    if name == "LoadReport":
        from ringsight.loaders.report import LoadReport

        return LoadReport
    raise AttributeError(name)
