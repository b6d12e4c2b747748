#!/usr/bin/python3
"""graft vs PyTorch (CPU, fp32) training throughput on the same models.

Builds in PyTorch exactly the GPT-style and T5-style `small` configurations
that bench/bench_step times (bench/step_setup.h; architecture as in
model/layers.cpp, model/stack.cpp, model/model.cpp, model/heads.cpp):

  token embedding [V, d] shared by both stacks and tied to the LM head (no
  bias); per stack learned positions [max_positions, d] added to the token
  embeddings, dropout, pre-norm blocks, final LayerNorm; a block is
    h = x + drop(o(attn(attn_norm(x))))           q, k, v, o: Linear with bias
    h = h + drop(o(cross(cross_attn_norm(h), m))) decoder of an encoder-decoder
    y = h + drop(down(gelu_tanh(up(mlp_norm(h)))))
  LayerNorm eps 1e-5 with weight and bias; causal self-attention in the
  decoder, bidirectional in the encoder; init normal(0.02), zero biases.
  Loss: mean softmax cross-entropy over all target positions; clip the global
  gradient norm to 1; AdamW (lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay
  0.01 except biases and norm weights, as graft's AdamW).

It then alternates, round by round, one graft measurement
(`bench_step --json --config=...`, a fresh process: N timed Trainer steps
after warm-up, median step time) and one PyTorch measurement (the same number
of steps in this process, median step time), and prints the median over
rounds of each, the ratio graft/PyTorch of tokens/s per configuration, and
both parameter counts (which must be equal).

Needs Debian's python3-torch (apt-get install -y python3-torch) and so
/usr/bin/python3, not a pyenv python. Usage:
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/compare_pytorch.py \
      --bench-step build-perf/bench/bench_step [--rounds 3] [--steps 10]

Fairness: Debian's torch reaches OpenBLAS through libblas.so.3, by default the
pthread build, whose threads fight torch's own OpenMP threads (a 2x loss for
torch, docs/PERFORMANCE.md). So by default (--torch-blas openmp) the script
re-runs itself with LD_LIBRARY_PATH pointing at the OpenMP build of the same
OpenBLAS release that graft links, and prints the BLAS library torch loaded.
--torch-blas default keeps Debian's choice. --graft-args passes options to
bench_step (e.g. --graft-args=--row_shards=2).
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

OPENMP_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench-step", default="build-perf/bench/bench_step")
    ap.add_argument("--configs", default="gpt,t5")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--torch-blas", choices=["openmp", "default"], default="openmp",
                    help="OpenBLAS build torch uses (see the module docstring)")
    ap.add_argument("--graft-args", default="", help="extra bench_step options, space-separated")
    return ap.parse_args()


def reexec_with_openmp_blas(args):
    """Before torch loads: point libblas.so.3 at OpenBLAS's OpenMP build."""
    if args.torch_blas != "openmp":
        return
    if not os.path.exists(os.path.join(OPENMP_BLAS_DIR, "libblas.so.3")):
        print(f"warning: {OPENMP_BLAS_DIR}/libblas.so.3 not found; torch keeps the default BLAS "
              "(apt-get install libopenblas0-openmp)", file=sys.stderr)
        return
    paths = os.environ.get("LD_LIBRARY_PATH", "").split(":")
    if OPENMP_BLAS_DIR in paths:
        return
    env = dict(os.environ, LD_LIBRARY_PATH=":".join([OPENMP_BLAS_DIR] + [p for p in paths if p]))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


# Parsed before torch is imported: --help needs no torch, and the BLAS choice
# has to be made before torch loads libblas.so.3.
ARGS = parse_args()
reexec_with_openmp_blas(ARGS)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# bench/step_setup.h and model/config.cpp's "small" preset.
SMALL = dict(vocab=8192, d_model=256, heads=4, d_ff=1024, max_positions=128, dropout=0.1)
CONFIGS = {
    "gpt": dict(encoder_layers=0, decoder_layers=4, batch=16, encoder_len=0, decoder_len=128),
    "t5": dict(encoder_layers=4, decoder_layers=4, batch=16, encoder_len=128, decoder_len=128),
}


class Attention(nn.Module):
    def __init__(self, d, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, memory=None):
        src = x if memory is None else memory
        b, tq, d = x.shape
        tk = src.shape[1]
        h, dh = self.heads, d // self.heads
        q = self.q(x).view(b, tq, h, dh).transpose(1, 2)
        k = self.k(src).view(b, tk, h, dh).transpose(1, 2)
        v = self.v(src).view(b, tk, h, dh).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        else:  # torch < 2.0
            s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(dh))
            if self.causal:
                mask = torch.ones(tq, tk, dtype=torch.bool).triu(1)
                s = s.masked_fill(mask, float("-inf"))
            y = s.softmax(-1) @ v
        return self.o(y.transpose(1, 2).reshape(b, tq, d))


class Block(nn.Module):
    def __init__(self, c, causal, cross):
        super().__init__()
        d = c["d_model"]
        self.attn_norm = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, c["heads"], causal)
        self.cross_attn_norm = nn.LayerNorm(d, eps=1e-5) if cross else None
        self.cross_attn = Attention(d, c["heads"], False) if cross else None
        self.mlp_norm = nn.LayerNorm(d, eps=1e-5)
        self.up = nn.Linear(d, c["d_ff"])
        self.down = nn.Linear(c["d_ff"], d)
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, x, memory=None):
        h = x + self.drop(self.attn(self.attn_norm(x)))
        if self.cross_attn is not None:
            h = h + self.drop(self.cross_attn(self.cross_attn_norm(h), memory))
        mlp = self.down(F.gelu(self.up(self.mlp_norm(h)), approximate="tanh"))
        return h + self.drop(mlp)


