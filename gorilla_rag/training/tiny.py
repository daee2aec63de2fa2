"""A tiny LLaMA-architecture model built in-process, for smoke-testing training and generation without downloads.

Its byte-level BPE tokenizer is trained on the texts given (so prompts tokenise compactly) and carries a small
chat template; the weights are random. Train it with `gorilla-rag train rat --base FOLDER` and it learns to
answer the questions it was trained on, on CPU, in about a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build_tiny_model(folder: str | Path, texts: Iterable[str], vocab_size: int = 4000, hidden_size: int = 64,
                     layers: int = 2, heads: int = 4, context: int = 2048, chat_template: str | None = CHAT_TEMPLATE,
                     seed: int = 0) -> Path:
    """Write a random tiny LlamaForCausalLM and a tokenizer trained on `texts` to `folder`; return it."""
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(folder)
    core = Tokenizer(models.BPE())
    # Split on white space only, so a whole call such as `.from_pretrained('org/model` can become one token:
    # short sequences, and a tiny model learns to pick the right call in a few dozen steps.
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+"), behavior="merged_with_next"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(texts, trainer)
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 4,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=context, bos_token_id=1, eos_token_id=2, pad_token_id=0,
                         tie_word_embeddings=False)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder
