"""Sphinx configuration of the skautoenc documentation.

Build with ``bash scripts/docs.sh`` from the repository root (add ``-D plot_gallery=0`` to
build without running the gallery examples).
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# the package of this checkout, also when another copy is installed; and the sort key below
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))

import skautoenc  # noqa: E402

project = "skautoenc"
author = "the skautoenc developers"
copyright = "the skautoenc developers"
release = skautoenc.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax served from the built site, not from a CDN: formulas render offline
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# pretraining_results.md is included into benchmarks.rst, training_results.rst and
# threads_results.rst into user_guide/training.rst, noise_levels_results.rst into
# user_guide/denoising.rst: not pages of their own
exclude_patterns = [
    "_build",
    "pretraining_results.md",
    "user_guide/training_results.rst",
    "user_guide/threads_results.rst",
    "user_guide/noise_levels_results.rst",
    # written by benchmarks/make_tables.py, included into benchmark_results.md
    "benchmark_tables/*",
]
default_role = "literal"

# -- API reference -------------------------------------------------------------------
autosummary_generate = True
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False

# -- links to other projects -----------------------------------------------------------
# Inventories shipped in docs/_intersphinx (written by docs/make_inventories.py): the build
# reaches them offline, and the links go to each project's published pages.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_intersphinx/sklearn.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "_intersphinx/numpy.inv"),
    "torch": ("https://docs.pytorch.org/docs/stable/", "_intersphinx/torch.inv"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", "_intersphinx/skorch.inv"),
    "joblib": ("https://joblib.readthedocs.io/en/stable/", "_intersphinx/joblib.inv"),
}

# -- gallery ---------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "ignore_pattern": r"/_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skautoenc",),
    "reference_url": {"skautoenc": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    # thumbnails drawn at twice sphinx-gallery's default, so that a figure is
    # recognisable at a laptop's width (docs/_static/skautoenc.css shows them larger)
    "thumbnail_size": (480, 360),
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skautoenc {release}"
html_static_path = ["_static"]
html_css_files = ["skautoenc.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "install": [], "benchmarks": []}
html_show_sourcelink = False
