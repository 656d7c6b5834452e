// Show time, not wall-clock time. vis-timeline works in Dates; the builder maps second 0 of
// the show to the Unix epoch and has vis-timeline compute its steps in UTC, so the ruler's
// ticks fall on whole seconds and minutes of the show whatever the browser's time zone.
// Pure JavaScript (no DOM).

export const EPOCH_MS = 0;

export const toDate = (seconds) => new Date(EPOCH_MS + Math.round(seconds * 1000));
export const toSeconds = (date) => (Number(date.valueOf()) - EPOCH_MS) / 1000;

const two = (n) => String(n).padStart(2, '0');

// 75 -> "01:15", 3725 -> "1:02:05", 90061 -> "1d 1:01:01"; with `fps`, frames are added
// SMPTE-style: "01:15:12" (minute:second:frame; "1:02:05:12" past an hour).
export function formatClock(seconds, fps = null) {
  const negative = seconds < 0;
  let rest = Math.abs(seconds);
  let frames = null;
  if (fps) {
    const total = Math.round(rest * fps);
    frames = total % fps;
    rest = Math.floor(total / fps);
  } else {
    rest = Math.round(rest * 1000) / 1000;
  }
  const days = Math.floor(rest / 86400);
  const hours = Math.floor((rest % 86400) / 3600);
  const minutes = Math.floor((rest % 3600) / 60);
  const secs = rest % 60;
  const secText = Number.isInteger(secs) ? two(secs) : two(Math.floor(secs))
    + String(Math.round((secs % 1) * 1000) / 1000).slice(1);
  let text = hours || days ? `${hours}:${two(minutes)}:${secText}` : `${two(minutes)}:${secText}`;
  if (days) text = `${days}d ${text}`;
  if (frames !== null) text += `:${two(frames)}`;
  return negative ? `-${text}` : text;
}

// "1:05", "01:05", "65", "1:02:05", "65.5" -> seconds; null when it is not a time.
export function parseClock(text) {
  const trimmed = String(text).trim();
  if (!/^\d+(\.\d+)?$|^\d+(:\d{1,2}){1,2}(\.\d+)?$/.test(trimmed)) return null;
  return trimmed.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

// vis-timeline `format` option: the ruler reads mm:ss (h:mm:ss past an hour), and frames
// (mm:ss:ff) once it is zoomed in below a second.
export function axisFormat(fps) {
  return {
    minorLabels: (date, scale) => formatClock(toSeconds(date), scale === 'millisecond' ? fps : null),
    majorLabels: () => '',
  };
}

// Words for a span: "1 min 30 s", "2 s", "12 frames".
export function formatSpan(seconds) {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  const minutes = Math.floor(seconds / 60);
  const secs = Math.round((seconds - minutes * 60) * 1000) / 1000;
  if (!minutes) return `${secs} s`;
  return secs ? `${minutes} min ${secs} s` : `${minutes} min`;
}
