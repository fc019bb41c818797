#!/usr/bin/env python3
"""An independent scorer for EvalTests: reads `sluice run --logits` outputs with pyarrow and computes with numpy
what `sluice eval` reports, so the test compares our numbers with numbers our code did not produce.

    score_with_numpy.py score --predictions DIR [--labels CSV] [--reference DIR] [--exclude-first N --dataset DIR]
    score_with_numpy.py make-labels --predictions DIR --out CSV

score prints JSON: scored, top1_correct, top5_correct, per_class {index: [total, top1, top5]}, excluded (ids),
compared, top1_agreeing, top5_agreeing, max_abs_logit_delta, mean_abs_logit_delta.
make-labels writes id,label lines from a run's logits: the best class for rows 0, 3, 6 …, the third best for
rows 1, 4, 7 … (top-5 but not top-1) and the 500th best for the others (neither), so every case is present.
Labels in CSV are class indices (this helper resolves nothing else).
"""
import argparse, csv, glob, json, os, sys

import numpy as np
import pyarrow.parquet as pq


def read_run(directory):
    ids, logits = [], []
    for part in sorted(glob.glob(os.path.join(directory, "*.parquet"))):
        if os.path.basename(part).startswith("_"):
            continue
        table = pq.read_table(part, columns=["id", "logits"])
        for i, row in zip(table.column("id").to_pylist(), table.column("logits").to_pylist()):
            if row is not None:
                ids.append(i)
                logits.append(row)
    return ids, np.asarray(logits, dtype=np.float32)


def top5(row):
    return list(np.argsort(-row, kind="stable")[:5])


def score(args):
    ids, logits = read_run(args.predictions)
    index = {i: n for n, i in enumerate(ids)}
    excluded = []
    if args.exclude_first:
        dataset_ids = []
        for part in sorted(glob.glob(os.path.join(args.dataset, "*.parquet"))):
            dataset_ids += pq.read_table(part, columns=[args.id_column]).column(args.id_column).to_pylist()
        excluded = dataset_ids[:args.exclude_first]
    skip = set(excluded)
    out = {"excluded": excluded}
    if args.labels:
        with open(args.labels) as f:
            rows = [r for r in csv.reader(f) if r and r[0] != "id"]
        scored = t1 = t5 = 0
        per_class = {}
        for i, label in rows:
            if i in skip or i not in index:
                continue
            label = int(label)
            best = top5(logits[index[i]])
            scored += 1
            c = per_class.setdefault(str(label), [0, 0, 0])
            c[0] += 1
            if best[0] == label:
                t1 += 1
                c[1] += 1
            if label in best:
                t5 += 1
                c[2] += 1
        out.update(scored=scored, top1_correct=t1, top5_correct=t5, per_class=per_class)
    if args.reference:
        ref_ids, ref_logits = read_run(args.reference)
        ref_index = {i: n for n, i in enumerate(ref_ids)}
        common = [i for i in ids if i not in skip and i in ref_index]
        a = logits[[index[i] for i in common]]
        b = ref_logits[[ref_index[i] for i in common]]
        ours_top1 = np.argsort(-a, axis=1, kind="stable")[:, 0]
        ours_top5 = np.argsort(-a, axis=1, kind="stable")[:, :5]
        ref_top1 = np.argsort(-b, axis=1, kind="stable")[:, 0]
        delta = np.abs(a.astype(np.float64) - b.astype(np.float64))
        out.update(compared=len(common), top1_agreeing=int((ours_top1 == ref_top1).sum()),
                   top5_agreeing=int(sum(r in t for r, t in zip(ref_top1, ours_top5))),
                   max_abs_logit_delta=float(delta.max()), mean_abs_logit_delta=float(delta.mean()))
    print(json.dumps(out))


def make_labels(args):
    ids, logits = read_run(args.predictions)
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", "label"])
        for n, (i, row) in enumerate(zip(ids, logits)):
            order = np.argsort(-row, kind="stable")
            writer.writerow([i, int(order[[0, 2, 499][n % 3]])])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["score", "make-labels"])
    parser.add_argument("--predictions", required=True)
    parser.add_argument("--labels")
    parser.add_argument("--reference")
    parser.add_argument("--exclude-first", type=int, default=0)
    parser.add_argument("--dataset")
    parser.add_argument("--id-column", default="id")
    parser.add_argument("--out")
    args = parser.parse_args()
    score(args) if args.mode == "score" else make_labels(args)


if __name__ == "__main__":
    sys.exit(main())
