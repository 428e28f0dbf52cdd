// The calculator and the planner (templates/partials/calculator.html and planner.html). The page arrives with the
// default answer computed at build time; this module takes over when the reader edits an input or opens a link with
// a setup in its query (the flags of `site-builder estimate`). Every number comes from engine.js, which computes what
// `site-builder estimate --json` prints; the engine data (api/v1/engine/) is fetched on first use only.
import { estimate, EstimateError, cheapestApi, fitsInMemory } from "./engine.js";

const FLAGS = ["gpu", "gpus", "precision", "kv-precision", "context", "concurrency", "prompt", "output", "framework"];
const STACK = ["weights_bytes", "kv_cache_bytes", "activations_bytes", "overhead_bytes"];
const SHOWN = 10; // planner rows

const root = document.getElementById("calculator");
if (root) init(root);

function init(root) {
  const form = document.getElementById("calc-form");
  const out = document.getElementById("calc-out");
  const errorBox = document.getElementById("calc-error");
  const picker = form.elements.namedItem("model");
  const fitLabels = JSON.parse(root.dataset.fitLabels);
  const dataUrl = root.dataset.engine;
  let modelId = root.dataset.model;
  let shared = null;
  const models = new Map();
  document.getElementById("calc-fields").disabled = false;

  const loadShared = () => (shared ??= fetchJson(`${dataUrl}shared.json`));
  function loadModel(id) {
    if (!models.has(id)) models.set(id, fetchJson(`${dataUrl}models/${encodeURIComponent(id)}.json`).catch(() => null));
    return models.get(id);
  }

  function inputs() {
    const v = {};
    for (const flag of FLAGS) v[flag] = form.elements.namedItem(flag).value.trim();
    v.model = modelId;
    if (v.context === "") delete v.context; // the CLI's default: prompt + answer
    return v;
  }

  function query() {
    const q = new URLSearchParams();
    if (picker) q.set("model", modelId);
    for (const [flag, value] of Object.entries(inputs())) if (flag !== "model" && value !== "") q.set(flag, value);
    return q;
  }

  async function update(remember) {
    let result;
    try {
      const [sh, model] = await Promise.all([loadShared(), loadModel(modelId)]);
      result = estimate(await sh, model, inputs(), { rounded: false });
    } catch (err) {
      errorBox.textContent =
        err instanceof EstimateError ? err.message : `The engine data could not be loaded (${err.message}).`;
      errorBox.hidden = false;
      out.classList.add("stale");
      return;
    }
    errorBox.hidden = true;
    out.classList.remove("stale");
    render(await shared, await loadModel(modelId), result);
    if (remember) history.replaceState(null, "", `?${query()}${location.hash}`);
  }

  function render(sh, model, r) {
    const names = labels(sh, model);
    for (const el of out.querySelectorAll("[data-key]")) {
      const value = r[el.dataset.key] ?? null;
      el.dataset.value = JSON.stringify(value);
      el.textContent = display(el.dataset.format, value, names, fitLabels);
    }
    const span = Math.max(r.total_bytes, r.usable_bytes);
    for (const key of STACK) out.querySelector(`[data-part="${key}"]`).style.width = `${(100 * r[key]) / span}%`;
    out.querySelector(".usable-line").style.left = `${(100 * r.usable_bytes) / span}%`;
    out.querySelector("#calc-nofit").hidden = r.fits;
    out.dataset.computed = "browser"; // no longer the build's answer
  }

  function labels(sh, model) {
    const fromSelect = (name) =>
      Object.fromEntries(Array.from(form.elements.namedItem(name).options, (o) => [o.value, o.textContent]));
    return {
      gpu: Object.fromEntries(Object.entries(sh.gpus).map(([id, g]) => [id, g.short_name])),
      precision: Object.fromEntries(Object.entries(sh.precisions).map(([id, p]) => [id, p.label])),
      kv: fromSelect("kv-precision"),
      framework: fromSelect("framework"),
      provider: Object.fromEntries(model.api_prices.map((row) => [row[0], row[1]])),
    };
  }

  // A link's setup: each flag into its field; a value no option offers is kept, so the engine names the problem.
  const params = new URLSearchParams(location.search);
  let preset = false;
  if (picker && params.get("model")) {
    modelId = params.get("model");
    setField(picker, modelId);
    preset = true;
  }
  for (const flag of FLAGS) {
    if (params.has(flag)) {
      setField(form.elements.namedItem(flag), params.get(flag));
      preset = true;
    }
  }
  if (params.has("gpu") && !params.has("gpus")) {
    // The page's GPU count belongs to its own default GPU: another GPU without a count is one card (or one bundle).
    form.elements.namedItem("gpus").value = "1";
    fitBundle(params.get("gpu")).then(() => update(false));
  } else if (preset) {
    update(false);
  }

  let timer = 0;
  form.addEventListener("input", (ev) => {
    if (ev.target.tagName === "SELECT") return; // "change" follows at once
    clearTimeout(timer);
    timer = setTimeout(() => update(true), 150);
  });
  form.addEventListener("change", async (ev) => {
    clearTimeout(timer);
    if (ev.target === picker) modelId = picker.value;
    if (ev.target.name === "gpu") await fitBundle(ev.target.value);
    update(true);
  });
  form.addEventListener("submit", (ev) => ev.preventDefault());

  // A bundle (two cards in a box, an NVL pair) is counted in whole bundles: round the GPU count up to one.
  async function fitBundle(gid) {
    const g = await loadShared().then((sh) => (Object.hasOwn(sh.gpus, gid) ? sh.gpus[gid] : null), () => null);
    const field = form.elements.namedItem("gpus");
    const per = g && g.bundle ? g.bundle.count : 1;
    const n = Number(field.value);
    if (Number.isInteger(n) && n >= 1 && n % per) field.value = String(Math.ceil(n / per) * per);
  }

  const copy = document.getElementById("calc-copy");
  const copied = document.getElementById("calc-copied");
  copy.addEventListener("click", async () => {
    const url = `${location.origin}${location.pathname}?${query()}#calculator`;
    try {
      await navigator.clipboard.writeText(url);
      copied.textContent = "Link copied.";
    } catch {
      // No clipboard access (an insecure origin, a refused permission): show the link, selected, to copy by hand.
      copied.textContent = "";
      const box = document.createElement("input");
      box.readOnly = true;
      box.value = url;
      box.setAttribute("aria-label", "Link to this setup");
      copied.append("Copy this link: ", box);
      box.select();
    }
  });

  const frameworkNames = () =>
    Object.fromEntries(Array.from(form.elements.namedItem("framework").options, (o) => [o.value, o.textContent]));
  initPlanner({ loadShared, loadModel, model: () => modelId, inputs, picker, frameworkNames });
}

