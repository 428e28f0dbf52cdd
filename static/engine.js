// The estimate engine in the browser: the closed forms of site_builder/engine/, function by function, evaluated on
// the JSON that site_builder/engine_export.py writes (api/v1/engine/shared.json and models/<id>.json).
// estimate(shared, model, inputs) returns what `site-builder estimate --json` prints for the same flags, or throws
// an EstimateError with the CLI's message. tests/engine/test_engine_js_parity.py holds the two sides equal.
// No dependencies, no DOM: the calculator and planner import it.

export class EstimateError extends Error {
  constructor(message) {
    super(message);
    this.name = "EstimateError";
  }
}

// ---- Python's arithmetic -------------------------------------------------------------------------------------

// Python's float floor division (floatobject.c float_floor_div): fmod first, so it never rounds up past the floor.
export function pyFloorDiv(a, b) {
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod && b < 0 !== mod < 0) div -= 1;
  if (div) {
    let floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
    return floordiv;
  }
  return 0 * (a / b);
}

// Python's round(x, digits): the double's exact value rounded to `digits` decimals, an exact tie to the even digit.
// toFixed also rounds the exact value but breaks a tie upwards; toFixed(100) shows whether the value is a tie.
export function pyRound(x, digits) {
  if (x === null || x === undefined) return null;
  if (Math.abs(x) < 1e21) {
    const exact = x.toFixed(100).replace(/0+$/, "");
    const dot = exact.indexOf(".");
    if (dot >= 0 && exact.length - dot - 1 === digits + 1 && exact.endsWith("5")) {
      const kept = exact.slice(0, -1).replace(/\.$/, ""); // the value truncated to `digits` decimals
      const last = Number(kept[kept.length - 1]);
      if (last % 2 === 0) return Number(kept);
      const step = 10 ** -digits;
      return Number((Number(kept) + (x < 0 ? -step : step)).toFixed(digits));
    }
  }
  return Number(x.toFixed(digits));
}

// commands._num
function roundAsPrinted(v, digits = 3) {
  return v === null || v === undefined ? null : pyRound(v, digits);
}

function repr(s) {
  return `'${s}'`;
}

// ---- hardware.py -------------------------------------------------------------------------------------------

// hardware.make_setup, with the Setup properties the engine reads
function makeSetup(shared, gid, multiplier) {
  const record = shared.gpus[gid];
  const baseId = record.bundle ? record.bundle.gpu : gid;
  const base = shared.gpus[baseId];
  const count = record.bundle ? record.bundle.count * multiplier : multiplier;
  const usable = base.capacity_bytes === null ? null : Math.trunc(base.capacity_bytes * base.usable_fraction);
  return {
    id: gid,
    record,
    base,
    baseId,
    count,
    capacityBytes: base.capacity_bytes,
    usableBytes: usable,
    bandwidthBytesS: base.bandwidth_gbps === null ? null : base.bandwidth_gbps * 1e9,
    linkKind: record.link_kind,
    linkBytesS: record.link_bytes_s,
    splittable: record.link_bytes_s !== null,
    price: record.price_per_gpu_hour,
  };
}

// Setup.peak_flops
function peakFlops(setup, rate) {
  const v = setup.base.compute[rate];
  return v === undefined ? null : v * 1e12;
}

// ---- precision.py ------------------------------------------------------------------------------------------

const SIXTEEN_BIT_RATES = ["bf16", "fp16"];

// precision.supported_on
function supportedOn(prec, pid, gpu) {
  if (prec.native_compute_needed && !SIXTEEN_BIT_RATES.includes(prec.compute)) {
    return gpu.compute[prec.compute] !== undefined;
  }
  if (gpu.segment === "cpu" || gpu.segment === "apple-silicon") {
    return ((prec.family === "gguf" || prec.family === "float") && pid !== "fp8") || pid === "int4" || pid === "int8";
  }
  return true;
}

// precision.compute_rate_for
function computeRateFor(prec, gpu) {
  for (const rate of [prec.compute, "bf16", "fp16", "fp32"]) {
    if (gpu.compute[rate] !== undefined) return rate;
  }
  return null;
}

// ---- parallel.py -------------------------------------------------------------------------------------------

// parallel.tensor_parallel_problem
function tensorParallelProblem(model, gpus) {
  if (gpus === 1) return null;
  const { heads, kv_heads: kv, mla } = model.tensor_parallel;
  if (gpus > heads || heads % gpus) return `${gpus} GPUs cannot split ${heads} attention heads evenly`;
  if (!mla && (kv >= gpus ? kv % gpus : gpus % kv)) {
    return `${gpus} GPUs cannot split or replicate ${kv} key/value heads evenly`;
  }
  return null;
}

// ---- plan.py -----------------------------------------------------------------------------------------------

// plan.engine_class_for
function engineClassFor(prec, gpu, fw) {
  if (fw !== null) return fw.engine_class;
  if (prec.family === "gguf" || gpu.segment === "cpu" || gpu.segment === "apple-silicon") return "local";
  return "batched-server";
}

// plan.choose_framework
function chooseFramework(shared, model, pid, gpu) {
  for (const fid of shared.framework_preference) {
    const fw = shared.frameworks[fid];
    if (fw === undefined || !model.frameworks.includes(fid)) continue;
    if (fw.precisions.includes(pid) && fw.vendors.includes(gpu.vendor)) return { id: fid, ...fw };
  }
  return null;
}

// ---- memory.py ---------------------------------------------------------------------------------------------

// memory.weight_bytes (the per-format bytes come from the export)
function weightBytes(model, pid) {
  return model.weights_bytes[pid];
}

