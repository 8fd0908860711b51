#!/usr/bin/env python3
"""Nearest facility per category for every network node: wangge against pandana, networkx and scipy.

What is measured. On one OpenStreetMap extract (default: the Helsinki sample), every tool answers
the same question: for every node of the walking network and every facility category, the
walking distance to the nearest facility of that category, up to a 2,000 m horizon.
  - scipy      `scipy.sparse.csgraph.dijkstra(min_only=True, indices=<facility nodes>, limit=2000)`,
               one call per category. This is the reference: plain float64 Dijkstra.
  - networkx   `multi_source_dijkstra_path_length(sources=<facility nodes>, cutoff=2000)` per category.
  - pandana    `Network(...)` (contraction hierarchy), then per category `set_pois(maxdist=2000,
               maxitems=1)` + `nearest_pois(2000, num_pois=1)`.
  - wangge     `wangge circles nearest --osm PBF --points P.csv --facilities F.geojson --out D.csv
               --speed 1.2`, the whole command (reading the PBF, building its graph, all categories,
               writing the CSV), timed as one wall-clock figure.
For each tool the table gives preparation time (building the tool's graph structure from the edge
list), query time per category (median over categories), total, and agreement with scipy: the
largest absolute difference in metres over every (node, category) pair both answer within the
horizon, and how many pairs one answers within the horizon and the other does not.

Same input for everyone. The script builds the walking network itself from the PBF, by the rule of
STANDARDS.md ("The walkable network"): highway in the walkable list, unless foot=no or area=yes, or
access=no/private without foot=yes/designated/permissive, with access=private not excluding
footway/path/steps/service; ways split at junctions (nodes used twice or more by walkable ways, a
closed way's repeated last node not counted) and at their ends; ways cut at the extract edge kept
where consecutive nodes are present; edge length = sum of haversine lengths between consecutive
vertices with R = 6,371,008.8 m (geo's `Haversine`, used by `wangge_core::geometry::length_m`).
Coordinates are the file's 1e-7 degree integers divided by 1e7, as wangge's reader does.
Parallel edges keep the shortest; self-loops are dropped (neither changes a shortest path).

Facilities are chosen HERE (not by wangge) so that they are identical on every side: OSM nodes and
closed ways whose tags match a category of `crates/core/src/catalogue.default.toml` (first
matching category wins, the catalogue's rule syntax re-implemented below; a closed way is placed at
the mean of its vertices; relations are left out). Each facility is snapped to its nearest network
node, and that node is the source for scipy, networkx and pandana; wangge gets the same facilities
as `F.geojson` points placed exactly on those nodes (`id`, `category`). The points wangge answers
for (`P.csv`: `id,lon,lat`) are exactly the network nodes, so its snap distances are zero and its
answers are node-to-node distances, comparable with the others to the millimetre. Nodes that share
their exact coordinates with another network node are left out of both (a point there could snap
to either). Categories with no facility are skipped.

Fairness caveats.
  - pandana returns float32 distances (about 1e-4 m of rounding at 2 km) and fills "none within
    the horizon" with the horizon itself (2,000 m), so a true distance of exactly 2,000 m is read
    as none. Its distances also come out in whole millimetres (seen on this sample: its contraction
    hierarchy works on edge weights rounded to the millimetre), so over a path of many edges it
    drifts from the exact sum by up to half a millimetre per edge: a few centimetres at 2 km is its
    rounding, not a different path. Its preparation (the hierarchy) is paid once for all categories.
  - networkx and scipy get the graph already deduplicated as integer arrays; building those arrays
    from the PBF (shared by all) is not timed. wangge's figure includes reading the PBF and
    writing its CSV; it is a whole command against library calls.
  - The sample is small (a few thousand nodes), so times are medians of repeated runs (--repeat,
    within a time budget per measurement) and dominated by fixed costs; larger extracts can be
    passed with --osm.
  - The machine is shared (2 cores): read times as orders of magnitude.

Set-up (once):  python3 -m venv ~/.cache/wangge/pyenv && ~/.cache/wangge/pyenv/bin/pip install -r benches/requirements.txt
Run:            cargo build --release -p wangge && \\
                ~/.cache/wangge/pyenv/bin/python benches/compare_circles.py [--wangge PATH] [--osm PBF]
Without a wangge that has `circles nearest`, the wangge row says why and the peers still run.
"""

