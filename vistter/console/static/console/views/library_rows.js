// How the library and the asset pages read the API's records: one shape per row, whichever
// fields this appliance sends (newer ones add counts, ETags, last runs, thumbnails; older
// ones have fewer, and the page then shows "—" or reads the run history itself).
import { get } from '../api.js';

const count = (value) => (Array.isArray(value) ? value.length
  : Number.isFinite(value) ? value : null);

// The newest run of every timeline, from the execution history (newest first).
function latestRuns(executions) {
  const runs = new Map();
  for (const run of executions) {
    if (run.timeline_id != null && !runs.has(run.timeline_id)) {
      runs.set(run.timeline_id, { started_at: run.started_at, ended_at: run.completed_at,
        result: run.status, error: run.error_message });
    }
  }
  return runs;
}

export function timelineRow(timeline, runs) {
  return {
    id: timeline.id,
    key: timeline.key,
    name: timeline.name,
    description: timeline.description || '',
    seconds: timeline.duration_s ?? timeline.duration,
    tracks: count(timeline.tracks),
    cues: count(timeline.cues),
    loop: timeline.loop ?? null,
    onAir: Boolean(timeline.on_air ?? timeline.is_running),
    etag: timeline.etag ?? null,
    lastRun: 'last_run' in timeline ? timeline.last_run : runs?.get(timeline.id) ?? null,
    updatedAt: timeline.updated_at ?? timeline.modified_at ?? null,
  };
}

// Every stored timeline as a row; the run history is read only when the listing lacks it.
export async function readTimelines() {
  const { timelines } = await get('/api/timelines');
  let runs = null;
  if (timelines.some((timeline) => !('last_run' in timeline))) {
    try {
      runs = latestRuns((await get('/api/executions?limit=1000')).executions);
    } catch {
      runs = null;  // the last run then reads "—"; the list itself is still right
    }
  }
  return timelines.map((timeline) => timelineRow(timeline, runs));
}

export function assetRow(asset) {
  const metadata = asset.metadata || {};
  return {
    id: asset.id,
    name: asset.filename ?? asset.name,
    kind: asset.kind ?? asset.asset_type ?? '',
    mime: asset.mime_type ?? '',
    size: asset.size ?? asset.file_size ?? null,
    width: asset.width ?? metadata.width ?? null,
    height: asset.height ?? metadata.height ?? null,
    seconds: asset.duration_s ?? metadata.duration ?? null,
    usedBy: Array.isArray(asset.used_by) ? asset.used_by : null,
    thumbnail: asset.thumbnail_url ?? null,
    path: asset.file_path ?? '',
  };
}

export async function readAssets() {
  const { assets } = await get('/api/assets');
  return assets.map(assetRow);
}

const RESULTS = {
  running: 'on air now',
  completed: 'played to the end',
  stopped: 'stopped by the operator',
  error: 'failed',
  failed: 'failed',
};
const RESULT_TONES = { running: 'live', completed: 'ok', stopped: 'plain', error: 'bad',
  failed: 'bad' };

export function resultWords(result) {
  return RESULTS[result] || result || 'unknown';
}

export function resultTone(result) {
  return RESULT_TONES[result] || 'plain';
}

// "3 Dec 2026, 12:40" in the browser's own language and time zone.
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

// A refusal as the Problem view shows it: what was tried, what went wrong, what to do.
export function asProblem(action, error, hint) {
  return { action, problem: error?.problem ?? String(error), hint: hint ?? error?.hint ?? '',
    status: error?.status, problems: error?.problems || [] };
}