// memory.weight_bytes_per_gpu
function weightBytesPerGpu(model, pid, gpus) {
  const whole = weightBytes(model, pid);
  const rep = model.replicated_bytes;
  return Math.ceil((whole - rep) / gpus) + rep;
}

// memory.kv_bytes_per_token
function kvBytesPerToken(model, shared, kvp) {
  let sum = 0;
  for (const [, n] of model.kv_groups) sum += n;
  return Math.ceil(sum * shared.kv_bytes[kvp]);
}

// memory.kv_bytes
function kvBytes(model, shared, kvp, context, concurrency) {
  let elements = 0;
  for (const [w, n] of model.kv_groups) elements += n * (w === null ? context : Math.min(context, w));
  return Math.ceil((elements * shared.kv_bytes[kvp] + model.linear_state_bytes) * concurrency);
}

// memory.kv_share_per_gpu
function kvSharePerGpu(model, gpus, context = null) {
  const s = model.shape;
  if (s.is_mla || gpus === 1) return 1.0;
  if (model.kv_share_layers === null) return Math.ceil(s.kv_heads / gpus) / s.kv_heads;
  const tokensAt = context || model.context_window;
  let held = 0;
  let whole = 0;
  for (const [kvHeads, width, window, count] of model.kv_share_layers) {
    const size = kvHeads * width * (window === null ? tokensAt : Math.min(tokensAt, window));
    for (let i = 0; i < count; i++) {
      whole += size;
      held += (size * Math.ceil(kvHeads / gpus)) / kvHeads;
    }
  }
  return whole ? held / whole : 1.0;
}

// memory.activation_per_token
function activationPerToken(model, C, gpus) {
  const s = model.shape;
  const isMoe = s.experts > 0;
  const ffn = !isMoe ? s.dense_ffn : Math.max(s.dense_layers ? s.dense_ffn : 0, s.experts_per_token * s.expert_ffn);
  return ((C.ACT_FFN_FACTOR * ffn) / gpus + C.ACT_HIDDEN_FACTOR * s.hidden) * 2;
}

// memory.sampler_bytes
function samplerBytes(model, C, sequences, copies = C.SAMPLER_FP32_COPIES) {
  return sequences * model.shape.vocab * 4 * copies;
}

// memory.activation_bytes
function activationBytes(model, C, batched, concurrency, gpus) {
  const tokens = batched ? C.SERVER_BATCH_TOKENS : C.LOCAL_BATCH_TOKENS;
  const perToken = activationPerToken(model, C, gpus);
  const sampler = samplerBytes(model, C, Math.min(concurrency, C.MAX_SAMPLED_SEQUENCES));
  return Math.ceil(tokens * perToken + sampler);
}

// memory.overhead_bytes
function overheadBytes(C, batched) {
  return batched ? C.RUNTIME_OVERHEAD_BYTES : C.LOCAL_RUNTIME_OVERHEAD_BYTES;
}

// Per layer [window, topk, ratio, hasIndexer], expanded from the export's runs (memory._attended_layers).
function* attendedLayers(model) {
  for (const [window, topk, ratio, indexer, count] of model.attended_layers) {
    for (let i = 0; i < count; i++) yield [window, topk, ratio, indexer];
  }
}

// memory._capped_sum
function cappedSum(n, cap) {
  if (n <= cap) return (n * (n + 1)) / 2;
  const c = Math.floor(cap);
  return (c * (c + 1)) / 2 + (n - c) * cap;
}

// memory.attended_tokens
function attendedTokens(model, context) {
  if (model.attended_layers === null) return model.kv_layers * context;
  let total = 0;
  for (const [window, topk, ratio] of attendedLayers(model)) {
    if (model.compressed) {
      const entries = ratio ? context / ratio : 0;
      total += Math.min(context, window || context) + (topk ? Math.min(entries, topk) : entries);
    } else {
      total += topk ? Math.min(context, topk) : context;
    }
  }
  return total;
}

// memory.prefill_attended_tokens
function prefillAttendedTokens(model, prompt) {
  if (model.attended_layers === null) return (model.kv_layers * prompt * (prompt + 1)) / 2;
  let total = 0;
  for (const [window, topk, ratio] of attendedLayers(model)) {
    if (model.compressed) {
      const raw = cappedSum(prompt, window || prompt);
      let compressed = ratio ? (prompt * (prompt + 1)) / (2 * ratio) : 0;
      if (ratio && topk) compressed = cappedSum(prompt, ratio * topk) / ratio;
      total += raw + compressed;
    } else {
      total += topk ? cappedSum(prompt, topk) : (prompt * (prompt + 1)) / 2;
    }
  }
  return total;
}

// memory.indexer_flops
function indexerFlops(model, C, context) {
  if (!model.index_n_heads) return 0;
  const perKey = 2 * model.index_n_heads * model.index_head_dim;
  let keys = 0;
  for (const [, , , indexer] of attendedLayers(model)) {
    if (indexer) keys += model.compressed ? context / C.SPARSE_COMPRESS_RATIO : context;
  }
  return perKey * keys;
}

// memory.kv_read_bytes
function kvReadBytes(model, shared, kvp, context, concurrency) {
  const C = shared.constants;
  const s = model.shape;
  if (model.attended_layers === null) return kvBytes(model, shared, kvp, context, concurrency);
  const b = shared.kv_bytes[kvp];
  let elements = 0;
  for (const [window, topk, ratio, indexer] of attendedLayers(model)) {
    if (model.compressed) {
      const width = s.kv_heads * s.head_dim;
      elements += Math.min(context, window || context) * width;
      if (ratio) {
        const entries = context / ratio;
        elements += (topk ? Math.min(entries, topk) : entries) * width;
      }
    } else {
      const width = s.is_mla ? model.mla_width : 2 * s.kv_heads * s.head_dim;
      elements += topk ? Math.min(context, topk) * width : context * width;
    }
    if (indexer) {
      const keys = model.compressed ? context / C.SPARSE_COMPRESS_RATIO : context;
      elements += keys * model.index_head_dim;
    }
  }
  return elements * b * concurrency;
}

