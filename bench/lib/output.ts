import { mkdirSync, writeFileSync } from "node:fs";
import { chartSpec, renderSvg } from "./chart.js";
import { chartPanels, resultsMarkdown, type Results } from "./render.js";

/** Writes results.json, chart.svg and RESULTS.md into `dir`; returns the path of RESULTS.md. */
export async function writeOutputs(results: Results, dir: URL): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL("results.json", dir), `${JSON.stringify(results, null, 2)}\n`);
  const panels = chartPanels(results);
  if (panels.length > 0) {
    const m = results.machine;
    const subtitle = `One run of ${results.command} on ${m.cores} × ${m.cpu}, Node ${m.node}, ${m.date.slice(0, 10)}. Tables and method: bench/RESULTS.md`;
    writeFileSync(new URL("chart.svg", dir), await renderSvg(chartSpec("next-cacheback vs its peers and the physical limit", subtitle, panels)));
  }
  const path = new URL("RESULTS.md", dir);
  writeFileSync(path, resultsMarkdown(results, panels.length > 0));
  return path.pathname;
}
