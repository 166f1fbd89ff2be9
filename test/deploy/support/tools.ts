import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** An external command that some deploy tests run. */
export interface ExternalTool {
  name: string;
  /** How to install it, shown when it is missing. */
  installHint: string;
  /** Directories searched after PATH. */
  extraDirs?: string[];
}

export const PROMTOOL: ExternalTool = {
  name: 'promtool',
  installHint:
    "install Debian's prometheus package: apt-get update && apt-get install -y --no-install-recommends prometheus",
};

export const KUBECTL: ExternalTool = {
  name: 'kubectl',
  installHint:
    'install kubectl 1.27 or later (it bundles kustomize v5); these machines have it at /usr/bin/kubectl',
  extraDirs: ['/usr/bin', '/usr/local/bin'],
};

/** Absolute path of the tool, or undefined when it is not installed. */
export function locateTool(tool: ExternalTool): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...(tool.extraDirs ?? [])].filter(
    Boolean,
  );

  return dirs.map((dir) => join(dir, tool.name)).find((candidate) => existsSync(candidate));
}

/**
 * Declares a describe block that needs an external tool. When the tool is missing, the block
 * fails with the install hint under CI (CI is set) and is skipped with a warning elsewhere.
 */
export function describeWithTool(
  title: string,
  tool: ExternalTool,
  body: (toolPath: string) => void,
): void {
  const toolPath = locateTool(tool);
  if (toolPath) {
    describe(title, () => body(toolPath));

    return;
  }

  const message = `${tool.name} not found on PATH, so "${title}" cannot run; ${tool.installHint}`;
  if (process.env.CI) {
    describe(title, () => {
      it(`finds ${tool.name}`, () => {
        throw new Error(message);
      });
    });

    return;
  }

  console.warn(`WARNING: skipping deploy tests. ${message}`);
  describe.skip(title, () => body(tool.name));
}
