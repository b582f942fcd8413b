"""A readable difference between two policy texts, paragraph by paragraph and word by word.

The result is data, not HTML: the template shows removed words as <del> and added ones as <ins>,
each with a label a screen reader speaks, so the difference is not carried by colour alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# below this similarity two paragraphs are shown as one removed and one added, not as an edit
_EDIT_SIMILARITY = 0.4
_TOKEN = re.compile(r"\s+|[^\s]+")


@dataclass
class Segment:
    kind: str  # same | added | removed
    text: str


@dataclass
class Block:
    kind: str  # same | added | removed | changed
    paragraphs: list[str] = field(default_factory=list)  # same/added/removed
    segments: list[Segment] = field(default_factory=list)  # changed


@dataclass
class PolicyDiff:
    blocks: list[Block]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"changed": 0, "added": 0, "removed": 0}
        for block in self.blocks:
            if block.kind == "changed":
                counts["changed"] += 1
            elif block.kind in counts:
                counts[block.kind] += len(block.paragraphs)
        return counts

    @property
    def identical(self) -> bool:
        return all(block.kind == "same" for block in self.blocks)


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs (separated by blank lines), each on one line."""
    return [" ".join(part.split()) for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def words_diff(old: str, new: str) -> list[Segment]:
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            _append(segments, "same", "".join(a[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            _append(segments, "removed", "".join(a[i1:i2]))
        if tag in ("insert", "replace"):
            _append(segments, "added", "".join(b[j1:j2]))
    return segments


def _append(segments: list[Segment], kind: str, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].kind == kind:
        segments[-1].text += text
    else:
        segments.append(Segment(kind, text))


def _add(blocks: list[Block], kind: str, paragraph: str) -> None:
    if blocks and blocks[-1].kind == kind and kind != "changed":
        blocks[-1].paragraphs.append(paragraph)
    else:
        blocks.append(Block(kind, [paragraph]))


def compare(old_text: str, new_text: str) -> PolicyDiff:
    """What changed from `old_text` to `new_text`."""
    a, b = paragraphs(old_text), paragraphs(new_text)
    blocks: list[Block] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            for paragraph in a[i1:i2]:
                _add(blocks, "same", paragraph)
        elif tag == "delete":
            for paragraph in a[i1:i2]:
                _add(blocks, "removed", paragraph)
        elif tag == "insert":
            for paragraph in b[j1:j2]:
                _add(blocks, "added", paragraph)
        else:
            old, new = a[i1:i2], b[j1:j2]
            for index in range(max(len(old), len(new))):
                before = old[index] if index < len(old) else None
                after = new[index] if index < len(new) else None
                if before is not None and after is not None and \
                        SequenceMatcher(a=before.split(), b=after.split(), autojunk=False).ratio() >= _EDIT_SIMILARITY:
                    blocks.append(Block("changed", segments=words_diff(before, after)))
                    continue
                if before is not None:
                    _add(blocks, "removed", before)
                if after is not None:
                    _add(blocks, "added", after)
    return PolicyDiff(blocks)
