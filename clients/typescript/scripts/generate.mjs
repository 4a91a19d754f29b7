// Generates the client's types from the repository's machine-readable API descriptions:
//   docs/openapi.yaml        -> src/generated/openapi.ts  (openapi-typescript)
//   docs/events.schema.json  -> src/generated/events.ts   (json-schema-to-typescript)
// `--check` writes nothing and exits 1 if a committed file differs from what the
// descriptions generate now (./scripts/test runs it, so the types cannot drift from the
// spec). Both generators are pinned in package-lock.json, so the output is reproducible.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { compile } from "json-schema-to-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const repo = join(pkg, "..", "..");
const check = process.argv.includes("--check");

const header = (source) =>
  `// Generated from ${source} by scripts/generate.mjs: do not edit.\n` +
  `// Regenerate with \`npm run generate\` in clients/typescript.\n\n`;

async function openapi() {
  const spec = join(repo, "docs", "openapi.yaml");
  const ast = await openapiTS(pathToFileURL(spec), { alphabetize: false });
  return header("docs/openapi.yaml") + astToString(ast);
}

async function events() {
  const spec = join(repo, "docs", "events.schema.json");
  if (!existsSync(spec)) return null;
  const schema = JSON.parse(readFileSync(spec, "utf8"));
  const ts = await compile(schema, "WsEvents", {
    bannerComment: "",
    additionalProperties: false,
    unreachableDefinitions: true,
    style: { singleQuote: false, semi: true, printWidth: 100 },
  });
  return header("docs/events.schema.json") + ts;
}

const outputs = [
  ["src/generated/openapi.ts", await openapi()],
  ["src/generated/events.ts", await events()],
];

let drifted = 0;
for (const [file, text] of outputs) {
  if (text === null) continue;
  const path = join(pkg, file);
  if (check) {
    const committed = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (committed !== text) {
      console.error(`drift: ${relative(repo, path)} is not what its description generates; run \`npm run generate\` in clients/typescript and commit it`);
      drifted += 1;
    }
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${relative(repo, path)}`);
  }
}
if (check) {
  if (drifted) process.exit(1);
  console.log("generated types match docs/openapi.yaml" + (outputs[1][1] ? " and docs/events.schema.json" : ""));
}
