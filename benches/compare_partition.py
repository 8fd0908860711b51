#!/usr/bin/env python3
"""Side-by-side grid partitioning: wangge against PySAL spopt max-p and METIS (pymetis).

Every tool gets the same buildings (a synthetic city made by `wangge synth`, all as one area) and
the same quota; every result is measured the same way here:
  grids, share of grids within min..max, share of contiguous grids (in the buildings' Delaunay
  graph), mean Polsby-Popper of the grids (Voronoi cells of the buildings dissolved per grid),
  and wall time of the tool's own solve (wangge: the whole `wangge partition` command, reading,
  polygons and writing included).

Contiguity is measured for every tool in one graph (the Delaunay triangulation of building
centroids, which is also what max-p and METIS are given). wangge reads its adjacency from a mesh of
the buildings' footprints, so two buildings whose walls face each other count as neighbours even
when their centroids are not Delaunay neighbours; the row under wangge gives its own measure and
whether every grid came out as one polygon.

Set-up (once):  python3 -m venv ~/.cache/wangge/pyenv && ~/.cache/wangge/pyenv/bin/pip install -r benches/requirements.txt
Run:            ~/.cache/wangge/pyenv/bin/python benches/compare_partition.py \
                    --wangge $CARGO_TARGET_DIR/release/wangge --sizes 400,2000,20000,100000
max-p gets --maxp-timeout seconds per size (default 600) and is skipped above --maxp-max buildings.
"""

import argparse
import json
import math
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def load_buildings(path):
    with open(path, encoding="utf-8") as f:
        fc = json.load(f)
    ids, xy, hh = [], [], []
    for feat in fc["features"]:
        g = feat["geometry"]
        if g["type"] == "Point":
            x, y = g["coordinates"][:2]
        else:
            ring = g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]
            x = sum(c[0] for c in ring[:-1]) / (len(ring) - 1)
            y = sum(c[1] for c in ring[:-1]) / (len(ring) - 1)
        ids.append(str(feat.get("id") or feat["properties"]["id"]))
        xy.append((x, y))
        hh.append(int(feat["properties"]["households"]))
    xy = np.array(xy)
    lat0 = math.radians(xy[:, 1].mean())
    metric = np.column_stack([xy[:, 0] * 111_320.0 * math.cos(lat0), xy[:, 1] * 110_574.0])
    return ids, metric, np.array(hh)


def delaunay_neighbours(xy):
    from scipy.spatial import Delaunay

    tri = Delaunay(xy)
    nb = [set() for _ in range(len(xy))]
    for s in tri.simplices:
        for i in range(3):
            for j in range(3):
                if i != j:
                    nb[s[i]].add(int(s[j]))
    return [sorted(n) for n in nb]


def measure(labels, xy, hh, nb, lo, hi):
    import shapely
    from shapely.geometry import MultiPoint

    labels = np.asarray(labels)
    regions = sorted(set(labels.tolist()))
    per = {r: int(hh[labels == r].sum()) for r in regions}
    within = sum(1 for r in regions if lo <= per[r] <= hi) / len(regions)
    contiguous = 0
    for r in regions:
        members = np.flatnonzero(labels == r)
        seen, stack = {members[0]}, [members[0]]
        mset = set(members.tolist())
        while stack:
            a = stack.pop()
            for b in nb[a]:
                if b in mset and b not in seen:
                    seen.add(b)
                    stack.append(b)
        contiguous += len(seen) == len(members)
    hull = MultiPoint(xy).convex_hull.buffer(30.0)
    cells = shapely.voronoi_polygons(MultiPoint(xy), extend_to=hull)
    # voronoi_polygons returns cells in arbitrary order: match each cell to the point inside it.
    tree = shapely.STRtree(shapely.points(xy))
    owner = np.full(len(cells.geoms), -1)
    for ci, cell in enumerate(cells.geoms):
        hit = tree.query(cell, predicate="contains")
        if len(hit):
            owner[ci] = hit[0]
    pps = []
    for r in regions:
        polys = [cells.geoms[ci].intersection(hull) for ci in range(len(owner)) if owner[ci] >= 0 and labels[owner[ci]] == r]
        u = shapely.union_all(polys)
        if u.length > 0:
            pps.append(4 * math.pi * u.area / (u.length ** 2))
    return {
        "grids": len(regions),
        "within_quota": within,
        "contiguous": contiguous / len(regions),
        "pp_mean": float(np.mean(pps)) if pps else float("nan"),
        "hh_min": min(per.values()),
        "hh_max": max(per.values()),
    }


