// Unit tests of the builder's editing model (vistter/console/static/console/builder/state.js
// and the pure modules beside it), run by `node --test` from test_builder_state.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createBuilder, newTimelineDocument, findCue } from
  '../../vistter/console/static/console/builder/state.js';
import { snapSeconds, snapEdges } from '../../vistter/console/static/console/builder/snap.js';
import { formatClock, parseClock } from '../../vistter/console/static/console/builder/timeaxis.js';
import { addCueAt, addCueAtPlayhead } from '../../vistter/console/static/console/builder/adding.js';

const example = JSON.parse(readFileSync(new URL(
  '../../config/daily-marina.timeline.json', import.meta.url), 'utf8'));
const camera = (id, start, duration) => ({ id, start_time: start, duration,
  action: 'show_camera', params: { camera_id: 1, transition: 'cut' } });

test('an edit is one undo step; undo and redo restore the documents exactly', () => {
  const builder = createBuilder(example);
  const before = JSON.stringify(builder.doc);
  assert.equal(builder.dirty, false);
  assert.equal(builder.edit('Rename', (draft) => { draft.timeline.name = 'Other'; }), true);
  builder.moveCues([{ id: 'cue_v1', start_time: 2.5000000001, duration: 40 }], 'Move cue');
  const after = JSON.stringify(builder.doc);
  assert.deepEqual(findCue(builder.doc, 'cue_v1').cue.start_time, 2.5);
  assert.equal(builder.undoLabel, 'Move cue');
  assert.ok(builder.undo() && builder.undo());
  assert.equal(JSON.stringify(builder.doc), before);
  assert.equal(builder.dirty, false);
  assert.equal(builder.canUndo, false);
  assert.ok(builder.redo() && builder.redo());
  assert.equal(JSON.stringify(builder.doc), after);
  assert.equal(builder.canRedo, false);
});

test('the document cannot be changed behind the history, and a no-op edit is not a step', () => {
  const builder = createBuilder(example);
  assert.throws(() => { builder.doc.timeline.name = 'x'; }, TypeError);
  assert.equal(builder.edit('Nothing', () => {}), false);
  assert.equal(builder.canUndo, false);
});

test('subscribers hear every change with its kind; a failing one does not stop the others', () => {
  const builder = createBuilder(newTimelineDocument({ id: 't' }));
  const heard = [];
  const original = console.error;
  console.error = () => {};
  builder.subscribe(() => { throw new Error('broken panel'); });
  const stop = builder.subscribe((_, change) => heard.push(change.kind));
  builder.addCue('video_main', camera('a', 0, 10));
  builder.undo();
  builder.redo();
  builder.setProblems([{ cue_id: 'a', message: 'overlaps' }]);
  builder.markSaved('"v2"');
  stop();
  builder.setPlayhead(5);
  console.error = original;
  assert.deepEqual(heard, ['edit', 'select', 'undo', 'redo', 'problems', 'saved']);
  assert.equal(builder.etag, '"v2"');
  assert.deepEqual(builder.problemsFor('a').map((p) => p.message), ['overlaps']);
});

test('copy and paste put the selected cues at the playhead with new ids, as one step', () => {
  const builder = createBuilder(example);
  builder.select(['cue_v1']);
  builder.select(['cue_o1'], { add: true });
  assert.equal(builder.copy(), 2);
  builder.setPlayhead(600);
  const ids = builder.paste();
  assert.equal(ids.length, 2);
  assert.deepEqual(builder.selected(), ids);
  const [video, overlay] = ids.map((id) => findCue(builder.doc, id));
  assert.equal(video.track.track_id, 'video_main');
  assert.equal(video.cue.start_time, 600);
  assert.equal(overlay.track.track_id, 'overlay_1');
  assert.equal(overlay.cue.start_time, 610);  // 10 s after the first, as copied
  assert.equal(builder.undoLabel, 'Paste 2 cues');
  builder.undo();
  assert.deepEqual(builder.selected(), []);
});

test('tracks: add on top, reorder by layer, switch off (left out of the output), remove', () => {
  const builder = createBuilder(example);
  const added = builder.addTrack();
  assert.equal(added, 'overlay_3');
  assert.equal(findCue(builder.doc, 'cue_o3').track.layer, 2);
  builder.moveTrack('overlay_3', -1);
  const layers = builder.doc.timeline.tracks.overlays.map((t) => [t.track_id, t.layer]);
  assert.deepEqual(layers, [['overlay_1', 1], ['overlay_3', 2], ['overlay_2', 3]]);
  builder.setTrackEnabled('overlay_2', false);
  assert.deepEqual(builder.output().timeline.tracks.overlays.map((t) => t.track_id),
    ['overlay_1', 'overlay_3']);
  builder.undo();
  assert.equal(builder.output().timeline.tracks.overlays.length, 3);
  builder.removeTrack('overlay_1');
  assert.equal(findCue(builder.doc, 'cue_o1'), null);
  assert.throws(() => builder.removeTrack('video_main'), RangeError);
});

test('a dragged edge sticks to a neighbour within a few pixels, else to a whole second', () => {
  const builder = createBuilder(example);
  const edges = snapEdges(builder.doc, 0, new Set(['cue_v2']));
  const options = { edges, secondsPerPixel: 0.2, fps: 30 };
  assert.equal(snapSeconds(64.1, options), 65);   // cue_v3 starts at 65: 4.5 px away
  assert.equal(snapSeconds(90.4, options), 90);   // nothing near: the whole second
  assert.equal(snapSeconds(12.1, { ...options, secondsPerPixel: 0.001 }), 12.1);  // frames
  assert.equal(snapSeconds(12.11, { ...options, secondsPerPixel: 0.001 }), 12.1);
});

test('adding from the palette: refused on the wrong track, fitted into a gap, after the playhead', () => {
  const builder = createBuilder(newTimelineDocument({ id: 't' }));
  assert.match(addCueAt(builder, 'logo', 'video_main', 0).refused,
    /Logo goes on an overlay track, not on the video track/);
  builder.addCue('video_main', camera('later', 30, 10));
  const first = addCueAt(builder, 'camera', 'video_main', 0, { cameras: [{ id: 2 }] });
  assert.deepEqual([first.cue.start_time, first.cue.duration, first.cue.params.camera_id],
    [0, 30, 2]);
  builder.setPlayhead(35);
  const next = addCueAtPlayhead(builder, 'camera', {});
  assert.equal(next.cue.start_time, 40);  // after the cue under the playhead
  assert.equal(builder.playhead, 100);
});

test('show times read and write as mm:ss, h:mm:ss and frames', () => {
  assert.equal(formatClock(75), '01:15');
  assert.equal(formatClock(3725), '1:02:05');
  assert.equal(formatClock(75.4, 30), '01:15:12');
  assert.equal(parseClock('1:05'), 65);
  assert.equal(parseClock('1:02:05'), 3725);
  assert.equal(parseClock('soon'), null);
});
