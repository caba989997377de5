// Parse a Mermaid diagram (stdin) with a real Mermaid build; exit 1 on a parse error.
// MERMAID_NODE_MODULES names a node_modules folder holding mermaid and jsdom.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(path.join(process.env.MERMAID_NODE_MODULES, "resolve-from-here.js"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
const mermaid = (await import(pathToFileURL(require.resolve("mermaid")).href)).default;
mermaid.initialize({ startOnLoad: false });
try {
  const result = await mermaid.parse(fs.readFileSync(0, "utf8"));
  console.log(`parsed: ${result.diagramType}`);
} catch (error) {
  console.log(`parse error: ${error.message ?? error}`);
  process.exit(1);
}
