#!/usr/bin/env node
// The `next-cacheback-dev` binary: `next-cacheback-dev dev [flags]` (what `npx next-cacheback dev` runs).
import { runCli } from "./cli.js";

const code = await runCli(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
