"""The corpus-level fast path of the Python PTB tokenizer (plain lines, a few passes over the whole input)
against the exact per-caption path it replaces for those lines, on hypothesis-generated caption lists."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.metrics import ptb_tokenizer as ptb
from evalkit.metrics.ptb_tokenizer import ABBREVIATIONS, CASE_SENSITIVE_ABBREVIATIONS, SENTENCE_STARTERS, SPLIT_WORDS

#: words of every kind the fast path treats apart: abbreviations (case-sensitive ones too), one-letter words,
#: digits, split words (and words that contain one), sentence starters, in three cases
WORDS = sorted({*ABBREVIATIONS, *CASE_SENSITIVE_ABBREVIATIONS, *SPLIT_WORDS, *SENTENCE_STARTERS, *"abcxyzAIT57",
                "dog", "man", "42", "1990s", "wannabe", "canno", "etc", "x1", "ab"})
WORD = st.tuples(st.sampled_from(WORDS), st.sampled_from(["same", "capital", "upper"])).map(
    lambda t: t[0] if t[1] == "same" else t[0].capitalize() if t[1] == "capital" else t[0].upper())
BLANKS = st.sampled_from(["", "", "", " ", "\t", "  ", " \t", "\u00a0"])
PLAINISH = st.tuples(BLANKS, st.lists(WORD, max_size=6), st.sampled_from(["", ".", ".", "..", " .", ",", "!"]),
                     BLANKS).map(lambda t: t[0] + " ".join(t[1]) + t[2] + t[3])
OTHER = st.sampled_from(["", " ", "A dog's toy.", "Mr. Smith", "caf\u00e9 x.", "\u212a dog.", "a\nb.", "x  y.",
                         "with a. The dog", "3 1/2 cups.", "The", "THE end", "at&t's", "\u00a0A man."])
CAPTIONS = st.lists(st.one_of(PLAINISH, PLAINISH, PLAINISH, OTHER), min_size=1, max_size=40)


def exact(captions: list[str]) -> list[str]:
    """The per-caption path: each line with what follows it in the jar's input."""
    lines = [c.replace("\n", " ") for c in captions]
    return [ptb.tokenize_caption(line, ptb._following(lines, i)) for i, line in enumerate(lines)]


@settings(max_examples=200, deadline=None)
@given(CAPTIONS)
def test_plain_lines_equal_the_exact_path(captions):
    assert ptb._tokenize_python(captions, fallback=False) == exact(captions)


@settings(max_examples=150, deadline=None)
@given(CAPTIONS)
def test_plain_lines_are_guaranteed(captions):
    """The fast path skips guaranteed() for the lines it takes: each must be one guaranteed() accepts."""
    lines = [c.replace("\n", " ") for c in captions]
    for line, tokens in zip(lines, ptb._tokenize_plain_lines(lines)):
        if tokens is not None:
            assert ptb.guaranteed(line), line


def test_plain_line_examples():
    lines = ["A man riding a horse.", " The dog  ", "with a.", "gonna go", "x etc.", "x del.", "Two 5.", "",
             "\u212a dog.", "ab Cd."]
    assert ptb._tokenize_plain_lines(lines) == ["a man riding a horse", "the dog", None, None, "x etc.", None,
                                                "two 5", None, None, "ab cd"]