import argparse
import csv
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
EARTH_RADIUS_M = 6_371_008.8  # geo::Haversine (GRS80 mean radius), as wangge_core::geometry::length_m
HORIZON_M = 2000.0
SPEED_MPS = 1.2

WALKABLE = {
    "footway", "path", "pedestrian", "steps", "corridor", "living_street", "residential", "service",
    "unclassified", "track", "road", "cycleway", "bridleway", "tertiary", "tertiary_link", "secondary",
    "secondary_link", "primary", "primary_link", "trunk", "trunk_link",
}
PRIVATE_OK = {"footway", "path", "steps", "service"}


def walkable(tags):
    """STANDARDS.md's rule (wangge_core::tags::walkability)."""
    hw = tags.get("highway")
    if hw not in WALKABLE:
        return False
    if tags.get("foot") == "no" or tags.get("area") == "yes":
        return False
    foot_ok = tags.get("foot") in ("yes", "designated", "permissive")
    access = tags.get("access")
    if access == "no" and not foot_ok:
        return False
    if access == "private" and not foot_ok:
        return hw in PRIVATE_OK
    return True


# ---- the catalogue's rule syntax (wangge_core::catalogue) ----------------------------------------


def parse_condition(text):
    t = text.strip()

    def split(sep):
        k, v = t.split(sep, 1)
        return k.strip(), [s.strip() for s in v.split("|")]

    if "!~" in t:
        k, v = split("!~")
        return ("notcontains", k, [s.lower() for s in v])
    if "!=" in t:
        return ("ne", *split("!="))
    if "~" in t:
        k, v = split("~")
        return ("contains", k, [s.lower() for s in v])
    if "=" in t:
        return ("eq", *split("="))
    if t.startswith("!"):
        return ("absent", t[1:].strip(), None)
    return ("present", t, None)


def holds(cond, tags):
    op, k, vs = cond
    v = tags.get(k)
    if op == "eq":
        return v is not None and v in vs
    if op == "ne":
        return v is None or v not in vs
    if op == "contains":
        return v is not None and any(x in v.lower() for x in vs)
    if op == "notcontains":
        return v is None or not any(x in v.lower() for x in vs)
    if op == "present":
        return v is not None
    return v is None


def load_catalogue(path):
    with open(path, "rb") as f:
        cat = tomllib.load(f)
    return [
        (c["id"], [[parse_condition(p) for p in rule.split("&")] for rule in c.get("match", [])])
        for c in cat["category"]
    ]


def classify(catalogue, tags):
    for cid, rules in catalogue:
        if any(all(holds(c, tags) for c in rule) for rule in rules):
            return cid
    return None


# ---- the network ---------------------------------------------------------------------------------


def haversine_m(lon1, lat1, lon2, lat2):
    """geo's Haversine distance, term for term."""
    t1, t2 = np.radians(lat1), np.radians(lat2)
    dt, dl = np.radians(lat2 - lat1), np.radians(lon2 - lon1)
    a = np.sin(dt / 2.0) ** 2 + np.cos(t1) * np.cos(t2) * np.sin(dl / 2.0) ** 2
    return EARTH_RADIUS_M * (2.0 * np.arcsin(np.sqrt(a)))


