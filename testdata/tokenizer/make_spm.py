#!/usr/bin/python3
"""make_spm.py builds the SentencePiece fixtures of model/tokenizer.

It builds a SentencePiece BPE ModelProto holding LLaMA's real pieces, scores
and piece types, read with llama.cpp's gguf-py from llama.cpp's
models/ggml-vocab-llama-spm.gguf (llama.cpp's conversion of LLaMA's
tokenizer.model), checks that its pieces are those of llama2-tokenizer.json.zst
(see make_reference.mjs), and encodes corpus.json with Python sentencepiece,
an implementation independent of llama-tokenizer-js and of the Go tokenizer.
Documentation of how the fixtures were made; the Go tests never run it.

    apt-get install python3-sentencepiece python3-protobuf python3-numpy zstd   # sentencepiece 0.1.97
    git -C <llama.cpp clone> show 66d65ec29ba7c440cbc31b6f63b74a17b536ba65:models/ggml-vocab-llama-spm.gguf > /tmp/ggml-vocab-llama-spm.gguf
    git -C <llama.cpp clone> archive 66d65ec29ba7c440cbc31b6f63b74a17b536ba65 gguf-py | tar -x -C /tmp/llamacpp-ggufpy
    cd $REPO/testdata/tokenizer && /usr/bin/python3 make_spm.py /tmp/llamacpp-ggufpy/gguf-py /tmp/ggml-vocab-llama-spm.gguf
    zstd -19 --rm -f llama2-tokenizer.model

Outputs:
  llama2-tokenizer.model  ModelProto: LLaMA's 32000 pieces with their scores and
                          types (UNKNOWN, CONTROL, BYTE, NORMAL) as in the gguf;
                          trainer_spec model_type BPE, byte_fallback, unk/bos/eos
                          0/1/2, pad -1; identity normalizer with add_dummy_prefix,
                          no whitespace removal.
  sp_ids.json             for each corpus string, sentencepiece's ids
                          (encode(text), no BOS).
"""
import json
import subprocess
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

sys.path.insert(0, sys.argv[1])
from gguf import GGUFReader  # noqa: E402

reader = GGUFReader(sys.argv[2])
pieces = [str(p) for p in reader.fields["tokenizer.ggml.tokens"].contents()]
scores = [float(x) for x in reader.fields["tokenizer.ggml.scores"].contents()]
types = [int(x) for x in reader.fields["tokenizer.ggml.token_type"].contents()]

raw = subprocess.run(["zstd", "-dc", "llama2-tokenizer.json.zst"], check=True, capture_output=True).stdout
vocab = json.loads(raw)["model"]["vocab"]
js_pieces = [None] * len(vocab)
for p, i in vocab.items():
    js_pieces[i] = p
if js_pieces != pieces:
    sys.exit("the gguf's pieces are not llama-tokenizer-js's")

# gguf token types are SentencePiece's piece types (llama.cpp copies them).
m = pb.ModelProto()
for p, score, typ in zip(pieces, scores, types):
    sp = m.pieces.add()
    sp.piece, sp.score, sp.type = p, score, typ
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
