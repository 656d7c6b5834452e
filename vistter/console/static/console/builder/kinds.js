// The kinds of cue the palette offers, as the timeline model knows them
// (vistter/models/timeline.py and overlays.py): which track each goes on, how long a new one
// lasts, and the cue it makes. Pure JavaScript (no DOM), shared by the palette, the canvas
// and the side panels.
//
// `context` is what the appliance told the page: { cameras: [{id, name, ptz}], assets:
// [{asset_type, filename, file_path, mime_type}] }. A new cue takes the first camera or the
// first fitting asset; when there is none its reference stays empty and the server's
// validation names the missing field on the cue, for the properties panel to fill in.

const firstAsset = (context, test) => (context.assets || []).find(test)?.file_path || '';
const isImage = (asset) => asset.asset_type === 'image';
const isVideo = (asset) => asset.asset_type === 'video';
const isPng = (asset) => isImage(asset) && /png$/i.test(asset.mime_type || asset.filename);

export const KINDS = {
  camera: {
    label: 'Camera', track: 'video', seconds: 60,
    help: 'Shows a camera (and moves it to a PTZ preset first, if one is chosen).',
    make: (context, options = {}) => {
      const camera = (context.cameras || []).find((c) => c.id === options.camera_id)
        || (context.cameras || [])[0];
      const params = { camera_id: camera ? camera.id : (options.camera_id || 1),
        transition: 'cut' };
      const preset = options.preset_id || null;
      if (preset) params.preset_id = preset;
      return { action: 'show_camera', params };
    },
  },
  still: {
    label: 'Still image', track: 'video', seconds: 10,
    help: 'Shows a picture full screen.',
    make: (context) => ({ action: 'show_media',
      params: { media_url: firstAsset(context, isImage), transition: 'cut' } }),
  },
  video: {
    label: 'Video file', track: 'video', seconds: 30,
    help: 'Plays a video file full screen.',
    make: (context) => ({ action: 'show_media',
      params: { media_url: firstAsset(context, isVideo), loop: false, transition: 'cut' } }),
  },
  lower_third: {
    label: 'Lower third', track: 'overlay', seconds: 15,
    help: 'A name strap near the bottom.',
    make: () => ({ action: 'show_overlay', params: { type: 'lower_third', text: 'Name here',
      position: 'bottom_left', fade_in: 0.5, fade_out: 0.5 } }),
  },
  logo: {
    label: 'Logo', track: 'overlay', seconds: 60,
    help: 'A PNG in a corner.',
    make: (context) => ({ action: 'show_overlay', params: { type: 'logo',
      image_url: firstAsset(context, isPng) || firstAsset(context, isImage),
      position: 'top_right' } }),
  },
  text: {
    label: 'Text', track: 'overlay', seconds: 20,
    help: 'A line of text over the picture.',
    make: () => ({ action: 'show_overlay', params: { type: 'text', text: 'Text here',
      position: 'bottom_right' } }),
  },
  image: {
    label: 'Image', track: 'overlay', seconds: 10,
    help: 'A picture over the program.',
    make: (context) => ({ action: 'show_overlay', params: { type: 'image',
      image_url: firstAsset(context, isImage), position: 'center' } }),
  },
  clock: {
    label: 'Clock', track: 'overlay', seconds: 60,
    help: 'The time now, updated every second.',
    make: () => ({ action: 'show_overlay', params: { type: 'dynamic_text',
      template: '{time:%H:%M}', position: 'top_left' } }),
  },
  data_feed: {
    label: 'Data feed', track: 'overlay', seconds: 60,
    help: 'A value read from a JSON file or address (tide, weather...).',
    make: (context) => {
      const params = { type: 'dynamic_text', template: '{value}', position: 'bottom_right' };
      const path = firstAsset(context, (asset) => /json$/i.test(asset.mime_type || asset.filename));
      if (path) params.source = { path };
      return { action: 'show_overlay', params };
    },
  },
};

export const TRACK_WORDS = { video: 'the video track', overlay: 'an overlay track' };

// A whole new cue of `kind` starting at `start` (seconds), cut to the timeline's end.
export function newCue(kind, start, timelineSeconds, context = {}, options = {}) {
  const spec = KINDS[kind];
  if (!spec) throw new RangeError(`There is no cue kind ${kind}.`);
  const begin = Math.max(0, Math.min(start, timelineSeconds - 1));
  const duration = Math.max(1, Math.min(options.seconds || spec.seconds, timelineSeconds - begin));
  return { start_time: begin, duration, ...spec.make(context, options) };
}

// Why a kind cannot go on a track, in words; null when it can.
export function refusal(kind, trackKind) {
  const spec = KINDS[kind];
  if (!spec || spec.track === trackKind) return null;
  return `${spec.label} goes on ${TRACK_WORDS[spec.track]}, not on ${TRACK_WORDS[trackKind]}.`
    + ` Drop it on ${spec.track === 'video' ? 'the Video track' : 'an Overlay track'}.`;
}

// Which kind of the palette a cue is (for its colour and label).
export function kindOf(cue) {
  if (cue.action === 'show_camera') return 'camera';
  if (cue.action === 'show_media') {
    return /\.(mp4|mov|mkv|webm|ts|m4v|avi)(\?|$)/i.test(cue.params?.media_url || '')
      ? 'video' : 'still';
  }
  const type = cue.params?.type;
  if (type === 'dynamic_text') return cue.params.source ? 'data_feed' : 'clock';
  return KINDS[type] ? type : 'text';
}

const baseName = (path) => (path || '').split('?')[0].split('/').pop();

// The words on a cue's block: "Camera 2 · close_up", "Logo · logo.png", "Clock 12:34".
export function cueLabel(cue, context = {}) {
  const params = cue.params || {};
  switch (kindOf(cue)) {
    case 'camera': {
      const camera = (context.cameras || []).find((c) => c.id === params.camera_id);
      const name = camera && camera.name ? camera.name : `Camera ${params.camera_id}`;
      return params.preset_id ? `${name} · ${params.preset_id}` : name;
    }
    case 'still': case 'video':
      return baseName(params.media_url) || `${KINDS[kindOf(cue)].label} (choose a file)`;
    case 'logo': case 'image':
      return `${KINDS[params.type].label} · ${baseName(params.image_url) || 'choose a file'}`;
    case 'clock': case 'data_feed':
      return `${KINDS[kindOf(cue)].label} · ${params.template}`;
    default:
      return `${KINDS[params.type]?.label || 'Text'} · ${params.text || ''}`;
  }
}

// Seconds of the ramp drawn at the start and at the end of a cue's block: the video track's
// transition into the cue, or an overlay's fade in / fade out.
export function ramps(cue) {
  const params = cue.params || {};
  if (cue.action === 'show_overlay') {
    return { start: Number(params.fade_in) || 0, end: Number(params.fade_out) || 0 };
  }
  const transition = params.transition || 'cut';
  const given = params.transition_duration;
  const seconds = given !== undefined && given !== null ? Number(given)
    : (transition === 'cut' ? 0 : 1);
  return { start: transition === 'cut' ? 0 : seconds, end: 0, transition };
}
