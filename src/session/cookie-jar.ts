/**
 * The account's cookies as Clerk last set them. Only name=value pairs are kept: attributes
 * such as Path or Max-Age are not cookies. A response without Set-Cookie leaves the jar as
 * it was, and an empty value never replaces `__client`, so a bad response cannot sign us out.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  constructor(header: string) {
    this.replace(header);
  }

  /** Replaces every cookie with those of a stored header, e.g. the rotation saved before a restart. */
  replace(header: string): void {
    this.cookies.clear();
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      this.cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** Applies Set-Cookie headers; returns the names that changed. */
  apply(setCookies: string[]): string[] {
    const changed: string[] = [];
    for (const line of setCookies) {
      const pair = line.split(';', 1)[0];
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value.length === 0 && name.startsWith('__client')) continue;
      if (this.cookies.get(name) === value) continue;
      this.cookies.set(name, value);
      changed.push(name);
    }

    return changed;
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get clientToken(): string {
    return this.cookies.get('__client') ?? '';
  }
}
