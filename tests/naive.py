"""Naive references: slow, clearly correct plain-Python loops written from each kernel's spec.

Every kernel in ``kernels/`` has a ``naive_<kernel>`` here (the sorts of ``kernels._sort`` are
checked against numpy's stable argsort instead), and so do the evalcore helpers that have one
(windowing, JSON numbers, WAV scaling, quantisation, DSP framing); tests compare the two on random
inputs and on named edge cases. Keep each family in its own section.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

import numpy as np

# --- confusion / ranking (kernels.confusion, kernels.ranking) ------------------------------------


def naive_confusion_matrix(y_true, y_pred, n_classes):
    """Count (true, pred) pairs in a K x K list of lists; pairs with a label outside 0..K-1 are skipped."""
    counts = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if 0 <= t < n_classes and 0 <= p < n_classes:
            counts[t][p] += 1
    return np.array(counts, dtype=np.int64).reshape(n_classes, n_classes)


def naive_per_class_good_bad(y_true, y_pred, n_classes):
    """Per true label: [good, bad] where good means pred == true; true labels outside 0..K-1 skipped."""
    counts = [[0, 0] for _ in range(n_classes)]
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if 0 <= t < n_classes:
            counts[t][0 if p == t else 1] += 1
    return np.array(counts, dtype=np.int64).reshape(n_classes, 2)


def naive_roc_auc_binary(is_positive, score):
    """AUC by comparing every (positive, negative) pair: 1 if the positive scores higher, 1/2 on a tie."""
    pos = [float(s) for s, y in zip(score.tolist(), is_positive.tolist()) if y]
    neg = [float(s) for s, y in zip(score.tolist(), is_positive.tolist()) if not y]
    if not pos or not neg:
        return math.nan
    twice_u = 0
    for p in pos:
        for q in neg:
            twice_u += 2 if p > q else (1 if p == q else 0)
    return twice_u / (2 * len(pos) * len(neg))


def naive_roc_auc_ovr(y_true, scores):
    """One-vs-rest pairwise AUC for each column k (class k positive)."""
    return np.array(
        [naive_roc_auc_binary(y_true == k, scores[:, k]) for k in range(scores.shape[1])],
        dtype=np.float64,
    )


# --- anomaly (kernels.anomaly) -------------------------------------------------------------------


def naive_kmeans_anomaly_scores(x, mean, scale, centers, max_error):
    """Per row: scale, then the smallest (Euclidean distance to a centre - its maxError), in float64."""
    scores, nearest = [], []
    for row in x.tolist():
        z = [(v - m) / s for v, m, s in zip(row, mean.tolist(), scale.tolist())]
        best, best_c = math.inf, -1
        for c, (center, err) in enumerate(zip(centers.tolist(), max_error.tolist())):
            dist = math.sqrt(sum((a - b) * (a - b) for a, b in zip(z, center))) - err
            if dist < best:
                best, best_c = dist, c
        scores.append(best)
        nearest.append(best_c)
    return np.array(scores, dtype=np.float64), np.array(nearest, dtype=np.int64)


def naive_kmeans_anomaly_scores_sdk_f32(x, mean, scale, centers, max_error, initial_min=1000.0):
    """The SDK's float32 steps one by one with numpy float32 scalars; the minimum starts at 1000."""
    f = np.float32
    scores, nearest = [], []
    for row in x:
        z = [f(f(v) - f(m)) / f(s) for v, m, s in zip(row, mean, scale)]
        best, best_c = f(initial_min), -1
        for c in range(centers.shape[0]):
            acc = f(0.0)
            for d in range(len(z)):
                diff = float(f(z[d] - f(centers[c, d])))
                acc = f(float(acc) + diff * diff)  # pow(diff, 2) in double, stored back to float
            dist = f(f(math.sqrt(float(acc))) - f(max_error[c]))
            if dist < best:
                best, best_c = dist, c
        scores.append(best)
        nearest.append(best_c)
    return np.array(scores, dtype=np.float32), np.array(nearest, dtype=np.int64)


