"""Peak memory of the decoder's upsampling with and without ``memory_efficient_upsample``.

Runs one forward + backward of :class:`FiLMCLIPSegHead` (the paper's sizes: reduce dim 128, the
complex transposed convolution) on a training batch of B images x N slots at 224 x 224, each
variant in a fresh process, and prints the peak resident memory (CPU) or the peak allocated
memory (CUDA) above what the process held before the step, and the step's time.

Usage:
    python tools/analysis/upsample_memory.py [--batch 8] [--slots 20] [--device cpu]
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def measure(efficient: bool, batch: int, slots: int, device: str) -> dict:
    """One head step in this process: peak memory (MiB) above the start, seconds."""
    import torch

    from coseg_mmseg.models import FiLMCLIPSegHead
    torch.manual_seed(0)
    head = FiLMCLIPSegHead(channels=128, memory_efficient_upsample=efficient).to(device)
    layers = [torch.randn(batch, 196, 768, device=device) for _ in range(3)]
    feats = dict(layers=layers, layers_cls=[x[:, 0] for x in layers], grid=(14, 14),
                 slot_embeds=torch.randn(batch, slots, 512, device=device, requires_grad=True))
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    head(feats)['mask_logits'].float().square().mean().backward()
    if device == 'cuda':
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - before) / 2 ** 20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    return dict(peak_mib=round(peak), seconds=round(time.perf_counter() - start, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--slots', type=int, default=20)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--child', choices=['plain', 'efficient'], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child == 'efficient', args.batch, args.slots, args.device)))
        return
    print(f'FiLMCLIPSegHead forward + backward, B={args.batch} x N={args.slots} masks at '
          f'224 x 224, reduce dim 128, complex upsampling, {args.device}')
    for variant in ('plain', 'efficient'):
        out = subprocess.run([sys.executable, __file__, '--child', variant, '--batch',
                              str(args.batch), '--slots', str(args.slots), '--device',
                              args.device], check=True, stdout=subprocess.PIPE, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"memory_efficient_upsample={variant == 'efficient'!s:5}  peak +"
              f"{result['peak_mib']} MiB  {result['seconds']} s")


if __name__ == '__main__':
    main()
