// The destinations page: every output with its state; add one from a platform preset
// (the server URL is filled in), edit (replace) or remove one. Stream keys and SRT
// passphrases are write-only: typed into a password field, sent once, cleared from the
// page at once, never shown again (the API never returns them).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get } from '../api.js';
import { Destination } from './outputs.js';

const EMPTY = { id: '', platform: 'youtube', url: '', editing: null };

function bitrateWarning(platform, programKbps) {
  const limit = platform?.max_bitrate_kbps;
  if (!limit || !programKbps || programKbps <= limit) return null;
  return `${platform.label} accepts at most ${limit} kb/s, but the program is encoded at `
    + `${programKbps} kb/s: it will be refused. Lower [encoding] bitrate_kbps to ${limit} or less.`;
}

function DestinationForm({ platforms, programKbps, form, setForm, controller, busy }) {
  const secret = useRef(null);
  const platform = platforms.find((p) => p.id === form.platform) || platforms[0];
  const warning = bitrateWarning(platform, programKbps);
  const choose = (id) => {
    const chosen = platforms.find((p) => p.id === id);
    setForm({ ...form, platform: id, url: chosen?.url || '' });
  };
  const submit = async (event) => {
    event.preventDefault();
    const value = secret.current.value;
    secret.current.value = '';  // never kept in the page, whatever the answer
    const body = { id: form.id.trim(), platform: platform.id };
    if (form.url.trim() && form.url.trim() !== platform.url) body.url = form.url.trim();
    if (platform.protocol === 'srt' && !body.url) body.url = form.url.trim();
    if (value) body[platform.secret] = value;
    if (form.editing) {
      const removed = await controller.command(`Remove ${form.editing}`,
        `/api/destinations/${encodeURIComponent(form.editing)}`, undefined, 'DELETE');
      if (removed === undefined) return;
    }
    const added = await controller.command(`Add destination ${body.id}`, '/api/destinations', body);
    if (added !== undefined) setForm({ ...EMPTY });
  };
  const secretLabel = platform?.secret === 'passphrase' ? 'Passphrase' : 'Stream key';
  return html`
    <form class="dest-form" onSubmit=${submit} data-testid="destination-form" autocomplete="off">
      <h3>${form.editing ? `Edit ${form.editing}` : 'Add a destination'}</h3>
      <label>Platform
        <select value=${platform?.id} onChange=${(e) => choose(e.target.value)} data-testid="platform">
          ${platforms.map((p) => html`<option value=${p.id}>${p.label}</option>`)}
        </select></label>
      <label>Name (id)
        <input required maxlength="64" value=${form.id}
               onInput=${(e) => setForm({ ...form, id: e.target.value })} data-testid="destination-id" /></label>
      <label>Server URL
        <input required=${!platform?.url} value=${form.url} placeholder=${platform?.protocol === 'srt'
          ? 'srt://host:port' : 'rtmp://host/app'}
               onInput=${(e) => setForm({ ...form, url: e.target.value })} data-testid="destination-url" /></label>
      <label>${secretLabel} ${platform?.secret_required ? '' : '(optional)'}
        <input type="password" ref=${secret} required=${Boolean(platform?.secret_required)}
               autocomplete="new-password" data-testid="destination-secret" /></label>
      <p class="small">The ${secretLabel.toLowerCase()} is stored on the appliance and never shown
        again${form.editing ? ': type it again to keep publishing' : ''}.</p>
      ${warning && html`<p class="warning" role="alert" data-testid="bitrate-warning">${warning}</p>`}
      <div class="buttons">
        <button type="submit" class="btn btn-go" disabled=${busy}>${form.editing ? 'Save' : 'Add'}</button>
        ${form.editing && html`<button type="button" class="btn" onClick=${() => setForm({ ...EMPTY })}>Cancel</button>`}
      </div>
    </form>`;
}

export function DestinationsPage({ state, controller }) {
  const [platforms, setPlatforms] = useState(null);
  const [programKbps, setProgramKbps] = useState(null);
  const [form, setForm] = useState({ ...EMPTY });
  const [removing, setRemoving] = useState(null);
  useEffect(() => {
    get('/api/platforms').then((answer) => {
      setPlatforms(answer.platforms);
      setProgramKbps(answer.program_bitrate_kbps);
      setForm((current) => ({ ...current, url: answer.platforms[0]?.url || '' }));
    }).catch(() => setPlatforms([]));
  }, []);
  const busy = state.busy !== null;
  const destinations = state.destinations || [];
  const edit = (d) => {
    const preset = platforms?.find((p) => p.id === d.platform);
    setForm({ id: d.id, platform: preset ? d.platform : platforms?.[0]?.id, editing: d.id,
      url: preset?.url || '' });
  };
  const remove = async (id) => {
    setRemoving(null);
    await controller.command(`Remove ${id}`, `/api/destinations/${encodeURIComponent(id)}`,
      undefined, 'DELETE');
  };
  return html`
    <section class="panel" aria-labelledby="destinations-title">
      <h2 id="destinations-title">Destinations</h2>
      <ul class="dests">${destinations.map((d) => html`
        <${Destination} key=${d.id || d.child} destination=${d}>
          ${d.kind !== 'preview' && html`<div class="buttons">
            ${d.kind === 'destination' && platforms && html`<button type="button" class="btn btn-small"
              disabled=${busy} onClick=${() => edit(d)}>Edit</button>`}
            ${removing === d.id
              ? html`<button type="button" class="btn btn-small btn-danger" disabled=${busy}
                  onClick=${() => remove(d.id)}>Yes, remove ${d.id}</button>
                <button type="button" class="btn btn-small" onClick=${() => setRemoving(null)}>Keep it</button>`
              : html`<button type="button" class="btn btn-small btn-danger" disabled=${busy}
                  onClick=${() => setRemoving(d.id)}>Remove</button>`}
          </div>`}
        <//>`)}</ul>
    </section>
    <section class="panel">
      ${platforms == null ? html`<p class="muted">Loading the platforms…</p>`
        : platforms.length === 0 ? html`<p class="muted">Destinations cannot be added here.</p>`
          : html`<${DestinationForm} platforms=${platforms} programKbps=${programKbps} form=${form}
              setForm=${setForm} controller=${controller} busy=${busy} />`}
    </section>`;
}