def naive_gmm_log_likelihood(x, weights, means, precisions_cholesky):
    """log sum_c w_c N(x; mu_c, (P_c P_c^T)^-1), each density written out, summed with a max shift."""
    n_features = means.shape[1]
    out = []
    for row in x.tolist():
        terms = []
        for c in range(means.shape[0]):
            centred = [v - m for v, m in zip(row, means[c].tolist())]
            prec = precisions_cholesky[c].tolist()
            y = [sum(centred[i] * prec[i][j] for i in range(n_features)) for j in range(n_features)]
            log_det = sum(math.log(prec[d][d]) for d in range(n_features))
            log_w = math.log(weights[c]) if weights[c] > 0 else -math.inf
            terms.append(-0.5 * (n_features * math.log(2 * math.pi) + sum(v * v for v in y)) + log_det + log_w)
        top = max(terms)
        out.append(-math.inf if top == -math.inf else top + math.log(sum(math.exp(t - top) for t in terms)))
    return np.array(out, dtype=np.float64)


# --- boxes / COCO (kernels.iou, kernels.besdev_ap, kernels.coco_evaluate) ------------------------


def naive_iou_xywh(dt_xywh, gt_xywh, gt_is_crowd):
    """COCO IoU of [x, y, w, h] boxes in double (cocoapi ``bbIou``); crowd unions use the dt area."""
    out = np.zeros((len(dt_xywh), len(gt_xywh)), dtype=np.float64)
    for d, (dx, dy, dw, dh) in enumerate(dt_xywh.tolist()):
        for g, (gx, gy, gw, gh) in enumerate(gt_xywh.tolist()):
            w = min(dw + dx, gw + gx) - max(dx, gx)
            h = min(dh + dy, gh + gy) - max(dy, gy)
            if w <= 0 or h <= 0:
                continue
            inter = w * h
            union = dw * dh if gt_is_crowd[g] else dw * dh + gw * gh - inter
            out[d, g] = inter / union
    return out


def naive_iou_xyxy_plus1(pred_xyxy, gt_xyxy):
    """bes-dev ``compute_iou``: "+1" side lengths on any coordinates, intersection floored at 0."""
    out = np.zeros((len(pred_xyxy), len(gt_xyxy)), dtype=np.float64)
    for d, p in enumerate(pred_xyxy.tolist()):
        for g, q in enumerate(gt_xyxy.tolist()):
            iw = max(min(q[2], p[2]) - max(q[0], p[0]) + 1.0, 0.0)
            ih = max(min(q[3], p[3]) - max(q[1], p[1]) + 1.0, 0.0)
            inter = iw * ih
            area_q = (q[2] - q[0] + 1.0) * (q[3] - q[1] + 1.0)
            area_p = (p[2] - p[0] + 1.0) * (p[3] - p[1] + 1.0)
            out[d, g] = inter / (area_q + area_p - inter)
    return out


