#!/usr/bin/env python3
"""Checks the documentation against the tree: every relative link and #anchor in README.md, docs/ and the
runbooks resolves, and every repository path a page names in backticks (bench/…, drills/…, tools/…,
k8s-free-deploy/…, docs/…, demo-app/…, .ci/…) exists. A renamed script or a moved section then fails CI
instead of leaving a reader at a dead end. Standard library only."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "k8s-free-deploy" / "runbooks").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_PATH = re.compile(r"`((?:bench|drills|tools|k8s-free-deploy|docs|demo-app|policies|\.ci)/[A-Za-z0-9._/-]+)")
FENCE = re.compile(r"^```")


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page):
    found, seen, fenced = set(), {}, False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            found.add(s if n == 0 else f"{s}-{n}")
    return found


def main():
    problems = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        rel = page.relative_to(ROOT)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                problems.append(f"{rel}: link to {target}: {path} does not exist")
                continue
            if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(f"{rel}: link to {target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
        for named in CODE_PATH.findall(text):
            candidate = named.rstrip(".,:;")
            if "*" in candidate or "<" in candidate:
                continue
            if not (ROOT / candidate).exists():
                problems.append(f"{rel}: names `{candidate}`, which does not exist")
    for p in problems:
        print(p)
    print(f"check-docs: {len(PAGES)} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
