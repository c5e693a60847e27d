import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A time chart people can read: a time axis, the unit on the value axis, the
 * value under the cursor in the legend, and the figure in the title the same
 * as the last point drawn. uPlot (about 45 KB, canvas, fast with 10 000 points).
 */
export function TimeChart({
  title,
  times,
  values,
  format,
  max,
  span,
}: {
  title: string;
  times: number[];
  values: Array<number | null>;
  format: (v: number) => string;
  max?: number;
  /** The time range shown (ms), whatever the samples cover: one sample is a point in the last hour, not a year. */
  span?: readonly [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  const last = [...values].reverse().find((v) => v !== null) ?? null;
  const any = last !== null;
  useEffect(() => {
    const el = box.current;
    if (!el || !any) return;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--muted').trim() || '#5d626b';
    const line = css.getPropertyValue('--line').trim() || '#dfe1e5';
    const accent = css.getPropertyValue('--accent').trim() || '#2f5fd0';
    const axis = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 150,
        scales: {
          x: span ? { time: true, range: () => [span[0] / 1000, span[1] / 1000] } : { time: true },
          y: { range: (_u, _min, hi) => [0, Math.max(max ?? 0, hi || 1) * 1.15] },
        },
        series: [
          { value: (_u, t) => (t === null ? '—' : new Date(t * 1000).toLocaleString()) },
          // One sample is a point: a line needs two.
          {
            label: title,
            stroke: accent,
            width: 1.5,
            points: { show: values.length < 3, size: 6 },
            value: (_u, v) => (v === null ? '—' : format(v)),
          },
        ],
        // Ticks that would read the same after formatting are left out (no "1 MiB, 1 MiB").
        axes: [
          axis,
          {
            ...axis,
            size: 72,
            values: (_u, ticks) => ticks.map((t, i) => (i > 0 && format(t) === format(ticks[i - 1]!) ? '' : format(t))),
          },
        ],
        legend: { show: true, live: true },
        // What the axis spans as drawn, for a reader (and a test) that cannot read the canvas.
        hooks: {
          draw: [
            (u) => {
              el.dataset.from = String((u.scales.x?.min ?? 0) * 1000);
              el.dataset.to = String((u.scales.x?.max ?? 0) * 1000);
            },
          ],
        },
        cursor: { drag: { x: false, y: false } },
      },
      [times.map((t) => t / 1000), values],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 150 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times.length, times[0], times.at(-1), values.at(-1), title, span?.[0]]);
  return (
    <figure class="chart">
      <figcaption>
        {title}: <strong data-testid="chart-last">{last === null ? '—' : format(last)}</strong>
      </figcaption>
      {!any ? (
        <p class="muted">No samples in this range yet.</p>
      ) : (
        <div ref={box} role="img" aria-label={`${title} over time, last ${last === null ? 'none' : format(last)}`} />
      )}
    </figure>
  );
}

export const RANGES = { '1 h': 3600_000, '24 h': 86_400_000, '7 d': 7 * 86_400_000 } as const;
export type RangeName = keyof typeof RANGES;

/** 1 h, 24 h, 7 d. */
export function RangePicker({ value, onChange }: { value: RangeName; onChange: (r: RangeName) => void }) {
  return (
    <div class="range" role="group" aria-label="Time range">
      {(Object.keys(RANGES) as RangeName[]).map((r) => (
        <button key={r} class="small" aria-pressed={r === value} onClick={() => onChange(r)}>
          {r}
        </button>
      ))}
    </div>
  );
}

export const sinceOf = (r: RangeName): string => new Date(Date.now() - RANGES[r]).toISOString();
