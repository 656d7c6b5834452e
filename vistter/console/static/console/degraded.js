// Degraded mode as the live view shows it (GET /api/status, `degraded`): what is stepped
// down, why, and for how long. Pure: no DOM, unit-tested in Node (tests/degraded).

// null while the output runs as configured (or the appliance has no degraded mode).
export function degradedNotice(status, nowSeconds = Date.now() / 1000) {
  const degraded = status?.degraded;
  if (!degraded || !degraded.active) return null;
  const steps = Array.isArray(degraded.steps) && degraded.steps.length
    ? degraded.steps.join(', ') : 'stepping down';
  let since = '';
  if (typeof degraded.since === 'number') {
    const minutes = Math.floor(Math.max(0, nowSeconds - degraded.since) / 60);
    since = minutes < 1 ? 'for less than a minute' : `for ${minutes} min`;
  }
  let pending = '';
  if (degraded.applied === false) {
    pending = 'the encoder has not taken this step yet'
      + (degraded.last_error ? `: ${degraded.last_error}` : '');
  }
  return { title: 'Degraded mode', steps, reason: degraded.reason || '', since, pending };
}