def naive_besdev_average_precision(det_image, det_class, det_score, det_xyxy, gt_image, gt_class,
                                   gt_xyxy, n_classes, iou_thresholds, recall_thresholds):
    """bes-dev soft-policy AP per (threshold, class), written from golden/README.md od_map 4-5."""
    ious = naive_iou_xyxy_plus1(det_xyxy, gt_xyxy)
    ap = np.zeros((len(iou_thresholds), n_classes))
    for c in range(n_classes):
        dets = sorted((i for i in range(len(det_class)) if det_class[i] == c), key=lambda i: -det_score[i])
        gts = [g for g in range(len(gt_class)) if gt_class[g] == c]
        n_pos = max(float(len(gts)), 1.0)
        for t, thr in enumerate(iou_thresholds.tolist()):
            taken, flags = set(), []
            for d in dets:
                mine = [g for g in gts if gt_image[g] == det_image[d]]
                walk = sorted(range(len(mine)), key=lambda q: ious[d, mine[q]])[::-1]
                hit = False
                for q in walk:
                    if not ious[d, mine[q]] > thr:
                        break
                    if mine[q] not in taken:
                        taken.add(mine[q])
                        hit = True
                        break
                flags.append(hit)
            tp = fp = 0.0
            precision, recall = [], []
            for hit in flags:
                tp, fp = (tp + 1.0, fp) if hit else (tp, fp + 1.0)
                precision.append(tp / max(tp + fp, float(np.finfo(np.float64).eps)))
                recall.append(tp / n_pos)
            total = 0.0
            for r in recall_thresholds.tolist():
                reached = [p for p, rc in zip(precision, recall) if rc >= r]
                total = total + (max(reached) if reached else 0.0) / len(recall_thresholds)
            ap[t, c] = total
    return ap


def naive_coco_evaluate(dt_image, dt_category, dt_score, dt_xywh, dt_area, gt_image, gt_category,
                        gt_xywh, gt_area, gt_is_crowd, gt_id_is_zero, n_images, n_categories,
                        iou_thresholds, area_ranges, max_dets, recall_thresholds):
    """pycocotools bbox ``evaluate`` + ``accumulate`` written from perf-anchors.md section 1.3.

    Returns precision (T, R, K, A, M), recall (T, K, A, M) and scores (T, R, K, A, M).
    """
    import bisect

    n_t, n_r, n_a, n_m = len(iou_thresholds), len(recall_thresholds), len(area_ranges), len(max_dets)
    precision = -np.ones((n_t, n_r, n_categories, n_a, n_m))
    scores = -np.ones((n_t, n_r, n_categories, n_a, n_m))
    recall = -np.ones((n_t, n_categories, n_a, n_m))
    ious_all = naive_iou_xywh(dt_xywh, gt_xywh, gt_is_crowd)
    for k in range(n_categories):
        for a, (lo, hi) in enumerate(area_ranges.tolist()):
            per_image, n_pos = [], 0
            for i in range(n_images):
                gts = [g for g in range(len(gt_image)) if gt_image[g] == i and gt_category[g] == k]
                dts = [d for d in range(len(dt_image)) if dt_image[d] == i and dt_category[d] == k]
                dts = sorted(dts, key=lambda d: -dt_score[d])[: max(max_dets)]
                ignored = {g: bool(gt_is_crowd[g]) or gt_area[g] < lo or gt_area[g] > hi for g in gts}
                gts = sorted(gts, key=lambda g: ignored[g])
                n_pos += sum(1 for g in gts if not ignored[g])
                state = {}  # (t, d) -> (matched_nonzero, ignored)
                for t, thr in enumerate(iou_thresholds.tolist()):
                    taken = set()
                    for d in dts:
                        best, m = min(thr, 1 - 1e-10), -1
                        for g in gts:
                            if g in taken and not gt_is_crowd[g]:
                                continue
                            if m > -1 and not ignored[m] and ignored[g]:
                                break
                            if ious_all[d, g] < best:
                                continue
                            best, m = ious_all[d, g], g
                        is_m = m > -1 and not gt_id_is_zero[m]
                        is_ig = m > -1 and ignored[m]
                        if m > -1:
                            taken.add(m)
                        if not is_m and (dt_area[d] < lo or dt_area[d] > hi):
                            is_ig = True
                        state[t, d] = (is_m, is_ig)
                per_image.append((dts, state))
            if n_pos == 0:
                continue
            for m, max_det in enumerate(max_dets):
                rows = [(d, st) for dts, st in per_image for d in dts[:max_det]]
                rows = sorted(rows, key=lambda row: -dt_score[row[0]])
                for t in range(n_t):
                    tp = fp = 0
                    rc, pr = [], []
                    for d, st in rows:
                        is_m, is_ig = st[t, d]
                        tp += int(is_m and not is_ig)
                        fp += int(not is_m and not is_ig)
                        rc.append(tp / n_pos)
                        pr.append(float(tp) / (float(fp) + float(tp) + float(np.spacing(1))))
                    recall[t, k, a, m] = rc[-1] if rows else 0.0
                    for i in range(len(pr) - 1, 0, -1):
                        pr[i - 1] = max(pr[i - 1], pr[i])
                    for r, thr in enumerate(recall_thresholds.tolist()):
                        i = bisect.bisect_left(rc, thr)
                        inside = i < len(rows)
                        precision[t, r, k, a, m] = pr[i] if inside else 0.0
                        scores[t, r, k, a, m] = dt_score[rows[i][0]] if inside else 0.0
    return precision, recall, scores


