import type { EChartsCoreOption } from 'echarts/core';
import { useEffect, useRef, useState } from 'react';

type Chart = ReturnType<(typeof import('./loadEcharts.js'))['echarts']['init']>;

/** Chart data's latest point as echarts holds it (after setOption), so a reader of the page sees what is drawn. */
function latestPoint(chart: Chart): string {
  const series = (chart.getOption() as { series?: { name?: string; data?: unknown[] }[] }).series ?? [];
  return JSON.stringify(series.map((s) => [s.name ?? '', s.data?.at(-1) ?? null]));
}

/**
 * A line chart drawn by echarts, loaded on first use (dynamic import) so the console's first load
 * does not carry it. `label` names the chart for assistive technology; the figures are also in the
 * page's tables and captions.
 */
export function LiveChart({ option, label, testId }: { option: EChartsCoreOption; label: string; testId: string }) {
  const element = useRef<HTMLDivElement>(null);
  const [chart, setChart] = useState<Chart | null>(null);

  useEffect(() => {
    let disposed = false;
    let created: Chart | null = null;
    const resize = () => created?.resize();
    void import('./loadEcharts.js').then(({ echarts }) => {
      if (disposed || !element.current) return;
      created = echarts.init(element.current);
      setChart(created);
      window.addEventListener('resize', resize);
    });
    return () => {
      disposed = true;
      window.removeEventListener('resize', resize);
      created?.dispose();
    };
  }, []);

  useEffect(() => {
    if (!chart || chart.isDisposed()) return;
    chart.setOption(option, { notMerge: true });
    element.current?.setAttribute('data-latest-point', latestPoint(chart));
  }, [chart, option]);

  return <div ref={element} className="live-chart" role="img" aria-label={label} data-testid={testId} />;
}
