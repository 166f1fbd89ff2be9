import { startRig } from './support';
jest.setTimeout(30000);
it('log', async () => {
  const rig = await startRig({ env: { BREAKER_THRESHOLD: '1', BREAKER_OPEN_MS: '100000' } });
  try {
    await rig.control.addFault({ match: '*', action: 'status', status: 503 });
    await rig.gateway.request('/v1/credits');
    const n = rig.logs.lines.length;
    const a = await rig.gateway.request('/v1/credits', { headers: { 'x-request-id': 'probe-x' } });
    console.log(a.text);
    for (const l of rig.logs.lines.slice(n)) console.log(JSON.stringify(l).length, JSON.stringify(l).slice(0, 1500));
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) await rig.gateway.request('/v1/credits');
    console.log('mean ms', Number(process.hrtime.bigint() - t0) / 1e6 / 1000);
  } finally { await rig.close(); }
});
