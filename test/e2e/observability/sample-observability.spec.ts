import { parsePrometheusText, sampleValue } from './prometheus-text.util.js';
import { ADMIN, call, permitBody, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { PLATFORMS } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/** The compiled sample, as `npm start` runs it: its `/health` and `/metrics` routes. */
describe.each(PLATFORMS)('the sample app on %s', (platform) => {
  const dir = makeTempDir();
  let sample: SampleProcess | undefined;

  beforeAll(async () => {
    sample = await startSample(`observability-${platform}`, dir.path, platform);
  });

  afterAll(async () => {
    await stopSample(sample);
    dir.remove();
  });

  it('answers GET /health with the store up', async () => {
    const health = await call(sample!, 'GET', '/health');
    expect({ status: health.status, overall: health.body.status, store: health.body.info?.store?.status, writable: health.body.info?.store?.writable }).toEqual(
      {
        status: 200,
        overall: 'ok',
        store: 'up',
        writable: true,
      },
    );
  });

  it('serves its metrics at /metrics, counting the requests it answered', async () => {
    const created = await call(sample!, 'POST', '/permits', {
      user: ADMIN,
      body: permitBody(`OBS-${platform}`),
      headers: { 'x-request-id': `sample-${platform}` },
    });
    expect(created.status).toBe(201);
    const response = await fetch(`${sample!.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusText(await response.text());
    expect(sampleValue(families, 'entities_http_requests_total', { entity: 'permits', method: 'POST', route: '/permits', status: '201' })).toBe(1);
    expect(sampleValue(families, 'entities_records', { entity: 'permits' })).toBe(1);
  });
});
