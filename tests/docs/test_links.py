"""The design documents' relative links and #anchors point at things that exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["docs/README.md", "docs/design.md", "docs/assumptions.md", "docs/deploy.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def heading_anchors(markdown: str) -> set[str]:
    """GitHub-style anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for title in re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def relative_links(path: Path) -> list[str]:
    return [t for t in LINK.findall(path.read_text(encoding="utf-8")) if "://" not in t]


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists() or (
            anchor
            and resolved.suffix == ".md"
            and anchor not in heading_anchors(resolved.read_text(encoding="utf-8"))
        ):
            broken.append(target)
    return broken


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_resolve(doc: str) -> None:
    assert broken_links(ROOT / doc) == []


def test_checker_reports_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Real heading\n", encoding="utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](other.md#real-heading) [gone](missing.md) [bad](other.md#nope) "
        "[web](https://example.org/x)\n",
        encoding="utf-8",
    )
    assert broken_links(doc) == ["missing.md", "other.md#nope"]


def test_anchor_slugs_follow_github_rules() -> None:
    assert heading_anchors("## 9. Local mode\n### 1.2 Ingestion: A vs B\n") == {
        "9-local-mode",
        "12-ingestion-a-vs-b",
    }
