// Small SVG charts drawn with DOM calls (no innerHTML): tile sparklines and the evidence chart.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Draws `values` (numbers) into the tile's sparkline polyline, scaled to its viewBox. */
export function drawSparkline(svg, values) {
  const line = svg.querySelector('polyline');
  const vs = values.filter((v) => Number.isFinite(v));
  svg.dataset.points = String(vs.length);
  if (vs.length < 2) return line.setAttribute('points', '');
  const [w, h] = [120, 28];
  const max = Math.max(...vs);
  const min = Math.min(...vs);
  const span = max - min || 1;
  const pts = vs.map((v, i) => `${((i / (vs.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - min) / span) * (h - 4)).toFixed(1)}`);
  line.setAttribute('points', pts.join(' '));
}

/**
 * The readings around an alarm: the evidence channel before (grey), the alarm value (red dot)
 * and after (dark), with the threshold as a dashed line. Time runs left to right.
 */
export function drawEvidenceChart(svg, alarm) {
  svg.replaceChildren();
  const ch = alarm.evidence.channel;
  const pick = (samples) => samples.filter((s) => typeof s.values[ch] === 'number').map((s) => ({ ts: s.ts, v: s.values[ch] }));
  const before = pick(alarm.readings_before ?? []);
  const after = pick(alarm.readings_after ?? []);
  const hit = { ts: alarm.evidence.reading_ts, v: alarm.evidence.value };
  const all = [...before, hit, ...after];
  const [W, H, L, B] = [560, 200, 48, 24];
  const t0 = Math.min(...all.map((p) => p.ts));
  const t1 = Math.max(...all.map((p) => p.ts), t0 + 1);
  const vmax = Math.max(...all.map((p) => p.v), alarm.evidence.threshold) * 1.1 || 1;
  const x = (ts) => L + ((ts - t0) / (t1 - t0)) * (W - L - 8);
  const y = (v) => H - B - (v / vmax) * (H - B - 8);
  svg.append(
    el('line', { x1: L, y1: H - B, x2: W - 8, y2: H - B, class: 'axis' }),
    el('line', { x1: L, y1: 8, x2: L, y2: H - B, class: 'axis' }),
  );
  svg.append(el('text', { x: 4, y: 16, class: 'label' }, `${vmax.toPrecision(3)}`), el('text', { x: 4, y: H - B, class: 'label' }, '0'));
  svg.append(el('text', { x: L, y: H - 6, class: 'label' }, new Date(t0).toLocaleTimeString('en-GB', { hour12: false })));
  svg.append(el('text', { x: W - 70, y: H - 6, class: 'label' }, new Date(t1).toLocaleTimeString('en-GB', { hour12: false })));
  const thr = el('line', { x1: L, x2: W - 8, y1: y(alarm.evidence.threshold), y2: y(alarm.evidence.threshold), class: 'threshold' });
  svg.append(
    thr,
    el(
      'text',
      { x: W - 130, y: y(alarm.evidence.threshold) - 4, class: 'label' },
      `threshold ${alarm.evidence.threshold} ${alarm.evidence.unit}`,
    ),
  );
  const path = (pts, cls) =>
    pts.length > 1 && svg.append(el('polyline', { points: pts.map((p) => `${x(p.ts)},${y(p.v)}`).join(' '), class: cls }));
  path([...before, hit], 'series-before');
  path([hit, ...after], 'series-after');
  for (const p of all)
    svg.append(el('circle', { cx: x(p.ts), cy: y(p.v), r: p === hit ? 5 : 2.5, class: p === hit ? 'point-alarm' : 'point' }));
  svg.dataset.points = String(all.length);
}
