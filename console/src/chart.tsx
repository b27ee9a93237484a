// A chart of one field of one device over a time range (uPlot, as Grafana draws its time series), in
// Huế's time. Given a limit, it is drawn as a dashed line; given a moment, a vertical mark (an alert's
// raise). Loaded with the page that first needs it: the inbox does not ship it.
import 'uplot/dist/uPlot.min.css';
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.ts';
import { TIME_ZONE } from './i18n.ts';

export interface ChartProps {
  readonly id: string;
  readonly field: string;
  /** Instants as the API takes them: RFC 3339, epoch ms or relative to now (now-6h). */
  readonly from: string;
  readonly to?: string;
  /** Bucket width of the means drawn (5m, 1h). */
  readonly every: string;
  readonly limit?: number | null;
  /** Epoch ms of a moment to mark. */
  readonly mark?: number;
  /** Said of the limit line in the legend. */
  readonly limitLabel?: string;
  /** What the chart shows, for screen readers (it may scroll sideways on a phone: it takes focus). */
  readonly label: string;
}

const FIELD = '#7cc4ff';
const LIMIT = '#ff6b6b';
const MARK = '#ffc35a';
const AXIS = '#a9b7c4';

function numeric(v: unknown): number | null {
  return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : null;
}

export function Chart(props: ChartProps) {
  const { id, field, from, to, every, limit, mark, limitLabel } = props;
  const holder = useRef<HTMLDivElement>(null);
  const [empty, setEmpty] = useState(false);
  useEffect(() => {
    let plot: uPlot | undefined;
    let gone = false;
    api.history(id, from, to, every).then(
      ({ points }) => {
        if (gone || holder.current === null) return;
        const xs = points.map((p) => Date.parse(p.time) / 1000);
        const ys = points.map((p) => numeric(p.values[field]));
        setEmpty(ys.every((v) => v === null));
        const withLimit = limit !== undefined && limit !== null;
        const series: uPlot.Series[] = [{}, { label: field, stroke: FIELD, width: 2, spanGaps: true }];
        const data: uPlot.AlignedData = [xs, ys];
        if (withLimit) {
          series.push({ label: limitLabel ?? 'limit', stroke: LIMIT, width: 1.5, dash: [8, 6] });
          data.push(xs.map(() => limit));
        }
        const drawMark = (u: uPlot) => {
          if (mark === undefined) return;
          const x = u.valToPos(mark / 1000, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          u.ctx.save();
          u.ctx.strokeStyle = MARK;
          u.ctx.lineWidth = 2;
          u.ctx.beginPath();
          u.ctx.moveTo(x, u.bbox.top);
          u.ctx.lineTo(x, u.bbox.top + u.bbox.height);
          u.ctx.stroke();
          u.ctx.restore();
        };
        plot = new uPlot(
          {
            // The holder's width less its padding (0.5rem each side).
            width: Math.min((holder.current.clientWidth || 816) - 16, 1100),
            height: 260,
            // Times as Huế reads them, whatever the browser's own zone.
            tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
            series,
            axes: [{ stroke: AXIS }, { stroke: AXIS }],
            hooks: { draw: [drawMark] },
          },
          data,
          holder.current,
        );
      },
      () => setEmpty(true),
    );
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [id, field, from, to, every, limit, mark]);
  return (
    <div
      ref={holder}
      class="chart"
      role="region"
      aria-label={props.label}
      tabIndex={0}
      data-testid="chart"
      data-empty={empty ? 'yes' : 'no'}
    />
  );
}
