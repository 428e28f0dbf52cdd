"""Every tunable constant of the engine, in one place, each with the reason or source for its value.

The methodology page is generated from this module, so the page cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from site_builder.engine.fit import FitLevel

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
# Above the last limit: FitLevel.NO_FIT.
FIT_LEVELS: tuple[tuple[FitLevel, float], ...] = (
    (FitLevel.EXCELLENT, 0.50),
    (FitLevel.GOOD, 0.70),
    (FitLevel.MODERATE, 0.85),
    (FitLevel.TIGHT, 0.95),
    (FitLevel.VERY_TIGHT, 1.00),
)

# --- Speed ---------------------------------------------------------------------------------------------
# Tensor parallelism needs a recorded GPU-to-GPU link (kind and bandwidth): a GPU record without one gets no
# multi-GPU estimate rather than a guessed link. Fixed latency of one small all-reduce (launch, synchronisation,
# hops), seconds, by link family:
# - nvlink: 10 us; NCCL's 2-GPU H100 all-reduce of 128 B-64 KB takes about 6 us and grows with the GPU count
#   (NVIDIA/nccl issue #1259).
# - pcie: 43 us; an 8-byte all-reduce over 8 PCIe RTX 4090s takes 42.56 us (NVIDIA/nccl issue #1530), 8 RTX 3090s
#   54.18 us (NVIDIA/nccl issue #1439).
# - infinity-fabric: 25 us; RCCL's 8-byte all-reduce over one node of Infinity Fabric (16 MI250X dies) takes
#   25.06 us (ROCm/rccl PR #929, "Before" table). It also brings the batch-1 decode of Llama 3.1 405B on
#   eight MI300X (252 all-reduces a step) within 14-25% of the Oracle and dstack measurements, where 10 us left
#   it 22-35% fast.
# - xe-link is a direct GPU-to-GPU link like NVLink and takes its figure; RoCE leaves through a NIC on PCIe and takes
#   the PCIe figure. Neither is measured in the catalog's sources yet.
ALLREDUCE_LATENCY_S: dict[str, float] = {
    "nvlink": 10e-6,
    "infinity-fabric": 25e-6,
    "xe-link": 10e-6,
    "pcie": 43e-6,
    "roce": 43e-6,
}
# How a record's free-text link type maps to a link family when its `kind` is not filled in.
LINK_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("nvlink", "nvlink"),
    ("infinity", "infinity-fabric"),
    ("roce", "roce"),
    ("xe link", "xe-link"),
    ("xe-link", "xe-link"),
    ("pcie", "pcie"),
)


@dataclass(frozen=True)
class Efficiency:
    """Fraction of peak a framework class reaches; fitted by `make calibrate` (never per record)."""

    memory: float  # share of peak memory bandwidth reached by a decode step
    compute: float  # share of peak dense tensor throughput reached by prefill and large batches
    step_overhead_s: float  # fixed per-step cost: scheduling, sampling, kernel launches
    # Cost each running sequence adds to a decode step beyond its bytes and FLOPs: sampling its token,
    # scheduling it, its block table and its slice of the attention kernels. It is why aggregate throughput
    # flattens as the batch grows even where weights and compute would still have room.
    per_sequence_s: float = 0.0
    # Cost of each decoded token in each mixture-of-experts layer beyond its bytes and FLOPs: picking its top-k
    # experts, gathering the tokens of each expert and launching the expert kernels for them. It is paid from the first
    # token on (MoE routing at batch 1) and grows with the batch, so MoE models saturate sooner than dense ones.
    moe_token_layer_s: float = 0.0


_EFFICIENCY: dict[str, Efficiency] = {
    # Fitted by `site-builder calibrate --fit` (grid: memory 0.5-0.9, compute 0.3-0.9, overhead 0.5-8 ms, then the
    # per-sequence cost 0-8 ms) to the median error of the speed metrics of the catalog's measured records, refitted
    # once the MI300X sweeps, the batch latencies and unfused attention were in. One fitted value is not taken:
    # batched servers' 0.80 / 8 ms per step (10.4% against 11.3% on the NVIDIA records, all under load) would put
    # one user of an 8B model on an H100 at 12 ms a token, three times what CUDA-graph servers measure, so they
    # keep 0.70 / 4 ms.
    "batched-server": Efficiency(memory=0.70, compute=0.50, step_overhead_s=0.004),
    # Local runtimes' per-sequence and MoE routing costs: the joint grid of `calibrate --fit` (fit_batch_costs) on the
    # llama.cpp batch sweeps of the llama.cpp repository's benches/dgx-spark.md (llama-batched-bench, 1 to 32
    # sequences of gpt-oss 20B/120B, Qwen3-Coder-30B-A3B and Qwen2.5-Coder-7B on a DGX Spark, build 6918) and the
    # catalog's one-user MoE records. A dense 7B model's decode step grows 34 -> 54 ms from 1 to 32 sequences where
    # its weights and KV cache grow it by 3.5 ms: about 0.5 ms per added sequence (its own mat-vec columns, attention
    # kernel, sampling). The MoE models grow 2-3 ms per sequence, though every sequence of these sweeps routes to the
    # same experts: 40 us per token and MoE layer (top-k, gathering each expert's tokens, per-expert launches). So a
    # local runtime's aggregate throughput flattens towards 1 / (0.5 ms + MoE layers x 40 us): ~2,000 tokens/s for a
    # dense model, ~700 for a 24-layer MoE; the costs are seconds, not scaled by the device (one GPU measured).
    # The full `calibrate --fit` (every factor at once) lands on 0.80 / 0.80 / 2 ms / 0.5 ms / 30 us for local runtimes;
    # it is not taken: it moves the Apple records' median error from 10.6% to 18.7% for no gain elsewhere.
    "local": Efficiency(
        memory=0.80, compute=0.70, step_overhead_s=0.001, per_sequence_s=0.0005, moe_token_layer_s=0.00004
    ),
}

# Attention without a fused (flash) kernel writes its scores out: llama.cpp's unfused path multiplies K by Q into an
# fp32 score matrix (one write), soft-maxes it in place (a read and a write) and multiplies it by V (a read), so each
# score a prefill computes costs 4 passes x 4 bytes of memory traffic. llama-bench ran unfused by default until 2025
# ("-fa, --flash-attn <0|1> (default: 0)", ggml-org/llama.cpp examples/llama-bench/README.md); batched servers and
# today's llama.cpp builds fuse it, and the engine assumes fused attention unless a workload says otherwise.
UNFUSED_SCORE_BYTES = 4 * 4


# Extra step cost of a serving stack on one vendor's GPUs for each running sequence in each transformer layer, on top
# of the class's own per-sequence cost (keyed by engine class and GPU vendor; seconds per sequence and layer). The
# measured batch sweeps of Llama 3.1 405B on eight MI300X (ROCm vLLM's benchmark_latency, Oracle, 2024; ROCm vLLM 0.6.3
# and TGI serving sweeps, dstack, 2024) grow the decode step 4-8x from batch 1 to 256 while weights, KV and datasheet
# FLOPs grow it less than 2x: the ROCm attention kernels pay a cost per running sequence in every layer, 0.3 ms per
# sequence over the model's 126 layers (fitted by `calibrate --fit` on those records). Counted per layer, a current ROCm
# vLLM build serving Qwen3-8B's 36 layers at 32 users on one MI300X (vLLM recipes PR #431, 2026: TPOT 9.42 ms) is
# predicted 12.7 ms; a flat 0.3 ms per sequence would add 9.3 ms to a 10 ms step and predict 19.3 ms.
_STACK_PER_SEQUENCE_S: dict[tuple[str, str], float] = {
    ("batched-server", "amd"): 2.4e-6,
}


@dataclass(frozen=True)
class Assumptions:
    """The engine's fitted constants as one immutable value, passed to the speed functions.

    `make calibrate` fits them by building trial values with `dataclasses.replace` and predicting with each; nothing
    module-wide is ever patched, so a trial cannot leak into another estimate.
    """

    efficiency: Mapping[str, Efficiency]  # by engine class
    stack_per_sequence_s: Mapping[tuple[str, str], float]  # by (engine class, GPU vendor), per sequence and layer


DEFAULT_ASSUMPTIONS = Assumptions(MappingProxyType(_EFFICIENCY), MappingProxyType(_STACK_PER_SEQUENCE_S))
# Read-only views of the defaults, for the methodology page and the browser engine's export.
EFFICIENCY = DEFAULT_ASSUMPTIONS.efficiency
STACK_PER_SEQUENCE_S = DEFAULT_ASSUMPTIONS.stack_per_sequence_s


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

# --- Serving under load (continuous batching with chunked prefill) ----------------------------------------
# Tokens one scheduler step may carry (decode tokens of running sequences plus prefill chunks). SGLang sets its
# chunked_prefill_size from the GPU's memory: 2048 below 35 GiB (A10, RTX 4090), 8192 below 160 GiB (A100,
# H100, H200), 16384 above (B200, MI300X) (sgl-project/sglang python/sglang/srt/server_args.py, ServerArgs
# __post_init__); vLLM's OpenAI server uses the same 2048/8192 split for max_num_batched_tokens.
STEP_TOKEN_BUDGETS: tuple[tuple[float, int], ...] = ((35.0, 2048), (160.0, 8192), (float("inf"), 16384))
# llama.cpp's server pushes every slot's tokens through one physical micro-batch (-ub, 512 by default).
LOCAL_STEP_TOKENS = LOCAL_BATCH_TOKENS
# llama.cpp splits a model over GPUs by layers (--split-mode layer, the default) and pipelines a prompt's micro-batches
# through them: GPU 1 runs micro-batch 2 while GPU 2 runs micro-batch 1 ("llama : add pipeline parallelism support",
# ggml-org/llama.cpp PR #6017, 2024-03). One llama_decode call holds at most the logical batch (-b, 2048 tokens by
# default in llama-bench and llama-server), and the scheduler keeps GGML_SCHED_MAX_COPIES = 4 copies of the graph's
# inputs (ggml/src/ggml-backend.c), so up to 2048 tokens (4 micro-batches of 512) are in flight; a call drains the
# pipeline before the next begins.
LOCAL_PIPELINE_TOKENS = 2048
# Share of the step budget prefill may take before queueing theory's waiting time diverges; past it the server is
# prefill-bound and the M/D/1 wait is held at this load (9 service times at 0.9 would be 4.5 chunks' wait).
MAX_PREFILL_LOAD = 0.9

# --- Each engine's memory budget for the KV cache ----------------------------------------------------------


@dataclass(frozen=True)
class EngineBudget:
    """How an engine sizes its KV cache at start-up, the flag that changes it, and where the default comes from.

    GPU memory is what PyTorch reports, 1% below the nominal size (DRIVER_RESERVED_FRACTION).
    rule: "of-total"    KV = fraction x GPU memory - weights - activation peak - non-torch memory (vLLM: its start-up
                        profile's peak, the larger of a forward pass of max_num_batched_tokens tokens and the sampler
                        over max_num_seqs sequences, both by GPU; non-torch 0.25 GiB, 2.1 GiB per tensor-parallel rank)
          "of-free"     KV = fraction x (GPU memory - weights - activation peak - runtime overhead)
          "sglang"      KV = GPU memory - reserved - weights - non-torch memory, reserved by GPU memory (SGLang's
                        mem_fraction_static heuristic: static share = (memory - reserved) / memory, and the static share
                        holds what is in use after loading + KV)
          "tgi"         KV = TGI_WIGGLE_ROOM x (fraction x GPU memory - weights - warm-up prefill peak - runtime
                        overhead - the warm-up batch's KV) + the warm-up batch's KV (TGI's warm-up)
          "exact"       KV = what the launch asks for: --ctx-size tokens shared by the parallel slots
          "working-set" KV = what the OS lets the GPU keep resident (the setup's usable memory) - the rest
    """

    rule: str
    fraction: float
    flag: str
    source: str


ENGINE_BUDGETS: dict[str, EngineBudget] = {
    "vllm": EngineBudget(
        "of-total",
        0.90,
        "--gpu-memory-utilization",
        "vLLM CacheConfig.gpu_memory_utilization (0.9 through the releases the catalog's measurements used; "
        "https://docs.vllm.ai/en/stable/api/vllm/config/cache/ documents the current default)",
    ),
    "sglang": EngineBudget(
        "sglang",
        1.0,
        "--mem-fraction-static",
        "sgl-project/sglang python/sglang/srt/server_args.py, ServerArgs.__post_init__: reserved memory by GPU size",
    ),
    "tensorrt-llm": EngineBudget(
        "of-free",
        0.90,
        "--kv_cache_free_gpu_memory_fraction",
        "NVIDIA/TensorRT-LLM docs/source/examples/kvcacheconfig.md: free_gpu_memory_fraction defaults to 0.9 of "
        "the memory free after loading weights",
    ),
    "tgi": EngineBudget(
        "tgi",
        1.0,
        "--cuda-memory-fraction (and --max-batch-total-tokens)",
        "huggingface/text-generation-inference launcher/src/main.rs: --cuda-memory-fraction defaults to 1.0 of "
        "total memory; server/text_generation_server/models/flash_causal_lm.py (commit 895c5f1) warmup: after a "
        "prefill of --max-batch-prefill-tokens, 95% of the memory still free becomes KV blocks, plus the warm-up "
        "batch's own blocks",
    ),
    "lmdeploy": EngineBudget(
        "of-free",
        0.80,
        "--cache-max-entry-count",
        "InternLM/lmdeploy lmdeploy/messages.py TurbomindEngineConfig: cache_max_entry_count = 0.8, a share of "
        "the GPU memory free after the weights load",
    ),
    "llama-cpp": EngineBudget(
        "exact", 1.0, "--ctx-size (split across --parallel slots)", "ggml-org/llama.cpp tools/server/README.md"
    ),
    "ollama": EngineBudget(
        "exact",
        1.0,
        "OLLAMA_CONTEXT_LENGTH x OLLAMA_NUM_PARALLEL",
        "https://docs.ollama.com/faq: required memory scales with OLLAMA_NUM_PARALLEL x OLLAMA_CONTEXT_LENGTH",
    ),
    "mlx": EngineBudget(
        "working-set",
        1.0,
        "sysctl iogpu.wired_limit_mb (raises macOS's GPU working-set limit)",
        "Metal's recommendedMaxWorkingSetSize bounds what MLX keeps wired; the catalog's usable-memory figure "
        "for each Mac",
    ),
}
# An engine not listed above sizes its cache like the class it belongs to.
CLASS_BUDGET = {"batched-server": "vllm", "local": "llama-cpp"}
# SGLang's reserve for activations and CUDA graphs (GiB) by GPU memory (GiB): (below, fixed, per parallel rank).
SGLANG_RESERVED_GIB: tuple[tuple[float, float, float], ...] = (
    (35.0, 2.8, 0.1),
    (90.0, 9.5, 0.5),
    (160.0, 12.0, 0.5),
    (float("inf"), 32.0, 0.0),
)

# vLLM sizes its KV pool from a start-up profile: one forward pass of max_num_batched_tokens tokens, then the sampler
# over min(max_num_seqs, tokens) sequences (vllm-project/vllm vllm/v1/worker/gpu_model_runner.py, profile_run and
# _dummy_sampler_run, commit 4e17906); the pool is gpu_memory_utilization x total memory less the weights, that
# profiled peak and the non-torch memory. The OpenAI server's batch defaults depend on the GPU
# (vllm/engine/arg_utils.py, EngineArgs.get_batch_defaults, commit 99d7eb5): a GPU of at least 70 GiB that is not an
# A100 profiles 8192 tokens and 1024 sequences, any other 2048 and 256. With chunked prefill off (vLLM V0 below 32K
# context) the profiled batch is max(max_model_len, that default) instead (the same function), which a calibration
# record states as its batch tokens.
VLLM_LARGE_BATCH_MIN_GIB = 70.0
VLLM_LARGE_BATCH = (8192, 1024)  # (max_num_batched_tokens, max_num_seqs)
VLLM_SMALL_BATCH = (2048, 256)
VLLM_SMALL_BATCH_GPUS = ("a100",)  # vLLM keeps the small defaults on A100s by device name (its PR #17885)
# TGI's warm-up prefill is --max-batch-prefill-tokens, 4096 by default (launcher/src/main.rs); 95% of the memory free
# after it becomes KV blocks ("Leave 5% for some wiggle room", flash_causal_lm.py warmup in TGI 2.x; later releases
# read the share from TGI_WIGGLE_ROOM).
TGI_PREFILL_TOKENS = 4096
TGI_WIGGLE_ROOM = 0.95
# Memory outside PyTorch's allocator that vLLM's profile measures and keeps out of the KV pool (CUDA context, cuBLAS
# workspaces, and with tensor parallelism NCCL's and the custom all-reduce's buffers); SGLang's free-memory probe after
# loading the weights sees the same runtime. vLLM 0.19.0 on H100 80GB
# (llm-d-incubation/llm-d-planner accuracy/results/v0.19.0/results_raw.csv, commit d3121e0, 50 runs): 0.24-0.27 GiB
# on one GPU, 2.06-2.21 GiB per GPU at TP 2 and 4; vLLM issue #10517 logs 0.35 GiB on one RTX 3090. The 1.79 GiB of
# PR #10511 (RUNTIME_OVERHEAD_BYTES) stays the fit check's conservative figure; the pool is sized on what the
# profile sees.
SERVER_NON_TORCH_BYTES = (int(0.25 * GIB), int(2.1 * GIB))  # (one GPU, each GPU of a tensor-parallel group)
# vLLM's profile frees the forward pass's activations before it samples, so its peak is the larger of the two. The
# sampler's peak over max_num_seqs rows of the vocabulary is 3.8 fp32 copies of the logits (fitted on the sweep above
# where the sampler dominates: Llama-3.1-8B 1.89 GiB, Qwen2.5-7B 2.21 GiB and Gemma-2-2B 3.62 GiB at 1024 sequences
# are 3.86, 3.81 and 3.71 copies; the fp32 logits, their sorted copy with int64 indices for top-k/top-p, and the
# probabilities).
VLLM_SAMPLER_FP32_COPIES = 3.8
# The driver keeps part of a GPU's memory to itself: PyTorch's total_memory, which every engine sizes its pool from,
# is 79.19 GiB on an 80 GB H100 (llm-d-planner sweep above) and 79.15 GiB on an 80 GB A100 (vLLM start-up logs,
# "total_gpu_memory (79.15GiB)"), about 1% less than the nominal size.
DRIVER_RESERVED_FRACTION = 0.01
