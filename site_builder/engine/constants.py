"""Every tunable constant of the engine, in one place, each with the reason or source for its value.

The methodology page is generated from this module, so the page cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
HOURS_PER_MONTH = 730

# --- Memory -------------------------------------------------------------------------------------------
# GPU memory is marketed in "GB" but sized in binary units: vLLM reports an 80GB-class GPU as 79.22 GiB
# total (vLLM PR #10511). Capacity in bytes is therefore memory_gb * 2**30.
CAPACITY_UNIT_BYTES = GIB
# Share of memory a serving engine plans to fill: vLLM's default --gpu-memory-utilization is 0.9.
USABLE_FRACTION = 0.90
# Per-GPU runtime memory outside PyTorch's allocator (CUDA context, cuBLAS/NCCL workspaces): 1.79 GiB
# measured by vLLM for Llama-3-8B on one GPU (vLLM PR #10511, "non_torch_memory 1.79GiB").
RUNTIME_OVERHEAD_BYTES = int(1.79 * GIB)
# llama.cpp and other single-stream runtimes keep no NCCL or CUDA-graph pools; their own compute buffer is
# modelled by the activation term. The CUDA context alone is several hundred MiB; we keep 0.5 GiB.
LOCAL_RUNTIME_OVERHEAD_BYTES = int(0.5 * GIB)
# Tokens a batched server pushes through one forward pass (the activation buffer): vLLM profiles with
# max_num_batched_tokens, 8192 for a model of 8K context (the PR #10511 measurement).
SERVER_BATCH_TOKENS = 8192
# llama.cpp's default physical batch (-ub) is 512 tokens.
LOCAL_BATCH_TOKENS = 512
# Sequences whose logits are sampled at once (vLLM's default max_num_seqs is 256).
MAX_SAMPLED_SEQUENCES = 256
# Activation bytes per token in a forward pass, in units of 16-bit values: the MLP's gate+up output (2*I),
# its activated product (I), and four hidden-sized buffers (residual, norm output, attention output,
# MLP output). The sampler holds logits, probabilities and log-probabilities in fp32 (3 * 4 bytes * vocab).
ACT_FFN_FACTOR = 3
ACT_HIDDEN_FACTOR = 4
SAMPLER_FP32_COPIES = 3

# --- Fit levels ----------------------------------------------------------------------------------------
# Share of usable memory a setup needs -> level. Headroom matters: longer prompts and more users need KV.
FIT_LEVELS: tuple[tuple[str, float], ...] = (
    ("excellent", 0.50),
    ("good", 0.70),
    ("moderate", 0.85),
    ("tight", 0.95),
    ("very-tight", 1.00),
)
FIT_LABELS = {
    "excellent": "Excellent",
    "good": "Good",
    "moderate": "Moderate",
    "tight": "Tight",
    "very-tight": "Very tight",
    "no-fit": "No fit",
}

# --- Speed ---------------------------------------------------------------------------------------------
# When no interconnect is recorded, tensor parallelism runs over PCIe 4.0 x16: 32 GB/s per direction.
DEFAULT_LINK_GBPS_PER_DIRECTION = 32.0
# Fixed latency of one all-reduce (kernel launch and synchronisation), seconds.
ALLREDUCE_LATENCY_S = 10e-6


@dataclass(frozen=True)
class Efficiency:
    """Fraction of peak a framework class reaches; fitted by `make calibrate` (never per record)."""

    memory: float  # share of peak memory bandwidth reached by a decode step
    compute: float  # share of peak dense tensor throughput reached by prefill and large batches
    step_overhead_s: float  # fixed per-step cost: scheduling, sampling, kernel launches


EFFICIENCY: dict[str, Efficiency] = {
    # Fitted by `site-builder calibrate --fit` (grid: memory 0.5-0.9, compute 0.3-0.9, overhead 0.5-8 ms)
    # to the median error of the speed metrics of the catalog's measured records.
    "batched-server": Efficiency(memory=0.70, compute=0.50, step_overhead_s=0.004),
    "local": Efficiency(memory=0.90, compute=0.70, step_overhead_s=0.002),
}

# --- Reference workloads ---------------------------------------------------------------------------------
FIT_CONTEXT = 8192  # context used by the compatibility matrix (or the model's window if smaller)
SERVE_CONCURRENCY = 32  # the recommendations' workload
SERVE_PROMPT = 2048
SERVE_OUTPUT = 512
GPU_COUNTS = (1, 2, 4, 8)
LOCAL_PROMPT = 512  # the single-user table: one chat turn on a personal machine
LOCAL_OUTPUT = 256

# --- Score weights (sum to 1) -----------------------------------------------------------------------------
SCORE_WEIGHTS = {"cost": 0.35, "throughput": 0.20, "latency": 0.25, "headroom": 0.20}
# Inter-token latency at which a setup earns the full latency score: 40 tokens/s per user, comfortably
# faster than people read; slower setups score in proportion (50 ms, 20 tokens/s, earns half).
ITL_TARGET_MS = 25.0