# --- centroids / FOMO (kernels.centroids) --------------------------------------------------------


def naive_fuse_heatmap_cells(heatmap, threshold):
    """FOMO cells above ``threshold`` fused in one pass (EI ``fuse_adjacent``), as plain lists."""
    n_rows, n_cols, n_classes = heatmap.shape
    collected = []  # [row0, col0, row1, col1, label, score]
    for k in range(1, n_classes):
        for r in range(n_rows):
            for c in range(n_cols):
                prob = float(heatmap[r, c, k])
                if prob <= threshold or prob != prob:
                    continue
                cell = [r / n_rows, c / n_cols, (r + 1) / n_rows, (c + 1) / n_cols]
                for box in collected:
                    disjoint = (
                        cell[0] > box[2] or cell[2] < box[0] or cell[1] > box[3] or cell[3] < box[1]
                    )
                    if box[4] == k and not disjoint:
                        box[0], box[1] = min(box[0], cell[0]), min(box[1], cell[1])
                        box[2], box[3] = max(box[2], cell[2]), max(box[3], cell[3])
                        box[5] = max(box[5], prob)
                        break
                else:
                    collected.append(cell + [k, prob])
    boxes = np.array([b[:4] for b in collected], dtype=np.float64).reshape(-1, 4)
    labels = np.array([b[4] for b in collected], dtype=np.int32)
    scores = np.array([b[5] for b in collected], dtype=np.float64)
    return boxes, labels, scores


def naive_match_nearest_centroids(pred_centroids, pred_labels, true_centroids, true_labels, max_distance):
    """Greedy many-to-one nearest same-label centroid within ``max_distance`` (EI ``match_by_near_centroids``)."""
    matched_true, matched_distance, pairs = [], [], []
    for p, (pr, pc) in enumerate(pred_centroids.tolist()):
        best, best_d = -1, math.inf
        for g, (tr, tc) in enumerate(true_centroids.tolist()):
            if int(true_labels[g]) != int(pred_labels[p]):
                continue
            d = math.sqrt((pr - tr) * (pr - tr) + (pc - tc) * (pc - tc))
            pairs.append((p, g, d))
            if d <= max_distance and d < best_d:
                best, best_d = g, d
        matched_true.append(best)
        matched_distance.append(best_d if best >= 0 else math.nan)
    return (
        np.array(matched_true, dtype=np.int64),
        np.array(matched_distance, dtype=np.float64),
        np.array([q[0] for q in pairs], dtype=np.int64),
        np.array([q[1] for q in pairs], dtype=np.int64),
        np.array([q[2] for q in pairs], dtype=np.float64),
    )


