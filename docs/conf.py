"""Sphinx configuration for the skser documentation site.

Build offline, with warnings as errors, from the repository root::

    python -m sphinx -W -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import skser  # noqa: E402

project = "skser"
author = "The skser developers"
copyright = "The skser developers, BSD-3-Clause"
version = release = skser.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: GitHub-style Markdown as the pages are written for GitHub too.
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# autodoc / numpydoc.  No intersphinx: the site builds offline.
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "groupwise"
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# The pages link to repository files outside docs/ (benchmarks/, README.md) and
# to ../shared paths; those are plain links on GitHub, not documents here.
suppress_warnings = ["myst.xref_missing", "myst.header"]

html_theme = "alabaster"
html_title = f"skser {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "Speech emotion recognition for scikit-learn"}


def _skip_metadata_request_setters(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated ``set_*_request`` methods: their docstrings
    point into scikit-learn's own site, which an offline build cannot link."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_setters)
