"""Hypothesis strategies for VQA answers that exercise every normalisation rule of ``vqaEval.py``."""
from __future__ import annotations

from hypothesis import strategies as st

TOKENS = [
    "two", "Two", "TWO", "2", "none", "None", "zero", "0", "ten", "10", "one", "1", "a", "an", "the", "The", "A",
    "dont", "don't", "isnt", "Im", "whats", "yall'll", "somebody'd", "oclock", "yes", "Yes", "no", "dog", "dogs",
    "3.5", "1,000", "1,5", "x.", ".", "..", ",", "!", "?", "-", "/", "(", ")", "'", '"', ":", ";", "[", "]", "{",
    "}", "=", "+", "\\", "_", ">", "<", "@", "`", "e.g.", "5.", ".5", "é", "٣", "Ⅻ",
]
SEPARATORS = ["", " ", "  ", "\n", "\t", ",", ", ", ".", " - ", "\u00a0"]


@st.composite
def answer_text(draw: st.DrawFn) -> str:
    """1-4 tricky tokens glued by tricky separators, sometimes padded with whitespace."""
    tokens = draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4))
    text = tokens[0]
    for token in tokens[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + token
    pad = st.sampled_from(["", " ", "\n", "\t "])
    return draw(pad) + text + draw(pad)


@st.composite
def question(draw: st.DrawFn, qid: int) -> tuple[dict, str]:
    """An annotation record (unanimous or split, 10 answers or another count) and a prediction."""
    pool = draw(st.lists(answer_text(), min_size=1, max_size=3))
    if draw(st.booleans()):  # variants that normalise alike but differ as strings
        pool.append(" " + pool[0].upper() + ".")
    n_answers = draw(st.sampled_from([10, 10, 10, 1, 3, 12]))
    texts = [draw(st.sampled_from(pool)) for _ in range(n_answers)]
    id_mode = draw(st.sampled_from(["distinct", "distinct", "distinct", "none", "repeated"]))
    answers = []
    for k, text in enumerate(texts):
        record = {"answer": text, "answer_confidence": draw(st.sampled_from(["yes", "maybe"]))}
        if id_mode == "distinct":
            record["answer_id"] = k + 1
        elif id_mode == "repeated":
            record["answer_id"] = draw(st.integers(1, 3))
        answers.append(record)
    annotation = {
        "question_id": qid, "image_id": qid // 1000, "answers": answers,
        "question_type": draw(st.sampled_from(["what color is the", "how many", "is the"])),
        "answer_type": draw(st.sampled_from(["yes/no", "number", "other"])),
        "multiple_choice_answer": texts[0],
    }
    prediction = draw(st.one_of(st.sampled_from(pool), answer_text(), st.sampled_from(pool).map(str.title)))
    return annotation, prediction


@st.composite
def questions(draw: st.DrawFn, min_size: int = 1, max_size: int = 8) -> tuple[list[dict], list[dict]]:
    """Annotations and a results list ``[{question_id, answer}]`` in a shuffled order."""
    n = draw(st.integers(min_size, max_size))
    pairs = [draw(question(qid=1000 * (i + 1) + i)) for i in range(n)]
    results = [{"question_id": a["question_id"], "answer": p} for a, p in pairs]
    results = draw(st.permutations(results))
    return [a for a, _ in pairs], list(results)
