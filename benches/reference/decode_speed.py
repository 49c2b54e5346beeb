"""Decoding speed of the reference Python `uisrnn` 0.1.2 (PyTorch) on a model of the
reference's default size (hidden 512), for `benches/reference/compare_decoding.sh`.

Trains the reference model briefly on data/toy_training_data.npz (seeded; the
decoder's work depends on the model, not on how well it is trained), saves it as
a `.uisrnn` file, and times `predict_single` on the first sequences of
data/toy_testing_data.npz at the reference's inference defaults (beam 10,
look-ahead 1, test_iteration 2). Writes the labels as JSON beside the model, so
that the Rust side can check it gives the same ones.

  python benches/reference/decode_speed.py --out DIR [--threads 1] [--sequences 5]
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import uisrnn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--out', required=True, help='directory for model.uisrnn and labels.json')
  parser.add_argument('--threads', type=int, default=1)
  parser.add_argument('--hidden', type=int, default=512)
  parser.add_argument('--iterations', type=int, default=100)
  parser.add_argument('--sequences', type=int, default=5)
  parser.add_argument('--seed', type=int, default=0)
  opts = parser.parse_args()
  torch.set_num_threads(opts.threads)
  saved_argv = sys.argv
  sys.argv = [saved_argv[0]]
  try:
    model_args, training_args, inference_args = uisrnn.parse_arguments()
  finally:
    sys.argv = saved_argv
  model_args.observation_dim = 256
  model_args.rnn_hidden_size = opts.hidden
  training_args.train_iteration = opts.iterations
  random.seed(opts.seed)
  np.random.seed(opts.seed)
  torch.manual_seed(opts.seed)
  with np.load(os.path.join(REPO, 'data', 'toy_training_data.npz')) as npz:
    train = npz['sequences'].astype(np.float64)
    bounds = np.cumsum(npz['lengths'])[:-1]
    ids = np.concatenate([np.char.add('%d_' % i, x.astype(str)) for i, x in
                          enumerate(np.split(npz['cluster_ids'], bounds))])
  model = uisrnn.UISRNN(model_args)
  model.fit(train, ids, training_args)
  os.makedirs(opts.out, exist_ok=True)
  model.save(os.path.join(opts.out, 'model.uisrnn'))
  with np.load(os.path.join(REPO, 'data', 'toy_testing_data.npz')) as npz:
    bounds = np.cumsum(npz['lengths'])[:-1]
    tests = np.split(npz['sequences'].astype(np.float64), bounds)[:opts.sequences]
  model.predict_single(tests[0][:10], inference_args)  # warm-up, untimed
  labels = []
  start = time.perf_counter()
  for sequence in tests:
    labels.append([int(x) for x in model.predict_single(sequence, inference_args)])
  seconds = time.perf_counter() - start
  with open(os.path.join(opts.out, 'labels.json'), 'w') as f:
    json.dump(labels, f)
  observations = sum(len(x) for x in tests)
  print('RESULT side=reference threads=%d hidden=%d sequences=%d observations=%d '
        'seconds=%.4f' % (opts.threads, opts.hidden, len(tests), observations, seconds))


if __name__ == '__main__':
  main()