// ---- estimate.py -------------------------------------------------------------------------------------------

function workload(context, concurrency, prompt, output, kvPrecision, fusedAttention = true) {
  // estimate.Workload; decode_context is the prompt plus half the output. estimate always runs fused (flash)
  // attention; the unfused path is there for the calibration's old llama-bench records.
  const decodeContext = prompt + Math.floor(output / 2);
  return { context, concurrency, prompt, output, kvPrecision, fusedAttention, decodeContext };
}

// estimate.fit_level
function fitLevel(C, ratio) {
  for (const [level, limit] of C.FIT_LEVELS) if (ratio <= limit) return level;
  return "no-fit";
}

// estimate.memory
function memory(ctx, setup, work, engine) {
  const { shared, model, pid } = ctx;
  const C = shared.constants;
  const usable = setup.usableBytes;
  if (usable === null) return null;
  const n = setup.count;
  const batched = engine === "batched-server";
  const weights = weightBytesPerGpu(model, pid, n);
  const share = kvSharePerGpu(model, n, work.context);
  const kv = Math.trunc(kvBytes(model, shared, work.kvPrecision, work.context, work.concurrency) * share);
  const act = activationBytes(model, C, batched, work.concurrency, n);
  const over = overheadBytes(C, batched);
  const total = weights + kv + act + over;
  const free = usable - weights - act - over;
  return {
    weightsBytesTotal: weightBytes(model, pid),
    weightsBytes: weights,
    kvCacheBytesPerToken: kvBytesPerToken(model, shared, work.kvPrecision),
    kvCacheBytes: kv,
    activationsBytes: act,
    overheadBytes: over,
    totalBytes: total,
    usableBytes: usable,
    fits: total <= usable,
    fitLevel: fitLevel(C, total / usable),
    maxContext: maxContext(ctx, work, n, free),
    maxConcurrency: maxConcurrency(ctx, work, share, usable - weights - over, batched, n),
  };
}

