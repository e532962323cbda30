#!/usr/bin/python3
"""Independent NumPy reference for core/eval/detection_metrics (COCO-style AP) and
core/detect/detections (class-wise NMS).

Written from the definitions in core/eval/detection_metrics.h and core/detect/detections.h,
not from the C++ code: matching is vectorised over the ten IoU thresholds, AP over the
101 recall points (numpy's searchsorted, as pycocotools does), NMS uses a class-masked
IoU matrix.

  detection_map_reference.py CASES.json          # AP/mAP
  detection_map_reference.py --nms CASES.json    # class-wise NMS
  detection_map_reference.py --selftest          # NMS against torchvision.ops.batched_nms

AP input:  {"num_classes": N, "images": [{"preds": [[x1,y1,x2,y2,score,cls],...],
                                          "gts": [[x1,y1,x2,y2,cls],...]}, ...]}
AP output: {"map50", "map50_95", "ap50_per_class", "ap_per_class", "precision", "recall",
            "gt_per_class", "images"}
NMS input: {"dets": [[x1,y1,x2,y2,score,cls],...], "iou": 0.45, "max_det": 300}
           (max_det < 0: no limit; a box is suppressed when IoU > iou)
NMS output: {"keep": [indices into dets, by descending score]}
Either input may instead be {"cases": [case, ...]}; the output is then {"results": [...]},
so a test pays Python's start-up once for hundreds of cases. "-" reads stdin.
Run with Debian's /usr/bin/python3 (python3-numpy; --selftest also needs python3-torchvision).
"""
import argparse
import json
import sys

import numpy as np

