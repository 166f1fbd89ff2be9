import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ScenarioOutcome, Table, TargetCheck } from './context';
import type { CpuPlan } from './processes';

export interface MachineInfo {
  cpu_model: string;
  cpus: number;
  memory_bytes: number;
  kernel: string;
  node: string;
  git_commit: string;
  /**
   * Whether src/ or the package files differed from the commit (untracked files included)
   * when the bench started. The build in dist/ may be older still: see the report's warnings.
   */
  source_differs_from_commit: boolean;
  cpu_pinning: CpuPlan | null;
}

export function machineInfo(root: string, pinning: CpuPlan | null): MachineInfo {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };

  return {
    cpu_model: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memory_bytes: totalmem(),
    kernel: release(),
    node: process.version,
    git_commit: git(['rev-parse', 'HEAD']) || 'unknown',
    source_differs_from_commit:
      git(['status', '--porcelain', '--', 'src', 'package.json', 'package-lock.json']) !== '',
    cpu_pinning: pinning,
  };
}

/** Renders a table as GitHub Markdown, the format docs/benchmarks.md uses. */
export function renderTable(table: Table): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const lines = [
    `### ${table.title}`,
    '',
    `| ${table.header.map(escape).join(' | ')} |`,
    `| ${table.header.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];

  return lines.join('\n');
}

export function checksTable(checks: TargetCheck[]): Table {
  const verdict = (met: boolean | null): string => {
    if (met === null) return 'not measured';

    return met ? 'met' : 'missed';
  };

  return {
    title: 'Targets',
    header: ['scenario', 'target', 'measured', 'verdict'],
    rows: checks.map((check) => [check.scenario, check.target, check.measured, verdict(check.met)]),
  };
}

/** Everything one harness run produced, as written to bench/results/. */
export interface BenchReport {
  started_at: string;
  finished_at: string;
  command: string;
  mode: 'smoke' | 'full';
  machine: MachineInfo;
  settings: Record<string, unknown>;
  scenarios: Partial<Record<string, ScenarioOutcome | { error: string }>>;
  targets: TargetCheck[];
  /** Warnings about how far the figures can be trusted, such as a stale build. */
  warnings: string[];
}

/** Writes the report as JSON; returns its path. Non-finite numbers become null. */
export function writeReport(root: string, report: BenchReport): string {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.started_at.replace(/[:.]/g, '-');
  const path = join(dir, `${stamp}-${report.mode}.json`);
  writeFileSync(
    path,
    `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`,
  );

  return path;
}
