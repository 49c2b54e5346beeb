"""Training speed of the reference Python `uisrnn` 0.1.2 (PyTorch).

Trains the reference model twice, for A and then B iterations (fresh model each
time, same seed), and reports the marginal cost of one training iteration,
(t_B - t_A) / (B - A), which cancels the fixed setup cost (data checks,
transition-bias estimate, permutation sampling). An untimed 1-iteration fit
runs first so that PyTorch's one-time start-up cost falls in neither timing.
Peak RSS of the process (ru_maxrss, which includes importing torch) is also
reported.

Data: `toy` is data/toy_training_data.npz passed as ONE concatenated sequence
(ids made unique per sequence by prefixing its index, as the reference's toy
data is laid out); `dev` (or any npz path with `sequences`, `cluster_ids` and
`lengths`) is passed as a list of per-conversation sequences.

Example:
  /work/venv-ref/bin/python benches/reference/train_speed.py --data toy --threads 1
"""
import argparse
import os
import random
import resource
import sys
import time

import numpy as np
import torch
import uisrnn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_data(data, dev_path):
  """Returns (train_sequences, train_cluster_ids, name, number of clusters)."""
  path = {'toy': os.path.join(REPO, 'data', 'toy_training_data.npz'),
          'dev': dev_path}.get(data, data)
  with np.load(path, allow_pickle=False) as npz:
    seqs = npz['sequences'].astype(np.float64)  # the reference wants float64
    ids = npz['cluster_ids'].astype(str)
    bounds = np.cumsum(npz['lengths'])[:-1]
  seq_list = np.split(seqs, bounds)
  id_list = np.split(ids, bounds)
  if data == 'toy':
    unique = np.concatenate([np.char.add('%d_' % i, x) for i, x in enumerate(id_list)])
    return seqs, unique, data, len(set(unique))
  name = data if data == 'dev' else os.path.basename(path)
  n_clusters = len({(i, c) for i, x in enumerate(id_list) for c in set(x)})
  return seq_list, id_list, name, n_clusters


def reference_args(opts, iterations):
  """The reference's parse_arguments() defaults, with our overrides."""
  saved_argv = sys.argv
  sys.argv = [saved_argv[0]]  # keep our own flags away from its argparse
  try:
    model_args, training_args, _ = uisrnn.parse_arguments()
  finally:
    sys.argv = saved_argv
  model_args.observation_dim = 256
  model_args.rnn_hidden_size = opts.hidden
  training_args.train_iteration = iterations
  training_args.batch_size = opts.batch_size
  training_args.num_permutations = opts.num_permutations
  training_args.learning_rate = opts.learning_rate
  return model_args, training_args


def peak_rss_mib():
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def timed_fit(opts, iterations, train_sequences, train_cluster_ids):
  model_args, training_args = reference_args(opts, iterations)
  random.seed(opts.seed)
  np.random.seed(opts.seed)
  torch.manual_seed(opts.seed)
  model = uisrnn.UISRNN(model_args)
  start = time.perf_counter()
  model.fit(train_sequences, train_cluster_ids, training_args)
  return time.perf_counter() - start, model.device


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default='toy', help='toy, dev, or a path to an npz')
  parser.add_argument('--dev-path', default=os.path.join(REPO, 'data', 'dev', 'train.npz'))
  parser.add_argument('--hidden', type=int, default=512)
  parser.add_argument('--threads', type=int, default=1)
  parser.add_argument('--iterations', default='20,120', help='A,B')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--batch-size', type=int, default=10)
  parser.add_argument('--num-permutations', type=int, default=10)
  parser.add_argument('--learning-rate', type=float, default=1e-3)
  opts = parser.parse_args()
  iters_a, iters_b = (int(x) for x in opts.iterations.split(','))
  if iters_b <= iters_a:
    parser.error('--iterations A,B needs B > A')

  torch.set_num_threads(opts.threads)
  train_sequences, train_cluster_ids, name, n_clusters = load_data(
      opts.data, opts.dev_path)
  n_obs = sum(len(x) for x in train_cluster_ids) if isinstance(
      train_cluster_ids, list) else len(train_cluster_ids)
  print('uisrnn 0.1.2, torch %s, numpy %s, threads=%d' % (
      torch.__version__, np.__version__, torch.get_num_threads()))
  print('data=%s observations=%d sequences_passed=%s clusters=%d' % (
      name, n_obs, len(train_sequences) if isinstance(train_sequences, list)
      else '1 (concatenated)', n_clusters))

  print('peak_rss_mib after loading torch and data: %.1f' % peak_rss_mib())
  timed_fit(opts, 1, train_sequences, train_cluster_ids)  # warm-up, untimed
  seconds = {}
  for iterations in (iters_a, iters_b):
    seconds[iterations], device = timed_fit(
        opts, iterations, train_sequences, train_cluster_ids)
    max_rss_mib = peak_rss_mib()
    print('RUN data=%s hidden=%d threads=%d device=%s iterations=%d seconds=%.3f '
          'peak_rss_mib=%.1f' % (name, opts.hidden, opts.threads, device,
                                 iterations, seconds[iterations], max_rss_mib))
  s_per_iter = (seconds[iters_b] - seconds[iters_a]) / (iters_b - iters_a)
  print('RESULT data=%s hidden=%d threads=%d s_per_iter=%.4f peak_rss_mib=%.1f' % (
      name, opts.hidden, opts.threads, s_per_iter, max_rss_mib))


if __name__ == '__main__':
  main()
