// The add / edit camera form of the cameras page. The password is write-only: typed into a
// password field, sent once, cleared from the page at once, never shown again (the API never
// returns it). Editing sends what the form shows; a username and password left empty keep the
// stored ones (and the PTZ section, which the page does not edit, stays as it is).
import { useRef } from 'preact/hooks';
import { html } from '../html.js';

export const EMPTY_CAMERA = { id: '', name: '', url: '', transport: 'tcp', backup: '', username: '',
  editing: null };

// The form's state for editing `camera` (a row of GET /api/cameras).
export function editForm(camera) {
  return { id: String(camera.id), name: camera.name, url: camera.url, transport: camera.transport,
    backup: camera.backup_camera_id == null ? '' : String(camera.backup_camera_id), username: '',
    editing: camera.id };
}

// A refusal as the operator reads it: what went wrong, then what to do.
export function inWords(error) {
  const problem = error.problem.replace(/[.!]?\s*$/, '.');
  return error.hint ? `${problem} ${error.hint}` : problem;
}

// The next free id: one more than the largest.
export function nextId(cameras) {
  return String(Math.max(0, ...cameras.map((camera) => camera.id)) + 1);
}

export function CameraForm({ cameras, form, setForm, send, busy, error }) {
  const secret = useRef(null);
  const field = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const backups = cameras.filter((camera) => String(camera.id) !== form.id);
  const submit = async (event) => {
    event.preventDefault();
    const password = secret.current.value;
    secret.current.value = '';  // never kept in the page, whatever the answer
    const id = Number(form.id);
    const body = { id, url: form.url.trim(), transport: form.transport };
    if (form.name.trim()) body.name = form.name.trim();
    if (form.backup) body.backup_camera_id = Number(form.backup);
    if (form.username.trim()) body.username = form.username.trim();
    if (password) body.password = password;
    const done = form.editing != null
      ? await send(`Save camera ${id}`, 'PUT', `/api/cameras/${form.editing}`, body)
      : await send(`Add camera ${id}`, 'POST', '/api/cameras', body);
    if (done) setForm({ ...EMPTY_CAMERA, id: nextId([...cameras, { id }]) });
  };
  const editing = form.editing != null;
  return html`
    <form class="dest-form" onSubmit=${submit} data-testid="camera-form" autocomplete="off">
      <h3>${editing ? `Edit camera ${form.editing}` : 'Add a camera'}</h3>
      <label>Id (a number)
        <input required type="number" min="1" step="1" value=${form.id} disabled=${editing}
               onInput=${field('id')} data-testid="camera-id" /></label>
      <label>Name
        <input maxlength="80" value=${form.name} placeholder="Pier camera"
               onInput=${field('name')} data-testid="camera-name" /></label>
      <label>Stream URL
        <input required value=${form.url} placeholder="rtsp://192.0.2.10:554/stream"
               onInput=${field('url')} data-testid="camera-url" /></label>
      <p class="small">Put no user:password@ in the URL: use the fields below.</p>
      <label>Transport
        <select value=${form.transport} onChange=${field('transport')} data-testid="camera-transport">
          <option value="tcp">TCP (reliable)</option>
          <option value="udp">UDP</option>
        </select></label>
      <label>Backup camera
        <select value=${form.backup} onChange=${field('backup')} data-testid="camera-backup">
          <option value="">None (the slate covers it)</option>
          ${backups.map((camera) => html`
            <option value=${String(camera.id)}>${camera.name} (${camera.id})</option>`)}
        </select></label>
      <label>Username (optional)
        <input value=${form.username} onInput=${field('username')} autocomplete="off"
               data-testid="camera-username" /></label>
      <label>Password (optional)
        <input type="password" ref=${secret} autocomplete="new-password"
               data-testid="camera-password" /></label>
      <p class="small">The password is stored on the appliance and never shown again${editing
        ? '; leave username and password empty to keep the stored ones' : ''}. Cameras added
        here run until the appliance restarts: add them to the configuration file to keep them.</p>
      ${error && html`<p class="warning" role="alert" data-testid="camera-error">${inWords(error)}</p>`}
      <div class="buttons">
        <button type="submit" class="btn btn-go" disabled=${busy}>${editing ? 'Save' : 'Add camera'}</button>
        ${editing && html`<button type="button" class="btn"
          onClick=${() => setForm({ ...EMPTY_CAMERA, id: nextId(cameras) })}>Cancel</button>`}
      </div>
    </form>`;
}
