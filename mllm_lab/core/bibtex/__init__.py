"""Paper exchange with BibTeX: read a .bib file into facts, plan what importing them changes in
a lab, write papers back out as BibTeX. Pure: no file or network access."""

from mllm_lab.core.bibtex.export import bibtex_key, export_bibtex
from mllm_lab.core.bibtex.parse import OTHERS, BibEntry, Problem, decode_latex, parse_bibtex
from mllm_lab.core.bibtex.plan import Action, Planned, plan_import
from mllm_lab.core.slugs import short_key as new_key

__all__ = [
    "OTHERS",
    "Action",
    "BibEntry",
    "Planned",
    "Problem",
    "bibtex_key",
    "decode_latex",
    "export_bibtex",
    "new_key",
    "parse_bibtex",
    "plan_import",
]
