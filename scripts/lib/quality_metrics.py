"""Metric code of scripts/quality, kept apart so that its self-check (run at every start) covers all of it.

Pure Python plus numpy / scikit-learn: AUC, NMI, Pearson r, MAE, partition inertia and a batch k-means reference.
"""
import math

import numpy as np


def auc(scores, labels):
    """Area under the ROC curve: the chance that a random positive scores above a random negative (ties count half).

    Returns None when one class is missing, because then the number means nothing."""
    pairs = sorted(zip(scores, labels), key=lambda p: p[0])
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if positives == 0 or negatives == 0:
        return None
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2.0  # average 1-based rank of the tied block
        rank_sum += mid_rank * sum(1 for _, y in pairs[i:j] if y)
        i = j
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def nmi(a, b):
    """Normalised mutual information with the arithmetic mean of the entropies (scikit-learn's default)."""
    n = len(a)
    if n == 0:
        return None
    joint, ca, cb = {}, {}, {}
    for x, y in zip(a, b):
        joint[(x, y)] = joint.get((x, y), 0) + 1
        ca[x] = ca.get(x, 0) + 1
        cb[y] = cb.get(y, 0) + 1
    mi = sum(c / n * math.log(c * n / (ca[x] * cb[y])) for (x, y), c in joint.items())
    ha = -sum(c / n * math.log(c / n) for c in ca.values())
    hb = -sum(c / n * math.log(c / n) for c in cb.values())
    if ha == 0 and hb == 0:
        return 1.0
    denominator = (ha + hb) / 2.0
    return mi / denominator if denominator > 0 else 0.0


def pearson(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def mae(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.abs(x - y).mean()) if len(x) else None


def partition_inertia(vectors, labels):
    """Sum of squared distances of each vector to the mean of its own group: the inertia of a given partition."""
    vectors = np.asarray(vectors, float)
    labels = np.asarray(labels)
    total = 0.0
    for label in np.unique(labels):
        members = vectors[labels == label]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def batch_kmeans(vectors, k, seed=0):
    """The batch reference: k-means++ and Lloyd, best of 10 restarts (DESIGN §5). Returns (labels, inertia)."""
    from sklearn.cluster import KMeans
    model = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=seed).fit(np.asarray(vectors, float))
    return model.labels_, float(model.inertia_)


def self_check():
    """Hand-made inputs whose answers are known; raises AssertionError (with what was expected) when one is off."""
    def close(got, want, what):
        assert got is not None and abs(got - want) < 1e-9, f"self-check {what}: got {got}, expected {want}"

    close(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1.0, "AUC perfect ranking")
    close(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0.0, "AUC reversed ranking")
    close(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5, "AUC all ties")
    close(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75, "AUC textbook example")
    assert auc([0.1, 0.2], [1, 1]) is None, "self-check AUC: one class only must give None"
    close(nmi([0, 0, 1, 1], [5, 5, 7, 7]), 1.0, "NMI relabelled identical partitions")
    close(nmi([0, 0, 1, 1], [0, 1, 0, 1]), 0.0, "NMI independent partitions")
    # [0,0,1,1] vs [0,0,0,1]: MI = 0.75·ln(4/3)... checked against sklearn.metrics.normalized_mutual_info_score.
    from sklearn.metrics import normalized_mutual_info_score
    a, b = [0, 0, 1, 1, 2, 2, 2], [0, 0, 0, 1, 1, 2, 2]
    close(nmi(a, b), normalized_mutual_info_score(a, b), "NMI against scikit-learn")
    close(pearson([1, 2, 3], [2, 4, 6]), 1.0, "Pearson r of a line")
    close(mae([1, 2, 3], [2, 2, 5]), 1.0, "MAE")
    close(partition_inertia([[0, 0], [2, 0], [10, 10]], [1, 1, 2]), 2.0, "inertia of a given partition")
    labels, inertia = batch_kmeans([[0, 0], [0, 1], [10, 10], [10, 11]], 2)
    close(inertia, 1.0, "batch k-means inertia on two obvious groups")
    assert labels[0] == labels[1] != labels[2] == labels[3], "self-check batch k-means: wrong groups"
    return "metric self-check passed (AUC, NMI, Pearson, MAE, inertia, batch k-means)"
