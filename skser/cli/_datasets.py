"""``skser datasets``: the corpora skser knows, which are present where, how to get the rest."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ._common import CORPORA, data_home, find_copies

__all__ = ["add_datasets_parser", "run_datasets"]


def add_datasets_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``skser datasets`` to the sub-command parsers ``commands``."""
    parser = commands.add_parser(
        "datasets",
        help="list the corpora skser reads, which copies are present, how to get the rest",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "For every corpus skser has a loader for, list the copies found at or\n"
            "directly below the data home (--data-home, else $SKSER_DATA, else\n"
            "~/skser_data) with their file counts, and for absent corpora how to get\n"
            "them (a fetcher, or the licence page). Nothing is downloaded or created."
        ),
    )
    parser.add_argument("--data-home", metavar="DIR", type=Path, default=None,
                        help="where to look (default: $SKSER_DATA or ~/skser_data)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="output format (default: table)")
    parser.set_defaults(run=run_datasets)
    return parser


def run_datasets(args: argparse.Namespace) -> int:
    """Run ``skser datasets``; return the exit status."""
    from ..datasets._fetch import DATA_HOME_ENV

    home = data_home(args)
    source = ("--data-home" if args.data_home else f"${DATA_HOME_ENV}"
              if os.environ.get(DATA_HOME_ENV) else "default")
    entries = []
    for name, corpus in CORPORA.items():
        copies = find_copies(home, name)
        entries.append({
            "name": name, "title": corpus.title, "loader": f"skser.datasets.{corpus.loader}",
            "fetcher": corpus.fetcher and f"skser.datasets.{corpus.fetcher}",
            "copies": [{"path": str(p), "files": n} for p, n in copies],
            "how_to_get": corpus.how_to_get,
        })
    if args.format == "json":
        json.dump({"data_home": str(home), "data_home_from": source,
                   "exists": home.is_dir(), "corpora": entries}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    state = "" if home.is_dir() else " (does not exist)"
    print(f"Data home: {home} ({source}){state}")
    print("A corpus name below is a valid DATA for `skser train` and `skser evaluate`.\n")
    width = max(map(len, CORPORA))
    for entry in entries:
        print(f"{entry['name']:<{width}}  {entry['title']}")
        if entry["copies"]:
            for i, copy in enumerate(entry["copies"]):
                used = "  (used)" if i == 0 else ""
                print(f"{'':<{width}}  present: {copy['path']} ({copy['files']} "
                      f"files){used}")
        else:
            print(f"{'':<{width}}  absent; {entry['how_to_get']}")
    return 0
