import { CookieJar } from './cookie-jar';
import { decodeJwt } from './jwt';

describe('CookieJar', () => {
  it('keeps the newest values and ignores attributes', () => {
    const jar = new CookieJar('__client=old; __client_uat=1; ajs_anonymous_id=x');
    const changed = jar.apply([
      '__client=new; Path=/; Max-Age=31536000; HttpOnly',
      '__client_uat=2; Path=/',
    ]);

    expect(changed).toEqual(['__client', '__client_uat']);
    expect(jar.header()).toBe('__client=new; __client_uat=2; ajs_anonymous_id=x');
    expect(jar.get('Path')).toBeUndefined();
  });

  it('keeps the jar when a response has no Set-Cookie', () => {
    const jar = new CookieJar('__client=old');
    jar.apply([]);

    expect(jar.clientToken).toBe('old');
  });

  it('never replaces __client with an empty value', () => {
    const jar = new CookieJar('__client=old');
    jar.apply(['__client=; Max-Age=0']);

    expect(jar.clientToken).toBe('old');
  });
});

describe('decodeJwt', () => {
  it('reads exp and sid', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1700000000, sid: 'sess_1' })).toString(
      'base64url',
    );

    expect(decodeJwt(`h.${payload}.s`)).toEqual({ exp: 1700000000, sid: 'sess_1' });
  });

  it('returns undefined for garbage', () => {
    expect(decodeJwt('not-a-jwt')).toBeUndefined();
    expect(decodeJwt('a.b.c')).toBeUndefined();
  });
});
