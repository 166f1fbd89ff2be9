/**
 * Checks for the JSON bodies of the control API. Each check throws InvalidInput with a
 * message naming the field, which the control router returns as a 400.
 */
export class InvalidInput extends Error {}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new InvalidInput(`${what} must be a JSON object`);
  }

  return value;
}

export function rejectUnknownKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInput(
      `unknown field(s): ${unknown.join(', ')}; allowed fields are ${allowed.join(', ')}`,
    );
  }
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function checkNumber(value: unknown, key: string, rule: NumberRule = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInput(`${key} must be a finite number, got ${JSON.stringify(value)}`);
  }
  if (rule.integer === true && !Number.isInteger(value)) {
    throw new InvalidInput(`${key} must be an integer, got ${value}`);
  }
  if (rule.min !== undefined && value < rule.min) {
    throw new InvalidInput(`${key} must be at least ${rule.min}, got ${value}`);
  }
  if (rule.max !== undefined && value > rule.max) {
    throw new InvalidInput(`${key} must be at most ${rule.max}, got ${value}`);
  }

  return value;
}

export function checkBoolean(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidInput(`${key} must be true or false, got ${JSON.stringify(value)}`);
  }

  return value;
}

export function checkString(value: unknown, key: string): string {
  if (typeof value !== 'string') {
    throw new InvalidInput(`${key} must be a string, got ${JSON.stringify(value)}`);
  }

  return value;
}

export function checkNonEmptyString(value: unknown, key: string): string {
  const text = checkString(value, key);
  if (text.trim() === '') {
    throw new InvalidInput(`${key} must not be empty`);
  }

  return text;
}

export function checkStringList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidInput(`${key} must be an array of strings, got ${JSON.stringify(value)}`);
  }

  return value as string[];
}