class Stack(nn.Module):
    def __init__(self, c, layers, causal, cross):
        super().__init__()
        self.positions = nn.Embedding(c["max_positions"], c["d_model"])
        self.drop = nn.Dropout(c["dropout"])
        self.layers = nn.ModuleList(Block(c, causal, cross) for _ in range(layers))
        self.final_norm = nn.LayerNorm(c["d_model"], eps=1e-5)

    def forward(self, tokens, memory=None):
        x = self.drop(tokens + self.positions.weight[: tokens.shape[1]])
        for layer in self.layers:
            x = layer(x, memory)
        return self.final_norm(x)


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tokens = nn.Embedding(c["vocab"], c["d_model"])
        self.encoder = Stack(c, c["encoder_layers"], False, False) if c["encoder_layers"] else None
        self.decoder = Stack(c, c["decoder_layers"], True, self.encoder is not None)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "norm" in name:
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, std=0.02)

    def forward(self, decoder_ids, encoder_ids=None):
        memory = self.encoder(self.tokens(encoder_ids)) if self.encoder is not None else None
        hidden = self.decoder(self.tokens(decoder_ids), memory)
        return hidden @ self.tokens.weight.t()  # tied LM head, no bias


def torch_rig(name):
    c = dict(SMALL, **CONFIGS[name])
    torch.manual_seed(1)
    model = Model(c)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    g = torch.Generator().manual_seed(7)
    b, v = c["batch"], c["vocab"]
    ids = torch.randint(0, v, (b, c["decoder_len"]), generator=g)
    targets = torch.randint(0, v, (b, c["decoder_len"]), generator=g)
    enc = torch.randint(0, v, (b, c["encoder_len"]), generator=g) if c["encoder_len"] else None
    tokens = b * (c["encoder_len"] + c["decoder_len"])
    params = sum(p.numel() for p in model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(ids, enc)
        loss = F.cross_entropy(logits.view(-1, v), targets.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return step, tokens, params


def measure_torch(rig, steps, warmup):
    step, tokens, params = rig
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return dict(framework="pytorch", params=params, tokens_per_step=tokens,
                median_step_s=med, tokens_per_s=tokens / med, last_loss=loss)


def measure_graft(bench_step, name, steps, warmup, extra):
    out = subprocess.run([bench_step, "--json", f"--config={name}", f"--steps={steps}",
                          f"--warmup={warmup}"] + extra, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def loaded_blas():
    """The BLAS shared objects mapped into this process (what torch calls)."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path):
                libs.add(path)
    return ", ".join(sorted(libs)) or "none found"


def main():
    args = ARGS

    torch.set_num_threads(args.threads)
    if os.environ.get("OMP_NUM_THREADS") != str(args.threads):
        print(f"warning: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} but --threads "
              f"{args.threads}; graft takes its thread count from OMP_NUM_THREADS",
              file=sys.stderr)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"load {os.getloadavg()}, {time.strftime('%Y-%m-%d %H:%M:%S')}")
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS
    print(f"torch BLAS ({args.torch_blas}): {loaded_blas()}; graft options: "
          f"{args.graft_args or '(none)'}")
    names = args.configs.split(",")
    rigs = {n: torch_rig(n) for n in names}
    results = {n: {"graft": [], "pytorch": []} for n in names}
    params = {}
    for r in range(args.rounds):
        for n in names:
            # Alternate who goes first so a load spike does not favour one side.
            order = ["graft", "pytorch"] if r % 2 == 0 else ["pytorch", "graft"]
            for fw in order:
                if fw == "graft":
                    m = measure_graft(args.bench_step, n, args.steps, args.warmup,
                                      args.graft_args.split())
                else:
                    m = measure_torch(rigs[n], args.steps, args.warmup)
                results[n][fw].append(m["tokens_per_s"])
                params[(n, fw)] = m["params"]
                print(f"round {r + 1} {n:4s} {fw:8s} {m['tokens_per_s']:10.0f} tokens/s "
                      f"(median step {1e3 * m['median_step_s']:.1f} ms, "
                      f"load {os.getloadavg()[0]:.2f})", flush=True)

    # Two readings of the ratio: medians over rounds of each side, and the
    # median of each round's own ratio (the two measurements of a round sit
    # next to each other in time, so they share most of the background load).
    print("\n| config | params graft | params PyTorch | graft tokens/s | PyTorch tokens/s "
          "| ratio of medians | median of round ratios (min-max) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    for n in names:
        g, t = statistics.median(results[n]["graft"]), statistics.median(results[n]["pytorch"])
        rounds = [a / b for a, b in zip(results[n]["graft"], results[n]["pytorch"])]
        pg, pt = params[(n, "graft")], params[(n, "pytorch")]
        ok &= pg == pt
        print(f"| {n} | {pg:,} | {pt:,} | {g:.0f} | {t:.0f} | **{g / t:.2f}x** | "
              f"**{statistics.median(rounds):.2f}x** ({min(rounds):.2f}-{max(rounds):.2f}) |")
    if not ok:
        print("parameter counts differ: the two models are not the same", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
