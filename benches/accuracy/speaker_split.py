"""The speaker-disjoint validation split used to choose the default recipe (README,
"How the options were chosen"): 4 of the 22 training speakers drawn with numpy's
default_rng(0) (C06, C11, C13, C17); every training conversation with any of them is
held out (26), the other 54 are for training. Writes spk_train.npz and spk_val.npz
in the canonical layout.

    python benches/accuracy/speaker_split.py [OUT_DIR [SEED]]

SEED (default 0) draws another 4 speakers, for a second validation split.

Then, per recipe: uisrnn train --data OUT/spk_train.npz --model M --preset reference
--train-iteration 3000 [options]; uisrnn evaluate --model M --data OUT/spk_val.npz.
"""
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "."
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
d = np.load("data/dev/train.npz")
offsets = np.concatenate([[0], np.cumsum(d["lengths"])])
speakers = sorted({c.split("_")[1] for c in d["cluster_ids"]})
held = set(np.random.default_rng(seed).choice(speakers, 4, replace=False))
train, val = [], []
for i in range(len(d["lengths"])):
    present = {c.split("_")[1] for c in d["cluster_ids"][offsets[i] : offsets[i + 1]]}
    (val if present & held else train).append(i)
print("held-out speakers", sorted(held), "train", len(train), "validation", len(val))


def save(name, conversations):
    rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in conversations])
    np.savez(
        f"{out}/{name}",
        sequences=d["sequences"][rows],
        cluster_ids=d["cluster_ids"][rows],
        lengths=d["lengths"][conversations],
        starts=d["starts"][rows],
        ends=d["ends"][rows],
        ids=d["ids"][conversations],
    )


save("spk_train.npz", train)
save("spk_val.npz", val)
