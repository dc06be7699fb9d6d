"""Labelled lines for the classifier tests (test_classifier_*.py), made in the test.

``keyword_lines``: each line's class is given by two of its own keywords among four words
shared by every class, so a classifier (ours or fastText's) can separate the classes perfectly.
"""

import random

LABELS = 4


def keyword_lines(count, seed, noise=30, prefix="__label__"):
    """`count` lines of LABELS classes: two keywords of the line's class among four words of
    `noise` shared ones, the label first with `prefix`."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        c = rng.randrange(LABELS)
        words = [f"common{rng.randrange(noise)}" for _ in range(4)]
        for _ in range(2):
            words.insert(rng.randrange(len(words) + 1), f"key{c}_{rng.randrange(5)}")
        lines.append(f"{prefix}c{c} " + " ".join(words))
    return lines


def write(path, lines):
    """Writes `lines` to `path`, one a line; returns the path as a string."""
    path.write_text("\n".join(lines) + "\n")
    return str(path)
