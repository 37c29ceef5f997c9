import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/built-package.js";
import { cleanEnv } from "../helpers/next-app.js";

// A throwaway app whose client component imports next-cacheback. It lives inside the repository (under the
// git-ignored test/artifacts/) so Turbopack resolves the package the way the example does.
const APP = join(ROOT, "test", "artifacts", `client-import-app-${process.pid}`);
const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");

const files: Record<string, string> = {
  "package.json": JSON.stringify({ name: "client-import-app", private: true, type: "module" }),
  "next.config.mjs": `export default { turbopack: { root: ${JSON.stringify(ROOT)} }, outputFileTracingRoot: ${JSON.stringify(ROOT)} };\n`,
  "app/layout.jsx": `export default function RootLayout({ children }) {\n  return <html lang="en"><body>{children}</body></html>;\n}\n`,
  "app/page.jsx": `import { Widget } from "./widget";\nexport default function Page() {\n  return <Widget />;\n}\n`,
  "app/widget.jsx": `"use client";\nimport { cachebackFetch } from "next-cacheback";\nexport function Widget() {\n  return <button onClick={() => cachebackFetch("x", () => 1)}>go</button>;\n}\n`,
};

afterAll(() => rmSync(APP, { recursive: true, force: true }));

describe("importing next-cacheback from a client component", () => {
  it("fails next build with a message that says the package is server-only", () => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(APP, path, ".."), { recursive: true });
      writeFileSync(join(APP, path), text);
    }
    const result = spawnSync(process.execPath, [NEXT_BIN, "build"], {
      cwd: APP,
      env: cleanEnv({ NO_COLOR: "1", FORCE_COLOR: "0" }),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status).not.toBe(0);
    expect(output).toContain("'server-only' cannot be imported from a Client Component module");
    expect(output).toContain("It should only be used from a Server Component.");
    // The trace names the package's browser entry and the component that imported it.
    expect(output).toMatch(/dist\/browser\.js \[Client Component Browser\]/);
    expect(output).toMatch(/app\/widget\.jsx \[Client Component Browser\]/);
  });
});
