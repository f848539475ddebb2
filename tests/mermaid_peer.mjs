// mermaid_peer.mjs — Mermaid's own parser reads what `mailsim export
// --mermaid` writes: the journey of the hand-built fixture, one of its
// connections, and a dialogue of hostile lines. Each diagram must parse
// with one actor per participant and one message per arrow or note.
// Needs node (18+) with the npm packages mermaid and jsdom, pinned in
// tools/node/package-lock.json and installed by `tools/bootstrap test` into
// tools/node/node_modules (found from there, or on NODE_PATH); skips
// (exit 77) without them, saying why.
// Usage: node mermaid_peer.mjs TEST_CMD_EXPORT
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

// Resolve as if from tools/node/, so its node_modules is searched first.
const require = createRequire(new URL('../tools/node/package.json', import.meta.url));
let JSDOM, mermaid;
try {
  require.resolve('jsdom');
  require.resolve('mermaid');
} catch (e) {
  console.log(`SKIP: the npm packages mermaid and jsdom are not installed (tools/bootstrap test ` +
    `installs them into tools/node/node_modules): ${e.message.split('\n')[0]}`);
  process.exit(77);
}
// Installed but not loading (e.g. a node too old for them) is a failure.
try {
  ({ JSDOM } = require('jsdom'));
  const dom = new JSDOM('<!DOCTYPE html><body></body>');
  globalThis.window = dom.window;
  globalThis.document = dom.window.document;
  mermaid = (await import(require.resolve('mermaid'))).default;
} catch (e) {
  console.log(`FAIL: mermaid or jsdom does not load in node ${process.version}: ${e.stack}`);
  process.exit(1);
}
mermaid.initialize({ startOnLoad: false });

const tool = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mermaid-peer-'));
const trace = path.join(dir, 'journey.jsonl');
fs.writeFileSync(trace, spawnSync(tool, ['--fixture']).stdout);

// A trace whose lines hold everything Mermaid could misread.
const hostile = ['hello; world', '%% not a comment', '#35; raw # hash', 'end', '<br>x</br>',
  'a:b:c', 'note over x: y', '\u0001\u00ff bytes', 'loop', '-->> fake arrow', 'participant Z',
  '}{`|\\"&'];
const recs = [{ format: 'mailsim-trace', version: 1 },
  { t: 1, id: 1, ev: 'tcp.accept', node: 'end', conn: 2, src: 'a', dst: 'b', peer: 1 }];
hostile.forEach((w, k) => recs.push({ t: k + 2, id: k + 2, ev: k % 2 ? 'smtp.reply' : 'smtp.cmd',
  conn: k % 2 ? 1 : 2, from: k % 2 ? 'end' : 'cli;ent', to: k % 2 ? 'cli;ent' : 'end',
  sent: k + 1, line: w }));
const bad = path.join(dir, 'hostile.jsonl');
fs.writeFileSync(bad, recs.map((r) => JSON.stringify(r).replace(/[\u007f-\uffff]/g,
  (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))).join('\n') + '\n');

const cases = [
  [trace, ['--mermaid', '--message', 'm1'], 7, 44],
  [trace, ['--mermaid', '--message', 'm2'], 2, 4],
  [trace, ['--mermaid', '--connection', '3'], 2, 8],
  [bad, ['--mermaid', '--connection', '1'], 2, hostile.length],
];
let failed = 0;
for (const [file, args, actors, messages] of cases) {
  const r = spawnSync(tool, ['--run', file, ...args]);
  const text = r.stdout.toString();
  try {
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
    const diag = await mermaid.mermaidAPI.getDiagramFromText(text);
    // Mermaid 10 returns the actors as an object, 11 as a Map.
    const act = diag.db.getActors();
    const got = [act instanceof Map ? act.size : Object.keys(act).length,
      diag.db.getMessages().length];
    if (got[0] !== actors || got[1] !== messages)
      throw new Error(`got ${got[0]} actors, ${got[1]} messages; want ${actors}, ${messages}`);
    console.log(`ok: ${args.join(' ')}`);
  } catch (e) {
    failed++;
    console.log(`FAIL: ${args.join(' ')}: ${e.message}\n${text}`);
  }
}
fs.rmSync(dir, { recursive: true });
process.exit(failed ? 1 : 0);