function setField(field, value) {
  if (field.tagName === "SELECT" && !Array.from(field.options).some((o) => o.value === value)) {
    field.add(new Option(`${value} (not in the catalog)`, value));
  }
  field.value = value;
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// ---- formatting (pages/calculator.py's display, kind by kind) -------------------------------------------------

function fixed(v, digits) {
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// Python's "%.{p}g": significant digits, trailing zeros dropped, exponent form below 1e-4.
function general(v, p) {
  const rounded = Number(v.toPrecision(p));
  const exp = Math.floor(Math.log10(Math.abs(rounded)));
  if (exp < -4 || exp >= p) {
    const [mant, e] = rounded.toExponential(p - 1).split("e");
    const n = Number(e);
    return `${mant.replace(/\.?0+$/, "")}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  return rounded.toFixed(Math.max(p - 1 - exp, 0)).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

export function display(fmt, v, names = {}, fitLabels = {}) {
  if (v === null || v === undefined) {
    if (fmt === "framework") return "no listed framework";
    if (fmt === "band") return "error not yet measured";
    return "unknown";
  }
  if (names[fmt]) return names[fmt][v] ?? String(v);
  switch (fmt) {
    case "bytes":
      return `${fixed(v / 2 ** 30, 1)} GiB`;
    case "tokens":
      return `${fixed(v, 0)} tokens`;
    case "int":
      return fixed(v, 0);
    case "tps":
      return `${fixed(v, v >= 100 ? 0 : 1)} tok/s`;
    case "ms":
      if (v >= 1000) return `${fixed(v / 1000, 2)} s`;
      return `${fixed(v, v < 100 ? 1 : 0)} ms`;
    case "usd":
      return `$${fixed(v, 2)}`;
    case "usd-month":
      return `$${fixed(v, 0)}/mo`;
    case "usd-request":
      return `$${general(v, v >= 0.01 ? 3 : 2)}`;
    case "share":
      return `${(v * 100).toFixed(0)}%`;
    case "band":
      return `±${v.toFixed(0)}%`;
    case "yes-no":
      return v ? "yes" : "no";
    case "level":
      return fitLabels[v] ?? v;
    default:
      return String(v);
  }
}

// ---- the planner ---------------------------------------------------------------------------------------------

function initPlanner(calc) {
  const form = document.getElementById("plan-form");
  const out = document.getElementById("plan-out");
  if (!form) return;
  document.getElementById("plan-fields").disabled = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const c = calc.inputs();
    const targets = {
      users: f.namedItem("users").value.trim(),
      tps: Number(f.namedItem("tps").value),
      ttft: Number(f.namedItem("ttft").value),
      context: f.namedItem("context").value.trim(),
      budget: f.namedItem("budget").value === "" ? null : Number(f.namedItem("budget").value),
      own: f.namedItem("own").value === "own",
      prompt: c.prompt,
      output: c.output,
      kv: c["kv-precision"],
    };
    out.textContent = "Searching…";
    let shared, model;
    try {
      [shared, model] = await Promise.all([calc.loadShared(), calc.loadModel(calc.model())]);
    } catch (err) {
      out.textContent = `The engine data could not be loaded (${err.message}).`;
      return;
    }
    if (!model) {
      out.textContent = `unknown model '${calc.model()}'`;
      return;
    }
    const t0 = performance.now();
    const found = plan(shared, model, targets);
    const ms = performance.now() - t0;
    showPlan(out, shared, model, targets, found, ms, calc.picker ? calc.model() : null, calc.frameworkNames());
  });
}

/**
 * The cheapest hardware setups (GPU and count; rented: by price per hour, own: by total memory) on which some weight
 * format and framework that serves the model holds every user's context and meets the targets; for each, the format
 * and framework with the lowest cost per token. Hardware is tried cheapest first and the search stops at SHOWN
 * setups (or past the budget); a format whose memory cannot hold the load is dropped before the speed model runs.
 */
export function plan(shared, model, t) {
  const card = (g) => (g.bundle ? shared.gpus[g.bundle.gpu] : g);
  const hardware = [];
  for (const [gid, gpu] of Object.entries(shared.gpus)) {
    const capacity = card(gpu).capacity_bytes;
    if (capacity === null || (!t.own && gpu.price_per_gpu_hour === null)) continue;
    for (const n of gpu.counts) {
      hardware.push({ gid, gpu, n, rank: t.own ? capacity * n : gpu.price_per_gpu_hour[0] * n });
    }
  }
  hardware.sort((a, b) => a.rank - b.rank || compare([a.gid, a.n], [b.gid, b.n]));
  const setups = [];
  let tried = 0;
  let error = null;
  const month = shared.constants.HOURS_PER_MONTH;
  for (const { gid, gpu, n } of hardware) {
    if (setups.length >= SHOWN) break;
    if (t.budget !== null && !t.own && gpu.price_per_gpu_hour[0] * n * month > t.budget) break; // dearer ones follow
    let best = null;
    for (const pid of shared.precision_order) {
      for (const fid of model.frameworks) {
        const fw = shared.frameworks[fid];
        if (!fw || !fw.precisions.includes(pid) || !fw.vendors.includes(card(gpu).vendor)) continue;
        const inputs = {
          gpu: gid,
          gpus: n,
          precision: pid,
          "kv-precision": t.kv,
          context: t.context,
          concurrency: t.users,
          prompt: t.prompt,
          output: t.output,
          framework: fid,
        };
        let r;
        try {
          if (!fitsInMemory(shared, model, inputs)) continue;
          tried += 1;
          r = estimate(shared, model, inputs, { rounded: false });
        } catch (err) {
          if (!(err instanceof EstimateError)) throw err;
          error ??= err.message;
          continue;
        }
        if (meets(r, t) && (best === null || compare(perToken(r), perToken(best)) < 0)) best = r;
      }
    }
    if (best !== null) setups.push(best);
  }
  return { setups, tried, error, api: cheapestApi(model, Number(t.prompt), Number(t.output)) };
}

function perToken(r) {
  return [r.cost_per_million_tokens_usd ?? Infinity, -r.per_user_tokens_per_s, r.precision, r.framework];
}

function meets(r, t) {
  if (!r.fits || r.per_user_tokens_per_s === null || r.per_user_tokens_per_s < t.tps) return false;
  return r.ttft_ms !== null && r.ttft_ms <= t.ttft;
}

function compare(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

function showPlan(out, shared, model, t, result, ms, pickedModel, frameworkNames) {
  out.textContent = "";
  const names = {
    gpu: Object.fromEntries(Object.entries(shared.gpus).map(([id, g]) => [id, g.short_name])),
    precision: Object.fromEntries(Object.entries(shared.precisions).map(([id, p]) => [id, p.label])),
  };
  const summary = document.createElement("p");
  summary.className = "assume";
  summary.dataset.searchMs = ms.toFixed(1);
  const n = result.setups.length;
  const which = t.own ? "smallest (by total memory: the catalog has no purchase prices)" : "cheapest per month";
  const budget = t.budget === null || t.own ? "" : ` within ${display("usd-month", t.budget)}`;
  summary.textContent =
    `${n ? `The ${n} ${which}` : "No"} hardware setups that meet the targets${budget}, best format and framework ` +
    `on each: ${result.tried} setups that hold the load were estimated in ${ms.toFixed(0)} ms.`;
  out.append(summary);
  if (!result.setups.length && result.error) {
    const p = document.createElement("p");
    p.className = "calc-error";
    p.textContent = result.error;
    out.append(p);
  }
  if (result.setups.length) {
    const wrap = document.createElement("div");
    wrap.className = "table-scroll";
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Setups that meet the targets (table)");
    const table = document.createElement("table");
    table.className = "plan-table";
    const head = ["Setup", "Format", "Framework", "Per user", "TTFT", "Per month", "Per request", "Calculator"];
    table.createTHead().insertRow().append(...head.map((h) => cell("th", h, { scope: "col" })));
    const body = table.createTBody();
    for (const r of result.setups.slice(0, SHOWN)) {
      const row = body.insertRow();
      const hardware = shared.gpus[r.gpu].bundle ? `${names.gpu[r.gpu]} (${r.gpus} GPUs)` : `${r.gpus} × ${names.gpu[r.gpu]}`;
      const link = document.createElement("a");
      link.href = `?${preset(r, pickedModel)}#calculator`;
      link.textContent = "Open";
      link.setAttribute("aria-label", `Open ${hardware} at ${names.precision[r.precision]} in the calculator`);
      row.className = "plan-row";
      row.append(
        cell("td", hardware),
        cell("td", names.precision[r.precision]),
        cell("td", frameworkNames[r.framework] ?? r.framework),
        cell("td", display("tps", r.per_user_tokens_per_s), { "data-key": "per_user_tokens_per_s", "data-value": JSON.stringify(r.per_user_tokens_per_s) }),
        cell("td", display("ms", r.ttft_ms), { "data-key": "ttft_ms", "data-value": JSON.stringify(r.ttft_ms) }),
        cell("td", display("usd-month", r.cost_per_month_usd), { "data-key": "cost_per_month_usd", "data-value": JSON.stringify(r.cost_per_month_usd) }),
        cell("td", display("usd-request", r.cost_per_request_usd), { "data-key": "cost_per_request_usd", "data-value": JSON.stringify(r.cost_per_request_usd) }),
      );
      const td = document.createElement("td");
      td.append(link);
      row.append(td);
    }
    wrap.append(table);
    out.append(wrap);
  }
  const api = document.createElement("p");
  api.className = "plan-api";
  if (result.api) {
    const [, name, input, output, asOf, source] = result.api.row;
    const a = document.createElement("a");
    a.href = source;
    a.rel = "nofollow noopener";
    a.textContent = "source";
    api.append(
      `The API alternative: ${name}, ${display("usd-request", result.api.usd)} per request ` +
        `(${Number(t.prompt).toLocaleString("en-US")} input tokens at $${input}/M plus ` +
        `${Number(t.output).toLocaleString("en-US")} output tokens at $${output}/M, as of ${asOf}; `,
      a,
      ").",
    );
  } else {
    api.textContent = `No API price for ${model.id} is in the catalog.`;
  }
  out.append(api);
}

function preset(r, pickedModel) {
  const q = new URLSearchParams();
  if (pickedModel) q.set("model", pickedModel);
  q.set("gpu", r.gpu);
  q.set("gpus", String(r.gpus));
  q.set("precision", r.precision);
  q.set("kv-precision", r.kv_precision);
  q.set("context", String(r.context));
  q.set("concurrency", String(r.concurrency));
  q.set("prompt", String(r.prompt));
  q.set("output", String(r.output));
  if (r.framework) q.set("framework", r.framework);
  return q.toString();
}

function cell(tag, text, attrs = {}) {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}
