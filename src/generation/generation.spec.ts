import { Clip, ClipStatus } from '../suno/clip';
import { Generation, generationStatus } from './generation';

function clip(status: ClipStatus): Clip {
  return { id: status, status } as Clip;
}

function generation(statuses: ClipStatus[], timedOut = false): Generation {
  return {
    id: 'g',
    kind: 'custom',
    accountId: 'a',
    clips: statuses.map(clip),
    createdAt: new Date(),
    submittedAtMs: 0,
    timedOut,
    reconciling: false,
  };
}

describe('generationStatus', () => {
  it.each<[ClipStatus[], string]>([
    [['submitted', 'submitted'], 'submitted'],
    [['queued', 'streaming'], 'queued'],
    [['streaming', 'complete'], 'streaming'],
    [['complete', 'complete'], 'complete'],
    [['complete', 'error'], 'partial'],
    [['error', 'error'], 'error'],
  ])('derives %j as %s', (statuses, expected) => {
    expect(generationStatus(generation(statuses))).toBe(expected);
  });

  it('reports unknown while the clips of a lost submit are not found', () => {
    expect(generationStatus(generation([]))).toBe('unknown');
  });

  it('reports timeout after the maximum age', () => {
    expect(generationStatus(generation(['queued', 'queued'], true))).toBe('timeout');
  });
});
