/**
 * The headline chart: a Vega specification of grouped bar panels, rendered to SVG headless in Node.
 */
import * as vega from "vega";

/** One bar: its group on the x axis, its series (colour) and its height. */
export interface Bar {
  group: string;
  series: string;
  value: number;
  /** Text above the bar; the value when absent. */
  label?: string;
}

/** One panel of grouped bars. */
export interface Panel {
  title: string;
  subtitle?: string;
  yTitle: string;
  bars: Bar[];
  /** A dashed horizontal line (e.g. the bare `get` at 1.0, or the goal of 1 refresh). */
  rule?: { value: number; label: string };
  /** Series in legend order. */
  series: string[];
}

const PALETTE = ["#1f6feb", "#d9822b", "#2da44e", "#8250df", "#cf222e", "#6e7781", "#bf8700"];
const WIDTH = 440;
const HEIGHT = 210;
const ROW_GAP = 130;
const COLUMN_GAP = 110;

function panelMark(panel: Panel, index: number): vega.GroupMark {
  const data = `bars${index}`;
  const max = Math.max(...panel.bars.map((b) => b.value), panel.rule?.value ?? 0);
  return {
    type: "group",
    name: `panel${index}`,
    title: { text: panel.title, subtitle: panel.subtitle ?? "", anchor: "start", fontSize: 14, subtitleFontSize: 11, subtitleColor: "#57606a", offset: 10 },
    encode: { update: { width: { value: WIDTH }, height: { value: HEIGHT } } },
    signals: [
      { name: "width", value: WIDTH },
      { name: "height", value: HEIGHT },
    ],
    data: [{ name: data, values: panel.bars.map((b) => ({ ...b, label: b.label ?? String(b.value) })) }],
    scales: [
      { name: "x", type: "band", domain: { data, field: "group" }, range: "width", padding: 0.2 },
      { name: "y", type: "linear", domain: [0, max * 1.18 || 1], range: "height", nice: true, zero: true },
      { name: "color", type: "ordinal", domain: panel.series, range: PALETTE },
    ],
    axes: [
      { orient: "bottom", scale: "x", labelFontSize: 11, labelLimit: 160 },
      { orient: "left", scale: "y", title: panel.yTitle, titleFontSize: 11, grid: true, gridOpacity: 0.4, tickCount: 5 },
    ],
    legends: [{ fill: "color", orient: "bottom", direction: "horizontal", labelFontSize: 11, symbolType: "square", labelLimit: 300 }],
    marks: [
      {
        type: "group",
        from: { facet: { data, name: `facet${index}`, groupby: "group" } },
        encode: { enter: { x: { scale: "x", field: "group" } } },
        signals: [{ name: "width", update: "bandwidth('x')" }],
        scales: [{ name: "pos", type: "band", range: "width", domain: panel.series, paddingInner: 0.08 }],
        marks: [
          {
            type: "rect",
            name: `rect${index}`,
            from: { data: `facet${index}` },
            encode: {
              enter: {
                x: { scale: "pos", field: "series" },
                width: { scale: "pos", band: 1 },
                y: { scale: "y", field: "value" },
                y2: { scale: "y", value: 0 },
                fill: { scale: "color", field: "series" },
              },
            },
          },
          {
            type: "text",
            from: { data: `rect${index}` },
            encode: {
              enter: {
                x: { field: "x", offset: { field: "width", mult: 0.5 } },
                y: { field: "y", offset: -3 },
                align: { value: "center" },
                baseline: { value: "bottom" },
                fontSize: { value: 9 },
                fill: { value: "#24292f" },
                text: { field: "datum.label" },
              },
            },
          },
        ],
      },
      ...(panel.rule
        ? ([
            {
              type: "rule",
              encode: {
                enter: {
                  x: { value: 0 },
                  x2: { signal: "width" },
                  y: { scale: "y", value: panel.rule.value },
                  stroke: { value: "#57606a" },
                  strokeDash: { value: [4, 3] },
                },
              },
            },
            {
              type: "text",
              encode: {
                enter: {
                  x: { signal: "width" },
                  y: { scale: "y", value: panel.rule.value, offset: -3 },
                  align: { value: "right" },
                  baseline: { value: "bottom" },
                  fontSize: { value: 10 },
                  fill: { value: "#57606a" },
                  text: { value: panel.rule.label },
                },
              },
            },
          ] satisfies vega.Mark[])
        : []),
    ],
  };
}

/** The Vega specification of the panels, two per row. */
export function chartSpec(title: string, subtitle: string, panels: Panel[]): vega.Spec {
  // Headless Vega has no canvas to measure text and overestimates its width, so the size is set here
  // rather than derived from the layout's bounds (which would leave a wide blank margin on the right).
  const rows = Math.ceil(panels.length / 2);
  return {
    $schema: "https://vega.github.io/schema/vega/v6.json",
    background: "white",
    padding: { left: 75, right: 30, top: 125, bottom: 75 },
    autosize: { type: "none", contains: "content" },
    width: 2 * WIDTH + COLUMN_GAP,
    height: rows * HEIGHT + (rows - 1) * ROW_GAP,
    title: { text: title, subtitle, anchor: "start", fontSize: 17, subtitleFontSize: 11, subtitleColor: "#57606a", offset: 16 },
    layout: { columns: 2, padding: { row: ROW_GAP, column: COLUMN_GAP }, bounds: "flush", align: "all" },
    marks: panels.map(panelMark),
  };
}

/** Renders the specification to SVG text (headless: no browser, no canvas). */
export async function renderSvg(spec: vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
