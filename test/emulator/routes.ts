import { handleAudiopipe, handleCdn } from './cdn';
import { handleClerkClient, handleClerkToken } from './clerk';
import { handleConcat, handleStems } from './derived';
import { handleGenerate } from './generate';
import { detailReply, type Handler, type RouteName } from './http';
import {
  handleAlignedLyrics,
  handleBilling,
  handleCaptchaCheck,
  handleClip,
  handleFeedV1,
  handleFeedV2,
  handleFeedV3,
  handleLyricsGet,
  handleLyricsSubmit,
} from './studio';
import { studioRoute } from './studio-auth';

export interface RouteMatch {
  name: RouteName;
  handler: Handler;
  params: string[];
}

type MethodTable = Partial<Record<string, Handler>>;

interface PatternRoute {
  pattern: RegExp;
  name: RouteName;
  methods: MethodTable;
}

const audioMethods = (handler: Handler): MethodTable => ({ GET: handler, HEAD: handler });

// Paths are looked up without their trailing slash, because clients differ on it
// (`/api/feed/v2` and `/api/feed/v2/`) and the upstream accepts both.
const STATIC_ROUTES = new Map<string, { name: RouteName; methods: MethodTable }>([
  ['/v1/client', { name: 'clerk_client', methods: { GET: handleClerkClient } }],
  ['/api/generate/v2', { name: 'generate', methods: { POST: studioRoute(handleGenerate) } }],
  ['/api/generate/v2-web', { name: 'generate', methods: { POST: studioRoute(handleGenerate) } }],
  ['/api/feed', { name: 'feed', methods: { GET: studioRoute(handleFeedV1) } }],
  ['/api/feed/v2', { name: 'feed', methods: { GET: studioRoute(handleFeedV2) } }],
  ['/api/feed/v3', { name: 'feed', methods: { POST: studioRoute(handleFeedV3) } }],
  ['/api/billing/info', { name: 'billing', methods: { GET: studioRoute(handleBilling) } }],
  [
    '/api/generate/lyrics',
    { name: 'lyrics_submit', methods: { POST: studioRoute(handleLyricsSubmit) } },
  ],
  ['/api/generate/concat/v2', { name: 'concat', methods: { POST: studioRoute(handleConcat) } }],
  ['/api/c/check', { name: 'captcha_check', methods: { POST: studioRoute(handleCaptchaCheck) } }],
  ['/audiopipe', { name: 'audio', methods: audioMethods(handleAudiopipe) }],
]);

const PATTERN_ROUTES: PatternRoute[] = [
  {
    pattern: /^\/v1\/client\/sessions\/([^/]+)\/tokens(?:\/api)?$/,
    name: 'clerk_token',
    methods: { POST: handleClerkToken },
  },
  { pattern: /^\/api\/clip\/([^/]+)$/, name: 'clip', methods: { GET: studioRoute(handleClip) } },
  {
    pattern: /^\/api\/generate\/lyrics\/([^/]+)$/,
    name: 'lyrics_get',
    methods: { GET: studioRoute(handleLyricsGet) },
  },
  {
    pattern: /^\/api\/edit\/stems\/([^/]+)$/,
    name: 'stems',
    methods: { POST: studioRoute(handleStems) },
  },
  {
    pattern: /^\/api\/gen\/([^/]+)\/aligned_lyrics\/v2$/,
    name: 'aligned_lyrics',
    methods: { GET: studioRoute(handleAlignedLyrics) },
  },
  { pattern: /^\/cdn\/([^/]+)$/, name: 'audio', methods: audioMethods(handleCdn) },
  { pattern: /^\/audiopipe\/([^/]+)$/, name: 'audio', methods: audioMethods(handleAudiopipe) },
];

const METHOD_NOT_ALLOWED: Handler = () => detailReply(405, 'Method Not Allowed');

/**
 * Finds the route of a request. A known path with another method keeps its route name (so
 * stats and faults see it) and gets a 405 handler. Returns null for unknown paths.
 */
export function matchRoute(method: string, rawPath: string): RouteMatch | null {
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const exact = STATIC_ROUTES.get(path);
  if (exact) {
    return { name: exact.name, handler: exact.methods[method] ?? METHOD_NOT_ALLOWED, params: [] };
  }

  for (const route of PATTERN_ROUTES) {
    const match = route.pattern.exec(path);
    if (match) {
      const params = match.slice(1).map(decodeSegment);

      return { name: route.name, handler: route.methods[method] ?? METHOD_NOT_ALLOWED, params };
    }
  }

  return null;
}

/** Decodes percent escapes. A malformed escape is kept as written, so the id is just unknown. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