// estimate._max_context
function maxContext(ctx, work, gpus, free) {
  const { shared, model } = ctx;
  const fits = (c) =>
    kvBytes(model, shared, work.kvPrecision, c, work.concurrency) * kvSharePerGpu(model, gpus, c) <= free;
  if (free <= 0 || !fits(1)) return 0;
  let lo = 1;
  let hi = model.context_window;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

// estimate._max_concurrency
function maxConcurrency(ctx, work, share, room, batched, gpus) {
  const { shared, model } = ctx;
  const C = shared.constants;
  const fixed = activationBytes(model, C, batched, 0, gpus);
  const sampler = activationBytes(model, C, batched, 1, gpus) - fixed;
  const perKv = Math.ceil(kvBytes(model, shared, work.kvPrecision, work.context, 1) * share);
  room -= fixed;
  if (room <= 0 || perKv <= 0) return 0;
  const sampled = Math.trunc(pyFloorDiv(room, perKv + sampler));
  const cap = C.MAX_SAMPLED_SEQUENCES;
  if (sampled <= cap) return sampled;
  return cap + Math.trunc(pyFloorDiv(room - cap * (perKv + sampler), perKv));
}

// estimate._experts_touched_fraction
function expertsTouchedFraction(model, tokens) {
  const s = model.shape;
  if (!(s.experts > 0)) return 1.0;
  const miss = (1 - s.experts_per_token / s.experts) ** tokens;
  return 1 - miss;
}

// estimate.bytes_read_per_step
function bytesReadPerStep(ctx, setup, work, tokens, shards) {
  const { shared, model, pid } = ctx;
  const p = model.params;
  const n = shards === undefined ? setup.count : shards;
  const whole = weightBytes(model, pid);
  const table = model.tie_word_embeddings ? 0 : p.embedding * (whole / p.total);
  const expertBytes = p.experts * (whole / p.total);
  const tower = p.vision * (whole / p.total);
  const touched = expertsTouchedFraction(model, tokens);
  const weights = (whole - table - tower - expertBytes * (1 - touched)) / n;
  const kvShare = kvSharePerGpu(model, n, work.decodeContext);
  const kv = kvReadBytes(model, shared, work.kvPrecision, work.decodeContext, work.concurrency) * kvShare;
  return weights + kv * unfusedKvReads(model, work, setup.base.vendor);
}

// estimate.unfused_kv_reads
function unfusedKvReads(model, work, vendor) {
  const s = model.shape;
  if (work.fusedAttention || vendor !== "apple" || s.is_mla || s.kv_heads <= 0) return 1.0;
  return s.heads / s.kv_heads;
}

// estimate.flops_per_token
function flopsPerToken(ctx, context) {
  const { model } = ctx;
  const s = model.shape;
  const attn = 2 * s.heads * attendedTokens(model, context) * (s.qk_dim + s.v_dim);
  return 2 * model.params.active + attn + indexerFlops(model, ctx.shared.constants, context);
}

// estimate._link
function link(C, setup) {
  const bw = setup.linkBytesS;
  const kind = setup.linkKind;
  if (bw === null || kind === null) {
    throw new EstimateError(`${setup.base.short_name} has no recorded GPU link; multi-GPU speed is not estimated`);
  }
  return [C.ALLREDUCE_LATENCY_S[kind], bw];
}

// estimate._allreduce_s
function allreduceS(C, setup, layers, tokens, hidden) {
  const n = setup.count;
  if (n === 1) return 0.0;
  const [latency, bw] = link(C, setup);
  const size = tokens * hidden * 2;
  const one = latency + (((2 * (n - 1)) / n) * size) / bw;
  return 2 * layers * one;
}

// estimate.is_pipeline
function isPipeline(setup, engine) {
  return engine === "local" && setup.count > 1;
}

// estimate._link_s
function linkS(C, setup, layers, tokens, hidden, pipeline) {
  if (pipeline) {
    const [latency, bw] = link(C, setup);
    return (setup.count - 1) * (latency + (tokens * hidden * 2) / bw);
  }
  return allreduceS(C, setup, layers, tokens, hidden);
}

// estimate.per_sequence_step_s
function perSequenceStepS(C, setup, engine, layers) {
  const extra = ((C.STACK_PER_SEQUENCE_S[engine] || {})[setup.base.vendor] || 0.0) * layers;
  return C.EFFICIENCY[engine].per_sequence_s + extra;
}

// estimate.step_token_budget
function stepTokenBudget(C, setup, engine) {
  if (engine === "local") return C.LOCAL_STEP_TOKENS;
  const gib = (setup.capacityBytes || 0) / C.GIB;
  for (const [limit, tokens] of C.STEP_TOKEN_BUDGETS) if (limit === null || gib < limit) return tokens;
  throw new Error("unreachable");
}

// estimate._Step
class Step {
  constructor(ctx, setup, work, engine, bw, peak) {
    Object.assign(this, { ctx, setup, work, engine, bw, peak });
    this.C = ctx.shared.constants;
    this.pipeline = isPipeline(setup, engine);
    this.shards = this.pipeline ? 1 : setup.count;
  }

  // _Step.parts
  parts(decode, prefill, prefillFlops) {
    const w = this.work;
    const s = this.ctx.model.shape;
    const running = workload(w.context, decode, w.prompt, w.output, w.kvPrecision, w.fusedAttention);
    const tokens = Math.max(decode + prefill, 1);
    const bytesStep = bytesReadPerStep(this.ctx, this.setup, running, tokens, this.shards);
    const flops = (decode * flopsPerToken(this.ctx, w.decodeContext) + prefillFlops) / this.shards;
    const l = linkS(this.C, this.setup, s.layers, tokens, s.hidden, this.pipeline);
    // The first sequence's sampling and launches are in the per-step overhead; each further one adds its own.
    const perSequence = Math.max(decode - 1, 0) * perSequenceStepS(this.C, this.setup, this.engine, s.layers);
    const eff = this.C.EFFICIENCY[this.engine];
    const routing = decode * (s.layers - s.dense_layers) * eff.moe_token_layer_s;
    return [bytesStep, flops, l + eff.step_overhead_s + perSequence + routing];
  }

  // _Step.time
  time(decode, prefill, prefillFlops) {
    const eff = this.C.EFFICIENCY[this.engine];
    const [bytesStep, flops, fixed] = this.parts(decode, prefill, prefillFlops);
    const comp = this.peak ? flops / (this.peak * eff.compute) : 0.0;
    return Math.max(bytesStep / (this.bw * eff.memory), comp) + fixed;
  }
}

// estimate.speed
function speed(ctx, setup, work, engine, slots = null) {
  const C = ctx.shared.constants;
  const bw = setup.bandwidthBytesS;
  if (bw === null || (setup.count > 1 && !setup.splittable)) return null;
  const pipeline = isPipeline(setup, engine);
  const shards = pipeline ? 1 : setup.count;
  const rate = computeRateFor(ctx.prec, setup.base);
  const peak = rate ? peakFlops(setup, rate) : null;
  const b = slots ? Math.max(1, Math.min(work.concurrency, slots)) : work.concurrency;
  const stepper = new Step(ctx, setup, work, engine, bw, peak);
  const eff = C.EFFICIENCY[engine];

  const [bytesStep, flopsStep] = stepper.parts(b, 0, 0.0);
  const memT = bytesStep / (bw * eff.memory);
  const compT = peak ? flopsStep / (peak * eff.compute) : 0.0;
  const step = stepper.time(b, 0, 0.0);

  let prefillT = null;
  let batchPrefillT = null;
  if (peak && work.prompt > 0) {
    prefillT = prefill(ctx, setup, work, 1, shards, pipeline, engine, bw, peak);
    batchPrefillT = prefill(ctx, setup, work, b, shards, pipeline, engine, bw, peak);
  } else if (work.prompt === 0) {
    prefillT = batchPrefillT = 0.0;
  }

  let outputTps = null;
  if (batchPrefillT !== null && work.output > 0) {
    outputTps = (b * work.output) / (batchPrefillT + work.output * step);
  }
  const [itl, ttftLoaded, queue] = loadedLatency(stepper, b, step, prefillT !== null);
  return {
    decodeTokensPerS: b / step,
    outputTokensPerS: outputTps,
    itlMs: itl * 1000,
    ttftMs: ttftLoaded === null ? null : ttftLoaded * 1000,
    ttftIdleMs: prefillT === null ? null : prefillT * 1000,
    queueMs: queue * 1000,
    batch: b,
    stepBound: compT > memT ? "compute" : "memory",
  };
}

// estimate._loaded_latency
function loadedLatency(stepper, batch, step, prefillKnown) {
  const C = stepper.C;
  const work = stepper.work;
  const { prompt, output } = work;
  const room = Math.max(stepTokenBudget(C, stepper.setup, stepper.engine) - (batch - 1), 1);
  let others = output > 0 ? ((batch - 1) * prompt) / output : 0.0;
  others = Math.min(others, room);
  const perPromptToken = prompt ? prefillFlops(stepper.ctx, prompt) / prompt : 0.0;
  const itl = batch > 1 && others > 0 ? stepper.time(batch, others, others * perPromptToken) : step;
  if (!prefillKnown) return [itl, null, 0.0];
  let own;
  if (prompt === 0) {
    own = 0.0;
  } else {
    const chunks = Math.ceil(prompt / room);
    const chunkTokens = prompt / chunks;
    own = chunks * stepper.time(batch - 1, chunkTokens, prefillFlops(stepper.ctx, prompt) / chunks);
  }
  const load = Math.min(others / room, C.MAX_PREFILL_LOAD);
  const ttft = own * (1 + load / (2 * (1 - load)));
  let queue = 0.0;
  if (work.concurrency > batch) {
    const request = ttft + Math.max(output - 1, 0) * itl;
    queue = request * (work.concurrency / batch - 1);
  }
  return [itl, queue + ttft, queue];
}

// estimate._prefill (the time; the physical floor is not part of estimate's output)
function prefill(ctx, setup, work, requests, shards, pipeline, engine, bw, peak) {
  const C = ctx.shared.constants;
  const s = ctx.model.shape;
  const eff = C.EFFICIENCY[engine];
  const tokens = requests * work.prompt;
  const chunk = stepTokenBudget(C, setup, engine);
  const chunks = Math.ceil(tokens / chunk);
  const flops = (requests * prefillFlops(ctx, work.prompt)) / shards;
  const perChunkTokens = tokens / chunks;
  const weights = bytesReadPerStep(ctx, setup, workload(0, 1, 0, 0, work.kvPrecision), perChunkTokens, shards);
  const pbytes = chunks * weights;
  // Unfused attention's score traffic runs in its own memory-bound kernels: it adds, not overlaps.
  const scores = (requests * unfusedScoreBytes(ctx, work)) / shards;
  const perChunk = linkS(C, setup, s.layers, perChunkTokens, s.hidden, pipeline);
  let seconds = Math.max(flops / (peak * eff.compute), pbytes / (bw * eff.memory)) + scores / (bw * eff.memory);
  seconds *= pipeline ? pipelineShare(chunks, Math.ceil(tokens / C.LOCAL_PIPELINE_TOKENS), setup.count) : 1.0;
  seconds += chunks * (perChunk + eff.step_overhead_s);
  return seconds;
}

// estimate.pipeline_share
function pipelineShare(microBatches, calls, stages) {
  if (microBatches <= 0 || stages <= 1) return 1.0;
  return (microBatches + calls * (stages - 1)) / (microBatches * stages);
}

// estimate.unfused_score_bytes
function unfusedScoreBytes(ctx, work) {
  if (work.fusedAttention) return 0.0;
  const C = ctx.shared.constants;
  return ctx.model.shape.heads * prefillAttendedTokens(ctx.model, work.prompt) * C.UNFUSED_SCORE_BYTES;
}

// estimate._prefill_flops
function prefillFlops(ctx, prompt) {
  const { model } = ctx;
  const s = model.shape;
  const attn = 2 * s.heads * prefillAttendedTokens(model, prompt) * (s.qk_dim + s.v_dim);
  const indexers = (indexerFlops(model, ctx.shared.constants, 1) * prompt * (prompt + 1)) / 2;
  return 2 * model.params.active * prompt + attn + indexers;
}

// estimate.cost
function cost(C, setup, spd) {
  if (setup.price === null) return null;
  const [perGpu] = setup.price;
  const hourly = perGpu * setup.count;
  let perMillion = null;
  if (spd !== null && spd.outputTokensPerS) perMillion = (hourly / (spd.outputTokensPerS * 3600)) * 1e6;
  return { pricePerHourUsd: hourly, costPerMonthUsd: hourly * C.HOURS_PER_MONTH, costPerMillionTokensUsd: perMillion };
}

// precision.default_kv_precision
function defaultKvPrecision(C, pid, gpuId, frameworkId) {
  for (const [framework, gpuPrefix, formats] of C.FP8_KV_RECIPES) {
    if (!formats.includes(pid) || (framework !== null && framework !== frameworkId)) continue;
    if (gpuPrefix === null || gpuId.startsWith(gpuPrefix)) return "fp8";
  }
  return "fp16";
}

// ---- budget.py ---------------------------------------------------------------------------------------------

// budget.budget_for
function budgetFor(C, frameworkId, engine) {
  const known = frameworkId !== null && Object.hasOwn(C.ENGINE_BUDGETS, frameworkId);
  const fid = known ? frameworkId : C.CLASS_BUDGET[engine];
  return [fid, C.ENGINE_BUDGETS[fid]];
}

// budget.sglang_reserved_bytes
function sglangReservedBytes(C, capacityBytes, ranks) {
  const gib = capacityBytes / C.GIB;
  for (const [below, fixed, perRank] of C.SGLANG_RESERVED_GIB) {
    if (below === null || gib < below) return Math.trunc((fixed + perRank * ranks) * C.GIB);
  }
  throw new Error("unreachable");
}

// budget.vllm_batch_defaults
function vllmBatchDefaults(C, setup) {
  const gib = (setup.capacityBytes || 0) / C.GIB;
  const smallByName = C.VLLM_SMALL_BATCH_GPUS.some((word) => setup.baseId.includes(word));
  return gib >= C.VLLM_LARGE_BATCH_MIN_GIB && !smallByName ? C.VLLM_LARGE_BATCH : C.VLLM_SMALL_BATCH;
}

// budget.moe_workspace_per_token
function moeWorkspacePerToken(model, gpus) {
  const s = model.shape;
  if (!(s.experts > 0)) return 0.0;
  const n = s.expert_ffn / gpus;
  return s.experts_per_token * Math.max(Math.max(2 * n, s.hidden) + n - 3 * n, 0.0) * 2;
}

// budget.profiled_peak_bytes
function profiledPeakBytes(model, C, setup, tokens, sequences) {
  const perToken = activationPerToken(model, C, setup.count) + moeWorkspacePerToken(model, setup.count);
  return Math.ceil(Math.max(tokens * perToken, samplerBytes(model, C, sequences, C.VLLM_SAMPLER_FP32_COPIES)));
}

// budget.server_non_torch_bytes
function serverNonTorchBytes(C, setup) {
  const [one, parallel] = C.SERVER_NON_TORCH_BYTES;
  return setup.count === 1 ? one : parallel;
}

// budget.engine_peak_bytes (at the engine's default launch)
function enginePeakBytes(C, fid, model, setup, mem) {
  if (fid === "vllm") {
    const [tokens, seqs] = vllmBatchDefaults(C, setup);
    return profiledPeakBytes(model, C, setup, tokens, Math.min(seqs, tokens));
  }
  if (fid === "tgi") return profiledPeakBytes(model, C, setup, C.TGI_PREFILL_TOKENS, 1);
  return mem.activationsBytes;
}

// budget.visible_bytes
function visibleBytes(C, setup) {
  return (setup.capacityBytes || 0) * (1 - C.DRIVER_RESERVED_FRACTION);
}

// budget.kv_budget_bytes
function kvBudgetBytes(C, budget, setup, mem, exactBytes, peakBytes, warmupKvBytes, overheadBytes) {
  const total = visibleBytes(C, setup);
  const share = budget.fraction;
  const rest = mem.weightsBytes + peakBytes + (overheadBytes === null ? mem.overheadBytes : overheadBytes);
  let room;
  if (budget.rule === "of-total") room = share * total - rest;
  else if (budget.rule === "of-free") room = share * (total - rest);
  else if (budget.rule === "tgi") room = C.TGI_WIGGLE_ROOM * (share * total - rest - warmupKvBytes) + warmupKvBytes;
  else if (budget.rule === "sglang") {
    room = total - sglangReservedBytes(C, total, setup.count) - mem.weightsBytes - serverNonTorchBytes(C, setup);
  }
  else if (budget.rule === "working-set") room = mem.usableBytes - rest;
  else room = exactBytes;
  return Math.max(Math.trunc(room), 0);
}

// budget.kv_capacity (at the engine's default launch)
function kvCapacity(ctx, setup, work, mem, frameworkId, engine) {
  const { shared, model } = ctx;
  const C = shared.constants;
  const [fid, budget] = budgetFor(C, frameworkId, engine);
  const share = kvSharePerGpu(model, setup.count);
  const perToken = kvBytes(model, shared, work.kvPrecision, 1, 1) * share;
  const exact = Math.ceil(kvBytes(model, shared, work.kvPrecision, work.context, work.concurrency) * share);
  const peak = enginePeakBytes(C, fid, model, setup, mem);
  const warmup = budget.rule === "tgi" ? Math.ceil(C.TGI_PREFILL_TOKENS * perToken) : 0;
  const overhead = fid === "vllm" ? serverNonTorchBytes(C, setup) : null;
  const room = kvBudgetBytes(C, budget, setup, mem, exact, peak, warmup, overhead);
  const perSequence = Math.ceil(kvBytes(model, shared, work.kvPrecision, work.context, 1) * share);
  let tokens;
  let sequences;
  if (budget.rule === "exact") {
    tokens = work.context * work.concurrency;
    sequences = work.concurrency;
  } else {
    tokens = perToken > 0 ? Math.trunc(pyFloorDiv(room, perToken)) : 0;
    sequences = perSequence > 0 ? pyFloorDiv(room, perSequence) : 0;
  }
  return { tokens, sequences, flag: budget.flag };
}

// launch.budget_setting
function budgetSetting(C, frameworkId, engine, setup) {
  const [, budget] = budgetFor(C, frameworkId, engine);
  if (budget.rule === "of-total" || budget.rule === "of-free" || budget.rule === "tgi") return budget.fraction;
  const total = visibleBytes(C, setup);
  if (budget.rule === "sglang" && total) {
    return pyRound((total - sglangReservedBytes(C, total, setup.count)) / total, 3);
  }
  return null;
}

// ---- money.py ----------------------------------------------------------------------------------------------

// money.self_usd_per_request
function selfUsdPerRequest(usdPerHour, outputTokensPerS, output) {
  const requestsPerS = outputTokensPerS / output;
  return usdPerHour / 3600 / requestsPerS;
}

// money.api_usd_per_request
function apiUsdPerRequest(inputUsdPerMtok, outputUsdPerMtok, prompt, output) {
  return (prompt * inputUsdPerMtok + output * outputUsdPerMtok) / 1e6;
}

// money.cheapest_api, over the export's [provider id, name, input, output, as of, source] rows
export function cheapestApi(model, prompt, output) {
  let best = null;
  for (const row of model.api_prices) {
    const usd = apiUsdPerRequest(row[2], row[3], prompt, output);
    if (best === null || usd < best.usd) best = { row, usd };
  }
  return best;
}

// money.breakeven_share
function breakevenShare(busyUsd, apiUsd) {
  if (apiUsd <= 0) return null;
  const share = busyUsd / apiUsd;
  return share <= 1 ? share : null;
}

// money.throughput_optimal
function throughputOptimal(ctx, setup, work, engine, maxConc) {
  if (maxConc < 1 || work.output < 1) return null;
  const bits = maxConc.toString(2).length;
  const powers = Array.from({ length: bits + 1 }, (_, i) => Math.min(2 ** i, maxConc));
  const trials = [...new Set(powers)].sort((a, b) => a - b);
  let best = null;
  for (const n of trials) {
    const trial = workload(work.context, n, work.prompt, work.output, work.kvPrecision);
    const spd = speed(ctx, setup, trial, engine, maxConc);
    if (spd === null || !spd.outputTokensPerS) continue;
    if (best === null || spd.outputTokensPerS > (best.speed.outputTokensPerS || 0)) {
      best = { concurrency: n, speed: spd };
    }
  }
  return best;
}

// ---- commands.py -------------------------------------------------------------------------------------------

const SPEED_KEYS = ["decode_tokens_per_s", "output_tokens_per_s", "itl_ms", "ttft_ms"];

// commands._error_keys (the bars are looked up by the export with errorbars.ErrorBars.lookup)
function errorKeys(shared, engine, hardware) {
  const out = {};
  const cell = shared.error_bars[engine][hardware];
  for (const key of SPEED_KEYS) {
    const bar = cell[key];
    out[`${key}_error_pct`] = bar ? bar[0] : null;
    out[`${key}_error_results`] = bar ? bar[1] : 0;
  }
  return out;
}

// argparse's type=int for an optional flag: absent is null; anything but a whole number is refused as argparse does.
function optionalInt(flag, v) {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v === "number" ? Number.isInteger(v) : /^\s*[+-]?\d+(_\d+)*\s*$/.test(String(v))) {
    return Number(String(v).replace(/_/g, ""));
  }
  throw new EstimateError(`argument --${flag}: invalid int value: ${repr(v)}`);
}

