#!/usr/bin/env python3
"""Helpers of benches/load/run.sh (standard library only).

  loadlib.py tiles BASE LAYERS Z OUT        the fixed list of tile paths at zoom Z over the sample's
                                            buildings (bounds from /tiles/buildings.json), one a line
  loadlib.py points BASE N OUT_NEAREST OUT_RESPONSIBLE
                                            N building centres (every k-th building, by id) as
                                            /api/v1/nearest and /api/v1/responsible paths
  loadlib.py median LABEL FILE...           the median of wrk RESULT lines (one file per run)
  loadlib.py sizes BASE ZMIN ZMAX LIMIT_KB  every tile of every layer at ZMIN..ZMAX over the city:
                                            the largest per layer; exits 1 if one is over LIMIT_KB
"""
import gzip
import json
import math
import statistics
import sys
import urllib.error
import urllib.request


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(url):
    status, _, body = get(url)
    if status != 200:
        raise SystemExit(f"{url}: HTTP {status}: {body[:300]!r}")
    return json.loads(body)


def tile_range(bounds, z):
    """Columns and rows of the tiles at zoom z meeting [w, s, e, n] (degrees)."""
    w, s, e, n = bounds
    n_tiles = 2 ** z

    def col(lon):
        return min(n_tiles - 1, max(0, int((lon + 180.0) / 360.0 * n_tiles)))

    def row(lat):
        r = math.radians(max(-85.0511, min(85.0511, lat)))
        y = (1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0
        return min(n_tiles - 1, max(0, int(y * n_tiles)))

    return range(col(w), col(e) + 1), range(row(n), row(s) + 1)


def city_bounds(base):
    doc = get_json(f"{base}/tiles/buildings.json")
    return doc["bounds"]


def cmd_tiles(base, layers, z, out):
    z = int(z)
    xs, ys = tile_range(city_bounds(base), z)
    paths = [f"/tiles/{layers}/{z}/{x}/{y}.mvt" for x in xs for y in ys]
    with open(out, "w") as f:
        f.write("\n".join(paths) + "\n")
    print(len(paths))


def centre(geom):
    pts = []

    def walk(c):
        if isinstance(c[0], (int, float)):
            pts.append(c)
        else:
            for x in c:
                walk(x)

    walk(geom["coordinates"])
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def cmd_points(base, n, out_nearest, out_responsible):
    feats = get_json(f"{base}/api/v1/buildings?limit=20000")["features"]
    feats.sort(key=lambda f: str(f.get("id")))
    n = int(n)
    step = max(1, len(feats) // n)
    pts = [centre(f["geometry"]) for f in feats[::step][:n]]
    with open(out_nearest, "w") as f:
        f.writelines(f"/api/v1/nearest?lon={lon:.6f}&lat={lat:.6f}\n" for lon, lat in pts)
    with open(out_responsible, "w") as f:
        f.writelines(f"/api/v1/responsible?lon={lon:.6f}&lat={lat:.6f}\n" for lon, lat in pts)
    print(len(pts))


def cmd_median(label, *files):
    runs = []
    for path in files:
        with open(path) as f:
            for line in f:
                if line.startswith("RESULT "):
                    runs.append(dict(kv.split("=") for kv in line.split()[1:]))
    if not runs:
        print(f"{label:<34} no result")
        return
    med = {k: statistics.median(float(r[k]) for r in runs) for k in ("rps", "p50_ms", "p99_ms")}
    errors = sum(int(r["socket_errors"]) + int(r["http_errors"]) for r in runs)
    spread = ", ".join(f"{float(r['rps']):.0f}" for r in runs)
    # Bytes per answer (headers included): the same tiles from two servers should weigh alike.
    kb = statistics.median(int(r["bytes"]) / max(1, int(r["requests"])) / 1024 for r in runs)
    print(
        f"{label:<34} {med['rps']:>9.0f} req/s   p50 {med['p50_ms']:>7.3f} ms   p99 {med['p99_ms']:>7.3f} ms"
        f"   {kb:>6.1f} KB/answer   errors {errors}   (runs: {spread} req/s)"
    )


def cmd_sizes(base, zmin, zmax, limit_kb):
    bounds = city_bounds(base)
    style = get_json(f"{base}/style.json")
    layers = sorted(style["sources"].keys())
    worst = 0
    print(f"city bounds {bounds}")
    for layer in layers:
        largest = (0, 0, None)
        count = 0
        for z in range(int(zmin), int(zmax) + 1):
            xs, ys = tile_range(bounds, z)
            for x in xs:
                for y in ys:
                    status, headers, body = get(f"{base}/tiles/{layer}/{z}/{x}/{y}.mvt")
                    if status not in (200, 204):
                        raise SystemExit(f"{layer} {z}/{x}/{y}: HTTP {status}: {body[:200]!r}")
                    count += 1
                    if len(body) > largest[0]:
                        largest = (len(body), len(gzip.compress(body)), f"{z}/{x}/{y}")
        worst = max(worst, largest[0])
        print(
            f"  {layer:<12} {count:>5} tiles at z{zmin}-{zmax}, largest {largest[0] / 1024:>8.1f} KB"
            f" ({largest[1] / 1024:.1f} KB gzip) at {largest[2]}"
        )
    verdict = "OK" if worst < int(limit_kb) * 1024 else "OVER"
    print(f"largest tile {worst / 1024:.1f} KB (limit {limit_kb} KB): {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    sys.exit({"tiles": cmd_tiles, "points": cmd_points, "median": cmd_median, "sizes": cmd_sizes}[cmd](*args) or 0)
