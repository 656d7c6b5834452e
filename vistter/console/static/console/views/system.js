// The stream (bitrate, frame rate, dropped frames: metrics.stream) and the box itself: CPU,
// memory, disk, temperature (metrics.system on the telemetry bus) and a small uPlot chart of
// CPU and memory over the last minutes.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';
import { bytes, percent } from '../format.js';

const WINDOW_S = 600;  // the chart shows the last ten minutes

function Chart({ history }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = () => Math.max(200, box.current?.clientWidth ?? 0);  // null once unmounted
    plot.current = new uPlot({
      width: width(), height: 120, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: true, auto: false }, y: { range: [0, 100] } },
      axes: [{ stroke: '#000', grid: { stroke: '#ccc' } },
        { stroke: '#000', grid: { stroke: '#ccc' }, size: 56, values: (u, v) => v.map((x) => `${x}%`) }],
      series: [{}, { label: 'CPU', stroke: '#0047b3', width: 2, points: { size: 6 } },
        { label: 'Memory', stroke: '#a35200', width: 2, dash: [6, 4] }],
    }, [[], [], []], box.current);
    const resize = new ResizeObserver(() => plot.current.setSize({ width: width(), height: 120 }));
    resize.observe(box.current);
    return () => { resize.disconnect(); plot.current.destroy(); };
  }, []);
  useEffect(() => {
    if (!plot.current || !history.length) return;
    const last = history[history.length - 1].ts;
    plot.current.setData([
      history.map((s) => s.ts), history.map((s) => s.cpu), history.map((s) => s.memory)], false);
    plot.current.setScale('x', { min: last - WINDOW_S, max: last });
  }, [history]);
  return html`<div class="chart" ref=${box} role="img"
    aria-label="CPU (solid) and memory (dashed) over the last ten minutes"></div>`;
}

function mbps(value) {
  return value == null || !Number.isFinite(value) ? '—' : `${value.toFixed(2)} Mb/s`;
}

function Stream({ stream }) {
  if (!stream) return html`<p class="muted small">Waiting for the stream figures…</p>`;
  const health = stream.health?.state;
  return html`
    <dl class="facts" data-testid="stream">
      <div><dt>Bitrate</dt><dd data-testid="stream-bitrate">${mbps(stream.bitrate_current)}
        <span class="small muted"> of ${mbps(stream.bitrate_target)}</span></dd></div>
      <div><dt>Frame rate</dt><dd data-testid="stream-fps">${stream.framerate_actual != null
        ? `${stream.framerate_actual.toFixed(1)} fps` : '—'}<span class="small muted">${
        ` of ${stream.framerate_target ?? '—'}`}</span></dd></div>
      <div><dt>Dropped frames</dt><dd data-testid="stream-dropped">${stream.dropped_frames ?? '—'}</dd></div>
      ${health && html`<div><dt>Stream health</dt><dd>${health}</dd></div>`}
    </dl>`;
}

export function System({ state }) {
  const s = state.system;
  return html`
    <section class="panel" aria-labelledby="system-title">
      <h2 id="system-title">Stream and box</h2>
      <${Stream} stream=${state.stream} />
      <dl class="facts">
        <div><dt>CPU</dt><dd data-testid="cpu">${percent(s?.cpu_percent)}</dd></div>
        <div><dt>Memory</dt><dd data-testid="memory">${s
          ? `${percent(s.memory_percent)} (${bytes(s.memory_used_bytes)} of ${bytes(s.memory_total_bytes)})`
          : '—'}</dd></div>
        <div><dt>Disk free</dt><dd data-testid="disk">${bytes(s?.disk_free_bytes)}</dd></div>
        ${s?.cpu_temperature_c != null && html`
          <div><dt>Temperature</dt><dd>${Math.round(s.cpu_temperature_c)} °C</dd></div>`}
        <div><dt>Encoder</dt><dd>${state.status?.encoder?.name ?? '—'}</dd></div>
      </dl>
      ${s ? html`<${Chart} history=${state.history} />`
          : html`<p class="muted">Waiting for the first sample from the appliance…</p>`}
    </section>`;
}
