#!/usr/bin/env python3
"""The speed and output peer of imcsim's SNN engine: the same networks in plain PyTorch (no snnTorch).

Neurons, written out in float32 in the order the source engines compute them (docs/SOURCES.md §2):
  snntorch (Leaky, subtract reset applied one step late from the previous potential):
      r = H(u - thr) (detached); u = beta*u + x - r*thr; s = H(u - thr)
  dtsnn:  v = leak*u + x; s = H(v - thr); hard u = s ? v_reset : v (spike detached); soft u = v - thr*s
H(z) = z > 0 forward; backward the ATan surrogate (alpha/2) / (1 + (pi/2*alpha*z)^2), alpha = 2.

Layers before the first neuron see the same (directly encoded) input at every timestep and are computed
once per batch. The output layer is a non-spiking weighted layer; its per-timestep output o_t are the
logits (prediction: argmax of sum_t o_t). Training: one Adam step (lr 1e-3) on the mean over timesteps of
the cross-entropy of o_t (TET without its 1e-3 MSE term).

Usage (the network description is imcsim's network.yaml as JSON, written by bench/engine-vs-torch.js):
  torch_snn.py logits --spec net.json --weights w.safetensors --input x.f32 --out logits.f32
  torch_snn.py bench  --spec net.json --weights w.safetensors --input x.f32 --labels y.i32
                      [--batches N] [--threads 1]
Prints one JSON line. Times are process CPU seconds (time.process_time), with torch.set_num_threads(threads).
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ALPHA = 2.0


class Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return (z > 0).to(z.dtype)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        a = (math.pi / 2 * ALPHA) * z
        return g * ((ALPHA / 2) / (1 + a * a))


def read_safetensors(path):
    """A safetensors file by hand: u64 header length, JSON header, raw little-endian tensors."""
    with open(path, 'rb') as fh:
        blob = fh.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8 : 8 + n].decode('utf-8'))
    base = 8 + n
    dtypes = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        begin, end = meta['data_offsets']
        arr = np.frombuffer(blob, dtype=dtypes[meta['dtype']], count=(end - begin) // np.dtype(dtypes[meta['dtype']]).itemsize, offset=base + begin)
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(meta['shape']).copy())
    return out


def two(v):
    return (v, v) if isinstance(v, (int, float)) else (v[0], v[1])


class Net:
    """Ops from imcsim's layer list: ('w', layer, weight, bias), ('n', neuron), ('pool', ...), ('flat',)."""

    def __init__(self, spec, tensors):
        self.ops = []
        self.params = []
        self.first_neuron = None
        default = spec['neuron']
        for i, layer in enumerate(spec['layers']):
            name = layer.get('name') or f"{layer['type']}{i}"
            t = layer['type']
            if t in ('conv2d', 'linear'):
                w = tensors[f'{name}.weight'].clone().requires_grad_(True)
                b = tensors[f'{name}.bias'].clone().requires_grad_(True) if layer.get('bias') else None
                self.params += [w] + ([b] if b is not None else [])
                self.ops.append(('w', layer, w, b))
                pb = layer.get('pool_before_neuron')
                if pb:  # pooling of the pre-activations, between the conv and its neuron (conv -> pool -> LIF)
                    k = two(pb['kernel'])
                    s = two(pb['stride']) if pb.get('stride') is not None else k
                    self.ops.append(('pool', pb['type'], k, s, two(pb.get('padding', 0))))
                if layer.get('spiking'):
                    n = dict(default, **(layer.get('neuron') or {}))
                    if f'{name}.threshold' in tensors:
                        n['threshold'] = float(tensors[f'{name}.threshold'][0])
                    if f'{name}.leak' in tensors:
                        n['leak'] = float(tensors[f'{name}.leak'][0])
                    if n['convention'] not in ('snntorch', 'dtsnn'):
                        raise SystemExit(f"torch_snn.py: neuron convention {n['convention']} is not implemented")
                    if n['model'] == 'if':
                        n['leak'] = 1.0
                    if self.first_neuron is None:
                        self.first_neuron = len(self.ops)
                    self.ops.append(('n', n))
            elif t in ('maxpool2d', 'avgpool2d', 'sumpool2d'):
                k = two(layer['kernel'])
                s = two(layer['stride']) if layer.get('stride') is not None else k
                self.ops.append(('pool', t, k, s, two(layer.get('padding', 0))))
            elif t in ('flatten', 'dropout'):
                pass
            else:
                raise SystemExit(f'torch_snn.py: layer type {t} is not implemented')

    def apply(self, op, h):
        kind = op[0]
        if kind == 'w':
            layer, w, b = op[1], op[2], op[3]
            if layer['type'] == 'linear':
                return F.linear(h.flatten(1), w, b)
            return F.conv2d(h, w, b, stride=two(layer['stride']), padding=two(layer['padding']),
                            dilation=two(layer['dilation']), groups=layer['groups'])
        _, t, k, s, p = op
        if t == 'maxpool2d':
            return F.max_pool2d(h, k, s, p)
        if t == 'avgpool2d':
            return F.avg_pool2d(h, k, s, p)
        return F.avg_pool2d(h, k, s, p) * (k[0] * k[1])

    @staticmethod
    def neuron(n, x, u):
        """One step; returns (spikes, new state). The state is u (snntorch) or the reset potential (dtsnn)."""
        thr = float(np.float32(n['threshold']))
        leak = float(np.float32(n['leak']))
        if u is None:
            u = torch.zeros_like(x)
        if n['convention'] == 'snntorch':
            v = u.mul(leak).add(x)
            if n.get('reset_delay', True):
                r = (u - thr > 0).to(x.dtype).detach()
                if n['reset'] == 'hard':
                    v = torch.where(r > 0, torch.full_like(v, n['v_reset']), v)
                else:
                    v = v - r * thr
                return Spike.apply(v - thr), v
            s = Spike.apply(v - thr)
            sd = s.detach()
            nu = v * (1 - sd) + sd * n['v_reset'] if n['reset'] == 'hard' else v - sd * thr
            return s, nu
        v = u.mul(leak).add(x)
        s = Spike.apply(v - thr)
        sd = s.detach()
        if n['reset'] == 'hard':
            nu = v * (1 - sd) + sd * float(np.float32(n['v_reset']))
        else:
            nu = v - sd * thr
        return s, nu

    def forward(self, x, T):
        """Per-timestep outputs: list of T tensors B x classes."""
        h0 = x
        for op in self.ops[: self.first_neuron]:
            h0 = self.apply(op, h0)
        states = [None] * len(self.ops)
        outs = []
        for _ in range(T):
            h = h0
            for j in range(self.first_neuron, len(self.ops)):
                op = self.ops[j]
                if op[0] == 'n':
                    h, states[j] = self.neuron(op[1], h, states[j])
                else:
                    h = self.apply(op, h)
            outs.append(h)
        return outs


