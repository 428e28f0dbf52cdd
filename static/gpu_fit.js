// "Which models run on this GPU for my context and users" (templates/partials/gpu_fit_form.html). The page arrives
// with the build's table; when the reader changes the context, users or GPU count (or opens a link with them in its
// query, named like `site-builder estimate`'s flags), every row is recomputed with engine.js, whose answers are those
// of `site-builder estimate --json`: each matrix column's fit level, and the fastest format that fits with its
// output tokens/s. The engine data (api/v1/engine/) is fetched on first use only.
import { estimate, EstimateError } from "./engine.js";
import { engineLoader } from "./engine_data.js";

const FLAGS = ["context", "concurrency", "gpus"];
const form = document.getElementById("gpu-fit-form");
if (form) init(form);

function init(form) {
  const table = document.getElementById("gpu-fit-table");
  const note = document.getElementById("gpu-fit-note");
  const dataUrl = form.dataset.engine;
  const gpu = form.dataset.gpu;
  const per = Number(form.dataset.per);
  const answer = Number(form.dataset.answer);
  const columns = JSON.parse(form.dataset.precisions);
  const fitLabels = JSON.parse(form.dataset.fitLabels);
  const rows = Array.from(table.querySelectorAll("tbody tr[data-model]"));
  const { loadShared, loadModel } = engineLoader(dataUrl);
  document.getElementById("gpu-fit-fields").disabled = false;

  function inputs() {
    const v = Object.fromEntries(FLAGS.map((f) => [f, form.elements.namedItem(f).value.trim()]));
    const context = Number(v.context);
    const concurrency = Number(v.concurrency);
    const gpus = Number(v.gpus);
    if (![context, concurrency, gpus].every((n) => Number.isInteger(n) && n >= 1)) return null;
    return { context, concurrency, gpus };
  }

  // One estimate as the CLI would run it: the answer as on the rest of the site, the prompt fills the context.
  function run(sh, model, want, precision) {
    const output = Math.min(answer, Math.floor(want.context / 2));
    const flags = {
      gpu,
      gpus: String(want.gpus),
      precision,
      context: String(want.context),
      concurrency: String(want.concurrency),
      prompt: String(want.context - output),
      output: String(output),
    };
    try {
      return { result: estimate(sh, model, flags, { rounded: true }) };
    } catch (err) {
      if (err instanceof EstimateError) return { error: err.message };
      throw err;
    }
  }

  function cellFor(outcome) {
    const r = outcome.result;
    // As pages/matrix_cells.py: a setup that cannot hold this context says which shorter one it holds.
    if (r && r.fit_level === "no-fit" && r.max_context > 0) return ["no-fit", upTo(r.max_context)];
    if (r) return [r.fit_level, fitLabels[r.fit_level]];
    if (/exceeds the model's context window/.test(outcome.error)) return ["n/a", "beyond its window"];
    return ["n/a", "n/a"];
  }

  // The fastest format that fits, a batching server before any local runtime (plan._keep_fastest's rule).
  function fastest(outcomes) {
    let best = null;
    for (const [precision, o] of outcomes) {
      const r = o.result;
      if (!r || !r.fits || !r.output_tokens_per_s) continue;
      const server = r.engine_class === "batched-server";
      if (
        best === null ||
        (server && !best.server) ||
        (server === best.server && r.output_tokens_per_s > best.r.output_tokens_per_s)
      ) {
        best = { precision, r, server };
      }
    }
    return best;
  }

  function renderRow(sh, row, model, want) {
    const cells = row.querySelectorAll("td[data-level]");
    columns.forEach((precision, i) => {
      const [level, label] = cellFor(run(sh, model, want, precision));
      cells[i].className = `cell fit-${level}`;
      cells[i].dataset.level = level;
      cells[i].textContent = label;
    });
    const own = row.dataset.precisions.split(" ").filter(Boolean);
    const best = fastest(own.map((p) => [p, run(sh, model, want, p)]));
    const bestCell = row.querySelector("td[data-best]");
    const speedCell = row.querySelector("td.num");
    const users = `${want.concurrency} user${want.concurrency > 1 ? "s" : ""}`;
    bestCell.textContent = best
      ? sh.precisions[best.precision].label
      : `${users} × ${want.context.toLocaleString("en-US")} tokens do not fit on ${want.gpus} GPU${want.gpus > 1 ? "s" : ""}`;
    bestCell.dataset.precision = best ? best.precision : "";
    const tps = best ? best.r.output_tokens_per_s : 0;
    speedCell.dataset.value = String(Math.round(tps * 10) / 10);
    speedCell.textContent = best ? `${tps.toLocaleString("en-US", fmt(tps))} tok/s` : "—";
  }

  async function update(remember) {
    const want = inputs();
    if (want === null) {
      note.textContent = "Context, users and GPUs take whole numbers of at least 1.";
      return;
    }
    if (want.gpus % per) want.gpus = Math.ceil(want.gpus / per) * per;
    let sh;
    try {
      sh = await loadShared();
      const loaded = await Promise.all(rows.map((row) => loadModel(row.dataset.model)));
      rows.forEach((row, i) => loaded[i] && renderRow(sh, row, loaded[i], want));
    } catch (err) {
      note.textContent = `The engine data could not be loaded (${err.message}).`;
      return;
    }
    const users = `${want.concurrency} concurrent user${want.concurrency > 1 ? "s" : ""}`;
    note.textContent =
      `Fit and speed for ${users}, ${want.context.toLocaleString("en-US")} tokens each (answers of up to ` +
      `${answer} tokens), on ${want.gpus} GPU${want.gpus > 1 ? "s" : ""}: computed in your browser by the same ` +
      "engine as site-builder estimate --json.";
    table.dataset.computed = "browser";
    if (remember) {
      const q = new URLSearchParams(FLAGS.map((f) => [f, String(want[f])]));
      history.replaceState(null, "", `?${q}${location.hash}`);
    }
  }

  const params = new URLSearchParams(location.search);
  let preset = false;
  for (const flag of FLAGS) {
    if (params.has(flag)) {
      form.elements.namedItem(flag).value = params.get(flag);
      preset = true;
    }
  }
  if (preset) update(false);

  let timer = 0;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => update(true), 250);
  });
  form.addEventListener("submit", (ev) => ev.preventDefault());
}

function upTo(n) {
  return n >= 1024 ? `fits up to ${Math.floor(n / 1024)}K tokens` : `fits up to ${n.toLocaleString("en-US")} tokens`;
}

function fmt(v) {
  const digits = v >= 100 ? 0 : 1;
  return { minimumFractionDigits: digits, maximumFractionDigits: digits };
}