// Python's int() of a --concurrency string: optional sign, digits (underscores between), surrounding spaces.
function parseConcurrency(v) {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v;
  } else if (/^\s*[+-]?\d+(_\d+)*\s*$/.test(String(v))) {
    return Number(String(v).replace(/_/g, ""));
  }
  throw new EstimateError("--concurrency takes a whole number or 'max'");
}

// commands.tensor_parallel_check
function tensorParallelCheck(model, n) {
  const problem = tensorParallelProblem(model, n);
  if (problem) throw new EstimateError(`--gpus ${n}: ${model.id}: ${problem} (tensor parallel)`);
}

/**
 * Whether the setup holds the load (estimate's `fits`) by the memory model alone, without the speed model: the
 * planner's pruning step. Takes estimate's inputs, all given; whatever estimate would refuse counts as not fitting.
 */
export function fitsInMemory(shared, model, inputs) {
  const gpu = shared.gpus[inputs.gpu];
  const prec = shared.precisions[inputs.precision];
  if (!gpu || !prec || !supportedOn(prec, inputs.precision, gpu)) return false;
  const per = gpu.bundle ? gpu.bundle.count : 1;
  const setup = makeSetup(shared, inputs.gpu, Math.max(1, Math.floor(Number(inputs.gpus) / per)));
  const fw = inputs.framework ? { id: inputs.framework, ...shared.frameworks[inputs.framework] } : null;
  const engine = engineClassFor(prec, setup.base, fw ?? chooseFramework(shared, model, inputs.precision, setup.base));
  const work = workload(
    Number(inputs.context),
    Number(inputs.concurrency),
    Number(inputs.prompt),
    Number(inputs.output),
    inputs["kv-precision"],
  );
  const mem = memory({ shared, model, pid: inputs.precision, prec }, setup, work, engine);
  return mem !== null && mem.fits;
}

