#!/usr/bin/python3
"""make_spm.py builds the SentencePiece fixtures of model/tokenizer.

It turns llama2-tokenizer.json.zst (see make_reference.mjs) into a SentencePiece
BPE ModelProto and encodes corpus.json with Python sentencepiece, an
implementation independent of llama-tokenizer-js. Documentation of how the
fixtures were made; the Go tests never run it.

    apt-get install python3-sentencepiece python3-protobuf zstd   # sentencepiece 0.1.97
    cd $REPO/testdata/tokenizer && /usr/bin/python3 make_spm.py
    zstd -19 --rm -f llama2-tokenizer.model

Outputs:
  llama2-tokenizer.model  ModelProto: piece 0 UNKNOWN, 1-2 CONTROL, <0xNN> BYTE,
                          the rest NORMAL, scored by merge rank as the Go
                          tokenizer.json loader does (see below);
                          trainer_spec model_type BPE, byte_fallback, unk/bos/eos
                          0/1/2, pad -1; identity normalizer with add_dummy_prefix,
                          no whitespace removal.
  sp_ids.json             for each corpus string, sentencepiece's ids
                          (encode(text), no BOS).
"""
import json
import subprocess

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

raw = subprocess.run(["zstd", "-dc", "llama2-tokenizer.json.zst"], check=True, capture_output=True).stdout
tj = json.loads(raw)
vocab = tj["model"]["vocab"]
pieces = [None] * len(vocab)
for p, i in vocab.items():
    pieces[i] = p

# Scores: minus the rank of the first merge that makes the piece, below all
# merges for pieces no merge makes. (The assumed -(id - 259) of testing.md §7
# is wrong for whitespace runs: it makes "▁▁" (id 259) the best merge, so
# " Hello" would become ["▁▁", "Hello"] instead of LLaMA's ["▁", "▁Hello"];
# LLaMA's real tokenizer.model gives those pieces a very low score.)
merges = tj["model"]["merges"]
first = {}
for r, mg in enumerate(merges):
    a, b = mg.split(" ")
    first.setdefault(a + b, r)

m = pb.ModelProto()
for i, p in enumerate(pieces):
    sp = m.pieces.add()
    sp.piece = p
    if i == 0:
        sp.type, sp.score = pb.ModelProto.SentencePiece.UNKNOWN, 0.0
    elif i in (1, 2):
        sp.type, sp.score = pb.ModelProto.SentencePiece.CONTROL, 0.0
    elif p.startswith("<0x") and len(p) == 6:
        sp.type, sp.score = pb.ModelProto.SentencePiece.BYTE, 0.0
    else:
        sp.type = pb.ModelProto.SentencePiece.NORMAL
        sp.score = -float(first[p]) if p in first else -float(len(merges) + i + 1)
ts = m.trainer_spec
ts.model_type = pb.TrainerSpec.BPE
ts.vocab_size = len(pieces)
ts.byte_fallback = True
ts.unk_id, ts.bos_id, ts.eos_id, ts.pad_id = 0, 1, 2, -1
ns = m.normalizer_spec
ns.name = "identity"
ns.add_dummy_prefix = True
ns.remove_extra_whitespaces = False
ns.escape_whitespaces = True
data = m.SerializeToString()
with open("llama2-tokenizer.model", "wb") as f:
    f.write(data)

sp = spm.SentencePieceProcessor(model_proto=data)
corpus = json.load(open("corpus.json", encoding="utf-8"))
ids = [sp.encode(c["text"]) for c in corpus]
same = sum(1 for c, i in zip(corpus, ids) if c["ids"] == i)
print(f"{len(pieces)} pieces; sentencepiece agrees with llama-tokenizer-js on {same}/{len(corpus)} corpus strings")
with open("sp_ids.json", "w", encoding="utf-8") as f:
    f.write("[" + ",\n".join(json.dumps(i) for i in ids) + "]\n")
