/** Writes a results file as JSON + Markdown + HTML in the results folder (and JSON to --json). */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ResultsFile } from './result';
import { toMarkdown } from './markdown';
import { toHtml } from './html';

export const DEFAULT_RESULTS_DIR = resolve(__dirname, '..', 'results');

export interface WrittenFiles {
  json: string;
  markdown: string;
  html: string;
  extraJson?: string;
}

/** Write atomically (temp file + rename) so an interrupted write never leaves half a JSON. */
function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function timestampName(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export function writeResults(file: ResultsFile, options: { dir?: string; json?: string } = {}): WrittenFiles {
  const dir = options.dir ?? DEFAULT_RESULTS_DIR;
  const stem = join(dir, timestampName(new Date(file.createdAt)));
  const json = `${JSON.stringify(file, null, 2)}\n`;
  const out: WrittenFiles = { json: `${stem}.json`, markdown: `${stem}.md`, html: `${stem}.html` };
  writeAtomic(out.json, json);
  writeAtomic(out.markdown, toMarkdown(file));
  writeAtomic(out.html, toHtml(file));
  if (options.json) {
    out.extraJson = resolve(options.json);
    writeAtomic(out.extraJson, json);
  }
  return out;
}
