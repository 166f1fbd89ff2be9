import { startRig, Rig, sleep } from './support';

describe('probe', () => {
  let rig: Rig;
  beforeAll(async () => { rig = await startRig({ env: { BULKHEAD_LIMIT: '100', UPSTREAM_SUBMIT_TIMEOUT_MS: '500' } }); });
  afterAll(async () => { await rig.close(); });

  it('basic', async () => {
    const c = await rig.gateway.request('/v1/credits');
    console.log(c.status, c.text, c.elapsedMs);
    await rig.control.addFault({ match: 'generate', action: 'delay', delay_ms: 1000 });
    const g = await rig.gateway.request('/v1/generations', { body: { prompt: 'la la', title: 't1', tags: 'pop' } });
    console.log(g.status, g.text);
    const before = await rig.control.stats();
    console.log(JSON.stringify(before));
    await sleep(1500);
    console.log(JSON.stringify(await rig.control.stats()));
    await sleep(1500);
    const q = await rig.gateway.request(`/v1/generations/${g.json.generation_id}`);
    console.log(q.status, q.text.slice(0, 300));
  });
});
