// Charts with Apache ECharts, from its mvnpm jar (org.mvnpm:echarts, the version the Quarkus BOM manages),
// served by this service under /_static/ by the web dependency locator: nothing from another origin.
// Loaded on first use; the data of every chart is also in a table next to it (screen readers, no colour).

let lib;
const live = new Set();

async function echarts() {
  if (!lib) lib = import(new URL('../_static/echarts/dist/echarts.esm.min.js', import.meta.url).href);
  return lib;
}

const COLOURS = { OK: '#1a7f37', DUE_SOON: '#bf8700', OVERDUE: '#cf222e', CURRENT: '#1a7f37', PREVIOUS: '#bf8700',
  PENDING: '#8250df', RETIRED: '#6e7781', REVOKED: '#cf222e' };

async function chart(container, option) {
  const e = await echarts();
  if (!container.isConnected) return null;
  const c = e.init(container, null, { renderer: 'canvas' });
  // Tooltips as rich text on the canvas: ECharts' HTML tooltips carry style attributes the CSP refuses.
  c.setOption({ animation: false, aria: { enabled: true }, tooltip: { renderMode: 'richText' }, ...option });
  live.add(c);
  return c;
}

/** Disposes every chart (a view is being replaced). */
export function disposeCharts() {
  for (const c of live) c.dispose();
  live.clear();
}

window.addEventListener('resize', () => {
  for (const c of live) c.resize();
});

/** Each secret's age as a share of its rotation period: a bar toward its due date (100%). */
export function dueBars(container, secrets, now) {
  const rows = secrets.filter((s) => s.createdAt && s.rotationDueAt);
  const pct = rows.map((s) => {
    const start = Date.parse(s.createdAt);
    const due = Date.parse(s.rotationDueAt);
    return Math.max(0, Math.round(((now - start) / Math.max(1, due - start)) * 100));
  });
  const max = Math.max(100, ...pct.map((p) => Math.min(p, 200)));
  return chart(container, {
    grid: { left: 8, right: 112, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: 'value', min: 0, max, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', data: rows.map((s) => s.name), inverse: true },
    series: [{
      type: 'bar', name: 'share of the rotation period used',
      data: rows.map((s, i) => ({ value: Math.min(pct[i], max), itemStyle: { color: COLOURS[s.status] || '#6e7781' } })),
      label: { show: true, position: 'right', formatter: (p) => `${pct[p.dataIndex]}% ${rows[p.dataIndex].status}` },
      markLine: { silent: true, symbol: 'none', data: [{ xAxis: 100 }], label: { formatter: 'due', position: 'end' } },
    }],
  });
}

/** Versions over time: each version at its creation, coloured and labelled by its state. */
export function versionTimeline(container, versions) {
  const asc = [...versions].sort((a, b) => a.version - b.version || Date.parse(a.createdAt) - Date.parse(b.createdAt));
  return chart(container, {
    // Room on both sides for the first and last version's label.
    grid: { left: 64, right: 112, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', minInterval: 1, name: 'version' },
    series: [{
      type: 'line', name: 'versions', step: 'end', symbolSize: 12,
      data: asc.map((v) => ({ value: [v.createdAt, v.version], itemStyle: { color: COLOURS[v.state] || '#6e7781' } })),
      label: { show: true, position: 'top', formatter: (p) => `v${asc[p.dataIndex].version} ${asc[p.dataIndex].state}` },
      lineStyle: { color: '#8c959f' },
    }],
  });
}
