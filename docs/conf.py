"""The documentation site: `make docs` builds it with Sphinx into docs/_build/html.

The pages are Markdown (MyST), readable as they are on a code host; warnings are errors, both in
`make docs` and in `make test` (tests/test_docs.py builds it).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

_project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]

project = _project["name"]
author = "the linked-accounts authors"
project_copyright = author
release = version = _project["version"]

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# Only the pages: the build's output, and nothing else in docs/ is a Markdown page (openapi.yaml,
# benchmark.json and the pictures are files the pages link to or show).
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# `page.md#a-heading` links, as on a code host; <img> tags (the pictures with a width) become
# images Sphinx copies and checks.
myst_heading_anchors = 3
myst_enable_extensions = ["html_image"]

html_theme = "alabaster"
html_title = "linked-accounts"
html_theme_options = {
    "description": "A self-service linked-accounts settings page for apps that sign in with Auth0.",
    "page_width": "1100px",
    "sidebar_collapse": True,
}