def _naive_iou_float32(a, b):
    """float32 IoU of two ``[y1, x1, y2, x2]`` boxes, every step rounded to float32 (TF ``IOU``)."""
    f = np.float32
    ay0, ay1 = min(f(a[0]), f(a[2])), max(f(a[0]), f(a[2]))
    ax0, ax1 = min(f(a[1]), f(a[3])), max(f(a[1]), f(a[3]))
    by0, by1 = min(f(b[0]), f(b[2])), max(f(b[0]), f(b[2]))
    bx0, bx1 = min(f(b[1]), f(b[3])), max(f(b[1]), f(b[3]))
    area_a = f(f(ay1 - ay0) * f(ax1 - ax0))
    area_b = f(f(by1 - by0) * f(bx1 - bx0))
    if area_a <= 0 or area_b <= 0:
        return f(0.0)
    inter_h = max(f(min(ay1, by1) - max(ay0, by0)), f(0.0))
    inter_w = max(f(min(ax1, bx1) - max(ax0, bx0)), f(0.0))
    inter = f(inter_h * inter_w)
    return f(inter / f(f(area_a + area_b) - inter))


def naive_non_max_suppression(boxes, scores, max_output_size, iou_threshold, score_threshold):
    """Greedy hard NMS as ``tf.image.non_max_suppression`` documents it, one candidate at a time."""
    iou_thr, score_thr = np.float32(iou_threshold), np.float32(score_threshold)
    candidates = [i for i in range(len(scores)) if np.float32(scores[i]) > score_thr]
    candidates.sort(key=lambda i: (-float(scores[i]), i))
    selected = []
    for i in candidates:
        if len(selected) >= max_output_size:
            break
        if not any(_naive_iou_float32(boxes[i], boxes[j]) > iou_thr for j in selected):
            selected.append(i)
    return np.array(selected, dtype=np.int64)


# --- multi-label counts (kernels.multilabel) -----------------------------------------------------


def naive_multilabel_counts(truth, pred, n_labels):
    """Per label [tp, fp, fn] and per row [tp, predicted, true], counted cell by cell."""
    n, k = len(truth), n_labels
    labels = [[0, 0, 0] for _ in range(k)]
    rows = []
    for i in range(n):
        tp = n_pred = n_true = 0
        for j in range(k):
            t, p = bool(truth[i][j]), bool(pred[i][j])
            if t and p:
                labels[j][0] += 1
                tp += 1
            if p and not t:
                labels[j][1] += 1
            if t and not p:
                labels[j][2] += 1
            n_pred += p
            n_true += t
        rows.append([tp, n_pred, n_true])
    return (np.array(labels, dtype=np.int64).reshape(k, 3), np.array(rows, dtype=np.int64).reshape(n, 3))


# --- cmvn / DSP helpers (kernels.cmvn, evalcore.dsp._framing) ------------------------------------


def naive_sliding_normalize(values: np.ndarray, win_size: int, variance: bool) -> np.ndarray:
    """speechpy-style cmvnw for one (F, C) matrix: a loop of np.mean / np.std over mirrored rows."""
    pad = (win_size - 1) // 2
    padded = np.pad(values, ((pad, pad), (0, 0)), mode="symmetric")
    centred = np.zeros(values.shape, dtype=np.float32)
    for i in range(values.shape[0]):
        centred[i] = values[i] - np.mean(padded[i:i + win_size], axis=0)
    if not variance:
        return centred
    padded = np.pad(centred, ((pad, pad), (0, 0)), mode="symmetric")
    out = np.zeros(values.shape, dtype=np.float32)
    for i in range(values.shape[0]):
        out[i] = centred[i] / (np.std(padded[i:i + win_size], axis=0) + np.float32(1e-10))
    return out


