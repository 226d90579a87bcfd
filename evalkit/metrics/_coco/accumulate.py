"""``COCOeval.accumulate`` over a multiset of images, as one numba kernel.

Images are taken in the order pycocotools takes them (sorted image id); an image drawn
k times by the bootstrap counts as k distinct, adjacent copies (as if re-labelled with
consecutive new ids). Within a category, detections are ordered by score (stable), then
image, then rank in the image, as pycocotools' mergesort over the concatenation orders them;
a copy repeats the image's block of tied detections, so the result equals pycocotools
on the re-labelled copies exactly.
"""
from __future__ import annotations

import numpy as np

from evalkit.jit import prange, sized_kernel


@sized_kernel
def accumulate(cat_offsets, sample, score, rank, match, ignore, copies, npig, thresholds, rec_thrs, max_dets):
    """precision (T,R,K,A,M) and recall (T,K,A,M) of detections sorted by (category, -score, image, rank)."""
    K, A = npig.shape
    T, R, M = thresholds.shape[0], rec_thrs.shape[0], max_dets.shape[0]
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    eps = np.spacing(1.0)
    for k in prange(K):
        s0, s1 = cat_offsets[k], cat_offsets[k + 1]
        for mi in range(M):
            md = max_dets[mi]
            nd = 0
            for p in range(s0, s1):
                if rank[p] < md:
                    nd += copies[sample[p]]
            tp = np.empty((T, nd))
            fp = np.empty((T, nd))
            rc = np.empty(nd)
            pr = np.empty(nd)
            for a in range(A):
                if npig[k, a] == 0:
                    continue
                tpc = np.zeros(T, np.int64)
                fpc = np.zeros(T, np.int64)
                pos = 0
                p = s0
                while p < s1:
                    q = p + 1
                    while q < s1 and score[q] == score[p] and sample[q] == sample[p]:
                        q += 1
                    for _ in range(copies[sample[p]]):
                        for r in range(p, q):
                            if rank[r] >= md:
                                break
                            mb, ib = match[r, a], ignore[r, a]
                            for t in range(T):
                                bit = 1 << t
                                if not ib & bit:
                                    if mb & bit:
                                        tpc[t] += 1
                                    else:
                                        fpc[t] += 1
                                tp[t, pos] = tpc[t]
                                fp[t, pos] = fpc[t]
                            pos += 1
                    p = q
                n_gt = np.float64(npig[k, a])
                for t in range(T):
                    if nd == 0:
                        recall[t, k, a, mi] = 0.0
                        for ri in range(R):
                            precision[t, ri, k, a, mi] = 0.0
                        continue
                    for i in range(nd):  # (as numpy's tp / n_gt and tp / (fp + tp + eps), without temporaries)
                        rc[i] = tp[t, i] / n_gt
                        pr[i] = tp[t, i] / (fp[t, i] + tp[t, i] + eps)
                    recall[t, k, a, mi] = rc[nd - 1]
                    for i in range(nd - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    i = 0
                    for ri in range(R):
                        while i < nd and rc[i] < rec_thrs[ri]:
                            i += 1
                        precision[t, ri, k, a, mi] = pr[i] if i < nd else 0.0
    return precision, recall
