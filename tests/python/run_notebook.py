"""Executes an example notebook headless, as a user would with
``jupyter nbconvert --to notebook --execute``, and checks it: the repository's copy holds no
outputs, every cell ran without an error, and it drew a figure.

usage: run_notebook.py NOTEBOOK OUT_DIR   (the results go to OUT_DIR/results: MNSIM_RESULTS)
"""

import json
import os
import subprocess
import sys
import time


def main():
    notebook, out_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(notebook, encoding="utf-8") as f:
        nb = json.load(f)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
            sys.exit(f"{notebook}: cell {i + 1} has stored outputs (strip them: jupyter nbconvert "
                     "--clear-output --inplace NOTEBOOK)")
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ, MNSIM_RESULTS=os.path.join(out_dir, "results"),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    name = os.path.splitext(os.path.basename(notebook))[0] + ".executed"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                        "--execute", "--ExecutePreprocessor.timeout=300",
                        "--ExecutePreprocessor.kernel_name=python3", "--output-dir", out_dir,
                        "--output", name, notebook], env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"jupyter nbconvert --execute failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    with open(os.path.join(out_dir, name + ".ipynb"), encoding="utf-8") as f:
        done = json.load(f)
    images = 0
    for i, cell in enumerate(done["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                sys.exit(f"cell {i + 1}: {out.get('ename')}: {out.get('evalue')}")
            images += "image/png" in out.get("data", {})
    if images == 0:
        sys.exit("the notebook drew no figure")
    print(f"{notebook}: executed in {took:.1f} s, {images} figure(s); "
          f"{os.path.join(out_dir, name + '.ipynb')}")


if __name__ == "__main__":
    main()
