#!/usr/bin/python3
"""Greedy answers of the PyTorch reference (tools/reference/cogvlm_ref.py, fp32) to the questions
of a tools/shapes dataset, for the Go-vs-PyTorch agreement test, and the reference's accuracy.

  /usr/bin/python3 tools/train/answers.py --model HF_DIR --data EVAL_DIR --out answers.json

With --state (a train.py state.pt) it first checks that the training module's logits equal the
reference's on the first question (they are the same function written twice).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import cogvlm_ref as ref  # noqa: E402

EOS = 2
MAX_NEW = 40  # internal/demo.MaxAnswerTokens


def greedy(m, img_path, prompt_ids):
    d = m.prepare(prompt_ids, image=img_path)
    out = m.forward(d)
    cache, types, logits = out["cache"], list(d["token_type_ids"]), out["logits"][-1]
    toks = []
    for _ in range(MAX_NEW):
        tok = int(torch.argmax(logits))
        toks.append(tok)
        if tok == EOS:
            break
        r, types, _ = m.step([tok], types, cache)
        cache, logits = r["cache"], r["logits"][-1]
    return toks, d


def check_training_module(m, state, data, rec):
    import train
    st = torch.load(state)
    a = argparse.Namespace(**st["args"])
    used = st["model"]["used"].tolist()
    tm = train.DemoCogVLM(m.cfg, used, 0)
    tm.load_state_dict(st["model"])
    tm.set_compact(used)
    q = rec["questions"][0]
    c_of = {t: i for i, t in enumerate(used)}
    u8, _ = ref.preprocess(os.path.join(data, rec["image"]), m.vcfg["image_size"])
    X = torch.tensor([[c_of[t] for t in q["prompt_ids"] + q["answer_ids"]]])
    with torch.no_grad():
        lt = tm(train.normalize(u8[None]), X, 1)[0]
    d = m.prepare(q["prompt_ids"] + q["answer_ids"], image=os.path.join(data, rec["image"]))
    lr = m.forward(d)["logits"][-X.shape[1]:]
    # compact rows vs the same ids of the full vocabulary; the HF checkpoint is rounded to
    # its dtype (F16), so allow that rounding
    diff = (lt[:, :-1] - lr[:, used]).abs().max().item()
    print(f"training module vs reference, max |dlogit| over {X.shape[1]} positions: {diff:.2e} "
          f"(checkpoint dtype {a.dtype})")
    if diff > 0.05:
        raise SystemExit("the training module and the reference disagree")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--state")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = ref.CogVLMRef(a.model)
    with open(os.path.join(a.data, "data.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    if a.state:
        sys.path.insert(0, HERE)
        check_training_module(m, a.state, a.data, recs[0])
    out, right, n = [], 0, 0
    with torch.no_grad():
        for rec in recs:
            for q in rec["questions"]:
                toks, _ = greedy(m, os.path.join(a.data, rec["image"]), q["prompt_ids"])
                out.append({"seed": rec["seed"], "index": rec["index"], "type": q["type"],
                            "question": q["question"], "answer_ids": toks})
                n += 1
                right += toks == q["answer_ids"]
    with open(a.out + ".tmp", "w") as f:
        json.dump({"model": os.path.basename(os.path.normpath(a.model)), "torch": torch.__version__,
                   "max_new_tokens": MAX_NEW, "answers": out}, f, separators=(",", ":"))
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    print(f"{n} questions; reference answers equal to the expected ids: {right} ({100 * right / n:.1f} %)")


if __name__ == "__main__":
    main()
