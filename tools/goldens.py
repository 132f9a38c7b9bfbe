"""Writing golden files: what the fixture generators (make_server_fixtures.py,
make_tutorial_goldens.py) share. The versions of the libraries that produced the values go in
with them, under "generator"."""
import json
import os

import tokenizers
import torch
import transformers


def write_goldens(path, script, sections):
    """Writes {"generator": …, **sections} to `path` as compact UTF-8 JSON (no rounding)."""
    golden = {"generator": {"script": script, "torch": torch.__version__,
                            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}}
    golden.update(sections)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
