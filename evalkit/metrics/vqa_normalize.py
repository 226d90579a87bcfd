"""The VQA answer normalisation rules of the official ``vqaEval.py`` (GT-Vision-Lab/VQA @a013f00).

The rules are reproduced quirks included, because they decide which answers match:
- punctuation is deleted when it touches a space (or anywhere when the text has a digit-comma-digit),
  else replaced by a space; the condition looks at the *original* text for every mark;
- the period regex ``(?!<=\\d)(\\.)(?!\\d)`` has a malformed look-behind (a look-ahead for the
  literal ``<=``), so it deletes every period not followed by a digit; and ``re.UNICODE`` (32) is
  passed as ``count``, so at most 32 periods are deleted;
- number words zero..ten and "none" become digits, articles are dropped, then contractions are
  restored ("dont" → "don't"; the capitalised keys never match after lower-casing, as in the original).
Semantics are those of the script under Python 3 (``\\d`` also matches non-ASCII digits).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

PUNCTUATION: tuple[str, ...] = (
    ";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!",
)
NUMBER_WORDS: dict[str, str] = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ARTICLES: frozenset[str] = frozenset({"a", "an", "the"})
CONTRACTIONS: dict[str, str] = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't", "dont":
    "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't", "havent":
    "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's", "howd": "how'd", "howll":
    "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm", "Ive": "I've", "isnt":
    "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's", "maam":
    "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve":
    "might've", "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've", "oclock":
    "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at",
    "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", "somebody'd":
    "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", "somebodyll": "somebody'll",
    "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve":
    "someone'd've", "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd",
    "somethingd've": "something'd've", "something'dve": "something'd've", "somethingll": "something'll",
    "thats": "that's", "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere":
    "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
    "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've":
    "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre":
    "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres":
    "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl":
    "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's", "wont":
    "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've", "wouldn'tve":
    "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've",
    "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've", "you'dve":
    "you'd've", "youll": "you'll", "youre": "you're", "youve": "you've"
}

_DIGIT_COMMA_DIGIT = re.compile(r"(\d)(,)(\d)")
_PERIOD = re.compile(r"(?!<=\d)(\.)(?!\d)")
_MARKS = "".join(PUNCTUATION)
_ANY_MARK = re.compile("[" + re.escape(_MARKS) + ".]")
#: a mark with a space on either side: the official loop deletes that mark everywhere, else spaces it
_MARK_BY_SPACE = re.compile("[{0}](?= )|(?<= )[{0}]".format(re.escape(_MARKS)))
_MARKS_SPACED = str.maketrans(_MARKS, " " * len(_MARKS))
_MARKS_DELETED = str.maketrans("", "", _MARKS)
#: lower-case ASCII words of letters and digits joined by single spaces: no punctuation rule applies,
#: and ``processDigitArticle`` re-joins them unchanged unless one is a special word
_PLAIN = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
#: the official call is ``periodStrip.sub("", text, re.UNICODE)``: the flag lands in ``count``
_PERIOD_COUNT = int(re.UNICODE)


def clean_whitespace(text: str) -> str:
    """Newlines and tabs become spaces, then the ends are stripped (applied to every answer)."""
    return text.replace("\n", " ").replace("\t", " ").strip()


def strip_punctuation(text: str) -> str:
    """The official ``processPunctuation``, its per-mark loop as one ``str.translate``.

    Each mark's fate depends only on the original text and a replacement never makes or removes
    another mark, so the official sequential replaces equal one translation.
    """
    if _ANY_MARK.search(text) is None:  # most answers: nothing to replace or delete
        return text
    if _DIGIT_COMMA_DIGIT.search(text) is not None:
        out = text.translate(_MARKS_DELETED)
    else:
        deleted = _MARK_BY_SPACE.findall(text)
        out = text.translate({**_MARKS_SPACED, **dict.fromkeys(map(ord, deleted))} if deleted else _MARKS_SPACED)
    return _PERIOD.sub("", out, _PERIOD_COUNT)


#: words that processDigitArticle changes or drops (number words, articles, contraction keys)
_SPECIAL_WORDS: frozenset[str] = frozenset(NUMBER_WORDS) | ARTICLES | frozenset(CONTRACTIONS)


def digits_and_articles(text: str) -> str:
    """The official ``processDigitArticle``: lower-case, number words → digits, no articles, contractions."""
    if text.isalnum() and text == text.lower():  # one lower-case word, the common case
        word = NUMBER_WORDS.get(text, text)
        return "" if word in ARTICLES else CONTRACTIONS.get(word, word)
    lowered = text.lower().split()
    if _SPECIAL_WORDS.isdisjoint(lowered):  # nothing to map: the words re-joined by single spaces
        return " ".join(lowered)
    words = (NUMBER_WORDS.get(word, word) for word in lowered)
    return " ".join(CONTRACTIONS.get(word, word) for word in words if word not in ARTICLES)


@lru_cache(maxsize=1 << 20)
def normalize_answer(text: str) -> str:
    """Full normalisation of an already whitespace-cleaned answer (used when the humans disagree)."""
    if _PLAIN.fullmatch(text) is not None and _SPECIAL_WORDS.isdisjoint(text.split(" ")):
        return text  # most answers: provably unchanged by both steps
    return digits_and_articles(strip_punctuation(text))


def normalize_answers(texts: Iterable[str]) -> list[str]:
    """:func:`normalize_answer` of distinct answers, uncached: filling the cache would cost more than the rules."""
    return list(map(normalize_answer.__wrapped__, texts))