def run_maxp(xy, hh, lo, queue):
    import geopandas as gpd
    import libpysal
    from shapely.geometry import Point
    from spopt.region import MaxPHeuristic

    gdf = gpd.GeoDataFrame({"households": hh, "x": xy[:, 0], "y": xy[:, 1]}, geometry=[Point(p) for p in xy])
    w = libpysal.weights.Voronoi(xy)
    t = time.perf_counter()
    model = MaxPHeuristic(gdf, w, ["x", "y"], "households", lo, top_n=2)
    model.solve()
    queue.put((time.perf_counter() - t, list(model.labels_)))


def run_metis(nb, hh, target):
    import pymetis

    k = max(1, int(round(hh.sum() / target)))
    t = time.perf_counter()
    _, parts = pymetis.part_graph(k, adjacency=nb, vweights=[int(h) for h in hh])
    return time.perf_counter() - t, parts


def run_wangge(binary, buildings, lo, hi, target, workdir):
    out = os.path.join(workdir, "grids.geojson")
    asg = os.path.join(workdir, "assignment.csv")
    rep = os.path.join(workdir, "report.json")
    t = time.perf_counter()
    subprocess.run(
        [binary, "partition", "--buildings", buildings, "--min", str(lo), "--max", str(hi), "--target", str(target),
         "--out", out, "--assignment", asg, "--report", rep],
        check=True, stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - t
    grid_of = {}
    with open(asg, encoding="utf-8") as f:
        next(f)
        for line in f:
            b, unit, g = line.rstrip("\n").split(",")
            grid_of.setdefault(b, g)  # a building split by units: count it with its first unit's grid
    with open(rep, encoding="utf-8") as f:
        own = json.load(f)
    with open(out, encoding="utf-8") as f:
        single = all(feat["geometry"]["type"] == "Polygon" for feat in json.load(f)["features"])
    contiguous = min(r["contiguous_share"] for r in own.values())
    infeasible = sum(len(r["infeasible"]) for r in own.values())
    unproven = sum(len(r["infeasible"]) for r in own.values() if not r.get("infeasibility_proven"))
    return elapsed, grid_of, {"own_contiguous": contiguous, "single_polygons": single, "flagged": infeasible,
                              "unproven": unproven}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wangge", required=True)
    ap.add_argument("--sizes", default="400,2000,20000")
    ap.add_argument("--min", type=int, default=300)
    ap.add_argument("--max", type=int, default=500)
    ap.add_argument("--target", type=int, default=400)
    ap.add_argument("--maxp-timeout", type=int, default=600)
    ap.add_argument("--maxp-max", type=int, default=2000)
    a = ap.parse_args()
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([a.wangge, "synth", "--buildings", str(n), "--seed", "1", "--out", d], check=True,
                           stdout=subprocess.DEVNULL)
            bpath = os.path.join(d, "buildings.geojson")
            ids, xy, hh = load_buildings(bpath)
            nb = delaunay_neighbours(xy)
            secs, grid_of, own = run_wangge(a.wangge, bpath, a.min, a.max, a.target, d)
            labels = [grid_of[i] for i in ids]
            m = measure(labels, xy, hh, nb, a.min, a.max)
            m["own"] = own
            rows.append(("wangge", n, secs, m))
            secs, parts = run_metis(nb, hh, a.target)
            rows.append(("METIS", n, secs, measure(parts, xy, hh, nb, a.min, a.max)))
            if n <= a.maxp_max:
                q = mp.Queue()
                p = mp.Process(target=run_maxp, args=(xy, hh, a.min, q))
                p.start()
                p.join(a.maxp_timeout)
                if p.is_alive():
                    p.terminate()
                    rows.append(("spopt max-p", n, None, None))
                else:
                    secs, labels = q.get()
                    rows.append(("spopt max-p", n, secs, measure(labels, xy, hh, nb, a.min, a.max)))
        print_table(rows, a)
    return 0


def print_table(rows, a):
    print(f"\nquota {a.min}..{a.max}, target {a.target}")
    print("| tool | buildings | time s | grids | within quota | contiguous (centroid Delaunay) | mean Polsby-Popper (Voronoi) | households min..max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for tool, n, secs, m in rows:
        if m is None:
            print(f"| {tool} | {n} | > {a.maxp_timeout} (stopped) | | | | | |")
            continue
        print(f"| {tool} | {n} | {secs:.3f} | {m['grids']} | {m['within_quota']:.1%} | {m['contiguous']:.1%} | "
              f"{m['pp_mean']:.3f} | {m['hh_min']}..{m['hh_max']} |")
        if "own" in m:
            o = m["own"]
            print(f"|  | (wangge's own adjacency: {o['own_contiguous']:.1%} contiguous; every grid one polygon: "
                  f"{'yes' if o['single_polygons'] else 'NO'}; grids flagged as not meeting the quota: {o['flagged']}, of which not proven infeasible: {o['unproven']}) | | | | | | |")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
