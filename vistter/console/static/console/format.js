// How figures read on the page: durations as h:mm:ss, sizes in MB/GB, sources by name.

export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function bytes(value) {
  if (value == null || !Number.isFinite(value)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let size = value;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit += 1;
  }
  return `${size.toFixed(size >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function percent(value) {
  return value == null || !Number.isFinite(value) ? '—' : `${Math.round(value)} %`;
}

export function sourceName(source) {
  if (!source) return '—';
  if (source === 'slate') return 'Slate';
  const camera = /^camera:(\d+)$/.exec(source);
  if (camera) return `Camera ${camera[1]}`;
  return source.replace(/^(\w+):/, (_, kind) => `${kind[0].toUpperCase()}${kind.slice(1)} `);
}

export function cameraIds(status) {
  return Object.keys(status?.sources || {})
    .map((id) => /^camera:(\d+)$/.exec(id))
    .filter(Boolean)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
}
