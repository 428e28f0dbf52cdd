// Runs static/engine.js over a JSON file of setups in one node process, for tests/engine/test_engine_js_parity.py.
// Usage: node engine_parity_runner.mjs <engine data dir> <cases.json>; prints one JSON array, {ok, raw} (rounded and
// unrounded) or {error} per case.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dataDir, casesFile, enginePath] = process.argv.slice(2);
const { estimate, EstimateError } = await import(pathToFileURL(enginePath).href);
const shared = JSON.parse(readFileSync(join(dataDir, "shared.json"), "utf8"));
const models = new Map();
function modelData(id) {
  if (!models.has(id)) {
    let data = null;
    try {
      data = JSON.parse(readFileSync(join(dataDir, "models", `${id}.json`), "utf8"));
    } catch (err) {
      if (err.code !== "ENOENT") throw err;
    }
    models.set(id, data);
  }
  return models.get(id);
}
const out = [];
for (const inputs of JSON.parse(readFileSync(casesFile, "utf8"))) {
  try {
    const data = modelData(inputs.model);
    out.push({ ok: estimate(shared, data, inputs), raw: estimate(shared, data, inputs, { rounded: false }) });
  } catch (err) {
    if (!(err instanceof EstimateError)) throw err;
    out.push({ error: err.message });
  }
}
process.stdout.write(JSON.stringify(out));
