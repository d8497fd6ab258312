// Lints a batch of Cypher statements with Neo4j's own Cypher front-end.
//
// stdin:  JSON array of {"name": str, "text": str, "parameters"?: [str]}
//         ("parameters" are the names the caller will bind; any other $param is reported).
// stdout: JSON array of {"name", "diagnostics": [{"severity", "message", "line", "column"}]}
//         severity 1 = error, 2 = warning; line and column are 1-based.
// Exit 0 when every statement was linted (whatever it found), 2 on malformed input.
//
// One process lints the whole batch: loading the front-end costs ~1 s, a statement ~50 ms of CPU.
// Large batches are split over worker threads (at most MAX_THREADS, never more than the machine's
// cores; CYPHER_LINT_THREADS overrides the count).
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { lintCypherQuery, parseStatementsStrs, testData } from '@neo4j-cypher/language-support';

const VERSION = 'CYPHER 5';
// A leading `CYPHER 25` would make the linter switch language; Neo4j 5 only speaks Cypher 5.
const OTHER_VERSION_PREFIX = /^\s*CYPHER\s+(?!5\b)(\d+)\b/i;
// Plugins are not part of a plain Neo4j 5 server (and FalkorDB has none of them).
const PLUGIN_NAMESPACES = ['apoc.', 'gds.'];
const MAX_THREADS = 4;
// Below this many statements per thread, a thread's start-up costs more than it saves.
const MIN_PER_THREAD = 40;

function neo4jSchema() {
  const functions = testData.mockSchema.functions?.[VERSION];
  const procedures = testData.mockSchema.procedures?.[VERSION];
  if (!functions || !procedures || Object.keys(functions).length === 0) {
    // Without a registry the linter silently accepts any function or procedure name.
    throw new Error(`the installed linter ships no ${VERSION} function/procedure registry`);
  }
  const builtinFunctions = Object.fromEntries(Object.entries(functions).filter(([, fn]) => fn.isBuiltIn));
  const coreProcedures = Object.fromEntries(
    Object.entries(procedures).filter(([name]) => !PLUGIN_NAMESPACES.some((ns) => name.startsWith(ns))),
  );
  return {
    functions: { [VERSION]: builtinFunctions },
    procedures: { [VERSION]: coreProcedures },
    defaultLanguage: VERSION,
  };
}

function diagnostic(severity, message, range) {
  return {
    severity,
    message,
    line: (range?.start?.line ?? 0) + 1,
    column: (range?.start?.character ?? 0) + 1,
  };
}

function lintOne(item, schema) {
  const parameters = Object.fromEntries((item.parameters ?? []).map((p) => [p, null]));
  const found = [];
  try {
    const statements = parseStatementsStrs(item.text);
    if (statements.length !== 1) {
      // A driver sends one statement per query; Neo4j refuses more.
      found.push(diagnostic(1, `expected exactly one Cypher statement, found ${statements.length}`));
    }
    const version = OTHER_VERSION_PREFIX.exec(item.text);
    if (version) found.push(diagnostic(1, `CYPHER ${version[1]} is not a language Neo4j 5 runs`));
    const { diagnostics } = lintCypherQuery(item.text, { ...schema, parameters });
    for (const d of diagnostics) found.push(diagnostic(d.severity, d.message, d.range));
  } catch (err) {
    // A crash must fail the statement, not let it through unchecked.
    found.push(diagnostic(1, `linter crashed: ${err?.message ?? err}`));
  }
  return { name: item.name, diagnostics: found };
}

function validate(input) {
  if (!Array.isArray(input)) throw new Error('expected a JSON array');
  input.forEach((item, i) => {
    if (typeof item !== 'object' || item === null) throw new Error(`item ${i} is not an object`);
    if (typeof item.name !== 'string' || typeof item.text !== 'string') {
      throw new Error(`item ${i} needs string "name" and "text"`);
    }
    if (item.parameters !== undefined &&
        !(Array.isArray(item.parameters) && item.parameters.every((p) => typeof p === 'string'))) {
      throw new Error(`item ${i} ("${item.name}"): "parameters" must be an array of strings`);
    }
  });
  return input;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function threadCount(size) {
  const wanted = Number.parseInt(process.env.CYPHER_LINT_THREADS ?? '', 10);
  const limit = Number.isInteger(wanted) && wanted > 0 ? wanted : Math.min(MAX_THREADS, os.availableParallelism());
  return Math.max(1, Math.min(limit, Math.floor(size / MIN_PER_THREAD)));
}

function lintInThread(items) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: items });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`lint thread exited with code ${code}`)));
  });
}

async function lintAll(items) {
  const threads = threadCount(items.length);
  if (threads === 1) {
    const schema = neo4jSchema();
    return items.map((item) => lintOne(item, schema));
  }
  const size = Math.ceil(items.length / threads);
  const slices = Array.from({ length: threads }, (_, i) => items.slice(i * size, (i + 1) * size));
  return (await Promise.all(slices.map(lintInThread))).flat();
}

async function main() {
  let items;
  try {
    items = validate(JSON.parse(await readStdin()));
  } catch (err) {
    process.stderr.write(`cypher-lint: bad input: ${err.message}\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await lintAll(items)));
}

if (isMainThread) {
  await main();
} else {
  const schema = neo4jSchema();
  parentPort.postMessage(workerData.map((item) => lintOne(item, schema)));
}