def read_osm(path, catalogue):
    import osmium

    loc = {}  # node id -> (lon7, lat7)
    ways = []  # (id, refs, tags) of walkable ways
    fac_nodes, fac_ways = [], []  # (sid, category, node id | refs)
    for o in osmium.FileProcessor(str(path)):
        if o.is_node():
            loc[o.id] = (o.location.x, o.location.y)
            if len(o.tags):
                c = classify(catalogue, {t.k: t.v for t in o.tags})
                if c:
                    fac_nodes.append((f"osm:n{o.id}", c, o.id))
        elif o.is_way():
            tags = {t.k: t.v for t in o.tags}
            refs = [n.ref for n in o.nodes]
            if walkable(tags):
                ways.append((o.id, refs))
            c = classify(catalogue, tags)
            if c and len(refs) >= 4 and refs[0] == refs[-1]:
                fac_ways.append((f"osm:w{o.id}", c, refs))
    return loc, ways, fac_nodes, fac_ways


def build_network(loc, ways):
    """Nodes (OSM ids) and edges (i, j, length) split at junctions, as wangge_io's osm::network."""
    uses = {}
    for _, refs in ways:
        closed = len(refs) >= 2 and refs[0] == refs[-1]
        for i, r in enumerate(refs):
            if closed and i == len(refs) - 1:
                continue
            uses[r] = uses.get(r, 0) + 1
    pieces = []
    for _, refs in ways:
        runs, run = [], []
        for r in refs:
            if r in loc:
                run.append(r)
            elif run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
        for run in runs:
            if len(run) < 2:
                continue
            start = 0
            for i in range(1, len(run)):
                if i != len(run) - 1 and uses.get(run[i], 0) < 2:
                    continue
                piece = run[start : i + 1]
                start = i
                if all(p == piece[0] for p in piece):
                    continue
                pieces.append(piece)
    node_ids = sorted({p[0] for p in pieces} | {p[-1] for p in pieces})
    index = {n: k for k, n in enumerate(node_ids)}
    us, vs, ws = [], [], []
    for piece in pieces:
        xy = np.array([loc[r] for r in piece], dtype=np.int64) / 1e7
        length = 0.0
        for k in range(len(piece) - 1):  # summed in order, as length_m does
            length += float(haversine_m(xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]))
        us.append(index[piece[0]])
        vs.append(index[piece[-1]])
        ws.append(length)
    lonlat = np.array([loc[n] for n in node_ids], dtype=np.int64) / 1e7
    raw_edges = len(us)
    u, v, w = np.array(us), np.array(vs), np.array(ws)
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return node_ids, lonlat, a[first], b[first], w[first], raw_edges


def local_xy(lonlat):
    lat0 = math.radians(float(lonlat[:, 1].mean()))
    return np.column_stack([lonlat[:, 0] * 111_320.0 * math.cos(lat0), lonlat[:, 1] * 110_574.0])


class quiet_stdout:
    """Sends file descriptor 1 to stderr for a while (pandana's C++ code prints progress there)."""

    def __enter__(self):
        sys.stdout.flush()
        self.saved = os.dup(1)
        os.dup2(2, 1)

    def __exit__(self, *exc):
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)


# ---- timing ----------------------------------------------------------------------------------------


def timed(fn, repeat, budget_s):
    """Runs fn up to `repeat` times (at least once, stopping when `budget_s` is spent); returns the
    median wall time and the last result."""
    times, out = [], None
    t_all = time.perf_counter()
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - t_all > budget_s:
            break
    return statistics.median(times), out


# ---- the tools ---------------------------------------------------------------------------------------


def run_scipy(n, a, b, w, sources, a_):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    prep, g = timed(lambda: csr_matrix((w, (a, b)), shape=(n, n)), a_.repeat, a_.budget)
    out, qt = {}, []
    for c, src in sources.items():
        t, d = timed(lambda: dijkstra(g, directed=False, indices=src, min_only=True, limit=HORIZON_M), a_.repeat, a_.budget)
        qt.append(t)
        d = np.asarray(d, dtype=np.float64)
        d[d > HORIZON_M] = np.nan
        out[c] = d
    return prep, qt, out


