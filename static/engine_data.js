// The engine's inputs the build writes under api/v1/engine/ (engine_export.py), each file fetched once, on first
// use: shared.json (GPUs, frameworks, constants) and models/<id>.json (null when a model's file cannot be read).
export function engineLoader(dataUrl) {
  let shared = null;
  const models = new Map();
  return {
    loadShared: () => (shared ??= fetchJson(`${dataUrl}shared.json`)),
    loadModel(id) {
      if (!models.has(id)) models.set(id, fetchJson(`${dataUrl}models/${encodeURIComponent(id)}.json`).catch(() => null));
      return models.get(id);
    },
  };
}

export async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
