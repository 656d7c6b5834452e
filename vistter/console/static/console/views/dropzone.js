// A place to drop files, with a button that opens the file picker for those who cannot (or
// would rather not) drag: keyboard, touch screens, screen readers. While a zone is on the
// page, a file dropped beside it is ignored instead of making the browser leave the console
// to show that file.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';

const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes('Files');

function useNoStrayDrops() {
  useEffect(() => {
    const stray = (event) => {
      if (hasFiles(event) && !event.target.closest?.('.dropzone')) event.preventDefault();
    };
    window.addEventListener('dragover', stray);
    window.addEventListener('drop', stray);
    return () => {
      window.removeEventListener('dragover', stray);
      window.removeEventListener('drop', stray);
    };
  }, []);
}

export function DropZone({ title, help, button, accept, multiple = true, disabled = false,
  onFiles, testid, children }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);  // dragenter/dragleave fire for every child crossed
  const input = useRef(null);
  useNoStrayDrops();
  const enter = (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth.current += 1;
    setOver(true);
  };
  const leave = () => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setOver(false);
  };
  const overZone = (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
  };
  const drop = (event) => {
    event.preventDefault();
    depth.current = 0;
    setOver(false);
    const files = Array.from(event.dataTransfer?.files || []);
    if (!disabled && files.length > 0) onFiles(multiple ? files : files.slice(0, 1));
  };
  const picked = (event) => {
    const files = Array.from(event.target.files || []);
    event.target.value = '';  // choosing the same file again is a new choice
    if (files.length > 0) onFiles(files);
  };
  return html`
    <div class=${`dropzone${over ? ' dropzone-over' : ''}`} data-testid=${testid}
         onDragEnter=${enter} onDragLeave=${leave} onDragOver=${overZone} onDrop=${drop}>
      <div class="dropzone-text">
        <strong>${title}</strong>
        <span class="small">${help}</span>
      </div>
      <button type="button" class="btn" disabled=${disabled}
              onClick=${() => input.current?.click()}>${button}</button>
      <input type="file" hidden ref=${input} accept=${accept} multiple=${multiple}
             onChange=${picked} data-testid=${`${testid}-input`} />
      ${children}
    </div>`;
}
