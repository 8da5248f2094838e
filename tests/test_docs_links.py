"""Every relative link and image in README.md and docs/ names a file of the repository (docs move; links
must follow)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "cluster").glob("*.md"))]


def test_every_relative_link_of_the_docs_names_an_existing_file():
    broken = []
    for doc in _documents():
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL or an anchor of the same page
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert len(_documents()) > 5 and not broken, broken


def test_the_readme_stays_short_and_generated_results_live_under_docs_results():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
    generated = [p.name for p in (ROOT / "docs").iterdir() if p.suffix in (".json", ".png")]
    assert generated == [], f"benchmark outputs belong in docs/results/: {generated}"
