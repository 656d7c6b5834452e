// Unit tests of the live view's degraded-mode notice (vistter/console/static/console/degraded.js),
// run by `node --test` from test_console_notice.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { degradedNotice } from '../../vistter/console/static/console/degraded.js';

const degraded = {
  enabled: true, active: true, level: 2, network_level: 1, load_level: 1,
  steps: ['bitrate 3600 kbps (80 %)', 'overlays simplified'],
  reason: "destination 'yt' accepted 2000 kbps of the 4500 kbps stream, 3.1 MB queued",
  since: 1000, applied: true, last_error: '',
};

test('nothing is shown while the output runs as configured', () => {
  assert.equal(degradedNotice(undefined, 2000), null);
  assert.equal(degradedNotice({}, 2000), null);
  assert.equal(degradedNotice({ degraded: { ...degraded, active: false } }, 2000), null);
});

test('the notice says what is stepped down, why and for how long', () => {
  const notice = degradedNotice({ degraded }, 1000 + 125);
  assert.deepEqual(notice, {
    title: 'Degraded mode',
    steps: 'bitrate 3600 kbps (80 %), overlays simplified',
    reason: degraded.reason,
    since: 'for 2 min',
    pending: '',
  });
  assert.equal(degradedNotice({ degraded }, 1030).since, 'for less than a minute');
});

test('a step the encoder has not taken yet is said, with its error', () => {
  const notice = degradedNotice({ degraded: { ...degraded, applied: false,
    last_error: 'the encoder is not running (it may be restarting)' } }, 1000);
  assert.equal(notice.pending,
    'the encoder has not taken this step yet: the encoder is not running (it may be restarting)');
});
