"""From raw scores to what `predict_arrays` returns: the loss's inverse link, then the label
and score of a classifier."""

from __future__ import annotations

from pipeline.core.errors import ScoringError
from pipeline.render.compile.builder import Builder


def classify(b: Builder, probs: list[str], classes: list[str]) -> tuple[str, str]:
    """prediction = classes[argmax(probs)], the first on ties as numpy's argmax; score =
    P(classes[1]) for two classes, else the top probability."""
    cols = b.step([(f"p__{k}", p) for k, p in enumerate(probs)])
    if len(cols) == 2:
        return f"CASE WHEN {cols[1]} > {cols[0]} THEN {classes[1]} ELSE {classes[0]} END", cols[1]
    whens = [
        f"WHEN {cols[k]} >= GREATEST({', '.join(cols[k + 1 :])}) THEN {classes[k]}"
        for k in range(len(cols) - 1)
    ]
    label = f"CASE {' '.join(whens)} ELSE {classes[-1]} END"
    return label, f"GREATEST({', '.join(cols)})"


def from_raw(b: Builder, raw: list[str], link: str, classes: list[str] | None) -> tuple[str, str]:
    """Raw scores (one per class, or one) through the loss's inverse link."""
    if classes is None:  # regression
        if link == "identity":
            return raw[0], "NULL"
        if link == "log":
            return f"EXP({raw[0]})", "NULL"
        raise ScoringError(f"no SQL for the inverse of link {link!r}")
    if len(raw) == 1:  # binary: P(1) = expit(raw), P(0) = 1 - P(1)
        (p1,) = b.step([("expit__1", f"1.0e0 / (1.0e0 + EXP(-({raw[0]})))")])
        return classify(b, [f"1.0e0 - {p1}", p1], classes)
    # softmax over the classes, shifted by the largest raw score as scikit-learn does
    (top,) = b.step([("raw__max", f"GREATEST({', '.join(raw)})")])
    exps = b.step([(f"e__{k}", f"EXP({r} - {top})") for k, r in enumerate(raw)])
    (total,) = b.step([("e__sum", " + ".join(exps))])
    return classify(b, [f"{e} / {total}" for e in exps], classes)
