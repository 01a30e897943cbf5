"""The citation markers answers carry: [n], [n, m], and their fullwidth variants 【n】 ［n］.

One definition for everything that reads or strips them (answers, claims, numbers).
"""

from __future__ import annotations

import re

CITATION = re.compile(r"\[(\d+(?:\s*[,、，]\s*\d+)*)\]")
LEADING_CITATIONS = re.compile(r"^\s*(?:\[\d+(?:\s*[,、，]\s*\d+)*\]\s*)+")
BRACKET_VARIANTS = str.maketrans({"【": "[", "】": "]", "［": "[", "］": "]"})


def parse_citations(text: str) -> list[int]:
    """Passage numbers cited as [n], [n, m] or fullwidth brackets, in order of first appearance."""
    numbers: list[int] = []
    for match in CITATION.finditer(text.translate(BRACKET_VARIANTS)):
        for part in re.split(r"\s*[,、，]\s*", match.group(1)):
            n = int(part) if len(part) <= 9 else 0  # passages count from 1; a long run of digits cites none
            if n and n not in numbers:
                numbers.append(n)
    return numbers