def load(args):
    with open(args.spec) as fh:
        spec = json.load(fh)
    tensors = read_safetensors(args.weights)
    shape = spec['input']['shape']
    raw = np.fromfile(args.input, dtype='<f4')
    per = int(np.prod(shape))
    x = torch.from_numpy(raw.reshape(-1, *shape).copy())
    assert x.shape[0] * per == raw.size
    return spec, Net(spec, tensors), x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['logits', 'bench'])
    ap.add_argument('--spec', required=True)
    ap.add_argument('--weights', required=True)
    ap.add_argument('--input', required=True)
    ap.add_argument('--labels')
    ap.add_argument('--out')
    ap.add_argument('--timesteps', type=int)
    ap.add_argument('--batches', type=int, default=3)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec, net, x = load(args)
    T = args.timesteps or spec['timesteps']
    if args.mode == 'logits':
        with torch.no_grad():
            outs = net.forward(x, T)
        arr = torch.stack(outs).numpy().astype('<f4')  # T x B x K, t-major
        arr.tofile(args.out)
        print(json.dumps({'timesteps': T, 'samples': x.shape[0], 'classes': arr.shape[2]}))
        return
    y = torch.from_numpy(np.fromfile(args.labels, dtype='<i4').astype(np.int64))
    B = x.shape[0]
    opt = torch.optim.Adam(net.params, lr=1e-3)

    def infer():
        with torch.no_grad():
            outs = net.forward(x, T)
            torch.stack(outs).sum(0).argmax(1)

    def train():
        opt.zero_grad()
        outs = net.forward(x, T)
        loss = sum(F.cross_entropy(o, y) for o in outs) / T
        loss.backward()
        opt.step()

    res = {'threads': torch.get_num_threads(), 'torch': torch.__version__, 'batch': B, 'timesteps': T}
    for name, fn in (('infer', infer), ('train', train)):
        fn()  # warm-up
        c0 = time.process_time()
        for _ in range(args.batches):
            fn()
        res[name] = {'samples': B * args.batches, 'cpu_s': time.process_time() - c0}
    print(json.dumps(res))


if __name__ == '__main__':
    sys.exit(main())