def naive_mel_filterbank(num_filters, fft_length, fs, low, high, old_mels):
    """Triangles written bin by bin from the README's filterbank rules."""
    high = high or fs / 2
    to_mel = lambda f: 1127 * math.log(1 + f / 700)  # noqa: E731
    to_hz = lambda m: 700 * (math.exp(m / 1127) - 1)  # noqa: E731
    mels = np.linspace(to_mel(low), to_mel(high), num_filters + 2)
    hz = [to_hz(m) for m in mels]
    hz[-1] -= 0.001
    k = fft_length // 2 + 1 if old_mels else fft_length
    edges = [math.floor((k + 1) * h / fs) for h in hz]
    bank = np.zeros((num_filters, fft_length // 2 + 1))
    for i in range(num_filters):
        left, mid, right = edges[i:i + 3]
        for b in range(bank.shape[1]):
            if mid <= b < right:  # the falling edge wins where both edges apply
                bank[i, b] = (right - b) / (right - mid)
            elif left < b <= mid:
                bank[i, b] = (b - left) / (mid - left)
    return bank


# --- windowing (evalcore.windowing): plain loops from the rules in its docstring -----------------


def naive_starts(n, win, step, pad_zeros, trailing):
    """Window starts by walking the series one step at a time."""
    starts, start = [], 0
    while start + win <= n:
        starts.append(start)
        start += step
    if not starts and pad_zeros and n > 0:
        starts.append(0)
    elif starts and trailing == "pad" and pad_zeros and start < n and starts[-1] + win < n:
        starts.append(start)
    return starts


def naive_extract(values, starts, win):
    """Each window as a list built reading by reading, axis by axis, zeros past the end."""
    n, n_axes = values.shape
    rows = []
    for start in starts:
        row = []
        for i in range(start, start + win):
            for a in range(n_axes):
                row.append(values[i, a] if i < n else 0.0)
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(starts), win * n_axes)


def naive_labels(n, starts, win, segments, method, wanted):
    """Per-reading labels, then the end-of-window or most-frequent-wanted label per window."""
    per_value = [None] * n
    for s, e, label in segments:
        for i in range(s, e + 1):
            per_value[i] = label
    out = []
    for start in starts:
        covered = per_value[start : min(start + win, n)]
        best, best_count = None, 0
        if method == "anywhere-in-window":
            for label in wanted:
                count = covered.count(label)
                if count > best_count:
                    best, best_count = label, count
        out.append(best if best is not None else covered[-1])
    return out


# --- JSON numbers (evalcore.jsonio) --------------------------------------------------------------


def naive_js_number(value: float) -> str:
    """ECMA-262 Number::toString from the exact decimal value (slow, plain).

    For each precision k = 1, 2, ... the k-digit decimals just below and above the exact value
    are candidates; the first k with a candidate that reads back as ``value`` wins, the closer
    candidate (then the even one) is taken.
    """
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + naive_js_number(-value)
    exact = Decimal(value)
    for precision in range(1, 18):
        candidates = {
            Context(prec=precision, rounding=rounding).plus(exact)
            for rounding in (ROUND_FLOOR, ROUND_CEILING)
        }
        fitting = [c for c in candidates if float(c) == value]
        if fitting:
            best = min(fitting, key=lambda c: (abs(c - exact), c.as_tuple().digits[-1] % 2))
            break
    sign_bit, digit_tuple, exponent = best.normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(e)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(e)}"


# --- WAV samples (evalcore.data.audio) -----------------------------------------------------------


def naive_to_int16_scale(sample: float, bits: int, is_float: bool) -> float:
    """The uploader's wavefile toBitDepth('16') rule for one sample, written as plain Python."""
    if is_float:
        return float(math.trunc(sample * 32767 if sample > 0 else sample * 32768))
    if bits == 16:
        return float(sample)
    if sample > 0:
        return float(math.trunc(sample / (2 ** (bits - 1) - 1) * 32767))
    return float(math.trunc(sample / 2 ** (bits - 1) * 32768))


# --- int8 quantisation (evalcore.backends.quant) -------------------------------------------------


def naive_quantize(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """Element by element: float32 divide and add, Python's round-half-even, clip, cast."""
    info = np.iinfo(dtype)
    out = []
    for value in x.ravel().tolist():
        t = np.float32(np.float32(value) / np.float32(scale)) + np.float32(zero_point)
        out.append(min(max(round(float(np.float32(t))), info.min), info.max))
    return np.array(out, dtype=dtype).reshape(x.shape)
