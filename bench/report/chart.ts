import type { DriveResult } from '../scenarios/drive.js'

interface Series { name: string, color: string, dash?: string, points: Array<[number, number]> }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** One panel: latency (log scale, ms) against offered rate (notifications/s). */
function panel (title: string, series: Series[], x0: number, y0: number, w: number, h: number): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0)
  const xMax = Math.max(1, ...xs) * 1.05
  const yMin = Math.max(0.1, 10 ** Math.floor(Math.log10(Math.min(1, ...ys))))
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(10, ...ys)))
  const px = (x: number) => x0 + (x / xMax) * w
  const py = (y: number) => y0 + h - ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * h
  const out: string[] = []
  out.push(`<text x="${x0 + w / 2}" y="${y0 - 12}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`)
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`)
  for (let e = Math.log10(yMin); e <= Math.log10(yMax) + 1e-9; e++) {
    const y = py(10 ** e)
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#e5e5e5"/><text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(1)}</text>`)
  }
  const step = niceStep(xMax)
  for (let x = 0; x <= xMax; x += step) out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${y0 + h}" y2="${y0 + h + 4}" stroke="#999"/><text x="${px(x)}" y="${y0 + h + 18}" text-anchor="middle">${Math.round(x)}</text>`)
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 36}" text-anchor="middle">offered rate (notifications/s)</text>`)
  out.push(`<text transform="translate(${x0 - 44} ${y0 + h / 2}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`)
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0).sort((a, b) => a[0] - b[0])
    if (pts.length === 0) return
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`)
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`)
    const ly = y0 + 14 + i * 16
    out.push(`<line x1="${x0 + 10}" x2="${x0 + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${x0 + 36}" y="${ly}">${esc(s.name)}</text>`)
  })
  return out.join('\n')
}

function niceStep (max: number): number {
  const raw = max / 5
  const p = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw
}

const seriesOf = (sweep: DriveResult[]): Series[] => {
  const at = (f: (d: DriveResult) => number) => sweep.map((d) => [d.offeredRate ?? 0, f(d)] as [number, number])
  return [
    { name: 'accepted → sent p50', color: '#1f77b4', points: at((d) => d.sentLatencyMs.p50) },
    { name: 'accepted → sent p90', color: '#2ca02c', points: at((d) => d.sentLatencyMs.p90) },
    { name: 'accepted → sent p99', color: '#d62728', points: at((d) => d.sentLatencyMs.p99) },
    { name: 'HTTP response p50', color: '#7f7f7f', dash: '5 4', points: at((d) => d.load.latencyMs.p50) },
    { name: 'HTTP response p99', color: '#000000', dash: '5 4', points: at((d) => d.load.latencyMs.p99) }
  ]
}

/** The chart the README shows: latency percentiles against offered rate, in-app and email, separate roles. */
export function chart (sweep: { inapp: DriveResult[], email: DriveResult[] }, caption: string): string {
  const W = 1000
  const H = 420
  const body = [
    panel('in-app: POST → stored and announced', seriesOf(sweep.inapp), 80, 50, 380, 300),
    panel('email: POST → sent on the SMTP sink', seriesOf(sweep.email), 580, 50, 380, 300)
  ].join('\n')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
${body}
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" fill="#555">${esc(caption)}</text>
</svg>
`
}
