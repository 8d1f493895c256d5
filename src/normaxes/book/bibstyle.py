"""The bibliography's style: author-year labels, and titles as their authors wrote them.

pybtex's ``alpha`` labels ("[WH18]", "[TensorFlowAContributors23]") tell a reader nothing, and its
``unsrt`` formatting lowercases every title after its first letter ("Aten/src/aten/..."). This
style labels each entry by its authors' last names and its year (``Wu & He 2018``,
``Ioffe & Szegedy 2015``, ``Santurkar et al. 2018``, ``PyTorch 2025a``), the letters telling apart
the works of one author in one year, and prints titles unchanged. ``_config.yml`` selects it with
``bibtex_default_style: normaxes`` (registered when :mod:`normaxes.book.sphinxext` is loaded).
"""

from __future__ import annotations

import re
import string
from collections import Counter, defaultdict

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle
from pybtex.style.template import field, sentence

__all__ = ["AuthorYearLabels", "AuthorYearSorting", "AuthorYearStyle", "label_of", "register"]


def _plain(text: str) -> str:
    """A BibTeX name or year without its braces and TeX escapes."""
    return re.sub(r"\s+", " ", re.sub(r"[{}\\]", "", text)).strip()


def _last(person) -> str:
    return _plain(" ".join(person.prelast_names + person.last_names)) or _plain(str(person))


def label_of(entry) -> str:
    """The label of *entry* without its disambiguating letter: ``Wu & He 2018``."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last(p) for p in people]
    others = len(names) > 1 and names[-1] == "others"  # BibTeX's "and others"
    if others:
        names = names[:-1]
    if not names:
        who = _plain(entry.fields.get("organization", "") or entry.fields.get("title", "?"))
    elif others or len(names) > 2:
        who = f"{names[0]} et al."
    elif len(names) == 1:
        who = names[0]
    else:
        who = f"{names[0]} & {names[1]}"
    year = _plain(entry.fields.get("year", "")) or "n.d."
    return f"{who} {year}"


class AuthorYearLabels(BaseLabelStyle):
    """``Author Year`` labels, with ``a``, ``b``, ... where one label would stand for several
    entries (in the order of the sorted bibliography)."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        bases = [label_of(e) for e in entries]
        counts = Counter(bases)
        used: dict[str, int] = defaultdict(int)
        for base in bases:
            if counts[base] == 1:
                yield base
            else:
                yield base + string.ascii_lowercase[used[base]]
                used[base] += 1


class AuthorYearSorting(BaseSortingStyle):
    """Entries in the order of their labels (authors, then year), then by title: the order a
    reader looks a label up in, persons and organisations alike."""

    def sorting_key(self, entry):
        return (label_of(entry).casefold(), _plain(entry.fields.get("title", "")).casefold())


class AuthorYearStyle(UnsrtStyle):
    """``unsrt`` with author-year labels, sorted by author, year and title, titles unchanged."""

    default_label_style = AuthorYearLabels
    default_sorting_style = AuthorYearSorting

    def format_title(self, e, which_field, as_sentence=True):
        title = field(which_field)  # as written: "ATen/src/ATen/...", "PyTorch", "GroupNorm"
        return sentence[title] if as_sentence else title


def register() -> None:
    """Make the style known to pybtex as ``normaxes`` (idempotent)."""
    register_plugin("pybtex.style.labels", "normaxes-author-year", AuthorYearLabels, force=True)
    register_plugin("pybtex.style.formatting", "normaxes", AuthorYearStyle, force=True)
