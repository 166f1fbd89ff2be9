/** One Dockerfile instruction, with continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  /** Base image with global ARG defaults substituted. */
  image: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Splits a Dockerfile into instructions, joining lines that end with a backslash. */
export function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;

  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) {
      return;
    }
    if (pending && line.startsWith('#')) {
      return;
    }
    if (!pending) {
      startLine = index + 1;
    }
    const continues = line.endsWith('\\');
    pending += `${continues ? line.slice(0, -1) : line} `;
    if (continues) {
      return;
    }
    const [keyword, ...rest] = pending.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: startLine });
    pending = '';
  });

  return instructions;
}

function substitute(value: string, args: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string, bare: string) => args[braced ?? bare] ?? whole,
  );
}

/** Parses `NAME=value` pairs (ENV, ARG), also the legacy `ENV NAME value` form. */
export function parseAssignments(
  keyword: string,
  args: string,
): Record<string, string | undefined> {
  if (keyword === 'ENV' && !/^\S+=/.test(args)) {
    const [name, ...value] = args.split(/\s+/);

    return { [name]: value.join(' ') };
  }
  const pairs = args.match(/\S+?=(?:"[^"]*"|'[^']*'|\S*)|\S+/g) ?? [];

  return Object.fromEntries(
    pairs.map((pair) => {
      const equals = pair.indexOf('=');

      return equals < 0
        ? [pair, undefined]
        : [pair.slice(0, equals), pair.slice(equals + 1).replace(/^["']|["']$/g, '')];
    }),
  );
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];

  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      stages.push({
        image: substitute(match?.[1] ?? '', globalArgs),
        name: match?.[2],
        instructions: [],
      });
      continue;
    }
    if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        for (const [name, value] of Object.entries(parseAssignments('ARG', instruction.args))) {
          if (value !== undefined) globalArgs[name] = value;
        }
      }
      continue;
    }
    stages[stages.length - 1].instructions.push(instruction);
  }

  return { globalArgs, stages };
}

/** Returns the source paths of a COPY or ADD without flags, or none for a copy from another stage. */
export function copySources(instruction: Instruction): string[] {
  if (instruction.args.startsWith('[')) {
    const parts = JSON.parse(instruction.args) as string[];

    return parts.slice(0, -1);
  }
  const words = instruction.args.split(/\s+/);
  if (words.some((word) => word.startsWith('--from='))) {
    return [];
  }
  const paths = words.filter((word) => !word.startsWith('--'));

  return paths.slice(0, -1);
}

/**
 * True when the .dockerignore patterns exclude the path. Supports `*`, `**`, `?` and `!`
 * negation, with the last matching pattern deciding, as Docker does.
 */
export function isIgnored(relativePath: string, patterns: string[]): boolean {
  let ignored = false;
  const segments = relativePath.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));

  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${pattern
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')
        .replace(/\.\*\//g, '(?:.*/)?')}$`,
    );
    if (candidates.some((candidate) => regex.test(candidate))) {
      ignored = !negated;
    }
  }

  return ignored;
}

/** Returns the .dockerignore lines that are patterns, without comments and blank lines. */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}
