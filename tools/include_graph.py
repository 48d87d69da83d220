#!/usr/bin/python3
"""The include graph of libmnsim's folders (docs/architecture.md).

usage: tools/include_graph.py [--check] [--check-doc] [--files] [--dot]
  (no option)  print each folder's layer and the folders it includes
  --files      also list the file-level includes behind each folder edge
  --dot        print the graph in Graphviz DOT instead
  --check      exit 1 (naming the offending includes) if a folder includes a folder of its own
               layer or above, or a folder not in the layer list; core includes only core
  --check-doc  exit 1 if docs/architecture.md's figure is not what this prints without options

The layers, lowest first: a folder may include folders of lower layers only. That rules out
folder-level include cycles and keeps core at the bottom.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Lowest first. Folders on one line share a layer and may not include each other.
LAYERS = [
    ["core"],       # errors, units, schema, scenario tables, random numbers, constants
    ["grid"],       # voxel grids and fields
    ["io"],         # files, output folders, checkpoints, cited data files, HDF5
    ["lesions"],    # scar and lesion shapes
    ["skin"],       # site atlas, layered skin profile, voxel tissue
    ["mechanics", "thermal"],  # needle penetration; RF heating and thermal damage
    ["devices"],    # rollers, pens, stamps, technique, punctures
    ["healing"],    # the healing model and its numerics
    ["outcomes"],   # scar remodelling, grading
    ["protocol"],   # treatment course, reduced model, cohorts, planner, validation
    ["report"],     # the HTML report
    ["run"],        # the composing layer: scenario root, stages of `mnsim run`, writers
    ["catalog"],    # what the scenario language can name (reads every module)
    ["serve"],      # `mnsim serve`: the consultation web app's server and requests
]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"')


def layer_of():
    return {f: i for i, group in enumerate(LAYERS) for f in group}


def scan():
    """{(from_folder, to_folder): [file -> header, ...]} for includes across folders."""
    edges = {}
    for folder in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".hpp", ".cpp")):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                for line in f:
                    m = INCLUDE.match(line)
                    if not m or m.group(1) in (folder, "mnsim"):  # mnsim/: generated version
                        continue
                    edges.setdefault((folder, m.group(1)), []).append(
                        f"{folder}/{name} -> {m.group(1)}/{m.group(2)}")
    return edges


def folders():
    return sorted(d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)))


def listing(edges, layer, files=False):
    out = []
    for f in sorted(folders(), key=lambda x: (layer.get(x, 99), x)):
        deps = sorted({b for (a, b) in edges if a == f}, key=lambda x: (layer.get(x, 99), x))
        out.append(f"{layer.get(f, '?'):>2} {f:<10} -> {', '.join(deps) if deps else '(nothing)'}")
        if files:
            for b in deps:
                for l in edges[(f, b)]:
                    out.append(f"      {l}")
    return "\n".join(out)


def check_doc(edges, layer):
    doc = os.path.join(ROOT, "..", "docs", "architecture.md")
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    want = ("<!-- BEGIN INCLUDE GRAPH (tools/include_graph.py) -->\n```\n" +
            listing(edges, layer) + "\n```\n<!-- END INCLUDE GRAPH -->")
    if want not in text:
        print("include_graph: docs/architecture.md's figure is stale: paste the output of "
              "tools/include_graph.py between its INCLUDE GRAPH markers", file=sys.stderr)
        return 1
    return 0


def main(argv):
    edges = scan()
    layer = layer_of()
    if "--check-doc" in argv and check_doc(edges, layer) != 0:
        return 1
    if "--check" in argv:
        bad = []
        for f in folders():
            if f not in layer:
                bad.append(f"src/{f}/ is not in tools/include_graph.py's LAYERS")
        for (a, b), lines in sorted(edges.items()):
            if a not in layer or b not in layer:
                continue
            if layer[b] >= layer[a]:
                for l in lines:
                    bad.append(f"{l}: {a} (layer {layer[a]}) includes {b} (layer {layer[b]})")
        for l in bad:
            print(f"include_graph: {l}", file=sys.stderr)
        print(f"include_graph: {len(folders())} folders, {len(edges)} folder edges, "
              f"{len(bad)} violations")
        return 1 if bad else 0
    if "--dot" in argv:
        print("digraph libmnsim {\n  rankdir=BT;\n  node [shape=box];")
        for i, group in enumerate(LAYERS):
            print("  { rank=same; " + " ".join(f'"{g}";' for g in group) + " }")
        for (a, b) in sorted(edges):
            print(f'  "{a}" -> "{b}";')
        print("}")
        return 0
    if "--check-doc" in argv:
        return 0
    print(listing(edges, layer, "--files" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