def run_networkx(n, a, b, w, sources, a_):
    import networkx as nx

    def build():
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist()))
        return g

    prep, g = timed(build, a_.repeat, a_.budget)
    out, qt = {}, []
    for c, src in sources.items():
        t, res = timed(
            lambda: nx.multi_source_dijkstra_path_length(g, set(src.tolist()), cutoff=HORIZON_M), a_.repeat, a_.budget
        )
        qt.append(t)
        d = np.full(n, np.nan)
        for node, dist in res.items():
            d[node] = dist
        out[c] = d
    return prep, qt, out


def run_pandana(n, lonlat, a, b, w, sources, a_):
    import pandas as pd
    import pandana

    def build():
        return pandana.Network(
            pd.Series(lonlat[:, 0], index=np.arange(n)),
            pd.Series(lonlat[:, 1], index=np.arange(n)),
            pd.Series(a),
            pd.Series(b),
            pd.DataFrame({"length": w}),
            twoway=True,
        )

    prep, net = timed(build, a_.repeat, a_.budget)
    out, qt = {}, []
    for c, src in sources.items():
        x = pd.Series(lonlat[src, 0])
        y = pd.Series(lonlat[src, 1])

        def query():
            net.set_pois(category=c, maxdist=HORIZON_M, maxitems=1, x_col=x, y_col=y)
            return net.nearest_pois(HORIZON_M, c, num_pois=1, max_distance=HORIZON_M)

        t, df = timed(query, a_.repeat, a_.budget)
        qt.append(t)
        d = df[1].reindex(np.arange(n)).to_numpy(dtype=np.float64, copy=True)
        d[d >= HORIZON_M] = np.nan
        out[c] = d
    return prep, qt, out