# Nearest doubles to 0.50, 0.55, ..., 0.95 (k / 100 is correctly rounded).
IOU_THRESHOLDS = np.arange(50, 100, 5) / 100.0
# pycocotools' recThrs.
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def pairwise_iou(a, b):
    """IoU matrix of corner boxes a (N, 4) and b (M, 4), float64; empty boxes have area 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)

    def area(x):
        return np.maximum(x[:, 2] - x[:, 0], 0.0) * np.maximum(x[:, 3] - x[:, 1], 0.0)

    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def greedy_match(ious):
    """ious: (P, G), rows in descending-score order. Returns tp (T, P) bool: for every
    threshold at once, each prediction takes the free GT with the highest IoU >= t
    (argmax: the first, i.e. lowest GT index, on equal IoU)."""
    n_pred, n_gt = ious.shape
    n_thr = len(IOU_THRESHOLDS)
    tp = np.zeros((n_thr, n_pred), dtype=bool)
    if n_gt == 0:
        return tp
    taken = np.zeros((n_thr, n_gt), dtype=bool)
    rows = np.arange(n_thr)
    for p in range(n_pred):
        ok = (ious[p][None, :] >= IOU_THRESHOLDS[:, None]) & ~taken
        best = np.where(ok, ious[p][None, :], -1.0).argmax(axis=1)
        hit = ok[rows, best]
        tp[hit, p] = True
        taken[rows[hit], best[hit]] = True
    return tp


def ap_101(tp, n_gt):
    """tp (T, N) in descending-score order -> AP per threshold (T,)."""
    n = tp.shape[1]
    if n == 0:
        return np.zeros(tp.shape[0])
    ctp = np.cumsum(tp, axis=1)
    recall = ctp / n_gt
    precision = ctp / np.arange(1, n + 1)
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    aps = []
    for r, env in zip(recall, envelope):
        idx = np.searchsorted(r, RECALL_POINTS, side="left")
        q = np.where(idx < n, env[np.minimum(idx, n - 1)], 0.0)
        aps.append(q.mean())
    return np.array(aps)


def best_f1_pr(tp50, scores, n_gt):
    """Precision and recall at the highest confidence cut that maximises F1 (IoU 0.5)."""
    n = len(tp50)
    if n == 0:
        return 0.0, 0.0
    ctp = np.cumsum(tp50)
    count = np.arange(1, n + 1)
    is_cut = np.r_[scores[1:] != scores[:-1], True]  # "score >= s" cannot split equal scores
    f1 = np.where(is_cut, 2.0 * ctp / (count + n_gt), -1.0)
    k = int(np.argmax(f1))
    if ctp[k] == 0:
        return 0.0, 0.0
    return ctp[k] / count[k], ctp[k] / n_gt


def evaluate(case):
    nc = int(case["num_classes"])
    images = case["images"]
    gt_count = np.zeros(nc, dtype=np.int64)
    # Per class: lists of (scores, tp (T, k)) chunks in image order, each chunk sorted.
    chunks = [[] for _ in range(nc)]
    for image in images:
        preds = np.asarray(image.get("preds", []), dtype=np.float64).reshape(-1, 6)
        gts = np.asarray(image.get("gts", []), dtype=np.float64).reshape(-1, 5)
        gt_count += np.bincount(gts[:, 4].astype(np.int64), minlength=nc)[:nc]
        for c in np.unique(preds[:, 5].astype(np.int64)):
            p = preds[preds[:, 5] == c]
            p = p[np.argsort(-p[:, 4], kind="stable")]
            g = gts[gts[:, 4] == c]
            chunks[c].append((p[:, 4], greedy_match(pairwise_iou(p[:, :4], g[:, :4]))))

    ap = np.zeros((nc, len(IOU_THRESHOLDS)))
    prec = np.zeros(nc)
    rec = np.zeros(nc)
    for c in range(nc):
        if gt_count[c] == 0 or not chunks[c]:
            continue
        scores = np.concatenate([s for s, _ in chunks[c]])
        tp = np.concatenate([t for _, t in chunks[c]], axis=1)
        order = np.argsort(-scores, kind="stable")  # ties: image order, then within image
        scores, tp = scores[order], tp[:, order]
        ap[c] = ap_101(tp, gt_count[c])
        prec[c], rec[c] = best_f1_pr(tp[0], scores, gt_count[c])

    has_gt = gt_count > 0

    def mean(x):
        return float(x[has_gt].mean()) if has_gt.any() else 0.0

    return {
        "map50": mean(ap[:, 0]),
        "map50_95": mean(ap.mean(axis=1)),
        "ap50_per_class": ap[:, 0].tolist(),
        "ap_per_class": ap.mean(axis=1).tolist(),
        "precision": mean(prec),
        "recall": mean(rec),
        "gt_per_class": gt_count.tolist(),
        "images": len(images),
    }


def nms(case):
    d = np.asarray(case["dets"], dtype=np.float64).reshape(-1, 6)
    threshold = float(case["iou"])
    max_det = int(case.get("max_det", -1))
    order = np.argsort(-d[:, 4], kind="stable")
    boxes, cls = d[order, :4], d[order, 5]
    suppresses = (pairwise_iou(boxes, boxes) > threshold) & (cls[:, None] == cls[None, :])
    alive = np.ones(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if not alive[i]:
            continue
        if len(keep) == max_det:
            break
        keep.append(int(order[i]))
        alive &= ~suppresses[i]
    return {"keep": keep}


def selftest():
    """NMS against torchvision.ops.batched_nms on random sets (distinct scores: torch's sort
    is not stable; float64 boxes so that both compare the same IoUs)."""
    import torch
    import torchvision

    rng = np.random.default_rng(0)
    kept = total = 0
    for trial in range(300):
        n = int(rng.integers(0, 120))
        xy = rng.uniform(0, 60, (n, 2))  # crowded, so that about half are suppressed
        wh = rng.uniform(5, 50, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        scores = rng.permutation(n) / max(n, 1) + 0.001
        cls = rng.integers(0, 4, n)
        thr = float(rng.uniform(0.1, 0.9))
        dets = np.concatenate([boxes, scores[:, None], cls[:, None]], axis=1)
        ours = nms({"dets": dets.tolist(), "iou": thr, "max_det": -1})["keep"]
        theirs = torchvision.ops.batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                                             torch.from_numpy(cls), thr).tolist()
        if ours != theirs:
            print(f"trial {trial}: ours {ours} != torchvision {theirs}", file=sys.stderr)
            return 1
        kept, total = kept + len(ours), total + n
    print(f"nms matches torchvision.ops.batched_nms on 300 random sets ({kept} of {total} kept)")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", help="JSON file, or - for stdin")
    parser.add_argument("--nms", action="store_true", help="run class-wise NMS instead of AP")
    parser.add_argument("--selftest", action="store_true", help="check NMS against torchvision")
    args = parser.parse_args()
    if args.selftest:
        return selftest()
    if not args.input:
        parser.error("input file required")
    with (sys.stdin if args.input == "-" else open(args.input)) as f:
        data = json.load(f)
    fn = nms if args.nms else evaluate
    out = {"results": [fn(c) for c in data["cases"]]} if "cases" in data else fn(data)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
