// Times as a person reads and types them in the builder's panels: "1:05" is 65 s, "1:02:03"
// is 3723 s, "90" is 90 s, "0:10.5" is 10.5 s. Pure functions, no DOM.

const CLOCK = /^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$/;

// Seconds from "m:ss", "h:mm:ss" or plain seconds; null when it is not a time.
export function parseClock(text) {
  const trimmed = String(text ?? '').trim();
  const match = CLOCK.exec(trimmed);
  if (!match) return null;
  const [, first, second, last] = match;
  const seconds = Number(last);
  // "1:75" is not a time: with minutes given, seconds stay under 60 (and minutes with hours).
  if ((first !== undefined) && seconds >= 60) return null;
  if (second !== undefined && Number(second) >= 60) return null;
  const hours = second !== undefined ? Number(first) : 0;
  const minutes = second !== undefined ? Number(second) : Number(first || 0);
  return Math.round((hours * 3600 + minutes * 60 + seconds) * 1000) / 1000;
}

// "m:ss" (or "h:mm:ss" from an hour on); fractions of a second kept to the millisecond.
export function formatClock(seconds) {
  const value = Math.max(0, Math.round(Number(seconds || 0) * 1000) / 1000);
  const whole = Math.floor(value);
  const fraction = Math.round((value - whole) * 1000);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  let s = String(whole % 60).padStart(2, '0');
  if (fraction) s += `.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

// Why `text` cannot be used as a time from `min` to `max` seconds, or null when it can.
export function clockProblem(text, { min = 0, max = Infinity, positive = false, what = 'The time' } = {}) {
  const seconds = parseClock(text);
  if (seconds === null) return `${what} is written m:ss, e.g. 1:05 (or seconds, e.g. 65).`;
  if (positive && seconds <= 0) return `${what} must be more than 0:00.`;
  if (seconds < min) return `${what} cannot be before ${formatClock(min)}.`;
  if (seconds > max) return `${what} cannot be after ${formatClock(max)}.`;
  return null;
}
