"""Build `tiny-bert`: a random-weight text feature-extraction model for the tests.

What
    A Hugging Face `BertModel` (2 layers, width 32, 2 heads, no pooler, 128 positions) with
    random weights from a fixed seed, over a real uncased WordPiece vocabulary of 1,000
    tokens trained here with `tokenizers` on the English licence texts Debian ships in
    /usr/share/common-licenses (always present, never edited). Exported in the
    transformers.js layout:
      test/fixtures/models/tiny-bert/config.json             model_type "bert"
      test/fixtures/models/tiny-bert/tokenizer.json          BertTokenizer (WordPiece, lower case,
      test/fixtures/models/tiny-bert/tokenizer_config.json   [CLS]/[SEP], model_max_length 128)
      test/fixtures/models/tiny-bert/onnx/model.onnx         input_ids, attention_mask,
                                                             token_type_ids -> last_hidden_state
    Plus test/fixtures/reference/tiny-bert.json: for a few texts, the Python tokenizer's ids
    (and whether it was truncated to 128 tokens), and the PyTorch forward pass mean-pooled
    over the attention mask and L2-normalised,
    which is what `pipeline("feature-extraction")` with `{ pooling: "mean", normalize: true }`
    returns (the options `@langchain/community`'s `HuggingFaceTransformersEmbeddings` uses).

Why
    Issue 18: an app that embeds texts with `@langchain/community`'s
    `HuggingFaceTransformersEmbeddings` and images with this package must work in one
    process. The test for it needs a text model that community's class can load offline
    from a directory (`model: "/abs/path/tiny-bert"`, `pretrainedOptions: { local_files_only:
    true }`), on transformers.js 3 and 4. Random weights are enough to test loading,
    tokenising, shapes, pooling and determinism; tiny sizes keep it a few hundred KB.

Run (from the repository root; deterministic):
    .venv/bin/python scripts/models/build_tiny_bert.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
import clip_common as cc  # noqa: E402

CORPUS = [Path("/usr/share/common-licenses") / name for name in ["Apache-2.0", "GPL-3", "LGPL-2.1", "MPL-2.0"]]
VOCAB_SIZE = 1000
MAX_LENGTH = 128
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Reference texts: plain, repeated words, new lines, accents, characters outside the corpus, empty, too long.
TEXTS = [
    "a red circle",
    "a blue square on a white background",
    "Licensed under the Apache License.\nSee the NOTICE file.",
    "Café déjà vu, naïve résumé",
    "emoji 🙂 and 日本語",
    "",
    " ".join(["the software is provided as is without warranty"] * 20),
]


def wordpiece_vocab() -> dict[str, int]:
    """Special tokens, every corpus character alone and as a `##` continuation, then the commonest words.

    Counted by hand rather than with `tokenizers`' WordPiece trainer, whose choice among
    merges of equal count changes from run to run (measured: 2 of 1,000 tokens differed).
    """
    from collections import Counter

    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalizer = BertNormalizer(lowercase=True, strip_accents=True, clean_text=True, handle_chinese_chars=True)
    splitter = BertPreTokenizer()
    words = Counter()
    for path in CORPUS:
        text = normalizer.normalize_str(path.read_text(encoding="utf-8"))
        words.update(word for word, _ in splitter.pre_tokenize_str(text))
    chars = sorted({c for word in words for c in word})
    tokens = SPECIAL_TOKENS + chars + ["##" + c for c in chars]
    for word, _ in sorted(words.items(), key=lambda item: (-item[1], item[0])):
        if len(tokens) == VOCAB_SIZE:
            break
        if word not in tokens:
            tokens.append(word)
    return {token: i for i, token in enumerate(tokens)}


def build_tokenizer(out: Path):
    from transformers import BertTokenizer

    tokenizer = BertTokenizer(vocab=wordpiece_vocab(), do_lower_case=True, model_max_length=MAX_LENGTH)
    ids = tokenizer("Licensed under the License")["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id, ids
    assert tokenizer.unk_token_id not in ids, f"common corpus words should be in the vocabulary: {ids}"
    tokenizer.save_pretrained(out)
    for extra in ["vocab.txt", "special_tokens_map.json"]:  # transformers.js reads only tokenizer.json
        (out / extra).unlink(missing_ok=True)
    # Minify: the pretty-printed tokenizer.json is mostly indentation.
    path = out / "tokenizer.json"
    path.write_text(json.dumps(json.loads(path.read_text()), ensure_ascii=False, separators=(",", ":")))
    return tokenizer


def export(model, out: Path) -> None:
    import onnxruntime as ort

    (out / "onnx").mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    ids = torch.randint(5, VOCAB_SIZE, (2, 7))
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(Wrapper(model).eval(), (ids, mask, torch.zeros_like(ids)), str(out / "onnx/model.onnx"),
                      dynamo=False, opset_version=17, input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes={**{n: axes for n in names}, "last_hidden_state": axes})
    model.eval()  # exporting toggles training mode on the wrapper and its children
    session = ort.InferenceSession(str(out / "onnx/model.onnx"), providers=["CPUExecutionProvider"])
    ids = torch.randint(5, VOCAB_SIZE, (3, 11))
    mask = torch.ones_like(ids)
    mask[2, 6:] = 0
    types = torch.zeros_like(ids)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state.numpy()
    got = session.run(["last_hidden_state"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                                              "token_type_ids": types.numpy()})[0]
    error = np.abs(got - want).max() / max(np.abs(want).max(), 1e-6)
    assert error < 1e-4, f"ONNX export does not match PyTorch (relative error {error})"


def mean_pooled(model, tokenizer, text: str) -> tuple[list[int], list[float]]:
    batch = tokenizer([text], padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state[0]
    mask = batch["attention_mask"][0].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(0) / mask.sum()
    return batch["input_ids"][0].tolist(), torch.nn.functional.normalize(pooled, dim=0).tolist()


def main() -> None:
    from transformers import BertConfig, BertModel

    missing = [str(p) for p in CORPUS if not p.is_file()]
    assert not missing, f"tokenizer corpus not found (Debian's base-files ships it): {missing}"
    cc.set_determinism(0, 2)
    out = REPO / "test/fixtures/models/tiny-bert"
    tokenizer = build_tokenizer(out)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=MAX_LENGTH, pad_token_id=tokenizer.pad_token_id)
    model = BertModel(config, add_pooling_layer=False).eval()
    model.config.save_pretrained(out)
    export(model, out)

    reference = {}
    for text in TEXTS:
        ids, vector = mean_pooled(model, tokenizer, text)
        # transformers.js truncates without re-adding [SEP] (Python keeps it): parity is looser for these texts.
        truncated = len(tokenizer(text)["input_ids"]) > MAX_LENGTH
        reference[text] = {"input_ids": ids, "truncated": truncated, "mean_normalized": vector}
    ref_path = REPO / "test/fixtures/reference/tiny-bert.json"
    ref_path.write_text(json.dumps({"texts": reference, "dimension": config.hidden_size,
                                    "versions": cc.package_versions()}, ensure_ascii=False, indent=1))
    sizes = cc.file_sizes(out)
    print(f"wrote {out} ({sum(sizes.values())} bytes: {sizes}) and {ref_path}")


if __name__ == "__main__":
    main()
