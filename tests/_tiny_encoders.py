"""Tiny randomly initialised speech encoders saved with ``save_pretrained`` (for tests and benchmarks).

Each is a few tens of thousands of parameters: hidden size 32, 2 layers, 2
heads and a 3-layer convolutional front end with a 320-sample stride (the
stride of the real models, so frame counts match theirs).
"""

from __future__ import annotations

from pathlib import Path

#: Names of the tiny encoders that :func:`make_tiny_encoder` builds.
TINY_KINDS = ("wav2vec2", "wav2vec2-layernorm", "hubert", "wavlm", "data2vec", "whisper")

_CONV = dict(
    conv_dim=(16, 16, 16),
    conv_stride=(5, 8, 8),
    conv_kernel=(10, 8, 8),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)
_TRANSFORMER = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
)


def make_tiny_encoder(kind: str, folder: Path) -> Path:
    """Write the tiny encoder ``kind`` (model + feature extractor) to ``folder / kind``.

    Returns the folder; reuses it when it already holds a model.
    """
    import torch
    from transformers import (
        Data2VecAudioConfig,
        Data2VecAudioModel,
        HubertConfig,
        HubertModel,
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Model,
        WavLMConfig,
        WavLMModel,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperModel,
    )
    from transformers.utils import logging as hf_logging

    path = Path(folder) / kind
    if (path / "config.json").exists():
        return path
    torch.manual_seed(0)
    hf_logging.disable_progress_bar()
    if kind == "whisper":
        config = WhisperConfig(
            d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2,
            decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
            num_mel_bins=80, max_source_positions=1500, max_target_positions=16,
            vocab_size=16, pad_token_id=1, bos_token_id=2, eos_token_id=3,
            decoder_start_token_id=2,
        )
        model = WhisperModel(config)
        extractor = WhisperFeatureExtractor(feature_size=80)
    else:
        classes = {
            "wav2vec2": (Wav2Vec2Config, Wav2Vec2Model, "group", False),
            "wav2vec2-layernorm": (Wav2Vec2Config, Wav2Vec2Model, "layer", True),
            "hubert": (HubertConfig, HubertModel, "group", False),
            "wavlm": (WavLMConfig, WavLMModel, "layer", True),
            "data2vec": (Data2VecAudioConfig, Data2VecAudioModel, "layer", True),
        }
        config_cls, model_cls, norm, mask = classes[kind]
        extra = {} if kind == "data2vec" else {"feat_extract_norm": norm}
        if kind == "wav2vec2-layernorm":
            extra["do_stable_layer_norm"] = True
        model = model_cls(config_cls(**_CONV, **_TRANSFORMER, **extra))
        extractor = Wav2Vec2FeatureExtractor(return_attention_mask=mask, do_normalize=True)
    model.save_pretrained(path)
    extractor.save_pretrained(path)
    return path
