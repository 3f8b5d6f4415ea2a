"""Full name <-> first/last name."""

from __future__ import annotations


def split_name(full: str) -> tuple[str, str]:
    """'John van der Berg' -> ('John', 'van der Berg'); 'Doe, John' -> ('John', 'Doe')."""
    text = " ".join(full.split())
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    first, _, last = text.partition(" ")
    return first, last


def join_name(first: str, last: str) -> str:
    """('John', 'Doe') -> 'John Doe', skipping empty parts."""
    return " ".join(part for part in (first.strip(), last.strip()) if part)
