/**
 * Progress per phase: a live cli-progress bar on a terminal, plain lines when stdout is not a TTY
 * or in CI (CI=true), so logs stay readable.
 */
import { SingleBar, Presets } from 'cli-progress';

export interface PhaseProgress {
  update(done: number, total: number, label?: string): void;
  finish(summary?: string): void;
}

export interface Progress {
  phase(name: string, total: number): PhaseProgress;
  line(text: string): void;
}

export function isInteractive(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.CI;
}

class BarProgress implements Progress {
  phase(name: string, total: number): PhaseProgress {
    const bar = new SingleBar(
      { format: `${name.padEnd(10)} [{bar}] {percentage}% {value}/{total} {label}`, hideCursor: true, clearOnComplete: false, stopOnComplete: false, barsize: 30 },
      Presets.shades_classic,
    );
    bar.start(Math.max(1, total), 0, { label: '' });
    return {
      update: (done, t, label) => {
        bar.setTotal(Math.max(1, t));
        bar.update(Math.min(done, t), { label: label ?? '' });
      },
      finish: (summary) => {
        bar.update(bar.getTotal(), { label: summary ?? 'done' });
        bar.stop();
      },
    };
  }
  line(text: string): void {
    process.stdout.write(`${text}\n`);
  }
}

class LineProgress implements Progress {
  constructor(private readonly write: (s: string) => void) {}
  phase(name: string, total: number): PhaseProgress {
    let lastLabel = '';
    let lastAt = 0;
    this.write(`[${name}] start (${total} step${total === 1 ? '' : 's'})`);
    return {
      update: (done, t, label) => {
        // One line per new item, and at most one every 10 s within an item.
        const now = Date.now();
        // Labels look like "id run 1/3 · 2/3 s": a new line when the part before " · " changes.
        const key = label?.split(' · ')[0];
        if (label !== undefined && (key !== lastLabel || now - lastAt > 10_000)) {
          lastLabel = key ?? '';
          lastAt = now;
          this.write(`[${name}] ${done}/${t} ${label}`);
        }
      },
      finish: (summary) => this.write(`[${name}] ${summary ?? 'done'}`),
    };
  }
  line(text: string): void {
    this.write(text);
  }
}

export function createProgress(interactive = isInteractive(), write: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Progress {
  return interactive ? new BarProgress() : new LineProgress(write);
}
