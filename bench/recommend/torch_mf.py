"""PyTorch reference for `embedkit recommend train`: the same biased matrix factorization on the
same split (train.csv / test.csv written by `embedkit recommend train --write-split DIR`).

Model: g + b_u + b_i + <p_u, q_i> with nn.Embedding tables (dense gradients) and torch.optim.Adam.
Loss per batch, as embedkit's: mean over the batch of (pred - r)^2 + l2 (|p_u|^2 + |q_i|^2)
+ l2_bias (b_u^2 + b_i^2). Factors start from N(0, init_std^2), biases at 0, g at the mean
training rating. Test predictions are clipped to the training rating range; unknown users or
items fall back to g plus the known bias, as embedkit does.

Run with a Python that has torch (1.13): /usr/bin/python3 torch_mf.py DIR [options]
"""
import argparse
import csv
import json
import math
import time

import torch


def read(path):
    users, items, ratings = [], [], []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            users.append(row[0])
            items.append(row[1])
            ratings.append(float(row[2]))
    return users, items, ratings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split_dir")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--l2", type=float, default=0.1)
    ap.add_argument("--l2-bias", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--init-std", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tu, ti, tr = read(args.split_dir + "/train.csv")
    vu, vi, vr = read(args.split_dir + "/test.csv")
    umap, imap = {}, {}
    for u in tu:
        umap.setdefault(u, len(umap))
    for i in ti:
        imap.setdefault(i, len(imap))
    U = torch.tensor([umap[u] for u in tu])
    I = torch.tensor([imap[i] for i in ti])
    R = torch.tensor(tr)
    lo, hi = min(tr), max(tr)

    P = torch.nn.Embedding(len(umap), args.dim)
    Q = torch.nn.Embedding(len(imap), args.dim)
    BU = torch.nn.Embedding(len(umap), 1)
    BI = torch.nn.Embedding(len(imap), 1)
    G = torch.nn.Parameter(torch.tensor([R.mean().item()]))
    with torch.no_grad():
        P.weight.normal_(0, args.init_std)
        Q.weight.normal_(0, args.init_std)
        BU.weight.zero_()
        BI.weight.zero_()
    params = list(P.parameters()) + list(Q.parameters()) + list(BU.parameters()) + \
        list(BI.parameters()) + [G]
    opt = torch.optim.Adam(params, lr=args.lr)

    start = time.perf_counter()
    n = len(tr)
    for _ in range(args.epochs):
        perm = torch.randperm(n)
        for b in range(0, n, args.batch_size):
            idx = perm[b:b + args.batch_size]
            u, i, r = U[idx], I[idx], R[idx]
            p, q = P(u), Q(i)
            bu, bi = BU(u).squeeze(1), BI(i).squeeze(1)
            pred = G + bu + bi + (p * q).sum(1)
            loss = ((pred - r) ** 2 + args.l2 * ((p * p).sum(1) + (q * q).sum(1))
                    + args.l2_bias * (bu * bu + bi * bi)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start

    with torch.no_grad():
        g = G.item()
        se = ae = 0.0
        for u, i, r in zip(vu, vi, vr):
            uu, ii = umap.get(u), imap.get(i)
            v = g
            if uu is not None:
                v += BU.weight[uu, 0].item()
            if ii is not None:
                v += BI.weight[ii, 0].item()
            if uu is not None and ii is not None:
                v += torch.dot(P.weight[uu], Q.weight[ii]).item()
            v = min(max(v, lo), hi)
            se += (v - r) ** 2
            ae += abs(v - r)
    print(json.dumps({"rmse": math.sqrt(se / len(vr)), "mae": ae / len(vr),
                      "train_seconds": seconds, "threads": args.threads,
                      "epochs": args.epochs, "dim": args.dim, "lr": args.lr, "l2": args.l2}))


if __name__ == "__main__":
    main()