def run_wangge(binary, pbf, node_ids, lonlat, points, facilities, a_, workdir):
    """`points`: node indexes to ask for; `facilities`: (sid, category, node index)."""
    p_csv, f_json, d_csv = (os.path.join(workdir, f) for f in ("P.csv", "F.geojson", "D.csv"))
    with open(p_csv, "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f)
        wr.writerow(["id", "lon", "lat"])
        for k in points:
            wr.writerow([f"osm:n{node_ids[k]}", repr(float(lonlat[k, 0])), repr(float(lonlat[k, 1]))])
    feats = [
        {
            "type": "Feature",
            "id": sid,
            "geometry": {"type": "Point", "coordinates": [float(lonlat[k, 0]), float(lonlat[k, 1])]},
            "properties": {"id": sid, "category": c},
        }
        for sid, c, k in facilities
    ]
    with open(f_json, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)
    cmd = [binary, "circles", "nearest", "--osm", str(pbf), "--points", p_csv, "--facilities", f_json,
           "--out", d_csv, "--speed", str(SPEED_MPS)]

    phases = []

    def once():
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            lines = [x.strip() for x in (r.stderr + "\n" + r.stdout).splitlines() if x.strip()]
            errors = [x for x in lines if x.lower().startswith("error")]
            raise RuntimeError((errors or lines or [f"exit status {r.returncode}"])[0])
        # "timings: read R s, graph G s, snapping S s, distances D s" (the command's own clock).
        m = re.search(r"timings: read ([0-9.]+) s, graph ([0-9.]+) s, snapping ([0-9.]+) s, distances ([0-9.]+) s", r.stderr)
        if m:
            phases.append(tuple(float(x) for x in m.groups()))

    if not os.path.exists(binary):
        raise RuntimeError(f"no binary at {binary} (build it: cargo build --release -p wangge, or pass --wangge)")
    wall, _ = timed(once, a_.repeat, a_.budget)
    # Preparation = building the graph and placing facilities and points; query = all categories.
    prep = statistics.median(p[1] + p[2] for p in phases) if phases else None
    query = statistics.median(p[3] for p in phases) if phases else None
    index = {f"osm:n{node_ids[k]}": k for k in points}
    out = {}
    with open(d_csv, newline="", encoding="utf-8") as f:
        rd = csv.DictReader(f)
        missing = {"id", "category", "distance_m", "time_s"} - set(rd.fieldnames or [])
        if missing:
            raise RuntimeError(f"{d_csv} lacks columns {sorted(missing)}")
        for row in rd:
            d = out.setdefault(row["category"], np.full(len(node_ids), np.nan))
            k = index[row["id"]]
            d[k] = float(row["distance_m"]) if row["distance_m"].strip() else np.nan
    return wall, prep, query, out


# ---- comparison -----------------------------------------------------------------------------------


def agreement(ref, got, mask):
    """(max |Δ| over pairs both answer, pairs compared, pairs answered by one only)."""
    worst, both, one = 0.0, 0, 0
    for c, r in ref.items():
        g = got.get(c)
        if g is None:
            g = np.full(len(r), np.nan)
        r, g = r[mask], g[mask]
        fr, fg = np.isfinite(r), np.isfinite(g)
        b = fr & fg
        both += int(b.sum())
        # A reference distance within a micrometre of the horizon may fall either side.
        edge = np.abs(r - HORIZON_M) < 1e-6
        one += int(((fr ^ fg) & ~edge).sum())
        if b.any():
            worst = max(worst, float(np.max(np.abs(r[b] - g[b]))))
    return worst, both, one


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--osm", default=str(REPO / "geodata/helsinki/Helsinki.osm.pbf"))
    ap.add_argument("--catalogue", default=str(REPO / "crates/core/src/catalogue.default.toml"))
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/wangge/target"))
    ap.add_argument("--wangge", default=os.path.join(target, "release", "wangge"))
    ap.add_argument("--repeat", type=int, default=7, help="runs per measurement (median), within --budget")
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of repeats per measurement")
    ap.add_argument("--skip", default="", help="comma-separated tools to leave out (networkx,pandana,wangge)")
    ap.add_argument("--keep", help="write P.csv, F.geojson and D.csv here instead of a temporary folder")
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))

    t = time.perf_counter()
    catalogue = load_catalogue(a.catalogue)
    loc, ways, fac_nodes, fac_ways = read_osm(a.osm, catalogue)
    node_ids, lonlat, ea, eb, ew, raw_edges = build_network(loc, ways)
    n = len(node_ids)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    _, comp = connected_components(csr_matrix((ew, (ea, eb)), shape=(n, n)), directed=False)
    islands = len(np.unique(comp)) - 1
    # Nodes whose exact coordinates another node shares are left out (a point there is ambiguous).
    _, inv, counts = np.unique(lonlat, axis=0, return_inverse=True, return_counts=True)
    unique = counts[inv.ravel()] == 1
    # Also leave out nodes at the exact position of another OSM node of a walkable way (an interior
    # vertex of a way not connected there): a point there lies on two unconnected ways.
    at = {}
    for _, refs in ways:
        for r in refs:
            if r in loc:
                at.setdefault(loc[r], set()).add(r)
    clash = np.array([len(at.get(loc[nid], ())) > 1 for nid in node_ids])
    print(f"nodes sharing their position with another way vertex: {int((clash & unique).sum())}", file=sys.stderr)
    unique &= ~clash
    points = np.flatnonzero(unique)
    xy = local_xy(lonlat)
    tree = cKDTree(xy[points])
    facilities = []  # (sid, category, node index)
    snap = []
    for sid, c, nid in fac_nodes:
        if nid in loc:
            p = np.array(loc[nid], dtype=np.int64) / 1e7
            facilities.append((sid, c, p))
    for sid, c, refs in fac_ways:
        if all(r in loc for r in refs):
            p = (np.array([loc[r] for r in refs[:-1]], dtype=np.int64) / 1e7).mean(axis=0)
            facilities.append((sid, c, p))
    placed = []
    if facilities:
        fxy = local_xy(np.vstack([lonlat, np.array([p for _, _, p in facilities])]))[n:]
        dist, idx = tree.query(fxy)
        for (sid, c, _), d, i in zip(facilities, dist, idx):
            placed.append((sid, c, int(points[i])))
            snap.append(d)
    sources = {}
    for _, c, k in placed:
        sources.setdefault(c, set()).add(k)
    order = [cid for cid, _ in catalogue if cid in sources]
    sources = {c: np.array(sorted(sources[c])) for c in order}
    mask = np.zeros(n, dtype=bool)
    mask[points] = True
    print(f"network: {n} nodes, {len(ea)} edges ({raw_edges} before merging parallel edges and dropping loops), "
          f"{islands} islands, {int((~unique).sum())} nodes sharing coordinates left out; "
          f"{sum(ew) / 1000:.1f} km", file=sys.stderr)
    print(f"facilities: {len(placed)} in {len(order)} categories, snapped to nodes (distinct source nodes: "
          f"{', '.join(f'{c} {len(s)}' for c, s in sources.items())}), "
          f"median snap {statistics.median(snap) if snap else 0:.1f} m; prepared in {time.perf_counter() - t:.2f} s",
          file=sys.stderr)

    rows = []
    prep, qt, ref = run_scipy(n, ea, eb, ew, sources, a)
    rows.append(("scipy", prep, qt, prep + sum(qt), (0.0, sum(int(np.isfinite(d[mask]).sum()) for d in ref.values()), 0), ""))
    if "networkx" not in skip:
        prep, qt, out = run_networkx(n, ea, eb, ew, sources, a)
        rows.append(("networkx", prep, qt, prep + sum(qt), agreement(ref, out, mask), ""))
    if "pandana" not in skip:
        with quiet_stdout():
            prep, qt, out = run_pandana(n, lonlat, ea, eb, ew, sources, a)
        rows.append(("pandana", prep, qt, prep + sum(qt), agreement(ref, out, mask), "float32, capped at 2,000 m"))
    if "wangge" not in skip:
        with tempfile.TemporaryDirectory() as tmp:
            work = a.keep or tmp
            os.makedirs(work, exist_ok=True)
            try:
                wall, prep, query, out = run_wangge(a.wangge, a.osm, node_ids, lonlat, points, placed, a, work)
                per = [query / len(order)] if query is not None and order else None
                rows.append(("wangge", prep, per, wall, agreement(ref, out, mask),
                             "preparation = graph + placing facilities and points; query = all categories in one "
                             "parallel pass ÷ categories; total = whole command incl. reading the PBF and writing the CSV"))
            except Exception as e:  # noqa: BLE001 - the peers' figures are still worth printing
                rows.append(("wangge", None, None, None, None, f"wangge circles nearest not available: {e}"))

    def s(x):
        return "–" if x is None else (f"{x:.4f}" if x < 1 else f"{x:.2f}")

    print(f"\nnearest facility per category for {len(points)} nodes × {len(order)} categories, horizon {HORIZON_M:.0f} m "
          f"(times: medians of up to {a.repeat} runs)\n")
    print("| tool | preparation s | query s per category (median) | total s | max abs diff vs scipy (m) | pairs compared | answered by one only | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, prep, qt, total, agr, note in rows:
        q = statistics.median(qt) if qt else None
        if agr is None:
            diff, both, one = "–", "–", "–"
        else:
            diff = "reference" if name == "scipy" else f"{agr[0]:.6f}"
            both, one = f"{agr[1]}", f"{agr[2]}"
        print(f"| {name} | {s(prep)} | {s(q)} | {s(total)} | {diff} | {both} | {one} | {note} |")
    for name, _, _, _, agr, _ in rows:
        if name == "wangge" and agr is not None:
            ok = agr[0] <= 0.001 and agr[2] == 0
            print(f"\nwangge agrees with scipy to the millimetre: {'yes' if ok else 'NO'}")
            return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
