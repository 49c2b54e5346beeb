"""Writes silero-vad-6.2.3-16k.safetensors: the 16 kHz network of the silero-vad
6.2.3 package's default model (`load_silero_vad()`, the TorchScript file
`silero_vad/data/silero_vad.jit`), its values unchanged, under the names of the
package's `tinygrad_model.py`.

The wheel's `silero_vad_16k.safetensors` holds other weights (every tensor but the
STFT basis differs from the TorchScript model's, by up to 18 in conv4), so it does
not give the package's probabilities; this file does.

    python silero_from_jit.py   # in a venv with silero-vad==6.2.3, torch, safetensors
"""
from safetensors.torch import save_file
from silero_vad import load_silero_vad

state = load_silero_vad()._model.state_dict()
names = {
    "stft.forward_basis_buffer": "stft_conv.weight",
    "encoder.0.reparam_conv.weight": "conv1.weight",
    "encoder.0.reparam_conv.bias": "conv1.bias",
    "encoder.1.reparam_conv.weight": "conv2.weight",
    "encoder.1.reparam_conv.bias": "conv2.bias",
    "encoder.2.reparam_conv.weight": "conv3.weight",
    "encoder.2.reparam_conv.bias": "conv3.bias",
    "encoder.3.reparam_conv.weight": "conv4.weight",
    "encoder.3.reparam_conv.bias": "conv4.bias",
    "decoder.rnn.weight_ih": "lstm_cell.weight_ih",
    "decoder.rnn.weight_hh": "lstm_cell.weight_hh",
    "decoder.rnn.bias_ih": "lstm_cell.bias_ih",
    "decoder.rnn.bias_hh": "lstm_cell.bias_hh",
    "decoder.decoder.2.weight": "final_conv.weight",
    "decoder.decoder.2.bias": "final_conv.bias",
}
assert sorted(state) == sorted(names), sorted(state)
save_file(
    {ours: state[theirs].contiguous().float() for theirs, ours in names.items()},
    "silero-vad-6.2.3-16k.safetensors",
    metadata={"source": "silero-vad 6.2.3 wheel, silero_vad/data/silero_vad.jit, _model (16 kHz)"},
)