/**
 * commands.estimate: one setup's memory, fit, speed and cost, with the keys of `site-builder estimate --json`.
 * inputs: {model, gpu, gpus, precision, "kv-precision", context, concurrency (number or "max"), prompt, output,
 * framework}, named as the CLI flags (kv_precision is accepted too). `model` is the model's exported data, or null
 * when the id is not in the catalog. options.rounded = false leaves the floats unrounded (for data-value
 * attributes); the default rounds them as the JSON output does.
 */
export function estimate(shared, model, inputs, options = {}) {
  const num = options.rounded === false ? (v) => (v === undefined ? null : v) : roundAsPrinted;
  const C = shared.constants;
  // argparse refuses a bad number before estimate runs
  const nGpus = optionalInt("gpus", inputs.gpus) ?? 1;
  const contextIn = optionalInt("context", inputs.context);
  const promptIn = optionalInt("prompt", inputs.prompt);
  const outputIn = optionalInt("output", inputs.output);
  const modelId = inputs.model ?? (model ? model.id : null);
  if (model === null || model === undefined || (inputs.model !== undefined && inputs.model !== model.id)) {
    throw new EstimateError(`unknown model ${repr(modelId)}`);
  }
  const gid = inputs.gpu;
  if (!Object.hasOwn(shared.gpus, gid)) throw new EstimateError(`unknown GPU ${repr(gid)}`);
  const pid = inputs.precision || model.native_precision;
  if (!Object.hasOwn(shared.precisions, pid)) {
    throw new EstimateError(`unknown precision ${repr(pid)} (one of ${shared.precision_order.join(", ")})`);
  }
  const kvpIn = inputs["kv-precision"] ?? inputs.kv_precision ?? null;
  if (kvpIn !== null && !Object.hasOwn(shared.kv_bytes, kvpIn)) {
    throw new EstimateError(`unknown KV precision ${repr(kvpIn)} (one of ${shared.kv_precision_order.join(", ")})`);
  }
  if (nGpus < 1) throw new EstimateError("--gpus must be at least 1");
  const gpu = shared.gpus[gid];
  const prec = shared.precisions[pid];
  if (!supportedOn(prec, pid, gpu)) throw new EstimateError(`${gpu.short_name} cannot run ${prec.label} weights`);
  const per = gpu.bundle ? gpu.bundle.count : 1;
  if (nGpus % per) {
    throw new EstimateError(`${gpu.short_name} is a bundle of ${per} GPUs: --gpus must be a multiple of ${per}`);
  }
  tensorParallelCheck(model, nGpus);
  const setup = makeSetup(shared, gid, Math.max(1, Math.floor(nGpus / per)));
  if (setup.count > 1 && !setup.splittable) {
    throw new EstimateError(
      `${gpu.short_name} has no recorded GPU-to-GPU link (kind and bandwidth): a multi-GPU estimate would ` +
        "have to guess one",
    );
  }
  const prompt = promptIn ?? 512;
  const output = outputIn ?? 256;
  const context = contextIn ?? prompt + output;
  if (context < 1 || prompt < 0 || output < 0) {
    throw new EstimateError("--context must be positive; --prompt and --output not negative");
  }
  if (context < prompt + output) {
    const defaults = promptIn === null && outputIn === null ? " (the defaults)" : "";
    throw new EstimateError(
      `--context ${context} is shorter than --prompt + --output (${prompt} + ${output}${defaults})`,
    );
  }
  if (context > model.context_window) {
    throw new EstimateError(`--context ${context} exceeds the model's context window (${model.context_window})`);
  }
  let fw;
  if (inputs.framework) {
    if (!Object.hasOwn(shared.frameworks, inputs.framework)) {
      throw new EstimateError(`unknown framework ${repr(inputs.framework)}`);
    }
    fw = { id: inputs.framework, ...shared.frameworks[inputs.framework] };
  } else {
    fw = chooseFramework(shared, model, pid, setup.base);
  }
  const engine = engineClassFor(prec, setup.base, fw);
  const ctx = { shared, model, pid, prec };
  const kvp = kvpIn || defaultKvPrecision(C, pid, setup.baseId, fw ? fw.id : null);
  const probe = workload(context, 1, prompt, output, kvp);
  let concurrency;
  const conc = inputs.concurrency ?? "1";
  if (conc === "max") {
    const m1 = memory(ctx, setup, probe, engine);
    concurrency = m1 ? m1.maxConcurrency : 0;
    if (concurrency < 1) throw new EstimateError("not even one sequence of that context fits");
  } else {
    concurrency = parseConcurrency(conc);
    if (concurrency < 1) throw new EstimateError("--concurrency must be at least 1");
  }
  const work = workload(context, concurrency, prompt, output, kvp);
  const mem = memory(ctx, setup, work, engine);
  if (mem === null) throw new EstimateError(`${gpu.short_name} has no memory size in the catalog`);
  const spd = speed(ctx, setup, work, engine, mem.maxConcurrency || null);
  const cst = cost(C, setup, spd);
  const cap = kvCapacity(ctx, setup, work, mem, fw ? fw.id : null, engine);
  const full = throughputOptimal(ctx, setup, work, engine, cap.sequences);
  const fullTps = full ? full.speed.outputTokensPerS : null;
  const hourly = cst ? cst.pricePerHourUsd : null;
  const busy = hourly && fullTps && output ? selfUsdPerRequest(hourly, fullTps, output) : null;
  const api = cheapestApi(model, prompt, output);
  return {
    cost_per_request_usd: num(
      hourly && spd && spd.outputTokensPerS && output ? selfUsdPerRequest(hourly, spd.outputTokensPerS, output) : null,
      6,
    ),
    full_load_concurrency: full ? full.concurrency : null,
    cost_per_request_full_load_usd: num(busy, 6),
    api_provider: api ? api.row[0] : null,
    api_cost_per_request_usd: num(api ? api.usd : null, 6),
    breakeven_utilization: num(busy && api ? breakevenShare(busy, api.usd) : null, 4),
    ...errorKeys(shared, engine, setup.base.hardware_class),
    model: model.id,
    gpu: gid,
    gpus: setup.count,
    precision: pid,
    kv_precision: kvp,
    framework: fw ? fw.id : null,
    engine_class: engine,
    context,
    concurrency,
    prompt,
    output,
    params_total: model.params.total,
    params_active: model.params.active,
    weights_bytes: mem.weightsBytes,
    weights_bytes_total: mem.weightsBytesTotal,
    kv_cache_bytes_per_token: mem.kvCacheBytesPerToken,
    kv_cache_bytes: mem.kvCacheBytes,
    activations_bytes: mem.activationsBytes,
    overhead_bytes: mem.overheadBytes,
    total_bytes: mem.totalBytes,
    usable_bytes: mem.usableBytes,
    fits: mem.fits,
    fit_level: mem.fitLevel,
    max_context: mem.maxContext,
    max_concurrency: mem.maxConcurrency,
    kv_cache_capacity_tokens: cap.tokens,
    kv_cache_capacity_flag: cap.flag,
    kv_cache_capacity_sequences: cap.sequences,
    kv_cache_capacity_setting: budgetSetting(C, fw ? fw.id : null, engine, setup),
    decode_tokens_per_s: num(spd ? spd.decodeTokensPerS : null),
    output_tokens_per_s: num(spd ? spd.outputTokensPerS : null),
    itl_ms: num(spd ? spd.itlMs : null),
    per_user_tokens_per_s: num(spd && spd.itlMs ? 1000 / spd.itlMs : null),
    ttft_ms: num(spd ? spd.ttftMs : null),
    ttft_idle_ms: num(spd ? spd.ttftIdleMs : null),
    queue_ms: num(spd ? spd.queueMs : null),
    step_bound: spd ? spd.stepBound : null,
    price_per_hour_usd: num(cst ? cst.pricePerHourUsd : null, 4),
    cost_per_month_usd: num(cst ? cst.costPerMonthUsd : null, 2),
    cost_per_million_tokens_usd: num(cst ? cst.costPerMillionTokensUsd : null, 4),
  };
}
