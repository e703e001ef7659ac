"""On-disk cache of built graphs, keyed by a hash of the input file and the build options."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely

from hzspatial.errors import DataWarning
from hzspatial.network._graph import WalkGraph

__all__ = ["cache_key", "load_graph", "save_graph"]

logger = logging.getLogger(__name__)
#: 2: centre-line layers filtered by their highway tags; 3: snapping rules, loops; 4: the
#: warnings of the build, said again on every load; 5: edge tags (classes, bridges, one-way)
_FORMAT = 6


def cache_key(path: str | Path, options: dict) -> str:
    """SHA-256 of the file's bytes, the build options and the cache format."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    from hzspatial import __version__

    h.update(
        json.dumps(
            {"options": options, "format": _FORMAT, "version": __version__},
            sort_keys=True,
            default=str,
        ).encode()
    )
    return h.hexdigest()


def save_graph(graph: WalkGraph, folder: Path, key: str, notes: Sequence[str] = ()) -> Path:
    """Write ``graph`` to ``folder/<key>.npz`` atomically, with the warnings its build gave
    (``notes``), which :func:`load_graph` gives again: a run on the cached graph must not be
    silent about what the first run said (streets skipped, pieces dropped …)."""
    folder.mkdir(parents=True, exist_ok=True)
    coords, owner = shapely.get_coordinates(graph.edge_geometry, return_index=True)
    counts = np.bincount(owner, minlength=graph.n_edges)
    a = graph.adjacency
    meta = {
        "crs": graph.crs.to_wkt(),
        "labels": list(graph.labels),
        "dropped_nodes": graph.dropped_nodes,
        "dropped_length_m": graph.dropped_length_m,
        "notes": [str(x) for x in notes],
    }
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=folder)
    os.close(fd)
    np.savez(
        tmp, node_xy=graph.node_xy, edge_u=graph.edge_u, edge_v=graph.edge_v,
        edge_length=graph.edge_length, coords=coords, counts=counts, indptr=a.indptr,
        indices=a.indices, data=a.data,
        node_id=graph.node_id if graph.node_id is not None else np.empty(0, dtype=np.int64),
        snap_ok=graph.snap_ok if graph.snap_ok is not None else np.empty(0, dtype=bool),
        meta=np.array(json.dumps(meta)),
        **{f"tag_{k}": (x.astype(str) if x.dtype == object else x)
           for k, x in (graph.edge_tags or {}).items()},
    )  # fmt: skip
    target = folder / f"{key}.npz"
    os.replace(tmp, target)
    return target


def load_graph(folder: Path, key: str) -> WalkGraph | None:
    """The cached graph for ``key``, or None. A cache file that cannot be read (truncated by
    a full disk or a killed run, or written by another version) is deleted with a warning, so
    the graph is rebuilt and cached again."""
    path = folder / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        z = np.load(path)
        meta = json.loads(str(z["meta"]))
        counts = z["counts"]
        lines = shapely.linestrings(z["coords"], indices=np.repeat(np.arange(len(counts)), counts))
        n = len(z["node_xy"])
        adj = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(n, n))
        node_id = z["node_id"] if len(z["node_id"]) else None
        snap_ok = z["snap_ok"] if len(z["snap_ok"]) else None
        tags = {k[4:]: (z[k].astype(object) if z[k].dtype.kind == "U" else z[k])
                for k in z.files if k.startswith("tag_")} or None  # fmt: skip
        graph = WalkGraph(
            crs=pyproj.CRS.from_wkt(meta["crs"]), node_xy=z["node_xy"], edge_u=z["edge_u"],
            edge_v=z["edge_v"], edge_length=z["edge_length"], lines=lines,
            adjacency=adj, node_id=node_id, dropped_nodes=meta["dropped_nodes"],
            dropped_length_m=meta["dropped_length_m"], labels=tuple(meta["labels"]),
            snap_ok=snap_ok, edge_tags=tags,
        )  # fmt: skip
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        logger.warning("discarding unreadable cached graph %s (%s); rebuilding it", path,
                       type(exc).__name__)  # fmt: skip
        path.unlink(missing_ok=True)
        return None
    logger.info("loaded cached graph %s", path.name)
    for note in meta.get("notes", []):
        warnings.warn(note, DataWarning, stacklevel=3)
    return graph
