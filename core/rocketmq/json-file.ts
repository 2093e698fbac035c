import fs from 'node:fs';
import path from 'node:path';

/** Small broker config files (offsets, topics, groups): written whole, via a temp file + rename. */
export function readJsonFile<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    // A torn write leaves the previous version in the .bak copy.
    try {
      return JSON.parse(fs.readFileSync(file + '.bak', 'utf8')) as T;
    } catch {
      return fallback;
    }
  }
}

export function writeJsonFile(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify(value));
  if (fs.existsSync(file)) fs.copyFileSync(file, file + '.bak');
  fs.renameSync(tmp, file);
}
